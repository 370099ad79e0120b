/* test_css.c - unit tests of the CSS url()/@import scanner, the declaration
 * and box readers, and the HTML dimension judge. */
#include "build-config.h"
#include "tap.h"
#include "css.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXU 16

struct found {
	char url[256];
	char token[256];
	char raw[256];
	char decl[256];
	char rule[256];
	char property[CSS_PROP_MAX];
	unsigned flags;
	struct css_url u;
};

static void
copy_span(char *dst, size_t cap, const char *s, struct css_span sp)
{
	size_t n = sp.end - sp.start;

	ck_assert_uint_le(sp.start, sp.end);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s + sp.start, n);
	dst[n] = '\0';
}

/* Scan CSS (NUL-terminated) and keep up to MAXU results; returns the count. */
static int
scan(enum css_mode mode, const char *css, struct found *f)
{
	struct css_scanner sc;
	struct css_url u;
	char dec[256];
	int n = 0;

	css_scan_init(&sc, css, strlen(css), mode);
	while (css_next_url(&sc, &u, dec, sizeof(dec))) {
		ck_assert_int_lt(n, MAXU);
		ck_assert_ptr_eq(u.url, dec);
		ck_assert_uint_eq(strlen(dec), u.url_len);
		ck_assert_uint_le(u.token.end, strlen(css));
		strcpy(f[n].url, dec);
		copy_span(f[n].token, sizeof(f[n].token), css, u.token);
		copy_span(f[n].raw, sizeof(f[n].raw), css, u.raw);
		f[n].decl[0] = f[n].rule[0] = '\0';
		if (u.flags & CSS_HAS_DECL)
			copy_span(f[n].decl, sizeof(f[n].decl), css, u.decl);
		if (u.flags & CSS_IN_IMPORT)
			copy_span(f[n].rule, sizeof(f[n].rule), css, u.rule);
		strcpy(f[n].property, u.property);
		f[n].flags = u.flags;
		f[n].u = u;
		n++;
	}
	return n;
}

/* Apply the neutralisation of every URL (from the end) and return the text. */
static char *
neutralize_all(enum css_mode mode, const char *css)
{
	struct found f[MAXU];
	int n = scan(mode, css, f), i;
	char *out = strdup(css);

	ck_assert_ptr_nonnull(out);
	size_t taken_start = (size_t)-1, taken_end = 0;

	/* from the end, so that earlier offsets stay valid; a span inside or
	 * equal to one already replaced is skipped */
	for (i = n - 1; i >= 0; i--) {
		struct css_span sp;
		const char *text;
		size_t len = strlen(out), tl;
		char *nw;

		css_neutralize(&f[i].u, &sp, &text);
		if (sp.start >= taken_start && sp.end <= taken_end)
			continue;
		ck_assert_uint_le(sp.end, taken_start == (size_t)-1 ? len : taken_start);
		taken_start = sp.start;
		taken_end = sp.end;
		tl = strlen(text);
		nw = malloc(len - (sp.end - sp.start) + tl + 1);
		ck_assert_ptr_nonnull(nw);
		memcpy(nw, out, sp.start);
		memcpy(nw + sp.start, text, tl);
		strcpy(nw + sp.start + tl, out + sp.end);
		free(out);
		out = nw;
	}
	return out;
}

START_TEST(url_forms)
{
	struct found f[MAXU];
	const char *css = "a:url(u1.png);b:url('u2.png');c:url(\"u3.png\");"
	    "d:url(  u4.png  );e:url( \"u5.png\" );f:URL(u6.png)";

	ck_assert_int_eq(scan(CSS_STYLE_ATTR, css, f), 6);
	ck_assert_str_eq(f[0].url, "u1.png");
	ck_assert_str_eq(f[0].token, "url(u1.png)");
	ck_assert_str_eq(f[1].url, "u2.png");
	ck_assert_str_eq(f[1].token, "url('u2.png')");
	ck_assert_str_eq(f[1].raw, "u2.png");
	ck_assert_str_eq(f[2].url, "u3.png");
	ck_assert_str_eq(f[3].url, "u4.png");
	ck_assert_str_eq(f[3].raw, "u4.png");
	ck_assert_str_eq(f[3].token, "url(  u4.png  )");
	ck_assert_str_eq(f[4].token, "url( \"u5.png\" )");
	ck_assert_str_eq(f[4].url, "u5.png");
	ck_assert_str_eq(f[5].url, "u6.png");
	ck_assert_uint_eq(f[0].flags & (CSS_URL_BAD | CSS_URL_STRING | CSS_URL_UNCLOSED), 0);

	/* empty URLs are reported, with an empty decoded value */
	ck_assert_int_eq(scan(CSS_STYLE_ATTR, "a:url();b:url( '' )", f), 2);
	ck_assert_str_eq(f[0].url, "");
	ck_assert_str_eq(f[0].token, "url()");
	ck_assert_str_eq(f[1].url, "");
	ck_assert_str_eq(f[1].token, "url( '' )");
}
END_TEST

