/*
 * Brokers down and back, on an in-process librdkafka mock cluster: events
 * recorded while every broker is down go to the spool (message timeouts and
 * the offline state), are replayed when the brokers return, and arrive
 * exactly once; events left undelivered at fw_agent_destroy are spooled and
 * replayed by the next agent on the same spool directory. The ledger holds
 * at each step.
 */
#include "agent_test.h"

#include <unistd.h>

#define N_UP      100
#define N_DOWN    200
#define N_DESTROY 50
#define TOTAL     (N_UP + N_DOWN + N_DESTROY)

static rd_kafka_mock_cluster_t *mc;
static at_idset ids;
static int dups;

static void brokers(int up)
{
    for (int b = 1; b <= 3; b++)
        FWT_CHECK(up ? rd_kafka_mock_broker_set_up(mc, b) == 0
                     : rd_kafka_mock_broker_set_down(mc, b) == 0);
}

static void quiet(void *o, int level, const char *line)
{
    (void)o;
    if (level <= 0)
        fprintf(stderr, "agent: %s\n", line);
}

static fw_agent_t *agent(const char *bootstrap, const char *topic, const char *spool)
{
    fw_conf_t *c = fw_conf_new();
    at_set(c, "kafka.bootstrap.servers", bootstrap);
    at_set(c, "topic", topic);
    at_set(c, "spool.dir", spool);
    at_set(c, "kafka.message.timeout.ms", "3000");
    at_set(c, "shutdown.timeout_ms", "500");
    fw_conf_set_log_cb(c, quiet, NULL);
    return at_agent(c);
}

static void ledger(fw_agent_t *a)
{
    uint64_t rec = fw_agent_stat(a, FW_STAT_RECORDED);
    uint64_t sum = fw_agent_stat(a, FW_STAT_DELIVERED) + fw_agent_stat(a, FW_STAT_SPOOLED) +
                   fw_agent_stat(a, FW_STAT_DROPPED) + fw_agent_stat(a, FW_STAT_SAMPLED_OUT) +
                   fw_agent_stat(a, FW_STAT_IN_QUEUE) + fw_agent_stat(a, FW_STAT_IN_FLIGHT);
    FWT_CHECK_MSG(rec == sum, "ledger: recorded %llu != %llu", (unsigned long long)rec,
                  (unsigned long long)sum);
}

static void wait_for(fw_agent_t *a, fw_stat_t st, uint64_t want, int ms, const char *what)
{
    int64_t deadline = fwt_now_ms() + ms;
    while (fw_agent_stat(a, st) < want && fwt_now_ms() < deadline)
        fw_agent_flush(a, 50);
    FWT_CHECK_MSG(fw_agent_stat(a, st) >= want, "%s: %s is %llu, expected %llu", what,
                  fw_stat_name(st), (unsigned long long)fw_agent_stat(a, st),
                  (unsigned long long)want);
}

static int on_msg(void *o, const rd_kafka_message_t *m, Flywheel__V1__Event *ev)
{
    (void)o;
    (void)m;
    int *cnt = at_idset_find(&ids, ev->event_id.data);
    FWT_CHECK_MSG(cnt != NULL, "unknown event id on the topic");
    if (++(*cnt) > 1)
        dups++;
    return 0;
}

