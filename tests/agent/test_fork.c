/*
 * Fork (regression for issue 13): an agent made before fork() is the
 * parent's. In the child, recording returns FW_ERR_FORKED and is counted
 * (recorded and dropped_forked), flush returns FW_ERR_FORKED at once,
 * destroy returns at once without touching the inherited librdkafka handle,
 * and a new agent made in the child delivers. The parent's agent keeps
 * working, its counters untouched by the child. Against the dev broker;
 * every message on the topic is counted at the end.
 */
#include "agent_test.h"

#include <sys/wait.h>
#include <unistd.h>

static fw_agent_t *new_agent(const char *topic)
{
    fw_conf_t *c = fw_conf_new();
    FWT_CHECK(c != NULL);
    at_set(c, "kafka.bootstrap.servers", fwt_kafka_bootstrap());
    at_set(c, "topic", topic);
    return at_agent(c);
}

static void child(fw_agent_t *inherited, const char *topic)
{
    fw_event_id_t id;
    FWT_CHECK_EQ_INT(at_record_chat(inherited, 1, &id), FW_ERR_FORKED);
    FWT_CHECK(strlen(id.str) == 36); /* an id is made for a dropped event too */
    fw_feedback_t *f = fw_feedback_new(inherited);
    FWT_CHECK(f != NULL);
    FWT_CHECK_EQ_INT(fw_feedback_set_bool(f, 1), FW_OK);
    FWT_CHECK_EQ_INT(fw_feedback_record(f, NULL), FW_ERR_FORKED);
    FWT_CHECK_EQ_INT(fw_agent_stat(inherited, FW_STAT_DROPPED_FORKED), 2);
    FWT_CHECK_EQ_INT(fw_agent_stat(inherited, FW_STAT_RECORDED), 12);
    FWT_CHECK_EQ_INT(fw_agent_stat(inherited, FW_STAT_DROPPED), 2);
    int64_t t0 = fwt_now_ms();
    FWT_CHECK_EQ_INT(fw_agent_flush(inherited, 10000), FW_ERR_FORKED);
    fw_agent_destroy(inherited); /* returns at once, frees nothing */
    FWT_CHECK_MSG(fwt_now_ms() - t0 < 1000, "flush/destroy in the child took %lld ms",
                  (long long)(fwt_now_ms() - t0));

    fw_agent_t *mine = new_agent(topic);
    for (int i = 0; i < 5; i++)
        FWT_CHECK_EQ_INT(at_record_chat(mine, 100 + i, NULL), FW_OK);
    FWT_CHECK_EQ_INT(fw_agent_flush(mine, 30000), FW_OK);
    FWT_CHECK_EQ_INT(fw_agent_stat(mine, FW_STAT_DELIVERED), 5);
    fw_agent_destroy(mine);
    _exit(0);
}

int main(void)
{
    char topic[96];
    fwt_unique_name("fwt_agent_fork", topic, sizeof topic);
    fw_agent_t *a = new_agent(topic);
    for (int i = 0; i < 10; i++)
        FWT_CHECK_EQ_INT(at_record_chat(a, i, NULL), FW_OK);
    FWT_CHECK_EQ_INT(fw_agent_flush(a, 30000), FW_OK);

    pid_t pid = fork();
    FWT_CHECK(pid >= 0);
    if (pid == 0)
        child(a, topic);
    int st = 0;
    FWT_CHECK(waitpid(pid, &st, 0) == pid);
    FWT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed (status %d)", st);

    /* The parent's agent is unaffected. */
    for (int i = 10; i < 20; i++)
        FWT_CHECK_EQ_INT(at_record_chat(a, i, NULL), FW_OK);
    FWT_CHECK_EQ_INT(fw_agent_flush(a, 30000), FW_OK);
    uint64_t v[FW_STAT__COUNT];
    FWT_CHECK_EQ_INT(fw_agent_stats(a, v, FW_STAT__COUNT), FW_STAT__COUNT);
    FWT_CHECK_EQ_INT(v[FW_STAT_RECORDED], 20);
    FWT_CHECK_EQ_INT(v[FW_STAT_DELIVERED], 20);
    FWT_CHECK_EQ_INT(v[FW_STAT_DROPPED], 0);
    FWT_CHECK_EQ_INT(v[FW_STAT_DROPPED_FORKED], 0);
    fw_agent_destroy(a);

    int got = at_consume(fwt_kafka_bootstrap(), topic, 25, 30000, 500, NULL, NULL);
    FWT_CHECK_EQ_INT(got, 25);
    printf("fork: child dropped 2 with FW_ERR_FORKED, delivered 5 with its own agent; "
           "parent delivered 20\n");
    return 0;
}
