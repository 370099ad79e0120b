#!/bin/sh
# fuzz.sh TARGET SECONDS - build tests/fuzz/fuzz_TARGET.c with libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer, together with the sources
# it needs, and run it for SECONDS on a fresh corpus under a temp dir.
# The exit code is the fuzzer's. Crash inputs are kept in the temp dir.
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 TARGET SECONDS" >&2
	exit 2
fi
target=$1
seconds=$2
top=$(cd "$(dirname "$0")/.." && pwd)

# TARGET -> sources (relative to the top) and libraries it links.
seeds=""
case $target in
html)
	srcs="src/html.c src/html_entities.c src/buf.c tests/fuzz/html_ref.c"
	libs=""
	;;
rewrite)
	srcs="src/rewrite.c src/wordset.c src/html.c src/html_entities.c src/css.c src/url.c src/rules.c
		src/pii.c src/config.c src/log.c src/buf.c"
	libs="-lpcre2-8 -lcrypto -ljansson -lpthread"
	CM_TRACKERS=$top/etc/trackers.conf
	export CM_TRACKERS
	# the engine fixtures seed the corpus (read only: new units go to $tmp)
	seeds="$top/tests/fixtures/engine"
	;;
mime)
	srcs="src/mime.c src/cte.c src/buf.c"
	libs="$(pkg-config --cflags --libs gmime-3.0)"
	seeds="$top/tests/fixtures/mime"
	;;
css)
	srcs="src/css.c"
	libs=""
	;;
pii)
	srcs="src/pii.c src/buf.c"
	libs="-lcrypto"
	;;
*)
	echo "$0: unknown target '$target' (add it to the table in this script)" >&2
	exit 2
	;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX") || exit 2
mkdir -p "$tmp/corpus" "$tmp/artifacts"
# build-config.h is made by configure; the fuzz build only needs the basics.
cat > "$tmp/build-config.h" <<'EOH'
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#define PACKAGE "consent-milter"
EOH

paths=""
for s in $srcs tests/fuzz/fuzz_$target.c; do
	paths="$paths $top/$s"
done
# shellcheck disable=SC2086
clang -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -I"$tmp" -I"$top/src" -I"$top/tests/fuzz" \
	$paths $libs -o "$tmp/fuzz_$target" || exit 2

if [ -d "$top/tests/fuzz/corpus_$target" ]; then
	seeds="$seeds $top/tests/fuzz/corpus_$target"	# read-only seeds; new units go to $tmp
fi
dict=""
if [ -f "$top/tests/fuzz/$target.dict" ]; then
	dict="-dict=$top/tests/fuzz/$target.dict"
fi
echo "fuzz.sh: $target for ${seconds}s in $tmp" >&2
# shellcheck disable=SC2086
"$tmp/fuzz_$target" -max_total_time="$seconds" -print_final_stats=1 \
	-artifact_prefix="$tmp/artifacts/" $dict "$tmp/corpus" $seeds
rc=$?
echo "fuzz.sh: exit $rc (artifacts: $tmp/artifacts)" >&2
exit $rc
