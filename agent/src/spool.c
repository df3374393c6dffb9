/*
 * spool — append-only segment files with CRC-checked zstd records; the
 * invariants are described in spool.h.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "crc32c.h"

#define MAGIC      0x31535746u /* "FWS1" little-endian */
#define HDR        16
#define MAX_RECORD (256u << 20)

typedef struct {
    uint64_t seq;
    uint64_t size;
} segment;

struct fws {
    char *dir;
    int lock_fd;
    uint64_t max_bytes, segment_bytes;
    segment *segs; /* sorted by seq; the last may be the write segment */
    size_t n_segs, cap_segs;
    int wfd; /* write segment fd or -1; it is segs[n_segs - 1] */
    uint64_t next_seq;
    /* read position and committed cursor */
    size_t r_idx;
    uint64_t r_off;
    uint64_t c_seq, c_off;
    uint64_t read_since_commit;
    uint64_t pending, bytes, corrupt, errors;
    ZSTD_CCtx *cctx;
    unsigned char *scratch;
    size_t scratch_cap;
};

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}
static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int seg_path(const fws *s, uint64_t seq, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/%020" PRIu64 ".fwspool", s->dir, seq);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

static int cmp_seg(const void *a, const void *b)
{
    const segment *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int push_seg(fws *s, uint64_t seq, uint64_t size)
{
    if (s->n_segs == s->cap_segs) {
        size_t nc = s->cap_segs ? s->cap_segs * 2 : 16;
        segment *nv = realloc(s->segs, nc * sizeof *nv);
        if (!nv)
            return -1;
        s->segs = nv;
        s->cap_segs = nc;
    }
    s->segs[s->n_segs++] = (segment){seq, size};
    return 0;
}

/* Reads the header and frame at off of segment idx. Returns the raw record
 * (malloc) and its size in *raw_len and the on-disk size in *disk, NULL at a
 * clean end (*disk == 0) or on corruption (*disk == UINT64_MAX) or oom
 * (*disk == 1). With want_raw == 0 only checks the CRC. */
static unsigned char *read_record(fws *s, size_t idx, uint64_t off, int want_raw, size_t *raw_len,
                                  uint64_t *disk)
{
    *disk = 0;
    const segment *sg = &s->segs[idx];
    if (off >= sg->size)
        return NULL;
    *disk = UINT64_MAX;
    char path[4096];
    if (seg_path(s, sg->seq, path, sizeof path) < 0)
        return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    unsigned char h[HDR], *comp = NULL, *raw = NULL;
    if (pread(fd, h, HDR, (off_t)off) != HDR || get32(h) != MAGIC)
        goto out;
    uint32_t clen = get32(h + 4), crc = get32(h + 8), rlen = get32(h + 12);
    if (clen == 0 || clen > MAX_RECORD || rlen < 4 || rlen > MAX_RECORD ||
        off + HDR + clen > sg->size)
        goto out;
    comp = malloc(clen);
    if (!comp) {
        *disk = 1;
        goto out;
    }
    if (pread(fd, comp, clen, (off_t)(off + HDR)) != (ssize_t)clen ||
        fw_crc32c(0, comp, clen) != crc)
        goto out;
    if (want_raw) {
        raw = malloc(rlen);
        if (!raw) {
            *disk = 1;
            goto out;
        }
        size_t got = ZSTD_decompress(raw, rlen, comp, clen);
        if (ZSTD_isError(got) || got != rlen || get32(raw) > rlen - 4) {
            free(raw);
            raw = NULL;
            goto out;
        }
        *raw_len = rlen;
    }
    *disk = HDR + clen;
out:
    free(comp);
    close(fd);
    if (!want_raw && *disk != UINT64_MAX && *disk != 1)
        return (unsigned char *)s; /* non-NULL marker: valid */
    return raw;
}

static int write_cursor(fws *s)
{
    char path[4096], tmp[4096], line[64];
    if (snprintf(path, sizeof path, "%s/cursor", s->dir) >= (int)sizeof path ||
        snprintf(tmp, sizeof tmp, "%s/cursor.tmp", s->dir) >= (int)sizeof tmp)
        return -1;
    int n = snprintf(line, sizeof line, "%" PRIu64 " %" PRIu64 "\n", s->c_seq, s->c_off);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int ok = write(fd, line, (size_t)n) == n;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        s->errors++;
        return -1;
    }
    return 0;
}

static void read_cursor(fws *s)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/cursor", s->dir) >= (int)sizeof path)
        return;
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    uint64_t a, b;
    if (fscanf(f, "%" SCNu64 " %" SCNu64, &a, &b) == 2) {
        s->c_seq = a;
        s->c_off = b;
    }
    fclose(f);
}

