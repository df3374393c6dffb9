/*
 * Unit tests of the mapping from OTLP spans to flywheel.v1 generation
 * events, for every shape GenAI content arrives in. Each request is mapped
 * from its JSON encoding and from its protobuf encoding (written by the
 * tests' own encoder, otlpw.c), and the two must give byte-identical events.
 */
#include "fwtest.h"
#include "otlpw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRACE_HEX "5b8efbf33c6a4e119d2a401c7e550b01"
#define SPAN_HEX  "a1b2c3d4e5f60718"
#define START     "1765000000123000000"
#define END       "1765000001500000000"

static char *request(const char *attrs, const char *extra)
{
    static const char fmt[] =
        "{\"resourceSpans\":[{\"resource\":{\"attributes\":["
        "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"support-bot\"}},"
        "{\"key\":\"service.version\",\"value\":{\"stringValue\":\"1.4.2\"}},"
        "{\"key\":\"deployment.environment.name\",\"value\":{\"stringValue\":\"prod\"}},"
        "{\"key\":\"telemetry.sdk.name\",\"value\":{\"stringValue\":\"opentelemetry\"}},"
        "{\"key\":\"telemetry.sdk.version\",\"value\":{\"stringValue\":\"2.12.1\"}}]},"
        "\"scopeSpans\":[{\"scope\":{\"name\":\"test-scope\",\"version\":\"0.1\"},\"spans\":[{"
        "\"traceId\":\"" TRACE_HEX "\",\"spanId\":\"" SPAN_HEX
        "\",\"parentSpanId\":\"0102030405060708\","
        "\"name\":\"chat gpt-4o-mini\",\"kind\":3,\"startTimeUnixNano\":\"" START "\","
        "\"endTimeUnixNano\":\"" END "\",\"attributes\":[%s]%s}]}]}]}";
    size_t n = sizeof fmt + strlen(attrs) + strlen(extra);
    char *s = malloc(n);
    FWT_CHECK(s != NULL);
    snprintf(s, n, fmt, attrs, extra);
    return s;
}

#define S(k, v) "{\"key\":\"" k "\",\"value\":{\"stringValue\":\"" v "\"}}"
#define I(k, v) "{\"key\":\"" k "\",\"value\":{\"intValue\":" #v "}}"
#define D(k, v) "{\"key\":\"" k "\",\"value\":{\"doubleValue\":" #v "}}"

static void check_msgs(Flywheel__V1__Message *const *m, size_t n, const char *want)
{
    char *got = msgs_json(m, n);
    FWT_CHECK_MSG(strcmp(got, want) == 0, "messages\n  got:  %s\n  want: %s", got, want);
    free(got);
}

static void map1(const char *attrs, const char *extra, mapped *m)
{
    char *json = request(attrs, extra);
    fw_otlp_map_opts o = {.project = "demo"};
    map_json(json, &o, 1, m);
    free(json);
    FWT_CHECK_EQ_INT(m->n, 1);
}

/* OpenLLMetry-JS 0.27.0 as observed: current conventions, content as JSON
 * strings, tool definitions in OpenAI's nested shape. */
