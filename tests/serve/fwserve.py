"""Shared pieces of the web server tests (Python 3 standard library only).

A test gets a fresh migrated database, a LOGIN role in flywheel_web for the
server (so the server never runs as a superuser in tests either), accounts
made with `flywheel reviewer add`, and a running `flywheel serve` on a free
port. Everything is dropped or stopped at exit. Queries go through psql. A
test that cannot reach PostgreSQL fails; it never skips.
"""
import atexit
import csv
import hashlib
import http.client
import io
import os
import re
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))


class TestFailure(Exception):
    pass


def fail(msg):
    raise TestFailure(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def eq(got, want, what):
    if got != want:
        fail(f"{what}: expected {want!r}, got {got!r}")


def require_env(name):
    v = os.environ.get(name)
    if not v:
        print(f"FAIL: {name} is not set: run through scripts/test or "
              f"eval \"$(scripts/services env)\"", file=sys.stderr)
        sys.exit(1)
    return v


def psql(dsn, sql, check_rc=True):
    """Runs SQL; returns the rows (lists of strings) of the last result."""
    p = subprocess.run(["psql", "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", "-"],
                       input=sql, capture_output=True, text=True)
    if p.returncode != 0:
        if check_rc:
            fail(f"psql failed: {p.stderr.strip()}\n--- sql ---\n{sql}")
        return None
    rows = list(csv.reader(io.StringIO(p.stdout)))
    return rows[1:] if rows else []


def one(dsn, sql):
    rows = psql(dsn, sql)
    check(len(rows) == 1 and len(rows[0]) == 1, f"expected one value from: {sql}; got {rows}")
    return rows[0][0]


class Env:
    """A database, the server's login role, accounts, servers; all cleaned up at exit."""

    def __init__(self, prefix, seed=None):
        self.admin = require_env("FLYWHEEL_PG_ADMIN_DSN")
        self.build = require_env("FW_BUILD_DIR")
        self.source = require_env("FW_SOURCE_DIR")
        self.fw = os.path.join(self.build, "cli", "flywheel")
        self.pid = os.getpid()
        self.name = f"fwt_{prefix}_{self.pid}"
        self.roles = []
        self.servers = []
        psql(self.admin, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE);\n'
                         f'CREATE DATABASE "{self.name}";')
        atexit.register(self.cleanup)
        self.dsn = f"{self.admin} dbname={self.name}"
        p = subprocess.run([self.fw, "migrate", "-q", "--dsn", self.dsn], capture_output=True,
                           text=True)
        if p.returncode != 0:
            fail(f"flywheel migrate failed: {p.stderr.strip()}")
        # The server's login: a member of flywheel_web and nothing else.
        self.web_role = f"fwt_web_{self.pid}"
        psql(self.admin, f'DROP ROLE IF EXISTS "{self.web_role}";\n'
                         f'CREATE ROLE "{self.web_role}" LOGIN IN ROLE flywheel_web;')
        self.roles.append(self.web_role)
        self.web_dsn = f"{self.dsn} user={self.web_role}"
        if seed:
            p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.dsn,
                                "-o", "/dev/null", "-f", seed], capture_output=True, text=True)
            if p.returncode != 0:
                fail(f"seed {seed} failed: {p.stderr.strip()}")

    def account(self, short, role="reviewer", name=None):
        """Creates an account with `flywheel reviewer add`; returns (name, token).
        `name` replaces the unique test name (for screenshots that show it: a
        role of that name left by an earlier run is dropped first)."""
        if name:
            psql(self.admin, f'DROP ROLE IF EXISTS "{name}";')
        name = name or f"fwt{self.pid}_{short}"
        self.roles.append(name)
        p = subprocess.run([self.fw, "reviewer", "add", name, "--role", role, "--dsn", self.dsn,
                            "--url", "http://example.invalid"], capture_output=True, text=True)
        if p.returncode != 0:
            fail(f"reviewer add {name} failed: {p.stderr.strip()}")
        return name, self.token_of(p.stdout)

    def link(self, name, ttl=None):
        args = [self.fw, "reviewer", "link", name, "--dsn", self.dsn, "--url", "http://x"]
        if ttl:
            args += ["--ttl", str(ttl)]
        p = subprocess.run(args, capture_output=True, text=True)
        if p.returncode != 0:
            fail(f"reviewer link {name} failed: {p.stderr.strip()}")
        return self.token_of(p.stdout)

    @staticmethod
    def token_of(out):
        m = re.search(r"/signin\?t=([A-Za-z0-9_-]{43})\s*$", out)
        check(m, f"no sign-in link in output: {out!r}")
        return m.group(1)

    def serve(self, *settings, dsn=None):
        s = Server(self, dsn or self.web_dsn, settings)
        self.servers.append(s)
        return s

    def cleanup(self):
        for s in self.servers:
            s.stop()
        if os.environ.get("FWT_KEEP_DB"):
            print(f"keeping database {self.name}", file=sys.stderr)
            return
        sql = f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE);\n'
        sql += "".join(f'DROP ROLE IF EXISTS "{r}";\n' for r in self.roles)
        psql(self.admin, sql, check_rc=False)


