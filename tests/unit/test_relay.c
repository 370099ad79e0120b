/* test_relay.c - relay tracking switches: exact edits per vendor and consent,
 * JSON merging, replaced enabling headers, malformed input, line lengths,
 * start-up validation. */
#include "build-config.h"
#include "tap.h"
#include "config.h"
#include "headers.h"
#include "log.h"
#include "relay.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE	0u
#define OPEN	RELAY_OPEN
#define CLICK	RELAY_CLICK
#define ALL	(RELAY_OPEN | RELAY_CLICK)

static char rendered[65536];

/* The edits as text, one per line: "ADD Name:value", "CHG Name#i:value",
 * "DEL Name#i" (values keep their leading space). */
static const char *
render(const struct hdr_edits *e)
{
	size_t i, o = 0;

	rendered[0] = '\0';
	for (i = 0; i < e->n; i++) {
		const struct hdr_edit *x = &e->v[i];

		switch (x->op) {
		case HDR_ADD:
			o += (size_t)snprintf(rendered + o, sizeof rendered - o, "ADD %s:%s\n",
					      x->name, x->value);
			break;
		case HDR_CHANGE:
			o += (size_t)snprintf(rendered + o, sizeof rendered - o, "CHG %s#%d:%s\n",
					      x->name, x->index, x->value);
			break;
		case HDR_DELETE:
			o += (size_t)snprintf(rendered + o, sizeof rendered - o, "DEL %s#%d\n",
					      x->name, x->index);
			break;
		}
		ck_assert_uint_lt(o, sizeof rendered);
	}
	return rendered;
}

/* Run relay_headers for one vendor (NULL-terminated list of one) over
 * HEADERS ("Name", "value", ... NULL) and return the rendered edits. */
static const char *
run_list(char **vendors, const char *ses, unsigned consent, const char *const *headers)
{
	struct header_list h = { 0 };
	struct hdr_edits e = { 0 };
	size_t i;

	for (i = 0; headers && headers[i]; i += 2)
		ck_assert_int_eq(headers_add(&h, headers[i], headers[i + 1]), 0);
	ck_assert_int_eq(relay_headers(vendors, ses, consent, &h, &e), 0);
	render(&e);
	hdr_edits_free(&e);
	headers_free(&h);
	return rendered;
}

static const char *
run(const char *vendor, unsigned consent, const char *const *headers)
{
	char *v[2] = { (char *)vendor, NULL };

	return run_list(v, "no-tracking", consent, headers);
}

/* ---- per vendor x consent, no relay headers present ------------------------ */

struct expect {
	const char *vendor;
	unsigned consent;
	const char *edits;
};

static const struct expect fresh[] = {
	{ "sendgrid", NONE, "ADD X-SMTPAPI: {\"filters\":{\"opentrack\":{\"settings\":{\"enable\":0}},"
			    "\"clicktrack\":{\"settings\":{\"enable\":0}}}}\n" },
	{ "sendgrid", OPEN, "ADD X-SMTPAPI: {\"filters\":{\"clicktrack\":{\"settings\":{\"enable\":0}}}}\n" },
	{ "sendgrid", CLICK, "ADD X-SMTPAPI: {\"filters\":{\"opentrack\":{\"settings\":{\"enable\":0}}}}\n" },
	{ "sendgrid", ALL, "" },
	{ "mailgun", NONE, "ADD X-Mailgun-Track-Opens: no\nADD X-Mailgun-Track-Clicks: no\n" },
	{ "mailgun", OPEN, "ADD X-Mailgun-Track-Clicks: no\n" },
	{ "mailgun", CLICK, "ADD X-Mailgun-Track-Opens: no\n" },
	{ "mailgun", ALL, "" },
	{ "postmark", NONE, "ADD X-PM-TrackOpens: false\nADD X-PM-TrackLinks: None\n" },
	{ "postmark", OPEN, "ADD X-PM-TrackLinks: None\n" },
	{ "postmark", CLICK, "ADD X-PM-TrackOpens: false\n" },
	{ "postmark", ALL, "" },
	{ "mailjet", NONE, "ADD X-Mailjet-TrackOpen: 0\nADD X-Mailjet-TrackClick: 0\n" },
	{ "mailjet", OPEN, "ADD X-Mailjet-TrackClick: 0\n" },
	{ "mailjet", CLICK, "ADD X-Mailjet-TrackOpen: 0\n" },
	{ "mailjet", ALL, "" },
	{ "sparkpost", NONE, "ADD X-MSYS-API: {\"options\":{\"open_tracking\":false,\"click_tracking\":false}}\n" },
	{ "sparkpost", OPEN, "ADD X-MSYS-API: {\"options\":{\"click_tracking\":false}}\n" },
	{ "sparkpost", CLICK, "ADD X-MSYS-API: {\"options\":{\"open_tracking\":false}}\n" },
	{ "sparkpost", ALL, "" },
	{ "ses", NONE, "ADD X-SES-CONFIGURATION-SET: no-tracking\n" },
	{ "ses", OPEN, "ADD X-SES-CONFIGURATION-SET: no-tracking\n" },
	{ "ses", CLICK, "ADD X-SES-CONFIGURATION-SET: no-tracking\n" },
	{ "ses", ALL, "" },
};

