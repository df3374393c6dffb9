#!/usr/bin/env bash
# scripts/bench eval [CASES] — eval runner throughput against a bare libcurl loop.
#
# Records an eval dataset version of CASES cases (default 2000;
# FW_BENCH_EVAL_CASES or the first argument), starts the benchmark's fast
# fake endpoint (bench/eval_server.c: epoll, keep-alive, a fixed answer), and
# at concurrency 1, 8 and 64, in the same run:
#   - the baseline: bench/eval_loop.c POSTs the same request bodies with a
#     bare libcurl multi loop (no parsing, scoring or database);
#   - the runner: `flywheel eval run --scorer exact` on the version, the whole
#     command timed (loading the cases by re-exporting the version, calling,
#     parsing, scoring, storing each turn's cases with their generations).
# Then the rate of single-row committed INSERTs on the same database
# ("commits_per_s"), which bounds the runner at concurrency 1: it commits
# each turn's cases before it starts new ones.
# Prints one JSON object on the last line: per concurrency the cases/s of
# both and runner/baseline, for the whole command ("ratio") and for the
# runner's calling loop alone ("loop_ratio": from the run's own elapsed
# time, without loading the cases).
set -euo pipefail
: "${FW_BUILD_DIR:?}" "${FLYWHEEL_PG_ADMIN_DSN:?}"
CASES="${1:-${FW_BENCH_EVAL_CASES:-2000}}"
FW="$FW_BUILD_DIR/cli/flywheel"
DB="fwe_bench_$$"
DSN="$FLYWHEEL_PG_ADMIN_DSN dbname=$DB"
W="$(mktemp -d)"
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    rm -rf "$W"
}
trap cleanup EXIT
say() { echo "bench eval: $*" >&2; }

psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "CREATE DATABASE $DB" >/dev/null
"$FW" migrate -q --dsn "$DSN"
say "recording an eval set of $CASES cases"
psql "$DSN" -q -v ON_ERROR_STOP=1 -v cases="$CASES" >/dev/null <<'SQL'
INSERT INTO flywheel.generations (event_id, event_time, schema_version, conversation_id, project,
    request_model, input_messages, output_messages, id_time)
SELECT ('01900000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
       now() - n * interval '1 second', 1, 'conv-' || n, 'bench', 'prod',
       format('[{"role": "system", "parts": [{"type": "text", "content": "You are a helpful assistant for an online shop."}]}, '
              '{"role": "user", "parts": [{"type": "text", "content": "Question %s: where is my order and when will it arrive?"}]}]', n)::jsonb,
       '[{"role": "assistant", "parts": [{"type": "text", "content": "ok"}]}]'::jsonb,
       flywheel.event_id_time(('01900000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid)
FROM generate_series(1, :cases) n;
SQL
"$FW" export --dsn "$DSN" -q --no-progress --format eval --project bench --dataset bench \
    --split 100/0/0 -o "$W/set" >/dev/null
python3 - "$W/set/train.jsonl" >"$W/bodies.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    print(json.dumps({"model": "bench", "messages": json.loads(line)["input"]["messages"]},
                     separators=(",", ":")))
PY
"$FW_BUILD_DIR/bench/eval_server" "$W/port" &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s "$W/port" ] && break; sleep 0.05; done
URL="http://127.0.0.1:$(cat "$W/port")/v1"

results="{}"
for k in 1 8 64; do
    read -r n bare_s < <("$FW_BUILD_DIR/bench/eval_loop" "$URL/chat/completions" "$W/bodies.jsonl" "$k")
    t0=$(date +%s.%N)
    "$FW" eval run --dsn "$DSN" --dataset bench --version 1 --endpoint "$URL" --model bench \
        --name "bench-$k" --concurrency "$k" --scorer exact --no-progress >/dev/null 2>"$W/run.err"
    t1=$(date +%s.%N)
    loop_s="$(sed -nE 's/.* in ([0-9.]+) s$/\1/p' "$W/run.err")"
    stored="$(psql "$DSN" -Atc "SELECT count(*) FROM flywheel.eval_cases c JOIN flywheel.eval_runs r ON r.id = c.run_id WHERE r.name = 'bench-$k' AND c.status = 'ok'")"
    [ "$stored" = "$CASES" ] || { say "run bench-$k stored $stored of $CASES cases"; exit 1; }
    results="$(python3 - "$results" "$k" "$n" "$bare_s" "$t0" "$t1" "$loop_s" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
k, n, bare = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
runner = float(sys.argv[6]) - float(sys.argv[5])
loop = float(sys.argv[7])
r["c" + k] = {"bare_cases_per_s": round(n / bare, 1), "runner_cases_per_s": round(n / runner, 1),
              "ratio": round(bare / runner, 3), "runner_loop_cases_per_s": round(n / loop, 1),
              "loop_ratio": round(bare / loop, 3)}
print(json.dumps(r))
PY
)"
    say "concurrency $k: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["c"+sys.argv[2]])' "$results" "$k")"
done
# What bounds concurrency 1: one synchronous commit per case. The same
# database's rate of single-row committed INSERTs, one session, same run.
psql "$DSN" -qc "CREATE TABLE bench_commit (n int)"
t0=$(date +%s.%N)
for i in $(seq 1 300); do echo "INSERT INTO bench_commit VALUES ($i);"; done | psql "$DSN" -q >/dev/null
t1=$(date +%s.%N)
python3 - "$results" "$CASES" "$(nproc)" "$t0" "$t1" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
r.update({"bench": "eval", "cases": int(sys.argv[2]), "cpus": int(sys.argv[3]),
          "commits_per_s": round(300 / (float(sys.argv[5]) - float(sys.argv[4])), 1)})
print(json.dumps(r, sort_keys=True))
PY
