/*
 * Writes the seed corpus of the OTLP fuzz target: the requests of the unit
 * tests, each as JSON (first byte 1) and as protobuf (first byte 0).
 *   build/tests/otlp/otlp_fuzz_seed tests/otlp/fuzz_corpus
 */
#include "otlpw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const SEEDS[] = {
    "{}",
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{"
    "\"stringValue\":\"s\"}},"
    "{\"key\":\"service.version\",\"value\":{\"stringValue\":\"1\"}}]},\"scopeSpans\":[{\"scope\":{"
    "\"name\":\"x\",\"version\":\"1\"},"
    "\"spans\":[{\"traceId\":\"5b8efbf33c6a4e119d2a401c7e550b01\",\"spanId\":\"a1b2c3d4e5f60718\","
    "\"parentSpanId\":\"0102030405060708\","
    "\"name\":\"chat "
    "m\",\"kind\":3,\"startTimeUnixNano\":\"1765000000123000000\",\"endTimeUnixNano\":"
    "\"1765000001000000000\","
    "\"attributes\":[{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"chat\"}},"
    "{\"key\":\"gen_ai.request.max_tokens\",\"value\":{\"intValue\":100}},{\"key\":\"gen_ai."
    "request.temperature\",\"value\":{\"doubleValue\":0.5}},"
    "{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{\"intValue\":20}},"
    "{\"key\":\"gen_ai.input.messages\",\"value\":{\"stringValue\":\"[{\\\"role\\\":\\\"user\\\","
    "\\\"parts\\\":[{\\\"type\\\":\\\"text\\\",\\\"content\\\":\\\"hi\\\"}]}]\"}},"
    "{\"key\":\"gen_ai.output.messages\",\"value\":{\"arrayValue\":{\"values\":[{\"kvlistValue\":{"
    "\"values\":[{\"key\":\"role\",\"value\":{\"stringValue\":\"assistant\"}},"
    "{\"key\":\"parts\",\"value\":{\"arrayValue\":{\"values\":[{\"kvlistValue\":{\"values\":[{"
    "\"key\":\"type\",\"value\":{\"stringValue\":\"tool_call\"}},"
    "{\"key\":\"name\",\"value\":{\"stringValue\":\"f\"}},{\"key\":\"arguments\",\"value\":{"
    "\"kvlistValue\":{\"values\":[{\"key\":\"a\",\"value\":{\"intValue\":-1}}]}}}]}}]}}}]}}]}}}],"
    "\"events\":[{\"timeUnixNano\":\"1765000000200000000\",\"name\":\"gen_ai.choice\","
    "\"attributes\":[{\"key\":\"finish_reason\",\"value\":{\"stringValue\":\"stop\"}}]}],"
    "\"status\":{\"code\":2,\"message\":\"e\"}}]}]}]}",
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
    "\"5b8efbf33c6a4e119d2a401c7e550b01\",\"spanId\":\"a1b2c3d4e5f60719\","
    "\"startTimeUnixNano\":\"5\",\"attributes\":[{\"key\":\"llm.request.type\",\"value\":{"
    "\"stringValue\":\"chat\"}},"
    "{\"key\":\"gen_ai.prompt.0.role\",\"value\":{\"stringValue\":\"user\"}},{\"key\":\"gen_ai."
    "prompt.0.content\",\"value\":{\"stringValue\":\"q\"}},"
    "{\"key\":\"gen_ai.completion.0.tool_calls.0.name\",\"value\":{\"stringValue\":\"f\"}},"
    "{\"key\":\"gen_ai.completion.0.tool_calls.0.arguments\",\"value\":{\"stringValue\":\"{}\"}}]}]"
    "}]}]}",
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
    "\"5b8efbf33c6a4e119d2a401c7e550b01\",\"spanId\":\"a1b2c3d4e5f6071a\","
    "\"startTimeUnixNano\":\"5\",\"endTimeUnixNano\":\"9\",\"attributes\":[{\"key\":"
    "\"openinference.span.kind\",\"value\":{\"stringValue\":\"LLM\"}},"
    "{\"key\":\"llm.invocation_parameters\",\"value\":{\"stringValue\":\"{\\\"model\\\":\\\"m\\\","
    "\\\"n\\\":2}\"}},"
    "{\"key\":\"llm.input_messages.0.message.role\",\"value\":{\"stringValue\":\"user\"}},"
    "{\"key\":\"llm.input_messages.0.message.contents.0.message_content.text\",\"value\":{"
    "\"stringValue\":\"t\"}},"
    "{\"key\":\"llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments\","
    "\"value\":{\"stringValue\":\"{}\"}},"
    "{\"key\":\"llm.token_count.prompt\",\"value\":{\"intValue\":\"3\"}},{\"key\":\"llm.tools.0."
    "tool.json_schema\",\"value\":{\"stringValue\":\"{}\"}},"
    "{\"key\":\"b\",\"value\":{\"bytesValue\":\"AAEC/w==\"}}]}]}]}]}",
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: otlp_fuzz_seed DIR\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof SEEDS / sizeof SEEDS[0]; i++) {
        for (int enc = 0; enc < 2; enc++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/seed_%02zu_%s", argv[1], i, enc ? "json" : "proto");
            FILE *f = fopen(path, "wb");
            if (!f) {
                perror(path);
                return 1;
            }
            fputc(enc, f);
            if (enc) {
                fputs(SEEDS[i], f);
            } else {
                pbw w;
                otlpw_json_to_proto(SEEDS[i], &w);
                if (w.len)
                    fwrite(w.p, 1, w.len, f);
                pbw_free(&w);
            }
            if (fclose(f) != 0) {
                perror(path);
                return 1;
            }
        }
    }
    return 0;
}
