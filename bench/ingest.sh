#!/usr/bin/env bash
# bench/ingest.sh — run as `scripts/bench ingest` (FW_BUILD_DIR, FW_SOURCE_DIR
# and the service variables are exported by scripts/bench).
#
# 1. Pre-produces N (default 200000) realistic ~1.2 KB chat generations to
#    the dev broker, then times flywheel-collector draining them into a fresh
#    migrated database: events/s from the first committed row to the last.
# 2. Baseline, same run: the collector also dumped the exact COPY text of
#    those rows (debug.copy_dump); a server-side `COPY flywheel.generations
#    FROM 'file'` of that text into a second fresh migrated database is
#    timed: copy_rows_per_s. ratio = events_per_s / copy_rows_per_s.
# 3. End-to-end latency at 1k events/s for LAT_SECONDS (default 20): each
#    event carries its record time; a probe polls ingest_offsets (committed
#    in the same transaction as the rows) every 5 ms: p50 and p99.
# Last line of stdout: one JSON object with the figures.
set -euo pipefail
N="${FW_BENCH_INGEST_N:-200000}"
PAD="${FW_BENCH_INGEST_PAD:-720}"
LAT_SECONDS="${FW_BENCH_INGEST_LAT_SECONDS:-20}"
COLLECTOR="$FW_BUILD_DIR/collector/flywheel-collector"
LOADER="$FW_BUILD_DIR/bench/fw-ingest-load"
CLI="$FW_BUILD_DIR/cli/flywheel"
PSQL="$FLYWHEEL_PG_BINDIR/psql"
[ -x "$PSQL" ] || PSQL=psql
tag="bench_ingest_$$_$(date +%s)"
work="$(mktemp -d /var/tmp/fw-bench-ingest.XXXXXX)"
chmod 755 "$work"
pids=()
cleanup() {
    for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for db in "${tag}_a" "${tag}_b" "${tag}_c"; do
        "$PSQL" "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
say() { echo "ingest: $*" >&2; }

newdb() {
    "$PSQL" "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "CREATE DATABASE \"$1\"" >/dev/null
    "$CLI" migrate --dsn "$FLYWHEEL_PG_ADMIN_DSN dbname=$1" >/dev/null 2>&1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
q() { "$PSQL" "$FLYWHEEL_PG_ADMIN_DSN dbname=$1" -qAtc "$2"; }
now() { date +%s.%N; }

# ---- 1. drain N pre-produced events -------------------------------------
newdb "${tag}_a"
newdb "${tag}_b"
topic="${tag}_t"
say "producing $N events (pad $PAD) to $topic"
size="$("$LOADER" produce "$topic" "$N" "$PAD")"
say "mean event size $size bytes"
port="$(free_port)"
"$COLLECTOR" --kafka.bootstrap.servers="$FLYWHEEL_KAFKA_BOOTSTRAP" --kafka.group.id="${tag}_g" \
    --topics="$topic" --pg.dsn="$FLYWHEEL_PG_ADMIN_DSN dbname=${tag}_a" \
    --http.listen="127.0.0.1:$port" --debug.copy_dump="$work/rows.copy" \
    ${FW_BENCH_INGEST_FLAGS:-} 2>"$work/collector.log" &
pids+=($!)
offsets_sql="SELECT coalesce(sum(next_offset), 0) FROM flywheel.ingest_offsets"
deadline=$(( $(date +%s) + 600 ))
c0=0
while :; do
    c0="$(q "${tag}_a" "$offsets_sql")"
    [ "$c0" -gt 0 ] && break
    [ "$(date +%s)" -lt "$deadline" ] || { tail "$work/collector.log" >&2; exit 1; }
    sleep 0.02
done
t0="$(now)"
while :; do
    c="$(q "${tag}_a" "$offsets_sql")"
    [ "$c" -ge "$N" ] && break
    [ "$(date +%s)" -lt "$deadline" ] || { tail "$work/collector.log" >&2; exit 1; }
    sleep 0.02
done
t1="$(now)"
rows="$(q "${tag}_a" "SELECT count(*) FROM flywheel.generations")"
[ "$rows" -eq "$N" ] || { say "expected $N rows, found $rows"; exit 1; }
events_per_s="$(python3 -c "print(round(($N - $c0) / ($t1 - $t0)))")"
say "collector: $((N - c0)) events in $(python3 -c "print(round($t1 - $t0, 2))") s = $events_per_s events/s"
kill -TERM "${pids[0]}"; wait "${pids[0]}" || true; pids=()

# ---- 2. raw server-side COPY of the same rows ---------------------------
cols="$(sed -n '/#define FW_GEN_COLUMNS/,/^$/p' "$FW_SOURCE_DIR/collector/src/rows.h" \
    | grep -o '"[^"]*"' | tr -d '"' | tr -d '\n')"
lines="$(wc -l < "$work/rows.copy")"
[ "$lines" -eq "$N" ] || { say "copy dump has $lines lines, expected $N"; exit 1; }
chmod 644 "$work/rows.copy"
t0="$(now)"
q "${tag}_b" "COPY flywheel.generations ($cols) FROM '$work/rows.copy'" >/dev/null
t1="$(now)"
copy_rows_per_s="$(python3 -c "print(round($N / ($t1 - $t0)))")"
say "raw COPY: $N rows in $(python3 -c "print(round($t1 - $t0, 2))") s = $copy_rows_per_s rows/s"
ratio="$(python3 -c "print(round($events_per_s / $copy_rows_per_s, 3))")"

# ---- 3. latency at 1k events/s -------------------------------------------
newdb "${tag}_c"
port="$(free_port)"
"$COLLECTOR" --kafka.bootstrap.servers="$FLYWHEEL_KAFKA_BOOTSTRAP" --kafka.group.id="${tag}_lg" \
    --topics="${tag}_lat" --pg.dsn="$FLYWHEEL_PG_ADMIN_DSN dbname=${tag}_c" \
    --kafka.auto.offset.reset=earliest --http.listen="127.0.0.1:$port" \
    ${FW_BENCH_INGEST_FLAGS:-} 2>"$work/collector_lat.log" &
pids+=($!)
# create the topic and wait for the assignment before measuring
"$LOADER" produce "${tag}_lat" 20 "$PAD" >/dev/null
deadline=$(( $(date +%s) + 60 ))
until [ "$(q "${tag}_c" "$offsets_sql")" -ge 20 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { tail "$work/collector_lat.log" >&2; exit 1; }
    sleep 0.05
done
read -r p50 p99 nlat < <("$LOADER" latency "${tag}_lat" "$FLYWHEEL_PG_ADMIN_DSN dbname=${tag}_c" \
    "${tag}_lg" 1000 "$LAT_SECONDS" "$PAD")
say "latency at 1000 events/s over $LAT_SECONDS s ($nlat events): p50 $p50 ms, p99 $p99 ms"
kill -TERM "${pids[0]}"; wait "${pids[0]}" || true; pids=()

printf '{"bench":"ingest","events":%d,"event_bytes":%d,"events_per_s":%d,"copy_rows_per_s":%d,"ratio":%s,"latency_p50_ms":%s,"latency_p99_ms":%s,"latency_events":%d}\n' \
    "$N" "$size" "$events_per_s" "$copy_rows_per_s" "$ratio" "$p50" "$p99" "$nlat"
