/*
 * Export outputs; see export_sink.h. Lines collect in a 256 KiB buffer; a
 * full buffer is compressed (or passed through) and handed to the writer,
 * and every byte handed over is also fed to the SHA-256 so that the
 * manifest's hash is computed in the same pass as the write, never by
 * reading the output back.
 */
#include "export_sink.h"

#include "store_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define SINK_BUF (256 * 1024)

struct fw_xsink {
    const fw_store_writer *w;
    void *stream; /* open until the sink is closed or aborted */
    int failed;
    char *name;
    unsigned char *in;
    size_t in_len;
    unsigned char *out;
    size_t out_cap;
    ZSTD_CCtx *zc;
    EVP_MD_CTX *md;
    uint64_t bytes;
    uint64_t lines;
};

static int write_all(fw_xsink *s, const unsigned char *p, size_t n, fw_store_error *err)
{
    if (n == 0)
        return 0;
    if (!EVP_DigestUpdate(s->md, p, n))
        return fw_store_fail(err, FW_STORE_NOMEM, "could not compute the SHA-256 of \"%s\"",
                             s->name);
    s->bytes += n;
    return s->w->write(s->w->ctx, s->stream, p, n, err);
}

/* Pushes the buffered input out; `end` finishes the zstd frame. */
static int flush_in(fw_xsink *s, int end, fw_store_error *err)
{
    if (!s->zc) {
        int rc = write_all(s, s->in, s->in_len, err);
        s->in_len = 0;
        return rc;
    }
    ZSTD_inBuffer in = {s->in, s->in_len, 0};
    ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
    for (;;) {
        ZSTD_outBuffer out = {s->out, s->out_cap, 0};
        size_t left = ZSTD_compressStream2(s->zc, &out, &in, mode);
        if (ZSTD_isError(left))
            return fw_store_fail(err, FW_STORE_OUTPUT, "could not compress \"%s\": %s", s->name,
                                 ZSTD_getErrorName(left));
        if (write_all(s, s->out, out.pos, err))
            return -1;
        if (end ? left == 0 : in.pos == in.size)
            break;
    }
    s->in_len = 0;
    return 0;
}

static void free_sink(fw_xsink *s)
{
    ZSTD_freeCCtx(s->zc);
    EVP_MD_CTX_free(s->md);
    free(s->out);
    free(s->in);
    free(s->name);
    free(s);
}

fw_xsink *fw_xsink_open(const fw_store_writer *w, const char *name, int zstd_level,
                        fw_store_error *err)
{
    fw_xsink *s = calloc(1, sizeof *s);
    if (!s)
        goto oom;
    s->w = w;
    s->name = strdup(name);
    s->in = malloc(SINK_BUF);
    s->md = EVP_MD_CTX_new();
    if (!s->name || !s->in || !s->md || !EVP_DigestInit_ex(s->md, EVP_sha256(), NULL))
        goto oom;
    if (zstd_level != 0) {
        s->out_cap = ZSTD_CStreamOutSize();
        s->out = malloc(s->out_cap);
        s->zc = ZSTD_createCCtx();
        if (!s->out || !s->zc)
            goto oom;
        if (ZSTD_isError(ZSTD_CCtx_setParameter(s->zc, ZSTD_c_compressionLevel, zstd_level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(s->zc, ZSTD_c_checksumFlag, 1))) {
            fw_store_fail(err, FW_STORE_INVALID, "invalid zstd level %d", zstd_level);
            free_sink(s);
            return NULL;
        }
    }
    if (w->open(w->ctx, name, &s->stream, err) != 0) {
        free_sink(s);
        return NULL;
    }
    return s;
oom:
    fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
    if (s)
        free_sink(s);
    return NULL;
}

int fw_xsink_line(fw_xsink *s, const char *line, size_t len, fw_store_error *err)
{
    if (s->failed)
        return fw_store_fail(err, FW_STORE_OUTPUT, "output \"%s\" failed earlier", s->name);
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
        if (flush_in(s, 0, err)) {
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
    fw_store_error ignored;
    s->w->close(s->w->ctx, s->stream, 0, &ignored);
    free_sink(s);
}

int fw_xsink_close(fw_xsink *s, char sha256_hex[65], uint64_t *bytes, uint64_t *lines,
                   fw_store_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (!s)
        return 0;
    if (s->failed || flush_in(s, 1, err))
        goto fail;
    if (!EVP_DigestFinal_ex(s->md, md, &mdlen) || mdlen != 32) {
        fw_store_fail(err, FW_STORE_NOMEM, "could not compute the SHA-256 of \"%s\"", s->name);
        goto fail;
    }
    for (unsigned i = 0; i < 32; i++)
        snprintf(sha256_hex + 2 * i, 3, "%02x", md[i]);
    *bytes = s->bytes;
    *lines = s->lines;
    int rc = s->w->close(s->w->ctx, s->stream, 1, err);
    free_sink(s);
    return rc;
fail:
    fw_xsink_abort(s);
    return -1;
}
