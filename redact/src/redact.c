/*
 * redact — built-in detectors, operator rules and the replacement pass; the
 * rules for choosing spans and the shape of the single scanning pass are
 * described in redact.h.
 *
 * Each detector is a "try at position i" function that returns the first
 * position it will look at again (its own skip after a match or a failed
 * attempt), so the shared pass reproduces exactly what one independent scan
 * per detector would find. Candidates carry a rank (their detector's
 * priority); resolve() applies the priority rule afterwards.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "redact.h"

#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

typedef struct {
    size_t start, end;
    const char *label; /* static, rule-owned, or owned by the match list */
    uint32_t label_len;
    uint16_t rank;
    uint8_t owned;
} span;

/* Candidates, in the order they were found. */
struct fw_redact_match_s {
    span *v;
    size_t n, cap;
    size_t text_len;
    uint16_t rank; /* rank of spans added by the callback */
    int oom;
};

typedef struct {
    char *label; /* upper-cased */
    pcre2_code *code;
    int jit; /* JIT-compiled: pcre2_jit_match */
} rule;

enum { RANK_SECRET, RANK_CARD, RANK_EMAIL, RANK_IPV4, RANK_PHONE, RANK_RULES };

struct fwr_redactor {
    unsigned detectors;
    rule *rules;
    size_t n_rules;
    pcre2_match_data *md;
    fwr_cb *cb;
    void *cb_opaque;
    fwr_matches m; /* candidates, reused */
    span *acc;     /* chosen spans sorted by start, reused */
    size_t n_acc, cap_acc;
    span *tmp; /* scratch of m.cap spans, reused */
    size_t cap_tmp;
    size_t *count; /* per rank, reused */
    size_t cap_count;
};

/* ---- character classes ---------------------------------------------------- */

enum {
    C_DIGIT = 1,
    C_ALPHA = 2,
    C_ALNUM = 3,
    C_TOK = 4,       /* alnum, '_', '-': keys and secrets */
    C_LOCAL = 8,     /* alnum and ._%+- : e-mail local part */
    C_DOMAIN = 16,   /* alnum, '-', '.': e-mail domain */
    C_BEARER = 32,   /* tok and ._~+/= : bearer token */
    C_UPPERDIG = 64, /* A-Z 0-9: cloud key ids */
    C_TRIG = 128     /* '@' '+' '(' '-': triggers other than word starts */
};

#define R_(a, b, v) [a... b] = (v)
static const unsigned char ctab[256] = {
    R_('0', '9', C_DIGIT | C_TOK | C_LOCAL | C_DOMAIN | C_BEARER | C_UPPERDIG),
    R_('A', 'Z', C_ALPHA | C_TOK | C_LOCAL | C_DOMAIN | C_BEARER | C_UPPERDIG),
    R_('a', 'z', C_ALPHA | C_TOK | C_LOCAL | C_DOMAIN | C_BEARER),
    ['_'] = C_TOK | C_LOCAL | C_BEARER,
    ['-'] = C_TOK | C_LOCAL | C_DOMAIN | C_BEARER | C_TRIG,
    ['.'] = C_LOCAL | C_DOMAIN | C_BEARER,
    ['%'] = C_LOCAL,
    ['+'] = C_LOCAL | C_BEARER | C_TRIG,
    ['@'] = C_TRIG,
    ['('] = C_TRIG,
    ['~'] = C_BEARER,
    ['/'] = C_BEARER,
    ['='] = C_BEARER,
};
#undef R_

static inline int cls(const char *s, size_t i, unsigned c)
{
    return ctab[(unsigned char)s[i]] & c;
}
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
    return ctab[(unsigned char)c] & C_ALNUM;
}

/*
 * Secret prefilter: for each byte a secret can start with, the set of second
 * bytes (case-folded letters, bit 26 = '-', as nb[] below) that some secret shape continues
 * with: "-----BEGIN", bearer, eyJ, AKIA/ASIA/AIza, sk-/sk_live_/sk_test_,
 * rk_/pk_live_, gh?_/github_pat_/glpat-, xox?-, hf_, and the key words
 * api_key/apikey/api-key/access_token/secret/password/passwd/token in either
 * case. A superset is harmless (try_secret() decides); a miss is a bug.
 */
#define L_(c) (1u << ((c) - 'a'))
static const uint32_t sec2[256] = {
    ['-'] = 1u << 26,
    ['b'] = L_('e'),
    ['B'] = L_('e'),
    ['e'] = L_('y'),
    ['A'] = L_('k') | L_('s') | L_('i') | L_('p') | L_('c'),
    ['a'] = L_('p') | L_('c'),
    ['s'] = L_('k') | L_('e'),
    ['S'] = L_('e'),
    ['r'] = L_('k'),
    ['p'] = L_('k') | L_('a'),
    ['P'] = L_('a'),
    ['g'] = L_('h') | L_('i') | L_('l'),
    ['x'] = L_('o'),
    ['h'] = L_('f'),
    ['t'] = L_('o'),
    ['T'] = L_('o'),
};
#undef L_

