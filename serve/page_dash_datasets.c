/*
 * Dashboards: the recorded dataset versions (/dash/datasets) and one
 * version (/dash/datasets/NAME/K): its manifest, lines per split, rejected
 * rows by reason, lineage (queue, rubric version, consensus, filters,
 * split, dedupe, redaction), its files with their sha256 and a download of
 * each, and the diff with another version.
 *
 * The numbers come from the store library, so they are the ones the
 * command line prints: the list is fw_store_dataset_list (`flywheel dataset
 * list`), the diff fw_store_dataset_diff (`flywheel dataset diff`) and
 * flywheel.dataset_diff for the changed members, a download re-exports the
 * version through the export writer (dataset_stream.c). Everything runs as
 * the account's role: flywheel_reader may read versions and manifests but
 * not members (no diff) nor generations (no download); PostgreSQL says so
 * and the page shows a note, or answers 403.
 */
#include "dash.h"
#include "dataset_stream.h"

#include "flywheel/store.h"
#include "log.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DS_MAX_CHANGES 200

/* Answers a failed store call: 403 for 42501, 404 not found, 400 for an
 * invalid request, else 500 (logged). */
static int store_error_page(sv_req *r, const fw_store_error *e)
{
    if (strcmp(e->sqlstate, "42501") == 0)
        return sv_error_page(r, 403, "Not allowed", "Your account is not allowed to do this.");
    if (e->code == FW_STORE_NOT_FOUND)
        return sv_error_page(r, 404, "Not found", e->message);
    if (e->code == FW_STORE_INVALID)
        return sv_error_page(r, 400, "Bad request", e->message);
    char q[1100];
    fw_log_error("dataset query failed", "code=%s sqlstate=%s error=%s",
                 fw_store_code_text(e->code), e->sqlstate[0] ? e->sqlstate : "none",
                 fw_log_quote(q, sizeof q, e->message));
    return sv_error_page(r, 500, "Internal error", "The request failed; it has been logged.");
}

/* A chart over caller-owned arrays: n labels of up to 144 bytes, nseries
 * series of n values. */
typedef struct {
    sv_chart c;
    char (*labels)[144];
    const char **x;
    double *v;
} ds_chart;

static int ds_chart_alloc(ds_chart *dc, int n, int nseries)
{
    memset(dc, 0, sizeof *dc);
    size_t m = n ? (size_t)n : 1;
    dc->labels = calloc(m, sizeof *dc->labels);
    dc->x = calloc(m, sizeof *dc->x);
    dc->v = calloc(m * (size_t)nseries, sizeof *dc->v);
    if (!dc->labels || !dc->x || !dc->v)
        return -1;
    for (size_t i = 0; i < m; i++)
        dc->x[i] = dc->labels[i];
    dc->c.n = n;
    dc->c.nseries = nseries;
    dc->c.x_labels = dc->x;
    dc->c.values = dc->v;
    return 0;
}

static void ds_chart_free(ds_chart *dc)
{
    free(dc->labels);
    free(dc->x);
    free(dc->v);
}

