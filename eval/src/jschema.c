/*
 * The JSON Schema subset of jschema.h. Two passes by design: the check runs
 * once when a scorer configuration loads (so an unsupported keyword is a
 * configuration error, never a silent pass), the validation runs per case
 * and may therefore assume well-typed keyword values. Paths in messages are
 * JSON pointers: "/items/3/name" for the instance, "#/properties/a" for the
 * schema.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "jschema.h"

#include <math.h>
#include <stdarg.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

static const char *const annotations[] = {"$schema",     "$id",       "$comment", "title",
                                          "description", "default",   "examples", "deprecated",
                                          "readOnly",    "writeOnly", NULL};
static const char *const type_names[] = {"null",   "boolean", "object",  "array",
                                         "number", "string",  "integer", NULL};

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errsize, const char *path,
                                                      const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, errsize, "%s at \"%s\"", msg, *path ? path : "/");
    return -1;
}

static void path_push(char *path, size_t size, const char *seg)
{
    size_t n = strlen(path);
    if (n < size)
        snprintf(path + n, size - n, "/%s", seg);
}

static void path_pop(char *path, size_t len)
{
    path[len] = '\0';
}

static int regex_compiles(const char *pat, char *why, size_t whysize)
{
    int ec;
    PCRE2_SIZE off;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &off, NULL);
    if (!re) {
        PCRE2_UCHAR buf[160];
        pcre2_get_error_message(ec, buf, sizeof buf);
        snprintf(why, whysize, "%s (offset %zu)", (const char *)buf, (size_t)off);
        return 0;
    }
    pcre2_code_free(re);
    return 1;
}

static int check_at(const json_t *s, char *path, size_t psize, char *err, size_t errsize);

static int check_keyword(const char *k, const json_t *v, char *path, size_t psize, char *err,
                         size_t errsize)
{
    if (strcmp(k, "type") == 0) {
        if (json_is_string(v)) {
            if (!in_list(json_string_value(v), type_names))
                return fail(err, errsize, path, "unknown type \"%s\"", json_string_value(v));
            return 0;
        }
        if (!json_is_array(v) || json_array_size(v) == 0)
            return fail(err, errsize, path, "%s must be a type name or a list of them", k);
        size_t i;
        json_t *t;
        json_array_foreach(v, i, t)
        {
            if (!json_is_string(t) || !in_list(json_string_value(t), type_names))
                return fail(err, errsize, path, "%s lists an unknown type", k);
        }
        return 0;
    }
    if (strcmp(k, "properties") == 0) {
        if (!json_is_object(v))
            return fail(err, errsize, path, "%s must be an object", k);
        const char *name;
        json_t *sub;
        size_t len = strlen(path);
        json_object_foreach((json_t *)(uintptr_t)v, name, sub)
        {
            path_push(path, psize, "properties");
            path_push(path, psize, name);
            int rc = check_at(sub, path, psize, err, errsize);
            path_pop(path, len);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (strcmp(k, "required") == 0) {
        if (!json_is_array(v))
            return fail(err, errsize, path, "%s must be a list of names", k);
        size_t i;
        json_t *n;
        json_array_foreach(v, i, n)
        {
            if (!json_is_string(n))
                return fail(err, errsize, path, "%s must be a list of names", k);
        }
        return 0;
    }
    if (strcmp(k, "additionalProperties") == 0 || strcmp(k, "items") == 0) {
        size_t len = strlen(path);
        path_push(path, psize, k);
        int rc = check_at(v, path, psize, err, errsize);
        path_pop(path, len);
        return rc;
    }
    if (strcmp(k, "enum") == 0) {
        if (!json_is_array(v))
            return fail(err, errsize, path, "%s must be a list", k);
        return 0;
    }
    if (strcmp(k, "const") == 0)
        return 0;
    if (strcmp(k, "minimum") == 0 || strcmp(k, "maximum") == 0 ||
        strcmp(k, "exclusiveMinimum") == 0 || strcmp(k, "exclusiveMaximum") == 0) {
        if (!json_is_number(v))
            return fail(err, errsize, path, "%s must be a number", k);
        return 0;
    }
    if (strcmp(k, "minLength") == 0 || strcmp(k, "maxLength") == 0 || strcmp(k, "minItems") == 0 ||
        strcmp(k, "maxItems") == 0) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return fail(err, errsize, path, "%s must be a non-negative integer", k);
        return 0;
    }
    if (strcmp(k, "pattern") == 0) {
        char why[200];
        if (!json_is_string(v))
            return fail(err, errsize, path, "%s must be a string", k);
        if (!regex_compiles(json_string_value(v), why, sizeof why))
            return fail(err, errsize, path, "invalid pattern: %s", why);
        return 0;
    }
    if (in_list(k, annotations))
        return 0;
    return fail(err, errsize, path, "unsupported JSON Schema keyword \"%s\"", k);
}

static int check_at(const json_t *s, char *path, size_t psize, char *err, size_t errsize)
{
    if (json_is_boolean(s))
        return 0;
    if (!json_is_object(s))
        return fail(err, errsize, path, "a schema must be an object or a boolean");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)s, k, v)
    {
        if (check_keyword(k, v, path, psize, err, errsize))
            return -1;
    }
    return 0;
}

int fw_jschema_check(const json_t *schema, char *err, size_t errsize)
{
    char path[512] = "#";
    return check_at(schema, path, sizeof path, err, errsize);
}

int fw_json_equal_num(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (json_typeof(a) != json_typeof(b))
        return 0;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!fw_json_equal_num(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)(uintptr_t)a, k, v)
        {
            const json_t *w = json_object_get(b, k);
            if (!w || !fw_json_equal_num(v, w))
                return 0;
        }
        return 1;
    }
    return json_equal(a, b);
}

static int type_matches(const char *t, const json_t *x)
{
    if (strcmp(t, "null") == 0)
        return json_is_null(x);
    if (strcmp(t, "boolean") == 0)
        return json_is_boolean(x);
    if (strcmp(t, "object") == 0)
        return json_is_object(x);
    if (strcmp(t, "array") == 0)
        return json_is_array(x);
    if (strcmp(t, "string") == 0)
        return json_is_string(x);
    if (strcmp(t, "number") == 0)
        return json_is_number(x);
    if (strcmp(t, "integer") == 0) {
        if (json_is_integer(x))
            return 1;
        if (!json_is_real(x))
            return 0;
        double d = json_real_value(x);
        return isfinite(d) && floor(d) == d;
    }
    return 0;
}

static const char *type_of(const json_t *x)
{
    switch (json_typeof(x)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

static size_t utf8_len(const char *s, size_t n)
{
    size_t cps = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            cps++;
    return cps;
}

/* Returns 1 valid, 0 invalid (err set), -1 out of memory. */
static int validate_at(const json_t *s, const json_t *x, char *path, size_t psize, char *err,
                       size_t errsize);

