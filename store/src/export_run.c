/*
 * The export pipeline; see export_run.h. Everything runs in one REPEATABLE
 * READ transaction, so the members resolved in step 1 and the rows streamed
 * in step 2 see the same snapshot, and a failure anywhere rolls back the
 * version it was recording.
 *
 * Order of work per line: build (export_fmt) → redact → validate → dedupe →
 * split → write. Redaction comes first so that what is validated, hashed
 * and written is what leaves the database.
 */
#include "export_run.h"

#include "export_copy.h"
#include "export_fast.h"
#include "export_fmt.h"
#include "export_json.h"
#include "export_sink.h"
#include "redact.h"
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef FW_VERSION_STR
#define FW_VERSION_STR "unknown"
#endif

#define MEMBERS_TABLE "flywheel.dataset_members"
#define TEMP_TABLE    "pg_temp.fw_export_members"

/* The stream query: members in export order with everything a line needs.
 * A member with one label row (overlap 1, or an adjudication) reads that
 * row's value directly, which is several times cheaper than the general
 * per-field consensus of flywheel.dataset_label_value(). A macro, so that
 * the format string below is a literal the compiler can check. */
#define STREAM_SQL                                                                                 \
    "SELECT m.event_id::text, g.event_id IS NULL, g.trace_id, g.conversation_id, g.user_id, "      \
    "g.session_id, g.project, g.environment, g.release, "                                          \
    "coalesce(nullif(g.response_model, ''), g.request_model), g.prompt_template, "                 \
    "g.prompt_version, g.system_instructions, array_to_json(g.tags)::text, "                       \
    "g.input_messages::text, g.output_messages::text, g.tool_definitions::text, "                  \
    "CASE cardinality(m.label_ids) WHEN 0 THEN NULL "                                              \
    "WHEN 1 THEN (SELECT l.value FROM flywheel.review_labels l WHERE l.id = "                      \
    "m.label_ids[1])::text "                                                                       \
    "ELSE flywheel.dataset_label_value(m.label_ids)::text END, "                                   \
    "m.event_id_b::text, gb.output_messages::text, fb.correction::text "                           \
    "FROM %s m "                                                                                   \
    "LEFT JOIN flywheel.generations g ON g.event_id = m.event_id AND g.event_time = m.event_time " \
    "LEFT JOIN flywheel.generations gb ON gb.event_id = m.event_id_b AND gb.event_time = "         \
    "m.event_time_b "                                                                              \
    "LEFT JOIN flywheel.feedback fb ON fb.event_id = m.feedback_id "                               \
    "WHERE m.dataset = %s AND m.version = %s ORDER BY m.event_id, m.item_id"

enum {
    C_EVENT_ID,
    C_MISSING,
    C_TRACE,
    C_CONV,
    C_USER,
    C_SESSION,
    C_PROJECT,
    C_ENV,
    C_RELEASE,
    C_MODEL,
    C_TEMPLATE,
    C_TVERSION,
    C_SYSTEM,
    C_TAGS,
    C_INPUT,
    C_OUTPUT,
    C_TOOLS,
    C_LABELS,
    C_EVENT_B,
    C_OUTPUT_B,
    C_FB_CORRECTION,
    C_NCOLS
};

typedef struct {
    const fw_xopts *o;
    fw_xfmt_opts fo;
    fwr_redactor *redactor;
    fw_xdedupe seen;
    fw_xsink *sink[FW_XSPLIT_COUNT]; /* the same sink thrice with one_stream */
    int write_split[FW_XSPLIT_COUNT];
    uint64_t lines[FW_XSPLIT_COUNT];
    struct {
        const char *reason; /* static strings (export_check, export_fmt, here) */
        long long n;
    } reasons[64];
    int nreasons;
    json_t *rejected; /* {reason: count}, built from reasons at the end */
    fw_buf line;
    fw_store_error *err;
    int failed;
    /* The streaming transform (export_fast.h), on for the rows it serves. */
    int fast_on;
    fw_xfast fast;
    long long fast_lines;
    /* The last group key and its split: rows of a conversation are
     * usually neighbours, and each assignment is a SHA-256. */
    char group[128];
    int have_group;
    fw_xsplit group_split;
} run_ctx;

static int pg_ok(PGconn *c, PGresult *r, ExecStatusType want, const char *what, fw_store_error *err)
{
    if (r && PQresultStatus(r) == want)
        return 1;
    fw_store_fail_pg(err, what, r, c);
    return 0;
}

/* Runs a command. Not PQexec: when the server sends an error and then
 * closes the connection (a backend terminated at COMMIT), PQexec hands back
 * only a synthetic result for the lost connection, without the server's
 * SQLSTATE and message; the first failed result is the one to report. */
static int exec_cmd(PGconn *c, const char *sql, const char *what, fw_store_error *err)
{
    if (!PQsendQuery(c, sql)) {
        fw_store_fail_pg(err, what, NULL, c);
        return -1;
    }
    PGresult *r, *bad = NULL;
    int seen = 0;
    while ((r = PQgetResult(c)) != NULL) {
        seen = 1;
        if (!bad && PQresultStatus(r) != PGRES_COMMAND_OK)
            bad = r;
        else
            PQclear(r);
    }
    if (bad || !seen) {
        fw_store_fail_pg(err, what, bad, c);
        PQclear(bad);
        return -1;
    }
    return 0;
}

/* Counts a rejected row. No jansson here: rows run in a jansson arena
 * scope (export_json.h) and the counts outlive it. */
static int count_reason(run_ctx *x, const char *reason)
{
    for (int i = 0; i < x->nreasons; i++)
        if (strcmp(x->reasons[i].reason, reason) == 0) {
            x->reasons[i].n++;
            return 0;
        }
    if (x->nreasons == (int)(sizeof x->reasons / sizeof x->reasons[0]))
        return fw_store_fail(x->err, FW_STORE_NOMEM, "too many distinct rejection reasons");
    x->reasons[x->nreasons].reason = reason;
    x->reasons[x->nreasons++].n = 1;
    return 0;
}

