/*
 * See otlpw.h.
 */
#include "otlpw.h"

#include "fwtest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void grow(pbw *w, size_t n)
{
    if (w->len + n <= w->cap)
        return;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + n)
        cap *= 2;
    w->p = realloc(w->p, cap);
    if (!w->p)
        abort();
    w->cap = cap;
}

void pbw_varint(pbw *w, uint64_t v)
{
    grow(w, 10);
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        w->p[w->len++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
}

void pbw_tag(pbw *w, unsigned field, unsigned wt)
{
    pbw_varint(w, (uint64_t)field << 3 | wt);
}

void pbw_bytes(pbw *w, unsigned field, const void *p, size_t n)
{
    pbw_tag(w, field, 2);
    pbw_varint(w, n);
    grow(w, n);
    if (n)
        memcpy(w->p + w->len, p, n);
    w->len += n;
}

void pbw_str(pbw *w, unsigned field, const char *s)
{
    pbw_bytes(w, field, s, strlen(s));
}

void pbw_fixed64(pbw *w, unsigned field, uint64_t v)
{
    pbw_tag(w, field, 1);
    grow(w, 8);
    for (int i = 0; i < 8; i++)
        w->p[w->len++] = (uint8_t)(v >> (8 * i));
}

void pbw_fixed32(pbw *w, unsigned field, uint32_t v)
{
    pbw_tag(w, field, 5);
    grow(w, 4);
    for (int i = 0; i < 4; i++)
        w->p[w->len++] = (uint8_t)(v >> (8 * i));
}

void pbw_free(pbw *w)
{
    free(w->p);
    memset(w, 0, sizeof *w);
}

static void sub(pbw *w, unsigned field, pbw *inner)
{
    pbw_bytes(w, field, inner->p, inner->len);
    pbw_free(inner);
}

static uint64_t u64(json_t *v)
{
    if (json_is_string(v))
        return strtoull(json_string_value(v), NULL, 10);
    return (uint64_t)json_integer_value(v);
}

static void hex(pbw *w, unsigned field, json_t *v)
{
    const char *s = json_string_value(v);
    if (!s)
        return;
    uint8_t buf[64];
    size_t n = strlen(s) / 2;
    for (size_t i = 0; i < n && i < sizeof buf; i++) {
        unsigned x;
        sscanf(s + 2 * i, "%2x", &x);
        buf[i] = (uint8_t)x;
    }
    pbw_bytes(w, field, buf, n);
}

static void kvs(pbw *w, unsigned field, json_t *arr);

static void anyvalue(pbw *w, json_t *o)
{
    json_t *x;
    if ((x = json_object_get(o, "stringValue"))) {
        pbw_bytes(w, 1, json_string_value(x), json_string_length(x));
    } else if ((x = json_object_get(o, "boolValue"))) {
        pbw_tag(w, 2, 0);
        pbw_varint(w, json_is_true(x));
    } else if ((x = json_object_get(o, "intValue"))) {
        pbw_tag(w, 3, 0);
        pbw_varint(w, json_is_string(x) ? (uint64_t)strtoll(json_string_value(x), NULL, 10)
                                        : (uint64_t)json_integer_value(x));
    } else if ((x = json_object_get(o, "doubleValue"))) {
        double d = json_number_value(x);
        uint64_t bits;
        memcpy(&bits, &d, 8);
        pbw_fixed64(w, 4, bits);
    } else if ((x = json_object_get(o, "arrayValue"))) {
        pbw arr = {0};
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(x, "values"), i, v)
        {
            pbw one = {0};
            anyvalue(&one, v);
            sub(&arr, 1, &one);
        }
        sub(w, 5, &arr);
    } else if ((x = json_object_get(o, "kvlistValue"))) {
        pbw l = {0};
        kvs(&l, 1, json_object_get(x, "values"));
        sub(w, 6, &l);
    } else if ((x = json_object_get(o, "bytesValue"))) {
        /* The tests' base64 values are "AAEC/w==" only: 00 01 02 ff. */
        FWT_CHECK_EQ_STR(json_string_value(x), "AAEC/w==");
        pbw_bytes(w, 7, "\x00\x01\x02\xff", 4);
    }
}

