/*
 * Unit tests of the export library's building blocks: message conversion,
 * the seeded split, the whitespace-normalised dedupe hash and set, the
 * line validator's reasons, and the COPY text-format row splitter.
 */
#include "fw_buf.h"
#include "export_check.h"
#include "export_copy.h"
#include "export_conv.h"
#include "export_select.h"
#include "fw_utf8.h"
#include "export_split.h"
#include "fwtest.h"

#include <math.h>

static char *dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

static json_t *load(const char *s)
{
    json_error_t e;
    json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
    FWT_CHECK_MSG(v != NULL, "bad test json: %s: %s", e.text, s);
    return v;
}

static void test_conv(void)
{
    json_t *in = load(
        "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Weather in Paris?\"}]},"
        "{\"role\":\"assistant\",\"parts\":[{\"type\":\"reasoning\",\"content\":\"think\"},"
        "{\"type\":\"tool_call\",\"id\":\"c1\",\"name\":\"weather\",\"arguments\":{\"city\":"
        "\"Paris\",\"n\":1}}]},"
        "{\"role\":\"tool\",\"parts\":[{\"type\":\"tool_call_response\",\"id\":\"c1\",\"response\":"
        "{\"t\":21}}]}]");
    json_t *out = fw_xconv_prompt("Be brief.", in, 0);
    FWT_CHECK(out != NULL);
    char *s = dump(out);
    FWT_CHECK_EQ_STR(
        s,
        "[{\"role\":\"system\",\"content\":\"Be brief.\"},"
        "{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"
        "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":"
        "{\"name\":\"weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\",\\\"n\\\":1}\"}}],"
        "\"weight\":0},"
        "{\"role\":\"tool\",\"content\":\"{\\\"t\\\":21}\",\"tool_call_id\":\"c1\"}]");
    FWT_CHECK(fw_xcheck_chat(out, 0) == NULL);
    FWT_CHECK_EQ_STR(fw_xcheck_chat(out, 1), "last_not_assistant");
    free(s);
    json_decref(out);

    /* A system message in the input wins over system_instructions;
     * developer maps to system; several text parts join with "\n". */
    json_t *in2 =
        load("[{\"role\":\"developer\",\"parts\":[{\"type\":\"text\",\"content\":\"A\"},"
             "{\"type\":\"text\",\"content\":\"B\"}]},{\"role\":\"user\",\"name\":\"ann\","
             "\"parts\":[{\"type\":\"text\",\"content\":\"hi\"}]}]");
    out = fw_xconv_prompt("ignored", in2, FW_XW_NONE);
    s = dump(out);
    FWT_CHECK_EQ_STR(s, "[{\"role\":\"system\",\"content\":\"A\\nB\"},"
                        "{\"role\":\"user\",\"content\":\"hi\",\"name\":\"ann\"}]");
    free(s);
    json_decref(out);

    json_t *tools = load("[{\"type\":\"function\",\"name\":\"weather\",\"description\":\"d\","
                         "\"parameters\":{\"type\":\"object\"}},"
                         "{\"type\":\"function\",\"function\":{\"name\":\"x\"}}]");
    out = fw_xconv_tools(tools);
    s = dump(out);
    FWT_CHECK_EQ_STR(s,
                     "[{\"type\":\"function\",\"function\":{\"name\":\"weather\",\"description\":"
                     "\"d\",\"parameters\":{\"type\":\"object\"}}},"
                     "{\"type\":\"function\",\"function\":{\"name\":\"x\"}}]");
    free(s);
    json_decref(out);
    json_decref(tools);
    json_decref(in);
    json_decref(in2);

    /* UTF-8 offsets: code points, not bytes. */
    const char *u = "h\xc3\xa9llo \xe2\x82\xac!";
    FWT_CHECK_EQ_INT(fw_utf8_offset(u, strlen(u), 2), 3);
    FWT_CHECK_EQ_INT(fw_utf8_offset(u, strlen(u), 7), 10);
    FWT_CHECK_EQ_INT(fw_utf8_offset(u, strlen(u), 99), strlen(u));
    FWT_CHECK_EQ_INT(fw_utf8_count(u, strlen(u)), 8);
}

static int nsent;
static char sents[16][128];
static const char *sent_text;
static void on_sent(void *ctx, const fw_store_sentence *sent)
{
    (void)ctx;
    snprintf(sents[nsent++], sizeof sents[0], "%.*s", (int)(sent->byte_end - sent->byte_start),
             sent_text + sent->byte_start);
}

static size_t split(const char *text, fw_store_sentence_rules rules)
{
    sent_text = text;
    nsent = 0;
    return fw_store_sentences(text, strlen(text), rules, on_sent, NULL);
}

