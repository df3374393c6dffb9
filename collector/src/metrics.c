/*
 * Metrics storage and rendering; see metrics.h. Histograms use fixed
 * buckets chosen for the figures the collector is held to (batches of 1k-10k
 * rows, commits of tens of milliseconds, end-to-end well under a second).
 */
#include "metrics.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define MAX_CLASSES 32
#define MAX_PARTS   1024

static const double size_bounds[] = {1, 10, 100, 500, 1000, 2500, 5000, 10000, 50000};
static const double lat_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define N_SIZE (sizeof size_bounds / sizeof size_bounds[0])
#define N_LAT  (sizeof lat_bounds / sizeof lat_bounds[0])

typedef struct {
    uint64_t count;
    double sum;
    uint64_t buckets[16];
} hist;

static struct {
    pthread_mutex_t lock;
    uint64_t consumed;
    uint64_t otlp_spans, otlp_generations, otlp_skipped, otlp_rejected;
    uint64_t inserted[FW_T_COUNT];
    uint64_t duplicates[FW_T_COUNT];
    uint64_t dead[FW_DL_COUNT];
    struct {
        char cls[3];
        uint64_t n;
    } dead_data[MAX_CLASSES];
    int n_dead_data;
    hist batch_size, batch_lat, commit_lat;
    struct {
        char cls[3];
        uint64_t n;
    } pg_err[MAX_CLASSES];
    int n_pg_err;
    uint64_t rebalances;
    int pg_up, paused, assigned;
    fw_part_gauge parts[MAX_PARTS];
    size_t n_parts;
    struct timespec heartbeat;
} M = {.lock = PTHREAD_MUTEX_INITIALIZER};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void fw_metrics_init(void)
{
    pthread_mutex_lock(&M.lock);
    clock_gettime(CLOCK_MONOTONIC, &M.heartbeat);
    pthread_mutex_unlock(&M.lock);
}

static void observe(hist *h, const double *bounds, size_t n, double v)
{
    h->count++;
    h->sum += v;
    for (size_t i = 0; i < n; i++)
        if (v <= bounds[i])
            h->buckets[i]++;
}

void fw_metrics_consumed(uint64_t n)
{
    pthread_mutex_lock(&M.lock);
    M.consumed += n;
    pthread_mutex_unlock(&M.lock);
}

void fw_metrics_otlp(uint64_t spans, uint64_t generations, uint64_t skipped, uint64_t rejected)
{
    pthread_mutex_lock(&M.lock);
    M.otlp_spans += spans;
    M.otlp_generations += generations;
    M.otlp_skipped += skipped;
    M.otlp_rejected += rejected;
    pthread_mutex_unlock(&M.lock);
}

void fw_metrics_rows(fw_table t, uint64_t inserted, uint64_t duplicates)
{
    pthread_mutex_lock(&M.lock);
    M.inserted[t] += inserted;
    M.duplicates[t] += duplicates;
    pthread_mutex_unlock(&M.lock);
}

void fw_metrics_dead_letter(fw_dl_reason r)
{
    pthread_mutex_lock(&M.lock);
    if ((int)r >= 0 && r < FW_DL_COUNT)
        M.dead[r]++;
    pthread_mutex_unlock(&M.lock);
}

void fw_metrics_batch(uint64_t messages, double batch_seconds, double commit_seconds)
{
    pthread_mutex_lock(&M.lock);
    observe(&M.batch_size, size_bounds, N_SIZE, (double)messages);
    observe(&M.batch_lat, lat_bounds, N_LAT, batch_seconds);
    observe(&M.commit_lat, lat_bounds, N_LAT, commit_seconds);
    pthread_mutex_unlock(&M.lock);
}

/* The SQLSTATE class of `sqlstate` into cls[3]: "--" when there is none. */
static void sqlstate_class(const char *sqlstate, char cls[3])
{
    cls[2] = '\0';
    if (sqlstate && strlen(sqlstate) >= 2)
        memcpy(cls, sqlstate, 2);
    else
        memcpy(cls, "--", 2);
}

/* Counts one event of class `cls` in a small table (at most MAX_CLASSES
 * classes; more are not counted). Called with M.lock held. */
#define COUNT_CLASS(tab, n_tab, cls)                                                               \
    do {                                                                                           \
        int i_;                                                                                    \
        for (i_ = 0; i_ < (n_tab); i_++)                                                           \
            if (strcmp((tab)[i_].cls, (cls)) == 0)                                                 \
                break;                                                                             \
        if (i_ == (n_tab) && (n_tab) < MAX_CLASSES)                                                \
            memcpy((tab)[(n_tab)++].cls, (cls), 3);                                                \
        if (i_ < (n_tab))                                                                          \
            (tab)[i_].n++;                                                                         \
    } while (0)

