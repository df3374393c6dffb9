/*
 * `flywheel dataset list|show|diff`: the versions `flywheel export
 * --dataset` recorded, their manifests, and what changed between two of
 * them (members added, removed or relabelled, and parameters changed).
 * Read-only; output on stdout.
 */
#include "cli.h"
#include "opts.h"
#include "pgutil.h"

#include <getopt.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dataset_usage(FILE *f)
{
    fprintf(f, "usage: flywheel dataset list [--dsn DSN]\n"
               "       flywheel dataset show NAME [VERSION] [--dsn DSN]\n"
               "       flywheel dataset diff NAME FROM TO [--members] [--dsn DSN]\n"
               "\n"
               "  list     every dataset version: members, lines per split, rejected, time\n"
               "  show     the manifest of a version (default the latest) as JSON\n"
               "  diff     members added, removed and relabelled between two versions, and the\n"
               "           parameters that differ; --members lists the members\n"
               "\n"
               "options:\n"
               "  --members            with diff: list the members that changed\n");
}

static PGresult *query(PGconn *c, const char *sql, int n, const char *const *p)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        char e[1024];
        fprintf(stderr, "flywheel dataset: query failed: %s\n", fw_pg_errstr(e, sizeof e, r, c));
        PQclear(r);
        return NULL;
    }
    return r;
}

static int do_list(PGconn *c)
{
    PGresult *r =
        query(c,
              "SELECT v.dataset, v.version, v.format, v.members, "
              "coalesce(v.manifest #>> '{lines,train}', '-'), coalesce(v.manifest #>> "
              "'{lines,validation}', '-'), "
              "coalesce(v.manifest #>> '{lines,test}', '-'), coalesce(v.manifest ->> "
              "'rejected_total', '-'), "
              "to_char(v.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), v.created_by "
              "FROM flywheel.dataset_versions v ORDER BY v.dataset, v.version",
              0, NULL);
    if (!r)
        return 1;
    printf("%-24s %7s %-12s %9s %9s %9s %9s %9s  %-19s %s\n", "dataset", "version", "format",
           "members", "train", "valid", "test", "rejected", "created (UTC)", "by");
    for (int i = 0; i < PQntuples(r); i++)
        printf("%-24s %7s %-12s %9s %9s %9s %9s %9s  %-19s %s\n", PQgetvalue(r, i, 0),
               PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
               PQgetvalue(r, i, 5), PQgetvalue(r, i, 6), PQgetvalue(r, i, 7), PQgetvalue(r, i, 8),
               PQgetvalue(r, i, 9));
    PQclear(r);
    return 0;
}

static int do_show(PGconn *c, const char *name, const char *version)
{
    const char *p[2] = {name, version};
    PGresult *r = query(c,
                        version ? "SELECT manifest::text FROM flywheel.dataset_versions WHERE "
                                  "dataset = $1 AND version = $2::integer"
                                : "SELECT manifest::text FROM flywheel.dataset_versions WHERE "
                                  "dataset = $1 ORDER BY version DESC LIMIT 1",
                        version ? 2 : 1, p);
    if (!r)
        return 1;
    if (PQntuples(r) != 1) {
        fprintf(stderr, "flywheel dataset: dataset \"%s\" has no version%s%s\n", name,
                version ? " " : "s", version ? version : "");
        PQclear(r);
        return 1;
    }
    json_t *m = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    if (!m) {
        fprintf(stderr, "flywheel dataset: the recorded manifest is not valid JSON\n");
        return 1;
    }
    /* jsonb reorders keys; sort them so the display is stable. */
    json_dumpf(m, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
    fputc('\n', stdout);
    json_decref(m);
    return 0;
}

static void diff_params(const char *path, const json_t *a, const json_t *b)
{
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        json_t *v;
        char sub[512];
        json_object_foreach((json_t *)(uintptr_t)a, k, v)
        {
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
            diff_params(sub, v, json_object_get(b, k));
        }
        json_object_foreach((json_t *)(uintptr_t)b, k, v)
        {
            if (!json_object_get(a, k)) {
                snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
                diff_params(sub, NULL, v);
            }
        }
        return;
    }
    if (a && b && json_equal((json_t *)(uintptr_t)a, (json_t *)(uintptr_t)b))
        return;
    char *sa = a ? json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS) : NULL;
    char *sb = b ? json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS) : NULL;
    printf("  parameter %s: %s -> %s\n", path, sa ? sa : "(absent)", sb ? sb : "(absent)");
    free(sa);
    free(sb);
}

