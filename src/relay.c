/* relay.c - header edits that switch off a downstream ESP relay's own open
 * and click tracking for the purposes a message's recipients did not consent to.
 *
 * Where each header and value comes from (vendor documentation, checked
 * before shipping; see also the README and consent-milter.conf(5)):
 *
 *   SendGrid   "SMTP Filters" (docs.sendgrid.com/for-developers/sending-email/
 *              smtp-filters): filters "opentrack" and "clicktrack", parameter
 *              "enable" 0|1, in the X-SMTPAPI JSON header. "Building an
 *              X-SMTPAPI Header": keep lines under 1,000 characters, escape
 *              non-ASCII as \uXXXX, and a message whose X-SMTPAPI cannot be
 *              parsed is bounced to the MAIL FROM address.
 *   Mailgun    "Sending options" (documentation.mailgun.com/docs/mailgun/
 *              user-manual/sending-messages/pass-sending-options): SMTP headers
 *              X-Mailgun-Track-Opens yes|no, X-Mailgun-Track-Clicks
 *              yes|no|htmlonly (both override the domain setting), and
 *              X-Mailgun-Track yes|no for both at once.
 *   Postmark   "Tracking opens per email" (postmarkapp.com/developer/user-guide/
 *              tracking-opens/tracking-opens-per-email): X-PM-TrackOpens
 *              true|false; the server's own "Open tracking" setting cannot be
 *              overridden per message. "Tracking links" / support article
 *              1058: TrackLinks None|HtmlAndText|HtmlOnly|TextOnly, set per
 *              SMTP message with X-PM-TrackLinks.
 *   Mailjet    "SMTP relay: custom headers" (dev.mailjet.com/docs/smtp_relay/
 *              custom_headers): X-Mailjet-TrackOpen and X-Mailjet-TrackClick,
 *              0 disables, 1 enables, overriding the account setting.
 *   SparkPost  "SMTP API" (developers.sparkpost.com/api/smtp/): X-MSYS-API JSON
 *              options.open_tracking / options.click_tracking booleans; the
 *              header may be folded between JSON tokens; non-ASCII escaped as
 *              \uXXXX; invalid JSON makes SparkPost reject the message (550).
 *   Amazon SES "Specifying a configuration set when you send email"
 *              (docs.aws.amazon.com/ses/latest/dg/using-configuration-sets-in-
 *              email.html): X-SES-CONFIGURATION-SET: <set name>; set names are
 *              letters, digits, '_' and '-', at most 64 ("ConfigurationSet",
 *              SES API reference). Tracking is a property of the set, so one
 *              set switches off both purposes.
 *
 * Policy for a JSON header we cannot merge (not JSON, not an object, a member
 * of the wrong type): it is left as it is and logged. Both vendors document
 * that they bounce or reject such a message, so the relay tracks nobody with
 * it; replacing it instead would deliver a message whose sender-set fields
 * (recipient lists, categories, metadata) were silently dropped. */
#include "build-config.h"
#include "relay.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "log.h"

enum { P_OPEN, P_CLICK, P_N };	/* purpose index; bit is 1u << index */

struct relay_ctx {
	const struct header_list *hdrs;
	unsigned off;			/* purposes to switch off (RELAY_* bits) */
	const char *ses_set;
	struct hdr_edits *out;
};

/* A JSON vendor's merge: switch off the purposes in OFF inside ROOT.
 * 0 (and *CHANGED set when ROOT was modified), -1 out of memory, or 1 when
 * a member has a type the vendor does not document (*WHY says which). */
typedef int (*json_disable_fn)(json_t *root, unsigned off, int *changed, const char **why);

struct vendor {
	const char *name;
	int (*apply)(const struct vendor *, const struct relay_ctx *);
	const char *header[P_N];	/* per-purpose header (header[0] only: JSON, SES) */
	const char *off[P_N];		/* value that switches the purpose off */
	json_disable_fn disable;	/* JSON vendors */
};

