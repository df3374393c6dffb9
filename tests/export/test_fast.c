/*
 * Unit test of the export's streaming transform (store/src/export_fast.c)
 * against the general path it stands in for: the same rows, in the stream
 * query's COPY text format with the JSON columns in PostgreSQL's jsonb text
 * form, go through the per-row pipeline twice (fw_xrows, once with the
 * transform and once without), and the bytes written, their SHA-256, the
 * rejection and duplicate counts and any error must be identical.
 *
 * The rows: hand-written tricky ones (escapes and control characters,
 * unicode, \u escapes jsonb never writes, invalid UTF-8, a 1 MB text,
 * NULL columns, tool calls with object, string and invalid arguments,
 * tool definitions flat and nested with numbers, every rejection reason of
 * a chat line, keys out of jsonb's order, numbers jansson refuses), each
 * alone and all together with dedupe on (with copies differing only in
 * white space), then 3,000 generated conversations mutated at random. The
 * test also requires the transform to write the lines it is meant for, so
 * that it cannot pass by always declining.
 */
#include "export_run.h"
#include "fw_buf.h"
#include "fwtest.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- an in-memory writer ------------------------------------------------- */

static int mem_open(void *ctx, const char *name, void **stream, fw_store_error *err)
{
    (void)name;
    (void)err;
    *stream = ctx;
    return 0;
}

static int mem_write(void *ctx, void *stream, const void *data, size_t len, fw_store_error *err)
{
    (void)ctx;
    (void)err;
    fw_buf_add(stream, data, len);
    return 0;
}

static int mem_close(void *ctx, void *stream, int ok, fw_store_error *err)
{
    (void)ctx;
    (void)stream;
    (void)ok;
    (void)err;
    return 0;
}

/* ---- PostgreSQL's text forms --------------------------------------------- */

/* A jansson value as jsonb's output writes it: keys shorter first, then
 * bytewise; ", " and ": "; \u00xx in lower case for other controls. */
static void jsonb_text(fw_buf *b, const json_t *v);

static void jsonb_string(fw_buf *b, const char *s, size_t n)
{
    fw_buf_addc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            fw_buf_adds(b, "\\\"");
            break;
        case '\\':
            fw_buf_adds(b, "\\\\");
            break;
        case '\b':
            fw_buf_adds(b, "\\b");
            break;
        case '\f':
            fw_buf_adds(b, "\\f");
            break;
        case '\n':
            fw_buf_adds(b, "\\n");
            break;
        case '\r':
            fw_buf_adds(b, "\\r");
            break;
        case '\t':
            fw_buf_adds(b, "\\t");
            break;
        default:
            if (c < 0x20)
                fw_buf_printf(b, "\\u%04x", c);
            else
                fw_buf_addc(b, (char)c);
        }
    }
    fw_buf_addc(b, '"');
}

static int key_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strlen(x), ly = strlen(y);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x, y);
}

static void jsonb_text(fw_buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = calloc(n ? n : 1, sizeof *keys);
        const char *k;
        json_t *x;
        FWT_CHECK(keys != NULL);
        json_object_foreach((json_t *)(uintptr_t)v, k, x) keys[i++] = k;
        qsort(keys, n, sizeof *keys, key_cmp);
        fw_buf_addc(b, '{');
        for (i = 0; i < n; i++) {
            if (i)
                fw_buf_adds(b, ", ");
            jsonb_string(b, keys[i], strlen(keys[i]));
            fw_buf_adds(b, ": ");
            jsonb_text(b, json_object_get(v, keys[i]));
        }
        fw_buf_addc(b, '}');
        free(keys);
        return;
    }
    case JSON_ARRAY:
        fw_buf_addc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                fw_buf_adds(b, ", ");
            jsonb_text(b, json_array_get(v, i));
        }
        fw_buf_addc(b, ']');
        return;
    case JSON_STRING:
        jsonb_string(b, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        fw_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return;
    case JSON_REAL:
        fw_buf_printf(b, "%.17g", json_real_value(v));
        return;
    case JSON_TRUE:
        fw_buf_adds(b, "true");
        return;
    case JSON_FALSE:
        fw_buf_adds(b, "false");
        return;
    case JSON_NULL:
        fw_buf_adds(b, "null");
        return;
    }
}

/* jsonb text of JSON written for readability in this file. */
static char *jsonb(const char *json)
{
    json_error_t e;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &e);
    FWT_CHECK_MSG(v != NULL, "fixture JSON: %s: %s", e.text, json);
    fw_buf b = {0};
    jsonb_text(&b, v);
    json_decref(v);
    FWT_CHECK(!b.oom);
    return b.data;
}

