/*
 * The expected rows of gen.c's events, stated in SQL: each query counts the
 * rows that differ from what event i (recovered from the event id) should
 * produce. $1 is the topic. Written independently of the collector's C
 * encoder, from the mapping in migrations/V0001__create_store.sql.
 */
#ifndef FWC_EXPECT_H
#define FWC_EXPECT_H

#define FWC_I_OF_EVENT_ID                                                                          \
    "('x' || substr(replace(event_id::text, '-', ''), 19, 14))::bit(56)::bigint"

/* A generation's row sits where its id's time says (V0038). */
#define FWC_ID_TIME_OK "id_time = timestamptz '2024-05-01 12:00:00+00' "

#define FWC_ENVELOPE_OK                                                                            \
    "event_time = timestamptz '2024-05-01 12:00:00+00' + i * interval '1 microsecond' "            \
    "AND project = 'proj-' || (i % 7) AND environment = 'prod' AND release = 'v' || (i % 3) "      \
    "AND sdk_name = 'libflywheel' AND sdk_version = '0.1.0' AND schema_version = 1 "               \
    "AND attributes = jsonb_build_object('k', 'v' || i, 'q', E'a\"b\\\\c') "                       \
    "AND tags = ARRAY['t1', 't-' || (i % 5), 'x,{y} \"z\"'] "                                      \
    "AND source_topic = $1 AND source_partition BETWEEN 0 AND 3 AND source_offset >= 0 "

#define FWC_GEN_MISMATCHES                                                                         \
    "WITH g AS (SELECT *, " FWC_I_OF_EVENT_ID " AS i FROM flywheel.generations) "                  \
    "SELECT count(*) FROM g WHERE (" FWC_ENVELOPE_OK "AND " FWC_ID_TIME_OK                         \
    "AND trace_id = lpad(to_hex(i), 32, '0') AND span_id = lpad(to_hex(i), 16, '0') "              \
    "AND parent_span_id IS NOT DISTINCT FROM (CASE WHEN i % 2 = 1 THEN 'ffffffffffffffff' END) "   \
    "AND conversation_id = 'conv-' || (i % 100) AND session_id IS NULL "                           \
    "AND user_id = 'user-' || (i % 13) AND operation_name = 'chat' AND provider_name = 'openai' "  \
    "AND request_model = 'gpt-4o' AND response_model = 'gpt-4o-2024-08-06' "                       \
    "AND response_id = 'resp-' || i "                                                              \
    "AND request_params = jsonb_build_object('temperature', 0.2) "                                 \
    "  || CASE WHEN i % 2 = 1 THEN jsonb_build_object('max_tokens', i, 'stop_sequences', "         \
    "       jsonb_build_array(E'\\n\\n'), 'stream', true) ELSE '{}'::jsonb END "                   \
    "  || CASE i % 3 WHEN 0 THEN jsonb_build_object('extra', jsonb_build_object('logprobs', "      \
    "true)) "                                                                                      \
    "       WHEN 1 THEN jsonb_build_object('extra', '{bad'::text) ELSE '{}'::jsonb END "           \
    "AND input_messages = jsonb_build_array("                                                      \
    "  jsonb_build_object('role', 'system', 'parts', jsonb_build_array("                           \
    "    jsonb_build_object('type', 'text', 'content', 'You are helpful.'))), "                    \
    "  jsonb_build_object('role', 'user', 'name', 'alice', 'parts', jsonb_build_array("            \
    "    jsonb_build_object('type', 'text', 'content', "                                           \
    "      E'line1\\n\\ttab \"q\" back\\\\slash \xc3\xa9 \xf0\x9f\x9a\x80 #' || i)))) "            \
    "AND output_messages = jsonb_build_array(jsonb_build_object('role', 'assistant', "             \
    "  'finish_reason', 'stop', 'parts', jsonb_build_array("                                       \
    "    jsonb_build_object('type', 'reasoning', 'content', 'think ' || i), "                      \
    "    jsonb_build_object('type', 'tool_call', 'id', 'call_' || i, 'name', 'lookup', "           \
    "      'arguments', CASE WHEN i % 2 = 0 THEN jsonb_build_object('q', i) "                      \
    "                        ELSE to_jsonb('not json ' || i) END), "                               \
    "    jsonb_build_object('type', 'tool_call_response', 'id', 'call_' || i, 'response', "        \
    "      CASE WHEN i % 2 = 0 THEN jsonb_build_object('temp', i) "                                \
    "           ELSE to_jsonb('sunny ' || i) END), "                                               \
    "    jsonb_build_object('type', 'text', 'content', 'answer ' || i)))) "                        \
    "AND system_instructions IS NOT DISTINCT FROM (CASE WHEN i % 4 = 0 THEN 'Be brief.' END) "     \
    "AND tool_definitions IS NOT DISTINCT FROM "                                                   \
    "  (CASE WHEN i % 2 = 0 THEN '[{\"name\": \"lookup\"}]'::jsonb END) "                          \
    "AND finish_reasons = ARRAY['stop'] "                                                          \
    "AND input_tokens = i % 1000 AND output_tokens = 2 * (i % 1000) "                              \
    "AND cache_read_input_tokens IS NOT DISTINCT FROM (CASE WHEN i % 5 = 0 THEN 7 END) "           \
    "AND cache_creation_input_tokens IS NULL "                                                     \
    "AND reasoning_output_tokens IS NOT DISTINCT FROM (CASE WHEN i % 2 = 1 THEN 3 END) "           \
    "AND cost_micro_usd = i * 10 AND start_time = event_time - interval '1.5 s' "                  \
    "AND end_time = event_time AND duration_ms = 1500 "                                            \
    "AND ttft_ms IS NOT DISTINCT FROM (CASE WHEN i % 2 = 0 THEN 250.5 END) "                       \
    "AND status = CASE WHEN i % 10 = 0 THEN 'error' ELSE 'ok' END "                                \
    "AND error_type IS NOT DISTINCT FROM (CASE WHEN i % 10 = 0 THEN 'RateLimitError' END) "        \
    "AND error_message IS NOT DISTINCT FROM (CASE WHEN i % 10 = 0 THEN 'slow down' END) "          \
    "AND prompt_template IS NOT DISTINCT FROM (CASE WHEN i % 2 = 0 THEN 'greet' END) "             \
    "AND prompt_version IS NOT DISTINCT FROM (CASE WHEN i % 2 = 0 THEN 'v2' END) "                 \
    "AND prompt_variables IS NOT DISTINCT FROM "                                                   \
    "  (CASE WHEN i % 2 = 0 THEN jsonb_build_object('name', 'n' || i) END) "                       \
    "AND truncated = CASE WHEN i % 7 = 0 THEN ARRAY['input_messages', 'prompt_variables'] "        \
    "  ELSE '{}'::text[] END"                                                                      \
    ") IS NOT TRUE"

