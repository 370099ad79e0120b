/* test_store.c - store_lookup against real redis-server instances: values,
 * pipelining, AUTH (password and ACL user), SELECT, failover between a
 * replica and its primary, the RedisTimeout bound with a SIGSTOPped server,
 * reconnection after a restart, and concurrent lookups through the pool.
 * Run by tests/store/store.sh, which sets CM_TEST_BASE (a private temp
 * directory) and CM_REDIS_SH (tests/lib/redis.sh) and cleans up. */
#include "build-config.h"
#include "tap.h"
#include "config.h"
#include "store.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *
dir_of(const char *name)
{
	static char path[512];

	snprintf(path, sizeof path, "%s/%s", getenv("CM_TEST_BASE"), name);
	return path;
}

static int __attribute__((format(printf, 1, 2)))
shell(const char *fmt, ...)
{
	char cmd[2048], body[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, ". '%s' && %s", getenv("CM_REDIS_SH"), body);
	return system(cmd);
}

/* Start a server in CM_TEST_BASE/NAME with extra OPTS. */
static void
start(const char *name, const char *opts)
{
	ck_assert_msg(shell("redis_start '%s' %s", dir_of(name), opts) == 0,
		      "cannot start redis-server %s", name);
}

static void
stop(const char *name)
{
	shell("redis_stop '%s'", dir_of(name));
}

static pid_t
pid_of(const char *name)
{
	char path[600];
	FILE *fp;
	long pid = 0;

	snprintf(path, sizeof path, "%s/redis.pid.shell", dir_of(name));
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fscanf(fp, "%ld", &pid), 1);
	fclose(fp);
	return (pid_t)pid;
}

static int
free_port(void)
{
	FILE *fp = popen(". \"$CM_REDIS_SH\" && redis_free_port", "r");
	int port = 0;

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fscanf(fp, "%d", &port), 1);
	pclose(fp);
	return port;
}

static struct cm_config *
config(const char *servers, const char *extra_key, const char *extra_value)
{
	struct cfg_error *errs = NULL;
	struct cm_config *cfg = cfg_defaults();

	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cfg_set(cfg, "RedisServer", servers, "test", 1, &errs), 0);
	ck_assert_int_eq(cfg_set(cfg, "RedisTimeout", "200", "test", 2, &errs), 0);
	if (extra_key)
		ck_assert_int_eq(cfg_set(cfg, extra_key, extra_value, "test", 3, &errs), 0);
	return cfg;
}

