#!/usr/bin/env bash
# serve_fuzz: runs the web server's libFuzzer target (form parser, escaper,
# word diff) for FWS_FUZZ_SECONDS (default 20 s; the `slow` variant runs
# longer) over the committed corpus; new inputs go to a temporary directory.
# Fails on any crash, leak, sanitizer report or broken invariant.
set -euo pipefail
bin="$FW_BUILD_DIR/tests/serve/fuzz_serve"
corpus="$FW_SOURCE_DIR/tests/serve/fuzz_corpus"
[ -x "$bin" ] || { echo "fuzz target not built: $bin (needs clang)" >&2; exit 1; }
[ -d "$corpus" ] || { echo "corpus missing: $corpus" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" -max_total_time="${FWS_FUZZ_SECONDS:-20}" -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 "$work" "$corpus" 2>"$work/log" || { tail -n 60 "$work/log" >&2; exit 1; }
runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")"
[ "${runs:-0}" -gt 1000 ] || { echo "fuzzer ran only ${runs:-0} inputs" >&2; exit 1; }
echo "fuzz_serve: $runs inputs, no failure"
