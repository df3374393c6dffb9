#!/usr/bin/env bash
# A message produced with kcat to the dev broker is consumed back through a
# consumer group (kcat -G), proving the broker serves real Kafka clients.
set -uo pipefail
: "${FLYWHEEL_KAFKA_BOOTSTRAP:?FLYWHEEL_KAFKA_BOOTSTRAP is not set: run through scripts/test}"
command -v kcat >/dev/null || { echo "FAIL: kcat not installed (scripts/bootstrap installs it)"; exit 1; }
topic="fwt_kcat_$$_$RANDOM"
msgs=()
for i in $(seq 1 20); do msgs+=("message-$i-$RANDOM"); done
printf '%s\n' "${msgs[@]}" | kcat -P -b "$FLYWHEEL_KAFKA_BOOTSTRAP" -t "$topic" || { echo "FAIL: produce"; exit 1; }
got="$(timeout 60 kcat -b "$FLYWHEEL_KAFKA_BOOTSTRAP" -G "fwt_kcat_group_$$" "$topic" \
        -q -X auto.offset.reset=earliest -c 20 2>/dev/null | sort)"
want="$(printf '%s\n' "${msgs[@]}" | sort)"
if [ "$got" != "$want" ]; then
    echo "FAIL: consumed messages differ"; echo "want: $want"; echo "got: $got"; exit 1
fi
echo "ok: 20 messages through a consumer group"
