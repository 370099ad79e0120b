/* test_html.c - unit tests of the HTML tokenizer (src/html.c): each state
 * family, exact byte offsets, odd inputs, and the decoders. */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "buf.h"
#include "html.h"

static struct buf out;

static void
put_span(const char *in, struct html_span s)
{
	ck_assert_int_ge(s.end, s.start);
	ck_assert(buf_append(&out, in + s.start, s.end - s.start) == 0);
}

static void
check_span_in(struct html_span inner, struct html_span outer)
{
	ck_assert_uint_le(outer.start, inner.start);
	ck_assert_uint_le(inner.start, inner.end);
	ck_assert_uint_le(inner.end, outer.end);
}

/* Invariants for every token: spans inside the token, tokens in order and
 * not overlapping, attribute spans in order. */
static void
check_token(const struct html_token *tok, size_t len, size_t *prev_end)
{
	size_t i;

	ck_assert_uint_le(*prev_end, tok->span.start);
	ck_assert_uint_le(tok->span.start, tok->span.end);
	ck_assert_uint_le(tok->span.end, len);
	if (tok->kind != HTML_EOF)
		ck_assert_uint_lt(tok->span.start, tok->span.end);
	*prev_end = tok->span.end;
	check_span_in(tok->name, tok->span);
	check_span_in(tok->data, tok->span);
	for (i = 0; i < tok->nattrs; i++) {
		const struct html_attr *a = &tok->attrs[i];

		check_span_in(a->span, tok->span);
		check_span_in(a->name, a->span);
		check_span_in(a->value, a->span);
		ck_assert_uint_eq(a->span.start, a->name.start);
		if (i > 0)
			ck_assert_uint_le(tok->attrs[i - 1].span.end, a->span.start);
	}
}

/* A compact description of the tokens, built from raw span slices:
 * S(name|attr=value|attr"quoted"|flag)/ E(name) C(data) D(name) Tn(text). */
static const char *
tokens_opt(const char *in, size_t len, unsigned opts)
{
	struct html_tokenizer t;
	struct html_token tok;
	size_t prev = 0, i;
	char q[2] = { 0, 0 };

	buf_reset(&out);
	html_init(&t, in, len);
	html_set_options(&t, opts);
	while (html_next(&t, &tok) != HTML_EOF) {
		check_token(&tok, len, &prev);
		if (out.len)
			buf_puts(&out, " ");
		switch (tok.kind) {
		case HTML_START_TAG:
		case HTML_END_TAG:
			buf_puts(&out, tok.kind == HTML_START_TAG ? "S(" : "E(");
			put_span(in, tok.name);
			for (i = 0; i < tok.nattrs; i++) {
				const struct html_attr *a = &tok.attrs[i];

				buf_puts(&out, a->duplicate ? "|!" : "|");
				put_span(in, a->name);
				if (a->has_value) {
					q[0] = a->quote;
					buf_puts(&out, a->quote ? q : "=");
					put_span(in, a->value);
					buf_puts(&out, q);
				}
			}
			buf_puts(&out, tok.self_closing ? ")/" : ")");
			break;
		case HTML_COMMENT:
			buf_puts(&out, "C(");
			put_span(in, tok.data);
			buf_puts(&out, ")");
			break;
		case HTML_DOCTYPE:
			buf_puts(&out, "D(");
			put_span(in, tok.name);
			buf_puts(&out, ")");
			break;
		case HTML_TEXT:
			if (tok.text_model == HTML_MODEL_DATA)
				buf_puts(&out, "T(");
			else
				buf_printf(&out, "T%d(", (int)tok.text_model);
			put_span(in, tok.data);
			buf_puts(&out, ")");
			break;
		default:
			break;
		}
	}
	ck_assert_int_eq(tok.kind, HTML_EOF);
	ck_assert_int_eq(html_next(&t, &tok), HTML_EOF);	/* EOF repeats */
	return out.data ? out.data : "";
}

static const char *
tokens(const char *in)
{
	return tokens_opt(in, strlen(in), 0);
}

#define TOK_EQ(in, want) ck_assert_str_eq(tokens(in), want)

START_TEST(data_and_tags)
{
	TOK_EQ("a<b>c</b>d", "T(a) S(b) T(c) E(b) T(d)");
	TOK_EQ("<p class=x>Hi</P >", "S(p|class=x) T(Hi) E(P)");
	TOK_EQ("a < b <3 c<>d", "T(a < b <3 c<>d)");
	TOK_EQ("x<", "T(x<)");
	TOK_EQ("x</", "T(x</)");
	TOK_EQ("x</>y", "T(x) T(y)");
	TOK_EQ("<a\r\nhref=x\r>", "S(a|href=x)");
	TOK_EQ("", "");
}
END_TEST

START_TEST(offsets_exact)
{
	const char *in = "xx<a href=\"u\" title='t' z=w q>yy";
	struct html_tokenizer t;
	struct html_token tok;

	html_init(&t, in, strlen(in));
	html_set_options(&t, HTML_OPT_SKIP_TEXT);
	ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
	ck_assert_uint_eq(tok.span.start, 2);
	ck_assert_uint_eq(tok.span.end, 30);
	ck_assert_uint_eq(tok.name.start, 3);
	ck_assert_uint_eq(tok.name.end, 4);
	ck_assert_uint_eq(tok.nattrs, 4);
	ck_assert_uint_eq(tok.attrs[0].span.start, 5);
	ck_assert_uint_eq(tok.attrs[0].span.end, 13);	/* href="u" */
	ck_assert_uint_eq(tok.attrs[0].value.start, 11);
	ck_assert_uint_eq(tok.attrs[0].value.end, 12);
	ck_assert_int_eq(tok.attrs[0].quote, '"');
	ck_assert_uint_eq(tok.attrs[1].span.start, 14);
	ck_assert_uint_eq(tok.attrs[1].span.end, 23);	/* title='t' */
	ck_assert_int_eq(tok.attrs[1].quote, '\'');
	ck_assert_uint_eq(tok.attrs[2].span.start, 24);
	ck_assert_uint_eq(tok.attrs[2].span.end, 27);	/* z=w */
	ck_assert_int_eq(tok.attrs[2].quote, 0);
	ck_assert_uint_eq(tok.attrs[3].span.start, 28);
	ck_assert_uint_eq(tok.attrs[3].span.end, 29);	/* q */
	ck_assert_int_eq(tok.attrs[3].has_value, 0);
	ck_assert_uint_eq(tok.attrs[3].value.start, tok.attrs[3].value.end);
	ck_assert_str_eq(tok.lname, "a");
	ck_assert_int_eq(html_next(&t, &tok), HTML_EOF);
	ck_assert_uint_eq(tok.span.start, strlen(in));

	/* deleting every attribute span leaves a valid tag */
	ck_assert_str_eq(tokens(in), "T(xx) S(a|href\"u\"|title't'|z=w|q) T(yy)");

	/* a missing value ("b=>"): empty, at the '>' */
	in = "<i a b = >x";
	html_init(&t, in, strlen(in));
	ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
	ck_assert_uint_eq(tok.span.end, 10);
	ck_assert_uint_eq(tok.nattrs, 2);
	ck_assert_uint_eq(tok.attrs[0].span.end, 4);
	ck_assert_int_eq(tok.attrs[0].has_value, 0);
	ck_assert_uint_eq(tok.attrs[1].span.start, 5);
	ck_assert_uint_eq(tok.attrs[1].span.end, 9);
	ck_assert_uint_eq(tok.attrs[1].value.start, 9);
	ck_assert_uint_eq(tok.attrs[1].value.end, 9);
	ck_assert_int_eq(tok.attrs[1].has_value, 1);
}
END_TEST

START_TEST(odd_quoting)
{
	TOK_EQ("<a b=\"c'd\" e='f\"g' h=i\"j k=l'm>", "S(a|b\"c'd\"|e'f\"g'|h=i\"j|k=l'm)");
	TOK_EQ("<a b = \"c\" >", "S(a|b\"c\")");
	TOK_EQ("<a \"x\"=y>", "S(a|\"x\"=y)");
	TOK_EQ("<a =b>", "S(a|=b)");
	TOK_EQ("<a b=>", "S(a|b=)");
	TOK_EQ("<a b c>", "S(a|b|c)");
	TOK_EQ("<a b=\"x\"c=\"y\">", "S(a|b\"x\"|c\"y\")");
	TOK_EQ("<a b=`x` c=<d>", "S(a|b=`x`|c=<d)");
	TOK_EQ("<a b='>'>t", "S(a|b'>') T(t)");
	TOK_EQ("<a b=\"\">", "S(a|b\"\")");
}
END_TEST

