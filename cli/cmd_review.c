/*
 * `flywheel review`: the subcommand table and the helpers its files share
 * (statement execution with PostgreSQL-style errors, file and JSON input).
 * The review logic itself lives in the database (migrations/V0003); these
 * commands are thin, parameterised calls of its functions.
 */
#include "cli.h"
#include "pgutil.h"
#include "review.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *name;
    fw_cli_fn fn;
    const char *summary;
} review_command;

static const review_command review_commands[] = {
    {"rubric", fw_review_admin_rubric, "create|show: label schemas (JSON files)"},
    {"queue", fw_review_admin_queue, "create|list|show|pause|resume: review queues"},
    {"fill", fw_review_admin_fill, "add matching generations to a queue (QUEUE or --all)"},
    {"stats", fw_review_admin_stats, "progress, agreement, throughput, gold accuracy"},
    {"start", fw_review_start, "the interactive terminal reviewer"},
    {"claim", fw_review_op_claim, "claim the next item (--json for scripts)"},
    {"submit", fw_review_op_submit, "submit a label for a claimed item (--json FILE)"},
    {"skip", fw_review_op_skip, "skip a claimed item with a reason"},
    {"release", fw_review_op_release, "give a claimed item back"},
    {"adjudicate", fw_review_op_adjudicate, "record the authoritative label (admins)"},
};

static void review_usage(FILE *f)
{
    fprintf(f, "usage: flywheel review <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof review_commands / sizeof review_commands[0]; i++)
        fprintf(f, "  %-11s %s\n", review_commands[i].name, review_commands[i].summary);
    fprintf(f, "\nEvery command takes --dsn DSN (default $FLYWHEEL_PG_DSN) and, where it acts\n"
               "for a reviewer, --as NAME (admins only; a reviewer login acts as itself).\n"
               "Run `flywheel review <command> --help` for its options.\n");
}

int fw_cmd_review(int argc, char **argv)
{
    if (argc < 2) {
        review_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        review_usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof review_commands / sizeof review_commands[0]; i++)
        if (strcmp(argv[1], review_commands[i].name) == 0)
            return review_commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "flywheel review: unknown command \"%s\"\n", argv[1]);
    review_usage(stderr);
    return 2;
}

void fw_review_fix_trailing_as(int argc, char **argv)
{
    static char empty_as[] = "--as=";
    if (argc > 1 && strcmp(argv[argc - 1], "--as") == 0)
        argv[argc - 1] = empty_as;
}

int fw_review_resolve_as(const char *cmd, const char **as)
{
    static char login[256];
    if (!*as)
        return 0;
    if ((*as)[0] == '-') {
        fprintf(stderr,
                "flywheel %s: --as \"%s\" is not a reviewer name\n"
                "DETAIL: --as takes the name as the next argument; here that is an option, "
                "as when `--as $USER` is run where USER is unset.\n"
                "HINT: Name the reviewer (--as alice), or leave --as out to review as your "
                "database login.\n",
                cmd, *as);
        return -1;
    }
    if ((*as)[0] != '\0')
        return 0;
    errno = 0;
    const struct passwd *pw = getpwuid(geteuid());
    if (!pw || !pw->pw_name || !pw->pw_name[0]) {
        fprintf(stderr,
                "flywheel %s: --as is empty and the login name of user id %ld is unknown%s%s\n"
                "HINT: Name the reviewer (--as alice), or leave --as out to review as your "
                "database login.\n",
                cmd, (long)geteuid(), errno ? ": " : "", errno ? strerror(errno) : "");
        return -1;
    }
    snprintf(login, sizeof login, "%s", pw->pw_name);
    fprintf(stderr,
            "flywheel %s: --as is empty (is $USER unset?); acting as \"%s\", the login name\n", cmd,
            login);
    *as = login;
    return 0;
}

PGresult *fw_review_exec(PGconn *conn, const char *sub, const char *sql, int nparams,
                         const char *const *params, char *field, size_t fieldsize)
{
    if (field && fieldsize)
        field[0] = '\0';
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;
    /* The store's error of the result: the server's message, SQLSTATE,
     * detail and hint, with what a missing schema means (run `flywheel
     * migrate`) added, and the class of an FR code. */
    fw_store_error e;
    fw_store_error_pg(&e, NULL, res, conn);
    const char *column = res ? PQresultErrorField(res, PG_DIAG_COLUMN_NAME) : NULL;
    if (e.sqlstate[0]) {
        fprintf(stderr, "flywheel review %s: %s (SQLSTATE %s)\n", sub, e.message, e.sqlstate);
    } else {
        char buf[1024];
        fprintf(stderr, "flywheel review %s: %s\n", sub, fw_pg_errstr(buf, sizeof buf, res, conn));
    }
    if (e.detail[0])
        fprintf(stderr, "DETAIL: %s\n", e.detail);
    if (e.hint[0])
        fprintf(stderr, "HINT: %s\n", e.hint);
    if (field && fieldsize && column)
        snprintf(field, fieldsize, "%s", column);
    PQclear(res);
    return NULL;
}

char *fw_review_read_file(const char *sub, const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (!f) {
        fprintf(stderr, "flywheel review %s: could not open file \"%s\": %s\n", sub, path,
                strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - len < 4096) {
            size_t ncap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                fprintf(stderr, "flywheel review %s: out of memory reading \"%s\"\n", sub, path);
                free(buf);
                buf = NULL;
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                fprintf(stderr, "flywheel review %s: could not read file \"%s\": %s\n", sub, path,
                        strerror(errno));
                free(buf);
                buf = NULL;
                goto out;
            }
            break;
        }
    }
    buf[len] = '\0';
out:
    if (f != stdin)
        fclose(f);
    return buf;
}

json_t *fw_review_parse_json(const char *sub, const char *what, const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        fprintf(stderr, "flywheel review %s: invalid JSON in %s:%d:%d: %s\n", sub, what, err.line,
                err.column, err.text);
    return j;
}
