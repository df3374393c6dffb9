/*
 * Export output files; see export_sink.h. Lines collect in a 256 KiB
 * buffer; a full buffer is compressed (or passed through) and written, and
 * every byte written is also fed to the SHA-256 so that the manifest's hash
 * is computed in the same pass as the write, never by reading the file back.
 */
#include "export_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define SINK_BUF (256 * 1024)

struct fw_xsink {
    int fd;
    int own_fd;
    int failed;
    char *path;
    unsigned char *in;
    size_t in_len;
    unsigned char *out;
    size_t out_cap;
    ZSTD_CCtx *zc;
    EVP_MD_CTX *md;
    uint64_t bytes;
    uint64_t lines;
};

static int write_all(fw_xsink *s, const unsigned char *p, size_t n, char *errbuf, size_t errsize)
{
    if (n && !EVP_DigestUpdate(s->md, p, n)) {
        snprintf(errbuf, errsize, "could not compute the SHA-256 of \"%s\"", s->path);
        return -1;
    }
    s->bytes += n;
    while (n > 0) {
        ssize_t w = write(s->fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            snprintf(errbuf, errsize, "could not write to \"%s\": %s", s->path, strerror(errno));
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Pushes the buffered input out; `end` finishes the zstd frame. */
static int flush_in(fw_xsink *s, int end, char *errbuf, size_t errsize)
{
    if (!s->zc) {
        int rc = write_all(s, s->in, s->in_len, errbuf, errsize);
        s->in_len = 0;
        return rc;
    }
    ZSTD_inBuffer in = {s->in, s->in_len, 0};
    ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
    for (;;) {
        ZSTD_outBuffer out = {s->out, s->out_cap, 0};
        size_t left = ZSTD_compressStream2(s->zc, &out, &in, mode);
        if (ZSTD_isError(left)) {
            snprintf(errbuf, errsize, "could not compress \"%s\": %s", s->path,
                     ZSTD_getErrorName(left));
            return -1;
        }
        if (write_all(s, s->out, out.pos, errbuf, errsize))
            return -1;
        if (end ? left == 0 : in.pos == in.size)
            break;
    }
    s->in_len = 0;
    return 0;
}

fw_xsink *fw_xsink_open(const char *path, int fd, int zstd_level, char *errbuf, size_t errsize)
{
    fw_xsink *s = calloc(1, sizeof *s);
    if (!s)
        goto oom;
    s->fd = -1;
    s->path = strdup(path ? path : "(stdout)");
    s->in = malloc(SINK_BUF);
    s->md = EVP_MD_CTX_new();
    if (!s->path || !s->in || !s->md || !EVP_DigestInit_ex(s->md, EVP_sha256(), NULL))
        goto oom;
    if (zstd_level != 0) {
        s->out_cap = ZSTD_CStreamOutSize();
        s->out = malloc(s->out_cap);
        s->zc = ZSTD_createCCtx();
        if (!s->out || !s->zc)
            goto oom;
        if (ZSTD_isError(ZSTD_CCtx_setParameter(s->zc, ZSTD_c_compressionLevel, zstd_level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(s->zc, ZSTD_c_checksumFlag, 1))) {
            snprintf(errbuf, errsize, "invalid zstd level %d", zstd_level);
            fw_xsink_abort(s);
            return NULL;
        }
    }
    if (path) {
        s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (s->fd < 0) {
            snprintf(errbuf, errsize, "could not open file \"%s\" for writing: %s", path,
                     strerror(errno));
            fw_xsink_abort(s);
            return NULL;
        }
        s->own_fd = 1;
    } else {
        s->fd = fd;
    }
    return s;
oom:
    snprintf(errbuf, errsize, "out of memory");
    fw_xsink_abort(s);
    return NULL;
}

int fw_xsink_line(fw_xsink *s, const char *line, size_t len, char *errbuf, size_t errsize)
{
    if (s->failed) {
        snprintf(errbuf, errsize, "output \"%s\" failed earlier", s->path);
        return -1;
    }
    s->lines++;
    while (len + 1 > SINK_BUF - s->in_len) {
        /* Fill the buffer, flush, repeat: long lines need no large buffer. */
        size_t take = SINK_BUF - s->in_len;
        if (take > len)
            take = len;
        memcpy(s->in + s->in_len, line, take);
        s->in_len += take;
        line += take;
        len -= take;
        if (flush_in(s, 0, errbuf, errsize)) {
            s->failed = 1;
            return -1;
        }
    }
    memcpy(s->in + s->in_len, line, len);
    s->in_len += len;
    s->in[s->in_len++] = '\n';
    return 0;
}

void fw_xsink_abort(fw_xsink *s)
{
    if (!s)
        return;
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    ZSTD_freeCCtx(s->zc);
    EVP_MD_CTX_free(s->md);
    free(s->out);
    free(s->in);
    free(s->path);
    free(s);
}

int fw_xsink_close(fw_xsink *s, int durable, char sha256_hex[65], uint64_t *bytes, uint64_t *lines,
                   char *errbuf, size_t errsize)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int rc = -1;

    if (!s)
        return 0;
    if (s->failed || flush_in(s, 1, errbuf, errsize))
        goto done;
    if (!EVP_DigestFinal_ex(s->md, md, &mdlen) || mdlen != 32) {
        snprintf(errbuf, errsize, "could not compute the SHA-256 of \"%s\"", s->path);
        goto done;
    }
    for (unsigned i = 0; i < 32; i++)
        snprintf(sha256_hex + 2 * i, 3, "%02x", md[i]);
    *bytes = s->bytes;
    *lines = s->lines;
    if (s->own_fd) {
        if (durable && fsync(s->fd) != 0) {
            snprintf(errbuf, errsize, "could not fsync file \"%s\": %s", s->path, strerror(errno));
            goto done;
        }
        int fd = s->fd;
        s->fd = -1;
        if (close(fd) != 0) {
            snprintf(errbuf, errsize, "could not close file \"%s\": %s", s->path, strerror(errno));
            goto done;
        }
    }
    rc = 0;
done:
    fw_xsink_abort(s);
    return rc;
}
