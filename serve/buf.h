/*
 * A growable byte buffer for building pages and SQL parameters in the web
 * server. Appends never fail visibly: on allocation failure `oom` is set and
 * later appends are ignored, so page renderers append freely and the caller
 * checks the flag once before sending (and answers 500 instead).
 * `p` is not NUL-terminated unless sv_buf_cstr() is called.
 */
#ifndef FW_SERVE_BUF_H
#define FW_SERVE_BUF_H

#include <stddef.h>
#include <string.h>

typedef struct {
    char *p;
    size_t len;
    size_t cap;
    int oom;
} sv_buf;

/* Makes room for `extra` more bytes. Returns 0, or -1 and sets oom. */
int sv_buf_reserve(sv_buf *b, size_t extra);

static inline void sv_put(sv_buf *b, const void *s, size_t n)
{
    if (b->cap - b->len < n && sv_buf_reserve(b, n) != 0)
        return;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
}

static inline void sv_putc(sv_buf *b, char c)
{
    if (b->cap == b->len && sv_buf_reserve(b, 1) != 0)
        return;
    b->p[b->len++] = c;
}

static inline void sv_puts(sv_buf *b, const char *s)
{
    sv_put(b, s, strlen(s));
}

/* printf-style append. Never pass untrusted text through %s here: use
 * sv_esc() (html.h) for anything that is not a literal or a number. */
void sv_printf(sv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* NUL-terminates (the NUL is not counted in len) and returns p; "" on oom. */
const char *sv_buf_cstr(sv_buf *b);

/* Empties the buffer, keeping its memory; clears oom. */
void sv_buf_reset(sv_buf *b);

/* Frees the memory; the buffer is zeroed and may be reused. */
void sv_buf_free(sv_buf *b);

/* Hands the memory to the caller (who frees it) and zeroes the buffer. */
char *sv_buf_take(sv_buf *b, size_t *len);

#endif
