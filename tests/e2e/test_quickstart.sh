#!/usr/bin/env bash
# The README's quick start, end to end, on services of its own (its own state
# directory, so its own PostgreSQL cluster and dev broker): it must finish,
# store the demo traffic, label items, write both datasets with manifests,
# print stats and a summary line that reads right, write Grafana settings
# that name every variable the provisioning files use, and be safe to re-run.
# Then, on its data:
#  - docs/review.md's admin examples run as written and fill their queue
#    (issue 11 item 16; the blocks are read from the markdown);
#  - a re-run after PostgreSQL had to move to another port (its recorded
#    port taken while it was down) replaces the collector that sits paused
#    against the old address, and stores everything although the agent's
#    queue is small (the demo paces itself; items 13 and 15);
#  - a re-run whose agent drops events says where they went (item 15);
#  - `scripts/services down` stops the collector, the broker and PostgreSQL.
set -uo pipefail
ST="$(mktemp -d /tmp/fwt_qs.XXXXXX)"
export FLYWHEEL_STATE_DIR="$ST" FLYWHEEL_BUILD_DIR="$FW_BUILD_DIR" FLYWHEEL_QUICKSTART_EVENTS=600
export FLYWHEEL_QUICKSTART_LABELS=15 # the labelling loop is the slow step on a loaded machine
unset FLYWHEEL_PG_DSN FLYWHEEL_PG_ADMIN_DSN FLYWHEEL_KAFKA_BOOTSTRAP FLYWHEEL_TOPIC
holder=
# The logs of every run are kept as test artifacts (each step line carries
# its start time in seconds).
ART="$FW_BUILD_DIR/test-artifacts/e2e_quickstart"
rm -rf "$ART" && mkdir -p "$ART"
cleanup() {
    cp "$ST"/qs*.log "$ART/" 2>/dev/null
    [ -n "$holder" ] && kill "$holder" 2>/dev/null
    "$FW_SOURCE_DIR/scripts/services" down >/dev/null 2>&1
    rm -rf "$(cat "$ST/pg.datadir" 2>/dev/null || echo /nonexistent)" "$ST"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    tail -n 40 "$ST/qs.log" 2>/dev/null
    echo "-- step start times (seconds into each run):"
    grep -H '^==> ' "$ST"/qs*.log 2>/dev/null
    exit 1
}
sql() { psql "$FLYWHEEL_PG_DSN" -qAtc "$1"; }

"$FW_SOURCE_DIR/scripts/quickstart" >"$ST/qs.log" 2>&1 || fail "quickstart exited $?"
cp "$ST/qs.log" "$ST/qs1.log"
grep -q "Flywheel is running" "$ST/qs.log" || fail "no closing summary"
# 600 from the demo and 3 OTLP spans through the gateway (eval runs come after the stats).
grep -q "^traffic  *603 generations" "$ST/qs.log" || fail "stats do not show the 603 generations"
grep -qE '^flywheel export: dataset "quickstart-finetune" version 1, [0-9]+ members, lines' \
    "$ST/qs.log" || fail "the export summary line does not read 'version 1, N members'"
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
        o = json.loads(line)
        # Issue 11 item 2: in the fine-tuning set only the reviewed output
        # is a training target; earlier assistant turns carry weight 0.
        if m["format"] == "openai-chat":
            asst = [x for x in o["messages"] if x["role"] == "assistant"]
            assert asst and asst[-1].get("weight") == 1, line
            assert all(x.get("weight") == 0 for x in asst[:-1]), line
PY
done
eval "$("$FW_SOURCE_DIR/scripts/services" env)"
labels="$(sql "SELECT count(*) FROM flywheel.review_labels")"
[ "$labels" -gt 0 ] || fail "no labels recorded"
# The eval step: two finished runs, a comparison with regressed cases and a failed gate.
[ "$(psql "$FLYWHEEL_PG_DSN" -qAtc "SELECT count(*) FROM flywheel.eval_runs WHERE status = 'finished'")" = 2 ] \
    || fail "the quick start did not finish two eval runs"
