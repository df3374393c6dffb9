/*
 * The streaming transform of the export's common case: one streamed row of
 * an `openai-chat` export, without redaction or a token limit, straight from
 * PostgreSQL's jsonb text to the JSON line, without building a document.
 *
 * The general path (export_json → export_fmt → export_check → fw_xjson_dump)
 * parses every column into jansson values, converts them into a new tree,
 * validates the tree and writes it out: about 13 µs of client CPU per
 * 1.2 KB row, as much as the server's own work for the row. This transform
 * indexes each jsonb column in one pass into a flat array of tokens (no
 * allocation per value, no unescaping, no hashing; strings scanned 16 bytes
 * at a time), then writes the line and checks it in one walk over the
 * tokens, copying string bytes through (jsonb's escapes are the exporter's,
 * but for the hex digits of \u00XX).
 *
 * It is not a second implementation of the rules: it writes a line only when
 * it is sure of every byte and that the line passes the format's checks, and
 * answers FW_XFAST_FALLBACK for anything else (an unusual role or shape, a
 * rejected line, a string or key with escapes it does not copy, keys that are
 * not in jsonb's order, numbers jansson would refuse), and the general path
 * then decides, with its reason. So the bytes, the rejection counts and the
 * manifest are the general path's by construction wherever the transform
 * declines, and tests/export/test_fast.c compares both paths on rows built
 * to hit every branch.
 *
 * Precondition for byte identity: the JSON texts are PostgreSQL's jsonb
 * output (the stream query casts jsonb columns to text). Keys of an object
 * then come in jsonb's order (shorter first, then bytewise), which the
 * tokenizer checks: it proves that no key repeats, where jansson would keep
 * the last value at the first position.
 */
#ifndef FW_EXPORT_FAST_H
#define FW_EXPORT_FAST_H

#include "fw_buf.h"

#include <stddef.h>
#include <stdint.h>

/* Reusable state; zero-initialise, release with fw_xfast_free. Not
 * thread-safe. */
typedef struct fw_xfast_tok fw_xfast_tok;
typedef struct {
    fw_xfast_tok *tok;
    uint32_t ntok, cap;
    fw_buf scratch;
    fw_buf text;
} fw_xfast;

/* One row's columns. JSON texts are not modified; NULL is SQL NULL. */
typedef struct {
    const char *system_instructions;
    const char *input;
    size_t input_len;
    const char *output;
    size_t output_len;
    const char *tools;
    size_t tools_len;
} fw_xfast_row;

enum { FW_XFAST_FALLBACK = 0, FW_XFAST_LINE = 1 };

/*
 * Writes the openai-chat line of r into line (which it resets first):
 * weights 1 gives history assistants "weight": 0 and output assistants
 * "weight": 1. Returns FW_XFAST_LINE when the line is complete and passes
 * fw_xcheck_line(FW_XFMT_OPENAI_CHAT, …, 0); FW_XFAST_FALLBACK when the
 * general path must build the row (line then holds nothing of use); -1 when
 * out of memory.
 */
int fw_xfast_chat(fw_xfast *f, const fw_xfast_row *r, int weights, fw_buf *line);

void fw_xfast_free(fw_xfast *f);

#endif
