/* url.c - URL parsing into spans, query parameter stripping, unwrap decoders
 * and the text/plain URL finder. Parsing never touches the heap: the engine
 * judges every URL of a message, and most of them are judged "leave alone". */
#include "build-config.h"
#include "bytes.h"
#include "url.h"

#include <jansson.h>
#include <stdint.h>
#include <string.h>

#define MAX_PARAM_NAME 255

/* Byte classes: every URL of a message goes through the parser, so the hot
 * loops test one table entry per byte instead of a chain of comparisons. */
#define U_SCHEME	0x01	/* continues a scheme: letter, digit, + - . */
#define U_HOST		0x02	/* in a host label: letter, digit, - _, any byte >= 0x80 */
#define U_AUTHEND	0x04	/* ends the authority of http(s): / \ ? # */
#define U_BADABS	0x08	/* never written into a message: C0, space, DEL, " < > \ ` */
#define U_QUERY		0x10	/* stops a query parameter scan: & ; = */

#define U_AN	(U_SCHEME | U_HOST)
static const unsigned char ucls[256] = {
	[0x00 ... 0x20] = U_BADABS, [0x7f] = U_BADABS,
	['"'] = U_BADABS, ['<'] = U_BADABS, ['>'] = U_BADABS, ['`'] = U_BADABS,
	['\\'] = U_BADABS | U_AUTHEND, ['/'] = U_AUTHEND, ['?'] = U_AUTHEND, ['#'] = U_AUTHEND,
	['&'] = U_QUERY, [';'] = U_QUERY, ['='] = U_QUERY,
	['+'] = U_SCHEME, ['.'] = U_SCHEME, ['-'] = U_SCHEME | U_HOST, ['_'] = U_HOST,
	['0' ... '9'] = U_AN, ['A' ... 'Z'] = U_AN, ['a' ... 'z'] = U_AN,
	[0x80 ... 0xff] = U_HOST,
};

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Browsers drop C0 controls and space at both ends of a URL. */
static int
is_c0_or_space(unsigned char c)
{
	return c <= 0x20;
}

static int
is_tabnl(unsigned char c)
{
	return c == '\t' || c == '\n' || c == '\r';
}

static int
mem_eq_ci(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* ---- parsing -------------------------------------------------------------- */

/* Length of a valid "scheme" at S (followed by ':'), or 0. */
static size_t
scheme_len(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !is_alpha((unsigned char)s[0]))
		return 0;
	for (i = 1; i < len && (ucls[(unsigned char)s[i]] & U_SCHEME); i++)
		;
	return i < len && s[i] == ':' ? i : 0;
}

/* Nearly every URL a message holds starts "https://" or "http://": 4 or 5
 * (the scheme's length, *SCHEME set) when S does, with the letters in any
 * case, else 0 and scheme_len() decides. Eight bytes, one compare: only the
 * letters are folded (0x20 would turn a control into ':' or '/'). */
static size_t
http_scheme_len(const char *s, size_t len, enum url_scheme *scheme)
{
	uint64_t w, fold, want;

	if (len < 8)
		return 0;
	memcpy(&w, s, 8);
	memcpy(&fold, "\x20\x20\x20\x20\x20\0\0\0", 8);
	memcpy(&want, "https://", 8);
	if ((w | fold) == want) {
		*scheme = URL_SCHEME_HTTPS;
		return 5;
	}
	memcpy(&fold, "\x20\x20\x20\x20\0\0\0\xff", 8);
	memcpy(&want, "http://\xff", 8);
	if ((w | fold) == want) {	/* the eighth byte is not compared */
		*scheme = URL_SCHEME_HTTP;
		return 4;
	}
	return 0;
}

int
url_has_scheme(const char *s, size_t len)
{
	return scheme_len(s, len) > 0;
}

/* The scheme S[0..N), already checked by scheme_len(). Its bytes are letters,
 * digits and + - . which all have bit 0x20 set except the upper-case letters:
 * OR-ing 0x20 into each byte lowercases it exactly. */
static enum url_scheme
classify_scheme(const char *s, size_t n)
{
	uint32_t w;

	if (n < 3 || n > 6)
		return URL_SCHEME_OTHER;
	if (n == 3)
		return ((s[0] | 0x20) == 'c' && (s[1] | 0x20) == 'i' && (s[2] | 0x20) == 'd') ?
		    URL_SCHEME_CID : URL_SCHEME_OTHER;
	memcpy(&w, s, 4);
	w |= 0x20202020u;
	if (n == 4 && memcmp(&w, "http", 4) == 0)
		return URL_SCHEME_HTTP;
	if (n == 5 && memcmp(&w, "http", 4) == 0 && (s[4] | 0x20) == 's')
		return URL_SCHEME_HTTPS;
	if (n == 4 && memcmp(&w, "data", 4) == 0)
		return URL_SCHEME_DATA;
	if (n == 6 && memcmp(&w, "mail", 4) == 0 && (s[4] | 0x20) == 't' && (s[5] | 0x20) == 'o')
		return URL_SCHEME_MAILTO;
	return URL_SCHEME_OTHER;
}

static int
is_path_delim(int c, int special)
{
	return c == '/' || (special && c == '\\');
}

/* Where url_parse() found the first '?' and the first '#' of the URL (END
 * when absent). Neither can come before the path: a scheme holds neither,
 * and an authority ends at either. */
struct marks {
	size_t q, h;
};

