/* rewrite.c - apply the tracking policy to one decoded text part: find every
 * tracking vector, decide what to do with it, collect the edits and apply them
 * once, so that every byte outside an edit stays as it was.
 *
 * The walk: html.c tokenizes the part (text tokens skipped: only tags matter;
 * the few places that need text - link text, <style> contents - read the raw
 * bytes between two tags). Each resource URL (img src, CSS url(), background=,
 * video poster...) and each link URL (a/area href) is decoded (character
 * references) and judged; an edit is a (start, end, replacement) over the raw
 * input. Replacement bytes go to one arena; the edit list grows geometrically.
 * Nothing is allocated per tag: every scratch buffer lives in the per-call
 * context and is reused.
 *
 * What is a tracking resource (consent without `open`):
 *  1. a rules match of kind pixel (vendor patterns, OwnTrackingDomains);
 *  2. the recipient's address in the URL in any form pii.c knows;
 *  3. the invisibility heuristic. Declared sizes lie and tiny images are
 *     legitimate layout material (spacers, 1 px dividers, tiny logos), so
 *     invisibility alone never condemns an image. An image is a pixel when it
 *     is invisible (width or height <= 1 px by attribute or inline CSS,
 *     display:none, visibility:hidden, opacity:0, max-width/max-height 0,
 *     the `hidden` attribute) AND its URL looks individual: a non-empty query
 *     string, a path segment that looks like an identifier (>= 10 characters
 *     with digits and letters, >= 12 hex digits, or >= 20 characters of a
 *     base64 alphabet) or a path word typical of open tracking (open, track,
 *     pixel, beacon, px, impression). `/spacer.gif` at 1x1 stays; a 1x1
 *     `/o/eJyrVkq...` goes. Invisible remote frames (iframe, frame, embed,
 *     object) have no content purpose and go without the second signal.
 *  4. In CSS, a rules or pii match; and a URL in an `@media print` block that
 *     looks individual (print tracking).
 * A visible image whose URL carries personal parameters (or the address in a
 * parameter) keeps its image with those parameters stripped.
 *
 * Links (consent without `click`): a rules "link" is unwrapped (its recipe,
 * then the wrappers inside, up to UNWRAP_DEPTH) and personal parameters are
 * stripped from the destination; else anonymized by its recipe; else kept and
 * counted unresolved. Any other link loses its personal parameters (and those
 * carrying a recipient's address). A link is functional - unwrapped at most,
 * never stripped or anonymized - when a rule says so, when its text (tags
 * skipped) or an area's alt names unsubscribe / preferences / view online in
 * one of the common languages, when the URL equals a List-Unsubscribe URL, or
 * when the URL itself names such a page. Text is only read when an edit is
 * about to happen: the cheap case stays cheap.
 *
 * Outlook's conditional comments (<!--[if mso]>...<![endif]-->) are rendered
 * by Outlook for Windows, so the tags inside them are judged too (VML
 * buttons' href, VML images' src, img, a); any other comment is left alone.
 *
 * Every result URL passes url_is_valid_absolute(), or the edit is dropped;
 * attribute values are judged decoded (character references) but written
 * back raw, escaped for their quoting, '&' as "&amp;" where the original
 * escaped it. A removed tag right after a '<' leaves a space, so that the
 * '<' cannot join the text after the tag into a new tag.
 */
#include "build-config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "css.h"
#include "html.h"
#include "pii.h"
#include "rewrite.h"
#include "rules.h"
#include "url.h"
#include "wordset.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define UNWRAP_DEPTH	4	/* wrappers inside wrappers followed */
#define CSS_DEC_MAX	4096	/* decoded CSS URL kept for judging */
#define LINK_TEXT_MAX	4096	/* link text searched for functional words */
#define PARAM_NAME_MAX	256
#define MEMO_SIZE	256	/* entries of the per-call verdict memo */
#define MEMO_SEEN_BITS	1024	/* quick filter in front of it */
#define STYLE_MEMO_SIZE	16	/* inline styles remembered per part */
#define STRIP_KEEP	32	/* query parameters strip_personal() keeps */

struct edit {
	size_t start, end;	/* input span replaced */
	size_t rep_off, rep_len;	/* replacement bytes in rw.rep */
};

/* Verdict on one URL. */
enum verdict {
	V_KEEP = 0,
	V_TRACKER,	/* resource: remove / neutralise */
	V_REPLACE	/* rewrite the URL to rw.res (cleaned, unwrapped, anonymized) */
};

struct rw {
	const struct rewrite_policy *pol;
	const char *in;
	size_t len;
	struct rewrite_counts c;
	struct edit *ed;
	size_t ned, capd;
	struct buf rep;		/* replacement bytes of every edit */
	struct buf url;		/* decoded URL being judged */
	struct buf res;		/* result URL of a V_REPLACE verdict */
	struct buf work;	/* intermediate results */
	struct buf work2;	/* the other half of an unwrap chain */
	struct rules_scratch unwrap_scratch;	/* rules_unwrap's temporaries */
	struct rules_memo rmemo;	/* hosts without host rules (rules_match_memo) */
	struct style_memo {	/* style_attr_hides() */
		size_t off, len;
		unsigned char hides;
	} smemo[STYLE_MEMO_SIZE];
	struct url work_u;	/* the parse of rw->work after unwrap_chain() */
	struct buf esc;		/* re-escaped attribute value */
	struct buf css;		/* decoded style attribute / rebuilt CSS */
	struct buf tmp;		/* small decodes (parameter values) */
	int oom;
	int pii_in_url;		/* last strip_personal(): the URL holds an address
				 * (1), does not (0), was not searched (-1) */

	/* a link whose edit waits for its text (functional words) */
	int a_pending;
	size_t a_text_start;
	struct html_attr a_href;
	struct buf a_res;	/* the non-functional result */
	unsigned a_kind;	/* which counter the pending edit increments */

	/* elements being dropped whole (script, amp-analytics, amp-pixel) */
	int dropping;
	size_t drop_start, drop_tag_end;
	char drop_name[16];

	/* the document's <base href> (absolute http(s)), once seen */
	struct buf base;
	struct buf abs;		/* a relative URL resolved against it */

	/* an open <style> element */
	int in_style;
	size_t style_start;

	/* URLs already judged "keep, nothing counted" in this part: newsletters
	 * repeat a link (image, title, button); a repeat costs one hash */
	uint64_t memo[MEMO_SIZE];
	/* a bit per quick key (memo_quick) of every URL ever remembered in
	 * this part: a URL whose bit is clear was not, and skips memo_key() */
	uint64_t memo_seen[MEMO_SEEN_BITS / 64];
	int no_memo;		/* the verdict being made must not be remembered */

	/* the image being judged: is it invisible? Most image URLs are judged
	 * without asking (no rule, no address, no identifier), so the style
	 * and size attributes are read only when the answer matters */
	const struct html_token *vis_tok;
	int vis;		/* -1 not computed yet, else 0 / 1 */
};

/* What a pending link edit counts as, and what flags mean. */
enum { CNT_UNWRAP = 1, CNT_CLEAN = 2, CNT_ANON = 4, CNT_PII = 8 };

/* ---- small helpers ------------------------------------------------------- */

