/*
 * Dashboards: quality and feedback (/dash/quality). What an engineer looks
 * at after shipping a new prompt: thumbs-up rate, feedback coverage, mean
 * score, feedback events and corrections over time; the same numbers side
 * by side per release and per prompt template · version (the before/after
 * comparison); errors by type; and the slowest and most expensive
 * conversations of the window, each opening the read-only trace view
 * (page_dash_trace.c).
 *
 * Feedback numbers come from flywheel.feedback_facts bounded by the
 * feedback's own event_time (feedback_time_idx) and sliced by the model,
 * provider and release of the generation it judges; coverage, errors and
 * conversations from flywheel.generation_facts bounded by the generation's
 * event_time (each partition's time index). The filters mean the same on
 * both: a feedback event counts for model M when its generation is M's.
 * Access is PostgreSQL's: both views are granted to flywheel_reader and
 * flywheel_admin only.
 */
#include "dash.h"

#include <stdlib.h>
#include <string.h>

#define Q_ORIGIN "timestamptz '2000-01-01 00:00:00+00'"

/* The same filters on feedback_facts (aliased f): the feedback's time, the
 * generation's slice. */
#define FB_WHERE                                                                                   \
    " f.event_time >= " DASH_END " - $1::interval AND f.event_time < " DASH_END                    \
    " AND ($3 = '' OR f.model = $3) AND ($4 = '' OR f.provider_name = $4)"                         \
    " AND ($5 = '' OR f.environment = $5) AND ($6 = '' OR f.release = $6)"                         \
    " AND ($7 = '' OR f.project = $7)"

/* $1..$7 as DASH_WHERE, $8 the bucket. Columns: 0 bucket, 1 thumbs-up
 * rate, 2 feedback coverage, 3 mean score, 4 feedback events, 5 thumbs,
 * 6 corrections. */
static const char series_sql[] =
    "WITH b AS (SELECT generate_series(date_bin($8::interval, " DASH_END
    " - $1::interval, " Q_ORIGIN "), " DASH_END " - interval '1 microsecond', $8::interval) AS t),"
    " g AS (SELECT date_bin($8::interval, f.event_time, " Q_ORIGIN ") AS t,"
    "   round(avg(f.has_feedback::int)::numeric, 3) AS cov"
    "  FROM flywheel.generation_facts f WHERE" DASH_WHERE " GROUP BY 1),"
    " fb AS (SELECT date_bin($8::interval, f.event_time, " Q_ORIGIN ") AS t,"
    "   round(avg(f.thumbs_up)::numeric, 3) AS up,"
    "   round((avg(f.number_value) FILTER (WHERE f.value_type = 'number'))::numeric, 2) AS score,"
    "   count(*) AS n, count(f.thumbs_up) AS thumbs,"
    "   count(*) FILTER (WHERE f.has_correction) AS corr"
    "  FROM flywheel.feedback_facts f WHERE" FB_WHERE " GROUP BY 1)"
    " SELECT to_char(b.t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), fb.up, g.cov, fb.score,"
    "        coalesce(fb.n, 0), coalesce(fb.thumbs, 0), coalesce(fb.corr, 0)"
    " FROM b LEFT JOIN g USING (t) LEFT JOIN fb USING (t) ORDER BY b.t";

/* The comparison: %s is the slice key (a fixed expression over alias f,
 * the same columns on both views). Columns: 0 key, 1 thumbs-up rate,
 * 2 feedback coverage, 3 error rate, 4 mean score, 5 generations,
 * 6 feedback events, 7 corrections. */
static const char compare_sql[] =
    "WITH g AS (SELECT %s AS k, count(*) AS n,"
    "   round(avg(f.has_feedback::int)::numeric, 3) AS cov,"
    "   round(avg(f.is_error::int)::numeric, 3) AS err"
    "  FROM flywheel.generation_facts f WHERE" DASH_WHERE " GROUP BY 1),"
    " fb AS (SELECT %s AS k, count(*) AS n, round(avg(f.thumbs_up)::numeric, 3) AS up,"
    "   round((avg(f.number_value) FILTER (WHERE f.value_type = 'number'))::numeric, 2) AS score,"
    "   count(*) FILTER (WHERE f.has_correction) AS corr"
    "  FROM flywheel.feedback_facts f WHERE" FB_WHERE " GROUP BY 1)"
    " SELECT k, fb.up, g.cov, g.err, fb.score, coalesce(g.n, 0), coalesce(fb.n, 0),"
    "        coalesce(fb.corr, 0)"
    " FROM g FULL JOIN fb USING (k) ORDER BY k LIMIT 20";

