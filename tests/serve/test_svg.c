/* The SVG charts: accessible name and table, axes and units, empty and
 * single-point data, gaps, stacked totals, heat cells with their numbers,
 * escaping of every label, CSV quoting, and refusing a bad shape. */
#include "fwtest.h"
#include "svg.h"

#include <math.h>
#include <string.h>

static sv_buf b;

static const char *fig(const sv_chart *c)
{
    sv_buf_reset(&b);
    sv_chart_figure(&b, c);
    FWT_CHECK(!b.oom);
    return sv_buf_cstr(&b);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The <table> part of a figure, for checks that must not see the SVG. */
static const char *table_of(const char *html)
{
    const char *t = strstr(html, "<table");
    FWT_CHECK(t != NULL);
    return t;
}

int main(void)
{
    /* nice maxima */
    FWT_CHECK(sv_nice_max(0) == 1);
    FWT_CHECK(sv_nice_max(-3) == 1);
    FWT_CHECK(sv_nice_max(NAN) == 1);
    FWT_CHECK(sv_nice_max(7) == 10);
    FWT_CHECK(sv_nice_max(10) == 10);
    FWT_CHECK(sv_nice_max(11) == 20);
    FWT_CHECK(sv_nice_max(0.23) == 0.25);
    FWT_CHECK(sv_nice_max(4100) == 5000);

    /* number formatting */
    sv_buf_reset(&b);
    sv_fmt_num(&b, 1.005, 1);
    sv_putc(&b, '|');
    sv_fmt_num(&b, -0.0, 2);
    sv_putc(&b, '|');
    sv_fmt_num(&b, NAN, 2);
    sv_putc(&b, '|');
    sv_fmt_num(&b, 12345, 0);
    FWT_CHECK_EQ_STR(sv_buf_cstr(&b), "1.0|0.00||12345");

    /* a line chart with two series and a gap */
    const char *x[] = {"2026-12-07 10:00", "2026-12-07 11:00", "2026-12-07 12:00"};
    const char *names[] = {"p50", "p95 <slow>"};
    double v[] = {10, NAN, 30, 40, 50.5, 60};
    sv_chart c = {.kind = SV_CHART_LINE,
                  .id = "lat",
                  .title = "Latency & more (ms)",
                  .x_title = "hour (UTC)",
                  .unit = "ms",
                  .decimals = 1,
                  .n = 3,
                  .x_labels = x,
                  .nseries = 2,
                  .series_names = names,
                  .values = v,
                  .csv_href = "/dash?csv=lat&window=24h"};
    const char *h = fig(&c);
    FWT_CHECK(strstr(h, "role=\"img\" aria-labelledby=\"lat-t\"") != NULL);
    FWT_CHECK(strstr(h, "<title id=\"lat-t\">Latency &amp; more (ms)</title>") != NULL);
    FWT_CHECK(strstr(h, "hour (UTC)") != NULL);
    /* time stamps on the axis: the time, and the date where it starts */
    FWT_CHECK(strstr(h, ">10:00<tspan x=\"157.3\" dy=\"12\">12-07</tspan></text>") != NULL);
    FWT_CHECK(strstr(h, ">11:00</text>") != NULL);
    FWT_CHECK(strstr(h, "p95 &lt;slow&gt;") != NULL);
    FWT_CHECK(strstr(h, "<slow>") == NULL);
    /* y axis 0..100 (max 60 → nice 100), unit on the axis */
    FWT_CHECK(strstr(h, ">100</text>") != NULL);
    FWT_CHECK(strstr(h, ">ms</text>") != NULL);
    /* the gap splits series 0 into two moves; series 1 is one path */
    FWT_CHECK_EQ_INT(count(h, "class=\"ln s0\" d=\"M"), 2); /* plot + legend */
    FWT_CHECK(strstr(h, "<path class=\"ln s0\" d=\"M157.3,194.0 M530.7,154.0\"/>") != NULL);
    FWT_CHECK(strstr(h, "<path class=\"ln s1\" d=\"M157.3,134.0 L344.0,113.0 L530.7,94.0\"/>") !=
              NULL);
    /* table: header with unit, a row per point, "–" for the gap */
    const char *t = table_of(h);
    FWT_CHECK(strstr(t, "<th scope=\"col\">p50 (ms)</th>") != NULL);
    FWT_CHECK(strstr(t, "<th scope=\"row\">2026-12-07 11:00</th><td>–</td><td>50.5</td>") != NULL);
    FWT_CHECK(strstr(t, "<td>10.0</td><td>40.0</td>") != NULL);
    FWT_CHECK(strstr(h, "href=\"/dash?csv=lat&amp;window=24h\" download=\"lat.csv\"") != NULL);
    /* legend names every series with its marker shape */
    FWT_CHECK(strstr(h, "(circle)") != NULL && strstr(h, "(square)") != NULL);
    /* no inline style anywhere */
    FWT_CHECK(strstr(h, "style=") == NULL && strstr(h, "<style") == NULL);

    /* CSV of the same numbers, quoting where needed */
    sv_buf_reset(&b);
    sv_chart_csv(&b, &c);
    FWT_CHECK_EQ_STR(sv_buf_cstr(&b), "hour (UTC),p50,p95 <slow>\r\n"
                                      "2026-12-07 10:00,10.0,40.0\r\n"
                                      "2026-12-07 11:00,,50.5\r\n"
                                      "2026-12-07 12:00,30.0,60.0\r\n");
    const char *qx[] = {"a,b", "say \"hi\""};
    double qv[] = {1, 2};
    sv_chart q = {.kind = SV_CHART_BAR,
                  .id = "q",
                  .title = "q",
                  .x_title = "model",
                  .unit = "",
                  .n = 2,
                  .x_labels = qx,
                  .nseries = 1,
                  .series_names = names,
                  .values = qv};
    sv_buf_reset(&b);
    sv_chart_csv(&b, &q);
    FWT_CHECK_EQ_STR(sv_buf_cstr(&b), "model,p50\r\n\"a,b\",1\r\n\"say \"\"hi\"\"\",2\r\n");

    /* empty: frame, the no-data text, a table saying so, no path or bar */
    sv_chart e = c;
    e.n = 0;
    e.x_labels = NULL;
    e.values = NULL;
    h = fig(&e);
    FWT_CHECK(strstr(h, "No data in this window</text>") != NULL);
    FWT_CHECK(strstr(h, "<td colspan=\"3\" class=\"empty\">No data in this window</td>") != NULL);
    FWT_CHECK(strstr(h, "class=\"ln s0\" d=\"M0,6") != NULL); /* legend only */
    FWT_CHECK_EQ_INT(count(h, "class=\"ln "), 2);
    FWT_CHECK(strstr(h, "<circle class=\"mk s0\" cx=\"12.0\"") != NULL);
    FWT_CHECK_EQ_INT(count(h, "class=\"mk "), 2); /* legend markers only */

    /* a single point: one marker in the middle of the plot, no line */
    const char *x1[] = {"2026-12-07 10:00"};
    double v1[] = {42};
    const char *one_name[] = {"generations"};
    sv_chart s1 = {.kind = SV_CHART_LINE,
                   .id = "one",
                   .title = "One",
                   .x_title = "hour (UTC)",
                   .unit = "ms",
                   .n = 1,
                   .x_labels = x1,
                   .nseries = 1,
                   .series_names = one_name,
                   .values = v1};
    h = fig(&s1);
    /* plot spans 64..624: the middle is 344.0; 42 of 50 → y = 14 + 200 - 168 */
    FWT_CHECK(strstr(h, "<circle class=\"mk s0\" cx=\"344.0\" cy=\"46.0\" r=\"3\"/>") != NULL);
    FWT_CHECK(strstr(h, "<th scope=\"row\">2026-12-07 10:00</th><td>42</td>") != NULL);

    /* stacked bars: axis from the stacked total, one rect per non-zero value,
     * each series with its own pattern */
    const char *sn[] = {"ok", "error"};
    double sv[] = {30, 0, 15, 5};
    sv_chart st = {.kind = SV_CHART_STACKED,
                   .id = "traffic",
                   .title = "Generations",
                   .x_title = "hour (UTC)",
                   .unit = "generations",
                   .n = 2,
                   .x_labels = x,
                   .nseries = 2,
                   .series_names = sn,
                   .values = sv};
    h = fig(&st);
    /* 35 → 50, in whole-number steps of 10 for a count */
    FWT_CHECK(strstr(h, ">50</text>") != NULL && strstr(h, ">10</text>") && !strstr(h, ">12.5<"));
    FWT_CHECK_EQ_INT(count(h, "<rect class=\"bar s0\" fill=\"url(#traffic-p0)\" x="), 1);
    FWT_CHECK_EQ_INT(count(h, "<rect class=\"bar s1\" fill=\"url(#traffic-p1)\" x="), 2);
    FWT_CHECK(strstr(h, "<pattern id=\"traffic-p1\"") != NULL);
    FWT_CHECK(strstr(h, "<li><svg class=\"key\"") != NULL && strstr(h, "</svg> error</li>"));

    /* heat: every cell with a value shows it; bucket classes; empty cell */
    const char *fields[] = {"correct", "topic"};
    double hv[] = {1.0, 0.5, NAN, 0.1};
    sv_chart hm = {.kind = SV_CHART_HEAT,
                   .id = "agree",
                   .title = "Agreement per field",
                   .x_title = "day (UTC)",
                   .unit = "share",
                   .decimals = 2,
                   .n = 2,
                   .x_labels = x,
                   .nseries = 2,
                   .series_names = fields,
                   .values = hv};
    h = fig(&hm);
    FWT_CHECK(strstr(h, "class=\"heatnum heat-4\"") != NULL && strstr(h, ">1.00</text>"));
    FWT_CHECK(strstr(h, ">0.50</text>") != NULL && strstr(h, ">0.10</text>"));
    FWT_CHECK(strstr(h, "heat heat-none") != NULL);
    FWT_CHECK(strstr(h, "always in the Numbers table") != NULL);

    /* an invalid shape is said, not drawn */
    sv_chart bad = c;
    bad.nseries = 0;
    h = fig(&bad);
    FWT_CHECK(strstr(h, "could not be drawn") != NULL && strstr(h, "<svg") == NULL);
    sv_buf_reset(&b);
    sv_chart_svg(&b, &bad);
    sv_chart_table(&b, &bad);
    sv_chart_csv(&b, &bad);
    FWT_CHECK_EQ_INT((int)b.len, 0);

    sv_buf_free(&b);
    return 0;
}
