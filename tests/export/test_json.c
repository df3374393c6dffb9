/*
 * The export's JSON reader and writer (export_json) against jansson, the
 * reference they must match byte for byte: recorded dataset versions were
 * written through jansson and must re-export to the same sha256.
 *
 *   - hand-picked texts (valid and invalid: numbers at the int64 and double
 *     limits, escapes, surrogates, NUL, control characters, bad UTF-8,
 *     depth, trailing text) parse to the same value or fail alike;
 *   - 20,000 generated values dump to the same bytes, and read back equal;
 *   - 20,000 random mutations of valid texts are accepted or refused alike.
 */
#include "export_json.h"
#include "fwtest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Compares fw_xjson_parse and fw_xjson_valid with json_loadb on text. */
static void same_parse(const char *text, size_t len)
{
    json_t *ref = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    json_t *ref_strict = json_loadb(text, len, JSON_DECODE_ANY, NULL);
    char *copy = malloc(len + 1);
    FWT_CHECK(copy != NULL);
    memcpy(copy, text, len);
    copy[len] = '\0';
    json_t *got = fw_xjson_parse(copy, len);
    FWT_CHECK_MSG((ref == NULL) == (got == NULL), "parse disagrees with jansson on %.*s", (int)len,
                  text);
    if (ref && got) {
        FWT_CHECK_MSG(json_equal(ref, got), "different value for %.*s", (int)len, text);
        char *a = json_dumps(ref, DUMP_FLAGS), *b = json_dumps(got, DUMP_FLAGS);
        FWT_CHECK_MSG(a && b && strcmp(a, b) == 0, "different value for %.*s", (int)len, text);
        free(a);
        free(b);
    }
    FWT_CHECK_MSG(fw_xjson_valid(text, len) == (ref_strict != NULL),
                  "valid disagrees with jansson on %.*s", (int)len, text);
    json_decref(ref);
    json_decref(ref_strict);
    json_decref(got);
    free(copy);
}

