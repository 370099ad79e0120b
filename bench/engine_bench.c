/* engine_bench.c - throughput of rewrite_part over generated newsletter HTML,
 * printed beside memchr over the same buffers in the same run, and the number
 * of heap allocations per call (a counting malloc wrapper), so that "no heap
 * allocation per tag" is measured, not assumed. Built and run by
 * bench/engine.sh [ROUNDS]. */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "pii.h"
#include "rewrite.h"
#include "rules.h"

/* ---- counting allocator (glibc: forward to __libc_*) ---------------------- */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static unsigned long n_alloc;

void *malloc(size_t n);
void *calloc(size_t a, size_t b);
void *realloc(void *p, size_t n);

void *
malloc(size_t n)
{
	n_alloc++;
	return __libc_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	n_alloc++;
	return __libc_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
	n_alloc++;
	return __libc_realloc(p, n);
}

/* ---- generator --------------------------------------------------------------- */

static unsigned long rng = 88172645463325252UL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[4096];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0 && buf_append(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1) < 0)
		abort();
}

static const char *const words[] = {
	"spring", "collection", "offer", "members", "discover", "our", "new", "range",
	"of", "products", "for", "your", "home", "garden", "and", "kitchen", "today",
	"limited", "edition", "free", "shipping", "orders", "over", "read", "more",
	"story", "community", "event", "tickets", "weekend"
};

static void
text(struct buf *b, unsigned nwords)
{
	unsigned i;

	for (i = 0; i < nwords; i++)
		put(b, "%s%s", i ? " " : "", words[rnd(sizeof(words) / sizeof(words[0]))]);
}

/* A tracked link of vendor V (0..4) to DEST, or the plain DEST. */
static void
link_url(struct buf *b, int tracked, unsigned v, unsigned k)
{
	if (!tracked) {
		put(b, "https://www.example-shop.com/products/item-%u?color=blue&amp;size=m", k);
		return;
	}
	switch (v) {
	case 0:	/* Amazon SES */
		put(b, "https://a1b2c3.r.us-east-1.awstrack.me/L0/https:%%2F%%2Fwww.example-shop.com"
		    "%%2Fproducts%%2Fitem-%u%%3Fcolor%%3Dblue%%26mc_eid%%3Dab12cd/1/"
		    "0100018c2f1e3a4b-5c6d7e8f-1a2b-3c4d-5e6f-7a8b9c0d1e2f-000000/Xy%uZ=", k, k);
		break;
	case 1:	/* Mailchimp */
		put(b, "https://example-shop.us14.list-manage.com/track/click?u=4b2f0c1d9e8a7b6c5d4e3f2a1"
		    "&amp;id=%08x&amp;e=9a8b7c6d5e", k * 2654435761u);
		break;
	case 2:	/* SendGrid */
		put(b, "https://u1234567.ct.sendgrid.net/ls/click?upn=u001.abc-2Bdef%u-2FgHiJkLmNoPqRsTuVwXyZ"
		    "0123456789-3D-3D", k);
		break;
	case 3:	/* HubSpot personal parameters on the shop's own links */
		put(b, "https://www.example-shop.com/blog/post-%u?utm_source=hs_email&amp;utm_medium=email"
		    "&amp;_hsenc=p2ANqtz-8abcDEF%u&amp;_hsmi=2%07u", k, k, k);
		break;
	default:	/* Postmark */
		put(b, "https://click.pstmrk.it/3s/www.example-shop.com%%2Fproducts%%2Fitem-%u/AbCd/%u/xYz",
		    k, k);
		break;
	}
}

