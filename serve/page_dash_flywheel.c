/*
 * Dashboards: the flywheel's own vital signs (/dash/flywheel). Backlog and
 * age per queue, now and over time (open items and the oldest one's age at
 * the end of each bucket), reviewer throughput over time and per reviewer,
 * agreement per field over time (heat), gold accuracy, label coverage of
 * generations, dataset versions and their growth over time.
 *
 * Each section is its own query and PostgreSQL decides per section: an
 * adjudicator's role may read the review views (R__40_dashboards.sql grants
 * them) but not label coverage or datasets, so those sections say so; a
 * reviewer's role may read none, and the page answers 403.
 */
#include "dash.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FW_END    "coalesce(nullif($2, '')::timestamptz, now())"
#define FW_ORIGIN "timestamptz '2000-01-01 00:00:00+00'"
#define FW_BUCKETS                                                                                 \
    "WITH b AS (SELECT generate_series(date_bin($3::interval, " FW_END                             \
    " - $1::interval, " FW_ORIGIN "), " FW_END " - interval '1 microsecond', $3::interval) AS t)"

static const char backlog_sql[] =
    "SELECT queue, pending, in_review, labelled, disputed, adjudicated,"
    " round((coalesce(extract(epoch FROM oldest_open_age), 0) / 3600)::numeric, 2)"
    " FROM flywheel.review_progress ORDER BY queue";

/* $1 window, $2 end, $3 bucket */
static const char throughput_sql[] = FW_BUCKETS
    ", l AS (SELECT date_bin($3::interval, f.created_at, " FW_ORIGIN ") AS t,"
    "   count(*) FILTER (WHERE NOT f.is_adjudication AND NOT f.is_revision) AS labels,"
    "   count(*) FILTER (WHERE NOT f.is_adjudication AND f.is_revision) AS revisions,"
    "   count(*) FILTER (WHERE f.is_adjudication) AS adjudications"
    "  FROM flywheel.review_label_facts f"
    "  WHERE f.created_at >= " FW_END " - $1::interval AND f.created_at < " FW_END " GROUP BY 1)"
    " SELECT to_char(b.t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), coalesce(l.labels, 0),"
    "        coalesce(l.revisions, 0), coalesce(l.adjudications, 0)"
    " FROM b LEFT JOIN l USING (t) ORDER BY b.t";

/* $1 window, $2 end */
static const char reviewers_sql[] =
    "SELECT f.reviewer, count(*) FILTER (WHERE NOT f.is_revision),"
    "       count(*) FILTER (WHERE f.is_revision)"
    " FROM flywheel.review_label_facts f"
    " WHERE NOT f.is_adjudication AND f.created_at >= " FW_END " - $1::interval"
    "   AND f.created_at < " FW_END " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 20";

/* $1 window, $2 end, $3 bucket: (queue · field, bucket, mean agreement) */
static const char agreement_sql[] =
    "SELECT a.queue || ' · ' || a.field,"
    "       to_char(date_bin($3::interval, a.completed_at, " FW_ORIGIN ") AT TIME ZONE 'UTC',"
    "               'YYYY-MM-DD HH24:MI'),"
    "       round(avg(a.agreement)::numeric, 2)"
    " FROM flywheel.review_item_agreement a"
    " WHERE a.completed_at >= " FW_END " - $1::interval AND a.completed_at < " FW_END
    " GROUP BY 1, 2 ORDER BY 1, 2";

static const char gold_sql[] =
    "SELECT queue || ' · ' || field, round(sum(correct)::numeric / nullif(sum(gold_items), 0), 2),"
    "       sum(gold_items)"
    " FROM flywheel.review_gold_accuracy GROUP BY 1 ORDER BY 1 LIMIT 30";

/* $1 window, $2 end, $3 bucket */
static const char coverage_sql[] = FW_BUCKETS
    ", c AS (SELECT date_bin($3::interval, f.event_time, " FW_ORIGIN ") AS t,"
    "   round(avg(f.queued::int)::numeric, 3) AS queued,"
    "   round(avg(f.labelled::int)::numeric, 3) AS labelled"
    "  FROM flywheel.label_coverage_facts f"
    "  WHERE f.event_time >= " FW_END " - $1::interval AND f.event_time < " FW_END " GROUP BY 1)"
    " SELECT to_char(b.t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), c.queued, c.labelled"
    " FROM b LEFT JOIN c USING (t) ORDER BY b.t";

