/* pii.c - finds a recipient's email address inside a URL, in plain,
 * percent-encoded, base64 and hashed forms.
 *
 * pii_add_recipient() turns each address into "needles" (the byte strings
 * its encodings produce) and files them in a hash table keyed by their first
 * twelve (or six) bytes, folded to lower case. pii_find() walks the URL once,
 * jumping over positions where no needle can start (a Wu-Manber skip table of
 * the needles' two-byte blocks); where one may, a bitmap of the needles'
 * first four bytes rejects most positions, and otherwise only the needles of
 * the bucket its next bytes select are compared: the cost per URL byte does
 * not grow with the number of recipients. The set is built per message and is
 * read-only while searched.
 */
#include "build-config.h"
#include "pii.h"
#include "buf.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PII_MAX_ADDRESS 320	/* longer "addresses" are not real ones: ignored */
#define NONE UINT32_MAX

/* How the neighbours of a hit are checked, so that bob@x.com does not hit
 * inside jimbob@x.com. */
enum boundary {
	BOUND_NONE,		/* hex digests: the needle is the identity */
	BOUND_TEXT,		/* plain / percent-encoded: look at the URL bytes */
	BOUND_B64STD,		/* base64: look at the decoded neighbouring bytes */
	BOUND_B64URL,
	BOUND_HEX		/* the address in hex: decode the neighbouring hex pairs */
};

struct needle {
	uint32_t off;		/* bytes in set->bytes */
	uint32_t len;
	uint32_t tail_off;	/* base64 alignment 0: the final partial character */
	uint32_t next;		/* next needle in the same bucket, or NONE */
	uint32_t recipient;
	uint16_t addr_len;	/* base64: address length in bytes */
	uint8_t kind;		/* enum pii_kind */
	uint8_t form;		/* enum pii_form */
	uint8_t nocase;
	uint8_t boundary;	/* enum boundary */
	uint8_t align;		/* base64: bytes before the address in the blob (0..2) */
	uint8_t first_char;	/* base64: stream index of the needle's first char */
	uint8_t tail_len;	/* 0 or 1 */
	uint8_t pad;		/* base64 alignment 0: number of '=' of a standalone encoding */
};

/* The skip search (see pii_find_from) looks at windows of up to WINDOW_MAX
 * bytes and hashes their last two bytes into a table of skip distances: 1 KB
 * for up to 11 needles (one recipient, one address form), 4 KB for up to
 * about 130 (a recipient has 10 to 30), growing to 64 KB for a few
 * thousand. */
#define SHIFT_BITS_MIN 10
#define SHIFT_BITS_MAX 16
#define WINDOW_MAX 16
/* Smaller windows skip too little to pay, and the probes read PII_MIN_NEEDLE
 * bytes at every position they visit: scan every position instead. */
#define SKIP_MIN PII_MIN_NEEDLE

/* The prefilter (see filter_hash()) has 2^N bits: at least 64
 * per needle, so that it still lets through only about 1 position in 1000,
 * and at most 65536. A set is built per message, nearly always for one
 * recipient (about 11 needles): the smallest filter (512 bytes) is part of
 * the set, and the set stays small enough (< 1 KB) for malloc's small bins;
 * a larger one is allocated when more needles need it. */
#define FILTER_BITS_MIN 12
#define FILTER_BITS_MAX 16

struct pii_set {
	struct needle *n;
	size_t count, cap;
	struct buf bytes;
	uint32_t *bucket;
	unsigned bits;		/* 1 << bits buckets */
	unsigned filter_shift;	/* 32 - N for a prefilter of 2^N bits */
	unsigned recipients;
	size_t short_count;	/* needles keyed by PII_MIN_NEEDLE bytes */
	size_t min_len;		/* of the needles; 0 while there are none */
	unsigned window;	/* skip search window, see window_for(); < SKIP_MIN: off */
	unsigned shift_bits;	/* 1 << shift_bits entries in shift */
	uint8_t *shift;		/* skip distances, see shift_add() */
	uint64_t *filter;	/* prefilter, see filter_hash(): small, or big */
	uint64_t small[(1u << FILTER_BITS_MIN) / 64];
};

