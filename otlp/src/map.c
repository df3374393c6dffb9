/*
 * The mapping: one OTLP span -> one flywheel.v1 Event with a Generation body.
 *
 * LLM calls reach us in four shapes (the OpenTelemetry GenAI conventions as
 * they are now, their deprecated message events, OpenLLMetry's indexed
 * attributes, OpenInference's attributes), often two at once. Each field of
 * the generation is read from an ordered list of sources and the first one
 * present wins; the order is the same for every field:
 *
 *   1. current GenAI conventions on the span (gen_ai.input.messages, ...)
 *   2. the gen_ai.client.inference.operation.details span event
 *   3. deprecated GenAI names and events (gen_ai.system, gen_ai.user.message,
 *      gen_ai.choice, gen_ai.usage.prompt_tokens, ...)
 *   4. OpenLLMetry (gen_ai.prompt.N.*, gen_ai.completion.N.*, llm.*)
 *   5. OpenInference (llm.input_messages.N.message.*, llm.token_count.*, ...)
 *
 * schema/README.md has the table. Every message shape is first turned into
 * JSON in one of two forms (the conventions' {role, parts[]} or OpenAI's
 * {role, content, tool_calls[], tool_call_id}) and then into flywheel.v1
 * messages by one converter, so tool calls, tool results and text are read
 * the same way whatever the source. Tool call arguments are kept as sent: a
 * string stays that string, a structured value becomes its JSON text.
 *
 * Numbers the span does not carry stay absent (NULL in the row), never 0:
 * streamed spans often have no usage. Attributes no field took are kept in
 * Event.attributes (resource ones under "resource."), each value cut at
 * max_attribute_bytes and all of them together at max_attributes_bytes; the
 * count of those that did not fit is "otel.dropped_attributes".
 *
 * Everything a span's event points to lives in one arena, reset after the
 * emit callback returns.
 */
#include "internal.h"
#include "value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ATTR_BYTES  4096
#define DEFAULT_ATTRS_BYTES 32768

typedef struct {
    void **v;
    size_t n, cap;
} ptrvec;

typedef struct {
    fw_otlp_arena *a;
    const fw_otlp_map_opts *o;
    const fw_otlp_resource *res;
    const fw_otlp_scope *sc;
    const fw_otlp_span *sp;
    uint8_t *used;     /* per span attribute: taken by a field */
    uint8_t *res_used; /* per resource attribute */
    int oom;
    json_t *unmapped_parts; /* message parts with no flywheel.v1 form */
} ctx;

static const Flywheel__V1__Message MSG_INIT = FLYWHEEL__V1__MESSAGE__INIT;
static const Flywheel__V1__Part PART_INIT = FLYWHEEL__V1__PART__INIT;
static const Flywheel__V1__ToolCall TC_INIT = FLYWHEEL__V1__TOOL_CALL__INIT;
static const Flywheel__V1__ToolCallResponse TCR_INIT = FLYWHEEL__V1__TOOL_CALL_RESPONSE__INIT;

/* protobuf-c's strings are char *; ours are const where they point into the
 * request. The events are never written through them here. */
static char *unconst(const char *s)
{
    union {
        const char *c;
        char *m;
    } u = {s};
    return u.m;
}

/* ---- memory ---------------------------------------------------------- */

static void *nalloc(ctx *c, size_t size)
{
    void *p = fw_otlp_arena_alloc(c->a, size);
    if (!p)
        c->oom = 1;
    return p;
}

static char *sdup(ctx *c, const char *s, size_t n)
{
    char *p = fw_otlp_arena_strndup(c->a, s, n);
    if (!p)
        c->oom = 1;
    return p;
}

static int push(ctx *c, ptrvec *pv, void *item)
{
    if (!item)
        return -1;
    if (pv->n == pv->cap) {
        size_t cap = pv->cap ? pv->cap * 2 : 8;
        void **v = nalloc(c, cap * sizeof *v);
        if (!v)
            return -1;
        if (pv->n)
            memcpy(v, pv->v, pv->n * sizeof *v);
        pv->v = v;
        pv->cap = cap;
    }
    pv->v[pv->n++] = item;
    return 0;
}

/* ---- attribute access ------------------------------------------------- */

static const fw_otlp_value *find_in(const fw_otlp_kv *kv, size_t n, const char *key, size_t *idx)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0) {
            if (idx)
                *idx = i;
            return &kv[i].value;
        }
    return NULL;
}

/* The span attribute `key`, marked as taken; NULL when absent or empty. */
static const fw_otlp_value *get(ctx *c, const char *key)
{
    size_t i;
    const fw_otlp_value *v = find_in(c->sp->attrs, c->sp->n_attrs, key, &i);
    if (!v || v->type == FW_OTLP_EMPTY)
        return NULL;
    c->used[i] = 1;
    return v;
}

static const fw_otlp_value *rget(ctx *c, const char *key)
{
    size_t i;
    const fw_otlp_value *v = find_in(c->res->attrs, c->res->n_attrs, key, &i);
    if (!v || v->type == FW_OTLP_EMPTY)
        return NULL;
    c->res_used[i] = 1;
    return v;
}

/* A value as text: strings as they are, scalars printed. NULL for
 * structured values. The result lives in the arena or the request. */
static const char *text_of(ctx *c, const fw_otlp_value *v)
{
    char buf[64];
    if (!v)
        return NULL;
    switch (v->type) {
    case FW_OTLP_STRING:
        return v->u.s.p;
    case FW_OTLP_INT:
        snprintf(buf, sizeof buf, "%lld", (long long)v->u.i);
        return sdup(c, buf, strlen(buf));
    case FW_OTLP_DOUBLE:
        snprintf(buf, sizeof buf, "%.17g", v->u.d);
        return sdup(c, buf, strlen(buf));
    case FW_OTLP_BOOL:
        return v->u.b ? "true" : "false";
    default:
        return NULL;
    }
}

/* The first present of a list of span attributes, as text. */
static const char *first_text(ctx *c, const char *const *keys)
{
    for (; *keys; keys++) {
        const char *s = text_of(c, get(c, *keys));
        if (s && *s)
            return s;
    }
    return NULL;
}

static int int_of(const fw_otlp_value *v, int64_t *out)
{
    if (!v)
        return 0;
    if (v->type == FW_OTLP_INT) {
        *out = v->u.i;
        return 1;
    }
    if (v->type == FW_OTLP_DOUBLE && isfinite(v->u.d) && v->u.d == floor(v->u.d) &&
        fabs(v->u.d) < 9.2e18) {
        *out = (int64_t)v->u.d;
        return 1;
    }
    if (v->type == FW_OTLP_STRING && v->u.s.len > 0 && v->u.s.len < 21) {
        char *end;
        long long x = strtoll(v->u.s.p, &end, 10);
        if (*end == '\0') {
            *out = x;
            return 1;
        }
    }
    return 0;
}

static int double_of(const fw_otlp_value *v, double *out)
{
    if (!v)
        return 0;
    if (v->type == FW_OTLP_DOUBLE && isfinite(v->u.d)) {
        *out = v->u.d;
        return 1;
    }
    if (v->type == FW_OTLP_INT) {
        *out = (double)v->u.i;
        return 1;
    }
    if (v->type == FW_OTLP_STRING && v->u.s.len > 0 && v->u.s.len < 40) {
        char *end;
        double x = strtod(v->u.s.p, &end);
        if (*end == '\0' && isfinite(x)) {
            *out = x;
            return 1;
        }
    }
    return 0;
}

static int bool_of(const fw_otlp_value *v, int *out)
{
    if (!v)
        return 0;
    if (v->type == FW_OTLP_BOOL) {
        *out = v->u.b;
        return 1;
    }
    if (v->type == FW_OTLP_STRING &&
        (strcmp(v->u.s.p, "true") == 0 || strcmp(v->u.s.p, "false") == 0)) {
        *out = v->u.s.p[0] == 't';
        return 1;
    }
    return 0;
}

