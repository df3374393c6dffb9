/* Growable byte buffer; see export_buf.h for the invariant. */
#include "export_buf.h"

#include <stdlib.h>
#include <string.h>

void fw_xbuf_add(fw_xbuf *b, const void *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->oom = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void fw_xbuf_adds(fw_xbuf *b, const char *s)
{
    fw_xbuf_add(b, s, strlen(s));
}

void fw_xbuf_reset(fw_xbuf *b)
{
    b->len = 0;
    b->oom = 0;
    if (b->cap)
        b->data[0] = '\0';
}

void fw_xbuf_free(fw_xbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

int fw_xbuf_dump_cb(const char *buffer, size_t size, void *data)
{
    fw_xbuf *b = data;
    fw_xbuf_add(b, buffer, size);
    return b->oom ? -1 : 0;
}
