#!/bin/bash
# End to end: bodies over MaxProcessSize, S/MIME-signed messages, messages
# with a DKIM signature under SignedMessages leave, and MixedRecipients split.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

e2e_init
tap_plan 16
NEWS=$top_srcdir/tests/fixtures/e2e/newsletter.eml
SIGNED=$top_srcdir/tests/fixtures/e2e/signed.eml

e2e_start_redis; e2e_start_sink
e2e_write_milter_conf "MaxProcessSize 1K" "SignedMessages leave"
e2e_consentctl grant granted@rcpt.example --purposes open,click --source e2e --text v1 >/dev/null
e2e_start_milter
e2e_start_postfix; tap_ok $? "redis, sink, milter and Postfix started"

same_body() { [ "$(e2e_body <"$1" | md5sum)" = "$(e2e_body <"$2" | md5sum)" ]; }
deliver() {	# deliver N FILE RCPT: send, wait for the Nth delivery, keep it
	e2e_send "$2" news@sender.example "$3" >/dev/null &&
	e2e_wait_sink "$1" &&
	e2e_sink_message "$(e2e_sink_files | tail -n 1)" >"$E2E/last.eml"
}

# The newsletter with 2 KB more text: over the 1K limit.
awk '{ print } /^Unsubscribe: / { for (i = 0; i < 40; i++) printf "padding line %02d of the oversize test.\r\n", i }' \
	"$NEWS" >"$E2E/big.eml"
deliver 1 "$E2E/big.eml" nobody@rcpt.example
tap_ok $? "oversize: delivered"
same_body "$E2E/last.eml" "$E2E/big.eml"
tap_ok $? "oversize: body unchanged (OnOversize accept)"
grep -q 'action=oversize' "$E2E/milter.log"
tap_ok $? "oversize: logged as action=oversize"

e2e_stop_milter
e2e_write_milter_conf "SignedMessages leave"
e2e_start_milter
deliver 2 "$SIGNED" nobody@rcpt.example
tap_ok $? "multipart/signed: delivered"
same_body "$E2E/last.eml" "$SIGNED"
tap_ok $? "multipart/signed: body byte-identical (signed parts are never touched)"

{ printf 'DKIM-Signature: v=1; a=rsa-sha256; d=sender.example; s=s1; h=from; bh=x; b=y\r\n'; cat "$NEWS"; } >"$E2E/dkim.eml"
deliver 3 "$E2E/dkim.eml" nobody@rcpt.example
tap_ok $? "DKIM-signed: delivered"
same_body "$E2E/last.eml" "$E2E/dkim.eml"
tap_ok $? "DKIM-signed with SignedMessages leave: body byte-identical"
grep -q 'reason="DKIM-signed, SignedMessages leave"' "$E2E/milter.log"
tap_ok $? "DKIM-signed: the log says why"

# MixedRecipients split: the second recipient, of another class, gets 452.
e2e_stop_milter
e2e_write_milter_conf "MixedRecipients split"
e2e_start_milter
e2e_send "$NEWS" news@sender.example granted@rcpt.example nobody@rcpt.example >/dev/null
grep -q '452 4.5.3' "$E2E/swaks.out"
tap_ok $? "split: recipient of another consent class answered 452 4.5.3"
e2e_wait_sink 4
tap_ok $? "split: the first recipient's message delivered"
e2e_sink_message "$(e2e_sink_files | tail -n 1)" >"$E2E/last.eml"
same_body "$E2E/last.eml" "$NEWS"
tap_ok $? "split: the granted recipient's copy is the original body"
grep -q 'X-Rcpt-Args: <granted@rcpt.example>' "$(e2e_sink_files | tail -n 1)" &&
	! grep -q 'nobody@rcpt.example' "$(e2e_sink_files | tail -n 1)"
tap_ok $? "split: the transaction carried only the granted recipient"

# Relay controls: a long X-SMTPAPI (folded by the milter) goes through Postfix
# and still parses, with open and click tracking switched off and the
# sender's own fields kept.
e2e_stop_milter
e2e_write_milter_conf "RelayTrackingHeaders sendgrid"
e2e_start_milter
to=$(for i in $(seq 1 120); do printf '"user%03d@list.example",' "$i"; done)
{ printf 'X-SMTPAPI: {"to":[%s"last@list.example"],"category":["news"],"filters":{"opentrack":{"settings":{"enable":1}}}}\r\n' "$to"
  cat "$NEWS"; } >"$E2E/smtpapi.eml"
deliver 5 "$E2E/smtpapi.eml" nobody@rcpt.example
tap_ok $? "X-SMTPAPI: delivered"
python3 - "$E2E/last.eml" >"$E2E/smtpapi.txt" 2>&1 <<'PY'
import email, email.policy, json, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.compat32)
v = m.get_all("X-SMTPAPI")
assert len(v) == 1, v
raw = v[0].replace("\r\n", "").replace("\n", "")
j = json.loads(raw)
assert len(j["to"]) == 121 and j["category"] == ["news"], j
assert j["filters"]["opentrack"]["settings"]["enable"] == 0, j["filters"]
assert j["filters"]["clicktrack"]["settings"]["enable"] == 0, j["filters"]
longest = max(len(l) for l in open(sys.argv[1], "rb").read().split(b"\n"))
assert longest <= 1000, longest
print("ok", longest)
PY
tap_ok $? "X-SMTPAPI: one header, valid JSON after unfolding, both filters off, sender fields kept ($(tail -n 1 "$E2E/smtpapi.txt"))"
grep -q 'action=rewritten' <(tail -n 3 "$E2E/milter.log")
tap_ok $? "X-SMTPAPI: the body was rewritten as well"

e2e_stop_milter
e2e_milter_log_clean || tap_diag "sanitizer report in the milter log"
tap_done
