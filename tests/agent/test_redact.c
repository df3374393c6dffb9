/*
 * Redaction detectors, each with true and false positives, operator regular
 * expressions, the custom callback, overlaps and the Luhn check.
 */
#include "fwtest.h"
#include "redact.h"

static fwr_redactor *R;

static void expect(const char *in, const char *want)
{
    char *out = NULL;
    size_t n;
    int rc = fwr_apply(R, in, strlen(in), &out, &n);
    FWT_CHECK_MSG(rc >= 0, "fwr_apply failed on \"%s\"", in);
    const char *got = rc ? out : in;
    FWT_CHECK_MSG(strcmp(got, want) == 0, "redact(\"%s\") = \"%s\", expected \"%s\"", in, got,
                  want);
    if (rc)
        FWT_CHECK_EQ_INT(n, strlen(out));
    free(out);
}

static void cb(void *opaque, const char *text, size_t len, fwr_matches *m)
{
    (void)opaque;
    const char *p = text;
    while ((p = memmem(p, len - (size_t)(p - text), "Zorblax", 7))) {
        FWT_CHECK(fwr_matches_add(m, (size_t)(p - text), 7, "CODENAME") == 0);
        p += 7;
    }
    FWT_CHECK(fwr_matches_add(m, len, 1, "X") == -1); /* outside the text */
}

/*
 * The pass classifies 64-byte blocks: every trigger is tried at every offset
 * from 0 to 140 (across two block boundaries and in the short tail), after
 * padding of words, punctuation and non-ASCII bytes, and at the very end of
 * the text.
 */
static const struct {
    const char *in, *want;
} shapes[] = {
    {"sk-proj-abcdefghijklmnopqrstuvwxyz012345", "[SECRET]"},
    {"sk_live_abcdefghijklmnop12", "[SECRET]"},
    {"sk_test_abcdefghijklmnop12", "[SECRET]"},
    {"rk_live_abcdefghijklmnop12", "[SECRET]"},
    {"pk_live_abcdefghijklmnop12", "[SECRET]"},
    {"ghp_0123456789abcdefghijklmnopqrstuvwxyz", "[SECRET]"},
    {"gho_0123456789abcdefghijklmnopqrstuvwxyz", "[SECRET]"},
    {"github_pat_0123456789abcdefghijklmnopqrstuvwxyz", "[SECRET]"},
    {"glpat-0123456789abcdefghij", "[SECRET]"},
    {"xoxb-0123456789ab", "[SECRET]"},
    {"hf_0123456789abcdefghijklmnopqrstuvwxyz", "[SECRET]"},
    {"AIza0123456789abcdefghijklmnopqrstuvwxy", "[SECRET]"},
    {"AKIAIOSFODNN7EXAMPLE", "[SECRET]"},
    {"ASIAIOSFODNN7EXAMPLE", "[SECRET]"},
    {"Bearer abcdefghijklmnop1234567890", "Bearer [SECRET]"},
    {"bearer abcdefghijklmnop1234567890", "bearer [SECRET]"},
    {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", "[SECRET]"},
    {"API_KEY=abcd1234efgh5678", "API_KEY=[SECRET]"},
    {"apikey: abcd1234efgh5678", "apikey: [SECRET]"},
    {"Api-Key=abcd1234efgh5678", "Api-Key=[SECRET]"},
    {"ACCESS_TOKEN=abcd1234efgh5678", "ACCESS_TOKEN=[SECRET]"},
    {"Secret=abcd1234efgh5678", "Secret=[SECRET]"},
    {"PASSWORD=hunter2hunter2", "PASSWORD=[SECRET]"},
    {"passwd=hunter2hunter2", "passwd=[SECRET]"},
    {"TOKEN=abcd1234efgh5678", "TOKEN=[SECRET]"},
    {"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----", "[SECRET]"},
    {"jane.doe@example.com", "[EMAIL]"},
    {"4111 1111 1111 1111", "[CARD]"},
    {"4111-1111-1111-1111", "[CARD]"},
    {"192.168.1.20", "[IP]"},
    {"+1 415 555 2671", "[PHONE]"},
    {"(415) 555-2671", "[PHONE]"},
    {"415-555-2671", "[PHONE]"},
    /* Near misses: the prefilter lets them through or not, the result is
     * the same. */
    {"total sku account secretary passage tokens", "total sku account secretary passage tokens"},
    {"sk-short task-list Bearer short eyJ.x", "sk-short task-list Bearer short eyJ.x"},
};

static void every_offset(void)
{
    static const char filler[] = "Tot al, caf\xc3\xa9 (x) 42; a-b ok. ";
    char in[512], want[512];
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        for (size_t off = 0; off <= 140; off++) {
            size_t w = 0;
            for (; w < off; w++)
                in[w] = filler[w % (sizeof filler - 1)];
            if (off)
                in[off - 1] = ' '; /* the shape starts a word */
            if (off >= 2 && in[off - 2] >= '0' && in[off - 2] <= '9')
                in[off - 2] = 'x'; /* "4 4111 ..." would be one longer number */
            memcpy(want, in, off);
            snprintf(in + off, sizeof in - off, "%s", shapes[k].in);
            snprintf(want + off, sizeof want - off, "%s", shapes[k].want);
            expect(in, want); /* at the end of the text */
            size_t l = strlen(in), lw = strlen(want);
            snprintf(in + l, sizeof in - l, " and more text after it");
            snprintf(want + lw, sizeof want - lw, " and more text after it");
            expect(in, want);
        }
    }
}

