/* Connection and error helpers shared by the subcommands. */
#include "cli.h"
#include "pgutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fw_cli_error(const char *cmd, const char *msg)
{
    const char *nl = strchr(msg, '\n');
    if (!nl) {
        fprintf(stderr, "flywheel %s: %s\n", cmd, msg);
        return;
    }
    fprintf(stderr, "flywheel %s: %.*s\n", cmd, (int)(nl - msg), msg);
    fprintf(stderr, "%s\n", nl + 1);
}

void fw_cli_pg_error(const char *cmd, const PGresult *res, const PGconn *conn)
{
    char msg[2048];
    fprintf(stderr, "flywheel %s: %s\n", cmd, fw_pg_errstr(msg, sizeof msg, res, conn));
}

PGconn *fw_cli_connect(const char *cmd, const char *dsn)
{
    if (!dsn || !*dsn)
        dsn = getenv("FLYWHEEL_PG_DSN");
    if (!dsn)
        dsn = "";
    PGconn *conn = PQconnectdb(dsn);
    if (!conn) {
        fprintf(stderr, "flywheel %s: could not connect to database: out of memory\n", cmd);
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
        size_t n = strlen(msg);
        while (n > 0 && msg[n - 1] == '\n')
            msg[--n] = '\0';
        const char *db = PQdb(conn);
        fprintf(stderr, "flywheel %s: could not connect to database \"%s\": %s\n", cmd,
                db ? db : "", msg);
        fprintf(stderr, "hint: Pass --dsn, set FLYWHEEL_PG_DSN, or set the libpq variables "
                        "(PGHOST, PGPORT, PGUSER, PGDATABASE).\n");
        PQfinish(conn);
        return NULL;
    }
    PQclear(PQexec(conn, "SET application_name = 'flywheel'"));
    return conn;
}
