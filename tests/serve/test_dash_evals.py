"""HTTP tests of the eval run pages (issue 15): two real `flywheel eval run`s
(a baseline and a candidate, against examples/fake_openai.py) on an eval
dataset version exported from a labelled queue; /dash/evals lists them with
each scorer's mean, a run's page shows its usage, scores by scorer and every
case's scores, and the comparison shows per scorer the means on the common
cases, B − A and the cases improved, regressed and unchanged: every number
equals SQL run directly on flywheel.eval_runs, eval_cases and eval_scores.
Access comes from PostgreSQL: a reviewer and an adjudicator get 403, a
reviewer granted flywheel_reader sees the pages."""
import json
import os
import subprocess
import sys
import tempfile
import time

from fwserve import Client, Env, check, eq, fail, one, psql, run_main
from test_dash_datasets import label_as, table_rows

HERE = os.path.dirname(os.path.abspath(__file__))
SCORERS = ["contains", "exact", "normalized"]


def start_fake(env, script, tmp):
    path = os.path.join(tmp, "script.json")
    with open(path, "w") as f:
        json.dump(script, f)
    port_file = os.path.join(tmp, "port")
    proc = subprocess.Popen([sys.executable, os.path.join(env.source, "examples", "fake_openai.py"),
                             "--script", path, "--port-file", port_file],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env.servers.append(type("Fake", (), {"stop": lambda self: proc.kill()})())
    deadline = time.time() + 10
    while time.time() < deadline:
        if os.path.exists(port_file) and open(port_file).read().strip():
            return f"http://127.0.0.1:{open(port_file).read().strip()}/v1"
        check(proc.poll() is None, "fake_openai.py exited")
        time.sleep(0.05)
    fail("fake_openai.py did not write its port within 10 s")


def eval_run(env, name, model, endpoint):
    args = [env.fw, "eval", "run", "--dataset", "sup", "--version", "1", "--name", name,
            "--endpoint", endpoint, "--model", model, "--retries", "1", "--timeout", "10",
            "--price", "1,2", "--no-progress", "-q", "--dsn", env.dsn]
    for s in SCORERS:
        args += ["--scorer", s]
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"flywheel eval run {name} failed ({p.returncode}): {p.stderr.strip()}")


def score3(x):
    return "" if x == "" else f"{float(x):.3f}"


