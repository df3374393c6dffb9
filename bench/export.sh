#!/usr/bin/env bash
# scripts/bench export [ROWS] — export throughput and memory.
#
# Populates a fresh database with ROWS labelled generations (default 200000;
# FW_BENCH_EXPORT_ROWS or the first argument; 1000000 is the issue's figure)
# with generate_series against the real schema: ~1.1 KB of messages per row,
# one review item and one label each. Then, in the same run:
#   1. records a dataset version (selection + members + export), timed;
#   2. re-exports that version (the streaming path alone), timed, with its
#      peak RSS and CPU time from getrusage (via python3);
#   3. runs `COPY (<the exporter's own stream query>) TO STDOUT` of the same
#      rows (bench/export_baseline.c, the store library's stream query), timed;
#   2 and 3 alternate FW_BENCH_EXPORT_ROUNDS times (default 2), best of each;
#   4. records and re-exports a version with dedupe on (the default);
#   5. counts the instructions of the per-row client work with callgrind
#      (bench/icount_export.c, the same rows without a database): with the
#      streaming transform, with dedupe, the general path, SHA-256 alone.
# Prints one JSON object on the last line: rows_per_s (re-export),
# copy_rows_per_s, ratio, rss_bytes, client CPU per row (user + system, and
# each; of the best round), the load average, the new-version and dedupe
# figures and instructions per row.
set -euo pipefail
: "${FW_BUILD_DIR:?}" "${FLYWHEEL_PG_ADMIN_DSN:?}"
ROWS="${1:-${FW_BENCH_EXPORT_ROWS:-200000}}"
FW="$FW_BUILD_DIR/cli/flywheel"
BASELINE="$FW_BUILD_DIR/bench/flywheel-bench-export-baseline"
DB="fwx_bench_$$"
DSN="$FLYWHEEL_PG_ADMIN_DSN dbname=$DB"
W="$(mktemp -d)"
cleanup() { psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true; rm -rf "$W"; }
trap cleanup EXIT
say() { echo "bench export: $*" >&2; }

psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "CREATE DATABASE $DB" >/dev/null
"$FW" migrate -q --dsn "$DSN"
say "populating $ROWS labelled generations"
t0=$(date +%s.%N)
# Population is not what is measured, so it takes the fast road to the same
# end state: secondary indexes dropped and rebuilt after the bulk inserts
# (constraint indexes stay), messages built as text and cast once to jsonb,
# no synchronous commit, ANALYZE instead of VACUUM ANALYZE. The tables,
# indexes and rows the export reads are the real schema's.
psql "$DSN" -q -v ON_ERROR_STOP=1 -v rows="$ROWS" >/dev/null <<'SQL'
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
SELECT flywheel.review_rubric_create('bench', '{"fields": [{"name": "quality", "type": "number", "min": 1, "max": 5}]}');
SELECT flywheel.review_queue_create('{"name": "bench", "rubric": "bench"}');
CREATE TEMP TABLE bench_indexes AS
SELECT i.indexname, replace(i.indexdef, ' ON ONLY ', ' ON ') AS def
FROM pg_indexes i
WHERE i.schemaname = 'flywheel' AND i.tablename IN ('generations', 'review_items', 'review_labels')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname);
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexname FROM bench_indexes LOOP
    EXECUTE format('DROP INDEX flywheel.%I', r.indexname);
  END LOOP; END $$;
INSERT INTO flywheel.generations (event_id, event_time, schema_version, conversation_id, project,
    request_model, system_instructions, input_messages, output_messages, id_time)
SELECT ('01900000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
       now() - (n % 86400) * interval '1 second', 1, 'conv-' || (n / 3), 'bench', 'gpt-x',
       'You are a helpful assistant for an online shop. Answer briefly and politely.',
       format('[{"role": "user", "parts": [{"type": "text", "content": "Question %s: %s"}]}, '
              '{"role": "assistant", "parts": [{"type": "tool_call", "id": "call_%s", "name": "get_order", '
              '"arguments": {"order_id": "%s"}}]}, {"role": "tool", "parts": [{"type": '
              '"tool_call_response", "id": "call_%s", "response": {"status": "shipped"}}]}]',
              n, repeat('where is my order and when will it arrive? ', 8), n, n, n)::jsonb,
       format('[{"role": "assistant", "parts": [{"type": "text", "content": "Answer %s: %s"}]}]',
              n, repeat('your order has shipped and arrives soon. ', 10))::jsonb,
       flywheel.event_id_time(('01900000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid)
FROM generate_series(1, :rows) n;
INSERT INTO flywheel.review_items (queue_id, event_id, event_time, overlap, status, n_labels)
SELECT q.id, g.event_id, g.event_time, 1, 'labelled', 1
FROM flywheel.generations g, flywheel.review_queues q WHERE q.name = 'bench';
INSERT INTO flywheel.review_labels (item_id, queue_id, reviewer, version, value, rubric_name, rubric_version)
SELECT i.id, i.queue_id, 'bench', 1, jsonb_build_object('quality', 1 + i.id % 5), 'bench', 1
FROM flywheel.review_items i;
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT def FROM bench_indexes LOOP EXECUTE r.def; END LOOP; END $$;
ANALYZE flywheel.generations, flywheel.review_items, flywheel.review_labels;
SQL
t1=$(date +%s.%N)
say "populated in $(python3 -c "print(round($t1 - $t0, 1))") s; $(psql "$DSN" -Atc "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'flywheel' AND c.relkind = 'r'")"

# Runs a command, prints "seconds max_rss_bytes cpu_seconds user_seconds
# system_seconds" of the child.
measure() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
with open("/dev/null", "wb") as null:
    rc = subprocess.call(sys.argv[1:], stdout=null)
el = time.monotonic() - t
if rc != 0:
    sys.exit("command failed: %s" % " ".join(sys.argv[1:]))
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f %d %.3f %.3f %.3f" % (el, ru.ru_maxrss * 1024, ru.ru_utime + ru.ru_stime,
                                 ru.ru_utime, ru.ru_stime))
PY
}
min() { python3 -c "import sys; print(min(map(float, sys.argv[1:])))" "$@"; }
max() { python3 -c "import sys; print(int(max(map(float, sys.argv[1:]))))" "$@"; }

