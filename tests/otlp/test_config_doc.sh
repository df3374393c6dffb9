#!/usr/bin/env bash
# otlp_gateway_config: the gateway section of docs/configuration.md is exactly
# what `flywheel-gateway --print-config-reference` prints; unknown keys are
# refused; --print-config reports sources and masks secrets; values are
# validated.
set -euo pipefail
trap 'echo "FAIL: line $LINENO" >&2' ERR
bin="$FW_BUILD_DIR/gateway/flywheel-gateway"
doc="$FW_SOURCE_DIR/docs/configuration.md"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

sed -n '/^<!-- BEGIN flywheel-gateway --print-config-reference -->$/,/^<!-- END flywheel-gateway --print-config-reference -->$/p' "$doc" \
    | sed '1d;$d' > "$tmp/doc"
"$bin" --print-config-reference > "$tmp/gen"
if ! diff -u "$tmp/doc" "$tmp/gen"; then
    echo "docs/configuration.md is out of date: regenerate the gateway section with" >&2
    echo "  flywheel-gateway --print-config-reference" >&2
    exit 1
fi
if "$bin" --no.such.key=1 --print-config >/dev/null 2>"$tmp/err"; then exit 1; fi
grep -q 'unrecognized configuration parameter "no.such.key"' "$tmp/err"
printf 'topic = t1\npg.dsn = host=db user=gw password=${FWG_SECRET}\nkafka.sasl.password = hunter2\n' > "$tmp/ok.conf"
out="$(env -u FLYWHEEL_PG_DSN -u FLYWHEEL_TOPIC FWG_SECRET=s3cret FLYWHEEL_RETRY_AFTER_S=7 "$bin" --config "$tmp/ok.conf" --auth=none --print-config)"
grep -qx 'topic = t1  # file' <<<"$out"
grep -qx 'retry_after_s = 7  # environment' <<<"$out"
grep -qx 'auth = none  # flag' <<<"$out"
grep -qx 'listen = 127.0.0.1:4318  # default' <<<"$out"
grep -qx 'pg.dsn = host=db user=gw password=\*\*\*\*  # file' <<<"$out"
grep -qx 'kafka.sasl.password = \*\*\*\*  # file' <<<"$out"
! grep -q 's3cret\|hunter2' <<<"$out"
if "$bin" --kafka.bootstrap.servers=x --limits.timeout_s=0 2>"$tmp/err"; then exit 1; fi
grep -q 'outside the valid range for parameter "limits.timeout_s"' "$tmp/err"
if "$bin" --kafka.bootstrap.servers=x --auth=maybe 2>"$tmp/err"; then exit 1; fi
grep -q 'invalid value for parameter "auth"' "$tmp/err"
if env -u FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS "$bin" 2>"$tmp/err"; then exit 1; fi
grep -q 'parameter "kafka.bootstrap.servers" is required' "$tmp/err"
if "$bin" --help | grep -n '[[:space:]]$' >&2; then
    echo "--help has trailing white space on the lines above" >&2; exit 1
fi
echo "otlp_gateway_config: ok"
