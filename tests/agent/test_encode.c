/*
 * Encoding of every Generation and Feedback field, from the public builder
 * to the protobuf bytes (the agent thread is paused and the test runs the
 * encoder on the queued entries itself): envelope, keys, presence of
 * optional scalars, messages with every part type, maps with last-wins,
 * truncation to max_event_bytes with the flags set, invalid UTF-8 repaired,
 * omitted content, redaction, head sampling whole by trace.
 */
#include "agent_test.h"
#include "encode.h"
#include "internal.h"

static void quiet(void *o, int level, const char *line)
{
    (void)o;
    (void)level;
    (void)line;
}

static fw_agent_t *paused_agent(const char *const kv[][2], size_t n)
{
    fw_conf_t *c = fw_conf_new();
    at_set(c, "kafka.bootstrap.servers", "127.0.0.1:1");
    at_set(c, "project", "proj");
    at_set(c, "environment", "test");
    at_set(c, "release", "1.2.3");
    for (size_t i = 0; i < n; i++)
        at_set(c, kv[i][0], kv[i][1]);
    fw_conf_set_log_cb(c, quiet, NULL);
    fw_agent_t *a = at_agent(c);
    fwi_agent_pause(a, 1);
    return a;
}

/* Pops the next entry (waiting out a push in progress) and encodes it. */
static Flywheel__V1__Event *take(fw_agent_t *a, int *rc_out, fwe_out *o)
{
    fwq_node *n = NULL;
    int64_t deadline = fwt_now_ms() + 2000;
    while (!(n = fwq_pop(&a->q)) && fwt_now_ms() < deadline)
        ;
    FWT_CHECK(n);
    fwe_ctx *ctx = fwe_new();
    int rc = fwe_encode(ctx, (fw_entry *)n, &a->s, a->redactor, o);
    *rc_out = rc;
    Flywheel__V1__Event *ev = NULL;
    if (rc == FWE_OK) {
        ev = flywheel__v1__event__unpack(NULL, o->len, o->buf);
        FWT_CHECK(ev);
        free(o->buf);
    }
    fwe_free(ctx);
    fwq_release(&a->q, n->size);
    free(n);
    return ev;
}