static void test_semconv_json_strings(void)
{
    mapped m;
    map1(
        S("gen_ai.operation.name", "chat") "," S("gen_ai.provider.name", "openai") "," S(
            "gen_ai.request.model",
            "gpt-4o-mini") "," I("gen_ai.request.max_tokens",
                                 100) "," D("gen_ai.request.temperature", 0.2) "," S("gen_ai."
                                                                                     "response."
                                                                                     "model",
                                                                                     "gpt-4o-mini-"
                                                                                     "2024-07-18") "," S("gen_ai."
                                                                                                         "response."
                                                                                                         "id",
                                                                                                         "chatcmpl-"
                                                                                                         "1") ","
                                                                                                              "{\"ke"
                                                                                                              "y\":"
                                                                                                              "\"gen"
                                                                                                              "_ai."
                                                                                                              "respo"
                                                                                                              "nse."
                                                                                                              "finis"
                                                                                                              "h_"
                                                                                                              "reaso"
                                                                                                              "ns\","
                                                                                                              "\"val"
                                                                                                              "ue\":"
                                                                                                              "{\"ar"
                                                                                                              "rayVa"
                                                                                                              "lue\""
                                                                                                              ":{"
                                                                                                              "\"val"
                                                                                                              "ues\""
                                                                                                              ":[{"
                                                                                                              "\"str"
                                                                                                              "ingVa"
                                                                                                              "lue\""
                                                                                                              ":\"to"
                                                                                                              "ol_"
                                                                                                              "call"
                                                                                                              "\"}]}"
                                                                                                              "}}"
                                                                                                              "," I("gen_ai.usage.input_tokens", 20) "," I(
                                                                                                                  "gen_ai.usage.output_tokens", 7) "," I("gen_ai.usage.total_tokens", 27) "," S("gen_ai.input.messages", "[{\\\"role\\\":\\\"user\\\",\\\"parts\\\":[{\\\"type\\\":\\\"text\\\",\\\"content\\\":\\\"Weather in Paris?\\\"}]}]") "," S("gen_ai.output.messages", "[{\\\"role\\\":\\\"assistant\\\",\\\"parts\\\":[{\\\"type\\\":\\\"tool_call\\\",\\\"id\\\":\\\"call_1\\\",\\\"name\\\":\\\"get_weather\\\",\\\"arguments\\\":{\\\"city\\\":\\\"Paris\\\"}}],\\\"finish_reason\\\":\\\"tool_call\\\"}]") "," S("gen_ai.tool.definitions",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                               "[{\\\"type\\\":\\\"function\\\",\\\"function\\\":{\\\"name\\\":\\\"get_weather\\\"}}]") "," S("gen_ai.system_instructions", "[{\\\"type\\\":\\\"text\\\",\\\"content\\\":\\\"Be terse.\\\"}]") "," S("custom.flag",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                     "on"),
        "", &m);
    const Flywheel__V1__Event *ev = m.ev[0];
    const Flywheel__V1__Generation *g = ev->generation;
    FWT_CHECK_EQ_STR(ev->project, "demo");
    FWT_CHECK_EQ_STR(ev->environment, "prod");
    FWT_CHECK_EQ_STR(ev->release, "1.4.2");
    FWT_CHECK_EQ_STR(ev->sdk_name, "opentelemetry");
    FWT_CHECK_EQ_INT(ev->schema_version, 1);
    FWT_CHECK(ev->time_unix_nano == 1765000000123000000ull);
    FWT_CHECK(g->start_time_unix_nano == 1765000000123000000ull);
    FWT_CHECK_EQ_STR(g->operation_name, "chat");
    FWT_CHECK_EQ_STR(g->provider_name, "openai");
    FWT_CHECK_EQ_STR(g->request_model, "gpt-4o-mini");
    FWT_CHECK_EQ_STR(g->response_model, "gpt-4o-mini-2024-07-18");
    FWT_CHECK_EQ_STR(g->response_id, "chatcmpl-1");
    FWT_CHECK(g->request && g->request->_max_tokens_case && g->request->max_tokens == 100);
    FWT_CHECK(g->request->_temperature_case && g->request->temperature == 0.2);
    FWT_CHECK(!g->request->_top_p_case);
    FWT_CHECK(g->usage && g->usage->_input_tokens_case && g->usage->input_tokens == 20);
    FWT_CHECK(g->usage->_output_tokens_case && g->usage->output_tokens == 7);
    FWT_CHECK(!g->usage->_cache_read_input_tokens_case);
    FWT_CHECK_EQ_INT(g->n_finish_reasons, 1);
    FWT_CHECK_EQ_STR(g->finish_reasons[0], "tool_call");
    check_msgs(g->input_messages, g->n_input_messages,
               "[{\"role\":\"user\",\"parts\":[{\"text\":\"Weather in Paris?\"}]}]");
    check_msgs(g->output_messages, g->n_output_messages,
               "[{\"role\":\"assistant\",\"finish_reason\":\"tool_call\",\"parts\":[{\"tool_call\":"
               "[\"call_1\",\"get_weather\",\"{\\\"city\\\":\\\"Paris\\\"}\"]}]}]");
    FWT_CHECK_EQ_STR(g->tool_definitions_json,
                     "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}]");
    FWT_CHECK_EQ_STR(g->system_instructions, "Be terse.");
    FWT_CHECK_EQ_INT(g->trace_id.len, 16);
    FWT_CHECK_EQ_INT(g->parent_span_id.len, 8);
    FWT_CHECK_EQ_INT(g->status, FLYWHEEL__V1__STATUS__STATUS_UNSET);
    /* Unmapped attributes are kept, mapped ones are not repeated. */
    FWT_CHECK_EQ_STR(ev_attr(ev, "custom.flag"), "on");
    FWT_CHECK_EQ_STR(ev_attr(ev, "gen_ai.usage.total_tokens"), "27");
    FWT_CHECK_EQ_STR(ev_attr(ev, "resource.service.name"), "support-bot");
    FWT_CHECK_EQ_STR(ev_attr(ev, "otel.span.name"), "chat gpt-4o-mini");
    FWT_CHECK_EQ_STR(ev_attr(ev, "otel.scope.name"), "test-scope");
    FWT_CHECK(ev_attr(ev, "gen_ai.input.messages") == NULL);
    FWT_CHECK(ev_attr(ev, "gen_ai.request.model") == NULL);
    FWT_CHECK(ev_attr(ev, "resource.service.version") == NULL);
    FWT_CHECK_EQ_INT(m.st.generations, 1);
    mapped_free(&m);
}

