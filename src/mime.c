/* mime.c - walk a message's MIME tree with GMime, hand each text part
 * (decoded, in an ASCII-compatible charset) to an editor, and splice the
 * re-encoded edited parts into a byte-exact copy of the original body.
 *
 * Why splicing: GMime's writer is not byte-exact (line ends, epilogue,
 * padding after boundaries, missing final boundaries), and a message whose
 * untouched parts change would break signatures and annoy everyone. So GMime
 * only tells us where each part's headers and content are (it is told to
 * keep the content in the input stream, "persist stream", so it never copies
 * it); every offset it gives is checked against the raw bytes before use, and
 * the output is built from the original bytes plus replacement spans.
 *
 * Decisions (documented in mime.h and the report):
 * - message/ parts of any subtype (attached or inline), multipart/signed,
 *   multipart/encrypted, application/(x-)pkcs7-mime and
 *   application/pgp-encrypted are never entered.
 * - An edit that would need 8-bit data in a 7bit part, a NUL in an 8bit
 *   part, lines over 998 octets where there were none, or that would create
 *   a line looking like an enclosing boundary, is refused: that part stays as
 *   it was and `why` says so. The engine only writes URLs, which it should
 *   percent-encode; changing a part's transfer encoding would mean editing
 *   headers the milter may not own (the top-level ones).
 * - Charsets in which every byte below 0x80 is ASCII are handed out as bytes;
 *   others that iconv knows are converted to UTF-8 and back; names iconv does
 *   not know are handed out as bytes unless the content holds NUL or ESC.
 */
#include "build-config.h"
#include "mime.h"
#include "cte.h"

#include <gmime/gmime.h>

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>	/* SSE2, the x86-64 baseline */
#endif

#define MIME_DEPTH_LIMIT	100	/* hard cap whatever the configuration says */
#define LINE_LIMIT		998	/* RFC 5322 line length without CRLF */

/* Per-call state: lives on the caller's stack, nothing shared. */
struct walk {
	const char *hdr;	/* stream = hdr[0..hlen) "\r\n" body[0..blen) */
	size_t hlen;
	const char *body;
	size_t blen;
	size_t base;		/* stream offset of body[0] */
	const struct mime_opts *opts;
	int max_depth;
	mime_part_fn fn;
	void *arg;
	struct buf out;		/* the new body so far: body[0..outpos) with the edits */
	size_t outpos;		/* body offset up to which out is built */
	unsigned nedits;	/* edits accepted into out */
	const char *bounds[MIME_DEPTH_LIMIT + 2];	/* enclosing boundaries */
	int nbounds;
	struct mime_stats *st;
	char *why;
	size_t whylen;
	int narrowed;		/* hdr holds only the Content-* headers (narrow_headers) */
	int fatal;		/* 1: stop, return MIME_ERROR with why */
	int crit;		/* a critical GMime warning seen */
	char crit_text[128];
};

/* ------------------------------------------------------------------------ */
/* reasons */

/* Reasons go to syslog and may quote the message (charset labels, header
 * names): anything but printable ASCII becomes '?'. */
