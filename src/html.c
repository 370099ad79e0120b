/* html.c - find tags, attributes, comments and text in an HTML buffer, by byte
 * offset, following the WHATWG tokenization states (see html.h).
 *
 * The state machine is written as straight-line code per construct (tag,
 * comment, DOCTYPE, raw text) instead of one switch per byte: each construct
 * is self-contained, so whole-buffer positions are all the state we carry
 * between calls, and memchr() can skip text, quoted values and raw text fast.
 * Where a spec state only differs in the parse errors it reports, it is merged
 * with its neighbour; comments below name the spec states each branch covers.
 */
#include "build-config.h"
#include "bytes.h"

#include <stdint.h>
#include <string.h>

#include "html.h"
#include "html_entities.h"

/* Byte classes. */
#define C_WS	0x01	/* tab, LF, FF, CR, space (CR: the input is not preprocessed) */
#define C_ALPHA	0x02
#define C_NAMEEND 0x04	/* ends a tag name: ws / > */
#define C_ANEND	0x08	/* ends an attribute name: ws / > = */
#define C_UQEND	0x10	/* ends an unquoted attribute value: ws > */
#define C_ALNUM	0x20

#define WSB (C_WS | C_NAMEEND | C_ANEND | C_UQEND)
#define AL (C_ALPHA | C_ALNUM)
static const unsigned char cls[256] = {
	['\t'] = WSB, ['\n'] = WSB, ['\f'] = WSB, ['\r'] = WSB, [' '] = WSB,
	['/'] = C_NAMEEND | C_ANEND, ['>'] = C_NAMEEND | C_ANEND | C_UQEND,
	['='] = C_ANEND,
	['0'] = C_ALNUM, ['1'] = C_ALNUM, ['2'] = C_ALNUM, ['3'] = C_ALNUM,
	['4'] = C_ALNUM, ['5'] = C_ALNUM, ['6'] = C_ALNUM, ['7'] = C_ALNUM,
	['8'] = C_ALNUM, ['9'] = C_ALNUM,
	['a'] = AL, ['b'] = AL, ['c'] = AL, ['d'] = AL, ['e'] = AL, ['f'] = AL,
	['g'] = AL, ['h'] = AL, ['i'] = AL, ['j'] = AL, ['k'] = AL, ['l'] = AL,
	['m'] = AL, ['n'] = AL, ['o'] = AL, ['p'] = AL, ['q'] = AL, ['r'] = AL,
	['s'] = AL, ['t'] = AL, ['u'] = AL, ['v'] = AL, ['w'] = AL, ['x'] = AL,
	['y'] = AL, ['z'] = AL,
	['A'] = AL, ['B'] = AL, ['C'] = AL, ['D'] = AL, ['E'] = AL, ['F'] = AL,
	['G'] = AL, ['H'] = AL, ['I'] = AL, ['J'] = AL, ['K'] = AL, ['L'] = AL,
	['M'] = AL, ['N'] = AL, ['O'] = AL, ['P'] = AL, ['Q'] = AL, ['R'] = AL,
	['S'] = AL, ['T'] = AL, ['U'] = AL, ['V'] = AL, ['W'] = AL, ['X'] = AL,
	['Y'] = AL, ['Z'] = AL,
};

#define IS_WS(c)	(cls[(unsigned char)(c)] & C_WS)
#define IS_ALPHA(c)	(cls[(unsigned char)(c)] & C_ALPHA)
#define IS_ALNUM(c)	(cls[(unsigned char)(c)] & C_ALNUM)

/* The first position at or after P (< LEN) whose byte has a class in STOP,
 * or LEN. Four bytes per bound check: names and values in tags are short,
 * but the loop runs for every one of them. */
static inline size_t
scan_to(const unsigned char *b, size_t p, size_t len, unsigned char stop)
{
	while (len - p >= 4) {
		if (cls[b[p]] & stop)
			return p;
		if (cls[b[p + 1]] & stop)
			return p + 1;
		if (cls[b[p + 2]] & stop)
			return p + 2;
		if (cls[b[p + 3]] & stop)
			return p + 3;
		p += 4;
	}
	while (p < len && !(cls[b[p]] & stop))
		p++;
	return p;
}

#ifdef __SSE2__
/* SSE2 (the x86-64 baseline): look at 16 bytes with one load. Only a whole
 * 16-byte block inside the buffer is loaded; near the end memchr() runs, so
 * nothing is read past the buffer. Names and unquoted values are not
 * scanned this way: they are mostly a few bytes long, and measured, the
 * compares cost more instructions than scan_to() (so did lowercasing tag
 * names 16 bytes at a time). */
#include <emmintrin.h>

/* memchr(b + p, c, len - p) as a position (len when absent). Most quoted
 * values and most text between tags are shorter than 16 bytes: one inline
 * compare spares the call. */
static inline size_t
find_byte(const unsigned char *b, size_t p, size_t len, unsigned char c)
{
	const unsigned char *q;

	if (len - p >= 16) {
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		    _mm_loadu_si128((const __m128i *)(b + p)), _mm_set1_epi8((char)c)));

		if (m != 0)
			return p + (size_t)__builtin_ctz(m);
		p += 16;
	}
	q = memchr(b + p, c, len - p);
	return q == NULL ? len : (size_t)(q - b);
}

/* find_byte() for the closing quote of a value (style declarations, URLs:
 * mostly 20 to 120 bytes): a loop of two 16-byte blocks per bound check
 * costs less than memchr()'s call with the registers saved around it
 * (measured: ~40 instructions a call, hundreds of calls per newsletter;
 * one block per bound check saved half as much). The tail (less than a
 * block) goes to memchr(). Not for text between tags: measured, the data
 * state's search for '<' costs more this way. */
static inline size_t
find_quote(const unsigned char *b, size_t p, size_t len, unsigned char c)
{
	const __m128i q = _mm_set1_epi8((char)c);
	const unsigned char *r;

	while (len - p >= 32) {
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		    _mm_loadu_si128((const __m128i *)(b + p)), q));
		unsigned m2 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		    _mm_loadu_si128((const __m128i *)(b + p + 16)), q));

		if (m != 0)
			return p + (size_t)__builtin_ctz(m);
		if (m2 != 0)
			return p + 16 + (size_t)__builtin_ctz(m2);
		p += 32;
	}
	if (len - p >= 16) {
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		    _mm_loadu_si128((const __m128i *)(b + p)), q));

		if (m != 0)
			return p + (size_t)__builtin_ctz(m);
		p += 16;
	}
	r = memchr(b + p, c, len - p);
	return r == NULL ? len : (size_t)(r - b);
}
#else

static inline size_t
find_byte(const unsigned char *b, size_t p, size_t len, unsigned char c)
{
	const unsigned char *q = memchr(b + p, c, len - p);

	return q == NULL ? len : (size_t)(q - b);
}

static inline size_t
find_quote(const unsigned char *b, size_t p, size_t len, unsigned char c)
{
	return find_byte(b, p, len, c);
}
#endif

/* Returned by the construct parsers besides a token kind. */
#define R_TEXT	0	/* the '<' is just text */
#define R_SKIP	(-1)	/* consumed without a token ("</>", a tag cut by EOF) */

/* ASCII lowercase by table: one load per byte of every name. */
#define L4(c)	(c), (c) + 1, (c) + 2, (c) + 3
#define L16(c)	L4(c), L4((c) + 4), L4((c) + 8), L4((c) + 12)
static const unsigned char lc[256] = {
	L16(0x00), L16(0x10), L16(0x20), L16(0x30),
	0x40, L4(0x61), L4(0x65), L4(0x69), L4(0x6d), L4(0x71), L4(0x75), 0x79, 0x7a,
	0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
	L16(0x60), L16(0x70), L16(0x80), L16(0x90), L16(0xa0), L16(0xb0), L16(0xc0),
	L16(0xd0), L16(0xe0), L16(0xf0),
};
#undef L16
#undef L4

