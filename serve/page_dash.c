/*
 * Dashboards: the shared parts (dash.h) and the Overview page.
 *
 * The Overview reads flywheel.generation_facts with a time filter on
 * event_time written as a stable expression of the parameters, which each
 * partition's time index answers (partitions are days of id_time since
 * V0038, so an event_time window does not prune them).
 * Buckets are date_bin() in UTC, and the empty buckets of the window are
 * generated so a quiet hour shows as zero, not as a missing point.
 */
#include "dash.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const dash_filter_names[DASH_NF] = {"model", "provider", "environment", "release",
                                                "project"};

static const struct {
    const char *name, *interval, *bucket, *bucket_name;
} windows[] = {
    {"1h", "1 hour", "5 minutes", "5 minutes (UTC)"},
    {"6h", "6 hours", "15 minutes", "15 minutes (UTC)"},
    {"24h", "24 hours", "1 hour", "hour (UTC)"},
    {"7d", "7 days", "6 hours", "6 hours (UTC)"},
    {"30d", "30 days", "1 day", "day (UTC)"},
};
#define N_WINDOWS ((int)(sizeof windows / sizeof windows[0]))

/* The breakdown choices: URL value, column of generation_facts, label. */
static const struct {
    const char *name, *column, *label;
} bys[] = {
    {"model", "model", "model"},
    {"provider", "provider_name", "provider"},
    {"environment", "environment", "environment"},
    {"release", "release", "release"},
    {"project", "project", "project"},
};
#define N_BYS ((int)(sizeof bys / sizeof bys[0]))

static int bad_request(sv_req *r, const char *text)
{
    sv_error_page(r, 400, "Bad request", text);
    return -1;
}

/* An end time: digits, '-', ':', 'T', 'Z', '+', '.', ' ' only (PostgreSQL
 * parses it; this keeps odd text out of error messages). */
static int end_shape(const char *s)
{
    size_t n = strlen(s);
    if (n > 40)
        return 0;
    return s[strspn(s, "0123456789-:TZ+. ")] == '\0';
}

int dash_filter_read(sv_req *r, dash_filter *f, const char *default_window)
{
    memset(f, 0, sizeof *f);
    char w[16], by[16];
    int rc = sv_query(r, "window", w, sizeof w);
    int wi = 0;
    while (wi < N_WINDOWS - 1 && strcmp(windows[wi].name, default_window) != 0)
        wi++;
    f->default_window = windows[wi].name;
    if (rc < 0)
        return bad_request(r, "window must be one of 1h, 6h, 24h, 7d, 30d.");
    if (w[0]) {
        for (wi = 0; wi < N_WINDOWS && strcmp(windows[wi].name, w) != 0; wi++)
            ;
        if (wi == N_WINDOWS)
            return bad_request(r, "window must be one of 1h, 6h, 24h, 7d, 30d.");
    }
    f->window = windows[wi].name;
    f->interval = windows[wi].interval;
    f->bucket = windows[wi].bucket;
    f->bucket_name = windows[wi].bucket_name;
    if (sv_query(r, "end", f->end, sizeof f->end) < 0 || !end_shape(f->end))
        return bad_request(r, "end must be a timestamp such as 2026-12-07T18:00Z.");
    for (int i = 0; i < DASH_NF; i++) {
        if (sv_query(r, dash_filter_names[i], f->f[i], sizeof f->f[i]) < 0)
            return bad_request(r, "A filter value is too long, badly encoded or not UTF-8.");
    }
    f->by = bys[0].name;
    if (sv_query(r, "by", by, sizeof by) < 0)
        return bad_request(r, "by must be one of model, provider, environment, release, project.");
    if (by[0]) {
        int i;
        for (i = 0; i < N_BYS && strcmp(bys[i].name, by) != 0; i++)
            ;
        if (i == N_BYS)
            return bad_request(r, "by must be one of model, provider, environment, release, "
                                  "project.");
        f->by = bys[i].name;
    }
    return 0;
}

static void qparam(sv_buf *b, int *first, const char *k, const char *v)
{
    sv_putc(b, *first ? '?' : '&');
    *first = 0;
    sv_puts(b, k);
    sv_putc(b, '=');
    sv_urlenc(b, v);
}

