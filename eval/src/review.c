/*
 * Back into review (fw_eval_review_fill in flywheel/eval.h): a pairwise
 * review item per case that both runs answered, output of run A against
 * output of run B. Which run's generation is shown as "A" is decided per
 * case by the first bit of sha256(seed ":" case id): random across cases,
 * the same for the same seed, and recoverable afterwards from the item's
 * event ids (each is the generation of exactly one run's case), so a
 * reviewer's choice maps back to a run without a side table.
 */
#include "flywheel/eval.h"

#include "pgutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fw_eval_review_fill(PGconn *conn, const char *queue, const char *run_a, const char *run_b,
                        const char *seed, long long *added, char *err, size_t errsize)
{
    const char *p[4] = {queue, run_a, run_b, seed ? seed : "0"};
    char msg[1024];
    PGresult *res = PQexecParams(
        conn,
        "SELECT (SELECT count(*) FROM flywheel.review_queues q JOIN flywheel.review_rubrics r "
        "  ON r.name = q.rubric_name AND r.version = q.rubric_version, "
        "  jsonb_array_elements(r.definition->'fields') f "
        "  WHERE q.name = $1 AND f->>'type' = 'pairwise'), "
        "(SELECT count(*) FROM flywheel.review_queues WHERE name = $1), "
        "(SELECT dataset || '@' || dataset_version FROM flywheel.eval_runs WHERE name = $2), "
        "(SELECT dataset || '@' || dataset_version FROM flywheel.eval_runs WHERE name = $3)",
        3, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errsize, "could not read the queue and the runs: %s",
                 fw_pg_errstr(msg, sizeof msg, res, conn));
        PQclear(res);
        return -1;
    }
    int rc = -1;
    if (strcmp(PQgetvalue(res, 0, 1), "0") == 0)
        snprintf(err, errsize, "review queue \"%s\" does not exist", queue);
    else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
        snprintf(err, errsize,
                 "review queue \"%s\" has no pairwise field\nhint: Fill a queue "
                 "whose rubric has a field of type \"pairwise\".",
                 queue);
    else if (PQgetisnull(res, 0, 2) || PQgetisnull(res, 0, 3))
        snprintf(err, errsize, "eval run \"%s\" does not exist",
                 PQgetisnull(res, 0, 2) ? run_a : run_b);
    else if (strcmp(PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3)) != 0)
        snprintf(err, errsize,
                 "eval runs \"%s\" and \"%s\" ran different dataset versions "
                 "(%s and %s)",
                 run_a, run_b, PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
    else
        rc = 0;
    PQclear(res);
    if (rc)
        return rc;
    res = PQexecParams(
        conn,
        "WITH q AS (SELECT id, overlap FROM flywheel.review_queues WHERE name = $1), "
        "side AS (SELECT r.name AS run, c.case_id, c.event_id, c.event_time "
        "  FROM flywheel.eval_cases c JOIN flywheel.eval_runs r ON r.id = c.run_id "
        "  WHERE c.status = 'ok'), "
        "pairs AS (SELECT a.case_id, a.event_id AS ea, a.event_time AS ta, b.event_id AS eb, "
        "  b.event_time AS tb, (get_byte(sha256(convert_to($4 || ':' || a.case_id, 'UTF8')), 0) "
        "  & 1) = 1 AS swap "
        "  FROM side a JOIN side b ON b.case_id = a.case_id AND b.run = $3 WHERE a.run = $2) "
        "INSERT INTO flywheel.review_items (queue_id, event_id, event_time, event_id_b, "
        "  event_time_b, overlap) "
        "SELECT q.id, CASE WHEN swap THEN eb ELSE ea END, CASE WHEN swap THEN tb ELSE ta END, "
        "  CASE WHEN swap THEN ea ELSE eb END, CASE WHEN swap THEN ta ELSE tb END, q.overlap "
        "FROM pairs, q ORDER BY pairs.case_id "
        "ON CONFLICT (queue_id, event_id) DO NOTHING",
        4, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        snprintf(err, errsize, "could not fill review queue \"%s\": %s", queue,
                 fw_pg_errstr(msg, sizeof msg, res, conn));
        PQclear(res);
        return -1;
    }
    *added = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return 0;
}