/* Split P..END (after the scheme and slashes) into path, query, fragment. */
static void
parse_path_query_fragment(struct url *u, size_t p, size_t end, const struct marks *m)
{
	size_t q, f = m->h;
	int has_q = m->q < f;	/* a '?' after the '#' is in the fragment */

	q = has_q ? m->q : f;
	u->path.off = p;
	u->path.len = q - p;
	if (has_q) {
		u->flags |= URL_F_HAS_QUERY;
		u->query.off = q + 1;
		u->query.len = f - q - 1;
	}
	if (f < end) {
		u->flags |= URL_F_HAS_FRAGMENT;
		u->fragment.off = f + 1;
		u->fragment.len = end - f - 1;
	}
}

/* Parse the authority at P..END of a special (http/https) URL: userinfo,
 * host (any form), port. */
static int
parse_authority_general(struct url *u, size_t p, size_t end, const struct marks *m)
{
	const char *s = u->base;
	size_t a, at = (size_t)-1, h, hend, i;

	for (a = p; a < end && !is_path_delim((unsigned char)s[a], 1) && s[a] != '?' && s[a] != '#'; a++)
		if (s[a] == '@')
			at = a;	/* the last '@' ends the userinfo, as in browsers */
	h = p;
	if (at != (size_t)-1) {
		u->flags |= URL_F_HAS_USERINFO;
		u->userinfo.off = p;
		u->userinfo.len = at - p;
		h = at + 1;
	}
	hend = a;
	if (h < a && s[h] == '[') {
		for (i = h; i < a && s[i] != ']'; i++)
			;
		if (i == a)
			return URL_E_HOST;
		hend = i + 1;
		if (hend < a && s[hend] != ':')
			return URL_E_HOST;
	} else {
		for (i = h; i < a && s[i] != ':'; i++)
			;
		hend = i;
	}
	u->host.off = h;
	u->host.len = hend - h;
	if (hend < a) {		/* ':' port */
		unsigned long port = 0;

		u->port.off = hend + 1;
		u->port.len = a - hend - 1;
		for (i = hend + 1; i < a; i++) {
			if (!is_digit((unsigned char)s[i]))
				return URL_E_SYNTAX;
			port = port * 10 + (unsigned long)(s[i] - '0');
			if (port > 65535)
				return URL_E_SYNTAX;
		}
		if (u->port.len > 0) {
			u->flags |= URL_F_HAS_PORT;
			u->port_num = (unsigned)port;
		}
	}
	parse_path_query_fragment(u, a, end, m);
	if (!url_host_is_valid(URL_PTR(u, u->host), u->host.len))
		return URL_E_HOST;
	return 0;
}

#ifdef __SSE2__
/* SSE2 (the x86-64 baseline): 16 bytes per step. */
#include <emmintrin.h>

/* The host bytes (letter, digit, - _, >= 0x80) of the 16 bytes at P as a
 * bit mask, and in *DOTS their '.'. Ranges are tested with signed compares
 * after moving the range's start to -128; letters are folded to lower case
 * first (OR 0x20 turns no other byte into one). */
static inline __attribute__((always_inline)) unsigned
host_mask16(const unsigned char *p, unsigned *dots)
{
	const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	const __m128i l = _mm_or_si128(x, _mm_set1_epi8(0x20));
	const __m128i letter = _mm_cmplt_epi8(_mm_add_epi8(l, _mm_set1_epi8((char)(0x80 - 'a'))),
	    _mm_set1_epi8((char)(0x80 + 26)));
	const __m128i digit = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - '0'))),
	    _mm_set1_epi8((char)(0x80 + 10)));
	const __m128i punct = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')),
	    _mm_cmpeq_epi8(x, _mm_set1_epi8('_')));

	*dots = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')));
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), punct)) |
	    (unsigned)_mm_movemask_epi8(x);
}
#endif

/* Where the authority starting at P ends if it is a DNS name or dotted IPv4
 * address alone: the first byte from P that is neither a host byte nor a
 * '.' ending a label of 1..63 bytes. *LAB gets the start of the last label.
 * Whole blocks of 16 bytes are classified at once (a host is short: the
 * first block nearly always holds its end), the rest byte by byte; each
 * '.' checks the label it ends. */
static inline __attribute__((always_inline)) size_t
scan_host(const char *s, size_t p, size_t end, size_t *lab)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t a = p, l = p;

#ifdef __SSE2__
	while (end - a >= 16) {
		unsigned dots, host = host_mask16(u + a, &dots);
		unsigned stop = ~(host | dots) & 0xffffu;
		unsigned n = stop != 0 ? (unsigned)__builtin_ctz(stop) : 16;

		for (dots &= (1u << n) - 1; dots != 0; dots &= dots - 1) {
			size_t d = a + (size_t)__builtin_ctz(dots);

			if (d == l || d - l > 63) {
				*lab = l;	/* a label of 0 or > 63 bytes */
				return d;
			}
			l = d + 1;
		}
		a += n;
		if (n < 16) {
			*lab = l;
			return a;
		}
	}
#endif
	for (; a < end; a++) {
		unsigned char c = u[a];

		if (ucls[c] & U_HOST)
			continue;
		if (c != '.' || a == l || a - l > 63)
			break;	/* not a name byte, or a label of 0 or > 63 bytes */
		l = a + 1;
	}
	*lab = l;
	return a;
}

/* Nearly every authority is a DNS name or dotted IPv4 address alone: its
 * labels were checked while finding its end (scan_host(), which stopped at
 * A with the last label at LAB). Anything else (userinfo, a port, "[v6]",
 * an invalid byte or label) goes to the general parser, which gives the
 * same answer for these hosts, only slower. */
