/*
 * The stock writer of files in a directory (flywheel/store.h). A stream is
 * one open file; close(ok = 1) fsyncs and closes it, close(ok = 0) closes
 * it and leaves it as it is. This is the one place where a later change can
 * make outputs atomic (write dir/.name.tmp, rename on ok, unlink on
 * failure): the exporter already reports, for every stream, whether it
 * ended complete or with an error.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    fw_store_writer w;
    char *dir;
} dir_writer;

typedef struct {
    int fd;
    char path[4096];
} dir_stream;

/* Creates dir and its missing parents, like mkdir -p. */
static int mkdir_p(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int dir_open(void *ctx, const char *name, void **stream, fw_store_error *err)
{
    dir_writer *d = ctx;
    dir_stream *s = calloc(1, sizeof *s);
    if (!s)
        return fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
    if (snprintf(s->path, sizeof s->path, "%s/%s", d->dir, name) >= (int)sizeof s->path) {
        free(s);
        return fw_store_fail(err, FW_STORE_OUTPUT, "file name too long: \"%s/%s\"", d->dir, name);
    }
    s->fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        int e = errno;
        fw_store_fail(err, FW_STORE_OUTPUT, "could not open file \"%s\": %s", s->path, strerror(e));
        free(s);
        return -1;
    }
    *stream = s;
    return 0;
}

static int dir_write(void *ctx, void *stream, const void *data, size_t len, fw_store_error *err)
{
    (void)ctx;
    dir_stream *s = stream;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(s->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fw_store_fail(err, FW_STORE_OUTPUT, "could not write file \"%s\": %s", s->path,
                                 strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int dir_close(void *ctx, void *stream, int ok, fw_store_error *err)
{
    (void)ctx;
    dir_stream *s = stream;
    int rc = 0;
    if (ok && fsync(s->fd) != 0)
        rc = fw_store_fail(err, FW_STORE_OUTPUT, "could not fsync file \"%s\": %s", s->path,
                           strerror(errno));
    if (close(s->fd) != 0 && rc == 0 && ok)
        rc = fw_store_fail(err, FW_STORE_OUTPUT, "could not close file \"%s\": %s", s->path,
                           strerror(errno));
    free(s);
    return rc;
}

fw_store_writer *fw_store_dir_writer_new(const char *dir, fw_store_error *err)
{
    if (!dir || !*dir) {
        fw_store_fail(err, FW_STORE_INVALID, "no output directory given");
        return NULL;
    }
    if (mkdir_p(dir) != 0) {
        fw_store_fail(err, FW_STORE_OUTPUT, "could not create directory \"%s\": %s", dir,
                      strerror(errno));
        return NULL;
    }
    dir_writer *d = calloc(1, sizeof *d);
    if (!d || !(d->dir = strdup(dir))) {
        free(d);
        fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
        return NULL;
    }
    d->w.open = dir_open;
    d->w.write = dir_write;
    d->w.close = dir_close;
    d->w.ctx = d;
    return &d->w;
}

void fw_store_dir_writer_free(fw_store_writer *w)
{
    if (!w)
        return;
    dir_writer *d = w->ctx;
    free(d->dir);
    free(d);
}
