"""Shared pieces of the dashboard tests (Python 3 standard library only).

A test database is created from FLYWHEEL_PG_ADMIN_DSN, migrated with the
built `flywheel migrate`, filled with seed.sql, and dropped at exit. Queries
go through psql (the PostgreSQL client the project already needs), so the
tests need no database driver. A test that cannot reach PostgreSQL fails; it
never skips.
"""
import atexit
import csv
import io
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


class TestFailure(Exception):
    pass


def fail(msg):
    raise TestFailure(msg)


def require_env(name):
    v = os.environ.get(name)
    if not v:
        print(f"FAIL: {name} is not set: run through scripts/test or "
              f"eval \"$(scripts/services env)\"", file=sys.stderr)
        sys.exit(1)
    return v


def dsn_with(base, **kw):
    """Later keywords in a libpq conninfo string override earlier ones."""
    return base + "".join(f" {k}={v}" for k, v in kw.items())


def psql(dsn, sql, fmt="csv", check=True):
    """Runs SQL through psql; returns (rows as lists, header) for csv, else
    the raw stdout. Raises TestFailure with psql's message on error."""
    args = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", "-"]
    if fmt == "csv":
        args.insert(1, "--csv")
    elif fmt == "raw":
        args[1:1] = ["-A", "-t"]
    p = subprocess.run(args, input=sql, capture_output=True, text=True)
    if p.returncode != 0:
        if check:
            fail(f"psql failed ({p.returncode}): {p.stderr.strip()}\n--- sql ---\n{sql}")
        return None
    if fmt != "csv":
        return p.stdout
    rows = list(csv.reader(io.StringIO(p.stdout)))
    if not rows:
        return [], []
    return rows[1:], rows[0]


def describe(dsn, sql):
    """Column names and type names of a query's result, without running it."""
    rows, _ = psql(dsn, sql.rstrip().rstrip(";") + "\n\\gdesc\n")
    return [(r[0], r[1]) for r in rows]


class TestDb:
    """A fresh migrated database, dropped at exit."""

    def __init__(self, prefix):
        self.admin = require_env("FLYWHEEL_PG_ADMIN_DSN")
        self.build = require_env("FW_BUILD_DIR")
        self.source = require_env("FW_SOURCE_DIR")
        self.name = f"fwt_{prefix}_{os.getpid()}"
        self.roles = []
        psql(self.admin, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE);\n'
                         f'CREATE DATABASE "{self.name}";')
        atexit.register(self.drop)
        self.dsn = dsn_with(self.admin, dbname=self.name)
        fw = os.path.join(self.build, "cli", "flywheel")
        p = subprocess.run([fw, "migrate", "-q", "--dsn", self.dsn], capture_output=True, text=True)
        if p.returncode != 0:
            fail(f"flywheel migrate failed: {p.stderr.strip()}")

    def seed(self, n=20000, days=3, project="demo"):
        seed = os.path.join(HERE, "seed.sql")
        p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"n={n}",
                            "-v", f"days={days}", "-v", f"project={project}", "-d", self.dsn,
                            "-o", "/dev/null", "-f", seed], capture_output=True, text=True)
        if p.returncode != 0:
            fail(f"seed.sql failed: {p.stderr.strip()}")

    def reader_role(self):
        """Creates a LOGIN role that is a member of flywheel_reader and returns
        a DSN connecting as it to the test database."""
        role = f"fwt_reader_{os.getpid()}_{len(self.roles)}"
        psql(self.admin, f'DROP ROLE IF EXISTS "{role}";\n'
                         f'CREATE ROLE "{role}" LOGIN IN ROLE flywheel_reader;')
        self.roles.append(role)
        return dsn_with(self.dsn, user=role)

    def drop(self):
        if os.environ.get("FWT_KEEP_DB"):
            print(f"keeping database {self.name}", file=sys.stderr)
            return
        sql = f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE);\n'
        sql += "".join(f'DROP ROLE IF EXISTS "{r}";\n' for r in self.roles)
        psql(self.admin, sql, check=False)


def run_main(fn):
    try:
        fn()
    except TestFailure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    print("PASS")
