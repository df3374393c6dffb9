#!/usr/bin/env python3
"""dashboards_explain: the dashboard queries prune partitions and use indexes.

On a database seeded over 10 days (one daily partition each), every panel
query of the dashboards that reads flywheel.generation_facts or
flywheel.label_coverage_facts is expanded for a one-hour window and
EXPLAINed (plan only): every daily partition of generations it reads must
be read through an index (generations_*_event_time_idx or the project/time
index), never a sequential scan of one that holds more than a few pages, which is what keeps the views fast at any
table size. (Partitions are days of id_time, the time the event id carries,
since V0038: a window on event_time cannot prune them at plan time, so each
is probed through its time index.) The generation lookups of
flywheel.feedback_facts and of has_feedback must be index scans, and
executed, feedback_facts must probe at most a few partitions per feedback
event (one for an event-id target, V0038; the nearby days for the others,
V0033), not every day.
"""
import datetime as dt
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwdash  # noqa: E402
from fwdash import fail  # noqa: E402
import test_panels  # noqa: E402  (macro expansion and target listing)


def plan_nodes(node, out):
    out.append(node)
    for child in node.get("Plans", []):
        plan_nodes(child, out)
    return out


def explain(dsn, sql):
    text = fwdash.psql(dsn, "EXPLAIN (FORMAT JSON) " + sql, fmt="raw")
    return plan_nodes(json.loads(text)[0]["Plan"], [])


def gen_partitions(nodes):
    return [(n.get("Relation Name"), n["Node Type"], n.get("Index Name"))
            for n in nodes
            if re.fullmatch(r"generations_(\d{8}|default)", n.get("Relation Name") or "")]


