/*
 * The admin side of `flywheel review`: rubrics, queues, fill and stats.
 *
 * Files are JSON; they are parsed here first only to report syntax errors
 * with a line and column, then passed as text to the SQL functions, which
 * validate their meaning (FR001/FR004 errors naming the key).
 */
#include "cli.h"
#include "opts.h"
#include "flywheel/eval.h"
#include "names.h"
#include "review.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_DSN = 1000,
    OPT_AS,
    OPT_VERSION,
    OPT_RESCAN,
    OPT_ALL,
    OPT_JSON,
    OPT_HELP,
    OPT_RUNS,
    OPT_SEED
};

/* Prints a result as an aligned table with a header; NULLs as "". */
static void print_table(const PGresult *res)
{
    int nf = PQnfields(res), nt = PQntuples(res);
    int w[32] = {0};
    if (nf > 32)
        nf = 32;
    for (int c = 0; c < nf; c++) {
        w[c] = (int)strlen(PQfname(res, c));
        for (int r = 0; r < nt; r++) {
            int l = PQgetlength(res, r, c);
            if (l > w[c])
                w[c] = l;
        }
    }
    for (int c = 0; c < nf; c++)
        printf("%-*s%s", w[c], PQfname(res, c), c + 1 < nf ? "  " : "\n");
    for (int r = 0; r < nt; r++)
        for (int c = 0; c < nf; c++)
            printf("%-*s%s", w[c], PQgetvalue(res, r, c), c + 1 < nf ? "  " : "\n");
}

/* Runs a query and prints its rows as a table (or its single value raw when
 * `raw`). Returns 0, or 1 after printing the error. */
static int show(PGconn *conn, const char *sub, const char *sql, int n, const char *const *p,
                int raw)
{
    PGresult *res = fw_review_exec(conn, sub, sql, n, p, NULL, 0);
    if (!res)
        return 1;
    if (raw) {
        for (int r = 0; r < PQntuples(res); r++)
            printf("%s\n", PQgetvalue(res, r, 0));
    } else {
        print_table(res);
    }
    PQclear(res);
    return 0;
}

static void rubric_usage(FILE *f)
{
    fprintf(f, "usage: flywheel review rubric create NAME FILE.json [--dsn DSN]\n"
               "       flywheel review rubric show NAME [--version N] [--dsn DSN]\n"
               "\n"
               "create validates the definition in the database and stores it as the next\n"
               "version of NAME (the same definition again returns the existing version).\n"
               "Rubric versions are immutable. See docs/review.md for the field types.\n");
}

