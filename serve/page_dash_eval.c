/*
 * Dashboards: eval runs (/dash/evals), one run (/dash/evals/run/NAME) and
 * the comparison of two runs (/dash/evals/compare?a=BASELINE&b=CANDIDATE).
 *
 * The documents come from the eval library (flywheel/eval.h), so the page
 * shows the numbers `flywheel eval list`, `show` and `compare` print: the
 * runs with each scorer's mean (fw_eval_list), a run's usage, scores by
 * metric and every case (fw_eval_show), and per scorer the means of both
 * runs on the cases both scored, the difference with its bootstrap
 * interval and the cases improved, regressed and unchanged (fw_eval_compare
 * with its defaults: seed 1, 2000 resamples, 95 %).
 *
 * The library reports failures as text, without a SQLSTATE, so each page
 * first reads flywheel.eval_runs itself as the account's role: a refusal
 * (42501) answers 403 and an unknown run 404 before the library is called.
 * flywheel_reader and flywheel_admin may read the eval tables.
 */
#include "dash.h"

#include "flywheel/eval.h"
#include "log.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EV_MAX_CASES     500
#define EV_MAX_REGRESSED 50

/* The runs named in names[0..n) exist and the account may read them: 0,
 * or -1 after answering (403 refused, 404 unknown run, 503, 500). */
static int runs_readable(sv_req *r, const char *const *names, int n)
{
    if (n == 0) {
        PGresult *res = dash_exec(r, "SELECT 1 FROM flywheel.eval_runs WHERE false", 0, NULL);
        PQclear(res);
        return res ? 0 : -1;
    }
    for (int i = 0; i < n; i++) {
        const char *p[1] = {names[i]};
        PGresult *res = dash_exec(r, "SELECT 1 FROM flywheel.eval_runs WHERE name = $1", 1, p);
        if (!res)
            return -1;
        int found = PQntuples(res) == 1;
        PQclear(res);
        if (!found) {
            sv_error_page(r, 404, "Not found", "There is no eval run of that name.");
            return -1;
        }
    }
    return 0;
}

static int library_failed(sv_req *r, const char *what, const char *err)
{
    char q[600];
    fw_log_error("eval query failed", "what=%s error=%s", what, fw_log_quote(q, sizeof q, err));
    return sv_error_page(r, 500, "Internal error", "The request failed; it has been logged.");
}

/* A chart over its own arrays: n labels, nseries series of n values. */
typedef struct {
    sv_chart c;
    char (*labels)[160];
    const char **x;
    double *v;
    sv_buf href;
} ev_chart;

static int ev_chart_alloc(ev_chart *ec, int n, int nseries)
{
    memset(ec, 0, sizeof *ec);
    size_t m = n ? (size_t)n : 1;
    ec->labels = calloc(m, sizeof *ec->labels);
    ec->x = calloc(m, sizeof *ec->x);
    ec->v = calloc(m * (size_t)(nseries ? nseries : 1), sizeof *ec->v);
    if (!ec->labels || !ec->x || !ec->v)
        return -1;
    for (size_t i = 0; i < m * (size_t)(nseries ? nseries : 1); i++)
        ec->v[i] = NAN;
    for (size_t i = 0; i < m; i++)
        ec->x[i] = ec->labels[i];
    ec->c.n = n;
    ec->c.nseries = nseries;
    ec->c.x_labels = ec->x;
    ec->c.values = ec->v;
    return 0;
}

static void ev_chart_free(ev_chart *ec)
{
    free(ec->labels);
    free(ec->x);
    free(ec->v);
    sv_buf_free(&ec->href);
}

/* Sets the chart's shape and its CSV link: base (already a safe URL with
 * a query or not) plus csv=id. */
