/* tap.h - run a Check suite with TAP output on stdout, for Automake's TAP driver.
 * Each Check test case (tcase_add_test) becomes one TAP line. */
#ifndef CM_TEST_TAP_H
#define CM_TEST_TAP_H

#include <check.h>
#include <stdlib.h>

static inline int
cm_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_set_tap(sr, "-");
	/* Fork mode keeps one crashing test from hiding the others; sanitizer
	 * reports still reach stderr and fail that test. */
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