static double jnum(const json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The CSV link of chart `id` of the page at `base` (already URL-safe). */
static void csv_href(sv_buf *b, const char *base, const char *id)
{
    sv_buf_reset(b);
    sv_puts(b, base);
    sv_puts(b, "?csv=");
    sv_puts(b, id);
}

static void version_href(sv_buf *b, const char *dataset, long long version)
{
    sv_puts(b, "/dash/datasets/");
    sv_urlenc(b, dataset);
    sv_printf(b, "/%lld", version);
}

/* ---- /dash/datasets -------------------------------------------------------- */

static const char *const split_names[] = {"train", "validation", "test"};
static const char *const rejected_names[] = {"rejected rows"};

static void list_table(sv_buf *b, const json_t *rows)
{
    if (json_array_size(rows) == 0) {
        sv_puts(b, "<p class=\"empty\">No dataset version is recorded yet. <code>flywheel export "
                   "--dataset NAME</code> records one.</p>");
        return;
    }
    sv_puts(b, "<table class=\"grid\" id=\"versions-list\"><caption>Every recorded version"
               "</caption><thead><tr><th scope=\"col\">dataset</th><th scope=\"col\">version</th>"
               "<th scope=\"col\">format</th><th scope=\"col\">created (UTC)</th>"
               "<th scope=\"col\">by</th><th scope=\"col\" class=\"num\">members</th>"
               "<th scope=\"col\" class=\"num\">train</th>"
               "<th scope=\"col\" class=\"num\">validation</th>"
               "<th scope=\"col\" class=\"num\">test</th>"
               "<th scope=\"col\" class=\"num\">rejected</th></tr></thead><tbody>");
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *ds = json_string_value(json_object_get(row, "dataset"));
        long long ver = (long long)json_integer_value(json_object_get(row, "version"));
        sv_puts(b, "<tr><th scope=\"row\">");
        sv_esc(b, ds);
        sv_puts(b, "</th><td><a href=\"");
        version_href(b, ds ? ds : "", ver);
        sv_printf(b, "\">v%lld</a></td><td>", ver);
        sv_esc(b, json_string_value(json_object_get(row, "format")));
        sv_puts(b, "</td><td>");
        sv_esc(b, json_string_value(json_object_get(row, "created_at")));
        sv_puts(b, "</td><td>");
        sv_esc(b, json_string_value(json_object_get(row, "created_by")));
        sv_puts(b, "</td>");
        static const char *const cols[] = {"members", "train", "validation", "test", "rejected"};
        for (int k = 0; k < 5; k++) {
            const json_t *v = json_object_get(row, cols[k]);
            if (json_is_integer(v))
                sv_printf(b, "<td class=\"num\">%lld</td>", (long long)json_integer_value(v));
            else
                sv_puts(b, "<td class=\"num\">–</td>");
        }
        sv_puts(b, "</tr>");
    }
    sv_puts(b, "</tbody></table>");
}

int sv_page_dash_datasets(sv_req *r)
{
    char csv[16];
    int rc = sv_query(r, "csv", csv, sizeof csv);
    if (rc < 0 || (rc == 1 && strcmp(csv, "versions") != 0 && strcmp(csv, "rejected") != 0))
        return sv_error_page(r, 404, "Not found", "There is no such chart on this page.");
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    fw_store_error err;
    json_t *rows = fw_store_dataset_list(d->c, &err);
    if (!rows)
        return store_error_page(r, &err);

    int n = (int)json_array_size(rows);
    ds_chart lines, rej;
    sv_buf href = {0}, href2 = {0};
    int ok = ds_chart_alloc(&lines, n, 3) == 0 && ds_chart_alloc(&rej, n, 1) == 0;
    for (int i = 0; ok && i < n; i++) {
        const json_t *row = json_array_get(rows, (size_t)i);
        snprintf(lines.labels[i], sizeof lines.labels[i], "%s v%lld",
                 json_string_value(json_object_get(row, "dataset")),
                 (long long)json_integer_value(json_object_get(row, "version")));
        memcpy(rej.labels[i], lines.labels[i], sizeof rej.labels[i]);
        for (int s = 0; s < 3; s++)
            lines.v[(size_t)s * (size_t)n + (size_t)i] = jnum(json_object_get(row, split_names[s]));
        rej.v[i] = jnum(json_object_get(row, "rejected"));
    }
    lines.c.kind = SV_CHART_STACKED;
    lines.c.id = "versions";
    lines.c.title = "Lines per split of every dataset version";
    lines.c.x_title = "dataset version";
    lines.c.unit = "lines";
    lines.c.series_names = split_names;
    csv_href(&href, "/dash/datasets", "versions");
    lines.c.csv_href = sv_buf_cstr(&href);
    rej.c.kind = SV_CHART_BAR;
    rej.c.id = "rejected";
    rej.c.title = "Rejected rows of every dataset version";
    rej.c.x_title = "dataset version";
    rej.c.unit = "rows";
    rej.c.series_names = rejected_names;
    csv_href(&href2, "/dash/datasets", "rejected");
    rej.c.csv_href = sv_buf_cstr(&href2);

    if (!ok) {
        r->out.oom = 1;
    } else if (rc == 1) {
        dash_csv_answer(r, strcmp(csv, "versions") == 0 ? &lines.c : &rej.c);
    } else {
        dash_page_begin(r, "Datasets", "/dash/datasets");
        sv_buf *b = &r->out;
        sv_puts(b, "<main class=\"dash\"><h1>Datasets</h1><p class=\"window\">Every dataset "
                   "version <code>flywheel export --dataset</code> recorded (the same list as "
                   "<code>flywheel dataset list</code>); times are UTC. Open a version for its "
                   "manifest, lineage, files and the diff with another version.</p>");
        list_table(b, rows);
        sv_puts(b, "<div class=\"charts\">");
        sv_chart_figure(b, &lines.c);
        sv_chart_figure(b, &rej.c);
        sv_puts(b, "</div></main>");
        sv_page_end(r);
    }
    ds_chart_free(&lines);
    ds_chart_free(&rej);
    sv_buf_free(&href);
    sv_buf_free(&href2);
    json_decref(rows);
    return 0;
}