static void ev_chart_set(ev_chart *ec, sv_chart_kind kind, const char *id, const char *title,
                         const char *x_title, const char *unit, int decimals,
                         const char *const *names, const char *base)
{
    ec->c.kind = kind;
    ec->c.id = id;
    ec->c.title = title;
    ec->c.x_title = x_title;
    ec->c.unit = unit;
    ec->c.decimals = decimals;
    ec->c.series_names = names;
    sv_buf_reset(&ec->href);
    sv_puts(&ec->href, base);
    sv_puts(&ec->href, strchr(base, '?') ? "&csv=" : "?csv=");
    sv_puts(&ec->href, id);
    ec->c.csv_href = sv_buf_cstr(&ec->href);
}

static double jnum(const json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void num_cell(sv_buf *b, double v, int decimals)
{
    sv_puts(b, "<td class=\"num\">");
    if (isnan(v))
        sv_puts(b, "–");
    else
        sv_fmt_num(b, v, decimals);
    sv_puts(b, "</td>");
}

static void run_href(sv_buf *b, const char *name)
{
    sv_puts(b, "/dash/evals/run/");
    sv_urlenc(b, name);
}

/* Reads ?csv= against the page's chart ids: 0 none, 1 found (*k set), -1
 * answered (404). */
static int read_csv(sv_req *r, const char *const *ids, int n, int *k)
{
    char csv[16];
    int rc = sv_query(r, "csv", csv, sizeof csv);
    if (rc == 0)
        return 0;
    for (*k = 0; rc == 1 && *k < n; (*k)++)
        if (strcmp(ids[*k], csv) == 0)
            return 1;
    sv_error_page(r, 404, "Not found", "There is no such chart on this page.");
    return -1;
}

/* ---- /dash/evals ------------------------------------------------------------ */

/* The scorer names of all runs, sorted, at most SV_CHART_MAX_SERIES. */
static int scorer_names(const json_t *runs, const char **names)
{
    int n = 0;
    size_t i;
    const json_t *run;
    json_array_foreach(runs, i, run)
    {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)(uintptr_t)json_object_get(run, "scores"), k, v)
        {
            int seen = 0;
            for (int j = 0; j < n; j++)
                seen |= strcmp(names[j], k) == 0;
            if (!seen && n < SV_CHART_MAX_SERIES)
                names[n++] = k;
        }
    }
    for (int a = 1; a < n; a++)
        for (int j = a; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    return n;
}

static void compare_form(sv_buf *b, const json_t *runs)
{
    if (json_array_size(runs) < 2)
        return;
    sv_puts(b, "<form class=\"filters\" method=\"get\" action=\"/dash/evals/compare\">");
    static const char *const sides[2][3] = {{"a", "Baseline (A)", "f-a"},
                                            {"b", "Candidate (B)", "f-b"}};
    for (int s = 0; s < 2; s++) {
        sv_printf(b, "<div><label for=\"%s\">%s</label><select id=\"%s\" name=\"%s\">", sides[s][2],
                  sides[s][1], sides[s][2], sides[s][0]);
        size_t i;
        const json_t *run;
        json_array_foreach(runs, i, run)
        {
            const char *name = json_string_value(json_object_get(run, "name"));
            /* B defaults to the newest run, A to the one before it */
            sv_puts(b, "<option value=\"");
            sv_esc(b, name);
            sv_puts(b, (s == 0 && i == 1) || (s == 1 && i == 0) ? "\" selected>" : "\">");
            sv_esc(b, name);
            sv_puts(b, "</option>");
        }
        sv_puts(b, "</select></div>");
    }
    sv_puts(b, "<div><button type=\"submit\" class=\"primary\">Compare</button></div></form>");
}

/* A timestamp as row_to_json writes it in the session's time zone,
 * "2026-12-08T02:02:03.456+01:00", as UTC "2026-12-08 01:02:03"; "" when
 * it is not one. */