/* Appends a field in COPY's text format (NULL: \N). */
static void copy_field(fw_buf *b, const char *s)
{
    if (!s) {
        fw_buf_adds(b, "\\N");
        return;
    }
    for (; *s; s++) {
        switch (*s) {
        case '\\':
            fw_buf_adds(b, "\\\\");
            break;
        case '\t':
            fw_buf_adds(b, "\\t");
            break;
        case '\n':
            fw_buf_adds(b, "\\n");
            break;
        case '\r':
            fw_buf_adds(b, "\\r");
            break;
        case '\b':
            fw_buf_adds(b, "\\b");
            break;
        case '\f':
            fw_buf_adds(b, "\\f");
            break;
        case '\v':
            fw_buf_adds(b, "\\v");
            break;
        default:
            fw_buf_addc(b, *s);
        }
    }
}

/* A row of the stream query: columns as raw text (JSON columns already in
 * jsonb form), NULL for SQL NULL. */
typedef struct {
    const char *event_id, *missing, *conv, *system, *input, *output, *tools, *labels;
} row;

static void copy_row(fw_buf *b, const row *r)
{
    const char *cols[21] = {r->event_id, r->missing ? r->missing : "f",
                            "trace-1",   r->conv,
                            "user-1",    NULL,
                            "proj",      "prod",
                            "1.0",       "gpt-x",
                            NULL,        NULL,
                            r->system,   "[\"a\", \"b\"]",
                            r->input,    r->output,
                            r->tools,    r->labels,
                            NULL,        NULL,
                            NULL};
    for (int i = 0; i < 21; i++) {
        if (i)
            fw_buf_addc(b, '\t');
        copy_field(b, cols[i]);
    }
    fw_buf_addc(b, '\n');
}

/* ---- running both paths -------------------------------------------------- */

typedef struct {
    fw_buf out;
    fw_xrows_result res;
    int failed;
    char error[1024];
} outcome;

/* Runs rows (COPY text, one per line of `rows`) through the pipeline. */
static void run(const fw_xopts *o, int fast, const fw_buf *rows, outcome *oc)
{
    memset(oc, 0, sizeof *oc);
    fw_store_writer w = {mem_open, mem_write, mem_close, &oc->out, NULL};
    fw_store_error err;
    fw_xrows *r = fw_xrows_open(o, "fix", &w, fast, &err);
    FWT_CHECK_MSG(r != NULL, "%s", err.message);
    const char *p = rows->data ? rows->data : "", *end = p + rows->len;
    while (p < end && !oc->failed) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        char *copy = malloc(n + 1);
        FWT_CHECK(copy != NULL);
        memcpy(copy, p, n);
        copy[n] = '\0';
        if (fw_xrows_add(r, copy, n)) {
            oc->failed = 1;
            snprintf(oc->error, sizeof oc->error, "%s", err.message);
        }
        free(copy);
        p += n;
    }
    if (fw_xrows_close(r, &oc->res) && !oc->failed) {
        oc->failed = 1;
        snprintf(oc->error, sizeof oc->error, "%s", err.message);
    }
}

/* Both paths over rows; returns the lines the transform wrote. */
static long long compare(const fw_xopts *o, const fw_buf *rows, const char *what, int must_succeed)
{
    outcome a, b;
    run(o, 1, rows, &a);
    run(o, 0, rows, &b);
    FWT_CHECK_EQ_INT(b.res.fast_lines, 0);
    FWT_CHECK_MSG(a.failed == b.failed && strcmp(a.error, b.error) == 0,
                  "%s: transform %s \"%s\", general path %s \"%s\"", what,
                  a.failed ? "failed" : "succeeded", a.error, b.failed ? "failed" : "succeeded",
                  b.error);
    FWT_CHECK_MSG(!must_succeed || !a.failed, "%s: %s", what, a.error);
    if (!a.failed) {
        FWT_CHECK_MSG(a.out.len == b.out.len &&
                          (a.out.len == 0 || memcmp(a.out.data, b.out.data, a.out.len) == 0),
                      "%s: the lines differ (dedupe %d, weights %d)\ntransform:    %.*s\n"
                      "general path: %.*s",
                      what, o->dedupe, o->weights, (int)(a.out.len < 3000 ? a.out.len : 3000),
                      a.out.data ? a.out.data : "", (int)(b.out.len < 3000 ? b.out.len : 3000),
                      b.out.data ? b.out.data : "");
        FWT_CHECK_EQ_STR(a.res.sha256, b.res.sha256);
        FWT_CHECK_EQ_INT(a.res.lines, b.res.lines);
        FWT_CHECK_MSG(a.res.rejected == b.res.rejected && a.res.duplicates == b.res.duplicates,
                      "%s: rejected %lld/%lld, duplicates %lld/%lld", what, a.res.rejected,
                      b.res.rejected, a.res.duplicates, b.res.duplicates);
    }
    long long fast = a.res.fast_lines;
    fw_buf_free(&a.out);
    fw_buf_free(&b.out);
    return fast;
}

