#!/usr/bin/env bash
# Instruction counts of the export's per-row client work against the
# committed reference (tests/export/icount.ref): callgrind counts
# instructions exactly, so a regression shows without timing anything on a
# shared machine. The program (bench/icount_export.c) runs the rows of
# `scripts/bench export` through the export's per-row pipeline: with the
# streaming transform and no dedupe (what the benchmark's re-export does),
# and with dedupe on (the default). Fails when either count per row is more
# than 25 % above the reference for this build type; prints a note when one
# is more than 25 % below it (update the reference then, so the margin
# stays tight).
#   test_icount.sh BENCH_ICOUNT_EXPORT REFERENCE BUILD_TYPE
set -euo pipefail
prog="$1" ref="$2" type="$3"
if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind is not installed (scripts/bootstrap installs it)" >&2
    exit 1
fi
line=$(awk -v t="$type" '$1 == t' "$ref")
if [ -z "$line" ]; then
    echo "no reference for build type \"$type\" in $ref" >&2
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
col=2
for fn in icount_export_fast icount_export_dedupe; do
    valgrind --tool=callgrind --toggle-collect="$fn" --callgrind-out-file="$tmp/$fn" \
        "$prog" >"$tmp/$fn.out" 2>"$tmp/$fn.err" || {
        echo "valgrind $prog failed:" >&2
        cat "$tmp/$fn.err" >&2
        exit 1
    }
    rows=$(sed -n 's/.*"rows":\([0-9]*\).*/\1/p' "$tmp/$fn.out")
    total=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$tmp/$fn")
    if [ -z "$rows" ] || [ -z "$total" ] || [ "$rows" -eq 0 ]; then
        echo "no count for $fn (rows \"$rows\", summary \"$total\")" >&2
        exit 1
    fi
    per=$((total / rows))
    want=$(echo "$line" | awk -v c=$col '{print $c}')
    limit=$((want * 125 / 100))
    echo "$fn: $per instructions per row (reference $want, limit $limit, build type $type)"
    if [ "$per" -gt "$limit" ]; then
        echo "$fn: $per instructions per row is more than 25 % above the reference $want" >&2
        status=1
    elif [ "$per" -lt $((want * 75 / 100)) ]; then
        echo "$fn: $per is more than 25 % below the reference $want: update $ref" >&2
    fi
    col=$((col + 1))
done
exit $status
