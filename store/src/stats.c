/*
 * The statistics document (flywheel/store.h, fw_store_stats): the
 * flywheel's numbers for a time window, the document `flywheel stats
 * --json` prints and its text summary is rendered from.
 *
 * Every number comes from the dashboard views (flywheel.generation_facts,
 * feedback_events, dead_letter_facts, ingest_progress, review_progress,
 * review_label_facts, label_coverage_facts), so the command, the web pages
 * and the Grafana dashboards agree, and it works for a login role that is
 * only a member of flywheel_reader. Each query filters on event_time with
 * the window as parameters of an unnamed statement, which PostgreSQL plans
 * with the values known: daily partitions outside the window are pruned at
 * plan time. The definitions of the review numbers are docs/dashboards.md's.
 *
 * Shape: the queries fill one JSON document (column "a.b" of a one-row
 * result becomes doc.a.b; a many-row result becomes an array under its
 * key), all in one REPEATABLE READ READ ONLY transaction, so every number
 * sees the same data and the same now().
 */
#include "store_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW_SQL                                                                                 \
    "event_time >= $1::timestamptz AND event_time < $2::timestamptz "                              \
    "AND ($3::text IS NULL OR project = $3)"

static const char Q_SUMMARY[] =
    "SELECT count(*) AS \"traffic.generations\","
    " count(*) FILTER (WHERE is_error) AS \"traffic.errors\","
    " coalesce(avg(is_error::int), 0)::float8 AS \"traffic.error_rate\","
    " count(DISTINCT user_id) AS \"traffic.users\","
    " count(DISTINCT conversation_id) AS \"traffic.conversations\","
    " count(DISTINCT model) AS \"traffic.models\","
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS \"latency.p50_ms\","
    " percentile_cont(0.9) WITHIN GROUP (ORDER BY duration_ms) AS \"latency.p90_ms\","
    " percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS \"latency.p95_ms\","
    " percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS \"latency.p99_ms\","
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY ttft_ms) AS \"latency.ttft_p50_ms\","
    " percentile_cont(0.95) WITHIN GROUP (ORDER BY ttft_ms) AS \"latency.ttft_p95_ms\","
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY output_tokens_per_s)"
    "   AS \"latency.output_tokens_per_s_p50\","
    " coalesce(sum(input_tokens), 0) AS \"usage.input_tokens\","
    " coalesce(sum(output_tokens), 0) AS \"usage.output_tokens\","
    " coalesce(sum(cached_input_tokens), 0) AS \"usage.cached_input_tokens\","
    " coalesce(sum(reasoning_tokens), 0) AS \"usage.reasoning_tokens\","
    " coalesce(sum(cost_usd), 0)::float8 AS \"usage.cost_usd\","
    " coalesce(avg(has_feedback::int), 0)::float8 AS \"feedback.feedback_rate\","
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY ingest_lag_ms) AS \"ingest.lag_p50_ms\","
    " percentile_cont(0.99) WITHIN GROUP (ORDER BY ingest_lag_ms) AS \"ingest.lag_p99_ms\","
    " max(ingest_lag_ms) AS \"ingest.lag_max_ms\" "
    "FROM flywheel.generation_facts WHERE " WINDOW_SQL;

static const char Q_BY_MODEL[] =
    "SELECT model, count(*) AS generations,"
    " avg(is_error::int)::float8 AS error_rate,"
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50_ms,"
    " percentile_cont(0.9) WITHIN GROUP (ORDER BY duration_ms) AS p90_ms,"
    " percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95_ms,"
    " percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99_ms,"
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY ttft_ms) AS ttft_p50_ms,"
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY output_tokens_per_s)"
    "   AS output_tokens_per_s_p50,"
    " coalesce(sum(input_tokens), 0) AS input_tokens,"
    " coalesce(sum(output_tokens), 0) AS output_tokens,"
    " coalesce(sum(cost_usd), 0)::float8 AS cost_usd "
    "FROM flywheel.generation_facts WHERE " WINDOW_SQL
    " GROUP BY model ORDER BY generations DESC, model LIMIT 20";

static const char Q_ERRORS[] =
    "SELECT error_type, count(*) AS errors FROM flywheel.generation_facts"
    " WHERE is_error AND " WINDOW_SQL
    " GROUP BY error_type ORDER BY errors DESC, error_type LIMIT 10";

