/* test_cte.c - unit tests of the quoted-printable pieces of src/cte.c that
 * mime.c uses to re-encode only around edits: the soft-break marks recorded
 * while decoding, and qp_encode_around(). The plain coders are tested in
 * test_mime.c.
 *
 * The property checked on random texts, random (also malformed) encodings
 * and random edits: the result decodes to exactly the edited text, its new
 * lines are at most 76 characters, it starts and ends with the original's
 * bytes where no edit was near, it keeps a final line end, and an edit list
 * that does not describe the text is refused without output. */
#include "build-config.h"
#include "tap.h"
#include "cte.h"
#include "mime.h"

#include <stdlib.h>
#include <string.h>

static unsigned long seed = 12345;

static unsigned
rnd(unsigned n)
{
	seed = seed * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)((seed >> 33) % n);
}

/* A decoded text: HTML-like bytes, '=' and blanks, CRLF line ends, now and
 * then a long line, a lone LF or CR, or an 8-bit byte. */
static void
random_text(struct buf *b, size_t n)
{
	static const char alpha[] = "<a href=\"https://x.example/?a=1&b=2\">  Text\t</a>==--";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned r = rnd(100);
		char c;

		if (r < 4)
			c = '\r';
		else if (r < 8)
			c = '\n';
		else if (r < 10)
			c = (char)(0x80 + rnd(128));
		else
			c = alpha[rnd(sizeof(alpha) - 1)];
		if (c == '\r' && rnd(4) != 0) {
			buf_append(b, "\r\n", 2);
			continue;
		}
		buf_append(b, &c, 1);
	}
}

/* An encoding as found in mail: mostly a proper one, sometimes with
 * malformed escapes, LF soft breaks, blanks before line ends, or a dangling
 * "=" at the end, which the decoder keeps or drops as GMime does. */
static void
random_encoding(struct buf *enc, size_t n)
{
	struct buf t = BUF_INIT;
	size_t i;

	random_text(&t, n);
	mime_encode_qp(t.data ? t.data : "", t.len, enc);
	buf_free(&t);
	if (rnd(3) != 0)
		return;
	for (i = 0; i < 1 + rnd(6); i++) {
		static const char *const junk[] = { "=\n", "=ZZ", "=4", "= \r\n", "=\r", "=\r\n=\r\n",
						    "  \r\n", "\n", "==3D", "=0a" };
		const char *j = junk[rnd(sizeof(junk) / sizeof(junk[0]))];
		size_t at = enc->len ? rnd((unsigned)enc->len + 1) : 0, jl = strlen(j);
		struct buf x = BUF_INIT;

		buf_append(&x, enc->data, at);
		buf_append(&x, j, jl);
		buf_append(&x, enc->data + at, enc->len - at);
		buf_free(enc);
		*enc = x;
	}
	if (rnd(5) == 0)
		buf_append(enc, "=", 1);
}

/* ED told sparse: the same spans, their bytes back to back in REP. */
static void
sparse_of(const struct buf *text, const struct mime_edits *ed, struct buf *rep,
	  struct mime_edits *sp)
{
	size_t k;

	sp->v = calloc(ed->n + 1, sizeof(*sp->v));
	sp->n = ed->n;
	sp->sparse = 1;
	for (k = 0; k < ed->n; k++) {
		sp->v[k] = ed->v[k];
		sp->v[k].out_start = rep->len;
		buf_append(rep, text->data + ed->v[k].out_start, ed->v[k].len);
	}
}

/* Random non-overlapping edits of DEC into TEXT. */
static void
random_edits(const struct buf *dec, struct buf *text, struct mime_edits *ed)
{
	size_t pos = 0, cap = 16;

	ed->v = calloc(cap, sizeof(*ed->v));
	ed->n = 0;
	ed->sparse = 0;
	while (pos <= dec->len && ed->n < cap) {
		size_t gap = rnd((unsigned)(dec->len / 4 + 2)), del, ins;
		struct mime_edit *x;
		struct buf rep = BUF_INIT;

		if (pos + gap > dec->len)
			break;
		del = rnd(3) == 0 ? 0 : rnd(60);
		if (pos + gap + del > dec->len)
			del = dec->len - pos - gap;
		ins = rnd(4) == 0 ? 0 : rnd(90);
		random_text(&rep, ins);
		buf_append(text, dec->data + pos, gap);
		x = &ed->v[ed->n++];
		x->start = pos + gap;
		x->end = pos + gap + del;
		x->out_start = text->len;
		x->len = rep.len;
		buf_append(text, rep.data, rep.len);
		buf_free(&rep);
		pos = x->end;
		if (rnd(8) == 0)
			break;
	}
	if (pos < dec->len)
		buf_append(text, dec->data + pos, dec->len - pos);
}