static int do_diff(PGconn *c, const char *name, const char *from, const char *to, int members)
{
    const char *p[3] = {name, from, to};
    PGresult *r =
        query(c,
              "SELECT version, parameters::text, manifest::text FROM flywheel.dataset_versions "
              "WHERE dataset = $1 AND version IN ($2::integer, $3::integer) ORDER BY version = "
              "$3::integer",
              3, p);
    if (!r)
        return 1;
    if (PQntuples(r) != 2) {
        fprintf(stderr, "flywheel dataset: dataset \"%s\" does not have both versions %s and %s\n",
                name, from, to);
        PQclear(r);
        return 1;
    }
    json_t *pa = json_loads(PQgetvalue(r, 0, 1), 0, NULL),
           *pb = json_loads(PQgetvalue(r, 1, 1), 0, NULL);
    json_t *ma = json_loads(PQgetvalue(r, 0, 2), 0, NULL),
           *mb = json_loads(PQgetvalue(r, 1, 2), 0, NULL);
    PQclear(r);
    printf("dataset %s: version %s -> %s\n", name, from, to);
    diff_params("", pa, pb);
    static const char *const splits[] = {"train", "validation", "test"};
    for (int i = 0; i < 3; i++) {
        json_int_t a = json_integer_value(json_object_get(json_object_get(ma, "lines"), splits[i]));
        json_int_t b = json_integer_value(json_object_get(json_object_get(mb, "lines"), splits[i]));
        printf("  %-10s lines %" JSON_INTEGER_FORMAT " -> %" JSON_INTEGER_FORMAT
               " (%+" JSON_INTEGER_FORMAT ")\n",
               splits[i], a, b, b - a);
    }
    json_decref(pa);
    json_decref(pb);
    json_decref(ma);
    json_decref(mb);
    r = query(c,
              "SELECT change, count(*) FROM flywheel.dataset_diff($1, $2::integer, $3::integer) "
              "GROUP BY 1 ORDER BY 1",
              3, p);
    if (!r)
        return 1;
    long long added = 0, removed = 0, relabelled = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        long long n = strtoll(PQgetvalue(r, i, 1), NULL, 10);
        const char *ch = PQgetvalue(r, i, 0);
        if (strcmp(ch, "added") == 0)
            added = n;
        else if (strcmp(ch, "removed") == 0)
            removed = n;
        else
            relabelled = n;
    }
    PQclear(r);
    printf("  members added %lld, removed %lld, relabelled %lld\n", added, removed, relabelled);
    if (members) {
        r = query(c,
                  "SELECT change, event_id, item_id, coalesce(old_label_ids::text, ''), "
                  "coalesce(new_label_ids::text, '') FROM flywheel.dataset_diff($1, $2::integer, "
                  "$3::integer)",
                  3, p);
        if (!r)
            return 1;
        for (int i = 0; i < PQntuples(r); i++)
            printf("%s\t%s\t%s\t%s\t%s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                   PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
        PQclear(r);
    }
    return 0;
}

static int is_int(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return end != s && *end == '\0' && v >= 1;
}

int fw_cmd_dataset(int argc, char **argv)
{
    int members = 0;
    fw_cli cli = {.cmd = "dataset", .accepts = FW_CLI_DSN, .usage = dataset_usage};
    static const struct option opts[] = {
        {"members", no_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        switch (c) {
        case 'm':
            members = 1;
            break;
        default:
            dataset_usage(stderr);
            return 2;
        }
    }
    if (c != -1)
        return fw_cli_status(c);
    int nargs = argc - optind;
    char **args = argv + optind;
    if (nargs < 1) {
        dataset_usage(stderr);
        return 2;
    }
    const char *action = args[0];
    int ok = (strcmp(action, "list") == 0 && nargs == 1) ||
             (strcmp(action, "show") == 0 && (nargs == 2 || (nargs == 3 && is_int(args[2])))) ||
             (strcmp(action, "diff") == 0 && nargs == 4 && is_int(args[2]) && is_int(args[3]));
    if (!ok) {
        fprintf(stderr, "flywheel dataset: invalid arguments for \"%s\"\n", action);
        dataset_usage(stderr);
        return 2;
    }
    PGconn *conn = fw_cli_connect("dataset", cli.dsn);
    if (!conn)
        return 1;
    int rc;
    if (strcmp(action, "list") == 0)
        rc = do_list(conn);
    else if (strcmp(action, "show") == 0)
        rc = do_show(conn, args[1], nargs == 3 ? args[2] : NULL);
    else
        rc = do_diff(conn, args[1], args[2], args[3], members);
    PQfinish(conn);
    return rc;
}