/* Lists segments, drops those before the cursor, counts pending records. */
static int scan(fws *s, char *err, size_t size)
{
    DIR *d = opendir(s->dir);
    if (!d) {
        snprintf(err, size, "could not open spool directory \"%s\": %s", s->dir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        size_t nl = strlen(de->d_name);
        if (nl != 28 || strcmp(de->d_name + 20, ".fwspool") != 0)
            continue;
        errno = 0;
        uint64_t seq = strtoull(de->d_name, &end, 10);
        if (errno || end != de->d_name + 20)
            continue;
        char path[4096];
        struct stat st;
        if (seg_path(s, seq, path, sizeof path) < 0 || stat(path, &st) != 0)
            continue;
        if (seq < s->c_seq) {
            unlink(path);
            continue;
        }
        if (push_seg(s, seq, (uint64_t)st.st_size) < 0) {
            closedir(d);
            snprintf(err, size, "out of memory");
            return -1;
        }
    }
    closedir(d);
    if (s->n_segs) /* qsort(NULL, 0) is undefined */
        qsort(s->segs, s->n_segs, sizeof *s->segs, cmp_seg);
    s->next_seq = s->n_segs ? s->segs[s->n_segs - 1].seq + 1 : 1;
    if (s->next_seq <= s->c_seq)
        s->next_seq = s->c_seq + 1;
    for (size_t i = 0; i < s->n_segs; i++) {
        s->bytes += s->segs[i].size;
        uint64_t off = s->segs[i].seq == s->c_seq ? s->c_off : 0;
        for (;;) {
            uint64_t disk;
            size_t rl;
            if (!read_record(s, i, off, 0, &rl, &disk)) {
                if (disk == UINT64_MAX)
                    s->corrupt++;
                break;
            }
            s->pending++;
            off += disk;
        }
    }
    s->r_idx = 0;
    s->r_off = s->n_segs && s->segs[0].seq == s->c_seq ? s->c_off : 0;
    return 0;
}

fws *fws_open(const char *dir, uint64_t max_bytes, uint64_t segment_bytes, char *err, size_t size)
{
    fws *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir)) || !(s->cctx = ZSTD_createCCtx())) {
        snprintf(err, size, "out of memory");
        goto fail;
    }
    s->lock_fd = -1;
    s->wfd = -1;
    s->max_bytes = max_bytes;
    s->segment_bytes = segment_bytes;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, size, "could not create spool directory \"%s\": %s", dir, strerror(errno));
        goto fail;
    }
    char path[4096];
    if (snprintf(path, sizeof path, "%s/lock", dir) >= (int)sizeof path) {
        snprintf(err, size, "spool directory name too long");
        goto fail;
    }
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, size, "could not lock spool directory \"%s\": %s", dir,
                 errno == EWOULDBLOCK ? "in use by another agent" : strerror(errno));
        goto fail;
    }
    read_cursor(s);
    if (scan(s, err, size) < 0)
        goto fail;
    return s;
fail:
    fws_close(s);
    return NULL;
}

