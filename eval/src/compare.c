/*
 * Reading runs back: list, show, compare and the release gate (contracts
 * in flywheel/eval.h).
 *
 * The comparison is paired: per scorer it takes the cases both runs scored
 * (score not NULL in either) and reports both means, their difference and
 * percentile bootstrap intervals of all three. The bootstrap is seeded and
 * specified so that anyone can reproduce it: the generator is splitmix64
 * started at the seed for every scorer; each of R resamples draws n case
 * indices as next() % n; the interval at confidence c is
 * [v[floor(R(1-c)/2)], v[ceil(R(1+c)/2) - 1]] of the sorted resampled
 * means. (The modulo bias is below 1e-15 for any real n.)
 */
#include "flywheel/eval.h"

#include "pgutil.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fw_eval_compare_opts_init(fw_eval_compare_opts *o)
{
    o->seed = 1;
    o->resamples = 2000;
    o->confidence = 0.95;
    o->epsilon = 1e-9;
}

static json_t *pg_json(PGconn *conn, const char *sql, int n, const char *const *p, char *err,
                       size_t errsize)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[1024];
        snprintf(err, errsize, "could not read eval runs: %s",
                 fw_pg_errstr(msg, sizeof msg, res, conn));
        PQclear(res);
        return NULL;
    }
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
        PQclear(res);
        return json_null();
    }
    json_error_t je;
    json_t *v = json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, &je);
    PQclear(res);
    if (!v)
        snprintf(err, errsize, "could not read eval runs: %s", je.text);
    return v;
}

#define RUN_FIELDS                                                                                 \
    "r.name, r.dataset, r.dataset_version AS version, r.endpoint, r.model, r.prompt_sha256, "      \
    "r.scorers_sha256, r.status, r.cases_total, "                                                  \
    "(SELECT count(*) FROM flywheel.eval_cases c WHERE c.run_id = r.id) AS cases, "                \
    "(SELECT count(*) FROM flywheel.eval_cases c WHERE c.run_id = r.id AND c.status = 'error') "   \
    "AS errors, r.created_at, r.finished_at, "                                                     \
    "(SELECT coalesce(json_object_agg(z.scorer, z.mean ORDER BY z.scorer), '{}') FROM "            \
    "(SELECT s.scorer, avg(s.score) AS mean FROM flywheel.eval_scores s WHERE s.run_id = r.id "    \
    "GROUP BY s.scorer) z) AS scores"

json_t *fw_eval_list(PGconn *conn, char *err, size_t errsize)
{
    return pg_json(conn,
                   "SELECT coalesce(json_agg(x ORDER BY x.created_at DESC, x.name), '[]') FROM "
                   "(SELECT " RUN_FIELDS " FROM flywheel.eval_runs r) x",
                   0, NULL, err, errsize);
}

json_t *fw_eval_show(PGconn *conn, const char *name, int cases, char *err, size_t errsize)
{
    const char *p[2] = {name, cases ? "t" : "f"};
    json_t *v = pg_json(
        conn,
        "SELECT row_to_json(x) FROM (SELECT " RUN_FIELDS ", r.parameters, r.scorers AS "
        "scorer_config, r.prompt, "
        "(SELECT json_build_object('cost_usd', sum(c.cost_usd), 'input_tokens', "
        "sum(c.input_tokens), 'output_tokens', sum(c.output_tokens), 'latency_ms_p50', "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY c.latency_ms), 'latency_ms_p95', "
        "percentile_cont(0.95) WITHIN GROUP (ORDER BY c.latency_ms), 'attempts', sum(c.attempts)) "
        "FROM flywheel.eval_cases c WHERE c.run_id = r.id) AS usage, "
        "CASE WHEN $2::boolean THEN (SELECT coalesce(json_agg(json_build_object('case_id', "
        "c.case_id, 'split', c.split, 'status', c.status, 'output_text', c.output_text, 'error', "
        "c.error, 'latency_ms', c.latency_ms, 'event_id', c.event_id, 'scores', (SELECT "
        "json_object_agg(s.scorer, json_build_object('score', s.score, 'explanation', "
        "s.explanation)) FROM flywheel.eval_scores s WHERE s.run_id = c.run_id AND s.case_id = "
        "c.case_id)) ORDER BY c.seq), '[]') FROM flywheel.eval_cases c WHERE c.run_id = r.id) END "
        "AS cases_detail "
        "FROM flywheel.eval_runs r WHERE r.name = $1) x",
        2, p, err, errsize);
    if (v && json_is_null(v)) {
        json_decref(v);
        snprintf(err, errsize, "eval run \"%s\" does not exist", name);
        return NULL;
    }
    return v;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static json_t *interval(double *v, int r, double conf)
{
    qsort(v, (size_t)r, sizeof *v, cmp_double);
    int lo = (int)floor(r * (1 - conf) / 2), hi = (int)ceil(r * (1 + conf) / 2) - 1;
    if (lo < 0)
        lo = 0;
    if (hi >= r)
        hi = r - 1;
    return json_pack("[f,f]", v[lo], v[hi]);
}

