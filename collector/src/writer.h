/*
 * writer: the thread that writes batches to PostgreSQL, so that the
 * consumer thread decodes, validates and encodes the next batch while the
 * current one's COPY and COMMIT are in flight.
 *
 * Hand-off of depth one: at most one batch is being written while the
 * consumer builds the next, so memory stays bounded by two batches. The
 * consumer hands a batch over with fw_writer_submit and takes the outcome
 * back with fw_writer_collect, strictly one after the other; batches are
 * therefore committed in the order they were built, and the consumer
 * applies each outcome (stored offsets, Kafka courtesy commit, pause on an
 * outage) in that order too.
 *
 * Ownership of the connection: while a batch is in flight (submitted, not
 * yet collected) the writer thread alone uses the fw_sink and the batch.
 * The consumer may call any fw_sink function, and touch the batch, only
 * while the writer is idle (fw_writer_busy() == 0); the mutex around the
 * hand-off orders the two threads' accesses.
 *
 * A batch that PostgreSQL refuses for a data error (class 22/23) is split
 * in halves, recursively, down to the one message at fault, which becomes a
 * dead letter `data_error:<SQLSTATE>`; each committed piece is a prefix of
 * the batch, stored with its own offsets (batch.h). The outcome of a split
 * batch is FW_PG_OK when every piece committed.
 */
#ifndef FW_WRITER_H
#define FW_WRITER_H

#include "batch.h"
#include "pg_sink.h"

typedef struct fw_writer fw_writer;

typedef struct {
    fw_pg_class result; /* FW_PG_OK, FW_PG_RETRY or FW_PG_FATAL (never DATA) */
    fw_write_stats st;  /* rows inserted and duplicates absorbed */
    double started_at;  /* monotonic seconds when the write began */
    double finished_at; /* ... and ended */
} fw_write_outcome;

/* Starts the thread. `sink` stays the caller's; `group` (for dead letters
 * of refused rows) is copied. Returns NULL with err set. */
fw_writer *fw_writer_new(fw_sink *sink, const char *group, char *err, size_t errsize);

/* Waits for a batch in flight (its outcome is discarded), then stops the
 * thread. NULL is accepted. */
void fw_writer_free(fw_writer *w);

/* Hands `b` to the thread. Precondition: not busy. `b` is the writer's
 * until the outcome is collected. */
void fw_writer_submit(fw_writer *w, fw_batch *b);

/* 1 from submit until the outcome is collected. Consumer thread only. */
int fw_writer_busy(const fw_writer *w);

/*
 * Waits up to timeout_ms (< 0: without limit) for the batch in flight.
 * Returns 1 with *out filled when its outcome was collected (the writer is
 * then idle), 0 on timeout or when nothing is in flight.
 */
int fw_writer_collect(fw_writer *w, int timeout_ms, fw_write_outcome *out);

#endif
