/*
 * `flywheel stats`: the flywheel's numbers for a time window, in a terminal
 * or as JSON for scripts.
 *
 * Every number comes from the dashboard views (flywheel.generation_facts,
 * feedback_events, dead_letter_facts, ingest_progress, review_progress), so
 * the command and the Grafana dashboards agree, and it works for a login
 * role that is only a member of flywheel_reader. Each query filters on
 * event_time with the window as parameters of an unnamed statement, which
 * PostgreSQL plans with the values known: daily partitions outside the
 * window are pruned at plan time.
 *
 * Shape: the queries fill one JSON document (column "a.b" of a one-row
 * result becomes doc.a.b; a many-row result becomes an array under its
 * key); `--json` prints that document, and the text summary is rendered
 * from the same document, so the two never disagree.
 */
#include "cli.h"
#include "opts.h"
#include "pgutil.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Type OIDs of the columns the stats queries return (pg_type.dat). */
#define OID_BOOL    16
#define OID_INT8    20
#define OID_INT2    21
#define OID_INT4    23
#define OID_FLOAT4  700
#define OID_FLOAT8  701
#define OID_NUMERIC 1700

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

/* Review activity in the window (needs V0032's views). */
static const char Q_REVIEW[] =
    "SELECT (SELECT count(*) FROM flywheel.review_label_facts"
    "        WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz"
    "          AND NOT is_adjudication) AS \"review.labels\","
    " (SELECT count(DISTINCT reviewer) FROM flywheel.review_label_facts"
    "        WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz)"
    "   AS \"review.reviewers\","
    " count(*) AS \"review.items_finished\","
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY time_to_label_s)"
    "   AS \"review.time_to_label_p50_s\","
    " percentile_cont(0.9) WITHIN GROUP (ORDER BY time_to_label_s)"
    "   AS \"review.time_to_label_p90_s\" "
    "FROM flywheel.review_item_facts"
    " WHERE finished AND completed_at >= $1::timestamptz AND completed_at < $2::timestamptz";

static const char Q_COVERAGE[] =
    "SELECT coalesce(avg(labelled::int), 0)::float8 AS \"review.label_coverage\""
    " FROM flywheel.label_coverage_facts WHERE " WINDOW_SQL;

typedef struct {
    PGconn *conn;
    const char *params[3]; /* from, to, project (NULL = all) */
    char errstr[1024];
} stats_ctx;

/* Converts one result cell to JSON by its column type. NaN and infinities
 * (possible in float8) become null: JSON has no spelling for them. */
static json_t *cell_json(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return json_null();
    const char *v = PQgetvalue(res, row, col);
    Oid t = PQftype(res, col);
    if (t == OID_BOOL)
        return json_boolean(v[0] == 't');
    if (t == OID_INT2 || t == OID_INT4 || t == OID_INT8 ||
        (t == OID_NUMERIC && strpbrk(v, ".eEN") == NULL)) {
        errno = 0;
        char *end;
        long long n = strtoll(v, &end, 10);
        if (errno == 0 && *end == '\0')
            return json_integer(n);
        /* a numeric beyond 64 bits: fall through to a real */
    }
    if (t == OID_INT8 || t == OID_NUMERIC || t == OID_FLOAT4 || t == OID_FLOAT8) {
        double d = strtod(v, NULL);
        return isfinite(d) ? json_real(d) : json_null();
    }
    return json_string(v);
}

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
 * With `array_key` NULL the result
 * must have one row, whose columns are set into doc by their dotted names;
 * else every row becomes an object in an array set at `array_key`. Returns
 * 0, or -1 with ctx->errstr set (doc may then be partly filled).
 */
