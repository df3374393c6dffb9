/*
 * demo_traffic — realistic synthetic LLM traffic for the quick start and for
 * trying dashboards, review queues and exports without a real application.
 *
 * It plays several support and coding assistants for many users: multi-turn
 * conversations, four models with their own prices and latencies, streaming
 * with time to first token, tool calls with their responses, prompt template
 * versions, rate-limit and timeout errors, and end-user feedback (thumbs,
 * ratings, the occasional correction). Everything is recorded through the
 * public libflywheel API exactly as an application would. A fixed seed makes
 * runs repeatable.
 *
 *   demo_traffic [--events N] [--seed S] [--project P]
 *
 * Configuration comes from FLYWHEEL_* variables (fw_conf_from_env), e.g.
 * FLYWHEEL_KAFKA_BOOTSTRAP and FLYWHEEL_TOPIC.
 *
 * It records as fast as it can, far faster than a real application, so it
 * paces itself: before each record it waits while the agent's queue holds
 * more than a quarter of queue.max_bytes. Without that, a large run (50,000
 * events) fills the queue and the agent drops what does not fit, as it must
 * for an application that cannot wait. If the queue stops draining (no
 * broker) for 10 s, pacing is given up and drops are counted. At the end it
 * prints where every event went (the agent's counters, each drop reason)
 * and exits 3 if any was dropped.
 */
#include <flywheel/flywheel.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Pacing state: see the file comment. */
static uint64_t pace_limit_bytes; /* a quarter of queue.max_bytes */
static int pace_given_up;
static long pace_waits;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits while the agent's queue is over the pacing limit. */
static void pace(fw_agent_t *agent)
{
    if (pace_given_up || fw_agent_stat(agent, FW_STAT_IN_QUEUE_BYTES) <= pace_limit_bytes)
        return;
    pace_waits++;
    double until = mono_s() + 10.0;
    struct timespec ms = {0, 1000000};
    while (fw_agent_stat(agent, FW_STAT_IN_QUEUE_BYTES) > pace_limit_bytes) {
        if (mono_s() > until) {
            fprintf(stderr, "demo_traffic: the agent's queue has not drained for 10 s (is the "
                            "broker reachable?); recording without pacing, drops are counted\n");
            pace_given_up = 1;
            return;
        }
        nanosleep(&ms, NULL);
    }
}

typedef struct {
    const char *provider, *request, *response;
    int in_price, out_price; /* micro-USD per 1k tokens */
    int ms_base, ms_per_token;
} model;