static const char *to_utc(const char *t, char *out, size_t size)
{
    struct tm tm = {0};
    int used = 0, oh = 0, om = 0;
    out[0] = '\0';
    if (!t || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
        return out;
    const char *p = t + used;
    if (*p == '.')
        p += 1 + strspn(p + 1, "0123456789");
    int sign = *p == '-' ? -1 : 1;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) < 1)
        return out;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t when = timegm(&tm) - sign * (time_t)(oh * 3600 + om * 60);
    struct tm u;
    if (gmtime_r(&when, &u))
        strftime(out, size, "%Y-%m-%d %H:%M:%S", &u);
    return out;
}

static void runs_table(sv_buf *b, const json_t *runs, const char **scorers, int ns)
{
    if (json_array_size(runs) == 0) {
        sv_puts(b, "<p class=\"empty\">No eval run is stored yet. <code>flywheel eval run</code> "
                   "stores one (docs/evals.md).</p>");
        return;
    }
    sv_puts(b, "<table class=\"grid\" id=\"runs-list\"><caption>Every run, newest first</caption>"
               "<thead><tr><th scope=\"col\">run</th><th scope=\"col\">dataset</th>"
               "<th scope=\"col\">model</th><th scope=\"col\">status</th>"
               "<th scope=\"col\" class=\"num\">cases</th>"
               "<th scope=\"col\" class=\"num\">errors</th>"
               "<th scope=\"col\">created (UTC)</th>");
    for (int s = 0; s < ns; s++) {
        sv_puts(b, "<th scope=\"col\" class=\"num\">");
        sv_esc(b, scorers[s]);
        sv_puts(b, "</th>");
    }
    sv_puts(b, "</tr></thead><tbody>");
    size_t i;
    const json_t *run;
    json_array_foreach(runs, i, run)
    {
        const char *name = json_string_value(json_object_get(run, "name"));
        const char *ds = json_string_value(json_object_get(run, "dataset"));
        long long ver = (long long)json_integer_value(json_object_get(run, "version"));
        sv_puts(b, "<tr><th scope=\"row\"><a href=\"");
        run_href(b, name ? name : "");
        sv_puts(b, "\">");
        sv_esc(b, name);
        sv_puts(b, "</a></th><td><a href=\"/dash/datasets/");
        sv_urlenc(b, ds ? ds : "");
        sv_printf(b, "/%lld\">", ver);
        sv_esc(b, ds);
        sv_printf(b, " v%lld</a></td><td>", ver);
        sv_esc(b, json_string_value(json_object_get(run, "model")));
        sv_puts(b, "</td><td>");
        sv_esc(b, json_string_value(json_object_get(run, "status")));
        sv_printf(b, "</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td><td>",
                  (long long)json_integer_value(json_object_get(run, "cases")),
                  (long long)json_integer_value(json_object_get(run, "errors")));
        char utc[32];
        sv_esc(b, to_utc(json_string_value(json_object_get(run, "created_at")), utc, sizeof utc));
        sv_puts(b, "</td>");
        for (int s = 0; s < ns; s++)
            num_cell(b, jnum(json_object_get(json_object_get(run, "scores"), scorers[s])), 3);
        sv_puts(b, "</tr>");
    }
    sv_puts(b, "</tbody></table>");
}

