#!/usr/bin/env bash
# The review queue in SQL against a real PostgreSQL: rubric validation and
# versioning, queue rules (filters, deterministic sampling, priority,
# continuous fill, pairs), label validation errors for every field type,
# claim/submit/skip/release/revise/adjudicate semantics, lease expiry, gold
# items, append-only labels, reviewer identity, blind review and row-level
# security with real LOGIN roles.
. "$FW_SOURCE_DIR/tests/review/lib.sh"

newdb sql 40

RUBRIC='{"instructions":"Judge the answer","fields":[
 {"name":"correct","type":"boolean","required":true},
 {"name":"topic","type":"category","values":["billing","tech"]},
 {"name":"score","type":"number","min":1,"max":5,"step":1},
 {"name":"notes","type":"text","max_length":20},
 {"name":"fixed","type":"correction"},
 {"name":"better","type":"pairwise"},
 {"name":"errors","type":"span","categories":["factual error","style"]}]}'

echo "-- rubric validation"
expect_err FR001 'non-empty array' "SELECT flywheel.review_rubric_create('x', '{\"fields\":[]}')"
expect_err FR001 'unknown key "colour"' "SELECT flywheel.review_rubric_create('x', '{\"colour\":1,\"fields\":[{\"name\":\"a\",\"type\":\"boolean\"}]}')"
expect_err FR001 'unknown type' "SELECT flywheel.review_rubric_create('x', '{\"fields\":[{\"name\":\"a\",\"type\":\"colour\"}]}')"
expect_err FR001 'defined twice' "SELECT flywheel.review_rubric_create('x', '{\"fields\":[{\"name\":\"a\",\"type\":\"boolean\"},{\"name\":\"a\",\"type\":\"text\"}]}')"
expect_err FR001 '"values" must be' "SELECT flywheel.review_rubric_create('x', '{\"fields\":[{\"name\":\"a\",\"type\":\"category\",\"values\":[]}]}')"
expect_err FR001 'distinct strings' "SELECT flywheel.review_rubric_create('x', '{\"fields\":[{\"name\":\"a\",\"type\":\"category\",\"values\":[\"x\",\"x\"]}]}')"
expect_err FR001 '"min" must not be above' "SELECT flywheel.review_rubric_create('x', '{\"fields\":[{\"name\":\"a\",\"type\":\"number\",\"min\":5,\"max\":1}]}')"
expect_err FR001 'positive number' "SELECT flywheel.review_rubric_create('x', '{\"fields\":[{\"name\":\"a\",\"type\":\"number\",\"step\":0}]}')"
expect_err FR001 'max_length' "SELECT flywheel.review_rubric_create('x', '{\"fields\":[{\"name\":\"a\",\"type\":\"text\",\"max_length\":1.5}]}')"
expect_err FR001 '"categories" must be' "SELECT flywheel.review_rubric_create('x', '{\"fields\":[{\"name\":\"a\",\"type\":\"span\"}]}')"
expect_err FR001 'unknown key "values"' "SELECT flywheel.review_rubric_create('x', '{\"fields\":[{\"name\":\"a\",\"type\":\"boolean\",\"values\":[\"x\"]}]}')"
expect_err FR001 'not valid' "SELECT flywheel.review_rubric_create('x', '{\"fields\":[{\"name\":\"Bad Name\",\"type\":\"boolean\"}]}')"
expect_err FR001 '"required" must be' "SELECT flywheel.review_rubric_create('x', '{\"fields\":[{\"name\":\"a\",\"type\":\"boolean\",\"required\":\"yes\"}]}')"

echo "-- rubric versions are immutable"
eq "$(q "SELECT flywheel.review_rubric_create('quality', '$RUBRIC')")" 1 "first version"
eq "$(q "SELECT flywheel.review_rubric_create('quality', '$RUBRIC')")" 1 "same definition, same version"
eq "$(q "SELECT flywheel.review_rubric_create('quality', '{\"fields\":[{\"name\":\"ok\",\"type\":\"boolean\"}]}')")" 2 "changed definition, new version"
expect_err 42501 'not allowed' "UPDATE flywheel.review_rubrics SET definition = '{}' WHERE name = 'quality'"
expect_err 42501 'not allowed' "DELETE FROM flywheel.review_rubrics WHERE name = 'quality'"

