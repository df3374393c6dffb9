/*
 * collector_schema_check: the collector refuses to start against a database
 * whose schema is older than the minimum it needs (not migrated), with a
 * message and a hint, and exits 1 without running any DDL; against a
 * database newer than its own migrations (a later migration applied, say
 * one that only adds a view) it runs and stores events.
 */
#include "harness.h"

#include <signal.h>
#include <time.h>

static void expect_refusal(const char *dsn, const char *hint)
{
    fwc_proc c;
    fwc_collector_start(&c, dsn, "fwt_coll_schema_unused", "fwt_coll_schema_g", NULL);
    int64_t deadline = fwt_now_ms() + 30000;
    while (fwc_collector_alive(&c) && fwt_now_ms() < deadline) {
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    FWT_CHECK_MSG(!fwc_collector_alive(&c), "collector kept running against a wrong schema");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "grep -q 'is older than this collector needs' %s && grep -q '%s' %s",
             c.log, hint, c.log);
    if (fwt_run(cmd) != 0) {
        fwc_collector_dump_log(&c);
        fwt_fail(__FILE__, __LINE__, "refusal message or hint missing");
    }
}

int main(void)
{
    char dsn[1024], topic[128], group[128];
    fwt_pg_create_db("fwt_coll_schema", dsn, sizeof dsn);
    expect_refusal(dsn, "flywheel migrate");
    PGconn *conn = fwt_pg_connect(dsn);
    FWT_CHECK_EQ_INT(
        fwt_pg_int(conn, "SELECT count(*) FROM pg_namespace WHERE nspname = 'flywheel'"),
        0); /* no DDL was run */

    /* A newer schema: a version this collector does not know, and a view. */
    fwt_pg_migrate(dsn);
    fwt_pg_exec(conn, "CREATE VIEW flywheel.zz_future_view AS SELECT 1 AS x");
    fwt_pg_exec(conn,
                "INSERT INTO flywheel.schema_history (version, description, script, checksum, "
                "success) VALUES (9999, 'future', 'V9999__future.sql', 'x', true)");
    fwt_unique_name("fwt_coll_schema_new", topic, sizeof topic);
    fwt_unique_name("fwt_coll_schema_new_g", group, sizeof group);
    rd_kafka_t *p = fwc_producer();
    fwc_produce_range(p, topic, 0, 40);
    fwc_producer_done(p);
    fwc_proc c;
    fwc_collector_start(&c, dsn, topic, group, NULL);
    long long got = fwc_wait_value(conn, FWC_ROWS_SQL, 40, 60000);
    if (got != 40)
        fwc_collector_dump_log(&c);
    FWT_CHECK_EQ_INT(got, 40);
    FWT_CHECK_EQ_INT(fwc_collector_signal(&c, SIGTERM), 0);
    PQfinish(conn);
    return 0;
}