static int apply_simple(const struct vendor *, const struct relay_ctx *);
static int apply_mailgun(const struct vendor *, const struct relay_ctx *);
static int apply_json(const struct vendor *, const struct relay_ctx *);
static int apply_ses(const struct vendor *, const struct relay_ctx *);
static int sendgrid_disable(json_t *, unsigned, int *, const char **);
static int sparkpost_disable(json_t *, unsigned, int *, const char **);

static const struct vendor vendors_known[] = {
	{ "sendgrid", apply_json, { "X-SMTPAPI", NULL }, { NULL, NULL }, sendgrid_disable },
	{ "mailgun", apply_mailgun, { "X-Mailgun-Track-Opens", "X-Mailgun-Track-Clicks" },
	  { "no", "no" }, NULL },
	{ "postmark", apply_simple, { "X-PM-TrackOpens", "X-PM-TrackLinks" },
	  { "false", "None" }, NULL },
	{ "mailjet", apply_simple, { "X-Mailjet-TrackOpen", "X-Mailjet-TrackClick" },
	  { "0", "0" }, NULL },
	{ "sparkpost", apply_json, { "X-MSYS-API", NULL }, { NULL, NULL }, sparkpost_disable },
	{ "ses", apply_ses, { "X-SES-CONFIGURATION-SET", NULL }, { NULL, NULL }, NULL },
};
#define N_VENDORS (sizeof vendors_known / sizeof vendors_known[0])

#define MAILGUN_MASTER "X-Mailgun-Track"

static const struct vendor *
vendor_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < N_VENDORS; i++)
		if (strcasecmp(vendors_known[i].name, name) == 0)
			return &vendors_known[i];
	return NULL;
}

int
relay_vendor_valid(const char *name)
{
	return vendor_find(name) != NULL;
}

/* SES configuration set names: [A-Za-z0-9_-]{1,64}. */
static int
ses_set_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return 0;
	for (; *s; s++, n++)
		if (!(isascii((unsigned char)*s) && (isalnum((unsigned char)*s) || *s == '_' || *s == '-')))
			return 0;
	return n <= 64;
}

/* ---- plain one-value headers ---------------------------------------------- */

/* The NTH occurrence of NAME, trimmed and unfolded, equals WANT?
 * Case-insensitive unless EXACT. Values longer than the buffer never match,
 * which only ever causes a (harmless) rewrite. */
static int
value_is(const struct header_list *h, const char *name, int nth, const char *want, int exact)
{
	const char *v = headers_get(h, name, nth);
	char t[128];

	if (v == NULL)
		return 0;
	headers_value_trim(v, t, sizeof t);
	return exact ? strcmp(t, want) == 0 : strcasecmp(t, want) == 0;
}

/* Delete occurrences N..FROM of NAME, highest first, so that the remaining
 * indexes stay right whether the MTA shifts them after a deletion or not. */
static int
delete_from(struct hdr_edits *out, const char *name, int n, int from)
{
	for (; n >= from; n--)
		if (hdr_edits_add(out, HDR_DELETE, name, n, NULL) < 0)
			return -1;
	return 0;
}

/* Make NAME occur exactly once with the value VALUE (no leading space in
 * VALUE; the stored value gets one, like every value the milter receives). */
static int
set_single(const struct relay_ctx *c, const char *name, const char *value, int exact)
{
	int n = headers_count(c->hdrs, name);
	char v[128];

	snprintf(v, sizeof v, " %s", value);
	if (n == 0)
		return hdr_edits_add(c->out, HDR_ADD, name, 0, v);
	if (delete_from(c->out, name, n, 2) < 0)
		return -1;
	if (value_is(c->hdrs, name, 1, value, exact))
		return 0;
	return hdr_edits_add(c->out, HDR_CHANGE, name, 1, v);
}

static int
apply_simple(const struct vendor *vd, const struct relay_ctx *c)
{
	int p;

	for (p = 0; p < P_N; p++)
		if ((c->off & (1u << p)) && set_single(c, vd->header[p], vd->off[p], 0) < 0)
			return -1;
	return 0;
}