/* ---- /dash/datasets/NAME/K ------------------------------------------------- */

static const char version_sql[] =
    "SELECT v.format, v.members, to_char(v.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
    "       v.created_by, d.description, v.parameters::text, v.manifest::text,"
    "       (SELECT string_agg(w.version::text, ',' ORDER BY w.version)"
    "          FROM flywheel.dataset_versions w WHERE w.dataset = v.dataset),"
    "       has_table_privilege('flywheel.dataset_members', 'SELECT')"
    "         AND has_table_privilege('flywheel.generations', 'SELECT')"
    " FROM flywheel.dataset_versions v JOIN flywheel.datasets d ON d.name = v.dataset"
    " WHERE v.dataset = $1 AND v.version = $2::integer";

/* A JSON value as text: a string as it is, anything else as compact JSON. */
static void json_text(sv_buf *b, const json_t *v)
{
    if (!v || json_is_null(v)) {
        sv_puts(b, "–");
        return;
    }
    if (json_is_string(v)) {
        sv_esc(b, json_string_value(v));
        return;
    }
    char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!t) {
        b->oom = 1;
        return;
    }
    sv_esc(b, t);
    free(t);
}

static void lineage_row(sv_buf *b, const char *name, const char *id)
{
    sv_printf(b, "<tr id=\"lineage-%s\"><th scope=\"row\">", id);
    sv_esc(b, name);
    sv_puts(b, "</th><td>");
}

/* Appends "key value" items of the non-empty selection filters. */
static int filters(sv_buf *b, const json_t *sel)
{
    int n = 0;
    static const char *const lists[] = {"where", "feedback", "tags"};
    for (int k = 0; k < 3; k++) {
        size_t i;
        const json_t *v;
        json_array_foreach(json_object_get(sel, lists[k]), i, v)
        {
            sv_puts(b, n++ ? "; " : "");
            sv_printf(b, "%s ", k == 2 ? "tag" : lists[k]);
            sv_esc(b, json_string_value(v));
        }
    }
    static const char *const keys[] = {"since",           "until",          "project",
                                       "environment",     "model",          "release",
                                       "prompt_template", "prompt_version", "limit"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const json_t *v = json_object_get(sel, keys[k]);
        if (!v || json_is_null(v))
            continue;
        sv_puts(b, n++ ? "; " : "");
        sv_printf(b, "%s ", keys[k]);
        json_text(b, v);
    }
    return n;
}

