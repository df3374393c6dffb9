/* Request guards; see guard.h. */
#include "fw_hex.h"
#include "guard.h"

#include <errno.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

sv_origin_verdict sv_origin_check(const char *sec_fetch_site, const char *origin,
                                  const char *expected)
{
    if (sec_fetch_site) {
        if (strcmp(sec_fetch_site, "same-origin") == 0 || strcmp(sec_fetch_site, "none") == 0)
            return SV_ORIGIN_OK;
        return SV_ORIGIN_CROSS_SITE;
    }
    if (origin) {
        if (expected && *expected && strcasecmp(origin, expected) == 0)
            return SV_ORIGIN_OK;
        return SV_ORIGIN_MISMATCH;
    }
    return SV_ORIGIN_OK;
}

const char *sv_origin_verdict_name(sv_origin_verdict v)
{
    switch (v) {
    case SV_ORIGIN_OK:
        return "ok";
    case SV_ORIGIN_CROSS_SITE:
        return "cross_site";
    case SV_ORIGIN_MISMATCH:
        return "origin_mismatch";
    }
    return "unknown";
}

int sv_ct_equal(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    size_t n = la < lb ? la : lb;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

sv_session_verdict sv_session_check(double now, double created, double last_seen, double idle,
                                    double absolute)
{
    if (now - created >= absolute)
        return SV_SESSION_ABSOLUTE;
    if (now - last_seen >= idle)
        return SV_SESSION_IDLE;
    return SV_SESSION_VALID;
}

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int sv_token_new(char out[SV_TOKEN_LEN + 1])
{
    unsigned char raw[33]; /* 32 random bytes and a zero pad byte: 11 groups of 3 */
    size_t got = 0;
    while (got < 32) {
        ssize_t n = getrandom(raw + got, 32 - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    raw[32] = 0;
    size_t o = 0;
    for (size_t i = 0; i < 33; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
        char q[4] = {B64URL[v >> 18 & 63], B64URL[v >> 12 & 63], B64URL[v >> 6 & 63],
                     B64URL[v & 63]};
        for (int k = 0; k < 4 && o < SV_TOKEN_LEN; k++)
            out[o++] = q[k];
    }
    out[SV_TOKEN_LEN] = '\0';
    memset(raw, 0, sizeof raw);
    return 0;
}

int sv_token_shape(const char *s)
{
    if (!s)
        return 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (n >= SV_TOKEN_LEN || !strchr(B64URL, s[n]))
            return 0;
    }
    return n == SV_TOKEN_LEN;
}

void sv_token_hash_hex(const char *token, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), md);
    fw_hex_encode(out, md, SHA256_DIGEST_LENGTH)[0] = '\0';
}
