/*
 * Batch building; see batch.h for the invariants pg_sink relies on.
 */
#include "batch.h"

#include "rows.h"

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