int sv_page_dash_evals(sv_req *r)
{
    static const char *const ids[] = {"scores"};
    int csv_k = 0, csv = read_csv(r, ids, 1, &csv_k);
    if (csv < 0 || runs_readable(r, NULL, 0) != 0)
        return 0;
    char err[512];
    json_t *runs = fw_eval_list(sv_req_db(r)->c, err, sizeof err);
    if (!runs)
        return library_failed(r, "list", err);
    const char *scorers[SV_CHART_MAX_SERIES];
    int ns = scorer_names(runs, scorers), n = (int)json_array_size(runs);
    ev_chart ch;
    static const char *const none[] = {"(no scorer)"};
    int ok = ev_chart_alloc(&ch, n, ns ? ns : 1) == 0;
    for (int i = 0; ok && i < n; i++) {
        const json_t *run = json_array_get(runs, (size_t)i);
        snprintf(ch.labels[i], sizeof ch.labels[i], "%s",
                 json_string_value(json_object_get(run, "name")));
        for (int s = 0; s < ns; s++)
            ch.v[(size_t)s * (size_t)n + (size_t)i] =
                jnum(json_object_get(json_object_get(run, "scores"), scorers[s]));
    }
    ev_chart_set(&ch, SV_CHART_BAR, "scores", "Mean score per scorer of every run", "run",
                 "score (0–1)", 3, ns ? scorers : none, "/dash/evals");
    if (!ok) {
        r->out.oom = 1;
    } else if (csv) {
        dash_csv_answer(r, &ch.c);
    } else {
        dash_page_begin(r, "Eval runs", "/dash/evals");
        sv_buf *b = &r->out;
        sv_puts(b,
                "<main class=\"dash\"><h1>Eval runs</h1><p class=\"window\">Every run "
                "<code>flywheel eval run</code> stored (the list <code>flywheel eval list</code> "
                "prints), with the mean of each scorer over the run's cases; times are UTC. "
                "Open a run for its cases, or compare two runs.</p>");
        compare_form(b, runs);
        runs_table(b, runs, scorers, ns);
        sv_puts(b, "<div class=\"charts\">");
        sv_chart_figure(b, &ch.c);
        sv_puts(b, "</div></main>");
        sv_page_end(r);
    }
    ev_chart_free(&ch);
    json_decref(runs);
    return 0;
}

/* ---- /dash/evals/run/NAME ----------------------------------------------------- */