static void
pixel(struct buf *b, unsigned v)
{
	switch (v) {
	case 0:
		put(b, "<img src=\"https://a1b2c3.r.us-east-1.awstrack.me/I0/0100018c2f1e3a4b-5c6d7e8f/"
		    "Zm9vYmFy=\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0\">");
		break;
	case 1:
		put(b, "<img src=\"https://example-shop.us14.list-manage.com/track/open.php?u=4b2f&amp;"
		    "id=9a8b&amp;e=1c2d\" height=\"1\" width=\"1\" alt=\"\">");
		break;
	case 2:
		put(b, "<img src=\"https://u1234567.ct.sendgrid.net/wf/open?upn=abc-2Bdef\" alt=\"\" "
		    "width=\"1\" height=\"1\" border=\"0\" style=\"height:1px !important;width:1px "
		    "!important\">");
		break;
	case 3:
		put(b, "<img src=\"https://t.hubspotemail.net/e2t/to/VWx8N-3Lc/W3k2abc\" width=\"1\" "
		    "height=\"1\" alt=\"\">");
		break;
	default:
		put(b, "<img src=\"https://pstmrk.it/open?em=abc123def456\" width=\"1\" height=\"1\" "
		    "alt=\"\">");
		break;
	}
}

/* One block of a template-built newsletter (the shape of bench/eom_bench.c:
 * nested tables, inline styles on every cell, one product per row): an
 * image, a heading, a paragraph and one button link, about 1.2 KB of markup
 * per link and per image, as ESP templates are. */
static void
template_block(struct buf *b, int tracked, unsigned vendor, unsigned *k)
{
	put(b, "<tr><td class=\"col\" style=\"padding:24px 32px 8px 32px;background:#ffffff;"
	    "border-bottom:1px solid #e5e5e5\"><table role=\"presentation\" width=\"100%%\" "
	    "cellpadding=\"0\" cellspacing=\"0\"><tr><td style=\"padding:0 0 12px 0\">"
	    "<img src=\"https://cdn.example-shop.com/img/product-%u.jpg\" width=\"536\" "
	    "height=\"300\" alt=\"", *k);
	text(b, 3);
	put(b, "\" style=\"display:block;width:100%%;max-width:536px;height:auto;border:0\">"
	    "</td></tr><tr><td style=\"font-family:Arial,Helvetica,sans-serif;font-size:20px;"
	    "line-height:28px;color:#222222;font-weight:bold;padding:0 0 8px 0\">");
	text(b, 6);
	put(b, "</td></tr><tr><td style=\"font-family:Arial,Helvetica,sans-serif;font-size:15px;"
	    "line-height:22px;color:#555555;padding:0 0 16px 0\">");
	text(b, 50 + rnd(40));
	put(b, "</td></tr><tr><td><a class=\"btn\" href=\"");
	link_url(b, tracked, vendor, (*k)++);
	put(b, "\" style=\"display:inline-block;background:#d62d20;color:#ffffff;font-size:16px;"
	    "line-height:44px;padding:0 28px;text-decoration:none\">Shop now</a></td></tr>"
	    "</table></td></tr>\n");
}

/* One newsletter of about TARGET bytes; TEMPLATE: built of template_block()s
 * (dozens of links), else of link-dense blocks (hundreds). */
