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
    const char *window;   /* "1h" "6h" "24h" "7d" "30d" */
    const char *interval; /* the window as a PostgreSQL interval */
    const char *bucket;   /* the bucket width as a PostgreSQL interval */
    const char *bucket_name; /* "5 minutes (UTC)" ... for the x axis */
    char end[48];         /* "" = now, else a timestamp with time zone */
    char f[DASH_NF][256];
    const char *by;       /* the breakdown column (a fixed name, never user text) */
} dash_filter;

extern const char *const dash_filter_names[DASH_NF];

/* Reads and validates the window, end, filters and `by`. On an invalid
 * value answers 400 and returns -1. */
int dash_filter_read(sv_req *r, dash_filter *f);

/* Appends "window=..&end=..&model=.." (only the non-default values),
 * percent-encoded, to b; `extra` ("csv=traffic" or NULL) first. */
void dash_filter_query(sv_buf *b, const dash_filter *f, const char *extra);

/* The filter form (GET, to `action`), with the window choices. */
void dash_filter_form(sv_req *r, const dash_filter *f, const char *action, int with_by);

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

/* The page frame with the dashboards' sub-navigation; `current` is the
 * path of this page. */
void dash_page_begin(sv_req *r, const char *title, const char *current);

#endif
