/*
 * `flywheel dlq`: inspect and replay the collector's dead letters.
 *
 *   flywheel dlq list [--reason R] [--limit N] [--all]
 *   flywheel dlq show ID
 *   flywheel dlq replay (ID... | --reason R | --all) [--max-field-bytes N]
 *                       [--max-message-bytes N] [--again] [--dry-run]
 *
 * Replay writes to PostgreSQL directly; it does not re-produce to Kafka.
 * Each dead letter is re-validated with the collector's decoder (decode.c)
 * and, when it now passes, encoded with the collector's row encoder and
 * inserted with ON CONFLICT DO NOTHING, in one transaction that also sets
 * replayed_at and increments replay_count; the dead letter row is locked
 * (FOR UPDATE) so two operators cannot replay it at once. A message that
 * still fails is reported with its new reason and left as it was.
 */
#include "cli.h"
#include "pgutil.h"

#include "copyenc.h"
#include "decode.h"
#include "rows.h"
#include "fw_buf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: flywheel dlq list [--reason R] [--limit N] [--all] [--dsn DSN]\n"
            "       flywheel dlq show ID [--dsn DSN]\n"
            "       flywheel dlq replay (ID... | --reason R | --all) [--again] [--dry-run]\n"
            "                           [--max-field-bytes N] [--max-message-bytes N] [--dsn DSN]\n"
            "\n"
            "list    dead letters, newest first (not yet replayed unless --all)\n"
            "show    one dead letter: where it came from, why, and its payload in hex\n"
            "replay  re-validate stored payloads with this build's decoder and insert the ones\n"
            "        that now pass. Replay writes to PostgreSQL directly (it does not produce to\n"
            "        Kafka): the row and the dead letter's replayed_at/replay_count change in one\n"
            "        transaction. Already replayed dead letters are skipped unless --again.\n"
            "        Limits default to the collector's defaults (1 MiB per field, 4 MiB per\n"
            "        message); raise them to accept what an `oversize` rejected.\n");
}

static int cmd_list(PGconn *c, int argc, char **argv)
{
    const char *reason = NULL, *limit = "50";
    int all = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
            reason = argv[++i];
        else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
            limit = argv[++i];
        else if (strcmp(argv[i], "--all") == 0)
            all = 1;
        else {
            usage(stderr);
            return 2;
        }
    }
    const char *params[3] = {reason, limit, all ? "t" : "f"};
    PGresult *r =
        PQexecParams(c,
                     "SELECT id, received_at, topic, partition, \"offset\", reason, replay_count, "
                     "coalesce(event_id::text, ''), detail FROM flywheel.dead_letters "
                     "WHERE ($1::text IS NULL OR reason = $1 OR reason LIKE $1 || ':%') "
                     "AND ($3::boolean OR replayed_at IS NULL) ORDER BY id DESC LIMIT $2::bigint",
                     3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fw_cli_pg_error("dlq", r, c);
        PQclear(r);
        return 1;
    }
    printf("id\treceived_at\ttopic\tpartition\toffset\treason\treplays\tevent_id\tdetail\n");
    for (int i = 0; i < PQntuples(r); i++) {
        for (int j = 0; j < PQnfields(r); j++)
            printf("%s%s", j ? "\t" : "", PQgetvalue(r, i, j));
        putchar('\n');
    }
    PQclear(r);
    return 0;
}

static int cmd_show(PGconn *c, const char *id)
{
    const char *params[1] = {id};
    PGresult *r = PQexecParams(
        c,
        "SELECT id, received_at, consumer_group, topic, partition, \"offset\", "
        "coalesce(encode(message_key, 'escape'), ''), message_time, reason, detail, "
        "coalesce(event_id::text, ''), replayed_at, replay_count, length(payload), "
        "encode(substr(payload, 1, 512), 'hex') FROM flywheel.dead_letters WHERE id = $1::bigint",
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fw_cli_pg_error("dlq", r, c);
        PQclear(r);
        return 1;
    }
    if (PQntuples(r) != 1) {
        fprintf(stderr, "flywheel dlq: dead letter %s does not exist\n", id);
        PQclear(r);
        return 1;
    }
    const char *names[] = {
        "id",       "received_at", "consumer_group", "topic",         "partition",
        "offset",   "key",         "message_time",   "reason",        "detail",
        "event_id", "replayed_at", "replay_count",   "payload_bytes", "payload_hex"};
    for (int j = 0; j < PQnfields(r); j++)
        printf("%-15s %s\n", names[j], PQgetvalue(r, 0, j));
    PQclear(r);
    return 0;
}

