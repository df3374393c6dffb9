/*
 * Pages beyond the reviewer's own item: disputes and their adjudication,
 * the quality page (agreement, gold accuracy, throughput, time per item),
 * and the reviewer's history with edits until an item is adjudicated.
 *
 * Like every page they run as the signed-in account's role and the server
 * decides nothing about roles: the adjudication functions and the queue
 * statistics are granted to flywheel_adjudicator and flywheel_admin
 * (R__50_web.sql), so a reviewer opening /adjudicate gets PostgreSQL's
 * refusal (42501) as a 403. The history functions return only the caller's
 * own labels, so another reviewer's item is a 404.
 *
 * The item is rendered by the reviewer's renderer (review_ui.h), with the
 * reviewers' answers beside it as "Reviewer A/B/C" (names only when the
 * queue shows them) and each sentence of the output marked when their span
 * labels differ. A decision or an edit carries the version of the page it
 * was made on (the newest label id); a page that did not show every label
 * is refused with 409.
 */
#include "app.h"
#include "review_ui.h"

#include "flywheel/store.h"
#include "log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------- */

/* A table of a query's rows (every value escaped; NULL shown as "—"). The
 * result must have `ncols` columns named in `heads`; numeric columns (their
 * index bit set in `num_mask`) are right-aligned. */
static void result_table(sv_buf *b, PGresult *res, const char *caption, const char *const *heads,
                         int ncols, unsigned num_mask)
{
    sv_puts(b, "<table class=\"grid\"><caption>");
    sv_esc(b, caption);
    sv_puts(b, "</caption><thead><tr>");
    for (int c = 0; c < ncols; c++) {
        sv_puts(b, (num_mask >> c & 1) ? "<th class=\"num\">" : "<th>");
        sv_esc(b, heads[c]);
        sv_puts(b, "</th>");
    }
    sv_puts(b, "</tr></thead><tbody>");
    for (int i = 0; i < PQntuples(res); i++) {
        sv_puts(b, "<tr>");
        for (int c = 0; c < ncols; c++) {
            sv_puts(b, (num_mask >> c & 1) ? "<td class=\"num\">" : "<td>");
            sv_esc(b, PQgetisnull(res, i, c) ? "—" : PQgetvalue(res, i, c));
            sv_puts(b, "</td>");
        }
        sv_puts(b, "</tr>");
    }
    if (PQntuples(res) == 0)
        sv_printf(b, "<tr><td colspan=\"%d\" class=\"hint\">nothing yet</td></tr>", ncols);
    sv_puts(b, "</tbody></table>");
}

/* One value of a label as short text for the answers table. */
static void value_text(sv_buf *b, const json_t *f, const json_t *v)
{
    const char *type = sv_jstr(f, "type");
    if (!v || json_is_null(v)) {
        sv_puts(b, "—");
        return;
    }
    if (type && strcmp(type, "correction") == 0) {
        size_t i, k;
        json_t *m, *p;
        json_array_foreach(v, i, m) json_array_foreach(json_object_get(m, "parts"), k, p)
        {
            if (sv_jstr(p, "content"))
                sv_esc(b, sv_jstr(p, "content"));
        }
        return;
    }
    if (type && strcmp(type, "span") == 0) {
        sv_printf(b, "%zu sentence%s labelled", json_array_size(v),
                  json_array_size(v) == 1 ? "" : "s");
        return;
    }
    if (type && strcmp(type, "pairwise") == 0 && json_is_string(v)) {
        const char *s = json_string_value(v);
        sv_esc(b, strcmp(s, "A") == 0   ? "Response 1 better"
                  : strcmp(s, "B") == 0 ? "Response 2 better"
                                        : s);
        return;
    }
    if (json_is_string(v)) {
        sv_esc(b, json_string_value(v));
        return;
    }
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    sv_esc(b, s ? s : "?");
    free(s);
}

static int comparable(const char *type)
{
    return type && (strcmp(type, "boolean") == 0 || strcmp(type, "category") == 0 ||
                    strcmp(type, "number") == 0 || strcmp(type, "pairwise") == 0);
}

/* ---- disputes ---------------------------------------------------------------- */

