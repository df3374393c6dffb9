/* The HTML escaper: the five characters, UTF-8 repair, controls, bidi
 * overrides, long runs, and that escaped output never holds a raw < > " '. */
#include "fwtest.h"
#include "html.h"

static const char *esc(const char *s, size_t n)
{
    static sv_buf b;
    sv_buf_reset(&b);
    sv_esc_n(&b, s, n);
    return sv_buf_cstr(&b);
}
#define ESC(lit) esc(lit, sizeof lit - 1)

int main(void)
{
    FWT_CHECK_EQ_STR(ESC("plain text"), "plain text");
    FWT_CHECK_EQ_STR(ESC("a & b < c > d \" e ' f"), "a &amp; b &lt; c &gt; d &quot; e &#39; f");
    FWT_CHECK_EQ_STR(ESC("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
    FWT_CHECK_EQ_STR(ESC("\"><img src=x onerror=alert(1)>"),
                     "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    FWT_CHECK_EQ_STR(ESC("</textarea><b>"), "&lt;/textarea&gt;&lt;b&gt;");
    FWT_CHECK_EQ_STR(ESC("{{x}}"), "{{x}}");
    /* valid multi-byte text passes unchanged */
    FWT_CHECK_EQ_STR(ESC("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
                     "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    /* invalid UTF-8 → U+FFFD per bad byte; overlong, surrogate, > U+10FFFF, truncated */
    FWT_CHECK_EQ_STR(ESC("a\xFFz"), "a\xEF\xBF\xBDz");
    FWT_CHECK_EQ_STR(ESC("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
    FWT_CHECK_EQ_STR(ESC("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    FWT_CHECK_EQ_STR(ESC("\xF4\x90\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    FWT_CHECK_EQ_STR(ESC("x\xE2\x82"), "x\xEF\xBF\xBD\xEF\xBF\xBD");
    /* NUL and other C0 controls become U+FFFD; tab, newline, CR stay */
    FWT_CHECK_EQ_STR(esc("a\0b", 3), "a\xEF\xBF\xBD"
                                     "b");
    FWT_CHECK_EQ_STR(ESC("a\x01\x7F\tb\nc\r"), "a\xEF\xBF\xBD\xEF\xBF\xBD\tb\nc\r");
    /* bidirectional controls are shown, not obeyed */
    FWT_CHECK_EQ_STR(ESC("ab\xE2\x80\xAE"
                         "cd\xE2\x81\xA6"),
                     "ab[U+202E]cd[U+2066]");
    /* a long run mixing everything: no raw markup character survives */
    sv_buf in = {0};
    for (int i = 0; i < 10000; i++)
        sv_puts(&in, i % 7 ? "text " : "<a href='x'>\"&\"</a>\xFF");
    sv_buf out = {0};
    sv_esc_n(&out, in.data, in.len);
    FWT_CHECK(!out.oom);
    for (size_t i = 0; i < out.len; i++)
        FWT_CHECK(out.data[i] != '<' && out.data[i] != '>' && out.data[i] != '"' &&
                  out.data[i] != '\'');
    FWT_CHECK(sv_utf8_valid(out.data, out.len));
    sv_buf_free(&in);
    sv_buf_free(&out);
    /* sv_esc(NULL) appends nothing */
    sv_buf b = {0};
    sv_esc(&b, NULL);
    FWT_CHECK_EQ_INT(b.len, 0);
    /* URL encoding */
    sv_urlenc(&b, "support queue/β?&=");
    FWT_CHECK_EQ_STR(sv_buf_cstr(&b), "support%20queue%2F%CE%B2%3F%26%3D");
    sv_buf_free(&b);
    /* utf8 validation */
    FWT_CHECK(sv_utf8_valid("h\xC3\xA9", 3));
    FWT_CHECK(!sv_utf8_valid("h\xC3", 2));
    FWT_CHECK(!sv_utf8_valid("a\0b", 3));
    printf("ok\n");
    return 0;
}