/* The first of `keys` that is a non-negative integer (a token count); the
 * attributes of the others stay unmapped when they are not counts. */
static int first_count(ctx *c, const char *const *keys, int64_t *out)
{
    for (; *keys; keys++) {
        size_t i;
        const fw_otlp_value *v = find_in(c->sp->attrs, c->sp->n_attrs, *keys, &i);
        int64_t x;
        if (v && int_of(v, &x) && x >= 0) {
            c->used[i] = 1;
            *out = x;
            return 1;
        }
    }
    return 0;
}

static int first_int(ctx *c, const char *const *keys, int64_t *out)
{
    for (; *keys; keys++) {
        size_t i;
        const fw_otlp_value *v = find_in(c->sp->attrs, c->sp->n_attrs, *keys, &i);
        if (v && int_of(v, out)) {
            c->used[i] = 1;
            return 1;
        }
    }
    return 0;
}

static int first_double(ctx *c, const char *const *keys, double *out)
{
    for (; *keys; keys++) {
        size_t i;
        const fw_otlp_value *v = find_in(c->sp->attrs, c->sp->n_attrs, *keys, &i);
        if (v && double_of(v, out)) {
            c->used[i] = 1;
            return 1;
        }
    }
    return 0;
}

static const fw_otlp_event *find_event(const fw_otlp_span *sp, const char *name)
{
    for (size_t i = 0; i < sp->n_events; i++)
        if (strcmp(sp->events[i].name, name) == 0)
            return &sp->events[i];
    return NULL;
}

static const fw_otlp_value *event_attr(const fw_otlp_event *e, const char *key)
{
    if (!e)
        return NULL;
    const fw_otlp_value *v = find_in(e->attrs, e->n_attrs, key, NULL);
    return v && v->type != FW_OTLP_EMPTY ? v : NULL;
}

/* ---- JSON helpers ------------------------------------------------------- */

static const char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A JSON value as text kept as sent: a string is its own text, anything
 * else its compact JSON. "" for null or absent. */
static char *json_text(ctx *c, const json_t *v)
{
    if (!v || json_is_null(v))
        return "";
    if (json_is_string(v))
        return sdup(c, json_string_value(v), json_string_length(v));
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) {
        c->oom = 1;
        return NULL;
    }
    char *r = sdup(c, s, strlen(s));
    free(s);
    return r;
}

/* ---- messages ------------------------------------------------------------ */

static Flywheel__V1__Role role_of(const char *r)
{
    if (!r)
        return FLYWHEEL__V1__ROLE__ROLE_UNSPECIFIED;
    if (strcmp(r, "system") == 0)
        return FLYWHEEL__V1__ROLE__ROLE_SYSTEM;
    if (strcmp(r, "user") == 0 || strcmp(r, "human") == 0)
        return FLYWHEEL__V1__ROLE__ROLE_USER;
    if (strcmp(r, "assistant") == 0 || strcmp(r, "model") == 0 || strcmp(r, "ai") == 0)
        return FLYWHEEL__V1__ROLE__ROLE_ASSISTANT;
    if (strcmp(r, "tool") == 0 || strcmp(r, "function") == 0)
        return FLYWHEEL__V1__ROLE__ROLE_TOOL;
    if (strcmp(r, "developer") == 0)
        return FLYWHEEL__V1__ROLE__ROLE_DEVELOPER;
    return FLYWHEEL__V1__ROLE__ROLE_UNSPECIFIED;
}

static Flywheel__V1__Part *new_part(ctx *c, Flywheel__V1__Part__ContentCase kind)
{
    Flywheel__V1__Part *p = nalloc(c, sizeof *p);
    if (p) {
        *p = PART_INIT;
        p->content_case = kind;
    }
    return p;
}

static int add_text(ctx *c, ptrvec *parts, const char *s, size_t n, int reasoning)
{
    Flywheel__V1__Part *p = new_part(c, reasoning ? FLYWHEEL__V1__PART__CONTENT_REASONING
                                                  : FLYWHEEL__V1__PART__CONTENT_TEXT);
    char *t = sdup(c, s, n);
    if (!p || !t)
        return -1;
    if (reasoning)
        p->reasoning = t;
    else
        p->text = t;
    return push(c, parts, p);
}

static int add_tool_call(ctx *c, ptrvec *parts, const char *id, const char *name,
                         const json_t *args)
{
    Flywheel__V1__Part *p = new_part(c, FLYWHEEL__V1__PART__CONTENT_TOOL_CALL);
    Flywheel__V1__ToolCall *tc = nalloc(c, sizeof *tc);
    if (!p || !tc)
        return -1;
    *tc = TC_INIT;
    tc->id = id ? sdup(c, id, strlen(id)) : "";
    tc->name = name ? sdup(c, name, strlen(name)) : "";
    tc->arguments_json = json_text(c, args);
    if (!tc->id || !tc->name || !tc->arguments_json)
        return -1;
    p->tool_call = tc;
    return push(c, parts, p);
}

static int add_tool_response(ctx *c, ptrvec *parts, const char *id, const json_t *content)
{
    Flywheel__V1__Part *p = new_part(c, FLYWHEEL__V1__PART__CONTENT_TOOL_CALL_RESPONSE);
    Flywheel__V1__ToolCallResponse *r = nalloc(c, sizeof *r);
    if (!p || !r)
        return -1;
    *r = TCR_INIT;
    r->id = id ? sdup(c, id, strlen(id)) : "";
    r->content = json_text(c, content);
    if (!r->id || !r->content)
        return -1;
    p->tool_call_response = r;
    return push(c, parts, p);
}

static void keep_part(ctx *c, json_t *part)
{
    if (!c->unmapped_parts)
        c->unmapped_parts = json_array();
    if (!c->unmapped_parts || json_array_append(c->unmapped_parts, part) != 0)
        c->oom = 1;
}

/* One part in the conventions' form: {type: text|tool_call|...}. */
static int conv_part(ctx *c, ptrvec *parts, json_t *p)
{
    const char *type = jstr(p, "type");
    if (!type) {
        keep_part(c, p);
        return 0;
    }
    if (strcmp(type, "text") == 0 || strcmp(type, "reasoning") == 0 ||
        strcmp(type, "thinking") == 0) {
        json_t *t = json_object_get(p, "content");
        if (!json_is_string(t))
            t = json_object_get(p, "text");
        if (!json_is_string(t)) {
            keep_part(c, p);
            return 0;
        }
        return add_text(c, parts, json_string_value(t), json_string_length(t),
                        type[0] != 't' || type[1] == 'h');
    }
    if (strcmp(type, "tool_call") == 0)
        return add_tool_call(c, parts, jstr(p, "id"), jstr(p, "name"),
                             json_object_get(p, "arguments"));
    if (strcmp(type, "tool_call_response") == 0) {
        json_t *r = json_object_get(p, "response");
        if (!r)
            r = json_object_get(p, "result");
        return add_tool_response(c, parts, jstr(p, "id"), r);
    }
    keep_part(c, p); /* blob, file, uri, server_tool_call, ... */
    return 0;
}

/* OpenAI's content: a string, or an array of {type:"text", text} parts. */
static int openai_content(ctx *c, ptrvec *parts, json_t *content)
{
    if (json_is_string(content)) {
        if (json_string_length(content) == 0)
            return 0;
        return add_text(c, parts, json_string_value(content), json_string_length(content), 0);
    }
    if (json_is_array(content)) {
        size_t i;
        json_t *p;
        json_array_foreach(content, i, p)
        {
            const char *type = jstr(p, "type");
            json_t *t = json_object_get(p, "text");
            if (!json_is_string(t))
                t = json_object_get(p, "content");
            if (type && strcmp(type, "text") == 0 && json_is_string(t)) {
                if (add_text(c, parts, json_string_value(t), json_string_length(t), 0) != 0)
                    return -1;
            } else if (type &&
                       (strcmp(type, "tool_call") == 0 || strcmp(type, "tool_call_response") == 0 ||
                        strcmp(type, "reasoning") == 0)) {
                if (conv_part(c, parts, p) != 0)
                    return -1;
            } else {
                keep_part(c, p);
            }
        }
        return 0;
    }
    if (content && !json_is_null(content))
        keep_part(c, content);
    return 0;
}