echo "-- queue validation"
expect_err FR004 'unknown rule "sql"' "SELECT flywheel.review_queue_create('{\"name\":\"bad\",\"rubric\":\"quality\",\"rules\":{\"sql\":\"1=1; drop table x\"}}')"
expect_err FR004 'unknown priority term' "SELECT flywheel.review_queue_create('{\"name\":\"bad\",\"rubric\":\"quality\",\"priority\":[{\"term\":\"vibes\",\"weight\":1}]}')"
expect_err FR004 'sample' "SELECT flywheel.review_queue_create('{\"name\":\"bad\",\"rubric\":\"quality\",\"rules\":{\"sample\":{\"rate\":2}}}')"
expect_err FR004 'overlap' "SELECT flywheel.review_queue_create('{\"name\":\"bad\",\"rubric\":\"quality\",\"overlap\":0}')"
expect_err FR005 'does not exist' "SELECT flywheel.review_queue_create('{\"name\":\"bad\",\"rubric\":\"nope\"}')"

echo "-- fill: filters"
mkq() { q "SELECT flywheel.review_queue_create('$1')" >/dev/null; }
mkq '{"name":"a_only","rubric":"quality","rubric_version":1,"rules":{"models":["model-a"],"environments":["prod"]}}'
eq "$(q "SELECT flywheel.review_fill('a_only')")" 20 "model-a/prod rows of 40"
eq "$(q "SELECT flywheel.review_fill('a_only')")" 0 "a second fill adds nothing"
mkq '{"name":"errors","rubric":"quality","rubric_version":1,"rules":{"status":["error"],"prompt_template":"support","prompt_versions":["2"]}}'
eq "$(q "SELECT flywheel.review_fill('errors')")" 4 "errors (i%5=0) with prompt version 2 (even i): 10,20,30,40"
mkq '{"name":"thumbs","rubric":"quality","rubric_version":1,"rules":{"feedback":[{"name":"thumbs","value":false}]}}'
eq "$(q "SELECT flywheel.review_fill('thumbs')")" 13 "thumbs-down on i=3,6,...,39"
mkq '{"name":"neg","rubric":"quality","rubric_version":1,"rules":{"negative_feedback":true,"tags_any":["t0","t1"]}}'
# i in {3,6,...,39} with i%4 in {0,1}: 9,12,21,24,33,36
eq "$(q "SELECT flywheel.review_fill('neg')")" 6 "negative feedback and tags t0/t1"
eq "$(q "SELECT string_agg(i::text, ',' ORDER BY i) FROM generate_series(1,40) i
         JOIN flywheel.review_items it ON it.event_id = md5('gen'||i)::uuid
         JOIN flywheel.review_queues q ON q.id = it.queue_id AND q.name = 'neg'")" "9,12,21,24,33,36" "neg items"

echo "-- fill: deterministic sampling by trace id"
mkq '{"name":"s1","rubric":"quality","rubric_version":1,"rules":{"sample":{"rate":0.5,"seed":7}}}'
mkq '{"name":"s2","rubric":"quality","rubric_version":1,"rules":{"sample":{"rate":0.5,"seed":7}}}'
mkq '{"name":"s3","rubric":"quality","rubric_version":1,"rules":{"sample":{"rate":0.5,"seed":8}}}'
n1="$(q "SELECT flywheel.review_fill('s1')")"; q "SELECT flywheel.review_fill('s2')" >/dev/null; q "SELECT flywheel.review_fill('s3')" >/dev/null
[ "$n1" -gt 8 ] && [ "$n1" -lt 32 ] || fail "rate 0.5 of 40 gave $n1"
set_of() { q "SELECT string_agg(i.event_id::text, ',' ORDER BY i.event_id) FROM flywheel.review_items i JOIN flywheel.review_queues q ON q.id = i.queue_id WHERE q.name = '$1'"; }
eq "$(set_of s1)" "$(set_of s2)" "same seed, same sample"
[ "$(set_of s1)" != "$(set_of s3)" ] || fail "another seed should sample differently"
# the sample is the hash rule, recomputed here independently
eq "$(q "SELECT count(*) FROM flywheel.generations WHERE (hashtextextended(trace_id, 7) & 9223372036854775807) % 1000000 < 500000")" "$n1" "sample size"

