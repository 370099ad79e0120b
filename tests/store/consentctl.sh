#!/bin/sh
# consentctl.sh - round trips through the real consentctl binary against a
# throw-away redis-server on a unix socket: keygen, key-file refusal,
# grant / revoke / show / history, import (bad lines, idempotence), export,
# forget, stats, check, usage errors, and atomicity of record and log after
# an import killed with SIGKILL midway. Prints TAP.
. "$top_srcdir/tests/lib/redis.sh"
if ! redis_available; then
	echo "1..0 # SKIP redis-server or redis-cli not installed"
	exit 0
fi
base=$(redis_tmpdir) || { echo "1..0 # SKIP cannot create a temp dir"; exit 0; }
trap 'redis_stop_all "$base"; rm -rf "$base"' EXIT
trap 'exit 1' INT TERM HUP

CTL=$top_builddir/src/consentctl
VERIFY=$top_srcdir/tests/store/verify-log.lua
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
check() {	# check DESCRIPTION COMMAND...
	_d=$1
	shift
	if "$@"; then ok "$_d"; else not_ok "$_d"; fi
}
diag() { sed 's/^/# /' "$@"; }

echo "1..40"

redis_start "$base/r" || { echo "Bail out! cannot start redis-server"; exit 1; }
SOCK=$base/r/redis.sock
conf=$base/consent-milter.conf
cat >"$conf" <<EOC
RedisServer unix:$SOCK
AddressKeyFile $base/address.key
RedisKeyPrefix cm:
EOC
C() { "$CTL" -c "$conf" "$@"; }
R() { redis_cli "$base/r" "$@"; }
verify() {	# prints "records bad orphan chain entries"
	R --eval "$VERIFY" cm:log , 'cm:c:*' | tr '\n' ' '
}

# ---- keygen and key-file refusal
check "keygen writes a key" "$CTL" keygen "$base/address.key"
check "key file is mode 0600" test "$(stat -c %a "$base/address.key")" = 600
check "key is 64 hex digits" grep -Eqx '[0-9a-f]{64}' "$base/address.key"
"$CTL" keygen "$base/address.key" 2>"$base/err"
check "keygen refuses to overwrite (exit 1)" test $? = 1
chmod 640 "$base/address.key"
C show alice@example.com >/dev/null 2>"$base/err"
rc=$?
check "group-readable key file refused (exit 1)" test $rc = 1
check "refusal says why" grep -q "group or others" "$base/err"
chmod 600 "$base/address.key"

# ---- grant / revoke / show / history
C grant 'Alice+news@Example.COM' --source form --text v1 --actor tester >"$base/out"
check "grant exits 0" test $? = 0
check "grant reports a change" grep -q ' changed$' "$base/out"
key=$(cut -d' ' -f1 "$base/out")
C grant alice@example.com --source form --text v1 --actor tester >"$base/out"
check "same grant again is unchanged" grep -q ' unchanged$' "$base/out"
check "unchanged grant logged nothing" test "$(R XLEN cm:log)" = 1
C revoke '<alice@EXAMPLE.com>' --purposes click --source api --actor dpo \
	--at 2024-05-01T12:00:00+02:00 >/dev/null
C --json show alice@example.com >"$base/show"
check "show: open granted" grep -q '"open": "granted"' "$base/show"
check "show: click denied" grep -q '"click": "denied"' "$base/show"
check "show: revoke time in UTC" grep -q '"updated_at": "2024-05-01T10:00:00Z"' "$base/show"
check "show: same key for every spelling" grep -q "\"key\": \"$key\"" "$base/show"
C history alice@example.com >"$base/hist"
check "history has both changes, oldest first" sh -c "
	sed -n 1p '$base/hist' | grep -q 'grant open:unknown->granted,click:unknown->granted source=form text=v1 actor=tester' &&
	sed -n 2p '$base/hist' | grep -q 'revoke click:granted->denied source=api' &&
	test \$(wc -l <'$base/hist') = 2"
check "no plain address anywhere in Redis" sh -c "
	! redis-cli -s '$SOCK' --scan | grep -qi alice &&
	! redis-cli -s '$SOCK' XRANGE cm:log - + | grep -qi -e alice -e '@'"

