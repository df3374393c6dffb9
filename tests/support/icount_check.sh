#!/usr/bin/env bash
# Instruction counts per unit of work against a committed reference:
# callgrind counts instructions exactly, so a regression shows without timing
# anything on a shared machine. PROGRAM prints a JSON line with the number of
# units ("events":N or "rows":N); each FUNCTION is counted on its own run
# (--toggle-collect), divided by that number, and compared with the
# reference line for BUILD_TYPE (columns in FUNCTION order). Fails when a
# count is more than 25 % above the reference; prints a note when one is more
# than 25 % below it (update the reference then, so the margin stays tight).
# Used by tests/agent/test_icount.sh and tests/export/test_icount.sh.
#   icount_check.sh PROGRAM REFERENCE BUILD_TYPE UNIT FUNCTION...
set -euo pipefail
prog="$1" ref="$2" type="$3" unit="$4"
shift 4
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
for fn in "$@"; do
    valgrind --tool=callgrind --toggle-collect="$fn" --callgrind-out-file="$tmp/$fn" \
        "$prog" >"$tmp/$fn.out" 2>"$tmp/$fn.err" || {
        echo "valgrind $prog failed:" >&2
        cat "$tmp/$fn.err" >&2
        exit 1
    }
    n=$(sed -n "s/.*\"${unit}s\":\([0-9]*\).*/\1/p" "$tmp/$fn.out")
    total=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$tmp/$fn")
    if [ -z "$n" ] || [ -z "$total" ] || [ "$n" -eq 0 ]; then
        echo "no count for $fn (${unit}s \"$n\", summary \"$total\")" >&2
        exit 1
    fi
    per=$((total / n))
    want=$(echo "$line" | awk -v c=$col '{print $c}')
    limit=$((want * 125 / 100))
    echo "$fn: $per instructions per $unit (reference $want, limit $limit, build type $type)"
    if [ "$per" -gt "$limit" ]; then
        echo "$fn: $per instructions per $unit is more than 25 % above the reference $want" >&2
        status=1
    elif [ "$per" -lt $((want * 75 / 100)) ]; then
        echo "$fn: $per is more than 25 % below the reference $want: update $ref" >&2
    fi
    col=$((col + 1))
done
exit $status
