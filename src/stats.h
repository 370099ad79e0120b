/* stats.h - counters, the end-of-message latency histogram, periodic metrics. */
#ifndef CM_STATS_H
#define CM_STATS_H

#include <stddef.h>
#include <stdint.h>

/* What happened to a message; the names are the log line's action= words. */
enum stats_action {
	ACT_REWRITTEN, ACT_UNCHANGED, ACT_SKIPPED, ACT_EXEMPT, ACT_OVERSIZE,
	ACT_ERROR, ACT__COUNT
};
const char *stats_action_name(enum stats_action a);

/* Engine counters, per message and in total. */
struct stats_counts {
	uint64_t pixels, resources, unwrapped, cleaned, anonymized, unresolved, pii;
};

/* Store counters as reported by the store module. */
struct stats_store {
	uint64_t lookups, errors, failovers;
};

/* Account one finished message. EOM_US: time spent in end-of-message work
 * (microseconds; 0 when the body was never processed). */
void stats_message(enum stats_action a, const struct stats_counts *c,
		   uint64_t bytes_in, uint64_t eom_us);

/* Where store counters come from (set once at start-up; may stay NULL). */
void stats_set_store_source(void (*fn)(struct stats_store *));

/* Format the one-line summary ("stats: ...") into BUF. */
void stats_format_line(char *buf, size_t len);
/* Write the figures in Prometheus text format to PATH, atomically
 * (temporary file + rename). 0 or -1 with errno. */
int stats_write_prometheus(const char *path);

/* Start the reporter thread: a "stats:" line every INTERVAL seconds (0:
 * never) and on SIGUSR1, plus STATSFILE when not empty. SIGUSR1 must be
 * blocked in every thread: call stats_block_signal() before any thread
 * starts. */
void stats_block_signal(void);
int stats_start(long interval, const char *statsfile);
void stats_stop(void);

/* Latency quantile (0..1) in microseconds from the histogram (for tests). */
uint64_t stats_quantile_us(double q);
void stats_reset(void);

#endif
