/* test_pii.c - unit tests of the recipient-address detector: every
 * encoding with its exact span, alignments, alphabets, false-positive traps
 * and a 100-recipient set. Expected encodings are computed here with
 * OpenSSL's own base64 and digests, independently of pii.c. */
#include "build-config.h"
#include "tap.h"
#include "pii.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Standard base64 with padding (OpenSSL). */
static void
b64(const char *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)n);
}

static void
strip_pad(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '=')
		s[--n] = '\0';
}

static void
urlsafe(char *s)
{
	for (; *s; s++)
		if (*s == '+')
			*s = '-';
		else if (*s == '/')
			*s = '_';
}

static void
hexdigest(const EVP_MD *md, const char *in, char *out, int upper)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n, i;

	ck_assert_int_eq(EVP_Digest(in, strlen(in), d, &n, md, NULL), 1);
	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, upper ? "%02X" : "%02x", d[i]);
}

static struct pii_set *
set_of(const char *original, const char *normalised)
{
	struct pii_set *s = pii_new();

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(pii_add_recipient(s, original, normalised), 0);
	return s;
}

/* Expect exactly one hit: NEEDLE at its first occurrence in URL, of KIND. */
static void
expect_hit(const struct pii_set *s, const char *url, const char *needle, enum pii_kind kind)
{
	struct pii_hit h;
	const char *p = strstr(url, needle);
	size_t start;

	ck_assert_msg(p != NULL, "test bug: %s not in %s", needle, url);
	start = (size_t)(p - url);
	ck_assert_msg(pii_find(s, url, strlen(url), &h) == 1, "no hit in %s", url);
	ck_assert_msg(h.start == start && h.end == start + strlen(needle),
	    "span [%zu,%zu) '%.*s', expected '%s' in %s", h.start, h.end,
	    (int)(h.end - h.start), url + h.start, needle, url);
	ck_assert_msg(h.kind == kind, "kind %s, expected %s", pii_kind_name(h.kind),
	    pii_kind_name(kind));
	ck_assert_int_eq(pii_find_from(s, url, strlen(url), h.end, &h), 0);
}

static void
expect_none(const struct pii_set *s, const char *url)
{
	struct pii_hit h;

	ck_assert_msg(pii_find(s, url, strlen(url), &h) == 0, "false hit '%.*s' (%s) in %s",
	    (int)(h.end - h.start), url + h.start, pii_kind_name(h.kind), url);
}

START_TEST(plain)
{
	struct pii_set *s = set_of("Bob.Smith+News@Example.COM", "bob.smith@example.com");
	struct pii_hit h;

	expect_hit(s, "https://t.example/o?e=bob.smith@example.com&x=1", "bob.smith@example.com",
	    PII_PLAIN);
	expect_hit(s, "https://t.example/u/BOB.SMITH@EXAMPLE.COM/open.gif",
	    "BOB.SMITH@EXAMPLE.COM", PII_PLAIN);
	expect_hit(s, "https://t.example/o?e=Bob.Smith+News@Example.COM",
	    "Bob.Smith+News@Example.COM", PII_PLAIN);
	ck_assert_int_eq(pii_find(s, "x=bob.smith@example.com", 23, &h), 1);
	ck_assert_int_eq(h.form, PII_FORM_NORMALISED);
	ck_assert_uint_eq(h.recipient, 0);
	ck_assert_str_eq(pii_kind_name(h.kind), "plain");
	pii_free(s);
}
END_TEST

START_TEST(percent)
{
	struct pii_set *s = set_of("Bob+News@Example.com", "bob@example.com");

	expect_hit(s, "https://t.example/o?e=bob%40example.com", "bob%40example.com",
	    PII_PERCENT);
	expect_hit(s, "https://t.example/o?e=bob%2Bnews%40example.com&z",
	    "bob%2Bnews%40example.com", PII_PERCENT);
	expect_hit(s, "https://t.example/o?e=BOB%2bNEWS%40EXAMPLE.COM",
	    "BOB%2bNEWS%40EXAMPLE.COM", PII_PERCENT);
	expect_hit(s, "https://t.example/o?e=bob+news%40example.com", "bob+news%40example.com",
	    PII_PERCENT);
	expect_hit(s, "https://t.example/r?u=https%3A%2F%2Fx%2F%3Fe%3Dbob%2540example.com",
	    "bob%2540example.com", PII_PERCENT2);
	expect_hit(s, "https://t.example/r?u=https%253A%252F%252Fx%252F%253Fe%253Dbob%2540example.com",
	    "bob%2540example.com", PII_PERCENT2);
	expect_none(s, "https://t.example/r?u=x%253Fe%253Djim%252Bbob%2540example.com");
	expect_none(s, "https://t.example/r?u=x%3Fe%3Djim%2Bbob%40example.com");
	expect_none(s, "https://t.example/r?u=x%3Fe%3Dbob%40example.com%2Eevil.org");
	pii_free(s);
}
END_TEST

