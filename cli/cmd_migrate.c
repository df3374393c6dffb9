/*
 * `flywheel migrate [status|repair]` and `flywheel maintain`.
 *
 * Migrations come from the binary (embedded at build time) unless --dir
 * names a directory of V*.sql and R__*.sql files, for development and tests.
 */
#include "cli.h"
#include "migrate.h"
#include "opts.h"
#include "pgutil.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void migrate_usage(FILE *f)
{
    fprintf(f, "usage: flywheel migrate [status|repair] [options]\n"
               "\n"
               "  (no action)          apply pending migrations\n"
               "  status               list versioned and repeatable migrations: applied,\n"
               "                       pending, outdated, failed, changed; exits 1 when a\n"
               "                       run would apply something or anything is wrong\n"
               "  repair               remove failed entries so fixed files can run again\n"
               "\n"
               "options:\n"
               "  --dir DIR            apply V*.sql and R__*.sql files from DIR instead of the\n"
               "                       built-in set\n"
               "  --lock-timeout T     lock_timeout for each migration (default 10s)\n"
               "  --dry-run            show what would be applied, change nothing\n");
}

int fw_cmd_migrate(int argc, char **argv)
{
    const char *dir = NULL, *lock_timeout = "10s";
    int dry_run = 0, rc = 1;
    fw_cli cli = {.cmd = "migrate", .accepts = FW_CLI_DSN | FW_CLI_QUIET, .usage = migrate_usage};
    char errstr[2048];
    fw_migration_set set = {0};
    PGconn *conn = NULL;

    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'D'},
        {"lock-timeout", required_argument, NULL, 'l'},
        {"dry-run", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        switch (c) {
        case 'D':
            dir = optarg;
            break;
        case 'l':
            lock_timeout = optarg;
            if (strspn(lock_timeout, "0123456789msinh ") != strlen(lock_timeout)) {
                fprintf(stderr, "flywheel migrate: invalid lock timeout \"%s\"\n", optarg);
                return 2;
            }
            break;
        case 'n':
            dry_run = 1;
            break;
        default:
            migrate_usage(stderr);
            return 2;
        }
    }
    if (c != -1)
        return fw_cli_status(c);
    const char *action = optind < argc ? argv[optind++] : "apply";
    if (optind < argc) {
        fprintf(stderr, "flywheel migrate: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (strcmp(action, "apply") && strcmp(action, "status") && strcmp(action, "repair")) {
        fprintf(stderr, "flywheel migrate: unknown action \"%s\"\n", action);
        migrate_usage(stderr);
        return 2;
    }

    int loaded = dir ? fw_migrations_load_dir(&set, dir, errstr, sizeof errstr)
                     : fw_migrations_load_embedded(&set, errstr, sizeof errstr);
    if (loaded != 0) {
        fw_cli_error("migrate", errstr);
        return 1;
    }
    conn = fw_cli_connect("migrate", cli.dsn);
    if (!conn)
        goto out;

    if (strcmp(action, "status") == 0) {
        int st = fw_migrate_status(conn, &set, stdout, errstr, sizeof errstr);
        if (st < 0)
            fw_cli_error("migrate", errstr);
        rc = st < 0 ? 1 : st;
    } else if (strcmp(action, "repair") == 0) {
        int n = fw_migrate_repair(conn, errstr, sizeof errstr);
        if (n < 0) {
            fw_cli_error("migrate", errstr);
        } else {
            if (!cli.quiet)
                printf("removed %d failed migration entr%s\n", n, n == 1 ? "y" : "ies");
            rc = 0;
        }
    } else {
        fw_migrate_opts o = {
            .lock_timeout = lock_timeout, .verbose = !cli.quiet, .dry_run = dry_run};
        int n = fw_migrate_apply(conn, &set, &o, errstr, sizeof errstr);
        if (n < 0) {
            fw_cli_error("migrate", errstr);
        } else {
            if (!cli.quiet) {
                if (n == 0)
                    printf("schema is up to date at version %d\n", fw_migrations_latest(&set));
                else
                    printf("%s %d migration%s; schema at version %d\n",
                           dry_run ? "would apply" : "applied", n, n == 1 ? "" : "s",
                           fw_migrations_latest(&set));
            }
            rc = 0;
        }
    }
out:
    PQfinish(conn);
    fw_migrations_free(&set);
    return rc;
}

static void maintain_usage(FILE *f)
{
    fprintf(f, "usage: flywheel maintain [--dsn DSN] [--days-ahead N]\n\n"
               "Creates the daily partitions of flywheel.generations for the next N days\n"
               "(default 7) and moves rows out of the default partition. Idempotent.\n\n"
               "options:\n"
               "  --days-ahead N       partitions for the next N days (0..366, default 7)\n");
}

int fw_cmd_maintain(int argc, char **argv)
{
    int days_ahead = 7;
    fw_cli cli = {.cmd = "maintain", .accepts = FW_CLI_DSN, .usage = maintain_usage};
    static const struct option opts[] = {
        {"days-ahead", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = fw_cli_next(&cli, argc, argv, NULL, opts)) > 0) {
        switch (c) {
        case 'a': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 0 || v > 366) {
                fprintf(stderr, "flywheel maintain: invalid --days-ahead \"%s\": expected 0..366\n",
                        optarg);
                return 2;
            }
            days_ahead = (int)v;
            break;
        }
        default:
            return 2;
        }
    }
    if (c != -1)
        return fw_cli_status(c);
    PGconn *conn = fw_cli_connect("maintain", cli.dsn);
    if (!conn)
        return 1;
    char ahead[16];
    snprintf(ahead, sizeof ahead, "%d", days_ahead);
    const char *params[1] = {ahead};
    PGresult *res = PQexecParams(conn, "SELECT flywheel.maintain_partitions($1::integer)", 1, NULL,
                                 params, NULL, NULL, 0);
    int rc = 1;
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
        printf("created %s partition(s)\n", PQgetvalue(res, 0, 0));
        rc = 0;
    } else {
        char msg[1024];
        fprintf(stderr, "flywheel maintain: %s\n", fw_pg_errstr(msg, sizeof msg, res, conn));
    }
    PQclear(res);
    PQfinish(conn);
    return rc;
}