START_TEST(url_escapes)
{
	struct found f[MAXU];
	const char *css = "a:url(x\\29 y\\28.png);b:url(\"q\\\"uote\\\n.png\");"
	    "c:u\\72l(esc\\41 pe);d:url(\\E9t\\E9.png);e:url(a\\,b);"
	    "back\\67 round:url(a\\)b\\ c);g:url('\\0\\110000')";

	ck_assert_int_eq(scan(CSS_STYLE_ATTR, css, f), 7);
	ck_assert_str_eq(f[0].url, "x)y(.png");
	ck_assert_str_eq(f[0].raw, "x\\29 y\\28.png");
	ck_assert_str_eq(f[1].url, "q\"uote.png");
	ck_assert_str_eq(f[2].url, "escApe");
	ck_assert_str_eq(f[2].token, "u\\72l(esc\\41 pe)");
	ck_assert_str_eq(f[3].url, "\xC3\xA9t\xC3\xA9.png");
	ck_assert_str_eq(f[4].url, "a,b");
	ck_assert_str_eq(f[5].property, "background");
	ck_assert_str_eq(f[5].url, "a)b c");
	ck_assert_uint_eq(f[5].flags & CSS_URL_BAD, 0);
	/* NUL and out-of-range code points become U+FFFD */
	ck_assert_str_eq(f[6].url, "\xEF\xBF\xBD\xEF\xBF\xBD");
}
END_TEST

START_TEST(comments_and_strings)
{
	struct found f[MAXU];
	const char *css = "/* url(c1) */ p { content: \"url(s1)\"; quotes: 'url(s2)' }"
	    " q { background: /* x */ url(/*kept*/real) /* url(c2) */ }"
	    " r { background: url( \"s\" /* c */ ) } /* unterminated url(c3)";

	ck_assert_int_eq(scan(CSS_STYLESHEET, css, f), 2);
	/* inside an unquoted url, comments are URL bytes, as in browsers */
	ck_assert_str_eq(f[0].url, "/*kept*/real");
	ck_assert_str_eq(f[0].property, "background");
	ck_assert_str_eq(f[1].url, "s");
	ck_assert_str_eq(f[1].token, "url( \"s\" /* c */ )");
	ck_assert_uint_eq(f[1].flags & CSS_URL_BAD, 0);
}
END_TEST

START_TEST(import_forms)
{
	struct found f[MAXU];
	const char *css = "@import \"i1.css\";\n@import 'i2.css' screen;\n"
	    "@import url(i3.css) print;\n@IMPORT url(\"i4.css\") layer(x) supports(display: grid);\n"
	    "a { color: red }\n@import url(late.css)";

	ck_assert_int_eq(scan(CSS_STYLESHEET, css, f), 5);
	ck_assert_str_eq(f[0].url, "i1.css");
	ck_assert(f[0].flags & CSS_IN_IMPORT);
	ck_assert(f[0].flags & CSS_URL_STRING);
	ck_assert_str_eq(f[0].token, "\"i1.css\"");
	ck_assert_str_eq(f[0].rule, "@import \"i1.css\";");
	ck_assert_str_eq(f[1].rule, "@import 'i2.css' screen;");
	ck_assert_str_eq(f[2].url, "i3.css");
	ck_assert_str_eq(f[2].token, "url(i3.css)");
	ck_assert_str_eq(f[2].rule, "@import url(i3.css) print;");
	ck_assert_str_eq(f[3].url, "i4.css");
	ck_assert_str_eq(f[3].rule, "@IMPORT url(\"i4.css\") layer(x) supports(display: grid);");
	ck_assert_str_eq(f[4].rule, "@import url(late.css)");
	ck_assert_str_eq(f[0].property, "");
	ck_assert_uint_eq(f[0].flags & CSS_HAS_DECL, 0);
}
END_TEST

START_TEST(font_face_and_media)
{
	struct found f[MAXU];
	const char *css = "@font-face { font-family: T; src: url(f.woff2) format('woff2'),"
	    " url(f.woff) format('woff'); }\n"
	    "@media print { body { background: url(p.png) } }\n"
	    "@media screen and (min-width: 10px) { @supports (display:grid) { i { cursor: url(c.cur), auto } } }\n"
	    "b { list-style: url(plain.png) }";

	ck_assert_int_eq(scan(CSS_STYLESHEET, css, f), 5);
	ck_assert_str_eq(f[0].property, "src");
	ck_assert(f[0].flags & CSS_IN_FONT_FACE);
	ck_assert_str_eq(f[0].decl, "src: url(f.woff2) format('woff2'), url(f.woff) format('woff');");
	ck_assert_str_eq(f[1].decl, f[0].decl);
	ck_assert(f[1].flags & CSS_IN_FONT_FACE);
	ck_assert(f[2].flags & CSS_IN_MEDIA);
	ck_assert(f[2].flags & CSS_IN_MEDIA_PRINT);
	ck_assert_uint_eq(f[2].flags & CSS_IN_FONT_FACE, 0);
	ck_assert_str_eq(f[2].property, "background");
	ck_assert(f[3].flags & CSS_IN_MEDIA);
	ck_assert(f[3].flags & CSS_IN_AT_BLOCK);
	ck_assert_uint_eq(f[3].flags & CSS_IN_MEDIA_PRINT, 0);
	ck_assert_str_eq(f[3].property, "cursor");
	ck_assert_uint_eq(f[4].flags & (CSS_IN_MEDIA | CSS_IN_FONT_FACE | CSS_IN_AT_BLOCK), 0);
	ck_assert_str_eq(f[4].property, "list-style");
}
END_TEST

