"""HTTP tests of the dataset pages (issue 15): /dash/datasets lists every
recorded version with the numbers of flywheel.dataset_versions; a version's
page shows its manifest (lines per split, rejected rows by reason, files and
sha256), its lineage (queue, rubric version, consensus, filters) and the
diff with another version equal to flywheel.dataset_diff; a download of each
file is byte-identical to what `flywheel export --dataset NAME --version K`
writes, is streamed (the server's peak RSS does not grow with a 40 MB file)
and is refused to a role that may not read the generations' text."""
import hashlib
import html
import json
import os
import re
import subprocess
import tempfile
import time
import http.client

from fwserve import Client, Env, check, eq, fail, one, psql, run_main

HERE = os.path.dirname(os.path.abspath(__file__))


def table_rows(page, table_id):
    """The rows of <table id=table_id>: [th, td, td, ...] as plain text."""
    m = re.search(r'<table class="grid[^"]*" id="%s(?:-data)?">(.*?)</table>' % re.escape(table_id),
                  page, re.S)
    check(m, f"no table {table_id}")
    body = re.search(r"<tbody>(.*?)</tbody>", m.group(1), re.S)
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1) if body else m.group(1), re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        rows.append([html.unescape(re.sub(r"<[^>]+>", "", c)) for c in cells])
    return [["" if c == "–" else c for c in r] for r in rows]


def export(env, *args):
    p = subprocess.run([env.fw, "export", *args, "--dsn", env.dsn], capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"flywheel export {' '.join(args)} failed: {p.stderr.strip()}")
    return p


def sha_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(client, path):
    """GET path, hashing the body as it arrives (never held whole);
    returns (status, headers, sha256, bytes)."""
    h = {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}
    c = http.client.HTTPConnection("127.0.0.1", client.server.port, timeout=120)
    c.request("GET", path, headers=h)
    r = c.getresponse()
    sha, n = hashlib.sha256(), 0
    while True:
        chunk = r.read(1 << 16)
        if not chunk:
            break
        sha.update(chunk)
        n += len(chunk)
    headers = dict((k.lower(), v) for k, v in r.getheaders())
    c.close()
    return r.status, headers, sha.hexdigest(), n


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    fail("no VmHWM in /proc/PID/status")


def label_as(env, reviewer, values):
    for v in values:
        psql(env.dsn, f"""SET ROLE "{reviewer}";
            SELECT flywheel.review_submit(
                (flywheel.review_claim('support')->>'item_id')::bigint,
                '{{"correct": {v}, "helpful": 4, "topic": "billing"}}'::jsonb);""")


def seed_rejects(env):
    """Generations of project shop an openai-chat export rejects: exact
    duplicates of a conversation, and empty answers."""
    psql(env.dsn, """
        INSERT INTO flywheel.generations (event_id, event_time, schema_version, project,
            environment, provider_name, request_model, status, duration_ms, conversation_id,
            input_messages, output_messages, id_time)
        SELECT md5('dup' || i)::uuid, g.event_time + interval '1 second', 1, 'shop', 'prod',
               'openai', 'gpt-x', 'ok', 100, 'dupconv' || i, g.input_messages,
               CASE WHEN i <= 2 THEN g.output_messages
                    ELSE '[{"role": "assistant", "parts": [{"type": "text", "content": ""}]}]'
               END, flywheel.event_id_time(md5('dup' || i)::uuid)
        FROM generate_series(1, 5) i
        JOIN flywheel.generations g ON g.event_id = md5('dash' || (i * 4 + 1))::uuid;""")


