/*
 * The dev broker speaks real Kafka: encoded flywheel.v1 events produced with
 * an idempotent, acks=all, zstd-compressing librdkafka producer are consumed
 * back by two members of one consumer group (rd_kafka_consumer_poll), every
 * event decodable, with keys intact. A consumer group delivers at least
 * once: when the second member joins, a partition the first one read past
 * its last (auto-)commit is handed out again from the committed offset (to
 * the new owner, or to the same member when the commit on revocation failed
 * because the rebalance was in progress: the broker refuses it). So every
 * event must arrive and both members must get partitions; an event seen
 * again is a redelivery, counted and printed, not a failure.
 */
#include "fwtest.h"
#include "flywheel/v1/flywheel.pb-c.h"

#include <librdkafka/rdkafka.h>

#define N_EVENTS 2000

static rd_kafka_t *make(rd_kafka_type_t type, const char *group)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    const char *kv[][2] = {
        {"bootstrap.servers", fwt_kafka_bootstrap()},
        {"reconnect.backoff.max.ms", "1000"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        FWT_CHECK_MSG(rd_kafka_conf_set(c, kv[i][0], kv[i][1], err, sizeof err) == 0, "%s", err);
    if (type == RD_KAFKA_PRODUCER) {
        FWT_CHECK(rd_kafka_conf_set(c, "enable.idempotence", "true", err, sizeof err) == 0);
        FWT_CHECK(rd_kafka_conf_set(c, "acks", "all", err, sizeof err) == 0);
        FWT_CHECK(rd_kafka_conf_set(c, "compression.codec", "zstd", err, sizeof err) == 0);
        FWT_CHECK(rd_kafka_conf_set(c, "linger.ms", "5", err, sizeof err) == 0);
    } else {
        FWT_CHECK(rd_kafka_conf_set(c, "group.id", group, err, sizeof err) == 0);
        FWT_CHECK(rd_kafka_conf_set(c, "auto.offset.reset", "earliest", err, sizeof err) == 0);
        FWT_CHECK(rd_kafka_conf_set(c, "enable.auto.commit", "true", err, sizeof err) == 0);
    }
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
    FWT_CHECK_MSG(rk != NULL, "rd_kafka_new: %s", err);
    if (type == RD_KAFKA_CONSUMER)
        rd_kafka_poll_set_consumer(rk);
    return rk;
}

int main(void)
{
    char topic[96], group[96];
    fwt_unique_name("fwt_group", topic, sizeof topic);
    fwt_unique_name("fwt_group_g", group, sizeof group);

    rd_kafka_t *p = make(RD_KAFKA_PRODUCER, NULL);
    for (int i = 0; i < N_EVENTS; i++) {
        uint8_t id[16] = {0};
        id[0] = (uint8_t)(i >> 8);
        id[1] = (uint8_t)i;
        Flywheel__V1__Event ev = FLYWHEEL__V1__EVENT__INIT;
        Flywheel__V1__Generation g = FLYWHEEL__V1__GENERATION__INIT;
        ev.event_id = (ProtobufCBinaryData){16, id};
        ev.project = "kafka-test";
        ev.schema_version = 1;
        ev.body_case = FLYWHEEL__V1__EVENT__BODY_GENERATION;
        ev.generation = &g;
        g.request_model = "gpt-4o";
        size_t len = flywheel__v1__event__get_packed_size(&ev);
        uint8_t buf[256];
        FWT_CHECK(len <= sizeof buf);
        flywheel__v1__event__pack(&ev, buf);
        char key[32];
        snprintf(key, sizeof key, "trace-%d", i % 50);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(buf, len),
                                      RD_KAFKA_V_KEY(key, strlen(key)),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 10);
        FWT_CHECK_MSG(e == 0, "produce: %s", rd_kafka_err2str(e));
        rd_kafka_poll(p, 0);
    }
    FWT_CHECK_MSG(rd_kafka_flush(p, 30000) == 0, "flush did not complete");
    FWT_CHECK_EQ_INT(rd_kafka_outq_len(p), 0);
    rd_kafka_destroy(p);

    rd_kafka_t *c[2] = {make(RD_KAFKA_CONSUMER, group), make(RD_KAFKA_CONSUMER, group)};
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subs, topic, RD_KAFKA_PARTITION_UA);
    for (int i = 0; i < 2; i++)
        FWT_CHECK(rd_kafka_subscribe(c[i], subs) == 0);
    rd_kafka_topic_partition_list_destroy(subs);

    static unsigned char seen[N_EVENTS];
    int got = 0, again = 0, per[2] = {0, 0};
    int64_t deadline = fwt_now_ms() + 60000;
    while (got < N_EVENTS && fwt_now_ms() < deadline) {
        for (int i = 0; i < 2; i++) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(c[i], 50);
            if (!m)
                continue;
            if (m->err) {
                FWT_CHECK_MSG(m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF, "consume: %s",
                              rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
                continue;
            }
            Flywheel__V1__Event *ev = flywheel__v1__event__unpack(NULL, m->len, m->payload);
            FWT_CHECK_MSG(ev != NULL, "message at offset %" PRId64 " does not decode", m->offset);
            FWT_CHECK_EQ_STR(ev->project, "kafka-test");
            FWT_CHECK(m->key_len > 6 && memcmp(m->key, "trace-", 6) == 0);
            int idx = ev->event_id.data[0] << 8 | ev->event_id.data[1];
            FWT_CHECK(idx >= 0 && idx < N_EVENTS);
            if (seen[idx])
                again++; /* redelivered after a rebalance */
            else
                got++;
            seen[idx] = 1;
            per[i]++;
            flywheel__v1__event__free_unpacked(ev, NULL);
            rd_kafka_message_destroy(m);
        }
    }
    FWT_CHECK_EQ_INT(got, N_EVENTS);
    fprintf(
        stderr,
        "consumed %d events: %d by member 1, %d by member 2, %d redelivered after a rebalance\n",
        got, per[0], per[1], again);
    /* Both group members got partitions (the topic has 4). */
    FWT_CHECK(per[0] > 0 && per[1] > 0);
    for (int i = 0; i < 2; i++) {
        rd_kafka_consumer_close(c[i]);
        rd_kafka_destroy(c[i]);
    }
    return 0;
}
