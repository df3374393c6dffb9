#!/usr/bin/env bash
# cli_unit_shared_options (issue #10 item 5): every subcommand takes the
# shared options from the one table in cli/opts.c. For each command:
# `--help` exits 0 and lists the shared options (--dsn and --help from the
# table, not a copy); an unknown option exits 2 with an error prefixed by the
# full command ("flywheel eval compare: unknown option ..."), never a bare
# subcommand name. No database is needed: nothing connects.
set -euo pipefail
: "${FW_BUILD_DIR:?}"
FW="$FW_BUILD_DIR/cli/flywheel"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
unset FLYWHEEL_PG_DSN

commands=("stats" "dataset list" "dlq list" "dlq show" "dlq replay" "keys create" "keys list"
          "keys revoke" "serve" "reviewer add" "reviewer list" "eval run" "eval list"
          "eval show" "eval compare" "eval agreement" "export" "migrate")
for cmd in "${commands[@]}"; do
    # shellcheck disable=SC2086
    "$FW" $cmd --help >"$tmp/out" 2>"$tmp/err" || fail "flywheel $cmd --help: exit $?"
    grep -q '^shared options:$' "$tmp/out" || fail "flywheel $cmd --help: no shared options section"
    grep -q -- '^  --dsn DSN  ' "$tmp/out" || fail "flywheel $cmd --help: no --dsn line of the table"
    grep -q -- '^  -h, --help  ' "$tmp/out" || fail "flywheel $cmd --help: no --help line of the table"
    rc=0
    # shellcheck disable=SC2086
    "$FW" $cmd --no-such-option >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" = 2 ] || fail "flywheel $cmd --no-such-option: exit $rc, expected 2"
    head -1 "$tmp/err" | grep -qx "flywheel $cmd: unknown option \"--no-such-option\"" \
        || fail "flywheel $cmd --no-such-option: $(head -1 "$tmp/err")"
    rc=0
    # shellcheck disable=SC2086
    "$FW" $cmd --dsn >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" = 2 ] || fail "flywheel $cmd --dsn (no value): exit $rc, expected 2"
    head -1 "$tmp/err" | grep -q "^flywheel $cmd: option \"--dsn\" needs a value" \
        || fail "flywheel $cmd --dsn: $(head -1 "$tmp/err")"
done
echo "shared options: ${#commands[@]} commands checked" >&2