static const char B64STD[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char *const kind_names[PII_KIND_COUNT] = {
	"plain", "percent", "percent2", "base64", "base64url", "base64pct", "md5", "sha1",
	"sha256", "hex"
};

const char *
pii_kind_name(enum pii_kind kind)
{
	return (unsigned)kind < PII_KIND_COUNT ? kind_names[kind] : "unknown";
}

static unsigned char
fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Needles are filed by a hash of their first KEY_LONG bytes, folded, or of
 * their first PII_MIN_NEEDLE bytes when shorter than KEY_LONG. A short key
 * alone lets addresses with a common start (newsletter+1@, newsletter+2@...)
 * pile up in one bucket; twelve bytes keep such chains short. */
#define KEY_LONG 12

/* For hashing only, bytes are folded by setting bit 0x20: 'A' becomes 'a'
 * (so case-insensitive needles hash alike), and a few punctuation bytes
 * collide ('@' with '`'), which costs nothing since matches are verified
 * byte by byte. Loads are memcpy of constant size: one instruction. */
#define FOLD64 0x2020202020202020ull

static uint64_t
load_folded(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	if (n == 8)
		memcpy(&v, p, 8);
	else if (n == 6)
		memcpy(&v, p, 6);
	else if (n == 4)
		memcpy(&v, p, 4);
	return v | (FOLD64 >> (64 - 8 * n));
}

static uint32_t
key_hash(const unsigned char *p, size_t n, unsigned bits)
{
	uint64_t a, b;

	if (n == KEY_LONG) {
		a = load_folded(p, 8);
		b = load_folded(p + 8, 4) + 0x100000000ull;
	} else {
		a = load_folded(p, 6);
		b = 0;
	}
	a = (a ^ (b * 0xC2B2AE3D27D4EB4Full)) * 0x9E3779B97F4A7C15ull;
	return (uint32_t)(a >> (64 - bits));
}

static size_t
key_len(size_t needle_len)
{
	return needle_len >= KEY_LONG ? KEY_LONG : PII_MIN_NEEDLE;
}

/* The prefilter: two bits per needle, at two hashes of its folded first
 * four bytes (the two halves of one product), in 2^N bits (up to
 * 65536). A position passes when both bits are set: with one recipient's
 * needles in 4096 bits about 1 in 30000 does by chance (one bit in 65536
 * let 1 in 6000 through), with a few thousand needles 1 in 130 (it was 1
 * in 20), at the cost of a second load where the first bit is set. */
static uint64_t
filter_hash(const unsigned char *p)
{
	return load_folded(p, 4) * 0x9E3779B1ull;
}

/* The two bit numbers of hash H: the top N bits of its two halves (a
 * shift each, SH = s->filter_shift). */
#define FILTER_I(h, sh)	((unsigned)((uint32_t)(h) >> (sh)))
#define FILTER_J(h, sh)	((unsigned)((uint32_t)((h) >> 32) >> (sh)))

static void
filter_set(struct pii_set *s, const unsigned char *p)
{
	uint64_t h = filter_hash(p);
	unsigned sh = s->filter_shift, fi = FILTER_I(h, sh), fj = FILTER_J(h, sh);

	s->filter[fi / 64] |= 1ull << (fi % 64);
	s->filter[fj / 64] |= 1ull << (fj % 64);
}

/* After a needle was added: a filter with fewer than 64 bits per needle
 * grows (the bits of every needle move: they are set again). Out of memory,
 * it stays as it is: still right, only less selective. */
static void
filter_update(struct pii_set *s)
{
	unsigned bits = 32 - s->filter_shift;
	uint64_t *f;
	size_t i;

	while (bits < FILTER_BITS_MAX && ((size_t)1 << bits) < s->count * 64)
		bits++;
	if (bits == 32 - s->filter_shift)
		return;
	f = calloc(((size_t)1 << bits) / 64, sizeof(*f));
	if (f == NULL)
		return;
	if (s->filter != s->small)
		free(s->filter);
	s->filter = f;
	s->filter_shift = 32 - bits;
	for (i = 0; i < s->count; i++)
		filter_set(s, (const unsigned char *)s->bytes.data + s->n[i].off);
}

/* The skip table slot of the two bytes at P, folded like the needle keys. */
static unsigned
block_index(const unsigned char *p, unsigned bits)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return ((uint32_t)(v | 0x2020u) * 0x9E3779B1u) >> (32 - bits);
}

/* Table size for COUNT needles: room for six times their blocks at the
 * largest window up to 4 KB (a recipient whose address has one form, most
 * of them, gets 1 KB: it is filled for every message), then for twice
 * their blocks, so that most slots keep the full skip. */
static unsigned
shift_bits_for(size_t count)
{
	unsigned b = SHIFT_BITS_MIN;

	while (b < 12 && ((size_t)1 << b) < count * 6 * (WINDOW_MAX - 1))
		b++;
	while (b < SHIFT_BITS_MAX && ((size_t)1 << b) < count * 2 * (WINDOW_MAX - 1))
		b++;
	return b;
}

/* The window for COUNT needles of at least MIN_LEN bytes: as long as the
 * shortest needle allows (up to WINDOW_MAX), and short enough that the table
 * of 1 << BITS slots stays at most half full (count * (window - 1) blocks). */
static unsigned
window_for(size_t count, size_t min_len, unsigned bits)
{
	size_t w = 1 + ((size_t)1 << bits) / 2 / (count ? count : 1);

	if (w > min_len)
		w = min_len;
	return w > WINDOW_MAX ? WINDOW_MAX : (unsigned)w;
}

