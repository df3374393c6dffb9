/*
 * Line validation for each export format; the rules are listed in
 * export_check.h. Reasons are stable codes because they are keys of the
 * manifest's "rejected" object, which people compare across versions.
 */
#include "export_check.h"

#include "export_json.h"

#include <stdint.h>
#include <string.h>

int fw_xfmt_parse(const char *format, const char *style, fw_xfmt *out)
{
    int trl = style && strcmp(style, "trl") == 0;
    if (style && !trl && strcmp(style, "openai") != 0)
        return -1;
    if (strcmp(format, "openai-chat") == 0 && !trl)
        *out = FW_XFMT_OPENAI_CHAT;
    else if (strcmp(format, "preference") == 0)
        *out = trl ? FW_XFMT_PREFERENCE_TRL : FW_XFMT_PREFERENCE;
    else if (strcmp(format, "eval") == 0 && !trl)
        *out = FW_XFMT_EVAL;
    else if (strcmp(format, "classifier") == 0 && !trl)
        *out = FW_XFMT_CLASSIFIER;
    else if (strcmp(format, "reward") == 0 && !trl)
        *out = FW_XFMT_REWARD;
    else
        return -1;
    return 0;
}

const char *fw_xfmt_name(fw_xfmt f)
{
    static const char *const names[] = {"openai-chat", "preference", "preference",
                                        "eval",        "classifier", "reward"};
    return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "?";
}

static int nonempty_string(const json_t *v)
{
    return json_is_string(v) && json_string_length(v) > 0;
}

static const char *check_tool_call(const json_t *call)
{
    const json_t *fn = json_object_get(call, "function");
    if (!nonempty_string(json_object_get(call, "id")))
        return "tool_call_without_id";
    const char *type = json_string_value(json_object_get(call, "type"));
    if (!type || strcmp(type, "function") != 0 || !json_is_object(fn) ||
        !nonempty_string(json_object_get(fn, "name")))
        return "tool_call_without_name";
    const json_t *args = json_object_get(fn, "arguments");
    if (!json_is_string(args))
        return "tool_arguments_not_string";
    if (!fw_xjson_valid(json_string_value(args), json_string_length(args)))
        return "tool_arguments_invalid_json";
    return NULL;
}

/* Pending tool call ids: a small list scanned linearly (calls per turn are few). */
#define MAX_PENDING 64

const char *fw_xcheck_chat(const json_t *messages, int need_assistant_last)
{
    const char *pending[MAX_PENDING];
    size_t npending = 0, i;
    const json_t *m;
    int seen_other = 0;

    if (!json_is_array(messages) || json_array_size(messages) == 0)
        return "no_messages";
    json_array_foreach(messages, i, m)
    {
        if (!json_is_object(m))
            return "message_not_object";
        const char *role = json_string_value(json_object_get(m, "role"));
        const json_t *content = json_object_get(m, "content");
        const json_t *w = json_object_get(m, "weight");
        if (!role)
            return "missing_role";
        if (w &&
            !(json_is_integer(w) && (json_integer_value(w) == 0 || json_integer_value(w) == 1)))
            return "invalid_weight";
        if (strcmp(role, "system") == 0) {
            if (seen_other || i > 0)
                return "system_not_first";
            if (!nonempty_string(content))
                return "empty_content";
            continue;
        }
        if (!seen_other && strcmp(role, "user") != 0)
            return "first_not_user";
        seen_other = 1;
        if (strcmp(role, "tool") == 0) {
            const char *id = json_string_value(json_object_get(m, "tool_call_id"));
            size_t k;
            if (!id)
                return "tool_response_without_call";
            for (k = 0; k < npending; k++)
                if (strcmp(pending[k], id) == 0)
                    break;
            if (k == npending)
                return "tool_response_without_call";
            pending[k] = pending[--npending];
            if (!json_is_string(content))
                return "empty_content";
            continue;
        }
        if (npending > 0)
            return "tool_call_unanswered";
        if (strcmp(role, "user") == 0) {
            if (!nonempty_string(content))
                return "empty_content";
        } else if (strcmp(role, "assistant") == 0) {
            const json_t *calls = json_object_get(m, "tool_calls");
            size_t j;
            const json_t *c;
            if (!nonempty_string(content) && json_array_size(calls) == 0)
                return "empty_content";
            if (content && !json_is_string(content))
                return "empty_content";
            json_array_foreach(calls, j, c)
            {
                const char *why = check_tool_call(c);
                if (why)
                    return why;
                if (npending == MAX_PENDING)
                    return "too_many_tool_calls";
                pending[npending++] = json_string_value(json_object_get(c, "id"));
            }
        } else {
            return "unknown_role";
        }
    }
    if (need_assistant_last) {
        const char *last = json_string_value(
            json_object_get(json_array_get(messages, json_array_size(messages) - 1), "role"));
        if (!last || strcmp(last, "assistant") != 0)
            return "last_not_assistant";
    }
    return NULL;
}