START_TEST(base64_standalone)
{
	/* 16 bytes: the standard encoding has a '+' and two '=' */
	const char *addr = "jo~e@example.org";
	struct pii_set *s = set_of(addr, addr);
	char enc[64], url[256], nopad[64], safe[64], pct[128];
	size_t i, k;

	b64(addr, strlen(addr), enc);
	ck_assert_str_eq(enc, "am9+ZUBleGFtcGxlLm9yZw==");
	snprintf(url, sizeof(url), "https://t.example/o?d=%s&x=1", enc);
	expect_hit(s, url, enc, PII_BASE64);

	strcpy(nopad, enc);
	strip_pad(nopad);
	snprintf(url, sizeof(url), "https://t.example/o/%s/p.gif", nopad);
	expect_hit(s, url, nopad, PII_BASE64);

	strcpy(safe, nopad);
	urlsafe(safe);
	snprintf(url, sizeof(url), "https://t.example/o?d=%s", safe);
	expect_hit(s, url, safe, PII_BASE64URL);
	strcpy(safe, enc);
	urlsafe(safe);
	snprintf(url, sizeof(url), "https://t.example/o?d=%s&y", safe);
	expect_hit(s, url, safe, PII_BASE64URL);

	for (i = k = 0; enc[i]; i++) {
		if (enc[i] == '+')
			k += (size_t)sprintf(pct + k, "%%2B");
		else if (enc[i] == '=')
			k += (size_t)sprintf(pct + k, "%%3D");
		else
			pct[k++] = enc[i];
	}
	pct[k] = '\0';
	snprintf(url, sizeof(url), "https://t.example/o?d=%s", pct);
	expect_hit(s, url, pct, PII_BASE64PCT);
	pii_free(s);
}
END_TEST

/* The address inside a longer base64 blob, at each of the three byte
 * alignments, in both alphabets: the hit covers exactly the characters
 * that encode only address bits. */
START_TEST(base64_in_blob)
{
	const char *addr = "~~~@example.org";	/* a '+' in every alignment */
	static const char *prefix[] = { "id=", "{\"e\":\"", "u=" };	/* 3, 6, 2 bytes */
	static const char *pfx_any[] = { "=", "v1|id=", "a:b:" };	/* 1, 6, 4 bytes */
	struct pii_set *s = set_of(addr, addr);
	size_t n = strlen(addr);
	int round, safe;

	for (round = 0; round < 6; round++) {
		const char *pre = round < 3 ? prefix[round] : pfx_any[round - 3];
		char blob[256], enc[512], url[600], needle[512];
		size_t pl = strlen(pre), p = pl % 3, i0, i1, base;

		snprintf(blob, sizeof(blob), "%s%s|more=data", pre, addr);
		b64(blob, strlen(blob), enc);
		base = pl / 3 * 4;	/* the address's 3-byte group starts here */
		i0 = (8 * p + 5) / 6;
		i1 = 8 * (p + n) / 6;
		for (safe = 0; safe < 2; safe++) {
			char e2[512];

			strcpy(e2, enc);
			if (safe) {
				urlsafe(e2);
				strip_pad(e2);
			}
			memcpy(needle, e2 + base + i0, i1 - i0);
			needle[i1 - i0] = '\0';
			snprintf(url, sizeof(url), "https://t.example/c?t=%s&s=2", e2);
			ck_assert_msg(strchr(needle, safe ? '-' : '+') != NULL,
			    "test bug: alphabet not exercised");
			expect_hit(s, url, needle, safe ? PII_BASE64URL : PII_BASE64);
		}
	}
	pii_free(s);
}
END_TEST

