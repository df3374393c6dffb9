#!/usr/bin/env bash
# flywheel migrate against a real PostgreSQL: apply on an empty database,
# re-run is a no-op, a changed applied file is refused, a failed migration
# blocks until repaired, unknown newer versions and out-of-order files are
# refused, no-transaction files run outside a transaction, repeatable files
# are re-applied when they change (and after a versioned migration) and
# block when they fail, and several concurrent runs on an empty database end
# with one correct schema. The upgrade of legacy databases is
# tests/migrations/test_upgrade.sh.
set -uo pipefail
: "${FLYWHEEL_PG_ADMIN_DSN:?FLYWHEEL_PG_ADMIN_DSN is not set: run through scripts/test}"
FW="$FW_BUILD_DIR/cli/flywheel"
MIG="$FW_SOURCE_DIR/migrations"
[ -x "$FW" ] || { echo "flywheel not built: $FW"; exit 1; }

TMP="$(mktemp -d)"
DBS=()
cleanup() {
    for db in "${DBS[@]}"; do
        psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
newdb() {
    local db="fwt_migrate_$$_$1"
    psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "CREATE DATABASE \"$db\"" >/dev/null || fail "createdb $db"
    DBS+=("$db")
    NEWDSN="$FLYWHEEL_PG_ADMIN_DSN dbname=$db"
}
q() { psql "$1" -qAtc "$2"; }
expect_fail() { # expect_fail PATTERN cmd...
    local pat="$1"; shift
    local out rc
    out="$("$@" 2>&1)"; rc=$?
    [ $rc -ne 0 ] || fail "expected failure from: $* ; got: $out"
    grep -q -- "$pat" <<<"$out" || fail "expected \"$pat\" in: $out"
}

latest="$(ls "$MIG"/V*.sql | sed -E 's#.*/V0*([0-9]+)__.*#\1#' | sort -n | tail -n1)"
nfiles="$(ls "$MIG"/V*.sql | wc -l)"
nrep="$(ls "$MIG"/R__*.sql | wc -l)"
[ "$nrep" -gt 0 ] || fail "no repeatable migrations in $MIG"

echo "-- apply on an empty database"
newdb a; DSN="$NEWDSN"
out="$("$FW" migrate --dsn "$DSN" 2>&1)" || fail "migrate: $out"
grep -q "applied $((nfiles + nrep)) migration" <<<"$out" || fail "unexpected output: $out"
[ "$(q "$DSN" "SELECT count(*) FROM flywheel.schema_history WHERE success")" = "$nfiles" ] || fail "history rows"
[ "$(q "$DSN" "SELECT count(*) FROM flywheel.schema_repeatable WHERE success")" = "$nrep" ] || fail "repeatable rows"
# repeatable files run after every versioned one, in name order
[ "$(q "$DSN" "SELECT string_agg(script, ',' ORDER BY applied_at, script) FROM flywheel.schema_repeatable")" = \
  "$(cd "$MIG" && ls R__*.sql | LC_ALL=C sort | paste -sd,)" ] || fail "repeatable order"
[ "$(q "$DSN" "SELECT max(version) FROM flywheel.schema_history")" = "$latest" ] || fail "latest version"
for t in generations feedback dead_letters ingest_offsets; do
    [ "$(q "$DSN" "SELECT to_regclass('flywheel.$t') IS NOT NULL")" = t ] || fail "table $t missing"
done
for r in flywheel_admin flywheel_ingest flywheel_reviewer flywheel_reader; do
    [ "$(q "$DSN" "SELECT count(*) FROM pg_roles WHERE rolname = '$r'")" = 1 ] || fail "role $r missing"
done
# lz4 on the large columns, inherited by the daily partitions
part="$(q "$DSN" "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'flywheel.generations'::regclass AND c.relname <> 'generations_default' LIMIT 1")"
[ -n "$part" ] || fail "no daily partition created"
[ "$(q "$DSN" "SELECT attcompression FROM pg_attribute WHERE attrelid = 'flywheel.$part'::regclass AND attname = 'input_messages'")" = l ] \
    || fail "input_messages of $part is not lz4-compressed"
"$FW" migrate status --dsn "$DSN" >/dev/null || fail "status should exit 0 when up to date"

echo "-- re-run is a no-op"
hist() { q "$1" "SELECT string_agg(version || ':' || applied_at, ',' ORDER BY version) FROM flywheel.schema_history"; }
rhist() { q "$1" "SELECT string_agg(script || ':' || applied_at, ',' ORDER BY script) FROM flywheel.schema_repeatable"; }
before="$(hist "$DSN")"; rbefore="$(rhist "$DSN")"
out="$("$FW" migrate --dsn "$DSN" 2>&1)" || fail "re-run: $out"
grep -q "up to date" <<<"$out" || fail "re-run output: $out"
[ "$before" = "$(hist "$DSN")" ] || fail "history changed on re-run"
[ "$rbefore" = "$(rhist "$DSN")" ] || fail "repeatable history changed on re-run"

echo "-- libpq environment is honoured"
( unset FLYWHEEL_PG_DSN; export PGHOST=127.0.0.1 PGPORT="$(sed -E 's/.*port=([0-9]+).*/\1/' <<<"$FLYWHEEL_PG_ADMIN_DSN")" \
    PGUSER=postgres PGDATABASE="${DBS[0]}"; "$FW" migrate -q ) || fail "migrate with PG* variables"

echo "-- a changed applied file is refused"
mkdir -p "$TMP/changed"; cp "$MIG"/V*.sql "$MIG"/R__*.sql "$TMP/changed/"
first="$(cd "$TMP/changed" && ls V*.sql | head -n1)"
printf '\n-- edited after the fact\n' >> "$TMP/changed/$first"
expect_fail "has changed since it was applied" "$FW" migrate --dsn "$DSN" --dir "$TMP/changed"
{ "$FW" migrate status --dsn "$DSN" --dir "$TMP/changed" || true; } | grep -q CHANGED || fail "status should show CHANGED"

echo "-- a newer schema than this program is refused"
mkdir -p "$TMP/newer"; cp "$MIG"/V*.sql "$MIG"/R__*.sql "$TMP/newer/"
echo "CREATE TABLE flywheel.zz_future (x int);" > "$TMP/newer/V9990__future.sql"
"$FW" migrate -q --dsn "$DSN" --dir "$TMP/newer" || fail "applying V9990"
expect_fail "does not know" "$FW" migrate --dsn "$DSN"

echo "-- out-of-order files are refused"
echo "SELECT 1;" > "$TMP/newer/V9000__late.sql"
expect_fail "later version is already applied" "$FW" migrate --dsn "$DSN" --dir "$TMP/newer"

echo "-- a failed migration is rolled back and blocks until repaired"
newdb b; DSN2="$NEWDSN"
mkdir -p "$TMP/broken"; cp "$MIG"/V*.sql "$MIG"/R__*.sql "$TMP/broken/"
cat > "$TMP/broken/V9100__broken.sql" <<'SQL'
CREATE TABLE flywheel.half_done (x int);
SELECT * FROM no_such_table;
SQL
expect_fail "V9100__broken.sql failed: line 2" "$FW" migrate --dsn "$DSN2" --dir "$TMP/broken"
[ "$(q "$DSN2" "SELECT to_regclass('flywheel.half_done') IS NULL")" = t ] || fail "failed migration not rolled back"
[ "$(q "$DSN2" "SELECT count(*) FROM flywheel.schema_history WHERE NOT success")" = 1 ] || fail "failure not recorded"
echo "CREATE TABLE flywheel.half_done (x int);" > "$TMP/broken/V9100__broken.sql"
expect_fail "migrate repair" "$FW" migrate --dsn "$DSN2" --dir "$TMP/broken"
"$FW" migrate status --dsn "$DSN2" --dir "$TMP/broken" >/dev/null && fail "status should exit 1 with a failed entry"
"$FW" migrate repair --dsn "$DSN2" | grep -q "removed 1" || fail "repair"
"$FW" migrate -q --dsn "$DSN2" --dir "$TMP/broken" || fail "migrate after repair"
[ "$(q "$DSN2" "SELECT to_regclass('flywheel.half_done') IS NOT NULL")" = t ] || fail "fixed migration not applied"

echo "-- a no-transaction migration runs statement by statement"
cat > "$TMP/broken/V9200__concurrent_index.sql" <<'SQL'
-- flywheel:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS feedback_name_idx ON flywheel.feedback (name);
CREATE INDEX CONCURRENTLY IF NOT EXISTS feedback_author_idx ON flywheel.feedback (author_id);
SQL
"$FW" migrate -q --dsn "$DSN2" --dir "$TMP/broken" || fail "no-transaction migration"
[ "$(q "$DSN2" "SELECT count(*) FROM pg_indexes WHERE indexname IN ('feedback_name_idx', 'feedback_author_idx')")" = 2 ] || fail "concurrent indexes missing"

echo "-- the ingest role has least privilege"
q "$DSN2" "SET ROLE flywheel_ingest; SELECT count(*) FROM flywheel.generations" >/dev/null 2>&1 \
    && fail "flywheel_ingest can read generations"
q "$DSN2" "SET ROLE flywheel_ingest; SELECT flywheel.maintain_partitions()" >/dev/null \
    || fail "flywheel_ingest cannot maintain partitions"

echo "-- concurrent runs on an empty database end with one schema"
newdb c; DSN3="$NEWDSN"
pids=()
for i in 1 2 3 4 5 6 7 8; do
    "$FW" migrate -q --dsn "$DSN3" >"$TMP/conc.$i.out" 2>&1 &
    pids+=($!)
done
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { cat "$TMP/conc.$((i + 1)).out"; fail "concurrent run $((i + 1)) failed"; }
done
[ "$(q "$DSN3" "SELECT count(*) FROM flywheel.schema_history")" = "$nfiles" ] || fail "concurrent history rows"
[ "$(q "$DSN3" "SELECT count(*) FROM flywheel.schema_history WHERE NOT success")" = 0 ] || fail "concurrent failures"
[ "$(q "$DSN3" "SELECT count(*) FROM pg_tables WHERE schemaname = 'flywheel'")" = \
  "$(q "$DSN" "SELECT count(*) FROM pg_tables WHERE schemaname = 'flywheel' AND tablename NOT IN ('zz_future')")" ] \
    || fail "concurrent schema differs"

echo "-- a changed repeatable file is re-applied, alone; status shows it first"
newdb r; DSN4="$NEWDSN"
mkdir -p "$TMP/rep"; cp "$MIG"/V*.sql "$MIG"/R__*.sql "$TMP/rep/"
"$FW" migrate -q --dsn "$DSN4" --dir "$TMP/rep" || fail "migrate rep"
cat >> "$TMP/rep/R__10_store.sql" <<'SQL'
COMMENT ON VIEW flywheel.orphan_feedback IS 'edited in place';
SQL
st="$("$FW" migrate status --dsn "$DSN4" --dir "$TMP/rep")" && fail "status should exit 1 with an outdated file"
grep -Eq '^repeatable +outdated .*R__10_store.sql' <<<"$st" || fail "status should show R__10_store.sql outdated: $st"
[ "$(grep -c '^repeatable' <<<"$st")" = "$nrep" ] || fail "status should list every repeatable file: $st"
others="$(q "$DSN4" "SELECT string_agg(script || ':' || applied_at, ',' ORDER BY script) FROM flywheel.schema_repeatable WHERE script <> 'R__10_store.sql'")"
out="$("$FW" migrate --dsn "$DSN4" --dir "$TMP/rep" 2>&1)" || fail "re-apply: $out"
grep -q "applied 1 migration" <<<"$out" || fail "only the changed file should run: $out"
[ "$(q "$DSN4" "SELECT obj_description('flywheel.orphan_feedback'::regclass)")" = "edited in place" ] || fail "edit not applied"
[ "$others" = "$(q "$DSN4" "SELECT string_agg(script || ':' || applied_at, ',' ORDER BY script) FROM flywheel.schema_repeatable WHERE script <> 'R__10_store.sql'")" ] \
    || fail "unchanged repeatable files were re-applied"
"$FW" migrate status --dsn "$DSN4" --dir "$TMP/rep" >/dev/null || fail "status after re-apply"

echo "-- a versioned migration re-applies every repeatable file"
echo "ALTER TABLE flywheel.dead_letters ADD COLUMN zz_note text;" > "$TMP/rep/V9300__note.sql"
out="$("$FW" migrate --dsn "$DSN4" --dir "$TMP/rep" 2>&1)" || fail "versioned + repeatable: $out"
grep -q "applied $((1 + nrep)) migration" <<<"$out" || fail "every repeatable file should follow a versioned one: $out"

echo "-- a failed repeatable file is rolled back and blocks until repaired"
printf 'CREATE OR REPLACE VIEW flywheel.zz_half AS SELECT 1 AS x;\nSELECT * FROM no_such_table;\n' > "$TMP/rep/R__90_broken.sql"
expect_fail "R__90_broken.sql failed: line 2" "$FW" migrate --dsn "$DSN4" --dir "$TMP/rep"
[ "$(q "$DSN4" "SELECT to_regclass('flywheel.zz_half') IS NULL")" = t ] || fail "failed repeatable not rolled back"
{ "$FW" migrate status --dsn "$DSN4" --dir "$TMP/rep" || true; } | grep -Eq '^repeatable +FAILED .*R__90_broken.sql' \
    || fail "status should show the failed repeatable"
printf 'CREATE OR REPLACE VIEW flywheel.zz_half AS SELECT 1 AS x;\n' > "$TMP/rep/R__90_broken.sql"
expect_fail "migrate repair" "$FW" migrate --dsn "$DSN4" --dir "$TMP/rep"
"$FW" migrate repair --dsn "$DSN4" | grep -q "removed 1" || fail "repair of a repeatable"
"$FW" migrate -q --dsn "$DSN4" --dir "$TMP/rep" || fail "migrate after repairing a repeatable"
[ "$(q "$DSN4" "SELECT to_regclass('flywheel.zz_half') IS NOT NULL")" = t ] || fail "fixed repeatable not applied"
rm "$TMP/rep/R__90_broken.sql"
st="$("$FW" migrate status --dsn "$DSN4" --dir "$TMP/rep")" || fail "a removed repeatable file needs no attention: $st"
grep -Eq '^repeatable +missing .*R__90_broken.sql' <<<"$st" || fail "status should show the removed file as missing: $st"

echo "-- bad connection fails clearly"
expect_fail "could not connect to database" "$FW" migrate --dsn "host=127.0.0.1 port=1 dbname=x connect_timeout=2"
echo "ok"
