/*
 * Dashboards: the overview of traffic (generations and errors, latency
 * percentiles and time to first token, tokens, cost over time, and a
 * breakdown by model, provider, environment, release or project).
 *
 * Server-rendered: one SQL query over flywheel.generation_facts with the
 * time filter on event_time (so PostgreSQL prunes the daily partitions
 * outside the window), buckets made by generate_series so an empty bucket
 * is a zero (the window starts at the start of the bucket that holds
 * "now minus the window", so the first bucket is whole), charts as inline SVG (svg.c), and under each chart a table of
 * the same numbers and a CSV link. The time window and the filters are in
 * the URL (a GET form), so a view can be shared. Times are UTC, said so.
 *
 * Access is the database's: generation_facts is granted to flywheel_reader
 * and flywheel_admin, so an admin account sees the page, and a reviewer
 * only when its role is granted flywheel_reader; anyone else gets 403. The
 * view holds no message content.
 */
#include "app.h"
#include "svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name, *interval, *bucket, *label_fmt, *title;
} window_def;

static const window_def windows[] = {
    {"1h", "1 hour", "5 minutes", "HH24:MI", "last hour"},
    {"24h", "24 hours", "1 hour", "HH24:MI", "last 24 hours"},
    {"7d", "7 days", "6 hours", "MM-DD HH24h", "last 7 days"},
    {"30d", "30 days", "1 day", "MM-DD", "last 30 days"},
};

static const char *const groupings[] = {"model", "provider_name", "environment", "release",
                                        "project"};
static const char *const grouping_names[] = {"model", "provider", "environment", "release",
                                             "project"};

#define N_FILTERS 4
static const char *const filter_keys[N_FILTERS] = {"model", "environment", "project", "release"};

typedef struct {
    const window_def *w;
    int by; /* index into groupings */
    char filter[N_FILTERS][201];
} dash_query;

/* Reads the URL's window, grouping and filters; unknown or malformed
 * values fall back to the defaults (24h, by model, no filter). */
static void read_query(sv_req *r, dash_query *q)
{
    char v[201];
    q->w = &windows[1];
    q->by = 0;
    const char *s = sv_query(r, "window", v, sizeof v);
    for (size_t i = 0; s && i < sizeof windows / sizeof windows[0]; i++)
        if (strcmp(s, windows[i].name) == 0)
            q->w = &windows[i];
    s = sv_query(r, "by", v, sizeof v);
    for (size_t i = 0; s && i < sizeof grouping_names / sizeof grouping_names[0]; i++)
        if (strcmp(s, grouping_names[i]) == 0)
            q->by = (int)i;
    for (int i = 0; i < N_FILTERS; i++) {
        s = sv_query(r, filter_keys[i], q->filter[i], sizeof q->filter[i]);
        if (!s)
            q->filter[i][0] = '\0';
    }
}

/* The query string of q (for links), with `extra` appended when set. */
static void query_string(sv_buf *b, const dash_query *q, const char *extra)
{
    sv_puts(b, "?window=");
    sv_puts(b, q->w->name);
    sv_puts(b, "&by=");
    sv_puts(b, grouping_names[q->by]);
    for (int i = 0; i < N_FILTERS; i++) {
        if (!q->filter[i][0])
            continue;
        sv_printf(b, "&%s=", filter_keys[i]);
        sv_urlenc(b, q->filter[i]);
    }
    if (extra)
        sv_puts(b, extra);
}