int sv_page_disputes(sv_req *r)
{
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    PGresult *res =
        sv_db_exec(d,
                   "SELECT queue, item_id, labels, round(agreement::numeric, 2), "
                   "       array_to_string(fields, ', '), to_char(completed_at AT TIME ZONE 'UTC', "
                   "       'YYYY-MM-DD HH24:MI') FROM flywheel.web_disputes()",
                   0, NULL);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = sv_db_error_page(r, res);
        PQclear(res);
        return rc;
    }
    sv_page_begin(r, "Disputes", "disputes");
    sv_buf *b = &r->out;
    sv_puts(b, "<main><h1>Items in dispute</h1><p class=\"hint\">The reviewers' labels disagree on "
               "these items; the lowest agreement comes first (the share of reviewer pairs that "
               "agree on the worst field). Open one to decide its final label.</p>"
               "<table class=\"grid\" id=\"disputes\"><thead><tr><th>Queue</th><th>Item</th>"
               "<th class=\"num\">Labels</th><th class=\"num\">Agreement</th>"
               "<th>Fields in dispute</th><th>Finished (UTC)</th></tr></thead><tbody>");
    for (int i = 0; i < PQntuples(res); i++) {
        sv_puts(b, "<tr><td>");
        sv_esc(b, PQgetvalue(res, i, 0));
        sv_puts(b, "</td><td><a href=\"/adjudicate/");
        sv_esc(b, PQgetvalue(res, i, 1));
        sv_puts(b, "\">item ");
        sv_esc(b, PQgetvalue(res, i, 1));
        sv_puts(b, "</a></td>");
        for (int c = 2; c < 6; c++) {
            sv_puts(b, c < 4 ? "<td class=\"num\">" : "<td>");
            sv_esc(b, PQgetisnull(res, i, c) ? "—" : PQgetvalue(res, i, c));
            sv_puts(b, "</td>");
        }
        sv_puts(b, "</tr>");
    }
    if (PQntuples(res) == 0)
        sv_puts(b, "<tr><td colspan=\"6\" class=\"hint\">No disputes: every finished item's "
                   "labels agree.</td></tr>");
    sv_puts(b, "</tbody></table></main>");
    PQclear(res);
    sv_page_end(r);
    return 0;
}

/* The reviewers' answers side by side, field by field; a row whose
 * comparable values differ is marked. */
static void answers_table(sv_buf *b, const json_t *fields, const json_t *labels)
{
    size_t i, k;
    json_t *f, *l;
    sv_puts(b, "<table class=\"grid answers\" id=\"answers\"><caption>The reviewers' answers"
               "</caption><thead><tr><th>Field</th>");
    json_array_foreach(labels, k, l)
    {
        sv_puts(b, "<th>");
        sv_esc(b, sv_jstr(l, "alias"));
        if (sv_jstr(l, "reviewer")) {
            sv_puts(b, " (");
            sv_esc(b, sv_jstr(l, "reviewer"));
            sv_puts(b, ")");
        }
        sv_puts(b, "</th>");
    }
    sv_puts(b, "</tr></thead><tbody>");
    json_array_foreach(fields, i, f)
    {
        const char *name = sv_jstr(f, "name"), *type = sv_jstr(f, "type");
        if (!name)
            continue;
        int differ = 0;
        const json_t *first = NULL;
        json_array_foreach(labels, k, l)
        {
            const json_t *v = json_object_get(json_object_get(l, "value"), name);
            if (v && json_is_null(v))
                v = NULL;
            if (k == 0)
                first = v;
            else if ((first == NULL) != (v == NULL) || (first && !json_equal(first, v)))
                differ = 1;
        }
        differ = differ && comparable(type);
        sv_puts(b, differ ? "<tr class=\"dispute\"><th scope=\"row\">" : "<tr><th scope=\"row\">");
        sv_esc(b, sv_jstr(f, "label") ? sv_jstr(f, "label") : name);
        if (differ)
            sv_puts(b, " <span class=\"badge err\">differ</span>");
        sv_puts(b, "</th>");
        json_array_foreach(labels, k, l)
        {
            sv_puts(b, "<td>");
            value_text(b, f, json_object_get(json_object_get(l, "value"), name));
            sv_puts(b, "</td>");
        }
        sv_puts(b, "</tr>");
    }
    sv_puts(b, "</tbody></table>");
}