static void kvs(pbw *w, unsigned field, json_t *arr)
{
    size_t i;
    json_t *kv;
    json_array_foreach(arr, i, kv)
    {
        pbw one = {0};
        pbw_str(&one, 1, json_string_value(json_object_get(kv, "key")));
        json_t *v = json_object_get(kv, "value");
        if (v) {
            pbw val = {0};
            anyvalue(&val, v);
            sub(&one, 2, &val);
        }
        sub(w, field, &one);
    }
}

static void span(pbw *w, json_t *s)
{
    json_t *x;
    hex(w, 1, json_object_get(s, "traceId"));
    hex(w, 2, json_object_get(s, "spanId"));
    if ((x = json_object_get(s, "parentSpanId")) && json_string_length(x))
        hex(w, 4, x);
    if ((x = json_object_get(s, "name")))
        pbw_str(w, 5, json_string_value(x));
    if ((x = json_object_get(s, "kind"))) {
        pbw_tag(w, 6, 0);
        pbw_varint(w, (uint64_t)json_integer_value(x));
    }
    if ((x = json_object_get(s, "startTimeUnixNano")))
        pbw_fixed64(w, 7, u64(x));
    if ((x = json_object_get(s, "endTimeUnixNano")))
        pbw_fixed64(w, 8, u64(x));
    kvs(w, 9, json_object_get(s, "attributes"));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(s, "events"), i, e)
    {
        pbw ev = {0};
        if ((x = json_object_get(e, "timeUnixNano")))
            pbw_fixed64(&ev, 1, u64(x));
        pbw_str(&ev, 2, json_string_value(json_object_get(e, "name")));
        kvs(&ev, 3, json_object_get(e, "attributes"));
        sub(w, 11, &ev);
    }
    if ((x = json_object_get(s, "status"))) {
        pbw st = {0};
        json_t *m = json_object_get(x, "message");
        if (m)
            pbw_str(&st, 2, json_string_value(m));
        if ((m = json_object_get(x, "code"))) {
            pbw_tag(&st, 3, 0);
            pbw_varint(&st, (uint64_t)json_integer_value(m));
        }
        sub(w, 15, &st);
    }
}

void otlpw_json_to_proto(const char *text, pbw *out)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    FWT_CHECK_MSG(root != NULL, "test JSON invalid: %s (line %d)", je.text, je.line);
    memset(out, 0, sizeof *out);
    size_t i, j, k;
    json_t *rs, *ss, *sp;
    json_array_foreach(json_object_get(root, "resourceSpans"), i, rs)
    {
        pbw r = {0};
        json_t *res = json_object_get(rs, "resource");
        if (res) {
            pbw rr = {0};
            kvs(&rr, 1, json_object_get(res, "attributes"));
            sub(&r, 1, &rr);
        }
        json_array_foreach(json_object_get(rs, "scopeSpans"), j, ss)
        {
            pbw s = {0};
            json_t *sc = json_object_get(ss, "scope");
            if (sc) {
                pbw scp = {0};
                json_t *x;
                if ((x = json_object_get(sc, "name")))
                    pbw_str(&scp, 1, json_string_value(x));
                if ((x = json_object_get(sc, "version")))
                    pbw_str(&scp, 2, json_string_value(x));
                sub(&s, 1, &scp);
            }
            json_array_foreach(json_object_get(ss, "spans"), k, sp)
            {
                pbw one = {0};
                span(&one, sp);
                sub(&s, 2, &one);
            }
            sub(&r, 2, &s);
        }
        sub(out, 1, &r);
    }
    json_decref(root);
}

static int collect(void *opaque, Flywheel__V1__Event *ev, const fw_otlp_span *span)
{
    (void)span;
    mapped *m = opaque;
    size_t n = flywheel__v1__event__get_packed_size(ev);
    uint8_t *buf = malloc(n ? n : 1);
    FWT_CHECK(buf != NULL);
    flywheel__v1__event__pack(ev, buf);
    m->ev = realloc(m->ev, (m->n + 1) * sizeof *m->ev);
    m->packed = realloc(m->packed, (m->n + 1) * sizeof *m->packed);
    m->packed_len = realloc(m->packed_len, (m->n + 1) * sizeof *m->packed_len);
    FWT_CHECK(m->ev && m->packed && m->packed_len);
    m->packed[m->n] = buf;
    m->packed_len[m->n] = n;
    m->ev[m->n] = flywheel__v1__event__unpack(NULL, n, buf);
    FWT_CHECK(m->ev[m->n] != NULL);
    m->n++;
    return 0;
}

