/*
 * Export options, their recorded JSON form, and the member-resolving SQL;
 * see export_select.h. Predicates are parsed here ("quality>=4",
 * "verdict=accept", "thumbs=false") so that a malformed one is a usage error
 * naming it, not a SQL error.
 */
#include "export_select.h"

#include "export_conv.h"
#include "redact.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fw_xopts_init(fw_xopts *o)
{
    memset(o, 0, sizeof *o);
    o->consensus = "all";
    o->negative_label = "none";
    o->seed = "0";
    o->ratios[0] = 0.8;
    o->ratios[1] = 0.1;
    o->ratios[2] = 0.1;
    o->group_by = "conversation";
    o->dedupe = 1;
    o->sentence_rules = FW_STORE_SENTENCES_V2;
    o->weights = 1;
    o->unmarked_negative = 1;
}

static const char *const detector_names[] = {"email", "phone", "card", "secret", "ipv4"};

static int add_str(json_t *o, const char *k, const char *v)
{
    return json_object_set_new(o, k, v ? json_string(v) : json_null());
}

static json_t *str_array(const char *const *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_string(v[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

json_t *fw_xopts_to_json(const fw_xopts *o)
{
    json_t *p = json_object(), *sel = json_object(), *split = json_object(), *red = json_object();
    json_t *ratios = json_array(), *det = json_array();
    int bad = !p || !sel || !split || !red || !ratios || !det;
    const char *style = o->fmt == FW_XFMT_PREFERENCE_TRL ? "trl" : NULL;

    bad = bad || add_str(p, "format", fw_xfmt_name(o->fmt)) || add_str(p, "style", style);
    bad = bad || add_str(sel, "queue", o->queue) || add_str(sel, "consensus", o->consensus);
    bad = bad || json_object_set_new(sel, "where", str_array(o->where, o->nwhere));
    bad = bad || json_object_set_new(sel, "feedback", str_array(o->feedback, o->nfeedback));
    bad = bad || json_object_set_new(sel, "tags", str_array(o->tags, o->ntags));
    bad = bad || add_str(sel, "since", o->since) || add_str(sel, "until", o->until);
    bad = bad || add_str(sel, "project", o->project) || add_str(sel, "environment", o->environment);
    bad = bad || add_str(sel, "model", o->model) || add_str(sel, "release", o->release);
    bad = bad || add_str(sel, "prompt_template", o->prompt_template);
    bad = bad || add_str(sel, "prompt_version", o->prompt_version);
    bad = bad || json_object_set_new(sel, "limit", o->limit ? json_integer(o->limit) : json_null());
    bad = bad || json_object_set(p, "selection", sel);
    if (!bad && o->rubric_name) {
        json_t *rb = json_object();
        bad = !rb || add_str(rb, "name", o->rubric_name) ||
              json_object_set_new(rb, "version", json_integer(o->rubric_version)) ||
              json_object_set_new(p, "rubric", rb);
    } else if (!bad) {
        bad = json_object_set_new(p, "rubric", json_null());
    }
    /* Weights mean something for openai-chat only. */
    bad = bad || json_object_set_new(p, "weights",
                                     json_boolean(o->weights && o->fmt == FW_XFMT_OPENAI_CHAT));
    bad = bad || add_str(p, "score_field", o->score_field);
    bad = bad || add_str(p, "negative_label", o->negative_label);
    bad = bad || json_object_set_new(p, "max_tokens", json_integer(o->max_tokens));
    if (o->feedback_corrections)
        bad = bad || json_object_set_new(p, "feedback_corrections", json_true());
    /* Recorded for the classifier only (the one format that cuts sentences),
     * and absent from versions made before it existed: those mean ascii. */
    if (o->fmt == FW_XFMT_CLASSIFIER) {
        bad = bad || add_str(p, "sentences", fw_store_sentence_rules_name(o->sentence_rules));
        /* Absent from versions made before the rule existed: "unknown". */
        bad = bad || add_str(p, "unmarked_spans", o->unmarked_negative ? "negative" : "unknown");
    }
    for (int i = 0; !bad && i < FW_XSPLIT_COUNT; i++)
        bad = json_array_append_new(ratios, json_real(o->ratios[i]));
    bad = bad || add_str(split, "seed", o->seed) || json_object_set(split, "ratios", ratios);
    bad = bad || add_str(split, "group_by", o->group_by);
    bad = bad || json_object_set(p, "split", split);
    bad = bad || json_object_set_new(p, "dedupe", json_boolean(o->dedupe));
    for (unsigned i = 0; !bad && i < 5; i++)
        if (o->redact_detectors & (1u << i))
            bad = json_array_append_new(det, json_string(detector_names[i]));
    bad = bad || json_object_set(red, "detectors", det);
    bad = bad || json_object_set_new(red, "rules", str_array(o->redact_rules, o->nredact_rules));
    bad = bad || json_object_set(p, "redact", red);
    bad = bad || json_object_set_new(p, "zstd_level", json_integer(o->zstd_level));
    json_decref(sel);
    json_decref(split);
    json_decref(red);
    json_decref(ratios);
    json_decref(det);
    if (bad) {
        json_decref(p);
        return NULL;
    }
    return p;
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int load_list(const json_t *a, const char **out, int *n)
{
    size_t i;
    const json_t *v;
    *n = 0;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || *n == FW_XMAX_LIST)
            return -1;
        out[(*n)++] = json_string_value(v);
    }
    return 0;
}

int fw_xopts_from_json(fw_xopts *o, const json_t *p, char *errbuf, size_t errsize)
{
    const json_t *sel = json_object_get(p, "selection"), *split = json_object_get(p, "split");
    const json_t *red = json_object_get(p, "redact"), *rb = json_object_get(p, "rubric");
    const json_t *ratios = json_object_get(split, "ratios");
    if (!json_is_object(sel) || !json_is_object(split) || !json_is_object(red) ||
        json_array_size(ratios) != FW_XSPLIT_COUNT || !jstr(split, "seed") ||
        !jstr(split, "group_by") || !jstr(p, "format") ||
        fw_xfmt_parse(jstr(p, "format"), jstr(p, "style"), &o->fmt)) {
        snprintf(errbuf, errsize, "the recorded parameters of this version are not valid");
        return -1;
    }
    o->queue = jstr(sel, "queue");
    o->consensus = jstr(sel, "consensus") ? jstr(sel, "consensus") : "all";
    if (load_list(json_object_get(sel, "where"), o->where, &o->nwhere) ||
        load_list(json_object_get(sel, "feedback"), o->feedback, &o->nfeedback) ||
        load_list(json_object_get(sel, "tags"), o->tags, &o->ntags) ||
        load_list(json_object_get(red, "rules"), o->redact_rules, &o->nredact_rules)) {
        snprintf(errbuf, errsize, "the recorded parameters of this version are not valid");
        return -1;
    }
    o->since = jstr(sel, "since");
    o->until = jstr(sel, "until");
    o->project = jstr(sel, "project");
    o->environment = jstr(sel, "environment");
    o->model = jstr(sel, "model");
    o->release = jstr(sel, "release");
    o->prompt_template = jstr(sel, "prompt_template");
    o->prompt_version = jstr(sel, "prompt_version");
    o->limit = json_integer_value(json_object_get(sel, "limit"));
    o->rubric_name = jstr(rb, "name");
    o->rubric_version = (int)json_integer_value(json_object_get(rb, "version"));
    o->weights = json_is_true(json_object_get(p, "weights"));
    o->score_field = jstr(p, "score_field");
    o->negative_label = jstr(p, "negative_label") ? jstr(p, "negative_label") : "none";
    o->max_tokens = (long)json_integer_value(json_object_get(p, "max_tokens"));
    o->feedback_corrections = json_is_true(json_object_get(p, "feedback_corrections"));
    o->unmarked_negative =
        jstr(p, "unmarked_spans") && strcmp(jstr(p, "unmarked_spans"), "negative") == 0;
    if (fw_store_sentence_rules_parse(jstr(p, "sentences"), &o->sentence_rules) != 0) {
        snprintf(errbuf, errsize, "recorded sentence rules \"%s\" are unknown to this build",
                 jstr(p, "sentences"));
        return -1;
    }
    o->seed = jstr(split, "seed");
    for (int i = 0; i < FW_XSPLIT_COUNT; i++)
        o->ratios[i] = json_number_value(json_array_get(ratios, (size_t)i));
    o->group_by = jstr(split, "group_by");
    o->dedupe = json_is_true(json_object_get(p, "dedupe"));
    o->redact_detectors = 0;
    size_t i;
    const json_t *d;
    json_array_foreach(json_object_get(red, "detectors"), i, d)
    {
        for (unsigned k = 0; k < 5; k++)
            if (json_is_string(d) && strcmp(json_string_value(d), detector_names[k]) == 0)
                o->redact_detectors |= 1u << k;
    }
    o->zstd_level = (int)json_integer_value(json_object_get(p, "zstd_level"));
    return 0;
}

int fw_xsql_param(fw_xsql *q, const char *value)
{
    char ph[16];
    if (q->nparams == FW_XMAX_PARAMS)
        return -1;
    q->params[q->nparams++] = value;
    snprintf(ph, sizeof ph, "$%d", q->nparams);
    fw_buf_adds(&q->sql, ph);
    return 0;
}

int fw_xsql_param_copy(fw_xsql *q, const char *value)
{
    if (q->nparams == FW_XMAX_PARAMS || strlen(value) >= sizeof q->owned[0])
        return -1;
    snprintf(q->owned[q->nparams], sizeof q->owned[0], "%s", value);
    return fw_xsql_param(q, q->owned[q->nparams]);
}

void fw_xsql_free(fw_xsql *q)
{
    fw_buf_free(&q->sql);
    q->nparams = 0;
}

/* Splits "name OP value"; OP is one of >= <= != = > <. */
static int parse_pred(const char *text, char *name, size_t nsize, const char **op,
                      const char **value)
{
    static const char *const ops[] = {">=", "<=", "!=", "=", ">", "<"};
    size_t n = strcspn(text, "<>!=");
    if (n == 0 || n >= nsize || text[n] == '\0')
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)text[i]) || isdigit((unsigned char)text[i]) || text[i] == '_'))
            return -1;
    memcpy(name, text, n);
    name[n] = '\0';
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t l = strlen(ops[i]);
        if (strncmp(text + n, ops[i], l) == 0) {
            *op = ops[i];
            *value = text + n + l;
            return **value ? 0 : -1;
        }
    }
    return -1;
}

