/* html.h - a WHATWG-following HTML tokenizer that reports byte offsets.
 *
 * The tokenizer is a pull iterator over one buffer (a decoded text/html part in
 * any ASCII-compatible charset; NULs and invalid UTF-8 are fine). It never
 * allocates: the attributes of the current tag live in a fixed array inside the
 * tokenizer and stay valid until the next html_next() call. Every position is a
 * byte offset into the caller's buffer, so a caller can edit raw bytes.
 *
 * Values (names, attribute values, text) are reported as RAW spans: decode them
 * with html_decode*() when their meaning matters (character references, NUL).
 */
#ifndef CM_HTML_H
#define CM_HTML_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

#define HTML_MAX_ATTRS	64	/* attributes stored per tag; more are counted */
#define HTML_NAME_MAX	32	/* bytes kept of the lowercased tag name */

enum html_kind {
	HTML_EOF = 0,
	HTML_START_TAG,
	HTML_END_TAG,
	HTML_COMMENT,
	HTML_DOCTYPE,
	HTML_TEXT
};

/* Content models (the tokenizer states a tree builder would switch to). */
enum html_model {
	HTML_MODEL_DATA = 0,	/* text: character references, NUL kept */
	HTML_MODEL_RCDATA,	/* title, textarea: character references, NUL -> U+FFFD */
	HTML_MODEL_RAWTEXT,	/* style, xmp, iframe, noembed, noframes: NUL -> U+FFFD */
	HTML_MODEL_SCRIPT,	/* script (with the escaped states): NUL -> U+FFFD */
	HTML_MODEL_PLAINTEXT,	/* plaintext: to the end, NUL -> U+FFFD */
	HTML_MODEL_CDATA	/* CDATA section (foreign content only): raw */
};

/* Options for html_set_options(). */
#define HTML_OPT_SKIP_TEXT	0x01	/* never return HTML_TEXT (cheaper) */
#define HTML_OPT_NO_AUTO_MODEL	0x02	/* do not switch content model by tag name */
#define HTML_OPT_CDATA		0x04	/* <![CDATA[ opens a CDATA section (foreign
					 * content); default: a bogus comment */
#define HTML_OPT_SOME_END_TAGS	0x08	/* set by html_want_end_tags() */
#define HTML_OPT_SOME_START_TAGS 0x10	/* set by html_want_start_tags() */

/* Element and attribute names the engine asks about, recognised once by the
 * tokenizer (a switch on length and bytes) so that a caller switches on a
 * number instead of comparing strings per tag. Everything else is _OTHER;
 * the names stay available as spans. */
enum html_tag_id {
	HTML_TAG_OTHER = 0,
	HTML_TAG_A, HTML_TAG_AMP_ANALYTICS, HTML_TAG_AMP_IMG, HTML_TAG_AMP_PIXEL,
	HTML_TAG_APPLET, HTML_TAG_AREA, HTML_TAG_AUDIO, HTML_TAG_BASE, HTML_TAG_BGSOUND,
	HTML_TAG_BODY, HTML_TAG_EMBED, HTML_TAG_FRAME, HTML_TAG_HTML, HTML_TAG_IFRAME,
	HTML_TAG_IMAGE, HTML_TAG_IMG, HTML_TAG_INPUT, HTML_TAG_LINK, HTML_TAG_MATH,
	HTML_TAG_META, HTML_TAG_NOEMBED, HTML_TAG_NOFRAMES, HTML_TAG_OBJECT,
	HTML_TAG_PLAINTEXT, HTML_TAG_SCRIPT, HTML_TAG_SOURCE, HTML_TAG_STYLE, HTML_TAG_SVG,
	HTML_TAG_TABLE, HTML_TAG_TD, HTML_TAG_TEXTAREA, HTML_TAG_TH, HTML_TAG_TITLE,
	HTML_TAG_TRACK, HTML_TAG_VIDEO, HTML_TAG_XMP,
	HTML_TAG_V_FILL, HTML_TAG_V_IMAGE, HTML_TAG_V_IMAGEDATA	/* VML (Outlook) */
};

