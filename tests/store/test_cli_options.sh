#!/usr/bin/env bash
# cli_shared_options (issue #10 item 5): every subcommand takes the
# shared options from the one table in cli/opts.c. For each command:
# `--help` exits 0 and lists the shared options (--dsn and --help from the
# table, not a copy); an unknown option exits 2 with an error prefixed by the
# full command ("flywheel eval compare: unknown option ..."), never a bare
# subcommand name. No database is needed: nothing connects.
set -euo pipefail
: "${FW_BUILD_DIR:?}"
FW="$FW_BUILD_DIR/cli/flywheel"
fail() { echo "FAIL: $*" >&2; exit 1; }
unset FLYWHEEL_PG_DSN

commands=("stats" "dataset list" "dlq list" "dlq show" "dlq replay" "keys create" "keys list"
          "keys revoke" "serve" "reviewer add" "reviewer list" "eval run" "eval list"
          "eval show" "eval compare" "eval agreement" "export" "migrate")
for cmd in "${commands[@]}"; do
    # shellcheck disable=SC2086
    out=$("$FW" $cmd --help 2>&1) || fail "flywheel $cmd --help: exit $?"
    [[ $out == *$'\nshared options:\n'* ]] || fail "flywheel $cmd --help: no shared options section"
    [[ $out == *$'\n  --dsn DSN  '* ]] || fail "flywheel $cmd --help: no --dsn line of the table"
    [[ $out == *$'\n  -h, --help  '* ]] || fail "flywheel $cmd --help: no --help line of the table"
    rc=0
    # shellcheck disable=SC2086
    err=$("$FW" $cmd --no-such-option 2>&1 >/dev/null) || rc=$?
    [ "$rc" = 2 ] || fail "flywheel $cmd --no-such-option: exit $rc, expected 2"
    [ "${err%%$'\n'*}" = "flywheel $cmd: unknown option \"--no-such-option\"" ] \
        || fail "flywheel $cmd --no-such-option: ${err%%$'\n'*}"
    rc=0
    # shellcheck disable=SC2086
    err=$("$FW" $cmd --dsn 2>&1 >/dev/null) || rc=$?
    [ "$rc" = 2 ] || fail "flywheel $cmd --dsn (no value): exit $rc, expected 2"
    [[ ${err%%$'\n'*} == "flywheel $cmd: option \"--dsn\" needs a value"* ]] \
        || fail "flywheel $cmd --dsn: ${err%%$'\n'*}"
done
echo "shared options: ${#commands[@]} commands checked" >&2
