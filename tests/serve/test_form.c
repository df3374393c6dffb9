/* The urlencoded parser: the same fields whatever the split (every byte
 * position, and one byte at a time), decoding, repeated keys, and each cap
 * and error. */
#include "form.h"
#include "fwtest.h"

static const char BODY[] = "csrf=abc123&action=submit&correct=true&helpful=4"
                           "&note=caf%C3%A9+%26+%3Cb%3E&span%5Bs1%5D=factual+error"
                           "&empty=&flag&span%5Bs1%5D=second&eq=a%3Db=c";

static void check_fields(sv_form *f)
{
    FWT_CHECK_EQ_INT(sv_form_status_of(f), SV_FORM_OK);
    FWT_CHECK_EQ_INT(sv_form_count(f), 10);
    FWT_CHECK_EQ_STR(sv_form_get(f, "csrf"), "abc123");
    FWT_CHECK_EQ_STR(sv_form_get(f, "action"), "submit");
    FWT_CHECK_EQ_STR(sv_form_get(f, "note"), "caf\xC3\xA9 & <b>");
    FWT_CHECK_EQ_STR(sv_form_get(f, "span[s1]"), "factual error");
    FWT_CHECK_EQ_STR(sv_form_key(f, 7), "flag");
    FWT_CHECK_EQ_STR(sv_form_value(f, 7, NULL), "");
    FWT_CHECK_EQ_STR(sv_form_value(f, 8, NULL), "second");
    FWT_CHECK_EQ_STR(sv_form_get(f, "empty"), "");
    FWT_CHECK_EQ_STR(sv_form_get(f, "eq"), "a=b=c");
    size_t len = 0;
    sv_form_value(f, 4, &len);
    FWT_CHECK_EQ_INT(len, strlen("caf\xC3\xA9 & <b>"));
    FWT_CHECK(sv_form_get(f, "missing") == NULL);
}

static sv_form_status parse(const char *body, size_t n, size_t max_body, size_t max_field,
                            size_t max_fields, sv_form **out)
{
    sv_form *f = sv_form_new(max_body, max_field, max_fields);
    FWT_CHECK(f);
    sv_form_feed(f, body, n);
    sv_form_status st = sv_form_finish(f);
    *out = f;
    return st;
}

int main(void)
{
    size_t n = sizeof BODY - 1;
    /* split at every byte into two pieces */
    for (size_t cut = 0; cut <= n; cut++) {
        sv_form *f = sv_form_new(4096, 1024, 64);
        FWT_CHECK(f);
        sv_form_feed(f, BODY, cut);
        sv_form_feed(f, BODY + cut, n - cut);
        sv_form_finish(f);
        check_fields(f);
        sv_form_free(f);
    }
    /* three pieces at every pair of cut points (covers a split inside %XX twice) */
    for (size_t a = 0; a <= n; a += 3)
        for (size_t b = a; b <= n; b += 5) {
            sv_form *f = sv_form_new(4096, 1024, 64);
            sv_form_feed(f, BODY, a);
            sv_form_feed(f, BODY + a, b - a);
            sv_form_feed(f, BODY + b, n - b);
            sv_form_finish(f);
            check_fields(f);
            sv_form_free(f);
        }
    /* one byte at a time */
    sv_form *f = sv_form_new(4096, 1024, 64);
    for (size_t i = 0; i < n; i++)
        sv_form_feed(f, BODY + i, 1);
    sv_form_finish(f);
    check_fields(f);
    sv_form_free(f);

    /* caps: body, field (exactly at the cap passes), number of fields, key */
    FWT_CHECK_EQ_INT(parse(BODY, n, n, 1024, 64, &f), SV_FORM_OK);
    sv_form_free(f);
    FWT_CHECK_EQ_INT(parse(BODY, n, n - 1, 1024, 64, &f), SV_FORM_TOO_LARGE);
    FWT_CHECK(strstr(sv_form_error(f), "larger than"));
    sv_form_free(f);
    FWT_CHECK_EQ_INT(parse("note=12345", 10, 100, 5, 8, &f), SV_FORM_OK);
    sv_form_free(f);
    FWT_CHECK_EQ_INT(parse("note=123456", 11, 100, 5, 8, &f), SV_FORM_TOO_LARGE);
    FWT_CHECK_EQ_STR(sv_form_error(f), "field \"note\" is longer than 5 bytes");
    sv_form_free(f);
    FWT_CHECK_EQ_INT(parse("a=1&b=2&c=3", 11, 100, 5, 2, &f), SV_FORM_TOO_LARGE);
    sv_form_free(f);
    char key[300];
    memset(key, 'k', sizeof key);
    key[sizeof key - 1] = '\0';
    FWT_CHECK_EQ_INT(parse(key, strlen(key), 1000, 5, 2, &f), SV_FORM_BAD);
    sv_form_free(f);
    /* a body split so that the cap is crossed by the second piece */
    f = sv_form_new(10, 100, 8);
    FWT_CHECK_EQ_INT(sv_form_feed(f, "a=12345", 7), SV_FORM_OK);
    FWT_CHECK_EQ_INT(sv_form_feed(f, "6789", 4), SV_FORM_TOO_LARGE);
    FWT_CHECK_EQ_INT(sv_form_feed(f, "x", 1), SV_FORM_TOO_LARGE); /* keeps the first error */
    sv_form_free(f);

    /* bad input: percent escapes, NUL, invalid UTF-8, empty key */
    const char *bad[] = {"a=%zz", "a=%4", "a=%", "a=%00", "a=%FF", "%C3=1", "=value", "a=%C3%28"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FWT_CHECK_MSG(parse(bad[i], strlen(bad[i]), 100, 100, 8, &f) == SV_FORM_BAD,
                      "\"%s\" should be refused", bad[i]);
        FWT_CHECK(sv_form_error(f)[0] != '\0');
        sv_form_free(f);
    }
    /* empty bodies and stray separators */
    FWT_CHECK_EQ_INT(parse("", 0, 100, 100, 8, &f), SV_FORM_OK);
    FWT_CHECK_EQ_INT(sv_form_count(f), 0);
    sv_form_free(f);
    FWT_CHECK_EQ_INT(parse("&&a=1&&", 7, 100, 100, 8, &f), SV_FORM_OK);
    FWT_CHECK_EQ_INT(sv_form_count(f), 1);
    sv_form_free(f);
    printf("ok\n");
    return 0;
}
