/*
 * collector_replay_new_group: the topic read again from offset 0 by a new
 * consumer group into the same database adds no row; every re-read event is
 * counted as a duplicate absorbed, and the new group's offsets cover the
 * topic.
 */
#include "harness.h"

#include <signal.h>

#define N 6000

int main(void)
{
    char dsn[1024], topic[96], g1[96], g2[96];
    fwt_pg_create_db("fwt_coll_replay", dsn, sizeof dsn);
    fwt_pg_migrate(dsn);
    fwt_unique_name("fwt_coll_replay", topic, sizeof topic);
    fwt_unique_name("fwt_coll_replay_g1", g1, sizeof g1);
    fwt_unique_name("fwt_coll_replay_g2", g2, sizeof g2);

    rd_kafka_t *p = fwc_producer();
    fwc_produce_range(p, topic, 0, N);
    fwc_producer_done(p);
    PGconn *conn = fwt_pg_connect(dsn);

    const char *modes[2] = {"--pg.write_mode=staging", "--pg.write_mode=direct"};
    fwc_proc c;
    const char *extra1[] = {modes[0], NULL};
    fwc_collector_start(&c, dsn, topic, g1, extra1);
    FWT_CHECK_EQ_INT(fwc_wait_value(conn, FWC_ROWS_SQL, N, 60000), N);
    FWT_CHECK_EQ_INT(fwc_collector_signal(&c, SIGTERM), 0);

    /* A new group starts at offset 0 (no stored offsets, earliest); the
     * direct write mode must fall back to staging on the duplicates. */
    for (int m = 0; m < 2; m++) {
        char g[128];
        snprintf(g, sizeof g, "%s_%d", g2, m);
        const char *extra2[] = {modes[m], NULL};
        fwc_collector_start(&c, dsn, topic, g, extra2);
        char q[256];
        snprintf(q, sizeof q,
                 "SELECT coalesce(sum(next_offset), 0) FROM flywheel.ingest_offsets "
                 "WHERE consumer_group = '%s'",
                 g);
        FWT_CHECK_EQ_INT(fwc_wait_value(conn, q, N, 60000), N);
        double dup_g =
            fwc_wait_metric(c.port, "flywheel_collector_duplicates_total{table=\"generations\"}",
                            N - N / 20, 10000);
        double dup_f = fwc_wait_metric(
            c.port, "flywheel_collector_duplicates_total{table=\"feedback\"}", N / 20, 10000);
        FWT_CHECK_EQ_INT(fwc_collector_signal(&c, SIGTERM), 0);
        FWT_CHECK_EQ_INT((long long)dup_g, N - N / 20);
        FWT_CHECK_EQ_INT((long long)dup_f, N / 20);
        FWT_CHECK_EQ_INT(fwt_pg_int(conn, FWC_ROWS_SQL), N);
        FWT_CHECK_EQ_INT(fwt_pg_int(conn, FWC_DISTINCT_SQL), N);
    }
    PQfinish(conn);
    return 0;
}
