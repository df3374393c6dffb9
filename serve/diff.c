/* Word diff; see diff.h. */
#include "diff.h"

#include "html.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p;
    size_t n;
} tok;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Splits s into tokens; returns the count, *out malloc'd (NULL on OOM
 * with -1 returned). */
static long tokenize(const char *s, tok **out)
{
    size_t cap = 16, n = 0;
    tok *t = malloc(cap * sizeof *t);
    if (!t)
        return -1;
    for (const char *p = s; *p;) {
        const char *q = p;
        int sp = is_space(*p);
        while (*q && is_space(*q) == sp)
            q++;
        if (n == cap) {
            cap *= 2;
            tok *nt = realloc(t, cap * sizeof *nt);
            if (!nt) {
                free(t);
                return -1;
            }
            t = nt;
        }
        t[n].p = p;
        t[n].n = (size_t)(q - p);
        n++;
        p = q;
    }
    *out = t;
    return (long)n;
}

static int same(const tok *a, const tok *b)
{
    return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

static void emit(sv_buf *out, const char *tag, const tok *t)
{
    if (tag) {
        sv_puts(out, "<");
        sv_puts(out, tag);
        sv_puts(out, ">");
    }
    sv_esc_n(out, t->p, t->n);
    if (tag) {
        sv_puts(out, "</");
        sv_puts(out, tag);
        sv_puts(out, ">");
    }
}

long sv_word_diff(sv_buf *out, const char *a, const char *b)
{
    tok *ta = NULL, *tb = NULL;
    long na = tokenize(a, &ta), nb = tokenize(b, &tb);
    if (na < 0 || nb < 0) {
        free(ta);
        free(tb);
        out->oom = 1;
        return -1;
    }
    size_t pre = 0;
    while (pre < (size_t)na && pre < (size_t)nb && same(&ta[pre], &tb[pre]))
        pre++;
    size_t suf = 0;
    while (suf < (size_t)na - pre && suf < (size_t)nb - pre &&
           same(&ta[na - 1 - suf], &tb[nb - 1 - suf]))
        suf++;
    for (size_t i = 0; i < pre; i++)
        emit(out, NULL, &ta[i]);
    size_t ma = (size_t)na - pre - suf, mb = (size_t)nb - pre - suf;
    const tok *A = ta + pre, *B = tb + pre;
    long changed = 0;
    uint32_t *L = NULL;
    if (ma && mb && (ma + 1) * (mb + 1) <= SV_DIFF_MAX_CELLS)
        L = calloc((ma + 1) * (mb + 1), sizeof *L);
    if (L) {
        /* L[i][j] = LCS length of A[i..] and B[j..] */
        size_t w = mb + 1;
        for (size_t i = ma; i-- > 0;)
            for (size_t j = mb; j-- > 0;)
                L[i * w + j] = same(&A[i], &B[j])
                                   ? L[(i + 1) * w + j + 1] + 1
                                   : (L[(i + 1) * w + j] > L[i * w + j + 1] ? L[(i + 1) * w + j]
                                                                            : L[i * w + j + 1]);
        size_t i = 0, j = 0;
        while (i < ma && j < mb) {
            if (same(&A[i], &B[j])) {
                emit(out, NULL, &A[i]);
                i++;
                j++;
            } else if (L[(i + 1) * w + j] >= L[i * w + j + 1]) {
                emit(out, "del", &A[i++]);
                changed++;
            } else {
                emit(out, "ins", &B[j++]);
                changed++;
            }
        }
        for (; i < ma; i++, changed++)
            emit(out, "del", &A[i]);
        for (; j < mb; j++, changed++)
            emit(out, "ins", &B[j]);
        free(L);
    } else {
        for (size_t i = 0; i < ma; i++, changed++)
            emit(out, "del", &A[i]);
        for (size_t j = 0; j < mb; j++, changed++)
            emit(out, "ins", &B[j]);
    }
    for (size_t i = (size_t)na - suf; i < (size_t)na; i++)
        emit(out, NULL, &ta[i]);
    free(ta);
    free(tb);
    return out->oom ? -1 : changed;
}