grep -q "^gate normalized: .*FAILED" "$ST/qs.log" || fail "no failed release gate in the quick start"
grep -q "^regressed on normalized:" "$ST/qs.log" || fail "no regressed cases in the quick start"

# The review page: the printed one-time link signs the demo reviewer in, and
# the queue is there to label.
check_signin() {
    local link
    link="$(grep -o 'http://127.0.0.1:[0-9]*/signin?t=[A-Za-z0-9_-]*' "$ST/qs.log" | tail -n 1)"
    [ -n "$link" ] || fail "no sign-in link printed"
    python3 - "$link" <<'PY' || fail "the printed sign-in link does not sign in"
import http.client, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
tok = urllib.parse.parse_qs(u.query)["t"][0]
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
c.request("POST", "/signin", body="token=" + tok, headers={
    "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"})
r = c.getresponse(); r.read()
assert r.status == 303 and r.getheader("Location") == "/queues", r.status
cookie = r.getheader("Set-Cookie").split(";")[0]
c.request("GET", "/queues", headers={"Cookie": cookie})
r = c.getresponse(); body = r.read().decode()
assert r.status == 200 and "support-quality" in body, r.status
PY
}
# The review page, first time: a new user follows the closing message in
# Chromium (the printed link, then only what the pages show) and labels an
# item; the label row is checked in PostgreSQL and the actions are counted
# (tests/serve/browser/newuser.test.mjs; screenshots and newuser-steps.txt
# among the artifacts). It uses the printed link; check_signin is for the
# re-run below.
SERVE_NODE_MODULES="$FW_BUILD_DIR/serve-node/node_modules"
[ -d "$SERVE_NODE_MODULES/playwright-core" ] ||
    fail "playwright-core is not installed in $SERVE_NODE_MODULES: run scripts/test"
FWT_QS_LOG="$ST/qs.log" FWT_DSN="$FLYWHEEL_PG_DSN" FWT_NODE_MODULES="$SERVE_NODE_MODULES" \
    FWT_CHROMIUM="${FWT_CHROMIUM:-/usr/bin/chromium}" FWT_SHOTS="$ART" \
    node --test "$FW_SOURCE_DIR/tests/serve/browser/newuser.test.mjs" >"$ART/newuser.log" 2>&1 ||
    { cat "$ART/newuser.log"; fail "a new user could not label an item with what the quick start printed"; }

# The dashboards: the dashboard URL is printed, and the first sign-in link
# (the demo admin's) opens the Overview and the Flywheel page with charts.
check_dash() {
    local link
    grep -q 'dashboards .*http://127.0.0.1:[0-9]*/dash' "$ST/qs.log" || fail "no dashboard URL printed"
    link="$(grep -o 'http://127.0.0.1:[0-9]*/signin?t=[A-Za-z0-9_-]*' "$ST/qs.log" | tail -n 2 | head -n 1)"
    [ -n "$link" ] || fail "no admin sign-in link printed"
    python3 - "$link" <<'PY' || fail "the demo admin does not see the dashboards"
import http.client, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
tok = urllib.parse.parse_qs(u.query)["t"][0]
c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
c.request("POST", "/signin", body="token=" + tok, headers={
    "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"})
r = c.getresponse(); r.read()
assert r.status == 303, r.status
cookie = r.getheader("Set-Cookie").split(";")[0]
c.request("GET", "/dash", headers={"Cookie": cookie})
r = c.getresponse(); body = r.read().decode()
assert r.status == 200 and 'aria-labelledby="traffic-t"' in body, r.status
assert '<dd id="tile-generations">0</dd>' not in body, "the overview shows no demo traffic"
c.request("GET", "/dash/flywheel", headers={"Cookie": cookie})
r = c.getresponse(); body = r.read().decode()
assert r.status == 200 and "support-quality" in body, r.status
PY
}
check_dash