void map_json(const char *json, const fw_otlp_map_opts *o, int also_proto, mapped *out)
{
    memset(out, 0, sizeof *out);
    char err[256];
    fw_otlp_request *req;
    FWT_CHECK_MSG(fw_otlp_decode_json(json, strlen(json), &req, err, sizeof err) == 0,
                  "JSON decode failed: %s", err);
    FWT_CHECK_EQ_INT(fw_otlp_map(req, o, collect, out, &out->st), 0);
    fw_otlp_request_free(req);
    if (!also_proto)
        return;
    pbw w;
    otlpw_json_to_proto(json, &w);
    FWT_CHECK_MSG(fw_otlp_decode_proto(w.p, w.len, &req, err, sizeof err) == 0,
                  "protobuf decode failed: %s", err);
    mapped p;
    memset(&p, 0, sizeof p);
    FWT_CHECK_EQ_INT(fw_otlp_map(req, o, collect, &p, &p.st), 0);
    fw_otlp_request_free(req);
    pbw_free(&w);
    FWT_CHECK_EQ_INT(p.n, out->n);
    for (size_t i = 0; i < p.n; i++) {
        FWT_CHECK_EQ_INT(p.packed_len[i], out->packed_len[i]);
        FWT_CHECK_MSG(memcmp(p.packed[i], out->packed[i], p.packed_len[i]) == 0,
                      "event %zu differs between the JSON and the protobuf encoding", i);
    }
    mapped_free(&p);
}

void mapped_free(mapped *m)
{
    for (size_t i = 0; i < m->n; i++) {
        flywheel__v1__event__free_unpacked(m->ev[i], NULL);
        free(m->packed[i]);
    }
    free(m->ev);
    free(m->packed);
    free(m->packed_len);
    memset(m, 0, sizeof *m);
}

static const char *role_name(Flywheel__V1__Role r)
{
    static const char *const names[] = {"?", "system", "user", "assistant", "tool", "developer"};
    return (unsigned)r < 6 ? names[r] : "bad";
}

char *msgs_json(Flywheel__V1__Message *const *m, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object(), *parts = json_array();
        json_object_set_new(o, "role", json_string(role_name(m[i]->role)));
        if (m[i]->name[0])
            json_object_set_new(o, "name", json_string(m[i]->name));
        if (m[i]->finish_reason[0])
            json_object_set_new(o, "finish_reason", json_string(m[i]->finish_reason));
        for (size_t k = 0; k < m[i]->n_parts; k++) {
            const Flywheel__V1__Part *p = m[i]->parts[k];
            json_t *x = json_object();
            switch (p->content_case) {
            case FLYWHEEL__V1__PART__CONTENT_TEXT:
                json_object_set_new(x, "text", json_string(p->text));
                break;
            case FLYWHEEL__V1__PART__CONTENT_REASONING:
                json_object_set_new(x, "reasoning", json_string(p->reasoning));
                break;
            case FLYWHEEL__V1__PART__CONTENT_TOOL_CALL:
                json_object_set_new(x, "tool_call",
                                    json_pack("[sss]", p->tool_call->id, p->tool_call->name,
                                              p->tool_call->arguments_json));
                break;
            case FLYWHEEL__V1__PART__CONTENT_TOOL_CALL_RESPONSE:
                json_object_set_new(
                    x, "tool_call_response",
                    json_pack("[ss]", p->tool_call_response->id, p->tool_call_response->content));
                break;
            default:
                json_object_set_new(x, "none", json_null());
            }
            json_array_append_new(parts, x);
        }
        json_object_set_new(o, "parts", parts);
        json_array_append_new(arr, o);
    }
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return s;
}

const char *ev_attr(const Flywheel__V1__Event *ev, const char *key)
{
    for (size_t i = 0; i < ev->n_attributes; i++)
        if (strcmp(ev->attributes[i]->key, key) == 0)
            return ev->attributes[i]->value;
    return NULL;
}
