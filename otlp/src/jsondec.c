/*
 * The OTLP/JSON decoder: the JSON form of ExportTraceServiceRequest (the
 * OTLP specification's deviations from proto3 JSON included) read with
 * jansson into the same fw_otlp model as the protobuf decoder.
 *
 * What OTLP/JSON allows and this accepts: trace and span ids as hex in any
 * case; int64 and fixed64 as decimal strings or as numbers; doubles as
 * numbers, numeric strings, or "NaN", "Infinity", "-Infinity"; bytes in
 * base64; enums as integers; unknown keys ignored. What it refuses: a
 * member of the wrong JSON type where the structure depends on it (arrays
 * that are not arrays, objects that are not objects), ids of the wrong
 * size, and a body that is a logs or metrics export. jansson already
 * refuses invalid UTF-8 and \u0000, as the model requires.
 */
#include "fw_hex.h"
#include "internal.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    fw_otlp_arena *a;
    char *err;
    size_t errsize;
} dec;

static int oom(dec *d)
{
    return fw_otlp_fail(d->err, d->errsize, "out of memory");
}

/* The array member `key` of o: NULL and n = 0 when absent or null; -1 when
 * it is something else. */
static int array_member(dec *d, json_t *o, const char *key, const char *where, json_t **arr)
{
    json_t *a = json_object_get(o, key);
    *arr = NULL;
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a))
        return fw_otlp_fail(d->err, d->errsize, "%s.%s is not an array", where, key);
    *arr = a;
    return 0;
}

static int object_member(dec *d, json_t *o, const char *key, const char *where, json_t **obj)
{
    json_t *v = json_object_get(o, key);
    *obj = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return fw_otlp_fail(d->err, d->errsize, "%s.%s is not an object", where, key);
    *obj = v;
    return 0;
}

static int string_member(dec *d, json_t *o, const char *key, const char *where, const char **out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return fw_otlp_fail(d->err, d->errsize, "%s.%s is not a string", where, key);
    char *s = fw_otlp_arena_strndup(d->a, json_string_value(v), json_string_length(v));
    if (!s)
        return oom(d);
    *out = s;
    return 0;
}

/* An int64 given as a number or a decimal string. */
static int int64_of(dec *d, json_t *v, const char *what, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double x = json_real_value(v);
        if (x == floor(x) && x >= -9223372036854775808.0 && x < 9223372036854775808.0) {
            *out = (int64_t)x;
            return 0;
        }
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (*s && *end == '\0' && errno == 0 && s[0] != ' ') {
            *out = x;
            return 0;
        }
    }
    return fw_otlp_fail(d->err, d->errsize, "%s is not an int64", what);
}

/* A fixed64 (times) given as a number or a decimal string. */
static int uint64_of(dec *d, json_t *v, const char *what, uint64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double x = json_real_value(v);
        if (x == floor(x) && x >= 0 && x < 18446744073709551616.0) {
            *out = (uint64_t)x;
            return 0;
        }
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (s[0] >= '0' && s[0] <= '9' && *end == '\0' && errno == 0) {
            *out = x;
            return 0;
        }
    }
    return fw_otlp_fail(d->err, d->errsize, "%s is not an unsigned 64-bit integer", what);
}

static int double_of(dec *d, json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "NaN") == 0) {
            *out = NAN;
            return 0;
        }
        if (strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0) {
            *out = s[0] == '-' ? -INFINITY : INFINITY;
            return 0;
        }
        char *end;
        errno = 0;
        double x = strtod(s, &end);
        if (*s && *end == '\0' && errno == 0 && isfinite(x)) {
            *out = x;
            return 0;
        }
    }
    return fw_otlp_fail(d->err, d->errsize, "doubleValue is not a number");
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Standard or URL-safe base64, padding optional. */
static int base64_of(dec *d, const char *s, size_t n, fw_otlp_value *v)
{
    while (n && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return fw_otlp_fail(d->err, d->errsize, "bytesValue is not base64");
    char *out = fw_otlp_arena_alloc(d->a, n / 4 * 3 + 3);
    if (!out)
        return oom(d);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int x = b64val((unsigned char)s[i]);
        if (x < 0)
            return fw_otlp_fail(d->err, d->errsize, "bytesValue is not base64");
        acc = (acc << 6) | (uint32_t)x;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xFF);
        }
    }
    out[o] = '\0';
    v->type = FW_OTLP_BYTES;
    v->u.s.p = out;
    v->u.s.len = o;
    return 0;
}

