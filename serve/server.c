/*
 * The server core: libmicrohttpd callbacks, routing, the guards every
 * request passes in a fixed order, and sending responses with the security
 * headers. Order for each request:
 *   1. route lookup (404/405) and body limits (415 before reading a body
 *      that is not urlencoded, 413 as soon as a limit is passed)
 *   2. POST: the Sec-Fetch-Site/Origin check (403)
 *   3. routes that need an account: the session (GET → 303 to /signin,
 *      POST → 403), then SET ROLE to the account
 *   4. POST with a session: the synchronizer CSRF token (403) and the
 *      per-session rate limit (429)
 *   5. the page handler
 * The URL is not percent-decoded by libmicrohttpd (our unescape callback
 * leaves it alone) so that an escaped "/" inside a queue name cannot change
 * the route; the one free-text segment is decoded here after matching.
 */
#include "fw_hex.h"
#include "serve.h"

#include "app.h"
#include "flywheel/store.h"
#include "log.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct sv_server {
    struct MHD_Daemon *d;
    sv_config *cfg;
    sv_pool *pool;
    sv_rate *signin_rate;
    sv_rate *post_rate;
    int port;
    char origin[512];
};

enum { PUBLIC = 0, ACCOUNT = 1 };

typedef struct {
    const char *method;
    const char *pattern; /* segments; "*" any one segment, "#" a positive integer */
    const char *name;    /* metrics label */
    sv_handler fn;
    int auth;
} route;

static int page_healthz(sv_req *r);
static int page_readyz(sv_req *r);
static int page_metrics(sv_req *r);
static int page_static(sv_req *r);

static const route routes[] = {
    {"GET", "/", "home", sv_page_home, ACCOUNT},
    {"GET", "/healthz", "healthz", page_healthz, PUBLIC},
    {"GET", "/readyz", "readyz", page_readyz, PUBLIC},
    {"GET", "/metrics", "metrics", page_metrics, PUBLIC},
    {"GET", "/static/*", "static", page_static, PUBLIC},
    {"GET", "/signin", "signin", sv_page_signin_get, PUBLIC},
    {"POST", "/signin", "signin_post", sv_page_signin_post, PUBLIC},
    {"POST", "/signout", "signout", sv_page_signout, ACCOUNT},
    {"GET", "/queues", "queues", sv_page_queues, ACCOUNT},
    {"POST", "/q/*/next", "claim", sv_page_next, ACCOUNT},
    {"GET", "/q/*/item/#", "item", sv_page_item_get, ACCOUNT},
    {"POST", "/q/*/item/#", "item_post", sv_page_item_post, ACCOUNT},
    {"GET", "/q/*/done", "done", sv_page_done, ACCOUNT},
    {"GET", "/q/*/guidelines", "guidelines", sv_page_guidelines, ACCOUNT},
    {"GET", "/history", "history", sv_page_history, ACCOUNT},
    {"GET", "/history/#", "history_item", sv_page_history_item_get, ACCOUNT},
    {"POST", "/history/#", "history_item_post", sv_page_history_item_post, ACCOUNT},
    {"GET", "/adjudicate", "disputes", sv_page_disputes, ACCOUNT},
    {"GET", "/adjudicate/#", "adjudicate", sv_page_adjudicate_get, ACCOUNT},
    {"POST", "/adjudicate/#", "adjudicate_post", sv_page_adjudicate_post, ACCOUNT},
    {"GET", "/quality", "quality", sv_page_quality, ACCOUNT},
    {"GET", "/admin/reviewers", "admin_reviewers", sv_page_admin_reviewers, ACCOUNT},
    {"GET", "/admin/queues", "admin_queues", sv_page_admin_queues, ACCOUNT},
    {"POST", "/admin/queues", "admin_queues_post", sv_page_admin_queues_post, ACCOUNT},
    {"GET", "/admin/rubrics", "admin_rubrics", sv_page_admin_rubrics, ACCOUNT},
    {"POST", "/admin/rubrics", "admin_rubrics_post", sv_page_admin_rubrics_post, ACCOUNT},
    {"GET", "/dash", "dash_overview", sv_page_dash_overview, ACCOUNT},
    {"GET", "/dash/flywheel", "dash_flywheel", sv_page_dash_flywheel, ACCOUNT},
    /* dash: quality, trace, ingest, dead letters */
    {"GET", "/dash/quality", "dash_quality", sv_page_dash_quality, ACCOUNT},
    {"GET", "/dash/trace/*", "dash_trace", sv_page_dash_trace, ACCOUNT},
    {"GET", "/dash/ingest", "dash_ingest", sv_page_dash_ingest, ACCOUNT},
    {"GET", "/dash/deadletter/#", "dash_deadletter", sv_page_dash_deadletter, ACCOUNT},
    {"POST", "/dash/deadletter/#/replay", "dash_deadletter_replay", sv_page_dash_deadletter_replay,
     ACCOUNT},
    /* datasets and eval runs (page_dash_datasets.c, page_dash_eval.c) */
    {"GET", "/dash/datasets", "dash_datasets", sv_page_dash_datasets, ACCOUNT},
    {"GET", "/dash/datasets/*/#", "dash_dataset", sv_page_dash_dataset, ACCOUNT},
    {"GET", "/dash/datasets/*/#/download", "dash_dataset_download", sv_page_dash_dataset_download,
     ACCOUNT},
    {"GET", "/dash/evals", "dash_evals", sv_page_dash_evals, ACCOUNT},
    {"GET", "/dash/evals/run/*", "dash_eval_run", sv_page_dash_eval_run, ACCOUNT},
    {"GET", "/dash/evals/compare", "dash_eval_compare", sv_page_dash_eval_compare, ACCOUNT},
};
#define N_ROUTES ((int)(sizeof routes / sizeof routes[0]))

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Percent-decodes a path segment into out; -1 on a bad escape, invalid
 * UTF-8 or overflow. */