static int render_dispute(sv_req *r, const json_t *it, const sv_values *vals, unsigned status,
                          const char *error, const char *error_col)
{
    long long item_id = r->cap_num[0];
    const json_t *rubric = json_object_get(json_object_get(it, "rubric"), "definition");
    const json_t *fields = json_object_get(rubric, "fields");
    const json_t *gen = json_object_get(it, "generation");
    const json_t *gen_b = json_object_get(it, "generation_b");
    const json_t *labels = json_object_get(it, "labels");
    const json_t *decision = json_object_get(it, "decision");
    if (json_is_null(gen_b))
        gen_b = NULL;
    if (json_is_null(decision))
        decision = NULL;
    sv_item_ctx c = {r, it, fields, vals, error, error_col, NULL, 0, labels};
    r->status = status;
    char title[64];
    snprintf(title, sizeof title, "Adjudicate item %lld", item_id);
    sv_page_begin(r, title, "item adjudicate");
    sv_buf *b = &r->out;
    sv_puts(b, "<main><div class=\"topline\"><span class=\"queue\">");
    sv_esc(b, sv_jstr(it, "queue"));
    sv_printf(b, "</span><span>item %lld</span><span class=\"badge\">", item_id);
    sv_esc(b, sv_jstr(it, "status"));
    sv_puts(b, "</span><a href=\"/adjudicate\">All disputes</a></div>");
    if (error && !error_col) {
        sv_puts(b, "<p class=\"msg err\" role=\"alert\">");
        sv_esc(b, error);
        sv_puts(b, "</p>");
    }
    if (decision) {
        sv_puts(b, "<p class=\"msg\">Decided by ");
        sv_esc(b, sv_jstr(decision, "by"));
        if (sv_jstr(decision, "note")) {
            sv_puts(b, ": “");
            sv_esc(b, sv_jstr(decision, "note"));
            sv_puts(b, "”");
        }
        sv_puts(b, ". A new decision replaces it.</p>");
    }
    sv_puts(b, "<form method=\"post\" id=\"review-form\" action=\"/adjudicate/");
    sv_printf(b, "%lld\">", item_id);
    sv_puts(b, "<button type=\"submit\" name=\"action\" value=\"preview\" class=\"vh\" "
               "tabindex=\"-1\" aria-hidden=\"true\">Show</button>");
    sv_csrf_field(r);
    sv_printf(b, "<input type=\"hidden\" name=\"ver\" value=\"%lld\">",
              (long long)json_integer_value(json_object_get(it, "version")));
    sv_puts(b, "<div class=\"review\">");
    /* Response 1 is always A here: the reviewers' stored answers name A and B */
    sv_render_conversation(&c, gen, 0, gen_b);
    sv_puts(b, "<aside class=\"rubric\" aria-label=\"Final decision\">");
    answers_table(b, fields, labels);
    if (error && error_col) {
        sv_puts(b, "<p class=\"msg err\" role=\"alert\">");
        sv_esc(b, error);
        sv_puts(b, "</p>");
    }
    sv_puts(b, "<h2>Final label</h2>");
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) sv_render_field(&c, f, gen, 0);
    sv_puts(b, "<label for=\"note\">Note (why this decision)</label><textarea id=\"note\" "
               "name=\"note\" rows=\"2\" maxlength=\"2000\">");
    const char *note = vals->form ? sv_form_get(vals->form, "note") : NULL;
    if (note)
        sv_esc(b, note);
    sv_puts(b, "</textarea><div class=\"actions\"><button type=\"submit\" name=\"action\" "
               "value=\"submit\" class=\"primary\" id=\"submit\">Decide and next "
               "<kbd>Ctrl</kbd>+<kbd>Enter</kbd></button></div></aside></div></form></main>");
    sv_page_end(r);
    return 0;
}

static json_t *load_dispute(sv_req *r)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", r->cap_num[0]);
    const char *p[1] = {id};
    json_t *it;
    PGresult *res = sv_json_query(r, "SELECT flywheel.web_dispute($1::bigint)::text", 1, p, &it);
    if (!res)
        return NULL;
    PQclear(res);
    if (!it)
        sv_error_page(r, 404, "Not found", "There is no labelled item with this number.");
    return it;
}

