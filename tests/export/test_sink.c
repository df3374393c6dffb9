/*
 * Unit test of export outputs: plain and zstd files hold exactly the lines
 * written, the reported SHA-256 and sizes are those of the bytes on disk,
 * and every stream ends in exactly one writer close that says whether the
 * output is complete (ok = 1) or ended with an error (ok = 0).
 */
#include "export_sink.h"
#include "fwtest.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <zstd.h>

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    FWT_CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    FWT_CHECK(b && fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void sha_hex(const unsigned char *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int l = 0;
    EVP_Digest(p, n, md, &l, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void run(int level)
{
    char dir[] = "/tmp/fw_export_sink_XXXXXX", path[64];
    FWT_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/out.jsonl", dir);
    fw_store_error err;
    char hex[65], want[65];
    uint64_t bytes = 0, lines = 0;
    fw_store_writer *w = fw_store_dir_writer_new(dir, &err);
    FWT_CHECK_MSG(w != NULL, "%s", err.message);
    fw_xsink *s = fw_xsink_open(w, "out.jsonl", level, &err);
    FWT_CHECK_MSG(s != NULL, "%s", err.message);
    /* Enough lines, one longer than the buffer, to cross buffer flushes. */
    size_t big = 300 * 1024;
    char *long_line = malloc(big);
    memset(long_line, 'x', big);
    size_t expect_len = 0;
    for (int i = 0; i < 20000; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "{\"i\":%d}", i);
        FWT_CHECK(fw_xsink_line(s, line, (size_t)n, &err) == 0);
        expect_len += (size_t)n + 1;
        if (i == 777) {
            FWT_CHECK(fw_xsink_line(s, long_line, big, &err) == 0);
            expect_len += big + 1;
        }
    }
    FWT_CHECK_MSG(fw_xsink_close(s, hex, &bytes, &lines, &err) == 0, "%s", err.message);
    FWT_CHECK_MSG(w->finish(w->ctx, 1, &err) == 0, "%s", err.message);
    FWT_CHECK_EQ_INT(lines, 20001);
    size_t flen;
    unsigned char *file = slurp(path, &flen);
    FWT_CHECK_EQ_INT(bytes, flen);
    sha_hex(file, flen, want);
    FWT_CHECK_EQ_STR(hex, want);
    unsigned char *plain = file;
    size_t plen = flen;
    if (level) {
        unsigned long long sz = ZSTD_getFrameContentSize(file, flen);
        (void)sz;
        plain = malloc(expect_len + 1);
        plen = ZSTD_decompress(plain, expect_len + 1, file, flen);
        FWT_CHECK(!ZSTD_isError(plen));
        FWT_CHECK(flen < plen / 4);
    }
    FWT_CHECK_EQ_INT(plen, expect_len);
    FWT_CHECK(memcmp(plain, "{\"i\":0}\n{\"i\":1}\n", 16) == 0);
    FWT_CHECK(plain[plen - 1] == '\n');
    if (plain != file)
        free(plain);
    free(file);
    free(long_line);
    unlink(path);
    rmdir(dir);
    fw_store_dir_writer_free(w);
}

/* A writer that records how its stream ended and fails the n-th write. */
typedef struct {
    int opened, closed, ok, writes, fail_at;
} probe;

static int p_open(void *ctx, const char *name, void **stream, fw_store_error *err)
{
    (void)name;
    (void)err;
    probe *p = ctx;
    p->opened++;
    *stream = p;
    return 0;
}

static int p_write(void *ctx, void *stream, const void *data, size_t len, fw_store_error *err)
{
    (void)stream;
    (void)data;
    (void)len;
    probe *p = ctx;
    if (++p->writes == p->fail_at) {
        err->code = FW_STORE_OUTPUT;
        snprintf(err->message, sizeof err->message, "disk full");
        return -1;
    }
    return 0;
}

static int p_close(void *ctx, void *stream, int ok, fw_store_error *err)
{
    (void)stream;
    (void)err;
    probe *p = ctx;
    p->closed++;
    p->ok = ok;
    return 0;
}

static void stream_endings(void)
{
    char hex[65], line[1024];
    uint64_t bytes, lines;
    fw_store_error err;
    memset(line, 'y', sizeof line);
    /* Complete: closed once with ok = 1. */
    probe p = {0};
    fw_store_writer w = {p_open, p_write, p_close, &p, NULL};
    fw_xsink *s = fw_xsink_open(&w, "a.jsonl", 0, &err);
    FWT_CHECK(s && fw_xsink_line(s, "{}", 2, &err) == 0);
    FWT_CHECK(fw_xsink_close(s, hex, &bytes, &lines, &err) == 0);
    FWT_CHECK(p.opened == 1 && p.closed == 1 && p.ok == 1);
    /* Abandoned (the export failed elsewhere): closed once with ok = 0. */
    memset(&p, 0, sizeof p);
    s = fw_xsink_open(&w, "b.jsonl", 0, &err);
    FWT_CHECK(s && fw_xsink_line(s, "{}", 2, &err) == 0);
    fw_xsink_abort(s);
    FWT_CHECK(p.closed == 1 && p.ok == 0);
    /* The writer fails mid-stream: the error comes back and the stream ends
     * with ok = 0, never as a complete output. */
    memset(&p, 0, sizeof p);
    p.fail_at = 1;
    s = fw_xsink_open(&w, "c.jsonl", 0, &err);
    int failed = 0;
    for (int i = 0; i < 1000 && !failed; i++)
        failed = fw_xsink_line(s, line, sizeof line, &err) != 0;
    FWT_CHECK(failed || fw_xsink_close(s, hex, &bytes, &lines, &err) != 0);
    if (failed)
        FWT_CHECK(fw_xsink_close(s, hex, &bytes, &lines, &err) != 0);
    FWT_CHECK_EQ_STR(err.message, "disk full");
    FWT_CHECK(p.closed == 1 && p.ok == 0);
}

/* Writes `text` as stream `name` of w and closes it with ok. */
static void put(fw_store_writer *w, const char *name, const char *text, int ok)
{
    fw_store_error err;
    void *st = NULL;
    FWT_CHECK_MSG(w->open(w->ctx, name, &st, &err) == 0, "%s", err.message);
    FWT_CHECK(w->write(w->ctx, st, text, strlen(text), &err) == 0);
    FWT_CHECK_MSG(w->close(w->ctx, st, ok, &err) == 0, "%s", err.message);
}

static int count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    FWT_CHECK(d != NULL);
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void file_is(const char *dir, const char *name, const char *want)
{
    char path[256];
    size_t n;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unsigned char *got = slurp(path, &n);
    FWT_CHECK_MSG(n == strlen(want) && memcmp(got, want, n) == 0, "%s: \"%.*s\", want \"%s\"", name,
                  (int)n, (const char *)got, want);
    free(got);
}

/* Issue 11 item 1: the directory writer is all or nothing. Nothing under a
 * final name changes before finish(ok = 1); a failed export (finish(ok = 0),
 * or a writer freed without finish) leaves the previous files as they were
 * and no temporary file behind. */
static void dir_writer_all_or_nothing(void)
{
    char dir[] = "/tmp/fw_export_atomic_XXXXXX";
    fw_store_error err;
    FWT_CHECK(mkdtemp(dir) != NULL);
    fw_store_writer *w = fw_store_dir_writer_new(dir, &err);
    FWT_CHECK(w != NULL);
    put(w, "train.jsonl", "old\n", 1);
    put(w, "manifest.json", "{\"old\": 1}", 1);
    FWT_CHECK(count_entries(dir) == 2); /* staged under hidden names */
    FWT_CHECK(w->finish(w->ctx, 1, &err) == 0);
    file_is(dir, "train.jsonl", "old\n");
    file_is(dir, "manifest.json", "{\"old\": 1}");
    fw_store_dir_writer_free(w);

    /* A failed export: one stream complete, one abandoned, then finish(0). */
    w = fw_store_dir_writer_new(dir, &err);
    put(w, "train.jsonl", "new, complete\n", 1);
    put(w, "test.jsonl", "new, cut mid-li", 0);
    file_is(dir, "train.jsonl", "old\n");
    FWT_CHECK(w->finish(w->ctx, 0, &err) == 0);
    file_is(dir, "train.jsonl", "old\n");
    file_is(dir, "manifest.json", "{\"old\": 1}");
    FWT_CHECK_EQ_INT(count_entries(dir), 2);
    fw_store_dir_writer_free(w);

    /* A writer freed without finish (the caller gave up) discards too. */
    w = fw_store_dir_writer_new(dir, &err);
    put(w, "train.jsonl", "never\n", 1);
    fw_store_dir_writer_free(w);
    file_is(dir, "train.jsonl", "old\n");
    FWT_CHECK_EQ_INT(count_entries(dir), 2);

    /* A new complete export replaces the files, manifest included. */
    w = fw_store_dir_writer_new(dir, &err);
    put(w, "train.jsonl", "new\n", 1);
    put(w, "manifest.json", "{\"new\": 1}", 1);
    FWT_CHECK(w->finish(w->ctx, 1, &err) == 0);
    file_is(dir, "train.jsonl", "new\n");
    file_is(dir, "manifest.json", "{\"new\": 1}");
    FWT_CHECK_EQ_INT(count_entries(dir), 2);
    fw_store_dir_writer_free(w);

    char path[256];
    snprintf(path, sizeof path, "%s/train.jsonl", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    unlink(path);
    FWT_CHECK(rmdir(dir) == 0);
}

int main(void)
{
    dir_writer_all_or_nothing();
    run(0);
    run(3);
    stream_endings();
    fw_store_error err;
    FWT_CHECK(fw_store_dir_writer_new("/proc/nonexistent-dir", &err) == NULL);
    FWT_CHECK(strstr(err.message, "could not create directory") != NULL);
    FWT_CHECK_EQ_INT(err.code, FW_STORE_OUTPUT);
    return 0;
}
