/*
 * The drop ledger under load (issue 13): 32 threads record 1,000 events
 * each into an agent whose queue is small enough that some are dropped,
 * while a watcher thread takes fw_agent_stats() snapshots without pause.
 * Every snapshot must satisfy RECORDED <= DELIVERED + IN_FLIGHT + IN_QUEUE +
 * SPOOLED + SAMPLED_OUT + DROPPED (no event ever looks missing); after the
 * flush the identity is exact, RECORDED is 32,000, the FW_OK returns equal
 * DELIVERED and the FW_ERR_QUEUE_FULL returns equal DROPPED_QUEUE_FULL;
 * DROPPED is the sum of the drop reasons. Against the dev broker.
 */
#include "agent_test.h"

#include <pthread.h>
#include <stdatomic.h>

#define THREADS 32
#define PER     1000

static fw_agent_t *agent;
static atomic_long ok_returns, full_returns, other_returns;
static atomic_int recording_done;
static long snapshots;

static uint64_t ledger_out(const uint64_t *v)
{
    return v[FW_STAT_DELIVERED] + v[FW_STAT_IN_FLIGHT] + v[FW_STAT_IN_QUEUE] + v[FW_STAT_SPOOLED] +
           v[FW_STAT_SAMPLED_OUT] + v[FW_STAT_DROPPED];
}

static void *recorder(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < PER; i++) {
        fw_err_t rc = at_record_chat(agent, t * PER + i, NULL);
        if (rc == FW_OK)
            atomic_fetch_add(&ok_returns, 1);
        else if (rc == FW_ERR_QUEUE_FULL)
            atomic_fetch_add(&full_returns, 1);
        else
            atomic_fetch_add(&other_returns, 1);
    }
    return NULL;
}

static void *watcher(void *arg)
{
    (void)arg;
    uint64_t v[FW_STAT__COUNT];
    while (!atomic_load(&recording_done)) {
        FWT_CHECK_EQ_INT(fw_agent_stats(agent, v, FW_STAT__COUNT), FW_STAT__COUNT);
        FWT_CHECK_MSG(v[FW_STAT_RECORDED] <= ledger_out(v),
                      "snapshot %ld: recorded %llu > accounted %llu", snapshots,
                      (unsigned long long)v[FW_STAT_RECORDED], (unsigned long long)ledger_out(v));
        snapshots++;
    }
    return NULL;
}

int main(void)
{
    char topic[96];
    fwt_unique_name("fwt_agent_ledger", topic, sizeof topic);
    fw_conf_t *c = fw_conf_new();
    FWT_CHECK(c != NULL);
    at_set(c, "kafka.bootstrap.servers", fwt_kafka_bootstrap());
    at_set(c, "topic", topic);
    at_set(c, "queue.max_bytes", "4194304"); /* 1,024 entries of 4 KiB: some drops */
    agent = at_agent(c);

    pthread_t w, th[THREADS];
    FWT_CHECK(pthread_create(&w, NULL, watcher, NULL) == 0);
    for (int t = 0; t < THREADS; t++)
        FWT_CHECK(pthread_create(&th[t], NULL, recorder, (void *)(intptr_t)t) == 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    FWT_CHECK_EQ_INT(fw_agent_flush(agent, 60000), FW_OK);
    atomic_store(&recording_done, 1);
    pthread_join(w, NULL);

    uint64_t v[FW_STAT__COUNT];
    FWT_CHECK_EQ_INT(fw_agent_stats(agent, v, FW_STAT__COUNT), FW_STAT__COUNT);
    FWT_CHECK_EQ_INT(v[FW_STAT_RECORDED], THREADS * PER);
    FWT_CHECK_EQ_INT(v[FW_STAT_RECORDED], ledger_out(v));
    FWT_CHECK_EQ_INT(v[FW_STAT_IN_QUEUE], 0);
    FWT_CHECK_EQ_INT(v[FW_STAT_IN_FLIGHT], 0);
    FWT_CHECK_EQ_INT(atomic_load(&other_returns), 0);
    FWT_CHECK_EQ_INT(v[FW_STAT_DELIVERED], atomic_load(&ok_returns));
    FWT_CHECK_EQ_INT(v[FW_STAT_DROPPED_QUEUE_FULL], atomic_load(&full_returns));
    uint64_t reasons = 0;
    for (int st = 0; st < FW_STAT__COUNT; st++)
        if (fw_stat_kind((fw_stat_t)st) == FW_STATK_DROP)
            reasons += v[st];
    FWT_CHECK_EQ_INT(v[FW_STAT_DROPPED], reasons);
    /* Fewer stats asked for: only those are written. */
    uint64_t few[3] = {7, 7, 7};
    FWT_CHECK_EQ_INT(fw_agent_stats(agent, few, 2), 2);
    FWT_CHECK(few[2] == 7 && few[0] == v[FW_STAT_RECORDED]);
    FWT_CHECK_EQ_INT(fw_agent_stats(NULL, few, 2), 0);
    printf("ledger: %d recorded, %llu delivered, %llu dropped (queue full), %ld snapshots "
           "balanced\n",
           THREADS * PER, (unsigned long long)v[FW_STAT_DELIVERED],
           (unsigned long long)v[FW_STAT_DROPPED_QUEUE_FULL], snapshots);
    fw_agent_destroy(agent);
    return 0;
}
