#!/usr/bin/env bash
# otlp_feedback_span: feedback posted to the gateway by (trace id, span id)
# judges the generation of that span and no other (Feedback.target_span_id,
# V0040), through the dev broker and the collector into PostgreSQL:
#   - one trace with two LLM spans and an HTTP span (not an LLM call):
#     feedback about the first LLM span is joined to exactly its generation in
#     feedback_facts and generation_facts.has_feedback, so `flywheel stats`
#     counts one of the trace's two generations as having feedback;
#   - feedback about the HTTP span, and about a span not ingested yet, is
#     accepted (200), stored, and listed as unattached (orphan_feedback,
#     feedback_facts without a generation); once that span arrives, its
#     feedback attaches to it;
#   - `flywheel export --feedback` and review queue rules (negative_feedback,
#     feedback predicates) select the span's generation;
#   - a resent feedback id is one row; malformed ids are 400 with a message
#     saying which field is wrong, and nothing of such a body is stored.
set -euo pipefail
T_NAME=otlp_fbspan
. "$(dirname "$0")/lib.sh"

t_db
topic="fwt_otlp_fbspan_$$_$RANDOM"
t_collector "$topic"
t_gateway "$topic"
k="$(t_key fbspan)"
AUTH=(-H "Authorization: Bearer $k")
code() { curl -s -o "$T_DIR/body" -w '%{http_code}' "$@"; }
post() { code "${AUTH[@]}" -H 'Content-Type: application/json' --data "$2" "http://127.0.0.1:$GW_PORT$1"; }

T=4bf92f3577b34da6a3ce929d0e0e4736
S1=00f067aa0ba902b7   # LLM span, judged
S2=00f067aa0ba902b8   # LLM span of the same trace, not judged
S3=00f067aa0ba902b9   # HTTP span: no generation
S4=00f067aa0ba902ba   # LLM span sent after its feedback
now=$(date +%s%N)
# span ID START_NS [llm|http]
span() {
    local msgs='[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"question '"$1"'\"}]}]'
    local out='[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"answer '"$1"'\"}]}]'
    local attrs='{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.request.model","value":{"stringValue":"model-'"$1"'"}},{"key":"gen_ai.input.messages","value":{"stringValue":"'"$msgs"'"}},{"key":"gen_ai.output.messages","value":{"stringValue":"'"$out"'"}}'
    [ "$3" = http ] && attrs='{"key":"http.request.method","value":{"stringValue":"POST"}}'
    printf '{"traceId":"%s","spanId":"%s","name":"s","startTimeUnixNano":"%s","endTimeUnixNano":"%s","attributes":[%s]}' \
        "$T" "$1" "$2" "$(( $2 + 5000000 ))" "$attrs"
}
req() { printf '{"resourceSpans":[{"scopeSpans":[{"spans":[%s]}]}]}' "$1"; }

[ "$(post /v1/traces "$(req "$(span $S1 $((now - 3000000000)) llm),$(span $S2 $((now - 2000000000)) llm),$(span $S3 $((now - 4000000000)) http)")")" = 200 ] ||
    fail "traces: $(cat "$T_DIR/body")"
t_wait_count "SELECT count(*) FROM flywheel.generations WHERE project = 'fbspan'" 2
g1="$(q "SELECT event_id FROM flywheel.generations WHERE span_id = '$S1'")"
g2="$(q "SELECT event_id FROM flywheel.generations WHERE span_id = '$S2'")"
[ -n "$g1" ] && [ -n "$g2" ] && [ "$g1" != "$g2" ] || fail "generations of S1/S2: '$g1' '$g2'"

