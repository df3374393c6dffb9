#!/usr/bin/env bash
# Instruction counts of the agent's hot paths, per recorded event, against
# the committed reference (tests/agent/icount.ref): the application thread's
# record and the agent thread's encode. The check is
# tests/support/icount_check.sh (fails above +25 %).
#   test_icount.sh BENCH_ICOUNT_AGENT REFERENCE BUILD_TYPE
set -euo pipefail
exec bash "$(dirname "$0")/../support/icount_check.sh" "$1" "$2" "$3" event \
    icount_record icount_encode
