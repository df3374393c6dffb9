/*
 * COPY text and JSON encoders; see copyenc.h. The escape tables are built
 * at compile time so the encoders are branch-light loops over bytes that
 * need nothing.
 */
#include "copyenc.h"

#include "fw_hex.h"
#include "fw_jsonesc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* 1 when the byte needs escaping in a COPY text value. */
static const uint8_t copy_esc[256] = {['\\'] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

/* 1 when the byte needs escaping in a quoted array element inside COPY. */
static const uint8_t arr_esc[256] = {['\\'] = 1, ['"'] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

static void copy_escape_byte(fw_buf *b, unsigned char c)
{
    switch (c) {
    case '\\':
        fw_buf_add(b, "\\\\", 2);
        break;
    case '\t':
        fw_buf_add(b, "\\t", 2);
        break;
    case '\n':
        fw_buf_add(b, "\\n", 2);
        break;
    case '\r':
        fw_buf_add(b, "\\r", 2);
        break;
    default:
        fw_buf_addc(b, (char)c);
        break;
    }
}

void fw_copy_text(fw_buf *b, const char *s, size_t n)
{
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (!copy_esc[c]) {
            i++;
            continue;
        }
        fw_buf_add(b, s + run, i - run);
        copy_escape_byte(b, c);
        run = ++i;
    }
    fw_buf_add(b, s + run, n - run);
}

void fw_copy_json_raw(fw_buf *b, const char *s, size_t n)
{
    fw_copy_text(b, s, n);
}

void fw_copy_json_string(fw_buf *b, const char *s, size_t n)
{
    fw_buf_addc(b, '"');
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (fw_json_byte_class[c] != 1) {
            i++;
            continue;
        }
        fw_buf_add(b, s + run, i - run);
        /* JSON's escape, with every backslash doubled for COPY. */
        char esc[6], out[12];
        size_t elen = fw_json_escape_byte(c, esc), olen = 0;
        for (size_t k = 0; k < elen; k++) {
            if (esc[k] == '\\')
                out[olen++] = '\\';
            out[olen++] = esc[k];
        }
        fw_buf_add(b, out, olen);
        run = ++i;
    }
    fw_buf_add(b, s + run, n - run);
    fw_buf_addc(b, '"');
}

void fw_copy_array_elem(fw_buf *b, const char *s, size_t n)
{
    fw_buf_addc(b, '"');
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (!arr_esc[c]) {
            i++;
            continue;
        }
        fw_buf_add(b, s + run, i - run);
        switch (c) {
        case '"':
            fw_buf_add(b, "\\\\\"", 3);
            break; /* array \" then COPY \\ */
        case '\\':
            fw_buf_add(b, "\\\\\\\\", 4);
            break; /* array \\ then COPY */
        default:
            copy_escape_byte(b, c);
            break;
        }
        run = ++i;
    }
    fw_buf_add(b, s + run, n - run);
    fw_buf_addc(b, '"');
}

void fw_put_double(fw_buf *b, double v)
{
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v)
        n = snprintf(tmp, sizeof tmp, "%.17g", v);
    fw_buf_add(b, tmp, (size_t)n);
}

void fw_put_i64(fw_buf *b, int64_t v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp, *p = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    fw_buf_add(b, p, (size_t)(e - p));
}

static void put_digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

static void put_timestamp(fw_buf *b, time_t secs, unsigned us)
{
    struct tm tm;
    gmtime_r(&secs, &tm);
    char t[30];
    put_digits(t, (unsigned)(tm.tm_year + 1900), 4);
    t[4] = '-';
    put_digits(t + 5, (unsigned)tm.tm_mon + 1, 2);
    t[7] = '-';
    put_digits(t + 8, (unsigned)tm.tm_mday, 2);
    t[10] = ' ';
    put_digits(t + 11, (unsigned)tm.tm_hour, 2);
    t[13] = ':';
    put_digits(t + 14, (unsigned)tm.tm_min, 2);
    t[16] = ':';
    put_digits(t + 17, (unsigned)tm.tm_sec, 2);
    t[19] = '.';
    put_digits(t + 20, us, 6);
    t[26] = '+';
    t[27] = '0';
    t[28] = '0';
    fw_buf_add(b, t, 29);
}

void fw_put_timestamp_ns(fw_buf *b, uint64_t ns)
{
    put_timestamp(b, (time_t)(ns / 1000000000u), (unsigned)(ns % 1000000000u / 1000u));
}

void fw_put_timestamp_ms(fw_buf *b, uint64_t ms)
{
    put_timestamp(b, (time_t)(ms / 1000u), (unsigned)(ms % 1000u) * 1000u);
}

void fw_put_uuid(fw_buf *b, const uint8_t id[16])
{
    char t[36];
    fw_uuid_format(t, id);
    fw_buf_add(b, t, 36);
}

void fw_put_hex(fw_buf *b, const uint8_t *p, size_t n)
{
    if (fw_buf_reserve(b, n * 2) != 0)
        return;
    b->len = (size_t)(fw_hex_encode(b->data + b->len, p, n) - b->data);
    b->data[b->len] = '\0';
}

void fw_copy_bytea(fw_buf *b, const uint8_t *p, size_t n)
{
    fw_buf_add(b, "\\\\x", 3);
    fw_put_hex(b, p, n);
}

/* ---- JSON syntax check ------------------------------------------------ */

typedef struct {
    const char *p, *end;
    int depth;
} jscan;