static void test_sentences(void)
{
    /* The legacy rules stay exactly what recorded versions were cut with. */
    for (int rules = FW_STORE_SENTENCES_ASCII; rules <= FW_STORE_SENTENCES_V2; rules++) {
        FWT_CHECK_EQ_INT(split("Paris is in France.  It has 2.1M people!\nIs it big? yes",
                               (fw_store_sentence_rules)rules),
                         4);
        FWT_CHECK_EQ_STR(sents[0], "Paris is in France.");
        FWT_CHECK_EQ_STR(sents[1], "It has 2.1M people!");
        FWT_CHECK_EQ_STR(sents[2], "Is it big?");
        FWT_CHECK_EQ_STR(sents[3], "yes");
        FWT_CHECK_EQ_INT(split("   \n\n ", (fw_store_sentence_rules)rules), 0);
    }

    /* Unicode rules: ideographic marks need no space, closers stay with
     * their sentence, runs of marks are one end, other scripts' marks. */
    const char *jp = "東京は日本の首都です。人口は多い！本当？「はい。」He said \"go.\" Then?! "
                     "\xd9\x87\xd9\x84\xd8\x9f \xe0\xa4\xb9\xe0\xa5\xa4 end";
    FWT_CHECK_EQ_INT(split(jp, FW_STORE_SENTENCES_V2), 9);
    FWT_CHECK_EQ_INT(split(jp, FW_STORE_SENTENCES_UNICODE), 9);
    FWT_CHECK_EQ_STR(sents[0], "東京は日本の首都です。");
    FWT_CHECK_EQ_STR(sents[1], "人口は多い！");
    FWT_CHECK_EQ_STR(sents[2], "本当？");
    FWT_CHECK_EQ_STR(sents[3], "「はい。」");
    FWT_CHECK_EQ_STR(sents[4], "He said \"go.\"");
    FWT_CHECK_EQ_STR(sents[5], "Then?!");
    FWT_CHECK_EQ_STR(sents[6], "\xd9\x87\xd9\x84\xd8\x9f"); /* Arabic question mark */
    FWT_CHECK_EQ_STR(sents[7], "\xe0\xa4\xb9\xe0\xa5\xa4"); /* Devanagari danda */
    FWT_CHECK_EQ_STR(sents[8], "end");
    /* The ASCII rules (what versions recorded before keep using) cut only
     * after "Then?!" and keep the rest whole. */
    FWT_CHECK_EQ_INT(split(jp, FW_STORE_SENTENCES_ASCII), 2);

    /* New classifier exports record the V2 rules; parameters recorded with
     * "unicode", or before the rules existed (no "sentences": ASCII), keep
     * theirs, so their re-export is byte-identical. */
    fw_xopts o;
    fw_xopts_init(&o);
    o.fmt = FW_XFMT_CLASSIFIER;
    FWT_CHECK_EQ_INT(o.sentence_rules, FW_STORE_SENTENCES_V2);
    json_t *p = fw_xopts_to_json(&o);
    FWT_CHECK_EQ_STR(json_string_value(json_object_get(p, "sentences")), "v2");
    char err[256];
    fw_xopts back;
    fw_xopts_init(&back);
    FWT_CHECK(fw_xopts_from_json(&back, p, err, sizeof err) == 0);
    FWT_CHECK_EQ_INT(back.sentence_rules, FW_STORE_SENTENCES_V2);
    json_object_set_new(p, "sentences", json_string("unicode"));
    FWT_CHECK(fw_xopts_from_json(&back, p, err, sizeof err) == 0);
    FWT_CHECK_EQ_INT(back.sentence_rules, FW_STORE_SENTENCES_UNICODE);
    json_object_set_new(p, "sentences", json_string("v9"));
    FWT_CHECK(fw_xopts_from_json(&back, p, err, sizeof err) != 0);
    json_object_del(p, "sentences");
    FWT_CHECK(fw_xopts_from_json(&back, p, err, sizeof err) == 0);
    FWT_CHECK_EQ_INT(back.sentence_rules, FW_STORE_SENTENCES_ASCII);

    /* Issue 11 item 4: new classifier exports record what an output without
     * spans means; a version recorded before (no "unmarked_spans") keeps
     * the old rule (no line), so its re-export stays byte-identical. */
    FWT_CHECK_EQ_STR(json_string_value(json_object_get(p, "unmarked_spans")), "negative");
    FWT_CHECK(fw_xopts_from_json(&back, p, err, sizeof err) == 0 && back.unmarked_negative == 1);
    json_object_set_new(p, "unmarked_spans", json_string("unknown"));
    FWT_CHECK(fw_xopts_from_json(&back, p, err, sizeof err) == 0 && back.unmarked_negative == 0);
    json_object_del(p, "unmarked_spans");
    back.unmarked_negative = 1;
    FWT_CHECK(fw_xopts_from_json(&back, p, err, sizeof err) == 0 && back.unmarked_negative == 0);
    json_decref(p);

    /* Issue 11 item 2: by default only the reviewed output is a training
     * target (weights on); a recorded openai-chat version says so, and one
     * recorded without weights keeps none. */
    fw_xopts_init(&o);
    FWT_CHECK_EQ_INT(o.weights, 1);
    o.fmt = FW_XFMT_OPENAI_CHAT;
    p = fw_xopts_to_json(&o);
    FWT_CHECK(json_is_true(json_object_get(p, "weights")));
    json_object_set_new(p, "weights", json_false());
    FWT_CHECK(fw_xopts_from_json(&back, p, err, sizeof err) == 0 && back.weights == 0);
    json_decref(p);
}

