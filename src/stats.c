/* stats.c - what ops watch: counters, latency histogram, the "stats:" line.
 *
 * One mutex guards everything: it is taken once per finished message, which
 * is nothing next to the work a message costs. The latency histogram uses
 * fixed 1-2-5 buckets from 10 µs to 10 s, so quantiles are bucket upper
 * bounds (good to a factor of 2.5, which is what an operator needs to see a
 * regression) and the same buckets export as a Prometheus histogram. */
#include "build-config.h"
#include "stats.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const uint64_t bucket_us[] = {
	10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000,
	100000, 200000, 500000, 1000000, 2000000, 5000000, 10000000
};
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0])

static const char *const action_names[ACT__COUNT] = {
	"rewritten", "unchanged", "skipped", "exempt", "oversize", "error"
};

static struct {
	pthread_mutex_t lock;
	uint64_t actions[ACT__COUNT];
	struct stats_counts counts;
	uint64_t bytes;
	uint64_t hist[NBUCKETS + 1];	/* last: above the largest bound */
	uint64_t hist_n, hist_sum_us;
	void (*store_source)(struct stats_store *);
} st = { .lock = PTHREAD_MUTEX_INITIALIZER };

static pthread_t reporter;
static int reporter_running;
static long report_interval;
static char *report_file;

const char *
stats_action_name(enum stats_action a)
{
	return (unsigned)a < ACT__COUNT ? action_names[a] : "?";
}

void
stats_set_store_source(void (*fn)(struct stats_store *))
{
	pthread_mutex_lock(&st.lock);
	st.store_source = fn;
	pthread_mutex_unlock(&st.lock);
}

void
stats_message(enum stats_action a, const struct stats_counts *c,
	      uint64_t bytes_in, uint64_t eom_us)
{
	size_t b;

	pthread_mutex_lock(&st.lock);
	if ((unsigned)a < ACT__COUNT)
		st.actions[a]++;
	if (c) {
		st.counts.pixels += c->pixels;
		st.counts.resources += c->resources;
		st.counts.unwrapped += c->unwrapped;
		st.counts.cleaned += c->cleaned;
		st.counts.anonymized += c->anonymized;
		st.counts.unresolved += c->unresolved;
		st.counts.pii += c->pii;
	}
	st.bytes += bytes_in;
	if (eom_us) {
		for (b = 0; b < NBUCKETS && eom_us > bucket_us[b]; b++)
			;
		st.hist[b]++;
		st.hist_n++;
		st.hist_sum_us += eom_us;
	}
	pthread_mutex_unlock(&st.lock);
}

/* Caller holds the lock. */
static uint64_t
quantile_locked(double q)
{
	uint64_t want, seen = 0;
	size_t b;

	if (st.hist_n == 0)
		return 0;
	want = (uint64_t)(q * (double)st.hist_n + 0.999999);
	if (want == 0)
		want = 1;
	for (b = 0; b <= NBUCKETS; b++) {
		seen += st.hist[b];
		if (seen >= want)
			return b < NBUCKETS ? bucket_us[b] : bucket_us[NBUCKETS - 1] * 10;
	}
	return bucket_us[NBUCKETS - 1] * 10;
}

uint64_t
stats_quantile_us(double q)
{
	uint64_t v;

	pthread_mutex_lock(&st.lock);
	v = quantile_locked(q);
	pthread_mutex_unlock(&st.lock);
	return v;
}

void
stats_reset(void)
{
	pthread_mutex_lock(&st.lock);
	memset(st.actions, 0, sizeof st.actions);
	memset(&st.counts, 0, sizeof st.counts);
	memset(st.hist, 0, sizeof st.hist);
	st.bytes = st.hist_n = st.hist_sum_us = 0;
	pthread_mutex_unlock(&st.lock);
}

static void
store_figures_locked(struct stats_store *s)
{
	memset(s, 0, sizeof *s);
	if (st.store_source)
		st.store_source(s);
}

static double
ms(uint64_t us)
{
	return (double)us / 1000.0;
}

void
stats_format_line(char *buf, size_t len)
{
	struct stats_store s;

	pthread_mutex_lock(&st.lock);
	store_figures_locked(&s);
	snprintf(buf, len,
		 "stats: messages rewritten=%" PRIu64 " unchanged=%" PRIu64
		 " skipped=%" PRIu64 " exempt=%" PRIu64 " oversize=%" PRIu64
		 " error=%" PRIu64 " pixels=%" PRIu64 " resources=%" PRIu64
		 " unwrapped=%" PRIu64 " cleaned=%" PRIu64 " anonymized=%" PRIu64
		 " unresolved=%" PRIu64 " pii=%" PRIu64 " store_lookups=%" PRIu64
		 " store_errors=%" PRIu64 " store_failovers=%" PRIu64
		 " eom_ms_p50=%.2f eom_ms_p90=%.2f eom_ms_p99=%.2f bytes=%" PRIu64,
		 st.actions[ACT_REWRITTEN], st.actions[ACT_UNCHANGED],
		 st.actions[ACT_SKIPPED], st.actions[ACT_EXEMPT],
		 st.actions[ACT_OVERSIZE], st.actions[ACT_ERROR],
		 st.counts.pixels, st.counts.resources, st.counts.unwrapped,
		 st.counts.cleaned, st.counts.anonymized, st.counts.unresolved,
		 st.counts.pii, s.lookups, s.errors, s.failovers,
		 ms(quantile_locked(0.50)), ms(quantile_locked(0.90)),
		 ms(quantile_locked(0.99)), st.bytes);
	pthread_mutex_unlock(&st.lock);
}