/* The same content as structured values (arrays of kvlists), as the
 * conventions recommend: the same messages. */
static void test_semconv_structured(void)
{
    mapped m;
    map1(S("gen_ai.operation.name",
           "chat") ","
                   "{\"key\":\"gen_ai.input.messages\",\"value\":{\"arrayValue\":{\"values\":[{"
                   "\"kvlistValue\":{\"values\":["
                   "{\"key\":\"role\",\"value\":{\"stringValue\":\"user\"}},"
                   "{\"key\":\"parts\",\"value\":{\"arrayValue\":{\"values\":[{\"kvlistValue\":{"
                   "\"values\":["
                   "{\"key\":\"type\",\"value\":{\"stringValue\":\"text\"}},"
                   "{\"key\":\"content\",\"value\":{\"stringValue\":\"Weather in "
                   "Paris?\"}}]}}]}}}]}}]}}},"
                   "{\"key\":\"gen_ai.output.messages\",\"value\":{\"arrayValue\":{\"values\":[{"
                   "\"kvlistValue\":{\"values\":["
                   "{\"key\":\"role\",\"value\":{\"stringValue\":\"assistant\"}},"
                   "{\"key\":\"finish_reason\",\"value\":{\"stringValue\":\"tool_call\"}},"
                   "{\"key\":\"parts\",\"value\":{\"arrayValue\":{\"values\":[{\"kvlistValue\":{"
                   "\"values\":["
                   "{\"key\":\"type\",\"value\":{\"stringValue\":\"tool_call\"}},"
                   "{\"key\":\"id\",\"value\":{\"stringValue\":\"call_1\"}},"
                   "{\"key\":\"name\",\"value\":{\"stringValue\":\"get_weather\"}},"
                   "{\"key\":\"arguments\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":"
                   "\"city\",\"value\":{\"stringValue\":\"Paris\"}}]}}}"
                   "]}},{\"kvlistValue\":{\"values\":[{\"key\":\"type\",\"value\":{\"stringValue\":"
                   "\"image\"}}]}}]}}}]}}]}}}",
         "", &m);
    const Flywheel__V1__Generation *g = m.ev[0]->generation;
    check_msgs(g->input_messages, g->n_input_messages,
               "[{\"role\":\"user\",\"parts\":[{\"text\":\"Weather in Paris?\"}]}]");
    check_msgs(g->output_messages, g->n_output_messages,
               "[{\"role\":\"assistant\",\"finish_reason\":\"tool_call\",\"parts\":[{\"tool_call\":"
               "[\"call_1\",\"get_weather\",\"{\\\"city\\\":\\\"Paris\\\"}\"]}]}]");
    /* No usage on the span: none in the event (NULL in the row, never 0). */
    FWT_CHECK(g->usage == NULL);
    FWT_CHECK(g->request == NULL);
    /* The finish reason comes from the output message. */
    FWT_CHECK_EQ_INT(g->n_finish_reasons, 1);
    /* A part with no flywheel.v1 form is kept aside. */
    FWT_CHECK_EQ_STR(ev_attr(m.ev[0], "otel.unmapped_parts"), "[{\"type\":\"image\"}]");
    mapped_free(&m);
}