def main():
    db = fwdash.TestDb("dash_explain")
    db.seed(n=30000, days=10, project="demo")
    fwdash.psql(db.dsn, open(os.path.join(fwdash.HERE, "seed_review.sql")).read())
    fwdash.psql(db.dsn, "ANALYZE")
    reader = db.reader_role()

    # A one-hour window three days ago, inside one UTC day.
    day = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3)).replace(
        hour=12, minute=0, second=0, microsecond=0)
    ctx = {"from": day, "to": day + dt.timedelta(hours=1), "interval": 60,
           "vars": {"project": ["'__all'"], "environment": ["'__all'"], "model": ["'__all'"],
                    "queue": ["'__all'"]}}
    nparts = int(fwdash.psql(db.dsn, "SELECT count(*) FROM pg_inherits "
                                     "WHERE inhparent = 'flywheel.generations'::regclass",
                             fmt="raw"))
    if nparts < 11:
        fail(f"expected at least 11 partitions of generations, found {nparts}")

    populated = set(fwdash.psql(db.dsn, "SELECT c.relname FROM pg_class c JOIN pg_inherits i "
                                        "ON i.inhrelid = c.oid WHERE c.reltuples > 0 AND "
                                        "i.inhparent = 'flywheel.generations'::regclass",
                                fmt="raw").split())
    large = set(fwdash.psql(db.dsn, "SELECT c.relname FROM pg_class c JOIN pg_inherits i "
                                    "ON i.inhrelid = c.oid WHERE c.relpages > 8 AND "
                                    "i.inhparent = 'flywheel.generations'::regclass",
                            fmt="raw").split())
    if len(large) < 5:
        fail(f"expected the seed to fill at least 5 partitions beyond 8 pages, found {sorted(large)}")
    dashboards = {}
    for name in test_panels.PINNED:
        dashboards[name] = json.load(open(os.path.join(test_panels.GRAFANA, "dashboards", name)))
    checked = 0
    for key, raw, _fmt in test_panels.sql_targets(dashboards):
        if not re.search(r"flywheel\.(generation_facts|label_coverage_facts)\b", raw):
            continue
        sql = test_panels.expand(raw, ctx)
        parts = gen_partitions(explain(reader, sql))
        scanned = {p for p, _, _ in parts}
        if not scanned:
            fail(f"{key}: the plan reads no partition of generations?\n{sql}")
        # An empty partition (days ahead, the default) costs nothing to scan,
        # and neither does a partition of a few pages: the planner rightly
        # reads 8 pages (64 KB) or fewer sequentially rather than through an
        # index (the seed's first, partial day is such a partition). What
        # must never happen is a sequential scan of a partition with rows
        # beyond that.
        seq = [p for p in parts if p[1] == "Seq Scan" and p[0] in large]
        if seq:
            fail(f"{key}: sequential scan of {seq} for a one-hour window; expected the time index")
        checked += 1
    if checked < 20:
        fail(f"only {checked} panel queries read generation_facts; the dashboards changed?")
    print(f"{checked} panel queries over {nparts} partitions: index scans only")

    # feedback_facts: each feedback event finds its generation through the
    # event-id index of each partition, never a sequential scan of one
    # that holds rows.
    frm, to = ctx["from"].isoformat(), ctx["to"].isoformat()
    nodes = explain(reader, "SELECT model, avg(thumbs_up) FROM flywheel.feedback_facts "
                            f"WHERE event_time BETWEEN '{frm}' AND '{to}' GROUP BY model")
    lookups = [p for p in gen_partitions(nodes) if p[0] in populated]
    if not lookups:
        fail("feedback_facts plan has no generation lookup")
    bad = [p for p in lookups if "Index" not in p[1] and "Bitmap" not in p[1] and p[0] in large]
    if bad:
        fail(f"feedback_facts looks generations up without an index: {bad}")
    fb = [n for n in nodes if n.get("Relation Name") == "feedback"]
    if not fb or any("Index" not in n["Node Type"] and "Bitmap" not in n["Node Type"] for n in fb):
        fail(f"feedback_facts does not use feedback_time_idx for a one-hour window: "
             f"{[(n['Node Type'], n.get('Index Name')) for n in fb]}")

    # Executed, the lookup tries the partitions near the feedback's time
    # first (V0033): a few partition probes per feedback event, not one per
    # daily partition.
    text = fwdash.psql(reader, "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) "
                               "SELECT model, avg(thumbs_up) FROM flywheel.feedback_facts "
                               f"WHERE event_time BETWEEN '{frm}' AND '{to}' GROUP BY model",
                       fmt="raw")
    nodes = plan_nodes(json.loads(text)[0]["Plan"], [])
    nfb = sum(n.get("Actual Rows", 0) * n.get("Actual Loops", 1) for n in nodes
              if n.get("Relation Name") == "feedback")
    probes = sum(n.get("Actual Loops", 0) for n in nodes
                 if re.fullmatch(r"generations_\d{8}", n.get("Relation Name") or ""))
    if nfb < 10:
        fail(f"only {nfb} feedback events in the window; the seed changed?")
    if probes > 4 * nfb:
        fail(f"feedback_facts probed {probes} partitions for {nfb} feedback events "
             f"({probes / nfb:.1f} each, {nparts} partitions): the nearby lookup is not used")
    print(f"feedback_facts: {probes / nfb:.1f} partition probes per feedback event "
          f"({nparts} partitions)")

    # has_feedback: the per-generation probes hit the feedback target indexes.
    nodes = explain(reader, "SELECT avg(has_feedback::int) FROM flywheel.generation_facts "
                            f"WHERE event_time BETWEEN '{frm}' AND '{to}'")
    fb = [n for n in nodes if n.get("Relation Name") == "feedback"]
    idx = {n.get("Index Name") for n in fb}
    if not fb or any("Index" not in n["Node Type"] for n in fb) \
            or not {"feedback_target_event_idx", "feedback_target_response_idx"} <= idx:
        fail(f"has_feedback probes: {[(n['Node Type'], n.get('Index Name')) for n in fb]}")
    print("feedback lookups: index scans")


if __name__ == "__main__":
    fwdash.run_main(main)
