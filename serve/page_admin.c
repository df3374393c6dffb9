/*
 * Admin pages. They run as the signed-in account's role like every page:
 * a reviewer's role has no privilege on the account tables, so PostgreSQL
 * refuses (42501) and the page answers 403; the server checks nothing of
 * its own.
 */
#include "app.h"
#include "flywheel/store.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

int sv_page_admin_reviewers(sv_req *r)
{
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    PGresult *res = sv_db_exec(
        d,
        "SELECT a.name, a.kind, to_char(a.created_at, 'YYYY-MM-DD HH24:MI'), "
        "       coalesce(to_char(a.disabled_at, 'YYYY-MM-DD HH24:MI'), ''), "
        "       coalesce(to_char(max(s.last_seen), 'YYYY-MM-DD HH24:MI'), ''), count(s.*) "
        "FROM flywheel.web_accounts a LEFT JOIN flywheel.web_sessions s ON s.account = a.name "
        "GROUP BY a.name, a.kind, a.created_at, a.disabled_at ORDER BY a.name",
        0, NULL);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = sv_db_error_page(r, res);
        PQclear(res);
        return rc;
    }
    sv_page_begin(r, "Reviewers", "admin");
    sv_puts(&r->out, "<main><h1>Reviewers</h1><p>Accounts are managed with <code>flywheel "
                     "reviewer add|link|disable</code>.</p><table class=\"grid\"><thead><tr>"
                     "<th>Name</th><th>Role</th><th>Created</th><th>Disabled</th>"
                     "<th>Last seen</th><th>Sessions</th></tr></thead><tbody>");
    for (int i = 0; i < PQntuples(res); i++) {
        sv_puts(&r->out, "<tr>");
        for (int c = 0; c < 6; c++) {
            sv_puts(&r->out, "<td>");
            sv_esc(&r->out, PQgetvalue(res, i, c));
            sv_puts(&r->out, "</td>");
        }
        sv_puts(&r->out, "</tr>");
    }
    sv_puts(&r->out, "</tbody></table></main>");
    PQclear(res);
    sv_page_end(r);
    return 0;
}

/* ---- queues and rubrics ----------------------------------------------------- */

/* Answers a refused admin change: the database's message on the page the
 * form came from (422) for a refusal of the review functions (any FR code of
 * the store's list: FR001/FR004 a bad value, FR005 an unknown name), else
 * the usual mapping (403 for 42501). */
static int admin_refused(sv_req *r, PGresult *res, int (*page)(sv_req *, unsigned, const char *))
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (fw_store_sqlstate_meaning(state)) {
        const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        const char *h = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s%s%s", m ? m : "refused", h ? ". " : "", h ? h : "");
        sv_buf_reset(&r->out);
        return page(r, 422, msg);
    }
    return sv_db_error_page(r, res);
}

static void admin_message(sv_req *r, const char *error)
{
    if (!error)
        return;
    sv_puts(&r->out, "<p class=\"msg err\" role=\"alert\">");
    sv_esc(&r->out, error);
    sv_puts(&r->out, "</p>");
}

/* A posted textarea value, or the empty string. */
static const char *posted(sv_req *r, const char *key)
{
    const char *v = r->form ? sv_form_get(r->form, key) : NULL;
    return v ? v : "";
}

static void queue_button(sv_buf *b, sv_req *r, const char *queue, const char *action,
                         const char *label)
{
    sv_puts(b, "<form method=\"post\" action=\"/admin/queues\" class=\"inline\">");
    sv_csrf_field(r);
    sv_puts(b, "<input type=\"hidden\" name=\"queue\" value=\"");
    sv_esc(b, queue);
    sv_puts(b, "\"><button type=\"submit\" name=\"action\" value=\"");
    sv_esc(b, action);
    sv_puts(b, "\">");
    sv_esc(b, label);
    sv_puts(b, "</button></form>");
}

