#!/usr/bin/env bash
# Integration test of `flywheel eval run` against the fake OpenAI-compatible
# server: every scorer on known cases (tests/eval/expected_scores.txt, one
# "case scorer score" line each, reviewed by hand), tool calls, the judge in
# both modes (pairwise asked in both orders), scripted 429 + Retry-After
# (waited), a 500 (retried), a slow answer (timeouts, retried, then an
# error), malformed JSON (an error case, not a crash), one generation per
# case in environment "eval" tagged with the run, and the API key used on
# the wire but never in the store or the output. Unsupported JSON Schema
# keywords refuse the configuration.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup_db
start_fake A "$HERE/script.json"
sed "s|@JUDGE@|$FAKE_A/v1|g" "$HERE/scorers.json" >"$WORK/scorers.json"

KEY=sk-test-$RANDOM-SECRET
export FAKE_JUDGE_KEY=judge-key-$RANDOM-SECRET
FLYWHEEL_EVAL_API_KEY=$KEY "$FW" eval run --dsn "$DSN" --dataset qa --version 1 \
    --endpoint "$FAKE_A/v1" --model base --scorers "$WORK/scorers.json" --name r1 \
    --concurrency 4 --timeout 1 --retries 2 --price 1,2 >"$WORK/run.out" 2>"$WORK/run.err" \
    || { cat "$WORK/run.err" >&2; fail "eval run exited with $?"; }

# ---- every scorer on known cases --------------------------------------------
sql "SELECT right(case_id, 2)::int || ' ' || scorer || ' ' || coalesce(round(score::numeric, 4)::text, 'null')
     FROM flywheel.eval_scores ORDER BY 1" | sort >"$WORK/scores.txt"
sort "$HERE/expected_scores.txt" | diff - "$WORK/scores.txt" >&2 || fail "scores differ from expected_scores.txt"
# Explanations say why.
[ "$(sql "SELECT explanation FROM flywheel.eval_scores WHERE case_id LIKE '%04' AND scorer = 'user_schema'")" \
    = 'expected integer, got string at "/id"' ] || fail "schema explanation"
sql "SELECT explanation FROM flywheel.eval_scores WHERE case_id LIKE '%06' AND scorer = 'tool_call'" \
    | grep -q "arguments differ" || fail "tool_call explanation"
sql "SELECT explanation FROM flywheel.eval_scores WHERE case_id LIKE '%01' AND scorer = 'judge_pair'" \
    | grep -q "^order 1: tie.*; order 2: tie" || fail "pairwise judge explanation names both orders"

# ---- retries, Retry-After, timeouts, malformed JSON ----------------------------
[ "$(sql "SELECT attempts || ' ' || status FROM flywheel.eval_cases WHERE case_id LIKE '%09'")" = "3 ok" ] \
    || fail "429 case: attempts"
[ "$(sql "SELECT attempts || ' ' || status FROM flywheel.eval_cases WHERE case_id LIKE '%10'")" = "2 ok" ] \
    || fail "500 case: attempts"
sql "SELECT attempts || ' ' || status || ' ' || error FROM flywheel.eval_cases WHERE case_id LIKE '%12'" \
    | grep -q "^3 error Timeout was reached" || fail "slow case: not 3 timed-out attempts"
sql "SELECT status || ' ' || error FROM flywheel.eval_cases WHERE case_id LIKE '%11'" \
    | grep -q "^error malformed response" || fail "malformed JSON case"
fake_stats "$FAKE_A" >"$WORK/stats.json"
python3 - "$WORK/stats.json" <<'PY' || fail "server-side view of the retries"
import json, sys
s = json.load(open(sys.argv[1]))
t = s["times"]["base|A rate limited question"]
assert len(t) == 3, t
# Retry-After: 1 was honoured before each retry of the 429s.
assert t[1] - t[0] >= 0.95 and t[2] - t[1] >= 0.95, t
assert s["calls"]["base|A question the server fails once"] == 2
assert s["calls"]["base|A slow question"] == 3
# Every other case was called exactly once.
for k, n in s["calls"].items():
    if k.startswith("base|") and "rate limited" not in k and "fails once" not in k and "slow" not in k:
        assert n == 1, (k, n)
