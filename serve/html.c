/*
 * HTML escaping and UTF-8 repair; see html.h. One pass over the input:
 * runs of bytes that need nothing are copied in one sv_put, so long model
 * outputs cost little more than a memcpy.
 */
#include "html.h"

#include "fw_utf8.h"

#include <stdio.h>

size_t sv_utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
    size_t k = fw_utf8_seq(s, s + n);
    if (k)
        fw_utf8_decode((const char *)s, n, 0, cp);
    return k;
}

int sv_utf8_valid(const char *s, size_t n)
{
    return memchr(s, 0, n) == NULL && fw_utf8_valid(s, n);
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