void dash_filter_query(sv_buf *b, const dash_filter *f, const char *extra)
{
    int first = 1;
    if (extra) {
        sv_putc(b, '?');
        sv_puts(b, extra); /* a literal of the page, e.g. "csv=traffic" */
        first = 0;
    }
    qparam(b, &first, "window", f->window);
    if (f->end[0])
        qparam(b, &first, "end", f->end);
    for (int i = 0; i < DASH_NF; i++)
        if (f->f[i][0])
            qparam(b, &first, dash_filter_names[i], f->f[i]);
    if (strcmp(f->by, bys[0].name) != 0)
        qparam(b, &first, "by", f->by);
}

void dash_filter_form(sv_req *r, const dash_filter *f, const char *action, int flags)
{
    sv_buf *b = &r->out;
    sv_puts(b, "<form class=\"filters\" method=\"get\" action=\"");
    sv_esc(b, action);
    sv_puts(b, "\"><div><label for=\"f-window\">Window</label><select id=\"f-window\" "
               "name=\"window\">");
    for (int i = 0; i < N_WINDOWS; i++) {
        sv_printf(b, "<option value=\"%s\"%s>last %s</option>", windows[i].name,
                  strcmp(windows[i].name, f->window) == 0 ? " selected" : "", windows[i].name);
    }
    sv_puts(b, "</select></div><div><label for=\"f-end\">Ending at (UTC)</label>"
               "<input type=\"text\" id=\"f-end\" name=\"end\" placeholder=\"now\" value=\"");
    sv_esc(b, f->end);
    sv_puts(b, "\"></div>");
    for (int i = 0; i < DASH_NF && (flags & DASH_FORM_FILTERS); i++) {
        sv_printf(b,
                  "<div><label for=\"f-%s\">%c%s</label><input type=\"text\" id=\"f-%s\" "
                  "name=\"%s\" placeholder=\"any\" value=\"",
                  dash_filter_names[i], dash_filter_names[i][0] - 32, dash_filter_names[i] + 1,
                  dash_filter_names[i], dash_filter_names[i]);
        sv_esc(b, f->f[i]);
        sv_puts(b, "\"></div>");
    }
    if (flags & DASH_FORM_BY) {
        sv_puts(b, "<div><label for=\"f-by\">Break down by</label><select id=\"f-by\" "
                   "name=\"by\">");
        for (int i = 0; i < N_BYS; i++)
            sv_printf(b, "<option value=\"%s\"%s>%s</option>", bys[i].name,
                      strcmp(bys[i].name, f->by) == 0 ? " selected" : "", bys[i].label);
        sv_puts(b, "</select></div>");
    }
    sv_puts(b, "<div><button type=\"submit\" class=\"primary\">Apply</button></div></form>");
}

int dash_chart_from(dash_chart *dc, PGresult *res, int x_col, const int *cols, int ncols)
{
    int n = PQntuples(res);
    dc->x = calloc(n ? (size_t)n : 1, sizeof *dc->x);
    dc->v = calloc((size_t)(n ? n : 1) * (size_t)ncols, sizeof *dc->v);
    if (!dc->x || !dc->v) {
        dash_chart_free(dc);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        dc->x[i] = PQgetvalue(res, i, x_col);
        for (int s = 0; s < ncols; s++) {
            dc->v[(size_t)s * (size_t)n + (size_t)i] =
                PQgetisnull(res, i, cols[s]) ? NAN : strtod(PQgetvalue(res, i, cols[s]), NULL);
        }
    }
    dc->c.n = n;
    dc->c.x_labels = dc->x;
    dc->c.values = dc->v;
    dc->c.nseries = ncols;
    return 0;
}

void dash_chart_free(dash_chart *dc)
{
    free(dc->x);
    free(dc->v);
    dc->x = NULL;
    dc->v = NULL;
}

void dash_csv_answer(sv_req *r, const sv_chart *c)
{
    sv_buf_reset(&r->out);
    r->ctype = "text/csv; charset=utf-8";
    sv_chart_csv(&r->out, c);
}

