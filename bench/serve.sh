#!/usr/bin/env bash
# scripts/bench serve — requests/s and latency of `flywheel serve` for the
# item page and for "submit and next", with SERVE_BENCH_ITEMS (default 1M)
# pending items, against the same SQL calls made directly in the same run.
#
# Setup (a fresh database and roles, dropped at the end): the generations
# made with generate_series, the review benchmark's rubric and queue filled by
# flywheel.review_fill, a login in flywheel_web for the server,
# SERVE_BENCH_CLIENTS (default 8) reviewer accounts made with
# `flywheel reviewer add` and signed in over HTTP, and `flywheel serve` with
# its rate limits raised (a benchmark posts faster than people). Then, each
# for SERVE_BENCH_SECONDS (default 10), one client per account in closed
# loops (bench/serve_load.c):
#   healthz     GET /healthz: the HTTP floor, no session, no SQL
#   sql-item    flywheel.web_item() as the reviewer's role over libpq
#   item        GET the item page: session lookup, SET ROLE, web_item, HTML
#   sql-submit  web_item + review_submit + review_claim as the reviewer
#   submit      POST submit-and-next: the same calls plus the session, the
#               version check, the audit row and the redirect
# The last line of stdout is one JSON object with the figures.
set -euo pipefail
: "${FW_BUILD_DIR:?run through scripts/bench serve}"
: "${FLYWHEEL_PG_ADMIN_DSN:?run through scripts/bench serve}"
ITEMS="${SERVE_BENCH_ITEMS:-1000000}"
SECS="${SERVE_BENCH_SECONDS:-10}"
N="${SERVE_BENCH_CLIENTS:-8}"
FW="$FW_BUILD_DIR/cli/flywheel"
LOAD="$FW_BUILD_DIR/bench/flywheel-bench-serve"
DB="fw_bench_serve_$$"
DSN="$FLYWHEEL_PG_ADMIN_DSN dbname=$DB"
WEB="fwb_web_$$"
WORK="$(mktemp -d)"
SERVE_PID=
accounts=()
cleanup() {
    [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
    psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    for a in "$WEB" "${accounts[@]}"; do
        psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "DROP ROLE IF EXISTS \"$a\"" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "serve bench: $*" >&2; }

psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "CREATE DATABASE \"$DB\"" >/dev/null
"$FW" migrate -q --dsn "$DSN"
log "inserting $ITEMS generations and filling the queue"
psql "$DSN" -qAt -v ON_ERROR_STOP=1 -v n="$ITEMS" >/dev/null <<'SQL'
SELECT flywheel.maintain_partitions(1, 13);
-- UUIDv7 ids carrying the event time, as a producer makes them (the row's
-- partition is the id's day, V0038).
INSERT INTO flywheel.generations (event_id, event_time, schema_version, environment,
    request_model, trace_id, status, input_messages, output_messages, id_time)
SELECT x.id, x.t, 1, 'prod', 'model-a',
       md5('t' || i), CASE WHEN i % 20 = 0 THEN 'error' ELSE 'ok' END,
       jsonb_build_array(jsonb_build_object('role', 'user', 'parts',
           jsonb_build_array(jsonb_build_object('type', 'text', 'content', 'Question number ' || i)))),
       jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts',
           jsonb_build_array(jsonb_build_object('type', 'text', 'content',
               'An answer of moderate length to question ' || i || '. It has two sentences.')))),
       flywheel.event_id_time(x.id)
FROM generate_series(1, :n) i,
     LATERAL (SELECT t, (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(m, 1, 3) || '-8'
                         || substr(m, 4, 3) || '-' || substr(m, 7, 12))::uuid AS id
              FROM (SELECT now() - (i % 1000000) * interval '1 second' AS t) a,
                   LATERAL (SELECT lpad(to_hex(floor(extract(epoch FROM a.t) * 1000)::bigint), 12, '0') AS h,
                                   md5('b' || i) AS m) b) x;
ANALYZE flywheel.generations;
SELECT flywheel.review_rubric_create('bench', '{"fields": [
    {"name": "ok", "type": "boolean", "required": true},
    {"name": "score", "type": "number", "min": 1, "max": 5, "step": 1},
    {"name": "errors", "type": "span", "categories": ["factual error", "style"]}]}');
