/* rules.h - the tracker rules file (etc/trackers.conf, see trackers.conf(5)).
 *
 * A rule says: URLs on these hosts (and, optionally, with this path) are a
 * tracking pixel, a tracked link, a link that only needs parameters stripped,
 * a functional link (unsubscribe, preferences, view online), or something
 * never to touch (security link wrappers). Link rules may carry an unwrap
 * recipe (recover the destination) or an anonymize recipe (overwrite the
 * per-recipient part with a fixed token).
 *
 * Threading: rules_load() and rules_add_own_domain() build the set; after
 * that a struct rules is read-only and every other function may be called
 * from any number of threads at once (PCRE2 match data is per thread).
 *
 * Input URLs are plain URLs: in HTML, decode character references first
 * (the caller re-escapes '&' as "&amp;" when it writes the result back).
 */
#ifndef CM_RULES_H
#define CM_RULES_H

#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "url.h"

/* Rule kinds, usable as a bit mask. */
enum rule_kind {
	RULE_PIXEL = 0x01,	/* open-tracking resource: remove (or anonymize) */
	RULE_LINK = 0x02,	/* tracked link: unwrap, else anonymize, else unresolved */
	RULE_PARAM = 0x04,	/* link whose tracking is only in parameters: strip them */
	RULE_FUNCTIONAL = 0x08,	/* unsubscribe / preferences / view online: keep working */
	RULE_EXEMPT = 0x10	/* security wrapper: never touch */
};
#define RULE_ANY	0x1f

/* Return codes of rules_unwrap / rules_anonymize (negative = failure). */
#define RULES_OK		0
#define RULES_E_NOMEM		-1
#define RULES_E_NORECIPE	-2	/* the rule has no unwrap (anonymize) recipe */
#define RULES_E_MISSING		-3	/* the segment / parameter / capture is absent */
#define RULES_E_DECODE		-4	/* a decoder rejected the value */
#define RULES_E_NOTURL		-5	/* the result is not an absolute http(s) URL */
#define RULES_E_PARSE		-6	/* the input URL could not be parsed */

struct rules;
struct rule;

/* Load PATH. Returns the rules, or NULL with *ERRORS listing every problem
 * ("FILE:LINE: message", free with cfg_errors_free). Never a partial set. */
struct rules *rules_load(const char *path, struct cfg_error **errors);
/* Same from a string (tests); NAME is used in error messages. */
struct rules *rules_load_string(const char *text, size_t len, const char *name,
				struct cfg_error **errors);
/* An empty rule set (only the built-in campaign class utm_*). */
struct rules *rules_new_empty(void);
void rules_free(struct rules *r);

/* The rule set the configuration asks for: TrackerRules loaded, then every
 * OwnTrackingDomains entry added. NULL with *ERRORS on any problem (a bad
 * OwnTrackingDomains entry is reported against the config file, line 0). */
struct rules *rules_from_config(const struct cm_config *cfg, struct cfg_error **errors);

/* Treat DOMAIN and its subdomains as the organisation's own tracker
 * (OwnTrackingDomains): links there are RULE_LINK, images RULE_PIXEL,
 * vendor "own". Call before sharing the set. 0, or -1 (bad name / OOM). */
int rules_add_own_domain(struct rules *r, const char *domain);

/* The first rule whose kind is in KIND_MASK and that matches U (a parsed
 * http(s) URL; other schemes never match). Order: the most specific host
 * entry first (exact host, then ever shorter suffixes), then "*" (any host)
 * rules; within one host entry, file order. NULL when none matches.
 * Typical masks: for a resource (img src, CSS url()) RULE_PIXEL |
 * RULE_FUNCTIONAL | RULE_EXEMPT; for a link RULE_LINK | RULE_PARAM |
 * RULE_FUNCTIONAL | RULE_EXEMPT. Always include RULE_EXEMPT so that a
 * security wrapper is recognised before anything else. cid:/data: URLs
 * (URL_F_NEVER_TOUCH) and non-http(s) schemes never match. */
const struct rule *rules_match(const struct rules *r, const struct url *u, unsigned kind_mask);
/* rules_match() with a caller's memory of the last hosts it looked up: a
 * message names few hosts (its CDN, its shop, one tracking host) many times
 * each, so their suffixes are hashed and probed once, and for a host with
 * no host rule at all only the "*" rules are tried. The result is always
 * rules_match()'s. Zero the struct before first use; it is tied to one rule
 * set and small enough to live on the stack or in a caller's state. */
