/*
 * HTTP POSTs of JSON through the libcurl multi interface, on the caller's
 * thread: bounded concurrency, a rate limit per endpoint, a timeout per
 * attempt, and retries with exponential backoff (full jitter) on transport
 * errors, 408, 429 and 5xx. A Retry-After header (seconds or an HTTP date)
 * is honoured: the request waits that long, and a 429 also pauses every
 * request of its limiter until then, since the endpoint said it is
 * overloaded, not just this request.
 *
 * The API key is copied into the Authorization header of each transfer and
 * nowhere else; error texts never include headers or bodies.
 *
 * Not thread-safe: one engine per thread. Requests are owned by the caller;
 * the engine holds them from submit until they come back from run.
 */
#ifndef FW_EVAL_HTTP_H
#define FW_EVAL_HTTP_H

#include <stddef.h>

typedef struct {
    double rate;         /* requests per second; 0 = unlimited */
    double next;         /* monotonic time of the next allowed start */
    double paused_until; /* after a 429 with Retry-After */
} fw_limiter;

typedef struct fw_http_req {
    /* set by the caller */
    const char *url;
    char *body; /* owned by the caller */
    size_t body_len;
    const char *api_key; /* NULL: no Authorization header */
    fw_limiter *lim;
    void *user;
    int tag; /* the caller's, untouched */
    /* results */
    long status; /* HTTP status of the last attempt; 0 when there was none */
    char *resp;  /* body of the last attempt (NUL-terminated, owned; freed by fw_http_req_reset) */
    size_t resp_len;
    int attempts;
    int retries;             /* attempts - 1 */
    double latency_ms;       /* of the last attempt */
    double first_start, end; /* monotonic seconds */
    int failed;              /* 1: transport error after the last retry */
    char error[256];         /* when failed, or the status line reason */
    /* internal */
    struct fw_http_req *next;
    void *easy;
    void *hdrs;
    double not_before, attempt_start, retry_after;
    size_t cap;
} fw_http_req;

typedef struct fw_http fw_http;

typedef struct {
    int concurrency;       /* transfers at once, >= 1 */
    double timeout_s;      /* per attempt */
    int max_retries;       /* retries after the first attempt */
    double backoff_base_s; /* first retry waits up to this; doubles each time */
    double backoff_max_s;
} fw_http_opts;

/* A new engine, or NULL with the reason in err. */
fw_http *fw_http_new(const fw_http_opts *o, char *err, size_t errsize);

/* Stops every transfer and frees the engine; accepts NULL. Requests still
 * held are neither returned nor freed. */
void fw_http_free(fw_http *h);

/* Queues a request (FIFO). Clears its results first. */
void fw_http_submit(fw_http *h, fw_http_req *r);

/*
 * Starts what may start, waits up to wait_ms for progress and returns the
 * requests that finished (a list through ->next), or NULL. A request is
 * finished when it got an HTTP answer that is not retried, or when its
 * retries are used up (then `failed` or a 429/5xx status tells).
 */
fw_http_req *fw_http_run(fw_http *h, int wait_ms);

/* Requests queued or in flight. */
size_t fw_http_pending(const fw_http *h);

/* Total retries so far. */
long fw_http_retries(const fw_http *h);

/* Frees a request's response body and clears its results. */
void fw_http_req_reset(fw_http_req *r);

/* Monotonic clock in seconds. */
double fw_http_now(void);

#endif