# Grafana: the settings file gives every variable the provisioning files
# expand, its credentials log in and read a view, and the printed commands
# are the Debian and Docker ones with the right version.
python3 - "$FW_SOURCE_DIR/dashboards/grafana/provisioning" "$ST/grafana.env" <<'PY' || fail "grafana.env"
import glob, os, re, sys
prov, env = sys.argv[1], sys.argv[2]
used = set()
for f in glob.glob(os.path.join(prov, "*", "*.yaml")):
    text = "\n".join(l for l in open(f).read().splitlines() if not l.lstrip().startswith("#"))
    used |= set(re.findall(r"\$\{(\w+)\}", text))
given = dict(l.split("=", 1) for l in open(env).read().splitlines() if l and not l.startswith("#"))
missing = used - set(given)
assert used and not missing, f"grafana.env lacks {sorted(missing)}"
assert all(given[k] for k in used), "empty value"
PY
gvar() { sed -n "s/^$1=//p" "$ST/grafana.env"; }
ghost="$(gvar FLYWHEEL_GRAFANA_PG_HOST)"
PGPASSWORD="$(gvar FLYWHEEL_GRAFANA_PG_PASSWORD)" psql \
    "host=${ghost%:*} port=${ghost#*:} dbname=$(gvar FLYWHEEL_GRAFANA_PG_DATABASE) user=$(gvar FLYWHEEL_GRAFANA_PG_USER)" \
    -qAtc "SELECT count(*) >= 0 FROM flywheel.feedback_events" >/dev/null ||
    fail "the Grafana login in grafana.env cannot read the views"
grep -q "10.2.3 or later" "$ST/qs.log" || fail "Grafana version"
grep -q "sudo tee -a /etc/default/grafana-server < $ST/grafana.env" "$ST/qs.log" || fail "Debian Grafana command"
grep -q "docker run .*--env-file $ST/grafana.env" "$ST/qs.log" || fail "Docker Grafana command"

# docs/review.md's admin examples, as written, on this data.
mkdir -p "$ST/docs" && cd "$ST/docs" || fail "docs dir"
export PATH="$FW_BUILD_DIR/cli:$PATH"
run_doc() {
    python3 "$FW_SOURCE_DIR/tests/e2e/doc_blocks.py" "$FW_SOURCE_DIR/docs/review.md" "$1" \
        >"$ST/docs/$1.sh" || fail "docs/review.md has no block '$1'"
    bash -e "$ST/docs/$1.sh" >"$ST/docs/$1.log" 2>&1 ||
        { cat "$ST/docs/$1.log"; fail "docs/review.md block '$1' failed"; }
}
run_doc review-admin-morning
qid="$(sql "SELECT id FROM flywheel.review_queues WHERE name = 'support-thumbs-down'")"
items="$(sql "SELECT count(*) FROM flywheel.review_items WHERE queue_id = $qid AND NOT is_gold")"
[ "$items" -gt 0 ] || fail "the docs' example queue filled 0 items on the quick start's data"
[ "$(sql "SELECT count(*) FROM flywheel.review_items WHERE queue_id = $qid AND is_gold")" = 1 ] ||
    fail "the docs' gold item was not added"
# Three reviewers disagree, so that the afternoon has a dispute to settle.
for _ in 1 2 3 4 5; do
    for who in alice bob carol; do
        flywheel review claim --queue support-thumbs-down --as "$who" --json >"$ST/docs/claim.json" || break
        id="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["item_id"])' <"$ST/docs/claim.json")"
        [ "$who" = carol ] && v=false || v=true
        echo "{\"correct\": $v, \"helpful\": 3}" |
            flywheel review submit --item "$id" --as "$who" --json - >/dev/null || fail "submit as $who"
    done
    [ "$(sql "SELECT count(*) FROM flywheel.review_results WHERE queue = 'support-thumbs-down' AND status = 'disputed'")" -gt 0 ] && break
done
run_doc review-admin-afternoon
[ "$(sql "SELECT count(*) FROM flywheel.review_items WHERE queue_id = $qid AND status = 'adjudicated'")" = 1 ] ||
    fail "the docs' adjudication did not settle a dispute"
