/*
 * A fatal producer error (injected with rd_kafka_test_fatal_error through a
 * test hook, as an idempotence failure would raise it) is survived: the
 * agent recreates its producer, re-sends what was in flight, and every
 * event recorded before and after arrives at least once (duplicates are
 * allowed: they are absorbed downstream by event id), with nothing dropped.
 */
#include "agent_test.h"

#include <limits.h>

#define N 400

static at_idset ids;
static int distinct;

/* Duplicates are expected, so the consumer stops once every distinct id has
 * been seen, not after a message count (regression: under TSan the count
 * was reached with duplicates while 97 ids were still unread). */
static int on_msg(void *o, const rd_kafka_message_t *m, Flywheel__V1__Event *ev)
{
    (void)o;
    (void)m;
    int *cnt = at_idset_find(&ids, ev->event_id.data);
    FWT_CHECK_MSG(cnt != NULL, "unknown event id on the topic");
    if ((*cnt)++ == 0)
        distinct++;
    return distinct == N + 10;
}

static void quiet(void *o, int level, const char *line)
{
    (void)o;
    if (level <= 1)
        fprintf(stderr, "agent: %s\n", line);
}

int main(void)
{
    char topic[128];
    fwt_unique_name("agent_fatal", topic, sizeof topic);
    fw_conf_t *c = fw_conf_new();
    at_set(c, "kafka.bootstrap.servers", fwt_kafka_bootstrap());
    at_set(c, "topic", topic);
    fw_conf_set_log_cb(c, quiet, NULL);
    fw_agent_t *a = at_agent(c);
    at_idset_init(&ids, N);
    fw_event_id_t id;
    for (int i = 0; i < N; i++) {
        if (i == N / 2)
            fwi_agent_inject_fatal(a);
        FWT_CHECK_EQ_INT(at_record_chat(a, i, &id), FW_OK);
        *at_idset_slot(&ids, id.bytes) = 0;
    }
    int64_t deadline = fwt_now_ms() + 30000;
    while (fw_agent_stat(a, FW_STAT_PRODUCER_RESTARTS) == 0 && fwt_now_ms() < deadline)
        fw_agent_flush(a, 50);
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_PRODUCER_RESTARTS), 1);
    FWT_CHECK_EQ_INT(fw_agent_flush(a, 30000), FW_OK);
    /* Events recorded after the restart go through the new producer. */
    for (int i = 0; i < 10; i++) {
        FWT_CHECK_EQ_INT(at_record_chat(a, i, &id), FW_OK);
        *at_idset_slot(&ids, id.bytes) = 0;
    }
    FWT_CHECK_EQ_INT(fw_agent_flush(a, 30000), FW_OK);
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_DROPPED), 0);
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_RECORDED), N + 10);
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_DELIVERED) + fw_agent_stat(a, FW_STAT_SPOOLED),
                     N + 10);
    fw_agent_destroy(a);
    int got = at_consume(fwt_kafka_bootstrap(), topic, INT_MAX, 60000, 0, on_msg, NULL);
    int missing = 0;
    for (size_t i = 0; i < ids.cap; i++)
        if (memcmp(ids.ids[i], (unsigned char[16]){0}, 16) && ids.count[i] == 0)
            missing++;
    fprintf(stderr, "consumed %d messages for %d events, missing %d\n", got, N + 10, missing);
    FWT_CHECK_EQ_INT(missing, 0);
    FWT_CHECK(got >= N + 10);
    return 0;
}