START_TEST(test_fresh)
{
	const struct expect *x = &fresh[_i];
	static const char *const unrelated[] = { "Subject", " hello", "From", " a@example.org", NULL };

	ck_assert_msg(strcmp(run(x->vendor, x->consent, unrelated), x->edits) == 0,
		      "%s consent %u:\n got: %s\nwant: %s", x->vendor, x->consent, rendered, x->edits);
}
END_TEST

/* ---- enabling headers already present --------------------------------------- */

static const struct expect present[] = {
	/* an enabling value is replaced; the consented purpose is left alone */
	{ "mailgun", OPEN, "CHG X-Mailgun-Track-Clicks#1: no\n" },
	{ "postmark", OPEN, "CHG X-PM-TrackLinks#1: None\n" },
	{ "mailjet", OPEN, "CHG X-Mailjet-TrackClick#1: 0\n" },
	{ "mailgun", CLICK, "CHG X-Mailgun-Track-Opens#1: no\n" },
	{ "postmark", CLICK, "CHG X-PM-TrackOpens#1: false\n" },
	{ "mailjet", CLICK, "CHG X-Mailjet-TrackOpen#1: 0\n" },
	{ "postmark", NONE, "CHG X-PM-TrackOpens#1: false\nCHG X-PM-TrackLinks#1: None\n" },
	{ "postmark", ALL, "" },
};

START_TEST(test_present)
{
	static const char *const hdrs[] = {
		"X-Mailgun-Track-Opens", " yes", "X-Mailgun-Track-Clicks", " htmlonly",
		"X-PM-TrackOpens", " true", "X-PM-TrackLinks", " HtmlAndText",
		"X-Mailjet-TrackOpen", " 1", "X-Mailjet-TrackClick", " 1", NULL,
	};
	const struct expect *x = &present[_i];

	ck_assert_msg(strcmp(run(x->vendor, x->consent, hdrs), x->edits) == 0,
		      "%s consent %u:\n got: %s\nwant: %s", x->vendor, x->consent, rendered, x->edits);
}
END_TEST

START_TEST(test_duplicates_and_already_off)
{
	static const char *const dup[] = {
		"X-Mailgun-Track-Opens", " no", "X-Mailgun-Track-Opens", " yes",
		"X-Mailgun-Track-Opens", " yes", NULL,
	};
	static const char *const off[] = {
		"X-PM-TrackOpens", " False", "X-PM-TrackLinks", "\n\tnone ", NULL,
	};

	/* first already "no": only the duplicates go, last one first */
	ck_assert_str_eq(run("mailgun", CLICK, dup),
			 "DEL X-Mailgun-Track-Opens#3\nDEL X-Mailgun-Track-Opens#2\n");
	/* case and folding do not matter for the comparison */
	ck_assert_str_eq(run("postmark", NONE, off), "");
}
END_TEST