/*
 * One message, in the conventions' form {role, parts[], name,
 * finish_reason} or OpenAI's {role, content, tool_calls[], tool_call_id}.
 * `default_role` applies when it has none. Appends to out.
 */
static int conv_message(ctx *c, json_t *m, const char *default_role, ptrvec *out)
{
    if (!json_is_object(m))
        return 0;
    Flywheel__V1__Message *msg = nalloc(c, sizeof *msg);
    if (!msg)
        return -1;
    *msg = MSG_INIT;
    const char *role = jstr(m, "role");
    msg->role = role_of(role ? role : default_role);
    const char *name = jstr(m, "name");
    const char *fr = jstr(m, "finish_reason");
    if ((name && !(msg->name = sdup(c, name, strlen(name)))) ||
        (fr && !(msg->finish_reason = sdup(c, fr, strlen(fr)))))
        return -1;
    ptrvec parts = {0};
    json_t *p = json_object_get(m, "parts");
    if (json_is_array(p)) {
        size_t i;
        json_t *x;
        json_array_foreach(p, i, x) if (conv_part(c, &parts, x) != 0) return -1;
    } else {
        const char *tcid = jstr(m, "tool_call_id");
        if (!tcid && msg->role == FLYWHEEL__V1__ROLE__ROLE_TOOL)
            tcid = jstr(m, "id");
        json_t *content = json_object_get(m, "content");
        if (tcid && msg->role == FLYWHEEL__V1__ROLE__ROLE_TOOL) {
            if (add_tool_response(c, &parts, tcid, content) != 0)
                return -1;
        } else if (openai_content(c, &parts, content) != 0) {
            return -1;
        }
        json_t *tcs = json_object_get(m, "tool_calls");
        size_t i;
        json_t *tc;
        json_array_foreach(tcs, i, tc)
        {
            json_t *fn = json_object_get(tc, "function");
            const char *tname = fn ? jstr(fn, "name") : jstr(tc, "name");
            json_t *args = fn ? json_object_get(fn, "arguments") : json_object_get(tc, "arguments");
            if (add_tool_call(c, &parts, jstr(tc, "id"), tname, args) != 0)
                return -1;
        }
    }
    msg->parts = (Flywheel__V1__Part **)parts.v;
    msg->n_parts = parts.n;
    return push(c, out, msg);
}

/* A JSON array of messages (a single object counts as one). */
static int conv_messages(ctx *c, json_t *arr, const char *default_role, ptrvec *out)
{
    if (json_is_object(arr))
        return conv_message(c, arr, default_role, out);
    size_t i;
    json_t *m;
    json_array_foreach(arr, i, m) if (conv_message(c, m, default_role, out) != 0) return -1;
    return 0;
}

/* ---- indexed attributes --------------------------------------------------- */

/* Puts `v` at the dotted path `path` under obj, creating objects on the way.
 * A path that runs into a leaf is ignored. */
static int put_path(json_t *obj, const char *path, json_t *v)
{
    const char *dot;
    char seg[128];
    while ((dot = strchr(path, '.')) != NULL) {
        size_t n = (size_t)(dot - path);
        if (n == 0 || n >= sizeof seg) {
            json_decref(v);
            return 0;
        }
        memcpy(seg, path, n);
        seg[n] = '\0';
        json_t *child = json_object_get(obj, seg);
        if (!child) {
            child = json_object();
            if (!child || json_object_set_new(obj, seg, child) != 0) {
                json_decref(v);
                return -1;
            }
        } else if (!json_is_object(child)) {
            json_decref(v);
            return 0;
        }
        obj = child;
        path = dot + 1;
    }
    if (!*path || json_object_get(obj, path)) {
        json_decref(v);
        return 0;
    }
    return json_object_set_new(obj, path, v);
}

/* The span attributes under `prefix` (which ends with '.') as a tree of
 * objects, or NULL when there are none. With `take`, they are marked as
 * taken. */
static json_t *unflatten(ctx *c, const char *prefix, int take)
{
    size_t plen = strlen(prefix);
    json_t *root = NULL;
    for (size_t i = 0; i < c->sp->n_attrs; i++) {
        const fw_otlp_kv *kv = &c->sp->attrs[i];
        if (strncmp(kv->key, prefix, plen) != 0 || kv->value.type == FW_OTLP_EMPTY)
            continue;
        if (!root && !(root = json_object())) {
            c->oom = 1;
            return NULL;
        }
        json_t *v = fw_otlp_value_to_json(&kv->value);
        if (!v || put_path(root, kv->key + plen, v) != 0) {
            c->oom = 1;
            json_decref(root);
            return NULL;
        }
        if (take)
            c->used[i] = 1;
    }
    return root;
}

static void take_prefix(ctx *c, const char *prefix)
{
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < c->sp->n_attrs; i++)
        if (strncmp(c->sp->attrs[i].key, prefix, plen) == 0)
            c->used[i] = 1;
}

typedef struct {
    unsigned long idx;
    json_t *v;
} indexed;

static int cmp_indexed(const void *a, const void *b)
{
    unsigned long x = ((const indexed *)a)->idx, y = ((const indexed *)b)->idx;
    return x < y ? -1 : x > y;
}

/* The members of obj whose keys are decimal indexes, in index order, as a
 * new JSON array. Other keys (prompt_filter_results, ...) are left out. */
static json_t *by_index(json_t *obj)
{
    json_t *arr = json_array();
    if (!arr || !json_is_object(obj))
        return arr;
    size_t n = json_object_size(obj), k = 0;
    indexed *v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        json_decref(arr);
        return NULL;
    }
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        size_t len = strlen(key);
        if (len == 0 || len > 9 || strspn(key, "0123456789") != len)
            continue;
        v[k].idx = strtoul(key, NULL, 10);
        v[k++].v = val;
    }
    qsort(v, k, sizeof *v, cmp_indexed);
    for (size_t i = 0; i < k; i++)
        if (json_array_append(arr, v[i].v) != 0) {
            json_decref(arr);
            arr = NULL;
            break;
        }
    free(v);
    return arr;
}

/* OpenLLMetry content: text, or a JSON string holding OpenAI parts. */
static json_t *openllmetry_content(json_t *content)
{
    if (json_is_string(content)) {
        const char *s = json_string_value(content);
        if (s[0] == '[') {
            json_t *parts = json_loads(s, 0, NULL);
            if (json_is_array(parts) && json_array_size(parts) > 0 &&
                json_is_object(json_array_get(parts, 0)) && jstr(json_array_get(parts, 0), "type"))
                return parts;
            json_decref(parts);
        }
    }
    return json_incref(content);
}

/* gen_ai.prompt.N.* / gen_ai.completion.N.* (OpenLLMetry) as OpenAI-form
 * messages; NULL when absent. */
