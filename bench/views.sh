#!/usr/bin/env bash
# bench/views.sh — how fast the dashboard views answer on a large store.
#
#   scripts/bench views            # N = $FW_VIEWS_N generations (default 2,000,000)
#   FW_VIEWS_N=1000000 scripts/bench views       # the recorded 1M run (~6 minutes)
#   FW_VIEWS_N=10000000 scripts/bench views      # 10M: a separate, opt-in run (seeding
#                                                # alone takes ~25 minutes on 2 cores)
#   FW_VIEWS_PAGES=0 scripts/bench views         # the SQL only, no pages
#
# Seeds a fresh database with N generations spread over 30 days (one daily
# partition each, ~18 % with feedback; tests/dashboards/seed.sql), then times
# real dashboard queries as Grafana sends them (macros expanded, 24-hour and
# 7-day windows) and `flywheel stats --since 24h`. Each figure is the median
# of 3 runs of the server-side planning + execution time (EXPLAIN ANALYZE,
# TIMING OFF), after one warm-up run.
#
# Baseline, measured in the same run on the same data: the design the views
# avoid, an hourly rollup view (GROUP BY date_trunc('hour', event_time))
# filtered on its hour column. The filter cannot reach the partitioned
# table, so PostgreSQL aggregates every partition before filtering. The
# ratio `speedup_vs_rollup_view` compares it with the same panel
# (generations per model over 24 hours) through flywheel.generation_facts.
#
# Then the pages of `flywheel serve` (bench/views_pages.py): each dashboard
# page's wall time against the server-side time of the SQL statements that
# same request ran (read from PostgreSQL's log of the server's one pooled
# connection), median of 3 after a warm-up; `pages` in the JSON, with
# ratio = page / SQL per page (null for a page this build does not have).
#
# Prints one JSON object as the last line of stdout.
set -euo pipefail
: "${FLYWHEEL_PG_ADMIN_DSN:?run through scripts/bench views}"
: "${FW_BUILD_DIR:?run through scripts/bench views}"
: "${FW_SOURCE_DIR:?run through scripts/bench views}"
N="${FW_VIEWS_N:-2000000}"
DAYS="${FW_VIEWS_DAYS:-30}"
DB="fwbench_views_$$"
DSN="$FLYWHEEL_PG_ADMIN_DSN dbname=$DB"
WEB_ROLE="fwbench_views_web_$$"
ADMIN_ROLE="fwbench_views_admin_$$"
PAGES_JSON=""
FW="$FW_BUILD_DIR/cli/flywheel"

say() { printf 'views: %s\n' "$*" >&2; }
cleanup() {
    [ -n "$PAGES_JSON" ] && rm -f "$PAGES_JSON"
    if [ -z "${FW_VIEWS_KEEP:-}" ]; then
        psql "$FLYWHEEL_PG_ADMIN_DSN" -XAqtc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
        psql "$FLYWHEEL_PG_ADMIN_DSN" -XAqc "DROP ROLE IF EXISTS \"$ADMIN_ROLE\"" \
            -c "DROP ROLE IF EXISTS \"$WEB_ROLE\"" >/dev/null 2>&1 || true
    else
        say "keeping database $DB"
    fi
}
trap cleanup EXIT

psql "$FLYWHEEL_PG_ADMIN_DSN" -XAqtc "CREATE DATABASE \"$DB\"" >/dev/null
"$FW" migrate -q --dsn "$DSN"
say "seeding $N generations over $DAYS days"
t0=$(date +%s.%N)
psql "$DSN" -X -q -o /dev/null -v ON_ERROR_STOP=1 -v n="$N" -v days="$DAYS" -v project=demo \
    -f "$FW_SOURCE_DIR/tests/dashboards/seed.sql"
psql "$DSN" -X -q -c "VACUUM ANALYZE" >/dev/null
t1=$(date +%s.%N)
seed_s=$(python3 -c "print(round($t1 - $t0, 1))")
say "seeded in ${seed_s}s"

# The rejected design, for the baseline.
psql "$DSN" -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE VIEW flywheel.bench_hourly_rollup AS
SELECT date_trunc('hour', event_time) AS hour,
       COALESCE(NULLIF(response_model, ''), NULLIF(request_model, ''), 'unknown') AS model,
       count(*) AS generations
FROM flywheel.generations
GROUP BY 1, 2;
SQL