PGresult *dash_exec(sv_req *r, const char *sql, int n, const char *const *params)
{
    sv_db *d = sv_req_db(r);
    if (!d) {
        sv_unavailable(r);
        return NULL;
    }
    PGresult *res = sv_db_exec(d, sql, n, params);
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        return res;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state && strncmp(state, "22", 2) == 0) {
        /* a malformed end time or filter value: the caller's input */
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        sv_error_page(r, 400, "Bad request", msg ? msg : "Invalid value in the URL.");
    } else {
        sv_db_error_page(r, res);
    }
    PQclear(res);
    return NULL;
}

void dash_page_begin(sv_req *r, const char *title, const char *current)
{
    static const struct {
        const char *path, *name;
    } pages[] = {
        {"/dash", "Overview"},
        {"/dash/flywheel", "The flywheel"},
        {"/dash/quality", "Quality and feedback"},
        {"/dash/ingest", "Collector and ingest"},
        {"/dash/datasets", "Datasets"},
        {"/dash/evals", "Eval runs"},
    };
    sv_page_begin(r, title, "dash");
    sv_puts(&r->out, "<nav class=\"dashnav\" aria-label=\"Dashboards\">");
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        int cur = strcmp(pages[i].path, current) == 0;
        sv_printf(&r->out, "<a href=\"%s\"%s>%s</a>", pages[i].path,
                  cur ? " aria-current=\"page\"" : "", pages[i].name);
    }
    sv_puts(&r->out, "</nav>");
}

/* ---- Overview ----------------------------------------------------------- */

/* $1 window, $2 end ('' = now), $3..$7 the filters (DASH_WHERE, dash.h); $8 the
 * bucket (series only) */

static const char overview_series_sql[] =
    "WITH b AS (SELECT generate_series(date_bin($8::interval, " DASH_END " - $1::interval,"
    "                  timestamptz '2000-01-01 00:00:00+00'), " DASH_END
    " - interval '1 microsecond', $8::interval) AS t),"
    " g AS (SELECT date_bin($8::interval, f.event_time, timestamptz '2000-01-01 00:00:00+00') AS t,"
    "   count(*) AS n, count(*) FILTER (WHERE f.is_error) AS e,"
    "   round(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.duration_ms)::numeric, 1) AS p50,"
    "   round(percentile_cont(0.95) WITHIN GROUP (ORDER BY f.duration_ms)::numeric, 1) AS p95,"
    "   round(percentile_cont(0.99) WITHIN GROUP (ORDER BY f.duration_ms)::numeric, 1) AS p99,"
    "   round(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.ttft_ms)::numeric, 1) AS t50,"
    "   round(percentile_cont(0.95) WITHIN GROUP (ORDER BY f.ttft_ms)::numeric, 1) AS t95,"
    "   round(percentile_cont(0.99) WITHIN GROUP (ORDER BY f.ttft_ms)::numeric, 1) AS t99,"
    "   coalesce(sum(f.input_tokens), 0) AS tin, coalesce(sum(f.output_tokens), 0) AS tout,"
    "   round(coalesce(sum(f.cost_micro_usd), 0) / 1e6, 4) AS cost"
    "  FROM flywheel.generation_facts f WHERE" DASH_WHERE " GROUP BY 1)"
    " SELECT to_char(b.t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
    "        coalesce(g.n - g.e, 0), coalesce(g.e, 0), g.p50, g.p95, g.p99, g.t50, g.t95, g.t99,"
    "        coalesce(g.tin, 0), coalesce(g.tout, 0), coalesce(g.cost, 0)"
    " FROM b LEFT JOIN g USING (t) ORDER BY b.t";

/* The breakdown: %s is a column name from the fixed list `bys`. */
static const char overview_by_sql[] =
    "SELECT coalesce(nullif(f.%s, ''), '(none)') AS k,"
    "  count(*) - count(*) FILTER (WHERE f.is_error), count(*) FILTER (WHERE f.is_error),"
    "  round(percentile_cont(0.95) WITHIN GROUP (ORDER BY f.duration_ms)::numeric, 1),"
    "  round(coalesce(sum(f.cost_micro_usd), 0) / 1e6, 4)"
    " FROM flywheel.generation_facts f WHERE" DASH_WHERE
    " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 20";

typedef struct {
    const char *id, *title, *unit;
    sv_chart_kind kind;
    int decimals;
    int by; /* from the breakdown query */
    int cols[3];
    int ncols;
    const char *names[3];
} overview_chart;

