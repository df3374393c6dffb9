#!/usr/bin/env bash
# otlp_gateway_fatal: a fatal error of the gateway's idempotent producer,
# provoked for real. A private dev broker answers one Produce request with
# OUT_OF_ORDER_SEQUENCE_NUMBER (rd_kafka_mock_push_request_errors through
# its --inject-file), which librdkafka 2.0.2 treats as a fatal idempotence
# error. The gateway must not exit: the request on the failed producer gets
# 503 with Retry-After, the producer is recreated (logged with the reason,
# counted in flywheel_gateway_producer_recreations_total, the old one closed),
# the retried request and later ones get 200, and every span is one row.
set -euo pipefail
T_NAME=otlp_fatal
. "$(dirname "$0")/lib.sh"

"$FW_BUILD_DIR/devbroker/flywheel-devbroker" --brokers 1 --partitions 2 --topic fwt_fatal \
    --bootstrap-file "$T_DIR/bootstrap" --inject-file "$T_DIR/inject" >"$T_DIR/devbroker.log" 2>&1 &
T_PIDS+=("$!")
deadline=$(( $(date +%s) + 20 ))
until [ -s "$T_DIR/bootstrap" ]; do
    [ "$(date +%s)" -ge "$deadline" ] && fail "private dev broker did not start"
    sleep 0.1
done
FLYWHEEL_KAFKA_BOOTSTRAP="$(sed -n 's/^bootstrap.servers=//p' "$T_DIR/bootstrap")"

t_db
t_collector fwt_fatal
t_gateway fwt_fatal --kafka.ack_timeout_ms=5000 --retry_after_s=1
k="$(t_key fatal)"
METRICS="http://127.0.0.1:$GW_PORT/metrics"
recreations() { curl -s "$METRICS" | sed -n 's/^flywheel_gateway_producer_recreations_total //p'; }

# One LLM span per request, all in one trace (one key, one partition, so a
# later row proves the earlier ones are in).
send() {
    local body
    body="$(printf '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"8b8efbf33c6a4e119d2a401c7e550b01","spanId":"a1b2c3d4e5f607%02d","startTimeUnixNano":"1765000000%09d","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}}]}]}]}]}' "$1" "$1")"
    curl -s -D "$T_DIR/headers" -o "$T_DIR/body" -w '%{http_code}' -H "Authorization: Bearer $k" \
        -H 'Content-Type: application/json' --data "$body" "$GW_URL"
}

[ "$(send 1)" = 200 ] || fail "before the fault: $(cat "$T_DIR/body")"
[ "$(recreations)" = 0 ] || fail "recreations before the fault: $(recreations)"

# Arm the fault: the next Produce request fails with a sequence error.
echo "Produce 1 OUT_OF_ORDER_SEQUENCE_NUMBER" >"$T_DIR/inject.tmp"
mv "$T_DIR/inject.tmp" "$T_DIR/inject"
deadline=$(( $(date +%s) + 10 ))
until [ -e "$T_DIR/inject.done" ]; do
    [ -e "$T_DIR/inject.failed" ] && fail "the dev broker refused the injection: $(cat "$T_DIR/devbroker.log")"
    [ "$(date +%s)" -ge "$deadline" ] && fail "the dev broker did not arm the error"
    sleep 0.05
done

# The request that meets the fatal error: 503 + Retry-After, never 200.
got="$(send 2)"
[ "$got" = 503 ] || fail "the request on the failed producer answered $got: $(cat "$T_DIR/body")"
grep -qi '^Retry-After: 1' "$T_DIR/headers" || fail "no Retry-After: $(cat "$T_DIR/headers")"
grep -q '"code":14' "$T_DIR/body" || fail "503 body: $(cat "$T_DIR/body")"

deadline=$(( $(date +%s) + 20 ))
until [ "$(recreations)" = 1 ]; do
    kill -0 "$GW_PID" 2>/dev/null || fail "the gateway exited after the fatal error"
    [ "$(date +%s)" -ge "$deadline" ] && fail "the producer was not recreated (metric: $(recreations))"
    sleep 0.1
