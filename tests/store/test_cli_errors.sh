#!/usr/bin/env bash
# store_integration_cli_errors (issue #11 item 11): numbers are parsed before
# they reach PostgreSQL, and a database without Flywheel's schema says to run
# `flywheel migrate` instead of a raw 42P01.
#   - bad numbers (`dlq show abc`, `review rubric show --version abc`,
#     `dataset show NAME abc`, `dlq list --limit x`...) exit 2 with a message
#     naming the value and no SQLSTATE;
#   - on an empty database, `dataset list`, `dlq list`, `stats` and a review
#     command exit 1 with the store's hint (one mapping, fw_store_error_pg);
#   - on a migrated database, a dead letter or a dataset version that does
#     not exist is "not found" (exit 1), and the hint is not given.
set -euo pipefail
: "${FW_BUILD_DIR:?}" "${FW_SOURCE_DIR:?}"
: "${FLYWHEEL_PG_ADMIN_DSN:?this test needs the services: eval \"\$(scripts/services env)\"}"
FW="$FW_BUILD_DIR/cli/flywheel"
DB="fwse_$$_$RANDOM"
EMPTY="${DB}_empty"
DSN="$FLYWHEEL_PG_ADMIN_DSN dbname=$DB"
EDSN="$FLYWHEEL_PG_ADMIN_DSN dbname=$EMPTY"
WORK="$(mktemp -d)"
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
    psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "DROP DATABASE IF EXISTS $EMPTY" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "CREATE DATABASE $DB" >/dev/null
psql "$FLYWHEEL_PG_ADMIN_DSN" -qc "CREATE DATABASE $EMPTY" >/dev/null
"$FW" migrate -q --dsn "$DSN"

# expect STATUS PATTERN ARGS...: flywheel ARGS exits STATUS and its stderr
# matches PATTERN (extended regex).
expect() {
    local want="$1" pattern="$2"; shift 2
    local rc=0
    "$FW" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    [ "$rc" = "$want" ] || fail "flywheel $*: exit $rc, expected $want; stderr: $(cat "$WORK/err")"
    grep -Eq -- "$pattern" "$WORK/err" || fail "flywheel $*: stderr lacks /$pattern/: $(cat "$WORK/err")"
}
no_sqlstate() {
    if grep -q SQLSTATE "$WORK/err"; then fail "a raw SQLSTATE for a bad number: $(cat "$WORK/err")"; fi
}

# ---- bad numbers: exit 2, no database error ----------------------------------
for db in "$DSN" "$EDSN"; do
    expect 2 '^flywheel dlq show: invalid dead letter id "abc"' dlq show abc --dsn "$db"; no_sqlstate
    expect 2 'invalid dead letter id "-3"' dlq show --dsn "$db" -- -3; no_sqlstate
    expect 2 'invalid dead letter id "12x"' dlq replay 12x --dsn "$db"; no_sqlstate
    expect 2 '^flywheel dlq list: invalid --limit "x"' dlq list --limit x --dsn "$db"; no_sqlstate
    expect 2 'invalid --max-field-bytes "1k"' dlq replay --all --max-field-bytes 1k --dsn "$db"
    expect 2 '^flywheel review rubric: invalid --version "abc"' \
        review rubric show quality --version abc --dsn "$db"; no_sqlstate
    expect 2 '^flywheel dataset show: invalid version "abc"' dataset show support abc --dsn "$db"
    no_sqlstate
    expect 2 '^flywheel dataset diff: invalid version "0"' dataset diff support 0 2 --dsn "$db"
    expect 2 '^flywheel dataset diff: invalid version "two"' dataset diff support 1 two --dsn "$db"
done
expect 2 'nothing to replay' dlq replay --dsn "$DSN"

# ---- a database without the schema: run `flywheel migrate` -------------------
for cmd in "dataset list" "dataset show support" "dataset diff support 1 2" "dlq list" \
           "dlq show 1" "dlq replay --all" "stats" "review queue list"; do
    # shellcheck disable=SC2086
    expect 1 'does not exist' $cmd --dsn "$EDSN"
    grep -q 'Run `flywheel migrate` against this database' "$WORK/err" \
        || fail "flywheel $cmd on an empty database: no migrate hint: $(cat "$WORK/err")"
done

# ---- migrated: not found is not a missing schema ----------------------------
expect 1 '^flywheel dlq show: dead letter 424242 does not exist' dlq show 424242 --dsn "$DSN"
expect 1 'dead letter 424242 does not exist' dlq replay 424242 --dsn "$DSN"
expect 1 'dataset "nosuch" has no versions' dataset show nosuch --dsn "$DSN"
expect 1 'dataset "nosuch" has no version 3' dataset show nosuch 3 --dsn "$DSN"
expect 1 'does not have both versions 1 and 2' dataset diff nosuch 1 2 --dsn "$DSN"
for f in out err; do
    if grep -q 'flywheel migrate' "$WORK/$f"; then fail "migrate hint on a migrated database"; fi
done
"$FW" dlq list --dsn "$DSN" >"$WORK/list" || fail "dlq list on an empty store"
[ "$(head -1 "$WORK/list")" = "$(printf 'id\treceived_at\ttopic\tpartition\toffset\treason\treplays\tevent_id\tdetail')" ] \
    || fail "dlq list header: $(cat "$WORK/list")"
[ "$(wc -l <"$WORK/list")" = 1 ] || fail "dlq list on an empty store lists rows"
echo "store cli errors: bad numbers exit 2, a missing schema says to migrate" >&2