int fw_review_admin_rubric(int argc, char **argv)
{
    const char *version = NULL;
    fw_cli cli = {.cmd = "review rubric", .accepts = FW_CLI_DSN, .usage = rubric_usage};
    static const struct option opts[] = {
        {"version", required_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    int c, rc = 1;
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        if (c == OPT_VERSION) {
            version = optarg;
        } else {
            rubric_usage(stderr);
            return 2;
        }
    }
    if (c != -1)
        return fw_cli_status(c);
    const char *action = optind < argc ? argv[optind++] : NULL;
    const char *name = optind < argc ? argv[optind++] : NULL;
    const char *file = optind < argc ? argv[optind++] : NULL;
    const char *missing = !action ? "an action (create or show)"
                          : strcmp(action, "create") && strcmp(action, "show") ? NULL
                          : !name                                              ? "the rubric NAME"
                          : strcmp(action, "create") == 0 && !file ? "the rubric FILE.json"
                                                                   : NULL;
    if (action && strcmp(action, "create") && strcmp(action, "show")) {
        fprintf(stderr, "flywheel review rubric: unknown action \"%s\"\n", action);
        rubric_usage(stderr);
        return 2;
    }
    if (missing || optind < argc) {
        if (missing)
            fprintf(stderr, "flywheel review rubric: missing %s\n", missing);
        else
            fprintf(stderr, "flywheel review rubric: unexpected argument \"%s\"\n", argv[optind]);
        rubric_usage(stderr);
        return 2;
    }
    if (version && (!*version || strspn(version, "0123456789") != strlen(version) ||
                    strlen(version) > 9 || strtol(version, NULL, 10) < 1)) {
        fw_cli_errorf(&cli,
                      "invalid --version \"%s\"\n"
                      "hint: Rubric versions are whole numbers from 1.",
                      version);
        return 2;
    }
    char *text = NULL;
    json_t *j = NULL;
    PGconn *conn = NULL;
    if (strcmp(action, "create") == 0 && fw_cli_check_name(cli.cmd, "rubric", name) != 0) {
        rc = 2;
        goto out;
    }
    if (strcmp(action, "create") == 0) {
        text = fw_review_read_file("rubric", file);
        if (!text || !(j = fw_review_parse_json("rubric", file, text)))
            goto out;
    }
    conn = fw_cli_connect(cli.cmd, cli.dsn);
    if (!conn)
        goto out;
    if (strcmp(action, "create") == 0) {
        const char *p[2] = {name, text};
        PGresult *res = fw_review_exec(
            conn, "rubric", "SELECT flywheel.review_rubric_create($1, $2::jsonb)", 2, p, NULL, 0);
        if (!res)
            goto out;
        printf("rubric \"%s\" version %s\n", name, PQgetvalue(res, 0, 0));
        PQclear(res);
        rc = 0;
    } else {
        const char *p[2] = {name, version};
        PGresult *res = fw_review_exec(conn, "rubric",
                                       "SELECT version, jsonb_pretty(definition) "
                                       "FROM flywheel.review_rubrics WHERE name = $1 "
                                       "AND ($2::integer IS NULL OR version = $2::integer) "
                                       "ORDER BY version DESC LIMIT 1",
                                       2, p, NULL, 0);
        if (!res)
            goto out;
        if (PQntuples(res) == 0) {
            fprintf(stderr, "flywheel review rubric: rubric \"%s\"%s%s does not exist\n", name,
                    version ? " version " : "", version ? version : "");
        } else {
            printf("# rubric \"%s\" version %s\n%s\n", name, PQgetvalue(res, 0, 0),
                   PQgetvalue(res, 0, 1));
            rc = 0;
        }
        PQclear(res);
    }
out:
    json_decref(j);
    free(text);
    PQfinish(conn);
    return rc;
}

static void queue_usage(FILE *f)
{
    fprintf(f, "usage: flywheel review queue create FILE.json [--dsn DSN]\n"
               "       flywheel review queue list [--dsn DSN]\n"
               "       flywheel review queue show NAME [--dsn DSN]\n"
               "       flywheel review queue pause NAME | resume NAME [--dsn DSN]\n"
               "\n"
               "A queue file is a JSON object: {\"name\", \"description\", \"rubric\",\n"
               "\"rubric_version\", \"overlap\", \"lease\", \"skip_limit\", \"gold_rate\",\n"
               "\"rules\", \"priority\", \"continuous\"}; see docs/review.md.\n");
}

int fw_review_admin_queue(int argc, char **argv)
{
    fw_cli cli = {.cmd = "review queue", .accepts = FW_CLI_DSN, .usage = queue_usage};
    static const struct option opts[] = {
        {NULL, 0, NULL, 0},
    };
    int c, rc = 1;
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        queue_usage(stderr);
        return 2;
    }
    if (c != -1)
        return fw_cli_status(c);
    const char *action = optind < argc ? argv[optind++] : NULL;
    const char *arg = optind < argc ? argv[optind++] : NULL;
    if (!action) {
        fprintf(stderr, "flywheel review queue: missing an action (create, list, show, pause or "
                        "resume)\n");
        queue_usage(stderr);
        return 2;
    }
    if (strcmp(action, "create") && strcmp(action, "list") && strcmp(action, "show") &&
        strcmp(action, "pause") && strcmp(action, "resume")) {
        fprintf(stderr, "flywheel review queue: unknown action \"%s\"\n", action);
        queue_usage(stderr);
        return 2;
    }
    if (strcmp(action, "list") != 0 && !arg) {
        fprintf(stderr, "flywheel review queue: missing %s\n",
                strcmp(action, "create") == 0 ? "the queue FILE.json" : "the queue NAME");
        queue_usage(stderr);
        return 2;
    }
    if (optind < argc || (strcmp(action, "list") == 0 && arg)) {
        fprintf(stderr, "flywheel review queue: unexpected argument \"%s\"\n",
                optind < argc ? argv[optind] : arg);
        queue_usage(stderr);
        return 2;
    }
    char *text = NULL;
    json_t *j = NULL;
    PGconn *conn = NULL;
    if (strcmp(action, "create") == 0) {
        text = fw_review_read_file("queue", arg);
        if (!text || !(j = fw_review_parse_json("queue", arg, text)))
            goto out;
        /* The database checks the rest of the file; the name rule is
         * checked here first so that the message states it. */
        const char *qname = json_string_value(json_object_get(j, "name"));
        if (qname && fw_cli_check_name(cli.cmd, "queue", qname) != 0) {
            rc = 2;
            goto out;
        }
    }
    conn = fw_cli_connect(cli.cmd, cli.dsn);
    if (!conn)
        goto out;
    if (strcmp(action, "create") == 0) {
        const char *p[1] = {text};
        PGresult *res = fw_review_exec(
            conn, "queue", "SELECT flywheel.review_queue_create($1::jsonb)", 1, p, NULL, 0);
        if (!res)
            goto out;
        printf("queue \"%s\" created (id %s)\n", json_string_value(json_object_get(j, "name")),
               PQgetvalue(res, 0, 0));
        PQclear(res);
        rc = 0;
    } else if (strcmp(action, "list") == 0) {
        rc = show(conn, "queue",
                  "SELECT p.queue, CASE WHEN p.paused THEN 'paused' ELSE 'active' END AS state, "
                  "q.rubric_name || ' v' || q.rubric_version AS rubric, p.overlap, p.items, "
                  "p.pending, p.in_review, p.labelled + p.adjudicated AS done, p.disputed, "
                  "p.skipped, coalesce(date_trunc('second', p.oldest_open_age)::text, '') "
                  "AS oldest_open FROM flywheel.review_progress p "
                  "JOIN flywheel.review_queues q ON q.name = p.queue ORDER BY p.queue",
                  0, NULL, 0);
    } else if (strcmp(action, "show") == 0) {
        const char *p[1] = {arg};
        rc = show(conn, "queue",
                  "SELECT jsonb_pretty(jsonb_build_object("
                  "'name', q.name, 'description', q.description, 'rubric', q.rubric_name, "
                  "'rubric_version', q.rubric_version, 'overlap', q.overlap, 'lease', "
                  "q.lease::text, 'skip_limit', q.skip_limit, 'gold_rate', q.gold_rate, "
                  "'rules', q.rules, 'priority', q.priority, 'continuous', q.continuous, "
                  "'paused', q.paused, 'filled_until', q.filled_until, "
                  "'progress', to_jsonb(p) - 'queue')) "
                  "FROM flywheel.review_queue_get($1) q "
                  "JOIN flywheel.review_progress p ON p.queue = q.name",
                  1, p, 1);
    } else {
        const char *p[2] = {arg, strcmp(action, "pause") == 0 ? "true" : "false"};
        PGresult *res = fw_review_exec(
            conn, "queue", "SELECT flywheel.review_queue_pause($1, $2::boolean)", 2, p, NULL, 0);
        if (!res)
            goto out;
        PQclear(res);
        printf("queue \"%s\" %s\n", arg, strcmp(action, "pause") == 0 ? "paused" : "resumed");
        rc = 0;
    }
out:
    json_decref(j);
    free(text);
    PQfinish(conn);
    return rc;
}