done
log="$T_DIR/gateway.log.start"
grep -q 'msg="kafka fatal error".*OUT_OF_ORDER_SEQUENCE_NUMBER' "$log" || fail "no fatal error logged: $(cat "$log")"
grep -q 'msg="kafka producer recreated after a fatal error" old_producer=1 new_producer=2 .*reason=.*OUT_OF_ORDER_SEQUENCE_NUMBER' "$log" ||
    fail "no recreation logged with its reason: $(cat "$log")"
deadline=$(( $(date +%s) + 20 ))
until grep -q 'msg="old kafka producer closed" producer=1' "$log"; do
    [ "$(date +%s)" -ge "$deadline" ] && fail "the old producer was not closed: $(cat "$log")"
    sleep 0.1
done

# The client's retry and later requests: 200, on the new producer.
[ "$(send 2)" = 200 ] || fail "the retry after the recreation: $(cat "$T_DIR/body")"
for i in 3 4 5; do
    [ "$(send "$i")" = 200 ] || fail "request $i after the recreation: $(cat "$T_DIR/body")"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_PORT/readyz")" = 200 ] || fail "not ready after the recreation"
kill -0 "$GW_PID" 2>/dev/null || fail "the gateway exited"

# Every span exactly once.
t_wait_count "SELECT count(*) FROM flywheel.generations WHERE span_id = 'a1b2c3d4e5f60705'" 1
row="$(q "SELECT count(*), count(DISTINCT span_id), string_agg(DISTINCT right(span_id, 2), ',' ORDER BY right(span_id, 2))
          FROM flywheel.generations")"
[ "$row" = "5|5|01,02,03,04,05" ] || fail "rows (count, distinct spans, spans): $row"
[ "$(recreations)" = 1 ] || fail "recreations: $(recreations)"

# Under load: three clients send 20 spans each, retrying whatever is not
# answered 200 (as an OTLP exporter does), while the broker fails another
# Produce request. Requests in flight on the failed producer get 503 and are
# retried; nothing is answered 200 without being stored, nothing twice.
client() {
    local c="$1" i code n
    for i in $(seq 10 29); do
        n=0
        while :; do
            code="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $k" -H 'Content-Type: application/json' \
                --data "$(printf '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"8b8efbf33c6a4e119d2a401c7e550b%02d","spanId":"c%dc2c3d4e5f607%02d","startTimeUnixNano":"1765000001%09d","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}}]}]}]}]}' "$i" "$c" "$i" "$i")" "$GW_URL")"
            [ "$code" = 200 ] && break
            [ "$code" = 503 ] || { echo "client $c span $i: HTTP $code"; return 1; }
            n=$((n + 1))
            [ "$n" -lt 60 ] || { echo "client $c span $i: still 503 after $n tries"; return 1; }
            sleep 0.2
        done
    done
}
cpids=()
for c in 1 2 3; do client "$c" >"$T_DIR/client$c.log" 2>&1 & cpids+=("$!"); done
t_wait_count "SELECT count(*) >= 11 FROM flywheel.generations" t 30   # the clients are under way
echo "Produce 1 OUT_OF_ORDER_SEQUENCE_NUMBER" >"$T_DIR/inject.tmp"
mv "$T_DIR/inject.tmp" "$T_DIR/inject"
for c in 1 2 3; do wait "${cpids[$((c - 1))]}" || fail "client $c: $(cat "$T_DIR/client$c.log")"; done
kill -0 "$GW_PID" 2>/dev/null || fail "the gateway exited under load"
t_wait_count "SELECT count(*) FROM flywheel.generations" 65 60
[ "$(q "SELECT count(DISTINCT span_id) FROM flywheel.generations")" = 65 ] || fail "duplicate spans"
[ -e "$T_DIR/inject.done" ] || fail "the second error was not armed"
[ "$(q "SELECT count(*) FROM flywheel.dead_letters")" = 0 ] || fail "dead letters"
echo "otlp_gateway_fatal: ok ($(recreations) recreation(s) in all)"
