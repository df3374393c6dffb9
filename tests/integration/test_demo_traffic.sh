#!/usr/bin/env bash
# integration_demo_traffic: examples/demo_traffic against the dev broker.
#  - 50,000 generations through a 4 MB agent queue lose nothing: the demo
#    paces itself to the queue (issue 11 item 15; without pacing the agent
#    dropped about 40,000 of them here);
#  - when the agent does drop (a queue too small for one event), the demo
#    exits 3 and prints each drop reason with its count.
set -uo pipefail
DEMO="$FW_BUILD_DIR/examples/demo_traffic"
[ -x "$DEMO" ] || { echo "FAIL: not built: $DEMO"; exit 1; }
: "${FLYWHEEL_KAFKA_BOOTSTRAP:?FLYWHEEL_KAFKA_BOOTSTRAP not set: run under scripts/test or eval \"\$(scripts/services env)\"}"
fail() { echo "FAIL: $*"; exit 1; }
export FLYWHEEL_TOPIC="fwt_demo_$$_$(date +%s%N)"

out="$(FLYWHEEL_QUEUE_MAX_BYTES=4000000 "$DEMO" --events 50000 --seed 7 2>&1)" ||
    fail "demo_traffic exited $?: $out"
echo "$out"
grep -q "^demo_traffic: recorded 50000 generations" <<<"$out" || fail "not 50000 generations recorded"
grep -q ", dropped 0$" <<<"$out" || fail "events dropped"
grep -q "spooled 0," <<<"$out" || fail "events spooled"

out="$(FLYWHEEL_QUEUE_MAX_BYTES=4096 "$DEMO" --events 30 --seed 7 2>&1)"
rc=$?
echo "$out"
[ "$rc" = 3 ] || fail "demo_traffic exited $rc after drops, want 3"
grep -q "^demo_traffic: dropped by the agent: dropped_queue_full=30$" <<<"$out" ||
    fail "the drop reasons are not reported"
echo "ok"