START_TEST(test_mailgun_master)
{
	static const char *const yes[] = { "X-Mailgun-Track", " yes", NULL };
	static const char *const yes_and_clicks[] = {
		"X-Mailgun-Track", " yes", "X-Mailgun-Track-Clicks", " htmlonly", NULL,
	};
	static const char *const no[] = { "X-Mailgun-Track", " no", NULL };

	ck_assert_str_eq(run("mailgun", NONE, yes), "CHG X-Mailgun-Track#1: no\n"
			 "ADD X-Mailgun-Track-Opens: no\nADD X-Mailgun-Track-Clicks: no\n");
	/* one purpose off: the master goes, its effect on the other is kept */
	ck_assert_str_eq(run("mailgun", OPEN, yes), "DEL X-Mailgun-Track#1\n"
			 "ADD X-Mailgun-Track-Opens: yes\nADD X-Mailgun-Track-Clicks: no\n");
	ck_assert_str_eq(run("mailgun", CLICK, yes_and_clicks), "DEL X-Mailgun-Track#1\n"
			 "ADD X-Mailgun-Track-Opens: no\n");
	ck_assert_str_eq(run("mailgun", OPEN, no), "ADD X-Mailgun-Track-Clicks: no\n");
	ck_assert_str_eq(run("mailgun", ALL, yes), "");
}
END_TEST

START_TEST(test_ses)
{
	static const char *const theirs[] = { "X-SES-CONFIGURATION-SET", " marketing", NULL };
	static const char *const ours[] = { "X-SES-CONFIGURATION-SET", " no-tracking", NULL };
	static const char *const case_differs[] = { "X-SES-CONFIGURATION-SET", " No-Tracking", NULL };
	char *v[] = { "ses", NULL };

	ck_assert_str_eq(run("ses", OPEN, theirs), "CHG X-SES-CONFIGURATION-SET#1: no-tracking\n");
	ck_assert_str_eq(run("ses", NONE, ours), "");
	ck_assert_str_eq(run("ses", NONE, case_differs),
			 "CHG X-SES-CONFIGURATION-SET#1: no-tracking\n");
	ck_assert_str_eq(run_list(v, "", NONE, theirs), "");
	ck_assert_str_eq(run_list(v, NULL, NONE, theirs), "");
	ck_assert_str_eq(run_list(v, "bad name", NONE, theirs), "");
}
END_TEST

/* ---- JSON merging ---------------------------------------------------------- */

START_TEST(test_sendgrid_merge)
{
	static const char *const hdrs[] = {
		"X-SMTPAPI", " {\"category\":[\"news\"],\"filters\":"
			     "{\"opentrack\":{\"settings\":{\"enable\":1,\"replace\":\"%open%\"}}}}", NULL,
	};

	ck_assert_str_eq(run("sendgrid", NONE, hdrs),
			 "CHG X-SMTPAPI#1: {\"category\":[\"news\"],\"filters\":{\"opentrack\":"
			 "{\"settings\":{\"enable\":0,\"replace\":\"%open%\"}},"
			 "\"clicktrack\":{\"settings\":{\"enable\":0}}}}\n");
	/* only click off: opentrack stays enabled as the sender asked */
	ck_assert_str_eq(run("sendgrid", OPEN, hdrs),
			 "CHG X-SMTPAPI#1: {\"category\":[\"news\"],\"filters\":{\"opentrack\":"
			 "{\"settings\":{\"enable\":1,\"replace\":\"%open%\"}},"
			 "\"clicktrack\":{\"settings\":{\"enable\":0}}}}\n");
	ck_assert_str_eq(run("sendgrid", ALL, hdrs), "");
}
END_TEST