# judge: 10 answered cases x (1 score call + 2 pairwise calls)
assert s["calls"]["judge|judge-model"] == 30, s["calls"]["judge|judge-model"]
PY

# ---- generations: one per case, environment eval, tagged with the run -----------
[ "$(sql "SELECT count(*) FROM flywheel.generations g JOIN flywheel.eval_cases c USING (event_id)
          WHERE g.environment = 'eval' AND 'eval-run:r1' = ANY (g.tags) AND g.release = 'r1'
          AND g.attributes->>'flywheel.eval.case' = c.case_id")" = 12 ] || fail "generations"
[ "$(sql "SELECT g.status || ' ' || g.error_type FROM flywheel.generations g JOIN flywheel.eval_cases c
          USING (event_id) WHERE c.case_id LIKE '%11'")" = "error eval_call_failed" ] || fail "error generation"
sql "SELECT output_messages::text FROM flywheel.generations g JOIN flywheel.eval_cases c USING (event_id)
     WHERE c.case_id LIKE '%05'" | grep -q '"type": "tool_call"' || fail "tool call generation"
# Cost from --price: (input * 1 + output * 2) / 1e6; usage 12/2 for case 1, 10/5 for the other 9 answers.
[ "$(sql "SELECT round(sum(cost_usd)::numeric * 1e6) FROM flywheel.eval_cases")" = 196 ] || fail "cost"
[ "$(sql "SELECT sum(cost_micro_usd) FROM flywheel.generations WHERE environment = 'eval'")" = 196 ] \
    || fail "generation cost"
# Every judge call is a generation too (tagged eval-judge, the judge's model),
# tied to the case's generation, and the stored score is what the recorded
# calls said: the value for a score judge, the mean of both orders pairwise.
[ "$(sql "SELECT count(*) FROM flywheel.generations g JOIN flywheel.eval_cases c
          ON c.event_id = (g.attributes->>'flywheel.eval.judged_event_id')::uuid
          AND c.case_id = g.attributes->>'flywheel.eval.case'
          WHERE 'eval-judge' = ANY (g.tags) AND 'eval-run:r1' = ANY (g.tags) AND g.release = 'r1'
          AND g.request_model = 'judge-model' AND g.environment = 'eval'
          AND g.input_messages::text LIKE '%Is the answer correct?%'
             = (g.attributes->>'flywheel.eval.judge' = 'judge')")" = 30 ] || fail "judge generations"
[ "$(sql "SELECT count(*) FROM flywheel.generations WHERE 'eval-judge' = ANY (tags)")" = 30 ] ||
    fail "judge generations not tied to a case"
[ "$(sql "SELECT count(*) FROM flywheel.generations g WHERE 'eval-judge' = ANY (g.tags)
          AND g.attributes->>'flywheel.eval.judge' = 'judge_pair'
          GROUP BY g.attributes->>'flywheel.eval.case' HAVING count(*) <> 2")" = "" ] ||
    fail "a pairwise judgement is not two recorded calls"
[ "$(sql "SELECT count(*) FROM flywheel.eval_scores s JOIN flywheel.eval_runs r ON r.id = s.run_id
          JOIN (SELECT g.attributes->>'flywheel.eval.case' AS case_id,
                       g.attributes->>'flywheel.eval.judge' AS scorer,
                       avg((g.attributes->>'flywheel.eval.judge_value')::float8) AS v
                FROM flywheel.generations g WHERE 'eval-judge' = ANY (g.tags) GROUP BY 1, 2) j
            ON j.case_id = s.case_id AND j.scorer = s.scorer
          WHERE r.name = 'r1' AND s.score IS NOT NULL AND abs(s.score - j.v) < 1e-9")" = \
  "$(sql "SELECT count(*) FROM flywheel.eval_scores s JOIN flywheel.eval_runs r ON r.id = s.run_id
          JOIN flywheel.eval_cases c ON c.run_id = s.run_id AND c.case_id = s.case_id
          WHERE r.name = 'r1' AND s.scorer IN ('judge', 'judge_pair') AND s.score IS NOT NULL
          AND c.status = 'ok'")" ] || fail "judge scores differ from the recorded judge calls"