# --- feedback by span: one judged LLM span, a non-LLM span, a span not seen yet ----
f1=0190aaaa-bbbb-7ccc-8ddd-00000000f001
f3=0190aaaa-bbbb-7ccc-8ddd-00000000f003
f4=0190aaaa-bbbb-7ccc-8ddd-00000000f004
# Upper-case hex is accepted and stored lower-case, like the spans' ids.
fb="[{\"trace_id\":\"${T^^}\",\"span_id\":\"${S1^^}\",\"value\":false,\"id\":\"$f1\"},
     {\"trace_id\":\"$T\",\"span_id\":\"$S3\",\"value\":true,\"id\":\"$f3\"},
     {\"trace_id\":\"$T\",\"span_id\":\"$S4\",\"value\":0.5,\"name\":\"rating\",\"id\":\"$f4\"}]"
[ "$(post /v1/feedback "$fb")" = 200 ] || fail "feedback: $(cat "$T_DIR/body")"
grep -q "\"accepted\":3,\"ids\":\[\"$f1\",\"$f3\",\"$f4\"\]" "$T_DIR/body" || fail "feedback answer: $(cat "$T_DIR/body")"
# A client retrying with the same id: still one row.
[ "$(post /v1/feedback "{\"trace_id\":\"$T\",\"span_id\":\"$S1\",\"value\":false,\"id\":\"$f1\"}")" = 200 ] ||
    fail "feedback resend: $(cat "$T_DIR/body")"
t_wait_count "SELECT count(*) FROM flywheel.feedback WHERE project = 'fbspan'" 3
row="$(q "SELECT target_trace_id, target_span_id, target_event_id IS NULL, attributes FROM flywheel.feedback WHERE event_id = '$f1'")"
[ "$row" = "$T|$S1|t|{}" ] || fail "span feedback row: $row"

# Joined to exactly the generation of S1, not to S2 (same trace).
row="$(q "SELECT generation_event_id, model, target_span_id FROM flywheel.feedback_facts WHERE event_id = '$f1'")"
[ "$row" = "$g1|model-$S1|$S1" ] || fail "feedback_facts of the S1 feedback: $row (S1 is $g1, S2 is $g2)"
row="$(q "SELECT string_agg(span_id || '=' || has_feedback, ',' ORDER BY span_id)
          FROM flywheel.generation_facts f JOIN flywheel.generations g USING (event_id)
          WHERE g.project = 'fbspan'")"
[ "$row" = "$S1=true,$S2=false" ] || fail "has_feedback: $row"
# Unattached, not lost: the HTTP span's and the unseen span's feedback.
row="$(q "SELECT string_agg(event_id::text || ':' || (generation_event_id IS NULL), ',' ORDER BY event_id)
          FROM flywheel.feedback_facts WHERE project = 'fbspan'")"
[ "$row" = "$f1:false,$f3:true,$f4:true" ] || fail "feedback_facts attachment: $row"
row="$(q "SELECT string_agg(event_id::text, ',' ORDER BY event_id) FROM flywheel.orphan_feedback WHERE project = 'fbspan'")"
[ "$row" = "$f3,$f4" ] || fail "orphan_feedback: $row"

# flywheel stats over the same views: 1 of 2 generations has feedback, and
# the three feedback events are all counted.
stats_check() {
    "$FW_CLI" stats --dsn "$DSN" --json --since 1h --project fbspan >"$T_DIR/stats.json" 2>"$T_DIR/stats.err" ||
        fail "flywheel stats: $(cat "$T_DIR/stats.err")"
    python3 - "$T_DIR/stats.json" "$@" <<'PY' || fail "flywheel stats: $(cat "$T_DIR/stats.json")"
import json, sys
d = json.load(open(sys.argv[1]))
gens, rate, events = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
got = (d["traffic"]["generations"], d["feedback"]["feedback_rate"], d["feedback"]["events"])
if got[0] != gens or abs(got[1] - rate) > 1e-9 or got[2] != events:
    sys.exit(f"generations, feedback_rate, feedback events: want {(gens, rate, events)}, got {got}")
PY
}
stats_check 2 0.5 3

# flywheel export --feedback selects by span target too: exactly S1's
# generation has thumbs=false.
"$FW_CLI" export --dsn "$DSN" --format eval --project fbspan --feedback thumbs=false -o - \
    >"$T_DIR/export.jsonl" 2>"$T_DIR/export.err" || fail "export: $(cat "$T_DIR/export.err")"
[ "$(wc -l <"$T_DIR/export.jsonl")" = 1 ] && grep -q "question $S1" "$T_DIR/export.jsonl" ||
    fail "export --feedback thumbs=false: $(cat "$T_DIR/export.jsonl" "$T_DIR/export.err")"

# --- the span arrives after its feedback: the feedback attaches to it -----------
[ "$(post /v1/traces "$(req "$(span $S4 $((now - 1000000000)) llm)")")" = 200 ] || fail "late span: $(cat "$T_DIR/body")"
t_wait_count "SELECT count(*) FROM flywheel.generations WHERE project = 'fbspan'" 3
g4="$(q "SELECT event_id FROM flywheel.generations WHERE span_id = '$S4'")"
row="$(q "SELECT generation_event_id FROM flywheel.feedback_facts WHERE event_id = '$f4'")"
[ "$row" = "$g4" ] || fail "late span's feedback: $row, want $g4"
row="$(q "SELECT string_agg(event_id::text, ',') FROM flywheel.orphan_feedback WHERE project = 'fbspan'")"
[ "$row" = "$f3" ] || fail "orphan_feedback after the late span: $row"
stats_check 3 "$(python3 -c 'print(2/3)')" 3

# Review queues fill from span-targeted feedback like from event-id feedback:
# negative_feedback picks S1's generation only, a rating rule S4's only.
q "SELECT flywheel.review_rubric_create('fbspan', '{\"fields\":[{\"name\":\"ok\",\"type\":\"boolean\"}]}')" >/dev/null
for rules in 'neg:{"projects":["fbspan"],"negative_feedback":true}' \
             'rating:{"projects":["fbspan"],"feedback":[{"name":"rating","min":0.4}]}'; do
    q "SELECT flywheel.review_queue_create('{\"name\":\"fbspan-${rules%%:*}\",\"rubric\":\"fbspan\",\"overlap\":1,\"rules\":${rules#*:}}')" >/dev/null ||
        fail "queue ${rules%%:*}"
    q "SELECT flywheel.review_fill('fbspan-${rules%%:*}')" >/dev/null || fail "fill ${rules%%:*}"
done
items() { q "SELECT string_agg(i.event_id::text, ',') FROM flywheel.review_items i
             JOIN flywheel.review_queues rq ON rq.id = i.queue_id WHERE rq.name = 'fbspan-$1'"; }
[ "$(items neg)" = "$g1" ] || fail "negative_feedback queue: $(items neg), want $g1"
[ "$(items rating)" = "$g4" ] || fail "rating queue: $(items rating), want $g4"

# --- bad ids: 400, a message naming the field, nothing stored --------------------
bad() {
    [ "$(post /v1/feedback "$1")" = 400 ] || fail "not 400 for $1: $(cat "$T_DIR/body")"
    grep -q '"code":3,"message":"[^"]*'"$2" "$T_DIR/body" || fail "400 message for $1: $(cat "$T_DIR/body")"
}
bad "{\"span_id\":\"$S1\",\"value\":true}" 'feedback 0: \\"span_id\\" needs \\"trace_id\\"'
bad "{\"trace_id\":\"$T\",\"span_id\":\"00f067aa0ba902b\",\"value\":true}" '\\"span_id\\" is not 16 hex digits (it has 15 characters)'
bad "{\"trace_id\":\"$T\",\"span_id\":\"00f067aa0ba902bx\",\"value\":true}" '\\"span_id\\" is not 16 hex digits'
bad "{\"trace_id\":\"$T\",\"span_id\":\"0000000000000000\",\"value\":true}" '\\"span_id\\" is all zeros'
bad "{\"trace_id\":\"00000000000000000000000000000000\",\"span_id\":\"$S1\",\"value\":true}" '\\"trace_id\\" is all zeros'
bad "{\"trace_id\":\"${T}00\",\"span_id\":\"$S1\",\"value\":true}" '\\"trace_id\\" is not 32 hex digits (it has 34 characters)'
bad "{\"trace_id\":12345,\"value\":true}" '\\"trace_id\\" must be a string'
bad "{\"event_id\":\"$g1\",\"value\":true},{\"trace_id\":\"$T\",\"span_id\":\"$S2\",\"value\":true}" 'invalid JSON'
bad "[{\"trace_id\":\"$T\",\"span_id\":\"$S2\",\"value\":true},{\"trace_id\":\"$T\",\"span_id\":\"$S2\"}]" 'feedback 1 says nothing'
# Nothing of a refused body was produced: a marker on the same trace (the
# same Kafka key, so the same partition, read in order) arrives, and the valid
# first item of the refused array is not there before it.
[ "$(post /v1/feedback "{\"trace_id\":\"$T\",\"span_id\":\"$S3\",\"value\":\"marker\"}")" = 200 ] ||
    fail "marker: $(cat "$T_DIR/body")"
t_wait_count "SELECT count(*) FROM flywheel.feedback WHERE category_value = 'marker'" 1
[ "$(q "SELECT count(*) FROM flywheel.feedback WHERE target_span_id = '$S2'")" = 0 ] || fail "a refused body stored feedback"
[ "$(q "SELECT count(*) FROM flywheel.feedback")" = 4 ] || fail "feedback rows: $(q "SELECT count(*) FROM flywheel.feedback")"
[ "$(q "SELECT count(*) FROM flywheel.dead_letters")" = 0 ] || fail "dead letters: $(q "SELECT reason, detail FROM flywheel.dead_letters")"
echo "otlp_feedback_span: ok"