enum html_attr_id {
	HTML_ATTR_OTHER = 0,
	HTML_ATTR_ALT, HTML_ATTR_ARCHIVE, HTML_ATTR_BACKGROUND, HTML_ATTR_CODE,
	HTML_ATTR_CODEBASE, HTML_ATTR_DATA, HTML_ATTR_HEIGHT, HTML_ATTR_HIDDEN, HTML_ATTR_HREF,
	HTML_ATTR_HTTP_EQUIV, HTML_ATTR_MANIFEST, HTML_ATTR_PING, HTML_ATTR_POSTER,
	HTML_ATTR_REL, HTML_ATTR_SRC, HTML_ATTR_SRCSET, HTML_ATTR_STYLE, HTML_ATTR_TYPE,
	HTML_ATTR_WIDTH, HTML_ATTR_XLINK_HREF,
	HTML_ATTR__COUNT	/* <= 32: one bit each in html_token.attr_known */
};

/* The id of a lowercase name (tests, and callers holding a name), and the
 * name of an id ("" for HTML_TAG_OTHER). */
enum html_tag_id html_tag_id_of(const char *lower, size_t n);
const char *html_tag_name(enum html_tag_id id);
enum html_attr_id html_attr_id_of(const char *name, size_t n);

struct html_span {
	size_t start, end;	/* [start, end) byte offsets */
};

struct html_attr {
	struct html_span span;	/* whole attribute: name through value / closing quote */
	struct html_span name;	/* raw name (compare with html_span_eq) */
	struct html_span value;	/* raw value without quotes; empty when absent */
	char quote;		/* '"', '\'' or 0 (unquoted or absent) */
	unsigned char id;	/* enum html_attr_id of the name */
	unsigned char has_value;	/* an '=' was present */
	unsigned char duplicate;	/* an earlier attribute has the same name: the
					 * spec ignores this one (first wins) */
};

struct html_token {
	enum html_kind kind;
	struct html_span span;	/* the whole token (tag: '<' through '>') */
	struct html_span name;	/* tag name, DOCTYPE name (raw) */
	struct html_span data;	/* comment data, text */
	enum html_model text_model;	/* TEXT: which content model it came from */

	/* tags */
	char lname[HTML_NAME_MAX + 1];	/* ASCII-lowercased name, NUL-terminated */
	unsigned char tag_id;		/* enum html_tag_id of lname (tags only) */
	size_t lname_len;		/* bytes in lname (may contain NULs) */
	unsigned char name_truncated;	/* the name was longer than HTML_NAME_MAX */
	unsigned char name_has_nul;	/* lname holds a NUL (the spec reads U+FFFD:
					 * not a known element, so tag_id is OTHER) */
	unsigned char self_closing;
	const struct html_attr *attrs;	/* into the tokenizer; valid until next call */
	size_t nattrs;			/* stored in attrs[] (<= HTML_MAX_ATTRS) */
	size_t nattrs_total;		/* seen in the tag */
	unsigned char attrs_overflow;	/* nattrs_total > HTML_MAX_ATTRS */
	unsigned attr_known;		/* bit (1 << id): attrs[] has a known name */
	unsigned char attr_at[HTML_ATTR__COUNT];	/* index of its first one */

	/* DOCTYPE */
	struct html_span public_id, system_id;
	unsigned char has_name, has_public_id, has_system_id, force_quirks;
};

struct html_tokenizer {
	const unsigned char *buf;
	size_t len;
	size_t pos;
	unsigned opts;
	enum html_model model;
	unsigned char pending_end;	/* an appropriate end tag starts at pos */
	unsigned char last_start_len;	/* 0: no start tag yet (never appropriate) */
	char last_start[HTML_NAME_MAX + 1];
	unsigned foreign_depth[2];	/* open <svg>, <math>: no content model switch */
	uint64_t end_tags;		/* HTML_OPT_SOME_END_TAGS: HTML_TAG_BIT()s returned */
	uint64_t start_tags;		/* HTML_OPT_SOME_START_TAGS: the same, and */
	unsigned start_attrs;		/* ... start tags with these (1 << attr id) */
	uint32_t bare_names[2][16];	/* [end][length]: first letters (bit 0 = 'a') of
					 * the tag names a bare tag may have to be read for */
	struct html_attr attrs[HTML_MAX_ATTRS];
};

