/*
 * Unit tests of the line builders: the exact bytes of each format for one
 * generation with a tool call, a correction, a pairwise partner and span
 * annotations (code-point offsets over non-ASCII text).
 */
#include "export_fmt.h"
#include "fwtest.h"

static char lines[16][2048];
static char reasons[16][64];
static int nlines, nreasons;

static int collect(void *ctx, const fw_xrow *row, json_t *line, const char *const *keys,
                   const char *reason)
{
    (void)ctx;
    (void)row;
    (void)keys;
    if (!line) {
        snprintf(reasons[nreasons++], 64, "%s", reason);
        return 0;
    }
    char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    snprintf(lines[nlines++], 2048, "%s", s);
    free(s);
    json_decref(line);
    return 0;
}

static json_t *load(const char *s)
{
    json_error_t e;
    json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
    FWT_CHECK_MSG(v != NULL, "bad test json: %s", e.text);
    return v;
}

static void run(fw_xfmt_opts *o, fw_xrow *r)
{
    nlines = nreasons = 0;
    FWT_CHECK(fw_xfmt_row(o, r, collect, NULL) == 0);
}

int main(void)
{
    fw_xrow r = {0};
    r.event_id = "0190e4c2-0000-7000-8000-000000000001";
    r.conversation_id = "conv-1";
    r.project = "shop";
    r.model = "gpt-x";
    r.system_instructions = "Be kind.";
    r.input = load(
        "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Caf\xc3\xa9 hours?\"}]}]");
    r.output = load("[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":"
                    "\"Open at 9. Caf\xc3\xa9 closes at 5! Bring cash.\"}]}]");
    r.output_b =
        load("[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"No idea.\"}]}]");
    r.event_id_b = "0190e4c2-0000-7000-8000-000000000002";
    r.labels = load("{\"fix\":[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":"
                    "\"9 to 5.\"}]}],"
                    "\"pick\":\"A\",\"quality\":4,"
                    "\"spans\":[{\"message\":0,\"part\":0,\"start\":11,\"end\":28,\"category\":"
                    "\"factual_error\"}]}");
    fw_xfmt_opts o = {.fmt = FW_XFMT_OPENAI_CHAT,
                      .correction_field = "fix",
                      .pairwise_field = "pick",
                      .span_field = "spans",
                      .score_field = "quality",
                      .negative_label = "none"};

    run(&o, &r);
    FWT_CHECK_EQ_INT(nlines, 1);
    FWT_CHECK_EQ_STR(lines[0], "{\"messages\":[{\"role\":\"system\",\"content\":\"Be kind.\"},"
                               "{\"role\":\"user\",\"content\":\"Caf\xc3\xa9 hours?\"},"
                               "{\"role\":\"assistant\",\"content\":\"9 to 5.\"}]}");

    o.fmt = FW_XFMT_PREFERENCE;
    run(&o, &r);
    FWT_CHECK_EQ_INT(nlines, 2);
    FWT_CHECK_EQ_STR(lines[0],
                     "{\"input\":{\"messages\":[{\"role\":\"system\",\"content\":\"Be kind.\"},"
                     "{\"role\":\"user\",\"content\":\"Caf\xc3\xa9 hours?\"}]},"
                     "\"preferred_output\":[{\"role\":\"assistant\",\"content\":\"9 to 5.\"}],"
                     "\"non_preferred_output\":[{\"role\":\"assistant\",\"content\":"
                     "\"Open at 9. Caf\xc3\xa9 closes at 5! Bring cash.\"}]}");
    FWT_CHECK(strstr(
        lines[1], "\"non_preferred_output\":[{\"role\":\"assistant\",\"content\":\"No idea.\"}]"));

    o.fmt = FW_XFMT_PREFERENCE_TRL;
    run(&o, &r);
    FWT_CHECK_EQ_INT(nlines, 2);
    FWT_CHECK(strstr(lines[0], "{\"prompt\":[{\"role\":\"system\"") == lines[0]);
    FWT_CHECK(strstr(
        lines[0], "\"chosen\":[{\"role\":\"assistant\",\"content\":\"9 to 5.\"}],\"rejected\":["));

    o.fmt = FW_XFMT_EVAL;
    run(&o, &r);
    FWT_CHECK_EQ_INT(nlines, 1);
    FWT_CHECK(strstr(lines[0],
                     "{\"id\":\"0190e4c2-0000-7000-8000-000000000001\",\"input\":{\"messages\":") ==
              lines[0]);
    FWT_CHECK(strstr(
        lines[0],
        "\"ideal\":\"9 to 5.\",\"expected\":[{\"role\":\"assistant\",\"content\":\"9 to 5.\"}],"
        "\"labels\":{\"pick\":\"A\",\"quality\":4,\"spans\":"));
    FWT_CHECK(strstr(lines[0],
                     "\"metadata\":{\"event_id\":\"0190e4c2-0000-7000-8000-000000000001\","
                     "\"trace_id\":null,\"conversation_id\":\"conv-1\",\"project\":\"shop\""));

    o.fmt = FW_XFMT_REWARD;
    run(&o, &r);
    FWT_CHECK_EQ_INT(nlines, 1);
    FWT_CHECK(strstr(lines[0], "\"Open at 9. Caf\xc3\xa9 closes at 5! Bring "
                               "cash.\"}],\"score\":4,\"field\":\"quality\"}"));

    /* Span [11, 29) in code points is "Café closes at 5!" (é is 2 bytes);
     * the untouched sentences are negatives. */
    o.fmt = FW_XFMT_CLASSIFIER;
    run(&o, &r);
    FWT_CHECK_EQ_INT(nlines, 3);
    FWT_CHECK_EQ_STR(lines[0],
                     "{\"text\":\"Caf\xc3\xa9 closes at 5!\",\"label\":\"factual_error\","
                     "\"event_id\":\"0190e4c2-0000-7000-8000-000000000001\",\"message\":0,"
                     "\"part\":0,\"start\":11,\"end\":28,\"context\":\"Caf\xc3\xa9 hours?\"}");
    FWT_CHECK(strstr(lines[1], "{\"text\":\"Open at 9.\",\"label\":\"none\",") == lines[1]);
    FWT_CHECK(strstr(lines[1], "\"start\":0,\"end\":10,"));
    FWT_CHECK(strstr(lines[2], "{\"text\":\"Bring cash.\",\"label\":\"none\",") == lines[2]);
    FWT_CHECK(strstr(lines[2], "\"start\":29,\"end\":40,"));

    /* Rows that give no line say why. */
    json_decref(r.labels);
    r.labels = load("{\"pick\":\"tie\"}");
    o.fmt = FW_XFMT_PREFERENCE;
    run(&o, &r);
    FWT_CHECK_EQ_INT(nlines, 0);
    FWT_CHECK_EQ_STR(reasons[0], "pairwise_tie");
    o.fmt = FW_XFMT_CLASSIFIER;
    run(&o, &r);
    FWT_CHECK_EQ_STR(reasons[0], "no_span_annotation");
    o.fmt = FW_XFMT_REWARD;
    run(&o, &r);
    FWT_CHECK_EQ_STR(reasons[0], "no_score");

    /* Issue 11 item 4: a reviewed output without spans, when the rubric's
     * spans mark every bad sentence ("unmarked": "negative"), gives all its
     * sentences as negatives; with "unknown" it gives no line. An output
     * nobody reviewed (no labels) never gives negatives. */
    o.fmt = FW_XFMT_CLASSIFIER;
    o.unmarked_negative = 1;
    run(&o, &r);
    FWT_CHECK_EQ_INT(nreasons, 0);
    FWT_CHECK_EQ_INT(nlines, 3);
    FWT_CHECK(strstr(lines[0], "{\"text\":\"Open at 9.\",\"label\":\"none\",") == lines[0]);
    FWT_CHECK(strstr(lines[1], "{\"text\":\"Caf\xc3\xa9 closes at 5!\",\"label\":\"none\",") ==
              lines[1]);
    FWT_CHECK(strstr(lines[2], "{\"text\":\"Bring cash.\",\"label\":\"none\",") == lines[2]);
    o.unmarked_negative = 0;
    run(&o, &r);
    FWT_CHECK_EQ_INT(nlines, 0);
    FWT_CHECK_EQ_STR(reasons[0], "no_span_annotation");
    json_t *reviewed = r.labels;
    r.labels = NULL;
    o.unmarked_negative = 1;
    run(&o, &r);
    FWT_CHECK_EQ_INT(nlines, 0);
    FWT_CHECK_EQ_STR(reasons[0], "no_span_annotation");
    r.labels = reviewed;

    /* Issue 11 item 2: in a multi-turn conversation only the reviewed
     * output is a training target: earlier assistant turns carry weight 0,
     * the output weight 1 (the default, o.weights = 1); without weights
     * (--all-turns) no message has one. */
    json_t *single_turn = r.input;
    r.input = load("[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Hi\"}]},"
                   "{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":"
                   "\"We open at 10.\"}]},"
                   "{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Sure?\"}]}]");
    o.fmt = FW_XFMT_OPENAI_CHAT;
    o.weights = 1;
    run(&o, &r);
    FWT_CHECK_EQ_INT(nlines, 1);
    FWT_CHECK_EQ_STR(lines[0], "{\"messages\":[{\"role\":\"system\",\"content\":\"Be kind.\"},"
                               "{\"role\":\"user\",\"content\":\"Hi\"},"
                               "{\"role\":\"assistant\",\"content\":\"We open at 10.\","
                               "\"weight\":0},"
                               "{\"role\":\"user\",\"content\":\"Sure?\"},"
                               "{\"role\":\"assistant\",\"content\":\"Open at 9. Caf\xc3\xa9 "
                               "closes at 5! Bring cash.\",\"weight\":1}]}");
    o.weights = 0;
    run(&o, &r);
    FWT_CHECK(strstr(lines[0], "weight") == NULL);
    json_decref(r.input);
    r.input = single_turn;

    /* Issue 11 item 5: TRL preference lines carry the tool schemas beside
     * prompt/chosen/rejected, as Hugging Face chat templates take them. */
    json_decref(r.labels);
    r.labels = load("{\"fix\":[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\","
                    "\"content\":\"9 to 5.\"}]}]}");
    r.tools = load("[{\"type\":\"function\",\"name\":\"hours\",\"description\":\"Opening "
                   "hours\",\"parameters\":{\"type\":\"object\",\"properties\":{}}}]");
    o.fmt = FW_XFMT_PREFERENCE_TRL;
    run(&o, &r);
    FWT_CHECK_EQ_INT(nlines, 1);
    FWT_CHECK_MSG(strstr(lines[0], "],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
                                   "\"hours\",\"description\":\"Opening hours\",\"parameters\":"
                                   "{\"type\":\"object\",\"properties\":{}}}}]}") != NULL,
                  "%s", lines[0]);
    FWT_CHECK(strstr(lines[0], "{\"prompt\":") == lines[0]);
    json_decref(r.tools);
    r.tools = NULL;

    json_decref(r.input);
    json_decref(r.output);
    json_decref(r.output_b);
    json_decref(r.labels);
    return 0;
}