static void
set_why(struct walk *w, const char *fmt, ...)
{
	va_list ap;
	char *p;

	if (w->why == NULL || w->whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(w->why, w->whylen, fmt, ap);
	va_end(ap);
	for (p = w->why; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
}

/* A message-wide failure: the first reason wins. */
static void
fail(struct walk *w, const char *reason)
{
	if (!w->fatal)
		set_why(w, "%s", reason);
	w->fatal = 1;
}

/* A part left untouched: remembered only if nothing was noted before. */
static void
note_part(struct walk *w, int index, const char *type, const char *reason)
{
	w->st->failed_parts++;
	if (w->why != NULL && w->whylen > 0 && w->why[0] == '\0')
		set_why(w, "part %d (%s) left unchanged: %s", index, type, reason);
}

/* The Content-Transfer-Encoding header value, or -1 if it names something we
 * cannot re-encode faithfully (x-uuencode, x-token...). */
static int
parse_cte(const char *value)
{
	static const struct { const char *name; enum mime_cte cte; } names[] = {
		{ "7bit", MIME_CTE_7BIT }, { "8bit", MIME_CTE_8BIT },
		{ "binary", MIME_CTE_BINARY }, { "quoted-printable", MIME_CTE_QP },
		{ "base64", MIME_CTE_BASE64 },
	};
	size_t i, n;

	if (value == NULL)
		return MIME_CTE_7BIT;
	while (isspace((unsigned char)*value))
		value++;
	for (n = 0; value[n] && !isspace((unsigned char)value[n]) && value[n] != ';' &&
	     value[n] != '('; n++)
		;
	if (n == 0)
		return MIME_CTE_7BIT;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == n && strncasecmp(value, names[i].name, n) == 0)
			return (int)names[i].cte;
	return -1;
}

/* ------------------------------------------------------------------------ */
/* charsets */

enum cs_kind { CS_BYTES, CS_CONVERT };

struct cs_plan {
	enum cs_kind kind;
	char iconv_name[64];	/* what iconv decodes from / encodes to */
	char bom[4];		/* byte order mark stripped before decoding */
	size_t bomlen;
};

/* Lower-case copy without surrounding blanks (labels come from messages). */
static void
lower_copy(char *dst, size_t size, const char *src)
{
	size_t i;

	while (isspace((unsigned char)*src))
		src++;
	for (i = 0; i + 1 < size && src[i]; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	while (i > 0 && isspace((unsigned char)dst[i - 1]))
		i--;
	dst[i] = '\0';
}

/* Charsets where a byte below 0x80 always is that ASCII character. */
static int
ascii_compatible(const char *cs)
{
	static const char *const prefixes[] = {
		"us-ascii", "ascii", "ansi_x3.4", "utf-8", "utf8", "iso-8859-", "iso8859-",
		"iso_8859-", "latin", "windows-125", "cp125", "x-cp125", "koi8", "euc-",
		"x-euc", "gb2312", "tis-620", "viscii", "macintosh", "ibm437",
		"ibm850", "cp437", "cp850", "cp866", "ibm866",
	};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(cs, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

/* Guess the byte order of BOM-less UTF-16/32: ASCII-range text has its zero
 * bytes at the high end of each unit. */
static int
looks_little_endian(const unsigned char *p, size_t len, size_t unit)
{
	size_t i, lo = 0, hi = 0;

	for (i = 0; i + unit <= len && i < 256; i += unit) {
		if (p[i] == 0)
			hi++;
		if (p[i + unit - 1] == 0)
			lo++;
	}
	return lo > hi;
}

/* Work out how to get `content` (in charset `label`) into UTF-8. */
static void
plan_charset(const char *label, const char *content, size_t len, struct cs_plan *pl)
{
	const unsigned char *p = (const unsigned char *)content;
	char cs[64];
	size_t unit = 0;
	int explicit_le = -1;

	memset(pl, 0, sizeof(*pl));
	if (label == NULL || *label == '\0') {
		pl->kind = CS_BYTES;
		return;
	}
	lower_copy(cs, sizeof(cs), label);
	if (ascii_compatible(cs)) {
		pl->kind = CS_BYTES;
		return;
	}
	snprintf(pl->iconv_name, sizeof(pl->iconv_name), "%s", cs);
	if (strncmp(cs, "utf-16", 6) == 0 || strncmp(cs, "utf16", 5) == 0)
		unit = 2;
	else if (strncmp(cs, "utf-32", 6) == 0 || strncmp(cs, "utf32", 5) == 0)
		unit = 4;
	if (unit) {
		const char *suffix = cs + (cs[3] == '-' ? 6 : 5);

		if (strcmp(suffix, "le") == 0)
			explicit_le = 1;
		else if (strcmp(suffix, "be") == 0)
			explicit_le = 0;
		if (unit == 2 && len >= 2 && p[0] == 0xff && p[1] == 0xfe && explicit_le != 0)
			explicit_le = 1, pl->bomlen = 2;
		else if (unit == 2 && len >= 2 && p[0] == 0xfe && p[1] == 0xff && explicit_le != 1)
			explicit_le = 0, pl->bomlen = 2;
		else if (unit == 4 && len >= 4 && memcmp(p, "\xff\xfe\0\0", 4) == 0 &&
			 explicit_le != 0)
			explicit_le = 1, pl->bomlen = 4;
		else if (unit == 4 && len >= 4 && memcmp(p, "\0\0\xfe\xff", 4) == 0 &&
			 explicit_le != 1)
			explicit_le = 0, pl->bomlen = 4;
		if (explicit_le < 0)
			explicit_le = looks_little_endian(p, len, unit);
		memcpy(pl->bom, content, pl->bomlen);
		snprintf(pl->iconv_name, sizeof(pl->iconv_name), "UTF-%d%s",
			 unit == 2 ? 16 : 32, explicit_le ? "LE" : "BE");
	}
	pl->kind = CS_CONVERT;
}

/* Convert with iconv, flushing the shift state at the end (ISO-2022-JP must
 * end in ASCII). Returns NULL on success, else the reason. */
static const char *
convert(const char *to, const char *from, const char *in, size_t len, struct buf *out)
{
	iconv_t cd = iconv_open(to, from);
	char *ip = (char *)(uintptr_t)in;
	size_t il = len;
	const char *reason = NULL;
	int flushing = 0;

	if (cd == (iconv_t)-1)
		return "charset unknown to iconv";
	for (;;) {
		char *op;
		size_t ol, r;

		if (buf_reserve(out, il * 2 + 32) < 0) {
			reason = "out of memory";
			break;
		}
		op = out->data + out->len;
		ol = out->cap - out->len - 1;
		r = flushing ? iconv(cd, NULL, NULL, &op, &ol) : iconv(cd, &ip, &il, &op, &ol);
		out->len = (size_t)(op - out->data);
		if (r == (size_t)-1) {
			if (errno == E2BIG)
				continue;
			reason = errno == EILSEQ ? "invalid byte sequence for the charset" :
				"incomplete byte sequence for the charset";
			break;
		}
		if (flushing)
			break;
		if (il == 0)
			flushing = 1;
	}
	iconv_close(cd);
	if (out->data)
		out->data[out->len] = '\0';
	return reason;
}

/* ------------------------------------------------------------------------ */
/* raw-byte checks of GMime's offsets */

/* The byte at stream offset off (off < total). */
static int
byte_at(const struct walk *w, size_t off)
{
	if (off < w->hlen)
		return (unsigned char)w->hdr[off];
	if (off < w->base)
		return off == w->hlen ? '\r' : '\n';
	return (unsigned char)w->body[off - w->base];
}

/* Does body offset pos start a delimiter line "--boundary" of bound? */
static int
is_delimiter(const struct walk *w, size_t pos, const char *bound)
{
	size_t bl = strlen(bound);

	return pos + 2 + bl <= w->blen && w->body[pos] == '-' && w->body[pos + 1] == '-' &&
		memcmp(w->body + pos + 2, bound, bl) == 0;
}

/* Body offset where the line following the line break at pos starts, or
 * (size_t)-1 if there is no line break at pos. */
static size_t
after_break(const struct walk *w, size_t pos)
{
	if (pos < w->blen && w->body[pos] == '\n')
		return pos + 1;
	if (pos + 1 < w->blen && w->body[pos] == '\r' && w->body[pos + 1] == '\n')
		return pos + 2;
	return (size_t)-1;
}

/* A content span [start, end) in body offsets is believable if it follows a
 * line end and is followed by the end of the message or by a line break and
 * a delimiter of an enclosing multipart. */
static int
span_is_sane(const struct walk *w, size_t start, size_t end)
{
	size_t next;
	int i;

	if (start > end || end > w->blen)
		return 0;
	if (byte_at(w, w->base + start - 1) != '\n')
		return 0;
	if (end == w->blen)
		return 1;
	next = after_break(w, end);
	if (next == (size_t)-1)
		return 0;
	for (i = w->nbounds - 1; i >= 0; i--)
		if (is_delimiter(w, next, w->bounds[i]))
			return 1;
	return 0;
}

/* Does the line at p start like a delimiter of an enclosing multipart? */
static int
delimiter_like(const struct walk *w, const char *p, const char *end)
{
	int k;

	if (end - p < 2 || p[0] != '-' || p[1] != '-')
		return 0;
	for (k = 0; k < w->nbounds; k++) {
		size_t bl = strlen(w->bounds[k]);

		if ((size_t)(end - p) >= 2 + bl && memcmp(p + 2, w->bounds[k], bl) == 0)
			return 1;
	}
	return 0;
}

/* Where the line at p ends (after its LF, or at end). */
static const char *
line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

/* Is the exact line [l, lend) also a line of [p, end)? */
static int
has_line(const char *p, const char *end, const char *l, const char *lend)
{
	size_t n = (size_t)(lend - l);

	for (; p < end; p = line_end(p, end))
		if ((size_t)(line_end(p, end) - p) == n && memcmp(p, l, n) == 0)
			return 1;
	return 0;
}

/* The start of the next line that begins with '-' (the byte after the first
 * '\n' at or after p that is followed by '-'), or NULL. Only such lines can
 * read as a boundary, and they are rare; re-encoded HTML has a line end
 * every 78 bytes, so they are found 64 bytes at a time rather than with a
 * memchr() call each. */
static const char *
next_dash_line(const char *p, const char *end)
{
	const char *q;

#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n');

	for (; end - p > 64; p += 64) {	/* a '\n' at p + 63 has its next byte */
		uint64_t m0 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
				_mm_loadu_si128((const __m128i *)p), nl));
		uint64_t m1 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
				_mm_loadu_si128((const __m128i *)(p + 16)), nl));
		uint64_t m2 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
				_mm_loadu_si128((const __m128i *)(p + 32)), nl));
		uint64_t m3 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
				_mm_loadu_si128((const __m128i *)(p + 48)), nl));
		uint64_t m = m0 | m1 << 16 | m2 << 32 | m3 << 48;

		for (; m != 0; m &= m - 1) {
			q = p + __builtin_ctzll(m);
			if (q[1] == '-')
				return q + 1;
		}
	}
