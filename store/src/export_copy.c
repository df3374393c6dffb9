/*
 * COPY text-format row splitting; see export_copy.h. Unescaping never makes
 * a field longer, so it runs in place over the buffer libpq returned: one
 * pass, no allocation, which matters because every exported row goes
 * through here.
 */
#include "export_copy.h"

#include "fw_hex.h"

#include <string.h>

static int octal(char c)
{
    return c >= '0' && c <= '7';
}

int fw_xcopy_split(char *row, size_t len, char **fields, size_t *lens, int max)
{
    int n = 0;
    size_t i = 0;

    if (len > 0 && row[len - 1] == '\n')
        len--;
    for (;;) {
        if (n == max)
            return -1;
        char *start = row + i, *w = start;
        int escaped = 0;
        /* The field ends at the next tab; inside it, copy the runs between
         * backslashes in one go (memchr is vectorised, a byte loop is not). */
        const char *tab = memchr(row + i, '\t', len - i);
        size_t fend = tab ? (size_t)(tab - row) : len;
        for (;;) {
            const char *bs = memchr(row + i, '\\', fend - i);
            size_t run = bs ? (size_t)(bs - (row + i)) : fend - i;
            if (w != row + i)
                memmove(w, row + i, run);
            w += run;
            i += run;
            if (i >= fend)
                break;
            /* A backslash escape. */
            escaped = 1;
            char c = i + 1 < len ? row[i + 1] : '\\';
            i += 2;
            switch (c) {
            case 'b':
                *w++ = '\b';
                break;
            case 'f':
                *w++ = '\f';
                break;
            case 'n':
                *w++ = '\n';
                break;
            case 'r':
                *w++ = '\r';
                break;
            case 't':
                *w++ = '\t';
                break;
            case 'v':
                *w++ = '\v';
                break;
            case 'N':
                *w++ = 'N'; /* only meaningful as a whole field: see below */
                break;
            case 'x': {
                int v = 0, k = 0, h;
                while (k < 2 && i < len && (h = fw_hex_val(row[i])) >= 0) {
                    v = v * 16 + h;
                    i++;
                    k++;
                }
                *w++ = k ? (char)v : 'x';
                break;
            }
            default:
                if (octal(c)) {
                    int v = c - '0', k = 1;
                    while (k < 3 && i < len && octal(row[i])) {
                        v = v * 8 + (row[i] - '0');
                        i++;
                        k++;
                    }
                    *w++ = (char)v;
                } else {
                    *w++ = c; /* \\ and any other character stand for themselves */
                }
            }
            if (i > len)
                i = len; /* a backslash as the row's last byte */
            if (i > fend) {
                /* The escape consumed the tab found above (a backslash
                 * before a tab is a literal tab, which COPY TO never
                 * writes): look again. */
                tab = memchr(row + i, '\t', len - i);
                fend = tab ? (size_t)(tab - row) : len;
            }
        }
        size_t flen = (size_t)(w - start);
        if (escaped && flen == 1 && start[0] == 'N' && row + i - start == 2) {
            fields[n] = NULL; /* \N: SQL NULL */
            lens[n] = 0;
        } else {
            fields[n] = start;
            lens[n] = flen;
        }
        n++;
        if (i >= len) {
            *w = '\0';
            return n;
        }
        *w = '\0'; /* overwrites at most the tab */
        i++;
    }
}
