/*
 * Server-side SVG charts (see svg.h). Geometry is in a fixed viewBox that
 * the stylesheet scales to the width of the page, so a chart reads the same
 * at 1280x800 and on a phone; axis text is aria-hidden because the table
 * under the chart carries the numbers for assistive technology.
 */
#include "svg.h"

#include "html.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define W  640.0
#define H  260.0
#define PL 64.0 /* plot area: left, right, top, bottom margins */
#define PR 16.0
#define PT 14.0
#define PB 46.0

void sv_fmt_num(sv_buf *b, double v, int decimals)
{
    if (isnan(v))
        return;
    if (decimals < 0)
        decimals = 0;
    if (decimals > 6)
        decimals = 6;
    if (v == 0)
        v = 0; /* no "-0" */
    sv_printf(b, "%.*f", decimals, v);
}

double sv_nice_max(double v)
{
    if (!(v > 0) || !isfinite(v))
        return 1;
    double p = pow(10, floor(log10(v)));
    static const double steps[] = {1, 2, 2.5, 5, 10};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (steps[i] * p >= v * (1 - 1e-12))
            return steps[i] * p;
    }
    return 10 * p;
}

static int shape_ok(const sv_chart *c)
{
    return c && c->id && c->title && c->n >= 0 && c->nseries >= 1 &&
           c->nseries <= SV_CHART_MAX_SERIES && (c->n == 0 || (c->x_labels && c->values)) &&
           c->series_names;
}

static double val(const sv_chart *c, int s, int i)
{
    return c->values[(size_t)s * (size_t)c->n + (size_t)i];
}

/* Tick labels: the shortest form of the value, with k/M when large. */
static void tick_label(sv_buf *b, double v)
{
    if (fabs(v) >= 1e6)
        sv_printf(b, "%gM", v / 1e6);
    else if (fabs(v) >= 1e4)
        sv_printf(b, "%gk", v / 1e3);
    else
        sv_printf(b, "%g", v);
}

/* How many intervals the y axis has: 4, but whole numbers for a count
 * (decimals 0): 5 when 4 does not divide the maximum, fewer for 1 or 2. */
static int y_ticks(double ymax, int decimals)
{
    if (decimals > 0 || fmod(ymax, 4) == 0)
        return 4;
    if (fmod(ymax, 5) == 0)
        return 5;
    return ymax < 4 && ymax >= 1 ? (int)ymax : 4;
}

/* An x label "YYYY-MM-DD HH:MM" is drawn as the time on one line and the
 * date under it where the date changes (only the date for daily buckets);
 * other labels as they are. */
static int is_stamp(const char *s)
{
    return s && strlen(s) == 16 && s[4] == '-' && s[7] == '-' && s[10] == ' ' && s[13] == ':';
}

