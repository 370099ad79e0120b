/* eom_bench.c - end-of-message CPU cost and memory, measured in one run.
 *
 * Built and run by bench/eom.sh. Generates a 75 KiB tracked newsletter
 * (multipart/alternative, QP-encoded HTML with ESP pixels and tracked links)
 * and times, with the thread CPU clock:
 *   parse   mime_rewrite() with an editor that changes nothing (GMime parse,
 *           walk, transfer decoding)
 *   engine  rewrite_part() alone on the decoded HTML and text (no recipient
 *           address search, no List-Unsubscribe)
 *   total   process_body(), the milter's end-of-message path, consent none
 * The rest, total - parse - engine, is re-encoding and splicing plus what
 * the engine does only with a real message (recipient address search in
 * every URL, PII needle set, List-Unsubscribe). The message has 5 top-level
 * headers; real mail has 20 to 40 (Received, DKIM-Signature, ARC-*, List-*),
 * so the total is timed again with such a block (23 headers). Then 20 threads each
 * process a 2 MB message at once and the peak RSS is reported. */
#include "build-config.h"
#include "buf.h"
#include "config.h"
#include "headers.h"
#include "memtune.h"
#include <gmime/gmime.h>
#include "mime.h"
#include "process.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Minor page faults of this thread so far: fresh pages the allocator hands
 * out after it gave memory back to the kernel cost more than the work. */
static long
minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_minflt;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static const char *const links[] = {
	"https://abc.r.eu-west-1.awstrack.me/L0/https:%%2F%%2Fshop.example%%2Fp%%2F%d/1/0102018c-%04d/AbC=",
	"https://news.us1.list-manage.com/track/click?u=abc&amp;id=%d&amp;e=%04d",
	"https://u123.ct.sendgrid.net/ls/click?upn=abc%ddef%04d",
	"https://shop.example/article/%d?utm_source=news&amp;mc_eid=%04d",
	"https://www.example.org/plain/%d/%04d",
};

/* A newsletter the way ESP templates are built: nested tables with inline
 * styles on every cell, one product block per row (image, heading, text,
 * tracked button link), a tracking pixel now and then. About 1.2 KB of
 * markup per tracked link, as in real marketing mail. */
static void
gen_html(struct buf *b, size_t target, unsigned *nlinks)
{
	char piece[2048];
	int i = 0;

	buf_puts(b, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>"
		 "td{font-family:Arial,Helvetica,sans-serif}.btn{border-radius:4px}"
		 "@media only screen and (max-width:600px){.col{width:100% !important}}"
		 "</style></head><body style=\"margin:0;padding:0;background:#f4f4f4\">"
		 "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\">\n");
	while (b->len < target) {
		snprintf(piece, sizeof piece,
			 "<tr><td class=\"col\" style=\"padding:24px 32px 8px 32px;background:#ffffff;"
			 "border-bottom:1px solid #e5e5e5\"><table role=\"presentation\" width=\"100%%\" "
			 "cellpadding=\"0\" cellspacing=\"0\"><tr><td style=\"padding:0 0 12px 0\">"
			 "<img src=\"https://cdn.example/img/product-%d.jpg\" width=\"536\" height=\"300\" "
			 "alt=\"Product %d\" style=\"display:block;width:100%%;max-width:536px;height:auto;"
			 "border:0\"></td></tr><tr><td style=\"font-size:20px;line-height:28px;"
			 "color:#222222;font-weight:bold;padding:0 0 8px 0\">Product %d, now in stock</td>"
			 "</tr><tr><td style=\"font-size:15px;line-height:22px;color:#555555;padding:0 0 16px 0\">"
			 "A fine thing at a fine price, made to last and shipped for free this week only. "
			 "Our customers rate it four and a half stars out of five; read what they say and "
			 "pick the colour that suits you.</td></tr><tr><td><a class=\"btn\" href=\"",
			 i, i, i);
		buf_puts(b, piece);
		snprintf(piece, sizeof piece, links[i % 5], i, i);
		buf_puts(b, piece);
		buf_puts(b, "\" style=\"display:inline-block;background:#d62d20;color:#ffffff;"
			 "font-size:16px;line-height:44px;padding:0 28px;text-decoration:none\">"
			 "Shop now</a></td></tr></table></td></tr>\n");
		(*nlinks)++;
		if (i % 20 == 0) {
			snprintf(piece, sizeof piece, "<tr><td><img src=\"https://abc.r.eu-west-1"
				 ".awstrack.me/I0/0102018c-%04d/xYz\" width=\"1\" height=\"1\" "
				 "alt=\"\"></td></tr>\n", i);
			buf_puts(b, piece);
		}
		i++;
	}
	buf_puts(b, "</table></body></html>\n");
}

