#!/usr/bin/env bash
# flywheel-devbroker on its own: prints the bootstrap line and writes the
# file, creates the topic with the asked partition count, serves producers,
# takes all brokers down on SIGUSR1 and back on SIGUSR2, rejects bad options
# with exit 2, and exits 0 on SIGTERM, removing its bootstrap file.
set -uo pipefail
DB="$FW_BUILD_DIR/devbroker/flywheel-devbroker"
[ -x "$DB" ] || { echo "FAIL: not built: $DB"; exit 1; }
TMP="$(mktemp -d)"
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$DB" --brokers 0 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--brokers 0 should exit 2"
"$DB" --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option should exit 2"
"$DB" --help | grep -q "development and tests" || fail "--help"

"$DB" --brokers 2 --partitions 5 --topic fwt.a --topic fwt.b --bootstrap-file "$TMP/bs" \
    >"$TMP/out" 2>"$TMP/err" &
pid=$!
for _ in $(seq 1 100); do [ -s "$TMP/bs" ] && break; sleep 0.1; done
[ -s "$TMP/bs" ] || fail "no bootstrap file"
line="$(cat "$TMP/bs")"
grep -qE '^bootstrap\.servers=127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+$' <<<"$line" || fail "bad line: $line"
[ "$(head -n1 "$TMP/out")" = "$line" ] || fail "stdout and file differ"
bs="${line#bootstrap.servers=}"

meta="$(kcat -L -b "$bs" -t fwt.b -m 10 2>&1)"
grep -q 'topic "fwt.b" with 5 partitions' <<<"$meta" || fail "topic fwt.b: $meta"
echo one | kcat -P -b "$bs" -t fwt.a -m 10 || fail "produce while up"

kill -USR1 "$pid"
for _ in $(seq 1 50); do grep -q "brokers down" "$TMP/err" && break; sleep 0.1; done
grep -q "all 2 brokers down" "$TMP/err" || fail "SIGUSR1 did not take brokers down"
if echo two | timeout 20 kcat -P -b "$bs" -t fwt.a -m 3 -X message.timeout.ms=2000 2>/dev/null; then
    fail "produce succeeded while all brokers were down"
fi
kill -USR2 "$pid"
for _ in $(seq 1 50); do grep -q "brokers up" "$TMP/err" && break; sleep 0.1; done
ok=0
for _ in $(seq 1 20); do
    if echo three | kcat -P -b "$bs" -t fwt.a -m 5 -X message.timeout.ms=4000 2>/dev/null; then ok=1; break; fi
done
[ $ok = 1 ] || fail "produce after SIGUSR2 failed"

kill -TERM "$pid"
wait "$pid"; rc=$?
pid=
[ $rc -eq 0 ] || fail "exit status $rc on SIGTERM"
[ ! -e "$TMP/bs" ] || fail "bootstrap file left behind"
echo "ok"