static void
newsletter(struct buf *b, size_t target, int tracked, unsigned vendor, int template)
{
	unsigned k = 0;

	buf_reset(b);
	put(b, "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" "
	    "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n<html xmlns="
	    "\"http://www.w3.org/1999/xhtml\"><head><meta http-equiv=\"Content-Type\" "
	    "content=\"text/html; charset=utf-8\"><meta name=\"viewport\" content=\"width="
	    "device-width, initial-scale=1.0\"><title>Newsletter</title>\n<style type=\"text/css\">\n"
	    "body{margin:0;padding:0;-webkit-text-size-adjust:100%%}table,td{border-collapse:collapse}"
	    "img{border:0;height:auto;line-height:100%%;outline:none}\n@media only screen and "
	    "(max-width:600px){.col{width:100%% !important}.hide{display:none !important}}\n"
	    ".hero{background-image:url(https://cdn.example-shop.com/img/hero-bg.jpg)}\n</style>"
	    "</head>\n<body style=\"margin:0;padding:0;background-color:#f4f4f4\">\n<center>"
	    "<table role=\"presentation\" width=\"100%%\" cellpadding=\"0\" cellspacing=\"0\" "
	    "border=\"0\" bgcolor=\"#f4f4f4\"><tr><td align=\"center\">\n");
	put(b, "<table class=\"col\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
	    "style=\"width:600px;max-width:600px\"><tr><td style=\"padding:10px 20px;font-family:"
	    "Arial,sans-serif;font-size:12px;color:#777777\" align=\"right\"><a href=\"");
	link_url(b, tracked, vendor, k++);
	put(b, "\" style=\"color:#777777;text-decoration:underline\">View in browser</a></td></tr>\n");
	while (template && b->len < target)
		template_block(b, tracked, vendor, &k);
	while (!template && b->len < target) {
		put(b, "<tr><td class=\"hero\" style=\"padding:0\"><a href=\"");
		link_url(b, tracked, vendor, k++);
		put(b, "\" target=\"_blank\"><img src=\"https://cdn.example-shop.com/img/banner-%u.jpg\" "
		    "width=\"600\" height=\"%u\" alt=\"", k, 200 + rnd(200));
		text(b, 4);
		put(b, "\" style=\"display:block;width:100%%;max-width:600px;height:auto\"></a></td></tr>\n"
		    "<tr><td style=\"padding:20px 30px;font-family:Georgia,serif;font-size:16px;"
		    "line-height:24px;color:#333333\"><h2 style=\"margin:0 0 12px 0;font-size:22px\">");
		text(b, 6);
		put(b, "</h2><p style=\"margin:0 0 12px 0\">");
		text(b, 40 + rnd(60));
		put(b, " <a href=\"");
		link_url(b, tracked, vendor, k++);
		put(b, "\" style=\"color:#0066cc\">");
		text(b, 3);
		put(b, "</a>.</p>\n<table role=\"presentation\" width=\"100%%\"><tr>");
		for (int c = 0; c < 2; c++) {
			put(b, "<td class=\"col\" width=\"50%%\" valign=\"top\" style=\"padding:8px\">"
			    "<a href=\"");
			link_url(b, tracked, vendor, k++);
			put(b, "\"><img src=\"https://cdn.example-shop.com/img/product-%u.png\" "
			    "width=\"260\" height=\"260\" alt=\"Product\" style=\"display:block\"></a>"
			    "<p style=\"font-family:Arial,sans-serif;font-size:14px;margin:8px 0\">", k);
			text(b, 12);
			put(b, "</p><table><tr><td bgcolor=\"#0066cc\" style=\"border-radius:4px;"
			    "padding:10px 18px\"><a href=\"");
			link_url(b, tracked, vendor, k++);
			put(b, "\" style=\"color:#ffffff;text-decoration:none;font-weight:bold\">"
			    "Shop now</a></td></tr></table></td>");
		}
		put(b, "</tr></table></td></tr>\n<tr><td height=\"20\" style=\"font-size:0;"
		    "line-height:0\"><img src=\"https://cdn.example-shop.com/img/spacer.gif\" "
		    "width=\"1\" height=\"20\" alt=\"\"></td></tr>\n");
	}
	put(b, "<tr><td style=\"padding:20px;font-family:Arial,sans-serif;font-size:11px;"
	    "color:#999999\" align=\"center\">You receive this because you subscribed. <a href=\"");
	link_url(b, tracked, vendor, k++);
	put(b, "\">Unsubscribe</a> | <a href=\"https://www.example-shop.com/preferences\">"
	    "Preferences</a><br>Example Shop, 1 Main Street</td></tr></table>\n");
	if (tracked)
		pixel(b, vendor);
	put(b, "</td></tr></table></center></body></html>\n");
}

/* ---- timing ------------------------------------------------------------------- */

/* Thread CPU time: the build machines are shared, and wall time would
 * charge other processes' time slices to the engine. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define NBODIES 10

static size_t
count_tags(const struct buf *b)
{
	size_t i, n = 0;

	for (i = 0; i < b->len; i++)
		n += b->data[i] == '<';
	return n;
}

/* The anchor, measured in the same run: a bare tag/attribute
 * boundary scanner in C that finds every tag and each attribute's name and
 * value and does nothing else (no comments, no content models, no
 * character references). Its speed shows how fast the machine is at the
 * moment; the ratio to it is the figure that travels between runs. */
