/* Prometheus metrics; see metrics.h. */
#include "metrics.h"

#include <pthread.h>
#include <stdint.h>

#define MAX_ROUTES 64
static const double BOUNDS[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define N_BOUNDS (sizeof BOUNDS / sizeof BOUNDS[0])

typedef struct {
    uint64_t by_class[6]; /* 1xx..5xx at index 1..5 */
    uint64_t buckets[N_BOUNDS];
    uint64_t count;
    double sum;
} route_stats;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static const char *names[MAX_ROUTES + 1];
static route_stats stats[MAX_ROUTES + 1]; /* last slot: "none" */
static int n_routes;
static uint64_t refused[SV_REFUSED_N];
static uint64_t db_errors, signins_ok, signins_failed;
static const char *const refusal_names[SV_REFUSED_N] = {"csrf", "origin", "rate_limit",
                                                        "body_limit", "content_type"};

void sv_metrics_init(const char *const *routes, int n)
{
    pthread_mutex_lock(&mu);
    n_routes = n > MAX_ROUTES ? MAX_ROUTES : n;
    for (int i = 0; i < n_routes; i++)
        names[i] = routes[i];
    names[n_routes] = "none";
    pthread_mutex_unlock(&mu);
}

void sv_metrics_request(int route, unsigned status, double seconds)
{
    pthread_mutex_lock(&mu);
    route_stats *s = &stats[(route >= 0 && route < n_routes) ? route : n_routes];
    unsigned cls = status / 100;
    s->by_class[cls >= 1 && cls <= 5 ? cls : 5]++;
    for (size_t i = 0; i < N_BOUNDS; i++)
        if (seconds <= BOUNDS[i])
            s->buckets[i]++;
    s->count++;
    s->sum += seconds;
    pthread_mutex_unlock(&mu);
}

void sv_metrics_refused(sv_refusal why)
{
    pthread_mutex_lock(&mu);
    refused[why]++;
    pthread_mutex_unlock(&mu);
}

void sv_metrics_db_error(void)
{
    pthread_mutex_lock(&mu);
    db_errors++;
    pthread_mutex_unlock(&mu);
}

void sv_metrics_signin(int ok)
{
    pthread_mutex_lock(&mu);
    if (ok)
        signins_ok++;
    else
        signins_failed++;
    pthread_mutex_unlock(&mu);
}

void sv_metrics_render(sv_buf *b)
{
    pthread_mutex_lock(&mu);
    sv_puts(b, "# HELP flywheel_serve_requests_total HTTP requests by route and status class.\n"
               "# TYPE flywheel_serve_requests_total counter\n");
    for (int r = 0; r <= n_routes; r++)
        for (int c = 1; c <= 5; c++)
            if (stats[r].by_class[c])
                sv_printf(b, "flywheel_serve_requests_total{route=\"%s\",code=\"%dxx\"} %llu\n",
                          names[r], c, (unsigned long long)stats[r].by_class[c]);
    sv_puts(b, "# HELP flywheel_serve_request_duration_seconds Time to answer a request.\n"
               "# TYPE flywheel_serve_request_duration_seconds histogram\n");
    for (int r = 0; r <= n_routes; r++) {
        if (!stats[r].count)
            continue;
        for (size_t i = 0; i < N_BOUNDS; i++)
            sv_printf(b,
                      "flywheel_serve_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                      "%llu\n",
                      names[r], BOUNDS[i], (unsigned long long)stats[r].buckets[i]);
        sv_printf(b,
                  "flywheel_serve_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                  "%llu\n",
                  names[r], (unsigned long long)stats[r].count);
        sv_printf(b, "flywheel_serve_request_duration_seconds_sum{route=\"%s\"} %.6f\n", names[r],
                  stats[r].sum);
        sv_printf(b, "flywheel_serve_request_duration_seconds_count{route=\"%s\"} %llu\n", names[r],
                  (unsigned long long)stats[r].count);
    }
    sv_puts(b, "# HELP flywheel_serve_refused_total Requests refused before any work, by reason.\n"
               "# TYPE flywheel_serve_refused_total counter\n");
    for (int i = 0; i < SV_REFUSED_N; i++)
        sv_printf(b, "flywheel_serve_refused_total{reason=\"%s\"} %llu\n", refusal_names[i],
                  (unsigned long long)refused[i]);
    sv_printf(b,
              "# HELP flywheel_serve_db_errors_total Failed database calls (connection, timeout, "
              "unexpected errors).\n# TYPE flywheel_serve_db_errors_total counter\n"
              "flywheel_serve_db_errors_total %llu\n",
              (unsigned long long)db_errors);
    sv_printf(b,
              "# HELP flywheel_serve_signins_total Sign-in attempts by result.\n"
              "# TYPE flywheel_serve_signins_total counter\n"
              "flywheel_serve_signins_total{result=\"ok\"} %llu\n"
              "flywheel_serve_signins_total{result=\"refused\"} %llu\n",
              (unsigned long long)signins_ok, (unsigned long long)signins_failed);
    pthread_mutex_unlock(&mu);
}