/* X-Mailgun-Track switches both purposes at once, and Mailgun does not say
 * which wins when it disagrees with a per-purpose header. So when it enables
 * tracking: with both purposes off it is set to "no"; with one purpose off it
 * is removed and its effect on the consented purpose is kept by an explicit
 * per-purpose "yes" (unless the sender already set that header). */
static int
apply_mailgun(const struct vendor *vd, const struct relay_ctx *c)
{
	int n = headers_count(c->hdrs, MAILGUN_MASTER), i, p, all_no = 1;

	for (i = 1; i <= n; i++)
		if (!value_is(c->hdrs, MAILGUN_MASTER, i, "no", 0))
			all_no = 0;
	if (n > 0 && !all_no) {
		if (c->off == (RELAY_OPEN | RELAY_CLICK)) {
			if (set_single(c, MAILGUN_MASTER, "no", 0) < 0)
				return -1;
		} else {
			if (delete_from(c->out, MAILGUN_MASTER, n, 1) < 0)
				return -1;
			for (p = 0; p < P_N; p++)
				if (!(c->off & (1u << p)) && headers_count(c->hdrs, vd->header[p]) == 0 &&
				    hdr_edits_add(c->out, HDR_ADD, vd->header[p], 0, " yes") < 0)
					return -1;
		}
	}
	return apply_simple(vd, c);
}

static int
apply_ses(const struct vendor *vd, const struct relay_ctx *c)
{
	if (c->ses_set == NULL || *c->ses_set == '\0')
		return 0;	/* announced once at start-up by relay_check_config */
	if (!ses_set_valid(c->ses_set)) {
		cm_log(LOG_WARNING, "relay: RelaySesConfigurationSet is not a valid set name; "
		       "SES tracking not switched off");
		return 0;
	}
	/* Set names are case-sensitive: compare exactly. */
	return set_single(c, vd->header[0], c->ses_set, 1);
}

/* ---- JSON headers ---------------------------------------------------------- */

/* PARENT[KEY] as an object, created when absent or null. 0, -1 out of
 * memory, 1 when it exists with another type. */
static int
child_object(json_t *parent, const char *key, json_t **child, int *changed)
{
	json_t *o = json_object_get(parent, key);

	if (o != NULL && json_is_object(o)) {
		*child = o;
		return 0;
	}
	if (o != NULL && !json_is_null(o))
		return 1;
	o = json_object();
	if (o == NULL || json_object_set_new(parent, key, o) < 0)
		return -1;	/* set_new releases O on failure */
	*child = o;
	*changed = 1;
	return 0;
}

static int
sendgrid_disable(json_t *root, unsigned off, int *changed, const char **why)
{
	static const char *const filter[P_N] = { "opentrack", "clicktrack" };
	json_t *filters, *f, *settings, *en;
	int p, r;

	if ((r = child_object(root, "filters", &filters, changed)) != 0) {
		*why = "\"filters\" is not an object";
		return r;
	}
	for (p = 0; p < P_N; p++) {
		if (!(off & (1u << p)))
			continue;
		if ((r = child_object(filters, filter[p], &f, changed)) != 0 ||
		    (r = child_object(f, "settings", &settings, changed)) != 0) {
			*why = p == P_OPEN ? "\"filters.opentrack\" is not an object with object \"settings\""
					   : "\"filters.clicktrack\" is not an object with object \"settings\"";
			return r;
		}
		en = json_object_get(settings, "enable");
		if (en != NULL && json_is_integer(en) && json_integer_value(en) == 0)
			continue;	/* already off */
		if (json_object_set_new(settings, "enable", json_integer(0)) < 0)
			return -1;
		*changed = 1;
	}
	return 0;
}

