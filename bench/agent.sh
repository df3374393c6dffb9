#!/usr/bin/env bash
# scripts/bench agent — application-thread latency of recording a ~2 KB chat
# generation through libflywheel (1 and 4 threads, broker reachable and not)
# against producing it with librdkafka directly from the application thread,
# in the same run; plus the agent thread's end-to-end throughput. Each
# scenario runs in its own process so peak RSS is per scenario. events_per_s
# is what was delivered (or spooled) per second of wall time including the
# final flush; for the baseline with the broker down it counts nothing
# delivered. "Broker down"
# points the client at a closed local port (no broker reachable: the agent
# goes offline and spools; the baseline buffers in librdkafka).
# Last stdout line: one JSON object. Default run: about a minute.
set -euo pipefail
B="$FW_BUILD_DIR/bench/bench_agent"
up="$FLYWHEEL_KAFKA_BOOTSTRAP"
down="127.0.0.1:1"
EVENTS="${FW_BENCH_AGENT_EVENTS:-50000}"   # per scenario, split over the threads
RATE="${FW_BENCH_AGENT_RATE:-10000}"       # events/s per process, split over the threads
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
topic="bench_agent_$$"

run() { # name args...
    local name="$1"; shift
    echo "bench agent: $name" >&2
    "$B" --label "$name" --topic "$topic" "$@" | tee -a "$tmp/results.jsonl" >&2
}
for t in 1 4; do
    n=$((EVENTS / t)); r=$((RATE / t))
    run "agent_up_${t}t" --mode agent --threads $t --events $n --rate $r --bootstrap "$up"
    run "baseline_up_${t}t" --mode baseline --threads $t --events $n --rate $r --bootstrap "$up"
    run "agent_down_${t}t" --mode agent --threads $t --events $n --rate $r --bootstrap "$down" \
        --spool "$tmp/spool_$t"
    run "baseline_down_${t}t" --mode baseline --threads $t --events $n --rate $r --bootstrap "$down"
done
run "agent_throughput" --mode agent --threads 1 --events 40000 --throughput --bootstrap "$up" \
    --set queue.max_bytes=1000000000
run "agent_throughput_noredact" --mode agent --threads 1 --events 40000 --throughput \
    --bootstrap "$up" --set queue.max_bytes=1000000000 --set redact.email=false \
    --set redact.phone=false --set redact.card=false --set redact.secret=false \
    --set redact.ipv4=false

python3 - "$tmp/results.jsonl" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[r["label"]] = r
keys = ["p50_ns", "p99_ns", "p999_ns", "max_ns", "events_per_s", "rss_bytes"]
out = {"scenario": "1 thread, broker up, %d events/s" % rows["agent_up_1t"]["rate"]}
for k in keys:
    out[k] = rows["agent_up_1t"][k]
for k in keys:
    out["baseline_" + k] = rows["baseline_up_1t"][k]
out["events_per_s"] = rows["agent_throughput"]["events_per_s"]
out["baseline_events_per_s"] = rows["baseline_up_1t"]["events_per_s"]
out["p99_ratio_vs_baseline"] = round(rows["agent_up_1t"]["p99_ns"] / max(1, rows["baseline_up_1t"]["p99_ns"]), 3)
out["scenarios"] = {name: {k: r[k] for k in keys + ["threads", "rate", "failed_calls"] if k in r}
                    | ({"delivered": r["delivered"], "spooled": r["spooled"], "dropped": r["dropped"]}
                       if "delivered" in r else {})
                    for name, r in rows.items()}
print(json.dumps(out, separators=(",", ":")))
PY