START_TEST(test_sendgrid_folded_and_already_off)
{
	/* folded by the sender's MTA between tokens; already off: no edit */
	static const char *const off[] = {
		"X-SMTPAPI", " {\"filters\": {\"opentrack\": {\"settings\": {\"enable\": 0}},\n"
			     "   \"clicktrack\": {\"settings\": {\"enable\": 0}}}}", NULL,
	};
	/* boolean false is not the documented 0: normalised */
	static const char *const boolean[] = {
		"X-SMTPAPI", " {\"filters\":{\"opentrack\":{\"settings\":{\"enable\":false}}}}", NULL,
	};
	/* "filters": null counts as absent */
	static const char *const null[] = { "X-SMTPAPI", " {\"unique_args\":{\"id\":\"7\"},\"filters\":null}", NULL };

	ck_assert_str_eq(run("sendgrid", NONE, off), "");
	ck_assert_str_eq(run("sendgrid", CLICK, boolean),
			 "CHG X-SMTPAPI#1: {\"filters\":{\"opentrack\":{\"settings\":{\"enable\":0}}}}\n");
	ck_assert_str_eq(run("sendgrid", CLICK, null),
			 "CHG X-SMTPAPI#1: {\"unique_args\":{\"id\":\"7\"},\"filters\":{\"opentrack\":"
			 "{\"settings\":{\"enable\":0}}}}\n");
}
END_TEST

START_TEST(test_sendgrid_every_occurrence)
{
	static const char *const two[] = {
		"X-SMTPAPI", " {\"category\":\"a\"}", "X-SMTPAPI", " {\"category\":\"b\"}", NULL,
	};

	ck_assert_str_eq(run("sendgrid", CLICK, two),
			 "CHG X-SMTPAPI#1: {\"category\":\"a\",\"filters\":{\"opentrack\":{\"settings\":{\"enable\":0}}}}\n"
			 "CHG X-SMTPAPI#2: {\"category\":\"b\",\"filters\":{\"opentrack\":{\"settings\":{\"enable\":0}}}}\n");
}
END_TEST

START_TEST(test_sparkpost_merge)
{
	static const char *const hdrs[] = {
		"X-MSYS-API", " {\"campaign_id\":\"spring\",\"options\":{\"open_tracking\":true,"
			      "\"transactional\":true},\"tags\":[\"caf\\u00e9\"]}", NULL,
	};
	/* raw UTF-8 from the sender comes out as \u escapes (vendor's rule) */
	static const char *const utf8[] = { "X-MSYS-API", " {\"campaign_id\":\"caf\xc3\xa9\"}", NULL };

	ck_assert_str_eq(run("sparkpost", NONE, hdrs),
			 "CHG X-MSYS-API#1: {\"campaign_id\":\"spring\",\"options\":{\"open_tracking\":false,"
			 "\"transactional\":true,\"click_tracking\":false},\"tags\":[\"caf\\u00E9\"]}\n");
	ck_assert_str_eq(run("sparkpost", OPEN, hdrs),
			 "CHG X-MSYS-API#1: {\"campaign_id\":\"spring\",\"options\":{\"open_tracking\":true,"
			 "\"transactional\":true,\"click_tracking\":false},\"tags\":[\"caf\\u00E9\"]}\n");
	ck_assert_str_eq(run("sparkpost", CLICK, utf8),
			 "CHG X-MSYS-API#1: {\"campaign_id\":\"caf\\u00E9\",\"options\":{\"open_tracking\":false}}\n");
}
END_TEST