SELECT flywheel.review_queue_create('{"name": "bench", "rubric": "bench", "overlap": 1,
    "rules": {"environments": ["prod"]},
    "priority": [{"term": "error", "weight": 10}, {"term": "recency", "weight": 1, "half_life": "1 day"}]}');
SELECT flywheel.review_fill('bench');
VACUUM ANALYZE flywheel.review_items;
SQL
pending="$(psql "$DSN" -qAtc "SELECT count(*) FROM flywheel.review_items WHERE status = 'pending'")"
[ "$pending" = "$ITEMS" ] || { log "the queue has $pending pending items, expected $ITEMS"; exit 1; }

psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "CREATE ROLE \"$WEB\" LOGIN IN ROLE flywheel_web" >/dev/null
: >"$WORK/tokens"
for i in $(seq -w 1 "$N"); do
    a="fwb${$}_r$i"
    accounts+=("$a")
    "$FW" reviewer add "$a" --dsn "$DSN" --url http://x 2>>"$WORK/add.log" | sed -n 's/.*signin?t=//p' >>"$WORK/tokens"
    echo "$a" >>"$WORK/accounts"
done
"$FW" serve --listen 127.0.0.1:0 --dsn "$DSN user=$WEB" --set serve.pg_pool_size="$((N + 2))" \
    --set rate.posts_per_minute=100000 --set rate.signin_per_minute=100000 \
    --set log.level=info >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
port=
for _ in $(seq 1 100); do
    port="$(sed -n 's/.*msg=serving .*port=\([0-9]*\).*/\1/p' "$WORK/serve.log" | head -n1)"
    [ -n "$port" ] && break
    kill -0 "$SERVE_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { log "flywheel serve did not start"; cat "$WORK/serve.log" >&2; exit 1; }
python3 - "$port" "$WORK/tokens" >"$WORK/sessions" <<'PY'
import http.client, re, sys
port = int(sys.argv[1])
for tok in open(sys.argv[2]).read().split():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/signin", body="token=" + tok, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"})
    r = c.getresponse(); r.read()
    assert r.status == 303, r.status
    cookie = r.getheader("Set-Cookie").split(";")[0]
    c.request("GET", "/queues", headers={"Cookie": cookie})
    body = c.getresponse().read().decode()
    print(cookie, re.search(r'name="csrf" value="([^"]+)"', body).group(1))
PY

run() { # run MODE
    if [ "${1#sql-}" != "$1" ]; then
        "$LOAD" --mode "$1" --queue bench --seconds "$SECS" --dsn "$DSN user=$WEB" \
            --accounts "$WORK/accounts" | tail -n1
    else
        "$LOAD" --mode "$1" --queue bench --seconds "$SECS" --port "$port" \
            --sessions "$WORK/sessions" | tail -n1
    fi
}
res=()
for m in healthz sql-item item sql-submit submit; do
    log "$m, $N clients, ${SECS}s"
    out="$(run "$m")"
    echo "$out" >&2
    res+=("$out")
done
kill -0 "$SERVE_PID" 2>/dev/null || { log "flywheel serve died"; cat "$WORK/serve.log" >&2; exit 1; }
left="$(psql "$DSN" -qAtc "SELECT count(*) FROM flywheel.review_items WHERE status = 'pending'")"
python3 - "$ITEMS" "$left" "${res[@]}" <<'PY'
import json, sys
items, left = int(sys.argv[1]), int(sys.argv[2])
r = {x["mode"]: x for x in (json.loads(a) for a in sys.argv[3:])}
out = {"pending_items": items, "pending_items_at_end": left, "clients": r["item"]["clients"]}
for m in ("healthz", "sql-item", "item", "sql-submit", "submit"):
    k = m.replace("-", "_")
    out[f"{k}_per_s"] = r[m]["per_s"]
    out[f"{k}_p50_ms"] = r[m]["p50_ms"]
    out[f"{k}_p99_ms"] = r[m]["p99_ms"]
for page, sql in (("item", "sql-item"), ("submit", "sql-submit")):
    out[f"{page}_ratio_p50"] = round(r[page]["p50_ms"] / r[sql]["p50_ms"], 2)
    out[f"{page}_ratio_p99"] = round(r[page]["p99_ms"] / r[sql]["p99_ms"], 2)
    out[f"{page}_throughput_ratio"] = round(r[page]["per_s"] / r[sql]["per_s"], 2)
print(json.dumps(out))
PY
