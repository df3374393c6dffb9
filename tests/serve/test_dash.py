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


# ---- quality and feedback, trace view --------------------------------------------------

def fb_joined(end, window, fwhere="true"):
    """Feedback of the window joined to the generation it judges (event id,
    else response id, else trace id), straight from the tables."""
    return f"""fbj AS (
  SELECT fb.*, coalesce(t.model, 'unknown') AS model, t.provider_name,
         coalesce(t.release, fb.release) AS rel,
         coalesce(t.prompt_template, '') AS pt, coalesce(t.prompt_version, '') AS pv
  FROM flywheel.feedback fb
  LEFT JOIN LATERAL (
    SELECT coalesce(nullif(g.request_model, ''), nullif(g.response_model, ''), 'unknown') AS model,
           g.provider_name, g.release, g.prompt_template, g.prompt_version
    FROM flywheel.generations g
    WHERE (fb.target_event_id IS NOT NULL AND g.event_id = fb.target_event_id)
       OR (fb.target_event_id IS NULL AND g.response_id = fb.target_response_id)
       OR (fb.target_event_id IS NULL AND fb.target_response_id IS NULL
           AND g.trace_id = fb.target_trace_id
           AND (fb.target_span_id IS NULL OR g.span_id = fb.target_span_id))
    ORDER BY g.event_time LIMIT 1) t ON true
  WHERE fb.event_time >= timestamptz '{end}' - interval '{window}'
    AND fb.event_time < timestamptz '{end}')"""


def gen_joined(end, window):
    return f"""gj AS (
  SELECT g.*, coalesce(nullif(g.request_model, ''), nullif(g.response_model, ''), 'unknown') AS model,
         EXISTS (SELECT 1 FROM flywheel.feedback fb WHERE fb.target_event_id = g.event_id
                 OR fb.target_response_id = g.response_id
                 OR (fb.target_trace_id = g.trace_id
                     AND (fb.target_span_id IS NULL OR fb.target_span_id = g.span_id))) AS hf
  FROM flywheel.generations g
  WHERE g.event_time >= timestamptz '{end}' - interval '{window}'
    AND g.event_time < timestamptz '{end}')"""


def quality_series_sql(end, window, bucket, gwhere="true", fwhere="true"):
    return f"""
WITH b AS (SELECT h FROM generate_series(
             date_bin(interval '{bucket}', timestamptz '{end}' - interval '{window}',
                      timestamptz '2000-01-01 00:00Z'),
             timestamptz '{end}' - interval '1 microsecond', interval '{bucket}') h),
{fb_joined(end, window)}, {gen_joined(end, window)}
SELECT to_char(h AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
  (SELECT round(avg(bool_value::int) FILTER (WHERE value_type = 'bool'), 3) FROM fbj
    WHERE event_time >= h AND event_time < h + interval '{bucket}' AND {fwhere}),
  (SELECT round(avg(hf::int), 3) FROM gj
    WHERE event_time >= h AND event_time < h + interval '{bucket}' AND {gwhere}),
  (SELECT round(avg(number_value) FILTER (WHERE value_type = 'number')::numeric, 2) FROM fbj
    WHERE event_time >= h AND event_time < h + interval '{bucket}' AND {fwhere}),
  (SELECT count(*) FROM fbj WHERE event_time >= h AND event_time < h + interval '{bucket}'
     AND {fwhere}),
  (SELECT count(*) FILTER (WHERE value_type = 'bool') FROM fbj
    WHERE event_time >= h AND event_time < h + interval '{bucket}' AND {fwhere}),
  (SELECT count(*) FILTER (WHERE correction IS NOT NULL) FROM fbj
    WHERE event_time >= h AND event_time < h + interval '{bucket}' AND {fwhere})
FROM b ORDER BY h"""


