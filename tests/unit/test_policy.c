/* test_policy.c - scope, exemption, consent names and header edits. */
#include "build-config.h"
#include "tap.h"
#include "policy.h"
#include "store.h"

#include <string.h>

static struct cm_config *
config(const char *key, const char *value)
{
	struct cfg_error *e = NULL;
	struct cm_config *c = cfg_defaults();

	ck_assert_ptr_nonnull(c);
	if (key)
		ck_assert_int_eq(cfg_set(c, key, value, "(test)", 1, &e), 0);
	return c;
}

START_TEST(consent_names)
{
	ck_assert_str_eq(policy_consent_name(CONSENT_NONE), "none");
	ck_assert_str_eq(policy_consent_name(CONSENT_OPEN), "open");
	ck_assert_str_eq(policy_consent_name(CONSENT_CLICK), "click");
	ck_assert_str_eq(policy_consent_name(CONSENT_ALL), "all");
}
END_TEST

START_TEST(scope_apply_to)
{
	struct cm_config *c = config("ApplyTo", "authenticated, daemon=submission");
	const char *why = NULL;

	ck_assert(!policy_in_scope(c, "<a@x.example>", "smtpd", 0, &why));
	ck_assert_str_eq(why, "not in ApplyTo");
	ck_assert(policy_in_scope(c, "<a@x.example>", "submission", 0, &why));
	ck_assert(policy_in_scope(c, "<a@x.example>", NULL, 1, &why));
	cfg_free(c);
	c = config(NULL, NULL);	/* default: all */
	ck_assert(policy_in_scope(c, "<>", NULL, 0, &why));
	cfg_free(c);
}
END_TEST

START_TEST(scope_exempt_senders)
{
	struct cm_config *c = config("ExemptSenders", "alerts@corp.example, @hr.example, it.example");
	const char *why = NULL;

	ck_assert(!policy_in_scope(c, "<Alerts@Corp.Example>", NULL, 0, &why));
	ck_assert_str_eq(why, "ExemptSenders");
	ck_assert(policy_in_scope(c, "<other@corp.example>", NULL, 0, &why));
	ck_assert(!policy_in_scope(c, "<x@hr.example>", NULL, 0, &why));
	ck_assert(!policy_in_scope(c, "<x@mail.it.example>", NULL, 0, &why));
	ck_assert(policy_in_scope(c, "<x@notit.example>", NULL, 0, &why));	/* not a subdomain */
	ck_assert(policy_in_scope(c, "<>", NULL, 0, &why));
	cfg_free(c);
}
END_TEST

START_TEST(recipient_domains)
{
	struct cm_config *c = config("ExemptRecipientDomains", "corp.example");

	ck_assert(policy_recipient_exempt(c, "bob@corp.example"));
	ck_assert(policy_recipient_exempt(c, "bob@eu.corp.example"));
	ck_assert(!policy_recipient_exempt(c, "bob@evilcorp.example"));
	ck_assert(!policy_recipient_exempt(c, "no-at-sign"));
	cfg_free(c);
}
END_TEST

/* Headers of a typical newsletter; extra fields appended per test. */
static void
newsletter(struct header_list *h)
{
	headers_add(h, "From", " news@sender.example");
	headers_add(h, "Content-Type", " multipart/alternative; boundary=\"b\"");
	headers_add(h, "List-Unsubscribe", " <mailto:u@sender.example>, <https://sender.example/u?id=1>");
}

static int
has_edit(const struct decision *d, enum hdr_op op, const char *name, int index)
{
	size_t i;

	for (i = 0; i < d->edits.n; i++)
		if (d->edits.v[i].op == op && strcmp(d->edits.v[i].name, name) == 0 &&
		    d->edits.v[i].index == index)
			return 1;
	return 0;
}

START_TEST(decide_none_processes_and_strips_receipts)
{
	struct cm_config *c = config(NULL, NULL);
	struct header_list h = { 0 };
	struct decision d = { 0 };

	newsletter(&h);
	headers_add(&h, "Disposition-Notification-To", " news@sender.example");
	headers_add(&h, "Return-Receipt-To", " news@sender.example");
	ck_assert_int_eq(policy_decide(c, &h, CONSENT_NONE, &d), 0);
	ck_assert_int_eq(d.kind, DEC_PROCESS);
	ck_assert(d.remove_amp);
	ck_assert(has_edit(&d, HDR_DELETE, "Disposition-Notification-To", 1));
	ck_assert(has_edit(&d, HDR_DELETE, "Return-Receipt-To", 1));
	policy_decision_free(&d);
	headers_free(&h);
	cfg_free(c);
}
END_TEST

START_TEST(decide_open_keeps_receipts)
{
	struct cm_config *c = config(NULL, NULL);
	struct header_list h = { 0 };
	struct decision d = { 0 };

	newsletter(&h);
	headers_add(&h, "Disposition-Notification-To", " news@sender.example");
	ck_assert_int_eq(policy_decide(c, &h, CONSENT_OPEN, &d), 0);
	ck_assert_int_eq(d.kind, DEC_PROCESS);
	ck_assert(!d.remove_amp);
	ck_assert_int_eq((int)d.edits.n, 0);
	policy_decision_free(&d);
	headers_free(&h);
	cfg_free(c);
}
END_TEST

