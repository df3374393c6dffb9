/*
 * The consumer loop: a librdkafka consumer-group member that batches
 * messages (rd_kafka_consumer_poll, never the 2.0.x batch API) and writes
 * each batch through pg_sink.
 *
 * Where reading starts: on every assignment the rebalance callback reads
 * the partitions' next offsets from flywheel.ingest_offsets and assigns at
 * exactly those (no row: kafka.auto.offset.reset). Kafka's committed
 * offsets are never read; they are committed asynchronously after each
 * PostgreSQL commit only so that lag monitors see progress.
 *
 * Per-partition state (`ready`, `consumed`, `stored`):
 *   - a message from a partition that is not ready (PostgreSQL down, or
 *     offsets not known yet) or below `consumed` is dropped: it will be
 *     read again from the stored offset;
 *   - after PostgreSQL fails with a retryable error, every assigned
 *     partition is paused and made not ready, the batch is dropped, and the
 *     loop keeps calling rd_kafka_consumer_poll (so max.poll.interval.ms is
 *     never exceeded and the member stays in the group) while it reconnects
 *     with capped exponential backoff; once connected it seeks every
 *     partition to its stored offset and resumes.
 *   - a batch that PostgreSQL refuses for a data error (class 22/23) is
 *     split in halves, recursively, down to the one message at fault, which
 *     becomes a dead letter `data_error:<SQLSTATE>`; each committed piece is
 *     a prefix of the batch, stored with its own offsets (batch.h).
 *
 * Pipelining: a full batch is handed to the writer thread (writer.h) and
 * the next one is decoded, validated and encoded while the first one's COPY
 * and COMMIT run. At most one batch is in flight; handing over the next
 * waits for it, so batches commit in order and the loop blocks no longer
 * than one transaction, as a synchronous write would. An outcome is applied
 * on this thread in submission order; after an outage the batch being built
 * is dropped with the failed one (both are read again from the stored
 * offsets).
 *
 * On revocation the batch in flight ends first, then the batch being built
 * is written (or dropped if PostgreSQL is down or the assignment was lost),
 * so the next owner starts exactly where this member stopped.
 */
#ifndef FW_CONSUMER_H
#define FW_CONSUMER_H

#include "config.h"

#include <signal.h>

/*
 * Runs until *stop becomes non-zero (SIGTERM/SIGINT) or a fatal error.
 * *reopen_logs is checked and cleared each turn (SIGHUP). Returns 0 after a
 * clean stop, 1 after a fatal error (logged).
 */
int fw_consumer_run(const fw_config *cfg, volatile sig_atomic_t *stop,
                    volatile sig_atomic_t *reopen_logs);

#endif
