# Helpers for the review script tests: a fresh migrated database per test,
# login roles that are dropped at exit, and psql wrappers that check SQLSTATEs.
set -uo pipefail
: "${FLYWHEEL_PG_ADMIN_DSN:?FLYWHEEL_PG_ADMIN_DSN is not set: run through scripts/test or eval \"\$(scripts/services env)\"}"
FW="$FW_BUILD_DIR/cli/flywheel"
[ -x "$FW" ] || { echo "flywheel not built: $FW"; exit 1; }
SEED="$FW_SOURCE_DIR/tests/review/seed.sql"
RV_DBS=()
RV_TMP="$(mktemp -d)"
rv_cleanup() {
    for db in "${RV_DBS[@]}"; do
        psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1
    done
    # newrole runs in $(...) subshells: the names are kept in a file.
    if [ -f "$RV_TMP/roles" ]; then
        while read -r r; do
            psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "DROP ROLE IF EXISTS \"$r\"" >/dev/null 2>&1
        done < "$RV_TMP/roles"
    fi
    rm -rf "$RV_TMP"
}
trap rv_cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# newdb NAME [N]: creates and migrates a database, seeds N generations; sets DSN.
newdb() {
    local db="fwt_review_$$_$1"
    psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "CREATE DATABASE \"$db\"" >/dev/null || fail "createdb $db"
    RV_DBS+=("$db")
    DSN="$FLYWHEEL_PG_ADMIN_DSN dbname=$db"
    DB="$db"
    # FWT_MIGRATIONS_DIR runs a test against other migration files (to show a
    # regression test failing on an older schema).
    "$FW" migrate -q --dsn "$DSN" ${FWT_MIGRATIONS_DIR:+--dir "$FWT_MIGRATIONS_DIR"} || fail "migrate $db"
    if [ -n "${2:-}" ]; then
        psql "$DSN" -q -v ON_ERROR_STOP=1 -v n="$2" -f "$SEED" >/dev/null || fail "seed"
    fi
}
# newrole NAME GROUP: a LOGIN role in GROUP, unique to this run; prints its name.
newrole() {
    local r="rv_$$_$1"
    psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "CREATE ROLE \"$r\" LOGIN IN ROLE $2" >/dev/null || fail "create role $r"
    echo "$r" >> "$RV_TMP/roles"
    echo "$r"
}
# dsn_as ROLE: the connection string of the test database as ROLE.
dsn_as() { echo "$FLYWHEEL_PG_ADMIN_DSN dbname=$DB user=$1"; }
q() { psql "$DSN" -qAt -v ON_ERROR_STOP=1 -c "$1" || fail "query failed: $1"; }
qas() { psql "$(dsn_as "$1")" -qAt -v ON_ERROR_STOP=1 -c "$2" || fail "query as $1 failed: $2"; }
eq() { [ "$1" = "$2" ] || fail "$3: expected \"$2\", got \"$1\""; }
# expect_err SQLSTATE PATTERN SQL [DSN]: the statement must fail with SQLSTATE
# and its verbose error text must match PATTERN (grep -E).
expect_err() {
    local state="$1" pat="$2" sql="$3" dsn="${4:-$DSN}" out
    out="$(psql "$dsn" -qAt -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "\\set VERBOSITY verbose" -c "$sql" 2>&1)" \
        && fail "expected $state from: $sql ; got: $out"
    grep -q "ERROR:  $state:" <<<"$out" || fail "expected SQLSTATE $state from: $sql ; got: $out"
    tr "\n" " " <<<"$out" | grep -Eq -- "$pat" || fail "expected /$pat/ from: $sql ; got: $out"
}