START_TEST(test_malformed_json_left_alone)
{
	static const char *const bad[][3] = {
		{ "X-SMTPAPI", " {\"category\":[\"news\"", NULL },		/* truncated */
		{ "X-SMTPAPI", " [1,2,3]", NULL },				/* not an object */
		{ "X-SMTPAPI", " {\"filters\":\"all\"}", NULL },			/* wrong member type */
		{ "X-SMTPAPI", " {\"filters\":{\"clicktrack\":[]}}", NULL },
		{ "X-SMTPAPI", " {\"filters\":{\"opentrack\":{\"settings\":7}}}", NULL },
		{ "X-SMTPAPI", "", NULL },					/* empty */
		{ "X-SMTPAPI", " {\"a\":1} trailing", NULL },
		{ "X-MSYS-API", " {\"options\":true}", NULL },
		{ "X-MSYS-API", " not json at all", NULL },
		{ "X-MSYS-API", " \"just a string\"", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *vendor = strcmp(bad[i][0], "X-SMTPAPI") == 0 ? "sendgrid" : "sparkpost";

		ck_assert_msg(strcmp(run(vendor, NONE, bad[i]), "") == 0, "case %zu: %s", i, rendered);
	}
}
END_TEST

/* Every line of NAME:VALUE is at most RELAY_LINE_MAX octets; VALUE starts
 * with a space; the unfolded value parses as JSON. Returns the parsed JSON. */
static json_t *
check_lines(const char *name, const char *value)
{
	size_t line = strlen(name) + 1;
	const char *p;
	char *unfolded = malloc(strlen(value) + 1), *u = unfolded;
	json_t *j;

	ck_assert_ptr_nonnull(unfolded);
	ck_assert_int_eq(value[0], ' ');
	for (p = value; *p; p++) {
		if (*p == '\n') {
			ck_assert_msg(p[1] == ' ' || p[1] == '\t', "a line break that is not a fold");
			line = 0;
			continue;
		}
		ck_assert_msg(*p != '\r' && (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f,
			      "byte 0x%02x in a header value", (unsigned char)*p);
		*u++ = *p;
		ck_assert_msg(++line <= RELAY_LINE_MAX, "line longer than %d octets", RELAY_LINE_MAX);
	}
	*u = '\0';
	j = json_loads(unfolded, 0, NULL);
	free(unfolded);
	ck_assert_ptr_nonnull(j);
	return j;
}

START_TEST(test_long_header_folded)
{
	struct header_list h = { 0 };
	struct hdr_edits e = { 0 };
	char *vendors[] = { "sendgrid", NULL };
	json_t *in = json_object(), *to = json_array(), *out;
	char addr[64], *value;
	int i, lines = 0;
	const char *p;

	/* 200 recipients: about 5 KB of JSON the sender folded somewhere */
	for (i = 0; i < 200; i++) {
		snprintf(addr, sizeof addr, "recipient%03d@example.org", i);
		json_array_append_new(to, json_string(addr));
	}
	json_object_set_new(in, "to", to);
	value = json_dumps(in, JSON_COMPACT);
	ck_assert_ptr_nonnull(value);
	{
		/* fold it the way an MTA might: every 70 octets after a comma */
		size_t n = strlen(value), k, col = 0;
		char *folded = malloc(2 * n + 2), *f = folded;

		*f++ = ' ';
		for (k = 0; k < n; k++) {
			*f++ = value[k];
			if (value[k] == ',' && ++col % 3 == 0) {
				*f++ = '\n';
				*f++ = '\t';
			}
		}
		*f = '\0';
		ck_assert_int_eq(headers_add(&h, "X-SMTPAPI", folded), 0);
		free(folded);
	}
	ck_assert_int_eq(relay_headers(vendors, NULL, NONE, &h, &e), 0);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_int_eq(e.v[0].op, HDR_CHANGE);
	out = check_lines("X-SMTPAPI", e.v[0].value);
	for (p = e.v[0].value; *p; p++)
		lines += *p == '\n';
	ck_assert_int_gt(lines, 3);	/* > 4,000 octets need at least 5 lines */
	/* the recipients survived, tracking is off */
	ck_assert(json_equal(json_object_get(out, "to"), json_object_get(in, "to")));
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_object_get(
		json_object_get(out, "filters"), "clicktrack"), "settings"), "enable")), 0);
	json_decref(out);
	json_decref(in);
	free(value);
	hdr_edits_free(&e);
	headers_free(&h);
}
END_TEST

START_TEST(test_unbreakable_token_left_alone)
{
	/* a 1,200-octet string cannot be folded without changing it */
	char *v = malloc(1300);
	const char *hdrs[] = { "X-MSYS-API", v, NULL };
	size_t pre;

	ck_assert_ptr_nonnull(v);
	strcpy(v, " {\"metadata\":{\"note\":\"");
	pre = strlen(v);
	memset(v + pre, 'x', 1200);
	strcpy(v + pre + 1200, "\"}}");
	ck_assert_str_eq(run("sparkpost", NONE, hdrs), "");
	/* 990 octets still fit on a continuation line */
	strcpy(v, " {\"metadata\":{\"note\":\"");
	memset(v + pre, 'y', 990);
	strcpy(v + pre + 990, "\"}}");
	run("sparkpost", NONE, hdrs);
	ck_assert_msg(strncmp(rendered, "CHG X-MSYS-API#1:", 17) == 0, "%s", rendered);
	{
		struct header_list h = { 0 };
		struct hdr_edits e = { 0 };
		char *vendors[] = { "sparkpost", NULL };
		json_t *j;

		headers_add(&h, "X-MSYS-API", v);
		ck_assert_int_eq(relay_headers(vendors, NULL, NONE, &h, &e), 0);
		ck_assert_uint_eq(e.n, 1);
		j = check_lines("X-MSYS-API", e.v[0].value);
		ck_assert(json_is_false(json_object_get(json_object_get(j, "options"), "open_tracking")));
		json_decref(j);
		hdr_edits_free(&e);
		headers_free(&h);
	}
	free(v);
}
END_TEST

