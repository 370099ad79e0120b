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
# Today the milter accepts every message unchanged: the demo shows the plumbing
# (Postfix -> milter -> delivery) and the protocol cost per message. The
# consent store and the rewriting engine will plug into demo_consent below.
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
	"$build/src/consent-milter" -n -c "$top/etc/consent-milter.conf" ||
		die "the shipped etc/consent-milter.conf does not pass consent-milter -n"
}

# ---- 2. the sample mail ------------------------------------------------------

# A typical marketing newsletter: an HTML part with a 1x1 open-tracking pixel
# carrying a per-recipient id, links wrapped by the ESP's click tracker, an
# ordinary content image, an unsubscribe link, and a plain-text alternative.
write_newsletter() {	# write_newsletter RCPT FILE
	local rcpt=$1 file=$2 id
	id=$(printf '%s' "$rcpt" | md5sum | cut -c1-16)
	cat >"$file" <<EOF
From: Example Shop <$SENDER>
To: <$rcpt>
Subject: Our autumn collection is here
Date: $(date -R)
Message-ID: <demo-$id-$$@shop.example>
MIME-Version: 1.0
List-Unsubscribe: <https://shop.example/unsubscribe?u=$id>
Content-Type: multipart/alternative; boundary="=_demo_boundary"

This is a multi-part message in MIME format.

--=_demo_boundary
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

Our autumn collection is here.

Shop now: https://click.esp.example/ls/click?upn=$id-c1&u=https%3A%2F%2Fshop.example%2Fautumn
Unsubscribe: https://shop.example/unsubscribe?u=$id

--=_demo_boundary
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 7bit

<html><body>
<h1>Our autumn collection is here</h1>
<p><img src="https://shop.example/img/autumn.jpg" width="600" height="300" alt="Autumn"></p>
<p><a href="https://click.esp.example/ls/click?upn=$id-c1&amp;u=https%3A%2F%2Fshop.example%2Fautumn">Shop now</a></p>
<p><a href="https://shop.example/stores?utm_source=newsletter&amp;utm_medium=email&amp;rid=$id">Find a store</a></p>
<p><a href="https://shop.example/unsubscribe?u=$id">Unsubscribe</a></p>
<img src="https://open.esp.example/wf/open?upn=$id" width="1" height="1" alt="" style="display:none">
</body></html>

--=_demo_boundary--
EOF
}

# ---- 3. consent (extension point) -------------------------------------------

# demo_consent: set up the consent each recipient has given, and append the
# milter configuration lines this needs to MILTER_CONF_LINES. Runs after
# e2e_init ($E2E exists) and before the milter starts.
#
# EXTEND HERE once the consent store exists (issue 3): start a private Redis
# with e2e_start_redis, write an AddressKeyFile, point RedisServer at it, and
# grant alice open+click consent with consentctl, leaving bob without a record
# (DefaultConsent none). Then the two deliveries below will differ.
MILTER_CONF_LINES=()
demo_consent() {
	say "Consent"
	echo "The consent store is not built yet (planned): the milter accepts"
	echo "every message unchanged, so both recipients receive the original."
}

# ---- 4. run ------------------------------------------------------------------

show_message() {	# show_message SINK_FILE SENT_FILE
	local got=$E2E/got.eml
	e2e_sink_message "$1" | sed 's/\r$//' >"$got"
	echo "--- headers as delivered:"
	sed '/^$/q' "$got" | sed 's/^/    /'
	echo "--- tracking-relevant lines of the HTML part as delivered:"
	grep -E '<img|<a ' "$got" | sed 's/^/    /'
	echo "--- body compared with what was sent:"
	if diff -u <(sed -n '/^$/,$p' "$2") <(sed -n '/^$/,$p' "$got") >"$E2E/body.diff"; then
		echo "    identical (the milter passed the body unchanged)"
	else
		sed 's/^/    /' "$E2E/body.diff" | head -n 40
	fi
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
	e2e_need postfix smtp-sink swaks || die "postfix and swaks are needed (contrib/debian-deps.sh build)"
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
		say "Delivered to $rcpt"
		show_message "$f" "$E2E/sent-$rcpt.eml"
	done

	say "The milter's log ($E2E/milter.log)"
	e2e_stop_milter
	sed 's/^/    /' "$E2E/milter.log"
	echo "(at LogLevel debug: one line per message with the queue id Postfix gave it,"
	echo " the milter events it was sent and the replies it had to send)"

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