[ "$(sql "SELECT paused FROM flywheel.review_queues WHERE id = $qid")" = t ] || fail "queue not paused"
cd "$ST" || fail "cd"

# PostgreSQL stops, and another program takes its port meanwhile: the next
# run moves PostgreSQL to a new port, and the collector, still running with
# the old address and paused, is replaced. A small agent queue makes the
# demo pace itself: nothing is dropped.
port1="$(cat "$ST/pg.port")"
collector1="$(cat "$ST/collector.pid")"
gateway1="$(cat "$ST/gateway.pid")"
serve1="$(cat "$ST/serve.pid")"
runuser_pg() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
runuser_pg "$FLYWHEEL_PG_BINDIR/pg_ctl" -D "$(cat "$ST/pg.datadir")" -m fast -w stop >/dev/null ||
    fail "could not stop PostgreSQL"
python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port1)); s.listen(8); time.sleep(600)" &
holder=$!
for _ in $(seq 1 50); do ss -ltn | grep "127.0.0.1:$port1 " >/dev/null && break; sleep 0.1; done
FLYWHEEL_QUICKSTART_LABELS=2 FLYWHEEL_QUEUE_MAX_BYTES=2000000 "$FW_SOURCE_DIR/scripts/quickstart" >"$ST/qs.log" 2>&1 ||
    fail "second run exited $?"
cp "$ST/qs.log" "$ST/qs2.log"
grep -q "port $port1 .* in use by another program" "$ST/qs.log" || fail "no warning about the moved port"
grep -q "restarting the collector (pid $collector1)" "$ST/qs.log" ||
    fail "the run did not notice the collector paused against the old address"
kill -0 "$collector1" 2>/dev/null && fail "the stale collector still runs"
grep -q "restarting the gateway (pid $gateway1)" "$ST/qs.log" ||
    fail "the run did not replace the gateway that checks keys at the old address"
grep -q "restarting flywheel serve (pid $serve1)" "$ST/qs.log" ||
    fail "the run did not replace the review server that reads the old address"
kill -0 "$serve1" 2>/dev/null && fail "the stale review server still runs"
check_signin
check_dash
eval "$("$FW_SOURCE_DIR/scripts/services" env)"
[ "$(cat "$ST/pg.port")" != "$port1" ] || fail "PostgreSQL did not move"
grep -q "dropped 0" "$ST/qs.log" || fail "the demo dropped events with a 2 MB agent queue"
[ "$(sql "SELECT count(*) FROM flywheel.generations WHERE environment <> 'eval' AND project IS DISTINCT FROM 'quickstart-otlp'")" = 1200 ] ||
    fail "second run did not store exactly 600 more generations"
[ "$(sql "SELECT count(*) FROM flywheel.dead_letters")" = 0 ] || fail "dead letters in the quick start"

# An agent that drops (a queue too small for one event): the run fails and
# says the events never left the application, with the drop counters.
FLYWHEEL_QUICKSTART_EVENTS=50 FLYWHEEL_QUEUE_MAX_BYTES=4096 "$FW_SOURCE_DIR/scripts/quickstart" \
    >"$ST/qs3.log" 2>&1 && fail "a run whose agent dropped every event succeeded"
grep -q "the agent dropped events before they reached Kafka: demo_traffic: dropped by the agent: dropped_queue_full=" \
    "$ST/qs3.log" || { cat "$ST/qs3.log"; fail "the shortfall message does not name the agent's drops"; }

pid="$(cat "$ST/collector.pid")"
spid="$(cat "$ST/serve.pid")"
"$FW_SOURCE_DIR/scripts/services" down >/dev/null 2>&1 || fail "services down"
kill -0 "$pid" 2>/dev/null && fail "collector still running after services down"
kill -0 "$spid" 2>/dev/null && fail "flywheel serve still running after services down"
# (not `status | grep -q`: with pipefail, grep's early exit can fail the pipe)
st="$("$FW_SOURCE_DIR/scripts/services" status)"
grep -q "postgresql: stopped" <<<"$st" || fail "PostgreSQL still running: $st"
echo "ok"