def quality_compare_sql(end, window, gkey, fkey):
    return f"""
WITH {fb_joined(end, window)}, {gen_joined(end, window)},
g AS (SELECT {gkey} AS k, count(*) AS n, round(avg(hf::int), 3) AS cov,
             round(avg((status = 'error')::int), 3) AS err FROM gj GROUP BY 1),
f AS (SELECT {fkey} AS k, count(*) AS n,
             round(avg(bool_value::int) FILTER (WHERE value_type = 'bool'), 3) AS up,
             round(avg(number_value) FILTER (WHERE value_type = 'number')::numeric, 2) AS score,
             count(*) FILTER (WHERE correction IS NOT NULL) AS corr FROM fbj GROUP BY 1)
SELECT k, f.up, g.cov, g.err, f.score, coalesce(g.n, 0), coalesce(f.n, 0), coalesce(f.corr, 0)
FROM g FULL JOIN f USING (k) ORDER BY k"""


def quality_page(env, srv, a, adj, rev, end):
    page = a.get(f"/dash/quality?window=24h&end={end}")
    eq(page.status, 200, f"GET /dash/quality as admin ({page.text[:300]})")
    for cid, title in [("thumbs", "Thumbs-up rate and feedback coverage, last 24h"),
                       ("score", "Mean score, last 24h"),
                       ("feedback", "Feedback events and corrections, last 24h"),
                       ("release", "Quality by release, last 24h"),
                       ("release-score", "Mean score by release, last 24h"),
                       ("prompt", "Quality by prompt version, last 24h"),
                       ("errors", "Errors by type, last 24h")]:
        check(f'role="img" aria-labelledby="{cid}-t"' in page.text, f"quality chart {cid} role")
        check(f'<title id="{cid}-t">{title}</title>' in page.text, f"quality chart {cid} title")
    check("style=" not in page.text, "inline style on the quality page")
    check('href="/dash/quality"' in page.text and 'aria-current="page">Quality' in page.text,
          "quality page in the dashboards' navigation")

    # over time: thumbs-up rate, coverage, score, counts vs SQL on the tables
    want = psql(env.dsn, quality_series_sql(end, "24 hours", "1 hour"))
    eq(len(want), 24, "quality buckets")
    check(sum(int(w[4]) for w in want) > 40 and sum(int(w[6]) for w in want) > 3,
          "the seed has feedback and corrections in the window")
    for cid, cols in {"thumbs": [1, 2], "score": [3], "feedback": [4, 5, 6]}.items():
        exp = [[w[0]] + [w[c] for c in cols] for w in want]
        eq(table_rows(page.text, cid), exp, f"quality table {cid} vs SQL")
        r = a.get(f"/dash/quality?csv={cid}&window=24h&end={end}")
        eq(r.status, 200, f"quality csv {cid}")
        eq(csv_rows(r.text)[1], exp, f"quality csv {cid} vs SQL")
    total = sum(int(w[4]) for w in want)
    check(f'<dd id="tile-feedback">{total}</dd>' in page.text, "feedback tile")

    # a filter changes them as the SQL says (feedback counts in its generation's slice)
    wantf = psql(env.dsn, quality_series_sql(end, "7 days", "6 hours",
                                             "model = 'gpt-x' AND environment = 'prod'",
                                             "model = 'gpt-x' AND environment = 'prod'"))
    r = a.get(f"/dash/quality?csv=thumbs&window=7d&end={end}&model=gpt-x&environment=prod")
    eq(r.status, 200, "filtered quality csv")
    got = csv_rows(r.text)[1]
    eq(got, [[w[0], w[1], w[2]] for w in wantf], "filtered thumbs/coverage vs SQL")
    allw = psql(env.dsn, quality_series_sql(end, "7 days", "6 hours"))
    check(got != [[w[0], w[1], w[2]] for w in allw], "the quality filter changed nothing")
    r = a.get(f"/dash/quality?csv=feedback&window=7d&end={end}&provider=openai")
    wantp = psql(env.dsn, quality_series_sql(end, "7 days", "6 hours", "provider_name = 'openai'",
                                             "provider_name = 'openai'"))
    eq(csv_rows(r.text)[1], [[w[0], w[4], w[5], w[6]] for w in wantp], "provider filter vs SQL")

    # the before/after comparison: by release and by prompt version
    rel = psql(env.dsn, quality_compare_sql(end, "24 hours",
                                            "coalesce(nullif(release, ''), '(none)')",
                                            "coalesce(nullif(rel, ''), '(none)')"))
    check(len(rel) >= 2, "two releases to compare")
    eq(table_rows(page.text, "release"), [[w[0], w[1], w[2], w[3]] for w in rel],
       "quality by release vs SQL")
    eq(table_rows(page.text, "release-score"), [[w[0], w[4]] for w in rel], "score by release")
    eq(table_rows(page.text, "release-volume"), [[w[0], w[5], w[6], w[7]] for w in rel],
       "volume by release")
    pkey = ("CASE WHEN {t} = '' AND {v} = '' THEN '(none)' ELSE {t} || ' v' || {v} END")
    pr = psql(env.dsn, quality_compare_sql(
        end, "24 hours", pkey.format(t="coalesce(prompt_template, '')",
                                     v="coalesce(prompt_version, '')"),
        pkey.format(t="pt", v="pv")))
    eq(table_rows(page.text, "prompt"), [[w[0], w[1], w[2], w[3]] for w in pr],
       "quality by prompt version vs SQL")
    check(any(w[0] == "support v7" for w in pr) and any(w[0] == "agent v3" for w in pr),
          "prompt versions in the comparison")

    # errors by type
    errs = psql(env.dsn, f"""SELECT coalesce(nullif(error_type, ''), 'unknown'), count(*)
        FROM flywheel.generations WHERE status = 'error'
          AND event_time >= timestamptz '{end}' - interval '24 hours'
          AND event_time < timestamptz '{end}' GROUP BY 1 ORDER BY 2 DESC, 1""")
    check(len(errs) == 2, "two error types in the seed")
    eq(table_rows(page.text, "errors"), errs, "errors by type vs SQL")

    # the slowest and most expensive conversations link to their trace
    agent1 = one(env.dsn, "SELECT md5('dagent1')::uuid")
    for lid, order in [("slowest", "sum(duration_ms)"), ("costliest", "sum(cost_micro_usd)")]:
        want = psql(env.dsn, f"""
            SELECT coalesce(conversation_id, trace_id, event_id::text) AS k, count(*),
                   round(sum(duration_ms)::numeric, 1), round(max(duration_ms)::numeric, 1),
                   round(sum(cost_micro_usd) / 1e6, 4), count(*) FILTER (WHERE status = 'error')
            FROM flywheel.generations
            WHERE event_time >= timestamptz '{end}' - interval '24 hours'
              AND event_time < timestamptz '{end}'
            GROUP BY 1 ORDER BY {order} DESC NULLS LAST, 1 LIMIT 10""")
        m = re.search(r'<table class="grid nums" id="%s-data">(.*?)</table>' % lid, page.text, re.S)
        check(m, f"no {lid} table")
        rows = re.findall(r'<tr><th scope="row"><a href="/dash/trace/([0-9a-f-]+)">(.*?)</a></th>'
                          r'<td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>',
                          m.group(1))
        eq([[html.unescape(x) for x in row[1:]] for row in rows], want, f"{lid} vs SQL")
        eq(rows[0][:2], (agent1, "dconv-agent"), f"{lid}: the agent conversation first, linked")
        r = a.get(f"/dash/quality?csv={lid}&window=24h&end={end}")
        head, crow = csv_rows(r.text)
        eq(head[:3], ["conversation", "generations", "total duration (ms)"], f"{lid} csv header")
        eq([c[:6] for c in crow], want, f"{lid} csv vs SQL")

    # empty window, bad values
    r = a.get("/dash/quality?window=1h&end=2001-01-01T00:00Z")
    eq(r.status, 200, "empty quality window")
    check("No data in this window" in r.text and "None in this window" in r.text,
          "empty quality page says so")
    eq(a.get("/dash/quality?csv=nope").status, 404, "unknown quality chart")
    eq(a.get("/dash/quality?window=2h").status, 400, "unknown window on quality")

    # access: a reviewer and an adjudicator are refused by PostgreSQL
    for who in (rev, adj):
        c = Client(srv)
        c.signin(env.link(who))
        eq(c.get("/dash/quality").status, 403, f"{who} on /dash/quality")
        eq(c.get("/dash/quality?csv=slowest").status, 403, f"{who} on a quality csv")