/* The series query: one row per bucket of the window, oldest first. */
static const char series_sql[] =
    "WITH b AS (SELECT generate_series(date_bin($2::interval, now() - $1::interval, "
    "                  timestamptz '2000-01-01 00:00+00'), now(), $2::interval) AS t), "
    "f AS (SELECT date_bin($2::interval, event_time, timestamptz '2000-01-01 00:00+00') AS t, "
    "             is_error, duration_ms, ttft_ms, input_tokens, output_tokens, cost_usd "
    "      FROM flywheel.generation_facts "
    "      WHERE event_time >= date_bin($2::interval, now() - $1::interval, "
    "                                   timestamptz '2000-01-01 00:00+00') "
    "        AND event_time <= now() "
    "        AND ($4 = '' OR model = $4) AND ($5 = '' OR environment = $5) "
    "        AND ($6 = '' OR project = $6) AND ($7 = '' OR release = $7)) "
    "SELECT to_char(b.t AT TIME ZONE 'UTC', $3), "
    "       to_char(b.t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI\"Z\"'), "
    "       count(f.t), count(f.t) FILTER (WHERE f.is_error), "
    "       percentile_cont(0.5) WITHIN GROUP (ORDER BY f.duration_ms), "
    "       percentile_cont(0.95) WITHIN GROUP (ORDER BY f.duration_ms), "
    "       percentile_cont(0.99) WITHIN GROUP (ORDER BY f.duration_ms), "
    "       percentile_cont(0.5) WITHIN GROUP (ORDER BY f.ttft_ms), "
    "       coalesce(sum(f.input_tokens), 0), coalesce(sum(f.output_tokens), 0), "
    "       round(coalesce(sum(f.cost_usd), 0)::numeric, 6) "
    "FROM b LEFT JOIN f ON f.t = b.t GROUP BY b.t ORDER BY b.t";

/* The breakdown: one row per value of the grouping column (%s, from the
 * fixed list), most generations first. */
static const char breakdown_sql[] =
    "SELECT coalesce(%s, '(none)'), count(*), count(*) FILTER (WHERE is_error), "
    "       round((100.0 * count(*) FILTER (WHERE is_error) / count(*))::numeric, 1), "
    "       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)::numeric, 0), "
    "       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)::numeric, 0), "
    "       coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), "
    "       round(coalesce(sum(cost_usd), 0)::numeric, 4) "
    "FROM flywheel.generation_facts "
    "WHERE event_time >= date_bin($6::interval, now() - $1::interval, "
    "                             timestamptz '2000-01-01 00:00+00') AND event_time <= now() "
    "  AND ($2 = '' OR model = $2) AND ($3 = '' OR environment = $3) "
    "  AND ($4 = '' OR project = $4) AND ($5 = '' OR release = $5) "
    "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 50";

static PGresult *run_series(sv_req *r, const dash_query *q)
{
    sv_db *d = sv_req_db(r);
    if (!d)
        return NULL;
    const char *p[7] = {q->w->interval, q->w->bucket, q->w->label_fmt, q->filter[0],
                        q->filter[1],   q->filter[2], q->filter[3]};
    return sv_db_exec(d, series_sql, 7, p);
}

static PGresult *run_breakdown(sv_req *r, const dash_query *q)
{
    sv_db *d = sv_req_db(r);
    if (!d)
        return NULL;
    char sql[sizeof breakdown_sql + 32];
    snprintf(sql, sizeof sql, breakdown_sql, groupings[q->by]);
    const char *p[6] = {q->w->interval, q->filter[0], q->filter[1],
                        q->filter[2],   q->filter[3], q->w->bucket};
    return sv_db_exec(d, sql, 6, p);
}

/* A chart's columns of the series result. */
typedef struct {
    const char *id, *title, *unit;
    sv_chart_kind kind;
    int cols[4];
    const char *names[4];
    int n;
} chart_def;

enum { C_COUNT = 2, C_ERRORS, C_P50, C_P95, C_P99, C_TTFT, C_IN, C_OUT, C_COST, C_OK = 100 };

