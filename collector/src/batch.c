/*
 * Batch building; see batch.h for the invariants pg_sink relies on.
 */
#include "batch.h"

#include "fw_otlp.h"
#include "metrics.h"
#include "rows.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static fw_batch_item *new_item(fw_batch *b)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        fw_batch_item *it = realloc(b->items, cap * sizeof *it);
        if (!it)
            return NULL;
        b->items = it;
        b->cap = cap;
    }
    if (b->n == 0)
        b->first_at = mono_s();
    return &b->items[b->n];
}

static void origin_of(const rd_kafka_message_t *m, fw_origin *o)
{
    o->topic = rd_kafka_topic_name(m->rkt);
    o->partition = m->partition;
    o->offset = m->offset;
}

int fw_batch_add_dead_letter(fw_batch *b, rd_kafka_message_t *msg, const char *group,
                             fw_dl_reason reason, const char *code, const char *detail)
{
    fw_batch_item *it = new_item(b);
    if (!it)
        return -1;
    fw_buf *sb = &b->bufs[FW_T_DEAD_LETTERS];
    size_t start = sb->len;
    fw_origin o;
    origin_of(msg, &o);
    rd_kafka_timestamp_type_t tst;
    int64_t ts = rd_kafka_message_timestamp(msg, &tst);
    /* Recover the event id for the operator when the message decodes. */
    fw_decoded d;
    memset(&d, 0, sizeof d);
    fw_limits nolim = {0, 0};
    if (msg->payload)
        fw_decode(msg->payload, msg->len, &nolim, &d);
    fw_row_dead_letter(sb, group, &o, msg->key, msg->key_len, msg->payload ? msg->payload : "",
                       msg->payload ? msg->len : 0, ts, code, detail,
                       d.has_event_id ? d.event_id : NULL);
    fw_decode_free(&d);
    if (sb->oom) {
        sb->len = start;
        sb->oom = 0;
        return -1;
    }
    *it = (fw_batch_item){msg, FW_T_DEAD_LETTERS, (uint8_t)reason, 1, start, sb->len - start};
    b->n++;
    return 0;
}

int fw_batch_add(fw_batch *b, rd_kafka_message_t *msg, const char *group, const fw_limits *lim)
{
    fw_decoded d;
    fw_decode(msg->payload ? msg->payload : (const uint8_t *)"", msg->payload ? msg->len : 0, lim,
              &d);
    if (d.reason != FW_DL_NONE) {
        fw_batch_item *it = new_item(b);
        if (!it)
            return -1;
        fw_buf *sb = &b->bufs[FW_T_DEAD_LETTERS];
        size_t start = sb->len;
        fw_origin o;
        origin_of(msg, &o);
        rd_kafka_timestamp_type_t tst;
        int64_t ts = rd_kafka_message_timestamp(msg, &tst);
        fw_row_dead_letter(sb, group, &o, msg->key, msg->key_len, msg->payload ? msg->payload : "",
                           msg->payload ? msg->len : 0, ts, fw_dl_reason_code(d.reason), d.detail,
                           d.has_event_id ? d.event_id : NULL);
        if (sb->oom) {
            sb->len = start;
            sb->oom = 0;
            return -1;
        }
        *it = (fw_batch_item){msg, FW_T_DEAD_LETTERS, (uint8_t)d.reason, 0, start, sb->len - start};
        b->n++;
        return 0;
    }
    fw_batch_item *it = new_item(b);
    if (!it) {
        fw_decode_free(&d);
        return -1;
    }
    fw_table t = d.event->body_case == FLYWHEEL__V1__EVENT__BODY_GENERATION ? FW_T_GENERATIONS
                                                                            : FW_T_FEEDBACK;
    fw_buf *sb = &b->bufs[t];
    size_t start = sb->len;
    fw_origin o;
    origin_of(msg, &o);
    if (t == FW_T_GENERATIONS)
        fw_row_generation(sb, d.event, &o);
    else
        fw_row_feedback(sb, d.event, &o);
    fw_decode_free(&d);
    if (sb->oom) {
        sb->len = start;
        sb->oom = 0;
        return -1;
    }
    *it = (fw_batch_item){msg, (uint8_t)t, FW_DL_NONE, 0, start, sb->len - start};
    b->n++;
    return 0;
}

/* Appends the dead-letter line of msg (owned by the batch). */
static int dead_letter(fw_batch *b, rd_kafka_message_t *msg, const char *group, fw_dl_reason r,
                       const char *detail, const uint8_t *event_id)
{
    fw_batch_item *it = new_item(b);
    if (!it)
        return -1;
    fw_buf *sb = &b->bufs[FW_T_DEAD_LETTERS];
    size_t start = sb->len;
    fw_origin o;
    origin_of(msg, &o);
    rd_kafka_timestamp_type_t tst;
    int64_t ts = rd_kafka_message_timestamp(msg, &tst);
    fw_row_dead_letter(sb, group, &o, msg->key, msg->key_len, msg->payload ? msg->payload : "",
                       msg->payload ? msg->len : 0, ts, fw_dl_reason_code(r), detail, event_id);
    if (sb->oom) {
        sb->len = start;
        sb->oom = 0;
        return -1;
    }
    *it = (fw_batch_item){msg, FW_T_DEAD_LETTERS, (uint8_t)r, 0, start, sb->len - start};
    b->n++;
    return 0;
}

