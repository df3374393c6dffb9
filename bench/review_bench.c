/*
 * flywheel-bench-review: latency of one reviewer round (claim + submit)
 * under concurrency. N threads, each with its own connection, loop for a
 * fixed time: claim the next item, submit a label, and record the time of
 * the pair. Prints one JSON line with the percentiles.
 *
 *   --mode review    flywheel.review_claim() + flywheel.review_submit()
 *   --mode baseline  the bare minimum on the same table: one statement that
 *                    picks and marks the top pending item with
 *                    FOR UPDATE SKIP LOCKED, and one UPDATE that marks it done
 *                    (same number of commits, none of the rules)
 *
 * Usage: flywheel-bench-review --dsn DSN --queue Q [--mode review|baseline]
 *        [--reviewers 16] [--seconds 10] [--sync on|off] [--think-ms 0]
 *
 * --think-ms makes each reviewer pause between rounds (reading time), for
 * latency at an offered load below saturation.
 */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SAMPLES (1 << 20)

static const char *g_dsn, *g_queue, *g_mode = "review", *g_sync = "";
static int g_reviewers = 16, g_seconds = 10, g_think_ms = 0;
static double g_cold[64]; /* first-round latency of each reviewer's session, ms */
static int64_t g_deadline_ns;
static double *g_lat; /* ms */
static atomic_long g_n, g_errors;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int run_ok(PGresult *r, PGconn *c, const char *what)
{
    if (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK)
        return 1;
    if (atomic_fetch_add(&g_errors, 1) < 5)
        fprintf(stderr, "flywheel-bench-review: %s failed: %s", what, PQerrorMessage(c));
    return 0;
}