static const chart_def charts[] = {
    {"volume", "Generations and errors", "generations", SV_CHART_STACKED,
     {C_OK, C_ERRORS}, {"ok", "error"}, 2},
    {"latency", "Latency percentiles and time to first token", "ms", SV_CHART_LINES,
     {C_P50, C_P95, C_P99, C_TTFT}, {"p50", "p95", "p99", "TTFT p50"}, 4},
    {"tokens", "Tokens", "tokens", SV_CHART_STACKED, {C_IN, C_OUT}, {"input", "output"}, 2},
    {"cost", "Cost", "USD", SV_CHART_BARS, {C_COST}, {"cost"}, 1},
};
#define N_CHARTS (sizeof charts / sizeof charts[0])

/* The value of column col of row i (C_OK is count - errors); NAN for
 * SQL NULL (a percentile of an empty bucket). */
static double cell(PGresult *res, int i, int col)
{
    if (col == C_OK)
        return atof(PQgetvalue(res, i, C_COUNT)) - atof(PQgetvalue(res, i, C_ERRORS));
    if (PQgetisnull(res, i, col))
        return NAN;
    return atof(PQgetvalue(res, i, col));
}

static void cell_text(sv_buf *b, PGresult *res, int i, int col)
{
    if (col == C_OK) {
        sv_printf(b, "%.0f", cell(res, i, col));
    } else if (PQgetisnull(res, i, col)) {
        sv_puts(b, "");
    } else if (col >= C_P50 && col <= C_TTFT) {
        sv_printf(b, "%.0f", atof(PQgetvalue(res, i, col)));
    } else {
        sv_esc(b, PQgetvalue(res, i, col));
    }
}

static void render_chart(sv_req *r, const dash_query *q, PGresult *res, const chart_def *cd)
{
    sv_buf *b = &r->out;
    int n = PQntuples(res);
    double *vals = calloc((size_t)(n ? n : 1) * (size_t)cd->n, sizeof(double));
    const char **labels = calloc((size_t)(n ? n : 1), sizeof(char *));
    if (!vals || !labels) {
        free(vals);
        free(labels);
        sv_puts(b, "<p class=\"msg err\">out of memory</p>");
        return;
    }
    sv_series series[4];
    for (int s = 0; s < cd->n; s++) {
        for (int i = 0; i < n; i++)
            vals[s * n + i] = cell(res, i, cd->cols[s]);
        series[s].name = cd->names[s];
        series[s].values = vals + s * n;
    }
    for (int i = 0; i < n; i++)
        labels[i] = PQgetvalue(res, i, 0);
    sv_chart c = {cd->kind, cd->title, cd->unit, labels, (size_t)n, series, (size_t)cd->n};
    sv_printf(b, "<figure class=\"chart\" id=\"chart-%s\" aria-labelledby=\"cap-%s\">"
                 "<figcaption id=\"cap-%s\">",
              cd->id, cd->id, cd->id);
    sv_esc(b, cd->title);
    sv_puts(b, " <span class=\"hint\">(");
    sv_esc(b, cd->unit);
    sv_printf(b, " per %s, UTC)</span> <a class=\"csv\" href=\"/dash/overview.csv", q->w->bucket);
    char extra[32];
    snprintf(extra, sizeof extra, "&chart=%s", cd->id);
    query_string(b, q, extra);
    sv_puts(b, "\" download>CSV</a></figcaption>");
    sv_chart_svg(b, &c);
    sv_puts(b, "<details><summary>The numbers</summary><table class=\"grid\"><caption>");
    sv_esc(b, cd->title);
    sv_puts(b, "</caption><thead><tr><th>Bucket start (UTC)</th>");
    for (int s = 0; s < cd->n; s++) {
        sv_puts(b, "<th class=\"num\">");
        sv_esc(b, cd->names[s]);
        sv_puts(b, "</th>");
    }
    sv_puts(b, "</tr></thead><tbody>");
    for (int i = 0; i < n; i++) {
        sv_puts(b, "<tr><td>");
        sv_esc(b, PQgetvalue(res, i, 1));
        sv_puts(b, "</td>");
        for (int s = 0; s < cd->n; s++) {
            sv_puts(b, "<td class=\"num\">");
            cell_text(b, res, i, cd->cols[s]);
            sv_puts(b, "</td>");
        }
        sv_puts(b, "</tr>");
    }
    sv_puts(b, "</tbody></table></details></figure>");
    free(vals);
    free(labels);
}

