#!/usr/bin/env bash
# `flywheel eval compare` on two runs with a known difference (a baseline
# model and a candidate that answers three cases differently, see
# tests/eval/script.json): improved / regressed / unchanged counts and means
# computed by hand, the bootstrap intervals against an independent
# re-implementation of the documented procedure (and identical on a second
# run of the command), cost side by side, the gate's exit status; then the
# judge against the humans: reviewers label the baseline run's generations
# in a review queue and `eval agreement` gives Cohen's kappa and Pearson's r
# computed by hand below.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup_db
start_fake A "$HERE/script.json"
sed "s|@JUDGE@|$FAKE_A/v1|g" "$HERE/scorers.json" >"$WORK/scorers.json"
export FAKE_JUDGE_KEY=judge-key
for m in base candidate; do
    "$FW" eval run --dsn "$DSN" --dataset qa --version 1 --endpoint "$FAKE_A/v1" --model $m \
        --scorers "$WORK/scorers.json" --name $m --timeout 1 --retries 2 --price 1,2 -q \
        >/dev/null 2>"$WORK/$m.err" || { cat "$WORK/$m.err" >&2; fail "run $m"; }
done

"$FW" eval compare --dsn "$DSN" base candidate --json >"$WORK/cmp.json" || fail "compare"
"$FW" eval compare --dsn "$DSN" base candidate --json >"$WORK/cmp2.json"
cmp -s "$WORK/cmp.json" "$WORK/cmp2.json" || fail "compare is not reproducible"
sql "SELECT s.scorer, right(s.case_id, 2), s.score, t.score FROM flywheel.eval_scores s
     JOIN flywheel.eval_runs r ON r.id = s.run_id AND r.name = 'base'
     JOIN flywheel.eval_scores t ON t.case_id = s.case_id AND t.scorer = s.scorer
     JOIN flywheel.eval_runs u ON u.id = t.run_id AND u.name = 'candidate'
     ORDER BY s.scorer COLLATE \"C\", s.case_id COLLATE \"C\"" >"$WORK/pairs.txt"
python3 - "$WORK/cmp.json" "$WORK/pairs.txt" <<'PY' || fail "comparison"
import json, math, sys
d = json.load(open(sys.argv[1]))
by = {s["scorer"]: s for s in d["scorers"]}
def counts(name):
    s = by[name]
    return (s["improved"], s["regressed"], s["unchanged"], s["n"])
# Hand-computed from the script: the candidate answers Lyon (France), Rome
# (Italy) and "8" (spider) where the baseline said Paris., rome! and
# "A spider has 8.0 legs."; everything else is the same.
assert counts("exact") == (2, 1, 9, 12), counts("exact")
assert abs(by["exact"]["mean_a"] - 3 / 12) < 1e-12 and abs(by["exact"]["mean_b"] - 4 / 12) < 1e-12, by["exact"]
assert abs(by["exact"]["diff"] - 1 / 12) < 1e-12
assert counts("normalized") == (1, 1, 10, 12) and abs(by["normalized"]["diff"]) < 1e-12
assert counts("mentions_paris") == (0, 1, 11, 12)
assert counts("starts_upper") == (1, 1, 10, 12)
assert counts("judge") == (0, 1, 11, 12)
assert counts("judge_pair") == (0, 1, 11, 12)
assert counts("json_valid") == (1, 0, 11, 12)  # "8" is a JSON document
for name in ("numeric", "tool_call", "user_schema"):
    assert counts(name) == (0, 0, 12, 12), (name, counts(name))
reg = by["exact"]["regressed_cases"]
assert len(reg) == 1 and reg[0]["case_id"].endswith("001") and reg[0]["a"] == 1 and reg[0]["b"] == 0
assert 'differs from "Paris."' in reg[0]["explanation_b"]
# cost: (input x 1 + output x 2) / 1e6 per answered case
assert round(d["cost_usd"]["a"] * 1e6) == 196 and round(d["cost_usd"]["b"] * 1e6) == 192, d["cost_usd"]
assert d["errors"] == {"a": 2, "b": 2} and d["cases"] == {"a": 12, "b": 12}
assert d["latency_ms"]["a"]["p50"] is not None and d["latency_ms"]["b"]["p95"] is not None

