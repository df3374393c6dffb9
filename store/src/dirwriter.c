/*
 * The stock writer of files in a directory (flywheel/store.h), all or
 * nothing. A stream is written to a hidden temporary file beside its final
 * name (dir/.NAME.XXXXXX); close(ok = 1) fsyncs it and keeps it staged,
 * close(ok = 0) removes it. Nothing under a final name changes until
 * finish(ok = 1), which the exporter calls only after the whole export
 * succeeded (and its dataset version committed): it removes the old
 * manifest.json first, renames the staged files into place, the manifest
 * last, and fsyncs the directory. So at every instant the directory holds
 * either the previous complete export, or files without a manifest (a
 * crash in the middle of the renames), or the new complete export; a
 * manifest never describes files it did not hash. finish(ok = 0), or
 * freeing the writer before finish, removes every staged file.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_STAGED 16

typedef struct {
    char tmp[4096];
    char final[4096];
    int manifest;
} staged_file;

typedef struct {
    fw_store_writer w;
    char *dir;
    staged_file staged[MAX_STAGED];
    int nstaged;
} dir_writer;

typedef struct {
    int fd;
    staged_file f;
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
    if (strchr(name, '/') || name[0] == '.' || !name[0])
        return fw_store_fail(err, FW_STORE_OUTPUT, "invalid output file name \"%s\"", name);
    dir_stream *s = calloc(1, sizeof *s);
    if (!s)
        return fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
    if (snprintf(s->f.final, sizeof s->f.final, "%s/%s", d->dir, name) >= (int)sizeof s->f.final ||
        snprintf(s->f.tmp, sizeof s->f.tmp, "%s/.%s.XXXXXX", d->dir, name) >=
            (int)sizeof s->f.tmp) {
        free(s);
        return fw_store_fail(err, FW_STORE_OUTPUT, "file name too long: \"%s/%s\"", d->dir, name);
    }
    s->f.manifest = strcmp(name, "manifest.json") == 0;
    s->fd = mkostemp(s->f.tmp, O_CLOEXEC);
    if (s->fd < 0) {
        int e = errno;
        fw_store_fail(err, FW_STORE_OUTPUT, "could not create file \"%s\": %s", s->f.tmp,
                      strerror(e));
        free(s);
        return -1;
    }
    /* mkostemp creates 0600; the outputs are meant to be shared. */
    if (fchmod(s->fd, 0644) != 0) {
        int e = errno;
        close(s->fd);
        unlink(s->f.tmp);
        fw_store_fail(err, FW_STORE_OUTPUT, "could not set the mode of file \"%s\": %s", s->f.tmp,
                      strerror(e));
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
            return fw_store_fail(err, FW_STORE_OUTPUT, "could not write file \"%s\": %s", s->f.tmp,
                                 strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int dir_close(void *ctx, void *stream, int ok, fw_store_error *err)
{
    dir_writer *d = ctx;
    dir_stream *s = stream;
    int rc = 0;
    if (ok && fsync(s->fd) != 0)
        rc = fw_store_fail(err, FW_STORE_OUTPUT, "could not fsync file \"%s\": %s", s->f.tmp,
                           strerror(errno));
    if (close(s->fd) != 0 && rc == 0 && ok)
        rc = fw_store_fail(err, FW_STORE_OUTPUT, "could not close file \"%s\": %s", s->f.tmp,
                           strerror(errno));
    if (ok && rc == 0 && d->nstaged == MAX_STAGED)
        rc = fw_store_fail(err, FW_STORE_OUTPUT, "too many output files (at most %d)", MAX_STAGED);
    if (ok && rc == 0)
        d->staged[d->nstaged++] = s->f;
    else
        unlink(s->f.tmp);
    free(s);
    return rc;
}

static void discard(dir_writer *d)
{
    for (int i = 0; i < d->nstaged; i++)
        unlink(d->staged[i].tmp);
    d->nstaged = 0;
}

static int publish(dir_writer *d, fw_store_error *err)
{
    int have_manifest = 0;
    for (int i = 0; i < d->nstaged; i++)
        have_manifest |= d->staged[i].manifest;
    /* The old manifest goes first: from here until the new one is in place
     * the directory has no manifest, so it never vouches for a mix. */
    if (have_manifest) {
        char old[4096];
        snprintf(old, sizeof old, "%s/manifest.json", d->dir);
        if (unlink(old) != 0 && errno != ENOENT)
            return fw_store_fail(err, FW_STORE_OUTPUT, "could not remove file \"%s\": %s", old,
                                 strerror(errno));
    }
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < d->nstaged; i++) {
            staged_file *f = &d->staged[i];
            if (f->manifest != pass || !f->tmp[0])
                continue;
            if (rename(f->tmp, f->final) != 0)
                return fw_store_fail(err, FW_STORE_OUTPUT,
                                     "could not rename file \"%s\" to \"%s\": %s", f->tmp, f->final,
                                     strerror(errno));
            f->tmp[0] = '\0';
        }
    d->nstaged = 0;
    int fd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return fw_store_fail(err, FW_STORE_OUTPUT, "could not fsync directory \"%s\": %s", d->dir,
                             strerror(e));
    }
    close(fd);
    return 0;
}

static int dir_finish(void *ctx, int ok, fw_store_error *err)
{
    dir_writer *d = ctx;
    int rc = ok ? publish(d, err) : 0;
    discard(d); /* what publish did not rename, on failure */
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
    d->w.finish = dir_finish;
    d->w.ctx = d;
    return &d->w;
}

void fw_store_dir_writer_free(fw_store_writer *w)
{
    if (!w)
        return;
    dir_writer *d = w->ctx;
    discard(d);
    free(d->dir);
    free(d);
}
