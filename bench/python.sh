#!/usr/bin/env bash
# scripts/bench python — caller-thread cost of recording a ~2 KB chat
# generation from Python through the flywheel package (the public API:
# flywheel.generation + set_output + set_usage, i.e. every field through
# its own ctypes call), against json.dumps of the same record in the same
# run and the same loop (the floor the issue sets: <= 3x). A third path
# measures what a single-buffer record call would cost the caller:
# json.dumps of the record + one builder call carrying the buffer + record.
# Paths alternate inside one paced loop so they see the same machine.
# Wall-clock percentiles include preemption (on a loaded machine a thread
# that runs longer is preempted more often, which can move a p99 from
# microseconds to a scheduler slice); the cpu_* figures are the calling
# thread's CPU time per call (CLOCK_THREAD_CPUTIME_ID), which excludes it.
# Debian's python3 when present. Last stdout line: one JSON object.
set -euo pipefail
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
export FLYWHEEL_LIBRARY="$FW_BUILD_DIR/agent/libflywheel.so.0"
export PYTHONPATH="$FW_SOURCE_DIR/python"
exec "$PY" "$FW_SOURCE_DIR/bench/python_bench.py" "$@"
