#!/usr/bin/env bash
# otlp_gateway: real OpenTelemetry clients from npm through flywheel-gateway,
# the dev broker and the collector into PostgreSQL.
#   - the SDK's OTLP exporters: protobuf and JSON, with and without gzip
#     (the JS exporter sends chunked bodies);
#   - OpenLLMetry's and OpenInference's OpenAI instrumentations driving the
#     real openai client against a fake OpenAI server: chat with a tool call
#     and a streamed chat, asserted column by column (usage NULL when the
#     span had none);
#   - project keys (unknown, revoked -> 401; the gateway's role reads keys
#     only), 405, 415, 413 (declared and chunked), a gzip bomb, 400 with a
#     google.rpc.Status (a logs export, garbage), partial success, keep-alive,
#     a stalled client closed, /metrics /healthz /readyz.
set -euo pipefail
T_NAME=otlp_gw
. "$(dirname "$0")/lib.sh"

t_db
topic="fwt_otlp_gw_$$_$RANDOM"
t_collector "$topic"
t_gateway "$topic" --keys.cache_s=1 --limits.max_body_bytes=1048576 --limits.timeout_s=2 \
    --redact.regex.ticket='TICKET-[0-9]+'

# The gateway's role can read keys and nothing else.
if psql "$GW_DSN" -XAtqc "SELECT count(*) FROM flywheel.generations" 2>/dev/null; then
    fail "the gateway role can read flywheel.generations"
fi
[ "$(psql "$GW_DSN" -XAtqc "SELECT count(*) FROM flywheel.project_keys")" = 0 ] || fail "gateway role cannot read keys"

# --- the SDK's exporters -------------------------------------------------------
for enc in proto json; do
    for comp in none gzip; do
        k="$(t_key "exp_${enc}_${comp}")"
        GW_URL="$GW_URL" GW_KEY="$k" t_node export "$enc" "$comp" 3 >"$T_DIR/node.log" 2>&1 ||
            fail "exporter $enc/$comp: $(cat "$T_DIR/node.log")"
    done
done
for enc in proto json; do
    for comp in none gzip; do
        t_wait_count "SELECT count(*) FROM flywheel.generations WHERE project = 'exp_${enc}_${comp}'" 3
    done
done
# Same rows whatever the encoding.
got="$(q "SELECT count(DISTINCT (request_model, provider_name, input_tokens, output_tokens,
                  input_messages::text, output_messages::text, request_params::text, finish_reasons::text))
          FROM flywheel.generations WHERE project LIKE 'exp_%'")"
[ "$got" = 3 ] || fail "the four encodings gave different rows ($got distinct)"
row="$(q "SELECT request_model, provider_name, operation_name, input_tokens, output_tokens,
                 input_messages->0->'parts'->0->>'content', request_params->>'temperature', release,
                 attributes->>'resource.service.name', attributes->>'app.flag'
          FROM flywheel.generations WHERE project = 'exp_proto_gzip' ORDER BY input_tokens LIMIT 1")"
[ "$row" = "gpt-4o-mini|openai|chat|12|3|question 0|0.5|1.0.0|exporter-test|true" ] || fail "exporter row: $row"

# --- OpenLLMetry (Traceloop) instrumentation, openai 4 --------------------------
k="$(t_key traceloop)"
GW_URL="$GW_URL" GW_KEY="$k" t_node traceloop >"$T_DIR/node.log" 2>&1 || fail "traceloop: $(cat "$T_DIR/node.log")"
t_wait_count "SELECT count(*) FROM flywheel.generations WHERE project = 'traceloop'" 2
row="$(q "SELECT request_model, response_model, provider_name, input_tokens, output_tokens,
                 input_messages->0->>'role', input_messages->1->'parts'->0->>'content',
                 output_messages->0->'parts'->0->>'type', output_messages->0->'parts'->0->>'name',
                 output_messages->0->'parts'->0->'arguments'->>'city', request_params->>'max_tokens',
                 tool_definitions IS NOT NULL
          FROM flywheel.generations WHERE project = 'traceloop' AND output_messages::text LIKE '%tool_call%'")"
[ "$row" = "gpt-4o-mini|gpt-4o-mini-2024-07-18|openai|20|7|system|Weather in Paris?|tool_call|get_weather|Paris|100|t" ] ||
    fail "traceloop tool-call row: $row"
row="$(q "SELECT input_tokens IS NULL, output_tokens IS NULL, output_messages->0->'parts'->0->>'content'
          FROM flywheel.generations WHERE project = 'traceloop' AND output_messages::text NOT LIKE '%tool_call%'")"