static void x_label(sv_buf *b, const sv_chart *c, int i, int step, double x, double y)
{
    const char *s = c->x_labels[i] ? c->x_labels[i] : "";
    sv_printf(b, "<text class=\"xtick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, y);
    if (!is_stamp(s)) {
        sv_esc(b, s);
    } else {
        int daily = 1;
        for (int k = 0; k < c->n; k++)
            if (!is_stamp(c->x_labels[k]) || strcmp(c->x_labels[k] + 11, "00:00") != 0)
                daily = 0;
        const char *prev = i >= step ? c->x_labels[i - step] : NULL;
        int new_day = !prev || !is_stamp(prev) || strncmp(prev, s, 10) != 0;
        if (daily) {
            sv_put(b, s + 5, 5);
        } else {
            sv_put(b, s + 11, 5);
            if (new_day) {
                sv_printf(b, "<tspan x=\"%.1f\" dy=\"12\">", x);
                sv_put(b, s + 5, 5);
                sv_puts(b, "</tspan>");
            }
        }
    }
    sv_puts(b, "</text>");
}

/* Which x labels are printed: at most about 8, evenly spaced, always the
 * first. */
static int x_label_step(int n)
{
    int step = (n + 7) / 8;
    return step < 1 ? 1 : step;
}

static void title_and_defs(sv_buf *b, const sv_chart *c, double h)
{
    sv_printf(b,
              "<svg class=\"chart chart-%s\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
              "aria-labelledby=\"%s-t\" preserveAspectRatio=\"xMinYMin meet\">",
              c->kind == SV_CHART_LINE      ? "line"
              : c->kind == SV_CHART_BAR     ? "bar"
              : c->kind == SV_CHART_STACKED ? "stacked"
                                            : "heat",
              W, h, c->id);
    sv_puts(b, "<title id=\"");
    sv_esc(b, c->id);
    sv_puts(b, "-t\">");
    sv_esc(b, c->title);
    sv_puts(b, "</title>");
    /* Fill patterns for bars: series k gets pattern k (solid, hatched,
     * dotted, crossed ...), drawn in the series' colour by class. */
    sv_puts(b, "<defs>");
    for (int s = 0; s < c->nseries; s++) {
        sv_printf(b,
                  "<pattern id=\"%s-p%d\" class=\"pat s%d\" patternUnits=\"userSpaceOnUse\" "
                  "width=\"6\" height=\"6\">",
                  c->id, s, s);
        sv_puts(b, "<rect class=\"pat-bg\" width=\"6\" height=\"6\"/>");
        switch (s % 4) {
        case 1:
            sv_puts(b, "<path class=\"pat-fg\" d=\"M0,6 L6,0\"/>");
            break;
        case 2:
            sv_puts(b, "<circle class=\"pat-dot\" cx=\"3\" cy=\"3\" r=\"1.2\"/>");
            break;
        case 3:
            sv_puts(b, "<path class=\"pat-fg\" d=\"M0,3 H6 M3,0 V6\"/>");
            break;
        default:
            break;
        }
        sv_puts(b, "</pattern>");
    }
    sv_puts(b, "</defs>");
}

static double ymax_of(const sv_chart *c)
{
    double m = 0;
    for (int i = 0; i < c->n; i++) {
        double stack = 0;
        for (int s = 0; s < c->nseries; s++) {
            double v = val(c, s, i);
            if (isnan(v) || !isfinite(v))
                continue;
            if (c->kind == SV_CHART_STACKED)
                stack += v > 0 ? v : 0;
            else if (v > m)
                m = v;
        }
        if (stack > m)
            m = stack;
    }
    return sv_nice_max(m);
}

static void axes(sv_buf *b, const sv_chart *c, double ymax)
{
    double pw = W - PL - PR, ph = H - PT - PB;
    sv_puts(b, "<g class=\"axis\" aria-hidden=\"true\">");
    int ticks = y_ticks(ymax, c->decimals);
    for (int k = 0; k <= ticks; k++) {
        double v = ymax * k / ticks;
        double y = PT + ph - ph * k / ticks;
        sv_printf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", PL,
                  y, PL + pw, y);
        sv_printf(b, "<text class=\"ytick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", PL - 6,
                  y + 4);
        tick_label(b, v);
        sv_puts(b, "</text>");
    }
    sv_printf(b, "<line class=\"frame\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", PL, PT,
              PL, PT + ph);
    sv_printf(b, "<line class=\"frame\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", PL,
              PT + ph, PL + pw, PT + ph);
    /* unit on the y axis, x title under the labels */
    sv_printf(b,
              "<text class=\"unit\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
              "transform=\"rotate(-90 %.1f %.1f)\">",
              12.0, PT, 12.0, PT);
    sv_esc(b, c->unit ? c->unit : "");
    sv_puts(b, "</text>");
    sv_printf(b, "<text class=\"xtitle\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
              PL + pw / 2, H - 4);
    sv_esc(b, c->x_title ? c->x_title : "");
    sv_puts(b, "</text>");
    if (c->n > 0) {
        int step = x_label_step(c->n);
        double slot = pw / c->n;
        for (int i = 0; i < c->n; i += step)
            x_label(b, c, i, step, PL + slot * (i + 0.5), PT + ph + 14);
    }
    sv_puts(b, "</g>");
}

static const char *markers[] = {"circle", "square", "triangle", "diamond"};