static inline __attribute__((always_inline)) int
finish_authority(struct url *u, size_t p, size_t a, size_t lab, size_t end,
    const struct marks *m)
{
	const char *s = u->base;
	size_t n;

	if (a < end && !(ucls[(unsigned char)s[a]] & U_AUTHEND))
		return parse_authority_general(u, p, end, m);
	/* what url_host_is_valid() checks beyond the labels before a dot:
	 * length 1..253 without one trailing dot, the last label <= 63 */
	n = a - p;
	if (n > 0 && s[a - 1] == '.')
		n--;
	if (n == 0 || n > 253 || a - lab > 63)
		return parse_authority_general(u, p, end, m);
	u->host.off = p;
	u->host.len = a - p;
	parse_path_query_fragment(u, a, end, m);
	return 0;
}

static int
parse_authority(struct url *u, size_t p, size_t end, const struct marks *m)
{
	size_t lab, a = scan_host(u->base, p, end, &lab);

	return finish_authority(u, p, a, lab, end, m);
}

#ifdef __SSE2__
/* 16 bytes per step, three compares. */

/* Fill *M for S[START..END) and tell whether a byte below 0x0E is there (tab,
 * LF and CR among them: the caller checks which). One pass instead of a
 * control scan and two memchr(); only whole 16-byte blocks inside the URL
 * are loaded, the last one overlapping the one before: its bytes seen
 * already hold no '?' or '#' that was not found there first. Most blocks
 * hold none of the three: one mask of all, then the details when set. */
static int
scan_marks(const char *s, size_t start, size_t end, struct marks *m)
{
	const __m128i qm = _mm_set1_epi8('?'), hm = _mm_set1_epi8('#'), lo = _mm_set1_epi8(0x0D);
	unsigned low = 0;
	size_t i = start;

	m->q = m->h = end;
	if (end - start < 16) {
		for (; i < end; i++) {
			unsigned char c = (unsigned char)s[i];

			low |= c < 0x0E;
			if (c == '?' && m->q == end)
				m->q = i;
			if (c == '#' && m->h == end)
				m->h = i;
		}
		return low != 0;
	}
	for (;; i += 16) {
		__m128i x, eq, eh, el;

		if (i + 16 > end)
			i = end - 16;
		x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		eq = _mm_cmpeq_epi8(x, qm);
		eh = _mm_cmpeq_epi8(x, hm);
		el = _mm_cmpeq_epi8(_mm_min_epu8(x, lo), x);
		if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(eq, eh), el)) != 0) {
			unsigned mq = (unsigned)_mm_movemask_epi8(eq);
			unsigned mh = (unsigned)_mm_movemask_epi8(eh);

			low |= (unsigned)_mm_movemask_epi8(el);
			if (mq != 0 && m->q == end)
				m->q = i + (size_t)__builtin_ctz(mq);
			if (mh != 0 && m->h == end)
				m->h = i + (size_t)__builtin_ctz(mh);
		}
		if (i + 16 == end)
			return low != 0;
	}
}
#else
static int
scan_marks(const char *s, size_t start, size_t end, struct marks *m)
{
	const char *q = memchr(s + start, '?', end - start), *h = memchr(s + start, '#', end - start);

	m->q = q != NULL ? (size_t)(q - s) : end;
	m->h = h != NULL ? (size_t)(h - s) : end;
	return bytes_have_low_control(s + start, end - start);
}
#endif

/* memset(U, 0, sizeof *U). GCC makes that a "rep stos" of 19 words, which
 * takes longer to start than the ten 16-byte stores that do it here (the
 * empty asm hides that the value is zero, or GCC turns them back into the
 * same "rep stos"). */
static inline __attribute__((always_inline)) void
url_clear(struct url *u)
{
#ifdef __SSE2__
	char *p = (char *)u;
	__m128i z = _mm_setzero_si128();
	size_t i;

	__asm__("" : "+x"(z));
#pragma GCC unroll 16
	for (i = 0; i + 16 <= sizeof *u; i += 16)
		_mm_storeu_si128((__m128i *)(void *)(p + i), z);
	if (i < sizeof *u)
		_mm_storeu_si128((__m128i *)(void *)(p + sizeof *u - 16), z);
#else
	memset(u, 0, sizeof *u);
#endif
}

/* Fill *M for S[FROM..END) of OUT's bytes and flag tab, LF or CR there.
 * One cheap pass; memchr (vectorised) only when it finds something. */
static inline __attribute__((always_inline)) void
find_marks(struct url *out, size_t from, size_t end, struct marks *m)
{
	const char *s = out->base;

	if (scan_marks(s, from, end, m) &&
	    (memchr(s + from, '\n', end - from) || memchr(s + from, '\t', end - from) ||
	     memchr(s + from, '\r', end - from)))
		out->flags |= URL_F_TABNL;
}