/* Keys whose string values are identifiers or structure, never redacted. */
static int keep_key(const char *k)
{
    static const char *const keep[] = {"id",
                                       "tool_call_id",
                                       "event_id",
                                       "role",
                                       "type",
                                       "label",
                                       "trace_id",
                                       "conversation_id",
                                       "project",
                                       "environment",
                                       "release",
                                       "model",
                                       "prompt_template",
                                       "prompt_version",
                                       "field",
                                       "name",
                                       NULL};
    for (int i = 0; keep[i]; i++)
        if (strcmp(k, keep[i]) == 0)
            return 1;
    return 0;
}

static int redact_value(fwr_redactor *r, json_t *v)
{
    if (json_is_string(v)) {
        char *out = NULL;
        size_t out_len = 0;
        int n = fwr_apply(r, json_string_value(v), json_string_length(v), &out, &out_len);
        if (n < 0)
            return -1;
        if (n > 0) {
            int rc = json_string_setn(v, out, out_len);
            free(out);
            return rc;
        }
        return 0;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) if (redact_value(r, e)) return -1;
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) if (!keep_key(k) && redact_value(r, e)) return -1;
    }
    return 0;
}

static const char *group_key(const fw_xopts *o, const fw_xrow *r)
{
    const char *k = NULL;
    if (strcmp(o->group_by, "user") == 0)
        k = r->user_id;
    else if (strcmp(o->group_by, "trace") == 0)
        k = r->trace_id;
    else
        k = r->conversation_id ? r->conversation_id : r->trace_id;
    return k && *k ? k : r->event_id;
}

static fw_xsplit split_of(run_ctx *x, const fw_xrow *row)
{
    const char *k = group_key(x->o, row);
    size_t n = strlen(k);
    if (x->have_group && n < sizeof x->group && memcmp(x->group, k, n + 1) == 0)
        return x->group_split;
    fw_xsplit s = fw_xsplit_assign(x->o->seed, k, x->o->ratios);
    x->have_group = n < sizeof x->group;
    if (x->have_group) {
        memcpy(x->group, k, n + 1);
        x->group_split = s;
    }
    return s;
}

/*
 * The end of the pipeline for a line that passed its checks: dedupe by
 * `hash`, split, write. The line's text is written from `line` when given
 * (once its split is known to be written), else it is already in x->line.
 */
static int place_line(run_ctx *x, const fw_xrow *row, uint64_t hash, const json_t *line)
{
    if (x->o->dedupe) {
        int added = fw_xdedupe_add(&x->seen, hash);
        if (added < 0)
            return fw_store_fail(x->err, FW_STORE_NOMEM,
                                 "could not grow the dedupe set (out of memory, or its temporary "
                                 "file failed)");
        if (added == 0)
            return count_reason(x, "duplicate");
    }
    fw_xsplit s = split_of(x, row);
    x->lines[s]++;
    if (!x->write_split[s])
        return 0;
    if (line) {
        fw_buf_reset(&x->line);
        if (fw_xjson_dump(line, &x->line) != 0)
            return fw_store_fail(x->err, FW_STORE_NOMEM, "out of memory while writing a line");
    }
    return fw_xsink_line(x->sink[s], x->line.data, x->line.len, x->err);
}

static uint64_t content_hash(const json_t *line, const char *const *keys)
{
    if (!keys)
        return fw_xdedupe_hash(line);
    json_t *sub = json_object();
    uint64_t h;
    for (int i = 0; sub && keys[i]; i++) {
        json_t *v = json_object_get(line, keys[i]);
        if (v)
            json_object_set(sub, keys[i], v);
    }
    h = sub ? fw_xdedupe_hash(sub) : 0;
    json_decref(sub);
    return h;
}

/* The emit callback of export_fmt: the rest of the pipeline for one line. */
static int on_line(void *vctx, const fw_xrow *row, json_t *line, const char *const *keys,
                   const char *reason)
{
    run_ctx *x = vctx;
    int rc = -1;
    if (!line)
        return count_reason(x, reason);
    if (x->redactor) {
        json_t *copy = json_deep_copy(line);
        json_decref(line);
        line = copy;
        if (!line || redact_value(x->redactor, line)) {
            fw_store_fail(x->err, FW_STORE_NOMEM, "out of memory while redacting");
            goto done;
        }
    }
    const char *why = fw_xcheck_line(x->o->fmt, line, x->o->max_tokens);
    if (why) {
        rc = count_reason(x, why);
        goto done;
    }
    rc = place_line(x, row, x->o->dedupe ? content_hash(line, keys) : 0, line);
done:
    json_decref(line);
    if (rc)
        x->failed = 1;
    return rc;
}

static json_t *parse_col(char **f, const size_t *lens, int c)
{
    if (!f[c])
        return NULL;
    return fw_xjson_parse(f[c], lens[c]);
}

/* 1 when the JSON text s (n bytes) contains the string literal of key. */
static int mentions_key(const char *s, size_t n, const char *key)
{
    size_t k = strlen(key);
    for (const char *p = s; (p = memchr(p, '"', n - (size_t)(p - s))) != NULL; p++)
        if ((size_t)(s + n - p) >= k + 2 && memcmp(p + 1, key, k) == 0 && p[k + 1] == '"')
            return 1;
    return 0;
}

/*
 * The streaming transform for one row (export_fast.h). Returns 1 when it
 * wrote the row's line (or counted it as a duplicate), 0 when the general
 * path must build the row, -1 on failure (err filled).
 */
