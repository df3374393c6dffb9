/*
 * The exporter's own validation of each line against its target format,
 * run on every line before it is written. A line that fails is not written;
 * its reason (a stable snake_case code) is counted in the manifest.
 *
 * Chat rules (every conversation in every format): a non-empty array of
 * objects whose role is system, user, assistant or tool; system only at the
 * start; the first other message a user message; user and system content a
 * non-empty string; an assistant message has non-empty content or tool calls;
 * every tool call has an id, type "function", a name, and arguments that are
 * a string holding valid JSON; every tool message answers an earlier,
 * unanswered tool call by its tool_call_id; tool calls are answered before
 * the next user or assistant message; weight, when present, is 0 or 1.
 * Format rules on top: SFT (openai-chat, reward) ends with an assistant
 * message; preference outputs are non-empty lists of assistant messages and
 * differ; the TRL prompt does not end with an assistant message; eval has an
 * id and a non-empty expected output; classifier lines have a non-empty text
 * and label. The optional token estimate is bytes of text / 4.
 */
#ifndef FW_EXPORT_CHECK_H
#define FW_EXPORT_CHECK_H

#include "flywheel/store.h"

#include <jansson.h>

/*
 * Validates one line. Returns NULL when it is valid, else the reason code (a
 * static string). max_tokens ≤ 0 disables the token estimate.
 */
const char *fw_xcheck_line(fw_xfmt fmt, const json_t *line, long max_tokens);

/* Validates one chat conversation; need_assistant_last for SFT. */
const char *fw_xcheck_chat(const json_t *messages, int need_assistant_last);

#endif
