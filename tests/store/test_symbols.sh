#!/usr/bin/env bash
# store_unit_symbols: the dynamic symbols libflywheel_store.so defines are
# exactly the functions flywheel/store.h declares: nothing internal leaks
# (the store's modules, fw_base, fw_redact, fw_codec, protobuf-c's
# generated code), nothing public is missing from the version script.
set -euo pipefail
lib="$1" header="$2"
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TtDdBbRrVvWw]$/ {print $3}' | sed 's/@.*//' \
    | grep -v '^FLYWHEEL_STORE_' | sort -u)
declared=$(grep -oE '^[a-z][a-z_ ]*[ *]+(fw_[a-z0-9_]+)\(' "$header" \
    | sed -E 's/.*[ *](fw_[a-z0-9_]+)\($/\1/' | sort -u)
[ -n "$declared" ] || { echo "no functions found in $header" >&2; exit 1; }
if [ "$exported" != "$declared" ]; then
    echo "libflywheel_store exports differ from the functions flywheel/store.h declares" >&2
    echo "(< declared only: add it to store/libflywheel_store.map; > exported only: make it" >&2
    echo " static, or declare it in the header):" >&2
    diff <(echo "$declared") <(echo "$exported") >&2 || true
    exit 1
fi
echo "libflywheel_store exports exactly the $(echo "$declared" | wc -l) functions of store.h" >&2