echo "-- fill: continuous queues pick up new events through fill_all"
mkq '{"name":"live","rubric":"quality","rubric_version":1,"continuous":true,"rules":{"models":["model-b"]}}'
eq "$(q "SELECT added FROM flywheel.review_fill_all() WHERE queue = 'live'")" 20 "first continuous fill"
q "INSERT INTO flywheel.generations (event_id, event_time, schema_version, request_model, trace_id, id_time)
   VALUES ('00000000-0000-0000-0000-00000000abcd', now(), 1, 'model-b', 'ffff',
           flywheel.event_id_time('00000000-0000-0000-0000-00000000abcd'))" >/dev/null
eq "$(q "SELECT added FROM flywheel.review_fill_all() WHERE queue = 'live'")" 1 "new event added"
eq "$(q "SELECT count(*) FROM flywheel.review_fill_all() WHERE queue = 'a_only'")" 0 "non-continuous queues are not in fill_all"
q "SELECT flywheel.review_queue_pause('live')" >/dev/null
eq "$(q "SELECT count(*) FROM flywheel.review_fill_all()")" 0 "paused queues are not filled"
expect_err FR006 'paused' "SELECT flywheel.review_claim('live', 'alice')"
q "SELECT flywheel.review_queue_pause('live', false)" >/dev/null

echo "-- priority: errors first, then negative feedback, then recency"
mkq '{"name":"prio","rubric":"quality","rubric_version":1,"overlap":2,"lease":"60 seconds","rules":{"models":["model-a"]},"priority":[{"term":"error","weight":100},{"term":"negative_feedback","weight":10},{"term":"recency","weight":1,"half_life":"1 hour"}]}'
q "SELECT flywheel.review_fill('prio')" >/dev/null
# model-a = even i; error and thumbs-down: i=30; error: 10,20,40 (i=10 is the newest of them)
claim_i() { q "SELECT i FROM generate_series(1,40) i WHERE md5('gen'||i)::uuid = (flywheel.review_claim('prio', '$1')->'generation'->>'event_id')::uuid"; }
eq "$(claim_i alice)" 30 "highest priority first"
eq "$(claim_i alice)" 30 "claiming again resumes the held lease"
eq "$(claim_i bob)" 30 "overlap 2: a second reviewer gets the same item"
eq "$(claim_i carol)" 10 "overlap reached: the third reviewer gets the next item"
ITEM30="$(q "SELECT it.id FROM flywheel.review_items it JOIN flywheel.review_queues q ON q.id = it.queue_id WHERE q.name = 'prio' AND it.event_id = md5('gen30')::uuid")"
ITEM10="$(q "SELECT it.id FROM flywheel.review_items it JOIN flywheel.review_queues q ON q.id = it.queue_id WHERE q.name = 'prio' AND it.event_id = md5('gen10')::uuid")"

echo "-- label validation names the field"
sub() { echo "SELECT flywheel.review_submit($ITEM30, '$1', 'alice')"; }
expect_err FR002 'field "correct" is required' "$(sub '{"score":3}')"
expect_err FR002 'COLUMN NAME:  correct' "$(sub '{"score":3}')"
expect_err FR002 'unknown field "colour"' "$(sub '{"correct":true,"colour":"red"}')"
expect_err FR002 'field "correct": "yes" is not true or false' "$(sub '{"correct":"yes"}')"
expect_err FR002 'field "topic".*not one of the allowed values.*HINT:  Allowed values: billing, tech' "$(sub '{"correct":true,"topic":"sports"}')"
expect_err FR002 'field "score": 7 is above the maximum 5' "$(sub '{"correct":true,"score":7}')"
expect_err FR002 'field "score": 0 is below the minimum 1' "$(sub '{"correct":true,"score":0}')"
expect_err FR002 'field "score": 2.5 is not a multiple of the step 1' "$(sub '{"correct":true,"score":2.5}')"
expect_err FR002 'field "score": "3" is not a number' "$(sub '{"correct":true,"score":"3"}')"
expect_err FR002 'field "notes": the text has 25 characters' "$(sub '{"correct":true,"notes":"0123456789012345678901234"}')"
expect_err FR002 'field "notes": 5 is not a string' "$(sub '{"correct":true,"notes":5}')"
expect_err FR002 'field "fixed": it is not a non-empty array' "$(sub '{"correct":true,"fixed":[]}')"
expect_err FR002 'field "fixed": message 0 needs a role' "$(sub '{"correct":true,"fixed":[{"role":"robot","parts":[{"type":"text","content":"x"}]}]}')"
expect_err FR002 'field "fixed": message 0 has a part' "$(sub '{"correct":true,"fixed":[{"role":"assistant","parts":[{"type":"text"}]}]}')"
expect_err FR002 'field "better": the item has no second generation' "$(sub '{"correct":true,"better":"A"}')"
expect_err FR002 'field "errors": it is not an array of spans' "$(sub '{"correct":true,"errors":{}}')"
expect_err FR002 'field "errors": span 0 range \[10, 99\) is not within the 31 characters' "$(sub '{"correct":true,"errors":[{"message":0,"start":10,"end":99,"category":"style"}]}')"
expect_err FR002 'field "errors": span 0 has category "rude"' "$(sub '{"correct":true,"errors":[{"message":0,"start":0,"end":3,"category":"rude"}]}')"
expect_err FR002 'field "errors": span 0 points at message 3' "$(sub '{"correct":true,"errors":[{"message":3,"start":0,"end":3,"category":"style"}]}')"
expect_err FR002 'field "errors": span 0 points at a part without text' "$(sub '{"correct":true,"errors":[{"message":0,"part":1,"start":0,"end":3,"category":"style"}]}')"
expect_err FR002 'field "errors": span 1 is malformed' "$(sub '{"correct":true,"errors":[{"message":0,"start":0,"end":3,"category":"style"},{"message":0}]}')"
# Issue 11 item 9: the same range with the same category twice is refused; another category
# on the same range is a second mark.
expect_err FR002 'field "errors": span 2 repeats span 0 \(the same range and category\)' "$(sub '{"correct":true,"errors":[{"message":0,"start":0,"end":3,"category":"style"},{"message":0,"part":0,"start":0,"end":3,"category":"factual error"},{"message":0,"part":0,"start":0,"end":3,"category":"style"}]}')"