static int open_write_segment(fws *s)
{
    char path[4096];
    uint64_t seq = s->next_seq;
    if (seg_path(s, seq, path, sizeof path) < 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (push_seg(s, seq, 0) < 0) {
        close(fd);
        unlink(path);
        return -1;
    }
    s->next_seq++;
    s->wfd = fd;
    return 0;
}

static void close_write_segment(fws *s)
{
    if (s->wfd >= 0) {
        fdatasync(s->wfd);
        close(s->wfd);
        s->wfd = -1;
    }
}

int fws_append(fws *s, const void *key, size_t klen, const void *val, size_t vlen)
{
    size_t rlen = 4 + klen + vlen;
    if (rlen > MAX_RECORD) {
        s->errors++;
        return FWS_ERROR;
    }
    size_t bound = ZSTD_compressBound(rlen), need = rlen + HDR + bound;
    if (need > s->scratch_cap) {
        unsigned char *ns = realloc(s->scratch, need);
        if (!ns) {
            s->errors++;
            return FWS_ERROR;
        }
        s->scratch = ns;
        s->scratch_cap = need;
    }
    unsigned char *raw = s->scratch, *frame = s->scratch + rlen;
    put32(raw, (uint32_t)klen);
    if (klen)
        memcpy(raw + 4, key, klen);
    if (vlen)
        memcpy(raw + 4 + klen, val, vlen);
    size_t clen = ZSTD_compressCCtx(s->cctx, frame + HDR, bound, raw, rlen, 1);
    if (ZSTD_isError(clen)) {
        s->errors++;
        return FWS_ERROR;
    }
    put32(frame, MAGIC);
    put32(frame + 4, (uint32_t)clen);
    put32(frame + 8, fw_crc32c(0, frame + HDR, clen));
    put32(frame + 12, (uint32_t)rlen);
    size_t total = HDR + clen;
    if (s->bytes + total > s->max_bytes)
        return FWS_FULL;
    if (s->wfd >= 0 && s->segs[s->n_segs - 1].size + total > s->segment_bytes &&
        s->segs[s->n_segs - 1].size > 0)
        close_write_segment(s);
    if (s->wfd < 0 && open_write_segment(s) < 0) {
        s->errors++;
        return FWS_ERROR;
    }
    segment *w = &s->segs[s->n_segs - 1];
    ssize_t n = write(s->wfd, frame, total);
    if (n != (ssize_t)total) {
        /* Cut a partial write so that later records stay readable. */
        if (n > 0 && ftruncate(s->wfd, (off_t)w->size) != 0)
            close_write_segment(s);
        s->errors++;
        return FWS_ERROR;
    }
    w->size += total;
    s->bytes += total;
    s->pending++;
    return FWS_OK;
}

int fws_next(fws *s, unsigned char **buf, const void **key, size_t *klen, const void **val,
             size_t *vlen)
{
    while (s->r_idx < s->n_segs) {
        uint64_t disk;
        size_t rl = 0;
        unsigned char *raw = read_record(s, s->r_idx, s->r_off, 1, &rl, &disk);
        if (raw) {
            s->r_off += disk;
            s->read_since_commit++;
            uint32_t kl = get32(raw);
            *buf = raw;
            *key = raw + 4;
            *klen = kl;
            *val = raw + 4 + kl;
            *vlen = rl - 4 - kl;
            return 1;
        }
        if (disk == 1)
            return -1;
        if (disk == UINT64_MAX) {
            s->corrupt++;
            if (s->pending)
                s->pending--;
        }
        /* End of this segment (clean or skipped): the write segment may
         * still grow, so stay on it. */
        if (s->r_idx == s->n_segs - 1 && s->wfd >= 0 && disk == 0)
            return 0;
        if (s->r_idx + 1 >= s->n_segs) {
            if (disk == UINT64_MAX)
                s->r_off = s->segs[s->r_idx].size;
            return 0;
        }
        s->r_idx++;
        s->r_off = 0;
    }
    return 0;
}

void fws_commit(fws *s)
{
    s->pending = s->pending > s->read_since_commit ? s->pending - s->read_since_commit : 0;
    s->read_since_commit = 0;
    /* Delete segments before the read position, and the read segment itself
     * when it is consumed and not being written. */
    size_t drop = s->r_idx;
    if (s->r_idx < s->n_segs && s->r_off >= s->segs[s->r_idx].size &&
        !(s->r_idx == s->n_segs - 1 && s->wfd >= 0))
        drop = s->r_idx + 1;
    else if (s->r_idx < s->n_segs && s->r_idx == s->n_segs - 1 && s->wfd >= 0 &&
             s->r_off >= s->segs[s->r_idx].size && s->pending == 0) {
        close_write_segment(s); /* fully replayed: start afresh */
        drop = s->r_idx + 1;
    }
    for (size_t i = 0; i < drop && i < s->n_segs; i++) {
        char path[4096];
        if (seg_path(s, s->segs[i].seq, path, sizeof path) == 0)
            unlink(path);
        s->bytes -= s->segs[i].size;
    }
    if (drop) {
        memmove(s->segs, s->segs + drop, (s->n_segs - drop) * sizeof *s->segs);
        s->n_segs -= drop;
        if (s->r_idx >= drop) {
            s->r_idx -= drop;
        } else {
            s->r_idx = 0;
            s->r_off = 0;
        }
    }
    if (s->r_idx < s->n_segs) {
        s->c_seq = s->segs[s->r_idx].seq;
        s->c_off = s->r_off;
    } else {
        s->c_seq = s->next_seq;
        s->c_off = 0;
        s->r_idx = 0;
        s->r_off = 0;
    }
    write_cursor(s);
}

void fws_rewind(fws *s)
{
    s->read_since_commit = 0;
    s->r_idx = 0;
    s->r_off = 0;
    for (size_t i = 0; i < s->n_segs; i++)
        if (s->segs[i].seq == s->c_seq) {
            s->r_idx = i;
            s->r_off = s->c_off;
            break;
        }
}

uint64_t fws_pending(const fws *s)
{
    return s->pending;
}
uint64_t fws_bytes(const fws *s)
{
    return s->bytes;
}
uint64_t fws_corrupt(const fws *s)
{
    return s->corrupt;
}
uint64_t fws_errors(const fws *s)
{
    return s->errors;
}

void fws_close(fws *s)
{
    if (!s)
        return;
    close_write_segment(s);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    ZSTD_freeCCtx(s->cctx);
    free(s->scratch);
    free(s->segs);
    free(s->dir);
    free(s);
}
