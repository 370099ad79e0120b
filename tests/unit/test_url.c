/* test_url.c - URL parser edge cases, byte-exact parameter stripping, each
 * decoder with valid and invalid input, and the text/plain URL finder. */
#include "build-config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "url.h"

static int
parse(const char *s, struct url *u)
{
	return url_parse(s, strlen(s), u);
}

static int
span_is(const struct url *u, struct url_span sp, const char *want)
{
	return sp.len == strlen(want) && memcmp(URL_PTR(u, sp), want, sp.len) == 0;
}

START_TEST(parse_full)
{
	struct url u;

	ck_assert_int_eq(parse("HTTPS://user:pw@Example.COM:8443/a/b;c?x=1&y=2#frag", &u), 0);
	ck_assert_int_eq(u.scheme, URL_SCHEME_HTTPS);
	ck_assert(span_is(&u, u.scheme_s, "HTTPS"));
	ck_assert(span_is(&u, u.userinfo, "user:pw"));
	ck_assert(span_is(&u, u.host, "Example.COM"));
	ck_assert(span_is(&u, u.port, "8443"));
	ck_assert_uint_eq(u.port_num, 8443);
	ck_assert(span_is(&u, u.path, "/a/b;c"));
	ck_assert(span_is(&u, u.query, "x=1&y=2"));
	ck_assert(span_is(&u, u.fragment, "frag"));
	ck_assert(url_host_has_suffix(&u, "example.com"));
	ck_assert(!url_host_has_suffix(&u, "ample.com"));
	ck_assert(url_span_eq_ci(&u, u.host, "example.com"));
}
END_TEST

START_TEST(parse_edges)
{
	struct url u;
	char scratch[64], host[32];

	/* leading/trailing C0 and spaces are ignored, as browsers do */
	ck_assert_int_eq(parse(" \x01\thttp://a.example/p\n ", &u), 0);
	ck_assert(u.flags & URL_F_STRIPPED);
	ck_assert(span_is(&u, u.path, "/p"));
	/* tab/newline inside: flagged; the clean variant parses a copy */
	ck_assert_int_eq(parse("ht\ntp://a.exa\tmple/p", &u), URL_E_RELATIVE);
	ck_assert(u.flags & URL_F_TABNL);
	ck_assert_int_eq(url_parse_clean("ht\ntp://a.exa\tmple/p", 20, &u, scratch, sizeof scratch), 0);
	ck_assert(span_is(&u, u.host, "a.example"));
	ck_assert_int_eq(url_parse_clean("ht\ntp://a.exa\tmple/p", 20, &u, scratch, 4), URL_E_TOOLONG);
	/* protocol-relative: judged as https */
	ck_assert_int_eq(parse("//cdn.example.net/x.gif", &u), 0);
	ck_assert_int_eq(u.scheme, URL_SCHEME_HTTPS);
	ck_assert(u.flags & URL_F_PROTOREL);
	ck_assert(span_is(&u, u.host, "cdn.example.net"));
	/* backslashes count as slashes for http(s) */
	ck_assert_int_eq(parse("https:\\\\evil.example\\x", &u), 0);
	ck_assert(span_is(&u, u.host, "evil.example"));
	ck_assert(u.flags & URL_F_NONCANON);
	/* never touched */
	ck_assert_int_eq(parse("cid:part1@example", &u), 0);
	ck_assert(u.flags & URL_F_NEVER_TOUCH);
	ck_assert_int_eq(parse("DATA:image/gif;base64,R0lGOD", &u), 0);
	ck_assert_int_eq(u.scheme, URL_SCHEME_DATA);
	ck_assert(u.flags & URL_F_NEVER_TOUCH);
	/* other schemes are reported */
	ck_assert_int_eq(parse("mailto:a@example.com?subject=x", &u), 0);
	ck_assert_int_eq(u.scheme, URL_SCHEME_MAILTO);
	ck_assert(span_is(&u, u.query, "subject=x"));
	ck_assert_int_eq(parse("javascript:alert(1)", &u), 0);
	ck_assert_int_eq(u.scheme, URL_SCHEME_OTHER);
	/* relative references and bad hosts/ports */
	ck_assert_int_eq(parse("/path/only", &u), URL_E_RELATIVE);
	ck_assert_int_eq(parse("img/x.gif", &u), URL_E_RELATIVE);
	ck_assert_int_eq(parse("http://", &u), URL_E_HOST);
	ck_assert_int_eq(parse("http://exa mple.com/", &u), URL_E_HOST);
	ck_assert_int_eq(parse("http://a..b/", &u), URL_E_HOST);
	ck_assert_int_eq(parse("http://a.example:99999/", &u), URL_E_SYNTAX);
	ck_assert_int_eq(parse("http://a.example:8x/", &u), URL_E_SYNTAX);
	ck_assert_int_eq(parse("http://[::1]:80/x", &u), 0);
	ck_assert(span_is(&u, u.host, "[::1]"));
	ck_assert_int_eq(parse("http://a@b@host.example/", &u), 0);
	ck_assert(span_is(&u, u.host, "host.example"));
	ck_assert_int_eq(parse("http://Host.Example./x?#", &u), 0);
	ck_assert(u.flags & URL_F_HAS_QUERY);
	ck_assert(u.flags & URL_F_HAS_FRAGMENT);
	ck_assert_int_eq(url_host_lower(&u, host, sizeof host), 12);
	ck_assert_str_eq(host, "host.example");
	ck_assert(url_host_is_valid("xn--bcher-kva.example", 21));
	ck_assert(!url_host_is_valid("a%2eb", 5));
	ck_assert_int_eq(url_parse(NULL, 0, &u), URL_E_RELATIVE);
}
END_TEST

