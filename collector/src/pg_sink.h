/*
 * pg_sink: the collector's PostgreSQL side.
 *
 * One connection. A batch (or a prefix-consistent slice of one, see
 * batch.h) is written in ONE transaction:
 *
 *   BEGIN
 *   COPY fw_stage_<table> FROM STDIN                 -- temp tables, per session
 *   INSERT INTO flywheel.<table> SELECT ... ON CONFLICT DO NOTHING
 *   (the same for feedback and dead_letters)
 *   INSERT INTO flywheel.ingest_offsets ... ON CONFLICT DO UPDATE  -- next offset per partition,
 *                                                     -- never lowered (GREATEST)
 *   COMMIT
 *
 * so rows, dead letters and offsets become visible together or not at all:
 * after any crash the stored offsets say exactly which messages are stored,
 * and a message read twice is absorbed by the event-id primary keys (and the
 * (topic, partition, offset) key of dead letters). In `direct` write mode
 * the COPY goes straight into flywheel.<table> inside a savepoint; if it
 * meets a duplicate (23505) the savepoint is rolled back and that table
 * takes the staging path, so the result is the same.
 *
 * The temporary staging tables are created once per connection (they are
 * session objects, not schema changes: the collector runs no DDL on the
 * store). ON COMMIT DELETE ROWS empties them at every commit.
 *
 * Errors are classified by SQLSTATE (common/pg/include/pgutil.h): FW_PG_RETRY (the
 * caller pauses and reconnects), FW_PG_DATA (a row is at fault; the caller
 * splits the batch), FW_PG_FATAL (configuration, permissions, schema).
 * After any error the transaction has been rolled back (or the connection
 * is gone); nothing was committed by the failing call.
 */
#ifndef FW_PG_SINK_H
#define FW_PG_SINK_H

#include "batch.h"
#include "pgutil.h"

#include <librdkafka/rdkafka.h>

typedef struct fw_sink fw_sink;

typedef struct {
    uint64_t inserted[FW_T_COUNT];
    uint64_t duplicates[FW_T_COUNT];
} fw_write_stats;

/* `dsn` and `group` are copied. copy_dump: path or "" (benchmark aid).
 * direct: 1 for the direct write mode. Returns NULL with err set. */
fw_sink *fw_sink_new(const char *dsn, const char *group, int direct, const char *copy_dump,
                     char *err, size_t errsize);
void fw_sink_free(fw_sink *s);

/*
 * The oldest applied schema version this collector writes correctly: the
 * versioned migration that last changed what it writes (generations,
 * feedback, dead_letters, ingest_offsets) or the signature of a function it
 * calls (maintain_partitions). Raise it in the same change as such a
 * migration. A migration that only adds views, functions or other tables
 * leaves it alone, so running collectors need no redeploy; a database newer
 * than this binary's migrations is accepted.
 */
#define FW_SINK_MIN_SCHEMA_VERSION 38

/*
 * Connects, checks that the database's applied schema version is at least
 * FW_SINK_MIN_SCHEMA_VERSION, and prepares the session.
 * Returns FW_PG_OK; FW_PG_RETRY when PostgreSQL is unreachable; FW_PG_FATAL
 * with a message and hint in err (schema too old, no permission).
 */
fw_pg_class fw_sink_connect(fw_sink *s, char *err, size_t errsize);
int fw_sink_connected(const fw_sink *s);

/* "host:port" of the server the last connection attempt went to, as libpq
 * resolved the connection string (defaults and PG* variables included), or
 * the connection string's host and port before any attempt. For log lines:
 * an operator must see which address failed. Read by the thread that owns
 * the sink (see writer.h). */
const char *fw_sink_target(const fw_sink *s);
void fw_sink_disconnect(fw_sink *s);

/* SELECT flywheel.maintain_partitions(). Returns its class; err set. */
fw_pg_class fw_sink_maintain(fw_sink *s, int *created, char *err, size_t errsize);

/*
 * For each partition of `parts`, sets ->offset to the next offset stored in
 * flywheel.ingest_offsets for this group, or leaves it unchanged when no
 * row exists. Returns FW_PG_OK or the error class (err set).
 */
fw_pg_class fw_sink_read_offsets(fw_sink *s, rd_kafka_topic_partition_list_t *parts, char *err,
                                 size_t errsize);

/*
 * Writes items [lo, hi) of `b` and their partitions' next offsets in one
 * transaction. On success adds to *st and returns FW_PG_OK. On failure
 * returns the class, with the SQLSTATE in sqlstate (may be "") and a
 * message in err.
 */
fw_pg_class fw_sink_write(fw_sink *s, const fw_batch *b, size_t lo, size_t hi, fw_write_stats *st,
                          char sqlstate[6], char *err, size_t errsize);

#endif
