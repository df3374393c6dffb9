#!/usr/bin/env bash
# Issue 11 item 7: the scripting loop of docs/review.md (the block marked
# "runs: review-script-loop"), run as written by a reviewer login, with a
# stand-in `my-labeller` that answers some items with a label the database
# refuses and fails outright on another. The loop must end (claim exits 3)
# with every item labelled or skipped by the reviewer. The loop the docs
# showed before spun forever on the first refused label, because a claim
# hands back the held item: `flywheel` is wrapped here to count claims and
# to stop a loop that claims more often than there are items.
. "$FW_SOURCE_DIR/tests/review/lib.sh"

newdb doc_loop 12
command -v jq >/dev/null || fail "jq is not installed (scripts/bootstrap installs it)"
T="$RV_TMP"
q "SELECT flywheel.review_rubric_create('support-quality', '{\"fields\": [
     {\"name\": \"correct\", \"type\": \"boolean\", \"required\": true}]}')" >/dev/null
q "SELECT flywheel.review_queue_create('{\"name\": \"support-thumbs-down\", \"rubric\": \"support-quality\",
     \"rules\": {\"models\": [\"model-a\"]}}')" >/dev/null
ITEMS="$(q "SELECT flywheel.review_fill('support-thumbs-down')")"
[ "$ITEMS" -ge 6 ] || fail "expected at least 6 items, filled $ITEMS"
REV="$(newrole loop_rev flywheel_reviewer)"

python3 "$FW_SOURCE_DIR/tests/e2e/doc_blocks.py" "$FW_SOURCE_DIR/docs/review.md" review-script-loop \
    > "$T/loop.sh" || fail "docs/review.md has no block 'review-script-loop'"
cat > "$T/run.sh" <<EOF2
# my-labeller: item ids divisible by 3 get a label the rubric refuses, ids
# ending in 4 make the labeller fail with no output; the rest are labelled.
my-labeller() {
    local id; id=\$(jq .item_id)
    if [ \$((id % 3)) -eq 0 ]; then echo '{"correct": "maybe"}'
    elif [ \$((id % 10)) -eq 4 ]; then return 1
    else echo '{"correct": true}'; fi
}
flywheel() {
    if [ "\$1 \$2" = "review claim" ]; then
        echo x >> "$T/claims"
        if [ "\$(wc -l < "$T/claims")" -gt $((ITEMS + 1)) ]; then
            echo "the loop claimed more often than there are items" >&2
            return 99
        fi
    fi
    "$FW" "\$@"
}
export FLYWHEEL_PG_DSN="$(dsn_as "$REV")"
. "$T/loop.sh"
EOF2
timeout 600 bash "$T/run.sh" > "$T/out" 2> "$T/err"
rc=$?
[ "$rc" != 124 ] || fail "the documented loop did not end within 600 s"
CLAIMS="$(wc -l < "$T/claims")"
grep -q 'more often than there are items' "$T/err" && { cat "$T/err" >&2; fail "the documented loop spins: $CLAIMS claims for $ITEMS items"; }
grep -q 'no item to claim in queue "support-thumbs-down"' "$T/err" || { cat "$T/err" >&2; fail "the loop did not end with an empty queue"; }
eq "$CLAIMS" "$((ITEMS + 1))" "one claim per item, and the last finds nothing"

SKIPPED="$(q "SELECT count(*) FROM flywheel.review_items WHERE queue_id = (SELECT id FROM flywheel.review_queues WHERE name = 'support-thumbs-down') AND (id % 3 = 0 OR id % 10 = 4)")"
eq "$(q "SELECT count(*) FROM flywheel.review_assignments WHERE reviewer = '$REV' AND state = 'skipped' AND skip_reason = 'the labeller''s label was refused'")" \
    "$SKIPPED" "every refused or missing label was skipped"
eq "$(q "SELECT count(*) FROM flywheel.review_labels WHERE reviewer = '$REV'")" \
    "$((ITEMS - SKIPPED))" "every other item was labelled"
eq "$(q "SELECT count(*) FROM flywheel.review_labels WHERE reviewer = '$REV' AND (item_id % 3 = 0 OR item_id % 10 = 4)")" 0 \
    "no refused label was stored"
grep -q 'SQLSTATE FR002' "$T/err" || fail "the refusals were not reported: $(cat "$T/err")"
echo ok