/* $1 window, $2 end, $3 bucket: the open items (pending or in review) at
 * the end of each bucket and the age of the oldest of them, from the items'
 * created_at and completed_at. */
static const char open_sql[] = FW_BUCKETS
    ", e AS (SELECT b.t, least(b.t + $3::interval, " FW_END ") AS at FROM b),"
    " c AS MATERIALIZED (SELECT i.created_at, i.completed_at FROM flywheel.review_item_facts i"
    "  WHERE i.open OR i.completed_at IS NOT NULL)"
    " SELECT to_char(e.t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
    "  (SELECT count(*) FROM c WHERE c.created_at < e.at"
    "    AND (c.completed_at IS NULL OR c.completed_at >= e.at)),"
    "  (SELECT round((extract(epoch FROM e.at - min(c.created_at)) / 3600)::numeric, 2) FROM c"
    "    WHERE c.created_at < e.at AND (c.completed_at IS NULL OR c.completed_at >= e.at))"
    " FROM e ORDER BY e.t";

/* $1 window, $2 end, $3 bucket: (dataset, bucket, rows of its latest
 * version recorded by the end of the bucket), the 8 datasets with the
 * latest versions. */
static const char growth_sql[] =
    FW_BUCKETS ", ds AS (SELECT v.dataset FROM flywheel.dataset_versions v GROUP BY 1"
               "  ORDER BY max(v.created_at) DESC, 1 LIMIT 8)"
               " SELECT ds.dataset, to_char(b.t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
               "  (SELECT v.members FROM flywheel.dataset_versions v WHERE v.dataset = ds.dataset"
               "    AND v.created_at < least(b.t + $3::interval, " FW_END ")"
               "    ORDER BY v.version DESC LIMIT 1)"
               " FROM ds CROSS JOIN b ORDER BY 1, b.t";

static const char datasets_sql[] =
    "SELECT v.dataset || ' v' || v.version, v.members"
    " FROM flywheel.dataset_versions v ORDER BY v.created_at, v.dataset, v.version LIMIT 40";

static const char *const backlog_names[] = {"pending", "in review", "labelled", "disputed",
                                            "adjudicated"};
static const char *const age_names[] = {"oldest open item"};
static const char *const throughput_names[] = {"labels", "revisions", "adjudications"};
static const char *const reviewer_names[] = {"labels", "revisions"};
static const char *const gold_names[] = {"accuracy"};
static const char *const coverage_names[] = {"queued", "labelled"};
static const char *const dataset_names[] = {"rows"};
static const char *const open_names[] = {"open items"};
static const char *const open_age_names[] = {"oldest open item"};

typedef struct {
    sv_req *r;
    const dash_filter *f;
    sv_buf href;
} fw_ctx;

static void figure(fw_ctx *x, dash_chart *dc, const char *id, const char *title, sv_chart_kind kind,
                   const char *x_title, const char *unit, int decimals, const char *const *names)
{
    dc->c.kind = kind;
    dc->c.id = id;
    dc->c.title = title;
    dc->c.x_title = x_title;
    dc->c.unit = unit;
    dc->c.decimals = decimals;
    dc->c.series_names = names;
    sv_buf_reset(&x->href);
    sv_puts(&x->href, "/dash/flywheel");
    char extra[32];
    snprintf(extra, sizeof extra, "csv=%s", id);
    dash_filter_query(&x->href, x->f, extra);
    dc->c.csv_href = sv_buf_cstr(&x->href);
}

/* A grid pivoted from (name, bucket, value) rows: rows = the first 8 names
 * (queue · field for the agreement heat, datasets for the growth lines),
 * columns = the buckets of the window (the throughput query's first
 * column); NULL and missing cells are NaN. */
typedef struct {
    const char *rows[SV_CHART_MAX_SERIES];
    const char *none[1]; /* the one series name when there are no rows */
    double *v;
    sv_chart c;
} heat_data;