static int is_number(const char *s)
{
    char *end;
    strtod(s, &end);
    return end != s && *end == '\0';
}

/* A label predicate on v (the resolved label): numbers compare as numbers,
 * anything else as the field's text form (true/false for booleans). */
static int add_where(fw_xsql *q, const char *text, char *name, char *errbuf, size_t errsize)
{
    const char *op, *value;
    if (parse_pred(text, name, 64, &op, &value)) {
        snprintf(errbuf, errsize,
                 "invalid label predicate \"%s\"\nhint: Write FIELD OP VALUE with OP one of = != "
                 ">= <= > <, e.g. quality>=4 or verdict=accept.",
                 text);
        return -1;
    }
    int numeric = op[0] == '<' || op[0] == '>';
    if (numeric && !is_number(value)) {
        snprintf(errbuf, errsize, "invalid label predicate \"%s\": \"%s\" is not a number", text,
                 value);
        return -1;
    }
    int bad = 0;
    fw_buf_adds(&q->sql, " AND ");
    if (numeric) {
        fw_buf_adds(&q->sql, "jsonb_typeof(v.value -> ");
        bad |= fw_xsql_param_copy(q, name);
        fw_buf_adds(&q->sql, "::text) = 'number' AND (v.value ->> ");
        bad |= fw_xsql_param_copy(q, name);
        fw_buf_adds(&q->sql, "::text)::numeric ");
        fw_buf_adds(&q->sql, op);
        fw_buf_addc(&q->sql, ' ');
        bad |= fw_xsql_param(q, value);
        fw_buf_adds(&q->sql, "::numeric");
    } else {
        fw_buf_adds(&q->sql, "(v.value ->> ");
        bad |= fw_xsql_param_copy(q, name);
        fw_buf_adds(&q->sql, strcmp(op, "=") == 0 ? "::text) = " : "::text) IS DISTINCT FROM ");
        bad |= fw_xsql_param(q, value);
        fw_buf_adds(&q->sql, "::text");
    }
    return bad;
}

