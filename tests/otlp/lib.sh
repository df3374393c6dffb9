# Shared pieces of the OTLP integration tests (sourced): a database of the
# test's own with the migrations applied, a topic and group of its own, the
# collector and the gateway as child processes, and polling helpers.
: "${FW_BUILD_DIR:?run through ctest}"
: "${FLYWHEEL_PG_ADMIN_DSN:?FLYWHEEL_PG_ADMIN_DSN is not set: run through scripts/test}"
: "${FLYWHEEL_KAFKA_BOOTSTRAP:?FLYWHEEL_KAFKA_BOOTSTRAP is not set: run through scripts/test}"

FW_CLI="$FW_BUILD_DIR/cli/flywheel"
FW_COLLECTOR="$FW_BUILD_DIR/collector/flywheel-collector"
FW_GATEWAY="$FW_BUILD_DIR/gateway/flywheel-gateway"
T_ID="${T_NAME:-otlp}_$$_$RANDOM"
T_DB="fwt_$T_ID"
T_DIR="$(mktemp -d)"
T_PIDS=()
DSN="${FLYWHEEL_PG_ADMIN_DSN/dbname=postgres/dbname=$T_DB}"

fail() { echo "FAIL: $*" >&2; for f in "$T_DIR"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done; exit 1; }

t_cleanup() {
    local rc=$?
    for p in "${T_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${T_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "$rc" -ne 0 ] || [ -n "${FWT_KEEP_DB:-}" ]; then
        echo "database kept: $T_DB" >&2
    else
        psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "DROP DATABASE IF EXISTS $T_DB WITH (FORCE)" >/dev/null 2>&1 || true
        psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "DROP ROLE IF EXISTS ${T_DB}_gw" >/dev/null 2>&1 || true
    fi
    rm -rf "$T_DIR"
    exit "$rc"
}
trap t_cleanup EXIT

t_db() {
    psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "CREATE DATABASE $T_DB" >/dev/null || fail "create database"
    "$FW_CLI" migrate --dsn "$DSN" >"$T_DIR/migrate.log" 2>&1 || fail "migrate"
    # The gateway's own login role: a member of flywheel_gateway only.
    psql "$DSN" -qc "CREATE ROLE ${T_DB}_gw LOGIN IN ROLE flywheel_gateway" >/dev/null || fail "create gateway role"
    GW_DSN="$DSN user=${T_DB}_gw"
}

q() { psql "$DSN" -XAtqc "$1"; }

# t_wait_count SQL N [SECONDS]: polls until SQL returns N.
t_wait_count() {
    local deadline=$(( $(date +%s) + ${3:-60} )) got
    while :; do
        got="$(q "$1" 2>/dev/null || echo error)"
        [ "$got" = "$2" ] && return 0
        [ "$(date +%s)" -ge "$deadline" ] && fail "waited for $2 from: $1 (last: $got)"
        sleep 0.2
    done
}

# t_collector TOPICS [extra flags...]: starts a collector on its own group.
t_collector() {
    local topics="$1"; shift
    "$FW_COLLECTOR" --kafka.bootstrap.servers="$FLYWHEEL_KAFKA_BOOTSTRAP" --pg.dsn="$DSN" \
        --topics="$topics" --kafka.group.id="g_$T_ID" --http.listen= --batch.max_wait_ms=50 \
        "$@" >>"$T_DIR/collector.log" 2>&1 &
    COLLECTOR_PID=$!
    T_PIDS+=("$COLLECTOR_PID")
}

# t_gateway TOPIC [extra flags...]: starts a gateway and sets GW_PORT, GW_PID.
t_gateway() {
    local topic="$1"; shift
    local log="$T_DIR/gateway.log"
    : >"$log.start"
    "$FW_GATEWAY" --kafka.bootstrap.servers="$FLYWHEEL_KAFKA_BOOTSTRAP" --pg.dsn="$GW_DSN" \
        --topic="$topic" --listen=127.0.0.1:0 "$@" >"$log.start" 2>&1 &
    GW_PID=$!
    T_PIDS+=("$GW_PID")
    local deadline=$(( $(date +%s) + 20 ))
    GW_PORT=""
    while [ -z "$GW_PORT" ]; do
        GW_PORT="$(sed -n 's/.*msg="gateway listening".* port=\([0-9]*\).*/\1/p' "$log.start" | head -1)"
        kill -0 "$GW_PID" 2>/dev/null || fail "gateway exited: $(cat "$log.start")"
        [ "$(date +%s)" -ge "$deadline" ] && fail "gateway did not start"
        [ -z "$GW_PORT" ] && sleep 0.1
    done
    cat "$log.start" >>"$log"
    GW_URL="http://127.0.0.1:$GW_PORT/v1/traces"
}

t_key() { "$FW_CLI" keys create --dsn "$DSN" --project "$1" 2>/dev/null || fail "keys create $1"; }

# Node with the npm packages scripts/test installed from the committed lock.
t_node() {
    local mods="$FW_BUILD_DIR/otlp-node/node_modules"
    [ -d "$mods/@opentelemetry/exporter-trace-otlp-proto" ] ||
        fail "npm packages missing in $mods: scripts/test installs them (npm ci from tests/otlp/node/package-lock.json)"
    NODE_PATH="$mods" node "$FW_SOURCE_DIR/tests/otlp/node/run.js" "$@"
}