static int
sparkpost_disable(json_t *root, unsigned off, int *changed, const char **why)
{
	static const char *const option[P_N] = { "open_tracking", "click_tracking" };
	json_t *options;
	int p, r;

	if ((r = child_object(root, "options", &options, changed)) != 0) {
		*why = "\"options\" is not an object";
		return r;
	}
	for (p = 0; p < P_N; p++) {
		if (!(off & (1u << p)) || json_is_false(json_object_get(options, option[p])))
			continue;
		if (json_object_set_new(options, option[p], json_false()) < 0)
			return -1;
		*changed = 1;
	}
	return 0;
}

/* RFC 5322 unfolding: drop each CRLF (or bare LF, as the milter stores folds)
 * that is followed by white space; keep the white space. */
static int
unfold(const char *v, struct buf *out)
{
	const char *p;

	buf_reset(out);
	for (p = v; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
			p++;
			continue;
		}
		if (p[0] == '\n' && (p[1] == ' ' || p[1] == '\t'))
			continue;
		if (buf_append(out, p, 1) < 0)
			return -1;
	}
	return buf_append(out, "", 0);
}

/* Write " JSON" as the value of header NAME into OUT, folding ("\n ") after
 * a ',' ':' '{' or '[' outside strings wherever a line would grow past
 * RELAY_LINE_MAX octets (the first line counts "NAME:"). Folding between JSON
 * tokens only adds white space, which JSON ignores. 0, -1 out of memory, 1
 * when a single token (a long string) cannot fit on a line. */
static int
fold_json(const char *name, const char *json, struct buf *out)
{
	size_t line = strlen(name) + 2;	/* "Name: " */
	const char *seg = json, *p = json;
	int in_str = 0, esc = 0;

	buf_reset(out);
	if (buf_append(out, " ", 1) < 0)
		return -1;
	for (;; p++) {
		int brk = *p == '\0';
		size_t n;

		if (!brk) {
			if (in_str) {
				if (esc)
					esc = 0;
				else if (*p == '\\')
					esc = 1;
				else if (*p == '"')
					in_str = 0;
				continue;
			}
			if (*p == '"') {
				in_str = 1;
				continue;
			}
			if (*p != ',' && *p != ':' && *p != '{' && *p != '[')
				continue;
		}
		n = (size_t)(p - seg) + (brk ? 0 : 1);	/* segment ends after the break char */
		if (line + n > RELAY_LINE_MAX) {
			if (1 + n > RELAY_LINE_MAX)
				return 1;
			if (buf_append(out, "\n ", 2) < 0)
				return -1;
			line = 1;
		}
		if (buf_append(out, seg, n) < 0)
			return -1;
		line += n;
		if (brk)
			return 0;
		seg = p + 1;
	}
}