START_TEST(decide_all_accepts_without_body)
{
	struct cm_config *c = config(NULL, NULL);
	struct header_list h = { 0 };
	struct decision d = { 0 };

	newsletter(&h);
	ck_assert_int_eq(policy_decide(c, &h, CONSENT_ALL, &d), 0);
	ck_assert_int_eq(d.kind, DEC_ACCEPT);
	ck_assert_int_eq(d.action, ACT_SKIPPED);
	policy_decision_free(&d);
	/* ... but the internal purpose header still has to go. */
	memset(&d, 0, sizeof d);
	headers_add(&h, "X-Tracking-Purpose", " newsletter");
	ck_assert_int_eq(policy_decide(c, &h, CONSENT_ALL, &d), 0);
	ck_assert_int_eq(d.kind, DEC_HEADERS_ONLY);
	ck_assert(has_edit(&d, HDR_DELETE, "X-Tracking-Purpose", 1));
	policy_decision_free(&d);
	headers_free(&h);
	cfg_free(c);
}
END_TEST

START_TEST(decide_exempt_header)
{
	struct cm_config *c = config(NULL, NULL);
	struct header_list h = { 0 };
	struct decision d = { 0 };

	newsletter(&h);
	headers_add(&h, "X-Tracking-Purpose", "  Security ");
	headers_add(&h, "x-tracking-purpose", " other");
	ck_assert_int_eq(policy_decide(c, &h, CONSENT_NONE, &d), 0);
	ck_assert_int_eq(d.kind, DEC_HEADERS_ONLY);
	ck_assert_int_eq(d.action, ACT_EXEMPT);
	/* Both occurrences, the last first. */
	ck_assert_int_eq((int)d.edits.n, 2);
	ck_assert_int_eq(d.edits.v[0].index, 2);
	ck_assert_int_eq(d.edits.v[1].index, 1);
	policy_decision_free(&d);
	headers_free(&h);
	cfg_free(c);
}
END_TEST

START_TEST(decide_signed_leave_and_no_text)
{
	struct cm_config *c = config("SignedMessages", "leave");
	struct header_list h = { 0 };
	struct decision d = { 0 };

	newsletter(&h);
	headers_add(&h, "DKIM-Signature", " v=1; d=sender.example");
	ck_assert_int_eq(policy_decide(c, &h, CONSENT_NONE, &d), 0);
	ck_assert_int_eq(d.kind, DEC_ACCEPT);
	ck_assert(d.signed_msg);
	ck_assert_str_eq(d.why, "DKIM-signed, SignedMessages leave");
	policy_decision_free(&d);
	headers_free(&h);
	cfg_free(c);

	c = config(NULL, NULL);
	memset(&d, 0, sizeof d);
	headers_add(&h, "Content-Type", " image/png");
	ck_assert_int_eq(policy_decide(c, &h, CONSENT_NONE, &d), 0);
	ck_assert_int_eq(d.kind, DEC_ACCEPT);
	ck_assert_str_eq(d.why, "no text part");
	policy_decision_free(&d);
	headers_free(&h);
	cfg_free(c);
}
END_TEST

START_TEST(decide_adds_relay_headers)
{
	struct cm_config *c = config("RelayTrackingHeaders", "mailgun");
	struct header_list h = { 0 };
	struct decision d = { 0 };

	headers_add(&h, "Content-Type", " image/png");	/* no body work needed */
	ck_assert_int_eq(policy_decide(c, &h, CONSENT_OPEN, &d), 0);
	ck_assert_int_eq(d.kind, DEC_HEADERS_ONLY);
	ck_assert(has_edit(&d, HDR_ADD, "X-Mailgun-Track-Clicks", 0));
	ck_assert(!has_edit(&d, HDR_ADD, "X-Mailgun-Track-Opens", 0));
	policy_decision_free(&d);
	headers_free(&h);
	cfg_free(c);
}
END_TEST

START_TEST(unsubscribe_urls)
{
	struct header_list h = { 0 };
	char **u;
	size_t n;

	ck_assert_ptr_null(policy_unsubscribe_urls(&h, &n));
	ck_assert_int_eq((int)n, 0);
	newsletter(&h);
	headers_add(&h, "List-Unsubscribe", " <https://second.example/x>");
	u = policy_unsubscribe_urls(&h, &n);
	ck_assert_int_eq((int)n, 3);
	ck_assert_str_eq(u[0], "mailto:u@sender.example");
	ck_assert_str_eq(u[1], "https://sender.example/u?id=1");
	ck_assert_str_eq(u[2], "https://second.example/x");
	ck_assert_ptr_null(u[3]);
	policy_urls_free(u);
	headers_free(&h);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("policy");
	TCase *t = tcase_create("policy");

	tcase_add_test(t, consent_names);
	tcase_add_test(t, scope_apply_to);
	tcase_add_test(t, scope_exempt_senders);
	tcase_add_test(t, recipient_domains);
	tcase_add_test(t, decide_none_processes_and_strips_receipts);
	tcase_add_test(t, decide_open_keeps_receipts);
	tcase_add_test(t, decide_all_accepts_without_body);
	tcase_add_test(t, decide_exempt_header);
	tcase_add_test(t, decide_signed_leave_and_no_text);
	tcase_add_test(t, decide_adds_relay_headers);
	tcase_add_test(t, unsubscribe_urls);
	suite_add_tcase(s, t);
	return cm_run_suite(s);
}
