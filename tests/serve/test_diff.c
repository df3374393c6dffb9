/* The word diff of the correction preview. */
#include "diff.h"
#include "fwtest.h"

static const char *d(const char *a, const char *b, long *changed)
{
    static sv_buf out;
    sv_buf_reset(&out);
    *changed = sv_word_diff(&out, a, b);
    return sv_buf_cstr(&out);
}

int main(void)
{
    long n;
    FWT_CHECK_EQ_STR(d("same text here", "same text here", &n), "same text here");
    FWT_CHECK_EQ_INT(n, 0);
    FWT_CHECK_EQ_STR(d("", "", &n), "");
    FWT_CHECK_EQ_INT(n, 0);
    FWT_CHECK_EQ_STR(
        d("You have two accounts.", "You have one account.", &n),
        "You have <del>two</del><ins>one</ins> <del>accounts.</del><ins>account.</ins>");
    FWT_CHECK_EQ_INT(n, 4);
    FWT_CHECK_EQ_STR(d("a b c", "a c", &n), "a <del>b</del><del> </del>c");
    FWT_CHECK_EQ_STR(d("a c", "a b c", &n), "a <ins>b</ins><ins> </ins>c");
    FWT_CHECK_EQ_STR(d("", "new", &n), "<ins>new</ins>");
    FWT_CHECK_EQ_STR(d("old", "", &n), "<del>old</del>");
    /* pieces are escaped: model text is never markup */
    FWT_CHECK_EQ_STR(d("<b>x</b> y", "<i>x</i> y", &n),
                     "<del>&lt;b&gt;x&lt;/b&gt;</del><ins>&lt;i&gt;x&lt;/i&gt;</ins> y");
    /* a whitespace-only change shows */
    FWT_CHECK_EQ_STR(d("a b", "a  b", &n), "a<del> </del><ins>  </ins>b");
    /* too large for the table: the middle is replaced wholesale, still correct */
    sv_buf a = {0}, b = {0};
    for (int i = 0; i < 3000; i++) {
        sv_printf(&a, "w%d ", i);
        sv_printf(&b, "v%d ", i);
    }
    sv_buf out = {0};
    n = sv_word_diff(&out, sv_buf_cstr(&a), sv_buf_cstr(&b));
    FWT_CHECK(n > 0);
    FWT_CHECK(strstr(sv_buf_cstr(&out), "<del>w0</del>") != NULL);
    FWT_CHECK(strstr(sv_buf_cstr(&out), "<ins>v2999</ins>") != NULL);
    sv_buf_free(&a);
    sv_buf_free(&b);
    sv_buf_free(&out);
    printf("ok\n");
    return 0;
}
