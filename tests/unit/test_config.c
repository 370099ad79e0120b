/* test_config.c - the configuration parser: every key type, every error path. */
#include "build-config.h"
#include "tap.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static char dir[] = "/tmp/cm-test-config.XXXXXX";

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/cm-test-config.XXXXXX");
}

/* Write NAME in the temp dir with TEXT; returns its path (static buffer). */
static const char *
write_file(const char *name, const char *text)
{
	static char path[512];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

/* Load TEXT; return the errors joined by '\n' (or "" and *out set). */
static char errs[4096];

static struct cm_config *
load(const char *text)
{
	struct cfg_error *e = NULL, *p;
	struct cm_config *cfg = cfg_load(write_file("main.conf", text), &e);

	errs[0] = '\0';
	for (p = e; p; p = p->next) {
		/* Strip the temp directory so expectations are stable. */
		const char *t = strstr(p->text, "main.conf") ? strstr(p->text, "main.conf") : p->text;
		strncat(errs, t, sizeof errs - strlen(errs) - 2);
		strcat(errs, "\n");
	}
	if (cfg)
		ck_assert_ptr_null(e);
	else
		ck_assert_ptr_nonnull(e);
	cfg_errors_free(e);
	return cfg;
}

START_TEST(defaults_are_valid)
{
	struct cm_config *c = cfg_defaults();

	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->socket, "local:/run/consent-milter/consent-milter.sock");
	ck_assert_str_eq(c->user_id, "");
	ck_assert_int_eq(c->umask, 007);
	ck_assert_int_eq(c->syslog_facility, LOG_MAIL);
	ck_assert_int_eq(c->log_level, LOG_INFO);
	ck_assert_int_eq(c->shutdown_timeout, 30);
	cfg_free(c);
}
END_TEST

START_TEST(comments_blanks_case)
{
	struct cm_config *c = load("# a comment\n\n   \n  # indented comment\n"
				   "SOCKET   inet:8891@127.0.0.1  \n"
				   "loglevel\tDEBUG\n"
				   "syslogfacility local3\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->socket, "inet:8891@127.0.0.1");
	ck_assert_int_eq(c->log_level, LOG_DEBUG);
	ck_assert_int_eq(c->syslog_facility, LOG_LOCAL3);
	cfg_free(c);
}
END_TEST

START_TEST(later_value_wins)
{
	struct cm_config *c = load("Socket unix:/a\nSocket unix:/b\n");
	ck_assert_str_eq(c->socket, "unix:/b");
	cfg_free(c);
}
END_TEST

START_TEST(socket_forms)
{
	const char *good[] = { "unix:/run/x.sock", "local:/run/x.sock", "/run/x.sock",
		"inet:8891", "inet:8891@localhost", "inet6:8891@[::1]", "INET:1@h" };
	const char *bad[] = { "unix:relative", "inet:0@h", "inet:65536@h", "inet:x@h",
		"inet:25@", "tcp:25", "" };
	char text[256];
	size_t i;

	for (i = 0; i < sizeof good / sizeof *good; i++) {
		struct cm_config *c;
		snprintf(text, sizeof text, "Socket %s\n", good[i]);
		c = load(text);
		ck_assert_msg(c != NULL, "rejected %s: %s", good[i], errs);
		cfg_free(c);
	}
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(text, sizeof text, "Socket %s\n", bad[i]);
		ck_assert_msg(load(text) == NULL, "accepted %s", bad[i]);
		ck_assert_msg(strncmp(errs, "main.conf:1: Socket:", 20) == 0, "%s", errs);
	}
}
END_TEST