static int fast_row(run_ctx *x, char **f, const size_t *lens)
{
    if (!x->fast_on || (f[C_MISSING] && strcmp(f[C_MISSING], "t") == 0))
        return 0;
    /* A reviewer's correction replaces the output: the general path. */
    if (x->fo.correction_field && f[C_LABELS] &&
        mentions_key(f[C_LABELS], lens[C_LABELS], x->fo.correction_field))
        return 0;
    fw_xfast_row fr = {f[C_SYSTEM],    f[C_INPUT], lens[C_INPUT], f[C_OUTPUT],
                       lens[C_OUTPUT], f[C_TOOLS], lens[C_TOOLS]};
    int rc = fw_xfast_chat(&x->fast, &fr, x->fo.weights, &x->line);
    if (rc < 0)
        return fw_store_fail(x->err, FW_STORE_NOMEM, "out of memory while writing a line");
    uint64_t h = 0;
    if (rc == FW_XFAST_FALLBACK ||
        (x->o->dedupe && fw_xdedupe_hash_text(x->line.data, x->line.len, &h) != 0))
        return 0;
    x->fast_lines++;
    fw_xrow r = {0};
    r.event_id = f[C_EVENT_ID];
    r.trace_id = f[C_TRACE];
    r.conversation_id = f[C_CONV];
    r.user_id = f[C_USER];
    if (place_line(x, &r, h, NULL)) {
        x->failed = 1;
        return -1;
    }
    return 1;
}