static int
lower_ascii(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
span_eq_ci(const char *s, size_t n, const char *lit)
{
	size_t i, m = strlen(lit);

	if (n != m)
		return 0;
	for (i = 0; i < n; i++)
		if (lower_ascii((unsigned char)s[i]) != (unsigned char)lit[i])
			return 0;
	return 1;
}

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* ---- the edit list --------------------------------------------------------- */

static int
add_edit(struct rw *rw, size_t start, size_t end, const char *rep, size_t rep_len)
{
	struct edit *e;

	if (end < start || end > rw->len)
		return 0;
	/* An edit never grows its span unboundedly (see REWRITE_MAX_GROWTH). */
	if (rep_len > end - start + REWRITE_MAX_GROWTH)
		return 0;
	if (rw->ned == rw->capd) {
		size_t ncap = rw->capd ? rw->capd * 2 : 32;
		struct edit *ne = realloc(rw->ed, ncap * sizeof(*ne));

		if (ne == NULL) {
			rw->oom = 1;
			return -1;
		}
		rw->ed = ne;
		rw->capd = ncap;
	}
	e = &rw->ed[rw->ned];
	e->start = start;
	e->end = end;
	e->rep_off = rw->rep.len;
	e->rep_len = rep_len;
	if (rep_len > 0 && buf_append(&rw->rep, rep, rep_len) < 0) {
		rw->oom = 1;
		return -1;
	}
	rw->ned++;
	return 1;
}

/* Remove a whole tag or element. When a '<' stands right before it, the
 * removal would join that '<' with the text after the tag into a new tag
 * ("<<img ...>script>"): a space keeps the '<' text. */
static int
remove_span(struct rw *rw, size_t start, size_t end)
{
	if (start > 0 && rw->in[start - 1] == '<')
		return add_edit(rw, start, end, " ", 1);
	return add_edit(rw, start, end, "", 0);
}

static int
edit_cmp(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

/* Sort the edits, drop any that overlaps an earlier one (a safety net: the
 * walk does not produce overlaps), and write the output: the new text, or
 * with trace->sparse only the replacements. */
static int
apply_edits(struct rw *rw, struct buf *out, struct rewrite_trace *trace)
{
	size_t i, k, pos = 0, sorted = 1, grow = 0;
	int sparse = trace != NULL && trace->sparse;

	for (i = 1; i < rw->ned; i++)
		if (edit_cmp(&rw->ed[i - 1], &rw->ed[i]) > 0)
			sorted = 0;
	if (!sorted)
		qsort(rw->ed, rw->ned, sizeof(*rw->ed), edit_cmp);
	for (i = 0, k = 0; i < rw->ned; i++) {
		struct edit *e = &rw->ed[i];

		if (e->start < pos)
			continue;
		/* an edit that changes nothing is no edit */
		if (e->rep_len == e->end - e->start && (e->rep_len == 0 ||
		    memcmp(rw->rep.data + e->rep_off, rw->in + e->start, e->rep_len) == 0))
			continue;
		rw->ed[k++] = *e;
		pos = e->end;
		grow += e->rep_len;
	}
	rw->ned = k;
	if (k == 0)
		return 0;
	buf_reset(out);
	if (buf_reserve(out, (sparse ? 0 : rw->len) + grow + 1) < 0)
		return -1;
	if (trace != NULL) {
		trace->spans = malloc(k * sizeof(*trace->spans));
		if (trace->spans == NULL)
			return -1;
		trace->n = k;
	}
	pos = 0;
	for (i = 0; i < k; i++) {
		struct edit *e = &rw->ed[i];

		if (!sparse && buf_append(out, rw->in + pos, e->start - pos) < 0)
			return -1;
		if (trace != NULL) {
			trace->spans[i].start = e->start;
			trace->spans[i].end = e->end;
			trace->spans[i].out_start = out->len;
			trace->spans[i].rep_len = e->rep_len;
		}
		if (e->rep_len > 0 &&
		    buf_append(out, rw->rep.data + e->rep_off, e->rep_len) < 0)
			return -1;
		pos = e->end;
	}
	if (!sparse && buf_append(out, rw->in + pos, rw->len - pos) < 0)
		return -1;
	return 1;
}

/* ---- word search ------------------------------------------------------------ */

/* A set of lowercase words (at least 2 bytes) searched in text: a bitmap of
 * the (first byte, second byte) pairs that start a word, in every letter
 * case, so that the scan costs one bit test per byte; then bit masks of the
 * words by their first and by their second byte, so that a candidate position
 * compares only the words whose first two bytes match. Built once per
 * process (pthread_once, from rewrite_part), read-only afterwards. */
static struct wordset text_words, url_words, track_url_words;
static pthread_once_t wordsets_once = PTHREAD_ONCE_INIT;

/* ---- URL shape heuristics ---------------------------------------------------- */

static const char *const track_words[] = {
	"open", "track", "pixel", "beacon", "/px", "impression", NULL
};

/* A URL that looks individual: query, identifier-like segment, tracking word.
 * The segments first: one cheap pass, and most such URLs have one. */
static int
url_looks_individual(const struct url *u)
{
	const char *p = URL_PTR(u, u->path);
	size_t n = u->path.len;

	if (u->query.len > 0)
		return 1;
	if (url_path_has_token(p, n))
		return 1;
	return wordset_scan(&track_url_words, p, n);
}

static int
is_web(const struct url *u)
{
	return u->scheme == URL_SCHEME_HTTP || u->scheme == URL_SCHEME_HTTPS;
}

/* ---- parameter stripping ----------------------------------------------------- */

/* Is the parameter personal (rules), campaign (with strip_campaign), or
 * carrying a recipient's address? S[0..N) is the whole URL: it is searched
 * for an address once, when the first value long enough to hold one is
 * reached (rw->pii_in_url caches the answer), and a value only when it hits. */
static int
param_is_personal(struct rw *rw, const char *s, size_t n_url, const struct rule *rule,
    const struct url_param *p, int *pii)
{
	const char *name = p->name;
	size_t n = p->name_len;
	struct rules_strip_ctx ctx;
	struct pii_hit h;

	/* a percent-encoded name is judged decoded ("mc%5Feid" is mc_eid) */
	if (n > 0 && memchr(name, '%', n) != NULL) {
		buf_reset(&rw->tmp);
		if (n < PARAM_NAME_MAX && url_decode_percent(name, n, &rw->tmp) == 0 &&
		    memchr(rw->tmp.data, 0, rw->tmp.len) == NULL) {
			name = rw->tmp.data;
			n = rw->tmp.len;
		} else
			n = 0;
	}
	if (n > 0 && n < PARAM_NAME_MAX) {
		ctx.rules = rw->pol->rules;
		ctx.rule = rule;
		ctx.strip_campaign = rw->pol->strip_campaign;
		if (rules_strip_pred(name, n, &ctx))
			return 1;
	}
	if (p->value == NULL || p->value_len < PII_MIN_NEEDLE || rw->pol->pii == NULL)
		return 0;
	if (rw->pii_in_url < 0)
		rw->pii_in_url = pii_find(rw->pol->pii, s, n_url, &h) == 1;
	if (rw->pii_in_url == 1 && pii_find(rw->pol->pii, p->value, p->value_len, &h) == 1) {
		*pii = 1;
		return 1;
	}
	return 0;
}

/* url_is_valid_absolute() of OUT, which strip_personal() made of S[0..N)
 * (parsed into U). When S itself is valid so is OUT, which is not read
 * again: S's scheme, slashes and authority stay as they are, and OUT holds
 * S's bytes less some parameters and their separators, and a '?'. */
static int
stripped_is_valid(const char *s, size_t n, const struct url *u, const struct buf *out)
{
	return url_parsed_is_valid_absolute(u, s, n) || url_is_valid_absolute(out->data, out->len);
}

/* Write S[0..N) (a parsed absolute URL) to OUT without its personal
 * parameters. Order, separators and the fragment are kept; the separator in
 * front of a removed parameter goes with it; an emptied query loses its '?'.
 * Returns the number removed, or -1 on OOM. *PII is set when a removed
 * parameter carried a recipient's address. PARSED, when given, is
 * url_parse(S, N): its query span is used instead of searching S again.
 * rw->pii_in_url is left -1 when no value needed the address search. */
static int
strip_personal(struct rw *rw, const char *s, size_t n, const struct url *parsed,
    const struct rule *rule, struct buf *out, int *pii)
{
	struct url own;
	const struct url *u = parsed;
	struct url_query_iter it;
	/* the first pass keeps the parameters and their verdicts, so that the
	 * second one (writing) neither splits the query nor judges again;
	 * a longer query is split and judged again past STRIP_KEEP */
	struct url_param ps[STRIP_KEEP], p;
	uint32_t personal = 0;
	size_t qs, qe, np = 0, i, k;
	int removed = 0, kept = 0;

	*pii = 0;
	rw->pii_in_url = -1;
	if (u == NULL) {
		if (memchr(s, '?', n) == NULL || url_parse(s, n, &own) != 0)
			return 0;
		u = &own;
	}
	if (!(u->flags & URL_F_HAS_QUERY) || u->query.len == 0)
		return 0;
	/* first pass: anything to remove at all? (the common case: no) */
	url_query_begin_parsed(&it, u, n);
	for (; url_query_next(&it, &p); np++) {
		int rm = p.name_len > 0 && param_is_personal(rw, s, n, rule, &p, pii);

		removed += rm;
		if (np < STRIP_KEEP) {
			ps[np] = p;
			personal |= (uint32_t)rm << np;
		}
	}
	if (removed == 0)
		return 0;
	qs = u->query.off;
	qe = u->query.off + u->query.len;
	buf_reset(out);
	if (buf_append(out, s, qs - 1) < 0)	/* up to, without, the '?' */
		return -1;
	url_query_begin_parsed(&it, u, n);
	for (i = 0; i < np; i++) {
		const char *end;

		if (i < STRIP_KEEP) {
			if ((personal >> i) & 1)
				continue;
			p = ps[i];
		} else {
			int dummy;

			if (i == STRIP_KEEP)	/* resume the split after the kept ones */
				for (k = 0; k < STRIP_KEEP; k++)
					(void)url_query_next(&it, &p);
			(void)url_query_next(&it, &p);
			if (p.name_len > 0 && param_is_personal(rw, s, n, rule, &p, &dummy))
				continue;
		}
		end = p.value != NULL ? p.value + p.value_len : p.name + p.name_len;
		if (buf_append(out, kept == 0 ? "?" : p.sep, kept == 0 ? 1 : p.sep_len) < 0 ||
		    buf_append(out, p.name, (size_t)(end - p.name)) < 0)
			return -1;
		kept++;
	}
	if (buf_append(out, s + qe, n - qe) < 0)
		return -1;
	return removed;
}

/* ---- attribute values ----------------------------------------------------------- */

/* Does the raw attribute value escape '&' as a character reference? */
static int
raw_escapes_amp(const char *raw, size_t n)
{
	const char *p = raw, *end = raw + n;

	while ((p = memchr(p, '&', (size_t)(end - p))) != NULL) {
		size_t left = (size_t)(end - p);

		if ((left >= 5 && span_eq_ci(p, 5, "&amp;")) ||
		    (left >= 5 && span_eq_ci(p, 5, "&#38;")) ||
		    (left >= 6 && span_eq_ci(p, 6, "&#x26;")))
			return 1;
		p++;
	}
	return 0;
}

/* Bytes escape_value() may have to replace; most bytes of a URL are none
 * of them, and the run between two is appended at once. */
static const unsigned char html_special[256] = {
	['&'] = 1, ['"'] = 1, ['\''] = 1, ['<'] = 1, ['>'] = 1,
};

/* The first byte at or after I in V[0..N) that html_special marks, or N.
 * SSE2: 16 bytes per step; '&' and '\'' differ in bit 0 only, '<' and '>'
 * in bit 1 only, so three compares find all five. */
static size_t
next_special(const char *v, size_t i, size_t n)
{
#ifdef __SSE2__
	const __m128i b0 = _mm_set1_epi8(1), b1 = _mm_set1_epi8(2);
	const __m128i amp = _mm_set1_epi8('\''), ang = _mm_set1_epi8('>'), dq = _mm_set1_epi8('"');

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(v + i));
		__m128i m = _mm_or_si128(_mm_or_si128(
		    _mm_cmpeq_epi8(_mm_or_si128(x, b0), amp),
		    _mm_cmpeq_epi8(_mm_or_si128(x, b1), ang)), _mm_cmpeq_epi8(x, dq));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);

		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
	}