static int invalid(char *err, size_t errsize, const char *path, const char *msg)
{
    snprintf(err, errsize, "%s at \"%s\"", msg, *path ? path : "/");
    return 0;
}

static int validate_type(const json_t *t, const json_t *x, char *path, char *err, size_t errsize)
{
    char msg[200];
    if (json_is_string(t)) {
        if (type_matches(json_string_value(t), x))
            return 1;
        snprintf(msg, sizeof msg, "expected %s, got %s", json_string_value(t), type_of(x));
        return invalid(err, errsize, path, msg);
    }
    size_t i;
    json_t *e;
    json_array_foreach(t, i, e)
    {
        if (type_matches(json_string_value(e), x))
            return 1;
    }
    snprintf(msg, sizeof msg, "%s is none of the allowed types", type_of(x));
    return invalid(err, errsize, path, msg);
}

static int validate_number(const json_t *s, const json_t *x, char *path, char *err, size_t errsize)
{
    double d = json_number_value(x);
    char msg[200];
    const json_t *v;
    if ((v = json_object_get(s, "minimum")) && d < json_number_value(v)) {
        snprintf(msg, sizeof msg, "%g is less than the minimum %g", d, json_number_value(v));
        return invalid(err, errsize, path, msg);
    }
    if ((v = json_object_get(s, "maximum")) && d > json_number_value(v)) {
        snprintf(msg, sizeof msg, "%g is greater than the maximum %g", d, json_number_value(v));
        return invalid(err, errsize, path, msg);
    }
    if ((v = json_object_get(s, "exclusiveMinimum")) && d <= json_number_value(v)) {
        snprintf(msg, sizeof msg, "%g is not greater than %g", d, json_number_value(v));
        return invalid(err, errsize, path, msg);
    }
    if ((v = json_object_get(s, "exclusiveMaximum")) && d >= json_number_value(v)) {
        snprintf(msg, sizeof msg, "%g is not less than %g", d, json_number_value(v));
        return invalid(err, errsize, path, msg);
    }
    return 1;
}