/* One streamed row, its fields split by fw_xcopy_split. */
static int process_row(run_ctx *x, char **f, const size_t *lens)
{
    fw_xrow r = {0};
    int rc = fast_row(x, f, lens);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (f[C_MISSING] && strcmp(f[C_MISSING], "t") == 0)
        return count_reason(x, "generation_missing");
    r.event_id = f[C_EVENT_ID];
    r.trace_id = f[C_TRACE];
    r.conversation_id = f[C_CONV];
    r.user_id = f[C_USER];
    r.session_id = f[C_SESSION];
    r.project = f[C_PROJECT];
    r.environment = f[C_ENV];
    r.release = f[C_RELEASE];
    r.model = f[C_MODEL];
    r.prompt_template = f[C_TEMPLATE];
    r.prompt_version = f[C_TVERSION];
    r.system_instructions = f[C_SYSTEM];
    r.event_id_b = f[C_EVENT_B];
    r.tags = parse_col(f, lens, C_TAGS);
    r.input = parse_col(f, lens, C_INPUT);
    r.output = parse_col(f, lens, C_OUTPUT);
    r.tools = parse_col(f, lens, C_TOOLS);
    r.labels = parse_col(f, lens, C_LABELS);
    r.output_b = parse_col(f, lens, C_OUTPUT_B);
    r.feedback_correction = parse_col(f, lens, C_FB_CORRECTION);
    if (!r.input || !r.output)
        rc = count_reason(x, "unreadable_messages");
    else
        rc = fw_xfmt_row(&x->fo, &r, on_line, x);
    json_decref(r.tags);
    json_decref(r.input);
    json_decref(r.output);
    json_decref(r.tools);
    json_decref(r.labels);
    json_decref(r.output_b);
    json_decref(r.feedback_correction);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- rubric -------------------------------------------------------------- */

/* Picks the rubric's field names by type and builds the list of comparable
 * fields (a PostgreSQL array literal) for the majority rule. */
static int load_rubric(PGconn *c, fw_xopts *o, run_ctx *x, int recorded_rules, json_t **def_out,
                       fw_buf *comparable, fw_store_error *err)
{
    PGresult *r;
    char ver[16];
    if (o->rubric_name) {
        snprintf(ver, sizeof ver, "%d", o->rubric_version);
        const char *p[2] = {o->rubric_name, ver};
        r = PQexecParams(c,
                         "SELECT name, version, definition::text FROM flywheel.review_rubrics "
                         "WHERE name = $1 AND version = $2::integer",
                         2, NULL, p, NULL, NULL, 0);
    } else if (o->queue) {
        const char *p[1] = {o->queue};
        r = PQexecParams(
            c,
            "SELECT r.name, r.version, r.definition::text FROM flywheel.review_queues q "
            "JOIN flywheel.review_rubrics r ON r.name = q.rubric_name "
            "AND r.version = q.rubric_version WHERE q.name = $1",
            1, NULL, p, NULL, NULL, 0);
    } else {
        fw_buf_adds(comparable, "{}");
        return 0;
    }
    if (!pg_ok(c, r, PGRES_TUPLES_OK, "read the rubric", err)) {
        PQclear(r);
        return -1;
    }
    if (PQntuples(r) != 1) {
        if (o->queue && !o->rubric_name)
            fw_store_fail(err, FW_STORE_NOT_FOUND, "review queue \"%s\" does not exist", o->queue);
        else
            fw_store_fail(err, FW_STORE_NOT_FOUND, "rubric \"%s\" version %d does not exist",
                          o->rubric_name, o->rubric_version);
        PQclear(r);
        return -1;
    }
    json_t *def = json_loads(PQgetvalue(r, 0, 2), 0, NULL);
    json_t *holder = json_object();
    /* Keep the name alive with the definition: o->rubric_name may point into it. */
    json_object_set_new(holder, "name", json_string(PQgetvalue(r, 0, 0)));
    json_object_set_new(holder, "definition", def);
    o->rubric_version = (int)strtol(PQgetvalue(r, 0, 1), NULL, 10);
    PQclear(r);
    o->rubric_name = json_string_value(json_object_get(holder, "name"));
    *def_out = holder;
    size_t i;
    const json_t *f;
    int n = 0;
    fw_buf_addc(comparable, '{');
    json_array_foreach(json_object_get(def, "fields"), i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *type = json_string_value(json_object_get(f, "type"));
        if (!name || !type)
            continue;
        if (strcmp(type, "correction") == 0 && !x->fo.correction_field)
            x->fo.correction_field = name;
        else if (strcmp(type, "pairwise") == 0 && !x->fo.pairwise_field)
            x->fo.pairwise_field = name;
        else if (strcmp(type, "span") == 0 && !x->fo.span_field) {
            x->fo.span_field = name;
            /* The rubric states what an output without spans means; a
             * recorded version keeps the rule it was made with. */
            const char *unmarked = json_string_value(json_object_get(f, "unmarked"));
            if (!recorded_rules)
                o->unmarked_negative = !unmarked || strcmp(unmarked, "unknown") != 0;
        }
        if (strcmp(type, "boolean") == 0 || strcmp(type, "category") == 0 ||
            strcmp(type, "number") == 0 || strcmp(type, "pairwise") == 0) {
            if (n++)
                fw_buf_addc(comparable, ',');
            fw_buf_adds(comparable, name); /* rubric names are [a-z0-9_] */
        }
        if (!o->score_field && strcmp(type, "number") == 0)
            o->score_field = name;
    }
    json_array_foreach(json_object_get(def, "fields"), i, f)
    {
        const char *type = json_string_value(json_object_get(f, "type"));
        if (!o->score_field && type && strcmp(type, "boolean") == 0)
            o->score_field = json_string_value(json_object_get(f, "name"));
    }
    fw_buf_addc(comparable, '}');
    return 0;
}

/* A typo in a field name or a field of the wrong type is an error naming
 * the fields that exist, not an empty selection (new exports only: a
 * recorded version keeps what it recorded). */
static int check_fields(const fw_xopts *o, const char *score_field, const json_t *rubric,
                        fw_store_error *err)
{
    char errbuf[1536];
    if (!rubric) {
        if (score_field)
            return fw_store_fail(err, FW_STORE_INVALID,
                                 "--score-field needs a queue\nhint: Add --queue NAME: scores "
                                 "are fields of its rubric.");
        return 0;
    }
    if (fw_xselect_check_fields(o, score_field, json_object_get(rubric, "definition"),
                                o->rubric_name, o->rubric_version, errbuf, sizeof errbuf)) {
        fw_store_error_from_text(err, FW_STORE_INVALID, errbuf);
        return -1;
    }
    return 0;
}

/* ---- outputs and manifest ------------------------------------------------ */

static const char *split_ext(const fw_xopts *o)
{
    return o->zstd_level ? ".jsonl.zst" : ".jsonl";
}

static int open_outputs(run_ctx *x, const fw_xrun_target *t, fw_store_error *err)
{
    if (t->one_stream) {
        fw_xsink *s = fw_xsink_open(t->writer, "-", x->o->zstd_level, err);
        if (!s)
            return -1;
        for (int i = 0; i < FW_XSPLIT_COUNT; i++) {
            x->sink[i] = s;
            x->write_split[i] =
                !t->only_split || strcmp(t->only_split, fw_xsplit_name((fw_xsplit)i)) == 0;
        }
        return 0;
    }
    for (int i = 0; i < FW_XSPLIT_COUNT; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%s", fw_xsplit_name((fw_xsplit)i), split_ext(x->o));
        x->sink[i] = fw_xsink_open(t->writer, name, x->o->zstd_level, err);
        if (!x->sink[i])
            return -1;
        x->write_split[i] = 1;
    }
    return 0;
}

/* Ends every open output as failed (the writer's close with ok = 0). */
static void abort_outputs(run_ctx *x)
{
    if (x->sink[0] && x->sink[0] == x->sink[1]) {
        fw_xsink_abort(x->sink[0]);
    } else {
        for (int i = 0; i < FW_XSPLIT_COUNT; i++)
            fw_xsink_abort(x->sink[i]);
    }
    memset(x->sink, 0, sizeof x->sink);
}

/* Closes the outputs as complete and adds their entries to `files`. */
static int close_outputs(run_ctx *x, const fw_xrun_target *t, json_t *files, fw_store_error *err)
{
    int shared = x->sink[0] == x->sink[1];
    for (int i = 0; i < FW_XSPLIT_COUNT; i++) {
        char hex[65], name[64];
        uint64_t bytes = 0, lines = 0;
        if (shared && i > 0)
            break;
        fw_xsink *s = x->sink[i];
        x->sink[i] = NULL;
        if (shared)
            memset(x->sink, 0, sizeof x->sink);
        if (fw_xsink_close(s, hex, &bytes, &lines, err)) {
            abort_outputs(x);
            return -1;
        }
        if (shared)
            snprintf(name, sizeof name, "-");
        else
            snprintf(name, sizeof name, "%s%s", fw_xsplit_name((fw_xsplit)i), split_ext(x->o));
        json_t *f = json_object();
        json_object_set_new(f, "name", json_string(name));
        json_object_set_new(f, "split",
                            shared
                                ? (t->only_split ? json_string(t->only_split) : json_string("all"))
                                : json_string(fw_xsplit_name((fw_xsplit)i)));
        json_object_set_new(f, "lines", json_integer((json_int_t)lines));
        json_object_set_new(f, "bytes", json_integer((json_int_t)bytes));
        json_object_set_new(f, "sha256", json_string(hex));
        json_array_append_new(files, f);
    }
    return 0;
}

static json_t *sorted_counts(const json_t *obj)
{
    const char *keys[256];
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)obj, k, v) if (n < 256) keys[n++] = k;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *tmp = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = tmp;
        }
    json_t *out = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set(out, keys[i], json_object_get(obj, keys[i]));
    return out;
}