static int heat_from(heat_data *h, PGresult *agree, PGresult *buckets, const char *none_name)
{
    int n = PQntuples(buckets), nrows = 0;
    memset(h, 0, sizeof *h);
    for (int i = 0; i < PQntuples(agree) && nrows < SV_CHART_MAX_SERIES; i++) {
        const char *name = PQgetvalue(agree, i, 0);
        if (nrows == 0 || strcmp(h->rows[nrows - 1], name) != 0)
            h->rows[nrows++] = name;
    }
    size_t cells = (size_t)(nrows ? nrows : 1) * (size_t)(n ? n : 1);
    h->v = malloc(cells * sizeof *h->v);
    if (!h->v)
        return -1;
    for (size_t k = 0; k < cells; k++)
        h->v[k] = NAN;
    for (int i = 0; i < PQntuples(agree); i++) {
        int row = -1, col = -1;
        for (int k = 0; k < nrows; k++)
            if (strcmp(h->rows[k], PQgetvalue(agree, i, 0)) == 0)
                row = k;
        for (int k = 0; k < n && row >= 0; k++)
            if (strcmp(PQgetvalue(buckets, k, 0), PQgetvalue(agree, i, 1)) == 0)
                col = k;
        if (row >= 0 && col >= 0)
            h->v[(size_t)row * (size_t)n + (size_t)col] =
                PQgetisnull(agree, i, 2) ? NAN : strtod(PQgetvalue(agree, i, 2), NULL);
    }
    h->c.n = n;
    h->c.nseries = nrows ? nrows : 1;
    h->none[0] = none_name;
    h->c.series_names = nrows ? h->rows : h->none;
    h->c.values = h->v;
    return 0;
}

enum {
    S_BACKLOG,
    S_THROUGHPUT,
    S_REVIEWERS,
    S_AGREEMENT,
    S_GOLD,
    S_COVERAGE,
    S_DATASETS,
    S_OPEN,
    S_GROWTH,
    N_S
};
/* Charts beyond one per section: the backlog query's age per queue and the
 * open query's age over time. */
enum { C_AGE = N_S, C_OPEN_AGE, N_C };

/* Which query each chart is drawn from, and the chart's CSV id. */
static const struct {
    const char *id;
    int src;
} chart_of[N_C] = {
    [S_BACKLOG] = {"backlog", S_BACKLOG},
    [S_THROUGHPUT] = {"throughput", S_THROUGHPUT},
    [S_REVIEWERS] = {"reviewers", S_REVIEWERS},
    [S_AGREEMENT] = {"agreement", S_AGREEMENT},
    [S_GOLD] = {"gold", S_GOLD},
    [S_COVERAGE] = {"coverage", S_COVERAGE},
    [S_DATASETS] = {"datasets", S_DATASETS},
    [S_OPEN] = {"open", S_OPEN},
    [S_GROWTH] = {"growth", S_GROWTH},
    [C_AGE] = {"age", S_BACKLOG},
    [C_OPEN_AGE] = {"open-age", S_OPEN},
};

