#!/usr/bin/env bash
# otlp_gateway_faults: what a client sees, and what is stored, when things
# fail (a private dev broker, so that taking it down disturbs no other test):
#   - Kafka down: the gateway answers 503 with Retry-After once the events
#     are not acknowledged in kafka.ack_timeout_ms; the SDK's exporter
#     retries on its own, Kafka comes back, every span is stored once;
#   - the gateway killed with -9 (twice) while a client sends exports one
#     after the other, retrying what was not answered 200: every span is
#     stored exactly once.
set -euo pipefail
T_NAME=otlp_faults
. "$(dirname "$0")/lib.sh"

"$FW_BUILD_DIR/devbroker/flywheel-devbroker" --brokers 1 --partitions 4 --topic "fwt_faults" \
    --bootstrap-file "$T_DIR/bootstrap" >"$T_DIR/devbroker.log" 2>&1 &
BROKER_PID=$!
T_PIDS+=("$BROKER_PID")
deadline=$(( $(date +%s) + 20 ))
until [ -s "$T_DIR/bootstrap" ]; do
    [ "$(date +%s)" -ge "$deadline" ] && fail "private dev broker did not start"
    sleep 0.1
done
FLYWHEEL_KAFKA_BOOTSTRAP="$(sed -n 's/^bootstrap.servers=//p' "$T_DIR/bootstrap")"
[ -n "$FLYWHEEL_KAFKA_BOOTSTRAP" ] || fail "no bootstrap in $(cat "$T_DIR/bootstrap")"

t_db
t_collector fwt_faults
t_gateway fwt_faults --kafka.ack_timeout_ms=2000 --retry_after_s=1
k="$(t_key faults)"

# --- Kafka down -----------------------------------------------------------------------
GW_URL="$GW_URL" GW_KEY="$k" t_node export proto none 2 >"$T_DIR/node.log" 2>&1 || fail "export with Kafka up"
t_wait_count "SELECT count(*) FROM flywheel.generations" 2
kill -USR1 "$BROKER_PID"
body='{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"7b8efbf33c6a4e119d2a401c7e550b01","spanId":"a1b2c3d4e5f60701","startTimeUnixNano":"1765000000000000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}}]}]}]}]}'
curl -s -D "$T_DIR/headers" -o "$T_DIR/body" -H "Authorization: Bearer $k" -H 'Content-Type: application/json' \
    --data "$body" "$GW_URL" || fail "curl"
grep -q '^HTTP/1.1 503' "$T_DIR/headers" || fail "Kafka down is not 503: $(cat "$T_DIR/headers")"
grep -qi '^Retry-After: 1' "$T_DIR/headers" || fail "no Retry-After: $(cat "$T_DIR/headers")"
grep -q '"code":14' "$T_DIR/body" || fail "503 body: $(cat "$T_DIR/body")"
# The SDK's exporter gets 503s, honours Retry-After and retries; Kafka
# comes back meanwhile.
GW_URL="$GW_URL" GW_KEY="$k" t_node export json none 5 >"$T_DIR/node.log" 2>&1 &
NODE_PID=$!
T_PIDS+=("$NODE_PID")
# Let the exporter meet a few 503s (the curl above was the first).
deadline=$(( $(date +%s) + 30 ))
until [ "$(curl -s "http://127.0.0.1:$GW_PORT/metrics" | sed -n 's/^flywheel_gateway_requests_total{code="503"} //p')" -ge 3 ]; do
    [ "$(date +%s)" -ge "$deadline" ] && fail "the exporter did not retry on 503"
    sleep 0.2
done
kill -USR2 "$BROKER_PID"
wait "$NODE_PID" || fail "the exporter did not get through after Kafka came back: $(cat "$T_DIR/node.log")"
# The 503'd curl request is retried by hand, as a client would.
deadline=$(( $(date +%s) + 30 ))
until [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $k" -H 'Content-Type: application/json' --data "$body" "$GW_URL")" = 200 ]; do
    [ "$(date +%s)" -ge "$deadline" ] && fail "no 200 after Kafka came back"
    sleep 0.5
done
t_wait_count "SELECT count(*) FROM flywheel.generations" 8 60
[ "$(q "SELECT count(DISTINCT (trace_id, span_id)) FROM flywheel.generations")" = 8 ] || fail "duplicate spans after the outage"
curl -s "http://127.0.0.1:$GW_PORT/metrics" | grep -q '^flywheel_gateway_requests_total{code="503"} [1-9]' ||
    fail "no 503 counted"

# --- kill -9 while a client sends -----------------------------------------------------------
GW_URL="$GW_URL" GW_KEY="$k" t_node loop 60 10 >"$T_DIR/node.log" 2>&1 &
NODE_PID=$!
T_PIDS+=("$NODE_PID")
port="$GW_PORT"
for round in 1 2; do
    t_wait_count "SELECT (count(*) >= $((8 + round * 200)))::int FROM flywheel.generations" 1 90
    kill -0 "$NODE_PID" 2>/dev/null || fail "the client finished before kill $round"
    kill -9 "$GW_PID"; wait "$GW_PID" 2>/dev/null || true
    t_gateway fwt_faults --kafka.ack_timeout_ms=2000 --retry_after_s=1 --listen="127.0.0.1:$port"
    [ "$GW_PORT" = "$port" ] || fail "restarted gateway on another port"
done
wait "$NODE_PID" || fail "the client did not finish: $(cat "$T_DIR/node.log")"
attempts="$(sed -n 's/^exported 600 spans in \([0-9]*\) attempts$/\1/p' "$T_DIR/node.log")"
[ -n "$attempts" ] && [ "$attempts" -ge 60 ] || fail "the client lost track: $(cat "$T_DIR/node.log")"
echo "client: 60 exports in $attempts attempts"
t_wait_count "SELECT count(*) FROM flywheel.generations" 608 90
[ "$(q "SELECT count(DISTINCT (trace_id, span_id)) FROM flywheel.generations")" = 608 ] || fail "spans doubled or lost"
echo "otlp_gateway_faults: ok"