static void filter_form(sv_req *r, const dash_query *q)
{
    sv_buf *b = &r->out;
    sv_puts(b, "<form method=\"get\" action=\"/dash\" class=\"filters\" role=\"search\">"
               "<label>Window <select name=\"window\">");
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        sv_printf(b, "<option value=\"%s\"%s>", windows[i].name,
                  q->w == &windows[i] ? " selected" : "");
        sv_esc(b, windows[i].title);
        sv_puts(b, "</option>");
    }
    sv_puts(b, "</select></label>");
    for (int i = 0; i < N_FILTERS; i++) {
        sv_printf(b, "<label>%c%s <input type=\"text\" name=\"%s\" maxlength=\"200\" "
                     "placeholder=\"all\" value=\"",
                  filter_keys[i][0] - 32, filter_keys[i] + 1, filter_keys[i]);
        sv_esc(b, q->filter[i]);
        sv_puts(b, "\"></label>");
    }
    sv_puts(b, "<label>Break down by <select name=\"by\">");
    for (size_t i = 0; i < sizeof grouping_names / sizeof grouping_names[0]; i++)
        sv_printf(b, "<option value=\"%s\"%s>%s</option>", grouping_names[i],
                  q->by == (int)i ? " selected" : "", grouping_names[i]);
    sv_puts(b, "</select></label><button type=\"submit\">Apply</button></form>");
}

static const char *const breakdown_heads[] = {"Generations", "Errors", "Error %", "p50 ms",
                                              "p95 ms", "Input tokens", "Output tokens",
                                              "Cost USD"};

int sv_page_dash_overview(sv_req *r)
{
    dash_query q;
    read_query(r, &q);
    PGresult *series = run_series(r, &q);
    if (!series)
        return sv_unavailable(r);
    if (PQresultStatus(series) != PGRES_TUPLES_OK) {
        int rc = sv_db_error_page(r, series);
        PQclear(series);
        return rc;
    }
    PGresult *bd = run_breakdown(r, &q);
    if (!bd || PQresultStatus(bd) != PGRES_TUPLES_OK) {
        int rc = bd ? sv_db_error_page(r, bd) : sv_unavailable(r);
        PQclear(bd);
        PQclear(series);
        return rc;
    }
    sv_page_begin(r, "Overview", "dash");
    sv_buf *b = &r->out;
    double total = 0, errors = 0, cost = 0;
    for (int i = 0; i < PQntuples(series); i++) {
        total += atof(PQgetvalue(series, i, C_COUNT));
        errors += atof(PQgetvalue(series, i, C_ERRORS));
        cost += atof(PQgetvalue(series, i, C_COST));
    }
    sv_puts(b, "<main class=\"wide\"><h1>Overview</h1>");
    filter_form(r, &q);
    sv_printf(b, "<p class=\"summary\" id=\"summary\"><strong>%.0f</strong> generations, "
                 "<strong>%.0f</strong> errors (%.1f %%), <strong>%.2f</strong> USD in the ",
              total, errors, total > 0 ? 100 * errors / total : 0.0, cost);
    sv_esc(b, q.w->title);
    sv_puts(b, " (buckets of ");
    sv_esc(b, q.w->bucket);
    sv_puts(b, ", times in UTC).</p><div class=\"charts\">");
    for (size_t k = 0; k < N_CHARTS; k++)
        render_chart(r, &q, series, &charts[k]);
    sv_puts(b, "</div><h2>By ");
    sv_esc(b, grouping_names[q.by]);
    sv_puts(b, " <a class=\"csv\" href=\"/dash/overview.csv");
    query_string(b, &q, "&chart=breakdown");
    sv_puts(b, "\" download>CSV</a></h2><table class=\"grid\" id=\"breakdown\"><caption>");
    sv_esc(b, q.w->title);
    sv_puts(b, " by ");
    sv_esc(b, grouping_names[q.by]);
    sv_puts(b, "</caption><thead><tr><th>");
    sv_esc(b, grouping_names[q.by]);
    sv_puts(b, "</th>");
    for (size_t c = 0; c < 8; c++) {
        sv_puts(b, "<th class=\"num\">");
        sv_esc(b, breakdown_heads[c]);
        sv_puts(b, "</th>");
    }
    sv_puts(b, "</tr></thead><tbody>");
    for (int i = 0; i < PQntuples(bd); i++) {
        sv_puts(b, "<tr>");
        for (int c = 0; c < 9; c++) {
            sv_puts(b, c ? "<td class=\"num\">" : "<td>");
            sv_esc(b, PQgetvalue(bd, i, c));
            sv_puts(b, "</td>");
        }
        sv_puts(b, "</tr>");
    }
    if (PQntuples(bd) == 0)
        sv_puts(b, "<tr><td colspan=\"9\" class=\"hint\">No generations in this window.</td>"
                   "</tr>");
    sv_puts(b, "</tbody></table></main>");
    PQclear(bd);
    PQclear(series);
    sv_page_end(r);
    return 0;
}

