#!/bin/bash
# contrib/demo.sh - the main job, from a fresh Debian 12 machine, as root.
#
# Installs the Debian packages the build needs, builds consent-milter out of
# tree in _build-demo, then runs it for real: smtp-sink (the "internet"), the
# milter, and a private Postfix on loopback whose smtpd consults the milter.
# A sample newsletter (HTML with an open-tracking pixel and tracked links) is
# sent to two recipients, one transaction each; the script waits for delivery
# and shows what arrived, what the milter logged, and what Postfix logged.
# Everything runs in a temporary directory that is removed at the end
# (DEMO_KEEP=1 keeps it); the system Postfix and its ports are not touched.
#
# A private Redis holds the consent store: alice@customers.example is granted
# open and click tracking with consentctl, bob@customers.example has no record
# (DefaultConsent none). Alice receives the message byte for byte as sent; bob
# receives it without the tracking pixel, with the tracked links unwrapped to
# their destinations and personal parameters removed. The script shows a diff
# of each delivered HTML part against the one sent (decoded with Python's
# email module, a view independent of the milter) and the milter's log lines.
#
# Usage: sudo contrib/demo.sh        (from any directory; safe to run again)
#   DEMO_KEEP=1       keep the temporary directory (configs, queue, logs, mail)
#   DEMO_BUILD_DIR=D  build in D instead of _build-demo
set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${DEMO_BUILD_DIR:-$top/_build-demo}
SENDER=news@shop.example
RECIPIENTS=(alice@customers.example bob@customers.example)

