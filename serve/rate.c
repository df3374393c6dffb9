/* Token buckets; see rate.h. */
#include "rate.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#define SLOTS 4096

typedef struct {
    double tokens;
    double at;
} bucket;

struct sv_rate {
    pthread_mutex_t mu;
    double per_s, burst;
    bucket b[SLOTS];
};

sv_rate *sv_rate_new(double per_minute, double burst)
{
    sv_rate *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    pthread_mutex_init(&r->mu, NULL);
    r->per_s = per_minute / 60.0;
    r->burst = burst < 1 ? 1 : burst;
    for (int i = 0; i < SLOTS; i++)
        r->b[i].tokens = -1; /* unused: full on first use */
    return r;
}

void sv_rate_free(sv_rate *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

int sv_rate_take(sv_rate *r, const char *key, double now)
{
    bucket *b = &r->b[fnv1a(key) % SLOTS];
    int wait = 0;
    pthread_mutex_lock(&r->mu);
    if (b->tokens < 0) {
        b->tokens = r->burst;
        b->at = now;
    }
    double t = b->tokens + (now - b->at) * r->per_s;
    if (t > r->burst)
        t = r->burst;
    b->at = now;
    if (t >= 1) {
        b->tokens = t - 1;
    } else {
        b->tokens = t;
        wait = (int)ceil((1 - t) / r->per_s);
        if (wait < 1)
            wait = 1;
    }
    pthread_mutex_unlock(&r->mu);
    return wait;
}
