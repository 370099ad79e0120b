#!/bin/bash
# End to end under concurrency: Postfix's smtp-source sends 200 copies of the
# tracked newsletter over 8 parallel SMTP sessions, half to a recipient who
# granted both purposes (one connection per message) and half to one without
# a record (-d: many messages per connection, so one milter context serves
# message after message). Nothing is lost,
# every message is logged once, the stripped ones are stripped, and the
# milter (under the sanitizer build in CI) reports no memory error.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

e2e_init
e2e_need smtp-source || tap_skip_all "smtp-source not installed"
tap_plan 7
NEWS=$top_srcdir/tests/fixtures/e2e/newsletter.eml
N=100

e2e_start_redis; e2e_start_sink
e2e_write_milter_conf
e2e_consentctl grant granted@rcpt.example --purposes open,click --source e2e --text v1 >/dev/null
e2e_start_milter
e2e_start_postfix; tap_ok $? "redis, sink, milter and Postfix started"

# smtp-source -F sends the file as header and body (LF ends are fine).
tr -d '\r' <"$NEWS" >"$E2E/news-lf.eml"
send() {	# send RCPT [OPTIONS]
	local rcpt=$1
	shift
	smtp-source -s 4 -m $N "$@" -f news@sender.example -t "$rcpt" -F "$E2E/news-lf.eml" \
		"127.0.0.1:$SMTP_PORT" >>"$E2E/smtp-source.log" 2>&1
}
t0=$SECONDS
send granted@rcpt.example & a=$!
send nobody@rcpt.example -d & b=$!
wait $a; ra=$?
wait $b; rb=$?
tap_ok $((ra + rb)) "smtp-source: $((2 * N)) messages over 8 sessions accepted"
e2e_wait_sink $((2 * N)) 120
tap_ok $? "all $((2 * N)) messages delivered ($(e2e_sink_count) in the sink, $((SECONDS - t0)) s)"
tap_is "$(grep -c ': consent=all rcpts=1 action=skipped' "$E2E/milter.log")" $N \
	"$N messages for the granted recipient logged as skipped"
tap_is "$(grep -c ': consent=none rcpts=1 action=rewritten' "$E2E/milter.log")" $N \
	"$N messages for the recipient without a record logged as rewritten"
stripped=0 kept=0
for f in $(grep -l '^X-Rcpt-Args: <nobody@rcpt.example>' "$SINK_DIR"/*); do
	if grep -q 'awstrack.me/I0/' "$f"; then kept=$((kept + 1)); else stripped=$((stripped + 1)); fi
done
tap_is "$stripped:$kept" "$N:0" "every copy for the recipient without a record is stripped"
e2e_stop_milter
e2e_milter_log_clean
tap_ok $? "no sanitizer report in the milter log"
tap_done
