#!/bin/bash
# man/check-docs.sh - the documentation keeps up with the code.
#
# Every configuration key the daemon knows (consent-milter -h keys) must have
# an entry in consent-milter.conf(5) and a commented line in the sample
# etc/consent-milter.conf; the man pages must format without groff warnings;
# the systemd unit must pass systemd-analyze verify. Run by `make check`.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/lib/tap.sh"

bin=$top_builddir/src/consent-milter
man5=$top_srcdir/man/consent-milter.conf.5
sample=$top_srcdir/etc/consent-milter.conf
keys=$("$bin" -h keys | awk '{ print $1 }')
[ -n "$keys" ] || { echo "1..1"; echo "not ok 1 - $bin -h keys lists keys"; exit 1; }

tap_plan $(( $(echo "$keys" | wc -l) * 2 + 3 ))
for k in $keys; do
	grep -q "^\.B $k " "$man5"
	tap_ok $? "$k has an entry in consent-milter.conf(5)"
	grep -qi "^# *$k\( \|$\)" "$sample"
	tap_ok $? "$k is in etc/consent-milter.conf"
done

for page in "$top_srcdir/man/consent-milter.8" "$man5"; do
	if command -v groff >/dev/null; then
		warn=$(groff -man -Tutf8 -ww "$page" 2>&1 >/dev/null)
		tap_is "$warn" "" "$(basename "$page") formats without groff warnings"
	else
		tap_skip 1 "groff not installed"
	fi
done

# systemd-analyze verify needs the ExecStart binary to exist: point the unit
# at the one just built. It works without systemd running as PID 1.
if command -v systemd-analyze >/dev/null; then
	dir=$(mktemp -d)
	sed "s|/usr/sbin/consent-milter|$bin|g" \
		"$top_srcdir/contrib/systemd/consent-milter.service" >"$dir/consent-milter.service"
	out=$(systemd-analyze verify --man=no "$dir/consent-milter.service" 2>&1)
	tap_is "$out" "" "contrib/systemd/consent-milter.service passes systemd-analyze verify"
	rm -rf "$dir"
else
	tap_skip 1 "systemd-analyze not installed"
fi
tap_done
