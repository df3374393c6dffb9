#!/usr/bin/env bash
# `flywheel review` non-interactive commands against a real PostgreSQL:
# rubric create/show (JSON files, syntax and rubric errors), queue
# create/list/show/pause/resume, fill and fill --all, claim --json, submit
# --json with a rubric error naming the field, skip, release, revise,
# adjudicate, stats and stats --json, and a reviewer login acting as itself.
. "$FW_SOURCE_DIR/tests/review/lib.sh"

newdb cli 30
T="$RV_TMP"
R() { "$FW" review "$@" --dsn "$DSN"; }
expect_cli_fail() { # expect_cli_fail STATUS PATTERN args...
    local want="$1" pat="$2" out rc; shift 2
    out="$("$FW" review "$@" --dsn "$DSN" 2>&1)"; rc=$?
    [ "$rc" = "$want" ] || fail "expected exit $want from review $*; got $rc: $out"
    tr '\n' ' ' <<<"$out" | grep -Eq -- "$pat" || fail "expected /$pat/ from review $*: $out"
}
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }

cat > "$T/rubric.json" <<'J'
{"instructions": "Is the answer right?",
 "fields": [
  {"name": "correct", "type": "boolean", "required": true, "label": "Correct"},
  {"name": "score", "type": "number", "min": 1, "max": 5, "step": 1, "required": true},
  {"name": "errors", "type": "span", "categories": ["factual error", "style"]}]}
J
printf '{"fields": [\n  {"name": "x",, }]}\n' > "$T/broken.json"
printf '{"fields": [{"name": "x", "type": "colour"}]}\n' > "$T/bad.json"

echo "-- rubric"
out="$(R rubric create quality "$T/rubric.json")" || fail "rubric create: $out"
eq "$out" 'rubric "quality" version 1' "rubric create output"
eq "$(R rubric create quality "$T/rubric.json")" 'rubric "quality" version 1' "idempotent"
expect_cli_fail 1 'invalid JSON in .*broken.json:2:' rubric create quality "$T/broken.json"
expect_cli_fail 1 'unknown type "colour" \(SQLSTATE FR001\).*HINT: Types are' rubric create quality "$T/bad.json"
R rubric show quality | grep -q '"name": "score"' || fail "rubric show"
expect_cli_fail 1 'does not exist' rubric show nope
expect_cli_fail 2 'usage' rubric create quality

echo "-- queue"
cat > "$T/queue.json" <<'J'
{"name": "support", "description": "Support answers with thumbs-down or errors",
 "rubric": "quality", "overlap": 2, "lease": "10 minutes", "continuous": true,
 "rules": {"models": ["model-a"]},
 "priority": [{"term": "negative_feedback", "weight": 10}, {"term": "error", "weight": 5}]}
J
R queue create "$T/queue.json" | grep -q 'queue "support" created' || fail "queue create"
expect_cli_fail 1 'already exists' queue create "$T/queue.json"
printf '{"name": "bad", "rubric": "quality", "rules": {"where": "1=1"}}' > "$T/badq.json"
expect_cli_fail 1 'unknown rule "where" \(SQLSTATE FR004\)' queue create "$T/badq.json"
R fill support | grep -q 'added 15 item' || fail "fill support"
R fill --all | grep -q 'queue "support": added 0 item' || fail "fill --all"
R queue list | grep -E '^support +active +quality v1 +2 +15 +15 ' >/dev/null || { R queue list; fail "queue list"; }
R queue show support | grep -q '"overlap": 2' || fail "queue show"
R queue pause support | grep -q paused || fail "pause"
expect_cli_fail 1 'queue "support" is paused \(SQLSTATE FR006\)' claim --queue support --as alice --json
R queue resume support >/dev/null || fail "resume"

echo "-- claim --json and submit --json"
R claim --queue support --as alice --json > "$T/c1.json" || fail "claim"
ITEM="$(jget '["item_id"]' < "$T/c1.json")"
eq "$(jget '["rubric"]["definition"]["fields"][1]["name"]' < "$T/c1.json")" score "claim carries the rubric"
eq "$(jget '["generation"]["output_messages"][0]["parts"][0]["content"]' < "$T/c1.json")" "The sky is green. Water is wet." "claim carries the output"
eq "$(jget '["generation"]["request_model"]' < "$T/c1.json")" model-a "claim carries metadata"
echo '{"correct": false, "score": 9}' > "$T/l_bad.json"
expect_cli_fail 1 'field "score": 9 is above the maximum 5 \(SQLSTATE FR002\).*HINT: Use a number from 1 to 5 in steps of 1' \
    submit --item "$ITEM" --as alice --json "$T/l_bad.json"
out="$(echo '{"correct": false, "score": 2, "errors": [{"message": 0, "start": 0, "end": 17, "category": "factual error"}]}' \
       | R submit --item "$ITEM" --as alice --json -)" || fail "submit: $out"
eq "$(jget '["item_id"]' <<<"$out")" "$ITEM" "submit output"
echo '{"correct": false, "score": 3}' | R submit --item "$ITEM" --as alice --revise --json - >/dev/null || fail "revise"
R claim --queue support --as bob --json > "$T/c2.json" || fail "claim bob"
eq "$(jget '["item_id"]' < "$T/c2.json")" "$ITEM" "overlap 2: bob gets the same item"
echo '{"correct": true, "score": 4}' | R submit --item "$ITEM" --as bob --json - >/dev/null || fail "submit bob"
eq "$(q "SELECT status FROM flywheel.review_items WHERE id = $ITEM")" disputed "disagreement"
echo '{"correct": true, "score": 4}' | R adjudicate --item "$ITEM" --note "bob is right" --as lead --json - >/dev/null || fail "adjudicate"
eq "$(q "SELECT status FROM flywheel.review_items WHERE id = $ITEM")" adjudicated "adjudicated"

