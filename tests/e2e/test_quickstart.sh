#!/usr/bin/env bash
# The README's quick start, end to end, on services of its own (its own state
# directory, so its own PostgreSQL cluster and dev broker): it must finish,
# store the demo traffic, label items, write both datasets with manifests,
# print stats, be safe to re-run, and `scripts/services down` must stop the
# collector, the broker and PostgreSQL.
set -uo pipefail
ST="$(mktemp -d /tmp/fwt_qs.XXXXXX)"
export FLYWHEEL_STATE_DIR="$ST" FLYWHEEL_BUILD_DIR="$FW_BUILD_DIR" FLYWHEEL_QUICKSTART_EVENTS=600
unset FLYWHEEL_PG_DSN FLYWHEEL_PG_ADMIN_DSN FLYWHEEL_KAFKA_BOOTSTRAP FLYWHEEL_TOPIC
cleanup() {
    "$FW_SOURCE_DIR/scripts/services" down >/dev/null 2>&1
    rm -rf "$(cat "$ST/pg.datadir" 2>/dev/null || echo /nonexistent)" "$ST"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -n 40 "$ST/qs.log" 2>/dev/null; exit 1; }

"$FW_SOURCE_DIR/scripts/quickstart" >"$ST/qs.log" 2>&1 || fail "quickstart exited $?"
grep -q "Flywheel is running" "$ST/qs.log" || fail "no closing summary"
grep -q "^traffic  *600 generations" "$ST/qs.log" || fail "stats do not show the 600 generations"
for d in finetune eval; do
    for f in train.jsonl manifest.json; do
        [ -s "$ST/exports/$d/$f" ] || fail "missing $d/$f"
    done
    python3 - "$ST/exports/$d" <<'PY' || fail "bad manifest or lines in $d"
import json, sys, hashlib, os
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
for info in m["files"]:
    data = open(os.path.join(d, info["name"]), "rb").read()
    assert hashlib.sha256(data).hexdigest() == info["sha256"], info["name"]
    assert len(data.splitlines()) == info["lines"], info["name"]
    for line in data.decode().splitlines():
        json.loads(line)
PY
done
eval "$("$FW_SOURCE_DIR/scripts/services" env)"
labels="$(psql "$FLYWHEEL_PG_DSN" -qAtc "SELECT count(*) FROM flywheel.review_labels")"
[ "$labels" -gt 0 ] || fail "no labels recorded"
# The eval step: two finished runs, a comparison with regressed cases and a failed gate.
[ "$(psql "$FLYWHEEL_PG_DSN" -qAtc "SELECT count(*) FROM flywheel.eval_runs WHERE status = 'finished'")" = 2 ] \
    || fail "the quick start did not finish two eval runs"
grep -q "^gate normalized: .*FAILED" "$ST/qs.log" || fail "no failed release gate in the quick start"
grep -q "^regressed on normalized:" "$ST/qs.log" || fail "no regressed cases in the quick start"

# Re-running is safe: it adds traffic and new dataset versions, nothing fails.
"$FW_SOURCE_DIR/scripts/quickstart" >"$ST/qs.log" 2>&1 || fail "second run exited $?"
[ "$(psql "$FLYWHEEL_PG_DSN" -qAtc "SELECT count(*) FROM flywheel.generations WHERE environment <> 'eval'")" = 1200 ] \
    || fail "second run did not store exactly 600 more generations"
[ "$(psql "$FLYWHEEL_PG_DSN" -qAtc "SELECT count(*) FROM flywheel.dead_letters")" = 0 ] \
    || fail "dead letters in the quick start"

pid="$(cat "$ST/collector.pid")"
"$FW_SOURCE_DIR/scripts/services" down >/dev/null 2>&1 || fail "services down"
kill -0 "$pid" 2>/dev/null && fail "collector still running after services down"
"$FW_SOURCE_DIR/scripts/services" status | grep -q "postgresql: stopped" || fail "PostgreSQL still running"
echo "ok"