static json_t *openllmetry_messages(ctx *c, const char *prefix)
{
    json_t *tree = unflatten(c, prefix, 0);
    if (!tree)
        return NULL;
    json_t *list = by_index(tree), *out = json_array();
    size_t i;
    json_t *m;
    if (!list || !out)
        goto oom;
    json_array_foreach(list, i, m)
    {
        if (!json_is_object(m))
            continue;
        json_t *o = json_object();
        if (!o || json_array_append_new(out, o) != 0)
            goto oom;
        static const char *const copy[] = {"role", "tool_call_id", "finish_reason", "name"};
        for (size_t k = 0; k < sizeof copy / sizeof copy[0]; k++) {
            json_t *x = json_object_get(m, copy[k]);
            if (x)
                json_object_set(o, copy[k], x);
        }
        json_t *content = json_object_get(m, "content");
        if (content)
            json_object_set_new(o, "content", openllmetry_content(content));
        else if (json_is_string(json_object_get(m, "refusal")))
            json_object_set(o, "content", json_object_get(m, "refusal"));
        json_t *tcs = json_object_get(m, "tool_calls");
        if (tcs) {
            json_t *calls = by_index(tcs);
            if (!calls)
                goto oom;
            json_object_set_new(o, "tool_calls", calls);
        }
    }
    json_decref(list);
    json_decref(tree);
    return out;
oom:
    c->oom = 1;
    json_decref(list);
    json_decref(out);
    json_decref(tree);
    return NULL;
}

/* llm.input_messages.N.message.* / llm.output_messages.N.message.*
 * (OpenInference) as OpenAI-form messages; NULL when absent. */
static json_t *openinference_messages(ctx *c, const char *prefix)
{
    json_t *tree = unflatten(c, prefix, 0);
    if (!tree)
        return NULL;
    json_t *list = by_index(tree), *out = json_array();
    size_t i;
    json_t *item;
    if (!list || !out)
        goto oom;
    json_array_foreach(list, i, item)
    {
        json_t *m = json_object_get(item, "message");
        if (!json_is_object(m))
            continue;
        json_t *o = json_object();
        if (!o || json_array_append_new(out, o) != 0)
            goto oom;
        static const char *const copy[] = {"role", "tool_call_id", "name", "content"};
        for (size_t k = 0; k < sizeof copy / sizeof copy[0]; k++) {
            json_t *x = json_object_get(m, copy[k]);
            if (x)
                json_object_set(o, copy[k], x);
        }
        json_t *contents = json_object_get(m, "contents");
        if (contents && !json_object_get(m, "content")) {
            json_t *list2 = by_index(contents), *parts = json_array();
            size_t k;
            json_t *mc;
            if (!list2 || !parts) {
                json_decref(list2);
                json_decref(parts);
                goto oom;
            }
            json_array_foreach(list2, k, mc)
            {
                json_t *x = json_object_get(mc, "message_content");
                if (json_is_object(x))
                    json_array_append(parts, x); /* {type, text} or {type:"image", image:{...}} */
            }
            json_decref(list2);
            json_object_set_new(o, "content", parts);
        }
        json_t *tcs = json_object_get(m, "tool_calls");
        if (tcs) {
            json_t *list3 = by_index(tcs), *calls = json_array();
            size_t k;
            json_t *tc;
            if (!list3 || !calls) {
                json_decref(list3);
                json_decref(calls);
                goto oom;
            }
            json_array_foreach(list3, k, tc)
            {
                json_t *x = json_object_get(tc, "tool_call");
                if (json_is_object(x))
                    json_array_append(calls, x); /* {id, function:{name, arguments}} */
            }
            json_decref(list3);
            json_object_set_new(o, "tool_calls", calls);
        }
    }
    json_decref(list);
    json_decref(tree);
    return out;
oom:
    c->oom = 1;
    json_decref(list);
    json_decref(out);
    json_decref(tree);
    return NULL;
}

/* The deprecated gen_ai.{system,user,assistant,tool}.message events (input)
 * or gen_ai.choice events (output), as OpenAI-form messages. */
static json_t *deprecated_events(ctx *c, int output)
{
    json_t *out = NULL;
    for (size_t i = 0; i < c->sp->n_events; i++) {
        const fw_otlp_event *e = &c->sp->events[i];
        const char *role = NULL;
        if (output) {
            if (strcmp(e->name, "gen_ai.choice") != 0)
                continue;
        } else if (strcmp(e->name, "gen_ai.system.message") == 0) {
            role = "system";
        } else if (strcmp(e->name, "gen_ai.user.message") == 0) {
            role = "user";
        } else if (strcmp(e->name, "gen_ai.assistant.message") == 0) {
            role = "assistant";
        } else if (strcmp(e->name, "gen_ai.tool.message") == 0) {
            role = "tool";
        } else {
            continue;
        }
        json_t *o = json_object();
        if (!o || (!out && !(out = json_array())) || json_array_append_new(out, o) != 0) {
            json_decref(o);
            c->oom = 1;
            return out;
        }
        for (size_t k = 0; k < e->n_attrs; k++) {
            const fw_otlp_kv *kv = &e->attrs[k];
            json_t *v = NULL;
            if (strcmp(kv->key, "message") == 0 || strcmp(kv->key, "tool_calls") == 0)
                v = fw_otlp_value_structured(&kv->value);
            if (!v)
                v = fw_otlp_value_to_json(&kv->value);
            if (!v) {
                c->oom = 1;
                return out;
            }
            json_object_set_new(o, kv->key, v);
        }
        if (output) {
            /* {index, finish_reason, message: {role, content, tool_calls}} */
            json_t *m = json_object_get(o, "message");
            if (json_is_object(m)) {
                json_t *fr = json_object_get(o, "finish_reason");
                json_object_update_missing(o, m);
                if (fr)
                    json_object_set(o, "finish_reason", fr);
            }
        } else if (!json_object_get(o, "role")) {
            json_object_set_new(o, "role", json_string(role));
        }
    }
    return out;
}

/*
 * Input (output = 0) or output messages, from the first source that has
 * any; the attributes of every source are taken then, so the same content
 * is not kept twice among the unmapped attributes.
 */
static int messages(ctx *c, const fw_otlp_event *details, int output, ptrvec *out)
{
    const char *attr = output ? "gen_ai.output.messages" : "gen_ai.input.messages";
    const char *dflt = output ? "assistant" : "user";
    const char *oll = output ? "gen_ai.completion." : "gen_ai.prompt.";
    const char *oi = output ? "llm.output_messages." : "llm.input_messages.";
    size_t i;
    const fw_otlp_value *v = find_in(c->sp->attrs, c->sp->n_attrs, attr, &i);
    json_t *j = NULL;
    if (v && (j = fw_otlp_value_structured(v)) != NULL)
        c->used[i] = 1;
    if (!j && (v = event_attr(details, attr)) != NULL)
        j = fw_otlp_value_structured(v);
    if (!j)
        j = deprecated_events(c, output);
    if (!j)
        j = openllmetry_messages(c, oll);
    if (!j)
        j = openinference_messages(c, oi);
    if (!j)
        return c->oom ? -1 : 0;
    int rc = conv_messages(c, j, dflt, out);
    json_decref(j);
    if (out->n > 0) {
        take_prefix(c, oll);
        take_prefix(c, oi);
    }
    return rc;
}

/* ---- other fields --------------------------------------------------------- */

/* gen_ai.system_instructions: the text of its text parts, one per line, or
 * its JSON when it has other parts; "" when absent. */
static char *system_instructions(ctx *c, const fw_otlp_event *details)
{
    const fw_otlp_value *v = get(c, "gen_ai.system_instructions");
    if (!v)
        v = event_attr(details, "gen_ai.system_instructions");
    if (!v)
        return "";
    json_t *j = fw_otlp_value_structured(v);
    if (!j)
        return unconst(text_of(c, v) ? text_of(c, v) : "");
    if (json_is_object(j)) {
        json_t *a = json_array();
        json_array_append_new(a, j);
        j = a;
    }
    size_t total = 0, i;
    json_t *p;
    int all_text = json_is_array(j);
    json_array_foreach(j, i, p)
    {
        const char *t = jstr(p, "content");
        if (!t)
            t = jstr(p, "text");
        if (!t || !jstr(p, "type") || strcmp(jstr(p, "type"), "text") != 0)
            all_text = 0;
        else
            total += strlen(t) + 1;
    }
    char *r;
    if (!all_text) {
        r = json_text(c, j);
    } else {
        r = nalloc(c, total + 1);
        if (r) {
            size_t o = 0;
            json_array_foreach(j, i, p)
            {
                const char *t = jstr(p, "content") ? jstr(p, "content") : jstr(p, "text");
                size_t n = strlen(t);
                if (o)
                    r[o++] = '\n';
                memcpy(r + o, t, n);
                o += n;
            }
            r[o] = '\0';
        }
    }
    json_decref(j);
    return r;
}