echo "-- skip and release"
S="$(R claim --queue support --as carol --json | jget '["item_id"]')"
# Issue 11 item 12: a missing option is named, not just the usage printed.
expect_cli_fail 2 'flywheel review skip: --reason TEXT is required.*usage' skip --item "$S" --as carol
R skip --item "$S" --reason "not English" --as carol | grep -q skipped || fail "skip"
S2="$(R claim --queue support --as carol --json | jget '["item_id"]')"
[ "$S2" != "$S" ] || fail "skipped item offered again"
R release --item "$S2" --as carol | grep -q released || fail "release"
expect_cli_fail 1 'not claimed by reviewer "dave" \(SQLSTATE FR003\)' submit --item "$S2" --as dave --json "$T/l_bad.json"

echo "-- a missing option or argument is named (issue 11 item 12)"
expect_cli_fail 2 'review skip: --item ID and --reason TEXT are required' skip --as carol
expect_cli_fail 2 'review skip: --item ID is required' skip --reason x
expect_cli_fail 2 'review release: --item ID is required' release --as carol
expect_cli_fail 2 'review submit: --json FILE \(or --json - for stdin\) is required' submit --item 1
expect_cli_fail 2 'review submit: --item ID is required' submit --json "$T/l_bad.json"
expect_cli_fail 2 'review adjudicate: --item ID and --json FILE\|- are required' adjudicate
expect_cli_fail 2 'review claim: --queue is required' claim --as carol
expect_cli_fail 2 'review start: --queue is required' start --as carol
expect_cli_fail 2 'review rubric: missing the rubric FILE.json' rubric create quality
expect_cli_fail 2 'review rubric: missing the rubric NAME' rubric show
expect_cli_fail 2 'review rubric: missing an action \(create or show\)' rubric
expect_cli_fail 2 'review queue: missing the queue NAME' queue show
expect_cli_fail 2 'review queue: missing the queue FILE.json' queue create
expect_cli_fail 2 'review queue: unexpected argument "x"' queue list x
expect_cli_fail 2 'review fill: missing a queue name \(or --all\)' fill
expect_cli_fail 2 'review fill: unexpected argument "b"' fill a b

echo "-- --as where USER is unset: the login name, or a clear refusal (issue 11 item 8)"
LOGIN="$(id -un)"
# `--as $USER` unquoted with USER unset leaves --as last: the login name.
out="$(env -u USER "$FW" review claim --queue support --json --dsn "$DSN" --as 2>"$T/as.err")" || fail "claim --as (last): $(cat "$T/as.err")"
eq "$(jget '["reviewer"]' <<<"$out")" "$LOGIN" "a trailing --as acts as the login name"
grep -q "acting as \"$LOGIN\", the login name" "$T/as.err" || fail "the fallback is not said: $(cat "$T/as.err")"
R release --item "$(jget '["item_id"]' <<<"$out")" --as "$LOGIN" >/dev/null || fail "release login"
# `--as "$USER"` quoted: an empty name, the same.
out="$(env -u USER "$FW" review claim --queue support --as "" --json --dsn "$DSN" 2>/dev/null)" || fail "claim --as ''"
eq "$(jget '["reviewer"]' <<<"$out")" "$LOGIN" "an empty --as acts as the login name"
R release --item "$(jget '["item_id"]' <<<"$out")" --as "$LOGIN" >/dev/null || fail "release login"
# `--as $USER --json` unquoted: --as took the next option as its value.
expect_cli_fail 2 'review claim: --as "--json" is not a reviewer name.*USER is unset' claim --queue support --as --json

echo "-- claim exits 3 when there is nothing"
printf '{"name": "tiny", "rubric": "quality", "rules": {"models": ["none"]}}' > "$T/tiny.json"
R queue create "$T/tiny.json" >/dev/null
expect_cli_fail 3 'no item to claim in queue "tiny"' claim --queue tiny --as alice --json

echo "-- stats"
R stats support > "$T/stats.txt" || fail "stats"
grep -q '^== agreement' "$T/stats.txt" || fail "stats agreement section"
grep -Eq '^support +correct +boolean +1 +2 +0.000 +cohen' "$T/stats.txt" || { cat "$T/stats.txt"; fail "stats agreement row"; }
R stats --json support > "$T/stats.json" || fail "stats --json"
eq "$(jget '["progress"][0]["adjudicated"]' < "$T/stats.json")" 1 "stats json progress"
eq "$(jget '["agreement"][0]["field"]' < "$T/stats.json")" correct "stats json agreement"

echo "-- a reviewer login acts as itself"
REV="$(newrole cli_rev flywheel_reviewer)"
out="$("$FW" review claim --queue support --json --dsn "$(dsn_as "$REV")")" || fail "reviewer claim: $out"
eq "$(jget '["reviewer"]' <<<"$out")" "$REV" "login identity"
out="$("$FW" review claim --queue support --as alice --json --dsn "$(dsn_as "$REV")" 2>&1)" && fail "reviewer acted as alice"
grep -q 'cannot act as reviewer "alice" (SQLSTATE 42501)' <<<"$out" || fail "identity error: $out"
out="$("$FW" review fill support --dsn "$(dsn_as "$REV")" 2>&1)" && fail "reviewer filled a queue"
grep -q '42501' <<<"$out" || fail "fill permission: $out"
echo ok
