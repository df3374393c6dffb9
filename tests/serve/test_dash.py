"""HTTP tests of the overview dashboard of `flywheel serve` against the real
server and PostgreSQL: on seeded generations, the page's numbers (summary,
every chart's table, the breakdown) equal the same queries run directly in
PostgreSQL; a filter and a window change them as the SQL says; the CSV of
each chart holds the table's numbers; values are escaped; access follows the
database's grants (an admin sees it, a reviewer gets 403 until its role is
granted flywheel_reader)."""
import csv
import html
import io
import re

from fwserve import Client, Env, check, eq, one, psql, run_main

SEED = r"""
SELECT flywheel.maintain_partitions(2, 2);
INSERT INTO flywheel.generations (event_id, event_time, schema_version, environment, project,
    release, request_model, provider_name, trace_id, status, error_type, input_messages,
    output_messages, input_tokens, output_tokens, duration_ms, ttft_ms, cost_micro_usd)
SELECT md5('d' || i)::uuid,
       now() - (i * 7) * interval '1 minute',
       1, CASE WHEN i % 3 = 0 THEN 'staging' ELSE 'prod' END, 'shop', 'r' || (i % 2),
       CASE WHEN i % 4 = 0 THEN '<script>m</script>' WHEN i % 2 = 0 THEN 'model-a'
            ELSE 'model-b' END,
       'openai', md5('t' || i), CASE WHEN i % 10 = 0 THEN 'error' ELSE 'ok' END,
       CASE WHEN i % 10 = 0 THEN 'timeout' END,
       '[]'::jsonb, '[]'::jsonb, 100 + i, 20 + i, 300 + 13 * i, 80 + i, 1000 * i
FROM generate_series(1, 300) i;
"""


def table_rows(page, table_id):
    m = re.search(rf'<table class="grid" id="{table_id}">(.*?)</table>', page, re.S)
    check(m, f"no table {table_id}")
    rows = re.findall(r"<tr>(.*?)</tr>", m.group(1).split("<tbody>")[1], re.S)
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in rows]


def chart_rows(page, chart):
    m = re.search(rf'<figure class="chart" id="chart-{chart}".*?<tbody>(.*?)</tbody>', page, re.S)
    check(m, f"no chart {chart}")
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S)]


def summary(page):
    m = re.search(r'id="summary"><strong>(\d+)</strong> generations, <strong>(\d+)</strong> '
                  r'errors .*?<strong>([\d.]+)</strong> USD', page)
    check(m, "no summary")
    return int(m.group(1)), int(m.group(2)), m.group(3)


