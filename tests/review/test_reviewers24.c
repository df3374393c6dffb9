/*
 * review_reviewers24: the review queue under 24 reviewer login roles at
 * once (issue #18's shape). Each role works on its own connection (and a
 * second one of the same role, for simultaneous submits) through an
 * overlap-1, an overlap-3 and a small overlap-2 queue over 3,000
 * generations with 3-second leases, doing every kind of action: submit,
 * skip, release, abandon a lease and submit late, submit twice (one after
 * the other, and at the same instant from the two sessions), send an
 * invalid label, submit on an item it never claimed. An admin adjudicates
 * disputed and in-review items under live leases meanwhile, and a monitor
 * samples the invariants every 100 ms.
 *
 * Checked:
 *   - sampled: no item with labels plus live leases above its overlap, no
 *     reviewer with two first labels on one item, no reviewer twice in
 *     done_by;
 *   - a ledger of every submit: each accepted one is stored once, with the
 *     label id returned, by that role, with exactly the value sent; the
 *     labels table holds nothing else; each refused one carries a SQLSTATE
 *     and a message; invalid labels (FR002), submits on never-claimed items
 *     and second submits are refused; of two simultaneous submits exactly
 *     one is accepted;
 *   - every adjudication is stored, and only those;
 *   - agreement (percent agreement and Fleiss' kappa, per queue and field)
 *     equals a computation in C from the current labels of the finished
 *     items;
 *   - RLS and privileges: a reviewer role cannot read generations and sees
 *     only its own labels.
 *
 * FWT_R24_SECONDS sets how long the reviewers work (default 15).
 * Connections run with synchronous_commit off (see test_concurrency.c).
 */
#include "fwtest.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#define REVIEWERS  24
#define GENS       3000
#define LEDGER_MAX 200000

enum { K_NORMAL, K_LATE, K_INVALID, K_NEVER, K_TWICE_1, K_TWICE_2, K_PAIR };

typedef struct {
    int reviewer;
    int kind;
    int pair; /* > 0: the two entries of a simultaneous submit share it */
    long long item;
    char label[96];
    int accepted;
    long long label_id;
    char sqlstate[6];
    int has_message;
} entry;

static char g_dsn[512];
static char g_roles[REVIEWERS][64];
static entry *g_ledger;
static atomic_long g_n;
static atomic_int g_stop;
static atomic_int g_pair_seq;
static atomic_long g_claims, g_skips, g_releases, g_adjudications, g_adj_refused;
static atomic_long g_samples, g_violations, g_errors;
static long long g_min_item, g_max_item;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static PGconn *connect_as(const char *role)
{
    char dsn[700];
    if (role)
        snprintf(dsn, sizeof dsn, "%s user=%s", g_dsn, role);
    else
        snprintf(dsn, sizeof dsn, "%s", g_dsn);
    PGconn *c = PQconnectdb(dsn);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "connect as %s: %s", role ? role : "admin", PQerrorMessage(c));
        atomic_fetch_add(&g_errors, 1);
        PQfinish(c);
        return NULL;
    }
    PQclear(PQexec(c, "SET synchronous_commit = off"));
    return c;
}

static entry *ledger_add(int reviewer, int kind, long long item, const char *label)
{
    long i = atomic_fetch_add(&g_n, 1);
    if (i >= LEDGER_MAX) {
        atomic_fetch_add(&g_errors, 1);
        return NULL;
    }
    entry *e = &g_ledger[i];
    e->reviewer = reviewer;
    e->kind = kind;
    e->item = item;
    snprintf(e->label, sizeof e->label, "%s", label);
    return e;
}

/* Records a submit's result in its ledger entry; takes ownership of r. */
static void record(entry *e, PGresult *r)
{
    if (!e) {
        PQclear(r);
        return;
    }
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        e->accepted = 1;
        e->label_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    } else {
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(e->sqlstate, sizeof e->sqlstate, "%s", st ? st : "");
        e->has_message = msg && *msg;
    }
    PQclear(r);
}

