/*
 * HTTP handling of the gateway; see server.h for the endpoints and answers.
 *
 * A request goes through three calls of the access handler (MHD's model):
 * the first sees only the headers and decides everything it can before a
 * byte of body is read (route, method, media type, encoding, declared
 * length, key); the middle ones append body data under the size cap; the
 * last inflates, decodes, maps, produces and waits for the broker. A body
 * that outgrows the cap without having declared its length (chunked) is
 * read and dropped up to four times the cap and then answered 413; beyond
 * that the connection is closed, so a client cannot keep a thread busy
 * forever by streaming.
 */
#include "server.h"

#include "feedback.h"
#include "fw_otlp.h"
#include "inflate.h"
#include "scrub.h"
#include "log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTP_TOO_LARGE 413

/* gRPC status codes used in google.rpc.Status bodies. */
enum {
    RPC_INVALID_ARGUMENT = 3,
    RPC_RESOURCE_EXHAUSTED = 8,
    RPC_UNAVAILABLE = 14,
    RPC_UNAUTHENTICATED = 16,
    RPC_INTERNAL = 13
};

typedef struct {
    atomic_ullong requests[8]; /* by answer class, see class_of */
    atomic_ullong spans, generations, skipped, rejected;
    atomic_ullong bytes_in, bytes_inflated, produce_failures, redactions, feedback;
    atomic_llong inflight;
} counters;

static const unsigned CLASS_CODES[8] = {200, 400, 401, 413, 415, 429, 503, 0};

struct fwg_server {
    struct MHD_Daemon *d;
    int port;
    const fwg_config *cfg;
    fwg_producer *prod;
    fwg_keys *keys;
    fwg_scrubber *scrub;
    counters m;
};

enum { EP_TRACES = 1, EP_FEEDBACK = 2 };

typedef struct {
    int endpoint;
    int json;
    int gzip;
    int too_large;
    size_t dropped; /* body bytes read past the cap */
    char project[128];
    uint8_t *body;
    size_t len, cap;
} req;

/* ---- small output buffer ------------------------------------------------ */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} buf;

static void put(buf *b, const void *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void putf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void pb_varint(buf *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    do {
        t[n++] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put(b, t, n);
}

static void pb_string(buf *b, unsigned field, const char *s)
{
    pb_varint(b, (uint64_t)field << 3 | 2);
    pb_varint(b, strlen(s));
    put(b, s, strlen(s));
}

static void json_string(buf *b, const char *s)
{
    put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(b, e, 2);
        } else if (c < 0x20) {
            putf(b, "\\u%04x", c);
        } else {
            put(b, s, 1);
        }
    }
    put(b, "\"", 1);
}

/* ---- answers ------------------------------------------------------------- */

static unsigned class_of(unsigned status)
{
    for (unsigned i = 0; i < 7; i++)
        if (CLASS_CODES[i] == status)
            return i;
    return 7;
}

