#!/usr/bin/env python3
"""dashboards_panels: every Grafana panel's SQL runs against real data.

1. Lints the provisioning and every dashboard JSON: pinned unique uids, no
   dashboard `id`, datasource references that resolve to a provisioned
   datasource (uid and type), panel ids and grid positions, targets with a
   refId and a query, PostgreSQL panels reading flywheel views (never
   tables) and bounded by $__timeFilter when they read event views;
   Prometheus panels naming metrics the collector really exports
   (collector/src/metrics.c).
2. Creates a fresh migrated database filled with seed.sql, and a LOGIN role
   that is a member of flywheel_reader (the Grafana datasource role).
3. Expands Grafana's macros and template variables the way the
   grafana-postgresql-datasource does, runs every panel query and every
   variable query as that role, twice (all variables "All", then one
   value each), and checks that it succeeds, returns rows, and returns the
   columns recorded in expected_columns.json (time_series panels: a "time"
   column first, numbers after it).

Run with `--write-expected` to regenerate expected_columns.json after
changing a panel on purpose (then review the diff).
"""
import datetime as dt
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwdash  # noqa: E402
from fwdash import fail  # noqa: E402

SRC = fwdash.require_env("FW_SOURCE_DIR")
GRAFANA = os.path.join(SRC, "dashboards", "grafana")
EXPECTED = os.path.join(fwdash.HERE, "expected_columns.json")

# The dashboards that must exist, by file, with their pinned uids.
PINNED = {
    "overview.json": "flywheel-overview",
    "quality.json": "flywheel-quality",
    "review.json": "flywheel-review",
    "collector.json": "flywheel-collector",
}
PANEL_TYPES = {"row", "stat", "timeseries", "table", "barchart", "gauge", "bargauge", "piechart", "text"}
NUMERIC = {"smallint", "integer", "bigint", "numeric", "real", "double precision"}
TIME_TYPES = {"timestamp with time zone", "timestamp without time zone", "double precision",
              "bigint", "numeric"}
# Views with a row per event, which a panel must bound by time.
EVENT_VIEWS = {"generation_facts", "feedback_facts", "feedback_events", "dead_letter_facts",
               "label_coverage_facts", "review_item_facts", "review_label_facts",
               "review_item_agreement"}


# ---------------------------------------------------------------------------
# Provisioning
# ---------------------------------------------------------------------------
def provisioned_datasources():
    """uid -> type from the datasource provisioning YAML (a flat list, so a
    line-oriented reading is enough and needs no YAML library)."""
    path = os.path.join(GRAFANA, "provisioning", "datasources", "flywheel.yaml")
    text = open(path).read()
    out = {}
    for item in re.split(r"\n  - ", text)[1:]:
        uid = re.search(r"^\s*uid:\s*(\S+)\s*$", item, re.M)
        typ = re.search(r"^\s*type:\s*(\S+)\s*$", item, re.M)
        if not uid or not typ:
            fail(f"{path}: datasource without uid or type:\n{item}")
        if uid.group(1) in out:
            fail(f"{path}: duplicate datasource uid {uid.group(1)}")
        out[uid.group(1)] = typ.group(1)
    if out.get("flywheel-pg") != "grafana-postgresql-datasource":
        fail(f"{path}: flywheel-pg must be a grafana-postgresql-datasource, got {out}")
    if out.get("flywheel-prom") != "prometheus":
        fail(f"{path}: flywheel-prom must be a prometheus datasource, got {out}")
    if "${FLYWHEEL_GRAFANA_PG_PASSWORD}" not in text:
        fail(f"{path}: the password must come from the environment, not the file")
    prov = open(os.path.join(GRAFANA, "provisioning", "dashboards", "flywheel.yaml")).read()
    for need in ("type: file", "allowUiUpdates: false"):
        if need not in prov:
            fail(f"dashboard provider lacks `{need}`")
    return out


