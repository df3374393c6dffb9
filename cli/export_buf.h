/*
 * A growable byte buffer for building export lines. Invariant: data is
 * NUL-terminated at len whenever cap > 0, so a buffer of text can be passed
 * to C string functions; the NUL is not counted in len. An allocation
 * failure is sticky (oom set, further appends ignored) so a caller can build
 * a whole line and check once.
 */
#ifndef FW_EXPORT_BUF_H
#define FW_EXPORT_BUF_H

#include <stddef.h>

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    int oom;
} fw_xbuf;

/* Appends n bytes; on allocation failure sets oom and leaves data as it was. */
void fw_xbuf_add(fw_xbuf *b, const void *p, size_t n);
void fw_xbuf_adds(fw_xbuf *b, const char *s);
/* One byte; inline because the JSON writer adds every comma, colon and
 * bracket this way. */
static inline void fw_xbuf_addc(fw_xbuf *b, char c)
{
    if (!b->oom && b->len + 2 <= b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
    } else {
        fw_xbuf_add(b, &c, 1);
    }
}
/* Empties the buffer, keeping its memory; clears oom. */
void fw_xbuf_reset(fw_xbuf *b);
/* Frees the memory; the buffer may be reused (it is empty). */
void fw_xbuf_free(fw_xbuf *b);
/* A jansson dump callback appending to the fw_xbuf passed as data. */
int fw_xbuf_dump_cb(const char *buffer, size_t size, void *data);

#endif
