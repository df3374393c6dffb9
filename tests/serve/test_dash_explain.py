"""serve_dash_explain: the queries the quality, trace and ingest pages really
run are pruned to the window and read through indexes (the dashboards_explain
rule, applied to the pages of `flywheel serve` rather than to Grafana's
panels).

On a database seeded over 10 days (tests/dashboards/seed.sql: UUIDv7 ids, one
daily partition each), the server's login gets auto_explain for its sessions
only (ALTER ROLE ... SET session_preload_libraries), the pages are requested
for a one-hour window three days ago and for a generation's trace, and every
plan they logged (PostgreSQL's server log, JSON) is checked: no sequential
scan of a partition of generations holding more than 8 pages (the planner
rightly reads a smaller one sequentially); the window's feedback read
through its time index; the trace's anchor lookup reads exactly one partition (its event id's
day) and the conversation lookup only the partitions within three days.
"""
import json
import os
import re

from fwserve import Client, Env, check, eq, fail, one, psql, run_main

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = os.path.join(HERE, "..", "dashboards", "seed.sql")


def plans_in(text):
    """The JSON plans auto_explain wrote into a slice of the server log."""
    out = []
    dec = json.JSONDecoder()
    for m in re.finditer(r"plan:\s*\n", text):
        start = text.find("{", m.end())
        if start < 0:
            continue
        try:
            obj, _ = dec.raw_decode(text[start:])
        except ValueError:
            continue
        out.append(obj)
    return out


def nodes(plan, acc):
    acc.append(plan)
    for c in plan.get("Plans", []):
        nodes(c, acc)
    return acc


def main():
    env = Env("serve_dash_explain")
    datadir = os.environ.get("FLYWHEEL_PG_DATADIR")
    check(datadir, "FLYWHEEL_PG_DATADIR is not set: run through scripts/test or scripts/services env")
    log = os.path.join(os.path.dirname(datadir.rstrip("/")), "pg.log")
    check(os.path.exists(log), f"PostgreSQL's server log {log} not found (scripts/services writes it)")
    psql(env.dsn, f"\\set n 30000\n\\set days 10\n\\set project demo\n\\i {SEED}\n")
    psql(env.dsn, "ANALYZE")
    large = set(r[0] for r in psql(env.dsn, """SELECT c.relname FROM pg_class c
        JOIN pg_inherits i ON i.inhrelid = c.oid
        WHERE i.inhparent = 'flywheel.generations'::regclass AND c.relpages > 8"""))
    check(len(large) >= 5, f"expected at least 5 partitions beyond 8 pages, found {sorted(large)}")
    # the server's login explains every statement of its sessions into the log
    psql(env.admin, f"""
        ALTER ROLE "{env.web_role}" SET session_preload_libraries = 'auto_explain';
        ALTER ROLE "{env.web_role}" SET auto_explain.log_min_duration = 0;
        ALTER ROLE "{env.web_role}" SET auto_explain.log_format = 'json';""")
    admin, _ = env.account("admin", role="admin")
    srv = env.serve("rate.signin_per_minute=100000")
    a = Client(srv)
    a.signin(env.link(admin))
    end = one(env.dsn, "SELECT to_char(date_trunc('hour', now() AT TIME ZONE 'UTC') "
                       "- interval '3 days', 'YYYY-MM-DD\"T\"HH24:00\"Z\"')")
    anchor = one(env.dsn, f"""SELECT event_id FROM flywheel.generations
        WHERE event_time >= timestamptz '{end}' - interval '1 hour' AND event_time < '{end}'
          AND conversation_id IS NOT NULL ORDER BY event_time LIMIT 1""")
    day = one(env.dsn, f"SELECT 'generations_' || to_char(flywheel.event_id_time('{anchor}') "
                       "AT TIME ZONE 'UTC', 'YYYYMMDD')")

    start = os.path.getsize(log)
    for path in (f"/dash/quality?window=1h&end={end}", f"/dash/ingest?window=1h&end={end}",
                 f"/dash/trace/{anchor}"):
        r = a.get(path)
        eq(r.status, 200, f"GET {path} ({r.text[:200]})")
    with open(log, errors="replace") as f:
        f.seek(start)
        text = f.read()
    plans = plans_in(text)
    mine = [pl for pl in plans if "flywheel." in pl.get("Query Text", "")
            and "web_sessions" not in pl.get("Query Text", "")]
    check(len(mine) >= 12, f"only {len(mine)} page queries explained in {log}")

    checked = 0
    for pl in mine:
        q = pl["Query Text"]
        ns = nodes(pl["Plan"], [])
        gens = [(n.get("Relation Name"), n["Node Type"]) for n in ns
                if re.fullmatch(r"generations_(\d{8}|default)", n.get("Relation Name") or "")]
        seq = [g for g in gens if g[1] == "Seq Scan" and g[0] in large]
        if seq:
            fail(f"sequential scan of {seq} for a one-hour window:\n{q[:600]}")
        # the feedback of the window (feedback_facts, feedback_events) through its time
        # index; has_feedback's lookups (SubPlans) are the planner's choice: index probes
        # per generation, or one hashed scan when that is cheaper for the window
        fb = [n["Node Type"] for n in ns if n.get("Relation Name") == "feedback"
              and n.get("Parent Relationship") != "SubPlan"]
        if any("Index" not in t and "Bitmap" not in t for t in fb):
            fail(f"feedback of the window read without an index: {fb}\n{q[:600]}")
        if "generation_facts" in q:
            checked += 1
        if "f.event_id = $1::uuid AND f.id_time" in q:
            # the trace's anchor: one partition, its event id's day
            eq(sorted({g[0] for g in gens}), [day], "the anchor lookup's partitions")
        if "f.id_time >= $1::timestamptz - interval '3 days'" in q:
            parts = {g[0] for g in gens}
            check(0 < len(parts) <= 7, f"the conversation lookup read {sorted(parts)}")
    check(checked >= 8, f"only {checked} plans over generation_facts")
    print(f"{len(mine)} page queries explained, {checked} over generation_facts: index scans "
          f"only; the trace anchor reads {day} alone")


run_main(main)