static char *
unix_spec(const char *name)
{
	static char spec[600];

	snprintf(spec, sizeof spec, "unix:%s/redis.sock", dir_of(name));
	return spec;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* Grant/deny through the real write script. */
static void
put(const struct cm_config *cfg, size_t server, const char *key, int open, int click)
{
	char err[256];
	struct store_change ch = { key, (signed char)open, (signed char)click,
				   "2024-01-01T00:00:00Z", "test", "v1", "tester", "grant" };
	redisContext *c = store_connect(cfg, server, 0, err, sizeof err);

	ck_assert_msg(c != NULL, "connect: %s", err);
	ck_assert_int_ge(store_write(c, cfg->redis_key_prefix, &ch, 1, NULL, err, sizeof err), 0);
	redisFree(c);
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static struct store *
open_store(const struct cm_config *cfg)
{
	char err[256];
	struct store *st = store_open(cfg, err, sizeof err);

	ck_assert_msg(st != NULL, "store_open: %s", err);
	return st;
}

START_TEST(lookup_values)
{
	struct cm_config *cfg;
	struct store *st;
	struct consent out[200];
	char *keys[200], names[200][32];
	struct store_counters n;
	size_t i;

	start("values", "");
	cfg = config(unix_spec("values"), NULL, NULL);
	put(cfg, 0, "cm:c:both", 1, 1);
	put(cfg, 0, "cm:c:open", 1, 0);
	put(cfg, 0, "cm:c:clickonly", -1, 1);
	st = open_store(cfg);
	keys[0] = "cm:c:both";
	keys[1] = "cm:c:open";
	keys[2] = "cm:c:clickonly";
	keys[3] = "cm:c:nobody";
	ck_assert_int_eq(store_lookup(st, keys, 4, out), 0);
	ck_assert_int_eq(out[0].open, 1);
	ck_assert_int_eq(out[0].click, 1);
	ck_assert_int_eq(out[1].open, 1);
	ck_assert_int_eq(out[1].click, 0);
	ck_assert_int_eq(out[2].open, -1);
	ck_assert_int_eq(out[2].click, 1);
	ck_assert_int_eq(out[3].open, -1);
	ck_assert_int_eq(out[3].click, -1);
	ck_assert_uint_eq(store_combine(out, 2, 0), CONSENT_OPEN);
	ck_assert_uint_eq(store_combine(out, 4, 0), CONSENT_NONE);
	ck_assert_uint_eq(store_combine(out + 3, 1, 3), CONSENT_ALL);
	/* a wrong-typed key is unknown, not an error */
	ck_assert_int_eq(shell("redis_cli '%s' SET cm:c:string x >/dev/null", dir_of("values")), 0);
	keys[0] = "cm:c:string";
	ck_assert_int_eq(store_lookup(st, keys, 2, out), 0);
	ck_assert_int_eq(out[0].open, -1);
	ck_assert_int_eq(out[1].open, 1);
	/* 200 keys in one pipeline, every 7th granted */
	for (i = 0; i < 200; i++) {
		snprintf(names[i], sizeof names[i], "cm:c:k%zu", i);
		keys[i] = names[i];
		if (i % 7 == 0)
			put(cfg, 0, names[i], 1, 0);
	}
	ck_assert_int_eq(store_lookup(st, keys, 200, out), 0);
	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(out[i].open, i % 7 == 0 ? 1 : -1);
		ck_assert_int_eq(out[i].click, i % 7 == 0 ? 0 : -1);
	}
	ck_assert_int_eq(store_lookup(st, keys, 0, out), 0);
	store_get_counters(st, &n);
	ck_assert_uint_eq(n.lookups, 3);
	ck_assert_uint_eq(n.keys, 206);
	ck_assert_uint_eq(n.errors, 0);
	ck_assert_uint_eq(n.connects, 1);	/* the pooled connection was reused */
	store_close(st);
	cfg_free(cfg);
	stop("values");
}
END_TEST

START_TEST(database_select)
{
	struct cm_config *cfg;
	struct store *st;
	struct consent out[1];
	char *keys[1] = { "cm:c:db" };

	start("select", "");
	cfg = config(unix_spec("select"), "RedisDatabase", "3");
	put(cfg, 0, "cm:c:db", 1, 1);
	st = open_store(cfg);
	ck_assert_int_eq(store_lookup(st, keys, 1, out), 0);
	ck_assert_int_eq(out[0].open, 1);
	store_close(st);
	cfg_free(cfg);
	cfg = config(unix_spec("select"), NULL, NULL);	/* database 0 */
	st = open_store(cfg);
	ck_assert_int_eq(store_lookup(st, keys, 1, out), 0);
	ck_assert_int_eq(out[0].open, -1);
	store_close(st);
	cfg_free(cfg);
	stop("select");
}
END_TEST

START_TEST(auth_password)
{
	char pwfile[600], err[256];
	struct cm_config *cfg;
	struct store *st;
	struct consent out[1];
	char *keys[1] = { "cm:c:auth" };

	start("auth", "--requirepass s3cret");
	snprintf(pwfile, sizeof pwfile, "%s/pw", dir_of("auth"));
	write_file(pwfile, "s3cret\n", 0600);
	cfg = config(unix_spec("auth"), "RedisPasswordFile", pwfile);
	put(cfg, 0, "cm:c:auth", 0, 1);
	st = open_store(cfg);
	ck_assert_int_eq(store_lookup(st, keys, 1, out), 0);
	ck_assert_int_eq(out[0].open, 0);
	ck_assert_int_eq(out[0].click, 1);
	store_close(st);
	/* wrong password: the lookup fails within the timeout */
	write_file(pwfile, "wrong\n", 0600);
	st = open_store(cfg);
	ck_assert_int_eq(store_lookup(st, keys, 1, out), -1);
	ck_assert_int_eq(out[0].open, -1);
	store_close(st);
	/* no password at all */
	cfg_free(cfg);
	cfg = config(unix_spec("auth"), NULL, NULL);
	st = open_store(cfg);
	ck_assert_int_eq(store_lookup(st, keys, 1, out), -1);
	store_close(st);
	cfg_free(cfg);
	/* a group-readable password file is refused */
	write_file(pwfile, "s3cret\n", 0640);
	cfg = config(unix_spec("auth"), "RedisPasswordFile", pwfile);
	ck_assert_ptr_null(store_open(cfg, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "group or others"));
	cfg_free(cfg);
	stop("auth");
}
END_TEST

START_TEST(auth_acl_user)
{
	char pwfile[600];
	struct cm_config *cfg;
	struct store *st;
	struct consent out[1];
	char *keys[1] = { "cm:c:acl" };

	start("acl", "--user milter on '>m1lter' '~cm:*' +hmget +select +ping "
		     "--user admin on '>adm1n' '~*' '&*' '+@all' --user default off");
	snprintf(pwfile, sizeof pwfile, "%s/pw", dir_of("acl"));
	write_file(pwfile, "admin adm1n\n", 0600);
	cfg = config(unix_spec("acl"), "RedisPasswordFile", pwfile);
	put(cfg, 0, "cm:c:acl", 1, 0);
	cfg_free(cfg);
	write_file(pwfile, "milter m1lter\n", 0600);
	cfg = config(unix_spec("acl"), "RedisPasswordFile", pwfile);
	st = open_store(cfg);
	ck_assert_int_eq(store_lookup(st, keys, 1, out), 0);
	ck_assert_int_eq(out[0].open, 1);
	ck_assert_int_eq(out[0].click, 0);
	store_close(st);
	write_file(pwfile, "milter wrong\n", 0600);
	st = open_store(cfg);
	ck_assert_int_eq(store_lookup(st, keys, 1, out), -1);
	store_close(st);
	cfg_free(cfg);
	stop("acl");
}
END_TEST

/* Wait until the replica in NAME has KEY. */
static void
wait_replicated(const char *name, const char *key)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (shell("test \"$(redis_cli '%s' EXISTS %s)\" = 1", dir_of(name), key) == 0)
			return;
		usleep(50000);
	}
	ck_abort_msg("replica %s never got %s", name, key);
}