static int decode_segment(const char *s, size_t n, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int h = fw_hex_val((unsigned char)s[i + 1]), l = fw_hex_val((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h << 4 | l);
            i += 2;
        }
        if (o + 1 >= size)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (o > 0 && sv_utf8_valid(out, o)) ? 0 : -1;
}

/* Matches path against a pattern, filling the captures of r. */
static int match(const char *pattern, const char *path, sv_req *r)
{
    r->n_num = 0;
    r->cap_str[0] = '\0';
    const char *p = pattern, *u = path;
    while (*p && *u) {
        if (*p == '*' || *p == '#') {
            size_t n = strcspn(u, "/");
            if (n == 0)
                return 0;
            if (*p == '*') {
                if (decode_segment(u, n, r->cap_str, sizeof r->cap_str) != 0)
                    return 0;
            } else {
                if (n > 15 || r->n_num >= 2)
                    return 0;
                long long v = 0;
                for (size_t i = 0; i < n; i++) {
                    if (u[i] < '0' || u[i] > '9')
                        return 0;
                    v = v * 10 + (u[i] - '0');
                }
                if (v <= 0)
                    return 0;
                r->cap_num[r->n_num++] = v;
            }
            p++;
            u += n;
            continue;
        }
        if (*p != *u)
            return 0;
        p++;
        u++;
    }
    return *p == '\0' && *u == '\0';
}

static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* ---- responses ---------------------------------------------------------- */

static void add_security_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; script-src 'self'; style-src 'self'; "
                            "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
                            "base-uri 'none'");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
}

static ssize_t body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sv_body *b = cls;
    long n = b->read(b, buf, max);
    if (n > 0)
        return (ssize_t)n;
    return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void body_free(void *cls)
{
    sv_body *b = cls;
    b->free(b);
}

