/*
 * Seeded group splits and content-hash dedupe; the rules are in
 * export_split.h. SHA-256 (OpenSSL EVP) for the split because the point must
 * be recomputable by anyone from the documentation; FNV-1a for the dedupe
 * hash because it runs over every byte of every line and only needs to be
 * stable, not portable across tools.
 */
#include "export_split.h"

#include "fw_hex.h"
#include "fw_utf8.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

const char *fw_xsplit_name(fw_xsplit s)
{
    switch (s) {
    case FW_XSPLIT_TRAIN:
        return "train";
    case FW_XSPLIT_VALIDATION:
        return "validation";
    case FW_XSPLIT_TEST:
        return "test";
    }
    return "?";
}

int fw_xsplit_parse_ratios(const char *text, double ratios[FW_XSPLIT_COUNT])
{
    double r[FW_XSPLIT_COUNT], sum = 0;
    const char *p = text;
    for (int i = 0; i < FW_XSPLIT_COUNT; i++) {
        char *end;
        r[i] = strtod(p, &end);
        if (end == p || !isfinite(r[i]) || r[i] < 0)
            return -1;
        sum += r[i];
        p = end;
        if (i < FW_XSPLIT_COUNT - 1) {
            if (*p != '/' && *p != ',' && *p != ':')
                return -1;
            p++;
        }
    }
    /* Percentages or fractions, exactly: a sum of 110 is a typo, not a
     * request to rescale. */
    if (*p != '\0' || !(fabs(sum - 100) < 1e-9 || fabs(sum - 1) < 1e-9))
        return -1;
    for (int i = 0; i < FW_XSPLIT_COUNT; i++)
        ratios[i] = r[i] / sum;
    return 0;
}

double fw_xsplit_point(const char *seed, const char *group)
{
    /* One digest context for the process: EVP_MD_CTX_new and the implicit
     * algorithm fetch per call cost more than hashing a short key. Not
     * thread-safe; the exporter is single-threaded. */
    static EVP_MD_CTX *ctx;
    static EVP_MD *sha256;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const unsigned char sep = 0x1F;
    uint64_t v = 0;

    if (!sha256)
        sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!ctx)
        ctx = EVP_MD_CTX_new();
    if (ctx && sha256 && EVP_DigestInit_ex(ctx, sha256, NULL) &&
        EVP_DigestUpdate(ctx, seed, strlen(seed)) && EVP_DigestUpdate(ctx, &sep, 1) &&
        EVP_DigestUpdate(ctx, group, strlen(group)) && EVP_DigestFinal_ex(ctx, md, &mdlen)) {
        for (int i = 0; i < 8; i++)
            v = (v << 8) | md[i];
    }
    /* 53 bits keep the division exact in a double. */
    return (double)(v >> 11) / 9007199254740992.0;
}

fw_xsplit fw_xsplit_assign(const char *seed, const char *group,
                           const double ratios[FW_XSPLIT_COUNT])
{
    double u = fw_xsplit_point(seed, group);
    if (u < ratios[0])
        return FW_XSPLIT_TRAIN;
    if (u < ratios[0] + ratios[1])
        return FW_XSPLIT_VALIDATION;
    /* Guard against rounding when the test ratio is zero. */
    if (ratios[2] <= 0)
        return ratios[1] > 0 ? FW_XSPLIT_VALIDATION : FW_XSPLIT_TRAIN;
    return FW_XSPLIT_TEST;
}

static uint64_t fnv_byte(uint64_t h, unsigned char c)
{
    return (h ^ c) * FNV_PRIME;
}

static uint64_t fnv_bytes(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = fnv_byte(h, (unsigned char)p[i]);
    return h;
}

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Hashes a string with white-space runs collapsed and the ends trimmed. */
static uint64_t hash_normalised(uint64_t h, const char *s, size_t n)
{
    size_t i = 0;
    int pending_space = 0, any = 0;
    while (i < n && is_ws((unsigned char)s[i]))
        i++;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_ws(c)) {
            pending_space = 1;
            continue;
        }
        if (pending_space && any)
            h = fnv_byte(h, ' ');
        pending_space = 0;
        any = 1;
        h = fnv_byte(h, c);
    }
    return h;
}

