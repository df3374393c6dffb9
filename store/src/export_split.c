/*
 * Seeded group splits and content-hash dedupe; the rules are in
 * export_split.h. SHA-256 (OpenSSL EVP) for the split because the point must
 * be recomputable by anyone from the documentation; a word-at-a-time
 * multiply hash for dedupe because it runs over every byte of every line
 * and only needs to be the same within one export, not portable across
 * tools (no hash is recorded: a re-export dedupes again).
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

/*
 * The dedupe hash reads a canonical byte stream of the content: '{', each
 * key and its NUL, its value, '}'; '[', the values, ']'; a string as '"',
 * its bytes with white-space runs collapsed and the ends trimmed, '"';
 * "i%lld" for an integer, "r%.17g" for a real; 't', 'f', 'n'. The stream is
 * hashed eight bytes at a time (little-endian words, each folded into the
 * state by a 64×64→128-bit multiply), so equal streams give equal hashes
 * however they are fed: byte by byte or in runs.
 */
typedef struct {
    uint64_t h;
    uint64_t word; /* pending bytes, the first in the low byte */
    unsigned n;    /* how many */
} hstream;

#define HS_K1 0xa0761d6478bd642fULL
#define HS_K2 0xe7037ed1a0b428dbULL

static uint64_t hs_fold(uint64_t a, uint64_t b)
{
    __uint128_t m = (__uint128_t)a * b;
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static void hs_word(hstream *s, uint64_t w)
{
    s->h = hs_fold(s->h ^ w ^ HS_K1, HS_K2);
}

static void hs_byte(hstream *s, unsigned char c)
{
    s->word |= (uint64_t)c << (8 * s->n);
    if (++s->n == 8) {
        hs_word(s, s->word);
        s->word = 0;
        s->n = 0;
    }
}

static void hs_bytes(hstream *s, const char *p, size_t n)
{
    while (n > 0 && s->n > 0) {
        hs_byte(s, (unsigned char)*p++);
        n--;
    }
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        hs_word(s, w);
    }
    while (n-- > 0)
        hs_byte(s, (unsigned char)*p++);
}

static uint64_t hs_final(hstream *s)
{
    /* The count of pending bytes goes into the top byte, never one of them. */
    hs_word(s, s->word ^ ((uint64_t)s->n << 56));
    uint64_t h = hs_fold(s->h ^ HS_K2, HS_K1);
    return h ? h : 1;
}

/* Byte classes of string contents: 0 copied as is, 1 white space, 2 the
 * quote, 3 the backslash, 4 another control character. */
static const unsigned char str_class[256] = {
    4, 4, 4, 4, 4, 4, 4, 4, 4, 1, 1, 1, 1, 1, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0,
};

static int is_ws(unsigned char c)
{
    return str_class[c] == 1;
}

/* Byte classes of a string's value (unescaped): 0 copied as is, 1 white
 * space. */
static const unsigned char raw_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
};

/*
 * The end of the longest piece from p on that normalisation leaves as it
 * is: bytes of class 0 in `cls`, and single spaces between two of them.
 * (A piece starts and ends with a class 0 byte, or is empty.)
 */
static const char *plain_end(const char *p, const char *end, const unsigned char *cls)
{
    const char *start = p;
    while (p < end) {
        if (cls[(unsigned char)*p] == 0)
            p++;
        else if (*p == ' ' && p > start && p + 1 < end && cls[(unsigned char)p[1]] == 0)
            p += 2;
        else
            break;
    }
    return p;
}

/* White-space normalisation of a string's bytes, fed in pieces. */
typedef struct {
    hstream *s;
    int pending, any;
} normaliser;

/* A piece without white space at its ends, from plain_end or one byte. */
static void norm_piece(normaliser *nm, const char *p, size_t n)
{
    if (n == 0)
        return;
    if (nm->pending && nm->any)
        hs_byte(nm->s, ' ');
    nm->pending = 0;
    nm->any = 1;
    hs_bytes(nm->s, p, n);
}

/* Feeds s[0..n) with white-space runs collapsed and the ends trimmed. */
static void hash_normalised(hstream *hs, const char *s, size_t n)
{
    normaliser nm = {hs, 0, 0};
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *e = plain_end(p, end, raw_class);
        norm_piece(&nm, p, (size_t)(e - p));
        for (p = e; p < end && is_ws((unsigned char)*p); p++)
            nm.pending = 1;
    }
}

static void hash_value(hstream *hs, const json_t *v)
{
    char num[64];
    int n;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        const json_t *x;
        hs_byte(hs, '{');
        json_object_foreach((json_t *)(uintptr_t)v, k, x)
        {
            hs_bytes(hs, k, strlen(k) + 1);
            hash_value(hs, x);
        }
        hs_byte(hs, '}');
        return;
    }
    case JSON_ARRAY: {
        size_t i;
        const json_t *x;
        hs_byte(hs, '[');
        json_array_foreach(v, i, x) hash_value(hs, x);
        hs_byte(hs, ']');
        return;
    }
    case JSON_STRING:
        hs_byte(hs, '"');
        hash_normalised(hs, json_string_value(v), json_string_length(v));
        hs_byte(hs, '"');
        return;
    case JSON_INTEGER:
        n = snprintf(num, sizeof num, "i%" JSON_INTEGER_FORMAT, json_integer_value(v));
        hs_bytes(hs, num, (size_t)n);
        return;
    case JSON_REAL:
        n = snprintf(num, sizeof num, "r%.17g", json_real_value(v));
        hs_bytes(hs, num, (size_t)n);
        return;
    case JSON_TRUE:
        hs_byte(hs, 't');
        return;
    case JSON_FALSE:
        hs_byte(hs, 'f');
        return;
    case JSON_NULL:
        hs_byte(hs, 'n');
        return;
    }
}

