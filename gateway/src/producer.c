/*
 * Kafka producer, acknowledged batches, and the replacement of a producer
 * after a fatal error; see producer.h for the invariants.
 *
 * Shape: a "handle" (struct handle) is one librdkafka producer with its
 * delivery thread. The holder (struct fwg_producer) owns the current handle
 * and a list of retired ones; `uses` of every handle is guarded by the
 * holder's mutex. The error callback runs on a handle's delivery thread: it
 * only records the fatal error and wakes the supervisor, which does the
 * slow work (creating, purging, flushing, destroying) outside the mutex, so
 * a request thread never waits for more than a counter update.
 */
#include "producer.h"

#include "log.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The shortest time between two recreations: a cluster that fails every new
 * producer at once must not make the gateway spin. */
#define RECREATE_MIN_INTERVAL_MS 1000

typedef struct handle {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    fwg_producer *owner;
    pthread_t poller;
    atomic_int stop;
    atomic_int fatal;      /* set by the error callback */
    char why[640];         /* librdkafka's reason, written before fatal is set */
    unsigned long long id; /* 1 for the first handle, +1 per recreation */
    int uses;              /* under owner->mu: batches, + 1 while current */
    struct handle *next;   /* in owner->retired */
} handle;

struct fwg_producer {
    rd_kafka_conf_t *conf; /* template, duplicated for each handle */
    char *topic;
    int64_t ack_timeout_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* the supervisor sleeps on it */
    handle *cur;       /* never NULL */
    handle *retired;   /* replaced, destroyed once unused */
    int stop;
    pthread_t supervisor;
    atomic_ullong recreations;
};

struct fwg_batch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    handle *h;   /* the handle every message of the batch goes to */
    int refs;    /* the request's + one per message in flight */
    int pending; /* messages not yet reported */
    int failed;
    char err[256];
};

static void batch_unref(fwg_batch *b)
{
    pthread_mutex_lock(&b->mu);
    int left = --b->refs;
    pthread_mutex_unlock(&b->mu);
    if (left == 0) {
        pthread_mutex_destroy(&b->mu);
        pthread_cond_destroy(&b->cv);
        free(b);
    }
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    fwg_batch *b = m->_private;
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    b->pending--;
    if (m->err && b->failed++ == 0)
        snprintf(b->err, sizeof b->err, "%s", rd_kafka_err2str(m->err));
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    batch_unref(b);
}

/* On the handle's delivery thread. */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    handle *h = opaque;
    char q[600];
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
        fw_log_error("kafka fatal error", "producer=%llu error=%s reason=%s", h->id,
                     rd_kafka_err2name(orig), fw_log_quote(q, sizeof q, buf));
        pthread_mutex_lock(&h->owner->mu);
        if (!atomic_load(&h->fatal)) {
            snprintf(h->why, sizeof h->why, "%s: %s", rd_kafka_err2name(orig), buf);
            atomic_store(&h->fatal, 1);
            pthread_cond_signal(&h->owner->cv);
        }
        pthread_mutex_unlock(&h->owner->mu);
        return;
    }
    fw_log_warn("kafka error", "producer=%llu error=%s reason=%s", h->id,
                rd_kafka_err2name((rd_kafka_resp_err_t)err), fw_log_quote(q, sizeof q, reason));
}

/* librdkafka's own log lines, as the gateway's logfmt lines (any thread). */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    fw_log_level l = level <= 3   ? FW_LOG_ERROR
                     : level <= 4 ? FW_LOG_WARN
                     : level <= 6 ? FW_LOG_INFO
                                  : FW_LOG_DEBUG;
    if (fw_log_enabled(l)) {
        char q[1024];
        fw_log_write(l, "librdkafka", "facility=%s detail=%s", fac, fw_log_quote(q, sizeof q, buf));
    }
}

static void *poll_loop(void *arg)
{
    handle *h = arg;
    while (!atomic_load(&h->stop))
        rd_kafka_poll(h->rk, 100);
    return NULL;
}

