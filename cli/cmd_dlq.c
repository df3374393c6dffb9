/*
 * `flywheel dlq`: inspect and replay the collector's dead letters, over the
 * store library (fw_store_dlq_*): argument parsing and rendering only.
 *
 *   flywheel dlq list [--reason R] [--limit N] [--all]
 *   flywheel dlq show ID
 *   flywheel dlq replay (ID... | --reason R | --all) [--max-field-bytes N]
 *                       [--max-message-bytes N] [--again] [--dry-run]
 */
#include "cli.h"
#include "opts.h"

#include <errno.h>
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
            "        message); raise them to accept what an `oversize` rejected.\n"
            "\n"
            "options:\n"
            "  --reason R           dead letters with reason R (or R:...)\n"
            "  --limit N            list: at most N (default 50)\n"
            "  --all                list: replayed ones too; replay: every dead letter\n"
            "  --again              replay: also those replayed before\n"
            "  --dry-run            replay: validate only, write nothing\n"
            "  --max-field-bytes N, --max-message-bytes N\n"
            "                       replay: the decoder's limits\n");
}

/* Parses a positive decimal id or count ("12"; not "12x", "-1", "abc").
 * Returns 0, or -1. */
static int parse_count(const char *s, long long min, long long *out)
{
    char *end;
    errno = 0;
    if (!*s || strspn(s, "0123456789") != strlen(s))
        return -1;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min)
        return -1;
    *out = v;
    return 0;
}

/* A JSON value as the text PostgreSQL would print: "" for null. */
static void put_value(const json_t *v)
{
    if (json_is_string(v))
        fputs(json_string_value(v), stdout);
    else if (json_is_integer(v))
        printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_true(v))
        fputs("t", stdout);
    else if (json_is_false(v))
        fputs("f", stdout);
}

static const char *const list_cols[] = {"id",     "received_at",  "topic",    "partition", "offset",
                                        "reason", "replay_count", "event_id", "detail"};
static const char *const list_heads[] = {"id",     "received_at", "topic",    "partition", "offset",
                                         "reason", "replays",     "event_id", "detail"};
static const char *const show_cols[] = {
    "id",       "received_at", "consumer_group", "topic",         "partition",
    "offset",   "key",         "message_time",   "reason",        "detail",
    "event_id", "replayed_at", "replay_count",   "payload_bytes", "payload_hex"};

#define NCOLS(a) (sizeof(a) / sizeof(a)[0])

static int do_list(PGconn *c, const fw_store_dlq_filter *f)
{
    fw_store_error err;
    json_t *rows = fw_store_dlq_list(c, f, &err);
    if (!rows) {
        fw_cli_store_error("dlq list", &err);
        return fw_cli_store_status(&err);
    }
    for (size_t j = 0; j < NCOLS(list_heads); j++)
        printf("%s%s", j ? "\t" : "", list_heads[j]);
    putchar('\n');
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        for (size_t j = 0; j < NCOLS(list_cols); j++) {
            if (j)
                putchar('\t');
            put_value(json_object_get(row, list_cols[j]));
        }
        putchar('\n');
    }
    json_decref(rows);
    return 0;
}

static int do_show(PGconn *c, long long id)
{
    fw_store_error err;
    json_t *row = fw_store_dlq_show(c, id, &err);
    if (!row) {
        fw_cli_store_error("dlq show", &err);
        return fw_cli_store_status(&err);
    }
    for (size_t j = 0; j < NCOLS(show_cols); j++) {
        printf("%-15s ", show_cols[j]);
        put_value(json_object_get(row, show_cols[j]));
        putchar('\n');
    }
    json_decref(row);
    return 0;
}

/* One line per dead letter: id, outcome, what happened. */
static void on_replayed(void *ctx, const fw_store_dlq_replayed *r)
{
    (void)ctx;
    switch (r->outcome) {
    case FW_STORE_DLQ_INSERTED:
    case FW_STORE_DLQ_PRESENT:
        printf("%lld\treplayed\t%s into flywheel.%s\n", r->id,
               r->outcome == FW_STORE_DLQ_INSERTED ? "inserted" : "already present", r->table);
        break;
    case FW_STORE_DLQ_VALID:
        printf("%lld\tvalid\twould insert into flywheel.%s\n", r->id, r->table);
        break;
    case FW_STORE_DLQ_SKIPPED:
        printf("%lld\tskipped\talready replayed (use --again)\n", r->id);
        break;
    case FW_STORE_DLQ_INVALID:
        printf("%lld\tinvalid\t%s: %s\n", r->id, r->reason, r->detail ? r->detail : "");
        break;
    case FW_STORE_DLQ_REFUSED:
        printf("%lld\trefused\t%s\n", r->id, r->reason);
        break;
    }
    fflush(stdout);
}

static int do_replay(PGconn *c, fw_store_dlq_replay_opts *o)
{
    fw_store_error err;
    fw_store_dlq_counts n;
    o->fn = on_replayed;
    int rc = fw_store_dlq_replay(c, o, &n, &err) == 0 ? 0 : fw_cli_store_status(&err);
    if (rc != 0)
        fw_cli_store_error("dlq replay", &err);
    fprintf(stderr, "flywheel dlq replay: %lld replayed%s, %lld not\n", n.replayed,
            o->dry_run ? " (dry run)" : "", n.not_replayed);
    return rc != 0 ? rc : n.not_replayed ? 1 : 0;
}