def trace_page(env, srv, a, adj, rev, end):
    agent = [one(env.dsn, f"SELECT md5('dagent{i}')::uuid") for i in (1, 2, 3)]
    r = a.get(f"/dash/trace/{agent[1]}")
    eq(r.status, 200, f"trace as admin ({r.text[:300]})")
    t = r.text
    check("style=" not in t, "inline style on the trace page")
    check('<dd id="tile-calls">3</dd>' in t, "three calls in the agent conversation")
    for i in (1, 2, 3):
        check(f'id="call-{i}"' in t, f"call {i} shown")
    # the tool call with its arguments and its result
    check("track_order" in t and "&quot;order&quot;: 42" in t, "tool call and arguments")
    check("&quot;status&quot;: &quot;shipped&quot;" in t, "tool result")
    # model text is escaped, never markup
    check("&lt;script&gt;alert(&quot;agent&quot;)&lt;/script&gt;" in t, "model text escaped")
    check("<script>alert" not in t and "<b>Thanks</b>" not in t, "model text as markup")
    check("Secret system prompt" in t, "the admin sees the system prompt")
    check("The first 2 messages of its input are the previous call" in t,
          "a continuing call shows only what is new")
    # feedback by response id, with its comment (escaped) for an admin
    check("Fast &lt;em&gt;enough&lt;/em&gt;" in t, "feedback comment on the trace")
    # the calls table and the timing chart equal SQL
    want = psql(env.dsn, """SELECT round(ttft_ms::numeric, 1), round((duration_ms - ttft_ms)::numeric, 1)
        FROM flywheel.generations WHERE conversation_id = 'dconv-agent' ORDER BY event_time""")
    got = table_rows(t, "timing")
    eq([g[1:] for g in got], want, "timing table vs SQL")
    check(got[0][0].startswith("1 · "), "timing labels number the calls")
    c = a.get(f"/dash/trace/{agent[0]}?csv=timing")
    eq(c.status, 200, "timing csv")
    eq([row[1:] for row in csv_rows(c.text)[1]], want, "timing csv vs SQL")
    check('role="img" aria-labelledby="timing-t"' in t, "timing chart has role=img")

    # a generation of the support queue: its labels with their values
    web1 = one(env.dsn, """SELECT i.event_id FROM flywheel.review_items i
        JOIN flywheel.review_labels l ON l.item_id = i.id ORDER BY i.id LIMIT 1""")
    r = a.get(f"/dash/trace/{web1}")
    eq(r.status, 200, "trace of a labelled generation")
    labels = psql(env.dsn, f"""SELECT count(*) FROM flywheel.review_current_labels c
        JOIN flywheel.review_items i ON i.id = c.item_id WHERE i.event_id = '{web1}'""")
    n = len(re.findall(r"<pre class=\"json\">\{", re.search(
        r'id="labels-data">(.*?)</table>', r.text, re.S).group(1)))
    eq(str(n), labels[0][0], "label values on the trace")
    check('<dd id="tile-calls">1</dd>' in r.text, "a trace id alone: one call")

    # a reader may see timing and metadata, not the text
    c = Client(srv)
    c.signin(env.link(rev))
    eq(c.get(f"/dash/trace/{agent[0]}").status, 403, "reviewer on a trace")
    psql(env.dsn, f'GRANT flywheel_reader TO "{rev}"')
    try:
        r = c.get(f"/dash/trace/{agent[0]}")
        eq(r.status, 200, "reader on a trace")
        check('<dd id="tile-calls">3</dd>' in r.text, "reader sees the calls")
        for secret in ("Where is my order", "Secret system prompt", "track_order",
                       "Fast &lt;em&gt;"):
            check(secret not in r.text, f"a reader sees {secret!r}")
        check("The messages, tool calls and system prompt: your account may not read this"
              in r.text, "reader's refusal note for the messages")
        check("may not read feedback text" in r.text, "reader's note for feedback comments")
        check('id="feedback-data"' in r.text, "the reader still sees the feedback values")
    finally:
        psql(env.dsn, f'REVOKE flywheel_reader FROM "{rev}"')
    c = Client(srv)
    c.signin(env.link(adj))
    eq(c.get(f"/dash/trace/{agent[0]}").status, 403, "adjudicator on a trace")
    # not found and malformed ids
    eq(a.get("/dash/trace/00000000-0000-0000-0000-000000000000").status, 404, "unknown trace")
    eq(a.get("/dash/trace/not-a-uuid").status, 404, "malformed trace id")
    eq(a.get(f"/dash/trace/{agent[0]}?csv=nope").status, 404, "unknown trace csv")


