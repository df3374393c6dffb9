#!/usr/bin/env bash
# collector_fuzz_decode: runs the libFuzzer target for ~20 s over the
# committed corpus (new inputs go to a temporary directory, the repository's
# corpus is only read). Fails on any crash, leak or sanitizer report.
set -euo pipefail
bin="$FW_BUILD_DIR/tests/collector/fuzz_decode"
corpus="$FW_SOURCE_DIR/tests/collector/fuzz_corpus"
[ -x "$bin" ] || { echo "fuzz target not built: $bin (needs clang)" >&2; exit 1; }
[ -d "$corpus" ] || { echo "corpus missing: $corpus" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" -max_total_time="${FWC_FUZZ_SECONDS:-20}" -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 "$work" "$corpus" 2>"$work/log" || { tail -n 60 "$work/log" >&2; exit 1; }
grep -E "stat::number_of_executed_units|Done" "$work/log" >&2 || true
runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")"
[ "${runs:-0}" -gt 1000 ] || { echo "fuzzer ran only ${runs:-0} inputs" >&2; exit 1; }
echo "fuzz_decode: $runs inputs, no failure"
