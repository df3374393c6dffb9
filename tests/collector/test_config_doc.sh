#!/usr/bin/env bash
# collector_config: the configuration reference in docs/configuration.md is
# exactly what `flywheel-collector --print-config-reference` prints; unknown
# keys are refused; --print-config reports sources (default < file <
# environment < flag), expands ${VAR} in files and masks secrets.
set -euo pipefail
bin="$FW_BUILD_DIR/collector/flywheel-collector"
doc="$FW_SOURCE_DIR/docs/configuration.md"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

sed -n '/^<!-- BEGIN flywheel-collector --print-config-reference -->$/,/^<!-- END flywheel-collector --print-config-reference -->$/p' "$doc" \
    | sed '1d;$d' > "$tmp/doc"
"$bin" --print-config-reference > "$tmp/gen"
if ! diff -u "$tmp/doc" "$tmp/gen"; then
    echo "docs/configuration.md is out of date: regenerate the collector section with" >&2
    echo "  flywheel-collector --print-config-reference" >&2
    exit 1
fi

# unknown keys are errors, from a flag and from a file
if "$bin" --no.such.key=1 --print-config >/dev/null 2>"$tmp/err"; then exit 1; fi
grep -q 'unrecognized configuration parameter "no.such.key"' "$tmp/err"
printf 'batch.max_rows = 10\nbogus = 1\n' > "$tmp/bad.conf"
if "$bin" --config "$tmp/bad.conf" --print-config >/dev/null 2>"$tmp/err"; then exit 1; fi
grep -q 'bad.conf:2: unrecognized configuration parameter "bogus"' "$tmp/err"

# precedence and sources, ${VAR} expansion, masking
cat > "$tmp/ok.conf" <<CONF
# comment
batch.max_rows = 10
batch.max_bytes = 2048
topics = "t1, t2"
pg.dsn = host=db user=u password=\${FWC_SECRET} dbname=x
kafka.sasl.password = hunter2
kafka.fetch.min.bytes = 1
CONF
out="$(env -u FLYWHEEL_PG_DSN FWC_SECRET=s3cret FLYWHEEL_BATCH_MAX_BYTES=4096 FLYWHEEL_LOG_LEVEL=debug \
    "$bin" --config "$tmp/ok.conf" --log.level=warn --print-config)"
echo "$out"
grep -qx 'batch.max_rows = 10  # file' <<<"$out"
grep -qx 'batch.max_bytes = 4096  # environment' <<<"$out"
grep -qx 'log.level = warn  # flag' <<<"$out"
grep -qx 'batch.max_wait_ms = 200  # default' <<<"$out"
grep -qx 'topics = t1, t2  # file' <<<"$out"
grep -qx 'pg.dsn = host=db user=u password=\*\*\*\* dbname=x  # file' <<<"$out"
grep -qx 'kafka.sasl.password = \*\*\*\*  # file' <<<"$out"
grep -qx 'kafka.fetch.min.bytes = 1  # file' <<<"$out"
! grep -q 's3cret\|hunter2' <<<"$out"

# values are validated; the required key is reported with a hint
if "$bin" --kafka.bootstrap.servers=x --batch.max_rows=0 2>"$tmp/err"; then exit 1; fi
grep -q 'outside the valid range for parameter "batch.max_rows"' "$tmp/err"
if env -u FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS "$bin" 2>"$tmp/err"; then exit 1; fi
grep -q 'parameter "kafka.bootstrap.servers" is required' "$tmp/err"
"$bin" --help | grep -q -- '--pg.write_mode=VALUE'
# no line of --help ends in white space
if "$bin" --help | grep -n '[[:space:]]$' >&2; then
    echo "--help has trailing white space on the lines above" >&2; exit 1
fi
echo "collector_config: ok"