static void fill_usage(FILE *f)
{
    fprintf(f,
            "usage: flywheel review fill QUEUE [--rescan] [--dsn DSN]\n"
            "       flywheel review fill --all [--dsn DSN]\n"
            "       flywheel review fill QUEUE --from-runs RUN_A,RUN_B [--seed S] [--dsn DSN]\n\n"
            "Adds the generations that match a queue's rules (never twice). A continuous\n"
            "queue looks only at events since its last fill (minus an hour of slack);\n"
            "--rescan looks at everything. --all fills every continuous, unpaused queue:\n"
            "run it from cron or a systemd timer, e.g. every minute.\n"
            "--from-runs fills a pairwise queue from two eval runs: one item per case\n"
            "both answered, the sides chosen per case from the seed (docs/evals.md).\n");
}

int fw_review_admin_fill(int argc, char **argv)
{
    const char *runs = NULL, *seed = NULL;
    fw_cli cli = {.cmd = "review fill", .accepts = FW_CLI_DSN, .usage = fill_usage};
    int rescan = 0, all = 0, c, rc = 1;
    static const struct option opts[] = {
        {"rescan", no_argument, NULL, OPT_RESCAN},
        {"all", no_argument, NULL, OPT_ALL},
        {"from-runs", required_argument, NULL, OPT_RUNS},
        {"seed", required_argument, NULL, OPT_SEED},
        {NULL, 0, NULL, 0},
    };
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        if (c == OPT_RESCAN) {
            rescan = 1;
        } else if (c == OPT_ALL) {
            all = 1;
        } else if (c == OPT_RUNS) {
            runs = optarg;
        } else if (c == OPT_SEED) {
            seed = optarg;
        } else {
            return 2;
        }
    }
    if (c != -1)
        return fw_cli_status(c);
    const char *queue = optind < argc ? argv[optind++] : NULL;
    if (optind < argc) {
        fprintf(stderr, "flywheel review fill: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if ((all && queue) || (!all && !queue)) {
        fprintf(stderr, "flywheel review fill: %s\n",
                all ? "give a queue name or --all, not both" : "missing a queue name (or --all)");
        return 2;
    }
    if (runs && (all || !strchr(runs, ',') || strchr(runs, ',') != strrchr(runs, ','))) {
        fprintf(stderr, "flywheel review fill: --from-runs takes RUN_A,RUN_B and a queue\n");
        return 2;
    }
    PGconn *conn = fw_cli_connect(cli.cmd, cli.dsn);
    if (!conn)
        return 1;
    if (runs) {
        char a[256], err[1024];
        const char *comma = strchr(runs, ',');
        long long added = 0;
        snprintf(a, sizeof a, "%.*s", (int)(comma - runs), runs);
        if (fw_eval_review_fill(conn, queue, a, comma + 1, seed, &added, err, sizeof err)) {
            fw_cli_error("review fill", err);
        } else {
            printf("queue \"%s\": added %lld item(s)\n", queue, added);
            rc = 0;
        }
        PQfinish(conn);
        return rc;
    }
    PGresult *res;
    if (all) {
        res = fw_review_exec(conn, "fill", "SELECT queue, added FROM flywheel.review_fill_all()", 0,
                             NULL, NULL, 0);
        if (res) {
            for (int r = 0; r < PQntuples(res); r++)
                printf("queue \"%s\": added %s item(s)\n", PQgetvalue(res, r, 0),
                       PQgetvalue(res, r, 1));
            rc = 0;
        }
    } else {
        const char *p[2] = {queue, rescan ? "true" : "false"};
        res = fw_review_exec(conn, "fill", "SELECT flywheel.review_fill($1, $2::boolean)", 2, p,
                             NULL, 0);
        if (res) {
            printf("queue \"%s\": added %s item(s)\n", queue, PQgetvalue(res, 0, 0));
            rc = 0;
        }
    }
    PQclear(res);
    PQfinish(conn);
    return rc;
}

