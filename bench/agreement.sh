#!/usr/bin/env bash
# bench/agreement.sh — how fast flywheel.review_agreement answers on a queue
# with many labels.
#
#   scripts/bench agreement            # L = $FW_AGREEMENT_LABELS labels (default 1,000,000)
#
# Seeds a fresh database with one overlap-2 queue (rubric: a boolean, a
# category and a number field) of L/2 finished items and L labels, written
# straight into the tables, with a revision on 1 % of the labels and an
# explicit null on 5 %; then builds the running sums from the labels
# (flywheel.review_agreement_rebuild(), what a migration does once) and
# times:
#   agreement_ms   SELECT * FROM flywheel.review_agreement WHERE queue = ...
#   baseline_group_by_ms  a plain SELECT queue_id, count(*) FROM
#                  flywheel.review_labels GROUP BY 1 over the same labels
#   reference_ms   the computation from the labels that the view did before
#                  the running sums (tests/review/agreement_reference.sql),
#                  skipped above $FW_AGREEMENT_REFERENCE_MAX labels (default
#                  5,000: it grows quadratically, 20,000 labels take minutes;
#                  the results are checked for equality when it runs)
#   submit_finishing_ms  the extra time a submit that finishes an item
#                  spends maintaining the sums (review_agreement_add),
#                  median over 200 items
# Each figure is the median of 3 runs (planning + execution, EXPLAIN ANALYZE
# TIMING OFF) after a warm-up. Prints one JSON object as the last line.
set -euo pipefail
: "${FLYWHEEL_PG_ADMIN_DSN:?run through scripts/bench agreement}"
: "${FW_BUILD_DIR:?run through scripts/bench agreement}"
: "${FW_SOURCE_DIR:?run through scripts/bench agreement}"
L="${FW_AGREEMENT_LABELS:-1000000}"
REFMAX="${FW_AGREEMENT_REFERENCE_MAX:-5000}"
DB="fwbench_agreement_$$"
DSN="$FLYWHEEL_PG_ADMIN_DSN dbname=$DB"
FW="$FW_BUILD_DIR/cli/flywheel"
say() { printf 'agreement: %s\n' "$*" >&2; }
cleanup() { psql "$FLYWHEEL_PG_ADMIN_DSN" -XAqtc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT

psql "$FLYWHEEL_PG_ADMIN_DSN" -XAqtc "CREATE DATABASE \"$DB\"" >/dev/null
"$FW" migrate -q --dsn "$DSN"
say "seeding $L labels"
t0=$(date +%s.%N)
psql "$DSN" -X -q -o /dev/null -v ON_ERROR_STOP=1 -v labels="$L" <<'SQL'
SELECT flywheel.review_rubric_create('bench', '{"fields":[
    {"name":"correct","type":"boolean","required":true},
    {"name":"topic","type":"category","values":["a","b","c","d"]},
    {"name":"score","type":"number","min":1,"max":5}]}');
SELECT flywheel.review_queue_create('{"name":"bench","rubric":"bench","rubric_version":1,"overlap":2}');
INSERT INTO flywheel.review_items (queue_id, event_id, event_time, overlap, status, n_labels,
                                   done_by, completed_at)
SELECT q.id, md5('agreement' || i)::uuid, now(), 2, 'labelled', 2,
       ARRAY['r' || (i % 12), 'r' || ((i + 5) % 12)], now()
FROM flywheel.review_queues q, generate_series(1, :labels / 2) i WHERE q.name = 'bench';
-- Two labels per item from two of 12 reviewers, agreeing about 80 % of the time.
INSERT INTO flywheel.review_labels (item_id, queue_id, reviewer, version, value, rubric_name, rubric_version)
SELECT i.id, i.queue_id, i.done_by[k], 1,
       jsonb_build_object(
           'correct', CASE WHEN k = 2 AND hashint4(i.id::int) % 5 = 0 THEN i.id % 2 = 1 ELSE i.id % 2 = 0 END,
           'topic', CASE WHEN hashint4(i.id::int + k) % 20 = 0 THEN NULL
                         ELSE (ARRAY['a','b','c','d'])[1 + (i.id + CASE WHEN k = 2 AND i.id % 4 = 0 THEN 1 ELSE 0 END) % 4] END,
           'score', 1 + (i.id + CASE WHEN k = 2 AND i.id % 3 = 0 THEN 1 ELSE 0 END) % 5),
       'bench', 1