/* Every option combination the transform serves, one row or many. */
static long long compare_all(const fw_buf *rows, const char *what, int must_succeed)
{
    long long fast = 0;
    for (int dedupe = 0; dedupe < 2; dedupe++)
        for (int weights = 0; weights < 2; weights++) {
            fw_xopts o;
            fw_xopts_init(&o);
            FWT_CHECK(fw_xfmt_parse("openai-chat", NULL, &o.fmt) == 0);
            o.dedupe = dedupe;
            o.weights = weights;
            long long n = compare(&o, rows, what, must_succeed);
            if (dedupe == 0 && weights == 1)
                fast = n;
        }
    return fast;
}

/* ---- hand-written rows --------------------------------------------------- */

#define USER(text) "{\"role\": \"user\", \"parts\": [{\"type\": \"text\", \"content\": " text "}]}"
#define ANSWER(text)                                                                               \
    "[{\"role\": \"assistant\", \"parts\": [{\"type\": \"text\", \"content\": " text "}]}]"

typedef struct {
    const char *name;
    int fast; /* 1: the transform must write this row's line itself */
    const char *system;
    const char *input, *output, *tools; /* readable JSON, turned into jsonb text */
    const char *raw_input;              /* or the input's text as it is */
    const char *raw_output;
    const char *labels;
} fixture;