/* CSV: RFC 4180 quoting of one field. */
static void csv_field(sv_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        sv_puts(b, s);
        return;
    }
    sv_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            sv_putc(b, '"');
        sv_putc(b, *s);
    }
    sv_putc(b, '"');
}

int sv_page_dash_overview_csv(sv_req *r)
{
    dash_query q;
    read_query(r, &q);
    char which[32];
    const char *chart = sv_query(r, "chart", which, sizeof which);
    const chart_def *cd = NULL;
    for (size_t k = 0; chart && k < N_CHARTS; k++)
        if (strcmp(chart, charts[k].id) == 0)
            cd = &charts[k];
    int breakdown = chart && strcmp(chart, "breakdown") == 0;
    if (!cd && !breakdown)
        return sv_error_page(r, 404, "Not found", "There is no such chart.");
    PGresult *res = breakdown ? run_breakdown(r, &q) : run_series(r, &q);
    if (!res)
        return sv_unavailable(r);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = sv_db_error_page(r, res);
        PQclear(res);
        return rc;
    }
    sv_buf *b = &r->out;
    r->ctype = "text/csv; charset=utf-8";
    snprintf(r->disposition, sizeof r->disposition,
             "attachment; filename=\"flywheel-overview-%s-%s.csv\"", which, q.w->name);
    if (breakdown) {
        sv_puts(b, grouping_names[q.by]);
        for (size_t c = 0; c < 8; c++) {
            sv_putc(b, ',');
            csv_field(b, breakdown_heads[c]);
        }
        sv_puts(b, "\r\n");
        for (int i = 0; i < PQntuples(res); i++) {
            for (int c = 0; c < 9; c++) {
                if (c)
                    sv_putc(b, ',');
                csv_field(b, PQgetvalue(res, i, c));
            }
            sv_puts(b, "\r\n");
        }
    } else {
        sv_puts(b, "bucket_start_utc");
        for (int s = 0; s < cd->n; s++) {
            sv_putc(b, ',');
            csv_field(b, cd->names[s]);
        }
        sv_puts(b, "\r\n");
        for (int i = 0; i < PQntuples(res); i++) {
            sv_puts(b, PQgetvalue(res, i, 1));
            for (int s = 0; s < cd->n; s++) {
                sv_putc(b, ',');
                cell_text(b, res, i, cd->cols[s]);
            }
            sv_puts(b, "\r\n");
        }
    }
    PQclear(res);
    return 0;
}
