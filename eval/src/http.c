/*
 * The request engine of http.h. One curl multi handle; easy handles are
 * kept in a free list and reused, so connections (and their keep-alive) are
 * reused too. The queue is FIFO except that a request waiting for a retry
 * or for its limiter does not hold back the ones behind it.
 */
#include "http.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_RESPONSE    (16u << 20)
#define MAX_RETRY_AFTER 120.0

struct fw_http {
    fw_http_opts o;
    CURLM *multi;
    fw_http_req *queue, *queue_tail;
    fw_http_req *running; /* in flight, linked through ->next */
    size_t queued, active;
    CURL **free_easy;
    size_t n_free;
    long retries;
    uint64_t rng;
};

double fw_http_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double jitter(fw_http *h)
{
    /* xorshift64*: only spreads retries, so quality barely matters. */
    h->rng ^= h->rng >> 12;
    h->rng ^= h->rng << 25;
    h->rng ^= h->rng >> 27;
    return (double)((h->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

fw_http *fw_http_new(const fw_http_opts *o, char *err, size_t errsize)
{
    static int global_done;
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errsize, "could not initialise libcurl");
            return NULL;
        }
        global_done = 1;
    }
    fw_http *h = calloc(1, sizeof *h);
    if (!h || !(h->free_easy = calloc((size_t)o->concurrency, sizeof(CURL *)))) {
        free(h);
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    h->o = *o;
    h->multi = curl_multi_init();
    if (!h->multi) {
        free(h->free_easy);
        free(h);
        snprintf(err, errsize, "could not create a libcurl multi handle");
        return NULL;
    }
    curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)o->concurrency);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)o->concurrency);
    h->rng = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL | 1;
    return h;
}

void fw_http_req_reset(fw_http_req *r)
{
    free(r->resp);
    r->resp = NULL;
    r->resp_len = r->cap = 0;
    r->status = 0;
    r->attempts = r->retries = 0;
    r->failed = 0;
    r->error[0] = '\0';
    r->latency_ms = 0;
    r->retry_after = 0;
}

static void release_easy(fw_http *h, fw_http_req *r)
{
    CURL *e = r->easy;
    if (!e)
        return;
    for (fw_http_req **pp = &h->running; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    r->next = NULL;
    curl_multi_remove_handle(h->multi, e);
    curl_slist_free_all(r->hdrs);
    r->hdrs = NULL;
    r->easy = NULL;
    if (h->n_free < (size_t)h->o.concurrency)
        h->free_easy[h->n_free++] = e;
    else
        curl_easy_cleanup(e);
    h->active--;
}

void fw_http_free(fw_http *h)
{
    if (!h)
        return;
    /* Transfers still running belong to requests the caller owns. */
    while (h->running) {
        fw_http_req *r = h->running;
        h->running = r->next;
        r->next = NULL;
        curl_multi_remove_handle(h->multi, r->easy);
        curl_slist_free_all(r->hdrs);
        curl_easy_cleanup(r->easy);
        r->hdrs = r->easy = NULL;
    }
    for (size_t i = 0; i < h->n_free; i++)
        curl_easy_cleanup(h->free_easy[i]);
    free(h->free_easy);
    curl_multi_cleanup(h->multi);
    free(h);
}

size_t fw_http_pending(const fw_http *h)
{
    return h->queued + h->active;
}

long fw_http_retries(const fw_http *h)
{
    return h->retries;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    fw_http_req *r = ud;
    size_t len = size * n;
    if (r->resp_len + len + 1 > MAX_RESPONSE)
        return 0;
    if (r->resp_len + len + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->resp_len + len + 1)
            cap *= 2;
        char *b = realloc(r->resp, cap);
        if (!b)
            return 0;
        r->resp = b;
        r->cap = cap;
    }
    memcpy(r->resp + r->resp_len, p, len);
    r->resp_len += len;
    r->resp[r->resp_len] = '\0';
    return len;
}

/* Seconds from a Retry-After value: delta-seconds or an HTTP date. */
static double parse_retry_after(const char *v, size_t n)
{
    char buf[64];
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, v, n);
    buf[n] = '\0';
    char *end;
    double d = strtod(buf, &end);
    if (end != buf && (*end == '\0' || *end == ' '))
        return d < 0 ? 0 : d;
    time_t t = curl_getdate(buf, NULL);
    if (t < 0)
        return 0;
    double delta = difftime(t, time(NULL));
    return delta < 0 ? 0 : delta;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    fw_http_req *r = ud;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        const char *v = p + sizeof name - 1, *e = p + len;
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
            e--;
        r->retry_after = parse_retry_after(v, (size_t)(e - v));
        if (r->retry_after > MAX_RETRY_AFTER)
            r->retry_after = MAX_RETRY_AFTER;
    }
    return len;
}

