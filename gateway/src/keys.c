/*
 * Project key lookups with a small cache; see keys.h.
 */
#include "keys.h"

#include "log.h"
#include "pgutil.h"

#include <libpq-fe.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_SLOTS 1024

typedef struct {
    char hash[65];
    char project[128];
    int found;
    time_t expires;
} slot;

struct fwg_keys {
    pthread_mutex_t mu;
    char *dsn;
    int cache_s;
    PGconn *conn;
    slot cache[CACHE_SLOTS];
};

void fwg_key_hash_hex(const char *key, char out[65])
{
    uint8_t h[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)key, strlen(key), h);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

fwg_keys *fwg_keys_new(const char *dsn, int cache_s)
{
    fwg_keys *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->dsn = strdup(dsn ? dsn : "");
    if (!k->dsn) {
        free(k);
        return NULL;
    }
    k->cache_s = cache_s;
    pthread_mutex_init(&k->mu, NULL);
    return k;
}

void fwg_keys_free(fwg_keys *k)
{
    if (!k)
        return;
    if (k->conn)
        PQfinish(k->conn);
    pthread_mutex_destroy(&k->mu);
    free(k->dsn);
    free(k);
}

/* With the lock held: a working connection, or NULL with err set. */
static PGconn *conn(fwg_keys *k, char *err, size_t errsize)
{
    if (k->conn && PQstatus(k->conn) == CONNECTION_OK)
        return k->conn;
    if (k->conn)
        PQfinish(k->conn);
    k->conn = PQconnectdb(k->dsn);
    if (PQstatus(k->conn) != CONNECTION_OK) {
        char buf[512];
        snprintf(err, errsize, "could not connect to PostgreSQL for key lookups: %s",
                 fw_pg_errstr(buf, sizeof buf, NULL, k->conn));
        PQfinish(k->conn);
        k->conn = NULL;
        return NULL;
    }
    return k->conn;
}

static unsigned slot_of(const char *hash)
{
    unsigned h = 0;
    for (int i = 0; i < 8; i++)
        h = h * 16 + (unsigned)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
    return h % CACHE_SLOTS;
}

int fwg_keys_lookup(fwg_keys *k, const char *key, char *project, size_t size, char *err,
                    size_t errsize)
{
    char hash[65];
    fwg_key_hash_hex(key, hash);
    time_t now = time(NULL);
    pthread_mutex_lock(&k->mu);
    slot *s = &k->cache[slot_of(hash)];
    if (k->cache_s > 0 && strcmp(s->hash, hash) == 0 && s->expires > now) {
        int found = s->found;
        if (found)
            snprintf(project, size, "%s", s->project);
        pthread_mutex_unlock(&k->mu);
        return found;
    }
    int rc = -1;
    PGresult *res = NULL;
    for (int attempt = 0; attempt < 2 && rc < 0; attempt++) {
        PGconn *c = conn(k, err, errsize);
        if (!c)
            break;
        char param[2 + 64 + 1];
        snprintf(param, sizeof param, "\\x%s", hash);
        const char *params[1] = {param};
        res = PQexecParams(c,
                           "SELECT project FROM flywheel.project_keys "
                           "WHERE key_hash = $1::bytea AND revoked_at IS NULL",
                           1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) == PGRES_TUPLES_OK) {
            rc = PQntuples(res) > 0;
            if (rc)
                snprintf(project, size, "%s", PQgetvalue(res, 0, 0));
        } else {
            char buf[512];
            snprintf(err, errsize, "could not look up a project key: %s",
                     fw_pg_errstr(buf, sizeof buf, res, c));
            if (fw_pg_classify(res, c) != FW_PG_RETRY)
                attempt = 2; /* permissions, schema: no point retrying */
            else if (PQstatus(c) != CONNECTION_OK) {
                PQfinish(k->conn);
                k->conn = NULL;
            }
        }
        PQclear(res);
        res = NULL;
    }
    if (rc >= 0 && k->cache_s > 0) {
        snprintf(s->hash, sizeof s->hash, "%s", hash);
        s->found = rc;
        if (rc)
            snprintf(s->project, sizeof s->project, "%s", project);
        s->expires = now + k->cache_s;
    }
    pthread_mutex_unlock(&k->mu);
    return rc;
}

int fwg_keys_ping(fwg_keys *k)
{
    char err[512];
    pthread_mutex_lock(&k->mu);
    int ok = 0;
    PGconn *c = conn(k, err, sizeof err);
    if (c) {
        PGresult *res = PQexec(c, "SELECT 1 FROM flywheel.project_keys LIMIT 0");
        ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        PQclear(res);
    }
    pthread_mutex_unlock(&k->mu);
    return ok;
}