static const fixture fixtures[] = {
    {"bench row", 1, "You are a helpful assistant for an online shop.",
     "[" USER(
         "\"Question 1: where is my order?\"") ", {\"role\": \"assistant\", \"parts\": "
                                               "[{\"type\": \"tool_call\", \"id\": \"call_1\", "
                                               "\"name\": \"get_order\", \"arguments\": "
                                               "{\"order_id\": \"1\"}}]}, {\"role\": \"tool\", "
                                               "\"parts\": [{\"type\": "
                                               "\"tool_call_response\", \"id\": \"call_1\", "
                                               "\"response\": {\"status\": \"shipped\"}}]}]",
     ANSWER("\"Answer 1: your order has shipped.\""), NULL, NULL, NULL, "{\"quality\": 3}"},
    {"escapes and control characters", 1, "line one\nline two\ttab \"quoted\" back\\slash",
     "[" USER("\"a \\\"quote\\\", a \\\\ backslash, \\n newline, \\r\\t, \\b\\f, \\u0001\\u001f "
              "\\u007f end\"") "]",
     ANSWER("\"slash / and \\\\/ and \\u000b vertical tab\""), NULL, NULL, NULL, NULL},
    {"unicode", 1, "Réponds en français. 日本語で答えて。",
     "[" USER("\"Ünïcödé — “quotes” ‘single’ 😀 emoji, 中文, עברית, العربية\"") "]",
     ANSWER("\"Voilà 🎉 \\u2028 line separator, \\u00e9 escaped e\""), NULL, NULL, NULL, NULL},
    {"escapes jsonb never writes", 1, NULL, NULL, NULL, NULL,
     "[{\"role\": \"user\", \"parts\": [{\"type\": \"text\", \"content\": "
     "\"\\u00e9t\\u00C9 \\/ \\ud83d\\ude00 \\u000A \\u0022 \\u005c\"}]}]",
     "[{\"role\": \"assistant\", \"parts\": [{\"type\": \"text\", \"content\": \"ok\"}]}]", NULL},
    {"NULL system and tools, developer role", 1, NULL,
     "[{\"role\": \"developer\", \"parts\": [{\"type\": \"text\", \"content\": \"Be "
     "terse.\"}]}, " USER("\"hi\"") "]",
     ANSWER("\"hello\""), NULL, NULL, NULL, NULL},
    {"system in the input wins over the instructions", 1, "ignored instructions",
     "[{\"role\": \"system\", \"parts\": [{\"type\": \"text\", \"content\": \"Own "
     "system.\"}]}, " USER("\"hi\"") "]",
     ANSWER("\"hello\""), NULL, NULL, NULL, NULL},
    {"empty system instructions", 1, "", "[" USER("\"hi\"") "]", ANSWER("\"hello\""), NULL, NULL,
     NULL, NULL},
    {"text parts joined, reasoning dropped, plain content, names", 1, NULL,
     "[{\"role\": \"user\", \"name\": \"alice\", \"parts\": [{\"type\": \"text\", \"content\": "
     "\"part one\"}, {\"type\": \"image\", \"url\": \"x\"}, {\"type\": \"text\", \"content\": "
     "\"part two\"}, {\"type\": \"text\", \"content\": 5}]}, {\"role\": \"assistant\", "
     "\"content\": \"plain content string\"}, {\"role\": \"user\", \"content\": \"next\"}]",
     "[{\"role\": \"assistant\", \"name\": \"bot\", \"parts\": [{\"type\": \"reasoning\", "
     "\"content\": \"thinking\"}, {\"type\": \"text\", \"content\": \"answer\"}, {\"type\": "
     "\"text\", \"content\": \"\"}]}]",
     NULL, NULL, NULL, NULL},
    {"tool calls: string arguments, text with calls, several results in one message", 1, "sys",
     "[" USER("\"book it\"") ", {\"role\": \"assistant\", \"parts\": [{\"type\": \"text\", "
                             "\"content\": \"Checking.\"}, {\"type\": \"tool_call\", \"id\": "
                             "\"c1\", \"name\": "
                             "\"find\", \"arguments\": \"{\\\"q\\\": \\\"x\\\\n\\\", \\\"n\\\": "
                             "[1, 2.5, true, null]}\"}, "
                             "{\"type\": \"tool_call\", \"id\": \"c2\", \"name\": \"book\", "
                             "\"arguments\": {\"when\": "
                             "{\"day\": 1.50, \"hour\": -0, \"big\": 9223372036854775807, "
                             "\"tiny\": 1e-7, \"e\": 2E+3}, "
                             "\"ok\": false, \"list\": [], \"obj\": {}}}]}, {\"role\": \"tool\", "
                             "\"parts\": [{\"type\": "
                             "\"tool_call_response\", \"id\": \"c2\", \"response\": \"booked\"}, "
                             "{\"type\": "
                             "\"tool_call_response\", \"id\": \"c1\", \"response\": [1, \"two\", "
                             "{\"3\": null}]}]}]",
     ANSWER("\"Done.\""), NULL, NULL, NULL, NULL},
    {"tool definitions: flat, nested, odd entries", 1, NULL, "[" USER("\"hi\"") "]",
     ANSWER("\"hello\""),
     "[{\"type\": \"function\", \"name\": \"get\", \"description\": \"Gets \\\"it\\\"\", "
     "\"parameters\": {\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"number\", "
     "\"minimum\": 0.5, \"maximum\": 10}}, \"required\": [\"n\"]}, \"strict\": true, \"extra\": "
     "1}, {\"type\": \"function\", \"function\": {\"name\": \"nested\", \"parameters\": {}}}, "
     "{\"function\": \"not an object\", \"name\": \"x\"}, 42, {}]",
     NULL, NULL, NULL},
    {"empty tools array", 1, NULL, "[" USER("\"hi\"") "]", ANSWER("\"hello\""), "[]", NULL, NULL,
     NULL},
    {"tools not an array", 1, NULL, "[" USER("\"hi\"") "]", ANSWER("\"hello\""),
     "{\"name\": \"x\"}", NULL, NULL, NULL},
    {"a user message with a tool result part", 0, NULL,
     "[{\"role\": \"user\", \"parts\": [{\"type\": \"text\", \"content\": \"hi\"}, {\"type\": "
     "\"tool_call_response\", \"id\": \"z\", \"response\": 1}]}]",
     ANSWER("\"hello\""), NULL, NULL, NULL, NULL},
    /* Rows the chat check rejects: the general path names the reason. */
    {"first message not from the user", 0, NULL, "[]", ANSWER("\"hello\""), NULL, NULL, NULL, NULL},
    {"last message not from the assistant", 0, NULL, "[" USER("\"hi\"") "]", "[]", NULL, NULL, NULL,
     NULL},
    {"empty user content", 0, NULL, "[" USER("\"\"") "]", ANSWER("\"hello\""), NULL, NULL, NULL,
     NULL},
    {"empty assistant content", 0, NULL, "[" USER("\"hi\"") "]", ANSWER("\"\""), NULL, NULL, NULL,
     NULL},
    {"unknown role", 0, NULL, "[" USER("\"hi\"") ", {\"role\": \"bot\", \"content\": \"x\"}]",
     ANSWER("\"hello\""), NULL, NULL, NULL, NULL},
    {"missing role", 0, NULL, "[{\"content\": \"hi\"}]", ANSWER("\"hello\""), NULL, NULL, NULL,
     NULL},
    {"tool call never answered", 0, NULL,
     "[" USER("\"hi\"") ", {\"role\": \"assistant\", \"parts\": [{\"type\": \"tool_call\", "
                        "\"id\": \"c1\", \"name\": \"f\", \"arguments\": {}}]}]",
     ANSWER("\"hello\""), NULL, NULL, NULL, NULL},
    {"tool result for an unknown call", 0, NULL,
     "[" USER("\"hi\"") ", {\"role\": \"tool\", \"parts\": [{\"type\": \"tool_call_response\", "
                        "\"id\": \"nope\", \"response\": \"x\"}]}]",
     ANSWER("\"hello\""), NULL, NULL, NULL, NULL},
    {"tool message without a result part", 0, NULL,
     "[" USER("\"hi\"") ", {\"role\": \"tool\", \"content\": \"x\"}]", ANSWER("\"hello\""), NULL,
     NULL, NULL, NULL},
    {"tool call arguments not JSON", 0, NULL,
     "[" USER("\"hi\"") ", {\"role\": \"assistant\", \"parts\": [{\"type\": \"tool_call\", "
                        "\"id\": \"c1\", \"name\": \"f\", \"arguments\": \"{not json\"}]}, "
                        "{\"role\": \"tool\", "
                        "\"parts\": [{\"type\": \"tool_call_response\", \"id\": \"c1\", "
                        "\"response\": \"r\"}]}]",
     ANSWER("\"hello\""), NULL, NULL, NULL, NULL},
    {"tool call without arguments, id or name", 0, NULL,
     "[" USER("\"hi\"") ", {\"role\": \"assistant\", \"parts\": [{\"type\": \"tool_call\", "
                        "\"id\": \"c1\", \"name\": \"f\"}, {\"type\": \"tool_call\", \"name\": "
                        "\"g\", \"arguments\": "
                        "{}}, {\"type\": \"tool_call\", \"id\": \"c3\", \"arguments\": {}}]}]",
     ANSWER("\"hello\""), NULL, NULL, NULL, NULL},
    {"system message after the first", 0, NULL,
     "[" USER("\"hi\"") ", {\"role\": \"system\", \"content\": \"late\"}]", ANSWER("\"hello\""),
     NULL, NULL, NULL, NULL},
    {"message not an object (an error of the general path)", 0, NULL, "[" USER("\"hi\"") ", 7]",
     ANSWER("\"hello\""), NULL, NULL, NULL, NULL},
    {"input not an array", 0, NULL, "{\"role\": \"user\"}", ANSWER("\"hello\""), NULL, NULL, NULL,
     NULL},
    /* Texts the transform leaves to the general path. */
    {"keys out of jsonb's order", 0, NULL, NULL, NULL, NULL,
     "[{\"parts\": [{\"type\": \"text\", \"content\": \"hi\"}], \"role\": \"user\"}]",
     "[{\"role\": \"assistant\", \"content\": \"hello\"}]", NULL},
    {"a repeated key", 0, NULL, NULL, NULL, NULL,
     "[{\"role\": \"user\", \"role\": \"user\", \"content\": \"hi\"}]",
     "[{\"role\": \"assistant\", \"content\": \"hello\"}]", NULL},
    {"an integer beyond 64 bits", 0, NULL, NULL, NULL, NULL,
     "[{\"role\": \"user\", \"content\": \"hi\", \"n\": 99999999999999999999}]",
     "[{\"role\": \"assistant\", \"content\": \"hello\"}]", NULL},
    {"a real that overflows", 0, NULL, NULL, NULL, NULL,
     "[{\"role\": \"user\", \"content\": \"hi\", \"n\": 1e999}]",
     "[{\"role\": \"assistant\", \"content\": \"hello\"}]", NULL},
    {"a NUL escape", 0, NULL, NULL, NULL, NULL,
     "[{\"role\": \"user\", \"content\": \"a\\u0000b\"}]",
     "[{\"role\": \"assistant\", \"content\": \"hello\"}]", NULL},
    {"a lone surrogate", 0, NULL, NULL, NULL, NULL,
     "[{\"role\": \"user\", \"content\": \"a\\ud800b\"}]",
     "[{\"role\": \"assistant\", \"content\": \"hello\"}]", NULL},
    {"invalid UTF-8 in the messages", 0, NULL, NULL, NULL, NULL,
     "[{\"role\": \"user\", \"content\": \"caf\xe9 \xed\xa0\x80\"}]",
     "[{\"role\": \"assistant\", \"content\": \"hello\"}]", NULL},
    {"invalid UTF-8 in the system instructions", 0, "bad \xc3\x28 byte", "[" USER("\"hi\"") "]",
     ANSWER("\"hello\""), NULL, NULL, NULL, NULL},
    {"a key with an escape", 0, NULL, NULL, NULL, NULL,
     "[{\"role\": \"user\", \"content\": \"hi\", \"a\\nb\": 1}]",
     "[{\"role\": \"assistant\", \"content\": \"hello\"}]", NULL},
    {"a correction in the labels", 0, NULL, "[" USER("\"hi\"") "]", ANSWER("\"hello\""), NULL, NULL,
     NULL,
     "{\"fix\": [{\"role\": \"assistant\", \"parts\": [{\"type\": \"text\", \"content\": "
     "\"corrected\"}]}]}"},
    {"a null correction", 0, NULL, "[" USER("\"hi\"") "]", ANSWER("\"hello\""), NULL, NULL, NULL,
     "{\"fix\": null, \"quality\": 4}"},
    {"labels without a correction", 1, NULL, "[" USER("\"hi\"") "]", ANSWER("\"hello\""), NULL,
     NULL, NULL, "{\"fixed\": true, \"quality\": 4}"},
};