static int validate_string(const json_t *s, const json_t *x, char *path, char *err, size_t errsize)
{
    const char *str = json_string_value(x);
    size_t n = json_string_length(x), cps = utf8_len(str, n);
    char msg[200];
    const json_t *v;
    if ((v = json_object_get(s, "minLength")) && cps < (size_t)json_integer_value(v)) {
        snprintf(msg, sizeof msg, "string of %zu characters is shorter than %lld", cps,
                 (long long)json_integer_value(v));
        return invalid(err, errsize, path, msg);
    }
    if ((v = json_object_get(s, "maxLength")) && cps > (size_t)json_integer_value(v)) {
        snprintf(msg, sizeof msg, "string of %zu characters is longer than %lld", cps,
                 (long long)json_integer_value(v));
        return invalid(err, errsize, path, msg);
    }
    if ((v = json_object_get(s, "pattern"))) {
        int ec;
        PCRE2_SIZE off;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)json_string_value(v), PCRE2_ZERO_TERMINATED,
                                       PCRE2_UTF, &ec, &off, NULL);
        if (!re)
            return invalid(err, errsize, path, "pattern does not compile");
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
        if (!md) {
            pcre2_code_free(re);
            return -1;
        }
        int rc = pcre2_match(re, (PCRE2_SPTR)str, n, 0, 0, md, NULL);
        pcre2_match_data_free(md);
        pcre2_code_free(re);
        if (rc < 0) {
            snprintf(msg, sizeof msg, "string does not match the pattern \"%.80s\"",
                     json_string_value(v));
            return invalid(err, errsize, path, msg);
        }
    }
    return 1;
}

static int validate_object(const json_t *s, const json_t *x, char *path, size_t psize, char *err,
                           size_t errsize)
{
    const json_t *props = json_object_get(s, "properties");
    const json_t *req = json_object_get(s, "required");
    const json_t *addl = json_object_get(s, "additionalProperties");
    char msg[200];
    size_t i, len = strlen(path);
    json_t *e;
    json_array_foreach(req, i, e)
    {
        if (!json_object_get(x, json_string_value(e))) {
            snprintf(msg, sizeof msg, "required property \"%.100s\" is missing",
                     json_string_value(e));
            return invalid(err, errsize, path, msg);
        }
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)x, k, v)
    {
        const json_t *sub = props ? json_object_get(props, k) : NULL;
        if (!sub)
            sub = addl;
        if (!sub)
            continue;
        path_push(path, psize, k);
        int rc;
        if (json_is_false(sub)) {
            snprintf(msg, sizeof msg, "property \"%.100s\" is not allowed", k);
            path_pop(path, len);
            return invalid(err, errsize, path, msg);
        }
        rc = validate_at(sub, v, path, psize, err, errsize);
        path_pop(path, len);
        if (rc != 1)
            return rc;
    }
    return 1;
}

static int validate_array(const json_t *s, const json_t *x, char *path, size_t psize, char *err,
                          size_t errsize)
{
    const json_t *v;
    char msg[200];
    size_t n = json_array_size(x);
    if ((v = json_object_get(s, "minItems")) && n < (size_t)json_integer_value(v)) {
        snprintf(msg, sizeof msg, "array of %zu items has fewer than %lld", n,
                 (long long)json_integer_value(v));
        return invalid(err, errsize, path, msg);
    }
    if ((v = json_object_get(s, "maxItems")) && n > (size_t)json_integer_value(v)) {
        snprintf(msg, sizeof msg, "array of %zu items has more than %lld", n,
                 (long long)json_integer_value(v));
        return invalid(err, errsize, path, msg);
    }
    const json_t *items = json_object_get(s, "items");
    if (!items)
        return 1;
    size_t len = strlen(path);
    for (size_t i = 0; i < n; i++) {
        char idx[24];
        snprintf(idx, sizeof idx, "%zu", i);
        path_push(path, psize, idx);
        int rc = validate_at(items, json_array_get(x, i), path, psize, err, errsize);
        path_pop(path, len);
        if (rc != 1)
            return rc;
    }
    return 1;
}

static int validate_at(const json_t *s, const json_t *x, char *path, size_t psize, char *err,
                       size_t errsize)
{
    if (json_is_true(s))
        return 1;
    if (json_is_false(s))
        return invalid(err, errsize, path, "no value is allowed here");
    const json_t *v;
    int rc;
    if ((v = json_object_get(s, "type")) && (rc = validate_type(v, x, path, err, errsize)) != 1)
        return rc;
    if ((v = json_object_get(s, "const")) && !fw_json_equal_num(v, x))
        return invalid(err, errsize, path, "value differs from the constant");
    if ((v = json_object_get(s, "enum"))) {
        size_t i;
        json_t *e;
        int found = 0;
        json_array_foreach(v, i, e)
        {
            if (fw_json_equal_num(e, x)) {
                found = 1;
                break;
            }
        }
        if (!found)
            return invalid(err, errsize, path, "value is not one of the enumerated values");
    }
    if (json_is_number(x))
        return validate_number(s, x, path, err, errsize);
    if (json_is_string(x))
        return validate_string(s, x, path, err, errsize);
    if (json_is_object(x))
        return validate_object(s, x, path, psize, err, errsize);
    if (json_is_array(x))
        return validate_array(s, x, path, psize, err, errsize);
    return 1;
}

int fw_jschema_validate(const json_t *schema, const json_t *instance, char *err, size_t errsize)
{
    char path[512] = "";
    return validate_at(schema, instance, path, sizeof path, err, errsize);
}