static int queues_page(sv_req *r, unsigned status, const char *error)
{
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    PGresult *res = sv_db_exec(
        d,
        "SELECT q.name, q.rubric_name || ' v' || q.rubric_version, q.overlap, p.items, p.pending, "
        "       p.in_review, p.labelled + p.adjudicated, p.disputed, q.paused, "
        "       coalesce(to_char(q.last_fill_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), ''), "
        "       q.show_reviewer_names, "
        "       jsonb_pretty(jsonb_build_object('description', q.description, 'overlap', "
        "         q.overlap, 'lease', q.lease::text, 'skip_limit', q.skip_limit, 'gold_rate', "
        "         q.gold_rate, 'rules', q.rules, 'priority', q.priority, 'continuous', "
        "         q.continuous, 'rubric_version', q.rubric_version, 'show_reviewer_names', "
        "         q.show_reviewer_names)) "
        "FROM flywheel.review_queues q JOIN flywheel.review_progress p ON p.queue = q.name "
        "ORDER BY q.name",
        0, NULL);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = sv_db_error_page(r, res);
        PQclear(res);
        return rc;
    }
    r->status = status;
    sv_page_begin(r, "Queues", "admin");
    sv_buf *b = &r->out;
    sv_puts(b, "<main><h1>Queues</h1>");
    admin_message(r, error);
    sv_puts(b, "<table class=\"grid\" id=\"queues\"><thead><tr><th>Queue</th><th>Rubric</th>"
               "<th class=\"num\">Reviewers per item</th><th class=\"num\">Items</th>"
               "<th class=\"num\">Pending</th><th class=\"num\">In review</th>"
               "<th class=\"num\">Done</th><th class=\"num\">Disputed</th><th>Last fill (UTC)"
               "</th><th>Actions</th></tr></thead><tbody>");
    for (int i = 0; i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 0);
        int paused = strcmp(PQgetvalue(res, i, 8), "t") == 0;
        int names = strcmp(PQgetvalue(res, i, 10), "t") == 0;
        sv_puts(b, "<tr><td>");
        sv_esc(b, name);
        if (paused)
            sv_puts(b, " <span class=\"badge\">paused</span>");
        sv_puts(b, "</td><td>");
        sv_esc(b, PQgetvalue(res, i, 1));
        sv_puts(b, "</td>");
        for (int c = 2; c < 8; c++) {
            sv_puts(b, "<td class=\"num\">");
            sv_esc(b, PQgetvalue(res, i, c));
            sv_puts(b, "</td>");
        }
        sv_puts(b, "<td>");
        sv_esc(b, PQgetvalue(res, i, 9));
        sv_puts(b, "</td><td class=\"actions\">");
        queue_button(b, r, name, paused ? "resume" : "pause", paused ? "Resume" : "Pause");
        queue_button(b, r, name, "fill", "Fill now");
        queue_button(b, r, name, names ? "blind" : "names",
                     names ? "Hide names from adjudicators" : "Show names to adjudicators");
        sv_puts(b, "<details><summary>Edit settings</summary><form method=\"post\" "
                   "action=\"/admin/queues\">");
        sv_csrf_field(r);
        sv_puts(b, "<input type=\"hidden\" name=\"queue\" value=\"");
        sv_esc(b, name);
        sv_puts(b, "\"><textarea name=\"spec\" rows=\"12\" cols=\"60\" aria-label=\"Settings of ");
        sv_esc(b, name);
        sv_puts(b, "\">");
        sv_esc(b, PQgetvalue(res, i, 11));
        sv_puts(b, "</textarea><button type=\"submit\" name=\"action\" value=\"edit\">Save "
                   "settings</button></form></details></td></tr>");
    }
    if (PQntuples(res) == 0)
        sv_puts(b, "<tr><td colspan=\"10\" class=\"hint\">No queue yet.</td></tr>");
    sv_puts(b, "</tbody></table><h2>New queue</h2><p class=\"hint\">The queue's settings as JSON: "
               "<code>name</code> and <code>rubric</code> are required; <code>overlap</code> "
               "(reviewers per item), <code>lease</code>, <code>rules</code> (which generations "
               "fill it) and the rest are described in docs/review.md.</p>"
               "<form method=\"post\" action=\"/admin/queues\">");
    sv_csrf_field(r);
    sv_puts(b, "<textarea name=\"spec\" rows=\"8\" cols=\"60\" aria-label=\"New queue settings\" "
               "placeholder=\"{&quot;name&quot;: &quot;support-quality&quot;, &quot;rubric&quot;:"
               " &quot;answer-quality&quot;, &quot;overlap&quot;: 2, &quot;rules&quot;: "
               "{&quot;feedback&quot;: &quot;negative&quot;}}\">");
    if (status == 422 && strcmp(posted(r, "action"), "create") == 0)
        sv_esc(b, posted(r, "spec"));
    sv_puts(b, "</textarea><button type=\"submit\" name=\"action\" value=\"create\">Create the "
               "queue</button></form></main>");
    PQclear(res);
    sv_page_end(r);
    return 0;
}