START_TEST(valid_absolute)
{
	static const char *good[] = {
		"http://example.com", "https://example.com/a?b=c#d", "HTTPS://EXAMPLE.COM:443/",
		"https://example.com/%7Euser", "http://192.0.2.1/x",
	};
	static const char *bad[] = {
		"", "example.com", "//example.com/", "ftp://example.com/", "https:/example.com",
		"https://exa mple.com/", " https://example.com/", "https://example.com/\"x",
		"https://example.com/<x>", "https://example.com/a\\b", "javascript:alert(1)",
		"https://example.com/\x7f", "https:///x", "mailto:a@example.com",
	};
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct url u, v;

		ck_assert_msg(url_is_valid_absolute(good[i], strlen(good[i])), "%s", good[i]);
		/* the parsing variant answers the same and keeps the parse */
		ck_assert(url_parse_valid_absolute(good[i], strlen(good[i]), &u));
		ck_assert_int_eq(url_parse(good[i], strlen(good[i]), &v), 0);
		ck_assert(u.base == v.base && u.host.off == v.host.off && u.host.len == v.host.len &&
		    u.path.off == v.path.off && u.path.len == v.path.len && u.scheme == v.scheme);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct url u;

		ck_assert_msg(!url_is_valid_absolute(bad[i], strlen(bad[i])), "%s", bad[i]);
		ck_assert_msg(!url_parse_valid_absolute(bad[i], strlen(bad[i]), &u), "%s", bad[i]);
		/* parsed already: the same answer (for what url_parse reads) */
		if (url_parse(bad[i], strlen(bad[i]), &u) == 0)
			ck_assert_msg(!url_parsed_is_valid_absolute(&u, bad[i], strlen(bad[i])), "%s",
			    bad[i]);
	}
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct url u;

		ck_assert_int_eq(url_parse(good[i], strlen(good[i]), &u), 0);
		ck_assert_msg(url_parsed_is_valid_absolute(&u, good[i], strlen(good[i])), "%s", good[i]);
	}
}
END_TEST

/* The strict percent decoder of the spec, byte by byte: the reference for
 * url_decode_percent() (which copies eight bytes at a step between '%'). */
static int
ref_decode_percent(const char *in, size_t len, char *out, size_t *olen)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		int hi, lo;

		if (in[i] != '%') {
			out[n++] = in[i];
			continue;
		}
		if (len - i < 3 || !isxdigit((unsigned char)in[i + 1]) ||
		    !isxdigit((unsigned char)in[i + 2])) {
			*olen = n;
			return URL_E_DECODE;
		}
		hi = isdigit((unsigned char)in[i + 1]) ? in[i + 1] - '0' : (in[i + 1] | 0x20) - 'a' + 10;
		lo = isdigit((unsigned char)in[i + 2]) ? in[i + 2] - '0' : (in[i + 2] | 0x20) - 'a' + 10;
		if (hi == 0 && lo == 0) {
			*olen = n;
			return URL_E_DECODE;
		}
		out[n++] = (char)(hi * 16 + lo);
		i += 2;
	}
	*olen = n;
	return 0;
}

START_TEST(decode_percent_random)
{
	static const char *const piece[] = {
		"a", "Bc", "https:", "//", "%2F", "%2f", "%3A", "%7e", "%00", "%", "%4", "%G1",
		"%%", "+", "shop.example", "0123456789", "\x80", "%C3%A9", "%25", " ",
	};
	const size_t np = sizeof piece / sizeof piece[0];
	struct buf b = BUF_INIT;
	unsigned seed = 99;
	char in[512], want[512];
	int round, k, ok = 0;

	for (round = 0; round < 20000; round++) {
		size_t n = 0, wn, pre = round % 3;
		int m = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 24, rc;

		for (k = 0; k < m; k++) {
			const char *p = piece[((seed = seed * 1103515245u + 12345u) >> 16) % np];

			memcpy(in + n, p, strlen(p));
			n += strlen(p);
		}
		rc = ref_decode_percent(in, n, want, &wn);
		ok += rc == 0;
		buf_reset(&b);
		ck_assert_int_eq(buf_append(&b, "xyz", pre), 0);
		ck_assert_int_eq(url_decode_percent(in, n, &b), rc);
		ck_assert_uint_eq(b.len, pre + wn);
		ck_assert(memcmp(b.data, "xyz", pre) == 0);
		ck_assert(memcmp(b.data + pre, want, wn) == 0);
		ck_assert_int_eq(b.data[b.len], '\0');
	}
	ck_assert_int_gt(ok, 1000);
	buf_free(&b);
}
END_TEST

/* url_parsed_is_valid_absolute() answers url_is_valid_absolute() for every
 * URL url_parse() reads: random URLs from pieces that are valid or not. */
START_TEST(parsed_valid_absolute_random)
{
	static const char *const piece[] = {
		"https://", "http://", "HTTP://", "//", "https:/", "https:\\", "ftp://", "a.example",
		"b.example:8080", "u@c.example", "[::1]", "/", "\\", "?", "#", "&", "=", "x", " ",
		"\"", "<", "\x7f", "\t", "%41", "..", ".", ":", "mailto:", "\xc3\xa9",
	};
	const size_t np = sizeof piece / sizeof piece[0];
	unsigned seed = 77;
	char s[256];
	int round, k, parsed = 0, valid = 0;

	for (round = 0; round < 20000; round++) {
		struct url u;
		size_t n = 0;
		int m = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 8;

		for (k = 0; k < m; k++) {
			const char *p = piece[((seed = seed * 1103515245u + 12345u) >> 16) % np];

			memcpy(s + n, p, strlen(p));
			n += strlen(p);
		}
		if (url_parse(s, n, &u) != 0)
			continue;
		parsed++;
		valid += url_is_valid_absolute(s, n);
		ck_assert_int_eq(url_parsed_is_valid_absolute(&u, s, n), url_is_valid_absolute(s, n));
	}
	ck_assert_int_gt(parsed, 1000);
	ck_assert_int_gt(valid, 100);
}
END_TEST

/* A host of N bytes: labels of LAB bytes ("aaa.aaa..."), then SUFFIX. */
static void
make_host(char *dst, size_t n, size_t lab)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = (i + 1) % (lab + 1) == 0 ? '.' : 'a';
	dst[n] = '\0';
}

/* The host forms the one-pass authority parser takes, and the ones it must
 * leave to the general parser; both must agree with url_host_is_valid(). */
