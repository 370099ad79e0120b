#!/bin/sh
# Bootstrap the build system from a git checkout (tarballs ship ./configure).
set -e
cd "$(dirname "$0")"
mkdir -p build-aux m4
autoreconf -fi
# Automake ships the TAP driver but does not copy it by itself.
for d in $(automake --print-libdir 2>/dev/null) /usr/share/automake-1.16; do
	if [ -f "$d/tap-driver.sh" ]; then
		cp -f "$d/tap-driver.sh" build-aux/tap-driver.sh
		break
	fi
done
test -f build-aux/tap-driver.sh || { echo "autogen.sh: tap-driver.sh not found" >&2; exit 1; }