static enum MHD_Result send_response(sv_req *r)
{
    struct MHD_Connection *c = r->conn;
    if (r->body && (r->out.oom || r->status >= 300)) {
        r->body->free(r->body);
        r->body = NULL;
    }
    if (r->out.oom) {
        sv_buf_free(&r->out);
        sv_puts(&r->out, "out of memory\n");
        r->status = 500;
        r->ctype = "text/plain; charset=utf-8";
        r->location[0] = '\0';
    }
    struct MHD_Response *resp;
    if (r->body) {
        /* libmicrohttpd owns the body from here: it calls body_free once
         * the response is done with, also when creating it fails. */
        sv_body *b = r->body;
        r->body = NULL;
        resp =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, body_read, b, body_free);
        if (!resp) {
            b->free(b);
            return MHD_NO;
        }
    } else {
        size_t len;
        char *body = sv_buf_take(&r->out, &len);
        resp = MHD_create_response_from_buffer(
            len, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (!resp) {
            free(body);
            return MHD_NO;
        }
    }
    MHD_add_response_header(resp, "Content-Type", r->ctype ? r->ctype : "text/html; charset=utf-8");
    add_security_headers(resp);
    MHD_add_response_header(resp, "Cache-Control",
                            r->cache_static ? "public, max-age=300" : "no-store");
    if (r->location[0])
        MHD_add_response_header(resp, "Location", r->location);
    if (r->disposition[0])
        MHD_add_response_header(resp, "Content-Disposition", r->disposition);
    if (r->cookie[0])
        MHD_add_response_header(resp, "Set-Cookie", r->cookie);
    if (r->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", r->retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    enum MHD_Result ret = MHD_queue_response(c, r->status ? r->status : 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

void sv_redirect(sv_req *r, const char *location)
{
    r->status = 303;
    snprintf(r->location, sizeof r->location, "%s", location);
    sv_buf_reset(&r->out);
    r->ctype = "text/plain; charset=utf-8";
    sv_puts(&r->out, "see other\n");
}

int sv_error_page(sv_req *r, unsigned status, const char *title, const char *text)
{
    sv_buf_reset(&r->out);
    r->status = status;
    r->location[0] = '\0';
    sv_page_begin(r, title, "error");
    sv_puts(&r->out, "<main class=\"narrow\"><h1>");
    sv_esc(&r->out, title);
    sv_puts(&r->out, "</h1><p>");
    sv_esc(&r->out, text);
    sv_puts(&r->out, "</p><p><a href=\"/queues\">Back to my queues</a></p></main>");
    sv_page_end(r);
    return 0;
}

int sv_unavailable(sv_req *r)
{
    r->retry_after = 5;
    return sv_error_page(r, 503, "Service unavailable",
                         "The database cannot be reached right now. Try again in a moment.");
}

int sv_db_error_page(sv_req *r, PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    /* The review functions' refusals, by the class the store gives their
     * FR code (flywheel/store.h, FW_STORE_FR_CODES). */
    switch (fw_store_sqlstate_code(state)) {
    case FW_STORE_NOT_FOUND:
        return sv_error_page(r, 404, "Not found", "There is no such queue or item.");
    case FW_STORE_CONFLICT:
        return sv_error_page(r, 409, "This item has changed",
                             msg ? msg : "The item was changed by someone else.");
    case FW_STORE_INVALID:
        return sv_error_page(r, 422, "Invalid answer", msg ? msg : "The answer was refused.");
    default:
        break;
    }
    state = state ? state : "";
    if (strcmp(state, "42501") == 0)
        return sv_error_page(r, 403, "Not allowed", "Your account is not allowed to do this.");
    char q[512];
    fw_log_error("database call failed", "route=%s sqlstate=%s error=%s",
                 r->route >= 0 ? routes[r->route].name : "none", *state ? state : "none",
                 fw_log_quote(q, sizeof q, PQresultErrorMessage(res)));
    sv_metrics_db_error();
    return sv_error_page(r, 500, "Internal error", "The request failed; it has been logged.");
}

int sv_query(sv_req *r, const char *name, char *out, size_t size)
{
    const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
    if (size)
        out[0] = '\0';
    if (!v)
        return 0;
    size_t o = 0, n = strlen(v);
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int h = i + 2 < n ? fw_hex_val((unsigned char)v[i + 1]) : -1,
                l = i + 2 < n ? fw_hex_val((unsigned char)v[i + 2]) : -1;
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h << 4 | l);
            i += 2;
        }
        if (o + 1 >= size)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return sv_utf8_valid(out, o) ? 1 : -1;
}