#endif
	while (i < n && !html_special[(unsigned char)v[i]])
		i++;
	return i;
}

static int
escape_value(struct buf *o, const char *v, size_t n, char quote, int esc_amp)
{
	size_t i = 0, run = 0;

	buf_reset(o);
	for (;; i++) {
		const char *r = NULL;

		i = next_special(v, i, n);
		if (i >= n)
			break;
		switch (v[i]) {
		case '&':
			r = esc_amp ? "&amp;" : NULL;
			break;
		case '"':
			r = quote != '\'' ? "&quot;" : NULL;
			break;
		case '\'':
			r = quote != '"' ? "&#39;" : NULL;
			break;
		case '<':
			r = "&lt;";
			break;
		case '>':
			r = "&gt;";
			break;
		}
		if (r == NULL)
			continue;
		if (buf_append(o, v + run, i - run) < 0 || buf_puts(o, r) < 0)
			return -1;
		run = i + 1;
	}
	return buf_append(o, v + run, n - run);
}

/* Replace the value of attribute A by V[0..N) (a decoded value), escaped for
 * its quoting: '&' stays "&amp;" where the original escaped it (and wherever
 * a bare '&' would be read as a character reference). */
static int
set_attr_value(struct rw *rw, const struct html_attr *a, const char *v, size_t n)
{
	const char *raw = rw->in + a->value.start;
	size_t rawn = a->value.end - a->value.start;
	int esc_amp = raw_escapes_amp(raw, rawn);

	if (!a->has_value)
		return 0;
	if (escape_value(&rw->esc, v, n, a->quote, esc_amp) < 0)
		goto oom;
	if (!esc_amp && memchr(v, '&', n) != NULL) {
		/* a bare '&' must read back as itself */
		buf_reset(&rw->tmp);
		if (html_decode_attr_value(rw->esc.data, rw->esc.len, &rw->tmp) < 0)
			goto oom;
		if (rw->tmp.len != n || memcmp(rw->tmp.data, v, n) != 0)
			if (escape_value(&rw->esc, v, n, a->quote, 1) < 0)
				goto oom;
	}
	return add_edit(rw, a->value.start, a->value.end, rw->esc.data, rw->esc.len);
oom:
	rw->oom = 1;
	return -1;
}

/* Remove attribute A with the whitespace in front of it. */
static int
drop_attr(struct rw *rw, const struct html_token *tok, const struct html_attr *a)
{
	size_t s = a->span.start;

	while (s > tok->span.start + 1 && is_space((unsigned char)rw->in[s - 1]))
		s--;
	return add_edit(rw, s, a->span.end, "", 0);
}

/* Decode the URL of attribute A into rw->url. */
static int
decode_url_attr(struct rw *rw, const struct html_attr *a)
{
	buf_reset(&rw->url);
	if (html_decode_url(rw->in + a->value.start, a->value.end - a->value.start, &rw->url) < 0) {
		rw->oom = 1;
		return -1;
	}
	return 0;
}

/* ---- resources (open consent) --------------------------------------------------- */

enum res_flags {
	RES_IMAGE = 0x2,	/* an image: invisibility needs a second signal */
	RES_FRAME = 0x4,	/* a frame: invisibility alone is enough */
	RES_PRINT = 0x8,	/* CSS in @media print */
	RES_NOCLEAN = 0x10,	/* cannot rewrite in place: personal params = keep */
	RES_VIS_LAZY = 0x20	/* invisibility of rw->vis_tok, computed on first need */
};

/* Resolve the relative reference REL[0..N) against the document's <base>
 * into rw->abs, well enough to judge it (dot segments are not removed). */
static int
resolve_against_base(struct rw *rw, const char *rel, size_t n)
{
	const char *b = rw->base.data;
	struct url bu;
	size_t keep;

	if (url_parse(b, rw->base.len, &bu) != 0)
		return -1;
	if (n >= 2 && rel[0] == '/' && rel[1] == '/')
		keep = bu.scheme_s.len + 1;			/* "https:" */
	else if (n >= 1 && rel[0] == '/')
		keep = bu.path.len ? bu.path.off : bu.host.off + bu.host.len +
		    ((bu.flags & URL_F_HAS_PORT) ? bu.port.len + 1 : 0);
	else if (n >= 1 && (rel[0] == '?' || rel[0] == '#'))
		keep = (bu.flags & URL_F_HAS_QUERY) ? bu.query.off - 1 :
		    (bu.flags & URL_F_HAS_FRAGMENT) ? bu.fragment.off - 1 : bu.end;
	else {
		const char *p = URL_PTR(&bu, bu.path);
		size_t k = bu.path.len;

		while (k > 0 && p[k - 1] != '/')
			k--;
		keep = bu.path.len ? bu.path.off + k : bu.host.off + bu.host.len +
		    ((bu.flags & URL_F_HAS_PORT) ? bu.port.len + 1 : 0);
		if (bu.path.len == 0) {
			buf_reset(&rw->abs);
			if (buf_append(&rw->abs, b, keep) < 0 || buf_puts(&rw->abs, "/") < 0 ||
			    buf_append(&rw->abs, rel, n) < 0)
				goto oom;
			return 0;
		}
	}
	buf_reset(&rw->abs);
	if (keep > rw->base.len || buf_append(&rw->abs, b, keep) < 0 ||
	    buf_append(&rw->abs, rel, n) < 0)
		goto oom;
	return 0;
oom:
	rw->oom = 1;
	return -1;
}

static int element_invisible(struct rw *rw, const struct html_token *tok);

/* Is the element being judged (rw->vis_tok, with RES_VIS_LAZY) invisible?
 * Read on first need; the answer depends on the element, not only on the
 * URL, so a verdict that asked is not remembered by URL. */
static int
res_invisible(struct rw *rw, unsigned flags)
{
	if (!(flags & RES_VIS_LAZY) || rw->vis_tok == NULL)
		return 0;
	rw->no_memo = 1;
	if (rw->vis < 0)
		rw->vis = element_invisible(rw, rw->vis_tok);
	return rw->vis;
}

/* Judge a resource URL U[0..N). V_REPLACE leaves the new URL in rw->res. */
static enum verdict
judge_resource_uncached(struct rw *rw, const char *s, size_t n, unsigned flags)
{
	struct url u;
	const struct rule *rule;
	struct pii_hit h;
	int pii, r;

	r = url_parse(s, n, &u);
	/* a relative URL under a <base href> fetches from there: judge where
	 * it goes, never rewrite it */
	if (r == URL_E_RELATIVE && rw->base.len > 0 && s != rw->abs.data && n > 0 &&
	    resolve_against_base(rw, s, n) == 0)
		return judge_resource_uncached(rw, rw->abs.data, rw->abs.len,
		    flags | RES_NOCLEAN) == V_TRACKER ? V_TRACKER : V_KEEP;
	if (r != 0 || !is_web(&u) || (u.flags & URL_F_NEVER_TOUCH))
		return V_KEEP;
	rule = rules_match_memo(rw->pol->rules, &u, RULE_PIXEL | RULE_EXEMPT, &rw->rmemo);
	if (rule != NULL && rules_kind(rule) == RULE_EXEMPT)
		return V_KEEP;
	if (rule != NULL) {
		if (rw->pol->pixel_anonymize && rules_has_anonymize(rule) &&
		    !(flags & RES_NOCLEAN) &&
		    rules_anonymize(rule, s, n, &rw->res) == RULES_OK &&
		    url_is_valid_absolute(rw->res.data, rw->res.len)) {
			rw->c.links_anonymized++;
			return V_REPLACE;
		}
		return V_TRACKER;
	}
	if (rw->pol->pii != NULL && pii_find(rw->pol->pii, s, n, &h) == 1) {
		rw->c.pii_hits++;
		/* in a parameter of a visible image: strip that parameter */
		if ((flags & (RES_IMAGE | RES_NOCLEAN)) == RES_IMAGE &&
		    (u.flags & URL_F_HAS_QUERY) && h.start >= u.query.off &&
		    h.end <= u.query.off + u.query.len && !res_invisible(rw, flags)) {
			r = strip_personal(rw, s, n, &u, NULL, &rw->res, &pii);
			if (r < 0) {
				rw->oom = 1;
				return V_KEEP;
			}
			if (r > 0 && stripped_is_valid(s, n, &u, &rw->res)) {
				rw->c.links_cleaned++;
				return V_REPLACE;
			}
		}
		return V_TRACKER;
	}
	if ((flags & RES_FRAME) && res_invisible(rw, flags))
		return V_TRACKER;
	/* the element before the URL: nearly every image is visible, and its
	 * size and style attributes are read faster than the URL's path is
	 * judged. Invisible, the verdict here does not depend on it unless
	 * the URL looks individual: a "keep" may still be remembered. */
	if ((flags & RES_VIS_LAZY)) {
		int no_memo = rw->no_memo;

		if (res_invisible(rw, flags)) {
			if (url_looks_individual(&u))
				return V_TRACKER;
			rw->no_memo = no_memo;
		}
	}
	if ((flags & RES_PRINT) && url_looks_individual(&u))
		return V_TRACKER;
	if (flags & RES_NOCLEAN)
		return V_KEEP;
	r = strip_personal(rw, s, n, &u, NULL, &rw->res, &pii);
	if (r < 0) {
		rw->oom = 1;
		return V_KEEP;
	}
	if (r > 0) {
		if (res_invisible(rw, flags))	/* an invisible image with a personal id */
			return V_TRACKER;
		if (stripped_is_valid(s, n, &u, &rw->res)) {
			rw->c.links_cleaned++;
			return V_REPLACE;
		}
	}
	return V_KEEP;
}

