/*
 * The openai-chat streaming transform; see export_fast.h for what it does
 * and when it declines.
 *
 * Two steps per row. The tokenizer turns each jsonb text into a flat array
 * of tokens (a value's token is followed by its members; `next` skips a
 * whole subtree), validating exactly what fw_xjson_parse would refuse.
 * The writer then walks the tokens in the order of export_conv and
 * export_fmt, appends the line and applies export_check's rules for chat
 * lines as it goes. The order of keys, the joins and the rules mirror those
 * files line for line; a change there must be made here too, and
 * tests/export/test_fast.c fails when the two disagree.
 */
#include "export_fast.h"

#include "export_json.h"
#include "fw_hex.h"
#include "fw_jsonesc.h"
#include "fw_utf8.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum { T_OBJ = 1, T_ARR, T_STR, T_NUM, T_TRUE, T_FALSE, T_NULL };

struct fw_xfast_tok {
    const char *p; /* string: the byte after the quote; others: the first byte */
    uint32_t len;  /* string: raw bytes between the quotes; number: text; container: members */
    uint32_t next; /* the index after this value and everything inside it */
    uint8_t type;
    uint8_t esc;  /* string: holds a backslash escape */
    uint8_t real; /* number: has a fraction or an exponent */
};

/* Results of the internal steps. */
enum { OK = 0, FALL = 1, OOM = -1 };

#define NONE      UINT32_MAX
#define MAX_DEPTH 2048 /* jansson's, as in export_json.c */

/* ---- tokenizer ------------------------------------------------------------ */

typedef struct {
    fw_xfast *f;
    const char *p, *end;
    int depth;
} lexer;

static int push(fw_xfast *f, uint32_t *idx)
{
    if (f->ntok == f->cap) {
        uint32_t cap = f->cap ? f->cap * 2 : 256;
        fw_xfast_tok *t = cap > f->cap ? realloc(f->tok, (size_t)cap * sizeof *t) : NULL;
        if (!t)
            return OOM;
        f->tok = t;
        f->cap = cap;
    }
    *idx = f->ntok++;
    return OK;
}

static void skip_ws(lexer *lx)
{
    while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r'))
        lx->p++;
}

/* The first byte at or after p that ends a run of plain string bytes: a
 * quote, a backslash or a control character; end when there is none. */
static const char *scan_string(const char *p, const char *end)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1f);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));
        int mask = _mm_movemask_epi8(m);
        if (mask)
            return p + __builtin_ctz((unsigned)mask);
        p += 16;
    }
#endif
    while (p < end && fw_json_byte_class[(unsigned char)*p] != 1)
        p++;
    return p;
}

/* A string at lx->p (its opening quote) with fw_xjson_parse's rules,
 * except that \u0000 is left to the general path. */
static int lex_string(lexer *lx, uint32_t *out)
{
    const char *p = lx->p + 1, *end = lx->end, *start = p;
    int esc = 0;
    for (;;) {
        p = scan_string(p, end);
        if (p >= end || (unsigned char)*p < 0x20)
            return FALL;
        if (*p == '"')
            break;
        if (end - p < 2)
            return FALL;
        char e = p[1];
        p += 2;
        esc = 1;
        switch (e) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            break;
        case 'u': {
            unsigned cp, lo;
            if (fw_hex_u16(p, end, &cp))
                return FALL;
            p += 4;
            if (cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
                return FALL;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || fw_hex_u16(p + 2, end, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return FALL;
                p += 6;
            }
            break;
        }
        default:
            return FALL;
        }
    }
    if ((size_t)(p - start) > UINT32_MAX - 1)
        return FALL;
    uint32_t i;
    if (push(lx->f, &i))
        return OOM;
    fw_xfast_tok *t = &lx->f->tok[i];
    t->p = start;
    t->len = (uint32_t)(p - start);
    t->next = i + 1;
    t->type = T_STR;
    t->esc = (uint8_t)esc;
    t->real = 0;
    lx->p = p + 1;
    *out = i;
    return OK;
}

static int is_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* A number with jansson's grammar, refused where jansson refuses it (an
 * integer beyond long long, a real that overflows). */