/* Serialise ROOT compactly (ASCII only, member order kept) and fold it. */
static int
json_value(const char *name, json_t *root, struct buf *out)
{
	char *s = json_dumps(root, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	int r;

	if (s == NULL)
		return -1;
	r = fold_json(name, s, out);
	free(s);
	return r;
}

static int
json_out_of_memory(const json_error_t *e)
{
#if JANSSON_VERSION_HEX >= 0x020b00
	return json_error_code(e) == json_error_out_of_memory;
#else
	return strstr(e->text, "out of memory") != NULL;
#endif
}

/* Merge into occurrence NTH of the vendor's header. 0 or -1. */
static int
merge_one(const struct vendor *vd, const struct relay_ctx *c, int nth, struct buf *tmp)
{
	const char *name = vd->header[0], *why = NULL;
	json_error_t err;
	json_t *root;
	int changed = 0, r;

	if (unfold(headers_get(c->hdrs, name, nth), tmp) < 0)
		return -1;
	/* The value itself is not logged: it may hold recipient addresses. */
	root = json_loadb(tmp->data, tmp->len, JSON_ALLOW_NUL, &err);
	if (root == NULL) {
		if (json_out_of_memory(&err))
			return -1;
		cm_log(LOG_WARNING, "relay: %s: %s #%d is not valid JSON (column %d); left "
		       "unchanged (the relay refuses such a message)", vd->name, name, nth, err.column);
		return 0;
	}
	if (!json_is_object(root)) {
		why = "not a JSON object";
		r = 1;
	} else {
		r = vd->disable(root, c->off, &changed, &why);
	}
	if (r == 0 && changed) {
		r = json_value(name, root, tmp);
		if (r == 0)
			r = hdr_edits_add(c->out, HDR_CHANGE, name, nth, tmp->data);
		else if (r == 1)
			why = "a JSON string too long for one line";
	}
	json_decref(root);
	if (r == 1) {
		cm_log(LOG_WARNING, "relay: %s: %s #%d: %s; left unchanged, %s tracking may stay on",
		       vd->name, name, nth, why, c->off == RELAY_OPEN ? "open" :
		       c->off == RELAY_CLICK ? "click" : "open and click");
		return 0;
	}
	return r;
}

static int
apply_json(const struct vendor *vd, const struct relay_ctx *c)
{
	struct buf tmp = BUF_INIT;
	const char *why = NULL;
	int n = headers_count(c->hdrs, vd->header[0]), i, r = 0, changed = 0;

	if (n == 0) {
		json_t *root = json_object();

		if (root == NULL)
			return -1;
		r = vd->disable(root, c->off, &changed, &why);
		if (r == 0)
			r = json_value(vd->header[0], root, &tmp);
		if (r == 0)
			r = hdr_edits_add(c->out, HDR_ADD, vd->header[0], 0, tmp.data);
		json_decref(root);
		buf_free(&tmp);
		return r == 0 ? 0 : -1;	/* a fresh object cannot be malformed or long */
	}
	/* Every occurrence on its own: whichever one the relay reads, it says
	 * "off", and nothing the sender put there is dropped. */
	for (i = 1; i <= n && r == 0; i++)
		r = merge_one(vd, c, i, &tmp);
	buf_free(&tmp);
	return r;
}

/* ---- entry points ---------------------------------------------------------- */

int
relay_headers(char *const *vendors, const char *ses_config_set, unsigned consent,
	      const struct header_list *hdrs, struct hdr_edits *out)
{
	struct relay_ctx c = { hdrs, ~consent & (RELAY_OPEN | RELAY_CLICK), ses_config_set, out };
	unsigned done = 0;

	if (vendors == NULL || c.off == 0)
		return 0;
	for (; *vendors; vendors++) {
		const struct vendor *vd = vendor_find(*vendors);
		unsigned bit;

		if (vd == NULL)
			continue;	/* rejected at start-up by relay_check_config */
		bit = 1u << (vd - vendors_known);
		if (done & bit)
			continue;	/* listed twice */
		done |= bit;
		if (vd->apply(vd, &c) < 0)
			return -1;
	}
	return 0;
}

int
relay_check_config(const struct cm_config *cfg, char *err, size_t errlen)
{
	char *const *v;
	const char *set = cfg->relay_ses_configuration_set;
	int ses = 0;

	for (v = cfg->relay_tracking_headers; v && *v; v++) {
		if (!relay_vendor_valid(*v)) {
			snprintf(err, errlen, "RelayTrackingHeaders: unknown vendor \"%s\" (known: "
				 "sendgrid, mailgun, postmark, mailjet, sparkpost, ses)", *v);
			return -1;
		}
		if (strcasecmp(*v, "ses") == 0)
			ses = 1;
	}
	if (set != NULL && *set != '\0' && !ses_set_valid(set)) {
		snprintf(err, errlen, "RelaySesConfigurationSet: \"%s\" is not a configuration set "
			 "name (letters, digits, '_' and '-', at most 64)", set);
		return -1;
	}
	if (ses && (set == NULL || *set == '\0'))
		cm_log(LOG_WARNING, "RelayTrackingHeaders lists ses but RelaySesConfigurationSet is "
		       "empty: SES open/click tracking will not be switched off");
	else if (!ses && set != NULL && *set != '\0')
		cm_log(LOG_NOTICE, "RelaySesConfigurationSet is set but RelayTrackingHeaders does "
		       "not list ses: it is not used");
	return 0;
}