int sv_page_admin_queues(sv_req *r)
{
    return queues_page(r, 200, NULL);
}

int sv_page_admin_queues_post(sv_req *r)
{
    const char *action = posted(r, "action"), *queue = posted(r, "queue");
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    const char *sql;
    const char *p[2] = {queue, posted(r, "spec")};
    int n = 1;
    if (strcmp(action, "pause") == 0 || strcmp(action, "resume") == 0)
        sql = strcmp(action, "pause") == 0 ? "SELECT flywheel.review_queue_pause($1, true)"
                                           : "SELECT flywheel.review_queue_pause($1, false)";
    else if (strcmp(action, "fill") == 0)
        sql = "SELECT flywheel.review_fill($1)";
    else if (strcmp(action, "names") == 0 || strcmp(action, "blind") == 0) {
        sql = "SELECT flywheel.web_queue_update($1, jsonb_build_object('show_reviewer_names', "
              "$2::boolean))";
        p[1] = action[0] == 'n' ? "true" : "false";
        n = 2;
    } else if (strcmp(action, "edit") == 0 || strcmp(action, "create") == 0) {
        json_error_t je;
        json_t *spec = json_loads(p[1], 0, &je);
        if (!json_is_object(spec)) {
            json_decref(spec);
            char msg[300];
            snprintf(msg, sizeof msg, "The settings are not a JSON object: %s", je.text);
            return queues_page(r, 422, msg);
        }
        json_decref(spec);
        if (action[0] == 'e') {
            sql = "SELECT flywheel.web_queue_update($1, $2::jsonb)";
            n = 2;
        } else {
            sql = "SELECT flywheel.review_queue_create($1::jsonb)";
            p[0] = p[1];
        }
    } else {
        return sv_error_page(r, 400, "Bad request", "Unknown action.");
    }
    PGresult *res = sv_db_exec(d, sql, n, p);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = admin_refused(r, res, queues_page);
    } else {
        char detail[160];
        snprintf(detail, sizeof detail, "{\"action\": \"queue_%s\"}", action);
        sv_audit(r, "admin", 0, detail);
        sv_redirect(r, "/admin/queues");
    }
    PQclear(res);
    return rc;
}

