/*
 * The judge against the humans (fw_eval_agreement in flywheel/eval.h).
 *
 * Each case of a run was recorded as a generation; when that generation is
 * also an item of a review queue, its human consensus (per field, the
 * value most labels gave, as dataset versions resolve it:
 * flywheel.dataset_label_value over the item's current labels, only the
 * adjudication when there is one) is set beside the judge's score. Numbers
 * are used as they are, booleans as 1/0, a category as 1 when it equals the
 * positive value given. Reported: n, Pearson's r, Spearman's rho (average
 * ranks for ties) and, when the human values are binary, Cohen's kappa
 * between "judge score >= threshold" and the human value, with its 2x2
 * table.
 */
#include "flywheel/eval.h"

#include "pgutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fw_eval_agree_opts_init(fw_eval_agree_opts *o)
{
    memset(o, 0, sizeof *o);
    o->threshold = 0.5;
}

static double pearson(const double *x, const double *y, size_t n)
{
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

typedef struct {
    double v;
    size_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    double x = ((const ranked *)a)->v, y = ((const ranked *)b)->v;
    return x < y ? -1 : x > y;
}

/* Ranks (1-based, ties get their average rank) into out. */
static int ranks(const double *x, size_t n, double *out)
{
    ranked *r = malloc(n * sizeof *r);
    if (!r)
        return -1;
    for (size_t i = 0; i < n; i++) {
        r[i].v = x[i];
        r[i].i = i;
    }
    qsort(r, n, sizeof *r, cmp_ranked);
    for (size_t i = 0; i < n;) {
        size_t k = i;
        while (k + 1 < n && r[k + 1].v == r[i].v)
            k++;
        double avg = ((double)i + (double)k) / 2 + 1;
        for (size_t m = i; m <= k; m++)
            out[r[m].i] = avg;
        i = k + 1;
    }
    free(r);
    return 0;
}

static json_t *num_or_null(double d)
{
    return isfinite(d) ? json_real(d) : json_null();
}

json_t *fw_eval_agreement(PGconn *conn, const fw_eval_agree_opts *o, char *err, size_t errsize)
{
    if (!o->run || !o->scorer || !o->queue || !o->field) {
        snprintf(err, errsize, "agreement needs a run, a scorer, a queue and a label field");
        return NULL;
    }
    const char *p[4] = {o->run, o->scorer, o->queue, o->field};
    PGresult *res = PQexecParams(
        conn,
        "SELECT s.case_id, s.score, jsonb_typeof(v.value -> $4), v.value ->> $4 "
        "FROM flywheel.eval_runs r "
        "JOIN flywheel.eval_cases c ON c.run_id = r.id "
        "JOIN flywheel.eval_scores s ON s.run_id = c.run_id AND s.case_id = c.case_id "
        "  AND s.scorer = $2 AND s.score IS NOT NULL "
        "JOIN flywheel.review_queues q ON q.name = $3 "
        "JOIN flywheel.review_items i ON i.queue_id = q.id AND i.event_id = c.event_id "
        "CROSS JOIN LATERAL (SELECT flywheel.dataset_label_value(array_agg(l.id)) AS value "
        "  FROM flywheel.review_labels l WHERE l.item_id = i.id "
        "  AND NOT EXISTS (SELECT 1 FROM flywheel.review_labels n WHERE n.supersedes = l.id) "
        "  AND (l.is_adjudication OR NOT EXISTS (SELECT 1 FROM flywheel.review_labels a "
        "       WHERE a.item_id = i.id AND a.is_adjudication))) v "
        "WHERE r.name = $1 AND v.value ? $4 "
        "ORDER BY c.seq",
        4, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[1024];
        snprintf(err, errsize, "could not read labels and scores: %s",
                 fw_pg_errstr(msg, sizeof msg, res, conn));
        PQclear(res);
        return NULL;
    }
    size_t n = (size_t)PQntuples(res);
    double *judge = malloc((n + 1) * sizeof *judge), *human = malloc((n + 1) * sizeof *human);
    double *rj = malloc((n + 1) * sizeof *rj), *rh = malloc((n + 1) * sizeof *rh);
    json_t *doc = NULL;
    if (!judge || !human || !rj || !rh) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    int binary = 1;
    for (size_t i = 0; i < n; i++) {
        const char *type = PQgetvalue(res, (int)i, 2), *val = PQgetvalue(res, (int)i, 3);
        judge[i] = strtod(PQgetvalue(res, (int)i, 1), NULL);
        if (strcmp(type, "number") == 0) {
            human[i] = strtod(val, NULL);
        } else if (strcmp(type, "boolean") == 0) {
            human[i] = strcmp(val, "true") == 0;
        } else if (strcmp(type, "string") == 0 && o->positive) {
            human[i] = strcmp(val, o->positive) == 0;
        } else {
            snprintf(err, errsize, "label field \"%s\" of case %s is a %s%s", o->field,
                     PQgetvalue(res, (int)i, 0), type,
                     strcmp(type, "string") == 0
                         ? "\nhint: Pass the category that means \"good\" (--positive VALUE)."
                         : ", not a number, boolean or category");
            goto out;
        }
        if (human[i] != 0 && human[i] != 1)
            binary = 0;
    }
    doc = json_pack("{s:s,s:s,s:s,s:s,s:I}", "run", o->run, "scorer", o->scorer, "queue", o->queue,
                    "field", o->field, "n", (json_int_t)n);
    if (!doc)
        goto oom;
    double r = n >= 2 ? pearson(judge, human, n) : NAN, rho = NAN;
    if (n >= 2) {
        if (ranks(judge, n, rj) || ranks(human, n, rh))
            goto oom;
        rho = pearson(rj, rh, n);
    }
    if (json_object_set_new(doc, "pearson", num_or_null(r)) ||
        json_object_set_new(doc, "spearman", num_or_null(rho)))
        goto oom;
    if (binary && n > 0) {
        long long tp = 0, fp = 0, fn = 0, tn = 0;
        for (size_t i = 0; i < n; i++) {
            int jp = judge[i] >= o->threshold, hp = human[i] == 1;
            tp += jp && hp;
            fp += jp && !hp;
            fn += !jp && hp;
            tn += !jp && !hp;
        }
        double dn = (double)n, po = (double)(tp + tn) / dn;
        double pe =
            ((double)(tp + fp) * (double)(tp + fn) + (double)(fn + tn) * (double)(fp + tn)) /
            (dn * dn);
        double kappa = pe < 1 ? (po - pe) / (1 - pe) : NAN;
        json_t *k = json_pack("{s:f,s:f,s:o,s:{s:I,s:I,s:I,s:I}}", "threshold", o->threshold,
                              "observed_agreement", po, "kappa", num_or_null(kappa), "table",
                              "judge_pass_human_pass", (json_int_t)tp, "judge_pass_human_fail",
                              (json_int_t)fp, "judge_fail_human_pass", (json_int_t)fn,
                              "judge_fail_human_fail", (json_int_t)tn);
        if (!k || json_object_set_new(doc, "cohen", k))
            goto oom;
    }
    goto out;
oom:
    snprintf(err, errsize, "out of memory");
    json_decref(doc);
    doc = NULL;
out:
    PQclear(res);
    free(judge);
    free(human);
    free(rj);
    free(rh);
    return doc;
}