/* Tool definitions as a JSON array text; "" when absent. */
static char *tool_definitions(ctx *c, const fw_otlp_event *details)
{
    size_t i;
    const fw_otlp_value *v = find_in(c->sp->attrs, c->sp->n_attrs, "gen_ai.tool.definitions", &i);
    json_t *j = v ? fw_otlp_value_structured(v) : NULL;
    if (j)
        c->used[i] = 1;
    if (!j && (v = event_attr(details, "gen_ai.tool.definitions")) != NULL)
        j = fw_otlp_value_structured(v);
    if (!j) {
        /* OpenLLMetry: llm.request.functions.N.{name,description,parameters} */
        json_t *tree = unflatten(c, "llm.request.functions.", 1);
        if (tree) {
            j = by_index(tree);
            json_decref(tree);
            size_t k;
            json_t *f;
            json_array_foreach(j, k, f)
            {
                json_t *params = json_object_get(f, "parameters");
                if (json_is_string(params)) {
                    json_t *p = json_loads(json_string_value(params), 0, NULL);
                    if (p)
                        json_object_set_new(f, "parameters", p);
                }
                if (!json_object_get(f, "type"))
                    json_object_set_new(f, "type", json_string("function"));
            }
        }
    }
    if (!j) {
        /* OpenInference: llm.tools.N.tool.json_schema, each a JSON string */
        json_t *tree = unflatten(c, "llm.tools.", 1);
        if (tree) {
            json_t *list = by_index(tree);
            json_decref(tree);
            j = json_array();
            size_t k;
            json_t *t;
            json_array_foreach(list, k, t)
            {
                json_t *s = json_object_get(json_object_get(t, "tool"), "json_schema");
                json_t *p =
                    json_is_string(s) ? json_loads(json_string_value(s), 0, NULL) : json_incref(s);
                if (p)
                    json_array_append_new(j, p);
            }
            json_decref(list);
        }
    }
    if (!j)
        return "";
    if (json_is_object(j)) {
        json_t *a = json_array();
        json_array_append_new(a, j);
        j = a;
    }
    char *r = json_text(c, j);
    json_decref(j);
    return r;
}

static int set_str_list(ctx *c, const fw_otlp_value *v, char ***out, size_t *n)
{
    if (!v)
        return 0;
    if (v->type == FW_OTLP_STRING) {
        json_t *j = fw_otlp_value_structured(v);
        if (json_is_array(j)) {
            size_t k = 0, i;
            json_t *x;
            char **arr = nalloc(c, (json_array_size(j) + 1) * sizeof *arr);
            if (!arr) {
                json_decref(j);
                return -1;
            }
            json_array_foreach(j, i, x) if (json_is_string(x)) arr[k++] =
                sdup(c, json_string_value(x), json_string_length(x));
            json_decref(j);
            *out = arr;
            *n = k;
            return 0;
        }
        json_decref(j);
        char **arr = nalloc(c, sizeof *arr);
        if (!arr)
            return -1;
        arr[0] = unconst(v->u.s.p);
        *out = arr;
        *n = 1;
        return 0;
    }
    if (v->type != FW_OTLP_ARRAY)
        return 0;
    char **arr = nalloc(c, (v->u.arr.n + 1) * sizeof *arr);
    if (!arr)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < v->u.arr.n; i++) {
        const char *s = text_of(c, &v->u.arr.v[i]);
        if (s)
            arr[k++] = unconst(s);
    }
    *out = arr;
    *n = k;
    return 0;
}

static int request_params(ctx *c, Flywheel__V1__Generation *g)
{
    static const Flywheel__V1__RequestParams INIT = FLYWHEEL__V1__REQUEST_PARAMS__INIT;
    Flywheel__V1__RequestParams *r = nalloc(c, sizeof *r);
    if (!r)
        return -1;
    *r = INIT;
    int any = 0;
    /* OpenInference: llm.invocation_parameters, a JSON object */
    json_t *inv = NULL;
    size_t ii;
    const fw_otlp_value *iv =
        find_in(c->sp->attrs, c->sp->n_attrs, "llm.invocation_parameters", &ii);
    if (iv && (inv = fw_otlp_value_structured(iv)) != NULL && json_is_object(inv))
        c->used[ii] = 1;
    else {
        json_decref(inv);
        inv = NULL;
    }
#define DBL(field, F, ...)                                                                         \
    do {                                                                                           \
        static const char *const k_[] = {__VA_ARGS__, NULL};                                       \
        if (first_double(c, k_, &r->field)) {                                                      \
            r->_##field##_case = FLYWHEEL__V1__REQUEST_PARAMS___##F##_##F;                         \
            any = 1;                                                                               \
        }                                                                                          \
    } while (0)
#define INT(field, F, nonneg, ...)                                                                 \
    do {                                                                                           \
        static const char *const k_[] = {__VA_ARGS__, NULL};                                       \
        if (first_int(c, k_, &r->field) && (r->field >= 0 || !nonneg)) {                           \
            r->_##field##_case = FLYWHEEL__V1__REQUEST_PARAMS___##F##_##F;                         \
            any = 1;                                                                               \
        }                                                                                          \
    } while (0)
    DBL(temperature, TEMPERATURE, "gen_ai.request.temperature", "llm.temperature");
    DBL(top_p, TOP_P, "gen_ai.request.top_p", "llm.top_p");
    INT(top_k, TOP_K, 1, "gen_ai.request.top_k", "llm.top_k");
    INT(max_tokens, MAX_TOKENS, 1, "gen_ai.request.max_tokens",
        "gen_ai.request.max_completion_tokens", "llm.request.max_tokens");
    INT(seed, SEED, 0, "gen_ai.request.seed");
    DBL(frequency_penalty, FREQUENCY_PENALTY, "gen_ai.request.frequency_penalty",
        "llm.frequency_penalty");
    DBL(presence_penalty, PRESENCE_PENALTY, "gen_ai.request.presence_penalty",
        "llm.presence_penalty");
    INT(choice_count, CHOICE_COUNT, 1, "gen_ai.request.choice.count");
#undef DBL
#undef INT
    int b;
    if (bool_of(get(c, "gen_ai.request.stream"), &b) ||
        bool_of(get(c, "gen_ai.is_streaming"), &b) || bool_of(get(c, "llm.is_streaming"), &b)) {
        r->_stream_case = FLYWHEEL__V1__REQUEST_PARAMS___STREAM_STREAM;
        r->stream = b;
        any = 1;
    }
    const fw_otlp_value *stop = get(c, "gen_ai.request.stop_sequences");
    if (!stop)
        stop = get(c, "llm.chat.stop_sequences");
    if (set_str_list(c, stop, &r->stop_sequences, &r->n_stop_sequences) != 0)
        return -1;
    if (r->n_stop_sequences)
        any = 1;
    if (inv) {
        /* Fill what the attributes did not give; the rest is extra_json. */
        json_t *extra = json_object();
        const char *key;
        json_t *val;
        json_object_foreach(inv, key, val)
        {
            fw_otlp_value x = {.type = FW_OTLP_EMPTY};
            if (json_is_integer(val)) {
                x.type = FW_OTLP_INT;
                x.u.i = json_integer_value(val);
            } else if (json_is_real(val)) {
                x.type = FW_OTLP_DOUBLE;
                x.u.d = json_real_value(val);
            } else if (json_is_boolean(val)) {
                x.type = FW_OTLP_BOOL;
                x.u.b = json_is_true(val);
            }
            int done = 1;
            if (strcmp(key, "model") == 0) {
                /* request model: read in map_span */
            } else if (strcmp(key, "temperature") == 0 && !r->_temperature_case &&
                       double_of(&x, &r->temperature))
                r->_temperature_case = FLYWHEEL__V1__REQUEST_PARAMS___TEMPERATURE_TEMPERATURE;
            else if (strcmp(key, "top_p") == 0 && !r->_top_p_case && double_of(&x, &r->top_p))
                r->_top_p_case = FLYWHEEL__V1__REQUEST_PARAMS___TOP_P_TOP_P;
            else if ((strcmp(key, "max_tokens") == 0 ||
                      strcmp(key, "max_completion_tokens") == 0) &&
                     !r->_max_tokens_case && int_of(&x, &r->max_tokens) && r->max_tokens >= 0)
                r->_max_tokens_case = FLYWHEEL__V1__REQUEST_PARAMS___MAX_TOKENS_MAX_TOKENS;
            else if (strcmp(key, "seed") == 0 && !r->_seed_case && int_of(&x, &r->seed))
                r->_seed_case = FLYWHEEL__V1__REQUEST_PARAMS___SEED_SEED;
            else if (strcmp(key, "n") == 0 && !r->_choice_count_case &&
                     int_of(&x, &r->choice_count) && r->choice_count >= 0)
                r->_choice_count_case = FLYWHEEL__V1__REQUEST_PARAMS___CHOICE_COUNT_CHOICE_COUNT;
            else if (strcmp(key, "frequency_penalty") == 0 && !r->_frequency_penalty_case &&
                     double_of(&x, &r->frequency_penalty))
                r->_frequency_penalty_case =
                    FLYWHEEL__V1__REQUEST_PARAMS___FREQUENCY_PENALTY_FREQUENCY_PENALTY;
            else if (strcmp(key, "presence_penalty") == 0 && !r->_presence_penalty_case &&
                     double_of(&x, &r->presence_penalty))
                r->_presence_penalty_case =
                    FLYWHEEL__V1__REQUEST_PARAMS___PRESENCE_PENALTY_PRESENCE_PENALTY;
            else if (strcmp(key, "stream") == 0 && !r->_stream_case && bool_of(&x, &b)) {
                r->_stream_case = FLYWHEEL__V1__REQUEST_PARAMS___STREAM_STREAM;
                r->stream = b;
            } else
                done = 0;
            if (!done && extra)
                json_object_set(extra, key, val);
        }
        any = 1;
        if (extra && json_object_size(extra) > 0)
            r->extra_json = json_text(c, extra);
        json_decref(extra);
        json_decref(inv);
        if (!r->extra_json)
            return -1;
    }
    if (any)
        g->request = r;
    return 0;
}