def list_page(env, a):
    page = a.get("/dash/datasets")
    eq(page.status, 200, f"GET /dash/datasets ({page.text[:300]})")
    check("style=" not in page.text, "inline style on the datasets page")
    want = psql(env.dsn, """
        SELECT dataset, 'v' || version, format, to_char(created_at AT TIME ZONE 'UTC',
               'YYYY-MM-DD HH24:MI:SS'), created_by, members,
               coalesce(manifest #>> '{lines,train}', ''),
               coalesce(manifest #>> '{lines,validation}', ''),
               coalesce(manifest #>> '{lines,test}', ''),
               coalesce(manifest ->> 'rejected_total', '')
        FROM flywheel.dataset_versions ORDER BY dataset, version""")
    eq(table_rows(page.text, "versions-list"), want, "the list of versions vs SQL")
    for cid, title in [("versions", "Lines per split of every dataset version"),
                       ("rejected", "Rejected rows of every dataset version")]:
        check(f'<title id="{cid}-t">{title}</title>' in page.text, f"chart {cid}")
    exp = [[f"{w[0]} {w[1]}", w[6], w[7], w[8]] for w in want]
    eq(table_rows(page.text, "versions"), exp, "lines per split chart table vs SQL")
    r = a.get("/dash/datasets?csv=versions")
    eq(r.status, 200, "versions csv")
    eq(r.header("Content-Type"), "text/csv; charset=utf-8", "csv type")
    eq(r.text, "dataset version,train,validation,test\r\n" +
       "".join(",".join(e) + "\r\n" for e in exp), "versions csv vs SQL")
    r = a.get("/dash/datasets?csv=rejected")
    eq(r.text, "dataset version,rejected rows\r\n" +
       "".join(f"{w[0]} {w[1]},{w[9]}\r\n" for w in want), "rejected csv vs SQL")
    eq(a.get("/dash/datasets?csv=nope").status, 404, "unknown chart")


def version_page(env, a):
    page = a.get("/dash/datasets/sup/1")
    eq(page.status, 200, f"GET /dash/datasets/sup/1 ({page.text[:300]})")
    check("style=" not in page.text, "inline style on the version page")
    members = one(env.dsn, "SELECT members FROM flywheel.dataset_versions "
                           "WHERE dataset = 'sup' AND version = 1")
    check(f'<dd id="tile-members">{members}</dd>' in page.text, "members tile")
    lines = psql(env.dsn, """
        SELECT s, manifest #>> ARRAY['lines', s] FROM flywheel.dataset_versions,
               unnest(ARRAY['train', 'validation', 'test']) s
        WHERE dataset = 'sup' AND version = 1""")
    eq(table_rows(page.text, "splits"), lines, "lines per split vs the recorded manifest")
    total = sum(int(x[1]) for x in lines)
    check(f'<dd id="tile-lines">{total}</dd>' in page.text, "lines tile")
    eq(one(env.dsn, "SELECT manifest->>'rejected_total' FROM flywheel.dataset_versions "
                    "WHERE dataset = 'sup' AND version = 1"), "0", "sup rejects nothing")
    eq(table_rows(page.text, "rejected"), [["No data in this window"]], "no rejected rows")
    p2 = a.get("/dash/datasets/demo/1")
    rej = psql(env.dsn, """SELECT key, value FROM flywheel.dataset_versions,
                                  jsonb_each_text(manifest->'rejected')
                           WHERE dataset = 'demo' AND version = 1 ORDER BY key""")
    eq([r[0] for r in rej], ["duplicate", "empty_content"], "demo v1 rejects rows")
    eq(table_rows(p2.text, "rejected"), rej, "rejected by reason vs the manifest")
    r = a.get("/dash/datasets/demo/1?csv=rejected")
    eq(r.text, "reason,rejected rows\r\n" + "".join(f"{k},{n}\r\n" for k, n in rej),
       "rejected csv")
    r = a.get("/dash/datasets/sup/1?csv=splits")
    eq(r.text, "split,lines\r\n" + "".join(f"{s},{n}\r\n" for s, n in lines),
       "splits csv")
    # lineage from the recorded parameters
    lin = dict((row[0], row[1]) for row in table_rows(page.text, "lineage"))
    want = psql(env.dsn, """SELECT parameters #>> '{selection,queue}',
                                   parameters #>> '{rubric,name}',
                                   parameters #>> '{rubric,version}',
                                   parameters #>> '{selection,consensus}'
                            FROM flywheel.dataset_versions
                            WHERE dataset = 'sup' AND version = 1""")[0]
    eq(lin["review queue"], want[0], "lineage queue")
    eq(lin["rubric"], f"{want[1]} version {want[2]}", "lineage rubric")
    eq(lin["consensus"], want[3], "lineage consensus")
    eq(lin["filters"], "where correct=true", "lineage filters")
    # the files and their sha256 as recorded
    files = psql(env.dsn, """SELECT f->>'name', f->>'split', f->>'lines', f->>'bytes',
                                    f->>'sha256', f->>'name'
                             FROM flywheel.dataset_versions, jsonb_array_elements(manifest->'files') f
                             WHERE dataset = 'sup' AND version = 1""")
    eq(table_rows(page.text, "files"), files, "files vs the manifest")
    check('href="/dash/datasets/sup/1/download?file=train.jsonl"' in page.text, "download link")

    # diff between two versions of demo = flywheel.dataset_diff
    page = a.get("/dash/datasets/demo/2?diff=1")
    eq(page.status, 200, "diff page")
    counts = dict(psql(env.dsn, "SELECT change, count(*) FROM flywheel.dataset_diff('demo', 1, 2) "
                                "GROUP BY 1"))
    for k in ["added", "removed", "relabelled"]:
        check(f'<dd id="diff-{k}">{counts.get(k, "0")}</dd>' in page.text, f"diff {k} count")
    check(int(counts.get("added", 0)) > 0, "v2 adds members")
    params = dict((r[0], r[1:]) for r in table_rows(page.text, "diff-params"))
    eq(params.get("selection.project"), ["shop", ""], "project filter in the diff")
    eq(params.get("zstd_level"), ["0", "3"], "zstd level in the diff")
    want_lines = psql(env.dsn, """
        SELECT s, a.manifest #>> ARRAY['lines', s], b.manifest #>> ARRAY['lines', s]
        FROM unnest(ARRAY['train', 'validation', 'test']) s,
             flywheel.dataset_versions a, flywheel.dataset_versions b
        WHERE a.dataset = 'demo' AND a.version = 1 AND b.dataset = 'demo' AND b.version = 2""")
    got = table_rows(page.text, "diff-lines")
    eq([g[:3] for g in got], want_lines, "diff lines per split")
    eq([int(g[3]) for g in got], [int(w[2]) - int(w[1]) for w in want_lines], "diff line change")
    first = psql(env.dsn, "SELECT change, event_id, item_id FROM flywheel.dataset_diff('demo', 1, 2)"
                          " LIMIT 200")
    eq(table_rows(page.text, "diff-members"), first, "changed members vs flywheel.dataset_diff")
    # the CLI's diff says the same
    p = subprocess.run([env.fw, "dataset", "diff", "demo", "1", "2", "--dsn", env.dsn],
                       capture_output=True, text=True)
    eq(p.returncode, 0, f"flywheel dataset diff ({p.stderr})")
    m = re.search(r"members added (\d+), removed (\d+), relabelled (\d+)", p.stdout)
    check(m, f"no member counts in the CLI's diff: {p.stdout}")
    eq(list(m.groups()), [counts.get(k, "0") for k in ["added", "removed", "relabelled"]],
       "the page's diff vs `flywheel dataset diff`")
    eq(a.get("/dash/datasets/demo/2?diff=9").status, 404, "diff with a missing version")
    eq(a.get("/dash/datasets/demo/2?diff=x").status, 400, "diff that is not a number")
    eq(a.get("/dash/datasets/demo/9").status, 404, "missing version")
    eq(a.get("/dash/datasets/nope/1").status, 404, "missing dataset")


