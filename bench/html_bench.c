/* html_bench.c - throughput of the HTML tokenizer (tags only) over a generated
 * ~100 KB newsletter, printed beside memchr() for '<' over the same buffer in
 * the same run. Not built by make: run bench/html.sh. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "html.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A newsletter: table layout, inline styles, many images and tracked links. */
static void
make_newsletter(struct buf *b, size_t target)
{
	unsigned i = 0;

	buf_puts(b, "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" "
	    "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
	    "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head>"
	    "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\">"
	    "<title>Weekly news &amp; offers</title>\n<style type=\"text/css\">\n"
	    "body{margin:0;padding:0} table td{border-collapse:collapse}\n"
	    "@media only screen and (max-width:600px){.col{width:100%!important}}\n"
	    ".btn a{background:#ff6600;color:#ffffff;text-decoration:none}\n</style>\n"
	    "<!--[if mso]><xml><o:OfficeDocumentSettings><o:PixelsPerInch>96"
	    "</o:PixelsPerInch></o:OfficeDocumentSettings></xml><![endif]-->\n"
	    "</head>\n<body style=\"margin:0;padding:0;background-color:#f4f4f4\">\n"
	    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" "
	    "border=\"0\" bgcolor=\"#f4f4f4\">\n");
	while (b->len < target) {
		buf_printf(b,
		    "<tr>\n<td class=\"col\" align=\"left\" valign=\"top\" style=\"padding:20px 30px 10px 30px;"
		    "font-family:Helvetica,Arial,sans-serif;font-size:16px;line-height:24px;color:#333333;\">\n"
		    "<a href=\"https://click.mail.example.com/ls/click?upn=u001.Zm9vYmFyYmF6cXV4%d-2Fabc&amp;"
		    "utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=week%d\" target=\"_blank\" "
		    "style=\"text-decoration:none;color:#0066cc\">"
		    "<img src=\"https://cdn.example.com/images/2026/11/article-%d-hero.jpg\" width=\"540\" "
		    "height=\"270\" alt=\"Article %d\" border=\"0\" style=\"display:block;width:100%%;"
		    "max-width:540px;height:auto;border:0;outline:none;\"></a>\n"
		    "<h2 style=\"margin:16px 0 8px 0;font-size:22px;line-height:28px;color:#111111;\">"
		    "Headline number %d: what changed this week</h2>\n"
		    "<p style=\"margin:0 0 12px 0;\">Lorem ipsum dolor sit amet, consectetur adipiscing elit, "
		    "sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim "
		    "veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo "
		    "consequat &mdash; <b>duis aute</b> irure dolor in <i>reprehenderit</i>.</p>\n"
		    "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr>"
		    "<td class=\"btn\" bgcolor=\"#ff6600\" style=\"border-radius:4px;\">"
		    "<a href=\"https://click.mail.example.com/ls/click?upn=u001.cXV1eA%d&amp;id=%d\" "
		    "style=\"display:inline-block;padding:10px 18px;font-size:14px;color:#ffffff;"
		    "text-decoration:none;\">Read more &rarr;</a></td></tr></table>\n"
		    "</td>\n</tr>\n", i, i, i, i, i, i, i);
		i++;
	}
	buf_puts(b, "</table>\n<img src=\"https://open.example.com/o/eyJ1IjoxMjM0NX0.gif\" "
	    "width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">\n</body></html>\n");
}

static size_t sink;

static size_t
run_tokenizer(const struct buf *b, unsigned opts)
{
	struct html_tokenizer t;
	struct html_token tok;
	size_t n = 0;

	html_init(&t, b->data, b->len);
	html_set_options(&t, opts);
	while (html_next(&t, &tok) != HTML_EOF)
		n += tok.nattrs + 1;
	return n;
}

static size_t
run_memchr(const struct buf *b)
{
	const char *p = b->data, *end = b->data + b->len;
	size_t n = 0;

	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* Best of 30 short rounds of `iters` passes (short rounds dodge other load
 * on a shared machine); returns MB/s (1e6 bytes). */
static double
measure(const struct buf *b, int which, int iters)
{
	double best = 0;
	int r, i;

	for (r = 0; r < 30; r++) {
		double t0 = now(), dt, mbs;

		for (i = 0; i < iters; i++)
			sink += which == 0 ? run_memchr(b) : run_tokenizer(b, which == 1 ?
			    HTML_OPT_SKIP_TEXT : 0);
		dt = now() - t0;
		mbs = (double)b->len * iters / dt / 1e6;
		if (mbs > best)
			best = mbs;
	}
	return best;
}

int
main(int argc, char **argv)
{
	struct buf b = BUF_INIT;
	struct html_tokenizer t;
	struct html_token tok;
	size_t tags = 0, attrs = 0;
	int iters = argc > 1 ? atoi(argv[1]) : 100;
	double mc, tk, tx;

	make_newsletter(&b, 100 * 1000);
	html_init(&t, b.data, b.len);
	html_set_options(&t, HTML_OPT_SKIP_TEXT);
	while (html_next(&t, &tok) != HTML_EOF)
		if (tok.kind == HTML_START_TAG || tok.kind == HTML_END_TAG) {
			tags++;
			attrs += tok.nattrs;
		}
	mc = measure(&b, 0, iters);
	tk = measure(&b, 1, iters);
	tx = measure(&b, 2, iters);
	printf("buffer: %zu bytes, %zu tags, %zu attributes, %zu '<'\n", b.len, tags, attrs,
	    run_memchr(&b));
	printf("memchr '<':            %8.0f MB/s\n", mc);
	printf("html_next (tags only): %8.0f MB/s  (%.2f x memchr)\n", tk, tk / mc);
	printf("html_next (with text): %8.0f MB/s  (%.2f x memchr)\n", tx, tx / mc);
	if (sink == 42)
		printf(" \n");
	buf_free(&b);
	return 0;
}
