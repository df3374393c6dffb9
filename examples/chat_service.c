/*
 * chat_service — a small chat service loop instrumented with libflywheel.
 *
 * It plays a support bot: for each user turn it "calls a model" (a stub
 * that answers after a short pause, sometimes with a tool call), records the
 * generation with everything the data flywheel needs (messages, tool call,
 * usage, cost, timings, prompt template), and later records the user's
 * thumbs-up or thumbs-down against the generation's event id.
 *
 * Copy it: configuration comes from FLYWHEEL_* environment variables
 * (FLYWHEEL_KAFKA_BOOTSTRAP, FLYWHEEL_TOPIC, FLYWHEEL_SPOOL_DIR, ...), so the
 * same binary works against the dev broker and in production.
 *
 *   FLYWHEEL_KAFKA_BOOTSTRAP=127.0.0.1:9092 ./example_chat_service [turns]
 */
#include <flywheel/flywheel.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t unix_nanos(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Stand-in for the model call: returns the answer and whether a tool ran. */
static const char *call_model(const char *question, int *used_tool)
{
    struct timespec pause = {0, 20 * 1000000L};
    nanosleep(&pause, NULL);
    *used_tool = strstr(question, "order") != NULL;
    return *used_tool ? "Your order 1042 shipped yesterday and arrives on Friday."
                      : "You can reset your password from Settings > Security.";
}

static void log_to_stderr(void *opaque, int level, const char *line)
{
    (void)opaque;
    if (level <= 1) /* errors and warnings */
        fprintf(stderr, "%s\n", line);
}

int main(int argc, char **argv)
{
    int turns = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 10;
    char err[512];

    /* 1. Configure: defaults, then the environment, then code. */
    fw_conf_t *conf = fw_conf_new();
    if (!conf)
        return 1;
    if (fw_conf_from_env(conf, err, sizeof err) != FW_OK ||
        fw_conf_set(conf, "project", "support-bot", err, sizeof err) != FW_OK ||
        fw_conf_set(conf, "release", "2024.06.1", err, sizeof err) != FW_OK) {
        fprintf(stderr, "chat_service: %s\n", err);
        fw_conf_destroy(conf);
        return 1;
    }
    fw_conf_set_log_cb(conf, log_to_stderr, NULL);

    /* 2. One agent per process, created after any fork(). */
    fw_agent_t *agent = fw_agent_new(conf, err, sizeof err);
    if (!agent) {
        fprintf(stderr, "chat_service: %s\n", err);
        fw_conf_destroy(conf); /* still ours on failure */
        return 1;
    }

    static const char *const questions[] = {"How do I reset my password?",
                                            "Where is my order 1042?"};
    for (int turn = 0; turn < turns; turn++) {
        const char *q = questions[turn % 2];
        uint64_t start = unix_nanos();
        int used_tool;
        const char *answer = call_model(q, &used_tool);
        uint64_t end = unix_nanos();

        /* 3. Record the generation: a few microseconds, never blocks. */
        fw_gen_t *g = fw_gen_new(agent);
        if (!g)
            continue; /* out of memory: counted as a drop, the service goes on */
        fw_gen_set_str(g, FW_GEN_CONVERSATION_ID, "conv-demo-1");
        fw_gen_set_str(g, FW_GEN_USER_ID, "user-42");
        fw_gen_set_str(g, FW_GEN_OPERATION_NAME, "chat");
        fw_gen_set_str(g, FW_GEN_PROVIDER_NAME, "openai");
        fw_gen_set_str(g, FW_GEN_REQUEST_MODEL, "gpt-4o-mini");
        fw_gen_set_str(g, FW_GEN_PROMPT_NAME, "support-answer");
        fw_gen_set_str(g, FW_GEN_PROMPT_VERSION, "7");
        fw_gen_set_prompt_variable(g, "product", "Acme Cloud");
        fw_gen_set_double(g, FW_GEN_REQUEST_TEMPERATURE, 0.3);
        fw_gen_add_message(g, FW_INPUT, FW_ROLE_SYSTEM, NULL);
        fw_gen_msg_add_text(g, "You are Acme's support assistant. Be brief.");
        fw_gen_add_message(g, FW_INPUT, FW_ROLE_USER, NULL);
        fw_gen_msg_add_text(g, q);
        if (used_tool) {
            fw_gen_add_message(g, FW_INPUT, FW_ROLE_ASSISTANT, NULL);
            fw_gen_msg_add_tool_call(g, "call_1", "order_status", "{\"order\":1042}");
            fw_gen_add_message(g, FW_INPUT, FW_ROLE_TOOL, NULL);
            fw_gen_msg_add_tool_response(g, "call_1", "{\"status\":\"shipped\"}");
        }
        fw_gen_add_message(g, FW_OUTPUT, FW_ROLE_ASSISTANT, NULL);
        fw_gen_msg_add_text(g, answer);
        fw_gen_msg_set_finish_reason(g, "stop");
        fw_gen_set_int(g, FW_GEN_USAGE_INPUT_TOKENS, 64);
        fw_gen_set_int(g, FW_GEN_USAGE_OUTPUT_TOKENS, 18);
        fw_gen_set_int(g, FW_GEN_COST_MICRO_USD, 21);
        fw_gen_set_int(g, FW_GEN_START_TIME_UNIX_NANO, (int64_t)start);
        fw_gen_set_int(g, FW_GEN_END_TIME_UNIX_NANO, (int64_t)end);
        fw_gen_set_int(g, FW_GEN_STATUS, FW_STATUS_OK);
        fw_event_id_t id;
        fw_err_t rc = fw_gen_record(g, &id); /* g is freed in every case */
        if (rc != FW_OK)
            fprintf(stderr, "chat_service: generation not queued: %s\n", fw_strerror(rc));

        /* 4. Later, the user reacts: feedback points at the event id (keep
         * id.str in your session or send it to the browser). */
        fw_feedback_t *f = fw_feedback_new(agent);
        if (f) {
            fw_feedback_set_target_event(f, id.bytes);
            fw_feedback_set_str(f, FW_FEEDBACK_NAME, "thumbs");
            fw_feedback_set_bool(f, turn % 3 != 0);
            fw_feedback_set_source(f, FW_SOURCE_END_USER);
            fw_feedback_record(f, NULL);
        }
        printf("turn %d: event %s\n", turn, id.str);
    }

    /* 5. On shutdown: flush, then destroy (spools what is left). */
    if (fw_agent_flush(agent, 5000) != FW_OK)
        fprintf(stderr, "chat_service: flush timed out; undelivered events will be spooled\n");
    printf("recorded %llu delivered %llu spooled %llu dropped %llu\n",
           (unsigned long long)fw_agent_stat(agent, FW_STAT_RECORDED),
           (unsigned long long)fw_agent_stat(agent, FW_STAT_DELIVERED),
           (unsigned long long)fw_agent_stat(agent, FW_STAT_SPOOLED),
           (unsigned long long)fw_agent_stat(agent, FW_STAT_DROPPED));
    fw_agent_destroy(agent);
    return 0;
}
