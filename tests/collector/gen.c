/* Event generator; see gen.h. */
#include "gen.h"

#include "flywheel/v1/flywheel.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fwc_gen_is_feedback(uint64_t i)
{
    return i % 20 == 19;
}

void fwc_gen_event_id(uint64_t i, uint8_t out[16])
{
    memset(out, 0, 16);
    for (int k = 0; k < 6; k++)
        out[5 - k] = (uint8_t)(FWC_ID_MS >> (8 * k));
    out[6] = 0x70;
    out[8] = 0x80;
    for (int k = 0; k < 7; k++)
        out[15 - k] = (uint8_t)(i >> (8 * k));
}

static ProtobufCBinaryData be_bytes(uint8_t *store, size_t n, uint64_t v)
{
    memset(store, 0, n);
    for (size_t k = 0; k < 8 && k < n; k++)
        store[n - 1 - k] = (uint8_t)(v >> (8 * k));
    return (ProtobufCBinaryData){n, store};
}

uint8_t *fwc_gen_event(uint64_t i, size_t pad, uint64_t time_ns, size_t *len)
{
    uint8_t id[16], tid[16], sid[8], psid[8], target[16];
    char s[32][256];
    char *padded = NULL;
    int si = 0;
#define S(...) (snprintf(s[si], sizeof s[0], __VA_ARGS__), s[si++])
    fwc_gen_event_id(i, id);
    uint64_t t = time_ns ? time_ns : FWC_T0_NS + i * 1000 + 789;

    Flywheel__V1__Event ev = FLYWHEEL__V1__EVENT__INIT;
    ev.event_id = (ProtobufCBinaryData){16, id};
    ev.time_unix_nano = t;
    ev.project = S("proj-%d", (int)(i % 7));
    ev.environment = "prod";
    ev.release = S("v%d", (int)(i % 3));
    ev.sdk_name = "libflywheel";
    ev.sdk_version = "0.1.0";
    ev.schema_version = 1;
    Flywheel__V1__Event__AttributesEntry a1 = FLYWHEEL__V1__EVENT__ATTRIBUTES_ENTRY__INIT,
                                         a2 = FLYWHEEL__V1__EVENT__ATTRIBUTES_ENTRY__INIT;
    a1.key = "k";
    a1.value = S("v%llu", (unsigned long long)i);
    a2.key = "q";
    a2.value = "a\"b\\c";
    Flywheel__V1__Event__AttributesEntry *attrs[2] = {&a1, &a2};
    ev.n_attributes = 2;
    ev.attributes = attrs;
    char *tags[3] = {"t1", S("t-%d", (int)(i % 5)), "x,{y} \"z\""};
    ev.n_tags = 3;
    ev.tags = tags;

    Flywheel__V1__Generation g = FLYWHEEL__V1__GENERATION__INIT;
    Flywheel__V1__RequestParams rp = FLYWHEEL__V1__REQUEST_PARAMS__INIT;
    Flywheel__V1__Usage u = FLYWHEEL__V1__USAGE__INIT;
    Flywheel__V1__Message m_sys = FLYWHEEL__V1__MESSAGE__INIT, m_user = FLYWHEEL__V1__MESSAGE__INIT,
                          m_out = FLYWHEEL__V1__MESSAGE__INIT;
    Flywheel__V1__Part p_sys = FLYWHEEL__V1__PART__INIT, p_user = FLYWHEEL__V1__PART__INIT,
                       p_reason = FLYWHEEL__V1__PART__INIT, p_call = FLYWHEEL__V1__PART__INIT,
                       p_resp = FLYWHEEL__V1__PART__INIT, p_text = FLYWHEEL__V1__PART__INIT;
    Flywheel__V1__ToolCall tc = FLYWHEEL__V1__TOOL_CALL__INIT;
    Flywheel__V1__ToolCallResponse tr = FLYWHEEL__V1__TOOL_CALL_RESPONSE__INIT;
    Flywheel__V1__PromptTemplate pt = FLYWHEEL__V1__PROMPT_TEMPLATE__INIT;
    Flywheel__V1__PromptTemplate__VariablesEntry pv =
        FLYWHEEL__V1__PROMPT_TEMPLATE__VARIABLES_ENTRY__INIT;
    Flywheel__V1__PromptTemplate__VariablesEntry *pvs[1] = {&pv};
    Flywheel__V1__Truncation tru = FLYWHEEL__V1__TRUNCATION__INIT;
    Flywheel__V1__Feedback fb = FLYWHEEL__V1__FEEDBACK__INIT;
    Flywheel__V1__Message *in_msgs[2] = {&m_sys, &m_user}, *out_msgs[1] = {&m_out};
    Flywheel__V1__Part *sys_parts[1] = {&p_sys}, *user_parts[1] = {&p_user};
    Flywheel__V1__Part *out_parts[4] = {&p_reason, &p_call, &p_resp, &p_text};
    char *stops[1] = {"\n\n"};
    char *finish[1] = {"stop"};

    if (fwc_gen_is_feedback(i)) {
        ev.body_case = FLYWHEEL__V1__EVENT__BODY_FEEDBACK;
        ev.feedback = &fb;
        fwc_gen_event_id(i - 1, target);
        fb.target_event_id = (ProtobufCBinaryData){16, target};
        fb.target_response_id = S("resp-%llu", (unsigned long long)(i - 1));
        fb.name = "thumbs";
        if (i % 40 == 39) {
            fb.value_case = FLYWHEEL__V1__FEEDBACK__VALUE_BOOL_VALUE;
            fb.bool_value = 1;
        } else {
            fb.value_case = FLYWHEEL__V1__FEEDBACK__VALUE_NUMBER_VALUE;
            fb.number_value = 4.5;
        }
        fb.comment = "great\tjob";
        fb.source = FLYWHEEL__V1__FEEDBACK_SOURCE__FEEDBACK_SOURCE_END_USER;
        fb.author_id = S("u%llu", (unsigned long long)i);
        if (i % 60 == 59) {
            m_out.role = FLYWHEEL__V1__ROLE__ROLE_ASSISTANT;
            p_text.content_case = FLYWHEEL__V1__PART__CONTENT_TEXT;
            p_text.text = "better answer";
            Flywheel__V1__Part *cp[1] = {&p_text};
            m_out.n_parts = 1;
            m_out.parts = cp;
            fb.n_correction = 1;
            fb.correction = out_msgs;
            size_t n = flywheel__v1__event__get_packed_size(&ev);
            uint8_t *buf = malloc(n);
            flywheel__v1__event__pack(&ev, buf);
            *len = n;
            return buf;
        }
    } else {
        ev.body_case = FLYWHEEL__V1__EVENT__BODY_GENERATION;
        ev.generation = &g;
        g.trace_id = be_bytes(tid, 16, i);
        g.span_id = be_bytes(sid, 8, i);
        if (i % 2)
            g.parent_span_id = be_bytes(psid, 8, UINT64_MAX);
        g.conversation_id = S("conv-%d", (int)(i % 100));
        g.user_id = S("user-%d", (int)(i % 13));
        g.operation_name = "chat";
        g.provider_name = "openai";
        g.request_model = "gpt-4o";
        g.response_model = "gpt-4o-2024-08-06";
        g.response_id = S("resp-%llu", (unsigned long long)i);
        g.request = &rp;
        rp._temperature_case = FLYWHEEL__V1__REQUEST_PARAMS___TEMPERATURE_TEMPERATURE;
        rp.temperature = 0.2;
        if (i % 2) {
            rp._max_tokens_case = FLYWHEEL__V1__REQUEST_PARAMS___MAX_TOKENS_MAX_TOKENS;
            rp.max_tokens = (int64_t)i;
            rp.n_stop_sequences = 1;
            rp.stop_sequences = stops;
            rp._stream_case = FLYWHEEL__V1__REQUEST_PARAMS___STREAM_STREAM;
            rp.stream = 1;
        }
        if (i % 3 == 0)
            rp.extra_json = "{\"logprobs\": true}";
        else if (i % 3 == 1)
            rp.extra_json = "{bad";
        m_sys.role = FLYWHEEL__V1__ROLE__ROLE_SYSTEM;
        p_sys.content_case = FLYWHEEL__V1__PART__CONTENT_TEXT;
        p_sys.text = "You are helpful.";
        m_sys.n_parts = 1;
        m_sys.parts = sys_parts;
        m_user.role = FLYWHEEL__V1__ROLE__ROLE_USER;
        m_user.name = "alice";
        p_user.content_case = FLYWHEEL__V1__PART__CONTENT_TEXT;
        if (pad) {
            padded = malloc(pad + 128);
            int n0 = snprintf(padded, 128,
                              "line1\n\ttab \"q\" back\\slash \xc3\xa9 \xf0\x9f\x9a\x80 #%llu ",
                              (unsigned long long)i);
            for (size_t k = 0; k < pad; k++)
                padded[n0 + (int)k] =
                    "lorem ipsum dolor sit amet, consectetur adipiscing elit "[k % 56];
            padded[n0 + (int)pad] = '\0';
            p_user.text = padded;
        } else {
            p_user.text = S("line1\n\ttab \"q\" back\\slash \xc3\xa9 \xf0\x9f\x9a\x80 #%llu",
                            (unsigned long long)i);
        }
        m_user.n_parts = 1;
        m_user.parts = user_parts;
        g.n_input_messages = 2;
        g.input_messages = in_msgs;
        m_out.role = FLYWHEEL__V1__ROLE__ROLE_ASSISTANT;
        m_out.finish_reason = "stop";
        p_reason.content_case = FLYWHEEL__V1__PART__CONTENT_REASONING;
        p_reason.reasoning = S("think %llu", (unsigned long long)i);
        p_call.content_case = FLYWHEEL__V1__PART__CONTENT_TOOL_CALL;
        p_call.tool_call = &tc;
        tc.id = S("call_%llu", (unsigned long long)i);
        tc.name = "lookup";
        tc.arguments_json = (i % 2 == 0) ? S("{\"q\": %llu}", (unsigned long long)i)
                                         : S("not json %llu", (unsigned long long)i);
        p_resp.content_case = FLYWHEEL__V1__PART__CONTENT_TOOL_CALL_RESPONSE;
        p_resp.tool_call_response = &tr;
        tr.id = tc.id;
        /* A JSON response is stored parsed, any other text as a string. */
        tr.content = (i % 2 == 0) ? S("{\"temp\": %llu}", (unsigned long long)i)
                                  : S("sunny %llu", (unsigned long long)i);
        p_text.content_case = FLYWHEEL__V1__PART__CONTENT_TEXT;
        p_text.text = S("answer %llu", (unsigned long long)i);
        m_out.n_parts = 4;
        m_out.parts = out_parts;
        g.n_output_messages = 1;
        g.output_messages = out_msgs;
        if (i % 4 == 0)
            g.system_instructions = "Be brief.";
        if (i % 2 == 0)
            g.tool_definitions_json = "[{\"name\": \"lookup\"}]";
        g.n_finish_reasons = 1;
        g.finish_reasons = finish;
        g.usage = &u;
        u._input_tokens_case = FLYWHEEL__V1__USAGE___INPUT_TOKENS_INPUT_TOKENS;
        u.input_tokens = (int64_t)(i % 1000);
        u._output_tokens_case = FLYWHEEL__V1__USAGE___OUTPUT_TOKENS_OUTPUT_TOKENS;
        u.output_tokens = (int64_t)(2 * (i % 1000));
        if (i % 5 == 0) {
            u._cache_read_input_tokens_case =
                FLYWHEEL__V1__USAGE___CACHE_READ_INPUT_TOKENS_CACHE_READ_INPUT_TOKENS;
            u.cache_read_input_tokens = 7;
        }
        if (i % 2) {
            u._reasoning_output_tokens_case =
                FLYWHEEL__V1__USAGE___REASONING_OUTPUT_TOKENS_REASONING_OUTPUT_TOKENS;
            u.reasoning_output_tokens = 3;
        }
        g.cost_micro_usd = (int64_t)i * 10;
        g.start_time_unix_nano = t - 1500000000u;
        g.end_time_unix_nano = t;
        if (i % 2 == 0) {
            g._time_to_first_token_nanos_case =
                FLYWHEEL__V1__GENERATION___TIME_TO_FIRST_TOKEN_NANOS_TIME_TO_FIRST_TOKEN_NANOS;
            g.time_to_first_token_nanos = 250500000;
        }
        if (i % 10 == 0) {
            g.status = FLYWHEEL__V1__STATUS__STATUS_ERROR;
            g.error_type = "RateLimitError";
            g.error_message = "slow down";
        } else {
            g.status = FLYWHEEL__V1__STATUS__STATUS_OK;
        }
        if (i % 2 == 0) {
            g.prompt = &pt;
            pt.name = "greet";
            pt.version = "v2";
            pv.key = "name";
            pv.value = S("n%llu", (unsigned long long)i);
            pt.n_variables = 1;
            pt.variables = pvs;
        }
        if (i % 7 == 0) {
            g.truncation = &tru;
            tru.input_messages = 1;
            tru.prompt_variables = 1;
        }
    }
#undef S
    size_t n = flywheel__v1__event__get_packed_size(&ev);
    uint8_t *buf = malloc(n);
    if (buf)
        flywheel__v1__event__pack(&ev, buf);
    free(padded);
    *len = n;
    return buf;
}