static int lex_number(lexer *lx)
{
    const char *p = lx->p, *end = lx->end, *start = p;
    int real = 0;
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0') {
        p++;
        if (is_digit(p, end))
            return FALL;
    } else if (p < end && *p >= '1' && *p <= '9') {
        while (is_digit(p, end))
            p++;
    } else {
        return FALL;
    }
    if (p < end && *p == '.') {
        real = 1;
        p++;
        if (!is_digit(p, end))
            return FALL;
        while (is_digit(p, end))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        real = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!is_digit(p, end))
            return FALL;
        while (is_digit(p, end))
            p++;
    }
    size_t n = (size_t)(p - start);
    char text[64];
    if (n >= sizeof text)
        return FALL; /* rare; the general path reads any length */
    if (real || n > 18) {
        memcpy(text, start, n);
        text[n] = '\0';
        errno = 0;
        if (!real) {
            (void)strtoll(text, NULL, 10);
            if (errno == ERANGE)
                return FALL;
        } else {
            double v = strtod(text, NULL);
            if (errno == ERANGE && isinf(v))
                return FALL;
        }
    }
    uint32_t i;
    if (push(lx->f, &i))
        return OOM;
    fw_xfast_tok *t = &lx->f->tok[i];
    t->p = start;
    t->len = (uint32_t)n;
    t->next = i + 1;
    t->type = T_NUM;
    t->esc = 0;
    t->real = (uint8_t)real;
    lx->p = p;
    return OK;
}

static int lex_literal(lexer *lx, const char *word, size_t n, int type)
{
    if ((size_t)(lx->end - lx->p) < n || memcmp(lx->p, word, n) != 0)
        return FALL;
    uint32_t i;
    if (push(lx->f, &i))
        return OOM;
    fw_xfast_tok *t = &lx->f->tok[i];
    t->p = lx->p;
    t->len = (uint32_t)n;
    t->next = i + 1;
    t->type = (uint8_t)type;
    t->esc = t->real = 0;
    lx->p += n;
    return OK;
}

/* jsonb's key order: shorter keys first, equal lengths bytewise. */
static int key_before(const fw_xfast_tok *a, const fw_xfast_tok *b)
{
    if (a->len != b->len)
        return a->len < b->len;
    return memcmp(a->p, b->p, a->len) < 0;
}

static int lex_value(lexer *lx);

static int lex_container(lexer *lx)
{
    int obj = *lx->p == '{';
    char close = obj ? '}' : ']';
    uint32_t idx, count = 0, prev_key = NONE;
    int rc;
    if (++lx->depth > MAX_DEPTH)
        return FALL;
    if (push(lx->f, &idx))
        return OOM;
    lx->f->tok[idx].p = lx->p;
    lx->f->tok[idx].type = (uint8_t)(obj ? T_OBJ : T_ARR);
    lx->f->tok[idx].esc = lx->f->tok[idx].real = 0;
    lx->p++;
    skip_ws(lx);
    if (lx->p < lx->end && *lx->p == close) {
        lx->p++;
    } else {
        for (;;) {
            if (obj) {
                uint32_t key;
                if (lx->p >= lx->end || *lx->p != '"')
                    return FALL;
                if ((rc = lex_string(lx, &key)) != OK)
                    return rc;
                /* Keys are compared as raw bytes below and by the writer:
                 * one with an escape goes to the general path. */
                if (lx->f->tok[key].esc ||
                    (prev_key != NONE && !key_before(&lx->f->tok[prev_key], &lx->f->tok[key])))
                    return FALL;
                prev_key = key;
                skip_ws(lx);
                if (lx->p >= lx->end || *lx->p != ':')
                    return FALL;
                lx->p++;
            }
            if ((rc = lex_value(lx)) != OK)
                return rc;
            count++;
            skip_ws(lx);
            if (lx->p >= lx->end)
                return FALL;
            if (*lx->p == close) {
                lx->p++;
                break;
            }
            if (*lx->p != ',')
                return FALL;
            lx->p++;
            skip_ws(lx);
        }
    }
    lx->f->tok[idx].len = count;
    lx->f->tok[idx].next = lx->f->ntok;
    lx->depth--;
    return OK;
}

