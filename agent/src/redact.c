/*
 * redact — built-in detectors, operator rules and the replacement pass; the
 * rules for choosing spans are described in redact.h.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "redact.h"

#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t start, end;
    const char *label; /* static, rule-owned, or owned by the match list */
    int owned;
} span;

struct fw_redact_match_s {
    span *v;
    size_t n, cap;
    size_t text_len;
    int oom;
};

typedef struct {
    char *label; /* upper-cased */
    pcre2_code *code;
} rule;

struct fwr_redactor {
    unsigned detectors;
    rule *rules;
    size_t n_rules;
    pcre2_match_data *md;
    fwr_cb *cb;
    void *cb_opaque;
    fwr_matches m; /* scratch, reused */
};

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}
static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static int is_alnum(int c)
{
    return is_digit(c) || is_alpha(c);
}
/* Token characters of keys and secrets. */
static int is_tok(int c)
{
    return is_alnum(c) || c == '_' || c == '-';
}

fwr_redactor *fwr_new(unsigned detectors)
{
    fwr_redactor *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->detectors = detectors;
    return r;
}

static void clear_matches(fwr_matches *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].owned)
            free((void *)(uintptr_t)m->v[i].label);
    m->n = 0;
    m->oom = 0;
}

void fwr_free(fwr_redactor *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_rules; i++) {
        free(r->rules[i].label);
        pcre2_code_free(r->rules[i].code);
    }
    free(r->rules);
    pcre2_match_data_free(r->md);
    clear_matches(&r->m);
    free(r->m.v);
    free(r);
}

static pcre2_code *compile(const char *pattern, char *err, size_t size)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        if (err && size)
            snprintf(err, size, "invalid regular expression at offset %zu: %s", (size_t)off,
                     (const char *)msg);
    }
    return re;
}

int fwr_check_regex(const char *pattern, char *err, size_t size)
{
    pcre2_code *re = compile(pattern, err, size);
    if (!re)
        return -1;
    pcre2_code_free(re);
    return 0;
}

int fwr_add_regex(fwr_redactor *r, const char *label, const char *pattern, char *err,
                  size_t size)
{
    pcre2_code *re = compile(pattern, err, size);
    if (!re)
        return -1;
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* optional: falls back to the interpreter */
    char *lab = strdup(label);
    rule *nr = realloc(r->rules, (r->n_rules + 1) * sizeof *nr);
    if (!r->md)
        r->md = pcre2_match_data_create(4, NULL);
    if (!lab || !nr || !r->md) {
        free(lab);
        if (nr)
            r->rules = nr;
        pcre2_code_free(re);
        if (err && size)
            snprintf(err, size, "out of memory");
        return -1;
    }
    for (char *p = lab; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    r->rules = nr;
    nr[r->n_rules].label = lab;
    nr[r->n_rules].code = re;
    r->n_rules++;
    return 0;
}

void fwr_set_callback(fwr_redactor *r, fwr_cb *cb, void *opaque)
{
    r->cb = cb;
    r->cb_opaque = opaque;
}

/* Adds a span unless it overlaps an earlier one. 0 ok/ignored, -2 oom. */
static int add_span(fwr_matches *m, size_t start, size_t end, const char *label, int owned)
{
    for (size_t i = 0; i < m->n; i++)
        if (start < m->v[i].end && m->v[i].start < end) {
            if (owned)
                free((void *)(uintptr_t)label);
            return 0;
        }
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 16;
        span *nv = realloc(m->v, nc * sizeof *nv);
        if (!nv) {
            if (owned)
                free((void *)(uintptr_t)label);
            m->oom = 1;
            return -2;
        }
        m->v = nv;
        m->cap = nc;
    }
    m->v[m->n++] = (span){start, end, label, owned};
    return 0;
}

int fwr_matches_add(fwr_matches *m, size_t offset, size_t length, const char *label)
{
    if (!m || offset > m->text_len || length > m->text_len - offset || length == 0)
        return -1;
    char *lab = NULL;
    if (label) {
        lab = strdup(label);
        if (!lab) {
            m->oom = 1;
            return -2;
        }
    }
    return add_span(m, offset, offset + length, lab ? lab : "REDACTED", lab != NULL);
}

int fwr_luhn_ok(const char *d, size_t n)
{
    int sum = 0, dbl = 0;
    for (size_t i = n; i-- > 0;) {
        int v = d[i] - '0';
        if (dbl) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
        dbl = !dbl;
    }
    return n > 0 && sum % 10 == 0;
}

/* ---- detectors: each one linear pass ------------------------------------ */