START_TEST(solidus)
{
	TOK_EQ("<img/src=x>", "S(img|src=x)");
	TOK_EQ("<a href=x/>", "S(a|href=x/)");
	TOK_EQ("<br/>", "S(br)/");
	TOK_EQ("<br />", "S(br)/");
	TOK_EQ("<a/ b>", "S(a|b)");
	TOK_EQ("<a b/>", "S(a|b)/");
	TOK_EQ("<a b='c'/>", "S(a|b'c')/");
	TOK_EQ("<a///b>", "S(a|b)");
}
END_TEST

START_TEST(eof_cases)
{
	TOK_EQ("t<img src=\"x", "T(t)");
	TOK_EQ("t<img src=x", "T(t)");
	TOK_EQ("t<img src=", "T(t)");
	TOK_EQ("t<img src", "T(t)");
	TOK_EQ("t<img ", "T(t)");
	TOK_EQ("t<img/", "T(t)");
	TOK_EQ("t<a", "T(t)");
	TOK_EQ("t</a", "T(t)");
	TOK_EQ("<!-- abc", "C( abc)");
	TOK_EQ("<!-- a--", "C( a)");
	TOK_EQ("<!-- a-", "C( a)");
	TOK_EQ("<!-- a--!", "C( a)");
	TOK_EQ("<!--", "C()");
	TOK_EQ("<!", "C()");
	TOK_EQ("<!DOCTYPE html", "D(html)");
	TOK_EQ("<?x", "C(?x)");
	TOK_EQ("<title>abc", "S(title) T1(abc)");
	TOK_EQ("<title>abc</title", "S(title) T1(abc</title)");
	TOK_EQ("<title>abc</title x", "S(title) T1(abc)");
}
END_TEST

/* Names and values are scanned several bytes at a time: every prefix of a
 * tag is dropped (cut by EOF) without reading past the end (the copies are
 * exactly as long as the prefix, for the sanitizers), and the whole tag has
 * exact spans. */
START_TEST(eof_every_length)
{
	static const char tag[] = "<abcdefghijk lmnopqrstu=vwxyzABCDEF gh = ij k=\"lm\" n/>";
	struct html_tokenizer t;
	struct html_token tok;
	size_t n;

	for (n = 1; n < sizeof(tag); n++) {
		char *in = malloc(n);

		ck_assert_ptr_nonnull(in);
		memcpy(in, tag, n);
		html_init(&t, in, n);
		html_set_options(&t, HTML_OPT_SKIP_TEXT);
		if (n < sizeof(tag) - 1) {
			ck_assert_int_eq(html_next(&t, &tok), HTML_EOF);
		} else {
			ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
			ck_assert(html_tag_is(&tok, "abcdefghijk"));
			ck_assert_uint_eq(tok.nattrs, 4);
			ck_assert(html_span_eq(in, tok.attrs[0].name, "lmnopqrstu"));
			ck_assert_uint_eq(tok.attrs[0].value.end - tok.attrs[0].value.start, 11);
			ck_assert(html_span_eq(in, tok.attrs[1].value, "ij"));
			ck_assert(html_span_eq(in, tok.attrs[2].value, "lm"));
			ck_assert(html_span_eq(in, tok.attrs[3].name, "n"));
			ck_assert(tok.self_closing);
			ck_assert_uint_eq(tok.span.end, n);
		}
		free(in);
	}
}
END_TEST

START_TEST(comments)
{
	TOK_EQ("<!---->x", "C() T(x)");
	TOK_EQ("<!-->x", "C() T(x)");
	TOK_EQ("<!--->x", "C() T(x)");
	TOK_EQ("<!--a--!>b", "C(a) T(b)");
	TOK_EQ("<!-- <!-- x -->y", "C( <!-- x ) T(y)");
	TOK_EQ("<!--a--->", "C(a-)");
	TOK_EQ("<!--a-- b-->", "C(a-- b)");
	TOK_EQ("<!--!>x-->", "C(!>x)");
	TOK_EQ("<!--<img src=x>-->", "C(<img src=x>)");
	TOK_EQ("<?php x ?>y", "C(?php x ?) T(y)");
	TOK_EQ("</ x>y", "C( x) T(y)");
	TOK_EQ("<!x>", "C(x)");
	TOK_EQ("<![CDATA[<img>]]><b>", "C([CDATA[<img) T(]]>) S(b)");
	ck_assert_str_eq(tokens_opt("<![CDATA[<img>]]><b>", 20, HTML_OPT_CDATA), "T5(<img>) S(b)");
	ck_assert_str_eq(tokens_opt("<![CDATA[x]", 11, HTML_OPT_CDATA), "T5(x])");
}
END_TEST

START_TEST(doctype)
{
	const char *in = "<!DOCTYPE html PUBLIC \"-//W3C//DTD\" 'sys.dtd'><p>";
	struct html_tokenizer t;
	struct html_token tok;

	html_init(&t, in, strlen(in));
	ck_assert_int_eq(html_next(&t, &tok), HTML_DOCTYPE);
	ck_assert(html_span_eq(in, tok.name, "html"));
	ck_assert(tok.has_public_id && tok.has_system_id && !tok.force_quirks);
	ck_assert(html_span_eq(in, tok.public_id, "-//w3c//dtd"));
	ck_assert(html_span_eq(in, tok.system_id, "sys.dtd"));
	ck_assert_uint_eq(tok.span.end, 46);
	ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
	TOK_EQ("<!doctype html><a>", "D(html) S(a)");
	TOK_EQ("<!DOCTYPE html SYSTEM x>y", "D(html) T(y)");
	TOK_EQ("<!DOCTYPE>y", "D() T(y)");
	TOK_EQ("<!DOCTYPE html PUBLIC \"a>b\">c", "D(html) T(b\">c)");
}
END_TEST

START_TEST(script_escapes)
{
	/* escaped: the <img> is script text, not a tag */
	TOK_EQ("<script><!--<img src=x>--></script><img src=y>",
	    "S(script) T3(<!--<img src=x>-->) E(script) S(img|src=y)");
	/* an appropriate end tag ends escaped script data */
	TOK_EQ("<script><!--<img></script><img src=y>",
	    "S(script) T3(<!--<img>) E(script) S(img|src=y)");
	/* double-escaped: </script> only leaves the double escape */
	TOK_EQ("<script><!--<script><img src=a></script><img src=b>--></script><img src=c>",
	    "S(script) T3(<!--<script><img src=a></script><img src=b>-->) E(script) S(img|src=c)");
	/* double-escaped until the comment closes: the next </script> ends it */
	TOK_EQ("<script><!--<script>x--></script><i>",
	    "S(script) T3(<!--<script>x-->) E(script) S(i)");
	TOK_EQ("<script>a</scriptx></script >b", "S(script) T3(a</scriptx>) E(script) T(b)");
	TOK_EQ("<SCRIPT>a</Script/>b", "S(SCRIPT) T3(a) E(Script)/ T(b)");
	TOK_EQ("<script>if (a<b) x='<img src=z>'</script>",
	    "S(script) T3(if (a<b) x='<img src=z>') E(script)");
	TOK_EQ("<script><!--", "S(script) T3(<!--)");
}
END_TEST

