#!/usr/bin/env bash
# Issue 11 item 1, through the `flywheel export` command:
#   - `-o -` with PostgreSQL gone mid-stream (the export's backend is
#     terminated while the server is blocked sending rows to it): exit
#     status 1, the libpq message and how far the stream got on stderr, a
#     line saying the output is incomplete, no manifest file;
#   - `-o DIR --dataset` with the backend dying at COMMIT, after every file
#     was written (a deferred constraint trigger terminates its own
#     backend): the previous complete export in DIR stays byte for byte, no
#     temporary file is left, and no version is recorded.
set -euo pipefail
: "${FW_BUILD_DIR:?}" "${FW_SOURCE_DIR:?}"
: "${FLYWHEEL_PG_ADMIN_DSN:?this test needs the services: eval \"\$(scripts/services env)\"}"
FW="$FW_BUILD_DIR/cli/flywheel"
DB="fwxi_$$_$RANDOM"
DSN="$FLYWHEEL_PG_ADMIN_DSN dbname=$DB"
WORK="$(mktemp -d)"
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
    psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "CREATE DATABASE $DB" >/dev/null
"$FW" migrate -q --dsn "$DSN"
sql() { psql "$DSN" -Atq -v ON_ERROR_STOP=1 -c "$1"; }
# 8000 generations of ~4 KB: 30+ MB of lines, more than any socket buffer.
sql "INSERT INTO flywheel.generations (event_id, event_time, schema_version, conversation_id,
       input_messages, output_messages, id_time)
     SELECT ('01900000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
            '2026-01-05'::timestamptz + n * interval '1 second', 1, 'c' || n,
            jsonb_build_array(jsonb_build_object('role', 'user', 'parts',
              jsonb_build_array(jsonb_build_object('type', 'text', 'content', 'question ' || n)))),
            jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts',
              jsonb_build_array(jsonb_build_object('type', 'text', 'content',
                'answer ' || n || ' ' || repeat('lorem ipsum ', 340))))),
            flywheel.event_id_time(('01900000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid)
     FROM generate_series(1, 8000) n" >/dev/null

# ---- -o -: the stream ends with an error and a non-zero exit ---------------
python3 - "$FW" "$DSN" "$WORK" <<'PY' || fail "stdout export interrupted mid-stream"
import subprocess, sys, time
fw, dsn, work = sys.argv[1:4]
def sql(q):
    return subprocess.run(["psql", dsn, "-Atqc", q], check=True, capture_output=True, text=True).stdout.strip()
p = subprocess.Popen([fw, "export", "--dsn", dsn, "--no-progress", "--format", "openai-chat",
                      "-o", "-", "--manifest", work + "/stream-manifest.json"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
first = p.stdout.readline()
assert first.startswith(b'{"messages":'), first[:80]
# We stop reading: the exporter blocks on its stdout pipe, the server on its
# socket. Wait for that, then terminate the export's backend.
deadline = time.monotonic() + 60
while True:
    pid = sql("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
              "AND query LIKE 'COPY (%' AND wait_event = 'ClientWrite'")
    if pid:
        break
    assert time.monotonic() < deadline, "the export never blocked mid-stream"
    time.sleep(0.02)
assert sql("SELECT pg_terminate_backend(%s)" % pid) == "t"
rest = p.stdout.read()
err = p.stderr.read().decode()
rc = p.wait()
lines = (first + rest).count(b"\n")
sys.stderr.write(err)
assert rc == 1, rc
assert lines < 8000, lines
assert "flywheel export: could not read the export rows: " in err, err
first_line = err.splitlines()[0]
assert len(first_line) > len("flywheel export: could not read the export rows: ") + 10, first_line
assert "The stream of export rows ended after" in err and "of 8000 rows" in err, err
assert "the lines written to standard output are incomplete" in err, err
import os
assert not os.path.exists(work + "/stream-manifest.json"), "a manifest for a truncated stream"
assert not os.path.exists(work + "/stream-manifest.json.tmp"), "the manifest's temporary file was left"
PY
# A complete stream: exit 0 and the manifest, whose line count and sha256
# let a consumer check what it read.
"$FW" export --dsn "$DSN" -q --format openai-chat --limit 50 -o - --manifest "$WORK/m.json" >"$WORK/all.jsonl" \
    || fail "a complete stream failed"
python3 - "$WORK/m.json" "$WORK/all.jsonl" <<'PY' || fail "manifest of a complete stream"
import hashlib, json, sys
m = json.load(open(sys.argv[1]))
data = open(sys.argv[2], "rb").read()
f = m["files"][0]
assert f["name"] == "-" and f["lines"] == data.count(b"\n") == 50 and f["sha256"] == hashlib.sha256(data).hexdigest(), f
PY

# ---- -o DIR: PostgreSQL dies after the files are written, before COMMIT ---
"$FW" export --dsn "$DSN" -q --no-progress --format openai-chat --limit 100 --dataset d -o "$WORK/out" \
    || fail "the first export failed"
snap() { (cd "$WORK/out" && ls -A && sha256sum -- *); }
snap >"$WORK/before"
sql "CREATE FUNCTION public.die_at_commit() RETURNS trigger LANGUAGE plpgsql AS \$\$
     BEGIN
         PERFORM pg_terminate_backend(pg_backend_pid());
         PERFORM pg_sleep(30);
         RETURN NULL;
     END \$\$;
     CREATE CONSTRAINT TRIGGER die_at_commit AFTER UPDATE ON flywheel.dataset_versions
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.die_at_commit();" >/dev/null
st=0
"$FW" export --dsn "$DSN" --no-progress --format openai-chat --limit 300 --dataset d -o "$WORK/out" \
    2>"$WORK/err" || st=$?
cat "$WORK/err" >&2
[ "$st" = 1 ] || fail "an export whose commit failed exited with $st"
grep -q '^flywheel export: could not commit the export: terminating connection due to administrator command (SQLSTATE 57P01)' "$WORK/err" \
    || fail "the commit failure is not reported with the server's message and SQLSTATE"
grep -q 'may or may not have been recorded' "$WORK/err" || fail "the uncertain commit is not explained"
snap >"$WORK/after"
diff "$WORK/before" "$WORK/after" >&2 || fail "the previous export changed (or a temporary file was left)"
[ "$(sql "SELECT max(version) FROM flywheel.dataset_versions WHERE dataset = 'd'")" = 1 ] \
    || fail "the failed export recorded a version"
# Once the database is well again, the next export replaces the directory whole.
sql "DROP TRIGGER die_at_commit ON flywheel.dataset_versions" >/dev/null
"$FW" export --dsn "$DSN" -q --no-progress --format openai-chat --limit 300 --dataset d -o "$WORK/out" \
    || fail "the export after recovery failed"
python3 - "$WORK/out" <<'PY' || fail "the export after recovery"
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
assert m["version"] == 2 and m["members"] == 300, (m["version"], m["members"])
for f in m["files"]:
    assert hashlib.sha256(open(os.path.join(d, f["name"]), "rb").read()).hexdigest() == f["sha256"], f
assert sorted(os.listdir(d)) == ["manifest.json", "test.jsonl", "train.jsonl", "validation.jsonl"], os.listdir(d)
PY
echo "export interrupt: ok"