static void marker(sv_buf *b, int s, double x, double y)
{
    switch (s % 4) {
    case 1:
        sv_printf(b, "<rect class=\"mk s%d\" x=\"%.1f\" y=\"%.1f\" width=\"6\" height=\"6\"/>", s,
                  x - 3, y - 3);
        break;
    case 2:
        sv_printf(b, "<path class=\"mk s%d\" d=\"M%.1f,%.1f l3.5,6 h-7 z\"/>", s, x, y - 4);
        break;
    case 3:
        sv_printf(b, "<path class=\"mk s%d\" d=\"M%.1f,%.1f l4,4 l-4,4 l-4,-4 z\"/>", s, x, y - 4);
        break;
    default:
        sv_printf(b, "<circle class=\"mk s%d\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>", s, x, y);
        break;
    }
}

static void plot_lines(sv_buf *b, const sv_chart *c, double ymax)
{
    double pw = W - PL - PR, ph = H - PT - PB, slot = pw / c->n;
    for (int s = 0; s < c->nseries; s++) {
        sv_printf(b, "<g class=\"series s%d\" aria-hidden=\"true\">", s);
        /* one path, "M" after every gap */
        int pen = 0, any = 0;
        sv_buf d = {0};
        for (int i = 0; i < c->n; i++) {
            double v = val(c, s, i);
            if (isnan(v)) {
                pen = 0;
                continue;
            }
            double x = PL + slot * (i + 0.5), y = PT + ph - ph * (v / ymax);
            sv_printf(&d, "%c%.1f,%.1f ", pen ? 'L' : 'M', x, y);
            pen = 1;
            any = 1;
        }
        if (any && d.len) {
            sv_printf(b, "<path class=\"ln s%d\" d=\"", s);
            sv_put(b, d.data, d.len - 1);
            sv_puts(b, "\"/>");
        }
        if (d.oom)
            b->oom = 1;
        sv_buf_free(&d);
        /* markers at every point (a single point is visible this way) */
        int every = c->n <= 48 ? 1 : (c->n + 47) / 48;
        for (int i = 0; i < c->n; i++) {
            double v = val(c, s, i);
            if (isnan(v))
                continue;
            int alone =
                (i == 0 || isnan(val(c, s, i - 1))) && (i == c->n - 1 || isnan(val(c, s, i + 1)));
            if (i % every == 0 || alone)
                marker(b, s, PL + slot * (i + 0.5), PT + ph - ph * (v / ymax));
        }
        sv_puts(b, "</g>");
    }
}

static void plot_bars(sv_buf *b, const sv_chart *c, double ymax)
{
    double pw = W - PL - PR, ph = H - PT - PB, slot = pw / c->n;
    double gap = slot * 0.15, bw = slot - 2 * gap;
    if (bw > 60) {
        gap += (bw - 60) / 2;
        bw = 60;
    }
    for (int i = 0; i < c->n; i++) {
        double base = PT + ph;
        for (int s = 0; s < c->nseries; s++) {
            double v = val(c, s, i);
            if (isnan(v) || v <= 0)
                continue;
            double h = ph * (v / ymax);
            double x, w;
            if (c->kind == SV_CHART_STACKED) {
                x = PL + slot * i + gap;
                w = bw;
                base -= h;
            } else {
                w = bw / c->nseries;
                x = PL + slot * i + gap + w * s;
                base = PT + ph - h;
            }
            sv_printf(b,
                      "<rect class=\"bar s%d\" fill=\"url(#%s-p%d)\" x=\"%.1f\" y=\"%.1f\" "
                      "width=\"%.1f\" height=\"%.1f\"/>",
                      s, c->id, s, x, base, w, h);
        }
    }
}

