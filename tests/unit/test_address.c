/* test_address.c - address normalisation table, HMAC-SHA256 known answers
 * (computed independently with `openssl dgst -sha256 -mac HMAC`), key-file
 * refusal, and the consent-combining helpers of store.h. */
#include "build-config.h"
#include "tap.h"
#include "address.h"
#include "config.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct norm_case {
	const char *in, *subdelim;
	int case_sensitive;
	const char *want;	/* NULL: rejected */
	const char *why;	/* substring of the reason when rejected */
};

static const struct norm_case norm_cases[] = {
	{ "Alice@Example.COM", "+", 0, "alice@example.com", NULL },
	{ "  <Alice@Example.com>  ", "+", 0, "alice@example.com", NULL },
	{ "<bob@example.com>", "+", 0, "bob@example.com", NULL },
	{ "Alice@Example.COM", "+", 1, "Alice@example.com", NULL },
	{ "alice+news@example.com", "+", 0, "alice@example.com", NULL },
	{ "alice+news+x@example.com", "+", 0, "alice@example.com", NULL },
	{ "alice-news@example.com", "+-", 0, "alice@example.com", NULL },
	{ "alice+news@example.com", "", 0, "alice+news@example.com", NULL },
	{ "alice+news@example.com", NULL, 0, "alice+news@example.com", NULL },
	{ "+news@example.com", "+", 0, "+news@example.com", NULL },
	{ "\"A B\"@example.com", "+", 0, "\"a b\"@example.com", NULL },
	{ "\"a+b\"@example.com", "+", 0, "\"a+b\"@example.com", NULL },
	{ "user@M\xc3\x9cNCHEN.de", "+", 0, "user@xn--mnchen-3ya.de", NULL },
	{ "user@m\xc3\xbcnchen.de", "+", 0, "user@xn--mnchen-3ya.de", NULL },
	{ "user@\xe4\xbe\x8b\xe3\x81\x88.jp", "+", 0, "user@xn--r8jz45g.jp", NULL },
	{ "user@XN--MNCHEN-3YA.DE", "+", 0, "user@xn--mnchen-3ya.de", NULL },
	{ "user@[192.0.2.1]", "+", 0, "user@[192.0.2.1]", NULL },
	{ "aliceexample.com", "+", 0, NULL, "no @" },
	{ "@example.com", "+", 0, NULL, "empty local part" },
	{ "alice@", "+", 0, NULL, "empty domain" },
	{ "", "+", 0, NULL, "empty address" },
	{ "<>", "+", 0, NULL, "empty address" },
	{ "   ", "+", 0, NULL, "empty address" },
	{ "<alice@example.com", "+", 0, NULL, "angle bracket" },
	{ "ali\rce@example.com", "+", 0, NULL, "control byte" },
	{ "alice@exa\nmple.com", "+", 0, NULL, "control byte" },
	{ "alice@exa\x7fmple.com", "+", 0, NULL, "control byte" },
	{ "al ice@example.com", "+", 0, NULL, "blank" },
	{ "alice@example..com", "+", 0, NULL, "empty label" },
	{ "alice@.example.com", "+", 0, NULL, "empty label" },
	{ "alice@example.com.", "+", 0, NULL, "empty label" },
	{ "alice@\xff\xfe.com", "+", 0, NULL, "UTF-8" },
	{ "\"alice@example.com", "+", 0, NULL, "quote" },
};

START_TEST(normalise_table)
{
	const struct norm_case *c = &norm_cases[_i];
	char out[ADDRESS_MAX + 1];
	const char *why = NULL;
	int rc = address_normalise(c->in, c->subdelim, c->case_sensitive, out, &why);

	if (c->want) {
		ck_assert_msg(rc == 0, "case %d: rejected: %s", _i, why ? why : "?");
		ck_assert_str_eq(out, c->want);
	} else {
		ck_assert_msg(rc == -1, "case %d: accepted as %s", _i, out);
		ck_assert_ptr_nonnull(why);
		ck_assert_msg(strstr(why, c->why) != NULL, "case %d: reason \"%s\"", _i, why);
	}
}
END_TEST