def main():
    env = Env("serve_dash_evals")
    psql(env.dsn, f"\\set n 6\n\\i {HERE}/seed.sql\n")
    _, admin_tok = env.account("admin", role="admin")
    _, adj_tok = env.account("adj", role="adjudicator")
    rev, rev_tok = env.account("rev")
    rev2, _ = env.account("rev2")
    label_as(env, rev, ["true"] * 6)
    label_as(env, rev2, ["true", "false", "true", "true", "false", "true"])
    srv = env.serve("rate.signin_per_minute=100000")
    a = Client(srv)
    a.signin(admin_tok)
    p = a.get("/dash/evals")
    eq(p.status, 200, f"empty eval list ({p.text[:300]})")
    check("No eval run is stored yet" in p.text and "No data in this window" in p.text,
          "the empty list says so")

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "sup")
        p = subprocess.run([env.fw, "export", "--format", "eval", "--queue", "support",
                            "--consensus", "majority", "--dataset", "sup", "-o", out,
                            "--dsn", env.dsn], capture_output=True, text=True)
        eq(p.returncode, 0, f"export ({p.stderr})")
        cases = []
        for split in ["train", "validation", "test"]:
            with open(os.path.join(out, f"{split}.jsonl")) as f:
                cases += [json.loads(line) for line in f]
        check(len(cases) >= 4, f"eval cases: {len(cases)}")
        answers = {}
        for i, c in enumerate(cases):
            q = [m for m in c["input"]["messages"] if m["role"] == "user"][-1]["content"]
            ideal = c["ideal"]
            # the baseline: right on all but case 3; the candidate: an error
            # (HTTP 500 twice) on case 0, right up to case and punctuation on
            # case 1, wrong on case 2, right on the others
            answers[f"base|{q}"] = {"content": ideal if i != 3 else "no idea",
                                    "usage": [10, 5]}
            cand = {"content": ideal, "usage": [12, 7]}
            if i == 0:
                cand = {"content": ideal, "fail": [500, 500]}
            elif i == 1:
                cand["content"] = ideal.upper() + "!"
            elif i == 2:
                cand["content"] = "something else"
            answers[f"cand|{q}"] = cand
        endpoint = start_fake(env, {"answers": answers}, tmp)
        eval_run(env, "base", "base", endpoint)
        eval_run(env, "cand", "cand", endpoint)

    # the list
    page = a.get("/dash/evals")
    eq(page.status, 200, "eval list")
    check("style=" not in page.text, "inline style on the eval list")
    want = psql(env.dsn, f"""
        SELECT r.name, r.dataset || ' v' || r.dataset_version, r.model, r.status,
               (SELECT count(*) FROM flywheel.eval_cases c WHERE c.run_id = r.id),
               (SELECT count(*) FROM flywheel.eval_cases c WHERE c.run_id = r.id
                  AND c.status = 'error'),
               to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
               {", ".join(f"(SELECT coalesce(round(avg(s.score)::numeric, 3)::text, '') "
                          f"FROM flywheel.eval_scores s WHERE s.run_id = r.id "
                          f"AND s.scorer = '{s}')" for s in SCORERS)}
        FROM flywheel.eval_runs r ORDER BY r.created_at DESC, r.name""")
    eq(table_rows(page.text, "runs-list"), want, "the run list vs SQL")
    eq(table_rows(page.text, "scores"), [[w[0]] + w[7:] for w in want], "mean scores chart")
    r = a.get("/dash/evals?csv=scores")
    eq(r.text, "run," + ",".join(SCORERS) + "\r\n" +
       "".join(",".join([w[0]] + w[7:]) + "\r\n" for w in want), "scores csv")
    check('<option value="base" selected>' in page.text and
          '<option value="cand" selected>' in page.text, "compare form preselects the runs")

    # a run's page
    page = a.get("/dash/evals/run/cand")
    eq(page.status, 200, "run page")
    check("style=" not in page.text, "inline style on the run page")
    tiles = psql(env.dsn, """
        SELECT count(*), r.cases_total, count(*) FILTER (WHERE c.status = 'error'),
               to_char(sum(c.cost_usd), 'FM999990.0000'),
               round(percentile_cont(0.5) WITHIN GROUP (ORDER BY c.latency_ms)::numeric, 1),
               round(percentile_cont(0.95) WITHIN GROUP (ORDER BY c.latency_ms)::numeric, 1)
        FROM flywheel.eval_runs r JOIN flywheel.eval_cases c ON c.run_id = r.id
        WHERE r.name = 'cand' GROUP BY r.cases_total""")[0]
    check(f'<dd id="tile-cases">{tiles[0]} of {tiles[1]}</dd>' in page.text, "cases tile")
    check(f'<dd id="tile-errors">{tiles[2]}</dd>' in page.text, "errors tile")
    eq(tiles[2], "1", "the candidate has one error case")
    check(f'<dd id="tile-cost">{tiles[3]}</dd>' in page.text, "cost tile")
    check(f'<dd id="tile-latency">{tiles[4]} / {tiles[5]}</dd>' in page.text, "latency tile")
    means = psql(env.dsn, """SELECT s.scorer, round(avg(s.score)::numeric, 3)
                             FROM flywheel.eval_scores s JOIN flywheel.eval_runs r ON r.id = s.run_id
                             WHERE r.name = 'cand' GROUP BY 1 ORDER BY 1""")
    eq(table_rows(page.text, "scores"), means, "scores by scorer vs SQL")
    eq(a.get("/dash/evals/run/cand?csv=scores").text,
       "scorer,mean score\r\n" + "".join(f"{s},{m}\r\n" for s, m in means), "run scores csv")
    per_case = psql(env.dsn, f"""
        SELECT c.case_id, c.split, c.status, round(c.latency_ms::numeric, 1),
               {", ".join(f"(SELECT coalesce(round(s.score::numeric, 3)::text, '') "
                          f"FROM flywheel.eval_scores s WHERE s.run_id = c.run_id "
                          f"AND s.case_id = c.case_id AND s.scorer = '{s}')" for s in SCORERS)},
               coalesce(c.error, '')
        FROM flywheel.eval_cases c JOIN flywheel.eval_runs r ON r.id = c.run_id
        WHERE r.name = 'cand' ORDER BY c.seq""")
    eq(table_rows(page.text, "cases"), per_case, "per-case results vs SQL")
    eq(a.get("/dash/evals/run/nope").status, 404, "unknown run")

    # the comparison
    page = a.get("/dash/evals/compare?a=base&b=cand")
    eq(page.status, 200, f"compare page ({page.text[:300]})")
    check("style=" not in page.text, "inline style on the comparison")
    want = psql(env.dsn, """
        WITH x AS (SELECT sa.scorer, sa.score AS a, sb.score AS b
                   FROM flywheel.eval_scores sa
                   JOIN flywheel.eval_runs ra ON ra.id = sa.run_id AND ra.name = 'base'
                   JOIN flywheel.eval_scores sb ON sb.case_id = sa.case_id
                        AND sb.scorer = sa.scorer
                   JOIN flywheel.eval_runs rb ON rb.id = sb.run_id AND rb.name = 'cand'
                   WHERE sa.score IS NOT NULL AND sb.score IS NOT NULL)
        SELECT scorer, count(*), round(avg(a)::numeric, 3), round(avg(b)::numeric, 3),
               round((avg(b) - avg(a))::numeric, 3),
               count(*) FILTER (WHERE b - a > 1e-9), count(*) FILTER (WHERE a - b > 1e-9),
               count(*) FILTER (WHERE abs(b - a) <= 1e-9)
        FROM x GROUP BY scorer ORDER BY scorer""")
    got = table_rows(page.text, "deltas")
    eq([[g[0], g[1], g[2], g[3], g[4].lstrip("+"), g[6], g[7], g[8]] for g in got],
       [w[:4] + [w[4].replace("-0.000", "0.000")] + w[5:] for w in want],
       "per scorer: n, means, B − A, improved, regressed, unchanged vs SQL")
    by = {w[0]: w for w in want}
    eq(by["exact"][5:], ["1", "3", str(int(by["exact"][1]) - 4)], "exact: wins/losses/ties")
    eq(by["normalized"][5:], ["1", "2", str(int(by["normalized"][1]) - 3)],
       "normalized: case and punctuation do not count")
    eq(table_rows(page.text, "means"), [[w[0], w[2], w[3]] for w in want], "means chart table")
    eq(table_rows(page.text, "outcomes"), [[w[0]] + w[5:] for w in want], "outcomes chart table")
    r = a.get("/dash/evals/compare?a=base&b=cand&csv=outcomes")
    eq(r.text, "scorer,improved,regressed,unchanged\r\n" +
       "".join(",".join([w[0]] + w[5:]) + "\r\n" for w in want), "outcomes csv")
    sides = psql(env.dsn, """
        SELECT r.name, count(*), count(*) FILTER (WHERE c.status = 'error'),
               to_char(sum(c.cost_usd), 'FM999990.0000')
        FROM flywheel.eval_runs r JOIN flywheel.eval_cases c ON c.run_id = r.id
        GROUP BY r.name ORDER BY r.name""")
    srows = {row[0]: row[1:] for row in table_rows(page.text, "sides")}
    eq(srows["cases"], [sides[0][1], sides[1][1]], "cases side by side")
    eq(srows["errors"], [sides[0][2], sides[1][2]], "errors side by side")
    eq(srows["cost (USD)"], [sides[0][3], sides[1][3]], "cost side by side")
    regressed = psql(env.dsn, """
        SELECT sa.scorer, sa.case_id FROM flywheel.eval_scores sa
        JOIN flywheel.eval_runs ra ON ra.id = sa.run_id AND ra.name = 'base'
        JOIN flywheel.eval_scores sb ON sb.case_id = sa.case_id AND sb.scorer = sa.scorer
        JOIN flywheel.eval_runs rb ON rb.id = sb.run_id AND rb.name = 'cand'
        WHERE sa.score - sb.score > 1e-9 ORDER BY 1, 2""")
    eq(sorted([row[0], row[1]] for row in table_rows(page.text, "regressed")), regressed,
       "regressed cases vs SQL")
    # the CLI's comparison says the same
    p = subprocess.run([env.fw, "eval", "compare", "base", "cand", "--json", "--dsn", env.dsn],
                       capture_output=True, text=True)
    eq(p.returncode, 0, f"flywheel eval compare ({p.stderr})")
    cli = {s["scorer"]: s for s in json.loads(p.stdout)["scorers"]}
    for w in want:
        eq([cli[w[0]]["improved"], cli[w[0]]["regressed"], cli[w[0]]["unchanged"]],
           [int(x) for x in w[5:]], f"CLI compare of {w[0]}")
    eq(a.get("/dash/evals/compare?a=base").status, 400, "compare without b")
    eq(a.get("/dash/evals/compare?a=base&b=nope").status, 404, "compare with an unknown run")
    eq(a.get("/dash/evals/compare?a=base&b=cand&csv=x").status, 404, "unknown chart")

    # access
    for who, tok in [("reviewer", rev_tok), ("adjudicator", adj_tok)]:
        c = Client(srv)
        c.signin(tok)
        for path in ["/dash/evals", "/dash/evals/run/base", "/dash/evals/compare?a=base&b=cand"]:
            eq(c.get(path).status, 403, f"{who} on {path}")
    psql(env.dsn, f'GRANT flywheel_reader TO "{rev}"')
    c = Client(srv)
    c.signin(env.link(rev))
    eq(c.get("/dash/evals/compare?a=base&b=cand").status, 200, "a reader compares runs")
    eq(table_rows(c.get("/dash/evals/run/cand").text, "scores"), means, "a reader's numbers")


if __name__ == "__main__":
    run_main(main)
