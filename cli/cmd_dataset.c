/*
 * `flywheel dataset list|show|diff`: the versions `flywheel export
 * --dataset` recorded, their manifests, and what changed between two of
 * them (members added, removed or relabelled, and parameters changed), over
 * the store library (fw_store_dataset_*): parsing and rendering only.
 */
#include "cli.h"
#include "opts.h"

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

/* A JSON value as text: "-" for null. */
static const char *val(char *buf, size_t size, const json_t *v)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        snprintf(buf, size, "-");
    return buf;
}

static int do_list(PGconn *c)
{
    fw_store_error err;
    json_t *rows = fw_store_dataset_list(c, &err);
    if (!rows) {
        fw_cli_store_error("dataset list", &err);
        return fw_cli_store_status(&err);
    }
    printf("%-24s %7s %-12s %9s %9s %9s %9s %9s  %-19s %s\n", "dataset", "version", "format",
           "members", "train", "valid", "test", "rejected", "created (UTC)", "by");
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        char b[8][32];
        printf("%-24s %7s %-12s %9s %9s %9s %9s %9s  %-19s %s\n",
               val(b[0], 32, json_object_get(r, "dataset")),
               val(b[1], 32, json_object_get(r, "version")),
               val(b[2], 32, json_object_get(r, "format")),
               val(b[3], 32, json_object_get(r, "members")),
               val(b[4], 32, json_object_get(r, "train")),
               val(b[5], 32, json_object_get(r, "validation")),
               val(b[6], 32, json_object_get(r, "test")),
               val(b[7], 32, json_object_get(r, "rejected")),
               json_string_value(json_object_get(r, "created_at")),
               json_string_value(json_object_get(r, "created_by")));
    }
    json_decref(rows);
    return 0;
}

static int do_show(PGconn *c, const char *name, int version)
{
    fw_store_error err;
    json_t *m = fw_store_dataset_manifest(c, name, version, &err);
    if (!m) {
        fw_cli_store_error("dataset show", &err);
        return fw_cli_store_status(&err);
    }
    /* jsonb reorders keys; sort them so the display is stable. */
    json_dumpf(m, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
    fputc('\n', stdout);
    json_decref(m);
    return 0;
}

static int do_diff(PGconn *c, const char *name, int from, int to, int members)
{
    fw_store_error err;
    json_t *d = fw_store_dataset_diff(c, name, from, to, members, &err);
    if (!d) {
        fw_cli_store_error("dataset diff", &err);
        return fw_cli_store_status(&err);
    }
    printf("dataset %s: version %d -> %d\n", name, from, to);
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(d, "parameters"), i, x)
    {
        json_t *a = json_object_get(x, "from"), *b = json_object_get(x, "to");
        char *sa =
            json_is_null(a) ? NULL : json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        char *sb =
            json_is_null(b) ? NULL : json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        printf("  parameter %s: %s -> %s\n", json_string_value(json_object_get(x, "path")),
               sa ? sa : "(absent)", sb ? sb : "(absent)");
        free(sa);
        free(sb);
    }
    static const char *const splits[] = {"train", "validation", "test"};
    json_t *lines = json_object_get(d, "lines");
    for (int s = 0; s < 3; s++) {
        json_t *l = json_object_get(lines, splits[s]);
        json_int_t a = json_integer_value(json_object_get(l, "from"));
        json_int_t b = json_integer_value(json_object_get(l, "to"));
        printf("  %-10s lines %" JSON_INTEGER_FORMAT " -> %" JSON_INTEGER_FORMAT
               " (%+" JSON_INTEGER_FORMAT ")\n",
               splits[s], a, b, b - a);
    }
    json_t *m = json_object_get(d, "members");
    printf("  members added %" JSON_INTEGER_FORMAT ", removed %" JSON_INTEGER_FORMAT
           ", relabelled %" JSON_INTEGER_FORMAT "\n",
           json_integer_value(json_object_get(m, "added")),
           json_integer_value(json_object_get(m, "removed")),
           json_integer_value(json_object_get(m, "relabelled")));
    json_array_foreach(json_object_get(d, "changes"), i, x)
    {
        char b[32];
        const json_t *o = json_object_get(x, "old_label_ids"),
                     *n = json_object_get(x, "new_label_ids");
        printf("%s\t%s\t%s\t%s\t%s\n", json_string_value(json_object_get(x, "change")),
               json_string_value(json_object_get(x, "event_id")),
               val(b, sizeof b, json_object_get(x, "item_id")),
               json_is_string(o) ? json_string_value(o) : "",
               json_is_string(n) ? json_string_value(n) : "");
    }
    json_decref(d);
    return 0;
}

/* Parses a version number: a whole number from 1 up. Returns it, or 0. */
static int parse_version(const char *s)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
        return 0;
    return (int)strtol(s, NULL, 10);
}

int fw_cmd_dataset(int argc, char **argv)
{
    int members = 0;
    fw_cli cli = {.cmd = "dataset", .accepts = FW_CLI_DSN, .usage = dataset_usage};
    char cmd[32];
    if (argc > 1 && (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "show") == 0 ||
                     strcmp(argv[1], "diff") == 0)) {
        snprintf(cmd, sizeof cmd, "dataset %s", argv[1]);
        cli.cmd = cmd;
    }
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
    int list = strcmp(action, "list") == 0, show = strcmp(action, "show") == 0,
        diff = strcmp(action, "diff") == 0;
    snprintf(cmd, sizeof cmd, "dataset %s", list || show || diff ? action : "");
    cli.cmd = list || show || diff ? cmd : "dataset";
    if (!list && !show && !diff) {
        fw_cli_errorf(&cli, "unknown subcommand \"%s\"", action);
        dataset_usage(stderr);
        return 2;
    }
    if ((list && nargs != 1) || (show && (nargs < 2 || nargs > 3)) || (diff && nargs != 4) ||
        (members && !diff)) {
        fw_cli_errorf(&cli, "invalid arguments");
        dataset_usage(stderr);
        return 2;
    }
    int v[2] = {0, 0};
    for (int i = 2; i < nargs; i++) {
        v[i - 2] = parse_version(args[i]);
        if (v[i - 2] == 0) {
            fw_cli_errorf(&cli,
                          "invalid version \"%s\"\n"
                          "hint: Versions are whole numbers from 1; `flywheel dataset list` "
                          "shows them.",
                          args[i]);
            return 2;
        }
    }
    PGconn *conn = fw_cli_connect(cli.cmd, cli.dsn);
    if (!conn)
        return 1;
    int rc;
    if (list)
        rc = do_list(conn);
    else if (show)
        rc = do_show(conn, args[1], v[0]);
    else
        rc = do_diff(conn, args[1], v[0], v[1], members);
    PQfinish(conn);
    return rc;
}