def collector_metric_names():
    names = set()
    for path in glob.glob(os.path.join(SRC, "collector", "src", "*metrics*.c")):
        text = open(path).read()
        for m in re.finditer(r"(flywheel_collector_[a-z_]+)", text):
            names.add(m.group(1))
        # histograms are rendered through a helper: name_bucket/_sum/_count
        for m in re.finditer(r'render_hist\(b,\s*"(flywheel_collector_[a-z_]+)"', text):
            for suf in ("_bucket", "_sum", "_count"):
                names.add(m.group(1) + suf)
    if not names:
        fail("no collector metrics found in collector/src/*metrics*.c")
    return names


# ---------------------------------------------------------------------------
# Lint
# ---------------------------------------------------------------------------
def lint(dashboards, datasources, metrics):
    uids = set()
    for fname, d in dashboards.items():
        where = fname
        if "id" in d and d["id"] is not None:
            fail(f"{where}: dashboard has an `id`; provisioned dashboards are identified by uid")
        if d.get("uid") != PINNED[fname]:
            fail(f"{where}: uid {d.get('uid')!r}, expected the pinned {PINNED[fname]!r}")
        if d["uid"] in uids:
            fail(f"{where}: duplicate uid {d['uid']}")
        uids.add(d["uid"])
        for k, typ in (("title", str), ("schemaVersion", int), ("panels", list),
                       ("templating", dict), ("time", dict)):
            if not isinstance(d.get(k), typ):
                fail(f"{where}: missing or mistyped `{k}`")
        if d.get("editable") is not False:
            fail(f"{where}: provisioned dashboards must be editable: false")

        def check_ds(ref, ctx):
            if not isinstance(ref, dict) or "uid" not in ref or "type" not in ref:
                fail(f"{ctx}: datasource must be {{type, uid}}, got {ref!r}")
            if datasources.get(ref["uid"]) != ref["type"]:
                fail(f"{ctx}: datasource {ref!r} is not provisioned")

        for v in d["templating"].get("list", []):
            ctx = f"{where}: variable {v.get('name')}"
            check_ds(v.get("datasource"), ctx)
            if v.get("includeAll") and v["datasource"]["uid"] == "flywheel-pg" \
                    and v.get("allValue") != "'__all'":
                fail(f"{ctx}: allValue must be '__all' (the SQL tests for it)")

        ids = set()
        for p in d["panels"]:
            ctx = f"{where}: panel {p.get('id')} {p.get('title')!r}"
            if not isinstance(p.get("id"), int) or p["id"] in ids:
                fail(f"{ctx}: panel ids must be unique integers")
            ids.add(p["id"])
            if p.get("type") not in PANEL_TYPES:
                fail(f"{ctx}: unknown panel type {p.get('type')!r}")
            g = p.get("gridPos", {})
            if not all(isinstance(g.get(k), int) for k in "xywh") or g["x"] + g["w"] > 24:
                fail(f"{ctx}: bad gridPos {g}")
            if not p.get("title"):
                fail(f"{ctx}: panel without a title")
            if p["type"] in ("row", "text"):
                continue
            check_ds(p.get("datasource"), ctx)
            targets = p.get("targets") or []
            if not targets:
                fail(f"{ctx}: no targets")
            refs = set()
            for t in targets:
                if t.get("refId") in refs or not t.get("refId"):
                    fail(f"{ctx}: missing or duplicate refId")
                refs.add(t["refId"])
                check_ds(t.get("datasource"), ctx)
                if t["datasource"] != p["datasource"]:
                    fail(f"{ctx}: target datasource differs from the panel's")
                if t["datasource"]["type"] == "prometheus":
                    expr = t.get("expr", "")
                    names = set(re.findall(r"flywheel_[a-z_]+", expr))
                    if not names:
                        fail(f"{ctx}: Prometheus query names no flywheel metric: {expr}")
                    unknown = names - metrics
                    if unknown:
                        fail(f"{ctx}: metrics not exported by the collector: {sorted(unknown)}")
                    continue
                sql = t.get("rawSql", "")
                if not sql or t.get("rawQuery") is not True:
                    fail(f"{ctx}: PostgreSQL target needs rawQuery: true and rawSql")
                if t.get("format") not in ("time_series", "table"):
                    fail(f"{ctx}: format must be time_series or table")
                rels = set(re.findall(r"\bflywheel\.([a-z_]+)", sql))
                if not rels:
                    fail(f"{ctx}: query reads nothing from the flywheel schema")
                if rels & EVENT_VIEWS and "$__timeFilter(" not in sql:
                    fail(f"{ctx}: query over event views must use $__timeFilter")
                if t["format"] == "time_series" and "$__timeGroupAlias(" not in sql:
                    fail(f"{ctx}: time_series query must bucket with $__timeGroupAlias")


