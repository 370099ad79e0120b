# tests/lib/redis.sh - start and stop throw-away redis-server instances for tests.
# Source it from a POSIX shell test:
#
#   . "$top_srcdir/tests/lib/redis.sh"
#   base=$(redis_tmpdir) || skip...
#   trap 'redis_stop_all "$base"; rm -rf "$base"' EXIT
#   redis_start "$base/a" [redis options...]     # unix socket $base/a/redis.sock
#   port=$(redis_free_port); redis_start "$base/b" --port "$port"
#   redis_cli "$base/a" SET k v
#   redis_stop "$base/a"
#
# Every instance lives in its own directory DIR: socket DIR/redis.sock, pid
# DIR/redis.pid, log DIR/redis.log. TCP is off unless "--port N" is passed.
# Nothing is saved to disk. All functions return non-zero on failure.

REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_CLI=${REDIS_CLI:-redis-cli}

# Is a usable redis-server installed?
redis_available() {
	command -v "$REDIS_SERVER" >/dev/null 2>&1 && command -v "$REDIS_CLI" >/dev/null 2>&1
}

# A fresh private directory for a test's servers (short path: unix socket
# names are limited to 107 bytes).
redis_tmpdir() {
	mktemp -d "${TMPDIR:-/tmp}/cmredis.XXXXXX"
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
redis_free_port() {
	_rp_i=0
	while [ $_rp_i -lt 50 ]; do
		_rp_port=$(( 20000 + ($(od -An -N2 -tu2 /dev/urandom) % 40000) ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$_rp_port") 2>/dev/null &&
		   ! ss -Hltn "sport = :$_rp_port" 2>/dev/null | grep -q .; then
			echo "$_rp_port"
			return 0
		fi
		_rp_i=$((_rp_i + 1))
	done
	return 1
}

# redis_start DIR [OPTIONS...]: start a server, wait until it answers PING.
redis_start() {
	_rs_dir=$1
	shift
	mkdir -p "$_rs_dir" || return 1
	rm -f "$_rs_dir/redis.sock" "$_rs_dir/redis.pid"
	"$REDIS_SERVER" --port 0 --unixsocket "$_rs_dir/redis.sock" --unixsocketperm 700 \
		--dir "$_rs_dir" --pidfile "$_rs_dir/redis.pid" --logfile "$_rs_dir/redis.log" \
		--daemonize no --save "" --appendonly no --protected-mode no "$@" \
		>/dev/null 2>&1 </dev/null &
	echo $! >"$_rs_dir/redis.pid.shell"
	redis_wait "$_rs_dir"
}

# redis_wait DIR: wait (up to 10 s) until the server in DIR answers.
redis_wait() {
	_rw_i=0
	while [ $_rw_i -lt 200 ]; do
		if [ -S "$1/redis.sock" ]; then
			_rw_out=$("$REDIS_CLI" -s "$1/redis.sock" PING 2>&1)
			case $_rw_out in
			PONG|NOAUTH*|*"Authentication required"*) return 0 ;;
			esac
		fi
		if ! kill -0 "$(cat "$1/redis.pid.shell" 2>/dev/null)" 2>/dev/null; then
			echo "redis-server in $1 died: $(tail -n 3 "$1/redis.log" 2>/dev/null)" >&2
			return 1
		fi
		sleep 0.05
		_rw_i=$((_rw_i + 1))
	done
	echo "redis-server in $1 did not answer" >&2
	return 1
}

redis_pid() {
	cat "$1/redis.pid.shell" 2>/dev/null
}

# redis_cli DIR ARGS...: run redis-cli against the server in DIR.
redis_cli() {
	_rc_dir=$1
	shift
	"$REDIS_CLI" -s "$_rc_dir/redis.sock" "$@"
}

# redis_stop DIR: stop the server in DIR (continuing it first if stopped).
redis_stop() {
	_rt_pid=$(redis_pid "$1")
	[ -n "$_rt_pid" ] || return 0
	if kill -0 "$_rt_pid" 2>/dev/null; then
		kill -CONT "$_rt_pid" 2>/dev/null
		kill -TERM "$_rt_pid" 2>/dev/null
		_rt_i=0
		while kill -0 "$_rt_pid" 2>/dev/null && [ $_rt_i -lt 100 ]; do
			sleep 0.05
			_rt_i=$((_rt_i + 1))
		done
		kill -KILL "$_rt_pid" 2>/dev/null
	fi
	rm -f "$1/redis.pid.shell"
	return 0
}

# redis_stop_all BASE: stop every server started anywhere under BASE (for traps).
redis_stop_all() {
	[ -d "$1" ] || return 0
	find "$1" -name redis.pid.shell 2>/dev/null | while read -r _ra_pidfile; do
		redis_stop "$(dirname "$_ra_pidfile")"
	done
}
