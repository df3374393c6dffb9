/*
 * Prometheus metrics of the web server: requests by route and status class,
 * a latency histogram by route, and counters of refused requests by reason
 * (CSRF, origin, rate limit, body limits) and of database errors. Routes
 * are the fixed names of the route table, never raw URLs, so the number of
 * series is bounded. Thread-safe (one mutex; a request takes it once).
 */
#ifndef FW_SERVE_METRICS_H
#define FW_SERVE_METRICS_H

#include "buf.h"

/* Registers the route names; call once before serving. Names must stay
 * valid (string literals). At most 64. */
void sv_metrics_init(const char *const *routes, int n);

/* Records a finished request: route index (-1: no route, counted as
 * "none"), HTTP status, seconds taken. */
void sv_metrics_request(int route, unsigned status, double seconds);

typedef enum {
    SV_REFUSED_CSRF = 0,
    SV_REFUSED_ORIGIN,
    SV_REFUSED_RATE,
    SV_REFUSED_BODY,
    SV_REFUSED_TYPE,
    SV_REFUSED_N
} sv_refusal;

void sv_metrics_refused(sv_refusal why);
void sv_metrics_db_error(void);
void sv_metrics_signin(int ok);

/* Appends the text exposition format. */
void sv_metrics_render(sv_buf *b);

#endif