static void fixture_row(fw_buf *rows, const fixture *fx, int i, const char *big)
{
    char id[40], conv[32];
    snprintf(id, sizeof id, "01900000-0000-7000-8000-%012d", i);
    snprintf(conv, sizeof conv, "conv-%d", i / 2);
    char *in = fx->input ? jsonb(fx->input) : NULL;
    char *out = fx->output ? jsonb(fx->output) : NULL;
    char *tools = fx->tools ? jsonb(fx->tools) : NULL;
    row r = {id,
             NULL,
             conv,
             big ? big : fx->system,
             in ? in : fx->raw_input,
             out ? out : fx->raw_output,
             tools,
             fx->labels};
    copy_row(rows, &r);
    free(in);
    free(out);
    free(tools);
}

static void test_fixtures(void)
{
    size_t nfix = sizeof fixtures / sizeof fixtures[0];
    fw_buf all = {0};
    for (size_t i = 0; i < nfix; i++) {
        fw_buf one = {0};
        fixture_row(&one, &fixtures[i], (int)i, NULL);
        long long fast = compare_all(&one, fixtures[i].name, 0);
        FWT_CHECK_MSG(fast == fixtures[i].fast, "%s: the transform wrote %lld lines, expected %d",
                      fixtures[i].name, fast, fixtures[i].fast);
        fw_buf_add(&all, one.data, one.len);
        /* A second copy: a duplicate for dedupe. */
        fw_buf_add(&all, one.data, one.len);
        fw_buf_free(&one);
    }
    /* A 1 MB text crosses the output buffer and the scanners' blocks. */
    static const char pattern[] = "abc def\"\\\n\t\x01\xc3\xa9 ";
    size_t plen = sizeof pattern - 1, nbig = 1024 * 1024 / plen * plen;
    char *big = malloc(nbig + 1);
    FWT_CHECK(big != NULL);
    for (size_t i = 0; i < nbig; i += plen)
        memcpy(big + i, pattern, plen); /* whole patterns: é stays whole */
    big[nbig] = '\0';
    fw_buf one = {0};
    fixture_row(&one, &fixtures[0], 1000, big);
    FWT_CHECK_EQ_INT(compare_all(&one, "a 1 MB system text", 1), 1);
    fw_buf_add(&all, one.data, one.len);
    fw_buf_free(&one);
    free(big);
    /* White-space variants for dedupe: the same answer with other runs of
     * white space is a duplicate; the missing generation is counted. */
    const char *variants[] = {ANSWER("\"same  answer\""), ANSWER("\" same\\n\\tanswer \""),
                              ANSWER("\"same answer.\"")};
    for (int i = 0; i < 3; i++) {
        char *in = jsonb("[" USER("\"q\"") "]"), *out = jsonb(variants[i]);
        row r = {"01900000-0000-7000-8000-00000000aaaa", NULL, "conv-v", "s", in, out, NULL, NULL};
        copy_row(&all, &r);
        free(in);
        free(out);
    }
    row missing = {"01900000-0000-7000-8000-00000000bbbb", "t", NULL, NULL, NULL, NULL, NULL, NULL};
    copy_row(&all, &missing);
    /* Rows that stop the export are left out of the stream of all rows. */
    fw_buf kept = {0};
    const char *p = all.data, *end = all.data + all.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)(nl - p) + 1;
        if (!memmem(p, n, ", 7]\t", 5) && !memmem(p, n, "bad \xc3\x28", 5))
            fw_buf_add(&kept, p, n);
        p += n;
    }
    compare_all(&kept, "all rows, duplicates and variants", 1);
    /* Dedupe did find them: every second copy of a line-giving row, and the
     * white-space variant. */
    fw_xopts o;
    fw_xopts_init(&o);
    FWT_CHECK(fw_xfmt_parse("openai-chat", NULL, &o.fmt) == 0);
    outcome oc;
    run(&o, 1, &kept, &oc);
    FWT_CHECK_MSG(!oc.failed, "%s", oc.error);
    FWT_CHECK_MSG(oc.res.duplicates >= 15 + 1, "only %lld duplicates", oc.res.duplicates);
    fw_buf_free(&oc.out);
    fw_buf_free(&kept);
    fw_buf_free(&all);
}

