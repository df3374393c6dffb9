/*
 * JSON string escaping, once, with jansson's rules (so that bytes written by
 * the exporter's fast writer equal json_dumps output, and recorded dataset
 * versions re-export byte-identically): the quote, the backslash and
 * \b \f \n \r \t get their short escapes, other control characters
 * \u00XX with upper-case hex digits, and nothing else is escaped (no '/',
 * no non-ASCII).
 */
#ifndef FW_JSONESC_H
#define FW_JSONESC_H

#include "fw_buf.h"

#include <stddef.h>

/* Byte classes for string scanners: 0 plain ASCII, 1 must be escaped
 * (control character, quote, backslash), 2 part of a multi-byte UTF-8
 * sequence (≥ 0x80). */
extern const unsigned char fw_json_byte_class[256];

/* Writes the escape of byte c (class 1) at out, at most 6 bytes, and returns
 * its length. For any other byte writes the byte itself and returns 1. */
size_t fw_json_escape_byte(unsigned char c, char out[6]);

/*
 * Appends s[0..n) as a JSON string literal, quotes included. Returns 0, or
 * -1 when s is not valid UTF-8 (b then holds a partial literal; the caller
 * discards it). Out of memory is b->oom, as for every append.
 */
int fw_json_put_string(fw_buf *b, const char *s, size_t n);

#endif
