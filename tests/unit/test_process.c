/* test_process.c - process_body(), the end-of-message path, when memory
 * runs out inside the tracking engine's part callback: the whole message is
 * abandoned with a reason (MIME_ERROR, accepted unchanged by the milter and
 * logged), never one part silently kept with its trackers.
 *
 * Linked with -Wl,--wrap=calloc: the calls libconsent makes go through
 * __wrap_calloc(), which fails on request for arrays of struct mime_edit
 * (the edit list process.c hands to the MIME layer) and passes everything
 * else on. */
#include "build-config.h"
#include "tap.h"
#include "config.h"
#include "headers.h"
#include "mime.h"
#include "process.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__real_calloc(size_t nmemb, size_t size);
void *__wrap_calloc(size_t nmemb, size_t size);

static int fail_edit_lists;	/* 1: calloc of struct mime_edit arrays fails */
static int edit_lists_asked;	/* such callocs seen */

void *
__wrap_calloc(size_t nmemb, size_t size)
{
	if (size == sizeof(struct mime_edit)) {
		edit_lists_asked++;
		if (fail_edit_lists)
			return NULL;
	}
	return __real_calloc(nmemb, size);
}

static const char headers[] =
	"From: news@shop.example\r\nTo: reader@rcpt.example\r\nSubject: news\r\n"
	"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n\r\n";
static const char body[] =
	"<p>Hello</p><img src=3D\"https://abc.r.eu-west-1.awstrack.me/I0/0102018c-1/xYz\" =\r\n"
	"width=3D\"1\" height=3D\"1\" alt=3D\"\"><p>Bye</p>\r\n";

static void
run(int fail, struct process_result *r)
{
	static const struct process_rcpt rcpt = { "reader@rcpt.example", "reader@rcpt.example" };
	struct cfg_error *errs = NULL;
	struct cm_config *cfg = cfg_defaults();
	struct header_list hl = { 0 };
	struct process_input in;
	struct engine *e;
	char rules[1024], err[256];
	const char *top = getenv("top_srcdir");
	size_t used;

	snprintf(rules, sizeof rules, "%s/etc/trackers.conf", top ? top : "..");
	ck_assert_int_eq(cfg_set(cfg, "TrackerRules", rules, "(test)", 1, &errs), 0);
	e = engine_open(cfg, err, sizeof err);
	ck_assert_msg(e != NULL, "%s", err);
	ck_assert_int_eq(headers_parse(headers, sizeof headers - 1, &hl, &used), 0);
	memset(&in, 0, sizeof in);
	in.hdrs = &hl;
	in.body = body;
	in.blen = sizeof body - 1;
	in.rcpts = &rcpt;
	in.nrcpt = 1;
	in.consent = 0;
	edit_lists_asked = 0;
	fail_edit_lists = fail;
	process_body(e, &in, r);
	fail_edit_lists = 0;
	headers_free(&hl);
	engine_close(e);
	cfg_free(cfg);
}

START_TEST(pixel_removed)
{
	struct process_result r;

	run(0, &r);
	ck_assert_int_eq(r.status, MIME_CHANGED);
	ck_assert_uint_eq(r.counts.pixels_removed, 1);
	ck_assert_ptr_null(strstr(r.body.data, "awstrack"));
	ck_assert_int_gt(edit_lists_asked, 0);
	process_result_free(&r);
}
END_TEST

START_TEST(edit_list_without_memory)
{
	struct process_result r;

	run(1, &r);
	ck_assert_int_gt(edit_lists_asked, 0);
	ck_assert_int_eq(r.status, MIME_ERROR);
	ck_assert_str_eq(r.why, "out of memory in the tracking engine");
	ck_assert_uint_eq(r.body.len, 0);
	process_result_free(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("process");
	TCase *tc = tcase_create("process");

	mime_global_init();
	tcase_add_test(tc, pixel_removed);
	tcase_add_test(tc, edit_list_without_memory);
	suite_add_tcase(s, tc);
	return cm_run_suite(s);
}