/* ---- redactor ------------------------------------------------------------ */

fwr_redactor *fwr_new(unsigned detectors)
{
    fwr_redactor *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->detectors = detectors;
    return r;
}

static void clear_matches(fwr_redactor *r)
{
    fwr_matches *m = &r->m;
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].owned)
            free((void *)(uintptr_t)m->v[i].label);
    m->n = 0;
    m->oom = 0;
    r->n_acc = 0;
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
    clear_matches(r);
    free(r->m.v);
    free(r->acc);
    free(r->tmp);
    free(r->count);
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

int fwr_add_regex(fwr_redactor *r, const char *label, const char *pattern, char *err, size_t size)
{
    pcre2_code *re = compile(pattern, err, size);
    if (!re)
        return -1;
    /* Optional: without a JIT for this machine the interpreter is used. */
    int jit = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
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
    nr[r->n_rules].jit = jit;
    r->n_rules++;
    return 0;
}

void fwr_set_callback(fwr_redactor *r, fwr_cb *cb, void *opaque)
{
    r->cb = cb;
    r->cb_opaque = opaque;
}

/* Appends a candidate. 0, or -2 when out of memory (the label, if owned, is
 * freed). */
static int push(fwr_matches *m, size_t start, size_t end, const char *label, uint16_t rank,
                int owned)
{
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
    m->v[m->n++] = (span){start, end, label, (uint32_t)strlen(label), rank, (uint8_t)owned};
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
    return push(m, offset, offset + length, lab ? lab : "REDACTED", m->rank, lab != NULL);
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

/* ---- detectors: "try at i", returning the next position to try ---------- */

/* s[at] == '@'. */
static size_t try_email(fwr_matches *m, const char *s, size_t n, size_t at)
{
    size_t a = at;
    while (a > 0 && cls(s, a - 1, C_LOCAL))
        a--;
    while (a < at && s[a] == '.')
        a++;
    if (a == at)
        return at + 1;
    size_t b = at + 1, last_dot = 0;
    while (b < n && cls(s, b, C_DOMAIN)) {
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
        return at + 1;
    for (size_t k = last_dot + 1; k < b; k++)
        if (!is_alpha((unsigned char)s[k]))
            return at + 1;
    if (push(m, a, b, "EMAIL", RANK_EMAIL, 0) < 0)
        return SIZE_MAX;
    return b + 1;
}

/* Card numbers: 13 to 19 digits, single spaces or dashes between them, a
 * whole run (not part of a longer number or word), Luhn-valid. s[i] is a
 * digit at a run start. */
static size_t try_card(fwr_matches *m, const char *s, size_t n, size_t i)
{
    char digits[20];
    size_t nd = 0, j = i, last = i;
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
    int boundary = last + 1 >= n || !is_alnum(s[last + 1]);
    if (nd <= 19 && nd >= 13 && boundary && fwr_luhn_ok(digits, nd))
        if (push(m, i, last + 1, "CARD", RANK_CARD, 0) < 0)
            return SIZE_MAX;
    return last + 1;
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

/* s[i] is a digit at a run start. */
static size_t try_ipv4(fwr_matches *m, const char *s, size_t n, size_t i)
{
    size_t k = i;
    for (int part = 0; part < 4; part++) {
        if (octet(s, n, &k) < 0)
            return i + 1;
        if (part < 3) {
            if (k < n && s[k] == '.')
                k++;
            else
                return i + 1;
        }
    }
    if (k < n &&
        (is_alnum(s[k]) || (s[k] == '.' && k + 1 < n && is_digit((unsigned char)s[k + 1]))))
        return i + 1;
    if (push(m, i, k, "IP", RANK_IPV4, 0) < 0)
        return SIZE_MAX;
    return k + 1;
}

/* s[i] is '+', '(' or a digit, not after a letter, digit, '.', '+' or '-'. */
static size_t try_phone(fwr_matches *m, const char *s, size_t n, size_t i)
{
    int plus = s[i] == '+';
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
        return i + 1;
    int boundary = last + 1 >= n || !is_alnum(s[last + 1]);
    int shaped = plus ? nd >= 8 : (nd >= 10 && seps >= 2);
    if (nd <= 15 && boundary && shaped && push(m, i, last + 1, "PHONE", RANK_PHONE, 0) < 0)
        return SIZE_MAX;
    return (last > i ? last : i) + 1;
}

static size_t tok_run(const char *s, size_t n, size_t i)
{
    size_t k = i;
    while (k < n && cls(s, k, C_TOK))
        k++;
    return k - i;
}

static int starts_ci(const char *s, size_t n, size_t i, const char *w, size_t l)
{
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

#define P(s, n)                                                                                    \
    {                                                                                              \
        s, sizeof(s) - 1, n                                                                        \
    }
/* Grouped by first byte; prefix_range() finds a byte's group. */
static const struct {
    const char *prefix;
    size_t len;
    size_t min_body;
} key_prefixes[] = {
    P("sk-", 20),      P("sk_live_", 16),    P("sk_test_", 16), /* s: 0-2 */
    P("rk_live_", 16),                                          /* r: 3 */
    P("pk_live_", 16),                                          /* p: 4 */
    P("ghp_", 30),     P("gho_", 30),        P("ghu_", 30),     P("ghs_", 30),
    P("ghr_", 30),     P("github_pat_", 30), P("glpat-", 20),                   /* g: 5-11 */
    P("xoxb-", 10),    P("xoxp-", 10),       P("xoxa-", 10),    P("xoxs-", 10), /* x: 12-15 */
    P("hf_", 30),                                                               /* h: 16 */
    P("AIza", 35),                                                              /* A: 17 */
};
#undef P
/* Key words, compared case-insensitively; grouped by first letter. */
static const struct {
    const char *word;
    size_t len;
} secret_keywords[] = {{"api_key", 7},  {"apikey", 6}, {"api-key", 7}, {"access_token", 12}, /* a */
                       {"secret", 6},                                                        /* s */
                       {"password", 8}, {"passwd", 6},                                       /* p */
                       {"token", 5}};                                                        /* t */

static void prefix_range(int c, size_t *lo, size_t *hi)
{
    switch (c) {
    case 's':
        *lo = 0, *hi = 3;
        return;
    case 'r':
        *lo = 3, *hi = 4;
        return;
    case 'p':
        *lo = 4, *hi = 5;
        return;
    case 'g':
        *lo = 5, *hi = 12;
        return;
    case 'x':
        *lo = 12, *hi = 16;
        return;
    case 'h':
        *lo = 16, *hi = 17;
        return;
    case 'A':
        *lo = 17, *hi = 18;
        return;
    default:
        *lo = *hi = 0;
        return;
    }
}

static void keyword_range(int lc, size_t *lo, size_t *hi)
{
    switch (lc) {
    case 'a':
        *lo = 0, *hi = 4;
        return;
    case 's':
        *lo = 4, *hi = 5;
        return;
    case 'p':
        *lo = 5, *hi = 7;
        return;
    case 't':
        *lo = 7, *hi = 8;
        return;
    default:
        *lo = *hi = 0;
        return;
    }
}

/* s[i] starts a word (or is '-' after a non-alphanumeric byte) and passed
 * the sec2 prefilter. */
static size_t try_secret(fwr_matches *m, const char *s, size_t n, size_t i)
{
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
            if (push(m, i, end, "SECRET", RANK_SECRET, 0) < 0)
                return SIZE_MAX;
            return end + 1;
        }
    }
    /* Bearer tokens: keep the word, replace the token. */
    if ((s[i] == 'b' || s[i] == 'B') && starts_ci(s, n, i, "bearer ", 7)) {
        size_t k = i + 7, t = k;
        while (t < n && cls(s, t, C_BEARER))
            t++;
        if (t - k >= 16) {
            if (push(m, k, t, "SECRET", RANK_SECRET, 0) < 0)
                return SIZE_MAX;
            return t + 1;
        }
    }
    /* JSON Web Tokens. */
    if (s[i] == 'e' && i + 3 < n && s[i + 1] == 'y' && s[i + 2] == 'J') {
        size_t a = tok_run(s, n, i);
        if (a >= 10 && i + a < n && s[i + a] == '.') {
            size_t b = tok_run(s, n, i + a + 1);
            if (b >= 10 && i + a + 1 + b < n && s[i + a + 1 + b] == '.') {
                size_t c = tok_run(s, n, i + a + 2 + b);
                size_t end = i + a + 2 + b + c;
                if (push(m, i, end, "SECRET", RANK_SECRET, 0) < 0)
                    return SIZE_MAX;
                return end + 1;
            }
        }
    }
    /* Cloud access key ids: AKIA/ASIA + 16 upper-case letters or digits. */
    if (s[i] == 'A' && i + 20 <= n && (!memcmp(s + i, "AKIA", 4) || !memcmp(s + i, "ASIA", 4))) {
        size_t k = i + 4;
        while (k < n && k < i + 20 && cls(s, k, C_UPPERDIG))
            k++;
        if (k == i + 20 && (k >= n || !is_alnum(s[k]))) {
            if (push(m, i, k, "SECRET", RANK_SECRET, 0) < 0)
                return SIZE_MAX;
            return k + 1;
        }
    }
    size_t lo, hi;
    prefix_range((unsigned char)s[i], &lo, &hi);
    for (size_t p = lo; p < hi; p++) {
        size_t pl = key_prefixes[p].len;
        if (i + pl > n || memcmp(s + i, key_prefixes[p].prefix, pl) != 0)
            continue;
        size_t body = tok_run(s, n, i + pl);
        if (body >= key_prefixes[p].min_body) {
            if (push(m, i, i + pl + body, "SECRET", RANK_SECRET, 0) < 0)
                return SIZE_MAX;
            /* The byte after the key is not a token byte, so no key word
             * can start there. */
            return i + pl + body + 1;
        }
    }
    /* key=value / "key": "value" for well-known secret names. */
    int lc = s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i];
    keyword_range(lc, &lo, &hi);
    for (size_t w = lo; w < hi; w++) {
        if (!starts_ci(s, n, i, secret_keywords[w].word, secret_keywords[w].len))
            continue;
        size_t k = i + secret_keywords[w].len;
        if (k < n && is_alnum(s[k]))
            break;
        while (k < n && (s[k] == '"' || s[k] == '\'' || s[k] == ' '))
            k++;
        if (k >= n || (s[k] != '=' && s[k] != ':'))
            break;
        k++;
        while (k < n && (s[k] == ' ' || s[k] == '"' || s[k] == '\''))
            k++;
        size_t v = k;
        while (v < n && s[v] != '"' && s[v] != '\'' && s[v] != ' ' && s[v] != ',' && s[v] != '\n' &&
               s[v] != '}' && s[v] != '&' && s[v] != ';')
            v++;
        if (v - k >= 8) {
            if (push(m, k, v, "SECRET", RANK_SECRET, 0) < 0)
                return SIZE_MAX;
            return v + 1;
        }
        break;
    }
    return i + 1;
}

/*
 * The shared pass. A detector can only trigger at a word start (an
 * alphanumeric byte not preceded by one), at '@', or at '+' '(' '-' not
 * preceded by an alphanumeric byte; every other byte is inert. So the pass
 * works on 64-byte blocks: it computes the bit mask of those positions with
 * vector compares (SSE2 on x86-64, a table loop elsewhere) and visits only
 * the set bits, in increasing order, with the per-position logic below. At a
 * letter a two-table test (first byte, folded second byte) rejects all but
 * the few words a secret can start with, without a branch per test. next[d]
 * is the first position detector d looks at again, so visiting the same
 * positions in the same order finds exactly what one scan per detector
 * would.
 */
typedef struct {
    size_t sec, card, mail, ip, phone;
} nexts;

/*
 * The prefilter as table lookups, without a branch per test. fx[] numbers
 * the bytes a secret's first three bytes can be (case-folded letters 1-26,
 * '-' 27, '_' 28; 0 for the rest) and nb[] is the bit of that byte (1 <<
 * (fx - 1)), so sec2[first] & nb[second] is the two-byte test above, and
 * sec3[fx[first] * 32 + fx[second]] & nb[third] a third-byte test that
 * rejects ordinary words such as "total", "sku" and "account". The same
 * rule: a superset of what try_secret() matches.
 */
#define F_(c) [c] = (c) - 'a' + 1, [(c)-32] = (c) - 'a' + 1
static const uint8_t fx[256] = {
    F_('a'), F_('b'), F_('c'), F_('d'), F_('e'), F_('f'), F_('g'),    F_('h'),    F_('i'), F_('j'),
    F_('k'), F_('l'), F_('m'), F_('n'), F_('o'), F_('p'), F_('q'),    F_('r'),    F_('s'), F_('t'),
    F_('u'), F_('v'), F_('w'), F_('x'), F_('y'), F_('z'), ['-'] = 27, ['_'] = 28,
};
#undef F_
#define F_(c) [c] = 1u << ((c) - 'a'), [(c)-32] = 1u << ((c) - 'a')
static const uint32_t nb[256] = {
    F_('a'), F_('b'), F_('c'), F_('d'), F_('e'), F_('f'),          F_('g'),
    F_('h'), F_('i'), F_('j'), F_('k'), F_('l'), F_('m'),          F_('n'),
    F_('o'), F_('p'), F_('q'), F_('r'), F_('s'), F_('t'),          F_('u'),
    F_('v'), F_('w'), F_('x'), F_('y'), F_('z'), ['-'] = 1u << 26, ['_'] = 1u << 27,
};
#undef F_
#define K_(a, b) [((a) - 'a' + 1) * 32 + (b) - 'a' + 1]
#define B_(c)    (1u << ((c) - 'a'))
#define DASH_    (1u << 26)
#define UNDER_   (1u << 27)
static const uint32_t sec3[28 * 32] = {
    K_('b', 'e') = B_('a'), /* bearer */
    K_('e', 'y') = B_('j'), /* eyJ */
    K_('a', 'k') = B_('i'), /* AKIA */
    K_('a', 's') = B_('i'), /* ASIA */
    K_('a', 'i') = B_('z'), /* AIza */
    K_('a', 'p') = B_('i'), /* api_key, apikey, api-key */
    K_('a', 'c') = B_('c'), /* access_token */
    K_('s', 'k') = DASH_ | UNDER_,
    K_('s', 'e') = B_('c'), /* secret */
    K_('r', 'k') = UNDER_,
    K_('p', 'k') = UNDER_,
    K_('p', 'a') = B_('s'), /* password, passwd */
    K_('g', 'h') = B_('p') | B_('o') | B_('u') | B_('s') | B_('r'),
    K_('g', 'i') = B_('t'), /* github_pat_ */
    K_('g', 'l') = B_('p'), /* glpat- */
    K_('x', 'o') = B_('x'),
    K_('h', 'f') = UNDER_,
    K_('t', 'o') = B_('k'), /* token */
};
#undef K_
#undef B_
#undef DASH_
#undef UNDER_

/* The prefilter for a word starting at s[i] with a letter. */
static inline int may_be_secret(const char *s, size_t n, size_t i)
{
    unsigned c1 = (unsigned char)s[i], c2 = (unsigned char)s[i + 1];
    if (!(sec2[c1] & nb[c2]))
        return 0;
    if (i + 2 >= n)
        return 1; /* too short to look further: try_secret() decides */
    return (sec3[fx[c1] * 32 + fx[c2]] & nb[(unsigned char)s[i + 2]]) != 0;
}

/* Visits position i, one of the trigger positions described above. Returns
 * 0, or -1 when out of memory. */
static inline __attribute__((always_inline)) int visit(fwr_matches *m, unsigned det, const char *s,
                                                       size_t n, size_t i, nexts *nx)
{
    unsigned c = (unsigned char)s[i];
    unsigned k = ctab[c];
    if (k & C_ALPHA) {
        if (i + 1 >= n || !may_be_secret(s, n, i))
            return 0; /* the common case: an ordinary word */
        if ((det & FWR_SECRET) && i >= nx->sec)
            nx->sec = try_secret(m, s, n, i);
    } else if (k & C_DIGIT) {
        int p = i ? (unsigned char)s[i - 1] : 0;
        if ((det & FWR_CARD) && i >= nx->card && p != '.' && p != '-')
            nx->card = try_card(m, s, n, i);
        if ((det & FWR_IPV4) && i >= nx->ip && p != '.')
            nx->ip = try_ipv4(m, s, n, i);
        if ((det & FWR_PHONE) && i >= nx->phone && p != '.' && p != '+' && p != '-')
            nx->phone = try_phone(m, s, n, i);
    } else if (c == '@') {
        if ((det & FWR_EMAIL) && i >= nx->mail)
            nx->mail = try_email(m, s, n, i);
    } else {
        int p = i ? (unsigned char)s[i - 1] : 0;
        if (c == '-') {
            if ((det & FWR_SECRET) && i >= nx->sec && i + 1 < n && s[i + 1] == '-')
                nx->sec = try_secret(m, s, n, i);
        } else if ((det & FWR_PHONE) && i >= nx->phone && p != '.' && p != '+' && p != '-') {
            nx->phone = try_phone(m, s, n, i);
        }
    }
    return m->oom ? -1 : 0;
}

/* Trigger masks of one block of up to 64 bytes: bit j is about s[j]. */
typedef struct {
    uint64_t alnum; /* a letter or digit */
    uint64_t sel;   /* a word start here is worth a visit (a superset) */
    uint64_t at;    /* '@' */
    uint64_t trig;  /* '+' '(' '-' */
} masks;

static inline void masks_scalar(const char *s, size_t len, masks *k)
{
    uint64_t a = 0, t = 0, e = 0;
    for (size_t j = 0; j < len; j++) {
        unsigned c = (unsigned char)s[j];
        a |= (uint64_t)((ctab[c] & C_ALNUM) != 0) << j;
        e |= (uint64_t)(c == '@') << j;
        t |= (uint64_t)((ctab[c] & C_TRIG) != 0 && c != '@') << j;
    }
    k->alnum = a;
    k->sel = ~(uint64_t)0;
    k->at = e;
    k->trig = t;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FWR_X86 1
/* SSE2 (every x86-64): sixteen bytes at a time. A byte is in [lo, hi] when
 * its distance from lo, saturated at hi - lo, equals itself. */
static inline void masks_sse2(const char *s, masks *k)
{
    const __m128i d0 = _mm_set1_epi8('0'), d9 = _mm_set1_epi8(9);
    const __m128i la = _mm_set1_epi8('a'), l25 = _mm_set1_epi8(25), lc = _mm_set1_epi8(0x20);
    const __m128i ca = _mm_set1_epi8('@'), cp = _mm_set1_epi8('+'), co = _mm_set1_epi8('('),
                  cm = _mm_set1_epi8('-');
    uint64_t a = 0, e = 0, t = 0;
    for (int b = 0; b < 4; b++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * b));
        __m128i dd = _mm_sub_epi8(v, d0);
        __m128i isd = _mm_cmpeq_epi8(_mm_min_epu8(dd, d9), dd);
        __m128i ll = _mm_sub_epi8(_mm_or_si128(v, lc), la);
        __m128i isl = _mm_cmpeq_epi8(_mm_min_epu8(ll, l25), ll);
        __m128i tr = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, cp), _mm_cmpeq_epi8(v, co)),
                                  _mm_cmpeq_epi8(v, cm));
        a |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_or_si128(isd, isl)) << (16 * b);
        e |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, ca)) << (16 * b);
        t |= (uint64_t)(uint16_t)_mm_movemask_epi8(tr) << (16 * b);
    }
    k->alnum = a;
    k->sel = ~(uint64_t)0;
    k->at = e;
    k->trig = t;
}

