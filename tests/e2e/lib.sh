# tests/e2e/lib.sh - a private Postfix, smtp-sink and the milter, in a temp dir.
#
# Sourced by end-to-end tests (and by contrib/demo.sh). Everything lives under
# $E2E (a fresh mktemp directory): Postfix's config_directory, queue_directory,
# data_directory and maillog_file; smtp-sink's dump directory; the milter's
# config, socket and log. Ports are picked at run time among free loopback
# ports, so nothing collides with a system Postfix or Redis. An EXIT trap tears
# every process down even when a test fails; E2E_KEEP=1 keeps the directory.
#
# Needs root (Postfix's master and smtp-sink switch users), the postfix,
# swaks and (for e2e_start_redis) redis-server packages.
#
#   e2e_init                     create $E2E, install the trap
#   e2e_start_sink               smtp-sink on $SINK_PORT, dumps into $SINK_DIR
#   e2e_write_milter_conf [LINE...]  $E2E/milter.conf with extra config lines
#   e2e_start_milter             consent-milter -f on unix:$MILTER_SOCK
#   e2e_stop_milter
#   e2e_start_postfix            Postfix with smtpd on $SMTP_PORT, relayhost = sink
#   e2e_send FILE FROM RCPT...   one SMTP transaction with swaks; prints the reply
#   e2e_wait_sink N [SECONDS]    wait until N messages were delivered
#   e2e_sink_message FILE        a dumped message as sent (CRLF, no sink envelope)
#   e2e_body                     stdin message -> its body (after the first blank line)
#   e2e_flush                    postqueue -f for the private instance
#   e2e_start_redis              redis-server on unix:$REDIS_SOCK (tests/lib/redis.sh)
#   e2e_consentctl ARGS...       consentctl with the milter's config

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
MILTER_BIN=${MILTER_BIN:-$top_builddir/src/consent-milter}
CONSENTCTL_BIN=${CONSENTCTL_BIN:-$top_builddir/src/consentctl}
. "$top_srcdir/tests/lib/redis.sh"
E2E_USER=${E2E_USER:-postfix}

e2e_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || { echo "e2e: missing command $c" >&2; return 1; }
	done
}