def downloads(env, a):
    """Every file of every version, as the server streams it, against the
    files `flywheel export --dataset NAME --version K -o DIR` writes."""
    versions = psql(env.dsn, "SELECT dataset, version FROM flywheel.dataset_versions "
                             "WHERE dataset <> 'big' ORDER BY 1, 2")
    check(len(versions) >= 3, "versions to download")
    downloads_made = 0
    with tempfile.TemporaryDirectory() as tmp:
        for ds, ver in versions:
            out = os.path.join(tmp, f"{ds}-{ver}")
            export(env, "--dataset", ds, "--version", ver, "-o", out)
            files = [f for f in sorted(os.listdir(out)) if f != "manifest.json"]
            check(files, f"files of {ds} v{ver}")
            for f in files:
                st, hd, sha, n = download(a, f"/dash/datasets/{ds}/{ver}/download?file={f}")
                downloads_made += 1
                eq(st, 200, f"download {ds} v{ver} {f}")
                eq(sha, sha_file(os.path.join(out, f)),
                   f"sha256 of the download of {ds} v{ver} {f} vs flywheel export")
                eq(n, os.path.getsize(os.path.join(out, f)), f"size of {ds} v{ver} {f}")
                eq(hd.get("content-disposition"), f'attachment; filename="{ds}-v{ver}-{f}"',
                   "content disposition")
                eq(hd.get("content-type"),
                   "application/zstd" if f.endswith(".zst") else "application/x-ndjson",
                   "download content type")
                check("default-src 'none'" in hd.get("content-security-policy", ""), "CSP")
    # an audit row for every download, naming the file
    audited = psql(env.dsn, """SELECT detail->>'dataset', detail->>'version', detail->>'file'
                               FROM flywheel.web_audit WHERE action = 'dataset_download'
                               ORDER BY id""")
    eq(len(audited), downloads_made, "one audit row per download")
    check(["demo", "2", "train.jsonl.zst"] in audited, f"the zstd download's audit row: {audited}")
    eq(a.get("/dash/datasets/demo/1/download?file=manifest.json").status, 404, "manifest")
    eq(a.get("/dash/datasets/demo/1/download?file=../x").status, 404, "a file not in the manifest")
    eq(a.get("/dash/datasets/demo/1/download").status, 400, "no file")
    eq(a.get("/dash/datasets/demo/7/download?file=train.jsonl").status, 404, "missing version")


