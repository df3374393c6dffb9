/*
 * Tables of the dashboards that are lists rather than charts (the slowest
 * conversations, dead letters, partitions): rows of a query result with an
 * optional link per row, and the same rows as CSV, so every list a page
 * shows can be copied and downloaded like the charts' numbers (svg.h).
 * Every value is escaped; a link is built only from a prefix of the page
 * and the percent-encoded value.
 */
#include "dash.h"

#include <string.h>

static void th_text(sv_buf *b, const char *s)
{
    sv_esc(b, s ? s : "");
}

void dash_table_html(sv_buf *b, const dash_table *t, PGresult *res)
{
    int n = PQntuples(res), nf = PQnfields(res);
    sv_puts(b, "<div class=\"listbox\"><table class=\"grid nums\" id=\"");
    sv_esc(b, t->id);
    sv_puts(b, "-data\"><caption>");
    sv_esc(b, t->caption);
    sv_puts(b, "</caption><thead><tr>");
    for (int k = 0; k < t->ncols; k++) {
        sv_puts(b, "<th scope=\"col\">");
        th_text(b, t->headers[k]);
        sv_puts(b, "</th>");
    }
    sv_puts(b, "</tr></thead><tbody>");
    if (n == 0)
        sv_printf(b, "<tr><td colspan=\"%d\" class=\"empty\">None in this window</td></tr>",
                  t->ncols);
    for (int i = 0; i < n; i++) {
        sv_puts(b, "<tr>");
        for (int k = 0; k < t->ncols; k++) {
            int c = t->cols[k];
            const char *tag = k == 0 ? "th" : "td";
            sv_printf(b, k == 0 ? "<%s scope=\"row\">" : "<%s>", tag);
            if (c < 0 || c >= nf || PQgetisnull(res, i, c)) {
                sv_puts(b, "–");
            } else if (t->link_prefix && k == t->link_at && t->link_col < nf &&
                       !PQgetisnull(res, i, t->link_col)) {
                sv_puts(b, "<a href=\"");
                sv_esc(b, t->link_prefix);
                {
                    sv_buf u = {0};
                    sv_urlenc(&u, PQgetvalue(res, i, t->link_col));
                    sv_esc(b, sv_buf_cstr(&u));
                    if (u.oom)
                        b->oom = 1;
                    sv_buf_free(&u);
                }
                sv_puts(b, "\">");
                sv_esc(b, PQgetvalue(res, i, c));
                sv_puts(b, "</a>");
            } else {
                sv_esc(b, PQgetvalue(res, i, c));
            }
            sv_printf(b, "</%s>", tag);
        }
        sv_puts(b, "</tr>");
    }
    sv_puts(b, "</tbody></table>");
    if (t->csv_href) {
        sv_puts(b, "<p class=\"csv\"><a href=\"");
        sv_esc(b, t->csv_href);
        sv_puts(b, "\" download=\"");
        sv_esc(b, t->id);
        sv_puts(b, ".csv\">Download CSV</a></p>");
    }
    sv_puts(b, "</div>");
}

static void csv_field(sv_buf *b, const char *s)
{
    if (!s[strcspn(s, ",\"\r\n")]) {
        sv_puts(b, s);
        return;
    }
    sv_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            sv_putc(b, '"');
        sv_putc(b, *s);
    }
    sv_putc(b, '"');
}

void dash_table_csv(sv_buf *b, const dash_table *t, PGresult *res)
{
    int nf = PQnfields(res);
    for (int k = 0; k < t->ncols; k++) {
        if (k)
            sv_putc(b, ',');
        csv_field(b, t->headers[k] ? t->headers[k] : "");
    }
    sv_puts(b, "\r\n");
    for (int i = 0; i < PQntuples(res); i++) {
        for (int k = 0; k < t->ncols; k++) {
            int c = t->cols[k];
            if (k)
                sv_putc(b, ',');
            if (c >= 0 && c < nf && !PQgetisnull(res, i, c))
                csv_field(b, PQgetvalue(res, i, c));
        }
        sv_puts(b, "\r\n");
    }
}

int dash_uuid_shape(const char *s)
{
    static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (strlen(s) != sizeof form - 1)
        return 0;
    for (size_t i = 0; form[i]; i++) {
        if (form[i] == '-' ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
            return 0;
    }
    return 1;
}