static inline unsigned char
lower(unsigned char c)
{
	return lc[c];
}

static int
casecmp_n(const unsigned char *a, const char *lower_b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lower(a[i]) != (unsigned char)lower_b[i])
			return 1;
	return 0;
}

/* ---- known names ---- */

_Static_assert(HTML_ATTR__COUNT <= 32, "attr_known has one bit per attribute id");
_Static_assert(HTML_TAG_V_IMAGEDATA < 64, "end_tags has one bit per tag id");

/* Lowercase name N[0..LEN) to its tag id: by length, then bytes (a memcmp()
 * of constant size is a load and a compare; comparing preloaded words was
 * measured slower). Inlined into parse_tag(): it runs for every tag. */
static inline __attribute__((always_inline)) enum html_tag_id
tag_id(const char *n, size_t len)
{
#define T(lit, id)	if (memcmp(n, lit, sizeof(lit) - 1) == 0) return HTML_TAG_##id
	switch (len) {
	case 1:
		T("a", A);
		break;
	case 2:
		T("td", TD); T("th", TH);
		break;
	case 3:
		T("img", IMG); T("svg", SVG); T("xmp", XMP);
		break;
	case 4:
		T("area", AREA); T("base", BASE); T("body", BODY); T("html", HTML);
		T("link", LINK); T("math", MATH); T("meta", META);
		break;
	case 5:
		T("table", TABLE); T("style", STYLE); T("title", TITLE); T("audio", AUDIO);
		T("embed", EMBED); T("frame", FRAME); T("image", IMAGE); T("input", INPUT);
		T("track", TRACK); T("video", VIDEO);
		break;
	case 6:
		T("script", SCRIPT); T("source", SOURCE); T("iframe", IFRAME);
		T("object", OBJECT); T("applet", APPLET); T("v:fill", V_FILL);
		break;
	case 7:
		T("amp-img", AMP_IMG); T("bgsound", BGSOUND); T("noembed", NOEMBED);
		T("v:image", V_IMAGE);
		break;
	case 8:
		T("noframes", NOFRAMES); T("textarea", TEXTAREA);
		break;
	case 9:
		T("amp-pixel", AMP_PIXEL); T("plaintext", PLAINTEXT);
		break;
	case 11:
		T("v:imagedata", V_IMAGEDATA);
		break;
	case 13:
		T("amp-analytics", AMP_ANALYTICS);
		break;
	default:
		break;
	}
#undef T
	return HTML_TAG_OTHER;
}

/* Names by id, in enum order (checked by the unit test known_names). */
static const char *const tag_names[] = {
	"", "a", "amp-analytics", "amp-img", "amp-pixel", "applet", "area", "audio", "base",
	"bgsound", "body", "embed", "frame", "html", "iframe", "image", "img", "input",
	"link", "math", "meta", "noembed", "noframes", "object", "plaintext", "script",
	"source", "style", "svg", "table", "td", "textarea", "th", "title", "track", "video",
	"xmp", "v:fill", "v:image", "v:imagedata"
};
_Static_assert(sizeof(tag_names) / sizeof(tag_names[0]) == HTML_TAG_V_IMAGEDATA + 1,
    "one name per tag id");

const char *
html_tag_name(enum html_tag_id id)
{
	return (unsigned)id < sizeof(tag_names) / sizeof(tag_names[0]) ? tag_names[id] : "";
}

enum html_tag_id
html_tag_id_of(const char *lower_name, size_t n)
{
	return tag_id(lower_name, n);
}

/* A literal's first (up to 8) bytes as a word, by shifts of its bytes: a
 * constant. (A memcpy() of 3, 5, 6 or 7 bytes was built on the stack at
 * every compare, and a loop of shifts was left a loop.) The index stays
 * inside the literal even in the branch that is not taken. */
#define LIT_B(lit, i)	((i) < sizeof(lit) - 1 ?						\
	(uint64_t)(unsigned char)(lit)[(i) < sizeof(lit) - 1 ? (i) : 0] << (8 * (i)) : 0)
#define WORD_LIT(lit)	(LIT_B(lit, 0) | LIT_B(lit, 1) | LIT_B(lit, 2) | LIT_B(lit, 3) |	\
	LIT_B(lit, 4) | LIT_B(lit, 5) | LIT_B(lit, 6) | LIT_B(lit, 7))

static inline uint32_t
load32(const unsigned char *s)
{
	uint32_t w;

	memcpy(&w, s, 4);
	return w;
}

static inline uint16_t
load16(const unsigned char *s)
{
	uint16_t w;

	memcpy(&w, s, 2);
	return w;
}

/* S[0..N) (1 <= N <= 8, a constant wherever this is inlined) as a word with
 * bit 0x20 set in every byte: ASCII-lowercase for letters. Compared with a
 * lowercase literal it is exact where the literal has letters, and where it
 * has '-', whose other preimage (CR) never occurs in a name. Odd sizes are
 * two overlapping loads ORed (the shared bytes are equal): a memcpy() of
 * 3, 5, 6 or 7 bytes went through the stack. */
static inline uint64_t
word_ci(const unsigned char *s, size_t n)
{
	uint64_t w;

	switch (n) {
	case 1:
		w = s[0];
		break;
	case 2:
		w = load16(s);
		break;
	case 3:
		w = load16(s) | (uint64_t)load16(s + 1) << 8;
		break;
	case 4:
		w = load32(s);
		break;
	case 8:
		memcpy(&w, s, 8);
		break;
	default:	/* 5..7 */
		w = load32(s) | (uint64_t)load32(s + n - 4) << (8 * (n - 4));
		break;
	}
	return w | (0x2020202020202020ull >> (64 - 8 * n));
}

/* Attribute name S[0..N) in any case to its id: by length, then one word
 * compare per candidate. Most names (class, align, cellpadding) cost the
 * switch and a compare or two. Inlined into add_attr(): it runs for every
 * attribute. */
static inline __attribute__((always_inline)) enum html_attr_id
attr_id(const unsigned char *s, size_t n)
{
	uint64_t w, w2;

#define A(lit, id)	if (w == WORD_LIT(lit)) return HTML_ATTR_##id
	switch (n) {
	case 3:
		w = word_ci(s, 3);
		A("src", SRC); A("alt", ALT); A("rel", REL);
		break;
	case 4:
		w = word_ci(s, 4);
		A("href", HREF); A("type", TYPE); A("data", DATA); A("ping", PING);
		A("code", CODE);
		break;
	case 5:
		w = word_ci(s, 5);
		A("style", STYLE); A("width", WIDTH);
		break;
	case 6:
		w = word_ci(s, 6);
		A("height", HEIGHT); A("hidden", HIDDEN); A("srcset", SRCSET);
		A("poster", POSTER);
		break;
	case 7:
		w = word_ci(s, 7);
		A("archive", ARCHIVE);
		break;
	case 8:
		w = word_ci(s, 8);
		A("manifest", MANIFEST); A("codebase", CODEBASE);
		break;
	case 10:
		w = word_ci(s, 8);
		w2 = word_ci(s + 8, 2);
		if (w2 == WORD_LIT("nd")) {
			A("backgrou", BACKGROUND);
		} else if (w2 == WORD_LIT("iv")) {
			A("http-equ", HTTP_EQUIV);
		} else if (w2 == WORD_LIT("ef") && s[5] == ':') {
			/* ':' | 0x20 is also 0x1A | 0x20: checked as it is */
			A("xlink:hr", XLINK_HREF);
		}
		break;
	default:
		break;
	}
#undef A
	return HTML_ATTR_OTHER;
}

enum html_attr_id
html_attr_id_of(const char *name, size_t n)
{
	return n == 0 ? HTML_ATTR_OTHER : attr_id((const unsigned char *)name, n);
}