# ---- import
csv=$base/import.csv
printf 'address,open,click,source,text,at\nbob@example.org,granted,denied,shop,v2,2024-01-01T00:00:00Z\nnot-an-address,1,1,,,\ncarol@m\303\274nchen.de,1,,,,\ndave@example.net,maybe,1,,,\n"erin@example.net",0,0,crm,"v3, final",\nfrank@example.net,1,1,crm,v3,yesterday\n' >"$csv"
C import "$csv" >"$base/out" 2>"$base/err"
check "import with bad lines exits 1" test $? = 1
check "bad address reported as FILE:LINE: reason" grep -q "^$csv:3: address: no @" "$base/err"
check "bad purpose value reported" grep -q "^$csv:5: " "$base/err"
check "bad time reported" grep -q "^$csv:7: at: " "$base/err"
check "good lines committed (3 changed)" grep -q "6 lines, 3 good, 3 bad, 3 changed" "$base/out"
check "no progress line when not on a terminal" sh -c "! grep -q \"\$(printf '\\r')\" '$base/err'"
before=$(R XLEN cm:log)
C import "$csv" >"$base/out" 2>/dev/null
check "re-import changes nothing" grep -q "3 good, 3 bad, 0 changed" "$base/out"
check "re-import logs nothing" test "$(R XLEN cm:log)" = "$before"
check "IDN address imported under its A-label key" sh -c "
	'$CTL' -c '$conf' --json show carol@xn--mnchen-3ya.de | grep -q '\"open\": \"granted\"'"
check "quoted CSV field kept whole" sh -c "
	'$CTL' -c '$conf' --json show erin@example.net | grep -q '\"text\": \"v3, final\"'"

# ---- export / stats
C export >"$base/export.csv"
check "export CSV header" test "$(head -n 1 "$base/export.csv")" = "key,open,click,updated_at,source,text,actor"
check "export has every record, no address" sh -c "
	test \$(wc -l <'$base/export.csv') = 5 && ! grep -q @ '$base/export.csv'"
C export --format json >"$base/export.json"
check "export JSON has every record" test "$(grep -c '"key":"cm:c:' "$base/export.json")" = 4
C stats >"$base/stats"
check "stats counts records and purposes" sh -c "
	grep -qx 'records 4' '$base/stats' &&
	grep -qx 'open granted 3 denied 1 unknown 0' '$base/stats' &&
	grep -qx 'click granted 0 denied 3 unknown 1' '$base/stats'"

# ---- forget
C forget alice@example.com --actor dpo >"$base/out"
check "forget erases the record and its 2 log entries" grep -q "erased 1 record and 2 log entries" "$base/out"
check "record gone" sh -c "'$CTL' -c '$conf' show alice@example.com | grep -qx 'record      none'"
check "history gone, erased event without the key" sh -c "
	test -z \"\$('$CTL' -c '$conf' history alice@example.com 2>/dev/null)\" &&
	redis-cli -s '$SOCK' XREVRANGE cm:log + - COUNT 1 | tr '\n' ' ' | grep -q 'event erased records 1 count 2' &&
	! redis-cli -s '$SOCK' XRANGE cm:log - + | grep -q '$key'"
before=$(R XLEN cm:log)
C forget alice@example.com >"$base/out"
check "forgetting again logs nothing" sh -c "grep -q 'nothing to forget' '$base/out' &&
	test \$(redis-cli -s '$SOCK' XLEN cm:log) = $before"
set -- $(verify)
check "record and log agree after the round trips ($*)" test "$2.$3.$4" = "0.0.0"

# ---- check and usage
C check >"$base/out"
check "check: key and server ok, role master" sh -c "test $? = 0 && grep -q 'role master' '$base/out'"
cat >"$base/bad.conf" <<EOC
RedisServer unix:$SOCK unix:$base/nowhere.sock
AddressKeyFile $base/address.key
EOC
"$CTL" -c "$base/bad.conf" check >/dev/null 2>&1
check "check exits 1 when a server is unreachable" test $? = 1
"$CTL" frobnicate >/dev/null 2>&1
check "unknown command exits 2" test $? = 2

# ---- atomicity: kill an import midway, record and log must still agree
big=$base/big.csv
awk 'BEGIN { print "address,open,click,source,text,at";
	for (i = 0; i < 200000; i++) printf "user%d@big.example,%s,%s,bulk,v9,\n", i, (i % 2 ? "granted" : "denied"), (i % 3 ? "granted" : "") }' >"$big"
C import "$big" >/dev/null 2>&1 &
imp=$!
i=0
while [ "$(R XLEN cm:log)" -lt $((before + 10000)) ] && [ $i -lt 400 ]; do
	sleep 0.01
	i=$((i + 1))
done
kill -KILL $imp 2>/dev/null
wait $imp 2>/dev/null
logged=$(( $(R XLEN cm:log) - before ))
if [ "$logged" -gt 0 ] && [ "$logged" -lt 200000 ]; then
	set -- $(verify)
	check "import killed midway ($logged of 200000 logged): record and log agree ($*)" \
		test "$2.$3.$4" = "0.0.0"
else
	ok "# SKIP import was not caught midway ($logged logged)"
fi
C import "$big" >"$base/out" 2>&1
set -- $(verify)
check "resumed import completes and agrees ($*)" sh -c "
	grep -q '200000 good, 0 bad' '$base/out' && test '$2.$3.$4' = 0.0.0 && test '$1' = 200003"
exit $failed
