#!/usr/bin/env bash
# Agreement statistics against hand-computed values (the arithmetic is in
# the comments), plus progress, throughput and time per item.
. "$FW_SOURCE_DIR/tests/review/lib.sh"

newdb stats 40
q "SELECT flywheel.review_rubric_create('two', '{\"fields\":[
     {\"name\":\"verdict\",\"type\":\"category\",\"values\":[\"good\",\"bad\"],\"required\":true},
     {\"name\":\"score\",\"type\":\"number\",\"min\":1,\"max\":5}]}')" >/dev/null
q "SELECT flywheel.review_rubric_create('yn', '{\"fields\":[{\"name\":\"ok\",\"type\":\"boolean\",\"required\":true}]}')" >/dev/null
q "SELECT flywheel.review_queue_create('{\"name\":\"agree2\",\"rubric\":\"two\",\"overlap\":2,\"rules\":{\"models\":[\"model-a\"]}}')" >/dev/null
q "SELECT flywheel.review_queue_create('{\"name\":\"agree3\",\"rubric\":\"yn\",\"overlap\":3,\"rules\":{\"models\":[\"model-b\"]}}')" >/dev/null
q "SELECT flywheel.review_fill('agree2'), flywheel.review_fill('agree3')" >/dev/null

# label QUEUE REVIEWER JSON: claim the next item and submit JSON for it.
label() {
    local item
    item="$(q "SELECT flywheel.review_claim('$1', '$2')->>'item_id'")"
    [ -n "$item" ] || fail "nothing to claim for $2 in $1"
    q "SELECT flywheel.review_submit($item, '$3', '$2')" >/dev/null
}

# Two raters, 10 items, category "verdict":
#   alice: g g g g g g b b b b
#   bob:   g g g g g b b b g b
# agree on items 1-5, 7, 8, 10: p_o = 8/10 = 0.8
# marginals: alice g 0.6 b 0.4; bob g 0.6 b 0.4: p_e = 0.36 + 0.16 = 0.52
# Cohen's kappa = (0.8 - 0.52) / (1 - 0.52) = 0.28 / 0.48 = 0.583333
# Scores on items 1-4 only: (1,2) (3,3) (4,5) (2,2)
# Krippendorff's alpha, interval: n = 8 pairable values
#   D_o = (1/n) sum_u sum_{i!=j} (v_i-v_j)^2 / (m_u-1) = (2 + 0 + 2 + 0) / 8 = 0.5
#   all values 1,2,3,3,4,5,2,2: S1 = 22, S2 = 72,
#   sum_{i!=j} (v_i-v_j)^2 = 2 (n S2 - S1^2) = 2 (576 - 484) = 184, D_e = 184 / 56
#   alpha = 1 - 0.5 / (184/56) = 1 - 28/184 = 39/46 = 0.847826
#   percent agreement (exact): items 2 and 4 of 4 = 0.5
A=(good good good good good good bad bad bad bad)
B=(good good good good good bad bad bad good bad)
SA=(1 3 4 2); SB=(2 3 5 2)
for k in 0 1 2 3 4 5 6 7 8 9; do
    if [ $k -lt 4 ]; then
        label agree2 alice "{\"verdict\":\"${A[$k]}\",\"score\":${SA[$k]}}"
        label agree2 bob "{\"verdict\":\"${B[$k]}\",\"score\":${SB[$k]}}"
    else
        label agree2 alice "{\"verdict\":\"${A[$k]}\"}"
        label agree2 bob "{\"verdict\":\"${B[$k]}\"}"
    fi
done
row() { q "SELECT items || '|' || raters || '|' || round(percent_agreement::numeric, 6) || '|' || coalesce(kappa_kind, '-') || '|' || coalesce(round(kappa::numeric, 6)::text, '-') || '|' || coalesce(round(alpha_interval::numeric, 6)::text, '-') FROM flywheel.review_agreement WHERE queue = '$1' AND field = '$2'"; }
eq "$(row agree2 verdict)" "10|2|0.800000|cohen|0.583333|-" "Cohen's kappa"
eq "$(row agree2 score)" "4|2|0.500000|-|-|0.847826" "Krippendorff's alpha (interval)"

# Three raters, 5 items, boolean "ok":
#   item 1: y y y  P_i = 3*2/6 = 1
#   item 2: y y n  P_i = (2*1 + 0)/6 = 1/3
#   item 3: n n n  P_i = 1
#   item 4: y n n  P_i = 1/3
#   item 5: y y y  P_i = 1
# P = (1 + 1/3 + 1 + 1/3 + 1) / 5 = 11/15 = 0.733333 (percent agreement)
# p_yes = (3+2+0+1+3)/15 = 0.6, p_no = 0.4: P_e = 0.36 + 0.16 = 0.52
# Fleiss' kappa = (11/15 - 13/25) / (12/25) = (16/75) / (12/25) = 4/9 = 0.444444
V=("true true true" "true true false" "false false false" "true false false" "true true true")
for k in 0 1 2 3 4; do
    read -r x y z <<<"${V[$k]}"
    label agree3 ann "{\"ok\":$x}"; label agree3 ben "{\"ok\":$y}"; label agree3 cid "{\"ok\":$z}"
done
eq "$(row agree3 ok)" "5|3|0.733333|fleiss|0.444444|-" "Fleiss' kappa"

# Disputed: items 1 and 3 (scores differ) and 6 and 9 (verdicts differ).
eq "$(q "SELECT count(*) FROM flywheel.review_items i JOIN flywheel.review_queues q ON q.id = i.queue_id WHERE q.name = 'agree2' AND i.status = 'disputed'")" 4 "disputed items"

echo "-- progress, throughput, time per item"
eq "$(q "SELECT items || '|' || pending || '|' || labelled || '|' || disputed || '|' || labels FROM flywheel.review_progress WHERE queue = 'agree2'")" \
   "20|10|6|4|20" "progress of agree2"
[ "$(q "SELECT extract(epoch FROM oldest_open_age) > 0 FROM flywheel.review_progress WHERE queue = 'agree2'")" = t ] || fail "backlog age"
eq "$(q "SELECT labels FROM flywheel.review_throughput WHERE queue = 'agree3' AND reviewer = 'ben'")" 5 "throughput"
eq "$(q "SELECT items || '|' || (p50_s >= 0 AND p90_s >= p50_s) FROM flywheel.review_time_per_item WHERE queue = 'agree2' AND reviewer = 'alice'")" "10|true" "time per item"
"$FW" review stats agree3 --dsn "$DSN" | grep -Eq '^agree3 +ok +boolean +5 +3 +0.733 +fleiss +0.444' || fail "stats shows Fleiss' kappa"
echo ok
