#!/usr/bin/env bash
# otlp_fuzz: runs the OTLP libFuzzer target for ~30 s over the committed
# corpus (new inputs go to a temporary directory). Fails on any crash, leak,
# sanitizer report, or an event the collector would dead-letter.
set -euo pipefail
bin="$FW_BUILD_DIR/tests/otlp/fuzz_otlp"
corpus="$FW_SOURCE_DIR/tests/otlp/fuzz_corpus"
[ -x "$bin" ] || { echo "fuzz target not built: $bin (needs clang)" >&2; exit 1; }
[ -d "$corpus" ] || { echo "corpus missing: $corpus" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" -max_total_time="${FWO_FUZZ_SECONDS:-30}" -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 "$work" "$corpus" 2>"$work/log" || { tail -n 60 "$work/log" >&2; exit 1; }
runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")"
[ "${runs:-0}" -gt 1000 ] || { echo "fuzzer ran only ${runs:-0} inputs" >&2; exit 1; }
echo "fuzz_otlp: $runs inputs, no failure"