int sv_page_adjudicate_get(sv_req *r)
{
    json_t *it = load_dispute(r);
    if (!it)
        return 0;
    /* the form starts from the previous decision, if any */
    json_t *draft = NULL;
    const json_t *decision = json_object_get(it, "decision");
    if (decision && !json_is_null(decision))
        draft = sv_label_to_values(
            json_object_get(json_object_get(json_object_get(it, "rubric"), "definition"), "fields"),
            json_object_get(decision, "value"));
    sv_values v = {NULL, draft};
    int rc = render_dispute(r, it, &v, 200, NULL, NULL);
    json_decref(draft);
    json_decref(it);
    return rc;
}

int sv_page_adjudicate_post(sv_req *r)
{
    const char *action = sv_form_get(r->form, "action");
    const char *ver = sv_form_get(r->form, "ver");
    if (!action || !ver)
        return sv_error_page(r, 400, "Bad request", "The form names no action or version.");
    json_t *it = load_dispute(r);
    if (!it)
        return 0;
    sv_values vals = {r->form, NULL};
    int rc;
    char cur[32];
    snprintf(cur, sizeof cur, "%lld",
             (long long)json_integer_value(json_object_get(it, "version")));
    if (strcmp(action, "submit") != 0) {
        /* Enter in a one-line box or Ctrl+S: show the page again, values kept */
        rc = render_dispute(r, it, &vals, 200, NULL, NULL);
    } else if (strcmp(ver, cur) != 0) {
        rc = sv_error_page(r, 409, "This page is out of date",
                           "A reviewer revised a label or someone decided this item since the "
                           "page was opened. Nothing was changed; reload it to see every label.");
    } else {
        const char *err = NULL, *col = NULL;
        json_t *label = sv_build_label(r, it, &err, &col);
        if (!label) {
            rc = render_dispute(r, it, &vals, 422, err, col);
        } else {
            char *lj = json_dumps(label, JSON_COMPACT);
            json_decref(label);
            char id[32];
            snprintf(id, sizeof id, "%lld", r->cap_num[0]);
            const char *note = sv_form_get(r->form, "note");
            const char *p[3] = {id, lj ? lj : "{}", note ? note : ""};
            sv_db *d = sv_req_db(r);
            PGresult *res =
                d ? sv_db_exec(d,
                               "SELECT flywheel.review_adjudicate($1::bigint, $2::jsonb, "
                               "nullif($3, ''))",
                               3, p)
                  : NULL;
            free(lj);
            if (!res) {
                rc = sv_unavailable(r);
            } else if (PQresultStatus(res) == PGRES_TUPLES_OK) {
                char detail[64];
                snprintf(detail, sizeof detail, "{\"label_id\": %s}", PQgetvalue(res, 0, 0));
                sv_audit(r, "adjudicate", r->cap_num[0], detail);
                sv_redirect(r, "/adjudicate");
                rc = 0;
            } else {
                const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
                if (fw_store_sqlstate_code(state) == FW_STORE_INVALID) {
                    const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
                    rc = render_dispute(r, it, &vals, 422, m ? m : "invalid label",
                                        PQresultErrorField(res, PG_DIAG_COLUMN_NAME));
                } else {
                    rc = sv_db_error_page(r, res);
                }
            }
            PQclear(res);
        }
    }
    json_decref(it);
    return rc;
}

/* ---- quality ----------------------------------------------------------------- */

typedef struct {
    const char *caption;
    const char *sql;
    const char *heads[10];
    int ncols;
    unsigned num_mask;
} quality_table;