#endif
	for (; (q = memchr(p, '\n', (size_t)(end - p))) != NULL; p = q + 1)
		if (q + 1 < end && q[1] == '-')
			return q + 1;
	return NULL;
}

/* Would the re-encoded part add a line that may read as a boundary? Lines
 * starting with "--boundary" that the original content held verbatim are no
 * news: GMime did not end the part there, so the same line will not end it
 * either. Any other such line (a soft break can bring "--boundary" to the
 * start of a line) is refused. */
static int
creates_delimiter(const struct walk *w, const char *enc, size_t elen, const char *orig,
		  size_t olen, int *checked)
{
	const char *p, *end = enc + elen;

	if (w->nbounds == 0 || elen == 0)
		return 0;
	for (p = enc; p != NULL; p = next_dash_line(p, end)) {
		if (!delimiter_like(w, p, end))
			continue;
		if (++*checked > 16 || !has_line(orig, orig + olen, p, line_end(p, end)))
			return 1;
	}
	return 0;
}

/* creates_delimiter() for the stretches qp_encode_around() wrote anew (SEGS,
 * offsets in w->out): the rest are lines of the original, each of which
 * starts at a line start of it. */
static int
segments_create_delimiter(const struct walk *w, const struct buf *segs, const char *orig,
			  size_t olen)
{
	size_t k, pair[2];
	int checked = 0;

	for (k = 0; k + sizeof(pair) <= segs->len; k += sizeof(pair)) {
		memcpy(pair, segs->data + k, sizeof(pair));
		if (creates_delimiter(w, w->out.data + pair[0], pair[1] - pair[0], orig, olen,
				      &checked))
			return 1;
	}
	return 0;
}

static size_t
longest_line(const char *p, size_t len)
{
	size_t i, cur = 0, max = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n') {
			cur = 0;
			continue;
		}
		if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')
			continue;
		if (++cur > max)
			max = cur;
	}
	return max;
}

/* What bytes a 7bit/8bit/binary part holds: bit 0 NUL, bit 1 8-bit. */
static int
identity_flags(const char *p, size_t len)
{
	size_t i;
	int f = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == 0)
			f |= 1;
		else if (c >= 0x80)
			f |= 2;
	}
	return f;
}

/* Can `data` replace `orig` in a part with this identity encoding? An edit
 * may not make the part less conformant than it was. */
static const char *
identity_refusal(enum mime_cte cte, const char *orig, size_t olen,
		 const char *data, size_t len)
{
	int had, has;
	size_t max;

	if (cte == MIME_CTE_BINARY)
		return NULL;
	had = identity_flags(orig, olen);
	has = identity_flags(data, len);
	if ((has & 1) && !(had & 1))
		return "edit would put a NUL byte into a 7bit/8bit part";
	if (cte == MIME_CTE_7BIT && (has & 2) && !(had & 2))
		return "edit would put 8-bit data into a 7bit part";
	max = longest_line(data, len);
	if (max > LINE_LIMIT && max > longest_line(orig, olen))
		return "edit would create a line longer than 998 octets";
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* edits */

/* The new body is built as the walk goes, in document order, in one buffer:
 * an edit copies the original bytes up to its start, then its replacement
 * is written (a re-encoded part straight from the encoder) after the mark
 * set here (out.len before the replacement). No replacement is held apart
 * and copied again, and the buffer is sized once for the whole body.
 * Returns 0, or -1: out of memory, or edits out of order (then w->fatal is
 * set). */
static int
begin_edit(struct walk *w, size_t start, size_t *mark)
{
	if (start < w->outpos || start > w->blen) {
		fail(w, "overlapping edits (internal error)");
		return -1;
	}
	if ((w->out.data == NULL && buf_reserve(&w->out, w->blen + w->blen / 8 + 256) < 0) ||
	    buf_append(&w->out, w->body + w->outpos, start - w->outpos) < 0)
		return -1;
	w->outpos = start;
	*mark = w->out.len;
	return 0;
}

/* Keep the replacement written since mark: it stands for body[start, end). */
static void
commit_edit(struct walk *w, size_t end)
{
	w->outpos = end;
	w->nedits++;
}

/* Drop the replacement written since mark; body[start...) is still to come. */
static void
cancel_edit(struct walk *w, size_t mark)
{
	w->out.len = mark;
	w->out.data[w->out.len] = '\0';
}

/* ------------------------------------------------------------------------ */
/* one text part */

/* The content span of a leaf part in body offsets; 0 if it has none usable. */
static int
content_span(const struct walk *w, GMimePart *part, size_t *start, size_t *end)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *s = dw ? g_mime_data_wrapper_get_stream(dw) : NULL;
	gint64 a, b, total = (gint64)(w->base + w->blen);

	if (s == NULL)
		return 0;
	a = s->bound_start;
	b = s->bound_end < 0 ? total : s->bound_end;
	if (a < (gint64)w->base || b < a || b > total)
		return -1;
	*start = (size_t)(a - (gint64)w->base);
	*end = (size_t)(b - (gint64)w->base);
	return 1;
}