START_TEST(user_and_group)
{
	struct cm_config *c = load("UserID root:root\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->user_id, "root:root");
	cfg_free(c);
	ck_assert_ptr_null(load("UserID no-such-user-xyz\n"));
	ck_assert_str_eq(errs, "main.conf:1: UserID: \"no-such-user-xyz\": no such user\n");
	ck_assert_ptr_null(load("UserID root:no-such-group-xyz\n"));
	ck_assert_str_eq(errs, "main.conf:1: UserID: \"root:no-such-group-xyz\": no such group\n");
	ck_assert_ptr_null(load("UserID root:\n"));
}
END_TEST

START_TEST(umask_octal)
{
	struct cm_config *c = load("Umask 0077\n");
	ck_assert_int_eq(c->umask, 077);
	cfg_free(c);
	ck_assert_ptr_null(load("Umask 8\n"));
	ck_assert_ptr_null(load("Umask 1000\n"));
	ck_assert_ptr_null(load("Umask -1\n"));
	ck_assert_str_eq(errs, "main.conf:1: Umask: \"-1\": expected an octal mode from 000 to 777\n");
}
END_TEST

START_TEST(int_range)
{
	struct cm_config *c = load("ShutdownTimeout 0\n");
	ck_assert_int_eq(c->shutdown_timeout, 0);
	cfg_free(c);
	ck_assert_ptr_null(load("ShutdownTimeout 3601\n"));
	ck_assert_str_eq(errs, "main.conf:1: ShutdownTimeout: 3601 is out of range (0 to 3600)\n");
	ck_assert_ptr_null(load("ShutdownTimeout 10s\n"));
	ck_assert_str_eq(errs, "main.conf:1: ShutdownTimeout: \"10s\" is not a number\n");
	ck_assert_ptr_null(load("ShutdownTimeout\n"));
	ck_assert_ptr_null(load("ShutdownTimeout 99999999999999999999999\n"));
}
END_TEST

START_TEST(path_must_be_absolute)
{
	struct cm_config *c = load("PidFile /run/cm.pid\n");
	ck_assert_str_eq(c->pid_file, "/run/cm.pid");
	cfg_free(c);
	c = load("PidFile\n");	/* empty: no pid file */
	ck_assert_str_eq(c->pid_file, "");
	cfg_free(c);
	ck_assert_ptr_null(load("PidFile run/cm.pid\n"));
	ck_assert_str_eq(errs, "main.conf:1: PidFile: \"run/cm.pid\": must be an absolute path\n");
}
END_TEST

START_TEST(facility_and_level_words)
{
	ck_assert_ptr_null(load("SyslogFacility kern\n"));
	ck_assert_ptr_null(load("LogLevel verbose\n"));
	ck_assert_str_eq(errs, "main.conf:1: LogLevel: \"verbose\": expected error, warning, "
			 "notice, info or debug\n");
}
END_TEST

START_TEST(every_error_listed_with_line)
{
	ck_assert_ptr_null(load("# header\nSocket unix:/ok\nSockt unix:/typo\n\n"
				"LogLevel loud\nUmask 9\n"));
	ck_assert_str_eq(errs,
		"main.conf:3: unknown key \"Sockt\"\n"
		"main.conf:5: LogLevel: \"loud\": expected error, warning, notice, info or debug\n"
		"main.conf:6: Umask: \"9\": expected an octal mode from 000 to 777\n");
}
END_TEST

START_TEST(missing_file)
{
	struct cfg_error *e = NULL;

	ck_assert_ptr_null(cfg_load("/nonexistent/consent-milter.conf", &e));
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->text, "/nonexistent/consent-milter.conf:0: cannot open: "
			 "No such file or directory");
	cfg_errors_free(e);
}
END_TEST