static void skip_ws(jscan *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int hex4(jscan *j, unsigned *out)
{
    if (fw_hex_u16(j->p, j->end, out) != 0)
        return 0;
    j->p += 4;
    return 1;
}

static int scan_string(jscan *j)
{
    j->p++; /* opening quote */
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p++;
        if (c == '"')
            return 1;
        if (c < 0x20)
            return 0;
        if (c != '\\')
            continue;
        if (j->p >= j->end)
            return 0;
        char e = *j->p++;
        if (e == 'u') {
            unsigned u;
            if (!hex4(j, &u) || u == 0)
                return 0;
            if (u >= 0xDC00 && u <= 0xDFFF)
                return 0;
            if (u >= 0xD800 && u <= 0xDBFF) {
                unsigned lo;
                if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                    return 0;
                j->p += 2;
                if (!hex4(j, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return 0;
            }
        } else if (!(e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                     e == 'r' || e == 't')) {
            return 0;
        }
    }
    return 0;
}

/*
 * jsonb stores a number as numeric, which PostgreSQL 15 refuses (SQLSTATE
 * 22003, "value overflows numeric format") when the value needs more than
 * 131072 digits before the decimal point (a leading digit of weight 10^131072
 * or more), or a display scale above 16383 digits after it (fraction digits
 * minus the exponent, zeros included: "0e-16384" is refused), or when the
 * exponent is 2^30 - 1 or more in magnitude, whatever the digits. Such a
 * number is valid JSON that jsonb cannot hold: the value containing it is
 * treated like other unrepresentable JSON (stored as a string).
 * Limits checked against PostgreSQL 15 by collector_unit_encode.
 */
#define NUMERIC_MAX_LEAD_WEIGHT 131071LL
#define NUMERIC_MAX_DSCALE      16383LL
#define NUMERIC_MAX_EXPONENT    1073741822LL /* INT_MAX / 2 - 1 */

static int numeric_fits(const char *int0, size_t nint, const char *frac0, size_t nfrac,
                        long long exp10)
{
    if (exp10 > NUMERIC_MAX_EXPONENT || exp10 < -NUMERIC_MAX_EXPONENT)
        return 0;
    long long dscale = (long long)nfrac - exp10;
    if (dscale > NUMERIC_MAX_DSCALE)
        return 0;
    /* The weight of the leading non-zero digit; a zero always fits. */
    for (size_t k = 0; k < nint + nfrac; k++) {
        char c = k < nint ? int0[k] : frac0[k - nint];
        if (c != '0')
            return (long long)nint - 1 - (long long)k + exp10 <= NUMERIC_MAX_LEAD_WEIGHT;
    }
    return 1;
}

static int scan_number(jscan *j)
{
    const char *p = j->p;
    if (p < j->end && *p == '-')
        p++;
    if (p >= j->end)
        return 0;
    const char *int0 = p, *frac0 = NULL;
    size_t nint, nfrac = 0;
    long long exp10 = 0;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return 0;
    }
    nint = (size_t)(p - int0);
    if (p < j->end && *p == '.') {
        p++;
        if (p >= j->end || *p < '0' || *p > '9')
            return 0;
        frac0 = p;
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
        nfrac = (size_t)(p - frac0);
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        p++;
        int neg = 0;
        if (p < j->end && (*p == '+' || *p == '-'))
            neg = *p++ == '-';
        if (p >= j->end || *p < '0' || *p > '9')
            return 0;
        while (p < j->end && *p >= '0' && *p <= '9') {
            if (exp10 <= NUMERIC_MAX_EXPONENT) /* saturates: beyond the limit is refused */
                exp10 = exp10 * 10 + (*p - '0');
            p++;
        }
        if (neg)
            exp10 = -exp10;
    }
    if (!numeric_fits(int0, nint, frac0, nfrac, exp10))
        return 0;
    j->p = p;
    return 1;
}

static int scan_lit(jscan *j, const char *lit, size_t n)
{
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
        return 0;
    j->p += n;
    return 1;
}

static int scan_value(jscan *j)
{
    skip_ws(j);
    if (j->p >= j->end)
        return 0;
    switch (*j->p) {
    case '"':
        return scan_string(j);
    case 't':
        return scan_lit(j, "true", 4);
    case 'f':
        return scan_lit(j, "false", 5);
    case 'n':
        return scan_lit(j, "null", 4);
    case '[':
    case '{': {
        char close = *j->p == '[' ? ']' : '}';
        int obj = close == '}';
        if (++j->depth > 256)
            return 0;
        j->p++;
        skip_ws(j);
        if (j->p < j->end && *j->p == close) {
            j->p++;
            j->depth--;
            return 1;
        }
        for (;;) {
            if (obj) {
                skip_ws(j);
                if (j->p >= j->end || *j->p != '"' || !scan_string(j))
                    return 0;
                skip_ws(j);
                if (j->p >= j->end || *j->p != ':')
                    return 0;
                j->p++;
            }
            if (!scan_value(j))
                return 0;
            skip_ws(j);
            if (j->p >= j->end)
                return 0;
            if (*j->p == ',') {
                j->p++;
                continue;
            }
            if (*j->p == close) {
                j->p++;
                j->depth--;
                return 1;
            }
            return 0;
        }
    }
    default:
        return scan_number(j);
    }
}

int fw_json_valid(const char *s, size_t n)
{
    jscan j = {s, s + n, 0};
    if (!scan_value(&j))
        return 0;
    skip_ws(&j);
    return j.p == j.end;
}

int fw_json_valid_object(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i < n && s[i] == '{' && fw_json_valid(s, n);
}
