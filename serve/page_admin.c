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
#include <stdlib.h>
#include <string.h>

static int reviewers_page(sv_req *r, unsigned status, const char *error, const char *who,
                          const char *link, const char *until);

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

/* ---- reviewers -------------------------------------------------------------
 * Accounts are changed only through the flywheel.web_account_* functions
 * (migrations/R__50_web.sql), the ones `flywheel reviewer` calls, as the
 * signed-in admin: the database decides who may, and refuses a bad name, a
 * duplicate, an unknown account or the last admin locking itself out. A new
 * sign-in link is made here (only its SHA-256 goes to the database) and
 * shown once, in the answer to the POST that made it: it is never stored,
 * so it cannot be shown again (Cache-Control: no-store). */

static const char *const kinds[] = {"reviewer", "adjudicator", "admin"};

static void kind_select(sv_buf *b, const char *id, const char *label, const char *current)
{
    sv_puts(b, "<select name=\"kind\"");
    if (id) {
        sv_puts(b, " id=\"");
        sv_esc(b, id);
        sv_puts(b, "\"");
    } else {
        sv_puts(b, " aria-label=\"");
        sv_esc(b, label);
        sv_puts(b, "\"");
    }
    sv_puts(b, ">");
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        sv_puts(b, "<option value=\"");
        sv_puts(b, kinds[i]);
        sv_puts(b, strcmp(kinds[i], current) == 0 ? "\" selected>" : "\">");
        sv_puts(b, kinds[i]);
        sv_puts(b, "</option>");
    }
    sv_puts(b, "</select>");
}

/* One account action button: a form of its own with the name. */
static void account_button(sv_buf *b, sv_req *r, const char *name, const char *action,
                           const char *label)
{
    sv_puts(b, "<form method=\"post\" action=\"/admin/reviewers\" class=\"inline\">");
    sv_csrf_field(r);
    sv_puts(b, "<input type=\"hidden\" name=\"name\" value=\"");
    sv_esc(b, name);
    sv_puts(b, "\"><button type=\"submit\" name=\"action\" value=\"");
    sv_puts(b, action);
    sv_puts(b, "\">");
    sv_esc(b, label);
    sv_puts(b, "</button></form>");
}

/* The box with a link made by this request. */
static void new_link(sv_buf *b, const char *who, const char *link, const char *until)
{
    sv_puts(b, "<section class=\"newlink\" role=\"status\" aria-labelledby=\"newlink-h\"><h2 "
               "id=\"newlink-h\">Sign-in link for ");
    sv_esc(b, who);
    sv_puts(b, "</h2><p>Send it to ");
    sv_esc(b, who);
    sv_puts(b, " yourself. It works once, until ");
    sv_esc(b, until);
    sv_puts(b, " UTC, and is shown only this once: this page cannot show it again (a new link "
               "is one click).</p><input type=\"text\" id=\"newlink\" readonly value=\"");
    sv_esc(b, link);
    sv_puts(b, "\" aria-label=\"Sign-in link for ");
    sv_esc(b, who);
    sv_puts(b, "\"></section>");
}

static int reviewers_page(sv_req *r, unsigned status, const char *error, const char *who,
                          const char *link, const char *until)
{
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    PGresult *res = sv_db_exec(
        d,
        "SELECT name, kind, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), "
        "       created_by, "
        "       coalesce(to_char(disabled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), ''), "
        "       coalesce(to_char(last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), ''), "
        "       sessions, disabled_at IS NOT NULL "
        "FROM flywheel.web_account_list()",
        0, NULL);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = sv_db_error_page(r, res);
        PQclear(res);
        return rc;
    }
    r->status = status;
    sv_page_begin(r, "Reviewers", "admin");
    sv_buf *b = &r->out;
    sv_puts(b, "<main><h1>Reviewers</h1>");
    admin_message(r, error);
    if (link)
        new_link(b, who, link, until);
    sv_puts(b, "<table class=\"grid\" id=\"reviewers\"><thead><tr><th>Name</th><th>Role</th>"
               "<th>Created (UTC)</th><th>By</th><th>Last seen (UTC)</th><th class=\"num\">"
               "Sessions</th><th>Actions</th></tr></thead><tbody>");
    for (int i = 0; i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 0), *kind = PQgetvalue(res, i, 1);
        int disabled = PQgetvalue(res, i, 7)[0] == 't';
        sv_puts(b, "<tr><td>");
        sv_esc(b, name);
        if (strcmp(name, r->account) == 0)
            sv_puts(b, " <span class=\"badge\">you</span>");
        if (disabled) {
            sv_puts(b, " <span class=\"badge err\">disabled ");
            sv_esc(b, PQgetvalue(res, i, 4));
            sv_puts(b, "</span>");
        }
        sv_puts(b, "</td><td>");
        sv_esc(b, kind);
        for (int c = 2; c < 7; c++) {
            if (c == 4)
                continue;
            sv_puts(b, c == 6   ? "</td><td class=\"num\">"
                       : c == 3 ? "</td><td>"
                                : "</td><td class=\"when\">");
            sv_esc(b, PQgetvalue(res, i, c));
        }
        sv_puts(b, "</td><td class=\"acts\"><form method=\"post\" action=\"/admin/reviewers\" "
                   "class=\"inline\">");
        sv_csrf_field(r);
        sv_puts(b, "<input type=\"hidden\" name=\"name\" value=\"");
        sv_esc(b, name);
        sv_puts(b, "\">");
        char label[96];
        snprintf(label, sizeof label, "Role of %s", name);
        kind_select(b, NULL, label, kind);
        sv_puts(b, "<button type=\"submit\" name=\"action\" value=\"role\">Change role</button>"
                   "</form>");
        if (disabled) {
            account_button(b, r, name, "enable", "Enable");
        } else {
            account_button(b, r, name, "link", "New sign-in link");
            account_button(b, r, name, "disable", "Disable");
        }
        sv_puts(b, "</td></tr>");
    }
    if (PQntuples(res) == 0)
        sv_puts(b, "<tr><td colspan=\"7\" class=\"hint\">No account yet.</td></tr>");
    PQclear(res);
    int refill = status == 422 && strcmp(posted(r, "action"), "add") == 0;
    sv_puts(b, "</tbody></table><h2>Add a reviewer</h2><form method=\"post\" "
               "action=\"/admin/reviewers\" id=\"add-reviewer\">");
    sv_csrf_field(r);
    sv_puts(b, "<label for=\"new-name\">Name</label><p class=\"hint\">Up to 63 lower-case "
               "letters, digits, <code>_ . -</code>, starting with a letter; it is also the "
               "account's PostgreSQL role.</p><input type=\"text\" id=\"new-name\" name=\"name\" "
               "maxlength=\"63\" required autocomplete=\"off\" value=\"");
    if (refill)
        sv_esc(b, posted(r, "name"));
    sv_puts(b, "\"><label for=\"new-kind\">Role</label><p class=\"hint\">A reviewer labels; an "
               "adjudicator also decides disputes and sees the quality page; an admin also "
               "manages queues, rubrics and accounts.</p>");
    kind_select(b, "new-kind", NULL, refill ? posted(r, "kind") : "reviewer");
    sv_puts(b, "<div class=\"actions\"><button type=\"submit\" class=\"primary\" "
               "name=\"action\" value=\"add\">Add and show the sign-in link</button></div>"
               "</form><p class=\"hint\">The same as <code>flywheel reviewer add|link|disable|"
               "enable|role</code> on the command line.</p></main>");
    sv_page_end(r);
    return 0;
}

