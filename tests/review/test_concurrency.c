/*
 * review_concurrency: 16 reviewers, each a thread with its own connection,
 * label 10,000 items of a queue with overlap 1 and of one with overlap 3 at
 * the same time. Four "ghost" reviewers claim items first and vanish; their
 * leases (5 s) expire and the items are reclaimed by the others.
 *
 * Checked: every item ends with exactly N labels, no reviewer labels an item
 * twice, the ghosts' items were labelled by others and their claims are
 * recorded as expired, and — sampled while the run is going — no item ever
 * has more labels plus unexpired leases than its overlap (G9).
 *
 * The reviewer connections run with synchronous_commit off: what is tested
 * is locking and lease semantics, which it does not change, and on the
 * shared 2-core test machine a WAL flush per commit (~2 ms) would otherwise
 * make this test take minutes. bench/review.sh measures with it on.
 */
#include "fwtest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define REVIEWERS 16
#define ITEMS     10000
#define GHOSTS    4

static char g_dsn[512];
static atomic_int g_stop;
static atomic_long g_submits;
static atomic_long g_violations;
static atomic_long g_errors;
static atomic_long g_lost; /* submits refused because the lease ran out (FR003) */

typedef struct {
    int id;
} worker_arg;

static long long open_items(PGconn *c, const char *queue)
{
    const char *p[1] = {queue};
    PGresult *r = PQexecParams(c,
                               "SELECT count(*) FROM flywheel.review_items i JOIN "
                               "flywheel.review_queues q ON q.id = i.queue_id "
                               "WHERE q.name = $1 AND i.status IN ('pending', 'in_review')",
                               1, NULL, p, NULL, NULL, 0);
    long long n =
        PQresultStatus(r) == PGRES_TUPLES_OK ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return n;
}

/* Claims and submits until both queues have no open items. Alternates the
 * queues so both run concurrently. */
static void *worker(void *argp)
{
    worker_arg *a = argp;
    char name[32];
    snprintf(name, sizeof name, "r%02d", a->id);
    PGconn *c = PQconnectdb(g_dsn);
    if (PQstatus(c) != CONNECTION_OK) {
        atomic_fetch_add(&g_errors, 1);
        PQfinish(c);
        return NULL;
    }
    PQclear(PQexec(c, "SET synchronous_commit = off"));
    const char *queues[2] = {"o1", "o3"};
    int finished[2] = {0, 0};
    unsigned seed = (unsigned)a->id * 7919u + 1;
    /* Generous: the run takes 25-45 s on a quiet 2-core machine, but the
     * suite shares it with other tests. */
    int64_t deadline = fwt_now_ms() + 200000;
    while (!(finished[0] && finished[1]) && !atomic_load(&g_stop) && fwt_now_ms() < deadline) {
        for (int qi = 0; qi < 2; qi++) {
            if (finished[qi])
                continue;
            const char *p[2] = {queues[qi], name};
            PGresult *r = PQexecParams(c, "SELECT (flywheel.review_claim($1, $2)->>'item_id')", 2,
                                       NULL, p, NULL, NULL, 0);
            if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                fprintf(stderr, "claim: %s", PQerrorMessage(c));
                atomic_fetch_add(&g_errors, 1);
                PQclear(r);
                continue;
            }
            if (PQgetisnull(r, 0, 0)) {
                PQclear(r);
                /* Nothing for me now: done unless items wait on leases that
                 * will expire. */
                if (open_items(c, queues[qi]) == 0) {
                    finished[qi] = 1;
                } else {
                    struct timespec ts = {0, 20 * 1000000};
                    nanosleep(&ts, NULL);
                }
                continue;
            }
            char item[32];
            snprintf(item, sizeof item, "%s", PQgetvalue(r, 0, 0));
            PQclear(r);
            const char *label = (rand_r(&seed) % 4) ? "{\"ok\": true}" : "{\"ok\": false}";
            const char *sp[3] = {item, label, name};
            r = PQexecParams(c, "SELECT flywheel.review_submit($1::bigint, $2::jsonb, $3)", 3, NULL,
                             sp, NULL, NULL, 0);
            if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
                if (st && strcmp(st, "FR003") == 0) {
                    /* On an overloaded machine a round can outlast the lease;
                     * someone else then takes the slot: correct, not an error. */
                    atomic_fetch_add(&g_lost, 1);
                } else {
                    fprintf(stderr, "submit %s by %s: %s", item, name, PQerrorMessage(c));
                    atomic_fetch_add(&g_errors, 1);
                }
            } else {
                atomic_fetch_add(&g_submits, 1);
            }
            PQclear(r);
        }
    }
    if (!(finished[0] && finished[1])) {
        fprintf(stderr, "reviewer %s did not finish before the deadline\n", name);
        atomic_fetch_add(&g_errors, 1);
    }
    PQfinish(c);
    return NULL;
}

