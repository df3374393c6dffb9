/*
 * Internal helpers shared by the OTLP decoders and the mapping.
 */
#ifndef FW_OTLP_INTERNAL_H
#define FW_OTLP_INTERNAL_H

#include "arena.h"
#include "fw_otlp.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
int fw_otlp_utf8_valid(const uint8_t *s, size_t n);

/* snprintf into err, when err is not NULL. Always returns -1. */
int fw_otlp_fail(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A new, empty request with its arena; NULL when out of memory. */
fw_otlp_request *fw_otlp_request_new(void);

#endif