/* Bootstrap of one scorer's paired scores; adds ci_a, ci_b, ci_diff to o. */
static int bootstrap(json_t *o, const double *a, const double *b, size_t n,
                     const fw_eval_compare_opts *opt)
{
    int r = opt->resamples;
    double *ma = malloc((size_t)r * sizeof *ma), *mb = malloc((size_t)r * sizeof *mb),
           *md = malloc((size_t)r * sizeof *md);
    int rc = -1;
    if (!ma || !mb || !md)
        goto out;
    uint64_t s = opt->seed;
    for (int k = 0; k < r; k++) {
        double sa = 0, sb = 0;
        for (size_t i = 0; i < n; i++) {
            size_t idx = (size_t)(splitmix64(&s) % n);
            sa += a[idx];
            sb += b[idx];
        }
        ma[k] = sa / (double)n;
        mb[k] = sb / (double)n;
        md[k] = mb[k] - ma[k];
    }
    rc = json_object_set_new(o, "ci_a", interval(ma, r, opt->confidence)) |
         json_object_set_new(o, "ci_b", interval(mb, r, opt->confidence)) |
         json_object_set_new(o, "ci_diff", interval(md, r, opt->confidence));
out:
    free(ma);
    free(mb);
    free(md);
    return rc;
}

static long long run_id(PGconn *conn, const char *name, char *err, size_t errsize)
{
    const char *p[1] = {name};
    PGresult *res = PQexecParams(conn, "SELECT id FROM flywheel.eval_runs WHERE name = $1", 1, NULL,
                                 p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[1024];
        snprintf(err, errsize, "could not read eval runs: %s",
                 fw_pg_errstr(msg, sizeof msg, res, conn));
        PQclear(res);
        return -1;
    }
    long long id = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    if (id < 0)
        snprintf(err, errsize, "eval run \"%s\" does not exist", name);
    return id;
}

/* Scorer block from rows [from, to) of the paired result. */
static json_t *scorer_block(PGresult *res, int from, int to, const fw_eval_compare_opts *opt)
{
    size_t n = 0, cap = (size_t)(to - from);
    double *a = malloc((cap + 1) * sizeof *a), *b = malloc((cap + 1) * sizeof *b);
    json_t *o = json_object(), *reg = json_array();
    if (!a || !b || !o || !reg || json_object_set_new(o, "regressed_cases", reg))
        goto fail;
    long long imp = 0, worse = 0, same = 0;
    double sa = 0, sb = 0;
    for (int i = from; i < to; i++) {
        if (PQgetisnull(res, i, 2) || PQgetisnull(res, i, 3))
            continue;
        double x = strtod(PQgetvalue(res, i, 2), NULL), y = strtod(PQgetvalue(res, i, 3), NULL);
        a[n] = x;
        b[n] = y;
        n++;
        sa += x;
        sb += y;
        if (y > x + opt->epsilon) {
            imp++;
        } else if (y < x - opt->epsilon) {
            worse++;
            if (json_array_append_new(reg, json_pack("{s:s,s:f,s:f,s:s}", "case_id",
                                                     PQgetvalue(res, i, 1), "a", x, "b", y,
                                                     "explanation_b", PQgetvalue(res, i, 4))))
                goto fail;
        } else {
            same++;
        }
    }
    if (json_object_set_new(o, "scorer", json_string(PQgetvalue(res, from, 0))) ||
        json_object_set_new(o, "n", json_integer((json_int_t)n)) ||
        json_object_set_new(o, "improved", json_integer(imp)) ||
        json_object_set_new(o, "regressed", json_integer(worse)) ||
        json_object_set_new(o, "unchanged", json_integer(same)))
        goto fail;
    if (n > 0) {
        if (json_object_set_new(o, "mean_a", json_real(sa / (double)n)) ||
            json_object_set_new(o, "mean_b", json_real(sb / (double)n)) ||
            json_object_set_new(o, "diff", json_real((sb - sa) / (double)n)) ||
            bootstrap(o, a, b, n, opt))
            goto fail;
    }
    free(a);
    free(b);
    return o;
fail:
    free(a);
    free(b);
    json_decref(o);
    return NULL;
}

static json_t *side_stats(PGconn *conn, const char *ida, const char *idb, char *err, size_t errsize)
{
    const char *p[2] = {ida, idb};
    return pg_json(
        conn,
        "SELECT json_build_object("
        "'cost_usd', json_build_object('a', sum(cost_usd) FILTER (WHERE run_id = $1), "
        "'b', sum(cost_usd) FILTER (WHERE run_id = $2)), "
        "'tokens', json_build_object('a', sum(coalesce(input_tokens, 0) + "
        "coalesce(output_tokens, 0)) FILTER (WHERE run_id = $1), 'b', sum(coalesce(input_tokens, "
        "0) + coalesce(output_tokens, 0)) FILTER (WHERE run_id = $2)), "
        "'latency_ms', json_build_object("
        "'a', json_build_object('mean', avg(latency_ms) FILTER (WHERE run_id = $1), 'p50', "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE run_id = $1), "
        "'p95', percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE run_id = "
        "$1)), "
        "'b', json_build_object('mean', avg(latency_ms) FILTER (WHERE run_id = $2), 'p50', "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE run_id = $2), "
        "'p95', percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE run_id = "
        "$2))), "
        "'errors', json_build_object('a', count(*) FILTER (WHERE run_id = $1 AND status = "
        "'error'), 'b', count(*) FILTER (WHERE run_id = $2 AND status = 'error')), "
        "'cases', json_build_object('a', count(*) FILTER (WHERE run_id = $1), 'b', count(*) "
        "FILTER (WHERE run_id = $2))) "
        "FROM flywheel.eval_cases WHERE run_id IN ($1, $2)",
        2, p, err, errsize);
}