START_TEST(failover_replica_primary)
{
	char opts[256], servers[1400];
	struct cm_config *cfg;
	struct store *st;
	struct store_counters n;
	struct consent out[2];
	char *keys[2] = { "cm:c:fo1", "cm:c:fo2" };
	int port = free_port(), i;

	snprintf(opts, sizeof opts, "--port %d --bind 127.0.0.1", port);
	start("fo-primary", opts);
	snprintf(opts, sizeof opts, "--replicaof 127.0.0.1 %d", port);
	start("fo-replica", opts);
	/* replica first over its unix socket, the primary over TCP as fall-back */
	snprintf(servers, sizeof servers, "%s,127.0.0.1:%d", unix_spec("fo-replica"), port);
	cfg = config(servers, NULL, NULL);
	{
		/* consentctl's rule: writes go to the first primary in the list */
		char err[256], role[32];
		redisContext *c = store_connect_primary(cfg, err, sizeof err);

		ck_assert_msg(c != NULL, "%s", err);
		ck_assert_int_eq(store_role(c, role, sizeof role, NULL, 0), 0);
		ck_assert_str_eq(role, "master");
		redisFree(c);
	}
	put(cfg, 1, "cm:c:fo1", 1, 1);
	put(cfg, 1, "cm:c:fo2", 0, 1);
	wait_replicated("fo-replica", "cm:c:fo2");
	st = open_store(cfg);
	ck_assert_int_eq(store_lookup(st, keys, 2, out), 0);
	ck_assert_int_eq(out[0].open, 1);
	ck_assert_int_eq(out[1].open, 0);
	/* the replica dies: lookups keep answering from the primary */
	stop("fo-replica");
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(store_lookup(st, keys, 2, out), 0);
		ck_assert_int_eq(out[0].click, 1);
		ck_assert_int_eq(out[1].open, 0);
	}
	store_get_counters(st, &n);
	ck_assert_uint_ge(n.failovers, 1);
	ck_assert_uint_eq(n.errors, 0);
	store_close(st);
	/* the other way round: primary listed first dies, the replica answers */
	snprintf(opts, sizeof opts, "--replicaof 127.0.0.1 %d", port);
	start("fo-replica", opts);
	wait_replicated("fo-replica", "cm:c:fo2");
	snprintf(servers, sizeof servers, "127.0.0.1:%d,%s", port, unix_spec("fo-replica"));
	cfg_free(cfg);
	cfg = config(servers, NULL, NULL);
	st = open_store(cfg);
	ck_assert_int_eq(store_lookup(st, keys, 2, out), 0);
	stop("fo-primary");
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(store_lookup(st, keys, 2, out), 0);
		ck_assert_int_eq(out[0].open, 1);
		ck_assert_int_eq(out[1].click, 1);
	}
	/* both gone: an error, quickly */
	stop("fo-replica");
	ck_assert_int_eq(store_lookup(st, keys, 2, out), -1);
	ck_assert_int_eq(out[0].open, -1);
	store_close(st);
	cfg_free(cfg);
}
END_TEST