void html_init(struct html_tokenizer *t, const char *buf, size_t len);
void html_set_options(struct html_tokenizer *t, unsigned opts);
/* With HTML_OPT_SKIP_TEXT: return only the end tags whose ids are in IDS
 * (a set of HTML_TAG_BIT()s); the others are read and passed over, which
 * spares a caller that ignores them a round trip per end tag. End tags that
 * close RCDATA, RAWTEXT and script content are always returned. */
#define HTML_TAG_BIT(id)	(1ull << (id))
void html_want_end_tags(struct html_tokenizer *t, uint64_t ids);
/* With HTML_OPT_SKIP_TEXT: return only the start tags whose id is in IDS or
 * that carry an attribute whose id is in ATTRS (a set of 1 << html_attr_id);
 * the others are read (content models switch as usual) and passed over.
 * Tags whose name holds a NUL are always returned: a mail client that drops
 * NULs reads "<img\0" as <img>. */
void html_want_start_tags(struct html_tokenizer *t, uint64_t ids, unsigned attrs);
/* Start in content model `m`, as if `last_start_tag` (lowercase, or NULL) was
 * the last start tag emitted. Returns -1 if the name is too long to track. */
int html_set_model(struct html_tokenizer *t, enum html_model m, const char *last_start_tag);
/* Next token into *tok; returns its kind (HTML_EOF at the end, repeatedly). */
enum html_kind html_next(struct html_tokenizer *t, struct html_token *tok);

/* The three lookups below are called per tag and per attribute with string
 * literals: inline, their strlen() is a constant and a name of another
 * length costs one comparison. The _n functions take the length. */
int html_span_eq_n(const char *buf, struct html_span s, const char *lower, size_t n);
const struct html_attr *html_attr_find_n(const struct html_token *tok, const char *buf,
    const char *lower, size_t n);

/* ASCII case-insensitive: does buf[s] equal the lowercase name `lower`? */
static inline int
html_span_eq(const char *buf, struct html_span s, const char *lower)
{
	size_t n = strlen(lower);

	return s.end - s.start == n && html_span_eq_n(buf, s, lower, n);
}

/* Is the token's tag name exactly `lower` (not truncated)? The first bytes
 * are compared first (lname is NUL-terminated), which also spares strlen()
 * on most tags when `lower` is not a literal. */
static inline int
html_tag_is(const struct html_token *tok, const char *lower)
{
	return !tok->name_truncated && tok->lname[0] == lower[0] &&
	    tok->lname_len == strlen(lower) && memcmp(tok->lname, lower, tok->lname_len) == 0;
}

/* The first (effective) attribute named `lower`, or NULL. */
static inline const struct html_attr *
html_attr_find(const struct html_token *tok, const char *buf, const char *lower)
{
	return html_attr_find_n(tok, buf, lower, strlen(lower));
}

/* The first (effective) attribute with a known name, or NULL: the same
 * attribute html_attr_find() returns for that name. */
static inline const struct html_attr *
html_attr_get(const struct html_token *tok, enum html_attr_id id)
{
	return (tok->attr_known >> id) & 1u ? &tok->attrs[tok->attr_at[id]] : NULL;
}

/* Decoding of raw spans; all append UTF-8 to `out` and return 0, or -1 on OOM. */
#define HTML_DEC_CHARREFS	0x01	/* decode character references */
#define HTML_DEC_ATTRIBUTE	0x02	/* ... with the attribute-value legacy rule */
#define HTML_DEC_NUL		0x04	/* NUL -> U+FFFD */
int html_decode(const char *raw, size_t len, unsigned flags, struct buf *out);
int html_decode_charrefs(const char *raw, size_t len, int in_attribute, struct buf *out);
/* An attribute value as the DOM sees it (references, NUL). */
int html_decode_attr_value(const char *raw, size_t len, struct buf *out);
/* An attribute value as a URL parser sees it: decoded, leading/trailing C0
 * controls and spaces trimmed, ASCII tab and newline removed. */
int html_decode_url(const char *raw, size_t len, struct buf *out);
/* Text of a TEXT token as the DOM sees it (per its content model). */
int html_decode_text(const char *buf, const struct html_token *tok, struct buf *out);

#endif
