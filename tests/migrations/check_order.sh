#!/usr/bin/env bash
# check_order.sh DIR [GIT_DIR REF]
#
# Checks the numbering of the versioned migrations in DIR:
#   - every versioned file is named V<4+ digits>__<description>.sql;
#   - the banded versions (up to 33, numbered before sequential numbering)
#     are exactly 1, 3, 20, 21, 30, 31, 32, 33: no new file may take a number
#     in or below the bands;
#   - later versions follow one another (34, 35, ...) without gap or
#     duplicate.
# With GIT_DIR and REF (the main branch), also:
#   - every versioned file that was on REF where this checkout's HEAD forked
#     from it (their merge base) is still in DIR under the same name;
#   - every versioned file in DIR that is not on REF is numbered above the
#     highest version on REF (a database migrated at REF would refuse it).
# Prints each problem and exits 1 if there is any.
set -uo pipefail
dir="$1"
gitdir="${2:-}"
ref="${3:-}"
banded="1 3 20 21 30 31 32 33"
last_banded=33
bad=0
problem() { echo "migration order: $*" >&2; bad=1; }

version_of() { # V0034__x.sql -> 34
    local v="${1#V}"
    v="${v%%__*}"
    echo "$((10#$v))"
}

declare -A seen
versions=()
for path in "$dir"/V*.sql; do
    [ -e "$path" ] || continue
    f="${path##*/}"
    if ! [[ "$f" =~ ^V[0-9]{4,}__[A-Za-z0-9_]+\.sql$ ]]; then
        problem "\"$f\" is not named V<version>__<description>.sql"
        continue
    fi
    v="$(version_of "$f")"
    if [ -n "${seen[$v]:-}" ]; then
        problem "version $v is taken twice: \"${seen[$v]}\" and \"$f\""
        continue
    fi
    seen[$v]="$f"
    versions+=("$v")
done
mapfile -t versions < <(printf '%s\n' "${versions[@]}" | sort -n)

for v in $banded; do
    [ -n "${seen[$v]:-}" ] || problem "banded version $v is missing"
done
expect=$((last_banded + 1))
for v in "${versions[@]}"; do
    [ -n "$v" ] || continue
    if [ "$v" -le "$last_banded" ]; then
        [[ " $banded " == *" $v "* ]] ||
            problem "\"${seen[$v]}\" is numbered inside the old bands (1-$last_banded); number it $expect"
        continue
    fi
    if [ "$v" -ne "$expect" ]; then
        problem "\"${seen[$v]}\" should be version $expect: versions after $last_banded follow one another"
        expect=$v
    fi
    expect=$((expect + 1))
done

if [ -n "$gitdir" ] && [ -n "$ref" ]; then
    main_max=0
    declare -A on_main
    while IFS= read -r f; do
        [[ "$f" =~ ^V[0-9]+__.*\.sql$ ]] || continue
        on_main[$f]=1
        v="$(version_of "$f")"
        [ "$v" -gt "$main_max" ] && main_max=$v
    done < <(git -C "$gitdir" ls-tree --name-only "$ref:migrations/")
    # A branch behind REF lacks REF's newest files until it merges: only
    # what was on REF when it forked must be here.
    base="$(git -C "$gitdir" merge-base HEAD "$ref" 2>/dev/null)" || base="$ref"
    while IFS= read -r f; do
        [[ "$f" =~ ^V[0-9]+__.*\.sql$ ]] || continue
        [ -e "$dir/$f" ] || problem "\"$f\" is on $ref but not here: a version once on $ref is never renamed or removed"
    done < <(git -C "$gitdir" ls-tree --name-only "$base:migrations/")
    for v in "${versions[@]}"; do
        [ -n "$v" ] || continue
        f="${seen[$v]}"
        [ -n "${on_main[$f]:-}" ] && continue
        [ "$v" -gt "$main_max" ] ||
            problem "\"$f\" is new but numbered at or below version $main_max, already on $ref; renumber it $((main_max + 1)) or later"
    done
fi
exit $bad