/* A 64-bit hash of S[0..N) and TAG, eight bytes at a step (URLs are long,
 * and every URL of a part is hashed once). Collisions only cost a missed
 * edit if two URLs of one part share all 64 bits. */
static uint64_t
memo_key(const char *s, size_t n, unsigned tag)
{
	const uint64_t k = 0x9e3779b97f4a7c15ULL;
	uint64_t h = (0x243f6a8885a308d3ULL ^ tag) + n * k, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	if (i < n) {
		/* the last 8 bytes, overlapping: a fixed-size load, not a
		 * memcpy of a variable length (the length is in H already) */
		w = 0;
		if (n >= 8)
			memcpy(&w, s + n - 8, 8);
		else
			memcpy(&w, s, n);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	h = (h ^ (h >> 32)) * k;
	h ^= h >> 31;
	return h != 0 ? h : 1;
}

/* The bit of S[0..N) and TAG in rw->memo_seen: its length and two 8-byte
 * words, the last and the middle one (URLs of a template differ in their
 * identifiers, near the end), so a few instructions whatever its length.
 * Equal URLs have equal bits; that is all the filter needs. */
static unsigned
memo_quick(const char *s, size_t n, unsigned tag)
{
	uint64_t a = 0, b = 0;

	if (n >= 8) {
		memcpy(&a, s + n - 8, 8);
		memcpy(&b, s + n / 2 - 4, 8);
	} else
		memcpy(&a, s, n);
	a = (a ^ (b * 0xC2B2AE3D27D4EB4Full) ^ ((uint64_t)n << 9 ^ tag)) * 0x9E3779B97F4A7C15ull;
	return (unsigned)(a >> 54);	/* 10 bits: MEMO_SEEN_BITS */
}

/* Run JUDGE unless the same URL (and TAG) was already judged "keep" without
 * counting anything; remember such verdicts. Most URLs of a part are judged
 * once and never remembered (they are edited, or counted): their quick bit
 * is clear and the full key is not computed. Remembered URLs set their bit,
 * so every URL the memo holds still finds its entry. The key of a URL to
 * remember is computed after JUDGE, which writes none of the buffers the
 * URL can be in (the part, rw->url, rw->css). */
#define MEMOIZED(rw, s, n, tag, call) do {					\
	const unsigned q_ = memo_quick((s), (n), (tag));			\
	const uint64_t qbit_ = (uint64_t)1 << (q_ % 64);			\
	uint64_t key_ = 0;							\
	struct rewrite_counts before_ = (rw)->c;				\
	enum verdict v_;							\
										\
	if ((rw)->memo_seen[q_ / 64] & qbit_) {					\
		key_ = memo_key((s), (n), (tag));				\
		if ((rw)->memo[key_ % MEMO_SIZE] == key_)			\
			return V_KEEP;						\
	}									\
	(rw)->no_memo = 0;							\
	v_ = (call);								\
	if (v_ == V_KEEP && !(rw)->oom && !(rw)->no_memo &&			\
	    memcmp(&before_, &(rw)->c, sizeof(before_)) == 0) {		\
		if (key_ == 0)							\
			key_ = memo_key((s), (n), (tag));			\
		(rw)->memo[key_ % MEMO_SIZE] = key_;				\
		(rw)->memo_seen[q_ / 64] |= qbit_;				\
	}									\
	return v_;								\
} while (0)

static enum verdict
judge_resource(struct rw *rw, const char *s, size_t n, unsigned flags)
{
	MEMOIZED(rw, s, n, flags, judge_resource_uncached(rw, s, n, flags));
}

/* Is a width or height attribute a length of at most one pixel? */
static int
attr_tiny(struct rw *rw, const struct html_attr *a)
{
	const char *s;
	size_t n;
	double v;

	if (a == NULL)
		return 0;
	s = rw->in + a->value.start;
	n = a->value.end - a->value.start;
	/* the common width="600": a value starting with a digit 2..9, or with
	 * two digits the first not 0, is at least 2 (px or %), never tiny */
	if (n >= 1 && s[0] >= '2' && s[0] <= '9')
		return 0;
	if (n >= 2 && s[0] == '1' && s[1] >= '0' && s[1] <= '9')
		return 0;
	return css_html_length(s, n, &v) == CSS_HTML_LEN_PX && v <= 1.0;
}

/* Does the inline style V[0..N) hide its element? */
static int
style_hides(const char *v, size_t n)
{
	struct css_box b;

	css_read_box(v, n, &b);
	if (b.display_none || b.visibility_hidden || b.opacity_zero)
		return 1;
	if ((b.width.kind == CSS_LEN_PX && b.width.px <= 1.0) ||
	    (b.height.kind == CSS_LEN_PX && b.height.px <= 1.0))
		return 1;
	return (b.max_width.kind == CSS_LEN_PX && b.max_width.px <= 0.0) ||
	    (b.max_height.kind == CSS_LEN_PX && b.max_height.px <= 0.0);
}

/* The memo slot of the style value V[0..N): a hit is checked byte by byte,
 * so the key only has to spread the few styles of a template over the
 * slots. Its length and three 8-byte words (first, middle, last: styles of
 * a template share their starts, "font-size:") instead of all of it. */
static size_t
style_key(const char *v, size_t n)
{
	uint64_t a = 0, b = 0, c = 0;

	if (n >= 8) {
		memcpy(&a, v, 8);
		memcpy(&b, v + n / 2 - 4, 8);
		memcpy(&c, v + n - 8, 8);
	} else
		memcpy(&a, v, n);
	a = (a ^ (b * 0xC2B2AE3D27D4EB4Full) ^ (c * 0x165667B19E3779F9ull) ^ n) *
	    0x9E3779B97F4A7C15ull;
	return (size_t)(a >> 32);
}

/* style_hides() of a style attribute, remembered per part: templates give
 * every product image the same inline style. A hit is the same bytes, not
 * only the same hash. */
static int
style_attr_hides(struct rw *rw, const struct html_attr *st)
{
	const char *v = rw->in + st->value.start;
	size_t n = st->value.end - st->value.start;
	struct style_memo *m = &rw->smemo[style_key(v, n) % STYLE_MEMO_SIZE];

	if (m->len == n + 1 && memcmp(rw->in + m->off, v, n) == 0)
		return m->hides;
	m->off = st->value.start;
	m->len = n + 1;		/* 0: empty slot */
	m->hides = (unsigned char)style_hides(v, n);
	return m->hides;
}

/* Is the element invisible (size, hiding CSS, hidden attribute)? */
static int
element_invisible(struct rw *rw, const struct html_token *tok)
{
	const struct html_attr *st = html_attr_get(tok, HTML_ATTR_STYLE);

	if (html_attr_get(tok, HTML_ATTR_HIDDEN) != NULL ||
	    attr_tiny(rw, html_attr_get(tok, HTML_ATTR_WIDTH)) ||
	    attr_tiny(rw, html_attr_get(tok, HTML_ATTR_HEIGHT)))
		return 1;
	return st != NULL && style_attr_hides(rw, st);
}

/* Is the raw attribute value V[0..N) (N > 0) already what html_decode_url()
 * would make of it? So when it holds no '&' (no character reference), no
 * byte below 0x0E (tab, LF, CR, NUL: removed, trimmed or replaced) and
 * neither starts nor ends with a byte up to 0x20 (trimmed): that decoder's
 * fast path then copies it unchanged. Most src values of a template are. */
static int
url_attr_is_plain(const char *v, size_t n)
{
	return (unsigned char)v[0] > 0x20 && (unsigned char)v[n - 1] > 0x20 &&
	    memchr(v, '&', n) == NULL && !bytes_have_low_control(v, n);
}

/* Judge the URL in attribute A of TOK: a plain value in place, without
 * copying it (nothing judged keeps a pointer to it). */
static enum verdict
judge_attr(struct rw *rw, const struct html_attr *a, unsigned flags)
{
	const char *v;
	size_t n;

	if (a == NULL || !a->has_value || a->value.end == a->value.start)
		return V_KEEP;
	v = rw->in + a->value.start;
	n = a->value.end - a->value.start;
	if (url_attr_is_plain(v, n))
		return judge_resource(rw, v, n, flags);
	if (decode_url_attr(rw, a) < 0)
		return V_KEEP;
	return judge_resource(rw, rw->url.data, rw->url.len, flags);
}

/* A resource attribute: tracker -> drop the attribute; replace -> rewrite. */
static void
resource_attr(struct rw *rw, const struct html_token *tok, enum html_attr_id name, unsigned flags)
{
	const struct html_attr *a = html_attr_get(tok, name);

	if (a == NULL)		/* the common case: every <td> asks for background */
		return;
	switch (judge_attr(rw, a, flags)) {
	case V_TRACKER:
		if (drop_attr(rw, tok, a) > 0)
			rw->c.resources_removed++;
		break;
	case V_REPLACE:
		set_attr_value(rw, a, rw->res.data, rw->res.len);
		break;
	default:
		break;
	}
}

/* srcset: judge every candidate URL; any tracker or personal parameter drops
 * the attribute (src, judged separately, is the fallback). 1 = dropped. */
