/*
 * Conversion of stored messages to the chat fine-tuning shape.
 *
 * The store keeps messages as OpenTelemetry GenAI messages: a role and a list
 * of typed parts (text, tool_call, tool_call_response, reasoning). Trainers
 * read OpenAI chat messages: a role, a string content, assistant tool_calls
 * whose arguments are a JSON *string*, and one `tool` message per tool result
 * carrying the `tool_call_id` it answers. This module maps one to the other
 * and nothing else: it never rejects a conversation (the validator in
 * export_check does, with a reason), so that what is wrong is reported, not
 * guessed at.
 *
 * Mapping: developer becomes system; text parts of one message are joined
 * with "\n"; reasoning parts are dropped (trainers have no field for them);
 * every tool_call_response part becomes its own tool message; a tool call's
 * arguments are written compactly with the keys in stored order (jsonb's
 * order, which is stable), and kept as is when already a string.
 *
 * All functions build new jansson values; the caller owns what is returned.
 */
#ifndef FW_EXPORT_CONV_H
#define FW_EXPORT_CONV_H

#include <jansson.h>
#include <stddef.h>

/* weight to attach to assistant messages: none, 0 (history) or 1 (target). */
enum { FW_XW_NONE = -1 };

/*
 * Appends the chat form of the OpenTelemetry messages `otel` (an array; any
 * other value appends nothing) to the array `out`. Assistant messages get
 * "weight": weight unless weight is FW_XW_NONE. Returns 0, or -1 when out of
 * memory or when an element is not an object (out may then hold a prefix).
 */
int fw_xconv_messages(const json_t *otel, json_t *out, int weight);

/*
 * The chat messages of a generation's prompt: a system message built from
 * `system_instructions` (when non-empty and the input has no system message
 * of its own) followed by the converted input. Returns a new array or NULL.
 */
json_t *fw_xconv_prompt(const char *system_instructions, const json_t *input, int history_weight);

/*
 * The tools array in the chat fine-tuning shape
 * ({"type": "function", "function": {"name", "description", "parameters"}})
 * from stored gen_ai.tool.definitions, which may be flat
 * ({"type": "function", "name", ...}) or already nested. Returns a new array
 * (empty when `defs` is not an array) or NULL when out of memory.
 */
json_t *fw_xconv_tools(const json_t *defs);

/*
 * The text of the message at index `idx` of OpenTelemetry `otel` messages:
 * its text parts joined with "\n". Returns a new string or NULL when there is
 * no such message or it has no text.
 */
char *fw_xconv_message_text(const json_t *otel, size_t idx);

/* The text of the last user message of chat `messages`, or "" (borrowed). */
const char *fw_xconv_last_user_text(const json_t *messages);

#endif