int
url_parse(const char *s, size_t len, struct url *out)
{
	size_t start = 0, end = len, sl, p, slashes, a, lab;
	struct marks m;

	if (s == NULL) {	/* memchr() & co. must never see NULL, even for 0 bytes */
		s = "";
		len = end = 0;
	}
	url_clear(out);
	out->base = s;
	/* nearly every URL has nothing to ignore at either end */
	if (end > 0 && ((unsigned char)s[0] <= 0x20 || (unsigned char)s[end - 1] <= 0x20)) {
		while (start < end && is_c0_or_space((unsigned char)s[start]))
			start++;
		while (end > start && is_c0_or_space((unsigned char)s[end - 1]))
			end--;
		out->flags |= URL_F_STRIPPED;
	}
	out->start = start;
	out->end = end;

	sl = http_scheme_len(s + start, end - start, &out->scheme);
	p = start + sl + 1;
	if (sl > 0 && !(p + 2 < end && is_path_delim((unsigned char)s[p + 2], 1))) {
		/* "https://" or "http://" and a byte that is no third slash:
		 * the host starts after the two. Neither '?', '#' nor a
		 * control byte can come before where its scan stops (the
		 * scheme, "//" and host bytes hold none): the rest of the URL
		 * is searched for them from there. */
		out->scheme_s.off = start;
		out->scheme_s.len = sl;
		p += 2;
		a = scan_host(s, p, end, &lab);
		find_marks(out, a, end, &m);
		return finish_authority(out, p, a, lab, end, &m);
	}
	find_marks(out, start, end, &m);
	if (sl > 0) {
		out->scheme_s.off = start;
		out->scheme_s.len = sl;
		goto web;
	}
	if (end - start >= 2 && is_path_delim((unsigned char)s[start], 1) &&
	    is_path_delim((unsigned char)s[start + 1], 1)) {
		/* "//host/path": the scheme of the page, which in mail is at
		 * best unknown; judge it as https. */
		out->scheme = URL_SCHEME_HTTPS;
		out->flags |= URL_F_PROTOREL;
		if (s[start] == '\\' || s[start + 1] == '\\')
			out->flags |= URL_F_NONCANON;
		return parse_authority(out, start + 2, end, &m);
	}
	sl = scheme_len(s + start, end - start);
	if (sl == 0) {
		out->scheme = URL_SCHEME_NONE;
		parse_path_query_fragment(out, start, end, &m);
		return URL_E_RELATIVE;
	}
	out->scheme_s.off = start;
	out->scheme_s.len = sl;
	out->scheme = classify_scheme(s + start, sl);
	p = start + sl + 1;
	switch (out->scheme) {
	case URL_SCHEME_HTTP:
	case URL_SCHEME_HTTPS:
	web:
		/* Browsers accept any number of '/' or '\' here. */
		for (slashes = 0; p < end && is_path_delim((unsigned char)s[p], 1); p++, slashes++)
			if (s[p] == '\\')
				out->flags |= URL_F_NONCANON;
		if (slashes != 2)
			out->flags |= URL_F_NONCANON;
		return parse_authority(out, p, end, &m);
	case URL_SCHEME_CID:
	case URL_SCHEME_DATA:
		out->flags |= URL_F_NEVER_TOUCH;
		out->path.off = p;
		out->path.len = end - p;
		return 0;
	default:
		parse_path_query_fragment(out, p, end, &m);
		return 0;
	}
}

int
url_parse_clean(const char *s, size_t len, struct url *out, char *scratch, size_t cap)
{
	size_t i, n = 0;
	int rc;

	rc = url_parse(s, len, out);
	if (!(out->flags & URL_F_TABNL))
		return rc;
	for (i = out->start; i < out->end; i++) {
		if (is_tabnl((unsigned char)s[i]))
			continue;
		if (n >= cap)
			return URL_E_TOOLONG;
		scratch[n++] = s[i];
	}
	rc = url_parse(scratch, n, out);
	out->flags |= URL_F_TABNL | URL_F_STRIPPED;
	return rc;
}

int
url_span_eq_ci(const struct url *u, struct url_span sp, const char *lit)
{
	size_t n = strlen(lit);

	return sp.len == n && mem_eq_ci(URL_PTR(u, sp), lit, n);
}

int
url_host_has_suffix(const struct url *u, const char *suffix)
{
	const char *h = URL_PTR(u, u->host);
	size_t hl = u->host.len, sl = strlen(suffix);

	if (hl > 0 && h[hl - 1] == '.')
		hl--;
	if (sl > hl)
		return 0;
	if (!mem_eq_ci(h + hl - sl, suffix, sl))
		return 0;
	return sl == hl || h[hl - sl - 1] == '.';
}

/* Lowercase the ASCII letters of the 8 bytes in W: a byte gets 0x20 added
 * when its low seven bits are in 'A'..'Z' and its top bit is clear. */
static uint64_t
lower8(uint64_t w)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7full, ones = 0x0101010101010101ull;
	uint64_t b = w & low7;
	uint64_t ge_a = b + ones * (0x80 - 'A'), gt_z = b + ones * (0x80 - 'Z' - 1);

	return w | (((ge_a & ~gt_z & ~w) & (ones * 0x80)) >> 2);
}

int
url_host_lower(const struct url *u, char *dst, size_t cap)
{
	const char *h = URL_PTR(u, u->host);
	size_t hl = u->host.len, i;
	uint64_t w;

	if (hl > 0 && h[hl - 1] == '.')
		hl--;
	if (hl + 1 > cap)
		return URL_E_TOOLONG;
	if (hl < 8) {
		for (i = 0; i < hl; i++)
			dst[i] = (char)lower((unsigned char)h[i]);
	} else {
		for (i = 0; i + 8 <= hl; i += 8) {
			memcpy(&w, h + i, 8);
			w = lower8(w);
			memcpy(dst + i, &w, 8);
		}
		memcpy(&w, h + hl - 8, 8);	/* the tail, overlapping */
		w = lower8(w);
		memcpy(dst + hl - 8, &w, 8);
	}
	dst[hl] = '\0';
	return (int)hl;
}

static int
ipv6_ok(const char *h, size_t len)
{
	size_t i;

	if (len < 4 || h[0] != '[' || h[len - 1] != ']')
		return 0;
	for (i = 1; i < len - 1; i++) {
		int c = (unsigned char)h[i];

		if (hexval(c) < 0 && c != ':' && c != '.')
			return 0;
	}
	return memchr(h, ':', len) != NULL;
}

int
url_host_is_valid(const char *h, size_t len)
{
	size_t i, lab = 0;

	if (len == 0)
		return 0;
	if (h[0] == '[')
		return ipv6_ok(h, len);
	if (h[len - 1] == '.')
		len--;		/* one trailing dot: fully qualified */
	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];

		if (ucls[c] & U_HOST)
			continue;
		if (c != '.' || i == lab || i - lab > 63)
			return 0;
		lab = i + 1;	/* the label before the dot had 1..63 bytes */
	}
	return len - lab <= 63;
}