static enum MHD_Result send_buf(fwg_server *s, struct MHD_Connection *c, unsigned status, buf *b,
                                const char *ctype, int retry_after)
{
    atomic_fetch_add(&s->m.requests[class_of(status)], 1);
    if (b->oom) {
        free(b->p);
        return MHD_NO;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        b->len, b->p ? b->p : (void *)"", b->p ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(b->p);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, "Allow", "POST");
    if (retry_after) {
        char ra[32];
        snprintf(ra, sizeof ra, "%lld", (long long)s->cfg->retry_after_s);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result text(fwg_server *s, struct MHD_Connection *c, unsigned status,
                            const char *msg)
{
    buf b = {0};
    put(&b, msg, strlen(msg));
    put(&b, "\n", 1);
    return send_buf(s, c, status, &b, "text/plain; charset=utf-8", 0);
}

/* A google.rpc.Status{code, message} in the request's encoding. */
static enum MHD_Result status_answer(fwg_server *s, struct MHD_Connection *c, unsigned http,
                                     int json, int code, const char *message)
{
    buf b = {0};
    if (json) {
        putf(&b, "{\"code\":%d,\"message\":", code);
        json_string(&b, message);
        put(&b, "}", 1);
    } else {
        pb_varint(&b, 1 << 3 | 0);
        pb_varint(&b, (uint64_t)code);
        pb_string(&b, 2, message);
    }
    int retry = http == MHD_HTTP_SERVICE_UNAVAILABLE || http == MHD_HTTP_TOO_MANY_REQUESTS;
    return send_buf(s, c, http, &b, json ? "application/json" : "application/x-protobuf", retry);
}

/* ExportTraceServiceResponse, with partial_success when spans were
 * rejected. */
static enum MHD_Result export_answer(fwg_server *s, struct MHD_Connection *c, int json,
                                     uint64_t rejected, const char *message)
{
    buf b = {0};
    if (json) {
        if (rejected) {
            putf(&b, "{\"partialSuccess\":{\"rejectedSpans\":\"%llu\",\"errorMessage\":",
                 (unsigned long long)rejected);
            json_string(&b, message);
            put(&b, "}}", 2);
        } else {
            put(&b, "{}", 2);
        }
    } else if (rejected) {
        buf ps = {0};
        pb_varint(&ps, 1 << 3 | 0);
        pb_varint(&ps, rejected);
        pb_string(&ps, 2, message);
        if (ps.oom) {
            free(ps.p);
            return MHD_NO;
        }
        pb_varint(&b, 1 << 3 | 2);
        pb_varint(&b, ps.len);
        put(&b, ps.p, ps.len);
        free(ps.p);
    }
    return send_buf(s, c, MHD_HTTP_OK, &b, json ? "application/json" : "application/x-protobuf", 0);
}

/* ---- the pieces of a request ---------------------------------------------- */

/* "application/json; charset=utf-8" -> is it `type`? */
static int media_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static const char *bearer_key(struct MHD_Connection *c)
{
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (a && strncasecmp(a, "Bearer ", 7) == 0) {
        a += 7;
        while (*a == ' ')
            a++;
        return *a ? a : NULL;
    }
    a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-fw-api-key");
    return a && *a ? a : NULL;
}

typedef struct {
    fwg_server *s;
    fwg_batch *batch;
    fwr_redactor *red;
    fwg_allocs allocs;
    int queue_full, failed;
    buf packed;
} emit_ctx;

static int emit(void *opaque, Flywheel__V1__Event *ev, const fw_otlp_span *span)
{
    emit_ctx *e = opaque;
    int red = fwg_scrub_event(e->s->scrub, e->red, ev, &e->allocs);
    if (red < 0) {
        fwg_allocs_free(&e->allocs);
        return -2;
    }
    atomic_fetch_add(&e->s->m.redactions, (unsigned long long)red);
    size_t n = flywheel__v1__event__get_packed_size(ev);
    if (n > e->packed.cap) {
        free(e->packed.p);
        e->packed.p = malloc(n);
        e->packed.cap = e->packed.p ? n : 0;
        if (!e->packed.p) {
            fwg_allocs_free(&e->allocs);
            return -2;
        }
    }
    flywheel__v1__event__pack(ev, (uint8_t *)e->packed.p);
    fwg_allocs_free(&e->allocs);
    if (fwg_produce(e->batch, span->trace_id, 16, e->packed.p, n, &e->queue_full) != 0) {
        e->failed = 1;
        return 1;
    }
    return 0;
}

static enum MHD_Result traces(fwg_server *s, struct MHD_Connection *c, req *r)
{
    char err[512];
    const uint8_t *body = r->body;
    size_t len = r->len;
    uint8_t *inflated = NULL;
    atomic_fetch_add(&s->m.bytes_in, r->len);
    if (r->gzip) {
        size_t n;
        fwg_inflate_rc irc = fwg_gunzip(r->body, r->len, (size_t)s->cfg->max_inflated_bytes,
                                        &inflated, &n, err, sizeof err);
        if (irc == FWG_INFLATE_TOO_LARGE) {
            char msg[160];
            snprintf(msg, sizeof msg, "the inflated body is larger than %lld bytes",
                     (long long)s->cfg->max_inflated_bytes);
            return status_answer(s, c, HTTP_TOO_LARGE, r->json, RPC_INVALID_ARGUMENT, msg);
        }
        if (irc != FWG_INFLATE_OK)
            return status_answer(s, c, MHD_HTTP_BAD_REQUEST, r->json, RPC_INVALID_ARGUMENT, err);
        body = inflated;
        len = n;
        atomic_fetch_add(&s->m.bytes_inflated, n);
    }
    fw_otlp_request *otlp = NULL;
    int drc = r->json ? fw_otlp_decode_json((const char *)body, len, &otlp, err, sizeof err)
                      : fw_otlp_decode_proto(body, len, &otlp, err, sizeof err);
    free(inflated);
    if (drc != 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "could not decode the %s trace request: %s",
                 r->json ? "OTLP/JSON" : "OTLP protobuf", err);
        return status_answer(s, c, MHD_HTTP_BAD_REQUEST, r->json, RPC_INVALID_ARGUMENT, msg);
    }
    fw_otlp_map_opts o = {.project = r->project,
                          .max_attribute_bytes = (size_t)s->cfg->max_attribute_bytes,
                          .max_attributes_bytes = (size_t)s->cfg->max_attributes_bytes};
    fw_otlp_map_stats st;
    memset(&st, 0, sizeof st);
    emit_ctx e = {s, fwg_batch_new(s->prod), fwg_scrubber_take(s->scrub), {0}, 0, 0, {0}};
    if (!e.batch || !e.red) {
        if (e.batch)
            fwg_batch_finish(e.batch, err, sizeof err);
        fwg_scrubber_give(s->scrub, e.red);
        fw_otlp_request_free(otlp);
        return status_answer(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, r->json, RPC_UNAVAILABLE,
                             "out of memory");
    }
    int mrc = fw_otlp_map(otlp, &o, emit, &e, &st);
    fw_otlp_request_free(otlp);
    fwg_scrubber_give(s->scrub, e.red);
    fwg_allocs_free(&e.allocs);
    free(e.allocs.p);
    free(e.packed.p);
    int acked = fwg_batch_finish(e.batch, err, sizeof err) == 0;
    atomic_fetch_add(&s->m.spans, st.spans);
    atomic_fetch_add(&s->m.skipped, st.skipped);
    atomic_fetch_add(&s->m.rejected, st.rejected);
    if (mrc == -1 || mrc == -2)
        return status_answer(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, r->json, RPC_UNAVAILABLE,
                             "out of memory");
    if (e.queue_full) {
        atomic_fetch_add(&s->m.produce_failures, 1);
        return status_answer(s, c, MHD_HTTP_TOO_MANY_REQUESTS, r->json, RPC_RESOURCE_EXHAUSTED,
                             "the gateway's Kafka queue is full; retry later");
    }
    if (e.failed || !acked) {
        atomic_fetch_add(&s->m.produce_failures, 1);
        char q[600];
        fw_log_warn("events not acknowledged", "project=%s error=%s", r->project,
                    fw_log_quote(q, sizeof q, err));
        return status_answer(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, r->json, RPC_UNAVAILABLE, err);
    }
    atomic_fetch_add(&s->m.generations, st.generations);
    char msg[300];
    snprintf(msg, sizeof msg, "%llu span(s) rejected: %s", (unsigned long long)st.rejected,
             st.first_error);
    return export_answer(s, c, r->json, st.rejected, msg);
}

static enum MHD_Result feedback(fwg_server *s, struct MHD_Connection *c, req *r)
{
    char err[512];
    const uint8_t *body = r->body;
    size_t len = r->len;
    uint8_t *inflated = NULL;
    if (r->gzip) {
        fwg_inflate_rc irc = fwg_gunzip(r->body, r->len, (size_t)s->cfg->max_inflated_bytes,
                                        &inflated, &len, err, sizeof err);
        if (irc == FWG_INFLATE_TOO_LARGE)
            return status_answer(s, c, HTTP_TOO_LARGE, 1, RPC_INVALID_ARGUMENT,
                                 "the inflated body is too large");
        if (irc != FWG_INFLATE_OK)
            return status_answer(s, c, MHD_HTTP_BAD_REQUEST, 1, RPC_INVALID_ARGUMENT, err);
        body = inflated;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    fwg_feedback_list l;
    int prc = fwg_feedback_parse((const char *)(body ? body : (const uint8_t *)""), len, r->project,
                                 now, &l, err, sizeof err);
    free(inflated);
    if (prc != 0)
        return status_answer(s, c, MHD_HTTP_BAD_REQUEST, 1, RPC_INVALID_ARGUMENT, err);
    fwg_batch *batch = fwg_batch_new(s->prod);
    fwr_redactor *red = fwg_scrubber_take(s->scrub);
    fwg_allocs allocs = {0};
    buf packed = {0}, ids = {0};
    int queue_full = 0, failed = !batch || !red;
    put(&ids, "{\"accepted\":", 12);
    putf(&ids, "%zu,\"ids\":[", l.n);
    for (size_t i = 0; i < l.n && !failed; i++) {
        Flywheel__V1__Event *ev = l.ev[i];
        if (fwg_scrub_event(s->scrub, red, ev, &allocs) < 0) {
            failed = 1;
            break;
        }
        size_t n = flywheel__v1__event__get_packed_size(ev);
        packed.len = 0;
        put(&packed, "", 0);
        if (n + 1 > packed.cap) {
            char *p = realloc(packed.p, n + 1);
            if (!p) {
                failed = 1;
                break;
            }
            packed.p = p;
            packed.cap = n + 1;
        }
        flywheel__v1__event__pack(ev, (uint8_t *)packed.p);
        fwg_allocs_free(&allocs);
        const Flywheel__V1__Feedback *f = ev->feedback;
        const ProtobufCBinaryData *key =
            f->target_trace_id.len ? &f->target_trace_id : &ev->event_id;
        if (fwg_produce(batch, key->data, key->len, packed.p, n, &queue_full) != 0) {
            failed = 1;
            break;
        }
        const uint8_t *u = ev->event_id.data;
        putf(&ids, "%s\"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\"",
             i ? "," : "", u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
             u[12], u[13], u[14], u[15]);
    }
    put(&ids, "]}", 2);
    fwg_allocs_free(&allocs);
    free(allocs.p);
    free(packed.p);
    fwg_scrubber_give(s->scrub, red);
    size_t n_ev = l.n;
    fwg_feedback_free(&l);
    int acked = batch ? fwg_batch_finish(batch, err, sizeof err) == 0 : 0;
    if (queue_full || failed || !acked) {
        free(ids.p);
        atomic_fetch_add(&s->m.produce_failures, 1);
        if (queue_full)
            return status_answer(s, c, MHD_HTTP_TOO_MANY_REQUESTS, 1, RPC_RESOURCE_EXHAUSTED,
                                 "the gateway's Kafka queue is full; retry later");
        return status_answer(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, 1, RPC_UNAVAILABLE,
                             acked ? "out of memory" : err);
    }
    atomic_fetch_add(&s->m.feedback, n_ev);
    return send_buf(s, c, MHD_HTTP_OK, &ids, "application/json", 0);
}

static void metrics(fwg_server *s, buf *b)
{
    putf(b, "# HELP flywheel_gateway_requests_total HTTP requests by status code.\n"
            "# TYPE flywheel_gateway_requests_total counter\n");
    for (unsigned i = 0; i < 7; i++)
        putf(b, "flywheel_gateway_requests_total{code=\"%u\"} %llu\n", CLASS_CODES[i],
             (unsigned long long)atomic_load(&s->m.requests[i]));
    putf(b, "flywheel_gateway_requests_total{code=\"other\"} %llu\n",
         (unsigned long long)atomic_load(&s->m.requests[7]));
    struct {
        const char *name, *help;
        atomic_ullong *v;
    } cs[] = {
        {"flywheel_gateway_spans_total", "OTLP spans received in decoded requests.", &s->m.spans},
        {"flywheel_gateway_generations_total", "Generation events acknowledged by Kafka.",
         &s->m.generations},
        {"flywheel_gateway_spans_skipped_total", "Spans that are not LLM calls.", &s->m.skipped},
        {"flywheel_gateway_spans_rejected_total", "LLM spans rejected (invalid ids or times).",
         &s->m.rejected},
        {"flywheel_gateway_body_bytes_total", "Request body bytes as received.", &s->m.bytes_in},
        {"flywheel_gateway_inflated_bytes_total", "Request body bytes after gzip inflation.",
         &s->m.bytes_inflated},
        {"flywheel_gateway_feedback_total", "Feedback events acknowledged by Kafka.",
         &s->m.feedback},
        {"flywheel_gateway_redactions_total", "Spans of text replaced by redaction.",
         &s->m.redactions},
        {"flywheel_gateway_produce_failures_total",
         "Requests answered 429 or 503 because Kafka did not take or acknowledge their events.",
         &s->m.produce_failures},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
        putf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", cs[i].name, cs[i].help, cs[i].name,
             cs[i].name, (unsigned long long)atomic_load(cs[i].v));
    putf(b,
         "# HELP flywheel_gateway_producer_recreations_total Kafka producers replaced after a "
         "fatal error.\n"
         "# TYPE flywheel_gateway_producer_recreations_total counter\n"
         "flywheel_gateway_producer_recreations_total %llu\n",
         fwg_producer_recreations(s->prod));
    putf(b,
         "# HELP flywheel_gateway_requests_in_flight Requests being handled.\n"
         "# TYPE flywheel_gateway_requests_in_flight gauge\n"
         "flywheel_gateway_requests_in_flight %lld\n",
         (long long)atomic_load(&s->m.inflight));
}

/* The first call of a request: everything decided from the headers. */
static enum MHD_Result start(fwg_server *s, struct MHD_Connection *c, const char *url,
                             const char *method, void **con_cls)
{
    if (strcmp(url, "/metrics") == 0 || strcmp(url, "/healthz") == 0 ||
        strcmp(url, "/readyz") == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return text(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
        buf b = {0};
        if (url[1] == 'm') {
            metrics(s, &b);
            return send_buf(s, c, MHD_HTTP_OK, &b, "text/plain; version=0.0.4; charset=utf-8", 0);
        }
        if (url[1] == 'h')
            return text(s, c, MHD_HTTP_OK, "ok");
        int kafka = fwg_producer_ready(s->prod), pg = !s->keys || fwg_keys_ping(s->keys);
        if (kafka && pg)
            return text(s, c, MHD_HTTP_OK, "ready");
        return text(s, c, MHD_HTTP_SERVICE_UNAVAILABLE,
                    !kafka ? "not ready: Kafka does not answer"
                           : "not ready: PostgreSQL does not answer");
    }
    int endpoint = strcmp(url, "/v1/traces") == 0     ? EP_TRACES
                   : strcmp(url, "/v1/feedback") == 0 ? EP_FEEDBACK
                                                      : 0;
    if (!endpoint)
        return text(s, c, MHD_HTTP_NOT_FOUND, "not found");
    if (strcmp(method, "POST") != 0)
        return text(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: use POST");
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    int json;
    if (ct && media_is(ct, "application/x-protobuf") && endpoint == EP_TRACES)
        json = 0;
    else if (ct && media_is(ct, "application/json"))
        json = 1;
    else
        return text(s, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                    endpoint == EP_TRACES
                        ? "unsupported content type: use application/x-protobuf or application/json"
                        : "unsupported content type: use application/json");
    const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
    int gzip = 0;
    if (ce && strcasecmp(ce, "gzip") == 0)
        gzip = 1;
    else if (ce && *ce && strcasecmp(ce, "identity") != 0)
        return text(s, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                    "unsupported content encoding: use gzip or identity");
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > (unsigned long long)s->cfg->max_body_bytes) {
        char msg[160];
        snprintf(msg, sizeof msg, "the body is larger than %lld bytes",
                 (long long)s->cfg->max_body_bytes);
        return status_answer(s, c, HTTP_TOO_LARGE, json, RPC_INVALID_ARGUMENT, msg);
    }
    req *r = calloc(1, sizeof *r);
    if (!r)
        return MHD_NO;
    r->endpoint = endpoint;
    r->json = json;
    r->gzip = gzip;
    if (s->keys) {
        const char *key = bearer_key(c);
        char err[600];
        int found =
            key ? fwg_keys_lookup(s->keys, key, r->project, sizeof r->project, err, sizeof err) : 0;
        if (found < 0) {
            free(r);
            fw_log_warn("key lookup failed", "error=%s", err);
            return status_answer(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, json, RPC_UNAVAILABLE,
                                 "the project key store is unavailable; retry later");
        }
        if (!found) {
            free(r);
            return status_answer(s, c, MHD_HTTP_UNAUTHORIZED, json, RPC_UNAUTHENTICATED,
                                 key ? "unknown or revoked project key"
                                     : "missing project key: send Authorization: Bearer <key>");
        }
    } else {
        snprintf(r->project, sizeof r->project, "%s", s->cfg->project);
    }
    *con_cls = r;
    atomic_fetch_add(&s->m.inflight, 1);
    return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    fwg_server *s = cls;
    req *r = *con_cls;
    if (!r)
        return start(s, c, url, method, con_cls);
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (r->too_large || r->len + n > (size_t)s->cfg->max_body_bytes) {
            r->too_large = 1;
            r->dropped += n;
            return r->dropped > 4 * (size_t)s->cfg->max_body_bytes ? MHD_NO : MHD_YES;
        }
        if (r->len + n > r->cap) {
            size_t cap = r->cap ? r->cap : 65536;
            while (cap < r->len + n)
                cap *= 2;
            uint8_t *p = realloc(r->body, cap);
            if (!p)
                return MHD_NO;
            r->body = p;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload, n);
        r->len += n;
        return MHD_YES;
    }
    if (r->too_large) {
        char msg[160];
        snprintf(msg, sizeof msg, "the body is larger than %lld bytes",
                 (long long)s->cfg->max_body_bytes);
        return status_answer(s, c, HTTP_TOO_LARGE, r->json, RPC_INVALID_ARGUMENT, msg);
    }
    return r->endpoint == EP_FEEDBACK ? feedback(s, c, r) : traces(s, c, r);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    fwg_server *s = cls;
    req *r = *con_cls;
    if (!r)
        return;
    atomic_fetch_sub(&s->m.inflight, 1);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512], q[600];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    fw_log_debug("http", "detail=%s", fw_log_quote(q, sizeof q, msg));
}

fwg_server *fwg_server_start(const fwg_config *cfg, fwg_producer *p, fwg_keys *keys,
                             fwg_scrubber *scrub, char *err, size_t errsize)
{
    char host[256];
    const char *colon = strrchr(cfg->listen, ':');
    if (!colon || colon == cfg->listen || (size_t)(colon - cfg->listen) >= sizeof host) {
        snprintf(err, errsize, "invalid listen \"%s\": expected host:port", cfg->listen);
        return NULL;
    }
    memcpy(host, cfg->listen, (size_t)(colon - cfg->listen));
    host[colon - cfg->listen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        snprintf(err, errsize, "invalid port in listen \"%s\"", cfg->listen);
        return NULL;
    }
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int gai = getaddrinfo(host, NULL, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errsize, "could not resolve listen host \"%s\": %s", host, gai_strerror(gai));
        return NULL;
    }
    struct sockaddr_in sin;
    memcpy(&sin, ai->ai_addr, sizeof sin);
    freeaddrinfo(ai);
    sin.sin_port = htons((uint16_t)port);
    fwg_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    s->prod = p;
    s->keys = keys;
    s->scrub = scrub;
    s->d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->timeout_s, MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
    if (!s->d) {
        snprintf(err, errsize, "could not listen on \"%s\"", cfg->listen);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : (int)port;
    return s;
}

int fwg_server_port(const fwg_server *s)
{
    return s ? s->port : 0;
}

void fwg_server_stop(fwg_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    free(s);
}