# ---- collector and ingest, dead letters ---------------------------------------------------

def pb_varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def pb_field(num, wire, payload):
    key = pb_varint(num << 3 | wire)
    if wire == 2:
        return key + pb_varint(len(payload)) + payload
    return key + payload


def feedback_event(event_id, target, t_ns):
    """A flywheel.v1 Event with a Feedback body (schema/flywheel/v1), encoded by hand."""
    import struct
    import uuid
    fb = (pb_field(1, 2, uuid.UUID(target).bytes) + pb_field(4, 2, b"thumbs")
          + pb_field(5, 0, pb_varint(1)))
    return (pb_field(1, 2, uuid.UUID(event_id).bytes) + pb_field(2, 1, struct.pack("<Q", t_ns))
            + pb_field(3, 2, b"shop") + pb_field(8, 0, pb_varint(1)) + pb_field(17, 2, fb))


def seed_ingest(env, end):
    """Dead letters (one replayable feedback event, one still garbage), collector
    offsets on three partitions, and a source partition on the mini generations."""
    import time
    good_id = one(env.dsn, "SELECT md5('dl-good')::uuid")
    target = one(env.dsn, "SELECT md5('dash3')::uuid")
    good = feedback_event(good_id, target, int(time.time() * 1e9) - 3600 * 10**9)
    bad = b"\x00\xff<script>alert(1)</script>\x08garbage\x7f" + bytes(range(256)) * 3
    psql(env.dsn, f"""
        INSERT INTO flywheel.dead_letters (received_at, consumer_group, topic, partition, "offset",
            message_key, payload, reason, detail, event_id)
        VALUES (timestamptz '{end}' - interval '3 hours', 'flywheel-collector', 'flywheel.events',
                1, 41, 'k1', '\\x{good.hex()}', 'invalid_utf8', 'was refused by an older build',
                '{good_id}'),
               (timestamptz '{end}' - interval '2 hours', 'flywheel-collector', 'flywheel.events',
                2, 77, NULL, '\\x{bad.hex()}', 'undecodable', 'not a protobuf <b>message</b>', NULL),
               (timestamptz '{end}' - interval '30 hours', 'flywheel-collector', 'flywheel.events',
                2, 12, NULL, '\\x00', 'empty_message', '', NULL);
        INSERT INTO flywheel.ingest_offsets (consumer_group, topic, partition, next_offset, updated_at)
        SELECT 'flywheel-collector', 'flywheel.events', p, 1000 * (p + 1), now() - (p || ' minutes')::interval
        FROM generate_series(0, 2) p;
        UPDATE flywheel.generations SET source_topic = 'flywheel.events',
               source_partition = get_byte(decode(md5(event_id::text), 'hex'), 0) % 3
        WHERE request_model = 'mini';
        -- the seed's rows (their ids carry no time) leave the default partition now, not
        -- while a page reads them: the collector started later moves them at its start
        SELECT flywheel.maintain_partitions();""")
    return psql(env.dsn, "SELECT id FROM flywheel.dead_letters ORDER BY id")


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_collector(env):
    """The real collector on a topic of its own, for its /metrics."""
    import subprocess
    import time
    import urllib.request
    port = free_port()
    log = open(f"/tmp/fwt_dash_collector_{env.pid}.log", "w+")
    proc = subprocess.Popen([os.path.join(env.build, "collector", "flywheel-collector"),
                             f"--kafka.bootstrap.servers={os.environ['FLYWHEEL_KAFKA_BOOTSTRAP']}",
                             f"--kafka.group.id=fwt_dash_{env.pid}", f"--topics=fwt_dash_{env.pid}",
                             f"--pg.dsn={env.dsn}", f"--http.listen=127.0.0.1:{port}"],
                            stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/metrics"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            body = urllib.request.urlopen(url, timeout=1).read().decode()
            if "flywheel_collector_pg_up 1" in body:
                return proc, url
        except OSError:
            pass
        if proc.poll() is not None:
            log.seek(0)
            fail(f"flywheel-collector exited: {log.read()[-2000:]}")
        time.sleep(0.1)
    proc.kill()
    fail("the collector's /metrics did not show pg_up 1 within 20 s")


def ingest_page(env, admin, adj, rev, end, dls):
    import socket
    import threading
    import time
    collector, curl = start_collector(env)
    # a listener that accepts and never answers, and a closed port
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(8)
    hang_url = f"http://127.0.0.1:{hang.getsockname()[1]}/metrics"
    closed_url = f"http://127.0.0.1:{free_port()}/metrics"
    srv = env.serve("rate.signin_per_minute=100000", "dash.metrics_timeout_ms=800",
                    f"dash.collector_metrics={curl},{hang_url},{closed_url}")
    try:
        a = Client(srv)
        a.signin(env.link(admin))
        t0 = time.time()
        page = a.get(f"/dash/ingest?window=24h&end={end}")
        took = time.time() - t0
        eq(page.status, 200, f"GET /dash/ingest as admin ({page.text[:300]})")
        check(took < 5, f"the ingest page waited {took:.1f} s for a collector that hangs")
        t = page.text
        check("style=" not in t, "inline style on the ingest page")
        for cid, title in [("rate", "Events per second, last 24h"),
                           ("lag", "Ingest lag per partition (event time to stored), last 24h"),
                           ("offsets", "Seconds since each partition&#39;s offset moved"),
                           ("reasons", "Dead letters by reason, last 24h"),
                           ("consumer-lag",
                            "Consumer lag per partition (collectors&#39; /metrics, now)")]:
            check(f'<title id="{cid}-t">{title}</title>' in t, f"ingest chart {cid}")
        # the collectors: the real one answers, the others are shown as failed
        rows = re.findall(r'<tr><th scope="row">(\d)</th><td class="url">(.*?)</td><td>(.*?)</td>'
                          r'<td>(.*?)</td>', t)
        eq(len(rows), 3, "three collectors listed")
        check("ok" in rows[0][2] and rows[0][3] == "1", f"the real collector: {rows[0]}")
        check("unreachable" in rows[1][2]
              and ("800 ms" in rows[1][2] or "timed out" in rows[1][2]),
              f"the hanging collector: {rows[1]}")
        check("unreachable" in rows[2][2], f"the closed port: {rows[2]}")

        # events per second vs SQL
        want = psql(env.dsn, f"""
            SELECT to_char(h AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
              round((SELECT count(*) FROM flywheel.generations g WHERE g.event_time >= h
                       AND g.event_time < h + interval '1 hour') / 3600.0, 4),
              round((SELECT count(*) FROM flywheel.feedback f WHERE f.event_time >= h
                       AND f.event_time < h + interval '1 hour') / 3600.0, 4),
              round((SELECT count(*) FROM flywheel.dead_letters d WHERE d.received_at >= h
                       AND d.received_at < h + interval '1 hour') / 3600.0, 4)
            FROM generate_series(timestamptz '{end}' - interval '24 hours',
                                 timestamptz '{end}' - interval '1 hour', interval '1 hour') h
            ORDER BY h""")
        eq(table_rows(t, "rate"), want, "events per second vs SQL")
        r = a.get(f"/dash/ingest?csv=rate&window=24h&end={end}")
        eq(csv_rows(r.text)[1], want, "events per second csv")
        # ingest lag per source partition vs SQL
        want = psql(env.dsn, f"""
            SELECT CASE WHEN source_topic IS NULL THEN '(not from Kafka)'
                        ELSE source_topic || '/' || source_partition END,
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag)::numeric, 1),
              round(percentile_cont(0.95) WITHIN GROUP (ORDER BY lag)::numeric, 1),
              round(max(lag)::numeric, 1)
            FROM (SELECT source_topic, source_partition,
                         extract(epoch FROM received_at - event_time) * 1000 AS lag
                  FROM flywheel.generations WHERE event_time >= timestamptz '{end}' - interval '24 hours'
                    AND event_time < timestamptz '{end}') s
            GROUP BY source_topic, source_partition ORDER BY source_topic NULLS LAST, source_partition""")
        check(len(want) == 4, "three source partitions and rows not from Kafka")
        eq(table_rows(t, "lag"), want, "ingest lag per partition vs SQL")
        # offsets per partition (table and chart) vs the table
        want = psql(env.dsn, """SELECT consumer_group, topic, partition, next_offset,
                to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
            FROM flywheel.ingest_offsets ORDER BY topic, partition, consumer_group""")
        got = re.search(r'id="partitions-data">(.*?)</table>', t, re.S).group(1)
        got = [[html.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr)][:5]
               for tr in re.findall(r"<tr>(.*?)</tr>", got.split("<tbody>")[1])]
        eq(got, want, "collector offsets vs flywheel.ingest_offsets")
        # dead letters by reason, and the list with links
        want = psql(env.dsn, f"""SELECT reason, count(*) FILTER (WHERE replayed_at IS NULL),
                count(*) FILTER (WHERE replayed_at IS NOT NULL) FROM flywheel.dead_letters
            WHERE received_at >= timestamptz '{end}' - interval '24 hours'
              AND received_at < timestamptz '{end}' GROUP BY 1 ORDER BY count(*) DESC, 1""")
        eq(table_rows(t, "reasons"), want, "dead letters by reason vs SQL")
        check(f'<a href="/dash/deadletter/{dls[0][0]}">{dls[0][0]}</a>' in t
              and f'<a href="/dash/deadletter/{dls[1][0]}">{dls[1][0]}</a>' in t,
              "each dead letter of the window links to its page")
        check(f'/dash/deadletter/{dls[2][0]}"' not in t, "a dead letter outside the window listed")
        r = a.get(f"/dash/ingest?csv=deadletters&window=24h&end={end}")
        head, rows = csv_rows(r.text)
        eq([row[0] for row in rows], [dls[1][0], dls[0][0]], "dead letters csv")
        r = a.get(f"/dash/ingest?window=30d&end={end}")
        check(f'/dash/deadletter/{dls[2][0]}"' in r.text, "a longer window lists the older one")

        # one dead letter: escaped, hex-safe payload; replay for admins
        bad_id, good_id = dls[1][0], dls[0][0]
        r = a.get(f"/dash/deadletter/{bad_id}")
        eq(r.status, 200, "dead letter page")
        check("not a protobuf &lt;b&gt;message&lt;/b&gt;" in r.text, "detail escaped")
        check("<script>alert(1)" not in r.text, "payload as markup")
        check("00 ff 3c 73 63 72 69 70" in r.text, "payload hex dump")
        check("|..&lt;script&gt;alert" in r.text, "payload ASCII column escaped")
        check("The first 512 of" in r.text, "a long payload says it is cut")
        check(f'action="/dash/deadletter/{bad_id}/replay"' in r.text, "admin's replay button")
        csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
        r = a.post(f"/dash/deadletter/{bad_id}/replay", {"csrf": csrf})
        eq(r.status, 303, "replay answers with a redirect")
        eq(r.header("Location"), f"/dash/deadletter/{bad_id}?outcome=invalid", "still invalid")
        eq(one(env.dsn, f"SELECT replay_count FROM flywheel.dead_letters WHERE id = {bad_id}"),
           "0", "an invalid replay changes nothing")
        r = a.post(f"/dash/deadletter/{good_id}/replay", {"csrf": csrf})
        eq(r.header("Location"), f"/dash/deadletter/{good_id}?outcome=inserted", "replayed")
        eq(one(env.dsn, "SELECT count(*) FROM flywheel.feedback WHERE event_id = md5('dl-good')::uuid"),
           "1", "the replayed feedback row")
        eq(one(env.dsn, f"SELECT replay_count FROM flywheel.dead_letters WHERE id = {good_id}"),
           "1", "replay counted")
        r = a.get(f"/dash/deadletter/{good_id}?outcome=inserted")
        check("Replayed: the row was inserted." in r.text and "Replay again" in r.text,
              "outcome shown, replay again offered")
        r = a.post(f"/dash/deadletter/{good_id}/replay", {"csrf": csrf})
        eq(r.header("Location"), f"/dash/deadletter/{good_id}?outcome=skipped", "no again: skipped")
        r = a.post(f"/dash/deadletter/{good_id}/replay", {"csrf": csrf, "again": "1"})
        eq(r.header("Location"), f"/dash/deadletter/{good_id}?outcome=present", "again: present")
        eq(one(env.dsn, "SELECT count(*) FROM flywheel.web_audit WHERE action = 'dlq_replay'"),
           "4", "replays audited")
        # CSRF as on every form
        eq(a.post(f"/dash/deadletter/{good_id}/replay", {"csrf": "x" * 43}).status, 403,
           "replay without the csrf token")
        eq(a.post(f"/dash/deadletter/{good_id}/replay", {"csrf": csrf},
                  headers={"Sec-Fetch-Site": "cross-site"}).status, 403, "cross-site replay")
        eq(a.get("/dash/deadletter/999999").status, 404, "unknown dead letter")
        eq(a.get("/dash/ingest?csv=nope").status, 404, "unknown ingest chart")

        # roles: a reviewer and an adjudicator get nothing; a reader sees the ingest
        # page, but not payloads, and may not replay
        for who in (rev, adj):
            c = Client(srv)
            c.signin(env.link(who))
            eq(c.get("/dash/ingest").status, 403, f"{who} on /dash/ingest")
            eq(c.get(f"/dash/deadletter/{bad_id}").status, 403, f"{who} on a dead letter")
            ct = c.csrf()
            eq(c.post(f"/dash/deadletter/{good_id}/replay", {"csrf": ct, "again": "1"}).status,
               403, f"{who} replays")
        c = Client(srv)
        c.signin(env.link(rev))
        psql(env.dsn, f'GRANT flywheel_reader TO "{rev}"')
        try:
            eq(c.get(f"/dash/ingest?end={end}").status, 200, "a reader on /dash/ingest")
            eq(c.get(f"/dash/deadletter/{bad_id}").status, 403, "a reader reads a payload")
            ct = c.csrf()
            eq(c.post(f"/dash/deadletter/{good_id}/replay", {"csrf": ct, "again": "1"}).status,
               403, "a reader replays")
        finally:
            psql(env.dsn, f'REVOKE flywheel_reader FROM "{rev}"')
        eq(one(env.dsn, f"SELECT replay_count FROM flywheel.dead_letters WHERE id = {good_id}"),
           "2", "refused replays changed nothing")
    finally:
        collector.terminate()
        collector.wait(10)
        hang.close()


def main():
    env = Env("serve_dash")
    end = one(env.dsn, "SELECT to_char(date_trunc('hour', now() AT TIME ZONE 'UTC'), "
                       "'YYYY-MM-DD\"T\"HH24:00\"Z\"')")
    psql(env.dsn, f"\\set n 6\n\\i {HERE}/seed.sql\n")
    psql(env.dsn, f"\\set end '{end}'\n\\i {HERE}/dash_seed.sql\n")
    psql(env.dsn, f"\\set end '{end}'\n\\i {HERE}/dash_quality_seed.sql\n")
    dls = seed_ingest(env, end)
    admin, admin_tok = env.account("admin", role="admin")
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
    quality_page(env, srv, a, adj, rev, end)
    trace_page(env, srv, a, adj, rev, end)
    ingest_page(env, admin, adj, rev, end, dls)


run_main(main)