static void submit(PGconn *c, int reviewer, int kind, long long item, const char *label)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", item);
    const char *p[2] = {id, label};
    entry *e = ledger_add(reviewer, kind, item, label);
    record(e, PQexecParams(c, "SELECT flywheel.review_submit($1::bigint, $2::jsonb)", 2, NULL, p,
                           NULL, NULL, 0));
}

/* The label a reviewer gives: mostly the item's "truth", sometimes not;
 * topic absent, explicitly null or a category; score absent or 1-5. */
static void make_label(unsigned *seed, long long item, char *out, size_t size)
{
    int correct = (item % 4 != 0) ^ (rand_r(seed) % 8 == 0);
    char topic[32] = "", score[16] = "";
    int t = rand_r(seed) % 10;
    if (t == 0)
        snprintf(topic, sizeof topic, ", \"topic\": null");
    else if (t >= 4)
        snprintf(topic, sizeof topic, ", \"topic\": \"%s\"",
                 (item % 3 == 0) ^ (rand_r(seed) % 6 == 0) ? "a" : "b");
    if (rand_r(seed) % 2)
        snprintf(score, sizeof score, ", \"score\": %d", 1 + rand_r(seed) % 5);
    snprintf(out, size, "{\"correct\": %s%s%s}", correct ? "true" : "false", topic, score);
}

/* Two submits of the same label at the same instant, from two sessions of
 * the same role. */
static void submit_pair(PGconn *a, PGconn *b, int reviewer, long long item, const char *label)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", item);
    const char *p[2] = {id, label};
    int pair = atomic_fetch_add(&g_pair_seq, 1) + 1;
    entry *ea = ledger_add(reviewer, K_PAIR, item, label);
    entry *eb = ledger_add(reviewer, K_PAIR, item, label);
    if (!ea || !eb)
        return;
    ea->pair = eb->pair = pair;
    const char *sql = "SELECT flywheel.review_submit($1::bigint, $2::jsonb)";
    int sa = PQsendQueryParams(a, sql, 2, NULL, p, NULL, NULL, 0);
    int sb = PQsendQueryParams(b, sql, 2, NULL, p, NULL, NULL, 0);
    if (!sa || !sb) {
        atomic_fetch_add(&g_errors, 1);
        return;
    }
    PGconn *cs[2] = {a, b};
    entry *es[2] = {ea, eb};
    for (int k = 0; k < 2; k++) {
        PGresult *r, *first = NULL;
        while ((r = PQgetResult(cs[k])) != NULL) {
            if (!first)
                first = r;
            else
                PQclear(r);
        }
        record(es[k], first);
    }
}

typedef struct {
    int id;
} worker_arg;

