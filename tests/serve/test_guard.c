/* The request guards: the cross-origin decision table, constant-time
 * comparison, session expiry, tokens. */
#include "fwtest.h"
#include "guard.h"

int main(void)
{
    const char *me = "http://127.0.0.1:8080";
    struct {
        const char *sfs, *origin;
        sv_origin_verdict want;
    } table[] = {
        /* Sec-Fetch-Site decides when present */
        {"same-origin", NULL, SV_ORIGIN_OK},
        {"same-origin", "http://127.0.0.1:8080", SV_ORIGIN_OK},
        {"none", NULL, SV_ORIGIN_OK},
        {"same-site", "http://127.0.0.1:8080", SV_ORIGIN_CROSS_SITE},
        {"cross-site", NULL, SV_ORIGIN_CROSS_SITE},
        {"cross-site", "http://127.0.0.1:8080", SV_ORIGIN_CROSS_SITE},
        {"cross-site", "https://evil.example", SV_ORIGIN_CROSS_SITE},
        {"", NULL, SV_ORIGIN_CROSS_SITE},
        {"SAME-ORIGIN", NULL, SV_ORIGIN_CROSS_SITE},
        /* else Origin must be ours */
        {NULL, "http://127.0.0.1:8080", SV_ORIGIN_OK},
        {NULL, "HTTP://127.0.0.1:8080", SV_ORIGIN_OK},
        {NULL, "https://evil.example", SV_ORIGIN_MISMATCH},
        {NULL, "http://127.0.0.1:8081", SV_ORIGIN_MISMATCH},
        {NULL, "http://127.0.0.1:8080.evil.example", SV_ORIGIN_MISMATCH},
        {NULL, "null", SV_ORIGIN_MISMATCH},
        {NULL, "", SV_ORIGIN_MISMATCH},
        /* neither: passes here, the CSRF token still decides */
        {NULL, NULL, SV_ORIGIN_OK},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        FWT_CHECK_MSG(sv_origin_check(table[i].sfs, table[i].origin, me) == table[i].want,
                      "row %zu (Sec-Fetch-Site %s, Origin %s): got %s", i,
                      table[i].sfs ? table[i].sfs : "-", table[i].origin ? table[i].origin : "-",
                      sv_origin_verdict_name(sv_origin_check(table[i].sfs, table[i].origin, me)));
    FWT_CHECK_EQ_INT(sv_origin_check(NULL, "http://x", ""), SV_ORIGIN_MISMATCH);

    FWT_CHECK(sv_ct_equal("abc", "abc"));
    FWT_CHECK(!sv_ct_equal("abc", "abd"));
    FWT_CHECK(!sv_ct_equal("abc", "abcd"));
    FWT_CHECK(!sv_ct_equal("", "a"));
    FWT_CHECK(sv_ct_equal("", ""));
    FWT_CHECK(!sv_ct_equal(NULL, "a"));
    FWT_CHECK(!sv_ct_equal(NULL, NULL));

    /* idle 100 s, absolute 1000 s, created at 0 */
    FWT_CHECK_EQ_INT(sv_session_check(50, 0, 0, 100, 1000), SV_SESSION_VALID);
    FWT_CHECK_EQ_INT(sv_session_check(99.9, 0, 0, 100, 1000), SV_SESSION_VALID);
    FWT_CHECK_EQ_INT(sv_session_check(100, 0, 0, 100, 1000), SV_SESSION_IDLE);
    FWT_CHECK_EQ_INT(sv_session_check(990, 0, 900, 100, 1000), SV_SESSION_VALID);
    FWT_CHECK_EQ_INT(sv_session_check(1000, 0, 990, 100, 1000), SV_SESSION_ABSOLUTE);
    FWT_CHECK_EQ_INT(sv_session_check(5000, 0, 10, 100, 1000), SV_SESSION_ABSOLUTE);

    char a[SV_TOKEN_LEN + 1], b[SV_TOKEN_LEN + 1];
    FWT_CHECK(sv_token_new(a) == 0 && sv_token_new(b) == 0);
    FWT_CHECK_EQ_INT(strlen(a), SV_TOKEN_LEN);
    FWT_CHECK(strcmp(a, b) != 0);
    FWT_CHECK(sv_token_shape(a));
    FWT_CHECK(!sv_token_shape("short"));
    FWT_CHECK(!sv_token_shape(NULL));
    char bad[SV_TOKEN_LEN + 1];
    memcpy(bad, a, sizeof bad);
    bad[5] = '/';
    FWT_CHECK(!sv_token_shape(bad));
    char longer[SV_TOKEN_LEN + 2];
    snprintf(longer, sizeof longer, "%sA", a);
    FWT_CHECK(!sv_token_shape(longer));
    char h[65];
    sv_token_hash_hex("abc", h);
    FWT_CHECK_EQ_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    printf("ok\n");
    return 0;
}