echo "-- submit, blind overlap, disputes, revise, adjudicate"
L1="$(q "$(sub '{"correct":false,"score":2,"fixed":[{"role":"assistant","parts":[{"type":"text","content":"The sky is blue."}]}],"errors":[{"message":0,"part":0,"start":0,"end":17,"category":"factual error"}]}')")"
expect_err FR003 'already labelled' "$(sub '{"correct":true}')"
eq "$(q "SELECT status FROM flywheel.review_items WHERE id = $ITEM30")" in_review "one of two labels"
eq "$(claim_i alice)" 10 "alice never gets an item she labelled: the next one has a free slot"
q "SELECT flywheel.review_release($ITEM10, 'alice')" >/dev/null
q "SELECT flywheel.review_submit($ITEM30, '{\"correct\":true,\"score\":4}', 'bob')" >/dev/null
eq "$(q "SELECT status FROM flywheel.review_items WHERE id = $ITEM30")" disputed "two labels that disagree"
expect_err FR003 'not claimed' "SELECT flywheel.review_submit($ITEM30, '{\"correct\":true}', 'dave')"
L2="$(q "SELECT flywheel.review_revise($ITEM30, '{\"correct\":true,\"score\":4}', 'alice')")"
eq "$(q "SELECT version || ':' || supersedes FROM flywheel.review_labels WHERE id = $L2")" "2:$L1" "revision is version 2 of the first label"
eq "$(q "SELECT status FROM flywheel.review_items WHERE id = $ITEM30")" labelled "the revision agrees"
eq "$(q "SELECT count(*) FROM flywheel.review_labels WHERE item_id = $ITEM30")" 3 "history kept"
expect_err 42501 'not allowed' "UPDATE flywheel.review_labels SET value = '{}' WHERE id = $L1"
expect_err 42501 'not allowed' "DELETE FROM flywheel.review_labels WHERE id = $L1"
q "SELECT flywheel.review_adjudicate($ITEM30, '{\"correct\":true,\"score\":5}', 'settled', 'lead')" >/dev/null
eq "$(q "SELECT status FROM flywheel.review_items WHERE id = $ITEM30")" adjudicated "adjudicated"
eq "$(q "SELECT value->>'score' FROM flywheel.review_results WHERE item_id = $ITEM30")" 5 "the adjudication is the result"

echo "-- lease expiry and reclaim"
# carol holds a slot of item 10 and never submits; after her lease expires
# dave and erin take both slots and carol's late submit is refused. The
# queue's lease is 60 s, so that no step above can outlive a lease on a
# loaded machine; carol's lease is made to end now instead of waiting for it
# (both places that hold it: the item's lease array and her assignment).
eq "$(claim_i dave)" 10 "second slot of item 10"
q "UPDATE flywheel.review_items SET lease_until[array_position(lease_holders, 'carol')] = now() - interval '1 second'
   WHERE id = $ITEM10 AND 'carol' = ANY (lease_holders)" >/dev/null
