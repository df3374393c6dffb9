/*
 * The growable byte buffer every module builds text in: COPY data in the
 * collector and DLQ replay, export lines, HTTP responses, metrics pages.
 *
 * Invariants:
 *   - data is NULL while cap is 0; otherwise data[len] is '\0', so a buffer
 *     of text can be passed to C string functions (the NUL is not counted in
 *     len, and len < cap always holds);
 *   - an allocation failure is sticky: oom is set and every later append is
 *     ignored, so an encoder can append freely and check the flag once at the
 *     end (the caller then discards the content). fw_buf_reset clears it.
 *
 * Capacity doubles (from 256 bytes), so appending n bytes one at a time
 * costs O(n) copies overall. Not thread-safe: one buffer, one thread.
 */
#ifndef FW_BUF_H
#define FW_BUF_H

#include <stddef.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    int oom;
} fw_buf;

#define FW_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

/* Makes room for `extra` more bytes and the terminating NUL. Returns 0, or
 * -1 with oom set (the content is left as it was). */
int fw_buf_reserve(fw_buf *b, size_t extra);

/* Appends n bytes (n may be 0). On allocation failure sets oom. */
static inline void fw_buf_add(fw_buf *b, const void *s, size_t n)
{
    if (b->cap - b->len <= n && fw_buf_reserve(b, n) != 0)
        return;
    if (b->oom)
        return;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* One byte; inline because encoders add every comma, quote and tab so. */
static inline void fw_buf_addc(fw_buf *b, char c)
{
    if (b->cap - b->len <= 1 && fw_buf_reserve(b, 1) != 0)
        return;
    if (b->oom)
        return;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

static inline void fw_buf_adds(fw_buf *b, const char *s)
{
    fw_buf_add(b, s, strlen(s));
}

/* printf-style append. */
void fw_buf_printf(fw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The content as a C string: data, or "" when nothing was ever appended or
 * memory ran out. Never NULL. */
const char *fw_buf_cstr(const fw_buf *b);

/* Empties the buffer, keeping its memory, and clears oom. */
void fw_buf_reset(fw_buf *b);

/* Frees the memory; the buffer may be reused after (it is zeroed). */
void fw_buf_free(fw_buf *b);

/* Hands the memory to the caller, who frees it (NULL when nothing was ever
 * appended), with the length in *len when len is not NULL; the buffer is
 * zeroed and may be reused. */
char *fw_buf_take(fw_buf *b, size_t *len);

#endif
