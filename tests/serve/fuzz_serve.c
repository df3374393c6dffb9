/*
 * libFuzzer target for the web server's handling of untrusted input: the
 * urlencoded form parser, the HTML escaper and the correction's word diff
 * (which escapes model output and reviewer text). The first byte picks the
 * target. Each input is checked against the promises
 * of the headers, not only for crashes (ASan/UBSan do those):
 *   form     the same fields and status whole, split at a point the input
 *            chooses, and byte by byte; every key and value valid UTF-8
 *            without NUL; values within max_field, fields within
 *            max_fields
 *   escaper  the output is valid UTF-8 and has no < > " ' and no & that
 *            does not start one of the five entities
 *   diff     the word diff of two halves holds only escaped text and
 *            <del>/<ins> tags
 * Built with clang (-fsanitize=fuzzer,address,undefined) when clang is
 * there; tests/serve/test_fuzz.sh runs it.
 */
#include "diff.h"
#include "form.h"
#include "html.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELD  64
#define MAX_FIELDS 16

static void die(const char *what)
{
    fprintf(stderr, "fuzz_serve: %s\n", what);
    abort();
}

static sv_form *parse(const uint8_t *d, size_t n, size_t split, int bytewise)
{
    sv_form *f = sv_form_new(n + 1, MAX_FIELD, MAX_FIELDS);
    if (!f)
        die("out of memory");
    if (bytewise) {
        for (size_t i = 0; i < n; i++)
            sv_form_feed(f, (const char *)d + i, 1);
    } else {
        sv_form_feed(f, (const char *)d, split);
        sv_form_feed(f, (const char *)d + split, n - split);
    }
    sv_form_finish(f);
    return f;
}

static void same_form(const sv_form *a, const sv_form *b)
{
    if (sv_form_status_of(a) != sv_form_status_of(b))
        die("form: status depends on how the body is split");
    if (sv_form_status_of(a) != SV_FORM_OK)
        return;
    if (sv_form_count(a) != sv_form_count(b))
        die("form: field count depends on the split");
    for (size_t i = 0; i < sv_form_count(a); i++) {
        size_t la, lb;
        const char *va = sv_form_value(a, i, &la), *vb = sv_form_value(b, i, &lb);
        if (strcmp(sv_form_key(a, i), sv_form_key(b, i)) != 0 || la != lb ||
            memcmp(va, vb, la) != 0)
            die("form: a field depends on the split");
    }
}

static void check_form(const uint8_t *d, size_t n)
{
    size_t split = n ? (size_t)d[0] % (n + 1) : 0;
    sv_form *whole = parse(d, n, n, 0), *two = parse(d, n, split, 0), *bytes = parse(d, n, 0, 1);
    same_form(whole, two);
    same_form(whole, bytes);
    if (sv_form_status_of(whole) == SV_FORM_OK) {
        if (sv_form_count(whole) > MAX_FIELDS)
            die("form: more fields than max_fields");
        for (size_t i = 0; i < sv_form_count(whole); i++) {
            size_t len;
            const char *k = sv_form_key(whole, i), *v = sv_form_value(whole, i, &len);
            if (len > MAX_FIELD || strlen(v) != len)
                die("form: value over max_field or with NUL");
            if (strlen(k) > SV_FORM_MAX_KEY || !sv_utf8_valid(k, strlen(k)) ||
                !sv_utf8_valid(v, len))
                die("form: key or value not valid UTF-8");
        }
    } else if (!sv_form_error(whole) || !*sv_form_error(whole)) {
        die("form: an error without a message");
    }
    sv_form_free(whole);
    sv_form_free(two);
    sv_form_free(bytes);
}

/* Escaped text: valid UTF-8, no markup characters, & only in an entity.
 * `tags` allows <del>, </del>, <ins>, </ins> (the diff's). */
static void check_escaped(const char *s, size_t n, int tags)
{
    static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
    static const char *const tagv[] = {"<del>", "</del>", "<ins>", "</ins>"};
    if (!sv_utf8_valid(s, n))
        die("escaper: output is not valid UTF-8");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '&') {
            int ok = 0;
            for (size_t e = 0; e < 5 && !ok; e++)
                ok = strncmp(s + i, ents[e], strlen(ents[e])) == 0;
            if (!ok)
                die("escaper: a bare &");
        } else if (s[i] == '<' && tags) {
            size_t t;
            for (t = 0; t < 4; t++)
                if (strncmp(s + i, tagv[t], strlen(tagv[t])) == 0)
                    break;
            if (t == 4)
                die("diff: markup other than <del>/<ins>");
            i += strlen(tagv[t]) - 1;
        } else if (s[i] == '<' || s[i] == '>' || s[i] == '"' || s[i] == '\'') {
            die("escaper: a markup character left");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    switch (data[0] % 3) {
    case 0:
        check_form(d, n);
        break;
    case 1: {
        sv_buf b = {0};
        sv_esc_n(&b, (const char *)d, n);
        check_escaped(b.data ? b.data : "", b.len, 0);
        sv_buf_free(&b);
        break;
    }
    default: {
        /* two NUL-free strings: the halves of the input */
        char *a = strndup((const char *)d, n / 2), *c = strndup((const char *)d + n / 2, n - n / 2);
        if (!a || !c)
            die("out of memory");
        sv_buf b = {0};
        if (sv_word_diff(&b, a, c) >= 0)
            check_escaped(b.data ? b.data : "", b.len, 1);
        sv_buf_free(&b);
        free(a);
        free(c);
        break;
    }
    }
    return 0;
}
