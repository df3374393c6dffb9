/*
 * pg_sink; see pg_sink.h for the transaction shape and its guarantees.
 */
#include "pg_sink.h"

#include "log.h"
#include "migrate.h"
#include "rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fw_sink {
    char *dsn;
    char *group;
    int direct;
    PGconn *conn;
    int latest_version;
    FILE *dump;
    char target[300];
};

/* host:port from a connection string without connecting; "" parts are
 * libpq's defaults, named as such. */
static void target_from_dsn(fw_sink *s)
{
    const char *host = NULL, *port = NULL;
    PQconninfoOption *opts = PQconninfoParse(s->dsn, NULL);
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!o->val || !*o->val)
            continue;
        if (strcmp(o->keyword, "host") == 0 || (strcmp(o->keyword, "hostaddr") == 0 && !host))
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
    }
    snprintf(s->target, sizeof s->target, "%s:%s", host ? host : "(default host)",
             port ? port : "(default port)");
    PQconninfoFree(opts);
}

const char *fw_sink_target(const fw_sink *s)
{
    return s->target;
}

static const char *const tables[FW_T_COUNT] = {"generations", "feedback", "dead_letters"};
static const char *const columns[FW_T_COUNT] = {FW_GEN_COLUMNS, FW_FB_COLUMNS, FW_DL_COLUMNS};

fw_sink *fw_sink_new(const char *dsn, const char *group, int direct, const char *copy_dump,
                     char *err, size_t errsize)
{
    fw_sink *s = calloc(1, sizeof *s);
    fw_migration_set set = {0};
    if (!s)
        goto oom;
    s->dsn = strdup(dsn);
    s->group = strdup(group);
    if (!s->dsn || !s->group)
        goto oom;
    s->direct = direct;
    target_from_dsn(s);
    if (fw_migrations_load_embedded(&set, err, errsize) != 0)
        goto fail;
    s->latest_version = fw_migrations_latest(&set);
    fw_migrations_free(&set);
    if (copy_dump && *copy_dump) {
        s->dump = fopen(copy_dump, "w");
        if (!s->dump) {
            snprintf(err, errsize, "could not open \"%s\" for writing", copy_dump);
            goto fail;
        }
    }
    return s;
oom:
    snprintf(err, errsize, "out of memory");
fail:
    fw_sink_free(s);
    return NULL;
}

void fw_sink_free(fw_sink *s)
{
    if (!s)
        return;
    fw_sink_disconnect(s);
    if (s->dump)
        fclose(s->dump);
    free(s->dsn);
    free(s->group);
    free(s);
}

int fw_sink_connected(const fw_sink *s)
{
    return s->conn && PQstatus(s->conn) == CONNECTION_OK;
}

void fw_sink_disconnect(fw_sink *s)
{
    if (s->conn)
        PQfinish(s->conn);
    s->conn = NULL;
}

/* Runs a command; returns its class and fills err/sqlstate on failure. */
static fw_pg_class exec_cmd(fw_sink *s, const char *sql, char *sqlstate, char *err, size_t errsize)
{
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    fw_pg_class c = FW_PG_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        c = PQstatus(s->conn) == CONNECTION_OK ? fw_pg_classify(r, s->conn) : FW_PG_RETRY;
        if (sqlstate)
            snprintf(sqlstate, 6, "%s", fw_pg_sqlstate(r));
        fw_pg_errstr(err, errsize, r, s->conn);
    }
    PQclear(r);
    return c;
}

