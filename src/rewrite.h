/* rewrite.h - apply the per-message tracking policy to one decoded text part.
 *
 * The engine walks an HTML part with the html.c tokenizer (or a text/plain
 * part with the text URL finder), judges every resource and link URL with
 * rules.c, pii.c and the invisibility heuristics, and collects a list of
 * edits (start, end, replacement) over the input. The edits are applied once
 * at the end: bytes outside the edited spans are never rewritten.
 *
 * Threading: no global mutable state; the policy (rules, pii set) is shared
 * read-only, everything else lives in a per-call context.
 */
#ifndef CM_REWRITE_H
#define CM_REWRITE_H

#include <stddef.h>

#include "buf.h"

#ifndef CONSENT_OPEN
#define CONSENT_OPEN	1	/* pixels: individual open measurement */
#endif
#ifndef CONSENT_CLICK
#define CONSENT_CLICK	2	/* link tracking */
#endif

struct rules;
struct pii_set;

struct rewrite_counts {
	unsigned pixels_removed;	/* img / input / amp-img / amp-pixel tags removed */
	unsigned resources_removed;	/* other remote content: CSS url(), attributes,
					 * script, meta refresh, link prefetch... */
	unsigned links_unwrapped;	/* tracked links replaced by their destination */
	unsigned links_cleaned;		/* URLs with personal parameters stripped */
	unsigned links_anonymized;	/* URLs rewritten by an anonymize recipe
					 * (links, and pixels with pixel_anonymize) */
	unsigned links_unresolved;	/* tracked links kept as they were */
	unsigned pii_hits;		/* URLs carrying a recipient's address */
};

struct rewrite_policy {			/* per message, read-only during rewrite */
	const struct rules *rules;	/* loaded tracker rules (never NULL) */
	const struct pii_set *pii;	/* the envelope recipients' needles (may be NULL) */
	char *const *unsubscribe_urls;	/* List-Unsubscribe URLs of the message */
	size_t n_unsubscribe;
	unsigned consent;		/* CONSENT_OPEN | CONSENT_CLICK bits granted */
	int pixel_anonymize;		/* PixelAction anonymize */
	int strip_campaign;		/* StripCampaignParams yes */
};

enum rewrite_kind { REWRITE_HTML, REWRITE_TEXT };

/* Returns 0 (out untouched when *changed == 0; otherwise out = the whole new
 * content, appended to OUT after buf_reset), or -1 on an internal error (out
 * of memory): the caller keeps the part. COUNTS is added to (not reset). */
int rewrite_part(const struct rewrite_policy *pol, enum rewrite_kind kind,
    const char *in, size_t len, struct buf *out, int *changed,
    struct rewrite_counts *counts);

/* ---- the applied edits -------------------------------------------------------
 * In input order, non-overlapping: input bytes [start, end) were replaced by
 * rep_len bytes (at out_start in the output). The MIME layer uses them to
 * re-encode only the lines around the edits; tests and the fuzz target check
 * that nothing outside them changed. */
struct rewrite_span {
	size_t start, end;
	size_t out_start, rep_len;
};

struct rewrite_trace {
	struct rewrite_span *spans;	/* malloc'd by rewrite_part_traced; free() it */
	size_t n;
	int sparse;	/* set by the caller: OUT gets only the replacements, back
			 * to back (span i's at out_start), not the whole new text */
};

/* As rewrite_part, and fills *TRACE (when not NULL) with the applied edits.
 * With trace->sparse the new text is never written out whole: the input
 * with the spans replaced is it (the MIME layer re-encodes only around the
 * spans, and would not read the 70 KB of unchanged text of a newsletter
 * copied out for it). */
int rewrite_part_traced(const struct rewrite_policy *pol, enum rewrite_kind kind,
    const char *in, size_t len, struct buf *out, int *changed,
    struct rewrite_counts *counts, struct rewrite_trace *trace);

/* No edit makes its span grow by more than this many bytes (the engine drops
 * an edit that would: an escaped, unwrapped URL is normally shorter than its
 * wrapper). The fuzz target checks out_len <= in_len + n_edits * this. */
#define REWRITE_MAX_GROWTH	256

#endif
