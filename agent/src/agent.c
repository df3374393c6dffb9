/*
 * agent — the agent handle and its background thread.
 *
 * One thread per agent owns everything that does I/O or heavy work: it pops
 * entries from the queue (queue.h), encodes them (encode.h), and either
 * produces them with librdkafka or appends them to the spool (spool.h). It
 * also serves librdkafka's callbacks (delivery reports, errors, logs all go
 * through rd_kafka_poll on this thread), replays the spool, and recreates
 * the producer after a fatal error. Application threads never wait for it.
 *
 * Routing of an encoded event, in order:
 *   - a spool exists and (Kafka is considered offline, or the spool still
 *     holds records, which keeps order, or queue.full_policy=spool and the
 *     queue is above half its budget) → spool;
 *   - else produce; if librdkafka's buffer is full: spool under the spool
 *     policy, otherwise serve callbacks and retry (backpressure: the queue
 *     fills and the application's records are dropped by policy).
 * A delivery report with an error moves the message to the spool (or counts
 * it as dropped when there is no spool). "Offline" starts with
 * ALL_BROKERS_DOWN or a failed delivery and ends with a successful one.
 *
 * Replay: a batch of up to REPLAY_BATCH spool records is produced; when all
 * of their reports are in, the spool cursor is committed if every one
 * succeeded, else the batch is read again later (at most one batch may be
 * delivered twice; the collector dedupes by event id). While offline a new
 * batch is tried once per second: the batch itself is the probe.
 *
 * Sleeping: after a busy spell the thread naps in rd_kafka_poll(1 ms); after
 * ~50 ms idle it sets `sleeping` and waits on a condition variable for up to
 * 100 ms; a recorder that sees `sleeping` signals it. Under load no recorder
 * makes a system call.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "encode.h"
#include "internal.h"
#include "spool.h"

#define DRAIN_BATCH      1024
#define REPLAY_BATCH     256
#define REPLAY_MAX_BYTES (4u << 20)
#define REPLAY_RETRY_MS  1000

int64_t fwi_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t fwi_unix_nanos(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void fwi_log(const fw_agent_t *a, int level, const char *msg, const char *fmt, ...)
{
    if (level > a->s.log_level)
        return;
    char line[1024];
    int n = snprintf(line, sizeof line, "level=%s component=libflywheel msg=\"%s\"",
                     level_names[level & 3], msg);
    if (n > 0 && (size_t)n < sizeof line - 2 && fmt) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        va_end(ap);
    }
    if (a->conf->log_cb)
        a->conf->log_cb(a->conf->log_opaque, level, line);
    else
        fprintf(stderr, "%s\n", line);
}

fw_err_t fw_redact_match(fw_redact_match_t *m, size_t offset, size_t length, const char *label)
{
    int rc = fwr_matches_add(m, offset, length, label);
    return rc == 0 ? FW_OK : rc == -2 ? FW_ERR_NOMEM : FW_ERR_INVALID_ARG;
}

/* ---- spool helpers ------------------------------------------------------ */

static void spool_gauges(fw_agent_t *a)
{
    if (!a->spool)
        return;
    atomic_store_explicit(&a->st[fwi_st_slot(FW_STAT_SPOOL_PENDING)], fws_pending(a->spool),
                          memory_order_relaxed);
    atomic_store_explicit(&a->st[fwi_st_slot(FW_STAT_SPOOL_PENDING_BYTES)], fws_bytes(a->spool),
                          memory_order_relaxed);
    atomic_store_explicit(&a->st[fwi_st_slot(FW_STAT_SPOOL_CORRUPT)], fws_corrupt(a->spool),
                          memory_order_relaxed);
    atomic_store_explicit(&a->st[fwi_st_slot(FW_STAT_SPOOL_ERRORS)], fws_errors(a->spool),
                          memory_order_relaxed);
}

/* Writes an encoded event to the spool, or counts it as dropped with
 * `reason` when there is no spool. */
