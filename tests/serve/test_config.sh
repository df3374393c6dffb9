#!/usr/bin/env bash
# serve_config: docs/configuration.md's `flywheel serve` section is exactly
# `flywheel serve --print-config-reference`; unknown keys are refused; the
# sources are default < file < environment < flag; passwords are masked; the
# cookie is Secure unless on plain-HTTP loopback.
set -euo pipefail
bin="$FW_BUILD_DIR/cli/flywheel"
doc="$FW_SOURCE_DIR/docs/configuration.md"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

sed -n '/^<!-- BEGIN flywheel serve --print-config-reference -->$/,/^<!-- END flywheel serve --print-config-reference -->$/p' "$doc" \
    | sed '1d;$d' > "$tmp/doc"
"$bin" serve --print-config-reference > "$tmp/gen"
diff -u "$tmp/doc" "$tmp/gen" || fail "docs/configuration.md is out of date: regenerate with flywheel serve --print-config-reference"

unset FLYWHEEL_PG_DSN FLYWHEEL_SERVE_LISTEN
if "$bin" serve --set no.such=1 --print-config >/dev/null 2>"$tmp/err"; then fail "unknown key accepted"; fi
grep -q 'unrecognized configuration parameter "no.such"' "$tmp/err" || fail "message: $(cat "$tmp/err")"
printf 'serve.listen = 127.0.0.1:9001\nserve.pg_pool_size = 3\nbogus = 1\n' > "$tmp/bad.conf"
if "$bin" serve --config "$tmp/bad.conf" --print-config >/dev/null 2>"$tmp/err"; then fail "bad file accepted"; fi
grep -q 'bad.conf:3: unrecognized configuration parameter "bogus"' "$tmp/err" || fail "file message: $(cat "$tmp/err")"
printf 'serve.listen = 127.0.0.1:9001\nserve.pg_pool_size = 3\nserve.max_fields = 100\n' > "$tmp/ok.conf"
FLYWHEEL_SERVE_PG_POOL_SIZE=5 FLYWHEEL_PG_DSN="host=db password=hunter2 user=web" \
    "$bin" serve --config "$tmp/ok.conf" --set serve.max_fields=200 --print-config > "$tmp/out"
grep -qx 'serve.listen = 127.0.0.1:9001  # file' "$tmp/out" || fail "file source"
grep -qx 'serve.pg_pool_size = 5  # environment' "$tmp/out" || fail "environment source"
grep -qx 'serve.max_fields = 200  # flag' "$tmp/out" || fail "flag source"
grep -qx 'serve.connection_limit = 128  # default' "$tmp/out" || fail "default source"
grep -q 'pg.dsn = host=db password=\*\*\*\* user=web  # environment' "$tmp/out" || fail "password not masked: $(grep pg.dsn "$tmp/out")"
! grep -q hunter2 "$tmp/out" || fail "password printed"
if "$bin" serve --set serve.pg_pool_size=0 --print-config >/dev/null 2>"$tmp/err"; then fail "range"; fi
grep -q 'outside the valid range for parameter "serve.pg_pool_size"' "$tmp/err" || fail "range message"
if "$bin" serve --set session.cookie_secure=maybe --print-config >/dev/null 2>"$tmp/err"; then fail "enum"; fi
if "$bin" serve --set auth.trusted_header=X-User --print-config >/dev/null 2>"$tmp/err"; then fail "trusted header without peers"; fi
grep -q 'needs "auth.trusted_peers"' "$tmp/err" || fail "trusted header message"
echo ok
