/*
 * The OpenAI chat completions wire format, both ways: the request body of
 * a case, the answer parsed out of a response, and the OpenTelemetry GenAI
 * message form (role + typed parts) the generations table stores, so that
 * an eval call is reviewed like any production call.
 */
#ifndef FW_EVAL_CHAT_H
#define FW_EVAL_CHAT_H

#include <jansson.h>

typedef struct {
    double temperature; /* < 0: not sent */
    int max_tokens;     /* 0: not sent */
    long long seed;     /* < 0: not sent */
} fw_chat_params;

/*
 * The request of a case: its input messages (with `prompt`, when given, as
 * the only system message: the case's own system messages are dropped) and
 * tools, for `model`. Returns a new object or NULL when out of memory or
 * when the line has no input messages.
 */
json_t *fw_chat_request(const json_t *line, const char *model, const char *prompt,
                        const fw_chat_params *p);

typedef struct {
    json_t *message;  /* the assistant message {"role", "content", "tool_calls"?} (owned) */
    const char *text; /* its content, "" when none (points into message) */
    const char *finish_reason, *id, *model; /* point into the parsed body (or NULL) */
    long long input_tokens, output_tokens;  /* -1 when not reported */
    json_t *root;                           /* the parsed body (owned) */
} fw_chat_answer;

/*
 * Parses a chat completions response body. Returns 0, or -1 with the
 * reason in err ("malformed response: ...") when it is not JSON or has no
 * choices[0].message. Free with fw_chat_answer_free.
 */
int fw_chat_parse(const char *body, size_t len, fw_chat_answer *a, char *err, size_t errsize);

void fw_chat_answer_free(fw_chat_answer *a);

/* OpenAI chat messages -> OpenTelemetry GenAI messages. New array or NULL. */
json_t *fw_chat_to_otel(const json_t *messages);

/* OpenAI tools ({"type":"function","function":{...}}) -> the stored flat
 * form ({"type":"function","name",...}). New array or NULL. */
json_t *fw_chat_tools_to_otel(const json_t *tools);

#endif