static int lex_value(lexer *lx)
{
    uint32_t unused;
    skip_ws(lx);
    if (lx->p >= lx->end)
        return FALL;
    switch (*lx->p) {
    case '{':
    case '[':
        return lex_container(lx);
    case '"':
        return lex_string(lx, &unused);
    case 't':
        return lex_literal(lx, "true", 4, T_TRUE);
    case 'f':
        return lex_literal(lx, "false", 5, T_FALSE);
    case 'n':
        return lex_literal(lx, "null", 4, T_NULL);
    default:
        return lex_number(lx);
    }
}

/* Tokenizes one JSON text; *root is its value's token. */
static int lex_doc(fw_xfast *f, const char *s, size_t n, uint32_t *root)
{
    /* UTF-8 once for the whole text: outside strings anything but ASCII is
     * a syntax error anyway, so this is the parser's check of every string. */
    if (!fw_utf8_valid(s, n))
        return FALL;
    lexer lx = {f, s, s + n, 0};
    *root = f->ntok;
    int rc = lex_value(&lx);
    if (rc != OK)
        return rc;
    skip_ws(&lx);
    return lx.p == lx.end ? OK : FALL;
}

/* ---- reading tokens ------------------------------------------------------- */

/* The value of key in object obj, or NONE (also when obj is not an object). */
static uint32_t get(const fw_xfast *f, uint32_t obj, const char *key, size_t klen)
{
    const fw_xfast_tok *t = f->tok;
    if (obj == NONE || t[obj].type != T_OBJ)
        return NONE;
    uint32_t i = obj + 1;
    for (uint32_t k = 0; k < t[obj].len; k++) {
        if (t[i].len == klen && memcmp(t[i].p, key, klen) == 0)
            return i + 1;
        i = t[i + 1].next;
    }
    return NONE;
}

#define GET(f, obj, lit) get((f), (obj), (lit), sizeof(lit) - 1)

/* 1 when token i is a string without escapes equal to lit. */
static int str_is(const fw_xfast *f, uint32_t i, const char *lit, size_t n)
{
    const fw_xfast_tok *t = &f->tok[i];
    return i != NONE && t->type == T_STR && !t->esc && t->len == n && memcmp(t->p, lit, n) == 0;
}

#define STR_IS(f, i, lit) str_is((f), (i), (lit), sizeof(lit) - 1)

static int is_type(const fw_xfast *f, uint32_t i, int type)
{
    return i != NONE && f->tok[i].type == type;
}

/* ---- writing -------------------------------------------------------------- */

/* Appends string token t as the exporter writes it, without the quotes:
 * jsonb's escapes are jansson's (\" \\ \b \f \n \r \t) except \u00XX,
 * whose hex digits jansson writes in upper case; any other \u escape and
 * \/ are decoded and written as jansson would write the character. */
static void put_str(fw_buf *b, const fw_xfast_tok *t)
{
    const char *p = t->p, *end = p + t->len;
    if (!t->esc) {
        fw_buf_add(b, p, t->len);
        return;
    }
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        if (!bs) {
            fw_buf_add(b, p, (size_t)(end - p));
            return;
        }
        fw_buf_add(b, p, (size_t)(bs - p));
        if (bs[1] != 'u') {
            if (bs[1] == '/')
                fw_buf_addc(b, '/');
            else
                fw_buf_add(b, bs, 2);
            p = bs + 2;
            continue;
        }
        unsigned cp = 0, lo = 0;
        (void)fw_hex_u16(bs + 2, end, &cp); /* checked by lex_string */
        p = bs + 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            (void)fw_hex_u16(p + 2, end, &lo);
            p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        char tmp[6];
        if (cp < 0x80)
            fw_buf_add(b, tmp, fw_json_escape_byte((unsigned char)cp, tmp));
        else
            fw_buf_add(b, tmp, (size_t)(fw_utf8_put(tmp, cp) - tmp));
    }
}

