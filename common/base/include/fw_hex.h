/*
 * Hexadecimal, once: bytes to lower-case digits (trace ids, bytea, uuids)
 * and digits back to values (event ids, JSON \u escapes, COPY \x escapes).
 */
#ifndef FW_HEX_H
#define FW_HEX_H

#include <stddef.h>

/* "0123456789abcdef" */
extern const char fw_hex_digits[17];

/* Writes the 2 * n lower-case hex digits of p[0..n) at out (no NUL);
 * returns out + 2 * n. */
char *fw_hex_encode(char *out, const void *p, size_t n);

/* The value of one hex digit (either case), or -1. */
int fw_hex_val(int c);

/* Parses exactly four hex digits at p (p + 4 <= end required, else -1) into
 * *out. Returns 0 or -1 (nothing stored). */
int fw_hex_u16(const char *p, const char *end, unsigned *out);

/* Writes the canonical 36-character form of a 16-byte uuid at out (no NUL):
 * 8-4-4-4-12 lower-case hex digits. */
void fw_uuid_format(char out[36], const unsigned char id[16]);

#endif
