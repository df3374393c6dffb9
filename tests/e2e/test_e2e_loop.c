/*
 * End to end: libflywheel in this process → the dev broker (Kafka protocol)
 * → a flywheel-collector process → PostgreSQL.
 *
 * Records generations carrying every kind of field (multi-part messages, a
 * tool call and its response, reasoning, usage, cost, timings, prompt
 * template, tags, attributes, an error) and feedback of every value type,
 * some of it recorded BEFORE its generation. Then checks:
 *   - the ledger (G2): every recorded id is a row; agent counters balance;
 *     no dead letters, no drops;
 *   - fields arrive intact in their columns (spot-checked on a full event);
 *   - redaction (G7): the secret e-mail and card number in the prompt are
 *     absent from the stored rows and their placeholders are present;
 *   - feedback recorded before its generation is stored and, once the
 *     generation arrives, no longer an orphan;
 *   - the collector stops cleanly on SIGTERM (exit 0).
 */
#include "fwtest.h"

#include <flywheel/flywheel.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_GEN 400
#define N_FB  150

static pid_t start_collector(const char *dsn, const char *topic, const char *group, const char *log)
{
    char a_dsn[1024], a_bs[512], a_topic[256], a_group[256];
    snprintf(a_dsn, sizeof a_dsn, "--pg.dsn=%s", dsn);
    snprintf(a_bs, sizeof a_bs, "--kafka.bootstrap.servers=%s", fwt_kafka_bootstrap());
    snprintf(a_topic, sizeof a_topic, "--topics=%s", topic);
    snprintf(a_group, sizeof a_group, "--kafka.group.id=%s", group);
    const char *exe = fwt_program("collector/flywheel-collector");
    pid_t pid = fork();
    FWT_CHECK(pid >= 0);
    if (pid == 0) {
        FILE *f = freopen(log, "w", stderr);
        (void)f;
        execl(exe, exe, a_dsn, a_bs, a_topic, a_group, "--http.listen=", "--batch.max_wait_ms=50",
              "--log.level=info", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void record_generation(fw_agent_t *agent, int i, fw_event_id_t *id, unsigned char trace[16])
{
    char buf[256];
    fw_gen_t *g = fw_gen_new(agent);
    FWT_CHECK(g != NULL);
    for (int b = 0; b < 16; b++)
        trace[b] = (unsigned char)(0xa0 + b + i);
    unsigned char span[8] = {1, 2, 3, 4, 5, 6, 7, (unsigned char)i};
    FWT_CHECK(fw_gen_set_trace(g, trace, span, NULL) == FW_OK);
    snprintf(buf, sizeof buf, "conv-%d", i / 4);
    FWT_CHECK(fw_gen_set_str(g, FW_GEN_CONVERSATION_ID, buf) == FW_OK);
    FWT_CHECK(fw_gen_set_str(g, FW_GEN_USER_ID, "user-7") == FW_OK);
    FWT_CHECK(fw_gen_set_str(g, FW_GEN_OPERATION_NAME, "chat") == FW_OK);
    FWT_CHECK(fw_gen_set_str(g, FW_GEN_PROVIDER_NAME, "openai") == FW_OK);
    FWT_CHECK(fw_gen_set_str(g, FW_GEN_REQUEST_MODEL, i % 2 ? "gpt-4o" : "gpt-4o-mini") == FW_OK);
    FWT_CHECK(fw_gen_set_str(g, FW_GEN_RESPONSE_MODEL, "gpt-4o-2024-08-06") == FW_OK);
    snprintf(buf, sizeof buf, "chatcmpl-e2e-%d", i);
    FWT_CHECK(fw_gen_set_str(g, FW_GEN_RESPONSE_ID, buf) == FW_OK);
    FWT_CHECK(fw_gen_set_double(g, FW_GEN_REQUEST_TEMPERATURE, 0.25) == FW_OK);
    FWT_CHECK(fw_gen_set_int(g, FW_GEN_REQUEST_MAX_TOKENS, 512) == FW_OK);
    FWT_CHECK(fw_gen_add_stop_sequence(g, "END") == FW_OK);
    FWT_CHECK(fw_gen_set_str(g, FW_GEN_TOOL_DEFINITIONS_JSON,
                             "[{\"type\":\"function\",\"name\":\"lookup_order\"}]") == FW_OK);

    FWT_CHECK(fw_gen_add_message(g, FW_INPUT, FW_ROLE_SYSTEM, NULL) == FW_OK);
    FWT_CHECK(fw_gen_msg_add_text(g, "You are a support agent. Answer briefly.") == FW_OK);
    FWT_CHECK(fw_gen_add_message(g, FW_INPUT, FW_ROLE_USER, "alice") == FW_OK);
    FWT_CHECK(fw_gen_msg_add_text(g, "Order 1234 never came. Mail me at alice.secret@example.com, "
                                     "card 4111 1111 1111 1111. Grüße ✓") == FW_OK);
    FWT_CHECK(fw_gen_add_message(g, FW_INPUT, FW_ROLE_ASSISTANT, NULL) == FW_OK);
    FWT_CHECK(fw_gen_msg_add_tool_call(g, "call_1", "lookup_order", "{\"order_id\":\"1234\"}") ==
              FW_OK);
    FWT_CHECK(fw_gen_add_message(g, FW_INPUT, FW_ROLE_TOOL, NULL) == FW_OK);
    FWT_CHECK(fw_gen_msg_add_tool_response(g, "call_1", "{\"status\":\"shipped\"}") == FW_OK);
    FWT_CHECK(fw_gen_add_message(g, FW_OUTPUT, FW_ROLE_ASSISTANT, NULL) == FW_OK);
    FWT_CHECK(fw_gen_msg_add_reasoning(g, "The tool says shipped.") == FW_OK);
    FWT_CHECK(fw_gen_msg_add_text(g, "Your order has shipped and arrives tomorrow.") == FW_OK);
    FWT_CHECK(fw_gen_msg_set_finish_reason(g, "stop") == FW_OK);
    FWT_CHECK(fw_gen_add_finish_reason(g, "stop") == FW_OK);

    FWT_CHECK(fw_gen_set_int(g, FW_GEN_USAGE_INPUT_TOKENS, 800 + i) == FW_OK);
    FWT_CHECK(fw_gen_set_int(g, FW_GEN_USAGE_OUTPUT_TOKENS, 40) == FW_OK);
    FWT_CHECK(fw_gen_set_int(g, FW_GEN_USAGE_CACHE_READ_INPUT_TOKENS, 512) == FW_OK);
    FWT_CHECK(fw_gen_set_int(g, FW_GEN_COST_MICRO_USD, 1000 + i) == FW_OK);
    FWT_CHECK(fw_gen_set_int(g, FW_GEN_START_TIME_UNIX_NANO, 1764500000000000000LL) == FW_OK);
    FWT_CHECK(fw_gen_set_int(g, FW_GEN_END_TIME_UNIX_NANO, 1764500000250000000LL) == FW_OK);
    FWT_CHECK(fw_gen_set_int(g, FW_GEN_TIME_TO_FIRST_TOKEN_NANOS, 40000000) == FW_OK);
    if (i % 10 == 0) {
        FWT_CHECK(fw_gen_set_int(g, FW_GEN_STATUS, FW_STATUS_ERROR) == FW_OK);
        FWT_CHECK(fw_gen_set_str(g, FW_GEN_ERROR_TYPE, "RateLimitError") == FW_OK);
        FWT_CHECK(fw_gen_set_str(g, FW_GEN_ERROR_MESSAGE, "429 Too Many Requests") == FW_OK);
    } else {
        FWT_CHECK(fw_gen_set_int(g, FW_GEN_STATUS, FW_STATUS_OK) == FW_OK);
    }
    FWT_CHECK(fw_gen_set_str(g, FW_GEN_PROMPT_NAME, "support-answer") == FW_OK);
    FWT_CHECK(fw_gen_set_str(g, FW_GEN_PROMPT_VERSION, "v7") == FW_OK);
    FWT_CHECK(fw_gen_set_prompt_variable(g, "customer", "Alice") == FW_OK);
    FWT_CHECK(fw_gen_add_tag(g, "e2e") == FW_OK);
    FWT_CHECK(fw_gen_set_attribute(g, "region", "eu-west-1") == FW_OK);
    FWT_CHECK_EQ_INT(fw_gen_record(g, id), FW_OK);
}

int main(void)
{
    char dsn[512], topic[96], group[96], log[256], err[512];
    fwt_pg_create_db("fwt_e2e", dsn, sizeof dsn);
    fwt_pg_migrate(dsn);
    fwt_unique_name("fwt_e2e_topic", topic, sizeof topic);
    fwt_unique_name("fwt_e2e_group", group, sizeof group);
    snprintf(log, sizeof log, "/tmp/%s.collector.log", topic);

    fw_conf_t *conf = fw_conf_new();
    FWT_CHECK(conf != NULL);
    const char *kv[][2] = {
        {"kafka.bootstrap.servers", fwt_kafka_bootstrap()},
        {"topic", topic},
        {"project", "e2e-project"},
        {"environment", "test"},
        {"release", "1.2.3"},
    };
    for (size_t k = 0; k < sizeof kv / sizeof kv[0]; k++)
        FWT_CHECK_MSG(fw_conf_set(conf, kv[k][0], kv[k][1], err, sizeof err) == FW_OK, "%s", err);
    fw_agent_t *agent = fw_agent_new(conf, err, sizeof err);
    FWT_CHECK_MSG(agent != NULL, "fw_agent_new: %s", err);

    /* Feedback for the first 50 generations is recorded before them. */
    static fw_event_id_t gen_ids[N_GEN];
    unsigned char trace[16];
    fw_event_id_t fb_id;
    char idlist[N_GEN * 40 + 16];
    size_t il = 0;
    idlist[il++] = '{';

    for (int i = 0; i < N_GEN; i++) {
        if (i < 50) {
            /* Feedback addressed by response id, before the generation exists. */
            char rid[64];
            snprintf(rid, sizeof rid, "chatcmpl-e2e-%d", i);
            fw_feedback_t *f = fw_feedback_new(agent);
            FWT_CHECK(fw_feedback_set_str(f, FW_FEEDBACK_TARGET_RESPONSE_ID, rid) == FW_OK);
            FWT_CHECK(fw_feedback_set_str(f, FW_FEEDBACK_NAME, "thumbs") == FW_OK);
            FWT_CHECK(fw_feedback_set_bool(f, i % 3 != 0) == FW_OK);
            FWT_CHECK(fw_feedback_set_source(f, FW_SOURCE_END_USER) == FW_OK);
            FWT_CHECK_EQ_INT(fw_feedback_record(f, &fb_id), FW_OK);
        }
        record_generation(agent, i, &gen_ids[i], trace);
        il +=
            (size_t)snprintf(idlist + il, sizeof idlist - il, "%s%s", i ? "," : "", gen_ids[i].str);
    }
    snprintf(idlist + il, sizeof idlist - il, "}");
    /* The other 100 feedback events, by event id: number, category, correction. */
    for (int i = 0; i < N_FB - 50; i++) {
        fw_feedback_t *f = fw_feedback_new(agent);
        FWT_CHECK(fw_feedback_set_target_event(f, gen_ids[i].bytes) == FW_OK);
        if (i % 3 == 0) {
            FWT_CHECK(fw_feedback_set_str(f, FW_FEEDBACK_NAME, "rating") == FW_OK);
            FWT_CHECK(fw_feedback_set_number(f, 4.5) == FW_OK);
        } else if (i % 3 == 1) {
            FWT_CHECK(fw_feedback_set_str(f, FW_FEEDBACK_NAME, "outcome") == FW_OK);
            FWT_CHECK(fw_feedback_set_category(f, "resolved") == FW_OK);
        } else {
            FWT_CHECK(fw_feedback_set_str(f, FW_FEEDBACK_NAME, "correction") == FW_OK);
            FWT_CHECK(fw_feedback_add_correction(f, FW_ROLE_ASSISTANT, NULL) == FW_OK);
            FWT_CHECK(fw_feedback_msg_add_text(f, "It ships on Monday.") == FW_OK);
            FWT_CHECK(fw_feedback_set_source(f, FW_SOURCE_REVIEWER) == FW_OK);
            FWT_CHECK(fw_feedback_set_str(f, FW_FEEDBACK_AUTHOR_ID, "rev-1") == FW_OK);
        }
        FWT_CHECK(fw_feedback_set_str(f, FW_FEEDBACK_COMMENT, "from the e2e test") == FW_OK);
        FWT_CHECK_EQ_INT(fw_feedback_record(f, &fb_id), FW_OK);
    }
    FWT_CHECK_MSG(fw_agent_flush(agent, 60000) == FW_OK, "agent flush timed out");

    /* Ledger on the agent side: everything delivered, nothing dropped. */
    uint64_t recorded = fw_agent_stat(agent, FW_STAT_RECORDED);
    FWT_CHECK_EQ_INT(recorded, N_GEN + N_FB);
    FWT_CHECK_EQ_INT(fw_agent_stat(agent, FW_STAT_DELIVERED), N_GEN + N_FB);
    FWT_CHECK_EQ_INT(fw_agent_stat(agent, FW_STAT_DROPPED), 0);
    FWT_CHECK_EQ_INT(fw_agent_stat(agent, FW_STAT_SPOOLED), 0);
    FWT_CHECK(fw_agent_stat(agent, FW_STAT_REDACTIONS) >= 2 * N_GEN);

    /* Start the collector only now: it must pick everything up from Kafka. */
    pid_t coll = start_collector(dsn, topic, group, log);
    PGconn *c = fwt_pg_connect(dsn);
    int64_t deadline = fwt_now_ms() + 90000;
    long long ng = 0, nf = 0;
    while (fwt_now_ms() < deadline) {
        ng = fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations");
        nf = fwt_pg_int(c, "SELECT count(*) FROM flywheel.feedback");
        if (ng == N_GEN && nf == N_FB)
            break;
        int st;
        FWT_CHECK_MSG(waitpid(coll, &st, WNOHANG) == 0, "collector exited early; see %s", log);
        usleep(100 * 1000);
    }
    FWT_CHECK_EQ_INT(ng, N_GEN);
    FWT_CHECK_EQ_INT(nf, N_FB);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.dead_letters"), 0);

    /* Every recorded generation id is a row (G2). */
    char sql[N_GEN * 40 + 256];
    snprintf(sql, sizeof sql,
             "SELECT count(DISTINCT event_id) FROM flywheel.generations "
             "WHERE event_id = ANY('%s'::uuid[])",
             idlist);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, sql), N_GEN);

    /* Fields of one event, column by column. */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM flywheel.generations WHERE event_id = '%s' "
             "AND project = 'e2e-project' AND environment = 'test' AND release = '1.2.3' "
             "AND sdk_name = 'libflywheel' AND schema_version = 1 "
             "AND trace_id ~ '^[0-9a-f]{32}$' AND span_id ~ '^[0-9a-f]{16}$' "
             "AND conversation_id = 'conv-1' AND user_id = 'user-7' AND operation_name = 'chat' "
             "AND provider_name = 'openai' AND request_model = 'gpt-4o' "
             "AND response_model = 'gpt-4o-2024-08-06' AND response_id = 'chatcmpl-e2e-7' "
             "AND (request_params->>'temperature')::float8 = 0.25 "
             "AND (request_params->>'max_tokens')::int = 512 "
             "AND request_params->'stop_sequences' = '[\"END\"]' "
             "AND jsonb_array_length(input_messages) = 4 "
             "AND input_messages->0->>'role' = 'system' "
             "AND input_messages->1->>'name' = 'alice' "
             "AND input_messages->2->'parts'->0->>'type' = 'tool_call' "
             "AND input_messages->2->'parts'->0->>'name' = 'lookup_order' "
             "AND input_messages->2->'parts'->0->'arguments'->>'order_id' = '1234' "
             "AND input_messages->3->>'role' = 'tool' "
             "AND input_messages->3->'parts'->0->>'type' = 'tool_call_response' "
             "AND output_messages->0->'parts'->0->>'type' = 'reasoning' "
             "AND output_messages->0->'parts'->1->>'content' = "
             "'Your order has shipped and arrives tomorrow.' "
             "AND output_messages->0->>'finish_reason' = 'stop' "
             "AND finish_reasons = '{stop}' AND tool_definitions->0->>'name' = 'lookup_order' "
             "AND input_tokens = 807 AND output_tokens = 40 AND cache_read_input_tokens = 512 "
             "AND reasoning_output_tokens IS NULL AND cost_micro_usd = 1007 "
             "AND duration_ms = 250 AND ttft_ms = 40 AND status = 'ok' "
             "AND prompt_template = 'support-answer' AND prompt_version = 'v7' "
             "AND prompt_variables->>'customer' = 'Alice' AND tags = '{e2e}' "
             "AND attributes->>'region' = 'eu-west-1'",
             gen_ids[7].str);
    FWT_CHECK_MSG(fwt_pg_int(c, sql) == 1, "generation 7 does not match what was recorded");
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations WHERE status = "
                                   "'error' AND error_type = 'RateLimitError' AND error_message = "
                                   "'429 Too Many Requests'"),
                     N_GEN / 10);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations WHERE "
                                   "input_messages->1->'parts'->0->>'content' LIKE '%Grüße ✓'"),
                     N_GEN);

    /* Redaction (G7): the secrets never reached the store. */
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations WHERE "
                                   "input_messages::text LIKE '%alice.secret@example.com%' "
                                   "OR input_messages::text LIKE '%4111 1111 1111 1111%'"),
                     0);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.generations WHERE "
                                   "input_messages::text LIKE '%[EMAIL]%' "
                                   "AND input_messages::text LIKE '%[CARD]%'"),
                     N_GEN);

    /* Feedback: values by type, and the early ones are no longer orphans. */
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.feedback WHERE value_type = "
                                   "'bool' AND target_response_id LIKE 'chatcmpl-e2e-%'"),
                     50);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.feedback WHERE value_type = "
                                   "'number' AND number_value = 4.5"),
                     34);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.feedback WHERE "
                                   "category_value = 'resolved'"),
                     33);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.feedback WHERE correction->0->"
                                   "'parts'->0->>'content' = 'It ships on Monday.' AND source = "
                                   "'reviewer' AND author_id = 'rev-1'"),
                     33);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.feedback f JOIN "
                                   "flywheel.generations g ON g.event_id = f.target_event_id"),
                     N_FB - 50);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.orphan_feedback"), 0);

    /* Offsets were stored with the rows. */
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT sum(next_offset) FROM flywheel.ingest_offsets"),
                     N_GEN + N_FB);

    /* Clean shutdown. */
    kill(coll, SIGTERM);
    int st = 0;
    deadline = fwt_now_ms() + 30000;
    pid_t w = 0;
    while ((w = waitpid(coll, &st, WNOHANG)) == 0 && fwt_now_ms() < deadline)
        usleep(50 * 1000);
    FWT_CHECK_MSG(w == coll, "collector did not stop within 30 s of SIGTERM");
    FWT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "collector exit status %d; see %s",
                  WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), log);
    unlink(log);
    PQfinish(c);
    fw_agent_destroy(agent);
    return 0;
}