static void run_tiles(sv_buf *b, const json_t *run)
{
    const json_t *u = json_object_get(run, "usage");
    const char *ds = json_string_value(json_object_get(run, "dataset"));
    long long ver = (long long)json_integer_value(json_object_get(run, "version"));
    sv_puts(b, "<dl class=\"tiles\"><div><dt>Model</dt><dd id=\"tile-model\">");
    sv_esc(b, json_string_value(json_object_get(run, "model")));
    sv_puts(b, "</dd></div><div><dt>Dataset</dt><dd id=\"tile-dataset\"><a href=\"/dash/datasets/");
    sv_urlenc(b, ds ? ds : "");
    sv_printf(b, "/%lld\">", ver);
    sv_esc(b, ds);
    sv_printf(b, " v%lld</a></dd></div><div><dt>Status</dt><dd id=\"tile-status\">", ver);
    sv_esc(b, json_string_value(json_object_get(run, "status")));
    sv_printf(b, "</dd></div><div><dt>Cases</dt><dd id=\"tile-cases\">%lld of %lld</dd></div>",
              (long long)json_integer_value(json_object_get(run, "cases")),
              (long long)json_integer_value(json_object_get(run, "cases_total")));
    sv_printf(b, "<div><dt>Errors</dt><dd id=\"tile-errors\">%lld</dd></div>",
              (long long)json_integer_value(json_object_get(run, "errors")));
    sv_puts(b, "<div><dt>Cost (USD)</dt><dd id=\"tile-cost\">");
    double cost = jnum(json_object_get(u, "cost_usd"));
    if (isnan(cost))
        sv_puts(b, "–");
    else
        sv_fmt_num(b, cost, 4);
    sv_puts(b, "</dd></div><div><dt>Latency p50 / p95 (ms)</dt><dd id=\"tile-latency\">");
    double p50 = jnum(json_object_get(u, "latency_ms_p50"));
    double p95 = jnum(json_object_get(u, "latency_ms_p95"));
    if (isnan(p50)) {
        sv_puts(b, "–");
    } else {
        sv_fmt_num(b, p50, 1);
        sv_puts(b, " / ");
        sv_fmt_num(b, p95, 1);
    }
    sv_puts(b, "</dd></div></dl>");
    sv_puts(b, "<table class=\"grid\" id=\"run-config\"><caption>What the run used</caption><tbody>"
               "<tr><th scope=\"row\">endpoint</th><td>");
    sv_esc(b, json_string_value(json_object_get(run, "endpoint")));
    sv_puts(b, "</td></tr><tr><th scope=\"row\">prompt sha256</th><td><code>");
    const char *ps = json_string_value(json_object_get(run, "prompt_sha256"));
    sv_esc(b, ps ? ps : "none (the cases' own system messages)");
    sv_puts(b, "</code></td></tr><tr><th scope=\"row\">scorers sha256</th><td><code>");
    sv_esc(b, json_string_value(json_object_get(run, "scorers_sha256")));
    sv_puts(b, "</code></td></tr><tr><th scope=\"row\">parameters</th><td><code>");
    char *params = json_dumps(json_object_get(run, "parameters"),
                              JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
    sv_esc(b, params ? params : "");
    free(params);
    sv_puts(b, "</code></td></tr></tbody></table>");
}

static void cases_table(sv_buf *b, const json_t *cases, const char *const *scorers, int ns)
{
    size_t n = json_array_size(cases);
    sv_puts(b, "<table class=\"grid\" id=\"cases\"><caption>Cases");
    if (n > EV_MAX_CASES)
        sv_printf(b, " (the first %d of %zu; <code>flywheel eval show --cases</code> lists all)",
                  EV_MAX_CASES, n);
    sv_puts(b, "</caption><thead><tr><th scope=\"col\">case</th><th scope=\"col\">split</th>"
               "<th scope=\"col\">status</th><th scope=\"col\" class=\"num\">latency (ms)</th>");
    for (int s = 0; s < ns; s++) {
        sv_puts(b, "<th scope=\"col\" class=\"num\">");
        sv_esc(b, scorers[s]);
        sv_puts(b, "</th>");
    }
    sv_puts(b, "<th scope=\"col\">error</th></tr></thead><tbody>");
    for (size_t i = 0; i < n && i < EV_MAX_CASES; i++) {
        const json_t *c = json_array_get(cases, i);
        sv_puts(b, "<tr><th scope=\"row\">");
        sv_esc(b, json_string_value(json_object_get(c, "case_id")));
        sv_puts(b, "</th><td>");
        sv_esc(b, json_string_value(json_object_get(c, "split")));
        sv_puts(b, "</td><td>");
        sv_esc(b, json_string_value(json_object_get(c, "status")));
        sv_puts(b, "</td>");
        num_cell(b, jnum(json_object_get(c, "latency_ms")), 1);
        for (int s = 0; s < ns; s++)
            num_cell(b,
                     jnum(json_object_get(json_object_get(json_object_get(c, "scores"), scorers[s]),
                                          "score")),
                     3);
        sv_puts(b, "<td>");
        sv_esc(b, json_string_value(json_object_get(c, "error")));
        sv_puts(b, "</td></tr>");
    }
    sv_puts(b, "</tbody></table>");
}

int sv_page_dash_eval_run(sv_req *r)
{
    const char *name = r->cap_str;
    static const char *const ids[] = {"scores"};
    int csv_k = 0, csv = read_csv(r, ids, 1, &csv_k);
    if (csv < 0 || runs_readable(r, &name, 1) != 0)
        return 0;
    char err[512];
    json_t *run = fw_eval_show(sv_req_db(r)->c, name, !csv, err, sizeof err);
    if (!run)
        return library_failed(r, "show", err);
    const json_t *scores = json_object_get(run, "scores");
    int ns = (int)json_object_size(scores);
    ev_chart ch;
    static const char *const mean_name[] = {"mean score"};
    int ok = ev_chart_alloc(&ch, ns, 1) == 0;
    const char *scorers[64];
    int nsc = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)scores, k, v)
    {
        if (ok && nsc < ns && nsc < 64) {
            snprintf(ch.labels[nsc], sizeof ch.labels[nsc], "%s", k);
            ch.v[nsc] = jnum(v);
            scorers[nsc++] = k;
        }
    }
    ch.c.n = nsc;
    sv_buf base = {0};
    run_href(&base, name);
    ev_chart_set(&ch, SV_CHART_BAR, "scores", "Mean score by scorer", "scorer", "score (0–1)", 3,
                 mean_name, sv_buf_cstr(&base));
    if (!ok) {
        r->out.oom = 1;
    } else if (csv) {
        dash_csv_answer(r, &ch.c);
    } else {
        char title[300];
        snprintf(title, sizeof title, "Eval run %s", name);
        dash_page_begin(r, title, "/dash/evals");
        sv_buf *b = &r->out;
        sv_puts(b, "<main class=\"dash\"><p><a href=\"/dash/evals\">Eval runs</a> ›</p><h1>");
        sv_esc(b, title);
        sv_puts(b, "</h1><p class=\"window\">What <code>flywheel eval show ");
        sv_esc(b, name);
        sv_puts(b, " --cases</code> prints. A case's score is in [0, 1]; – means the scorer could "
                   "not score it.</p>");
        run_tiles(b, run);
        sv_puts(b, "<div class=\"charts\">");
        sv_chart_figure(b, &ch.c);
        sv_puts(b, "</div>");
        cases_table(b, json_object_get(run, "cases_detail"), scorers, nsc);
        sv_puts(b, "</main>");
        sv_page_end(r);
    }
    sv_buf_free(&base);
    ev_chart_free(&ch);
    json_decref(run);
    return 0;
}

