/* Connection, error and output helpers shared by the subcommands. */
#include "cli.h"
#include "pgutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

void fw_cli_store_error(const char *cmd, const fw_store_error *err)
{
    /* As psql prints PostgreSQL's errors: the message (with the SQLSTATE
     * when the database reported it), then detail and hint lines. */
    fprintf(stderr, "flywheel %s: %s", cmd,
            err->message[0] ? err->message : fw_store_code_text(err->code));
    if (err->sqlstate[0])
        fprintf(stderr, " (SQLSTATE %s)", err->sqlstate);
    fputc('\n', stderr);
    if (err->detail[0])
        fprintf(stderr, "detail: %s\n", err->detail);
    if (err->hint[0])
        fprintf(stderr, "hint: %s\n", err->hint);
}

int fw_cli_store_status(const fw_store_error *err)
{
    switch (err->code) {
    case FW_STORE_OK:
        return 0;
    case FW_STORE_INVALID:
        return 2;
    case FW_STORE_MISMATCH:
        return 3;
    case FW_STORE_EMPTY:
        return 4;
    case FW_STORE_CANCELLED:
        return 130;
    default:
        return 1;
    }
}

/* ---- the stdout writer ------------------------------------------------------ */

typedef struct {
    int fd;
    const char *path; /* for messages */
    int own;
} out_stream;

static int out_open(void *ctx, const char *name, void **stream, fw_store_error *err)
{
    fw_cli_out *o = ctx;
    out_stream *s = calloc(1, sizeof *s);
    if (!s) {
        err->code = FW_STORE_NOMEM;
        snprintf(err->message, sizeof err->message, "out of memory");
        return -1;
    }
    if (strcmp(name, "manifest.json") == 0 && o->manifest_path) {
        /* Written beside FILE, renamed into place by out_finish only when
         * the whole export succeeded. */
        snprintf(o->manifest_tmp, sizeof o->manifest_tmp, "%s.tmp", o->manifest_path);
        s->fd = open(o->manifest_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        s->path = o->manifest_tmp;
        s->own = 1;
        if (s->fd < 0) {
            fw_store_error_clear(err);
            err->code = FW_STORE_OUTPUT;
            snprintf(err->message, sizeof err->message, "could not open file \"%.900s\": %s",
                     o->manifest_tmp, strerror(errno));
            free(s);
            return -1;
        }
    } else {
        s->fd = STDOUT_FILENO;
        s->path = "standard output";
    }
    *stream = s;
    return 0;
}

static int out_write(void *ctx, void *stream, const void *data, size_t len, fw_store_error *err)
{
    (void)ctx;
    out_stream *s = stream;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(s->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fw_store_error_clear(err);
            err->code = FW_STORE_OUTPUT;
            snprintf(err->message, sizeof err->message, "could not write to %s: %s", s->path,
                     strerror(errno));
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int out_close(void *ctx, void *stream, int ok, fw_store_error *err)
{
    fw_cli_out *o = ctx;
    out_stream *s = stream;
    int rc = 0;
    if (s->own && ok && fsync(s->fd) != 0) {
        fw_store_error_clear(err);
        err->code = FW_STORE_OUTPUT;
        snprintf(err->message, sizeof err->message, "could not fsync file \"%s\": %s", s->path,
                 strerror(errno));
        rc = -1;
    }
    if (s->own && close(s->fd) != 0 && ok && rc == 0) {
        fw_store_error_clear(err);
        err->code = FW_STORE_OUTPUT;
        snprintf(err->message, sizeof err->message, "could not close file \"%s\": %s", s->path,
                 strerror(errno));
        rc = -1;
    }
    if (s->own) {
        if (ok && rc == 0)
            o->manifest_staged = 1;
        else
            unlink(s->path);
    }
    free(s);
    return rc;
}

static int out_finish(void *ctx, int ok, fw_store_error *err)
{
    fw_cli_out *o = ctx;
    if (!o->manifest_staged)
        return 0;
    o->manifest_staged = 0;
    if (!ok) {
        unlink(o->manifest_tmp);
        return 0;
    }
    if (rename(o->manifest_tmp, o->manifest_path) != 0) {
        fw_store_error_clear(err);
        err->code = FW_STORE_OUTPUT;
        snprintf(err->message, sizeof err->message,
                 "could not rename file \"%.450s\" to \"%.450s\": %s", o->manifest_tmp,
                 o->manifest_path, strerror(errno));
        unlink(o->manifest_tmp);
        return -1;
    }
    return 0;
}

void fw_cli_out_init(fw_cli_out *o, const char *manifest_path)
{
    memset(o, 0, sizeof *o);
    o->manifest_path = manifest_path;
    o->w.open = out_open;
    o->w.write = out_write;
    o->w.close = out_close;
    o->w.finish = out_finish;
    o->w.ctx = o;
}