/*
 * AVX2: 32 bytes at a time, every class by nibble lookup ("shufti"): a byte
 * is in class b when bit b is set both in LO[its low nibble] and in HI[its
 * high nibble], which describes each class below exactly:
 *   D  digits               hi 3,   lo 0-9
 *   L1 letters A-O, a-o     hi 4/6, lo 1-15
 *   L2 letters P-Z, p-z     hi 5/7, lo 0-10
 *   AT '@'                  hi 4,   lo 0
 *   TR '(' '+' '-'          hi 2,   lo 8, b, d
 *   F1 first bytes of a secret (sec2) with hi 4/6: lo 1 2 5 7 8  (A B E G H / a b e g h)
 *   F2 ... with hi 5/7: lo 0 2 3 4 8 (P R S T X / p r s t x)
 * F1 and F2 admit a few upper-case letters sec2 does not (a superset, as
 * allowed). A second lookup gives the second-byte set (nb[] bits of sec2):
 *   G1 hi 4/6: lo 1 3 5 6 8 9 b c f (a c e f h i k l o), G2 hi 5/7: lo 0 3 9
 *   (p s y), G3 '-'.
 * A letter word start is visited only when its byte is in F1|F2 and the
 * next byte in G1|G2|G3; digits always.
 */
enum { S_D = 1, S_L1 = 2, S_L2 = 4, S_AT = 8, S_TR = 16, S_F1 = 32, S_F2 = 64 };
enum { S_G1 = 1, S_G2 = 2, S_G3 = 4 };
#define X16(...) __VA_ARGS__, __VA_ARGS__
__attribute__((target("avx2"))) static inline void masks_avx2(const char *s, masks *k)
{
    const __m256i lo1 = _mm256_setr_epi8(
        X16(S_D | S_L2 | S_AT | S_F2, S_D | S_L1 | S_L2 | S_F1, S_D | S_L1 | S_L2 | S_F1 | S_F2,
            S_D | S_L1 | S_L2 | S_F2, S_D | S_L1 | S_L2 | S_F2, S_D | S_L1 | S_L2 | S_F1,
            S_D | S_L1 | S_L2, S_D | S_L1 | S_L2 | S_F1, S_D | S_L1 | S_L2 | S_TR | S_F1 | S_F2,
            S_D | S_L1 | S_L2, S_L1 | S_L2, S_L1 | S_TR, S_L1, S_L1 | S_TR, S_L1, S_L1));
    const __m256i hi1 = _mm256_setr_epi8(X16(0, 0, S_TR, S_D, S_L1 | S_AT | S_F1, S_L2 | S_F2,
                                             S_L1 | S_F1, S_L2 | S_F2, 0, 0, 0, 0, 0, 0, 0, 0));
    const __m256i lo2 = _mm256_setr_epi8(X16(S_G2, S_G1, 0, S_G1 | S_G2, 0, S_G1, S_G1, 0, S_G1,
                                             S_G1 | S_G2, 0, S_G1, S_G1, S_G3, 0, S_G1));
    const __m256i hi2 =
        _mm256_setr_epi8(X16(0, 0, S_G3, 0, S_G1, S_G2, S_G1, S_G2, 0, 0, 0, 0, 0, 0, 0, 0));
    const __m256i nib = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
    const __m256i c_alnum = _mm256_set1_epi8(S_D | S_L1 | S_L2);
    const __m256i c_first = _mm256_set1_epi8(S_F1 | S_F2);
    uint64_t a = 0, d = 0, e = 0, t = 0, f = 0, g = 0;
    for (int b = 0; b < 2; b++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(s + 32 * b));
        __m256i lo = _mm256_and_si256(v, nib);
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
        __m256i x = _mm256_and_si256(_mm256_shuffle_epi8(lo1, lo), _mm256_shuffle_epi8(hi1, hi));
        __m256i y = _mm256_and_si256(_mm256_shuffle_epi8(lo2, lo), _mm256_shuffle_epi8(hi2, hi));
        int sh = 32 * b;
        /* Class bit j moved to bit 7 of its byte, where movemask reads it. */
        a |= (uint64_t)(uint32_t)~_mm256_movemask_epi8(
                 _mm256_cmpeq_epi8(_mm256_and_si256(x, c_alnum), zero))
             << sh;
        d |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_slli_epi16(x, 7)) << sh;
        e |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_slli_epi16(x, 4)) << sh;
        t |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_slli_epi16(x, 3)) << sh;
        f |= (uint64_t)(uint32_t)~_mm256_movemask_epi8(
                 _mm256_cmpeq_epi8(_mm256_and_si256(x, c_first), zero))
             << sh;
        g |= (uint64_t)(uint32_t)~_mm256_movemask_epi8(_mm256_cmpeq_epi8(y, zero)) << sh;
    }
    k->alnum = a;
    /* The byte after the block is not looked at: its bit counts as set. */
    k->sel = d | (f & (g >> 1 | (uint64_t)1 << 63));
    k->at = e;
    k->trig = t;
}
#undef X16
#endif