/* The operation.details event and the deprecated message events. */
static void test_events(void)
{
    mapped m;
    map1(
        S("gen_ai.operation.name", "chat") "," S("gen_ai.request.model", "m1"),
        ",\"events\":[{\"timeUnixNano\":\"" START
        "\",\"name\":\"gen_ai.client.inference.operation.details\","
        "\"attributes\":[" S(
            "gen_ai.input.messages",
            "[{\\\"role\\\":\\\"user\\\",\\\"parts\\\":[{\\\"type\\\":\\\"text\\\",\\\"content\\\":"
            "\\\"hi\\\"}]}]") "," S("gen_ai.output.messages",
                                    "[{\\\"role\\\":\\\"assistant\\\",\\\"parts\\\":[{\\\"type\\\":"
                                    "\\\"text\\\",\\\"content\\\":\\\"hello\\\"}]}]") "]}]",
        &m);
    const Flywheel__V1__Generation *g = m.ev[0]->generation;
    check_msgs(g->input_messages, g->n_input_messages,
               "[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}]");
    check_msgs(g->output_messages, g->n_output_messages,
               "[{\"role\":\"assistant\",\"parts\":[{\"text\":\"hello\"}]}]");
    mapped_free(&m);

    map1(
        S("gen_ai.system", "openai") "," S("gen_ai.operation.name", "chat"),
        ",\"events\":["
        "{\"name\":\"gen_ai.system.message\",\"attributes\":[" S(
            "content",
            "Be brief.") "]},"
                         "{\"name\":\"gen_ai.user.message\",\"attributes\":[" S(
                             "content",
                             "Weather?") "]},"
                                         "{\"name\":\"gen_ai.assistant.message\",\"attributes\":"
                                         "[" S(
                                             "tool_calls",
                                             "[{\\\"id\\\":\\\"c1\\\",\\\"type\\\":"
                                             "\\\"function\\\",\\\"function\\\":{\\\"name\\\":"
                                             "\\\"get_weather\\\",\\\"arguments\\\":\\\"{"
                                             "\\\\\\\"city\\\\\\\":\\\\\\\"Paris\\\\\\\"}\\\"}}"
                                             "]") "]},"
                                                  "{\"name\":\"gen_ai.tool.message\","
                                                  "\"attributes\":[" S("id", "c1") "," S(
                                                      "content",
                                                      "18C") "]},"
                                                             "{\"name\":\"gen_ai.choice\","
                                                             "\"attributes\":[" I("index", 0) "," S(
                                                                 "finish_reason",
                                                                 "stop") ","
                                                                         "{\"key\":"
                                                                         "\"message\","
                                                                         "\"value\":{"
                                                                         "\"kvlistValue"
                                                                         "\":{"
                                                                         "\"values\":"
                                                                         "[" S(
                                                                             "role",
                                                                             "assistan"
                                                                             "t") "," S("content",
                                                                                        "Sunny, "
                                                                                        "18C.") "]"
                                                                                                "}"
                                                                                                "}"
                                                                                                "}"
                                                                                                "]"
                                                                                                "}"
                                                                                                "]",
        &m);
    g = m.ev[0]->generation;
    FWT_CHECK_EQ_STR(g->provider_name, "openai");
    check_msgs(g->input_messages, g->n_input_messages,
               "[{\"role\":\"system\",\"parts\":[{\"text\":\"Be brief.\"}]},"
               "{\"role\":\"user\",\"parts\":[{\"text\":\"Weather?\"}]},"
               "{\"role\":\"assistant\",\"parts\":[{\"tool_call\":[\"c1\",\"get_weather\",\"{"
               "\\\"city\\\":\\\"Paris\\\"}\"]}]},"
               "{\"role\":\"tool\",\"parts\":[{\"tool_call_response\":[\"c1\",\"18C\"]}]}]");
    check_msgs(g->output_messages, g->n_output_messages,
               "[{\"role\":\"assistant\",\"finish_reason\":\"stop\",\"parts\":[{\"text\":\"Sunny, "
               "18C.\"}]}]");
    FWT_CHECK_EQ_INT(g->n_finish_reasons, 1);
    FWT_CHECK_EQ_STR(g->finish_reasons[0], "stop");
    mapped_free(&m);
}

/* OpenLLMetry's indexed attributes (before 2026-03), with a non-numeric key
 * and tool calls whose arguments are strings. */