/* Output lists (preference, eval): non-empty, assistant messages only. */
static const char *check_outputs(const json_t *out)
{
    size_t i;
    const json_t *m;
    if (!json_is_array(out) || json_array_size(out) == 0)
        return "empty_output";
    json_array_foreach(out, i, m)
    {
        const char *role = json_string_value(json_object_get(m, "role"));
        if (!role || strcmp(role, "assistant") != 0)
            return "output_not_assistant";
        if (!nonempty_string(json_object_get(m, "content")) &&
            json_array_size(json_object_get(m, "tool_calls")) == 0)
            return "empty_content";
        size_t j;
        const json_t *c;
        json_array_foreach(json_object_get(m, "tool_calls"), j, c)
        {
            const char *why = check_tool_call(c);
            if (why)
                return why;
        }
    }
    return NULL;
}

static size_t text_bytes(const json_t *v)
{
    size_t n = 0;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_length(v);
    case JSON_ARRAY: {
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x) n += text_bytes(x);
        return n;
    }
    case JSON_OBJECT: {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)(uintptr_t)v, k, x) n += text_bytes(x);
        return n;
    }
    default:
        return 0;
    }
}

static const char *check_prompt_ends(const json_t *prompt)
{
    const char *last = json_string_value(
        json_object_get(json_array_get(prompt, json_array_size(prompt) - 1), "role"));
    if (last && strcmp(last, "assistant") == 0)
        return "prompt_ends_with_assistant";
    return NULL;
}

const char *fw_xcheck_line(fw_xfmt fmt, const json_t *line, long max_tokens)
{
    const char *why = NULL;
    if (!json_is_object(line))
        return "line_not_object";
    switch (fmt) {
    case FW_XFMT_OPENAI_CHAT:
        why = fw_xcheck_chat(json_object_get(line, "messages"), 1);
        break;
    case FW_XFMT_REWARD: {
        const json_t *s = json_object_get(line, "score");
        why = fw_xcheck_chat(json_object_get(line, "messages"), 1);
        if (!why && !json_is_number(s) && !json_is_boolean(s))
            why = "missing_score";
        break;
    }
    case FW_XFMT_PREFERENCE: {
        const json_t *in = json_object_get(json_object_get(line, "input"), "messages");
        const json_t *p = json_object_get(line, "preferred_output");
        const json_t *np = json_object_get(line, "non_preferred_output");
        why = fw_xcheck_chat(in, 0);
        if (!why)
            why = check_prompt_ends(in);
        if (!why)
            why = check_outputs(p);
        if (!why)
            why = check_outputs(np);
        if (!why && json_equal((json_t *)(uintptr_t)p, (json_t *)(uintptr_t)np))
            why = "identical_pair";
        break;
    }
    case FW_XFMT_PREFERENCE_TRL: {
        const json_t *pr = json_object_get(line, "prompt");
        const json_t *c = json_object_get(line, "chosen");
        const json_t *r = json_object_get(line, "rejected");
        why = fw_xcheck_chat(pr, 0);
        if (!why)
            why = check_prompt_ends(pr);
        if (!why)
            why = check_outputs(c);
        if (!why)
            why = check_outputs(r);
        if (!why && json_equal((json_t *)(uintptr_t)c, (json_t *)(uintptr_t)r))
            why = "identical_pair";
        break;
    }
    case FW_XFMT_EVAL: {
        const json_t *in = json_object_get(json_object_get(line, "input"), "messages");
        if (!nonempty_string(json_object_get(line, "id")))
            why = "missing_id";
        if (!why)
            why = fw_xcheck_chat(in, 0);
        if (!why)
            why = check_prompt_ends(in);
        if (!why)
            why = check_outputs(json_object_get(line, "expected"));
        break;
    }
    case FW_XFMT_CLASSIFIER:
        if (!nonempty_string(json_object_get(line, "text")))
            why = "empty_text";
        else if (!nonempty_string(json_object_get(line, "label")))
            why = "empty_label";
        break;
    }
    if (!why && max_tokens > 0 && (long)(text_bytes(line) / 4) > max_tokens)
        why = "too_many_tokens";
    return why;
}