say() { printf '\n==== %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; TAP_FAILED=1; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts a private Postfix): sudo $0"

# ---- 1. packages and build -------------------------------------------------

build_milter() {
	say "Installing the Debian packages the build needs (contrib/debian-deps.sh build)"
	"$top/contrib/debian-deps.sh" build || die "package installation failed"

	say "Building in $build"
	if [ -f "$top/config.status" ]; then
		die "$top was configured in place; run 'make distclean' there first (the demo builds out of tree)"
	fi
	local log=$build.log
	# autogen.sh only once: later changes to configure.ac or *.am are picked
	# up by make's own rebuild rules.
	if [ ! -x "$top/configure" ]; then
		(cd "$top" && ./autogen.sh) >"$log" 2>&1 || { tail -n 30 "$log"; die "autogen.sh failed"; }
	fi
	mkdir -p "$build"
	if [ ! -f "$build/Makefile" ]; then
		(cd "$build" && "$top/configure") >>"$log" 2>&1 ||
			{ tail -n 30 "$log"; die "configure failed (see $log)"; }
	fi
	(cd "$build" && make -j2) >>"$log" 2>&1 || { tail -n 30 "$log"; die "make failed (see $log)"; }
	"$build/src/consent-milter" -V || die "the build produced no working consent-milter"
}

# consent-milter -n also loads the address key and the tracker rules; the
# shipped sample leaves both at their installed paths, which do not exist in
# a source tree. Check the sample with those two pointed at the demo's files.
check_sample_conf() {
	local conf=$E2E/sample-check.conf
	{
		echo "Include $top/etc/consent-milter.conf"
		echo "AddressKeyFile $E2E/milter/address.key"
		echo "TrackerRules $top/etc/trackers.conf"
	} >"$conf"
	"$build/src/consent-milter" -n -c "$conf" >/dev/null ||
		die "the shipped etc/consent-milter.conf does not pass consent-milter -n"
	echo "etc/consent-milter.conf passes consent-milter -n (with the demo's key file)"
}

# ---- 2. the sample mail ------------------------------------------------------

# A typical marketing newsletter sent through Amazon SES: an HTML part with a
# 1x1 open-tracking pixel, links wrapped by the ESP's click tracker (one of
# them around a destination that carries a personal parameter), a link with
# the recipient's address in it, an opaque SendGrid-style tracked link, an
# ordinary content image, an unsubscribe link, and a plain-text alternative.
# A read-receipt request (Disposition-Notification-To) is open tracking too.
write_newsletter() {	# write_newsletter RCPT FILE
	local rcpt=$1 file=$2 id enc
	id=$(printf '%s' "$rcpt" | md5sum | cut -c1-16)
	enc=$(printf '%s' "$rcpt" | sed 's/@/%40/')
	local ses=https://r.eu-west-1.awstrack.me
	cat >"$file" <<EOF
From: Example Shop <$SENDER>
To: <$rcpt>
Subject: Our autumn collection is here
Date: $(date -R)
Message-ID: <demo-$id-$$@shop.example>
MIME-Version: 1.0
List-Unsubscribe: <https://shop.example/unsubscribe?u=$id>
Disposition-Notification-To: <$SENDER>
Content-Type: multipart/alternative; boundary="=_demo_boundary"

This is a multi-part message in MIME format.

--=_demo_boundary
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

Our autumn collection is here.

Shop now: $ses/L0/https:%2F%2Fshop.example%2Fautumn%3Fmc_eid%3D$id/1/0102018c-$id/AbC=
Unsubscribe: https://shop.example/unsubscribe?u=$id

--=_demo_boundary
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 7bit

<html><body>
<h1>Our autumn collection is here</h1>
<p><img src="https://shop.example/img/autumn.jpg" width="600" height="300" alt="Autumn"></p>
<p><a href="$ses/L0/https:%2F%2Fshop.example%2Fautumn%3Fmc_eid%3D$id/1/0102018c-$id/AbC=">Shop now</a></p>
<p><a href="https://shop.example/stores?utm_source=newsletter&amp;email=$enc">Find a store</a></p>
<p><a href="https://u123.ct.sendgrid.net/ls/click?upn=$id-c3">Our blog</a></p>
<p><a href="https://shop.example/unsubscribe?u=$id">Unsubscribe</a></p>
<img src="$ses/I0/0102018c-$id/$id" width="1" height="1" alt="">
</body></html>

--=_demo_boundary--
EOF
}

# ---- 3. consent (extension point) -------------------------------------------

# demo_consent: set up the consent each recipient has given, and append the
# milter configuration lines this needs to MILTER_CONF_LINES. Runs after
# e2e_init ($E2E exists) and before the milter starts.
#
# A private redis-server on a unix socket the milter's user (postfix) can
# reach; e2e_write_milter_conf generates the address key with
# "consentctl keygen" and writes AddressKeyFile, TrackerRules (the tree's
# etc/trackers.conf) and RedisServer into $E2E/milter.conf, which consentctl
# reads too. Alice is granted open and click; bob has no record.
GRANTED=alice@customers.example
MILTER_CONF_LINES=()
demo_consent() {
	say "Consent store: a private Redis, an address key, one grant"
	e2e_need redis-server redis-cli || die "redis-server is needed (contrib/debian-deps.sh build)"
	e2e_start_redis || die "redis-server did not start (see $E2E/redis/main/redis.log)"
	echo "redis-server on unix:$REDIS_SOCK"
	e2e_write_milter_conf || die "cannot write the milter configuration"
	echo "address key: $E2E/milter/address.key ($(stat -c '%a %U' "$E2E/milter/address.key"), from consentctl keygen)"
	echo "milter configuration ($E2E/milter.conf), the consent store lines:"
	grep -E '^(AddressKeyFile|TrackerRules|RedisServer) ' "$E2E/milter.conf" | sed 's/^/    /'
	check_sample_conf
	echo "\$ consentctl grant $GRANTED --purposes open,click --source demo --text v1"
	e2e_consentctl grant "$GRANTED" --purposes open,click --source demo --text v1 |
		sed 's/^/    /'
	[ "${PIPESTATUS[0]}" = 0 ] || die "consentctl grant failed"
	local r
	for r in "${RECIPIENTS[@]}"; do
		echo "\$ consentctl show $r"
		e2e_consentctl show "$r" | sed 's/^/    /'
	done
	echo "In Redis only keyed hashes, no addresses:"
	redis_cli "$E2E/redis/main" --scan --pattern 'cm:*' | sed 's/^/    /'
}

# ---- 4. run ------------------------------------------------------------------

# The HTML part of a message, decoded by Python's email module: a view of
# the result that does not depend on the milter's own MIME code.
decoded_html() {	# decoded_html FILE
	python3 -c '
import email, email.policy, sys
with open(sys.argv[1], "rb") as fp:
    msg = email.message_from_binary_file(fp, policy=email.policy.default)
for part in msg.walk():
    if part.get_content_type() == "text/html":
        sys.stdout.write(part.get_content())
' "$1"
}

show_message() {	# show_message SINK_FILE SENT_FILE
	local got=$E2E/got.eml sent=$2
	e2e_sink_message "$1" | sed 's/\r$//' >"$got"
	echo "--- headers the milter added or removed:"
	diff <(sed '/^$/q' "$sent" | grep -E '^(X-Consent-Milter|Disposition-Notification-To|Return-Receipt-To|List-Unsubscribe):') \
	     <(sed '/^$/q' "$got" | grep -E '^(X-Consent-Milter|Disposition-Notification-To|Return-Receipt-To|List-Unsubscribe):') |
		sed -n 's/^< /    removed: /p; s/^> /    added:   /p' | grep . || echo "    none"
	echo "--- body compared with what was sent:"
	if cmp -s <(sed -n '/^$/,$p' "$sent") <(sed -n '/^$/,$p' "$got"); then
		echo "    byte-identical"
		return
	fi
	echo "    changed; the HTML part, decoded, sent (-) and delivered (+):"
	diff -u --label sent --label delivered <(decoded_html "$sent") <(decoded_html "$got") |
		sed '1,2d; s/^/    /'
	echo "    the text/plain part, delivered:"
	sed -n '/^Content-Type: text\/plain/,/^--=_demo/p' "$got" | sed '1,/^$/d; /^--=_demo/d; s/^/    /'
}

# Postfix's verbose smtpd log (debug_peer_list) for the SMTP sessions that
# carried a message, reduced to the milter conversation and the queue ids.
postfix_milter_trace() {	# postfix_milter_trace MAILLOG
	awk '
	/postfix\/smtpd\[[0-9]+\]: report connect to all milters/ { insess = 1; buf = ""; seen = 0; next }
	{ keep = ($0 ~ /milter8_connect: (milter .* version|events|requests)|milter8_[a-z]+_event:|skipping (reply for )?event|milter8_abort|: message-id=|: client=|status=(sent|deferred|bounced)|reject:|warning:/) }
	/milter8_mail_event/ { seen = 1 }
	insess && /postfix\/smtpd\[[0-9]+\]: free all milters/ { if (seen) printf "%s", buf; insess = 0; next }
	!keep { next }
	{ sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ postfix\//, ""); line = $0 "\n" }
	insess { buf = buf line; next }
	{ printf "%s", line }' "$1"
}

run_demo() {
	export top_srcdir=$top top_builddir=$build
	# tests/e2e/lib.sh reports "cannot run" through the TAP helpers.
	. "$top/tests/lib/tap.sh"
	. "$top/tests/e2e/lib.sh"
	[ "${DEMO_KEEP:-0}" = 1 ] && E2E_KEEP=1
	# e2e_init would report missing tools as a TAP "skip"; here it is an error.
	e2e_need postfix smtp-sink swaks python3 ||
		die "postfix, swaks and python3 are needed (contrib/debian-deps.sh build)"
	e2e_init
	# Postfix logs each milter conversation in detail for this client only.
	E2E_POSTFIX_EXTRA="debug_peer_list = 127.0.0.1
debug_peer_level = 2"

	demo_consent

	say "Starting smtp-sink, the milter and a private Postfix in $E2E"
	e2e_start_sink || die "smtp-sink did not start"
	echo "smtp-sink (stands in for the recipients' servers) on 127.0.0.1:$SINK_PORT"
	e2e_write_milter_conf "${MILTER_CONF_LINES[@]}"
	e2e_start_milter || { cat "$E2E/milter.log"; die "the milter did not start"; }
	echo "consent-milter on unix:$MILTER_SOCK (config $E2E/milter.conf)"
	e2e_start_postfix || die "Postfix did not start"
	echo "Postfix smtpd on 127.0.0.1:$SMTP_PORT, smtpd_milters = unix:$MILTER_SOCK,"
	echo "milter_default_action = tempfail, relayhost = the sink"

	say "Sending the newsletter to ${RECIPIENTS[*]} (one SMTP transaction each)"
	local r n=0 reply
	for r in "${RECIPIENTS[@]}"; do
		write_newsletter "$r" "$E2E/sent-$r.eml"
		reply=$(e2e_send "$E2E/sent-$r.eml" "$SENDER" "$r") ||
			die "Postfix refused the message for $r: $reply"
		echo "$r: $reply"
		n=$((n + 1))
	done
	e2e_wait_sink "$n" 30 || die "only $(e2e_sink_count) of $n messages were delivered in 30 s (see $E2E/maillog)"

	local f rcpt
	for f in $(e2e_sink_files); do
		rcpt=$(sed -n 's/^X-Rcpt-Args: <\(.*\)>.*/\1/p' "$f" | head -n 1)
		if [ "$rcpt" = "$GRANTED" ]; then
			say "Delivered to $rcpt (open and click granted)"
		else
			say "Delivered to $rcpt (no record: DefaultConsent none)"
		fi
		show_message "$f" "$E2E/sent-$rcpt.eml"
	done

	say "The milter's log ($E2E/milter.log)"
	e2e_stop_milter
	sed 's/^/    /' "$E2E/milter.log"
	echo "(one info line per message: the queue id Postfix gave it, the consent"
	echo " enforced, the action and what was removed; recipients appear as the first"
	echo " 8 hex digits of their store key, never as addresses. At LogLevel debug a"
	echo " second line counts the milter events and replies the message cost.)"

	say "Postfix's log ($E2E/maillog): the milter was consulted for each message"
	echo "(\$SOCK = $MILTER_SOCK)"
	postfix_milter_trace "$E2E/maillog" | sed "s|$MILTER_SOCK|\$SOCK|g; s/^/    /"
	echo "(smtpd talks to the milter up to DATA; \"skipping reply\" and \"skipping event\""
	echo " are the round trips negotiated away. cleanup(8) sends the headers, which"
	echo " Postfix does not trace; the milter's own line above counts them.)"
	say "Done"
	if [ "${DEMO_KEEP:-0}" = 1 ]; then
		echo "Everything is kept in $E2E."
	else
		echo "The temporary directory is removed now (DEMO_KEEP=1 keeps it)."
	fi
}

build_milter
run_demo