START_TEST(parse_host_paths)
{
	static const struct {
		const char *url;
		int rc;
		const char *host;	/* NULL: not checked */
	} cases[] = {
		{ "https://www.example-shop.com/p?q#f", 0, "www.example-shop.com" },
		{ "https://a_b.EXAMPLE.com", 0, "a_b.EXAMPLE.com" },
		{ "https://192.0.2.1?x", 0, "192.0.2.1" },
		{ "https://b\xc3\xbc" "cher.example#x", 0, "b\xc3\xbc" "cher.example" },
		{ "https://host.example.\\x", 0, "host.example." },
		{ "https://a..", 0, "a.." },	/* one trailing dot dropped, then "a." */
		{ "https://a../x", 0, "a.." },
		{ "https://.a/", URL_E_HOST, NULL },
		{ "https://./", URL_E_HOST, NULL },
		{ "https://a..b/", URL_E_HOST, NULL },
		{ "https://?x", URL_E_HOST, NULL },
		{ "https:///x", 0, "x" },	/* any number of slashes */
		{ "https://a%2eb/", URL_E_HOST, NULL },
		{ "https://a b/", URL_E_HOST, NULL },
		{ "https://a!b/", URL_E_HOST, NULL },
		{ "https://u@a.example/", 0, "a.example" },
		{ "https://a.example:8080/", 0, "a.example" },
		{ "https://a.example:/", 0, "a.example" },
		{ "https://[::1]/", 0, "[::1]" },
		{ "https://a.ex\tample/", URL_E_HOST, NULL },
	};
	char url[400], host[300];
	struct url u;
	size_t i, n;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_msg(parse(cases[i].url, &u) == cases[i].rc, "%s", cases[i].url);
		if (cases[i].host != NULL)
			ck_assert_msg(span_is(&u, u.host, cases[i].host), "%s", cases[i].url);
	}
	ck_assert_int_eq(parse("https://u@a.example:8080/p", &u), 0);
	ck_assert(u.flags & URL_F_HAS_USERINFO);
	ck_assert(u.flags & URL_F_HAS_PORT);
	ck_assert(span_is(&u, u.path, "/p"));
	/* label and host length limits: 63 / 253 bytes (without one final dot) */
	for (n = 1; n <= 70; n++) {
		make_host(host, n, 200);
		snprintf(url, sizeof url, "http://%s.example/x", host);
		ck_assert_int_eq(parse(url, &u), n <= 63 ? 0 : URL_E_HOST);
		snprintf(url, sizeof url, "http://example.%s", host);
		ck_assert_int_eq(parse(url, &u), n <= 63 ? 0 : URL_E_HOST);
		snprintf(url, sizeof url, "http://example.%s.", host);
		ck_assert_int_eq(parse(url, &u), n <= 63 ? 0 : URL_E_HOST);
		ck_assert_int_eq(url_host_is_valid(host, n), n <= 63);
	}
	for (n = 240; n <= 260; n++) {
		make_host(host, n, 9);
		if (host[n - 1] == '.')
			host[n - 1] = 'a';
		snprintf(url, sizeof url, "http://%s/x", host);
		ck_assert_int_eq(parse(url, &u), n <= 253 ? 0 : URL_E_HOST);
		ck_assert_int_eq(url_host_is_valid(host, n), n <= 253);
		snprintf(url, sizeof url, "http://%s./x", host);
		ck_assert_int_eq(parse(url, &u), n <= 253 ? 0 : URL_E_HOST);
		host[n] = '.';
		ck_assert_int_eq(url_host_is_valid(host, n + 1), n <= 253);
	}
}
END_TEST

/* Scheme names are compared case-insensitively, and only whole. */
START_TEST(parse_schemes)
{
	static const struct {
		const char *url;
		enum url_scheme scheme;
	} cases[] = {
		{ "http://a.example/", URL_SCHEME_HTTP }, { "HtTp://a.example/", URL_SCHEME_HTTP },
		{ "HTTPS://a.example/", URL_SCHEME_HTTPS }, { "MailTo:a@b", URL_SCHEME_MAILTO },
		{ "CID:x", URL_SCHEME_CID }, { "dAtA:x", URL_SCHEME_DATA },
		{ "httpx://a.example/", URL_SCHEME_OTHER }, { "htt://a", URL_SCHEME_OTHER },
		{ "https2://a", URL_SCHEME_OTHER }, { "cidx:x", URL_SCHEME_OTHER },
		{ "ci:x", URL_SCHEME_OTHER }, { "mailtox:a", URL_SCHEME_OTHER },
		{ "mail2o:a", URL_SCHEME_OTHER }, { "dat4:x", URL_SCHEME_OTHER },
		{ "h+tp://a", URL_SCHEME_OTHER }, { "x-y.z+w:a", URL_SCHEME_OTHER },
	};
	struct url u;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_msg(parse(cases[i].url, &u) == 0, "%s", cases[i].url);
		ck_assert_msg(u.scheme == cases[i].scheme, "%s", cases[i].url);
	}
	ck_assert_int_eq(parse("1http://a", &u), URL_E_RELATIVE);
	ck_assert_int_eq(parse("ht@p://a", &u), URL_E_RELATIVE);
	ck_assert_int_eq(parse("http", &u), URL_E_RELATIVE);
	ck_assert(url_has_scheme("a+b:", 4));
	ck_assert(!url_has_scheme("a+b", 3));
	ck_assert(!url_has_scheme("a b:", 4));
}
END_TEST

/* Bytes that flag URL_F_TABNL, or make url_is_valid_absolute() refuse a
 * URL, at every position (both are checked several bytes at a time). */
START_TEST(bytes_at_every_position)
{
	static const char base[] = "https://www.example-shop.com/products/item-42?c=blue#top";
	static const char bad[] = "\x01\t\n\r\x0b\x1f \"<>\\`\x7f";
	char in[sizeof base + 1];
	struct url u;
	size_t n, i, k;

	/* every length modulo 8 */
	for (n = sizeof base - 9; n < sizeof base; n++) {
		ck_assert(url_is_valid_absolute(base, n));
		for (i = 8; i < n; i++) {
			for (k = 0; k < sizeof bad - 1; k++) {
				memcpy(in, base, n);
				in[i] = bad[k];
				ck_assert_msg(!url_is_valid_absolute(in, n), "%zu %02x", i, bad[k]);
				url_parse(in, n, &u);
				/* (a control as the last byte is trimmed) */
				ck_assert_msg(!(u.flags & URL_F_TABNL) == !(i + 1 < n && (bad[k] == '\t' ||
				    bad[k] == '\n' || bad[k] == '\r')), "%zu %02x", i, bad[k]);
			}
			/* and a byte that is fine anywhere */
			memcpy(in, base, n);
			in[i] = i < 28 ? 'Z' : base[i] == '/' ? '/' : '~';
			ck_assert_msg(url_is_valid_absolute(in, n), "%zu", i);
		}
	}
}
END_TEST

/* url_host_lower(): ASCII letters only, any length (eight bytes a step). */
START_TEST(host_lower)
{
	static const char src[] = "AZ@[`{az09-_\xc3\x89\xC0\xDAMiXeD.CaSe.Example.";
	char h[64], want[64], got[64];
	struct url u;
	size_t n, i;

	for (n = 1; n < sizeof src; n++) {
		memset(&u, 0, sizeof u);
		memcpy(h, src, n);
		u.base = h;
		u.host.len = n;
		for (i = 0; i < n; i++)
			want[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] + 32 : h[i]);
		if (want[n - 1] == '.')
			n--;
		want[n] = '\0';
		ck_assert_int_eq(url_host_lower(&u, got, sizeof got), (int)n);
		ck_assert_str_eq(got, want);
		ck_assert_int_eq(url_host_lower(&u, got, n), URL_E_TOOLONG);
		n = u.host.len;
	}
}
END_TEST