/* Appends the value of string token t, unescaped. */
static void put_decoded(fw_buf *b, const fw_xfast_tok *t)
{
    const char *p = t->p, *end = p + t->len;
    while (p < end) {
        const char *bs = t->esc ? memchr(p, '\\', (size_t)(end - p)) : NULL;
        if (!bs) {
            fw_buf_add(b, p, (size_t)(end - p));
            return;
        }
        fw_buf_add(b, p, (size_t)(bs - p));
        char e = bs[1];
        p = bs + 2;
        switch (e) {
        case 'b':
            fw_buf_addc(b, '\b');
            continue;
        case 'f':
            fw_buf_addc(b, '\f');
            continue;
        case 'n':
            fw_buf_addc(b, '\n');
            continue;
        case 'r':
            fw_buf_addc(b, '\r');
            continue;
        case 't':
            fw_buf_addc(b, '\t');
            continue;
        case 'u':
            break;
        default: /* " \ / */
            fw_buf_addc(b, e);
            continue;
        }
        unsigned cp = 0, lo = 0;
        (void)fw_hex_u16(p, end, &cp);
        p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            (void)fw_hex_u16(p + 2, end, &lo);
            p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        char tmp[4];
        fw_buf_add(b, tmp, (size_t)(fw_utf8_put(tmp, cp) - tmp));
    }
}

static void put_quoted(fw_buf *b, const fw_xfast_tok *t)
{
    fw_buf_addc(b, '"');
    put_str(b, t);
    fw_buf_addc(b, '"');
}

#define PUT_LIT(b, lit) fw_buf_add((b), (lit), sizeof(lit) - 1)

/* Appends the compact JSON of the value at token i as fw_xjson_dump writes
 * the parsed value: keys in their order, "," and ":" without spaces,
 * integers as %lld, reals in jansson's %.17g form. */
static void dump(const fw_xfast *f, fw_buf *b, uint32_t i)
{
    const fw_xfast_tok *t = &f->tok[i];
    char text[64];
    switch (t->type) {
    case T_OBJ: {
        uint32_t j = i + 1;
        fw_buf_addc(b, '{');
        for (uint32_t k = 0; k < t->len; k++) {
            if (k)
                fw_buf_addc(b, ',');
            put_quoted(b, &f->tok[j]);
            fw_buf_addc(b, ':');
            dump(f, b, j + 1);
            j = f->tok[j + 1].next;
        }
        fw_buf_addc(b, '}');
        return;
    }
    case T_ARR: {
        uint32_t j = i + 1;
        fw_buf_addc(b, '[');
        for (uint32_t k = 0; k < t->len; k++) {
            if (k)
                fw_buf_addc(b, ',');
            dump(f, b, j);
            j = f->tok[j].next;
        }
        fw_buf_addc(b, ']');
        return;
    }
    case T_STR:
        put_quoted(b, t);
        return;
    case T_NUM:
        memcpy(text, t->p, t->len); /* lex_number keeps numbers under 64 bytes */
        text[t->len] = '\0';
        if (t->real)
            fw_xjson_put_real(b, strtod(text, NULL));
        else
            fw_xjson_put_integer(b, strtoll(text, NULL, 10));
        return;
    case T_TRUE:
        PUT_LIT(b, "true");
        return;
    case T_FALSE:
        PUT_LIT(b, "false");
        return;
    default:
        PUT_LIT(b, "null");
        return;
    }
}

/* ---- the chat line -------------------------------------------------------- */

enum { R_SYSTEM, R_USER, R_ASSISTANT, R_TOOL };

#define MAX_PENDING 64 /* export_check.c's */

typedef struct {
    fw_xfast *f;
    fw_buf *out;
    int nmsg;       /* messages written */
    int seen_other; /* a message other than system was written */
    int last_role;
    uint32_t pending[MAX_PENDING]; /* tool call ids not answered yet */
    int npending;
} chat;

/* export_check's rules for the message about to be written at position
 * nmsg (tool_id: a tool message's tool_call_id token). */
