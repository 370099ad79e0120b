#!/bin/bash
# The whole test suite, from a fresh Debian 12 machine: install what the tests
# need, build with AddressSanitizer + UndefinedBehaviorSanitizer (warnings are
# errors), run every test (unit, miltertest, end to end through a private
# Postfix with smtp-sink and Redis), and print one summary line:
#     N passed, N failed, N skipped
# Exit status: 0 only if nothing failed. Run as root (private Postfix).
set -u
cd "$(dirname "$0")/.."
top=$PWD
build=${BUILD_DIR:-$top/_build-test}

contrib/debian-deps.sh test || { echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp /tmp/cm-run-all.XXXXXX)
step() {
	echo "== $*"
	"$@" >>"$log" 2>&1 || { tail -n 60 "$log"; echo "build step failed: $*"; echo "0 passed, 1 failed"; exit 1; }
}
step ./autogen.sh
mkdir -p "$build"
cd "$build"
step "$top/configure" --enable-sanitizers --enable-werror
step make -j"$(nproc)"

echo "== make check"
make -j"$(nproc)" check >"$log.check" 2>&1
rc=$?
grep -E '^(PASS|FAIL|XFAIL|XPASS|ERROR|SKIP):' "$log.check" | grep -vE '^PASS:' | head -n 100
count() { sed -n "s/^# $1: *//p" "$log.check" | awk '{ s += $1 } END { print s + 0 }'; }
pass=$(( $(count PASS) + $(count XFAIL) ))
fail=$(( $(count FAIL) + $(count ERROR) + $(count XPASS) ))
skip=$(count SKIP)
if [ $rc -ne 0 ]; then
	# Show the logs of whatever failed, so CI output explains itself.
	for f in $(grep -lE '^(FAIL|ERROR)' $(find . -name '*.log' -path '*tests*') 2>/dev/null | head -n 5); do
		echo "---- $f"; tail -n 40 "$f"
	done
	[ $fail -eq 0 ] && fail=1
fi
rm -f "$log" "$log.check"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