/* Enter needle N's blocks into the skip table: a window whose last two bytes
 * are N's bytes q, q + 1 may end N's first s->window bytes (window - 2 - q
 * bytes further on), so it must not move further than that. */
static void
shift_add(struct pii_set *s, const struct needle *n)
{
	const unsigned char *b = (const unsigned char *)s->bytes.data + n->off;
	unsigned q, w = s->window;

	for (q = 0; q + 2 <= w; q++) {
		unsigned k = block_index(b + q, s->shift_bits);

		if (s->shift[k] > w - 2 - q)
			s->shift[k] = (uint8_t)(w - 2 - q);
	}
}

/* After needle N was added: keep the window and the skip table right. When
 * they change (more needles, or a shorter one), every needle is filed again;
 * that happens a few times per set. Out of memory, the search falls back to
 * visiting every position. */
static void
update_window(struct pii_set *s, const struct needle *n)
{
	unsigned bits = shift_bits_for(s->count), w;
	size_t i;

	if (s->min_len == 0 || n->len < s->min_len)
		s->min_len = n->len;
	w = window_for(s->count, s->min_len, bits);
	if (w == s->window && bits == s->shift_bits) {
		if (w >= SKIP_MIN)
			shift_add(s, n);
		return;
	}
	s->window = w;
	if (w < SKIP_MIN)
		return;
	if (bits != s->shift_bits) {
		uint8_t *t = malloc((size_t)1 << bits);

		if (t == NULL) {
			s->window = 0;
			return;
		}
		free(s->shift);
		s->shift = t;
		s->shift_bits = bits;
	}
	memset(s->shift, (int)(w - 1), (size_t)1 << bits);
	for (i = 0; i < s->count; i++)
		shift_add(s, &s->n[i]);
}

struct pii_set *
pii_new(void)
{
	struct pii_set *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->filter = s->small;
	s->filter_shift = 32 - FILTER_BITS_MIN;
	s->bits = 8;
	s->bucket = malloc(sizeof(uint32_t) << s->bits);
	if (s->bucket == NULL) {
		free(s);
		return NULL;
	}
	memset(s->bucket, 0xFF, sizeof(uint32_t) << s->bits);
	return s;
}

void
pii_free(struct pii_set *s)
{
	if (s == NULL)
		return;
	free(s->n);
	free(s->bucket);
	free(s->shift);
	if (s->filter != s->small)
		free(s->filter);
	buf_free(&s->bytes);
	free(s);
}

unsigned
pii_recipient_count(const struct pii_set *s)
{
	return s ? s->recipients : 0;
}

size_t
pii_needle_count(const struct pii_set *s)
{
	return s ? s->count : 0;
}

static const unsigned char *
needle_bytes(const struct pii_set *s, const struct needle *n)
{
	return (const unsigned char *)s->bytes.data + n->off;
}

static int
bytes_equal(const unsigned char *a, const unsigned char *b, size_t len, int nocase)
{
	size_t i;

	if (!nocase)
		return memcmp(a, b, len) == 0;
	for (i = 0; i < len; i++)
		if (fold(a[i]) != fold(b[i]))
			return 0;
	return 1;
}

/* Double the bucket table when it gets half full. */
static int
grow_buckets(struct pii_set *s)
{
	unsigned bits = s->bits + 1;
	uint32_t *b = malloc(sizeof(uint32_t) << bits);
	size_t i;

	if (b == NULL)
		return -1;
	memset(b, 0xFF, sizeof(uint32_t) << bits);
	free(s->bucket);
	s->bucket = b;
	s->bits = bits;
	/* refile in reverse so that chains keep insertion order */
	for (i = s->count; i-- > 0;) {
		uint32_t h = key_hash(needle_bytes(s, &s->n[i]), key_len(s->n[i].len), bits);

		s->n[i].next = b[h];
		b[h] = (uint32_t)i;
	}
	return 0;
}

/* File needle *proto with bytes P[0, LEN) unless an equal needle exists.
 * Returns 0 (added or duplicate or too short) or -1 (out of memory). */