static int check_message(chat *c, int role, int content_ok, int ncalls, uint32_t tool_id)
{
    if (role == R_SYSTEM) {
        if (c->nmsg > 0 || !content_ok)
            return FALL;
    } else {
        if (!c->seen_other && role != R_USER)
            return FALL;
        c->seen_other = 1;
        if (role == R_TOOL) {
            if (tool_id == NONE)
                return FALL; /* a tool message without a result part */
            const fw_xfast_tok *id = &c->f->tok[tool_id];
            int k;
            for (k = 0; k < c->npending; k++) {
                const fw_xfast_tok *p = &c->f->tok[c->pending[k]];
                if (p->len == id->len && memcmp(p->p, id->p, id->len) == 0)
                    break;
            }
            if (k == c->npending)
                return FALL;
            c->pending[k] = c->pending[--c->npending];
        } else if (c->npending > 0) {
            return FALL;
        } else if (role == R_USER ? !content_ok : !content_ok && ncalls == 0) {
            return FALL;
        }
    }
    c->last_role = role;
    return OK;
}

static void begin_message(chat *c)
{
    if (c->nmsg++)
        fw_buf_addc(c->out, ',');
}

/* A tool call's arguments or a tool result's response as the string the
 * line carries: a string as it is, anything else as compact JSON, missing
 * as "". */
static void put_as_string(chat *c, uint32_t v)
{
    if (v == NONE) {
        PUT_LIT(c->out, "\"\"");
    } else if (c->f->tok[v].type == T_STR) {
        put_quoted(c->out, &c->f->tok[v]);
    } else {
        fw_buf_reset(&c->f->scratch);
        dump(c->f, &c->f->scratch, v);
        if (c->f->scratch.oom || fw_json_put_string(c->out, c->f->scratch.data, c->f->scratch.len))
            c->out->oom = 1; /* compact JSON of valid tokens is valid UTF-8 */
    }
}

/* The tool messages of a message's tool_call_response parts. */
static int put_tool_results(chat *c, uint32_t parts)
{
    const fw_xfast *f = c->f;
    uint32_t p = parts + 1;
    for (uint32_t k = 0; k < f->tok[parts].len; k++, p = f->tok[p].next) {
        if (!STR_IS(f, GET(f, p, "type"), "tool_call_response"))
            continue;
        uint32_t id = GET(f, p, "id");
        /* Without a string id the line fails its check; with an escape
         * the raw comparison with the calls' ids is not the check's. */
        if (!is_type(f, id, T_STR) || f->tok[id].esc)
            return FALL;
        if (check_message(c, R_TOOL, 1, 0, id))
            return FALL;
        begin_message(c);
        PUT_LIT(c->out, "{\"role\":\"tool\",\"content\":");
        put_as_string(c, GET(f, p, "response"));
        PUT_LIT(c->out, ",\"tool_call_id\":");
        put_quoted(c->out, &f->tok[id]);
        fw_buf_addc(c->out, '}');
    }
    return OK;
}

static int put_tool_call(chat *c, uint32_t p, int first)
{
    fw_xfast *f = c->f;
    uint32_t id = GET(f, p, "id"), name = GET(f, p, "name"), args = GET(f, p, "arguments");
    if (!is_type(f, id, T_STR) || f->tok[id].len == 0 || f->tok[id].esc ||
        !is_type(f, name, T_STR) || f->tok[name].len == 0 || args == NONE)
        return FALL;
    if (f->tok[args].type == T_STR) {
        /* Arguments stored as a string must be valid JSON themselves. */
        fw_buf_reset(&f->scratch);
        put_decoded(&f->scratch, &f->tok[args]);
        if (f->scratch.oom)
            return OOM;
        if (!fw_xjson_valid(f->scratch.data ? f->scratch.data : "", f->scratch.len))
            return FALL;
    }
    if (c->npending == MAX_PENDING)
        return FALL;
    c->pending[c->npending++] = id;
    if (!first)
        fw_buf_addc(c->out, ',');
    PUT_LIT(c->out, "{\"id\":");
    put_quoted(c->out, &f->tok[id]);
    PUT_LIT(c->out, ",\"type\":\"function\",\"function\":{\"name\":");
    put_quoted(c->out, &f->tok[name]);
    PUT_LIT(c->out, ",\"arguments\":");
    put_as_string(c, args);
    PUT_LIT(c->out, "}}");
    return OK;
}