static void spool_or_drop(fw_agent_t *a, const void *key, size_t klen, const void *val, size_t vlen,
                          fw_stat_t reason)
{
    if (!a->spool) {
        fwi_count(a, reason, 1);
        return;
    }
    int rc = fws_append(a->spool, key, klen, val, vlen);
    if (rc == FWS_OK)
        fwi_count(a, FW_STAT_SPOOLED, 1);
    else if (rc == FWS_FULL)
        fwi_count(a, FW_STAT_DROPPED_SPOOL_FULL, 1);
    else {
        fwi_count(a, FW_STAT_DROPPED_DELIVERY_FAILED, 1);
        fwi_log(a, 0, "could not write to spool", "dir=\"%s\" errno=%d", a->s.spool_dir, errno);
    }
    spool_gauges(a);
}

static int resend_push(fw_agent_t *a, const rd_kafka_message_t *m)
{
    if (a->n_resend == a->cap_resend) {
        size_t nc = a->cap_resend ? a->cap_resend * 2 : 64;
        void **nv = realloc(a->resend, nc * sizeof *nv);
        if (!nv)
            return -1;
        a->resend = nv;
        a->cap_resend = nc;
    }
    /* {u32 key length, key, value} in one block, like a spool record. */
    unsigned char *b = malloc(8 + m->key_len + m->len);
    if (!b)
        return -1;
    uint32_t kl = (uint32_t)m->key_len, vl = (uint32_t)m->len;
    memcpy(b, &kl, 4);
    memcpy(b + 4, &vl, 4);
    memcpy(b + 8, m->key, m->key_len);
    memcpy(b + 8 + m->key_len, m->payload, m->len);
    a->resend[a->n_resend++] = b;
    return 0;
}

/* ---- librdkafka callbacks (agent thread, inside rd_kafka_poll) ---------- */

static int is_connectivity(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
           err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
           err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT || err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT ||
           err == RD_KAFKA_RESP_ERR__PURGE_QUEUE;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    fw_agent_t *a = opaque;
    uint64_t tag = (uint64_t)(uintptr_t)m->_private;
    if (tag == 0) {
        /* The event leaves IN_FLIGHT only after its outcome is counted (the
         * order fw_agent_stats() relies on). */
        if (!m->err) {
            fwi_count(a, FW_STAT_DELIVERED_BYTES, m->len);
            fwi_count(a, FW_STAT_DELIVERED, 1);
            atomic_fetch_sub(&a->in_flight_live, 1);
            a->online = 1;
            return;
        }
        /* After a fatal error librdkafka fails what it still holds (purge
         * errors), possibly in the same rd_kafka_poll() that reported the
         * error and before recreate_producer() runs: keep those for the new
         * producer too, instead of dropping them (regression: 36 events
         * dropped in agent_integration_fatal under TSan timing). */
        char fbuf[8];
        int fatal_now = a->fatal || rd_kafka_fatal_error(rk, fbuf, sizeof fbuf) != 0;
        if (fatal_now && !a->recreating)
            a->fatal = 1;
        if ((a->recreating || fatal_now) && resend_push(a, m) == 0)
            return; /* held for the new producer: still in flight */
        if (is_connectivity(m->err))
            a->online = 0;
        fwi_log(a, a->recreating || atomic_load(&a->stop) ? 2 : 1, "delivery failed",
                "error=%s bytes=%zu spool=%s", rd_kafka_err2name(m->err), m->len,
                a->spool ? "yes" : "no");
        spool_or_drop(a, m->key, m->key_len, m->payload, m->len,
                      atomic_load(&a->stop) ? FW_STAT_DROPPED_SHUTDOWN
                                            : FW_STAT_DROPPED_DELIVERY_FAILED);
        atomic_fetch_sub(&a->in_flight_live, 1);
        return;
    }
    atomic_fetch_sub(&a->in_flight_replay, 1);
    if (tag != a->replay_batch)
        return;
    if (m->err)
        a->replay_failed = 1;
    if (--a->replay_outstanding > 0)
        return;
    /* The batch is complete. */
    uint64_t n = a->replay_count;
    a->replay_batch = 0;
    if (!a->replay_failed) {
        fws_commit(a->spool);
        fwi_count(a, FW_STAT_REPLAYED, n);
        a->online = 1;
        a->next_replay_ms = 0;
    } else {
        fws_rewind(a->spool);
        a->online = 0;
        a->next_replay_ms = fwi_now_ms() + REPLAY_RETRY_MS;
    }
    spool_gauges(a);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    fw_agent_t *a = opaque;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        a->online = 0;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[256];
        rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(rk, buf, sizeof buf);
        a->fatal = 1;
        fwi_log(a, 0, "fatal producer error, recreating the producer", "error=%s",
                rd_kafka_err2name(ferr));
        return;
    }
    fwi_log(a, err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ? 1 : 2, "kafka error",
            "error=%s reason=\"%.200s\"", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void on_rk_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    fw_agent_t *a = rd_kafka_opaque(rk);
    int lv = level <= 3 ? 0 : level <= 4 ? 1 : level <= 6 ? 2 : 3;
    fwi_log(a, lv, "librdkafka", "facility=%s detail=\"%.300s\"", fac, buf);
}