e2e_cleanup() {
	local rc=$?
	[ -n "${E2E:-}" ] || return $rc
	if [ -f "$E2E/conf/main.cf" ]; then
		postfix -c "$E2E/conf" abort >/dev/null 2>&1 || true
	fi
	e2e_stop_milter
	[ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null
	[ -d "$E2E/redis" ] && redis_stop_all "$E2E/redis" >/dev/null 2>&1
	wait 2>/dev/null
	if [ "${E2E_KEEP:-0}" = 1 ] || [ "${TAP_FAILED:-0}" -gt 0 ]; then
		echo "# e2e: kept $E2E for inspection" >&2
	else
		rm -rf "$E2E"
	fi
	return $rc
}

e2e_init() {
	if [ "$(id -u)" != 0 ]; then
		tap_skip_all "end-to-end tests need root (private Postfix instance)"
	fi
	e2e_need postfix smtp-sink swaks || tap_skip_all "postfix, smtp-sink or swaks not installed"
	E2E=$(mktemp -d /tmp/cm-e2e.XXXXXX)
	chmod 755 "$E2E"
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
}

# A free TCP port on 127.0.0.1 (checked by trying to connect).
e2e_free_port() {
	local p tries=0
	while [ $tries -lt 200 ]; do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
			echo "$p"
			return 0
		fi
		tries=$((tries + 1))
	done
	return 1
}

e2e_wait_for() {	# e2e_wait_for SECONDS command...
	local deadline=$((SECONDS + $1))
	shift
	while ! "$@" 2>/dev/null; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.1
	done
}

e2e_port_open() { (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null; }

e2e_start_sink() {
	SINK_PORT=$(e2e_free_port)
	SINK_DIR=$E2E/sink
	mkdir -p "$SINK_DIR"
	chown "$E2E_USER" "$SINK_DIR"
	# -d: one file per transaction, named by the template plus a random suffix.
	smtp-sink -u "$E2E_USER" -d "$SINK_DIR/%Y%m%d%H%M%S." "127.0.0.1:$SINK_PORT" 64 \
		>"$E2E/sink.log" 2>&1 &
	SINK_PID=$!
	e2e_wait_for 10 e2e_port_open "$SINK_PORT"
}

# Redis for the consent store, on a unix socket the milter's user can reach.
e2e_start_redis() {
	redis_available || return 1
	mkdir -p "$E2E/redis"
	chmod 755 "$E2E/redis"
	redis_start "$E2E/redis/main" --unixsocketperm 777 || return 1
	chmod 755 "$E2E/redis/main"
	REDIS_SOCK=$E2E/redis/main/redis.sock
}

e2e_stop_redis() { redis_stop "$E2E/redis/main"; }

# The milter's config: socket, user, and (unless E2E_BARE=1) the consent
# store on $REDIS_SOCK, a fresh address key and the shipped tracker rules.
e2e_write_milter_conf() {
	MILTER_SOCK=$E2E/milter/milter.sock
	mkdir -p "$E2E/milter"
	chown "$E2E_USER" "$E2E/milter"
	[ -f "$E2E/milter/address.key" ] || "$CONSENTCTL_BIN" keygen "$E2E/milter/address.key" >/dev/null
	{
		echo "# written by tests/e2e/lib.sh"
		echo "Socket unix:$MILTER_SOCK"
		echo "UserID $E2E_USER"
		echo "LogLevel debug"
		echo "SyslogFacility mail"
		echo "AddressKeyFile $E2E/milter/address.key"
		echo "TrackerRules $top_srcdir/etc/trackers.conf"
		echo "RedisServer unix:${REDIS_SOCK:-$E2E/redis/none.sock}"
		echo "RedisTimeout 250"
		local line
		for line in "$@"; do echo "$line"; done
	} >"$E2E/milter.conf"
}

e2e_start_milter() {
	[ -f "$E2E/milter.conf" ] || e2e_write_milter_conf
	rm -f "$MILTER_SOCK"
	"$MILTER_BIN" -f -c "$E2E/milter.conf" >>"$E2E/milter.log" 2>&1 &
	MILTER_PID=$!
	e2e_wait_for 10 test -S "$MILTER_SOCK"
}

e2e_stop_milter() {
	if [ -n "${MILTER_PID:-}" ]; then
		kill -TERM "$MILTER_PID" 2>/dev/null
		wait "$MILTER_PID" 2>/dev/null
		MILTER_PID=
	fi
	# A socket left behind would let the next start look ready too early.
	[ -n "${MILTER_SOCK:-}" ] && rm -f "$MILTER_SOCK"
}

# Sanitizer reports in the milter's stderr mean a memory or UB bug.
e2e_milter_log_clean() {
	! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$E2E/milter.log" 2>/dev/null
}

e2e_start_postfix() {
	SMTP_PORT=$(e2e_free_port)
	mkdir -p "$E2E/conf" "$E2E/queue" "$E2E/data"
	chown "$E2E_USER" "$E2E/data"
	cat >"$E2E/conf/main.cf" <<EOF
# Private Postfix instance for consent-milter's end-to-end tests.
compatibility_level = 3.6
config_directory = $E2E/conf
queue_directory = $E2E/queue
data_directory = $E2E/data
maillog_file = $E2E/maillog
maillog_file_prefixes = $E2E
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
mail_owner = $E2E_USER
setgid_group = postdrop
myhostname = mta.e2e.test
mydomain = e2e.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$SINK_PORT
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtpd_milters = unix:$MILTER_SOCK
milter_default_action = tempfail
milter_protocol = 6
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
alias_maps =
alias_database =
biff = no
${E2E_POSTFIX_EXTRA:-}
EOF
	# No chroot: the private instance must not depend on /var/spool/postfix.
	# QUEUE_PORT: a second smtpd without the milter; what it accepts sits in
	# Postfix's queue and is relayed to the milter's smtpd (SMTP_PORT), so a
	# tempfail there leaves the message deferred in this queue.
	QUEUE_PORT=$(e2e_free_port)
	cat >"$E2E/conf/master.cf" <<EOF
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
  -o myhostname=filter.e2e.test
127.0.0.1:$QUEUE_PORT inet n - n - - smtpd
  -o smtpd_milters=
  -o content_filter=smtp:[127.0.0.1]:$SMTP_PORT
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	postfix -c "$E2E/conf" start >>"$E2E/postfix-start.log" 2>&1 || {
		cat "$E2E/postfix-start.log" "$E2E/maillog" >&2 2>/dev/null
		return 1
	}
	e2e_wait_for 15 e2e_port_open "$SMTP_PORT"
}

# e2e_send FILE FROM RCPT... : one transaction; stdout gets the final server
# reply line ("250 ...", "451 ..."); exit status is swaks' (0 = accepted).
e2e_send() {
	local file=$1 from=$2
	shift 2
	local to
	to=$(IFS=,; echo "$*")
	swaks --server "127.0.0.1:${E2E_SEND_PORT:-$SMTP_PORT}" --helo client.e2e.test --from "$from" \
		--to "$to" --data "$file" --timeout 30 >"$E2E/swaks.out" 2>&1
	local rc=$?
	grep -E '^<(\*\*|-) +[0-9]{3} ' "$E2E/swaks.out" | tail -n 2 | head -n 1 | sed 's/^<[-*]* *//'
	return $rc
}

e2e_sink_count() { find "$SINK_DIR" -type f | wc -l; }

e2e_wait_sink() {	# e2e_wait_sink N [SECONDS]
	local want=$1 deadline=$((SECONDS + ${2:-20}))
	while [ "$(e2e_sink_count)" -lt "$want" ]; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.1
	done
	sleep 0.1	# smtp-sink writes the file before it answers; let it finish
}

# Files in delivery order, newest last.
e2e_sink_files() { ls -1tr "$SINK_DIR"/* 2>/dev/null; }

# A dumped message as it went over the wire: smtp-sink writes its own
# X-Client-*/X-Helo-/X-Mail-/X-Rcpt- lines first, stores lines with LF, and
# ends the dump with two extra newlines. Undo exactly that and return CRLF.
e2e_sink_message() {
	awk 'BEGIN { env = 1 }
	     env && /^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args): / { next }
	     { env = 0; print }' "$1" | head -c -2 | sed 's/$/\r/'
}

e2e_body() { awk 'body { print; next } /^\r?$/ { body = 1 }' | sed 's/\r$//' | sed 's/$/\r/'; }

e2e_flush() { postqueue -c "$E2E/conf" -f >/dev/null 2>&1; }

e2e_consentctl() { "$CONSENTCTL_BIN" -c "$E2E/milter.conf" "$@"; }

e2e_queue_count() { find "$E2E/queue/incoming" "$E2E/queue/active" "$E2E/queue/deferred" -type f 2>/dev/null | wc -l; }
