"""HTTP tests of the dashboards (issue 15): the Overview's numbers (in the
CSV and in the HTML table of every chart) equal SQL run directly on the
table flywheel.generations for seeded data; filters, the time window and
the breakdown change them as the SQL says; the access rules come from
PostgreSQL (a reviewer's role is refused with 42501 → 403 until it is
granted flywheel_reader); bad URL values answer 400/404."""
import html
import os
import re

from fwserve import Client, Env, check, eq, fail, one, psql, run_main

HERE = os.path.dirname(os.path.abspath(__file__))


def csv_rows(text):
    import csv
    import io
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def table_rows(page, chart_id):
    m = re.search(r'<table class="grid nums" id="%s-data">(.*?)</table>' % re.escape(chart_id),
                  page, re.S)
    check(m, f"no table for chart {chart_id}")
    rows = []
    for tr in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', m.group(1), re.S):
        cells = [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", tr[1])]
        rows.append([html.unescape(tr[0])] + ["" if c == "–" else c for c in cells])
    return rows


def series_sql(end, window, bucket, where="true"):
    """Per-bucket numbers straight from flywheel.generations (not the views);
    buckets are aligned in UTC (6-hour buckets start at 00, 06, 12, 18)."""
    return f"""
WITH b AS (SELECT h FROM generate_series(
                 date_bin(interval '{bucket}', timestamptz '{end}' - interval '{window}',
                          timestamptz '2000-01-01 00:00Z'),
                 timestamptz '{end}' - interval '1 microsecond', interval '{bucket}') h),
g AS (SELECT * FROM flywheel.generations
      WHERE event_time >= timestamptz '{end}' - interval '{window}'
        AND event_time < timestamptz '{end}' AND {where})
SELECT to_char(h AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
  (SELECT count(*) FROM g WHERE g.event_time >= h AND g.event_time < h + interval '{bucket}'
     AND g.status <> 'error'),
  (SELECT count(*) FROM g WHERE g.event_time >= h AND g.event_time < h + interval '{bucket}'
     AND g.status = 'error'),
  (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)::numeric, 1) FROM g
     WHERE g.event_time >= h AND g.event_time < h + interval '{bucket}'),
  (SELECT round(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)::numeric, 1) FROM g
     WHERE g.event_time >= h AND g.event_time < h + interval '{bucket}'),
  (SELECT round(percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms)::numeric, 1) FROM g
     WHERE g.event_time >= h AND g.event_time < h + interval '{bucket}'),
  (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ttft_ms)::numeric, 1) FROM g
     WHERE g.event_time >= h AND g.event_time < h + interval '{bucket}'),
  (SELECT round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ttft_ms)::numeric, 1) FROM g
     WHERE g.event_time >= h AND g.event_time < h + interval '{bucket}'),
  (SELECT round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ttft_ms)::numeric, 1) FROM g
     WHERE g.event_time >= h AND g.event_time < h + interval '{bucket}'),
  (SELECT coalesce(sum(input_tokens), 0) FROM g
     WHERE g.event_time >= h AND g.event_time < h + interval '{bucket}'),
  (SELECT coalesce(sum(output_tokens), 0) FROM g
     WHERE g.event_time >= h AND g.event_time < h + interval '{bucket}'),
  (SELECT to_char(coalesce(sum(cost_micro_usd), 0) / 1e6, 'FM999990.0000') FROM g
     WHERE g.event_time >= h AND g.event_time < h + interval '{bucket}')
FROM b ORDER BY h"""


CHART_COLS = {"traffic": [1, 2], "latency": [3, 4, 5], "ttft": [6, 7, 8], "tokens": [9, 10],
              "cost": [11]}


def label_as(env, reviewer, values):
    """Claims and submits one label per value in the support queue as `reviewer`."""
    for v in values:
        psql(env.dsn, f"""SET ROLE "{reviewer}";
            SELECT flywheel.review_submit(
                (flywheel.review_claim('support')->>'item_id')::bigint,
                '{{"correct": {v}, "helpful": 4, "topic": "billing"}}'::jsonb);""")


def flywheel_page(env, srv, a, adj, rev):
    end = one(env.dsn, "SELECT to_char(date_trunc('day', now() AT TIME ZONE 'UTC') "
                       "+ interval '1 day', 'YYYY-MM-DD\"T\"HH24:00\"Z\"')")
    page = a.get(f"/dash/flywheel?end={end}")
    eq(page.status, 200, f"GET /dash/flywheel as admin ({page.text[:300]})")
    for cid, title in [("backlog", "Backlog per queue"),
                       ("age", "Age of the oldest open item per queue"),
                       ("throughput", "Labels over time, last 30d"),
                       ("reviewers", "Labels per reviewer, last 30d"),
                       ("agreement", "Agreement per field, last 30d"),
                       ("gold", "Gold accuracy per field"),
                       ("coverage", "Label coverage of generations, last 30d"),
                       ("datasets", "Dataset versions and their size")]:
        check(f'<title id="{cid}-t">{title}</title>' in page.text, f"flywheel chart {cid}")
    # backlog from the review tables
    want = psql(env.dsn, """
        SELECT q.name, count(i.id) FILTER (WHERE i.status = 'pending' AND NOT i.is_gold),
               count(i.id) FILTER (WHERE i.status = 'labelled')
        FROM flywheel.review_queues q LEFT JOIN flywheel.review_items i ON i.queue_id = q.id
        GROUP BY q.name ORDER BY q.name""")
    got = table_rows(page.text, "backlog")
    eq([[g[0], g[1], g[3]] for g in got], want, "backlog (pending, labelled) vs review tables")
    check(any(int(w[2]) > 0 for w in want), "some items are labelled")
    # labels per day and per reviewer from review_labels
    want = psql(env.dsn, f"""
        SELECT to_char(d AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
               (SELECT count(*) FROM flywheel.review_labels l WHERE l.created_at >= d
                  AND l.created_at < d + interval '1 day' AND NOT l.is_adjudication
                  AND l.version = 1)
        FROM generate_series(timestamptz '{end}' - interval '30 days',
                             timestamptz '{end}' - interval '1 day', interval '1 day') d
        ORDER BY d""")
    eq([[g[0], g[1]] for g in table_rows(page.text, "throughput")], want, "labels per day")
    want = psql(env.dsn, """SELECT reviewer, count(*), 0 FROM flywheel.review_labels
                            WHERE NOT is_adjudication GROUP BY 1 ORDER BY 2 DESC, 1""")
    eq(table_rows(page.text, "reviewers"), [[w[0], w[1], "0"] for w in want], "per reviewer")
    # agreement per field: the mean share of agreeing pairs of today's items
    want = psql(env.dsn, """
        SELECT a.queue || ' · ' || a.field, round(avg(a.agreement)::numeric, 2)
        FROM flywheel.review_item_agreement a GROUP BY 1 ORDER BY 1""")
    check(want, "agreement rows exist")
    rows = table_rows(page.text, "agreement")
    eq(len(rows), 30, "one agreement row per day")
    today = rows[-1]
    head = re.search(r'<table class="grid nums" id="agreement-data">.*?<thead>(.*?)</thead>',
                     page.text, re.S).group(1)
    fields = [html.unescape(h) for h in re.findall(r'<th scope="col">(.*?)(?: \(.*?\))?</th>',
                                                     head)][1:]
    eq(list(zip(fields, today[1:])), [(w[0], w[1]) for w in want], "agreement today vs SQL")
    check("correct" in " ".join(fields), "the boolean field is in the heat")
    # datasets
    eq(table_rows(page.text, "datasets"), [["demo v1", "120"], ["demo v2", "180"]],
       "dataset versions")
    r = a.get(f"/dash/flywheel?csv=datasets&end={end}")
    eq(r.text, "dataset version,rows\r\ndemo v1,120\r\ndemo v2,180\r\n", "datasets csv")

    # an adjudicator sees the review sections, not coverage or datasets
    c = Client(srv)
    c.signin(env.link(adj))
    check('href="/dash/flywheel"' in c.get("/queues").text, "adjudicator's link")
    p = c.get(f"/dash/flywheel?end={end}")
    eq(p.status, 200, "adjudicator on /dash/flywheel")
    eq(table_rows(p.text, "backlog"), got, "adjudicator sees the same backlog")
    check('<title id="coverage-t">' not in p.text and '<title id="datasets-t">' not in p.text,
          "adjudicator sees coverage or datasets")
    check("Label coverage: your account may not read this" in p.text, "coverage refusal note")
    eq(c.get("/dash/flywheel?csv=coverage").status, 403, "adjudicator coverage csv")
    eq(c.get("/dash/flywheel?csv=backlog").status, 200, "adjudicator backlog csv")
    # a reviewer: every section refused by PostgreSQL → 403
    c = Client(srv)
    c.signin(env.link(rev))
    eq(c.get("/dash/flywheel").status, 403, "reviewer on /dash/flywheel")


def main():
    env = Env("serve_dash")
    end = one(env.dsn, "SELECT to_char(date_trunc('hour', now() AT TIME ZONE 'UTC'), "
                       "'YYYY-MM-DD\"T\"HH24:00\"Z\"')")
    psql(env.dsn, f"\\set n 6\n\\i {HERE}/seed.sql\n")
    psql(env.dsn, f"\\set end '{end}'\n\\i {HERE}/dash_seed.sql\n")
    _, admin_tok = env.account("admin", role="admin")
    adj, adj_tok = env.account("adj", role="adjudicator")
    rev, rev_tok = env.account("rev")
    rev2, _ = env.account("rev2")
    label_as(env, rev, ["true"] * 6)
    label_as(env, rev2, ["true", "false", "true", "true", "false", "true"])
    psql(env.dsn, """INSERT INTO flywheel.datasets (name) VALUES ('demo');
        INSERT INTO flywheel.dataset_versions (dataset, version, format, parameters, members,
                                               created_at)
        VALUES ('demo', 1, 'jsonl', '{}', 120, now() - interval '2 days'),
               ('demo', 2, 'jsonl', '{}', 180, now() - interval '1 day');""")
    srv = env.serve("rate.signin_per_minute=100000")

    a = Client(srv)
    a.signin(admin_tok)
    q = a.get("/queues")
    check('href="/dash"' in q.text, "the admin's navigation has no Dashboards link")

    # the whole page, default breakdown (model)
    page = a.get(f"/dash?window=24h&end={end}")
    eq(page.status, 200, f"GET /dash as admin ({page.text[:300]})")
    for cid, title in [("traffic", "Generations and errors, last 24h"),
                       ("latency", "Latency percentiles, last 24h"),
                       ("ttft", "Time to first token, last 24h"), ("tokens", "Tokens, last 24h"),
                       ("cost", "Cost, last 24h"), ("by", "Generations by model, last 24h")]:
        check(f'role="img" aria-labelledby="{cid}-t"' in page.text, f"chart {cid} has no role=img")
        check(f'<title id="{cid}-t">{title}</title>' in page.text, f"chart {cid} title")
        check(f'href="/dash?csv={cid}&amp;window=24h&amp;end=' in page.text, f"csv link of {cid}")
    check("style=" not in page.text, "inline style on the dashboard")
    check("hour (UTC)" in page.text, "the time axis does not say UTC")

    want = psql(env.dsn, series_sql(end, "24 hours", "1 hour"))
    eq(len(want), 24, "buckets in 24 hours")
    check(sum(int(r[1]) + int(r[2]) for r in want) > 150, "seed has data in the window")
    for cid, cols in CHART_COLS.items():
        exp = [[r[0]] + [r[c] for c in cols] for r in want]
        r = a.get(f"/dash?csv={cid}&window=24h&end={end}")
        eq(r.status, 200, f"csv {cid}")
        eq(r.header("Content-Type"), "text/csv; charset=utf-8", "csv content type")
        head, rows = csv_rows(r.text)
        eq(head[0], "hour (UTC)", f"csv {cid} header")
        eq(rows, exp, f"csv {cid} numbers vs SQL on flywheel.generations")
        eq(table_rows(page.text, cid), exp, f"table of chart {cid} vs SQL")
    total = sum(int(r[1]) + int(r[2]) for r in want)
    check(f'<dd id="tile-generations">{total}</dd>' in page.text, "the generations tile")

    # a filter and another window change the numbers as the SQL says
    want7 = psql(env.dsn, series_sql(end, "7 days", "6 hours",
                                     "request_model = 'mini' AND environment = 'prod'"))
    r = a.get(f"/dash?csv=traffic&window=7d&end={end}&model=mini&environment=prod")
    eq(r.status, 200, "filtered csv")
    head, rows = csv_rows(r.text)
    eq(head[0], "6 hours (UTC)", "7d bucket")
    eq(rows, [[w[0], w[1], w[2]] for w in want7], "filtered traffic vs SQL")
    check(rows != [[w[0], w[1], w[2]] for w in psql(env.dsn, series_sql(end, "7 days", "6 hours"))],
          "the filter changed nothing")

    # the breakdown by provider, with a filter
    byp = psql(env.dsn, f"""
        SELECT provider_name, count(*) FILTER (WHERE status <> 'error'),
               count(*) FILTER (WHERE status = 'error'),
               round(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)::numeric, 1),
               to_char(sum(cost_micro_usd) / 1e6, 'FM999990.0000')
        FROM flywheel.generations
        WHERE event_time >= timestamptz '{end}' - interval '24 hours'
          AND event_time < timestamptz '{end}' AND release = 'r1'
        GROUP BY 1 ORDER BY count(*) DESC, 1""")
    page2 = a.get(f"/dash?window=24h&end={end}&release=r1&by=provider")
    eq(page2.status, 200, "breakdown page")
    eq(table_rows(page2.text, "by"), [[b[0], b[1], b[2]] for b in byp], "by provider vs SQL")
    eq(table_rows(page2.text, "bycost"), [[b[0], b[4]] for b in byp], "cost by provider vs SQL")
    eq(table_rows(page2.text, "byp95"), [[b[0], b[3]] for b in byp], "p95 by provider vs SQL")
    check('<option value="provider" selected>' in page2.text, "the breakdown choice is kept")
    check('name="release" placeholder="any" value="r1"' in page2.text, "the filter is kept")

    # an empty window: every chart says so, the page still answers
    r = a.get("/dash?window=1h&end=2001-01-01T00:00Z")
    eq(r.status, 200, "empty window")
    check("No data in this window" in r.text, "empty by-chart says no data")

    # bad values
    eq(a.get("/dash?window=2h").status, 400, "unknown window")
    eq(a.get("/dash?end=yesterday").status, 400, "end that is not a timestamp (shape)")
    eq(a.get("/dash?end=2026-13-45").status, 400, "end PostgreSQL refuses")
    eq(a.get("/dash?by=prompt").status, 400, "unknown breakdown")
    eq(a.get("/dash?csv=nope").status, 404, "unknown chart")
    eq(a.get("/dash?model=%ff").status, 400, "filter that is not UTF-8")

    # access: decided by PostgreSQL, not by the server
    for who, tok in [("reviewer", rev_tok), ("adjudicator", adj_tok)]:
        c = Client(srv)
        c.signin(tok)
        check('href="/dash"' not in c.get("/queues").text, f"{who} sees a Dashboards link")
        r = c.get("/dash")
        eq(r.status, 403, f"{who} on /dash")
        check("not allowed" in r.text, f"{who} 403 page")
        eq(c.get("/dash?csv=traffic").status, 403, f"{who} on a CSV")
    c = Client(srv)
    c.signin(env.link(rev))
    psql(env.dsn, f'GRANT flywheel_reader TO "{rev}"')
    r = c.get(f"/dash?window=24h&end={end}")
    eq(r.status, 200, "a reviewer granted flywheel_reader in PostgreSQL sees the overview")
    eq(table_rows(r.text, "traffic"), [[w[0], w[1], w[2]] for w in want], "reader's numbers")
    psql(env.dsn, f'REVOKE flywheel_reader FROM "{rev}"')
    eq(c.get("/dash").status, 403, "refused again after REVOKE")

    flywheel_page(env, srv, a, adj, rev)


run_main(main)
