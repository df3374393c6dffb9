/* Growable buffer; see buf.h. */
#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int sv_buf_reserve(sv_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->cap - b->len >= extra)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->oom = 1;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra)
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

void sv_printf(sv_buf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->cap - b->len;
    int n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n >= room) {
        if (sv_buf_reserve(b, (size_t)n + 1) != 0)
            return;
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

const char *sv_buf_cstr(sv_buf *b)
{
    if (sv_buf_reserve(b, 1) != 0)
        return "";
    b->p[b->len] = '\0';
    return b->p;
}

void sv_buf_reset(sv_buf *b)
{
    b->len = 0;
    b->oom = 0;
}

void sv_buf_free(sv_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

char *sv_buf_take(sv_buf *b, size_t *len)
{
    char *p = b->p;
    if (len)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return p;
}
