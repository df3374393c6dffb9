/*
 * OpenTelemetry GenAI messages → chat fine-tuning messages. See export_conv.h
 * for the mapping; this file keeps key order fixed (role, content, name,
 * tool_calls, tool_call_id, weight) because the bytes of an export must not
 * depend on anything but its input.
 */
#include "export_conv.h"

#include "fw_utf8.h"

#include "fw_buf.h"
#include "export_json.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

static const char *part_type(const json_t *part)
{
    const char *t = json_string_value(json_object_get(part, "type"));
    return t ? t : "";
}

/* Joins the text parts of message `m` with "\n" into b; returns the count. */
static int join_text(const json_t *m, fw_buf *b)
{
    const json_t *parts = json_object_get(m, "parts");
    size_t i;
    const json_t *p;
    int n = 0;
    json_array_foreach(parts, i, p)
    {
        const char *t = part_type(p);
        if (strcmp(t, "text") != 0)
            continue;
        const char *c = json_string_value(json_object_get(p, "content"));
        if (!c)
            continue;
        if (n++)
            fw_buf_addc(b, '\n');
        fw_buf_adds(b, c);
    }
    /* A message stored with a plain "content" string instead of parts. */
    if (n == 0 && json_is_string(json_object_get(m, "content"))) {
        fw_buf_adds(b, json_string_value(json_object_get(m, "content")));
        n = 1;
    }
    return n;
}

/* A JSON value as a string: strings as they are, anything else compact. */
static json_t *as_json_string(const json_t *v)
{
    if (!v)
        return json_string("");
    if (json_is_string(v))
        return json_incref((json_t *)(uintptr_t)v);
    fw_buf b = {0};
    if (fw_xjson_dump(v, &b) != 0) {
        fw_buf_free(&b);
        return NULL;
    }
    json_t *s = json_stringn(b.data, b.len);
    fw_buf_free(&b);
    return s;
}

static const char *chat_role(const char *role)
{
    if (strcmp(role, "developer") == 0)
        return "system";
    return role;
}

static int add_tool_results(const json_t *m, json_t *out)
{
    const json_t *parts = json_object_get(m, "parts");
    size_t i;
    const json_t *p;
    json_array_foreach(parts, i, p)
    {
        if (strcmp(part_type(p), "tool_call_response") != 0)
            continue;
        json_t *tm = json_object();
        const json_t *id = json_object_get(p, "id");
        if (!tm || json_object_set_new(tm, "role", json_string("tool")) ||
            json_object_set_new(tm, "content", as_json_string(json_object_get(p, "response"))) ||
            (json_is_string(id) && json_object_set(tm, "tool_call_id", (json_t *)(uintptr_t)id)) ||
            json_array_append_new(out, tm))
            return -1;
    }
    return 0;
}

static json_t *tool_calls(const json_t *m)
{
    const json_t *parts = json_object_get(m, "parts");
    json_t *calls = json_array();
    size_t i;
    const json_t *p;
    if (!calls)
        return NULL;
    json_array_foreach(parts, i, p)
    {
        if (strcmp(part_type(p), "tool_call") != 0)
            continue;
        json_t *fn = json_object(), *call = json_object();
        const json_t *id = json_object_get(p, "id"), *name = json_object_get(p, "name");
        int bad = !fn || !call;
        bad = bad || json_object_set_new(
                         call, "id", json_string(json_is_string(id) ? json_string_value(id) : ""));
        bad = bad || json_object_set_new(call, "type", json_string("function"));
        bad = bad ||
              json_object_set_new(fn, "name",
                                  json_string(json_is_string(name) ? json_string_value(name) : ""));
        bad = bad ||
              json_object_set_new(fn, "arguments", as_json_string(json_object_get(p, "arguments")));
        bad = bad || json_object_set_new(call, "function", fn);
        fn = NULL;
        bad = bad || json_array_append_new(calls, call);
        if (bad) {
            json_decref(calls);
            return NULL;
        }
    }
    return calls;
}

/* Counts the parts of message m of the given type. */
static size_t count_parts(const json_t *m, const char *type)
{
    size_t i, n = 0;
    const json_t *p;
    json_array_foreach(json_object_get(m, "parts"), i, p) n += strcmp(part_type(p), type) == 0;
    return n;
}