static int
decode_content(enum mime_cte cte, const char *p, size_t len, struct buf *out,
	       struct qp_marks *marks, const char **reason)
{
	*reason = "out of memory";
	switch (cte) {
	case MIME_CTE_QP:
		return qp_decode_marked(p, len, out, marks);
	case MIME_CTE_BASE64:
		return mime_decode_base64(p, len, out, reason);
	default:
		return buf_append(out, p, len);
	}
}

/* The trailing complete line ends (CRLF or LF) of a base64 span: not data,
 * but part of the layout we keep. A lone CR cut off at the end is not kept. */
static size_t
trailing_breaks(const char *p, size_t len)
{
	size_t n = 0;

	for (;;) {
		if (n + 2 <= len && p[len - n - 2] == '\r' && p[len - n - 1] == '\n')
			n += 2;
		else if (n + 1 <= len && p[len - n - 1] == '\n')
			n += 1;
		else
			return n;
	}
}

/* Append the encoding of data to out (which may hold other bytes before). */
static const char *
encode_content(enum mime_cte cte, const char *orig, size_t olen, const char *data,
	       size_t len, struct buf *out)
{
	size_t tb, before = out->len;

	switch (cte) {
	case MIME_CTE_QP:
		if (mime_encode_qp(data, len, out) < 0)
			return "out of memory";
		/* keep a final line end the original had (a soft break decodes to
		 * nothing), so that a body never loses its last CRLF */
		if (olen > 0 && orig[olen - 1] == '\n' &&
		    (out->len == before || out->data[out->len - 1] != '\n') &&
		    buf_append(out, "=\r\n", 3) < 0)
			return "out of memory";
		return NULL;
	case MIME_CTE_BASE64:
		tb = trailing_breaks(orig, olen);
		if (mime_encode_base64(data, len, out) < 0 ||
		    buf_append(out, orig + olen - tb, tb) < 0)
			return "out of memory";
		return NULL;
	default:
		return buf_append(out, data, len) < 0 ? "out of memory" : NULL;
	}
}

/* Bytes that rule out treating an unknown charset as ASCII-compatible. */
static int
has_nul_or_esc(const char *p, size_t len)
{
	return memchr(p, 0, len) != NULL || memchr(p, 0x1b, len) != NULL;
}

/* One text part on its way through the editor. */
struct part_work {
	enum mime_cte cte;
	size_t start, end;		/* encoded content span, body offsets */
	struct cs_plan plan;
	struct mime_part_info info;
	struct buf dec;			/* transfer-decoded, original charset */
	struct buf utf8;		/* dec converted, when plan.kind == CS_CONVERT */
	struct buf edited;		/* the editor's output */
	struct buf whole;		/* with sparse edits: the new text put together */
	struct buf back;		/* edited, converted back */
	struct qp_marks marks;		/* soft breaks of a QP part */
	struct mime_edits edits;	/* the editor's, if it tells them */
	char reason[128];
};

static void
part_work_free(struct part_work *pw)
{
	buf_free(&pw->dec);
	buf_free(&pw->utf8);
	buf_free(&pw->edited);
	buf_free(&pw->whole);
	buf_free(&pw->back);
	free(pw->marks.v);
	free(pw->edits.v);
}

/* Transfer-decode the part and bring it into an ASCII-compatible charset.
 * Returns NULL, or why the part must stay as it is. */
static const char *
part_text_in(struct walk *w, GMimeObject *obj, struct part_work *pw, const char **text,
	     size_t *textlen)
{
	const char *label, *reason = NULL;
	int cte = parse_cte(g_mime_object_get_header(obj, "Content-Transfer-Encoding"));

	if (cte < 0)
		return "unsupported transfer encoding";
	pw->cte = (enum mime_cte)cte;
	pw->info.cte = pw->cte;
	if (decode_content(pw->cte, w->body + pw->start, pw->end - pw->start, &pw->dec,
			   &pw->marks, &reason) < 0)
		return reason;
	*text = pw->dec.data ? pw->dec.data : "";
	*textlen = pw->dec.len;

	label = g_mime_object_get_content_type_parameter(obj, "charset");
	pw->info.orig_charset = label;
	pw->info.charset = label ? label : "us-ascii";
	plan_charset(label, *text, *textlen, &pw->plan);
	if (pw->plan.kind != CS_CONVERT)
		return NULL;
	reason = convert("UTF-8", pw->plan.iconv_name, *text + pw->plan.bomlen,
			 *textlen - pw->plan.bomlen, &pw->utf8);
	if (reason != NULL && strcmp(reason, "charset unknown to iconv") == 0 &&
	    !has_nul_or_esc(*text, *textlen))
		return NULL;	/* a made-up label on ASCII-ish text: bytes */
	if (reason != NULL) {
		snprintf(pw->reason, sizeof(pw->reason), "charset %.40s: %s", label, reason);
		return pw->reason;
	}
	pw->info.converted = 1;
	pw->info.charset = "utf-8";
	*text = pw->utf8.data ? pw->utf8.data : "";
	*textlen = pw->utf8.len;
	w->st->converted_parts++;
	return NULL;
}

/* The editor's new text as a whole. With sparse edits (only replacements
 * in pw->edited) it is put together from the text the editor was given;
 * the edits then no longer describe *text and are dropped. Returns NULL or
 * why the part must stay as it is. */
static const char *
whole_text(struct part_work *pw, const char **text, size_t *textlen)
{
	const struct buf *seen = pw->info.converted ? &pw->utf8 : &pw->dec;
	int rc;

	if (!pw->edits.sparse)
		return NULL;
	rc = qp_edits_apply(seen->data ? seen->data : "", seen->len, *text, *textlen,
			    &pw->edits, &pw->whole);
	if (rc < 0)
		return "out of memory";
	if (rc > 0)
		return "the editor's edits are out of order (internal error)";
	pw->edits.sparse = 0;
	pw->edits.n = 0;
	*text = pw->whole.data ? pw->whole.data : "";
	*textlen = pw->whole.len;
	return NULL;
}

