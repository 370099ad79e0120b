#!/bin/bash
# Runs every tests/miltertest/*.lua against a freshly started milter, one TAP
# line per script. Debian 12's miltertest prints nothing when a script calls
# error(), so each script wraps its body in pcall, prints "FAIL: reason" and
# exits non-zero; this runner reports that reason.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
: "${top_builddir:=$top_srcdir}"

command -v miltertest >/dev/null || tap_skip_all "miltertest not installed"
. "$top_srcdir/tests/lib/redis.sh"
redis_available || tap_skip_all "redis-server not installed"
dir=$(mktemp -d /tmp/cm-mt.XXXXXX)
trap 'kill $pid 2>/dev/null; redis_stop_all "$dir"; wait 2>/dev/null; rm -rf "$dir"' EXIT
# A real consent store and a fresh address key, shared by every script.
redis_start "$dir/redis" || { echo "1..0 # SKIP redis-server did not start"; exit 0; }
"$top_builddir/src/consentctl" keygen "$dir/address.key" >/dev/null

scripts=("$top_srcdir"/tests/miltertest/*.lua)
tap_plan $(( ${#scripts[@]} + 1 ))
for s in "${scripts[@]}"; do
	name=$(basename "$s" .lua)
	conf=$dir/$name.conf
	printf 'Socket unix:%s/%s.sock\nLogLevel debug\n' "$dir" "$name" >"$conf"
	printf 'AddressKeyFile %s\nTrackerRules %s\nRedisServer unix:%s\n' \
		"$dir/address.key" "$top_srcdir/etc/trackers.conf" "$dir/redis/redis.sock" >>"$conf"
	# A script may ask for extra config lines ("-- config: Key value") and
	# for consent records ("-- consentctl: grant ADDR ...").
	sed -n 's/^-- config: //p' "$s" >>"$conf"
	redis_cli "$dir/redis" FLUSHALL >/dev/null
	sed -n 's/^-- consentctl: //p' "$s" | while read -r args; do
		"$top_builddir/src/consentctl" -c "$conf" $args >/dev/null ||
			echo "# consentctl $args failed"
	done
	"$top_builddir/src/consent-milter" -f -c "$conf" >>"$dir/milter.log" 2>&1 &
	pid=$!
	for i in $(seq 50); do [ -S "$dir/$name.sock" ] && break; sleep 0.1; done
	out=$(MILTER_SOCKET="unix:$dir/$name.sock" miltertest -s "$s" 2>&1)
	rc=$?
	kill -TERM $pid; wait $pid 2>/dev/null
	tap_ok $rc "miltertest $name"
	[ $rc -eq 0 ] || tap_diag "$out"
done
! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$dir/milter.log"
tap_ok $? "no sanitizer report in the milter log"
[ $TAP_FAILED -eq 0 ] || sed 's/^/# /' "$dir/milter.log"
tap_done