void
html_init(struct html_tokenizer *t, const char *buf, size_t len)
{
	t->buf = (const unsigned char *)buf;
	t->len = buf == NULL ? 0 : len;
	t->pos = 0;
	t->opts = 0;
	t->model = HTML_MODEL_DATA;
	t->pending_end = 0;
	t->last_start_len = 0;
	t->last_start[0] = '\0';
	t->foreign_depth[0] = t->foreign_depth[1] = 0;
	t->end_tags = t->start_tags = 0;
	t->start_attrs = 0;
}

void
html_set_options(struct html_tokenizer *t, unsigned opts)
{
	t->opts = opts;
}

/* The elements whose start tag switches the tokenizer's content model or
 * foreign-content depth. */
#define MODEL_TAGS	(HTML_TAG_BIT(HTML_TAG_SVG) | HTML_TAG_BIT(HTML_TAG_MATH) |	\
	HTML_TAG_BIT(HTML_TAG_XMP) | HTML_TAG_BIT(HTML_TAG_STYLE) |			\
	HTML_TAG_BIT(HTML_TAG_IFRAME) | HTML_TAG_BIT(HTML_TAG_NOEMBED) |		\
	HTML_TAG_BIT(HTML_TAG_NOFRAMES) | HTML_TAG_BIT(HTML_TAG_TITLE) |		\
	HTML_TAG_BIT(HTML_TAG_TEXTAREA) | HTML_TAG_BIT(HTML_TAG_SCRIPT) |		\
	HTML_TAG_BIT(HTML_TAG_PLAINTEXT))

/* For skip_bare_tag(): the lengths and first letters of the names of IDS
 * and of the elements that change the tokenizer's state; a bare tag with
 * another length or first letter is none of them. */
static void
set_bare_names(uint32_t names[16], uint64_t ids)
{
	size_t i, n;

	/* with HTML_TAG_OTHER asked for, any name may be one to return */
	memset(names, ids & 1 ? 0xff : 0, 16 * sizeof(names[0]));
	ids |= MODEL_TAGS;
	for (i = 1; i < sizeof(tag_names) / sizeof(tag_names[0]); i++)
		if (((ids >> i) & 1) && (n = strlen(tag_names[i])) < 16)
			names[n] |= 1u << (tag_names[i][0] - 'a');
}

void
html_want_end_tags(struct html_tokenizer *t, uint64_t ids)
{
	t->opts |= HTML_OPT_SOME_END_TAGS;
	t->end_tags = ids;
	set_bare_names(t->bare_names[1], ids);
}

void
html_want_start_tags(struct html_tokenizer *t, uint64_t ids, unsigned attrs)
{
	t->opts |= HTML_OPT_SOME_START_TAGS;
	t->start_tags = ids;
	t->start_attrs = attrs;
	set_bare_names(t->bare_names[0], ids);
}

/* Is the tag just read one the caller did not ask for (html_want_*_tags)?
 * A start tag that switched the content model is always returned. */
static inline int
tag_unwanted(const struct html_tokenizer *t, int kind, const struct html_token *tok)
{
	if (tok->name_has_nul)
		return 0;
	if (kind == HTML_END_TAG)
		return (t->opts & HTML_OPT_SOME_END_TAGS) && !((t->end_tags >> tok->tag_id) & 1);
	return kind == HTML_START_TAG && (t->opts & HTML_OPT_SOME_START_TAGS) &&
	    !((t->start_tags >> tok->tag_id) & 1) && !(tok->attr_known & t->start_attrs) &&
	    t->model == HTML_MODEL_DATA;
}

int
html_set_model(struct html_tokenizer *t, enum html_model m, const char *last_start_tag)
{
	size_t n = last_start_tag == NULL ? 0 : strlen(last_start_tag);

	t->model = m;
	if (n > HTML_NAME_MAX) {
		t->last_start_len = 0;
		return -1;
	}
	memcpy(t->last_start, last_start_tag == NULL ? "" : last_start_tag, n);
	t->last_start[n] = '\0';
	t->last_start_len = (unsigned char)n;
	return 0;
}

int
html_span_eq_n(const char *buf, struct html_span s, const char *lower_name, size_t n)
{
	return s.end - s.start == n &&
	    casecmp_n((const unsigned char *)buf + s.start, lower_name, n) == 0;
}

const struct html_attr *
html_attr_find_n(const struct html_token *tok, const char *buf, const char *lower_name,
    size_t n)
{
	size_t i;

	for (i = 0; i < tok->nattrs; i++) {
		const struct html_attr *a = &tok->attrs[i];

		if (a->name.end - a->name.start == n && !a->duplicate &&
		    casecmp_n((const unsigned char *)buf + a->name.start, lower_name, n) == 0)
			return a;
	}
	return NULL;
}

/* "Appropriate end tag": '</' + the last start tag's name + ws, '/' or '>'
 * (RCDATA / RAWTEXT / script data end tag name states). */
static int
appropriate_end_at(const struct html_tokenizer *t, size_t p)
{
	size_t n = t->last_start_len;

	if (n == 0 || p + 2 + n >= t->len || t->buf[p + 1] != '/')
		return 0;
	if (casecmp_n(t->buf + p + 2, t->last_start, n) != 0)
		return 0;
	return (cls[t->buf[p + 2 + n]] & C_NAMEEND) != 0;
}

static void
clear_token(struct html_token *tok, enum html_kind kind, size_t start)
{
	tok->kind = kind;
	tok->span.start = tok->span.end = start;
	tok->name.start = tok->name.end = start;
	tok->data.start = tok->data.end = start;
	tok->text_model = HTML_MODEL_DATA;
	tok->lname[0] = '\0';
	tok->lname_len = 0;
	tok->name_truncated = 0;
	tok->name_has_nul = 0;
	tok->self_closing = 0;
	tok->attrs = NULL;
	tok->nattrs = tok->nattrs_total = 0;
	tok->attrs_overflow = 0;
	tok->tag_id = HTML_TAG_OTHER;
	tok->attr_known = 0;
	tok->public_id.start = tok->public_id.end = start;
	tok->system_id = tok->public_id;
	tok->has_name = tok->has_public_id = tok->has_system_id = tok->force_quirks = 0;
}

static enum html_kind
emit_text(struct html_token *tok, size_t start, size_t end, enum html_model m)
{
	clear_token(tok, HTML_TEXT, start);
	tok->span.end = end;
	tok->data = tok->span;
	tok->text_model = m;
	return HTML_TEXT;
}

/* ---- tags ---- */

/* Whether an attribute named B[A0..A0+N) (of no known id) repeats one of the
 * first K stored. Out of line: rare (most tags have distinct names). */
static __attribute__((noinline)) int
name_repeats(const struct html_attr *attrs, size_t k, const unsigned char *b, size_t a0,
    size_t n)
{
	size_t i, j;

	for (i = 0; i < k; i++) {
		const struct html_attr *o = &attrs[i];

		if (o->name.end - o->name.start != n)
			continue;
		for (j = 0; j < n && lower(b[o->name.start + j]) == lower(b[a0 + j]); j++)
			;
		if (j == n)
			return 1;
	}
	return 0;
}

/* Store one attribute of the tag being parsed. Equal names have equal ids:
 * a name with a known id repeats an earlier one exactly when its bit is
 * already in attr_known, and no name of another id can equal it. For the
 * other names, NAMES holds a bit per (length, first byte folded) of those
 * stored so far: a repeat has the same length and first letter, so most
 * names need no comparison. */