/* ---- /dash/evals/compare?a=A&b=B ---------------------------------------------- */

static void interval(sv_buf *b, const json_t *ci)
{
    sv_puts(b, "<td class=\"num\">");
    if (json_array_size(ci) == 2 && json_is_number(json_array_get(ci, 0))) {
        sv_puts(b, "[");
        sv_fmt_num(b, jnum(json_array_get(ci, 0)), 3);
        sv_puts(b, ", ");
        sv_fmt_num(b, jnum(json_array_get(ci, 1)), 3);
        sv_puts(b, "]");
    } else {
        sv_puts(b, "–");
    }
    sv_puts(b, "</td>");
}

static void deltas_table(sv_buf *b, const json_t *list, const char *a, const char *bn)
{
    sv_puts(b, "<table class=\"grid\" id=\"deltas\"><caption>Per scorer, on the cases both runs "
               "scored</caption><thead><tr><th scope=\"col\">scorer</th>"
               "<th scope=\"col\" class=\"num\">cases</th><th scope=\"col\" class=\"num\">mean ");
    sv_esc(b, a);
    sv_puts(b, " (A)</th><th scope=\"col\" class=\"num\">mean ");
    sv_esc(b, bn);
    sv_puts(b, " (B)</th><th scope=\"col\" class=\"num\">B − A</th>"
               "<th scope=\"col\" class=\"num\">95 % interval of B − A</th>"
               "<th scope=\"col\" class=\"num\">improved</th>"
               "<th scope=\"col\" class=\"num\">regressed</th>"
               "<th scope=\"col\" class=\"num\">unchanged</th></tr></thead><tbody>");
    size_t i;
    const json_t *s;
    json_array_foreach(list, i, s)
    {
        sv_puts(b, "<tr><th scope=\"row\">");
        sv_esc(b, json_string_value(json_object_get(s, "scorer")));
        sv_printf(b, "</th><td class=\"num\">%lld</td>",
                  (long long)json_integer_value(json_object_get(s, "n")));
        num_cell(b, jnum(json_object_get(s, "mean_a")), 3);
        num_cell(b, jnum(json_object_get(s, "mean_b")), 3);
        double d = jnum(json_object_get(s, "diff"));
        sv_puts(b, "<td class=\"num\">");
        if (isnan(d)) {
            sv_puts(b, "–");
        } else {
            if (d > 0 && fabs(d) >= 0.0005)
                sv_puts(b, "+");
            sv_fmt_num(b, d, 3);
        }
        sv_puts(b, "</td>");
        interval(b, json_object_get(s, "ci_diff"));
        sv_printf(b,
                  "<td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
                  "<td class=\"num\">%lld</td></tr>",
                  (long long)json_integer_value(json_object_get(s, "improved")),
                  (long long)json_integer_value(json_object_get(s, "regressed")),
                  (long long)json_integer_value(json_object_get(s, "unchanged")));
    }
    sv_puts(b, "</tbody></table>");
}