static void
write_prometheus_locked(FILE *fp)
{
	struct stats_store s;
	uint64_t cum = 0;
	size_t i;

	store_figures_locked(&s);
	fprintf(fp, "# HELP consent_milter_messages_total Messages by outcome.\n"
		"# TYPE consent_milter_messages_total counter\n");
	for (i = 0; i < ACT__COUNT; i++)
		fprintf(fp, "consent_milter_messages_total{action=\"%s\"} %" PRIu64 "\n",
			action_names[i], st.actions[i]);
	fprintf(fp, "# HELP consent_milter_removed_total Tracking removed or rewritten, by kind.\n"
		"# TYPE consent_milter_removed_total counter\n");
#define KIND(name, field) \
	fprintf(fp, "consent_milter_removed_total{kind=\"" name "\"} %" PRIu64 "\n", st.counts.field)
	KIND("pixels", pixels);
	KIND("resources", resources);
	KIND("unwrapped", unwrapped);
	KIND("cleaned", cleaned);
	KIND("anonymized", anonymized);
	KIND("unresolved", unresolved);
	KIND("pii", pii);
#undef KIND
	fprintf(fp, "# TYPE consent_milter_store_lookups_total counter\n"
		"consent_milter_store_lookups_total %" PRIu64 "\n"
		"# TYPE consent_milter_store_errors_total counter\n"
		"consent_milter_store_errors_total %" PRIu64 "\n"
		"# TYPE consent_milter_store_failovers_total counter\n"
		"consent_milter_store_failovers_total %" PRIu64 "\n"
		"# TYPE consent_milter_bytes_total counter\n"
		"consent_milter_bytes_total %" PRIu64 "\n",
		s.lookups, s.errors, s.failovers, st.bytes);
	fprintf(fp, "# HELP consent_milter_eom_seconds End-of-message work per processed message.\n"
		"# TYPE consent_milter_eom_seconds histogram\n");
	for (i = 0; i < NBUCKETS; i++) {
		cum += st.hist[i];
		fprintf(fp, "consent_milter_eom_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
			(double)bucket_us[i] / 1e6, cum);
	}
	fprintf(fp, "consent_milter_eom_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
		"consent_milter_eom_seconds_sum %.6f\n"
		"consent_milter_eom_seconds_count %" PRIu64 "\n",
		st.hist_n, (double)st.hist_sum_us / 1e6, st.hist_n);
}

int
stats_write_prometheus(const char *path)
{
	char tmp[4096];
	FILE *fp;
	int fd, saved;

	if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		return -1;
	fp = fdopen(fd, "w");
	if (fp == NULL) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	pthread_mutex_lock(&st.lock);
	write_prometheus_locked(fp);
	pthread_mutex_unlock(&st.lock);
	/* node_exporter runs as another user: the figures are not secret. */
	fchmod(fd, 0644);
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}

static void
report(void)
{
	char line[1024];

	stats_format_line(line, sizeof line);
	cm_log(LOG_INFO, "%s", line);
	if (report_file && stats_write_prometheus(report_file) < 0)
		cm_log(LOG_WARNING, "StatsFile %s: %s", report_file, strerror(errno));
}

void
stats_block_signal(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* Waits for SIGUSR1 or the interval, whichever comes first. SIGUSR2 (sent
 * by stats_stop) ends the thread. */
static void *
reporter_main(void *arg)
{
	sigset_t set;
	time_t next = report_interval > 0 ? time(NULL) + report_interval : 0;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	for (;;) {
		struct timespec ts = { 3600, 0 };
		siginfo_t info;
		int sig;

		if (next) {
			time_t now = time(NULL);
			ts.tv_sec = next > now ? next - now : 0;
		}
		sig = sigtimedwait(&set, &info, &ts);
		if (sig == SIGUSR2)
			break;
		if (sig == SIGUSR1) {
			report();
			continue;
		}
		if (next && time(NULL) >= next) {
			report();
			next = time(NULL) + report_interval;
		}
	}
	return NULL;
}

int
stats_start(long interval, const char *statsfile)
{
	sigset_t set, all, old;
	int rc;

	report_interval = interval;
	free(report_file);
	report_file = statsfile && *statsfile ? strdup(statsfile) : NULL;

	/* SIGUSR1 and SIGUSR2 stay blocked everywhere (sigtimedwait takes them);
	 * the reporter thread starts with every signal blocked, or a SIGTERM
	 * meant for libmilter's signal thread could land here and kill us. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&reporter, NULL, reporter_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		cm_log(LOG_ERR, "cannot start the stats thread");
		return -1;
	}
	reporter_running = 1;
	return 0;
}

void
stats_stop(void)
{
	if (!reporter_running)
		return;
	pthread_kill(reporter, SIGUSR2);
	pthread_join(reporter, NULL);
	reporter_running = 0;
	report();	/* a last line, so totals since the last report are not lost */
	free(report_file);
	report_file = NULL;
}
