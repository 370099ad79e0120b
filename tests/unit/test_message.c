/* test_message.c - the per-message path shared by the milter and test mode:
 * recipients, consent classes, the decision, end of message, the log line. */
#include "build-config.h"
#include "tap.h"
#include "log.h"
#include "message.h"
#include "mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct cm_config *cfg;
static struct milter_env env;

static void
setup(void)
{
	struct cfg_error *e = NULL;
	char rules[1024], err[256];
	const char *top = getenv("top_srcdir");

	cfg = cfg_defaults();
	ck_assert_ptr_nonnull(cfg);
	snprintf(rules, sizeof rules, "%s/etc/trackers.conf", top ? top : "..");
	ck_assert_int_eq(cfg_set(cfg, "TrackerRules", rules, "(test)", 1, &e), 0);
	ck_assert_int_eq(cfg_set(cfg, "AddressKeyFile", "/nonexistent/key", "(test)", 1, &e), 0);
	ck_assert_int_eq(cfg_set(cfg, "ExemptRecipientDomains", "corp.example", "(test)", 1, &e), 0);
	mime_global_init();
	ck_assert_msg(milter_env_open(&env, cfg, ENV_KEY_OPTIONAL, err, sizeof err) == 0, "%s", err);
	cm_log_stderr_only(1);
	cm_log_set_level(LOG_INFO);
}

static void
teardown(void)
{
	milter_env_close(&env);
	cfg_free(cfg);
}

START_TEST(recipients_normalised)
{
	struct message m;

	message_init(&m);
	ck_assert_int_eq(message_add_rcpt(&m, &env, "<Bob+News@Example.ORG>"), 0);
	ck_assert_int_eq(message_add_rcpt(&m, &env, "not-an-address"), 0);
	ck_assert_str_eq(m.rcpts[0].raw, "Bob+News@Example.ORG");
	ck_assert_str_eq(m.rcpts[0].norm, "bob@example.org");
	ck_assert_str_eq(m.rcpts[1].norm, "");
	ck_assert_ptr_nonnull(m.rcpts[1].invalid);
	ck_assert_int_eq(m.rcpts[1].consent.open, -1);
	message_free(&m);
}
END_TEST

START_TEST(strictest_and_mixed)
{
	struct message m;

	message_init(&m);
	message_add_rcpt(&m, &env, "<a@customer.example>");
	message_add_rcpt(&m, &env, "<b@corp.example>");	/* exempt domain: all */
	ck_assert_int_eq(message_lookup(&m, &env, CONSENT_OPEN), 0);
	ck_assert_int_eq(m.rcpts[0].bits, CONSENT_OPEN);
	ck_assert_int_eq(m.rcpts[1].bits, CONSENT_ALL);
	ck_assert_int_eq(m.consent, CONSENT_OPEN);
	ck_assert(m.mixed);
	message_free(&m);
}
END_TEST

START_TEST(store_down_strip)
{
	struct message m;
	struct milter_env e2 = env;

	/* No store at all stands for a store that does not answer. */
	e2.store = NULL;
	e2.have_key = 1;
	message_init(&m);
	message_add_rcpt(&m, &e2, "<a@customer.example>");
	strcpy(m.rcpts[0].key, "cm:c:00");
	ck_assert_int_eq(message_lookup(&m, &e2, -1), 0);
	ck_assert(m.store_failed);
	ck_assert_int_eq(m.consent, CONSENT_NONE);	/* OnStoreError strip */
	message_free(&m);
}
END_TEST

static const char body[] =
	"<p>Hi</p><img src=\"https://abc.r.eu-west-1.awstrack.me/I0/0102018c/x\" "
	"width=\"1\" height=\"1\">\r\n";