# The bootstrap, re-implemented from its documentation (compare.c, docs/evals.md).
M = (1 << 64) - 1
def splitmix(state):
    state = (state + 0x9E3779B97F4A7C15) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return state, z ^ (z >> 31)
pairs = {}
for line in open(sys.argv[2]):
    scorer, case, a, b = line.rstrip("\n").split("|")
    pairs.setdefault(scorer, []).append((float(a), float(b)))
R, conf = d["resamples"], d["confidence"]
lo, hi = math.floor(R * (1 - conf) / 2), math.ceil(R * (1 + conf) / 2) - 1
for name, ab in pairs.items():
    s, n = d["seed"], len(ab)
    ma, mb, md = [], [], []
    for _ in range(R):
        sa = sb = 0.0
        for _ in range(n):
            s, x = splitmix(s)
            a, b = ab[x % n]
            sa += a
            sb += b
        ma.append(sa / n); mb.append(sb / n); md.append(sb / n - sa / n)
    for key, v in (("ci_a", ma), ("ci_b", mb), ("ci_diff", md)):
        v.sort()
        got = by[name][key]
        assert abs(got[0] - v[lo]) < 1e-12 and abs(got[1] - v[hi]) < 1e-12, (name, key, got, v[lo], v[hi])
# an identical scorer has a degenerate difference interval
assert by["tool_call"]["ci_diff"] == [0, 0]
PY

# ---- the gate ------------------------------------------------------------------
"$FW" eval compare --dsn "$DSN" base candidate --fail-if-regressed exact:0 \
    --fail-if-regressed normalized:0 >"$WORK/gate.out" || fail "gate: no regression beyond 0 failed"
grep -q "gate exact: B - A = +0.0833, allowed drop 0.0000: passed" "$WORK/gate.out" || fail "gate output"
grep -q "^regressed on exact:" "$WORK/gate.out" || fail "regressed cases not listed"
set +e
"$FW" eval compare --dsn "$DSN" base candidate --fail-if-regressed mentions_paris:0.05 >"$WORK/gate.out"
rc=$?
"$FW" eval compare --dsn "$DSN" base candidate --fail-if-regressed mentions_paris:0.1 >/dev/null
rc2=$?
"$FW" eval compare --dsn "$DSN" base candidate --fail-if-regressed nope:0 >/dev/null
rc3=$?
"$FW" eval compare --dsn "$DSN" base candidate --fail-if-regressed exact 2>/dev/null
rc4=$?
set -e
[ $rc = 3 ] || fail "gate mentions_paris:0.05 exited $rc, not 3"
grep -q "gate mentions_paris: B - A = -0.0833, allowed drop 0.0500: FAILED" "$WORK/gate.out" || fail "failed gate output"
[ $rc2 = 0 ] || fail "gate mentions_paris:0.1 exited $rc2"
[ $rc3 = 3 ] || fail "gate on an unknown scorer exited $rc3"
[ $rc4 = 2 ] || fail "malformed gate exited $rc4"

# ---- the judge against the humans ----------------------------------------------
# Reviewers mark cases 1, 2, 9 and 10 of the baseline run correct and 3-8
# wrong; the judge (score mode) passes case 1 only (score 1.0, the rest 0).
#   table: judge pass & human pass 1, judge pass & human fail 0,
#          judge fail & human pass 3, judge fail & human fail 6   (n = 10)
#   p_o = 7/10, p_e = (1*4 + 9*6)/100 = 0.58, kappa = 0.12/0.42 = 2/7
#   pearson: judge (1,0,...,0), human (1,1,0,0,0,0,0,0,1,1):
#   cov = 0.60, var_j = 0.9, var_h = 2.4 -> r = 0.6 / sqrt(2.16) = 1/sqrt(6)
psql "$DSN" -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT flywheel.review_rubric_create('judge-check', '{"fields": [
    {"name": "correct", "type": "boolean"},
    {"name": "tone", "type": "category", "values": ["good", "bad"]}]}');
SELECT flywheel.review_queue_create('{"name": "judge-check", "rubric": "judge-check", "overlap": 1}');
INSERT INTO flywheel.review_items (queue_id, event_id, event_time, overlap)
SELECT q.id, c.event_id, c.event_time, 1
FROM flywheel.eval_cases c JOIN flywheel.eval_runs r ON r.id = c.run_id AND r.name = 'base'
CROSS JOIN flywheel.review_queues q WHERE q.name = 'judge-check' AND c.status = 'ok';
DO $$
DECLARE
    j jsonb;
    n int;