int
url_is_valid_absolute(const char *s, size_t len)
{
	struct url u;

	return url_parse_valid_absolute(s, len, &u);
}

/* Does S[0..LEN) hold a byte never written into a message (U_BADABS)? */
static int
has_bad_abs_byte(const char *s, size_t len)
{
	size_t i;
	unsigned bad = 0;

	/* four bytes per step, one test: results are nearly always valid */
	for (i = 0; i + 4 <= len; i += 4)
		bad |= ucls[(unsigned char)s[i]] | ucls[(unsigned char)s[i + 1]] |
		    ucls[(unsigned char)s[i + 2]] | ucls[(unsigned char)s[i + 3]];
	for (; i < len; i++)
		bad |= ucls[(unsigned char)s[i]];
	return (bad & U_BADABS) != 0;
}

/* What url_parse_valid_absolute() asks of a parse, besides its bytes. */
static int
parse_is_valid_absolute(const struct url *u)
{
	return (u->scheme == URL_SCHEME_HTTP || u->scheme == URL_SCHEME_HTTPS) &&
	    !(u->flags & (URL_F_PROTOREL | URL_F_NONCANON));
}

int
url_parse_valid_absolute(const char *s, size_t len, struct url *out)
{
	struct url u;

	if (has_bad_abs_byte(s, len))
		return 0;
	if (url_parse(s, len, &u) != 0 || !parse_is_valid_absolute(&u))
		return 0;
	*out = u;
	return 1;
}

int
url_parsed_is_valid_absolute(const struct url *u, const char *s, size_t len)
{
	return parse_is_valid_absolute(u) && !has_bad_abs_byte(s, len);
}

int
url_append_html_attr(struct buf *out, const char *url, size_t len)
{
	size_t i, run = 0;
	const char *rep;

	for (i = 0; i < len; i++) {
		switch (url[i]) {
		case '&': rep = "&amp;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		default: continue;
		}
		if (buf_append(out, url + run, i - run) < 0 || buf_puts(out, rep) < 0)
			return URL_E_NOMEM;
		run = i + 1;
	}
	return buf_append(out, url + run, len - run) < 0 ? URL_E_NOMEM : 0;
}

/* ---- path shape --------------------------------------------------------------- */

/* Byte classes of path segments (url_path_has_token). */
#define P_DIGIT		0x01
#define P_LETTER	0x02
#define P_HEX		0x04
#define P_B64		0x08	/* letter, digit, - _ = % */
#define P_SEP		0x10	/* ends a segment: / \ ; */
#define P_DOT		0x20

static const unsigned char pcls[256] = {
	['0' ... '9'] = P_DIGIT | P_HEX | P_B64,
	['a' ... 'f'] = P_LETTER | P_HEX | P_B64, ['A' ... 'F'] = P_LETTER | P_HEX | P_B64,
	['g' ... 'z'] = P_LETTER | P_B64, ['G' ... 'Z'] = P_LETTER | P_B64,
	['-'] = P_B64, ['_'] = P_B64, ['='] = P_B64, ['%'] = P_B64,
	['/'] = P_SEP, ['\\'] = P_SEP, [';'] = P_SEP, ['.'] = P_DOT,
};

/* The shapes of an identifier, for N judged bytes whose classes AND to ALL
 * and OR to ANY, DIGITS of them digits. Hex digits are base64 bytes too. */
static int
token_shape(size_t n, unsigned all, unsigned any, size_t digits)
{
	if (n < 10)
		return 0;
	if (digits >= 2 && (any & P_LETTER) && (all & P_B64))
		return 1;
	if (n >= 12 && (all & P_HEX))
		return 1;
	return n >= 20 && (all & P_B64);
}

/* Each byte is read once: the classes of a segment are gathered up to its
 * first '.'; the bytes after it only decide whether that '.' starts an
 * extension (dropped) or stays in the judged bytes, where no shape allows
 * it. Every path of every image is judged: it has to be cheap. */
int
url_path_has_token(const char *path, size_t n)
{
	const unsigned char *p = (const unsigned char *)path;
	size_t i = 0;

	while (i < n) {
		size_t seg = i, len, digits = 0;
		unsigned all = 0xff, any = 0, k = 0;

		for (; i < n; i++) {
			k = pcls[p[i]];
			if (k & (P_SEP | P_DOT))
				break;
			all &= k;
			any |= k;
			digits += k & P_DIGIT;
		}
		len = i - seg;
		if (i < n && (k & P_DOT)) {
			size_t dot = i;

			while (i < n && !(pcls[p[i]] & P_SEP))
				i++;
			if (i - dot > 5)	/* not an extension: the '.' is judged */
				len = 0;
		}
		if (token_shape(len, all, any, digits))
			return 1;
		i++;			/* past the separator */
	}
	return 0;
}

/* ---- query parameters ------------------------------------------------------ */

/* Length of a separator at P (< END), or 0. */
static size_t
sep_len_at(const char *p, const char *end, unsigned flags)
{
	size_t left = (size_t)(end - p);

	if (*p == ';')
		return 1;
	if (*p != '&')
		return 0;
	if (flags & URL_Q_HTML) {
		if (left >= 5 && mem_eq_ci(p, "&amp;", 5))
			return 5;
		if (left >= 5 && memcmp(p, "&#38;", 5) == 0)
			return 5;
		if (left >= 6 && mem_eq_ci(p, "&#x26;", 6))
			return 6;
	}
	return 1;
}

/* The '#' that starts the fragment. In HTML attribute bytes "&#38;" is a
 * character reference, not a fragment. */