static int run_into(stats_ctx *ctx, json_t *doc, const char *sql, int nparams,
                    const char *array_key)
{
    int rc = -1;
    PGresult *res = PQexecParams(ctx->conn, sql, nparams, NULL, ctx->params, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[900];
        snprintf(ctx->errstr, sizeof ctx->errstr, "could not read statistics: %s",
                 fw_pg_errstr(msg, sizeof msg, res, ctx->conn));
        goto out;
    }
    int rows = PQntuples(res), cols = PQnfields(res);
    snprintf(ctx->errstr, sizeof ctx->errstr, "could not read statistics: out of memory");
    if (!array_key) {
        if (rows != 1) {
            snprintf(ctx->errstr, sizeof ctx->errstr,
                     "could not read statistics: expected one row, got %d", rows);
            goto out;
        }
        for (int c = 0; c < cols; c++)
            if (set_path(doc, PQfname(res, c), cell_json(res, 0, c)) != 0)
                goto out;
    } else {
        json_t *arr = json_array();
        if (!arr || set_path(doc, array_key, arr) != 0)
            goto out;
        for (int r = 0; r < rows; r++) {
            json_t *o = json_object();
            if (!o || json_array_append_new(arr, o) != 0)
                goto out;
            for (int c = 0; c < cols; c++)
                if (json_object_set_new(o, PQfname(res, c), cell_json(res, r, c)) != 0)
                    goto out;
        }
    }
    ctx->errstr[0] = '\0';
    rc = 0;
out:
    PQclear(res);
    return rc;
}

/*
 * Resolves the window to two UTC timestamps in ISO 8601 (written into
 * from/to), validating the user's input through PostgreSQL's own parser.
 * `since_s` > 0 means the last since_s seconds. Returns 0 or -1 with errstr.
 */
static int resolve_window(stats_ctx *ctx, long long since_s, const char *from_in, const char *to_in,
                          char *from, char *to, size_t size)
{
    char secs[32];
    const char *p[3] = {NULL, NULL, NULL};
    const char *sql;
    if (since_s > 0) {
        snprintf(secs, sizeof secs, "%lld seconds", since_s);
        p[0] = secs;
        sql = "SELECT to_char((now() - $1::interval) AT TIME ZONE 'UTC', "
              "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
              "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
    } else {
        p[0] = from_in;
        p[1] = to_in;
        sql = "SELECT to_char($1::timestamptz AT TIME ZONE 'UTC', "
              "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
              "to_char(coalesce($2::timestamptz, now()) AT TIME ZONE 'UTC', "
              "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
              "$1::timestamptz < coalesce($2::timestamptz, now())";
    }
    int rc = -1;
    PGresult *res = PQexecParams(ctx->conn, sql, since_s > 0 ? 1 : 2, NULL, p, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[900];
        snprintf(ctx->errstr, sizeof ctx->errstr, "invalid time window: %s",
                 fw_pg_errstr(msg, sizeof msg, res, ctx->conn));
        goto out;
    }
    if (since_s <= 0 && strcmp(PQgetvalue(res, 0, 2), "t") != 0) {
        snprintf(ctx->errstr, sizeof ctx->errstr,
                 "invalid time window: --from \"%s\" is not before --to\n"
                 "hint: Give --from earlier than --to (default now).",
                 from_in);
        goto out;
    }
    snprintf(from, size, "%s", PQgetvalue(res, 0, 0));
    snprintf(to, size, "%s", PQgetvalue(res, 0, 1));
    rc = 0;
out:
    PQclear(res);
    return rc;
}

/* Parses "90s", "15m", "24h", "7d", "2w" (a bare number is hours) into
 * seconds. Returns 0, or -1 when malformed, zero or above 10 years. */
static int parse_since(const char *s, long long *out)
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

/* ------------------------------------------------------------------------
 * Text rendering, from the JSON document only.
 * ------------------------------------------------------------------------ */

/* doc value at a dotted path, or NULL. */
static json_t *jget(json_t *doc, const char *path)
{
    char part[128];
    const char *dot;
    while (doc && (dot = strchr(path, '.')) != NULL) {
        size_t n = (size_t)(dot - path);
        if (n >= sizeof part)
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        doc = json_object_get(doc, part);
        path = dot + 1;
    }
    return doc ? json_object_get(doc, path) : NULL;
}

