"""Driver of `scripts/bench python` (see bench/python.sh).

Options: --events N per path (default 20000), --rate R loop iterations per
second (default 2000; each iteration runs every path once), --topic.
"""
import argparse
import ctypes
import json
import os
import platform
import sys
import time

import flywheel
from flywheel import _core
from flywheel import _native as N

SYSTEM = ("You are a support assistant for an online shop. Answer briefly and politely, "
          "cite the order number, never invent tracking data. ") * 5
USER = ("My order 1234 was due last Tuesday and has not arrived. The tracking page has not "
        "changed for four days. Can you check what happened and when it will arrive? ") * 5
ANSWER = ("I checked order 1234: it left our warehouse on Monday and the carrier expects to "
          "deliver it tomorrow before noon. ") * 3
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]
PARAMS = {"temperature": 0.2, "max_tokens": 512}


def record_api():
    with flywheel.generation(model="gpt-4o-mini", provider="openai", input=MESSAGES,
                             params=PARAMS, conversation_id="conv-1234",
                             user_id="user-42") as g:
        g.set_output(ANSWER)
        g.set_usage(input_tokens=812, output_tokens=40)
        g.response_id = "chatcmpl-bench"


def record_dict():
    return {"model": "gpt-4o-mini", "provider": "openai", "input": MESSAGES,
            "params": PARAMS, "conversation_id": "conv-1234", "user_id": "user-42",
            "output": [{"role": "assistant", "content": ANSWER}],
            "usage": {"input_tokens": 812, "output_tokens": 40},
            "response_id": "chatcmpl-bench", "start_time_unix_nano": time.time_ns(),
            "end_time_unix_nano": time.time_ns(), "status": "ok"}


def floor():
    json.dumps(record_dict(), ensure_ascii=False)


def one_buffer():
    """The caller-thread work of a single-buffer record call: serialise once,
    hand one buffer to the builder (one copy), record."""
    lib, a = _core._st.lib, _core._st.agent
    b = json.dumps(record_dict(), ensure_ascii=False).encode()
    h = lib.fw_gen_new(a)
    lib.fw_gen_set_str_n(h, N.GEN_REQUEST_EXTRA_JSON, b, len(b))
    lib.fw_gen_record(h, None)


def pct(xs, q):
    return xs[min(len(xs) - 1, int(len(xs) * q))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--rate", type=float, default=2000)
    ap.add_argument("--topic", default=f"bench_python_{os.getpid()}")
    args = ap.parse_args()
    flywheel.init(bootstrap_servers=os.environ["FLYWHEEL_KAFKA_BOOTSTRAP"], topic=args.topic,
                  config={"queue.max_bytes": 1 << 30}, strict=True)
    size = len(json.dumps(record_dict(), ensure_ascii=False).encode())
    paths = {"api": record_api, "floor": floor, "one_buffer": one_buffer}
    lat = {k: [] for k in paths}
    cpu = {k: [] for k in paths}
    tclock = time.thread_time_ns
    for f in paths.values():  # warm up
        for _ in range(200):
            f()
    period = 1.0 / args.rate
    clock = time.perf_counter_ns
    nxt = time.perf_counter()
    order = list(paths.items())
    for i in range(args.events):
        for name, f in (order if i % 2 == 0 else order[::-1]):
            c0 = tclock()
            t0 = clock()
            f()
            t1 = clock()
            cpu[name].append(tclock() - c0)
            lat[name].append(t1 - t0)
        nxt += period
        while time.perf_counter() < nxt:
            pass
    ok = flywheel.flush(60)
    st = flywheel.stats()
    flywheel.shutdown(10)
    res = {}
    for name, xs in lat.items():
        xs.sort()
        cs = sorted(cpu[name])
        res[name] = {"p50_ns": pct(xs, 0.5), "p99_ns": pct(xs, 0.99),
                     "p999_ns": pct(xs, 0.999), "max_ns": xs[-1],
                     "cpu_p50_ns": pct(cs, 0.5), "cpu_p99_ns": pct(cs, 0.99)}
        print(f"bench python: {name}: {json.dumps(res[name])}", file=sys.stderr)
    api, fl, ob = res["api"], res["floor"], res["one_buffer"]
    out = {"scenario": f"1 thread, {args.rate:.0f} records/s per path, broker up",
           "python": platform.python_version(), "event_json_bytes": size,
           "events_per_path": args.events,
           "p50_ns": api["p50_ns"], "p99_ns": api["p99_ns"], "p999_ns": api["p999_ns"],
           "floor_json_dumps_p50_ns": fl["p50_ns"], "floor_json_dumps_p99_ns": fl["p99_ns"],
           "floor_json_dumps_p999_ns": fl["p999_ns"],
           "ratio_p50": round(api["p50_ns"] / max(1, fl["p50_ns"]), 2),
           "ratio_p99": round(api["p99_ns"] / max(1, fl["p99_ns"]), 2),
           "cpu_p50_ns": api["cpu_p50_ns"], "cpu_p99_ns": api["cpu_p99_ns"],
           "floor_cpu_p50_ns": fl["cpu_p50_ns"], "floor_cpu_p99_ns": fl["cpu_p99_ns"],
           "ratio_cpu_p99": round(api["cpu_p99_ns"] / max(1, fl["cpu_p99_ns"]), 2),
           "one_buffer_p50_ns": ob["p50_ns"], "one_buffer_p99_ns": ob["p99_ns"],
           "one_buffer_ratio_p50": round(ob["p50_ns"] / max(1, fl["p50_ns"]), 2),
           "per_field_minus_one_buffer_p50_ns": api["p50_ns"] - ob["p50_ns"],
           "loadavg_1m": os.getloadavg()[0], "cpus": os.cpu_count(),
           "flushed": ok, "recorded": st.get("recorded"), "delivered": st.get("delivered"),
           "dropped": st.get("dropped")}
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