static const overview_chart ov_charts[] = {
    {"traffic",
     "Generations and errors",
     "generations",
     SV_CHART_STACKED,
     0,
     0,
     {1, 2},
     2,
     {"ok", "error"}},
    {"latency",
     "Latency percentiles",
     "ms",
     SV_CHART_LINE,
     1,
     0,
     {3, 4, 5},
     3,
     {"p50", "p95", "p99"}},
    {"ttft", "Time to first token", "ms", SV_CHART_LINE, 1, 0, {6, 7, 8}, 3, {"p50", "p95", "p99"}},
    {"tokens", "Tokens", "tokens", SV_CHART_STACKED, 0, 0, {9, 10}, 2, {"input", "output"}},
    {"cost", "Cost", "USD", SV_CHART_BAR, 4, 0, {11}, 1, {"cost"}},
    {"by", "Generations by ", "generations", SV_CHART_STACKED, 0, 1, {1, 2}, 2, {"ok", "error"}},
    {"bycost", "Cost by ", "USD", SV_CHART_BAR, 4, 1, {4}, 1, {"cost"}},
    {"byp95", "p95 latency by ", "ms", SV_CHART_BAR, 1, 1, {3}, 1, {"p95"}},
};
#define N_OV ((int)(sizeof ov_charts / sizeof ov_charts[0]))

static const char *by_column(const char *by, const char **label)
{
    for (int i = 0; i < N_BYS; i++) {
        if (strcmp(bys[i].name, by) == 0) {
            *label = bys[i].label;
            return bys[i].column;
        }
    }
    *label = bys[0].label;
    return bys[0].column;
}

/* Fills *dc for chart k from res; the title (in title_buf) names the
 * breakdown and the window. */
static int ov_chart(const dash_filter *f, int k, PGresult *res, dash_chart *dc, char *title_buf,
                    size_t title_size, sv_buf *href)
{
    const overview_chart *o = &ov_charts[k];
    const char *label;
    by_column(f->by, &label);
    memset(dc, 0, sizeof *dc);
    if (dash_chart_from(dc, res, 0, o->cols, o->ncols) != 0)
        return -1;
    if (o->by)
        snprintf(title_buf, title_size, "%s%s, last %s", o->title, label, f->window);
    else
        snprintf(title_buf, title_size, "%s, last %s", o->title, f->window);
    dc->c.kind = o->kind;
    dc->c.id = o->id;
    dc->c.title = title_buf;
    dc->c.x_title = o->by ? label : f->bucket_name;
    dc->c.unit = o->unit;
    dc->c.decimals = o->decimals;
    dc->c.series_names = o->names;
    char extra[32];
    snprintf(extra, sizeof extra, "csv=%s", o->id);
    sv_buf_reset(href);
    sv_puts(href, "/dash");
    dash_filter_query(href, f, extra);
    dc->c.csv_href = sv_buf_cstr(href);
    return 0;
}