/* ---- producer ----------------------------------------------------------- */

/* Creates the producer and a->rkt, the handle of a->s.topic on it. The
 * topic handle is made here, with rd_kafka_topic_new(), and not by the first
 * rd_kafka_producev(RD_KAFKA_V_TOPIC()): librdkafka 2.0.2 asks for the
 * metadata of a topic made by rd_kafka_topic_new() at once, but for a topic
 * first named by producev() after the connection's first metadata request
 * only at its 1-second topic scan. Until then every message waits
 * unpartitioned: an agent idle for a moment after start (or after a producer
 * restart) delivered its first events up to 1 s late (bench_agent
 * --throughput with debug=topic,metadata: queue drained in 0.24 s, then no
 * delivery for 0.7 s until "Topic ... metadata information unknown"). */
static rd_kafka_t *make_producer(fw_agent_t *a, char *errstr, size_t size)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (!c) {
        snprintf(errstr, size, "out of memory");
        return NULL;
    }
    char kbytes[32];
    uint64_t kb = a->s.queue_max_bytes / 4 / 1024;
    snprintf(kbytes, sizeof kbytes, "%llu", (unsigned long long)(kb < 1024 ? 1024 : kb));
    const char *defaults[][2] = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"compression.codec", "zstd"},
        {"reconnect.backoff.max.ms", "1000"},
        {"linger.ms", "5"},
        {"queue.buffering.max.kbytes", kbytes},
        {"message.timeout.ms", "60000"},
        {"log.queue", "true"},
        {"client.id", "libflywheel"},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (rd_kafka_conf_set(c, defaults[i][0], defaults[i][1], err, sizeof err) !=
            RD_KAFKA_CONF_OK)
            goto fail;
    for (size_t i = 0; i < a->conf->n_kafka; i++)
        if (rd_kafka_conf_set(c, a->conf->kafka[i].key, a->conf->kafka[i].value, err, sizeof err) !=
            RD_KAFKA_CONF_OK)
            goto fail;
    rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    rd_kafka_conf_set_error_cb(c, on_error);
    rd_kafka_conf_set_log_cb(c, on_rk_log);
    rd_kafka_conf_set_opaque(c, a);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk)
        goto fail;
    rd_kafka_set_log_queue(rk, NULL); /* logs are served by rd_kafka_poll */
    a->rkt = rd_kafka_topic_new(rk, a->s.topic, NULL);
    if (!a->rkt) {
        snprintf(err, sizeof err, "%s", rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_destroy(rk);
        c = NULL;
        goto fail;
    }
    return rk;
fail:
    snprintf(errstr, size, "could not create the kafka producer: %s", err);
    if (c)
        rd_kafka_conf_destroy(c);
    return NULL;
}

enum { PRODUCED = 0, RETRY = 1, HANDLED = 2 };

/* Produces one encoded event (buf is malloc'd and passes to librdkafka on
 * success). Returns PRODUCED, RETRY (librdkafka's buffer is full and the
 * caller should serve callbacks and try again; buf still owned by caller)
 * or HANDLED (spooled, dropped or kept for resend; buf freed). Events kept
 * for resend count in in_flight_live, like those librdkafka holds. */