static inline __attribute__((always_inline)) void
add_attr(struct html_token *tok, struct html_attr *attrs, const unsigned char *b,
    size_t a0, size_t aend, size_t v0, size_t vend, char quote, int has_value, size_t end,
    uint64_t *names)
{
	struct html_attr *a;
	size_t n = aend - a0;
	uint64_t bit;
	unsigned id;

	tok->nattrs_total++;
	if (tok->nattrs == HTML_MAX_ATTRS) {
		tok->attrs_overflow = 1;
		return;
	}
	a = &attrs[tok->nattrs++];
	a->name.start = a0;
	a->name.end = aend;
	a->value.start = v0;
	a->value.end = vend;
	a->span.start = a0;
	a->span.end = end;
	a->quote = quote;
	a->has_value = (unsigned char)has_value;
	a->id = (unsigned char)(id = attr_id(b + a0, n));
	if (id != HTML_ATTR_OTHER) {
		/* a repeat returns at once; the first one of a name is
		 * indexed (attr_known read once: it was read again after
		 * the store to a->duplicate, which may alias it) */
		unsigned known = tok->attr_known;

		if ((known >> id) & 1) {
			a->duplicate = 1;
			return;
		}
		a->duplicate = 0;
		tok->attr_known = known | 1u << id;
		tok->attr_at[id] = (unsigned char)(tok->nattrs - 1);
		return;
	}
	a->duplicate = 0;
	/* (x | 0x20) == (y | 0x20) whenever lower(x) == lower(y) */
	bit = 1ull << ((n * 5 + (b[a0] | 0x20)) & 63);
	if (!(*names & bit)) {
		*names |= bit;
		return;
	}
	a->duplicate = (unsigned char)name_repeats(attrs, tok->nattrs - 1, b, a0, n);
}

/* Attributes of the shape ' name="value"' from P, stored; returns the
 * position of the first byte that is not the start of one (or is one cut
 * by EOF), from which the general loop of parse_tag() reads on as if it
 * had read all of them itself. */
static inline __attribute__((always_inline)) size_t
short_attrs(struct html_token *tok, struct html_attr *attrs, const unsigned char *b,
    size_t p, size_t len, uint64_t *names)
{
	size_t a0, aend, vend;

#ifdef __SSE2__
	/* One 16-byte block from the name's first byte shows where the name
	 * ends and, for most values (width="1", class="col", role=
	 * "presentation"), where the value ends too. STOP has every byte
	 * <= ' ' (ws, and control bytes, which are name bytes), '=', and
	 * '.', '/', '>', '?' (the bytes b with (b | 0x11) == '?': one test
	 * for both of '/' and '>'): when its first byte is '=', none before
	 * it ends a name, as scan_to(C_ANEND) would find. A name byte in
	 * STOP ('.', '?', control bytes: rare) fails the '=' test and the
	 * general loop reads the name. Only whole blocks inside the buffer
	 * are loaded. */
	const __m128i sp = _mm_set1_epi8(' '), eq = _mm_set1_epi8('='),
	    m11 = _mm_set1_epi8(0x11), qm = _mm_set1_epi8('?'), qu = _mm_set1_epi8('"');

	while (len - p > 16 && b[p] == ' ') {
		__m128i x;
		unsigned stop, quotes, i;

		a0 = p + 1;
		x = _mm_loadu_si128((const __m128i *)(b + a0));
		stop = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, sp), x), _mm_cmpeq_epi8(x, eq)),
		    _mm_cmpeq_epi8(_mm_or_si128(x, m11), qm)));
		quotes = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, qu));
		/* a name of 16 bytes or more goes the long way */
		if (stop == 0)
			break;
		i = (unsigned)__builtin_ctz(stop);
		/* '="' after a name of at least one byte */
		if (i == 0 || b[a0 + i] != '=' || !((quotes >> (i + 1)) & 1))
			break;
		aend = a0 + i;
		/* the closing quote: in the block, or from its end on */
		if ((quotes >> (i + 2)) != 0)
			vend = aend + 2 + (size_t)__builtin_ctz(quotes >> (i + 2));
		else if ((vend = find_quote(b, a0 + 16, len, '"')) >= len)
			break;
		add_attr(tok, attrs, b, a0, aend, aend + 2, vend, '"', 1, vend + 1, names);
		p = vend + 1;
	}
#else
	while (len - p >= 4 && b[p] == ' ') {
		a0 = p + 1;
		aend = scan_to(b, a0, len, C_ANEND);
		if (aend == a0 || len - aend < 3 || b[aend] != '=' || b[aend + 1] != '"')
			break;
		vend = find_byte(b, aend + 2, len, '"');
		if (vend >= len)
			break;
		add_attr(tok, attrs, b, a0, aend, aend + 2, vend, '"', 1, vend + 1, names);
		p = vend + 1;
	}
#endif
	return p;
}

/* Tag name state: the name from P to ws, '/' or '>' (or LEN), lowercased
 * into lname by the same loop that finds its end. Returns the end. (Finding
 * the end first and lowercasing eight bytes at once was measured: more
 * instructions for the short names most tags have.) */
static size_t
scan_tag_name(struct html_token *tok, const unsigned char *b, size_t p, size_t len)
{
	size_t start = p, lim = len - p > HTML_NAME_MAX ? p + HTML_NAME_MAX : len;
	unsigned char c;

	while (p < lim && !(cls[c = b[p]] & C_NAMEEND)) {
		tok->lname[p - start] = (char)lower(c);
		p++;
	}
	tok->lname[p - start] = '\0';
	tok->lname_len = p - start;
	if (p == lim && p < len && !(cls[b[p]] & C_NAMEEND)) {
		tok->name_truncated = 1;
		p = scan_to(b, p, len, C_NAMEEND);
	}
	return p;
}

/* The tree builder would switch the tokenizer by element name; we do it here.
 * Inside <svg>/<math> the elements are foreign and do not switch. We only
 * approximate the tree builder, so every approximation leans towards seeing
 * more markup rather than hiding a real tag: svg and math are counted apart
 * (a stray </math> does not end an open <svg>), and elements that break out
 * of foreign content do not end our count. */
static void
switch_model(struct html_tokenizer *t, const struct html_token *tok)
{
	enum html_model m;
	int f = -1;

	/* most tags are none of these: one test instead of a jump table */
	if (!((MODEL_TAGS >> tok->tag_id) & 1))
		return;
	switch (tok->tag_id) {
	case HTML_TAG_SVG:
		f = 0;
		m = HTML_MODEL_DATA;
		break;
	case HTML_TAG_MATH:
		f = 1;
		m = HTML_MODEL_DATA;
		break;
	case HTML_TAG_XMP: case HTML_TAG_STYLE: case HTML_TAG_IFRAME:
	case HTML_TAG_NOEMBED: case HTML_TAG_NOFRAMES:
		m = HTML_MODEL_RAWTEXT;
		break;
	case HTML_TAG_TITLE: case HTML_TAG_TEXTAREA:
		m = HTML_MODEL_RCDATA;
		break;
	case HTML_TAG_SCRIPT:
		m = HTML_MODEL_SCRIPT;
		break;
	case HTML_TAG_PLAINTEXT:
		m = HTML_MODEL_PLAINTEXT;
		break;
	default:
		return;
	}
	if (f >= 0) {
		if (tok->kind == HTML_END_TAG) {
			if (t->foreign_depth[f] > 0)
				t->foreign_depth[f]--;
		} else if (!tok->self_closing && t->foreign_depth[f] < (unsigned)-1)
			t->foreign_depth[f]++;
		return;
	}
	if (tok->kind != HTML_START_TAG || t->foreign_depth[0] > 0 || t->foreign_depth[1] > 0)
		return;
	t->model = m;
	memcpy(t->last_start, tok->lname, tok->lname_len + 1);
	t->last_start_len = (unsigned char)tok->lname_len;
}

/* Tag name through '>' (tag name, before/after attribute name, attribute name,
 * before attribute value, attribute value (3), after attribute value (quoted),
 * self-closing start tag states). `lt` is the '<'. A tag cut by EOF is
 * dropped, as the spec does. */
