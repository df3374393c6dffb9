/* Growable byte buffer; see buf.h for the invariants. */
#include "fw_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int fw_buf_reserve(fw_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->cap > b->len && b->cap - b->len > extra)
        return 0;
    size_t need = b->len + extra + 1;
    if (need <= b->len) {
        b->oom = 1;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > ((size_t)-1) / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    if (!b->data)
        p[0] = '\0';
    b->data = p;
    b->cap = cap;
    return 0;
}

void fw_buf_printf(fw_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        fw_buf_add(b, small, (size_t)n);
        return;
    }
    if (fw_buf_reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *fw_buf_cstr(const fw_buf *b)
{
    return b->data && !b->oom ? b->data : "";
}

void fw_buf_reset(fw_buf *b)
{
    b->len = 0;
    b->oom = 0;
    if (b->cap)
        b->data[0] = '\0';
}

void fw_buf_free(fw_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

char *fw_buf_take(fw_buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
    return p;
}
