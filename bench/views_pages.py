#!/usr/bin/env python3
"""The dashboard pages of `flywheel serve` against the bare SQL they run,
in the same requests (called by bench/views.sh on its seeded database).

A server is started on the database with one pooled connection, as a login
in flywheel_web whose statements PostgreSQL logs with their duration
(log_min_duration_statement = 0 for that role in that database only). For
each page: one warm-up request, then 3 timed ones; each gives the wall time
of the whole HTTP request (client side, loopback) and the sum of the
server-side durations of every statement the page ran (parse, bind and
execute, read from the server log lines of the pool's one backend). The
figure per page is the median of each, and ratio = page / SQL: what the
server adds over its own queries (session lookup and role switch
included in the SQL, rendering and HTTP in the page).

A page the build does not have (404) is reported as null. Writes one JSON
object {path: {"status", "page_ms", "sql_ms", "ratio", "statements"}} to
the file named by the first argument.

Usage: views_pages.py OUT.json   (environment: DSN, FLYWHEEL_PG_ADMIN_DSN,
FW_BUILD_DIR, FLYWHEEL_PG_DATADIR, WEB_ROLE and ADMIN_ROLE: names of the
server's login and the admin account to create; the caller drops them)
"""
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

PAGES = ["/dash", "/dash/flywheel", "/dash/quality", "/dash/ingest", "/dash/datasets",
         "/dash/evals"]


def psql(dsn, sql):
    p = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"views pages: psql failed: {p.stderr.strip()}")
    return p.stdout.strip()


def request(port, method, path, cookie=None, body=None):
    h = {}
    if cookie:
        h["Cookie"] = cookie
    if body is not None:
        h["Content-Type"] = "application/x-www-form-urlencoded"
        h["Sec-Fetch-Site"] = "same-origin"
        h["Origin"] = f"http://127.0.0.1:{port}"
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    headers = r.getheaders()
    c.close()
    return r.status, headers, data


def main():
    out_path = sys.argv[1]
    dsn, admin = os.environ["DSN"], os.environ["FLYWHEEL_PG_ADMIN_DSN"]
    fw = os.path.join(os.environ["FW_BUILD_DIR"], "cli", "flywheel")
    log_path = os.path.join(os.environ["FLYWHEEL_PG_DATADIR"], "server.log")
    db = re.findall(r"dbname=(\S+)", dsn)[-1]  # the last one counts, as for libpq
    # views.sh drops both roles after the database
    web, acct = os.environ["WEB_ROLE"], os.environ["ADMIN_ROLE"]
    psql(admin, f'DROP ROLE IF EXISTS "{web}"; CREATE ROLE "{web}" LOGIN IN ROLE flywheel_web;'
                f'ALTER ROLE "{web}" IN DATABASE "{db}" SET log_min_duration_statement = 0;')
    server = None
    try:
        p = subprocess.run([fw, "reviewer", "add", acct, "--role", "admin", "--dsn", dsn,
                            "--url", "http://x"], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"views pages: reviewer add failed: {p.stderr.strip()}")
        token = re.search(r"/signin\?t=([A-Za-z0-9_-]{43})", p.stdout).group(1)
        # a dataset version and its page's content: the first 1,000 generations
        with tempfile.TemporaryDirectory() as tmp:
            p = subprocess.run([fw, "export", "--format", "openai-chat", "--limit", "1000",
                                "--dataset", "bench", "-o", tmp, "--dsn", dsn],
                               capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(f"views pages: export failed: {p.stderr.strip()}")
        log = tempfile.TemporaryFile("w+")
        server = subprocess.Popen([fw, "serve", "--listen", "127.0.0.1:0", "--dsn",
                                   f"{dsn} user={web}", "--set", "serve.pg_pool_size=1",
                                   "--set", "serve.pg_statement_timeout_ms=600000"],
                                  stdout=log, stderr=log)
        port, deadline = None, time.time() + 30
        while port is None and time.time() < deadline:
            log.seek(0)
            m = re.search(r"msg=serving .*port=(\d+)", log.read())
            if m:
                port = int(m.group(1))
            elif server.poll() is not None:
                sys.exit("views pages: flywheel serve exited")
            else:
                time.sleep(0.05)
        if port is None:
            sys.exit("views pages: flywheel serve did not start")
        st, headers, _ = request(port, "POST", "/signin",
                                 body=urllib.parse.urlencode({"token": token}))
        cookie = next((v.split(";", 1)[0] for k, v in headers if k.lower() == "set-cookie"), None)
        if st != 303 or not cookie:
            sys.exit(f"views pages: sign-in answered {st}")
        request(port, "GET", "/queues", cookie)  # opens the pool's one connection
        backend = psql(admin, f"SELECT pid FROM pg_stat_activity WHERE usename = '{web}' "
                              f"AND datname = '{db}'")
        if not re.fullmatch(r"\d+", backend):
            sys.exit(f"views pages: expected one backend of the server, got {backend!r}")
        dur = re.compile(r"\[" + backend + r"\] LOG:  duration: ([0-9.]+) ms")
        results = {}
        with open(log_path, "r", errors="replace") as pglog:
            for path in PAGES:
                st, _, _ = request(port, "GET", path, cookie)
                if st == 404:
                    results[path] = None
                    print(f"views: {path} is not in this build", file=sys.stderr)
                    continue
                if st != 200:
                    sys.exit(f"views pages: GET {path} answered {st}")
                pages, sqls, nstmt = [], [], 0
                for _ in range(3):
                    pglog.seek(0, os.SEEK_END)
                    t0 = time.perf_counter()
                    st, _, body = request(port, "GET", path, cookie)
                    t1 = time.perf_counter()
                    if st != 200:
                        sys.exit(f"views pages: GET {path} answered {st}")
                    # the statements finished before the answer was sent
                    durations = [float(m.group(1)) for m in dur.finditer(pglog.read())]
                    pages.append((t1 - t0) * 1000)
                    sqls.append(sum(durations))
                    nstmt = len(durations)
                page_ms, sql_ms = statistics.median(pages), statistics.median(sqls)
                results[path] = {"status": st, "page_ms": round(page_ms, 1),
                                 "sql_ms": round(sql_ms, 1), "statements": nstmt,
                                 "ratio": round(page_ms / sql_ms, 2) if sql_ms > 0 else None,
                                 "bytes": len(body)}
                print(f"views: {path} page {page_ms:.1f} ms, its SQL {sql_ms:.1f} ms "
                      f"({nstmt} statements)", file=sys.stderr)
        with open(out_path, "w") as f:
            json.dump(results, f)
    finally:
        if server:
            server.terminate()
            server.wait(10)


main()