START_TEST(hashes)
{
	const char *orig = "Bob+News@Example.com", *norm = "bob@example.com";
	const char *lower = "bob+news@example.com";
	struct pii_set *s = set_of(orig, norm);
	struct {
		const EVP_MD *md;
		enum pii_kind kind;
	} h[3];
	const char *forms[3] = { orig, norm, lower };
	enum pii_form fkind[3] = { PII_FORM_ORIGINAL, PII_FORM_NORMALISED, PII_FORM_LOWER };
	int i, f, up;

	h[0].md = EVP_md5();
	h[0].kind = PII_MD5;
	h[1].md = EVP_sha1();
	h[1].kind = PII_SHA1;
	h[2].md = EVP_sha256();
	h[2].kind = PII_SHA256;
	for (i = 0; i < 3; i++)
		for (f = 0; f < 3; f++)
			for (up = 0; up < 2; up++) {
				char hex[2 * EVP_MAX_MD_SIZE + 1], url[256];
				struct pii_hit hit;

				hexdigest(h[i].md, forms[f], hex, up);
				snprintf(url, sizeof(url), "https://t.example/o/%s.gif?c=9", hex);
				expect_hit(s, url, hex, h[i].kind);
				ck_assert_int_eq(pii_find(s, url, strlen(url), &hit), 1);
				ck_assert_int_eq(hit.form, fkind[f]);
			}
	/* MD5 of another capitalisation is another value: not a hit */
	{
		char hex[64], url[128];

		hexdigest(EVP_md5(), "BOB@EXAMPLE.COM", hex, 0);
		snprintf(url, sizeof(url), "https://t.example/o/%s.gif", hex);
		expect_none(s, url);
	}
	ck_assert_str_eq(pii_kind_name(PII_SHA256), "sha256");
	ck_assert_str_eq(pii_kind_name(PII_MD5), "md5");
	pii_free(s);
}
END_TEST

START_TEST(hex_address)
{
	struct pii_set *s = set_of("Bob@Example.com", "bob@example.com");

	/* "bob@example.com" */
	expect_hit(s, "https://t.example/o?h=626f62406578616d706c652e636f6d&x",
	    "626f62406578616d706c652e636f6d", PII_HEX);
	expect_hit(s, "https://t.example/o/426F62404578616D706C652E636F6D.gif",
	    "426F62404578616D706C652E636F6D", PII_HEX);
	/* "jimbob@example.com" and "bob@example.community" in hex */
	expect_none(s, "https://t.example/o?h=6a696d626f62406578616d706c652e636f6d");
	expect_none(s, "https://t.example/o?h=626f62406578616d706c652e636f6d6d756e697479");
	ck_assert_str_eq(pii_kind_name(PII_HEX), "hex");
	pii_free(s);
}
END_TEST

START_TEST(no_false_positives)
{
	struct pii_set *s = set_of("bob@example.com", "bob@example.com");
	char enc[128], url[256];

	expect_none(s, "https://t.example/o?e=jimbob@example.com");
	expect_none(s, "https://t.example/o?e=jim.bob@example.com");
	expect_none(s, "https://t.example/o?e=jim%2Bbob%40example.com");
	expect_none(s, "https://t.example/o?e=bob@example.com.evil.org");
	expect_none(s, "https://t.example/o?e=bob@example.community");
	expect_none(s, "https://t.example/o?e=bob@example.co");
	expect_none(s, "https://t.example/o?e=rob@example.com");
	expect_none(s, "https://example.com/bob/index.html");
	b64("jimbob@example.com", 18, enc);
	snprintf(url, sizeof(url), "https://t.example/o?d=%s", enc);
	expect_none(s, url);
	b64("x=bob@example.community", 23, enc);
	snprintf(url, sizeof(url), "https://t.example/o?d=%s", enc);
	expect_none(s, url);
	/* ... while the same address at a boundary is found */
	b64("x=bob@example.com;", 18, enc);
	snprintf(url, sizeof(url), "https://t.example/o?d=%s", enc);
	ck_assert_int_eq(pii_find(s, url, strlen(url), &(struct pii_hit){ 0 }), 1);
	expect_hit(s, "mailto:x?cc=bob@example.com.", "bob@example.com", PII_PLAIN);
	pii_free(s);

	/* a short address makes no plain needle: its 5 bytes are everywhere */
	s = set_of("a@b.c", "a@b.c");
	expect_none(s, "https://a@b.com/a@b.c/?q=a@b.c");
	ck_assert_uint_gt(pii_needle_count(s), 0);	/* hashes are still searched */
	pii_free(s);
}
END_TEST

