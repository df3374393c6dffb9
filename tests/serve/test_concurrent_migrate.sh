#!/usr/bin/env bash
# serve_concurrent_migrate (regression): migrating several databases of one
# cluster at the same moment must succeed. V0035 once ran ALTER ROLE
# flywheel_web on every run; two runs in different databases (each holds
# only its own database's advisory lock) then failed with "tuple
# concurrently updated". Role statements now change a role only when needed.
set -uo pipefail
: "${FLYWHEEL_PG_ADMIN_DSN:?FLYWHEEL_PG_ADMIN_DSN is not set: run through scripts/test}"
FW="$FW_BUILD_DIR/cli/flywheel"
dbs=()
cleanup() {
    for db in "${dbs[@]}"; do
        psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1
    done
}
trap cleanup EXIT
for i in 1 2 3 4 5 6; do
    db="fwt_concmig_$$_$i"
    psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "CREATE DATABASE \"$db\"" >/dev/null || { echo "FAIL: createdb"; exit 1; }
    dbs+=("$db")
done
pids=()
for db in "${dbs[@]}"; do
    "$FW" migrate -q --dsn "$FLYWHEEL_PG_ADMIN_DSN dbname=$db" > "/tmp/$db.log" 2>&1 &
    pids+=($!)
done
rc=0
for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
        echo "FAIL: migrating ${dbs[$i]} concurrently: $(cat "/tmp/${dbs[$i]}.log")"
        rc=1
    fi
    rm -f "/tmp/${dbs[$i]}.log"
done
inherit=$(psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "SELECT rolinherit FROM pg_roles WHERE rolname = 'flywheel_web'")
[ "$inherit" = "f" ] || { echo "FAIL: flywheel_web must be NOINHERIT, rolinherit=$inherit"; rc=1; }
[ $rc = 0 ] && echo ok
exit $rc
