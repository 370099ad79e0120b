/* process.h - end-of-message body work: MIME walk + tracking removal.
 *
 * The one code path shared by the milter's end of message and by test mode
 * (consent-milter -t): given the headers, the body and the consent to enforce,
 * produce the new body (or "unchanged") and the counts. */
#ifndef CM_PROCESS_H
#define CM_PROCESS_H

#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "headers.h"
#include "mime.h"
#include "store.h"	/* CONSENT_* bits, before rewrite.h */
#include "rewrite.h"

/* Loaded once at start-up: tracker rules and derived settings. Read-only
 * afterwards, shared by every thread. */
struct engine;

struct engine *engine_open(const struct cm_config *cfg, char *err, size_t errlen);
void engine_close(struct engine *e);
size_t engine_rule_count(const struct engine *e);
/* The per-message rewrite policy for CONSENT, without recipients or
 * List-Unsubscribe URLs (process_body adds those). */
void engine_policy(const struct engine *e, unsigned consent, struct rewrite_policy *pol);

/* One recipient as the engine needs it: the address as given and its
 * normalised form (NULL if it could not be normalised), for PII detection. */
struct process_rcpt {
	const char *raw;
	const char *norm;
};

struct process_input {
	const struct header_list *hdrs;
	const char *body;
	size_t blen;
	const struct process_rcpt *rcpts;
	size_t nrcpt;
	unsigned consent;		/* bits enforced */
	int remove_amp;
	void (*progress)(void *arg);	/* called between parts (smfi_progress), may be NULL */
	void *progress_arg;
};

struct process_result {
	int status;			/* MIME_CHANGED, MIME_UNCHANGED or MIME_ERROR */
	struct buf body;		/* the new body when status == MIME_CHANGED */
	struct rewrite_counts counts;
	struct mime_stats mime;
	char why[256];			/* reason on error, or the first part-level problem */
};

/* Run MIME + rewrite over the body. Always fills R (free with
 * process_result_free); never fails in a way that loses the original. */
void process_body(const struct engine *e, const struct process_input *in,
		  struct process_result *r);
void process_result_free(struct process_result *r);

#endif