static int
srcset_is_tracking(struct rw *rw, const struct html_attr *a, unsigned flags)
{
	size_t i, n, s;
	const char *v;

	buf_reset(&rw->css);
	if (html_decode_attr_value(rw->in + a->value.start, a->value.end - a->value.start,
	    &rw->css) < 0) {
		rw->oom = 1;
		return 0;
	}
	v = rw->css.data;
	n = rw->css.len;
	for (i = 0; i < n;) {
		while (i < n && (is_space((unsigned char)v[i]) || v[i] == ','))
			i++;
		s = i;
		while (i < n && !is_space((unsigned char)v[i]))
			i++;
		if (i > s) {
			size_t e = i;

			while (e > s && v[e - 1] == ',')
				e--;
			if (judge_resource(rw, v + s, e - s, flags | RES_NOCLEAN) != V_KEEP)
				return 1;
			if (strip_personal(rw, v + s, e - s, NULL, NULL, &rw->res, &(int){0}) > 0)
				return 1;
		}
		/* skip descriptors up to the next comma */
		while (i < n && v[i] != ',')
			i++;
	}
	return 0;
}

/* img, input type=image, amp-img. Returns 1 when the tag was removed. */
static int
do_image(struct rw *rw, const struct html_token *tok)
{
	const struct html_attr *src = html_attr_get(tok, HTML_ATTR_SRC);
	const struct html_attr *srcset = html_attr_get(tok, HTML_ATTR_SRCSET);
	const unsigned flags = RES_IMAGE | RES_VIS_LAZY;
	enum verdict v;
	int removed = 0;

	if (src == NULL && srcset == NULL)
		return 0;
	rw->vis_tok = tok;
	rw->vis = -1;
	v = judge_attr(rw, src, flags);
	if (v == V_TRACKER || (src == NULL && srcset != NULL && srcset_is_tracking(rw, srcset, flags))) {
		if (remove_span(rw, tok->span.start, tok->span.end) > 0)
			rw->c.pixels_removed++;
		removed = 1;
	} else {
		if (v == V_REPLACE)
			set_attr_value(rw, src, rw->res.data, rw->res.len);
		if (src != NULL && srcset != NULL && srcset_is_tracking(rw, srcset, flags))
			if (drop_attr(rw, tok, srcset) > 0)
				rw->c.resources_removed++;
	}
	rw->vis_tok = NULL;
	return removed;
}

/* ---- CSS ---------------------------------------------------------------------- */

static unsigned
css_res_flags(const struct css_url *cu)
{
	return RES_NOCLEAN | ((cu->flags & CSS_IN_MEDIA_PRINT) ? RES_PRINT : 0);
}

/* Scan CSS at IN[base, base+n) that maps 1:1 onto the input (raw <style>
 * text, or a style attribute without character references). */
static void
css_raw(struct rw *rw, size_t base, size_t n, enum css_mode mode)
{
	struct css_scanner sc;
	struct css_url cu;
	char dec[CSS_DEC_MAX];

	css_scan_init(&sc, rw->in + base, n, mode);
	while (css_next_url(&sc, &cu, dec, sizeof(dec)) == 1) {
		struct css_span sp;
		const char *text;

		if (judge_resource(rw, cu.url, cu.url_len, css_res_flags(&cu)) != V_TRACKER)
			continue;
		css_neutralize(&cu, &sp, &text);
		if (add_edit(rw, base + sp.start, base + sp.end, text, strlen(text)) > 0)
			rw->c.resources_removed++;
	}
}

/* A style attribute with character references: decode, scan the decoded copy,
 * rebuild it with the neutralised URLs, write the whole value back escaped. */
static void
css_attr_decoded(struct rw *rw, const struct html_attr *a)
{
	struct css_scanner sc;
	struct css_url cu;
	char dec[CSS_DEC_MAX];
	size_t pos = 0;
	unsigned removed = 0;

	buf_reset(&rw->css);
	if (html_decode_attr_value(rw->in + a->value.start, a->value.end - a->value.start,
	    &rw->css) < 0) {
		rw->oom = 1;
		return;
	}
	buf_reset(&rw->work);
	css_scan_init(&sc, rw->css.data, rw->css.len, CSS_STYLE_ATTR);
	while (css_next_url(&sc, &cu, dec, sizeof(dec)) == 1) {
		struct css_span sp;
		const char *text;

		if (judge_resource(rw, cu.url, cu.url_len, css_res_flags(&cu)) != V_TRACKER)
			continue;
		css_neutralize(&cu, &sp, &text);
		if (sp.start < pos)
			continue;
		if (buf_append(&rw->work, rw->css.data + pos, sp.start - pos) < 0 ||
		    buf_puts(&rw->work, text) < 0) {
			rw->oom = 1;
			return;
		}
		pos = sp.end;
		removed++;
	}
	if (removed == 0)
		return;
	if (buf_append(&rw->work, rw->css.data + pos, rw->css.len - pos) < 0) {
		rw->oom = 1;
		return;
	}
	/* every '&' in the rebuilt value came from a reference: escape them all */
	if (escape_value(&rw->esc, rw->work.data, rw->work.len, a->quote, 1) < 0) {
		rw->oom = 1;
		return;
	}
	if (add_edit(rw, a->value.start, a->value.end, rw->esc.data, rw->esc.len) > 0)
		rw->c.resources_removed += removed;
}

static void
do_style_attr(struct rw *rw, const struct html_attr *a)
{
	const char *raw = rw->in + a->value.start;
	size_t n = a->value.end - a->value.start;

	/* every fetch in a declaration list needs a '(' (url(), image-set()),
	 * written as such or as a character reference (url&#40; url&lpar;) */
	if (n < 4 || !bytes_have_either(raw, n, '(', '&'))
		return;
	if (memchr(raw, '&', n) != NULL)
		css_attr_decoded(rw, a);
	else
		css_raw(rw, a->value.start, n, CSS_STYLE_ATTR);
}

/* ---- links (click consent) --------------------------------------------------------- */

/* Link text that names a functional link, lowercase (ASCII folded; non-ASCII
 * letters are matched as written, lowercase). */
static const char *const functional_words[] = {
	"unsubscribe", "opt out", "opt-out", "optout",
	"abmelden", "abbestellen", "newsletter abbestellen",
	"afmelden", "uitschrijven",
	"d\xc3\xa9sinscri", "desinscri", "d&eacute;sinscri", "d\xc3\xa9sabonner",
	"desabonner", "d&eacute;sabonner", "d\xc3\xa9sabonne", "desabonne",
	"darse de baja", "date de baja", "cancelar suscripci", "anular suscripci",
	"cancelar inscri", "descadastr",
	"disiscriviti", "cancella iscrizione", "annulla iscrizione",
	"wypisz", "rezygnuj",
	"avregistrera", "avsluta prenumeration", "afmeld", "meld deg av", "peruuta tilaus",
	"odhl\xc3\xa1sit", "leiratkoz",
	"view online", "view in browser", "view in your browser", "view this email",
	"view it in your browser", "web version", "webversion", "online version",
	"im browser", "online ansehen", "online anzeigen",
	"bekijk online", "in je browser", "in uw browser",
	"voir en ligne", "version en ligne", "navigateur",
	"ver en l\xc3\xadnea", "ver online", "visualizza online", "nel browser",
	"preferences", "preference center", "email settings", "manage subscription",
	"manage your subscription", "update your profile", "update profile",
	"einstellungen", "voorkeuren", "pr\xc3\xa9" "f\xc3\xa9rences", "preferencias",
	"preferenze", "ustawienia",
	/* the same in ISO-8859-1, which parts may keep (it is ASCII-compatible) */
	"d\xe9sinscri", "d\xe9sabonne", "pr\xe9" "f\xe9rences", "ver en l\xednea",
	NULL
};

/* Words in a URL (path and query) of functional pages. */
static const char *const functional_url_words[] = {
	"unsubscribe", "unsub", "optout", "opt-out", "opt_out", "abmelden",
	"preferences", "preference-center", "manage-subscription", "webversion",
	"view-online", "viewonline", "view_online", "view-in-browser", "browserview",
	NULL
};

static void
wordsets_build(void)
{
	wordset_build(&text_words, functional_words);
	wordset_build(&url_words, functional_url_words);
	wordset_build(&track_url_words, track_words);
}

static int
text_is_functional(struct rw *rw, const char *s, size_t n, int skip_tags)
{
	if (n > LINK_TEXT_MAX)
		n = LINK_TEXT_MAX;
	(void)rw;
	return wordset_find(&text_words, s, n, skip_tags);
}

/* Is S[0..N) one of the message's List-Unsubscribe URLs? */
static int
url_is_list_unsubscribe(struct rw *rw, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < rw->pol->n_unsubscribe; i++) {
		const char *uu = rw->pol->unsubscribe_urls[i];
		size_t m;

		if (uu == NULL)
			continue;
		while (*uu == '<' || is_space((unsigned char)*uu))
			uu++;
		m = strlen(uu);
		while (m > 0 && (uu[m - 1] == '>' || is_space((unsigned char)uu[m - 1])))
			m--;
		if (m == n && memcmp(uu, s, n) == 0)
			return 1;
	}
	return 0;
}

/* A List-Unsubscribe URL, or a URL naming an unsubscribe / preferences /
 * view-online page. */
static int
url_is_functional(struct rw *rw, const char *s, size_t n)
{
	if (url_is_list_unsubscribe(rw, s, n))
		return 1;
	return wordset_find(&url_words, s, n, 0);
}

/* Judge link S[0..N). FUNCTIONAL: the caller already knows it is one (its
 * text); otherwise the rule and the URL decide. Leaves a replacement in
 * rw->res and returns V_REPLACE, else V_KEEP. *CNT gets the CNT_* flags of
 * what the replacement does. */