/* Samples the overlap invariant while the workers run. */
static void *checker(void *unused)
{
    (void)unused;
    PGconn *c = PQconnectdb(g_dsn);
    if (PQstatus(c) != CONNECTION_OK) {
        atomic_fetch_add(&g_errors, 1);
        PQfinish(c);
        return NULL;
    }
    while (!atomic_load(&g_stop)) {
        PGresult *r = PQexec(c, "SELECT count(*) FROM flywheel.review_items i "
                                "WHERE i.n_labels + (SELECT count(*) FROM unnest(i.lease_until) u "
                                "WHERE u > clock_timestamp()) > i.overlap "
                                "OR cardinality(i.done_by) <> (SELECT count(DISTINCT d) FROM "
                                "unnest(i.done_by) d)");
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            atomic_fetch_add(&g_violations, strtoll(PQgetvalue(r, 0, 0), NULL, 10));
        PQclear(r);
        struct timespec ts = {0, 400 * 1000000};
        nanosleep(&ts, NULL);
    }
    PQfinish(c);
    return NULL;
}

int main(void)
{
    fwt_pg_create_db("fwt_review_conc", g_dsn, sizeof g_dsn);
    fwt_pg_migrate(g_dsn);
    PGconn *c = fwt_pg_connect(g_dsn);
    char sql[1024];
    snprintf(
        sql, sizeof sql,
        "INSERT INTO flywheel.generations (event_id, event_time, schema_version, trace_id, "
        "output_messages, id_time) SELECT md5('g' || i)::uuid, now() - i * interval '1 second', "
        "1, md5('t' || i), '[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\","
        "\"content\":\"hi\"}]}]', flywheel.event_id_time(md5('g' || i)::uuid) "
        "FROM generate_series(1, %d) i",
        ITEMS);
    fwt_pg_exec(c, sql);
    fwt_pg_exec(c, "SELECT flywheel.review_rubric_create('ok', "
                   "'{\"fields\":[{\"name\":\"ok\",\"type\":\"boolean\",\"required\":true}]}')");
    fwt_pg_exec(c, "SELECT flywheel.review_queue_create('{\"name\":\"o1\",\"rubric\":\"ok\","
                   "\"overlap\":1,\"lease\":\"5 seconds\"}')");
    fwt_pg_exec(c, "SELECT flywheel.review_queue_create('{\"name\":\"o3\",\"rubric\":\"ok\","
                   "\"overlap\":3,\"lease\":\"5 seconds\"}')");
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT flywheel.review_fill('o1')"), ITEMS);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT flywheel.review_fill('o3')"), ITEMS);

    /* Ghosts claim the top item of each queue and never come back. */
    for (int g = 0; g < GHOSTS; g++) {
        snprintf(sql, sizeof sql,
                 "SELECT flywheel.review_claim('o1', 'ghost%d'), flywheel.review_claim('o3', "
                 "'ghost%d')",
                 g, g);
        fwt_pg_exec(c, sql);
    }
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.review_assignments "
                                   "WHERE reviewer LIKE 'ghost%' AND state = 'active'"),
                     2 * GHOSTS);

    int64_t t0 = fwt_now_ms();
    pthread_t th[REVIEWERS], chk;
    worker_arg args[REVIEWERS];
    FWT_CHECK(pthread_create(&chk, NULL, checker, NULL) == 0);
    for (int i = 0; i < REVIEWERS; i++) {
        args[i].id = i;
        FWT_CHECK(pthread_create(&th[i], NULL, worker, &args[i]) == 0);
    }
    for (int i = 0; i < REVIEWERS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&g_stop, 1);
    pthread_join(chk, NULL);
    int64_t ms = fwt_now_ms() - t0;
    printf("%ld submits by %d reviewers in %lld ms (%.0f/s), %ld refused after a lost lease\n",
           (long)atomic_load(&g_submits), REVIEWERS, (long long)ms,
           atomic_load(&g_submits) * 1000.0 / (double)(ms ? ms : 1), (long)atomic_load(&g_lost));

    FWT_CHECK_EQ_INT(atomic_load(&g_errors), 0);
    FWT_CHECK_EQ_INT(atomic_load(&g_violations), 0);
    FWT_CHECK_EQ_INT(atomic_load(&g_submits), ITEMS * 4);
    /* Exactly N labels per item, all items finished. */
    FWT_CHECK_EQ_INT(fwt_pg_int(c,
                                "SELECT count(*) FROM flywheel.review_items i "
                                "JOIN flywheel.review_queues q ON q.id = i.queue_id "
                                "WHERE i.n_labels <> q.overlap "
                                "OR i.status NOT IN ('labelled', 'disputed') "
                                "OR i.n_labels <> (SELECT count(*) FROM flywheel.review_labels l "
                                "WHERE l.item_id = i.id)"),
                     0);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.review_labels"), ITEMS * 4);
    /* No reviewer twice on one item. */
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM (SELECT item_id, reviewer FROM "
                                   "flywheel.review_labels GROUP BY 1, 2 HAVING count(*) > 1) d"),
                     0);
    /* The ghosts' leases expired, their items were labelled by others. */
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.review_labels "
                                   "WHERE reviewer LIKE 'ghost%'"),
                     0);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.review_assignments a "
                                   "JOIN flywheel.review_items i ON i.id = a.item_id "
                                   "WHERE a.reviewer LIKE 'ghost%' AND a.state = 'expired' "
                                   "AND i.status IN ('labelled', 'disputed')"),
                     2 * GHOSTS);
    /* Every reviewer took part (SKIP LOCKED spreads the work). */
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(DISTINCT reviewer) FROM flywheel.review_labels"),
                     REVIEWERS);
    PQfinish(c);
    printf("ok\n");
    return 0;
}