static int detect_email(fwr_matches *m, const char *s, size_t n)
{
    for (size_t at = 0; at < n; at++) {
        if (s[at] != '@')
            continue;
        size_t a = at;
        while (a > 0 && (is_alnum((unsigned char)s[a - 1]) || strchr("._%+-", s[a - 1])))
            a--;
        while (a < at && s[a] == '.')
            a++;
        if (a == at)
            continue;
        size_t b = at + 1, last_dot = 0;
        while (b < n && (is_alnum((unsigned char)s[b]) || s[b] == '-' || s[b] == '.')) {
            if (s[b] == '.')
                last_dot = b;
            b++;
        }
        while (b > at + 1 && (s[b - 1] == '.' || s[b - 1] == '-')) {
            b--;
            if (last_dot == b) {
                last_dot = 0;
                for (size_t k = at + 1; k < b; k++)
                    if (s[k] == '.')
                        last_dot = k;
            }
        }
        if (!last_dot || last_dot == at + 1 || b - last_dot - 1 < 2)
            continue;
        int tld_ok = 1;
        for (size_t k = last_dot + 1; k < b; k++)
            if (!is_alpha((unsigned char)s[k]))
                tld_ok = 0;
        if (!tld_ok)
            continue;
        if (add_span(m, a, b, "EMAIL", 0) < 0)
            return -1;
        at = b;
    }
    return 0;
}

/* Card numbers: 13 to 19 digits, single spaces or dashes between them, a
 * whole run (not part of a longer number or word), Luhn-valid. */
static int detect_card(fwr_matches *m, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (!is_digit((unsigned char)s[i]) || (i > 0 && (is_alnum((unsigned char)s[i - 1]) ||
                                                         s[i - 1] == '.' || s[i - 1] == '-'))) {
            i++;
            continue;
        }
        char digits[20];
        size_t nd = 0, j = i, last = i;
        int too_long = 0;
        while (j < n) {
            if (is_digit((unsigned char)s[j])) {
                if (nd < sizeof digits)
                    digits[nd] = s[j];
                nd++;
                last = j;
                j++;
            } else if ((s[j] == ' ' || s[j] == '-') && j + 1 < n && is_digit((unsigned char)s[j + 1])) {
                j++;
            } else
                break;
        }
        if (nd > 19)
            too_long = 1;
        int boundary = last + 1 >= n || !is_alnum((unsigned char)s[last + 1]);
        if (!too_long && nd >= 13 && boundary && fwr_luhn_ok(digits, nd))
            if (add_span(m, i, last + 1, "CARD", 0) < 0)
                return -1;
        i = last + 1;
    }
    return 0;
}

static int octet(const char *s, size_t n, size_t *i)
{
    size_t k = *i;
    int v = 0, nd = 0;
    while (k < n && is_digit((unsigned char)s[k]) && nd < 4) {
        v = v * 10 + (s[k] - '0');
        k++;
        nd++;
    }
    if (nd == 0 || nd > 3 || v > 255)
        return -1;
    *i = k;
    return v;
}

static int detect_ipv4(fwr_matches *m, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]) ||
            (i > 0 && (is_alnum((unsigned char)s[i - 1]) || s[i - 1] == '.')))
            continue;
        size_t k = i;
        int ok = 1;
        for (int part = 0; part < 4 && ok; part++) {
            if (octet(s, n, &k) < 0)
                ok = 0;
            else if (part < 3) {
                if (k < n && s[k] == '.')
                    k++;
                else
                    ok = 0;
            }
        }
        if (!ok)
            continue;
        if (k < n && (is_alnum((unsigned char)s[k]) ||
                      (s[k] == '.' && k + 1 < n && is_digit((unsigned char)s[k + 1]))))
            continue;
        if (add_span(m, i, k, "IP", 0) < 0)
            return -1;
        i = k;
    }
    return 0;
}

static int detect_phone(fwr_matches *m, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (!(c == '+' || c == '(' || is_digit(c)))
            continue;
        if (i > 0 && (is_alnum((unsigned char)s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '+' ||
                      s[i - 1] == '-'))
            continue;
        int plus = c == '+';
        size_t j = i + (plus ? 1 : 0), last = 0;
        int nd = 0, seps = 0, prev_sep = 0;
        while (j < n) {
            int d = (unsigned char)s[j];
            if (is_digit(d)) {
                nd++;
                last = j;
                prev_sep = 0;
            } else if (d == ' ' || d == '-' || d == '(' || d == ')') {
                if (prev_sep && !(s[j - 1] == ')' && d == ' ') && !(s[j - 1] == ' ' && d == '('))
                    break;
                prev_sep = 1;
                seps++;
            } else
                break;
            j++;
        }
        if (nd == 0)
            continue;
        int boundary = last + 1 >= n || !is_alnum((unsigned char)s[last + 1]);
        int shaped = plus ? nd >= 8 : (nd >= 10 && seps >= 2);
        if (nd <= 15 && boundary && shaped) {
            if (add_span(m, i, last + 1, "PHONE", 0) < 0)
                return -1;
        }
        i = last > i ? last : i;
    }
    return 0;
}

