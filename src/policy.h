/* policy.h - the per-message decisions that do not need the body.
 *
 * Scope (is this mail ours to enforce at all?), exemption, the consent class
 * of a recipient set, and the header edits that follow from the consent.
 * Used at end of headers by the milter and by test mode, so both take the
 * same decision from the same inputs. */
#ifndef CM_POLICY_H
#define CM_POLICY_H

#include "config.h"
#include "headers.h"
#include "stats.h"

enum mixed_mode { MIXED_STRICTEST = 0, MIXED_SPLIT = 1 };
enum oversize_mode { OVERSIZE_ACCEPT = 0, OVERSIZE_TEMPFAIL = 1 };
enum signed_mode { SIGNED_REWRITE = 0, SIGNED_LEAVE = 1 };

/* What the milter does after the end of headers. */
enum decision_kind {
	DEC_ACCEPT,		/* nothing to do: accept, the body is never sent */
	DEC_HEADERS_ONLY,	/* header edits at end of message; skip the body */
	DEC_PROCESS		/* buffer the body and rewrite it at end of message */
};

struct decision {
	enum decision_kind kind;
	enum stats_action action;	/* what the log line says if nothing else happens */
	const char *why;		/* short reason for the log, or NULL */
	int remove_amp;			/* drop text/x-amp-html alternatives */
	int signed_msg;			/* carries DKIM-Signature (rewrite invalidates it) */
	struct hdr_edits edits;
};

/* Name of a consent class for logs: none, open, click, all. */
const char *policy_consent_name(unsigned bits);

/* Is mail from SENDER, received by DAEMON_NAME (Postfix {daemon_name}, may be
 * NULL) with AUTHENTICATED (SMTP AUTH succeeded), ours to enforce? ApplyTo and
 * ExemptSenders. *WHY gets a short reason when not. */
int policy_in_scope(const struct cm_config *cfg, const char *sender,
		    const char *daemon_name, int authenticated, const char **why);

/* Is normalised address ADDR in ExemptRecipientDomains (or a subdomain)? */
int policy_recipient_exempt(const struct cm_config *cfg, const char *addr);

/* Fill D for a message with headers H whose recipients' enforced consent is
 * CONSENT (bits). D->edits must be empty (zero-initialised) on entry.
 * 0, or -1 (out of memory: the caller tempfails or accepts per config). */
int policy_decide(const struct cm_config *cfg, const struct header_list *h,
		  unsigned consent, struct decision *d);
void policy_decision_free(struct decision *d);

/* The URLs of the List-Unsubscribe header(s) ("<url>, <url>"), which
 * functional links are compared against. Returns a NULL-terminated array
 * to free with policy_urls_free(), or NULL when there is none. */
char **policy_unsubscribe_urls(const struct header_list *h, size_t *n);
void policy_urls_free(char **urls);

#endif