START_TEST(normalise_length)
{
	char in[400], out[ADDRESS_MAX + 1];
	const char *why = NULL;

	/* exactly 254 octets: accepted */
	memset(in, 'a', 64);
	in[64] = '@';
	memset(in + 65, 'b', 185);
	memcpy(in + 250, ".com", 5);
	ck_assert_int_eq((int)strlen(in), 254);
	ck_assert_int_eq(address_normalise(in, "+", 0, out, &why), 0);
	ck_assert_str_eq(out, in);
	/* 255 octets: rejected */
	memset(in + 65, 'b', 186);
	memcpy(in + 251, ".com", 5);
	ck_assert_int_eq(address_normalise(in, "+", 0, out, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "254"));
	/* much longer, and NULL */
	memset(in, 'x', sizeof in - 1);
	in[sizeof in - 1] = '\0';
	in[10] = '@';
	ck_assert_int_eq(address_normalise(in, "+", 0, out, &why), -1);
	ck_assert_int_eq(address_normalise(NULL, "+", 0, out, &why), -1);
}
END_TEST

static void
key_from_hex(struct address_key *k, const char *hex)
{
	size_t i;

	memset(k, 0, sizeof *k);
	k->len = strlen(hex) / 2;
	for (i = 0; i < k->len; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		k->bytes[i] = (unsigned char)v;
	}
}

/* Expected values from:
 *   printf '%s' ADDR | openssl dgst -sha256 -mac HMAC -macopt hexkey:KEY */
/* _i == 0: OpenSSL's HMAC(); _i == 1: the precomputed states. */
START_TEST(hmac_known_answers)
{
	static const char k32[] = "000102030405060708090a0b0c0d0e0f"
				  "101112131415161718191a1b1c1d1e1f";
	struct address_key k;
	char out[ADDRESS_STORE_KEY_MAX];

	key_from_hex(&k, k32);
	if (_i == 1)
		ck_assert_int_eq(address_key_prepare(&k), 0);
	ck_assert_int_eq(address_store_key(&k, "cm:", "alice@example.com", out, sizeof out),
			 3 + 2 + 64);
	ck_assert_str_eq(out, "cm:c:a59fc578d4cb46faab1d6eb348e7c74b33b85122d6459fdb7bf5654b333acab4");
	address_store_key(&k, "", "bob@xn--mnchen-3ya.de", out, sizeof out);
	ck_assert_str_eq(out, "c:1a7fdef3c1871c2112ef35e668be2f00514c3ef2d2f6065c334d1e4adaf2003d");
	address_store_key(&k, "x:", "o'brien@example.org", out, sizeof out);
	ck_assert_str_eq(out, "x:c:c405e6210802ed06c2f44ef2a413c5278f043645dab2b04feb24980a9ab5ab61");
	/* 64-byte key: 64 times 'k' */
	memset(k.bytes, 'k', 64);
	k.len = 64;
	if (_i == 1)
		ck_assert_int_eq(address_key_prepare(&k), 0);
	address_store_key(&k, "cm:", "alice@example.com", out, sizeof out);
	ck_assert_str_eq(out, "cm:c:b7ead422dcded6ce596faf2b127316e6aec93960be5ee3e2c6882b43abb3c223");
	/* too small an output buffer */
	ck_assert_int_eq(address_store_key(&k, "cm:", "a@b", out, 60), -1);
	address_key_wipe(&k);
}
END_TEST

