/*
 * The web server's names for the one growable buffer of common/base
 * (fw_buf.h): page regions append with sv_put/sv_puts/sv_printf, and the
 * buffer's sticky oom flag lets a renderer append freely and the caller
 * check once before sending (answering 500 instead). These are aliases,
 * not a second buffer: sv_buf is fw_buf.
 */
#ifndef FW_SERVE_BUF_H
#define FW_SERVE_BUF_H

#include "fw_buf.h"

typedef fw_buf sv_buf;

static inline int sv_buf_reserve(sv_buf *b, size_t extra)
{
    return fw_buf_reserve(b, extra);
}

static inline void sv_put(sv_buf *b, const void *s, size_t n)
{
    fw_buf_add(b, s, n);
}

static inline void sv_putc(sv_buf *b, char c)
{
    fw_buf_addc(b, c);
}

static inline void sv_puts(sv_buf *b, const char *s)
{
    fw_buf_adds(b, s);
}

/* printf-style append. Never pass untrusted text through %s here: use
 * sv_esc() (html.h) for anything that is not a literal or a number. */
#define sv_printf fw_buf_printf

/* The content as a C string ("" when empty or out of memory). */
static inline const char *sv_buf_cstr(const sv_buf *b)
{
    return fw_buf_cstr(b);
}

static inline void sv_buf_reset(sv_buf *b)
{
    fw_buf_reset(b);
}

static inline void sv_buf_free(sv_buf *b)
{
    fw_buf_free(b);
}

static inline char *sv_buf_take(sv_buf *b, size_t *len)
{
    return fw_buf_take(b, len);
}

#endif