static inline __attribute__((always_inline)) int
parse_tag(struct html_tokenizer *t, size_t lt, int is_end, struct html_token *tok)
{
	const unsigned char *b = t->buf;
	size_t len = t->len, p = lt + 1 + (is_end ? 1 : 0), a0, aend, v0, vend;
	unsigned char c;
	char quote;
	int has_value, gt;
	uint64_t names = 0;

	clear_token(tok, is_end ? HTML_END_TAG : HTML_START_TAG, lt);
	tok->attrs = t->attrs;
	tok->name.start = p;
	p = scan_tag_name(tok, b, p, len);
	tok->name.end = p;
	if (!tok->name_truncated)
		tok->tag_id = (unsigned char)tag_id(tok->lname, tok->lname_len);
	/* a known name holds no NUL: only other names (short) need looking at */
	if (tok->tag_id == HTML_TAG_OTHER)
		for (size_t i = 0; i < tok->lname_len; i++)
			tok->name_has_nul |= tok->lname[i] == '\0';
	/* the shape of nearly every attribute, ' name="value"', with fewer
	 * tests; anything else (and the end) goes on in the loop below, which
	 * reads it from the same position as if it had done all of it */
	p = short_attrs(tok, t->attrs, b, p, len, &names);
	if (p < len && b[p] == '>') {
		p++;
		goto done;
	}
	for (;;) {
		while (p < len && IS_WS(b[p]))
			p++;
		if (p >= len)
			goto eof;
		c = b[p];
		if (c == '>') {
			p++;
			break;
		}
		if (c == '/') {
			/* self-closing start tag state; anything else is
			 * reconsumed in before attribute name */
			if (++p >= len)
				goto eof;
			if (b[p] == '>') {
				tok->self_closing = 1;
				p++;
				break;
			}
			continue;
		}
		/* attribute name (a leading '=' is part of the name) */
		a0 = p++;
		p = scan_to(b, p, len, C_ANEND);
		aend = p;
		while (p < len && IS_WS(b[p]))
			p++;
		if (p >= len)
			goto eof;
		gt = 0;
		quote = 0;
		if (b[p] != '=') {
			/* no value; p stays on the next attribute, '/' or '>' */
			v0 = vend = aend;
			has_value = 0;
		} else {
			/* before attribute value */
			p++;
			while (p < len && IS_WS(b[p]))
				p++;
			if (p >= len)
				goto eof;
			c = b[p];
			has_value = 1;
			if (c == '"' || c == '\'') {
				vend = find_quote(b, p + 1, len, c);
				if (vend >= len)
					goto eof;
				quote = (char)c;
				v0 = p + 1;
				p = vend + 1;
			} else if (c == '>') {
				/* missing attribute value: empty */
				v0 = vend = p++;
				gt = 1;
			} else {
				v0 = p;
				p = scan_to(b, p, len, C_UQEND);
				if (p >= len)
					goto eof;
				vend = p;
			}
		}
		/* the attribute ends after its value's closing quote, if any */
		add_attr(tok, t->attrs, b, a0, aend, v0, vend, quote, has_value,
		    quote ? vend + 1 : vend, &names);
		if (gt)
			break;
	}
done:
	tok->span.end = p;
	t->pos = p;
	if (!(t->opts & HTML_OPT_NO_AUTO_MODEL))
		switch_model(t, tok);
	return tok->kind;
eof:
	t->pos = len;
	return R_SKIP;
}

/* ---- comments ---- */

static int
emit_comment(struct html_tokenizer *t, struct html_token *tok, size_t lt, size_t d0,
    size_t d1, size_t end)
{
	clear_token(tok, HTML_COMMENT, lt);
	tok->data.start = d0;
	tok->data.end = d1;
	tok->span.end = end;
	t->pos = end;
	return HTML_COMMENT;
}

/* Bogus comment state: data up to the first '>'. */
static int
parse_bogus_comment(struct html_tokenizer *t, size_t lt, size_t d0, struct html_token *tok)
{
	const unsigned char *q = memchr(t->buf + d0, '>', t->len - d0);

	if (q == NULL)
		return emit_comment(t, tok, lt, d0, t->len, t->len);
	return emit_comment(t, tok, lt, d0, (size_t)(q - t->buf), (size_t)(q - t->buf) + 1);
}

/* Comment start, comment start dash, comment, comment less-than sign (and its
 * bang / dash states), comment end dash, comment end, comment end bang. None of
 * the nested-comment states changes the data, so the comment is the bytes up
 * to the first "-->" or "--!>" whose dashes follow "<!--"; "<!-->" and "<!--->"
 * are empty comments; at EOF a trailing "-", "--" or "--!" is not data. */
static int
parse_comment(struct html_tokenizer *t, size_t lt, struct html_token *tok)
{
	const unsigned char *b = t->buf;
	size_t len = t->len, s = lt + 4, q = s, g, e;

	if (s < len && b[s] == '>')
		return emit_comment(t, tok, lt, s, s, s + 1);
	if (s + 1 < len && b[s] == '-' && b[s + 1] == '>')
		return emit_comment(t, tok, lt, s, s, s + 2);
	for (;;) {
		const unsigned char *gt = q < len ? memchr(b + q, '>', len - q) : NULL;

		if (gt == NULL)
			break;
		g = (size_t)(gt - b);
		if (g >= s + 2 && b[g - 1] == '-' && b[g - 2] == '-')
			return emit_comment(t, tok, lt, s, g - 2, g + 1);
		if (g >= s + 3 && b[g - 1] == '!' && b[g - 2] == '-' && b[g - 3] == '-')
			return emit_comment(t, tok, lt, s, g - 3, g + 1);
		q = g + 1;
	}
	e = len;
	if (e >= s + 3 && b[e - 1] == '!' && b[e - 2] == '-' && b[e - 3] == '-')
		e -= 3;
	else if (e >= s + 2 && b[e - 1] == '-' && b[e - 2] == '-')
		e -= 2;
	else if (e >= s + 1 && b[e - 1] == '-')
		e -= 1;
	return emit_comment(t, tok, lt, s, e, len);
}

/* ---- DOCTYPE ---- */

/* DOCTYPE public / system identifier (double- or single-quoted) states, from
 * the opening quote at *pp. Returns 0 when the identifier closed normally,
 * 1 when '>' ended the DOCTYPE (abrupt), 2 at EOF. */
static int
doctype_id(const struct html_tokenizer *t, size_t *pp, struct html_span *id)
{
	const unsigned char *b = t->buf;
	unsigned char q = b[*pp];
	size_t p = *pp + 1;

	id->start = p;
	while (p < t->len && b[p] != q && b[p] != '>')
		p++;
	id->end = p;
	if (p >= t->len) {
		*pp = p;
		return 2;
	}
	*pp = p + 1;
	return b[p] == '>' ? 1 : 0;
}

static void
skip_ws(const struct html_tokenizer *t, size_t *pp)
{
	while (*pp < t->len && IS_WS(t->buf[*pp]))
		(*pp)++;
}

