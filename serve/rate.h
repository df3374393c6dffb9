/*
 * Token-bucket rate limits keyed by a string (a client address, a session
 * hash). Buckets live in a fixed table indexed by a hash of the key; two
 * keys that collide share a bucket, which can only make a limit stricter,
 * never looser, and keeps memory bounded whatever clients send.
 * Thread-safe.
 */
#ifndef FW_SERVE_RATE_H
#define FW_SERVE_RATE_H

typedef struct sv_rate sv_rate;

/* `per_minute` tokens refill per minute; the bucket holds at most `burst`. */
sv_rate *sv_rate_new(double per_minute, double burst);
void sv_rate_free(sv_rate *r);

/* Takes one token for key at time now (seconds). Returns 0 when allowed,
 * else the seconds until a token is available (at least 1). */
int sv_rate_take(sv_rate *r, const char *key, double now);

#endif