static const char key_release[] = "coalesce(nullif(f.release, ''), '(none)')";
static const char key_prompt[] = "CASE WHEN f.prompt_template = '' AND f.prompt_version = ''"
                                 " THEN '(none)' ELSE f.prompt_template || ' v' ||"
                                 " f.prompt_version END";

/* Columns: 0 error type, 1 errors, 2 share of the window's errors. */
static const char errors_sql[] =
    "SELECT f.error_type, count(*), round(count(*)::numeric / sum(count(*)) OVER (), 3)"
    " FROM flywheel.generation_facts f WHERE" DASH_WHERE " AND f.is_error"
    " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20";

/* The conversations of the window (conversation id, else trace id, else
 * the generation alone); %s orders them. Columns: 0 the first generation's
 * event id (the trace view's anchor), 1 conversation, 2 generations,
 * 3 total duration ms, 4 slowest call ms, 5 cost USD, 6 models, 7 first
 * generation (UTC), 8 errors. */
static const char convs_sql[] =
    "SELECT (array_agg(f.event_id::text ORDER BY f.event_time, f.event_id))[1],"
    "       coalesce(f.conversation_id, f.trace_id, f.event_id::text) AS k, count(*),"
    "       round(sum(f.duration_ms)::numeric, 1), round(max(f.duration_ms)::numeric, 1),"
    "       round(coalesce(sum(f.cost_micro_usd), 0) / 1e6, 4),"
    "       string_agg(DISTINCT f.model, ', '),"
    "       to_char(min(f.event_time) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
    "       count(*) FILTER (WHERE f.is_error)"
    " FROM flywheel.generation_facts f WHERE" DASH_WHERE
    " GROUP BY 2 ORDER BY %s DESC NULLS LAST, 2"
    " LIMIT 10";

enum { Q_SERIES, Q_RELEASE, Q_PROMPT, Q_ERRORS, Q_SLOW, Q_COST, N_Q };

typedef struct {
    const char *id, *title, *unit, *x_title; /* x_title NULL: the bucket */
    sv_chart_kind kind;
    int decimals;
    int src; /* Q_* */
    int cols[3];
    int ncols;
    const char *names[3];
} q_chart;

static const q_chart charts[] = {
    {"thumbs",
     "Thumbs-up rate and feedback coverage",
     "share",
     NULL,
     SV_CHART_LINE,
     3,
     Q_SERIES,
     {1, 2},
     2,
     {"thumbs-up rate", "feedback coverage"}},
    {"score", "Mean score", "score", NULL, SV_CHART_LINE, 2, Q_SERIES, {3}, 1, {"mean score"}},
    {"feedback",
     "Feedback events and corrections",
     "events",
     NULL,
     SV_CHART_BAR,
     0,
     Q_SERIES,
     {4, 5, 6},
     3,
     {"feedback", "thumbs", "corrections"}},
    {"release",
     "Quality by release",
     "share",
     "release",
     SV_CHART_BAR,
     3,
     Q_RELEASE,
     {1, 2, 3},
     3,
     {"thumbs-up rate", "feedback coverage", "error rate"}},
    {"release-score",
     "Mean score by release",
     "score",
     "release",
     SV_CHART_BAR,
     2,
     Q_RELEASE,
     {4},
     1,
     {"mean score"}},
    {"release-volume",
     "Generations, feedback and corrections by release",
     "events",
     "release",
     SV_CHART_BAR,
     0,
     Q_RELEASE,
     {5, 6, 7},
     3,
     {"generations", "feedback", "corrections"}},
    {"prompt",
     "Quality by prompt version",
     "share",
     "prompt template · version",
     SV_CHART_BAR,
     3,
     Q_PROMPT,
     {1, 2, 3},
     3,
     {"thumbs-up rate", "feedback coverage", "error rate"}},
    {"prompt-score",
     "Mean score by prompt version",
     "score",
     "prompt template · version",
     SV_CHART_BAR,
     2,
     Q_PROMPT,
     {4},
     1,
     {"mean score"}},
    {"prompt-volume",
     "Generations, feedback and corrections by prompt version",
     "events",
     "prompt template · version",
     SV_CHART_BAR,
     0,
     Q_PROMPT,
     {5, 6, 7},
     3,
     {"generations", "feedback", "corrections"}},
    {"errors",
     "Errors by type",
     "errors",
     "error type",
     SV_CHART_BAR,
     0,
     Q_ERRORS,
     {1},
     1,
     {"errors"}},
};
#define N_CHARTS ((int)(sizeof charts / sizeof charts[0]))

