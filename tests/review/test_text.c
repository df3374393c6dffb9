/*
 * review_unit_text: the terminal reviewer's text layout — code point
 * counting, wrapping within the width, sentence offsets (ASCII and
 * multi-byte), and message rendering of tool calls.
 */
#include "fwtest.h"
#include "review_text.h"

static char *render_wrap(const char *text, int width)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    FWT_CHECK(m);
    fw_rt_wrap(m, text, width, "> ");
    fclose(m);
    return buf;
}

int main(void)
{
    FWT_CHECK_EQ_INT(fw_rt_chars("abc"), 3);
    FWT_CHECK_EQ_INT(fw_rt_chars("été"), 3); /* 5 bytes, 3 code points */
    FWT_CHECK_EQ_INT(fw_rt_chars("日本語"), 3);
    FWT_CHECK_EQ_INT(fw_rt_byte_at("été!", 3), 5);
    FWT_CHECK_EQ_INT(fw_rt_byte_at("ab", 9), 2);

    char *w = render_wrap("the quick brown fox jumps over the lazy dog", 10);
    FWT_CHECK_EQ_STR(w, "> the quick\n> brown fox\n> jumps over\n> the lazy\n> dog\n");
    free(w);
    w = render_wrap("abcdefghijklmnopqrstuvwxyz", 10); /* a word longer than the width is cut */
    FWT_CHECK_EQ_STR(w, "> abcdefghij\n> klmnopqrst\n> uvwxyz\n");
    free(w);
    w = render_wrap("éééééééééééé x", 10); /* measured in code points, not bytes */
    FWT_CHECK_EQ_STR(w, "> éééééééééé\n> éé x\n");
    free(w);
    w = render_wrap("one\n\ntwo", 10);
    FWT_CHECK_EQ_STR(w, "> one\n> \n> two\n");
    free(w);

    /* A hanging indent; the width counts the prefixes (issue 11 item 9). */
    {
        char *b = NULL;
        size_t sz = 0;
        FILE *hm = open_memstream(&b, &sz);
        FWT_CHECK(hm);
        fw_rt_wrap_hanging(hm, "aaa bbb ccc ddd eee fff", 14, "> ", "    ");
        fclose(hm);
        FWT_CHECK_EQ_STR(b, "> aaa bbb ccc\n    ddd eee\n    fff\n");
        free(b);
        /* Items joined, broken only between them: "]" never alone. */
        const char *items[] = {"env production", "release 1.2", "tags [\"a\", \"b\"]"};
        b = NULL;
        hm = open_memstream(&b, &sz);
        FWT_CHECK(hm);
        fw_rt_join_wrap(hm, items, 3, 30, " · ");
        fclose(hm);
        FWT_CHECK_EQ_STR(b, "env production · release 1.2\ntags [\"a\", \"b\"]\n");
        free(b);
    }

    fw_rt_span sp[8];
    size_t n = fw_rt_sentences("The sky is green. Water is wet.", sp, 8);
    FWT_CHECK_EQ_INT(n, 2);
    FWT_CHECK_EQ_INT(sp[0].start, 0);
    FWT_CHECK_EQ_INT(sp[0].end, 17);
    FWT_CHECK_EQ_INT(sp[1].start, 18);
    FWT_CHECK_EQ_INT(sp[1].end, 31);
    /* Multi-byte: offsets are code points, as PostgreSQL's length() counts. */
    n = fw_rt_sentences("  Déjà vu! Ça va?  Oui", sp, 8);
    FWT_CHECK_EQ_INT(n, 3);
    FWT_CHECK_EQ_INT(sp[0].start, 2);
    FWT_CHECK_EQ_INT(sp[0].end, 10);
    FWT_CHECK_EQ_INT(sp[1].start, 11);
    FWT_CHECK_EQ_INT(sp[1].end, 17);
    FWT_CHECK_EQ_INT(sp[2].start, 19);
    FWT_CHECK_EQ_INT(sp[2].end, 22);
    /* Decimal points and abbreviations without a following space do not split. */
    n = fw_rt_sentences("Pi is 3.14 roughly", sp, 8);
    FWT_CHECK_EQ_INT(n, 1);
    /* A blank line ends a sentence. */
    n = fw_rt_sentences("Heading\n\nBody text", sp, 8);
    FWT_CHECK_EQ_INT(n, 2);
    FWT_CHECK_EQ_INT(sp[0].end, 7);
    FWT_CHECK_EQ_INT(sp[1].start, 9);

    json_error_t err;
    json_t *msgs = json_loads("[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":"
                              "\"A. B.\"},{\"type\":\"tool_call\",\"id\":\"c1\",\"name\":\"get\","
                              "\"arguments\":{\"x\":1}}]}]",
                              0, &err);
    FWT_CHECK(msgs);
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    int no = 0;
    fw_rt_render_messages(m, msgs, 40, 1, &no);
    fclose(m);
    FWT_CHECK(strstr(buf, "── assistant ── (message 0)") != NULL);
    FWT_CHECK(strstr(buf, "s1 [0,2) A.") != NULL);
    FWT_CHECK(strstr(buf, "s2 [3,5) B.") != NULL);
    FWT_CHECK(strstr(buf, "tool call get({\"x\":1}) [id c1]") != NULL);
    FWT_CHECK_EQ_INT(no, 2);
    free(buf);
    json_decref(msgs);

    /* A sentence longer than the line continues under its first word. */
    msgs = json_loads("[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":"
                      "\"One two three four five six seven eight nine ten.\"}]}]",
                      0, &err);
    FWT_CHECK(msgs);
    buf = NULL;
    m = open_memstream(&buf, &size);
    no = 0;
    fw_rt_render_messages(m, msgs, 40, 1, &no);
    fclose(m);
    FWT_CHECK_MSG(strstr(buf, "    s1 [0,49) One two three four five\n"
                              "              six seven eight nine ten.\n") != NULL,
                  "%s", buf);
    free(buf);
    json_decref(msgs);
    printf("ok\n");
    return 0;
}
