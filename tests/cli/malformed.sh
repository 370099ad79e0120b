#!/bin/bash
# Bad input never crashes the milter and never yields a corrupted message:
# every MIME fixture (well-formed, odd and malformed) goes through the
# end-of-message path (test mode, consent none, so everything that can be
# rewritten is). Each run exits 0; the output is either the input byte for
# byte, or a message whose every text part Python's email package can still
# decode and whose structure (the list of content types) is unchanged except
# for removed text/x-amp-html alternatives.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
: "${top_builddir:=$top_srcdir}"
command -v python3 >/dev/null || tap_skip_all "python3 not installed"
BIN=$top_builddir/src/consent-milter
dir=$(mktemp -d /tmp/cm-malformed.XXXXXX)
trap 'rm -rf "$dir"' EXIT
printf 'TrackerRules %s/etc/trackers.conf\nAddressKeyFile %s/none.key\n' "$top_srcdir" "$dir" >"$dir/c.conf"

structure() {	# content types in walk order, amp alternatives left out
	python3 - "$1" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.compat32)
print(" ".join(p.get_content_type() for p in m.walk() if p.get_content_type() != "text/x-amp-html"))
PY
}

files=("$top_srcdir"/tests/fixtures/mime/*.eml "$top_srcdir"/tests/fixtures/e2e/*.eml)
tap_plan ${#files[@]}
for f in "${files[@]}"; do
	name=$(basename "$f")
	"$BIN" -c "$dir/c.conf" -t "$f" -r "reader@rcpt.example" -x none >"$dir/out" 2>"$dir/err"
	rc=$?
	if [ $rc -ne 0 ]; then
		tap_ok 1 "$name: exit $rc"
		tap_diag "$(cat "$dir/err")"
		continue
	fi
	action=$(sed -n 's/.* action=\([a-z]*\).*/\1/p' "$dir/err")
	if cmp -s <(sed '/^X-Consent-Milter:/d' "$dir/out") "$f"; then
		tap_ok 0 "$name: $action, body untouched"
		continue
	fi
	python3 "$top_srcdir/tests/e2e/decode-parts.py" "$dir/out" >/dev/null 2>"$dir/py"
	ok=$?
	[ "$(structure "$dir/out")" = "$(structure "$f")" ] || ok=1
	tap_ok $ok "$name: $action, output decodes and keeps its structure"
	[ $ok -eq 0 ] || tap_diag "$(cat "$dir/err" "$dir/py")"
done
tap_done