static int
add_needle(struct pii_set *s, const struct needle *proto, const char *p, size_t len,
    const char *tail, size_t tail_len)
{
	struct needle *n;
	uint32_t h, k;

	if (len < PII_MIN_NEEDLE || len > UINT32_MAX / 2)
		return 0;
	h = key_hash((const unsigned char *)p, key_len(len), s->bits);
	for (k = s->bucket[h]; k != NONE; k = s->n[k].next) {
		const struct needle *o = &s->n[k];

		if (o->len == len && o->nocase == proto->nocase &&
		    bytes_equal(needle_bytes(s, o), (const unsigned char *)p, len, proto->nocase))
			return 0;
	}
	if ((s->count + 1) * 2 > ((size_t)1 << s->bits) && s->bits < 24) {
		if (grow_buckets(s) < 0)
			return -1;
		h = key_hash((const unsigned char *)p, key_len(len), s->bits);
	}
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct needle *nn = realloc(s->n, cap * sizeof(*nn));

		if (nn == NULL)
			return -1;
		s->n = nn;
		s->cap = cap;
	}
	n = &s->n[s->count];
	*n = *proto;
	n->off = (uint32_t)s->bytes.len;
	n->len = (uint32_t)len;
	if (buf_append(&s->bytes, p, len) < 0)
		return -1;
	n->tail_off = (uint32_t)s->bytes.len;
	n->tail_len = (uint8_t)tail_len;
	if (tail_len && buf_append(&s->bytes, tail, tail_len) < 0)
		return -1;
	n->next = s->bucket[h];
	s->bucket[h] = (uint32_t)s->count;
	if (len < KEY_LONG)
		s->short_count++;
	s->count++;
	filter_set(s, (const unsigned char *)p);
	filter_update(s);
	update_window(s, n);
	return 0;
}

/* ---- encodings ------------------------------------------------------------- */

static int
unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encode A into OUT: every reserved byte, or only `@` with AT_ONLY;
 * DOUBLE writes %25XX. OUT must hold 5 * strlen(a) + 1 bytes. */
static size_t
percent_encode(const char *a, char *out, int at_only, int twice)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *a; a++) {
		unsigned char c = (unsigned char)*a;

		if (unreserved(c) || (at_only && c != '@')) {
			out[n++] = (char)c;
			continue;
		}
		out[n++] = '%';
		if (twice) {
			out[n++] = '2';
			out[n++] = '5';
		}
		out[n++] = hex[c >> 4];
		out[n++] = hex[c & 15];
	}
	out[n] = '\0';
	return n;
}

/* Lower-case hex of IN[0, LEN) into OUT (2 * len + 1). */
static size_t
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
	return 2 * len;
}

/* Standard base64 of IN[0, LEN) without padding into OUT (4 * len / 3 + 4). */
static size_t
base64_encode(const unsigned char *in, size_t len, char *out)
{
	size_t i, n = 0;
	uint32_t v;

	for (i = 0; i + 3 <= len; i += 3) {
		v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
		out[n++] = B64STD[(v >> 18) & 63];
		out[n++] = B64STD[(v >> 12) & 63];
		out[n++] = B64STD[(v >> 6) & 63];
		out[n++] = B64STD[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[n++] = B64STD[(v >> 18) & 63];
		out[n++] = B64STD[(v >> 12) & 63];
	} else if (len - i == 2) {
		v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
		out[n++] = B64STD[(v >> 18) & 63];
		out[n++] = B64STD[(v >> 12) & 63];
		out[n++] = B64STD[(v >> 6) & 63];
	}
	out[n] = '\0';
	return n;
}

static void
to_urlsafe(char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] == '+')
			p[i] = '-';
		else if (p[i] == '/')
			p[i] = '_';
}

/* Standard base64 with + / percent-encoded; OUT holds 3 * n + 1. */
static size_t
to_b64pct(const char *p, size_t n, char *out)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '+' || p[i] == '/') {
			out[k++] = '%';
			out[k++] = '2';
			out[k++] = p[i] == '+' ? 'B' : 'F';
		} else {
			out[k++] = p[i];
		}
	}
	out[k] = '\0';
	return k;
}

/* The three base64 alphabets' needles of address A at alignment ALIGN. */
static int
add_base64(struct pii_set *s, struct needle *proto, const char *a, size_t alen, unsigned align)
{
	unsigned char in[PII_MAX_ADDRESS + 2];
	char enc[(PII_MAX_ADDRESS + 2) * 4 / 3 + 8];
	char pct[sizeof(enc) * 3];
	size_t elen, i0, i1, n, tail_len, plen;
	char tail[4];

	memset(in, 0, align);
	memcpy(in + align, a, alen);
	elen = base64_encode(in, alen + align, enc);
	/* chars that depend only on address bits: bits [8*align, 8*(align+alen)) */
	i0 = (8 * align + 5) / 6;
	i1 = 8 * (align + alen) / 6;
	if (i1 <= i0)
		return 0;
	n = i1 - i0;
	tail_len = 0;
	if (align == 0 && elen > i1) {
		tail[0] = enc[i1];
		tail_len = 1;
	}
	proto->align = (uint8_t)align;
	proto->first_char = (uint8_t)i0;
	proto->addr_len = (uint16_t)alen;
	proto->pad = align == 0 ? (uint8_t)((3 - alen % 3) % 3) : 0;
	proto->nocase = 0;

	proto->kind = PII_BASE64;
	proto->boundary = BOUND_B64STD;
	if (add_needle(s, proto, enc + i0, n, tail, tail_len) < 0)
		return -1;

	plen = to_b64pct(enc + i0, n, pct);
	if (plen != n) {
		char tpct[4];
		size_t tl = tail_len ? to_b64pct(tail, 1, tpct) : 0;

		proto->kind = PII_BASE64PCT;
		proto->boundary = BOUND_NONE;
		proto->tail_len = 0;
		if (add_needle(s, proto, pct, plen, tpct, tl) < 0)
			return -1;
	}

	to_urlsafe(enc, elen);
	if (tail_len)
		to_urlsafe(tail, 1);
	proto->kind = PII_BASE64URL;
	proto->boundary = BOUND_B64URL;
	return add_needle(s, proto, enc + i0, n, tail, tail_len);
}

