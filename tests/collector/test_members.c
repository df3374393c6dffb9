/*
 * collector_two_members: two collectors in one group share the partitions;
 * one is stopped (SIGTERM) and started again mid-stream, forcing two
 * rebalances while events arrive. Exactly one row per event, and both
 * members held partitions.
 */
#include "harness.h"

#include <signal.h>

#define N 30000

int main(void)
{
    char dsn[1024], topic[96], group[96];
    fwt_pg_create_db("fwt_coll_members", dsn, sizeof dsn);
    fwt_pg_migrate(dsn);
    fwt_unique_name("fwt_coll_members", topic, sizeof topic);
    fwt_unique_name("fwt_coll_members_g", group, sizeof group);

    PGconn *conn = fwt_pg_connect(dsn);
    rd_kafka_t *p = fwc_producer();
    fwc_proc a, b;
    const char *extra[] = {"--batch.max_rows=500", NULL};
    fwc_collector_start(&a, dsn, topic, group, extra);
    fwc_collector_start(&b, dsn, topic, group, extra);
    /* Both members hold partitions (4 partitions, 2 members). */
    FWT_CHECK(fwc_wait_metric(a.port, "flywheel_collector_assigned_partitions", 1, 30000) >= 1);
    FWT_CHECK(fwc_wait_metric(b.port, "flywheel_collector_assigned_partitions", 1, 30000) >= 1);

    fwc_produce_range(p, topic, 0, N / 3);
    rd_kafka_flush(p, 10000);
    FWT_CHECK(fwc_wait_at_least(conn, FWC_ROWS_SQL, N / 6, 30000) >= N / 6);
    FWT_CHECK_EQ_INT(fwc_collector_signal(&b, SIGTERM), 0);
    fwc_produce_range(p, topic, N / 3, 2 * N / 3);
    rd_kafka_flush(p, 10000);
    /* a takes over all four partitions */
    FWT_CHECK(fwc_wait_metric(a.port, "flywheel_collector_assigned_partitions", 4, 30000) == 4);
    fwc_collector_start(&b, dsn, topic, group, extra);
    fwc_produce_range(p, topic, 2 * N / 3, N);
    fwc_producer_done(p);
    FWT_CHECK(fwc_wait_metric(b.port, "flywheel_collector_assigned_partitions", 1, 30000) >= 1);

    long long got = fwc_wait_value(conn, FWC_ROWS_SQL, N, 90000);
    if (got != N) {
        fwc_collector_dump_log(&a);
        fwc_collector_dump_log(&b);
    }
    FWT_CHECK_EQ_INT(got, N);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, FWC_DISTINCT_SQL), N);
    FWT_CHECK_EQ_INT(fwc_pg_int1(conn,
                                 "SELECT sum(next_offset) FROM flywheel.ingest_offsets "
                                 "WHERE consumer_group = $1",
                                 group),
                     N);
    FWT_CHECK_EQ_INT(fwc_collector_signal(&a, SIGTERM), 0);
    FWT_CHECK_EQ_INT(fwc_collector_signal(&b, SIGTERM), 0);
    PQfinish(conn);
    return 0;
}