static const char *
find_fragment(const char *s, size_t len, unsigned flags)
{
	const char *p = s, *end = s + len;

	while ((p = memchr(p, '#', (size_t)(end - p))) != NULL) {
		if (!((flags & URL_Q_HTML) && p > s && p[-1] == '&'))
			return p;
		p++;
	}
	return NULL;
}

void
url_query_begin(struct url_query_iter *it, const char *s, size_t len, unsigned flags)
{
	const char *q = memchr(s, '?', len), *hash = find_fragment(s, len, flags);
	const char *end = s + len;

	if (hash != NULL && (q == NULL || hash < q))
		q = NULL;	/* '?' inside the fragment is not a query */
	if (hash != NULL)
		end = hash;
	it->p = q ? q + 1 : end;
	it->end = end;
	it->flags = flags;
	it->first = 1;
	if (q == NULL)
		it->p = it->end = s;	/* no query: iteration is empty */
}

/* url_parse() stops the authority at the first '?' or '#' and splits the
 * rest at the first of each, as url_query_begin() splits the whole URL: the
 * spans are the same, except that the parse ignored trailing spaces and
 * controls, which the iteration keeps. */
void
url_query_begin_parsed(struct url_query_iter *it, const struct url *u, size_t len)
{
	const char *s = u->base;

	it->flags = 0;
	it->first = 1;
	if (!(u->flags & URL_F_HAS_QUERY)) {
		it->p = it->end = s;	/* no query: iteration is empty */
		return;
	}
	it->p = s + u->query.off;
	it->end = (u->flags & URL_F_HAS_FRAGMENT) ? s + u->fragment.off - 1 : s + len;
}

int
url_query_next(struct url_query_iter *it, struct url_param *prm)
{
	const char *p = it->p, *start, *eq = NULL;
	size_t sl;

	memset(prm, 0, sizeof *prm);
	if (it->first) {
		if (p >= it->end && it->p == it->end)
			return 0;
		it->first = 0;
	} else {
		if (p >= it->end)
			return 0;
		sl = sep_len_at(p, it->end, it->flags);	/* p is at a separator */
		prm->sep = p;
		prm->sep_len = sl;
		p += sl;
	}
	start = p;
	/* to the next separator ('&' or ';', which sep_len_at() never finds
	 * empty), noting the first '=' */
	for (;;) {
		while (p < it->end && !(ucls[(unsigned char)*p] & U_QUERY))
			p++;
		if (p >= it->end || *p != '=')
			break;
		if (eq == NULL)
			eq = p;
		p++;
	}
	prm->name = start;
	prm->name_len = (size_t)((eq ? eq : p) - start);
	if (eq) {
		prm->value = eq + 1;
		prm->value_len = (size_t)(p - eq - 1);
	}
	it->p = p;
	return 1;
}

/* Percent-decode a parameter name into DST (NUL-terminated). Invalid escapes
 * are kept literally: names are only compared, never written. -1 if too long. */
static int
decode_name(const char *n, size_t len, char *dst, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = n[i];

		if (c == '%' && i + 2 < len && hexval((unsigned char)n[i + 1]) >= 0 &&
		    hexval((unsigned char)n[i + 2]) >= 0) {
			c = (char)(hexval((unsigned char)n[i + 1]) * 16 + hexval((unsigned char)n[i + 2]));
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		dst[o++] = c;
	}
	dst[o] = '\0';
	return (int)o;
}

int
url_query_find(const char *s, size_t len, unsigned flags, const char *name,
	       struct url_param *prm)
{
	struct url_query_iter it;
	char dec[MAX_PARAM_NAME + 1];
	int n;

	url_query_begin(&it, s, len, flags);
	while (url_query_next(&it, prm)) {
		n = decode_name(prm->name, prm->name_len, dec, sizeof dec);
		if (n >= 0 && strcmp(dec, name) == 0)
			return 1;
	}
	return 0;
}

int
url_strip_params_ex(const char *url, size_t len, unsigned flags, url_param_pred pred,
		    void *arg, struct buf *out, int *removed)
{
	struct url_query_iter it;
	struct url_param prm;
	const char *q = memchr(url, '?', len), *hash = find_fragment(url, len, flags);
	char dec[MAX_PARAM_NAME + 1];
	size_t mark, qend;
	int nrem = 0, emitted = 0, n;

	if (removed)
		*removed = 0;
	if (q == NULL || (hash != NULL && hash < q))
		return buf_append(out, url, len) < 0 ? URL_E_NOMEM : 0;
	qend = hash ? (size_t)(hash - url) : len;
	if (buf_append(out, url, (size_t)(q - url) + 1) < 0)	/* through '?' */
		return URL_E_NOMEM;
	mark = out->len;
	url_query_begin(&it, url, len, flags);
	while (url_query_next(&it, &prm)) {
		n = prm.name_len ? decode_name(prm.name, prm.name_len, dec, sizeof dec) : -1;
		if (n > 0 && pred(dec, (size_t)n, arg)) {
			nrem++;
			continue;
		}
		/* The separator in front of a kept parameter is its own unless
		 * it is the first one written. */
		if (emitted && prm.sep && buf_append(out, prm.sep, prm.sep_len) < 0)
			return URL_E_NOMEM;
		if (buf_append(out, prm.name, (size_t)((prm.value ? prm.value + prm.value_len :
							 prm.name + prm.name_len) - prm.name)) < 0)
			return URL_E_NOMEM;
		emitted = 1;
	}
	if (nrem == 0) {	/* nothing removed: byte-identical by construction */
		out->len = mark - ((size_t)(q - url) + 1);
		if (buf_append(out, url, len) < 0)
			return URL_E_NOMEM;
		return 0;
	}
	if (out->len == mark) {	/* nothing left: drop the '?' too */
		out->len--;
		out->data[out->len] = '\0';
	}
	if (qend < len && buf_append(out, url + qend, len - qend) < 0)
		return URL_E_NOMEM;
	if (removed)
		*removed = nrem;
	return 0;
}

