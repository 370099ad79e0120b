/* cte.c - the content transfer encodings mime.c decodes and re-encodes:
 * quoted-printable and base64, byte for byte as GMime decodes them, and a
 * quoted-printable re-encoder that rewrites only the lines around an
 * editor's edits (see qp_encode_around()).
 *
 * Every text part of every message that is looked at passes through a
 * decoder here, and every rewritten one through an encoder: these loops are
 * on the milter's end-of-message path, hence the SSE2 variants. */
#include "build-config.h"
#include "cte.h"
#include "mime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>	/* SSE2, the x86-64 baseline */
#endif

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/* Index of the lowest byte flagged (high bit set) in a nonzero mask built
 * so that no byte below the lowest one wanted is flagged. */
static inline size_t
first_flagged(uint64_t mask)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (size_t)__builtin_ctzll(mask) >> 3;
#else
	(void)mask;
	return 0;	/* the caller then goes on byte by byte */
#endif
}

/* For a hex digit, bit 8 set and its value below it, as the high nibble
 * (qphex_hi) or the low one (qphex_lo); 0 for anything else. For bytes a
 * and b, qphex_hi[a] & qphex_lo[b] & 0x100 says both are digits, and the
 * low byte of qphex_hi[a] | qphex_lo[b] is then the byte they spell. */
#define QP_HEXTAB(sh) { \
	['0'] = 0x100 | 0x0 << sh, ['1'] = 0x100 | 0x1 << sh, ['2'] = 0x100 | 0x2 << sh, \
	['3'] = 0x100 | 0x3 << sh, ['4'] = 0x100 | 0x4 << sh, ['5'] = 0x100 | 0x5 << sh, \
	['6'] = 0x100 | 0x6 << sh, ['7'] = 0x100 | 0x7 << sh, ['8'] = 0x100 | 0x8 << sh, \
	['9'] = 0x100 | 0x9 << sh, ['A'] = 0x100 | 0xa << sh, ['B'] = 0x100 | 0xb << sh, \
	['C'] = 0x100 | 0xc << sh, ['D'] = 0x100 | 0xd << sh, ['E'] = 0x100 | 0xe << sh, \
	['F'] = 0x100 | 0xf << sh, ['a'] = 0x100 | 0xa << sh, ['b'] = 0x100 | 0xb << sh, \
	['c'] = 0x100 | 0xc << sh, ['d'] = 0x100 | 0xd << sh, ['e'] = 0x100 | 0xe << sh, \
	['f'] = 0x100 | 0xf << sh }
static const unsigned short qphex_hi[256] = QP_HEXTAB(4), qphex_lo[256] = QP_HEXTAB(0);

/* Room for the marks of LEN encoded bytes as conventionally laid out (a
 * soft break every 76 bytes or so), reserved once before decoding so that
 * recording one is two stores; denser soft breaks grow the array. Offsets
 * are kept in 32 bits: a part of 4 GB or more gets no marks (and is
 * re-encoded whole, if ever). */
static void
qp_marks_reserve(struct qp_marks *mk, size_t len)
{
	size_t cap = len / 64 + 16;

	if (len > UINT32_MAX || (mk->v = malloc(cap * sizeof(*mk->v))) == NULL) {
		mk->failed = 1;
		return;
	}
	mk->cap = cap;
}

static void
qp_marks_grow(struct qp_marks *mk)
{
	struct qp_mark *v = mk->failed ? NULL : realloc(mk->v, 2 * mk->cap * sizeof(*v));

	if (v == NULL) {
		mk->failed = 1;
		return;
	}
	mk->v = v;
	mk->cap *= 2;
}

/* Remember that encoded offset P - IN (just after a soft break) decodes to
 * offset O - O0. */
static inline void
qp_mark(struct qp_marks *mk, const char *in, const char *p, const char *o0, const char *o)
{
	if (mk->n == mk->cap) {
		qp_marks_grow(mk);
		if (mk->failed)
			return;
	}
	mk->v[mk->n].enc = (uint32_t)(p - in);
	mk->v[mk->n].dec = (uint32_t)(o - o0);
	mk->n++;
}