/* The pass over s[0, n) with a given block-mask function (inlined into
 * each instance below, so its constants stay in registers). Returns 0 or -1
 * (out of memory). */
#define SCAN_BODY(masks_64)                                                                        \
    nexts nx = {0, 0, 0, 0, 0};                                                                    \
    uint64_t carry = 0; /* 1 when the byte before the block is alphanumeric */                     \
    for (size_t base = 0; base < n; base += 64) {                                                  \
        masks k;                                                                                   \
        if (n - base >= 64) {                                                                      \
            masks_64(s + base, &k);                                                                \
        } else { /* the tail, padded with NULs: they trigger nothing */                            \
            char pad[64] = {0};                                                                    \
            memcpy(pad, s + base, n - base);                                                       \
            masks_64(pad, &k);                                                                     \
        }                                                                                          \
        uint64_t after_alnum = k.alnum << 1 | carry;                                               \
        carry = k.alnum >> 63;                                                                     \
        uint64_t todo = (k.alnum & ~after_alnum & k.sel) | k.at | (k.trig & ~after_alnum);         \
        while (todo) {                                                                             \
            size_t i = base + (size_t)__builtin_ctzll(todo);                                       \
            todo &= todo - 1;                                                                      \
            if (visit(m, det, s, n, i, &nx) < 0)                                                   \
                return -1;                                                                         \
        }                                                                                          \
    }                                                                                              \
    return 0

