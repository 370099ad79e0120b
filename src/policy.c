/* policy.c - scope, exemption and header edits: everything decided before the body.
 *
 * Deciding at end of headers is what keeps the milter cheap: a message that
 * needs nothing from its body is accepted right there and the MTA never
 * sends the body at all. */
#include "build-config.h"
#include "policy.h"
#include "mime.h"
#include "relay.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *
policy_consent_name(unsigned bits)
{
	static const char *const names[] = { "none", "open", "click", "all" };

	return names[bits & CONSENT_ALL];
}

/* Does DOMAIN equal PATTERN or end in "." PATTERN (case-insensitive)? */
static int
domain_matches(const char *domain, const char *pattern)
{
	size_t dl = strlen(domain), pl;

	if (*pattern == '@' || *pattern == '.')
		pattern++;
	pl = strlen(pattern);
	if (pl == 0 || dl < pl)
		return 0;
	if (strcasecmp(domain + dl - pl, pattern) != 0)
		return 0;
	return dl == pl || domain[dl - pl - 1] == '.';
}

/* SENDER against one ExemptSenders entry: "user@domain" exactly,
 * "@domain" or "domain" for the domain and its subdomains. */
static int
sender_matches(const char *sender, const char *entry)
{
	const char *at = strrchr(sender, '@');

	if (strchr(entry, '@') && entry[0] != '@')
		return strcasecmp(sender, entry) == 0;
	return at && domain_matches(at + 1, entry);
}

/* Strip "<" ">" and blanks around an envelope address into OUT. */
static void
bare_address(const char *in, char *out, size_t outlen)
{
	size_t n;

	while (*in == ' ' || *in == '<')
		in++;
	n = strcspn(in, "> ");
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, in, n);
	out[n] = '\0';
}

int
policy_in_scope(const struct cm_config *cfg, const char *sender,
		const char *daemon_name, int authenticated, const char **why)
{
	char addr[512];
	char *const *e;
	int applies = 0;

	for (e = cfg->apply_to; e && *e; e++) {
		if (strcasecmp(*e, "all") == 0)
			applies = 1;
		else if (strcasecmp(*e, "authenticated") == 0 && authenticated)
			applies = 1;
		else if (strncasecmp(*e, "daemon=", 7) == 0 && daemon_name &&
			 strcmp(*e + 7, daemon_name) == 0)
			applies = 1;
	}
	if (!applies) {
		*why = "not in ApplyTo";
		return 0;
	}
	bare_address(sender ? sender : "", addr, sizeof addr);
	for (e = cfg->exempt_senders; *addr && e && *e; e++) {
		if (sender_matches(addr, *e)) {
			*why = "ExemptSenders";
			return 0;
		}
	}
	return 1;
}

int
policy_recipient_exempt(const struct cm_config *cfg, const char *addr)
{
	const char *at = strrchr(addr, '@');
	char *const *e;

	for (e = cfg->exempt_recipient_domains; at && e && *e; e++)
		if (domain_matches(at + 1, *e))
			return 1;
	return 0;
}

/* Delete every occurrence of NAME, last first so indexes stay valid
 * whichever way the MTA counts them. */
static int
delete_all(const struct header_list *h, const char *name, struct hdr_edits *e)
{
	int i;

	for (i = headers_count(h, name); i > 0; i--)
		if (hdr_edits_add(e, HDR_DELETE, name, i, NULL) < 0)
			return -1;
	return 0;
}

static int
is_exempt(const struct cm_config *cfg, const struct header_list *h)
{
	char value[256];
	const char *v;
	int i;

	if (cfg->exempt_header[0] == '\0')
		return 0;
	for (i = 1; (v = headers_get(h, cfg->exempt_header, i)) != NULL; i++) {
		headers_value_trim(v, value, sizeof value);
		if (cfg_list_contains(cfg->exempt_values, value))
			return 1;
	}
	return 0;
}

int
policy_decide(const struct cm_config *cfg, const struct header_list *h,
	      unsigned consent, struct decision *d)
{
	char ctype[512];
	const char *ct;

	d->kind = DEC_ACCEPT;
	d->why = NULL;
	d->remove_amp = !(consent & CONSENT_OPEN);
	d->signed_msg = headers_count(h, "DKIM-Signature") > 0;

	/* The purpose header is internal to the organisation, whatever it says. */
	if (cfg->exempt_header[0] && delete_all(h, cfg->exempt_header, &d->edits) < 0)
		return -1;
	if (is_exempt(cfg, h)) {
		d->action = ACT_EXEMPT;
		d->why = "ExemptHeader";
		goto headers_only;
	}
	if (consent == CONSENT_ALL) {
		d->action = ACT_SKIPPED;
		goto headers_only;
	}
	if (d->signed_msg && cfg->signed_messages == SIGNED_LEAVE) {
		d->action = ACT_SKIPPED;
		d->why = "DKIM-signed, SignedMessages leave";
		goto headers_only;
	}
	/* Read receipts are individual open tracking too. */
	if (!(consent & CONSENT_OPEN) &&
	    (delete_all(h, "Disposition-Notification-To", &d->edits) < 0 ||
	     delete_all(h, "Return-Receipt-To", &d->edits) < 0))
		return -1;
	if (relay_headers(cfg->relay_tracking_headers, cfg->relay_ses_configuration_set,
			  consent, h, &d->edits) < 0)
		return -1;
	ct = headers_get(h, "Content-Type", 1);
	if (ct)
		headers_value_trim(ct, ctype, sizeof ctype);
	if (!mime_may_contain_text(ct ? ctype : NULL)) {
		d->action = ACT_UNCHANGED;
		d->why = "no text part";
		goto headers_only;
	}
	d->action = ACT_UNCHANGED;
	d->kind = DEC_PROCESS;
	return 0;

headers_only:
	d->kind = d->edits.n ? DEC_HEADERS_ONLY : DEC_ACCEPT;
	return 0;
}

void
policy_decision_free(struct decision *d)
{
	hdr_edits_free(&d->edits);
}

/* Append every <...> URL of VALUE to the growing array. */
static int
collect_urls(const char *value, char ***urls, size_t *n, size_t *cap)
{
	const char *p = value, *lt, *gt;

	while ((lt = strchr(p, '<')) != NULL && (gt = strchr(lt, '>')) != NULL) {
		char *u;

		if (*n + 2 > *cap) {
			size_t ncap = *cap ? *cap * 2 : 4;
			char **bigger = realloc(*urls, ncap * sizeof **urls);
			if (bigger == NULL)
				return -1;
			*urls = bigger;
			*cap = ncap;
		}
		u = strndup(lt + 1, (size_t)(gt - lt - 1));
		if (u == NULL)
			return -1;
		(*urls)[(*n)++] = u;
		(*urls)[*n] = NULL;
		p = gt + 1;
	}
	return 0;
}

char **
policy_unsubscribe_urls(const struct header_list *h, size_t *n)
{
	char **urls = NULL;
	size_t cap = 0;
	const char *v;
	int i;

	*n = 0;
	for (i = 1; (v = headers_get(h, "List-Unsubscribe", i)) != NULL; i++) {
		if (collect_urls(v, &urls, n, &cap) < 0) {
			policy_urls_free(urls);
			*n = 0;
			return NULL;
		}
	}
	return urls;
}

void
policy_urls_free(char **urls)
{
	char **u;

	for (u = urls; u && *u; u++)
		free(*u);
	free(urls);
}