/* ---- session ------------------------------------------------------------ */

sv_db *sv_req_db(sv_req *r)
{
    if (!r->db)
        r->db = sv_pool_get(r->srv->pool);
    return r->db;
}

sv_db *sv_req_db_take(sv_req *r)
{
    sv_db *d = r->db;
    r->db = NULL;
    return d;
}

void sv_server_db_put(sv_server *s, sv_db *d)
{
    if (d)
        sv_pool_put(s->pool, d);
}

static const char *cookie_name(const sv_config *cfg)
{
    return cfg->secure_cookie ? "__Host-fw_session" : "fw_session";
}

/* Looks the session cookie up and, when valid, switches to its account.
 * Returns 0 (signed in or not), -1 when the database is unavailable. */
static int load_session(sv_req *r)
{
    const char *sid = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, cookie_name(r->cfg));
    if (!sv_token_shape(sid))
        return 0;
    sv_db *d = sv_req_db(r);
    if (!d || sv_db_reset(d) != 0)
        return -1;
    sv_token_hash_hex(sid, r->sid_hash);
    const char *params[1] = {r->sid_hash};
    PGresult *res = sv_db_exec(
        d,
        "SELECT s.account, a.kind, s.csrf_token, extract(epoch FROM s.created_at), "
        "extract(epoch FROM s.last_seen), extract(epoch FROM now()), a.disabled_at IS NOT NULL "
        "FROM flywheel.web_sessions s JOIN flywheel.web_accounts a ON a.name = s.account "
        "WHERE s.session_hash = decode($1, 'hex')",
        1, params);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char q[512];
        fw_log_error("session lookup failed", "error=%s",
                     fw_log_quote(q, sizeof q, PQresultErrorMessage(res)));
        PQclear(res);
        return -1;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 0;
    }
    double created = strtod(PQgetvalue(res, 0, 3), NULL);
    double seen = strtod(PQgetvalue(res, 0, 4), NULL);
    double now = strtod(PQgetvalue(res, 0, 5), NULL);
    int disabled = PQgetvalue(res, 0, 6)[0] == 't';
    sv_session_verdict v = sv_session_check(now, created, seen, (double)r->cfg->session_idle_s,
                                            (double)r->cfg->session_absolute_s);
    snprintf(r->account, sizeof r->account, "%s", PQgetvalue(res, 0, 0));
    snprintf(r->kind, sizeof r->kind, "%s", PQgetvalue(res, 0, 1));
    snprintf(r->csrf, sizeof r->csrf, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    if (v != SV_SESSION_VALID || disabled) {
        PQclear(sv_db_exec(
            d, "DELETE FROM flywheel.web_sessions WHERE session_hash = decode($1, 'hex')", 1,
            params));
        fw_log_info("session ended", "account=%s reason=%s", r->account,
                    disabled               ? "disabled"
                    : v == SV_SESSION_IDLE ? "idle"
                                           : "absolute");
        r->account[0] = r->csrf[0] = '\0';
        return 0;
    }
    if (now - seen >= 60)
        PQclear(sv_db_exec(d,
                           "UPDATE flywheel.web_sessions SET last_seen = now() "
                           "WHERE session_hash = decode($1, 'hex')",
                           1, params));
    if (sv_db_as(d, r->account) != 0) {
        r->account[0] = r->csrf[0] = '\0';
        return 0;
    }
    r->signed_in = 1;
    return 0;
}