fw_pg_class fw_sink_connect(fw_sink *s, char *err, size_t errsize)
{
    fw_sink_disconnect(s);
    /* Defaults first: the configured connection string, expanded in place
     * of dbname, overrides them. */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"10", "flywheel-collector", s->dsn, NULL};
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (s->conn && PQhost(s->conn) && PQport(s->conn))
        snprintf(s->target, sizeof s->target, "%s:%s", PQhost(s->conn), PQport(s->conn));
    if (PQstatus(s->conn) != CONNECTION_OK) {
        const char *m = PQerrorMessage(s->conn);
        snprintf(err, errsize, "could not connect to database: %.*s", (int)strcspn(m, "\n"), m);
        fw_sink_disconnect(s);
        return FW_PG_RETRY;
    }
    int version = 0;
    if (fw_migrate_current_version(s->conn, &version, err, errsize) != 0) {
        fw_sink_disconnect(s);
        return FW_PG_RETRY;
    }
    if (version < FW_SINK_MIN_SCHEMA_VERSION) {
        snprintf(err, errsize,
                 "database schema version %d is older than this collector needs (%d)\n"
                 "hint: Run \"flywheel migrate\" to bring the database up to date (this "
                 "collector's migrations go up to version %d).",
                 version, FW_SINK_MIN_SCHEMA_VERSION, s->latest_version);
        fw_sink_disconnect(s);
        return FW_PG_FATAL;
    }
    fw_pg_class c = exec_cmd(s,
                             "SET client_min_messages = warning;"
                             "CREATE TEMP TABLE fw_stage_generations "
                             "(LIKE flywheel.generations INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;"
                             "CREATE TEMP TABLE fw_stage_feedback "
                             "(LIKE flywheel.feedback INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;"
                             "CREATE TEMP TABLE fw_stage_dead_letters "
                             "(LIKE flywheel.dead_letters INCLUDING DEFAULTS INCLUDING IDENTITY) "
                             "ON COMMIT DELETE ROWS",
                             NULL, err, errsize);
    if (c != FW_PG_OK) {
        fw_sink_disconnect(s);
        return c == FW_PG_DATA ? FW_PG_FATAL : c;
    }
    return FW_PG_OK;
}

fw_pg_class fw_sink_maintain(fw_sink *s, int *created, char *err, size_t errsize)
{
    if (!fw_sink_connected(s)) {
        snprintf(err, errsize, "not connected");
        return FW_PG_RETRY;
    }
    PGresult *r = PQexec(s->conn, "SELECT flywheel.maintain_partitions()");
    fw_pg_class c = FW_PG_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        c = fw_pg_classify(r, s->conn);
        fw_pg_errstr(err, errsize, r, s->conn);
    } else if (created) {
        *created = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    return c;
}

fw_pg_class fw_sink_read_offsets(fw_sink *s, rd_kafka_topic_partition_list_t *parts, char *err,
                                 size_t errsize)
{
    if (!fw_sink_connected(s)) {
        snprintf(err, errsize, "not connected");
        return FW_PG_RETRY;
    }
    const char *params[1] = {s->group};
    PGresult *r = PQexecParams(s->conn,
                               "SELECT topic, partition, next_offset FROM flywheel.ingest_offsets "
                               "WHERE consumer_group = $1",
                               1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fw_pg_class c = fw_pg_classify(r, s->conn);
        fw_pg_errstr(err, errsize, r, s->conn);
        PQclear(r);
        return c;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(
            parts, PQgetvalue(r, i, 0), (int32_t)strtol(PQgetvalue(r, i, 1), NULL, 10));
        if (p)
            p->offset = strtoll(PQgetvalue(r, i, 2), NULL, 10);
    }
    PQclear(r);
    return FW_PG_OK;
}

/* Sends `n` bytes of COPY text into `target`. Returns rows copied or -1
 * (the failing result is left for the caller in *res). */
static long long copy_in(fw_sink *s, const char *target, const char *cols, const char *data,
                         size_t n, PGresult **res)
{
    char sql[2048];
    snprintf(sql, sizeof sql, "COPY %s (%s) FROM STDIN", target, cols);
    PGresult *r = PQexec(s->conn, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        *res = r;
        return -1;
    }
    PQclear(r);
    const size_t chunk = 1 << 20;
    int ok = 1;
    for (size_t off = 0; off < n && ok; off += chunk) {
        size_t len = n - off < chunk ? n - off : chunk;
        ok = PQputCopyData(s->conn, data + off, (int)len) == 1;
    }
    PQputCopyEnd(s->conn, ok ? NULL : "client failed to send COPY data");
    r = PQgetResult(s->conn);
    long long rows = -1;
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        rows = strtoll(PQcmdTuples(r), NULL, 10);
        PQclear(r);
        r = NULL;
    }
    /* Drain anything else (there should be nothing). */
    PGresult *extra;
    while ((extra = PQgetResult(s->conn)) != NULL)
        PQclear(extra);
    *res = r;
    return rows;
}