static size_t
longest_line(const char *p, size_t n)
{
	size_t i, cur = 0, max = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			cur = 0;
			continue;
		}
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			continue;
		if (++cur > max)
			max = cur;
	}
	return max;
}

/* qp_decode_marked() decodes as mime_decode_qp() does, and each mark cuts
 * the input where decoding in two pieces gives the same. */
static void
check_marks(const struct buf *enc, struct buf *dec, struct qp_marks *mk)
{
	struct buf plain = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	size_t i;

	memset(mk, 0, sizeof(*mk));
	ck_assert_int_eq(qp_decode_marked(enc->data ? enc->data : "", enc->len, dec, mk), 0);
	ck_assert_int_eq(mime_decode_qp(enc->data ? enc->data : "", enc->len, &plain), 0);
	ck_assert_uint_eq(dec->len, plain.len);
	ck_assert(dec->len == 0 || memcmp(dec->data, plain.data, dec->len) == 0);
	ck_assert(!mk->failed);
	for (i = 0; i < mk->n; i++) {
		ck_assert(i == 0 || (mk->v[i].enc > mk->v[i - 1].enc && mk->v[i].dec >= mk->v[i - 1].dec));
		ck_assert_uint_ge(mk->v[i].enc, 2);
		ck_assert_int_eq(enc->data[mk->v[i].enc - 1], '\n');
		/* only probe some: decoding twice per mark is quadratic */
		if (i % 7 != 0)
			continue;
		a.len = b.len = 0;
		mime_decode_qp(enc->data, mk->v[i].enc, &a);
		mime_decode_qp(enc->data + mk->v[i].enc, enc->len - mk->v[i].enc, &b);
		ck_assert_uint_eq(a.len, mk->v[i].dec);
		ck_assert_uint_eq(a.len + b.len, plain.len);
		ck_assert(a.len == 0 || memcmp(a.data, plain.data, a.len) == 0);
		ck_assert(b.len == 0 || memcmp(b.data, plain.data + a.len, b.len) == 0);
	}
	buf_free(&plain);
	buf_free(&a);
	buf_free(&b);
}

/* qp_edits_apply() puts TEXT together from DEC and its edits, told with
 * the whole text or sparse; and qp_encode_around() gives the same bytes
 * either way. Returns the sparse form's encoding in *sparse_out. */
static void
check_apply(const struct buf *enc, const struct buf *dec, const struct qp_marks *mk,
	    const struct buf *text, const struct mime_edits *ed, struct buf *sparse_out)
{
	struct buf rep = BUF_INIT, whole = BUF_INIT, whole2 = BUF_INIT;
	struct mime_edits sp;
	const char *d = dec->data ? dec->data : "", *t = text->data ? text->data : "";

	sparse_of(text, ed, &rep, &sp);
	ck_assert_int_eq(qp_edits_apply(d, dec->len, t, text->len, ed, &whole), 0);
	ck_assert_int_eq(qp_edits_apply(d, dec->len, rep.data ? rep.data : "", rep.len, &sp,
					&whole2), 0);
	ck_assert_uint_eq(whole.len, text->len);
	ck_assert_uint_eq(whole2.len, text->len);
	ck_assert(text->len == 0 || (memcmp(whole.data, t, text->len) == 0 &&
				     memcmp(whole2.data, t, text->len) == 0));
	buf_append(sparse_out, "prefix", 6);
	ck_assert_int_eq(qp_encode_around(enc->data ? enc->data : "", enc->len, mk, d, dec->len,
					  rep.data ? rep.data : "", rep.len, &sp, sparse_out, NULL), 0);
	free(sp.v);
	buf_free(&rep);
	buf_free(&whole);
	buf_free(&whole2);
}