static void lineage(sv_buf *b, const json_t *p)
{
    const json_t *sel = json_object_get(p, "selection"), *rub = json_object_get(p, "rubric");
    const json_t *split = json_object_get(p, "split"), *red = json_object_get(p, "redact");
    sv_puts(b, "<table class=\"grid\" id=\"lineage\"><caption>Lineage: where the rows came from"
               "</caption><tbody>");
    lineage_row(b, "review queue", "queue");
    const char *queue = json_string_value(json_object_get(sel, "queue"));
    if (queue)
        sv_esc(b, queue);
    else
        sv_puts(b, "none (generations selected without review)");
    sv_puts(b, "</td></tr>");
    lineage_row(b, "rubric", "rubric");
    if (json_is_object(rub)) {
        sv_esc(b, json_string_value(json_object_get(rub, "name")));
        sv_printf(b, " version %lld",
                  (long long)json_integer_value(json_object_get(rub, "version")));
    } else {
        sv_puts(b, "none");
    }
    sv_puts(b, "</td></tr>");
    lineage_row(b, "consensus", "consensus");
    json_text(b, json_object_get(sel, "consensus"));
    sv_puts(b, "</td></tr>");
    lineage_row(b, "filters", "filters");
    if (filters(b, sel) == 0)
        sv_puts(b, "none");
    sv_puts(b, "</td></tr>");
    lineage_row(b, "split", "split");
    const json_t *ratios = json_object_get(split, "ratios");
    for (size_t i = 0; i < json_array_size(ratios); i++)
        sv_printf(b, "%s%g", i ? "/" : "", 100 * jnum(json_array_get(ratios, i)));
    sv_puts(b, " by ");
    json_text(b, json_object_get(split, "group_by"));
    sv_puts(b, ", seed ");
    json_text(b, json_object_get(split, "seed"));
    sv_puts(b, "</td></tr>");
    lineage_row(b, "dedupe", "dedupe");
    sv_puts(b, json_is_true(json_object_get(p, "dedupe")) ? "on" : "off");
    sv_puts(b, "</td></tr>");
    lineage_row(b, "redaction", "redact");
    size_t nd = json_array_size(json_object_get(red, "detectors"));
    size_t nr = json_array_size(json_object_get(red, "rules"));
    if (nd == 0 && nr == 0) {
        sv_puts(b, "none");
    } else {
        json_text(b, json_object_get(red, "detectors"));
        sv_printf(b, " and %zu rule%s", nr, nr == 1 ? "" : "s");
    }
    sv_puts(b, "</td></tr>");
    lineage_row(b, "output", "output");
    long long z = (long long)json_integer_value(json_object_get(p, "zstd_level"));
    if (z)
        sv_printf(b, "JSONL, zstd level %lld", z);
    else
        sv_puts(b, "JSONL, plain");
    sv_puts(b, "</td></tr></tbody></table>");
}

static void files_table(sv_buf *b, const char *dataset, int version, const json_t *files,
                        int may_download)
{
    sv_puts(b,
            "<table class=\"grid\" id=\"files\"><caption>Files</caption><thead><tr>"
            "<th scope=\"col\">file</th><th scope=\"col\">split</th>"
            "<th scope=\"col\" class=\"num\">lines</th><th scope=\"col\" class=\"num\">bytes</th>"
            "<th scope=\"col\">sha256</th><th scope=\"col\">download</th></tr></thead><tbody>");
    size_t i;
    const json_t *f;
    json_array_foreach(files, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        sv_puts(b, "<tr><th scope=\"row\">");
        sv_esc(b, name);
        sv_puts(b, "</th><td>");
        sv_esc(b, json_string_value(json_object_get(f, "split")));
        sv_printf(b, "</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td><td><code>",
                  (long long)json_integer_value(json_object_get(f, "lines")),
                  (long long)json_integer_value(json_object_get(f, "bytes")));
        sv_esc(b, json_string_value(json_object_get(f, "sha256")));
        sv_puts(b, "</code></td><td>");
        if (may_download && name) {
            sv_puts(b, "<a download href=\"");
            version_href(b, dataset, version);
            sv_puts(b, "/download?file=");
            sv_urlenc(b, name);
            sv_puts(b, "\">");
            sv_esc(b, name);
            sv_puts(b, "</a>");
        } else {
            sv_puts(b, "not for your account");
        }
        sv_puts(b, "</td></tr>");
    }
    sv_puts(b, "</tbody></table>");
    if (!may_download)
        sv_puts(b, "<p class=\"empty denied\">Downloads: your account may not read the text of "
                   "the generations (PostgreSQL refuses it; an admin can grant it).</p>");
}

