/*
 * Helpers shared by the two decoders: UTF-8 validation, error formatting,
 * request lifetime.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

int fw_otlp_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= need)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += need + 1;
    }
    return 1;
}

int fw_otlp_fail(char *err, size_t errsize, const char *fmt, ...)
{
    if (err && errsize) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsize, fmt, ap);
        va_end(ap);
    }
    return -1;
}

fw_otlp_request *fw_otlp_request_new(void)
{
    fw_otlp_arena *a = fw_otlp_arena_new();
    if (!a)
        return NULL;
    fw_otlp_request *r = fw_otlp_arena_calloc(a, 1, sizeof *r);
    if (!r) {
        fw_otlp_arena_free(a);
        return NULL;
    }
    r->arena = a;
    return r;
}

void fw_otlp_request_free(fw_otlp_request *r)
{
    if (r)
        fw_otlp_arena_free(r->arena); /* r itself lives in the arena */
}