START_TEST(api_edges)
{
	struct pii_set *s = pii_new();
	struct pii_hit h;
	const char *u = "https://t.example/?a=carol@example.net&b=dave@example.net&c=carol@example.net";

	ck_assert_int_eq(pii_find(s, u, strlen(u), &h), 0);	/* empty set */
	ck_assert_int_eq(pii_find(NULL, u, strlen(u), &h), 0);
	ck_assert_int_eq(pii_add_recipient(NULL, "a@b.cd", NULL), -1);
	ck_assert_int_eq(pii_add_recipient(s, "carol@example.net", NULL), 0);
	ck_assert_int_eq(pii_add_recipient(s, NULL, "dave@example.net"), 0);
	ck_assert_int_eq(pii_add_recipient(s, NULL, NULL), 0);
	ck_assert_uint_eq(pii_recipient_count(s), 3);
	ck_assert_int_eq(pii_find(s, u, strlen(u), &h), 1);
	ck_assert_uint_eq(h.recipient, 0);
	ck_assert_int_eq(pii_find_from(s, u, strlen(u), h.end, &h), 1);
	ck_assert_uint_eq(h.recipient, 1);
	ck_assert_int_eq(pii_find_from(s, u, strlen(u), h.end, &h), 1);
	ck_assert_uint_eq(h.recipient, 0);
	ck_assert_uint_eq(h.end, strlen(u));
	ck_assert_int_eq(pii_find_from(s, u, strlen(u), h.end, &h), 0);
	/* length is honoured: the address cut off is not found */
	ck_assert_int_eq(pii_find(s, u, 30, &h), 0);
	ck_assert_str_eq(pii_kind_name((enum pii_kind)99), "unknown");
	pii_free(s);
	pii_free(NULL);
}
END_TEST

/* 100 recipients: every one found in each encoding, nothing found in
 * unrelated URLs, and the scan time reported. */