/* ---- generated conversations ---------------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static json_t *rnd_text(void)
{
    static const char *const bits[] = {"hello", " ",    "  ",   "\n", "\t",   "\"", "\\", "/",
                                       "\x01",  "\x1f", "\x7f", "é",  "日本", "😀",  "\r", "{",
                                       "}",     ",",    ":",    "0",  "x",    "\b", "\f", "\v"};
    fw_buf b = {0};
    unsigned n = rnd(20) ? 1 + rnd(12) : 0;
    for (unsigned i = 0; i < n; i++)
        fw_buf_adds(&b, bits[rnd(sizeof bits / sizeof bits[0])]);
    json_t *s = json_stringn(b.data ? b.data : "", b.len);
    fw_buf_free(&b);
    return s;
}

static json_t *rnd_value(int depth)
{
    switch (rnd(depth > 2 ? 5 : 8)) {
    case 0:
        return rnd_text();
    case 1:
        return json_integer((json_int_t)rnd(100000) - 50000);
    case 2:
        return json_real((double)rnd(100000) / 64.0 - 300.0);
    case 3:
        return rnd(2) ? json_true() : json_false();
    case 4:
        return json_null();
    case 5:
    case 6: {
        json_t *o = json_object();
        static const char *const keys[] = {"a", "bb", "type", "name", "x y", "é", "n1"};
        for (unsigned i = rnd(4); i > 0; i--)
            json_object_set_new(o, keys[rnd(7)], rnd_value(depth + 1));
        return o;
    }
    default: {
        json_t *a = json_array();
        for (unsigned i = rnd(4); i > 0; i--)
            json_array_append_new(a, rnd_value(depth + 1));
        return a;
    }
    }
}

static json_t *text_part(void)
{
    json_t *p = json_pack("{s:s}", "type", "text");
    json_object_set_new(p, "content", rnd(10) ? rnd_text() : rnd_value(0));
    return p;
}

static const char *rnd_id(void)
{
    static const char *const ids[] = {"c1", "c2", "call_\"q\"", "c\\4"};
    return ids[rnd(4)];
}

/* A plausible conversation (user, assistant with tool calls, tool results,
 * assistant), then a few random mutations. */