static json_t *build_manifest(run_ctx *x, const fw_xrun_target *t, int version, long long members,
                              json_t *params, json_t *files)
{
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *m = json_object(), *counts = json_object();
    long long rejected = 0;
    const char *k;
    json_t *v;
    json_object_foreach(x->rejected, k, v) rejected += json_integer_value(v);
    json_object_set_new(m, "dataset", t->dataset ? json_string(t->dataset) : json_null());
    json_object_set_new(m, "version", t->dataset ? json_integer(version) : json_null());
    json_object_set_new(m, "format", json_string(fw_xfmt_name(x->o->fmt)));
    json_object_set_new(m, "style",
                        json_string(x->o->fmt == FW_XFMT_PREFERENCE_TRL ? "trl" : "openai"));
    json_object_set_new(m, "schema_version", json_integer(1));
    json_object_set_new(m, "flywheel_version", json_string(FW_VERSION_STR));
    json_object_set_new(m, "created_at", json_string(ts));
    json_object_set(m, "parameters", params);
    json_object_set_new(m, "members", json_integer(members));
    for (int i = 0; i < FW_XSPLIT_COUNT; i++)
        json_object_set_new(counts, fw_xsplit_name((fw_xsplit)i),
                            json_integer((json_int_t)x->lines[i]));
    json_object_set_new(m, "lines", counts);
    json_object_set_new(m, "rejected_total", json_integer(rejected));
    json_object_set_new(m, "rejected", sorted_counts(x->rejected));
    json_object_set(m, "files", files);
    return m;
}

/* Writes the manifest as stream "manifest.json" (indented, keys in order). */
static int write_manifest(const fw_store_writer *w, const json_t *m, fw_store_error *err)
{
    char *text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    void *stream = NULL;
    if (!text)
        return fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
    int rc = w->open(w->ctx, "manifest.json", &stream, err);
    if (rc == 0) {
        rc = w->write(w->ctx, stream, text, strlen(text), err);
        if (rc == 0) {
            rc = w->close(w->ctx, stream, 1, err);
        } else {
            fw_store_error ignored;
            w->close(w->ctx, stream, 0, &ignored);
        }
    }
    free(text);
    return rc;
}

/* Compares the files of a re-export with the recorded manifest. */
static int same_files(const json_t *recorded, const json_t *files, fw_store_error *err)
{
    const json_t *rf = json_object_get(recorded, "files");
    size_t i;
    const json_t *f;
    json_array_foreach(files, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *sha = json_string_value(json_object_get(f, "sha256"));
        size_t j;
        const json_t *g;
        int found = 0;
        json_array_foreach(rf, j, g)
        {
            if (strcmp(json_string_value(json_object_get(g, "name"))
                           ? json_string_value(json_object_get(g, "name"))
                           : "",
                       name) != 0)
                continue;
            found = 1;
            if (strcmp(json_string_value(json_object_get(g, "sha256"))
                           ? json_string_value(json_object_get(g, "sha256"))
                           : "",
                       sha) != 0) {
                fw_store_fail(
                    err, FW_STORE_MISMATCH,
                    "re-exported file \"%s\" differs from the recorded version (sha256 %s, "
                    "recorded %s)",
                    name, sha, json_string_value(json_object_get(g, "sha256")));
                return 0;
            }
        }
        if (!found && strcmp(name, "-") != 0) {
            fw_store_fail(err, FW_STORE_MISMATCH,
                          "re-exported file \"%s\" is not in the recorded manifest", name);
            return 0;
        }
    }
    return 1;
}

/* ---- the run -------------------------------------------------------------- */

/* Loads a recorded version's parameters into o; *params_out keeps the
 * strings o points to alive, *manifest_out is the recorded manifest. */
static int load_version(PGconn *c, fw_xopts *o, const fw_xrun_target *t, json_t **params_out,
                        json_t **manifest_out, long long *members, fw_store_error *err)
{
    char ver[16];
    snprintf(ver, sizeof ver, "%d", t->version);
    const char *p[2] = {t->dataset, ver};
    PGresult *r =
        PQexecParams(c,
                     "SELECT parameters::text, manifest::text, members "
                     "FROM flywheel.dataset_versions WHERE dataset = $1 AND version = $2::integer",
                     2, NULL, p, NULL, NULL, 0);
    if (!pg_ok(c, r, PGRES_TUPLES_OK, "read the dataset version", err)) {
        PQclear(r);
        return -1;
    }
    if (PQntuples(r) != 1 || PQgetisnull(r, 0, 1)) {
        fw_store_fail(
            err, FW_STORE_NOT_FOUND,
            "dataset \"%s\" has no version %d\nhint: Run `flywheel dataset list` to see the "
            "recorded versions.",
            t->dataset, t->version);
        PQclear(r);
        return -1;
    }
    *params_out = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    *manifest_out = json_loads(PQgetvalue(r, 0, 1), 0, NULL);
    *members = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
    PQclear(r);
    if (!*params_out || !*manifest_out)
        return fw_store_fail(err, FW_STORE_DATABASE, "the recorded version is not valid JSON");
    char errbuf[512];
    if (fw_xopts_from_json(o, *params_out, errbuf, sizeof errbuf) != 0)
        return fw_store_fail(err, FW_STORE_DATABASE, "%s", errbuf);
    return 0;
}