static int
bare_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static size_t
bare_scan(const unsigned char *s, size_t n)
{
	size_t i = 0, attrs = 0;
	const unsigned char *q;

	while (i < n && (q = memchr(s + i, '<', n - i)) != NULL) {
		i = (size_t)(q - s) + 1;
		while (i < n && s[i] != '>' && s[i] != '/' && !bare_ws(s[i]))
			i++;
		for (;;) {
			while (i < n && (bare_ws(s[i]) || s[i] == '/'))
				i++;
			if (i >= n || s[i] == '>')
				break;
			while (i < n && s[i] != '=' && s[i] != '>' && !bare_ws(s[i]))
				i++;
			attrs++;
			if (i >= n || s[i] != '=')
				continue;
			i++;
			if (i < n && (s[i] == '"' || s[i] == '\'')) {
				q = memchr(s + i + 1, s[i], n - i - 1);
				if (q == NULL)
					return attrs;
				i = (size_t)(q - s) + 1;
			} else {
				while (i < n && s[i] != '>' && !bare_ws(s[i]))
					i++;
			}
		}
	}
	return attrs;
}

static void
run_set(const char *label, struct buf *bodies, unsigned consent, const struct rules *rules,
    const struct pii_set *pii, int rounds, int expect_change)
{
	struct rewrite_policy pol;
	struct rewrite_counts c;
	struct buf out = BUF_INIT;
	size_t total = 0, tags = 0, i, sink = 0;
	unsigned long allocs_before, allocs = 0;
	double t0, t_rw = 0, t_mc = 0, t_bare = 0;
	int r, changed, nchanged = 0;

	memset(&pol, 0, sizeof(pol));
	pol.rules = rules;
	pol.pii = pii;
	pol.consent = consent;
	for (i = 0; i < NBODIES; i++) {
		total += bodies[i].len;
		tags += count_tags(&bodies[i]);
	}
	/* warm up, count allocations per call, check the expectation */
	memset(&c, 0, sizeof(c));
	for (i = 0; i < NBODIES; i++) {
		allocs_before = n_alloc;
		if (rewrite_part(&pol, REWRITE_HTML, bodies[i].data, bodies[i].len, &out,
		    &changed, &c) != 0)
			abort();
		allocs += n_alloc - allocs_before;
		nchanged += changed;
	}
	if (expect_change ? nchanged != NBODIES : nchanged != 0) {
		fprintf(stderr, "%s: %d of %d bodies changed, expected %s\n", label, nchanged,
		    NBODIES, expect_change ? "all" : "none");
		exit(1);
	}
	for (r = 0; r < rounds; r++) {
		t0 = now();
		for (i = 0; i < NBODIES; i++) {
			if (rewrite_part(&pol, REWRITE_HTML, bodies[i].data, bodies[i].len, &out,
			    &changed, NULL) != 0)
				abort();
			sink += (size_t)changed;
		}
		t_rw += now() - t0;
		t0 = now();
		for (i = 0; i < NBODIES; i++)
			sink += memchr(bodies[i].data, '\x01', bodies[i].len) != NULL;
		t_mc += now() - t0;
		t0 = now();
		for (i = 0; i < NBODIES; i++)
			sink += bare_scan((const unsigned char *)bodies[i].data, bodies[i].len);
		t_bare += now() - t0;
	}
	printf("%-34s %6.1f KB avg %6zu tags/body  rewrite %7.0f MB/s  memchr %7.0f MB/s  "
	    "ratio %5.3f  %.1f us/body  allocs/call %.1f (%.0f tags/call)\n",
	    label, total / 1024.0 / NBODIES, tags / NBODIES,
	    total * rounds / t_rw / 1e6, total * rounds / t_mc / 1e6, t_mc / t_rw,
	    t_rw / rounds / NBODIES * 1e6, (double)allocs / NBODIES, (double)tags / NBODIES);
	printf("%-34s bare tag/attribute scanner %7.0f MB/s; rewrite / bare scanner %5.2f\n", "",
	    total * rounds / t_bare / 1e6, t_bare / t_rw);
	if (expect_change)
		printf("%-34s pixels %u resources %u unwrapped %u cleaned %u unresolved %u "
		    "(per %d bodies)\n", "", c.pixels_removed, c.resources_removed,
		    c.links_unwrapped, c.links_cleaned, c.links_unresolved, NBODIES);
	buf_free(&out);
	if (sink == 42)
		printf(" ");
}

