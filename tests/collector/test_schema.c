/*
 * collector_schema_check: the collector refuses to start against a database
 * whose schema is older (not migrated) or newer (a later migration applied)
 * than the one it was built for, with a message and a hint, and exits 1
 * without running any DDL.
 */
#include "harness.h"

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
    snprintf(cmd, sizeof cmd, "grep -q 'does not match the version' %s && grep -q '%s' %s", c.log,
             hint, c.log);
    if (fwt_run(cmd) != 0) {
        fwc_collector_dump_log(&c);
        fwt_fail(__FILE__, __LINE__, "refusal message or hint missing");
    }
}

int main(void)
{
    char dsn[1024];
    fwt_pg_create_db("fwt_coll_schema", dsn, sizeof dsn);
    expect_refusal(dsn, "flywheel migrate");
    PGconn *conn = fwt_pg_connect(dsn);
    FWT_CHECK_EQ_INT(
        fwt_pg_int(conn, "SELECT count(*) FROM pg_namespace WHERE nspname = 'flywheel'"),
        0); /* no DDL was run */
    fwt_pg_migrate(dsn);
    fwt_pg_exec(conn,
                "INSERT INTO flywheel.schema_history (version, description, script, checksum, "
                "success) VALUES (9999, 'future', 'V9999__future.sql', 'x', true)");
    expect_refusal(dsn, "upgrade the collector");
    PQfinish(conn);
    return 0;
}
