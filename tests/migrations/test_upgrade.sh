#!/usr/bin/env bash
# Existing databases upgrade in place to the repeatable-migration layout.
#
# A database is built with the exact migration files of the legacy layout
# (tests/migrations/legacy: functions and views inside versioned files,
# versions in bands) and loaded with data through the review functions; the
# built-in migrations then upgrade it. Checked: every table's rows are
# unchanged, the views answer the same, the history is re-recorded (old
# checksums kept), the schema is the one a new database gets (pg_dump
# --schema-only compared), the functions work, a second run does nothing.
# Then the bands: a database migrated while V0003, V0020 and V0021 did not
# exist yet (they were committed after V0030) upgrades too.
set -uo pipefail
: "${FLYWHEEL_PG_ADMIN_DSN:?FLYWHEEL_PG_ADMIN_DSN is not set: run through scripts/test}"
FW="$FW_BUILD_DIR/cli/flywheel"
HERE="$FW_SOURCE_DIR/tests/migrations"
LEGACY="$HERE/legacy"
PG_DUMP="${FLYWHEEL_PG_BINDIR:+$FLYWHEEL_PG_BINDIR/}pg_dump"
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
    local db="fwt_upgrade_$$_$1"
    psql "$FLYWHEEL_PG_ADMIN_DSN" -qAtc "CREATE DATABASE \"$db\"" >/dev/null || fail "createdb $db"
    DBS+=("$db")
    NEWDSN="$FLYWHEEL_PG_ADMIN_DSN dbname=$db"
}
q() { psql "$1" -qAtX -v ON_ERROR_STOP=1 -c "$2"; }

# The tables of the legacy database and the views whose answers do not
# depend on the clock or on statistics, and whose meaning did not change on
# purpose since the legacy layout: label_coverage_facts now counts disputed
# items as labelled (issue 11 item 17; dashboards_stats checks it against the
# tables), so its answer differs after the upgrade by design.
relations() {
    q "$1" "SELECT c.relname FROM pg_class c
            WHERE c.relnamespace = 'flywheel'::regnamespace
              AND c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND c.relname NOT IN ('schema_history', 'schema_repeatable')
            ORDER BY 1"
    echo review_results review_agreement review_gold_accuracy review_current_labels \
         review_throughput review_time_per_item generation_facts feedback_facts \
         feedback_events orphan_feedback dead_letter_facts review_label_facts \
         review_item_agreement
}
# columns DSN REL: the relation's columns, comma-separated.
columns() {
    q "$1" "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = 'flywheel.$2'::regclass AND attnum > 0 AND NOT attisdropped"
}
# snapshot DSN RELATIONS: one line per relation: name, row count, md5 of the
# sorted rows, each row restricted to the columns the relation had before
# the upgrade ($TMP/columns.REL, written by the first snapshot): a column a
# later migration adds is new data (generations.id_time of V0038 is checked
# on its own), every value that was there must stay.
snapshot() {
    local dsn="$1" rel
    for rel in $2; do
        [ -f "$TMP/columns.$rel" ] || columns "$dsn" "$rel" > "$TMP/columns.$rel"
        echo "$rel $(q "$dsn" "SELECT count(*) || ' ' || md5(coalesce(string_agg(r, E'\n' ORDER BY r), ''))
                               FROM (SELECT (SELECT jsonb_object_agg(e.key, e.value)
                                             FROM jsonb_each(to_jsonb(t)) e
                                             WHERE e.key = ANY (string_to_array('$(cat "$TMP/columns.$rel")', ',')))::text AS r
                                     FROM flywheel.$rel t) x")"
    done
}
# The schema as pg_dump prints it, without the run-specific lines and
# without the daily partitions: which days exist depends on the data and the
# date (flywheel.maintain_partitions() moves rows out of the default
# partition), and the first ones carry a grant to flywheel_admin in the
# legacy layout only (V0001 granted on all tables after creating them).
# They are copies of flywheel.generations (CREATE TABLE ... LIKE).
schema() {
    "$PG_DUMP" --schema-only --schema=flywheel --exclude-table='flywheel.generations_[0-9]*' "$1" |
        grep -v -e '^--' -e '^\\restrict' -e '^\\unrestrict' -e '^$'
}