int sv_page_dash_flywheel(sv_req *r)
{
    dash_filter f;
    if (dash_filter_read(r, &f, "30d") != 0)
        return 0;
    char csv[16];
    int csv_k = -1; /* a chart (C index) when ?csv= */
    int has_csv = sv_query(r, "csv", csv, sizeof csv);
    if (has_csv != 0) {
        for (int k = 0; has_csv > 0 && k < N_C; k++)
            if (strcmp(chart_of[k].id, csv) == 0)
                csv_k = k;
        if (csv_k < 0)
            return sv_error_page(r, 404, "Not found", "There is no such chart on this page.");
    }
    const char *p3[3] = {f.interval, f.end, f.bucket};
    static const char *const sqls[N_S] = {backlog_sql,   throughput_sql, reviewers_sql,
                                          agreement_sql, gold_sql,       coverage_sql,
                                          datasets_sql,  open_sql,       growth_sql};
    static const int nparams[N_S] = {0, 3, 2, 3, 0, 3, 0, 3, 3};
    PGresult *res[N_S] = {0};
    int denied[N_S] = {0}, all_denied = 1;
    for (int k = 0; k < N_S; k++) {
        /* the heat and the growth take their columns from the throughput's buckets */
        int need = csv_k == -1 || k == chart_of[csv_k].src ||
                   (k == S_THROUGHPUT && (csv_k == S_AGREEMENT || csv_k == S_GROWTH));
        if (!need)
            continue;
        res[k] = dash_section_exec(r, sqls[k], nparams[k], nparams[k] ? p3 : NULL, &denied[k]);
        if (!res[k] && !denied[k]) {
            for (int j = 0; j < k; j++)
                PQclear(res[j]);
            return 0;
        }
        if (res[k])
            all_denied = 0;
    }
    if (all_denied) {
        sv_error_page(r, 403, "Not allowed", "Your account is not allowed to do this.");
        return 0;
    }

    fw_ctx x = {.r = r, .f = &f};
    dash_chart dc[N_C];
    memset(dc, 0, sizeof dc);
    heat_data heat, growth;
    memset(&heat, 0, sizeof heat);
    memset(&growth, 0, sizeof growth);
    char titles[N_C][112];
    int ok = 1;
    static const int c_backlog[] = {1, 2, 3, 4, 5}, c_age[] = {6}, c_thr[] = {1, 2, 3},
                     c_rev[] = {1, 2}, c_gold[] = {1}, c_cov[] = {1, 2}, c_ds[] = {1},
                     c_open[] = {1}, c_open_age[] = {2};
    if (res[S_BACKLOG]) {
        ok &= dash_chart_from(&dc[S_BACKLOG], res[S_BACKLOG], 0, c_backlog, 5) == 0;
        ok &= dash_chart_from(&dc[C_AGE], res[S_BACKLOG], 0, c_age, 1) == 0;
        snprintf(titles[S_BACKLOG], sizeof titles[0], "Backlog per queue");
        snprintf(titles[C_AGE], sizeof titles[0], "Age of the oldest open item per queue");
        figure(&x, &dc[S_BACKLOG], "backlog", titles[S_BACKLOG], SV_CHART_STACKED, "queue", "items",
               0, backlog_names);
        figure(&x, &dc[C_AGE], "age", titles[C_AGE], SV_CHART_BAR, "queue", "hours", 2, age_names);
    }
    if (res[S_OPEN]) {
        ok &= dash_chart_from(&dc[S_OPEN], res[S_OPEN], 0, c_open, 1) == 0;
        ok &= dash_chart_from(&dc[C_OPEN_AGE], res[S_OPEN], 0, c_open_age, 1) == 0;
        snprintf(titles[S_OPEN], sizeof titles[0], "Open items over time, last %s", f.window);
        snprintf(titles[C_OPEN_AGE], sizeof titles[0],
                 "Age of the oldest open item over time, last %s", f.window);
        figure(&x, &dc[S_OPEN], "open", titles[S_OPEN], SV_CHART_LINE, f.bucket_name, "items", 0,
               open_names);
        figure(&x, &dc[C_OPEN_AGE], "open-age", titles[C_OPEN_AGE], SV_CHART_LINE, f.bucket_name,
               "hours", 2, open_age_names);
    }
    if (res[S_THROUGHPUT]) {
        ok &= dash_chart_from(&dc[S_THROUGHPUT], res[S_THROUGHPUT], 0, c_thr, 3) == 0;
        snprintf(titles[S_THROUGHPUT], sizeof titles[0], "Labels over time, last %s", f.window);
        figure(&x, &dc[S_THROUGHPUT], "throughput", titles[S_THROUGHPUT], SV_CHART_STACKED,
               f.bucket_name, "labels", 0, throughput_names);
    }
    if (res[S_REVIEWERS]) {
        ok &= dash_chart_from(&dc[S_REVIEWERS], res[S_REVIEWERS], 0, c_rev, 2) == 0;
        snprintf(titles[S_REVIEWERS], sizeof titles[0], "Labels per reviewer, last %s", f.window);
        figure(&x, &dc[S_REVIEWERS], "reviewers", titles[S_REVIEWERS], SV_CHART_STACKED, "reviewer",
               "labels", 0, reviewer_names);
    }
    if (res[S_AGREEMENT] && res[S_THROUGHPUT]) {
        ok &= heat_from(&heat, res[S_AGREEMENT], res[S_THROUGHPUT], "(no field)") == 0;
        dc[S_AGREEMENT].c = heat.c;
        dc[S_AGREEMENT].c.x_labels = dc[S_THROUGHPUT].c.x_labels;
        snprintf(titles[S_AGREEMENT], sizeof titles[0], "Agreement per field, last %s", f.window);
        figure(&x, &dc[S_AGREEMENT], "agreement", titles[S_AGREEMENT], SV_CHART_HEAT, f.bucket_name,
               "share of agreeing pairs", 2, dc[S_AGREEMENT].c.series_names);
    }
    if (res[S_GOLD]) {
        ok &= dash_chart_from(&dc[S_GOLD], res[S_GOLD], 0, c_gold, 1) == 0;
        snprintf(titles[S_GOLD], sizeof titles[0], "Gold accuracy per field");
        figure(&x, &dc[S_GOLD], "gold", titles[S_GOLD], SV_CHART_BAR, "queue · field", "share", 2,
               gold_names);
    }
    if (res[S_COVERAGE]) {
        ok &= dash_chart_from(&dc[S_COVERAGE], res[S_COVERAGE], 0, c_cov, 2) == 0;
        snprintf(titles[S_COVERAGE], sizeof titles[0], "Label coverage of generations, last %s",
                 f.window);
        figure(&x, &dc[S_COVERAGE], "coverage", titles[S_COVERAGE], SV_CHART_LINE, f.bucket_name,
               "share", 3, coverage_names);
    }
    if (res[S_DATASETS]) {
        ok &= dash_chart_from(&dc[S_DATASETS], res[S_DATASETS], 0, c_ds, 1) == 0;
        snprintf(titles[S_DATASETS], sizeof titles[0], "Dataset versions and their size");
        figure(&x, &dc[S_DATASETS], "datasets", titles[S_DATASETS], SV_CHART_BAR, "dataset version",
               "rows", 0, dataset_names);
    }
    if (res[S_GROWTH] && res[S_THROUGHPUT]) {
        ok &= heat_from(&growth, res[S_GROWTH], res[S_THROUGHPUT], "(no dataset)") == 0;
        dc[S_GROWTH].c = growth.c;
        dc[S_GROWTH].c.x_labels = dc[S_THROUGHPUT].c.x_labels;
        snprintf(titles[S_GROWTH], sizeof titles[0],
                 "Dataset growth (rows of the latest version), last %s", f.window);
        figure(&x, &dc[S_GROWTH], "growth", titles[S_GROWTH], SV_CHART_LINE, f.bucket_name, "rows",
               0, dc[S_GROWTH].c.series_names);
    }
    if (!ok) {
        r->out.oom = 1;
    } else if (csv_k != -1) {
        if (!res[chart_of[csv_k].src])
            sv_error_page(r, 403, "Not allowed", "Your account is not allowed to do this.");
        else
            dash_csv_answer(r, &dc[csv_k].c);
    } else {
        dash_page_begin(r, "The flywheel", "/dash/flywheel");
        sv_buf *b = &r->out;
        sv_puts(b, "<main class=\"dash\"><h1>The flywheel</h1>");
        dash_filter_form(r, &f, "/dash/flywheel", 0);
        sv_puts(b, "<p class=\"window\">Last ");
        sv_esc(b, f.window);
        sv_puts(b, " ending ");
        sv_esc(b, f.end[0] ? f.end : "now");
        sv_puts(b, "; times are UTC. Backlog per queue, gold accuracy and datasets are as of now; "
                   "open items over time are counted at the end of each bucket.</p>");
        static const struct {
            int k;
            const char *what;
        } order[] = {{S_BACKLOG, "Backlog per queue"},
                     {C_AGE, NULL},
                     {S_OPEN, "Backlog over time"},
                     {C_OPEN_AGE, NULL},
                     {S_THROUGHPUT, "Reviewer throughput"},
                     {S_REVIEWERS, NULL},
                     {S_AGREEMENT, "Agreement per field"},
                     {S_GOLD, "Gold accuracy"},
                     {S_COVERAGE, "Label coverage"},
                     {S_DATASETS, "Dataset versions"},
                     {S_GROWTH, NULL}};
        sv_puts(b, "<div class=\"charts\">");
        for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
            int k = order[i].k, src = chart_of[k].src;
            if (res[src] && (k != S_AGREEMENT || res[S_THROUGHPUT]) &&
                (k != S_GROWTH || res[S_THROUGHPUT]))
                sv_chart_figure(b, &dc[k].c);
            else if (order[i].what)
                dash_denied_note(r, order[i].what);
        }
        sv_puts(b, "</div></main>");
        sv_page_end(r);
    }
    for (int k = 0; k < N_C; k++) {
        if (k != S_AGREEMENT && k != S_GROWTH)
            dash_chart_free(&dc[k]);
    }
    free(heat.v);
    free(growth.v);
    sv_buf_free(&x.href);
    for (int k = 0; k < N_S; k++)
        PQclear(res[k]);
    return 0;
}