# ---------------------------------------------------------------------------
# Grafana macro expansion (grafana-postgresql-datasource semantics)
# ---------------------------------------------------------------------------
def parse_interval(s):
    s = s.strip().strip("'\"")
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d)", s)
    if not m:
        fail(f"cannot parse interval {s!r}")
    n, u = int(m.group(1)), m.group(2)
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[u]


def fmt_secs(sec):
    if sec == int(sec):
        return f"{int(sec)}"
    return f"{sec:g}"


def split_args(s):
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def expand(sql, ctx):
    """ctx: from, to (aware datetimes), interval (seconds), vars {name: [values]}."""
    rfc = lambda t: t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    iv = ctx["interval"]
    iv_txt = f"{int(iv // 60)}m" if iv % 60 == 0 else f"{int(iv)}s"
    sql = sql.replace("$__interval_ms", str(int(iv * 1000))).replace("$__interval", iv_txt)
    for name, values in ctx["vars"].items():
        val = ",".join(values)
        sql = re.sub(r"\$\{" + name + r"(:[a-z]+)?\}|\[\[" + name + r"\]\]|\$" + name + r"\b",
                     lambda _m: val, sql)

    def macro(m):
        name, args = m.group(1), split_args(m.group(2))
        f, t = rfc(ctx["from"]), rfc(ctx["to"])
        if name == "timeFilter":
            return f"{args[0]} BETWEEN '{f}' AND '{t}'"
        if name == "timeFrom":
            return f"'{f}'"
        if name == "timeTo":
            return f"'{t}'"
        if name == "time":
            return f'{args[0]} AS "time"'
        if name == "timeEpoch":
            return f'extract(epoch from {args[0]}) AS "time"'
        if name == "unixEpochFilter":
            return f"{args[0]} >= {int(ctx['from'].timestamp())} AND {args[0]} <= {int(ctx['to'].timestamp())}"
        if name in ("timeGroup", "timeGroupAlias"):
            secs = fmt_secs(parse_interval(args[1]))
            out = f"floor(extract(epoch from {args[0]})/{secs})*{secs}"
            return out + (' AS "time"' if name == "timeGroupAlias" else "")
        fail(f"unknown Grafana macro $__{name}")

    # Innermost-first is not needed: macro arguments never contain macros here.
    sql = re.sub(r"\$__([A-Za-z]+)\(((?:[^()]|\([^()]*\))*)\)", macro, sql)
    left = re.findall(r"\$[A-Za-z_][A-Za-z0-9_]*|\[\[", sql)
    if left:
        fail(f"unexpanded variables or macros {left} in:\n{sql}")
    return sql


# ---------------------------------------------------------------------------
def sql_targets(dashboards):
    for fname, d in sorted(dashboards.items()):
        for v in d["templating"].get("list", []):
            if v["datasource"]["uid"] == "flywheel-pg":
                yield f"{d['uid']}/var:{v['name']}", v["query"], "table"
        for p in d["panels"]:
            for t in p.get("targets") or []:
                if t.get("datasource", {}).get("uid") == "flywheel-pg":
                    yield f"{d['uid']}/{p['title']}/{t['refId']}", t["rawSql"], t["format"]