static unsigned nlinks;

/* Top-level headers as they reach a mail server, ahead of the bench's own. */
static const char real_headers[] =
	"Return-Path: <bounce-123@mail.sender.example>\r\n"
	"Received: from mail.sender.example (mail.sender.example [192.0.2.10])\r\n"
	"\tby mx.rcpt.example (Postfix) with ESMTPS id 4ABCD12345\r\n"
	"\tfor <reader@rcpt.example>; Mon, 1 Jan 2024 10:00:00 +0000 (UTC)\r\n"
	"Received: from app01 (app01.internal [10.0.0.5])\r\n"
	"\tby mail.sender.example (Postfix) with ESMTP id 1234567\r\n"
	"\tfor <reader@rcpt.example>; Mon, 1 Jan 2024 09:59:59 +0000 (UTC)\r\n"
	"Received: by app01 with HTTP; Mon, 1 Jan 2024 09:59:58 +0000\r\n"
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=sender.example;\r\n"
	"\ts=s1; t=1704103200; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
	"\th=From:To:Subject:Date:Message-ID:List-Unsubscribe;\r\n"
	"\tb=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\r\n"
	"Authentication-Results: mx.rcpt.example; dkim=pass header.d=sender.example;\r\n"
	"\tspf=pass smtp.mailfrom=sender.example\r\n"
	"ARC-Seal: i=1; a=rsa-sha256; t=1704103200; cv=none; d=rcpt.example; s=arc;\r\n"
	"\tb=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\r\n"
	"Date: Mon, 1 Jan 2024 09:59:58 +0000\r\n"
	"Message-ID: <20240101095958.1234567@mail.sender.example>\r\n"
	"Reply-To: support@sender.example\r\n"
	"List-Unsubscribe: <https://sender.example/u/abc123>, <mailto:unsub-abc123@sender.example>\r\n"
	"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
	"List-Id: Newsletter <news.sender.example>\r\nPrecedence: bulk\r\n"
	"Feedback-ID: 123:456:newsletter:sender\r\nX-Mailer: Sender Mailer 3.1\r\n"
	"X-Campaign: spring-2024\r\nX-Spam-Status: No, score=-0.1 required=5.0\r\n";