int
url_strip_params(const char *url, size_t len, url_param_pred pred, void *arg,
		 struct buf *out, int *removed)
{
	return url_strip_params_ex(url, len, 0, pred, arg, out, removed);
}

/* ---- decoders -------------------------------------------------------------- */

int
url_decode_percent(const char *in, size_t len, struct buf *out)
{
	const uint64_t ones = 0x0101010101010101ull, pct = ones * '%', high = ones * 0x80;
	size_t i = 0;
	char *o;
	int hi, lo, rc = 0;

	if (buf_reserve(out, len) < 0)
		return URL_E_NOMEM;
	if (len == 0)
		return 0;
	/* the output is never longer than the input: write it in place. The
	 * values that are decoded (a wrapper's destination) are short and
	 * dense with escapes: eight bytes at a step, up to the next '%' (the
	 * lowest byte the zero-byte test flags is always a true one); the
	 * bytes copied past it are written again. No call per escape. */
	o = out->data + out->len;
	while (i < len) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		if (len - i >= 8) {
			uint64_t w, x, m;
			size_t k;

			memcpy(&w, in + i, 8);
			memcpy(o, &w, 8);	/* o + 8 <= out->data + out->len + len */
			x = w ^ pct;		/* a zero byte where w has a '%' */
			m = (x - ones) & ~x & high;
			if (m == 0) {
				o += 8;
				i += 8;
				continue;
			}
			k = (size_t)__builtin_ctzll(m) / 8;
			o += k;
			i += k;		/* in[i] is that '%' */
		} else
#endif
		if (in[i] != '%') {
			*o++ = in[i++];
			continue;
		}
		if (len - i < 3) {
			rc = URL_E_DECODE;
			break;
		}
		hi = hexval((unsigned char)in[i + 1]);
		lo = hexval((unsigned char)in[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			rc = URL_E_DECODE;
			break;
		}
		*o++ = (char)(hi * 16 + lo);
		i += 3;
	}
	/* on error, what was decoded before the bad escape, as before */
	out->len = (size_t)(o - out->data);
	*o = '\0';
	return rc;
}

static int
b64val(int c, int urlsafe)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (urlsafe ? '-' : '+'))
		return 62;
	if (c == (urlsafe ? '_' : '/'))
		return 63;
	return -1;
}

static int
decode_b64(const char *in, size_t len, int urlsafe, struct buf *out)
{
	size_t i, pad = 0, data;
	unsigned long acc = 0;
	int bits = 0, v;
	char c;

	while (pad < len && pad < 2 && in[len - 1 - pad] == '=')
		pad++;
	data = len - pad;
	if (data == 0 || data % 4 == 1)
		return URL_E_DECODE;
	if (pad && (data + pad) % 4 != 0)
		return URL_E_DECODE;	/* padding present but wrong */
	if (buf_reserve(out, data * 3 / 4 + 1) < 0)
		return URL_E_NOMEM;
	for (i = 0; i < data; i++) {
		v = b64val((unsigned char)in[i], urlsafe);
		if (v < 0)
			return URL_E_DECODE;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			c = (char)((acc >> bits) & 0xff);
			if (buf_append(out, &c, 1) < 0)
				return URL_E_NOMEM;
		}
	}
	return 0;
}

int
url_decode_base64(const char *in, size_t len, struct buf *out)
{
	return decode_b64(in, len, 0, out);
}

int
url_decode_base64url(const char *in, size_t len, struct buf *out)
{
	return decode_b64(in, len, 1, out);
}

/* Follow the dotted path FIELD through nested objects of ROOT. */
static json_t *
json_path(json_t *root, const char *field)
{
	char key[256];
	const char *p = field, *dot;
	size_t n;

	while (root != NULL) {
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0 || n >= sizeof key || !json_is_object(root))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		root = json_object_get(root, key);
		if (dot == NULL)
			return root;
		p = dot + 1;
	}
	return NULL;
}

int
url_decode_json(const char *in, size_t len, const char *field, struct buf *out)
{
	json_error_t err;
	json_t *root, *v;
	int rc;

	root = json_loadb(in, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL)
		return URL_E_DECODE;
	v = json_path(root, field);
	if (v == NULL || !json_is_string(v))
		rc = URL_E_NOFIELD;
	else
		rc = buf_append(out, json_string_value(v), json_string_length(v)) < 0 ?
			URL_E_NOMEM : 0;
	json_decref(root);
	return rc;
}

int
url_decode_jwt(const char *in, size_t len, const char *field, struct buf *out)
{
	const char *d1 = memchr(in, '.', len), *d2, *p;
	struct buf payload = BUF_INIT;
	size_t plen;
	int rc;

	/* "header.payload.signature" (JWS compact), "payload.signature" or a
	 * bare payload: ESPs use all three. */
	d2 = d1 ? memchr(d1 + 1, '.', (size_t)(in + len - d1 - 1)) : NULL;
	if (d1 == NULL) {
		p = in;
		plen = len;
	} else if (d2 != NULL) {
		if (memchr(d2 + 1, '.', (size_t)(in + len - d2 - 1)) != NULL)
			return URL_E_DECODE;
		p = d1 + 1;
		plen = (size_t)(d2 - d1 - 1);
	} else {
		p = in;
		plen = (size_t)(d1 - in);
	}
	rc = url_decode_base64url(p, plen, &payload);
	if (rc == 0)
		rc = url_decode_json(payload.data, payload.len, field, out);
	buf_free(&payload);
	return rc;
}

