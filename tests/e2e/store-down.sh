#!/bin/bash
# End to end: the consent store stops answering (SIGSTOP: every lookup times
# out after RedisTimeout). OnStoreError strip delivers the message stripped;
# OnStoreError tempfail leaves it in Postfix's queue (deferred with 451), and
# once Redis answers again a queue flush delivers it, with the consent the
# store then gives.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

e2e_init
tap_plan 12
NEWS=$top_srcdir/tests/fixtures/e2e/newsletter.eml

e2e_start_redis;   tap_ok $? "redis-server on a unix socket"
e2e_start_sink;    tap_ok $? "smtp-sink on 127.0.0.1:$SINK_PORT"
e2e_write_milter_conf
e2e_consentctl grant granted@rcpt.example --purposes open,click --source e2e --text v1 >/dev/null
e2e_start_milter
e2e_start_postfix; tap_ok $? "milter and private Postfix started"
REDIS_PID=$(redis_pid "$E2E/redis/main")

# OnStoreError strip (the default): no answer in time means no consent.
kill -STOP "$REDIS_PID"
t0=$(date +%s%N)
reply=$(e2e_send "$NEWS" news@sender.example granted@rcpt.example)
tap_ok $? "strip: message accepted while Redis is stopped ($reply)"
e2e_wait_sink 1
e2e_sink_message "$(e2e_sink_files | tail -n 1)" >"$E2E/last.eml"
! grep -q 'awstrack.me/I0/' <(python3 "$top_srcdir/tests/e2e/decode-parts.py" "$E2E/last.eml")
tap_ok $? "strip: delivered without the pixel, although the recipient had consented"
line=$(grep 'consent=none rcpts=1 action=rewritten' "$E2E/milter.log" | grep 'store=error' | tail -n 1)
tap_ok $([ -n "$line" ]; echo $?) "strip: log line says store=error"
tap_diag "$line"

# OnStoreError tempfail: the message must wait in Postfix's queue.
e2e_stop_milter
e2e_write_milter_conf "OnStoreError tempfail"
e2e_start_milter
reply=$(E2E_SEND_PORT=$QUEUE_PORT e2e_send "$NEWS" news@sender.example granted@rcpt.example)
tap_ok $? "tempfail: accepted into Postfix's queue by the queueing smtpd ($reply)"
e2e_wait_for 20 grep -q 'status=deferred.*451 4.3.0' "$E2E/maillog"
tap_ok $? "tempfail: delivery to the milter's smtpd deferred with 451 4.3.0"
tap_diag "$(grep -m1 'status=deferred' "$E2E/maillog" | sed 's/^.*postfix\///')"
sleep 1
tap_is "$(e2e_sink_count)" 1 "tempfail: nothing delivered while Redis is stopped"
tap_ok $([ "$(e2e_queue_count)" -ge 1 ]; echo $?) "tempfail: the message is in Postfix's queue"

# Redis answers again: a flush delivers it, with the granted consent.
kill -CONT "$REDIS_PID"
e2e_flush
e2e_wait_sink 2 30
tap_ok $? "after Redis is back and the queue is flushed: delivered"
e2e_sink_message "$(e2e_sink_files | tail -n 1)" >"$E2E/last.eml"
got=$(e2e_body <"$E2E/last.eml" | md5sum); want=$(e2e_body <"$NEWS" | md5sum)
tap_is "$got" "$want" "after the flush: the granted recipient gets the original body"

e2e_stop_milter
e2e_milter_log_clean || tap_diag "sanitizer report in the milter log"
tap_done