/* DOCTYPE through bogus DOCTYPE states; `lt` is the '<' of "<!DOCTYPE". */
static int
parse_doctype(struct html_tokenizer *t, size_t lt, struct html_token *tok)
{
	const unsigned char *b = t->buf;
	size_t len = t->len, p = lt + 9;
	int r, is_public;

	clear_token(tok, HTML_DOCTYPE, lt);
	/* DOCTYPE, before DOCTYPE name */
	skip_ws(t, &p);
	if (p >= len)
		goto quirks;
	if (b[p] == '>') {
		p++;
		goto quirks;
	}
	/* DOCTYPE name */
	tok->has_name = 1;
	tok->name.start = p;
	while (p < len && !IS_WS(b[p]) && b[p] != '>')
		p++;
	tok->name.end = p;
	/* after DOCTYPE name */
	skip_ws(t, &p);
	if (p >= len)
		goto quirks;
	if (b[p] == '>') {
		p++;
		goto done;
	}
	if (len - p >= 6 && casecmp_n(b + p, "public", 6) == 0)
		is_public = 1;
	else if (len - p >= 6 && casecmp_n(b + p, "system", 6) == 0)
		is_public = 0;
	else
		goto bogus_quirks;
	/* after DOCTYPE public/system keyword, before identifier */
	p += 6;
	skip_ws(t, &p);
	if (p >= len)
		goto quirks;
	if (b[p] == '>') {
		p++;
		goto quirks;
	}
	if (b[p] != '"' && b[p] != '\'')
		goto bogus_quirks;
	if (is_public) {
		tok->has_public_id = 1;
		r = doctype_id(t, &p, &tok->public_id);
		if (r != 0)
			goto quirks;
		/* after DOCTYPE public identifier, between identifiers */
		skip_ws(t, &p);
		if (p >= len)
			goto quirks;
		if (b[p] == '>') {
			p++;
			goto done;
		}
		if (b[p] != '"' && b[p] != '\'')
			goto bogus_quirks;
	}
	tok->has_system_id = 1;
	r = doctype_id(t, &p, &tok->system_id);
	if (r != 0)
		goto quirks;
	/* after DOCTYPE system identifier: junk goes to bogus DOCTYPE, no quirks */
	skip_ws(t, &p);
	if (p >= len)
		goto quirks;
	if (b[p] == '>') {
		p++;
		goto done;
	}
	goto bogus;
bogus_quirks:
	tok->force_quirks = 1;
bogus:
	{
		const unsigned char *q = memchr(b + p, '>', len - p);

		p = q == NULL ? len : (size_t)(q - b) + 1;
	}
	goto done;
quirks:
	tok->force_quirks = 1;
done:
	tok->span.end = p;
	t->pos = p;
	return HTML_DOCTYPE;
}

/* ---- markup after '<' in the data state ---- */

/* Tag open, end tag open, markup declaration open. (Inlined into the data
 * state's loop it measured slower: more registers to spill per tag.) */
static int
parse_markup(struct html_tokenizer *t, size_t lt, struct html_token *tok)
{
	const unsigned char *b = t->buf;
	size_t len = t->len, p = lt + 1;

	/* start and end tags: one call site, so that parse_tag() is inlined */
	if (IS_ALPHA(b[p]) || (b[p] == '/' && p + 1 < len && IS_ALPHA(b[p + 1])))
		return parse_tag(t, lt, b[p] == '/', tok);
	if (b[p] == '/') {
		p++;
		if (p >= len)
			return R_TEXT;
		if (b[p] == '>') {
			t->pos = p + 1;
			return R_SKIP;
		}
		return parse_bogus_comment(t, lt, p, tok);
	}
	if (b[p] == '?')
		return parse_bogus_comment(t, lt, p, tok);
	/* '!' */
	p++;
	if (len - p >= 2 && b[p] == '-' && b[p + 1] == '-')
		return parse_comment(t, lt, tok);
	if (len - p >= 7 && casecmp_n(b + p, "doctype", 7) == 0)
		return parse_doctype(t, lt, tok);
	if ((t->opts & HTML_OPT_CDATA) && len - p >= 7 && memcmp(b + p, "[CDATA[", 7) == 0) {
		t->model = HTML_MODEL_CDATA;
		t->pos = p + 7;
		return R_SKIP;
	}
	return parse_bogus_comment(t, lt, p, tok);
}

/* The end of the letters and digits from P (< LEN), or LEN: scan_to()
 * with the test reversed, four bytes per bound check. Bare tags' names are
 * mostly one or two bytes ("a", "td", "tr"): a byte loop cost a bound
 * check per byte, and a 16-byte block (SSE2) cost more than both. */
static inline size_t
bare_name_end(const unsigned char *b, size_t p, size_t len)
{
	while (len - p >= 4) {
		if (!(cls[b[p]] & C_ALNUM))
			return p;
		if (!(cls[b[p + 1]] & C_ALNUM))
			return p + 1;
		if (!(cls[b[p + 2]] & C_ALNUM))
			return p + 2;
		if (!(cls[b[p + 3]] & C_ALNUM))
			return p + 3;
		p += 4;
	}
	while (p < len && (cls[b[p]] & C_ALNUM))
		p++;
	return p;
}

/* A tag with a bare name, "</td>" or "<tr>" (half the tags of a table
 * layout), that the caller did not ask for (html_want_*_tags) and that
 * changes no tokenizer state (no content model, not svg or math): passed
 * over without filling a token. LT is its '<'. Returns the position after
 * its '>', or 0 when it must be read the long way; the long way would pass
 * over it too, so nothing is lost either way. */
static inline size_t
skip_bare_tag(const struct html_tokenizer *t, const unsigned char *b, size_t len, size_t lt)
{
	size_t p = lt + 1, s;
	int end = b[p] == '/';
	char name[16];
	enum html_tag_id id;

	if (!(t->opts & (end ? HTML_OPT_SOME_END_TAGS : HTML_OPT_SOME_START_TAGS)))
		return 0;
	s = p += end;
	if (p >= len || !IS_ALPHA(b[p]))
		return 0;
	/* b[p] is a letter */
	p = bare_name_end(b, p + 1, len);
	if (p >= len || b[p] != '>' || p - s >= sizeof(name))
		return 0;
	/* by length and first letter, most names ("td", "tr" when neither is
	 * asked for) are none that matters: no need to know which */
	if (!((t->bare_names[end][p - s] >> (lower(b[s]) - 'a')) & 1))
		return p + 1;
	for (size_t i = s; i < p; i++)
		name[i - s] = (char)lower(b[i]);
	id = tag_id(name, p - s);
	if ((MODEL_TAGS >> id) & 1)
		return 0;
	if (((end ? t->end_tags : t->start_tags) >> id) & 1)
		return 0;
	return p + 1;
}

/* Data state: text up to the next markup. WANT_TEXT is a constant (two
 * copies): tested in the loop, it cost a load and a branch per '<'. */
static inline __attribute__((always_inline)) int
scan_data(struct html_tokenizer *t, struct html_token *tok, const int want_text)
{
	const unsigned char *b = t->buf;
	size_t len = t->len, start = t->pos, p = t->pos, q, e;
	int r;
	unsigned char c;

	for (;;) {
		/* markup often follows markup: the next byte first */
		q = p < len && b[p] == '<' ? p : find_byte(b, p, len, '<');
		if (q + 1 >= len) {
			t->pos = len;
			break;
		}
at_lt:
		c = b[q + 1];
		/* "</" at EOF is text too */
		if ((!IS_ALPHA(c) && c != '/' && c != '!' && c != '?') || (c == '/' && q + 2 >= len)) {
			p = q + 1;
			continue;
		}
		if (want_text && q > start) {
			t->pos = q;
			return emit_text(tok, start, q, HTML_MODEL_DATA);
		}
		if (!want_text && (e = skip_bare_tag(t, b, len, q)) != 0) {
			/* table layouts close and open tags back to back
			 * ("</td></tr><tr>"): the next byte first */
			if (e + 1 < len && b[e] == '<') {
				q = e;
				goto at_lt;
			}
			p = e;
			continue;
		}
		r = parse_markup(t, q, tok);
		/* a tag nobody asked for: on to the next markup (no text is
		 * returned, so none is lost) */
		if (r > 0 && !want_text && tag_unwanted(t, r, tok)) {
			p = t->pos;
			continue;
		}
		if (r > 0)
			return r;
		if (r == R_TEXT) {
			p = q + 1;
			continue;
		}
		/* R_SKIP: t->pos moved; the model may have changed */
		return R_SKIP;
	}
	if (want_text && len > start)
		return emit_text(tok, start, len, HTML_MODEL_DATA);
	return R_SKIP;
}