int main(void)
{
    char err[512], topic[128], spool[256];
    fwt_unique_name("agent_outage", topic, sizeof topic);
    snprintf(spool, sizeof spool, "/tmp/fw_agent_outage_%d", (int)getpid());
    char rm[300];
    snprintf(rm, sizeof rm, "rm -rf %s", spool);
    fwt_run(rm);

    rd_kafka_conf_t *mconf = rd_kafka_conf_new();
    FWT_CHECK(rd_kafka_conf_set(mconf, "test.mock.num.brokers", "3", err, sizeof err) == 0);
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, err, sizeof err);
    FWT_CHECK_MSG(mrk, "mock: %s", err);
    mc = rd_kafka_handle_mock_cluster(mrk);
    FWT_CHECK(mc);
    FWT_CHECK(rd_kafka_mock_topic_create(mc, topic, 4, 3) == 0);
    char bootstrap[256];
    snprintf(bootstrap, sizeof bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(mc));
    at_idset_init(&ids, TOTAL);

    fw_agent_t *a = agent(bootstrap, topic, spool);
    fw_event_id_t id;
    for (int i = 0; i < N_UP; i++) {
        FWT_CHECK_EQ_INT(at_record_chat(a, i, &id), FW_OK);
        *at_idset_slot(&ids, id.bytes) = 0;
    }
    FWT_CHECK_EQ_INT(fw_agent_flush(a, 20000), FW_OK);
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_DELIVERED), N_UP);
    ledger(a);

    /* Every broker down: events end in the spool. */
    brokers(0);
    for (int i = 0; i < N_DOWN; i++) {
        FWT_CHECK_EQ_INT(at_record_chat(a, i, &id), FW_OK);
        *at_idset_slot(&ids, id.bytes) = 0;
    }
    int64_t deadline = fwt_now_ms() + 30000;
    while (fw_agent_stat(a, FW_STAT_DELIVERED) + fw_agent_stat(a, FW_STAT_SPOOLED) <
               N_UP + N_DOWN &&
           fwt_now_ms() < deadline)
        fw_agent_flush(a, 100);
    uint64_t spooled = fw_agent_stat(a, FW_STAT_SPOOLED);
    fprintf(stderr, "brokers down: delivered %llu spooled %llu\n",
            (unsigned long long)fw_agent_stat(a, FW_STAT_DELIVERED), (unsigned long long)spooled);
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_DELIVERED) + spooled, N_UP + N_DOWN);
    FWT_CHECK(spooled > 0);
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_DROPPED), 0);
    ledger(a);

    /* Brokers back: the spool drains. */
    brokers(1);
    wait_for(a, FW_STAT_REPLAYED, spooled, 60000, "replay after brokers up");
    deadline = fwt_now_ms() + 10000;
    while (fw_agent_stat(a, FW_STAT_SPOOL_PENDING) > 0 && fwt_now_ms() < deadline)
        fw_agent_flush(a, 50);
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_SPOOL_PENDING), 0);
    ledger(a);

    /* Down again, destroy with undelivered events: they are spooled. */
    brokers(0);
    for (int i = 0; i < N_DESTROY; i++) {
        FWT_CHECK_EQ_INT(at_record_chat(a, i, &id), FW_OK);
        *at_idset_slot(&ids, id.bytes) = 0;
    }
    fw_agent_destroy(a);

    brokers(1);
    a = agent(bootstrap, topic, spool);
    FWT_CHECK(fw_agent_stat(a, FW_STAT_SPOOL_PENDING) >= 1);
    wait_for(a, FW_STAT_REPLAYED, 1, 30000, "replay by the next agent");
    deadline = fwt_now_ms() + 30000;
    while (fw_agent_stat(a, FW_STAT_SPOOL_PENDING) > 0 && fwt_now_ms() < deadline)
        fw_agent_flush(a, 50);
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_SPOOL_PENDING), 0);
    fw_agent_destroy(a);

    int got = at_consume(bootstrap, topic, TOTAL, 60000, 1000, on_msg, NULL);
    int missing = 0;
    for (size_t i = 0; i < ids.cap; i++)
        if (memcmp(ids.ids[i], (unsigned char[16]){0}, 16) && ids.count[i] == 0)
            missing++;
    fprintf(stderr, "consumed %d, missing %d, duplicates %d\n", got, missing, dups);
    FWT_CHECK_EQ_INT(missing, 0);
    FWT_CHECK_EQ_INT(dups, 0);
    FWT_CHECK_EQ_INT(got, TOTAL);
    rd_kafka_destroy(mrk);
    fwt_run(rm);
    return 0;
}