void sv_audit(sv_req *r, const char *action, long long item, const char *detail_json)
{
    sv_db *d = sv_req_db(r);
    if (!d)
        return;
    if (sv_db_reset(d) != 0)
        return;
    char it[32];
    snprintf(it, sizeof it, "%lld", item);
    const char *params[5] = {r->signed_in || r->account[0] ? r->account : NULL, action,
                             item > 0 ? it : NULL, r->client, detail_json ? detail_json : "{}"};
    PGresult *res = sv_db_exec(d,
                               "INSERT INTO flywheel.web_audit (account, action, item_id, "
                               "client_addr, detail) VALUES ($1, $2, $3, $4, $5::jsonb)",
                               5, params);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        char q[512];
        fw_log_error("could not write audit row", "action=%s error=%s", action,
                     fw_log_quote(q, sizeof q, PQresultErrorMessage(res)));
    }
    PQclear(res);
    if (r->signed_in)
        sv_db_as(d, r->account);
}

/* ---- built-in routes ---------------------------------------------------- */

static int page_healthz(sv_req *r)
{
    r->ctype = "text/plain; charset=utf-8";
    sv_puts(&r->out, "ok\n");
    return 0;
}

static int page_readyz(sv_req *r)
{
    r->ctype = "text/plain; charset=utf-8";
    sv_db *d = sv_req_db(r);
    if (!d || sv_db_reset(d) != 0) {
        r->status = 503;
        sv_puts(&r->out, "not ready: PostgreSQL unavailable\n");
        return 0;
    }
    PGresult *res =
        sv_db_exec(d, "SELECT count(*) FROM flywheel.web_accounts WHERE false", 0, NULL);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        r->status = 503;
        sv_puts(&r->out, "not ready: ");
        sv_puts(&r->out, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                             ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                             : "database error");
        sv_puts(&r->out, "\n");
    } else {
        sv_puts(&r->out, "ready\n");
    }
    PQclear(res);
    return 0;
}

static int page_metrics(sv_req *r)
{
    r->ctype = "text/plain; version=0.0.4; charset=utf-8";
    sv_metrics_render(&r->out);
    return 0;
}

static int page_static(sv_req *r)
{
    const char *data, *ctype;
    size_t len;
    if (sv_static_find(r->cap_str, &data, &len, &ctype) != 0) {
        r->status = 404;
        r->ctype = "text/plain; charset=utf-8";
        sv_puts(&r->out, "not found\n");
        return 0;
    }
    r->ctype = ctype;
    r->cache_static = 1;
    sv_put(&r->out, data, len);
    return 0;
}

/* ---- libmicrohttpd callbacks ------------------------------------------- */

static void client_addr(struct MHD_Connection *c, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ci->client_addr;
        inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)size);
    }
}