static int jhas(json_t *doc, const char *path)
{
    json_t *v = jget(doc, path);
    return v && json_is_number(v);
}

static double jnum(json_t *doc, const char *path)
{
    json_t *v = jget(doc, path);
    return v && json_is_number(v) ? json_number_value(v) : 0.0;
}

/* Formats a duration in milliseconds: "850 ms", "1.23 s", "4.1 min"; "-"
 * when absent. */
static const char *fmt_ms(char *buf, size_t size, json_t *v)
{
    if (!v || !json_is_number(v)) {
        snprintf(buf, size, "-");
        return buf;
    }
    double ms = json_number_value(v);
    if (ms < 1000)
        snprintf(buf, size, "%.0f ms", ms);
    else if (ms < 60000)
        snprintf(buf, size, "%.2f s", ms / 1000);
    else
        snprintf(buf, size, "%.1f min", ms / 60000);
    return buf;
}

/* Formats a count compactly: 950, 12.3k, 4.56M. */
static const char *fmt_count(char *buf, size_t size, double n)
{
    if (n < 10000)
        snprintf(buf, size, "%.0f", n);
    else if (n < 1e6)
        snprintf(buf, size, "%.1fk", n / 1e3);
    else if (n < 1e9)
        snprintf(buf, size, "%.2fM", n / 1e6);
    else
        snprintf(buf, size, "%.2fG", n / 1e9);
    return buf;
}

static const char *fmt_pct(char *buf, size_t size, json_t *v)
{
    if (!v || !json_is_number(v))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.1f%%", json_number_value(v) * 100);
    return buf;
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "(none)";
}

