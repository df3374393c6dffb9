/*
 * Signing in and out. A sign-in link (printed by `flywheel reviewer add` or
 * `flywheel reviewer link`) opens GET /signin?t=TOKEN, which changes nothing:
 * it shows a button that POSTs the token (so a link scanner that follows
 * links cannot use up a single-use token). POST /signin uses the token up
 * and creates the session in one statement: a new random id (a fresh one on
 * every sign-in, and the previous session of this browser is deleted), its
 * SHA-256 and a CSRF token stored, the id in an HttpOnly, SameSite=Strict
 * cookie (Secure with the __Host- prefix unless on plain-HTTP loopback).
 * With auth.trusted_header, a proxy on an allow-listed address names the
 * account instead of a token.
 */
#include "app.h"

#include "log.h"
#include "metrics.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

int sv_page_home(sv_req *r)
{
    sv_redirect(r, "/queues");
    return 0;
}

/* The account named by the trusted proxy header, or NULL when the mode is
 * off, the peer is not allow-listed or the header is absent. */
static const char *trusted_account(sv_req *r)
{
    const char *h = r->cfg->trusted_header;
    if (!*h || !r->client[0])
        return NULL;
    const char *peers = r->cfg->trusted_peers;
    size_t cl = strlen(r->client);
    int ok = 0;
    for (const char *p = peers; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == cl && strncmp(p, r->client, n) == 0)
            ok = 1;
        p += n;
    }
    if (!ok)
        return NULL;
    const char *v = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, h);
    return (v && *v && strlen(v) < 64) ? v : NULL;
}

static const char *cookie_name(const sv_req *r)
{
    return r->cfg->secure_cookie ? "__Host-fw_session" : "fw_session";
}

int sv_page_signin_get(sv_req *r)
{
    sv_page_begin(r, "Sign in", "signin");
    sv_puts(&r->out, "<main class=\"narrow\"><h1>Sign in</h1>");
    const char *sso = trusted_account(r);
    if (sso) {
        sv_puts(&r->out, "<form method=\"post\" action=\"/signin\"><input type=\"hidden\" "
                         "name=\"sso\" value=\"1\"><button type=\"submit\" autofocus>Continue as ");
        sv_esc(&r->out, sso);
        sv_puts(&r->out, "</button></form>");
    } else if (r->query_t && sv_token_shape(r->query_t)) {
        sv_puts(&r->out, "<p>This is a one-time sign-in link. It works once and expires soon.</p>"
                         "<form method=\"post\" action=\"/signin\"><input type=\"hidden\" "
                         "name=\"token\" value=\"");
        sv_esc(&r->out, r->query_t);
        sv_puts(&r->out, "\"><button type=\"submit\" id=\"signin\" autofocus>Sign in</button>"
                         "</form>");
    } else {
        sv_puts(&r->out,
                "<p>Open the sign-in link your administrator gave you, or paste it here. "
                "Administrators create one with <code>flywheel reviewer link NAME</code>.</p>"
                "<form method=\"post\" action=\"/signin\"><label for=\"token\">Sign-in link or "
                "token</label><input type=\"text\" id=\"token\" name=\"token\" "
                "autocomplete=\"off\" required><button type=\"submit\">Sign in</button></form>");
    }
    sv_puts(&r->out, "</main>");
    sv_page_end(r);
    return 0;
}

/* The token out of a pasted value: the whole value, or what follows "t=". */
static const char *token_of(const char *v)
{
    if (!v)
        return NULL;
    const char *t = strstr(v, "t=");
    return t ? t + 2 : v;
}

