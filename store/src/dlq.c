/*
 * Dead letters (flywheel/store.h, fw_store_dlq_*): list, show and replay
 * the messages the collector could not store.
 *
 * Replay writes to PostgreSQL directly; it does not re-produce to Kafka.
 * Each dead letter is re-validated with the codec the collector uses
 * (fw_codec: decode.c) and, when it now passes, encoded with the same row
 * encoder and inserted with ON CONFLICT DO NOTHING, in one transaction that
 * also sets replayed_at and increments replay_count; the dead letter's row
 * is locked (FOR UPDATE) so two operators cannot replay it at once. A
 * message that still fails is reported with its new reason and left as it
 * was. Only the row's own fault (SQLSTATE class 22 or 23) is a refusal of
 * one dead letter; a lost connection, a permission or schema error stops
 * the whole replay.
 */
#include "store_int.h"

#include "copyenc.h"
#include "decode.h"
#include "fw_buf.h"
#include "rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The selection of list and replay: a reason matches itself and its
 * "reason:..." refinements (data_error matches data_error:22P02). */
#define REASON_SQL "($1::text IS NULL OR reason = $1 OR reason LIKE $1 || ':%')"

json_t *fw_store_dlq_list(PGconn *conn, const fw_store_dlq_filter *f, fw_store_error *err)
{
    fw_store_error_clear(err);
    if (f->limit < 0)
        return fw_store_fail(err, FW_STORE_INVALID, "invalid limit %lld", f->limit), NULL;
    char limit[32];
    snprintf(limit, sizeof limit, "%lld", f->limit);
    const char *params[3] = {f->reason, f->limit > 0 ? limit : NULL, f->all ? "t" : "f"};
    PGresult *r = PQexecParams(conn,
                               "SELECT id, received_at, topic, partition, \"offset\", reason, "
                               "replay_count, event_id::text AS event_id, detail "
                               "FROM flywheel.dead_letters WHERE " REASON_SQL
                               " AND ($3::boolean OR replayed_at IS NULL) "
                               "ORDER BY id DESC LIMIT $2::bigint",
                               3, NULL, params, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        fw_store_error_pg(err, "list dead letters", r, conn);
        PQclear(r);
        return NULL;
    }
    json_t *rows = fw_store_rows_json(r);
    PQclear(r);
    if (!rows)
        fw_store_fail(err, FW_STORE_NOMEM, "could not list dead letters: out of memory");
    return rows;
}

json_t *fw_store_dlq_show(PGconn *conn, long long id, fw_store_error *err)
{
    fw_store_error_clear(err);
    char sid[32];
    snprintf(sid, sizeof sid, "%lld", id);
    const char *params[1] = {sid};
    PGresult *r =
        PQexecParams(conn,
                     "SELECT id, received_at, consumer_group, topic, partition, \"offset\", "
                     "encode(message_key, 'escape') AS key, message_time, reason, detail, "
                     "event_id::text AS event_id, replayed_at, replay_count, "
                     "length(payload) AS payload_bytes, "
                     "encode(substr(payload, 1, 512), 'hex') AS payload_hex "
                     "FROM flywheel.dead_letters WHERE id = $1::bigint",
                     1, NULL, params, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        fw_store_error_pg(err, "read dead letter", r, conn);
        PQclear(r);
        return NULL;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        fw_store_fail(err, FW_STORE_NOT_FOUND,
                      "dead letter %lld does not exist\n"
                      "hint: `flywheel dlq list --all` lists the dead letters.",
                      id);
        return NULL;
    }
    json_t *row = fw_store_row_json(r, 0);
    PQclear(r);
    if (!row)
        fw_store_fail(err, FW_STORE_NOMEM, "could not read dead letter: out of memory");
    return row;
}

void fw_store_dlq_replay_opts_init(fw_store_dlq_replay_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_message_bytes = 4u << 20;
    o->max_field_bytes = 1u << 20;
}

static uint32_t be32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static uint64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v = v << 8 | (unsigned char)p[k];
    return v;
}

/* Runs a command that returns no rows; on failure fills err. */
static int exec_ok(PGconn *c, const char *sql, const char *what, fw_store_error *err)
{
    PGresult *r = PQexec(c, sql);
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fw_store_error_pg(err, what, r, c);
    PQclear(r);
    return ok ? 0 : -1;
}