# Event ids are UUIDv7 (version nibble 7) carrying the run's creation time.
[ "$(sql "SELECT count(*) FROM flywheel.generations g, flywheel.eval_runs r
          WHERE g.environment = 'eval' AND r.name = 'r1' AND g.release = 'r1'
          AND (substr(g.event_id::text, 15, 1) <> '7'
               OR ('x' || lpad(replace(left(g.event_id::text, 13), '-', ''), 16, '0'))::bit(64)::bigint
                  <> (extract(epoch FROM r.created_at) * 1000)::bigint)")" = 0 ] ||
    fail "eval event ids are not UUIDv7 with the run's time"

# ---- the run row ---------------------------------------------------------------------
[ "$(sql "SELECT status || ' ' || cases_total || ' ' || dataset || ' ' || dataset_version || ' ' ||
          model || ' ' || (prompt_sha256 IS NULL) FROM flywheel.eval_runs")" = "finished 12 qa 1 base true" ] \
    || fail "run row"
sql "SELECT scorers->'scorers'->7->>'type' FROM flywheel.eval_runs" | grep -qx numeric || fail "scorer config kept"
grep -q "^exact  *0.2500$" "$WORK/run.out" || fail "run output: scorer means"

# ---- the API key: on the wire, never stored or printed -----------------------------------
python3 - "$WORK/stats.json" "$KEY" "$FAKE_JUDGE_KEY" <<'PY' || fail "keys not sent"
import json, sys
auth = json.load(open(sys.argv[1]))["auth"]
assert "Bearer " + sys.argv[2] in auth and "Bearer " + sys.argv[3] in auth, auth
PY
pg_dump "$DSN" >"$WORK/dump.sql"
! grep -q "SECRET" "$WORK/dump.sql" || fail "an API key is in the database"
! grep -q "SECRET" "$WORK/run.out" "$WORK/run.err" || fail "an API key was printed"

# ---- refusals ------------------------------------------------------------------------------
echo '{"scorers": [{"type": "json_schema", "schema": {"type": "object", "oneOf": []}}]}' >"$WORK/bad.json"
! "$FW" eval run --dsn "$DSN" --dataset qa --version 1 --endpoint "$FAKE_A/v1" --model m \
    --scorers "$WORK/bad.json" --name bad 2>"$WORK/bad.err" || fail "unsupported keyword accepted"
grep -q 'unsupported JSON Schema keyword "oneOf"' "$WORK/bad.err" || fail "unsupported keyword message"
! "$FW" eval run --dsn "$DSN" --dataset qa --version 1 --endpoint "http://u:p@127.0.0.1:1/v1" \
    --model m --name bad 2>"$WORK/bad.err" || fail "credentials in the endpoint accepted"
grep -q "must not contain credentials" "$WORK/bad.err" || fail "credentials message"
! "$FW" eval run --dsn "$DSN" --dataset qa --version 1 --endpoint "$FAKE_A/v1" --model base \
    --name r1 2>"$WORK/bad.err" || fail "a finished run was run again"
grep -q "already finished" "$WORK/bad.err" || fail "finished-run message"
[ "$(sql "SELECT count(*) FROM flywheel.eval_runs")" = 1 ] || fail "a refused run left a row"

# ---- list and show ---------------------------------------------------------------------------
"$FW" eval list --dsn "$DSN" | grep -q "^r1  *qa@1  *base  *finished  *12  *2 " || fail "eval list"
"$FW" eval show --dsn "$DSN" r1 --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["cases"] == 12 and d["errors"] == 2 and abs(d["scores"]["exact"] - 0.25) < 1e-9, d' \
    || fail "eval show --json"
echo "ok"