/* Script data and its escaped / double-escaped states: the position of the
 * '<' of the appropriate end tag, or len. */
static size_t
find_script_end(const struct html_tokenizer *t, size_t p)
{
	enum { S_DATA, S_ESC, S_ESC_DASH, S_ESC_DD, S_DESC, S_DESC_DASH, S_DESC_DD } s = S_DATA;
	const unsigned char *b = t->buf;
	size_t len = t->len, e, n0;
	unsigned char c;

	while (p < len) {
		c = b[p];
		switch (s) {
		case S_DATA: {
			const unsigned char *lt = memchr(b + p, '<', len - p);

			if (lt == NULL)
				return len;
			p = (size_t)(lt - b);
			if (appropriate_end_at(t, p))
				return p;
			/* script data escape start ("<!--") */
			if (p + 3 < len && b[p + 1] == '!' && b[p + 2] == '-' && b[p + 3] == '-') {
				s = S_ESC_DD;
				p += 4;
			} else
				p++;
			continue;
		}
		case S_ESC:
		case S_ESC_DASH:
		case S_ESC_DD:
			if (c == '<')
				break;
			if (c == '-')
				s = s == S_ESC ? S_ESC_DASH : S_ESC_DD;
			else if (c == '>' && s == S_ESC_DD)
				s = S_DATA;
			else
				s = S_ESC;
			p++;
			continue;
		case S_DESC:
		case S_DESC_DASH:
		case S_DESC_DD:
			if (c == '<') {
				/* double escaped less-than sign, double escape end */
				p++;
				s = S_DESC;
				if (p < len && b[p] == '/') {
					for (n0 = e = p + 1; e < len && IS_ALPHA(b[e]); e++)
						;
					if (e < len && (cls[b[e]] & C_NAMEEND)) {
						if (e - n0 == 6 && casecmp_n(b + n0, "script", 6) == 0)
							s = S_ESC;
						p = e + 1;
					} else
						p = e;
				}
				continue;
			}
			if (c == '-')
				s = s == S_DESC ? S_DESC_DASH : S_DESC_DD;
			else if (c == '>' && s == S_DESC_DD)
				s = S_DATA;
			else
				s = S_DESC;
			p++;
			continue;
		}
		/* script data escaped less-than sign */
		if (appropriate_end_at(t, p))
			return p;
		s = S_ESC;
		if (p + 1 < len && b[p + 1] == '/') {
			p += 2;	/* escaped end tag open/name: not ours, text */
		} else if (p + 1 < len && IS_ALPHA(b[p + 1])) {
			/* script data double escape start */
			for (n0 = e = p + 1; e < len && IS_ALPHA(b[e]); e++)
				;
			if (e < len && (cls[b[e]] & C_NAMEEND)) {
				if (e - n0 == 6 && casecmp_n(b + n0, "script", 6) == 0)
					s = S_DESC;
				p = e + 1;
			} else
				p = e;
		} else
			p++;
	}
	return len;
}

/* CDATA section: text up to "]]>". */
static size_t
find_cdata_end(const struct html_tokenizer *t, size_t p)
{
	const unsigned char *b = t->buf;

	while (p < t->len) {
		const unsigned char *q = memchr(b + p, ']', t->len - p);

		if (q == NULL)
			break;
		p = (size_t)(q - b);
		if (p + 2 < t->len && b[p + 1] == ']' && b[p + 2] == '>')
			return p;
		p++;
	}
	return t->len;
}

/* RCDATA / RAWTEXT: text up to the appropriate end tag. */
static size_t
find_raw_end(const struct html_tokenizer *t, size_t p)
{
	while (p < t->len) {
		const unsigned char *q = memchr(t->buf + p, '<', t->len - p);

		if (q == NULL)
			break;
		p = (size_t)(q - t->buf);
		if (appropriate_end_at(t, p))
			return p;
		p++;
	}
	return t->len;
}

/* Text in a non-data content model, then (next call) its end tag. */
static int
scan_raw(struct html_tokenizer *t, struct html_token *tok)
{
	size_t start = t->pos, end;
	enum html_model m = t->model;

	switch (m) {
	case HTML_MODEL_RCDATA:
	case HTML_MODEL_RAWTEXT:
		end = find_raw_end(t, start);
		break;
	case HTML_MODEL_SCRIPT:
		end = find_script_end(t, start);
		break;
	case HTML_MODEL_CDATA:
		end = find_cdata_end(t, start);
		t->model = HTML_MODEL_DATA;
		t->pos = end < t->len ? end + 3 : end;
		goto out;
	default:
		end = t->len;
		break;
	}
	t->pos = end;
	if (end < t->len) {
		t->pending_end = 1;
		t->model = HTML_MODEL_DATA;
	}
out:
	if (end > start && !(t->opts & HTML_OPT_SKIP_TEXT))
		return emit_text(tok, start, end, m);
	return R_SKIP;
}

enum html_kind
html_next(struct html_tokenizer *t, struct html_token *tok)
{
	int r;

	for (;;) {
		if (t->pending_end) {
			t->pending_end = 0;
			/* "</" and a letter: parse_markup() reads an end tag */
			r = parse_markup(t, t->pos, tok);
			if (r > 0)
				return (enum html_kind)r;
			continue;
		}
		if (t->pos >= t->len)
			break;
		if (t->model == HTML_MODEL_DATA)
			r = t->opts & HTML_OPT_SKIP_TEXT ? scan_data(t, tok, 0) : scan_data(t, tok, 1);
		else
			r = scan_raw(t, tok);
		if (r > 0)
			return (enum html_kind)r;
	}
	clear_token(tok, HTML_EOF, t->len);
	return HTML_EOF;
}

/* ---- character references ---- */

