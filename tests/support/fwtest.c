/* Implementation of the test support library; see fwtest.h. */
#include "fwtest.h"
#include "migrate.h"

#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char g_dbs[16][128];
static int g_ndbs;
static int g_failed;

void fwt_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    g_failed = 1;
    exit(1);
}

const char *fwt_require_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        fwt_fail(__FILE__, __LINE__,
                 "%s is not set: this test needs the services from scripts/services up "
                 "(run it through scripts/test, or eval \"$(scripts/services env)\")",
                 name);
    return v;
}

int64_t fwt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fwt_unique_name(const char *prefix, char *out, size_t size)
{
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(out, size, "%s_%ld_%u_%lx", prefix, (long)getpid(), counter++,
             (unsigned long)(ts.tv_nsec ^ ((unsigned long)ts.tv_sec << 20)) & 0xffffff);
}

PGconn *fwt_pg_connect(const char *dsn)
{
    PGconn *c = PQconnectdb(dsn);
    if (PQstatus(c) != CONNECTION_OK)
        fwt_fail(__FILE__, __LINE__, "could not connect to \"%s\": %s", dsn, PQerrorMessage(c));
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    return c;
}

void fwt_pg_exec(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fwt_fail(__FILE__, __LINE__, "query failed: %s\n  %s", PQerrorMessage(conn), sql);
    PQclear(r);
}

long long fwt_pg_int(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || PQnfields(r) != 1)
        fwt_fail(__FILE__, __LINE__, "query failed or not one value: %s\n  %s",
                 PQerrorMessage(conn), sql);
    long long v = PQgetisnull(r, 0, 0) ? 0 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

static void drop_dbs(void)
{
    if (g_failed && getenv("FWT_KEEP_DB"))
        return;
    const char *admin = getenv("FLYWHEEL_PG_ADMIN_DSN");
    if (!admin || g_ndbs == 0)
        return;
    PGconn *c = PQconnectdb(admin);
    if (PQstatus(c) == CONNECTION_OK) {
        for (int i = 0; i < g_ndbs; i++) {
            char sql[256];
            snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", g_dbs[i]);
            PQclear(PQexec(c, sql));
        }
    }
    PQfinish(c);
}

void fwt_pg_create_db(const char *prefix, char *dsn, size_t size)
{
    const char *admin = fwt_require_env("FLYWHEEL_PG_ADMIN_DSN");
    char name[96], sql[256];
    fwt_unique_name(prefix, name, sizeof name);
    PGconn *c = fwt_pg_connect(admin);
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", name);
    fwt_pg_exec(c, sql);
    PQfinish(c);
    if (g_ndbs == 0)
        atexit(drop_dbs);
    if (g_ndbs < 16)
        snprintf(g_dbs[g_ndbs++], sizeof g_dbs[0], "%s", name);
    snprintf(dsn, size, "%s dbname=%s", admin, name);
}

void fwt_pg_migrate(const char *dsn)
{
    char err[2048];
    fw_migration_set set;
    if (fw_migrations_load_embedded(&set, err, sizeof err) != 0)
        fwt_fail(__FILE__, __LINE__, "loading migrations: %s", err);
    PGconn *c = fwt_pg_connect(dsn);
    fw_migrate_opts o = {.lock_timeout = "30s"};
    if (fw_migrate_apply(c, &set, &o, err, sizeof err) < 0)
        fwt_fail(__FILE__, __LINE__, "migrating: %s", err);
    PQfinish(c);
    fw_migrations_free(&set);
}

const char *fwt_kafka_bootstrap(void)
{
    return fwt_require_env("FLYWHEEL_KAFKA_BOOTSTRAP");
}

const char *fwt_program(const char *relpath)
{
    static char buf[8][1024];
    static int next;
    char *b = buf[next++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", FWT_BUILD_DIR, relpath);
    if (access(b, X_OK) != 0)
        fwt_fail(__FILE__, __LINE__, "program not built: %s", b);
    return b;
}

int fwt_run(const char *cmdline)
{
    int st = system(cmdline);
    if (st == -1)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