static const quality_table quality_tables[] = {
    {"Progress per queue",
     "SELECT queue, items, pending, in_review, labelled, disputed, adjudicated, gold, "
     "       CASE WHEN paused THEN 'paused' ELSE '' END, "
     "       coalesce(justify_interval(date_trunc('minute', oldest_open_age))::text, '') "
     "FROM flywheel.review_progress ORDER BY queue",
     {"Queue", "Items", "Pending", "In review", "Labelled", "Disputed", "Adjudicated", "Gold",
      "Paused", "Oldest open"},
     10,
     0xFE},
    {"Agreement per field (finished items with two or more labels)",
     "SELECT queue, field, type, items, raters, round(percent_agreement::numeric, 3), "
     "       kappa_kind, round(kappa::numeric, 3), round(alpha_interval::numeric, 3) "
     "FROM flywheel.review_agreement ORDER BY queue, field",
     {"Queue", "Field", "Type", "Items", "Reviewers", "Agreement", "κ kind", "κ", "α (interval)"},
     9,
     0x1B8},
    {"Gold-item accuracy per reviewer",
     "SELECT queue, reviewer, field, gold_items, correct, round(accuracy::numeric, 3) "
     "FROM flywheel.review_gold_accuracy ORDER BY queue, reviewer, field",
     {"Queue", "Reviewer", "Field", "Gold items", "Correct", "Accuracy"},
     6,
     0x38},
    {"Throughput, last 14 days (labels and revisions per reviewer)",
     "SELECT queue, reviewer, sum(labels), sum(revisions), count(DISTINCT day) "
     "FROM flywheel.review_throughput WHERE day >= date_trunc('day', now()) - interval '13 days' "
     "GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2",
     {"Queue", "Reviewer", "Labels", "Revisions", "Active days"},
     5,
     0x1C},
    {"Time per item (claim to submit, seconds)",
     "SELECT queue, reviewer, items, round(mean_s::numeric, 1), round(p50_s::numeric, 1), "
     "       round(p90_s::numeric, 1), skipped "
     "FROM flywheel.review_time_per_item ORDER BY queue, reviewer",
     {"Queue", "Reviewer", "Items", "Mean", "Median", "90th pct", "Skipped"},
     7,
     0x7C},
};

int sv_page_quality(sv_req *r)
{
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    size_t n = sizeof quality_tables / sizeof quality_tables[0];
    PGresult *res[sizeof quality_tables / sizeof quality_tables[0]] = {0};
    for (size_t i = 0; i < n; i++) {
        res[i] = sv_db_exec(d, quality_tables[i].sql, 0, NULL);
        if (PQresultStatus(res[i]) != PGRES_TUPLES_OK) {
            int rc = sv_db_error_page(r, res[i]);
            for (size_t k = 0; k <= i; k++)
                PQclear(res[k]);
            return rc;
        }
    }
    sv_page_begin(r, "Quality", "quality");
    sv_buf *b = &r->out;
    sv_puts(b, "<main><h1>Review quality</h1><p class=\"hint\">Agreement is the share of "
               "reviewer pairs that gave the same value; κ corrects it for chance (Cohen's for "
               "two reviewers, else Fleiss'); α is Krippendorff's for number fields. Times are "
               "from claim to submit.</p>");
    for (size_t i = 0; i < n; i++) {
        result_table(b, res[i], quality_tables[i].caption, quality_tables[i].heads,
                     quality_tables[i].ncols, quality_tables[i].num_mask);
        PQclear(res[i]);
    }
    sv_puts(b, "</main>");
    sv_page_end(r);
    return 0;
}

/* ---- my history -------------------------------------------------------------- */

int sv_page_history(sv_req *r)
{
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    PGresult *res = sv_db_exec(d,
                               "SELECT queue, item_id, version, status, editable, "
                               "to_char(submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') "
                               "FROM flywheel.web_my_history()",
                               0, NULL);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = sv_db_error_page(r, res);
        PQclear(res);
        return rc;
    }
    sv_page_begin(r, "My history", "history");
    sv_buf *b = &r->out;
    sv_puts(b, "<main><h1>My labels</h1><p class=\"hint\">Your submitted labels, newest first. "
               "You can change a label until its item is adjudicated.</p><table class=\"grid\" "
               "id=\"history\"><thead><tr><th>Queue</th><th>Item</th><th>Submitted (UTC)</th>"
               "<th class=\"num\">Version</th><th>Item status</th><th></th></tr></thead><tbody>");
    for (int i = 0; i < PQntuples(res); i++) {
        int editable = strcmp(PQgetvalue(res, i, 4), "t") == 0;
        sv_puts(b, "<tr><td>");
        sv_esc(b, PQgetvalue(res, i, 0));
        sv_puts(b, "</td><td>item ");
        sv_esc(b, PQgetvalue(res, i, 1));
        sv_puts(b, "</td><td>");
        sv_esc(b, PQgetvalue(res, i, 5));
        sv_puts(b, "</td><td class=\"num\">");
        sv_esc(b, PQgetvalue(res, i, 2));
        sv_puts(b, "</td><td>");
        sv_esc(b, PQgetvalue(res, i, 3));
        sv_puts(b, "</td><td><a href=\"/history/");
        sv_esc(b, PQgetvalue(res, i, 1));
        sv_puts(b, editable ? "\">Edit</a></td></tr>" : "\">View</a></td></tr>");
    }
    if (PQntuples(res) == 0)
        sv_puts(b, "<tr><td colspan=\"6\" class=\"hint\">You have not submitted a label yet."
                   "</td></tr>");
    sv_puts(b, "</tbody></table></main>");
    PQclear(res);
    sv_page_end(r);
    return 0;
}