def big_download(env, srv, a):
    """A 40 MB file goes through the server without its peak RSS growing
    with it: the response is produced as the export writes it."""
    rows = 10000
    psql(env.dsn, f"""
        INSERT INTO flywheel.generations (event_id, event_time, schema_version, project,
            environment, provider_name, request_model, response_model, status, duration_ms,
            conversation_id, input_messages, output_messages, id_time)
        SELECT md5('big' || i)::uuid, now() - interval '1 hour' - i * interval '1 second', 1,
               'big', 'prod', 'openai', 'gpt-x', 'gpt-x', 'ok', 100, 'bigconv' || i,
               jsonb_build_array(jsonb_build_object('role', 'user', 'parts', jsonb_build_array(
                   jsonb_build_object('type', 'text', 'content',
                                      'Big question ' || i || ' ' || repeat(md5(i::text), 64))))),
               jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts',
                   jsonb_build_array(jsonb_build_object('type', 'text', 'content',
                                     'Big answer ' || i || ' ' || repeat(md5('a' || i), 60))))),
               flywheel.event_id_time(md5('big' || i)::uuid)
        FROM generate_series(1, {rows}) i;""")
    with tempfile.TemporaryDirectory() as tmp:
        export(env, "--format", "openai-chat", "--project", "big", "--split", "100/0/0",
               "--dataset", "big", "-o", os.path.join(tmp, "v1"))
        size = os.path.getsize(os.path.join(tmp, "v1", "train.jsonl"))
        check(size > 40_000_000, f"the big file is {size} bytes, expected over 40 MB")
        want = sha_file(os.path.join(tmp, "v1", "train.jsonl"))
    # warm up: a small download first, so the baseline includes a finished
    # export's thread and buffers
    st, _, _, _ = download(a, "/dash/datasets/demo/1/download?file=train.jsonl")
    eq(st, 200, "warm-up download")
    before = peak_rss_kb(srv.proc.pid)
    st, _, sha, n = download(a, "/dash/datasets/big/1/download?file=train.jsonl")
    eq(st, 200, "big download")
    eq(sha, want, "sha256 of the big download vs flywheel export")
    eq(n, size, "size of the big download")
    after = peak_rss_kb(srv.proc.pid)
    grew = (after - before) * 1024
    check(grew < size / 4,
          f"the server's peak RSS grew by {grew} bytes for a {size}-byte download "
          f"({before} kB → {after} kB): the file is buffered, not streamed")
    print(f"big download: {size} bytes, peak RSS {before} kB → {after} kB")
    # a client that goes away after 1,000 bytes cancels the export, and the
    # connection goes back to the pool (the server runs with a pool of one)
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    c.request("GET", "/dash/datasets/big/1/download?file=train.jsonl",
              headers={"Cookie": "; ".join(f"{k}={v}" for k, v in a.cookies.items())})
    r = c.getresponse()
    eq(r.status, 200, "download to abandon")
    r.read(1000)
    c.close()
    deadline = time.time() + 30
    while "dataset download abandoned" not in srv.logtext() and time.time() < deadline:
        time.sleep(0.1)
    check("dataset download abandoned" in srv.logtext(), "the abandoned download is not logged")
    st, _, sha, _ = download(a, "/dash/datasets/big/1/download?file=train.jsonl")
    eq((st, sha), (200, want), "a download after an abandoned one")


