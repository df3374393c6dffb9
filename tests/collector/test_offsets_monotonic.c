/*
 * collector_offsets_monotonic: a stale write (a zombie member that lost its
 * partition but still commits a batch it read earlier) cannot move a
 * partition's stored next offset backwards. Drives pg_sink directly with
 * real Kafka messages (produced to and consumed from the dev broker), so the
 * exact order of the writes is under the test's control:
 *
 *   1. staging sink writes offsets [0, 5)  -> next_offset 5
 *   2. direct sink writes offsets [5, 10)  -> next_offset 10
 *   3. the "zombie" writes [0, 5) again, in both write modes: its rows are
 *      absorbed as duplicates (direct mode falls back to staging) and
 *      next_offset stays 10, in the table and as read back by the sink.
 */
#include "gen.h"
#include "harness.h"
#include "pg_sink.h"

#include <stdlib.h>
#include <string.h>

#define N 10

/* Consumes the N messages of the one partition they were produced to.
 * Returns the consumer, to be destroyed after the messages. */
static rd_kafka_t *consume_all(const char *topic, rd_kafka_message_t *out[N])
{
    char err[512], group[128];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    fwt_unique_name("fwt_coll_mono_reader", group, sizeof group);
    FWT_CHECK(rd_kafka_conf_set(conf, "bootstrap.servers", fwt_kafka_bootstrap(), err,
                                sizeof err) == RD_KAFKA_CONF_OK);
    FWT_CHECK(rd_kafka_conf_set(conf, "group.id", group, err, sizeof err) == RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    FWT_CHECK_MSG(rk != NULL, "consumer: %s", err);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *a = rd_kafka_topic_partition_list_new(4);
    for (int p = 0; p < 4; p++)
        rd_kafka_topic_partition_list_add(a, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    FWT_CHECK_EQ_INT(rd_kafka_assign(rk, a), 0);
    rd_kafka_topic_partition_list_destroy(a);
    int n = 0;
    int64_t deadline = fwt_now_ms() + 30000;
    while (n < N && fwt_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err) {
            rd_kafka_message_destroy(m);
            continue;
        }
        FWT_CHECK_MSG(m->offset == n, "offset %lld, expected %d", (long long)m->offset, n);
        out[n++] = m;
    }
    FWT_CHECK_MSG(n == N, "consumed %d of %d messages", n, N);
    return rk;
}

/* Writes messages [lo, hi) in one batch; the test keeps the messages. */
static void write_range(fw_sink *s, rd_kafka_message_t *m[N], int lo, int hi, const char *group,
                        fw_write_stats *st)
{
    fw_batch b = {0};
    fw_limits lim = {0, 0};
    for (int i = lo; i < hi; i++) {
        FWT_CHECK_EQ_INT(fw_batch_add(&b, m[i], group, &lim), 0);
        b.items[b.n - 1].borrowed = 1; /* reused by a later write */
    }
    char sqlstate[6], err[1024];
    fw_pg_class r = fw_sink_write(s, &b, 0, b.n, st, sqlstate, err, sizeof err);
    FWT_CHECK_MSG(r == FW_PG_OK, "write [%d, %d): %s", lo, hi, err);
    fw_batch_free(&b);
}

static long long stored_next(PGconn *conn)
{
    return fwt_pg_int(conn, "SELECT next_offset FROM flywheel.ingest_offsets");
}

int main(void)
{
    char dsn[1024], topic[128], err[1024];
    const char *group = "fwt_coll_mono_g";
    fwt_pg_create_db("fwt_coll_mono", dsn, sizeof dsn);
    fwt_pg_migrate(dsn);
    fwt_unique_name("fwt_coll_mono", topic, sizeof topic);

    rd_kafka_t *p = fwc_producer();
    for (uint64_t i = 0; i < N; i++) {
        size_t len;
        uint8_t *buf = fwc_gen_event(i, 0, 0, &len);
        fwc_produce(p, topic, "one-key", buf, len); /* one key: one partition */
        free(buf);
    }
    fwc_producer_done(p);
    rd_kafka_message_t *m[N];
    rd_kafka_t *reader = consume_all(topic, m);

    fw_sink *staging = fw_sink_new(dsn, group, 0, "", err, sizeof err);
    fw_sink *direct = fw_sink_new(dsn, group, 1, "", err, sizeof err);
    FWT_CHECK(staging && direct);
    FWT_CHECK_EQ_INT(fw_sink_connect(staging, err, sizeof err), FW_PG_OK);
    FWT_CHECK_EQ_INT(fw_sink_connect(direct, err, sizeof err), FW_PG_OK);
    PGconn *conn = fwt_pg_connect(dsn);

    fw_write_stats st = {{0}, {0}};
    write_range(staging, m, 0, 5, group, &st);
    FWT_CHECK_EQ_INT(stored_next(conn), 5);
    write_range(direct, m, 5, N, group, &st);
    FWT_CHECK_EQ_INT(stored_next(conn), N);
    FWT_CHECK_EQ_INT(st.inserted[FW_T_GENERATIONS], N);

    /* The zombie's stale writes, in both modes. */
    write_range(staging, m, 0, 5, group, &st);
    FWT_CHECK_EQ_INT(stored_next(conn), N);
    write_range(direct, m, 0, 3, group, &st);
    FWT_CHECK_EQ_INT(stored_next(conn), N);
    FWT_CHECK_EQ_INT(st.inserted[FW_T_GENERATIONS], N);
    FWT_CHECK_EQ_INT(st.duplicates[FW_T_GENERATIONS], 8);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.generations"), N);
    FWT_CHECK_EQ_INT(fwt_pg_int(conn, "SELECT count(*) FROM flywheel.ingest_offsets"), 1);

    /* What a member assigned the partition now reads back. */
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, m[0]->partition)->offset =
        RD_KAFKA_OFFSET_INVALID;
    FWT_CHECK_EQ_INT(fw_sink_read_offsets(direct, parts, err, sizeof err), FW_PG_OK);
    FWT_CHECK_EQ_INT(parts->elems[0].offset, N);
    rd_kafka_topic_partition_list_destroy(parts);

    for (int i = 0; i < N; i++)
        rd_kafka_message_destroy(m[i]);
    rd_kafka_consumer_close(reader);
    rd_kafka_destroy(reader);
    fw_sink_free(staging);
    fw_sink_free(direct);
    PQfinish(conn);
    return 0;
}