static void stats_usage(FILE *f)
{
    fprintf(f, "usage: flywheel review stats [QUEUE] [--json] [--dsn DSN]\n\n"
               "Progress and backlog age, agreement per field (percent agreement; Cohen's\n"
               "kappa for two reviewers, Fleiss' kappa for more; Krippendorff's alpha,\n"
               "interval metric, for numbers), time per item, throughput per reviewer and\n"
               "accuracy on gold items.\n");
}

/* A queue name that matches nothing is a typo to report (exit status 2,
 * naming the queues that exist), not empty tables. Returns 0 when the
 * queue exists, 2 when it does not, 1 on a database error. */
static int stats_queue_exists(PGconn *conn, const char *queue)
{
    const char *p[1] = {queue};
    PGresult *r = PQexecParams(conn,
                               "SELECT EXISTS (SELECT 1 FROM flywheel.review_progress WHERE queue "
                               "= $1), (SELECT string_agg(queue, ', ' ORDER BY queue) FROM "
                               "flywheel.review_progress)",
                               1, NULL, p, NULL, NULL, 0);
    int rc = 1;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fw_cli_pg_error("review stats", r, conn);
    } else if (strcmp(PQgetvalue(r, 0, 0), "t") == 0) {
        rc = 0;
    } else {
        fprintf(stderr, "flywheel review stats: queue \"%s\" does not exist\n", queue);
        if (PQgetisnull(r, 0, 1))
            fprintf(stderr, "detail: There are no queues yet.\n");
        else
            fprintf(stderr, "detail: The queues are: %s.\n", PQgetvalue(r, 0, 1));
        fprintf(stderr, "hint: Run `flywheel review queue list`.\n");
        rc = 2;
    }
    PQclear(r);
    return rc;
}

