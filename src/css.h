/* css.h - find every fetchable URL in CSS, and read the box properties of an
 * inline style, without allocating.
 *
 * Two kinds of input, both passed as raw bytes with a length (no NUL needed,
 * NUL bytes are harmless):
 *
 *   CSS_STYLE_ATTR   the value of an HTML style="..." attribute: a list of
 *                    declarations ("color: red; background: url(x)").
 *   CSS_STYLESHEET   the contents of a <style> element: rules, at-rules,
 *                    blocks.
 *
 * HTML character references are NOT decoded here: `&quot;` is four CSS bytes
 * to this scanner. For a style attribute the caller decides: either scan the
 * raw attribute bytes (offsets map 1:1 onto the message, but a URL written
 * with `&quot;` or `&#40;` is mis-read), or - recommended - decode the
 * references of the attribute value into a scratch buffer, scan that, apply
 * the edits to the decoded copy and write the whole attribute value back
 * re-escaped when anything changed. <style> contents are raw text in HTML, so
 * they need no decoding.
 *
 * Tokenisation follows CSS Syntax Level 3 for what matters to URLs: comments,
 * strings (with escapes, line continuations, bad strings ended by a newline),
 * escapes in identifiers (`u\72l(` is `url(`), the special url-token
 * (`url(a b)` is a bad url; comments are not comments inside an unquoted
 * url, they are part of the URL, as in browsers), and nested (), [], {}
 * blocks. Every function is linear in the input and never reads outside
 * [css, css+len). Nesting deeper than CSS_MAX_DEPTH is still scanned; only
 * the context flags stop being precise there. Input that holds no `(` and
 * no `@` cannot fetch anything and is passed over at memchr speed.
 *
 * Usage (one scanner per input, on the stack; no cleanup):
 *
 *   struct css_scanner sc;
 *   struct css_url u;
 *   char dec[2048];
 *
 *   css_scan_init(&sc, value, value_len, CSS_STYLE_ATTR);
 *   while (css_next_url(&sc, &u, dec, sizeof(dec))) {
 *           judge u.url (u.url_len bytes); to remove it:
 *           css_neutralize(&u, &span, &text);  -> replace span by text
 *   }
 *
 * Empty URLs (`url()`, `url("")`) are reported too, with url_len 0.
 */
#ifndef CM_CSS_H
#define CM_CSS_H

#include <stddef.h>

enum css_mode {
	CSS_STYLE_ATTR,		/* declaration list: style="..." */
	CSS_STYLESHEET		/* <style> contents */
};

/* A byte range [start, end) relative to the start of the scanned input. */
struct css_span {
	size_t start;
	size_t end;
};

/* ---- context flags of a found URL (struct css_url.flags) ------------------ */
#define CSS_IN_IMPORT		0x0001u	/* in an @import rule: its URL, or a url() later in
					 * its prelude (`supports(...)`); see .rule */
#define CSS_IN_FONT_FACE	0x0002u	/* inside an @font-face block */
#define CSS_IN_MEDIA		0x0004u	/* inside any @media block */
#define CSS_IN_MEDIA_PRINT	0x0008u	/* an enclosing @media prelude names `print` */
#define CSS_IN_AT_BLOCK		0x0010u	/* inside some other at-rule block (@supports, @page,
					 * @keyframes, @layer, @container, unknown...) */
#define CSS_HAS_DECL		0x0020u	/* inside a declaration: .property and .decl are valid */
#define CSS_URL_STRING		0x0100u	/* not a url(): a bare string that browsers fetch
					 * (@import "x", image-set("x" 1x)), or a src("x")
					 * function; .token covers the string / function */
#define CSS_URL_BAD		0x0200u	/* malformed (`url(a b)`, `url("a" x)`, a bad string):
					 * conformant engines ignore it, reported anyway
					 * because not every mail client is conformant */
#define CSS_URL_TRUNCATED	0x0400u	/* the decoded URL did not fit the caller's buffer */
#define CSS_URL_UNCLOSED	0x0800u	/* the input ended inside the url( (no closing paren) */

