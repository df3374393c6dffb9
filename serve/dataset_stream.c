/*
 * A dataset file streamed from the export writer into the HTTP response
 * (see dataset_stream.h): one export thread per download, a pipe between
 * it and the response body, the request's database connection held by the
 * stream until the export ended.
 *
 * Life of a stream: the handler starts the export thread and waits for the
 * first bytes (or the end) before answering, so a refusal or a missing
 * version still becomes an error page with its status; from then on the
 * body reads the pipe. When the body is freed (the response is done with,
 * or the client went away) the read end is closed and the cancel flag set,
 * so a blocked export wakes up with EPIPE or stops before its next row; the
 * thread is joined and the connection goes back to the pool.
 */
#include "dataset_stream.h"

#include "flywheel/store.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    sv_body body; /* first: the server sees this */
    sv_server *srv;
    sv_db *db;
    int timeout_ms; /* the connection's statement_timeout, restored after */
    char dataset[128];
    char file[64];
    int version;

    int rfd, wfd; /* the pipe: the export writes wfd, the body reads rfd */
    pthread_t thread;
    int started, joined;
    volatile int cancel;

    /* the export's outcome, read after the join */
    int rc;
    fw_store_error err;
    fw_xrun_result res;
    unsigned long long sent;

    char first[8192]; /* the bytes read before answering */
    size_t nfirst, off;
} dl_stream;

/* Markers for the writer's streams: the file asked for, and the others. */
static char wanted_mark, other_mark;

static void output_error(fw_store_error *err, const char *what, int e)
{
    memset(err, 0, sizeof *err);
    err->code = FW_STORE_OUTPUT;
    snprintf(err->message, sizeof err->message, "%s: %s", what, strerror(e));
}

static int dl_open(void *ctx, const char *name, void **stream, fw_store_error *err)
{
    dl_stream *s = ctx;
    (void)err;
    *stream = strcmp(name, s->file) == 0 ? &wanted_mark : &other_mark;
    return 0;
}

static int dl_write(void *ctx, void *stream, const void *data, size_t len, fw_store_error *err)
{
    dl_stream *s = ctx;
    if (stream != &wanted_mark)
        return 0;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(s->wfd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            /* EPIPE: the body was freed, the client went away */
            output_error(err, "could not send the file", errno);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int dl_close(void *ctx, void *stream, int ok, fw_store_error *err)
{
    (void)ctx;
    (void)stream;
    (void)ok;
    (void)err;
    return 0;
}

/* The connection's statement_timeout and idle_in_transaction_session_timeout
 * (the pool sets both to the same value). */
static void set_timeout(PGconn *c, int ms)
{
    char sql[128];
    snprintf(sql, sizeof sql,
             "SET statement_timeout = %d; SET idle_in_transaction_session_timeout = %d", ms, ms);
    PGresult *res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        char q[512];
        fw_log_warn("could not set statement_timeout", "error=%s",
                    fw_log_quote(q, sizeof q, PQresultErrorMessage(res)));
    }
    PQclear(res);
}

static void *dl_export(void *arg)
{
    dl_stream *s = arg;
    PGconn *c = s->db->c;
    /* A large version takes longer than a page's statement timeout, and a
     * slow client can hold the transaction idle while the last bytes drain:
     * the client's pace bounds the export instead, and leaving cancels it. */
    set_timeout(c, 0);
    fw_xopts o;
    fw_xopts_init(&o);
    fw_store_writer w = {.open = dl_open, .write = dl_write, .close = dl_close, .ctx = s};
    fw_xrun_target t = {.dataset = s->dataset,
                        .version = s->version,
                        .writer = &w,
                        .progress = {.cancel = &s->cancel}};
    s->rc = fw_xrun(c, &o, &t, &s->res, &s->err);
    if (PQstatus(c) != CONNECTION_OK)
        s->db->broken = 1;
    else
        set_timeout(c, s->timeout_ms);
    close(s->wfd);
    s->wfd = -1;
    return NULL;
}

static void dl_join(dl_stream *s)
{
    if (s->started && !s->joined) {
        pthread_join(s->thread, NULL);
        s->joined = 1;
    }
}

static void dl_log_end(dl_stream *s)
{
    if (s->rc == 0) {
        fw_log_info("dataset file sent", "dataset=%s version=%d file=%s bytes=%llu", s->dataset,
                    s->version, s->file, s->sent);
    } else {
        char q[1100];
        fw_log_error("dataset file cut off", "dataset=%s version=%d file=%s bytes=%llu error=%s",
                     s->dataset, s->version, s->file, s->sent,
                     fw_log_quote(q, sizeof q, s->err.message));
    }
}

static long dl_read(sv_body *b, char *buf, size_t max)
{
    dl_stream *s = (dl_stream *)b;
    if (s->off < s->nfirst) {
        size_t n = s->nfirst - s->off;
        n = n < max ? n : max;
        memcpy(buf, s->first + s->off, n);
        s->off += n;
        s->sent += n;
        return (long)n;
    }
    for (;;) {
        ssize_t n = read(s->rfd, buf, max);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0) {
            s->sent += (unsigned long long)n;
            return (long)n;
        }
        if (n < 0) {
            output_error(&s->err, "could not read the export's pipe", errno);
            s->cancel = 1;
            return -1;
        }
        /* the export closed its end: it is over, one way or the other */
        dl_join(s);
        dl_log_end(s);
        return s->rc == 0 ? 0 : -1;
    }
}