static uint64_t hash_value(uint64_t h, const json_t *v)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        const json_t *x;
        h = fnv_byte(h, '{');
        json_object_foreach((json_t *)(uintptr_t)v, k, x)
        {
            h = fnv_bytes(h, k, strlen(k) + 1);
            h = hash_value(h, x);
        }
        return fnv_byte(h, '}');
    }
    case JSON_ARRAY: {
        size_t i;
        const json_t *x;
        h = fnv_byte(h, '[');
        json_array_foreach(v, i, x) h = hash_value(h, x);
        return fnv_byte(h, ']');
    }
    case JSON_STRING:
        h = fnv_byte(h, '"');
        h = hash_normalised(h, json_string_value(v), json_string_length(v));
        return fnv_byte(h, '"');
    case JSON_INTEGER:
        snprintf(num, sizeof num, "i%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return fnv_bytes(h, num, strlen(num));
    case JSON_REAL:
        snprintf(num, sizeof num, "r%.17g", json_real_value(v));
        return fnv_bytes(h, num, strlen(num));
    case JSON_TRUE:
        return fnv_byte(h, 't');
    case JSON_FALSE:
        return fnv_byte(h, 'f');
    case JSON_NULL:
        return fnv_byte(h, 'n');
    }
    return h;
}

uint64_t fw_xdedupe_hash(const json_t *content)
{
    uint64_t h = hash_value(FNV_OFFSET, content);
    return h ? h : 1;
}

/* ---- the same hash over a line's text --------------------------------------- */

typedef struct {
    const char *p, *end;
    uint64_t h;
} hscan;

/* Feeds the string at s->p (its opening quote) unescaped: through the
 * white-space normalisation for a value, as it is for a key. */
static int hscan_string(hscan *s, int normalise)
{
    int pending = 0, any = 0;
    s->p++;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p++, bytes[4];
        size_t n = 1;
        if (c == '"')
            return 0;
        bytes[0] = c;
        if (c == '\\') {
            if (s->p >= s->end)
                return -1;
            switch (*s->p++) {
            case 'b':
                bytes[0] = '\b';
                break;
            case 'f':
                bytes[0] = '\f';
                break;
            case 'n':
                bytes[0] = '\n';
                break;
            case 'r':
                bytes[0] = '\r';
                break;
            case 't':
                bytes[0] = '\t';
                break;
            case '"':
            case '\\':
            case '/':
                bytes[0] = (unsigned char)s->p[-1];
                break;
            case 'u': {
                unsigned cp;
                if (fw_hex_u16(s->p, s->end, &cp) || cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
                    return -1; /* the writers never escape these */
                s->p += 4;
                n = (size_t)((unsigned char *)fw_utf8_put((char *)bytes, cp) - bytes);
                break;
            }
            default:
                return -1;
            }
        }
        for (size_t i = 0; i < n; i++) {
            if (!normalise) {
                s->h = fnv_byte(s->h, bytes[i]);
            } else if (is_ws(bytes[i])) {
                pending = 1;
            } else {
                if (pending && any)
                    s->h = fnv_byte(s->h, ' ');
                pending = 0;
                any = 1;
                s->h = fnv_byte(s->h, bytes[i]);
            }
        }
    }
    return -1;
}

static int hscan_value(hscan *s, int depth)
{
    if (s->p >= s->end || depth > 4096)
        return -1;
    char c = *s->p;
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        s->h = fnv_byte(s->h, (unsigned char)c);
        s->p++;
        if (s->p < s->end && *s->p == close) {
            s->p++;
            s->h = fnv_byte(s->h, (unsigned char)close);
            return 0;
        }
        for (;;) {
            if (c == '{') {
                if (s->p >= s->end || *s->p != '"' || hscan_string(s, 0))
                    return -1;
                s->h = fnv_byte(s->h, 0); /* the key's terminating NUL */
                if (s->p >= s->end || *s->p != ':')
                    return -1;
                s->p++;
            }
            if (hscan_value(s, depth + 1) || s->p >= s->end)
                return -1;
            if (*s->p == close) {
                s->p++;
                s->h = fnv_byte(s->h, (unsigned char)close);
                return 0;
            }
            if (*s->p++ != ',')
                return -1;
        }
    }
    if (c == '"') {
        s->h = fnv_byte(s->h, '"');
        if (hscan_string(s, 1))
            return -1;
        s->h = fnv_byte(s->h, '"');
        return 0;
    }
    const char *lits[3] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(lits[i]);
        if ((size_t)(s->end - s->p) >= n && memcmp(s->p, lits[i], n) == 0) {
            s->p += n;
            s->h = fnv_byte(s->h, (unsigned char)lits[i][0]);
            return 0;
        }
    }
    /* A number as the writers write it: an integer in %lld form, or a real. */
    const char *start = s->p;
    int real = 0;
    while (s->p < s->end && (strchr("0123456789+-.eE", *s->p) != NULL && *s->p != '\0')) {
        real |= *s->p == '.' || *s->p == 'e' || *s->p == 'E';
        s->p++;
    }
    size_t n = (size_t)(s->p - start);
    char text[64], num[64];
    if (n == 0 || n >= sizeof text)
        return -1;
    if (!real) {
        s->h = fnv_byte(s->h, 'i');
        s->h = fnv_bytes(s->h, start, n);
        return 0;
    }
    memcpy(text, start, n);
    text[n] = '\0';
    int len = snprintf(num, sizeof num, "r%.17g", strtod(text, NULL));
    if (len < 0 || (size_t)len >= sizeof num)
        return -1;
    s->h = fnv_bytes(s->h, num, (size_t)len);
    return 0;
}

