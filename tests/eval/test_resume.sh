#!/usr/bin/env bash
# A run killed with -9 resumes without calling the endpoint again for a
# finished case, and every case is answered exactly once in total.
#
# The fake server answers 5 calls and then holds every further request; the
# runner (concurrency 3) stores the 5 answers and is killed while 3 requests
# are held. The server then abandons the held requests unanswered (their
# client is gone) and `eval run --resume` finishes the run: each case was
# answered by the endpoint once, the 5 stored cases were never sent again,
# the held ones were sent again (their answers never existed). Also checked:
# the API key is not in the runner's process title, and --rate is observed
# on the server's clock.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup_db
echo '{"hang_after": 5}' >"$WORK/hang.json"
start_fake H "$WORK/hang.json"
KEY=sk-test-$RANDOM-SECRET

FLYWHEEL_EVAL_API_KEY=$KEY "$FW" eval run --dsn "$DSN" --dataset qa --version 1 \
    --endpoint "$FAKE_H/v1" --model m --name killed --concurrency 3 --scorer exact \
    >"$WORK/run1.out" 2>"$WORK/run1.err" &
RUNNER_PID=$!
deadline=$((SECONDS + 90))
until [ "$(sql "SELECT count(*) FROM flywheel.eval_cases")" = 5 ] &&
      python3 -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if sum(s["calls"].values()) == 8 else 1)' \
          "$(fake_stats "$FAKE_H")"; do
    [ $SECONDS -lt $deadline ] || fail "runner did not reach 5 stored cases and 3 held calls"
    kill -0 "$RUNNER_PID" 2>/dev/null || fail "runner exited early: $(cat "$WORK/run1.err")"
    sleep 0.05
done
! tr '\0' ' ' <"/proc/$RUNNER_PID/cmdline" | grep -q SECRET || fail "API key in the process title"
kill -9 "$RUNNER_PID"
wait "$RUNNER_PID" 2>/dev/null || true
RUNNER_PID=
[ "$(sql "SELECT status FROM flywheel.eval_runs WHERE name = 'killed'")" = running ] || fail "run state"
python3 -c 'import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/release", data=b"{}"))' "$FAKE_H"

FLYWHEEL_EVAL_API_KEY=$KEY "$FW" eval run --dsn "$DSN" --resume --name killed \
    >"$WORK/run2.out" 2>"$WORK/run2.err" || { cat "$WORK/run2.err" >&2; fail "resume failed"; }
grep -q "12 cases (5 stored before)" "$WORK/run2.err" || fail "resume summary: $(cat "$WORK/run2.err")"
fake_stats "$FAKE_H" >"$WORK/stats.json"
python3 - "$WORK/stats.json" <<'PY' || fail "exactly once in total"
import json, sys
s = json.load(open(sys.argv[1]))
answered, calls = s["answered"], s["calls"]
assert len(answered) == 12, answered
assert all(n == 1 for n in answered.values()), answered          # answered once each
assert sum(calls.values()) == 15, calls                           # 12 + the 3 held (abandoned)
assert sorted(calls.values()) == [1] * 9 + [2] * 3, calls
PY
[ "$(sql "SELECT count(*) || ' ' || count(DISTINCT event_id) FROM flywheel.eval_cases")" = "12 12" ] \
    || fail "cases after resume"
[ "$(sql "SELECT count(*) FROM flywheel.generations WHERE environment = 'eval'")" = 12 ] \
    || fail "generations after resume"
[ "$(sql "SELECT status FROM flywheel.eval_runs WHERE name = 'killed'")" = finished ] || fail "not finished"
! grep -q SECRET "$WORK"/run*.out "$WORK"/run*.err || fail "API key printed"

# A resumed run keeps its recorded parameters: a different model is refused.
psql "$DSN" -qc "UPDATE flywheel.eval_runs SET status = 'running' WHERE name = 'killed'"
! "$FW" eval run --dsn "$DSN" --resume --name killed --model other 2>"$WORK/err" || fail "model change accepted"
grep -q "model given differs" "$WORK/err" || fail "model change message"

# ---- rate limit: 12 calls at 4/s span at least 11/4 s on the server's clock ----
echo '{}' >"$WORK/plain.json"
start_fake P "$WORK/plain.json"
"$FW" eval run --dsn "$DSN" --dataset qa --version 1 --endpoint "$FAKE_P/v1" --model m \
    --name rated --concurrency 8 --rate 4/s --scorer exact -q >/dev/null 2>"$WORK/rate.err" \
    || { cat "$WORK/rate.err" >&2; fail "rated run"; }
fake_stats "$FAKE_P" >"$WORK/rate.json"
python3 - "$WORK/rate.json" <<'PY' || fail "rate limit not observed"
import json, sys
t = sorted(x for v in json.load(open(sys.argv[1]))["times"].values() for x in v)
assert len(t) == 12, t
assert t[-1] - t[0] >= 11 / 4 - 0.05, t[-1] - t[0]
# never more than 4 starts (+1 at a window edge) in any one-second window
assert max(sum(1 for y in t if x <= y < x + 1) for x in t) <= 5
PY
echo "ok"
