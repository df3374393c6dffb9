/*
 * gzip request bodies, inflated under a size cap: the cap is checked as the
 * output grows, so a gzip bomb costs at most `max` bytes of memory and the
 * time to produce them, never more.
 */
#ifndef FWG_INFLATE_H
#define FWG_INFLATE_H

#include <stddef.h>
#include <stdint.h>

typedef enum { FWG_INFLATE_OK = 0, FWG_INFLATE_TOO_LARGE = 1, FWG_INFLATE_BAD = -1 } fwg_inflate_rc;

/*
 * Inflates the gzip data in[0..n) (one or more concatenated members) into a
 * malloc'd *out of *outlen bytes. TOO_LARGE when the result would exceed
 * `max` bytes; BAD (with a message) when it is not valid gzip or memory ran
 * out. On any failure *out is NULL.
 */
fwg_inflate_rc fwg_gunzip(const uint8_t *in, size_t n, size_t max, uint8_t **out, size_t *outlen,
                          char *err, size_t errsize);

#endif