#define CSS_PROP_MAX	48	/* longest property name kept (NUL included) */
#define CSS_MAX_DEPTH	32	/* block nesting tracked precisely */

/* One URL found by css_next_url(). Offsets are relative to the scanned input. */
struct css_url {
	/* The whole token to replace: `url(...)` including the closing paren,
	 * or the string token with its quotes for CSS_URL_STRING, or the whole
	 * `src(...)` function. */
	struct css_span token;
	/* The URL bytes as written: between the quotes, or the unquoted url
	 * without surrounding whitespace. Escapes are still escaped here. */
	struct css_span raw;
	/* The URL with CSS escapes decoded (UTF-8), NUL-terminated, in the
	 * caller's buffer given to css_next_url(); url_len excludes the NUL.
	 * Cut at the buffer size with CSS_URL_TRUNCATED set. */
	const char *url;
	size_t url_len;
	unsigned flags;		/* CSS_IN_*, CSS_HAS_DECL, CSS_URL_* */
	/* The property the URL appears in, lower-cased, escapes decoded
	 * ("background", "background-image", "list-style", "content", "cursor",
	 * "border-image", "behavior", "src" in @font-face, "mask", "--custom"...).
	 * Empty when not in a declaration (@import, a selector). Names longer
	 * than CSS_PROP_MAX-1 bytes are cut. */
	char property[CSS_PROP_MAX];
	/* With CSS_HAS_DECL: the whole declaration, from the first byte of the
	 * property name up to and including its `;`, or up to (excluding) the
	 * `}` that closes the block, or the end of input. Removing exactly these
	 * bytes leaves a valid declaration list. */
	struct css_span decl;
	/* With CSS_IN_IMPORT: the whole @import rule, from `@` up to and
	 * including its `;` (or to the end of input / the enclosing `}` / the
	 * `{` of a malformed block form). Removing it leaves a valid sheet. */
	struct css_span rule;
};

/* Scanner state: lives on the caller's stack, holds no pointers to the heap.
 * Fields are private to css.c. */
struct css_scanner {
	const char *css;
	size_t len;
	size_t pos;
	enum css_mode mode;
	/* block stack: kind and flags per level; depth may exceed CSS_MAX_DEPTH */
	unsigned char kind[CSS_MAX_DEPTH];
	unsigned flags[CSS_MAX_DEPTH];
	size_t depth;
	/* statement being read in the current block */
	int state;
	size_t stmt_start;
	unsigned at_flags;	/* flags the at-rule being read will give its block */
	int at_kind;		/* kind of at-rule being read */
	int import_url_seen;	/* the @import being read already reported its URL */
	char property[CSS_PROP_MAX];
	/* open (), [] and {} inside a declaration value or prelude */
	unsigned char vclose[CSS_MAX_DEPTH];	/* closing byte expected */
	unsigned char vfunc[CSS_MAX_DEPTH];	/* function kind that opened it */
	size_t vdepth;
	/* cached end of the statement containing the last reported URL: one
	 * look-ahead per statement keeps the whole scan linear */
	size_t cached_for;
	size_t cached_end;
	int cached_valid;
};

/* Start scanning LEN bytes at CSS in MODE. */
void css_scan_init(struct css_scanner *sc, const char *css, size_t len, enum css_mode mode);

/* Find the next URL. DEC (size DECSZ, at least 1) receives the decoded URL;
 * u->url points to it. Returns 1 when a URL was found, 0 at the end of input.
 * URLs are reported in input order, each once. Works on any bytes. */
int css_next_url(struct css_scanner *sc, struct css_url *u, char *dec, size_t decsz);

/* ---- neutralisation ---------------------------------------------------------
 * The replacement that keeps the CSS valid and fetches nothing:
 *  - the URL of an @import rule: the whole rule (u->rule) is replaced by ""
 *    (an @import that fetches nothing would still be a rule; dropping it is
 *    simpler and equally valid);
 *  - everything else: u->token is replaced by CSS_NEUTRAL_URL, `url(data:,)`,
 *    an empty data: URL. It is a valid <url> wherever a url() or an
 *    image-set() string may stand, fetches nothing and renders nothing
 *    (an undecodable image / font is ignored, fallbacks apply). It contains
 *    no quote, `&`, `<` or `>`, so it may be written into a style attribute
 *    of either quoting without escaping.
 * Callers that prefer to drop the whole declaration use u->decl instead. */