#define FWC_FB_MISMATCHES                                                                          \
    "WITH f AS (SELECT *, " FWC_I_OF_EVENT_ID " AS i FROM flywheel.feedback) "                     \
    "SELECT count(*) FROM f WHERE (" FWC_ENVELOPE_OK                                               \
    "AND target_event_id = ('018f3406-9e00-7000-80' || substr(lpad(to_hex(i - 1), 14, '0'), 1, "   \
    "2) "                                                                                          \
    "  || '-' || substr(lpad(to_hex(i - 1), 14, '0'), 3, 12))::uuid "                              \
    "AND target_response_id = 'resp-' || (i - 1) AND target_trace_id IS NULL "                     \
    "AND name = 'thumbs' AND value_type = CASE WHEN i % 40 = 39 THEN 'bool' ELSE 'number' END "    \
    "AND bool_value IS NOT DISTINCT FROM (CASE WHEN i % 40 = 39 THEN true END) "                   \
    "AND number_value IS NOT DISTINCT FROM (CASE WHEN i % 40 = 39 THEN NULL ELSE 4.5 END) "        \
    "AND category_value IS NULL AND comment = E'great\\tjob' "                                     \
    "AND correction IS NOT DISTINCT FROM (CASE WHEN i % 60 = 59 THEN jsonb_build_array("           \
    "  jsonb_build_object('role', 'assistant', 'parts', jsonb_build_array("                        \
    "    jsonb_build_object('type', 'text', 'content', 'better answer')))) END) "                  \
    "AND source = 'end_user' AND author_id = 'u' || i"                                             \
    ") IS NOT TRUE"

#endif