static int
pred_personal(const char *name, size_t len, void *arg)
{
	(void)arg;
	return (len == 6 && memcmp(name, "mc_eid", 6) == 0) ||
	       (len >= 4 && memcmp(name, "utm_", 4) == 0);
}

static void
check_strip(const char *in, unsigned flags, const char *want, int want_removed)
{
	struct buf b = BUF_INIT;
	int removed = -1;

	ck_assert_int_eq(url_strip_params_ex(in, strlen(in), flags, pred_personal, NULL, &b,
					     &removed), 0);
	ck_assert_msg(b.len == strlen(want) && memcmp(b.data, want, b.len) == 0,
		      "%s -> %s, want %s", in, b.data, want);
	ck_assert_int_eq(removed, want_removed);
	buf_free(&b);
}

START_TEST(strip_params)
{
	check_strip("https://e.x/p?a=1&mc_eid=2&b=3#f", 0, "https://e.x/p?a=1&b=3#f", 1);
	check_strip("https://e.x/p?mc_eid=2&a=1", 0, "https://e.x/p?a=1", 1);
	check_strip("https://e.x/p?a=1;mc_eid=2;b", 0, "https://e.x/p?a=1;b", 1);
	check_strip("https://e.x/p?a=1;utm_source=x&b=2", 0, "https://e.x/p?a=1&b=2", 1);
	check_strip("https://e.x/p?mc_eid=2", 0, "https://e.x/p", 1);
	check_strip("https://e.x/p?mc_eid=2#top", 0, "https://e.x/p#top", 1);
	check_strip("https://e.x/p?utm_a=1&mc_eid=2&utm_b", 0, "https://e.x/p", 3);
	/* nothing removed: byte-identical, odd bytes included */
	check_strip("https://e.x/p?b=%ZZ&&a==1&;x#mc_eid=1", 0, "https://e.x/p?b=%ZZ&&a==1&;x#mc_eid=1", 0);
	check_strip("https://e.x/p#?mc_eid=1", 0, "https://e.x/p#?mc_eid=1", 0);
	check_strip("https://e.x/p", 0, "https://e.x/p", 0);
	/* percent-encoded names are judged decoded */
	check_strip("https://e.x/?mc%5Feid=1&a", 0, "https://e.x/?a", 1);
	/* empty parameters stay */
	check_strip("https://e.x/?a=1&&mc_eid=2", 0, "https://e.x/?a=1&", 1);
	/* HTML attribute bytes: &amp; is one separator and is kept as written */
	check_strip("https://e.x/?a=1&amp;mc_eid=2&amp;b=3", URL_Q_HTML, "https://e.x/?a=1&amp;b=3", 1);
	check_strip("https://e.x/?mc_eid=2&AMP;b=3", URL_Q_HTML, "https://e.x/?b=3", 1);
	check_strip("https://e.x/?a=1&#38;mc_eid=2&#x26;b=3", URL_Q_HTML, "https://e.x/?a=1&#x26;b=3", 1);
	/* without the flag "&amp;" would leave a stray "amp;" parameter: shown here */
	check_strip("https://e.x/?a=1&amp;mc_eid=2", 0, "https://e.x/?a=1&amp", 1);
}
END_TEST

START_TEST(html_attr_escape)
{
	struct buf b = BUF_INIT;
	const char *u = "https://e.x/p?a=1&b='x'&c=<\"y\">";

	ck_assert_int_eq(url_append_html_attr(&b, u, strlen(u)), 0);
	ck_assert_str_eq(b.data, "https://e.x/p?a=1&amp;b=&#39;x&#39;&amp;c=&lt;&quot;y&quot;&gt;");
	buf_reset(&b);
	ck_assert_int_eq(url_append_html_attr(&b, "https://e.x/", 12), 0);
	ck_assert_str_eq(b.data, "https://e.x/");
	buf_free(&b);
}
END_TEST

START_TEST(query_find)
{
	struct url_param p;
	const char *u = "https://e.x/?a=1&url=https%3A%2F%2Fd.example%2F&flag;z=";

	ck_assert(url_query_find(u, strlen(u), 0, "url", &p));
	ck_assert_int_eq((int)p.value_len, 26);
	ck_assert(url_query_find(u, strlen(u), 0, "flag", &p));
	ck_assert_ptr_null(p.value);
	ck_assert(url_query_find(u, strlen(u), 0, "z", &p));
	ck_assert_int_eq((int)p.value_len, 0);
	ck_assert(!url_query_find(u, strlen(u), 0, "missing", &p));
	ck_assert(!url_query_find("https://e.x/#a=1", 16, 0, "a", &p));
	/* the first '=' splits; separators '&', ';' and (HTML) "&amp;" */
	u = "?a==1=2;b&amp;c=3&=4&";
	ck_assert(url_query_find(u, strlen(u), 0, "a", &p));
	ck_assert_int_eq((int)p.value_len, 4);
	ck_assert(memcmp(p.value, "=1=2", 4) == 0);
	ck_assert(url_query_find(u, strlen(u), 0, "amp", &p));	/* "&amp;" is "&", "amp", ";" */
	ck_assert_ptr_null(p.value);
	ck_assert(url_query_find(u, strlen(u), URL_Q_HTML, "c", &p));
	ck_assert_int_eq((int)p.sep_len, 5);
	ck_assert(url_query_find(u, strlen(u), 0, "", &p));
	ck_assert_int_eq((int)p.value_len, 1);
}
END_TEST

static int
dec(enum url_decoder k, const char *field, const char *in, struct buf *b)
{
	buf_reset(b);
	return url_decode(k, field, in, strlen(in), b);
}

