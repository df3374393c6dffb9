"""Shared pieces of the Python package's tests (standard library only).

The package is imported from the source tree (python/) and libflywheel from
the build (FLYWHEEL_LIBRARY, set by ctest; the install test covers the pip
path). Integration tests use the private services of scripts/services: a
fresh database migrated with the built `flywheel migrate`, a collector
process on a topic of their own, and psql for queries (rows come back as
JSON, so every field compares exactly). A test that cannot reach a service
fails; it never skips.
"""
from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)
sys.path.insert(0, PKG)


def require_env(name: str) -> str:
    v = os.environ.get(name)
    if not v:
        raise SystemExit(f"FAIL: {name} is not set: run through ctest/scripts/test, or "
                         f"eval \"$(scripts/services env)\" and set FW_BUILD_DIR")
    return v


def build_dir() -> str:
    return require_env("FW_BUILD_DIR")


def library() -> str:
    lib = os.environ.get("FLYWHEEL_LIBRARY") or os.path.join(build_dir(), "agent",
                                                             "libflywheel.so.0")
    os.environ["FLYWHEEL_LIBRARY"] = lib
    return lib


def bootstrap() -> str:
    return require_env("FLYWHEEL_KAFKA_BOOTSTRAP")


def unique(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


# Content equal to what was sent: the built-in redaction detectors are off.
NO_REDACTION = {"redact.email": False, "redact.phone": False, "redact.card": False,
                "redact.secret": False, "redact.ipv4": False}


def wait_for(cond, timeout: float, what: str, interval: float = 0.05):
    """Polls cond() until it returns a truthy value; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def psql(dsn: str, sql: str) -> str:
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn,
                        "-f", "-"], input=sql, capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"psql failed: {p.stderr.strip()}\n--- sql ---\n{sql}")
    return p.stdout


class Store:
    """A migrated database and a collector reading one topic into it."""

    def __init__(self, prefix: str) -> None:
        self.admin = require_env("FLYWHEEL_PG_ADMIN_DSN")
        self.db = unique(f"fwt_py_{prefix}")
        self.topic = unique(f"fwt_py_{prefix}")
        self.group = unique(f"fwt_py_{prefix}_g")
        psql(self.admin, f'CREATE DATABASE "{self.db}";')
        self.dsn = f"{self.admin} dbname={self.db}"
        fw = os.path.join(build_dir(), "cli", "flywheel")
        p = subprocess.run([fw, "migrate", "-q", "--dsn", self.dsn], capture_output=True,
                           text=True)
        if p.returncode != 0:
            raise AssertionError(f"flywheel migrate failed: {p.stderr.strip()}")
        self.log = f"/tmp/{self.topic}.collector.log"
        self._logf = open(self.log, "w")
        exe = os.path.join(build_dir(), "collector", "flywheel-collector")
        self.proc = subprocess.Popen(
            [exe, f"--pg.dsn={self.dsn}", f"--kafka.bootstrap.servers={bootstrap()}",
             f"--topics={self.topic}", f"--kafka.group.id={self.group}", "--http.listen=",
             "--batch.max_wait_ms=50"],
            stdout=subprocess.DEVNULL, stderr=self._logf)
        atexit.register(self.close)

    def count(self, table: str, where: str = "true") -> int:
        if self.proc.poll() is not None:
            raise AssertionError(f"collector exited ({self.proc.returncode}); see {self.log}")
        return int(psql(self.dsn, f"SELECT count(*) FROM flywheel.{table} WHERE {where}")
                   .strip())

    def wait_count(self, table: str, n: int, where: str = "true", timeout: float = 60) -> None:
        wait_for(lambda: self.count(table, where) >= n, timeout,
                 f"{n} rows in {table} where {where}")
        got = self.count(table, where)
        if got != n:
            raise AssertionError(f"{got} rows in {table} where {where}, want {n}")

    def rows(self, table: str, where: str = "true", order: str = "event_time") -> list[dict]:
        out = psql(self.dsn, f"SELECT row_to_json(t) FROM flywheel.{table} t WHERE {where} "
                             f"ORDER BY {order}")
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def close(self) -> None:
        if self._logf.closed:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._logf.close()
        if os.environ.get("FWT_KEEP_DB"):
            print(f"keeping database {self.db}", file=sys.stderr)
            return
        psql(self.admin, f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE);')


def init_flywheel(topic: str, **config):
    """flywheel.init() against the dev broker on topic, redaction off."""
    import flywheel
    library()
    cfg = dict(NO_REDACTION)
    cfg.update(config)
    ok = flywheel.init(bootstrap_servers=bootstrap(), topic=topic, project="pytest",
                       config=cfg, strict=True)
    assert ok
    return flywheel
