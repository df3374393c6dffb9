#!/usr/bin/env bash
# scripts/bench redact — the redaction scan (every built-in detector on) over
# typical chat text in 2 KB pieces, against memchr() and strlen() over the
# same bytes in the same run (bench/redact.c). Best of FW_BENCH_REDACT_ROUNDS
# (default 15) rounds of thread CPU time. Last stdout line: one JSON object.
# Needs no services; runs for a few seconds.
set -euo pipefail
: "${FW_BUILD_DIR:?run through scripts/bench redact}"
"$FW_BUILD_DIR/bench/bench_redact" --rounds "${FW_BENCH_REDACT_ROUNDS:-15}" \
    ${FW_BENCH_REDACT_BYTES:+--bytes "$FW_BENCH_REDACT_BYTES"}