#define CSS_NEUTRAL_URL "url(data:,)"

/* Edits can overlap, and the caller must not apply overlapping ones: every
 * url() of one @import rule yields the same rule span, and a caller that
 * removes a whole declaration (u->decl) must skip the later URLs of that
 * declaration. Apply each span once; skip a span inside one already taken. */

/* Store in *span the bytes to replace and in *text (static, NUL-terminated)
 * their replacement, following the rule above. */
void css_neutralize(const struct css_url *u, struct css_span *span, const char **text);

/* ---- declarations of a style attribute --------------------------------------
 * Iterates the top-level declarations of a style attribute (CSS_STYLE_ATTR
 * semantics whatever the scanner's mode was). */
struct css_decl {
	char property[CSS_PROP_MAX];	/* lower-cased, cut like css_url.property */
	struct css_span decl;		/* as css_url.decl */
	struct css_span value;		/* value, trimmed, without `!important` */
	int important;			/* `!important` was given */
};

/* Returns 1 and fills *d for the next declaration with a `:`, 0 at the end. */
int css_next_decl(struct css_scanner *sc, struct css_decl *d);

/* ---- invisibility: box properties of an inline style ---------------------- */
enum css_len_kind {
	CSS_LEN_UNSET = 0,	/* not declared (or last declaration unreadable) */
	CSS_LEN_PX,		/* px, unitless 0, or a zero of any unit: .px valid.
				 * A unitless non-zero number counts as px too: mail
				 * without a doctype renders in quirks mode, which
				 * reads `width:1` as 1px */
	CSS_LEN_OTHER		/* another unit (%, em, vw...), keyword (auto) or
				 * expression (calc()): .px not valid */
};

struct css_len {
	enum css_len_kind kind;
	double px;
};

struct css_box {
	struct css_len width, height, max_width, max_height;
	int display_none;	/* display: none */
	int visibility_hidden;	/* visibility: hidden or collapse */
	int opacity_zero;	/* opacity: 0, 0.0, 0%, or any value <= 0 */
};

/* Read width, height, max-width, max-height, display, visibility and
 * opacity from a style attribute value. Property names and keywords are
 * case-insensitive, `!important` is ignored, the last declaration of a
 * property wins (a later `display:block` clears an earlier `display:none`).
 * Never fails; *out is always fully set. */
void css_read_box(const char *style, size_t len, struct css_box *out);

/* Why a box is invisible, from its style alone (bits of css_box_hidden). */
#define CSS_HIDDEN_SIZE		0x01u	/* width or height declared <= 1 px */
#define CSS_HIDDEN_MAX_SIZE	0x02u	/* max-width or max-height declared <= 1 px */
#define CSS_HIDDEN_DISPLAY	0x04u	/* display: none */
#define CSS_HIDDEN_VISIBILITY	0x08u	/* visibility: hidden / collapse */
#define CSS_HIDDEN_OPACITY	0x10u	/* opacity: 0 */

/* 0 when nothing in the style hides the box, else the CSS_HIDDEN_* reasons.
 * Sizes in other units (%, em...) never count: they cannot be judged here.
 * Declared sizes lie: this is one signal, the caller weighs it. */
unsigned css_box_hidden(const struct css_box *b);

/* ---- HTML width= / height= attributes -----------------------------------
 * Judge an HTML dimension attribute value as browsers do (WHATWG "rules for
 * parsing dimension values"): leading whitespace skipped, digits with an
 * optional fraction, trailing garbage ignored ("1px" is 1, "1.0" is 1,
 * " 1 " is 1), a `%` right after the number makes it a percentage. */
enum css_html_len {
	CSS_HTML_LEN_INVALID = 0,	/* no number: the attribute is ignored */
	CSS_HTML_LEN_PX,		/* *value is in CSS pixels */
	CSS_HTML_LEN_PERCENT		/* *value is a percentage */
};

enum css_html_len css_html_length(const char *v, size_t len, double *value);

#endif
