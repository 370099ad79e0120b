#!/bin/bash
# End to end through a real Postfix: a message for a recipient who granted
# both purposes arrives with its body byte-identical; Postfix consulted the milter; the
# round trips one message costs are reported; with the milter down Postfix
# answers 4xx and the message is delivered once the milter is back.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

e2e_init
tap_plan 12
FIXTURE=$top_srcdir/tests/fixtures/e2e/multipart.eml

e2e_start_redis;   tap_ok $? "redis-server listens on $REDIS_SOCK"
e2e_start_sink;    tap_ok $? "smtp-sink listens on 127.0.0.1:$SINK_PORT"
e2e_write_milter_conf
e2e_consentctl grant reader@rcpt.example --purposes open,click --source e2e --text v1 >/dev/null
e2e_start_milter;  tap_ok $? "milter listens on $MILTER_SOCK"
e2e_start_postfix; tap_ok $? "private Postfix listens on 127.0.0.1:$SMTP_PORT"

reply=$(e2e_send "$FIXTURE" news@sender.example reader@rcpt.example)
tap_ok $? "message accepted: $reply"
e2e_wait_sink 1
tap_ok $? "message delivered to smtp-sink"

got=$(e2e_sink_message "$(e2e_sink_files | tail -n 1)" | e2e_body | od -An -c | md5sum)
want=$(e2e_body <"$FIXTURE" | od -An -c | md5sum)
tap_is "$got" "$want" "body byte-identical after Postfix + milter"

qid=$(sed -n 's/.*postfix\/cleanup\[[0-9]*\]: \([0-9A-F]*\): message-id=<e2e-multipart-1@sender.example>.*/\1/p' "$E2E/maillog" | head -n 1)
line=$(grep "$qid: accepted at end of headers, milter events=" "$E2E/milter.log")
tap_ok $? "milter saw queue id ${qid:-?} (Postfix consulted it)"
tap_diag "round trips for one message: ${line#*milter }"

# Milter down: Postfix must not accept mail it cannot filter.
e2e_stop_milter
reply=$(e2e_send "$FIXTURE" news@sender.example reader@rcpt.example)
rc=$?
case "$reply" in 4[0-9][0-9]\ *) tempfail=0 ;; *) tempfail=1 ;; esac
tap_ok $((rc == 0 ? 1 : tempfail)) "milter down: Postfix answers 4xx ($reply)"
tap_diag "observed: $(grep -m1 'milter' "$E2E/maillog" | sed 's/^.*postfix\///')"

# Back up: the client's resend goes through and nothing was lost.
e2e_start_milter
reply=$(e2e_send "$FIXTURE" news@sender.example reader@rcpt.example)
tap_ok $? "milter back: resend accepted ($reply)"
e2e_wait_sink 2
tap_ok $? "resent message delivered (2 messages in the sink, none lost or doubled)"

e2e_stop_milter
e2e_milter_log_clean
tap_ok $? "no sanitizer report in the milter log"
tap_done