static int usage(ctx *c, Flywheel__V1__Generation *g)
{
    static const Flywheel__V1__Usage INIT = FLYWHEEL__V1__USAGE__INIT;
    Flywheel__V1__Usage *u = nalloc(c, sizeof *u);
    if (!u)
        return -1;
    *u = INIT;
    int any = 0;
#define CNT(field, F, ...)                                                                         \
    do {                                                                                           \
        static const char *const k_[] = {__VA_ARGS__, NULL};                                       \
        if (first_count(c, k_, &u->field)) {                                                       \
            u->_##field##_case = FLYWHEEL__V1__USAGE___##F##_##F;                                  \
            any = 1;                                                                               \
        }                                                                                          \
    } while (0)
    CNT(input_tokens, INPUT_TOKENS, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens",
        "llm.token_count.prompt");
    CNT(output_tokens, OUTPUT_TOKENS, "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens", "llm.token_count.completion");
    CNT(cache_read_input_tokens, CACHE_READ_INPUT_TOKENS, "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens", "llm.token_count.prompt_details.cache_read");
    CNT(cache_creation_input_tokens, CACHE_CREATION_INPUT_TOKENS,
        "gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_creation_input_tokens",
        "llm.token_count.prompt_details.cache_write");
    CNT(reasoning_output_tokens, REASONING_OUTPUT_TOKENS, "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens", "llm.token_count.completion_details.reasoning");
#undef CNT
    if (any)
        g->usage = u;
    return 0;
}

static int prompt_template(ctx *c, Flywheel__V1__Generation *g)
{
    static const Flywheel__V1__PromptTemplate INIT = FLYWHEEL__V1__PROMPT_TEMPLATE__INIT;
    static const char *const names[] = {"traceloop.prompt.key", NULL};
    static const char *const versions[] = {"traceloop.prompt.version",
                                           "llm.prompt_template.version", NULL};
    const char *name = first_text(c, names), *version = first_text(c, versions);
    const fw_otlp_value *vars = get(c, "traceloop.prompt.template_variables");
    if (!vars)
        vars = get(c, "llm.prompt_template.variables");
    json_t *vj = vars ? fw_otlp_value_structured(vars) : NULL;
    if (!name && !version && !json_is_object(vj)) {
        json_decref(vj);
        return 0;
    }
    Flywheel__V1__PromptTemplate *p = nalloc(c, sizeof *p);
    if (!p) {
        json_decref(vj);
        return -1;
    }
    *p = INIT;
    if (name)
        p->name = unconst(name);
    if (version)
        p->version = unconst(version);
    if (json_is_object(vj) && json_object_size(vj) > 0) {
        static const Flywheel__V1__PromptTemplate__VariablesEntry E =
            FLYWHEEL__V1__PROMPT_TEMPLATE__VARIABLES_ENTRY__INIT;
        size_t n = json_object_size(vj), k = 0;
        p->variables = nalloc(c, n * sizeof *p->variables);
        const char *key;
        json_t *val;
        if (p->variables)
            json_object_foreach(vj, key, val)
            {
                Flywheel__V1__PromptTemplate__VariablesEntry *e = nalloc(c, sizeof *e);
                if (!e)
                    break;
                *e = E;
                e->key = sdup(c, key, strlen(key));
                e->value = json_text(c, val);
                if (!e->key || !e->value)
                    break;
                p->variables[k++] = e;
            }
        p->n_variables = k;
    }
    json_decref(vj);
    g->prompt = p;
    return c->oom ? -1 : 0;
}

/* ---- unmapped attributes ------------------------------------------------------ */

typedef struct {
    ptrvec entries;
    size_t budget, per_value;
    uint64_t dropped;
} keeper;

