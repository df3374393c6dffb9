#!/usr/bin/env bash
# scripts/bench review — claim + submit latency with 1M pending items and 16
# concurrent reviewers, against a baseline measured in the same run.
#
# Setup (in a fresh database, dropped at the end): 1M generations made with
# generate_series, a rubric, a queue filled by flywheel.review_fill (its
# duration is reported too). Then, each for REVIEW_BENCH_SECONDS (default
# 15) with REVIEW_BENCH_REVIEWERS (default 16) threads, each on its own
# connection:
#   baseline  one statement picking and marking the top item with
#             FOR UPDATE SKIP LOCKED + one UPDATE marking it done
#   review    flywheel.review_claim() (full JSON with the generation and
#             rubric) + flywheel.review_submit() (rubric validation, label
#             row, lease bookkeeping)
# both with the server's synchronous_commit (on: every commit waits for a
# WAL flush), then both again with synchronous_commit = off, which takes
# the disk's flush time out and leaves the CPU cost. These are closed loops:
# 16 reviewers with no reading time saturate the machine, so they measure
# the latency at capacity. A last run gives each reviewer
# REVIEW_BENCH_THINK_MS (default 50) between rounds: an offered load well
# below capacity (still ~100 times faster than people read).
# Each phase starts after a VACUUM of review_items. The last line of stdout
# is one JSON object with the figures.
set -euo pipefail
: "${FW_BUILD_DIR:?run through scripts/bench review}"
: "${FLYWHEEL_PG_ADMIN_DSN:?run through scripts/bench review}"
ITEMS="${REVIEW_BENCH_ITEMS:-1000000}"
SECS="${REVIEW_BENCH_SECONDS:-15}"
N="${REVIEW_BENCH_REVIEWERS:-16}"
THINK="${REVIEW_BENCH_THINK_MS:-50}"
FW="$FW_BUILD_DIR/cli/flywheel"
BENCH="$FW_BUILD_DIR/bench/flywheel-bench-review"
DB="fw_bench_review_$$"
DSN="$FLYWHEEL_PG_ADMIN_DSN dbname=$DB"
cleanup() { psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT
log() { echo "review bench: $*" >&2; }
now() { date +%s.%N; }

psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "CREATE DATABASE \"$DB\"" >/dev/null
"$FW" migrate -q --dsn "$DSN"
log "inserting $ITEMS generations"
t0=$(now)
psql "$DSN" -qAt -v ON_ERROR_STOP=1 -v n="$ITEMS" >/dev/null <<'SQL'
SELECT flywheel.maintain_partitions(1, 13);
-- UUIDv7 ids carrying the event time, as a producer makes them (the row's
-- partition is the id's day, V0038).
INSERT INTO flywheel.generations (event_id, event_time, schema_version, environment,
    request_model, trace_id, status, input_messages, output_messages, id_time)
SELECT x.id, x.t, 1, 'prod', 'model-a',
       md5('t' || i), CASE WHEN i % 20 = 0 THEN 'error' ELSE 'ok' END,
       jsonb_build_array(jsonb_build_object('role', 'user', 'parts',
           jsonb_build_array(jsonb_build_object('type', 'text', 'content', 'Question number ' || i)))),
       jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts',
           jsonb_build_array(jsonb_build_object('type', 'text', 'content',
               'An answer of moderate length to question ' || i || '. It has two sentences.')))),
       flywheel.event_id_time(x.id)
FROM generate_series(1, :n) i,
     LATERAL (SELECT t, (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(m, 1, 3) || '-8'
                         || substr(m, 4, 3) || '-' || substr(m, 7, 12))::uuid AS id
              FROM (SELECT now() - (i % 1000000) * interval '1 second' AS t) a,
                   LATERAL (SELECT lpad(to_hex(floor(extract(epoch FROM a.t) * 1000)::bigint), 12, '0') AS h,
                                   md5('b' || i) AS m) b) x;
ANALYZE flywheel.generations;
SELECT flywheel.review_rubric_create('bench', '{"fields": [
    {"name": "ok", "type": "boolean", "required": true},
    {"name": "score", "type": "number", "min": 1, "max": 5, "step": 1},
    {"name": "errors", "type": "span", "categories": ["factual error", "style"]}]}');
