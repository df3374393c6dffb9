/*
 * bench_icount_export — the export's per-row client work, for counting
 * instructions with callgrind, which is exact where timings on a shared
 * machine are not:
 *
 *   valgrind --tool=callgrind --toggle-collect=icount_export_fast bench_icount_export
 *
 * The rows are those of `scripts/bench export` (bench/export.sh: ~1.2 KB of
 * chat with a tool call and its result, one label), in the COPY text format
 * the export streams, as fw_xrun_stream_sql's query returns them. Each
 * toggled function runs all of them through the per-row pipeline of
 * fw_xrun (store/src/export_run.h, fw_xrows: split into columns, the line
 * built, checked, split and written with its SHA-256) into a writer that
 * discards the bytes:
 *
 *   icount_export_fast     with the streaming transform (what exports run),
 *                          without dedupe, as the re-export scripts/bench
 *                          export times
 *   icount_export_dedupe   the same with dedupe on (the default)
 *   icount_export_general  the general path (jansson values), without dedupe
 *   icount_sha256          SHA-256 alone over as many bytes as the lines, a
 *                          part of both above: under valgrind OpenSSL runs
 *                          its portable code, on the machine SHA-NI
 *
 * Prints one JSON object with the row and byte counts; the instruction
 * counts are callgrind's totals divided by the rows (tests/export/
 * test_icount.sh, bench/export.sh).
 */
#include "export_run.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS 500

static int discard_open(void *ctx, const char *name, void **stream, fw_store_error *err)
{
    (void)name;
    (void)err;
    *stream = ctx;
    return 0;
}

static int discard_write(void *ctx, void *stream, const void *data, size_t len, fw_store_error *err)
{
    (void)ctx;
    (void)data;
    (void)err;
    *(unsigned long long *)stream += len;
    return 0;
}

static int discard_close(void *ctx, void *stream, int ok, fw_store_error *err)
{
    (void)ctx;
    (void)stream;
    (void)ok;
    (void)err;
    return 0;
}

/* Row n as the stream query's COPY returns it for bench/export.sh's data. */
static size_t make_row(char *out, size_t size, int n)
{
    char q[512], a[512];
    size_t ql = 0, al = 0;
    for (int i = 0; i < 8; i++)
        ql +=
            (size_t)snprintf(q + ql, sizeof q - ql, "where is my order and when will it arrive? ");
    for (int i = 0; i < 10; i++)
        al += (size_t)snprintf(a + al, sizeof a - al, "your order has shipped and arrives soon. ");
    int len = snprintf(
        out, size,
        "01900000-0000-7000-8000-%012x\tf\t\\N\tconv-%d\t\\N\t\\N\tbench\t\t\tgpt-x\t\\N\t\\N\t"
        "You are a helpful assistant for an online shop. Answer briefly and politely.\t[]\t"
        "[{\"role\": \"user\", \"parts\": [{\"type\": \"text\", \"content\": \"Question %d: "
        "%s\"}]}, "
        "{\"role\": \"assistant\", \"parts\": [{\"id\": \"call_%d\", \"name\": \"get_order\", "
        "\"type\": \"tool_call\", \"arguments\": {\"order_id\": \"%d\"}}]}, {\"role\": \"tool\", "
        "\"parts\": [{\"id\": \"call_%d\", \"type\": \"tool_call_response\", \"response\": "
        "{\"status\": \"shipped\"}}]}]\t"
        "[{\"role\": \"assistant\", \"parts\": [{\"type\": \"text\", \"content\": \"Answer %d: "
        "%s\"}]}]\t\\N\t{\"quality\": %d}\t\\N\t\\N\t\\N\n",
        n, n / 3, n, q, n, n, n, n, a, 1 + n % 5);
    return len > 0 && (size_t)len < size ? (size_t)len : 0;
}

typedef struct {
    char *data[ROWS];
    size_t len[ROWS];
} rowset;

static void make_rows(rowset *rs)
{
    for (int i = 0; i < ROWS; i++) {
        rs->data[i] = malloc(4096);
        rs->len[i] = rs->data[i] ? make_row(rs->data[i], 4096, i + 1) : 0;
        if (!rs->len[i]) {
            fprintf(stderr, "bench_icount_export: out of memory\n");
            exit(1);
        }
    }
}