/* With OpenSSL 3, EVP_md5() and friends make every EVP_Digest() look the
 * algorithm up again (an implicit fetch that costs more than hashing a short
 * address); fetch each once per process instead. Falls back to the legacy
 * handles if a fetch fails. */
static pthread_once_t digests_once = PTHREAD_ONCE_INIT;
static const EVP_MD *md_md5, *md_sha1, *md_sha256;

static void
digests_fetch(void)
{
	md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (md_md5 == NULL)
		md_md5 = EVP_md5();
	if (md_sha1 == NULL)
		md_sha1 = EVP_sha1();
	if (md_sha256 == NULL)
		md_sha256 = EVP_sha256();
}

/* OpenSSL 3's EVP_Digest() allocates a context, initialises it, hashes and
 * frees it again: for a 20-byte address that setup costs more than the
 * hashing. Each thread keeps one context per algorithm instead (a context
 * re-initialised with the digest it already has keeps its provider state),
 * freed with the thread. Only the calling thread ever touches them. */
enum { DIG_MD5, DIG_SHA1, DIG_SHA256, DIG_COUNT };

static pthread_key_t dctx_key;
static pthread_once_t dctx_once = PTHREAD_ONCE_INIT;
static int dctx_key_ok;

static void
dctx_free(void *p)
{
	EVP_MD_CTX **c = p;
	int i;

	for (i = 0; i < DIG_COUNT; i++)
		EVP_MD_CTX_free(c[i]);
	free(c);
}

static void
dctx_init(void)
{
	dctx_key_ok = pthread_key_create(&dctx_key, dctx_free) == 0;
}

/* The calling thread's context for digest WHICH, or NULL (then the caller
 * falls back to EVP_Digest). */
static EVP_MD_CTX *
thread_digest_ctx(int which)
{
	EVP_MD_CTX **c;

	pthread_once(&dctx_once, dctx_init);
	if (!dctx_key_ok)
		return NULL;
	c = pthread_getspecific(dctx_key);
	if (c == NULL) {
		c = calloc(DIG_COUNT, sizeof(*c));
		if (c == NULL)
			return NULL;
		if (pthread_setspecific(dctx_key, c) != 0) {
			free(c);
			return NULL;
		}
	}
	if (c[which] == NULL)
		c[which] = EVP_MD_CTX_new();
	return c[which];
}

/* D = digest MD of A[0, ALEN); 1, or 0 when the digest is unavailable. */
static int
digest(const EVP_MD *md, int which, const char *a, size_t alen, unsigned char *d,
    unsigned int *dlen)
{
	EVP_MD_CTX *ctx = thread_digest_ctx(which);

	if (ctx == NULL)
		return EVP_Digest(a, alen, d, dlen, md, NULL) == 1;
	return EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, a, alen) == 1 &&
	    EVP_DigestFinal_ex(ctx, d, dlen) == 1;
}

static int
add_hash(struct pii_set *s, struct needle *proto, const char *a, size_t alen,
    const EVP_MD *md, int which, enum pii_kind kind)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[EVP_MAX_MD_SIZE];
	char out[2 * EVP_MAX_MD_SIZE];
	unsigned int dlen = 0, i;

	if (md == NULL || !digest(md, which, a, alen, d, &dlen))
		return 0;	/* digest unavailable (FIPS): nothing to search */
	for (i = 0; i < dlen; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	proto->kind = (uint8_t)kind;
	proto->boundary = BOUND_NONE;
	proto->nocase = 1;
	return add_needle(s, proto, out, 2 * (size_t)dlen, NULL, 0);
}