echo "-- a database at the legacy layout, with data"
newdb legacy; OLD="$NEWDSN"
"$FW" migrate -q --dsn "$OLD" --dir "$LEGACY" || fail "legacy migrations"
[ "$(q "$OLD" "SELECT string_agg(version::text, ',' ORDER BY version) FROM flywheel.schema_history")" = \
  "1,3,20,21,30,31,32,33" ] || fail "legacy history"
psql "$OLD" -qX -v ON_ERROR_STOP=1 -f "$HERE/legacy_data.sql" >/dev/null || fail "loading the data"
[ "$(q "$OLD" "SELECT count(*) FROM flywheel.generations_default")" -gt 0 ] || fail "no row in the default partition"
[ "$(q "$OLD" "SELECT count(DISTINCT status) FROM flywheel.review_items")" -ge 4 ] || fail "too few item states"
rels="$(relations "$OLD")"
snapshot "$OLD" "$rels" > "$TMP/before"
legacy_sums="$(q "$OLD" "SELECT string_agg(version || ':' || checksum, ',' ORDER BY version) FROM flywheel.schema_history")"

echo "-- status before the upgrade shows both kinds"
"$FW" migrate status --dsn "$OLD" > "$TMP/status" && fail "status should exit 1 before the upgrade"
grep -Eq '^1 +legacy ' "$TMP/status" || fail "status should show V0001 as legacy: $(cat "$TMP/status")"
grep -Eq '^21 +applied ' "$TMP/status" || fail "an unchanged version should show applied"
grep -Eq '^repeatable +pending .*R__20_review.sql' "$TMP/status" || fail "status should list R__ files as pending"

echo "-- upgrade in place"
out="$("$FW" migrate --dsn "$OLD" 2>&1)" || fail "upgrade: $out"
grep -q "re-recorded under the repeatable layout" <<<"$out" || fail "upgrade output: $out"
snapshot "$OLD" "$rels" > "$TMP/after"
diff "$TMP/before" "$TMP/after" || fail "data or view answers changed in the upgrade"
"$FW" migrate status --dsn "$OLD" > "$TMP/status" || fail "status after the upgrade: $(cat "$TMP/status")"
[ "$(grep -c '^repeatable  *applied' "$TMP/status")" = "$(ls "$FW_SOURCE_DIR"/migrations/R__*.sql | wc -l)" ] \
    || fail "every repeatable file should be applied: $(cat "$TMP/status")"
[ "$(q "$OLD" "SELECT string_agg(version || ':' || coalesce(previous_checksum, checksum), ',' ORDER BY version)
               FROM flywheel.schema_history WHERE version <= 33")" = "$legacy_sums" ] || fail "old checksums not kept"
[ "$(q "$OLD" "SELECT count(*) FROM flywheel.schema_history WHERE previous_checksum IS NOT NULL")" = 7 ] \
    || fail "seven versions should have been re-recorded"

echo "-- the same schema as a new database"
newdb fresh; NEW="$NEWDSN"
"$FW" migrate -q --dsn "$NEW" || fail "fresh migrate"
schema "$OLD" > "$TMP/old.sql" || fail "pg_dump"
schema "$NEW" > "$TMP/new.sql" || fail "pg_dump"
diff "$TMP/new.sql" "$TMP/old.sql" > "$TMP/schema.diff" || { head -40 "$TMP/schema.diff"; fail "upgraded schema differs from a new one"; }

echo "-- every generation is placed by its event id (V0038)"
[ "$(q "$OLD" "SELECT count(*) FROM flywheel.generations WHERE id_time IS DISTINCT FROM flywheel.event_id_time(event_id)")" = 0 ] \
    || fail "a generation's id_time is not its id's time"
