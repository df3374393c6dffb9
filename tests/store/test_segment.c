/*
 * store_unit_segment: one segmentation (issue 10 item 2). For texts with
 * ideographic sentence ends (。！？), abbreviations, decimals, lists and code
 * blocks, the sentences the terminal reviewer numbers — read back from what
 * it prints, "s<N> [start,end)" — are exactly the sentences the classifier
 * export cuts (its negative lines' start and end), in code points; and the
 * segmentation itself is what the rules in flywheel/store.h say.
 */
#include "export_fmt.h"
#include "flywheel/store.h"
#include "fwtest.h"
#include "review_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXS 64

typedef struct {
    size_t start[MAXS], end[MAXS];
    size_t n;
} spans;

/* What the reviewer sees: the numbered sentences of the rendered output. */
static void reviewer_spans(const char *text, spans *out)
{
    json_t *msgs = json_pack("[{s:s, s:[{s:s, s:s}]}]", "role", "assistant", "parts", "type",
                             "text", "content", text);
    FWT_CHECK(msgs);
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    FWT_CHECK(m);
    int no = 0;
    fw_rt_render_messages(m, msgs, 200, 1, &no);
    fclose(m);
    json_decref(msgs);
    memset(out, 0, sizeof *out);
    for (const char *p = buf; (p = strstr(p, "    s")) != NULL; p++) {
        int k;
        size_t a, b;
        if (sscanf(p, "    s%d [%zu,%zu)", &k, &a, &b) == 3) {
            FWT_CHECK_EQ_INT(k, (int)out->n + 1);
            out->start[out->n] = a;
            out->end[out->n++] = b;
        }
    }
    free(buf);
}

static int collect(void *ctx, const fw_xrow *row, json_t *line, const char *const *keys,
                   const char *reason)
{
    (void)row;
    (void)keys;
    spans *s = ctx;
    FWT_CHECK_MSG(line != NULL, "no classifier line: %s", reason ? reason : "?");
    FWT_CHECK(s->n < MAXS);
    s->start[s->n] = (size_t)json_integer_value(json_object_get(line, "start"));
    s->end[s->n++] = (size_t)json_integer_value(json_object_get(line, "end"));
    json_decref(line);
    return 0;
}

/* What the classifier export cuts: with no span annotated, every sentence
 * of the output is a negative line carrying its [start, end). */
static void exporter_spans(const char *text, spans *out)
{
    fw_xfmt_opts o = {0};
    o.fmt = FW_XFMT_CLASSIFIER;
    o.span_field = "problems";
    o.negative_label = "none";
    o.sentence_rules = FW_STORE_SENTENCES_V2;
    fw_xrow r = {0};
    r.event_id = "00000000-0000-7000-8000-000000000001";
    r.input = json_pack("[{s:s, s:[{s:s, s:s}]}]", "role", "user", "parts", "type", "text",
                        "content", "Tell me.");
    r.output = json_pack("[{s:s, s:[{s:s, s:s}]}]", "role", "assistant", "parts", "type", "text",
                         "content", text);
    r.labels = json_pack("{s:[]}", "problems");
    FWT_CHECK(r.input && r.output && r.labels);
    memset(out, 0, sizeof *out);
    FWT_CHECK(fw_xfmt_row(&o, &r, collect, out) == 0);
    json_decref(r.input);
    json_decref(r.output);
    json_decref(r.labels);
}

/* The sentences' texts, for the checks of the rules themselves. */
static char texts[MAXS][256];
static size_t ntexts;

static void on_sentence(void *ctx, const fw_store_sentence *s)
{
    const char *text = ctx;
    FWT_CHECK(ntexts < MAXS);
    snprintf(texts[ntexts++], sizeof texts[0], "%.*s", (int)(s->byte_end - s->byte_start),
             text + s->byte_start);
}

static void check(const char *text, size_t want_n, const char *const *want)
{
    spans a, b;
    reviewer_spans(text, &a);
    exporter_spans(text, &b);
    FWT_CHECK_MSG(a.n == b.n, "reviewer sees %zu sentences, the export cuts %zu, in: %s", a.n, b.n,
                  text);
    for (size_t i = 0; i < a.n; i++)
        FWT_CHECK_MSG(a.start[i] == b.start[i] && a.end[i] == b.end[i],
                      "sentence %zu: reviewer [%zu,%zu), export [%zu,%zu), in: %s", i + 1,
                      a.start[i], a.end[i], b.start[i], b.end[i], text);
    ntexts = 0;
    size_t n = fw_store_sentences(text, strlen(text), FW_STORE_SENTENCES_V2, on_sentence,
                                  (void *)(uintptr_t)text);
    FWT_CHECK_MSG(n == want_n && a.n == want_n, "%zu sentences (want %zu) in: %s", n, want_n, text);
    for (size_t i = 0; i < n && want; i++)
        FWT_CHECK_EQ_STR(texts[i], want[i]);
}

int main(void)
{
    /* Ideographic ends need no space; offsets are code points. */
    const char *jp[] = {"東京は日本の首都です。", "人口は多い！", "本当？", "「はい。」"};
    check("東京は日本の首都です。人口は多い！本当？「はい。」", 4, jp);
    /* Abbreviations and decimals do not end a sentence. */
    const char *abbr[] = {"Dr. Smith paid 3.14 dollars, e.g. for coffee.",
                          "Mrs. Jones arrived at 9 a.m. sharp.", "It cost approx. 2.5 USD!"};
    check("Dr. Smith paid 3.14 dollars, e.g. for coffee. Mrs. Jones arrived at 9 a.m. sharp. "
          "It cost approx. 2.5 USD!",
          3, abbr);
    /* List items: a line each, the marker stays with its item. */
    const char *list[] = {"Steps:",      "1. Open the file.", "Check it.",
                          "2. Save it.", "- a bullet item",   "a) a lettered item"};
    check("Steps:\n1. Open the file. Check it.\n2. Save it.\n- a bullet item\na) a lettered item",
          6, list);
    /* A fenced code block is one segment; `inline code` is not cut. */
    const char *code[] = {"Run this:", "```sh\nmake. all\necho done. ok\n```",
                          "Then call `x. y` once.", "Done."};
    check("Run this:\n```sh\nmake. all\necho done. ok\n```\nThen call `x. y` once. Done.", 4, code);
    /* Mixed scripts, closers and multi-byte text before the offsets. */
    const char *mixed[] = {"Ça coûte 3,5 €.", "«Vraiment ?»", "Oui… Prof. Müller sagt: Nein!",
                           "好的。"};
    check("Ça coûte 3,5 €. «Vraiment ?» Oui… Prof. Müller sagt: Nein! 好的。", 4, mixed);
    return 0;
}
