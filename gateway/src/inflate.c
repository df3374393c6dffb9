/*
 * gzip inflation with a cap; see inflate.h.
 */
#include "inflate.h"

#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

fwg_inflate_rc fwg_gunzip(const uint8_t *in, size_t n, size_t max, uint8_t **out, size_t *outlen,
                          char *err, size_t errsize)
{
    *out = NULL;
    *outlen = 0;
    z_stream zs = {0};
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        snprintf(err, errsize, "out of memory");
        return FWG_INFLATE_BAD;
    }
    size_t cap = n * 4 < 65536 ? 65536 : n * 4, len = 0;
    if (cap > max + 1)
        cap = max + 1;
    uint8_t *buf = malloc(cap);
    fwg_inflate_rc rc = FWG_INFLATE_BAD;
    if (!buf) {
        snprintf(err, errsize, "out of memory");
        goto done;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    size_t in_left = n;
    for (;;) {
        if (len == cap) {
            if (cap > max) {
                rc = FWG_INFLATE_TOO_LARGE;
                goto done;
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                snprintf(err, errsize, "out of memory");
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        uInt chunk_in = in_left > 1u << 30 ? 1u << 30 : (uInt)in_left;
        uInt chunk_out = cap - len > 1u << 30 ? 1u << 30 : (uInt)(cap - len);
        zs.avail_in = chunk_in;
        zs.next_out = buf + len;
        zs.avail_out = chunk_out;
        int z = inflate(&zs, Z_NO_FLUSH);
        in_left -= chunk_in - zs.avail_in;
        len += chunk_out - zs.avail_out;
        if (z == Z_STREAM_END) {
            if (in_left == 0)
                break;
            if (inflateReset(&zs) != Z_OK) /* another gzip member follows */
                goto bad;
            continue;
        }
        if (z == Z_BUF_ERROR && in_left == 0 && zs.avail_out > 0) {
            snprintf(err, errsize, "gzip body is truncated");
            goto done;
        }
        if (z != Z_OK && z != Z_BUF_ERROR)
            goto bad;
    }
    if (len > max) {
        rc = FWG_INFLATE_TOO_LARGE;
        goto done;
    }
    *out = buf;
    *outlen = len;
    buf = NULL;
    rc = FWG_INFLATE_OK;
    goto done;
bad:
    snprintf(err, errsize, "body is not valid gzip: %s", zs.msg ? zs.msg : "corrupt data");
done:
    free(buf);
    inflateEnd(&zs);
    return rc;
}