/* Cuts n to at most max bytes at a UTF-8 character boundary. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

static int keep(ctx *c, keeper *k, const char *prefix, const char *key, const char *value)
{
    static const Flywheel__V1__Event__AttributesEntry E =
        FLYWHEEL__V1__EVENT__ATTRIBUTES_ENTRY__INIT;
    size_t pl = strlen(prefix), kl = strlen(key), vl = strlen(value);
    vl = utf8_cut(value, vl, k->per_value);
    if (pl + kl + vl > k->budget) {
        k->dropped++;
        return 0;
    }
    k->budget -= pl + kl + vl;
    Flywheel__V1__Event__AttributesEntry *e = nalloc(c, sizeof *e);
    char *kk = nalloc(c, pl + kl + 1);
    char *vv = sdup(c, value, vl);
    if (!e || !kk || !vv)
        return -1;
    memcpy(kk, prefix, pl);
    memcpy(kk + pl, key, kl + 1);
    *e = E;
    e->key = kk;
    e->value = vv;
    return push(c, &k->entries, e);
}

static int keep_value(ctx *c, keeper *k, const char *prefix, const fw_otlp_kv *kv)
{
    if (kv->value.type == FW_OTLP_EMPTY)
        return 0;
    const char *t = text_of(c, &kv->value);
    if (t)
        return keep(c, k, prefix, kv->key, t);
    char *j = fw_otlp_value_json(&kv->value);
    if (!j)
        return -1;
    int rc = keep(c, k, prefix, kv->key, j);
    free(j);
    return rc;
}

static int unmapped(ctx *c, Flywheel__V1__Event *ev, const char *end_note)
{
    keeper k = {{0},
                c->o->max_attributes_bytes ? c->o->max_attributes_bytes : DEFAULT_ATTRS_BYTES,
                c->o->max_attribute_bytes ? c->o->max_attribute_bytes : DEFAULT_ATTR_BYTES,
                0};
    if ((c->sp->name[0] && keep(c, &k, "", "otel.span.name", c->sp->name) != 0) ||
        (c->sc->name[0] && keep(c, &k, "", "otel.scope.name", c->sc->name) != 0) ||
        (c->sc->version[0] && keep(c, &k, "", "otel.scope.version", c->sc->version) != 0) ||
        (end_note && keep(c, &k, "", "otel.end_time", end_note) != 0))
        return -1;
    if (c->unmapped_parts) {
        char *j = json_dumps(c->unmapped_parts, JSON_COMPACT);
        int rc = j ? keep(c, &k, "", "otel.unmapped_parts", j) : -1;
        free(j);
        if (rc != 0)
            return -1;
    }
    for (size_t i = 0; i < c->sp->n_attrs; i++)
        if (!c->used[i] && keep_value(c, &k, "", &c->sp->attrs[i]) != 0)
            return -1;
    for (size_t i = 0; i < c->res->n_attrs; i++)
        if (!c->res_used[i] && keep_value(c, &k, "resource.", &c->res->attrs[i]) != 0)
            return -1;
    if (k.dropped) {
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)k.dropped);
        k.budget = SIZE_MAX;
        if (keep(c, &k, "", "otel.dropped_attributes", buf) != 0)
            return -1;
    }
    ev->attributes = (Flywheel__V1__Event__AttributesEntry **)k.entries.v;
    ev->n_attributes = k.entries.n;
    return 0;
}

/* ---- the span -------------------------------------------------------------------- */

static int is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static const char *attr_text(const fw_otlp_span *sp, const char *key)
{
    const fw_otlp_value *v = find_in(sp->attrs, sp->n_attrs, key, NULL);
    return v && v->type == FW_OTLP_STRING ? v->u.s.p : NULL;
}