int sv_page_dash_overview(sv_req *r)
{
    dash_filter f;
    if (dash_filter_read(r, &f, "24h") != 0)
        return 0;
    char csv[16];
    int csv_k = -1;
    if (sv_query(r, "csv", csv, sizeof csv) != 0) {
        for (csv_k = 0; csv_k < N_OV && strcmp(ov_charts[csv_k].id, csv) != 0; csv_k++)
            ;
        if (csv_k == N_OV)
            return sv_error_page(r, 404, "Not found", "There is no such chart on this page.");
    }
    const char *params[8] = {f.interval, f.end};
    for (int i = 0; i < DASH_NF; i++)
        params[2 + i] = f.f[i];
    params[7] = f.bucket;
    PGresult *series = NULL, *by = NULL;
    if (csv_k < 0 || !ov_charts[csv_k].by) {
        series = dash_exec(r, overview_series_sql, 8, params);
        if (!series)
            return 0;
    }
    if (csv_k < 0 || ov_charts[csv_k].by) {
        const char *label;
        char sql[sizeof overview_by_sql + 32];
        snprintf(sql, sizeof sql, overview_by_sql, by_column(f.by, &label));
        by = dash_exec(r, sql, 7, params);
        if (!by) {
            PQclear(series);
            return 0;
        }
    }
    sv_buf href = {0};
    char title[128];
    dash_chart dc;
    if (csv_k >= 0) {
        if (ov_chart(&f, csv_k, ov_charts[csv_k].by ? by : series, &dc, title, sizeof title,
                     &href) == 0) {
            dash_csv_answer(r, &dc.c);
            dash_chart_free(&dc);
        } else {
            r->out.oom = 1;
        }
        sv_buf_free(&href);
        PQclear(series);
        PQclear(by);
        return 0;
    }

    /* totals of the window, from the buckets */
    double gen = 0, err = 0, tin = 0, tout = 0, cost = 0;
    for (int i = 0; i < PQntuples(series); i++) {
        gen += strtod(PQgetvalue(series, i, 1), NULL) + strtod(PQgetvalue(series, i, 2), NULL);
        err += strtod(PQgetvalue(series, i, 2), NULL);
        tin += strtod(PQgetvalue(series, i, 9), NULL);
        tout += strtod(PQgetvalue(series, i, 10), NULL);
        cost += strtod(PQgetvalue(series, i, 11), NULL);
    }
    dash_page_begin(r, "Overview", "/dash");
    sv_buf *b = &r->out;
    sv_puts(b, "<main class=\"dash\"><h1>Overview</h1>");
    dash_filter_form(r, &f, "/dash", DASH_FORM_FILTERS | DASH_FORM_BY);
    sv_puts(b, "<p class=\"window\">Last ");
    sv_esc(b, f.window);
    sv_puts(b, " ending ");
    sv_esc(b, f.end[0] ? f.end : "now");
    sv_puts(b, "; times are UTC. <a href=\"/dash");
    {
        sv_buf q = {0};
        dash_filter_query(&q, &f, NULL);
        sv_esc(b, sv_buf_cstr(&q));
        sv_buf_free(&q);
    }
    sv_puts(b, "\">Link to this view</a></p><dl class=\"tiles\">");
    sv_printf(b, "<div><dt>Generations</dt><dd id=\"tile-generations\">%.0f</dd></div>", gen);
    sv_printf(b, "<div><dt>Errors</dt><dd id=\"tile-errors\">%.0f (%.1f%%)</dd></div>", err,
              gen > 0 ? 100.0 * err / gen : 0.0);
    sv_printf(b, "<div><dt>Tokens</dt><dd id=\"tile-tokens\">%.0f in, %.0f out</dd></div>", tin,
              tout);
    sv_printf(b, "<div><dt>Cost</dt><dd id=\"tile-cost\">%.4f USD</dd></div></dl>", cost);
    sv_puts(b, "<div class=\"charts\">");
    for (int k = 0; k < N_OV; k++) {
        if (ov_charts[k].by && k > 0 && !ov_charts[k - 1].by)
            sv_puts(b, "</div><h2>Breakdown</h2><div class=\"charts\">");
        if (ov_chart(&f, k, ov_charts[k].by ? by : series, &dc, title, sizeof title, &href) != 0) {
            r->out.oom = 1;
            break;
        }
        sv_chart_figure(b, &dc.c);
        dash_chart_free(&dc);
    }
    sv_puts(b, "</div></main>");
    sv_buf_free(&href);
    PQclear(series);
    PQclear(by);
    sv_page_end(r);
    return 0;
}

PGresult *dash_section_exec(sv_req *r, const char *sql, int n, const char *const *params,
                            int *denied)
{
    *denied = 0;
    sv_db *d = sv_req_db(r);
    if (!d) {
        sv_unavailable(r);
        return NULL;
    }
    PGresult *res = sv_db_exec(d, sql, n, params);
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        return res;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state && strcmp(state, "42501") == 0) {
        *denied = 1;
    } else if (state && strncmp(state, "22", 2) == 0) {
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        sv_error_page(r, 400, "Bad request", msg ? msg : "Invalid value in the URL.");
    } else {
        sv_db_error_page(r, res);
    }
    PQclear(res);
    return NULL;
}

void dash_denied_note(sv_req *r, const char *what)
{
    sv_puts(&r->out, "<p class=\"empty denied\">");
    sv_esc(&r->out, what);
    sv_puts(&r->out, ": your account may not read this (PostgreSQL refused; an admin can grant "
                     "it).</p>");
}
