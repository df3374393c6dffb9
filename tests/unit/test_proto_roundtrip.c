/*
 * flywheel.v1 round trip: a fully populated Generation event and a Feedback
 * event are packed and unpacked, and every field is compared. Also checks
 * that presence survives (an explicit zero differs from absent) and that
 * unknown fields from a newer sender are skipped by this reader.
 */
#include "fwtest.h"
#include "flywheel/v1/flywheel.pb-c.h"

typedef Flywheel__V1__Event Event;
typedef Flywheel__V1__Generation Generation;
typedef Flywheel__V1__Message Message;
typedef Flywheel__V1__Part Part;

static uint8_t EVID[16] = {0x01, 0x8f, 0x3a, 0x10, 0x22, 0x33, 0x70, 0x44,
                           0x80, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
static uint8_t TRACE[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static uint8_t SPAN[8] = {1, 1, 2, 3, 5, 8, 13, 21};
static uint8_t PSPAN[8] = {9, 8, 7, 6, 5, 4, 3, 2};

static uint8_t *pack(const Event *ev, size_t *len)
{
    *len = flywheel__v1__event__get_packed_size(ev);
    uint8_t *buf = malloc(*len);
    FWT_CHECK(buf != NULL);
    FWT_CHECK_EQ_INT(flywheel__v1__event__pack(ev, buf), *len);
    return buf;
}

static void check_bytes(ProtobufCBinaryData b, const uint8_t *want, size_t n)
{
    FWT_CHECK_EQ_INT(b.len, n);
    FWT_CHECK(memcmp(b.data, want, n) == 0);
}

static void test_generation(void)
{
    Event ev = FLYWHEEL__V1__EVENT__INIT;
    Generation g = FLYWHEEL__V1__GENERATION__INIT;
    Flywheel__V1__RequestParams rp = FLYWHEEL__V1__REQUEST_PARAMS__INIT;
    Flywheel__V1__Usage us = FLYWHEEL__V1__USAGE__INIT;
    Flywheel__V1__PromptTemplate pt = FLYWHEEL__V1__PROMPT_TEMPLATE__INIT;
    Flywheel__V1__Truncation tr = FLYWHEEL__V1__TRUNCATION__INIT;

    ev.event_id = (ProtobufCBinaryData){16, EVID};
    ev.time_unix_nano = 1764500000123456789ULL;
    ev.project = "support-bot";
    ev.environment = "production";
    ev.release = "2026.11.3";
    ev.sdk_name = "libflywheel";
    ev.sdk_version = "0.1.0";
    ev.schema_version = FLYWHEEL__V1__SCHEMA_VERSION__SCHEMA_VERSION_1;
    Flywheel__V1__Event__AttributesEntry a1 = FLYWHEEL__V1__EVENT__ATTRIBUTES_ENTRY__INIT;
    Flywheel__V1__Event__AttributesEntry a2 = FLYWHEEL__V1__EVENT__ATTRIBUTES_ENTRY__INIT;
    a1.key = "region";
    a1.value = "eu-west-1";
    a2.key = "feature";
    a2.value = "refunds ✓";
    Flywheel__V1__Event__AttributesEntry *attrs[] = {&a1, &a2};
    ev.n_attributes = 2;
    ev.attributes = attrs;
    char *tags[] = {"beta", "vip"};
    ev.n_tags = 2;
    ev.tags = tags;

    g.trace_id = (ProtobufCBinaryData){16, TRACE};
    g.span_id = (ProtobufCBinaryData){8, SPAN};
    g.parent_span_id = (ProtobufCBinaryData){8, PSPAN};
    g.conversation_id = "conv-42";
    g.session_id = "sess-7";
    g.user_id = "user-1234";
    g.operation_name = "chat";
    g.provider_name = "openai";
    g.request_model = "gpt-4o";
    g.response_model = "gpt-4o-2024-08-06";
    g.response_id = "chatcmpl-abc123";

    rp._temperature_case = FLYWHEEL__V1__REQUEST_PARAMS___TEMPERATURE_TEMPERATURE;
    rp.temperature = 0.0; /* explicit zero: must survive as present */
    rp._top_p_case = FLYWHEEL__V1__REQUEST_PARAMS___TOP_P_TOP_P;
    rp.top_p = 0.95;
    rp._top_k_case = FLYWHEEL__V1__REQUEST_PARAMS___TOP_K_TOP_K;
    rp.top_k = 40;
    rp._max_tokens_case = FLYWHEEL__V1__REQUEST_PARAMS___MAX_TOKENS_MAX_TOKENS;
    rp.max_tokens = 1024;
    rp._seed_case = FLYWHEEL__V1__REQUEST_PARAMS___SEED_SEED;
    rp.seed = -7;
    char *stops[] = {"\n\nUser:", "END"};
    rp.n_stop_sequences = 2;
    rp.stop_sequences = stops;
    rp._frequency_penalty_case = FLYWHEEL__V1__REQUEST_PARAMS___FREQUENCY_PENALTY_FREQUENCY_PENALTY;
    rp.frequency_penalty = 0.5;
    rp._presence_penalty_case = FLYWHEEL__V1__REQUEST_PARAMS___PRESENCE_PENALTY_PRESENCE_PENALTY;
    rp.presence_penalty = -0.25;
    rp._stream_case = FLYWHEEL__V1__REQUEST_PARAMS___STREAM_STREAM;
    rp.stream = 1;
    rp._choice_count_case = FLYWHEEL__V1__REQUEST_PARAMS___CHOICE_COUNT_CHOICE_COUNT;
    rp.choice_count = 1;
    rp.extra_json = "{\"response_format\":{\"type\":\"json_object\"}}";
    g.request = &rp;

    /* input: system, user (text), assistant (tool call), tool (response) */
    Part p_sys = FLYWHEEL__V1__PART__INIT, p_user = FLYWHEEL__V1__PART__INIT;
    Part p_call = FLYWHEEL__V1__PART__INIT, p_resp = FLYWHEEL__V1__PART__INIT;
    Part p_reason = FLYWHEEL__V1__PART__INIT, p_out = FLYWHEEL__V1__PART__INIT;
    Flywheel__V1__ToolCall tc = FLYWHEEL__V1__TOOL_CALL__INIT;
    Flywheel__V1__ToolCallResponse tcr = FLYWHEEL__V1__TOOL_CALL_RESPONSE__INIT;
    p_sys.content_case = FLYWHEEL__V1__PART__CONTENT_TEXT;
    p_sys.text = "You are a helpful support agent.";
    p_user.content_case = FLYWHEEL__V1__PART__CONTENT_TEXT;
    p_user.text = "Where is my order #1234? 🙂";
    tc.id = "call_1";
    tc.name = "lookup_order";
    tc.arguments_json = "{\"order_id\":\"1234\"}";
    p_call.content_case = FLYWHEEL__V1__PART__CONTENT_TOOL_CALL;
    p_call.tool_call = &tc;
    tcr.id = "call_1";
    tcr.content = "{\"status\":\"shipped\"}";
    p_resp.content_case = FLYWHEEL__V1__PART__CONTENT_TOOL_CALL_RESPONSE;
    p_resp.tool_call_response = &tcr;
    p_reason.content_case = FLYWHEEL__V1__PART__CONTENT_REASONING;
    p_reason.reasoning = "The tool says shipped.";
    p_out.content_case = FLYWHEEL__V1__PART__CONTENT_TEXT;
    p_out.text = "Your order has shipped.";

    Part *ps_sys[] = {&p_sys}, *ps_user[] = {&p_user}, *ps_call[] = {&p_call},
         *ps_resp[] = {&p_resp}, *ps_out[] = {&p_reason, &p_out};
    Message m_sys = FLYWHEEL__V1__MESSAGE__INIT, m_user = FLYWHEEL__V1__MESSAGE__INIT;
    Message m_call = FLYWHEEL__V1__MESSAGE__INIT, m_resp = FLYWHEEL__V1__MESSAGE__INIT;
    Message m_out = FLYWHEEL__V1__MESSAGE__INIT;
    m_sys.role = FLYWHEEL__V1__ROLE__ROLE_SYSTEM;
    m_sys.n_parts = 1;
    m_sys.parts = ps_sys;
    m_user.role = FLYWHEEL__V1__ROLE__ROLE_USER;
    m_user.name = "alice";
    m_user.n_parts = 1;
    m_user.parts = ps_user;
    m_call.role = FLYWHEEL__V1__ROLE__ROLE_ASSISTANT;
    m_call.n_parts = 1;
    m_call.parts = ps_call;
    m_resp.role = FLYWHEEL__V1__ROLE__ROLE_TOOL;
    m_resp.n_parts = 1;
    m_resp.parts = ps_resp;
    m_out.role = FLYWHEEL__V1__ROLE__ROLE_ASSISTANT;
    m_out.n_parts = 2;
    m_out.parts = ps_out;
    m_out.finish_reason = "stop";
    Message *in[] = {&m_sys, &m_user, &m_call, &m_resp}, *out[] = {&m_out};
    g.n_input_messages = 4;
    g.input_messages = in;
    g.n_output_messages = 1;
    g.output_messages = out;
    g.tool_definitions_json = "[{\"type\":\"function\",\"name\":\"lookup_order\"}]";
    char *fr[] = {"stop"};
    g.n_finish_reasons = 1;
    g.finish_reasons = fr;

    us._input_tokens_case = FLYWHEEL__V1__USAGE___INPUT_TOKENS_INPUT_TOKENS;
    us.input_tokens = 812;
    us._output_tokens_case = FLYWHEEL__V1__USAGE___OUTPUT_TOKENS_OUTPUT_TOKENS;
    us.output_tokens = 57;
    us._cache_read_input_tokens_case =
        FLYWHEEL__V1__USAGE___CACHE_READ_INPUT_TOKENS_CACHE_READ_INPUT_TOKENS;
    us.cache_read_input_tokens = 512;
    us._cache_creation_input_tokens_case =
        FLYWHEEL__V1__USAGE___CACHE_CREATION_INPUT_TOKENS_CACHE_CREATION_INPUT_TOKENS;
    us.cache_creation_input_tokens = 0;
    /* reasoning tokens left absent on purpose */
    g.usage = &us;
    g.cost_micro_usd = 4210;
    g.start_time_unix_nano = 1764500000000000000ULL;
    g.end_time_unix_nano = 1764500000123456789ULL;
    g._time_to_first_token_nanos_case =
        FLYWHEEL__V1__GENERATION___TIME_TO_FIRST_TOKEN_NANOS_TIME_TO_FIRST_TOKEN_NANOS;
    g.time_to_first_token_nanos = 45000000;
    g.status = FLYWHEEL__V1__STATUS__STATUS_ERROR;
    g.error_type = "RateLimitError";
    g.error_message = "429 Too Many Requests";
    Flywheel__V1__PromptTemplate__VariablesEntry v1 =
        FLYWHEEL__V1__PROMPT_TEMPLATE__VARIABLES_ENTRY__INIT;
    v1.key = "customer_name";
    v1.value = "Alice";
    Flywheel__V1__PromptTemplate__VariablesEntry *vars[] = {&v1};
    pt.name = "support-answer";
    pt.version = "v7";
    pt.n_variables = 1;
    pt.variables = vars;
    g.prompt = &pt;
    tr.input_messages = 1;
    tr.prompt_variables = 1;
    g.truncation = &tr;
    g.system_instructions = "Be brief.";

    ev.body_case = FLYWHEEL__V1__EVENT__BODY_GENERATION;
    ev.generation = &g;

    size_t len;
    uint8_t *buf = pack(&ev, &len);
    Event *d = flywheel__v1__event__unpack(NULL, len, buf);
    FWT_CHECK(d != NULL);

    check_bytes(d->event_id, EVID, 16);
    FWT_CHECK(d->time_unix_nano == 1764500000123456789ULL);
    FWT_CHECK_EQ_STR(d->project, "support-bot");
    FWT_CHECK_EQ_STR(d->environment, "production");
    FWT_CHECK_EQ_STR(d->release, "2026.11.3");
    FWT_CHECK_EQ_STR(d->sdk_name, "libflywheel");
    FWT_CHECK_EQ_STR(d->sdk_version, "0.1.0");
    FWT_CHECK_EQ_INT(d->schema_version, 1);
    FWT_CHECK_EQ_INT(d->n_attributes, 2);
    FWT_CHECK_EQ_STR(d->attributes[0]->key, "region");
    FWT_CHECK_EQ_STR(d->attributes[1]->value, "refunds ✓");
    FWT_CHECK_EQ_INT(d->n_tags, 2);
    FWT_CHECK_EQ_STR(d->tags[1], "vip");
    FWT_CHECK_EQ_INT(d->body_case, FLYWHEEL__V1__EVENT__BODY_GENERATION);

    Generation *dg = d->generation;
    check_bytes(dg->trace_id, TRACE, 16);
    check_bytes(dg->span_id, SPAN, 8);
    check_bytes(dg->parent_span_id, PSPAN, 8);
    FWT_CHECK_EQ_STR(dg->conversation_id, "conv-42");
    FWT_CHECK_EQ_STR(dg->session_id, "sess-7");
    FWT_CHECK_EQ_STR(dg->user_id, "user-1234");
    FWT_CHECK_EQ_STR(dg->operation_name, "chat");
    FWT_CHECK_EQ_STR(dg->provider_name, "openai");
    FWT_CHECK_EQ_STR(dg->request_model, "gpt-4o");
    FWT_CHECK_EQ_STR(dg->response_model, "gpt-4o-2024-08-06");
    FWT_CHECK_EQ_STR(dg->response_id, "chatcmpl-abc123");

    Flywheel__V1__RequestParams *drp = dg->request;
    FWT_CHECK(drp != NULL);
    FWT_CHECK_EQ_INT(drp->_temperature_case,
                     FLYWHEEL__V1__REQUEST_PARAMS___TEMPERATURE_TEMPERATURE);
    FWT_CHECK(drp->temperature == 0.0);
    FWT_CHECK(drp->top_p == 0.95);
    FWT_CHECK_EQ_INT(drp->top_k, 40);
    FWT_CHECK_EQ_INT(drp->max_tokens, 1024);
    FWT_CHECK_EQ_INT(drp->seed, -7);
    FWT_CHECK_EQ_INT(drp->n_stop_sequences, 2);
    FWT_CHECK_EQ_STR(drp->stop_sequences[0], "\n\nUser:");
    FWT_CHECK(drp->frequency_penalty == 0.5);
    FWT_CHECK(drp->presence_penalty == -0.25);
    FWT_CHECK_EQ_INT(drp->_stream_case, FLYWHEEL__V1__REQUEST_PARAMS___STREAM_STREAM);
    FWT_CHECK_EQ_INT(drp->stream, 1);
    FWT_CHECK_EQ_INT(drp->choice_count, 1);
    FWT_CHECK_EQ_STR(drp->extra_json, "{\"response_format\":{\"type\":\"json_object\"}}");

    FWT_CHECK_EQ_INT(dg->n_input_messages, 4);
    FWT_CHECK_EQ_INT(dg->input_messages[0]->role, FLYWHEEL__V1__ROLE__ROLE_SYSTEM);
    FWT_CHECK_EQ_STR(dg->input_messages[0]->parts[0]->text, "You are a helpful support agent.");
    FWT_CHECK_EQ_STR(dg->input_messages[1]->name, "alice");
    FWT_CHECK_EQ_STR(dg->input_messages[1]->parts[0]->text, "Where is my order #1234? 🙂");
    Part *dcall = dg->input_messages[2]->parts[0];
    FWT_CHECK_EQ_INT(dcall->content_case, FLYWHEEL__V1__PART__CONTENT_TOOL_CALL);
    FWT_CHECK_EQ_STR(dcall->tool_call->id, "call_1");
    FWT_CHECK_EQ_STR(dcall->tool_call->name, "lookup_order");
    FWT_CHECK_EQ_STR(dcall->tool_call->arguments_json, "{\"order_id\":\"1234\"}");
    Part *dresp = dg->input_messages[3]->parts[0];
    FWT_CHECK_EQ_INT(dg->input_messages[3]->role, FLYWHEEL__V1__ROLE__ROLE_TOOL);
    FWT_CHECK_EQ_INT(dresp->content_case, FLYWHEEL__V1__PART__CONTENT_TOOL_CALL_RESPONSE);
    FWT_CHECK_EQ_STR(dresp->tool_call_response->content, "{\"status\":\"shipped\"}");
    FWT_CHECK_EQ_INT(dg->n_output_messages, 1);
    FWT_CHECK_EQ_INT(dg->output_messages[0]->n_parts, 2);
    FWT_CHECK_EQ_INT(dg->output_messages[0]->parts[0]->content_case,
                     FLYWHEEL__V1__PART__CONTENT_REASONING);
    FWT_CHECK_EQ_STR(dg->output_messages[0]->parts[0]->reasoning, "The tool says shipped.");
    FWT_CHECK_EQ_STR(dg->output_messages[0]->parts[1]->text, "Your order has shipped.");
    FWT_CHECK_EQ_STR(dg->output_messages[0]->finish_reason, "stop");
    FWT_CHECK_EQ_STR(dg->tool_definitions_json,
                     "[{\"type\":\"function\",\"name\":\"lookup_order\"}]");
    FWT_CHECK_EQ_INT(dg->n_finish_reasons, 1);
    FWT_CHECK_EQ_STR(dg->finish_reasons[0], "stop");

    FWT_CHECK_EQ_INT(dg->usage->input_tokens, 812);
    FWT_CHECK_EQ_INT(dg->usage->output_tokens, 57);
    FWT_CHECK_EQ_INT(dg->usage->cache_read_input_tokens, 512);
    FWT_CHECK_EQ_INT(dg->usage->_cache_creation_input_tokens_case,
                     FLYWHEEL__V1__USAGE___CACHE_CREATION_INPUT_TOKENS_CACHE_CREATION_INPUT_TOKENS);
    FWT_CHECK_EQ_INT(dg->usage->cache_creation_input_tokens, 0);
    FWT_CHECK_EQ_INT(dg->usage->_reasoning_output_tokens_case,
                     FLYWHEEL__V1__USAGE___REASONING_OUTPUT_TOKENS__NOT_SET);
    FWT_CHECK_EQ_INT(dg->cost_micro_usd, 4210);
    FWT_CHECK(dg->start_time_unix_nano == 1764500000000000000ULL);
    FWT_CHECK(dg->end_time_unix_nano == 1764500000123456789ULL);
    FWT_CHECK_EQ_INT(dg->time_to_first_token_nanos, 45000000);
    FWT_CHECK_EQ_INT(dg->status, FLYWHEEL__V1__STATUS__STATUS_ERROR);
    FWT_CHECK_EQ_STR(dg->error_type, "RateLimitError");
    FWT_CHECK_EQ_STR(dg->error_message, "429 Too Many Requests");
    FWT_CHECK_EQ_STR(dg->prompt->name, "support-answer");
    FWT_CHECK_EQ_STR(dg->prompt->version, "v7");
    FWT_CHECK_EQ_INT(dg->prompt->n_variables, 1);
    FWT_CHECK_EQ_STR(dg->prompt->variables[0]->value, "Alice");
    FWT_CHECK_EQ_INT(dg->truncation->input_messages, 1);
    FWT_CHECK_EQ_INT(dg->truncation->output_messages, 0);
    FWT_CHECK_EQ_INT(dg->truncation->prompt_variables, 1);
    FWT_CHECK_EQ_STR(dg->system_instructions, "Be brief.");

    /* Re-packing the decoded event gives the same bytes. */
    size_t len2;
    uint8_t *buf2 = pack(d, &len2);
    FWT_CHECK_EQ_INT(len2, len);
    FWT_CHECK(memcmp(buf, buf2, len) == 0);

    /* A newer sender's unknown field (number 99, a string) is skipped. */
    uint8_t *ext = malloc(len + 8);
    memcpy(ext, buf, len);
    size_t el = len;
    ext[el++] = (uint8_t)(((99 << 3) | 2) & 0x7f) | 0x80; /* tag 99, wire type 2, varint */
    ext[el++] = (uint8_t)(((99 << 3) | 2) >> 7);
    ext[el++] = 3;
    ext[el++] = 'n';
    ext[el++] = 'e';
    ext[el++] = 'w';
    Event *d2 = flywheel__v1__event__unpack(NULL, el, ext);
    FWT_CHECK(d2 != NULL);
    FWT_CHECK_EQ_STR(d2->project, "support-bot");
    FWT_CHECK_EQ_INT(d2->base.n_unknown_fields, 1);
    flywheel__v1__event__free_unpacked(d2, NULL);

    /* Garbage does not decode. */
    uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    FWT_CHECK(flywheel__v1__event__unpack(NULL, sizeof junk, junk) == NULL);

    free(ext);
    free(buf);
    free(buf2);
    flywheel__v1__event__free_unpacked(d, NULL);
}

static void test_feedback(void)
{
    Event ev = FLYWHEEL__V1__EVENT__INIT;
    Flywheel__V1__Feedback fb = FLYWHEEL__V1__FEEDBACK__INIT;
    Part p = FLYWHEEL__V1__PART__INIT;
    Message m = FLYWHEEL__V1__MESSAGE__INIT;
    Part *ps[] = {&p};
    Message *ms[] = {&m};

    ev.event_id = (ProtobufCBinaryData){16, EVID};
    ev.time_unix_nano = 1;
    ev.project = "p";
    ev.schema_version = 1;
    fb.target_event_id = (ProtobufCBinaryData){16, EVID};
    fb.target_response_id = "chatcmpl-abc123";
    fb.target_trace_id = (ProtobufCBinaryData){16, TRACE};
    fb.name = "thumbs";
    fb.value_case = FLYWHEEL__V1__FEEDBACK__VALUE_BOOL_VALUE;
    fb.bool_value = 0;
    fb.comment = "wrong order number";
    p.content_case = FLYWHEEL__V1__PART__CONTENT_TEXT;
    p.text = "Order #1234 is still being packed.";
    m.role = FLYWHEEL__V1__ROLE__ROLE_ASSISTANT;
    m.n_parts = 1;
    m.parts = ps;
    fb.n_correction = 1;
    fb.correction = ms;
    fb.source = FLYWHEEL__V1__FEEDBACK_SOURCE__FEEDBACK_SOURCE_END_USER;
    fb.author_id = "user-1234";
    ev.body_case = FLYWHEEL__V1__EVENT__BODY_FEEDBACK;
    ev.feedback = &fb;

    size_t len;
    uint8_t *buf = pack(&ev, &len);
    Event *d = flywheel__v1__event__unpack(NULL, len, buf);
    FWT_CHECK(d != NULL);
    FWT_CHECK_EQ_INT(d->body_case, FLYWHEEL__V1__EVENT__BODY_FEEDBACK);
    Flywheel__V1__Feedback *df = d->feedback;
    check_bytes(df->target_event_id, EVID, 16);
    check_bytes(df->target_trace_id, TRACE, 16);
    FWT_CHECK_EQ_STR(df->target_response_id, "chatcmpl-abc123");
    FWT_CHECK_EQ_STR(df->name, "thumbs");
    /* false is present, not absent */
    FWT_CHECK_EQ_INT(df->value_case, FLYWHEEL__V1__FEEDBACK__VALUE_BOOL_VALUE);
    FWT_CHECK_EQ_INT(df->bool_value, 0);
    FWT_CHECK_EQ_STR(df->comment, "wrong order number");
    FWT_CHECK_EQ_INT(df->n_correction, 1);
    FWT_CHECK_EQ_STR(df->correction[0]->parts[0]->text, "Order #1234 is still being packed.");
    FWT_CHECK_EQ_INT(df->source, FLYWHEEL__V1__FEEDBACK_SOURCE__FEEDBACK_SOURCE_END_USER);
    FWT_CHECK_EQ_STR(df->author_id, "user-1234");
    flywheel__v1__event__free_unpacked(d, NULL);
    free(buf);

    /* number and category values */
    fb.value_case = FLYWHEEL__V1__FEEDBACK__VALUE_NUMBER_VALUE;
    fb.number_value = 4.5;
    buf = pack(&ev, &len);
    d = flywheel__v1__event__unpack(NULL, len, buf);
    FWT_CHECK(d && d->feedback->value_case == FLYWHEEL__V1__FEEDBACK__VALUE_NUMBER_VALUE);
    FWT_CHECK(d->feedback->number_value == 4.5);
    flywheel__v1__event__free_unpacked(d, NULL);
    free(buf);
    fb.value_case = FLYWHEEL__V1__FEEDBACK__VALUE_CATEGORY_VALUE;
    fb.category_value = "resolved";
    buf = pack(&ev, &len);
    d = flywheel__v1__event__unpack(NULL, len, buf);
    FWT_CHECK(d && d->feedback->value_case == FLYWHEEL__V1__FEEDBACK__VALUE_CATEGORY_VALUE);
    FWT_CHECK_EQ_STR(d->feedback->category_value, "resolved");
    flywheel__v1__event__free_unpacked(d, NULL);
    free(buf);
}

int main(void)
{
    test_generation();
    test_feedback();
    return 0;
}