static int rubrics_page(sv_req *r, unsigned status, const char *error)
{
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    PGresult *res = sv_db_exec(
        d,
        "SELECT r.name, r.version, "
        "       (SELECT string_agg(f->>'name' || ' (' || (f->>'type') || ')', ', ') "
        "        FROM jsonb_array_elements(r.definition->'fields') f), "
        "       to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), r.created_by, "
        "       (SELECT string_agg(q.name, ', ' ORDER BY q.name) FROM flywheel.review_queues q "
        "        WHERE q.rubric_name = r.name AND q.rubric_version = r.version), "
        "       jsonb_pretty(r.definition), "
        "       r.version = max(r.version) OVER (PARTITION BY r.name) "
        "FROM flywheel.review_rubrics r ORDER BY r.name, r.version DESC",
        0, NULL);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = sv_db_error_page(r, res);
        PQclear(res);
        return rc;
    }
    r->status = status;
    sv_page_begin(r, "Rubrics", "admin");
    sv_buf *b = &r->out;
    sv_puts(b, "<main><h1>Rubrics</h1>");
    admin_message(r, error);
    sv_puts(b, "<p class=\"hint\">A rubric never changes once a queue uses it: editing one "
               "records a new version; move a queue to it in its settings.</p><table "
               "class=\"grid\" id=\"rubrics\"><thead><tr><th>Rubric</th><th class=\"num\">"
               "Version</th><th>Fields</th><th>Created (UTC)</th><th>By</th><th>Queues</th>"
               "<th></th></tr></thead><tbody>");
    for (int i = 0; i < PQntuples(res); i++) {
        sv_puts(b, "<tr>");
        for (int c = 0; c < 6; c++) {
            sv_puts(b, c == 1 ? "<td class=\"num\">" : "<td>");
            sv_esc(b, PQgetvalue(res, i, c));
            sv_puts(b, "</td>");
        }
        sv_puts(b, "<td>");
        if (strcmp(PQgetvalue(res, i, 7), "t") == 0) {
            sv_puts(b, "<details><summary>New version</summary><form method=\"post\" "
                       "action=\"/admin/rubrics\">");
            sv_csrf_field(r);
            sv_puts(b, "<input type=\"hidden\" name=\"name\" value=\"");
            sv_esc(b, PQgetvalue(res, i, 0));
            sv_puts(b, "\"><textarea name=\"definition\" rows=\"14\" cols=\"60\" "
                       "aria-label=\"Definition of ");
            sv_esc(b, PQgetvalue(res, i, 0));
            sv_puts(b, "\">");
            sv_esc(b, PQgetvalue(res, i, 6));
            sv_puts(b, "</textarea><button type=\"submit\">Save as a new version</button>"
                       "</form></details>");
        }
        sv_puts(b, "</td></tr>");
    }
    if (PQntuples(res) == 0)
        sv_puts(b, "<tr><td colspan=\"7\" class=\"hint\">No rubric yet.</td></tr>");
    sv_puts(b, "</tbody></table><h2>New rubric</h2><form method=\"post\" "
               "action=\"/admin/rubrics\"><label for=\"rubric-name\">Name</label><input "
               "type=\"text\" id=\"rubric-name\" name=\"name\" maxlength=\"63\" value=\"");
    if (status == 422)
        sv_esc(b, posted(r, "name"));
    sv_puts(b, "\">");
    sv_csrf_field(r);
    sv_puts(b, "<label for=\"rubric-def\">Definition (JSON: instructions and fields; see "
               "docs/review.md)</label><textarea id=\"rubric-def\" name=\"definition\" "
               "rows=\"10\" cols=\"60\">");
    if (status == 422)
        sv_esc(b, posted(r, "definition"));
    sv_puts(b, "</textarea><button type=\"submit\">Create the rubric</button></form></main>");
    PQclear(res);
    sv_page_end(r);
    return 0;
}

int sv_page_admin_rubrics(sv_req *r)
{
    return rubrics_page(r, 200, NULL);
}

int sv_page_admin_rubrics_post(sv_req *r)
{
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    const char *p[2] = {posted(r, "name"), posted(r, "definition")};
    json_error_t je;
    json_t *def = json_loads(p[1], 0, &je);
    if (!json_is_object(def)) {
        json_decref(def);
        char msg[300];
        snprintf(msg, sizeof msg, "The definition is not a JSON object: %s", je.text);
        return rubrics_page(r, 422, msg);
    }
    json_decref(def);
    PGresult *res = sv_db_exec(d, "SELECT flywheel.review_rubric_create($1, $2::jsonb)", 2, p);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        /* the name's CHECK */
        if (state && strcmp(state, "23514") == 0) {
            PQclear(res);
            return rubrics_page(r, 422,
                                "A rubric name is letters, digits and . _ - (up to 63), "
                                "starting with a letter or digit.");
        }
        rc = admin_refused(r, res, rubrics_page);
    } else {
        char detail[160];
        snprintf(detail, sizeof detail, "{\"action\": \"rubric_create\", \"version\": %s}",
                 PQgetvalue(res, 0, 0));
        sv_audit(r, "admin", 0, detail);
        sv_redirect(r, "/admin/rubrics");
    }
    PQclear(res);
    return rc;
}
