#!/bin/bash
# End to end with the consent store: Postfix + milter + Redis + smtp-sink.
# A recipient granted with consentctl receives the original bytes; a recipient
# without a record receives the stripped message; mixed recipients get the
# strictest consent; the exempt header passes the body untouched and is
# removed; read-receipt headers go without open consent.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

e2e_init
tap_plan 27
NEWS=$top_srcdir/tests/fixtures/e2e/newsletter.eml
DECODE=$top_srcdir/tests/e2e/decode-parts.py

e2e_start_redis;   tap_ok $? "redis-server on a unix socket"
e2e_start_sink;    tap_ok $? "smtp-sink on 127.0.0.1:$SINK_PORT"
e2e_write_milter_conf "StatsFile $E2E/milter/consent_milter.prom" "StatsInterval 0"
e2e_consentctl grant granted@rcpt.example --purposes open,click --source e2e --text v1 >/dev/null
tap_ok $? "consentctl grant granted@rcpt.example"
e2e_start_milter;  tap_ok $? "milter started"
e2e_start_postfix; tap_ok $? "private Postfix started"

last() { e2e_sink_message "$(e2e_sink_files | tail -n 1)" >"$E2E/last.eml"; }
delivered() {	# delivered N: wait for the Nth message and keep it in last.eml
	e2e_wait_sink "$1" && last
}
milter_line() { grep "$1: consent=" "$E2E/milter.log" | tail -n 1; }
qid() { sed -n 's/.*queued as \([0-9A-F]*\).*/\1/p' "$E2E/swaks.out" | tail -n 1; }

# 1. Granted recipient: the original bytes.
e2e_send "$NEWS" news@sender.example granted@rcpt.example >/dev/null
delivered 1; tap_ok $? "granted: delivered"
got=$(e2e_body <"$E2E/last.eml" | md5sum); want=$(e2e_body <"$NEWS" | md5sum)
tap_is "$got" "$want" "granted: body byte-identical"
! grep -q '^X-Consent-Milter:' "$E2E/last.eml"
tap_ok $? "granted: no X-Consent-Milter header"
line=$(milter_line "$(qid)")
case "$line" in *"consent=all rcpts=1 action=skipped"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "granted: log says consent=all action=skipped"
tap_diag "$line"

# 2. No record: stripped (DefaultConsent none).
e2e_send "$NEWS" news@sender.example nobody@rcpt.example >/dev/null
delivered 2; tap_ok $? "no record: delivered"
python3 "$DECODE" "$E2E/last.eml" >"$E2E/last.txt"
tap_ok $? "no record: every text part still decodes"
! grep -q 'awstrack.me/I0/' "$E2E/last.txt"
tap_ok $? "no record: SES pixel removed"
grep -q 'href="https://shop.example/sale?id=7"' "$E2E/last.txt"
tap_ok $? "no record: SES link unwrapped to its destination (HTML)"
grep -q 'https://shop.example/sale?id=7' <(sed -n '/=== text\/plain/,/===/p' "$E2E/last.txt")
tap_ok $? "no record: SES link unwrapped in text/plain"
grep -q 'https://cdn.sender.example/logo.png' "$E2E/last.txt" &&
	grep -q 'https://sender.example/unsubscribe?u=42' "$E2E/last.txt"
tap_ok $? "no record: content image and unsubscribe link kept"
grep -q '^X-Consent-Milter: consent=none action=rewritten' "$E2E/last.eml"
tap_ok $? "no record: X-Consent-Milter header added"
! grep -qi '^Disposition-Notification-To:' "$E2E/last.eml"
tap_ok $? "no record: Disposition-Notification-To removed"
grep -qi '^List-Unsubscribe: <https://sender.example/unsubscribe?u=42>' "$E2E/last.eml"
tap_ok $? "no record: List-Unsubscribe untouched"
line=$(milter_line "$(qid)")
case "$line" in *"consent=none rcpts=1 action=rewritten pixels=1 "*"unwrapped=2 "*) r=0 ;; *) r=1 ;; esac
tap_ok $r "no record: log line counts the pixel and both unwrapped links"
tap_diag "$line"
case "$line" in *nobody@*) r=1 ;; *" to="[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) r=0 ;; *) r=1 ;; esac
tap_ok $r "no record: log names the recipient by key prefix, not address"

# 3. Mixed recipients, strictest (default): one transaction, stripped for both.
e2e_send "$NEWS" news@sender.example granted@rcpt.example nobody@rcpt.example >/dev/null
delivered 3
python3 "$DECODE" "$E2E/last.eml" | grep -q 'awstrack.me/I0/'
tap_ok $((! $?)) "mixed: the strictest consent (none) applies to both"
line=$(milter_line "$(qid)")
case "$line" in *"consent=mixed rcpts=2 action=rewritten"*) r=0 ;; *) r=1 ;; esac
tap_ok $r "mixed: log says consent=mixed rcpts=2"

# 4. Exempt (security) message: body untouched, internal header removed.
{ printf 'X-Tracking-Purpose: security\r\n'; cat "$NEWS"; } >"$E2E/exempt.eml"
e2e_send "$E2E/exempt.eml" news@sender.example nobody@rcpt.example >/dev/null
delivered 4
got=$(e2e_body <"$E2E/last.eml" | md5sum); want=$(e2e_body <"$NEWS" | md5sum)
tap_is "$got" "$want" "exempt: body byte-identical"
! grep -qi '^X-Tracking-Purpose:' "$E2E/last.eml"
tap_ok $? "exempt: X-Tracking-Purpose removed before delivery"

# Metrics on demand: SIGUSR1 logs the stats line and rewrites the StatsFile.
kill -USR1 "$MILTER_PID"
e2e_wait_for 5 grep -q 'stats: messages rewritten=2 unchanged=0 skipped=1 exempt=1 ' "$E2E/milter.log"
tap_ok $? "SIGUSR1: stats line with the messages by action"
tap_diag "$(grep 'stats: ' "$E2E/milter.log" | tail -n 1)"
grep -q '^consent_milter_messages_total{action="rewritten"} 2$' "$E2E/milter/consent_milter.prom"
tap_ok $? "SIGUSR1: StatsFile written in Prometheus text format"

e2e_stop_milter
e2e_milter_log_clean
tap_ok $? "no sanitizer report in the milter log"
tap_done
