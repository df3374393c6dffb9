/*
 * A growable byte buffer for building COPY data and HTTP responses.
 *
 * Appends never fail visibly: on allocation failure the buffer sets `oom`
 * and ignores later appends, so encoders can append freely and check the
 * flag once at the end (the caller then discards the buffer's content).
 * `p` is not NUL-terminated unless fw_sb_cstr() is called.
 */
#ifndef FW_STRBUF_H
#define FW_STRBUF_H

#include <stddef.h>
#include <string.h>

typedef struct {
    char *p;
    size_t len;
    size_t cap;
    int oom;
} fw_sb;

/* Makes room for `extra` more bytes. Returns 0, or -1 and sets oom. */
int fw_sb_reserve(fw_sb *b, size_t extra);

static inline void fw_sb_put(fw_sb *b, const void *s, size_t n)
{
    if (b->cap - b->len < n && fw_sb_reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static inline void fw_sb_putc(fw_sb *b, char c)
{
    if (b->cap == b->len && fw_sb_reserve(b, 1) != 0)
        return;
    b->p[b->len++] = c;
}

static inline void fw_sb_puts(fw_sb *b, const char *s)
{
    fw_sb_put(b, s, strlen(s));
}

/* printf-style append. */
void fw_sb_printf(fw_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* NUL-terminates (without counting the NUL in len) and returns p, or "" on oom. */
const char *fw_sb_cstr(fw_sb *b);

/* Empties the buffer, keeping its memory, and clears oom. */
void fw_sb_reset(fw_sb *b);

/* Frees the memory; the buffer may be reused after (it is zeroed). */
void fw_sb_free(fw_sb *b);

#endif