START_TEST(decoders)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(dec(URL_DEC_PERCENT, NULL, "https%3A%2F%2Fa.example%2Fp%3Fx%3D1+2", &b), 0);
	ck_assert_str_eq(b.data, "https://a.example/p?x=1+2");
	ck_assert_int_eq(dec(URL_DEC_PERCENT, NULL, "100%", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_PERCENT, NULL, "a%zzb", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_PERCENT, NULL, "a%4", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_PERCENT, NULL, "a%00b", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_PERCENT, NULL, "%252F", &b), 0);
	ck_assert_str_eq(b.data, "%2F");
	/* escapes first, last, adjacent; any case; no escape at all; empty */
	ck_assert_int_eq(dec(URL_DEC_PERCENT, NULL, "%41%62%2fc%7E%7e", &b), 0);
	ck_assert_str_eq(b.data, "Ab/c~~");
	ck_assert_int_eq(dec(URL_DEC_PERCENT, NULL, "plain+text", &b), 0);
	ck_assert_str_eq(b.data, "plain+text");
	ck_assert_int_eq(dec(URL_DEC_PERCENT, NULL, "", &b), 0);
	ck_assert_str_eq(b.data, "");
	ck_assert_int_eq(dec(URL_DEC_PERCENT, NULL, "%", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_PERCENT, NULL, "a%41%", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_PERCENT, NULL, "%4g", &b), URL_E_DECODE);
	/* the bytes after LEN are not read ("a%4" then '1') */
	buf_reset(&b);
	ck_assert_int_eq(url_decode_percent("a%41", 3, &b), URL_E_DECODE);
	ck_assert_int_eq(url_decode_percent("%4", 1, &b), URL_E_DECODE);
	/* appends after what OUT holds; the output is written in place */
	buf_reset(&b);
	ck_assert(buf_puts(&b, "x:") == 0);
	ck_assert_int_eq(url_decode_percent("a%20b%20c", 9, &b), 0);
	ck_assert_uint_eq(b.len, 7);
	ck_assert_str_eq(b.data, "x:a b c");

	/* "https://a.example/?q=~" has '+'/'/' (std) vs '-'/'_' (url) forms */
	ck_assert_int_eq(dec(URL_DEC_BASE64, NULL, "aHR0cHM6Ly9hLmV4YW1wbGUvP3E9fn4/", &b), 0);
	ck_assert_str_eq(b.data, "https://a.example/?q=~~?");
	ck_assert_int_eq(dec(URL_DEC_BASE64, NULL, "aHR0cA==", &b), 0);
	ck_assert_str_eq(b.data, "http");
	ck_assert_int_eq(dec(URL_DEC_BASE64, NULL, "aHR0cA", &b), 0);
	ck_assert_str_eq(b.data, "http");
	ck_assert_int_eq(dec(URL_DEC_BASE64, NULL, "aHR0cA=", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_BASE64, NULL, "aHR0c", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_BASE64, NULL, "aH!0", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_BASE64, NULL, "", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_BASE64, NULL, "fn4_", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_BASE64URL, NULL, "fn4_", &b), 0);
	ck_assert_str_eq(b.data, "~~?");
	ck_assert_int_eq(dec(URL_DEC_BASE64URL, NULL, "fn4/", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_BASE64URL, NULL, "YQ==", &b), 0);
	ck_assert_str_eq(b.data, "a");
	ck_assert_int_eq(dec(URL_DEC_BASE64URL, NULL, "YQ", &b), 0);
	ck_assert_int_eq(dec(URL_DEC_BASE64URL, NULL, "Y===", &b), URL_E_DECODE);

	ck_assert_int_eq(dec(URL_DEC_JSON, "url", "{\"url\":\"https://a.example/\"}", &b), 0);
	ck_assert_str_eq(b.data, "https://a.example/");
	ck_assert_int_eq(dec(URL_DEC_JSON, "a.b", "{\"a\":{\"b\":\"x\"}}", &b), 0);
	ck_assert_str_eq(b.data, "x");
	ck_assert_int_eq(dec(URL_DEC_JSON, "a.c", "{\"a\":{\"b\":\"x\"}}", &b), URL_E_NOFIELD);
	ck_assert_int_eq(dec(URL_DEC_JSON, "a", "{\"a\":5}", &b), URL_E_NOFIELD);
	ck_assert_int_eq(dec(URL_DEC_JSON, "a", "{\"a\":", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_JSON, "a", "[1,2]", &b), URL_E_NOFIELD);

	/* header {"alg":"HS256"} . payload {"url":"https://a.example/x"} . sig */
	ck_assert_int_eq(dec(URL_DEC_JWT, "url",
			     "eyJhbGciOiJIUzI1NiJ9.eyJ1cmwiOiJodHRwczovL2EuZXhhbXBsZS94In0.c2ln", &b), 0);
	ck_assert_str_eq(b.data, "https://a.example/x");
	/* payload.signature form */
	ck_assert_int_eq(dec(URL_DEC_JWT, "url", "eyJ1cmwiOiJodHRwczovL2EuZXhhbXBsZS94In0.c2ln", &b), 0);
	ck_assert_str_eq(b.data, "https://a.example/x");
	ck_assert_int_eq(dec(URL_DEC_JWT, "url", "eyJ1cmwiOiJodHRwczovL2EuZXhhbXBsZS94In0", &b), 0);
	ck_assert_str_eq(b.data, "https://a.example/x");
	ck_assert_int_eq(dec(URL_DEC_JWT, "url", "nodots", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_JWT, "url", "a.b.c.d", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_JWT, "url", "x.!!!.y", &b), URL_E_DECODE);
	ck_assert_int_eq(dec(URL_DEC_JWT, "nope",
			     "eyJhbGciOiJIUzI1NiJ9.eyJ1cmwiOiJodHRwczovL2EuZXhhbXBsZS94In0.c2ln", &b),
			 URL_E_NOFIELD);
	buf_free(&b);
}
END_TEST

/* Every URL found in TEXT, joined by '|'. */
static void
find_all(const char *text, char *out, size_t cap, unsigned *last_flags)
{
	size_t pos = 0, off, n, len = strlen(text);

	out[0] = '\0';
	while (url_find_in_text(text, len, &pos, &off, &n, last_flags)) {
		if (out[0])
			strncat(out, "|", cap - strlen(out) - 1);
		strncat(out, text + off, n < cap - strlen(out) - 1 ? n : cap - strlen(out) - 1);
	}
}