int
url_decode(enum url_decoder kind, const char *field, const char *in, size_t len,
	   struct buf *out)
{
	switch (kind) {
	case URL_DEC_PERCENT:
		return url_decode_percent(in, len, out);
	case URL_DEC_BASE64:
		return url_decode_base64(in, len, out);
	case URL_DEC_BASE64URL:
		return url_decode_base64url(in, len, out);
	case URL_DEC_JSON:
		return url_decode_json(in, len, field ? field : "", out);
	case URL_DEC_JWT:
		return url_decode_jwt(in, len, field ? field : "", out);
	}
	return URL_E_DECODE;
}

/* ---- URLs in text ------------------------------------------------------------ */

static int
ends_url(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' || c == '`';
}

/* ASCII only: a URL right after a non-ASCII byte is usually after a
 * typographic quote or bracket, not glued to a word. */
static int
is_word(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || c == '_';
}

/* Length of a UTF-8 space at P (NBSP, U+2000..U+200B, U+2028, U+2029,
 * U+202F, U+205F, U+3000, U+FEFF), or 0. */
static size_t
utf8_space_at(const unsigned char *p, size_t left)
{
	if (left >= 2 && p[0] == 0xc2 && p[1] == 0xa0)
		return 2;
	if (left < 3)
		return 0;
	if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] <= 0x8b || p[2] == 0xa8 || p[2] == 0xa9 ||
					     p[2] == 0xaf))
		return 3;
	if ((p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) ||
	    (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) ||
	    (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf))
		return 3;
	return 0;
}

/* Closing punctuation outside ASCII that ends a sentence or quote around a
 * URL: ” ’ » › … 」 』 ） 。 、 ， ． ！ ？ */
static size_t
utf8_trailing_punct(const char *u, size_t n)
{
	static const char *const seq[] = {
		"\xe2\x80\x9d", "\xe2\x80\x99", "\xc2\xbb", "\xe2\x80\xba", "\xe2\x80\xa6",
		"\xe3\x80\x8d", "\xe3\x80\x8f", "\xef\xbc\x89", "\xe3\x80\x82", "\xe3\x80\x81",
		"\xef\xbc\x8c", "\xef\xbc\x8e", "\xef\xbc\x81", "\xef\xbc\x9f",
	};
	size_t i, l;

	for (i = 0; i < sizeof seq / sizeof seq[0]; i++) {
		l = strlen(seq[i]);
		if (n >= l && memcmp(u + n - l, seq[i], l) == 0)
			return l;
	}
	return 0;
}

/* Length of a URL start ("http://", "https://", "www.") at P, or 0. */
static size_t
url_start_at(const char *p, size_t left, unsigned *fl)
{
	if (left >= 7 && mem_eq_ci(p, "http://", 7))
		return 7;
	if (left >= 8 && mem_eq_ci(p, "https://", 8))
		return 8;
	if (left >= 4 && mem_eq_ci(p, "www.", 4)) {
		*fl |= URL_TEXT_WWW;
		return 4;
	}
	return 0;
}

/* Drop trailing punctuation and unbalanced closing brackets. */
static size_t
trim_url_end(const char *u, size_t n, size_t min)
{
	static const char open[] = "([{", close[] = ")]}";
	size_t i;
	int k, depth;

	while (n > min) {
		char c = u[n - 1];
		const char *cl = strchr(close, c);
		size_t ul = (unsigned char)c >= 0x80 ? utf8_trailing_punct(u, n) : 0;

		if (ul && n - ul >= min) {
			n -= ul;
			continue;
		}

		if (c != '\0' && strchr(".,:;!?'*", c)) {
			n--;
			continue;
		}
		if (c != '\0' && cl != NULL) {
			k = (int)(cl - close);
			depth = 0;
			for (i = 0; i < n; i++) {
				if (u[i] == open[k])
					depth++;
				else if (u[i] == close[k])
					depth--;
			}
			if (depth < 0) {
				n--;
				continue;
			}
		}
		break;
	}
	return n;
}

int
url_find_in_text(const char *text, size_t len, size_t *pos, size_t *off,
		 size_t *span_len, unsigned *flags)
{
	size_t i, j, sl, end;
	unsigned fl;

	for (i = *pos; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c != 'h' && c != 'H' && c != 'w' && c != 'W')
			continue;
		if (i > 0 && is_word((unsigned char)text[i - 1]))
			continue;
		fl = 0;
		sl = url_start_at(text + i, len - i, &fl);
		if (sl == 0)
			continue;
		if (i > 0 && text[i - 1] == '<')
			fl |= URL_TEXT_ANGLE;
		else if (i >= 5 && mem_eq_ci(text + i - 5, "<URL:", 5))
			fl |= URL_TEXT_ANGLE;
		for (j = i + sl; j < len && !ends_url((unsigned char)text[j]); j++)
			if ((unsigned char)text[j] >= 0x80 &&
			    utf8_space_at((const unsigned char *)text + j, len - j))
				break;
		end = j;
		if (fl & URL_TEXT_ANGLE) {
			if (!(j < len && text[j] == '>'))
				fl &= ~(unsigned)URL_TEXT_ANGLE;	/* no partner: plain rules */
		}
		if (!(fl & URL_TEXT_ANGLE))
			end = i + trim_url_end(text + i, j - i, sl);
		/* Needs a host character: "http://" alone is not a URL. */
		if (end - i <= sl || !(is_alpha((unsigned char)text[i + sl]) ||
				      is_digit((unsigned char)text[i + sl]) ||
				      (unsigned char)text[i + sl] >= 0x80 || text[i + sl] == '[')) {
			i = j > i ? j - 1 : i;
			continue;
		}
		*off = i;
		*span_len = end - i;
		*pos = end;
		if (flags)
			*flags = fl;
		return 1;
	}
	*pos = len;
	return 0;
}