/* Convert the editor's output back and re-encode it into the new body
 * (*spliced = 1 unless it came out byte-identical). Returns NULL, or why the
 * edit is refused (the part then stays as it is). */
static const char *
part_text_out(struct walk *w, struct part_work *pw, int *spliced)
{
	const char *text = pw->edited.data ? pw->edited.data : "", *reason = NULL, *orig, *enc;
	size_t textlen = pw->edited.len, olen = pw->end - pw->start, elen, mark;
	struct buf segs = BUF_INIT;
	int rc = 1, checked = 0, around;

	/* only a quoted-printable part in its own charset is re-encoded
	 * around the edits: the others need the new text whole */
	if ((pw->cte != MIME_CTE_QP || pw->info.converted) &&
	    (reason = whole_text(pw, &text, &textlen)) != NULL)
		return reason;
	if (pw->info.converted) {
		if (buf_append(&pw->back, pw->plan.bom, pw->plan.bomlen) < 0)
			return "out of memory";
		reason = convert(pw->plan.iconv_name, "UTF-8", text, textlen, &pw->back);
		if (reason != NULL) {
			snprintf(pw->reason, sizeof(pw->reason), "edit not representable in %.40s: %s",
				 pw->info.orig_charset, reason);
			return pw->reason;
		}
		text = pw->back.data;
		textlen = pw->back.len;
	}
	if (pw->cte != MIME_CTE_QP && pw->cte != MIME_CTE_BASE64 &&
	    (reason = identity_refusal(pw->cte, pw->dec.data, pw->dec.len, text, textlen)))
		return reason;
	orig = w->body + pw->start;
	/* sparse edits describe the new text by construction; a whole text
	 * told with its edits is checked against them */
	around = pw->cte == MIME_CTE_QP && !pw->info.converted && pw->edits.n > 0 &&
		 (pw->edits.sparse ||
		  qp_edits_match(pw->dec.data ? pw->dec.data : "", pw->dec.len, text, textlen,
				 &pw->edits));
	if (begin_edit(w, pw->start, &mark) < 0)
		return "out of memory";
	if (around) {
		/* only the lines around the edits are encoded anew */
		rc = qp_encode_around(orig, olen, &pw->marks, pw->dec.data ? pw->dec.data : "",
				      pw->dec.len, text, textlen, &pw->edits, &w->out, &segs);
		if (rc < 0)
			reason = "out of memory";
		else if (rc == 0 && segments_create_delimiter(w, &segs, orig, olen))
			reason = "edit would create a line looking like a boundary";
		buf_free(&segs);
	}
	if (rc == 1 && (reason = whole_text(pw, &text, &textlen)) == NULL) {
		reason = encode_content(pw->cte, orig, olen, text, textlen, &w->out);
		if (reason == NULL && creates_delimiter(w, w->out.data + mark, w->out.len - mark,
							orig, olen, &checked))
			reason = "edit would create a line looking like a boundary";
	}
	enc = w->out.data + mark;
	elen = w->out.len - mark;
	/* an "edit" that re-encodes to the very same bytes is no change: the
	 * milter must not replace a body that did not change */
	if (reason != NULL || (elen == olen && memcmp(enc, orig, olen) == 0)) {
		cancel_edit(w, mark);
		return reason;
	}
	commit_edit(w, pw->end);
	*spliced = 1;
	return NULL;
}

/* Decode, call the editor, re-encode. Returns -1 only for message-wide
 * failures (w->fatal set); a part-level problem is noted and returns 0. */
static int
rewrite_text_part(struct walk *w, GMimePart *part, const char *type, int depth)
{
	struct part_work pw;
	const char *reason, *text = "";
	size_t textlen = 0;
	int changed = 0, spliced = 0, rc, index = (int)w->st->text_parts;

	memset(&pw, 0, sizeof(pw));
	rc = content_span(w, part, &pw.start, &pw.end);
	if (rc == 0 || (rc > 0 && pw.start == pw.end))
		return 0;	/* no content: nothing to edit */
	w->st->text_parts++;
	if (rc < 0 || !span_is_sane(w, pw.start, pw.end)) {
		note_part(w, index, type, "content range not at a boundary");
		return 0;
	}
	pw.info.content_type = type;
	pw.info.is_html = strcmp(type, "text/html") == 0;
	pw.info.depth = depth;
	pw.info.index = index;
	pw.info.edits = &pw.edits;
	reason = part_text_in(w, (GMimeObject *)part, &pw, &text, &textlen);
	if (reason == NULL) {
		if (w->fn(w->arg, &pw.info, text, textlen, &pw.edited, &changed) < 0) {
			fail(w, "the part editor abandoned the message");
			part_work_free(&pw);
			return -1;
		}
		if (changed)
			reason = part_text_out(w, &pw, &spliced);
		if (spliced)
			w->st->changed_parts++;
	}
	if (reason != NULL)
		note_part(w, index, type, reason);
	part_work_free(&pw);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* text/x-amp-html removal */

static int
is_type(GMimeObject *obj, const char *type, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	return ct != NULL && g_mime_content_type_is_type(ct, type, subtype);
}

/* The boundary parameter as written. (g_mime_multipart_get_boundary() would
 * invent one for a multipart that has none.) */
static const char *
boundary_of(GMimeMultipart *mp)
{
	return g_mime_object_get_content_type_parameter((GMimeObject *)mp, "boundary");
}

/* Is there a sibling other than AMP alternatives to fall back on? */
static int
has_non_amp_sibling(GMimeMultipart *mp)
{
	int i, n = g_mime_multipart_get_count(mp);

	for (i = 0; i < n; i++)
		if (!is_type(g_mime_multipart_get_part(mp, i), "text", "x-amp-html"))
			return 1;
	return 0;
}

/* Remove the whole body part: from its delimiter line up to (not including)
 * the next delimiter line, so the multipart keeps its shape. */
static void
remove_amp_part(struct walk *w, GMimePart *part, GMimeMultipart *parent)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list((GMimeObject *)part);
	const char *bound = boundary_of(parent);
	size_t start, end, pstart, ls, next, mark;
	gint64 hoff = -1;
	int rc;

	if (!has_non_amp_sibling(parent) || bound == NULL)
		return;
	rc = content_span(w, part, &start, &end);
	if (rc <= 0)
		return;
	if (hl != NULL && g_mime_header_list_get_count(hl) > 0)
		hoff = g_mime_header_get_offset(g_mime_header_list_get_header_at(hl, 0));
	if (hoff >= 0 && hoff < (gint64)w->base)
		return;
	pstart = hoff >= 0 ? (size_t)(hoff - (gint64)w->base) : start;
	if (pstart == 0 || pstart > start || w->body[pstart - 1] != '\n')
		return;
	/* the delimiter line ends just before the part's headers */
	for (ls = pstart - 1; ls > 0 && w->body[ls - 1] != '\n'; ls--)
		;
	next = after_break(w, end);
	if (!is_delimiter(w, ls, bound) || next == (size_t)-1 || !is_delimiter(w, next, bound))
		return;
	/* a delimiter cut off before its line end reads differently once it
	 * follows another part: leave such a message alone */
	if (memchr(w->body + next, '\n', w->blen - next) == NULL)
		return;
	if (begin_edit(w, ls, &mark) < 0) {
		fail(w, "out of memory");	/* the first reason stays */
		return;
	}
	commit_edit(w, next);
	w->st->amp_removed++;
}