static void *worker(void *argp)
{
    int me = ((worker_arg *)argp)->id;
    PGconn *a = connect_as(g_roles[me]), *b = connect_as(g_roles[me]);
    if (!a || !b) {
        PQfinish(a);
        PQfinish(b);
        return NULL;
    }
    unsigned seed = (unsigned)me * 7919u + 17;
    /* Items this role ever claimed: a submit on another is "never claimed". */
    static _Thread_local unsigned char claimed[GENS * 2 + 16];
    memset(claimed, 0, sizeof claimed);
    while (!atomic_load(&g_stop)) {
        int qr = rand_r(&seed) % 20;
        const char *queue = qr < 9 ? "q1" : qr < 18 ? "q3" : "q2";
        const char *cp[1] = {queue};
        PGresult *r = PQexecParams(a, "SELECT (flywheel.review_claim($1)->>'item_id')::bigint", 1,
                                   NULL, cp, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            fprintf(stderr, "claim by %s: %s", g_roles[me], PQerrorMessage(a));
            atomic_fetch_add(&g_errors, 1);
            PQclear(r);
            sleep_ms(50);
            continue;
        }
        if (PQgetisnull(r, 0, 0)) {
            PQclear(r);
            sleep_ms(30);
            continue;
        }
        long long item = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        atomic_fetch_add(&g_claims, 1);
        if (item - g_min_item >= 0 && item - g_min_item < (long long)sizeof claimed)
            claimed[item - g_min_item] = 1;
        char label[96], id[32];
        make_label(&seed, item, label, sizeof label);
        snprintf(id, sizeof id, "%lld", item);
        int act = rand_r(&seed) % 100;
        if (act < 6) {
            const char *p[2] = {id, "not sure"};
            PQclear(PQexecParams(a, "SELECT flywheel.review_skip($1::bigint, $2)", 2, NULL, p, NULL,
                                 NULL, 0));
            atomic_fetch_add(&g_skips, 1);
        } else if (act < 11) {
            const char *p[1] = {id};
            PQclear(PQexecParams(a, "SELECT flywheel.review_release($1::bigint)", 1, NULL, p, NULL,
                                 NULL, 0));
            atomic_fetch_add(&g_releases, 1);
        } else if (act < 13) {
            /* Abandon the lease (3 s), then submit late: accepted while the
             * slot is free, refused once someone else took it. */
            sleep_ms(3300);
            submit(a, me, K_LATE, item, label);
        } else if (act < 19) {
            submit(a, me, K_INVALID, item,
                   rand_r(&seed) % 2 ? "{\"correct\": \"maybe\"}" : "{\"score\": 9}");
            submit(a, me, K_NORMAL, item, label);
        } else if (act < 23) {
            long long other = g_min_item + rand_r(&seed) % (g_max_item - g_min_item + 1);
            if (other - g_min_item < (long long)sizeof claimed && !claimed[other - g_min_item])
                submit(a, me, K_NEVER, other, label);
            submit(a, me, K_NORMAL, item, label);
        } else if (act < 29) {
            submit_pair(a, b, me, item, label);
        } else if (act < 34) {
            submit(a, me, K_TWICE_1, item, label);
            submit(a, me, K_TWICE_2, item, label);
        } else {
            submit(a, me, K_NORMAL, item, label);
        }
    }
    PQfinish(a);
    PQfinish(b);
    return NULL;
}

/* Adjudicates a disputed or in-review item every 150 ms, leases or not. */
static void *admin(void *unused)
{
    (void)unused;
    PGconn *c = connect_as(NULL);
    if (!c)
        return NULL;
    while (!atomic_load(&g_stop)) {
        PGresult *r = PQexec(c, "SELECT flywheel.review_adjudicate(i.id, "
                                "jsonb_build_object('correct', i.id % 2 = 0), 'settled', 'admin') "
                                "FROM (SELECT id FROM flywheel.review_items "
                                "WHERE status IN ('disputed', 'in_review') "
                                "ORDER BY random() LIMIT 1) i");
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            if (PQntuples(r) == 1)
                atomic_fetch_add(&g_adjudications, 1);
        } else {
            const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            /* The item may close between the pick and the call: FR006. */
            if (st && strcmp(st, "FR006") == 0) {
                atomic_fetch_add(&g_adj_refused, 1);
            } else {
                fprintf(stderr, "adjudicate: %s", PQerrorMessage(c));
                atomic_fetch_add(&g_errors, 1);
            }
        }
        PQclear(r);
        sleep_ms(150);
    }
    PQfinish(c);
    return NULL;
}

