#!/bin/sh
# End-of-message cost of the milter on this machine, measured in one run:
# median and p99 CPU time for a 75 KiB tracked newsletter with consent none,
# split into parsing, engine and splicing; and peak RSS while 20 messages of
# 2 MB are processed at once. Needs a configured build tree (default _build).
#   bench/eom.sh [BUILD_DIR] [RUNS]
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build}
runs=${2:-2000}
[ -f "$build/src/libconsent.a" ] || { echo "eom.sh: build first (make in $build)" >&2; exit 1; }
out=$(mktemp /tmp/cm-eom-bench.XXXXXX)
trap 'rm -f "$out"' EXIT
cc -O2 -g -I"$top/src" -I"$build" "$top/bench/eom_bench.c" "$build/src/libconsent.a" \
	$(pkg-config --cflags --libs gmime-3.0 hiredis libcrypto libidn2 libpcre2-8 jansson) \
	-lmilter -lpthread -o "$out"
"$out" "$top/etc/trackers.conf" "$runs"