SELECT flywheel.review_queue_create('{"name": "bench", "rubric": "bench", "overlap": 1,
    "rules": {"environments": ["prod"]},
    "priority": [{"term": "error", "weight": 10}, {"term": "recency", "weight": 1, "half_life": "1 day"}]}');
SQL
t1=$(now)
log "filling the queue"
added="$(psql "$DSN" -qAt -v ON_ERROR_STOP=1 -c "SELECT flywheel.review_fill('bench')")"
t2=$(now)
psql "$DSN" -qAt -c "VACUUM ANALYZE flywheel.review_items" >/dev/null
[ "$added" = "$ITEMS" ] || { log "fill added $added items, expected $ITEMS"; exit 1; }
gen_s=$(python3 -c "print(round($t1 - $t0, 1))"); fill_s=$(python3 -c "print(round($t2 - $t1, 1))")
log "generations: ${gen_s}s, fill of $added items: ${fill_s}s"

run() { # run MODE SYNC [THINK_MS]
    # Each phase starts from a vacuumed table: the dead index entries a phase
    # leaves at the head of the open-items index would otherwise slow the next.
    psql "$DSN" -qAt -c "VACUUM flywheel.review_items" >/dev/null
    "$BENCH" --dsn "$DSN" --queue bench --mode "$1" --sync "$2" --reviewers "$N" --seconds "$SECS" \
        --think-ms "${3:-0}" | tail -n1
}
log "baseline, synchronous_commit on"; b_on="$(run baseline on)"; echo "$b_on" >&2
log "review, synchronous_commit on"; r_on="$(run review on)"; echo "$r_on" >&2
log "baseline, synchronous_commit off"; b_off="$(run baseline off)"; echo "$b_off" >&2
log "review, synchronous_commit off"; r_off="$(run review off)"; echo "$r_off" >&2
log "review, synchronous_commit on, ${THINK}ms between rounds"; r_paced="$(run review on "$THINK")"; echo "$r_paced" >&2
pending="$(psql "$DSN" -qAt -c "SELECT count(*) FROM flywheel.review_items WHERE status IN ('pending', 'in_review')")"
labels="$(psql "$DSN" -qAt -c "SELECT count(*) FROM flywheel.review_labels")"
log "pending items at the end: $pending, labels written: $labels"

python3 - "$b_on" "$r_on" "$b_off" "$r_off" "$r_paced" "$ITEMS" "$pending" "$N" "$fill_s" <<'PY'
import json, sys
b_on, r_on, b_off, r_off, r_paced = (json.loads(a) for a in sys.argv[1:6])
items, pending, n, fill_s = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]), float(sys.argv[9])
print(json.dumps({
    "claim_submit_p50_ms": r_on["p50_ms"], "claim_submit_p99_ms": r_on["p99_ms"],
    "pending_items": items, "pending_items_at_end": pending, "reviewers": n,
    "rounds_per_s": r_on["rounds_per_s"],
    "baseline_p50_ms": b_on["p50_ms"], "baseline_p99_ms": b_on["p99_ms"],
    "baseline_rounds_per_s": b_on["rounds_per_s"],
    "ratio_p50": round(r_on["p50_ms"] / b_on["p50_ms"], 2),
    "ratio_p99": round(r_on["p99_ms"] / b_on["p99_ms"], 2),
    "sync_off_claim_submit_p50_ms": r_off["p50_ms"], "sync_off_claim_submit_p99_ms": r_off["p99_ms"],
    "sync_off_baseline_p50_ms": b_off["p50_ms"], "sync_off_baseline_p99_ms": b_off["p99_ms"],
    "sync_off_ratio_p99": round(r_off["p99_ms"] / b_off["p99_ms"], 2),
    "paced_think_ms": r_paced["think_ms"], "paced_rounds_per_s": r_paced["rounds_per_s"],
    "paced_claim_submit_p50_ms": r_paced["p50_ms"], "paced_claim_submit_p99_ms": r_paced["p99_ms"], "paced_cold_first_round_max_ms": r_paced.get("cold_first_round_max_ms"),
    "fill_items_per_s": round(items / fill_s) if fill_s > 0 else None,
}))
PY