def main():
    write = "--write-expected" in sys.argv
    datasources = provisioned_datasources()
    metrics = collector_metric_names()
    dashboards = {}
    for path in sorted(glob.glob(os.path.join(GRAFANA, "dashboards", "*.json"))):
        try:
            dashboards[os.path.basename(path)] = json.load(open(path))
        except ValueError as e:
            fail(f"{path}: invalid JSON: {e}")
    missing = set(PINNED) - set(dashboards)
    extra = set(dashboards) - set(PINNED)
    if missing or extra:
        fail(f"dashboards: missing {sorted(missing)}, unexpected {sorted(extra)}")
    lint(dashboards, datasources, metrics)
    print(f"lint: {len(dashboards)} dashboards, "
          f"{sum(len(d['panels']) for d in dashboards.values())} panels ok")

    db = fwdash.TestDb("dash_panels")
    db.seed(n=20000, days=3, project="demo")
    fwdash.psql(db.dsn, open(os.path.join(fwdash.HERE, "seed_review.sql")).read())
    reader = db.reader_role()

    # The reader role may read the views and nothing else.
    if fwdash.psql(reader, "SELECT 1 FROM flywheel.generations LIMIT 1", check=False) is not None:
        fail("flywheel_reader can read flywheel.generations; it must see views only")
    views = {r[0] for r in fwdash.psql(db.dsn, "SELECT viewname FROM pg_views "
                                               "WHERE schemaname = 'flywheel'")[0]}

    now = dt.datetime.now(dt.timezone.utc)
    runs = [
        ("all", {"from": now - dt.timedelta(hours=24), "to": now, "interval": 300,
                 "vars": {"project": ["'__all'"], "environment": ["'__all'"], "model": ["'__all'"],
                          "queue": ["'__all'"]}}),
        ("one", {"from": now - dt.timedelta(hours=6), "to": now, "interval": 60,
                 "vars": {"project": ["'demo'"], "environment": ["'production'"],
                          "model": ["'gpt-4o'", "'o4-mini'"], "queue": ["'__all'"]}}),
    ]
    expected = {} if write else json.load(open(EXPECTED))
    seen = set()
    n = 0
    for key, raw, fmt in sql_targets(dashboards):
        rels = set(re.findall(r"\bflywheel\.([a-z_]+)", raw))
        if rels - views:
            fail(f"{key}: reads {sorted(rels - views)}, which are not views")
        for run, ctx in runs:
            sql = expand(raw, ctx)
            cols = fwdash.describe(reader, sql)
            rows, header = fwdash.psql(reader, sql)
            n += 1
            names = [c for c, _ in cols]
            if header and header != names:
                fail(f"{key}: header {header} differs from \\gdesc {names}")
            if not rows:
                fail(f"{key} [{run}]: returned no rows on the seeded data\n{sql}")
            if fmt == "time_series":
                if names[0] != "time" or cols[0][1] not in TIME_TYPES:
                    fail(f"{key}: time_series must start with a time column, got {cols}")
                for c, typ in cols[1:]:
                    if c != "metric" and typ not in NUMERIC:
                        fail(f"{key}: value column {c} has non-numeric type {typ}")
            if write:
                expected[key] = names
            elif expected.get(key) != names:
                fail(f"{key}: columns {names}, expected {expected.get(key)}")
            seen.add(key)
    stale = set(expected) - seen
    if stale:
        fail(f"expected_columns.json lists panels that no longer exist: {sorted(stale)}")
    if write:
        with open(EXPECTED, "w") as f:
            json.dump(expected, f, indent=1, sort_keys=True)
            f.write("\n")
    print(f"ran {n} panel and variable queries as flywheel_reader: ok")


if __name__ == "__main__":
    fwdash.run_main(main)
