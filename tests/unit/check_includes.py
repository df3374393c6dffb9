#!/usr/bin/env python3
"""The include boundaries of docs/development.md, checked.

Every module (a directory of the tree) declares below which include
directories it may use: its own, and the public include directories of the
libraries it may depend on. Dependencies point one way, down:

    base <- pg <- (store) <- front ends;  base <- codec, redact <- agent ...

The check fails when
  - a source or header includes a header of this tree that resolves outside
    the directories its module declares (a relative "../x/src/y.h" or a
    header found only through an undeclared directory), or
  - a compile command (compile_commands.json) passes an -I for a directory
    of this tree that the module of the compiled file does not declare (a
    CMake target reaching into another module's src/).

Usage: check_includes.py SOURCE_DIR [BUILD_DIR/compile_commands.json]
"""
import json
import os
import re
import sys

# Public include directories of the libraries.
BASE = "common/base/include"
PG = "common/pg/include"
CONFIG = "common/config/include"
REDACT = "redact/include"
CODEC = "codec/include"
AGENT = "agent/include"
OTLP = "otlp/include"
EVAL = "eval/include"
STORE = "store/include"
SUPPORT = "tests/support"

# module directory -> include directories it may use (besides its own
# directory and, for a library, its own include/ and src/). The longest
# matching module prefix applies to a file.
ALLOWED = {
    "common/base": [],
    "common/pg": [BASE],
    "common/config": [PG],
    "common/tsan": [],
    "redact": [],
    "codec": [BASE],
    "otlp": [BASE],
    "eval": [PG],
    "serve": [STORE, CONFIG, PG, BASE],
    "store": [BASE, REDACT, CODEC],
    "gateway": [CONFIG, OTLP, REDACT, PG],
    "agent": [BASE, REDACT],
    "collector": [CONFIG, CODEC, OTLP, PG, BASE],
    "cli": [STORE, PG, BASE, REDACT, EVAL, "serve", CONFIG],
    "devbroker": [],
    "examples": [AGENT],
    # bench/icount_agent.c counts the agent thread's encode (agent/src) like tests/agent;
    # bench/icount_export.c the export's per-row work (store/src) like tests/export.
    "bench": [AGENT, STORE, REDACT, "tests/collector", "agent/src", "store/src", BASE],
    "tests/support": [PG],
    "tests/unit": [SUPPORT, PG, BASE],
    "tests/integration": [SUPPORT, PG],
    "tests/e2e": [SUPPORT, AGENT],
    "tests/agent": [SUPPORT, AGENT, "agent/src", REDACT, BASE],
    "tests/collector": [SUPPORT, "collector/src", CONFIG, CODEC, OTLP, PG, BASE],
    "tests/export": [SUPPORT, STORE, "store/src", BASE, REDACT],
    "tests/review": [SUPPORT, "cli", STORE, BASE],
    "tests/store": [SUPPORT, STORE, "store/src", "cli", BASE, REDACT],
    "tests/otlp": [SUPPORT, OTLP, CODEC, BASE, "gateway/src"],
    "tests/eval": [SUPPORT, EVAL, "eval/src"],
    "tests/serve": [SUPPORT, "serve", CONFIG, PG, BASE],
}

SOURCE_EXT = (".c", ".h")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')
SKIP_DIRS = {".git", ".flywheel", "node_modules"}


def module_of(rel):
    best = None
    for mod in ALLOWED:
        if rel == mod or rel.startswith(mod + "/"):
            if best is None or len(mod) > len(best):
                best = mod
    return best


def allowed_dirs(mod):
    own = [mod, mod + "/include", mod + "/src"]
    return own + ALLOWED[mod]