static int start(fw_http *h, fw_http_req *r, char *err, size_t errsize)
{
    CURL *e = h->n_free ? h->free_easy[--h->n_free] : curl_easy_init();
    if (!e) {
        snprintf(err, errsize, "could not create a libcurl handle");
        return -1;
    }
    curl_easy_reset(e);
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    if (hd && r->api_key) {
        /* Built, handed to libcurl and wiped: the key lives only in the
         * header list of this transfer. */
        size_t n = strlen(r->api_key) + 32;
        char *a = malloc(n);
        struct curl_slist *t = NULL;
        if (a) {
            snprintf(a, n, "Authorization: Bearer %s", r->api_key);
            t = curl_slist_append(hd, a);
            memset(a, 0, n);
            free(a);
        }
        if (!t) {
            curl_slist_free_all(hd);
            hd = NULL;
        }
    }
    if (hd && !curl_slist_append(hd, "Expect:")) {
        curl_slist_free_all(hd);
        hd = NULL;
    }
    if (!hd) {
        curl_easy_cleanup(e);
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    free(r->resp);
    r->resp = NULL;
    r->resp_len = r->cap = 0;
    r->retry_after = 0;
    r->status = 0;
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(h->o.timeout_s * 1000));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(h->o.timeout_s < 10 ? h->o.timeout_s * 1000 : 10000));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "flywheel-eval");
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        curl_slist_free_all(hd);
        curl_easy_cleanup(e);
        snprintf(err, errsize, "could not add a transfer");
        return -1;
    }
    r->easy = e;
    r->hdrs = hd;
    r->next = h->running;
    h->running = r;
    r->attempts++;
    r->attempt_start = fw_http_now();
    if (r->attempts == 1)
        r->first_start = r->attempt_start;
    h->active++;
    return 0;
}

void fw_http_submit(fw_http *h, fw_http_req *r)
{
    fw_http_req_reset(r);
    r->not_before = 0;
    r->next = NULL;
    if (h->queue_tail)
        h->queue_tail->next = r;
    else
        h->queue = r;
    h->queue_tail = r;
    h->queued++;
}

static int limiter_allows(fw_limiter *l, double now, double *wait)
{
    if (!l)
        return 1;
    if (now < l->paused_until) {
        *wait = l->paused_until - now;
        return 0;
    }
    if (l->rate > 0 && now < l->next) {
        *wait = l->next - now;
        return 0;
    }
    return 1;
}

static void limiter_take(fw_limiter *l, double now)
{
    if (l && l->rate > 0)
        l->next = (l->next > now ? l->next : now) + 1.0 / l->rate;
}

/* Starts queued requests that may start; returns the seconds until the
 * next one could (or a large number). Requests that fail to start finish
 * at once, as failed, through *done. */
static double start_ready(fw_http *h, fw_http_req **done)
{
    double now = fw_http_now(), soonest = 3600;
    fw_http_req **pp = &h->queue, *prev = NULL;
    while (*pp && h->active < (size_t)h->o.concurrency) {
        fw_http_req *r = *pp;
        double wait = 0;
        if (now < r->not_before) {
            wait = r->not_before - now;
        } else if (limiter_allows(r->lim, now, &wait)) {
            *pp = r->next;
            if (h->queue_tail == r)
                h->queue_tail = prev;
            h->queued--;
            r->next = NULL;
            limiter_take(r->lim, now);
            if (start(h, r, r->error, sizeof r->error)) {
                r->failed = 1;
                r->next = *done;
                *done = r;
            }
            continue;
        }
        if (wait < soonest)
            soonest = wait;
        prev = r;
        pp = &r->next;
    }
    return soonest;
}

static int retryable_status(long s)
{
    return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

static int retryable_curl(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

static void requeue(fw_http *h, fw_http_req *r, double delay)
{
    r->not_before = fw_http_now() + delay;
    r->next = NULL;
    if (h->queue_tail)
        h->queue_tail->next = r;
    else
        h->queue = r;
    h->queue_tail = r;
    h->queued++;
    h->retries++;
    r->retries++;
}

static void finish(fw_http *h, CURLMsg *m, fw_http_req **done)
{
    fw_http_req *r = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
    CURLcode code = m->data.result;
    curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &r->status);
    release_easy(h, r);
    double now = fw_http_now();
    r->latency_ms = (now - r->attempt_start) * 1000;
    r->end = now;
    int retry = code != CURLE_OK ? retryable_curl(code) : retryable_status(r->status);
    if (code != CURLE_OK)
        snprintf(r->error, sizeof r->error, "%s", curl_easy_strerror(code));
    else if (r->status >= 400)
        snprintf(r->error, sizeof r->error, "HTTP status %ld", r->status);
    else
        r->error[0] = '\0';
    if (retry && r->attempts <= h->o.max_retries) {
        double backoff = h->o.backoff_base_s;
        for (int i = 1; i < r->attempts && backoff < h->o.backoff_max_s; i++)
            backoff *= 2;
        if (backoff > h->o.backoff_max_s)
            backoff = h->o.backoff_max_s;
        double delay = backoff * (0.5 + 0.5 * jitter(h));
        if (r->retry_after > 0) {
            delay = r->retry_after;
            if (r->status == 429 && r->lim && now + delay > r->lim->paused_until)
                r->lim->paused_until = now + delay;
        }
        requeue(h, r, delay);
        return;
    }
    r->failed = code != CURLE_OK;
    r->next = *done;
    *done = r;
}

fw_http_req *fw_http_run(fw_http *h, int wait_ms)
{
    fw_http_req *done = NULL;
    double soonest = start_ready(h, &done);
    int running = 0;
    curl_multi_perform(h->multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left)))
        if (m->msg == CURLMSG_DONE)
            finish(h, m, &done);
    if (done)
        return done;
    int timeout = wait_ms;
    if (h->queued && soonest * 1000 < timeout)
        timeout = (int)(soonest * 1000) + 1;
    if (h->active)
        curl_multi_poll(h->multi, NULL, 0, timeout, NULL);
    else if (h->queued && timeout > 0) {
        struct timespec ts = {timeout / 1000, (long)(timeout % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    curl_multi_perform(h->multi, &running);
    while ((m = curl_multi_info_read(h->multi, &left)))
        if (m->msg == CURLMSG_DONE)
            finish(h, m, &done);
    start_ready(h, &done);
    return done;
}