read -r FROM24 FROM7 TO < <(psql "$DSN" -XAt -F ' ' -c \
    "SELECT to_char((now() - interval '24 hours') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
            to_char((now() - interval '7 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
            to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
F24="event_time BETWEEN '$FROM24' AND '$TO'"
F7="event_time BETWEEN '$FROM7' AND '$TO'"
ALL="('__all' IN ('__all') OR project IN ('__all'))"

# Median of 3 (after a warm-up) of planning + execution time in ms.
qtime() {
    local sql="$1" i out times=()
    psql "$DSN" -XAtq -c "$sql" >/dev/null
    for i in 1 2 3; do
        out="$(psql "$DSN" -XAtq -c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $sql")"
        times+=("$(python3 -c 'import json,sys; p=json.loads(sys.stdin.read())[0]; print(round(p["Planning Time"] + p["Execution Time"], 1))' <<<"$out")")
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}

by_model_24h=$(qtime "SELECT floor(extract(epoch from event_time)/300)*300 AS \"time\", model AS metric, count(*) AS generations
  FROM flywheel.generation_facts WHERE $F24 AND $ALL GROUP BY 1, 2 ORDER BY 1")
rollup_24h=$(qtime "SELECT hour AS \"time\", model AS metric, sum(generations) AS generations
  FROM flywheel.bench_hourly_rollup WHERE hour BETWEEN '$FROM24' AND '$TO' GROUP BY 1, 2 ORDER BY 1")
latency_by_model_24h=$(qtime "SELECT model, count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms), percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms), percentile_cont(0.5) WITHIN GROUP (ORDER BY ttft_ms),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY output_tokens_per_s)
  FROM flywheel.generation_facts WHERE $F24 AND $ALL GROUP BY model")
latency_7d=$(qtime "SELECT floor(extract(epoch from event_time)/1800)*1800 AS \"time\",
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99
  FROM flywheel.generation_facts WHERE $F7 AND $ALL GROUP BY 1 ORDER BY 1")
feedback_rate_24h=$(qtime "SELECT avg(has_feedback::int) FROM flywheel.generation_facts WHERE $F24")
thumbs_by_model_24h=$(qtime "SELECT model, avg(thumbs_up) FROM flywheel.feedback_facts WHERE $F24 GROUP BY model")
cost_by_user_24h=$(qtime "SELECT coalesce(user_id, '(none)'), count(*), sum(cost_usd) FROM flywheel.generation_facts
  WHERE $F24 GROUP BY 1 ORDER BY 3 DESC LIMIT 20")

# flywheel stats --since 24h, wall clock, median of 3.
stimes=()
"$FW" stats --dsn "$DSN" --since 24h >/dev/null
for i in 1 2 3; do
    s=$(date +%s%N)
    "$FW" stats --dsn "$DSN" --since 24h >/dev/null
    e=$(date +%s%N)
    stimes+=("$(( (e - s) / 1000000 ))")
done
stats_24h=$(printf '%s\n' "${stimes[@]}" | sort -n | sed -n 2p)

rows_24h=$(psql "$DSN" -XAtc "SELECT count(*) FROM flywheel.generations WHERE $F24")
say "24h window holds $rows_24h generations"

PAGES_JSON="$(mktemp)"
echo null >"$PAGES_JSON"
if [ "${FW_VIEWS_PAGES:-1}" != 0 ]; then
    say "timing the dashboard pages of flywheel serve"
    : "${FLYWHEEL_PG_DATADIR:?run through scripts/bench views}"
    DSN="$DSN" WEB_ROLE="$WEB_ROLE" ADMIN_ROLE="$ADMIN_ROLE" \
        python3 "$FW_SOURCE_DIR/bench/views_pages.py" "$PAGES_JSON"
fi

python3 - "$PAGES_JSON" "$N" "$DAYS" "$rows_24h" "$seed_s" "$by_model_24h" "$rollup_24h" "$latency_by_model_24h" \
    "$latency_7d" "$feedback_rate_24h" "$thumbs_by_model_24h" "$cost_by_user_24h" "$stats_24h" <<'PY'
import json, sys
pages = json.load(open(sys.argv[1]))
a = sys.argv[2:]
n, days, rows24 = int(a[0]), int(a[1]), int(a[2])
f = [float(x) for x in a[3:]]
print(json.dumps({
    "bench": "views", "generations": n, "days": days, "generations_in_24h": rows24,
    "seed_s": f[0],
    "panel_generations_by_model_24h_ms": f[1],
    "baseline_hourly_rollup_view_24h_ms": f[2],
    "speedup_vs_rollup_view": round(f[2] / f[1], 1) if f[1] > 0 else None,
    "panel_latency_by_model_24h_ms": f[3],
    "panel_latency_percentiles_7d_ms": f[4],
    "feedback_rate_24h_ms": f[5],
    "thumbs_by_model_24h_ms": f[6],
    "cost_by_user_24h_ms": f[7],
    "flywheel_stats_24h_ms": f[8],
    "pages": pages,
}))
PY