say "recording a new version"
read -r new_s new_rss _ < <(measure "$FW" export --dsn "$DSN" -q --no-progress --dataset bench \
    --queue bench --format openai-chat --no-dedupe -o "$W/v1")
# The machine is shared: the re-export and the baseline COPY run
# interleaved ROUNDS times and the best time of each is kept.
ROUNDS="${FW_BENCH_EXPORT_ROUNDS:-2}"
re_all=() copy_all=() rss_all=() cpu_all=() user_all=() sys_all=()
for r in $(seq "$ROUNDS"); do
    say "round $r/$ROUNDS: re-export of the version, then the baseline COPY of its stream query"
    read -r re_s re_rss re_cpu re_user re_sys < <(measure "$FW" export --dsn "$DSN" -q \
        --no-progress --dataset bench --version 1 -o "$W/v1again")
    cmp -s "$W/v1/train.jsonl" "$W/v1again/train.jsonl" || { say "re-export differs"; exit 1; }
    read -r copy_s _ _ < <(measure "$BASELINE" "$DSN" bench 1)
    re_all+=("$re_s") copy_all+=("$copy_s") rss_all+=("$re_rss") cpu_all+=("$re_cpu")
    user_all+=("$re_user") sys_all+=("$re_sys")
    say "  export ${re_s} s (client CPU ${re_cpu} s: user ${re_user}, system ${re_sys}), COPY ${copy_s} s"
done
re_s=$(min "${re_all[@]}") copy_s=$(min "${copy_all[@]}") re_rss=$(max "${rss_all[@]}")
# The CPU of the round with the least CPU, and its user/system split.
best=$(python3 -c "import sys; v=list(map(float, sys.argv[1:])); print(v.index(min(v)))" "${cpu_all[@]}")
re_cpu=${cpu_all[$best]} re_user=${user_all[$best]} re_sys=${sys_all[$best]}
load=$(cut -d' ' -f1-3 /proc/loadavg)
say "re-exporting a version made with dedupe (the default; past ~512k lines the set is on file)"
"$FW" export --dsn "$DSN" -q --no-progress --dataset bench2 --queue bench --format openai-chat \
    -o "$W/v2" >/dev/null
read -r z_s z_rss _ < <(measure "$FW" export --dsn "$DSN" -q --no-progress --dataset bench2 \
    --version 1 -o "$W/v2again")
# Instructions per row of the client's per-row work (callgrind is exact on
# a noisy machine): null when valgrind is not installed.
icount() { # function
    command -v valgrind >/dev/null 2>&1 || { echo null; return; }
    valgrind --tool=callgrind --toggle-collect="$1" --callgrind-out-file="$W/cg.$1" \
        "$FW_BUILD_DIR/bench/bench_icount_export" >"$W/cg.$1.out" 2>/dev/null || { echo null; return; }
    python3 -c 'import json,re,sys; n=json.load(open(sys.argv[1]))["rows"]; t=int(re.search(r"^summary: *(\d+)", open(sys.argv[2]).read(), re.M).group(1)); print(t // n)' \
        "$W/cg.$1.out" "$W/cg.$1"
}
say "counting instructions per row (callgrind)"
icount_json="{\"fast\": $(icount icount_export_fast), \"dedupe\": $(icount icount_export_dedupe), \"general\": $(icount icount_export_general), \"sha256\": $(icount icount_sha256)}"
lines=$(cat "$W"/v1/*.jsonl | wc -l)
bytes=$(cat "$W"/v1/*.jsonl | wc -c)
python3 - "$ROWS" "$lines" "$bytes" "$new_s" "$new_rss" "$re_s" "$re_rss" "$copy_s" "$z_s" "$z_rss" \
    "$re_cpu" "$ROUNDS" "$re_user" "$re_sys" "$load" "$icount_json" <<'PY'
import json, sys
rows, lines, nbytes = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
new_s, new_rss, re_s, re_rss, copy_s, z_s, z_rss, re_cpu = map(float, sys.argv[4:12])
re_user, re_sys = float(sys.argv[13]), float(sys.argv[14])
ic = json.loads(sys.argv[16])
print(json.dumps({
    "rows": rows, "lines": lines, "bytes": nbytes, "rounds": int(sys.argv[12]),
    "rows_per_s": round(rows / re_s), "copy_rows_per_s": round(rows / copy_s),
    "ratio": round(copy_s / re_s, 3), "rss_bytes": int(re_rss),
    "client_cpu_us_per_row": round(re_cpu / rows * 1e6, 1),
    "client_user_us_per_row": round(re_user / rows * 1e6, 1),
    "client_sys_us_per_row": round(re_sys / rows * 1e6, 1),
    "load_average": sys.argv[15],
    "new_version_rows_per_s": round(rows / new_s), "new_version_rss_bytes": int(new_rss),
    "dedupe_rows_per_s": round(rows / z_s), "dedupe_rss_bytes": int(z_rss),
    "instructions_per_row": ic["fast"], "instructions_per_row_dedupe": ic["dedupe"],
    "instructions_per_row_general_path": ic["general"],
    "instructions_per_row_sha256": ic["sha256"],
}))
PY