[ "$row" = "t|t|Sunny in Paris." ] || fail "traceloop streamed row: $row"

# --- OpenInference instrumentation, openai 5 ------------------------------------
k="$(t_key openinference)"
GW_URL="$GW_URL" GW_KEY="$k" t_node openinference >"$T_DIR/node.log" 2>&1 || fail "openinference: $(cat "$T_DIR/node.log")"
t_wait_count "SELECT count(*) FROM flywheel.generations WHERE project = 'openinference'" 2
row="$(q "SELECT request_model, response_model, provider_name, input_tokens, output_tokens,
                 cache_read_input_tokens, input_messages->1->'parts'->0->>'content',
                 output_messages->0->'parts'->0->>'name', output_messages->0->'parts'->0->'arguments'->>'city',
                 finish_reasons[1], status
          FROM flywheel.generations WHERE project = 'openinference' AND output_messages::text LIKE '%tool_call%'")"
[ "$row" = "gpt-4o-mini|gpt-4o-mini-2024-07-18|openai|20|7|4|Weather in Paris?|get_weather|Paris|tool_calls|ok" ] ||
    fail "openinference tool-call row: $row"
row="$(q "SELECT input_tokens IS NULL, output_tokens IS NULL, cache_read_input_tokens IS NULL,
                 (request_params->>'stream')::boolean
          FROM flywheel.generations WHERE project = 'openinference' AND output_messages::text NOT LIKE '%tool_call%'")"
[ "$row" = "t|t|t|t" ] || fail "openinference streamed row: $row"

# --- keys -------------------------------------------------------------------------
before="$(q "SELECT count(*) FROM flywheel.generations")"
if GW_URL="$GW_URL" GW_KEY="fwk_unknown" t_node export json none 1 >"$T_DIR/node.log" 2>&1; then
    fail "an unknown key was accepted"
fi
k="$(t_key revoked)"
GW_URL="$GW_URL" GW_KEY="$k" t_node export proto none 1 >"$T_DIR/node.log" 2>&1 || fail "key before revocation"
t_wait_count "SELECT count(*) FROM flywheel.generations WHERE project = 'revoked'" 1
id="$(q "SELECT key_id FROM flywheel.project_keys WHERE project = 'revoked'")"
"$FW_CLI" keys revoke --dsn "$DSN" "$id" 2>/dev/null || fail "keys revoke"
"$FW_CLI" keys list --dsn "$DSN" --all | grep -q "revoked .*[0-9]$" || fail "keys list --all shows no revocation"
body='{"resourceSpans":[]}'
deadline=$(( $(date +%s) + 10 ))
until [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $k" -H 'Content-Type: application/json' --data "$body" "$GW_URL")" = 401 ]; do
    [ "$(date +%s)" -ge "$deadline" ] && fail "a revoked key still works after keys.cache_s"
    sleep 0.2
done
[ "$(q "SELECT count(*) FROM flywheel.generations")" = "$((before + 1))" ] || fail "a refused request stored rows"

