#!/bin/sh
# engine.sh [ROUNDS] - build bench/engine_bench.c with -O2 against the engine
# sources and print rewrite_part throughput beside memchr over the same
# generated newsletters (tracker-dense and needing no edit), with the number
# of heap allocations per call.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/engine-bench.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/build-config.h" <<'EOH'
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#define PACKAGE "consent-milter"
EOH
srcs=""
for s in rewrite wordset html html_entities css url rules pii config log buf; do
	srcs="$srcs $top/src/$s.c"
done
# shellcheck disable=SC2086
${CC:-cc} -O2 -std=gnu11 -I"$tmp" -I"$top/src" "$top/bench/engine_bench.c" $srcs \
	-lpcre2-8 -lcrypto -ljansson -lpthread -o "$tmp/engine_bench" || exit 2
"$tmp/engine_bench" "$top/etc/trackers.conf" "${1:-200}"
