/* Connection pool and identity switch; see db.h. */
#include "db.h"

#include "log.h"
#include "metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sv_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *dsn;
    int size, timeout_ms, wait_ms;
    sv_db *slots;
    int *free_list; /* indexes of idle slots */
    int n_free;
};

sv_pool *sv_pool_new(const char *dsn, int size, int statement_timeout_ms, int wait_ms)
{
    sv_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->dsn = strdup(dsn ? dsn : "");
    p->slots = calloc((size_t)size, sizeof *p->slots);
    p->free_list = calloc((size_t)size, sizeof *p->free_list);
    if (!p->dsn || !p->slots || !p->free_list) {
        free(p->dsn);
        free(p->slots);
        free(p->free_list);
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    p->size = size;
    p->timeout_ms = statement_timeout_ms;
    p->wait_ms = wait_ms;
    for (int i = 0; i < size; i++)
        p->free_list[i] = i;
    p->n_free = size;
    return p;
}

void sv_pool_free(sv_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->size; i++)
        if (p->slots[i].c)
            PQfinish(p->slots[i].c);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->dsn);
    free(p->slots);
    free(p->free_list);
    free(p);
}

static int open_conn(sv_pool *p, sv_db *d)
{
    d->c = PQconnectdb(p->dsn);
    if (!d->c || PQstatus(d->c) != CONNECTION_OK) {
        char q[512];
        fw_log_error("could not connect to database", "error=%s",
                     fw_log_quote(q, sizeof q, d->c ? PQerrorMessage(d->c) : "out of memory"));
        if (d->c)
            PQfinish(d->c);
        d->c = NULL;
        sv_metrics_db_error();
        return -1;
    }
    char sql[160];
    snprintf(sql, sizeof sql,
             "SET application_name = 'flywheel-serve'; SET statement_timeout = %d; "
             "SET idle_in_transaction_session_timeout = %d",
             p->timeout_ms, p->timeout_ms);
    PGresult *r = PQexec(d->c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        PQfinish(d->c);
        d->c = NULL;
        sv_metrics_db_error();
        return -1;
    }
    d->role_set = 0;
    d->broken = 0;
    return 0;
}

sv_db *sv_pool_get(sv_pool *p)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += p->wait_ms / 1000;
    until.tv_nsec += (long)(p->wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    while (p->n_free == 0) {
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT && p->n_free == 0) {
            pthread_mutex_unlock(&p->mu);
            fw_log_warn("no database connection free", "wait_ms=%d pool_size=%d", p->wait_ms,
                        p->size);
            return NULL;
        }
    }
    sv_db *d = &p->slots[p->free_list[--p->n_free]];
    pthread_mutex_unlock(&p->mu);
    if (d->c && PQstatus(d->c) != CONNECTION_OK) {
        PQfinish(d->c);
        d->c = NULL;
    }
    if (!d->c && open_conn(p, d) != 0) {
        sv_pool_put(p, d);
        return NULL;
    }
    return d;
}

void sv_pool_put(sv_pool *p, sv_db *d)
{
    if (d->c && (d->broken || PQstatus(d->c) != CONNECTION_OK ||
                 PQtransactionStatus(d->c) != PQTRANS_IDLE)) {
        PQfinish(d->c);
        d->c = NULL;
    }
    d->broken = 0;
    pthread_mutex_lock(&p->mu);
    p->free_list[p->n_free++] = (int)(d - p->slots);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

PGresult *sv_db_exec(sv_db *d, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(d->c, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        if (!r || PQstatus(d->c) != CONNECTION_OK) {
            d->broken = 1;
            sv_metrics_db_error();
        }
        if (!r)
            r = PQmakeEmptyPGresult(d->c, PGRES_FATAL_ERROR);
    }
    return r;
}

int sv_db_reset(sv_db *d)
{
    if (!d->role_set)
        return 0;
    PGresult *r = PQexec(d->c, "RESET ROLE");
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        d->broken = 1;
        return -1;
    }
    d->role_set = 0;
    return 0;
}

int sv_db_as(sv_db *d, const char *account)
{
    const char *params[1] = {account};
    d->role_set = 1; /* even a failed attempt may leave the session unsure: reset next time */
    PGresult *r = sv_db_exec(d, "SELECT pg_catalog.set_config('role', $1, false)", 1, params);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) {
        char q[512];
        fw_log_warn("could not switch to account role", "account=%s error=%s", account,
                    fw_log_quote(q, sizeof q, PQresultErrorMessage(r)));
    }
    PQclear(r);
    return ok ? 0 : -1;
}
