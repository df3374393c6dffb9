/*
 * collector_pg_outage: PostgreSQL stopped mid-stream for longer than
 * max.poll.interval.ms, then started again: no event lost, none duplicated,
 * and the collector never left the consumer group (its rebalance counter
 * and assignment are unchanged across the outage; it keeps polling with
 * its partitions paused and /readyz says 503 meanwhile). Its log names the
 * address it cannot reach and libpq's reason on every failed attempt, and
 * says when it resumes (issue 11 item 13: it used to log only
 * "sqlstate=none class=retry").
 *
 * The shared PostgreSQL is never touched: the test runs its own throwaway
 * cluster (initdb as the postgres user, a free port, a data directory under
 * /var/tmp) and removes it at exit.
 */
#include "harness.h"

#include <signal.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#define N 9000

/* Counts the lines of the log at `path` that contain every one of the
 * NULL-terminated needles. */
static int log_lines(const char *path, ...)
{
    FILE *f = fopen(path, "r");
    FWT_CHECK_MSG(f != NULL, "cannot open %s", path);
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0) {
        va_list ap;
        va_start(ap, path);
        const char *needle;
        int all = 1;
        while (all && (needle = va_arg(ap, const char *)) != NULL)
            all = strstr(line, needle) != NULL;
        va_end(ap);
        n += all;
    }
    free(line);
    fclose(f);
    return n;
}

static char g_datadir[256];
static const char *g_bindir;

static void pg_ctl(const char *action)
{
    char cmd[1024];
    const char *as = getuid() == 0 ? "runuser -u postgres -- " : "";
    snprintf(cmd, sizeof cmd, "%s%s/pg_ctl -D %s -l %s/server.log -w -t 60 %s >/dev/null 2>&1", as,
             g_bindir, g_datadir, g_datadir, action);
    FWT_CHECK_MSG(fwt_run(cmd) == 0, "pg_ctl %s failed: %s", action, cmd);
}

static void cleanup(void)
{
    char cmd[1024];
    const char *as = getuid() == 0 ? "runuser -u postgres -- " : "";
    snprintf(cmd, sizeof cmd, "%s%s/pg_ctl -D %s -m immediate stop >/dev/null 2>&1; rm -rf %s", as,
             g_bindir, g_datadir, g_datadir);
    fwt_run(cmd);
}