/* Stages one table's slice and moves it with ON CONFLICT DO NOTHING. */
static int write_table(fw_sink *s, int t, const char *data, size_t n, long long *copied,
                       long long *inserted, PGresult **res)
{
    char target[64], sql[4096];
    if (s->direct && t != FW_T_DEAD_LETTERS) {
        PGresult *r = PQexec(s->conn, "SAVEPOINT fw_direct");
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            *res = r;
            return -1;
        }
        PQclear(r);
        snprintf(target, sizeof target, "flywheel.%s", tables[t]);
        long long rows = copy_in(s, target, columns[t], data, n, res);
        if (rows >= 0) {
            *copied = *inserted = rows;
            return 0;
        }
        if (strcmp(fw_pg_sqlstate(*res), "23505") != 0)
            return -1;
        PQclear(*res);
        *res = NULL;
        r = PQexec(s->conn, "ROLLBACK TO SAVEPOINT fw_direct");
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            *res = r;
            return -1;
        }
        PQclear(r);
    }
    snprintf(target, sizeof target, "fw_stage_%s", tables[t]);
    *copied = copy_in(s, target, columns[t], data, n, res);
    if (*copied < 0)
        return -1;
    snprintf(sql, sizeof sql,
             "INSERT INTO flywheel.%s (%s) SELECT %s FROM fw_stage_%s ON CONFLICT DO NOTHING",
             tables[t], columns[t], columns[t], tables[t]);
    PGresult *r = PQexec(s->conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        *res = r;
        return -1;
    }
    *inserted = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

typedef struct {
    const char *topic;
    int32_t partition;
    int64_t next;
} part_next;

/* Upserts the next offset of every partition in items [lo, hi). The
 * upsert is monotonic (GREATEST of stored and new): a zombie member that
 * lost a partition but still commits a batch it read earlier can never move
 * the partition's offset backwards (which would make the next owner read and
 * write again what is already stored). The zombie's rows themselves are
 * absorbed by the primary keys as duplicates. */
static int store_offsets(fw_sink *s, const fw_batch *b, size_t lo, size_t hi, PGresult **res)
{
    part_next parts[256];
    size_t np = 0;
    fw_buf topics = {0}, partitions = {0}, offsets = {0};
    int rc = -1;
    for (size_t i = lo; i < hi; i++) {
        const rd_kafka_message_t *m = b->items[i].msg;
        const char *topic = rd_kafka_topic_name(m->rkt);
        size_t k;
        for (k = 0; k < np; k++)
            if (parts[k].partition == m->partition && strcmp(parts[k].topic, topic) == 0)
                break;
        if (k == np) {
            if (np == sizeof parts / sizeof parts[0]) {
                /* Flush what we have so far and start over: rare (>256 partitions). */
                size_t mid = i;
                if (store_offsets(s, b, lo, mid, res) != 0)
                    goto done;
                rc = store_offsets(s, b, mid, hi, res);
                goto done;
            }
            parts[np++] = (part_next){topic, m->partition, m->offset + 1};
        } else if (m->offset + 1 > parts[k].next) {
            parts[k].next = m->offset + 1;
        }
    }
    fw_buf_addc(&topics, '{');
    fw_buf_addc(&partitions, '{');
    fw_buf_addc(&offsets, '{');
    for (size_t k = 0; k < np; k++) {
        if (k) {
            fw_buf_addc(&topics, ',');
            fw_buf_addc(&partitions, ',');
            fw_buf_addc(&offsets, ',');
        }
        /* Kafka topic names are [a-zA-Z0-9._-]: quoting needs no escapes. */
        fw_buf_printf(&topics, "\"%s\"", parts[k].topic);
        fw_buf_printf(&partitions, "%d", (int)parts[k].partition);
        fw_buf_printf(&offsets, "%lld", (long long)parts[k].next);
    }
    fw_buf_addc(&topics, '}');
    fw_buf_addc(&partitions, '}');
    fw_buf_addc(&offsets, '}');
    const char *params[4] = {s->group, fw_buf_cstr(&topics), fw_buf_cstr(&partitions),
                             fw_buf_cstr(&offsets)};
    PGresult *r = PQexecParams(
        s->conn,
        "INSERT INTO flywheel.ingest_offsets AS o (consumer_group, topic, partition, next_offset) "
        "SELECT $1, t, p, n FROM unnest($2::text[], $3::integer[], $4::bigint[]) AS u(t, p, n) "
        "ON CONFLICT (consumer_group, topic, partition) DO UPDATE "
        "SET next_offset = GREATEST(o.next_offset, EXCLUDED.next_offset), updated_at = now()",
        4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        *res = r;
        goto done;
    }
    PQclear(r);
    rc = 0;
done:
    fw_buf_free(&topics);
    fw_buf_free(&partitions);
    fw_buf_free(&offsets);
    return rc;
}