void fw_metrics_pg_error(const char *sqlstate)
{
    char cls[3];
    sqlstate_class(sqlstate, cls);
    pthread_mutex_lock(&M.lock);
    COUNT_CLASS(M.pg_err, M.n_pg_err, cls);
    pthread_mutex_unlock(&M.lock);
}

void fw_metrics_dead_letter_data(const char *sqlstate)
{
    char cls[3];
    sqlstate_class(sqlstate, cls);
    pthread_mutex_lock(&M.lock);
    M.dead[FW_DL_DATA_ERROR]++;
    COUNT_CLASS(M.dead_data, M.n_dead_data, cls);
    pthread_mutex_unlock(&M.lock);
}

void fw_metrics_rebalance(void)
{
    pthread_mutex_lock(&M.lock);
    M.rebalances++;
    pthread_mutex_unlock(&M.lock);
}

uint64_t fw_metrics_rebalances(void)
{
    pthread_mutex_lock(&M.lock);
    uint64_t n = M.rebalances;
    pthread_mutex_unlock(&M.lock);
    return n;
}

void fw_metrics_set_state(int pg_up, int paused, int assigned)
{
    pthread_mutex_lock(&M.lock);
    M.pg_up = pg_up;
    M.paused = paused;
    M.assigned = assigned;
    pthread_mutex_unlock(&M.lock);
}

void fw_metrics_set_partitions(const fw_part_gauge *g, size_t n)
{
    if (n > MAX_PARTS)
        n = MAX_PARTS;
    pthread_mutex_lock(&M.lock);
    memcpy(M.parts, g, n * sizeof *g);
    M.n_parts = n;
    pthread_mutex_unlock(&M.lock);
}

void fw_metrics_heartbeat(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    pthread_mutex_lock(&M.lock);
    M.heartbeat = ts;
    pthread_mutex_unlock(&M.lock);
}

int fw_metrics_ready(void)
{
    pthread_mutex_lock(&M.lock);
    int r = M.pg_up && !M.paused && M.assigned > 0;
    pthread_mutex_unlock(&M.lock);
    return r;
}

int fw_metrics_alive(double max_age_s)
{
    pthread_mutex_lock(&M.lock);
    double hb = (double)M.heartbeat.tv_sec + (double)M.heartbeat.tv_nsec / 1e9;
    pthread_mutex_unlock(&M.lock);
    return now_s() - hb <= max_age_s;
}

static const char *const table_names[] = {"generations", "feedback", "dead_letters"};

static void render_hist(fw_buf *b, const char *name, const char *help, const hist *h,
                        const double *bounds, size_t n)
{
    fw_buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (size_t i = 0; i < n; i++)
        fw_buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i],
                      (unsigned long long)h->buckets[i]);
    fw_buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
                  (unsigned long long)h->count, name, h->sum, name, (unsigned long long)h->count);
}