/* "quality (number), verdict (category: accept, reject), ..." — the fields
 * of def whose type passes `want` (NULL: all), for error details. */
static void list_fields(const json_t *def, const char *const *want, char *out, size_t size)
{
    size_t i, used = 0;
    const json_t *f;
    out[0] = '\0';
    json_array_foreach(json_object_get(def, "fields"), i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *type = json_string_value(json_object_get(f, "type"));
        int ok = !want;
        for (int k = 0; want && want[k]; k++)
            ok |= type && strcmp(type, want[k]) == 0;
        if (!name || !type || !ok || used + 1 >= size)
            continue;
        int n = snprintf(out + used, size - used, "%s%s (%s", used ? ", " : "", name, type);
        used = n < 0 ? size : used + (size_t)n;
        const json_t *vals = json_object_get(f, "values");
        size_t j;
        const json_t *v;
        json_array_foreach(vals, j, v)
        {
            if (used + 1 >= size)
                break;
            n = snprintf(out + used, size - used, "%s%s", j ? ", " : ": ", json_string_value(v));
            used = n < 0 ? size : used + (size_t)n;
        }
        if (used + 1 < size) {
            n = snprintf(out + used, size - used, ")");
            used = n < 0 ? size : used + (size_t)n;
        }
    }
    if (!out[0])
        snprintf(out, size, "none");
}