int
main(int argc, char **argv)
{
	const char *rules_path = argc > 1 ? argv[1] : "etc/trackers.conf";
	int rounds = argc > 2 ? atoi(argv[2]) : 200;
	const char *only = argc > 3 ? argv[3] : "";	/* one set: template[-clean|-dense], clean, dense[-none] */
	struct cfg_error *errs = NULL;
	struct rules *rules = rules_load(rules_path, &errs);
	struct pii_set *pii = pii_new();
	struct buf clean[NBODIES], dense[NBODIES], tclean[NBODIES], tdense[NBODIES];
	size_t i;

	if (rules == NULL || pii == NULL) {
		fprintf(stderr, "cannot load %s\n", rules_path);
		return 1;
	}
	pii_add_recipient(pii, "Jane.Doe@example.net", "jane.doe@example.net");
	for (i = 0; i < NBODIES; i++) {
		size_t target = 30 * 1024 + i * 12 * 1024;	/* 30 .. 138 KB */

		memset(&clean[i], 0, sizeof(clean[i]));
		memset(&dense[i], 0, sizeof(dense[i]));
		memset(&tclean[i], 0, sizeof(tclean[i]));
		memset(&tdense[i], 0, sizeof(tdense[i]));
		newsletter(&clean[i], target, 0, 0, 0);
		newsletter(&dense[i], target, 1, (unsigned)i % 5, 0);
		newsletter(&tclean[i], target, 0, 0, 1);
		newsletter(&tdense[i], target, 1, (unsigned)i % 5, 1);
	}
	printf("engine bench (thread CPU time): %d bodies 30-150 KB, %d rounds, rules %s "
	    "(%zu rules)\n",
	    NBODIES, rounds, rules_path, rules_count(rules));
	if (only[0] == '\0' || strncmp(only, "template", 8) == 0) {
		printf("template newsletters: one link and one image per ~1.2 KB of markup "
		    "(dozens per body)\n");
		if (strcmp(only, "template-dense") != 0)
			run_set("(b) no edit needed, consent none", tclean, 0, rules, pii, rounds, 0);
		if (strcmp(only, "template-clean") != 0)
			run_set("(a) tracked, consent none", tdense, 0, rules, pii, rounds, 1);
	}
	if (only[0] == '\0')
		printf("link-dense newsletters: seven links and four images per ~1.5 KB "
		    "(hundreds per body)\n");
	if (strncmp(only, "dense", 5) != 0 && strncmp(only, "template", 8) != 0)
		run_set("(b) no edit needed, consent none", clean, 0, rules, pii, rounds, 0);
	if (strcmp(only, "clean") != 0 && strncmp(only, "template", 8) != 0)
		run_set("(a) tracker-dense, consent none", dense, 0, rules, pii, rounds, 1);
	if (only[0] == '\0' || strcmp(only, "dense") == 0) {
		run_set("    tracker-dense, consent click", dense, CONSENT_CLICK, rules, pii,
		    rounds, 1);
		run_set("    tracker-dense, consent all", dense, CONSENT_OPEN | CONSENT_CLICK, rules,
		    pii, rounds, 0);
	}
	for (i = 0; i < NBODIES; i++) {
		buf_free(&clean[i]);
		buf_free(&dense[i]);
		buf_free(&tclean[i]);
		buf_free(&tdense[i]);
	}
	pii_free(pii);
	rules_free(rules);
	return 0;
}