static void test_split(void)
{
    double r[3];
    FWT_CHECK(fw_xsplit_parse_ratios("80/10/10", r) == 0);
    FWT_CHECK(fabs(r[0] - 0.8) < 1e-12 && fabs(r[2] - 0.1) < 1e-12);
    FWT_CHECK(fw_xsplit_parse_ratios("0.8:0.1:0.1", r) == 0 && fabs(r[1] - 0.1) < 1e-12);
    FWT_CHECK(fw_xsplit_parse_ratios("33.4/33.3/33.3", r) == 0);
    /* Issue 11 item 12: ratios that do not add up to 100 (or 1) are a
     * mistake to report, never rescaled. */
    r[0] = -1;
    FWT_CHECK(fw_xsplit_parse_ratios("80/10/20", r) == -1 && r[0] == -1);
    FWT_CHECK(fw_xsplit_parse_ratios("8:1:1", r) == -1);
    FWT_CHECK(fw_xsplit_parse_ratios("0.8,0.1,0.2", r) == -1);
    FWT_CHECK(fw_xsplit_parse_ratios("0.7,0.3,0", r) == 0 && r[2] == 0);
    FWT_CHECK(fw_xsplit_parse_ratios("80/10", r) == -1);
    FWT_CHECK(fw_xsplit_parse_ratios("80/-1/10", r) == -1);
    FWT_CHECK(fw_xsplit_parse_ratios("0/0/0", r) == -1);
    FWT_CHECK(fw_xsplit_parse_ratios("1/2/3x", r) == -1);

    /* The documented formula, recomputed in Python:
     * int.from_bytes(sha256(b"42\x1fconv-1").digest()[:8], "big") >> 11) / 2**53 */
    FWT_CHECK(fabs(fw_xsplit_point("42", "conv-1") - 0.6914539833817172) < 1e-15);
    FWT_CHECK(fabs(fw_xsplit_point("42", "conv-2") - 0.5374291971414286) < 1e-15);
    FWT_CHECK(fabs(fw_xsplit_point("seed", "") - 0.5872304639699378) < 1e-15);

    /* 20k groups at 80/10/10 land within 2 points of the ratios. */
    fw_xsplit_parse_ratios("80/10/10", r);
    int n[3] = {0, 0, 0};
    for (int i = 0; i < 20000; i++) {
        char g[32];
        snprintf(g, sizeof g, "group-%d", i);
        fw_xsplit s = fw_xsplit_assign("7", g, r);
        FWT_CHECK(s == fw_xsplit_assign("7", g, r));
        n[s]++;
    }
    FWT_CHECK_MSG(abs(n[0] - 16000) < 400 && abs(n[1] - 2000) < 400 && abs(n[2] - 2000) < 400,
                  "split counts %d/%d/%d", n[0], n[1], n[2]);
    /* A zero test ratio never yields test. */
    FWT_CHECK(fw_xsplit_parse_ratios("50/50/0", r) == 0);
    for (int i = 0; i < 2000; i++) {
        char g[32];
        snprintf(g, sizeof g, "g%d", i);
        FWT_CHECK(fw_xsplit_assign("x", g, r) != FW_XSPLIT_TEST);
    }
    FWT_CHECK_EQ_STR(fw_xsplit_name(FW_XSPLIT_VALIDATION), "validation");
}