/* ------------------------------------------------------------------------ */
/* the walk */

static int walk_object(struct walk *w, GMimeObject *obj, GMimeMultipart *parent, int depth);

static int
walk_multipart(struct walk *w, GMimeMultipart *mp, int depth)
{
	const char *bound = boundary_of(mp);
	int i, n = g_mime_multipart_get_count(mp);

	if (n == 0)
		return 0;
	if (depth + 1 > w->max_depth) {
		set_why(w, "MIME nesting deeper than MaxMimeDepth (%d)", w->max_depth);
		w->fatal = 1;
		return -1;
	}
	if (bound == NULL)
		return 0;	/* GMime saw children without a boundary: do not guess */
	w->bounds[w->nbounds++] = bound;
	for (i = 0; i < n && !w->fatal; i++)
		if (walk_object(w, g_mime_multipart_get_part(mp, i), mp, depth + 1) < 0)
			break;
	w->nbounds--;
	return w->fatal ? -1 : 0;
}

static int
is_protected(GMimeObject *obj)
{
	return GMIME_IS_MULTIPART_SIGNED(obj) || GMIME_IS_MULTIPART_ENCRYPTED(obj) ||
		GMIME_IS_MESSAGE_PART(obj) || GMIME_IS_MESSAGE_PARTIAL(obj) ||
		is_type(obj, "multipart", "signed") || is_type(obj, "multipart", "encrypted") ||
		is_type(obj, "message", "*") || is_type(obj, "application", "pkcs7-mime") ||
		is_type(obj, "application", "x-pkcs7-mime") ||
		is_type(obj, "application", "pgp-encrypted");
}

static int
is_attachment(GMimeObject *obj)
{
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);

	return cd != NULL && g_mime_content_disposition_is_attachment(cd);
}

static int
walk_object(struct walk *w, GMimeObject *obj, GMimeMultipart *parent, int depth)
{
	if (depth > w->st->max_depth_seen)
		w->st->max_depth_seen = depth;
	if (is_protected(obj)) {
		w->st->protected_parts++;
		return 0;
	}
	if (GMIME_IS_MULTIPART(obj))
		return walk_multipart(w, (GMimeMultipart *)obj, depth);
	if (!GMIME_IS_PART(obj))
		return 0;
	w->st->parts++;
	if (is_type(obj, "text", "x-amp-html")) {
		if (w->opts->remove_amp && parent != NULL &&
		    is_type((GMimeObject *)parent, "multipart", "alternative"))
			remove_amp_part(w, (GMimePart *)obj, parent);
		return w->fatal ? -1 : 0;
	}
	if (!is_type(obj, "text", "html") && !is_type(obj, "text", "plain"))
		return 0;
	if (is_attachment(obj)) {
		w->st->attachments++;
		return 0;
	}
	if (w->fn == NULL)
		return 0;	/* only AMP removal asked for */
	return rewrite_text_part(w, (GMimePart *)obj,
				 is_type(obj, "text", "html") ? "text/html" : "text/plain", depth);
}

/* ------------------------------------------------------------------------ */
/* parsing */

/* GMime's critical warnings mean that other software may see a different
 * structure than GMime does; GMime's own reading of such input even depends
 * on where it falls in its read buffer (an invalid header line parsed once
 * as a header, once as the end of the headers, after an unrelated part
 * before it changed length). Then we touch nothing. Only a multipart
 * without a boundary is harmless: it is a leaf we never enter. */
static void
parser_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
	struct walk *w = data;
	const char *what;

	w->st->warnings++;
	switch (code) {
	case GMIME_CRIT_INVALID_HEADER_NAME:
		what = "invalid header line";
		break;
	case GMIME_CRIT_CONFLICTING_HEADER:
		what = "conflicting header";
		break;
	case GMIME_CRIT_CONFLICTING_PARAMETER:
		what = "conflicting parameter";
		break;
	case GMIME_CRIT_NESTING_OVERFLOW:
		what = "MIME nesting overflow";
		break;
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
		what = "part without headers or content";
		break;
	default:
		return;
	}
	if (w->crit)
		return;
	w->crit = 1;
	/* offsets past the header block are reported as body offsets */
	if (offset >= (gint64)w->base)
		snprintf(w->crit_text, sizeof(w->crit_text), "ambiguous MIME: %s (%.24s) at body offset %lld",
			 what, item ? item : "", (long long)(offset - (gint64)w->base));
	else
		snprintf(w->crit_text, sizeof(w->crit_text), "ambiguous MIME: %s (%.24s) in the headers",
			 what, item ? item : "");
}

/* ------------------------------------------------------------------------ */
/* top-level headers */

/* One header of the top-level block: its name, and its raw value (after
 * the colon up to and including the CRLF of its last line). */
struct top_header {
	const char *name, *value;
	size_t nlen, vlen;
};

/* The header starting at p if it is plain: a name of printable ASCII
 * without blanks, a colon, lines each ending in CRLF with no other CR, LF
 * or NUL, continuation lines starting with a blank. Its length, or 0. Such
 * a header is one header, a valid one, to GMime's header reader too. */