uint64_t fw_xdedupe_hash(const json_t *content)
{
    hstream hs = {0x243f6a8885a308d3ULL, 0, 0};
    hash_value(&hs, content);
    return hs_final(&hs);
}

/* ---- the same hash over a line's text --------------------------------------- */

typedef struct {
    const char *p, *end;
    hstream hs;
} hscan;

/* Feeds the string at s->p (its opening quote) unescaped: through the
 * white-space normalisation for a value, as it is for a key. */
static int hscan_string(hscan *s, int normalise)
{
    normaliser nm = {&s->hs, 0, 0};
    s->p++;
    while (s->p < s->end) {
        const char *e = normalise ? plain_end(s->p, s->end, str_class) : s->p;
        if (!normalise)
            while (e < s->end && str_class[(unsigned char)*e] == 0)
                e++;
        if (normalise)
            norm_piece(&nm, s->p, (size_t)(e - s->p));
        else
            hs_bytes(&s->hs, s->p, (size_t)(e - s->p));
        s->p = e;
        if (s->p >= s->end)
            return -1;
        unsigned char c = (unsigned char)*s->p++, bytes[4];
        size_t n = 1;
        switch (str_class[c]) {
        case 0: /* a space plain_end stopped at */
        case 1: /* white space (raw: the writers escape it, but read it anyway) */
            bytes[0] = c;
            break;
        case 2:
            return 0;
        case 3:
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
            break;
        default:
            return -1; /* a raw control character: not the writers' JSON */
        }
        for (size_t i = 0; i < n; i++) {
            if (!normalise)
                hs_byte(&s->hs, bytes[i]);
            else if (is_ws(bytes[i]))
                nm.pending = 1;
            else
                norm_piece(&nm, (const char *)bytes + i, 1);
        }
    }
    return -1;
}

static int is_number_byte(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

static int hscan_value(hscan *s, int depth)
{
    if (s->p >= s->end || depth > 4096)
        return -1;
    char c = *s->p;
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        hs_byte(&s->hs, (unsigned char)c);
        s->p++;
        if (s->p < s->end && *s->p == close) {
            s->p++;
            hs_byte(&s->hs, (unsigned char)close);
            return 0;
        }
        for (;;) {
            if (c == '{') {
                if (s->p >= s->end || *s->p != '"' || hscan_string(s, 0))
                    return -1;
                hs_byte(&s->hs, 0); /* the key's terminating NUL */
                if (s->p >= s->end || *s->p != ':')
                    return -1;
                s->p++;
            }
            if (hscan_value(s, depth + 1) || s->p >= s->end)
                return -1;
            if (*s->p == close) {
                s->p++;
                hs_byte(&s->hs, (unsigned char)close);
                return 0;
            }
            if (*s->p++ != ',')
                return -1;
        }
    }
    if (c == '"') {
        hs_byte(&s->hs, '"');
        if (hscan_string(s, 1))
            return -1;
        hs_byte(&s->hs, '"');
        return 0;
    }
    static const char *const lits[3] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(lits[i]);
        if ((size_t)(s->end - s->p) >= n && memcmp(s->p, lits[i], n) == 0) {
            s->p += n;
            hs_byte(&s->hs, (unsigned char)lits[i][0]);
            return 0;
        }
    }
    /* A number as the writers write it: an integer in %lld form, or a real. */
    const char *start = s->p;
    int real = 0;
    while (s->p < s->end && is_number_byte(*s->p)) {
        real |= *s->p == '.' || *s->p == 'e' || *s->p == 'E';
        s->p++;
    }
    size_t n = (size_t)(s->p - start);
    char text[64], num[64];
    if (n == 0 || n >= sizeof text)
        return -1;
    if (!real) {
        hs_byte(&s->hs, 'i');
        hs_bytes(&s->hs, start, n);
        return 0;
    }
    memcpy(text, start, n);
    text[n] = '\0';
    int len = snprintf(num, sizeof num, "r%.17g", strtod(text, NULL));
    if (len < 0 || (size_t)len >= sizeof num)
        return -1;
    hs_bytes(&s->hs, num, (size_t)len);
    return 0;
}

int fw_xdedupe_hash_text(const char *line, size_t len, uint64_t *out)
{
    hscan s = {line, line + len, {0x243f6a8885a308d3ULL, 0, 0}};
    if (hscan_value(&s, 0) || s.p != s.end)
        return -1;
    *out = hs_final(&s.hs);
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