static void sides_table(sv_buf *b, const json_t *cmp, const char *a, const char *bn)
{
    sv_puts(b, "<table class=\"grid\" id=\"sides\"><caption>Both runs side by side</caption>"
               "<thead><tr><th scope=\"col\"></th><th scope=\"col\" class=\"num\">");
    sv_esc(b, a);
    sv_puts(b, " (A)</th><th scope=\"col\" class=\"num\">");
    sv_esc(b, bn);
    sv_puts(b, " (B)</th></tr></thead><tbody>");
    static const struct {
        const char *label, *obj, *key;
        int decimals;
    } rows[] = {{"cases", "cases", NULL, 0},
                {"errors", "errors", NULL, 0},
                {"cost (USD)", "cost_usd", NULL, 4},
                {"latency mean (ms)", "latency_ms", "mean", 1},
                {"latency p50 (ms)", "latency_ms", "p50", 1},
                {"latency p95 (ms)", "latency_ms", "p95", 1}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sv_printf(b, "<tr><th scope=\"row\">%s</th>", rows[i].label);
        const json_t *o = json_object_get(cmp, rows[i].obj);
        for (int s = 0; s < 2; s++) {
            const json_t *v = json_object_get(o, s ? "b" : "a");
            if (rows[i].key)
                v = json_object_get(v, rows[i].key);
            num_cell(b, jnum(v), rows[i].decimals);
        }
        sv_puts(b, "</tr>");
    }
    sv_puts(b, "</tbody></table>");
}

static void regressed_table(sv_buf *b, const json_t *list)
{
    int any = 0;
    size_t i;
    const json_t *s;
    json_array_foreach(list, i, s)
    {
        const json_t *cases = json_object_get(s, "regressed_cases");
        size_t j;
        const json_t *c;
        json_array_foreach(cases, j, c)
        {
            if (j >= EV_MAX_REGRESSED)
                break;
            if (!any++)
                sv_puts(b, "<table class=\"grid\" id=\"regressed\"><caption>Regressed cases "
                           "(at most 50 per scorer)</caption><thead><tr>"
                           "<th scope=\"col\">scorer</th><th scope=\"col\">case</th>"
                           "<th scope=\"col\" class=\"num\">A</th>"
                           "<th scope=\"col\" class=\"num\">B</th>"
                           "<th scope=\"col\">why B scored so</th></tr></thead><tbody>");
            sv_puts(b, "<tr><td>");
            sv_esc(b, json_string_value(json_object_get(s, "scorer")));
            sv_puts(b, "</td><th scope=\"row\">");
            sv_esc(b, json_string_value(json_object_get(c, "case_id")));
            sv_puts(b, "</th>");
            num_cell(b, jnum(json_object_get(c, "a")), 3);
            num_cell(b, jnum(json_object_get(c, "b")), 3);
            sv_puts(b, "<td>");
            sv_esc(b, json_string_value(json_object_get(c, "explanation_b")));
            sv_puts(b, "</td></tr>");
        }
    }
    if (any)
        sv_puts(b, "</tbody></table>");
    else
        sv_puts(b, "<p id=\"regressed-none\">No case regressed.</p>");
}

