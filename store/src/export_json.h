/*
 * The exporter's own JSON reader and writer for the per-row hot path.
 *
 * Profiling the export of chat rows showed about 80 % of the client's CPU
 * in jansson's json_loadb and json_dump_callback (a character-at-a-time
 * lexer through a stream abstraction, a callback per output fragment, and
 * UTF-8 decoding of every character). The lines are still built with
 * jansson values (export_conv, export_fmt and export_check work on json_t),
 * but the text on both sides goes through this module:
 *
 *   - fw_xjson_parse gives the same values as
 *     json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL) — the same
 *     integer/real split, the same overflow errors, the same refusal of
 *     control characters, invalid UTF-8, lone surrogates, NUL in keys,
 *     trailing text and nesting deeper than 2048 — scanning strings in runs
 *     and unescaping them in place;
 *   - fw_xjson_valid answers whether json_loadb(s, len, JSON_DECODE_ANY)
 *     would succeed, without building anything;
 *   - fw_xjson_dump writes exactly the bytes of json_dump_callback(v, …,
 *     JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY): the same
 *     escapes (\" \\ \b \f \n \r \t, other controls as \u00XX with upper-case
 *     hex, nothing else escaped), integers as %lld, reals as %.17g with a
 *     ".0" added when there is no '.' or 'e' and the exponent's '+' and
 *     leading zeros removed, keys in insertion order, and it fails where
 *     jansson fails (a string that is not valid UTF-8).
 *
 * Byte-identity with jansson matters: recorded dataset versions were
 * written by jansson and must re-export to the same sha256. The unit test
 * (tests/export/test_json.c) compares both on generated values.
 */
#ifndef FW_EXPORT_JSON_H
#define FW_EXPORT_JSON_H

#include "fw_buf.h"

#include <jansson.h>
#include <stddef.h>

/*
 * Parses the JSON text of len bytes at s. s is modified (strings are
 * unescaped in place), so it must not be used as JSON afterwards. Returns a
 * new value, or NULL when the text is not valid JSON or memory ran out.
 */
json_t *fw_xjson_parse(char *s, size_t len);

/* 1 when s (len bytes, not modified) is one valid JSON value by jansson's
 * rules without JSON_ALLOW_NUL, else 0. */
int fw_xjson_valid(const char *s, size_t len);

/*
 * Row scopes. Between fw_xjson_scope_begin and fw_xjson_scope_end every
 * jansson allocation comes from a bump arena and every free of arena memory
 * is a no-op; the end of the scope releases it all at once (keeping one
 * 256 KiB chunk for the next row). malloc/free were a quarter of the
 * exporter's CPU per row. Contract: no jansson value created inside a scope
 * may be used or freed after it ends, and values created outside may be
 * used and freed inside. The first call installs the allocator for the
 * whole process (json_set_alloc_funcs); outside a scope it is malloc/free.
 * Not thread-safe; the exporter is single-threaded.
 */
void fw_xjson_scope_begin(void);
void fw_xjson_scope_end(void);

/* Appends the compact JSON text of v to b. Returns 0, or -1 when out of
 * memory or when a string or key is not valid UTF-8. */
int fw_xjson_dump(const json_t *v, fw_buf *b);

/* Append an integer and a real exactly as fw_xjson_dump writes them (%lld;
 * %.17g with jansson's adjustments). Out of memory is b->oom. */
void fw_xjson_put_integer(fw_buf *b, long long v);
void fw_xjson_put_real(fw_buf *b, double v);

#endif