q "UPDATE flywheel.review_assignments SET lease_until = now() - interval '1 second'
   WHERE item_id = $ITEM10 AND reviewer = 'carol' AND state = 'active'" >/dev/null
eq "$(q "SELECT count(*) FROM flywheel.review_assignments WHERE item_id = $ITEM10 AND reviewer = 'carol' AND state = 'active' AND lease_until < now()")" 1 "carol's lease has run out"
deadline=$((SECONDS + 15)); got=""
while [ $SECONDS -lt $deadline ]; do
    got="$(q "SELECT flywheel.review_claim('prio', 'erin')->>'item_id'")"
    [ "$got" = "$ITEM10" ] && break
    q "SELECT flywheel.review_release((flywheel.review_claim('prio', 'erin')->>'item_id')::bigint, 'erin')" >/dev/null
    sleep 0.2
done
eq "$got" "$ITEM10" "an expired lease is reclaimed by another reviewer"
q "SELECT flywheel.review_submit($ITEM10, '{\"correct\":true}', 'erin')" >/dev/null
q "SELECT flywheel.review_submit($ITEM10, '{\"correct\":true}', 'dave')" >/dev/null
expect_err FR003 'has expired' "SELECT flywheel.review_submit($ITEM10, '{\"correct\":true}', 'carol')"
eq "$(q "SELECT n_labels FROM flywheel.review_items WHERE id = $ITEM10")" 2 "exactly overlap labels"
eq "$(q "SELECT count(*) FROM flywheel.review_assignments WHERE item_id = $ITEM10 AND reviewer = 'carol' AND state = 'expired'")" 1 "the lost lease is recorded as expired"

echo "-- skip and release"
S="$(q "SELECT flywheel.review_claim('a_only', 'frank')->>'item_id'")"
expect_err FR002 'needs a reason' "SELECT flywheel.review_skip($S, ' ', 'frank')"
q "SELECT flywheel.review_skip($S, 'not English', 'frank')" >/dev/null
[ "$(q "SELECT flywheel.review_claim('a_only', 'frank')->>'item_id'")" != "$S" ] || fail "skipped item offered again"
eq "$(q "SELECT status FROM flywheel.review_items WHERE id = $S")" pending "one skip of skip_limit 2"
S2="$(q "SELECT flywheel.review_claim('a_only', 'gina')->>'item_id'")"
eq "$S2" "$S" "the skipped item is the top one for another reviewer"
q "SELECT flywheel.review_skip($S, 'garbled', 'gina')" >/dev/null
eq "$(q "SELECT status FROM flywheel.review_items WHERE id = $S")" skipped "two skips retire the item"
eq "$(q "SELECT skip_reason FROM flywheel.review_assignments WHERE item_id = $S AND reviewer = 'frank'")" "not English" "reason kept"
R="$(q "SELECT flywheel.review_claim('a_only', 'hank')->>'item_id'")"
q "SELECT flywheel.review_release($R, 'hank')" >/dev/null
eq "$(q "SELECT status || cardinality(lease_holders) FROM flywheel.review_items WHERE id = $R")" pending0 "released"
eq "$(q "SELECT flywheel.review_claim('a_only', 'hank')->>'item_id'")" "$R" "a released item may come back"

echo "-- pairwise items"
mkq '{"name":"pairs","rubric":"quality","rubric_version":1,"rules":{"pair_by":"conversation_id","models":["model-a","model-b"]}}'
# conversation conv<k> holds i=2k and i=2k+1: 20 pairs (conv0 has only i=1, conv20 only i=40)
# plus two generations without a conversation id, which must not be paired
q "INSERT INTO flywheel.generations (event_id, event_time, schema_version, request_model, id_time)
   VALUES ('00000000-0000-0000-0000-0000000000e1', now(), 1, 'model-a', 'epoch'),
          ('00000000-0000-0000-0000-0000000000e2', now(), 1, 'model-a', 'epoch')" >/dev/null