START_TEST(include_relative_and_errors)
{
	struct cm_config *c;

	write_file("inc.conf", "LogLevel debug\nBogusKey 1\n");
	ck_assert_ptr_null(load("Include inc.conf\n"));
	ck_assert_msg(strstr(errs, "inc.conf:2: unknown key \"BogusKey\"") != NULL, "%s", errs);

	write_file("inc.conf", "LogLevel debug\n");
	c = load("LogLevel error\nInclude inc.conf\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->log_level, LOG_DEBUG);
	cfg_free(c);

	ck_assert_ptr_null(load("Include missing.conf\n"));
	ck_assert_msg(strstr(errs, "main.conf:1: Include ") != NULL &&
		      strstr(errs, "missing.conf: No such file or directory") != NULL, "%s", errs);
	ck_assert_ptr_null(load("Include\n"));
	ck_assert_str_eq(errs, "main.conf:1: Include: missing file name\n");
}
END_TEST

START_TEST(include_loop_stops)
{
	write_file("loop.conf", "Include loop.conf\n");
	ck_assert_ptr_null(load("Include loop.conf\n"));
	ck_assert_msg(strstr(errs, "nested more than") != NULL, "%s", errs);
}
END_TEST

START_TEST(long_line_and_nul)
{
	char *big = malloc(10000);
	char path[600];
	struct cfg_error *e = NULL;
	FILE *fp;

	memset(big, 'x', 9998);
	big[9998] = '\n';
	big[9999] = '\0';
	ck_assert_ptr_null(load(big));
	ck_assert_msg(strstr(errs, "main.conf:1: line longer than") != NULL, "%s", errs);
	free(big);

	snprintf(path, sizeof path, "%s/nul.conf", dir);
	fp = fopen(path, "w");
	fwrite("LogLevel info\nSocket unix:/a\0b\n", 1, 32, fp);
	fclose(fp);
	ck_assert_ptr_null(cfg_load(path, &e));
	ck_assert_msg(strstr(e->text, "nul.conf:2: NUL byte in line") != NULL, "%s", e->text);
	cfg_errors_free(e);
}
END_TEST

START_TEST(set_from_command_line)
{
	struct cfg_error *e = NULL;
	struct cm_config *c = cfg_defaults();

	ck_assert_int_eq(cfg_set(c, "socket", "inet:1234@127.0.0.1", "(cmdline)", 0, &e), 0);
	ck_assert_str_eq(c->socket, "inet:1234@127.0.0.1");
	ck_assert_int_eq(cfg_set(c, "Nope", "1", "(cmdline)", 0, &e), -1);
	ck_assert_str_eq(e->text, "(cmdline):0: unknown key \"Nope\"");
	cfg_errors_free(e);
	cfg_free(c);
}
END_TEST

START_TEST(bool_words)
{
	struct cm_config *c = load("AddHeader no\nLogAddresses On\nCaseSensitiveLocalPart TRUE\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->add_header, 0);
	ck_assert_int_eq(c->log_addresses, 1);
	ck_assert_int_eq(c->case_sensitive_local_part, 1);
	cfg_free(c);
	ck_assert_ptr_null(load("AddHeader maybe\n"));
	ck_assert_str_eq(errs, "main.conf:1: AddHeader: \"maybe\": expected yes or no\n");
}
END_TEST

START_TEST(size_suffixes)
{
	struct cm_config *c = load("MaxProcessSize 2M\n");
	ck_assert_int_eq(c->max_process_size, 2 * 1024 * 1024);
	cfg_free(c);
	c = load("MaxProcessSize 64kb\n");
	ck_assert_int_eq(c->max_process_size, 64 * 1024);
	cfg_free(c);
	c = load("MaxProcessSize 5000\n");
	ck_assert_int_eq(c->max_process_size, 5000);
	cfg_free(c);
	ck_assert_ptr_null(load("MaxProcessSize 10X\n"));
	ck_assert_str_eq(errs, "main.conf:1: MaxProcessSize: \"10X\" is not a number "
			 "(a size may end in K, M or G)\n");
	ck_assert_ptr_null(load("MaxProcessSize 1000\n"));	/* below the 1024 minimum */
	ck_assert_ptr_null(load("MaxProcessSize -1M\n"));
	ck_assert_ptr_null(load("MaxProcessSize 99999999999G\n"));
}
END_TEST

START_TEST(enum_choices)
{
	struct cm_config *c = load("DefaultConsent click\nOnStoreError TEMPFAIL\n");
	ck_assert_int_eq(c->default_consent, 2);	/* index = consent bits */
	ck_assert_int_eq(c->on_store_error, 1);
	cfg_free(c);
	ck_assert_ptr_null(load("DefaultConsent some\n"));
	ck_assert_str_eq(errs, "main.conf:1: DefaultConsent: \"some\" is not one of "
			 "none|open|click|all\n");
	ck_assert_ptr_null(load("OnStoreError strip|accept\n"));
}
END_TEST

START_TEST(list_values)
{
	struct cm_config *c = load("ExemptValues security, 2fa  login\n");
	ck_assert_int_eq(cfg_list_len(c->exempt_values), 3);
	ck_assert_str_eq(c->exempt_values[1], "2fa");
	ck_assert(cfg_list_contains(c->exempt_values, "LOGIN"));
	cfg_free(c);
	c = load("ExemptSenders\n");
	ck_assert_int_eq(cfg_list_len(c->exempt_senders), 0);
	cfg_free(c);
}
END_TEST

START_TEST(list_helpers)
{
	char *list[] = { "alpha", "Beta", NULL };

	ck_assert_int_eq(cfg_list_len(list), 2);
	ck_assert_int_eq(cfg_list_len(NULL), 0);
	ck_assert(cfg_list_contains(list, "beta"));
	ck_assert(!cfg_list_contains(list, "gamma"));
	ck_assert(!cfg_list_contains(NULL, "alpha"));
}
END_TEST

START_TEST(shipped_sample_is_valid)
{
	char path[1024];
	struct cfg_error *e = NULL;
	struct cm_config *c;
	const char *top = getenv("top_srcdir");

	snprintf(path, sizeof path, "%s/etc/consent-milter.conf", top ? top : "..");
	c = cfg_load(path, &e);
	if (e)
		cfg_errors_print(e, stderr);
	ck_assert_ptr_nonnull(c);
	cfg_free(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("config");
	TCase *t = tcase_create("parser");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, defaults_are_valid);
	tcase_add_test(t, comments_blanks_case);
	tcase_add_test(t, later_value_wins);
	tcase_add_test(t, socket_forms);
	tcase_add_test(t, user_and_group);
	tcase_add_test(t, umask_octal);
	tcase_add_test(t, int_range);
	tcase_add_test(t, path_must_be_absolute);
	tcase_add_test(t, facility_and_level_words);
	tcase_add_test(t, every_error_listed_with_line);
	tcase_add_test(t, missing_file);
	tcase_add_test(t, include_relative_and_errors);
	tcase_add_test(t, include_loop_stops);
	tcase_add_test(t, long_line_and_nul);
	tcase_add_test(t, set_from_command_line);
	tcase_add_test(t, bool_words);
	tcase_add_test(t, size_suffixes);
	tcase_add_test(t, enum_choices);
	tcase_add_test(t, list_values);
	tcase_add_test(t, list_helpers);
	tcase_add_test(t, shipped_sample_is_valid);
	suite_add_tcase(s, t);
	return cm_run_suite(s);
}
