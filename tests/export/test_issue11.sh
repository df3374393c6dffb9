#!/usr/bin/env bash
# Issue 11 items 3, 4, 5 and 12 (export side), against a fresh migrated
# database loaded with tests/export/fixture.sql:
#   - a typo in a --where field, a value a field cannot take, a --score-field
#     that does not exist or is not a number or boolean: exit status 2 and a
#     message naming the fields that exist; `review stats` of an unknown
#     queue names the queues;
#   - an export that selects nothing: exit status 4, nothing written, no
#     version recorded, unless --allow-empty;
#   - --only-split or --manifest with -o DIR, and --split 80/10/20: refused;
#   - TRL preference lines carry the tool schemas;
#   - the classifier's rule for reviewed outputs without spans, per rubric.
set -euo pipefail
: "${FW_BUILD_DIR:?}" "${FW_SOURCE_DIR:?}"
: "${FLYWHEEL_PG_ADMIN_DSN:?this test needs the services: eval \"\$(scripts/services env)\"}"
FW="$FW_BUILD_DIR/cli/flywheel"
HERE="$FW_SOURCE_DIR/tests/export"
CHECK="python3 $HERE/check_format.py"
DB="fwx11_$$_$RANDOM"
DSN="$FLYWHEEL_PG_ADMIN_DSN dbname=$DB"
WORK="$(mktemp -d)"
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
    psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "CREATE DATABASE $DB" >/dev/null
"$FW" migrate -q --dsn "$DSN"
psql "$DSN" -1 -q -v ON_ERROR_STOP=1 -f "$HERE/fixture.sql" >/dev/null
sql() { psql "$DSN" -Atq -v ON_ERROR_STOP=1 -c "$1"; }
export_to() { local dir="$1"; shift; "$FW" export --dsn "$DSN" -q --no-progress "$@" -o "$dir"; }
# A correction an end user sent about generation 3, the one with tools.
sql "INSERT INTO flywheel.feedback (event_id, event_time, schema_version, target_event_id, name,
       value_type, source, correction)
     VALUES ('01900000-0000-7000-8000-0000000000c1', '2026-01-05 11:05:00+00', 1,
       '01900000-0000-7000-8000-000000000003', 'correction', 'none', 'end_user',
       '[{\"role\": \"assistant\", \"parts\": [{\"type\": \"text\", \"content\": \"Order 42 shipped on January 5.\"}]}]')" >/dev/null

# ---- issue 11: typos are errors naming what exists (item 3) ---------------
refused() { # expected status, pattern of the message, export options...
    local want="$1" pattern="$2"; shift 2
    local st=0
    "$FW" export --dsn "$DSN" -q --no-progress "$@" 2>"$WORK/err" || st=$?
    [ "$st" = "$want" ] || { cat "$WORK/err" >&2; fail "$*: exit status $st, want $want"; }
    grep -q -- "$pattern" "$WORK/err" || { cat "$WORK/err" >&2; fail "$*: message lacks \"$pattern\""; }
}
refused 2 'unknown rubric field "nosuchfield" in --where "nosuchfield=1"' \
    --queue support --format eval --where nosuchfield=1 -o "$WORK/typo"
grep -q 'has the fields quality (number), verdict (category: accept, reject), fix (correction), pick (pairwise), spans (span)' \
    "$WORK/err" || { cat "$WORK/err" >&2; fail "--where typo: the fields that exist are not named"; }
refused 2 'does not fit field "verdict": the value is not one of' \
    --queue support --format eval --where verdict=acept -o "$WORK/typo"
refused 2 'only number fields compare' --queue support --format eval --where 'verdict>1' -o "$WORK/typo"
refused 2 'unknown rubric field "nosuch" cannot be the score field' \
    --queue support --format reward --score-field nosuch -o "$WORK/typo"
grep -q 'has quality (number)' "$WORK/err" || fail "--score-field typo: the number fields are not named"
refused 2 'rubric field "fix" cannot be the score field' \
    --queue support --format reward --score-field fix -o "$WORK/typo"
[ ! -e "$WORK/typo/manifest.json" ] || fail "a refused export wrote a manifest"
# An export that selects nothing says so, writes nothing and records no
# version, unless --allow-empty.
refused 4 'the selection matched no finished review items' \
    --queue support --format eval --where 'quality>5' --dataset empty-set -o "$WORK/empty"
[ "$(sql "SELECT count(*) FROM flywheel.dataset_versions WHERE dataset = 'empty-set'")" = 0 ] \
    || fail "an empty selection recorded a dataset version"
[ ! -e "$WORK/empty/manifest.json" ] || fail "an empty selection wrote a manifest"
"$FW" export --dsn "$DSN" -q --queue support --format eval --where 'quality>5' --dataset empty-set \
    --allow-empty -o "$WORK/empty" || fail "--allow-empty"
[ "$(sql "SELECT members FROM flywheel.dataset_versions WHERE dataset = 'empty-set'")" = 0 ] \
    || fail "--allow-empty did not record the empty version"
# review stats of a queue that does not exist names those that do.
st=0; "$FW" review stats --dsn "$DSN" nosuch >/dev/null 2>"$WORK/err" || st=$?
[ "$st" = 2 ] && grep -q 'queue "nosuch" does not exist' "$WORK/err" \
    && grep -q 'The queues are: support\.' "$WORK/err" \
    || { cat "$WORK/err" >&2; fail "review stats nosuch: status $st"; }