static const char Q_USERS[] =
    "SELECT user_id, count(*) AS generations, coalesce(sum(cost_usd), 0)::float8 AS cost_usd"
    " FROM flywheel.generation_facts WHERE user_id IS NOT NULL AND " WINDOW_SQL
    " GROUP BY user_id ORDER BY cost_usd DESC, user_id LIMIT 5";

static const char Q_FEEDBACK[] =
    "SELECT count(*) AS \"feedback.events\","
    " count(*) FILTER (WHERE value_type = 'bool') AS \"feedback.thumbs\","
    " avg(thumbs_up)::float8 AS \"feedback.thumbs_up_ratio\","
    " count(*) FILTER (WHERE value_type = 'number') AS \"feedback.scores\","
    " avg(number_value) AS \"feedback.mean_score\","
    " count(*) FILTER (WHERE has_correction) AS \"feedback.corrections\" "
    "FROM flywheel.feedback_events WHERE " WINDOW_SQL;

/* Dead letters carry no project: the project filter does not apply. */
static const char Q_DEAD[] =
    "SELECT count(*) AS \"dead_letters.in_window\","
    " (SELECT count(*) FROM flywheel.dead_letter_facts WHERE NOT replayed)"
    "   AS \"dead_letters.not_replayed_total\" "
    "FROM flywheel.dead_letter_facts"
    " WHERE received_at >= $1::timestamptz AND received_at < $2::timestamptz";

static const char Q_DEAD_REASONS[] =
    "SELECT reason, count(*) AS dead_letters FROM flywheel.dead_letter_facts"
    " WHERE received_at >= $1::timestamptz AND received_at < $2::timestamptz"
    " GROUP BY reason ORDER BY dead_letters DESC, reason";

static const char Q_PARTITIONS[] =
    "SELECT consumer_group, topic, partition, next_offset, seconds_since_update"
    " FROM flywheel.ingest_progress ORDER BY consumer_group, topic, partition";

static const char Q_QUEUES[] =
    "SELECT queue, paused, pending, in_review, labelled, disputed, adjudicated, skipped,"
    " extract(epoch FROM oldest_open_age)::float8 AS oldest_open_age_s"
    " FROM flywheel.review_progress ORDER BY queue";

/*
 * Review activity in the window (docs/dashboards.md defines each number):
 * labels are the reviewers' labels, adjudications not among them (an
 * adjudication settles a dispute, it is not another vote); reviewers are the
 * people who wrote those labels, so an adjudicator who labelled nothing is
 * not one; adjudications and adjudicators are counted on their own.
 */
static const char Q_REVIEW[] =
    "WITH l AS (SELECT reviewer, is_adjudication FROM flywheel.review_label_facts"
    "           WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz)"
    " SELECT (SELECT count(*) FROM l WHERE NOT is_adjudication) AS \"review.labels\","
    " (SELECT count(DISTINCT reviewer) FROM l WHERE NOT is_adjudication) AS \"review.reviewers\","
    " (SELECT count(*) FROM l WHERE is_adjudication) AS \"review.adjudications\","
    " (SELECT count(DISTINCT reviewer) FROM l WHERE is_adjudication)"
    "   AS \"review.adjudicators\","
    " count(*) AS \"review.items_finished\","
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY time_to_label_s)"
    "   AS \"review.time_to_label_p50_s\","
    " percentile_cont(0.9) WITHIN GROUP (ORDER BY time_to_label_s)"
    "   AS \"review.time_to_label_p90_s\" "
    "FROM flywheel.review_item_facts"
    " WHERE finished AND completed_at >= $1::timestamptz AND completed_at < $2::timestamptz";

/* Label coverage: the share of the window's generations that are labelled
 * (label_coverage_facts.labelled: a non-gold review item of theirs got the
 * labels its queue asks for — labelled, disputed or adjudicated). */
static const char Q_COVERAGE[] =
    "SELECT coalesce(avg(labelled::int), 0)::float8 AS \"review.label_coverage\""
    " FROM flywheel.label_coverage_facts WHERE " WINDOW_SQL;

typedef struct {
    PGconn *conn;
    const char *params[3]; /* from, to, project (NULL = all) */
    fw_store_error *err;
} stats_ctx;

/* Sets doc[a][b]... from a dotted key, creating the intermediate objects.
 * Steals `value`. Returns 0, or -1 (value released) when a path component
 * is not an object or memory runs out. */
