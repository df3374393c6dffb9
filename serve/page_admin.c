/*
 * Admin pages. They run as the signed-in account's role like every page:
 * a reviewer's role has no privilege on the account tables, so PostgreSQL
 * refuses (42501) and the page answers 403; the server checks nothing of
 * its own.
 */
#include "app.h"

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
