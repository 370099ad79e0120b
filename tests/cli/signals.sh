#!/bin/bash
# Signals: SIGUSR1 logs the stats line; SIGTERM stops the listener, lets a
# message in progress finish, and exits 0; SIGHUP stops the same way
# (libmilter's behaviour).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
: "${top_builddir:=$top_srcdir}"
command -v miltertest >/dev/null || tap_skip_all "miltertest not installed"
BIN=$top_builddir/src/consent-milter
dir=$(mktemp -d /tmp/cm-signals.XXXXXX)
trap 'kill -9 $pid 2>/dev/null; rm -rf "$dir"' EXIT
"$top_builddir/src/consentctl" keygen "$dir/address.key" >/dev/null
# No Redis: OnStoreError strip treats the recipient as without consent.
printf 'Socket unix:%s/m.sock\nTrackerRules %s/etc/trackers.conf\nAddressKeyFile %s/address.key\nRedisServer unix:%s/none.sock\nRedisTimeout 50\nStatsInterval 0\n' \
	"$dir" "$top_srcdir" "$dir" "$dir" >"$dir/c.conf"
tap_plan 7

start() {
	rm -f "$dir/m.sock"
	"$BIN" -f -c "$dir/c.conf" 2>"$dir/log" &
	pid=$!
	for i in $(seq 50); do [ -S "$dir/m.sock" ] && break; sleep 0.1; done
}

start
kill -HUP $pid
wait $pid
tap_is "$?:$(tail -n 1 "$dir/log" | sed 's/^consent-milter: //')" "0:stopped" "SIGHUP: a graceful stop, exit 0"

# A stop signal as early as it can be held (stop signals blocked, the
# listener not yet running): a clean stop all the same. smfi_main() then
# finds its socket closed by smfi_stop() and says MI_FAILURE; an init system
# stopping the service right after start must still see exit status 0.
# Whether the listener thread has started by then is up to the scheduler,
# so the old behaviour (exit 1) showed in some runs only, mostly on a loaded
# machine; four tries, on one CPU when taskset is there.
pin=; command -v taskset >/dev/null && pin="taskset -c 0"
early=
for try in 1 2 3 4; do
	rm -f "$dir/m.sock"
	$pin "$BIN" -f -c "$dir/c.conf" 2>"$dir/log" &
	pid=$!
	for i in $(seq 500); do
		blk=$(awk '/^SigBlk:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		[ -n "$blk" ] && [ $(( 0x$blk & 1 )) -eq 1 ] && break
		sleep 0.01
	done
	kill -HUP $pid
	wait $pid
	early="$early $?:$(tail -n 1 "$dir/log" | sed 's/^consent-milter: //')"
done
tap_is "$early" " 0:stopped 0:stopped 0:stopped 0:stopped" \
	"SIGHUP before the listener runs: a clean stop, exit 0"

start
kill -USR1 $pid
for i in $(seq 30); do grep -q 'stats: messages' "$dir/log" && break; sleep 0.1; done
grep -q 'stats: messages rewritten=0' "$dir/log"
tap_ok $? "SIGUSR1 logs the stats line"

READY_FILE=$dir/ready MILTER_SOCKET=unix:$dir/m.sock miltertest -s "$top_srcdir/tests/cli/inflight.lua" >"$dir/mt.out" 2>&1 &
mt=$!
for i in $(seq 50); do [ -f "$dir/ready" ] && break; sleep 0.1; done
kill -TERM $pid
wait $mt
tap_ok $? "SIGTERM during a message: the message still completes ($(cat "$dir/mt.out"))"
wait $pid
tap_is $? 0 "SIGTERM: exit status 0"
grep -q 'consent=none rcpts=1 action=rewritten' "$dir/log" &&
	[ "$(grep -n 'action=rewritten' "$dir/log" | cut -d: -f1)" -gt "$(grep -n 'stopping on signal' "$dir/log" | cut -d: -f1)" ]
tap_ok $? "the message in progress finished after the stop signal"
tail -n 1 "$dir/log" | grep -q 'stopped'
tap_ok $? "last line says stopped"
[ $TAP_FAILED -eq 0 ] || sed 's/^/# /' "$dir/log"
tap_done