class Server:
    """A running `flywheel serve` on a free loopback port."""

    def __init__(self, env, dsn, settings):
        self.log = open(os.path.join("/tmp", f"fwt_serve_{env.pid}_{len(env.servers)}.log"), "w+")
        args = [env.fw, "serve", "--listen", "127.0.0.1:0", "--dsn", dsn,
                "--set", "log.level=debug"]
        for s in settings:
            args += ["--set", s]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        self.port = None
        while time.time() < deadline and self.port is None:
            self.log.seek(0)
            m = re.search(r"msg=serving .*port=(\d+)", self.log.read())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                self.log.seek(0)
                fail(f"flywheel serve exited: {self.log.read()}")
            time.sleep(0.05)
        check(self.port, "flywheel serve did not start within 10 s")
        self.origin = f"http://127.0.0.1:{self.port}"

    def logtext(self):
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                fail("flywheel serve did not stop on SIGTERM within 10 s")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def headers_named(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


class Client:
    """An HTTP client with one cookie jar that behaves like a same-origin browser
    (Sec-Fetch-Site: same-origin on posts) unless told otherwise."""

    def __init__(self, server):
        self.server = server
        self.cookies = {}

    def request(self, method, path, body=None, headers=None, browser=True):
        h = {}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            h["Content-Type"] = "application/x-www-form-urlencoded"
            if browser:
                h["Sec-Fetch-Site"] = "same-origin"
                h["Origin"] = self.server.origin
        if headers:
            for k, v in headers.items():
                if v is None:
                    h.pop(k, None)
                else:
                    h[k] = v
        if isinstance(body, dict):
            body = urllib.parse.urlencode(body)
        if isinstance(body, str):
            body = body.encode()
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        resp = Response(r.status, r.getheaders(), r.read())
        c.close()
        for v in resp.headers_named("Set-Cookie"):
            name, _, rest = v.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in v:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, form, **kw):
        return self.request("POST", path, body=form, **kw)

    def signin(self, token):
        r = self.post("/signin", {"token": token})
        eq(r.status, 303, f"sign-in status ({r.text[:300]})")
        eq(r.header("Location"), "/queues", "sign-in redirect")
        return r

    def csrf(self, path="/queues"):
        r = self.get(path)
        eq(r.status, 200, f"GET {path}")
        m = re.search(r'name="csrf" value="([^"]+)"', r.text)
        check(m, f"no csrf field on {path}")
        return m.group(1)


def sha256_hex(s):
    return hashlib.sha256(s.encode()).hexdigest()


def run_main(fn):
    try:
        fn()
    except TestFailure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    print("PASS")
