/* scan_bench.c - throughput of the CSS scanner and the PII detector on
 * generated input: a 100 KB newsletter style sheet, an inline style, and
 * 1 MB of URL-like text against 100 recipients' needles. Built by
 * `make check`, not run by it: ./bench/scan_bench */
#include "build-config.h"
#include "css.h"
#include "pii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
bench_css(void)
{
	size_t cap = 1 << 20, len = 0, sl;
	char *s = malloc(cap), dec[512];
	const char *st = "font-family:Arial,sans-serif;font-size:14px;color:#333;padding:0;"
	    "margin:0;width:600px;border:0;display:block";
	struct css_scanner sc;
	struct css_url u;
	struct css_box bx;
	double t, best = 1e9;
	int i, r, n = 0;

	if (s == NULL)
		exit(1);
	for (i = 0; len < 100000; i++)
		len += (size_t)snprintf(s + len, cap - len,
		    ".c%d td.h{font-family:Arial,Helvetica,sans-serif;font-size:14px;"
		    "line-height:1.5;color:#333333;padding:0 10px 0 10px}"
		    "@media only screen and (max-width:600px){.m%d{width:100%% !important;"
		    "background-image:url('https://cdn.example.com/i/%d.png')}}/* c %d */\n",
		    i, i, i, i);
	for (r = 0; r < 50; r++) {
		t = now();
		css_scan_init(&sc, s, len, CSS_STYLESHEET);
		while (css_next_url(&sc, &u, dec, sizeof(dec)))
			n++;
		t = now() - t;
		if (t < best)
			best = t;
	}
	printf("css_next_url, %zu-byte style sheet, %d urls: %.0f MB/s\n", len, n / 50,
	    (double)len / best / 1e6);
	sl = strlen(st);
	t = now();
	for (r = 0; r < 200000; r++) {
		css_read_box(st, sl, &bx);
		css_scan_init(&sc, st, sl, CSS_STYLE_ATTR);
		while (css_next_url(&sc, &u, dec, sizeof(dec)))
			n++;
	}
	t = now() - t;
	printf("css_read_box + css_next_url, %zu-byte style attribute: %.0f ns each\n", sl,
	    t / 200000 * 1e9);
	free(s);
}

static void
bench_pii(void)
{
	static const char al[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/?=&%.-_";
	struct pii_set *s = pii_new();
	size_t len = 1 << 20, k, from;
	char o[64], nm[64], *b = malloc(len);
	unsigned x = 1;
	struct pii_hit h;
	double t, best = 1e9;
	int i, r, hits = 0;

	if (s == NULL || b == NULL)
		exit(1);
	for (i = 0; i < 100; i++) {
		snprintf(o, sizeof(o), "First%d.Last%d@Company%d.example", i, i * 7, i % 3);
		snprintf(nm, sizeof(nm), "first%d.last%d@company%d.example", i, i * 7, i % 3);
		if (pii_add_recipient(s, o, nm) < 0)
			exit(1);
	}
	for (k = 0; k < len; k++) {
		x = x * 1103515245u + 12345u;
		b[k] = al[(x >> 16) % (sizeof(al) - 1)];
	}
	for (r = 0; r < 20; r++) {
		t = now();
		for (from = 0; pii_find_from(s, b, len, from, &h); from = h.end)
			hits++;
		t = now() - t;
		if (t < best)
			best = t;
	}
	printf("pii_find, 100 recipients (%zu needles), 1 MB of URL text: %.0f MB/s, %d hits\n",
	    pii_needle_count(s), (double)len / best / 1e6, hits);
	pii_free(s);
	free(b);
}

int
main(void)
{
	bench_css();
	bench_pii();
	return 0;
}
