/*
 * Shared parts of the dashboard pages (page_dash*.c): the time window and
 * filters read from the URL (so a view can be shared), charts filled from a
 * query result, and the CSV answer of one chart.
 *
 * Every dashboard query runs as the signed-in account's role like every
 * other page: the views' grants decide who sees what (docs/dashboards.md),
 * a refusal (42501) becomes 403.
 */
#ifndef FW_SERVE_DASH_H
#define FW_SERVE_DASH_H

#include "app.h"
#include "svg.h"

/* The filters of a dashboard URL: ?window=24h&end=...&model=...&provider=
 * ...&environment=...&release=...&project=...&by=model. Text values are
 * plain strings ("" = any). */
enum { DASH_F_MODEL, DASH_F_PROVIDER, DASH_F_ENV, DASH_F_RELEASE, DASH_F_PROJECT, DASH_NF };

typedef struct {
    const char *window;         /* "1h" "6h" "24h" "7d" "30d" */
    const char *default_window; /* the page's default (left out of links) */
    const char *interval;       /* the window as a PostgreSQL interval */
    const char *bucket;         /* the bucket width as a PostgreSQL interval */
    const char *bucket_name;    /* "5 minutes (UTC)" ... for the x axis */
    char end[48];               /* "" = now, else a timestamp with time zone */
    char f[DASH_NF][256];
    const char *by; /* the breakdown column (a fixed name, never user text) */
} dash_filter;

extern const char *const dash_filter_names[DASH_NF];

/* Reads and validates the window (default_window when absent), end,
 * filters and `by`. On an invalid value answers 400 and returns -1. */
int dash_filter_read(sv_req *r, dash_filter *f, const char *default_window);

/* Appends "window=..&end=..&model=.." (only the non-default values),
 * percent-encoded, to b; `extra` ("csv=traffic" or NULL) first. */
void dash_filter_query(sv_buf *b, const dash_filter *f, const char *extra);

/* The filter form (GET, to `action`): window and end, plus the filters
 * and the breakdown choice when flags say so. */
enum { DASH_FORM_FILTERS = 1, DASH_FORM_BY = 2 };
void dash_filter_form(sv_req *r, const dash_filter *f, const char *action, int flags);

/* A chart whose labels and values come from a query result: column
 * x_col gives the x labels, cols[k] series k (NULL → NaN). The labels point
 * into res, which must outlive the chart. Returns 0, or -1 on OOM. */
typedef struct {
    sv_chart c;
    const char **x;
    double *v;
} dash_chart;

int dash_chart_from(dash_chart *dc, PGresult *res, int x_col, const int *cols, int ncols);
void dash_chart_free(dash_chart *dc);

/* Answers with the chart's CSV (text/csv). */
void dash_csv_answer(sv_req *r, const sv_chart *c);

/* Runs a dashboard query; on failure answers (403 for 42501, 400 for an
 * invalid timestamp, else 500) and returns NULL. */
PGresult *dash_exec(sv_req *r, const char *sql, int n, const char *const *params);

/* Runs one section's query. Returns the result; NULL with *denied set when
 * PostgreSQL refused the account (42501: the section says so, the rest of
 * the page still shows); NULL with *denied clear after answering the
 * request for any other failure (the caller returns). */
PGresult *dash_section_exec(sv_req *r, const char *sql, int n, const char *const *params,
                            int *denied);

/* The note shown instead of a section the account may not read. */
void dash_denied_note(sv_req *r, const char *what);

/* The page frame with the dashboards' sub-navigation; `current` is the
 * path of this page. */
void dash_page_begin(sv_req *r, const char *title, const char *current);

/* The time filter every page over generation_facts uses: $1 the window (an
 * interval), $2 the end ('' = now), $3..$7 model, provider, environment,
 * release, project ('' = any), on the view aliased f. The bound on
 * event_time is a stable expression of the parameters, which each
 * partition's time index answers. */
#define DASH_END "coalesce(nullif($2, '')::timestamptz, now())"
#define DASH_WHERE                                                                                 \
    " f.event_time >= " DASH_END " - $1::interval AND f.event_time < " DASH_END                    \
    " AND ($3 = '' OR f.model = $3) AND ($4 = '' OR f.provider_name = $4)"                         \
    " AND ($5 = '' OR f.environment = $5) AND ($6 = '' OR f.release = $6)"                         \
    " AND ($7 = '' OR f.project = $7)"

/* ---- dash: quality, trace, ingest (dash_table.c, page_dash_quality.c,
 * page_dash_trace.c, page_dash_ingest.c) ---- */

/* A table of a query result that is not a chart (a list of conversations,
 * dead letters, partitions): column k of the table shows result column
 * cols[k] under headers[k]; when link_prefix is set, the cell of table
 * column link_at links to link_prefix followed by the percent-encoded value
 * of result column link_col. The same rows are its CSV. */
typedef struct {
    const char *id;      /* [a-z0-9-], unique on the page */
    const char *caption; /* plain text */
    int ncols;
    const char *const *headers;
    const int *cols;
    const char *link_prefix; /* e.g. "/dash/trace/", or NULL */
    int link_at, link_col;
    const char *csv_href; /* a safe relative URL, or NULL */
} dash_table;

/* Appends the <table> (a caption, a header row, one row per result row;
 * "–" for NULL; "none" in one row when there are none) and the CSV link. */
void dash_table_html(sv_buf *b, const dash_table *t, PGresult *res);

/* The same rows as CSV (RFC 4180, header row, "" for NULL). */
void dash_table_csv(sv_buf *b, const dash_table *t, PGresult *res);

/* 1 when s is a UUID in its text form (8-4-4-4-12 hex digits). */
int dash_uuid_shape(const char *s);

#endif