/* Samples the invariants every 100 ms. */
static void *monitor(void *unused)
{
    (void)unused;
    PGconn *c = connect_as(NULL);
    if (!c)
        return NULL;
    while (!atomic_load(&g_stop)) {
        PGresult *r =
            PQexec(c, "SELECT (SELECT count(*) FROM flywheel.review_items i "
                      "        WHERE i.n_labels + (SELECT count(*) FROM unnest(i.lease_until) u "
                      "                            WHERE u > clock_timestamp()) > i.overlap "
                      "           OR cardinality(i.done_by) <> (SELECT count(DISTINCT d) "
                      "                                         FROM unnest(i.done_by) d)) "
                      "     + (SELECT count(*) FROM (SELECT 1 FROM flywheel.review_labels "
                      "        WHERE NOT is_adjudication AND version = 1 "
                      "        GROUP BY item_id, reviewer HAVING count(*) > 1) x)");
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            long long v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
            if (v)
                fprintf(stderr, "monitor: %lld violations\n", v);
            atomic_fetch_add(&g_violations, v);
            atomic_fetch_add(&g_samples, 1);
        } else {
            fprintf(stderr, "monitor: %s", PQerrorMessage(c));
            atomic_fetch_add(&g_errors, 1);
        }
        PQclear(r);
        sleep_ms(100);
    }
    PQfinish(c);
    return NULL;
}

/* Percent agreement and Fleiss' kappa of one (queue, field), from the
 * current labels' values of its finished items, in C. */
typedef struct {
    char queue[8], field[16];
    long items;
    double sum_p;
    long total;
    long cat[8];
    char catname[8][8];
    int ncat;
} agree;

static void check_agreement(PGconn *c)
{
    /* One row per current (latest-version) label value of a finished,
     * non-gold item: queue, field, item, value. */
    PGresult *r =
        PQexec(c, "SELECT q.name, f.field, l.item_id, l.value->>f.field "
                  "FROM (SELECT DISTINCT ON (item_id, reviewer) item_id, reviewer, value "
                  "      FROM flywheel.review_labels WHERE NOT is_adjudication "
                  "      ORDER BY item_id, reviewer, version DESC) l "
                  "JOIN flywheel.review_items i ON i.id = l.item_id "
                  "JOIN flywheel.review_queues q ON q.id = i.queue_id "
                  "CROSS JOIN (VALUES ('correct'), ('topic')) f(field) "
                  "WHERE i.status IN ('labelled', 'disputed', 'adjudicated') AND NOT i.is_gold "
                  "  AND jsonb_typeof(l.value->f.field) IN ('boolean', 'string') "
                  "ORDER BY 1, 2, 3");
    FWT_CHECK(PQresultStatus(r) == PGRES_TUPLES_OK);
    agree ag[8];
    int na = 0;
    int n = PQntuples(r);
    for (int i = 0; i < n;) {
        /* One item's values: [i, j). */
        int j = i;
        while (j < n && !strcmp(PQgetvalue(r, j, 0), PQgetvalue(r, i, 0)) &&
               !strcmp(PQgetvalue(r, j, 1), PQgetvalue(r, i, 1)) &&
               !strcmp(PQgetvalue(r, j, 2), PQgetvalue(r, i, 2)))
            j++;
        int m = j - i;
        if (m >= 2) {
            agree *g = NULL;
            for (int k = 0; k < na; k++)
                if (!strcmp(ag[k].queue, PQgetvalue(r, i, 0)) &&
                    !strcmp(ag[k].field, PQgetvalue(r, i, 1)))
                    g = &ag[k];
            if (!g) {
                FWT_CHECK(na < 8);
                g = &ag[na++];
                memset(g, 0, sizeof *g);
                snprintf(g->queue, sizeof g->queue, "%s", PQgetvalue(r, i, 0));
                snprintf(g->field, sizeof g->field, "%s", PQgetvalue(r, i, 1));
            }
            long local[8] = {0};
            for (int k = i; k < j; k++) {
                const char *v = PQgetvalue(r, k, 3);
                int ci;
                for (ci = 0; ci < g->ncat; ci++)
                    if (!strcmp(g->catname[ci], v))
                        break;
                if (ci == g->ncat) {
                    FWT_CHECK(g->ncat < 8);
                    snprintf(g->catname[g->ncat++], sizeof g->catname[0], "%s", v);
                }
                local[ci]++;
                g->cat[ci]++;
                g->total++;
            }
            double agreeing = 0;
            for (int ci = 0; ci < g->ncat; ci++)
                agreeing += (double)local[ci] * (double)(local[ci] - 1);
            g->sum_p += agreeing / ((double)m * (m - 1));
            g->items++;
        }
        i = j;
    }
    PQclear(r);
    r = PQexec(c, "SELECT queue, field, items, percent_agreement, kappa_kind, kappa "
                  "FROM flywheel.review_agreement WHERE field IN ('correct', 'topic')");
    FWT_CHECK(PQresultStatus(r) == PGRES_TUPLES_OK);
    FWT_CHECK_EQ_INT(PQntuples(r), na);
    for (int k = 0; k < PQntuples(r); k++) {
        agree *g = NULL;
        for (int x = 0; x < na; x++)
            if (!strcmp(ag[x].queue, PQgetvalue(r, k, 0)) &&
                !strcmp(ag[x].field, PQgetvalue(r, k, 1)))
                g = &ag[x];
        FWT_CHECK_MSG(g != NULL, "agreement row %s/%s not computed independently",
                      PQgetvalue(r, k, 0), PQgetvalue(r, k, 1));
        double pbar = g->sum_p / (double)g->items, pe = 0;
        for (int ci = 0; ci < g->ncat; ci++)
            pe += ((double)g->cat[ci] / (double)g->total) * ((double)g->cat[ci] / (double)g->total);
        double kappa = (pbar - pe) / (1 - pe);
        FWT_CHECK_EQ_INT(strtoll(PQgetvalue(r, k, 2), NULL, 10), g->items);
        FWT_CHECK_MSG(fabs(strtod(PQgetvalue(r, k, 3), NULL) - pbar) < 1e-9,
                      "%s/%s percent agreement %s, computed %.12f", g->queue, g->field,
                      PQgetvalue(r, k, 3), pbar);
        FWT_CHECK_EQ_STR(PQgetvalue(r, k, 4), "fleiss");
        FWT_CHECK_MSG(fabs(strtod(PQgetvalue(r, k, 5), NULL) - kappa) < 1e-9,
                      "%s/%s kappa %s, computed %.12f", g->queue, g->field, PQgetvalue(r, k, 5),
                      kappa);
        printf("agreement %s/%s: %ld items, percent %.4f, Fleiss kappa %.4f (equal)\n", g->queue,
               g->field, g->items, pbar, kappa);
    }
    PQclear(r);
}

