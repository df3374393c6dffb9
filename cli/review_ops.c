/*
 * The non-interactive reviewer commands: claim, submit, skip, release and
 * adjudicate, for scripts and other user interfaces.
 *
 *   flywheel review claim --queue Q [--as NAME] --json   -> the item as one JSON line
 *   flywheel review submit --item ID --json FILE|-        -> {"item_id":..,"label_id":..}
 *
 * `claim` exits 3 (FW_REVIEW_EXIT_EMPTY) when the queue has nothing for the
 * reviewer, so a script can loop `while claim; do ...; done`.
 */
#include "cli.h"
#include "opts.h"
#include "review.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_DSN = 1000,
    OPT_AS,
    OPT_QUEUE,
    OPT_ITEM,
    OPT_JSON,
    OPT_REASON,
    OPT_NOTE,
    OPT_REVISE,
    OPT_HELP
};

typedef struct {
    fw_review_common c;
    char cmd[64]; /* "review claim" ... */
    const char *queue, *item, *json_file, *reason, *note;
    int json, revise;
} op_opts;

/* Parses the options the operations share. Returns 0, 1 after --help, or 2
 * on a usage error. */
static int parse(int argc, char **argv, op_opts *o, const char *usage)
{
    static const struct option opts[] = {
        {"as", required_argument, NULL, OPT_AS},
        {"queue", required_argument, NULL, OPT_QUEUE},
        {"item", required_argument, NULL, OPT_ITEM},
        {"reason", required_argument, NULL, OPT_REASON},
        {"note", required_argument, NULL, OPT_NOTE},
        {"revise", no_argument, NULL, OPT_REVISE},
        {NULL, 0, NULL, 0},
    };
    int c;
    memset(o, 0, sizeof *o);
    snprintf(o->cmd, sizeof o->cmd, "review %s", argc > 0 ? argv[0] : "");
    fw_cli cli = {.cmd = o->cmd, .accepts = FW_CLI_DSN | FW_CLI_JSON_IN, .usage_text = usage};
    fw_review_fix_trailing_as(argc, argv);
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        switch (c) {
        case OPT_AS:
            o->c.as = optarg;
            break;
        case OPT_QUEUE:
            o->queue = optarg;
            break;
        case OPT_ITEM:
            if (strspn(optarg, "0123456789") != strlen(optarg) || !*optarg) {
                fprintf(stderr, "flywheel %s: invalid item id \"%s\"\n", o->cmd, optarg);
                return 2;
            }
            o->item = optarg;
            break;
        case OPT_REASON:
            o->reason = optarg;
            break;
        case OPT_NOTE:
            o->note = optarg;
            break;
        case OPT_REVISE:
            o->revise = 1;
            break;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (c != -1)
        return c == FW_CLI_HELP ? 1 : 2;
    if (fw_review_resolve_as(o->cmd, &o->c.as) != 0)
        return 2;
    if (optind < argc) {
        fprintf(stderr, "flywheel %s: unexpected argument \"%s\"\n", o->cmd, argv[optind]);
        return 2;
    }
    o->c.dsn = cli.dsn;
    o->json = cli.json;
    o->json_file = cli.json_file;
    return 0;
}

int fw_review_op_claim(int argc, char **argv)
{
    static const char usage[] =
        "usage: flywheel review claim --queue Q [--as NAME] [--json] [--dsn DSN]\n\n"
        "Claims the next item for the reviewer (or returns the one they already hold) and\n"
        "prints it: with --json as one line of JSON (item id, lease, rubric, generation\n"
        "with input, output and metadata). Exits 3 when there is nothing to claim.\n";
    op_opts o;
    int r = parse(argc, argv, &o, usage);
    if (r)
        return r == 1 ? 0 : 2;
    if (!o.queue) {
        fprintf(stderr, "flywheel review claim: --queue is required\n");
        return 2;
    }
    PGconn *conn = fw_cli_connect(o.cmd, o.c.dsn);
    if (!conn)
        return 1;
    int rc = 1;
    const char *p[2] = {o.queue, o.c.as};
    PGresult *res =
        fw_review_exec(conn, "claim", "SELECT flywheel.review_claim($1, $2)", 2, p, NULL, 0);
    if (!res)
        goto out;
    if (PQgetisnull(res, 0, 0)) {
        fprintf(stderr, "flywheel review claim: no item to claim in queue \"%s\"\n", o.queue);
        rc = FW_REVIEW_EXIT_EMPTY;
    } else if (o.json) {
        printf("%s\n", PQgetvalue(res, 0, 0));
        rc = 0;
    } else {
        json_t *j = fw_review_parse_json("claim", "the claim", PQgetvalue(res, 0, 0));
        if (j) {
            printf("item %lld claimed by %s until %s\n",
                   (long long)json_integer_value(json_object_get(j, "item_id")),
                   json_string_value(json_object_get(j, "reviewer")),
                   json_string_value(json_object_get(j, "lease_until")));
            json_decref(j);
            rc = 0;
        }
    }
    PQclear(res);
out:
    PQfinish(conn);
    return rc;
}

/* submit and adjudicate: read the label JSON, call `sql` with item, label,
 * and the third/fourth parameters. */
static int send_label(const char *sub, const op_opts *o, const char *sql, const char *p3,
                      const char *p4, int nparams)
{
    if (!o->item || !o->json_file) {
        fprintf(stderr, "flywheel review %s: %s required\n", sub,
                !o->item && !o->json_file ? "--item ID and --json FILE|- are"
                : !o->item                ? "--item ID is"
                                          : "--json FILE (or --json - for stdin) is");
        return 2;
    }
    char *text = fw_review_read_file(sub, o->json_file);
    json_t *j = text ? fw_review_parse_json(sub, o->json_file, text) : NULL;
    PGconn *conn = NULL;
    int rc = 1;
    if (!j)
        goto out;
    conn = fw_cli_connect(o->cmd, o->c.dsn);
    if (!conn)
        goto out;
    const char *p[4] = {o->item, text, p3, p4};
    char field[128];
    PGresult *res = fw_review_exec(conn, sub, sql, nparams, p, field, sizeof field);
    if (!res)
        goto out;
    printf("{\"item_id\": %s, \"label_id\": %s}\n", o->item, PQgetvalue(res, 0, 0));
    PQclear(res);
    rc = 0;
out:
    json_decref(j);
    free(text);
    PQfinish(conn);
    return rc;
}

int fw_review_op_submit(int argc, char **argv)
{
    static const char usage[] =
        "usage: flywheel review submit --item ID --json FILE|- [--revise] [--as NAME] [--dsn "
        "DSN]\n\n"
        "Submits a label ({\"field\": value, ...}) for an item you claimed; the database\n"
        "checks it against the rubric and names the field at fault. --revise records a\n"
        "new version of a label you already submitted (the history is kept).\n";
    op_opts o;
    int r = parse(argc, argv, &o, usage);
    if (r)
        return r == 1 ? 0 : 2;
    return send_label("submit", &o,
                      o.revise ? "SELECT flywheel.review_revise($1::bigint, $2::jsonb, $3)"
                               : "SELECT flywheel.review_submit($1::bigint, $2::jsonb, $3)",
                      o.c.as, NULL, 3);
}

int fw_review_op_adjudicate(int argc, char **argv)
{
    static const char usage[] =
        "usage: flywheel review adjudicate --item ID --json FILE|- [--note TEXT] [--as NAME]\n\n"
        "Records the authoritative label of an item whose reviewers disagreed (admins).\n";
    op_opts o;
    int r = parse(argc, argv, &o, usage);
    if (r)
        return r == 1 ? 0 : 2;
    return send_label("adjudicate", &o,
                      "SELECT flywheel.review_adjudicate($1::bigint, $2::jsonb, $3, $4)", o.note,
                      o.c.as, 4);
}

static int item_call(const char *sub, int argc, char **argv, const char *usage)
{
    op_opts o;
    int r = parse(argc, argv, &o, usage);
    if (r)
        return r == 1 ? 0 : 2;
    int skip = strcmp(sub, "skip") == 0;
    if (!o.item || (skip && !o.reason)) {
        fprintf(stderr, "flywheel %s: %s required\n", o.cmd,
                !o.item && skip && !o.reason ? "--item ID and --reason TEXT are"
                : !o.item                    ? "--item ID is"
                                             : "--reason TEXT is");
        fputs(usage, stderr);
        return 2;
    }
    PGconn *conn = fw_cli_connect(o.cmd, o.c.dsn);
    if (!conn)
        return 1;
    const char *p[3] = {o.item, skip ? o.reason : o.c.as, o.c.as};
    PGresult *res = fw_review_exec(conn, sub,
                                   skip ? "SELECT flywheel.review_skip($1::bigint, $2, $3)"
                                        : "SELECT flywheel.review_release($1::bigint, $2)",
                                   skip ? 3 : 2, p, NULL, 0);
    int rc = res ? 0 : 1;
    if (res)
        printf("item %s %s\n", o.item, skip ? "skipped" : "released");
    PQclear(res);
    PQfinish(conn);
    return rc;
}

int fw_review_op_skip(int argc, char **argv)
{
    return item_call(
        "skip", argc, argv,
        "usage: flywheel review skip --item ID --reason TEXT [--as NAME] [--dsn DSN]\n");
}

int fw_review_op_release(int argc, char **argv)
{
    return item_call("release", argc, argv,
                     "usage: flywheel review release --item ID [--as NAME] [--dsn DSN]\n");
}
