#!/usr/bin/env bash
# Instruction counts of the export's per-row client work against the
# committed reference (tests/export/icount.ref). The program
# (bench/icount_export.c) runs the rows of `scripts/bench export` through the
# export's per-row pipeline: with the streaming transform and no dedupe (what
# the benchmark's re-export does), and with dedupe on (the default). The
# check is tests/support/icount_check.sh (fails above +25 %).
#   test_icount.sh BENCH_ICOUNT_EXPORT REFERENCE BUILD_TYPE
set -euo pipefail
exec bash "$(dirname "$0")/../support/icount_check.sh" "$1" "$2" "$3" row \
    icount_export_fast icount_export_dedupe