static int in_list(const char *s, const char *const *list)
{
    for (; s && *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

/* The operation name of an LLM span, or NULL when the span is not one. */
static const char *llm_operation(const fw_otlp_span *sp)
{
    static const char *const ops[] = {"chat",       "text_completion", "generate_content",
                                      "completion", "generate",        "embeddings",
                                      NULL};
    const char *op = attr_text(sp, "gen_ai.operation.name");
    if (op)
        return in_list(op, ops) ? (strcmp(op, "completion") == 0 ? "text_completion"
                                   : strcmp(op, "generate") == 0 ? "generate_content"
                                                                 : op)
                                : NULL;
    const char *rt = attr_text(sp, "llm.request.type");
    if (rt) {
        if (strcmp(rt, "chat") == 0)
            return "chat";
        if (strcmp(rt, "completion") == 0)
            return "text_completion";
        if (strcmp(rt, "embedding") == 0 || strcmp(rt, "embeddings") == 0)
            return "embeddings";
        return NULL;
    }
    const char *kind = attr_text(sp, "openinference.span.kind");
    if (kind) {
        if (strcmp(kind, "LLM") == 0)
            return "chat";
        if (strcmp(kind, "EMBEDDING") == 0)
            return "embeddings";
        return NULL;
    }
    static const char *const models[] = {"gen_ai.request.model", "gen_ai.response.model",
                                         "llm.model_name", "llm.request.model_name", NULL};
    for (const char *const *m = models; *m; m++)
        if (attr_text(sp, *m))
            return "";
    return NULL;
}

int fw_otlp_is_llm_span(const fw_otlp_span *span)
{
    return llm_operation(span) != NULL;
}

static int reject(fw_otlp_map_stats *st, const char *why)
{
    if (st->rejected++ == 0)
        snprintf(st->first_error, sizeof st->first_error, "%s", why);
    return 0;
}

/* Maps one span; returns 0, the callback's value, or -1 out of memory. */
static int map_span(ctx *c, const char *op, fw_otlp_emit_fn *emit, void *opaque,
                    fw_otlp_map_stats *st)
{
    const fw_otlp_span *sp = c->sp;
    if (is_zero(sp->trace_id, 16) || is_zero(sp->span_id, 8))
        return reject(st, "a span has an all-zero trace_id or span_id");
    if (sp->start_time_unix_nano == 0 && sp->end_time_unix_nano == 0)
        return reject(st, "a span has neither a start nor an end time");
    static const Flywheel__V1__Event EV = FLYWHEEL__V1__EVENT__INIT;
    static const Flywheel__V1__Generation GEN = FLYWHEEL__V1__GENERATION__INIT;
    Flywheel__V1__Event *ev = nalloc(c, sizeof *ev);
    Flywheel__V1__Generation *g = nalloc(c, sizeof *g);
    uint8_t *ids = nalloc(c, 16 + 16 + 8 + 8);
    c->used = fw_otlp_arena_calloc(c->a, sp->n_attrs + 1, 1);
    c->res_used = fw_otlp_arena_calloc(c->a, c->res->n_attrs + 1, 1);
    if (!ev || !g || !ids || !c->used || !c->res_used)
        return -1;
    *ev = EV;
    *g = GEN;
    ev->schema_version = FLYWHEEL__V1__SCHEMA_VERSION__SCHEMA_VERSION_1;
    ev->body_case = FLYWHEEL__V1__EVENT__BODY_GENERATION;
    ev->generation = g;
    ev->project = unconst(c->o->project ? c->o->project : "");

    /* Times: the id follows the start, so a retry with another end keeps it. */
    const char *end_note = NULL;
    uint64_t start = sp->start_time_unix_nano, end = sp->end_time_unix_nano;
    if (start == 0) {
        start = end;
        end_note = "start_missing";
    } else if (end == 0) {
        end = start;
        end_note = "missing";
    } else if (end < start) {
        end = start;
        end_note = "before_start";
    }
    g->start_time_unix_nano = start;
    g->end_time_unix_nano = end;
    /* The event time places the row (its partition, and half of the primary
     * key): it must be the time the id carries, or a retry whose end time was
     * corrected would become a second row. */
    ev->time_unix_nano = start;
    fw_otlp_event_id(sp->trace_id, sp->span_id, start, ids);
    memcpy(ids + 16, sp->trace_id, 16);
    memcpy(ids + 32, sp->span_id, 8);
    memcpy(ids + 40, sp->parent_span_id, 8);
    ev->event_id = (ProtobufCBinaryData){16, ids};
    g->trace_id = (ProtobufCBinaryData){16, ids + 16};
    g->span_id = (ProtobufCBinaryData){8, ids + 32};
    if (sp->parent_span_id_len == 8 && !is_zero(sp->parent_span_id, 8))
        g->parent_span_id = (ProtobufCBinaryData){8, ids + 40};

    /* Envelope, from the resource. */
    static const char *const envs[] = {"deployment.environment.name", "deployment.environment",
                                       NULL};
    const char *s;
    for (const char *const *k = envs; *k; k++)
        if ((s = text_of(c, rget(c, *k))) != NULL) {
            ev->environment = unconst(s);
            break;
        }
    if ((s = text_of(c, rget(c, "service.version"))) != NULL)
        ev->release = unconst(s);
    if ((s = text_of(c, rget(c, "telemetry.sdk.name"))) != NULL)
        ev->sdk_name = unconst(s);
    if ((s = text_of(c, rget(c, "telemetry.sdk.version"))) != NULL)
        ev->sdk_version = unconst(s);

    /* Who and what. */
    get(c, "gen_ai.operation.name");
    get(c, "llm.request.type");
    get(c, "openinference.span.kind");
    g->operation_name = unconst(op);
    static const char *const provider[] = {"gen_ai.provider.name", "gen_ai.system", "llm.provider",
                                           "llm.system", NULL};
    static const char *const req_model[] = {"gen_ai.request.model", "llm.request.model_name", NULL};
    static const char *const resp_model[] = {"gen_ai.response.model", "llm.response.model_name",
                                             "llm.model_name", NULL};
    static const char *const resp_id[] = {"gen_ai.response.id", NULL};
    static const char *const conv[] = {"gen_ai.conversation.id", NULL};
    static const char *const session[] = {"session.id",
                                          "traceloop.association.properties.session_id", NULL};
    static const char *const user[] = {"user.id", "enduser.id",
                                       "traceloop.association.properties.user_id", NULL};
    static const char *const err_type[] = {"error.type", NULL};
    if ((s = first_text(c, provider)))
        g->provider_name = unconst(s);
    if ((s = first_text(c, req_model)))
        g->request_model = unconst(s);
    if ((s = first_text(c, resp_model)))
        g->response_model = unconst(s);
    if ((s = first_text(c, resp_id)))
        g->response_id = unconst(s);
    if ((s = first_text(c, conv)))
        g->conversation_id = unconst(s);
    if ((s = first_text(c, session)))
        g->session_id = unconst(s);
    if ((s = first_text(c, user)))
        g->user_id = unconst(s);
    if ((s = first_text(c, err_type)))
        g->error_type = unconst(s);

    if (request_params(c, g) != 0 || usage(c, g) != 0 || prompt_template(c, g) != 0)
        return -1;
    /* The request model of OpenInference is in the invocation parameters. */
    if (!g->request_model[0]) {
        const fw_otlp_value *iv =
            find_in(sp->attrs, sp->n_attrs, "llm.invocation_parameters", NULL);
        json_t *inv = iv ? fw_otlp_value_structured(iv) : NULL;
        const char *m = inv ? jstr(inv, "model") : NULL;
        if (m && !(g->request_model = sdup(c, m, strlen(m))))
            g->request_model = "";
        json_decref(inv);
    }

    /* Content. */
    const fw_otlp_event *details = find_event(sp, "gen_ai.client.inference.operation.details");
    ptrvec in = {0}, out = {0};
    if (messages(c, details, 0, &in) != 0 || messages(c, details, 1, &out) != 0)
        return -1;
    g->input_messages = (Flywheel__V1__Message **)in.v;
    g->n_input_messages = in.n;
    g->output_messages = (Flywheel__V1__Message **)out.v;
    g->n_output_messages = out.n;
    if (!(g->system_instructions = system_instructions(c, details)) ||
        !(g->tool_definitions_json = tool_definitions(c, details)))
        return -1;

    const fw_otlp_value *fr = get(c, "gen_ai.response.finish_reasons");
    if (set_str_list(c, fr, &g->finish_reasons, &g->n_finish_reasons) != 0)
        return -1;
    if (g->n_finish_reasons == 0) {
        size_t n = 0;
        for (size_t i = 0; i < out.n; i++)
            if (g->output_messages[i]->finish_reason[0])
                n++;
        if (n) {
            g->finish_reasons = nalloc(c, n * sizeof *g->finish_reasons);
            if (!g->finish_reasons)
                return -1;
            for (size_t i = 0; i < out.n; i++)
                if (g->output_messages[i]->finish_reason[0])
                    g->finish_reasons[g->n_finish_reasons++] = g->output_messages[i]->finish_reason;
        } else if (set_str_list(c, get(c, "llm.finish_reason"), &g->finish_reasons,
                                &g->n_finish_reasons) != 0) {
            return -1;
        }
    }

    /* Cost, in millionths of a dollar. */
    double cost;
    static const char *const costs[] = {"gen_ai.usage.cost", "llm.cost.total", NULL};
    if (first_double(c, costs, &cost) && cost >= 0 && cost < 9e12)
        g->cost_micro_usd = (int64_t)llround(cost * 1e6);

    /* Time to first token: the attribute, else the first chunk event. */
    double ttft;
    static const char *const ttfts[] = {"gen_ai.response.time_to_first_chunk", NULL};
    if (first_double(c, ttfts, &ttft) && ttft >= 0 && ttft < 9e9) {
        g->_time_to_first_token_nanos_case =
            FLYWHEEL__V1__GENERATION___TIME_TO_FIRST_TOKEN_NANOS_TIME_TO_FIRST_TOKEN_NANOS;
        g->time_to_first_token_nanos = (int64_t)llround(ttft * 1e9);
    } else {
        const fw_otlp_event *chunk = find_event(sp, "gen_ai.content.completion.chunk");
        if (chunk && chunk->time_unix_nano >= start && sp->start_time_unix_nano) {
            g->_time_to_first_token_nanos_case =
                FLYWHEEL__V1__GENERATION___TIME_TO_FIRST_TOKEN_NANOS_TIME_TO_FIRST_TOKEN_NANOS;
            g->time_to_first_token_nanos = (int64_t)(chunk->time_unix_nano - start);
        }
    }

    /* Status and errors. */
    g->status = sp->status_code == 2   ? FLYWHEEL__V1__STATUS__STATUS_ERROR
                : sp->status_code == 1 ? FLYWHEEL__V1__STATUS__STATUS_OK
                                       : FLYWHEEL__V1__STATUS__STATUS_UNSET;
    const fw_otlp_event *exc = find_event(sp, "exception");
    if (sp->status_message[0])
        g->error_message = unconst(sp->status_message);
    else if ((s = text_of(c, event_attr(exc, "exception.message"))) != NULL)
        g->error_message = unconst(s);
    if (!g->error_type[0] && (s = text_of(c, event_attr(exc, "exception.type"))) != NULL)
        g->error_type = unconst(s);

    /* Tags: OpenInference's tag.tags. */
    if (set_str_list(c, get(c, "tag.tags"), &ev->tags, &ev->n_tags) != 0)
        return -1;

    if (unmapped(c, ev, end_note) != 0 || c->oom)
        return -1;
    st->generations++;
    return emit(opaque, ev, sp);
}

int fw_otlp_map(const fw_otlp_request *req, const fw_otlp_map_opts *opts, fw_otlp_emit_fn *emit,
                void *opaque, fw_otlp_map_stats *st)
{
    static const fw_otlp_map_opts none = {0};
    ctx c = {0};
    c.o = opts ? opts : &none;
    c.a = fw_otlp_arena_new();
    if (!c.a) {
        snprintf(st->first_error, sizeof st->first_error, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t r = 0; r < req->n_resources && rc == 0; r++) {
        c.res = &req->resources[r];
        for (size_t s = 0; s < c.res->n_scopes && rc == 0; s++) {
            c.sc = &c.res->scopes[s];
            for (size_t k = 0; k < c.sc->n_spans && rc == 0; k++) {
                c.sp = &c.sc->spans[k];
                st->spans++;
                const char *op = llm_operation(c.sp);
                if (!op) {
                    st->skipped++;
                    continue;
                }
                c.oom = 0;
                c.unmapped_parts = NULL;
                rc = map_span(&c, op, emit, opaque, st);
                json_decref(c.unmapped_parts);
                c.unmapped_parts = NULL;
                if (rc == -1 && c.oom)
                    snprintf(st->first_error, sizeof st->first_error, "out of memory");
                fw_otlp_arena_reset(c.a);
            }
        }
    }
    fw_otlp_arena_free(c.a);
    return rc;
}
