/*
 * The reviewer's pages: my queues, the item page and its actions. Every
 * query runs as the reviewer's role (SET ROLE by server.c): the review
 * functions take the reviewer from it, and row-level security shows only
 * the reviewer's own assignments and labels.
 */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sv_page_queues(sv_req *r)
{
    sv_db *d = sv_req_db(r);
    if (!d)
        return sv_unavailable(r);
    PGresult *res = sv_db_exec(d,
                               "SELECT q.queue, coalesce(q.description, ''), q.paused, q.overlap "
                               "FROM flywheel.review_queues_for_me() q ORDER BY q.queue",
                               0, NULL);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = sv_db_error_page(r, res);
        PQclear(res);
        return rc;
    }
    sv_page_begin(r, "My queues", "queues");
    sv_puts(&r->out, "<main><h1>My queues</h1>");
    if (PQntuples(res) == 0)
        sv_puts(&r->out, "<p class=\"empty\">There are no review queues yet.</p>");
    else
        sv_puts(&r->out, "<table class=\"grid\"><thead><tr><th>Queue</th><th>Description</th>"
                         "<th>Reviewers per item</th><th></th></tr></thead><tbody>");
    for (int i = 0; i < PQntuples(res); i++) {
        const char *q = PQgetvalue(res, i, 0);
        int paused = PQgetvalue(res, i, 2)[0] == 't';
        sv_puts(&r->out, "<tr><td class=\"qname\">");
        sv_esc(&r->out, q);
        sv_puts(&r->out, "</td><td>");
        sv_esc(&r->out, PQgetvalue(res, i, 1));
        sv_puts(&r->out, "</td><td>");
        sv_esc(&r->out, PQgetvalue(res, i, 3));
        sv_puts(&r->out, "</td><td>");
        if (paused)
            sv_puts(&r->out, "<span class=\"badge\">paused</span>");
        sv_puts(&r->out, "</td></tr>");
    }
    if (PQntuples(res))
        sv_puts(&r->out, "</tbody></table>");
    sv_puts(&r->out, "</main>");
    PQclear(res);
    sv_page_end(r);
    return 0;
}