START_TEST(hundred_recipients)
{
	struct pii_set *s = pii_new();
	char orig[100][64], norm[100][64];
	char url[512], enc[256], hex[129];
	struct pii_hit h;
	struct timespec t0, t1;
	int i, k, hits = 0;
	size_t bytes = 0;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < 100; i++) {
		snprintf(orig[i], sizeof(orig[i]), "User%03d+List@Domain%d.Example", i, i % 7);
		snprintf(norm[i], sizeof(norm[i]), "user%03d@domain%d.example", i, i % 7);
		ck_assert_int_eq(pii_add_recipient(s, orig[i], norm[i]), 0);
	}
	ck_assert_uint_eq(pii_recipient_count(s), 100);
	ck_assert_uint_ge(pii_needle_count(s), 100 * 20);
	for (i = 0; i < 100; i++) {
		hexdigest(EVP_sha256(), norm[i], hex, i & 1);
		snprintf(url, sizeof(url), "https://t.example/o/%s/p.gif", hex);
		ck_assert_int_eq(pii_find(s, url, strlen(url), &h), 1);
		ck_assert_uint_eq(h.recipient, (unsigned)i);
		ck_assert_int_eq(h.kind, PII_SHA256);
		b64(orig[i], strlen(orig[i]), enc);
		snprintf(url, sizeof(url), "https://t.example/c?d=%s", enc);
		ck_assert_int_eq(pii_find(s, url, strlen(url), &h), 1);
		ck_assert_uint_eq(h.recipient, (unsigned)i);
		snprintf(url, sizeof(url), "https://t.example/c?e=%s", norm[i]);
		ck_assert_int_eq(pii_find(s, url, strlen(url), &h), 1);
		ck_assert_uint_eq(h.recipient, (unsigned)i);
	}
	/* unrelated URLs: a similar address of another user, random tokens */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < 2000; k++) {
		snprintf(url, sizeof(url),
		    "https://click.t.example/ls/click?upn=%08x%08xAbCdEfGhIjKlMnOpQrStUvWxYz"
		    "0123456789%08x&e=user%03d@domain%d.example.org&u=https%%3A%%2F%%2Fshop.example"
		    "%%2Fitems%%2F%d%%3Futm_source%%3Dnewsletter",
		    (unsigned)k * 2654435761u, (unsigned)k * 40503u, (unsigned)k ^ 0x5bd1e995u,
		    k % 100 + 100, k % 7, k);
		bytes += strlen(url);
		hits += pii_find(s, url, strlen(url), &h);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_eq(hits, 0);
	printf("# %d unrelated URLs (%zu bytes) against %zu needles: %.1f ms\n", k, bytes,
	    pii_needle_count(s),
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	pii_free(s);
}
END_TEST

/* Recipients with a long common start (tagged addresses) stay distinct and
 * cheap: the needles of one bucket do not pile up. */
START_TEST(common_prefix_recipients)
{
	struct pii_set *s = pii_new();
	char o[64], url[4096];
	struct pii_hit h;
	size_t len = 0;
	clock_t t0;
	double secs;
	int i, k, hits = 0;

	for (i = 0; i < 100; i++) {
		snprintf(o, sizeof(o), "newsletter+%d@example.com", i);
		ck_assert_int_eq(pii_add_recipient(s, o, "newsletter@example.com"), 0);
	}
	snprintf(url, sizeof(url), "https://t.example/?e=newsletter+42@example.com");
	ck_assert_int_eq(pii_find(s, url, strlen(url), &h), 1);
	ck_assert_uint_eq(h.recipient, 42);
	ck_assert_int_eq(h.form, PII_FORM_ORIGINAL);
	/* a form shared by several recipients names the first of them */
	snprintf(url, sizeof(url), "https://t.example/?e=newsletter%%40example.com");
	ck_assert_int_eq(pii_find(s, url, strlen(url), &h), 1);
	ck_assert_uint_eq(h.recipient, 0);
	ck_assert_int_eq(h.kind, PII_PERCENT);

	while (len < 2000)
		len += (size_t)sprintf(url + len, "newsletter+x&");
	t0 = clock();
	for (k = 0; k < 1000; k++)
		hits += pii_find(s, url, len, &h);
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	ck_assert_int_eq(hits, 0);
	ck_assert_msg(secs < 2.0, "1000 adversarial URLs took %.2f s", secs);
	printf("# 1000 URLs of 2 KB sharing a 11-byte prefix with %zu needles: %.1f ms\n",
	    pii_needle_count(s), secs * 1e3);
	pii_free(s);
}
END_TEST

/* NEEDLE (of KIND) between PRE and POST filler bytes is found exactly there,
 * with or without a start offset. */
static void
expect_at(const struct pii_set *s, const char *needle, enum pii_kind kind, size_t pre,
    size_t post)
{
	static const char fill[] = "/?=&;@`:,!$*";	/* no letters or digits */
	size_t n = strlen(needle), len = pre + n + post, i;
	char *url = malloc(len);	/* exactly: the sanitizers see any overread */
	struct pii_hit h;

	ck_assert_ptr_nonnull(url);
	for (i = 0; i < pre; i++)
		url[i] = fill[(i * 7) % (sizeof fill - 1)];
	memcpy(url + pre, needle, n);
	for (i = 0; i < post; i++)
		url[pre + n + i] = fill[(i * 5) % (sizeof fill - 1)];
	ck_assert_msg(pii_find(s, url, len, &h) == 1, "%s at %zu/%zu", needle, pre, post);
	ck_assert_msg(h.start == pre && h.end == pre + n && h.kind == kind,
	    "%s at %zu/%zu: [%zu,%zu) %s", needle, pre, post, h.start, h.end,
	    pii_kind_name(h.kind));
	ck_assert_int_eq(pii_find_from(s, url, len, pre, &h), 1);
	ck_assert_uint_eq(h.start, pre);
	ck_assert_int_eq(pii_find_from(s, url, len, pre + 1, &h), 0);
	/* and cut by one byte (an exact copy again) */
	{
		char *cut = malloc(len - 1);

		ck_assert_ptr_nonnull(cut);
		memcpy(cut, url, len - 1);
		ck_assert_int_eq(pii_find(s, cut, len - 1, &h), post > 0);
		free(cut);
	}
	free(url);
}

/* pii_find skips positions where no needle can start, by a window as long
 * as the shortest needle (up to 16 bytes) and a table that grows with the
 * set. Hits at every position, at the very start and end of the URL, must
 * survive the jumps, for long and short needles, after the window shrank
 * (1 recipient: 16 bytes; 150: 9; 220: 6, the smallest), and when the set
 * grew too large for skipping at all (300: a window of 5 would be too short
 * for the probes, which read 6 bytes). */
START_TEST(skip_search)
{
	static const struct {
		size_t recipients;	/* total in the set */
		size_t min_needles;
	} sizes[] = { { 1, 1 }, { 150, 4000 }, { 220, 5900 }, { 300, 8000 } };
	struct pii_set *s = pii_new();
	char sha[129], md5[129], o[64], n[64], needle[64];
	size_t pre, post, r = 0, k, i;

	ck_assert_ptr_nonnull(s);
	hexdigest(EVP_sha256(), "jane.doe@example.net", sha, 0);
	hexdigest(EVP_md5(), "Jane.Doe@example.net", md5, 1);
	for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		for (; r < sizes[k].recipients; r++) {
			if (r == 0) {
				ck_assert_int_eq(pii_add_recipient(s, "Jane.Doe@example.net",
				    "jane.doe@example.net"), 0);
				continue;
			}
			snprintf(o, sizeof o, "User%03zu+List@Domain%zu.Example", r, r % 7);
			snprintf(n, sizeof n, "user%03zu@domain%zu.example", r, r % 7);
			ck_assert_int_eq(pii_add_recipient(s, o, n), 0);
		}
		ck_assert_uint_ge(pii_needle_count(s), sizes[k].min_needles);
		for (pre = 0; pre <= 40; pre++)
			for (post = 0; post <= 20; post += pre % 3 + 1) {
				expect_at(s, "jane.doe@example.net", PII_PLAIN, pre, post);
				expect_at(s, sha, PII_SHA256, pre, post);
				expect_at(s, md5, PII_MD5, pre, post);
			}
		for (i = 1; i < r; i += 37) {
			snprintf(needle, sizeof needle, "user%03zu@domain%zu.example", i, i % 7);
			expect_at(s, needle, PII_PLAIN, i % 29, i % 11);
		}
	}
	/* a 6-byte needle in the large set */
	ck_assert_int_eq(pii_add_recipient(s, "a@b.co", NULL), 0);
	for (pre = 0; pre <= 12; pre++)
		for (post = 0; post <= 8; post++) {
			expect_at(s, "a@b.co", PII_PLAIN, pre, post);
			expect_at(s, "jane.doe@example.net", PII_PLAIN, pre, post);
		}
	pii_free(s);

	/* a short address added after a long one shrinks the window to 6 */
	s = set_of("Jane.Doe@example.net", "jane.doe@example.net");
	ck_assert_int_eq(pii_add_recipient(s, "a@b.co", "a@b.co"), 0);
	for (pre = 0; pre <= 30; pre++)
		for (post = 0; post <= 12; post++) {
			expect_at(s, "a@b.co", PII_PLAIN, pre, post);
			expect_at(s, "jane.doe@example.net", PII_PLAIN, pre, post);
			expect_at(s, "a%40b.co", PII_PERCENT, pre, post);
		}
	pii_free(s);
}
END_TEST