START_TEST(declaration_spans)
{
	struct found f[MAXU];
	const char *attr = "color:red;BACKGROUND-Image : url(a.png) !important; "
	    "border-image: url(b.png) 30 round;behavior:url(#default#VML)";
	const char *sheet = "p{margin:0;background:url(x.png) no-repeat}q{content:url(y.png)}";

	ck_assert_int_eq(scan(CSS_STYLE_ATTR, attr, f), 3);
	ck_assert_str_eq(f[0].property, "background-image");
	ck_assert_str_eq(f[0].decl, "BACKGROUND-Image : url(a.png) !important;");
	ck_assert_str_eq(f[1].property, "border-image");
	ck_assert_str_eq(f[1].decl, "border-image: url(b.png) 30 round;");
	ck_assert_str_eq(f[2].property, "behavior");
	ck_assert_str_eq(f[2].decl, "behavior:url(#default#VML)");

	ck_assert_int_eq(scan(CSS_STYLESHEET, sheet, f), 2);
	ck_assert_str_eq(f[0].decl, "background:url(x.png) no-repeat");
	ck_assert_str_eq(f[1].property, "content");
	ck_assert_str_eq(f[1].decl, "content:url(y.png)");
}
END_TEST

START_TEST(image_set_and_src)
{
	struct found f[MAXU];
	const char *css = "background-image: -webkit-image-set(\"a1.png\" 1x, url(a2.png) 2x);"
	    "mask: src(\"m.svg\"); content: \"not a url\"";

	ck_assert_int_eq(scan(CSS_STYLE_ATTR, css, f), 3);
	ck_assert_str_eq(f[0].url, "a1.png");
	ck_assert_str_eq(f[0].token, "\"a1.png\"");
	ck_assert(f[0].flags & CSS_URL_STRING);
	ck_assert_str_eq(f[1].url, "a2.png");
	ck_assert_str_eq(f[0].decl, f[1].decl);
	ck_assert_str_eq(f[2].url, "m.svg");
	ck_assert_str_eq(f[2].token, "src(\"m.svg\")");
	ck_assert_str_eq(f[2].property, "mask");
}
END_TEST

START_TEST(bad_urls_reported)
{
	struct found f[MAXU];
	const char *css = "a:url(sp ace);b:url(\"x\" extra);c:url(q\"uote);d:url(unclosed";

	ck_assert_int_eq(scan(CSS_STYLE_ATTR, css, f), 4);
	ck_assert(f[0].flags & CSS_URL_BAD);
	ck_assert_str_eq(f[0].token, "url(sp ace)");
	ck_assert(f[1].flags & CSS_URL_BAD);
	ck_assert_str_eq(f[1].token, "url(\"x\" extra)");
	ck_assert(f[2].flags & CSS_URL_BAD);
	ck_assert(f[3].flags & CSS_URL_UNCLOSED);
	ck_assert_str_eq(f[3].url, "unclosed");
	ck_assert_str_eq(f[3].decl, "d:url(unclosed");
}
END_TEST

/* Cases a differential run against another CSS tokeniser turned up. */
START_TEST(tokeniser_corners)
{
	struct found f[MAXU];

	/* a hex escape eats the newline after it: the string goes on */
	ck_assert_int_eq(scan(CSS_STYLE_ATTR, "a:url(\"x\\a\ny\")", f), 1);
	ck_assert_str_eq(f[0].url, "x\ny");
	ck_assert_uint_eq(f[0].flags & CSS_URL_BAD, 0);
	/* inside a bad url("..." ...) function, `u\72l(q(r)` is one (bad) url
	 * token whose '(' does not nest: the next ')' ends the function */
	ck_assert_int_eq(scan(CSS_STYLESHEET, "a{b:url(\"\" u\\72l(q(r)) x) ;c:src('s.png')}", f), 2);
	ck_assert(f[0].flags & CSS_URL_BAD);
	ck_assert_str_eq(f[0].token, "url(\"\" u\\72l(q(r))");
	ck_assert_str_eq(f[1].url, "s.png");
	/* a ')' inside [] does not close the bad function */
	ck_assert_int_eq(scan(CSS_STYLE_ATTR, "a:url('' [ ) ] ) b:url(c)", f), 2);
	ck_assert_str_eq(f[0].token, "url('' [ ) ] )");
	/* `<!--url(` is CDO then url( */
	ck_assert_int_eq(scan(CSS_STYLESHEET, "<!--url(x)", f), 1);
	/* NUL is U+FFFD, a final backslash in a url is U+FFFD */
	ck_assert_int_eq(scan(CSS_STYLE_ATTR, "a:url(x\\", f), 1);
	ck_assert_str_eq(f[0].url, "x\xEF\xBF\xBD");
	/* backslash newline in an unquoted url makes it bad */
	ck_assert_int_eq(scan(CSS_STYLE_ATTR, "a:url(x\\\ny)", f), 1);
	ck_assert(f[0].flags & CSS_URL_BAD);
}
END_TEST