static void dl_free(sv_body *b)
{
    dl_stream *s = (dl_stream *)b;
    s->cancel = 1;
    if (s->rfd >= 0)
        close(s->rfd); /* a write blocked in the export fails with EPIPE */
    s->rfd = -1;
    if (s->started && !s->joined) {
        /* the response was abandoned before the export ended */
        dl_join(s);
        fw_log_info("dataset download abandoned", "dataset=%s version=%d file=%s bytes=%llu",
                    s->dataset, s->version, s->file, s->sent);
    }
    if (s->wfd >= 0)
        close(s->wfd);
    sv_server_db_put(s->srv, s->db);
    free(s);
}

/* The answer when the export ended before its first byte. */
static int dl_refused(sv_req *r, dl_stream *s)
{
    const fw_store_error *e = &s->err;
    if (strcmp(e->sqlstate, "42501") == 0)
        return sv_error_page(r, 403, "Not allowed",
                             "Your account may not read the text of this dataset's generations, "
                             "so it may not download its files.");
    if (e->code == FW_STORE_NOT_FOUND)
        return sv_error_page(r, 404, "Not found", "There is no such dataset version.");
    char q[1100];
    fw_log_error("dataset download failed",
                 "dataset=%s version=%d file=%s code=%s sqlstate=%s "
                 "error=%s",
                 s->dataset, s->version, s->file, fw_store_code_text(e->code),
                 e->sqlstate[0] ? e->sqlstate : "none", fw_log_quote(q, sizeof q, e->message));
    if (e->code == FW_STORE_MISMATCH)
        return sv_error_page(r, 500, "The re-export differs",
                             "This version's files could not be re-created byte for byte; see "
                             "the server log.");
    return sv_error_page(r, 500, "Internal error", "The download failed; it has been logged.");
}

int sv_dataset_stream(sv_req *r, const char *dataset, int version, const char *file)
{
    if (!sv_req_db(r))
        return sv_unavailable(r);
    dl_stream *s = calloc(1, sizeof *s);
    int fds[2];
    if (!s || pipe2(fds, O_CLOEXEC) != 0) {
        free(s);
        fw_log_error("could not start a download", "error=%s", strerror(errno));
        return sv_error_page(r, 500, "Internal error", "The download failed; it has been logged.");
    }
    s->body.read = dl_read;
    s->body.free = dl_free;
    s->srv = r->srv;
    s->timeout_ms = (int)r->cfg->pg_statement_timeout_ms;
    snprintf(s->dataset, sizeof s->dataset, "%s", dataset);
    snprintf(s->file, sizeof s->file, "%s", file);
    s->version = version;
    s->rfd = fds[0];
    s->wfd = fds[1];
    s->db = sv_req_db_take(r);
    if (pthread_create(&s->thread, NULL, dl_export, s) != 0) {
        fw_log_error("could not start a download", "error=%s", "pthread_create failed");
        r->db = s->db;
        s->db = NULL;
        close(s->rfd);
        close(s->wfd);
        free(s);
        return sv_error_page(r, 500, "Internal error", "The download failed; it has been logged.");
    }
    s->started = 1;

    /* Wait for the first bytes, or the end, before choosing the status. */
    ssize_t n;
    do {
        n = read(s->rfd, s->first, sizeof s->first);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        if (n < 0)
            s->cancel = 1;
        dl_join(s);
        if (n < 0 || s->rc != 0) {
            if (n < 0)
                output_error(&s->err, "could not read the export's pipe", errno);
            dl_refused(r, s);
            /* the connection goes back with the request */
            r->db = s->db;
            s->db = NULL;
            dl_free(&s->body);
            return 0;
        }
    } else {
        s->nfirst = (size_t)n;
    }
    r->status = 200;
    r->ctype = strstr(file, ".zst") ? "application/zstd" : "application/x-ndjson";
    snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"%s-v%d-%s\"", dataset,
             version, file);
    r->body = &s->body;
    return 0;
}