static int content_type_ok(const char *ct)
{
    if (!ct)
        return 0;
    size_t n = strlen("application/x-www-form-urlencoded");
    if (strncasecmp(ct, "application/x-www-form-urlencoded", n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static enum MHD_Result finish(sv_req *r)
{
    enum MHD_Result ret = send_response(r);
    sv_metrics_request(r->route, r->status ? r->status : 200, mono_now() - r->t0);
    return ret;
}

static void dispatch(sv_req *r)
{
    sv_server *s = r->srv;
    const route *rt = &routes[r->route];
    if (r->is_post) {
        const char *sfs = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
        const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
        sv_origin_verdict v = sv_origin_check(sfs, origin, s->origin);
        if (v != SV_ORIGIN_OK) {
            sv_metrics_refused(SV_REFUSED_ORIGIN);
            fw_log_warn("cross-origin post refused", "route=%s reason=%s client=%s", rt->name,
                        sv_origin_verdict_name(v), r->client);
            sv_error_page(r, 403, "Forbidden", "This form was posted from another site.");
            return;
        }
    }
    if (rt->auth == ACCOUNT) {
        if (load_session(r) != 0) {
            sv_unavailable(r);
            return;
        }
        if (!r->signed_in) {
            if (r->is_post) {
                sv_error_page(r, 403, "Signed out",
                              "Your session has ended. Sign in again with a new link.");
            } else {
                sv_redirect(r, "/signin");
            }
            if (MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, cookie_name(r->cfg)))
                snprintf(r->cookie, sizeof r->cookie,
                         "%s=; Path=/; Max-Age=0; HttpOnly; "
                         "SameSite=Strict%s",
                         cookie_name(r->cfg), r->cfg->secure_cookie ? "; Secure" : "");
            return;
        }
        if (r->is_post) {
            if (!sv_ct_equal(sv_form_get(r->form, "csrf"), r->csrf)) {
                sv_metrics_refused(SV_REFUSED_CSRF);
                fw_log_warn("csrf token refused", "route=%s account=%s client=%s", rt->name,
                            r->account, r->client);
                sv_error_page(r, 403, "Forbidden",
                              "The form's security token is missing or stale. Reload the page "
                              "and try again.");
                return;
            }
            int wait = sv_rate_take(s->post_rate, r->sid_hash, mono_now());
            if (wait) {
                sv_metrics_refused(SV_REFUSED_RATE);
                r->retry_after = wait;
                sv_error_page(r, 429, "Too many requests", "Slow down and try again shortly.");
                return;
            }
        }
    }
    rt->fn(r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    sv_server *s = cls;
    sv_req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        r->srv = s;
        r->cfg = s->cfg;
        r->conn = c;
        r->t0 = mono_now();
        r->method = method;
        r->route = -1;
        client_addr(c, r->client, sizeof r->client);
        snprintf(r->path, sizeof r->path, "%s", url);
        r->is_post = strcmp(method, "POST") == 0;
        int any_method = 0;
        for (int i = 0; i < N_ROUTES; i++) {
            if (match(routes[i].pattern, r->path, r)) {
                any_method = 1;
                if (strcmp(routes[i].method, method) == 0 ||
                    (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
                    r->route = i;
                    break;
                }
            }
        }
        if (r->route < 0) {
            r->ctype = "text/plain; charset=utf-8";
            r->status = any_method ? 405 : 404;
            sv_puts(&r->out, any_method ? "method not allowed\n" : "not found\n");
            return finish(r);
        }
        if (r->is_post) {
            const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
            if (!content_type_ok(ct)) {
                sv_metrics_refused(SV_REFUSED_TYPE);
                sv_error_page(r, 415, "Unsupported form encoding",
                              "Forms are accepted as application/x-www-form-urlencoded only.");
                return finish(r);
            }
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
            if (cl && strtoull(cl, NULL, 10) > (unsigned long long)s->cfg->max_body_bytes) {
                sv_metrics_refused(SV_REFUSED_BODY);
                sv_error_page(r, 413, "Request too large", "The form is larger than allowed.");
                return finish(r);
            }
            r->form = sv_form_new((size_t)s->cfg->max_body_bytes, (size_t)s->cfg->max_field_bytes,
                                  (size_t)s->cfg->max_fields);
            if (!r->form)
                return MHD_NO;
        }
        if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
            r->query_t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "t");
        }
        return MHD_YES;
    }
    if (r->status && !r->form) {
        *upload_size = 0; /* already answered; discard the rest of the body */
        return MHD_YES;
    }
    if (*upload_size) {
        /* libmicrohttpd accepts a response only before or after the body,
         * never in the middle: after a limit is passed the rest is read and
         * dropped, and the 413/400 goes out at the end. A body that goes on
         * far past the limit (chunked, no Content-Length) closes the
         * connection instead. */
        r->body_seen += *upload_size;
        if (r->body_status) {
            *upload_size = 0;
            return r->body_seen > 2 * (size_t)s->cfg->max_body_bytes ? MHD_NO : MHD_YES;
        }
        if (r->form && sv_form_feed(r->form, upload, *upload_size) != SV_FORM_OK) {
            r->body_status = sv_form_status_of(r->form) == SV_FORM_TOO_LARGE ? 413 : 400;
            sv_metrics_refused(SV_REFUSED_BODY);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->body_status) {
        sv_error_page(r, r->body_status,
                      r->body_status == 413 ? "Request too large" : "Bad request",
                      sv_form_error(r->form));
        return finish(r);
    }
    if (r->form && sv_form_finish(r->form) != SV_FORM_OK) {
        unsigned st = sv_form_status_of(r->form) == SV_FORM_TOO_LARGE ? 413 : 400;
        sv_metrics_refused(SV_REFUSED_BODY);
        sv_error_page(r, st, st == 413 ? "Request too large" : "Bad request",
                      sv_form_error(r->form));
        return finish(r);
    }
    dispatch(r);
    return finish(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    sv_server *s = cls;
    sv_req *r = *con_cls;
    if (!r)
        return;
    if (r->db)
        sv_pool_put(s->pool, r->db);
    if (r->body)
        r->body->free(r->body);
    sv_form_free(r->form);
    sv_buf_free(&r->out);
    free(r);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512], q[600];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    fw_log_warn("http server", "detail=%s", fw_log_quote(q, sizeof q, msg));
}

sv_server *sv_server_start(sv_config *cfg, char *err, size_t errsize)
{
    const char *names[N_ROUTES];
    for (int i = 0; i < N_ROUTES; i++)
        names[i] = routes[i].name;
    sv_metrics_init(names, N_ROUTES);

    char host[256];
    const char *colon = strrchr(cfg->listen, ':');
    size_t hl = colon ? (size_t)(colon - cfg->listen) : 0;
    if (!colon || hl == 0 || hl >= sizeof host) {
        snprintf(err, errsize, "invalid serve.listen \"%s\": expected host:port", cfg->listen);
        return NULL;
    }
    memcpy(host, cfg->listen, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        snprintf(err, errsize, "invalid port in serve.listen \"%s\"", cfg->listen);
        return NULL;
    }
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int gai = getaddrinfo(host, NULL, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errsize, "could not resolve serve.listen host \"%s\": %s", host,
                 gai_strerror(gai));
        return NULL;
    }
    struct sockaddr_in sin;
    memcpy(&sin, ai->ai_addr, sizeof sin);
    freeaddrinfo(ai);
    sin.sin_port = htons((uint16_t)port);

    sv_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    s->pool = sv_pool_new(cfg->pg_dsn, (int)cfg->pg_pool_size, (int)cfg->pg_statement_timeout_ms,
                          (int)cfg->pg_wait_ms);
    s->signin_rate = sv_rate_new((double)cfg->signin_per_minute, (double)cfg->signin_per_minute);
    s->post_rate =
        sv_rate_new((double)cfg->posts_per_minute, (double)cfg->posts_per_minute / 4 + 4);
    if (!s->pool || !s->signin_rate || !s->post_rate) {
        snprintf(err, errsize, "out of memory");
        goto fail;
    }
    s->d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sin, MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->connection_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->per_ip_connection_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL, MHD_OPTION_END);
    if (!s->d) {
        snprintf(err, errsize, "could not listen on \"%s\"", cfg->listen);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : (int)port;
    if (*cfg->public_url)
        snprintf(s->origin, sizeof s->origin, "%s", cfg->origin);
    else
        snprintf(s->origin, sizeof s->origin, "http://%s:%d", host, s->port);
    snprintf(cfg->origin, sizeof cfg->origin, "%s", s->origin);
    return s;
fail:
    sv_rate_free(s->signin_rate);
    sv_rate_free(s->post_rate);
    sv_pool_free(s->pool);
    free(s);
    return NULL;
}

int sv_server_port(const sv_server *s)
{
    return s ? s->port : 0;
}

void sv_server_stop(sv_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    sv_rate_free(s->signin_rate);
    sv_rate_free(s->post_rate);
    sv_pool_free(s->pool);
    free(s);
}

int sv_signin_rate_take(sv_req *r)
{
    return sv_rate_take(r->srv->signin_rate, r->client, mono_now());
}

double sv_wall_now(void)
{
    return wall_now();
}
