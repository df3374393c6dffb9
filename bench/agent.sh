#!/usr/bin/env bash
# scripts/bench agent — application-thread latency of recording a ~2 KB chat
# generation through libflywheel (1 and 4 threads, broker reachable and not)
# against producing it with librdkafka directly from the application thread,
# in the same run; plus the agent thread's end-to-end throughput. Each
# scenario runs in its own process so peak RSS is per scenario. events_per_s
# is what was delivered (or spooled) per second of wall time including the
# final flush; for the baseline with the broker down it counts nothing
# delivered. The throughput rows also report CPU time per event of the agent
# thread (and of the direct producer's thread), because the wall-clock rate
# into the dev broker is bound by the broker path, not by either. The floor
# rows time a plain copy of the event's strings with the same threads and
# pacing: the scheduling noise of the machine. "Broker down"
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
# Noise floor: same threads and pacing, no library call (see bench/agent.c).
for t in 1 4; do
    run "floor_${t}t" --mode floor --threads $t --events $((EVENTS / t)) --rate $((RATE / t))
done
# Throughput: the agent's queue is filled first, then drained; the agent
# thread's CPU time per event is measured as well as the wall-clock rate.
# The same 40000 events produced directly, unpaced, measure the broker path.
run "baseline_throughput" --mode baseline --threads 1 --events 40000 --throughput \
    --bootstrap "$up"
run "agent_throughput" --mode agent --threads 1 --events 40000 --throughput --bootstrap "$up" \
    --set queue.max_bytes=1000000000
run "agent_throughput_noredact" --mode agent --threads 1 --events 40000 --throughput \
    --bootstrap "$up" --set queue.max_bytes=1000000000 --set redact.email=false \
    --set redact.phone=false --set redact.card=false --set redact.secret=false \
    --set redact.ipv4=false

# Instructions per event (callgrind, exact on a noisy machine): the record
# path on the application thread and the agent thread's encode (decode, every
# redaction detector, protobuf) of the same generation (bench/icount_agent.c).
icount() { # function
    command -v valgrind >/dev/null 2>&1 || { echo null; return; }
    valgrind --tool=callgrind --toggle-collect="$1" --callgrind-out-file="$tmp/cg.$1" \
        "$FW_BUILD_DIR/bench/bench_icount_agent" >"$tmp/cg.$1.out" 2>/dev/null || { echo null; return; }
    python3 -c 'import json,re,sys; ev=json.load(open(sys.argv[1]))["events"]; t=int(re.search(r"^summary: *(\d+)", open(sys.argv[2]).read(), re.M).group(1)); print(t // ev)' \
        "$tmp/cg.$1.out" "$tmp/cg.$1"
}
echo "bench agent: instruction counts (callgrind)" >&2
echo "{\"record\": $(icount icount_record), \"encode\": $(icount icount_encode)}" >"$tmp/icount.json"

python3 - "$tmp/results.jsonl" "$tmp/icount.json" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[r["label"]] = r
keys = ["p50_ns", "p99_ns", "p999_ns", "max_ns", "events_per_s", "rss_bytes"]
extra = ["threads", "rate", "failed_calls", "involuntary_switches", "app_cpu_ns_per_event", "wakeups",
         "agent_thread_cpu_ns_per_event", "agent_thread_events_per_cpu_s"]
out = {"scenario": "1 thread, broker up, %d events/s" % rows["agent_up_1t"]["rate"]}
for k in keys:
    out[k] = rows["agent_up_1t"][k]
for k in keys:
    out["baseline_" + k] = rows["baseline_up_1t"][k]
# Throughput. events_per_s: end to end through the agent into the dev
# broker (wall clock); baseline_events_per_s: direct produce of the same
# events into the same broker, unpaced (wall clock): both are bound by the
# broker path. agent_thread_events_per_cpu_s: the agent thread's own rate
# (1 / its CPU time per event while draining: decode, sample, redact,
# encode, produce, delivery reports); baseline_app_thread_events_per_cpu_s:
# the same for the direct producer's application thread (encode + produce).
thr, thr0, base = rows["agent_throughput"], rows["agent_throughput_noredact"], rows["baseline_throughput"]
out["events_per_s"] = thr["events_per_s"]
out["baseline_events_per_s"] = base["events_per_s"]
out["agent_thread_events_per_cpu_s"] = thr.get("agent_thread_events_per_cpu_s")
out["agent_thread_cpu_ns_per_event"] = thr.get("agent_thread_cpu_ns_per_event")
out["agent_thread_events_per_cpu_s_noredact"] = thr0.get("agent_thread_events_per_cpu_s")
out["baseline_app_thread_events_per_cpu_s"] = round(1e9 / max(1, base["app_cpu_ns_per_event"]))
out["p999_4t_ns"] = rows["agent_up_4t"]["p999_ns"]
out["floor_p999_4t_ns"] = rows["floor_4t"]["p999_ns"]
out["wakeups_1t"] = rows["agent_up_1t"].get("wakeups")
ic = json.load(open(sys.argv[2]))
out["instructions_per_record"] = ic["record"]
out["instructions_per_encode"] = ic["encode"]
out["p99_ratio_vs_baseline"] = round(rows["agent_up_1t"]["p99_ns"] / max(1, rows["baseline_up_1t"]["p99_ns"]), 3)
out["scenarios"] = {name: {k: r[k] for k in keys + extra if k in r}
                    | ({"delivered": r["delivered"], "spooled": r["spooled"], "dropped": r["dropped"]}
                       if "delivered" in r else {})
                    for name, r in rows.items()}
print(json.dumps(out, separators=(",", ":")))
PY