START_TEST(finish_rewrites_and_edits_headers)
{
	struct message m;
	struct eom_result r;
	size_t i;
	int added = 0, deleted = 0;

	message_init(&m);
	message_add_rcpt(&m, &env, "<a@customer.example>");
	message_add_header(&m, "Content-Type", " text/html");
	message_add_header(&m, "Disposition-Notification-To", " x@sender.example");
	ck_assert_int_eq(message_lookup(&m, &env, CONSENT_NONE), 0);
	ck_assert_int_eq(message_decide(&m, &env), 0);
	ck_assert_int_eq(m.dec.kind, DEC_PROCESS);
	ck_assert_int_eq(message_add_body(&m, &env, body, sizeof body - 1), 0);
	message_finish(&m, &env, NULL, NULL, &r);
	ck_assert_int_eq(r.action, ACT_REWRITTEN);
	ck_assert(r.body_changed);
	ck_assert_str_eq(r.body.data, "<p>Hi</p>\r\n");
	ck_assert_int_eq((int)r.counts.pixels, 1);
	for (i = 0; i < r.edits.n; i++) {
		if (r.edits.v[i].op == HDR_ADD && strcmp(r.edits.v[i].name, "X-Consent-Milter") == 0)
			added = strncmp(r.edits.v[i].value, " consent=none action=rewritten pixels=1 ", 40) == 0;
		if (r.edits.v[i].op == HDR_DELETE &&
		    strcmp(r.edits.v[i].name, "Disposition-Notification-To") == 0)
			deleted = 1;
	}
	ck_assert(added);
	ck_assert(deleted);
	message_result_free(&r);
	message_free(&m);
}
END_TEST

/* Quoted-printable written 60 characters a line (not the 76 we would
 * write): after an edit, only the lines around it are encoded anew, and
 * every other line of the part arrives as it was sent. Whole-part
 * re-encoding would rewrap the part and fail both comparisons. */
START_TEST(qp_lines_away_from_edits_kept)
{
	struct message m;
	struct eom_result r;
	struct buf html = BUF_INIT, qp = BUF_INIT, dec = BUF_INIT;
	size_t i, col = 0, pre = 0, suf = 0;
	int k;

	for (k = 0; k < 40; k++)
		buf_puts(&html, "<td style=\"padding:0 0 12px 0\">Some newsletter text</td>");
	buf_puts(&html, "<img src=\"https://r.eu-west-1.awstrack.me/I0/0102018c-1/x\" "
			"width=\"1\" height=\"1\">");
	for (k = 0; k < 40; k++)
		buf_puts(&html, "<td style=\"padding:0 0 12px 0\">Some newsletter text</td>");
	for (i = 0; i < html.len; i++) {
		if (col >= 60) {
			buf_puts(&qp, "=\r\n");
			col = 0;
		}
		if (html.data[i] == '=') {
			buf_puts(&qp, "=3D");
			col += 3;
		} else {
			buf_append(&qp, html.data + i, 1);
			col++;
		}
	}
	buf_puts(&qp, "\r\n");
	message_init(&m);
	message_add_rcpt(&m, &env, "<a@customer.example>");
	message_add_header(&m, "Content-Type", " text/html");
	message_add_header(&m, "Content-Transfer-Encoding", " quoted-printable");
	ck_assert_int_eq(message_lookup(&m, &env, CONSENT_NONE), 0);
	ck_assert_int_eq(message_decide(&m, &env), 0);
	ck_assert_int_eq(message_add_body(&m, &env, qp.data, qp.len), 0);
	message_finish(&m, &env, NULL, NULL, &r);
	ck_assert_int_eq(r.action, ACT_REWRITTEN);
	ck_assert_int_eq((int)r.counts.pixels, 1);
	/* the pixel is gone, the rest decodes as it was */
	ck_assert_int_eq(mime_decode_qp(r.body.data, r.body.len, &dec), 0);
	ck_assert_ptr_null(strstr(dec.data, "awstrack"));
	ck_assert_uint_eq(dec.len, html.len + 2 - strlen("<img src=\"https://r.eu-west-1.awstrack.me/"
							 "I0/0102018c-1/x\" width=\"1\" height=\"1\">"));
	/* the same bytes before and after a few lines around the edit */
	while (pre < r.body.len && pre < qp.len && r.body.data[pre] == qp.data[pre])
		pre++;
	while (suf < r.body.len - pre && suf < qp.len - pre &&
	       r.body.data[r.body.len - 1 - suf] == qp.data[qp.len - 1 - suf])
		suf++;
	ck_assert_uint_gt(pre, 30 * 63);
	ck_assert_uint_gt(suf, 30 * 63);
	ck_assert_uint_le(r.body.len - pre - suf, 4 * 63);
	message_result_free(&r);
	message_free(&m);
	buf_free(&html);
	buf_free(&qp);
	buf_free(&dec);
}
END_TEST