typedef struct {
    fw_buf *sb;
    const fw_origin *o;
    const fw_limits *lim;
    uint8_t *buf;
    size_t cap;
    fw_dl_reason reason; /* of the first event that failed validation */
    char detail[160];
    uint8_t event_id[16];
    int has_event_id;
} otlp_rows;

/* fw_otlp_map's callback: pack, validate as any flywheel.v1 message is,
 * encode the row. Returns 1 (stop) at the first event that fails. */
static int otlp_row(void *opaque, Flywheel__V1__Event *ev, const fw_otlp_span *span)
{
    (void)span;
    otlp_rows *r = opaque;
    size_t n = flywheel__v1__event__get_packed_size(ev);
    if (n > r->cap) {
        free(r->buf);
        r->cap = n * 2;
        r->buf = malloc(r->cap);
        if (!r->buf) {
            r->cap = 0;
            return -1;
        }
    }
    flywheel__v1__event__pack(ev, r->buf);
    fw_decoded d;
    if (fw_decode(r->buf, n, r->lim, &d) != FW_DL_NONE) {
        r->reason = d.reason;
        snprintf(r->detail, sizeof r->detail, "span event: %.140s", d.detail);
        memcpy(r->event_id, ev->event_id.data, 16);
        r->has_event_id = 1;
        return 1;
    }
    fw_row_generation(r->sb, d.event, r->o);
    fw_decode_free(&d);
    return r->sb->oom ? -1 : 0;
}

int fw_batch_add_otlp(fw_batch *b, rd_kafka_message_t *msg, const char *group, const fw_limits *lim,
                      const fw_otlp_source *src)
{
    const uint8_t *p = msg->payload ? msg->payload : (const uint8_t *)"";
    size_t len = msg->payload ? msg->len : 0;
    char err[200], detail[160];
    if (lim->max_message_bytes && len > lim->max_message_bytes) {
        snprintf(detail, sizeof detail, "message is %zu bytes, over the limit of %zu", len,
                 lim->max_message_bytes);
        return dead_letter(b, msg, group, FW_DL_OVERSIZE, detail, NULL);
    }
    fw_otlp_request *req = NULL;
    int rc = src->json ? fw_otlp_decode_json((const char *)p, len, &req, err, sizeof err)
                       : fw_otlp_decode_proto(p, len, &req, err, sizeof err);
    if (rc != 0) {
        if (strcmp(err, "out of memory") == 0)
            return -1;
        snprintf(detail, sizeof detail, "%.150s", err);
        return dead_letter(b, msg, group, FW_DL_UNDECODABLE, detail, NULL);
    }
    fw_batch_item *it = new_item(b);
    if (!it) {
        fw_otlp_request_free(req);
        return -1;
    }
    fw_buf *sb = &b->bufs[FW_T_GENERATIONS];
    size_t start = sb->len;
    fw_origin o;
    origin_of(msg, &o);
    otlp_rows r = {sb, &o, lim, NULL, 0, FW_DL_NONE, "", {0}, 0};
    fw_otlp_map_opts mo = {src->project, src->max_attribute_bytes, src->max_attributes_bytes};
    fw_otlp_map_stats st;
    memset(&st, 0, sizeof st);
    rc = fw_otlp_map(req, &mo, otlp_row, &r, &st);
    fw_otlp_request_free(req);
    free(r.buf);
    if (rc < 0 || sb->oom) {
        sb->len = start;
        sb->oom = 0;
        return -1;
    }
    if (rc > 0) {
        sb->len = start;
        return dead_letter(b, msg, group, r.reason, r.detail, r.has_event_id ? r.event_id : NULL);
    }
    fw_metrics_otlp(st.spans, st.generations, st.skipped, st.rejected);
    *it = (fw_batch_item){msg, FW_T_GENERATIONS, FW_DL_NONE, 0, start, sb->len - start};
    b->n++;
    return 0;
}

size_t fw_batch_bytes(const fw_batch *b)
{
    size_t n = 0;
    for (int t = 0; t < FW_T_COUNT; t++)
        n += b->bufs[t].len;
    return n;
}

void fw_batch_clear(fw_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (!b->items[i].borrowed)
            rd_kafka_message_destroy(b->items[i].msg);
    b->n = 0;
    for (int t = 0; t < FW_T_COUNT; t++)
        fw_buf_reset(&b->bufs[t]);
}

void fw_batch_free(fw_batch *b)
{
    fw_batch_clear(b);
    free(b->items);
    for (int t = 0; t < FW_T_COUNT; t++)
        fw_buf_free(&b->bufs[t]);
    b->items = NULL;
    b->cap = 0;
}
