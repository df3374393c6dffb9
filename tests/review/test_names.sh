#!/usr/bin/env bash
# Issue 11 item 10: the name rule of rubrics, queues, datasets and eval runs
# (1 to 63 characters: ASCII letters, digits, "_", "." and "-", starting
# with a letter or a digit). A bad name is refused with a message that says
# what is wrong and states the rule: by the CLI before it connects (exit 2),
# by the SQL functions under their own SQLSTATEs (FR001 rubric, FR004
# queue), and by the tables' triggers (23514) for a row written directly —
# never a raw check-constraint error, an unrelated HINT or a DETAIL that
# dumps the row. The rule is stated in docs/review.md and docs/export.md.
. "$FW_SOURCE_DIR/tests/review/lib.sh"

newdb names
T="$RV_TMP"
RULE='1 to 63 characters: ASCII letters, digits, "_", "." and "-", starting with a letter or a digit'
# cli_refuses PATTERN args...: exit 2, the problem and the rule, nothing about
# a connection (the DSN below points nowhere: the name is checked first).
cli_refuses() {
    local pat="$1" out rc; shift
    out="$("$FW" "$@" --dsn "host=/nonexistent-flywheel-test" 2>&1)"; rc=$?
    [ "$rc" = 2 ] || fail "expected exit 2 from flywheel $*; got $rc: $out"
    grep -Fq -- "$pat" <<<"$out" || fail "expected '$pat' from flywheel $*: $out"
    grep -Fq -- "$RULE" <<<"$out" || fail "the rule is not stated by flywheel $*: $out"
    grep -q 'connect' <<<"$out" && fail "flywheel $* connected before checking the name: $out"
    return 0
}

echo '{"fields": [{"name": "ok", "type": "boolean"}]}' > "$T/rubric.json"
echo "-- the CLI refuses before sending"
cli_refuses 'flywheel review rubric: invalid rubric name "bad name": it contains " "' \
    review rubric create "bad name" "$T/rubric.json"
cli_refuses 'invalid rubric name "_x": it starts with "_"' review rubric create _x "$T/rubric.json"
cli_refuses 'invalid rubric name "naïve": it contains "ï"' review rubric create "naïve" "$T/rubric.json"
long="$(printf 'a%.0s' $(seq 64))"
cli_refuses "invalid rubric name \"$long\": it is 64 characters long" review rubric create "$long" "$T/rubric.json"
echo '{"name": "support queue", "rubric": "quality"}' > "$T/queue.json"
cli_refuses 'flywheel review queue: invalid queue name "support queue": it contains " "' \
    review queue create "$T/queue.json"
cli_refuses 'flywheel export: invalid dataset name "my set": it contains " "' \
    export --format openai-chat --dataset "my set" -o "$T/out"
[ -e "$T/out" ] && fail "export created its output directory for a refused name"
cli_refuses 'flywheel eval run: invalid eval run name "run/1": it contains "/"' \
    eval run --dataset d --version 1 --endpoint http://127.0.0.1:9 --model m --name "run/1"

echo "-- good names pass (63 characters, dots, dashes, underscores, a leading digit)"
ok63="$(printf 'b%.0s' $(seq 63))"
for n in "$ok63" "2026.12-eval_v2" "x"; do
    out="$("$FW" review rubric create "$n" "$T/rubric.json" --dsn "$DSN" 2>&1)" || fail "rubric \"$n\": $out"
done

echo "-- the SQL functions: their SQLSTATE, the rule in DETAIL, no row dump"
DETAIL_RE='DETAIL:  A (rubric|queue|dataset|eval run) name is 1 to 63 characters: ASCII letters, digits, "_", "\." and "-", starting with a letter or a digit\.'
expect_err FR001 "invalid rubric name \"bad name\": it contains \" \".*$DETAIL_RE" \
    "SELECT flywheel.review_rubric_create('bad name', '{\"fields\":[{\"name\":\"ok\",\"type\":\"boolean\"}]}')"
expect_err FR001 'invalid rubric name "": it is empty' \
    "SELECT flywheel.review_rubric_create('', '{\"fields\":[{\"name\":\"ok\",\"type\":\"boolean\"}]}')"
q "SELECT flywheel.review_rubric_create('quality', '{\"fields\":[{\"name\":\"ok\",\"type\":\"boolean\"}]}')" >/dev/null
expect_err FR004 "invalid queue name \"support queue\": it contains \" \".*$DETAIL_RE" \
    "SELECT flywheel.review_queue_create('{\"name\":\"support queue\",\"rubric\":\"quality\"}')"
out="$(psql "$DSN" -qAt -v VERBOSITY=verbose -c "SELECT flywheel.review_queue_create('{\"name\":\"_q\",\"rubric\":\"quality\"}')" 2>&1)"
grep -q 'overlap is 1..50' <<<"$out" && fail "a bad queue name carries the HINT about overlap: $out"
grep -q 'check constraint' <<<"$out" && fail "a bad queue name is a raw check-constraint error: $out"

echo "-- rows written directly: 23514 with the same message, not the row"
for t in "datasets (name) VALUES ('my set')|dataset" \
         "review_rubrics (name, version, definition) VALUES ('my set', 1, '{}')|rubric"; do
    out="$(psql "$DSN" -qAt -v VERBOSITY=verbose -c "INSERT INTO flywheel.${t%|*}" 2>&1)" && fail "inserted a bad name: ${t%|*}"
    grep -q "ERROR:  23514: invalid ${t#*|} name \"my set\": it contains \" \"" <<<"$out" || fail "direct insert: $out"
    grep -Eq "$DETAIL_RE" <<<"$out" || fail "direct insert without the rule: $out"
    grep -q 'Failing row' <<<"$out" && fail "the DETAIL dumps the row: $out"
done
echo ok