START_TEST(rcdata_rawtext)
{
	TOK_EQ("<textarea><img src=x></textarea><b>", "S(textarea) T1(<img src=x>) E(textarea) S(b)");
	TOK_EQ("<title>a<b>c</TITLE>d", "S(title) T1(a<b>c) E(TITLE) T(d)");
	TOK_EQ("<title></titlex></title>", "S(title) T1(</titlex>) E(title)");
	TOK_EQ("<style>a<img src=x></style><b>", "S(style) T2(a<img src=x>) E(style) S(b)");
	TOK_EQ("<xmp><a></xmp>", "S(xmp) T2(<a>) E(xmp)");
	TOK_EQ("<iframe><a></iframe>", "S(iframe) T2(<a>) E(iframe)");
	TOK_EQ("<noembed><a></noembed>", "S(noembed) T2(<a>) E(noembed)");
	TOK_EQ("<noframes><a></noframes>", "S(noframes) T2(<a>) E(noframes)");
	TOK_EQ("<style></style>", "S(style) E(style)");
	TOK_EQ("<plaintext><a></plaintext>", "S(plaintext) T4(<a></plaintext>)");
	TOK_EQ("<noscript><img src=x></noscript>", "S(noscript) S(img|src=x) E(noscript)");
	/* with text skipped, the hidden tags stay hidden */
	ck_assert_str_eq(tokens_opt("<style><img></style><b>", 23, HTML_OPT_SKIP_TEXT),
	    "S(style) E(style) S(b)");
	/* explicit model, as a fragment parser would set it */
	{
		const char *in = "<b>&amp;</xmp><i>";
		struct html_tokenizer t;
		struct html_token tok;

		html_init(&t, in, strlen(in));
		ck_assert_int_eq(html_set_model(&t, HTML_MODEL_RCDATA, "xmp"), 0);
		ck_assert_int_eq(html_next(&t, &tok), HTML_TEXT);
		ck_assert_int_eq(tok.text_model, HTML_MODEL_RCDATA);
		ck_assert_uint_eq(tok.data.end, 8);
		ck_assert_int_eq(html_next(&t, &tok), HTML_END_TAG);
		ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
		ck_assert(html_tag_is(&tok, "i"));
	}
}
END_TEST

START_TEST(foreign_content)
{
	/* inside <svg>, style is an SVG element: the <img> breaks out and is real */
	TOK_EQ("<svg><style><img src=x></style></svg><style><a></style>",
	    "S(svg) S(style) S(img|src=x) E(style) E(svg) S(style) T2(<a>) E(style)");
	TOK_EQ("<svg/><style><a></style>", "S(svg)/ S(style) T2(<a>) E(style)");
	TOK_EQ("<math><title><a></title></math>", "S(math) S(title) S(a) E(title) E(math)");
	/* a stray </math> does not end <svg> */
	TOK_EQ("<svg></math><style><img></style>", "S(svg) E(math) S(style) S(img) E(style)");
}
END_TEST

START_TEST(nul_bytes)
{
	static const char in[] = "a\0<im\0g s\0rc=\0x\0 t=\"\0\">\0<!--\0-->";
	struct buf d = BUF_INIT;
	struct html_tokenizer t;
	struct html_token tok;

	html_init(&t, in, sizeof(in) - 1);
	ck_assert_int_eq(html_next(&t, &tok), HTML_TEXT);
	ck_assert_uint_eq(tok.data.end, 2);
	ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
	ck_assert_uint_eq(tok.name.end - tok.name.start, 4);
	ck_assert_uint_eq(tok.lname_len, 4);
	ck_assert(!html_tag_is(&tok, "im"));
	ck_assert_uint_eq(tok.nattrs, 2);
	ck_assert_uint_eq(tok.attrs[0].name.end - tok.attrs[0].name.start, 4);
	ck_assert_uint_eq(tok.attrs[0].value.end - tok.attrs[0].value.start, 3);
	ck_assert_int_eq(html_decode_attr_value(in + tok.attrs[0].value.start, 3, &d), 0);
	ck_assert_uint_eq(d.len, 7);
	ck_assert(memcmp(d.data, "\xEF\xBF\xBDx\xEF\xBF\xBD", 7) == 0);
	ck_assert_int_eq(html_next(&t, &tok), HTML_TEXT);
	ck_assert_int_eq(html_next(&t, &tok), HTML_COMMENT);
	ck_assert_uint_eq(tok.data.end - tok.data.start, 1);
	ck_assert_int_eq(html_next(&t, &tok), HTML_EOF);
	buf_free(&d);
}
END_TEST

START_TEST(long_names)
{
	struct buf in = BUF_INIT;
	struct html_tokenizer t;
	struct html_token tok;
	int i;

	buf_puts(&in, "<");
	for (i = 0; i < 1000; i++)
		buf_puts(&in, "Ab");
	buf_puts(&in, " x=1>");
	html_init(&t, in.data, in.len);
	ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
	ck_assert_uint_eq(tok.name.end - tok.name.start, 2000);
	ck_assert(tok.name_truncated);
	ck_assert_uint_eq(tok.lname_len, HTML_NAME_MAX);
	ck_assert_uint_eq(strlen(tok.lname), HTML_NAME_MAX);
	ck_assert_int_eq(strncmp(tok.lname, "ababab", 6), 0);
	ck_assert_uint_eq(tok.nattrs, 1);
	ck_assert_uint_eq(tok.span.end, in.len);
	/* a long name is not an appropriate end tag for a short one */
	TOK_EQ("<title>x</titletitletitletitletitletitletitle></title>",
	    "S(title) T1(x</titletitletitletitletitletitletitle>) E(title)");
	buf_free(&in);
}
END_TEST

START_TEST(many_attributes)
{
	struct buf in = BUF_INIT;
	struct html_tokenizer t;
	struct html_token tok;
	int i;

	buf_puts(&in, "<img");
	for (i = 0; i < 100; i++)
		buf_printf(&in, " a%d=\"%d\"", i, i);
	buf_puts(&in, " src=x><b>");
	html_init(&t, in.data, in.len);
	ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
	ck_assert_uint_eq(tok.nattrs, HTML_MAX_ATTRS);
	ck_assert_uint_eq(tok.nattrs_total, 101);
	ck_assert(tok.attrs_overflow);
	ck_assert(html_span_eq(in.data, tok.attrs[63].name, "a63"));
	ck_assert_ptr_null(html_attr_find(&tok, in.data, "src"));
	ck_assert_uint_eq(tok.span.end, in.len - 3);
	ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
	ck_assert(html_tag_is(&tok, "b"));
	ck_assert(!tok.attrs_overflow);
	buf_free(&in);
}
END_TEST

START_TEST(duplicates)
{
	const char *in = "<a href=1 HREF=2 x href=3>";
	struct html_tokenizer t;
	struct html_token tok;
	const struct html_attr *a;

	TOK_EQ(in, "S(a|href=1|!HREF=2|x|!href=3)");
	html_init(&t, in, strlen(in));
	ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
	a = html_attr_find(&tok, in, "href");
	ck_assert_ptr_eq(a, &tok.attrs[0]);
	ck_assert(html_span_eq(in, a->value, "1"));
}
END_TEST

/* A name with a known id is a duplicate when its id was seen before in the
 * tag; other names sharing its length and first letter ("sup", "stylo") are
 * compared among themselves only. In the short loop (' name="value"') and
 * the general one (a tab before the attribute, no quotes). */
START_TEST(duplicates_known)
{
	TOK_EQ("<img src=\"a\" sup=\"b\" SRC=\"c\" style=\"d\" stylo=\"e\" Style=\"f\" "
	    "SUP=\"g\" xlink:href=\"h\" XLINK:HREF=\"i\" alt=\"\">",
	    "S(img|src\"a\"|sup\"b\"|!SRC\"c\"|style\"d\"|stylo\"e\"|!Style\"f\"|!SUP\"g\"|"
	    "xlink:href\"h\"|!XLINK:HREF\"i\"|alt\"\")");
	TOK_EQ("<img\tsrc=a\tsup=b\tSRC=c\tstyle=d\tstylo=e\tStyle=f\tSUP=g\thidden\t"
	    "height=1\tHIDDEN\tHeight=2>",
	    "S(img|src=a|sup=b|!SRC=c|style=d|stylo=e|!Style=f|!SUP=g|hidden|height=1|"
	    "!HIDDEN|!Height=2)");
}
END_TEST

/* Duplicates are found by a per-tag bit set of (length, first byte) before
 * any comparison: names sharing those must still be compared, whatever the
 * case, and a full set must not hide any. */
