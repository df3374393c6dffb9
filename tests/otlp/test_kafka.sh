#!/usr/bin/env bash
# otlp_kafka: OTLP requests produced with kcat to OTLP topics (otlp_proto and
# otlp_json, as the OpenTelemetry Collector's kafka exporter writes them) are
# stored by the collector: one row per LLM span, the same rows from both
# encodings, non-LLM spans skipped, undecodable messages dead-lettered, a
# re-sent message stored once; then the collector is killed with -9 while it
# consumes an OTLP topic and, restarted, stores every span exactly once.
set -euo pipefail
T_NAME=otlp_kafka
. "$(dirname "$0")/lib.sh"
command -v kcat >/dev/null || fail "kcat not installed (scripts/bootstrap installs it)"
J2P="$FW_BUILD_DIR/tests/otlp/otlp_json2proto"

t_db
tp="fwt_otlp_proto_$$_$RANDOM"; tj="fwt_otlp_json_$$_$RANDOM"; tk="fwt_otlp_kill_$$_$RANDOM"
produce() { kcat -P -b "$FLYWHEEL_KAFKA_BOOTSTRAP" -t "$1" "${@:2}" || fail "kcat produce to $1"; }

# request TRACE_HEX SPANS...: a request with one HTTP span and LLM spans
# whose span ids are given (16 hex digits each).
request() {
    local trace="$1"; shift
    local spans="" sep=""
    spans="{\"traceId\":\"$trace\",\"spanId\":\"00000000000000ff\",\"name\":\"GET /chat\",\"kind\":2,\"startTimeUnixNano\":\"1765000000000000000\",\"endTimeUnixNano\":\"1765000002000000000\",\"attributes\":[{\"key\":\"http.method\",\"value\":{\"stringValue\":\"GET\"}}]}"
    for s in "$@"; do
        spans="$spans,{\"traceId\":\"$trace\",\"spanId\":\"$s\",\"parentSpanId\":\"00000000000000ff\",\"name\":\"chat gpt-4o-mini\",\"kind\":3,\"startTimeUnixNano\":\"1765000000500000000\",\"endTimeUnixNano\":\"1765000001500000000\",\"attributes\":[{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"chat\"}},{\"key\":\"gen_ai.request.model\",\"value\":{\"stringValue\":\"gpt-4o-mini\"}},{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{\"intValue\":\"11\"}},{\"key\":\"gen_ai.input.messages\",\"value\":{\"stringValue\":\"[{\\\"role\\\":\\\"user\\\",\\\"parts\\\":[{\\\"type\\\":\\\"text\\\",\\\"content\\\":\\\"hi $s\\\"}]}]\"}}]}"
    done
    printf '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"kafka-app"}}]},"scopeSpans":[{"scope":{"name":"s"},"spans":[%s]}]}]}' "$spans"
}

request 5b8efbf33c6a4e119d2a401c7e550b01 a100000000000001 a100000000000002 a100000000000003 >"$T_DIR/a.json"
"$J2P" "$T_DIR/a.json" >"$T_DIR/a.pb" || fail "json2proto"
request 5b8efbf33c6a4e119d2a401c7e550b02 b100000000000001 b100000000000002 b100000000000003 >"$T_DIR/b.json"
printf '\x0a\x05\x12\x03\x12\x01' >"$T_DIR/garbage.pb"
printf '{"resourceLogs":[]}' >"$T_DIR/logs.json"
produce "$tp" "$T_DIR/a.pb" "$T_DIR/garbage.pb"
produce "$tj" "$T_DIR/b.json" "$T_DIR/logs.json"

t_collector fwt_unused_$$ --otlp.topics="$tp:otlp_proto, $tj:otlp_json" --otlp.project=kafka
t_wait_count "SELECT count(*) FROM flywheel.generations" 6
t_wait_count "SELECT count(*) FROM flywheel.dead_letters" 2
[ "$(q "SELECT string_agg(reason || ':' || topic, ',' ORDER BY topic) FROM flywheel.dead_letters")" = \
  "undecodable:$tj,undecodable:$tp" ] || fail "dead letters: $(q "SELECT reason, topic, detail FROM flywheel.dead_letters")"
q "SELECT detail FROM flywheel.dead_letters WHERE topic = '$tj'" | grep -q resourceLogs || fail "logs dead letter detail"
# Both encodings, the same rows (but for the ids and the message text).
got="$(q "SELECT count(DISTINCT (project, operation_name, request_model, input_tokens, start_time, end_time,
                 attributes::text, parent_span_id))
          FROM flywheel.generations")"
[ "$got" = 1 ] || fail "proto and JSON messages gave different rows"
[ "$(q "SELECT count(*) FROM flywheel.generations WHERE project = 'kafka' AND input_messages->0->'parts'->0->>'content' LIKE 'hi %'")" = 6 ] ||
    fail "rows lack their messages"
# A re-sent message (the kafka exporter retrying) is stored once.
produce "$tp" "$T_DIR/a.pb"
request 5b8efbf33c6a4e119d2a401c7e550b03 c100000000000001 >"$T_DIR/c.json"
produce "$tj" "$T_DIR/c.json"
t_wait_count "SELECT count(*) FROM flywheel.generations" 7
[ "$(q "SELECT count(*) FROM flywheel.generations")" = 7 ] || fail "a re-sent message was stored twice"
kill "$COLLECTOR_PID"; wait "$COLLECTOR_PID" 2>/dev/null || true

# --- kill -9 while consuming an OTLP topic -----------------------------------------
for i in $(seq 1 200); do
    ids=()
    for k in 1 2 3 4 5; do ids+=("$(printf 'd%03d%012d' "$k" "$i")"); done
    request "$(printf '6b8efbf33c6a4e119d2a401c%08x' "$i")" "${ids[@]}" >"$T_DIR/k_$i.json"
done
produce "$tk" "$T_DIR"/k_*.json
t_collector "$tk" --otlp.topics="$tk:otlp_json" --otlp.project=killed --topics= --batch.max_rows=20
for round in 1 2; do
    t_wait_count "SELECT (count(*) > $((round * 150)))::int FROM flywheel.generations WHERE project = 'killed'" 1 120
    kill -9 "$COLLECTOR_PID"; wait "$COLLECTOR_PID" 2>/dev/null || true
    t_collector "$tk" --otlp.topics="$tk:otlp_json" --otlp.project=killed --topics= --batch.max_rows=20
done
t_wait_count "SELECT count(*) FROM flywheel.generations WHERE project = 'killed'" 1000 180
[ "$(q "SELECT count(DISTINCT (trace_id, span_id)) FROM flywheel.generations WHERE project = 'killed'")" = 1000 ] ||
    fail "spans missing or doubled after kill -9"
echo "otlp_kafka: ok"
