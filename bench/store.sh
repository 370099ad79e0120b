#!/bin/sh
# bench/store.sh - consent store figures, measured in one run on one
# throw-away redis-server over a unix socket:
#  (a) consentctl import of N (1,000,000) generated records, beside
#      redis-benchmark -t hset -P 64 -n N on the same server (goal >= 50 %);
#  (b) store_lookup per message for 1, 10 and 100 recipients, median and
#      p99 over M (100,000) messages, beside a bare PING round trip
#      (goal <= 1.2 x PING for one recipient, <= 8 us per extra recipient).
# usage: bench/store.sh [BUILD_DIR (default _build)] ; env N, M override.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/_build}" && pwd)
N=${N:-1000000}
M=${M:-100000}
. "$top/tests/lib/redis.sh"
redis_available || { echo "redis-server not installed" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not installed" >&2; exit 1; }
[ -x "$build/src/consentctl" ] || { echo "build first: $build/src/consentctl missing" >&2; exit 1; }
base=$(redis_tmpdir)
trap 'redis_stop_all "$base"; rm -rf "$base"' EXIT
trap 'exit 1' INT TERM HUP

echo "== building bench/lookup-bench"
${CC:-cc} -O2 -I"$build" -I"$top/src" -o "$base/lookup-bench" "$top/bench/lookup-bench.c" \
	"$build/src/libconsent.a" $(pkg-config --libs hiredis libcrypto libidn2 jansson) -lpthread

redis_start "$base/r"
sock=$base/r/redis.sock
"$build/src/consentctl" keygen "$base/key"
printf 'RedisServer unix:%s\nAddressKeyFile %s\n' "$sock" "$base/key" >"$base/conf"

echo "== load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
echo "== (a) import of $N records vs redis-benchmark HSET -P 64"
awk -v n="$N" 'BEGIN { print "address,open,click,source,text,at";
	for (i = 0; i < n; i++) printf "user%d@bench.example,%s,%s,bulk,v1,2024-01-01T00:00:00Z\n", i, (i % 2 ? "granted" : "denied"), (i % 3 ? "granted" : "denied") }' >"$base/import.csv"
redis_cli "$base/r" CONFIG RESETSTAT >/dev/null
t0=$(date +%s.%N)
"$build/src/consentctl" -c "$base/conf" import "$base/import.csv"
t1=$(date +%s.%N)
# Server time inside the write script, per record: the floor of the import.
script_us=$(redis_cli "$base/r" INFO commandstats | tr -d '\r' |
	awk -F'[=,]' -v n="$N" '/^cmdstat_eval(sha)?:/ { u += $4 } END { printf "%.2f", u / n }')
imp_rate=$(echo "$t0 $t1 $N" | awk '{ printf "%.0f", $3 / ($2 - $1) }')
echo "consentctl import:  $imp_rate records/s ($(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }') s)"
t0=$(date +%s.%N)
"$build/src/consentctl" -c "$base/conf" import "$base/import.csv" >/dev/null
t1=$(date +%s.%N)
echo "re-import (no change): $(echo "$t0 $t1 $N" | awk '{ printf "%.0f", $3 / ($2 - $1) }') records/s"
redis_cli "$base/r" CONFIG RESETSTAT >/dev/null
hset_rate=$(redis-benchmark -s "$sock" -t hset -P 64 -n "$N" -q 2>/dev/null | tr '\r' '\n' |
	awk '/^HSET:/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^requests/) r = $i } END { print r }')
echo "redis-benchmark HSET -P 64: $hset_rate requests/s"
hset_us=$(redis_cli "$base/r" INFO commandstats | tr -d '\r' | awk -F'[=,]' '/^cmdstat_hset:/ { print $6 }')
echo "server time per imported record (script: HMGET + HSET + XADD): $script_us us; per benchmark HSET: $hset_us us"
echo "$imp_rate $hset_rate" | awk '{ printf "import / HSET ratio: %.1f %% (goal >= 50 %%)\n", 100 * $1 / $2 }'
# What the data model itself costs, without Lua: one record is an HMGET,
# a 6-field HSET and an 8-field XADD. Same server, same run.
rb() {	# rb COMMAND... -> requests per second
	redis-benchmark -s "$sock" -P 64 -n "$N" -r 100000000 -q "$@" 2>/dev/null | tr '\r' '\n' |
		awk '/requests per second/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^requests/) r = $i } END { print r }'
}
k='bench:__rand_int____rand_int____rand_int____rand_int__'
r_hmget=$(rb hmget "$k" open click)
r_hset6=$(rb hset "$k" open 1 click 0 updated_at 2024-01-01T00:00:00Z source bulk text v1 actor root)
r_xadd=$(rb xadd bench:log '*' event import key "$k" changes 'open:unknown->granted,click:unknown->denied' \
	time 2024-01-01T00:00:00Z source bulk text v1 actor root)
echo "native pipelined: HMGET $r_hmget/s, 6-field HSET $r_hset6/s, 8-field XADD $r_xadd/s"
echo "$r_hmget $r_hset6 $r_xadd $hset_rate $imp_rate" | awk '{ f = 1 / (1 / $1 + 1 / $2 + 1 / $3);
	printf "floor of the data model (HMGET+HSET+XADD per record, no Lua): %.0f records/s = %.1f %% of HSET -P 64; import reaches %.0f %% of that floor\n", f, 100 * f / $4, 100 * $5 / f }'
echo "log entries: $(redis_cli "$base/r" XLEN cm:log); used memory: $(redis_cli "$base/r" INFO memory | awk -F: '/^used_memory_human/ { print $2 }')"

echo "== (b) lookup cost per message, $M messages each"
redis_cli "$base/r" FLUSHALL >/dev/null
"$base/lookup-bench" "$sock" "$M"