/* Replays one dead letter. Returns 1 replayed, 0 still invalid / refused, -1 error. */
static int replay_one(PGconn *c, const char *id, const fw_limits *lim, int again, int dry_run)
{
    int rc = -1;
    PGresult *r = PQexec(c, "BEGIN");
    PQclear(r);
    const char *params[1] = {id};
    r = PQexecParams(c,
                     "SELECT payload, topic, partition, \"offset\", replayed_at IS NOT NULL "
                     "FROM flywheel.dead_letters WHERE id = $1::bigint FOR UPDATE",
                     1, NULL, params, NULL, NULL, 1);
    fw_buf line = {0};
    fw_decoded d;
    memset(&d, 0, sizeof d);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        fprintf(stderr, "flywheel dlq: dead letter %s does not exist\n", id);
        goto done;
    }
    char topic[256];
    snprintf(topic, sizeof topic, "%.*s", PQgetlength(r, 0, 1), PQgetvalue(r, 0, 1));
    /* binary results: int4 and int8 big-endian */
    const unsigned char *pp = (const unsigned char *)PQgetvalue(r, 0, 2);
    const unsigned char *po = (const unsigned char *)PQgetvalue(r, 0, 3);
    int32_t partition =
        (int32_t)((uint32_t)pp[0] << 24 | (uint32_t)pp[1] << 16 | (uint32_t)pp[2] << 8 | pp[3]);
    int64_t offset = 0;
    for (int k = 0; k < 8; k++)
        offset = (int64_t)((uint64_t)offset << 8 | po[k]);
    int replayed = PQgetvalue(r, 0, 4)[0] != 0;
    if (replayed && !again) {
        printf("%s\tskipped\talready replayed (use --again)\n", id);
        rc = 0;
        goto done;
    }
    fw_decode((const uint8_t *)PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), lim, &d);
    if (d.reason != FW_DL_NONE) {
        printf("%s\tinvalid\t%s: %s\n", id, fw_dl_reason_code(d.reason), d.detail);
        rc = 0;
        goto done;
    }
    fw_origin o = {topic, partition, offset};
    int gen = d.event->body_case == FLYWHEEL__V1__EVENT__BODY_GENERATION;
    if (gen)
        fw_row_generation(&line, d.event, &o);
    else
        fw_row_feedback(&line, d.event, &o);
    if (line.oom)
        goto done;
    if (dry_run) {
        printf("%s\tvalid\twould insert into flywheel.%s\n", id, gen ? "generations" : "feedback");
        rc = 1;
        goto done;
    }
    char sql[4096];
    snprintf(sql, sizeof sql,
             "CREATE TEMP TABLE IF NOT EXISTS fw_replay_%s (LIKE flywheel.%s INCLUDING DEFAULTS) "
             "ON COMMIT DELETE ROWS",
             gen ? "generations" : "feedback", gen ? "generations" : "feedback");
    PQclear(r);
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        goto pgerr;
    PQclear(r);
    snprintf(sql, sizeof sql, "COPY fw_replay_%s (%s) FROM STDIN", gen ? "generations" : "feedback",
             gen ? FW_GEN_COLUMNS : FW_FB_COLUMNS);
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN)
        goto pgerr;
    PQclear(r);
    PQputCopyData(c, line.data, (int)line.len);
    PQputCopyEnd(c, NULL);
    r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        goto refused;
    PQclear(r);
    snprintf(sql, sizeof sql,
             "INSERT INTO flywheel.%s (%s) SELECT %s FROM fw_replay_%s ON CONFLICT DO NOTHING",
             gen ? "generations" : "feedback", gen ? FW_GEN_COLUMNS : FW_FB_COLUMNS,
             gen ? FW_GEN_COLUMNS : FW_FB_COLUMNS, gen ? "generations" : "feedback");
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        goto refused;
    int inserted = (int)strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    r = PQexecParams(c,
                     "UPDATE flywheel.dead_letters SET replayed_at = now(), "
                     "replay_count = replay_count + 1 WHERE id = $1::bigint",
                     1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        goto pgerr;
    PQclear(r);
    r = PQexec(c, "COMMIT");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        goto pgerr;
    printf("%s\treplayed\t%s into flywheel.%s\n", id, inserted ? "inserted" : "already present",
           gen ? "generations" : "feedback");
    rc = 1;
    goto done;
refused : {
    /* Only the row's own fault (SQLSTATE class 22/23) is a refusal; a lost
     * connection, a permission or schema error is reported as the error. */
    if (fw_pg_classify(r, c) != FW_PG_DATA)
        goto pgerr;
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    printf("%s\trefused\tdata_error:%s\n", id, st ? st : "");
    rc = 0;
    goto done;
}
pgerr:
    fw_cli_pg_error("dlq", r, c);
done:
    PQclear(r);
    r = PQexec(c, "ROLLBACK"); /* no-op after COMMIT */
    PQclear(r);
    fw_decode_free(&d);
    fw_buf_free(&line);
    return rc;
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int cmd_replay(PGconn *c, int argc, char **argv)
{
    fw_limits lim = {4u << 20, 1u << 20};
    const char *reason = NULL;
    int all = 0, again = 0, dry = 0, nids = 0;
    char **ids = calloc((size_t)argc + 1, sizeof *ids);
    int rc = 2;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
            reason = argv[++i];
        else if (strcmp(argv[i], "--all") == 0)
            all = 1;
        else if (strcmp(argv[i], "--again") == 0)
            again = 1;
        else if (strcmp(argv[i], "--dry-run") == 0)
            dry = 1;
        else if (strcmp(argv[i], "--max-field-bytes") == 0 && i + 1 < argc) {
            if (parse_size(argv[++i], &lim.max_field_bytes) != 0)
                goto usage;
        } else if (strcmp(argv[i], "--max-message-bytes") == 0 && i + 1 < argc) {
            if (parse_size(argv[++i], &lim.max_message_bytes) != 0)
                goto usage;
        } else if (argv[i][0] != '-' && strspn(argv[i], "0123456789") == strlen(argv[i]))
            ids[nids++] = argv[i];
        else
            goto usage;
    }
    if (nids == 0 && !reason && !all)
        goto usage;
    PGresult *sel = NULL;
    if (nids == 0) {
        const char *params[2] = {reason, again ? "t" : "f"};
        sel = PQexecParams(c,
                           "SELECT id FROM flywheel.dead_letters WHERE "
                           "($1::text IS NULL OR reason = $1 OR reason LIKE $1 || ':%') "
                           "AND ($2::boolean OR replayed_at IS NULL) ORDER BY id",
                           2, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(sel) != PGRES_TUPLES_OK) {
            fw_cli_pg_error("dlq", sel, c);
            PQclear(sel);
            rc = 1;
            goto out;
        }
    }
    int n = sel ? PQntuples(sel) : nids, ok = 0, failed = 0;
    rc = 0;
    for (int i = 0; i < n; i++) {
        int r = replay_one(c, sel ? PQgetvalue(sel, i, 0) : ids[i], &lim, again, dry);
        if (r < 0) {
            rc = 1;
            break;
        }
        r ? ok++ : failed++;
    }
    PQclear(sel);
    fprintf(stderr, "flywheel dlq: %d replayed%s, %d not\n", ok, dry ? " (dry run)" : "", failed);
    if (failed && rc == 0)
        rc = 1;
    goto out;
usage:
    usage(stderr);
out:
    free(ids);
    return rc;
}