int fw_xdedupe_hash_text(const char *line, size_t len, uint64_t *out)
{
    hscan s = {line, line + len, FNV_OFFSET};
    if (hscan_value(&s, 0) || s.p != s.end)
        return -1;
    *out = s.h ? s.h : 1;
    return 0;
}

static size_t slot_of(uint64_t h, size_t cap)
{
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static int insert(uint64_t *slots, size_t cap, uint64_t h)
{
    size_t mask = cap - 1, i = slot_of(h, cap);
    while (slots[i]) {
        if (slots[i] == h)
            return 0;
        i = (i + 1) & mask;
    }
    slots[i] = h;
    return 1;
}

#define FILE_BLOCK 64 /* slots read per probe: 512 bytes */

/* insert() over a table in file fd: 1 new, 0 present, -1 I/O error. */
static int file_insert(int fd, size_t cap, uint64_t h)
{
    uint64_t block[FILE_BLOCK];
    size_t i = slot_of(h, cap);
    for (;;) {
        size_t n = cap - i < FILE_BLOCK ? cap - i : FILE_BLOCK;
        ssize_t r = pread(fd, block, n * sizeof *block, (off_t)(i * sizeof *block));
        if (r != (ssize_t)(n * sizeof *block))
            return -1;
        for (size_t k = 0; k < n; k++) {
            if (block[k] == h)
                return 0;
            if (block[k] == 0) {
                off_t at = (off_t)((i + k) * sizeof h);
                return pwrite(fd, &h, sizeof h, at) == (ssize_t)sizeof h ? 1 : -1;
            }
        }
        i = (i + n) & (cap - 1); /* the load stays ≤ 0.5: a free slot exists */
    }
}

/* A new zero-filled (sparse) table of cap slots in an unlinked file. */
static int file_new(size_t cap)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/flywheel-dedupe-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    unlink(path);
    if (ftruncate(fd, (off_t)(cap * sizeof(uint64_t))) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Moves every hash of the set into a new file table of ncap slots. */
static int grow_to_file(fw_xdedupe *set, size_t ncap)
{
    int fd = file_new(ncap);
    if (fd < 0)
        return -1;
    uint64_t block[4096];
    for (size_t i = 0; i < set->cap; i += 4096) {
        size_t n = set->cap - i < 4096 ? set->cap - i : 4096;
        const uint64_t *src = block;
        if (set->on_file) {
            if (pread(set->fd, block, n * sizeof *block, (off_t)(i * sizeof *block)) !=
                (ssize_t)(n * sizeof *block)) {
                close(fd);
                return -1;
            }
        } else {
            src = set->slots + i;
        }
        for (size_t k = 0; k < n; k++)
            if (src[k] && file_insert(fd, ncap, src[k]) < 0) {
                close(fd);
                return -1;
            }
    }
    if (set->on_file)
        close(set->fd);
    free(set->slots);
    set->slots = NULL;
    set->fd = fd;
    set->on_file = 1;
    set->cap = ncap;
    return 0;
}

int fw_xdedupe_add(fw_xdedupe *set, uint64_t h)
{
    if (h == 0)
        h = 1;
    if ((set->count + 1) * 2 > set->cap) {
        size_t ncap = set->cap ? set->cap * 2 : 1024;
        size_t max_mem = set->max_mem ? set->max_mem : FW_XDEDUPE_MEM_SLOTS;
        if (ncap > max_mem || set->on_file) {
            if (grow_to_file(set, ncap))
                return -1;
        } else {
            uint64_t *n = calloc(ncap, sizeof *n);
            if (!n)
                return -1;
            for (size_t i = 0; i < set->cap; i++)
                if (set->slots[i])
                    insert(n, ncap, set->slots[i]);
            free(set->slots);
            set->slots = n;
            set->cap = ncap;
        }
    }
    int added = set->on_file ? file_insert(set->fd, set->cap, h) : insert(set->slots, set->cap, h);
    if (added > 0)
        set->count++;
    return added;
}

void fw_xdedupe_free(fw_xdedupe *set)
{
    free(set->slots);
    if (set->on_file)
        close(set->fd);
    set->slots = NULL;
    set->cap = set->count = 0;
    set->on_file = 0;
}