int sv_page_signin_post(sv_req *r)
{
    int wait = sv_signin_rate_take(r);
    if (wait) {
        sv_metrics_refused(SV_REFUSED_RATE);
        r->retry_after = wait;
        return sv_error_page(r, 429, "Too many sign-in attempts", "Wait a minute and try again.");
    }
    const char *sso = sv_form_get(r->form, "sso") ? trusted_account(r) : NULL;
    const char *token = sso ? NULL : token_of(sv_form_get(r->form, "token"));
    char tok[SV_TOKEN_LEN + 1] = "";
    if (token) {
        snprintf(tok, sizeof tok, "%.*s", SV_TOKEN_LEN, token);
        if (strlen(token) > SV_TOKEN_LEN && token[SV_TOKEN_LEN] != '&' &&
            token[SV_TOKEN_LEN] != ' ')
            tok[0] = '\0';
    }
    if (!sso && !sv_token_shape(tok)) {
        sv_metrics_signin(0);
        sv_audit(r, "signin_refused", 0, "{\"reason\": \"malformed token\"}");
        return sv_error_page(r, 403, "Sign-in refused",
                             "This is not a valid sign-in link. Ask your administrator for a new "
                             "one.");
    }
    char sid[SV_TOKEN_LEN + 1], csrf[SV_TOKEN_LEN + 1], sid_hash[65], tok_hash[65];
    if (sv_token_new(sid) != 0 || sv_token_new(csrf) != 0)
        return sv_error_page(r, 500, "Internal error", "No randomness available.");
    sv_token_hash_hex(sid, sid_hash);
    sv_db *d = sv_req_db(r);
    if (!d || sv_db_reset(d) != 0)
        return sv_unavailable(r);
    /* Rotation: the browser's previous session, if any, ends here. */
    const char *old = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, cookie_name(r));
    if (sv_token_shape(old)) {
        char old_hash[65];
        sv_token_hash_hex(old, old_hash);
        const char *p[1] = {old_hash};
        PQclear(sv_db_exec(d,
                           "DELETE FROM flywheel.web_sessions WHERE session_hash = "
                           "decode($1, 'hex')",
                           1, p));
    }
    PGresult *res;
    if (sso) {
        const char *p[4] = {sso, sid_hash, csrf, r->client};
        res = sv_db_exec(
            d,
            "INSERT INTO flywheel.web_sessions (session_hash, account, csrf_token, "
            "client_addr) SELECT decode($2, 'hex'), a.name, $3, $4 "
            "FROM flywheel.web_accounts a WHERE a.name = $1 AND a.disabled_at IS NULL "
            "RETURNING account, (SELECT kind FROM flywheel.web_accounts WHERE name = $1)",
            4, p);
    } else {
        sv_token_hash_hex(tok, tok_hash);
        const char *p[4] = {tok_hash, sid_hash, csrf, r->client};
        res = sv_db_exec(
            d,
            "WITH t AS (UPDATE flywheel.web_signin_tokens t SET used_at = now() "
            "  FROM flywheel.web_accounts a "
            "  WHERE t.token_hash = decode($1, 'hex') AND t.used_at IS NULL "
            "    AND t.expires_at > now() AND a.name = t.account AND a.disabled_at IS NULL "
            "  RETURNING t.account, a.kind) "
            "INSERT INTO flywheel.web_sessions (session_hash, account, csrf_token, client_addr) "
            "SELECT decode($2, 'hex'), t.account, $3, $4 FROM t "
            "RETURNING account, (SELECT kind FROM t)",
            4, p);
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = sv_db_error_page(r, res);
        PQclear(res);
        return rc;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        sv_metrics_signin(0);
        if (sso)
            snprintf(r->account, sizeof r->account, "%s", sso);
        sv_audit(r, "signin_refused", 0,
                 sso ? "{\"reason\": \"unknown or disabled account\", \"via\": \"proxy\"}"
                     : "{\"reason\": \"unknown, used or expired token\"}");
        r->account[0] = '\0';
        return sv_error_page(r, 403, "Sign-in refused",
                             sso ? "Your account is not enabled for review. Ask your "
                                   "administrator."
                                 : "This sign-in link is not valid: it was used already, it "
                                   "expired, or the account is disabled. Ask your "
                                   "administrator for a new one.");
    }
    snprintf(r->account, sizeof r->account, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    sv_metrics_signin(1);
    sv_audit(r, "signin", 0, sso ? "{\"via\": \"proxy\"}" : "{\"via\": \"link\"}");
    fw_log_info("signed in", "account=%s client=%s", r->account, r->client);
    snprintf(r->cookie, sizeof r->cookie,
             "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s", cookie_name(r), sid,
             (long long)r->cfg->session_absolute_s, r->cfg->secure_cookie ? "; Secure" : "");
    sv_redirect(r, "/queues");
    return 0;
}

int sv_page_signout(sv_req *r)
{
    sv_db *d = sv_req_db(r);
    if (!d || sv_db_reset(d) != 0)
        return sv_unavailable(r);
    const char *p[1] = {r->sid_hash};
    PQclear(sv_db_exec(
        d, "DELETE FROM flywheel.web_sessions WHERE session_hash = decode($1, 'hex')", 1, p));
    r->signed_in = 0; /* the role was reset above: the audit row is the server's */
    sv_audit(r, "signout", 0, NULL);
    snprintf(r->cookie, sizeof r->cookie, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
             cookie_name(r), r->cfg->secure_cookie ? "; Secure" : "");
    sv_redirect(r, "/signin");
    return 0;
}