START_TEST(not_urls)
{
	struct found f[MAXU];
	const char *css = "a{b:myurl(x);c:-url(y);d:url-ish;e:'url(z)'}#url(q){}[data-x=\"url(r)\"]{}";

	ck_assert_int_eq(scan(CSS_STYLESHEET, css, f), 0);
}
END_TEST

START_TEST(truncation)
{
	struct css_scanner sc;
	struct css_url u;
	char dec[8];
	const char *css = "background:url(https://example.com/long.png)";

	css_scan_init(&sc, css, strlen(css), CSS_STYLE_ATTR);
	ck_assert_int_eq(css_next_url(&sc, &u, dec, sizeof(dec)), 1);
	ck_assert(u.flags & CSS_URL_TRUNCATED);
	ck_assert_str_eq(dec, "https:/");
	ck_assert_uint_eq(u.url_len, 7);
	ck_assert_int_eq(css_next_url(&sc, &u, dec, sizeof(dec)), 0);
}
END_TEST

/* Every URL left in CSS is the neutral one; returns how many there are. */
static int
only_neutral_urls(enum css_mode mode, const char *css)
{
	struct found f[MAXU];
	int n = scan(mode, css, f), i;

	for (i = 0; i < n; i++) {
		ck_assert_str_eq(f[i].url, "data:,");
		ck_assert_uint_eq(f[i].flags & (CSS_URL_BAD | CSS_URL_UNCLOSED), 0);
	}
	return n;
}

START_TEST(neutralize_keeps_syntax)
{
	char *out;
	static const char *sheets[] = {
		"@import url(a.css) supports(background: url(s.png)) print; p{color:red}",
		"@media print{@font-face{src:url(f.woff)}body{background:url(b.png)}}",
		"a{cursor:url(c.cur),auto;content:url(x.svg) \"x\";list-style:url('l.png')}",
		"a{background:url(u\\29 .png)}b{mask:src('m.svg')}c{x:image-set('1.png' 1x,url(2.png) 2x)}",
	};
	static const int expect[] = { 0, 2, 3, 4 };
	size_t i;

	out = neutralize_all(CSS_STYLESHEET,
	    "@import url(t.css);@import \"u.css\" print;\n"
	    "a{background:#fff url('x.png') no-repeat;color:red}"
	    "@font-face{font-family:F;src:url(f.woff) format('woff')}"
	    "b{background-image:image-set(\"1.png\" 1x)}");
	ck_assert_str_eq(out,
	    "\n"
	    "a{background:#fff url(data:,) no-repeat;color:red}"
	    "@font-face{font-family:F;src:url(data:,) format('woff')}"
	    "b{background-image:image-set(url(data:,) 1x)}");
	free(out);
	/* the result scans clean apart from the neutral URLs, and is quote-free */
	out = neutralize_all(CSS_STYLE_ATTR, "background:url(\"https://t.example/o.gif?id=1\")");
	ck_assert_str_eq(out, "background:url(data:,)");
	ck_assert_ptr_null(strpbrk(CSS_NEUTRAL_URL, "\"'&<>"));
	free(out);
	for (i = 0; i < sizeof(sheets) / sizeof(sheets[0]); i++) {
		out = neutralize_all(CSS_STYLESHEET, sheets[i]);
		ck_assert_int_eq(only_neutral_urls(CSS_STYLESHEET, out), expect[i]);
		free(out);
	}
}
END_TEST

START_TEST(decl_reader)
{
	struct css_scanner sc;
	struct css_decl d;
	const char *s = " Width : 1px !IMPORTANT ; garbage ; height:2px/*c*/;;color: red";
	char v[64];

	css_scan_init(&sc, s, strlen(s), CSS_STYLE_ATTR);
	ck_assert_int_eq(css_next_decl(&sc, &d), 1);
	ck_assert_str_eq(d.property, "width");
	ck_assert_int_eq(d.important, 1);
	snprintf(v, sizeof(v), "%.*s", (int)(d.value.end - d.value.start), s + d.value.start);
	ck_assert_str_eq(v, "1px");
	ck_assert_int_eq(css_next_decl(&sc, &d), 1);
	ck_assert_str_eq(d.property, "height");
	snprintf(v, sizeof(v), "%.*s", (int)(d.value.end - d.value.start), s + d.value.start);
	ck_assert_str_eq(v, "2px");
	ck_assert_int_eq(css_next_decl(&sc, &d), 1);
	ck_assert_str_eq(d.property, "color");
	ck_assert_int_eq(css_next_decl(&sc, &d), 0);
}
END_TEST

static struct css_box
box(const char *s)
{
	struct css_box b;

	css_read_box(s, strlen(s), &b);
	return b;
}