static int set_path(json_t *doc, const char *key, json_t *value)
{
    char part[128];
    json_t *cur = doc;
    const char *dot;
    while ((dot = strchr(key, '.')) != NULL) {
        size_t n = (size_t)(dot - key);
        if (n >= sizeof part)
            goto fail;
        memcpy(part, key, n);
        part[n] = '\0';
        json_t *next = json_object_get(cur, part);
        if (!next) {
            next = json_object();
            if (!next || json_object_set_new(cur, part, next) != 0)
                goto fail;
        }
        if (!json_is_object(next))
            goto fail;
        cur = next;
        key = dot + 1;
    }
    return json_object_set_new(cur, key, value);
fail:
    json_decref(value);
    return -1;
}

/*
 * Runs `sql` with the first `nparams` window parameters (from, to, project).
 * With `array_key` NULL the result must have one row, whose columns are set
 * into doc by their dotted names; else every row becomes an object in an
 * array set at `array_key`. Returns 0, or -1 with ctx->err filled (doc may
 * then be partly filled).
 */
static int run_into(stats_ctx *ctx, json_t *doc, const char *sql, int nparams,
                    const char *array_key)
{
    int rc = -1;
    PGresult *res = PQexecParams(ctx->conn, sql, nparams, NULL, ctx->params, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        fw_store_error_pg(ctx->err, "read statistics", res, ctx->conn);
        goto out;
    }
    int rows = PQntuples(res), cols = PQnfields(res);
    if (!array_key) {
        if (rows != 1) {
            fw_store_fail(ctx->err, FW_STORE_DATABASE,
                          "could not read statistics: expected one row, got %d", rows);
            goto out;
        }
        for (int c = 0; c < cols; c++)
            if (set_path(doc, PQfname(res, c), fw_store_cell_json(res, 0, c)) != 0)
                goto oom;
    } else {
        json_t *arr = json_array();
        if (!arr || set_path(doc, array_key, arr) != 0)
            goto oom;
        for (int r = 0; r < rows; r++) {
            json_t *o = json_object();
            if (!o || json_array_append_new(arr, o) != 0)
                goto oom;
            for (int c = 0; c < cols; c++)
                if (json_object_set_new(o, PQfname(res, c), fw_store_cell_json(res, r, c)) != 0)
                    goto oom;
        }
    }
    rc = 0;
    goto out;
oom:
    fw_store_fail(ctx->err, FW_STORE_NOMEM, "could not read statistics: out of memory");
out:
    PQclear(res);
    return rc;
}

/*
 * Resolves the window to two UTC timestamps in ISO 8601 (written into
 * from/to), validating the caller's text through PostgreSQL's own parser.
 * Returns 0, or -1 with ctx->err filled (FW_STORE_INVALID for a window
 * that is not one).
 */
static int resolve_window(stats_ctx *ctx, const fw_store_stats_window *w, char *from, char *to,
                          size_t size)
{
    char secs[32];
    const char *p[2] = {NULL, NULL};
    const char *sql;
    if (w->since_s > 0) {
        snprintf(secs, sizeof secs, "%lld seconds", w->since_s);
        p[0] = secs;
        sql = "SELECT to_char((now() - $1::interval) AT TIME ZONE 'UTC', "
              "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
              "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
    } else {
        p[0] = w->from;
        p[1] = w->to;
        sql = "SELECT to_char($1::timestamptz AT TIME ZONE 'UTC', "
              "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
              "to_char(coalesce($2::timestamptz, now()) AT TIME ZONE 'UTC', "
              "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
              "$1::timestamptz < coalesce($2::timestamptz, now())";
    }
    int rc = -1;
    PGresult *res = PQexecParams(ctx->conn, sql, w->since_s > 0 ? 1 : 2, NULL, p, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        fw_store_error_pg(ctx->err, NULL, res, ctx->conn);
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        /* Class 22 is the text the caller gave; anything else is the database's. */
        if (state && strncmp(state, "22", 2) == 0)
            ctx->err->code = FW_STORE_INVALID;
        char msg[sizeof ctx->err->message];
        snprintf(msg, sizeof msg, "%s", ctx->err->message);
        snprintf(ctx->err->message, sizeof ctx->err->message, "invalid time window: %.900s", msg);
        goto out;
    }
    if (w->since_s <= 0 && strcmp(PQgetvalue(res, 0, 2), "t") != 0) {
        fw_store_fail(ctx->err, FW_STORE_INVALID,
                      "invalid time window: --from \"%s\" is not before --to\n"
                      "hint: Give --from earlier than --to (default now).",
                      w->from);
        goto out;
    }
    snprintf(from, size, "%s", PQgetvalue(res, 0, 0));
    snprintf(to, size, "%s", PQgetvalue(res, 0, 1));
    rc = 0;
out:
    PQclear(res);
    return rc;
}