FROM flywheel.review_items i, generate_series(1, 2) k;
-- Revisions of 1 % of the labels.
INSERT INTO flywheel.review_labels (item_id, queue_id, reviewer, version, value, supersedes, rubric_name, rubric_version)
SELECT l.item_id, l.queue_id, l.reviewer, 2, l.value || '{"correct": true}', l.id, 'bench', 1
FROM flywheel.review_labels l WHERE l.id % 100 = 0;
SQL
psql "$DSN" -X -q -c "VACUUM ANALYZE" >/dev/null
t1=$(date +%s.%N)
psql "$DSN" -X -q -o /dev/null -c "SELECT flywheel.review_agreement_rebuild()"
t2=$(date +%s.%N)
psql "$DSN" -X -q -c "VACUUM ANALYZE flywheel.review_agreement_sums, flywheel.review_agreement_counts" >/dev/null
labels=$(psql "$DSN" -XAtc "SELECT count(*) FROM flywheel.review_labels")
seed_s=$(python3 -c "print(round($t1 - $t0, 1))")
rebuild_s=$(python3 -c "print(round($t2 - $t1, 1))")
say "seeded $labels labels in ${seed_s}s, sums rebuilt in ${rebuild_s}s"

qtime() {
    local sql="$1" i out times=()
    psql "$DSN" -XAtq -c "$sql" >/dev/null
    for i in 1 2 3; do
        out="$(psql "$DSN" -XAtq -c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $sql")"
        times+=("$(python3 -c 'import json,sys; p=json.loads(sys.stdin.read())[0]; print(round(p["Planning Time"] + p["Execution Time"], 1))' <<<"$out")")
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}
agreement_ms=$(qtime "SELECT * FROM flywheel.review_agreement WHERE queue = 'bench'")
baseline_ms=$(qtime "SELECT queue_id, count(*) FROM flywheel.review_labels GROUP BY 1")
say "agreement ${agreement_ms} ms, plain GROUP BY ${baseline_ms} ms"

REF="$(cat "$FW_SOURCE_DIR/tests/review/agreement_reference.sql")"
reference_ms=null
if [ "$labels" -le "$REFMAX" ]; then
    out="$(psql "$DSN" -XAtq -c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $REF")"
    reference_ms=$(python3 -c 'import json,sys; p=json.loads(sys.stdin.read())[0]; print(round(p["Planning Time"] + p["Execution Time"], 1))' <<<"$out")
    diff=$(psql "$DSN" -XAtq -c "WITH ref AS ($REF), cur AS (SELECT * FROM flywheel.review_agreement)
        SELECT count(*) FROM ref FULL JOIN cur USING (queue, field)
        WHERE ref.items IS DISTINCT FROM cur.items OR ref.raters IS DISTINCT FROM cur.raters
           OR abs(ref.percent_agreement - cur.percent_agreement) > 1e-9
           OR abs(coalesce(ref.kappa - cur.kappa, 0)) > 1e-9
           OR abs(coalesce(ref.alpha_interval - cur.alpha_interval, 0)) > 1e-9")
    [ "$diff" = 0 ] || { say "the running sums disagree with the reference on $diff rows"; exit 1; }
    say "reference computation ${reference_ms} ms (equal results)"
fi

# The price on the submit path: review_agreement_add for one finishing item.
submit_ms=$(psql "$DSN" -XAtq -c "DO \$\$
DECLARE t timestamptz; ms double precision[] := '{}'; id bigint;
BEGIN
    FOR id IN SELECT i.id FROM flywheel.review_items i ORDER BY i.id DESC LIMIT 200 LOOP
        t := clock_timestamp();
        PERFORM flywheel.review_agreement_add(id, -1);
        PERFORM flywheel.review_agreement_add(id, 1);
        ms := ms || (extract(epoch FROM clock_timestamp() - t) * 1000 / 2);
    END LOOP;
    PERFORM set_config('fw.bench_ms', round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x)::numeric, 3)::text, false);
END
\$\$; SELECT current_setting('fw.bench_ms')" | tail -n1)
ratio=$(python3 -c "print(round($agreement_ms / $baseline_ms, 3))")
say "maintaining the sums costs ${submit_ms} ms per finishing submit"
printf '{"bench": "agreement", "labels": %s, "seed_s": %s, "rebuild_s": %s, "agreement_ms": %s, "baseline_group_by_ms": %s, "ratio_to_group_by": %s, "reference_ms": %s, "submit_finishing_ms": %s}\n' \
    "$labels" "$seed_s" "$rebuild_s" "$agreement_ms" "$baseline_ms" "$ratio" "$reference_ms" "$submit_ms"
