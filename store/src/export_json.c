/*
 * JSON text ↔ jansson values for the export hot path; the compatibility
 * rules are in export_json.h. One recursive-descent parser serves both
 * building (fw_xjson_parse) and checking (fw_xjson_valid); strings are
 * scanned in runs of bytes that need no attention, and only bytes ≥ 0x80
 * pay for UTF-8 validation.
 */
#include "export_json.h"

#include "fw_hex.h"
#include "fw_jsonesc.h"
#include "fw_utf8.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

typedef struct {
    char *w; /* build mode: where unescaped bytes go; NULL when checking */
    const char *p, *end;
    int allow_nul;
    int depth;
} parser;

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/*
 * Parses a string whose opening quote is at ps->p. In build mode the
 * unescaped bytes are written over the text from the opening quote on
 * (never past the closing quote: every escape is at least as long as what
 * it stands for) and *out and *len describe them; *has_nul tells whether they
 * contain a NUL. Returns 0 or -1.
 */
static int parse_string(parser *ps, char **out, size_t *len, int *has_nul)
{
    const char *p = ps->p + 1, *end = ps->end;
    char *w = ps->w ? (char *)(uintptr_t)ps->p : NULL, *start = w;
    *has_nul = 0;
    for (;;) {
        const char *run = p;
        while (p < end) {
            unsigned cls = fw_json_byte_class[(unsigned char)*p];
            if (cls == 0) {
                p++;
                continue;
            }
            if (cls == 1)
                break;
            size_t n = fw_utf8_seq((const unsigned char *)p, (const unsigned char *)end);
            if (!n)
                return -1;
            p += n;
        }
        if (w) {
            memmove(w, run, (size_t)(p - run));
            w += p - run;
        }
        if (p >= end || (unsigned char)*p < 0x20)
            return -1; /* unterminated, or a raw control character */
        if (*p == '"') {
            ps->p = p + 1;
            if (w) {
                *out = start;
                *len = (size_t)(w - start);
            }
            return 0;
        }
        /* a backslash */
        if (end - p < 2)
            return -1;
        char e = p[1];
        p += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            if (w)
                *w++ = e;
            break;
        case 'b':
            if (w)
                *w++ = '\b';
            break;
        case 'f':
            if (w)
                *w++ = '\f';
            break;
        case 'n':
            if (w)
                *w++ = '\n';
            break;
        case 'r':
            if (w)
                *w++ = '\r';
            break;
        case 't':
            if (w)
                *w++ = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            if (fw_hex_u16(p, end, &cp))
                return -1;
            p += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return -1; /* a lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || fw_hex_u16(p + 2, end, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return -1;
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp == 0) {
                if (!ps->allow_nul)
                    return -1;
                *has_nul = 1;
            }
            if (w)
                w = fw_utf8_put(w, cp);
            break;
        }
        default:
            return -1;
        }
    }
}

/* Parses a number at ps->p with jansson's grammar and its integer/real
 * split; *out gets the value in build mode. */
static int parse_number(parser *ps, json_t **out)
{
    const char *p = ps->p, *end = ps->end, *start = p;
    int is_real = 0;
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return -1;
    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return -1;
    }
    if (p < end && *p == '.') {
        is_real = 1;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return -1;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_real = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return -1;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    ps->p = p;
    /* strtoll/strtod need a terminated copy; numbers are short. */
    size_t n = (size_t)(p - start);
    char small[64], *text = n < sizeof small ? small : malloc(n + 1);
    if (!text)
        return -1;
    memcpy(text, start, n);
    text[n] = '\0';
    int rc = 0;
    errno = 0;
    if (!is_real) {
        long long v = strtoll(text, NULL, 10);
        if (errno == ERANGE)
            rc = -1; /* jansson: too big integer */
        else if (ps->w && !(*out = json_integer((json_int_t)v)))
            rc = -1;
    } else {
        double v = strtod(text, NULL);
        if (errno == ERANGE && isinf(v))
            rc = -1; /* jansson: real number overflow */
        else if (ps->w && !(*out = json_real(v)))
            rc = -1;
    }
    if (text != small)
        free(text);
    return rc;
}

static int parse_value(parser *ps, json_t **out);

static int literal(parser *ps, const char *word, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return -1;
    ps->p += n;
    return 0;
}

static int parse_array(parser *ps, json_t **out)
{
    json_t *a = NULL;
    if (ps->w && !(a = json_array()))
        return -1;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        *out = a;
        return 0;
    }
    for (;;) {
        json_t *v = NULL;
        if (parse_value(ps, &v) || (a && json_array_append_new(a, v)))
            goto fail;
        skip_ws(ps);
        if (ps->p >= ps->end)
            goto fail;
        if (*ps->p == ']') {
            ps->p++;
            *out = a;
            return 0;
        }
        if (*ps->p != ',')
            goto fail;
        ps->p++;
        skip_ws(ps);
    }
fail:
    json_decref(a);
    return -1;
}

static int parse_object(parser *ps, json_t **out)
{
    json_t *o = NULL;
    if (ps->w && !(o = json_object()))
        return -1;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        *out = o;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        size_t klen = 0;
        int nul;
        json_t *v = NULL;
        if (ps->p >= ps->end || *ps->p != '"' || parse_string(ps, &key, &klen, &nul) || nul)
            goto fail; /* jansson refuses NUL in keys */
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':')
            goto fail;
        ps->p++;
        skip_ws(ps);
        if (parse_value(ps, &v) || (o && json_object_setn_new_nocheck(o, key, klen, v)))
            goto fail;
        skip_ws(ps);
        if (ps->p >= ps->end)
            goto fail;
        if (*ps->p == '}') {
            ps->p++;
            *out = o;
            return 0;
        }
        if (*ps->p != ',')
            goto fail;
        ps->p++;
        skip_ws(ps);
    }