/* Every needle of one address form. */
static int
add_form(struct pii_set *s, unsigned rcpt, const char *a, enum pii_form form)
{
	struct needle proto;
	char enc[5 * PII_MAX_ADDRESS + 1];
	size_t alen = strlen(a), n;
	unsigned align;

	memset(&proto, 0, sizeof(proto));
	proto.recipient = rcpt;
	proto.form = (uint8_t)form;

	if (form != PII_FORM_LOWER) {
		/* text forms are matched case-insensitively: L adds nothing */
		proto.nocase = 1;
		proto.boundary = BOUND_TEXT;
		proto.kind = PII_PLAIN;
		if (add_needle(s, &proto, a, alen, NULL, 0) < 0)
			return -1;
		proto.kind = PII_PERCENT;
		n = percent_encode(a, enc, 0, 0);
		if (add_needle(s, &proto, enc, n, NULL, 0) < 0)
			return -1;
		n = percent_encode(a, enc, 1, 0);
		if (add_needle(s, &proto, enc, n, NULL, 0) < 0)
			return -1;
		proto.kind = PII_PERCENT2;
		n = percent_encode(a, enc, 0, 1);
		if (add_needle(s, &proto, enc, n, NULL, 0) < 0)
			return -1;
		proto.kind = PII_HEX;
		proto.boundary = BOUND_HEX;
		n = hex_encode((const unsigned char *)a, alen, enc);
		if (add_needle(s, &proto, enc, n, NULL, 0) < 0)
			return -1;
	}
	for (align = 0; align < 3; align++)
		if (add_base64(s, &proto, a, alen, align) < 0)
			return -1;
	proto.align = proto.first_char = proto.pad = 0;
	proto.addr_len = 0;
	pthread_once(&digests_once, digests_fetch);
	if (add_hash(s, &proto, a, alen, md_md5, DIG_MD5, PII_MD5) < 0 ||
	    add_hash(s, &proto, a, alen, md_sha1, DIG_SHA1, PII_SHA1) < 0 ||
	    add_hash(s, &proto, a, alen, md_sha256, DIG_SHA256, PII_SHA256) < 0)
		return -1;
	return 0;
}

int
pii_add_recipient(struct pii_set *s, const char *original, const char *normalised)
{
	char lowered[PII_MAX_ADDRESS + 1];
	size_t i, olen;
	unsigned rcpt;

	if (s == NULL)
		return -1;
	if (original == NULL || *original == '\0')
		original = normalised;
	if (normalised == NULL || *normalised == '\0')
		normalised = original;
	rcpt = s->recipients++;
	if (original == NULL)
		return 0;
	olen = strlen(original);
	if (olen > PII_MAX_ADDRESS || strlen(normalised) > PII_MAX_ADDRESS)
		return 0;
	for (i = 0; i <= olen; i++)
		lowered[i] = (char)fold((unsigned char)original[i]);
	/* A form equal to one added before would only produce needles equal
	 * to that one's, which add_needle() drops as duplicates (the earlier
	 * form keeps the hit): skip its encodings and digests. Most addresses
	 * are lower case without a subaddress, so all three are one. */
	if (add_form(s, rcpt, normalised, PII_FORM_NORMALISED) < 0)
		return -1;
	if (strcmp(original, normalised) != 0 &&
	    add_form(s, rcpt, original, PII_FORM_ORIGINAL) < 0)
		return -1;
	if (strcmp(lowered, normalised) != 0 && strcmp(lowered, original) != 0 &&
	    add_form(s, rcpt, lowered, PII_FORM_LOWER) < 0)
		return -1;
	return 0;
}

/* ---- boundaries -------------------------------------------------------------- */

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = fold(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int
is_local_char(int c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '+' || c == '-';
}

/* Is U[P, P+3) a %XX escape? */
static int
is_pct(const unsigned char *u, size_t len, size_t p)
{
	return p + 3 <= len && u[p] == '%' && hexval(u[p + 1]) >= 0 && hexval(u[p + 2]) >= 0;
}

static int
pct_value(const unsigned char *u, size_t p)
{
	return hexval(u[p + 1]) * 16 + hexval(u[p + 2]);
}

/* The URL byte that ends right before P, decoded from %XX or a double-encoded
 * %25XX; -1 at the start. */
static int
text_byte_before(const unsigned char *u, size_t p)
{
	if (p >= 5 && u[p - 5] == '%' && u[p - 4] == '2' && u[p - 3] == '5' &&
	    hexval(u[p - 2]) >= 0 && hexval(u[p - 1]) >= 0)
		return hexval(u[p - 2]) * 16 + hexval(u[p - 1]);
	if (p >= 3 && is_pct(u, p, p - 3))
		return pct_value(u, p - 3);
	return p >= 1 ? u[p - 1] : -1;
}

/* The URL byte at P, decoded from %XX or %25XX; *next gets the position
 * after it. */
static int
text_byte_at(const unsigned char *u, size_t len, size_t p, size_t *next)
{
	if (p >= len)
		return -1;
	if (is_pct(u, len, p)) {
		if (u[p + 1] == '2' && u[p + 2] == '5' && p + 5 <= len &&
		    hexval(u[p + 3]) >= 0 && hexval(u[p + 4]) >= 0) {
			*next = p + 5;
			return hexval(u[p + 3]) * 16 + hexval(u[p + 4]);
		}
		*next = p + 3;
		return pct_value(u, p);
	}
	*next = p + 1;
	return u[p];
}

/* Does a domain go on with B1 B2 (the two bytes after the hit)? */
static int
domain_continues(int b1, int b2)
{
	if (b1 < 0)
		return 0;
	if (is_alnum(b1) || b1 == '-')
		return 1;
	return b1 == '.' && b2 >= 0 && is_alnum(b2);
}

static int
text_boundary_ok(const unsigned char *u, size_t len, size_t start, size_t end)
{
	int before = text_byte_before(u, start), b1, b2 = -1;
	size_t nx = end;

	if (before >= 0 && is_local_char(before))
		return 0;
	b1 = text_byte_at(u, len, end, &nx);
	if (b1 >= 0)
		b2 = text_byte_at(u, len, nx, &nx);
	return !domain_continues(b1, b2);
}

/* Value of a base64 letter or digit, -1 otherwise. The two special
 * characters (+ / or - _) also serve as URL separators, so they are not
 * trusted as blob content: a hit next to them is taken as a boundary. */
static int
b64_alnum_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return -1;
}

