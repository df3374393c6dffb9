/*
 * Encoders for PostgreSQL's COPY text format, the layer under the row
 * encoder (rows.c).
 *
 * COPY text format: columns separated by a tab, rows ended by a newline,
 * NULL written as \N, and inside a value a backslash, tab, newline or
 * carriage return written as \\, \t, \n, \r. Everything else passes as is.
 *
 * A jsonb value therefore goes through two escapings: JSON's (quote,
 * backslash, control characters) and then COPY's (every backslash doubled).
 * fw_copy_json_string() does both in one pass from a table, copying runs of
 * bytes that need neither with memcpy; that is the hot loop of ingestion.
 *
 * Inputs are assumed valid UTF-8 without NUL (decode.c rejects anything
 * else before encoding), so no byte above 0x7f needs attention.
 */
#ifndef FW_COPYENC_H
#define FW_COPYENC_H

#include "fw_buf.h"

#include <stdint.h>

/* A text column value, COPY-escaped. */
void fw_copy_text(fw_buf *b, const char *s, size_t n);

/* A JSON string literal (with its quotes), JSON- then COPY-escaped. */
void fw_copy_json_string(fw_buf *b, const char *s, size_t n);

/* Text that is already valid JSON, COPY-escaped (embedded as a JSON value). */
void fw_copy_json_raw(fw_buf *b, const char *s, size_t n);

/* One element of a text[] literal: double-quoted with the array escapes,
 * then COPY-escaped. The caller writes the braces and commas. */
void fw_copy_array_elem(fw_buf *b, const char *s, size_t n);

/* A double as the shortest decimal that reads back to the same value.
 * Finite values only (NaN and infinities are rejected before encoding). */
void fw_put_double(fw_buf *b, double v);

void fw_put_i64(fw_buf *b, int64_t v);

/* Unix nanoseconds as a timestamptz literal with microseconds, in UTC:
 * "2024-05-01 12:00:00.123456+00" (nanoseconds are truncated). */
void fw_put_timestamp_ns(fw_buf *b, uint64_t ns);

/* Unix milliseconds as a timestamptz literal, in UTC, for times before
 * 10000-01-01 (FW_MAX_ID_TIME_MS; callers check): "2024-05-01 12:00:00.123000+00". */
void fw_put_timestamp_ms(fw_buf *b, uint64_t ms);

/* 16 bytes as a canonical uuid literal. */
void fw_put_uuid(fw_buf *b, const uint8_t id[16]);

/* Bytes as lower-case hex digits. */
void fw_put_hex(fw_buf *b, const uint8_t *p, size_t n);

/* Bytes as a bytea literal in COPY text: \\x followed by hex digits. */
void fw_copy_bytea(fw_buf *b, const uint8_t *p, size_t n);

/*
 * Returns 1 when s[0..n) is exactly one JSON value (RFC 8259) that jsonb
 * accepts, surrounded by optional whitespace; else 0. Rejects \u0000 and
 * unpaired surrogate escapes, which jsonb refuses, numbers outside the
 * range of PostgreSQL's numeric (which jsonb stores them as, e.g. 1e1000000),
 * and nesting deeper than 256. Never reads past s + n.
 */
int fw_json_valid(const char *s, size_t n);

/* As fw_json_valid, and the value is an object. */
int fw_json_valid_object(const char *s, size_t n);

#endif
