#!/usr/bin/env bash
# integration_services: scripts/services with a state directory of its own.
#
#  - PostgreSQL keeps its port across a restart, also when connections that
#    PostgreSQL closed are still in TIME_WAIT on that port (issue 11 item 13:
#    the probe used to see the port as taken and moved to the next one);
#  - a recorded port that another program listens on is given up loudly;
#  - `env` and `status` without a state directory fail and name
#    FLYWHEEL_STATE_DIR instead of creating a stray .flywheel/ (item 14).
set -uo pipefail
SRC="$FW_SOURCE_DIR"
export FLYWHEEL_BUILD_DIR="$FW_BUILD_DIR"
TMP="$(mktemp -d)"
chmod 755 "$TMP" # as root the cluster runs as postgres, which must reach it
export FLYWHEEL_STATE_DIR="$TMP/state"
SVC="$SRC/scripts/services"
holder=
sleeper=
cleanup() {
    [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
    [ -n "$holder" ] && kill "$holder" 2>/dev/null
    "$SVC" down >/dev/null 2>&1
    local d
    d="$(cat "$FLYWHEEL_STATE_DIR/pg.datadir" 2>/dev/null)"
    case "$d" in /var/tmp/flywheel-pg-*) rm -rf "$d" ;; esac
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# env and status without state: loud failure, nothing created.
out="$("$SVC" env 2>&1)" && fail "env without a state directory succeeded"
grep -q "FLYWHEEL_STATE_DIR" <<<"$out" || fail "env should name FLYWHEEL_STATE_DIR: $out"
[ -e "$FLYWHEEL_STATE_DIR" ] && fail "env created $FLYWHEEL_STATE_DIR"
mkdir -p "$TMP/checkout/scripts"
cp "$SVC" "$TMP/checkout/scripts/services"
out="$(env -u FLYWHEEL_STATE_DIR "$TMP/checkout/scripts/services" env 2>&1)" &&
    fail "env with the default state directory missing succeeded"
grep -q "export FLYWHEEL_STATE_DIR" <<<"$out" || fail "env should hint at exporting FLYWHEEL_STATE_DIR: $out"
[ -e "$TMP/checkout/.flywheel" ] && fail "env created a stray .flywheel/"
env -u FLYWHEEL_STATE_DIR "$TMP/checkout/scripts/services" status >/dev/null 2>&1 &&
    fail "status with the default state directory missing succeeded"
[ -e "$TMP/checkout/.flywheel" ] && fail "status created a stray .flywheel/"

"$SVC" up 2>"$TMP/up1.log" || { cat "$TMP/up1.log"; fail "services up"; }
eval "$("$SVC" env)" || fail "env after up"
port1="$(cat "$FLYWHEEL_STATE_DIR/pg.port")"
grep -q "port=$port1 " <<<"$FLYWHEEL_PG_DSN" || fail "DSN $FLYWHEEL_PG_DSN does not use port $port1"

# A session that PostgreSQL itself closes at shutdown: the server side of
# the connection stays in TIME_WAIT on the port for a minute.
psql "$FLYWHEEL_PG_DSN" -qAtc "SELECT pg_sleep(60)" >/dev/null 2>&1 &
sleeper=$!
for _ in $(seq 1 50); do
    n="$(psql "$FLYWHEEL_PG_DSN" -qAtc "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'")"
    [ "$n" = 1 ] && break
    sleep 0.1
done
[ "$n" = 1 ] || fail "the sleeping session did not start"
"$SVC" down 2>/dev/null || fail "services down"
wait "$sleeper" 2>/dev/null
sleeper=
"$SVC" up 2>"$TMP/up2.log" || { cat "$TMP/up2.log"; fail "services up after down"; }
port2="$(cat "$FLYWHEEL_STATE_DIR/pg.port")"
[ "$port2" = "$port1" ] || fail "PostgreSQL moved from port $port1 to $port2 across a restart"
psql "$FLYWHEEL_PG_DSN" -qAtc "SELECT 1" >/dev/null || fail "the old DSN does not answer after a restart"

# Another program took the recorded port while PostgreSQL was down: a new
# port, and a warning that says what to do.
"$SVC" down 2>/dev/null || fail "services down (2)"
python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port1)); s.listen(1); time.sleep(120)" &
holder=$!
for _ in $(seq 1 50); do ss -ltn | grep "127.0.0.1:$port1 " >/dev/null && break; sleep 0.1; done
"$SVC" up 2>"$TMP/up3.log" || { cat "$TMP/up3.log"; fail "services up with the port taken"; }
port3="$(cat "$FLYWHEEL_STATE_DIR/pg.port")"
[ "$port3" != "$port1" ] || fail "the recorded port was taken, yet PostgreSQL reports it"
grep -q "port $port1 .* in use by another program" "$TMP/up3.log" ||
    { cat "$TMP/up3.log"; fail "no warning about the taken port"; }
eval "$("$SVC" env)"
psql "$FLYWHEEL_PG_DSN" -qAtc "SELECT 1" >/dev/null || fail "PostgreSQL on the new port"
echo "ok: port $port1 kept across a restart; moved to $port3 only when taken"