/* A hex id of exactly `size` bytes; an empty or absent one when allowed. */
static int hex_id(dec *d, json_t *span, const char *key, uint8_t *out, size_t size, size_t *len,
                  int may_be_empty)
{
    json_t *v = json_object_get(span, key);
    const char *s = v && json_is_string(v) ? json_string_value(v) : NULL;
    if (v && !json_is_null(v) && !s)
        return fw_otlp_fail(d->err, d->errsize, "span.%s is not a string", key);
    size_t n = s ? json_string_length(v) : 0;
    if (n == 0) {
        *len = 0;
        if (may_be_empty)
            return 0;
        return fw_otlp_fail(d->err, d->errsize, "a span has no %s", key);
    }
    if (n != 2 * size)
        return fw_otlp_fail(d->err, d->errsize, "span.%s has %zu hex digits, expected %zu", key, n,
                            2 * size);
    for (size_t i = 0; i < size; i++) {
        int hi = fw_hex_val((unsigned char)s[2 * i]), lo = fw_hex_val((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return fw_otlp_fail(d->err, d->errsize, "span.%s is not hex", key);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = size;
    return 0;
}

static int keyvalues(dec *d, json_t *arr, fw_otlp_kv **out, size_t *n, int depth);

static int anyvalue(dec *d, json_t *o, fw_otlp_value *v, int depth)
{
    v->type = FW_OTLP_EMPTY;
    if (!o || json_is_null(o))
        return 0;
    if (!json_is_object(o))
        return fw_otlp_fail(d->err, d->errsize, "an attribute value is not an object");
    if (depth > FW_OTLP_MAX_DEPTH)
        return fw_otlp_fail(d->err, d->errsize, "values nested deeper than %d", FW_OTLP_MAX_DEPTH);
    json_t *x;
    if ((x = json_object_get(o, "stringValue")) && !json_is_null(x)) {
        if (!json_is_string(x))
            return fw_otlp_fail(d->err, d->errsize, "stringValue is not a string");
        v->u.s.len = json_string_length(x);
        v->u.s.p = fw_otlp_arena_strndup(d->a, json_string_value(x), v->u.s.len);
        if (!v->u.s.p)
            return oom(d);
        v->type = FW_OTLP_STRING;
    } else if ((x = json_object_get(o, "boolValue")) && !json_is_null(x)) {
        if (!json_is_boolean(x))
            return fw_otlp_fail(d->err, d->errsize, "boolValue is not a boolean");
        v->type = FW_OTLP_BOOL;
        v->u.b = json_is_true(x);
    } else if ((x = json_object_get(o, "intValue")) && !json_is_null(x)) {
        if (int64_of(d, x, "intValue", &v->u.i) != 0)
            return -1;
        v->type = FW_OTLP_INT;
    } else if ((x = json_object_get(o, "doubleValue")) && !json_is_null(x)) {
        if (double_of(d, x, &v->u.d) != 0)
            return -1;
        v->type = FW_OTLP_DOUBLE;
    } else if ((x = json_object_get(o, "bytesValue")) && !json_is_null(x)) {
        if (!json_is_string(x))
            return fw_otlp_fail(d->err, d->errsize, "bytesValue is not a string");
        return base64_of(d, json_string_value(x), json_string_length(x), v);
    } else if ((x = json_object_get(o, "arrayValue")) && !json_is_null(x)) {
        json_t *vals;
        if (!json_is_object(x))
            return fw_otlp_fail(d->err, d->errsize, "arrayValue is not an object");
        if (array_member(d, x, "values", "arrayValue", &vals) != 0)
            return -1;
        size_t n = vals ? json_array_size(vals) : 0;
        fw_otlp_value *items = n ? fw_otlp_arena_calloc(d->a, n, sizeof *items) : NULL;
        if (n && !items)
            return oom(d);
        for (size_t i = 0; i < n; i++)
            if (anyvalue(d, json_array_get(vals, i), &items[i], depth + 1) != 0)
                return -1;
        v->type = FW_OTLP_ARRAY;
        v->u.arr.v = items;
        v->u.arr.n = n;
    } else if ((x = json_object_get(o, "kvlistValue")) && !json_is_null(x)) {
        json_t *vals;
        if (!json_is_object(x))
            return fw_otlp_fail(d->err, d->errsize, "kvlistValue is not an object");
        if (array_member(d, x, "values", "kvlistValue", &vals) != 0)
            return -1;
        if (keyvalues(d, vals, &v->u.kvl.kv, &v->u.kvl.n, depth + 1) != 0)
            return -1;
        v->type = FW_OTLP_KVLIST;
    }
    return 0;
}

static int keyvalues(dec *d, json_t *arr, fw_otlp_kv **out, size_t *n, int depth)
{
    *n = arr ? json_array_size(arr) : 0;
    *out = NULL;
    if (*n == 0)
        return 0;
    *out = fw_otlp_arena_calloc(d->a, *n, sizeof **out);
    if (!*out)
        return oom(d);
    for (size_t i = 0; i < *n; i++) {
        json_t *kv = json_array_get(arr, i);
        if (!json_is_object(kv))
            return fw_otlp_fail(d->err, d->errsize, "an attribute is not an object");
        (*out)[i].key = "";
        if (string_member(d, kv, "key", "attribute", &(*out)[i].key) != 0 ||
            anyvalue(d, json_object_get(kv, "value"), &(*out)[i].value, depth) != 0)
            return -1;
    }
    return 0;
}

static int attributes_of(dec *d, json_t *o, const char *where, fw_otlp_kv **out, size_t *n)
{
    json_t *arr;
    if (array_member(d, o, "attributes", where, &arr) != 0)
        return -1;
    return keyvalues(d, arr, out, n, 1);
}

static int span(dec *d, json_t *o, fw_otlp_span *s)
{
    if (!json_is_object(o))
        return fw_otlp_fail(d->err, d->errsize, "a span is not an object");
    s->name = "";
    s->status_message = "";
    if (hex_id(d, o, "traceId", s->trace_id, 16, &s->trace_id_len, 0) != 0 ||
        hex_id(d, o, "spanId", s->span_id, 8, &s->span_id_len, 0) != 0 ||
        hex_id(d, o, "parentSpanId", s->parent_span_id, 8, &s->parent_span_id_len, 1) != 0 ||
        string_member(d, o, "name", "span", &s->name) != 0 ||
        attributes_of(d, o, "span", &s->attrs, &s->n_attrs) != 0)
        return -1;
    json_t *x;
    if ((x = json_object_get(o, "kind")) && json_is_integer(x) && json_integer_value(x) >= 0 &&
        json_integer_value(x) <= 5)
        s->kind = (int)json_integer_value(x);
    if ((x = json_object_get(o, "startTimeUnixNano")) && !json_is_null(x) &&
        uint64_of(d, x, "span.startTimeUnixNano", &s->start_time_unix_nano) != 0)
        return -1;
    if ((x = json_object_get(o, "endTimeUnixNano")) && !json_is_null(x) &&
        uint64_of(d, x, "span.endTimeUnixNano", &s->end_time_unix_nano) != 0)
        return -1;
    json_t *st;
    if (object_member(d, o, "status", "span", &st) != 0)
        return -1;
    if (st) {
        if (string_member(d, st, "message", "span.status", &s->status_message) != 0)
            return -1;
        x = json_object_get(st, "code");
        if (x && json_is_integer(x) && json_integer_value(x) >= 0 && json_integer_value(x) <= 2)
            s->status_code = (int)json_integer_value(x);
    }
    json_t *evs;
    if (array_member(d, o, "events", "span", &evs) != 0)
        return -1;
    s->n_events = evs ? json_array_size(evs) : 0;
    if (s->n_events) {
        s->events = fw_otlp_arena_calloc(d->a, s->n_events, sizeof *s->events);
        if (!s->events)
            return oom(d);
    }
    for (size_t i = 0; i < s->n_events; i++) {
        json_t *e = json_array_get(evs, i);
        fw_otlp_event *ev = &s->events[i];
        ev->name = "";
        if (!json_is_object(e))
            return fw_otlp_fail(d->err, d->errsize, "a span event is not an object");
        if (string_member(d, e, "name", "event", &ev->name) != 0 ||
            attributes_of(d, e, "event", &ev->attrs, &ev->n_attrs) != 0)
            return -1;
        if ((x = json_object_get(e, "timeUnixNano")) && !json_is_null(x) &&
            uint64_of(d, x, "event.timeUnixNano", &ev->time_unix_nano) != 0)
            return -1;
    }
    return 0;
}

static int scope_spans(dec *d, json_t *o, fw_otlp_scope *sc, size_t *total)
{
    if (!json_is_object(o))
        return fw_otlp_fail(d->err, d->errsize, "a scopeSpans entry is not an object");
    sc->name = "";
    sc->version = "";
    json_t *scope, *spans;
    if (object_member(d, o, "scope", "scopeSpans", &scope) != 0 ||
        array_member(d, o, "spans", "scopeSpans", &spans) != 0)
        return -1;
    if (scope && (string_member(d, scope, "name", "scope", &sc->name) != 0 ||
                  string_member(d, scope, "version", "scope", &sc->version) != 0 ||
                  attributes_of(d, scope, "scope", &sc->attrs, &sc->n_attrs) != 0))
        return -1;
    sc->n_spans = spans ? json_array_size(spans) : 0;
    if (sc->n_spans) {
        sc->spans = fw_otlp_arena_calloc(d->a, sc->n_spans, sizeof *sc->spans);
        if (!sc->spans)
            return oom(d);
    }
    for (size_t i = 0; i < sc->n_spans; i++)
        if (span(d, json_array_get(spans, i), &sc->spans[i]) != 0)
            return -1;
    *total += sc->n_spans;
    return 0;
}

static int resource_spans(dec *d, json_t *o, fw_otlp_resource *res, size_t *total)
{
    if (!json_is_object(o))
        return fw_otlp_fail(d->err, d->errsize, "a resourceSpans entry is not an object");
    json_t *r, *scopes;
    if (object_member(d, o, "resource", "resourceSpans", &r) != 0 ||
        array_member(d, o, "scopeSpans", "resourceSpans", &scopes) != 0)
        return -1;
    if (r && attributes_of(d, r, "resource", &res->attrs, &res->n_attrs) != 0)
        return -1;
    res->n_scopes = scopes ? json_array_size(scopes) : 0;
    if (res->n_scopes) {
        res->scopes = fw_otlp_arena_calloc(d->a, res->n_scopes, sizeof *res->scopes);
        if (!res->scopes)
            return oom(d);
    }
    for (size_t i = 0; i < res->n_scopes; i++)
        if (scope_spans(d, json_array_get(scopes, i), &res->scopes[i], total) != 0)
            return -1;
    return 0;
}

int fw_otlp_decode_json(const char *data, size_t len, fw_otlp_request **out, char *err,
                        size_t errsize)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return fw_otlp_fail(err, errsize, "invalid JSON at line %d column %d: %s", je.line,
                            je.column, je.text);
    fw_otlp_request *req = NULL;
    if (!json_is_object(root)) {
        fw_otlp_fail(err, errsize, "the body is not a JSON object");
        goto fail;
    }
    json_t *rs = json_object_get(root, "resourceSpans");
    if (!rs || json_is_null(rs)) {
        static const char *const others[] = {"resourceLogs", "resourceMetrics", "resourceProfiles"};
        for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
            if (json_object_get(root, others[i])) {
                fw_otlp_fail(err, errsize,
                             "the body holds %s, not resourceSpans (is this an OTLP logs or "
                             "metrics export sent to the traces endpoint?)",
                             others[i]);
                goto fail;
            }
    } else if (!json_is_array(rs)) {
        fw_otlp_fail(err, errsize, "resourceSpans is not an array");
        goto fail;
    }
    req = fw_otlp_request_new();
    if (!req) {
        fw_otlp_fail(err, errsize, "out of memory");
        goto fail;
    }
    dec d = {req->arena, err, errsize};
    req->n_resources = rs && json_is_array(rs) ? json_array_size(rs) : 0;
    if (req->n_resources) {
        req->resources = fw_otlp_arena_calloc(req->arena, req->n_resources, sizeof *req->resources);
        if (!req->resources) {
            oom(&d);
            goto fail;
        }
    }
    for (size_t i = 0; i < req->n_resources; i++)
        if (resource_spans(&d, json_array_get(rs, i), &req->resources[i], &req->n_spans) != 0)
            goto fail;
    json_decref(root);
    *out = req;
    return 0;
fail:
    fw_otlp_request_free(req);
    json_decref(root);
    return -1;
}