/* Runs every row of rs through a pipeline opened before the count starts. */
static int run_rows(fw_xrows *x, rowset *rs, fw_xrows_result *res)
{
    for (int i = 0; i < ROWS; i++)
        if (fw_xrows_add(x, rs->data[i], rs->len[i]))
            return -1;
    return fw_xrows_close(x, res);
}

__attribute__((noinline)) int icount_export_fast(fw_xrows *x, rowset *rs, fw_xrows_result *res);
__attribute__((noinline)) int icount_export_fast(fw_xrows *x, rowset *rs, fw_xrows_result *res)
{
    return run_rows(x, rs, res);
}

__attribute__((noinline)) int icount_export_dedupe(fw_xrows *x, rowset *rs, fw_xrows_result *res);
__attribute__((noinline)) int icount_export_dedupe(fw_xrows *x, rowset *rs, fw_xrows_result *res)
{
    return run_rows(x, rs, res);
}

__attribute__((noinline)) int icount_export_general(fw_xrows *x, rowset *rs, fw_xrows_result *res);
__attribute__((noinline)) int icount_export_general(fw_xrows *x, rowset *rs, fw_xrows_result *res)
{
    return run_rows(x, rs, res);
}

__attribute__((noinline)) int icount_sha256(const unsigned char *p, size_t n);
__attribute__((noinline)) int icount_sha256(const unsigned char *p, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    /* In the sink's 256 KiB pieces. */
    for (size_t off = 0; ok && off < n; off += 256 * 1024)
        ok = EVP_DigestUpdate(c, p + off, n - off < 256 * 1024 ? n - off : 256 * 1024);
    ok = ok && EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    return ok ? 0 : -1;
}

static int measure(int fast, int dedupe, fw_xrows_result *res, unsigned long long *written)
{
    static rowset rs;
    fw_xopts o;
    fw_store_error err;
    fw_store_writer w = {discard_open, discard_write, discard_close, written, NULL};
    fw_xopts_init(&o); /* weights on, 80/10/10, seed "0" */
    if (fw_xfmt_parse("openai-chat", NULL, &o.fmt) != 0)
        return -1;
    o.dedupe = dedupe;
    make_rows(&rs);
    fw_xrows *x = fw_xrows_open(&o, NULL, &w, fast, &err);
    if (!x) {
        fprintf(stderr, "bench_icount_export: %s\n", err.message);
        return -1;
    }
    int rc = !fast    ? icount_export_general(x, &rs, res)
             : dedupe ? icount_export_dedupe(x, &rs, res)
                      : icount_export_fast(x, &rs, res);
    if (rc)
        fprintf(stderr, "bench_icount_export: %s\n", err.message);
    for (int i = 0; i < ROWS; i++)
        free(rs.data[i]);
    return rc;
}

int main(void)
{
    fw_xrows_result fast, dedupe, general;
    unsigned long long fast_bytes = 0, dedupe_bytes = 0, general_bytes = 0;
    if (measure(1, 0, &fast, &fast_bytes) || measure(1, 1, &dedupe, &dedupe_bytes) ||
        measure(0, 0, &general, &general_bytes))
        return 1;
    /* The paths must have written the same bytes, the fast ones by themselves. */
    if (strcmp(fast.sha256, general.sha256) != 0 || strcmp(fast.sha256, dedupe.sha256) != 0 ||
        fast.lines != ROWS || fast.fast_lines != ROWS || dedupe.fast_lines != ROWS) {
        fprintf(stderr,
                "bench_icount_export: the paths disagree (sha256 %s / %s, lines %lld, by the "
                "transform %lld)\n",
                fast.sha256, general.sha256, fast.lines, fast.fast_lines);
        return 1;
    }
    unsigned char *bytes = calloc(1, (size_t)fast_bytes + 1);
    if (!bytes || icount_sha256(bytes, (size_t)fast_bytes)) {
        fprintf(stderr, "bench_icount_export: out of memory\n");
        return 1;
    }
    free(bytes);
    printf("{\"rows\":%d,\"bytes\":%llu}\n", ROWS, fast_bytes);
    return 0;
}