static void masks_any(const char *s, masks *k)
{
    masks_scalar(s, 64, k);
}
static int scan_scalar(fwr_matches *m, unsigned det, const char *s, size_t n)
{
    SCAN_BODY(masks_any);
}

static int scan_limit = 2; /* fwr_scan_level() */

#ifdef FWR_X86
static int scan_sse2(fwr_matches *m, unsigned det, const char *s, size_t n)
{
    SCAN_BODY(masks_sse2);
}
__attribute__((target("avx2"))) static int scan_avx2(fwr_matches *m, unsigned det, const char *s,
                                                     size_t n)
{
    SCAN_BODY(masks_avx2);
}
static int cpu_level(void)
{
    return __builtin_cpu_supports("avx2") ? 2 : 1;
}
#else
static int cpu_level(void)
{
    return 0;
}
#endif

int fwr_scan_level(int limit)
{
    if (limit >= 0)
        scan_limit = limit;
    int level = cpu_level();
    return level < scan_limit ? level : scan_limit;
}

static int scan(fwr_matches *m, unsigned det, const char *s, size_t n)
{
    int level = cpu_level();
    if (level > scan_limit)
        level = scan_limit;
#ifdef FWR_X86
    if (level == 2)
        return scan_avx2(m, det, s, n);
    if (level == 1)
        return scan_sse2(m, det, s, n);
#endif
    return scan_scalar(m, det, s, n);
}
#undef SCAN_BODY