static size_t
plain_header(const char *p, const char *end, struct top_header *h)
{
	const char *q = p, *nl;

	while (q < end && *q != ':') {
		if ((unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f)
			return 0;
		q++;
	}
	if (q == p || q == end)
		return 0;
	h->name = p;
	h->nlen = (size_t)(q - p);
	h->value = q + 1;
	do {
		nl = memchr(q, '\n', (size_t)(end - q));
		if (nl == NULL || nl[-1] != '\r' || memchr(q, '\r', (size_t)(nl - 1 - q)) != NULL ||
		    memchr(q, '\0', (size_t)(nl - q)) != NULL)
			return 0;
		q = nl + 1;
	} while (q < end && (*q == ' ' || *q == '\t'));
	h->vlen = (size_t)(q - h->value);
	return (size_t)(q - p);
}

/* RFC 5322 allows these once; GMime's parser flags a repeat. */
static int
is_single_header(const struct top_header *h)
{
	static const char *const names[] = {
		"bcc", "cc", "date", "from", "in-reply-to", "message-id", "references",
		"reply-to", "sender", "subject", "to",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == h->nlen && g_ascii_strncasecmp(h->name, names[i], h->nlen) == 0)
			return 1;
	return 0;
}

#define MAX_SINGLE_HEADERS 64

/* GMime turns every top-level header into an object (addresses parsed,
 * encoded words decoded): some 16,000 instructions a header, a realistic
 * block of 25 costing more than the structure of an 80 KB body. Only the
 * Content-* headers shape the structure, so when every header is plain
 * (plain_header) GMime is handed those alone, and the one thing its parser
 * does with the others that matters here is done here, in its order and
 * words: a single header (From, Subject...) repeated with another raw value
 * is a critical "conflicting header" (same value: a warning). Returns 1 with
 * the Content-* headers in out, or 0: hand GMime the block as it is. */
static int
narrow_headers(struct walk *w, const char *hdr, size_t hlen, struct buf *out)
{
	struct top_header singles[MAX_SINGLE_HEADERS], h;
	const char *p = hdr, *end = hdr + hlen;
	size_t n = 0, len, i, j;
	char name[16];

	if (hlen == 0)
		return 0;
	for (; p < end; p += len) {
		if ((len = plain_header(p, end, &h)) == 0)
			return 0;
		if (h.nlen >= 8 && g_ascii_strncasecmp(h.name, "content-", 8) == 0) {
			if (buf_append(out, p, len) < 0)
				return 0;
		} else if (is_single_header(&h)) {
			if (n == MAX_SINGLE_HEADERS)
				return 0;
			singles[n++] = h;
		}
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (singles[j].nlen == singles[i].nlen &&
			    g_ascii_strncasecmp(singles[j].name, singles[i].name, singles[i].nlen) == 0)
				break;
		if (j == i)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)singles[i].nlen, singles[i].name);
		/* offset -1, as GMime gives when it has none: "in the headers" */
		parser_warning(-1, singles[j].vlen == singles[i].vlen &&
			       memcmp(singles[j].value, singles[i].value, singles[i].vlen) == 0 ?
			       GMIME_WARN_DUPLICATED_HEADER : GMIME_CRIT_CONFLICTING_HEADER, name, w);
	}
	return 1;
}

/* A read-only GMime stream over the caller's header block, a CRLF and the
 * body, seen as one message without copying anything. Substreams (GMime
 * makes one per part when it persists content) share the same bytes and keep
 * absolute offsets, which is what lets us map parts back onto the body. */
typedef struct {
	GMimeStream parent;
	const char *seg[3];
	size_t seglen[3];
	gint64 total;
} CmMimeSegStream;

typedef struct {
	GMimeStreamClass parent_class;
} CmMimeSegStreamClass;

static GType seg_stream_get_type(void);
G_DEFINE_TYPE(CmMimeSegStream, seg_stream, GMIME_TYPE_STREAM)

static gint64
seg_end(GMimeStream *s)
{
	gint64 total = ((CmMimeSegStream *)s)->total;

	return s->bound_end < 0 || s->bound_end > total ? total : s->bound_end;
}

static ssize_t
seg_read(GMimeStream *s, char *out, size_t len)
{
	CmMimeSegStream *ss = (CmMimeSegStream *)s;
	gint64 end = seg_end(s), pos = s->position, base = 0;
	size_t done = 0;
	int i;

	if (pos >= end)
		return 0;
	if ((gint64)len > end - pos)
		len = (size_t)(end - pos);
	for (i = 0; i < 3 && done < len; i++) {
		gint64 segend = base + (gint64)ss->seglen[i];

		if (pos < segend) {
			size_t n = (size_t)(segend - pos);

			if (n > len - done)
				n = len - done;
			memcpy(out + done, ss->seg[i] + (pos - base), n);
			done += n;
			pos += (gint64)n;
		}
		base = segend;
	}
	s->position = pos;
	return (ssize_t)done;
}

static ssize_t
seg_write(GMimeStream *s, const char *p, size_t len)
{
	(void)s; (void)p; (void)len;
	return -1;
}

static int
seg_flush(GMimeStream *s)
{
	(void)s;
	return 0;
}

static gboolean
seg_eos(GMimeStream *s)
{
	return s->position >= seg_end(s);
}

static int
seg_reset(GMimeStream *s)
{
	s->position = s->bound_start;
	return 0;
}

static gint64
seg_seek(GMimeStream *s, gint64 offset, GMimeSeekWhence whence)
{
	gint64 real;

	switch (whence) {
	case GMIME_STREAM_SEEK_SET:
		real = offset;
		break;
	case GMIME_STREAM_SEEK_CUR:
		real = s->position + offset;
		break;
	default:
		real = seg_end(s) + offset;
		break;
	}
	if (real < s->bound_start || real > seg_end(s))
		return -1;
	s->position = real;
	return real;
}

static gint64
seg_tell(GMimeStream *s)
{
	return s->position;
}

static gint64
seg_length(GMimeStream *s)
{
	return seg_end(s) - s->bound_start;
}

static GMimeStream *seg_substream(GMimeStream *s, gint64 start, gint64 end);

static void
seg_stream_class_init(CmMimeSegStreamClass *klass)
{
	GMimeStreamClass *sc = GMIME_STREAM_CLASS(klass);

	sc->read = seg_read;
	sc->write = seg_write;
	sc->flush = seg_flush;
	sc->close = seg_flush;
	sc->eos = seg_eos;
	sc->reset = seg_reset;
	sc->seek = seg_seek;
	sc->tell = seg_tell;
	sc->length = seg_length;
	sc->substream = seg_substream;
}