START_TEST(box_reader)
{
	struct css_box b;

	b = box("width:1px;height:1px");
	ck_assert_int_eq(b.width.kind, CSS_LEN_PX);
	ck_assert(b.width.px == 1.0);
	ck_assert_int_eq(b.height.kind, CSS_LEN_PX);
	ck_assert_int_eq(b.max_width.kind, CSS_LEN_UNSET);

	b = box("WIDTH: 0; Height: 0PX; max-width:0 !important; max-height: 0em");
	ck_assert_int_eq(b.width.kind, CSS_LEN_PX);
	ck_assert(b.width.px == 0.0);
	ck_assert_int_eq(b.height.kind, CSS_LEN_PX);
	ck_assert_int_eq(b.max_width.kind, CSS_LEN_PX);
	ck_assert_int_eq(b.max_height.kind, CSS_LEN_PX);
	ck_assert(b.max_height.px == 0.0);

	b = box("width: 50%; height: 2em; max-width: auto; max-height: calc(1px + 0px)");
	ck_assert_int_eq(b.width.kind, CSS_LEN_OTHER);
	ck_assert_int_eq(b.height.kind, CSS_LEN_OTHER);
	ck_assert_int_eq(b.max_width.kind, CSS_LEN_OTHER);
	ck_assert_int_eq(b.max_height.kind, CSS_LEN_OTHER);

	/* last declaration wins; invalid (negative) declarations are dropped */
	b = box("width:1px; width: 600px; height:1px; height:-5px");
	ck_assert(b.width.px == 600.0);
	ck_assert(b.height.px == 1.0);

	b = box("display:NONE");
	ck_assert_int_eq(b.display_none, 1);
	b = box("display:none !important; display: block");
	ck_assert_int_eq(b.display_none, 0);
	b = box("visibility: hidden");
	ck_assert_int_eq(b.visibility_hidden, 1);
	b = box("visibility:collapse;");
	ck_assert_int_eq(b.visibility_hidden, 1);
	b = box("visibility:hidden;visibility:visible");
	ck_assert_int_eq(b.visibility_hidden, 0);

	ck_assert_int_eq(box("opacity:0").opacity_zero, 1);
	ck_assert_int_eq(box("opacity: 0.0 !important").opacity_zero, 1);
	ck_assert_int_eq(box("opacity:0%").opacity_zero, 1);
	ck_assert_int_eq(box("opacity:.0").opacity_zero, 1);
	ck_assert_int_eq(box("opacity:0.01").opacity_zero, 0);
	ck_assert_int_eq(box("opacity:0;opacity:1").opacity_zero, 0);
	ck_assert_int_eq(box("opacity: 50%").opacity_zero, 0);
	ck_assert_int_eq(box("x-opacity:0").opacity_zero, 0);
	ck_assert_int_eq(box("content:'opacity:0'").opacity_zero, 0);

	b = box("/*display:none*/ width:/*c*/1px/*d*/");
	ck_assert_int_eq(b.display_none, 0);
	ck_assert_int_eq(b.width.kind, CSS_LEN_PX);
	ck_assert(b.width.px == 1.0);

	b = box("width:1.5PX;height:1e0px");
	ck_assert(b.width.px == 1.5);
	ck_assert(b.height.px == 1.0);

	b = box("width:1.5PX;height:1e0px");
	ck_assert_uint_eq(css_box_hidden(&b), CSS_HIDDEN_SIZE);
	b = box("width:600px;height:auto;max-height:0");
	ck_assert_uint_eq(css_box_hidden(&b), CSS_HIDDEN_MAX_SIZE);
	b = box("display:none;visibility:hidden;opacity:0;width:2px");
	ck_assert_uint_eq(css_box_hidden(&b),
	    CSS_HIDDEN_DISPLAY | CSS_HIDDEN_VISIBILITY | CSS_HIDDEN_OPACITY);
	b = box("width:1%;height:0.5em;max-width:100%");
	ck_assert_uint_eq(css_box_hidden(&b), 0);
	b = box("");
	ck_assert_uint_eq(css_box_hidden(&b), 0);
}
END_TEST

START_TEST(html_lengths)
{
	double v;

	ck_assert_int_eq(css_html_length("1", 1, &v), CSS_HTML_LEN_PX);
	ck_assert(v == 1.0);
	ck_assert_int_eq(css_html_length("1px", 3, &v), CSS_HTML_LEN_PX);
	ck_assert(v == 1.0);
	ck_assert_int_eq(css_html_length("0", 1, &v), CSS_HTML_LEN_PX);
	ck_assert(v == 0.0);
	ck_assert_int_eq(css_html_length(" 1 ", 3, &v), CSS_HTML_LEN_PX);
	ck_assert(v == 1.0);
	ck_assert_int_eq(css_html_length("1.0", 3, &v), CSS_HTML_LEN_PX);
	ck_assert(v == 1.0);
	ck_assert_int_eq(css_html_length("\t600", 4, &v), CSS_HTML_LEN_PX);
	ck_assert(v == 600.0);
	ck_assert_int_eq(css_html_length("100%", 4, &v), CSS_HTML_LEN_PERCENT);
	ck_assert(v == 100.0);
	ck_assert_int_eq(css_html_length("", 0, &v), CSS_HTML_LEN_INVALID);
	ck_assert_int_eq(css_html_length("auto", 4, &v), CSS_HTML_LEN_INVALID);
	ck_assert_int_eq(css_html_length("-1", 2, &v), CSS_HTML_LEN_INVALID);
	/* length given, not NUL-terminated */
	ck_assert_int_eq(css_html_length("12345", 1, &v), CSS_HTML_LEN_PX);
	ck_assert(v == 1.0);
}
END_TEST