void fw_metrics_render(fw_buf *b)
{
    pthread_mutex_lock(&M.lock);
    fw_buf_printf(b,
                  "# HELP flywheel_collector_messages_consumed_total Kafka messages consumed.\n"
                  "# TYPE flywheel_collector_messages_consumed_total counter\n"
                  "flywheel_collector_messages_consumed_total %llu\n",
                  (unsigned long long)M.consumed);
    fw_buf_printf(b,
                  "# HELP flywheel_collector_otlp_spans_total Spans in messages of OTLP topics, by "
                  "outcome: generation (mapped), skipped (not an LLM call), rejected (invalid ids "
                  "or times).\n"
                  "# TYPE flywheel_collector_otlp_spans_total counter\n"
                  "flywheel_collector_otlp_spans_total{outcome=\"generation\"} %llu\n"
                  "flywheel_collector_otlp_spans_total{outcome=\"skipped\"} %llu\n"
                  "flywheel_collector_otlp_spans_total{outcome=\"rejected\"} %llu\n",
                  (unsigned long long)M.otlp_generations, (unsigned long long)M.otlp_skipped,
                  (unsigned long long)M.otlp_rejected);
    fw_buf_adds(b, "# HELP flywheel_collector_rows_inserted_total Rows inserted, by table.\n"
                   "# TYPE flywheel_collector_rows_inserted_total counter\n");
    for (int t = 0; t < FW_T_COUNT; t++)
        fw_buf_printf(b, "flywheel_collector_rows_inserted_total{table=\"%s\"} %llu\n",
                      table_names[t], (unsigned long long)M.inserted[t]);
    fw_buf_adds(b, "# HELP flywheel_collector_duplicates_total Rows already stored (same event "
                   "id), absorbed by ON CONFLICT DO NOTHING.\n"
                   "# TYPE flywheel_collector_duplicates_total counter\n");
    for (int t = 0; t < FW_T_COUNT; t++)
        fw_buf_printf(b, "flywheel_collector_duplicates_total{table=\"%s\"} %llu\n", table_names[t],
                      (unsigned long long)M.duplicates[t]);
    fw_buf_adds(b, "# HELP flywheel_collector_dead_letters_total Messages dead-lettered, by "
                   "reason.\n# TYPE flywheel_collector_dead_letters_total counter\n");
    for (int r = 1; r < FW_DL_COUNT; r++)
        if (r != FW_DL_DATA_ERROR)
            fw_buf_printf(b, "flywheel_collector_dead_letters_total{reason=\"%s\"} %llu\n",
                          fw_dl_reason_code((fw_dl_reason)r), (unsigned long long)M.dead[r]);
    /* Rows PostgreSQL refused: one series per SQLSTATE class seen. */
    for (int i = 0; i < M.n_dead_data; i++)
        fw_buf_printf(b,
                      "flywheel_collector_dead_letters_total{reason=\"data_error\",class=\"%s\"} "
                      "%llu\n",
                      M.dead_data[i].cls, (unsigned long long)M.dead_data[i].n);
    render_hist(b, "flywheel_collector_batch_messages", "Messages per committed batch.",
                &M.batch_size, size_bounds, N_SIZE);
    render_hist(b, "flywheel_collector_batch_seconds",
                "Seconds from a batch's first message to its commit.", &M.batch_lat, lat_bounds,
                N_LAT);
    render_hist(b, "flywheel_collector_commit_seconds",
                "Seconds a batch's PostgreSQL transaction took.", &M.commit_lat, lat_bounds, N_LAT);
    fw_buf_adds(b, "# HELP flywheel_collector_pg_errors_total PostgreSQL errors by SQLSTATE "
                   "class (\"--\": connection failure without SQLSTATE).\n"
                   "# TYPE flywheel_collector_pg_errors_total counter\n");
    for (int i = 0; i < M.n_pg_err; i++)
        fw_buf_printf(b, "flywheel_collector_pg_errors_total{class=\"%s\"} %llu\n", M.pg_err[i].cls,
                      (unsigned long long)M.pg_err[i].n);
    fw_buf_printf(b,
                  "# HELP flywheel_collector_rebalances_total Partition assignments and "
                  "revocations.\n# TYPE flywheel_collector_rebalances_total counter\n"
                  "flywheel_collector_rebalances_total %llu\n"
                  "# HELP flywheel_collector_pg_up 1 when PostgreSQL is connected.\n"
                  "# TYPE flywheel_collector_pg_up gauge\nflywheel_collector_pg_up %d\n"
                  "# HELP flywheel_collector_paused 1 while partitions are paused "
                  "(PostgreSQL unavailable).\n"
                  "# TYPE flywheel_collector_paused gauge\nflywheel_collector_paused %d\n"
                  "# HELP flywheel_collector_assigned_partitions Partitions assigned to this "
                  "member.\n# TYPE flywheel_collector_assigned_partitions gauge\n"
                  "flywheel_collector_assigned_partitions %d\n",
                  (unsigned long long)M.rebalances, M.pg_up, M.paused, M.assigned);
    fw_buf_adds(b, "# HELP flywheel_collector_consumer_lag Messages behind the partition's high "
                   "watermark (-1 unknown).\n# TYPE flywheel_collector_consumer_lag gauge\n");
    for (size_t i = 0; i < M.n_parts; i++)
        fw_buf_printf(b, "flywheel_collector_consumer_lag{topic=\"%s\",partition=\"%d\"} %lld\n",
                      M.parts[i].topic, (int)M.parts[i].partition, (long long)M.parts[i].lag);
    fw_buf_adds(b, "# HELP flywheel_collector_next_offset Next offset to store, per partition.\n"
                   "# TYPE flywheel_collector_next_offset gauge\n");
    for (size_t i = 0; i < M.n_parts; i++)
        fw_buf_printf(b, "flywheel_collector_next_offset{topic=\"%s\",partition=\"%d\"} %lld\n",
                      M.parts[i].topic, (int)M.parts[i].partition,
                      (long long)M.parts[i].next_offset);
    pthread_mutex_unlock(&M.lock);
}
