#!/usr/bin/env bash
# Integration test of `flywheel export` and `flywheel dataset` against a fresh
# migrated database loaded with tests/export/fixture.sql:
#   - golden files for every format (tool calls, corrections, span
#     annotations, multi-turn, unicode, redaction), byte for byte;
#   - every line passes the independent checker (check_format.py);
#   - a recorded version re-exports byte-identically after new labels arrive;
#   - split stability, no group straddling splits, no duplicate across splits;
#   - stdout, --only-split and zstd output; the progress bar on a
#     pseudo-terminal (and not on a file); selection predicates; consensus.
# FW_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
set -euo pipefail
: "${FW_BUILD_DIR:?}" "${FW_SOURCE_DIR:?}"
: "${FLYWHEEL_PG_ADMIN_DSN:?this test needs the services: eval \"\$(scripts/services env)\"}"
FW="$FW_BUILD_DIR/cli/flywheel"
HERE="$FW_SOURCE_DIR/tests/export"
GOLDEN="$HERE/golden"
CHECK="python3 $HERE/check_format.py"
DB="fwx_$$_$RANDOM"
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

# ---- golden files ----------------------------------------------------------
golden_case() {
    local name="$1" fmt="$2"; shift 2
    export_to "$WORK/$name" --queue support --seed 7 --split 60/20/20 "$@"
    $CHECK "$fmt" "$WORK/$name"/{train,validation,test}.jsonl >/dev/null \
        || fail "$name: independent format check"
    # The manifest without its creation time is part of the golden output;
    # the program's version is checked to be present, not compared (a
    # release must not change every golden file).
    python3 - "$WORK/$name/manifest.json" >"$WORK/$name/manifest.golden" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
del m["created_at"]
assert m["flywheel_version"].count(".") == 2, m["flywheel_version"]
m["flywheel_version"] = "MAJOR.MINOR.PATCH"
print(json.dumps(m, indent=1, sort_keys=True))
PY
    for f in train.jsonl validation.jsonl test.jsonl manifest.golden; do
        if [ "${FW_UPDATE_GOLDEN:-}" = 1 ]; then
            mkdir -p "$GOLDEN/$name"
            cp "$WORK/$name/$f" "$GOLDEN/$name/$f"
        else
            cmp -s "$WORK/$name/$f" "$GOLDEN/$name/$f" || {
                diff "$GOLDEN/$name/$f" "$WORK/$name/$f" | head -20 >&2
                fail "$name/$f differs from the golden file"
            }
        fi
    done
}
golden_case chat openai-chat --format openai-chat
golden_case chat_all_turns openai-chat --format openai-chat --all-turns
golden_case chat_redacted openai-chat --format openai-chat --redact
golden_case preference preference --format preference
golden_case preference_trl trl --format preference --style trl
golden_case eval eval --format eval
golden_case classifier classifier --format classifier
golden_case reward reward --format reward