#ifdef __SSE2__
/* SSE2 (the x86-64 baseline) for the QP coders: 32 bytes are looked at with
 * two loads, and the same two registers are stored as the copy of the plain
 * run that starts there, whatever its length; the output pointer then moves
 * only by that length. Encoded HTML has an "=" every 30 bytes or so (every
 * attribute's "=3D", every soft break), so runs are short: one load, one
 * classification and one store per run, and no call, beat both memchr()
 * and 8-byte words. */

/* Decode from *pp while at least 34 bytes are left (32 looked at, and an
 * "=" among them has its two following bytes inside the input). o has room
 * for what is decoded plus 32 bytes. Returns the new o. */
static char *
qp_decode_fast(const char *in, const char **pp, const char *end, char *o, const char *o0,
	       struct qp_marks *mk)
{
	const __m128i eq = _mm_set1_epi8('=');
	const char *p = *pp, *last;

	if (end - p < 34)
		return o;
	last = end - 34;
	while (p <= last) {
		__m128i v0 = _mm_loadu_si128((const __m128i *)p);
		__m128i v1 = _mm_loadu_si128((const __m128i *)(p + 16));
		unsigned m, a, b, k;

		_mm_storeu_si128((__m128i *)o, v0);
		_mm_storeu_si128((__m128i *)(o + 16), v1);
		m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v0, eq)) |
			(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v1, eq)) << 16;
		if (m == 0) {
			p += 32;
			o += 32;
			continue;
		}
		k = (unsigned)__builtin_ctz(m);
		p += k;
		o += k;
		a = qphex_hi[(unsigned char)p[1]];
		b = qphex_lo[(unsigned char)p[2]];
		if (a & b & 0x100) {
			*o++ = (char)(a | b);
			p += 3;
		} else if (p[1] == '\n') {
			p += 2;			/* soft break */
			if (mk != NULL)
				qp_mark(mk, in, p, o0, o);
		} else if (p[1] == '\r' && p[2] == '\n') {
			p += 3;			/* soft break */
			if (mk != NULL)
				qp_mark(mk, in, p, o0, o);
		} else {
			memcpy(o, p, 3);	/* malformed: kept as it is */
			o += 3;
			p += 3;
		}
	}
	*pp = p;
	return o;
}
#endif

/* Lenient, and byte for byte what GMime decodes (so that the structure and
 * text we see are what a GMime-based reader sees): "=XX" with two hex
 * digits is a byte, "=\n" and "=\r\n" are soft breaks, any other "=ab" is
 * kept as the three bytes it is, an "=" sequence cut off at the very end is
 * dropped. Blanks before a line end are kept (RFC 2045 would drop them as
 * transport padding; GMime does not, and re-encoding keeps them safe).
 * This loop sees every byte of every text part of every rewritten message:
 * with SSE2 all but the last 33 bytes go through qp_decode_fast(); the rest
 * (all of it elsewhere) copies plain runs found with memchr. */
static int
qp_decode(const char *in, size_t len, struct buf *out, struct qp_marks *mk)
{
	const char *p = in, *end = in + len, *eq, *o0;
	char *o;
	unsigned a, b;

	if (buf_reserve(out, len + 32) < 0)
		return -1;
	o = out->data + out->len;
	o0 = o;
	if (mk != NULL && mk->v == NULL && !mk->failed)
		qp_marks_reserve(mk, len);
	if (mk != NULL && mk->failed)
		mk = NULL;
#ifdef __SSE2__
	o = qp_decode_fast(in, &p, end, o, o0, mk);
#endif
	while (p < end) {
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL)
			eq = end;
		memcpy(o, p, (size_t)(eq - p));
		o += eq - p;
		p = eq;
		if (end - p < 2)
			break;			/* nothing, or "=" cut off */
		if (p[1] == '\n') {
			p += 2;			/* soft break */
			if (mk != NULL)
				qp_mark(mk, in, p, o0, o);
			continue;
		}
		if (end - p < 3)
			break;			/* "=X" cut off */
		a = qphex_hi[(unsigned char)p[1]];
		b = qphex_lo[(unsigned char)p[2]];
		if (a & b & 0x100) {
			*o++ = (char)(a | b);
		} else if (!(p[1] == '\r' && p[2] == '\n')) {
			memcpy(o, p, 3);	/* malformed: kept as it is */
			o += 3;
		} else if (mk != NULL) {
			qp_mark(mk, in, p + 3, o0, o);	/* a soft break */
		}
		p += 3;
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return 0;
}