/* Garbage in X-SMTPAPI / X-MSYS-API never crashes and never yields a bad header. */
START_TEST(test_garbage_is_safe)
{
	static const char alphabet[] = "{}[]\",:\\ \n\t0123456789abcdefnulltruefalse\xc3\xa9";
	unsigned long seed = 12345;
	char v[256];
	int round;

	cm_log_set_level(LOG_ERR);	/* thousands of "left unchanged" warnings */
	for (round = 0; round < 3000; round++) {
		struct header_list h = { 0 };
		struct hdr_edits e = { 0 };
		char *vendors[] = { "sendgrid", "sparkpost", NULL };
		size_t n, k;

		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		n = (seed >> 33) % (sizeof v - 2);
		v[0] = ' ';
		for (k = 1; k <= n; k++) {
			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
			v[k] = alphabet[(seed >> 33) % (sizeof alphabet - 1)];
		}
		if (round % 2 == 0 && n > 2) {	/* often start like an object */
			v[1] = '{';
			v[n] = '}';
		}
		v[n + 1] = '\0';
		headers_add(&h, "X-SMTPAPI", v);
		headers_add(&h, "X-MSYS-API", v);
		ck_assert_int_eq(relay_headers(vendors, NULL, (unsigned)round & 3, &h, &e), 0);
		for (k = 0; k < e.n; k++) {
			ck_assert_int_ne(e.v[k].op, HDR_DELETE);
			json_decref(check_lines(e.v[k].name, e.v[k].value));
		}
		hdr_edits_free(&e);
		headers_free(&h);
	}
}
END_TEST

/* ---- whole message: the edits applied leave exactly one "off" per purpose -- */

START_TEST(test_apply_end_to_end)
{
	struct header_list h = { 0 };
	struct hdr_edits e = { 0 };
	char *vendors[] = { "MailGun", "postmark", "mailgun", "bogus", NULL };

	headers_add(&h, "From", " a@example.org");
	headers_add(&h, "X-Mailgun-Track-Clicks", " yes");
	headers_add(&h, "Subject", " hi");
	headers_add(&h, "X-Mailgun-Track-Clicks", " htmlonly");
	headers_add(&h, "X-PM-TrackOpens", " true");
	ck_assert_int_eq(relay_headers(vendors, NULL, OPEN, &h, &e), 0);
	ck_assert_str_eq(render(&e), "DEL X-Mailgun-Track-Clicks#2\nCHG X-Mailgun-Track-Clicks#1: no\n"
			 "ADD X-PM-TrackLinks: None\n");
	ck_assert_int_eq(hdr_edits_apply(&e, &h), 0);
	ck_assert_int_eq(headers_count(&h, "X-Mailgun-Track-Clicks"), 1);
	ck_assert_str_eq(headers_get(&h, "X-Mailgun-Track-Clicks", 1), " no");
	ck_assert_str_eq(headers_get(&h, "X-PM-TrackOpens", 1), " true");	/* consented */
	ck_assert_str_eq(headers_get(&h, "X-PM-TrackLinks", 1), " None");
	ck_assert_str_eq(headers_get(&h, "Subject", 1), " hi");
	ck_assert_uint_eq(h.n, 5);
	/* running again on the result changes nothing */
	hdr_edits_clear(&e);
	ck_assert_int_eq(relay_headers(vendors, NULL, OPEN, &h, &e), 0);
	ck_assert_uint_eq(e.n, 0);
	hdr_edits_free(&e);
	headers_free(&h);
}
END_TEST