static void
seg_stream_init(CmMimeSegStream *ss)
{
	memset(ss->seg, 0, sizeof(ss->seg));
	memset(ss->seglen, 0, sizeof(ss->seglen));
	ss->total = 0;
}

static GMimeStream *
seg_new(const char *const seg[3], const size_t seglen[3], gint64 start, gint64 end)
{
	CmMimeSegStream *ss = g_object_new(seg_stream_get_type(), NULL);
	int i;

	for (i = 0; i < 3; i++) {
		ss->seg[i] = seg[i];
		ss->seglen[i] = seglen[i];
		ss->total += (gint64)seglen[i];
	}
	g_mime_stream_construct((GMimeStream *)ss, start, end);
	return (GMimeStream *)ss;
}

static GMimeStream *
seg_substream(GMimeStream *s, gint64 start, gint64 end)
{
	CmMimeSegStream *ss = (CmMimeSegStream *)s;

	return seg_new(ss->seg, ss->seglen, start, end);
}

void
mime_global_init(void)
{
	g_mime_init();
	g_type_ensure(seg_stream_get_type());	/* registered before any thread runs */
}

void
mime_global_shutdown(void)
{
	g_mime_shutdown();
}

static int
run(struct walk *w)
{
	const char *seg[3] = { w->hdr, "\r\n", w->body };
	size_t seglen[3] = { w->hlen, 2, w->blen };
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeParserOptions *po;
	GMimeMessage *msg;
	GMimeObject *top;
	int rc = -1;

	stream = seg_new(seg, seglen, 0, -1);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_persist_stream(parser, TRUE);
	po = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(po, parser_warning, w);
	if (w->narrowed) {
		/* only Content-* headers: the top is one MIME entity, and
		 * GMime's message object (address lists for From, To...) would
		 * cost 3 % of an 80 KB newsletter's end of message for nothing */
		msg = NULL;
		top = g_mime_parser_construct_part(parser, po);
	} else {
		msg = g_mime_parser_construct_message(parser, po);
		top = msg ? g_mime_message_get_mime_part(msg) : NULL;
	}
	if (msg == NULL && top == NULL)
		fail(w, "GMime could not parse the message");
	else if (w->crit)
		fail(w, w->crit_text);
	else if (top == NULL)
		rc = 0;		/* headers only */
	else
		rc = walk_object(w, top, NULL, 0);

	if (msg)
		g_object_unref(msg);
	else if (top)
		g_object_unref(top);
	g_object_unref(parser);
	g_mime_parser_options_free(po);
	g_object_unref(stream);
	return w->fatal ? -1 : rc;
}

/* After the walk: hand the new body over, if there is one. */
static int
finish(struct walk *w, struct buf *newbody)
{
	if (w->nedits == 0)
		return MIME_UNCHANGED;
	/* the rest of the body after the last edit */
	if (buf_append(&w->out, w->body + w->outpos, w->blen - w->outpos) < 0) {
		set_why(w, "out of memory");
		return MIME_ERROR;
	}
	if (newbody->len == 0) {
		buf_free(newbody);	/* hand the buffer over, no copy */
		*newbody = w->out;
		memset(&w->out, 0, sizeof(w->out));
		return MIME_CHANGED;
	}
	if (buf_append(newbody, w->out.data, w->out.len) < 0) {	/* leaves newbody as it was */
		set_why(w, "out of memory");
		return MIME_ERROR;
	}
	return MIME_CHANGED;
}

static const struct mime_opts default_opts = { 20, 0 };

int
mime_rewrite(const char *headers, size_t hlen, const char *body, size_t blen,
	     const struct mime_opts *opts, mime_part_fn fn, void *arg,
	     struct buf *newbody, struct mime_stats *st, char *why, size_t whylen)
{
	struct mime_stats local;
	struct buf narrowed = BUF_INIT;
	struct walk w;
	int result;

	if (st == NULL)
		st = &local;
	memset(st, 0, sizeof(*st));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	memset(&w, 0, sizeof(w));
	w.body = body ? body : "";
	w.blen = body ? blen : 0;
	w.st = st;
	w.why = why;
	w.whylen = whylen;
	w.hdr = headers ? headers : "";
	w.hlen = headers ? hlen : 0;
	if (narrow_headers(&w, w.hdr, w.hlen, &narrowed)) {
		w.hdr = narrowed.data ? narrowed.data : "";
		w.hlen = narrowed.len;
		w.narrowed = 1;
	}
	w.base = w.hlen + 2;
	if (opts == NULL)
		opts = &default_opts;
	w.opts = opts;
	w.max_depth = opts->max_depth;
	if (w.max_depth < 1 || w.max_depth > MIME_DEPTH_LIMIT)
		w.max_depth = MIME_DEPTH_LIMIT;
	w.fn = fn;
	w.arg = arg;

	result = run(&w) < 0 ? MIME_ERROR : finish(&w, newbody);
	buf_free(&w.out);
	buf_free(&narrowed);
	return result;
}

/* ------------------------------------------------------------------------ */

int
mime_may_contain_text(const char *value)
{
	char type[32], sub[32];
	size_t n;

	if (value == NULL)
		return 1;
	while (isspace((unsigned char)*value))
		value++;
	if (*value == '\0')
		return 1;
	for (n = 0; value[n] && value[n] != '/' && n + 1 < sizeof(type); n++)
		type[n] = (char)tolower((unsigned char)value[n]);
	type[n] = '\0';
	while (n > 0 && isspace((unsigned char)type[n - 1]))
		type[--n] = '\0';
	value += n;
	if (*value != '/')
		return 1;	/* unparseable: let the full parser decide */
	value++;
	while (isspace((unsigned char)*value))
		value++;
	for (n = 0; value[n] && value[n] != ';' && !isspace((unsigned char)value[n]) &&
	     n + 1 < sizeof(sub); n++)
		sub[n] = (char)tolower((unsigned char)value[n]);
	sub[n] = '\0';
	if (strcmp(type, "text") == 0)
		return 1;
	if (strcmp(type, "multipart") == 0)
		return strcmp(sub, "signed") != 0 && strcmp(sub, "encrypted") != 0;
	return 0;
}