fw_pg_class fw_sink_write(fw_sink *s, const fw_batch *b, size_t lo, size_t hi, fw_write_stats *st,
                          char sqlstate[6], char *err, size_t errsize)
{
    sqlstate[0] = '\0';
    if (!fw_sink_connected(s)) {
        snprintf(err, errsize, "not connected");
        return FW_PG_RETRY;
    }
    PGresult *res = NULL;
    fw_write_stats local = {{0}, {0}};
    size_t first[FW_T_COUNT], last[FW_T_COUNT];
    int has[FW_T_COUNT] = {0};
    for (size_t i = lo; i < hi; i++) {
        int t = b->items[i].table;
        if (!has[t])
            first[t] = i;
        has[t] = 1;
        last[t] = i;
    }
    PGresult *r = PQexec(s->conn, "BEGIN");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        res = r;
        goto fail;
    }
    PQclear(r);
    for (int t = 0; t < FW_T_COUNT; t++) {
        if (!has[t])
            continue;
        size_t start = b->items[first[t]].start;
        size_t end = b->items[last[t]].start + b->items[last[t]].len;
        long long copied = 0, inserted = 0;
        if (write_table(s, t, b->bufs[t].data + start, end - start, &copied, &inserted, &res) != 0)
            goto fail;
        local.inserted[t] = (uint64_t)inserted;
        local.duplicates[t] = (uint64_t)(copied - inserted);
    }
    if (store_offsets(s, b, lo, hi, &res) != 0)
        goto fail;
    r = PQexec(s->conn, "COMMIT");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        res = r;
        goto fail;
    }
    PQclear(r);
    for (int t = 0; t < FW_T_COUNT; t++) {
        st->inserted[t] += local.inserted[t];
        st->duplicates[t] += local.duplicates[t];
    }
    if (s->dump && has[FW_T_GENERATIONS]) {
        size_t start = b->items[first[FW_T_GENERATIONS]].start;
        size_t end = b->items[last[FW_T_GENERATIONS]].start + b->items[last[FW_T_GENERATIONS]].len;
        fwrite(b->bufs[FW_T_GENERATIONS].data + start, 1, end - start, s->dump);
        fflush(s->dump);
    }
    return FW_PG_OK;
fail : {
    fw_pg_class c = PQstatus(s->conn) == CONNECTION_OK ? fw_pg_classify(res, s->conn) : FW_PG_RETRY;
    snprintf(sqlstate, 6, "%s", fw_pg_sqlstate(res));
    fw_pg_errstr(err, errsize, res, s->conn);
    PQclear(res);
    if (PQstatus(s->conn) == CONNECTION_OK) {
        r = PQexec(s->conn, "ROLLBACK");
        PQclear(r);
    } else {
        fw_sink_disconnect(s);
    }
    return c;
}
}