int sv_page_admin_reviewers(sv_req *r)
{
    return reviewers_page(r, 200, NULL, NULL, NULL, NULL);
}

static int reviewers_refused(sv_req *r, unsigned status, const char *msg)
{
    return reviewers_page(r, status, msg, NULL, NULL, NULL);
}

/* Audits an account change: {"action": "reviewer_<what>", "account": ...}. */
static void audit_account(sv_req *r, const char *what, const char *name, const char *kind)
{
    char action[48];
    snprintf(action, sizeof action, "reviewer_%s", what);
    json_t *o = json_pack("{s:s, s:s}", "action", action, "account", name);
    if (o && kind)
        json_object_set_new(o, "kind", json_string(kind));
    char *detail = o ? json_dumps(o, JSON_COMPACT) : NULL;
    sv_audit(r, "admin", 0, detail ? detail : "{\"action\": \"reviewer\"}");
    free(detail);
    json_decref(o);
}

int sv_page_admin_reviewers_post(sv_req *r)
{
    const char *action = posted(r, "action"), *name = posted(r, "name"), *kind = posted(r, "kind");
    int add = strcmp(action, "add") == 0, link = strcmp(action, "link") == 0;
    const char *sql;
    if (add)
        sql = "SELECT to_char(flywheel.web_account_add($1, $2, decode($3, 'hex'), 60) "
              "AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')";
    else if (link)
        sql = "SELECT to_char(flywheel.web_account_link($1, decode($2, 'hex'), 60) "
              "AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')";
    else if (strcmp(action, "disable") == 0)
        sql = "SELECT flywheel.web_account_disable($1)";
    else if (strcmp(action, "enable") == 0)
        sql = "SELECT flywheel.web_account_enable($1)";
    else if (strcmp(action, "role") == 0)
        sql = "SELECT flywheel.web_account_set_kind($1, $2)";
    else
        return sv_error_page(r, 400, "Bad request", "Unknown action.");
    if (!*name)
        return reviewers_refused(r, 422, "Give the account a name.");
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    char tok[SV_TOKEN_LEN + 1] = "", hash[65] = "";
    if ((add || link) && sv_token_new(tok) != 0)
        return sv_error_page(r, 500, "Server error",
                             "Could not get random bytes for the sign-in token.");
    if (add || link)
        sv_token_hash_hex(tok, hash);
    /* add: name, kind, hash; link: name, hash; role: name, kind; else name */
    const char *p[3] = {name, link ? hash : kind, hash};
    int n = add ? 3 : link || strcmp(action, "role") == 0 ? 2 : 1;
    PGresult *res = sv_db_exec(d, sql, n, p);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = admin_refused(r, res, reviewers_refused);
    } else if (add || link) {
        char until[32], url[1200];
        snprintf(until, sizeof until, "%s", PQgetvalue(res, 0, 0));
        snprintf(url, sizeof url, "%s/signin?t=%s", r->cfg->origin, tok);
        audit_account(r, add ? "add" : "link", name, add ? kind : NULL);
        PQclear(res);
        return reviewers_page(r, 200, NULL, name, url, until);
    } else {
        audit_account(r, action, name, strcmp(action, "role") == 0 ? kind : NULL);
        sv_redirect(r, "/admin/reviewers");
    }
    PQclear(res);
    return rc;
}