int main(void)
{
    FWT_CHECK(fwr_luhn_ok("4111111111111111", 16));
    FWT_CHECK(!fwr_luhn_ok("4111111111111112", 16));
    R = fwr_new(FWR_ALL);
    FWT_CHECK(R);
    /* e-mail */
    expect("mail jane.doe+tag@example.co.uk now", "mail [EMAIL] now");
    expect("user@localhost is not an address", "user@localhost is not an address");
    expect("@handle and a@b.c", "@handle and a@b.c");
    /* cards: Luhn-valid only, whole runs only */
    expect("card 4111 1111 1111 1111 ok", "card [CARD] ok");
    expect("card 4111-1111-1111-1111.", "card [CARD].");
    expect("not a card 4111 1111 1111 1112", "not a card 4111 1111 1111 1112");
    expect("id 41111111111111110000000", "id 41111111111111110000000");
    /* phones */
    expect("call +1 415 555 2671 today", "call [PHONE] today");
    expect("call (415) 555-2671", "call [PHONE]");
    expect("call 415-555-2671", "call [PHONE]");
    expect("ts 1700000000123 and order 12345678901", "ts 1700000000123 and order 12345678901");
    expect("date 2024-01-15", "date 2024-01-15");
    /* IPv4 */
    expect("from 192.168.1.20, to 10.0.0.1", "from [IP], to [IP]");
    expect("version 1.2.3 and 999.1.1.1 and 1.2.3.4.5",
           "version 1.2.3 and 999.1.1.1 and 1.2.3.4.5");
    /* secrets */
    expect("key sk-proj-abcdefghijklmnopqrstuvwxyz012345", "key [SECRET]");
    expect("Authorization: Bearer abcdefghijklmnop1234567890", "Authorization: Bearer [SECRET]");
    expect("AKIAIOSFODNN7EXAMPLE here", "[SECRET] here");
    expect("ghp_0123456789abcdefghijklmnopqrstuvwxyz", "[SECRET]");
    expect("tok "
           "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_"
           "XgL0n3I9PlFUP0THsR8U x",
           "tok [SECRET] x");
    expect("{\"api_key\": \"abcd1234efgh5678\"}", "{\"api_key\": \"[SECRET]\"}");
    expect("password=hunter2hunter2&x=1", "password=[SECRET]&x=1");
    expect("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nafter",
           "[SECRET]\nafter");
    expect("sk-short and task-list and the token is here",
           "sk-short and task-list and the token is here");
    expect("a risk-management plan", "a risk-management plan");
    /* The shared pass jumps from word to word: triggers right after
     * punctuation are still seen, a key word inside a longer word is not. */
    expect("(sk-proj-abcdefghijklmnopqrstuvwxyz012345)", "([SECRET])");
    expect("id=AKIAIOSFODNN7EXAMPLE;", "id=[SECRET];");
    expect("[4111 1111 1111 1111]", "[[CARD]]");
    expect("mail:jane@example.com,", "mail:[EMAIL],");
    expect("ip(10.0.0.1)", "ip([IP])");
    expect("tel:+1 415 555 2671.", "tel:[PHONE].");
    expect("Token: abcdefgh12345678", "Token: [SECRET]");
    expect("mytoken=abcdefgh12345678", "mytoken=abcdefgh12345678");
    /* nothing to do */
    expect("", "");
    expect("plain text, nothing to see", "plain text, nothing to see");
    fwr_free(R);

    /* Every shape at every offset, with each vector level this machine has
     * (the portable code, SSE2, AVX2). */
    int top = fwr_scan_level(-1);
    for (int level = 0; level <= top; level++) {
        FWT_CHECK_EQ_INT(fwr_scan_level(level), level);
        R = fwr_new(FWR_ALL);
        FWT_CHECK(R);
        every_offset();
        fwr_free(R);
    }
    fwr_scan_level(top);

    /* Only some detectors. */
    R = fwr_new(FWR_EMAIL);
    expect("a@b.io 4111 1111 1111 1111", "[EMAIL] 4111 1111 1111 1111");
    fwr_free(R);

    /* Operator rules and the callback; earlier rules win overlaps. */
    char err[256];
    FWT_CHECK(fwr_check_regex("(", err, sizeof err) == -1);
    FWT_CHECK(strstr(err, "invalid regular expression") == err);
    R = fwr_new(FWR_ALL);
    FWT_CHECK(fwr_add_regex(R, "order", "ORD-[0-9]{4,}", err, sizeof err) == 0);
    FWT_CHECK(fwr_add_regex(R, "empty", "(?:)", err, sizeof err) == 0);
    fwr_set_callback(R, cb, NULL);
    expect("order ORD-123456 for Zorblax at a@b.io", "order [ORDER] for [CODENAME] at [EMAIL]");
    expect("ünïcödé ORD-9999 ✓", "ünïcödé [ORDER] ✓");
    fwr_free(R);
    fwr_free(NULL);
    return 0;
}