/* COPYs one encoded row into the session's staging table and inserts it
 * into the store's. Returns 1 inserted, 0 already present, -2 refused by
 * the row's own data (*r kept for its SQLSTATE), -1 error (err filled). */
static int insert_row(PGconn *c, int gen, const fw_buf *line, PGresult **refused,
                      fw_store_error *err)
{
    const char *table = gen ? "generations" : "feedback";
    const char *cols = gen ? FW_GEN_COLUMNS : FW_FB_COLUMNS;
    char sql[4096];
    snprintf(sql, sizeof sql,
             "CREATE TEMP TABLE IF NOT EXISTS fw_replay_%s (LIKE flywheel.%s INCLUDING DEFAULTS) "
             "ON COMMIT DELETE ROWS",
             table, table);
    if (exec_ok(c, sql, "create the replay table", err) != 0)
        return -1;
    snprintf(sql, sizeof sql, "COPY fw_replay_%s (%s) FROM STDIN", table, cols);
    PGresult *r = PQexec(c, sql);
    if (!r || PQresultStatus(r) != PGRES_COPY_IN) {
        fw_store_error_pg(err, "copy the replayed row", r, c);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    if (PQputCopyData(c, line->data, (int)line->len) != 1 || PQputCopyEnd(c, NULL) != 1)
        return fw_store_error_pg(err, "copy the replayed row", NULL, c);
    r = PQgetResult(c);
    for (PGresult *extra; (extra = PQgetResult(c)) != NULL;)
        PQclear(extra);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
        goto failed;
    PQclear(r);
    snprintf(sql, sizeof sql,
             "INSERT INTO flywheel.%s (%s) SELECT %s FROM fw_replay_%s ON CONFLICT DO NOTHING",
             table, cols, cols, table);
    r = PQexec(c, sql);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
        goto failed;
    int inserted = strtol(PQcmdTuples(r), NULL, 10) > 0;
    PQclear(r);
    return inserted;
failed : {
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (st && (strncmp(st, "22", 2) == 0 || strncmp(st, "23", 2) == 0)) {
        *refused = r;
        return -2;
    }
    fw_store_error_pg(err, "insert the replayed row", r, c);
    PQclear(r);
    return -1;
}
}

/*
 * Replays dead letter `id` in its own transaction and reports the outcome
 * through o->fn. Returns 1 replayed (or valid, in a dry run), 0 not
 * replayed (skipped, still invalid, refused), -1 error (err filled,
 * nothing changed).
 */
static int replay_one(PGconn *c, long long id, const fw_store_dlq_replay_opts *o,
                      fw_store_error *err)
{
    int rc = -1;
    char sid[32];
    snprintf(sid, sizeof sid, "%lld", id);
    const char *params[1] = {sid};
    fw_store_dlq_replayed out = {.id = id};
    fw_buf line = {0};
    fw_decoded d;
    memset(&d, 0, sizeof d);
    PGresult *r = NULL;
    if (exec_ok(c, "BEGIN", "start a transaction", err) != 0)
        return -1;
    r = PQexecParams(c,
                     "SELECT payload, topic, partition, \"offset\", replayed_at IS NOT NULL "
                     "FROM flywheel.dead_letters WHERE id = $1::bigint FOR UPDATE",
                     1, NULL, params, NULL, NULL, 1);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        fw_store_error_pg(err, "read dead letter", r, c);
        goto done;
    }
    if (PQntuples(r) != 1) {
        fw_store_fail(err, FW_STORE_NOT_FOUND, "dead letter %lld does not exist", id);
        goto done;
    }
    char topic[256];
    snprintf(topic, sizeof topic, "%.*s", PQgetlength(r, 0, 1), PQgetvalue(r, 0, 1));
    fw_origin origin = {topic, (int32_t)be32(PQgetvalue(r, 0, 2)),
                        (int64_t)be64(PQgetvalue(r, 0, 3))};
    if (PQgetvalue(r, 0, 4)[0] != 0 && !o->again) {
        out.outcome = FW_STORE_DLQ_SKIPPED;
        rc = 0;
        goto report;
    }
    fw_limits lim = {o->max_message_bytes, o->max_field_bytes};
    fw_decode((const uint8_t *)PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), &lim, &d);
    if (d.reason != FW_DL_NONE) {
        out.outcome = FW_STORE_DLQ_INVALID;
        out.reason = fw_dl_reason_code(d.reason);
        out.detail = d.detail;
        rc = 0;
        goto report;
    }
    int gen = d.event->body_case == FLYWHEEL__V1__EVENT__BODY_GENERATION;
    out.table = gen ? "generations" : "feedback";
    if (gen)
        fw_row_generation(&line, d.event, &origin);
    else
        fw_row_feedback(&line, d.event, &origin);
    if (line.oom) {
        fw_store_fail(err, FW_STORE_NOMEM, "could not encode dead letter %lld: out of memory", id);
        goto done;
    }
    if (o->dry_run) {
        out.outcome = FW_STORE_DLQ_VALID;
        rc = 1;
        goto report;
    }
    PQclear(r);
    r = NULL;
    PGresult *refused = NULL;
    int ins = insert_row(c, gen, &line, &refused, err);
    if (ins == -1)
        goto done;
    if (ins == -2) {
        char reason[32];
        const char *st = PQresultErrorField(refused, PG_DIAG_SQLSTATE);
        snprintf(reason, sizeof reason, "data_error:%s", st ? st : "");
        PQclear(refused);
        out.outcome = FW_STORE_DLQ_REFUSED;
        out.reason = reason;
        rc = 0;
        if (o->fn)
            o->fn(o->ctx, &out);
        goto done;
    }
    r = PQexecParams(c,
                     "UPDATE flywheel.dead_letters SET replayed_at = now(), "
                     "replay_count = replay_count + 1 WHERE id = $1::bigint",
                     1, NULL, params, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        fw_store_error_pg(err, "mark dead letter replayed", r, c);
        goto done;
    }
    if (exec_ok(c, "COMMIT", "commit the replay", err) != 0)
        goto done;
    out.outcome = ins ? FW_STORE_DLQ_INSERTED : FW_STORE_DLQ_PRESENT;
    rc = 1;
