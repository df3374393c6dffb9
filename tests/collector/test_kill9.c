/*
 * collector_kill9: SIGKILL the collector at random points of a stream,
 * several times, restarting it each time while events keep arriving. In
 * the end every event is exactly one row: nothing lost (the offsets in
 * PostgreSQL commit with the rows) and nothing duplicated (restarts resume
 * from those offsets; the event-id keys would absorb any re-read).
 * FWC_KILLS overrides the number of kills (the second write-mode run in
 * tests/collector.cmake uses fewer to keep the suite short).
 */
#include "harness.h"

#include <signal.h>
#include <stdlib.h>

#define N 32000

int main(void)
{
    char dsn[1024], topic[96], group[96];
    fwt_pg_create_db("fwt_coll_kill9", dsn, sizeof dsn);
    fwt_pg_migrate(dsn);
    fwt_unique_name("fwt_coll_kill9", topic, sizeof topic);
    fwt_unique_name("fwt_coll_kill9_g", group, sizeof group);
    srand((unsigned)fwt_now_ms());
    const char *kills_env = getenv("FWC_KILLS");
    const int kills = kills_env ? (int)strtol(kills_env, NULL, 10) : 4;
    FWT_CHECK(kills >= 1 && kills <= 10);

    PGconn *conn = fwt_pg_connect(dsn);
    rd_kafka_t *p = fwc_producer();
    fwc_proc c;
    const char *extra[] = {"--batch.max_rows=700", NULL};
    fwc_collector_start(&c, dsn, topic, group, extra);
    const int chunk = N / (kills + 1);
    for (int k = 0; k < kills; k++) {
        fwc_produce_range(p, topic, (uint64_t)k * chunk, (uint64_t)(k + 1) * chunk);
        rd_kafka_flush(p, 10000);
        /* Kill once a random part of what is available has been stored:
         * somewhere in the middle of the stream, often mid-batch. */
        long long have = fwt_pg_int(conn, FWC_ROWS_SQL);
        long long target =
            have + 1 +
            rand() % (k * chunk + chunk - have > 1 ? (int)(k * chunk + chunk - have) / 2 : 1);
        FWT_CHECK_MSG(fwc_wait_at_least(conn, FWC_ROWS_SQL, target, 30000) >= target,
                      "no progress before kill %d", k);
        FWT_CHECK_EQ_INT(fwc_collector_signal(&c, SIGKILL), 128 + SIGKILL);
        fprintf(stderr, "kill %d at %lld rows\n", k, fwt_pg_int(conn, FWC_ROWS_SQL));
        fwc_collector_start(&c, dsn, topic, group, extra);
    }
    fwc_produce_range(p, topic, (uint64_t)kills * chunk, N);
    fwc_producer_done(p);
    long long got = fwc_wait_value(conn, FWC_ROWS_SQL, N, 90000);
    if (got != N)
        fwc_collector_dump_log(&c);
    FWT_CHECK_EQ_INT(got, N);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, FWC_DISTINCT_SQL), N);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.dead_letters"), 0);
    FWT_CHECK_EQ_INT(fwc_pg_int1(conn,
                                 "SELECT sum(next_offset) FROM flywheel.ingest_offsets "
                                 "WHERE consumer_group = $1",
                                 group),
                     N);
    FWT_CHECK_EQ_INT(fwc_collector_signal(&c, SIGTERM), 0);
    PQfinish(conn);
    return 0;
}
