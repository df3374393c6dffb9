#!/usr/bin/env bash
# The dynamic symbols libflywheel.so defines are exactly the fw_* functions
# declared with FW_API in flywheel.h: nothing internal leaks, nothing public
# is missing.
set -euo pipefail
lib="$1" header="$2"
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TtDdBbRr]$/ {print $3}' | sed 's/@.*//' | sort -u)
declared=$(grep -o '^FW_API [^(]*(' "$header" | sed -E 's/.*[ *](fw_[a-z0-9_]+)\($/\1/' | sort -u)
if [ "$exported" != "$declared" ]; then
    echo "exported symbols differ from the header's FW_API functions:" >&2
    diff <(echo "$declared") <(echo "$exported") >&2 || true
    exit 1
fi
echo "libflywheel exports exactly $(echo "$declared" | wc -l) fw_* functions" >&2