/* Records a new version row (members follow) and returns its number. */
static int new_version(PGconn *c, const fw_xopts *o, const fw_xrun_target *t, const json_t *params,
                       int *version, fw_store_error *err)
{
    char *ptext = json_dumps(params, JSON_COMPACT | JSON_PRESERVE_ORDER);
    const char *p[2] = {t->dataset, t->description ? t->description : ""};
    const char *p2[3] = {t->dataset, fw_xfmt_name(o->fmt), ptext};
    PGresult *r = PQexecParams(c,
                               "INSERT INTO flywheel.datasets (name, description) VALUES ($1, $2) "
                               "ON CONFLICT (name) DO NOTHING",
                               2, NULL, p, NULL, NULL, 0);
    int ok = pg_ok(c, r, PGRES_COMMAND_OK, "create the dataset", err);
    PQclear(r);
    if (ok) {
        /* The row lock serialises concurrent exports into one dataset. */
        r = PQexecParams(
            c,
            "WITH d AS (SELECT name FROM flywheel.datasets WHERE name = $1 FOR UPDATE) "
            "INSERT INTO flywheel.dataset_versions (dataset, version, format, parameters) "
            "SELECT d.name, coalesce((SELECT max(version) FROM flywheel.dataset_versions v "
            "WHERE v.dataset = d.name), 0) + 1, $2, $3::jsonb FROM d RETURNING version",
            3, NULL, p2, NULL, NULL, 0);
        ok = pg_ok(c, r, PGRES_TUPLES_OK, "record the dataset version", err) && PQntuples(r) == 1;
        if (ok)
            *version = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
    }
    free(ptext);
    return ok ? 0 : -1;
}

/* One row of the COPY stream: split into columns, turned into lines. Keeps
 * the row's event id in last_id for error messages. Returns 0 or -1. */
static int copy_row(run_ctx *x, char *buf, size_t n, char last_id[40])
{
    char *f[C_NCOLS];
    size_t lens[C_NCOLS];
    int rc = 0;
    if (fw_xcopy_split(buf, n, f, lens, C_NCOLS) != C_NCOLS)
        return fw_store_fail(x->err, FW_STORE_DATABASE, "unexpected export row shape");
    if (f[C_EVENT_ID] && lens[C_EVENT_ID] < 40)
        memcpy(last_id, f[C_EVENT_ID], lens[C_EVENT_ID] + 1);
    fw_xjson_scope_begin();
    if (process_row(x, f, lens)) {
        if (x->err->code == FW_STORE_OK)
            fw_store_fail(x->err, FW_STORE_NOMEM, "out of memory");
        rc = -1;
    }
    fw_xjson_scope_end();
    return rc;
}

/* Streams the rows with COPY (see export_copy.h for why not a cursor). */
static int stream(PGconn *c, run_ctx *x, const char *sql, long long total,
                  const fw_store_progress *pr, fw_store_error *err)
{
    fw_buf q = {0};
    fw_buf_adds(&q, "COPY (");
    fw_buf_adds(&q, sql);
    fw_buf_adds(&q, ") TO STDOUT");
    if (q.oom) {
        fw_buf_free(&q);
        return fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
    }
    PGresult *r = PQexec(c, q.data);
    fw_buf_free(&q);
    if (!pg_ok(c, r, PGRES_COPY_OUT, "read the export rows", err)) {
        PQclear(r);
        return -1;
    }
    PQclear(r);
    long long done = 0;
    double t0 = now_s(), last = 0;
    int rc = 0, n;
    char *buf;
    char last_id[40] = "";
    /* After a failure keep draining so that the connection can roll back. */
    while ((n = PQgetCopyData(c, &buf, 0)) > 0) {
        if (rc == 0 && pr->cancel && *pr->cancel) {
            rc = fw_store_fail(err, FW_STORE_CANCELLED, "export cancelled");
        } else if (rc == 0) {
            rc = copy_row(x, buf, (size_t)n, last_id);
            done++;
            if (pr->fn && rc == 0 && (done & 255) == 0 && now_s() - last > 0.2) {
                last = now_s();
                pr->fn(pr->ctx, done, total, last - t0, 0);
            }
        }
        PQfreemem(buf);
    }
    r = PQgetResult(c);
    if (rc == 0 && (n != -1 || !r || PQresultStatus(r) != PGRES_COMMAND_OK)) {
        /* The server or the connection ended the stream early (PostgreSQL
         * stopped, the backend was terminated, the network failed). Say
         * what, and how far the export got. */
        fw_store_fail_pg(err, "read the export rows",
                         r && PQresultStatus(r) != PGRES_COMMAND_OK ? r : NULL, c);
        snprintf(err->detail, sizeof err->detail,
                 "The stream of export rows ended after %lld of %lld rows%s%s%s. Nothing was "
                 "recorded and no output was completed.",
                 done, total, last_id[0] ? " (the last was generation " : "", last_id,
                 last_id[0] ? ")" : "");
        rc = -1;
    }
    PQclear(r);
    while ((r = PQgetResult(c)) != NULL)
        PQclear(r);
    if (rc == 0 && pr->fn)
        pr->fn(pr->ctx, done, total, now_s() - t0, 1);
    return rc;
}

/* The stream query over `table` for dataset/version (already quoted). */
static char *stream_sql(const char *table, const char *qdataset, const char *qversion)
{
    size_t n = strlen(STREAM_SQL) + strlen(table) + strlen(qdataset) + strlen(qversion) + 32;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, STREAM_SQL, table, qdataset, qversion);
    return s;
}

char *fw_xrun_stream_sql(PGconn *conn, const char *dataset, int version)
{
    char ver[16];
    snprintf(ver, sizeof ver, "%d", version);
    char *qd = PQescapeLiteral(conn, dataset, strlen(dataset));
    char *qv = PQescapeLiteral(conn, ver, strlen(ver));
    char *s = qd && qv ? stream_sql(MEMBERS_TABLE, qd, qv) : NULL;
    PQfreemem(qd);
    PQfreemem(qv);
    return s;
}