static int produce_live(fw_agent_t *a, unsigned char *buf, size_t len, const void *key, size_t klen,
                        int can_retry)
{
    if (!a->rk || a->fatal) {
        rd_kafka_message_t m = {
            .payload = buf, .len = len, .key = (void *)(uintptr_t)key, .key_len = klen};
        if (resend_push(a, &m) == 0)
            atomic_fetch_add(&a->in_flight_live, 1);
        else
            spool_or_drop(a, key, klen, buf, len, FW_STAT_DROPPED_NOMEM);
        free(buf);
        return HANDLED;
    }
    atomic_fetch_add(&a->in_flight_live, 1);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        a->rk, RD_KAFKA_V_RKT(a->rkt), RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_KEY(key, klen),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_OPAQUE(NULL), RD_KAFKA_V_END);
    if (!err)
        return PRODUCED;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && can_retry) {
        atomic_fetch_sub(&a->in_flight_live, 1); /* still counted in the queue */
        return RETRY;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        a->fatal = 1;
        int rc = produce_live(a, buf, len, key, klen, 0);
        atomic_fetch_sub(&a->in_flight_live, 1);
        return rc;
    }
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
        fwi_count(a, FW_STAT_DROPPED_TOO_LARGE, 1);
        fwi_log(a, 1, "event larger than the producer accepts", "bytes=%zu", len);
    } else {
        spool_or_drop(a, key, klen, buf, len, FW_STAT_DROPPED_DELIVERY_FAILED);
    }
    atomic_fetch_sub(&a->in_flight_live, 1);
    free(buf);
    return HANDLED;
}

static void recreate_producer(fw_agent_t *a)
{
    if (a->rk) {
        a->recreating = 1;
        rd_kafka_purge(a->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        int64_t until = fwi_now_ms() + 2000;
        while (rd_kafka_outq_len(a->rk) > 0 && fwi_now_ms() < until)
            rd_kafka_poll(a->rk, 10);
        rd_kafka_poll(a->rk, 0);
        rd_kafka_topic_destroy(a->rkt);
        a->rkt = NULL;
        rd_kafka_destroy(a->rk);
        a->rk = NULL;
        a->recreating = 0;
    }
    char err[512];
    a->rk = make_producer(a, err, sizeof err);
    if (!a->rk) {
        fwi_log(a, 0, "could not recreate the producer", "detail=\"%s\"", err);
        return; /* retried on the next loop; events wait in the resend list */
    }
    a->fatal = 0;
    fwi_count(a, FW_STAT_PRODUCER_RESTARTS, 1);
    fwi_log(a, 1, "producer recreated", "resend=%zu", a->n_resend);
    size_t n = a->n_resend;
    void **list = a->resend;
    a->resend = NULL;
    a->n_resend = a->cap_resend = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char *b = list[i];
        uint32_t kl, vl;
        memcpy(&kl, b, 4);
        memcpy(&vl, b + 4, 4);
        unsigned char *val = malloc(vl ? vl : 1);
        if (!val) {
            spool_or_drop(a, b + 8, kl, b + 8 + kl, vl, FW_STAT_DROPPED_NOMEM);
        } else {
            memcpy(val, b + 8 + kl, vl);
            while (produce_live(a, val, vl, b + 8, kl, 1) == RETRY)
                rd_kafka_poll(a->rk, 10);
        }
        atomic_fetch_sub(&a->in_flight_live, 1); /* its resend entry is gone */
        free(b);
    }
    free(list);
}

/* ---- the loop ----------------------------------------------------------- */

static int should_spool(fw_agent_t *a)
{
    if (!a->spool)
        return 0;
    if (!a->online || fws_pending(a->spool) > 0)
        return 1;
    return a->s.full_policy == FWI_POLICY_SPOOL && fwq_bytes(&a->q) > a->q.max_bytes / 2;
}

