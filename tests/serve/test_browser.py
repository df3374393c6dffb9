"""Browser tests of `flywheel serve`: sets up a database, accounts and a
server (as in the HTTP tests), then runs the node:test suite in browser/
that drives Debian's Chromium through playwright-core. Screenshots of every
page at 1280x800 go to $FW_BUILD_DIR/serve-screenshots (kept as test
artifacts). The node side checks what it did in PostgreSQL with psql."""
import json
import os
import subprocess

from fwserve import Env, fail, psql, run_main

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
    env = Env("serve_browser")
    psql(env.dsn, f"\\set n 40\n\\i {HERE}/seed.sql\n")
    # the XSS fixture first, so that the first reviewer sees it at once
    psql(env.dsn, "UPDATE flywheel.review_items SET priority = 100 "
                  "WHERE event_id = md5('web1')::uuid")
    accounts = {}
    # Accounts have people's names, as the screenshots show them (a role of
    # that name left by an earlier run is dropped first).
    people = {"bob": ("maria.lopez", "reviewer"), "carol": ("james.okafor", "reviewer"),
              "nojs": ("tom.becker", "reviewer"), "keys": ("priya.shah", "reviewer"),
              "adj": ("sam.adeyemi", "adjudicator"), "admin": ("olivia.chen", "admin")}
    crowd = ["ana.silva", "ben.carter", "chloe.martin", "david.kim", "elena.rossi",
             "farid.haddad", "grace.liu", "hugo.dubois", "ines.moreau", "jonas.weber",
             "kofi.mensah", "lena.fischer", "mateo.garcia", "nina.petrova", "omar.aziz",
             "paula.novak"]
    for i, n in enumerate(crowd):
        people[f"p{i:02d}"] = (n, "reviewer")
    for short in people:
        real, role = people[short]
        name, tok = env.account(short, role=role, name=real)
        accounts[short] = {"name": name, "token": tok}
    # 16 browsers from one address (like people behind one proxy), each with
    # up to six keep-alive connections: no per-address connection cap
    srv = env.serve("rate.posts_per_minute=100000", "rate.signin_per_minute=100000",
                    "serve.pg_pool_size=12", "serve.per_ip_connection_limit=0")
    # the account the admin adds in the browser (a role left by an earlier
    # run is dropped first; this run's is dropped at exit)
    new_account = "hannah.berg"
    psql(env.admin, f'DROP ROLE IF EXISTS "{new_account}";')
    env.roles.append(new_account)
    shots = os.path.join(build, "serve-screenshots")
    os.makedirs(shots, exist_ok=True)
    penv = dict(os.environ, FWT_URL=srv.origin, FWT_DSN=env.dsn, FWT_ACCOUNTS=json.dumps(accounts),
                FWT_NODE_MODULES=modules, FWT_FLYWHEEL=env.fw, FWT_CHROMIUM=chromium, FWT_SHOTS=shots,
                FWT_NEW_ACCOUNT=new_account)
    # FWT_BROWSER_ONLY=pattern runs only the tests whose names match (by hand,
    # while working on one page; the suite runs them all)
    only = os.environ.get("FWT_BROWSER_ONLY")
    p = subprocess.run(["node", "--test", "--test-concurrency=1"] +
                       (["--test-name-pattern", only] if only else []) +
                       [os.path.join(HERE, "browser", "review.test.mjs")], env=penv)
    if p.returncode != 0:
        print(srv.logtext()[-4000:])
        fail(f"browser tests failed (node exit {p.returncode})")


run_main(main)