/* The diff form: a choice of the other versions. */
static void diff_form(sv_req *r, const char *dataset, int version, const char *versions, int diff)
{
    sv_buf *b = &r->out;
    sv_puts(b, "<form class=\"filters\" method=\"get\" action=\"");
    version_href(b, dataset, version);
    sv_puts(b, "\"><div><label for=\"f-diff\">Compare with version</label>"
               "<select id=\"f-diff\" name=\"diff\">");
    int any = 0;
    for (const char *p = versions; p && *p;) {
        int v = (int)strtol(p, NULL, 10);
        if (v != version) {
            sv_printf(b, "<option value=\"%d\"%s>v%d</option>", v, v == diff ? " selected" : "", v);
            any = 1;
        }
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    sv_puts(b, "</select></div><div><button type=\"submit\" class=\"primary\">Compare</button>"
               "</div></form>");
    if (!any)
        sv_puts(b, "<p class=\"empty\">This dataset has no other version to compare with.</p>");
}

/* The diff of version `from` → `to`: fw_store_dataset_diff, and the first
 * changed members from flywheel.dataset_diff. Returns 0, or -1 after
 * answering the request (an error page). */
static int diff_section(sv_req *r, const char *dataset, int from, int to)
{
    sv_buf *b = &r->out;
    sv_db *d = sv_req_db(r);
    fw_store_error err;
    json_t *doc = fw_store_dataset_diff(d->c, dataset, from, to, 0, &err);
    if (!doc && strcmp(err.sqlstate, "42501") == 0) {
        dash_denied_note(r, "The diff between versions");
        return 0;
    }
    if (!doc) {
        store_error_page(r, &err);
        return -1;
    }
    sv_printf(b,
              "<section id=\"diff\" aria-labelledby=\"diff-h\"><h2 id=\"diff-h\">From v%d to v%d"
              "</h2>",
              from, to);
    sv_printf(b, "<p>The same comparison as <code>flywheel dataset diff ");
    sv_esc(b, dataset);
    sv_printf(b, " %d %d</code>.</p>", from, to);
    const json_t *m = json_object_get(doc, "members");
    sv_printf(b,
              "<dl class=\"tiles\"><div><dt>Members added</dt><dd id=\"diff-added\">%lld</dd>"
              "</div><div><dt>Members removed</dt><dd id=\"diff-removed\">%lld</dd></div>"
              "<div><dt>Members relabelled</dt><dd id=\"diff-relabelled\">%lld</dd></div></dl>",
              (long long)json_integer_value(json_object_get(m, "added")),
              (long long)json_integer_value(json_object_get(m, "removed")),
              (long long)json_integer_value(json_object_get(m, "relabelled")));
    sv_puts(b, "<table class=\"grid\" id=\"diff-lines\"><caption>Lines per split</caption><thead>"
               "<tr><th scope=\"col\">split</th>");
    sv_printf(b, "<th scope=\"col\" class=\"num\">v%d</th><th scope=\"col\" class=\"num\">v%d</th>",
              from, to);
    sv_puts(b, "<th scope=\"col\" class=\"num\">change</th></tr></thead><tbody>");
    for (int s = 0; s < 3; s++) {
        const json_t *l = json_object_get(json_object_get(doc, "lines"), split_names[s]);
        long long a = (long long)json_integer_value(json_object_get(l, "from"));
        long long z = (long long)json_integer_value(json_object_get(l, "to"));
        sv_printf(b,
                  "<tr><th scope=\"row\">%s</th><td class=\"num\">%lld</td>"
                  "<td class=\"num\">%lld</td><td class=\"num\">%+lld</td></tr>",
                  split_names[s], a, z, z - a);
    }
    sv_puts(b, "</tbody></table>");
    const json_t *params = json_object_get(doc, "parameters");
    if (json_array_size(params) == 0) {
        sv_puts(b, "<p id=\"diff-params-none\">The parameters are the same.</p>");
    } else {
        sv_puts(b, "<table class=\"grid\" id=\"diff-params\"><caption>Parameters that differ"
                   "</caption><thead><tr><th scope=\"col\">parameter</th>");
        sv_printf(b, "<th scope=\"col\">v%d</th><th scope=\"col\">v%d</th></tr></thead><tbody>",
                  from, to);
        size_t i;
        const json_t *p;
        json_array_foreach(params, i, p)
        {
            sv_puts(b, "<tr><th scope=\"row\">");
            sv_esc(b, json_string_value(json_object_get(p, "path")));
            sv_puts(b, "</th><td>");
            json_text(b, json_object_get(p, "from"));
            sv_puts(b, "</td><td>");
            json_text(b, json_object_get(p, "to"));
            sv_puts(b, "</td></tr>");
        }
        sv_puts(b, "</tbody></table>");
    }
    json_decref(doc);

    char vf[16], vt[16], lim[16];
    snprintf(vf, sizeof vf, "%d", from);
    snprintf(vt, sizeof vt, "%d", to);
    snprintf(lim, sizeof lim, "%d", DS_MAX_CHANGES);
    const char *params3[4] = {dataset, vf, vt, lim};
    PGresult *res = sv_db_exec(d,
                               "SELECT change, event_id::text, item_id"
                               " FROM flywheel.dataset_diff($1, $2::integer, $3::integer)"
                               " LIMIT $4::integer",
                               4, params3);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        sv_db_error_page(r, res);
        PQclear(res);
        return -1;
    }
    int n = PQntuples(res);
    if (n == 0) {
        sv_puts(b, "<p>No member was added, removed or relabelled.</p>");
    } else {
        sv_printf(b, "<details class=\"numbers\"><summary>The changed members (%d%s)</summary>", n,
                  n == DS_MAX_CHANGES ? " shown" : "");
        sv_puts(b, "<table class=\"grid\" id=\"diff-members\"><caption>Changed members");
        if (n == DS_MAX_CHANGES)
            sv_printf(b, " (the first %d; <code>flywheel dataset diff --members</code> lists all)",
                      DS_MAX_CHANGES);
        sv_puts(b, "</caption><thead><tr><th scope=\"col\">change</th><th scope=\"col\">event id"
                   "</th><th scope=\"col\" class=\"num\">review item</th></tr></thead><tbody>");
        for (int i = 0; i < n; i++) {
            sv_puts(b, "<tr><td>");
            sv_esc(b, PQgetvalue(res, i, 0));
            sv_puts(b, "</td><td><code>");
            sv_esc(b, PQgetvalue(res, i, 1));
            sv_puts(b, "</code></td><td class=\"num\">");
            sv_esc(b, PQgetvalue(res, i, 2));
            sv_puts(b, "</td></tr>");
        }
        sv_puts(b, "</tbody></table></details>");
    }
    PQclear(res);
    sv_puts(b, "</section>");
    return 0;
}