int fw_cmd_dlq(int argc, char **argv)
{
    const char *dsn = NULL;
    /* Pull --dsn out wherever it is. */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dsn") == 0 && i + 1 < argc)
            dsn = argv[++i];
        else if (strncmp(argv[i], "--dsn=", 6) == 0)
            dsn = argv[i] + 6;
        else
            rest[n++] = argv[i];
    }
    int rc = 2;
    if (n == 0 || strcmp(rest[0], "--help") == 0 || strcmp(rest[0], "-h") == 0) {
        usage(n == 0 ? stderr : stdout);
        rc = n == 0 ? 2 : 0;
        goto out;
    }
    if (strcmp(rest[0], "list") != 0 && strcmp(rest[0], "show") != 0 &&
        strcmp(rest[0], "replay") != 0) {
        fprintf(stderr, "flywheel dlq: unknown subcommand \"%s\"\n", rest[0]);
        usage(stderr);
        goto out;
    }
    if (strcmp(rest[0], "show") == 0 && n != 2) {
        usage(stderr);
        goto out;
    }
    PGconn *c = fw_cli_connect("dlq", dsn);
    if (!c) {
        rc = 1;
        goto out;
    }
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    if (strcmp(rest[0], "list") == 0)
        rc = cmd_list(c, n - 1, rest + 1);
    else if (strcmp(rest[0], "show") == 0)
        rc = cmd_show(c, rest[1]);
    else
        rc = cmd_replay(c, n - 1, rest + 1);
    PQfinish(c);
out:
    free(rest);
    return rc;
}
