/*
 * The page frame shared by every HTML page: head (one stylesheet, one
 * deferred script, nothing inline so the CSP holds), the top bar with the
 * signed-in account and a sign-out form, and the closing tags.
 */
#include "app.h"

#include <string.h>

void sv_csrf_field(sv_req *r)
{
    sv_puts(&r->out, "<input type=\"hidden\" name=\"csrf\" value=\"");
    sv_esc(&r->out, r->csrf);
    sv_puts(&r->out, "\">");
}

void sv_page_begin(sv_req *r, const char *title, const char *body_class)
{
    r->ctype = "text/html; charset=utf-8";
    sv_puts(&r->out, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                     "<title>");
    sv_esc(&r->out, title);
    sv_puts(&r->out,
            " · Flywheel review</title><link rel=\"stylesheet\" href=\"/static/app.css\">");
    if (strcmp(body_class, "dash") == 0)
        sv_puts(&r->out, "<link rel=\"stylesheet\" href=\"/static/dash.css\">");
    sv_puts(&r->out, "<script src=\"/static/app.js\" defer></script></head><body class=\"");
    sv_esc(&r->out, body_class);
    sv_puts(&r->out, "\"><header class=\"top\"><a class=\"brand\" href=\"/queues\">Flywheel "
                     "review</a>");
    if (r->signed_in) {
        /* Links only: what a page shows is decided by the database's grants
         * to the account's role; a link to a page the role may not read would
         * answer 403, so the links follow the account's kind. */
        int adm = strcmp(r->kind, "admin") == 0, adj = adm || strcmp(r->kind, "adjudicator") == 0;
        sv_puts(&r->out, "<nav><a href=\"/queues\">My queues</a> <a href=\"/history\">My "
                         "history</a>");
        if (adj)
            sv_puts(&r->out, " <a href=\"/adjudicate\">Disputes</a> <a href=\"/quality\">"
                             "Quality</a>");
        if (adm)
            sv_puts(&r->out, " <a href=\"/dash\">Dashboards</a> <a href=\"/admin/queues\">Queues"
                             "</a> <a href=\"/admin/rubrics\">Rubrics</a> <a href=\"/admin/"
                             "reviewers\">Reviewers</a>");
        else if (adj)
            sv_puts(&r->out, " <a href=\"/dash/flywheel\">The flywheel</a>");
        sv_puts(&r->out, " <a href=\"#shortcuts\" class=\"help-link\" data-key=\"?\">Shortcuts "
                         "<kbd>?</kbd></a></nav><span class=\"who\">");
        sv_esc(&r->out, r->account);
        sv_puts(&r->out, " · ");
        sv_esc(&r->out, r->kind);
        sv_puts(&r->out, "</span><form method=\"post\" action=\"/signout\" class=\"signout\">");
        sv_csrf_field(r);
        sv_puts(&r->out, "<button type=\"submit\">Sign out</button></form>");
    }
    sv_puts(&r->out, "</header>\n");
}

void sv_page_end(sv_req *r)
{
    sv_puts(
        &r->out,
        "\n<footer><p>Flywheel review · <a href=\"#shortcuts\">keyboard shortcuts</a></p>"
        "<section id=\"shortcuts\" class=\"shortcuts\" aria-label=\"Keyboard shortcuts\">"
        "<h2>Keyboard shortcuts</h2><table>"
        "<tr><td><kbd>1</kbd>–<kbd>9</kbd></td><td>pick an option of the focused field</td></tr>"
        "<tr><td><kbd>↑</kbd> <kbd>↓</kbd></td><td>previous / next field</td></tr>"
        "<tr><td><kbd>j</kbd> <kbd>k</kbd></td><td>next / previous sentence</td></tr>"
        "<tr><td>on a sentence: <kbd>1</kbd>–<kbd>9</kbd>, <kbd>0</kbd></td>"
        "<td>label the sentence with span category N, clear it</td></tr>"
        "<tr><td><kbd>a</kbd> <kbd>b</kbd> <kbd>e</kbd></td>"
        "<td>pairwise: A better, B better, equal</td></tr>"
        "<tr><td><kbd>Ctrl</kbd>/<kbd>⌘</kbd>+<kbd>Enter</kbd></td>"
        "<td>submit and go to the next item (also in text boxes)</td></tr>"
        "<tr><td><kbd>Ctrl</kbd>/<kbd>⌘</kbd>+<kbd>S</kbd></td><td>save a draft</td></tr>"
        "<tr><td><kbd>Esc</kbd></td><td>leave a text box; close this list</td></tr>"
        "<tr><td><kbd>g</kbd></td><td>the queue's guidelines</td></tr>"
        "<tr><td><kbd>?</kbd></td><td>this list</td></tr>"
        "</table><p>Keys act only when no text box has the focus, except "
        "<kbd>Ctrl</kbd>+<kbd>Enter</kbd> and <kbd>Esc</kbd>. Every action also works with "
        "the mouse and without JavaScript.</p></section></footer></body></html>\n");
}