/* Reads ?diff=K: 0 absent, -1 invalid (answered 400). */
static int read_diff(sv_req *r, int *diff)
{
    char t[16], *end;
    *diff = 0;
    int rc = sv_query(r, "diff", t, sizeof t);
    if (rc == 0 || (rc == 1 && t[0] == '\0'))
        return 0;
    long v = rc == 1 ? strtol(t, &end, 10) : 0;
    if (rc < 0 || *end || v < 1 || v > 1000000000) {
        sv_error_page(r, 400, "Bad request", "diff must be a version number.");
        return -1;
    }
    *diff = (int)v;
    return 0;
}

static void version_page(sv_req *r, const char *dataset, int version, PGresult *res,
                         const json_t *params, const json_t *man, ds_chart *splits, ds_chart *rej,
                         int diff)
{
    sv_buf *b = &r->out;
    char title[300];
    snprintf(title, sizeof title, "%s v%d", dataset, version);
    dash_page_begin(r, title, "/dash/datasets");
    sv_puts(b, "<main class=\"dash\"><p><a href=\"/dash/datasets\">Datasets</a> ›</p><h1>");
    sv_esc(b, title);
    sv_puts(b, "</h1>");
    if (*PQgetvalue(res, 0, 4)) {
        sv_puts(b, "<p>");
        sv_esc(b, PQgetvalue(res, 0, 4));
        sv_puts(b, "</p>");
    }
    const json_t *lines = json_object_get(man, "lines");
    long long total = 0;
    for (int s = 0; s < 3; s++)
        total += (long long)json_integer_value(json_object_get(lines, split_names[s]));
    sv_puts(b, "<dl class=\"tiles\"><div><dt>Format</dt><dd id=\"tile-format\">");
    sv_esc(b, PQgetvalue(res, 0, 0));
    const char *style = json_string_value(json_object_get(man, "style"));
    if (style && strcmp(PQgetvalue(res, 0, 0), "preference") == 0) {
        sv_puts(b, " (");
        sv_esc(b, style);
        sv_puts(b, ")");
    }
    sv_puts(b, "</dd></div><div><dt>Members</dt><dd id=\"tile-members\">");
    sv_esc(b, PQgetvalue(res, 0, 1));
    sv_printf(b, "</dd></div><div><dt>Lines</dt><dd id=\"tile-lines\">%lld</dd></div>", total);
    sv_printf(b, "<div><dt>Rejected</dt><dd id=\"tile-rejected\">%lld</dd></div>",
              (long long)json_integer_value(json_object_get(man, "rejected_total")));
    sv_puts(b, "<div><dt>Recorded (UTC)</dt><dd id=\"tile-created\">");
    sv_esc(b, PQgetvalue(res, 0, 2));
    sv_puts(b, "</dd></div><div><dt>By</dt><dd id=\"tile-by\">");
    sv_esc(b, PQgetvalue(res, 0, 3));
    sv_puts(b, "</dd></div></dl>");
    if (!man)
        sv_puts(b, "<p class=\"empty\">No manifest was recorded with this version.</p>");

    sv_puts(b, "<div class=\"charts\">");
    sv_chart_figure(b, &splits->c);
    sv_chart_figure(b, &rej->c);
    sv_puts(b, "</div>");
    lineage(b, params);
    files_table(b, dataset, version, json_object_get(man, "files"),
                PQgetvalue(res, 0, 8)[0] == 't');
    sv_puts(b, "<p>A downloaded file is re-exported from the store and is byte for byte what "
               "<code>flywheel export --dataset ");
    sv_esc(b, dataset);
    sv_printf(b, " --version %d -o DIR</code> writes; its sha256 is the one above.</p>", version);
    if (man) {
        char *text = json_dumps(man, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text) {
            b->oom = 1;
        } else {
            sv_puts(b, "<details class=\"numbers\" id=\"manifest\"><summary>The recorded manifest"
                       "</summary><pre class=\"payload\">");
            sv_esc(b, text);
            sv_puts(b, "</pre></details>");
            free(text);
        }
    }
    sv_puts(b, "<h2>Diff with another version</h2>");
    diff_form(r, dataset, version, PQgetvalue(res, 0, 7), diff);
}