static int run_rules(fwr_redactor *r, const char *s, size_t n)
{
    for (size_t k = 0; k < r->n_rules; k++) {
        const rule *ru = &r->rules[k];
        PCRE2_SIZE start = 0;
        while (start <= n) {
            int rc = ru->jit ? pcre2_jit_match(ru->code, (PCRE2_SPTR)s, n, start, 0, r->md, NULL)
                             : pcre2_match(ru->code, (PCRE2_SPTR)s, n, start, PCRE2_NO_UTF_CHECK,
                                           r->md, NULL);
            if (rc < 0)
                break;
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
            if (ov[1] > ov[0]) {
                if (push(&r->m, ov[0], ov[1], ru->label, (uint16_t)(RANK_RULES + k), 0) < 0)
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

static int grow(span **v, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    span *nv = realloc(*v, nc * sizeof *nv);
    if (!nv)
        return -1;
    *v = nv;
    *cap = nc;
    return 0;
}

/* Index of the first chosen span that ends after pos (ends are sorted too,
 * chosen spans do not overlap). */
static size_t first_ending_after(const span *acc, size_t n, size_t pos)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (acc[mid].end <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Applies the priority rule: candidates are taken rank by rank (a stable
 * counting sort keeps discovery order within a rank), each one kept unless
 * it overlaps a span already kept. Detectors and rules find their spans in
 * increasing start order, so a rank is filtered and merged into the chosen
 * set in one linear walk; only a callback that adds spans out of order takes
 * the slower path (binary search and insertion per span).
 */
static int resolve(fwr_redactor *r)
{
    fwr_matches *m = &r->m;
    size_t n = m->n, ranks = RANK_RULES + r->n_rules + 1;
    if (grow(&r->tmp, &r->cap_tmp, n) < 0 || grow(&r->acc, &r->cap_acc, 2 * n) < 0)
        return -1;
    if (ranks > r->cap_count) {
        size_t *nc = realloc(r->count, (ranks + 1) * sizeof *nc);
        if (!nc)
            return -1;
        r->count = nc;
        r->cap_count = ranks;
    }
    size_t *cnt = r->count;
    memset(cnt, 0, (ranks + 1) * sizeof *cnt);
    for (size_t i = 0; i < n; i++)
        cnt[m->v[i].rank + 1]++;
    for (size_t k = 1; k <= ranks; k++)
        cnt[k] += cnt[k - 1];
    for (size_t i = 0; i < n; i++)
        r->tmp[cnt[m->v[i].rank]++] = m->v[i];
    /* cnt[k] is now the end of rank k's group. acc holds the chosen spans in
     * its first half; the second half is where a merge writes. */
    span *acc = r->acc, *out = r->acc + n;
    size_t n_acc = 0, g0 = 0;
    for (size_t k = 0; k < ranks; k++) {
        size_t g1 = cnt[k];
        if (g1 == g0)
            continue;
        int sorted = 1;
        for (size_t i = g0 + 1; i < g1 && sorted; i++)
            sorted = r->tmp[i].start >= r->tmp[i - 1].start;
        if (sorted) {
            size_t a = 0, w = 0, last_end = 0;
            int have_last = 0;
            for (size_t i = g0; i < g1; i++) {
                span c = r->tmp[i];
                while (a < n_acc && acc[a].end <= c.start)
                    out[w++] = acc[a++];
                if ((a < n_acc && acc[a].start < c.end) || (have_last && last_end > c.start))
                    continue; /* an owned label is freed with the candidates */
                out[w++] = c;
                last_end = c.end;
                have_last = 1;
            }
            while (a < n_acc)
                out[w++] = acc[a++];
            memcpy(acc, out, w * sizeof *acc);
            n_acc = w;
        } else {
            for (size_t i = g0; i < g1; i++) {
                span c = r->tmp[i];
                size_t j = first_ending_after(acc, n_acc, c.start);
                if (j < n_acc && acc[j].start < c.end)
                    continue;
                memmove(acc + j + 1, acc + j, (n_acc - j) * sizeof *acc);
                acc[j] = c;
                n_acc++;
            }
        }
        g0 = g1;
    }
    r->n_acc = n_acc;
    return 0;
}

int fwr_find(fwr_redactor *r, const char *text, size_t len, size_t *out_len)
{
    fwr_matches *m = &r->m;
    clear_matches(r);
    *out_len = len;
    m->text_len = len;
    if ((r->detectors & FWR_ALL) && scan(m, r->detectors, text, len) < 0)
        goto fail;
    if (r->n_rules && run_rules(r, text, len) < 0)
        goto fail;
    if (r->cb) {
        m->rank = (uint16_t)(RANK_RULES + r->n_rules);
        r->cb(r->cb_opaque, text, len, m);
    }
    if (m->oom)
        goto fail;
    if (m->n == 0)
        return 0;
    if (resolve(r) < 0)
        goto fail;
    size_t size = len;
    for (size_t i = 0; i < r->n_acc; i++)
        size = size - (r->acc[i].end - r->acc[i].start) + r->acc[i].label_len + 2;
    *out_len = size;
    return (int)r->n_acc;
fail:
    clear_matches(r);
    *out_len = len;
    return -1;
}

void fwr_render(const fwr_redactor *r, const char *text, size_t len, char *o)
{
    size_t w = 0, pos = 0;
    for (size_t i = 0; i < r->n_acc; i++) {
        const span *sp = &r->acc[i];
        memcpy(o + w, text + pos, sp->start - pos);
        w += sp->start - pos;
        o[w++] = '[';
        memcpy(o + w, sp->label, sp->label_len);
        w += sp->label_len;
        o[w++] = ']';
        pos = sp->end;
    }
    memcpy(o + w, text + pos, len - pos);
    w += len - pos;
    o[w] = '\0';
}

int fwr_apply(fwr_redactor *r, const char *text, size_t len, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    size_t size;
    int n = fwr_find(r, text, len, &size);
    if (n <= 0)
        return n;
    char *o = malloc(size + 1);
    if (!o) {
        clear_matches(r);
        return -1;
    }
    fwr_render(r, text, len, o);
    *out = o;
    *out_len = size;
    return n;
}