/* A recipient with one address form has about ten needles: the skip table
 * is 1 KB, and grows (every needle filed again) as recipients are added.
 * Hits at every position survive the jumps at each size. */
START_TEST(skip_search_small_table)
{
	static const char *const more[] = { "bob@example.org", "Carol.X@Example.COM",
		"dave+news@example.net" };
	struct pii_set *s = pii_new();
	size_t pre, post, k;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(pii_add_recipient(s, "jane.doe@example.net", "jane.doe@example.net"), 0);
	ck_assert_uint_le(pii_needle_count(s), 11);
	for (k = 0; k <= sizeof more / sizeof more[0]; k++) {
		if (k > 0)
			ck_assert_int_eq(pii_add_recipient(s, more[k - 1], NULL), 0);
		for (pre = 0; pre <= 40; pre++)
			for (post = 0; post <= 20; post += pre % 3 + 1) {
				expect_at(s, "jane.doe@example.net", PII_PLAIN, pre, post);
				expect_at(s, "jane.doe%40example.net", PII_PERCENT, pre, post);
				if (k > 0)
					expect_at(s, "bob@example.org", PII_PLAIN, pre, post);
			}
	}
	pii_free(s);
}
END_TEST

/* Sets of about 6500 to 11000 needles search with a window of 4 or 5 bytes,
 * shorter than PII_MIN_NEEDLE: pii_find must still never read past the end
 * of the URL. Each URL here ends right before an inaccessible page, with
 * the first 4 or 5 bytes of a short needle (a window can stop on them). */
