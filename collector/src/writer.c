/*
 * The writer thread; see writer.h for the hand-off protocol and who owns
 * the connection when. The thread sleeps on a condition variable until a
 * batch is submitted, writes it (splitting on data errors), publishes the
 * outcome and signals the consumer.
 */
#include "writer.h"

#include "log.h"
#include "metrics.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { W_IDLE = 0, W_QUEUED, W_DONE } wstate;

struct fw_writer {
    fw_sink *sink;
    char *group;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    wstate state;        /* guarded by lock */
    int stop;            /* guarded by lock */
    fw_batch *batch;     /* the batch in flight (state QUEUED or DONE) */
    fw_write_outcome out;
    int busy; /* consumer thread's view: submitted, not collected */
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes items [lo, hi) of b, splitting on data errors; see writer.h. */
static fw_pg_class write_range(fw_writer *w, fw_batch *b, size_t lo, size_t hi, fw_write_stats *st)
{
    char sqlstate[6], err[1024];
    fw_pg_class r = fw_sink_write(w->sink, b, lo, hi, st, sqlstate, err, sizeof err);
    if (r == FW_PG_OK) {
        for (size_t i = lo; i < hi; i++)
            if (b->items[i].table == FW_T_DEAD_LETTERS)
                fw_metrics_dead_letter((fw_dl_reason)b->items[i].reason);
        return r;
    }
    fw_metrics_pg_error(sqlstate);
    if (r != FW_PG_DATA) {
        char q[1100];
        fw_log_error("could not write batch", "sqlstate=%s class=%s rows=%zu target=%s error=%s",
                     sqlstate[0] ? sqlstate : "none", r == FW_PG_RETRY ? "retry" : "fatal", hi - lo,
                     fw_sink_target(w->sink), fw_log_quote(q, sizeof q, err));
        if (r == FW_PG_FATAL)
            fw_log_error("fatal postgresql error", "error=%s", fw_log_quote(q, sizeof q, err));
        return r;
    }
    if (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        r = write_range(w, b, lo, mid, st);
        return r == FW_PG_OK ? write_range(w, b, mid, hi, st) : r;
    }
    /* One message the database refused: dead-letter it with its offset. */
    const fw_batch_item *it = &b->items[lo];
    char code[32];
    snprintf(code, sizeof code, "data_error:%s", sqlstate);
    fw_log_warn("row refused by postgresql, dead-lettering it",
                "topic=%s partition=%d offset=%lld sqlstate=%s", rd_kafka_topic_name(it->msg->rkt),
                (int)it->msg->partition, (long long)it->msg->offset, sqlstate);
    fw_batch one = {0};
    if (fw_batch_add_dead_letter(&one, it->msg, w->group, FW_DL_DATA_ERROR, code, err) != 0) {
        fw_batch_free(&one);
        return FW_PG_FATAL;
    }
    char refused[6];
    memcpy(refused, sqlstate, sizeof refused);
    r = fw_sink_write(w->sink, &one, 0, 1, st, sqlstate, err, sizeof err);
    fw_batch_free(&one);
    if (r == FW_PG_OK) {
        fw_metrics_dead_letter_data(refused);
    } else {
        fw_metrics_pg_error(sqlstate);
        if (r == FW_PG_DATA) {
            fw_log_error("could not store a dead letter", "sqlstate=%s", sqlstate);
            r = FW_PG_FATAL;
        }
    }
    return r;
}

static void *run(void *arg)
{
    fw_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->state != W_QUEUED && !w->stop)
            pthread_cond_wait(&w->cond, &w->lock);
        if (w->state != W_QUEUED)
            break; /* stop requested and nothing queued */
        fw_batch *b = w->batch;
        pthread_mutex_unlock(&w->lock);
        fw_write_outcome o;
        memset(&o, 0, sizeof o);
        o.started_at = mono_s();
        o.result = write_range(w, b, 0, b->n, &o.st);
        o.finished_at = mono_s();
        pthread_mutex_lock(&w->lock);
        w->out = o;
        w->state = W_DONE;
        pthread_cond_broadcast(&w->cond);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

fw_writer *fw_writer_new(fw_sink *sink, const char *group, char *err, size_t errsize)
{
    fw_writer *w = calloc(1, sizeof *w);
    pthread_condattr_t ca;
    int have_ca = 0, have_lock = 0, have_cond = 0;
    sigset_t all, old;
    snprintf(err, errsize, "out of memory");
    if (!w || !(w->group = strdup(group)))
        goto fail;
    w->sink = sink;
    snprintf(err, errsize, "could not start the writer thread");
    if (pthread_condattr_init(&ca) != 0)
        goto fail;
    have_ca = 1;
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_mutex_init(&w->lock, NULL) != 0)
        goto fail;
    have_lock = 1;
    if (pthread_cond_init(&w->cond, &ca) != 0)
        goto fail;
    have_cond = 1;
    /* Signals are for the consumer thread: the writer blocks them all. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int e = pthread_create(&w->thread, NULL, run, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0)
        goto fail;
    pthread_condattr_destroy(&ca);
    err[0] = '\0';
    return w;
fail:
    if (have_ca)
        pthread_condattr_destroy(&ca);
    if (have_cond)
        pthread_cond_destroy(&w->cond);
    if (have_lock)
        pthread_mutex_destroy(&w->lock);
    if (w)
        free(w->group);
    free(w);
    return NULL;
}

void fw_writer_free(fw_writer *w)
{
    if (!w)
        return;
    fw_write_outcome ignored;
    if (w->busy)
        fw_writer_collect(w, -1, &ignored);
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w->group);
    free(w);
}

void fw_writer_submit(fw_writer *w, fw_batch *b)
{
    pthread_mutex_lock(&w->lock);
    w->batch = b;
    w->state = W_QUEUED;
    w->busy = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

int fw_writer_busy(const fw_writer *w)
{
    return w && w->busy;
}

int fw_writer_collect(fw_writer *w, int timeout_ms, fw_write_outcome *out)
{
    if (!w || !w->busy)
        return 0;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    if (timeout_ms > 0) {
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&w->lock);
    while (w->state != W_DONE) {
        if (timeout_ms < 0)
            pthread_cond_wait(&w->cond, &w->lock);
        else if (timeout_ms == 0 || pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT)
            break;
    }
    int done = w->state == W_DONE;
    if (done) {
        *out = w->out;
        w->state = W_IDLE;
        w->batch = NULL;
        w->busy = 0;
    }
    pthread_mutex_unlock(&w->lock);
    return done;
}
