/*
 * The OTLP protobuf decoder: ExportTraceServiceRequest and the nine messages
 * under it, read straight from the wire into the fw_otlp model.
 *
 * Written by hand rather than generated because the subset is small and the
 * checks matter more than the code: every length is checked against the
 * bytes left before it is used; varints longer than ten bytes are refused;
 * every known field must arrive with its own wire type (a logs or metrics
 * export shares field numbers with a trace export, and the wrong wire type
 * is how it shows); unknown fields of the four valid wire types are skipped
 * (forward compatibility); AnyValue nesting stops at FW_OTLP_MAX_DEPTH, so
 * the recursion is bounded. Repeated fields are read in two passes over the
 * same bytes (count, then fill), so each array is one allocation.
 *
 * Ids must have their exact sizes (16, 8, and 0 or 8 for the parent), as
 * the reference collector requires; a proto3 string must be UTF-8, and here
 * it must also be free of NUL bytes.
 */
#include "internal.h"

#include <string.h>

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

typedef struct {
    const uint8_t *p;
    size_t len, pos;
} rd;

typedef struct {
    fw_otlp_arena *a;
    char *err;
    size_t errsize;
} dec;

typedef struct {
    unsigned field, wt;
    uint64_t v; /* VARINT, I64, I32 */
    rd sub;     /* LEN */
    size_t at;  /* offset of the tag, for messages */
} fld;

static const char *const HINT =
    " (is this an OTLP logs or metrics export sent to the traces endpoint?)";