int
mime_decode_qp(const char *in, size_t len, struct buf *out)
{
	return qp_decode(in, len, out, NULL);
}

int
qp_decode_marked(const char *in, size_t len, struct buf *out, struct qp_marks *mk)
{
	return qp_decode(in, len, out, mk);
}

static const signed char b64val[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7,
	['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
	['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
	['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26,
	['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33,
	['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
	['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47,
	['v'] = 48, ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52,
	['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59,
	['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};	/* value + 1; 0 = not in the alphabet */

/* Characters outside the alphabet are ignored (RFC 2045 6.8). A quantum cut
 * after one character cannot be decoded; one of 2 or 3 characters must end
 * in "=" padding, else the data was cut off (GMime then drops those bytes,
 * we would not, and either way we would be guessing): an error. */
static int
b64_flush(unsigned long acc, int n, int padded, struct buf *out)
{
	if (n == 1 || (n > 1 && !padded))
		return -1;
	if (n == 2)
		out->data[out->len++] = (char)(acc >> 4);
	else if (n == 3) {
		out->data[out->len++] = (char)(acc >> 10);
		out->data[out->len++] = (char)(acc >> 2);
	}
	return 0;
}

int
mime_decode_base64(const char *in, size_t len, struct buf *out, const char **reason)
{
	unsigned long acc = 0;
	int n = 0;
	size_t i;

	if (buf_reserve(out, len / 4 * 3 + 3) < 0) {
		*reason = "out of memory";
		return -1;
	}
	for (i = 0; i < len; i++) {
		int v = b64val[(unsigned char)in[i]];

		if (in[i] == '=') {
			if (b64_flush(acc, n, 1, out) < 0) {
				*reason = "truncated base64";
				return -1;
			}
			/* after the padding only more padding and blanks may follow:
			 * readers disagree on data there (GMime decodes it shifted) */
			for (i++; i < len; i++) {
				if (b64val[(unsigned char)in[i]] != 0) {
					*reason = "base64 data after padding";
					return -1;
				}
			}
			out->data[out->len] = '\0';
			return 0;
		}
		if (v == 0)
			continue;
		acc = (acc << 6) | (unsigned long)(v - 1);
		if (++n == 4) {
			out->data[out->len++] = (char)(acc >> 16);
			out->data[out->len++] = (char)(acc >> 8);
			out->data[out->len++] = (char)acc;
			acc = 0;
			n = 0;
		}
	}
	if (b64_flush(acc, n, 0, out) < 0) {
		*reason = "truncated base64";
		return -1;
	}
	out->data[out->len] = '\0';
	return 0;
}

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 76 characters a line, CRLF between lines, none after the last. */
int
mime_encode_base64(const char *in, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i, col = 0;
	char *o;

	if (buf_reserve(out, (len + 2) / 3 * 4 + (len / 57 + 1) * 2) < 0)
		return -1;
	o = out->data + out->len;
	for (i = 0; i < len; i += 3) {
		unsigned long acc = (unsigned long)p[i] << 16;
		size_t rest = len - i;

		if (col == 76) {
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
		}
		if (rest > 1)
			acc |= (unsigned long)p[i + 1] << 8;
		if (rest > 2)
			acc |= p[i + 2];
		*o++ = b64chars[(acc >> 18) & 63];
		*o++ = b64chars[(acc >> 12) & 63];
		*o++ = rest > 1 ? b64chars[(acc >> 6) & 63] : '=';
		*o++ = rest > 2 ? b64chars[acc & 63] : '=';
		col += 4;
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return 0;
}

/* Bytes a quoted-printable line may carry as they are (blanks only when not
 * at the end of a line). */
static const unsigned char qp_literal[256] = {
	[' '] = 1, ['\t'] = 1, [33 ... 60] = 1, [62 ... 126] = 1,
};

/* Nonzero if one of the 8 bytes in x is not in 0x20..0x7e or is '=', with
 * the high bit of the lowest such byte set. Word-at-a-time tests, each
 * setting a byte's high bit: x + 1 for 0x7f..0xfe, x - 0x20 for bytes below
 * 0x20 and for 0xa0..0xff, eq - 1 for '=' (zero after the XOR). A plain byte
 * (0x20..0x7e but '=') gets no high bit from any of them unless a carry or
 * borrow comes up from a byte below it, which is then special itself: so no
 * byte below the lowest special one is flagged. Tab is literal too but goes
 * the byte-wise way. */
static inline uint64_t
qp_word_special(uint64_t x)
{
	uint64_t eq = x ^ (ONES * '=');

	return ((x + ONES) | (x - ONES * 0x20) | (eq - ONES)) & HIGHS;
}

/* Copy the run of qp_literal bytes at p, at most lim of them, to o (which
 * has room for lim + 8 bytes) and return its length: 8 bytes a step while
 * they are all plain, then from the first special byte on one at a time
 * (a tab is literal but special to the word test). */
static size_t
qp_copy_literal_run(char *o, const char *p, size_t lim)
{
	size_t k = 0;
	uint64_t x, m;

	while (k + 8 <= lim) {
		memcpy(&x, p + k, 8);
		memcpy(o + k, &x, 8);
		if ((m = qp_word_special(x)) != 0) {
			k += first_flagged(m);
			break;
		}
		k += 8;
	}
	while (k < lim && qp_literal[(unsigned char)p[k]]) {
		o[k] = p[k];
		k++;
	}
	return k;
}

#ifdef __SSE2__
/* "=XX" for every byte value, 4 bytes a row so that one 4-byte copy writes
 * it (the 4th byte is overwritten next). */
#define QP_HEXD(x)	((char)((x) < 10 ? '0' + (x) : 'A' + (x) - 10))
#define QP_ESC1(c)	{ '=', QP_HEXD((c) >> 4), QP_HEXD((c) & 15), 0 }
#define QP_ESC4(c)	QP_ESC1(c), QP_ESC1((c) + 1), QP_ESC1((c) + 2), QP_ESC1((c) + 3)
#define QP_ESC16(c)	QP_ESC4(c), QP_ESC4((c) + 4), QP_ESC4((c) + 8), QP_ESC4((c) + 12)
#define QP_ESC64(c)	QP_ESC16(c), QP_ESC16((c) + 16), QP_ESC16((c) + 32), QP_ESC16((c) + 48)
static const char qp_esc[256][4] = { QP_ESC64(0), QP_ESC64(64), QP_ESC64(128), QP_ESC64(192) };

/* Bit k set: byte k of v0:v1 is not in 0x20..0x7e, or is '='. Adding 1
 * maps 0x20..0x7e onto 0x21..0x7f, the only bytes then not below 0x21 as
 * signed chars (0x7f..0xff become negative or 0). Blanks are plain here
 * even before a line end, tabs are not. */
static inline unsigned
qp_special_mask32(__m128i v0, __m128i v1)
{
	const __m128i one = _mm_set1_epi8(1), lim = _mm_set1_epi8(0x21), eq = _mm_set1_epi8('=');
	__m128i s0 = _mm_or_si128(_mm_cmpgt_epi8(lim, _mm_add_epi8(v0, one)), _mm_cmpeq_epi8(v0, eq));
	__m128i s1 = _mm_or_si128(_mm_cmpgt_epi8(lim, _mm_add_epi8(v1, one)), _mm_cmpeq_epi8(v1, eq));

	return (unsigned)_mm_movemask_epi8(s0) | (unsigned)_mm_movemask_epi8(s1) << 16;
}

/* Encode from *ip while at least 34 bytes are left (32 looked at, and the
 * two after a special byte among them are inside the input) and o is not
 * past olim (64 bytes of room are left there). Each step stores 32 input
 * bytes at o and keeps as many as are plain and fit on the line, then
 * writes the special byte that ends the run. A blank is copied as plain
 * even before CRLF: the CRLF then finds it as the last byte written (only
 * a literal blank ends in ' ') and encodes it after all, with the soft
 * break "=20" would have needed; so the layout is byte for byte that of
 * the byte-wise rule. Returns the new o. */
static char *
qp_encode_fast(const char *in, size_t len, size_t *ip, size_t *colp, char *o, const char *olim)
{
	size_t i = *ip, col = *colp, k;

	while (len - i >= 34 && o <= olim) {
		__m128i v0 = _mm_loadu_si128((const __m128i *)(in + i));
		__m128i v1 = _mm_loadu_si128((const __m128i *)(in + i + 16));
		unsigned m = qp_special_mask32(v0, v1), c;

		_mm_storeu_si128((__m128i *)o, v0);
		_mm_storeu_si128((__m128i *)(o + 16), v1);
		k = m ? (size_t)__builtin_ctz(m) : 32;
		if (k > 75 - col) {
			/* the line is full before the run ends */
			k = 75 - col;
			o += k;
			i += k;
			memcpy(o, "=\r\n", 3);
			o += 3;
			col = 0;
			continue;
		}
		o += k;
		i += k;
		col += k;
		if (m == 0)
			continue;
		c = (unsigned char)in[i];
		if (c == '\r' && in[i + 1] == '\n') {
			if (i > 0 && o[-1] == ' ') {
				o--;	/* the blank before it: "=20" */
				if (col - 1 > 72) {
					memcpy(o, "=\r\n", 3);
					o += 3;
				}
				memcpy(o, "=20", 3);
				o += 3;
			}
			o[0] = '\r';
			o[1] = '\n';
			o += 2;
			col = 0;
			i += 2;
			continue;
		}
		if (c == '\t' && !(in[i + 1] == '\r' && in[i + 2] == '\n')) {
			if (col == 75) {
				memcpy(o, "=\r\n", 3);
				o += 3;
				col = 0;
			}
			*o++ = '\t';
			col++;
			i++;
			continue;
		}
		if (col > 72) {
			memcpy(o, "=\r\n", 3);
			o += 3;
			col = 0;
		}
		memcpy(o, qp_esc[c], 4);
		o += 3;
		col += 3;
		i++;
	}
	*ip = i;
	*colp = col;
	return o;
}
#endif

/* Encoded lines are at most 76 characters including a soft break "=". CRLF
 * in the input is a hard line break; a lone CR or LF is encoded, so that
 * decoding gives back exactly the input. Whitespace before a line end or at
 * the end of the text is encoded, since transport may strip it.
 * Every rewritten QP part passes through here: with SSE2 all but the last
 * 33 bytes go through qp_encode_fast(); the rest (all of it elsewhere) goes
 * through the loop below, which finds and copies the common case (a run of
 * plain bytes up to the end of an output line) a word at a time. Both give
 * the layout of encoding byte by byte. The buffer keeps at least 128 bytes
 * free at the top of the loop: a line's worst case (75 + "=\r\n" + "=XX" +
 * CRLF) and the word copy's overshoot (lim + 8 <= 83). */
int
mime_encode_qp(const char *in, size_t len, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0, col = 0, k, lim;
	char *o;

	/* text mostly stays as it is: start near the input size and grow when
	 * less than a line's worst case (75 + "=\r\n" + "=XX" + CRLF) is left,
	 * rather than reserving 3 times a possibly large part up front */
	if (buf_reserve(out, len + len / 8 + 128) < 0)
		return -1;
	o = out->data + out->len;
#ifdef __SSE2__
	while (len - i >= 34) {
		if (out->cap - (size_t)(o - out->data) < 128) {
			out->len = (size_t)(o - out->data);
			if (buf_reserve(out, (len - i) + (len - i) / 4 + 128) < 0)
				return -1;
			o = out->data + out->len;
		}
		o = qp_encode_fast(in, len, &i, &col, o, out->data + out->cap - 64);
	}
#endif
	while (i < len) {
		unsigned char c;
		int plain;

		if (out->cap - (size_t)(o - out->data) < 128) {
			out->len = (size_t)(o - out->data);
			if (buf_reserve(out, (len - i) + (len - i) / 4 + 128) < 0)
				return -1;
			o = out->data + out->len;
		}

		/* the run of literal bytes that fits on this line */
		lim = len - i < 75 - col ? len - i : 75 - col;
		k = qp_copy_literal_run(o, in + i, lim);
		if (k > 0 && (in[i + k - 1] == ' ' || in[i + k - 1] == '\t') &&
		    (i + k == len || (in[i + k] == '\r' && i + k + 1 < len && in[i + k + 1] == '\n')))
			k--;	/* a blank before a line end is encoded below */
		o += k;
		col += k;
		i += k;
		if (i == len)
			break;

		c = (unsigned char)in[i];
		if (c == '\r' && i + 1 < len && in[i + 1] == '\n') {
			if (i > 0 && o[-1] == ' ') {
				/* a blank qp_encode_fast() left as it is */
				o--;
				if (col - 1 > 72) {
					memcpy(o, "=\r\n", 3);
					o += 3;
				}
				memcpy(o, "=20", 3);
				o += 3;
			}
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
			i += 2;
			continue;
		}
		if (c == ' ' || c == '\t')
			plain = !(i + 1 == len ||
				  (in[i + 1] == '\r' && i + 2 < len && in[i + 2] == '\n'));
		else
			plain = qp_literal[c];
		if (col + (plain ? 1 : 3) > 75) {
			*o++ = '=';
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
		}
		if (plain) {
			*o++ = (char)c;
			col++;
		} else {
			*o++ = '=';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
			col += 3;
		}
		i++;
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return 0;
}

/* ---- quoted-printable around edits ------------------------------------- */

/* Do EDITS describe TEXT as DEC with some spans replaced? In order, inside
 * both texts, and every byte between them the same (the memcmp() calls cost
 * far less than the encoding they spare, and a wrong span list must never
 * turn into a wrong message). */
int
qp_edits_match(const char *dec, size_t dlen, const char *text, size_t tlen,
	       const struct mime_edits *ed)
{
	size_t k, prev = 0, oprev = 0;

	for (k = 0; k < ed->n; k++) {
		const struct mime_edit *x = &ed->v[k];

		if (x->start < prev || x->end < x->start || x->end > dlen)
			return 0;
		if (x->out_start < oprev || x->out_start - oprev != x->start - prev ||
		    x->out_start > tlen || x->len > tlen - x->out_start)
			return 0;
		if (memcmp(dec + prev, text + oprev, x->start - prev) != 0)
			return 0;
		prev = x->end;
		oprev = x->out_start + x->len;
	}
	return tlen - oprev == dlen - prev && memcmp(dec + prev, text + oprev, dlen - prev) == 0;
}

/* Mark I of the part: 0 is its start, n + 1 its end, the others mk->v[i - 1]. */
struct at {
	size_t enc, dec;
};

static inline struct at
mark_at(const struct qp_marks *mk, size_t i, size_t olen, size_t dlen)
{
	struct at m = { 0, 0 };

	if (i == mk->n + 1) {
		m.enc = olen;
		m.dec = dlen;
	} else if (i > 0) {
		m.enc = mk->v[i - 1].enc;
		m.dec = mk->v[i - 1].dec;
	}
	return m;
}

/* Are the edits in order, inside DEC (dlen bytes), and their replacements
 * inside REP (replen bytes)? What putting the text together needs. */
static int
edits_in_range(size_t dlen, size_t replen, const struct mime_edits *ed)
{
	size_t k, prev = 0;

	for (k = 0; k < ed->n; k++) {
		const struct mime_edit *x = &ed->v[k];

		if (x->start < prev || x->end < x->start || x->end > dlen ||
		    x->out_start > replen || x->len > replen - x->out_start)
			return 0;
		prev = x->end;
	}
	return 1;
}

/* Append DEC[a, b) with edits k..j (all inside it) applied to OUT. */
static int
compose(const char *dec, size_t a, size_t b, const char *rep, const struct mime_edits *ed,
	size_t k, size_t j, struct buf *out)
{
	size_t pos = a;

	for (; k <= j && k < ed->n; k++) {
		if (buf_append(out, dec + pos, ed->v[k].start - pos) < 0 ||
		    buf_append(out, rep + ed->v[k].out_start, ed->v[k].len) < 0)
			return -1;
		pos = ed->v[k].end;
	}
	return buf_append(out, dec + pos, b - pos);
}

int
qp_edits_apply(const char *dec, size_t dlen, const char *rep, size_t replen,
	       const struct mime_edits *ed, struct buf *out)
{
	if (!edits_in_range(dlen, replen, ed))
		return 1;
	if (buf_reserve(out, dlen + replen + 1) < 0 ||
	    compose(dec, 0, dlen, rep, ed, 0, ed->n ? ed->n - 1 : 0, out) < 0)
		return -1;
	return 0;
}

int
qp_encode_around(const char *orig, size_t olen, const struct qp_marks *mk, const char *dec,
		 size_t dlen, const char *rep, size_t replen, const struct mime_edits *ed,
		 struct buf *out, struct buf *segs)
{
	size_t before = out->len, seg0 = out->len, nseg0 = segs ? segs->len : 0;
	size_t ecur = 0, last = mk->n + 1, rs = 0, re, k = 0, j;
	size_t end_is_start = olen == 0 || orig[olen - 1] == '\n';
	struct buf stretch = BUF_INIT;
	struct at ms, me;

	if (mk->failed || !edits_in_range(dlen, replen, ed))
		return 1;
	while (k < ed->n) {
		/* from the last mark at or before the edit's start (the end of
		 * the part only if a line ends there) ... */
		while (rs + 1 < last + end_is_start &&
		       mark_at(mk, rs + 1, olen, dlen).dec <= ed->v[k].start)
			rs++;
		/* ... to the first one at or after its end, taking in the edits
		 * that start before that mark (all of them once it is the end of
		 * the part, which is no line start to go on from) */
		re = rs;
		for (j = k;; j++) {
			while (mark_at(mk, re, olen, dlen).dec < ed->v[j].end)
				re++;
			if (j + 1 == ed->n ||
			    (re != last && ed->v[j + 1].start >= mark_at(mk, re, olen, dlen).dec))
				break;
		}
		ms = mark_at(mk, rs, olen, dlen);
		me = mark_at(mk, re, olen, dlen);
		if (buf_append(out, orig + ecur, ms.enc - ecur) < 0)
			goto oom;
		seg0 = out->len;
		/* the stretch's new text: its decoded original with edits k..j */
		buf_reset(&stretch);
		if (compose(dec, ms.dec, me.dec, rep, ed, k, j, &stretch) < 0 ||
		    mime_encode_qp(stretch.data ? stretch.data : "", stretch.len, out) < 0)
			goto oom;
		/* ORIG goes on at a line start: end the stretch with a soft break
		 * unless it ended with a line end (CRLF from the text). At the end
		 * of the part, a final line end the original had stays. */
		if (re != last ? out->len > seg0 && out->data[out->len - 1] != '\n'
			       : olen > 0 && orig[olen - 1] == '\n' &&
				 (out->len == before || out->data[out->len - 1] != '\n')) {
			if (buf_append(out, "=\r\n", 3) < 0)
				goto oom;
		}
		if (segs != NULL) {
			size_t pair[2] = { seg0, out->len };

			if (buf_append(segs, (const char *)pair, sizeof(pair)) < 0)
				goto oom;
		}
		ecur = me.enc;
		rs = re;
		k = j + 1;
	}
	if (buf_append(out, orig + ecur, olen - ecur) < 0)
		goto oom;
	buf_free(&stretch);
	return 0;
oom:
	buf_free(&stretch);
	out->len = before;
	if (out->data != NULL)
		out->data[out->len] = '\0';
	if (segs != NULL)
		segs->len = nseg0;
	return -1;
}
