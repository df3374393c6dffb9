/*
 * Chat completions requests and answers; contract in chat.h. Responses are
 * read leniently where servers differ (content as a string or a list of
 * text parts; usage missing) and strictly where the answer would otherwise
 * be guessed (no choices, no message: malformed).
 */
#include "chat.h"

#include <stdio.h>
#include <stdint.h>
#include <string.h>

json_t *fw_chat_request(const json_t *line, const char *model, const char *prompt,
                        const fw_chat_params *p)
{
    const json_t *in = json_object_get(line, "input");
    const json_t *msgs = json_object_get(in, "messages");
    if (!json_is_array(msgs) || json_array_size(msgs) == 0)
        return NULL;
    json_t *req = json_object(), *out = json_array();
    if (!req || !out || json_object_set_new(req, "model", json_string(model)) ||
        json_object_set(req, "messages", out)) {
        json_decref(req);
        json_decref(out);
        return NULL;
    }
    json_decref(out);
    if (prompt &&
        json_array_append_new(out, json_pack("{s:s,s:s}", "role", "system", "content", prompt)))
        goto fail;
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m)
    {
        const char *role = json_string_value(json_object_get(m, "role"));
        if (prompt && role && strcmp(role, "system") == 0)
            continue;
        json_t *c = json_deep_copy(m);
        if (!c)
            goto fail;
        json_object_del(c, "weight");
        if (json_array_append_new(out, c))
            goto fail;
    }
    const json_t *tools = json_object_get(in, "tools");
    if (json_array_size(tools) > 0 && json_object_set(req, "tools", (json_t *)(uintptr_t)tools))
        goto fail;
    if (p->temperature >= 0 && json_object_set_new(req, "temperature", json_real(p->temperature)))
        goto fail;
    if (p->max_tokens > 0 && json_object_set_new(req, "max_tokens", json_integer(p->max_tokens)))
        goto fail;
    if (p->seed >= 0 && json_object_set_new(req, "seed", json_integer(p->seed)))
        goto fail;
    return req;
fail:
    json_decref(req);
    return NULL;
}

void fw_chat_answer_free(fw_chat_answer *a)
{
    json_decref(a->message);
    json_decref(a->root);
    memset(a, 0, sizeof *a);
}

