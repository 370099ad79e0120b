#!/bin/sh
# html.sh [ITERATIONS] - build bench/html_bench.c with -O2 and print the
# tokenizer's throughput beside memchr over the same generated newsletter.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/html-bench.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/build-config.h" <<'EOH'
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
EOH
${CC:-cc} -O2 -std=gnu11 -I"$tmp" -I"$top/src" "$top/bench/html_bench.c" \
	"$top/src/html.c" "$top/src/html_entities.c" "$top/src/buf.c" \
	-o "$tmp/html_bench" || exit 2
"$tmp/html_bench" "$@"
