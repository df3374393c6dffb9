#!/usr/bin/env bash
# Regression tests for issue #18 (each failed on the schema before the fix):
#   claim_after_skip_close, claim_after_adjudication: an item closed under a
#     reviewer's live lease ends that lease, and the reviewer's next claim
#     never returns it;
#   finished_at_not_future: no assignment finishes after now;
#   late_submit_says_why: a submit on a skipped or adjudicated item says it is
#     closed and why (FR006), also when the lease has run out;
#   explicit_null_is_absent: {"topic": null} and no topic give the same
#     status, results and agreement;
#   agreement_matches_reference: review_agreement (running sums) equals the
#     computation from the labels, through submits, revisions, nulls and
#     adjudications, and a rebuild from scratch;
#   no_public_execute: no function of the schema is executable by PUBLIC
#     (dataset_refuse_update was).
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/lib.sh"

newdb closed 40
q "SELECT flywheel.review_rubric_create('q18', '{\"fields\":[
    {\"name\":\"correct\",\"type\":\"boolean\",\"required\":true},
    {\"name\":\"topic\",\"type\":\"category\",\"values\":[\"a\",\"b\",\"c\"]},
    {\"name\":\"score\",\"type\":\"number\",\"min\":1,\"max\":5},
    {\"name\":\"note\",\"type\":\"text\"}]}')" >/dev/null
mkq() { q "SELECT flywheel.review_queue_create('$1')" >/dev/null; q "SELECT flywheel.review_fill('$(sed -E 's/.*"name":"([^"]+)".*/\1/' <<<"$1")')" >/dev/null; }
claim() { q "SELECT flywheel.review_claim('$1', '$2')->>'item_id'"; }
future() { q "SELECT count(*) FROM flywheel.review_assignments WHERE finished_at > clock_timestamp()"; }

# Each section runs in a subshell, so that on an older schema every
# regression shows (the run fails if any section does).
FAILED=()
run() { echo "-- $1"; ( "$2" ) || FAILED+=("$1"); }
section_1() {
    mkq '{"name":"sk","rubric":"q18","rubric_version":1,"overlap":2,"skip_limit":1,"lease":"10 minutes","rules":{"models":["model-a"]}}'
    X="$(claim sk ann)"
    eq "$(claim sk ben)" "$X" "overlap 2: both reviewers hold the first item"
    q "SELECT flywheel.review_skip($X, 'unreadable', 'ben')" >/dev/null
    eq "$(q "SELECT status || ':' || cardinality(lease_holders) FROM flywheel.review_items WHERE id = $X")" "skipped:0" \
        "a closed item keeps no lease"
    eq "$(q "SELECT state FROM flywheel.review_assignments WHERE item_id = $X AND reviewer = 'ann'")" closed \
        "the live lease is recorded as closed"
    for i in 1 2 3; do
        Y="$(claim sk ann)"
        [ "$Y" != "$X" ] || fail "claim $i returned the item closed under the lease"
    done
    eq "$(q "SELECT count(*) FROM flywheel.review_assignments WHERE item_id = $X AND reviewer = 'ann'")" 1 \
        "no new assignment on the closed item"
    eq "$(future)" 0 "finished_at_not_future after a skip close"
}
section_2() {
    mkq '{"name":"sk2","rubric":"q18","rubric_version":1,"overlap":2,"skip_limit":1,"lease":"10 minutes","rules":{"models":["model-b"]}}'
    X="$(claim sk2 ann)"
    eq "$(claim sk2 ben)" "$X" "overlap 2: both reviewers hold the first item"
    q "SELECT flywheel.review_skip($X, 'unreadable', 'ben')" >/dev/null
    expect_err FR006 "item $X is closed: it is skipped.*DETAIL:  1 reviewers skipped it" \
        "SELECT flywheel.review_submit($X, '{\"correct\":true}', 'ann')"
}
section_3() {
    mkq '{"name":"adj","rubric":"q18","rubric_version":1,"overlap":3,"lease":"10 minutes","rules":{"models":["model-b"]}}'
    A="$(claim adj cat)"
    eq "$(claim adj dan)" "$A" "overlap 3: dan holds the same item"
    eq "$(claim adj eve)" "$A" "overlap 3: eve holds the same item"
    q "SELECT flywheel.review_submit($A, '{\"correct\":true}', 'cat')" >/dev/null
    q "SELECT flywheel.review_adjudicate($A, '{\"correct\":false}', 'settled', 'lead')" >/dev/null
    eq "$(q "SELECT count(*) FROM flywheel.review_assignments WHERE item_id = $A AND state = 'active'")" 0 \
        "no active assignment on an adjudicated item"
    for i in 1 2 3; do
        [ "$(claim adj dan)" != "$A" ] || fail "claim $i after adjudication returned the adjudicated item"
    done
    expect_err FR006 "item $A is closed: it is adjudicated.*An admin adjudicated it" \
        "SELECT flywheel.review_submit($A, '{\"correct\":true}', 'eve')"
    eq "$(future)" 0 "finished_at_not_future after an adjudication"
}
section_4() {
    mkq '{"name":"late","rubric":"q18","rubric_version":1,"overlap":2,"lease":"1 second","rules":{"models":["model-a"]},"priority":[{"term":"error","weight":1}]}'
    L="$(claim late fay)"
    eq "$(claim late gus)" "$L" "overlap 2: gus holds the same item"
    q "SELECT flywheel.review_submit($L, '{\"correct\":true}', 'gus')" >/dev/null
    # wait (polling, 5 s at most) until fay's one-second lease has run out
    for i in $(seq 50); do
        [ "$(q "SELECT bool_and(lease_until < clock_timestamp()) FROM flywheel.review_assignments
                WHERE item_id = $L AND reviewer = 'fay'")" = t ] && break
        sleep 0.1
    done
    q "SELECT flywheel.review_adjudicate($L, '{\"correct\":true}', NULL, 'lead')" >/dev/null
    expect_err FR006 "item $L is closed: it is adjudicated" \
        "SELECT flywheel.review_submit($L, '{\"correct\":true}', 'fay')"
}
section_5() {
    mkq '{"name":"nul","rubric":"q18","rubric_version":1,"overlap":2,"lease":"10 minutes","rules":{"models":["model-b"]}}'
    I1="$(claim nul hal)"; eq "$(claim nul ivy)" "$I1" "both on the first item"
    q "SELECT flywheel.review_submit($I1, '{\"correct\":true,\"topic\":\"a\",\"score\":3}', 'hal')" >/dev/null
    q "SELECT flywheel.review_submit($I1, '{\"correct\":true,\"topic\":null,\"score\":3,\"note\":null}', 'ivy')" >/dev/null
    I2="$(claim nul hal)"; eq "$(claim nul ivy)" "$I2" "both on the second item"
    q "SELECT flywheel.review_submit($I2, '{\"correct\":true,\"topic\":\"a\",\"score\":3}', 'hal')" >/dev/null
    q "SELECT flywheel.review_submit($I2, '{\"correct\":true,\"score\":3}', 'ivy')" >/dev/null
    eq "$(q "SELECT string_agg(status, ',' ORDER BY id) FROM flywheel.review_items WHERE id IN ($I1, $I2)")" \
        "labelled,labelled" "null and absent give the same status"
    eq "$(q "SELECT string_agg(value::text, '|' ORDER BY item_id) FROM flywheel.review_results WHERE item_id IN ($I1, $I2)")" \
        '{"score": 3, "topic": "a", "correct": true}|{"score": 3, "topic": "a", "correct": true}' \
        "null and absent give the same result, with the value one reviewer gave"
    eq "$(q "SELECT items || ':' || percent_agreement FROM flywheel.review_agreement WHERE queue = 'nul' AND field = 'topic'")" "" \
        "a field one reviewer left null is not an agreement unit"
    eq "$(q "SELECT items || ':' || percent_agreement FROM flywheel.review_agreement WHERE queue = 'nul' AND field = 'correct'")" "2:1" \
        "agreement on the filled field"
    eq "$(future)" 0 "finished_at_not_future"
    # export: an overlap-1 item's label is read as it was sent; nulls leave it
    mkq '{"name":"nul1","rubric":"q18","rubric_version":1,"lease":"10 minutes","rules":{"models":["model-a"]}}'
    I3="$(claim nul1 hal)"
    q "SELECT flywheel.review_submit($I3, '{\"correct\":true,\"topic\":null}', 'hal')" >/dev/null
    for qn in nul nul1; do
        "$FW" export --dsn "$DSN" -q --no-progress --queue "$qn" --format eval -o "$RV_TMP/export_$qn" \
            || fail "export of $qn"
    done
    cat "$RV_TMP"/export_nul/*.jsonl "$RV_TMP"/export_nul1/*.jsonl > "$RV_TMP/nul.jsonl"
    [ "$(wc -l < "$RV_TMP/nul.jsonl")" = 3 ] || fail "expected 3 exported items: $(cat "$RV_TMP/nul.jsonl")"
    python3 - "$RV_TMP/nul.jsonl" <<'PY' || fail "exported labels"
import json, sys
labels = [json.loads(line)["labels"] for line in open(sys.argv[1])]
assert all(None not in l.values() for l in labels), labels
assert sorted(json.dumps(l, sort_keys=True) for l in labels) == sorted([
    '{"correct": true, "score": 3, "topic": "a"}', '{"correct": true, "score": 3, "topic": "a"}',
    '{"correct": true}']), labels
PY
}
section_6() {
    mkq '{"name":"agr","rubric":"q18","rubric_version":1,"overlap":3,"lease":"10 minutes","rules":{}}'
    q "DO \$\$
    DECLARE j jsonb; r text; n int := 0;
    BEGIN
        PERFORM setseed(0.18);
        FOR k IN 1..400 LOOP
            r := (ARRAY['r1','r2','r3','r4','r5'])[1 + floor(random() * 5)::int];
            j := flywheel.review_claim('agr', r);
            CONTINUE WHEN j IS NULL;
            n := n + 1;
            PERFORM flywheel.review_submit((j->>'item_id')::bigint, jsonb_strip_nulls(jsonb_build_object(
                'correct', random() < 0.7,
                'topic', (ARRAY['a','b','c',NULL])[1 + floor(random() * 4)::int],
                'score', CASE WHEN random() < 0.8 THEN 1 + floor(random() * 5)::int END)) ||
                CASE WHEN random() < 0.1 THEN '{\"topic\": null}'::jsonb ELSE '{}'::jsonb END, r);
        END LOOP;
        -- revisions of finished and unfinished items, adjudications of both
        FOR j IN SELECT to_jsonb(l) FROM flywheel.review_labels l JOIN flywheel.review_queues q ON q.id = l.queue_id
                 WHERE q.name = 'agr' AND l.id % 7 = 0 LOOP
            PERFORM flywheel.review_revise((j->>'item_id')::bigint,
                jsonb_build_object('correct', random() < 0.5, 'score', 1 + floor(random() * 5)::int), j->>'reviewer');
        END LOOP;
        FOR j IN SELECT to_jsonb(i) FROM flywheel.review_items i JOIN flywheel.review_queues q ON q.id = i.queue_id
                 WHERE q.name = 'agr' AND i.n_labels >= 1 AND i.id % 5 = 0 LOOP
            PERFORM flywheel.review_adjudicate((j->>'id')::bigint, '{\"correct\":true}', NULL, 'lead');
        END LOOP;
    END
    \$\$" >/dev/null
    [ "$(q "SELECT count(*) FROM flywheel.review_agreement WHERE queue = 'agr'")" = 3 ] || fail "agreement rows for agr"
    # The reference: the computation over the labels as the view did it before
    # the running sums, with null values left out.
    REF="$(cat "$HERE/agreement_reference.sql")"
    cmp_sql="WITH ref AS ($REF), cur AS (SELECT * FROM flywheel.review_agreement)
    SELECT count(*) FROM ref FULL JOIN cur USING (queue, field)
    WHERE ref.items IS DISTINCT FROM cur.items OR ref.raters IS DISTINCT FROM cur.raters
       OR ref.kappa_kind IS DISTINCT FROM cur.kappa_kind
       OR abs(coalesce(ref.percent_agreement, 0) - coalesce(cur.percent_agreement, 0)) > 1e-9
       OR (ref.kappa IS NULL) <> (cur.kappa IS NULL) OR abs(coalesce(ref.kappa - cur.kappa, 0)) > 1e-9
       OR (ref.alpha_interval IS NULL) <> (cur.alpha_interval IS NULL)
       OR abs(coalesce(ref.alpha_interval - cur.alpha_interval, 0)) > 1e-9"
    eq "$(q "$cmp_sql")" 0 "incremental agreement equals the reference"
    before="$(q "SELECT string_agg(format('%s %s %s %s %s %s %s %s', queue_id, field, shard, items, trim_scale(sum_p), sum_m, trim_scale(s1), trim_scale(do_num)), ',' ORDER BY queue_id, field, shard) FROM flywheel.review_agreement_sums WHERE items <> 0")"
    q "SELECT flywheel.review_agreement_rebuild()" >/dev/null
    after="$(q "SELECT string_agg(format('%s %s %s %s %s %s %s %s', queue_id, field, shard, items, trim_scale(sum_p), sum_m, trim_scale(s1), trim_scale(do_num)), ',' ORDER BY queue_id, field, shard) FROM flywheel.review_agreement_sums WHERE items <> 0")"
    eq "$after" "$before" "a rebuild from the labels gives the same sums"
    eq "$(q "$cmp_sql")" 0 "rebuilt agreement equals the reference"
}
section_7() {
    eq "$(q "SELECT coalesce(string_agg(oid::regprocedure::text, ', '), '') FROM pg_proc
             WHERE pronamespace = 'flywheel'::regnamespace AND has_function_privilege('public', oid, 'EXECUTE')")" "" \
        "functions executable by PUBLIC"
}

run "claim_after_skip_close: a skip that closes the item ends the other lease" section_1
run "late_submit_says_why: skipped" section_2
run "claim_after_adjudication: adjudicating ends live leases" section_3
run "late_submit_says_why: a lease that ran out on an item adjudicated since" section_4
run "explicit_null_is_absent" section_5
run "agreement_matches_reference: random labels, revisions, adjudications" section_6
run "no_public_execute" section_7
[ "${#FAILED[@]}" = 0 ] || fail "failed sections: ${FAILED[*]}"
echo ok
