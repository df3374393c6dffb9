/*
 * HTML escaping and UTF-8 repair; see html.h. One pass over the input:
 * runs of bytes that need nothing are copied in one sv_put, so long model
 * outputs cost little more than a memcpy.
 */
#include "html.h"

#include <stdio.h>

size_t sv_utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        min = 0x80;
        c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        min = 0x800;
        c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

int sv_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] == 0)
            return 0;
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        unsigned cp;
        size_t k = sv_utf8_seq(u + i, n - i, &cp);
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */

void sv_esc_n(sv_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0; /* start of the pending run of bytes copied as they are */
    size_t i = 0;
    while (i < n) {
        unsigned char c = u[i];
        const char *rep = NULL;
        size_t adv = 1;
        char bidi[16];
        if (c >= 0x80) {
            unsigned cp;
            size_t k = sv_utf8_seq(u + i, n - i, &cp);
            if (!k) {
                rep = REPLACEMENT;
            } else if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) {
                snprintf(bidi, sizeof bidi, "[U+%04X]", cp);
                rep = bidi;
                adv = k;
            } else {
                i += k;
                continue;
            }
        } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            rep = REPLACEMENT;
        } else if (c == 0x7F) {
            rep = REPLACEMENT;
        } else {
            switch (c) {
            case '&':
                rep = "&amp;";
                break;
            case '<':
                rep = "&lt;";
                break;
            case '>':
                rep = "&gt;";
                break;
            case '"':
                rep = "&quot;";
                break;
            case '\'':
                rep = "&#39;";
                break;
            default:
                i++;
                continue;
            }
        }
        sv_put(b, s + run, i - run);
        sv_puts(b, rep);
        i += adv;
        run = i;
    }
    sv_put(b, s + run, n - run);
}

void sv_esc(sv_buf *b, const char *s)
{
    if (s)
        sv_esc_n(b, s, strlen(s));
}

void sv_urlenc(sv_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        unsigned char c = *u;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            sv_putc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            sv_put(b, e, 3);
        }
    }
}
