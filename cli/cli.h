/*
 * Shared pieces of the `flywheel` command: each subcommand is a function
 * taking argc/argv from its own name on, returning the process exit status
 * (0 ok, 1 failure, 2 usage error). Data goes to stdout, diagnostics to
 * stderr, as `flywheel <cmd>: message`.
 */
#ifndef FW_CLI_H
#define FW_CLI_H

#include "flywheel/store.h"

#include <libpq-fe.h>

typedef int (*fw_cli_fn)(int argc, char **argv);

/*
 * Connects to PostgreSQL. The connection string is `dsn` when given (from
 * --dsn), else $FLYWHEEL_PG_DSN, else empty, in which case libpq's own
 * environment (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGSSLMODE...)
 * decides. On failure prints "could not connect to database ..." on stderr
 * and returns NULL.
 */
PGconn *fw_cli_connect(const char *cmd, const char *dsn);

/* Prints "flywheel <cmd>: <msg>" to stderr, splitting "hint:"/"detail:"
 * lines as PostgreSQL does. */
void fw_cli_error(const char *cmd, const char *msg);

/* Prints a failed result's error as "flywheel <cmd>: message (SQLSTATE x);
 * detail: ...; hint: ..." (fw_pg_errstr), or the connection's error when the
 * result carries none. */
void fw_cli_pg_error(const char *cmd, const PGresult *res, const PGconn *conn);

/* Prints a store error as psql prints PostgreSQL's: "flywheel <cmd>:
 * message (SQLSTATE x)" (the SQLSTATE when the database reported one),
 * then "detail: ..." and "hint: ..." lines. */
void fw_cli_store_error(const char *cmd, const fw_store_error *err);

/* The exit status of a store error: 0 ok, 2 invalid request, 3 re-export
 * mismatch, 4 nothing selected, 130 cancelled, 1 otherwise. */
int fw_cli_store_status(const fw_store_error *err);

/* A store writer for standard output: every stream goes to stdout, except
 * "manifest.json", which goes to manifest_path when one is given — written
 * as manifest_path.tmp and renamed into place by finish(ok = 1), so the
 * manifest exists only for a complete export. */
typedef struct {
    fw_store_writer w;
    const char *manifest_path;
    char manifest_tmp[4096];
    int manifest_staged;
} fw_cli_out;

void fw_cli_out_init(fw_cli_out *o, const char *manifest_path);

int fw_cmd_migrate(int argc, char **argv);
int fw_cmd_maintain(int argc, char **argv);
int fw_cmd_dlq(int argc, char **argv);
int fw_cmd_review(int argc, char **argv);
int fw_cmd_export(int argc, char **argv);
int fw_cmd_dataset(int argc, char **argv);
int fw_cmd_stats(int argc, char **argv);
int fw_cmd_keys(int argc, char **argv);
int fw_cmd_serve(int argc, char **argv);
int fw_cmd_reviewer(int argc, char **argv);
int fw_cmd_eval(int argc, char **argv);

#endif