static const char *const conv_headers[] = {
    "conversation", "generations", "total duration (ms)",   "slowest call (ms)", "cost (USD)",
    "errors",       "models",      "first generation (UTC)"};
static const int conv_cols[] = {1, 2, 3, 4, 5, 8, 6, 7};

static const struct {
    const char *id, *caption;
    int src;
} lists[] = {
    {"slowest", "Slowest conversations (total duration of their calls)", Q_SLOW},
    {"costliest", "Most expensive conversations", Q_COST},
};
#define N_LISTS ((int)(sizeof lists / sizeof lists[0]))

typedef struct {
    const dash_filter *f;
    sv_buf href;
    char title[128];
} q_ctx;

static const char *csv_link(q_ctx *x, const char *id)
{
    char extra[48];
    snprintf(extra, sizeof extra, "csv=%s", id);
    sv_buf_reset(&x->href);
    sv_puts(&x->href, "/dash/quality");
    dash_filter_query(&x->href, x->f, extra);
    return sv_buf_cstr(&x->href);
}

/* Fills *dc for chart k from res. */
static int fill_chart(q_ctx *x, int k, PGresult *res, dash_chart *dc)
{
    const q_chart *q = &charts[k];
    memset(dc, 0, sizeof *dc);
    if (dash_chart_from(dc, res, 0, q->cols, q->ncols) != 0)
        return -1;
    snprintf(x->title, sizeof x->title, "%s, last %s", q->title, x->f->window);
    dc->c.kind = q->kind;
    dc->c.id = q->id;
    dc->c.title = x->title;
    dc->c.x_title = q->x_title ? q->x_title : x->f->bucket_name;
    dc->c.unit = q->unit;
    dc->c.decimals = q->decimals;
    dc->c.series_names = q->names;
    dc->c.csv_href = csv_link(x, q->id);
    return 0;
}

static void list_table(q_ctx *x, int l, dash_table *t)
{
    memset(t, 0, sizeof *t);
    t->id = lists[l].id;
    t->caption = lists[l].caption;
    t->ncols = (int)(sizeof conv_cols / sizeof conv_cols[0]);
    t->headers = conv_headers;
    t->cols = conv_cols;
    t->link_prefix = "/dash/trace/";
    t->link_at = 0;
    t->link_col = 0;
    t->csv_href = csv_link(x, lists[l].id);
}

/* Runs query q into res[q]; the SQL is built from a fixed template and
 * fixed expressions only. Returns 0, or -1 after answering the request. */
static int run(sv_req *r, int q, const char *const *params, PGresult **res)
{
    char sql[4096];
    int np = 7;
    switch (q) {
    case Q_SERIES:
        snprintf(sql, sizeof sql, "%s", series_sql);
        np = 8;
        break;
    case Q_RELEASE:
    case Q_PROMPT: {
        const char *key = q == Q_RELEASE ? key_release : key_prompt;
        snprintf(sql, sizeof sql, compare_sql, key, key);
        break;
    }
    case Q_ERRORS:
        snprintf(sql, sizeof sql, "%s", errors_sql);
        break;
    default:
        snprintf(sql, sizeof sql, convs_sql,
                 q == Q_SLOW ? "sum(f.duration_ms)" : "sum(f.cost_micro_usd)");
        break;
    }
    res[q] = dash_exec(r, sql, np, params);
    return res[q] ? 0 : -1;
}