static json_t *rnd_messages(int output)
{
    json_t *msgs = json_array();
    if (!output) {
        if (rnd(4) == 0)
            json_array_append_new(msgs,
                                  json_pack("{s:s,s:[o]}", "role", rnd(2) ? "system" : "developer",
                                            "parts", text_part()));
        json_array_append_new(msgs, json_pack("{s:s,s:[o]}", "role", "user", "parts", text_part()));
        if (rnd(2)) {
            const char *id = rnd_id();
            json_t *args = rnd(3) ? rnd_value(0) : json_string("{\"k\": [1, 2]}");
            json_array_append_new(msgs, json_pack("{s:s,s:[{s:s,s:s,s:s,s:o}]}", "role",
                                                  "assistant", "parts", "type", "tool_call", "id",
                                                  id, "name", "fn", "arguments", args));
            json_array_append_new(msgs, json_pack("{s:s,s:[{s:s,s:s,s:o}]}", "role", "tool",
                                                  "parts", "type", "tool_call_response", "id", id,
                                                  "response", rnd_value(0)));
            if (rnd(2))
                json_array_append_new(
                    msgs, json_pack("{s:s,s:[o]}", "role", "user", "parts", text_part()));
            else
                json_array_append_new(msgs, json_pack("{s:s,s:[o],s:o}", "role", "assistant",
                                                      "parts", text_part(), "name", rnd_text()));
        }
    } else {
        json_t *parts = json_array();
        for (unsigned i = 1 + rnd(3); i > 0; i--)
            json_array_append_new(
                parts, rnd(5) ? text_part()
                              : json_pack("{s:s,s:s}", "type", "reasoning", "content", "hmm"));
        json_array_append_new(msgs, json_pack("{s:s,s:o}", "role", "assistant", "parts", parts));
    }
    /* Mutations: each keeps the text jsonb-shaped. */
    for (unsigned k = rnd(3) ? 0 : 1 + rnd(2); k > 0; k--) {
        json_t *m = json_array_get(msgs, rnd((unsigned)json_array_size(msgs)));
        switch (rnd(6)) {
        case 0:
            json_object_set_new(m, "role", json_string(rnd(2) ? "tool" : "assistant"));
            break;
        case 1:
            json_object_set_new(m, "content", rnd_text());
            break;
        case 2:
            json_object_set_new(m, "parts", rnd_value(1));
            break;
        case 3:
            json_object_del(m, "parts");
            break;
        case 4:
            json_array_append_new(json_object_get(m, "parts"), rnd_value(1));
            break;
        default:
            json_object_set_new(m, "extra", rnd_value(0));
        }
    }
    return msgs;
}