START_TEST(key_for_uses_config)
{
	struct cm_config *cfg = cfg_defaults();
	struct address_key k;
	char a[ADDRESS_STORE_KEY_MAX], b[ADDRESS_STORE_KEY_MAX];
	const char *why = NULL;

	ck_assert_ptr_nonnull(cfg);
	key_from_hex(&k, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	ck_assert_int_gt(address_key_for(cfg, &k, "<Alice+Promo@EXAMPLE.com>", a, sizeof a, &why), 0);
	ck_assert_str_eq(a, "cm:c:a59fc578d4cb46faab1d6eb348e7c74b33b85122d6459fdb7bf5654b333acab4");
	ck_assert_int_eq(address_key_for(cfg, &k, "no-at-sign", b, sizeof b, &why), -1);
	ck_assert_ptr_nonnull(why);
	cfg_free(cfg);
}
END_TEST

static char *
write_key_file(const char *text, mode_t mode)
{
	char *path = strdup("/tmp/cm-test-key-XXXXXX");
	int fd = mkstemp(path);
	size_t n = strlen(text);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq((int)write(fd, text, n), (int)n);
	close(fd);
	ck_assert_int_eq(chmod(path, mode), 0);
	return path;
}

START_TEST(key_file_refusals)
{
	static const char good[] = "000102030405060708090a0b0c0d0e0f"
				   "101112131415161718191a1b1c1d1e1f\n";
	struct address_key k;
	char err[512], *p;

	p = write_key_file(good, 0600);
	ck_assert_int_eq(address_key_load(p, &k, err, sizeof err), 0);
	ck_assert_int_eq((int)k.len, 32);
	ck_assert_int_eq(k.bytes[31], 0x1f);
	{
		char out[ADDRESS_STORE_KEY_MAX];

		ck_assert_int_gt(address_store_key(&k, "cm:", "alice@example.com", out, sizeof out), 0);
		ck_assert_str_eq(out, "cm:c:a59fc578d4cb46faab1d6eb348e7c74b33b85122d6459fdb7bf5654b333acab4");
	}
	address_key_wipe(&k);
	ck_assert_int_eq(chmod(p, 0640), 0);
	ck_assert_int_eq(address_key_load(p, &k, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "group or others"));
	ck_assert_int_eq(chmod(p, 0604), 0);
	ck_assert_int_eq(address_key_load(p, &k, err, sizeof err), -1);
	ck_assert_int_eq(chmod(p, 0400), 0);
	ck_assert_int_eq(address_key_load(p, &k, err, sizeof err), 0);
	address_key_wipe(&k);
	unlink(p);
	free(p);

	/* 31 bytes: too short */
	p = write_key_file("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e\n", 0600);
	ck_assert_int_eq(address_key_load(p, &k, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "too short"));
	unlink(p);
	free(p);
	/* not hex */
	p = write_key_file("zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 0600);
	ck_assert_int_eq(address_key_load(p, &k, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "hex"));
	unlink(p);
	free(p);
	/* missing */
	ck_assert_int_eq(address_key_load("/nonexistent/key", &k, err, sizeof err), -1);
	ck_assert_int_eq(address_key_load("/tmp", &k, err, sizeof err), -1);
}
END_TEST

START_TEST(consent_bits)
{
	struct consent c[3] = { { 1, 1 }, { 1, 0 }, { -1, -1 } };

	ck_assert_uint_eq(store_consent_bits(&c[0], 0), CONSENT_ALL);
	ck_assert_uint_eq(store_consent_bits(&c[1], 3), CONSENT_OPEN);
	ck_assert_uint_eq(store_consent_bits(&c[2], 0), CONSENT_NONE);
	ck_assert_uint_eq(store_consent_bits(&c[2], 2), CONSENT_CLICK);
	ck_assert_uint_eq(store_consent_bits(&c[2], 3), CONSENT_ALL);
	ck_assert_uint_eq(store_combine(c, 1, 0), CONSENT_ALL);
	ck_assert_uint_eq(store_combine(c, 2, 0), CONSENT_OPEN);
	ck_assert_uint_eq(store_combine(c, 3, 0), CONSENT_NONE);
	ck_assert_uint_eq(store_combine(c, 3, 1), CONSENT_OPEN);
	ck_assert_uint_eq(store_combine(c, 0, 2), CONSENT_CLICK);
	ck_assert_int_eq(store_error_bits(STORE_ON_ERROR_STRIP), 0);
	ck_assert_int_eq(store_error_bits(STORE_ON_ERROR_ACCEPT), 3);
	ck_assert_int_eq(store_error_bits(STORE_ON_ERROR_TEMPFAIL), -1);
}
END_TEST

START_TEST(times)
{
	char out[32];

	ck_assert_int_eq(store_parse_time("2024-03-01T10:20:30Z", out, sizeof out), 0);
	ck_assert_str_eq(out, "2024-03-01T10:20:30Z");
	ck_assert_int_eq(store_parse_time("2024-03-01T01:20:30.123+02:00", out, sizeof out), 0);
	ck_assert_str_eq(out, "2024-02-29T23:20:30Z");
	ck_assert_int_eq(store_parse_time("2024-03-01", out, sizeof out), 0);
	ck_assert_str_eq(out, "2024-03-01T00:00:00Z");
	ck_assert_int_eq(store_parse_time("2023-02-29", out, sizeof out), -1);
	ck_assert_int_eq(store_parse_time("2024-03-01T10:20:30", out, sizeof out), -1);
	ck_assert_int_eq(store_parse_time("yesterday", out, sizeof out), -1);
	ck_assert_int_eq(store_parse_time("", out, sizeof out), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("address");
	TCase *t = tcase_create("address");

	tcase_add_loop_test(t, normalise_table, 0, (int)(sizeof norm_cases / sizeof norm_cases[0]));
	tcase_add_test(t, normalise_length);
	tcase_add_loop_test(t, hmac_known_answers, 0, 2);
	tcase_add_test(t, key_for_uses_config);
	tcase_add_test(t, key_file_refusals);
	tcase_add_test(t, consent_bits);
	tcase_add_test(t, times);
	suite_add_tcase(s, t);
	return cm_run_suite(s);
}