int sv_page_dash_dataset(sv_req *r)
{
    const char *dataset = r->cap_str;
    if (r->cap_num[0] > 1000000000)
        return sv_error_page(r, 404, "Not found", "There is no such dataset version.");
    int version = (int)r->cap_num[0];
    char csv[16];
    int csv_rc = sv_query(r, "csv", csv, sizeof csv);
    if (csv_rc < 0 || (csv_rc == 1 && strcmp(csv, "splits") != 0 && strcmp(csv, "rejected") != 0))
        return sv_error_page(r, 404, "Not found", "There is no such chart on this page.");
    int diff;
    if (read_diff(r, &diff) != 0)
        return 0;
    char ver[16];
    snprintf(ver, sizeof ver, "%d", version);
    const char *p[2] = {dataset, ver};
    PGresult *res = dash_exec(r, version_sql, 2, p);
    if (!res)
        return 0;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return sv_error_page(r, 404, "Not found", "There is no such dataset version.");
    }
    json_t *params = json_loads(PQgetvalue(res, 0, 5), 0, NULL);
    json_t *man = PQgetisnull(res, 0, 6) ? NULL : json_loads(PQgetvalue(res, 0, 6), 0, NULL);
    const json_t *rejected = json_object_get(man, "rejected");
    int nrej = (int)json_object_size(rejected);
    ds_chart splits, rej;
    sv_buf href = {0}, href2 = {0};
    int ok = params && ds_chart_alloc(&splits, 3, 1) == 0 && ds_chart_alloc(&rej, nrej, 1) == 0;
    if (ok) {
        static const char *const lines_name[] = {"lines"}, *const rows_name[] = {"rejected rows"};
        for (int s = 0; s < 3; s++) {
            snprintf(splits.labels[s], sizeof splits.labels[s], "%s", split_names[s]);
            splits.v[s] = jnum(json_object_get(json_object_get(man, "lines"), split_names[s]));
        }
        int i = 0;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)(uintptr_t)rejected, k, v)
        {
            if (i < nrej) {
                snprintf(rej.labels[i], sizeof rej.labels[i], "%s", k);
                rej.v[i++] = jnum(v);
            }
        }
        sv_buf base = {0};
        version_href(&base, dataset, version);
        csv_href(&href, sv_buf_cstr(&base), "splits");
        csv_href(&href2, sv_buf_cstr(&base), "rejected");
        sv_buf_free(&base);
        splits.c = (sv_chart){.kind = SV_CHART_BAR,
                              .id = "splits",
                              .title = "Lines per split",
                              .x_title = "split",
                              .unit = "lines",
                              .n = 3,
                              .x_labels = splits.x,
                              .nseries = 1,
                              .series_names = lines_name,
                              .values = splits.v,
                              .csv_href = sv_buf_cstr(&href)};
        rej.c = (sv_chart){.kind = SV_CHART_BAR,
                           .id = "rejected",
                           .title = "Rejected rows by reason",
                           .x_title = "reason",
                           .unit = "rows",
                           .n = nrej,
                           .x_labels = rej.x,
                           .nseries = 1,
                           .series_names = rows_name,
                           .values = rej.v,
                           .csv_href = sv_buf_cstr(&href2)};
    }
    if (!params) {
        sv_error_page(r, 500, "Internal error", "The recorded parameters are not JSON.");
    } else if (!ok) {
        r->out.oom = 1;
    } else if (csv_rc == 1) {
        dash_csv_answer(r, strcmp(csv, "splits") == 0 ? &splits.c : &rej.c);
    } else {
        version_page(r, dataset, version, res, params, man, &splits, &rej, diff);
        if (diff == 0 || diff_section(r, dataset, diff, version) == 0) {
            sv_puts(&r->out, "</main>");
            sv_page_end(r);
        }
    }
    if (params) {
        ds_chart_free(&splits);
        ds_chart_free(&rej);
    }
    sv_buf_free(&href);
    sv_buf_free(&href2);
    json_decref(params);
    json_decref(man);
    PQclear(res);
    return 0;
}

