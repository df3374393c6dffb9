#!/usr/bin/env python3
"""dashboards_stats: `flywheel stats` against real data, as a reader role.

Seeds a fresh database, then runs `flywheel stats --json` for a fixed window
as a LOGIN role that is only a member of flywheel_reader, parses the JSON
back and compares its numbers with the same numbers computed independently
from the base tables (as the admin): counts, error rate, cost, tokens,
latency percentiles, feedback, dead letters. Also checks the project
filter, an empty window, the text summary, and the usage errors.
"""
import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwdash  # noqa: E402
from fwdash import fail  # noqa: E402


def stats(fw, dsn, *args, expect=0):
    p = subprocess.run([fw, "stats", "--dsn", dsn, *args], capture_output=True, text=True)
    if p.returncode != expect:
        fail(f"flywheel stats {' '.join(args)}: exit {p.returncode}, expected {expect}\n"
             f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def one(dsn, sql):
    rows, _ = fwdash.psql(dsn, sql)
    if len(rows) != 1:
        fail(f"expected one row from {sql}")
    return [None if v == "" else v for v in rows[0]]


def close(name, got, want, rel=1e-6):
    if want is None:
        if got is not None:
            fail(f"{name}: got {got}, expected null")
        return
    want = float(want)
    if got is None or not math.isclose(float(got), want, rel_tol=rel, abs_tol=1e-6):
        fail(f"{name}: got {got}, expected {want}")


def main():
    db = fwdash.TestDb("dash_stats")
    db.seed(n=6000, days=2, project="demo")
    fwdash.psql(db.dsn, open(os.path.join(fwdash.HERE, "seed_review.sql")).read())
    reader = db.reader_role()
    fw = os.path.join(db.build, "cli", "flywheel")
    frm, to = one(db.dsn, "SELECT to_char(date_trunc('minute', now()) - interval '20 hours', "
                          "'YYYY-MM-DD\"T\"HH24:MI:SSOF'), "
                          "to_char(date_trunc('minute', now()) - interval '1 hour', "
                          "'YYYY-MM-DD\"T\"HH24:MI:SSOF')")

    for project in (None, "demo"):
        args = ["--json", "--from", frm, "--to", to] + (["--project", project] if project else [])
        doc = json.loads(stats(fw, reader, *args).stdout)
        pf = f"AND project = '{project}'" if project else ""
        win = f"event_time >= '{frm}' AND event_time < '{to}' {pf}"
        g = one(db.dsn, f"""
            SELECT count(*), count(*) FILTER (WHERE status = 'error'),
                   sum(cost_micro_usd) / 1e6, sum(input_tokens), sum(output_tokens),
                   sum(cache_read_input_tokens), coalesce(sum(reasoning_output_tokens), 0),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms),
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms),
                   count(DISTINCT user_id),
                   max(extract(epoch FROM received_at - event_time) * 1000)
            FROM flywheel.generations WHERE {win}""")
        what = f"[project {project or 'all'}]"
        if int(g[0]) < 500:
            fail(f"{what}: the seeded window holds only {g[0]} generations")
        t, lat, use = doc["traffic"], doc["latency"], doc["usage"]
        close(f"{what} generations", t["generations"], g[0])
        close(f"{what} errors", t["errors"], g[1])
        close(f"{what} error_rate", t["error_rate"], int(g[1]) / int(g[0]))
        close(f"{what} cost_usd", use["cost_usd"], g[2])
        close(f"{what} input_tokens", use["input_tokens"], g[3])
        close(f"{what} output_tokens", use["output_tokens"], g[4])
        close(f"{what} cached_input_tokens", use["cached_input_tokens"], g[5])
        close(f"{what} reasoning_tokens", use["reasoning_tokens"], g[6])
        close(f"{what} p50_ms", lat["p50_ms"], g[7])
        close(f"{what} p99_ms", lat["p99_ms"], g[8])
        close(f"{what} users", t["users"], g[9])
        close(f"{what} lag_max_ms", doc["ingest"]["lag_max_ms"], g[10], rel=1e-3)
        f = one(db.dsn, f"""
            SELECT count(*), avg(bool_value::int) FILTER (WHERE value_type = 'bool'),
                   count(*) FILTER (WHERE correction IS NOT NULL)
            FROM flywheel.feedback WHERE {win}""")
        close(f"{what} feedback events", doc["feedback"]["events"], f[0])
        close(f"{what} thumbs_up_ratio", doc["feedback"]["thumbs_up_ratio"], f[1])
        close(f"{what} corrections", doc["feedback"]["corrections"], f[2])
        rate = one(db.dsn, f"""
            SELECT avg((EXISTS (SELECT 1 FROM flywheel.feedback f
                                WHERE f.target_event_id = g.event_id
                                   OR f.target_response_id = g.response_id))::int)
            FROM flywheel.generations g WHERE {win}""")
        close(f"{what} feedback_rate", doc["feedback"]["feedback_rate"], rate[0])
        models = {m["model"]: m for m in doc["by_model"]}
        if set(models) != {"gpt-4o", "gpt-4o-mini", "claude-3-5-haiku", "o4-mini"}:
            fail(f"{what} by_model lists {sorted(models)}")
        if sum(m["generations"] for m in doc["by_model"]) != t["generations"]:
            fail(f"{what} by_model does not add up to the total")
        if sum(e["errors"] for e in doc["errors_by_type"]) != t["errors"]:
            fail(f"{what} errors_by_type does not add up to the errors")
        d = one(db.dsn, f"SELECT count(*) FROM flywheel.dead_letters "
                        f"WHERE received_at >= '{frm}' AND received_at < '{to}'")
        close(f"{what} dead letters", doc["dead_letters"]["in_window"], d[0])
        if sum(r["dead_letters"] for r in doc["dead_letters"]["by_reason"]) != int(d[0]):
            fail(f"{what} dead letters by reason do not add up")
        if len(doc["ingest"]["partitions"]) != 4:
            fail(f"{what} expected 4 ingest partitions, got {doc['ingest']['partitions']}")
        if doc["window"]["project"] != project:
            fail(f"{what} window.project is {doc['window']['project']!r}")

    # Review: queues and labels seeded by seed_review.sql, checked against
    # the review tables.
    doc = json.loads(stats(fw, reader, "--json", "--since", "1d").stdout)
    queues = {q["queue"]: q for q in doc["queues"]}
    want = one(db.dsn, "SELECT count(*) FILTER (WHERE status = 'pending' AND NOT is_gold), "
                       "count(*) FILTER (WHERE status = 'labelled') FROM flywheel.review_items i "
                       "JOIN flywheel.review_queues q ON q.id = i.queue_id WHERE q.name = 'dash_sample'")
    close("dash_sample pending", queues["dash_sample"]["pending"], want[0])
    close("dash_sample labelled", queues["dash_sample"]["labelled"], want[1])
    want = one(db.dsn, "SELECT count(*) FILTER (WHERE NOT is_adjudication), count(DISTINCT reviewer) "
                       "FROM flywheel.review_labels WHERE created_at > now() - interval '1 day'")
    close("review labels", doc["review"]["labels"], want[0])
    close("review reviewers", doc["review"]["reviewers"], want[1])
    if not 0 < doc["review"]["label_coverage"] < 1:
        fail(f"label coverage {doc['review']['label_coverage']}")
    out = stats(fw, reader, "--since", "1d").stdout
    for word in ("review queues", "dash_sample", "dash_errors", "labels by 3 reviewers"):
        if word not in out:
            fail(f"text summary lacks {word!r}:\n{out}")

    # Issue #11 item 17, the definitions of docs/dashboards.md: an adjudicator
    # who labelled nothing is not a reviewer and adjudications are not labels;
    # a disputed item is labelled for label coverage.
    disputed = one(db.dsn, "SELECT min(id), count(*) FROM flywheel.review_items "
                           "WHERE status = 'disputed'")
    if int(disputed[1]) < 2:
        fail(f"the seed left {disputed[1]} disputed items; the check needs two")
    fwdash.psql(db.dsn, f"SELECT flywheel.review_adjudicate({disputed[0]}, "
                        "'{\"correct\": true, \"tone\": \"ok\", \"score\": 3}'::jsonb, "
                        "'settled', 'dave')")
    if int(one(db.dsn, "SELECT count(*) FROM flywheel.review_items WHERE status = 'disputed'")[0]) == 0:
        fail("no disputed item left to check label coverage with")
    doc = json.loads(stats(fw, reader, "--json", "--since", "1d").stdout)
    rv = doc["review"]
    want = one(db.dsn, "SELECT count(*) FILTER (WHERE NOT is_adjudication), "
                       "count(DISTINCT reviewer) FILTER (WHERE NOT is_adjudication), "
                       "count(*) FILTER (WHERE is_adjudication), "
                       "count(DISTINCT reviewer) FILTER (WHERE is_adjudication) "
                       "FROM flywheel.review_labels WHERE created_at > now() - interval '1 day'")
    close("labels without the adjudication", rv["labels"], want[0])
    close("reviewers without the adjudicator", rv["reviewers"], want[1])
    if rv["reviewers"] != 3 or rv["adjudications"] != 1 or rv["adjudicators"] != 1:
        fail(f"review numbers with one adjudication by dave: {rv}")
    close("adjudications", rv["adjudications"], want[2])
    close("adjudicators", rv["adjudicators"], want[3])
    cov = one(db.dsn, f"""
        SELECT avg((EXISTS (SELECT 1 FROM flywheel.review_items i
                            WHERE i.event_id = g.event_id AND NOT i.is_gold
                              AND i.status IN ('labelled', 'disputed', 'adjudicated')))::int)
        FROM flywheel.generations g
        WHERE event_time >= '{doc["window"]["from"]}' AND event_time < '{doc["window"]["to"]}'""")
    close("label coverage counts disputed items", rv["label_coverage"], cov[0])
    out = stats(fw, reader, "--since", "1d").stdout
    if "labels by 3 reviewers, 1 adjudications by 1 adjudicators" not in out:
        fail(f"text summary of the review numbers:\n{out}")

    # A window with no data: zeros and nulls, no error.
    empty = json.loads(stats(fw, reader, "--json", "--since", "1h", "--project", "nope").stdout)
    if empty["traffic"]["generations"] != 0 or empty["latency"]["p50_ms"] is not None:
        fail(f"empty window: {empty['traffic']} {empty['latency']}")
    out = stats(fw, reader, "--since", "1h", "--project", "nope").stdout
    if "0 generations" not in out:
        fail(f"empty window text summary:\n{out}")

    # The text summary names every section.
    out = stats(fw, reader, "--since", "2d").stdout
    for word in ("traffic", "latency", "p99", "usage", "cost $", "feedback", "dead letters",
                 "ingest", "by model", "gpt-4o-mini", "errors by type", "top users by cost"):
        if word not in out:
            fail(f"text summary lacks {word!r}:\n{out}")

    # Usage errors exit 2, and so does a window that is not one (with
    # PostgreSQL's reason for a time it cannot read).
    stats(fw, reader, "--since", "5x", expect=2)
    stats(fw, reader, "--since", "0h", expect=2)
    stats(fw, reader, "--since", "1h", "--from", frm, expect=2)
    stats(fw, reader, "--to", to, expect=2)
    p = stats(fw, reader, "--from", "not a time", expect=2)
    if "invalid time window" not in p.stderr or "22007" not in p.stderr:
        fail(f"bad --from: {p.stderr}")
    p = stats(fw, reader, "--from", to, "--to", frm, expect=2)
    if "is not before --to" not in p.stderr:
        fail(f"reversed window: {p.stderr}")
    print(f"stats: {doc['traffic']['generations']} generations in the window checked against "
          f"the base tables")


if __name__ == "__main__":
    fwdash.run_main(main)