static size_t tok_run(const char *s, size_t n, size_t i)
{
    size_t k = i;
    while (k < n && is_tok((unsigned char)s[k]))
        k++;
    return k - i;
}

static int starts_ci(const char *s, size_t n, size_t i, const char *w)
{
    size_t l = strlen(w);
    if (i + l > n)
        return 0;
    for (size_t k = 0; k < l; k++) {
        int a = (unsigned char)s[i + k], b = (unsigned char)w[k];
        if (a >= 'A' && a <= 'Z')
            a += 32;
        if (a != b)
            return 0;
    }
    return 1;
}

#define P(s, n) {s, sizeof(s) - 1, n}
static const struct {
    const char *prefix;
    size_t len;
    size_t min_body;
} key_prefixes[] = {
    P("sk-", 20),      P("sk_live_", 16), P("sk_test_", 16), P("rk_live_", 16),
    P("pk_live_", 16), P("ghp_", 30),     P("gho_", 30),     P("ghu_", 30),
    P("ghs_", 30),     P("ghr_", 30),     P("github_pat_", 30), P("xoxb-", 10),
    P("xoxp-", 10),    P("xoxa-", 10),    P("xoxs-", 10),    P("glpat-", 20),
    P("hf_", 30),      P("AIza", 35),
};
#undef P

/* Characters a secret can start with (either case for the keywords): the
 * scanner looks no further at any other word start. */
static int secret_start(int c)
{
    switch (c) {
    case '-': case 'b': case 'B': case 'e': case 'E': case 'a': case 'A': case 's': case 'S':
    case 'r': case 'p': case 'P': case 'g': case 'x': case 'h': case 't': case 'T':
        return 1;
    }
    return 0;
}

static const char *const secret_keywords[] = {"api_key", "apikey", "api-key", "secret",
                                              "password", "passwd", "access_token", "token"};

static int detect_secret(fwr_matches *m, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((i > 0 && is_alnum((unsigned char)s[i - 1])) || !secret_start((unsigned char)s[i]))
            continue;
        /* PEM private key blocks. */
        if (s[i] == '-' && i + 10 < n && !memcmp(s + i, "-----BEGIN", 10)) {
            const char *hdr_end = memchr(s + i + 10, '\n', n - i - 10);
            size_t lim = hdr_end ? (size_t)(hdr_end - s) : n;
            int is_key = 0;
            for (size_t k = i; k + 11 <= lim; k++)
                if (!memcmp(s + k, "PRIVATE KEY", 11))
                    is_key = 1;
            if (is_key) {
                size_t k = lim, end = n;
                for (; k + 8 <= n; k++)
                    if (!memcmp(s + k, "-----END", 8)) {
                        const char *e = memchr(s + k + 8, '-', n - k - 8);
                        end = e ? (size_t)(e - s) : n;
                        while (end < n && s[end] == '-')
                            end++;
                        break;
                    }
                if (add_span(m, i, end, "SECRET", 0) < 0)
                    return -1;
                i = end;
                continue;
            }
        }
        /* Bearer tokens: keep the word, replace the token. */
        if ((s[i] == 'b' || s[i] == 'B') && starts_ci(s, n, i, "bearer ")) {
            size_t k = i + 7, t = k;
            while (t < n && (is_tok((unsigned char)s[t]) || strchr("._~+/=", s[t])))
                t++;
            if (t - k >= 16) {
                if (add_span(m, k, t, "SECRET", 0) < 0)
                    return -1;
                i = t;
                continue;
            }
        }
        /* JSON Web Tokens. */
        if (i + 3 < n && !memcmp(s + i, "eyJ", 3)) {
            size_t a = tok_run(s, n, i);
            if (a >= 10 && i + a < n && s[i + a] == '.') {
                size_t b = tok_run(s, n, i + a + 1);
                if (b >= 10 && i + a + 1 + b < n && s[i + a + 1 + b] == '.') {
                    size_t c = tok_run(s, n, i + a + 2 + b);
                    size_t end = i + a + 2 + b + c;
                    if (add_span(m, i, end, "SECRET", 0) < 0)
                        return -1;
                    i = end;
                    continue;
                }
            }
        }
        /* Cloud access key ids: AKIA/ASIA + 16 upper-case letters or digits. */
        if (i + 20 <= n && (!memcmp(s + i, "AKIA", 4) || !memcmp(s + i, "ASIA", 4))) {
            size_t k = i + 4;
            while (k < n && k < i + 20 && ((s[k] >= 'A' && s[k] <= 'Z') || is_digit((unsigned char)s[k])))
                k++;
            if (k == i + 20 && (k >= n || !is_alnum((unsigned char)s[k]))) {
                if (add_span(m, i, k, "SECRET", 0) < 0)
                    return -1;
                i = k;
                continue;
            }
        }
        for (size_t p = 0; p < sizeof key_prefixes / sizeof key_prefixes[0]; p++) {
            size_t pl = key_prefixes[p].len;
            if (s[i] != key_prefixes[p].prefix[0] || i + pl > n ||
                memcmp(s + i, key_prefixes[p].prefix, pl) != 0)
                continue;
            size_t body = tok_run(s, n, i + pl);
            if (body >= key_prefixes[p].min_body) {
                if (add_span(m, i, i + pl + body, "SECRET", 0) < 0)
                    return -1;
                i += pl + body;
                break;
            }
        }
        if (i >= n)
            break;
        /* key=value / "key": "value" for well-known secret names. */
        int lc = s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i];
        for (size_t w = 0; w < sizeof secret_keywords / sizeof secret_keywords[0]; w++) {
            if (lc != secret_keywords[w][0] || !starts_ci(s, n, i, secret_keywords[w]))
                continue;
            size_t k = i + strlen(secret_keywords[w]);
            if (k < n && is_alnum((unsigned char)s[k]))
                break;
            while (k < n && (s[k] == '"' || s[k] == '\'' || s[k] == ' '))
                k++;
            if (k >= n || (s[k] != '=' && s[k] != ':'))
                break;
            k++;
            while (k < n && (s[k] == ' ' || s[k] == '"' || s[k] == '\''))
                k++;
            size_t v = k;
            while (v < n && s[v] != '"' && s[v] != '\'' && s[v] != ' ' && s[v] != ',' &&
                   s[v] != '\n' && s[v] != '}' && s[v] != '&' && s[v] != ';')
                v++;
            if (v - k >= 8) {
                if (add_span(m, k, v, "SECRET", 0) < 0)
                    return -1;
                i = v;
            }
            break;
        }
    }
    return 0;
}