[ "$(q "$OLD" "SELECT count(*) FROM flywheel.generations g JOIN pg_class p ON p.oid = g.tableoid
               WHERE p.relname <> 'generations_' || to_char(g.id_time AT TIME ZONE 'UTC', 'YYYYMMDD')")" = 0 ] \
    || fail "every generation should be in its id's day's partition"
# md5 ids are not UUIDv7 (but one in 64 looks like one by chance): 1970-01-01.
[ "$(q "$OLD" "SELECT count(*) FROM flywheel.generations_19700101")" -ge 50 ] \
    || fail "the legacy rows (md5 ids, not UUIDv7) should be in generations_19700101"
[ "$(q "$OLD" "SELECT to_regclass('flywheel.generations_v0038_duplicates') IS NULL")" = t ] \
    || fail "no duplicates, so no duplicates table"

echo "-- a second run does nothing; the functions work"
out="$("$FW" migrate --dsn "$OLD" 2>&1)" || fail "re-run: $out"
grep -q "up to date" <<<"$out" || fail "re-run output: $out"
item="$(q "$OLD" "SELECT (flywheel.review_claim('upq', 'dave')->>'item_id')")"
[ -n "$item" ] || fail "claim after the upgrade returned nothing"
q "$OLD" "SELECT flywheel.review_submit($item, '{\"correct\":true}', 'dave')" >/dev/null || fail "submit after the upgrade"
q "$OLD" "SELECT flywheel.maintain_partitions()" >/dev/null || fail "maintain_partitions after the upgrade"

echo "-- the bands: V0001 and V0030-V0033 applied before V0003, V0020, V0021 existed"
newdb banded; BAND="$NEWDSN"
mkdir -p "$TMP/banded"
cp "$LEGACY"/V0001__*.sql "$LEGACY"/V0030__*.sql "$LEGACY"/V0031__*.sql "$LEGACY"/V0033__*.sql "$TMP/banded/"
"$FW" migrate -q --dsn "$BAND" --dir "$TMP/banded" || fail "banded legacy migrations"
out="$("$FW" migrate --dsn "$BAND" 2>&1)" || fail "upgrade of the banded database: $out"
schema "$BAND" > "$TMP/band.sql" || fail "pg_dump"
diff "$TMP/new.sql" "$TMP/band.sql" > "$TMP/band.diff" || { head -40 "$TMP/band.diff"; fail "banded upgrade differs from a new schema"; }
"$FW" migrate status --dsn "$BAND" >/dev/null || fail "status after the banded upgrade"

echo "-- rows that repeated an event id (before V0038) become one row per id"
newdb dups; DUP="$NEWDSN"
"$FW" migrate -q --dsn "$DUP" --dir "$LEGACY" || fail "legacy migrations (dups)"
# One UUIDv7 id stored three times (the time moved +1 s and -2 days on
# re-sends, received in that order), another once; a review item points at
# the -2 days copy, the pair side of another at the +1 s copy.
V7A=01900000-0000-7000-8000-00000000000a V7B=01900000-0000-7000-8000-00000000000b
q "$DUP" "SELECT flywheel.maintain_partitions(3, 3);
          INSERT INTO flywheel.generations (event_id, event_time, received_at, schema_version, request_model)
          VALUES ('$V7A', now(), now() - interval '3 minutes', 1, 'm'),
                 ('$V7A', now() + interval '1 second', now() - interval '2 minutes', 1, 'm'),
                 ('$V7A', now() - interval '2 days', now() - interval '1 minute', 1, 'm'),
                 ('$V7B', now(), now(), 1, 'm');
          SELECT flywheel.review_rubric_create('d', '{\"fields\":[{\"name\":\"ok\",\"type\":\"boolean\"}]}');
          SELECT flywheel.review_queue_create('{\"name\":\"dq\",\"rubric\":\"d\",\"rubric_version\":1}');
          INSERT INTO flywheel.review_items (queue_id, event_id, event_time, event_id_b, event_time_b, overlap)
          SELECT q.id, '$V7A'::uuid, g.event_time, NULL, NULL, 1 FROM flywheel.review_queues q, flywheel.generations g
          WHERE g.event_id = '$V7A' AND g.event_time < now() - interval '1 day'
          UNION ALL
          SELECT q.id, '$V7B'::uuid, now(), '$V7A'::uuid, g.event_time, 1 FROM flywheel.review_queues q, flywheel.generations g
          WHERE g.event_id = '$V7A' AND g.event_time > now()" >/dev/null || fail "loading the duplicates"
