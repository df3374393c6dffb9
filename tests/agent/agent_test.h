/*
 * Helpers shared by the agent's tests: build a chat generation, consume a
 * topic back and decode every message, an in-process Kafka mock cluster.
 * Header-only (static functions) so each test stays one program.
 */
#ifndef FW_AGENT_TEST_H
#define FW_AGENT_TEST_H

#include "fwtest.h"
#include "flywheel/flywheel.h"
#include "flywheel/v1/flywheel.pb-c.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* Test hooks inside flywheel_static. */
void fwi_agent_pause(fw_agent_t *a, int paused);
void fwi_agent_inject_fatal(fw_agent_t *a);

static inline void at_set(fw_conf_t *c, const char *k, const char *v)
{
    char err[512];
    FWT_CHECK_MSG(fw_conf_set(c, k, v, err, sizeof err) == FW_OK, "fw_conf_set %s: %s", k, err);
}

static inline fw_agent_t *at_agent(fw_conf_t *c)
{
    char err[512];
    fw_agent_t *a = fw_agent_new(c, err, sizeof err);
    FWT_CHECK_MSG(a != NULL, "fw_agent_new: %s", err);
    return a;
}

/* Records a small chat generation with a tool call; returns FW_OK or the error. */
static inline fw_err_t at_record_chat(fw_agent_t *a, int i, fw_event_id_t *id)
{
    fw_gen_t *g = fw_gen_new(a);
    if (!g)
        return FW_ERR_NOMEM;
    char conv[32];
    snprintf(conv, sizeof conv, "conv-%d", i % 17);
    fw_gen_set_str(g, FW_GEN_CONVERSATION_ID, conv);
    fw_gen_set_str(g, FW_GEN_REQUEST_MODEL, "gpt-4o");
    fw_gen_add_message(g, FW_INPUT, FW_ROLE_SYSTEM, NULL);
    fw_gen_msg_add_text(g, "You are a helpful assistant.");
    fw_gen_add_message(g, FW_INPUT, FW_ROLE_USER, NULL);
    fw_gen_msg_add_text(g, "What is the weather in Paris?");
    fw_gen_add_message(g, FW_OUTPUT, FW_ROLE_ASSISTANT, NULL);
    fw_gen_msg_add_tool_call(g, "call_1", "get_weather", "{\"city\":\"Paris\"}");
    fw_gen_set_int(g, FW_GEN_USAGE_INPUT_TOKENS, 42);
    return fw_gen_record(g, id);
}

/* Called for each message; returning nonzero stops the consumer at once. */
typedef int (*at_msg_fn)(void *opaque, const rd_kafka_message_t *m, Flywheel__V1__Event *ev);

/*
 * Consumes every partition of topic from the beginning until `expected`
 * messages were seen (then keeps reading for linger_ms to catch
 * duplicates) or timeout_ms passed. Each message must decode. Returns the
 * number of messages seen.
 */
static inline int at_consume(const char *bootstrap, const char *topic, int expected, int timeout_ms,
                             int linger_ms, at_msg_fn fn, void *opaque)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_conf_set(c, "group.id", "agent-test-unused", err, sizeof err);
    rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_conf_set(c, "enable.partition.eof", "false", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    FWT_CHECK_MSG(rk != NULL, "consumer: %s", err);
    rd_kafka_poll_set_consumer(rk);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    int64_t deadline = fwt_now_ms() + timeout_ms;
    int parts = 0;
    while (fwt_now_ms() < deadline) {
        if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (md->topic_cnt == 1 && md->topics[0].err == 0 && md->topics[0].partition_cnt > 0)
                parts = md->topics[0].partition_cnt;
            rd_kafka_metadata_destroy(md);
            if (parts)
                break;
        }
    }
    FWT_CHECK_MSG(parts > 0, "topic %s has no partitions", topic);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
    for (int p = 0; p < parts; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    FWT_CHECK(rd_kafka_assign(rk, l) == 0);
    rd_kafka_topic_partition_list_destroy(l);
    int got = 0;
    int64_t stop_at = deadline;
    while (fwt_now_ms() < stop_at) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
        if (!m)
            continue;
        if (m->err) {
            rd_kafka_message_destroy(m);
            continue;
        }
        Flywheel__V1__Event *ev = flywheel__v1__event__unpack(NULL, m->len, m->payload);
        FWT_CHECK_MSG(ev != NULL, "message at offset %" PRId64 " does not decode", m->offset);
        int done = fn ? fn(opaque, m, ev) : 0;
        flywheel__v1__event__free_unpacked(ev, NULL);
        rd_kafka_message_destroy(m);
        got++;
        if (done)
            break; /* the callback has seen everything it waits for */
        if (got == expected && linger_ms >= 0) {
            int64_t s = fwt_now_ms() + linger_ms;
            if (s < stop_at)
                stop_at = s;
        }
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return got;
}

/* A set of 16-byte ids (open addressing), to check "each exactly once". */
typedef struct {
    unsigned char (*ids)[16];
    int *count;
    size_t cap;
} at_idset;

static inline void at_idset_init(at_idset *s, size_t n)
{
    s->cap = 1;
    while (s->cap < n * 2 + 16)
        s->cap *= 2;
    s->ids = calloc(s->cap, 16);
    s->count = calloc(s->cap, sizeof(int));
    FWT_CHECK(s->ids && s->count);
}

/* Adds or finds id; returns a pointer to its counter. */
static inline int *at_idset_slot(at_idset *s, const unsigned char id[16])
{
    static const unsigned char zero[16];
    uint64_t h;
    memcpy(&h, id + 8, 8);
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!memcmp(s->ids[i], id, 16))
            return &s->count[i];
        if (!memcmp(s->ids[i], zero, 16)) {
            memcpy(s->ids[i], id, 16);
            return &s->count[i];
        }
    }
}

/* Returns the counter of id, or NULL if it was never added. */
static inline int *at_idset_find(at_idset *s, const unsigned char id[16])
{
    static const unsigned char zero[16];
    uint64_t h;
    memcpy(&h, id + 8, 8);
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!memcmp(s->ids[i], id, 16))
            return &s->count[i];
        if (!memcmp(s->ids[i], zero, 16))
            return NULL;
    }
}

#endif
