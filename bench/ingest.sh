#!/usr/bin/env bash
# bench/ingest.sh — run as `scripts/bench ingest` (FW_BUILD_DIR, FW_SOURCE_DIR
# and the service variables are exported by scripts/bench).
#
# 1. Pre-produces N (default 200000) realistic ~1.2 KB chat generations to
#    the dev broker once.
# 2. ROUNDS (default 3) rounds, each pairing, back to back:
#    - drain: flywheel-collector (a new group) drains the topic into a fresh
#      migrated database: events/s from the first committed row to the last;
#    - raw COPY: the same rows, taken from the first drained database with
#      `COPY (SELECT <columns> FROM flywheel.generations) TO 'file'`, loaded
#      with a server-side `COPY flywheel.generations FROM 'file'` into
#      another fresh migrated database: rows/s.
#    The order alternates (drain first in odd rounds, COPY first in even
#    ones) so a load trend on a shared machine does not favour either side.
#    ratio = median over the rounds of (drain events/s / COPY rows/s) of the
#    same round; events_per_s and copy_rows_per_s are the medians; the JSON
#    also gives every round's ratio and the load average before and after.
# 3. End-to-end latency at 1k events/s for LAT_SECONDS (default 20): each
#    event carries its record time; a probe polls ingest_offsets (committed
#    in the same transaction as the rows) every 5 ms: p50 and p99.
# Last line of stdout: one JSON object with the figures.
set -euo pipefail
N="${FW_BENCH_INGEST_N:-200000}"
PAD="${FW_BENCH_INGEST_PAD:-720}"
ROUNDS="${FW_BENCH_INGEST_ROUNDS:-3}"
LAT_SECONDS="${FW_BENCH_INGEST_LAT_SECONDS:-20}"
COLLECTOR="$FW_BUILD_DIR/collector/flywheel-collector"
LOADER="$FW_BUILD_DIR/bench/fw-ingest-load"
CLI="$FW_BUILD_DIR/cli/flywheel"
PSQL="$FLYWHEEL_PG_BINDIR/psql"
[ -x "$PSQL" ] || PSQL=psql
tag="bench_ingest_$$_$(date +%s)"
work="$(mktemp -d /var/tmp/fw-bench-ingest.XXXXXX)"
chmod 777 "$work" # the server writes and reads the COPY file here
pids=()
dbs=()
cleanup() {
    for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for db in "${dbs[@]:-}"; do
        [ -n "$db" ] && "$PSQL" "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
say() { echo "ingest: $*" >&2; }

newdb() {
    dbs+=("$1")
    "$PSQL" "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "CREATE DATABASE \"$1\"" >/dev/null
    "$CLI" migrate --dsn "$FLYWHEEL_PG_ADMIN_DSN dbname=$1" >/dev/null 2>&1
}
dropdb() {
    "$PSQL" "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
q() { "$PSQL" "$FLYWHEEL_PG_ADMIN_DSN dbname=$1" -qAtc "$2"; }
now() { date +%s.%N; }
load() { cut -d' ' -f1 /proc/loadavg; }
offsets_sql="SELECT coalesce(sum(next_offset), 0) FROM flywheel.ingest_offsets"
cols="$(sed -n '/#define FW_GEN_COLUMNS/,/^$/p' "$FW_SOURCE_DIR/codec/include/rows.h" \
    | grep -o '"[^"]*"' | tr -d '"' | tr -d '\n')"

# drain DB GROUP: starts a collector on the topic, prints events/s.
drain() {
    # runs in a command substitution (a subshell): it stops its own
    # collector on every path
    local db="$1" group="$2" port c0 c t0 t1 rows deadline cpid
    local log="$work/collector_$group.log"
    port="$(free_port)"
    "$COLLECTOR" --kafka.bootstrap.servers="$FLYWHEEL_KAFKA_BOOTSTRAP" --kafka.group.id="$group" \
        --topics="$topic" --pg.dsn="$FLYWHEEL_PG_ADMIN_DSN dbname=$db" \
        --http.listen="127.0.0.1:$port" ${FW_BENCH_INGEST_FLAGS:-} 2>"$log" &
    cpid=$!
    trap 'kill "$cpid" 2>/dev/null || true' EXIT
    deadline=$(( $(date +%s) + 600 ))
    while :; do
        c0="$(q "$db" "$offsets_sql")"
        [ "$c0" -gt 0 ] && break
        [ "$(date +%s)" -lt "$deadline" ] || { tail "$log" >&2; exit 1; }
        sleep 0.02
    done
    t0="$(now)"
    while :; do
        c="$(q "$db" "$offsets_sql")"
        [ "$c" -ge "$N" ] && break
        [ "$(date +%s)" -lt "$deadline" ] || { tail "$log" >&2; exit 1; }
        sleep 0.02
    done
    t1="$(now)"
    kill -TERM "$cpid"; wait "$cpid" || true
    trap - EXIT
    rows="$(q "$db" "SELECT count(*) FROM flywheel.generations")"
    [ "$rows" -eq "$N" ] || { say "expected $N rows, found $rows"; exit 1; }
    python3 -c "print(round(($N - $c0) / ($t1 - $t0)))"
}

# rawcopy DB: server-side COPY of the dumped rows, prints rows/s.
rawcopy() {
    local t0 t1
    t0="$(now)"
    q "$1" "COPY flywheel.generations ($cols) FROM '$work/rows.copy'" >/dev/null
    t1="$(now)"
    python3 -c "print(round($N / ($t1 - $t0)))"
}

# ---- 1. produce once ------------------------------------------------------
topic="${tag}_t"
say "producing $N events (pad $PAD) to $topic"
size="$("$LOADER" produce "$topic" "$N" "$PAD")"
say "mean event size $size bytes"

# ---- 2. rounds of drain + raw COPY -------------------------------------------
load0="$(load)"
drains=()
copies=()
ratios=()
for r in $(seq 1 "$ROUNDS"); do
    ddb="${tag}_d$r"
    cdb="${tag}_c$r"
    newdb "$ddb"
    newdb "$cdb"
    if [ $((r % 2)) -eq 1 ] || [ ! -f "$work/rows.copy" ]; then
        e="$(drain "$ddb" "${tag}_g$r")"
        if [ ! -f "$work/rows.copy" ]; then
            q "$ddb" "COPY (SELECT $cols FROM flywheel.generations) TO '$work/rows.copy'" >/dev/null
            lines="$(wc -l < "$work/rows.copy")"
            [ "$lines" -eq "$N" ] || { say "copy file has $lines lines, expected $N"; exit 1; }
        fi
        k="$(rawcopy "$cdb")"
    else
        k="$(rawcopy "$cdb")"
        e="$(drain "$ddb" "${tag}_g$r")"
    fi
    dropdb "$ddb"
    dropdb "$cdb"
    ratio="$(python3 -c "print(round($e / $k, 3))")"
    say "round $r (load $(load)): collector $e events/s, raw COPY $k rows/s, ratio $ratio"
    drains+=("$e")
    copies+=("$k")
    ratios+=("$ratio")
done
load1="$(load)"
med() { python3 -c "import statistics,sys; print(statistics.median([float(x) for x in sys.argv[1:]]))" "$@"; }
events_per_s="$(med "${drains[@]}" | cut -d. -f1)"
copy_rows_per_s="$(med "${copies[@]}" | cut -d. -f1)"
ratio="$(med "${ratios[@]}")"
ratio_list="$(IFS=,; echo "${ratios[*]}")"
say "median: collector $events_per_s events/s, raw COPY $copy_rows_per_s rows/s, ratio $ratio (rounds: $ratio_list)"

# ---- 3. latency at 1k events/s -------------------------------------------
newdb "${tag}_lat"
port="$(free_port)"
"$COLLECTOR" --kafka.bootstrap.servers="$FLYWHEEL_KAFKA_BOOTSTRAP" --kafka.group.id="${tag}_lg" \
    --topics="${tag}_lat" --pg.dsn="$FLYWHEEL_PG_ADMIN_DSN dbname=${tag}_lat" \
    --kafka.auto.offset.reset=earliest --http.listen="127.0.0.1:$port" \
    ${FW_BENCH_INGEST_FLAGS:-} 2>"$work/collector_lat.log" &
pids+=($!)
# create the topic and wait for the assignment before measuring
"$LOADER" produce "${tag}_lat" 20 "$PAD" >/dev/null
deadline=$(( $(date +%s) + 60 ))
until [ "$(q "${tag}_lat" "$offsets_sql")" -ge 20 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { tail "$work/collector_lat.log" >&2; exit 1; }
    sleep 0.05
done
read -r p50 p99 nlat < <("$LOADER" latency "${tag}_lat" "$FLYWHEEL_PG_ADMIN_DSN dbname=${tag}_lat" \
    "${tag}_lg" 1000 "$LAT_SECONDS" "$PAD")
say "latency at 1000 events/s over $LAT_SECONDS s ($nlat events): p50 $p50 ms, p99 $p99 ms"
kill -TERM "${pids[0]}"; wait "${pids[0]}" || true; pids=()

printf '{"bench":"ingest","events":%d,"event_bytes":%d,"rounds":%d,"events_per_s":%d,"copy_rows_per_s":%d,"ratio":%s,"ratio_rounds":[%s],"load_before":%s,"load_after":%s,"latency_p50_ms":%s,"latency_p99_ms":%s,"latency_events":%d}\n' \
    "$N" "$size" "$ROUNDS" "$events_per_s" "$copy_rows_per_s" "$ratio" "$ratio_list" "$load0" "$load1" \
    "$p50" "$p99" "$nlat"
