#!/usr/bin/env bash
# scripts/bench export [ROWS] — export throughput and memory.
#
# Populates a fresh database with ROWS labelled generations (default 200000;
# FW_BENCH_EXPORT_ROWS or the first argument; 1000000 is the issue's figure)
# with generate_series against the real schema: ~1.1 KB of messages per row,
# one review item and one label each. Then, in the same run:
#   1. records a dataset version (selection + members + export), timed;
#   2. re-exports that version (the streaming path alone), timed, with its
#      peak RSS from /usr/bin/time-like accounting (getrusage via python3);
#   3. runs `COPY (<the exporter's own stream query>) TO STDOUT` of the same
#      rows (`flywheel export --baseline-copy`), timed.
# Prints one JSON object on the last line: rows_per_s (re-export),
# copy_rows_per_s, ratio, rss_bytes, and the new-version figures.
set -euo pipefail
: "${FW_BUILD_DIR:?}" "${FLYWHEEL_PG_ADMIN_DSN:?}"
ROWS="${1:-${FW_BENCH_EXPORT_ROWS:-200000}}"
FW="$FW_BUILD_DIR/cli/flywheel"
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
psql "$DSN" -q -v ON_ERROR_STOP=1 -v rows="$ROWS" >/dev/null <<'SQL'
SELECT flywheel.review_rubric_create('bench', '{"fields": [{"name": "quality", "type": "number", "min": 1, "max": 5}]}');
SELECT flywheel.review_queue_create('{"name": "bench", "rubric": "bench"}');
INSERT INTO flywheel.generations (event_id, event_time, schema_version, conversation_id, project,
    request_model, system_instructions, input_messages, output_messages)
SELECT ('01900000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
       now() - (n % 86400) * interval '1 second', 1, 'conv-' || (n / 3), 'bench', 'gpt-x',
       'You are a helpful assistant for an online shop. Answer briefly and politely.',
       jsonb_build_array(
         jsonb_build_object('role', 'user', 'parts', jsonb_build_array(jsonb_build_object('type', 'text',
           'content', 'Question ' || n || ': ' || repeat('where is my order and when will it arrive? ', 8)))),
         jsonb_build_object('role', 'assistant', 'parts', jsonb_build_array(jsonb_build_object('type', 'tool_call',
           'id', 'call_' || n, 'name', 'get_order', 'arguments', jsonb_build_object('order_id', n::text)))),
         jsonb_build_object('role', 'tool', 'parts', jsonb_build_array(jsonb_build_object('type',
           'tool_call_response', 'id', 'call_' || n, 'response', jsonb_build_object('status', 'shipped'))))),
       jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts', jsonb_build_array(jsonb_build_object(
           'type', 'text', 'content', 'Answer ' || n || ': ' || repeat('your order has shipped and arrives soon. ', 10)))))
FROM generate_series(1, :rows) n;
INSERT INTO flywheel.review_items (queue_id, event_id, event_time, overlap, status, n_labels)
SELECT q.id, g.event_id, g.event_time, 1, 'labelled', 1
FROM flywheel.generations g, flywheel.review_queues q WHERE q.name = 'bench';
INSERT INTO flywheel.review_labels (item_id, queue_id, reviewer, version, value, rubric_name, rubric_version)
SELECT i.id, i.queue_id, 'bench', 1, jsonb_build_object('quality', 1 + i.id % 5), 'bench', 1
FROM flywheel.review_items i;
VACUUM ANALYZE;
SQL
t1=$(date +%s.%N)
say "populated in $(python3 -c "print(round($t1 - $t0, 1))") s; $(psql "$DSN" -Atc "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'flywheel' AND c.relkind = 'r'")"

# Runs a command, prints "seconds max_rss_bytes" of the child.
measure() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
with open("/dev/null", "wb") as null:
    rc = subprocess.call(sys.argv[1:], stdout=null)
el = time.monotonic() - t
if rc != 0:
    sys.exit("command failed: %s" % " ".join(sys.argv[1:]))
print("%.3f %d" % (el, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024))
PY
}

say "recording a new version"
read -r new_s new_rss < <(measure "$FW" export --dsn "$DSN" -q --no-progress --dataset bench \
    --queue bench --format openai-chat --no-dedupe -o "$W/v1")
say "re-exporting it"
read -r re_s re_rss < <(measure "$FW" export --dsn "$DSN" -q --no-progress --dataset bench \
    --version 1 -o "$W/v1again")
cmp -s "$W/v1/train.jsonl" "$W/v1again/train.jsonl" || { say "re-export differs"; exit 1; }
say "baseline COPY of the same query"
read -r copy_s _ < <(measure "$FW" export --dsn "$DSN" -q --dataset bench --version 1 --baseline-copy)
say "re-exporting a version made with dedupe (the default)"
"$FW" export --dsn "$DSN" -q --no-progress --dataset bench2 --queue bench --format openai-chat \
    -o "$W/v2" >/dev/null
read -r z_s z_rss < <(measure "$FW" export --dsn "$DSN" -q --no-progress --dataset bench2 \
    --version 1 -o "$W/v2again")
lines=$(cat "$W"/v1/*.jsonl | wc -l)
bytes=$(cat "$W"/v1/*.jsonl | wc -c)
python3 - "$ROWS" "$lines" "$bytes" "$new_s" "$new_rss" "$re_s" "$re_rss" "$copy_s" "$z_s" "$z_rss" <<'PY'
import json, sys
rows, lines, nbytes = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
new_s, new_rss, re_s, re_rss, copy_s, z_s, z_rss = map(float, sys.argv[4:11])
print(json.dumps({
    "rows": rows, "lines": lines, "bytes": nbytes,
    "rows_per_s": round(rows / re_s), "copy_rows_per_s": round(rows / copy_s),
    "ratio": round(copy_s / re_s, 3), "rss_bytes": int(re_rss),
    "new_version_rows_per_s": round(rows / new_s), "new_version_rss_bytes": int(new_rss),
    "dedupe_rows_per_s": round(rows / z_s), "dedupe_rss_bytes": int(z_rss),
}))
PY