static void check_ledger(PGconn *c)
{
    long n = atomic_load(&g_n);
    FWT_CHECK(n > 0 && n <= LEDGER_MAX);
    /* The ledger into a temporary table, to compare in SQL. The labels hold
     * no tab, newline or backslash, so they are COPY text as they are. */
    fwt_pg_exec(c, "CREATE TEMP TABLE ledger (reviewer text, item bigint, label jsonb, "
                   "accepted boolean, label_id bigint)");
    PGresult *r = PQexec(c, "COPY ledger FROM STDIN");
    FWT_CHECK(PQresultStatus(r) == PGRES_COPY_IN);
    PQclear(r);
    long accepted = 0, refused = 0, pairs_one = 0, pairs_none = 0, pairs = 0, invalid_fr002 = 0;
    long by_kind_refused[8] = {0}, by_kind[8] = {0};
    for (long i = 0; i < n; i++) {
        entry *e = &g_ledger[i];
        char line[256];
        int len = snprintf(line, sizeof line, "%s\t%lld\t%s\t%s\t%lld\n", g_roles[e->reviewer],
                           e->item, e->label, e->accepted ? "t" : "f", e->label_id);
        FWT_CHECK(PQputCopyData(c, line, len) == 1);
        by_kind[e->kind]++;
        if (e->accepted) {
            accepted++;
        } else {
            refused++;
            by_kind_refused[e->kind]++;
            FWT_CHECK_MSG(strlen(e->sqlstate) == 5 && e->has_message,
                          "a refused submit without SQLSTATE or message (item %lld)", e->item);
        }
        /* An invalid label is refused: FR002, unless the lease was lost
         * or the item closed before it was checked (FR003, FR006). */
        if (e->kind == K_INVALID)
            FWT_CHECK_MSG(
                !e->accepted && (!strcmp(e->sqlstate, "FR002") || !strcmp(e->sqlstate, "FR003") ||
                                 !strcmp(e->sqlstate, "FR006")),
                "invalid label %s: accepted=%d sqlstate=%s", e->label, e->accepted, e->sqlstate);
        if (e->kind == K_INVALID && !strcmp(e->sqlstate, "FR002"))
            invalid_fr002++;
        if (e->kind == K_NEVER || e->kind == K_TWICE_2)
            FWT_CHECK_MSG(!e->accepted,
                          "a submit on an item never claimed / a second submit "
                          "was accepted (item %lld)",
                          e->item);
        if (e->kind == K_PAIR && i + 1 < n && g_ledger[i + 1].pair == e->pair) {
            const entry *f = &g_ledger[i + 1];
            pairs++;
            FWT_CHECK_MSG(e->accepted + f->accepted < 2,
                          "both simultaneous submits on item %lld were accepted", e->item);
            pairs_one += e->accepted + f->accepted == 1;
            /* Neither: only when the lease was already lost or the item
             * closed (an overloaded machine can outlast a 3 s lease). */
            if (!e->accepted && !f->accepted) {
                pairs_none++;
                FWT_CHECK_MSG((!strcmp(e->sqlstate, "FR003") || !strcmp(e->sqlstate, "FR006")) &&
                                  (!strcmp(f->sqlstate, "FR003") || !strcmp(f->sqlstate, "FR006")),
                              "simultaneous submits on item %lld both refused: %s, %s", e->item,
                              e->sqlstate, f->sqlstate);
            }
        }
    }
    FWT_CHECK(PQputCopyEnd(c, NULL) == 1);
    r = PQgetResult(c);
    FWT_CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
    while ((r = PQgetResult(c)) != NULL)
        PQclear(r);
    printf("ledger: %ld submits, %ld accepted, %ld refused; invalid %ld (%ld FR002), never "
           "claimed %ld, second %ld, late %ld (%ld refused), simultaneous pairs %ld (one "
           "accepted %ld, none %ld: lease already lost)\n",
           n, accepted, refused, by_kind[K_INVALID], invalid_fr002, by_kind[K_NEVER],
           by_kind[K_TWICE_2], by_kind[K_LATE], by_kind_refused[K_LATE], pairs, pairs_one,
           pairs_none);
    FWT_CHECK(by_kind[K_INVALID] > 0 && by_kind[K_NEVER] > 0 && by_kind[K_TWICE_2] > 0 &&
              by_kind[K_LATE] > 0 && pairs > 0 && invalid_fr002 > 0 && pairs_one > 0);
    FWT_CHECK_EQ_INT(pairs_one + pairs_none, pairs);
    /* Every accepted submit is stored once, exactly as sent, under the id
     * the call returned, by the role that sent it. */
    FWT_CHECK_EQ_INT(fwt_pg_int(c,
                                "SELECT count(*) FROM ledger l WHERE l.accepted AND NOT EXISTS "
                                "(SELECT 1 FROM flywheel.review_labels x WHERE x.id = l.label_id "
                                " AND x.item_id = l.item AND x.reviewer = l.reviewer "
                                " AND x.value = l.label AND x.version = 1 "
                                " AND NOT x.is_adjudication)"),
                     0);
    /* Nothing else: refused submits left no label. */
    char q[128];
    snprintf(q, sizeof q, "SELECT count(*) FROM flywheel.review_labels WHERE NOT is_adjudication");
    FWT_CHECK_EQ_INT(fwt_pg_int(c, q), accepted);
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(DISTINCT label_id) FROM ledger WHERE accepted"),
                     accepted);
    FWT_CHECK_EQ_INT(
        fwt_pg_int(c, "SELECT count(*) FROM flywheel.review_labels WHERE is_adjudication"),
        atomic_load(&g_adjudications));
    /* Each item's label count is its labels'. */
    FWT_CHECK_EQ_INT(fwt_pg_int(c,
                                "SELECT count(*) FROM flywheel.review_items i WHERE i.n_labels <> "
                                "(SELECT count(*) FROM flywheel.review_labels l "
                                " WHERE l.item_id = i.id AND l.version = 1 "
                                " AND NOT l.is_adjudication)"),
                     0);
}