static int render_my_label(sv_req *r, const json_t *it, const sv_values *vals, unsigned status,
                           const char *error, const char *error_col, const char *diff_field)
{
    long long item_id = r->cap_num[0];
    const json_t *rubric = json_object_get(json_object_get(it, "rubric"), "definition");
    const json_t *fields = json_object_get(rubric, "fields");
    const json_t *gen = json_object_get(it, "generation");
    const json_t *gen_b = json_object_get(it, "generation_b");
    if (json_is_null(gen_b))
        gen_b = NULL;
    int editable = json_is_true(json_object_get(it, "editable"));
    int flip = gen_b ? sv_pair_flip(r->account, item_id) : 0;
    sv_item_ctx c = {r, it, fields, vals, error, error_col, diff_field, 0, NULL};
    r->status = status;
    char title[64];
    snprintf(title, sizeof title, "My label on item %lld", item_id);
    sv_page_begin(r, title, "item history-item");
    sv_buf *b = &r->out;
    sv_puts(b, "<main><div class=\"topline\"><span class=\"queue\">");
    sv_esc(b, sv_jstr(it, "queue"));
    sv_printf(b, "</span><span>item %lld</span><span>your version %lld</span>", item_id,
              (long long)json_integer_value(json_object_get(it, "version")));
    sv_puts(b, "<a href=\"/history\">My history</a></div>");
    if (!editable)
        sv_puts(b, "<p class=\"msg\">This item has been adjudicated: your label can no longer "
                   "change.</p>");
    if (error && !error_col) {
        sv_puts(b, "<p class=\"msg err\" role=\"alert\">");
        sv_esc(b, error);
        sv_puts(b, "</p>");
    }
    sv_printf(b, "<form method=\"post\" id=\"%s\" action=\"/history/%lld\">",
              editable ? "review-form" : "readonly-form", item_id);
    sv_puts(b, "<button type=\"submit\" name=\"action\" value=\"preview\" class=\"vh\" "
               "tabindex=\"-1\" aria-hidden=\"true\">Show</button>");
    sv_csrf_field(r);
    sv_printf(b, "<input type=\"hidden\" name=\"ver\" value=\"%lld\">",
              (long long)json_integer_value(json_object_get(it, "label_id")));
    sv_puts(b, editable ? "<div class=\"review\">" : "<fieldset disabled class=\"review\">");
    sv_render_conversation(&c, gen, flip, gen_b);
    sv_puts(b, "<aside class=\"rubric\" aria-label=\"Your answer\">");
    if (error && error_col) {
        sv_puts(b, "<p class=\"msg err\" role=\"alert\">");
        sv_esc(b, error);
        sv_puts(b, "</p>");
    }
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) sv_render_field(&c, f, gen, flip);
    if (editable)
        sv_puts(b, "<div class=\"actions\"><button type=\"submit\" name=\"action\" "
                   "value=\"submit\" class=\"primary\" id=\"submit\">Save the change "
                   "<kbd>Ctrl</kbd>+<kbd>Enter</kbd></button><button type=\"submit\" "
                   "name=\"action\" value=\"preview\">Show the changes</button></div>");
    sv_puts(b, editable ? "</aside></div></form></main>" : "</aside></fieldset></form></main>");
    sv_page_end(r);
    return 0;
}

static json_t *load_my_label(sv_req *r)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", r->cap_num[0]);
    const char *p[1] = {id};
    json_t *it;
    PGresult *res = sv_json_query(r, "SELECT flywheel.web_my_label($1::bigint)::text", 1, p, &it);
    if (!res)
        return NULL;
    PQclear(res);
    if (!it)
        sv_error_page(r, 404, "Not found", "You have no label on this item.");
    return it;
}