static const json_t *find_field(const json_t *def, const char *name)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(def, "fields"), i, f)
    {
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n && strcmp(n, name) == 0)
            return f;
    }
    return NULL;
}

/* Why predicate `op value` cannot apply to field f, or NULL when it can. */
static const char *pred_mismatch(const json_t *f, const char *op, const char *value)
{
    const char *type = json_string_value(json_object_get(f, "type"));
    if (!type)
        return "the field has no type";
    if (op[0] == '<' || op[0] == '>')
        return strcmp(type, "number") == 0 ? NULL : "only number fields compare with < <= > >=";
    if (strcmp(type, "number") == 0)
        return is_number(value) ? NULL : "the field is a number";
    if (strcmp(type, "boolean") == 0)
        return strcmp(value, "true") == 0 || strcmp(value, "false") == 0
                   ? NULL
                   : "the field is a boolean: compare it with true or false";
    if (strcmp(type, "category") == 0) {
        size_t i;
        const json_t *v;
        json_array_foreach(json_object_get(f, "values"), i,
                           v) if (json_is_string(v) &&
                                  strcmp(json_string_value(v), value) == 0) return NULL;
        return "the value is not one of the category's values";
    }
    if (strcmp(type, "pairwise") == 0)
        return strcmp(value, "A") == 0 || strcmp(value, "B") == 0 || strcmp(value, "tie") == 0
                   ? NULL
                   : "a pairwise field is A, B or tie";
    if (strcmp(type, "text") == 0)
        return NULL;
    return "corrections and spans are not compared in predicates";
}

