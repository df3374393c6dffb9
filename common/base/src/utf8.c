/* UTF-8 validation, repair and decoding; see utf8.h. */
#include "fw_utf8.h"

#include <stdint.h>
#include <string.h>

size_t fw_utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0], cp;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0) {
        n = 2;
        cp = c & 0x1F;
    } else if (c < 0xF0) {
        n = 3;
        cp = c & 0x0F;
    } else if (c < 0xF5) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

int fw_utf8_valid(const void *s, size_t n)
{
    const unsigned char *p = s, *end = p + n;
    while (p < end) {
        /* ASCII fast path, eight bytes at a time. */
        while ((size_t)(end - p) >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (w & 0x8080808080808080ull)
                break;
            p += 8;
        }
        if (p >= end)
            break;
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t k = fw_utf8_seq(p, end);
        if (!k)
            return 0;
        p += k;
    }
    return 1;
}

const char *fw_utf8_repair(const char *s, size_t n, char *out, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    size_t i = 0, w = 0;
    int copying = 0;
    while (i < n) {
        size_t len = p[i] ? fw_utf8_seq(p + i, end) : 0;
        if (len) {
            if (copying)
                memcpy(out + w, p + i, len);
            w += len;
            i += len;
            continue;
        }
        if (!copying) {
            memcpy(out, s, w);
            copying = 1;
        }
        if (p[i] != 0) {
            memcpy(out + w, "\xEF\xBF\xBD", 3);
            w += 3;
        }
        i++;
    }
    if (!copying)
        return s;
    out[w] = '\0';
    *out_len = w;
    return out;
}

size_t fw_utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

size_t fw_utf8_decode(const char *s, size_t len, size_t i, unsigned *cp)
{
    const unsigned char *p = (const unsigned char *)s + i;
    size_t n = p[0] < 0x80 ? 1 : fw_utf8_seq(p, (const unsigned char *)s + len);
    if (n <= 1) {
        *cp = p[0];
        return 1;
    }
    unsigned v = p[0] & (n == 2 ? 0x1Fu : n == 3 ? 0x0Fu : 0x07u);
    for (size_t k = 1; k < n; k++)
        v = (v << 6) | (p[k] & 0x3Fu);
    *cp = v;
    return n;
}

char *fw_utf8_put(char *w, unsigned cp)
{
    if (cp < 0x80) {
        *w++ = (char)cp;
    } else if (cp < 0x800) {
        *w++ = (char)(0xC0 | (cp >> 6));
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *w++ = (char)(0xE0 | (cp >> 12));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *w++ = (char)(0xF0 | (cp >> 18));
        *w++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    }
    return w;
}

size_t fw_utf8_count(const char *s, size_t bytes)
{
    size_t n = 0;
    for (size_t i = 0; i < bytes; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

size_t fw_utf8_offset(const char *s, size_t len, size_t cp)
{
    size_t i = 0, n = 0;
    while (i < len && n < cp) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        n++;
    }
    return i;
}