static void
check_around(const struct buf *enc, const struct buf *dec, const struct qp_marks *mk,
	     const struct buf *text, const struct mime_edits *ed)
{
	struct buf out = BUF_INIT, back = BUF_INIT, segs = BUF_INIT, sparse_out = BUF_INIT;
	size_t k, pair[2], first = (size_t)-1, last = 0;
	const char *t = text->data ? text->data : "", *d = dec->data ? dec->data : "";

	buf_append(&out, "prefix", 6);	/* appended to, as mime.c's new body is */
	ck_assert(qp_edits_match(d, dec->len, t, text->len, ed));
	ck_assert_int_eq(qp_encode_around(enc->data ? enc->data : "", enc->len, mk, d, dec->len,
					  t, text->len, ed, &out, &segs), 0);
	check_apply(enc, dec, mk, text, ed, &sparse_out);
	ck_assert_uint_eq(sparse_out.len, out.len);
	ck_assert(memcmp(sparse_out.data, out.data, out.len) == 0);
	buf_free(&sparse_out);
	ck_assert(memcmp(out.data, "prefix", 6) == 0);
	ck_assert_int_eq(mime_decode_qp(out.data + 6, out.len - 6, &back), 0);
	ck_assert_uint_eq(back.len, text->len);
	ck_assert(back.len == 0 || memcmp(back.data, t, back.len) == 0);
	for (k = 0; k + sizeof(pair) <= segs.len; k += sizeof(pair)) {
		memcpy(pair, segs.data + k, sizeof(pair));
		ck_assert_uint_ge(pair[0], 6);
		ck_assert_uint_le(pair[0], pair[1]);
		ck_assert_uint_le(longest_line(out.data + pair[0], pair[1] - pair[0]), 76);
		/* a stretch starts at a line start */
		ck_assert(pair[0] == 6 || out.data[pair[0] - 1] == '\n');
		if (first == (size_t)-1)
			first = pair[0];
		last = pair[1];
	}
	/* before the first stretch and after the last: the original's bytes */
	if (first != (size_t)-1) {
		ck_assert(memcmp(out.data + 6, enc->data, first - 6) == 0);
		ck_assert_uint_le(out.len - last, enc->len);
		ck_assert(memcmp(out.data + last, enc->data + enc->len - (out.len - last),
				 out.len - last) == 0);
	}
	if (enc->len > 0 && enc->data[enc->len - 1] == '\n')
		ck_assert_int_eq(out.data[out.len - 1], '\n');
	buf_free(&out);
	buf_free(&back);
	buf_free(&segs);
}

START_TEST(random_edits_round_trip)
{
	int round;

	for (round = 0; round < 20000; round++) {
		struct buf enc = BUF_INIT, dec = BUF_INIT, text = BUF_INIT;
		struct qp_marks mk;
		struct mime_edits ed;

		random_encoding(&enc, rnd(4) == 0 ? rnd(40) : rnd(3000));
		check_marks(&enc, &dec, &mk);
		random_edits(&dec, &text, &ed);
		check_around(&enc, &dec, &mk, &text, &ed);
		free(ed.v);
		free(mk.v);
		buf_free(&enc);
		buf_free(&dec);
		buf_free(&text);
	}
}
END_TEST

/* A long HTML line encoded with soft breaks: one changed URL re-encodes
 * the lines around it only; the others stay byte for byte. */
START_TEST(untouched_lines_stay)
{
	struct buf html = BUF_INIT, enc = BUF_INIT, dec = BUF_INIT, text = BUF_INIT, out = BUF_INIT;
	struct qp_marks mk;
	struct mime_edit x;
	struct mime_edits ed = { &x, 1, 0 };
	const char *url = "https://t.example/track?id=12345";
	char *at;
	int i;

	for (i = 0; i < 40; i++)
		buf_puts(&html, "<td style=\"padding:0 0 12px 0\">Some text of a newsletter</td>");
	buf_puts(&html, "<a href=\"https://t.example/track?id=12345\">Shop</a>");
	for (i = 0; i < 40; i++)
		buf_puts(&html, "<td style=\"padding:0 0 12px 0\">Some text of a newsletter</td>");
	buf_puts(&html, "\r\n");
	mime_encode_qp(html.data, html.len, &enc);
	check_marks(&enc, &dec, &mk);
	ck_assert_uint_gt(mk.n, 40);
	at = strstr(dec.data, url);
	ck_assert_ptr_nonnull(at);
	x.start = (size_t)(at - dec.data);
	x.end = x.start + strlen(url);
	x.out_start = x.start;
	x.len = strlen("https://shop.example/");
	buf_append(&text, dec.data, x.start);
	buf_puts(&text, "https://shop.example/");
	buf_append(&text, dec.data + x.end, dec.len - x.end);
	ck_assert(qp_edits_match(dec.data, dec.len, text.data, text.len, &ed));
	ck_assert_int_eq(qp_encode_around(enc.data, enc.len, &mk, dec.data, dec.len, text.data,
					  text.len, &ed, &out, NULL), 0);
	/* all but a few lines are the original's: compare common prefix and suffix */
	{
		size_t p = 0, s = 0;

		while (p < out.len && p < enc.len && out.data[p] == enc.data[p])
			p++;
		while (s < out.len - p && s < enc.len - p &&
		       out.data[out.len - 1 - s] == enc.data[enc.len - 1 - s])
			s++;
		ck_assert_uint_le(out.len - p - s, 3 * 78);
	}
	free(mk.v);
	buf_free(&html);
	buf_free(&enc);
	buf_free(&dec);
	buf_free(&text);
	buf_free(&out);
}
END_TEST