static void heat(sv_buf *b, const sv_chart *c)
{
    double rowh = 26, left = 140, top = 8, bottom = 40;
    double h = top + rowh * c->nseries + bottom;
    title_and_defs(b, c, h);
    double pw = W - left - PR, colw = c->n ? pw / c->n : pw;
    sv_puts(b, "<g aria-hidden=\"true\">");
    for (int s = 0; s < c->nseries; s++) {
        double y = top + rowh * s;
        sv_printf(b, "<text class=\"ytick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 6,
                  y + rowh / 2 + 4);
        sv_esc(b, c->series_names[s] ? c->series_names[s] : "");
        sv_puts(b, "</text>");
        for (int i = 0; i < c->n; i++) {
            double v = val(c, s, i);
            double x = left + colw * i;
            if (isnan(v)) {
                sv_printf(b,
                          "<rect class=\"heat heat-none\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                          "height=\"%.1f\"/>",
                          x, y, colw, rowh);
                continue;
            }
            /* five buckets of the value in [0, 1]; the number is printed too */
            int bucket = v <= 0 ? 0 : v >= 1 ? 4 : (int)(v * 5);
            if (bucket > 4)
                bucket = 4;
            sv_printf(b,
                      "<rect class=\"heat heat-%d\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                      "height=\"%.1f\"/>",
                      bucket, x, y, colw, rowh);
            if (colw >= 28) {
                sv_printf(b,
                          "<text class=\"heatnum heat-%d\" x=\"%.1f\" y=\"%.1f\" "
                          "text-anchor=\"middle\">",
                          bucket, x + colw / 2, y + rowh / 2 + 4);
                sv_fmt_num(b, v, c->decimals);
                sv_puts(b, "</text>");
            }
        }
    }
    if (c->n > 0) {
        int step = x_label_step(c->n);
        for (int i = 0; i < c->n; i += step)
            x_label(b, c, i, step, left + colw * (i + 0.5), top + rowh * c->nseries + 14);
    } else {
        sv_printf(b,
                  "<text class=\"nodata\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">No data "
                  "in this window</text>",
                  left + pw / 2, top + rowh * c->nseries / 2 + 4);
    }
    sv_printf(b, "<text class=\"xtitle\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
              left + pw / 2, h - 4);
    sv_esc(b, c->x_title ? c->x_title : "");
    sv_puts(b, "</text></g></svg>");
}

void sv_chart_svg(sv_buf *b, const sv_chart *c)
{
    if (!shape_ok(c))
        return;
    if (c->kind == SV_CHART_HEAT) {
        heat(b, c);
        return;
    }
    title_and_defs(b, c, H);
    double ymax = ymax_of(c);
    axes(b, c, ymax);
    if (c->n == 0) {
        sv_printf(b,
                  "<text class=\"nodata\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                  "aria-hidden=\"true\">No data in this window</text>",
                  PL + (W - PL - PR) / 2, PT + (H - PT - PB) / 2);
    } else if (c->kind == SV_CHART_LINE) {
        plot_lines(b, c, ymax);
    } else {
        sv_puts(b, "<g aria-hidden=\"true\">");
        plot_bars(b, c, ymax);
        sv_puts(b, "</g>");
    }
    sv_puts(b, "</svg>");
}

static void legend(sv_buf *b, const sv_chart *c)
{
    if (c->nseries < 2 && c->kind != SV_CHART_STACKED)
        return;
    if (c->kind == SV_CHART_HEAT) {
        sv_puts(b, "<p class=\"legend\">Darker cells are higher (five steps from 0 to 1); each "
                   "value is printed in its cell when the cell is wide enough, and always in "
                   "the Numbers table. Empty cells have no data.</p>");
        return;
    }
    sv_puts(b, "<ul class=\"legend\">");
    for (int s = 0; s < c->nseries; s++) {
        sv_printf(b, "<li><svg class=\"key\" viewBox=\"0 0 24 12\" aria-hidden=\"true\">");
        if (c->kind == SV_CHART_LINE) {
            sv_printf(b, "<path class=\"ln s%d\" d=\"M0,6 H24\"/>", s);
            marker(b, s, 12, 6);
        } else {
            sv_printf(b,
                      "<defs><pattern id=\"%s-k%d\" class=\"pat s%d\" "
                      "patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\">"
                      "<rect class=\"pat-bg\" width=\"6\" height=\"6\"/>",
                      c->id, s, s);
            if (s % 4 == 1)
                sv_puts(b, "<path class=\"pat-fg\" d=\"M0,6 L6,0\"/>");
            else if (s % 4 == 2)
                sv_puts(b, "<circle class=\"pat-dot\" cx=\"3\" cy=\"3\" r=\"1.2\"/>");
            else if (s % 4 == 3)
                sv_puts(b, "<path class=\"pat-fg\" d=\"M0,3 H6 M3,0 V6\"/>");
            sv_printf(b,
                      "</pattern></defs><rect class=\"bar s%d\" fill=\"url(#%s-k%d)\" "
                      "width=\"24\" height=\"12\"/>",
                      s, c->id, s);
        }
        sv_puts(b, "</svg> ");
        sv_esc(b, c->series_names[s] ? c->series_names[s] : "");
        if (c->kind == SV_CHART_LINE)
            sv_printf(b, " <span class=\"mkname\">(%s)</span>", markers[s % 4]);
        sv_puts(b, "</li>");
    }
    sv_puts(b, "</ul>");
}

