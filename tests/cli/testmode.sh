#!/bin/bash
# consent-milter -t (test mode): the contract scripts rely on — output with the
# input's line ends, the log line on stderr, exit 0 / 1 (I/O) / 2 (usage,
# config), -x without Redis, "-" for stdin.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
: "${top_builddir:=$top_srcdir}"
BIN=$top_builddir/src/consent-milter
NEWS=$top_srcdir/tests/fixtures/e2e/newsletter.eml
dir=$(mktemp -d /tmp/cm-testmode.XXXXXX)
trap 'rm -rf "$dir"' EXIT
printf 'TrackerRules %s/etc/trackers.conf\nAddressKeyFile %s/none.key\nRedisServer unix:%s/none.sock\nRedisTimeout 50\n' \
	"$top_srcdir" "$dir" "$dir" >"$dir/c.conf"
tm() { "$BIN" -c "$dir/c.conf" "$@"; }

tap_plan 14

tm -t "$NEWS" -r reader@rcpt.example -x all >"$dir/out" 2>"$dir/err"
tap_ok $? "-x all: exit 0"
cmp -s "$NEWS" "$dir/out"
tap_ok $? "-x all: output byte-identical to the input"
grep -q 'consent=all rcpts=1 action=skipped' "$dir/err"
tap_ok $? "-x all: log line on stderr"

tm -t "$NEWS" -r reader@rcpt.example -x none >"$dir/out" 2>"$dir/err"
tap_ok $? "-x none: exit 0"
grep -q 'consent=none rcpts=1 action=rewritten pixels=1 ' "$dir/err"
tap_ok $? "-x none: rewritten, one pixel removed ($(sed 's/^consent-milter: //' "$dir/err"))"
! grep -q 'awstrack.me/I0' "$dir/out" && grep -q $'^X-Consent-Milter: consent=none action=rewritten' "$dir/out"
tap_ok $? "-x none: pixel gone, X-Consent-Milter added"
[ "$(grep -c $'\r$' "$dir/out")" = "$(wc -l <"$dir/out")" ]
tap_ok $? "-x none: CRLF input gives CRLF output"

tr -d '\r' <"$NEWS" >"$dir/lf.eml"
tm -t - -r reader@rcpt.example -x none <"$dir/lf.eml" >"$dir/out.lf" 2>/dev/null
tap_ok $? "stdin with LF line ends: exit 0"
! grep -q $'\r' "$dir/out.lf" && cmp -s <(tr -d '\r' <"$dir/out") "$dir/out.lf"
tap_ok $? "LF input gives LF output, otherwise the same result"

tm -t "$NEWS" -x none >/dev/null 2>&1
tap_is $? 2 "no -r: usage error, exit 2"
tm -t "$NEWS" -r a@b.example -x most >/dev/null 2>&1
tap_is $? 2 "bad -x: usage error, exit 2"
tm -t "$dir/missing.eml" -r a@b.example -x none >/dev/null 2>&1
tap_is $? 1 "missing input file: exit 1"
"$BIN" -c "$dir/none.conf" -t "$NEWS" -r a@b.example -x none >/dev/null 2>&1
tap_is $? 2 "missing config file: exit 2"

# Without -x the store is asked; none answers: OnStoreError strip applies.
"$top_builddir/src/consentctl" keygen "$dir/none.key" >/dev/null
tm -t "$NEWS" -r reader@rcpt.example >"$dir/out" 2>"$dir/err"
grep -q 'consent=none rcpts=1 action=rewritten.* store=error' "$dir/err"
tap_ok $? "no -x, store unreachable: OnStoreError strip, logged store=error"
tap_done