eq "$(q "SELECT flywheel.review_fill('pairs')")" 19 "pairs by conversation"
P="$(q "SELECT flywheel.review_claim('pairs', 'alice')")"
[ "$(jq -r '.generation_b.conversation_id' <<<"$P" 2>/dev/null || python3 -c 'import json,sys; print(json.load(sys.stdin)["generation_b"]["conversation_id"])' <<<"$P")" != null ] || fail "no generation_b"
PI="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["item_id"])' <<<"$P")"
expect_err FR002 'field "better": "C" is not' "SELECT flywheel.review_submit($PI, '{\"correct\":true,\"better\":\"C\"}', 'alice')"
q "SELECT flywheel.review_submit($PI, '{\"correct\":true,\"better\":\"B\"}', 'alice')" >/dev/null

echo "-- gold items"
mkq '{"name":"goldq","rubric":"quality","rubric_version":1,"gold_rate":1,"rules":{"models":["model-a"]}}'
q "SELECT flywheel.review_fill('goldq')" >/dev/null
expect_err FR004 'already an item' "SELECT flywheel.review_add_gold('goldq', md5('gen2')::uuid, '{\"correct\":true}')"
G="$(q "SELECT flywheel.review_add_gold('goldq', md5('gen1')::uuid, '{\"correct\":false,\"score\":1}')")"
expect_err FR002 'field "correct" is required' "SELECT flywheel.review_add_gold('goldq', md5('gen3')::uuid, '{}')"
eq "$(q "SELECT flywheel.review_claim('goldq', 'alice')->>'item_id'")" "$G" "gold mixed in at rate 1"
q "SELECT flywheel.review_submit($G, '{\"correct\":false,\"score\":2}', 'alice')" >/dev/null
eq "$(q "SELECT flywheel.review_claim('goldq', 'bob')->>'item_id'")" "$G" "gold is offered to every reviewer"
q "SELECT flywheel.review_submit($G, '{\"correct\":false,\"score\":1}', 'bob')" >/dev/null
[ "$(q "SELECT flywheel.review_claim('goldq', 'alice')->>'item_id'")" != "$G" ] || fail "gold offered twice to alice"
eq "$(q "SELECT string_agg(reviewer || ':' || field || '=' || accuracy, ' ' ORDER BY reviewer, field) FROM flywheel.review_gold_accuracy WHERE queue = 'goldq'")" \
   "alice:correct=1 alice:score=0 bob:correct=1 bob:score=1" "gold accuracy"
eq "$(q "SELECT gold FROM flywheel.review_progress WHERE queue = 'goldq'")" 1 "gold counted apart"

echo "-- identity, blind review and row-level security with login roles"
ALICE="$(newrole alice flywheel_reviewer)"
BOB="$(newrole bob flywheel_reviewer)"
BOSS="$(newrole boss flywheel_admin)"
mkq '{"name":"blind","rubric":"quality","rubric_version":1,"overlap":2,"rules":{"models":["model-b"]}}'
q "SELECT flywheel.review_fill('blind')" >/dev/null
A="$(qas "$ALICE" "SELECT flywheel.review_claim('blind')->>'item_id'")"
eq "$(qas "$ALICE" "SELECT flywheel.review_claim('blind')->>'reviewer'")" "$ALICE" "identity is the login role"
qas "$ALICE" "SELECT flywheel.review_submit($A, '{\"correct\":true,\"notes\":\"secret\"}')" >/dev/null
eq "$(qas "$BOB" "SELECT flywheel.review_claim('blind')->>'item_id'")" "$A" "bob gets the same item (overlap 2)"
eq "$(qas "$BOB" "SELECT count(*) FROM flywheel.review_labels WHERE item_id = $A")" 0 "bob cannot see alice's label"
eq "$(qas "$BOB" "SELECT count(*) FROM flywheel.review_labels")" 0 "bob sees no labels at all"
eq "$(qas "$ALICE" "SELECT value->>'notes' FROM flywheel.review_labels WHERE item_id = $A")" secret "alice sees her own"
eq "$(qas "$BOB" "SELECT count(*) FROM flywheel.review_assignments")" 1 "bob sees his own claim only"
qc() { psql "$(dsn_as "$1")" -qAt -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "$2" 2>&1; }
for t in generations feedback review_items review_queues review_rubrics review_results review_current_labels review_agreement; do
    out="$(qc "$BOB" "SELECT count(*) FROM flywheel.$t")" && fail "reviewer could read flywheel.$t: $out"
    grep -q "42501" <<<"$out" || fail "expected permission denied on $t: $out"