/* One stored OpenTelemetry message (export_conv's fw_xconv_messages). */
static int put_message(chat *c, uint32_t m, int weight)
{
    fw_xfast *f = c->f;
    static const char *const names[] = {"system", "user", "assistant", "tool"};
    int rc;
    if (f->tok[m].type != T_OBJ)
        return FALL;
    uint32_t r = GET(f, m, "role");
    int role;
    if (STR_IS(f, r, "user"))
        role = R_USER;
    else if (STR_IS(f, r, "assistant"))
        role = R_ASSISTANT;
    else if (STR_IS(f, r, "system") || STR_IS(f, r, "developer"))
        role = R_SYSTEM;
    else if (STR_IS(f, r, "tool"))
        role = R_TOOL;
    else
        return FALL; /* the check refuses any other role */
    uint32_t parts = GET(f, m, "parts");
    if (!is_type(f, parts, T_ARR))
        parts = NONE;
    uint32_t ntext = 0, ncalls = 0, nresults = 0, first_text = NONE;
    if (parts != NONE) {
        uint32_t p = parts + 1;
        for (uint32_t k = 0; k < f->tok[parts].len; k++, p = f->tok[p].next) {
            uint32_t type = GET(f, p, "type");
            if (STR_IS(f, type, "text")) {
                if (is_type(f, GET(f, p, "content"), T_STR) && ntext++ == 0)
                    first_text = p;
            } else if (STR_IS(f, type, "tool_call")) {
                ncalls++;
            } else if (STR_IS(f, type, "tool_call_response")) {
                nresults++;
            }
        }
    }
    if (role == R_TOOL && nresults > 0)
        return put_tool_results(c, parts);
    if (role != R_ASSISTANT)
        ncalls = 0;
    uint32_t content = NONE; /* the message's own content string, without text parts */
    int content_ok;
    if (ntext == 0 && is_type(f, content = GET(f, m, "content"), T_STR)) {
        content_ok = f->tok[content].len > 0;
        ntext = 1;
    } else {
        content = NONE;
        content_ok = ntext > 1 || (ntext == 1 && f->tok[GET(f, first_text, "content")].len > 0);
    }
    int has_content = ntext > 0 || ncalls == 0;
    if (check_message(c, role, has_content && content_ok, (int)ncalls, NONE))
        return FALL;
    begin_message(c);
    PUT_LIT(c->out, "{\"role\":\"");
    fw_buf_adds(c->out, names[role]);
    fw_buf_addc(c->out, '"');
    if (has_content) {
        PUT_LIT(c->out, ",\"content\":\"");
        if (content != NONE) {
            put_str(c->out, &f->tok[content]);
        } else if (ntext > 0) {
            uint32_t n = 0;
            for (uint32_t p = first_text; n < ntext; p = f->tok[p].next) {
                if (!STR_IS(f, GET(f, p, "type"), "text"))
                    continue;
                uint32_t t = GET(f, p, "content");
                if (!is_type(f, t, T_STR))
                    continue;
                if (n++)
                    PUT_LIT(c->out, "\\n");
                put_str(c->out, &f->tok[t]);
            }
        }
        fw_buf_addc(c->out, '"');
    }
    uint32_t name = GET(f, m, "name");
    if (is_type(f, name, T_STR)) {
        PUT_LIT(c->out, ",\"name\":");
        put_quoted(c->out, &f->tok[name]);
    }
    if (ncalls > 0) {
        PUT_LIT(c->out, ",\"tool_calls\":[");
        uint32_t p = parts + 1, n = 0;
        for (uint32_t k = 0; k < f->tok[parts].len; k++, p = f->tok[p].next) {
            if (!STR_IS(f, GET(f, p, "type"), "tool_call"))
                continue;
            if ((rc = put_tool_call(c, p, n++ == 0)) != OK)
                return rc;
        }
        fw_buf_addc(c->out, ']');
    }
    if (weight >= 0 && role == R_ASSISTANT) {
        PUT_LIT(c->out, ",\"weight\":");
        fw_buf_addc(c->out, weight ? '1' : '0');
    }
    fw_buf_addc(c->out, '}');
    return nresults > 0 ? put_tool_results(c, parts) : OK;
}