void sv_chart_table(sv_buf *b, const sv_chart *c)
{
    if (!shape_ok(c))
        return;
    sv_puts(b, "<table class=\"grid nums\" id=\"");
    sv_esc(b, c->id);
    sv_puts(b, "-data\"><caption>");
    sv_esc(b, c->title);
    sv_puts(b, "</caption><thead><tr><th scope=\"col\">");
    sv_esc(b, c->x_title ? c->x_title : "");
    sv_puts(b, "</th>");
    for (int s = 0; s < c->nseries; s++) {
        sv_puts(b, "<th scope=\"col\">");
        sv_esc(b, c->series_names[s] ? c->series_names[s] : "");
        if (c->unit && c->unit[0]) {
            sv_puts(b, " (");
            sv_esc(b, c->unit);
            sv_puts(b, ")");
        }
        sv_puts(b, "</th>");
    }
    sv_puts(b, "</tr></thead><tbody>");
    if (c->n == 0)
        sv_printf(b, "<tr><td colspan=\"%d\" class=\"empty\">No data in this window</td></tr>",
                  c->nseries + 1);
    for (int i = 0; i < c->n; i++) {
        sv_puts(b, "<tr><th scope=\"row\">");
        sv_esc(b, c->x_labels[i] ? c->x_labels[i] : "");
        sv_puts(b, "</th>");
        for (int s = 0; s < c->nseries; s++) {
            double v = val(c, s, i);
            sv_puts(b, "<td>");
            if (isnan(v))
                sv_puts(b, "–");
            else
                sv_fmt_num(b, v, c->decimals);
            sv_puts(b, "</td>");
        }
        sv_puts(b, "</tr>");
    }
    sv_puts(b, "</tbody></table>");
}

static void csv_field(sv_buf *b, const char *s)
{
    s = s ? s : "";
    if (!s[strcspn(s, ",\"\r\n")]) {
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

void sv_chart_csv(sv_buf *b, const sv_chart *c)
{
    if (!shape_ok(c))
        return;
    csv_field(b, c->x_title);
    for (int s = 0; s < c->nseries; s++) {
        sv_putc(b, ',');
        csv_field(b, c->series_names[s]);
    }
    sv_puts(b, "\r\n");
    for (int i = 0; i < c->n; i++) {
        csv_field(b, c->x_labels[i]);
        for (int s = 0; s < c->nseries; s++) {
            sv_putc(b, ',');
            sv_fmt_num(b, val(c, s, i), c->decimals);
        }
        sv_puts(b, "\r\n");
    }
}

void sv_chart_figure(sv_buf *b, const sv_chart *c)
{
    if (!shape_ok(c)) {
        sv_puts(b, "<figure class=\"chartbox\"><p class=\"msg err\">This chart could not be drawn "
                   "(invalid data shape).</p></figure>");
        return;
    }
    sv_puts(b, "<figure class=\"chartbox\" id=\"");
    sv_esc(b, c->id);
    sv_puts(b, "\"><figcaption>");
    sv_esc(b, c->title);
    sv_puts(b, "</figcaption>");
    sv_chart_svg(b, c);
    legend(b, c);
    sv_puts(b, "<details class=\"numbers\"><summary>Numbers</summary>");
    sv_chart_table(b, c);
    sv_puts(b, "</details>");
    if (c->csv_href) {
        sv_puts(b, "<p class=\"csv\"><a href=\"");
        sv_esc(b, c->csv_href);
        sv_puts(b, "\" download=\"");
        sv_esc(b, c->id);
        sv_puts(b, ".csv\">Download CSV</a></p>");
    }
    sv_puts(b, "</figure>");
}