static void test_cases(void)
{
    static const char *const cases[] = {
        "{}",
        "[]",
        "0",
        "-0",
        "1",
        "-1",
        "01",
        "-",
        "1.",
        ".5",
        "1e5",
        "1E+5",
        "1e-05",
        "1.5e",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "-9223372036854775809",
        "1e308",
        "1e309",
        "-1e309",
        "1e-400",
        "0.1",
        "123456789.123456789",
        "true",
        "false",
        "null",
        "tru",
        "nul",
        "truex",
        "true false",
        "[1,]",
        "[,1]",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{1:2}",
        "{\"a\":1}x",
        " \t\n\r[ 1 , 2 ]\r\n",
        "\"\"",
        "\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"",
        "\"\\u0041\\u00e9\\u20AC\"",
        "\"\\ud83d\\ude00\"",
        "\"\\ud83d\"",
        "\"\\ude00\"",
        "\"\\ud83dx\"",
        "\"\\ud83d\\u0041\"",
        "\"\\u0000\"",
        "{\"a\\u0000b\":1}",
        "\"\\x41\"",
        "\"\\u12\"",
        "\"tab\there\"",
        "\"\xc3\xa9\"",
        "\"\xc3\"",
        "\"\xc0\xaf\"",
        "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"",
        "\"\xe2\x82\xac\"",
        "\"\xf0\x9f\x98\x80\"",
        "\"\xff\"",
        "[\"a\",{\"b\":[null,true,1.5,-2]}]",
        "{\"b\":1,\"a\":2,\"b\":3}",
        "",
        " ",
        "[1] [2]",
        "\"unterminated",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        same_parse(cases[i], strlen(cases[i]));
    same_parse("\"a\0b\"", 5); /* a raw NUL */

    /* Nesting: jansson allows 2048 levels. */
    char deep[2 * 2050 + 1];
    for (int depth = 2047; depth <= 2050; depth++) {
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        same_parse(deep, 2 * (size_t)depth);
    }
}

static json_t *gen_value(int depth);

static json_t *gen_string(void)
{
    static const char *const pieces[] = {"a",
                                         " ",
                                         "\"",
                                         "\\",
                                         "/",
                                         "\n",
                                         "\t",
                                         "\r",
                                         "\b",
                                         "\f",
                                         "\x01",
                                         "\x1f",
                                         "\x7f",
                                         "\xc3\xa9",
                                         "\xe2\x80\xa8",
                                         "\xf0\x9f\x98\x80",
                                         "\xe4\xb8\xad",
                                         "Z",
                                         "0",
                                         "{"};
    char buf[128];
    size_t n = 0, parts = next() % 12;
    for (size_t i = 0; i < parts; i++) {
        const char *p = pieces[next() % (sizeof pieces / sizeof pieces[0])];
        size_t l = strlen(p);
        if (n + l >= sizeof buf)
            break;
        memcpy(buf + n, p, l);
        n += l;
    }
    return json_stringn(buf, n);
}

static json_t *gen_real(void)
{
    for (;;) {
        double d;
        uint64_t bits = next();
        switch (next() % 4) {
        case 0:
            memcpy(&d, &bits, sizeof d);
            break;
        case 1:
            d = (double)(int64_t)(bits % 2000001) - 1000000.0;
            break;
        case 2:
            d = (double)(bits % 100000) / 1000.0;
            break;
        default:
            d = (double)(bits % 1000) * 1e-7;
        }
        json_t *r = json_real(d);
        if (r)
            return r; /* json_real refuses NaN and infinities */
    }
}

static json_t *gen_value(int depth)
{
    unsigned kind = (unsigned)(next() % (depth > 3 ? 6 : 8));
    switch (kind) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(next() & 1);
    case 2:
        return json_integer((json_int_t)next() >> (next() % 64));
    case 3:
        return gen_real();
    case 4:
    case 5:
        return gen_string();
    case 6: {
        json_t *a = json_array();
        for (uint64_t i = next() % 5; i > 0; i--)
            json_array_append_new(a, gen_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (uint64_t i = next() % 5; i > 0; i--) {
            json_t *k = gen_string();
            json_object_set_new(o, json_string_value(k), gen_value(depth + 1));
            json_decref(k);
        }
        return o;
    }
    }
}

static void test_dump(void)
{
    fw_buf b = {0};
    for (int i = 0; i < 20000; i++) {
        json_t *v = gen_value(0);
        char *ref = json_dumps(v, DUMP_FLAGS);
        fw_buf_reset(&b);
        FWT_CHECK(ref != NULL);
        FWT_CHECK(fw_xjson_dump(v, &b) == 0);
        FWT_CHECK_MSG(strcmp(ref, b.data) == 0, "dump differs:\n  jansson %s\n  ours    %s", ref,
                      b.data);
        json_t *back = fw_xjson_parse(b.data, b.len);
        FWT_CHECK_MSG(back && json_equal(back, v), "does not read back: %s", ref);
        json_decref(back);
        free(ref);
        json_decref(v);
    }
    /* A string jansson refuses to dump (invalid UTF-8) is refused too. */
    json_t *bad = json_stringn_nocheck("\xff", 1);
    fw_buf_reset(&b);
    FWT_CHECK(json_dumps(bad, DUMP_FLAGS) == NULL);
    FWT_CHECK(fw_xjson_dump(bad, &b) == -1);
    json_decref(bad);
    fw_buf_free(&b);
}

static void test_mutations(void)
{
    static const char alphabet[] = "{}[],:\"\\ 0123456789.eE+-tfnulrsa\x01\xc3\xa9\xff";
    for (int i = 0; i < 20000; i++) {
        json_t *v = gen_value(1);
        char *text = json_dumps(v, DUMP_FLAGS);
        size_t len = strlen(text);
        for (uint64_t m = 1 + next() % 3; m > 0 && len > 0; m--) {
            size_t at = (size_t)(next() % len);
            switch (next() % 3) {
            case 0: /* replace */
                text[at] = alphabet[next() % (sizeof alphabet - 1)];
                break;
            case 1: /* delete */
                memmove(text + at, text + at + 1, len - at);
                len--;
                break;
            default: /* truncate */
                len = at;
                text[len] = '\0';
            }
        }
        same_parse(text, len);
        free(text);
        json_decref(v);
    }
}

int main(void)
{
    test_cases();
    test_dump();
    test_mutations();
    return 0;
}