"$FW" review stats --dsn "$DSN" support >/dev/null || fail "review stats of an existing queue"

# ---- issue 11 item 12: options that would be ignored are refused ----------
refused 2 '--only-split applies to -o - only' --queue support --format eval --only-split train -o "$WORK/only"
refused 2 '--manifest applies to -o - only' --queue support --format eval --manifest "$WORK/m.json" -o "$WORK/only"
refused 2 'invalid split "80/10/20"' --queue support --format eval --split 80/10/20 -o "$WORK/only"
grep -q 'never rescaled' "$WORK/err" || fail "--split 80/10/20: the rule is not stated"
[ ! -e "$WORK/only" ] || fail "a refused export created its output directory"

# ---- issue 11 item 5: TRL preference lines carry the tool schemas --------
"$FW" export --dsn "$DSN" -q --format preference --style trl --feedback-corrections -o "$WORK/trl_tools"
$CHECK trl "$WORK"/trl_tools/{train,validation,test}.jsonl >/dev/null || fail "trl_tools: independent check"
python3 - "$WORK/trl_tools" <<'PY' || fail "TRL line with tools"
import json, sys
lines = [json.loads(l) for s in ("train", "validation", "test") for l in open("%s/%s.jsonl" % (sys.argv[1], s))]
assert len(lines) == 1, lines
line = lines[0]
assert list(line) == ["prompt", "chosen", "rejected", "tools"], list(line)
assert line["tools"] == [{"type": "function", "function": {"name": "get_order", "description": "Look up an order",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}], line["tools"]
assert any(m.get("tool_calls") for m in line["prompt"]), "the prompt keeps its tool call"
PY

# ---- issue 11 item 4: spans and outputs without them, per rubric ----------
# The fixture's rubric says nothing: spans mark every bad sentence, so the
# reviewed outputs without spans (items 5 and 8; 7 is empty, a is a tool
# call) give negatives (golden "classifier"). A rubric whose spans are
# "unmarked": "unknown" drops them, counted.
if sql "SELECT flywheel.review_rubric_create('bad', '{\"fields\": [{\"name\": \"s\", \"type\": \"span\",
          \"categories\": [\"x\"], \"unmarked\": \"sometimes\"}]}')" 2>"$WORK/err"; then
    fail "a span field with \"unmarked\": \"sometimes\" was accepted"
fi
grep -q '"unmarked" must be' "$WORK/err" || { cat "$WORK/err" >&2; fail "unmarked: message"; }
sql "SELECT flywheel.review_rubric_create('support-u', (SELECT jsonb_set(definition, '{fields,4,unmarked}', '\"unknown\"')
       FROM flywheel.review_rubrics WHERE name = 'support'));
     SELECT flywheel.review_queue_create('{\"name\": \"support-u\", \"rubric\": \"support-u\", \"overlap\": 1}');
     INSERT INTO flywheel.review_items (queue_id, event_id, event_time, event_id_b, event_time_b, overlap)
     SELECT u.id, i.event_id, i.event_time, i.event_id_b, i.event_time_b, 1
     FROM flywheel.review_items i JOIN flywheel.review_queues q ON q.id = i.queue_id AND q.name = 'support'
     CROSS JOIN flywheel.review_queues u WHERE u.name = 'support-u' AND i.event_time < '2026-01-06'
       AND NOT i.is_gold;" >/dev/null
sql "DO \$\$ DECLARE j jsonb; BEGIN LOOP j := flywheel.review_claim('support-u', 'alice'); EXIT WHEN j IS NULL;
       PERFORM flywheel.review_submit((j->>'item_id')::bigint, (SELECT l.value FROM flywheel.review_labels l
         JOIN flywheel.review_items i ON i.id = l.item_id JOIN flywheel.review_queues q ON q.id = i.queue_id
         WHERE q.name = 'support' AND l.reviewer = 'alice' AND i.event_id = (j #>> '{generation,event_id}')::uuid
         ORDER BY l.version LIMIT 1), 'alice');
     END LOOP; END \$\$" >/dev/null
export_to "$WORK/cls_neg" --queue support --format classifier --seed 7 --split 60/20/20 --until 2026-01-06
export_to "$WORK/cls_unk" --queue support-u --format classifier --seed 7 --split 60/20/20 --until 2026-01-06
python3 - "$WORK/cls_neg/manifest.json" "$WORK/cls_unk/manifest.json" "$WORK/cls_neg" <<'PY' || fail "classifier per rubric"
import json, sys
neg, unk = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert neg["parameters"]["unmarked_spans"] == "negative", neg["parameters"]
assert unk["parameters"]["unmarked_spans"] == "unknown", unk["parameters"]
assert "no_span_annotation" not in neg["rejected"], neg["rejected"]
assert unk["rejected"].get("no_span_annotation") == 4, unk["rejected"]
assert sum(neg["lines"].values()) == sum(unk["lines"].values()) + 2, (neg["lines"], unk["lines"])
texts = {json.loads(l)["text"]: json.loads(l)["label"] for s in ("train", "validation", "test")
         for l in open("%s/%s.jsonl" % (sys.argv[3], s))}
assert texts.get("I will contact jane.doe@example.com today.") == "none", texts
PY

echo "export issue 11: ok"