START_TEST(text_finder)
{
	char got[512];
	unsigned fl = 0;

	find_all("See https://a.example/x. And (http://b.example/y) now!", got, sizeof got, &fl);
	ck_assert_str_eq(got, "https://a.example/x|http://b.example/y");
	find_all("wiki: https://en.example.org/wiki/Foo_(bar), ok", got, sizeof got, &fl);
	ck_assert_str_eq(got, "https://en.example.org/wiki/Foo_(bar)");
	find_all("Go to www.example.com/page?a=1&b=2; thanks", got, sizeof got, &fl);
	ck_assert_str_eq(got, "www.example.com/page?a=1&b=2");
	ck_assert(fl & URL_TEXT_WWW);
	find_all("Link: <https://a.example/p?x=1.>, more", got, sizeof got, &fl);
	ck_assert_str_eq(got, "https://a.example/p?x=1.");
	ck_assert(fl & URL_TEXT_ANGLE);
	find_all("<URL:http://a.example/b!>", got, sizeof got, &fl);
	ck_assert_str_eq(got, "http://a.example/b!");
	find_all("\"https://q.example/\"", got, sizeof got, &fl);
	ck_assert_str_eq(got, "https://q.example/");
	find_all("nohttp://x.example awww.example.com http:// https://.", got, sizeof got, &fl);
	ck_assert_str_eq(got, "");
	find_all("[md](https://m.example/a)]", got, sizeof got, &fl);
	ck_assert_str_eq(got, "https://m.example/a");
	find_all("HTTPS://UP.EXAMPLE/X\r\nnext line https://n.example/'", got, sizeof got, &fl);
	ck_assert_str_eq(got, "HTTPS://UP.EXAMPLE/X|https://n.example/");
	/* typographic quotes, NBSP, ideographic full stop */
	find_all("\xe2\x80\x9chttps://q.example/a\xe2\x80\x9d and https://r.example/b\xc2\xa0next "
		 "https://s.example/c\xe3\x80\x82 https://t.example/\xc3\xa9t\xc3\xa9", got, sizeof got, &fl);
	ck_assert_str_eq(got, "https://q.example/a|https://r.example/b|https://s.example/c|"
			 "https://t.example/\xc3\xa9t\xc3\xa9");
	find_all("", got, sizeof got, &fl);
	ck_assert_str_eq(got, "");
}
END_TEST

/* Nothing here may crash or read out of bounds on arbitrary bytes. */
START_TEST(garbage_is_safe)
{
	unsigned char in[64];
	struct buf b = BUF_INIT;
	struct url u;
	size_t pos, off, n, i, len;
	unsigned seed = 12345;
	int round;

	for (round = 0; round < 3000; round++) {
		len = seed % sizeof in;
		for (i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = (unsigned char)"htps:/.?&=#%[]@\\ wAZ09\t\n-_;<>()"[(seed >> 16) % 32];
			if ((seed >> 8) % 17 == 0)
				in[i] = (unsigned char)(seed >> 3);
		}
		(void)url_parse((char *)in, len, &u);
		(void)url_is_valid_absolute((char *)in, len);
		buf_reset(&b);
		(void)url_strip_params_ex((char *)in, len, URL_Q_HTML, pred_personal, NULL, &b, NULL);
		buf_reset(&b);
		(void)url_decode(URL_DEC_PERCENT, NULL, (char *)in, len, &b);
		buf_reset(&b);
		(void)url_decode(URL_DEC_BASE64URL, NULL, (char *)in, len, &b);
		buf_reset(&b);
		(void)url_decode(URL_DEC_JWT, "a.b", (char *)in, len, &b);
		pos = 0;
		while (url_find_in_text((char *)in, len, &pos, &off, &n, NULL))
			ck_assert(off + n <= len);
	}
	buf_free(&b);
}
END_TEST

/* ---- url_parse's one-pass scan against the searches it replaced --------------- */

/* url_parse() finds the '?', the '#' and the controls of a URL in one pass
 * (16 bytes a step). Check every parse of random URLs of 0..90 bytes (every
 * block boundary) against the former logic: TABNL when memchr() finds a tab,
 * LF or CR between start and end; the query and fragment split at the first
 * '?' and '#' from the path on. */
static void
check_split(const char *s, size_t n)
{
	struct url u;
	const char *qm, *hm;
	size_t p, end, f, q;
	int rc = url_parse(s, n, &u), tabnl;

	end = u.end;
	tabnl = memchr(s + u.start, '\t', end - u.start) || memchr(s + u.start, '\n', end - u.start) ||
	    memchr(s + u.start, '\r', end - u.start);
	ck_assert_msg(!(u.flags & URL_F_TABNL) == !tabnl, "%.*s", (int)n, s);
	if ((rc != 0 && rc != URL_E_RELATIVE) || (u.flags & URL_F_NEVER_TOUCH))
		return;
	p = u.path.off;
	if (u.path.len == 0 && !(u.flags & (URL_F_HAS_QUERY | URL_F_HAS_FRAGMENT)) && p == 0)
		return;		/* no path parsed (an authority error) */
	qm = memchr(s + p, '?', end - p);
	hm = memchr(s + p, '#', end - p);
	f = hm ? (size_t)(hm - s) : end;
	if (qm != NULL && (size_t)(qm - s) > f)
		qm = NULL;
	q = qm ? (size_t)(qm - s) : f;
	ck_assert_msg(u.path.len == q - p, "%.*s", (int)n, s);
	ck_assert_msg(!(u.flags & URL_F_HAS_QUERY) == !qm, "%.*s", (int)n, s);
	if (qm)
		ck_assert_msg(u.query.off == q + 1 && u.query.len == f - q - 1, "%.*s", (int)n, s);
	ck_assert_msg(!(u.flags & URL_F_HAS_FRAGMENT) == !hm, "%.*s", (int)n, s);
	if (hm)
		ck_assert_msg(u.fragment.off == f + 1 && u.fragment.len == end - f - 1, "%.*s",
		    (int)n, s);
}

START_TEST(parse_scan_differential)
{
	static const char *const base[] = { "https://www.example-shop.com/", "http://a.b/",
		"//h.x", "mailto:", "rel/", "https://u@e.x:80/", " \x01https://e.x", "data:" };
	static const char alpha[] = "ab/?#?#\t\n\r\x01\x0d\x0e\x0f \x80\xff=&.:@\\";
	char s[96];
	unsigned long x = 0x1234567887654321UL;
	size_t n, b, i, k;

	for (k = 0; k < 100000; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b = (size_t)(x % (sizeof base / sizeof base[0]));
		n = strlen(base[b]);
		memcpy(s, base[b], n);
		for (i = n + (size_t)((x >> 8) % (sizeof s - n)); n < i; n++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* mostly plain bytes: the marks land anywhere in a block */
			s[n] = (x & 0x700) ? "abcdefgh/-"[(x >> 16) % 10] :
			    alpha[(x >> 16) % (sizeof alpha - 1)];
		}
		check_split(s, n);
	}
}
END_TEST

/* The authority scan reads sixteen bytes at a time: hosts of every length,
 * with labels near the 63-byte limit, dots and odd bytes at every position
 * of a block, give url_host_is_valid()'s verdict and the host span a byte
 * by byte reading gives. */