def within(rel_dir, dirs):
    return any(rel_dir == d or rel_dir.startswith(d + "/") for d in dirs)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = os.path.realpath(sys.argv[1])
    ccdb = sys.argv[2] if len(sys.argv) > 2 else None

    # Every header of the tree by base name, to tell our headers from the
    # system's and to name where an undeclared one lives.
    files, by_name = [], {}
    for dirpath, dirnames, filenames in os.walk(root):
        reldir = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and
                       not (reldir == "." and d.startswith("build"))]
        for f in filenames:
            if f.endswith(SOURCE_EXT):
                rel = os.path.normpath(os.path.join(reldir, f))
                files.append(rel)
                if f.endswith(".h"):
                    by_name.setdefault(f, []).append(rel)

    problems = []
    unmapped = []
    for rel in sorted(files):
        mod = module_of(rel)
        if mod is None:
            unmapped.append(rel)
            continue
        dirs = allowed_dirs(mod)
        fdir = os.path.dirname(rel)
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                kind, name = m.groups()
                # Where the compiler would find it: next to the file (quotes
                # only), else in a declared directory.
                cands = ([fdir] if kind == '"' else []) + dirs
                hit = None
                for d in cands:
                    p = os.path.normpath(os.path.join(d, name))
                    if os.path.isfile(os.path.join(root, p)):
                        hit = p
                        break
                if hit is not None:
                    hdir = os.path.dirname(hit)
                    # Found in two declared directories: which one the
                    # compiler takes depends on the -I order. Name it apart.
                    if hdir != fdir:
                        also = sorted({os.path.dirname(os.path.normpath(os.path.join(d, name)))
                                       for d in dirs
                                       if os.path.isfile(os.path.join(root, d, name))})
                        if len(also) > 1:
                            problems.append(f"{rel}:{lineno}: \"{name}\" exists in several "
                                            f"directories module {mod}/ declares ({', '.join(also)}):"
                                            f" give the header a name of its own")
                    if hdir != fdir and not within(hdir, dirs):
                        problems.append(f"{rel}:{lineno}: includes {hit}, outside the "
                                        f"directories module {mod}/ declares")
                    continue
                # Not in a declared directory: is it one of ours elsewhere?
                elsewhere = [p for p in by_name.get(os.path.basename(name), [])
                             if p.endswith(os.path.normpath(name))]
                if elsewhere:
                    problems.append(f"{rel}:{lineno}: includes \"{name}\" from "
                                    f"{', '.join(sorted(set(os.path.dirname(p) for p in elsewhere)))}"
                                    f", which module {mod}/ does not declare")

    if ccdb:
        with open(ccdb, encoding="utf-8") as fh:
            commands = json.load(fh)
        for cmd in commands:
            src = os.path.realpath(os.path.join(cmd["directory"], cmd["file"]))
            if not src.startswith(root + os.sep):
                continue
            rel = os.path.relpath(src, root)
            if rel.startswith("build"):
                continue
            mod = module_of(rel)
            if mod is None:
                continue
            dirs = allowed_dirs(mod)
            args = cmd.get("arguments") or cmd["command"].split()
            incs = []
            for i, a in enumerate(args):
                for flag in ("-I", "-isystem"):
                    if a == flag and i + 1 < len(args):
                        incs.append(args[i + 1])
                    elif a.startswith(flag) and len(a) > len(flag):
                        incs.append(a[len(flag):])
            for inc in incs:
                p = os.path.realpath(os.path.join(cmd["directory"], inc))
                if not p.startswith(root + os.sep):
                    continue
                irel = os.path.relpath(p, root)
                if irel.startswith("build"):
                    continue  # generated code (the schema, embedded migrations)
                if not within(irel, dirs):
                    problems.append(f"{rel}: compiled with -I {irel}, which module {mod}/ "
                                    f"does not declare (a target reaching into another module)")

    for rel in unmapped:
        problems.append(f"{rel}: belongs to no module declared in tests/unit/check_includes.py")

    for p in sorted(set(problems)):
        print(p, file=sys.stderr)
    if problems:
        print(f"include boundaries: {len(set(problems))} problem(s)", file=sys.stderr)
        return 1
    print(f"include boundaries: {len(files)} files within their modules' declared directories")
    return 0


if __name__ == "__main__":
    sys.exit(main())