START_TEST(timeout_sigstop)
{
	char servers[1400];
	struct cm_config *cfg;
	struct store *st;
	struct consent out[3];
	char *keys[3] = { "cm:c:t1", "cm:c:t2", "cm:c:t3" };
	struct timespec t0;
	double ms;
	pid_t pid;
	int i;

	start("to-a", "");
	start("to-b", "");
	cfg = config(unix_spec("to-a"), "RedisTimeout", "100");
	put(cfg, 0, "cm:c:t1", 1, 1);
	st = open_store(cfg);
	ck_assert_int_eq(store_lookup(st, keys, 3, out), 0);	/* pools a connection */
	pid = pid_of("to-a");
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	for (i = 0; i < 3; i++) {	/* pooled connection, then fresh ones / marked down */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ck_assert_int_eq(store_lookup(st, keys, 3, out), -1);
		ms = ms_since(&t0);
		ck_assert_msg(ms <= 150.0, "lookup %d took %.1f ms (RedisTimeout 100)", i, ms);
		ck_assert_int_eq(out[0].open, -1);
	}
	ck_assert_int_eq(store_error_bits(cfg->on_store_error), (int)CONSENT_NONE);
	store_close(st);
	/* a fresh store: the connect succeeds (kernel backlog), the read must time out */
	st = open_store(cfg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(store_lookup(st, keys, 3, out), -1);
	ms = ms_since(&t0);
	ck_assert_msg(ms <= 150.0, "fresh lookup took %.1f ms", ms);
	store_close(st);
	cfg_free(cfg);
	/* stopped server first, a live one second: the same lookup fails over
	 * (half the time for the first), later ones go straight to the second */
	snprintf(servers, sizeof servers, "%s,", unix_spec("to-a"));
	strcat(servers, unix_spec("to-b"));
	cfg = config(servers, "RedisTimeout", "100");
	put(cfg, 1, "cm:c:t1", 1, 0);
	st = open_store(cfg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(store_lookup(st, keys, 3, out), 0);
	ms = ms_since(&t0);
	ck_assert_msg(ms <= 150.0, "failover lookup took %.1f ms", ms);
	ck_assert_msg(ms >= 40.0, "failover lookup took only %.1f ms: first server not tried?", ms);
	ck_assert_int_eq(out[0].open, 1);
	ck_assert_int_eq(out[0].click, 0);
	for (i = 0; i < 5; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ck_assert_int_eq(store_lookup(st, keys, 3, out), 0);
		ck_assert_msg(ms_since(&t0) <= 150.0, "lookup after failover too slow");
		ck_assert_int_eq(out[0].open, 1);
		ck_assert_int_eq(out[0].click, 0);
	}
	store_close(st);
	cfg_free(cfg);
	kill(pid, SIGCONT);
	stop("to-a");
	stop("to-b");
}
END_TEST

/* A stopped server that wants AUTH and SELECT: the set-up commands share
 * the lookup's deadline too. */
START_TEST(timeout_during_auth)
{
	struct cfg_error *errs = NULL;
	char pwfile[600];
	struct cm_config *cfg;
	struct store *st;
	struct consent out[1];
	char *keys[1] = { "cm:c:x" };
	struct timespec t0;
	double ms;
	pid_t pid;

	start("to-auth", "--requirepass pw");
	snprintf(pwfile, sizeof pwfile, "%s/pw", dir_of("to-auth"));
	write_file(pwfile, "pw\n", 0600);
	cfg = config(unix_spec("to-auth"), "RedisPasswordFile", pwfile);
	ck_assert_int_eq(cfg_set(cfg, "RedisTimeout", "100", "test", 4, &errs), 0);
	ck_assert_int_eq(cfg_set(cfg, "RedisDatabase", "2", "test", 5, &errs), 0);
	pid = pid_of("to-auth");
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	st = open_store(cfg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(store_lookup(st, keys, 1, out), -1);
	ms = ms_since(&t0);
	ck_assert_msg(ms <= 150.0, "lookup with AUTH took %.1f ms (RedisTimeout 100)", ms);
	store_close(st);
	kill(pid, SIGCONT);
	st = open_store(cfg);
	ck_assert_int_eq(store_lookup(st, keys, 1, out), 0);
	store_close(st);
	cfg_free(cfg);
	stop("to-auth");
}
END_TEST

START_TEST(reconnect_after_restart)
{
	struct cm_config *cfg;
	struct store *st;
	struct store_counters n;
	struct consent out[1];
	char *keys[1] = { "cm:c:r" };

	start("restart", "");
	cfg = config(unix_spec("restart"), NULL, NULL);
	put(cfg, 0, "cm:c:r", 1, 1);
	st = open_store(cfg);
	ck_assert_int_eq(store_lookup(st, keys, 1, out), 0);
	/* restart: the pooled connection is stale, the store reconnects by itself */
	stop("restart");
	start("restart", "");
	put(cfg, 0, "cm:c:r", 0, 1);
	ck_assert_int_eq(store_lookup(st, keys, 1, out), 0);
	ck_assert_int_eq(out[0].open, 0);
	store_get_counters(st, &n);
	ck_assert_uint_eq(n.connects, 2);
	ck_assert_uint_eq(n.errors, 0);
	store_close(st);
	cfg_free(cfg);
	stop("restart");
}
END_TEST

struct worker {
	struct store *st;
	int failures;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	char *keys[2] = { "cm:c:th1", "cm:c:th2" };
	struct consent out[2];
	int i;

	for (i = 0; i < 500; i++)
		if (store_lookup(w->st, keys, 2, out) != 0 || out[0].open != 1 ||
		    out[1].click != 0 || out[1].open != -1)
			w->failures++;
	return NULL;
}

START_TEST(threads_share_the_pool)
{
	struct cm_config *cfg;
	struct store *st;
	struct store_counters n;
	struct worker w[8];
	pthread_t t[8];
	int i;

	start("threads", "");
	cfg = config(unix_spec("threads"), "RedisTimeout", "2000");
	put(cfg, 0, "cm:c:th1", 1, 1);
	put(cfg, 0, "cm:c:th2", -1, 0);
	st = open_store(cfg);
	for (i = 0; i < 8; i++) {
		w[i].st = st;
		w[i].failures = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(w[i].failures, 0);
	}
	store_get_counters(st, &n);
	ck_assert_uint_eq(n.lookups, 8 * 500);
	ck_assert_uint_le(n.connects, 8);
	store_close(st);
	cfg_free(cfg);
	stop("threads");
}
END_TEST

START_TEST(bad_server_specs)
{
	static const char *const bad[] = { "unix:relative", "localhost", "host:0", "host:99999",
					   "[::1]6379", ":6379" };
	char err[256];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct cm_config *cfg = config(bad[i], NULL, NULL);
		struct store *st = store_open(cfg, err, sizeof err);

		ck_assert_msg(st == NULL, "%s accepted", bad[i]);
		ck_assert_ptr_nonnull(strstr(err, "RedisServer"));
		cfg_free(cfg);
	}
}
END_TEST

int
main(void)
{
	Suite *s;
	TCase *t;

	if (getenv("CM_TEST_BASE") == NULL || getenv("CM_REDIS_SH") == NULL) {
		puts("1..0 # SKIP run through tests/store/store.sh (needs CM_TEST_BASE)");
		return 0;
	}
	s = suite_create("store");
	t = tcase_create("store");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, lookup_values);
	tcase_add_test(t, database_select);
	tcase_add_test(t, auth_password);
	tcase_add_test(t, auth_acl_user);
	tcase_add_test(t, failover_replica_primary);
	tcase_add_test(t, timeout_sigstop);
	tcase_add_test(t, timeout_during_auth);
	tcase_add_test(t, reconnect_after_restart);
	tcase_add_test(t, threads_share_the_pool);
	tcase_add_test(t, bad_server_specs);
	suite_add_tcase(s, t);
	return cm_run_suite(s);
}