int main(void)
{
    g_bindir = fwt_require_env("FLYWHEEL_PG_BINDIR");
    snprintf(g_datadir, sizeof g_datadir, "/var/tmp/fwc_pg_XXXXXX");
    FWT_CHECK(mkdtemp(g_datadir) != NULL);
    atexit(cleanup);
    int port = fwc_free_port();
    char cmd[2048];
    if (getuid() == 0) {
        snprintf(cmd, sizeof cmd, "chown postgres: %s", g_datadir);
        FWT_CHECK_EQ_INT(fwt_run(cmd), 0);
    }
    snprintf(cmd, sizeof cmd,
             "%s%s/initdb -D %s -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null 2>&1",
             getuid() == 0 ? "runuser -u postgres -- " : "", g_bindir, g_datadir);
    FWT_CHECK_MSG(fwt_run(cmd) == 0, "initdb failed");
    char opts[512];
    snprintf(opts, sizeof opts,
             "start -o \"-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s "
             "-c fsync=off\"",
             port, g_datadir);
    pg_ctl(opts);

    char admin[256], dsn[256];
    snprintf(admin, sizeof admin, "host=127.0.0.1 port=%d user=postgres dbname=postgres", port);
    snprintf(dsn, sizeof dsn, "host=127.0.0.1 port=%d user=postgres dbname=fw", port);
    PGconn *a = fwt_pg_connect(admin);
    fwt_pg_exec(a, "CREATE DATABASE fw");
    PQfinish(a);
    fwt_pg_migrate(dsn);

    char topic[96], group[96];
    fwt_unique_name("fwt_coll_pgdown", topic, sizeof topic);
    fwt_unique_name("fwt_coll_pgdown_g", group, sizeof group);
    rd_kafka_t *p = fwc_producer();
    fwc_proc c;
    const char *extra[] = {"--pg.retry.max_ms=1000", "--kafka.max.poll.interval.ms=8000",
                           "--batch.max_rows=500", NULL};
    fwc_collector_start(&c, dsn, topic, group, extra);

    PGconn *conn = fwt_pg_connect(dsn);
    fwc_produce_range(p, topic, 0, N / 3);
    rd_kafka_flush(p, 10000);
    FWT_CHECK(fwc_wait_at_least(conn, FWC_ROWS_SQL, N / 6, 30000) >= N / 6);
    PQfinish(conn);
    double rebalances = fwc_wait_metric(c.port, "flywheel_collector_rebalances_total", 1, 5000);
    FWT_CHECK(rebalances >= 1);

    pg_ctl("-m fast stop");
    int64_t down_at = fwt_now_ms();
    fwc_produce_range(p, topic, N / 3, 2 * N / 3);
    rd_kafka_flush(p, 10000);
    FWT_CHECK(fwc_wait_metric(c.port, "flywheel_collector_paused", 1, 30000) == 1);
    char body[1 << 16];
    FWT_CHECK_EQ_INT(fwc_http_get(c.port, "/readyz", body, sizeof body), 503);
    /* Stay down past max.poll.interval.ms (8 s), watching the membership. */
    while (fwt_now_ms() - down_at < 11000) {
        FWT_CHECK_EQ_INT(fwc_http_get(c.port, "/metrics", body, sizeof body), 200);
        FWT_CHECK(fwc_metric(body, "flywheel_collector_assigned_partitions") == 4);
        FWT_CHECK(fwc_metric(body, "flywheel_collector_rebalances_total") == rebalances);
        FWT_CHECK(fwc_collector_alive(&c));
        struct timespec ts = {0, 200 * 1000000};
        nanosleep(&ts, NULL);
    }
    pg_ctl(opts);
    fwc_produce_range(p, topic, 2 * N / 3, N);
    fwc_producer_done(p);

    conn = fwt_pg_connect(dsn);
    long long got = fwc_wait_value(conn, FWC_ROWS_SQL, N, 60000);
    if (got != N)
        fwc_collector_dump_log(&c);
    FWT_CHECK_EQ_INT(got, N);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, FWC_DISTINCT_SQL), N);
    FWT_CHECK_EQ_INT(fwc_pg_int1(conn,
                                 "SELECT sum(next_offset) FROM flywheel.ingest_offsets "
                                 "WHERE consumer_group = $1",
                                 group),
                     N);
    FWT_CHECK_EQ_INT(fwc_http_get(c.port, "/metrics", body, sizeof body), 200);
    FWT_CHECK(fwc_metric(body, "flywheel_collector_rebalances_total") == rebalances);
    FWT_CHECK(fwc_metric(body, "flywheel_collector_assigned_partitions") == 4);
    FWT_CHECK(fwc_metric(body, "flywheel_collector_paused") == 0);
    FWT_CHECK_EQ_INT(fwc_http_get(c.port, "/readyz", body, sizeof body), 200);

    char target[64], refused[96];
    snprintf(target, sizeof target, "target=127.0.0.1:%d ", port);
    snprintf(refused, sizeof refused, "port %d failed", port);
    int paused = log_lines(c.log, "postgresql unavailable, pausing partitions", target, NULL);
    int attempts = log_lines(c.log, "postgresql still unavailable", target, refused, NULL);
    int resumed = log_lines(c.log, "postgresql available again, resuming", target, "down_s=", NULL);
    int failed_writes = log_lines(c.log, "could not write batch", target, "error=", NULL);
    int bare = log_lines(c.log, "could not write batch", "class=retry", NULL) - failed_writes;
    if (paused != 1 || attempts < 3 || resumed != 1 || bare != 0)
        fwc_collector_dump_log(&c);
    FWT_CHECK_EQ_INT(paused, 1);
    FWT_CHECK_MSG(attempts >= 3, "%d logged reconnect failures in ~11 s with retry.max_ms=1000",
                  attempts);
    FWT_CHECK_EQ_INT(resumed, 1);
    FWT_CHECK_EQ_INT(bare, 0);
    FWT_CHECK_EQ_INT(fwc_collector_signal(&c, SIGTERM), 0);
    PQfinish(conn);
    return 0;
}