fail:
    json_decref(o);
    return -1;
}

/* Parses the value at ps->p (white space already skipped). In build mode
 * *out gets a new value; a failure leaves nothing to free. */
static int parse_value(parser *ps, json_t **out)
{
    if (ps->p >= ps->end)
        return -1;
    switch (*ps->p) {
    case '{':
    case '[': {
        if (++ps->depth > MAX_DEPTH)
            return -1;
        int rc = *ps->p == '{' ? parse_object(ps, out) : parse_array(ps, out);
        ps->depth--;
        return rc;
    }
    case '"': {
        char *s = NULL;
        size_t n = 0;
        int nul;
        if (parse_string(ps, &s, &n, &nul))
            return -1;
        if (ps->w && !(*out = json_stringn_nocheck(s, n)))
            return -1;
        return 0;
    }
    case 't':
        if (literal(ps, "true", 4))
            return -1;
        if (ps->w)
            *out = json_true();
        return 0;
    case 'f':
        if (literal(ps, "false", 5))
            return -1;
        if (ps->w)
            *out = json_false();
        return 0;
    case 'n':
        if (literal(ps, "null", 4))
            return -1;
        if (ps->w)
            *out = json_null();
        return 0;
    default:
        return parse_number(ps, out);
    }
}

static int parse_all(parser *ps, json_t **out)
{
    skip_ws(ps);
    if (parse_value(ps, out))
        return -1;
    skip_ws(ps);
    if (ps->p != ps->end) {
        json_decref(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

json_t *fw_xjson_parse(char *s, size_t len)
{
    parser ps = {s, s, s + len, 1, 0};
    json_t *v = NULL;
    if (parse_all(&ps, &v))
        return NULL;
    return v;
}

int fw_xjson_valid(const char *s, size_t len)
{
    parser ps = {NULL, s, s + len, 0, 0};
    json_t *none = NULL; /* stays NULL: nothing is built when checking */
    return parse_all(&ps, &none) == 0;
}

/* ---- row arena ------------------------------------------------------------- */

#define ARENA_CHUNK ((size_t)256 * 1024)
#define ARENA_ALIGN ((size_t)16)

typedef struct chunk {
    struct chunk *next;
    size_t cap, used;
} chunk;

#define CHUNK_HDR ((sizeof(chunk) + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1))

static struct {
    chunk *head;
    int active;
    int installed;
} arena;

static void *arena_malloc(size_t n)
{
    if (!arena.active)
        return malloc(n);
    n = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    chunk *c = arena.head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = malloc(CHUNK_HDR + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = arena.head;
        arena.head = c;
    }
    void *p = (unsigned char *)c + CHUNK_HDR + c->used;
    c->used += n;
    return p;
}

static void arena_free(void *p)
{
    if (!p)
        return;
    for (const chunk *c = arena.head; c; c = c->next) {
        const unsigned char *start = (const unsigned char *)c + CHUNK_HDR;
        if ((const unsigned char *)p >= start && (const unsigned char *)p < start + c->cap)
            return; /* released with the scope */
    }
    free(p);
}

void fw_xjson_scope_begin(void)
{
    if (!arena.installed) {
        json_set_alloc_funcs(arena_malloc, arena_free);
        arena.installed = 1;
    }
    arena.active = 1;
}

void fw_xjson_scope_end(void)
{
    arena.active = 0;
    /* Keep one standard chunk (the oldest), free the rest. */
    chunk *keep = NULL, *c = arena.head;
    while (c) {
        chunk *next = c->next;
        if (!keep && !next && c->cap == ARENA_CHUNK) {
            keep = c;
        } else {
            free(c);
        }
        c = next;
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    arena.head = keep;
}

/* ---- writer --------------------------------------------------------------- */

static int dump_string(fw_buf *b, const char *s, size_t n)
{
    return fw_json_put_string(b, s, n);
}

void fw_xjson_put_integer(fw_buf *b, long long v)
{
    char tmp[24], *e = tmp + sizeof tmp, *q = e;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--q = '-';
    fw_buf_add(b, q, (size_t)(e - q));
}

/* jansson's real format: %.17g, ".0" when it would read back as an
 * integer, no '+' and no leading zeros in the exponent. */
void fw_xjson_put_real(fw_buf *b, double v)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf - 3, "%.17g", v);
    if (n < 0 || (size_t)n >= sizeof buf - 3) {
        b->oom = 1;
        return;
    }
    size_t len = (size_t)n;
    if (!strchr(buf, '.') && !strchr(buf, 'e')) {
        buf[len++] = '.';
        buf[len++] = '0';
        buf[len] = '\0';
    }
    char *e = strchr(buf, 'e');
    if (e) {
        char *start = e + 1, *q;
        if (*start == '-')
            start++;
        q = start;
        while (*q == '+' || *q == '0')
            q++;
        /* jansson drops the '+' (right after the 'e') and the zeros after it */
        if (q != start) {
            memmove(start, q, len - (size_t)(q - buf) + 1);
            len -= (size_t)(q - start);
        }
    }
    fw_buf_add(b, buf, len);
}

int fw_xjson_dump(const json_t *v, fw_buf *b)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        int first = 1;
        fw_buf_addc(b, '{');
        /* The iterator walks insertion order, as json_object_foreach does,
         * and knows each key's length (no strlen). */
        for (void *it = json_object_iter((json_t *)(uintptr_t)v); it;
             it = json_object_iter_next((json_t *)(uintptr_t)v, it)) {
            if (!first)
                fw_buf_addc(b, ',');
            first = 0;
            if (dump_string(b, json_object_iter_key(it), json_object_iter_key_len(it)))
                return -1;
            fw_buf_addc(b, ':');
            if (fw_xjson_dump(json_object_iter_value(it), b))
                return -1;
        }
        fw_buf_addc(b, '}');
        break;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        fw_buf_addc(b, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                fw_buf_addc(b, ',');
            if (fw_xjson_dump(json_array_get(v, i), b))
                return -1;
        }
        fw_buf_addc(b, ']');
        break;
    }
    case JSON_STRING:
        if (dump_string(b, json_string_value(v), json_string_length(v)))
            return -1;
        break;
    case JSON_INTEGER:
        fw_xjson_put_integer(b, (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        fw_xjson_put_real(b, json_real_value(v));
        break;
    case JSON_TRUE:
        fw_buf_add(b, "true", 4);
        break;
    case JSON_FALSE:
        fw_buf_add(b, "false", 5);
        break;
    case JSON_NULL:
        fw_buf_add(b, "null", 4);
        break;
    }
    return b->oom ? -1 : 0;
}