json_t *fw_eval_compare(PGconn *conn, const char *a, const char *b, const fw_eval_compare_opts *opt,
                        char *err, size_t errsize)
{
    if (opt->resamples < 1 || opt->confidence <= 0 || opt->confidence >= 1) {
        snprintf(err, errsize, "resamples must be positive and confidence between 0 and 1");
        return NULL;
    }
    long long ia = run_id(conn, a, err, errsize), ib = ia < 0 ? -1 : run_id(conn, b, err, errsize);
    if (ia < 0 || ib < 0)
        return NULL;
    char sa[24], sb[24];
    snprintf(sa, sizeof sa, "%lld", ia);
    snprintf(sb, sizeof sb, "%lld", ib);
    const char *p[2] = {sa, sb};
    PGresult *res =
        PQexecParams(conn,
                     "SELECT x.scorer, x.case_id, x.score, y.score, y.explanation "
                     "FROM flywheel.eval_scores x JOIN flywheel.eval_scores y "
                     "ON y.run_id = $2 AND y.case_id = x.case_id AND y.scorer = x.scorer "
                     "WHERE x.run_id = $1 ORDER BY x.scorer COLLATE \"C\", x.case_id COLLATE \"C\"",
                     2, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[1024];
        snprintf(err, errsize, "could not read eval scores: %s",
                 fw_pg_errstr(msg, sizeof msg, res, conn));
        PQclear(res);
        return NULL;
    }
    json_t *doc = json_pack("{s:s,s:s,s:I,s:i,s:f}", "a", a, "b", b, "seed", (json_int_t)opt->seed,
                            "resamples", opt->resamples, "confidence", opt->confidence);
    json_t *list = json_array();
    if (!doc || !list || json_object_set_new(doc, "scorers", list))
        goto oom;
    int rows = PQntuples(res);
    for (int i = 0; i < rows;) {
        int k = i;
        while (k < rows && strcmp(PQgetvalue(res, k, 0), PQgetvalue(res, i, 0)) == 0)
            k++;
        json_t *blk = scorer_block(res, i, k, opt);
        if (!blk || json_array_append_new(list, blk))
            goto oom;
        i = k;
    }
    PQclear(res);
    res = NULL;
    json_t *side = side_stats(conn, sa, sb, err, errsize);
    if (!side) {
        json_decref(doc);
        return NULL;
    }
    if (json_object_update(doc, side)) {
        json_decref(side);
        goto oom;
    }
    json_decref(side);
    return doc;
oom:
    PQclear(res);
    json_decref(doc);
    snprintf(err, errsize, "out of memory");
    return NULL;
}

int fw_eval_gate(json_t *cmp, const char *const *gates, size_t n, char *err, size_t errsize)
{
    json_t *out = json_array();
    int failed = 0;
    if (!out || json_object_set_new(cmp, "gates", out)) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    for (size_t g = 0; g < n; g++) {
        const char *colon = strrchr(gates[g], ':');
        char *end = NULL;
        double delta = colon ? strtod(colon + 1, &end) : NAN;
        if (!colon || colon == gates[g] || !end || *end || end == colon + 1 || !(delta >= 0)) {
            snprintf(err, errsize,
                     "invalid gate \"%s\"\nhint: Write SCORER:DELTA, e.g. "
                     "exact:0.02 (fail when the mean drops by more than 0.02).",
                     gates[g]);
            return -1;
        }
        size_t len = (size_t)(colon - gates[g]), i;
        json_t *s, *found = NULL;
        json_array_foreach(json_object_get(cmp, "scorers"), i, s)
        {
            const char *name = json_string_value(json_object_get(s, "scorer"));
            if (name && strlen(name) == len && strncmp(name, gates[g], len) == 0)
                found = s;
        }
        json_t *diff = json_object_get(found, "diff");
        int passed = diff && json_real_value(diff) >= -delta;
        json_t *row = json_pack("{s:s%,s:f,s:O,s:b}", "scorer", gates[g], len, "delta", delta,
                                "diff", diff ? diff : json_null(), "passed", passed);
        if (!row || json_array_append_new(out, row)) {
            snprintf(err, errsize, "out of memory");
            return -1;
        }
        failed |= !passed;
    }
    return failed;
}
