/*
 * Feedback over HTTP; see feedback.h for the body.
 */
#include "feedback.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 1000

/* All allocations of a list, freed together. */
typedef struct chunk {
    struct chunk *next;
    _Alignas(16) unsigned char data[];
} chunk;

static void *mem(fwg_feedback_list *l, size_t n)
{
    chunk *c = calloc(1, sizeof *c + n);
    if (!c)
        return NULL;
    c->next = l->mem;
    l->mem = c;
    return c->data;
}

static char *dup(fwg_feedback_list *l, const char *s)
{
    size_t n = strlen(s);
    char *p = mem(l, n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

void fwg_feedback_free(fwg_feedback_list *l)
{
    chunk *c = l->mem;
    while (c) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
    free(l->ev);
    memset(l, 0, sizeof *l);
}

static int hex_bytes(const char *s, uint8_t *out, size_t n)
{
    if (!s || strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + (size_t)k];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= (unsigned)(c - 'A' + 10);
            else
                return -1;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* A UUID in its 36-character form. */
static int uuid_bytes(const char *s, uint8_t out[16])
{
    char hex[33];
    size_t o = 0;
    if (!s || strlen(s) != 36)
        return -1;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return -1;
            continue;
        }
        hex[o++] = s[i];
    }
    hex[32] = '\0';
    return hex_bytes(hex, out, 16);
}

static int random_uuid7(uint64_t now_ns, uint8_t out[16])
{
    if (RAND_bytes(out, 16) != 1)
        return -1;
    uint64_t ms = now_ns / 1000000u;
    for (int i = 0; i < 6; i++)
        out[i] = (uint8_t)(ms >> (40 - 8 * i));
    out[6] = (uint8_t)(0x70 | (out[6] & 0x0F));
    out[8] = (uint8_t)(0x80 | (out[8] & 0x3F));
    return 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* The target field `key` of feedback idx: absent or null (*out = NULL), or a
 * string; anything else is refused rather than ignored, so a numeric id is
 * not mistaken for a missing one. */
static int target_string(json_t *o, const char *key, size_t idx, const char **out, char *err,
                         size_t errsize)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return snprintf(err, errsize, "feedback %zu: \"%s\" must be a string", idx, key), -1;
    *out = json_string_value(v);
    return 0;
}

static Flywheel__V1__Role role_of(const char *r)
{
    static const char *const names[] = {"", "system", "user", "assistant", "tool", "developer"};
    for (int i = 1; r && i < 6; i++)
        if (strcmp(r, names[i]) == 0)
            return (Flywheel__V1__Role)i;
    return FLYWHEEL__V1__ROLE__ROLE_ASSISTANT;
}

static Flywheel__V1__Message *text_message(fwg_feedback_list *l, Flywheel__V1__Role role,
                                           const char *text)
{
    static const Flywheel__V1__Message M = FLYWHEEL__V1__MESSAGE__INIT;
    static const Flywheel__V1__Part P = FLYWHEEL__V1__PART__INIT;
    Flywheel__V1__Message *m = mem(l, sizeof *m);
    Flywheel__V1__Part *p = mem(l, sizeof *p);
    Flywheel__V1__Part **pp = mem(l, sizeof *pp);
    char *t = dup(l, text);
    if (!m || !p || !pp || !t)
        return NULL;
    *m = M;
    *p = P;
    m->role = role;
    p->content_case = FLYWHEEL__V1__PART__CONTENT_TEXT;
    p->text = t;
    pp[0] = p;
    m->parts = pp;
    m->n_parts = 1;
    return m;
}

/* "correction": a string (one assistant message), or messages with a
 * string content or text parts. */
static int correction(fwg_feedback_list *l, json_t *c, Flywheel__V1__Feedback *f, char *err,
                      size_t errsize)
{
    if (json_is_string(c)) {
        f->correction = mem(l, sizeof *f->correction);
        if (!f->correction || !(f->correction[0] = text_message(
                                    l, FLYWHEEL__V1__ROLE__ROLE_ASSISTANT, json_string_value(c))))
            return snprintf(err, errsize, "out of memory"), -1;
        f->n_correction = 1;
        return 0;
    }
    if (!json_is_array(c))
        return snprintf(err, errsize, "\"correction\" is neither a string nor an array"), -1;
    size_t n = json_array_size(c), i;
    f->correction = mem(l, (n ? n : 1) * sizeof *f->correction);
    if (!f->correction)
        return snprintf(err, errsize, "out of memory"), -1;
    json_t *m;
    json_array_foreach(c, i, m)
    {
        const char *text = json_string_value(json_object_get(m, "content"));
        json_t *parts = json_object_get(m, "parts");
        if (!text && json_is_array(parts) && json_array_size(parts) == 1)
            text = json_string_value(json_object_get(json_array_get(parts, 0), "content"));
        if (!text)
            return snprintf(err, errsize,
                            "correction message %zu has no text (\"content\" or one text part)", i),
                   -1;
        f->correction[i] =
            text_message(l, role_of(json_string_value(json_object_get(m, "role"))), text);
        if (!f->correction[i])
            return snprintf(err, errsize, "out of memory"), -1;
    }
    f->n_correction = n;
    return 0;
}

static int one(fwg_feedback_list *l, json_t *o, size_t idx, const char *project, uint64_t now_ns,
               char *err, size_t errsize)
{
    static const Flywheel__V1__Event E = FLYWHEEL__V1__EVENT__INIT;
    static const Flywheel__V1__Feedback F = FLYWHEEL__V1__FEEDBACK__INIT;
    char msg[200];
    if (!json_is_object(o))
        return snprintf(err, errsize, "feedback %zu is not an object", idx), -1;
    Flywheel__V1__Event *ev = mem(l, sizeof *ev);
    Flywheel__V1__Feedback *f = mem(l, sizeof *f);
    uint8_t *ids = mem(l, 16 + 16 + 16 + 8);
    if (!ev || !f || !ids)
        return snprintf(err, errsize, "out of memory"), -1;
    *ev = E;
    *f = F;
    ev->schema_version = FLYWHEEL__V1__SCHEMA_VERSION__SCHEMA_VERSION_1;
    ev->time_unix_nano = now_ns;
    ev->project = dup(l, project);
    ev->sdk_name = "flywheel-gateway";
    ev->body_case = FLYWHEEL__V1__EVENT__BODY_FEEDBACK;
    ev->feedback = f;
    const char *id = json_string_value(json_object_get(o, "id"));
    if (id ? uuid_bytes(id, ids) != 0 : random_uuid7(now_ns, ids) != 0)
        return snprintf(err, errsize, "feedback %zu: \"id\" is not a UUID", idx), -1;
    ev->event_id = (ProtobufCBinaryData){16, ids};

    const char *eid, *tid, *sid, *rid;
    if (target_string(o, "event_id", idx, &eid, err, errsize) ||
        target_string(o, "trace_id", idx, &tid, err, errsize) ||
        target_string(o, "span_id", idx, &sid, err, errsize) ||
        target_string(o, "response_id", idx, &rid, err, errsize))
        return -1;
    if (eid) {
        if (uuid_bytes(eid, ids + 16) != 0)
            return snprintf(err, errsize,
                            "feedback %zu: \"event_id\" is not a UUID (36 characters, "
                            "8-4-4-4-12 hex digits; it has %zu characters)",
                            idx, strlen(eid)),
                   -1;
        f->target_event_id = (ProtobufCBinaryData){16, ids + 16};
    }
    if (tid) {
        if (hex_bytes(tid, ids + 32, 16) != 0)
            return snprintf(err, errsize,
                            "feedback %zu: \"trace_id\" is not 32 hex digits (it has %zu "
                            "characters)",
                            idx, strlen(tid)),
                   -1;
        if (all_zero(ids + 32, 16))
            return snprintf(err, errsize,
                            "feedback %zu: \"trace_id\" is all zeros, which is no trace", idx),
                   -1;
        f->target_trace_id = (ProtobufCBinaryData){16, ids + 32};
    }
    if (sid) {
        if (!tid)
            return snprintf(err, errsize,
                            "feedback %zu: \"span_id\" needs \"trace_id\" (a span id is "
                            "unique only within its trace)",
                            idx),
                   -1;
        if (hex_bytes(sid, ids + 48, 8) != 0)
            return snprintf(err, errsize,
                            "feedback %zu: \"span_id\" is not 16 hex digits (it has %zu "
                            "characters)",
                            idx, strlen(sid)),
                   -1;
        if (all_zero(ids + 48, 8))
            return snprintf(err, errsize,
                            "feedback %zu: \"span_id\" is all zeros, which is no span", idx),
                   -1;
        f->target_span_id = (ProtobufCBinaryData){8, ids + 48};
    }
    if (rid)
        f->target_response_id = dup(l, rid);
    if (!eid && !tid && !rid)
        return snprintf(err, errsize,
                        "feedback %zu has no target: give event_id, trace_id (+ span_id) or "
                        "response_id",
                        idx),
               -1;

    json_t *v = json_object_get(o, "value");
    const char *dflt = "comment";
    if (json_is_boolean(v)) {
        f->value_case = FLYWHEEL__V1__FEEDBACK__VALUE_BOOL_VALUE;
        f->bool_value = json_is_true(v);
        dflt = "thumbs";
    } else if (json_is_number(v)) {
        f->value_case = FLYWHEEL__V1__FEEDBACK__VALUE_NUMBER_VALUE;
        f->number_value = json_number_value(v);
        dflt = "score";
    } else if (json_is_string(v)) {
        f->value_case = FLYWHEEL__V1__FEEDBACK__VALUE_CATEGORY_VALUE;
        f->category_value = dup(l, json_string_value(v));
        dflt = "category";
    } else if (v && !json_is_null(v)) {
        return snprintf(err, errsize, "feedback %zu: \"value\" must be a boolean, number or string",
                        idx),
               -1;
    }
    json_t *c = json_object_get(o, "correction");
    if (c && !json_is_null(c)) {
        if (correction(l, c, f, msg, sizeof msg) != 0)
            return snprintf(err, errsize, "feedback %zu: %s", idx, msg), -1;
        if (!v || json_is_null(v))
            dflt = "correction";
    }
    const char *name = json_string_value(json_object_get(o, "name"));
    f->name = dup(l, name && *name ? name : dflt);
    const char *comment = json_string_value(json_object_get(o, "comment"));
    if (comment)
        f->comment = dup(l, comment);
    const char *author = json_string_value(json_object_get(o, "author_id"));
    if (author)
        f->author_id = dup(l, author);
    const char *src = json_string_value(json_object_get(o, "source"));
    f->source = FLYWHEEL__V1__FEEDBACK_SOURCE__FEEDBACK_SOURCE_END_USER;
    if (src) {
        static const char *const names[] = {"end_user", "automated", "model_judge", "reviewer"};
        size_t k = 0;
        while (k < 4 && strcmp(src, names[k]) != 0)
            k++;
        if (k == 4)
            return snprintf(err, errsize, "feedback %zu: unknown \"source\" \"%.40s\"", idx, src),
                   -1;
        f->source = (Flywheel__V1__FeedbackSource)(k + 1);
    }
    if (!f->name || !ev->project || (rid && !f->target_response_id) || (comment && !f->comment) ||
        (author && !f->author_id))
        return snprintf(err, errsize, "out of memory"), -1;
    if (!comment && f->value_case == FLYWHEEL__V1__FEEDBACK__VALUE__NOT_SET && !f->n_correction)
        return snprintf(err, errsize,
                        "feedback %zu says nothing: give value, comment or correction", idx),
               -1;
    l->ev[l->n++] = ev;
    return 0;
}

int fwg_feedback_parse(const char *body, size_t len, const char *project, uint64_t now_ns,
                       fwg_feedback_list *out, char *err, size_t errsize)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    if (!root)
        return snprintf(err, errsize, "invalid JSON at line %d column %d: %s", je.line, je.column,
                        je.text),
               -1;
    size_t n = json_is_array(root) ? json_array_size(root) : 1;
    int rc = -1;
    if (n == 0 || n > MAX_ITEMS) {
        snprintf(err, errsize, "a feedback body holds 1 to %d objects, not %zu", MAX_ITEMS, n);
        goto done;
    }
    out->ev = calloc(n, sizeof *out->ev);
    if (!out->ev) {
        snprintf(err, errsize, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if (one(out, json_is_array(root) ? json_array_get(root, i) : root, i, project, now_ns, err,
                errsize) != 0)
            goto done;
    rc = 0;
done:
    json_decref(root);
    if (rc != 0)
        fwg_feedback_free(out);
    return rc;
}