static void test_dedupe(void)
{
    json_t *a = load("{\"messages\":[{\"role\":\"user\",\"content\":\"  hello \\n\\t world \"}]}");
    json_t *b = load("{\"messages\":[{\"role\":\"user\",\"content\":\"hello world\"}]}");
    json_t *c = load("{\"messages\":[{\"role\":\"user\",\"content\":\"helloworld\"}]}");
    json_t *d = load("{\"messages\":[{\"role\":\"assistant\",\"content\":\"hello world\"}]}");
    FWT_CHECK(fw_xdedupe_hash(a) == fw_xdedupe_hash(b));
    FWT_CHECK(fw_xdedupe_hash(a) != fw_xdedupe_hash(c));
    FWT_CHECK(fw_xdedupe_hash(b) != fw_xdedupe_hash(d));
    fw_xdedupe set = {0};
    FWT_CHECK_EQ_INT(fw_xdedupe_add(&set, fw_xdedupe_hash(a)), 1);
    FWT_CHECK_EQ_INT(fw_xdedupe_add(&set, fw_xdedupe_hash(b)), 0);
    FWT_CHECK_EQ_INT(fw_xdedupe_add(&set, fw_xdedupe_hash(c)), 1);
    /* Growth keeps every member. */
    for (uint64_t i = 1; i <= 100000; i++)
        FWT_CHECK(fw_xdedupe_add(&set, i * 0x9e3779b97f4a7c15ULL) == 1);
    for (uint64_t i = 1; i <= 100000; i++)
        FWT_CHECK(fw_xdedupe_add(&set, i * 0x9e3779b97f4a7c15ULL) == 0);
    FWT_CHECK_EQ_INT(set.count, 100002);
    fw_xdedupe_free(&set);

    /* The same answers when the table moves to a file past a small memory
     * limit: 30k adds with every third one a repeat, against a set that
     * stays in memory. */
    fw_xdedupe mem = {0}, file = {0};
    file.max_mem = 256;
    for (uint64_t i = 1; i <= 30000; i++) {
        uint64_t h = (i % 3 == 0 ? i / 3 : i) * 0x9e3779b97f4a7c15ULL;
        int in_mem = fw_xdedupe_add(&mem, h), in_file = fw_xdedupe_add(&file, h);
        FWT_CHECK_MSG(in_mem == in_file && in_mem >= 0, "add %llu: memory %d, file %d",
                      (unsigned long long)i, in_mem, in_file);
    }
    FWT_CHECK(file.on_file && file.slots == NULL && !mem.on_file);
    FWT_CHECK_EQ_INT((long long)file.count, (long long)mem.count);
    fw_xdedupe_free(&mem);
    fw_xdedupe_free(&file);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
}

static void expect_reason(const char *messages, int sft, const char *why)
{
    json_t *m = load(messages);
    const char *got = fw_xcheck_chat(m, sft);
    FWT_CHECK_MSG((why == NULL && got == NULL) || (why && got && strcmp(why, got) == 0),
                  "%s: expected %s, got %s", messages, why ? why : "ok", got ? got : "ok");
    json_decref(m);
}

#define U "{\"role\":\"user\",\"content\":\"q\"}"
#define A "{\"role\":\"assistant\",\"content\":\"a\"}"
#define S "{\"role\":\"system\",\"content\":\"s\"}"
#define CALL(id, args)                                                                             \
    "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"" id "\",\"type\":\"function\","            \
    "\"function\":{\"name\":\"f\",\"arguments\":\"" args "\"}}]}"
#define TOOL(id) "{\"role\":\"tool\",\"content\":\"r\",\"tool_call_id\":\"" id "\"}"

