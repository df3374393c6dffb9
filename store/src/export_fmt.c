/*
 * The per-format line builders; the contract is in export_fmt.h. Each
 * builder converts the stored messages with export_conv and arranges them in
 * its format's shape. A row that cannot give a line (no correction for a
 * preference pair, a pairwise tie, no span annotation) is reported to the
 * emit callback with a reason, so the manifest counts it.
 */
#include "export_fmt.h"

#include "export_conv.h"
#include "fw_utf8.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

static const char *const hash_text_label[] = {"text", "label", NULL};
static const char *const hash_eval[] = {"input", "expected", NULL};
static const char *const hash_reward[] = {"messages", "tools", "score", NULL};

/* Sets key to a new value, treating a NULL value as failure. */
static int set_new(json_t *obj, const char *key, json_t *v)
{
    if (!v)
        return -1;
    return json_object_set_new(obj, key, v);
}

static int set_str(json_t *obj, const char *key, const char *s)
{
    return set_new(obj, key, s ? json_string(s) : json_null());
}

static const json_t *label(const fw_xrow *r, const char *field)
{
    if (!field || !r->labels)
        return NULL;
    const json_t *v = json_object_get(r->labels, field);
    return json_is_null(v) ? NULL : v;
}

/* The converted tools, or NULL when the generation has none. */
static int add_tools(json_t *obj, const fw_xrow *r)
{
    if (json_array_size(r->tools) == 0)
        return 0;
    return set_new(obj, "tools", fw_xconv_tools(r->tools));
}

