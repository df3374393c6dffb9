/*
 * Kafka producer and acknowledged batches; see producer.h.
 */
#include "producer.h"

#include "log.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fwg_batch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;    /* the request's + one per message in flight */
    int pending; /* messages not yet reported */
    int failed;
    char err[256];
};

struct fwg_producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    int64_t ack_timeout_ms;
    pthread_t poller;
    atomic_int stop;
    atomic_int fatal;
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

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    fwg_producer *p = opaque;
    char buf[512];
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, buf, sizeof buf);
        atomic_store(&p->fatal, 1);
        char q[600];
        fw_log_error("kafka fatal error", "error=%s", fw_log_quote(q, sizeof q, buf));
        return;
    }
    (void)buf;
    char q[600];
    fw_log_warn("kafka error", "error=%s reason=%s", rd_kafka_err2name((rd_kafka_resp_err_t)err),
                fw_log_quote(q, sizeof q, reason));
}

static void *poll_loop(void *arg)
{
    fwg_producer *p = arg;
    while (!atomic_load(&p->stop))
        rd_kafka_poll(p->rk, 100);
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
    if (!p) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    p->ack_timeout_ms = cfg->ack_timeout_ms;
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char tmo[32];
    snprintf(tmo, sizeof tmo, "%lld", (long long)cfg->ack_timeout_ms);
    if (set(c, "bootstrap.servers", cfg->bootstrap_servers, err, errsize) ||
        set(c, "client.id", "flywheel-gateway", err, errsize) ||
        set(c, "linger.ms", "2", err, errsize) ||
        set(c, "compression.codec", "zstd", err, errsize) ||
        set(c, "reconnect.backoff.max.ms", "1000", err, errsize))
        goto fail_conf;
    for (size_t i = 0; i < cfg->n_kafka; i++)
        if (set(c, cfg->kafka[i].key, cfg->kafka[i].value, err, errsize))
            goto fail_conf;
    /* Not overridable: what "200 only after the broker acknowledged" needs. */
    if (set(c, "enable.idempotence", "true", err, errsize) || set(c, "acks", "all", err, errsize) ||
        set(c, "message.timeout.ms", tmo, err, errsize))
        goto fail_conf;
    rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    rd_kafka_conf_set_error_cb(c, on_error);
    rd_kafka_conf_set_opaque(c, p);
    char e[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
    if (!p->rk) {
        snprintf(err, errsize, "could not create the Kafka producer: %s", e);
        goto fail_conf;
    }
    p->rkt = rd_kafka_topic_new(p->rk, cfg->topic, NULL);
    if (!p->rkt) {
        snprintf(err, errsize, "could not create topic handle \"%s\": %s", cfg->topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_destroy(p->rk);
        free(p);
        return NULL;
    }
    if (pthread_create(&p->poller, NULL, poll_loop, p) != 0) {
        snprintf(err, errsize, "could not start the delivery thread");
        rd_kafka_topic_destroy(p->rkt);
        rd_kafka_destroy(p->rk);
        free(p);
        return NULL;
    }
    return p;
fail_conf:
    rd_kafka_conf_destroy(c);
    free(p);
    return NULL;
}

void fwg_producer_free(fwg_producer *p)
{
    if (!p)
        return;
    rd_kafka_flush(p->rk, (int)p->ack_timeout_ms);
    atomic_store(&p->stop, 1);
    pthread_join(p->poller, NULL);
    rd_kafka_poll(p->rk, 0);
    rd_kafka_topic_destroy(p->rkt);
    rd_kafka_destroy(p->rk);
    free(p);
}

int fwg_producer_fatal(const fwg_producer *p)
{
    return atomic_load(&((fwg_producer *)(uintptr_t)p)->fatal);
}

int fwg_producer_ready(fwg_producer *p)
{
    const struct rd_kafka_metadata *md = NULL;
    if (atomic_load(&p->fatal))
        return 0;
    rd_kafka_resp_err_t e = rd_kafka_metadata(p->rk, 0, p->rkt, &md, 1000);
    int ok = e == RD_KAFKA_RESP_ERR_NO_ERROR && md && md->broker_cnt > 0 && md->topic_cnt == 1 &&
             md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (md)
        rd_kafka_metadata_destroy(md);
    return ok;
}

fwg_batch *fwg_batch_new(void)
{
    fwg_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->refs = 1;
    return b;
}

int fwg_produce(fwg_producer *p, fwg_batch *b, const void *key, size_t keylen, const void *payload,
                size_t len, int *queue_full)
{
    *queue_full = 0;
    pthread_mutex_lock(&b->mu);
    b->refs++;
    b->pending++;
    pthread_mutex_unlock(&b->mu);
    if (rd_kafka_produce(p->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
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

int fwg_batch_finish(fwg_producer *p, fwg_batch *b, char *err, size_t errsize)
{
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
    pthread_mutex_unlock(&b->mu);
    batch_unref(b);
    return rc;
}