enum { O_REASON = 1, O_LIMIT, O_ALL, O_AGAIN, O_DRY, O_MAXF, O_MAXM };

int fw_cmd_dlq(int argc, char **argv)
{
    static const char *const subs[] = {"list", "show", "replay"};
    static const char *const cmds[] = {"dlq list", "dlq show", "dlq replay"};
    int sub = -1;
    for (int i = 0; argc > 1 && i < 3; i++)
        if (strcmp(argv[1], subs[i]) == 0)
            sub = i;
    fw_cli cli = {.cmd = sub >= 0 ? cmds[sub] : "dlq", .accepts = FW_CLI_DSN, .usage = usage};
    static const struct option opts[] = {
        {"reason", required_argument, NULL, O_REASON},
        {"limit", required_argument, NULL, O_LIMIT},
        {"all", no_argument, NULL, O_ALL},
        {"again", no_argument, NULL, O_AGAIN},
        {"dry-run", no_argument, NULL, O_DRY},
        {"max-field-bytes", required_argument, NULL, O_MAXF},
        {"max-message-bytes", required_argument, NULL, O_MAXM},
        {NULL, 0, NULL, 0},
    };
    fw_store_dlq_filter f = {.limit = 50};
    fw_store_dlq_replay_opts ro;
    fw_store_dlq_replay_opts_init(&ro);
    int replay_only = 0, list_only = 0, c;
    long long v;
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        switch (c) {
        case O_REASON:
            f.reason = ro.reason = optarg;
            break;
        case O_LIMIT:
            if (parse_count(optarg, 1, &f.limit) != 0) {
                fw_cli_errorf(&cli, "invalid --limit \"%s\"\nhint: Give a positive whole number.",
                              optarg);
                return 2;
            }
            list_only = 1;
            break;
        case O_ALL:
            f.all = ro.all = 1;
            break;
        case O_AGAIN:
            ro.again = replay_only = 1;
            break;
        case O_DRY:
            ro.dry_run = replay_only = 1;
            break;
        case O_MAXF:
        case O_MAXM:
            if (parse_count(optarg, 1, &v) != 0) {
                fw_cli_errorf(&cli, "invalid %s \"%s\"\nhint: Give a size in bytes, 1 or more.",
                              c == O_MAXF ? "--max-field-bytes" : "--max-message-bytes", optarg);
                return 2;
            }
            if (c == O_MAXF)
                ro.max_field_bytes = (size_t)v;
            else
                ro.max_message_bytes = (size_t)v;
            replay_only = 1;
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (c != -1)
        return fw_cli_status(c);
    int nargs = argc - optind;
    char **args = argv + optind;
    if (nargs < 1) {
        usage(stderr);
        return 2;
    }
    if (sub < 0) {
        for (int i = 0; i < 3; i++)
            if (strcmp(args[0], subs[i]) == 0)
                sub = i;
        if (sub < 0) {
            fw_cli_errorf(&cli, "unknown subcommand \"%s\"", args[0]);
            usage(stderr);
            return 2;
        }
        cli.cmd = cmds[sub];
    }
    if ((replay_only && sub != 2) || (list_only && sub != 0) || (sub == 1 && (f.reason || f.all))) {
        fw_cli_errorf(&cli, "option not valid for \"%s\"", subs[sub]);
        usage(stderr);
        return 2;
    }
    if (sub == 0 && nargs != 1) {
        fw_cli_errorf(&cli, "unexpected argument \"%s\"", args[1]);
        return 2;
    }
    if (sub == 1 && nargs != 2) {
        fw_cli_errorf(&cli, nargs < 2 ? "missing dead letter id" : "too many arguments");
        usage(stderr);
        return 2;
    }
    long long *ids = NULL;
    if (nargs > 1) {
        ids = calloc((size_t)nargs, sizeof *ids);
        if (!ids) {
            fw_cli_errorf(&cli, "out of memory");
            return 1;
        }
        for (int i = 1; i < nargs; i++) {
            if (parse_count(args[i], 1, &ids[i - 1]) != 0) {
                fw_cli_errorf(&cli,
                              "invalid dead letter id \"%s\"\n"
                              "hint: Ids are the positive numbers in the first column of "
                              "`flywheel dlq list`.",
                              args[i]);
                free(ids);
                return 2;
            }
        }
    }
    if (sub == 2) {
        ro.ids = ids;
        ro.nids = (size_t)(nargs - 1);
        if (ro.nids == 0 && !ro.reason && !ro.all) {
            fw_cli_errorf(&cli, "nothing to replay\n"
                                "hint: Name dead letters by id, or pass --reason R or --all.");
            free(ids);
            return 2;
        }
        if (ro.nids > 0 && (ro.reason || ro.all)) {
            fw_cli_errorf(&cli, "give dead letter ids or --reason/--all, not both");
            free(ids);
            return 2;
        }
    }
    PGconn *conn = fw_cli_connect(cli.cmd, cli.dsn);
    if (!conn) {
        free(ids);
        return 1;
    }
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    int rc;
    if (sub == 0)
        rc = do_list(conn, &f);
    else if (sub == 1)
        rc = do_show(conn, ids[0]);
    else
        rc = do_replay(conn, &ro);
    PQfinish(conn);
    free(ids);
    return rc;
}