START_TEST(duplicates_many)
{
	const char *in = "<p Ab aB ab=1 AC ac Ba bA x=1 X=2 y y Y>";
	struct buf big = BUF_INIT;
	struct html_tokenizer t;
	struct html_token tok;
	int i;

	TOK_EQ(in, "S(p|Ab|!aB|!ab=1|AC|!ac|Ba|!bA|x=1|!X=2|y|!y|!Y)");
	/* 63 distinct names fill the bit set; then every one again */
	buf_puts(&big, "<b");
	for (i = 0; i < 32; i++)
		buf_printf(&big, " n%d", i);
	for (i = 0; i < 31; i++)
		buf_printf(&big, " %c%c%c", 'a' + i % 26, 'a' + i / 26, 'q');
	buf_puts(&big, " N0 N31 AAQ EAQ n7 z>");
	html_init(&t, big.data, big.len);
	ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
	ck_assert_uint_eq(tok.nattrs, HTML_MAX_ATTRS);
	for (i = 0; i < 63; i++)
		ck_assert(!tok.attrs[i].duplicate);
	ck_assert(tok.attrs[63].duplicate);	/* N0 */
	ck_assert_uint_eq(tok.nattrs_total, 69);
	buf_free(&big);
}
END_TEST

/* html_span_eq, html_tag_is and html_attr_find are inline for literals; the
 * same answers for names that are not literals, empty or holding NULs. */
START_TEST(lookups)
{
	static const char in[] = "<Spans HREF=1 href=2 Src=3 data-x=4 sRc=5 s=6 STYLE=7>"
	    "<a\0b x=1><svg>";
	char name[16];
	struct html_tokenizer t;
	struct html_token tok;
	const struct html_attr *a;

	html_init(&t, in, sizeof(in) - 1);
	ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
	ck_assert(html_tag_is(&tok, "spans"));
	ck_assert(!html_tag_is(&tok, "span"));
	ck_assert(!html_tag_is(&tok, "spanss"));
	ck_assert(!html_tag_is(&tok, "Spans"));
	ck_assert(!html_tag_is(&tok, ""));
	strcpy(name, "spans");
	ck_assert(html_tag_is(&tok, name));
	name[0] = 't';
	ck_assert(!html_tag_is(&tok, name));
	a = html_attr_find(&tok, in, "href");
	ck_assert_ptr_eq(a, &tok.attrs[0]);
	strcpy(name, "src");
	ck_assert_ptr_eq(html_attr_find(&tok, in, name), &tok.attrs[2]);
	ck_assert_ptr_eq(html_attr_find(&tok, in, "data-x"), &tok.attrs[3]);
	ck_assert_ptr_eq(html_attr_find(&tok, in, "s"), &tok.attrs[5]);
	ck_assert_ptr_null(html_attr_find(&tok, in, "sr"));
	ck_assert_ptr_eq(html_attr_find(&tok, in, "style"), &tok.attrs[6]);
	ck_assert_ptr_null(html_attr_find(&tok, in, ""));
	ck_assert(html_span_eq(in, tok.attrs[2].name, "src"));
	ck_assert(html_span_eq(in, tok.attrs[2].name, name));
	ck_assert(!html_span_eq(in, tok.attrs[2].name, "sr"));
	ck_assert(!html_span_eq(in, tok.attrs[2].name, "srcs"));
	ck_assert(!html_span_eq(in, tok.attrs[2].name, "SRC"));
	ck_assert(!html_span_eq(in, tok.attrs[2].value, ""));
	ck_assert(html_span_eq(in, tok.attrs[0].value, "1"));
	ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
	ck_assert_uint_eq(tok.lname_len, 3);
	ck_assert(!html_tag_is(&tok, "a"));
	ck_assert(!html_tag_is(&tok, ""));
	ck_assert(html_span_eq(in, tok.attrs[0].name, "x"));
	ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
	ck_assert(html_tag_is(&tok, "svg"));
	strcpy(name, "svg");
	ck_assert(html_tag_is(&tok, name));
	ck_assert_uint_eq(tok.nattrs, 0);
	ck_assert_ptr_null(html_attr_find(&tok, in, "x"));
}
END_TEST

/* ASCII case folding of every byte value, as names are compared. */
START_TEST(case_folding)
{
	struct html_span sp = { 0, 1 };
	char byte[1], lit[2] = { 0, 0 };
	int c, d;

	for (c = 1; c < 256; c++) {
		byte[0] = (char)c;
		for (d = 1; d < 256; d++) {
			int want = d == (c >= 'A' && c <= 'Z' ? c + 32 : c);

			lit[0] = (char)d;
			ck_assert_msg(html_span_eq(byte, sp, lit) == want, "%02x %02x", c, d);
		}
	}
}
END_TEST

static const char *
dec(const char *in, unsigned flags)
{
	buf_reset(&out);
	ck_assert_int_eq(html_decode(in, strlen(in), flags, &out), 0);
	return out.data;
}

#define TXT (HTML_DEC_CHARREFS)
#define ATT (HTML_DEC_CHARREFS | HTML_DEC_ATTRIBUTE | HTML_DEC_NUL)

