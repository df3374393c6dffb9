/*
 * A batch: the Kafka messages consumed since the last write, each already
 * decoded, validated and encoded as one COPY line for its table.
 *
 * Invariants:
 *   - items are in consumption order, so for every partition they are in
 *     offset order, and any prefix [0, k) of the items holds a prefix of
 *     each partition's messages: committing a prefix together with "next
 *     offset = last offset in the prefix + 1" per partition is consistent.
 *     pg_sink relies on this when it splits a batch to isolate a bad row.
 *   - the lines of the items of one table are contiguous and in item order
 *     in that table's buffer, so the lines of any item range form one slice.
 *   - the batch owns its rd_kafka_message_t (kept for dead-lettering a row
 *     that PostgreSQL refuses) until fw_batch_clear.
 */
#ifndef FW_BATCH_H
#define FW_BATCH_H

#include "decode.h"
#include "metrics.h"
#include "fw_buf.h"

#include <librdkafka/rdkafka.h>

typedef struct {
    rd_kafka_message_t *msg;
    uint8_t table;     /* fw_table */
    uint8_t reason;    /* fw_dl_reason for dead letters, else FW_DL_NONE */
    uint8_t borrowed;  /* msg not owned (not destroyed by fw_batch_clear) */
    size_t start, len; /* the line in bufs[table] */
} fw_batch_item;

typedef struct {
    fw_batch_item *items;
    size_t n, cap;
    fw_buf bufs[FW_T_COUNT];
    double first_at; /* monotonic seconds when the first item arrived */
} fw_batch;

/*
 * Decodes, validates and encodes `msg` and appends it (taking ownership).
 * A message that fails validation is encoded as a dead letter of `group`.
 * Returns 0, or -1 when out of memory (msg is then still the caller's).
 */
int fw_batch_add(fw_batch *b, rd_kafka_message_t *msg, const char *group, const fw_limits *lim);

/* How to read the messages of an OTLP topic (the OpenTelemetry Collector's
 * kafka exporter writes one ExportTraceServiceRequest per message). */
typedef struct {
    int json;            /* otlp_json, else otlp_proto */
    const char *project; /* Event.project of its events */
    size_t max_attribute_bytes, max_attributes_bytes;
} fw_otlp_source;

/*
 * Decodes an OTLP message, maps its LLM spans to generation events (the
 * mapping the gateway uses), validates each as fw_decode does, and appends
 * the message as one item holding one row per event (none when it had no
 * LLM span). A message that does not decode, or whose events do not all
 * validate, becomes one dead letter with the reason and detail. Takes
 * ownership of msg; returns 0, or -1 when out of memory (msg is then still
 * the caller's).
 */
int fw_batch_add_otlp(fw_batch *b, rd_kafka_message_t *msg, const char *group, const fw_limits *lim,
                      const fw_otlp_source *src);

/* Appends a dead letter for `msg` with the given reason code and detail,
 * without taking ownership of msg (used for rows PostgreSQL refused). */
int fw_batch_add_dead_letter(fw_batch *b, rd_kafka_message_t *msg, const char *group,
                             fw_dl_reason reason, const char *code, const char *detail);

size_t fw_batch_bytes(const fw_batch *b);

/* Destroys owned messages and empties the batch, keeping its memory. */
void fw_batch_clear(fw_batch *b);
void fw_batch_free(fw_batch *b);

#endif