START_TEST(parse_host_differential)
{
	static const char *const pre[] = { "https://", "http://", "HTTPS://", "//", "https:" };
	static const char *const tail[] = { "/p/q", "?a=b", "#f", "\\x", "/" };
	static const char odd[] = "-_.\x80\xc3\xff Z9%!\t~";
	char s[200], h[160];
	unsigned long x = 0x9e3779b97f4a7c15UL;
	size_t n, i, lab, k, pl;
	struct url u;
	int rc, want;

	for (k = 0; k < 100000; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = (size_t)(x % 140);
		lab = 1 + (size_t)((x >> 8) % 70);	/* labels of 1..70 bytes */
		for (i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			h[i] = (i + 1) % (lab + 1) == 0 ? '.' : "abcdefghij"[(x >> 20) % 10];
			if ((x & 0x3f) == 0)	/* now and then any other byte */
				h[i] = odd[(x >> 24) % (sizeof odd - 1)];
			else if ((x & 0x3f) == 1)
				h[i] = (char)('A' + (x >> 24) % 26);
		}
		pl = strlen(pre[k % 5]);
		memcpy(s, pre[k % 5], pl);
		memcpy(s + pl, h, n);
		strcpy(s + pl + n, tail[(x >> 32) % 5]);
		rc = url_parse(s, strlen(s), &u);
		want = url_host_is_valid(h, n) ? 0 : URL_E_HOST;
		if (n == 0 && k % 5 == 4 && s[pl] == '\\')
			continue;	/* "https:\\x": the tail is taken for slashes */
		if (n == 0 && (s[pl] == '/' || s[pl] == '\\'))
			continue;
		ck_assert_msg(rc == want, "%s: %d %d", s, rc, want);
		if (rc == 0)
			ck_assert_msg(u.host.off == pl && u.host.len == n, "%s", s);
	}
}
END_TEST

/* url_parse() recognises "https://" and "http://" eight bytes at a time:
 * every byte value at each of those positions gives the scheme that a
 * byte-by-byte reading gives (letters in any case; no control folded into
 * ':' or '/'), and the same spans. */
static int
ci_prefix(const char *s, const char *lit)
{
	size_t i;

	for (i = 0; lit[i] != '\0'; i++)
		if (s[i] != lit[i] && !(lit[i] >= 'a' && lit[i] <= 'z' && s[i] == lit[i] - 32))
			return 0;
	return 1;
}

START_TEST(parse_http_prefix_bytes)
{
	static const char *const base[] = { "https://e.x/p?q", "http://e.x/p?q", "http:/\\e.x/p" };
	char s[32];
	struct url u;
	size_t b, i, n;
	int c, rc;

	for (b = 0; b < sizeof base / sizeof base[0]; b++) {
		n = strlen(base[b]);
		for (i = 0; i < 8; i++) {
			for (c = 0; c < 256; c++) {
				enum url_scheme want = URL_SCHEME_OTHER;

				memcpy(s, base[b], n);
				s[i] = (char)c;
				if (ci_prefix(s, "https:"))
					want = URL_SCHEME_HTTPS;
				else if (ci_prefix(s, "http:"))
					want = URL_SCHEME_HTTP;
				rc = url_parse(s, n, &u);
				if (want == URL_SCHEME_OTHER) {
					ck_assert_msg(u.scheme != URL_SCHEME_HTTP && u.scheme != URL_SCHEME_HTTPS,
					    "%zu %d", i, c);
					continue;
				}
				ck_assert_msg(u.scheme == want, "%zu %d", i, c);
				ck_assert_uint_eq(u.scheme_s.off, 0);
				ck_assert_uint_eq(u.scheme_s.len, want == URL_SCHEME_HTTPS ? 5 : 4);
				if (rc == 0)
					ck_assert_msg(u.path.len > 0 && (URL_PTR(&u, u.path)[0] == '/' ||
					    URL_PTR(&u, u.path)[0] == '\\'), "%zu %d", i, c);
			}
		}
	}
	/* the same URL in its every case */
	for (c = 0; c < 32; c++) {
		memcpy(s, "https://e.x/p", 14);
		for (i = 0; i < 5; i++)
			if (c & (1 << i))
				s[i] = (char)(s[i] - 32);
		ck_assert_int_eq(url_parse(s, 13, &u), 0);
		ck_assert_int_eq(u.scheme, URL_SCHEME_HTTPS);
		ck_assert(!(u.flags & URL_F_NONCANON));
		ck_assert(span_is(&u, u.host, "e.x"));
		ck_assert(span_is(&u, u.path, "/p"));
	}
	/* more slashes after the eight bytes still count */
	ck_assert_int_eq(parse("https:///e.x/p", &u), 0);
	ck_assert(u.flags & URL_F_NONCANON);
	ck_assert(span_is(&u, u.host, "e.x"));
	ck_assert_int_eq(parse("http://\\e.x/p", &u), 0);
	ck_assert(u.flags & URL_F_NONCANON);
}
END_TEST

/* ---- url_path_has_token against the logic it replaced ----------------------- */

/* The engine's former per-segment test (rewrite.c segment_is_token), kept
 * here as the reference: counts per class over the segment without its
 * extension. */
static int
ref_segment_is_token(const char *s, size_t n)
{
	size_t i, digits = 0, letters = 0, hex = 0, b64 = 0;
	const char *dot;

	if (n < 10)
		return 0;
	dot = memchr(s, '.', n);
	if (dot != NULL && n - (size_t)(dot - s) <= 5)
		n = (size_t)(dot - s);
	if (n < 10)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int dig = c >= '0' && c <= '9';
		int let = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		int hx = dig || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

		digits += dig;
		letters += let;
		hex += hx;
		b64 += dig || let || c == '-' || c == '_' || c == '=' || c == '%';
	}
	if (digits >= 2 && letters >= 1 && b64 == n)
		return 1;
	if (n >= 12 && hex == n)
		return 1;
	if (n >= 20 && b64 == n)
		return 1;
	return 0;
}

static int
ref_path_has_token(const char *p, size_t n)
{
	size_t i, seg;

	for (i = 0, seg = 0; i <= n; i++) {
		if (i == n || p[i] == '/' || p[i] == '\\' || p[i] == ';') {
			if (i > seg && ref_segment_is_token(p + seg, i - seg))
				return 1;
			seg = i + 1;
		}
	}
	return 0;
}