static void render_text(json_t *doc, FILE *f)
{
    char a[32], b[32], c[32], d[32], e[32];
    json_t *w = json_object_get(doc, "window");
    const char *project = json_string_value(json_object_get(w, "project"));
    fprintf(f, "flywheel stats  %s .. %s  %s%s\n\n", json_string_value(json_object_get(w, "from")),
            json_string_value(json_object_get(w, "to")), project ? "project " : "all projects",
            project ? project : "");

    fprintf(f,
            "traffic       %s generations, %s errors (%s), %s users, %s conversations, "
            "%.0f models\n",
            fmt_count(a, sizeof a, jnum(doc, "traffic.generations")),
            fmt_count(b, sizeof b, jnum(doc, "traffic.errors")),
            fmt_pct(c, sizeof c, jget(doc, "traffic.error_rate")),
            fmt_count(d, sizeof d, jnum(doc, "traffic.users")),
            fmt_count(e, sizeof e, jnum(doc, "traffic.conversations")),
            jnum(doc, "traffic.models"));
    fprintf(f, "latency       p50 %s", fmt_ms(a, sizeof a, jget(doc, "latency.p50_ms")));
    fprintf(f, "  p90 %s", fmt_ms(a, sizeof a, jget(doc, "latency.p90_ms")));
    fprintf(f, "  p95 %s", fmt_ms(a, sizeof a, jget(doc, "latency.p95_ms")));
    fprintf(f, "  p99 %s\n", fmt_ms(a, sizeof a, jget(doc, "latency.p99_ms")));
    fprintf(f, "              time to first token p50 %s",
            fmt_ms(a, sizeof a, jget(doc, "latency.ttft_p50_ms")));
    fprintf(f, "  p95 %s", fmt_ms(a, sizeof a, jget(doc, "latency.ttft_p95_ms")));
    if (jhas(doc, "latency.output_tokens_per_s_p50"))
        fprintf(f, "; %.0f output tokens/s (median)", jnum(doc, "latency.output_tokens_per_s_p50"));
    fputc('\n', f);
    fprintf(f, "usage         %s input tokens (%s cached), %s output (%s reasoning); cost $%.2f\n",
            fmt_count(a, sizeof a, jnum(doc, "usage.input_tokens")),
            fmt_count(b, sizeof b, jnum(doc, "usage.cached_input_tokens")),
            fmt_count(c, sizeof c, jnum(doc, "usage.output_tokens")),
            fmt_count(d, sizeof d, jnum(doc, "usage.reasoning_tokens")),
            jnum(doc, "usage.cost_usd"));
    fprintf(f, "feedback      %s of generations have feedback; %s events: %s thumbs (%s up), ",
            fmt_pct(a, sizeof a, jget(doc, "feedback.feedback_rate")),
            fmt_count(b, sizeof b, jnum(doc, "feedback.events")),
            fmt_count(c, sizeof c, jnum(doc, "feedback.thumbs")),
            fmt_pct(d, sizeof d, jget(doc, "feedback.thumbs_up_ratio")));
    if (jhas(doc, "feedback.mean_score"))
        fprintf(f, "%s scores (mean %.2f), ", fmt_count(a, sizeof a, jnum(doc, "feedback.scores")),
                jnum(doc, "feedback.mean_score"));
    fprintf(f, "%s corrections\n", fmt_count(a, sizeof a, jnum(doc, "feedback.corrections")));

    fprintf(f, "dead letters  %s in window",
            fmt_count(a, sizeof a, jnum(doc, "dead_letters.in_window")));
    json_t *reasons = jget(doc, "dead_letters.by_reason");
    size_t i;
    json_t *row;
    if (json_array_size(reasons) > 0) {
        fputs(" (", f);
        json_array_foreach(reasons, i, row)
        {
            fprintf(f, "%s%s %lld", i ? ", " : "", jstr(row, "reason"),
                    (long long)json_integer_value(json_object_get(row, "dead_letters")));
        }
        fputc(')', f);
    }
    fprintf(f, "; %s not replayed in total\n",
            fmt_count(a, sizeof a, jnum(doc, "dead_letters.not_replayed_total")));

    fprintf(f, "ingest        lag p50 %s", fmt_ms(a, sizeof a, jget(doc, "ingest.lag_p50_ms")));
    fprintf(f, "  p99 %s", fmt_ms(a, sizeof a, jget(doc, "ingest.lag_p99_ms")));
    fprintf(f, "  max %s", fmt_ms(a, sizeof a, jget(doc, "ingest.lag_max_ms")));
    json_t *parts = jget(doc, "ingest.partitions");
    double stale = 0;
    json_array_foreach(parts, i, row)
    {
        double s = json_number_value(json_object_get(row, "seconds_since_update"));
        if (s > stale)
            stale = s;
    }
    if (json_array_size(parts) > 0)
        fprintf(f, "; %zu partitions, slowest last moved %.0f s ago\n", json_array_size(parts),
                stale);
    else
        fputs("; no collector has stored offsets yet\n", f);

    if (json_is_object(json_object_get(doc, "review"))) {
        json_t *p50 = jget(doc, "review.time_to_label_p50_s");
        json_t *p50_ms = json_is_number(p50) ? json_real(json_number_value(p50) * 1000) : NULL;
        fprintf(f,
                "review        %s labels by %.0f reviewers, %s items finished "
                "(time to label p50 %s); %s of generations labelled\n",
                fmt_count(a, sizeof a, jnum(doc, "review.labels")), jnum(doc, "review.reviewers"),
                fmt_count(b, sizeof b, jnum(doc, "review.items_finished")),
                fmt_ms(c, sizeof c, p50_ms),
                fmt_pct(d, sizeof d, jget(doc, "review.label_coverage")));
        json_decref(p50_ms);
    }
    json_t *models = json_object_get(doc, "by_model");
    if (json_array_size(models) > 0) {
        fprintf(f, "\nby model\n  %-28s %8s %6s %9s %9s %9s %9s %6s %10s\n", "MODEL", "GENS", "ERR",
                "P50", "P95", "P99", "TTFT P50", "TOK/S", "COST");
        json_array_foreach(models, i, row)
        {
            fprintf(f, "  %-28.28s %8s %6s", jstr(row, "model"),
                    fmt_count(a, sizeof a, jnum(row, "generations")),
                    fmt_pct(b, sizeof b, json_object_get(row, "error_rate")));
            fprintf(f, " %9s", fmt_ms(a, sizeof a, json_object_get(row, "p50_ms")));
            fprintf(f, " %9s", fmt_ms(a, sizeof a, json_object_get(row, "p95_ms")));
            fprintf(f, " %9s", fmt_ms(a, sizeof a, json_object_get(row, "p99_ms")));
            fprintf(f, " %9s", fmt_ms(a, sizeof a, json_object_get(row, "ttft_p50_ms")));
            snprintf(b, sizeof b, "$%.2f", jnum(row, "cost_usd"));
            fprintf(f, " %6.0f %10s\n", jnum(row, "output_tokens_per_s_p50"), b);
        }
    }
    json_t *errs = json_object_get(doc, "errors_by_type");
    if (json_array_size(errs) > 0) {
        fputs("\nerrors by type\n", f);
        json_array_foreach(errs, i, row)
        {
            fprintf(f, "  %-28.28s %8s\n", jstr(row, "error_type"),
                    fmt_count(a, sizeof a, jnum(row, "errors")));
        }
    }
    json_t *users = json_object_get(doc, "top_users");
    if (json_array_size(users) > 0) {
        fputs("\ntop users by cost\n", f);
        json_array_foreach(users, i, row)
        {
            fprintf(f, "  %-28.28s %8s gens  $%.2f\n", jstr(row, "user_id"),
                    fmt_count(a, sizeof a, jnum(row, "generations")), jnum(row, "cost_usd"));
        }
    }
    json_t *queues = json_object_get(doc, "queues");
    if (json_is_array(queues)) {
        fputs("\nreview queues\n", f);
        if (json_array_size(queues) == 0)
            fputs("  (none)\n", f);
        else
            fprintf(f, "  %-24s %8s %9s %8s %8s %11s %12s\n", "QUEUE", "PENDING", "IN REVIEW",
                    "LABELLED", "DISPUTED", "ADJUDICATED", "OLDEST OPEN");
        json_array_foreach(queues, i, row)
        {
            json_t *age = json_object_get(row, "oldest_open_age_s");
            json_t *age_ms = json_is_number(age) ? json_real(json_number_value(age) * 1000) : NULL;
            fprintf(f, "  %-24.24s %8.0f %9.0f %8.0f %8.0f %11.0f %12s%s\n", jstr(row, "queue"),
                    jnum(row, "pending"), jnum(row, "in_review"), jnum(row, "labelled"),
                    jnum(row, "disputed"), jnum(row, "adjudicated"), fmt_ms(a, sizeof a, age_ms),
                    json_is_true(json_object_get(row, "paused")) ? "  (paused)" : "");
            json_decref(age_ms);
        }
    }
}

