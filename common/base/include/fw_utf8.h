/*
 * UTF-8, once: validation (the collector's dead-letter check, the exporter's
 * JSON reader and writer), repair (the agent), cutting at a boundary, and
 * code point decoding and counting (the sentence segmenter, span offsets).
 *
 * "Valid" means RFC 3629: no overlong forms, no surrogates (U+D800..DFFF),
 * nothing past U+10FFFF, no truncated sequence. NUL is a valid code point
 * here; callers that refuse it check for it themselves.
 */
#ifndef FW_UTF8_H
#define FW_UTF8_H

#include <stddef.h>

/* Length (1 to 4) of the valid UTF-8 sequence starting at p, or 0 when the
 * bytes at p are not one (bad lead byte, bad continuation, overlong,
 * surrogate, past U+10FFFF, or cut short by end). p < end. */
size_t fw_utf8_seq(const unsigned char *p, const unsigned char *end);

/* 1 when s[0..n) is valid UTF-8, else 0. ASCII runs go eight bytes at a
 * time: this is on the collector's per-field path. */
int fw_utf8_valid(const void *s, size_t n);

/*
 * Returns s itself when s[0..n) is valid UTF-8 without NUL. Otherwise writes
 * a repaired copy into out (which must hold 3 * n + 1 bytes): every byte that
 * does not start a valid sequence becomes U+FFFD, NUL bytes are dropped;
 * NUL-terminates it, stores its length in *out_len and returns out.
 */
const char *fw_utf8_repair(const char *s, size_t n, char *out, size_t *out_len);

/* The largest k <= max such that s[0..k) does not end inside a multi-byte
 * sequence (n when n <= max). */
size_t fw_utf8_cut(const char *s, size_t n, size_t max);

/*
 * Decodes the code point at s[i] (i < len) into *cp and returns its length
 * in bytes. Lenient, for text that is valid by construction (jansson
 * strings, database text): a byte that does not start a valid sequence
 * decodes as itself with length 1, so a scan always advances.
 */
size_t fw_utf8_decode(const char *s, size_t len, size_t i, unsigned *cp);

/* Writes the UTF-8 form of cp (at most 4 bytes) at w; returns the byte past
 * it. cp must be a Unicode scalar value. */
char *fw_utf8_put(char *w, unsigned cp);

/* Number of code points in s[0..bytes): bytes that are not continuation
 * bytes (so an invalid byte counts as one). */
size_t fw_utf8_count(const char *s, size_t bytes);

/* Byte offset of code point index `cp` in s[0..len), len when past the end. */
size_t fw_utf8_offset(const char *s, size_t len, size_t cp);

#endif