static void render(sv_req *r, q_ctx *x, PGresult **res)
{
    const dash_filter *f = x->f;
    sv_buf *b = &r->out;
    /* totals of the window, from the buckets */
    double nf = 0, corr = 0;
    for (int i = 0; i < PQntuples(res[Q_SERIES]); i++) {
        nf += strtod(PQgetvalue(res[Q_SERIES], i, 4), NULL);
        corr += strtod(PQgetvalue(res[Q_SERIES], i, 6), NULL);
    }
    dash_page_begin(r, "Quality and feedback", "/dash/quality");
    sv_puts(b, "<main class=\"dash\"><h1>Quality and feedback</h1>");
    dash_filter_form(r, f, "/dash/quality", DASH_FORM_FILTERS);
    sv_puts(b, "<p class=\"window\">Last ");
    sv_esc(b, f->window);
    sv_puts(b, " ending ");
    sv_esc(b, f->end[0] ? f->end : "now");
    sv_puts(b, "; times are UTC. Feedback counts in the bucket of its own time and in the slice "
               "(model, release, prompt) of the generation it judges; <em>feedback coverage</em> "
               "is the share of generations that received any feedback.</p>");
    sv_printf(b,
              "<dl class=\"tiles\"><div><dt>Feedback events</dt><dd id=\"tile-feedback\">%.0f</dd>"
              "</div><div><dt>Corrections</dt><dd id=\"tile-corrections\">%.0f</dd></div></dl>",
              nf, corr);
    static const struct {
        int before; /* chart index that opens a section */
        const char *h2;
    } sections[] = {
        {0, "Over time"}, {3, "By release"}, {6, "By prompt version"}, {9, "Errors by type"}};
    dash_chart dc;
    for (int k = 0; k < N_CHARTS; k++) {
        for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++) {
            if (sections[s].before == k) {
                if (k)
                    sv_puts(b, "</div>");
                sv_printf(b, "<h2>%s</h2><div class=\"charts\">", sections[s].h2);
            }
        }
        if (fill_chart(x, k, res[charts[k].src], &dc) != 0) {
            b->oom = 1;
            break;
        }
        sv_chart_figure(b, &dc.c);
        dash_chart_free(&dc);
    }
    sv_puts(b, "</div><h2>Conversations</h2><p>Each conversation opens its trace: the messages, "
               "tool calls, timing, feedback and labels.</p><div class=\"lists\">");
    for (int l = 0; l < N_LISTS; l++) {
        dash_table t;
        list_table(x, l, &t);
        dash_table_html(b, &t, res[lists[l].src]);
    }
    sv_puts(b, "</div></main>");
    sv_page_end(r);
}

int sv_page_dash_quality(sv_req *r)
{
    dash_filter f;
    if (dash_filter_read(r, &f, "24h") != 0)
        return 0;
    /* ?csv=: one chart or list, and only the query behind it */
    char csv[24];
    int csv_chart = -1, csv_list = -1;
    int has_csv = sv_query(r, "csv", csv, sizeof csv);
    if (has_csv != 0) {
        for (int k = 0; has_csv > 0 && k < N_CHARTS; k++)
            if (strcmp(charts[k].id, csv) == 0)
                csv_chart = k;
        for (int l = 0; has_csv > 0 && l < N_LISTS; l++)
            if (strcmp(lists[l].id, csv) == 0)
                csv_list = l;
        if (csv_chart < 0 && csv_list < 0)
            return sv_error_page(r, 404, "Not found", "There is no such chart on this page.");
    }
    const char *params[8] = {f.interval, f.end};
    for (int i = 0; i < DASH_NF; i++)
        params[2 + i] = f.f[i];
    params[7] = f.bucket;
    PGresult *res[N_Q] = {0};
    int rc = 0;
    for (int q = 0; q < N_Q && rc == 0; q++) {
        int need = has_csv == 0 || (csv_chart >= 0 && charts[csv_chart].src == q) ||
                   (csv_list >= 0 && lists[csv_list].src == q);
        if (need)
            rc = run(r, q, params, res);
    }
    q_ctx x = {.f = &f};
    if (rc != 0) {
        /* answered by dash_exec */
    } else if (csv_chart >= 0) {
        dash_chart dc;
        if (fill_chart(&x, csv_chart, res[charts[csv_chart].src], &dc) == 0) {
            dash_csv_answer(r, &dc.c);
            dash_chart_free(&dc);
        } else {
            r->out.oom = 1;
        }
    } else if (csv_list >= 0) {
        dash_table t;
        list_table(&x, csv_list, &t);
        sv_buf_reset(&r->out);
        r->ctype = "text/csv; charset=utf-8";
        dash_table_csv(&r->out, &t, res[lists[csv_list].src]);
    } else {
        render(r, &x, res);
    }
    sv_buf_free(&x.href);
    for (int q = 0; q < N_Q; q++)
        PQclear(res[q]);
    return 0;
}