/* The quick pre-checks that skip most inputs must not skip these. */
START_TEST(prechecks_not_fooled)
{
	struct found f[MAXU];
	struct css_box b;

	ck_assert_int_eq(scan(CSS_STYLE_ATTR, "a:u\\72 l(x1)", f), 1);
	ck_assert_str_eq(f[0].url, "x1");
	ck_assert_int_eq(scan(CSS_STYLE_ATTR, "a:\\000075\r\nrl(x2)", f), 1);
	ck_assert_str_eq(f[0].url, "x2");
	ck_assert_int_eq(scan(CSS_STYLESHEET, "@i\\6dport 'x3';", f), 1);
	ck_assert(f[0].flags & CSS_IN_IMPORT);
	ck_assert_int_eq(scan(CSS_STYLESHEET, "@IMPORT'x4';", f), 1);
	ck_assert_int_eq(scan(CSS_STYLE_ATTR, "a:IMAGE-SET('x5' 1x)", f), 1);
	ck_assert_int_eq(scan(CSS_STYLE_ATTR, "color:red;font:12px/1 Arial;@media x;", f), 0);
	ck_assert_int_eq(scan(CSS_STYLE_ATTR, "a:rgb(1,2,3);b:calc(1px + 2px)", f), 0);
	b = box("width/**/:1px");
	ck_assert_int_eq(b.width.kind, CSS_LEN_PX);
	b = box("wi\\64th:0");
	ck_assert_int_eq(b.width.kind, CSS_LEN_PX);
	b = box("OPACITY :0");
	ck_assert_int_eq(b.opacity_zero, 1);
	b = box("color:red;border:0");
	ck_assert_int_eq(b.width.kind, CSS_LEN_UNSET);
}
END_TEST

/* Garbage: random bytes and nasty fragments never crash, never report a
 * span outside the input, and terminate. */
START_TEST(garbage)
{
	static const char *frag[] = {
		"url(", "url(\"", "'", "\"", "\\", "/*", "*/", "{", "}", "(", ")", "[", "]",
		";", ":", "@import", "@media print", "@font-face", "u\\72l(", "\n", "\r\n",
		"\\\n", "image-set(", "src(\"", "<!--", "-->", "!important", "\xff", "\0",
		"a", "b:", "@", "#", "\\0", "\\110000", "--x:", "url(  ", ",", "0", "1px"
	};
	char buf[512];
	unsigned seed = 12345;
	int round;

	for (round = 0; round < 3000; round++) {
		size_t len = 0;
		struct css_scanner sc;
		struct css_url u;
		struct css_box b;
		char dec[32];
		int k, count = 0;

		while (len < sizeof(buf) - 16) {
			const char *p;
			size_t n;

			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 4 == 0) {
				buf[len++] = (char)(seed >> 8);
				continue;
			}
			p = frag[(seed >> 16) % (sizeof(frag) / sizeof(frag[0]))];
			n = p[0] ? strlen(p) : 1;
			memcpy(buf + len, p, n);
			len += n;
			if ((seed >> 24) % 23 == 0)
				break;
		}
		for (k = 0; k < 2; k++) {
			css_scan_init(&sc, buf, len, k ? CSS_STYLE_ATTR : CSS_STYLESHEET);
			while (css_next_url(&sc, &u, dec, sizeof(dec))) {
				ck_assert_uint_le(u.token.start, u.token.end);
				ck_assert_uint_le(u.token.end, len);
				ck_assert_uint_le(u.raw.end, len);
				ck_assert_uint_lt(u.url_len, sizeof(dec));
				if (u.flags & CSS_HAS_DECL)
					ck_assert(u.decl.start <= u.token.start &&
					    u.decl.end >= u.token.end && u.decl.end <= len);
				if (u.flags & CSS_IN_IMPORT)
					ck_assert(u.rule.start < u.token.start &&
					    u.rule.end <= len);
				ck_assert_int_lt(count++, (int)len);
			}
		}
		css_read_box(buf, len, &b);
	}
}
END_TEST

/* Deep nesting and long inputs stay linear and bounded. */
START_TEST(deep_and_long)
{
	size_t n = 200000, i, len = 0;
	char *s = malloc(n * 12 + 64);
	struct css_scanner sc;
	struct css_url u;
	char dec[64];
	int count = 0;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < n / 10; i++)
		s[len++] = '{';
	len += (size_t)sprintf(s + len, "a:url(deep)");
	for (i = 0; i < n; i++) {
		memcpy(s + len, "url(x),", 7);
		len += 7;
	}
	css_scan_init(&sc, s, len, CSS_STYLESHEET);
	while (css_next_url(&sc, &u, dec, sizeof(dec)))
		count++;
	ck_assert_int_eq(count, (int)n + 1);
	free(s);
}
END_TEST

/* Inputs built to make a careless scanner quadratic: 1 MB each must take
 * well under a second (the bound is loose for sanitizer builds). */
