#!/usr/bin/env bash
# bench/otlp.sh — run as `scripts/bench otlp` (FW_BUILD_DIR, FW_SOURCE_DIR and
# the service variables are exported by scripts/bench).
#
# The same OTLP spans (REQS requests of SPANS GenAI chat spans, default
# 1000 x 50, ~1.3 KB of message text each) reach PostgreSQL two ways, in
# ROUNDS (default 3) paired rounds with alternating order:
#   - gateway: POSTed (protobuf, CONC keep-alive connections, default 8) to
#     flywheel-gateway, which maps, redacts and produces flywheel.v1 events
#     to a topic that a collector stores;
#   - kafka: produced straight to an OTLP topic (what an OpenTelemetry
#     Collector's kafka exporter writes), mapped and stored by the collector.
# Each figure is spans/s from the start of the load to the last row in
# PostgreSQL; ratio = median over rounds of gateway / kafka; the gateway's
# CPU (user + system, from /proc) per span. Both collectors and the gateway
# are warmed up first with request 0 (a duplicate of the timed run's first
# request, so the row count is exact).
# Last line of stdout: one JSON object with the figures.
set -euo pipefail
REQS="${FW_BENCH_OTLP_REQS:-1000}"
SPANS="${FW_BENCH_OTLP_SPANS:-50}"
PAD="${FW_BENCH_OTLP_PAD:-1300}"
CONC="${FW_BENCH_OTLP_CONC:-8}"
ROUNDS="${FW_BENCH_OTLP_ROUNDS:-3}"
TOTAL=$((REQS * SPANS))
COLLECTOR="$FW_BUILD_DIR/collector/flywheel-collector"
GATEWAY="$FW_BUILD_DIR/gateway/flywheel-gateway"
LOADER="$FW_BUILD_DIR/bench/fw-otlp-load"
CLI="$FW_BUILD_DIR/cli/flywheel"
PSQL="$FLYWHEEL_PG_BINDIR/psql"
[ -x "$PSQL" ] || PSQL=psql
tag="bench_otlp_$$_$(date +%s)"
work="$(mktemp -d)"
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
say() { echo "otlp: $*" >&2; }
newdb() {
    dbs+=("$1")
    "$PSQL" "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "CREATE DATABASE \"$1\"" >/dev/null
    "$CLI" migrate --dsn "$FLYWHEEL_PG_ADMIN_DSN dbname=$1" >/dev/null 2>&1
}
count() { "$PSQL" "$FLYWHEEL_PG_ADMIN_DSN dbname=$1" -qAtc "SELECT count(*) FROM flywheel.generations"; }
wait_rows() { # DB N: waits until the table holds N rows (10 min at most)
    local deadline=$(( $(date +%s) + 600 ))
    until [ "$(count "$1")" -ge "$2" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { say "timed out waiting for $2 rows in $1"; exit 1; }
        sleep 0.05
    done
}
now() { date +%s.%N; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tck="$(getconf CLK_TCK)"

gateway_round() { # R: prints "spans_per_s cpu_us_per_span"
    local db="${tag}_g$1" topic="${tag}_g$1" port gpid cpid t0 t1 c0 c1
    newdb "$db"
    "$COLLECTOR" --kafka.bootstrap.servers="$FLYWHEEL_KAFKA_BOOTSTRAP" --kafka.group.id="$db" \
        --topics="$topic" --pg.dsn="$FLYWHEEL_PG_ADMIN_DSN dbname=$db" --http.listen= 2>"$work/c_$db.log" &
    cpid=$!; pids+=("$cpid")
    "$GATEWAY" --kafka.bootstrap.servers="$FLYWHEEL_KAFKA_BOOTSTRAP" --topic="$topic" --auth=none \
        --listen=127.0.0.1:0 2>"$work/g_$db.log" &
    gpid=$!; pids+=("$gpid")
    port=""
    until [ -n "$port" ]; do
        sleep 0.05
        port="$(sed -n 's/.*msg="gateway listening".* port=\([0-9]*\).*/\1/p' "$work/g_$db.log")"
    done
    local url="http://127.0.0.1:$port/v1/traces"
    "$LOADER" http "$url" 1 "$SPANS" "$PAD" 1 >/dev/null 2>&1   # warm-up: request 0
    wait_rows "$db" "$SPANS"
    c0="$(cpu_ticks "$gpid")"
    t0="$(now)"
    "$LOADER" http "$url" "$REQS" "$SPANS" "$PAD" "$CONC" >/dev/null
    c1="$(cpu_ticks "$gpid")"
    wait_rows "$db" "$TOTAL"
    t1="$(now)"
    kill "$gpid" "$cpid"; wait "$gpid" "$cpid" 2>/dev/null || true
    python3 -c "print(round($TOTAL / ($t1 - $t0)), round(($c1 - $c0) / $tck * 1e6 / $TOTAL, 2))"
}

kafka_round() { # R: prints spans_per_s
    local db="${tag}_k$1" topic="${tag}_k$1" cpid t0 t1
    newdb "$db"
    "$LOADER" kafka "$FLYWHEEL_KAFKA_BOOTSTRAP" "$topic" 1 "$SPANS" "$PAD" >/dev/null 2>&1 # creates the topic
    "$COLLECTOR" --kafka.bootstrap.servers="$FLYWHEEL_KAFKA_BOOTSTRAP" --kafka.group.id="$db" --topics= \
        --otlp.topics="$topic:otlp_proto" --pg.dsn="$FLYWHEEL_PG_ADMIN_DSN dbname=$db" --http.listen= \
        2>"$work/c_$db.log" &
    cpid=$!; pids+=("$cpid")
    wait_rows "$db" "$SPANS"
    t0="$(now)"
    "$LOADER" kafka "$FLYWHEEL_KAFKA_BOOTSTRAP" "$topic" "$REQS" "$SPANS" "$PAD" >/dev/null
    wait_rows "$db" "$TOTAL"
    t1="$(now)"
    kill "$cpid"; wait "$cpid" 2>/dev/null || true
    python3 -c "print(round($TOTAL / ($t1 - $t0)))"
}

load0="$(cut -d' ' -f1 /proc/loadavg)"
gw=(); kf=(); cpu=(); ratios=()
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then
        read -r g c < <(gateway_round "$r"); k="$(kafka_round "$r")"
    else
        k="$(kafka_round "$r")"; read -r g c < <(gateway_round "$r")
    fi
    gw+=("$g"); kf+=("$k"); cpu+=("$c")
    ratios+=("$(python3 -c "print(round($g / $k, 3))")")
    say "round $r: gateway $g spans/s (gateway CPU $c us/span), kafka $k spans/s, ratio ${ratios[-1]}"
done
load1="$(cut -d' ' -f1 /proc/loadavg)"
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
printf '{"bench":"otlp","spans":%d,"requests":%d,"spans_per_request":%d,"concurrency":%d,"gateway_spans_per_s":%s,"kafka_spans_per_s":%s,"ratio":%s,"gateway_cpu_us_per_span":%s,"round_ratios":[%s],"load_before":%s,"load_after":%s}\n' \
    "$TOTAL" "$REQS" "$SPANS" "$CONC" "$(med "${gw[@]}")" "$(med "${kf[@]}")" "$(med "${ratios[@]}")" \
    "$(med "${cpu[@]}")" "$(IFS=,; echo "${ratios[*]}")" "$load0" "$load1"