static void process(fw_agent_t *a, fw_entry *e, int64_t deadline)
{
    fwe_out o;
    int rc = fwe_encode(a->enc, e, &a->s, a->redactor, &o);
    if (rc == FWE_SAMPLED_OUT) {
        fwi_count(a, FW_STAT_SAMPLED_OUT, 1);
        return;
    }
    if (rc != FWE_OK) {
        fwi_count(a, rc == FWE_TOO_LARGE ? FW_STAT_DROPPED_TOO_LARGE : FW_STAT_DROPPED_NOMEM, 1);
        if (rc == FWE_NOMEM && a->last_logged_nomem + 1000 <= (uint64_t)fwi_now_ms()) {
            a->last_logged_nomem = (uint64_t)fwi_now_ms();
            fwi_log(a, 1, "out of memory encoding an event: dropped", NULL);
        }
        return;
    }
    if (o.redactions)
        fwi_count(a, FW_STAT_REDACTIONS, o.redactions);
    if (o.truncated)
        fwi_count(a, FW_STAT_TRUNCATED, 1);
    if (should_spool(a)) {
        spool_or_drop(a, o.key, o.key_len, o.buf, o.len, FW_STAT_DROPPED_DELIVERY_FAILED);
        free(o.buf);
        return;
    }
    for (;;) {
        int can_retry = !(a->spool && a->s.full_policy == FWI_POLICY_SPOOL) &&
                        (deadline == 0 || fwi_now_ms() < deadline);
        rc = produce_live(a, o.buf, o.len, o.key, o.key_len, can_retry);
        if (rc != RETRY)
            return;
        rd_kafka_poll(a->rk, 10);
        if (a->fatal)
            recreate_producer(a);
        if (should_spool(a)) {
            spool_or_drop(a, o.key, o.key_len, o.buf, o.len, FW_STAT_DROPPED_DELIVERY_FAILED);
            free(o.buf);
            return;
        }
    }
}

static size_t drain(fw_agent_t *a, size_t max, int64_t deadline)
{
    size_t n = 0;
    while (n < max) {
        fwq_node *node = fwq_pop(&a->q);
        if (!node)
            break;
        process(a, (fw_entry *)node, deadline);
        fwq_release(&a->q, node->size);
        fwi_entry_free(a, (fw_entry *)node);
        n++;
    }
    return n;
}

static void replay_step(fw_agent_t *a)
{
    if (!a->spool || !a->rk || a->fatal || a->replay_batch || fws_pending(a->spool) == 0)
        return;
    if (!a->online && fwi_now_ms() < a->next_replay_ms)
        return;
    uint64_t id = ++a->replay_seq;
    a->replay_batch = id;
    a->replay_failed = 0;
    a->replay_outstanding = 1; /* guard: the batch cannot complete while being built */
    a->replay_count = 0;
    size_t bytes = 0;
    while (a->replay_count < REPLAY_BATCH && bytes < REPLAY_MAX_BYTES) {
        unsigned char *buf;
        const void *key, *val;
        size_t kl, vl;
        int rc = fws_next(a->spool, &buf, &key, &kl, &val, &vl);
        if (rc <= 0)
            break;
        atomic_fetch_add(&a->in_flight_replay, 1);
        a->replay_outstanding++;
        rd_kafka_resp_err_t err = rd_kafka_producev(
            a->rk, RD_KAFKA_V_RKT(a->rkt), RD_KAFKA_V_VALUE((void *)(uintptr_t)val, vl),
            RD_KAFKA_V_KEY(key, kl), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)id), RD_KAFKA_V_END);
        free(buf);
        a->replay_count++;
        bytes += vl;
        if (err) {
            atomic_fetch_sub(&a->in_flight_replay, 1);
            a->replay_outstanding--;
            a->replay_failed = 1;
            break;
        }
    }
    if (--a->replay_outstanding == 0) {
        /* Nothing in flight: empty (corrupt records skipped) or all failed. */
        a->replay_batch = 0;
        if (a->replay_failed) {
            fws_rewind(a->spool);
            a->next_replay_ms = fwi_now_ms() + REPLAY_RETRY_MS;
        } else {
            fws_commit(a->spool);
        }
        spool_gauges(a);
    }
}

static void notify_flushers(fw_agent_t *a)
{
    if (atomic_load_explicit(&a->flush_waiters, memory_order_relaxed) > 0) {
        pthread_mutex_lock(&a->lock);
        pthread_cond_broadcast(&a->progress);
        pthread_mutex_unlock(&a->lock);
    }
}

static void deep_sleep(fw_agent_t *a, int ms)
{
    pthread_mutex_lock(&a->lock);
    /* Paused (a test hook), the queue is not drained: sleep anyway, and
     * without `sleeping`, so that recorders do not signal in vain
     * (fwi_agent_pause() wakes the thread). */
    int paused = atomic_load(&a->paused);
    if (!paused)
        atomic_store(&a->sleeping, 1);
    if ((fwq_count(&a->q) == 0 || paused) && !atomic_load(&a->stop)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)ms * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&a->wake, &a->lock, &ts);
    }
    atomic_store(&a->sleeping, 0);
    pthread_mutex_unlock(&a->lock);
}