static const char *first_correction(const json_t *it)
{
    size_t i;
    json_t *f;
    json_array_foreach(
        json_object_get(json_object_get(json_object_get(it, "rubric"), "definition"), "fields"), i,
        f)
    {
        const char *t = sv_jstr(f, "type");
        if (t && strcmp(t, "correction") == 0)
            return sv_jstr(f, "name");
    }
    return NULL;
}

int sv_page_history_item_get(sv_req *r)
{
    json_t *it = load_my_label(r);
    if (!it)
        return 0;
    json_t *vals_json = sv_label_to_values(
        json_object_get(json_object_get(json_object_get(it, "rubric"), "definition"), "fields"),
        json_object_get(it, "label"));
    sv_values v = {NULL, vals_json};
    int rc = render_my_label(r, it, &v, 200, NULL, NULL, NULL);
    json_decref(vals_json);
    json_decref(it);
    return rc;
}

int sv_page_history_item_post(sv_req *r)
{
    const char *action = sv_form_get(r->form, "action");
    const char *ver = sv_form_get(r->form, "ver");
    if (!action || !ver)
        return sv_error_page(r, 400, "Bad request", "The form names no action or version.");
    json_t *it = load_my_label(r);
    if (!it)
        return 0;
    sv_values vals = {r->form, NULL};
    char cur[32];
    snprintf(cur, sizeof cur, "%lld",
             (long long)json_integer_value(json_object_get(it, "label_id")));
    int rc;
    if (!json_is_true(json_object_get(it, "editable"))) {
        rc = sv_error_page(r, 409, "Already adjudicated",
                           "This item has been adjudicated: its labels can no longer change.");
    } else if (strcmp(ver, cur) != 0) {
        rc = sv_error_page(r, 409, "This page is out of date",
                           "Your label was changed since this page was opened (in another tab, "
                           "or this form was sent twice). Nothing was changed.");
    } else if (strcmp(action, "submit") != 0) {
        rc = render_my_label(r, it, &vals, 200, NULL, NULL, first_correction(it));
    } else {
        const char *err = NULL, *col = NULL;
        json_t *label = sv_build_label(r, it, &err, &col);
        if (!label) {
            rc = render_my_label(r, it, &vals, 422, err, col, NULL);
        } else {
            char *lj = json_dumps(label, JSON_COMPACT);
            json_decref(label);
            char id[32];
            snprintf(id, sizeof id, "%lld", r->cap_num[0]);
            const char *p[3] = {id, lj ? lj : "{}", ver};
            sv_db *d = sv_req_db(r);
            /* the version check and the revision in one statement: a label
             * revised between the load above and here is not overwritten */
            PGresult *res =
                d ? sv_db_exec(d,
                               "SELECT flywheel.review_revise($1::bigint, $2::jsonb) "
                               "FROM (SELECT max(l.id) AS id FROM flywheel.review_labels l "
                               "      WHERE l.item_id = $1::bigint AND l.reviewer = "
                               "      current_user AND NOT l.is_adjudication) m "
                               "WHERE m.id = $3::bigint",
                               3, p)
                  : NULL;
            free(lj);
            if (!res) {
                rc = sv_unavailable(r);
            } else if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
                char detail[64];
                snprintf(detail, sizeof detail, "{\"label_id\": %s}", PQgetvalue(res, 0, 0));
                sv_audit(r, "revise", r->cap_num[0], detail);
                sv_redirect(r, "/history");
                rc = 0;
            } else if (PQresultStatus(res) == PGRES_TUPLES_OK) {
                rc = sv_error_page(r, 409, "This page is out of date",
                                   "Your label was changed since this page was opened. Nothing "
                                   "was changed.");
            } else {
                const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
                if (fw_store_sqlstate_code(state) == FW_STORE_INVALID) {
                    const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
                    rc = render_my_label(r, it, &vals, 422, m ? m : "invalid label",
                                         PQresultErrorField(res, PG_DIAG_COLUMN_NAME), NULL);
                } else {
                    rc = sv_db_error_page(r, res);
                }
            }
            PQclear(res);
        }
    }
    json_decref(it);
    return rc;
}