static json_t *outputs(const json_t *otel, int weight)
{
    json_t *a = json_array();
    if (a && fw_xconv_messages(otel, a, weight)) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static int build_chat(const fw_xfmt_opts *o, const fw_xrow *r, fw_xemit_fn emit, void *ctx)
{
    const json_t *corr = label(r, o->correction_field);
    json_t *line = json_object();
    if (!line)
        return -1;
    /* Values are attached to the line as soon as they exist, so the line
     * owns everything and one decref cleans up on any failure. */
    json_t *msgs = fw_xconv_prompt(r->system_instructions, r->input, o->weights ? 0 : FW_XW_NONE);
    if (set_new(line, "messages", msgs) ||
        fw_xconv_messages(corr ? corr : r->output, msgs, o->weights ? 1 : FW_XW_NONE) ||
        add_tools(line, r)) {
        json_decref(line);
        return -1;
    }
    return emit(ctx, r, line, NULL, NULL);
}

static json_t *pref_line(const fw_xfmt_opts *o, const fw_xrow *r, const json_t *good,
                         const json_t *bad)
{
    json_t *line = json_object();
    if (!line)
        return NULL;
    json_t *prompt = fw_xconv_prompt(r->system_instructions, r->input, FW_XW_NONE);
    if (o->fmt == FW_XFMT_PREFERENCE_TRL) {
        /* The tool schemas go beside the messages, as TRL's tool-calling
         * datasets and Hugging Face chat templates (apply_chat_template's
         * `tools`) take them: a list of {"type": "function", "function":
         * {name, description, parameters}}. */
        if (set_new(line, "prompt", prompt) || set_new(line, "chosen", outputs(good, FW_XW_NONE)) ||
            set_new(line, "rejected", outputs(bad, FW_XW_NONE)) || add_tools(line, r))
            goto fail;
        return line;
    }
    json_t *in = json_object();
    if (set_new(line, "input", in)) {
        json_decref(prompt);
        goto fail;
    }
    if (set_new(in, "messages", prompt) || add_tools(in, r) ||
        set_new(line, "preferred_output", outputs(good, FW_XW_NONE)) ||
        set_new(line, "non_preferred_output", outputs(bad, FW_XW_NONE)))
        goto fail;
    return line;
fail:
    json_decref(line);
    return NULL;
}

static int build_preference(const fw_xfmt_opts *o, const fw_xrow *r, fw_xemit_fn emit, void *ctx)
{
    const json_t *corr = label(r, o->correction_field);
    const json_t *choice = label(r, o->pairwise_field);
    int any = 0;

    if (corr) {
        json_t *line = pref_line(o, r, corr, r->output);
        if (!line || emit(ctx, r, line, NULL, NULL))
            return -1;
        any = 1;
    }
    /* A correction sent as feedback (recorded with the member only when the
     * export asked for them: --feedback-corrections). */
    if (json_array_size(r->feedback_correction) > 0) {
        json_t *line = pref_line(o, r, r->feedback_correction, r->output);
        if (!line || emit(ctx, r, line, NULL, NULL))
            return -1;
        any = 1;
    }
    if (choice && r->event_id_b) {
        const char *c = json_string_value(choice);
        any = 1;
        if (!c || strcmp(c, "tie") == 0) {
            if (emit(ctx, r, NULL, NULL, "pairwise_tie"))
                return -1;
        } else if (!r->output_b) {
            if (emit(ctx, r, NULL, NULL, "pairwise_partner_missing"))
                return -1;
        } else {
            int a_wins = strcmp(c, "A") == 0;
            json_t *line =
                pref_line(o, r, a_wins ? r->output : r->output_b, a_wins ? r->output_b : r->output);
            if (!line || emit(ctx, r, line, NULL, NULL))
                return -1;
        }
    }
    if (!any)
        return emit(ctx, r, NULL, NULL, "no_preference");
    return 0;
}

static json_t *metadata(const fw_xrow *r)
{
    json_t *m = json_object();
    if (!m || set_str(m, "event_id", r->event_id) || set_str(m, "trace_id", r->trace_id) ||
        set_str(m, "conversation_id", r->conversation_id) || set_str(m, "project", r->project) ||
        set_str(m, "environment", r->environment) || set_str(m, "release", r->release) ||
        set_str(m, "model", r->model) || set_str(m, "prompt_template", r->prompt_template) ||
        set_str(m, "prompt_version", r->prompt_version) ||
        set_new(m, "tags", r->tags ? json_incref(r->tags) : json_array())) {
        json_decref(m);
        return NULL;
    }
    return m;
}

static int build_eval(const fw_xfmt_opts *o, const fw_xrow *r, fw_xemit_fn emit, void *ctx)
{
    const json_t *corr = label(r, o->correction_field);
    json_t *line = json_object(), *in = json_object();
    if (!line || set_str(line, "id", r->event_id) || set_new(line, "input", in)) {
        json_decref(line);
        return -1;
    }
    if (set_new(in, "messages", fw_xconv_prompt(r->system_instructions, r->input, FW_XW_NONE)) ||
        add_tools(in, r))
        goto fail;
    json_t *expected = outputs(corr ? corr : r->output, FW_XW_NONE);
    if (!expected)
        goto fail;
    const char *ideal = json_string_value(
        json_object_get(json_array_get(expected, json_array_size(expected) - 1), "content"));
    if (ideal && *ideal && set_str(line, "ideal", ideal)) {
        json_decref(expected);
        goto fail;
    }
    if (set_new(line, "expected", expected))
        goto fail;
    json_t *labels = r->labels ? json_copy(r->labels) : json_object();
    if (labels && o->correction_field)
        json_object_del(labels, o->correction_field);
    /* An explicit null is no value, as everywhere in the review queue. */
    const char *key;
    json_t *val;
    void *tmp;
    if (labels)
        json_object_foreach_safe(labels, tmp, key, val)
        {
            if (json_is_null(val))
                json_object_del(labels, key);
        }
    if (set_new(line, "labels", labels) || set_new(line, "metadata", metadata(r)))
        goto fail;
    return emit(ctx, r, line, hash_eval, NULL);
fail:
    json_decref(line);
    return -1;
}

static int build_reward(const fw_xfmt_opts *o, const fw_xrow *r, fw_xemit_fn emit, void *ctx)
{
    const json_t *score = label(r, o->score_field);
    if (!score || !(json_is_number(score) || json_is_boolean(score)))
        return emit(ctx, r, NULL, NULL, "no_score");
    json_t *line = json_object();
    if (!line || set_str(line, "id", r->event_id))
        goto oom;
    json_t *msgs = fw_xconv_prompt(r->system_instructions, r->input, FW_XW_NONE);
    if (set_new(line, "messages", msgs) || fw_xconv_messages(r->output, msgs, FW_XW_NONE) ||
        add_tools(line, r) || set_new(line, "score", json_incref((json_t *)(uintptr_t)score)) ||
        set_str(line, "field", o->score_field))
        goto oom;
    return emit(ctx, r, line, hash_reward, NULL);
oom:
    json_decref(line);
    return -1;
}

/* ---- classifier ---------------------------------------------------------- */

typedef struct {
    size_t start, end; /* code points */
} cp_range;

typedef struct {
    const fw_xfmt_opts *o;
    const fw_xrow *r;
    fw_xemit_fn emit;
    void *ctx;
    const char *text; /* the part's content */
    const char *context;
    size_t msg, part;
    const cp_range *spans;
    size_t nspans;
    int rc;
} sentence_ctx;

static json_t *class_line(const char *text, size_t len, const char *lbl, const fw_xrow *r,
                          size_t msg, size_t part, size_t start, size_t end, const char *context)
{
    json_t *l = json_object();
    if (!l || set_new(l, "text", json_stringn(text, len)) || set_str(l, "label", lbl) ||
        set_str(l, "event_id", r->event_id) ||
        set_new(l, "message", json_integer((json_int_t)msg)) ||
        set_new(l, "part", json_integer((json_int_t)part)) ||
        set_new(l, "start", json_integer((json_int_t)start)) ||
        set_new(l, "end", json_integer((json_int_t)end)) || set_str(l, "context", context)) {
        json_decref(l);
        return NULL;
    }
    return l;
}

static void on_sentence(void *vctx, const fw_store_sentence *sent)
{
    sentence_ctx *s = vctx;
    if (s->rc)
        return;
    size_t cs = sent->start, ce = sent->end;
    for (size_t i = 0; i < s->nspans; i++)
        if (s->spans[i].start < ce && cs < s->spans[i].end)
            return; /* overlaps an annotation: not a negative */
    json_t *l = class_line(s->text + sent->byte_start, sent->byte_end - sent->byte_start,
                           s->o->negative_label, s->r, s->msg, s->part, cs, ce, s->context);
    if (!l || s->emit(s->ctx, s->r, l, hash_text_label, NULL))
        s->rc = -1;
}

static int build_classifier(const fw_xfmt_opts *o, const fw_xrow *r, fw_xemit_fn emit, void *ctx)
{
    const json_t *spans = label(r, o->span_field);
    /* No span on a reviewed output: when the rubric's spans mark every bad
     * sentence ("unmarked": "negative", the default) the reviewer found
     * none, and all its sentences are negatives; otherwise ("unknown") an
     * unmarked output says nothing and gives no line. */
    if (!json_is_array(spans) && !(o->unmarked_negative && o->span_field && r->labels))
        return emit(ctx, r, NULL, NULL, "no_span_annotation");
    json_t *prompt = fw_xconv_prompt(NULL, r->input, FW_XW_NONE);
    if (!prompt)
        return -1;
    const char *context = fw_xconv_last_user_text(prompt);
    size_t nsp = json_array_size(spans);
    cp_range *ranges = calloc(nsp ? nsp : 1, sizeof *ranges);
    int rc = -1;
    size_t mi, pi;
    const json_t *m, *p;
    if (!ranges)
        goto done;
    /* Positives: one line per span, in the stored order. */
    for (size_t i = 0; i < nsp; i++) {
        const json_t *sp = json_array_get(spans, i);
        size_t msg = (size_t)json_integer_value(json_object_get(sp, "message"));
        size_t part = (size_t)json_integer_value(json_object_get(sp, "part"));
        size_t st = (size_t)json_integer_value(json_object_get(sp, "start"));
        size_t en = (size_t)json_integer_value(json_object_get(sp, "end"));
        const char *cat = json_string_value(json_object_get(sp, "category"));
        const char *text = json_string_value(json_object_get(
            json_array_get(json_object_get(json_array_get(r->output, msg), "parts"), part),
            "content"));
        if (!text || en <= st) {
            if (emit(ctx, r, NULL, NULL, "span_out_of_range"))
                goto done;
            continue;
        }
        size_t len = strlen(text);
        size_t bs = fw_utf8_offset(text, len, st), be = fw_utf8_offset(text, len, en);
        json_t *l = class_line(text + bs, be - bs, cat, r, msg, part, st, en, context);
        if (!l || emit(ctx, r, l, hash_text_label, NULL))
            goto done;
    }
    /* Negatives: the sentences of every text part that no span touches. */
    json_array_foreach(r->output, mi, m)
    {
        const char *role = json_string_value(json_object_get(m, "role"));
        if (!role || strcmp(role, "assistant") != 0)
            continue;
        json_array_foreach(json_object_get(m, "parts"), pi, p)
        {
            const char *type = json_string_value(json_object_get(p, "type"));
            const char *text = json_string_value(json_object_get(p, "content"));
            if (!type || strcmp(type, "text") != 0 || !text)
                continue;
            size_t n = 0;
            for (size_t i = 0; i < nsp; i++) {
                const json_t *sp = json_array_get(spans, i);
                if ((size_t)json_integer_value(json_object_get(sp, "message")) == mi &&
                    (size_t)json_integer_value(json_object_get(sp, "part")) == pi) {
                    ranges[n].start = (size_t)json_integer_value(json_object_get(sp, "start"));
                    ranges[n].end = (size_t)json_integer_value(json_object_get(sp, "end"));
                    n++;
                }
            }
            sentence_ctx s = {o, r, emit, ctx, text, context, mi, pi, ranges, n, 0};
            fw_store_sentences(text, strlen(text), o->sentence_rules, on_sentence, &s);
            if (s.rc)
                goto done;
        }
    }
    rc = 0;
done:
    free(ranges);
    json_decref(prompt);
    return rc;
}

int fw_xfmt_row(const fw_xfmt_opts *o, const fw_xrow *r, fw_xemit_fn emit, void *ctx)
{
    switch (o->fmt) {
    case FW_XFMT_OPENAI_CHAT:
        return build_chat(o, r, emit, ctx);
    case FW_XFMT_PREFERENCE:
    case FW_XFMT_PREFERENCE_TRL:
        return build_preference(o, r, emit, ctx);
    case FW_XFMT_EVAL:
        return build_eval(o, r, emit, ctx);
    case FW_XFMT_CLASSIFIER:
        return build_classifier(o, r, emit, ctx);
    case FW_XFMT_REWARD:
        return build_reward(o, r, emit, ctx);
    }
    return -1;
}