# --- HTTP answers -----------------------------------------------------------------
k="$(t_key http)"
code() { curl -s -o "$T_DIR/body" -w '%{http_code}' "$@"; }
AUTH=(-H "Authorization: Bearer $k")
[ "$(code "${AUTH[@]}" "$GW_URL")" = 405 ] || fail "GET /v1/traces is not 405"
[ "$(code "${AUTH[@]}" -H 'Content-Type: text/plain' --data x "$GW_URL")" = 415 ] || fail "text/plain is not 415"
[ "$(code "${AUTH[@]}" -H 'Content-Type: application/json' -H 'Content-Encoding: br' --data '{}' "$GW_URL")" = 415 ] || fail "br is not 415"
[ "$(code "${AUTH[@]}" -H 'Content-Type: application/json' --data '{}' "http://127.0.0.1:$GW_PORT/v1/nope")" = 404 ] || fail "404"
[ "$(code "${AUTH[@]}" -H 'Content-Type: application/json; charset=utf-8' --data '{}' "$GW_URL")" = 200 ] || fail "empty request is not 200"
[ "$(cat "$T_DIR/body")" = "{}" ] || fail "empty request answer: $(cat "$T_DIR/body")"
[ "$(code "${AUTH[@]}" -H 'Content-Type: application/x-protobuf' --data-binary '' "$GW_URL")" = 200 ] || fail "empty protobuf is not 200"
head -c 2000000 /dev/zero >"$T_DIR/big"
[ "$(code "${AUTH[@]}" -H 'Content-Type: application/x-protobuf' --data-binary @"$T_DIR/big" "$GW_URL")" = 413 ] || fail "2 MB is not 413"
[ "$(code "${AUTH[@]}" -H 'Content-Type: application/x-protobuf' -H 'Transfer-Encoding: chunked' --data-binary @"$T_DIR/big" "$GW_URL")" = 413 ] ||
    fail "2 MB chunked is not 413"
head -c 100000000 /dev/zero | gzip -c >"$T_DIR/bomb.gz"   # 100 MB inflated, ~100 KB sent
[ "$(code "${AUTH[@]}" -H 'Content-Type: application/x-protobuf' -H 'Content-Encoding: gzip' --data-binary @"$T_DIR/bomb.gz" "$GW_URL")" = 413 ] ||
    fail "gzip bomb is not 413"
printf 'not gzip' >"$T_DIR/notgz"
[ "$(code "${AUTH[@]}" -H 'Content-Type: application/json' -H 'Content-Encoding: gzip' --data-binary @"$T_DIR/notgz" "$GW_URL")" = 400 ] || fail "bad gzip is not 400"
[ "$(code "${AUTH[@]}" -H 'Content-Type: application/json' --data '{"resourceLogs":[{}]}' "$GW_URL")" = 400 ] || fail "logs JSON is not 400"
grep -q '"code":3,"message":".*resourceLogs' "$T_DIR/body" || fail "logs JSON status: $(cat "$T_DIR/body")"
printf '\x0a\x05\x12\x03\x12\x01' >"$T_DIR/garbage"
[ "$(code "${AUTH[@]}" -H 'Content-Type: application/x-protobuf' --data-binary @"$T_DIR/garbage" "$GW_URL")" = 400 ] || fail "garbage protobuf is not 400"
grep -qa 'could not decode' "$T_DIR/body" || fail "400 protobuf body has no google.rpc.Status message"
# Partial success: one valid LLM span, one with an all-zero trace id.
span() { printf '{"traceId":"%s","spanId":"%s","startTimeUnixNano":"1765000000000000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}}]}' "$1" "$2"; }
body="{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[$(span 5b8efbf33c6a4e119d2a401c7e550b99 a1b2c3d4e5f60799),$(span 00000000000000000000000000000000 a1b2c3d4e5f60798)]}]}]}"
[ "$(code "${AUTH[@]}" -H 'Content-Type: application/json' --data "$body" "$GW_URL")" = 200 ] || fail "partial success is not 200"
grep -q '"partialSuccess":{"rejectedSpans":"1","errorMessage":".*all-zero' "$T_DIR/body" || fail "partial success body: $(cat "$T_DIR/body")"
t_wait_count "SELECT count(*) FROM flywheel.generations WHERE project = 'http'" 1

# Redaction at the edge: content and kept attributes, detectors and an
# operator rule; the bytes on the topic hold none of it.
secret_mail="jane.doe.$$@example.com"
msgs="[{\\\"role\\\":\\\"user\\\",\\\"parts\\\":[{\\\"type\\\":\\\"text\\\",\\\"content\\\":\\\"mail $secret_mail card 4111 1111 1111 1111 re TICKET-4242\\\"}]}]"
body="{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"5b8efbf33c6a4e119d2a401c7e550b77\",\"spanId\":\"a1b2c3d4e5f60777\",\"startTimeUnixNano\":\"1765000000000000000\",\"attributes\":[{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"chat\"}},{\"key\":\"gen_ai.input.messages\",\"value\":{\"stringValue\":\"$msgs\"}},{\"key\":\"input.value\",\"value\":{\"stringValue\":\"from $secret_mail\"}}]}]}]}]}"
k2="$(t_key redact)"
[ "$(code -H "Authorization: Bearer $k2" -H 'Content-Type: application/json' --data "$body" "$GW_URL")" = 200 ] || fail "redaction request: $(cat "$T_DIR/body")"
t_wait_count "SELECT count(*) FROM flywheel.generations WHERE project = 'redact'" 1
row="$(q "SELECT input_messages->0->'parts'->0->>'content', attributes->>'input.value' FROM flywheel.generations WHERE project = 'redact'")"
[ "$row" = "mail [EMAIL] card [CARD] re [TICKET]|from [EMAIL]" ] || fail "redacted row: $row"
timeout 30 kcat -C -b "$FLYWHEEL_KAFKA_BOOTSTRAP" -t "$topic" -e -q >"$T_DIR/topic.bin" 2>/dev/null || fail "kcat consume"
[ -s "$T_DIR/topic.bin" ] || fail "nothing read back from the topic"
if grep -aq -e "$secret_mail" -e "4111 1111" -e "TICKET-4242" "$T_DIR/topic.bin"; then fail "a secret reached Kafka"; fi

# --- feedback --------------------------------------------------------------------
FB="http://127.0.0.1:$GW_PORT/v1/feedback"
eid="$(q "SELECT event_id FROM flywheel.generations WHERE project = 'http'")"
fid="0190aaaa-bbbb-7ccc-8ddd-eeeeeeee0001"
fb="[{\"event_id\":\"$eid\",\"value\":true,\"id\":\"$fid\"},
     {\"trace_id\":\"5B8EFBF33C6A4E119D2A401C7E550B99\",\"span_id\":\"A1B2C3D4E5F60799\",\"value\":0.25,\"name\":\"rating\",\"source\":\"automated\"},
     {\"response_id\":\"chatcmpl-1\",\"value\":\"off_topic\",\"comment\":\"write to $secret_mail\",\"author_id\":\"u-9\",
      \"correction\":[{\"role\":\"assistant\",\"content\":\"Better answer\"}]}]"
[ "$(code "${AUTH[@]}" -H 'Content-Type: application/json' --data "$fb" "$FB")" = 200 ] || fail "feedback: $(cat "$T_DIR/body")"
grep -q '"accepted":3,"ids":\["'"$fid"'"' "$T_DIR/body" || fail "feedback answer: $(cat "$T_DIR/body")"
# The same feedback id again is the same row.
[ "$(code "${AUTH[@]}" -H 'Content-Type: application/json' --data "{\"event_id\":\"$eid\",\"value\":true,\"id\":\"$fid\"}" "$FB")" = 200 ] || fail "feedback resend"
t_wait_count "SELECT count(*) FROM flywheel.feedback WHERE project = 'http'" 3
row="$(q "SELECT name, value_type, bool_value, source FROM flywheel.feedback WHERE target_event_id = '$eid'")"
[ "$row" = "thumbs|bool|t|end_user" ] || fail "thumbs row: $row"
row="$(q "SELECT name, number_value, target_trace_id, target_span_id, source FROM flywheel.feedback WHERE name = 'rating'")"
[ "$row" = "rating|0.25|5b8efbf33c6a4e119d2a401c7e550b99|a1b2c3d4e5f60799|automated" ] || fail "rating row: $row"
row="$(q "SELECT name, category_value, comment, correction->0->'parts'->0->>'content', author_id FROM flywheel.feedback WHERE target_response_id = 'chatcmpl-1'")"
[ "$row" = "category|off_topic|write to [EMAIL]|Better answer|u-9" ] || fail "category row: $row"
[ "$(code "${AUTH[@]}" -H 'Content-Type: application/json' --data '{"value":true}' "$FB")" = 400 ] || fail "feedback without target is not 400"
grep -q 'no target' "$T_DIR/body" || fail "400 message: $(cat "$T_DIR/body")"
[ "$(code "${AUTH[@]}" -H 'Content-Type: application/x-protobuf' --data x "$FB")" = 415 ] || fail "protobuf feedback is not 415"
[ "$(code -H 'Authorization: Bearer fwk_nope' -H 'Content-Type: application/json' --data "{\"event_id\":\"$eid\",\"value\":true}" "$FB")" = 401 ] ||
    fail "feedback with an unknown key is not 401"

# Keep-alive: two requests, one connection.
conns="$(curl -s -o /dev/null -o /dev/null -w '%{num_connects} ' "${AUTH[@]}" -H 'Content-Type: application/json' \
    --data '{}' "$GW_URL" "$GW_URL")"
[ "$conns" = "1 0 " ] || fail "keep-alive: connects per request were $conns"

# A client that stalls mid-request is closed after limits.timeout_s (2 s).
start=$(date +%s)
exec 3<>"/dev/tcp/127.0.0.1/$GW_PORT"
printf 'POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' >&3
timeout 20 cat <&3 >/dev/null || true
exec 3<&-
[ $(( $(date +%s) - start )) -le 10 ] || fail "a stalled client was not closed in time"

for ep in healthz readyz metrics; do
    [ "$(code "http://127.0.0.1:$GW_PORT/$ep")" = 200 ] || fail "/$ep is not 200"
done
grep -q '^flywheel_gateway_generations_total [1-9]' "$T_DIR/body" || fail "metrics: $(cat "$T_DIR/body")"
grep -q '^flywheel_gateway_requests_total{code="413"} 3' "$T_DIR/body" || fail "413s not counted"
echo "otlp_gateway: ok"
