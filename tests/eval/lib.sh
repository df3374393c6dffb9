# Shared pieces of the eval tests: a fresh migrated database with the
# fixture exported as eval dataset "qa" version 1, and fake OpenAI-compatible
# servers (examples/fake_openai.py) on loopback.
: "${FW_BUILD_DIR:?}" "${FW_SOURCE_DIR:?}"
: "${FLYWHEEL_PG_ADMIN_DSN:?this test needs the services: eval \"\$(scripts/services env)\"}"
FW="$FW_BUILD_DIR/cli/flywheel"
HERE="$FW_SOURCE_DIR/tests/eval"
DB="fwe_$$_$RANDOM"
DSN="$FLYWHEEL_PG_ADMIN_DSN dbname=$DB"
WORK="$(mktemp -d)"
FAKE_PIDS=()
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
    for p in "${FAKE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -n "${RUNNER_PID:-}" ] && kill -9 "$RUNNER_PID" 2>/dev/null || true
    psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
sql() { psql "$DSN" -Atq -v ON_ERROR_STOP=1 -c "$1"; }

setup_db() {
    psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "CREATE DATABASE $DB" >/dev/null
    "$FW" migrate -q --dsn "$DSN"
    psql "$DSN" -q -v ON_ERROR_STOP=1 -f "$HERE/fixture.sql" >/dev/null
    "$FW" export --dsn "$DSN" -q --no-progress --format eval --project qa --dataset qa \
        --split 100/0/0 -o "$WORK/export" >/dev/null
}

# start_fake NAME SCRIPT_JSON_FILE: starts a fake server, sets FAKE_<NAME> to its base URL.
start_fake() {
    local name="$1" script="$2" port_file="$WORK/fake_$1.port"
    python3 "$FW_SOURCE_DIR/examples/fake_openai.py" --script "$script" --port-file "$port_file" \
        2>>"$WORK/fake_$name.log" &
    FAKE_PIDS+=($!)
    local deadline=$((SECONDS + 30))
    while [ ! -s "$port_file" ]; do
        [ $SECONDS -lt $deadline ] || fail "fake server $name did not start: $(cat "$WORK/fake_$name.log")"
        sleep 0.05
    done
    printf -v "FAKE_$name" 'http://127.0.0.1:%s' "$(cat "$port_file")"
}

# fake_stats URL: the server's call counters as JSON.
fake_stats() { python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + "/stats").read().decode())' "$1"; }
