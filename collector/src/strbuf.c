/*
 * Growable byte buffer; see strbuf.h. Capacity doubles so that appending n
 * bytes one at a time costs O(n) copies overall.
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int fw_sb_reserve(fw_sb *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->cap - b->len >= extra)
        return 0;
    size_t need = b->len + extra;
    if (need < b->len) {
        b->oom = 1;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void fw_sb_printf(fw_sb *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        fw_sb_put(b, small, (size_t)n);
        return;
    }
    if (fw_sb_reserve(b, (size_t)n + 1) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *fw_sb_cstr(fw_sb *b)
{
    if (fw_sb_reserve(b, 1) != 0)
        return "";
    b->p[b->len] = '\0';
    return b->p;
}

void fw_sb_reset(fw_sb *b)
{
    b->len = 0;
    b->oom = 0;
}

void fw_sb_free(fw_sb *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}
