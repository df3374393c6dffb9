/*
 * Charts of the dashboards, drawn on the server as inline SVG (no script,
 * no inline style: colours and patterns come from classes in
 * static/dash.css, so the strict CSP holds).
 *
 * A chart is a grid of numbers: n points along x (time buckets or
 * categories, each with a text label) by `nseries` series. It is drawn as
 * lines (one per series, each with its own marker shape and dash pattern),
 * bars (series side by side), stacked bars (series on top of each other,
 * each with its own fill pattern) or a heat grid (rows = series, columns =
 * points, the value printed in every cell). Colour is never the only
 * carrier: series are named in a legend, lines differ by marker and dash,
 * stacked segments by pattern, heat cells show their number.
 *
 * Every chart is a <figure> with the SVG (role="img", a <title> and
 * aria-labelledby naming it), a <table> of the same numbers and, when given,
 * a CSV link to the same query. A missing value (NaN) is a gap in a line,
 * no bar, an empty heat cell and "–" in the table. No points at all draws
 * the axes frame with "No data in this window"; a single point draws one
 * marker (or one bar) in the middle.
 *
 * All text (titles, labels, series names) is escaped here; the caller
 * passes plain text.
 */
#ifndef FW_SERVE_SVG_H
#define FW_SERVE_SVG_H

#include "buf.h"

typedef enum { SV_CHART_LINE, SV_CHART_BAR, SV_CHART_STACKED, SV_CHART_HEAT } sv_chart_kind;

#define SV_CHART_MAX_SERIES 8

typedef struct {
    sv_chart_kind kind;
    const char *id;                  /* unique on the page: [a-z0-9-] (element ids, CSV name) */
    const char *title;               /* the accessible name, e.g. "Latency percentiles (ms)" */
    const char *x_title;             /* e.g. "hour (UTC)", "model" */
    const char *unit;                /* y unit: "ms", "USD", "generations", "share" */
    int decimals;                    /* digits after the point in the table and tick labels */
    int n;                           /* points along x */
    const char *const *x_labels;     /* n labels */
    int nseries;                     /* 1..SV_CHART_MAX_SERIES */
    const char *const *series_names; /* nseries names */
    const double *values;            /* nseries * n, series-major: values[s * n + i] */
    const char *csv_href;            /* already a safe relative URL, or NULL */
} sv_chart;

/* Appends the <figure>: SVG, legend, table and CSV link. A chart whose
 * shape is invalid (nseries out of range, n < 0, missing arrays) is drawn
 * as a figure saying so instead of failing the page. */
void sv_chart_figure(sv_buf *b, const sv_chart *c);

/* The SVG alone. */
void sv_chart_svg(sv_buf *b, const sv_chart *c);

/* The <table> alone: a header row (x_title, then the series names with the
 * unit) and one row per point. */
void sv_chart_table(sv_buf *b, const sv_chart *c);

/* The same numbers as CSV (RFC 4180, header row, "" for a missing value,
 * numbers with c->decimals digits). */
void sv_chart_csv(sv_buf *b, const sv_chart *c);

/* Appends v with `decimals` digits after the point ("–" for NaN in HTML,
 * see sv_chart_table; this writes "" for NaN). */
void sv_fmt_num(sv_buf *b, double v, int decimals);

/* A "nice" axis maximum at or above v (1, 2, 2.5 or 5 times a power of
 * ten); 1 when v <= 0 or not finite. */
double sv_nice_max(double v);

#endif
