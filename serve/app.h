/*
 * Internals shared by the server core (server.c) and the page modules
 * (page_*.c): the request being answered and the helpers every page uses.
 * A page handler reads the request (path captures, form, session) and fills
 * the response (status, body, Location, cookie); server.c adds the security
 * headers and sends it. Handlers never talk to libmicrohttpd directly.
 */
#ifndef FW_SERVE_APP_H
#define FW_SERVE_APP_H

#include "buf.h"
#include "config.h"
#include "db.h"
#include "form.h"
#include "guard.h"
#include "html.h"
#include "rate.h"

#include <libpq-fe.h>

typedef struct sv_server sv_server;

/*
 * A response body produced while it is sent, for answers too large to
 * build in memory (a dataset file): the server calls read from the
 * connection's thread until it returns 0 (the end: the response is
 * complete) or -1 (the response is cut off, so the client sees an
 * incomplete transfer, never a short file passing for a whole one); read
 * may block. free is called exactly once, from a server thread, after the
 * response ended or was abandoned (the client went away); it must stop
 * whatever produces the body. Embed it as the first member of the
 * producer's state.
 */
typedef struct sv_body {
    long (*read)(struct sv_body *b, char *buf, size_t max);
    void (*free)(struct sv_body *b);
} sv_body;

typedef struct {
    sv_server *srv;
    const sv_config *cfg;
    void *conn; /* struct MHD_Connection * */
    const char *method;
    int is_post;
    char path[1024];
    const char *query_t; /* ?t= of GET /signin, NULL when absent */
    int route;
    char cap_str[256]; /* the * segment of the route, percent-decoded */
    long long cap_num[2];
    int n_num;

    sv_form *form;
    unsigned body_status; /* 0, or 400/413 decided while reading the body */
    size_t body_seen;
    char body_err[256];

    char client[64];
    double t0;

    /* the signed-in account, when signed_in */
    int signed_in;
    char account[64];
    char kind[16]; /* reviewer | adjudicator | admin */
    char csrf[SV_TOKEN_LEN + 1];
    char sid_hash[65];
    sv_db *db; /* held for the whole request once taken */

    /* the response */
    unsigned status;
    sv_buf out;
    const char *ctype;
    char location[1024];
    char cookie[256];
    int retry_after;
    int cache_static;      /* long-lived cache headers (static files) */
    sv_body *body;         /* streamed instead of out when set (owned until sent) */
    char disposition[160]; /* Content-Disposition, or "" */
} sv_req;

typedef int (*sv_handler)(sv_req *r);

/* Gets the request's database connection (once per request; kept until the
 * request ends). NULL → the caller answers with sv_unavailable(). */
sv_db *sv_req_db(sv_req *r);

/* Takes the request's database connection away from the request, for a
 * streamed body that keeps using it after the handler returned (NULL when
 * none was taken); sv_server_db_put gives it back to the pool, from any
 * thread. */
sv_db *sv_req_db_take(sv_req *r);
void sv_server_db_put(sv_server *s, sv_db *d);

/* Takes a token of the per-address sign-in limit: 0 allowed, else seconds
 * to wait. */
int sv_signin_rate_take(sv_req *r);

/* Seconds since the epoch. */
double sv_wall_now(void);

/* A query-string argument of the request, percent-decoded ('+' is a
 * space) into out: 1 found, 0 absent (out is ""), -1 when it does not fit,
 * has a bad escape or is not UTF-8 without NUL (the caller answers 400). */
int sv_query(sv_req *r, const char *name, char *out, size_t size);

/* Responses */
void sv_redirect(sv_req *r, const char *location); /* 303 See Other */
int sv_error_page(sv_req *r, unsigned status, const char *title, const char *text);
int sv_unavailable(sv_req *r);
/* Logs a failed database result and answers by the store's class of its FR
 * code (fw_store_sqlstate_code): 404 not found, 409 conflict, 422 invalid
 * (with the message); 403 for 42501; else 500. */
int sv_db_error_page(sv_req *r, PGresult *res);

/* Page frame: <!doctype html> ... header with the account and sign-out
 * form; sv_page_end closes it. title is escaped. */
void sv_page_begin(sv_req *r, const char *title, const char *body_class);
void sv_page_end(sv_req *r);

/* <input type=hidden name=csrf value=...> for forms of signed-in pages. */
void sv_csrf_field(sv_req *r);

/* Writes an audit row as the server's login (resets the role first).
 * Failure is logged, never shown to the user. detail may be NULL. */
void sv_audit(sv_req *r, const char *action, long long item, const char *detail_json);

/* Pages (page_auth.c) */
int sv_page_home(sv_req *r);
int sv_page_signin_get(sv_req *r);
int sv_page_signin_post(sv_req *r);
int sv_page_signout(sv_req *r);
/* page_review.c */
int sv_page_queues(sv_req *r);
int sv_page_next(sv_req *r);
int sv_page_item_get(sv_req *r);
int sv_page_item_post(sv_req *r);
int sv_page_done(sv_req *r);
int sv_page_guidelines(sv_req *r);
/* page_adjudicate.c */
int sv_page_disputes(sv_req *r);
int sv_page_adjudicate_get(sv_req *r);
int sv_page_adjudicate_post(sv_req *r);
int sv_page_quality(sv_req *r);
int sv_page_history(sv_req *r);
int sv_page_history_item_get(sv_req *r);
int sv_page_history_item_post(sv_req *r);
/* page_admin.c */
int sv_page_admin_reviewers(sv_req *r);
int sv_page_admin_queues(sv_req *r);
int sv_page_admin_queues_post(sv_req *r);
int sv_page_admin_rubrics(sv_req *r);
int sv_page_admin_rubrics_post(sv_req *r);

/* page_dash*.c: dashboards (see docs/dashboards.md) */
int sv_page_dash_overview(sv_req *r);
int sv_page_dash_flywheel(sv_req *r);
/* dash: quality and feedback, the read-only trace view (page_dash_quality.c,
 * page_dash_trace.c) */
int sv_page_dash_quality(sv_req *r);
int sv_page_dash_trace(sv_req *r);
/* dash: collector and ingest, one dead letter and its replay (page_dash_ingest.c) */
int sv_page_dash_ingest(sv_req *r);
int sv_page_dash_deadletter(sv_req *r);
int sv_page_dash_deadletter_replay(sv_req *r);
/* page_dash_datasets.c, page_dash_eval.c: datasets and eval runs */
int sv_page_dash_datasets(sv_req *r);
int sv_page_dash_dataset(sv_req *r);
int sv_page_dash_dataset_download(sv_req *r);
int sv_page_dash_evals(sv_req *r);
int sv_page_dash_eval_run(sv_req *r);
int sv_page_dash_eval_compare(sv_req *r);

/* Static files (static.c, generated from serve/static/) */
int sv_static_find(const char *name, const char **data, size_t *len, const char **ctype);

#endif