# Rejected rows are counted by reason, never dropped silently.
python3 - "$WORK/chat/manifest.json" <<'PY' || fail "chat manifest counts"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["members"] == 9, m["members"]
assert m["rejected"] == {"duplicate": 1, "empty_content": 1, "tool_arguments_invalid_json": 1}, m["rejected"]
assert sum(m["lines"].values()) + m["rejected_total"] == 9
PY
# Redaction used the agent's detectors: no email or phone left.
! grep -q "jane.doe@example.com\|555-123-4567" "$WORK"/chat_redacted/*.jsonl \
    || fail "personal data survived --redact"
grep -q "\[EMAIL\]" "$WORK"/chat_redacted/*.jsonl || fail "no [EMAIL] label after --redact"
grep -q "jane.doe@example.com" "$WORK"/chat/*.jsonl || fail "fixture lost its email"

# ---- stdout, --only-split, zstd --------------------------------------------
"$FW" export --dsn "$DSN" -q --queue support --format openai-chat --seed 7 --split 60/20/20 \
    -o - --only-split train >"$WORK/stdout_train.jsonl"
cmp -s "$WORK/stdout_train.jsonl" "$WORK/chat/train.jsonl" || fail "stdout --only-split train differs"
export_to "$WORK/zst" --queue support --format openai-chat --seed 7 --split 60/20/20 --zstd
for s in train validation test; do
    zstd -qdc "$WORK/zst/$s.jsonl.zst" | cmp -s - "$WORK/chat/$s.jsonl" || fail "zstd $s differs"
    want=$(python3 -c "import json,sys;print([f['sha256'] for f in json.load(open(sys.argv[1]))['files'] if f['name']==sys.argv[2]][0])" "$WORK/zst/manifest.json" "$s.jsonl.zst")
    [ "$(sha256sum "$WORK/zst/$s.jsonl.zst" | cut -d' ' -f1)" = "$want" ] || fail "manifest sha256 of $s.jsonl.zst"
done

# ---- progress bar: on a terminal by default, never when stderr is not one --
python3 - "$FW" export --dsn "$DSN" --queue support --format openai-chat -o "$WORK/tty" \
    >"$WORK/tty.err" <<'PY' || fail "export on a pseudo-terminal"
import os, pty, subprocess, sys
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
out = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:  # EIO: the child closed the terminal
        break
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode("utf-8", "replace"))
sys.exit(p.wait())
PY
grep -q $'\r\[##############################\] 100% 9/9 rows' "$WORK/tty.err" \
    || { cat -A "$WORK/tty.err" >&2; fail "no final progress bar on a terminal"; }
grep -q "flywheel export: 9 members" "$WORK/tty.err" || fail "no summary after the progress bar"
"$FW" export --dsn "$DSN" --queue support --format openai-chat -o "$WORK/notty" 2>"$WORK/notty.err"
! grep -q $'\r\[' "$WORK/notty.err" || fail "a progress bar was drawn on a file"
"$FW" export --dsn "$DSN" --progress --queue support --format openai-chat -o "$WORK/forced" 2>"$WORK/forced.err"
grep -q "100% 9/9 rows" "$WORK/forced.err" || fail "--progress did not draw the bar"

# ---- selection -------------------------------------------------------------
n() { cat "$1"/{train,validation,test}.jsonl | wc -l; }
export_to "$WORK/q4" --queue support --format eval --where 'quality>=4'
[ "$(n "$WORK/q4")" = 4 ] || fail "--where quality>=4 gave $(n "$WORK/q4") lines, want 4 (6 members, a duplicate and a bad tool call rejected)"
export_to "$WORK/acc" --queue support --format eval --where verdict=accept --environment prod
[ "$(n "$WORK/acc")" = 4 ] || fail "--where verdict=accept --environment prod gave $(n "$WORK/acc")"
export_to "$WORK/fb" --queue support --format eval --feedback thumbs=true
[ "$(n "$WORK/fb")" = 1 ] && grep -q 000000000001 "$WORK"/fb/*.jsonl || fail "--feedback thumbs=true"
export_to "$WORK/tag" --format openai-chat --tag tools --prompt-version v3
[ "$(n "$WORK/tag")" = 1 ] || fail "--tag tools --prompt-version v3 (no queue)"
export_to "$WORK/lim" --queue support --format eval --limit 2 --no-dedupe
grep -h -o '"id":"[^"]*"' "$WORK"/lim/*.jsonl | sort | tr '\n' ' ' | grep -q \
    '"id":"01900000-0000-7000-8000-000000000001" "id":"01900000-0000-7000-8000-000000000002"' \
    || fail "--limit takes the first members in event id order"
if "$FW" export --dsn "$DSN" --queue support --format eval --where 'quality>>4' -o "$WORK/bad" 2>"$WORK/err"; then
    fail "a malformed predicate was accepted"
fi
grep -q 'invalid label predicate "quality>>4"' "$WORK/err" || fail "predicate error message"

# ---- preference pairs from feedback corrections ---------------------------
fb_correction() { # event id suffix, time, text
    sql "INSERT INTO flywheel.feedback (event_id, event_time, schema_version, target_event_id, name,
           value_type, source, correction)
         VALUES ('01900000-0000-7000-8000-0000000000$1', '$2', 1, '01900000-0000-7000-8000-000000000003',
           'correction', 'none', 'end_user',
           '[{\"role\": \"assistant\", \"parts\": [{\"type\": \"text\", \"content\": \"$3\"}]}]')" >/dev/null
}
fb_correction c1 '2026-01-05 11:05:00+00' 'Order 42 shipped on January 5 and arrives on January 7.'
"$FW" export --dsn "$DSN" -q --dataset fb-pref --format preference --feedback-corrections -o "$WORK/fb1"
[ "$(n "$WORK/fb1")" = 1 ] || fail "--feedback-corrections without a queue: want the one corrected generation"
$CHECK preference "$WORK"/fb1/{train,validation,test}.jsonl >/dev/null || fail "fb1: independent check"
python3 - "$WORK/fb1" <<'PY' || fail "feedback correction pair"
import json, sys
line = json.loads("".join(open("%s/%s.jsonl" % (sys.argv[1], s)).read() for s in ("train", "validation", "test")))
assert line["preferred_output"][-1]["content"] == "Order 42 shipped on January 5 and arrives on January 7.", line
assert line["non_preferred_output"][-1]["content"].startswith("Order 42 has shipped"), line
PY
# A newer correction arrives: the recorded version keeps the one it used.
fb_correction c2 '2026-01-05 11:06:00+00' 'Order 42 is on its way and arrives on January 7.'
"$FW" export --dsn "$DSN" -q --dataset fb-pref --version 1 -o "$WORK/fb1again" \
    || fail "re-export of a feedback-correction version did not match its recorded sha256s"
"$FW" export --dsn "$DSN" -q --format preference --feedback-corrections -o "$WORK/fb2"
grep -q "is on its way" "$WORK"/fb2/*.jsonl || fail "a new export uses the latest correction"
# With a queue the feedback pair comes in addition to the reviewers' corrections.
export_to "$WORK/fbq" --queue support --format preference --feedback-corrections
[ "$(n "$WORK/fbq")" = "$(( $(n "$WORK/preference") + 1 ))" ] \
    || fail "--queue with --feedback-corrections: want one more pair than without"
if "$FW" export --dsn "$DSN" --format eval --feedback-corrections -o "$WORK/bad" 2>"$WORK/err"; then
    fail "--feedback-corrections was accepted for eval"
fi
grep -q "applies to --format preference only" "$WORK/err" || fail "--feedback-corrections error message"

# ---- versions: record, re-export byte-identically after new labels --------
"$FW" export --dsn "$DSN" -q --dataset support-sft --description "support answers" \
    --queue support --format openai-chat --seed 7 --split 60/20/20 -o "$WORK/v1"
[ "$(sql "SELECT count(*) FROM flywheel.dataset_members WHERE dataset = 'support-sft' AND version = 1")" = 9 ] \
    || fail "version 1 members"
# New labels arrive: item 6 (the duplicate) is revised, a new generation is labelled.
sql "INSERT INTO flywheel.generations (event_id, event_time, schema_version, conversation_id,
       input_messages, output_messages, id_time)
     VALUES ('01900000-0000-7000-8000-0000000000b1', '2026-01-06 09:00:00+00', 1, 'conv-new',
       '[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Hi there\"}]}]',
       '[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"Hello!\"}]}]',
       flywheel.event_id_time('01900000-0000-7000-8000-0000000000b1'));
     INSERT INTO flywheel.review_items (queue_id, event_id, event_time, overlap)
     SELECT id, '01900000-0000-7000-8000-0000000000b1', '2026-01-06 09:00:00+00', 1
     FROM flywheel.review_queues WHERE name = 'support';" >/dev/null
sql "SELECT flywheel.review_submit((flywheel.review_claim('support', 'bob')->>'item_id')::bigint,
       '{\"quality\": 5}', 'bob')" >/dev/null
sql "SELECT flywheel.review_revise(i.id,
       '{\"quality\": 5, \"fix\": [{\"role\": \"assistant\", \"parts\": [{\"type\": \"text\", \"content\": \"Paris.\"}]}]}', 'alice')
     FROM flywheel.review_items i WHERE i.event_id = '01900000-0000-7000-8000-000000000001'" >/dev/null
"$FW" export --dsn "$DSN" -q --dataset support-sft --version 1 -o "$WORK/v1again" \
    || fail "re-export of version 1 did not match its recorded sha256s"
for s in train validation test; do
    cmp -s "$WORK/v1/$s.jsonl" "$WORK/v1again/$s.jsonl" || fail "re-export of $s differs"
done
"$FW" export --dsn "$DSN" -q --dataset support-sft --queue support --format openai-chat \
    --seed 7 --split 60/20/20 -o "$WORK/v2"
cmp -s "$WORK/v1/train.jsonl" "$WORK/v2/train.jsonl" && cmp -s "$WORK/v1/test.jsonl" "$WORK/v2/test.jsonl" \
    && fail "version 2 should see the new labels"
"$FW" dataset list --dsn "$DSN" >"$WORK/list"
grep -q "^support-sft  *1 openai-chat  *9 " "$WORK/list" || { cat "$WORK/list" >&2; fail "dataset list v1"; }
grep -q "^support-sft  *2 openai-chat  *10 " "$WORK/list" || { cat "$WORK/list" >&2; fail "dataset list v2"; }
"$FW" dataset show --dsn "$DSN" support-sft 1 | python3 -c "
import json,sys; m=json.load(sys.stdin); assert m['version']==1 and m['members']==9, m" || fail "dataset show"
"$FW" dataset diff --dsn "$DSN" support-sft 1 2 --members >"$WORK/diff"
grep -q "members added 1, removed 0, relabelled 1" "$WORK/diff" || { cat "$WORK/diff" >&2; fail "dataset diff"; }
grep -q "^added	01900000-0000-7000-8000-0000000000b1" "$WORK/diff" || fail "dataset diff --members"
if "$FW" export --dsn "$DSN" -q --dataset support-sft --version 9 -o "$WORK/v9" 2>"$WORK/err"; then
    fail "a missing version was exported"
fi
grep -q 'dataset "support-sft" has no version 9' "$WORK/err" || fail "missing version message"
# A recorded version cannot be edited.
if sql "UPDATE flywheel.dataset_members SET label_ids = '{}' WHERE dataset = 'support-sft'" 2>/dev/null; then
    fail "dataset members were updated"
fi

# ---- split stability, groups, dedupe across splits ------------------------
export_to "$WORK/s1" --queue support --format eval --seed 11 --split 50/25/25
sql "INSERT INTO flywheel.generations (event_id, event_time, schema_version, conversation_id,
       input_messages, output_messages, id_time)
     SELECT ('01900000-0000-7000-8001-' || lpad(to_hex(n), 12, '0'))::uuid,
            '2026-01-07 00:00:00+00'::timestamptz + n * interval '1 minute', 1,
            CASE WHEN n % 5 = 0 THEN 'conv-1' ELSE 'conv-s' || (n % 23) END,
            jsonb_build_array(jsonb_build_object('role', 'user', 'parts',
                jsonb_build_array(jsonb_build_object('type', 'text', 'content', 'question ' || (n % 40))))),
            jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts',
                jsonb_build_array(jsonb_build_object('type', 'text', 'content', 'answer ' || (n % 40))))),
            flywheel.event_id_time(('01900000-0000-7000-8001-' || lpad(to_hex(n), 12, '0'))::uuid)
     FROM generate_series(1, 200) n;
     INSERT INTO flywheel.review_items (queue_id, event_id, event_time, overlap)
     SELECT q.id, g.event_id, g.event_time, 1 FROM flywheel.generations g, flywheel.review_queues q
     WHERE q.name = 'support' AND g.event_time >= '2026-01-07';" >/dev/null
sql "DO \$\$ DECLARE j jsonb; BEGIN LOOP j := flywheel.review_claim('support', 'carol');
       EXIT WHEN j IS NULL; PERFORM flywheel.review_submit((j->>'item_id')::bigint, '{\"quality\": 3}', 'carol');
     END LOOP; END \$\$" >/dev/null
export_to "$WORK/s2" --queue support --format eval --seed 11 --split 50/25/25
$CHECK eval "$WORK"/s2/{train,validation,test}.jsonl >/dev/null || fail "s2: independent check (duplicates across splits?)"
python3 - "$WORK/s1" "$WORK/s2" <<'PY' || fail "split stability"
import json, sys
def load(d):
    out = {}
    for s in ("train", "validation", "test"):
        for line in open("%s/%s.jsonl" % (d, s), encoding="utf-8"):
            o = json.loads(line)
            out[o["id"]] = (s, o["metadata"]["conversation_id"] or o["metadata"]["trace_id"] or o["id"])
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
assert len(b) > len(a) + 30, (len(a), len(b))
for k, (s, _) in a.items():
    assert k in b and b[k][0] == s, "row %s moved from %s to %s" % (k, s, b.get(k))
groups = {}
for k, (s, g) in b.items():
    groups.setdefault(g, set()).add(s)
bad = {g: v for g, v in groups.items() if len(v) > 1}
assert not bad, "groups straddle splits: %s" % bad
assert len({s for s, _ in b.values()}) == 3, "all three splits used"
PY
m=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['rejected'].get('duplicate',0))" "$WORK/s2/manifest.json")
[ "$m" -gt 100 ] || fail "expected the repeated questions to be deduplicated, got $m"

# ---- consensus -------------------------------------------------------------
sql "SELECT flywheel.review_queue_create('{\"name\": \"pairq\", \"rubric\": \"support\", \"overlap\": 2}');
     INSERT INTO flywheel.review_items (queue_id, event_id, event_time, overlap)
     SELECT q.id, g.event_id, g.event_time, 2 FROM flywheel.generations g, flywheel.review_queues q
     WHERE q.name = 'pairq' AND g.event_id IN ('01900000-0000-7000-8000-000000000003',
                                               '01900000-0000-7000-8000-000000000004');" >/dev/null
for who in alice bob; do
    sql "DO \$\$ DECLARE j jsonb; BEGIN LOOP j := flywheel.review_claim('pairq', '$who');
           EXIT WHEN j IS NULL;
           PERFORM flywheel.review_submit((j->>'item_id')::bigint,
             CASE WHEN '$who' = 'bob' AND j #>> '{generation,event_id}' LIKE '%4'
                  THEN '{\"quality\": 2}' ELSE '{\"quality\": 5}' END::jsonb, '$who');
         END LOOP; END \$\$" >/dev/null
done
export_to "$WORK/c_all" --queue pairq --format eval --consensus all
[ "$(n "$WORK/c_all")" = 1 ] || fail "consensus all: want only the agreed item"
export_to "$WORK/c_maj" --queue pairq --format eval --consensus majority
[ "$(n "$WORK/c_maj")" = 1 ] || fail "consensus majority: 1 of 2 is no majority"
export_to "$WORK/c_adj" --queue pairq --format eval --consensus adjudicated --allow-empty
[ "$(n "$WORK/c_adj")" = 0 ] || fail "consensus adjudicated before adjudication"
sql "SELECT flywheel.review_adjudicate(i.id, '{\"quality\": 4}', 'tie-break', 'admin')
     FROM flywheel.review_items i JOIN flywheel.review_queues q ON q.id = i.queue_id
     WHERE q.name = 'pairq' AND i.event_id = '01900000-0000-7000-8000-000000000004'" >/dev/null
export_to "$WORK/c_adj2" --queue pairq --format eval --consensus adjudicated
[ "$(n "$WORK/c_adj2")" = 1 ] && grep -q '"quality":4' "$WORK"/c_adj2/*.jsonl \
    || fail "consensus adjudicated: the adjudicated label is used"
echo "export integration: ok"