/* ---- /dash/datasets/NAME/K/download?file=F ---------------------------------- */

int sv_page_dash_dataset_download(sv_req *r)
{
    const char *dataset = r->cap_str;
    if (r->cap_num[0] > 1000000000)
        return sv_error_page(r, 404, "Not found", "There is no such dataset version.");
    int version = (int)r->cap_num[0];
    char file[64];
    if (sv_query(r, "file", file, sizeof file) != 1)
        return sv_error_page(r, 400, "Bad request", "Say which file: ?file=train.jsonl.");
    char ver[16];
    snprintf(ver, sizeof ver, "%d", version);
    const char *p[3] = {dataset, ver, file};
    /* The file must be a data file of the version's manifest (never the
     * manifest itself: a re-export writes a new created_at into it). */
    PGresult *res = dash_exec(r,
                              "SELECT EXISTS (SELECT 1 FROM jsonb_array_elements("
                              "  coalesce(v.manifest->'files', '[]')) f"
                              "  WHERE f->>'name' = $3 AND f->>'split' IN ('train', 'validation', "
                              "'test'))"
                              " FROM flywheel.dataset_versions v"
                              " WHERE v.dataset = $1 AND v.version = $2::integer",
                              3, p);
    if (!res)
        return 0;
    int found = PQntuples(res) == 1, named = found && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!found)
        return sv_error_page(r, 404, "Not found", "There is no such dataset version.");
    if (!named)
        return sv_error_page(r, 404, "Not found", "This version has no such file.");
    /* Raw text leaves the store: an audit row for every download started
     * (also one PostgreSQL refuses next, which then answers 403). */
    json_t *detail =
        json_pack("{s:s, s:i, s:s}", "dataset", dataset, "version", version, "file", file);
    char *dj = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    if (!dj) {
        r->out.oom = 1;
        return 0;
    }
    sv_audit(r, "dataset_download", 0, dj);
    free(dj);
    return sv_dataset_stream(r, dataset, version, file);
}