/* Unwrap U (matched by RULE) and the wrappers inside its destination, at
 * most UNWRAP_DEPTH levels, into rw->work; stops at an exempt URL or one no
 * recipe recovers. *INNER gets the param rule of the destination, if any.
 * Returns the levels unwrapped (0: none), or -1 when out of memory. Unlike
 * rules_unwrap_nested() it does not match the outer URL twice, and the first
 * level may be a functional rule with a recipe. No URL is parsed twice: the
 * recipe reads U's parse, and leaves the parse of each destination (checked
 * by url_parse_valid_absolute) in rw->work_u, where the next level and the
 * caller read it. */
static int
unwrap_chain(struct rw *rw, const struct rule *rule, const struct url *u,
    const struct rule **inner)
{
	int levels = 0, r;

	*inner = NULL;
	if (!rules_has_unwrap(rule))
		return 0;
	r = rules_unwrap_url(rule, u, &rw->work, &rw->unwrap_scratch, &rw->work_u);
	if (r != RULES_OK)
		return r == RULES_E_NOMEM ? -1 : 0;
	for (levels = 1;; levels++) {
		const unsigned mask = RULE_LINK | RULE_PARAM | RULE_EXEMPT;
		const struct rule *next;
		struct url nu;
		struct buf sw;

		next = rules_match_memo(rw->pol->rules, &rw->work_u, mask, &rw->rmemo);
		if (next != NULL && rules_kind(next) == RULE_PARAM)
			*inner = next;
		if (next == NULL || rules_kind(next) != RULE_LINK || !rules_has_unwrap(next) ||
		    levels >= UNWRAP_DEPTH)
			return levels;
		r = rules_unwrap_url(next, &rw->work_u, &rw->work2, &rw->unwrap_scratch, &nu);
		if (r != RULES_OK)
			return r == RULES_E_NOMEM ? -1 : levels;
		/* nu points into work2's bytes, which move with the swap */
		sw = rw->work;
		rw->work = rw->work2;
		rw->work2 = sw;
		rw->work_u = nu;
	}
}

static enum verdict
judge_link_uncached(struct rw *rw, const char *s, size_t n, int functional, unsigned *cnt)
{
	struct url u;
	const struct rule *rule;
	struct pii_hit h;
	int r, pii = 0, levels = 0;
	unsigned kind;

	*cnt = 0;
	if (url_parse(s, n, &u) != 0 || !is_web(&u) || (u.flags & URL_F_NEVER_TOUCH))
		return V_KEEP;
	rule = rules_match_memo(rw->pol->rules, &u,
	    RULE_LINK | RULE_PARAM | RULE_FUNCTIONAL | RULE_EXEMPT, &rw->rmemo);
	kind = rule != NULL ? rules_kind(rule) : 0;
	if (kind == RULE_EXEMPT)
		return V_KEEP;
	if (kind == RULE_FUNCTIONAL)
		functional = 1;
	if (kind == RULE_LINK || (kind == RULE_FUNCTIONAL && rules_has_unwrap(rule))) {
		const struct rule *inner;

		levels = unwrap_chain(rw, rule, &u, &inner);
		if (levels < 0)
			goto oom;
		if (levels > 0) {	/* rw->work: a valid absolute URL */
			*cnt = CNT_UNWRAP;
			/* the wrapper's words are its destination's: checked there */
			if (!functional && !url_is_list_unsubscribe(rw, s, n) &&
			    !url_is_functional(rw, rw->work.data, rw->work.len)) {
				r = strip_personal(rw, rw->work.data, rw->work.len, &rw->work_u, inner,
				    &rw->res, &pii);
				if (r < 0)
					goto oom;
				if (r > 0 && stripped_is_valid(rw->work.data, rw->work.len, &rw->work_u,
				    &rw->res)) {
					*cnt |= CNT_CLEAN | (pii ? CNT_PII : 0);
					return V_REPLACE;
				}
			}
			buf_reset(&rw->res);
			if (buf_append(&rw->res, rw->work.data, rw->work.len) < 0)
				goto oom;
			return V_REPLACE;
		}
		if (functional || kind == RULE_FUNCTIONAL)
			return V_KEEP;
		if (rules_has_anonymize(rule)) {
			if (url_is_functional(rw, s, n))
				return V_KEEP;
			r = rules_anonymize(rule, s, n, &rw->res);
			if (r == RULES_E_NOMEM)
				goto oom;
			if (r == RULES_OK && url_is_valid_absolute(rw->res.data, rw->res.len)) {
				*cnt = CNT_ANON;
				return V_REPLACE;
			}
		}
		rw->c.links_unresolved++;
		if (rw->pol->pii != NULL && pii_find(rw->pol->pii, s, n, &h) == 1)
			rw->c.pii_hits++;
		return V_KEEP;
	}
	if (functional)
		return V_KEEP;
	r = strip_personal(rw, s, n, &u, kind == RULE_PARAM ? rule : NULL, &rw->res, &pii);
	if (r < 0)
		goto oom;
	if (r > 0 && stripped_is_valid(s, n, &u, &rw->res) && !url_is_functional(rw, s, n)) {
		*cnt = CNT_CLEAN | (pii ? CNT_PII : 0);
		return V_REPLACE;
	}
	if (r > 0)
		return V_KEEP;
	/* the address in the path of an untracked link: personal, but cutting
	 * it would break the link */
	if (rw->pol->pii != NULL && rw->pii_in_url != 0 && pii_find(rw->pol->pii, s, n, &h) == 1) {
		rw->c.pii_hits++;
		rw->c.links_unresolved++;
	}
	return V_KEEP;
oom:
	rw->oom = 1;
	return V_KEEP;
}

static enum verdict
judge_link(struct rw *rw, const char *s, size_t n, int functional, unsigned *cnt)
{
	*cnt = 0;
	MEMOIZED(rw, s, n, 0x100u | (functional != 0),
	    judge_link_uncached(rw, s, n, functional, cnt));
}

static void
count_link(struct rw *rw, unsigned cnt)
{
	if (cnt & CNT_UNWRAP)
		rw->c.links_unwrapped++;
	if (cnt & CNT_CLEAN)
		rw->c.links_cleaned++;
	if (cnt & CNT_ANON)
		rw->c.links_anonymized++;
	if (cnt & CNT_PII)
		rw->c.pii_hits++;
}

/* The pending <a>: its text is IN[a_text_start, text_end). */
static void
finish_link(struct rw *rw, size_t text_end)
{
	unsigned cnt;

	if (!rw->a_pending)
		return;
	rw->a_pending = 0;
	if (text_end < rw->a_text_start)
		text_end = rw->a_text_start;
	if (text_is_functional(rw, rw->in + rw->a_text_start, text_end - rw->a_text_start, 1)) {
		/* again, as a functional link: at most unwrapped */
		if (decode_url_attr(rw, &rw->a_href) < 0)
			return;
		if (judge_link(rw, rw->url.data, rw->url.len, 1, &cnt) != V_REPLACE)
			return;
		if (set_attr_value(rw, &rw->a_href, rw->res.data, rw->res.len) > 0)
			count_link(rw, cnt);
		return;
	}
	if (set_attr_value(rw, &rw->a_href, rw->a_res.data, rw->a_res.len) > 0)
		count_link(rw, rw->a_kind);
}

/* a, area: judge the href now; the edit of an <a> waits for its text. */
static void
do_link(struct rw *rw, const struct html_token *tok, int is_area)
{
	const struct html_attr *a = html_attr_get(tok, HTML_ATTR_HREF);
	const struct html_attr *ping = html_attr_get(tok, HTML_ATTR_PING);
	unsigned cnt;
	int functional = 0;

	if (!is_area)
		finish_link(rw, tok->span.start);
	/* hyperlink auditing: a ping= URL is pure click tracking */
	if (ping != NULL && drop_attr(rw, tok, ping) > 0)
		rw->c.resources_removed++;
	if (a == NULL || !a->has_value || a->value.end == a->value.start)
		return;
	if (decode_url_attr(rw, a) < 0)
		return;
	if (is_area) {
		const struct html_attr *alt = html_attr_get(tok, HTML_ATTR_ALT);

		if (alt != NULL)
			functional = text_is_functional(rw, rw->in + alt->value.start,
			    alt->value.end - alt->value.start, 0);
	}
	if (judge_link(rw, rw->url.data, rw->url.len, functional, &cnt) != V_REPLACE)
		return;
	if (is_area || tok->self_closing) {
		if (set_attr_value(rw, a, rw->res.data, rw->res.len) > 0)
			count_link(rw, cnt);
		return;
	}
	buf_reset(&rw->a_res);
	if (buf_append(&rw->a_res, rw->res.data, rw->res.len) < 0) {
		rw->oom = 1;
		return;
	}
	rw->a_pending = 1;
	rw->a_href = *a;
	rw->a_kind = cnt;
	rw->a_text_start = tok->span.end;
}

/* ---- the HTML walk ------------------------------------------------------------------- */

/* Drop an element with its content up to its end tag. A self-closed AMP
 * element (no content) loses its tag only. */
static void
start_drop(struct rw *rw, const struct html_token *tok, const char *name)
{
	if (tok->self_closing && strcmp(name, "script") != 0) {
		remove_span(rw, tok->span.start, tok->span.end);
		return;
	}
	rw->dropping = 1;
	rw->drop_start = tok->span.start;
	rw->drop_tag_end = tok->span.end;
	snprintf(rw->drop_name, sizeof(rw->drop_name), "%s", name);
}

