/*
 * AnyValue to JSON: kvlists become objects (the order kept, a repeated key
 * keeping its last value), arrays arrays, bytes base64 strings, non-finite
 * doubles the strings "NaN", "Infinity", "-Infinity" (as OTLP/JSON writes
 * them). Structured GenAI content (gen_ai.input.messages as an array of
 * kvlists) is read through this, the same as content sent as a JSON string.
 */
#include "value.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static json_t *base64(const char *p, size_t n)
{
    static const char T[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (n > (SIZE_MAX - 4) / 4 * 3)
        return NULL;
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        out[o++] = T[v >> 18 & 63];
        out[o++] = T[v >> 12 & 63];
        out[o++] = i + 1 < n ? T[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? T[v & 63] : '=';
    }
    json_t *j = json_stringn_nocheck(out, o);
    free(out);
    return j;
}

json_t *fw_otlp_value_to_json(const fw_otlp_value *v)
{
    switch (v->type) {
    case FW_OTLP_STRING:
        return json_stringn_nocheck(v->u.s.p, v->u.s.len);
    case FW_OTLP_BOOL:
        return json_boolean(v->u.b);
    case FW_OTLP_INT:
        return json_integer(v->u.i);
    case FW_OTLP_DOUBLE:
        if (isnan(v->u.d))
            return json_string("NaN");
        if (isinf(v->u.d))
            return json_string(v->u.d > 0 ? "Infinity" : "-Infinity");
        return json_real(v->u.d);
    case FW_OTLP_BYTES:
        return base64(v->u.s.p, v->u.s.len);
    case FW_OTLP_ARRAY: {
        json_t *a = json_array();
        for (size_t i = 0; a && i < v->u.arr.n; i++) {
            json_t *x = fw_otlp_value_to_json(&v->u.arr.v[i]);
            if (!x || json_array_append_new(a, x) != 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case FW_OTLP_KVLIST: {
        json_t *o = json_object();
        for (size_t i = 0; o && i < v->u.kvl.n; i++) {
            json_t *x = fw_otlp_value_to_json(&v->u.kvl.kv[i].value);
            if (!x || json_object_set_new(o, v->u.kvl.kv[i].key, x) != 0) {
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    case FW_OTLP_EMPTY:
    default:
        return json_null();
    }
}

char *fw_otlp_value_json(const fw_otlp_value *v)
{
    json_t *j = fw_otlp_value_to_json(v);
    if (!j)
        return NULL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    return s;
}

json_t *fw_otlp_value_structured(const fw_otlp_value *v)
{
    if (v->type == FW_OTLP_STRING) {
        size_t i = 0;
        while (i < v->u.s.len && (v->u.s.p[i] == ' ' || v->u.s.p[i] == '\n' ||
                                  v->u.s.p[i] == '\t' || v->u.s.p[i] == '\r'))
            i++;
        if (i < v->u.s.len && (v->u.s.p[i] == '[' || v->u.s.p[i] == '{'))
            return json_loadb(v->u.s.p, v->u.s.len, 0, NULL);
        return NULL;
    }
    if (v->type == FW_OTLP_ARRAY || v->type == FW_OTLP_KVLIST)
        return fw_otlp_value_to_json(v);
    return NULL;
}