int fw_review_admin_stats(int argc, char **argv)
{
    int c, rc = 1;
    fw_cli cli = {.cmd = "review stats", .accepts = FW_CLI_DSN | FW_CLI_JSON, .usage = stats_usage};
    static const struct option opts[] = {
        {NULL, 0, NULL, 0},
    };
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        return 2;
    }
    if (c != -1)
        return fw_cli_status(c);
    const char *queue = optind < argc ? argv[optind++] : NULL;
    if (optind < argc) {
        fprintf(stderr, "flywheel review stats: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    PGconn *conn = fw_cli_connect(cli.cmd, cli.dsn);
    if (!conn)
        return 1;
    const char *p[1] = {queue};
    if (queue && (rc = stats_queue_exists(conn, queue)) != 0)
        goto out;
    rc = 1;
    if (cli.json) {
        rc = show(
            conn, "stats",
            "SELECT jsonb_build_object("
            "'progress', (SELECT coalesce(jsonb_agg(to_jsonb(x) || jsonb_build_object("
            "  'oldest_open_age_s', extract(epoch FROM x.oldest_open_age)) ORDER BY x.queue), '[]')"
            "  FROM flywheel.review_progress x WHERE $1::text IS NULL OR x.queue = $1),"
            "'agreement', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.queue, x.field), '[]')"
            "  FROM flywheel.review_agreement x WHERE $1::text IS NULL OR x.queue = $1),"
            "'time_per_item', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.queue, "
            "x.reviewer), '[]')"
            "  FROM flywheel.review_time_per_item x WHERE $1::text IS NULL OR x.queue = $1),"
            "'throughput', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.queue, x.reviewer, "
            "x.day), '[]')"
            "  FROM flywheel.review_throughput x WHERE $1::text IS NULL OR x.queue = $1),"
            "'gold_accuracy', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.queue, x.reviewer, "
            "x.field), '[]')"
            "  FROM flywheel.review_gold_accuracy x WHERE $1::text IS NULL OR x.queue = $1))",
            1, p, 1);
        goto out;
    }
    printf("== progress\n");
    if (show(conn, "stats",
             "SELECT queue, items, pending, in_review, labelled, disputed, adjudicated, skipped, "
             "gold, labels, coalesce(date_trunc('second', oldest_open_age)::text, '') AS "
             "oldest_open "
             "FROM flywheel.review_progress WHERE $1::text IS NULL OR queue = $1 ORDER BY queue",
             1, p, 0))
        goto out;
    printf("\n== agreement (kappa: Cohen for 2 reviewers, else Fleiss; alpha: Krippendorff, "
           "interval)\n");
    if (show(conn, "stats",
             "SELECT queue, field, type, items, raters, round(percent_agreement::numeric, 3) AS "
             "agreement, coalesce(kappa_kind, '') AS kind, coalesce(round(kappa::numeric, "
             "3)::text, '') "
             "AS kappa, coalesce(round(alpha_interval::numeric, 3)::text, '') AS alpha "
             "FROM flywheel.review_agreement WHERE $1::text IS NULL OR queue = $1 ORDER BY 1, 2",
             1, p, 0))
        goto out;
    printf("\n== time per item and throughput\n");
    if (show(conn, "stats",
             "SELECT t.queue, t.reviewer, t.items, t.skipped, round(t.p50_s::numeric, 1) AS p50_s, "
             "round(t.p90_s::numeric, 1) AS p90_s, (SELECT sum(labels) FROM "
             "flywheel.review_throughput h WHERE h.queue = t.queue AND h.reviewer = t.reviewer "
             "AND h.day >= date_trunc('day', now())) AS labels_today "
             "FROM flywheel.review_time_per_item t WHERE $1::text IS NULL OR t.queue = $1 "
             "ORDER BY 1, 2",
             1, p, 0))
        goto out;
    printf("\n== gold accuracy\n");
    if (show(conn, "stats",
             "SELECT queue, reviewer, field, gold_items, correct, round(accuracy::numeric, 3) AS "
             "accuracy FROM flywheel.review_gold_accuracy WHERE $1::text IS NULL OR queue = $1 "
             "ORDER BY 1, 2, 3",
             1, p, 0))
        goto out;
    rc = 0;
out:
    PQfinish(conn);
    return rc;
}