static void test_openllmetry_indexed(void)
{
    mapped m;
    map1(S("llm.request.type",
           "chat") "," S("gen_ai.system",
                         "openai") "," S("gen_ai.request.model",
                                         "gpt-4o") "," I("gen_ai.usage.prompt_tokens",
                                                         31) "," I("gen_ai.usage.completion_tokens",
                                                                   9) "," I("llm.usage.total_"
                                                                            "tokens",
                                                                            40) "," I("gen_ai."
                                                                                      "usage.cache_"
                                                                                      "read_input_"
                                                                                      "tokens",
                                                                                      4) "," D("llm"
                                                                                               ".fr"
                                                                                               "equ"
                                                                                               "enc"
                                                                                               "y_"
                                                                                               "pen"
                                                                                               "alt"
                                                                                               "y",
                                                                                               0.5) ","
                                                                                                    "{\"key\":\"gen_ai.is_streaming\",\"value\":{\"boolValue\":false}}," S("gen_ai.prompt.0.role", "system") "," S("gen_ai.prompt.0.content", "Be brief.") "," S("gen_ai.prompt.1.role", "user") "," S("gen_ai.prompt.1.content", "[{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"Weather?\\\"}]") "," S("gen_ai.prompt.prompt_filter_results",
                                                                                                                                                                                                                                                                                                                                                                                                       "[]") "," S("gen_ai.prompt.10.role",
                                                                                                                                                                                                                                                                                                                                                                                                                   "tool") "," S("gen_ai.prompt.10.tool_call_id",
                                                                                                                                                                                                                                                                                                                                                                                                                                 "c0") "," S("gen_ai.prompt.10.content",
                                                                                                                                                                                                                                                                                                                                                                                                                                             "late") "," S("gen_ai.completion.0.role",
                                                                                                                                                                                                                                                                                                                                                                                                                                                           "assistant") "," S("gen_ai.completion.0.finish_reason", "tool_calls") "," S("gen_ai.completion.0.tool_calls.0.id", "c1") "," S("gen_ai.completion.0.tool_calls.0.name",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                          "get_weather") "," S("gen_ai.completion.0.tool_calls.0.arguments",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                               "{\\\"city\\\": \\\"Paris\\\"}") "," S("llm.request.functions.0.name",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                      "get_weather") "," S("llm.request.functions.0.parameters",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                           "{\\\"type\\\":\\\"object\\\"}") "," S("traceloop.association.properties.user_id", "u-7") "," S("traceloop.prompt.key", "weather") "," S("traceloop.prompt.version", "3") "," S("traceloop.prompt.template_variables",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                           "{\\\"city\\\":\\\"Paris\\\"}"),
         "", &m);
    const Flywheel__V1__Generation *g = m.ev[0]->generation;
    FWT_CHECK_EQ_STR(g->operation_name, "chat");
    FWT_CHECK_EQ_STR(g->provider_name, "openai");
    check_msgs(g->input_messages, g->n_input_messages,
               "[{\"role\":\"system\",\"parts\":[{\"text\":\"Be brief.\"}]},"
               "{\"role\":\"user\",\"parts\":[{\"text\":\"Weather?\"}]},"
               "{\"role\":\"tool\",\"parts\":[{\"tool_call_response\":[\"c0\",\"late\"]}]}]");
    /* Arguments kept as sent, spaces included. */
    check_msgs(
        g->output_messages, g->n_output_messages,
        "[{\"role\":\"assistant\",\"finish_reason\":\"tool_calls\",\"parts\":[{\"tool_call\":"
        "[\"c1\",\"get_weather\",\"{\\\"city\\\": \\\"Paris\\\"}\"]}]}]");
    FWT_CHECK(g->usage->input_tokens == 31 && g->usage->output_tokens == 9);
    FWT_CHECK(g->usage->_cache_read_input_tokens_case && g->usage->cache_read_input_tokens == 4);
    FWT_CHECK(g->request->_frequency_penalty_case && g->request->frequency_penalty == 0.5);
    FWT_CHECK(g->request->_stream_case && g->request->stream == 0);
    FWT_CHECK_EQ_STR(
        g->tool_definitions_json,
        "[{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\"},\"type\":\"function\"}]");
    FWT_CHECK_EQ_STR(g->user_id, "u-7");
    FWT_CHECK(g->prompt != NULL);
    FWT_CHECK_EQ_STR(g->prompt->name, "weather");
    FWT_CHECK_EQ_STR(g->prompt->version, "3");
    FWT_CHECK_EQ_INT(g->prompt->n_variables, 1);
    FWT_CHECK_EQ_STR(g->prompt->variables[0]->value, "Paris");
    FWT_CHECK_EQ_STR(g->finish_reasons[0], "tool_calls");
    /* The indexed content is taken, prompt_filter_results included. */
    FWT_CHECK(ev_attr(m.ev[0], "gen_ai.prompt.prompt_filter_results") == NULL);
    FWT_CHECK(ev_attr(m.ev[0], "gen_ai.prompt.0.content") == NULL);
    FWT_CHECK_EQ_STR(ev_attr(m.ev[0], "llm.usage.total_tokens"), "40");
    mapped_free(&m);
}