def main():
    env = Env("serve_dash")
    psql(env.dsn, SEED)
    ops, ops_tok = env.account("ops", role="admin")
    maria, maria_tok = env.account("maria")
    srv = env.serve()
    o, m = Client(srv), Client(srv)
    o.signin(ops_tok)
    m.signin(maria_tok)

    # access: the database's grants
    eq(m.get("/dash").status, 403, "a reviewer is refused the dashboard")
    eq(m.get("/dash/overview.csv?chart=volume").status, 403, "and its CSV")
    check('href="/dash"' not in m.get("/queues").text, "no dashboard link for a reviewer")

    # 24 hours (the default): the summary and the breakdown equal the SQL
    r = o.get("/dash")
    eq(r.status, 200, "overview")
    page = r.text
    check("<script>m</script>" not in page and "&lt;script&gt;m&lt;/script&gt;" in page,
          "a model name is escaped")
    for cap in ["Generations and errors", "Latency percentiles", "Tokens", "Cost"]:
        check(re.search(rf'<svg class="chart"[^>]*role="img" aria-label="{cap}', page),
              f"chart {cap!r} is an image with its name")
    where = ("event_time >= date_bin('1 hour', now() - interval '24 hours', "
             "timestamptz '2000-01-01 00:00+00') AND event_time <= now()")
    want = psql(env.dsn, f"SELECT count(*), count(*) FILTER (WHERE is_error), "
                         f"round(sum(cost_usd)::numeric, 2) FROM flywheel.generation_facts "
                         f"WHERE {where}")[0]
    n, errors, usd = summary(page)
    eq([str(n), str(errors), usd], want, "summary equals the SQL")
    bd = table_rows(page, "breakdown")
    sql = psql(env.dsn, f"SELECT model, count(*), count(*) FILTER (WHERE is_error), "
                        f"round(sum(cost_usd)::numeric, 4) FROM flywheel.generation_facts "
                        f"WHERE {where} GROUP BY 1 ORDER BY 2 DESC, 1")
    eq([[row[0], row[1], row[2], row[8]] for row in bd], sql, "the breakdown by model")

    # every bucket of the volume chart: ok + errors per hour as the SQL says
    vol = chart_rows(page, "volume")
    eq(sum(int(a) + int(b) for _, a, b in vol), n, "the volume chart adds up to the total")
    eq(len(vol), int(one(env.dsn, "SELECT count(*) FROM generate_series(date_bin('1 hour', "
                                  "now() - interval '24 hours', timestamptz '2000-01-01 00:00+00'), "
                                  "now(), '1 hour')")), "one row per hour of the window")
    sql_hours = {r[0]: r[1:] for r in psql(env.dsn, (
        "SELECT to_char(date_bin('1 hour', event_time, timestamptz '2000-01-01 00:00+00') "
        "AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI\"Z\"'), count(*) FILTER (WHERE NOT is_error), "
        "count(*) FILTER (WHERE is_error), round(percentile_cont(0.95) WITHIN GROUP "
        f"(ORDER BY duration_ms)::numeric, 0) FROM flywheel.generation_facts WHERE {where} "
        "AND event_time >= date_bin('1 hour', now() - interval '24 hours', "
        "timestamptz '2000-01-01 00:00+00') GROUP BY 1"))}
    lat = {row[0]: row for row in chart_rows(page, "latency")}
    for t, ok, err in vol:
        got = sql_hours.get(t, ["0", "0", None])
        eq([ok, err], got[:2], f"volume at {t}")
        if got[2] is not None:
            eq(lat[t][2], got[2], f"p95 latency at {t}")
        else:
            eq(lat[t][2], "", f"no p95 latency at {t} (empty bucket)")

    # a filter and a window change the numbers as the SQL says
    r = o.get("/dash?window=1h&model=model-b&by=environment")
    eq(r.status, 200, "filtered overview")
    n1, e1, _ = summary(r.text)
    want = psql(env.dsn, "SELECT count(*), count(*) FILTER (WHERE is_error) FROM "
                         "flywheel.generation_facts WHERE event_time >= date_bin('5 minutes', "
                         "now() - interval '1 hour', timestamptz '2000-01-01 00:00+00') "
                         "AND event_time <= now() AND model = 'model-b'")[0]
    eq([str(n1), str(e1)], want, "model filter and 1-hour window")
    check(n1 < n, "the filter narrows the numbers")
    check('value="model-b"' in r.text and '<option value="1h" selected>' in r.text,
          "the filters are kept in the form (and the URL)")
    envs = [row[0] for row in table_rows(r.text, "breakdown")]
    eq(sorted(envs), sorted(set(envs)), "the breakdown by environment")
    check(set(envs) <= {"prod", "staging"}, f"environments {envs}")
    r = o.get("/dash?window=bogus")
    eq(summary(r.text)[0], n, "an unknown window falls back to 24 hours")

    # CSV: the chart's numbers, as an attachment
    r = o.get("/dash/overview.csv?window=24h&chart=volume")
    eq(r.status, 200, "CSV")
    check(r.header("Content-Type").startswith("text/csv"), "CSV content type")
    check("attachment" in r.header("Content-Disposition"), "CSV is a download")
    rows = list(csv.reader(io.StringIO(r.text)))
    eq(rows[0], ["bucket_start_utc", "ok", "error"], "CSV header")
    eq(rows[1:], vol, "the CSV holds the chart's table")
    r = o.get("/dash/overview.csv?chart=breakdown")
    rows = list(csv.reader(io.StringIO(r.text)))
    eq([x[0] for x in rows[1:]], [x[0] for x in bd], "the breakdown CSV (a name with < and "
                                                        "quotes is a plain CSV field)")
    eq(o.get("/dash/overview.csv?chart=nope").status, 404, "an unknown chart")

    # a reviewer allowed to read the views sees the page
    psql(env.admin, f'GRANT flywheel_reader TO "{maria}"')
    eq(m.get("/dash").status, 200, "a reviewer granted flywheel_reader")


run_main(main)