int fw_store_stats_parse_since(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno || end == s || n <= 0)
        return -1;
    long long mult;
    switch (*end) {
    case 's':
        mult = 1;
        break;
    case 'm':
        mult = 60;
        break;
    case '\0':
    case 'h':
        mult = 3600;
        break;
    case 'd':
        mult = 86400;
        break;
    case 'w':
        mult = 7 * 86400;
        break;
    default:
        return -1;
    }
    if (*end && end[1] != '\0')
        return -1;
    if (n > 3650LL * 86400 / mult)
        return -1;
    *out = n * mult;
    return 0;
}

/* Whether the review views exist (the review migration is applied): 0 or
 * 1 in *queues and *review, or -1 with err filled. */
static int have_review(stats_ctx *ctx, int *queues, int *review)
{
    PGresult *has = PQexec(ctx->conn, "SELECT to_regclass('flywheel.review_progress') IS NOT NULL,"
                                      " to_regclass('flywheel.review_item_facts') IS NOT NULL");
    if (!has || PQresultStatus(has) != PGRES_TUPLES_OK || PQntuples(has) != 1) {
        fw_store_error_pg(ctx->err, "read statistics", has, ctx->conn);
        PQclear(has);
        return -1;
    }
    *queues = PQgetvalue(has, 0, 0)[0] == 't';
    *review = PQgetvalue(has, 0, 1)[0] == 't';
    PQclear(has);
    return 0;
}

json_t *fw_store_stats(PGconn *conn, const fw_store_stats_window *w, fw_store_error *err)
{
    stats_ctx ctx = {.conn = conn, .err = err};
    json_t *doc = NULL;
    char from[64], to[64];
    int ok = 0;
    fw_store_error_clear(err);
    if (w->since_s <= 0 && !w->from) {
        fw_store_fail(err, FW_STORE_INVALID, "invalid time window: no start given");
        return NULL;
    }
    /* One snapshot: every query sees the same data and the same now(). */
    if (fw_store_begin_snapshot(conn, err) != 0)
        return NULL;
    if (resolve_window(&ctx, w, from, to, sizeof from) != 0)
        goto out;
    ctx.params[0] = from;
    ctx.params[1] = to;
    ctx.params[2] = w->project;

    doc = json_object();
    json_t *win = json_pack("{s:s, s:s, s:s?}", "from", from, "to", to, "project", w->project);
    if (!doc || !win || json_object_set_new(doc, "window", win) != 0) {
        fw_store_fail(err, FW_STORE_NOMEM, "could not read statistics: out of memory");
        goto out;
    }
    if (run_into(&ctx, doc, Q_SUMMARY, 3, NULL) || run_into(&ctx, doc, Q_FEEDBACK, 3, NULL) ||
        run_into(&ctx, doc, Q_DEAD, 2, NULL) ||
        run_into(&ctx, doc, Q_DEAD_REASONS, 2, "dead_letters.by_reason") ||
        run_into(&ctx, doc, Q_PARTITIONS, 0, "ingest.partitions") ||
        run_into(&ctx, doc, Q_BY_MODEL, 3, "by_model") ||
        run_into(&ctx, doc, Q_ERRORS, 3, "errors_by_type") ||
        run_into(&ctx, doc, Q_USERS, 3, "top_users"))
        goto out;

    int have_queues = 0, have_labels = 0;
    if (have_review(&ctx, &have_queues, &have_labels) != 0)
        goto out;
    if (have_queues) {
        if (run_into(&ctx, doc, Q_QUEUES, 0, "queues"))
            goto out;
    } else if (json_object_set_new(doc, "queues", json_null()) != 0) {
        fw_store_fail(err, FW_STORE_NOMEM, "could not read statistics: out of memory");
        goto out;
    }
    if (have_labels &&
        (run_into(&ctx, doc, Q_REVIEW, 2, NULL) || run_into(&ctx, doc, Q_COVERAGE, 3, NULL)))
        goto out;
    ok = 1;
out:
    /* Read only: ending it cannot lose anything; ROLLBACK also ends a failed one. */
    PQclear(PQexec(conn, "ROLLBACK"));
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