/* OpenInference-JS 4.2.7 as observed, with a multimodal message. */
static void test_openinference(void)
{
    mapped m;
    map1(
        S("openinference.span.kind", "LLM") "," S("llm.system", "openai") "," S("llm.model_name", "gpt-4o-mini-2024-07-18") "," S(
            "llm.invocation_parameters",
            "{\\\"model\\\":\\\"gpt-4o-mini\\\",\\\"temperature\\\":0,\\\"tools\\\":[1],"
            "\\\"stream\\\":false}") "," S("llm.input_messages.0.message.role",
                                           "user") "," S("llm."
                                                         "inpu"
                                                         "t_"
                                                         "mess"
                                                         "ages"
                                                         ".0."
                                                         "mess"
                                                         "age."
                                                         "cont"
                                                         "ents"
                                                         ".0."
                                                         "mess"
                                                         "age_"
                                                         "cont"
                                                         "ent."
                                                         "typ"
                                                         "e",
                                                         "tex"
                                                         "t") "," S("llm.input_messages.0.message."
                                                                    "contents.0.message_content."
                                                                    "text",
                                                                    "What is here?") "," S("llm."
                                                                                           "input_"
                                                                                           "message"
                                                                                           "s.0."
                                                                                           "message"
                                                                                           ".conten"
                                                                                           "ts.1."
                                                                                           "message"
                                                                                           "_conten"
                                                                                           "t.type",
                                                                                           "image") "," S("llm.input_messages.0.message.contents.1.message_content.image.image.url",
                                                                                                          "https://x/y.png") "," S("llm.output_messages.0.message.role",
                                                                                                                                   "assistant") "," S("llm.output_messages.0.message.tool_calls.0.tool_call.id", "call_9") "," S("llm.output_messages.0.message.tool_calls.0.tool_call.function.name", "get_weather") "," S("llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments", "{\\\"city\\\":\\\"Paris\\\"}") "," S("llm.tools.0.tool.json_schema", "{\\\"type\\\":\\\"function\\\",\\\"function\\\":{\\\"name\\\":\\\"get_weather\\\"}}") "," S("llm.finish_reason",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                          "tool_calls") "," I("llm.token_count.prompt", 20) "," I("llm.token_count.completion", 7) "," I("llm.token_count.total",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                         27) "," I("llm.token_count.prompt_details.cache_read", 4) "," S("session.id",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                         "s-1") "," S("input.value",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                      "{}") ","
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                            "{\"key\":\"tag.tags\",\"value\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"beta\"}]}}}",
        ",\"status\":{\"code\":1}", &m);
    const Flywheel__V1__Event *ev = m.ev[0];
    const Flywheel__V1__Generation *g = ev->generation;
    FWT_CHECK_EQ_STR(g->operation_name, "chat");
    FWT_CHECK_EQ_STR(g->provider_name, "openai");
    FWT_CHECK_EQ_STR(g->request_model, "gpt-4o-mini");
    FWT_CHECK_EQ_STR(g->response_model, "gpt-4o-mini-2024-07-18");
    FWT_CHECK(g->request->_temperature_case && g->request->temperature == 0);
    FWT_CHECK(g->request->_stream_case && !g->request->stream);
    FWT_CHECK_EQ_STR(g->request->extra_json, "{\"tools\":[1]}");
    check_msgs(g->input_messages, g->n_input_messages,
               "[{\"role\":\"user\",\"parts\":[{\"text\":\"What is here?\"}]}]");
    check_msgs(g->output_messages, g->n_output_messages,
               "[{\"role\":\"assistant\",\"parts\":[{\"tool_call\":[\"call_9\",\"get_weather\",\"{"
               "\\\"city\\\":\\\"Paris\\\"}\"]}]}]");
    FWT_CHECK(ev_attr(ev, "otel.unmapped_parts") != NULL &&
              strstr(ev_attr(ev, "otel.unmapped_parts"), "https://x/y.png") != NULL);
    FWT_CHECK(g->usage->input_tokens == 20 && g->usage->output_tokens == 7 &&
              g->usage->cache_read_input_tokens == 4 && !g->usage->_reasoning_output_tokens_case);
    FWT_CHECK_EQ_STR(g->tool_definitions_json,
                     "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}]");
    FWT_CHECK_EQ_STR(g->finish_reasons[0], "tool_calls");
    FWT_CHECK_EQ_STR(g->session_id, "s-1");
    FWT_CHECK_EQ_INT(g->status, FLYWHEEL__V1__STATUS__STATUS_OK);
    FWT_CHECK_EQ_INT(ev->n_tags, 1);
    FWT_CHECK_EQ_STR(ev->tags[0], "beta");
    FWT_CHECK_EQ_STR(ev_attr(ev, "input.value"), "{}");
    mapped_free(&m);
}

/* Where sources disagree, the current conventions win; errors and time to
 * first token. */