START_TEST(adversarial_linear)
{
	static const char *pre[] = { "a:(", "", "", "a{", "", "", "", "a:b(", "@media x{", "p{x:", "" };
	static const char *rep[] = {
		"url(x);", "@import url(a){", "a{", "b:url(x);", "url(", "'", "/*", "c(", "@media y{",
		"{url(x);", "url(a b c;"
	};
	size_t cap = (size_t)1 << 20, k;
	char *s = malloc(cap + 64);

	ck_assert_ptr_nonnull(s);
	for (k = 0; k < sizeof(rep) / sizeof(rep[0]); k++) {
		size_t len = strlen(pre[k]), rl = strlen(rep[k]);
		struct css_scanner sc;
		struct css_url u;
		struct css_decl d;
		struct css_box b;
		char dec[64];
		clock_t t0;
		double secs;
		int m;

		memcpy(s, pre[k], len);
		while (len + rl < cap) {
			memcpy(s + len, rep[k], rl);
			len += rl;
		}
		t0 = clock();
		for (m = 0; m < 2; m++) {
			css_scan_init(&sc, s, len, m ? CSS_STYLE_ATTR : CSS_STYLESHEET);
			while (css_next_url(&sc, &u, dec, sizeof(dec)))
				;
		}
		css_scan_init(&sc, s, len, CSS_STYLE_ATTR);
		while (css_next_decl(&sc, &d))
			;
		css_read_box(s, len, &b);
		secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
		ck_assert_msg(secs < 5.0, "'%s' x %zu took %.2f s", rep[k], len / rl, secs);
	}
	free(s);
}
END_TEST

/* Equal kinds and bit-identical values (-0 is not 0 here). */
static int
len_eq(const struct css_len *a, const struct css_len *b)
{
	return a->kind == b->kind && memcmp(&a->px, &b->px, sizeof(a->px)) == 0;
}

static int
box_eq(const struct css_box *a, const struct css_box *b)
{
	return len_eq(&a->width, &b->width) && len_eq(&a->height, &b->height) &&
	    len_eq(&a->max_width, &b->max_width) && len_eq(&a->max_height, &b->max_height) &&
	    a->display_none == b->display_none && a->visibility_hidden == b->visibility_hidden &&
	    a->opacity_zero == b->opacity_zero;
}

/* Plain styles take a one-pass reader; the same style with a comment
 * appended (which changes nothing) takes the tokenizer. Both must agree. */
START_TEST(box_plain_equals_tokenized)
{
	static const char *const styles[] = {
		"display:block;width:100%;max-width:600px;height:auto",
		"  WIDTH : 1PX ", "width:1px !important", "width:1px;width:100px",
		"width:100px;width:1px", "-webkit-text-size-adjust:100%;height:0",
		"--x:1;opacity:0", "1width:1px", "width 1px", ";;display:none;;",
		"display: none !important", "display:none;display:block", "visibility:collapse",
		"visibility: Hidden", "opacity:0%", "opacity:.0", "opacity:0.5", "max-width:0",
		"max-height:0px;max-width:10px", "width:1", "width:1.0px", "height:+0.5px",
		"width:1px 2px", "a.b:1;width:0", ":width:0", "width:", "width:;height:1px",
		"display:NONE", "-1px:2;width:0", "-:1;height:1", "_x:1;width:0",
		"font-family:Arial,Helvetica,sans-serif;color:#333;width:1px",
		"width:0.4em", "height:1pt", "width:-1px", "height:1e0px",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1;width:1",
		"width:1px!important;width:50px", "display\t:\tnone", "display:\nnone\n",
		"", ";", "width", "opacity:0;opacity:1",
		/* the fast forms and their neighbours */
		"display:block;width:100%;max-width:536px;height:auto;border:0",
		"Width:1Px", "MAX-WIDTH:0;MAX-HEIGHT:1PX", "width:1p", "width:1pxx", "width:1px%",
		"width:10%", "width:0%", "width:0em", "width:0x10", "width:1.", "width:.",
		"width:.5", "width:1.5.5", "width:1e1", "width:1E+1px", "width:1e-1", "width:1e",
		"width:1e+", "width:1em", "width:1ex", "width:+1px", "width:-0", "height:-0px",
		"width:1_x", "width:_1", "width:#1", "width:123456789012345",
		"width:1234567890123456", "width:0.00000000000001",
		/* 16 and 17 digits: m / 10^k would round twice, strtod() once */
		"width:96.13856630229847px", "height:2284581688913565.8", "width:96.1385663022985",
		"width:0000000000000000000000000000000000000000000000000000000000000000001",
		"width:auto!important", "width:AUTO", "width:auto auto", "width:auto;",
		"width: 1px ;", "width:1px;;", "width:1px !IMPORTANT", "width:1px!important;",
		"widthx:1", "widt:1", "width:", "width :1", "width\t:1", "max-widthx:0",
		"max-heigh:0", "max_width:0", "maxwidth:0", "display:none;", "display:NoNe ",
		"display:none2", "display:inline-block", "display:none none", "display:-none",
		"display:", "display: ;width:0", "visibility:HIDDEN", "visibility:collapse;",
		"visibility:collapsed", "visibility:visible", "visibility:hidden!important",
		"opacity:0.0;", "opacity:-1", "opacity:1e-9", "opacity: 0%", "opacity:0px",
		"d:0;h:1;m:2;v:3;o:4;w:5", "dwidth:0", "hwidth:0", "border:0;width:1px",
		"-webkit-width:0", "--width:0", "_width:0",
		"width:1px;height:1px;max-width:1px;max-height:1px;display:none;"
		"visibility:hidden;opacity:0",
	};
	size_t i;

	for (i = 0; i < sizeof(styles) / sizeof(styles[0]); i++) {
		char slow[256];
		struct css_box a, b;

		snprintf(slow, sizeof(slow), "%s/**/", styles[i]);
		css_read_box(styles[i], strlen(styles[i]), &a);
		css_read_box(slow, strlen(slow), &b);
		ck_assert_msg(box_eq(&a, &b), "style '%s': plain and tokenized readers differ",
		    styles[i]);
	}
}
END_TEST

