/* test_bytes.c - unit tests of the byte-scanning helpers (src/bytes.h):
 * each against a byte-at-a-time loop, at every length around the 8-, 16- and
 * 32-byte steps and with the byte sought at every position, in buffers
 * allocated at their exact size so that ASan sees any read past them. */
#include "build-config.h"
#include "tap.h"
#include "bytes.h"

#include <stdlib.h>
#include <string.h>

static int
naive_low_control(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < 0x0E)
			return 1;
	return 0;
}

static int
naive_either(const unsigned char *s, size_t n, unsigned char a, unsigned char b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == a || s[i] == b)
			return 1;
	return 0;
}

/* Both helpers on S[0..N) filled with FILL and byte C at position P. */
static void
check_one(size_t n, size_t p, unsigned char fill, unsigned char c)
{
	unsigned char *s = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(s);
	memset(s, fill, n);
	if (p < n)
		s[p] = c;
	ck_assert_int_eq(bytes_have_low_control(s, n) != 0, naive_low_control(s, n));
	ck_assert_int_eq(bytes_have_either(s, n, '(', '&') != 0, naive_either(s, n, '(', '&'));
	ck_assert_int_eq(bytes_have_either(s, n, c, c) != 0, naive_either(s, n, c, c));
	free(s);
}

START_TEST(every_length_and_position)
{
	static const unsigned char probes[] = { 0x00, 0x01, 0x09, 0x0A, 0x0D, 0x0E, 0x1F, ' ',
						'(', '&', 0x80, 0x8E, 0xFF };
	static const unsigned char fills[] = { 'a', 0x0E, 0xFF };
	size_t n, p, i, f;

	for (n = 0; n <= 100; n++)
		for (p = 0; p <= n; p++)
			for (i = 0; i < sizeof(probes); i++)
				for (f = 0; f < sizeof(fills); f++)
					check_one(n, p, fills[f], probes[i]);
}
END_TEST

START_TEST(random_buffers)
{
	unsigned char s[100];
	unsigned seed = 7;
	int k;

	for (k = 0; k < 50000; k++) {
		size_t n, i;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % sizeof(s);
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly printable, now and then anything */
			s[i] = (unsigned char)((seed >> 24) % 16 == 0 ? seed >> 16 : 0x21 + (seed >> 16) % 90);
		}
		ck_assert_int_eq(bytes_have_low_control(s, n) != 0, naive_low_control(s, n));
		ck_assert_int_eq(bytes_have_either(s, n, '(', '&') != 0, naive_either(s, n, '(', '&'));
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("bytes");
	TCase *tc = tcase_create("bytes");

	tcase_add_test(tc, every_length_and_position);
	tcase_add_test(tc, random_buffers);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return cm_run_suite(s);
}