[ "$(q "$DUP" "SELECT count(*) FROM flywheel.generations")" = 4 ] || fail "the legacy layout should hold 4 rows"
first_time="$(q "$DUP" "SELECT event_time FROM flywheel.generations WHERE event_id = '$V7A' ORDER BY received_at LIMIT 1")"
out="$("$FW" migrate --dsn "$DUP" 2>&1)" || fail "upgrade with duplicates: $out"
[ "$(q "$DUP" "SELECT count(*) || ',' || count(DISTINCT event_id) FROM flywheel.generations")" = "2,2" ] \
    || fail "one row per event id after the upgrade"
[ "$(q "$DUP" "SELECT event_time FROM flywheel.generations WHERE event_id = '$V7A'")" = "$first_time" ] \
    || fail "the first received copy should be kept"
[ "$(q "$DUP" "SELECT count(*) FROM flywheel.generations_v0038_duplicates WHERE event_id = '$V7A'")" = 2 ] \
    || fail "the two other copies should be kept aside"
[ "$(q "$DUP" "SELECT count(*) FROM flywheel.review_items i JOIN flywheel.generations g
               ON g.event_id = i.event_id AND g.event_time = i.event_time")" = 2 ] \
    || fail "review items should point at the kept copy"
[ "$(q "$DUP" "SELECT count(*) FROM flywheel.review_items i JOIN flywheel.generations g
               ON g.event_id = i.event_id_b AND g.event_time = i.event_time_b")" = 1 ] \
    || fail "the pair side should point at the kept copy"
[ "$(q "$DUP" "SELECT count(*) FROM flywheel.generations WHERE id_time = flywheel.event_id_time(event_id)
               AND id_time = '2024-06-10 02:35:18.4+00'")" = 2 ] || fail "id_time of the v7 rows"
# And now the same id again, at +1 s and -2 days, stays one row.
q "$DUP" "INSERT INTO flywheel.generations (event_id, event_time, schema_version, id_time)
          VALUES ('$V7A', now() + interval '1 second', 1, flywheel.event_id_time('$V7A')),
                 ('$V7A', now() - interval '2 days', 1, flywheel.event_id_time('$V7A'))
          ON CONFLICT DO NOTHING" >/dev/null || fail "re-sends after the upgrade"
[ "$(q "$DUP" "SELECT count(*) FROM flywheel.generations WHERE event_id = '$V7A'")" = 1 ] \
    || fail "a re-send after the upgrade made a second row"

echo "-- a changed legacy file that is not the legacy one is still refused"
newdb edited; ED="$NEWDSN"
mkdir -p "$TMP/edited"; cp "$LEGACY"/*.sql "$TMP/edited/"
printf '\n-- edited\n' >> "$TMP/edited/V0003__review_queue.sql"
"$FW" migrate -q --dsn "$ED" --dir "$TMP/edited" || fail "edited legacy migrations"
out="$("$FW" migrate --dsn "$ED" 2>&1)" && fail "an edited legacy file was accepted: $out"
grep -q "V0003__review_queue.sql has changed" <<<"$out" || fail "unexpected refusal: $out"
echo ok
