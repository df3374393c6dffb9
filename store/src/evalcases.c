/*
 * The cases of a recorded eval dataset version (flywheel/store.h,
 * fw_store_eval_cases): the version is re-exported by the export engine
 * (fw_xrun) into memory, so that the cases are byte for byte the lines
 * `flywheel export --dataset NAME --version N` writes — checked against the
 * version's recorded sha256s before a single case is handed out — and no
 * file is written anywhere. A version recorded with zstd is decompressed
 * here. The lines are delivered only after the re-export succeeded, so a
 * caller never sees part of a version.
 */
#include "store_int.h"

#include "fw_buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

typedef struct {
    fw_buf split[FW_XSPLIT_COUNT]; /* the lines of each split, uncompressed */
} mem_out;

typedef struct {
    mem_out *out;
    fw_buf *dst; /* NULL: a stream that is not kept (the manifest) */
    int zst;
    ZSTD_DStream *ds;
} mem_stream;

static int mem_open(void *ctx, const char *name, void **stream, fw_store_error *err)
{
    mem_out *o = ctx;
    mem_stream *s = calloc(1, sizeof *s);
    if (!s)
        return fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
    s->out = o;
    for (int i = 0; i < FW_XSPLIT_COUNT; i++) {
        size_t n = strlen(fw_xsplit_name((fw_xsplit)i));
        if (strncmp(name, fw_xsplit_name((fw_xsplit)i), n) == 0 &&
            strncmp(name + n, ".jsonl", 6) == 0) {
            s->dst = &o->split[i];
            s->zst = strcmp(name + n + 6, ".zst") == 0;
        }
    }
    if (s->zst && (s->ds = ZSTD_createDStream()) == NULL) {
        free(s);
        return fw_store_fail(err, FW_STORE_NOMEM, "out of memory");
    }
    if (s->ds)
        ZSTD_initDStream(s->ds);
    *stream = s;
    return 0;
}

static int mem_write(void *ctx, void *stream, const void *data, size_t len, fw_store_error *err)
{
    (void)ctx;
    mem_stream *s = stream;
    if (!s->dst)
        return 0;
    if (!s->zst) {
        fw_buf_add(s->dst, data, len);
    } else {
        ZSTD_inBuffer in = {data, len, 0};
        while (in.pos < in.size && !s->dst->oom) {
            char chunk[65536];
            ZSTD_outBuffer ob = {chunk, sizeof chunk, 0};
            size_t r = ZSTD_decompressStream(s->ds, &ob, &in);
            if (ZSTD_isError(r))
                return fw_store_fail(err, FW_STORE_OUTPUT, "could not decompress the cases: %s",
                                     ZSTD_getErrorName(r));
            fw_buf_add(s->dst, chunk, ob.pos);
        }
    }
    if (s->dst->oom)
        return fw_store_fail(err, FW_STORE_NOMEM, "out of memory holding the cases");
    return 0;
}

static int mem_close(void *ctx, void *stream, int ok, fw_store_error *err)
{
    (void)ctx;
    (void)ok;
    (void)err;
    mem_stream *s = stream;
    ZSTD_freeDStream(s->ds);
    free(s);
    return 0;
}

int fw_store_eval_cases(PGconn *conn, const char *dataset, int version, fw_store_case_fn fn,
                        void *ctx, fw_store_error *err)
{
    fw_store_error_clear(err);
    if (version < 1)
        return fw_store_fail(err, FW_STORE_INVALID, "invalid version %d of dataset \"%s\"", version,
                             dataset);
    mem_out out;
    memset(&out, 0, sizeof out);
    fw_store_writer w = {mem_open, mem_write, mem_close, &out, NULL};
    fw_xopts xo;
    fw_xopts_init(&xo);
    fw_xrun_target t = {0};
    fw_xrun_result res;
    t.dataset = dataset;
    t.version = version;
    t.writer = &w;
    int rc = fw_xrun(conn, &xo, &t, &res, err);
    if (rc != 0 && err->code == FW_STORE_MISMATCH) {
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg, "%s", err->message);
        fw_store_fail(err, FW_STORE_MISMATCH,
                      "dataset \"%s\" version %d does not re-export identically: %.700s\n"
                      "hint: The cases would not be the ones recorded; re-record the version.",
                      dataset, version, msg);
    } else if (rc == 0 && xo.fmt != FW_XFMT_EVAL) {
        rc = fw_store_fail(err, FW_STORE_INVALID,
                           "dataset \"%s\" version %d is in format \"%s\", not \"eval\"\n"
                           "hint: Record an eval set with `flywheel export --format eval "
                           "--dataset NAME`.",
                           dataset, version, fw_xfmt_name(xo.fmt));
    }
    for (int s = 0; rc == 0 && s < FW_XSPLIT_COUNT; s++) {
        const char *p = out.split[s].data, *end = p + out.split[s].len;
        while (rc == 0 && p && p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (l > 0 && fn(ctx, fw_xsplit_name((fw_xsplit)s), p, l, err) != 0) {
                if (err->code == FW_STORE_OK)
                    fw_store_fail(err, FW_STORE_INVALID,
                                  "a case of dataset \"%s\" version %d "
                                  "was refused",
                                  dataset, version);
                rc = -1;
            }
            p += l + 1;
        }
    }
    for (int s = 0; s < FW_XSPLIT_COUNT; s++)
        fw_buf_free(&out.split[s]);
    return rc;
}