static void test_check(void)
{
    expect_reason("[" S "," U "," A "]", 1, NULL);
    expect_reason("[" U "," CALL("c1", "{}") "," TOOL("c1") "," A "]", 1, NULL);
    expect_reason("[]", 1, "no_messages");
    expect_reason("[" U "," S "," A "]", 1, "system_not_first");
    expect_reason("[" A "]", 1, "first_not_user");
    expect_reason("[" U "]", 1, "last_not_assistant");
    expect_reason("[" U "]", 0, NULL);
    expect_reason("[{\"role\":\"user\",\"content\":\"\"}," A "]", 1, "empty_content");
    expect_reason("[" U ",{\"role\":\"assistant\",\"content\":\"\"}]", 1, "empty_content");
    expect_reason("[" U "," CALL("c1", "{nope") "]", 1, "tool_arguments_invalid_json");
    expect_reason("[" U "," TOOL("c9") "," A "]", 1, "tool_response_without_call");
    expect_reason("[" U "," CALL("c1", "{}") "," TOOL("c2") "]", 1, "tool_response_without_call");
    expect_reason("[" U "," CALL("c1", "{}") "," A "]", 1, "tool_call_unanswered");
    expect_reason("[" U "," CALL("c1", "{}") "," TOOL("c1") "," TOOL("c1") "]", 0,
                  "tool_response_without_call");
    expect_reason("[" U ",{\"role\":\"wizard\",\"content\":\"x\"}]", 1, "unknown_role");
    expect_reason("[" U ",{\"role\":\"assistant\",\"content\":\"a\",\"weight\":2}]", 1,
                  "invalid_weight");

    json_t *line = load("{\"messages\":[" U "," A "]}");
    FWT_CHECK(fw_xcheck_line(FW_XFMT_OPENAI_CHAT, line, 0) == NULL);
    FWT_CHECK(fw_xcheck_line(FW_XFMT_OPENAI_CHAT, line, 1000) == NULL);
    json_object_set_new(json_array_get(json_object_get(line, "messages"), 0), "content",
                        json_string("a long question that has many more bytes than four"));
    FWT_CHECK_EQ_STR(fw_xcheck_line(FW_XFMT_OPENAI_CHAT, line, 3), "too_many_tokens");
    json_decref(line);

    line = load("{\"input\":{\"messages\":[" U "]},\"preferred_output\":[" A "],"
                "\"non_preferred_output\":[" A "]}");
    FWT_CHECK_EQ_STR(fw_xcheck_line(FW_XFMT_PREFERENCE, line, 0), "identical_pair");
    json_decref(line);
    line = load("{\"prompt\":[" U "],\"chosen\":[" A "],\"rejected\":[" U "]}");
    FWT_CHECK_EQ_STR(fw_xcheck_line(FW_XFMT_PREFERENCE_TRL, line, 0), "output_not_assistant");
    json_decref(line);
    line = load("{\"text\":\"\",\"label\":\"x\"}");
    FWT_CHECK_EQ_STR(fw_xcheck_line(FW_XFMT_CLASSIFIER, line, 0), "empty_text");
    json_decref(line);
    line = load("{\"id\":\"e\",\"messages\":[" U "," A "],\"score\":\"high\"}");
    FWT_CHECK_EQ_STR(fw_xcheck_line(FW_XFMT_REWARD, line, 0), "missing_score");
    json_decref(line);

    fw_xfmt f;
    FWT_CHECK(fw_xfmt_parse("preference", "trl", &f) == 0 && f == FW_XFMT_PREFERENCE_TRL);
    FWT_CHECK(fw_xfmt_parse("preference", NULL, &f) == 0 && f == FW_XFMT_PREFERENCE);
    FWT_CHECK(fw_xfmt_parse("eval", "trl", &f) == -1);
    FWT_CHECK(fw_xfmt_parse("csv", NULL, &f) == -1);
}

static void test_copy_split(void)
{
    char *f[8];
    size_t l[8];
    /* Escapes as COPY TO writes them, a literal "\N" (escaped backslash),
     * a NULL, an empty field, every control escape. */
    char row[] = "a\\\\b\tc\\n\t\\\\N\t\\N\t\tx\\ry\\by\\fy\\vy\n";
    FWT_CHECK_EQ_INT(fw_xcopy_split(row, strlen(row), f, l, 8), 6);
    FWT_CHECK_EQ_STR(f[0], "a\\b");
    FWT_CHECK_EQ_STR(f[1], "c\n");
    FWT_CHECK_EQ_STR(f[2], "\\N");
    FWT_CHECK(f[3] == NULL && l[3] == 0);
    FWT_CHECK(f[4] != NULL && l[4] == 0 && f[4][0] == '\0');
    FWT_CHECK_EQ_STR(f[5], "x\ry\by\fy\vy");
    FWT_CHECK_EQ_INT((long long)l[5], 9);

    char octal[] = "\\101\\x41z";
    FWT_CHECK_EQ_INT(fw_xcopy_split(octal, strlen(octal), f, l, 8), 1);
    FWT_CHECK_EQ_STR(f[0], "AAz");

    char literal_tab[] = "a\\\tb\tc\\";
    FWT_CHECK_EQ_INT(fw_xcopy_split(literal_tab, strlen(literal_tab), f, l, 8), 2);
    FWT_CHECK_EQ_STR(f[0], "a\tb");
    FWT_CHECK_EQ_STR(f[1], "c\\");

    char many[] = "1\t2\t3";
    FWT_CHECK_EQ_INT(fw_xcopy_split(many, strlen(many), f, l, 2), -1);
}

int main(void)
{
    test_copy_split();
    test_conv();
    test_sentences();
    test_split();
    test_dedupe();
    test_check();
    return 0;
}
