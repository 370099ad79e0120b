/* lookup-bench.c - cost of one message's consent lookup (store_lookup with
 * 1, 10, 100 recipients) beside a bare PING round trip, on the same server
 * and in the same run. Built and run by bench/store.sh.
 * usage: lookup-bench SOCKET MESSAGES */
#include "build-config.h"
#include "config.h"
#include "store.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
summary(const char *what, double *t, size_t n, double *median)
{
	qsort(t, n, sizeof *t, cmp_double);
	*median = t[n / 2];
	printf("%-28s median %8.1f us   p99 %8.1f us   (%zu runs)\n", what, t[n / 2],
	       t[(size_t)((double)n * 0.99)], n);
}

int
main(int argc, char **argv)
{
	static const size_t sizes[3] = { 1, 10, 100 };
	struct cfg_error *errs = NULL;
	struct cm_config *cfg;
	struct store *st;
	struct consent out[100];
	char spec[600], err[256], **keys;
	double *t, *tl[3], ping_med, med[3];
	size_t runs, i, s, k;
	redisContext *c;

	if (argc != 3) {
		fprintf(stderr, "usage: lookup-bench SOCKET MESSAGES\n");
		return 2;
	}
	runs = strtoul(argv[2], NULL, 10);
	t = calloc(runs, sizeof *t);
	for (s = 0; s < 3; s++)
		if ((tl[s] = calloc(runs, sizeof *t)) == NULL)
			return 1;
	keys = calloc(1000, sizeof *keys);
	cfg = cfg_defaults();
	snprintf(spec, sizeof spec, "unix:%s", argv[1]);
	if (t == NULL || keys == NULL || cfg == NULL ||
	    cfg_set(cfg, "RedisServer", spec, "bench", 1, &errs) < 0 ||
	    cfg_set(cfg, "RedisTimeout", "5000", "bench", 2, &errs) < 0)
		return 1;
	/* 1000 keys of realistic length; every other one has a record. */
	c = redisConnectUnix(argv[1]);
	if (c == NULL || c->err) {
		fprintf(stderr, "cannot connect to %s\n", argv[1]);
		return 1;
	}
	for (i = 0; i < 1000; i++) {
		keys[i] = malloc(80);
		snprintf(keys[i], 80, "cm:c:%064zx", i * 2654435761u);
		if (i % 2 == 0)
			freeReplyObject(redisCommand(c, "HSET %s open 1 click 0", keys[i]));
	}
	st = store_open(cfg, err, sizeof err);
	if (st == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		return 1;
	}
	/* Warm up both paths, then interleave PING and the three lookup sizes
	 * in every iteration, so that all four see the same machine load. */
	for (i = 0; i < 1000; i++) {
		freeReplyObject(redisCommand(c, "PING"));
		store_lookup(st, keys, 100, out);
	}
	for (i = 0; i < runs; i++) {
		double t0 = now_us();
		redisReply *r = redisCommand(c, "PING");

		t[i] = now_us() - t0;
		freeReplyObject(r);
		for (s = 0; s < 3; s++) {
			size_t n = sizes[s], off = (i * 7 + s) % (1000 - n);

			t0 = now_us();
			if (store_lookup(st, keys + off, n, out) != 0) {
				fprintf(stderr, "lookup failed\n");
				return 1;
			}
			tl[s][i] = now_us() - t0;
			for (k = 0; k < n; k++)
				if (out[k].open != ((off + k) % 2 == 0 ? 1 : -1)) {
					fprintf(stderr, "wrong answer\n");
					return 1;
				}
		}
	}
	summary("PING round trip", t, runs, &ping_med);
	for (s = 0; s < 3; s++) {
		char label[64];

		snprintf(label, sizeof label, "store_lookup %3zu recipient%s", sizes[s],
			 sizes[s] == 1 ? "" : "s");
		summary(label, tl[s], runs, &med[s]);
	}
	redisFree(c);
	printf("one recipient / PING:          %.2f x   (goal <= 1.2 x)\n", med[0] / ping_med);
	printf("per additional recipient:      %.2f us (10: %.2f us) (goal <= 8 us)\n",
	       (med[2] - med[0]) / 99.0, (med[1] - med[0]) / 9.0);
	store_close(st);
	cfg_free(cfg);
	return 0;
}