static int put_messages(chat *c, uint32_t arr, int weight)
{
    uint32_t m = arr + 1;
    for (uint32_t k = 0; k < c->f->tok[arr].len; k++, m = c->f->tok[m].next) {
        int rc = put_message(c, m, weight);
        if (rc != OK)
            return rc;
    }
    return OK;
}

/* The tools array (export_conv's fw_xconv_tools). */
static void put_tools(const fw_xfast *f, fw_buf *b, uint32_t arr)
{
    static const char *const keys[] = {"name", "description", "parameters", "strict"};
    uint32_t d = arr + 1;
    PUT_LIT(b, ",\"tools\":[");
    for (uint32_t k = 0; k < f->tok[arr].len; k++, d = f->tok[d].next) {
        if (k)
            fw_buf_addc(b, ',');
        PUT_LIT(b, "{\"type\":\"function\",\"function\":");
        uint32_t fn = GET(f, d, "function");
        if (is_type(f, fn, T_OBJ)) {
            dump(f, b, fn);
        } else {
            int n = 0;
            fw_buf_addc(b, '{');
            for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                uint32_t v = get(f, d, keys[i], strlen(keys[i]));
                if (v == NONE)
                    continue;
                if (n++)
                    fw_buf_addc(b, ',');
                fw_buf_addc(b, '"');
                fw_buf_adds(b, keys[i]);
                PUT_LIT(b, "\":");
                dump(f, b, v);
            }
            fw_buf_addc(b, '}');
        }
        fw_buf_addc(b, '}');
    }
    fw_buf_addc(b, ']');
}

static int chat_line(fw_xfast *f, const fw_xfast_row *r, int weights, fw_buf *line)
{
    uint32_t in, out, tools = NONE;
    int rc;
    f->ntok = 0;
    if ((rc = lex_doc(f, r->input, r->input_len, &in)) != OK ||
        (rc = lex_doc(f, r->output, r->output_len, &out)) != OK)
        return rc;
    if (r->tools && (rc = lex_doc(f, r->tools, r->tools_len, &tools)) != OK)
        return rc;
    if (f->tok[in].type != T_ARR || f->tok[out].type != T_ARR)
        return FALL;
    chat c = {.f = f, .out = line};
    PUT_LIT(line, "{\"messages\":[");
    /* The system instructions lead unless the input has a system message. */
    int has_system = 0;
    uint32_t m = in + 1;
    for (uint32_t k = 0; k < f->tok[in].len; k++, m = f->tok[m].next) {
        uint32_t role = GET(f, m, "role");
        if (STR_IS(f, role, "system") || STR_IS(f, role, "developer"))
            has_system = 1;
    }
    const char *si = r->system_instructions;
    if (si && *si && !has_system) {
        if (check_message(&c, R_SYSTEM, 1, 0, NONE))
            return FALL;
        begin_message(&c);
        PUT_LIT(line, "{\"role\":\"system\",\"content\":");
        if (fw_json_put_string(line, si, strlen(si)))
            return FALL; /* not UTF-8: the general path reports it */
        fw_buf_addc(line, '}');
    }
    if ((rc = put_messages(&c, in, weights ? 0 : -1)) != OK ||
        (rc = put_messages(&c, out, weights ? 1 : -1)) != OK)
        return rc;
    if (c.nmsg == 0 || c.last_role != R_ASSISTANT)
        return FALL;
    fw_buf_addc(line, ']');
    if (tools != NONE && f->tok[tools].type == T_ARR && f->tok[tools].len > 0)
        put_tools(f, line, tools);
    fw_buf_addc(line, '}');
    return OK;
}

int fw_xfast_chat(fw_xfast *f, const fw_xfast_row *r, int weights, fw_buf *line)
{
    fw_buf_reset(line);
    if (!r->input || !r->output)
        return FW_XFAST_FALLBACK;
    int rc = chat_line(f, r, weights, line);
    if (rc == OOM || line->oom || f->scratch.oom)
        return -1;
    return rc == OK ? FW_XFAST_LINE : FW_XFAST_FALLBACK;
}

void fw_xfast_free(fw_xfast *f)
{
    free(f->tok);
    fw_buf_free(&f->scratch);
    fw_buf_free(&f->text);
    memset(f, 0, sizeof *f);
}