static void shutdown_agent(fw_agent_t *a)
{
    int64_t deadline = fwi_now_ms() + a->s.shutdown_timeout_ms;
    if (deadline == fwi_now_ms())
        deadline++;
    /* Everything queued is encoded and handed on (or spooled). */
    while (drain(a, SIZE_MAX, deadline) > 0)
        ;
    while (fwi_now_ms() < deadline) {
        if (a->fatal)
            recreate_producer(a);
        if (!a->rk)
            break;
        if (atomic_load(&a->in_flight_live) == 0 && a->n_resend == 0 &&
            atomic_load(&a->in_flight_replay) == 0)
            break;
        rd_kafka_poll(a->rk, 10);
    }
    if (a->rk) {
        /* What is still undelivered is reported with PURGE errors and goes
         * to the spool (a replay batch simply stays in it). */
        rd_kafka_purge(a->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        int64_t until = fwi_now_ms() + 2000;
        while (rd_kafka_outq_len(a->rk) > 0 && fwi_now_ms() < until)
            rd_kafka_poll(a->rk, 10);
        rd_kafka_poll(a->rk, 0);
    }
    for (size_t i = 0; i < a->n_resend; i++) {
        unsigned char *b = a->resend[i];
        uint32_t kl, vl;
        memcpy(&kl, b, 4);
        memcpy(&vl, b + 4, 4);
        spool_or_drop(a, b + 8, kl, b + 8 + kl, vl, FW_STAT_DROPPED_SHUTDOWN);
        atomic_fetch_sub(&a->in_flight_live, 1);
        free(b);
    }
    a->n_resend = 0;
    spool_gauges(a);
}

static void *agent_main(void *arg)
{
    fw_agent_t *a = arg;
    int idle = 0;
    while (!atomic_load(&a->stop)) {
        if (atomic_exchange(&a->inject_fatal, 0) && a->rk)
            rd_kafka_test_fatal_error(a->rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                      "injected by a test");
        if (a->fatal || !a->rk)
            recreate_producer(a);
        size_t did = 0;
        if (!atomic_load(&a->paused))
            did = drain(a, DRAIN_BATCH, 0);
        int served = a->rk ? rd_kafka_poll(a->rk, 0) : 0;
        replay_step(a);
        if (did || served)
            notify_flushers(a);
        if (did) {
            idle = 0;
            continue;
        }
        if (++idle < 50 || atomic_load(&a->in_flight_live) || atomic_load(&a->in_flight_replay) ||
            (a->spool && fws_pending(a->spool)) || atomic_load(&a->flush_waiters) || a->n_resend) {
            if (a->rk)
                served = rd_kafka_poll(a->rk, 1);
            else {
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL);
            }
            if (served)
                notify_flushers(a);
        } else {
            deep_sleep(a, 100);
        }
    }
    shutdown_agent(a);
    return NULL;
}

/* ---- public ------------------------------------------------------------- */

static void agent_free(fw_agent_t *a)
{
    fwq_node *n;
    while ((n = fwq_pop(&a->q))) {
        fwq_release(&a->q, n->size);
        free(n);
    }
    for (int i = 0; i < a->n_pool; i++)
        free(a->pool[i]);
    pthread_mutex_destroy(&a->pool_lock);
    if (a->rkt)
        rd_kafka_topic_destroy(a->rkt);
    if (a->rk)
        rd_kafka_destroy(a->rk);
    fws_close(a->spool);
    fwr_free(a->redactor);
    fwe_free(a->enc);
    free(a->resend);
    fwq_destroy(&a->q);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->wake);
    pthread_cond_destroy(&a->progress);
    free(a);
}