/* A redactor with the built-in detectors of o and its LABEL=REGEX rules. */
static int make_redactor(const fw_xopts *o, fwr_redactor **out, fw_store_error *err)
{
    fwr_redactor *red = fwr_new(o->redact_detectors);
    if (!red)
        return fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
    for (int i = 0; i < o->nredact_rules; i++) {
        const char *rule = o->redact_rules[i], *eq = strchr(rule, '=');
        char label[64], msg[256];
        if (!eq || eq == rule || (size_t)(eq - rule) >= sizeof label) {
            fwr_free(red);
            return fw_store_fail(err, FW_STORE_INVALID,
                                 "invalid redaction rule \"%s\"\nhint: Write LABEL=REGEX.", rule);
        }
        snprintf(label, sizeof label, "%.*s", (int)(eq - rule), rule);
        if (fwr_add_regex(red, label, eq + 1, msg, sizeof msg)) {
            fwr_free(red);
            return fw_store_fail(err, FW_STORE_INVALID, "invalid redaction rule \"%s\": %s", rule,
                                 msg);
        }
    }
    *out = red;
    return 0;
}

int fw_xrun(PGconn *conn, fw_xopts *o, const fw_xrun_target *t, fw_xrun_result *res,
            fw_store_error *err)
{
    run_ctx x = {0};
    json_t *params = NULL, *recorded = NULL, *rubric = NULL, *files = NULL, *manifest = NULL;
    fw_buf comparable = {0};
    fw_xsql sel = {0};
    char *qdataset = NULL, *qversion = NULL, *mtext = NULL, *sql = NULL;
    long long members = 0;
    int version = t->version, rc = -1, in_txn = 0, committed = 0, finished = 0;
    char verstr[16];

    fw_store_error_clear(err);
    memset(res, 0, sizeof *res);
    x.o = o;
    x.err = err;
    x.rejected = json_object();
    if (!t->writer) {
        fw_store_fail(err, FW_STORE_INVALID, "no writer given for the export's output");
        goto done;
    }
    if (!x.rejected) {
        fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
        goto done;
    }
    if (exec_cmd(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ", "start a transaction", err))
        goto done;
    in_txn = 1;
    if (t->version > 0 && load_version(conn, o, t, &params, &recorded, &members, err))
        goto done;
    x.fo.fmt = o->fmt;
    x.fo.weights = o->weights;
    x.fo.negative_label = o->negative_label;
    x.fo.sentence_rules = o->sentence_rules;
    const char *score_given = o->score_field;
    if (load_rubric(conn, o, &x, t->version > 0, &rubric, &comparable, err))
        goto done;
    x.fo.unmarked_negative = o->unmarked_negative;
    if (t->version <= 0 && check_fields(o, score_given, rubric, err))
        goto done;
    x.fo.score_field = o->score_field;
    const char *table = t->dataset ? MEMBERS_TABLE : TEMP_TABLE;
    if (t->version <= 0) {
        params = fw_xopts_to_json(o);
        if (!params) {
            fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
            goto done;
        }
        if (t->dataset) {
            if (new_version(conn, o, t, params, &version, err))
                goto done;
        } else {
            version = 0;
            if (exec_cmd(conn,
                         "CREATE TEMP TABLE fw_export_members (LIKE flywheel.dataset_members "
                         "INCLUDING DEFAULTS) ON COMMIT DROP",
                         "create the member table", err))
                goto done;
        }
        snprintf(verstr, sizeof verstr, "%d", version);
        sel.params[0] = t->dataset ? t->dataset : "";
        sel.params[1] = verstr;
        sel.nparams = 2;
        char errbuf[1024];
        if (fw_xselect_build(o, table, comparable.data, &sel, errbuf, sizeof errbuf)) {
            fw_store_error_from_text(err, FW_STORE_INVALID, errbuf);
            goto done;
        }
        PGresult *r =
            PQexecParams(conn, sel.sql.data, sel.nparams, NULL, sel.params, NULL, NULL, 0);
        if (!pg_ok(conn, r, PGRES_COMMAND_OK, "select the export rows", err)) {
            PQclear(r);
            goto done;
        }
        members = strtoll(PQcmdTuples(r), NULL, 10);
        PQclear(r);
        if (members == 0 && !t->allow_empty) {
            fw_store_fail(err, FW_STORE_EMPTY,
                          "the selection matched no %s\ndetail: Nothing was written%s.\nhint: "
                          "Check the selection options (--queue, --where, --consensus, filters); "
                          "pass --allow-empty to write an empty export%s anyway.",
                          o->queue ? "finished review items" : "generations",
                          t->dataset ? " and no dataset version was recorded" : "",
                          t->dataset ? " and record it" : "");
            goto done;
        }
    }
    snprintf(verstr, sizeof verstr, "%d", version);
    qdataset =
        PQescapeLiteral(conn, t->dataset ? t->dataset : "", strlen(t->dataset ? t->dataset : ""));
    qversion = PQescapeLiteral(conn, verstr, strlen(verstr));
    sql = qdataset && qversion ? stream_sql(table, qdataset, qversion) : NULL;
    if (!sql) {
        fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
        goto done;
    }
    if ((o->redact_detectors || o->nredact_rules) && make_redactor(o, &x.redactor, err))
        goto done;
    x.fast_on = o->fmt == FW_XFMT_OPENAI_CHAT && !x.redactor && o->max_tokens <= 0;
    if (open_outputs(&x, t, err))
        goto done;
    if (stream(conn, &x, sql, members, &t->progress, err))
        goto done;
    files = json_array();
    if (!files) {
        fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
        goto done;
    }
    if (close_outputs(&x, t, files, err))
        goto done;
    for (int i = 0; i < x.nreasons; i++)
        json_object_set_new(x.rejected, x.reasons[i].reason, json_integer(x.reasons[i].n));
    manifest = build_manifest(&x, t, version, members, params, files);
    if (!manifest) {
        fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
        goto done;
    }
    if (t->dataset && t->version <= 0) {
        mtext = json_dumps(manifest, JSON_COMPACT | JSON_PRESERVE_ORDER);
        char mem[32];
        snprintf(mem, sizeof mem, "%lld", members);
        const char *p[4] = {t->dataset, verstr, mtext, mem};
        PGresult *r =
            PQexecParams(conn,
                         "UPDATE flywheel.dataset_versions SET manifest = $3::jsonb, "
                         "members = $4::bigint WHERE dataset = $1 AND version = $2::integer",
                         4, NULL, p, NULL, NULL, 0);
        int ok = pg_ok(conn, r, PGRES_COMMAND_OK, "record the manifest", err);
        PQclear(r);
        if (!ok)
            goto done;
    }
    /* The version commits before any file is published: a manifest never
     * names a version the database did not record. */
    if (exec_cmd(conn, "COMMIT", "commit the export", err)) {
        in_txn = 0; /* a COMMIT that failed ended the transaction too */
        if (t->dataset && t->version <= 0 && PQstatus(conn) != CONNECTION_OK)
            snprintf(err->detail, sizeof err->detail,
                     "The connection was lost while committing version %d of dataset \"%s\": it "
                     "may or may not have been recorded (see `flywheel dataset list`). No output "
                     "was completed.",
                     version, t->dataset);
        else if (!err->detail[0])
            snprintf(err->detail, sizeof err->detail,
                     "Nothing was recorded and no output was completed.");
        goto done;
    }
    in_txn = 0;
    committed = t->dataset && t->version <= 0;
    res->version = t->dataset ? version : 0;
    res->members = members;
    for (int i = 0; i < FW_XSPLIT_COUNT; i++)
        res->lines[i] = x.lines[i];
    res->rejected = (long long)json_integer_value(json_object_get(manifest, "rejected_total"));
    if (t->manifest && write_manifest(t->writer, manifest, err))
        goto done;
    if (t->writer->finish) {
        finished = 1;
        if (t->writer->finish(t->writer->ctx, 1, err))
            goto done;
    }
    rc = 0;
    if (recorded && !same_files(recorded, files, err))
        rc = -1;
done:
    if (rc != 0 && err->code == FW_STORE_OK)
        fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
    if (in_txn)
        PQclear(PQexec(conn, "ROLLBACK"));
    abort_outputs(&x);
    if (t->writer && t->writer->finish && !finished) {
        fw_store_error ignored;
        t->writer->finish(t->writer->ctx, 0, &ignored);
    }
    if (rc != 0 && committed && err->code != FW_STORE_MISMATCH) {
        /* The version is recorded; only its files are missing. */
        snprintf(err->hint, sizeof err->hint,
                 "Version %d of dataset \"%s\" was recorded; write its files again with "
                 "`flywheel export --dataset %s --version %d -o DIR`.",
                 version, t->dataset, t->dataset, version);
    }
    fwr_free(x.redactor);
    fw_xfast_free(&x.fast);
    fw_xdedupe_free(&x.seen);
    fw_buf_free(&x.line);
    fw_buf_free(&comparable);
    fw_xsql_free(&sel);
    json_decref(x.rejected);
    json_decref(params);
    json_decref(recorded);
    json_decref(rubric);
    json_decref(files);
    json_decref(manifest);
    PQfreemem(qdataset);
    PQfreemem(qversion);
    free(sql);
    free(mtext);
    return rc;
}

/* ---- rows without a database ----------------------------------------------- */

struct fw_xrows {
    run_ctx x;
    fw_xrun_target t;
    char last_id[40];
};

fw_xrows *fw_xrows_open(const fw_xopts *o, const char *correction_field, const fw_store_writer *w,
                        int fast, fw_store_error *err)
{
    fw_xrows *r = calloc(1, sizeof *r);
    fw_store_error_clear(err);
    if (!r) {
        fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
        return NULL;
    }
    r->x.o = o;
    r->x.err = err;
    r->x.fo.fmt = o->fmt;
    r->x.fo.weights = o->weights;
    r->x.fo.negative_label = o->negative_label;
    r->x.fo.sentence_rules = o->sentence_rules;
    r->x.fo.unmarked_negative = o->unmarked_negative;
    r->x.fo.score_field = o->score_field;
    r->x.fo.correction_field = correction_field;
    r->t.writer = w;
    r->t.one_stream = 1;
    if (((o->redact_detectors || o->nredact_rules) && make_redactor(o, &r->x.redactor, err)) ||
        open_outputs(&r->x, &r->t, err)) {
        fwr_free(r->x.redactor);
        free(r);
        return NULL;
    }
    r->x.fast_on = fast && o->fmt == FW_XFMT_OPENAI_CHAT && !r->x.redactor && o->max_tokens <= 0;
    return r;
}

int fw_xrows_add(fw_xrows *r, char *row, size_t len)
{
    return copy_row(&r->x, row, len, r->last_id);
}

int fw_xrows_close(fw_xrows *r, fw_xrows_result *res)
{
    char hex[65];
    uint64_t bytes = 0, lines = 0;
    int rc = 0;
    if (!r)
        return 0;
    memset(res, 0, sizeof *res);
    fw_xsink *s = r->x.sink[0];
    memset(r->x.sink, 0, sizeof r->x.sink);
    if (fw_xsink_close(s, hex, &bytes, &lines, r->x.err) == 0) {
        memcpy(res->sha256, hex, sizeof hex);
        res->bytes = bytes;
        res->lines = (long long)lines;
        res->fast_lines = r->x.fast_lines;
        for (int i = 0; i < r->x.nreasons; i++) {
            res->rejected += r->x.reasons[i].n;
            if (strcmp(r->x.reasons[i].reason, "duplicate") == 0)
                res->duplicates = r->x.reasons[i].n;
        }
    } else {
        rc = -1;
    }
    fwr_free(r->x.redactor);
    fw_xfast_free(&r->x.fast);
    fw_xdedupe_free(&r->x.seen);
    fw_buf_free(&r->x.line);
    json_decref(r->x.rejected);
    free(r);
    return rc;
}