/* An edit list that is out of order or out of range: refused by the check,
 * and by the encoder and qp_edits_apply(), which then write nothing. */
static void
refused(const struct buf *enc, const struct qp_marks *mk, const struct buf *dec,
	const struct buf *text, const struct mime_edits *ed)
{
	struct buf out = BUF_INIT;

	ck_assert(!qp_edits_match(dec->data, dec->len, text->data, text->len, ed));
	ck_assert_int_eq(qp_encode_around(enc->data, enc->len, mk, dec->data, dec->len,
					  text->data, text->len, ed, &out, NULL), 1);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(qp_edits_apply(dec->data, dec->len, text->data, text->len, ed, &out), 1);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
}

/* Edit lists that do not describe the text: refused, nothing written. */
START_TEST(wrong_edits_refused)
{
	struct buf enc = BUF_INIT, dec = BUF_INIT, text = BUF_INIT, out = BUF_INIT;
	struct qp_marks mk;
	struct mime_edit x[2];
	struct mime_edits ed = { x, 1, 0 };
	const char *orig = "Hello there, this is a line of text that is long enough to need a "
			   "soft break or two when it is encoded as quoted-printable.\r\n";

	mime_encode_qp(orig, strlen(orig), &enc);
	check_marks(&enc, &dec, &mk);
	buf_puts(&text, "Hello THERE, this is a line of text that is long enough to need a "
			"soft break or two when it is encoded as quoted-printable.\r\n");
	/* the edit claims bytes 0..5 changed; bytes 6..10 differ too */
	x[0] = (struct mime_edit){ 0, 5, 0, 5 };
	ck_assert(!qp_edits_match(dec.data, dec.len, text.data, text.len, &ed));
	/* the right one is accepted */
	x[0] = (struct mime_edit){ 6, 11, 6, 5 };
	ck_assert(qp_edits_match(dec.data, dec.len, text.data, text.len, &ed));
	ck_assert_int_eq(qp_encode_around(enc.data, enc.len, &mk, dec.data, dec.len, text.data,
					  text.len, &ed, &out, NULL), 0);
	out.len = 0;
	/* out of order, overlapping, past the end, lengths that do not add up:
	 * refused by both */
	ed.n = 2;
	x[1] = (struct mime_edit){ 3, 4, 3, 1 };
	refused(&enc, &mk, &dec, &text, &ed);
	x[1] = (struct mime_edit){ 10, 12, 10, 2 };
	refused(&enc, &mk, &dec, &text, &ed);
	ed.n = 1;
	x[0] = (struct mime_edit){ 6, dec.len + 1, 6, 5 };
	refused(&enc, &mk, &dec, &text, &ed);
	x[0] = (struct mime_edit){ 6, 11, 6, text.len };
	refused(&enc, &mk, &dec, &text, &ed);
	/* in range, but not where the whole text has its bytes: only the
	 * check can tell (the others take any bytes in range, as sparse
	 * edits have them) */
	x[0] = (struct mime_edit){ 6, 11, 7, 5 };
	ck_assert(!qp_edits_match(dec.data, dec.len, text.data, text.len, &ed));
	x[0] = (struct mime_edit){ 6, 11, text.len + 1, 0 };
	refused(&enc, &mk, &dec, &text, &ed);
	/* marks that could not be recorded */
	x[0] = (struct mime_edit){ 6, 11, 6, 5 };
	mk.failed = 1;
	ck_assert_int_eq(qp_encode_around(enc.data, enc.len, &mk, dec.data, dec.len, text.data,
					  text.len, &ed, &out, NULL), 1);
	ck_assert_uint_eq(out.len, 0);
	free(mk.v);
	buf_free(&enc);
	buf_free(&dec);
	buf_free(&text);
	buf_free(&out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cte");
	TCase *tc = tcase_create("cte");

	tcase_add_test(tc, random_edits_round_trip);
	tcase_add_test(tc, untouched_lines_stay);
	tcase_add_test(tc, wrong_edits_refused);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return cm_run_suite(s);
}