done
expect_err 42501 'permission denied' "SELECT flywheel.review_fill('blind')" "$(dsn_as "$BOB")"
expect_err 42501 'permission denied' "SELECT flywheel.review_adjudicate($A, '{\"correct\":true}')" "$(dsn_as "$BOB")"
expect_err 42501 'permission denied' "INSERT INTO flywheel.review_labels (item_id, queue_id, reviewer, version, value, rubric_name, rubric_version) VALUES ($A, 1, '$BOB', 1, '{}', 'quality', 1)" "$(dsn_as "$BOB")"
expect_err 42501 'cannot act as reviewer' "SELECT flywheel.review_claim('blind', '$ALICE')" "$(dsn_as "$BOB")"
expect_err 42501 'cannot act as reviewer' "SELECT flywheel.review_submit($A, '{\"correct\":true}', '$ALICE')" "$(dsn_as "$BOB")"
qas "$BOB" "SELECT flywheel.review_submit($A, '{\"correct\":false}')" >/dev/null
eq "$(qas "$BOSS" "SELECT count(*) FROM flywheel.review_labels WHERE item_id = $A")" 2 "an admin sees every label"
Z="$(qas "$BOSS" "SELECT flywheel.review_claim('blind', 'zoe')->>'item_id'")"
eq "$(q "SELECT lease_holders[1] FROM flywheel.review_items WHERE id = $Z")" zoe "an admin may act for a named reviewer"
qas "$BOSS" "SELECT flywheel.review_adjudicate($A, '{\"correct\":true}')" >/dev/null
eq "$(q "SELECT reviewer FROM flywheel.review_labels WHERE item_id = $A AND is_adjudication")" "$BOSS" "adjudicator recorded"
# an item adjudicated while another reviewer still holds a lease on it is closed to that reviewer
eq "$(q "SELECT flywheel.review_claim('blind', 'yan')->>'item_id'")" "$Z" "second slot of zoe's item"
q "SELECT flywheel.review_submit($Z, '{\"correct\":false}', 'yan')" >/dev/null
q "SELECT flywheel.review_adjudicate($Z, '{\"correct\":false}')" >/dev/null
expect_err FR006 'is closed: it is adjudicated' "SELECT flywheel.review_submit($Z, '{\"correct\":true}', 'zoe')"
echo "-- a generation is read from its day partition, or through the parent when that has no partition"
# UUIDv7 ids carrying now (a day with a partition) and 2031-03-04 (none: the
# row is in generations_default)
q "SELECT flywheel.maintain_partitions(1, 1)" >/dev/null
q "INSERT INTO flywheel.generations (event_id, event_time, schema_version, output_messages, id_time)
   SELECT x.id, x.t, 1, ('[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"' || x.tag || '\"}]}]')::jsonb,
          flywheel.event_id_time(x.id)
   FROM (SELECT tag, t, (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7000-8000-00000000000' || k)::uuid AS id
         FROM (VALUES ('today', now(), 1), ('later', timestamptz '2031-03-04 05:06:07+00', 2)) v(tag, t, k),
              LATERAL (SELECT lpad(to_hex(floor(extract(epoch FROM v.t) * 1000)::bigint), 12, '0') AS h) hh) x" >/dev/null
eq "$(q "SELECT string_agg(tableoid::regclass::text, ' ' ORDER BY event_time) FROM flywheel.generations WHERE event_id::text LIKE '%-7000-8000-00000000000_'")" \
   "flywheel.generations_$(q "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')") flywheel.generations_default" "rows in a day partition and in the default one"
eq "$(q "SELECT string_agg(flywheel.review_generation_json(event_id, event_time)->'output_messages'->0->'parts'->0->>'content', ' ' ORDER BY event_time)
         || ' ' || string_agg(flywheel.review_generation_output(event_id, event_time)->0->'parts'->0->>'content', ' ' ORDER BY event_time)
         FROM flywheel.generations WHERE event_id::text LIKE '%-7000-8000-00000000000_'")" "today later today later" "both rows found"
eq "$(q "SELECT flywheel.review_generation_json(event_id, event_time + interval '1 second') IS NULL AND flywheel.review_generation_output(gen_random_uuid(), now()) IS NULL FROM flywheel.generations WHERE event_id::text LIKE '%-7000-8000-000000000001'")" t "no generation, NULL"

echo ok