/* A new librdkafka producer from the holder's template; NULL with err. */
static handle *handle_new(fwg_producer *p, unsigned long long id, char *err, size_t errsize)
{
    handle *h = calloc(1, sizeof *h);
    rd_kafka_conf_t *c = rd_kafka_conf_dup(p->conf);
    if (!h || !c) {
        snprintf(err, errsize, "out of memory");
        goto fail;
    }
    h->owner = p;
    h->id = id;
    rd_kafka_conf_set_opaque(c, h);
    char e[512];
    h->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
    if (!h->rk) {
        snprintf(err, errsize, "could not create the Kafka producer: %s", e);
        goto fail;
    }
    c = NULL; /* rd_kafka_new took it */
    h->rkt = rd_kafka_topic_new(h->rk, p->topic, NULL);
    if (!h->rkt) {
        snprintf(err, errsize, "could not create topic handle \"%s\": %s", p->topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        goto fail;
    }
    if (pthread_create(&h->poller, NULL, poll_loop, h) != 0) {
        snprintf(err, errsize, "could not start the delivery thread");
        goto fail;
    }
    return h;
fail:
    if (c)
        rd_kafka_conf_destroy(c);
    if (h && h->rkt)
        rd_kafka_topic_destroy(h->rkt);
    if (h && h->rk)
        rd_kafka_destroy(h->rk);
    free(h);
    return NULL;
}

/* Waits up to timeout_ms for what is in flight, then destroys the handle.
 * Messages not delivered by then are failed by rd_kafka_destroy: their
 * batches are told (their requests may have given up already). */
static void handle_free(handle *h, int timeout_ms)
{
    rd_kafka_flush(h->rk, timeout_ms);
    atomic_store(&h->stop, 1);
    pthread_join(h->poller, NULL);
    rd_kafka_purge(h->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(h->rk, 0);
    rd_kafka_topic_destroy(h->rkt);
    rd_kafka_destroy(h->rk);
    free(h);
}

static handle *acquire(fwg_producer *p)
{
    pthread_mutex_lock(&p->mu);
    handle *h = p->cur;
    h->uses++;
    pthread_mutex_unlock(&p->mu);
    return h;
}

static void release(handle *h)
{
    fwg_producer *p = h->owner;
    pthread_mutex_lock(&p->mu);
    if (--h->uses == 0)
        pthread_cond_signal(&p->cv); /* a retired handle to destroy */
    pthread_mutex_unlock(&p->mu);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* With p->mu held: sleeps until signalled or ms have passed. */
static void wait_ms(fwg_producer *p, int64_t ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&p->cv, &p->mu, &dl);
}

/*
 * With p->mu held: replaces the current handle, which has a fatal error.
 * Returns 0, or -1 when no new producer could be made (the old one stays
 * current, refusing messages, and the supervisor tries again).
 */
static int recreate(fwg_producer *p)
{
    handle *old = p->cur;
    char err[512], q[600];
    pthread_mutex_unlock(&p->mu);
    handle *h = handle_new(p, old->id + 1, err, sizeof err);
    pthread_mutex_lock(&p->mu);
    if (!h) {
        fw_log_error("could not recreate the kafka producer", "error=%s",
                     fw_log_quote(q, sizeof q, err));
        return -1;
    }
    p->cur = h;
    h->uses = 1;
    old->uses--;
    old->next = p->retired;
    p->retired = old;
    atomic_fetch_add(&p->recreations, 1);
    fw_log_warn("kafka producer recreated after a fatal error",
                "old_producer=%llu new_producer=%llu batches_on_old=%d reason=%s", old->id, h->id,
                old->uses, fw_log_quote(q, sizeof q, old->why));
    /* The old handle refuses new messages; those it still holds would only
     * time out. Failing them now answers their requests 503 at once. */
    pthread_mutex_unlock(&p->mu);
    rd_kafka_purge(old->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    pthread_mutex_lock(&p->mu);
    return 0;
}

static void *supervise(void *arg)
{
    fwg_producer *p = arg;
    int64_t last = 0;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        if (atomic_load(&p->cur->fatal)) {
            int64_t left = last + RECREATE_MIN_INTERVAL_MS - now_ms();
            if (left > 0) {
                wait_ms(p, left);
                continue;
            }
            last = now_ms();
            if (recreate(p) != 0) {
                wait_ms(p, RECREATE_MIN_INTERVAL_MS);
                continue;
            }
        }
        for (handle **pp = &p->retired; *pp;) {
            handle *h = *pp;
            if (h->uses > 0) {
                pp = &h->next;
                continue;
            }
            *pp = h->next;
            unsigned long long id = h->id;
            pthread_mutex_unlock(&p->mu);
            handle_free(h, 1000);
            fw_log_info("old kafka producer closed", "producer=%llu", id);
            pthread_mutex_lock(&p->mu);
            pp = &p->retired; /* the list may have changed meanwhile */
        }
        if (!p->stop && !atomic_load(&p->cur->fatal))
            wait_ms(p, 1000);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static int set(rd_kafka_conf_t *c, const char *k, const char *v, char *err, size_t errsize)
{
    char e[512];
    if (rd_kafka_conf_set(c, k, v, e, sizeof e) != RD_KAFKA_CONF_OK) {
        snprintf(err, errsize, "invalid Kafka property \"%s\": %s", k, e);
        return -1;
    }
    return 0;
}

fwg_producer *fwg_producer_new(const fwg_config *cfg, char *err, size_t errsize)
{
    fwg_producer *p = calloc(1, sizeof *p);
    if (!p || !(p->topic = strdup(cfg->topic)) || !(p->conf = rd_kafka_conf_new())) {
        snprintf(err, errsize, "out of memory");
        goto fail;
    }
    p->ack_timeout_ms = cfg->ack_timeout_ms;
    rd_kafka_conf_t *c = p->conf;
    char tmo[32];
    snprintf(tmo, sizeof tmo, "%lld", (long long)cfg->ack_timeout_ms);
    if (set(c, "bootstrap.servers", cfg->bootstrap_servers, err, errsize) ||
        set(c, "client.id", "flywheel-gateway", err, errsize) ||
        set(c, "linger.ms", "2", err, errsize) ||
        set(c, "compression.codec", "zstd", err, errsize) ||
        set(c, "reconnect.backoff.max.ms", "1000", err, errsize))
        goto fail;
    for (size_t i = 0; i < cfg->n_kafka; i++)
        if (set(c, cfg->kafka[i].key, cfg->kafka[i].value, err, errsize))
            goto fail;
    /* Not overridable: what "200 only after the broker acknowledged" needs. */
    if (set(c, "enable.idempotence", "true", err, errsize) || set(c, "acks", "all", err, errsize) ||
        set(c, "message.timeout.ms", tmo, err, errsize))
        goto fail;
    rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    rd_kafka_conf_set_error_cb(c, on_error);
    rd_kafka_conf_set_log_cb(c, on_log);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (!(p->cur = handle_new(p, 1, err, errsize)))
        goto fail_sync;
    p->cur->uses = 1;
    if (pthread_create(&p->supervisor, NULL, supervise, p) != 0) {
        snprintf(err, errsize, "could not start the producer supervisor thread");
        handle_free(p->cur, 0);
        goto fail_sync;
    }
    return p;
fail_sync:
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
fail:
    if (p && p->conf)
        rd_kafka_conf_destroy(p->conf);
    if (p)
        free(p->topic);
    free(p);
    return NULL;
}

void fwg_producer_free(fwg_producer *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->supervisor, NULL);
    while (p->retired) {
        handle *h = p->retired;
        p->retired = h->next;
        handle_free(h, 1000);
    }
    handle_free(p->cur, (int)p->ack_timeout_ms);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    rd_kafka_conf_destroy(p->conf);
    free(p->topic);
    free(p);
}

unsigned long long fwg_producer_recreations(fwg_producer *p)
{
    return atomic_load(&p->recreations);
}

int fwg_producer_ready(fwg_producer *p)
{
    const struct rd_kafka_metadata *md = NULL;
    handle *h = acquire(p);
    int ok = 0;
    if (!atomic_load(&h->fatal)) {
        rd_kafka_resp_err_t e = rd_kafka_metadata(h->rk, 0, h->rkt, &md, 1000);
        ok = e == RD_KAFKA_RESP_ERR_NO_ERROR && md && md->broker_cnt > 0 && md->topic_cnt == 1 &&
             md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR;
        if (md)
            rd_kafka_metadata_destroy(md);
    }
    release(h);
    return ok;
}

fwg_batch *fwg_batch_new(fwg_producer *p)
{
    fwg_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->refs = 1;
    b->h = acquire(p);
    return b;
}

int fwg_produce(fwg_batch *b, const void *key, size_t keylen, const void *payload, size_t len,
                int *queue_full)
{
    *queue_full = 0;
    pthread_mutex_lock(&b->mu);
    b->refs++;
    b->pending++;
    pthread_mutex_unlock(&b->mu);
    if (rd_kafka_produce(b->h->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                         (void *)(uintptr_t)payload, len, key, keylen, b) == 0)
        return 0;
    rd_kafka_resp_err_t e = rd_kafka_last_error();
    *queue_full = e == RD_KAFKA_RESP_ERR__QUEUE_FULL;
    pthread_mutex_lock(&b->mu);
    b->refs--;
    b->pending--;
    if (b->failed++ == 0)
        snprintf(b->err, sizeof b->err, "%s", rd_kafka_err2str(e));
    pthread_mutex_unlock(&b->mu);
    return -1;
}

int fwg_batch_finish(fwg_batch *b, char *err, size_t errsize)
{
    fwg_producer *p = b->h->owner;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    int64_t ms = p->ack_timeout_ms + 5000;
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&b->mu);
    int timed_out = 0;
    while (b->pending > 0 && !timed_out)
        timed_out = pthread_cond_timedwait(&b->cv, &b->mu, &dl) == ETIMEDOUT;
    int rc = 0;
    if (b->failed) {
        snprintf(err, errsize, "Kafka did not acknowledge %d event(s): %s", b->failed, b->err);
        rc = -1;
    } else if (b->pending > 0) {
        snprintf(err, errsize, "Kafka did not acknowledge %d event(s) in time", b->pending);
        rc = -1;
    }
    handle *h = b->h;
    pthread_mutex_unlock(&b->mu);
    release(h);
    batch_unref(b);
    return rc;
}
