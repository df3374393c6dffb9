/*
 * The gateway's Kafka producer, and "batches": the events of one HTTP
 * request, produced, then waited for until the broker has acknowledged
 * every one of them (or failed one), which is when the request is answered.
 *
 * The producer is idempotent with acks=all; message.timeout.ms is the
 * configured ack timeout, so librdkafka reports every message, delivered or
 * failed, within it. A thread serves delivery reports (rd_kafka_poll). A
 * batch is reference-counted: the request holds one reference, each message
 * in flight another, so a request that gives up waiting never leaves a
 * delivery report pointing at freed memory.
 *
 * A message reported failed may still have been written (a timeout after
 * the broker took it): the client retries, the retry carries the same event
 * ids, and the collector stores one row per id.
 */
#ifndef FWG_PRODUCER_H
#define FWG_PRODUCER_H

#include "gw_config.h"

#include <stddef.h>

typedef struct fwg_producer fwg_producer;
typedef struct fwg_batch fwg_batch;

fwg_producer *fwg_producer_new(const fwg_config *cfg, char *err, size_t errsize);
/* Flushes what is in flight (up to the ack timeout) and frees. */
void fwg_producer_free(fwg_producer *p);

/* 1 once librdkafka raised a fatal error (the process should exit and be
 * restarted; the gateway keeps no state). */
int fwg_producer_fatal(const fwg_producer *p);

/* 1 when the brokers answered a metadata request within a second. */
int fwg_producer_ready(fwg_producer *p);

fwg_batch *fwg_batch_new(void);

/*
 * Produces a copy of payload into the batch. Returns 0, or -1 when
 * librdkafka refuses it at once (its queue is full: the caller answers 429;
 * another error: 503); *queue_full tells which.
 */
int fwg_produce(fwg_producer *p, fwg_batch *b, const void *key, size_t keylen, const void *payload,
                size_t len, int *queue_full);

/*
 * Waits until every message of the batch is acknowledged or failed, at most
 * the ack timeout plus a margin. Returns 0 when all were acknowledged, -1
 * otherwise with the first error in err. Releases the caller's reference:
 * the batch must not be used afterwards.
 */
int fwg_batch_finish(fwg_producer *p, fwg_batch *b, char *err, size_t errsize);

#endif