START_TEST(short_window_end)
{
	long page = sysconf(_SC_PAGESIZE);
	struct pii_set *s = pii_new();
	char *map, addr[32];
	size_t r, len, tail;
	struct pii_hit h;

	ck_assert_ptr_nonnull(s);
	for (r = 0; r < 800; r++) {
		snprintf(addr, sizeof addr, "u%zu@e%zu.io", r, r);
		ck_assert_int_eq(pii_add_recipient(s, addr, addr), 0);
	}
	ck_assert_uint_gt(pii_needle_count(s), 6600);
	ck_assert_uint_lt(pii_needle_count(s), 10900);
	map = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	ck_assert(map != MAP_FAILED);
	ck_assert_int_eq(mprotect(map + page, (size_t)page, PROT_NONE), 0);
	for (len = PII_MIN_NEEDLE; len <= 24; len++)
		for (tail = 4; tail <= 5; tail++) {
			char *url = map + page - len;

			memset(url, '/', len);
			memcpy(url + len - tail, "u17@e17.io", tail);
			ck_assert_int_eq(pii_find(s, url, len, &h), 0);
			/* and a whole needle at the very end is still found */
			if (len >= 10) {
				memcpy(url + len - 10, "u17@e17.io", 10);
				ck_assert_int_eq(pii_find(s, url, len, &h), 1);
				ck_assert_uint_eq(h.start, len - 10);
			}
		}
	munmap(map, 2 * (size_t)page);
	pii_free(s);
}
END_TEST

/* Random bytes never crash and spans stay inside the input. */
START_TEST(garbage)
{
	struct pii_set *s = set_of("Bob+News@Example.com", "bob@example.com");
	unsigned char buf[300];
	unsigned seed = 7;
	int round;

	for (round = 0; round < 20000; round++) {
		size_t len, i, from = 0;
		struct pii_hit h;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % sizeof(buf);
		for (i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (unsigned char)("bob@exampl.c%40=+/AZaz09"[(seed >> 16) % 24]);
			if ((seed >> 8) % 9 == 0)
				buf[i] = (unsigned char)(seed >> 20);
		}
		while (pii_find_from(s, (const char *)buf, len, from, &h) == 1) {
			ck_assert(h.start >= from && h.start < h.end && h.end <= len);
			from = h.end;
		}
	}
	pii_free(s);
}
END_TEST

/* pii_add_recipient() skips a form equal to one added before (its needles
 * would all be duplicates). The reference adds O and N as recipients of
 * their own: O's lowered form L is computed there even where the set under
 * test skips it as equal to N, and N's where it equals O; the needles must
 * be the same. */
START_TEST(equal_forms)
{
	static const char *const pairs[][2] = {	/* original, normalised */
		{ "bob@example.com", "bob@example.com" },
		{ "Bob@Example.com", "bob@example.com" },
		{ "bob+news@example.com", "bob@example.com" },
		{ "Bob+News@Example.com", "bob@example.com" },
		{ "Bob@Example.com", "Bob@Example.com" },
		{ "bob@example.com", "Bob@Example.com" },
		{ "bob@example.com", NULL },
		{ NULL, "Bob@example.com" },
	};
	size_t i, k;

	for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		struct pii_set *s = pii_new(), *ref = pii_new();

		ck_assert_ptr_nonnull(s);
		ck_assert_ptr_nonnull(ref);
		ck_assert_int_eq(pii_add_recipient(s, pairs[i][0], pairs[i][1]), 0);
		for (k = 0; k < 2; k++) {
			const char *f = pairs[i][k] != NULL ? pairs[i][k] : pairs[i][1 - k];

			ck_assert_int_eq(pii_add_recipient(ref, f, f), 0);
		}
		ck_assert_msg(pii_needle_count(s) == pii_needle_count(ref), "%zu: %zu needles, %zu",
		    i, pii_needle_count(s), pii_needle_count(ref));
		pii_free(s);
		pii_free(ref);
	}
}
END_TEST

/* The digests use a context per thread: sets built in several threads at
 * once find the digests OpenSSL computes here. */