static int run_rules(fwr_redactor *r, const char *s, size_t n)
{
    for (size_t k = 0; k < r->n_rules; k++) {
        PCRE2_SIZE start = 0;
        while (start <= n) {
            int rc = pcre2_match(r->rules[k].code, (PCRE2_SPTR)s, n, start, PCRE2_NO_UTF_CHECK,
                                 r->md, NULL);
            if (rc < 0)
                break;
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
            if (ov[1] > ov[0]) {
                if (add_span(&r->m, ov[0], ov[1], r->rules[k].label, 0) < 0)
                    return -1;
                start = ov[1];
            } else {
                start = ov[1] + 1; /* empty match: step over one byte */
                while (start < n && ((unsigned char)s[start] & 0xC0) == 0x80)
                    start++;
            }
        }
    }
    return 0;
}

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

int fwr_apply(fwr_redactor *r, const char *text, size_t len, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    fwr_matches *m = &r->m;
    clear_matches(m);
    m->text_len = len;
    int rc = 0;
    if ((r->detectors & FWR_SECRET) && detect_secret(m, text, len) < 0)
        rc = -1;
    if (!rc && (r->detectors & FWR_CARD) && detect_card(m, text, len) < 0)
        rc = -1;
    if (!rc && (r->detectors & FWR_EMAIL) && detect_email(m, text, len) < 0)
        rc = -1;
    if (!rc && (r->detectors & FWR_IPV4) && detect_ipv4(m, text, len) < 0)
        rc = -1;
    if (!rc && (r->detectors & FWR_PHONE) && detect_phone(m, text, len) < 0)
        rc = -1;
    if (!rc && run_rules(r, text, len) < 0)
        rc = -1;
    if (!rc && r->cb)
        r->cb(r->cb_opaque, text, len, m);
    if (rc || m->oom) {
        clear_matches(m);
        return -1;
    }
    if (m->n == 0)
        return 0;
    qsort(m->v, m->n, sizeof *m->v, cmp_span);
    size_t size = len + 1;
    for (size_t i = 0; i < m->n; i++)
        size += strlen(m->v[i].label) + 2;
    char *o = malloc(size);
    if (!o) {
        clear_matches(m);
        return -1;
    }
    size_t w = 0, pos = 0;
    for (size_t i = 0; i < m->n; i++) {
        memcpy(o + w, text + pos, m->v[i].start - pos);
        w += m->v[i].start - pos;
        o[w++] = '[';
        size_t ll = strlen(m->v[i].label);
        memcpy(o + w, m->v[i].label, ll);
        w += ll;
        o[w++] = ']';
        pos = m->v[i].end;
    }
    memcpy(o + w, text + pos, len - pos);
    w += len - pos;
    o[w] = '\0';
    int count = (int)m->n;
    clear_matches(m);
    *out = o;
    *out_len = w;
    return count;
}