static const model MODELS[] = {
    {"openai", "gpt-4o", "gpt-4o-2024-08-06", 2500, 10000, 350, 12},
    {"openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 150, 600, 200, 6},
    {"anthropic", "claude-3-5-sonnet", "claude-3-5-sonnet-20241022", 3000, 15000, 450, 14},
    {"vllm", "llama-3.1-70b-instruct", "meta-llama/Llama-3.1-70B-Instruct", 600, 600, 300, 9},
};

typedef struct {
    const char *question;
    const char *answer;
    const char *tool; /* NULL: no tool call */
    const char *tool_args;
    const char *tool_result;
    const char *better; /* what a reviewer would have preferred */
} exchange;

static const exchange SUPPORT[] = {
    {"How do I reset my password?",
     "Open Settings, choose Security, then Reset password. You will get an e-mail with a link "
     "that is valid for 30 minutes.",
     NULL, NULL, NULL,
     "Go to Settings > Security > Reset password; the e-mailed link is valid for 30 minutes."},
    {"Where is my order 1042?", "Your order 1042 shipped yesterday and should arrive on Friday.",
     "order_status", "{\"order_id\": 1042}", "{\"status\": \"shipped\", \"eta\": \"Friday\"}",
     "Order 1042 shipped yesterday; expected delivery is Friday."},
    {"Can I get a refund for order 977? It arrived broken.",
     "I'm sorry it arrived broken. I have opened refund request R-5521; the money is back on "
     "your card within 5 business days.",
     "create_refund", "{\"order_id\": 977, \"reason\": \"damaged\"}",
     "{\"refund_id\": \"R-5521\", \"days\": 5}",
     "Sorry about that! Refund R-5521 is open; expect the money within 5 business days."},
    {"Do you ship to Norway?",
     "Yes, we ship to Norway. Delivery takes 4 to 7 business days and import VAT is collected at "
     "checkout.",
     NULL, NULL, NULL, NULL},
    {"What is the warranty on the X200 headphones?",
     "The X200 headphones have a 3-year warranty that covers manufacturing defects.",
     "product_info", "{\"sku\": \"X200\"}", "{\"warranty_years\": 2}",
     "The X200 headphones have a 2-year warranty covering manufacturing defects."},
    {"Cancel my subscription please.",
     "Your subscription is cancelled. You keep access until the end of the current billing "
     "period on the 30th.",
     "cancel_subscription", "{\"user\": \"current\"}", "{\"ok\": true, \"ends\": \"30th\"}", NULL},
};

static const exchange CODING[] = {
    {"How do I reverse a list in Python?",
     "Use `my_list.reverse()` to reverse in place, or `my_list[::-1]` to get a reversed copy.",
     NULL, NULL, NULL, NULL},
    {"Why does my C program crash when I call free twice?",
     "Calling free() twice on the same pointer is undefined behaviour (a double free): the "
     "allocator's bookkeeping is corrupted. Set the pointer to NULL after freeing it.",
     NULL, NULL, NULL, NULL},
    {"Write a SQL query for the ten most recent orders.",
     "SELECT * FROM orders ORDER BY created_at DESC LIMIT 10;", "run_sql",
     "{\"query\": \"SELECT * FROM orders ORDER BY created_at DESC LIMIT 10\"}", "{\"rows\": 10}",
     "SELECT id, customer_id, created_at FROM orders ORDER BY created_at DESC LIMIT 10;"},
    {"What does git rebase -i do?",
     "It replays your commits on a new base and lets you edit, reorder, squash or drop them "
     "interactively.",
     NULL, NULL, NULL, NULL},
};

static const char *const TOOLS_JSON =
    "[{\"type\":\"function\",\"name\":\"order_status\",\"parameters\":{\"type\":\"object\","
    "\"properties\":{\"order_id\":{\"type\":\"integer\"}}}},"
    "{\"type\":\"function\",\"name\":\"create_refund\",\"parameters\":{\"type\":\"object\"}},"
    "{\"type\":\"function\",\"name\":\"product_info\",\"parameters\":{\"type\":\"object\"}},"
    "{\"type\":\"function\",\"name\":\"cancel_subscription\",\"parameters\":{\"type\":\"object\"}},"
    "{\"type\":\"function\",\"name\":\"run_sql\",\"parameters\":{\"type\":\"object\"}}]";

static uint64_t rng_state;

static uint32_t rnd(void)
{
    /* xorshift64*: fast, good enough, reproducible */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

static int chance(int percent)
{
    return (int)(rnd() % 100) < percent;
}

static uint64_t unix_nanos(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int tokens_of(const char *s)
{
    return (int)(strlen(s) / 4) + 1;
}

typedef struct {
    long generations, feedback, errors, corrections;
} totals;

static void record_feedback(fw_agent_t *agent, const fw_event_id_t *id, const exchange *ex,
                            totals *t)
{
    fw_feedback_t *f;
    if (chance(35)) {
        pace(agent);
        f = fw_feedback_new(agent);
        if (!f)
            return;
        fw_feedback_set_target_event(f, id->bytes);
        fw_feedback_set_str(f, FW_FEEDBACK_NAME, "thumbs");
        /* Answers a reviewer would improve get more thumbs-down. */
        fw_feedback_set_bool(f, ex->better ? chance(45) : chance(85));
        fw_feedback_set_source(f, FW_SOURCE_END_USER);
        if (chance(20))
            fw_feedback_set_str(f, FW_FEEDBACK_COMMENT,
                                ex->better ? "not quite right" : "thanks, that helped");
        if (fw_feedback_record(f, NULL) == FW_OK)
            t->feedback++;
    }
    if (chance(10)) {
        pace(agent);
        f = fw_feedback_new(agent);
        if (!f)
            return;
        fw_feedback_set_target_event(f, id->bytes);
        fw_feedback_set_str(f, FW_FEEDBACK_NAME, "rating");
        fw_feedback_set_number(f, ex->better ? 2 + rnd() % 3 : 3 + rnd() % 3);
        fw_feedback_set_source(f, FW_SOURCE_END_USER);
        if (fw_feedback_record(f, NULL) == FW_OK)
            t->feedback++;
    }
    if (ex->better && chance(8)) {
        pace(agent);
        f = fw_feedback_new(agent);
        if (!f)
            return;
        fw_feedback_set_target_event(f, id->bytes);
        fw_feedback_set_str(f, FW_FEEDBACK_NAME, "correction");
        fw_feedback_set_source(f, FW_SOURCE_END_USER);
        fw_feedback_add_correction(f, FW_ROLE_ASSISTANT, NULL);
        fw_feedback_msg_add_text(f, ex->better);
        if (fw_feedback_record(f, NULL) == FW_OK) {
            t->feedback++;
            t->corrections++;
        }
    }
}

/* One conversation of 1 to 4 turns; each turn is one generation. */
static void conversation(fw_agent_t *agent, long conv_no, long *budget, totals *t)
{
    int coding = chance(30);
    const exchange *set = coding ? CODING : SUPPORT;
    size_t nset = coding ? sizeof CODING / sizeof CODING[0] : sizeof SUPPORT / sizeof SUPPORT[0];
    const model *m = &MODELS[rnd() % (sizeof MODELS / sizeof MODELS[0])];
    const char *prompt = coding ? "code-helper" : "support-answer";
    const char *version = coding ? "v3" : (chance(50) ? "v7" : "v8");
    const char *system =
        coding ? "You are a careful programming assistant. Answer with code where it helps."
               : "You are Acme's support assistant. Be brief, friendly and exact. Use the tools "
                 "to look things up; never guess order or refund details.";
    char conv_id[48], user_id[32], buf[64];
    unsigned char trace[16];
    snprintf(conv_id, sizeof conv_id, "conv-%06ld", conv_no);
    snprintf(user_id, sizeof user_id, "user-%03u", rnd() % 400);
    int turns = 1 + (int)(rnd() % 4);
    const exchange *history[4];

    for (int turn = 0; turn<turns && * budget> 0; turn++, (*budget)--) {
        const exchange *ex = &set[rnd() % nset];
        history[turn] = ex;
        for (int b = 0; b < 16; b++)
            trace[b] = (unsigned char)rnd();
        int streaming = chance(60);
        int error = chance(4) ? 1 : (chance(2) ? 2 : 0);
        int in_tok = tokens_of(system), out_tok = tokens_of(ex->answer);
        for (int h = 0; h <= turn; h++)
            in_tok +=
                tokens_of(history[h]->question) + (h < turn ? tokens_of(history[h]->answer) : 0);
        int ms = m->ms_base + m->ms_per_token * out_tok / 4 + (int)(rnd() % 200);
        uint64_t end = unix_nanos();
        uint64_t start = end - (uint64_t)ms * 1000000u;

        pace(agent);
        fw_gen_t *g = fw_gen_new(agent);
        if (!g)
            continue;
        fw_gen_set_trace(g, trace, trace + 8, NULL);
        fw_gen_set_str(g, FW_GEN_CONVERSATION_ID, conv_id);
        fw_gen_set_str(g, FW_GEN_USER_ID, user_id);
        snprintf(buf, sizeof buf, "sess-%ld", conv_no / 3);
        fw_gen_set_str(g, FW_GEN_SESSION_ID, buf);
        fw_gen_set_str(g, FW_GEN_OPERATION_NAME, "chat");
        fw_gen_set_str(g, FW_GEN_PROVIDER_NAME, m->provider);
        fw_gen_set_str(g, FW_GEN_REQUEST_MODEL, m->request);
        fw_gen_set_str(g, FW_GEN_PROMPT_NAME, prompt);
        fw_gen_set_str(g, FW_GEN_PROMPT_VERSION, version);
        fw_gen_set_prompt_variable(g, "product", coding ? "Acme Code" : "Acme Store");
        fw_gen_set_double(g, FW_GEN_REQUEST_TEMPERATURE, coding ? 0.2 : 0.5);
        fw_gen_set_double(g, FW_GEN_REQUEST_TOP_P, 1.0);
        fw_gen_set_int(g, FW_GEN_REQUEST_MAX_TOKENS, 512);
        fw_gen_set_int(g, FW_GEN_REQUEST_STREAM, streaming);
        fw_gen_set_str(g, FW_GEN_TOOL_DEFINITIONS_JSON, TOOLS_JSON);
        fw_gen_add_tag(g, coding ? "coding" : "support");
        if (chance(10))
            fw_gen_add_tag(g, "vip");
        fw_gen_set_attribute(g, "region", chance(50) ? "eu-west-1" : "us-east-1");

        fw_gen_add_message(g, FW_INPUT, FW_ROLE_SYSTEM, NULL);
        fw_gen_msg_add_text(g, system);
        for (int h = 0; h < turn; h++) {
            fw_gen_add_message(g, FW_INPUT, FW_ROLE_USER, NULL);
            fw_gen_msg_add_text(g, history[h]->question);
            fw_gen_add_message(g, FW_INPUT, FW_ROLE_ASSISTANT, NULL);
            fw_gen_msg_add_text(g, history[h]->answer);
        }
        fw_gen_add_message(g, FW_INPUT, FW_ROLE_USER, NULL);
        fw_gen_msg_add_text(g, ex->question);
        if (ex->tool) {
            snprintf(buf, sizeof buf, "call_%ld_%d", conv_no, turn);
            fw_gen_add_message(g, FW_INPUT, FW_ROLE_ASSISTANT, NULL);
            fw_gen_msg_add_tool_call(g, buf, ex->tool, ex->tool_args);
            fw_gen_add_message(g, FW_INPUT, FW_ROLE_TOOL, NULL);
            fw_gen_msg_add_tool_response(g, buf, ex->tool_result);
        }
        fw_gen_set_int(g, FW_GEN_START_TIME_UNIX_NANO, (int64_t)start);
        fw_gen_set_int(g, FW_GEN_END_TIME_UNIX_NANO, (int64_t)end);
        fw_gen_set_int(g, FW_GEN_USAGE_INPUT_TOKENS, in_tok);
        if (chance(40))
            fw_gen_set_int(g, FW_GEN_USAGE_CACHE_READ_INPUT_TOKENS, tokens_of(system));
        if (error) {
            fw_gen_set_int(g, FW_GEN_STATUS, FW_STATUS_ERROR);
            fw_gen_set_str(g, FW_GEN_ERROR_TYPE, error == 1 ? "RateLimitError" : "Timeout");
            fw_gen_set_str(g, FW_GEN_ERROR_MESSAGE,
                           error == 1 ? "429 Too Many Requests" : "no response within 30 s");
            fw_gen_set_int(g, FW_GEN_USAGE_OUTPUT_TOKENS, 0);
        } else {
            snprintf(buf, sizeof buf, "resp-%ld-%d-%08x", conv_no, turn, rnd());
            fw_gen_set_str(g, FW_GEN_RESPONSE_ID, buf);
            fw_gen_set_str(g, FW_GEN_RESPONSE_MODEL, m->response);
            fw_gen_add_message(g, FW_OUTPUT, FW_ROLE_ASSISTANT, NULL);
            fw_gen_msg_add_text(g, ex->answer);
            fw_gen_msg_set_finish_reason(g, "stop");
            fw_gen_add_finish_reason(g, "stop");
            fw_gen_set_int(g, FW_GEN_USAGE_OUTPUT_TOKENS, out_tok);
            fw_gen_set_int(g, FW_GEN_STATUS, FW_STATUS_OK);
            if (streaming)
                fw_gen_set_int(g, FW_GEN_TIME_TO_FIRST_TOKEN_NANOS,
                               (int64_t)(m->ms_base / 2 + (int)(rnd() % 100)) * 1000000);
        }
        fw_gen_set_int(
            g, FW_GEN_COST_MICRO_USD,
            ((int64_t)in_tok * m->in_price + (int64_t)(error ? 0 : out_tok) * m->out_price) / 1000);
        fw_event_id_t id;
        if (fw_gen_record(g, &id) != FW_OK)
            continue;
        t->generations++;
        t->errors += error != 0;
        if (!error)
            record_feedback(agent, &id, ex, t);
    }
}

int main(int argc, char **argv)
{
    long events = 3000;
    uint64_t seed = 42;
    const char *project = "demo";
    char err[512];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
            events = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--project") == 0 && i + 1 < argc) {
            project = argv[++i];
        } else {
            fprintf(stderr, "usage: demo_traffic [--events N] [--seed S] [--project P]\n");
            return 2;
        }
    }
    if (events <= 0) {
        fprintf(stderr, "demo_traffic: --events must be positive\n");
        return 2;
    }
    rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;

    fw_conf_t *conf = fw_conf_new();
    if (!conf)
        return 1;
    if (fw_conf_from_env(conf, err, sizeof err) != FW_OK ||
        fw_conf_set(conf, "project", project, err, sizeof err) != FW_OK ||
        (!fw_conf_get(conf, "environment") || !*fw_conf_get(conf, "environment")
             ? fw_conf_set(conf, "environment", "production", err, sizeof err)
             : FW_OK) != FW_OK ||
        fw_conf_set(conf, "release", "2026.11.2", err, sizeof err) != FW_OK) {
        fprintf(stderr, "demo_traffic: %s\n", err);
        fw_conf_destroy(conf);
        return 1;
    }
    const char *qmax = fw_conf_get(conf, "queue.max_bytes");
    pace_limit_bytes = (qmax ? strtoull(qmax, NULL, 10) : 0) / 4;
    char spool_dir[512];
    snprintf(spool_dir, sizeof spool_dir, "%s",
             fw_conf_get(conf, "spool.dir") ? fw_conf_get(conf, "spool.dir") : "");
    fw_agent_t *agent = fw_agent_new(conf, err, sizeof err);
    if (!agent) {
        fprintf(stderr, "demo_traffic: %s\n", err);
        fw_conf_destroy(conf);
        return 1;
    }
    totals t = {0, 0, 0, 0};
    long budget = events;
    for (long conv = 0; budget > 0; conv++)
        conversation(agent, conv, &budget, &t);

    int flushed = fw_agent_flush(agent, 30000) == FW_OK;
    uint64_t st[FW_STAT__COUNT] = {0};
    fw_agent_stats(agent, st, FW_STAT__COUNT);
    printf("demo_traffic: recorded %ld generations (%ld errors) and %ld feedback events "
           "(%ld corrections); delivered %llu, spooled %llu, dropped %llu%s\n",
           t.generations, t.errors, t.feedback, t.corrections,
           (unsigned long long)st[FW_STAT_DELIVERED], (unsigned long long)st[FW_STAT_SPOOLED],
           (unsigned long long)st[FW_STAT_DROPPED],
           flushed ? "" : " (flush timed out: the rest is spooled)");
    if (pace_waits)
        printf("demo_traffic: paced %ld times (agent queue over %llu bytes)\n", pace_waits,
               (unsigned long long)pace_limit_bytes);
    /* What flush left is moved to the spool by destroy, or dropped
     * (reason shutdown) when there is no spool. */
    uint64_t left = st[FW_STAT_IN_QUEUE] + st[FW_STAT_IN_FLIGHT];
    if (left)
        printf("demo_traffic: %llu events still undelivered at exit: %s\n",
               (unsigned long long)left,
               spool_dir[0] ? "moved to the spool, replayed by the next run on the same spool.dir"
                            : "dropped (no spool.dir)");
    fw_agent_destroy(agent);
    int dropped = st[FW_STAT_DROPPED] != 0 || (left && !spool_dir[0]);
    if (st[FW_STAT_DROPPED]) {
        printf("demo_traffic: dropped by the agent:");
        for (int k = 0; k < FW_STAT__COUNT; k++)
            if (fw_stat_kind((fw_stat_t)k) == FW_STATK_DROP && st[k])
                printf(" %s=%llu", fw_stat_name((fw_stat_t)k), (unsigned long long)st[k]);
        printf("\n");
    }
    return dropped ? 3 : 0;
}
