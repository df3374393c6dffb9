/*
 * Seeded group splits and content-hash dedupe; the rules are in
 * export_split.h. SHA-256 (OpenSSL EVP) for the split because the point must
 * be recomputable by anyone from the documentation; FNV-1a for the dedupe
 * hash because it runs over every byte of every line and only needs to be
 * stable, not portable across tools.
 */
#include "export_split.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

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
    if (*p != '\0' || sum <= 0)
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
        json_object_foreach ((json_t *)(uintptr_t)v, k, x) {
            h = fnv_bytes(h, k, strlen(k) + 1);
            h = hash_value(h, x);
        }
        return fnv_byte(h, '}');
    }
    case JSON_ARRAY: {
        size_t i;
        const json_t *x;
        h = fnv_byte(h, '[');
        json_array_foreach (v, i, x)
            h = hash_value(h, x);
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

static int insert(uint64_t *slots, size_t cap, uint64_t h)
{
    size_t mask = cap - 1, i = (size_t)(h ^ (h >> 29)) & mask;
    while (slots[i]) {
        if (slots[i] == h)
            return 0;
        i = (i + 1) & mask;
    }
    slots[i] = h;
    return 1;
}

int fw_xdedupe_add(fw_xdedupe *set, uint64_t h)
{
    if (h == 0)
        h = 1;
    if ((set->count + 1) * 2 > set->cap) {
        size_t ncap = set->cap ? set->cap * 2 : 1024;
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
    int added = insert(set->slots, set->cap, h);
    set->count += (size_t)added;
    return added;
}

void fw_xdedupe_free(fw_xdedupe *set)
{
    free(set->slots);
    set->slots = NULL;
    set->cap = set->count = 0;
}