static void test_precedence_and_errors(void)
{
    mapped m;
    map1(
        S("gen_ai.operation.name", "chat") "," I("llm.token_count.prompt", 99) "," I(
            "gen_ai.usage.input_tokens",
            10) "," I("gen_ai.usage.output_tokens",
                      -3) "," S("gen_ai.provider.name",
                                "anthropic") "," S("gen_ai.system",
                                                   "openai") "," S("llm.input_messages.0.message."
                                                                   "role",
                                                                   "user") "," S("llm.input_"
                                                                                 "messages.0."
                                                                                 "message.content",
                                                                                 "OI") "," S("gen_"
                                                                                             "ai."
                                                                                             "prom"
                                                                                             "pt."
                                                                                             "0."
                                                                                             "rol"
                                                                                             "e",
                                                                                             "use"
                                                                                             "r") "," S("gen_ai.prompt.0.content",
                                                                                                        "OLL") "," D("gen_ai.response.time_to_first_chunk",
                                                                                                                     0.25) "," I("gen_ai.request.seed",
                                                                                                                                 -7) "," S("error.type",
                                                                                                                                           "RateLimitError"),
        ",\"status\":{\"code\":2,\"message\":\"429 from provider\"},"
        "\"events\":[{\"name\":\"exception\",\"attributes\":[" S("exception.type", "Other") "]}]",
        &m);
    const Flywheel__V1__Generation *g = m.ev[0]->generation;
    FWT_CHECK(g->usage->input_tokens == 10);
    /* A negative count is not a count: absent, and the attribute is kept. */
    FWT_CHECK(!g->usage->_output_tokens_case);
    FWT_CHECK_EQ_STR(ev_attr(m.ev[0], "gen_ai.usage.output_tokens"), "-3");
    FWT_CHECK_EQ_STR(g->provider_name, "anthropic");
    check_msgs(g->input_messages, g->n_input_messages,
               "[{\"role\":\"user\",\"parts\":[{\"text\":\"OLL\"}]}]");
    FWT_CHECK(ev_attr(m.ev[0], "llm.input_messages.0.message.content") == NULL);
    FWT_CHECK(g->_time_to_first_token_nanos_case && g->time_to_first_token_nanos == 250000000);
    FWT_CHECK(g->request->_seed_case && g->request->seed == -7);
    FWT_CHECK_EQ_INT(g->status, FLYWHEEL__V1__STATUS__STATUS_ERROR);
    FWT_CHECK_EQ_STR(g->error_type, "RateLimitError");
    FWT_CHECK_EQ_STR(g->error_message, "429 from provider");
    mapped_free(&m);
}

/* Which spans are generations; rejected spans; several spans. */
static void test_selection(void)
{
    const char *json =
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":["
        "{\"traceId\":\"" TRACE_HEX "\",\"spanId\":\"0000000000000001\",\"name\":\"GET "
        "/\",\"startTimeUnixNano\":\"1\",\"attributes\":[" S(
            "http.method",
            "GET") "]},"
                   "{\"traceId\":\"" TRACE_HEX
                   "\",\"spanId\":\"0000000000000002\",\"name\":\"tool\",\"startTimeUnixNano\":"
                   "\"1\",\"attributes\":[" S("gen_ai.operation.name", "execute_tool") "," S(
                       "gen_ai.request.model",
                       "x") "]},"
                            "{\"traceId\":\"" TRACE_HEX
                            "\",\"spanId\":\"0000000000000003\",\"name\":\"emb\","
                            "\"startTimeUnixNano\":\"1\",\"attributes\":[" S(
                                "gen_ai.operation.name",
                                "embeddings") "]},"
                                              "{\"traceId\":\"" TRACE_HEX
                                              "\",\"spanId\":\"0000000000000004\",\"name\":"
                                              "\"fallback\",\"startTimeUnixNano\":\"5000000\","
                                              "\"attributes\":[" S(
                                                  "gen_ai.request.model",
                                                  "m") "]},"
                                                       "{\"traceId\":"
                                                       "\"00000000000000000000000000000000\","
                                                       "\"spanId\":\"0000000000000005\",\"name\":"
                                                       "\"zero\",\"startTimeUnixNano\":\"1\","
                                                       "\"attributes\":[" S(
                                                           "gen_ai.operation.name",
                                                           "chat") "]},"
                                                                   "{\"traceId\":\"" TRACE_HEX
                                                                   "\",\"spanId\":"
                                                                   "\"0000000000000006\",\"name\":"
                                                                   "\"notime\",\"attributes\":[" S(
                                                                       "gen_ai.operation.name",
                                                                       "chat") "]},"
                                                                               "{\"traceId\":"
                                                                               "\"" TRACE_HEX
                                                                               "\",\"spanId\":"
                                                                               "\"0000000000000007"
                                                                               "\",\"name\":"
                                                                               "\"agent\","
                                                                               "\"startTimeUnixNano"
                                                                               "\":\"1\","
                                                                               "\"attributes\":[" S(
                                                                                   "openinference."
                                                                                   "span.kind",
                                                                                   "AGENT") "," S("llm.model_name",
                                                                                                  "x") "]}"
                                                                                                       "]}]}]}";
    mapped m;
    map_json(json, NULL, 1, &m);
    FWT_CHECK_EQ_INT(m.st.spans, 7);
    FWT_CHECK_EQ_INT(m.st.skipped, 3);
    FWT_CHECK_EQ_INT(m.st.rejected, 2);
    FWT_CHECK(strstr(m.st.first_error, "all-zero") != NULL);
    FWT_CHECK_EQ_INT(m.n, 2);
    FWT_CHECK_EQ_STR(m.ev[0]->generation->operation_name, "embeddings");
    FWT_CHECK_EQ_STR(m.ev[1]->generation->operation_name, "");
    /* No end time: end = start, and it says so. */
    FWT_CHECK(m.ev[1]->generation->end_time_unix_nano == 5000000);
    FWT_CHECK_EQ_STR(ev_attr(m.ev[1], "otel.end_time"), "missing");
    mapped_free(&m);
}