START_TEST(path_token_cases)
{
	static const struct { const char *path; int want; } c[] = {
		{ "/img/product-12.jpg", 1 },	/* "product-12": 2 digits, letters */
		{ "/img/banner-12.jpg", 0 },	/* 9 bytes */
		{ "/img/logo.png", 0 },
		{ "/o/abcdef012345", 1 },	/* 12 hex digits */
		{ "/o/abcdef01234", 1 },	/* 11 bytes, digits and letters */
		{ "/o/abcdefabcde", 0 },	/* letters only, < 20 */
		{ "/o/abcdefghijklmnopqrst", 1 },	/* 20 base64 bytes */
		{ "/o/abcdefghijklmnopqrs", 0 },
		{ "/o/product-12.jpeg", 1 },	/* 4-byte extension dropped */
		{ "/o/product-12.jpegx", 0 },	/* 5 bytes: the '.' stays, no shape */
		{ "/o/product-12.a.b", 1 },	/* the first '.' decides */
		{ "/o/a.product-1234", 0 },
		{ "\\x\\product-12;x", 1 },
		{ ";;;", 0 },
		{ "", 0 },
		{ "product-12", 1 },
		{ "/q/ab%2Fcd%3D12xy", 1 },
		{ "/q/\xc3\xa9product-12", 0 },	/* a byte outside the classes */
	};
	size_t i;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		ck_assert_int_eq(ref_path_has_token(c[i].path, strlen(c[i].path)), c[i].want);
		ck_assert_msg(url_path_has_token(c[i].path, strlen(c[i].path)) == c[i].want,
		    "%s", c[i].path);
	}
}
END_TEST

/* Random paths over an alphabet of every class and the bytes between them. */
START_TEST(path_token_differential)
{
	static const char alpha[] = "aZf0F9g-_=%./\\;x.1/\x80 ?#A";
	char p[64];
	unsigned long x = 0x2545F4914F6CDD1DUL;
	size_t n, i, k, hits = 0;

	for (k = 0; k < 100000; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = (size_t)(x % sizeof p);
		for (i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* long runs of one class now and then, to reach 10..25 bytes */
			p[i] = (x & 0x300) == 0 && i > 0 ? p[i - 1] : alpha[(x >> 16) % (sizeof alpha - 1)];
		}
		hits += ref_path_has_token(p, n);
		ck_assert_msg(url_path_has_token(p, n) == ref_path_has_token(p, n), "%.*s", (int)n, p);
	}
	ck_assert(hits > 1000);	/* the loop reached both answers */
}
END_TEST

/* ---- url_query_begin_parsed against url_query_begin ----------------------------- */

/* 1 when S parsed with a query and both iterations agreed. */
static int
check_query_iters(const char *s, size_t n)
{
	struct url_query_iter a, b;
	struct url_param pa, pb;
	struct url u;
	int ra, rb;

	if (url_parse(s, n, &u) != 0)
		return 0;
	if (u.flags & URL_F_NEVER_TOUCH) {	/* cid:, data: have no query */
		url_query_begin_parsed(&b, &u, n);
		ck_assert(!url_query_next(&b, &pb));
		return 0;
	}
	url_query_begin(&a, s, n, 0);
	url_query_begin_parsed(&b, &u, n);
	do {
		ra = url_query_next(&a, &pa);
		rb = url_query_next(&b, &pb);
		ck_assert_msg(ra == rb, "%.*s", (int)n, s);
		if (ra)
			ck_assert_msg(memcmp(&pa, &pb, sizeof pa) == 0, "%.*s", (int)n, s);
	} while (ra);
	return (u.flags & URL_F_HAS_QUERY) != 0;
}

START_TEST(query_parsed_cases)
{
	static const char *const c[] = {
		"https://e.x/p?a=1&b=2#f?g=3",
		"https://e.x/p#f?a=1",
		"https://e.x/p?",
		"https://e.x/p?#",
		"https://e.x?a=1",
		"https://e.x#?a=1",
		"https://u?v@e.x/p?a",
		"https://e.x/p?a=1&b=2  ",
		"https://e.x/p?a=1 \x01#f ",
		"  https://e.x/p?a=1;b=2&&c",
		"//e.x/p?a=1",
		"mailto:a@e.x?subject=x&body=y",
		"mailto:a@e.x#x?subject=x",
		"data:x?y=1",
		"cid:x?y=1",
		"ftp://e.x/p?a=1",
	};
	struct url_query_iter it;
	struct url_param p;
	struct url u;
	size_t i;

	for (i = 0; i < sizeof c / sizeof c[0]; i++)
		check_query_iters(c[i], strlen(c[i]));
	/* the trailing spaces the parse ignored stay in the last value */
	ck_assert_int_eq(parse("https://e.x/p?a=1 ", &u), 0);
	url_query_begin_parsed(&it, &u, 18);
	ck_assert(url_query_next(&it, &p));
	ck_assert_uint_eq(p.value_len, 2);
	ck_assert(!url_query_next(&it, &p));
}
END_TEST

START_TEST(query_parsed_differential)
{
	static const char *const base[] = { "https://e.x", "http://a.b.c/", "//h.x/", "mailto:q",
		"HTTPS:\\\\e.x\\", "https://u@e.x:80", " https://e.x/", "https://e.x/p?" };
	static const char alpha[] = "a=&;?#/%@:x \x01";
	char s[64];
	unsigned long x = 0x9E3779B97F4A7C15UL;
	size_t n, b, i, k, queries = 0;

	for (k = 0; k < 100000; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b = (size_t)(x % (sizeof base / sizeof base[0]));
		n = strlen(base[b]);
		memcpy(s, base[b], n);
		for (i = n + (size_t)((x >> 8) % (sizeof s - n)); n < i; n++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			s[n] = alpha[(x >> 16) % (sizeof alpha - 1)];
		}
		queries += (size_t)check_query_iters(s, n);
	}
	ck_assert(queries > 20000);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("url");
	TCase *tc = tcase_create("url");

	/* the differential tests run 100,000 cases each: seconds under ASan */
	tcase_set_timeout(tc, 60);

	tcase_add_test(tc, parse_full);
	tcase_add_test(tc, parse_edges);
	tcase_add_test(tc, valid_absolute);
	tcase_add_test(tc, parsed_valid_absolute_random);
	tcase_add_test(tc, decode_percent_random);
	tcase_add_test(tc, parse_host_paths);
	tcase_add_test(tc, parse_schemes);
	tcase_add_test(tc, bytes_at_every_position);
	tcase_add_test(tc, host_lower);
	tcase_add_test(tc, strip_params);
	tcase_add_test(tc, query_find);
	tcase_add_test(tc, html_attr_escape);
	tcase_add_test(tc, decoders);
	tcase_add_test(tc, text_finder);
	tcase_add_test(tc, garbage_is_safe);
	tcase_add_test(tc, parse_scan_differential);
	tcase_add_test(tc, parse_http_prefix_bytes);
	tcase_add_test(tc, parse_host_differential);
	tcase_add_test(tc, path_token_cases);
	tcase_add_test(tc, path_token_differential);
	tcase_add_test(tc, query_parsed_cases);
	tcase_add_test(tc, query_parsed_differential);
	suite_add_tcase(s, tc);
	return cm_run_suite(s);
}