static void stats_usage(FILE *f)
{
    fprintf(f, "usage: flywheel stats [--since DURATION | --from TIME [--to TIME]] [options]\n"
               "\n"
               "Traffic, latency percentiles, usage and cost, feedback, review queues, dead\n"
               "letters and ingest lag for a time window, from the dashboard views.\n"
               "\n"
               "options:\n"
               "  --since DURATION     the last DURATION: 90s, 15m, 24h, 7d, 2w (default 24h)\n"
               "  --from TIME          window start, any PostgreSQL timestamptz (2026-01-31,\n"
               "                       '2026-01-31 12:00+01')\n"
               "  --to TIME            window end (default now)\n"
               "  --project P          only project P\n");
}

int fw_cmd_stats(int argc, char **argv)
{
    const char *since = NULL, *from_in = NULL, *to_in = NULL, *project = NULL;
    int rc = 1;
    fw_cli cli = {.cmd = "stats", .accepts = FW_CLI_DSN | FW_CLI_JSON, .usage = stats_usage};
    long long since_s = 24 * 3600;
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"project", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        switch (c) {
        case 's':
            since = optarg;
            break;
        case 'f':
            from_in = optarg;
            break;
        case 't':
            to_in = optarg;
            break;
        case 'p':
            project = optarg;
            break;
        default:
            stats_usage(stderr);
            return 2;
        }
    }
    if (c != -1)
        return fw_cli_status(c);
    if (optind < argc) {
        fprintf(stderr, "flywheel stats: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (since && (from_in || to_in)) {
        fprintf(stderr, "flywheel stats: --since cannot be combined with --from or --to\n");
        return 2;
    }
    if (to_in && !from_in) {
        fprintf(stderr, "flywheel stats: --to needs --from\n");
        return 2;
    }
    if (since && parse_since(since, &since_s) != 0) {
        fprintf(stderr,
                "flywheel stats: invalid duration \"%s\"\n"
                "hint: Use a positive number with a unit: 90s, 15m, 24h, 7d, 2w.\n",
                since);
        return 2;
    }
    if (from_in)
        since_s = 0;

    stats_ctx ctx = {0};
    json_t *doc = NULL;
    char from[64], to[64];
    ctx.conn = fw_cli_connect("stats", cli.dsn);
    if (!ctx.conn)
        return 1;
    /* One snapshot: every query sees the same data and the same now(). */
    PQclear(PQexec(ctx.conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    if (resolve_window(&ctx, since_s, from_in, to_in, from, to, sizeof from) != 0)
        goto out;
    ctx.params[0] = from;
    ctx.params[1] = to;
    ctx.params[2] = project;

    doc = json_object();
    json_t *w = json_pack("{s:s, s:s, s:s?}", "from", from, "to", to, "project", project);
    if (!doc || !w || json_object_set_new(doc, "window", w) != 0) {
        snprintf(ctx.errstr, sizeof ctx.errstr, "out of memory");
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

    /* Review queues exist once the review migration is applied. */
    PGresult *has = PQexec(ctx.conn, "SELECT to_regclass('flywheel.review_progress') IS NOT NULL,"
                                     " to_regclass('flywheel.review_item_facts') IS NOT NULL");
    int ok = has && PQresultStatus(has) == PGRES_TUPLES_OK && PQntuples(has) == 1;
    int have_queues = ok && PQgetvalue(has, 0, 0)[0] == 't';
    int have_review = ok && PQgetvalue(has, 0, 1)[0] == 't';
    PQclear(has);
    if (have_queues) {
        if (run_into(&ctx, doc, Q_QUEUES, 0, "queues"))
            goto out;
    } else if (json_object_set_new(doc, "queues", json_null()) != 0) {
        goto out;
    }
    if (have_review &&
        (run_into(&ctx, doc, Q_REVIEW, 2, NULL) || run_into(&ctx, doc, Q_COVERAGE, 3, NULL)))
        goto out;

    if (cli.json) {
        if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0) {
            snprintf(ctx.errstr, sizeof ctx.errstr, "could not write JSON: %s", strerror(errno));
            goto out;
        }
        fputc('\n', stdout);
    } else {
        render_text(doc, stdout);
    }
    if (fflush(stdout) != 0) {
        snprintf(ctx.errstr, sizeof ctx.errstr, "could not write output: %s", strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        fw_cli_error("stats", ctx.errstr[0] ? ctx.errstr : "out of memory");
    json_decref(doc);
    PQclear(PQexec(ctx.conn, "COMMIT"));
    PQfinish(ctx.conn);
    return rc;
}
