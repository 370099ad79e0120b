/* test_stats.c - counters, quantiles, the stats line, the Prometheus file. */
#include "build-config.h"
#include "tap.h"
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
fake_store(struct stats_store *s)
{
	s->lookups = 7;
	s->errors = 2;
	s->failovers = 1;
}

START_TEST(line_has_every_figure)
{
	struct stats_counts c = { 3, 1, 2, 4, 5, 6, 1 };
	char line[1024];

	stats_reset();
	stats_set_store_source(fake_store);
	stats_message(ACT_REWRITTEN, &c, 1000, 150);
	stats_message(ACT_REWRITTEN, &c, 1000, 150);
	stats_message(ACT_SKIPPED, NULL, 0, 0);
	stats_message(ACT_ERROR, NULL, 10, 0);
	stats_format_line(line, sizeof line);
	ck_assert_msg(strstr(line, "stats: messages rewritten=2 unchanged=0 skipped=1 exempt=0 "
			     "oversize=0 error=1 pixels=6 resources=2 unwrapped=4 cleaned=8 "
			     "anonymized=10 unresolved=12 pii=2 store_lookups=7 store_errors=2 "
			     "store_failovers=1 ") == line, "%s", line);
	ck_assert_msg(strstr(line, " bytes=2010") != NULL, "%s", line);
	stats_set_store_source(NULL);
}
END_TEST

START_TEST(quantiles_from_buckets)
{
	int i;

	stats_reset();
	ck_assert_int_eq((int)stats_quantile_us(0.5), 0);
	for (i = 0; i < 90; i++)
		stats_message(ACT_UNCHANGED, NULL, 0, 150);	/* bucket <= 200 us */
	for (i = 0; i < 9; i++)
		stats_message(ACT_UNCHANGED, NULL, 0, 4000);	/* bucket <= 5 ms */
	stats_message(ACT_UNCHANGED, NULL, 0, 900000);	/* bucket <= 1 s */
	ck_assert_int_eq((int)stats_quantile_us(0.50), 200);
	ck_assert_int_eq((int)stats_quantile_us(0.90), 200);
	ck_assert_int_eq((int)stats_quantile_us(0.99), 5000);
	ck_assert_int_eq((int)stats_quantile_us(1.0), 1000000);
	stats_message(ACT_UNCHANGED, NULL, 0, 99000000);	/* beyond the last bound */
	ck_assert_int_eq((int)stats_quantile_us(1.0), 100000000);
}
END_TEST

START_TEST(prometheus_file)
{
	char path[] = "/tmp/cm-test-stats.XXXXXX";
	char file[128], buf[8192];
	struct stat sb;
	size_t n;
	FILE *fp;

	ck_assert_ptr_nonnull(mkdtemp(path));
	snprintf(file, sizeof file, "%s/consent_milter.prom", path);
	stats_reset();
	stats_message(ACT_EXEMPT, NULL, 5, 30);
	ck_assert_int_eq(stats_write_prometheus(file), 0);
	ck_assert_int_eq(stat(file, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0644);
	fp = fopen(file, "r");
	n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(buf, "consent_milter_messages_total{action=\"exempt\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(buf, "consent_milter_eom_seconds_bucket{le=\"5e-05\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(buf, "consent_milter_eom_seconds_bucket{le=\"+Inf\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(buf, "consent_milter_eom_seconds_count 1\n"));
	unlink(file);
	/* No temporary file is left behind, and a missing directory is an error. */
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(stats_write_prometheus("/nonexistent-dir/x.prom"), -1);
}
END_TEST

START_TEST(action_names)
{
	ck_assert_str_eq(stats_action_name(ACT_REWRITTEN), "rewritten");
	ck_assert_str_eq(stats_action_name(ACT_OVERSIZE), "oversize");
	ck_assert_str_eq(stats_action_name((enum stats_action)99), "?");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("stats");
	TCase *t = tcase_create("stats");

	tcase_add_test(t, line_has_every_figure);
	tcase_add_test(t, quantiles_from_buckets);
	tcase_add_test(t, prometheus_file);
	tcase_add_test(t, action_names);
	suite_add_tcase(s, t);
	return cm_run_suite(s);
}