struct digest_job {
	int id, ok;
};

static void *
digest_thread(void *arg)
{
	struct digest_job *j = arg;
	const EVP_MD *md[3] = { EVP_md5(), EVP_sha1(), EVP_sha256() };
	int round, i;

	j->ok = 1;
	for (round = 0; round < 50; round++) {
		char addr[64], hex[2 * EVP_MAX_MD_SIZE + 1], url[256];
		struct pii_set *s = pii_new();
		struct pii_hit h;

		snprintf(addr, sizeof addr, "User%d.%d@Example.org", j->id, round);
		if (s == NULL || pii_add_recipient(s, addr, NULL) != 0) {
			j->ok = 0;
			pii_free(s);
			return NULL;
		}
		for (i = 0; i < 3; i++) {
			hexdigest(md[i], addr, hex, round & 1);
			snprintf(url, sizeof url, "https://t.example/o/%s.gif", hex);
			if (pii_find(s, url, strlen(url), &h) != 1 ||
			    h.kind != (i == 0 ? PII_MD5 : i == 1 ? PII_SHA1 : PII_SHA256))
				j->ok = 0;
		}
		pii_free(s);
	}
	return NULL;
}

START_TEST(digests_threads)
{
	pthread_t t[4];
	struct digest_job j[4];
	int i;

	for (i = 0; i < 4; i++) {
		j[i].id = i;
		ck_assert_int_eq(pthread_create(&t[i], NULL, digest_thread, &j[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(j[i].ok, 1);
	}
}
END_TEST

/* The prefilter starts small and grows with the needles (its bits move when
 * it does): after every recipient added, each one added before is still
 * found, plain, percent-encoded and hashed. */
START_TEST(filter_grows)
{
	struct pii_set *s = pii_new();
	char addr[40][64], url[256], hex[65];
	struct pii_hit h;
	int i, k;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < 40; i++) {
		snprintf(addr[i], sizeof(addr[i]), "reader%02d@mail%d.example", i, i % 3);
		ck_assert_int_eq(pii_add_recipient(s, addr[i], addr[i]), 0);
		for (k = 0; k <= i; k++) {
			snprintf(url, sizeof(url), "https://t.example/c?e=%s&x=1", addr[k]);
			ck_assert_int_eq(pii_find(s, url, strlen(url), &h), 1);
			ck_assert_uint_eq(h.recipient, (unsigned)k);
			ck_assert_int_eq(h.kind, PII_PLAIN);
			snprintf(url, sizeof(url), "https://t.example/c?e=reader%02d%%40mail%d.example",
			    k, k % 3);
			ck_assert_int_eq(pii_find(s, url, strlen(url), &h), 1);
			ck_assert_uint_eq(h.recipient, (unsigned)k);
			ck_assert_int_eq(h.kind, PII_PERCENT);
			hexdigest(EVP_md5(), addr[k], hex, k & 1);
			snprintf(url, sizeof(url), "https://t.example/o/%s.gif", hex);
			ck_assert_int_eq(pii_find(s, url, strlen(url), &h), 1);
			ck_assert_uint_eq(h.recipient, (unsigned)k);
			ck_assert_int_eq(h.kind, PII_MD5);
		}
		snprintf(url, sizeof(url), "https://t.example/c?e=reader%02d@mail%d.example", i + 1,
		    (i + 1) % 3);
		ck_assert_int_eq(pii_find(s, url, strlen(url), &h), 0);
	}
	ck_assert_uint_ge(pii_needle_count(s), 40 * 10);
	pii_free(s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pii");
	TCase *t;

#define ADD(fn) do { t = tcase_create(#fn); tcase_add_test(t, fn); \
	tcase_set_timeout(t, 60); suite_add_tcase(s, t); } while (0)
	ADD(plain);
	ADD(percent);
	ADD(base64_standalone);
	ADD(base64_in_blob);
	ADD(hashes);
	ADD(hex_address);
	ADD(no_false_positives);
	ADD(api_edges);
	ADD(hundred_recipients);
	ADD(common_prefix_recipients);
	ADD(skip_search);
	ADD(skip_search_small_table);
	ADD(short_window_end);
	ADD(garbage);
	ADD(equal_forms);
	ADD(digests_threads);
	ADD(filter_grows);
	return cm_run_suite(s);
}