static long
floor_div6(long b)
{
	return b >= 0 ? b / 6 : -((-b + 5) / 6);
}

/* Decode the byte at bit offset BIT of the base64 stream whose character 0
 * sits at URL position BASE (may be negative). -1 when not decodable. */
static int
b64_byte(const unsigned char *u, size_t len, long base, long bit)
{
	int v = 0, k;

	for (k = 0; k < 8; k++) {
		long b = bit + k, ci = floor_div6(b), pos = base + ci;
		int cv;

		if (pos < 0 || (size_t)pos >= len)
			return -1;
		cv = b64_alnum_value(u[pos]);
		if (cv < 0)
			return -1;
		v = (v << 1) | ((cv >> (5 - (int)(b - ci * 6))) & 1);
	}
	return v;
}

static int
b64_boundary_ok(const struct needle *n, const unsigned char *u, size_t len, size_t start)
{
	long base = (long)start - n->first_char;
	long first = 8L * n->align, after = 8L * (n->align + n->addr_len);
	int before = b64_byte(u, len, base, first - 8);
	int b1 = b64_byte(u, len, base, after), b2 = -1;

	if (before >= 0 && is_local_char(before))
		return 0;
	if (b1 >= 0)
		b2 = b64_byte(u, len, base, after + 8);
	return !domain_continues(b1, b2);
}

/* The byte written as two hex digits at U[P, P+2), or -1. */
static int
hex_pair(const unsigned char *u, size_t len, size_t p)
{
	if (p + 2 > len || hexval(u[p]) < 0 || hexval(u[p + 1]) < 0)
		return -1;
	return hexval(u[p]) * 16 + hexval(u[p + 1]);
}

static int
hex_boundary_ok(const unsigned char *u, size_t len, size_t start, size_t end)
{
	int before = start >= 2 ? hex_pair(u, len, start - 2) : -1;
	int b1 = hex_pair(u, len, end), b2 = b1 >= 0 ? hex_pair(u, len, end + 2) : -1;

	if (before >= 0 && is_local_char(before))
		return 0;
	return !domain_continues(b1, b2);
}

/* Alignment 0: extend END over the final partial character and padding of
 * a standalone encoding, when they are there. */
static size_t
b64_extend(const struct pii_set *s, const struct needle *n, const unsigned char *u, size_t len,
    size_t end)
{
	const unsigned char *t = (const unsigned char *)s->bytes.data + n->tail_off;
	unsigned pads = 0;

	if (n->align != 0)
		return end;
	if (n->tail_len) {
		if (len - end < n->tail_len || memcmp(u + end, t, n->tail_len) != 0)
			return end;
		end += n->tail_len;
	}
	while (pads < n->pad) {
		if (end < len && u[end] == '=')
			end++;
		else if (len - end >= 3 && u[end] == '%' && u[end + 1] == '3' &&
		    fold(u[end + 2]) == 'd')
			end += 3;
		else
			break;
		pads++;
	}
	return end;
}

/* ---- search ------------------------------------------------------------------- */

/* Does needle N match at URL position I? Sets *end. */
static int
match_at(const struct pii_set *s, const struct needle *n, const unsigned char *u, size_t len,
    size_t i, size_t *end)
{
	if (n->len > len - i || !bytes_equal(u + i, needle_bytes(s, n), n->len, n->nocase))
		return 0;
	*end = i + n->len;
	switch (n->boundary) {
	case BOUND_TEXT:
		return text_boundary_ok(u, len, i, *end);
	case BOUND_HEX:
		return hex_boundary_ok(u, len, i, *end);
	case BOUND_B64STD:
	case BOUND_B64URL:
		if (!b64_boundary_ok(n, u, len, i))
			return 0;
		*end = b64_extend(s, n, u, len, *end);
		return 1;
	default:
		if (n->kind == PII_BASE64PCT)
			*end = b64_extend(s, n, u, len, *end);
		return 1;
	}
}