static long long usage_int(const json_t *usage, const char *k)
{
    const json_t *v = json_object_get(usage, k);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

int fw_chat_parse(const char *body, size_t len, fw_chat_answer *a, char *err, size_t errsize)
{
    memset(a, 0, sizeof *a);
    json_error_t je;
    a->root = json_loadb(body ? body : "", body ? len : 0, 0, &je);
    if (!a->root) {
        snprintf(err, errsize, "malformed response: %s at line %d column %d", je.text, je.line,
                 je.column);
        return -1;
    }
    const json_t *ch = json_array_get(json_object_get(a->root, "choices"), 0);
    const json_t *msg = json_object_get(ch, "message");
    if (!json_is_object(msg)) {
        snprintf(err, errsize, "malformed response: no choices[0].message");
        fw_chat_answer_free(a);
        return -1;
    }
    a->message = json_object();
    if (!a->message)
        goto oom;
    const json_t *content = json_object_get(msg, "content");
    if (json_is_array(content)) {
        /* A list of parts: join the text ones. */
        size_t total = 0, i;
        json_t *p;
        json_array_foreach(content, i, p) total +=
            json_string_length(json_object_get(p, "text")) + 1;
        char *buf = malloc(total + 1), *o = buf;
        if (!buf)
            goto oom;
        json_array_foreach(content, i, p)
        {
            const json_t *t = json_object_get(p, "text");
            if (!json_is_string(t))
                continue;
            if (o > buf)
                *o++ = '\n';
            memcpy(o, json_string_value(t), json_string_length(t));
            o += json_string_length(t);
        }
        *o = '\0';
        json_t *s = json_stringn(buf, (size_t)(o - buf));
        free(buf);
        if (!s || json_object_set_new(a->message, "content", s))
            goto oom;
    } else if (json_is_string(content)) {
        if (json_object_set(a->message, "content", (json_t *)(uintptr_t)content))
            goto oom;
    } else if (content && !json_is_null(content)) {
        snprintf(err, errsize, "malformed response: message content is neither text nor parts");
        fw_chat_answer_free(a);
        return -1;
    }
    if (json_object_set_new(a->message, "role", json_string("assistant")))
        goto oom;
    const json_t *calls = json_object_get(msg, "tool_calls");
    if (calls && !json_is_array(calls)) {
        snprintf(err, errsize, "malformed response: tool_calls is not a list");
        fw_chat_answer_free(a);
        return -1;
    }
    if (json_array_size(calls) > 0 &&
        json_object_set(a->message, "tool_calls", (json_t *)(uintptr_t)calls))
        goto oom;
    a->text = json_string_value(json_object_get(a->message, "content"));
    if (!a->text)
        a->text = "";
    a->finish_reason = json_string_value(json_object_get(ch, "finish_reason"));
    a->id = json_string_value(json_object_get(a->root, "id"));
    a->model = json_string_value(json_object_get(a->root, "model"));
    const json_t *usage = json_object_get(a->root, "usage");
    a->input_tokens = usage_int(usage, "prompt_tokens");
    a->output_tokens = usage_int(usage, "completion_tokens");
    return 0;
oom:
    snprintf(err, errsize, "out of memory");
    fw_chat_answer_free(a);
    return -1;
}

static json_t *text_part(const json_t *content)
{
    return json_pack("{s:s,s:O}", "type", "text", "content", content);
}

json_t *fw_chat_to_otel(const json_t *messages)
{
    json_t *out = json_array();
    size_t i;
    json_t *m;
    if (!out)
        return NULL;
    json_array_foreach(messages, i, m)
    {
        const char *role = json_string_value(json_object_get(m, "role"));
        const json_t *content = json_object_get(m, "content");
        json_t *parts = json_array();
        json_t *om = json_pack("{s:s,s:o}", "role", role ? role : "user", "parts", parts);
        if (!om || json_array_append_new(out, om))
            goto fail;
        if (role && strcmp(role, "tool") == 0) {
            const char *id = json_string_value(json_object_get(m, "tool_call_id"));
            if (json_array_append_new(
                    parts, json_pack("{s:s,s:s,s:O}", "type", "tool_call_response", "id",
                                     id ? id : "", "response", content ? content : json_null())))
                goto fail;
            continue;
        }
        if (json_is_string(content) && json_string_length(content) > 0 &&
            json_array_append_new(parts, text_part(content)))
            goto fail;
        size_t j;
        json_t *c;
        json_array_foreach(json_object_get(m, "tool_calls"), j, c)
        {
            const json_t *fn = json_object_get(c, "function");
            const json_t *args = json_object_get(fn, "arguments");
            json_t *parsed = json_is_string(args)
                                 ? json_loads(json_string_value(args), JSON_DECODE_ANY, NULL)
                                 : NULL;
            const char *id = json_string_value(json_object_get(c, "id"));
            const char *name = json_string_value(json_object_get(fn, "name"));
            json_t *part = json_pack("{s:s,s:s,s:s,s:O}", "type", "tool_call", "id", id ? id : "",
                                     "name", name ? name : "", "arguments",
                                     parsed ? parsed
                                     : args ? args
                                            : json_null());
            json_decref(parsed);
            if (!part || json_array_append_new(parts, part))
                goto fail;
        }
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

json_t *fw_chat_tools_to_otel(const json_t *tools)
{
    json_t *out = json_array();
    size_t i;
    json_t *t;
    if (!out)
        return NULL;
    json_array_foreach(tools, i, t)
    {
        const json_t *fn = json_object_get(t, "function");
        json_t *flat = json_is_object(fn) ? json_deep_copy(fn) : json_deep_copy(t);
        if (!flat || json_object_set_new(flat, "type", json_string("function")) ||
            json_array_append_new(out, flat)) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}
