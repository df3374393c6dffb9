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
 *
 * Fatal errors. An idempotent producer can raise a fatal error (say the
 * broker reports a sequence the producer did not expect): that librdkafka
 * handle then refuses every message for good. The gateway keeps serving:
 * fwg_producer is a holder of the current librdkafka producer, and a
 * supervisor thread replaces it with a new one (new producer id, sequences
 * from zero) as soon as the fatal error is reported. Invariants:
 *   - every batch uses one handle from fwg_batch_new to fwg_batch_finish,
 *     and holds a use of it; the holder holds one use of the current handle;
 *   - the swap happens under the holder's lock; batches started before it
 *     finish on the old handle, whose queued and in-flight messages are
 *     purged at the swap, so their requests answer 503 with Retry-After at
 *     once (a retry is harmless: event ids are deterministic);
 *   - an old handle is flushed and destroyed by the supervisor once its last
 *     use is released, never by a request thread or its own delivery thread;
 *   - recreations are at least a second apart, counted
 *     (fwg_producer_recreations) and logged with librdkafka's reason.
 */
#ifndef FWG_PRODUCER_H
#define FWG_PRODUCER_H

#include "gw_config.h"

#include <stddef.h>

typedef struct fwg_producer fwg_producer;
typedef struct fwg_batch fwg_batch;

/* Creates the first librdkafka producer and the supervisor thread. The
 * configuration is copied: cfg need not outlive the producer. */
fwg_producer *fwg_producer_new(const fwg_config *cfg, char *err, size_t errsize);
/* Stops the supervisor, flushes what is in flight (up to the ack timeout)
 * and frees every handle. No batch may be in use. */
void fwg_producer_free(fwg_producer *p);

/* How many times a fatal error made the producer be recreated. */
unsigned long long fwg_producer_recreations(fwg_producer *p);

/* 1 when the brokers answered a metadata request within a second (0 while
 * the current handle has a fatal error and is not replaced yet). */
int fwg_producer_ready(fwg_producer *p);

/* A batch on the current handle; NULL when out of memory. */
fwg_batch *fwg_batch_new(fwg_producer *p);

/*
 * Produces a copy of payload into the batch. Returns 0, or -1 when
 * librdkafka refuses it at once (its queue is full: the caller answers 429;
 * another error, such as a fatal one: 503); *queue_full tells which.
 */
int fwg_produce(fwg_batch *b, const void *key, size_t keylen, const void *payload, size_t len,
                int *queue_full);

/*
 * Waits until every message of the batch is acknowledged or failed, at most
 * the ack timeout plus a margin. Returns 0 when all were acknowledged, -1
 * otherwise with the first error in err. Releases the caller's reference
 * and its use of the handle: the batch must not be used afterwards.
 */
int fwg_batch_finish(fwg_batch *b, char *err, size_t errsize);

#endif
