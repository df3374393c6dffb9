/*
 * Charts as inline SVG built on the server, for the dashboards: lines,
 * bars and stacked bars over time buckets, with a y axis of round numbers
 * from zero, its unit, x labels, and a legend. No script, no inline style
 * (the CSP forbids both): colours come from classes (s0..s5 in app.css)
 * and every series also differs by something other than colour — a dash
 * pattern for lines, a hatch-free order and the legend's text for bars —
 * and every chart has a table of the same numbers beside it, built by the
 * page, so colour never carries meaning alone.
 *
 * Empty data draws the axes and a "no data" note; a single point of a
 * line is drawn as a dot. NaN values (a bucket without data for that
 * series) leave a gap in a line and no bar.
 */
#ifndef FW_SERVE_SVG_H
#define FW_SERVE_SVG_H

#include "buf.h"

#include <stddef.h>

typedef enum { SV_CHART_LINES = 0, SV_CHART_BARS, SV_CHART_STACKED } sv_chart_kind;

#define SV_CHART_MAX_SERIES 6

typedef struct {
    const char *name;     /* legend text */
    const double *values; /* n_points values; NAN = no data */
} sv_series;

typedef struct {
    sv_chart_kind kind;
    const char *title; /* accessible name of the <svg> */
    const char *unit;  /* shown on the y axis, e.g. "ms", "USD", "generations" */
    const char *const *labels; /* n_points x labels (bucket starts) */
    size_t n_points;
    const sv_series *series;
    size_t n_series;
} sv_chart;

/* The upper end of the y axis: the smallest 1, 2, 2.5 or 5 times a power of
 * ten that is >= max (1 when max <= 0), and the step between its 5 ticks. */
double sv_chart_nice_max(double max, double *step);

/* Appends the chart as <svg role="img" aria-label="title" ...>. */
void sv_chart_svg(sv_buf *b, const sv_chart *c);

#endif
