/* test_buf.c - the growable byte buffer. */
#include "build-config.h"
#include "tap.h"
#include "buf.h"

#include <string.h>

START_TEST(append_grows_and_terminates)
{
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(buf_append(&b, "abc", 3), 0);
	ck_assert_uint_eq(b.len, 3000);
	ck_assert_int_eq(b.data[b.len], '\0');
	ck_assert_int_eq(memcmp(b.data + 2997, "abc", 3), 0);
	ck_assert_uint_ge(b.cap, b.len + 1);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(nul_bytes_and_printf)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(buf_append(&b, "a\0b", 3), 0);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(buf_printf(&b, "%d-%s", 42, "x"), 0);
	ck_assert_int_eq(memcmp(b.data, "a\0b42-x", 7), 0);
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	ck_assert_int_eq(buf_puts(&b, "again"), 0);
	ck_assert_str_eq(b.data, "again");
	ck_assert_int_eq(buf_append(&b, NULL, 0), 0);
	buf_free(&b);
}
END_TEST

START_TEST(overflow_refused)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "x");
	ck_assert_int_eq(buf_reserve(&b, (size_t)-1), -1);
	ck_assert_str_eq(b.data, "x");	/* unchanged */
	buf_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("buf");
	TCase *t = tcase_create("buf");

	tcase_add_test(t, append_grows_and_terminates);
	tcase_add_test(t, nul_bytes_and_printf);
	tcase_add_test(t, overflow_refused);
	suite_add_tcase(s, t);
	return cm_run_suite(s);
}