int sv_page_dash_eval_compare(sv_req *r)
{
    static const char *const ids[] = {"means", "outcomes"};
    char a[128], bn[128];
    int csv_k = 0, csv = read_csv(r, ids, 2, &csv_k);
    if (csv < 0)
        return 0;
    if (sv_query(r, "a", a, sizeof a) != 1 || sv_query(r, "b", bn, sizeof bn) != 1 || !a[0] ||
        !bn[0])
        return sv_error_page(r, 400, "Bad request", "Name the two runs: ?a=BASELINE&b=CANDIDATE.");
    const char *names[2] = {a, bn};
    if (runs_readable(r, names, 2) != 0)
        return 0;
    fw_eval_compare_opts o;
    fw_eval_compare_opts_init(&o);
    char err[512];
    json_t *cmp = fw_eval_compare(sv_req_db(r)->c, a, bn, &o, err, sizeof err);
    if (!cmp)
        return library_failed(r, "compare", err);
    const json_t *list = json_object_get(cmp, "scorers");
    int n = (int)json_array_size(list);
    ev_chart means, outs;
    const char *side_names[2] = {a, bn};
    static const char *const out_names[] = {"improved", "regressed", "unchanged"};
    int ok = ev_chart_alloc(&means, n, 2) == 0 && ev_chart_alloc(&outs, n, 3) == 0;
    for (int i = 0; ok && i < n; i++) {
        const json_t *s = json_array_get(list, (size_t)i);
        snprintf(means.labels[i], sizeof means.labels[i], "%s",
                 json_string_value(json_object_get(s, "scorer")));
        memcpy(outs.labels[i], means.labels[i], sizeof outs.labels[i]);
        means.v[i] = jnum(json_object_get(s, "mean_a"));
        means.v[(size_t)n + (size_t)i] = jnum(json_object_get(s, "mean_b"));
        for (int k = 0; k < 3; k++)
            outs.v[(size_t)k * (size_t)n + (size_t)i] = jnum(json_object_get(s, out_names[k]));
    }
    sv_buf base = {0};
    sv_puts(&base, "/dash/evals/compare?a=");
    sv_urlenc(&base, a);
    sv_puts(&base, "&b=");
    sv_urlenc(&base, bn);
    ev_chart_set(&means, SV_CHART_BAR, "means", "Mean score by scorer, A and B", "scorer",
                 "score (0–1)", 3, side_names, sv_buf_cstr(&base));
    ev_chart_set(&outs, SV_CHART_STACKED, "outcomes", "Cases improved, regressed and unchanged",
                 "scorer", "cases", 0, out_names, sv_buf_cstr(&base));
    if (!ok) {
        r->out.oom = 1;
    } else if (csv) {
        dash_csv_answer(r, csv_k == 0 ? &means.c : &outs.c);
    } else {
        dash_page_begin(r, "Compare eval runs", "/dash/evals");
        sv_buf *b = &r->out;
        sv_puts(b, "<main class=\"dash\"><p><a href=\"/dash/evals\">Eval runs</a> ›</p><h1>");
        sv_esc(b, bn);
        sv_puts(b, " against ");
        sv_esc(b, a);
        sv_printf(b, "</h1><p class=\"window\">A (<a href=\"");
        run_href(b, a);
        sv_puts(b, "\">");
        sv_esc(b, a);
        sv_puts(b, "</a>) is the baseline, B (<a href=\"");
        run_href(b, bn);
        sv_puts(b, "\">");
        sv_esc(b, bn);
        sv_printf(b,
                  "</a>) the candidate: the comparison <code>flywheel eval compare</code> prints "
                  "(bootstrap seed %lld, %lld resamples). A case improved when B's score is "
                  "higher than A's, regressed when lower, else unchanged.</p>",
                  (long long)json_integer_value(json_object_get(cmp, "seed")),
                  (long long)json_integer_value(json_object_get(cmp, "resamples")));
        deltas_table(b, list, a, bn);
        sv_puts(b, "<div class=\"charts\">");
        sv_chart_figure(b, &means.c);
        sv_chart_figure(b, &outs.c);
        sv_puts(b, "</div>");
        sides_table(b, cmp, a, bn);
        regressed_table(b, list);
        sv_puts(b, "</main>");
        sv_page_end(r);
    }
    sv_buf_free(&base);
    ev_chart_free(&means);
    ev_chart_free(&outs);
    json_decref(cmp);
    return 0;
}