def cut_off(env, a):
    """A failure after the first byte cuts the response off: the recorded
    sha256 of demo v1's train file is made wrong (the trigger that keeps
    versions immutable is disabled for it), so the re-export finds the
    mismatch only after sending every byte; the client must see an
    incomplete transfer, not a complete file."""
    psql(env.dsn, """
        ALTER TABLE flywheel.dataset_versions DISABLE TRIGGER USER;
        UPDATE flywheel.dataset_versions
        SET manifest = jsonb_set(manifest, '{files}', (
              SELECT jsonb_agg(CASE WHEN f->>'name' = 'train.jsonl'
                                    THEN jsonb_set(f, '{sha256}', to_jsonb(repeat('0', 64)))
                                    ELSE f END)
              FROM jsonb_array_elements(manifest->'files') f))
        WHERE dataset = 'demo' AND version = 1;
        ALTER TABLE flywheel.dataset_versions ENABLE TRIGGER USER;""")
    try:
        st, _, _, n = download(a, "/dash/datasets/demo/1/download?file=train.jsonl")
        fail(f"a download whose re-export differs ended normally (status {st}, {n} bytes)")
    except http.client.IncompleteRead:
        pass


def roles(env, srv, adj_tok, rev, rev_tok):
    for who, tok in [("reviewer", rev_tok), ("adjudicator", adj_tok)]:
        c = Client(srv)
        c.signin(tok)
        for path in ["/dash/datasets", "/dash/datasets/demo/1", "/dash/datasets?csv=versions",
                     "/dash/datasets/demo/1/download?file=train.jsonl"]:
            eq(c.get(path).status, 403, f"{who} on {path}")
    # a reader sees versions and manifests, not the diff (members) nor the files
    psql(env.dsn, f'GRANT flywheel_reader TO "{rev}"')
    c = Client(srv)
    c.signin(env.link(rev))
    eq(c.get("/dash/datasets").status, 200, "reader on the list")
    p = c.get("/dash/datasets/demo/2?diff=1")
    eq(p.status, 200, "reader on a version page")
    check("not for your account" in p.text and "/download?file=" not in p.text,
          "a reader is offered downloads")
    check("The diff between versions: your account may not read this" in p.text,
          "reader's diff note")
    eq(c.get("/dash/datasets/demo/1/download?file=train.jsonl").status, 403,
       "reader's download refused by PostgreSQL")
    psql(env.dsn, f'REVOKE flywheel_reader FROM "{rev}"')
    eq(c.get("/dash/datasets").status, 403, "refused again after REVOKE")


def main():
    env = Env("serve_dash_ds")
    end = one(env.dsn, "SELECT to_char(date_trunc('hour', now() AT TIME ZONE 'UTC'), "
                       "'YYYY-MM-DD\"T\"HH24:00\"Z\"')")
    psql(env.dsn, f"\\set n 6\n\\i {HERE}/seed.sql\n")
    psql(env.dsn, f"\\set end '{end}'\n\\i {HERE}/dash_seed.sql\n")
    _, admin_tok = env.account("admin", role="admin")
    adj, adj_tok = env.account("adj", role="adjudicator")
    rev, rev_tok = env.account("rev")
    rev2, _ = env.account("rev2")
    # an empty store first
    srv = env.serve("rate.signin_per_minute=100000", "serve.pg_pool_size=1")
    a = Client(srv)
    a.signin(admin_tok)
    p = a.get("/dash/datasets")
    eq(p.status, 200, "empty list")
    check("No dataset version is recorded yet" in p.text and "No data in this window" in p.text,
          "the empty list says so")

    label_as(env, rev, ["true"] * 6)
    label_as(env, rev2, ["true", "false", "true", "true", "false", "true"])
    seed_rejects(env)
    with tempfile.TemporaryDirectory() as tmp:
        export(env, "--format", "eval", "--queue", "support", "--consensus", "majority",
               "--where", "correct=true", "--dataset", "sup", "-o", os.path.join(tmp, "s"))
        # a single version: one point in each chart
        p = a.get("/dash/datasets")
        eq(p.status, 200, "list with one version")
        eq(len(table_rows(p.text, "versions")), 1, "one point in the lines chart")
        check("No data in this window" not in p.text, "a single version is drawn")
        export(env, "--format", "openai-chat", "--project", "shop", "--seed", "7",
               "--dataset", "demo", "-o", os.path.join(tmp, "d1"))
        export(env, "--format", "openai-chat", "--seed", "7", "--zstd", "--dataset", "demo",
               "-o", os.path.join(tmp, "d2"))
    list_page(env, a)
    version_page(env, a)
    downloads(env, a)
    roles(env, srv, adj_tok, rev, rev_tok)
    big_download(env, srv, a)
    cut_off(env, a)
    check("dataset file cut off" in srv.logtext(), "the cut-off download is logged")


if __name__ == "__main__":
    run_main(main)