/* The roles are cluster-wide: dropped at exit, pass or fail (their labels
 * name them as text only). */
static int g_nroles;
static void drop_roles(void)
{
    const char *adsn = getenv("FLYWHEEL_PG_ADMIN_DSN");
    PGconn *ac = PQconnectdb(adsn ? adsn : g_dsn);
    for (int i = 0; i < g_nroles && PQstatus(ac) == CONNECTION_OK; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS %s", g_roles[i]);
        PQclear(PQexec(ac, sql));
    }
    PQfinish(ac);
}

int main(void)
{
    const char *secs = getenv("FWT_R24_SECONDS");
    int run_s = secs && *secs ? (int)strtol(secs, NULL, 10) : 15;
    g_ledger = calloc(LEDGER_MAX, sizeof *g_ledger);
    FWT_CHECK(g_ledger != NULL);
    fwt_pg_create_db("fwt_review_r24", g_dsn, sizeof g_dsn);
    fwt_pg_migrate(g_dsn);
    PGconn *c = fwt_pg_connect(g_dsn);
    /* 3,000 generations with UUIDv7 ids: models m1 (1,300), m3 (1,400) and
     * m2 (300) feed the three queues. */
    char sql[2048];
    snprintf(sql, sizeof sql,
             "INSERT INTO flywheel.generations (event_id, event_time, schema_version, "
             "request_model, output_messages, id_time) "
             "SELECT x.id, x.t, 1, CASE WHEN i <= 1300 THEN 'm1' WHEN i <= 2700 THEN 'm3' "
             "ELSE 'm2' END, '[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\","
             "\"content\":\"Answer.\"}]}]', flywheel.event_id_time(x.id) "
             "FROM generate_series(1, %d) i, LATERAL (SELECT t, (substr(h, 1, 8) || '-' || "
             "substr(h, 9, 4) || '-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid AS id "
             "FROM (SELECT now() - i * interval '1 second' AS t) a, LATERAL (SELECT "
             "lpad(to_hex(floor(extract(epoch FROM a.t) * 1000)::bigint), 12, '0') AS h) b) x",
             GENS);
    fwt_pg_exec(c, sql);
    fwt_pg_exec(c, "SELECT flywheel.review_rubric_create('r24', '{\"fields\":["
                   "{\"name\":\"correct\",\"type\":\"boolean\",\"required\":true},"
                   "{\"name\":\"topic\",\"type\":\"category\",\"values\":[\"a\",\"b\"]},"
                   "{\"name\":\"score\",\"type\":\"number\",\"min\":1,\"max\":5,\"step\":1}]}')");
    const char *queues[3][2] = {{"q1", "1"}, {"q3", "3"}, {"q2", "2"}};
    const char *models[3] = {"m1", "m3", "m2"};
    for (int i = 0; i < 3; i++) {
        snprintf(sql, sizeof sql,
                 "SELECT flywheel.review_queue_create('{\"name\":\"%s\",\"rubric\":\"r24\","
                 "\"rubric_version\":1,\"overlap\":%s,\"lease\":\"3 seconds\","
                 "\"rules\":{\"models\":[\"%s\"]}}')",
                 queues[i][0], queues[i][1], models[i]);
        fwt_pg_exec(c, sql);
        snprintf(sql, sizeof sql, "SELECT flywheel.review_fill('%s')", queues[i][0]);
        fwt_pg_exec(c, sql);
    }
    FWT_CHECK_EQ_INT(fwt_pg_int(c, "SELECT count(*) FROM flywheel.review_items"), GENS);
    g_min_item = fwt_pg_int(c, "SELECT min(id) FROM flywheel.review_items");
    g_max_item = fwt_pg_int(c, "SELECT max(id) FROM flywheel.review_items");

    /* 24 LOGIN roles in flywheel_reviewer, unique to this run. */
    atexit(drop_roles);
    for (int i = 0; i < REVIEWERS; i++, g_nroles++) {
        snprintf(g_roles[i], sizeof g_roles[i], "fwt_r24_%d_%02d", (int)getpid(), i);
        snprintf(sql, sizeof sql, "CREATE ROLE %s LOGIN IN ROLE flywheel_reviewer", g_roles[i]);
        fwt_pg_exec(c, sql);
    }

    pthread_t w[REVIEWERS], adm, mon;
    worker_arg args[REVIEWERS];
    FWT_CHECK(pthread_create(&mon, NULL, monitor, NULL) == 0);
    for (int i = 0; i < REVIEWERS; i++) {
        args[i].id = i;
        FWT_CHECK(pthread_create(&w[i], NULL, worker, &args[i]) == 0);
    }
    FWT_CHECK(pthread_create(&adm, NULL, admin, NULL) == 0);
    sleep_ms(run_s * 1000);
    atomic_store(&g_stop, 1);
    for (int i = 0; i < REVIEWERS; i++)
        pthread_join(w[i], NULL);
    pthread_join(adm, NULL);
    pthread_join(mon, NULL);
    printf("%ld claims, %ld skips, %ld releases, %ld adjudications (%ld refused: closed), "
           "%ld monitor samples\n",
           atomic_load(&g_claims), atomic_load(&g_skips), atomic_load(&g_releases),
           atomic_load(&g_adjudications), atomic_load(&g_adj_refused), atomic_load(&g_samples));
    FWT_CHECK_EQ_INT(atomic_load(&g_errors), 0);
    FWT_CHECK_EQ_INT(atomic_load(&g_violations), 0);
    FWT_CHECK(atomic_load(&g_samples) >= run_s * 3);
    FWT_CHECK(atomic_load(&g_claims) > REVIEWERS * 10);
    FWT_CHECK(atomic_load(&g_adjudications) > 0);

    check_ledger(c);
    check_agreement(c);

    /* RLS and privileges: a reviewer reads no generation, and only its own
     * labels. */
    PGconn *rc = connect_as(g_roles[0]);
    FWT_CHECK(rc != NULL);
    PGresult *r = PQexec(rc, "SELECT count(*) FROM flywheel.generations");
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    FWT_CHECK_MSG(st && !strcmp(st, "42501"), "a reviewer read generations");
    PQclear(r);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM flywheel.review_labels WHERE reviewer <> '%s'",
             g_roles[0]);
    FWT_CHECK_EQ_INT(fwt_pg_int(rc, sql), 0);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM flywheel.review_labels WHERE reviewer = '%s' "
             "AND NOT is_adjudication",
             g_roles[0]);
    FWT_CHECK_EQ_INT(fwt_pg_int(rc, "SELECT count(*) FROM flywheel.review_labels"),
                     fwt_pg_int(c, sql));
    PQfinish(rc);

    fwt_pg_exec(c, "DROP TABLE ledger");
    PQfinish(c);
    free(g_ledger);
    return 0;
}
