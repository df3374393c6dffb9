/* The dashboards' SVG charts: round axis ends, empty data, a single point,
 * gaps, stacking, escaping of every text. */
#include "svg.h"
#include "fwtest.h"

#include <math.h>
#include <string.h>

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

int main(void)
{
    double step;
    FWT_CHECK(sv_chart_nice_max(0, &step) == 1 && step == 0.2);
    FWT_CHECK(sv_chart_nice_max(7, &step) == 10 && step == 2);
    FWT_CHECK(sv_chart_nice_max(10, &step) == 10);
    FWT_CHECK(sv_chart_nice_max(11, &step) == 20 && step == 4);
    FWT_CHECK(sv_chart_nice_max(230, &step) == 250 && step == 50);
    FWT_CHECK(sv_chart_nice_max(0.0031, &step) == 0.005);
    FWT_CHECK(sv_chart_nice_max(NAN, &step) == 1);

    const char *labels[] = {"10:00", "11:00", "12:00"};
    sv_buf b = {0};

    /* empty: axes and a note, no marks */
    double none[3] = {NAN, NAN, NAN};
    sv_series s0 = {"p50", none};
    sv_chart c = {SV_CHART_LINES, "Latency", "ms", labels, 3, &s0, 1};
    sv_chart_svg(&b, &c);
    const char *out = sv_buf_cstr(&b);
    FWT_CHECK(strstr(out, "role=\"img\" aria-label=\"Latency\"") != NULL);
    FWT_CHECK(strstr(out, "no data in this window") != NULL);
    FWT_CHECK(count(out, "<polyline") == 0 && count(out, "<circle") == 0);
    FWT_CHECK(strstr(out, ">ms</text>") != NULL);

    /* a single point is a dot; a gap splits a line */
    sv_buf_reset(&b);
    double one[3] = {NAN, 42, NAN};
    s0.values = one;
    sv_chart_svg(&b, &c);
    out = sv_buf_cstr(&b);
    FWT_CHECK(count(out, "<circle") == 1 && count(out, "<polyline") == 0);
    FWT_CHECK(strstr(out, ">50</text>") != NULL); /* the axis reaches 50 for 42 */
    sv_buf_reset(&b);
    double gap[3] = {5, NAN, 7};
    s0.values = gap;
    sv_chart_svg(&b, &c);
    out = sv_buf_cstr(&b);
    FWT_CHECK(count(out, "<circle") == 2 && count(out, "<polyline") == 0);
    sv_buf_reset(&b);
    double line[3] = {5, 6, 7};
    s0.values = line;
    sv_chart_svg(&b, &c);
    FWT_CHECK(count(sv_buf_cstr(&b), "<polyline") == 1);

    /* stacked bars: the axis covers the column sums; one rect per value > 0 */
    sv_buf_reset(&b);
    double ok[3] = {90, 0, 30}, err[3] = {10, 0, NAN};
    sv_series st[2] = {{"ok", ok}, {"error", err}};
    sv_chart bars = {SV_CHART_STACKED, "Generations", "generations", labels, 3, st, 2};
    sv_chart_svg(&b, &bars);
    out = sv_buf_cstr(&b);
    FWT_CHECK(count(out, "<rect class=\"s") == 3 + 2); /* 3 bars + 2 legend swatches */
    FWT_CHECK(strstr(out, ">100</text>") != NULL);
    FWT_CHECK(strstr(out, "<title>error 10:00: 10</title>") != NULL);

    /* every text is escaped */
    sv_buf_reset(&b);
    const char *bad[] = {"<a>", "\"q\"", "&"};
    sv_series xs = {"<script>", line};
    sv_chart x = {SV_CHART_BARS, "A \"title\" <b>", "<u>", bad, 3, &xs, 1};
    sv_chart_svg(&b, &x);
    out = sv_buf_cstr(&b);
    FWT_CHECK(strstr(out, "<script>") == NULL && strstr(out, "<b>") == NULL &&
              strstr(out, "<u>") == NULL && strstr(out, "<a>") == NULL);
    FWT_CHECK(strstr(out, "&lt;script&gt;") != NULL && strstr(out, "&amp;") != NULL);
    sv_buf_free(&b);
    return 0;
}
