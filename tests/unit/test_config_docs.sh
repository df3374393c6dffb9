#!/usr/bin/env bash
# The configuration reference names every key of the agent's property table
# (agent/src/conf.c) and every documented key exists in that table, so
# docs/configuration.md cannot drift from the code. (The collector's section
# is generated and checked by collector_config.)
set -euo pipefail
src="$FW_SOURCE_DIR/agent/src/conf.c"
doc="$FW_SOURCE_DIR/docs/configuration.md"
section="$(sed -n '/^## libflywheel/,/^## /p' "$doc")"
[ -n "$section" ] || { echo "FAIL: no '## libflywheel' section in docs/configuration.md"; exit 1; }
keys="$(sed -n '/static const prop props\[\] = {/,/^};/p' "$src" | grep -o '{"[a-z0-9_.]*"' | tr -d '{"')"
[ -n "$keys" ] || { echo "FAIL: could not read the property table of $src"; exit 1; }
missing=0
for k in $keys kafka.bootstrap.servers; do
    grep -q "^| \`$k\`" <<<"$section" || { echo "FAIL: agent key $k is not documented"; missing=1; }
done
for k in $(grep -o '^| `[a-z0-9_.]*`' <<<"$section" | tr -d '|` '); do
    grep -qx "$k" <<<"$keys"$'\nkafka.bootstrap.servers' || { echo "FAIL: documented key $k is not in $src"; missing=1; }
done
[ $missing = 0 ] && echo "ok: $(wc -w <<<"$keys") agent keys documented"
exit $missing
