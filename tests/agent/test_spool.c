/*
 * The spool: records round-trip in order across segments and reopenings;
 * commit deletes consumed segments and survives a restart; rewind re-reads;
 * the size cap refuses records; a torn tail and a flipped byte are detected,
 * counted and skipped; a second opener is refused by the lock; CRC-32C
 * matches its check value.
 */
#include "fwtest.h"
#include "crc32c.h"
#include "spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static fws *open_spool(uint64_t max, uint64_t seg)
{
    char err[512];
    fws *s = fws_open(dir, max, seg, err, sizeof err);
    FWT_CHECK_MSG(s != NULL, "fws_open: %s", err);
    return s;
}

static int read_one(fws *s, int *value)
{
    unsigned char *buf;
    const void *k, *v;
    size_t kl, vl;
    int rc = fws_next(s, &buf, &k, &kl, &v, &vl);
    if (rc != 1)
        return rc;
    char key[32];
    FWT_CHECK(kl < sizeof key);
    memcpy(key, k, kl);
    key[kl] = 0;
    FWT_CHECK(vl == 1000);
    const unsigned char *vb = v;
    for (size_t i = 0; i < vl; i++)
        FWT_CHECK(vb[i] == (unsigned char)(i % 251));
    *value = (int)strtol(key + 1, NULL, 10);
    free(buf);
    return 1;
}

static int last_segment(char *path, size_t size)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char best[300] = "";
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".fwspool") && strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", de->d_name);
    closedir(d);
    if (!*best)
        return -1;
    snprintf(path, size, "%s/%s", dir, best);
    return 0;
}

static void append_n(fws *s, int from, int n)
{
    unsigned char val[1000];
    for (size_t i = 0; i < sizeof val; i++)
        val[i] = (unsigned char)(i % 251);
    for (int i = from; i < from + n; i++) {
        char key[32];
        snprintf(key, sizeof key, "k%d", i);
        FWT_CHECK_EQ_INT(fws_append(s, key, strlen(key), val, sizeof val), FWS_OK);
    }
}

int main(void)
{
    FWT_CHECK_EQ_INT(fw_crc32c(0, "123456789", 9), 0xE3069283u);
    snprintf(dir, sizeof dir, "/tmp/fw_agent_spool_%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    fwt_run(cmd);

    /* Small segments: 100 records of ~1 KB over several files. */
    fws *s = open_spool(1 << 20, 8192);
    append_n(s, 0, 100);
    FWT_CHECK_EQ_INT(fws_pending(s), 100);
    FWT_CHECK(fws_bytes(s) > 0 && fws_bytes(s) <= (1 << 20));
    char err[512];
    FWT_CHECK(fws_open(dir, 1 << 20, 8192, err, sizeof err) == NULL);
    FWT_CHECK(strstr(err, "in use by another agent") != NULL);
    int v;
    for (int i = 0; i < 30; i++) {
        FWT_CHECK_EQ_INT(read_one(s, &v), 1);
        FWT_CHECK_EQ_INT(v, i);
    }
    fws_commit(s);
    FWT_CHECK_EQ_INT(fws_pending(s), 70);
    for (int i = 30; i < 40; i++)
        FWT_CHECK(read_one(s, &v) == 1 && v == i);
    fws_rewind(s); /* not acknowledged: read again */
    FWT_CHECK(read_one(s, &v) == 1 && v == 30);
    fws_rewind(s);
    fws_close(s);

    /* Reopen: 70 pending, resuming at 30, new records after the old ones. */
    s = open_spool(1 << 20, 8192);
    FWT_CHECK_EQ_INT(fws_pending(s), 70);
    append_n(s, 100, 5);
    for (int i = 30; i < 105; i++) {
        FWT_CHECK_EQ_INT(read_one(s, &v), 1);
        FWT_CHECK_EQ_INT(v, i);
    }
    FWT_CHECK_EQ_INT(read_one(s, &v), 0);
    fws_commit(s);
    FWT_CHECK_EQ_INT(fws_pending(s), 0);
    FWT_CHECK_EQ_INT(fws_bytes(s), 0);
    fws_close(s);

    /* Size cap. */
    s = open_spool(20000, 8192);
    int ok = 0, full = 0;
    unsigned char big[5000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)rand(); /* incompressible */
    for (int i = 0; i < 20; i++) {
        int rc = fws_append(s, "k", 1, big, sizeof big);
        if (rc == FWS_OK)
            ok++;
        else if (rc == FWS_FULL)
            full++;
    }
    FWT_CHECK(ok > 0 && full > 0 && ok + full == 20);
    FWT_CHECK(fws_bytes(s) <= 20000);
    unsigned char *rb;
    while (fws_next(s, &rb, &(const void *){0}, &(size_t){0}, &(const void *){0}, &(size_t){0}) ==
           1)
        free(rb); /* the caller owns each record's buffer */
    fws_commit(s);
    fws_close(s);

    /* Torn tail: cut the last record in half, reopen. */
    s = open_spool(1 << 20, 1 << 20);
    append_n(s, 0, 10);
    fws_close(s);
    char seg[512];
    FWT_CHECK(last_segment(seg, sizeof seg) == 0);
    struct stat st;
    FWT_CHECK(stat(seg, &st) == 0);
    FWT_CHECK(truncate(seg, st.st_size - 20) == 0);
    s = open_spool(1 << 20, 1 << 20);
    FWT_CHECK_EQ_INT(fws_pending(s), 9);
    FWT_CHECK_EQ_INT(fws_corrupt(s), 1);
    append_n(s, 50, 2); /* goes to a new segment, after the damaged one */
    for (int i = 0; i < 9; i++)
        FWT_CHECK(read_one(s, &v) == 1 && v == i);
    FWT_CHECK(read_one(s, &v) == 1 && v == 50);
    FWT_CHECK(read_one(s, &v) == 1 && v == 51);
    FWT_CHECK_EQ_INT(read_one(s, &v), 0);
    fws_commit(s);
    fws_close(s);

    /* A flipped byte in the middle of a record: that record and the rest of
     * its segment are skipped and counted. */
    s = open_spool(1 << 20, 1 << 20);
    append_n(s, 0, 5);
    fws_close(s);
    FWT_CHECK(last_segment(seg, sizeof seg) == 0);
    int fd = open(seg, O_RDWR);
    unsigned char b;
    FWT_CHECK(pread(fd, &b, 1, 16 + 10) == 1);
    b ^= 0x55;
    FWT_CHECK(pwrite(fd, &b, 1, 16 + 10) == 1);
    close(fd);
    s = open_spool(1 << 20, 1 << 20);
    FWT_CHECK_EQ_INT(fws_corrupt(s), 1);
    FWT_CHECK_EQ_INT(fws_pending(s), 0);
    FWT_CHECK_EQ_INT(read_one(s, &v), 0);
    fws_close(s);

    fwt_run(cmd);
    return 0;
}