fw_agent_t *fw_agent_new(fw_conf_t *conf, char *errstr, size_t size)
{
    char dummy[1];
    if (!errstr || !size) {
        errstr = dummy;
        size = sizeof dummy;
    }
    errstr[0] = '\0';
    if (!conf) {
        snprintf(errstr, size, "invalid argument: conf is NULL");
        return NULL;
    }
    /* 64-byte aligned: the queue keeps its fields on separate cache lines. */
    size_t asize = (sizeof(fw_agent_t) + 63) & ~(size_t)63;
    fw_agent_t *a = aligned_alloc(64, asize);
    if (!a) {
        snprintf(errstr, size, "out of memory");
        return NULL;
    }
    memset(a, 0, asize);
    a->conf = conf;
    if (fwq_init(&a->q, 0) != 0) {
        free(a);
        snprintf(errstr, size, "could not initialise the queue");
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->pool_lock, NULL);
    pthread_cond_init(&a->wake, &ca);
    pthread_cond_init(&a->progress, &ca);
    pthread_condattr_destroy(&ca);
    a->online = 1;
    if (fwi_conf_parse(conf, &a->s, errstr, size) != FW_OK)
        goto fail;
    a->q.max_bytes = (size_t)a->s.queue_max_bytes;
    if (a->s.redact_detectors || conf->n_regex || conf->redact_cb) {
        a->redactor = fwr_new(a->s.redact_detectors);
        if (!a->redactor) {
            snprintf(errstr, size, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < conf->n_regex; i++) {
            char rerr[256];
            if (fwr_add_regex(a->redactor, conf->regex[i].key, conf->regex[i].value, rerr,
                              sizeof rerr) != 0) {
                snprintf(errstr, size, "invalid value for \"redact.regex.%s\": %s",
                         conf->regex[i].key, rerr);
                goto fail;
            }
        }
        if (conf->redact_cb)
            fwr_set_callback(a->redactor, conf->redact_cb, conf->redact_opaque);
    }
    if (!(a->enc = fwe_new())) {
        snprintf(errstr, size, "out of memory");
        goto fail;
    }
    if (!(a->rk = make_producer(a, errstr, size)))
        goto fail;
    if (*a->s.spool_dir) {
        a->spool =
            fws_open(a->s.spool_dir, a->s.spool_max_bytes, a->s.spool_segment_bytes, errstr, size);
        if (!a->spool)
            goto fail;
        spool_gauges(a);
        if (fws_pending(a->spool))
            fwi_log(a, 2, "spool holds events from an earlier run: replaying", "records=%llu",
                    (unsigned long long)fws_pending(a->spool));
    }
    a->pid = getpid();
    fwi_atfork_register();
    a->fork_gen = fwi_fork_generation();
    if (pthread_create(&a->thread, NULL, agent_main, a) != 0) {
        snprintf(errstr, size, "could not start the agent thread");
        goto fail;
    }
    a->thread_started = 1;
    return a;
fail:
    a->conf = NULL; /* the caller keeps conf */
    agent_free(a);
    return NULL;
}

fw_err_t fw_agent_flush(fw_agent_t *a, int timeout_ms)
{
    if (!a)
        return FW_ERR_INVALID_ARG;
    if (fwi_forked(a))
        return FW_ERR_FORKED; /* nobody drains this copy of the queue */
    int64_t deadline = fwi_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    atomic_fetch_add(&a->flush_waiters, 1);
    fw_err_t rc = FW_ERR_TIMED_OUT;
    pthread_mutex_lock(&a->lock);
    for (;;) {
        if (fwq_count(&a->q) == 0 && atomic_load(&a->in_flight_live) == 0) {
            rc = FW_OK;
            break;
        }
        int64_t now = fwi_now_ms();
        if (now >= deadline)
            break;
        pthread_cond_signal(&a->wake);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 10 * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&a->progress, &a->lock, &ts);
    }
    pthread_mutex_unlock(&a->lock);
    atomic_fetch_sub(&a->flush_waiters, 1);
    return rc;
}

void fw_agent_destroy(fw_agent_t *a)
{
    if (!a)
        return;
    if (fwi_forked(a) || getpid() != a->pid)
        return; /* a forked child: the thread does not exist here (see flywheel.h) */
    atomic_store(&a->stop, 1);
    pthread_mutex_lock(&a->lock);
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    if (a->thread_started)
        pthread_join(a->thread, NULL);
    fw_conf_t *conf = a->conf;
    agent_free(a);
    fw_conf_destroy(conf);
}

