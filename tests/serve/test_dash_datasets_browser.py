"""Browser tests of the dataset and eval run pages (issue 15): seeds a
labelled queue, records dataset versions with `flywheel export` and two eval
runs with `flywheel eval run` (against examples/fake_openai.py), then runs
browser/datasets.test.mjs in Debian's Chromium through playwright-core.
Screenshots go to $FW_BUILD_DIR/serve-screenshots (kept as test artifacts)."""
import json
import os
import subprocess
import tempfile

from fwserve import Env, fail, one, psql, run_main
from test_dash_datasets import export, label_as, seed_rejects
from test_dash_evals import eval_run, start_fake

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
    env = Env("serve_dash_ds_browser")
    end = one(env.dsn, "SELECT to_char(date_trunc('hour', now() AT TIME ZONE 'UTC'), "
                       "'YYYY-MM-DD\"T\"HH24:00\"Z\"')")
    psql(env.dsn, f"\\set n 6\n\\i {HERE}/seed.sql\n")
    psql(env.dsn, f"\\set end '{end}'\n\\i {HERE}/dash_seed.sql\n")
    # a stable name: it shows in the screenshots
    name, tok = env.account("admin", role="admin", name="mia")
    rev, _ = env.account("rev")
    rev2, _ = env.account("rev2")
    label_as(env, rev, ["true"] * 6)
    label_as(env, rev2, ["true", "false", "true", "true", "false", "true"])
    seed_rejects(env)
    with tempfile.TemporaryDirectory() as tmp:
        export(env, "--format", "eval", "--queue", "support", "--consensus", "majority",
               "--dataset", "sup", "--description", "Support answers reviewers accepted",
               "-o", os.path.join(tmp, "s"))
        export(env, "--format", "openai-chat", "--project", "shop", "--seed", "7",
               "--dataset", "demo", "--description", "Chat fine-tuning set of the shop",
               "-o", os.path.join(tmp, "d1"))
        export(env, "--format", "openai-chat", "--seed", "7", "--dataset", "demo",
               "-o", os.path.join(tmp, "d2"))
        cases = []
        for split in ["train", "validation", "test"]:
            with open(os.path.join(tmp, "s", f"{split}.jsonl")) as f:
                cases += [json.loads(line) for line in f]
        answers = {}
        for i, c in enumerate(cases):
            q = [m for m in c["input"]["messages"] if m["role"] == "user"][-1]["content"]
            answers[f"base|{q}"] = {"content": c["ideal"] if i != 3 else "no idea",
                                    "usage": [10, 5]}
            answers[f"cand|{q}"] = {"content": c["ideal"] if i != 2 else "something else",
                                    "usage": [12, 7]}
        endpoint = start_fake(env, {"answers": answers}, tmp)
        eval_run(env, "base", "base", endpoint)
        eval_run(env, "cand", "cand", endpoint)
    accounts = {"admin": {"name": name, "token": tok}}
    srv = env.serve("rate.signin_per_minute=100000")
    shots = os.path.join(build, "serve-screenshots")
    os.makedirs(shots, exist_ok=True)
    penv = dict(os.environ, FWT_URL=srv.origin, FWT_DSN=env.dsn, FWT_ACCOUNTS=json.dumps(accounts),
                FWT_NODE_MODULES=modules, FWT_FLYWHEEL=env.fw, FWT_CHROMIUM=chromium,
                FWT_SHOTS=shots)
    p = subprocess.run(["node", "--test", "--test-concurrency=1",
                        os.path.join(HERE, "browser", "datasets.test.mjs")], env=penv)
    if p.returncode != 0:
        print(srv.logtext()[-4000:])
        fail(f"dataset and eval page browser tests failed (node exit {p.returncode})")


run_main(main)
