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
 * bytes (case-folded letters, bit 26 = '-') that some secret shape continues
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

static inline unsigned fold2(unsigned c)
{
    unsigned l = c | 0x20;
    if (l - 'a' < 26)
        return l - 'a';
    return c == '-' ? 26 : 31;
}

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
 * The shared pass. Invariant: at the top of the loop, s[i] is not preceded
 * by an alphanumeric byte of the same word, i.e. an alphanumeric s[i] is a
 * word start, because the pass jumps over the rest of every word. next[d]
 * is the first position detector d looks at again. Returns 0 or -1 (out of
 * memory).
 */
static int scan(fwr_matches *m, unsigned det, const char *s, size_t n)
{
    size_t nx_sec = 0, nx_card = 0, nx_mail = 0, nx_ip = 0, nx_phone = 0;
    size_t i = 0;
    while (i < n) {
        unsigned c = (unsigned char)s[i];
        unsigned k = ctab[c];
        if (!(k & (C_ALNUM | C_TRIG))) {
            i++; /* blanks and punctuation: the common case */
            continue;
        }
        if (k & C_DIGIT) {
            int p = i ? (unsigned char)s[i - 1] : 0;
            if ((det & FWR_CARD) && i >= nx_card && p != '.' && p != '-')
                nx_card = try_card(m, s, n, i);
            if ((det & FWR_IPV4) && i >= nx_ip && p != '.')
                nx_ip = try_ipv4(m, s, n, i);
            if ((det & FWR_PHONE) && i >= nx_phone && p != '.' && p != '+' && p != '-')
                nx_phone = try_phone(m, s, n, i);
            if (m->oom)
                return -1;
        } else if (k & C_ALPHA) {
            uint32_t m2 = sec2[c];
            if (m2 && (det & FWR_SECRET) && i >= nx_sec && i + 1 < n &&
                (m2 & (1u << fold2((unsigned char)s[i + 1])))) {
                nx_sec = try_secret(m, s, n, i);
                if (m->oom)
                    return -1;
            }
        } else {
            if (c == '@') {
                if ((det & FWR_EMAIL) && i >= nx_mail)
                    nx_mail = try_email(m, s, n, i);
            } else if (i == 0 || !is_alnum(s[i - 1])) {
                int p = i ? (unsigned char)s[i - 1] : 0;
                if (c == '-') {
                    if ((det & FWR_SECRET) && i >= nx_sec && i + 1 < n && s[i + 1] == '-')
                        nx_sec = try_secret(m, s, n, i);
                } else if ((det & FWR_PHONE) && i >= nx_phone && p != '.' && p != '+' && p != '-') {
                    nx_phone = try_phone(m, s, n, i);
                }
            }
            if (m->oom)
                return -1;
            i++;
            continue;
        }
        /* Skip the rest of the word: nothing triggers after an alphanumeric. */
        i++;
        while (i < n && cls(s, i, C_ALNUM))
            i++;
    }
    return 0;
}

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