/* Unmapped attributes are capped per value and in total. */
static void test_caps(void)
{
    char attrs[20000] = S("gen_ai.operation.name", "chat");
    size_t n = strlen(attrs);
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(attrs + n, sizeof attrs - n,
                              ",{\"key\":\"k%02d\",\"value\":{\"stringValue\":\"%0300d\"}}", i, i);
    char *json = request(attrs, "");
    fw_otlp_map_opts o = {.project = "p", .max_attribute_bytes = 100, .max_attributes_bytes = 2000};
    mapped m;
    map_json(json, &o, 1, &m);
    free(json);
    FWT_CHECK_EQ_INT(m.n, 1);
    const char *v = ev_attr(m.ev[0], "k00");
    FWT_CHECK(v && strlen(v) == 100);
    const char *dropped = ev_attr(m.ev[0], "otel.dropped_attributes");
    FWT_CHECK(dropped != NULL && strtol(dropped, NULL, 10) > 0);
    size_t total = 0;
    for (size_t i = 0; i < m.ev[0]->n_attributes; i++)
        total += strlen(m.ev[0]->attributes[i]->key) + strlen(m.ev[0]->attributes[i]->value);
    FWT_CHECK(total <= 2000 + 64);
    mapped_free(&m);
}

/* The event id: from (trace id, span id) and the start time only. */
static void test_event_id(void)
{
    uint8_t t[16] = {1, 2, 3}, s[8] = {4, 5, 6}, a[16], b[16], c[16], d[16];
    fw_otlp_event_id(t, s, 1765000000123456789ull, a);
    fw_otlp_event_id(t, s, 1765000000123999999ull, b); /* same millisecond */
    FWT_CHECK(memcmp(a, b, 16) == 0);
    FWT_CHECK_EQ_INT(a[6] >> 4, 7);
    FWT_CHECK_EQ_INT(a[8] >> 6, 2);
    uint64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = ms << 8 | a[i];
    FWT_CHECK(ms == 1765000000123ull);
    s[7] = 1;
    fw_otlp_event_id(t, s, 1765000000123456789ull, c);
    FWT_CHECK(memcmp(a, c, 16) != 0);
    FWT_CHECK(memcmp(a, c, 6) == 0);
    fw_otlp_event_id(t, s, 1765000000999000000ull, d);
    FWT_CHECK(memcmp(c + 6, d + 6, 10) == 0 && memcmp(c, d, 6) != 0);

    /* A retry with a corrected end time maps to the same id. */
    mapped m1, m2;
    char *j1 = request(S("gen_ai.operation.name", "chat"), "");
    map_json(j1, NULL, 0, &m1);
    char *p = strstr(j1, END);
    memcpy(p, "1765000009", 10);
    map_json(j1, NULL, 0, &m2);
    FWT_CHECK(m1.ev[0]->generation->end_time_unix_nano != m2.ev[0]->generation->end_time_unix_nano);
    FWT_CHECK(m1.ev[0]->time_unix_nano == m2.ev[0]->time_unix_nano);
    FWT_CHECK(memcmp(m1.ev[0]->event_id.data, m2.ev[0]->event_id.data, 16) == 0);
    free(j1);
    mapped_free(&m1);
    mapped_free(&m2);
}

int main(void)
{
    test_semconv_json_strings();
    test_semconv_structured();
    test_events();
    test_openllmetry_indexed();
    test_openinference();
    test_precedence_and_errors();
    test_selection();
    test_caps();
    test_event_id();
    return 0;
}