START_TEST(test_no_vendors)
{
	static const char *const hdrs[] = { "X-PM-TrackOpens", " true", NULL };
	char *empty[] = { NULL };

	ck_assert_str_eq(run_list(NULL, NULL, NONE, hdrs), "");
	ck_assert_str_eq(run_list(empty, NULL, NONE, hdrs), "");
}
END_TEST

/* ---- names and start-up check ---------------------------------------------- */

START_TEST(test_vendor_valid)
{
	ck_assert(relay_vendor_valid("sendgrid"));
	ck_assert(relay_vendor_valid("SparkPost"));
	ck_assert(relay_vendor_valid("ses"));
	ck_assert(!relay_vendor_valid("mandrill"));
	ck_assert(!relay_vendor_valid(""));
	ck_assert(!relay_vendor_valid(NULL));
}
END_TEST

static int
check(const char *vendors, const char *set, char *err, size_t errlen)
{
	struct cfg_error *e = NULL;
	struct cm_config *cfg = cfg_defaults();
	int r;

	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cfg_set(cfg, "RelayTrackingHeaders", vendors, "test", 1, &e), 0);
	ck_assert_int_eq(cfg_set(cfg, "RelaySesConfigurationSet", set, "test", 2, &e), 0);
	err[0] = '\0';
	r = relay_check_config(cfg, err, errlen);
	cfg_free(cfg);
	return r;
}

START_TEST(test_check_config)
{
	char err[256], name[66];
	struct cm_config *cfg = cfg_defaults();

	ck_assert_int_eq(relay_check_config(cfg, err, sizeof err), 0);	/* defaults */
	cfg_free(cfg);
	ck_assert_int_eq(check("sendgrid, mailgun postmark,mailjet sparkpost ses", "no-track_1",
			       err, sizeof err), 0);
	ck_assert_int_eq(check("SendGrid", "", err, sizeof err), 0);
	ck_assert_int_eq(check("ses", "", err, sizeof err), 0);	/* warned, not refused */
	ck_assert_int_eq(check("sendgrid mandrill", "", err, sizeof err), -1);
	ck_assert_str_eq(err, "RelayTrackingHeaders: unknown vendor \"mandrill\" (known: "
			 "sendgrid, mailgun, postmark, mailjet, sparkpost, ses)");
	ck_assert_int_eq(check("ses", "has space", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "RelaySesConfigurationSet"));
	memset(name, 'a', 65);
	name[65] = '\0';
	ck_assert_int_eq(check("ses", name, err, sizeof err), -1);	/* 65 characters */
	name[64] = '\0';
	ck_assert_int_eq(check("ses", name, err, sizeof err), 0);	/* 64 */
}
END_TEST

static Suite *
relay_suite(void)
{
	Suite *s = suite_create("relay");
	TCase *tc;

	tc = tcase_create("fresh");
	tcase_add_loop_test(tc, test_fresh, 0, (int)(sizeof fresh / sizeof fresh[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("present");
	tcase_add_loop_test(tc, test_present, 0, (int)(sizeof present / sizeof present[0]));
	tcase_add_test(tc, test_duplicates_and_already_off);
	tcase_add_test(tc, test_mailgun_master);
	tcase_add_test(tc, test_ses);
	suite_add_tcase(s, tc);
	tc = tcase_create("json");
	tcase_add_test(tc, test_sendgrid_merge);
	tcase_add_test(tc, test_sendgrid_folded_and_already_off);
	tcase_add_test(tc, test_sendgrid_every_occurrence);
	tcase_add_test(tc, test_sparkpost_merge);
	tcase_add_test(tc, test_malformed_json_left_alone);
	tcase_add_test(tc, test_long_header_folded);
	tcase_add_test(tc, test_unbreakable_token_left_alone);
	tcase_add_test(tc, test_garbage_is_safe);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("misc");
	tcase_add_test(tc, test_apply_end_to_end);
	tcase_add_test(tc, test_no_vendors);
	tcase_add_test(tc, test_vendor_valid);
	tcase_add_test(tc, test_check_config);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	cm_log_stderr_only(1);
	return cm_run_suite(relay_suite());
}