int fw_xselect_check_fields(const fw_xopts *o, const char *score_field, const json_t *def,
                            const char *rubric, int version, char *errbuf, size_t errsize)
{
    static const char *const scores[] = {"number", "boolean", NULL};
    char fields[768], name[64];
    for (int i = 0; i < o->nwhere; i++) {
        const char *op, *value;
        if (parse_pred(o->where[i], name, sizeof name, &op, &value))
            continue; /* reported with its syntax by fw_xselect_build */
        const json_t *f = find_field(def, name);
        const char *why = f ? pred_mismatch(f, op, value) : NULL;
        if (!f || why) {
            list_fields(def, NULL, fields, sizeof fields);
            if (!f)
                snprintf(errbuf, errsize,
                         "unknown rubric field \"%s\" in --where \"%s\"\ndetail: Rubric \"%s\" "
                         "version %d has the fields %s.",
                         name, o->where[i], rubric, version, fields);
            else
                snprintf(errbuf, errsize,
                         "label predicate \"%s\" does not fit field \"%s\": %s\ndetail: Rubric "
                         "\"%s\" version %d has the fields %s.",
                         o->where[i], name, why, rubric, version, fields);
            return -1;
        }
    }
    if (score_field) {
        const json_t *f = find_field(def, score_field);
        const char *type = json_string_value(json_object_get(f, "type"));
        if (!f || !type || (strcmp(type, "number") != 0 && strcmp(type, "boolean") != 0)) {
            list_fields(def, scores, fields, sizeof fields);
            snprintf(errbuf, errsize,
                     "%s \"%s\" cannot be the score field\ndetail: A score is a number or boolean "
                     "field; rubric \"%s\" version %d has %s.",
                     f ? "rubric field" : "unknown rubric field", score_field, rubric, version,
                     fields);
            return -1;
        }
    }
    return 0;
}

/* A feedback row f about generation g: by its event id, its response id,
 * or its span (target_trace_id + target_span_id, V0040). Trace-wide
 * feedback judges no one generation and is not used here. */
#define FEEDBACK_ABOUT_G                                                                           \
    "(f.target_event_id = g.event_id OR (g.response_id IS NOT NULL AND "                           \
    "f.target_response_id = g.response_id) OR (f.target_span_id = g.span_id AND "                  \
    "f.target_trace_id = g.trace_id))"

/* A feedback predicate: some feedback row on the generation matches. */
static int add_feedback(fw_xsql *q, const char *text, char *name, char *errbuf, size_t errsize)
{
    const char *op, *value;
    if (parse_pred(text, name, 64, &op, &value)) {
        snprintf(errbuf, errsize,
                 "invalid feedback predicate \"%s\"\nhint: Write NAME OP VALUE, e.g. thumbs=false "
                 "or rating>=4.",
                 text);
        return -1;
    }
    int bad = 0;
    fw_buf_adds(&q->sql, " AND EXISTS (SELECT 1 FROM flywheel.feedback f WHERE " FEEDBACK_ABOUT_G
                         " AND f.name = ");
    bad |= fw_xsql_param_copy(q, name);
    fw_buf_adds(&q->sql, " AND ");
    if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
        if (strcmp(op, "=") != 0 && strcmp(op, "!=") != 0) {
            snprintf(errbuf, errsize,
                     "invalid feedback predicate \"%s\": booleans compare with = or !=", text);
            return -1;
        }
        fw_buf_adds(&q->sql, "f.bool_value ");
        fw_buf_adds(&q->sql, strcmp(op, "=") == 0 ? "= " : "IS DISTINCT FROM ");
        bad |= fw_xsql_param(q, value);
        fw_buf_adds(&q->sql, "::boolean");
    } else if (is_number(value)) {
        fw_buf_adds(&q->sql, "f.number_value ");
        fw_buf_adds(&q->sql, strcmp(op, "!=") == 0 ? "<>" : op);
        fw_buf_addc(&q->sql, ' ');
        bad |= fw_xsql_param(q, value);
        fw_buf_adds(&q->sql, "::double precision");
    } else {
        if (strcmp(op, "=") != 0 && strcmp(op, "!=") != 0) {
            snprintf(errbuf, errsize,
                     "invalid feedback predicate \"%s\": categories compare with = or !=", text);
            return -1;
        }
        fw_buf_adds(&q->sql, "f.category_value ");
        fw_buf_adds(&q->sql, strcmp(op, "=") == 0 ? "= " : "IS DISTINCT FROM ");
        bad |= fw_xsql_param(q, value);
    }
    fw_buf_addc(&q->sql, ')');
    return bad;
}