/* link rel=...: a list of tokens. */
static int
rel_has(struct rw *rw, const struct html_attr *rel, const char *word)
{
	const char *s = rw->in + rel->value.start;
	size_t n = rel->value.end - rel->value.start, i = 0, b, m = strlen(word);

	while (i < n) {
		while (i < n && is_space((unsigned char)s[i]))
			i++;
		b = i;
		while (i < n && !is_space((unsigned char)s[i]))
			i++;
		if (i - b == m && span_eq_ci(s + b, m, word))
			return 1;
	}
	return 0;
}

static int
attr_is_remote(struct rw *rw, const struct html_attr *a)
{
	struct url u;

	if (a == NULL || decode_url_attr(rw, a) < 0)
		return 0;
	return url_parse(rw->url.data, rw->url.len, &u) == 0 && is_web(&u);
}

static int
do_link_element(struct rw *rw, const struct html_token *tok)
{
	const struct html_attr *rel = html_attr_get(tok, HTML_ATTR_REL);
	const struct html_attr *href = html_attr_get(tok, HTML_ATTR_HREF);
	int remove = 0;

	if (href == NULL)
		return 0;
	if (rel != NULL && (rel_has(rw, rel, "prefetch") || rel_has(rw, rel, "dns-prefetch") ||
	    rel_has(rw, rel, "preconnect") || rel_has(rw, rel, "prerender")))
		remove = attr_is_remote(rw, href);
	else
		remove = judge_attr(rw, href, RES_NOCLEAN) == V_TRACKER;
	if (remove && remove_span(rw, tok->span.start, tok->span.end) > 0) {
		rw->c.resources_removed++;
		return 1;
	}
	return 0;
}

static int
do_meta(struct rw *rw, const struct html_token *tok)
{
	const struct html_attr *he = html_attr_get(tok, HTML_ATTR_HTTP_EQUIV);

	if (he == NULL)
		return 0;
	buf_reset(&rw->tmp);
	if (html_decode_url(rw->in + he->value.start, he->value.end - he->value.start,
	    &rw->tmp) < 0) {
		rw->oom = 1;
		return 0;
	}
	if (span_eq_ci(rw->tmp.data, rw->tmp.len, "refresh") &&
	    remove_span(rw, tok->span.start, tok->span.end) > 0) {
		rw->c.resources_removed++;
		return 1;
	}
	return 0;
}

static int
input_is_image(struct rw *rw, const struct html_token *tok)
{
	const struct html_attr *t = html_attr_get(tok, HTML_ATTR_TYPE);
	const char *s;
	size_t n;

	if (t == NULL)
		return 0;
	s = rw->in + t->value.start;
	n = t->value.end - t->value.start;
	while (n > 0 && is_space((unsigned char)*s))
		s++, n--;
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	return span_eq_ci(s, n, "image");
}

/* iframe, frame, embed, object: their URL attribute NAME. Invisibility alone
 * makes one a tracker; like an image's, it is read only when it matters. */
static void
frame_attr(struct rw *rw, const struct html_token *tok, enum html_attr_id name)
{
	rw->vis_tok = tok;
	rw->vis = -1;
	resource_attr(rw, tok, name, RES_FRAME | RES_VIS_LAZY);
	rw->vis_tok = NULL;
}

/* The start tags resource_tag() acts on by name: every case label below but
 * body, table, td and th, which only matter with a background attribute.
 * The walk asks the tokenizer for these (walk_wants()); a tag missing here
 * would never reach resource_tag(). */
#define T_(id)	HTML_TAG_BIT(HTML_TAG_##id)
#define RESOURCE_TAGS	(T_(IMG) | T_(AMP_IMG) | T_(INPUT) | T_(AMP_PIXEL) |		\
	T_(AMP_ANALYTICS) | T_(SCRIPT) | T_(AUDIO) | T_(BGSOUND) | T_(APPLET) |	\
	T_(EMBED) | T_(FRAME) | T_(IFRAME) | T_(OBJECT) | T_(HTML) | T_(IMAGE) |	\
	T_(LINK) | T_(META) | T_(SOURCE) | T_(TRACK) | T_(VIDEO))

/* The element a start tag is judged as: its own, or for a name holding a
 * NUL ("<img\0 src=...>", which the spec reads as an unknown element) the
 * name before the NUL, as read by a mail client that drops or stops at
 * NULs: judging more markup is the safe side. */
static enum html_tag_id
judged_tag(const struct html_token *tok)
{
	if (!tok->name_has_nul)
		return (enum html_tag_id)tok->tag_id;
	return html_tag_id_of(tok->lname, strlen(tok->lname));
}

/* A start tag without open consent. Returns 1 when the tag was removed whole. */
static int
resource_tag(struct rw *rw, const struct html_token *tok)
{
	switch (judged_tag(tok)) {
	case HTML_TAG_IMG:
	case HTML_TAG_AMP_IMG:
		return do_image(rw, tok);
	case HTML_TAG_INPUT:
		return input_is_image(rw, tok) ? do_image(rw, tok) : 0;
	case HTML_TAG_AMP_PIXEL:
		rw->c.pixels_removed++;
		start_drop(rw, tok, tok->lname);
		return 1;
	case HTML_TAG_AMP_ANALYTICS:
	case HTML_TAG_SCRIPT:
		rw->c.resources_removed++;
		start_drop(rw, tok, tok->lname);
		return 1;
	case HTML_TAG_AUDIO:
	case HTML_TAG_BGSOUND:
		resource_attr(rw, tok, HTML_ATTR_SRC, 0);
		return 0;
	case HTML_TAG_APPLET:
		resource_attr(rw, tok, HTML_ATTR_CODE, RES_NOCLEAN);
		resource_attr(rw, tok, HTML_ATTR_ARCHIVE, RES_NOCLEAN);
		resource_attr(rw, tok, HTML_ATTR_CODEBASE, RES_NOCLEAN);
		return 0;
	case HTML_TAG_BODY:
	case HTML_TAG_TABLE:
	case HTML_TAG_TD:
	case HTML_TAG_TH:
		resource_attr(rw, tok, HTML_ATTR_BACKGROUND, 0);
		return 0;
	case HTML_TAG_EMBED:
	case HTML_TAG_FRAME:
	case HTML_TAG_IFRAME:
		frame_attr(rw, tok, HTML_ATTR_SRC);
		return 0;
	case HTML_TAG_OBJECT:
		frame_attr(rw, tok, HTML_ATTR_DATA);
		return 0;
	case HTML_TAG_HTML: {
		/* application cache manifest: never content, always a fetch */
		const struct html_attr *m = html_attr_get(tok, HTML_ATTR_MANIFEST);

		if (m != NULL && attr_is_remote(rw, m) && drop_attr(rw, tok, m) > 0)
			rw->c.resources_removed++;
		return 0;
	}
	case HTML_TAG_IMAGE:
		resource_attr(rw, tok, HTML_ATTR_HREF, RES_NOCLEAN);
		resource_attr(rw, tok, HTML_ATTR_XLINK_HREF, RES_NOCLEAN);
		return 0;
	case HTML_TAG_LINK:
		return do_link_element(rw, tok);
	case HTML_TAG_META:
		return do_meta(rw, tok);
	case HTML_TAG_SOURCE: {
		const struct html_attr *ss = html_attr_get(tok, HTML_ATTR_SRCSET);

		resource_attr(rw, tok, HTML_ATTR_SRC, 0);
		if (ss != NULL && srcset_is_tracking(rw, ss, 0) && drop_attr(rw, tok, ss) > 0)
			rw->c.resources_removed++;
		return 0;
	}
	case HTML_TAG_TRACK:
		resource_attr(rw, tok, HTML_ATTR_SRC, RES_NOCLEAN);
		return 0;
	case HTML_TAG_VIDEO:
		resource_attr(rw, tok, HTML_ATTR_SRC, 0);
		resource_attr(rw, tok, HTML_ATTR_POSTER, 0);
		return 0;
	default:
		return 0;
	}
}

static void
style_attr_of(struct rw *rw, const struct html_token *tok)
{
	const struct html_attr *a = html_attr_get(tok, HTML_ATTR_STYLE);

	if (a != NULL)
		do_style_attr(rw, a);
}

/* Judge link attribute A now; its text is IN[ts, te). */
static void
link_now(struct rw *rw, const struct html_attr *a, size_t ts, size_t te)
{
	unsigned cnt;

	if (a == NULL || !a->has_value || a->value.end == a->value.start ||
	    decode_url_attr(rw, a) < 0)
		return;
	if (judge_link(rw, rw->url.data, rw->url.len, 0, &cnt) != V_REPLACE)
		return;
	if (te > ts && text_is_functional(rw, rw->in + ts, te - ts, 1) &&
	    judge_link(rw, rw->url.data, rw->url.len, 1, &cnt) != V_REPLACE)
		return;
	if (set_attr_value(rw, a, rw->res.data, rw->res.len) > 0)
		count_link(rw, cnt);
}

/* End of the text of a link starting at FROM inside [.., END): up to the next
 * "</" (the end tag of the link or of the VML shape). */
static size_t
link_text_end(struct rw *rw, size_t from, size_t end)
{
	size_t i;

	for (i = from; i + 1 < end; i++)
		if (rw->in[i] == '<' && rw->in[i + 1] == '/')
			return i;
	return end;
}

/* Outlook for Windows renders the inside of conditional comments
 * (<!--[if mso]> ... <![endif]-->): VML buttons (v:roundrect href=...) carry
 * the same tracked link as the <a> beside them, VML images (v:image, v:fill,
 * v:imagedata src=) are fetched like img. Their tags are judged like the
 * others; the comment stays a comment. */