static void *reviewer(void *arg)
{
    long id = (long)arg;
    char name[32], qid[32] = "";
    snprintf(name, sizeof name, "bench%02ld", id);
    PGconn *c = PQconnectdb(g_dsn);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "flywheel-bench-review: could not connect: %s", PQerrorMessage(c));
        atomic_fetch_add(&g_errors, 1);
        PQfinish(c);
        return NULL;
    }
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    if (*g_sync) {
        const char *p[1] = {g_sync};
        PQclear(PQexecParams(c, "SELECT set_config('synchronous_commit', $1, false)", 1, NULL, p,
                             NULL, NULL, 0));
    }
    const char *qp[1] = {g_queue};
    PGresult *r = PQexecParams(c, "SELECT id FROM flywheel.review_queues WHERE name = $1", 1, NULL,
                               qp, NULL, NULL, 0);
    if (run_ok(r, c, "queue lookup") && PQntuples(r) == 1)
        snprintf(qid, sizeof qid, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    int baseline = strcmp(g_mode, "baseline") == 0;
    if (baseline) {
        r = PQprepare(c, "claim",
                      "UPDATE flywheel.review_items SET status = 'in_review' WHERE id = ("
                      " SELECT id FROM flywheel.review_items WHERE queue_id = $1::bigint"
                      " AND status IN ('pending', 'in_review') AND NOT is_gold"
                      " ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
                      " RETURNING id, event_id",
                      1, NULL);
        PQclear(r);
        r = PQprepare(c, "submit",
                      "UPDATE flywheel.review_items SET status = 'labelled', n_labels = 1,"
                      " done_by = done_by || $2::text WHERE id = $1::bigint",
                      2, NULL);
        PQclear(r);
    } else {
        PQclear(PQprepare(c, "claim", "SELECT flywheel.review_claim($1, $2)", 2, NULL));
        PQclear(PQprepare(c, "submit", "SELECT flywheel.review_submit($1::bigint, $2::jsonb, $3)",
                          3, NULL));
    }
    int first = 1; /* the session's first round compiles and plans the functions */
    while (now_ns() < g_deadline_ns) {
        char item[32];
        int64_t t0 = now_ns();
        if (baseline) {
            const char *p[1] = {qid};
            r = PQexecPrepared(c, "claim", 1, p, NULL, NULL, 0);
        } else {
            const char *p[2] = {g_queue, name};
            r = PQexecPrepared(c, "claim", 2, p, NULL, NULL, 0);
        }
        if (!run_ok(r, c, "claim") || PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
            PQclear(r);
            continue;
        }
        if (baseline) {
            snprintf(item, sizeof item, "%s", PQgetvalue(r, 0, 0));
        } else {
            /* The claim is the full JSON the reviewer would see; take the id. */
            const char *j = PQgetvalue(r, 0, 0), *k = strstr(j, "\"item_id\": ");
            snprintf(item, sizeof item, "%lld", k ? strtoll(k + 11, NULL, 10) : 0LL);
        }
        PQclear(r);
        if (baseline) {
            const char *p[2] = {item, name};
            r = PQexecPrepared(c, "submit", 2, p, NULL, NULL, 0);
        } else {
            const char *p[3] = {item, "{\"ok\": true, \"score\": 4}", name};
            r = PQexecPrepared(c, "submit", 3, p, NULL, NULL, 0);
        }
        int ok = run_ok(r, c, "submit");
        PQclear(r);
        int64_t t1 = now_ns();
        if (ok && first) {
            /* Reported apart (cold_first_round_max_ms): a reviewer's session
             * pays it once, and at human pacing its 16 samples would
             * otherwise be the whole p99. */
            g_cold[id % 64] = (double)(t1 - t0) / 1e6;
            first = 0;
        } else if (ok) {
            long i = atomic_fetch_add(&g_n, 1);
            if (i < MAX_SAMPLES)
                g_lat[i] = (double)(t1 - t0) / 1e6;
        }
        if (g_think_ms > 0) {
            /* A reviewer reads before the next claim: offered load, not a
             * closed loop at saturation. */
            struct timespec ts = {g_think_ms / 1000, (long)(g_think_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    PQfinish(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--dsn") == 0)
            g_dsn = argv[i + 1];
        else if (strcmp(argv[i], "--queue") == 0)
            g_queue = argv[i + 1];
        else if (strcmp(argv[i], "--mode") == 0)
            g_mode = argv[i + 1];
        else if (strcmp(argv[i], "--sync") == 0)
            g_sync = argv[i + 1];
        else if (strcmp(argv[i], "--reviewers") == 0)
            g_reviewers = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--think-ms") == 0)
            g_think_ms = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0)
            g_seconds = (int)strtol(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "flywheel-bench-review: unknown option \"%s\"\n", argv[i]);
            return 2;
        }
    }
    if (!g_dsn || !g_queue || g_reviewers < 1 || g_reviewers > 256 || g_seconds < 1 ||
        (strcmp(g_mode, "review") && strcmp(g_mode, "baseline"))) {
        fprintf(stderr, "usage: flywheel-bench-review --dsn DSN --queue Q [--mode review|baseline] "
                        "[--reviewers N] [--seconds S] [--sync on|off]\n");
        return 2;
    }
    g_lat = malloc(sizeof *g_lat * MAX_SAMPLES);
    if (!g_lat)
        return 1;
    pthread_t th[256];
    g_deadline_ns = now_ns() + (int64_t)g_seconds * 1000000000;
    int64_t t0 = now_ns();
    for (long i = 0; i < g_reviewers; i++)
        pthread_create(&th[i], NULL, reviewer, (void *)i);
    for (int i = 0; i < g_reviewers; i++)
        pthread_join(th[i], NULL);
    double secs = (double)(now_ns() - t0) / 1e9;
    long n = atomic_load(&g_n);
    if (n > MAX_SAMPLES)
        n = MAX_SAMPLES;
    if (n == 0 || atomic_load(&g_errors) > 0) {
        fprintf(stderr, "flywheel-bench-review: %ld rounds, %ld errors\n", n,
                (long)atomic_load(&g_errors));
        return 1;
    }
    qsort(g_lat, (size_t)n, sizeof *g_lat, cmp_double);
    double cold = 0;
    for (int i = 0; i < 64; i++)
        if (g_cold[i] > cold)
            cold = g_cold[i];
    printf("{\"mode\": \"%s\", \"synchronous_commit\": \"%s\", \"reviewers\": %d, \"think_ms\": "
           "%d, \"rounds\": %ld, "
           "\"rounds_per_s\": %.0f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, "
           "\"max_ms\": %.3f, \"cold_first_round_max_ms\": %.3f}\n",
           g_mode, *g_sync ? g_sync : "default", g_reviewers, g_think_ms, n, (double)n / secs,
           g_lat[n / 2], g_lat[(long)(n * 0.90)], g_lat[(long)(n * 0.99)], g_lat[n - 1], cold);
    free(g_lat);
    return 0;
}