/* A feedback row f that carries a correction (a non-empty array of output
 * messages) about generation g (FEEDBACK_ABOUT_G). */
#define FEEDBACK_CORRECTION                                                                        \
    FEEDBACK_ABOUT_G " AND jsonb_typeof(f.correction) = 'array' AND "                              \
                     "jsonb_array_length(f.correction) > 0"

/* "AND <column> = $n" for an optional equality filter. */
static int add_eq(fw_xsql *q, const char *column, const char *value)
{
    if (!value)
        return 0;
    fw_buf_adds(&q->sql, " AND ");
    fw_buf_adds(&q->sql, column);
    fw_buf_adds(&q->sql, " = ");
    return fw_xsql_param(q, value);
}

int fw_xselect_build(const fw_xopts *o, const char *table, const char *comparable, fw_xsql *q,
                     char *errbuf, size_t errsize)
{
    char name[64];
    int bad = 0;

    fw_buf_adds(&q->sql, "INSERT INTO ");
    fw_buf_adds(&q->sql, table);
    fw_buf_adds(&q->sql, " (dataset, version, event_id, event_time, feedback_id, item_id, "
                         "event_id_b, event_time_b, label_ids) SELECT $1, $2::integer, "
                         "g.event_id, g.event_time, ");
    if (o->feedback_corrections) {
        if (o->fmt != FW_XFMT_PREFERENCE && o->fmt != FW_XFMT_PREFERENCE_TRL) {
            snprintf(errbuf, errsize, "--feedback-corrections applies to --format preference only");
            return -1;
        }
        /* The latest correction sent about the generation, by its feedback
         * event time then id; recorded in the member. */
        fw_buf_adds(&q->sql,
                    "(SELECT f.event_id FROM flywheel.feedback f WHERE " FEEDBACK_CORRECTION
                    " ORDER BY f.event_time DESC, f.event_id DESC LIMIT 1), ");
    } else {
        fw_buf_adds(&q->sql, "NULL, ");
    }
    if (o->queue) {
        /* Per finished item: the latest adjudication alone, else each
         * reviewer's latest label. */
        fw_buf_adds(
            &q->sql,
            "c.item_id, c.event_id_b, c.event_time_b, c.label_ids "
            "FROM (SELECT i.id AS item_id, i.event_id, i.event_time, i.event_id_b, "
            "i.event_time_b, i.status, adj.id IS NOT NULL AS adjudicated, "
            "CASE WHEN adj.id IS NOT NULL THEN ARRAY[adj.id] ELSE "
            "(SELECT array_agg(cur.id ORDER BY cur.id) FROM (SELECT DISTINCT ON (l.reviewer) l.id "
            "FROM flywheel.review_labels l WHERE l.item_id = i.id AND NOT l.is_adjudication "
            "ORDER BY l.reviewer, l.version DESC) cur) END AS label_ids "
            "FROM flywheel.review_items i JOIN flywheel.review_queues q ON q.id = i.queue_id "
            "LEFT JOIN LATERAL (SELECT l.id FROM flywheel.review_labels l WHERE l.item_id = i.id "
            "AND l.is_adjudication ORDER BY l.version DESC LIMIT 1) adj ON true "
            "WHERE NOT i.is_gold AND i.status IN ('labelled', 'disputed', 'adjudicated') "
            "AND q.name = ");
        bad |= fw_xsql_param(q, o->queue);
        fw_buf_adds(
            &q->sql,
            ") c JOIN flywheel.generations g ON g.event_id = c.event_id AND g.event_time = "
            "c.event_time "
            "CROSS JOIN LATERAL (SELECT CASE cardinality(c.label_ids) WHEN 1 THEN (SELECT l.value "
            "FROM flywheel.review_labels l WHERE l.id = c.label_ids[1]) "
            "ELSE flywheel.dataset_label_value(c.label_ids) END AS value) v "
            "WHERE ");
        if (strcmp(o->consensus, "adjudicated") == 0) {
            fw_buf_adds(&q->sql, "c.adjudicated");
        } else if (strcmp(o->consensus, "majority") == 0) {
            fw_buf_adds(&q->sql, "(c.adjudicated OR flywheel.dataset_label_majority(c.label_ids, ");
            bad |= fw_xsql_param(q, comparable ? comparable : "{}");
            fw_buf_adds(&q->sql, "::text[]))");
        } else if (strcmp(o->consensus, "all") == 0) {
            fw_buf_adds(&q->sql, "(c.adjudicated OR c.status = 'labelled')");
        } else {
            snprintf(errbuf, errsize,
                     "invalid consensus rule \"%s\"\nhint: Use all, majority or adjudicated.",
                     o->consensus);
            return -1;
        }
        for (int i = 0; i < o->nwhere; i++)
            if (add_where(q, o->where[i], name, errbuf, errsize))
                return -1;
    } else {
        if (o->nwhere > 0) {
            snprintf(errbuf, errsize, "label predicates need a queue\nhint: Add --queue NAME.");
            return -1;
        }
        fw_buf_adds(&q->sql, "0, NULL, NULL, '{}' FROM flywheel.generations g WHERE true");
        /* Without a queue the corrections are the only source of pairs:
         * select only the generations that have one. */
        if (o->feedback_corrections)
            fw_buf_adds(&q->sql,
                        " AND EXISTS (SELECT 1 FROM flywheel.feedback f WHERE " FEEDBACK_CORRECTION
                        ")");
    }
    for (int i = 0; i < o->nfeedback; i++)
        if (add_feedback(q, o->feedback[i], name, errbuf, errsize))
            return -1;
    bad |= add_eq(q, "g.project", o->project);
    bad |= add_eq(q, "g.environment", o->environment);
    bad |= add_eq(q, "g.release", o->release);
    bad |= add_eq(q, "g.prompt_template", o->prompt_template);
    bad |= add_eq(q, "g.prompt_version", o->prompt_version);
    if (o->model) {
        fw_buf_adds(&q->sql, " AND (g.request_model = ");
        bad |= fw_xsql_param(q, o->model);
        fw_buf_adds(&q->sql, " OR g.response_model = ");
        bad |= fw_xsql_param(q, o->model);
        fw_buf_addc(&q->sql, ')');
    }
    for (int i = 0; i < o->ntags; i++) {
        fw_buf_adds(&q->sql, " AND ");
        bad |= fw_xsql_param(q, o->tags[i]);
        fw_buf_adds(&q->sql, " = ANY (g.tags)");
    }
    if (o->since) {
        fw_buf_adds(&q->sql, " AND g.event_time >= ");
        bad |= fw_xsql_param(q, o->since);
        fw_buf_adds(&q->sql, "::timestamptz");
    }
    if (o->until) {
        fw_buf_adds(&q->sql, " AND g.event_time < ");
        bad |= fw_xsql_param(q, o->until);
        fw_buf_adds(&q->sql, "::timestamptz");
    }
    fw_buf_adds(&q->sql, o->queue ? " ORDER BY g.event_id, c.item_id" : " ORDER BY g.event_id");
    if (o->limit > 0) {
        int slot = q->nparams;
        if (slot >= FW_XMAX_PARAMS) {
            bad = 1;
        } else {
            char lim[32];
            snprintf(lim, sizeof lim, "%lld", o->limit);
            fw_buf_adds(&q->sql, " LIMIT ");
            bad |= fw_xsql_param_copy(q, lim);
            fw_buf_adds(&q->sql, "::bigint");
        }
    }
    if (bad || q->sql.oom) {
        snprintf(errbuf, errsize, "the selection is too large (too many predicates)");
        return -1;
    }
    return 0;
}
