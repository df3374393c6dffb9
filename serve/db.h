/*
 * PostgreSQL access of the web server: a bounded pool of connections shared
 * by the request threads, and the identity switch.
 *
 * The server's login is a member of flywheel_web and can only SET ROLE to
 * the web accounts granted to flywheel_web. A request first looks up its
 * session as the login itself (sv_db_reset), then switches to the account
 * (sv_db_as) and makes every further call as that role, so the review
 * functions, row-level security and blind review decide what it sees; the
 * server adds no permission system of its own. A connection goes back to
 * the pool with its role still set; the next request resets it first.
 *
 * Every request waits at most `wait_ms` for a connection (then 503); a
 * connection that broke is closed on return and reopened on next use.
 */
#ifndef FW_SERVE_DB_H
#define FW_SERVE_DB_H

#include <libpq-fe.h>
#include <stddef.h>

typedef struct sv_pool sv_pool;

typedef struct {
    PGconn *c;
    int role_set; /* a SET ROLE is in effect */
    int broken;   /* close on return */
} sv_db;

/* A pool of up to `size` connections; none is opened yet. NULL on OOM. */
sv_pool *sv_pool_new(const char *dsn, int size, int statement_timeout_ms, int wait_ms);
void sv_pool_free(sv_pool *p);

/* A connection, opened if needed. NULL when none is free within wait_ms or
 * connecting failed (the reason is logged); the caller answers 503. */
sv_db *sv_pool_get(sv_pool *p);
void sv_pool_put(sv_pool *p, sv_db *d);

/* Runs a statement with text parameters. Always returns a result (check
 * PQresultStatus); a connection-level failure marks the connection broken
 * and counts a database error. */
PGresult *sv_db_exec(sv_db *d, const char *sql, int n, const char *const *params);

/* Back to the login's own identity. Returns 0 or -1. */
int sv_db_reset(sv_db *d);

/* SET ROLE account (as a parameter of set_config, never spliced). Returns 0,
 * or -1 when refused (the account's role is no longer granted to the
 * server's login) or the connection failed. */
int sv_db_as(sv_db *d, const char *account);

#endif