/* One stat, read with acquire (see fwi_count()). DROPPED is the sum of the
 * stats of kind FW_STATK_DROP in the one list. */
static uint64_t stat_read(fw_agent_t *a, fw_stat_t stat)
{
    switch (stat) {
    case FW_STAT_IN_QUEUE:
        return atomic_load_explicit(&a->q.count, memory_order_acquire);
    case FW_STAT_IN_QUEUE_BYTES:
        return fwq_bytes(&a->q);
    case FW_STAT_IN_FLIGHT:
        return atomic_load_explicit(&a->in_flight_live, memory_order_acquire);
    case FW_STAT_DROPPED: {
        uint64_t sum = 0;
#define FW_STAT_DROP_SUM_(name, value, kind, desc)                                                 \
    if (kind == FW_STATK_DROP)                                                                     \
        sum += atomic_load_explicit(&a->st[fwi_st_slot(value)], memory_order_acquire);
        FW_STAT_MAP(FW_STAT_DROP_SUM_)
#undef FW_STAT_DROP_SUM_
        return sum;
    }
    default:
        return atomic_load_explicit(&a->st[fwi_st_slot(stat)], memory_order_acquire);
    }
}

uint64_t fw_agent_stat(const fw_agent_t *a_, fw_stat_t stat)
{
    fw_agent_t *a = (fw_agent_t *)(uintptr_t)a_;
    if (!a || (int)stat < 0 || stat >= FW_STAT__COUNT)
        return 0;
    return stat_read(a, stat);
}

/* The order in which fw_agent_stats() reads: along the path of an event,
 * RECORDED first, then where an event waits (queue, in flight), then where
 * it ends; the rest (bytes, gauges of the spool, counters outside the ledger)
 * after. With every move counted in its new place before it leaves the old
 * one, an event counted in RECORDED is found at least once further on. */
static const fw_stat_t snapshot_order[] = {
    FW_STAT_RECORDED,  FW_STAT_IN_QUEUE, FW_STAT_IN_FLIGHT,
    FW_STAT_DELIVERED, FW_STAT_SPOOLED,  FW_STAT_SAMPLED_OUT,
};

size_t fw_agent_stats(const fw_agent_t *a_, uint64_t *out, size_t n)
{
    fw_agent_t *a = (fw_agent_t *)(uintptr_t)a_;
    if (!a || !out)
        return 0;
    if (n > FW_STAT__COUNT)
        n = FW_STAT__COUNT;
    unsigned char done[FW_STAT__COUNT] = {0};
    uint64_t v[FW_STAT__COUNT];
    for (size_t i = 0; i < sizeof snapshot_order / sizeof snapshot_order[0]; i++) {
        v[snapshot_order[i]] = stat_read(a, snapshot_order[i]);
        done[snapshot_order[i]] = 1;
    }
    /* The drop reasons (and their total, from the same reads), then the rest. */
    uint64_t dropped = 0;
    for (int s = 0; s < FW_STAT__COUNT; s++)
        if (fw_stat_kind((fw_stat_t)s) == FW_STATK_DROP) {
            v[s] = atomic_load_explicit(&a->st[fwi_st_slot((fw_stat_t)s)], memory_order_acquire);
            dropped += v[s];
            done[s] = 1;
        }
    v[FW_STAT_DROPPED] = dropped;
    done[FW_STAT_DROPPED] = 1;
    for (int s = 0; s < FW_STAT__COUNT; s++)
        if (!done[s])
            v[s] = stat_read(a, (fw_stat_t)s);
    memcpy(out, v, n * sizeof *out);
    return n;
}

void fwi_agent_pause(fw_agent_t *a, int paused)
{
    atomic_store(&a->paused, paused);
    pthread_mutex_lock(&a->lock);
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
}

void fwi_agent_inject_fatal(fw_agent_t *a)
{
    atomic_store(&a->inject_fatal, 1);
}

uint64_t fwi_agent_thread_cpu_ns(fw_agent_t *a)
{
    clockid_t cid;
    struct timespec ts;
    if (!a->thread_started || pthread_getcpuclockid(a->thread, &cid) != 0 ||
        clock_gettime(cid, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
