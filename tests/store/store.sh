#!/bin/sh
# store.sh - run tests/unit/test_store (store_lookup: values, AUTH, failover,
# timeout, reconnection, threads) against throw-away redis-server instances
# in a private temp dir; every server is stopped on exit. TAP comes from the
# Check program.
. "$top_srcdir/tests/lib/redis.sh"
if ! redis_available; then
	echo "1..0 # SKIP redis-server or redis-cli not installed"
	exit 0
fi
base=$(redis_tmpdir) || { echo "1..0 # SKIP cannot create a temp dir"; exit 0; }
trap 'redis_stop_all "$base"; rm -rf "$base"' EXIT
trap 'exit 1' INT TERM HUP
CM_TEST_BASE=$base CM_REDIS_SH=$top_srcdir/tests/lib/redis.sh \
	"$top_builddir/tests/unit/test_store"