START_TEST(oversize_is_left_alone)
{
	struct cfg_error *e = NULL;
	struct message m;
	struct eom_result r;
	char big[2048];

	memset(big, 'x', sizeof big);
	ck_assert_int_eq(cfg_set(cfg, "MaxProcessSize", "1K", "(test)", 1, &e), 0);
	message_init(&m);
	message_add_rcpt(&m, &env, "<a@customer.example>");
	message_add_header(&m, "Content-Type", " text/html");
	message_lookup(&m, &env, CONSENT_NONE);
	message_decide(&m, &env);
	ck_assert_int_eq(message_add_body(&m, &env, big, sizeof big), 0);
	ck_assert(m.oversize);
	ck_assert_uint_eq(m.body.len, 0);	/* the buffer was given back */
	message_finish(&m, &env, NULL, NULL, &r);
	ck_assert_int_eq(r.action, ACT_OVERSIZE);
	ck_assert(!r.body_changed);
	ck_assert(!r.tempfail);	/* OnOversize accept */
	message_result_free(&r);
	message_free(&m);
}
END_TEST

START_TEST(dkim_signed_rewrite_says_so)
{
	struct message m;
	struct eom_result r;

	message_init(&m);
	message_add_rcpt(&m, &env, "<a@customer.example>");
	message_add_header(&m, "DKIM-Signature", " v=1; a=rsa-sha256; d=sender.example; b=x");
	message_add_header(&m, "Content-Type", " text/html");
	message_lookup(&m, &env, CONSENT_NONE);
	message_decide(&m, &env);	/* SignedMessages rewrite: the default */
	ck_assert_int_eq(m.dec.kind, DEC_PROCESS);
	message_add_body(&m, &env, body, sizeof body - 1);
	message_finish(&m, &env, NULL, NULL, &r);
	ck_assert_int_eq(r.action, ACT_REWRITTEN);
	ck_assert_ptr_nonnull(strstr(r.why, "invalidated"));
	message_result_free(&r);
	message_free(&m);
}
END_TEST

/* The log line is a contract: ops tools parse it. */
START_TEST(log_line_format)
{
	char path[] = "/tmp/cm-test-message.XXXXXX";
	char line[1024] = "";
	struct message m;
	struct eom_result r;
	FILE *fp;
	int fd = mkstemp(path), saved = dup(2);

	ck_assert_int_ge(fd, 0);
	message_init(&m);
	snprintf(m.queue_id, sizeof m.queue_id, "4XyZ1A2B3C");
	message_add_rcpt(&m, &env, "<a@customer.example>");
	message_add_header(&m, "Content-Type", " text/html");
	message_lookup(&m, &env, CONSENT_CLICK);
	message_decide(&m, &env);
	message_add_body(&m, &env, body, sizeof body - 1);
	fflush(stderr);
	dup2(fd, 2);
	message_finish(&m, &env, NULL, NULL, &r);
	message_log(&m, &env, &r);
	fflush(stderr);
	dup2(saved, 2);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fgets(line, sizeof line, fp));
	fclose(fp);
	unlink(path);
	/* Without a key the recipient shows as "-", never as an address. */
	ck_assert_msg(strncmp(line, "consent-milter: 4XyZ1A2B3C: consent=click rcpts=1 "
			      "action=rewritten pixels=1 resources=0 unwrapped=0 cleaned=0 "
			      "anonymized=0 unresolved=0 pii=0 bytes=", 120) == 0, "%s", line);
	ck_assert_msg(strstr(line, " ms=") && strstr(line, " to=-\n"), "%s", line);
	ck_assert_ptr_null(strstr(line, "customer.example"));
	message_result_free(&r);
	message_free(&m);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("message");
	TCase *t = tcase_create("message");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, recipients_normalised);
	tcase_add_test(t, strictest_and_mixed);
	tcase_add_test(t, store_down_strip);
	tcase_add_test(t, finish_rewrites_and_edits_headers);
	tcase_add_test(t, qp_lines_away_from_edits_kept);
	tcase_add_test(t, oversize_is_left_alone);
	tcase_add_test(t, dkim_signed_rewrite_says_so);
	tcase_add_test(t, log_line_format);
	suite_add_tcase(s, t);
	return cm_run_suite(s);
}