/* Converts one message that is not a pure tool-result message. */
static int add_message(const json_t *m, const char *role, json_t *out, int weight, fw_buf *text)
{
    int is_assistant = strcmp(role, "assistant") == 0;
    json_t *calls = NULL, *cm = json_object();

    fw_buf_reset(text);
    int ntext = join_text(m, text);
    if (!cm || text->oom || json_object_set_new(cm, "role", json_string(role)))
        goto fail;
    if (is_assistant && count_parts(m, "tool_call") > 0 && !(calls = tool_calls(m)))
        goto fail;
    if ((ntext > 0 || !calls) &&
        json_object_set_new(cm, "content", json_stringn(text->data ? text->data : "", text->len)))
        goto fail;
    const json_t *name = json_object_get(m, "name");
    if (json_is_string(name) && json_object_set(cm, "name", (json_t *)(uintptr_t)name))
        goto fail;
    if (calls) {
        int bad = json_object_set_new(cm, "tool_calls", calls);
        calls = NULL;
        if (bad)
            goto fail;
    }
    if (weight != FW_XW_NONE && is_assistant &&
        json_object_set_new(cm, "weight", json_integer(weight)))
        goto fail;
    if (json_array_append_new(out, cm))
        return -1;
    return add_tool_results(m, out);
fail:
    json_decref(calls);
    json_decref(cm);
    return -1;
}

int fw_xconv_messages(const json_t *otel, json_t *out, int weight)
{
    size_t i;
    const json_t *m;
    fw_buf text = {0};
    int rc = -1;

    if (!json_is_array(otel))
        return 0;
    json_array_foreach(otel, i, m)
    {
        if (!json_is_object(m))
            goto done;
        const char *role = json_string_value(json_object_get(m, "role"));
        role = chat_role(role ? role : "");
        if (strcmp(role, "tool") == 0 && count_parts(m, "tool_call_response") > 0) {
            if (add_tool_results(m, out))
                goto done;
            continue;
        }
        /* Anything else, including a tool message without a result part:
         * it keeps its role and the validator decides. */
        if (add_message(m, role, out, weight, &text))
            goto done;
    }
    rc = 0;
done:
    fw_buf_free(&text);
    return rc;
}

json_t *fw_xconv_prompt(const char *system_instructions, const json_t *input, int history_weight)
{
    json_t *out = json_array();
    if (!out)
        return NULL;
    int has_system = 0;
    size_t i;
    const json_t *m;
    json_array_foreach(input, i, m)
    {
        const char *r = json_string_value(json_object_get(m, "role"));
        if (r && (strcmp(r, "system") == 0 || strcmp(r, "developer") == 0))
            has_system = 1;
    }
    if (system_instructions && *system_instructions && !has_system) {
        json_t *sm = json_object();
        if (!sm || json_object_set_new(sm, "role", json_string("system")) ||
            json_object_set_new(sm, "content", json_string(system_instructions)) ||
            json_array_append_new(out, sm)) {
            json_decref(out);
            return NULL;
        }
    }
    if (fw_xconv_messages(input, out, history_weight)) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *fw_xconv_tools(const json_t *defs)
{
    json_t *out = json_array();
    size_t i;
    const json_t *d;
    if (!out)
        return NULL;
    json_array_foreach(defs, i, d)
    {
        json_t *t = json_object(), *fn;
        const json_t *nested = json_object_get(d, "function");
        if (!t)
            goto fail;
        if (json_is_object(nested)) {
            fn = json_deep_copy(nested);
        } else {
            static const char *const keys[] = {"name", "description", "parameters", "strict"};
            fn = json_object();
            for (size_t k = 0; fn && k < sizeof keys / sizeof keys[0]; k++) {
                const json_t *v = json_object_get(d, keys[k]);
                if (v && json_object_set(fn, keys[k], (json_t *)(uintptr_t)v)) {
                    json_decref(fn);
                    fn = NULL;
                }
            }
        }
        if (!fn || json_object_set_new(t, "type", json_string("function")) ||
            json_object_set_new(t, "function", fn) || json_array_append_new(out, t)) {
            json_decref(t);
            goto fail;
        }
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

char *fw_xconv_message_text(const json_t *otel, size_t idx)
{
    const json_t *m = json_array_get(otel, idx);
    fw_buf b = {0};
    if (!m || !join_text(m, &b) || b.oom) {
        fw_buf_free(&b);
        return NULL;
    }
    if (!b.data)
        fw_buf_add(&b, "", 0);
    return b.data;
}

const char *fw_xconv_last_user_text(const json_t *messages)
{
    for (size_t i = json_array_size(messages); i > 0; i--) {
        const json_t *m = json_array_get(messages, i - 1);
        const char *r = json_string_value(json_object_get(m, "role"));
        const char *c = json_string_value(json_object_get(m, "content"));
        if (r && c && strcmp(r, "user") == 0)
            return c;
    }
    return "";
}