BEGIN
    LOOP
        j := flywheel.review_claim('judge-check', 'alice');
        EXIT WHEN j IS NULL;
        SELECT right(c.case_id, 2)::int INTO n FROM flywheel.eval_cases c
        WHERE c.event_id = (j #>> '{generation,event_id}')::uuid;
        PERFORM flywheel.review_submit((j->>'item_id')::bigint,
            jsonb_build_object('correct', n IN (1, 2, 9, 10), 'tone', 'good'), 'alice');
    END LOOP;
END
$$;
SQL
"$FW" eval agreement --dsn "$DSN" base --scorer judge --queue judge-check --field correct --json \
    >"$WORK/agree.json" || fail "agreement"
python3 - "$WORK/agree.json" <<'PY' || fail "agreement values"
import json, math, sys
d = json.load(open(sys.argv[1]))
assert d["n"] == 10, d
k = d["cohen"]
assert k["table"] == {"judge_pass_human_pass": 1, "judge_pass_human_fail": 0,
                      "judge_fail_human_pass": 3, "judge_fail_human_fail": 6}, k
assert abs(k["observed_agreement"] - 0.7) < 1e-12
assert abs(k["kappa"] - 2 / 7) < 1e-12, k["kappa"]
assert abs(d["pearson"] - 1 / math.sqrt(6)) < 1e-12, d["pearson"]
assert abs(d["spearman"] - 1 / math.sqrt(6)) < 1e-12, d["spearman"]
PY
"$FW" eval agreement --dsn "$DSN" base --scorer judge --queue judge-check --field correct \
    | grep -q "^cohen kappa   0.2857$" || fail "agreement text output"
! "$FW" eval agreement --dsn "$DSN" base --scorer judge --queue judge-check --field tone \
    2>"$WORK/err" || fail "a category field without --positive was accepted"
grep -q "hint: Pass the category" "$WORK/err" || fail "category hint"
"$FW" eval agreement --dsn "$DSN" base --scorer judge --queue judge-check --field tone \
    --positive good --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["n"] == 10 and d["cohen"]["kappa"] == 0 and d["pearson"] is None, d' \
    || fail "constant human values: kappa 0 (p_o = p_e = 0.1), no correlation"

# ---- back into review: a pairwise queue from the two runs ----------------------
psql "$DSN" -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT flywheel.review_rubric_create('ab', '{"fields": [{"name": "pick", "type": "pairwise"}]}');
SELECT flywheel.review_queue_create('{"name": "ab", "rubric": "ab", "overlap": 1}');
SQL
"$FW" review fill ab --from-runs base,candidate --seed 7 --dsn "$DSN" | grep -qx 'queue "ab": added 10 item(s)' \
    || fail "review fill from runs"
"$FW" review fill ab --from-runs base,candidate --seed 7 --dsn "$DSN" | grep -qx 'queue "ab": added 0 item(s)' \
    || fail "review fill from runs twice"
# Every item pairs the two runs' answers to one case; sides are mixed, and
# they are the ones sha256(seed:case) decides.
[ "$(sql "SELECT count(*) FILTER (WHERE ca.case_id = cb.case_id AND ra.id <> rb.id) || ' ' ||
          (count(*) FILTER (WHERE ra.name = 'candidate') BETWEEN 1 AND 9) || ' ' ||
          bool_and((ra.name = 'candidate') = ((get_byte(sha256(convert_to('7:' || ca.case_id, 'UTF8')), 0) & 1) = 1))
          FROM flywheel.review_items i JOIN flywheel.review_queues q ON q.id = i.queue_id AND q.name = 'ab'
          JOIN flywheel.eval_cases ca ON ca.event_id = i.event_id JOIN flywheel.eval_runs ra ON ra.id = ca.run_id
          JOIN flywheel.eval_cases cb ON cb.event_id = i.event_id_b JOIN flywheel.eval_runs rb ON rb.id = cb.run_id")" \
    = "10 true true" ] || fail "pairwise items"
! "$FW" review fill judge-check --from-runs base,candidate --dsn "$DSN" 2>"$WORK/err" || fail "non-pairwise queue filled"
grep -q "has no pairwise field" "$WORK/err" || fail "non-pairwise message"
echo "ok"