static int read_varint(rd *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (r->pos >= r->len)
            return -1;
        uint8_t b = r->p[r->pos++];
        if (i == 9 && b > 1)
            return -1; /* more than 64 bits */
        v |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Reads the next field of r. Returns 1, 0 at the end, -1 when malformed. */
static int next(dec *d, rd *r, const char *msg, fld *f)
{
    if (r->pos >= r->len)
        return 0;
    f->at = r->pos;
    uint64_t tag;
    if (read_varint(r, &tag) != 0)
        return fw_otlp_fail(d->err, d->errsize, "truncated or overlong varint in %s at byte %zu",
                            msg, f->at);
    f->field = (unsigned)(tag >> 3);
    f->wt = (unsigned)(tag & 7);
    if (f->field == 0 || (tag >> 3) > 0x1FFFFFFF)
        return fw_otlp_fail(d->err, d->errsize, "invalid field number in %s at byte %zu", msg,
                            f->at);
    switch (f->wt) {
    case WT_VARINT:
        if (read_varint(r, &f->v) != 0)
            return fw_otlp_fail(d->err, d->errsize, "truncated or overlong varint in %s field %u",
                                msg, f->field);
        return 1;
    case WT_I64:
        if (r->len - r->pos < 8)
            return fw_otlp_fail(d->err, d->errsize, "truncated fixed64 in %s field %u", msg,
                                f->field);
        f->v = 0;
        for (int i = 7; i >= 0; i--)
            f->v = (f->v << 8) | r->p[r->pos + (size_t)i];
        r->pos += 8;
        return 1;
    case WT_I32:
        if (r->len - r->pos < 4)
            return fw_otlp_fail(d->err, d->errsize, "truncated fixed32 in %s field %u", msg,
                                f->field);
        f->v = (uint64_t)r->p[r->pos] | (uint64_t)r->p[r->pos + 1] << 8 |
               (uint64_t)r->p[r->pos + 2] << 16 | (uint64_t)r->p[r->pos + 3] << 24;
        r->pos += 4;
        return 1;
    case WT_LEN: {
        uint64_t n;
        if (read_varint(r, &n) != 0)
            return fw_otlp_fail(d->err, d->errsize,
                                "truncated or overlong varint (a length) in %s field %u", msg,
                                f->field);
        if (n > r->len - r->pos)
            return fw_otlp_fail(d->err, d->errsize,
                                "%s field %u claims %llu bytes but only %zu remain", msg, f->field,
                                (unsigned long long)n, r->len - r->pos);
        f->sub.p = r->p + r->pos;
        f->sub.len = (size_t)n;
        f->sub.pos = 0;
        r->pos += (size_t)n;
        return 1;
    }
    default:
        return fw_otlp_fail(d->err, d->errsize, "unsupported wire type %u in %s field %u%s", f->wt,
                            msg, f->field, HINT);
    }
}

/* A known field with the wrong wire type: an error, with the hint. */
static int want(dec *d, const fld *f, unsigned wt, const char *msg)
{
    if (f->wt == wt)
        return 0;
    return fw_otlp_fail(d->err, d->errsize, "%s field %u has wire type %u, expected %u%s", msg,
                        f->field, f->wt, wt, HINT);
}

static int str(dec *d, const fld *f, const char *msg, const char **out)
{
    if (want(d, f, WT_LEN, msg) != 0)
        return -1;
    if (memchr(f->sub.p, 0, f->sub.len))
        return fw_otlp_fail(d->err, d->errsize, "%s field %u contains a NUL byte", msg, f->field);
    if (!fw_otlp_utf8_valid(f->sub.p, f->sub.len))
        return fw_otlp_fail(d->err, d->errsize, "%s field %u is not valid UTF-8", msg, f->field);
    char *s = fw_otlp_arena_strndup(d->a, (const char *)f->sub.p, f->sub.len);
    if (!s)
        return fw_otlp_fail(d->err, d->errsize, "out of memory");
    *out = s;
    return 0;
}

/* Counts occurrences of `field` in r (any wire type; checked when filled). */
static int count(dec *d, rd r, const char *msg, unsigned field, size_t *n)
{
    fld f;
    int rc;
    *n = 0;
    while ((rc = next(d, &r, msg, &f)) == 1)
        if (f.field == field)
            (*n)++;
    return rc;
}

static void *alloc_array(dec *d, size_t n, size_t size)
{
    if (n == 0)
        return NULL;
    void *p = fw_otlp_arena_calloc(d->a, n, size);
    if (!p)
        fw_otlp_fail(d->err, d->errsize, "out of memory");
    return p;
}

static int keyvalue(dec *d, rd r, fw_otlp_kv *kv, int depth);

static int anyvalue(dec *d, rd r, fw_otlp_value *v, int depth)
{
    static const char M[] = "AnyValue";
    if (depth > FW_OTLP_MAX_DEPTH)
        return fw_otlp_fail(d->err, d->errsize, "values nested deeper than %d", FW_OTLP_MAX_DEPTH);
    fld f;
    int rc;
    v->type = FW_OTLP_EMPTY;
    while ((rc = next(d, &r, M, &f)) == 1) {
        switch (f.field) {
        case 1:
            if (str(d, &f, M, &v->u.s.p) != 0)
                return -1;
            v->u.s.len = f.sub.len;
            v->type = FW_OTLP_STRING;
            break;
        case 2:
            if (want(d, &f, WT_VARINT, M) != 0)
                return -1;
            v->type = FW_OTLP_BOOL;
            v->u.b = f.v != 0;
            break;
        case 3:
            if (want(d, &f, WT_VARINT, M) != 0)
                return -1;
            v->type = FW_OTLP_INT;
            v->u.i = (int64_t)f.v; /* two's complement: ten-byte varints are negatives */
            break;
        case 4:
            if (want(d, &f, WT_I64, M) != 0)
                return -1;
            v->type = FW_OTLP_DOUBLE;
            memcpy(&v->u.d, &f.v, sizeof v->u.d);
            break;
        case 5:
        case 6: {
            const char *sub = f.field == 5 ? "ArrayValue" : "KeyValueList";
            if (want(d, &f, WT_LEN, M) != 0)
                return -1;
            size_t n;
            if (count(d, f.sub, sub, 1, &n) != 0)
                return -1;
            void *items =
                alloc_array(d, n, f.field == 5 ? sizeof(fw_otlp_value) : sizeof(fw_otlp_kv));
            if (n && !items)
                return -1;
            rd r2 = f.sub;
            fld g;
            size_t i = 0;
            while ((rc = next(d, &r2, sub, &g)) == 1) {
                if (g.field != 1)
                    continue;
                if (want(d, &g, WT_LEN, sub) != 0)
                    return -1;
                if (f.field == 5 ? anyvalue(d, g.sub, (fw_otlp_value *)items + i, depth + 1)
                                 : keyvalue(d, g.sub, (fw_otlp_kv *)items + i, depth + 1))
                    return -1;
                i++;
            }
            if (rc < 0)
                return -1;
            if (f.field == 5) {
                v->type = FW_OTLP_ARRAY;
                v->u.arr.v = items;
                v->u.arr.n = n;
            } else {
                v->type = FW_OTLP_KVLIST;
                v->u.kvl.kv = items;
                v->u.kvl.n = n;
            }
            break;
        }
        case 7: {
            if (want(d, &f, WT_LEN, M) != 0)
                return -1;
            char *b = fw_otlp_arena_strndup(d->a, (const char *)f.sub.p, f.sub.len);
            if (!b)
                return fw_otlp_fail(d->err, d->errsize, "out of memory");
            v->type = FW_OTLP_BYTES;
            v->u.s.p = b;
            v->u.s.len = f.sub.len;
            break;
        }
        default:
            break; /* 8 (profiles' string index) and unknown fields */
        }
    }
    return rc;
}

static int keyvalue(dec *d, rd r, fw_otlp_kv *kv, int depth)
{
    static const char M[] = "KeyValue";
    fld f;
    int rc;
    kv->key = "";
    kv->value.type = FW_OTLP_EMPTY;
    while ((rc = next(d, &r, M, &f)) == 1) {
        if (f.field == 1) {
            if (str(d, &f, M, &kv->key) != 0)
                return -1;
        } else if (f.field == 2) {
            if (want(d, &f, WT_LEN, M) != 0 || anyvalue(d, f.sub, &kv->value, depth) != 0)
                return -1;
        }
    }
    return rc;
}

/* Reads the repeated KeyValue `field` of a message into *out. */
static int attributes(dec *d, rd r, const char *msg, unsigned field, fw_otlp_kv **out, size_t *n)
{
    if (count(d, r, msg, field, n) != 0)
        return -1;
    *out = alloc_array(d, *n, sizeof **out);
    if (*n && !*out)
        return -1;
    fld f;
    int rc;
    size_t i = 0;
    while ((rc = next(d, &r, msg, &f)) == 1) {
        if (f.field != field)
            continue;
        if (want(d, &f, WT_LEN, msg) != 0 || keyvalue(d, f.sub, &(*out)[i++], 1) != 0)
            return -1;
    }
    return rc;
}

static int event(dec *d, rd r, fw_otlp_event *e)
{
    static const char M[] = "Span.Event";
    fld f;
    int rc;
    e->name = "";
    if (attributes(d, r, M, 3, &e->attrs, &e->n_attrs) != 0)
        return -1;
    while ((rc = next(d, &r, M, &f)) == 1) {
        if (f.field == 1) {
            if (want(d, &f, WT_I64, M) != 0)
                return -1;
            e->time_unix_nano = f.v;
        } else if (f.field == 2) {
            if (str(d, &f, M, &e->name) != 0)
                return -1;
        } else if (f.field == 4 && want(d, &f, WT_VARINT, M) != 0) {
            return -1;
        }
    }
    return rc;
}

static int status(dec *d, rd r, fw_otlp_span *s)
{
    static const char M[] = "Status";
    fld f;
    int rc;
    while ((rc = next(d, &r, M, &f)) == 1) {
        if (f.field == 2) {
            if (str(d, &f, M, &s->status_message) != 0)
                return -1;
        } else if (f.field == 3) {
            if (want(d, &f, WT_VARINT, M) != 0)
                return -1;
            s->status_code = (int)(f.v > 2 ? 0 : f.v); /* unknown codes count as unset */
        }
    }
    return rc;
}

/* An id field: exactly `size` bytes, or empty when `may_be_empty` (a root
 * span's parent). */
static int id(dec *d, const fld *f, uint8_t *out, size_t size, size_t *len, const char *name,
              int may_be_empty)
{
    if (want(d, f, WT_LEN, "Span") != 0)
        return -1;
    if (f->sub.len != size && !(may_be_empty && f->sub.len == 0))
        return fw_otlp_fail(d->err, d->errsize, "Span.%s is %zu bytes, expected %zu", name,
                            f->sub.len, size);
    *len = f->sub.len;
    if (f->sub.len)
        memcpy(out, f->sub.p, size);
    return 0;
}

static int span(dec *d, rd r, fw_otlp_span *s)
{
    static const char M[] = "Span";
    fld f;
    int rc;
    s->name = "";
    s->status_message = "";
    if (attributes(d, r, M, 9, &s->attrs, &s->n_attrs) != 0 ||
        count(d, r, M, 11, &s->n_events) != 0)
        return -1;
    s->events = alloc_array(d, s->n_events, sizeof *s->events);
    if (s->n_events && !s->events)
        return -1;
    size_t ne = 0;
    while ((rc = next(d, &r, M, &f)) == 1) {
        switch (f.field) {
        case 1:
            if (id(d, &f, s->trace_id, 16, &s->trace_id_len, "trace_id", 0) != 0)
                return -1;
            break;
        case 2:
            if (id(d, &f, s->span_id, 8, &s->span_id_len, "span_id", 0) != 0)
                return -1;
            break;
        case 4:
            if (id(d, &f, s->parent_span_id, 8, &s->parent_span_id_len, "parent_span_id", 1) != 0)
                return -1;
            break;
        case 3:
        case 13:
            if (want(d, &f, WT_LEN, M) != 0) /* trace_state, links: not used */
                return -1;
            break;
        case 5:
            if (str(d, &f, M, &s->name) != 0)
                return -1;
            break;
        case 6:
            if (want(d, &f, WT_VARINT, M) != 0)
                return -1;
            s->kind = (int)(f.v > 5 ? 0 : f.v);
            break;
        case 7:
        case 8:
            if (want(d, &f, WT_I64, M) != 0)
                return -1;
            if (f.field == 7)
                s->start_time_unix_nano = f.v;
            else
                s->end_time_unix_nano = f.v;
            break;
        case 10:
        case 12:
        case 14:
            if (want(d, &f, WT_VARINT, M) != 0)
                return -1;
            break;
        case 11:
            if (want(d, &f, WT_LEN, M) != 0 || event(d, f.sub, &s->events[ne++]) != 0)
                return -1;
            break;
        case 15:
            if (want(d, &f, WT_LEN, M) != 0 || status(d, f.sub, s) != 0)
                return -1;
            break;
        case 16:
            if (want(d, &f, WT_I32, M) != 0)
                return -1;
            break;
        default:
            break;
        }
    }
    if (rc < 0)
        return -1;
    if (s->trace_id_len == 0 || s->span_id_len == 0)
        return fw_otlp_fail(d->err, d->errsize, "a span has no %s",
                            s->trace_id_len == 0 ? "trace_id" : "span_id");
    return 0;
}

static int scope(dec *d, rd r, fw_otlp_scope *sc)
{
    static const char M[] = "InstrumentationScope";
    fld f;
    int rc;
    sc->name = "";
    sc->version = "";
    if (attributes(d, r, M, 3, &sc->attrs, &sc->n_attrs) != 0)
        return -1;
    while ((rc = next(d, &r, M, &f)) == 1) {
        if (f.field == 1 || f.field == 2) {
            if (str(d, &f, M, f.field == 1 ? &sc->name : &sc->version) != 0)
                return -1;
        } else if (f.field == 4 && want(d, &f, WT_VARINT, M) != 0) {
            return -1;
        }
    }
    return rc;
}

static int scope_spans(dec *d, rd r, fw_otlp_scope *sc, size_t *total)
{
    static const char M[] = "ScopeSpans";
    fld f;
    int rc;
    sc->name = "";
    sc->version = "";
    if (count(d, r, M, 2, &sc->n_spans) != 0)
        return -1;
    sc->spans = alloc_array(d, sc->n_spans, sizeof *sc->spans);
    if (sc->n_spans && !sc->spans)
        return -1;
    size_t i = 0;
    while ((rc = next(d, &r, M, &f)) == 1) {
        if (f.field == 1) {
            if (want(d, &f, WT_LEN, M) != 0 || scope(d, f.sub, sc) != 0)
                return -1;
        } else if (f.field == 2) {
            if (want(d, &f, WT_LEN, M) != 0 || span(d, f.sub, &sc->spans[i++]) != 0)
                return -1;
        } else if (f.field == 3 && want(d, &f, WT_LEN, M) != 0) {
            return -1;
        }
    }
    *total += sc->n_spans;
    return rc;
}

static int resource(dec *d, rd r, fw_otlp_resource *res)
{
    static const char M[] = "Resource";
    fld f;
    int rc;
    if (attributes(d, r, M, 1, &res->attrs, &res->n_attrs) != 0)
        return -1;
    while ((rc = next(d, &r, M, &f)) == 1)
        if (f.field == 2 && want(d, &f, WT_VARINT, M) != 0)
            return -1;
    return rc;
}

static int resource_spans(dec *d, rd r, fw_otlp_resource *res, size_t *total)
{
    static const char M[] = "ResourceSpans";
    fld f;
    int rc;
    if (count(d, r, M, 2, &res->n_scopes) != 0)
        return -1;
    res->scopes = alloc_array(d, res->n_scopes, sizeof *res->scopes);
    if (res->n_scopes && !res->scopes)
        return -1;
    size_t i = 0;
    while ((rc = next(d, &r, M, &f)) == 1) {
        if (f.field == 1) {
            if (want(d, &f, WT_LEN, M) != 0 || resource(d, f.sub, res) != 0)
                return -1;
        } else if (f.field == 2) {
            if (want(d, &f, WT_LEN, M) != 0 || scope_spans(d, f.sub, &res->scopes[i++], total) != 0)
                return -1;
        } else if (f.field == 3 && want(d, &f, WT_LEN, M) != 0) {
            return -1;
        }
    }
    return rc;
}

int fw_otlp_decode_proto(const uint8_t *data, size_t len, fw_otlp_request **out, char *err,
                         size_t errsize)
{
    static const char M[] = "ExportTraceServiceRequest";
    *out = NULL;
    fw_otlp_request *req = fw_otlp_request_new();
    if (!req)
        return fw_otlp_fail(err, errsize, "out of memory");
    dec d = {req->arena, err, errsize};
    rd r = {data ? data : (const uint8_t *)"", data ? len : 0, 0};
    if (count(&d, r, M, 1, &req->n_resources) != 0)
        goto fail;
    req->resources = alloc_array(&d, req->n_resources, sizeof *req->resources);
    if (req->n_resources && !req->resources)
        goto fail;
    fld f;
    int rc;
    size_t i = 0;
    while ((rc = next(&d, &r, M, &f)) == 1) {
        if (f.field != 1)
            continue;
        if (want(&d, &f, WT_LEN, M) != 0 ||
            resource_spans(&d, f.sub, &req->resources[i++], &req->n_spans) != 0)
            goto fail;
    }
    if (rc < 0)
        goto fail;
    *out = req;
    return 0;
fail:
    fw_otlp_request_free(req);
    return -1;
}