static void test_generated(void)
{
    fw_buf all = {0};
    long long fast = 0;
    const int n = 3000;
    for (int i = 0; i < n; i++) {
        json_t *in = rnd_messages(0), *out = rnd_messages(1), *tools = NULL;
        if (rnd(3) == 0) {
            tools = json_array();
            for (unsigned k = 1 + rnd(2); k > 0; k--)
                json_array_append_new(
                    tools, rnd(2) ? json_pack("{s:s,s:o}", "name", "t", "parameters", rnd_value(0))
                                  : rnd_value(1));
        }
        fw_buf bi = {0}, bo = {0}, bt = {0}, one = {0};
        jsonb_text(&bi, in);
        jsonb_text(&bo, out);
        if (tools)
            jsonb_text(&bt, tools);
        char id[40], conv[32];
        snprintf(id, sizeof id, "01900000-0000-7000-8000-%012d", i);
        snprintf(conv, sizeof conv, "conv-%d", i / 3);
        json_t *sys = rnd(2) ? rnd_text() : NULL;
        row r = {id,
                 NULL,
                 conv,
                 sys ? json_string_value(sys) : NULL,
                 bi.data,
                 bo.data,
                 tools ? bt.data : NULL,
                 NULL};
        copy_row(&one, &r);
        /* Each row alone (an error of the general path stops only it). */
        outcome a, b;
        fw_xopts o;
        fw_xopts_init(&o);
        FWT_CHECK(fw_xfmt_parse("openai-chat", NULL, &o.fmt) == 0);
        o.dedupe = 0;
        run(&o, 1, &one, &a);
        run(&o, 0, &one, &b);
        FWT_CHECK_MSG(a.failed == b.failed, "generated row %d: %s / %s\n%s", i, a.error, b.error,
                      one.data);
        FWT_CHECK_MSG(a.out.len == b.out.len &&
                          (a.out.len == 0 || memcmp(a.out.data, b.out.data, a.out.len) == 0) &&
                          a.res.rejected == b.res.rejected,
                      "generated row %d differs\nrow:          %s\ntransform:    %s\ngeneral "
                      "path: %s",
                      i, one.data, a.out.data ? a.out.data : "(none)",
                      b.out.data ? b.out.data : "(none)");
        fast += a.res.fast_lines;
        if (!a.failed)
            fw_buf_add(&all, one.data, one.len);
        fw_buf_free(&a.out);
        fw_buf_free(&b.out);
        fw_buf_free(&one);
        fw_buf_free(&bi);
        fw_buf_free(&bo);
        fw_buf_free(&bt);
        json_decref(in);
        json_decref(out);
        json_decref(tools);
        json_decref(sys);
    }
    /* The generator is meant to give mostly valid conversations. */
    FWT_CHECK_MSG(fast > n / 3, "the transform wrote only %lld of %d generated lines", fast, n);
    printf("generated: %d rows, %lld written by the transform\n", n, fast);
    compare_all(&all, "all generated rows", 1);
    fw_buf_free(&all);
}

int main(void)
{
    test_fixtures();
    test_generated();
    printf("ok\n");
    return 0;
}
