/* test_headers.c - header list, header block, parsing and edits. */
#include "build-config.h"
#include "tap.h"
#include "headers.h"

#include <string.h>

START_TEST(add_get_count)
{
	struct header_list h = { 0 };

	ck_assert_int_eq(headers_add(&h, "Subject", " one"), 0);
	ck_assert_int_eq(headers_add(&h, "X-A", " a1"), 0);
	ck_assert_int_eq(headers_add(&h, "x-a", " a2"), 0);
	ck_assert_int_eq(headers_count(&h, "X-A"), 2);
	ck_assert_str_eq(headers_get(&h, "X-a", 2), " a2");
	ck_assert_ptr_null(headers_get(&h, "X-A", 3));
	ck_assert_ptr_null(headers_get(&h, "Nope", 1));
	headers_free(&h);
}
END_TEST

START_TEST(block_is_exact)
{
	struct header_list h = { 0 };
	struct buf b = BUF_INIT;

	headers_add(&h, "Subject", " hello");
	headers_add(&h, "To", " a@example.org,\n\tb@example.org");
	headers_add(&h, "X-Empty", "");
	/* bare LFs become CRLF wherever they are; CRLFs stay as they are */
	headers_add(&h, "X-Mixed", "\n a\r\n b\n\n c\r\r\n d\n");
	ck_assert_int_eq(headers_block(&h, &b), 0);
	ck_assert_str_eq(b.data, "Subject: hello\r\nTo: a@example.org,\r\n\tb@example.org\r\n"
			 "X-Empty:\r\nX-Mixed:\r\n a\r\n b\r\n\r\n c\r\r\n d\r\n\r\n");
	buf_free(&b);
	headers_free(&h);
}
END_TEST

START_TEST(parse_crlf_and_lf)
{
	const char *crlf = "From: a@x\r\nSubject: folded\r\n line\r\n\r\nbody\r\n";
	const char *lf = "From: a@x\nSubject:x\n\nbody\n";
	struct header_list h = { 0 };
	struct buf b = BUF_INIT;
	size_t used;

	ck_assert_int_eq(headers_parse(crlf, strlen(crlf), &h, &used), 0);
	ck_assert_str_eq(crlf + used, "body\r\n");
	ck_assert_int_eq((int)h.n, 2);
	ck_assert_str_eq(headers_get(&h, "subject", 1), " folded\n line");
	headers_block(&h, &b);
	ck_assert_int_eq(memcmp(b.data, crlf, b.len), 0);	/* round trip */
	headers_free(&h);
	buf_free(&b);

	ck_assert_int_eq(headers_parse(lf, strlen(lf), &h, &used), 0);
	ck_assert_str_eq(lf + used, "body\n");
	ck_assert_str_eq(headers_get(&h, "Subject", 1), "x");
	headers_free(&h);
}
END_TEST

START_TEST(parse_rejects_garbage)
{
	struct header_list h = { 0 };
	size_t used;

	ck_assert_int_eq(headers_parse("no colon here\r\n\r\n", 17, &h, &used), -1);
	headers_clear(&h);
	ck_assert_int_eq(headers_parse("A: b\r\nno separator", 18, &h, &used), -1);
	headers_clear(&h);
	ck_assert_int_eq(headers_parse(": empty name\r\n\r\n", 16, &h, &used), -1);
	headers_clear(&h);
	ck_assert_int_eq(headers_parse(" continuation first\r\n\r\n", 23, &h, &used), -1);
	headers_free(&h);
}
END_TEST

START_TEST(value_trim_unfolds)
{
	char out[64];

	headers_value_trim("  security \n\t now ", out, sizeof out);
	ck_assert_str_eq(out, "security now");
	headers_value_trim("", out, sizeof out);
	ck_assert_str_eq(out, "");
	headers_value_trim(" abcdefgh", out, 5);
	ck_assert_str_eq(out, "abcd");
}
END_TEST

START_TEST(edits_apply_like_the_mta)
{
	struct header_list h = { 0 };
	struct hdr_edits e = { 0 };

	headers_add(&h, "A", " 1");
	headers_add(&h, "B", " 2");
	headers_add(&h, "A", " 3");
	headers_add(&h, "C", " 4");
	hdr_edits_add(&e, HDR_DELETE, "a", 2, NULL);
	hdr_edits_add(&e, HDR_DELETE, "a", 1, NULL);
	hdr_edits_add(&e, HDR_CHANGE, "C", 1, " four");
	hdr_edits_add(&e, HDR_ADD, "X-New", 0, " yes");
	hdr_edits_add(&e, HDR_DELETE, "Missing", 1, NULL);
	ck_assert_int_eq(hdr_edits_apply(&e, &h), 0);
	ck_assert_int_eq((int)h.n, 3);
	ck_assert_str_eq(h.v[0].name, "B");
	ck_assert_str_eq(h.v[1].value, " four");
	ck_assert_str_eq(h.v[2].name, "X-New");
	hdr_edits_free(&e);
	headers_free(&h);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("headers");
	TCase *t = tcase_create("headers");

	tcase_add_test(t, add_get_count);
	tcase_add_test(t, block_is_exact);
	tcase_add_test(t, parse_crlf_and_lf);
	tcase_add_test(t, parse_rejects_garbage);
	tcase_add_test(t, value_trim_unfolds);
	tcase_add_test(t, edits_apply_like_the_mta);
	suite_add_tcase(s, t);
	return cm_run_suite(s);
}