#define RULES_MEMO_HOSTS	8
#define RULES_MEMO_HOST_MAX	62
#define RULES_MEMO_ENTRIES	3	/* host entries remembered per host */
struct rules_memo {
	const struct rules *rs;
	unsigned next;
	unsigned last;		/* the slot that answered last: tried first */
	struct {
		unsigned char len;	/* 0: empty */
		unsigned char nent;	/* host entries whose rules apply (0: none) */
		unsigned char mode[RULES_MEMO_ENTRIES];
		char host[RULES_MEMO_HOST_MAX];
		const void *ent[RULES_MEMO_ENTRIES];	/* longest suffix first */
	} h[RULES_MEMO_HOSTS];
};
const struct rule *rules_match_memo(const struct rules *r, const struct url *u,
				    unsigned kind_mask, struct rules_memo *m);
/* Convenience: parse URL[0..LEN) and match. NULL also for unparsable URLs. */
const struct rule *rules_match_str(const struct rules *r, const char *url, size_t len,
				   unsigned kind_mask);

/* Rule accessors. */
enum rule_kind rules_kind(const struct rule *rule);
const char *rules_vendor(const struct rule *rule);
int rules_line(const struct rule *rule);	/* line in the rules file (0: built in) */
int rules_has_unwrap(const struct rule *rule);
int rules_has_anonymize(const struct rule *rule);
const char *rules_kind_name(enum rule_kind kind);

/* Recover the destination of a tracked link URL[0..LEN) matched by RULE.
 * On RULES_OK, OUT (reset first) holds an absolute http(s) URL that passed
 * url_is_valid_absolute(); a space, '"', '<', '>' or '`' in the decoded value
 * is percent-encoded as a browser would, a control character fails it.
 * On failure OUT is reset; nothing is half-done. The result may still carry
 * personal parameters: strip them with url_strip_params(rules_strip_pred). */
int rules_unwrap(const struct rule *rule, const char *url, size_t len, struct buf *out);

/* The temporaries of rules_unwrap, kept by the caller between calls (one
 * per thread, like the OUT buffer) so that unwrapping allocates nothing
 * once they have grown: initialise with RULES_SCRATCH_INIT, free with
 * rules_scratch_free(). Their contents mean nothing to the caller. */
struct rules_scratch {
	struct buf a, b, tmp;
};
#define RULES_SCRATCH_INIT { BUF_INIT, BUF_INIT, BUF_INIT }
void rules_scratch_free(struct rules_scratch *scratch);

/* rules_unwrap() with the caller's SCRATCH (NULL: temporaries of its own).
 * URL must not live in OUT: without a decoder the URL is read while OUT is
 * written. */
int rules_unwrap_scratch(const struct rule *rule, const char *url, size_t len, struct buf *out,
			 struct rules_scratch *scratch);

/* rules_unwrap_scratch() of a URL the caller has parsed already: U is a
 * parse by url_parse() that returned 0 (other parses fail RULES_E_PARSE, as
 * rules_unwrap() fails them). The URL is not parsed again, and on RULES_OK
 * *DEST (may be NULL) holds the parse of OUT, as url_parse_valid_absolute()
 * gives it: a caller that goes on to judge the destination (nested
 * wrappers, parameters) need not parse it either. U's bytes must not live
 * in OUT; SCRATCH is required. Same results as rules_unwrap_scratch() of
 * the URL U was parsed from. */
int rules_unwrap_url(const struct rule *rule, const struct url *u, struct buf *out,
		     struct rules_scratch *scratch, struct url *dest);

/* Unwrap repeatedly (a wrapper inside a wrapper), at most MAX_DEPTH levels,
 * stopping at an exempt URL or one no link rule can unwrap. RULES_OK when at
 * least one level was unwrapped; *LEVELS (may be NULL) gets the count. */
int rules_unwrap_nested(const struct rules *r, const char *url, size_t len, int max_depth,
			struct buf *out, int *levels);

/* Rewrite URL[0..LEN) with the per-recipient parts named by RULE's anonymize
 * recipe replaced by its token. OUT (reset first) holds the result, which
 * passed url_is_valid_absolute(). */
int rules_anonymize(const struct rule *rule, const char *url, size_t len, struct buf *out);

/* Personal parameter names (global "personal" lines; case-insensitive;
 * a trailing '*' makes a prefix). 1 yes, 0 no. */
int rules_is_personal_param(const struct rules *r, const char *name, size_t len);
/* Campaign parameters (global "campaign" lines, built in: utm_*). */
int rules_is_campaign_param(const struct rules *r, const char *name, size_t len);
/* Extra parameters a RULE_PARAM (or any) rule names with strip=...: 1 / 0. */
int rules_rule_strips_param(const struct rule *rule, const char *name, size_t len);

/* A url_param_pred for url_strip_params(): removes personal parameters,
 * the matched rule's strip= parameters, and campaign parameters when
 * strip_campaign is set. */
struct rules_strip_ctx {
	const struct rules *rules;
	const struct rule *rule;	/* may be NULL */
	int strip_campaign;
};
int rules_strip_pred(const char *name, size_t len, void *ctx);

/* Numbers for logs and tests. */
size_t rules_count(const struct rules *r);

#endif
