"""Browser tests of the dashboards (issue 15): seeds dash_seed.sql, makes an
admin account and a server, then runs browser/dash.test.mjs in Debian's
Chromium through playwright-core. Screenshots go to
$FW_BUILD_DIR/serve-screenshots (kept as test artifacts)."""
import json
import os
import subprocess

from fwserve import Env, fail, one, psql, run_main

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    build = os.environ["FW_BUILD_DIR"]
    modules = os.path.join(build, "serve-node", "node_modules")
    if not os.path.isdir(os.path.join(modules, "playwright-core")):
        fail(f"playwright-core is not installed in {modules}: run scripts/test, or "
             f"(cd {build}/serve-node && cp {HERE}/browser/package*.json . && npm ci)")
    chromium = os.environ.get("FWT_CHROMIUM", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        fail(f"{chromium} not found: scripts/bootstrap installs Debian's chromium")
    env = Env("serve_dash_browser")
    end = one(env.dsn, "SELECT to_char(date_trunc('hour', now() AT TIME ZONE 'UTC'), "
                       "'YYYY-MM-DD\"T\"HH24:00\"Z\"')")
    psql(env.dsn, f"\\set n 6\n\\i {HERE}/seed.sql\n")
    psql(env.dsn, f"\\set end '{end}'\n\\i {HERE}/dash_seed.sql\n")
    psql(env.dsn, f"\\set end '{end}'\n\\i {HERE}/dash_quality_seed.sql\n")
    # a dead letter that still fails to decode, and collector offsets
    psql(env.dsn, f"""
        INSERT INTO flywheel.dead_letters (received_at, consumer_group, topic, partition, "offset",
            payload, reason, detail)
        VALUES (timestamptz '{end}' - interval '2 hours', 'flywheel-collector', 'flywheel.events',
                2, 77, '\\x00ff3c7363726970743e616c6572742831293c2f7363726970743e'::bytea,
                'undecodable', 'not a protobuf message');
        INSERT INTO flywheel.ingest_offsets (consumer_group, topic, partition, next_offset)
        SELECT 'flywheel-collector', 'flywheel.events', p, 100 * p FROM generate_series(0, 2) p;""")
    name, tok = env.account("admin", role="admin")
    # two reviewers label the support queue, so the flywheel page has data
    for short, answers in [("rev", ["true"] * 6), ("rev2", ["true", "false"] * 3)]:
        rev, _ = env.account(short)
        for v in answers:
            psql(env.dsn, f"""SET ROLE "{rev}";
                SELECT flywheel.review_submit(
                    (flywheel.review_claim('support')->>'item_id')::bigint,
                    '{{"correct": {v}, "helpful": 4}}'::jsonb);""")
    accounts = {"admin": {"name": name, "token": tok}}
    srv = env.serve("rate.signin_per_minute=100000")
    shots = os.path.join(build, "serve-screenshots")
    os.makedirs(shots, exist_ok=True)
    penv = dict(os.environ, FWT_URL=srv.origin, FWT_DSN=env.dsn, FWT_ACCOUNTS=json.dumps(accounts),
                FWT_NODE_MODULES=modules, FWT_FLYWHEEL=env.fw, FWT_CHROMIUM=chromium,
                FWT_SHOTS=shots, FWT_END=end)
    p = subprocess.run(["node", "--test", "--test-concurrency=1",
                        os.path.join(HERE, "browser", "dash.test.mjs")], env=penv)
    if p.returncode != 0:
        print(srv.logtext()[-4000:])
        fail(f"dashboard browser tests failed (node exit {p.returncode})")


run_main(main)
