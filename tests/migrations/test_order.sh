#!/usr/bin/env bash
# The migration-order check: the repository's migrations pass it (and, in a
# git checkout with a main branch, so does every file against main), and it
# fails on each way of breaking the numbering: a gap, a duplicate, a number
# inside the old bands, and a new file numbered below a version on main.
set -uo pipefail
CHECK="$FW_SOURCE_DIR/tests/migrations/check_order.sh"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "-- the repository's migrations"
bash "$CHECK" "$FW_SOURCE_DIR/migrations" || fail "migrations/ breaks the numbering rules"
ref=""
if git -C "$FW_SOURCE_DIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    for r in main origin/main; do
        if git -C "$FW_SOURCE_DIR" rev-parse --verify -q "$r^{commit}" >/dev/null; then
            ref="$r"
            break
        fi
    done
fi
if [ -n "$ref" ]; then
    bash "$CHECK" "$FW_SOURCE_DIR/migrations" "$FW_SOURCE_DIR" "$ref" ||
        fail "migrations/ breaks the numbering against $ref"
else
    echo "no git checkout with a main branch: numbering checked without it"
fi

legacy() { # legacy DIR: the banded versions
    mkdir -p "$1"
    for f in V0001__a V0003__b V0020__c V0021__d V0030__e V0031__f V0032__g V0033__h; do
        echo "SELECT 1;" > "$1/$f.sql"
    done
}
expect_bad() { # expect_bad PATTERN DIR [GIT REF]
    local pat="$1"; shift
    local out
    out="$(bash "$CHECK" "$@" 2>&1)" && fail "accepted $1: $(ls "$1")"
    grep -q -- "$pat" <<<"$out" || fail "expected \"$pat\" in: $out"
}

echo "-- a good set passes"
legacy "$TMP/good"; touch "$TMP/good/V0034__x.sql" "$TMP/good/V0035__y.sql" "$TMP/good/R__10_z.sql"
bash "$CHECK" "$TMP/good" || fail "a good set was refused"

echo "-- a gap, a duplicate, a number in the bands, a bad name, a missing band"
legacy "$TMP/gap"; touch "$TMP/gap/V0034__x.sql" "$TMP/gap/V0036__y.sql"
expect_bad "should be version 35" "$TMP/gap"
legacy "$TMP/dup"; touch "$TMP/dup/V0034__x.sql" "$TMP/dup/V0034__y.sql"
expect_bad "taken twice" "$TMP/dup"
legacy "$TMP/band"; touch "$TMP/band/V0025__x.sql"
expect_bad "inside the old bands" "$TMP/band"
legacy "$TMP/name"; touch "$TMP/name/V34__x.sql"
expect_bad "is not named" "$TMP/name"
legacy "$TMP/missing"; rm "$TMP/missing/V0003__b.sql"
expect_bad "banded version 3 is missing" "$TMP/missing"

echo "-- a new file numbered below a version on main"
repo="$TMP/repo"
mkdir -p "$repo"
git -C "$repo" init -q -b main
git -C "$repo" config user.email t@example.com
git -C "$repo" config user.name t
legacy "$repo/migrations"
echo "SELECT 34;" > "$repo/migrations/V0034__theirs.sql"
echo "SELECT 35;" > "$repo/migrations/V0035__theirs_too.sql"
git -C "$repo" add -A && git -C "$repo" commit -qm main
git -C "$repo" checkout -qb mine
git -C "$repo" mv migrations/V0034__theirs.sql migrations/V0034__mine.sql
bash "$CHECK" "$repo/migrations" || fail "the renamed set should pass without git"
expect_bad "numbered at or below version 35" "$repo/migrations" "$repo" main
expect_bad "never renamed or removed" "$repo/migrations" "$repo" main
git -C "$repo" mv migrations/V0034__mine.sql migrations/V0034__theirs.sql
echo "SELECT 36;" > "$repo/migrations/V0036__mine.sql"
bash "$CHECK" "$repo/migrations" "$repo" main || fail "a file numbered after main was refused"

echo "-- a branch behind main: main's newer files are not required, a clash is refused"
git -C "$repo" add -A && git -C "$repo" commit -qm mine
git -C "$repo" checkout -q main
echo "SELECT 36;" > "$repo/migrations/V0036__theirs_later.sql"
git -C "$repo" add -A && git -C "$repo" commit -qm "main moves"
git -C "$repo" checkout -q mine
expect_bad "numbered at or below version 36" "$repo/migrations" "$repo" main
git -C "$repo" mv migrations/V0036__mine.sql migrations/V0037__mine.sql
out="$(bash "$CHECK" "$repo/migrations" "$repo" main 2>&1)"
grep -q "never renamed or removed" <<<"$out" && fail "a file added on main after the fork was required: $out"
echo ok