/* Random styles made of the pieces that matter to the box reader, read as
 * they are and behind a leading comment: the comment changes nothing, but
 * it sends the style through the tokenizer. Plain styles take the fast
 * reader, the others must be turned away by it; either way the results
 * must be identical, bit for bit. */
START_TEST(box_fast_equals_tokenized_random)
{
	static const char *const frag[] = {
		/* names */
		"width", "WIDTH", "Width", "height", "HeIgHt", "max-width", "MAX-WIDTH",
		"max-height", "Max-Height", "display", "DISPLAY", "visibility", "Visibility",
		"opacity", "OPACITY", "widthx", "widt", "max-widt", "maxwidth", "w", "d", "o",
		"border", "color", "-webkit-x", "--x", "_x", "1width", "-",
		/* separators */
		":", ":", ":", ";", ";", ";", " ", " ", "\t", "\n", "\r", "\f", " : ",
		/* values */
		"0", "1", "1px", "1PX", "1Px", "1.5", ".5", "1.", ".", "100%", "536px", "600",
		"auto", "AUTO", "none", "NONE", "None", "hidden", "HIDDEN", "collapse", "block",
		"inline-block", "1e1", "1E+1px", "1e-1", "1e", "e5", "1em", "1ex", "+1px", "-1px",
		"-0", "+.5", "0.0000001px", "123456789012345", "1234567890123456",
		"12345678901234567890px", "1px 2px", "!important", " ! IMPORTANT", "!",
		"important", "0x10", "1px%", "1p", "1_x", "0.5", "0%", "-0.5", "#0", ",", "+",
		"96.13856630229847", "2284581688913565.8", "0.1", "0.30000000000001",
	};
	/* bytes only the tokenizer reads */
	static const char *const odd[] = {
		"\0", "/*c*/", "/*", "*/", "\\", "\\0", "'", "\"", "(", ")", "url(x)", "calc(1px)",
		"{", "}", "[", "]", "\xc3\xa9", "@", "&", "<", ">", "*", "/", "\x80", "\xff", "\v",
		"max\\-width", "wid\\74 h", "\\77idth", "\\", "width:1px\\", "display:n\\one",
	};
	static const char *const fast[] = {
		"width:1px", "height:0", "max-width:600px", "max-height:auto", "display:none",
		"display:block", "visibility:hidden", "opacity:0", "border:0", "color:#333",
		"width:100%", "height:auto",
	};
	char buf[300], slow[310];
	unsigned seed = 4242;
	int round;

	for (round = 0; round < 200000; round++) {
		size_t len = 0, nf;
		struct css_box a, b;
		int with_odd = round % 3 == 0;	/* a third may hold non-plain bytes */

		seed = seed * 1103515245u + 12345u;
		nf = 1 + (seed >> 16) % 14;
		while (nf-- > 0) {
			const char *p;
			size_t n;

			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 3 == 0)
				p = fast[(seed >> 8) % (sizeof(fast) / sizeof(fast[0]))];
			else if (with_odd && (seed >> 16) % 7 == 0)
				p = odd[(seed >> 8) % (sizeof(odd) / sizeof(odd[0]))];
			else
				p = frag[(seed >> 8) % (sizeof(frag) / sizeof(frag[0]))];
			n = p[0] != '\0' ? strlen(p) : 1;
			if (len + n + 1 >= sizeof(buf))
				break;
			memcpy(buf + len, p, n);
			len += n;
			if (((seed >> 24) & 1) != 0)
				buf[len++] = ';';
		}
		memcpy(slow, "/**/", 4);
		memcpy(slow + 4, buf, len);
		css_read_box(buf, len, &a);
		css_read_box(slow, len + 4, &b);
		ck_assert_msg(box_eq(&a, &b), "round %d: style '%.*s': fast and tokenized readers "
		    "differ", round, (int)len, buf);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("css");
	TCase *t;

#define ADD(fn) do { t = tcase_create(#fn); tcase_add_test(t, fn); \
	tcase_set_timeout(t, 60); suite_add_tcase(s, t); } while (0)
	ADD(url_forms);
	ADD(url_escapes);
	ADD(comments_and_strings);
	ADD(import_forms);
	ADD(font_face_and_media);
	ADD(declaration_spans);
	ADD(image_set_and_src);
	ADD(bad_urls_reported);
	ADD(tokeniser_corners);
	ADD(not_urls);
	ADD(truncation);
	ADD(neutralize_keeps_syntax);
	ADD(decl_reader);
	ADD(box_reader);
	ADD(box_plain_equals_tokenized);
	ADD(box_fast_equals_tokenized_random);
	ADD(html_lengths);
	ADD(prechecks_not_fooled);
	ADD(garbage);
	ADD(deep_and_long);
	ADD(adversarial_linear);
	return cm_run_suite(s);
}