START_TEST(charrefs)
{
	ck_assert_str_eq(dec("a&amp;b&lt;&gt", TXT), "a&b<>");
	ck_assert_str_eq(dec("&ampx &amp= &amp;x", TXT), "&x &= &x");
	ck_assert_str_eq(dec("?a=1&ampx=2&amp=3&amp;y=4&amp", ATT), "?a=1&ampx=2&amp=3&y=4&");
	ck_assert_str_eq(dec("&copy=1&copy;", ATT), "&copy=1\xC2\xA9");
	ck_assert_str_eq(dec("&notin; &notit; &not", TXT), "\xE2\x88\x89 \xC2\xACit; \xC2\xAC");
	ck_assert_str_eq(dec("&#x80;&#128;&#x9F;", TXT), "\xE2\x82\xAC\xE2\x82\xAC\xC5\xB8");
	ck_assert_str_eq(dec("&#0;&#xD800;&#x110000;&#99999999999999999999;", TXT),
	    "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	ck_assert_str_eq(dec("&#65&#x41;&#X61;", TXT), "AAa");
	ck_assert_str_eq(dec("&#; &#x; &# &x; &;", TXT), "&#; &#x; &# &x; &;");
	ck_assert_str_eq(dec("&NotEqualTilde;", TXT), "\xE2\x89\x82\xCC\xB8");
	ck_assert_str_eq(dec("&CounterClockwiseContourIntegral;", TXT), "\xE2\x88\xB3");
	ck_assert_str_eq(dec("&&amp;&", TXT), "&&&");
	ck_assert_str_eq(dec("&unknown;", TXT), "&unknown;");
	buf_reset(&out);
	ck_assert_int_eq(html_decode_charrefs("&quot;", 6, 1, &out), 0);
	ck_assert_str_eq(out.data, "\"");
}
END_TEST

START_TEST(url_decode)
{
	static const char in[] = " \n http://a.example/p?x=1&amp;y=2&#10;&Tab;z\t ";

	buf_reset(&out);
	ck_assert_int_eq(html_decode_url(in, sizeof(in) - 1, &out), 0);
	ck_assert_str_eq(out.data, "http://a.example/p?x=1&y=2z");
	buf_reset(&out);
	ck_assert_int_eq(html_decode_url("", 0, &out), 0);
	ck_assert_str_eq(out.data, "");
}
END_TEST

/* html_decode_url() of IN (LEN bytes) appended to PRE, compared with WANT. */
static void
check_url_dec(const char *pre, const char *in, size_t len, const char *want, size_t want_len)
{
	buf_reset(&out);
	ck_assert(buf_puts(&out, pre) == 0);
	ck_assert_int_eq(html_decode_url(in, len, &out), 0);
	ck_assert_uint_eq(out.len, strlen(pre) + want_len);
	ck_assert_msg(memcmp(out.data, pre, strlen(pre)) == 0 &&
	    memcmp(out.data + strlen(pre), want, want_len) == 0, "'%s' -> '%s'", in, out.data);
	ck_assert(out.data[out.len] == '\0');
}

#define URL_DEC(in, want) check_url_dec("", in, sizeof(in) - 1, want, sizeof(want) - 1)

/* The fast path of html_decode_url (plain bytes and "&amp;") must give way
 * to the general one for everything else. */
START_TEST(url_decode_paths)
{
	static const char base[] = "https://shop.example/products/item-42?color=blue";
	char in[128], want[128];
	size_t i, n = sizeof(base) - 1;

	URL_DEC("https://a.example/p?x=1&amp;y=2&amp;z", "https://a.example/p?x=1&y=2&z");
	URL_DEC("&amp;&amp;x&amp;", "&&x&");
	URL_DEC("https://a.example/x&#x2F;y&#47;z", "https://a.example/x/y/z");
	URL_DEC("a&AMP;b&lt;c&ltd&lt/&b&&", "a&b<c&ltd</&b&&");
	URL_DEC("?a=1&amp=2&ampx=3&amp;b&notit;&copy=4&copy", "?a=1&amp=2&ampx=3&b&notit;&copy=4\xC2\xA9");
	URL_DEC("x&unknown;&;&#;&#x;&", "x&unknown;&;&#;&#x;&");
	/* references to C0 controls and space: trimmed at the ends, tab and
	 * newline removed, other controls and space kept inside */
	URL_DEC("&#32;http://a/&#32;", "http://a/");
	URL_DEC("&Tab;&NewLine;http://a/", "http://a/");
	URL_DEC("a&#32;b&#9;c&NewLine;d&Tab;e&#13;f&#x0A;g&#11;h", "a bcdefg\x0bh");
	/* raw controls and spaces */
	URL_DEC("  http://a/  ", "http://a/");
	URL_DEC("\x01\x1f http://a/\x0b\x0c", "http://a/");
	URL_DEC("http://a.ex\tam\nple/\r", "http://a.example/");
	URL_DEC("a b\x0b" "c\x1f" "d", "a b\x0b" "c\x1f" "d");
	/* a NUL becomes U+FFFD, which is not trimmed */
	check_url_dec("", "\0http://a/\0", 11, "\xEF\xBF\xBDhttp://a/\xEF\xBF\xBD", 15);
	URL_DEC("&#0;x&#0;", "\xEF\xBF\xBDx\xEF\xBF\xBD");
	/* appends after what the buffer holds */
	check_url_dec("pre", " x&amp;y ", 9, "x&y", 3);
	check_url_dec("pre", "\tx&#9;y ", 8, "xy", 2);
	/* a tab, a newline or a NUL at every position (the control check
	 * reads eight bytes at a time) */
	for (i = 0; i <= n; i++) {
		memcpy(in, base, i);
		memcpy(in + i + 1, base + i, n - i);
		in[i] = '\t';
		check_url_dec("", in, n + 1, base, n);
		in[i] = '\n';
		check_url_dec("", in, n + 1, base, n);
		in[i] = '\0';
		memcpy(want, base, i);
		memcpy(want + i, "\xEF\xBF\xBD", 3);
		memcpy(want + i + 3, base + i, n - i);
		check_url_dec("", in, n + 1, want, n + 3);
	}
	/* references whose UTF-8 is longer than they are */
	buf_reset(&out);
	for (i = 0; i < 300; i++)
		ck_assert(buf_puts(&out, "&nGt;") == 0);
	{
		struct buf raw = out, got = BUF_INIT;

		out = (struct buf)BUF_INIT;
		ck_assert_int_eq(html_decode_url(raw.data, raw.len, &got), 0);
		ck_assert_uint_eq(got.len, 300 * 6);
		for (i = 0; i < 300; i++)
			ck_assert(memcmp(got.data + 6 * i, "\xE2\x89\xAB\xE2\x83\x92", 6) == 0);
		buf_free(&raw);
		buf_free(&got);
	}
}
END_TEST

START_TEST(text_decode)
{
	const char *in = "<title>&amp;<</title>&lt;x<style>&amp;</style>";
	struct html_tokenizer t;
	struct html_token tok;
	struct buf all = BUF_INIT;

	html_init(&t, in, strlen(in));
	while (html_next(&t, &tok) != HTML_EOF)
		if (tok.kind == HTML_TEXT)
			ck_assert_int_eq(html_decode_text(in, &tok, &all), 0);
	ck_assert_str_eq(all.data, "&<<x&amp;");
	buf_free(&all);
}
END_TEST

START_TEST(skip_text)
{
	ck_assert_str_eq(tokens_opt("a<b>c<!--x-->d</b>e", 19, HTML_OPT_SKIP_TEXT),
	    "S(b) C(x) E(b)");
	ck_assert_str_eq(tokens_opt("<title>a</title>", 16, HTML_OPT_NO_AUTO_MODEL),
	    "S(title) T(a) E(title)");
}
END_TEST

/* The quote and '<' searches look at 16 bytes inline, then call memchr(),
 * and fall back to memchr() alone when fewer than 16 bytes are left: every
 * value length around those edges, with the buffer ending right after the
 * tag or a few bytes later, NULs and bytes that are '"' or '<' plus 0x80. */
START_TEST(search_block_edges)
{
	static const unsigned char fill[] = { 'x', 0, 0xA2, 0xBC, 0x80 | '\'', 0xFF, '<', '\'' };
	struct buf in = BUF_INIT;
	struct html_tokenizer t;
	struct html_token tok;
	size_t k, tail, i;

	for (k = 0; k <= 40; k++) {
		for (tail = 0; tail <= 20; tail++) {
			buf_reset(&in);
			for (i = 0; i < k; i++)	/* text before the tag */
				buf_append(&in, fill + (i * 5 + k) % 6, 1);
			buf_puts(&in, "<a b=\"");
			for (i = 0; i < k; i++)	/* the value: no '"' */
				buf_append(&in, fill + (i * 3 + tail) % 8, 1);
			buf_puts(&in, "\">");
			for (i = 0; i < tail; i++)
				buf_puts(&in, "y");
			html_init(&t, in.data, in.len);
			if (k > 0) {
				ck_assert_int_eq(html_next(&t, &tok), HTML_TEXT);
				ck_assert_uint_eq(tok.data.end, k);
			}
			ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
			ck_assert_uint_eq(tok.span.start, k);
			ck_assert_uint_eq(tok.nattrs, 1);
			ck_assert_int_eq(tok.attrs[0].quote, '"');
			ck_assert_uint_eq(tok.attrs[0].value.start, k + 6);
			ck_assert_uint_eq(tok.attrs[0].value.end, 2 * k + 6);
			ck_assert_uint_eq(tok.span.end, 2 * k + 8);
			if (tail > 0) {
				ck_assert_int_eq(html_next(&t, &tok), HTML_TEXT);
				ck_assert_uint_eq(tok.data.end - tok.data.start, tail);
			}
			ck_assert_int_eq(html_next(&t, &tok), HTML_EOF);
			/* the closing quote cut off: the tag is dropped */
			html_init(&t, in.data + k, k + 6);
			ck_assert_int_eq(html_next(&t, &tok), HTML_EOF);
			/* no '<' at all: one text token */
			html_init(&t, in.data, k);
			ck_assert_int_eq(html_next(&t, &tok), k > 0 ? HTML_TEXT : HTML_EOF);
		}
	}
	buf_free(&in);
}
END_TEST

/* Two tokenizations agree on a tag: same spans, attributes, flags. */
static void
check_same_tag(const struct html_token *a, const struct html_token *b)
{
	size_t i;

	ck_assert_int_eq(a->kind, b->kind);
	ck_assert_uint_eq(a->span.start, b->span.start);
	ck_assert_uint_eq(a->span.end, b->span.end);
	ck_assert_uint_eq(a->nattrs, b->nattrs);
	ck_assert_uint_eq(a->nattrs_total, b->nattrs_total);
	ck_assert_uint_eq(a->attr_known, b->attr_known);
	ck_assert_int_eq(a->self_closing, b->self_closing);
	for (i = 0; i < a->nattrs; i++) {
		const struct html_attr *x = &a->attrs[i], *y = &b->attrs[i];

		ck_assert_uint_eq(x->span.start, y->span.start);
		ck_assert_uint_eq(x->span.end, y->span.end);
		ck_assert_uint_eq(x->name.end, y->name.end);
		ck_assert_uint_eq(x->value.start, y->value.start);
		ck_assert_uint_eq(x->value.end, y->value.end);
		ck_assert_int_eq(x->quote, y->quote);
		ck_assert_int_eq(x->id, y->id);
		ck_assert_int_eq(x->has_value, y->has_value);
		ck_assert_int_eq(x->duplicate, y->duplicate);
	}
}

/* The short loop for ' name="value"' (one 16-byte block shows where the
 * name ends, and often the value) reads what the general loop reads: the
 * same tag with tabs before its attributes takes the general loop. Names
 * and values of every length around the block, with bytes that end or do
 * not end a name (control bytes, quotes), the tag near the buffer's end
 * and cut inside. */
START_TEST(short_attr_blocks)
{
	/* what follows the space before an attribute, after a run of
	 * letters: names ending at '=' and at every other byte class */
	static const char *const shapes[] = {
		"=\"v\"", "=\"\"", "\x01\"b=\"v\"", "\x1f\"=\"v\"", "/\"c\"", ">\"c\"",
		" b=\"c\"", "\t=\"c\"", "\f=\"c\"", "\r=\"c\"", "\n=\"c\"", "=\'c\'",
		"=c", "= \"c\"", "\"=\"c\"", "\'=\"c\"", "=\"a\"b=\"c\"", "\xc3\xa9=\"c\"",
		"=\"c", "=", "", "<=\"c\"", "\x7f=\"c\"", "=\"\x01>\"",
		/* the bytes b with (b | 0x11) == '?' and their neighbours */
		".b=\"c\"", "?b=\"c\"", "-b=\"c\"", ",=\"c\"", ":b=\"c\"", "\x2e", "\x3f",
		"\x2f=\"c\"", "\xbf=\"c\"", "\xae=\"c\"", "\x1e=\"c\"", "\x0f=\"c\"",
	};
	static const unsigned char vb[] = { 'v', '=', '>', ' ', '/', '\'', 0, 0x80, 'q' };
	static const char letters[] = "sTyle";
	struct buf in = BUF_INIT, ref = BUF_INIT;
	struct html_tokenizer t, u;
	struct html_token a, b;
	size_t sh, nl, vl, tail, i, cut;
	enum html_kind ka, kb;

	for (sh = 0; sh < sizeof(shapes) / sizeof(shapes[0]); sh++)
	for (nl = 0; nl <= 17; nl++) {
		for (vl = 0; vl <= 36; vl += vl < 18 ? 1 : 6) {
			for (tail = 0; tail <= 12; tail += 12) {
				buf_reset(&in);
				buf_puts(&in, "<td class=\"c\" ");
				for (i = 0; i < nl; i++)
					buf_append(&in, letters + i % 5, 1);
				buf_puts(&in, shapes[sh]);
				buf_puts(&in, " x=\"");
				for (i = 0; i < vl; i++)
					buf_append(&in, vb + (i * 5 + vl + nl) % sizeof(vb), 1);
				buf_puts(&in, "\" Style=\"x\">");
				for (i = 0; i < tail; i++)
					buf_puts(&in, "y");
				/* a tab before the first attribute: the general
				 * loop reads them all */
				buf_reset(&ref);
				buf_append(&ref, in.data, in.len);
				ref.data[3] = '\t';
				for (cut = 0; cut <= 2; cut++) {
					size_t n = cut == 0 ? in.len : in.len - tail - cut * 5;

					html_init(&t, in.data, n);
					html_init(&u, ref.data, n);
					html_set_options(&t, HTML_OPT_SKIP_TEXT);
					html_set_options(&u, HTML_OPT_SKIP_TEXT);
					do {
						ka = html_next(&t, &a);
						kb = html_next(&u, &b);
						ck_assert_int_eq(ka, kb);
						if (ka == HTML_START_TAG || ka == HTML_END_TAG)
							check_same_tag(&a, &b);
					} while (ka != HTML_EOF);
				}
			}
		}
	}
	buf_free(&in);
	buf_free(&ref);
}
END_TEST

/* Quoted values of every length to 100 (the closing quote at every offset
 * in and across 16-byte blocks), by the short attribute loop (' ' before
 * the name) and by the general loop ('\n' before it), single and double
 * quoted, with a later quote in the buffer: the value ends at its own
 * quote; cut anywhere before that quote's '>', the tag is dropped. */
START_TEST(quoted_value_lengths)
{
	static const char *const leads[] = { " ", "\n", "  ", " a=\"b\" " };
	struct buf in = BUF_INIT;
	struct html_tokenizer t;
	struct html_token tok;
	size_t vl, l, q, i, v0, n;

	for (q = 0; q < 2; q++)
	for (l = 0; l < sizeof(leads) / sizeof(leads[0]); l++)
	for (vl = 0; vl <= 100; vl++) {
		char quote = q ? '\'' : '"';
		const struct html_attr *a;

		buf_reset(&in);
		buf_puts(&in, "<p");
		buf_puts(&in, leads[l]);
		buf_puts(&in, "x=");
		buf_append(&in, &quote, 1);
		v0 = in.len;
		for (i = 0; i < vl; i++)
			buf_append(&in, q ? "u\"v w=" + i % 6 : "u'v w=" + i % 6, 1);
		buf_append(&in, &quote, 1);
		buf_puts(&in, ">t<i y=\"'\">");
		html_init(&t, in.data, in.len);
		html_set_options(&t, HTML_OPT_SKIP_TEXT);
		ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
		a = html_attr_find(&tok, in.data, "x");
		ck_assert_ptr_nonnull(a);
		ck_assert_uint_eq(a->value.start, v0);
		ck_assert_uint_eq(a->value.end, v0 + vl);
		ck_assert_int_eq(a->quote, quote);
		ck_assert_uint_eq(tok.span.end, v0 + vl + 2);
		for (n = v0; n < v0 + vl + 2; n++) {
			html_init(&t, in.data, n);
			html_set_options(&t, HTML_OPT_SKIP_TEXT);
			ck_assert_int_eq(html_next(&t, &tok), HTML_EOF);
		}
	}
	buf_free(&in);
}
END_TEST

/* Tag names are lowercased while they are scanned: every length around
 * HTML_NAME_MAX, ending in each end byte, at the end of the buffer, with
 * NULs and bytes >= 0x80 (not letters: kept as they are). */
START_TEST(tag_name_lengths)
{
	static const char *const ends[] = { ">", "/>", " x>", "\t>", "\f>", "\r>", "\n>" };
	struct buf in = BUF_INIT;
	struct html_tokenizer t;
	struct html_token tok;
	char want[HTML_NAME_MAX + 1];
	size_t n, e, i, keep;

	for (n = 1; n <= HTML_NAME_MAX + 3; n++) {
		for (e = 0; e < sizeof(ends) / sizeof(ends[0]); e++) {
			buf_reset(&in);
			buf_puts(&in, "</");
			for (i = 0; i < n; i++) {
				static const unsigned char nb[] = { 'Q', 'z', 0, 0xC9, '=', 'M', '<', 0x9A };
				unsigned char c = i == 0 ? 'B' : nb[(i + n) % 8];

				buf_append(&in, &c, 1);
				if (i < HTML_NAME_MAX)
					want[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			}
			keep = n < HTML_NAME_MAX ? n : HTML_NAME_MAX;
			want[keep] = '\0';
			buf_puts(&in, ends[e]);
			html_init(&t, in.data, in.len);
			ck_assert_int_eq(html_next(&t, &tok), HTML_END_TAG);
			ck_assert_uint_eq(tok.name.start, 2);
			ck_assert_uint_eq(tok.name.end, 2 + n);
			ck_assert_uint_eq(tok.lname_len, keep);
			ck_assert_int_eq(tok.name_truncated, n > HTML_NAME_MAX);
			ck_assert(memcmp(tok.lname, want, keep + 1) == 0);
			ck_assert_uint_eq(tok.span.end, in.len);
			/* cut right after the name, or inside it: dropped */
			html_init(&t, in.data, 2 + n);
			ck_assert_int_eq(html_next(&t, &tok), HTML_EOF);
			html_init(&t, in.data, 1 + n);
			ck_assert_int_eq(html_next(&t, &tok), n > 1 ? HTML_EOF : HTML_TEXT);
		}
	}
	buf_free(&in);
}
END_TEST

/* Content model switches: each name, in any case, and names of the same
 * length that differ in one byte (the switch compares by length first). */
/* Known names: every id from its name in any case, nothing else; and
 * html_attr_get() finds what html_attr_find() finds, first one winning. */
static const char *const tag_names[] = {
	"", "a", "amp-analytics", "amp-img", "amp-pixel", "applet", "area", "audio", "base",
	"bgsound", "body", "embed", "frame", "html", "iframe", "image", "img", "input",
	"link", "math", "meta", "noembed", "noframes", "object", "plaintext", "script",
	"source", "style", "svg", "table", "td", "textarea", "th", "title", "track", "video",
	"xmp", "v:fill", "v:image", "v:imagedata"
};
static const char *const attr_names[] = {
	"", "alt", "archive", "background", "code", "codebase", "data", "height", "hidden",
	"href", "http-equiv", "manifest", "ping", "poster", "rel", "src", "srcset", "style",
	"type", "width", "xlink:href"
};

START_TEST(known_names)
{
	const char *in;
	struct html_tokenizer t;
	struct html_token tok;
	char up[64];
	size_t i, j;

	ck_assert_uint_eq(sizeof(attr_names) / sizeof(attr_names[0]), HTML_ATTR__COUNT);
	ck_assert_str_eq(html_tag_name(HTML_TAG_OTHER), "");
	for (i = 1; i < sizeof(tag_names) / sizeof(tag_names[0]); i++) {
		ck_assert_int_eq(html_tag_id_of(tag_names[i], strlen(tag_names[i])), (int)i);
		ck_assert_str_eq(html_tag_name((enum html_tag_id)i), tag_names[i]);
		/* one byte changed or one byte short: not that tag */
		snprintf(up, sizeof(up), "%s", tag_names[i]);
		up[strlen(up) - 1] ^= 1;
		ck_assert_int_ne(html_tag_id_of(up, strlen(up)), (int)i);
		ck_assert_int_ne(html_tag_id_of(tag_names[i], strlen(tag_names[i]) - 1), (int)i);
	}
	for (i = 1; i < sizeof(attr_names) / sizeof(attr_names[0]); i++) {
		size_t n = strlen(attr_names[i]);

		ck_assert_int_eq(html_attr_id_of(attr_names[i], n), (int)i);
		for (j = 0; j < n; j++)
			up[j] = (char)((attr_names[i][j] >= 'a' && attr_names[i][j] <= 'z') ?
			    attr_names[i][j] - 32 : attr_names[i][j]);
		ck_assert_int_eq(html_attr_id_of(up, n), (int)i);
		for (j = 0; j < n; j++) {
			char save = up[j];

			/* a letter flipped by 0x20 is the same letter; any other
			 * byte flipped is another name (CR, the flip of '-', is
			 * whitespace and never inside a name) */
			up[j] = (char)(up[j] ^ 0x20);
			if (!(attr_names[i][j] >= 'a' && attr_names[i][j] <= 'z') && up[j] != '\r')
				ck_assert_int_eq(html_attr_id_of(up, n), HTML_ATTR_OTHER);
			up[j] = save;
		}
	}
	ck_assert_int_eq(html_attr_id_of("xlink\x1ahref", 10), HTML_ATTR_OTHER);
	ck_assert_int_eq(html_attr_id_of("class", 5), HTML_ATTR_OTHER);
	ck_assert_int_eq(html_attr_id_of("srcsetx", 7), HTML_ATTR_OTHER);

	/* tags carry their ids; lookups by id agree with lookups by name */
	in = "<IMG Src=a SRC=b style=x sTyle=y data-src=z ALT><v:ImageData src=q>"
	    "<amp-Analytics></TD><table background=u BACKGROUND=v><foo href=1 hReF=2>";
	html_init(&t, in, strlen(in));
	while (html_next(&t, &tok) != HTML_EOF) {
		int id = 0;

		for (i = 1; i < sizeof(tag_names) / sizeof(tag_names[0]); i++)
			if (html_tag_is(&tok, tag_names[i]))
				id = (int)i;
		ck_assert_int_eq(tok.tag_id, id);
		for (i = 1; i < HTML_ATTR__COUNT; i++)
			ck_assert_ptr_eq(html_attr_get(&tok, (enum html_attr_id)i),
			    html_attr_find(&tok, in, attr_names[i]));
	}
	html_init(&t, in, strlen(in));
	ck_assert_int_eq(html_next(&t, &tok), HTML_START_TAG);
	ck_assert_int_eq(tok.tag_id, HTML_TAG_IMG);
	ck_assert_uint_eq(html_attr_get(&tok, HTML_ATTR_SRC)->value.start, 9);
	ck_assert_uint_eq(html_attr_get(&tok, HTML_ATTR_STYLE)->value.start, 23);
	ck_assert_ptr_nonnull(html_attr_get(&tok, HTML_ATTR_ALT));
	ck_assert_ptr_null(html_attr_get(&tok, HTML_ATTR_HREF));
}
END_TEST

/* html_want_end_tags(): the same tokens as without it, less the end tags
 * not asked for; end tags closing raw text always come. */
START_TEST(some_end_tags)
{
	const char *in = "<table><tr><td>x</td></tr></table><a href=1>y</A></b attr='>'>"
	    "<style>p{}</style><title>t</title><svg></svg><p>z</p><amp-pixel></amp-pixel></";
	struct html_tokenizer t, u;
	struct html_token a, b;
	uint64_t want = HTML_TAG_BIT(HTML_TAG_A) | HTML_TAG_BIT(HTML_TAG_AMP_PIXEL);
	int n_all = 0, n_some = 0;

	html_init(&t, in, strlen(in));
	html_set_options(&t, HTML_OPT_SKIP_TEXT);
	html_init(&u, in, strlen(in));
	html_set_options(&u, HTML_OPT_SKIP_TEXT);
	html_want_end_tags(&u, want);
	for (;;) {
		enum html_kind k = html_next(&t, &a);

		n_all++;
		if (k == HTML_END_TAG && !((want >> a.tag_id) & 1) &&
		    a.tag_id != HTML_TAG_STYLE && a.tag_id != HTML_TAG_TITLE)
			continue;
		ck_assert_int_eq(html_next(&u, &b), k);
		n_some++;
		ck_assert_uint_eq(a.span.start, b.span.start);
		ck_assert_uint_eq(a.span.end, b.span.end);
		ck_assert_int_eq(a.tag_id, b.tag_id);
		if (k == HTML_EOF)
			break;
	}
	ck_assert_int_eq(n_all, 20);	/* with EOF */
	ck_assert_int_eq(n_some, 14);
	/* unknown names asked for: bare "</tr>" and "</p>" come, "</td>" not */
	html_init(&u, in, strlen(in));
	html_set_options(&u, HTML_OPT_SKIP_TEXT);
	html_want_end_tags(&u, HTML_TAG_BIT(HTML_TAG_OTHER));
	n_some = 0;
	while (html_next(&u, &b) != HTML_EOF)
		if (b.kind == HTML_END_TAG) {
			ck_assert(b.tag_id == HTML_TAG_OTHER || b.tag_id == HTML_TAG_STYLE ||
			    b.tag_id == HTML_TAG_TITLE);
			n_some += b.tag_id == HTML_TAG_OTHER;
		}
	ck_assert_int_eq(n_some, 3);	/* </tr>, </b attr='>'>, </p> */
}
END_TEST

/* html_want_start_tags(): the same tokens less the start tags asked for by
 * neither id nor attribute; a tag that switches the content model comes. */
/* With start and end tags filtered, a table layout read to every length
 * gives the tags an unfiltered read keeps by the same rule: tags back to
 * back, bare and with attributes, a name with a NUL, markup at the end. */
START_TEST(filtered_every_length)
{
	static const char in[] = "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\">"
	    "<tr><td class=\"c\" style=\"p:0\">x</td></tr><tr><td>y</td></tr><tr><td><a href=\"u\" "
	    "style=\"s\">z</a></td></tr></table><TR><Td><IMG src=\"i\" width=\"1\"></tD></Tr>"
	    "<title>t</title><p>q</p><br/><h1 BACKGROUND=\"b\">r</h1></table><b\0c></b\0><!-- c -->"
	    "</table ><td\nstyle=x><</tr>ab <a href=x>c</a></td><tr>"
	    /* bare names of every length around 4 and 16, with digits */
	    "<h1>s</h1><tbody><abcdefghijklmno><abcdefghijklmnop></abcdefghijklmnopq>"
	    "<x1y2z3w4v5></x1y><x1y2><x1y2z></X1Y2Z3><SCRIPT1><td2><tr";
	uint64_t want = HTML_TAG_BIT(HTML_TAG_IMG) | HTML_TAG_BIT(HTML_TAG_A);
	uint64_t want_end = HTML_TAG_BIT(HTML_TAG_A);
	unsigned attrs = 1u << HTML_ATTR_STYLE | 1u << HTML_ATTR_BACKGROUND;
	struct html_tokenizer t, u;
	struct html_token a, b;
	size_t n;

	for (n = 0; n < sizeof(in); n++) {
		html_init(&t, in, n);
		html_set_options(&t, HTML_OPT_SKIP_TEXT);
		html_init(&u, in, n);
		html_set_options(&u, HTML_OPT_SKIP_TEXT);
		html_want_start_tags(&u, want, attrs);
		html_want_end_tags(&u, want_end);
		for (;;) {
			enum html_kind k = html_next(&t, &a);

			if (k == HTML_START_TAG && !((want >> a.tag_id) & 1) &&
			    !(a.attr_known & attrs) && !a.name_has_nul && a.tag_id != HTML_TAG_TITLE)
				continue;
			if (k == HTML_END_TAG && !((want_end >> a.tag_id) & 1) && !a.name_has_nul &&
			    a.tag_id != HTML_TAG_TITLE)
				continue;
			ck_assert_int_eq(html_next(&u, &b), k);
			ck_assert_uint_eq(a.span.start, b.span.start);
			ck_assert_uint_eq(a.span.end, b.span.end);
			if (k == HTML_START_TAG || k == HTML_END_TAG)
				check_same_tag(&a, &b);
			if (k == HTML_EOF)
				break;
		}
	}
}
END_TEST

START_TEST(some_start_tags)
{
	const char *in = "<table role=x><tr><td style=a>x</td><TD BackGround=u></td></tr>"
	    "<p>y</p><title>t</title><img src=1><div class=c style=\"d\"></div><svg></svg>"
	    "<span data-style=1></span>";
	struct html_tokenizer t, u;
	struct html_token a, b;
	uint64_t want = HTML_TAG_BIT(HTML_TAG_IMG);
	unsigned attrs = 1u << HTML_ATTR_STYLE | 1u << HTML_ATTR_BACKGROUND;
	int n_all = 0, n_some = 0;

	html_init(&t, in, strlen(in));
	html_set_options(&t, HTML_OPT_SKIP_TEXT);
	html_init(&u, in, strlen(in));
	html_set_options(&u, HTML_OPT_SKIP_TEXT);
	html_want_start_tags(&u, want, attrs);
	for (;;) {
		enum html_kind k = html_next(&t, &a);

		n_all++;
		if (k == HTML_START_TAG && !((want >> a.tag_id) & 1) && !(a.attr_known & attrs) &&
		    a.tag_id != HTML_TAG_TITLE)
			continue;
		ck_assert_int_eq(html_next(&u, &b), k);
		n_some++;
		ck_assert_uint_eq(a.span.start, b.span.start);
		ck_assert_uint_eq(a.span.end, b.span.end);
		if (k == HTML_EOF)
			break;
	}
	/* table tr td td p title img div svg span: 10 start tags, 8 end tags */
	ck_assert_int_eq(n_all, 10 + 8 + 1);
	/* kept: td (style), TD (background), title, img, div (style) */
	ck_assert_int_eq(n_some, 5 + 8 + 1);
}
END_TEST

START_TEST(model_names)
{
	TOK_EQ("<XMP><a></xmp>", "S(XMP) T2(<a>) E(xmp)");
	TOK_EQ("<xmq><a>", "S(xmq) S(a)");
	TOK_EQ("<Title><a></tItle>", "S(Title) T1(<a>) E(tItle)");
	TOK_EQ("<titlf><a>", "S(titlf) S(a)");
	TOK_EQ("<tItlE>&amp;</title>", "S(tItlE) T1(&amp;) E(title)");
	TOK_EQ("<table><a>", "S(table) S(a)");
	TOK_EQ("<STYLE><a></style>", "S(STYLE) T2(<a>) E(style)");
	TOK_EQ("<stylf><a>", "S(stylf) S(a)");
	TOK_EQ("<iframe><a></iframe>", "S(iframe) T2(<a>) E(iframe)");
	TOK_EQ("<iframf><a>", "S(iframf) S(a)");
	TOK_EQ("<Script><a></script>", "S(Script) T3(<a>) E(script)");
	TOK_EQ("<strong><a>", "S(strong) S(a)");
	TOK_EQ("<noembed><a></noembed>", "S(noembed) T2(<a>) E(noembed)");
	TOK_EQ("<noembex><a>", "S(noembex) S(a)");
	TOK_EQ("<textarea><a></textarea>", "S(textarea) T1(<a>) E(textarea)");
	TOK_EQ("<noframes><a></noframes>", "S(noframes) T2(<a>) E(noframes)");
	TOK_EQ("<noframez><a>", "S(noframez) S(a)");
	TOK_EQ("<plaintext><a></plaintext>", "S(plaintext) T4(<a></plaintext>)");
	TOK_EQ("<plaintexts><a>", "S(plaintexts) S(a)");
	TOK_EQ("<MATH><style><a></style></Math><style><a></style>",
	    "S(MATH) S(style) S(a) E(style) E(Math) S(style) T2(<a>) E(style)");
	TOK_EQ("<maths><style><a></style>", "S(maths) S(style) T2(<a>) E(style)");
	TOK_EQ("<SVG><style><a></style></svg>", "S(SVG) S(style) S(a) E(style) E(svg)");
	TOK_EQ("<svh><style><a></style>", "S(svh) S(style) T2(<a>) E(style)");
	/* end tags and self-closing tags do not switch */
	TOK_EQ("</style><a>", "E(style) S(a)");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("html");
	TCase *tc;
	int rc;

	tc = tcase_create("data");
	tcase_add_test(tc, data_and_tags);
	tcase_add_test(tc, offsets_exact);
	tcase_add_test(tc, odd_quoting);
	tcase_add_test(tc, solidus);
	tcase_add_test(tc, eof_cases);
	tcase_add_test(tc, eof_every_length);
	tcase_add_test(tc, comments);
	tcase_add_test(tc, doctype);
	tcase_add_test(tc, script_escapes);
	tcase_add_test(tc, rcdata_rawtext);
	tcase_add_test(tc, foreign_content);
	tcase_add_test(tc, nul_bytes);
	tcase_add_test(tc, long_names);
	tcase_add_test(tc, many_attributes);
	tcase_add_test(tc, duplicates);
	tcase_add_test(tc, duplicates_known);
	tcase_add_test(tc, duplicates_many);
	tcase_add_test(tc, lookups);
	tcase_add_test(tc, case_folding);
	tcase_add_test(tc, search_block_edges);
	tcase_add_test(tc, tag_name_lengths);
	tcase_add_test(tc, model_names);
	tcase_add_test(tc, known_names);
	tcase_add_test(tc, some_end_tags);
	tcase_add_test(tc, some_start_tags);
	tcase_add_test(tc, filtered_every_length);
	tcase_add_test(tc, skip_text);
	suite_add_tcase(s, tc);
	/* tens of thousands of tags, read twice: seconds under ASan/UBSan */
	tc = tcase_create("blocks");
	tcase_add_test(tc, short_attr_blocks);
	tcase_add_test(tc, quoted_value_lengths);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("decode");
	tcase_add_test(tc, charrefs);
	tcase_add_test(tc, url_decode);
	tcase_add_test(tc, url_decode_paths);
	tcase_add_test(tc, text_decode);
	suite_add_tcase(s, tc);
	rc = cm_run_suite(s);
	buf_free(&out);
	return rc;
}
