/*
 * Server-built SVG charts (see svg.h). Geometry in a fixed 640x250 view
 * box that CSS scales to the column's width: the plot area, a y axis of
 * five round ticks from zero with the unit, at most eight x labels, and a
 * legend row under the plot. Numbers go through %g-like formatting only;
 * every text goes through the one escaper.
 */
#include "svg.h"

#include "html.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define W 640.0
#define H 250.0
#define X0 64.0
#define X1 628.0
#define Y0 14.0
#define Y1 196.0

double sv_chart_nice_max(double max, double *step)
{
    if (!(max > 0) || !isfinite(max))
        max = 1;
    double p = pow(10, floor(log10(max)));
    static const double m[] = {1, 2, 2.5, 5, 10};
    double top = 10 * p;
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (m[i] * p >= max * (1 - 1e-12)) {
            top = m[i] * p;
            break;
        }
    if (step)
        *step = top / 5;
    return top;
}

/* A tick value: integers without decimals, else up to 3 significant
 * digits, with k/M for thousands and millions. */
static void tick_text(sv_buf *b, double v)
{
    double a = fabs(v);
    if (a >= 1e6)
        sv_printf(b, "%gM", round(v / 1e4) / 100);
    else if (a >= 1e4)
        sv_printf(b, "%gk", round(v / 10) / 100);
    else if (a == floor(a))
        sv_printf(b, "%.0f", v);
    else
        sv_printf(b, "%.3g", v);
}

static double x_of(const sv_chart *c, size_t i)
{
    if (c->kind == SV_CHART_LINES)
        return c->n_points < 2 ? (X0 + X1) / 2 : X0 + (X1 - X0) * (double)i / (double)(c->n_points - 1);
    double slot = (X1 - X0) / (double)(c->n_points ? c->n_points : 1);
    return X0 + slot * ((double)i + 0.5);
}

static double y_of(double v, double top)
{
    return Y1 - (Y1 - Y0) * (v / top);
}

/* The largest value the y axis must reach: the largest single value, or
 * the largest column sum when stacked. */
static double data_max(const sv_chart *c, int *any)
{
    double max = 0;
    *any = 0;
    for (size_t i = 0; i < c->n_points; i++) {
        double sum = 0;
        for (size_t s = 0; s < c->n_series; s++) {
            double v = c->series[s].values[i];
            if (isnan(v))
                continue;
            *any = 1;
            if (c->kind == SV_CHART_STACKED)
                sum += v > 0 ? v : 0;
            else if (v > max)
                max = v;
        }
        if (sum > max)
            max = sum;
    }
    return max;
}

static const char *const dashes[SV_CHART_MAX_SERIES] = {"", "6 3", "2 3", "8 3 2 3", "1 2",
                                                        "10 4"};

static void axes(sv_buf *b, const sv_chart *c, double top, double step)
{
    for (int k = 0; k <= 5; k++) {
        double v = step * k, y = y_of(v, top);
        sv_printf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", X0,
                  y, X1, y);
        sv_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", X0 - 6,
                  y + 4);
        tick_text(b, v);
        sv_puts(b, "</text>");
    }
    sv_printf(b, "<text class=\"unit\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"start\">", 4.0,
              Y0 - 2);
    sv_esc(b, c->unit);
    sv_puts(b, "</text>");
    sv_printf(b, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", X0, Y1,
              X1, Y1);
    size_t every = c->n_points > 8 ? (c->n_points + 7) / 8 : 1;
    for (size_t i = 0; i < c->n_points; i += every) {
        sv_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                  x_of(c, i), Y1 + 16);
        sv_esc(b, c->labels[i]);
        sv_puts(b, "</text>");
    }
}

static void legend(sv_buf *b, const sv_chart *c)
{
    double x = X0;
    for (size_t s = 0; s < c->n_series; s++) {
        if (c->kind == SV_CHART_LINES)
            sv_printf(b,
                      "<line class=\"s%zu\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                      "stroke-dasharray=\"%s\"/>",
                      s, x, H - 10, x + 22, H - 10, dashes[s]);
        else
            sv_printf(b, "<rect class=\"s%zu\" x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\"/>",
                      s, x, H - 16);
        sv_printf(b, "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\">", x + 28, H - 6);
        sv_esc(b, c->series[s].name);
        sv_puts(b, "</text>");
        x += 40 + 7.5 * (double)strlen(c->series[s].name);
    }
}

static void lines(sv_buf *b, const sv_chart *c, double top)
{
    for (size_t s = 0; s < c->n_series; s++) {
        const double *v = c->series[s].values;
        int open = 0;
        for (size_t i = 0; i < c->n_points; i++) {
            if (isnan(v[i])) {
                if (open)
                    sv_puts(b, "\"/>");
                open = 0;
                continue;
            }
            int alone = (i == 0 || isnan(v[i - 1])) && (i + 1 == c->n_points || isnan(v[i + 1]));
            if (alone) {
                sv_printf(b, "<circle class=\"s%zu\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>", s,
                          x_of(c, i), y_of(v[i], top));
                continue;
            }
            if (!open)
                sv_printf(b, "<polyline class=\"s%zu\" fill=\"none\" stroke-dasharray=\"%s\" "
                             "points=\"",
                          s, dashes[s]);
            sv_printf(b, "%s%.1f,%.1f", open ? " " : "", x_of(c, i), y_of(v[i], top));
            open = 1;
        }
        if (open)
            sv_puts(b, "\"/>");
    }
}

static void bars(sv_buf *b, const sv_chart *c, double top)
{
    double slot = (X1 - X0) / (double)c->n_points;
    double gap = slot > 6 ? slot * 0.15 : 0;
    for (size_t i = 0; i < c->n_points; i++) {
        double base = 0;
        size_t ns = c->n_series;
        for (size_t s = 0; s < ns; s++) {
            double v = c->series[s].values[i];
            if (isnan(v) || v <= 0)
                continue;
            double x, w;
            if (c->kind == SV_CHART_STACKED) {
                x = X0 + slot * (double)i + gap / 2;
                w = slot - gap;
            } else {
                w = (slot - gap) / (double)ns;
                x = X0 + slot * (double)i + gap / 2 + w * (double)s;
            }
            double lo = c->kind == SV_CHART_STACKED ? base : 0;
            double y = y_of(lo + v, top), h = y_of(lo, top) - y;
            sv_printf(b, "<rect class=\"s%zu\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                         "height=\"%.2f\"><title>",
                      s, x, y, w > 0.5 ? w : 0.5, h);
            sv_esc(b, c->series[s].name);
            sv_puts(b, " ");
            sv_esc(b, c->labels[i]);
            sv_printf(b, ": %g</title></rect>", v);
            base += v;
        }
    }
}

void sv_chart_svg(sv_buf *b, const sv_chart *c)
{
    int any;
    double step, top = sv_chart_nice_max(data_max(c, &any), &step);
    sv_printf(b, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"", W,
              H);
    sv_esc(b, c->title);
    sv_puts(b, "\"><title>");
    sv_esc(b, c->title);
    sv_puts(b, "</title>");
    axes(b, c, top, step);
    if (!any || c->n_points == 0) {
        sv_printf(b, "<text class=\"nodata\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">no data "
                     "in this window</text>",
                  (X0 + X1) / 2, (Y0 + Y1) / 2);
    } else if (c->kind == SV_CHART_LINES) {
        lines(b, c, top);
    } else {
        bars(b, c, top);
    }
    legend(b, c);
    sv_puts(b, "</svg>");
}
