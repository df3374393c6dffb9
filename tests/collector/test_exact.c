/*
 * collector_exact_100k: 100,000 events produced -> exactly 100,000 rows
 * (95,000 generations, 5,000 feedback), every column equal to what was sent
 * (checked by expect.h's SQL, written apart from the collector's encoder),
 * offsets stored per partition, metrics and readiness reported, and a clean
 * exit 0 on SIGTERM.
 */
#include "expect.h"
#include "gen.h"
#include "harness.h"

#include <signal.h>

#define N 100000

int main(void)
{
    char dsn[1024], topic[96], group[96];
    fwt_pg_create_db("fwt_coll_exact", dsn, sizeof dsn);
    fwt_pg_migrate(dsn);
    fwt_unique_name("fwt_coll_exact", topic, sizeof topic);
    fwt_unique_name("fwt_coll_exact_g", group, sizeof group);

    int64_t t0 = fwt_now_ms();
    rd_kafka_t *p = fwc_producer();
    fwc_produce_range(p, topic, 0, N);
    fwc_producer_done(p);
    fprintf(stderr, "produced %d events in %lld ms\n", N, (long long)(fwt_now_ms() - t0));

    PGconn *conn = fwt_pg_connect(dsn);
    fwc_proc c;
    fwc_collector_start(&c, dsn, topic, group, NULL);
    t0 = fwt_now_ms();
    long long got = fwc_wait_value(conn,
                                   "SELECT (SELECT count(*) FROM flywheel.generations) + "
                                   "(SELECT count(*) FROM flywheel.feedback)",
                                   N, 90000);
    fprintf(stderr, "stored %lld rows in %lld ms\n", got, (long long)(fwt_now_ms() - t0));
    if (got != N)
        fwc_collector_dump_log(&c);
    FWT_CHECK_EQ_INT(got, N);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.feedback"), N / 20);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(DISTINCT event_id) FROM flywheel.generations"),
                     N - N / 20);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.dead_letters"), 0);
    /* Every index 0..N-1 present once. */
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT sum(" FWC_I_OF_EVENT_ID ") FROM ("
                                      "SELECT event_id FROM flywheel.generations UNION ALL "
                                      "SELECT event_id FROM flywheel.feedback) x"),
                     (long long)N * (N - 1) / 2);
    FWT_CHECK_EQ_INT(fwc_pg_int1(conn, FWC_GEN_MISMATCHES, topic), 0);
    FWT_CHECK_EQ_INT(fwc_pg_int1(conn, FWC_FB_MISMATCHES, topic), 0);
    /* The stored next offsets cover exactly the N messages of the 4 partitions. */
    FWT_CHECK_EQ_INT(fwc_pg_int1(conn,
                                 "SELECT sum(next_offset) FROM flywheel.ingest_offsets "
                                 "WHERE consumer_group = $1",
                                 group),
                     N);
    /* Feedback whose generation exists is not orphaned. */
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.orphan_feedback"), 0);

    char body[1 << 16];
    FWT_CHECK_EQ_INT(fwc_http_get(c.port, "/readyz", body, sizeof body), 200);
    FWT_CHECK_EQ_INT(fwc_http_get(c.port, "/healthz", body, sizeof body), 200);
    FWT_CHECK_EQ_INT(fwc_http_get(c.port, "/metrics", body, sizeof body), 200);
    FWT_CHECK(fwc_metric(body, "flywheel_collector_rows_inserted_total{table=\"generations\"}") ==
              N - N / 20);
    FWT_CHECK(fwc_metric(body, "flywheel_collector_rows_inserted_total{table=\"feedback\"}") ==
              N / 20);
    FWT_CHECK(fwc_metric(body, "flywheel_collector_messages_consumed_total") == N);
    FWT_CHECK(fwc_metric(body, "flywheel_collector_assigned_partitions") == 4);
    FWT_CHECK(fwc_metric(body, "flywheel_collector_batch_messages_count") > 0);
    FWT_CHECK(strstr(body, "flywheel_collector_consumer_lag{topic=\"") != NULL);
    FWT_CHECK_EQ_INT(fwc_http_get(c.port, "/nope", body, sizeof body), 404);

    int st = fwc_collector_signal(&c, SIGTERM);
    if (st != 0)
        fwc_collector_dump_log(&c);
    FWT_CHECK_EQ_INT(st, 0);
    PQfinish(conn);
    return 0;
}
