/*
 * Queue full under each policy, with the agent thread paused so that the
 * queue really fills (test hook): the number admitted is exactly what the
 * budget allows, the counters say exactly how many were dropped and why,
 * and the events that arrive on the topic are exactly the expected ones
 * (the first under drop_newest, the last under drop_oldest, all admitted
 * under spool, which drains a full queue to disk and replays it).
 */
#include "agent_test.h"
#include "internal.h"

#include <unistd.h>

#define N      40
#define BUDGET 65536

static at_idset ids;

static int on_msg(void *o, const rd_kafka_message_t *m, Flywheel__V1__Event *ev)
{
    (void)o;
    (void)m;
    int *cnt = at_idset_find(&ids, ev->event_id.data);
    FWT_CHECK_MSG(cnt != NULL, "an event that should have been dropped arrived");
    (*cnt)++;
    return 0;
}

static void run(const char *policy)
{
    char topic[128], spool[256] = "";
    fwt_unique_name("agent_qfull", topic, sizeof topic);
    fw_conf_t *c = fw_conf_new();
    at_set(c, "kafka.bootstrap.servers", fwt_kafka_bootstrap());
    at_set(c, "topic", topic);
    at_set(c, "queue.max_bytes", "65536");
    at_set(c, "queue.full_policy", policy);
    if (!strcmp(policy, "spool")) {
        snprintf(spool, sizeof spool, "/tmp/fw_agent_qfull_%d", (int)getpid());
        at_set(c, "spool.dir", spool);
    }
    fw_agent_t *a = at_agent(c);
    fwi_agent_pause(a, 1);
    size_t entry = sizeof(fw_entry) + 4096; /* a small chat fits the first block */
    int cap = (int)(BUDGET / entry);
    fw_event_id_t all[N];
    int ok = 0, full = 0;
    for (int i = 0; i < N; i++) {
        fw_err_t rc = at_record_chat(a, i, &all[i]);
        ok += rc == FW_OK;
        full += rc == FW_ERR_QUEUE_FULL;
    }
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_RECORDED), N);
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_DROPPED_QUEUE_FULL), N - cap);
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_DROPPED), N - cap);
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_IN_QUEUE), cap);
    FWT_CHECK(fw_agent_stat(a, FW_STAT_IN_QUEUE_BYTES) <= BUDGET);
    if (!strcmp(policy, "drop_oldest")) {
        FWT_CHECK_EQ_INT(ok, N);
    } else {
        FWT_CHECK_EQ_INT(ok, cap);
        FWT_CHECK_EQ_INT(full, N - cap);
    }
    at_idset_init(&ids, N);
    int first = !strcmp(policy, "drop_oldest") ? N - cap : 0;
    for (int i = first; i < first + cap; i++)
        *at_idset_slot(&ids, all[i].bytes) = 0;

    fwi_agent_pause(a, 0);
    FWT_CHECK_EQ_INT(fw_agent_flush(a, 30000), FW_OK);
    if (*spool) {
        int64_t deadline = fwt_now_ms() + 30000;
        while (fw_agent_stat(a, FW_STAT_SPOOL_PENDING) > 0 && fwt_now_ms() < deadline)
            fw_agent_flush(a, 50);
        FWT_CHECK(fw_agent_stat(a, FW_STAT_SPOOLED) > 0);
        FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_REPLAYED), fw_agent_stat(a, FW_STAT_SPOOLED));
    }
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_DELIVERED) + fw_agent_stat(a, FW_STAT_SPOOLED), cap);
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_RECORDED), fw_agent_stat(a, FW_STAT_DELIVERED) +
                                                             fw_agent_stat(a, FW_STAT_SPOOLED) +
                                                             fw_agent_stat(a, FW_STAT_DROPPED));
    fprintf(stderr, "%s: cap %d, delivered %llu, spooled %llu, dropped %llu\n", policy, cap,
            (unsigned long long)fw_agent_stat(a, FW_STAT_DELIVERED),
            (unsigned long long)fw_agent_stat(a, FW_STAT_SPOOLED),
            (unsigned long long)fw_agent_stat(a, FW_STAT_DROPPED));
    fw_agent_destroy(a);
    int got = at_consume(fwt_kafka_bootstrap(), topic, cap, 60000, 500, on_msg, NULL);
    FWT_CHECK_EQ_INT(got, cap);
    for (int i = first; i < first + cap; i++)
        FWT_CHECK_EQ_INT(*at_idset_find(&ids, all[i].bytes), 1);
    free(ids.ids);
    free(ids.count);
    if (*spool) {
        char rm[300];
        snprintf(rm, sizeof rm, "rm -rf %s", spool);
        fwt_run(rm);
    }
}

int main(void)
{
    run("drop_newest");
    run("drop_oldest");
    run("spool");
    return 0;
}