static void
walk_conditional(struct rw *rw, const struct html_token *c, int open, int click)
{
	struct html_tokenizer t;
	struct html_token tok;
	size_t s = c->data.start, e = c->data.end;

	if (e - s < 4 || !span_eq_ci(rw->in + s, 3, "[if"))
		return;
	html_init(&t, rw->in, e);
	t.pos = s;
	html_set_options(&t, HTML_OPT_SKIP_TEXT | HTML_OPT_NO_AUTO_MODEL);
	html_want_end_tags(&t, 0);
	while (!rw->oom && html_next(&t, &tok) != HTML_EOF) {
		enum html_tag_id id;

		if (tok.kind != HTML_START_TAG || tok.name_truncated)
			continue;
		id = judged_tag(&tok);
		if (!click && (id == HTML_TAG_A || id == HTML_TAG_AREA ||
		    strncmp(tok.lname, "v:", 2) == 0))
			link_now(rw, html_attr_get(&tok, HTML_ATTR_HREF), tok.span.end,
			    link_text_end(rw, tok.span.end, e));
		if (open)
			continue;
		if (id == HTML_TAG_IMG) {
			if (do_image(rw, &tok))
				continue;
		} else if (id == HTML_TAG_V_IMAGE || id == HTML_TAG_V_FILL ||
		    id == HTML_TAG_V_IMAGEDATA) {
			resource_attr(rw, &tok, HTML_ATTR_SRC, RES_NOCLEAN);
		}
		style_attr_of(rw, &tok);
	}
}

/* The first <base href> with an absolute http(s) URL sets the document's
 * base (as in browsers; it normally stands in <head>, before any resource). */
static void
do_base(struct rw *rw, const struct html_token *tok)
{
	const struct html_attr *a = html_attr_get(tok, HTML_ATTR_HREF);
	struct url u;

	if (rw->base.len > 0 || a == NULL || decode_url_attr(rw, a) < 0)
		return;
	if (url_parse(rw->url.data, rw->url.len, &u) != 0 || !is_web(&u) ||
	    (u.flags & URL_F_PROTOREL))
		return;
	if (buf_append(&rw->base, rw->url.data, rw->url.len) < 0) {
		rw->oom = 1;
		return;
	}
	/* verdicts remembered so far judged relative URLs without a base: a
	 * repeat of one of them now resolves elsewhere (and an image's memo
	 * key no longer tells a visible one from an invisible one) */
	memset(rw->memo, 0, sizeof(rw->memo));
}

/* The tags walk_html() acts on; the tokenizer passes over the others (half
 * the tags of a table layout: </td>, <tr>, a <table> without style). */
static void
walk_wants(struct html_tokenizer *t, int open, int click)
{
	uint64_t start = 0;
	unsigned attrs = 0;

	if (!click)
		start |= T_(A) | T_(AREA);
	if (!open) {
		start |= RESOURCE_TAGS | T_(BASE) | T_(STYLE);
		attrs |= 1u << HTML_ATTR_STYLE | 1u << HTML_ATTR_BACKGROUND;
	}
	html_want_start_tags(t, start, attrs);
	/* a link's, a style sheet's, and those of the elements start_drop() drops */
	html_want_end_tags(t, T_(A) | T_(STYLE) | T_(SCRIPT) | T_(AMP_PIXEL) | T_(AMP_ANALYTICS));
}

static void
walk_html(struct rw *rw)
{
	struct html_tokenizer t;
	struct html_token tok;
	int open = (rw->pol->consent & CONSENT_OPEN) != 0;
	int click = (rw->pol->consent & CONSENT_CLICK) != 0;
	enum html_kind k;

	html_init(&t, rw->in, rw->len);
	html_set_options(&t, HTML_OPT_SKIP_TEXT);
	walk_wants(&t, open, click);
	while (!rw->oom && (k = html_next(&t, &tok)) != HTML_EOF) {
		if (k == HTML_COMMENT && !rw->dropping) {
			walk_conditional(rw, &tok, open, click);
			continue;
		}
		if (k != HTML_START_TAG && k != HTML_END_TAG)
			continue;
		if (rw->dropping) {
			if (k == HTML_END_TAG && html_tag_is(&tok, rw->drop_name)) {
				remove_span(rw, rw->drop_start, tok.span.end);
				rw->dropping = 0;
			}
			continue;
		}
		if (k == HTML_END_TAG) {
			if (rw->a_pending && tok.tag_id == HTML_TAG_A)
				finish_link(rw, tok.span.start);
			else if (rw->in_style && tok.tag_id == HTML_TAG_STYLE) {
				css_raw(rw, rw->style_start, tok.span.start - rw->style_start,
				    CSS_STYLESHEET);
				rw->in_style = 0;
			}
			continue;
		}
		if (!click && (tok.tag_id == HTML_TAG_A || tok.tag_id == HTML_TAG_AREA)) {
			do_link(rw, &tok, tok.tag_id == HTML_TAG_AREA);
			if (open)
				continue;
		}
		if (open)
			continue;
		if (resource_tag(rw, &tok))
			continue;
		if (tok.tag_id == HTML_TAG_BASE)
			do_base(rw, &tok);
		if (tok.tag_id == HTML_TAG_STYLE && !tok.self_closing && !rw->in_style) {
			rw->in_style = 1;
			rw->style_start = tok.span.end;
		}
		style_attr_of(rw, &tok);
	}
	/* an unclosed script runs to the end (as browsers read it); an unclosed
	 * AMP element loses its start tag only, not the rest of the message */
	if (rw->dropping)
		remove_span(rw, rw->drop_start, strcmp(rw->drop_name, "script") == 0 ?
		    rw->len : rw->drop_tag_end);
	if (rw->in_style)
		css_raw(rw, rw->style_start, rw->len - rw->style_start, CSS_STYLESHEET);
	finish_link(rw, rw->len);
}

/* ---- text/plain -------------------------------------------------------------------- */

/* The text before a URL, back to the start of the previous line, but not
 * into the URL before it. */
static int
text_context_functional(struct rw *rw, size_t off, size_t prev_end)
{
	size_t b = off, lines = 0;

	while (b > prev_end && off - b < 160) {
		if (rw->in[b - 1] == '\n' && ++lines == 2)
			break;
		b--;
	}
	return text_is_functional(rw, rw->in + b, off - b, 0);
}

static void
walk_text(struct rw *rw)
{
	size_t pos = 0, off, n, prev_end = 0;
	unsigned flags, cnt;

	while (!rw->oom && url_find_in_text(rw->in, rw->len, &pos, &off, &n, &flags) == 1) {
		size_t ctx_from = prev_end;

		prev_end = off + n;
		if (flags & URL_TEXT_WWW)
			continue;
		if (judge_link(rw, rw->in + off, n, 0, &cnt) != V_REPLACE)
			continue;
		if (text_context_functional(rw, off, ctx_from) &&
		    judge_link(rw, rw->in + off, n, 1, &cnt) != V_REPLACE)
			continue;
		if (add_edit(rw, off, off + n, rw->res.data, rw->res.len) > 0)
			count_link(rw, cnt);
	}
}

/* ---- entry points ---------------------------------------------------------------------- */

static void
rw_free(struct rw *rw)
{
	free(rw->ed);
	buf_free(&rw->rep);
	buf_free(&rw->url);
	buf_free(&rw->res);
	buf_free(&rw->work);
	buf_free(&rw->work2);
	rules_scratch_free(&rw->unwrap_scratch);
	buf_free(&rw->base);
	buf_free(&rw->abs);
	buf_free(&rw->esc);
	buf_free(&rw->css);
	buf_free(&rw->tmp);
	buf_free(&rw->a_res);
}

static void
add_counts(struct rewrite_counts *to, const struct rewrite_counts *c)
{
	if (to == NULL)
		return;
	to->pixels_removed += c->pixels_removed;
	to->resources_removed += c->resources_removed;
	to->links_unwrapped += c->links_unwrapped;
	to->links_cleaned += c->links_cleaned;
	to->links_anonymized += c->links_anonymized;
	to->links_unresolved += c->links_unresolved;
	to->pii_hits += c->pii_hits;
}

int
rewrite_part_traced(const struct rewrite_policy *pol, enum rewrite_kind kind,
    const char *in, size_t len, struct buf *out, int *changed,
    struct rewrite_counts *counts, struct rewrite_trace *trace)
{
	struct rw rw;
	int r;

	*changed = 0;
	if (trace != NULL) {
		trace->spans = NULL;
		trace->n = 0;
	}
	if (pol == NULL || pol->rules == NULL || in == NULL || len == 0)
		return 0;
	/* all consent: nothing to look for */
	if ((pol->consent & (CONSENT_OPEN | CONSENT_CLICK)) == (CONSENT_OPEN | CONSENT_CLICK))
		return 0;
	if (kind == REWRITE_TEXT && (pol->consent & CONSENT_CLICK))
		return 0;
	pthread_once(&wordsets_once, wordsets_build);
	memset(&rw, 0, sizeof(rw));
	rw.pol = pol;
	rw.in = in;
	rw.len = len;
	if (kind == REWRITE_HTML)
		walk_html(&rw);
	else
		walk_text(&rw);
	if (rw.oom) {
		rw_free(&rw);
		return -1;
	}
	r = apply_edits(&rw, out, trace);
	if (r < 0) {
		if (trace != NULL) {
			free(trace->spans);
			trace->spans = NULL;
			trace->n = 0;
		}
		rw_free(&rw);
		return -1;
	}
	*changed = r > 0;
	add_counts(counts, &rw.c);
	rw_free(&rw);
	return 0;
}

int
rewrite_part(const struct rewrite_policy *pol, enum rewrite_kind kind,
    const char *in, size_t len, struct buf *out, int *changed,
    struct rewrite_counts *counts)
{
	return rewrite_part_traced(pol, kind, in, len, out, changed, counts, NULL);
}