report:
    if (o->fn)
        o->fn(o->ctx, &out);
done:
    PQclear(r);
    PQclear(PQexec(c, "ROLLBACK")); /* a no-op after COMMIT */
    fw_decode_free(&d);
    fw_buf_free(&line);
    return rc;
}

int fw_store_dlq_replay(PGconn *conn, const fw_store_dlq_replay_opts *o,
                        fw_store_dlq_counts *counts, fw_store_error *err)
{
    fw_store_error_clear(err);
    memset(counts, 0, sizeof *counts);
    if (o->nids == 0 && !o->reason && !o->all)
        return fw_store_fail(err, FW_STORE_INVALID,
                             "nothing to replay\n"
                             "hint: Name dead letters by id, or pass --reason or --all.");
    PGresult *sel = NULL;
    size_t n = o->nids;
    if (n == 0) {
        const char *params[2] = {o->reason, o->again ? "t" : "f"};
        sel = PQexecParams(conn,
                           "SELECT id FROM flywheel.dead_letters WHERE " REASON_SQL
                           " AND ($2::boolean OR replayed_at IS NULL) ORDER BY id",
                           2, NULL, params, NULL, NULL, 0);
        if (!sel || PQresultStatus(sel) != PGRES_TUPLES_OK) {
            fw_store_error_pg(err, "list dead letters", sel, conn);
            PQclear(sel);
            return -1;
        }
        n = (size_t)PQntuples(sel);
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (o->cancel && *o->cancel) {
            rc = fw_store_fail(err, FW_STORE_CANCELLED, "replay cancelled after %lld of %zu",
                               counts->replayed + counts->not_replayed, n);
            break;
        }
        long long id = sel ? strtoll(PQgetvalue(sel, (int)i, 0), NULL, 10) : o->ids[i];
        int r = replay_one(conn, id, o, err);
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r)
            counts->replayed++;
        else
            counts->not_replayed++;
    }
    PQclear(sel);
    return rc;
}

const char *fw_store_dlq_outcome_name(fw_store_dlq_outcome outcome)
{
    switch (outcome) {
    case FW_STORE_DLQ_INSERTED:
    case FW_STORE_DLQ_PRESENT:
        return "replayed";
    case FW_STORE_DLQ_VALID:
        return "valid";
    case FW_STORE_DLQ_SKIPPED:
        return "skipped";
    case FW_STORE_DLQ_INVALID:
        return "invalid";
    case FW_STORE_DLQ_REFUSED:
        return "refused";
    }
    return "unknown";
}
