/*
 * Unit test of export outputs: plain and zstd files hold exactly the lines
 * written, and the reported SHA-256 and sizes are those of the bytes on disk.
 */
#include "export_sink.h"
#include "fwtest.h"

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
    char path[] = "/tmp/fw_export_sink_XXXXXX";
    int fd = mkstemp(path);
    FWT_CHECK(fd >= 0);
    close(fd);
    char err[256], hex[65], want[65];
    uint64_t bytes = 0, lines = 0;
    fw_xsink *s = fw_xsink_open(path, -1, level, err, sizeof err);
    FWT_CHECK_MSG(s != NULL, "%s", err);
    /* Enough lines, one longer than the buffer, to cross buffer flushes. */
    size_t big = 300 * 1024;
    char *long_line = malloc(big);
    memset(long_line, 'x', big);
    size_t expect_len = 0;
    for (int i = 0; i < 20000; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "{\"i\":%d}", i);
        FWT_CHECK(fw_xsink_line(s, line, (size_t)n, err, sizeof err) == 0);
        expect_len += (size_t)n + 1;
        if (i == 777) {
            FWT_CHECK(fw_xsink_line(s, long_line, big, err, sizeof err) == 0);
            expect_len += big + 1;
        }
    }
    FWT_CHECK_MSG(fw_xsink_close(s, 1, hex, &bytes, &lines, err, sizeof err) == 0, "%s", err);
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
}

int main(void)
{
    run(0);
    run(3);
    char err[256];
    FWT_CHECK(fw_xsink_open("/nonexistent-dir/x.jsonl", -1, 0, err, sizeof err) == NULL);
    FWT_CHECK(strstr(err, "could not open file") != NULL);
    return 0;
}
