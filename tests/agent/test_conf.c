/*
 * Configuration, error and stat names, event ids: unknown keys and bad
 * values are rejected with PostgreSQL-style messages and leave the conf
 * unchanged; kafka.* keys are validated by librdkafka; fw_conf_from_env
 * maps FLYWHEEL_* variables; fw_agent_new reports a missing bootstrap.
 */
#include "agent_test.h"

int main(void)
{
    char err[512];
    fw_conf_t *c = fw_conf_new();
    FWT_CHECK(c);
    FWT_CHECK_EQ_STR(fw_conf_get(c, "queue.max_bytes"), "67108864");
    FWT_CHECK_EQ_STR(fw_conf_get(c, "queue.full_policy"), "drop_newest");
    FWT_CHECK_EQ_INT(fw_conf_set(c, "no.such.key", "1", err, sizeof err), FW_ERR_UNKNOWN_KEY);
    FWT_CHECK_EQ_STR(err, "unknown configuration key \"no.such.key\"");
    FWT_CHECK_EQ_INT(fw_conf_set(c, "queue.max_bytes", "-5", err, sizeof err),
                     FW_ERR_INVALID_VALUE);
    FWT_CHECK(strstr(err, "invalid value \"-5\" for \"queue.max_bytes\"") == err);
    FWT_CHECK_EQ_STR(fw_conf_get(c, "queue.max_bytes"), "67108864");
    FWT_CHECK_EQ_INT(fw_conf_set(c, "queue.full_policy", "drop_random", err, sizeof err),
                     FW_ERR_INVALID_VALUE);
    FWT_CHECK_EQ_INT(fw_conf_set(c, "sample.rate", "1.5", err, sizeof err), FW_ERR_INVALID_VALUE);
    FWT_CHECK_EQ_INT(fw_conf_set(c, "sample.rate", "0.25", err, sizeof err), FW_OK);
    FWT_CHECK_EQ_INT(fw_conf_set(c, "redact.omit", "input_messages,bogus", err, sizeof err),
                     FW_ERR_INVALID_VALUE);
    FWT_CHECK_EQ_INT(
        fw_conf_set(c, "redact.omit", "input_messages, error_message", err, sizeof err), FW_OK);
    FWT_CHECK_EQ_INT(fw_conf_set(c, "kafka.no.such.property", "1", err, sizeof err),
                     FW_ERR_UNKNOWN_KEY);
    FWT_CHECK_EQ_INT(fw_conf_set(c, "kafka.linger.ms", "abc", err, sizeof err),
                     FW_ERR_INVALID_VALUE);
    FWT_CHECK_EQ_INT(fw_conf_set(c, "kafka.linger.ms", "7", err, sizeof err), FW_OK);
    FWT_CHECK_EQ_STR(fw_conf_get(c, "kafka.linger.ms"), "7");
    FWT_CHECK_EQ_INT(fw_conf_set(c, "redact.regex.order", "ORD-[0-9]+(", err, sizeof err),
                     FW_ERR_INVALID_VALUE);
    FWT_CHECK_EQ_INT(fw_conf_set(c, "redact.regex.order", "ORD-[0-9]+", err, sizeof err), FW_OK);
    FWT_CHECK_EQ_INT(fw_conf_set(NULL, "topic", "x", err, sizeof err), FW_ERR_INVALID_ARG);

    /* No bootstrap: fw_agent_new fails and the caller keeps conf. */
    fw_agent_t *a = fw_agent_new(c, err, sizeof err);
    FWT_CHECK(a == NULL);
    FWT_CHECK(strstr(err, "kafka.bootstrap.servers") != NULL);
    /* spool policy without a spool directory is refused. */
    at_set(c, "kafka.bootstrap.servers", "127.0.0.1:1");
    at_set(c, "queue.full_policy", "spool");
    FWT_CHECK(fw_agent_new(c, err, sizeof err) == NULL);
    FWT_CHECK(strstr(err, "spool.dir") != NULL);
    fw_conf_destroy(c);

    /* Environment. */
    setenv("FLYWHEEL_KAFKA_BOOTSTRAP", "127.0.0.1:9", 1);
    setenv("FLYWHEEL_QUEUE_MAX_BYTES", "1048576", 1);
    setenv("FLYWHEEL_KAFKA_MESSAGE_TIMEOUT_MS", "1234", 1);
    setenv("FLYWHEEL_PROJECT", "envproj", 1);
    c = fw_conf_new();
    FWT_CHECK_EQ_INT(fw_conf_from_env(c, err, sizeof err), FW_OK);
    FWT_CHECK_EQ_STR(fw_conf_get(c, "kafka.bootstrap.servers"), "127.0.0.1:9");
    FWT_CHECK_EQ_STR(fw_conf_get(c, "queue.max_bytes"), "1048576");
    FWT_CHECK_EQ_STR(fw_conf_get(c, "kafka.message.timeout.ms"), "1234");
    FWT_CHECK_EQ_STR(fw_conf_get(c, "project"), "envproj");
    setenv("FLYWHEEL_SAMPLE_RATE", "2", 1);
    FWT_CHECK_EQ_INT(fw_conf_from_env(c, err, sizeof err), FW_ERR_INVALID_VALUE);
    unsetenv("FLYWHEEL_SAMPLE_RATE");
    fw_conf_destroy(c);
    fw_conf_destroy(NULL);

    /* Names. */
    FWT_CHECK_EQ_STR(fw_err_name(FW_ERR_QUEUE_FULL), "QUEUE_FULL");
    FWT_CHECK_EQ_STR(fw_err_name((fw_err_t)999), "UNKNOWN");
    FWT_CHECK_EQ_STR(fw_strerror(FW_OK), "success");
    FWT_CHECK_EQ_STR(fw_stat_name(FW_STAT_DROPPED_QUEUE_FULL), "dropped_queue_full");
    FWT_CHECK_EQ_STR(fw_stat_name(FW_STAT_PRODUCER_RESTARTS), "producer_restarts");
    FWT_CHECK(fw_stat_name(FW_STAT__COUNT) == NULL);
    FWT_CHECK(strlen(fw_version()) >= 5);
    FWT_CHECK_EQ_STR(fw_stat_name(FW_STAT_DROPPED_FORKED), "dropped_forked");
    FWT_CHECK_EQ_STR(fw_err_name(FW_ERR_FORKED), "FORKED");

    /* Version: the string, the number and the header agree. */
    char vbuf[32];
    snprintf(vbuf, sizeof vbuf, "%d.%d.%d", FW_VERSION_MAJOR, FW_VERSION_MINOR, FW_VERSION_PATCH);
    FWT_CHECK_EQ_STR(fw_version(), vbuf);
    FWT_CHECK_EQ_INT(fw_version_num(), FW_VERSION_NUM);
    FWT_CHECK_EQ_INT(FW_VERSION_NUM,
                     FW_VERSION_MAJOR * 1000000 + FW_VERSION_MINOR * 1000 + FW_VERSION_PATCH);

    /* Every stat has a lower-case name that is its enumerator's name, and a
     * kind; the drop reasons are exactly the dropped_* stats but DROPPED. */
    int n_drop = 0;
    for (int st = 0; st < FW_STAT__COUNT; st++) {
        const char *nm = fw_stat_name((fw_stat_t)st);
        FWT_CHECK_MSG(nm != NULL && *nm, "stat %d has no name", st);
        for (const char *ch = nm; *ch; ch++)
            FWT_CHECK_MSG((*ch >= 'a' && *ch <= 'z') || *ch == '_', "stat name %s", nm);
        int k = fw_stat_kind((fw_stat_t)st);
        FWT_CHECK_MSG(k >= FW_STATK_COUNTER && k <= FW_STATK_TOTAL, "stat %s kind %d", nm, k);
        int is_reason = strncmp(nm, "dropped_", 8) == 0;
        FWT_CHECK_MSG((k == FW_STATK_DROP) == is_reason, "stat %s: kind %d", nm, k);
        n_drop += k == FW_STATK_DROP;
    }
    FWT_CHECK_EQ_INT(n_drop, 9);
    FWT_CHECK_EQ_INT(fw_stat_kind(FW_STAT_DROPPED), FW_STATK_TOTAL);
    FWT_CHECK_EQ_INT(fw_stat_kind(FW_STAT_IN_QUEUE), FW_STATK_GAUGE);
    FWT_CHECK_EQ_INT(fw_stat_kind(FW_STAT__COUNT), -1);

    unsigned char id[16];
    FWT_CHECK_EQ_INT(fw_event_id_parse("0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b", id), FW_OK);
    FWT_CHECK(id[0] == 0x01 && id[15] == 0x7b);
    FWT_CHECK_EQ_INT(fw_event_id_parse("0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7", id),
                     FW_ERR_INVALID_ARG);
    FWT_CHECK_EQ_INT(fw_event_id_parse("0190a5b2x7c3d-7e4f-8a1b-2c3d4e5f6a7b", id),
                     FW_ERR_INVALID_ARG);
    return 0;
}