static const unsigned char TRACE[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const unsigned char SPAN[8] = {21, 22, 23, 24, 25, 26, 27, 28};
static const unsigned char PARENT[8] = {31, 32, 33, 34, 35, 36, 37, 38};

static void full_generation(fw_agent_t *a, fw_event_id_t *id)
{
    fw_gen_t *g = fw_gen_new(a);
    FWT_CHECK(g);
    FWT_CHECK_EQ_INT(fw_gen_set_trace(g, TRACE, SPAN, PARENT), FW_OK);
    static const struct {
        fw_gen_field_t f;
        const char *v;
    } strs[] = {
        {FW_GEN_CONVERSATION_ID, "conv-1"},
        {FW_GEN_SESSION_ID, "sess-1"},
        {FW_GEN_USER_ID, "user-1"},
        {FW_GEN_OPERATION_NAME, "chat"},
        {FW_GEN_PROVIDER_NAME, "openai"},
        {FW_GEN_REQUEST_MODEL, "gpt-4o"},
        {FW_GEN_RESPONSE_MODEL, "gpt-4o-2024"},
        {FW_GEN_RESPONSE_ID, "resp-1"},
        {FW_GEN_TOOL_DEFINITIONS_JSON, "[{\"name\":\"get_weather\"}]"},
        {FW_GEN_ERROR_TYPE, "none"},
        {FW_GEN_ERROR_MESSAGE, "no error"},
        {FW_GEN_SYSTEM_INSTRUCTIONS, "be brief"},
        {FW_GEN_PROMPT_NAME, "weather"},
        {FW_GEN_PROMPT_VERSION, "v3"},
        {FW_GEN_REQUEST_EXTRA_JSON, "{\"user\":\"x\"}"},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        FWT_CHECK_EQ_INT(fw_gen_set_str(g, strs[i].f, strs[i].v), FW_OK);
    FWT_CHECK_EQ_INT(fw_gen_set_str(g, FW_GEN_REQUEST_MODEL, "gpt-4o"), FW_OK); /* again */
    static const struct {
        fw_gen_field_t f;
        int64_t v;
    } ints[] = {
        {FW_GEN_REQUEST_TOP_K, 40},
        {FW_GEN_REQUEST_MAX_TOKENS, 512},
        {FW_GEN_REQUEST_SEED, 7},
        {FW_GEN_REQUEST_CHOICE_COUNT, 1},
        {FW_GEN_REQUEST_STREAM, 1},
        {FW_GEN_USAGE_INPUT_TOKENS, 100},
        {FW_GEN_USAGE_OUTPUT_TOKENS, 20},
        {FW_GEN_USAGE_CACHE_READ_INPUT_TOKENS, 0},
        {FW_GEN_USAGE_CACHE_CREATION_INPUT_TOKENS, 5},
        {FW_GEN_USAGE_REASONING_OUTPUT_TOKENS, 3},
        {FW_GEN_COST_MICRO_USD, 1234},
        {FW_GEN_START_TIME_UNIX_NANO, 1700000000000000000},
        {FW_GEN_END_TIME_UNIX_NANO, 1700000001000000000},
        {FW_GEN_TIME_TO_FIRST_TOKEN_NANOS, 250000000},
        {FW_GEN_STATUS, FW_STATUS_OK},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        FWT_CHECK_EQ_INT(fw_gen_set_int(g, ints[i].f, ints[i].v), FW_OK);
    FWT_CHECK_EQ_INT(fw_gen_set_double(g, FW_GEN_REQUEST_TEMPERATURE, 0.0), FW_OK);
    FWT_CHECK_EQ_INT(fw_gen_set_double(g, FW_GEN_REQUEST_TOP_P, 0.9), FW_OK);
    FWT_CHECK_EQ_INT(fw_gen_set_double(g, FW_GEN_REQUEST_FREQUENCY_PENALTY, 0.1), FW_OK);
    FWT_CHECK_EQ_INT(fw_gen_set_double(g, FW_GEN_REQUEST_PRESENCE_PENALTY, -0.5), FW_OK);
    FWT_CHECK_EQ_INT(fw_gen_add_stop_sequence(g, "\n\n"), FW_OK);
    FWT_CHECK_EQ_INT(fw_gen_add_stop_sequence(g, "END"), FW_OK);
    FWT_CHECK_EQ_INT(fw_gen_add_finish_reason(g, "tool_calls"), FW_OK);
    FWT_CHECK_EQ_INT(fw_gen_add_tag(g, "beta"), FW_OK);
    FWT_CHECK_EQ_INT(fw_gen_set_attribute(g, "region", "eu"), FW_OK);
    FWT_CHECK_EQ_INT(fw_gen_set_attribute(g, "tier", "free"), FW_OK);
    FWT_CHECK_EQ_INT(fw_gen_set_attribute(g, "region", "us"), FW_OK); /* last wins */
    FWT_CHECK_EQ_INT(fw_gen_set_prompt_variable(g, "city", "Paris"), FW_OK);
    FWT_CHECK_EQ_INT(fw_gen_msg_add_text(g, "orphan"), FW_ERR_NO_MESSAGE);
    fw_gen_discard(g);

    /* Again without the misuse (which poisoned the first builder). */
    g = fw_gen_new(a);
    fw_gen_set_trace(g, TRACE, SPAN, PARENT);
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        fw_gen_set_str(g, strs[i].f, strs[i].v);
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        fw_gen_set_int(g, ints[i].f, ints[i].v);
    fw_gen_set_double(g, FW_GEN_REQUEST_TEMPERATURE, 0.0);
    fw_gen_set_double(g, FW_GEN_REQUEST_TOP_P, 0.9);
    fw_gen_set_double(g, FW_GEN_REQUEST_FREQUENCY_PENALTY, 0.1);
    fw_gen_set_double(g, FW_GEN_REQUEST_PRESENCE_PENALTY, -0.5);
    fw_gen_add_stop_sequence(g, "\n\n");
    fw_gen_add_stop_sequence(g, "END");
    fw_gen_add_finish_reason(g, "tool_calls");
    fw_gen_add_tag(g, "beta");
    fw_gen_set_attribute(g, "region", "eu");
    fw_gen_set_attribute(g, "tier", "free");
    fw_gen_set_attribute(g, "region", "us");
    fw_gen_set_prompt_variable(g, "city", "Paris");
    FWT_CHECK_EQ_INT(fw_gen_set_int(g, FW_GEN_REQUEST_MODEL, 1), FW_ERR_WRONG_TYPE);
    fw_gen_discard(g);

    g = fw_gen_new(a);
    fw_gen_set_trace(g, TRACE, SPAN, PARENT);
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        fw_gen_set_str(g, strs[i].f, strs[i].v);
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        fw_gen_set_int(g, ints[i].f, ints[i].v);
    fw_gen_set_double(g, FW_GEN_REQUEST_TEMPERATURE, 0.0);
    fw_gen_set_double(g, FW_GEN_REQUEST_TOP_P, 0.9);
    fw_gen_set_double(g, FW_GEN_REQUEST_FREQUENCY_PENALTY, 0.1);
    fw_gen_set_double(g, FW_GEN_REQUEST_PRESENCE_PENALTY, -0.5);
    fw_gen_add_stop_sequence(g, "\n\n");
    fw_gen_add_stop_sequence(g, "END");
    fw_gen_add_finish_reason(g, "tool_calls");
    fw_gen_add_tag(g, "beta");
    fw_gen_set_attribute(g, "region", "eu");
    fw_gen_set_attribute(g, "tier", "free");
    fw_gen_set_attribute(g, "region", "us");
    fw_gen_set_prompt_variable(g, "city", "Paris");
    FWT_CHECK_EQ_INT(fw_gen_add_message(g, FW_INPUT, FW_ROLE_SYSTEM, NULL), FW_OK);
    fw_gen_msg_add_text(g, "You are terse.");
    fw_gen_add_message(g, FW_INPUT, FW_ROLE_USER, "alice");
    fw_gen_msg_add_text(g, "Weather in Paris?");
    fw_gen_msg_add_text_n(g, "and Lyon?XXXX", 9);
    fw_gen_add_message(g, FW_OUTPUT, FW_ROLE_ASSISTANT, NULL);
    fw_gen_msg_add_reasoning(g, "need the tool");
    fw_gen_msg_add_tool_call(g, "call_1", "get_weather", "{\"city\":\"Paris\"}");
    fw_gen_msg_set_finish_reason(g, "tool_calls");
    fw_gen_add_message(g, FW_INPUT, FW_ROLE_TOOL, NULL);
    fw_gen_msg_add_tool_response(g, "call_1", "{\"temp\":21}");
    FWT_CHECK_EQ_INT(fw_gen_record(g, id), FW_OK);
}

static void check_full(const Flywheel__V1__Event *ev, const fw_event_id_t *id, const fwe_out *o)
{
    FWT_CHECK(ev->event_id.len == 16 && !memcmp(ev->event_id.data, id->bytes, 16));
    FWT_CHECK((id->bytes[6] >> 4) == 7 && (id->bytes[8] >> 6) == 2); /* UUIDv7 */
    unsigned char parsed[16];
    FWT_CHECK(fw_event_id_parse(id->str, parsed) == FW_OK && !memcmp(parsed, id->bytes, 16));
    FWT_CHECK_EQ_INT(ev->time_unix_nano, 1700000001000000000ull);
    FWT_CHECK_EQ_STR(ev->project, "proj");
    FWT_CHECK_EQ_STR(ev->environment, "test");
    FWT_CHECK_EQ_STR(ev->release, "1.2.3");
    FWT_CHECK_EQ_STR(ev->sdk_name, "libflywheel");
    FWT_CHECK_EQ_STR(ev->sdk_version, fw_version());
    FWT_CHECK_EQ_INT(ev->schema_version, 1);
    FWT_CHECK_EQ_INT(ev->n_tags, 1);
    FWT_CHECK_EQ_STR(ev->tags[0], "beta");
    FWT_CHECK_EQ_INT(ev->n_attributes, 2);
    FWT_CHECK_EQ_STR(ev->attributes[0]->key, "region");
    FWT_CHECK_EQ_STR(ev->attributes[0]->value, "us");
    FWT_CHECK_EQ_STR(ev->attributes[1]->value, "free");
    FWT_CHECK(o->key_len == 16 && !memcmp(o->key, TRACE, 16));
    FWT_CHECK_EQ_INT(ev->body_case, FLYWHEEL__V1__EVENT__BODY_GENERATION);
    const Flywheel__V1__Generation *g = ev->generation;
    FWT_CHECK(g->trace_id.len == 16 && !memcmp(g->trace_id.data, TRACE, 16));
    FWT_CHECK(g->span_id.len == 8 && !memcmp(g->span_id.data, SPAN, 8));
    FWT_CHECK(g->parent_span_id.len == 8 && !memcmp(g->parent_span_id.data, PARENT, 8));
    FWT_CHECK_EQ_STR(g->conversation_id, "conv-1");
    FWT_CHECK_EQ_STR(g->session_id, "sess-1");
    FWT_CHECK_EQ_STR(g->user_id, "user-1");
    FWT_CHECK_EQ_STR(g->operation_name, "chat");
    FWT_CHECK_EQ_STR(g->provider_name, "openai");
    FWT_CHECK_EQ_STR(g->request_model, "gpt-4o");
    FWT_CHECK_EQ_STR(g->response_model, "gpt-4o-2024");
    FWT_CHECK_EQ_STR(g->response_id, "resp-1");
    FWT_CHECK_EQ_STR(g->tool_definitions_json, "[{\"name\":\"get_weather\"}]");
    FWT_CHECK_EQ_STR(g->error_type, "none");
    FWT_CHECK_EQ_STR(g->error_message, "no error");
    FWT_CHECK_EQ_STR(g->system_instructions, "be brief");
    FWT_CHECK(g->request);
    const Flywheel__V1__RequestParams *rp = g->request;
    FWT_CHECK(rp->_temperature_case && rp->temperature == 0.0); /* zero, but present */
    FWT_CHECK(rp->_top_p_case && rp->top_p == 0.9);
    FWT_CHECK(rp->_top_k_case && rp->top_k == 40);
    FWT_CHECK(rp->_max_tokens_case && rp->max_tokens == 512);
    FWT_CHECK(rp->_seed_case && rp->seed == 7);
    FWT_CHECK(rp->_frequency_penalty_case && rp->frequency_penalty == 0.1);
    FWT_CHECK(rp->_presence_penalty_case && rp->presence_penalty == -0.5);
    FWT_CHECK(rp->_stream_case && rp->stream);
    FWT_CHECK(rp->_choice_count_case && rp->choice_count == 1);
    FWT_CHECK_EQ_INT(rp->n_stop_sequences, 2);
    FWT_CHECK_EQ_STR(rp->stop_sequences[0], "\n\n");
    FWT_CHECK_EQ_STR(rp->extra_json, "{\"user\":\"x\"}");
    const Flywheel__V1__Usage *u = g->usage;
    FWT_CHECK(u && u->_input_tokens_case && u->input_tokens == 100);
    FWT_CHECK(u->_output_tokens_case && u->output_tokens == 20);
    FWT_CHECK(u->_cache_read_input_tokens_case && u->cache_read_input_tokens == 0);
    FWT_CHECK(u->_cache_creation_input_tokens_case && u->cache_creation_input_tokens == 5);
    FWT_CHECK(u->_reasoning_output_tokens_case && u->reasoning_output_tokens == 3);
    FWT_CHECK_EQ_INT(g->cost_micro_usd, 1234);
    FWT_CHECK_EQ_INT(g->start_time_unix_nano, 1700000000000000000ull);
    FWT_CHECK_EQ_INT(g->end_time_unix_nano, 1700000001000000000ull);
    FWT_CHECK(g->_time_to_first_token_nanos_case && g->time_to_first_token_nanos == 250000000);
    FWT_CHECK_EQ_INT(g->status, FLYWHEEL__V1__STATUS__STATUS_OK);
    FWT_CHECK_EQ_INT(g->n_finish_reasons, 1);
    FWT_CHECK_EQ_STR(g->finish_reasons[0], "tool_calls");
    FWT_CHECK(g->prompt);
    FWT_CHECK_EQ_STR(g->prompt->name, "weather");
    FWT_CHECK_EQ_STR(g->prompt->version, "v3");
    FWT_CHECK_EQ_INT(g->prompt->n_variables, 1);
    FWT_CHECK_EQ_STR(g->prompt->variables[0]->key, "city");
    FWT_CHECK_EQ_STR(g->prompt->variables[0]->value, "Paris");
    FWT_CHECK(g->truncation == NULL);
    FWT_CHECK_EQ_INT(g->n_input_messages, 3);
    FWT_CHECK_EQ_INT(g->input_messages[0]->role, FLYWHEEL__V1__ROLE__ROLE_SYSTEM);
    FWT_CHECK_EQ_STR(g->input_messages[0]->parts[0]->text, "You are terse.");
    FWT_CHECK_EQ_STR(g->input_messages[1]->name, "alice");
    FWT_CHECK_EQ_INT(g->input_messages[1]->n_parts, 2);
    FWT_CHECK_EQ_STR(g->input_messages[1]->parts[1]->text, "and Lyon?");
    FWT_CHECK_EQ_INT(g->input_messages[2]->role, FLYWHEEL__V1__ROLE__ROLE_TOOL);
    const Flywheel__V1__Part *tr = g->input_messages[2]->parts[0];
    FWT_CHECK_EQ_INT(tr->content_case, FLYWHEEL__V1__PART__CONTENT_TOOL_CALL_RESPONSE);
    FWT_CHECK_EQ_STR(tr->tool_call_response->id, "call_1");
    FWT_CHECK_EQ_STR(tr->tool_call_response->content, "{\"temp\":21}");
    FWT_CHECK_EQ_INT(g->n_output_messages, 1);
    const Flywheel__V1__Message *om = g->output_messages[0];
    FWT_CHECK_EQ_STR(om->finish_reason, "tool_calls");
    FWT_CHECK_EQ_INT(om->n_parts, 2);
    FWT_CHECK_EQ_INT(om->parts[0]->content_case, FLYWHEEL__V1__PART__CONTENT_REASONING);
    FWT_CHECK_EQ_STR(om->parts[0]->reasoning, "need the tool");
    FWT_CHECK_EQ_INT(om->parts[1]->content_case, FLYWHEEL__V1__PART__CONTENT_TOOL_CALL);
    FWT_CHECK_EQ_STR(om->parts[1]->tool_call->id, "call_1");
    FWT_CHECK_EQ_STR(om->parts[1]->tool_call->name, "get_weather");
    FWT_CHECK_EQ_STR(om->parts[1]->tool_call->arguments_json, "{\"city\":\"Paris\"}");
}

int main(void)
{
    int rc;
    fwe_out o;
    fw_event_id_t id;

    /* Every generation field. */
    fw_agent_t *a = paused_agent(NULL, 0);
    full_generation(a, &id);
    FWT_CHECK_EQ_INT(fw_agent_stat(a, FW_STAT_IN_QUEUE), 1);
    Flywheel__V1__Event *ev = take(a, &rc, &o);
    FWT_CHECK_EQ_INT(rc, FWE_OK);
    check_full(ev, &id, &o);
    flywheel__v1__event__free_unpacked(ev, NULL);

    /* Every feedback field, including a correction. */
    fw_feedback_t *f = fw_feedback_new(a);
    FWT_CHECK(f);
    fw_feedback_set_target_event(f, id.bytes);
    fw_feedback_set_target_trace(f, TRACE);
    fw_feedback_set_str(f, FW_FEEDBACK_TARGET_RESPONSE_ID, "resp-1");
    fw_feedback_set_str(f, FW_FEEDBACK_NAME, "rating");
    fw_feedback_set_str(f, FW_FEEDBACK_COMMENT, "good, mail me at bob@example.com");
    fw_feedback_set_str(f, FW_FEEDBACK_AUTHOR_ID, "reviewer-9");
    fw_feedback_set_bool(f, 1);
    fw_feedback_set_number(f, 4.5); /* the last value setter wins */
    fw_feedback_set_source(f, FW_SOURCE_REVIEWER);
    fw_feedback_add_correction(f, FW_ROLE_ASSISTANT, NULL);
    fw_feedback_msg_add_text(f, "It is 21 degrees.");
    fw_feedback_msg_add_tool_call(f, "c2", "noop", "{}");
    fw_event_id_t fid;
    FWT_CHECK_EQ_INT(fw_feedback_record(f, &fid), FW_OK);
    ev = take(a, &rc, &o);
    FWT_CHECK_EQ_INT(rc, FWE_OK);
    FWT_CHECK_EQ_INT(ev->body_case, FLYWHEEL__V1__EVENT__BODY_FEEDBACK);
    Flywheel__V1__Feedback *fb = ev->feedback;
    FWT_CHECK(!memcmp(fb->target_event_id.data, id.bytes, 16));
    FWT_CHECK(!memcmp(fb->target_trace_id.data, TRACE, 16));
    FWT_CHECK(o.key_len == 16 && !memcmp(o.key, TRACE, 16));
    FWT_CHECK_EQ_STR(fb->target_response_id, "resp-1");
    FWT_CHECK_EQ_STR(fb->name, "rating");
    FWT_CHECK_EQ_STR(fb->comment, "good, mail me at [EMAIL]");
    FWT_CHECK_EQ_STR(fb->author_id, "reviewer-9");
    FWT_CHECK_EQ_INT(fb->value_case, FLYWHEEL__V1__FEEDBACK__VALUE_NUMBER_VALUE);
    FWT_CHECK(fb->number_value == 4.5);
    FWT_CHECK_EQ_INT(fb->source, FLYWHEEL__V1__FEEDBACK_SOURCE__FEEDBACK_SOURCE_REVIEWER);
    FWT_CHECK_EQ_INT(fb->n_correction, 1);
    FWT_CHECK_EQ_STR(fb->correction[0]->parts[0]->text, "It is 21 degrees.");
    FWT_CHECK_EQ_STR(fb->correction[0]->parts[1]->tool_call->name, "noop");
    flywheel__v1__event__free_unpacked(ev, NULL);

    /* Key falls back to the conversation id, then the event id; invalid
     * UTF-8 and NUL are repaired. */
    fw_gen_t *g = fw_gen_new(a);
    fw_gen_set_str(g, FW_GEN_CONVERSATION_ID, "conv-xyz");
    fw_gen_add_message(g, FW_INPUT, FW_ROLE_USER, NULL);
    fw_gen_msg_add_text_n(g, "bad \xff\xfe utf8 \0nul \xe2\x82 end", 24); /* with the final NUL */
    fw_gen_record(g, &id);
    ev = take(a, &rc, &o);
    FWT_CHECK(o.key_len == 8 && !memcmp(o.key, "conv-xyz", 8));
    FWT_CHECK_EQ_STR(ev->generation->input_messages[0]->parts[0]->text,
                     "bad \xef\xbf\xbd\xef\xbf\xbd utf8 nul \xef\xbf\xbd\xef\xbf\xbd end");
    flywheel__v1__event__free_unpacked(ev, NULL);
    g = fw_gen_new(a);
    fw_gen_record(g, &id);
    ev = take(a, &rc, &o);
    FWT_CHECK(o.key_len == 16 && !memcmp(o.key, id.bytes, 16));
    flywheel__v1__event__free_unpacked(ev, NULL);

    /* The repair's fast path checks blocks of 32 and 8 bytes, then single
     * bytes: an invalid byte (replaced), a NUL (dropped) or a valid two-byte
     * character (kept) at every offset of a 100-byte text is handled
     * wherever it falls. */
    for (int k = 0; k < 100; k++) {
        char text[101], want[104];
        memset(text, 'a', 100);
        text[100] = '\0';
        const char *bad = k % 3 == 0 ? "\xff" : k % 3 == 1 ? "\0" : "\xc3";
        text[k] = bad[0];
        memcpy(want, text, (size_t)k);
        size_t w = (size_t)k;
        if (k % 3 == 2) {             /* k <= 98 */
            text[k + 1] = (char)0xa9; /* "é": valid, kept */
            memcpy(want + w, "\xc3\xa9", 2);
            w += 2;
        } else if (k % 3 == 0) {
            memcpy(want + w, "\xef\xbf\xbd", 3);
            w += 3;
        }
        size_t rest = k % 3 == 2 ? (size_t)k + 2 : (size_t)k + 1;
        memcpy(want + w, text + rest, 100 - rest);
        want[w + 100 - rest] = '\0';
        g = fw_gen_new(a);
        fw_gen_add_message(g, FW_INPUT, FW_ROLE_USER, NULL);
        fw_gen_msg_add_text_n(g, text, 100);
        fw_gen_record(g, &id);
        ev = take(a, &rc, &o);
        FWT_CHECK_EQ_INT(rc, FWE_OK);
        FWT_CHECK_MSG(!strcmp(ev->generation->input_messages[0]->parts[0]->text, want),
                      "offset %d: repaired text differs", k);
        flywheel__v1__event__free_unpacked(ev, NULL);
    }
    fwi_agent_pause(a, 0);
    fw_agent_destroy(a);

    /* Truncation: content is cut to fit max_event_bytes, flags say which;
     * a string over the limit is cut on the application thread too. */
    static const char *const trunc_kv[][2] = {{"max_event_bytes", "2000"}};
    a = paused_agent(trunc_kv, 1);
    char *big = malloc(5001);
    memset(big, 'a', 5000);
    big[5000] = 0;
    g = fw_gen_new(a);
    fw_gen_set_str(g, FW_GEN_REQUEST_MODEL, "m");
    fw_gen_add_message(g, FW_INPUT, FW_ROLE_USER, NULL);
    fw_gen_msg_add_text(g, big);
    fw_gen_add_message(g, FW_OUTPUT, FW_ROLE_ASSISTANT, NULL);
    fw_gen_msg_add_text(g, "short answer");
    fw_gen_set_str(g, FW_GEN_SYSTEM_INSTRUCTIONS, "sys");
    fw_gen_record(g, &id);
    ev = take(a, &rc, &o);
    FWT_CHECK_EQ_INT(rc, FWE_OK);
    FWT_CHECK(o.len <= 2000);
    FWT_CHECK(o.truncated);
    g = NULL;
    Flywheel__V1__Generation *gg = ev->generation;
    FWT_CHECK(gg->truncation && gg->truncation->input_messages);
    FWT_CHECK(!gg->truncation->output_messages && !gg->truncation->system_instructions);
    FWT_CHECK(strlen(gg->input_messages[0]->parts[0]->text) < 2000);
    FWT_CHECK(strlen(gg->input_messages[0]->parts[0]->text) > 1000);
    FWT_CHECK_EQ_STR(gg->output_messages[0]->parts[0]->text, "short answer");
    flywheel__v1__event__free_unpacked(ev, NULL);
    /* Metadata alone over the limit: dropped as too large, not sent. */
    g = fw_gen_new(a);
    fw_gen_set_str(g, FW_GEN_REQUEST_MODEL, big);
    fw_gen_record(g, &id);
    ev = take(a, &rc, &o);
    FWT_CHECK_EQ_INT(rc, FWE_TOO_LARGE);
    free(big);
    fwi_agent_pause(a, 0);
    fw_agent_destroy(a);

    /* Omitted content: structure kept, text gone; redaction off. */
    static const char *const omit_kv[][2] = {{"redact.omit", "input_messages,error_message"},
                                             {"redact.email", "false"}};
    a = paused_agent(omit_kv, 2);
    g = fw_gen_new(a);
    fw_gen_add_message(g, FW_INPUT, FW_ROLE_USER, NULL);
    fw_gen_msg_add_text(g, "secret question from a@b.io");
    fw_gen_add_message(g, FW_OUTPUT, FW_ROLE_ASSISTANT, NULL);
    fw_gen_msg_add_text(g, "answer for a@b.io");
    fw_gen_set_str(g, FW_GEN_ERROR_MESSAGE, "boom");
    fw_gen_record(g, &id);
    ev = take(a, &rc, &o);
    gg = ev->generation;
    FWT_CHECK_EQ_INT(gg->n_input_messages, 1);
    FWT_CHECK_EQ_INT(gg->input_messages[0]->role, FLYWHEEL__V1__ROLE__ROLE_USER);
    FWT_CHECK_EQ_STR(gg->input_messages[0]->parts[0]->text, "");
    FWT_CHECK_EQ_STR(gg->output_messages[0]->parts[0]->text, "answer for a@b.io");
    FWT_CHECK_EQ_STR(gg->error_message, "");
    flywheel__v1__event__free_unpacked(ev, NULL);
    fwi_agent_pause(a, 0);
    fw_agent_destroy(a);

    /* Sampling: whole traces kept or dropped, about the configured rate. */
    int kept = 0;
    for (int t = 0; t < 20000; t++) {
        unsigned char tr[16] = {0};
        memcpy(tr, &t, sizeof t);
        int k = fwe_keep(tr, 16, 0.25);
        FWT_CHECK_EQ_INT(k, fwe_keep(tr, 16, 0.25));
        kept += k;
    }
    FWT_CHECK_MSG(kept > 4600 && kept < 5400, "kept %d of 20000 at 0.25", kept);
    static const char *const sample_kv[][2] = {{"sample.rate", "0"}};
    a = paused_agent(sample_kv, 1);
    g = fw_gen_new(a);
    fw_gen_set_trace(g, TRACE, NULL, NULL);
    fw_gen_record(g, &id);
    take(a, &rc, &o);
    FWT_CHECK_EQ_INT(rc, FWE_SAMPLED_OUT);
    f = fw_feedback_new(a); /* feedback is never sampled */
    fw_feedback_set_target_trace(f, TRACE);
    fw_feedback_set_bool(f, 0);
    fw_feedback_record(f, &id);
    ev = take(a, &rc, &o);
    FWT_CHECK_EQ_INT(rc, FWE_OK);
    FWT_CHECK(ev->feedback->value_case == FLYWHEEL__V1__FEEDBACK__VALUE_BOOL_VALUE &&
              !ev->feedback->bool_value);
    flywheel__v1__event__free_unpacked(ev, NULL);
    fwi_agent_pause(a, 0);
    fw_agent_destroy(a);
    return 0;
}