static void
gen_message(struct buf *hdr, struct buf *body, size_t html_size)
{
	struct buf html = BUF_INIT, enc = BUF_INIT;

	nlinks = 0;
	gen_html(&html, html_size, &nlinks);
	mime_encode_qp(html.data, html.len, &enc);
	buf_puts(hdr, "From: news@sender.example\r\nTo: reader@rcpt.example\r\n"
		 "Subject: bench\r\nMIME-Version: 1.0\r\n"
		 "Content-Type: multipart/alternative; boundary=\"b1\"\r\n");
	buf_puts(body, "--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
		 "Read it online: https://abc.r.eu-west-1.awstrack.me/L0/https:%2F%2Fshop"
		 ".example%2F/1/0102018c/AbC=\r\n\r\n--b1\r\nContent-Type: text/html; "
		 "charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
	buf_append(body, enc.data, enc.len);
	buf_puts(body, "\r\n--b1--\r\n");
	buf_free(&html);
	buf_free(&enc);
}

struct decoded { struct buf parts[4]; int is_html[4]; int n; };

static int
keep_part(void *arg, const struct mime_part_info *info, const char *d, size_t len,
	  struct buf *out, int *changed)
{
	struct decoded *dc = arg;

	(void)out;
	*changed = 0;
	if (dc && dc->n < 4) {
		buf_reset(&dc->parts[dc->n]);
		buf_append(&dc->parts[dc->n], d, len);
		dc->is_html[dc->n++] = info->is_html;
	}
	return 0;
}

struct job {
	const struct engine *e;
	struct header_list *hl;
	const struct buf *body;
	int status;
};

static struct process_input
input_for(struct header_list *hl, const struct buf *body)
{
	static const struct process_rcpt rcpt = { "reader@rcpt.example", "reader@rcpt.example" };
	struct process_input in;

	memset(&in, 0, sizeof in);
	in.hdrs = hl;
	in.body = body->data;
	in.blen = body->len;
	in.rcpts = &rcpt;
	in.nrcpt = 1;
	in.consent = 0;
	in.remove_amp = 1;
	return in;
}

static void *
run_job(void *arg)
{
	struct job *j = arg;
	struct process_input in = input_for(j->hl, j->body);
	struct process_result r;

	process_body(j->e, &in, &r);
	j->status = r.status;
	process_result_free(&r);
	return NULL;
}

static void
report(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	printf("  %-28s median %8.1f us   p99 %8.1f us\n", what, v[n / 2], v[n * 99 / 100]);
}

/* The baseline: GMime alone parsing the same message from memory and freeing
 * it, which any GMime-based filter pays before it reads a byte. */
static double
gmime_parse_us(const struct buf *hdr, const struct buf *body)
{
	GMimeStream *st;
	GMimeParser *p;
	GMimeMessage *m;
	double t = cpu_us();

	st = g_mime_stream_mem_new();
	g_mime_stream_write(st, hdr->data, hdr->len);
	g_mime_stream_write(st, "\r\n", 2);
	g_mime_stream_write(st, body->data, body->len);
	g_mime_stream_seek(st, 0, GMIME_STREAM_SEEK_SET);
	p = g_mime_parser_new_with_stream(st);
	m = g_mime_parser_construct_message(p, NULL);
	if (m != NULL)
		g_object_unref(m);
	g_object_unref(p);
	g_object_unref(st);
	return cpu_us() - t;
}

int
main(int argc, char **argv)
{
	int iters = argc > 2 ? atoi(argv[2]) : 2000, i, k;
	struct cfg_error *errs = NULL;
	struct cm_config *cfg = cfg_defaults();
	struct buf hdr = BUF_INIT, body = BUF_INIT, big = BUF_INIT, bighdr = BUF_INIT, realhdr = BUF_INIT;
	struct header_list hl = { 0 }, bighl = { 0 }, realhl = { 0 };
	double *parse = calloc((size_t)iters, sizeof *parse), *engine = calloc((size_t)iters, sizeof *engine),
	       *total = calloc((size_t)iters, sizeof *total), *total_real = calloc((size_t)iters, sizeof *total),
	       *gmime = calloc((size_t)iters, sizeof *gmime);
	struct decoded dc = { 0 };
	struct rewrite_policy pol;
	struct engine *e;
	struct rusage ru;
	char err[256];
	size_t used;
	long faults = 0, f0;
	pthread_t th[20];
	struct job jobs[20];

	mime_global_init();
	memtune_init();	/* as consent-milter does */
	if (argc > 1)
		cfg_set(cfg, "TrackerRules", argv[1], "(bench)", 0, &errs);
	e = engine_open(cfg, err, sizeof err);
	if (e == NULL) {
		fprintf(stderr, "eom_bench: %s\n", err);
		return 1;
	}
	/* 69 KiB of HTML: with the 5 headers, a message of 75.2 KiB (77.0 kB),
	 * the "75 KB" newsletter read either way, rounded up */
	gen_message(&hdr, &body, 69 * 1024);
	buf_puts(&hdr, "\r\n");
	headers_parse(hdr.data, hdr.len, &hl, &used);
	buf_puts(&realhdr, real_headers);
	buf_append(&realhdr, hdr.data, hdr.len);	/* the bench's own after them */
	headers_parse(realhdr.data, realhdr.len, &realhl, &used);
	hdr.len -= 2;
	printf("message: %zu bytes (%zu of body: QP HTML + text), %u tracked links, consent none, "
	       "%zu tracker rules, %d runs; %zu or %zu top-level headers\n", hdr.len + 2 + body.len,
	       body.len, nlinks, engine_rule_count(e), iters, hl.n, realhl.n);

	for (i = 0; i < iters; i++) {
		struct process_input in = input_for(&hl, &body);
		struct process_result r;
		struct buf nb = BUF_INIT;
		struct mime_stats st;
		double t;

		t = cpu_us();
		dc.n = 0;
		mime_rewrite(hdr.data, hdr.len, body.data, body.len, &(struct mime_opts){ 20, 1 },
			     keep_part, &dc, &nb, &st, err, sizeof err);
		parse[i] = cpu_us() - t;

		f0 = minflt();
		t = cpu_us();
		process_body(e, &in, &r);
		total[i] = cpu_us() - t;
		faults += minflt() - f0;
		process_result_free(&r);
		in.hdrs = &realhl;
		t = cpu_us();
		process_body(e, &in, &r);
		total_real[i] = cpu_us() - t;
		if (r.status != MIME_CHANGED) {
			fprintf(stderr, "eom_bench: the newsletter was not rewritten (%d: %s)\n",
				r.status, r.why);
			return 1;
		}
		process_result_free(&r);
		buf_free(&nb);
		gmime[i] = gmime_parse_us(&hdr, &body);
	}
	/* The engine alone, on the parts decoded above (no PII needles). */
	engine_policy(e, 0, &pol);
	for (i = 0; i < iters; i++) {
		struct rewrite_counts rc = { 0 };
		struct buf out = BUF_INIT;
		double t = cpu_us();
		for (k = 0; k < dc.n; k++) {
			int changed;
			rewrite_part(&pol, dc.is_html[k] ? REWRITE_HTML : REWRITE_TEXT,
				     dc.parts[k].data, dc.parts[k].len, &out, &changed, &rc);
		}
		engine[i] = cpu_us() - t;
		buf_free(&out);
		if (i == 0)	/* what the engine did: a broken generator shows here */
			printf("  engine per message: pixels %u unwrapped %u cleaned %u anonymized %u "
			       "unresolved %u\n", rc.pixels_removed, rc.links_unwrapped,
			       rc.links_cleaned, rc.links_anonymized, rc.links_unresolved);
	}
	report("parse + walk + decode", parse, iters);
	report("engine (rewrite_part)", engine, iters);
	report("total end of message", total, iters);
	report("total, real header block", total_real, iters);
	report("baseline: GMime parse alone", gmime, iters);
	qsort(parse, (size_t)iters, sizeof *parse, cmp_double);
	qsort(engine, (size_t)iters, sizeof *engine, cmp_double);
	qsort(total, (size_t)iters, sizeof *total, cmp_double);
	qsort(gmime, (size_t)iters, sizeof *gmime, cmp_double);
	printf("  ratio of medians, end of message / GMime parse alone: %.2f\n",
	       total[iters / 2] / gmime[iters / 2]);
	printf("  share of the median: parse %.0f %%, engine %.0f %%, rest (re-encode, splice, "
	       "address search) %.0f %%\n",
	       100 * parse[iters / 2] / total[iters / 2], 100 * engine[iters / 2] / total[iters / 2],
	       100 * (total[iters / 2] - parse[iters / 2] - engine[iters / 2]) / total[iters / 2]);
	printf("  minor page faults per end of message: %.1f\n", (double)faults / iters);
	printf("  goal: median <= 200 us -> %s\n", total[iters / 2] <= 200 ? "met" : "NOT met");

	if (argc > 3 && strcmp(argv[3], "no-rss") == 0)
		return 0;	/* for profiling the single-message path */
	gen_message(&bighdr, &big, 2 * 1024 * 1024);
	buf_puts(&bighdr, "\r\n");
	headers_parse(bighdr.data, bighdr.len, &bighl, &used);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS before the concurrent run: %ld KB\n", ru.ru_maxrss);
	for (i = 0; i < 20; i++) {
		jobs[i] = (struct job){ e, &bighl, &big, 0 };
		pthread_create(&th[i], NULL, run_job, &jobs[i]);
	}
	for (i = 0; i < 20; i++)
		pthread_join(th[i], NULL);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS with 20 concurrent 2 MB messages: %ld KB (%.1f x the 40 MB of bodies)\n",
	       ru.ru_maxrss, (double)ru.ru_maxrss / (40.0 * 1024));
	engine_close(e);
	cfg_free(cfg);
	return 0;
}