/* Numeric references in 0x80..0x9F name windows-1252 characters. */
static const unsigned short c1_table[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static int
put_utf8(struct buf *out, unsigned long cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xF0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return buf_append(out, u, n);
}

/* Numeric character reference at s[0] == '&', s[1] == '#'. Returns bytes
 * consumed, or 0 when there are no digits (the text stays as it is). */
static size_t
numeric_ref(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t p = 2, d0;
	unsigned long v = 0;
	int hex = 0;

	if (p < n && (s[p] == 'x' || s[p] == 'X')) {
		hex = 1;
		p++;
	}
	d0 = p;
	for (; p < n; p++) {
		unsigned c = s[p], dv;

		if (c >= '0' && c <= '9')
			dv = c - '0';
		else if (hex && c >= 'a' && c <= 'f')
			dv = c - 'a' + 10;
		else if (hex && c >= 'A' && c <= 'F')
			dv = c - 'A' + 10;
		else
			break;
		v = v * (hex ? 16 : 10) + dv;
		if (v > 0x10FFFF)
			v = 0x110000;	/* saturate: stays out of range */
	}
	if (p == d0)
		return 0;
	if (p < n && s[p] == ';')
		p++;
	if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		v = 0xFFFD;
	else if (v >= 0x80 && v <= 0x9F)
		v = c1_table[v - 0x80];
	*cp = v;
	return p;
}

/* Exact lookup of name[0..n) in the sorted table. */
static const struct html_entity *
entity_lookup(const unsigned char *name, size_t n)
{
	size_t lo = 0, hi = html_entities_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct html_entity *e = &html_entities[mid];
		size_t m = n < e->name_len ? n : e->name_len;
		int c = memcmp(name, e->name, m);

		if (c == 0)
			c = n < e->name_len ? -1 : n > e->name_len ? 1 : 0;
		if (c == 0)
			return e;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Named character reference state: the longest table name that prefixes
 * s + 1 (s[0] == '&'). Returns bytes consumed including '&', or 0. */
static size_t
named_ref(const unsigned char *s, size_t n, int in_attribute, const struct html_entity **out)
{
	size_t run = 1, k;

	while (run < n && run - 1 < html_entities_maxlen && IS_ALNUM(s[run]))
		run++;
	if (run < n && s[run] == ';' && run - 1 < html_entities_maxlen)
		run++;
	for (k = run - 1; k >= 2; k--) {
		const struct html_entity *e = entity_lookup(s + 1, k);

		if (e == NULL)
			continue;
		/* legacy rule: in attributes "&amp=" / "&ampx" stay as they are */
		if (in_attribute && e->name[k - 1] != ';' && k + 1 < n &&
		    (s[k + 1] == '=' || IS_ALNUM(s[k + 1])))
			return 0;
		*out = e;
		return k + 1;
	}
	return 0;
}

static int
put_fffd(struct buf *out)
{
	return buf_append(out, "\xEF\xBF\xBD", 3);
}

int
html_decode(const char *raw, size_t len, unsigned flags, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)raw;
	size_t p = 0, run = 0, k;

	if (buf_reserve(out, len) < 0)
		return -1;
	/* Most attribute values and text runs hold nothing to decode: two
	 * memchr() passes are far cheaper than the loop below. */
	if (((flags & HTML_DEC_CHARREFS) == 0 || memchr(raw, '&', len) == NULL) &&
	    ((flags & HTML_DEC_NUL) == 0 || memchr(raw, '\0', len) == NULL))
		return buf_append(out, raw, len);
	while (p < len) {
		unsigned char c = s[p];

		if (c == '&' && (flags & HTML_DEC_CHARREFS) && p + 1 < len) {
			unsigned long cp = 0;
			const struct html_entity *e = NULL;

			if (s[p + 1] == '#')
				k = numeric_ref(s + p, len - p, &cp);
			else if (IS_ALNUM(s[p + 1]))
				k = named_ref(s + p, len - p, (flags & HTML_DEC_ATTRIBUTE) != 0, &e);
			else
				k = 0;
			if (k > 0) {
				if (buf_append(out, s + run, p - run) < 0)
					return -1;
				if (e != NULL ? buf_append(out, e->utf8, e->utf8_len) : put_utf8(out, cp))
					return -1;
				p += k;
				run = p;
				continue;
			}
		} else if (c == '\0' && (flags & HTML_DEC_NUL)) {
			if (buf_append(out, s + run, p - run) < 0 || put_fffd(out) < 0)
				return -1;
			run = ++p;
			continue;
		}
		p++;
	}
	return buf_append(out, s + run, p - run);
}

int
html_decode_charrefs(const char *raw, size_t len, int in_attribute, struct buf *out)
{
	return html_decode(raw, len, HTML_DEC_CHARREFS | (in_attribute ? HTML_DEC_ATTRIBUTE : 0), out);
}

int
html_decode_attr_value(const char *raw, size_t len, struct buf *out)
{
	return html_decode(raw, len, HTML_DEC_CHARREFS | HTML_DEC_ATTRIBUTE | HTML_DEC_NUL, out);
}

/* The general path of html_decode_url: decode everything, then strip. */
static int
decode_url_general(const char *raw, size_t len, struct buf *out)
{
	size_t start = out->len, i, j, b, e;

	if (html_decode_attr_value(raw, len, out) < 0)
		return -1;
	/* WHATWG URL parser: strip leading/trailing C0 control or space, then
	 * remove ASCII tab and newline anywhere */
	b = start;
	e = out->len;
	while (b < e && (unsigned char)out->data[b] <= 0x20)
		b++;
	while (e > b && (unsigned char)out->data[e - 1] <= 0x20)
		e--;
	if (b == start && memchr(out->data + b, '\t', e - b) == NULL &&
	    memchr(out->data + b, '\n', e - b) == NULL &&
	    memchr(out->data + b, '\r', e - b) == NULL) {
		out->len = e;	/* nothing to remove */
		out->data[e] = '\0';
		return 0;
	}
	for (i = b, j = start; i < e; i++) {
		char c = out->data[i];

		if (c != '\t' && c != '\n' && c != '\r')
			out->data[j++] = c;
	}
	out->len = j;
	out->data[j] = '\0';
	return 0;
}

/* No byte of ENT's replacement is a C0 control or space. */
static int
charref_is_printable(const struct html_entity *ent)
{
	size_t m;

	for (m = 0; m < ent->utf8_len; m++)
		if ((unsigned char)ent->utf8[m] <= 0x20)
			return 0;
	return 1;
}

/* URL attribute values are nearly always plain bytes with "&amp;" between
 * query parameters. The fast path below produces exactly what
 * decode_url_general would, as long as nothing it decodes or keeps is a byte
 * that the URL rules strip or remove; whenever that could happen (a control
 * byte in the raw value, a reference decoding to a C0 control or space) it
 * starts over on the general path. Trimming the raw value first is the same
 * as trimming the decoded one then: the trimmed bytes (0x01..0x20) decode to
 * themselves, and a NUL (which becomes U+FFFD) is never trimmed. */
int
html_decode_url(const char *raw, size_t len, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)raw;
	size_t start = out->len, b = 0, e = len, p, run, k;
	const unsigned char *amp;
	char *o;

	while (b < e && s[b] - 1u < 0x20u)
		b++;
	while (e > b && s[e - 1] - 1u < 0x20u)
		e--;
	if (bytes_have_low_control(s + b, e - b))
		return decode_url_general(raw, len, out);
	/* literal runs and "&amp;" never make the output longer */
	if (buf_reserve(out, e - b) < 0)
		return -1;
	o = out->data + start;
	for (run = p = b; (amp = memchr(s + p, '&', e - p)) != NULL; p += k) {
		p = (size_t)(amp - s);
		if (e - p >= 5 && memcmp(s + p, "&amp;", 5) == 0) {
			memcpy(o, s + run, p - run);
			o += p - run;
			*o++ = '&';
			k = 5;
		} else {
			unsigned long cp = 0;
			const struct html_entity *ent = NULL;

			/* the same calls as html_decode(), with the same bound */
			if (p + 1 >= len)
				k = 0;
			else if (s[p + 1] == '#')
				k = numeric_ref(s + p, len - p, &cp);
			else if (IS_ALNUM(s[p + 1]))
				k = named_ref(s + p, len - p, 1, &ent);
			else
				k = 0;
			if (k == 0) {
				k = 1;	/* a plain '&' */
				continue;
			}
			if (ent == NULL ? cp <= 0x20 : !charref_is_printable(ent))
				goto general;
			/* flush the run, append the character, and make room again
			 * for the rest: some UTF-8 is longer than its reference */
			memcpy(o, s + run, p - run);
			out->len = (size_t)(o + (p - run) - out->data);
			if ((ent == NULL ? put_utf8(out, cp) : buf_append(out, ent->utf8, ent->utf8_len)) < 0 ||
			    buf_reserve(out, e - p - k) < 0)
				return -1;
			o = out->data + out->len;
		}
		run = p + k;
	}
	memcpy(o, s + run, e - run);
	o += e - run;
	out->len = (size_t)(o - out->data);
	*o = '\0';
	return 0;
general:
	out->len = start;
	out->data[start] = '\0';
	return decode_url_general(raw, len, out);
}

int
html_decode_text(const char *buf, const struct html_token *tok, struct buf *out)
{
	unsigned flags;

	switch (tok->text_model) {
	case HTML_MODEL_DATA:
		flags = HTML_DEC_CHARREFS;
		break;
	case HTML_MODEL_RCDATA:
		flags = HTML_DEC_CHARREFS | HTML_DEC_NUL;
		break;
	case HTML_MODEL_CDATA:
		flags = 0;
		break;
	default:
		flags = HTML_DEC_NUL;
		break;
	}
	return html_decode(buf + tok->data.start, tok->data.end - tok->data.start, flags, out);
}