/* The longest needle of chain K that matches at I (NULL if none). */
static const struct needle *
scan_bucket(const struct pii_set *s, uint32_t k, const unsigned char *u, size_t len, size_t i,
    size_t *best_end)
{
	const struct needle *best = NULL;
	size_t end;

	for (; k != NONE; k = s->n[k].next) {
		const struct needle *n = &s->n[k];

		if (match_at(s, n, u, len, i, &end) && end > *best_end) {
			best = n;
			*best_end = end;
		}
	}
	return best;
}

/* Does the prefilter F (s->filter, SH its s->filter_shift) let position P
 * through? The search loads both once, not at every position; nearly every
 * position stops at the first bit. */
static inline __attribute__((always_inline)) int
filter_pass(const uint64_t *f, unsigned sh, const unsigned char *p)
{
	uint64_t h = filter_hash(p);
	unsigned fi = FILTER_I(h, sh), fj;

	if ((f[fi / 64] & (1ull << (fi % 64))) == 0)
		return 0;
	fj = FILTER_J(h, sh);
	return (f[fj / 64] & (1ull << (fj % 64))) != 0;
}

/* The longest needle that matches at I, if any: 1 and *HIT filled, or 0. */
static int
probe(const struct pii_set *s, const unsigned char *u, size_t len, size_t i,
    struct pii_hit *hit)
{
	const struct needle *best = NULL;
	size_t best_end = 0;

	/* two probes: long needles by 12 bytes, short ones by 6 */
	if (len - i >= KEY_LONG)
		best = scan_bucket(s, s->bucket[key_hash(u + i, KEY_LONG, s->bits)], u, len, i,
		    &best_end);
	if (s->short_count > 0) {
		size_t e2 = 0;
		const struct needle *b2 = scan_bucket(s,
		    s->bucket[key_hash(u + i, PII_MIN_NEEDLE, s->bits)], u, len, i, &e2);

		if (b2 != NULL && e2 > best_end) {
			best = b2;
			best_end = e2;
		}
	}
	if (best == NULL)
		return 0;
	hit->start = i;
	hit->end = best_end;
	hit->kind = (enum pii_kind)best->kind;
	hit->form = (enum pii_form)best->form;
	hit->recipient = best->recipient;
	return 1;
}

/* Positions are visited in order, so the first one probe() accepts is the
 * first hit. The skip search (Wu and Manber's, with two-byte blocks) jumps
 * over positions where no needle can start: for a window of W bytes at I, a
 * needle starting at J in [I, I + W - 2] would put two of its first W bytes
 * at the window's end, and the table holds for those two bytes (folded and
 * hashed: collisions only shorten jumps) a jump of at most J - I. Every
 * needle is at least W bytes long, so no needle fits in the last W - 1
 * positions either. */
int
pii_find_from(const struct pii_set *s, const char *url, size_t len, size_t from,
    struct pii_hit *hit)
{
	const unsigned char *u = (const unsigned char *)url;
	const uint8_t *shift;
	const uint64_t *filter;
	unsigned bits, fsh;
	size_t i, w;

	if (s == NULL || s->count == 0 || url == NULL || len < PII_MIN_NEEDLE)
		return 0;
	filter = s->filter;
	fsh = s->filter_shift;
	w = s->window;
	if (w < SKIP_MIN) {
		for (i = from; i + PII_MIN_NEEDLE <= len; i++)
			if (filter_pass(filter, fsh, u + i) && probe(s, u, len, i, hit))
				return 1;
		return 0;
	}
	shift = s->shift;
	bits = s->shift_bits;
	/* A window can be shorter than PII_MIN_NEEDLE (4 or 5 bytes for sets of
	 * about 6500 to 11000 needles), but probe() reads PII_MIN_NEEDLE bytes
	 * and no needle is shorter: stop where fewer are left. */
	for (i = from; i + w <= len && i + PII_MIN_NEEDLE <= len;) {
		unsigned sh = shift[block_index(u + i + w - 2, bits)];

		if (sh > 0) {
			i += sh;
			continue;
		}
		if (filter_pass(filter, fsh, u + i) && probe(s, u, len, i, hit))
			return 1;
		i++;
	}
	return 0;
}

int
pii_find(const struct pii_set *s, const char *url, size_t len, struct pii_hit *hit)
{
	return pii_find_from(s, url, len, 0, hit);
}
