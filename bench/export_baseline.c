/*
 * The baseline of `scripts/bench export`: COPY (the stream query of a
 * recorded dataset version) TO STDOUT, the rows written to standard output
 * and nothing else — what the export would cost if turning rows into lines
 * were free. The query is the store library's own (fw_xrun_stream_sql), so
 * the baseline reads exactly the rows the timed re-export reads.
 *
 *   flywheel-bench-export-baseline DSN DATASET VERSION > /dev/null
 */
#include "flywheel/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: flywheel-bench-export-baseline DSN DATASET VERSION\n");
        return 2;
    }
    PGconn *c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "could not connect to database: %s", PQerrorMessage(c));
        PQfinish(c);
        return 1;
    }
    char *sql = fw_xrun_stream_sql(c, argv[2], atoi(argv[3]));
    size_t n = sql ? strlen(sql) + 32 : 0;
    char *copy = sql ? malloc(n) : NULL;
    if (!copy) {
        fprintf(stderr, "out of memory\n");
        free(sql);
        PQfinish(c);
        return 1;
    }
    snprintf(copy, n, "COPY (%s) TO STDOUT", sql);
    PGresult *r = PQexec(c, copy);
    free(copy);
    free(sql);
    int rc = 1;
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        fprintf(stderr, "could not start the baseline COPY: %s", PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return 1;
    }
    PQclear(r);
    char *buf;
    int len;
    while ((len = PQgetCopyData(c, &buf, 0)) > 0) {
        if (fwrite(buf, 1, (size_t)len, stdout) != (size_t)len) {
            PQfreemem(buf);
            fprintf(stderr, "could not write the baseline COPY\n");
            PQfinish(c);
            return 1;
        }
        PQfreemem(buf);
    }
    r = PQgetResult(c);
    if (PQresultStatus(r) == PGRES_COMMAND_OK && len == -1)
        rc = 0;
    else
        fprintf(stderr, "the baseline COPY failed: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    if (fflush(stdout) != 0)
        rc = 1;
    return rc;
}
