/* test_mime.c - MIME walk, decode/re-encode and byte-exact splicing, checked
 * against GMime's own independent view of the input and of every output. */
#include "build-config.h"
#include "tap.h"
#include "mime.h"

#include <gmime/gmime.h>

#include <iconv.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* fixtures */

struct msg {
	char *raw;		/* whole file */
	size_t len;
	size_t hlen;		/* header block incl. the last header's CRLF */
	const char *body;
	size_t blen;
};

static int
load(const char *name, struct msg *m)
{
	const char *top = getenv("top_srcdir");
	char path[1024];
	FILE *f;
	long n;
	char *sep;

	snprintf(path, sizeof(path), "%s/tests/fixtures/mime/%s.eml", top ? top : ".", name);
	f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	m->raw = malloc((size_t)n + 1);
	if (m->raw == NULL || fread(m->raw, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return -1;
	}
	fclose(f);
	m->raw[n] = '\0';
	m->len = (size_t)n;
	sep = strstr(m->raw, "\r\n\r\n");
	if (sep == NULL)
		return -1;
	m->hlen = (size_t)(sep - m->raw) + 2;
	m->body = sep + 4;
	m->blen = m->len - m->hlen - 2;
	return 0;
}

static void
unload(struct msg *m)
{
	free(m->raw);
}

/* ------------------------------------------------------------------------ */
/* callbacks */

struct seen {
	int calls;
	int converted;
	char charsets[8][32];
};

static int
identity_cb(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
	    struct buf *out, int *changed)
{
	struct seen *s = arg;

	(void)decoded;
	(void)len;
	(void)out;
	if (s) {
		if (s->calls < 8)
			snprintf(s->charsets[s->calls], sizeof(s->charsets[0]), "%s", info->charset);
		s->calls++;
		s->converted += info->converted;
	}
	*changed = 0;
	return 0;
}

/* Replace every TRACKME by xxxxxxx. */
static int
replace_marker(const char *in, size_t len, struct buf *out)
{
	size_t i = 0;
	int n = 0;

	while (i < len) {
		if (i + 7 <= len && memcmp(in + i, "TRACKME", 7) == 0) {
			buf_append(out, "xxxxxxx", 7);
			i += 7;
			n++;
		} else {
			buf_append(out, in + i, 1);
			i++;
		}
	}
	return n;
}

static int
edit_cb(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
	struct buf *out, int *changed)
{
	(void)info;
	(void)arg;
	*changed = replace_marker(decoded, len, out) > 0;
	return 0;
}

/* Tell each marker of DECODED as an edit in ED: in place in the whole new
 * text (REP NULL), or sparse, its replacement appended to REP. Returns the
 * number of markers. */
static size_t
tell_markers(const char *decoded, size_t len, struct mime_edits *ed, struct buf *rep)
{
	size_t i, n = 0;

	ck_assert_ptr_nonnull(ed);
	ck_assert_ptr_null(ed->v);
	ed->v = calloc(len / 7 + 1, sizeof(*ed->v));
	for (i = 0; i + 7 <= len; i++) {
		if (memcmp(decoded + i, "TRACKME", 7) != 0)
			continue;
		ed->v[n] = (struct mime_edit){ i, i + 7, rep ? rep->len : i, 7 };
		if (rep)
			buf_append(rep, "xxxxxxx", 7);
		n++;
		i += 6;
	}
	ed->n = n;
	ed->sparse = rep != NULL;
	return n;
}

/* Like edit_cb, and tells mime_rewrite() its edits (each marker, in place):
 * a quoted-printable part is then re-encoded only around them. */
static int
tell_cb(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
	struct buf *out, int *changed)
{
	(void)arg;
	*changed = replace_marker(decoded, len, out) > 0;
	if (*changed)
		tell_markers(decoded, len, info->edits, NULL);
	return 0;
}

/* Like tell_cb, with the edits told sparse: the output holds only the
 * replacements, and mime_rewrite() puts the text together where it needs
 * it whole (other encodings, converted charsets). */
static int
tell_sparse_cb(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
	       struct buf *out, int *changed)
{
	(void)arg;
	*changed = tell_markers(decoded, len, info->edits, out) > 0;
	return 0;
}

/* Like edit_cb, but claims a change for every part: every text part gets
 * re-encoded, marker or not. */
static int
touch_cb(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
	 struct buf *out, int *changed)
{
	(void)info;
	(void)arg;
	replace_marker(decoded, len, out);
	*changed = 1;
	return 0;
}

static int
abort_cb(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
	 struct buf *out, int *changed)
{
	(void)arg; (void)info; (void)decoded; (void)len; (void)out; (void)changed;
	return -1;
}

/* ------------------------------------------------------------------------ */
/* GMime's independent view */

struct leaf {
	GMimePart *part;
	size_t start, end;	/* content span in whole-message offsets */
	char type[64];
};

struct view {
	GMimeMessage *msg;
	struct leaf leaves[64];
	int n;
	size_t len;
};

static void
collect(struct view *v, GMimeObject *o)
{
	if (GMIME_IS_MULTIPART(o)) {
		int i;

		for (i = 0; i < g_mime_multipart_get_count((GMimeMultipart *)o); i++)
			collect(v, g_mime_multipart_get_part((GMimeMultipart *)o, i));
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message((GMimeMessagePart *)o);

		if (m && g_mime_message_get_mime_part(m))
			collect(v, g_mime_message_get_mime_part(m));
	} else if (GMIME_IS_PART(o) && v->n < 64) {
		GMimeDataWrapper *dw = g_mime_part_get_content((GMimePart *)o);
		GMimeStream *s = dw ? g_mime_data_wrapper_get_stream(dw) : NULL;
		struct leaf *l = &v->leaves[v->n];
		char *t = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(o));

		if (s == NULL) {
			g_free(t);
			return;
		}
		l->part = (GMimePart *)o;
		l->start = (size_t)s->bound_start;
		l->end = s->bound_end < 0 ? v->len : (size_t)s->bound_end;
		snprintf(l->type, sizeof(l->type), "%s", t);
		g_free(t);
		v->n++;
	}
}

/* Parse a copy (GMime's persisted stream must outlive the view). */
static int
view_parse(struct view *v, const char *data, size_t len)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeParser *p = g_mime_parser_new_with_stream(st);

	memset(v, 0, sizeof(*v));
	v->len = len;
	g_mime_parser_set_persist_stream(p, TRUE);
	v->msg = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(st);
	if (v->msg == NULL)
		return -1;
	if (g_mime_message_get_mime_part(v->msg))
		collect(v, g_mime_message_get_mime_part(v->msg));
	return 0;
}

static void
view_free(struct view *v)
{
	if (v->msg)
		g_object_unref(v->msg);
}

/* GMime's decoding of a leaf, converted to UTF-8 from its charset label when
 * iconv knows it (else raw). */
static void
decoded_utf8(GMimePart *part, struct buf *out)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *ba;
	const char *cs = g_mime_object_get_content_type_parameter((GMimeObject *)part, "charset");
	iconv_t cd;

	g_mime_data_wrapper_write_to_stream(dw, mem);
	ba = g_mime_stream_mem_get_byte_array((GMimeStreamMem *)mem);
	/* RFC 2781: UTF-16 without a byte order mark is big-endian */
	if (cs && g_ascii_strcasecmp(cs, "utf-16") == 0 && ba->len >= 2 &&
	    !(ba->data[0] == 0xff && ba->data[1] == 0xfe) && !(ba->data[0] == 0xfe && ba->data[1] == 0xff))
		cs = "UTF-16BE";
	cd = cs ? iconv_open("UTF-8", cs) : (iconv_t)-1;
	if (cd != (iconv_t)-1) {
		char *ip = (char *)ba->data, *op;
		size_t il = ba->len, ol;

		buf_reserve(out, il * 4 + 16);
		op = out->data;
		ol = out->cap - 1;
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
			buf_reset(out);		/* not convertible: compare raw bytes */
			buf_append(out, ba->data, ba->len);
		} else {
			iconv(cd, NULL, NULL, &op, &ol);
			out->len = (size_t)(op - out->data);
			out->data[out->len] = '\0';
		}
		iconv_close(cd);
	} else
		buf_append(out, ba->data, ba->len);
	g_object_unref(mem);
}

/* Is [l, l + n) one of the lines of ORIG (line ends included)? */
static int
is_line_of(const char *orig, size_t olen, const char *l, size_t n)
{
	size_t i = 0;

	while (i < olen) {
		const char *nl = memchr(orig + i, '\n', olen - i);
		size_t end = nl ? (size_t)(nl - orig) + 1 : olen;

		if (end - i == n && memcmp(orig + i, l, n) == 0)
			return 1;
		i = end;
	}
	return 0;
}

/* The encoded lines of a re-encoded part: CRLF, at most 76 characters. A
 * line kept from the original content ORIG as it was (a QP part is
 * re-encoded around the edits only) is as good as it was. */
static void
check_lines(const char *p, size_t len, int base64, const char *what, const char *orig,
	    size_t olen)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(p + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - p) : len;
		size_t l = end - i;

		if (is_line_of(orig, olen, p + i, end + (nl ? 1 : 0) - i)) {
			i = end + 1;
			continue;
		}
		if (nl) {
			ck_assert_msg(end > i && p[end - 1] == '\r', "%s: bare LF in encoded part", what);
			l--;
		}
		ck_assert_msg(l <= 76, "%s: encoded line of %zu > 76", what, l);
		if (base64 && nl && l > 0 && end + 1 < len && p[end + 1] != '\r')
			ck_assert_msg(l == 76, "%s: inner base64 line of %zu, not 76", what, l);
		i = end + 1;
	}
}

/* Everything but the edited content spans must be byte-identical; edited
 * parts must decode to the original with the marker replaced. Returns the
 * number of edited parts. */
static int
check_output_ex(const char *name, const struct msg *in, const struct buf *nb, int amp_removed,
		int need_marker)
{
	struct buf out = BUF_INIT;
	struct view a, b;
	size_t pa = 0, pb = 0;
	int i, j, edited = 0, removed = 0;

	buf_append(&out, in->raw, in->hlen);
	buf_append(&out, "\r\n", 2);
	buf_append(&out, nb->data, nb->len);
	ck_assert_msg(view_parse(&a, in->raw, in->len) == 0, "%s: input parse", name);
	ck_assert_msg(view_parse(&b, out.data, out.len) == 0, "%s: GMime cannot parse output", name);
	ck_assert_msg(b.n == a.n - amp_removed, "%s: %d leaves in output, %d in input", name, b.n, a.n);
	for (i = 0, j = 0; i < a.n; i++) {
		struct leaf *la = &a.leaves[i], *lb;
		size_t ga, gb;

		if (amp_removed && strcmp(la->type, "text/x-amp-html") == 0) {
			removed = 1;
			continue;
		}
		lb = &b.leaves[j++];
		ck_assert_str_eq(la->type, lb->type);
		ga = la->start - pa;
		gb = lb->start - pb;
		if (removed)	/* the amp part went with its delimiter line */
			ck_assert_msg(gb < ga && memcmp(in->raw + la->start - gb, out.data + pb, gb) == 0,
				      "%s: bytes around the removed part changed", name);
		else
			ck_assert_msg(ga == gb && memcmp(in->raw + pa, out.data + pb, ga) == 0,
				      "%s: bytes before leaf %d changed", name, i);
		removed = 0;
		if (la->end - la->start != lb->end - lb->start ||
		    memcmp(in->raw + la->start, out.data + lb->start, la->end - la->start) != 0) {
			struct buf da = BUF_INIT, db = BUF_INIT, want = BUF_INIT;
			const char *cte = g_mime_object_get_header((GMimeObject *)lb->part,
								   "Content-Transfer-Encoding");

			decoded_utf8(la->part, &da);
			decoded_utf8(lb->part, &db);
			ck_assert_msg(replace_marker(da.data, da.len, &want) > 0 || !need_marker,
				      "%s: leaf %d changed without a marker", name, i);
			ck_assert_msg(want.len == db.len && memcmp(want.data, db.data, db.len) == 0,
				      "%s: leaf %d decodes to\n%.*s\nwanted\n%.*s", name, i,
				      (int)db.len, db.data, (int)want.len, want.data);
			if (cte && (strstr(cte, "quoted") || strstr(cte, "base64")))
				check_lines(out.data + lb->start, lb->end - lb->start,
					    strstr(cte, "base64") != NULL, name,
					    in->raw + la->start, la->end - la->start);
			buf_free(&da);
			buf_free(&db);
			buf_free(&want);
			edited++;
		}
		pa = la->end;
		pb = lb->end;
	}
	if (removed)	/* the last leaf went: what follows it must be kept */
		ck_assert_msg(out.len - pb < in->len - pa &&
			      memcmp(in->raw + in->len - (out.len - pb), out.data + pb, out.len - pb) == 0,
			      "%s: bytes after the removed last part changed", name);
	else
		ck_assert_msg(in->len - pa == out.len - pb &&
			      memcmp(in->raw + pa, out.data + pb, in->len - pa) == 0,
			      "%s: bytes after the last leaf changed", name);
	view_free(&a);
	view_free(&b);
	buf_free(&out);
	return edited;
}

static int
check_output(const char *name, const struct msg *in, const struct buf *nb, int amp_removed)
{
	return check_output_ex(name, in, nb, amp_removed, 1);
}

static size_t
count_marker(const char *p, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i + 7 <= len; i++)
		if (memcmp(p + i, "TRACKME", 7) == 0)
			n++;
	return n;
}

/* ------------------------------------------------------------------------ */
/* the corpus table */

struct expect {
	const char *name;
	int remove_amp;
	int identity_result;
	int edit_result;
	int edited;		/* parts changed by the editing callback */
	int left;		/* raw TRACKME left in the output (-1: do not check) */
	const char *why;	/* substring of why after the edit run, NULL: empty */
};

static const struct expect corpus[] = {
	{ "single-html-7bit", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 0, NULL },
	{ "single-plain-noct", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 0, NULL },
	{ "single-no-final-newline", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 0, NULL },
	{ "alternative-qp", 0, MIME_UNCHANGED, MIME_CHANGED, 2, 0, NULL },
	{ "mixed-related-alternative", 0, MIME_UNCHANGED, MIME_CHANGED, 2, 1, NULL },
	{ "attachment-html", 0, MIME_UNCHANGED, MIME_UNCHANGED, 0, 2, NULL },
	{ "rfc822-attached", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 2, NULL },
	{ "rfc822-inline", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 1, NULL },
	{ "signed", 0, MIME_UNCHANGED, MIME_UNCHANGED, 0, 2, NULL },
	{ "signed-inside-mixed", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 1, NULL },
	{ "encrypted", 0, MIME_UNCHANGED, MIME_UNCHANGED, 0, 1, NULL },
	{ "pkcs7-mime", 0, MIME_UNCHANGED, MIME_UNCHANGED, 0, -1, NULL },
	{ "amp", 0, MIME_UNCHANGED, MIME_CHANGED, 2, 1, NULL },
	{ "amp", 1, MIME_CHANGED, MIME_CHANGED, 2, 0, NULL },
	{ "preamble-epilogue", 0, MIME_UNCHANGED, MIME_CHANGED, 2, 2, NULL },
	{ "boundary-padding", 0, MIME_UNCHANGED, MIME_CHANGED, 2, 0, NULL },
	{ "headerless-part", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 0, NULL },
	{ "missing-final-boundary", 0, MIME_UNCHANGED, MIME_CHANGED, 2, 0, NULL },
	{ "cte-8bit-utf8", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 0, NULL },
	{ "cte-binary", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 0, NULL },
	{ "cte-base64-latin1", 0, MIME_UNCHANGED, MIME_CHANGED, 1, -1, NULL },
	{ "cte-qp-windows-1252", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 0, NULL },
	{ "cte-x-uuencode", 0, MIME_UNCHANGED, MIME_UNCHANGED, 0, 1, "transfer encoding" },
	{ "charset-utf16le-bom", 0, MIME_UNCHANGED, MIME_CHANGED, 1, -1, NULL },
	{ "charset-utf16-nobom", 0, MIME_UNCHANGED, MIME_CHANGED, 1, -1, NULL },
	{ "charset-iso2022jp", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 0, NULL },
	{ "charset-ebcdic", 0, MIME_UNCHANGED, MIME_CHANGED, 1, -1, NULL },
	{ "charset-utf7", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 0, NULL },
	{ "charset-bogus", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 0, NULL },
	{ "malformed-truncated-base64", 0, MIME_UNCHANGED, MIME_UNCHANGED, 0, -1, "truncated base64" },
	{ "malformed-bad-qp", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 0, NULL },
	{ "malformed-nul", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 0, NULL },
	{ "nesting-5", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 0, NULL },
	{ "nesting-25", 0, MIME_ERROR, MIME_ERROR, 0, -1, "MaxMimeDepth" },
	{ "boundary-in-content", 0, MIME_UNCHANGED, MIME_CHANGED, 1, 0, NULL },
	{ "no-body", 0, MIME_UNCHANGED, MIME_UNCHANGED, 0, 0, NULL },
	{ "outlook-style", 0, MIME_UNCHANGED, MIME_CHANGED, 2, 0, NULL },
	{ "ambiguous-duplicate-content-type", 0, MIME_ERROR, MIME_ERROR, 0, -1, "conflicting header" },
	{ "ambiguous-invalid-header", 0, MIME_ERROR, MIME_ERROR, 0, -1, "invalid header line" },
	{ "ambiguous-duplicate-boundary", 0, MIME_ERROR, MIME_ERROR, 0, -1, "conflicting parameter" },
	/* found by the fuzzer: GMime read an unchanged part differently once
	 * an edit before it had moved it within GMime's read buffer */
	{ "fuzz-header-realign", 0, MIME_ERROR, MIME_ERROR, 0, -1, "invalid header line" },
	/* found by the fuzzer: a soft break brought "--alt-1" to the start of a
	 * line, while the original held "--alt-1" lines that were no boundary */
	{ "fuzz-soft-break-boundary", 0, MIME_UNCHANGED, MIME_CHANGED, 2, -1, "boundary" },
};
#define NCORPUS ((int)(sizeof(corpus) / sizeof(corpus[0])))

static int
run_one(const struct expect *e, const struct msg *m, mime_part_fn fn, void *arg,
	struct buf *nb, struct mime_stats *st, char *why, size_t whylen)
{
	struct mime_opts o = { 20, e->remove_amp };

	return mime_rewrite(m->raw, m->hlen, m->body, m->blen, &o, fn, arg, nb, st, why, whylen);
}

START_TEST(corpus_identity)
{
	const struct expect *e = &corpus[_i];
	struct buf nb = BUF_INIT;
	struct mime_stats st;
	struct msg m;
	char why[256];
	int r;

	ck_assert_msg(load(e->name, &m) == 0, "cannot load %s", e->name);
	r = run_one(e, &m, identity_cb, NULL, &nb, &st, why, sizeof(why));
	ck_assert_msg(r == e->identity_result, "%s: identity result %d, want %d (%s)",
		      e->name, r, e->identity_result, why);
	if (r != MIME_CHANGED)
		ck_assert_msg(nb.len == 0, "%s: output written without a change", e->name);
	else
		ck_assert_int_eq(check_output(e->name, &m, &nb, (int)st.amp_removed), 0);
	buf_free(&nb);
	unload(&m);
}
END_TEST

static void
corpus_edit_with(const struct expect *e, mime_part_fn fn)
{
	struct buf nb = BUF_INIT;
	struct mime_stats st;
	struct msg m;
	char why[256];
	int r;

	ck_assert_msg(load(e->name, &m) == 0, "cannot load %s", e->name);
	r = run_one(e, &m, fn, NULL, &nb, &st, why, sizeof(why));
	ck_assert_msg(r == e->edit_result, "%s: edit result %d, want %d (%s)",
		      e->name, r, e->edit_result, why);
	if (e->why)
		ck_assert_msg(strstr(why, e->why) != NULL, "%s: why \"%s\" lacks \"%s\"",
			      e->name, why, e->why);
	else
		ck_assert_msg(why[0] == '\0', "%s: unexpected why \"%s\"", e->name, why);
	if (r == MIME_CHANGED) {
		int edited = check_output(e->name, &m, &nb, (int)st.amp_removed);

		ck_assert_msg(edited == e->edited, "%s: %d parts differ, want %d", e->name,
			      edited, e->edited);
		ck_assert_int_eq((int)st.changed_parts, e->edited);
		if (e->left >= 0)
			ck_assert_msg(count_marker(nb.data, nb.len) == (size_t)e->left,
				      "%s: %zu markers left, want %d", e->name,
				      count_marker(nb.data, nb.len), e->left);
		ck_assert_int_eq((int)st.amp_removed, e->remove_amp);
		/* a body that ended with a line end still does */
		if (m.blen > 0 && m.body[m.blen - 1] == '\n')
			ck_assert_msg(nb.len > 0 && nb.data[nb.len - 1] == '\n',
				      "%s: lost the final line end", e->name);
	} else {
		ck_assert_msg(nb.len == 0, "%s: output written without a change", e->name);
		ck_assert_int_eq(e->edited, 0);
	}
	buf_free(&nb);
	unload(&m);
}

START_TEST(corpus_edit)
{
	corpus_edit_with(&corpus[_i], edit_cb);
}
END_TEST

/* The same expectations when the editor tells its edits: quoted-printable
 * parts are then re-encoded around them only, and must come out just as
 * valid (check_output() parses the result and compares every part). */
static struct expect
told_expect(int i)
{
	struct expect e = corpus[i];

	/* the soft break that brought "--alt-1" to a line start is in a line
	 * that is now kept as it was: the edit goes through */
	if (strcmp(e.name, "fuzz-soft-break-boundary") == 0) {
		e.edited = 3;
		e.why = NULL;
	}
	return e;
}

START_TEST(corpus_edit_told)
{
	struct expect e = told_expect(_i);

	corpus_edit_with(&e, tell_cb);
}
END_TEST

/* And told sparse: the same. */
START_TEST(corpus_edit_sparse)
{
	struct expect e = told_expect(_i);

	corpus_edit_with(&e, tell_sparse_cb);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* specific behaviour */

START_TEST(charset_handling)
{
	static const struct { const char *name; const char *cs; int converted; } cases[] = {
		{ "charset-utf16le-bom", "utf-8", 1 }, { "charset-iso2022jp", "utf-8", 1 },
		{ "charset-ebcdic", "utf-8", 1 }, { "charset-utf7", "utf-8", 1 },
		{ "cte-qp-windows-1252", "windows-1252", 0 }, { "charset-bogus", "x-no-such-charset", 0 },
		{ "single-plain-noct", "us-ascii", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct expect e = { cases[i].name, 0, 0, 0, 0, 0, NULL };
		struct buf nb = BUF_INIT;
		struct seen s;
		struct msg m;
		char why[128];

		memset(&s, 0, sizeof(s));
		ck_assert(load(cases[i].name, &m) == 0);
		ck_assert_int_eq(run_one(&e, &m, identity_cb, &s, &nb, NULL, why, sizeof(why)),
				 MIME_UNCHANGED);
		ck_assert_int_eq(s.calls, 1);
		ck_assert_str_eq(s.charsets[0], cases[i].cs);
		ck_assert_int_eq(s.converted, cases[i].converted);
		unload(&m);
	}
}
END_TEST

/* The UTF-16 part keeps its byte order mark and byte order after an edit. */
START_TEST(utf16_keeps_bom)
{
	struct expect e = { "charset-utf16le-bom", 0, 0, 0, 0, 0, NULL };
	struct buf nb = BUF_INIT, dec = BUF_INIT;
	struct view v;
	struct msg m;
	char why[128];
	GMimeStream *mem;
	GByteArray *ba;
	struct buf full = BUF_INIT;

	ck_assert(load(e.name, &m) == 0);
	ck_assert_int_eq(run_one(&e, &m, edit_cb, NULL, &nb, NULL, why, sizeof(why)), MIME_CHANGED);
	buf_append(&full, m.raw, m.hlen + 2);
	buf_append(&full, nb.data, nb.len);
	ck_assert(view_parse(&v, full.data, full.len) == 0);
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(v.leaves[0].part), mem);
	ba = g_mime_stream_mem_get_byte_array((GMimeStreamMem *)mem);
	ck_assert(ba->len > 4 && ba->data[0] == 0xff && ba->data[1] == 0xfe);
	ck_assert(ba->data[2] == '<' && ba->data[3] == 0);
	g_object_unref(mem);
	view_free(&v);
	buf_free(&dec);
	buf_free(&full);
	buf_free(&nb);
	unload(&m);
}
END_TEST

START_TEST(amp_removed_with_identity)
{
	struct expect e = { "amp", 1, 0, 0, 0, 0, NULL };
	struct buf nb = BUF_INIT;
	struct mime_stats st;
	struct msg m;
	char why[128];

	ck_assert(load("amp", &m) == 0);
	ck_assert_int_eq(run_one(&e, &m, identity_cb, NULL, &nb, &st, why, sizeof(why)),
			 MIME_CHANGED);
	ck_assert_int_eq((int)st.amp_removed, 1);
	ck_assert_ptr_null(strstr(nb.data, "x-amp-html"));
	ck_assert_ptr_null(strstr(nb.data, "AMP"));
	ck_assert_int_eq(check_output("amp", &m, &nb, 1), 0);
	/* exactly the part and its delimiter line went */
	ck_assert_int_eq((int)(m.blen - nb.len),
			 (int)strlen("--a\r\nContent-Type: text/x-amp-html; charset=utf-8\r\n\r\n"
				     "<!doctype html><html amp4email><body>AMP TRACKME</body></html>\r\n"));
	buf_free(&nb);
	unload(&m);
}
END_TEST

START_TEST(abort_leaves_everything)
{
	struct expect e = { "alternative-qp", 0, 0, 0, 0, 0, NULL };
	struct buf nb = BUF_INIT;
	struct msg m;
	char why[128];

	ck_assert(load(e.name, &m) == 0);
	ck_assert_int_eq(run_one(&e, &m, abort_cb, NULL, &nb, NULL, why, sizeof(why)), MIME_ERROR);
	ck_assert_int_eq((int)nb.len, 0);
	ck_assert_ptr_nonnull(strstr(why, "abandoned"));
	unload(&m);
}
END_TEST

START_TEST(depth_limit_configurable)
{
	struct mime_opts o = { 30, 0 };
	struct buf nb = BUF_INIT;
	struct msg m;
	char why[128];

	ck_assert(load("nesting-25", &m) == 0);
	ck_assert_int_eq(mime_rewrite(m.raw, m.hlen, m.body, m.blen, &o, edit_cb, NULL, &nb,
				      NULL, why, sizeof(why)), MIME_CHANGED);
	buf_free(&nb);
	o.max_depth = 4;
	unload(&m);
	ck_assert(load("nesting-5", &m) == 0);
	ck_assert_int_eq(mime_rewrite(m.raw, m.hlen, m.body, m.blen, &o, edit_cb, NULL, &nb,
				      NULL, why, sizeof(why)), MIME_ERROR);
	ck_assert_int_eq((int)nb.len, 0);
	unload(&m);
}
END_TEST

/* Refused edits: 8-bit into 7bit; a new boundary line. */
static int
eight_bit_cb(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
	     struct buf *out, int *changed)
{
	(void)arg; (void)info;
	buf_append(out, decoded, len);
	buf_puts(out, "caf\xc3\xa9\r\n");
	*changed = 1;
	return 0;
}

static int
boundary_cb(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
	    struct buf *out, int *changed)
{
	(void)arg; (void)info;
	buf_append(out, decoded, len);
	buf_puts(out, "\r\n--alt-1--\r\n");
	*changed = 1;
	return 0;
}

START_TEST(refused_edits)
{
	struct expect e1 = { "single-html-7bit", 0, 0, 0, 0, 0, NULL };
	struct expect e2 = { "alternative-qp", 0, 0, 0, 0, 0, NULL };
	struct buf nb = BUF_INIT;
	struct mime_stats st;
	struct msg m;
	char why[256];

	ck_assert(load(e1.name, &m) == 0);
	ck_assert_int_eq(run_one(&e1, &m, eight_bit_cb, NULL, &nb, &st, why, sizeof(why)),
			 MIME_UNCHANGED);
	ck_assert_ptr_nonnull(strstr(why, "8-bit"));
	ck_assert_int_eq((int)st.failed_parts, 1);
	unload(&m);
	/* QP hides 8-bit data: allowed there */
	ck_assert(load(e2.name, &m) == 0);
	ck_assert_int_eq(run_one(&e2, &m, eight_bit_cb, NULL, &nb, &st, why, sizeof(why)),
			 MIME_CHANGED);
	buf_reset(&nb);
	ck_assert_int_eq(run_one(&e2, &m, boundary_cb, NULL, &nb, &st, why, sizeof(why)),
			 MIME_UNCHANGED);
	ck_assert_ptr_nonnull(strstr(why, "boundary"));
	buf_free(&nb);
	unload(&m);
}
END_TEST

/* The edit for boundary_lines: replace part `index` by `text`. */
struct boundary_edit {
	int index;
	const char *text;
};

static int
replace_cb(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
	   struct buf *out, int *changed)
{
	const struct boundary_edit *be = arg;

	if (info->index != be->index) {
		buf_append(out, decoded, len);
		return 0;
	}
	buf_puts(out, be->text);
	*changed = 1;
	return 0;
}

/* Does a line of enc start with "--b1"? */
static int
has_b1_line(const char *enc, size_t n)
{
	size_t i;

	for (i = 0; i + 4 <= n; i++)
		if ((i == 0 || enc[i - 1] == '\n') && memcmp(enc + i, "--b1", 4) == 0)
			return 1;
	return 0;
}

/* An edit is refused exactly when its encoding has a line starting with the
 * enclosing boundary (that the original did not have): such lines at every
 * offset of a QP part (after CRLF, after a soft break, at the start; not
 * after an encoded LF) and of an 8bit part (after LF too), and lines that
 * start with '-' but are none. */
START_TEST(boundary_lines)
{
	static const char hdr[] = "MIME-Version: 1.0\r\n"
		"Content-Type: multipart/alternative; boundary=\"b1\"\r\n";
	static const char body[] = "--b1\r\nContent-Type: text/plain\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n\r\nhello\r\n"
		"--b1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
		"world\r\n--b1--\r\n";
	static const char *const tails[] = { "--b1 y\r\nz", "\r\n--b1\r\n", "\n--b1", "\r\n-b1\r\n--",
					     "\r\n--b2\r\n", "\r\n-\r\n--b1" };
	char text[400];
	size_t l, t;
	int part;

	for (part = 0; part < 2; part++)
		for (l = 0; l < 200; l++)
			for (t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
				struct boundary_edit be = { part, text };
				struct buf enc = BUF_INIT, nb = BUF_INIT;
				char why[256];
				int rc, refuse;

				memset(text, l % 3 ? 'x' : '-', l);
				strcpy(text + l, tails[t]);
				if (part == 0)
					mime_encode_qp(text, strlen(text), &enc);
				else
					buf_puts(&enc, text);
				refuse = has_b1_line(enc.data, enc.len);
				rc = mime_rewrite(hdr, sizeof(hdr) - 1, body, sizeof(body) - 1, NULL, replace_cb,
						  &be, &nb, NULL, why, sizeof(why));
				ck_assert_msg(rc == (refuse ? MIME_UNCHANGED : MIME_CHANGED),
					      "part %d, \"%s\": %d (%s)", part, text, rc, why);
				if (refuse)
					ck_assert_ptr_nonnull(strstr(why, "boundary"));
				buf_free(&enc);
				buf_free(&nb);
			}
}
END_TEST

/* An editor that claims a change but returns the same text changes nothing. */
static int
same_cb(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
	struct buf *out, int *changed)
{
	(void)arg; (void)info;
	buf_append(out, decoded, len);
	*changed = 1;
	return 0;
}

START_TEST(claimed_change_without_change)
{
	static const char *const names[] = { "single-html-7bit", "cte-8bit-utf8", "cte-binary" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct expect e = { names[i], 0, 0, 0, 0, 0, NULL };
		struct buf nb = BUF_INIT;
		struct mime_stats st;
		struct msg m;
		char why[128];

		ck_assert(load(names[i], &m) == 0);
		ck_assert_int_eq(run_one(&e, &m, same_cb, NULL, &nb, &st, why, sizeof(why)),
				 MIME_UNCHANGED);
		ck_assert_int_eq((int)nb.len, 0);
		ck_assert_int_eq((int)st.changed_parts, 0);
		unload(&m);
	}
}
END_TEST

/* Headers given by the milter without a Content-Type; no headers at all. */
START_TEST(minimal_inputs)
{
	struct mime_opts o = { 20, 0 };
	struct buf nb = BUF_INIT;
	char why[128];
	const char *body = "see TRACKME\r\n";

	ck_assert_int_eq(mime_rewrite("", 0, body, strlen(body), &o, edit_cb, NULL, &nb, NULL,
				      why, sizeof(why)), MIME_CHANGED);
	ck_assert_str_eq(nb.data, "see xxxxxxx\r\n");
	buf_reset(&nb);
	ck_assert_int_eq(mime_rewrite("Subject: x\r\n", 12, "", 0, &o, edit_cb, NULL, &nb, NULL,
				      why, sizeof(why)), MIME_UNCHANGED);
	ck_assert_int_eq(mime_rewrite(NULL, 0, NULL, 0, &o, edit_cb, NULL, &nb, NULL, NULL, 0),
			 MIME_UNCHANGED);
	/* default options */
	ck_assert_int_eq(mime_rewrite("", 0, body, strlen(body), NULL, edit_cb, NULL, &nb, NULL,
				      why, sizeof(why)), MIME_CHANGED);
	/* the new body is appended to what the buffer holds */
	buf_reset(&nb);
	buf_puts(&nb, "kept|");
	ck_assert_int_eq(mime_rewrite("", 0, body, strlen(body), &o, edit_cb, NULL, &nb, NULL,
				      why, sizeof(why)), MIME_CHANGED);
	ck_assert_str_eq(nb.data, "kept|see xxxxxxx\r\n");
	buf_free(&nb);
}
END_TEST

/* No editor: only the AMP alternative goes. */
START_TEST(amp_only_without_editor)
{
	struct mime_opts o = { 20, 1 };
	struct buf nb = BUF_INIT;
	struct mime_stats st;
	struct msg m;
	char why[128];

	ck_assert(load("amp", &m) == 0);
	ck_assert_int_eq(mime_rewrite(m.raw, m.hlen, m.body, m.blen, &o, NULL, NULL, &nb, &st,
				      why, sizeof(why)), MIME_CHANGED);
	ck_assert_int_eq((int)st.amp_removed, 1);
	ck_assert_int_eq((int)st.text_parts, 0);
	ck_assert_int_eq(check_output("amp", &m, &nb, 1), 0);
	buf_free(&nb);
	unload(&m);
}
END_TEST

/* Every prefix of every fixture (cut at every byte, as a truncated
 * transfer would): an unchanged result writes nothing, a changed one keeps
 * all bytes outside edited content spans and parses. */
START_TEST(truncated_corpus)
{
	const struct expect *e = &corpus[_i];
	struct msg m;
	size_t cut;

	ck_assert(load(e->name, &m) == 0);
	for (cut = 0; cut <= m.blen; cut++) {
		struct msg t = m;
		struct buf nb = BUF_INIT;
		struct mime_stats st;
		char why[256];
		int r;

		t.blen = cut;
		t.len = m.hlen + 2 + cut;
		char name[128];

		snprintf(name, sizeof(name), "%s cut at %zu", e->name, cut);
		r = run_one(e, &t, edit_cb, NULL, &nb, &st, why, sizeof(why));
		if (r != MIME_CHANGED)
			ck_assert_msg(nb.len == 0, "%s: output without a change", name);
		else
			check_output(name, &t, &nb, (int)st.amp_removed);
		buf_free(&nb);
	}
	unload(&m);
}
END_TEST

/* Every text part re-encoded (changed or not): the output still decodes to
 * the same text everywhere and keeps every other byte. */
START_TEST(corpus_reencode_all)
{
	const struct expect *e = &corpus[_i];
	struct buf nb = BUF_INIT;
	struct mime_stats st;
	struct msg m;
	char why[256];
	int r;

	ck_assert(load(e->name, &m) == 0);
	r = run_one(e, &m, touch_cb, NULL, &nb, &st, why, sizeof(why));
	if (r == MIME_CHANGED)
		ck_assert_int_le(check_output_ex(e->name, &m, &nb, (int)st.amp_removed, 0),
				 (int)st.changed_parts);
	else
		ck_assert_msg(nb.len == 0, "%s: output without a change", e->name);
	if (e->edit_result == MIME_ERROR)
		ck_assert_int_eq(r, MIME_ERROR);
	buf_free(&nb);
	unload(&m);
}
END_TEST

static int
yen_cb(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
       struct buf *out, int *changed)
{
	(void)arg; (void)info;
	buf_append(out, decoded, len);
	buf_puts(out, "\xf0\x9f\x98\x80");	/* an emoji: not in ISO-2022-JP */
	*changed = 1;
	return 0;
}

START_TEST(conversion_failures)
{
	struct expect e = { "charset-iso2022jp", 0, 0, 0, 0, 0, NULL };
	struct mime_opts o = { 20, 0 };
	struct buf nb = BUF_INIT;
	struct mime_stats st;
	struct msg m;
	char why[256];
	const char *hdr = "Content-Type: text/plain; charset=utf-16le\r\n"
		"Content-Transfer-Encoding: base64\r\n";
	const char *body = "VABSAEEAQwBLAE0ARQ==\r\n";	/* "TRACKME" in UTF-16LE, one byte short */

	ck_assert(load(e.name, &m) == 0);
	ck_assert_int_eq(run_one(&e, &m, yen_cb, NULL, &nb, &st, why, sizeof(why)), MIME_UNCHANGED);
	ck_assert_msg(strstr(why, "not representable in ISO-2022-JP") != NULL, "why: %s", why);
	ck_assert_int_eq((int)st.failed_parts, 1);
	unload(&m);
	ck_assert_int_eq(mime_rewrite(hdr, strlen(hdr), body, strlen(body), &o, edit_cb, NULL, &nb,
				      &st, why, sizeof(why)), MIME_UNCHANGED);
	ck_assert_msg(strstr(why, "charset utf-16le: incomplete") != NULL, "why: %s", why);
	ck_assert_int_eq((int)nb.len, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* top-level headers */

/* What GMime said of these header blocks when it read every header itself
 * (mime.c now hands it the Content-* ones when the block is plain and
 * checks repeated single headers on its own): the same verdicts. */
START_TEST(top_level_header_checks)
{
	static const struct {
		const char *hdr;
		size_t len;
		int result;
		const char *why;	/* exact */
		int warnings;		/* -1: not checked */
	} cases[] = {
#define H(s) s, sizeof(s) - 1
		{ H("From: a@x\r\nFrom: b@x\r\nContent-Type: text/plain\r\n"), MIME_ERROR,
		  "ambiguous MIME: conflicting header (From) in the headers", 1 },
		{ H("Subject: s\r\nsubject: s\r\n"), MIME_CHANGED, "", 1 },
		{ H("from: a\r\nFROM: b\r\n"), MIME_ERROR,
		  "ambiguous MIME: conflicting header (FROM) in the headers", 1 },
		{ H("Subject: a\r\n b\r\nSubject: a b\r\n"), MIME_ERROR,
		  "ambiguous MIME: conflicting header (Subject) in the headers", 1 },
		{ H("Received: a\r\nReceived: b\r\n"), MIME_CHANGED, "", 0 },
		{ H("Bad Header: x\r\nContent-Type: text/plain\r\n"), MIME_ERROR,
		  "GMime could not parse the message", 1 },
		{ H("X-Foo: ok\r\nno colon here\r\nContent-Type: text/plain\r\n"), MIME_ERROR,
		  "ambiguous MIME: invalid header line (no colon here?" "?) in the headers", 1 },
		/* the single header's conflict is reported before the Content-Type's */
		{ H("Content-Type: text/plain\r\nContent-Type: text/html\r\nTo: a\r\nTo: b\r\n"),
		  MIME_ERROR, "ambiguous MIME: conflicting header (To) in the headers", 2 },
		{ H("Content-Type: text/html; charset=x; charset=y\r\nTo: a\r\nTo: b\r\n"), MIME_ERROR,
		  "ambiguous MIME: conflicting header (To) in the headers", 2 },
		{ H("Content-Type: text/html\r\nFrom: a\r\nFrom: a\r\nFrom: b\r\n"), MIME_ERROR,
		  "ambiguous MIME: conflicting header (From) in the headers", 2 },
		{ H("From: a\r\nContent-Type: text/html\r\nFrom: b\r\n"), MIME_ERROR,
		  "ambiguous MIME: conflicting header (From) in the headers", 1 },
		{ H("Date: x\r\nDate: x \r\n"), MIME_ERROR,
		  "ambiguous MIME: conflicting header (Date) in the headers", 1 },
		{ H("Message-ID: <a>\r\nMessage-Id: <b>\r\nContent-Type: text/html\r\n"), MIME_ERROR,
		  "ambiguous MIME: conflicting header (Message-Id) in the headers", 1 },
		{ H("Subject: caf\xc3\xa9\r\n"), MIME_CHANGED, "", 0 },
		{ H("Subject: x"), MIME_ERROR,
		  "ambiguous MIME: invalid header line (see TRACKME?" "?) at body offset 0", 2 },
		{ H("Subject: x\nContent-Type: text/html\n"), MIME_CHANGED, "", 0 },
		{ H("Subject: a\0b\r\nSubject: a\0c\r\n"), MIME_CHANGED, "", 1 },
		{ H("Subject: x\r\n\r\nContent-Type: text/html\r\n"), MIME_UNCHANGED,
		  "part 0 (text/plain) left unchanged: content range not at a boundary", 0 },
		{ H(" folded: x\r\nSubject: y\r\n"), MIME_ERROR, "GMime could not parse the message", 1 },
		{ H("Subject : x\r\nSubject: y\r\n"), MIME_ERROR,
		  "ambiguous MIME: conflicting header (Subject) in the headers", 1 },
		{ H("Subject: x\r\n\tmore\r\n \r\nTo: y\r\n"), MIME_CHANGED, "", 0 },
		{ H("Subject: x\rbad\r\nTo: y\r\n"), MIME_CHANGED, "", 0 },
		{ H("content-type: text/html\r\nsubject: a\r\nSUBJECT: a\r\n"), MIME_CHANGED, "", 1 },
		{ H("Content-Type: multipart/alternative; boundary=b\r\nTo: a\r\n"), MIME_UNCHANGED, "", 1 },
		/* a continuation line is no header of its own */
		{ H("Received: x\r\n\tContent-Type: text/html\r\nContent-Type: text/plain\r\n"),
		  MIME_CHANGED, "", 0 },
		{ H("X-A: 1\r\nContent-Transfer-Encoding: base64\r\n"), MIME_UNCHANGED,
		  "part 0 (text/plain) left unchanged: truncated base64", 0 },
#undef H
	};
	const char *body = "see TRACKME\r\n";
	char big[4096], why[256];
	struct mime_stats st;
	struct buf nb = BUF_INIT;
	size_t i, n;
	int k, r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = mime_rewrite(cases[i].hdr, cases[i].len, body, strlen(body), NULL, edit_cb, NULL,
				 &nb, &st, why, sizeof(why));
		ck_assert_msg(r == cases[i].result && strcmp(why, cases[i].why) == 0,
			      "case %zu: %d \"%s\"", i, r, why);
		if (cases[i].warnings >= 0)
			ck_assert_msg((int)st.warnings == cases[i].warnings, "case %zu: %u warnings", i,
				      st.warnings);
		if (r == MIME_CHANGED)
			ck_assert_str_eq(nb.data, "see xxxxxxx\r\n");
		buf_free(&nb);
	}
	/* more single headers than mime.c keeps track of: GMime reads them all */
	for (k = 0, n = 0; k < 70; k++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "To: x%d\r\n", k > 66);
	ck_assert_int_eq(mime_rewrite(big, n, body, strlen(body), NULL, edit_cb, NULL, &nb, &st,
				      why, sizeof(why)), MIME_ERROR);
	ck_assert_str_eq(why, "ambiguous MIME: conflicting header (To) in the headers");
	ck_assert_int_eq((int)st.warnings, 69);
	for (k = 0, n = 0; k < 60; k++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "To: x%d\r\n", k > 56);
	ck_assert_int_eq(mime_rewrite(big, n, body, strlen(body), NULL, edit_cb, NULL, &nb, &st,
				      why, sizeof(why)), MIME_ERROR);
	ck_assert_str_eq(why, "ambiguous MIME: conflicting header (To) in the headers");
	ck_assert_int_eq((int)st.warnings, 59);
	buf_free(&nb);
}
END_TEST

/* The top-level headers other than Content-* (and single ones repeated)
 * change nothing: every corpus message with a realistic block of them
 * ahead of its own headers comes out byte for byte as without. */
START_TEST(top_level_headers_extra)
{
	static const char extra[] =
		"Return-Path: <bounce-123@mail.sender.example>\r\n"
		"Received: from mail.sender.example (mail.sender.example [192.0.2.10])\r\n"
		"\tby mx.rcpt.example (Postfix) with ESMTPS id 4ABCD12345\r\n"
		"\tfor <rcpt@example.org>; Mon, 1 Jan 2024 10:00:00 +0000 (UTC)\r\n"
		"Received: by app01 with HTTP; Mon, 1 Jan 2024 09:59:58 +0000\r\n"
		"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=sender.example;\r\n"
		"\ts=s1; h=From:To:Subject:Date:Message-ID;\r\n"
		"\tb=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz==\r\n"
		"Authentication-Results: mx.rcpt.example; dkim=pass header.d=sender.example\r\n"
		"List-Unsubscribe: <https://sender.example/u/abc123>\r\n"
		"X-Mailer: Sender Mailer 3.1\r\nPrecedence: bulk\r\n";
	const struct expect *e = &corpus[_i];
	struct buf a = BUF_INIT, b = BUF_INIT, hdr = BUF_INIT;
	struct mime_opts o = { 20, e->remove_amp };
	struct mime_stats sa, sb;
	char wa[256], wb[256];
	struct msg m;
	int ra, rb;

	ck_assert_msg(load(e->name, &m) == 0, "cannot load %s", e->name);
	buf_append(&hdr, extra, strlen(extra));
	buf_append(&hdr, m.raw, m.hlen);
	ra = mime_rewrite(m.raw, m.hlen, m.body, m.blen, &o, edit_cb, NULL, &a, &sa, wa, sizeof(wa));
	rb = mime_rewrite(hdr.data, hdr.len, m.body, m.blen, &o, edit_cb, NULL, &b, &sb, wb,
			  sizeof(wb));
	ck_assert_msg(ra == rb && strcmp(wa, wb) == 0, "%s: %d \"%s\" / %d \"%s\"", e->name, ra, wa,
		      rb, wb);
	ck_assert_msg(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0),
		      "%s: new bodies differ", e->name);
	ck_assert_int_eq((int)sa.parts, (int)sb.parts);
	ck_assert_int_eq((int)sa.text_parts, (int)sb.text_parts);
	ck_assert_int_eq((int)sa.changed_parts, (int)sb.changed_parts);
	ck_assert_int_eq((int)sa.protected_parts, (int)sb.protected_parts);
	ck_assert_int_eq((int)sa.failed_parts, (int)sb.failed_parts);
	ck_assert_int_eq((int)sa.warnings, (int)sb.warnings);
	buf_free(&a);
	buf_free(&b);
	buf_free(&hdr);
	unload(&m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* encoders and decoders */

static void
fill_random(char *p, size_t n, unsigned *seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned r = (unsigned)rand_r(seed);

		/* mostly text, some CRLF, spaces before line ends, bytes of every value */
		if (r % 17 == 0 && i + 1 < n) {
			p[i++] = '\r';
			p[i] = '\n';
		} else if (r % 13 == 0)
			p[i] = ' ';
		else if (r % 11 == 0)
			p[i] = (char)(r >> 8);
		else
			p[i] = (char)('a' + r % 26);
	}
}

START_TEST(qp_round_trip)
{
	unsigned seed = 1;
	int k;

	for (k = 0; k < 300; k++) {
		char in[600];
		size_t n = (size_t)rand_r(&seed) % sizeof(in);
		struct buf enc = BUF_INIT, dec = BUF_INIT;
		GMimeStream *mem, *filt;
		GByteArray *ba;

		fill_random(in, n, &seed);
		ck_assert_int_eq(mime_encode_qp(in, n, &enc), 0);
		check_lines(enc.data ? enc.data : "", enc.len, 0, "qp", "", 0);
		ck_assert_int_eq(mime_decode_qp(enc.data ? enc.data : "", enc.len, &dec), 0);
		ck_assert(dec.len == n && memcmp(dec.data ? dec.data : "", in, n) == 0);
		/* and GMime reads it the same way */
		mem = g_mime_stream_mem_new();
		filt = g_mime_stream_filter_new(mem);
		g_mime_stream_filter_add((GMimeStreamFilter *)filt,
			g_mime_filter_basic_new(GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, FALSE));
		g_mime_stream_write(filt, enc.data ? enc.data : "", enc.len);
		g_mime_stream_flush(filt);
		ba = g_mime_stream_mem_get_byte_array((GMimeStreamMem *)mem);
		ck_assert(ba->len == n && memcmp(ba->data, in, n) == 0);
		g_object_unref(filt);
		g_object_unref(mem);
		buf_free(&enc);
		buf_free(&dec);
	}
}
END_TEST

/* The layout rule of mime_encode_qp written the plain way, one byte at a
 * time: the encoder's word-at-a-time fast path must give the same bytes. */
static void
ref_encode_qp(const char *in, size_t n, struct buf *out)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		int eol_next = i + 1 == n || (in[i + 1] == '\r' && i + 2 < n && in[i + 2] == '\n');
		int plain;
		char esc[4];

		if (c == '\r' && i + 1 < n && in[i + 1] == '\n') {
			buf_append(out, "\r\n", 2);
			col = 0;
			i++;
			continue;
		}
		if (c == ' ' || c == '\t')
			plain = !eol_next;
		else
			plain = c >= 33 && c <= 126 && c != '=';
		if (col + (plain ? 1 : 3) > 75) {
			buf_append(out, "=\r\n", 3);
			col = 0;
		}
		if (plain) {
			buf_append(out, &in[i], 1);
			col++;
		} else {
			snprintf(esc, sizeof(esc), "=%02X", c);
			buf_append(out, esc, 3);
			col += 3;
		}
	}
}

/* Encode with both, compare, decode back. */
static void
qp_same_as_reference(const char *in, size_t n)
{
	struct buf enc = BUF_INIT, ref = BUF_INIT, dec = BUF_INIT;

	ck_assert_int_eq(mime_encode_qp(in, n, &enc), 0);
	ref_encode_qp(in, n, &ref);
	ck_assert_msg(enc.len == ref.len && memcmp(enc.data ? enc.data : "", ref.data ? ref.data : "",
						   enc.len) == 0,
		      "QP encoding differs for \"%.*s\" (%zu bytes):\n%.*s\nwant\n%.*s", (int)(n < 200 ? n : 200),
		      in, n, (int)enc.len, enc.data ? enc.data : "", (int)ref.len, ref.data ? ref.data : "");
	check_lines(enc.data ? enc.data : "", enc.len, 0, "qp", "", 0);
	ck_assert_int_eq(mime_decode_qp(enc.data ? enc.data : "", enc.len, &dec), 0);
	ck_assert(dec.len == n && memcmp(dec.data ? dec.data : "", in, n) == 0);
	buf_free(&enc);
	buf_free(&ref);
	buf_free(&dec);
}

static void
qp_expect(const char *in, const char *want)
{
	struct buf enc = BUF_INIT;

	ck_assert_int_eq(mime_encode_qp(in, strlen(in), &enc), 0);
	ck_assert_str_eq(enc.data ? enc.data : "", want);
	buf_free(&enc);
	qp_same_as_reference(in, strlen(in));
}

/* Soft breaks at 76 columns, blanks before line ends, '=', lone CR and LF,
 * spelled out. */
START_TEST(qp_encoder_layout)
{
	char in[300], want[400];

	qp_expect("", "");
	qp_expect("a \r\nb", "a=20\r\nb");
	qp_expect("a ", "a=20");
	qp_expect("a\t", "a=09");
	qp_expect("a \tb", "a \tb");
	qp_expect("a  \r\n", "a =20\r\n");
	qp_expect("x=y", "x=3Dy");
	qp_expect("a\nb", "a=0Ab");
	qp_expect("a\rb", "a=0Db");
	qp_expect("a\r", "a=0D");
	qp_expect("a\r\r\nb", "a=0D\r\nb");
	qp_expect("\r\n\r\n", "\r\n\r\n");
	qp_expect("caf\xc3\xa9", "caf=C3=A9");
	/* 75 plain characters fill a line, the 76th goes after a soft break */
	memset(in, 'a', 76);
	in[76] = '\0';
	snprintf(want, sizeof(want), "%.75s=\r\na", in);
	qp_expect(in, want);
	in[75] = '\0';
	qp_expect(in, in);
	/* an escape that does not fit in what is left of the line */
	memset(in, 'a', 73);
	strcpy(in + 73, "=");
	snprintf(want, sizeof(want), "%.73s=\r\n=3D", in);
	qp_expect(in, want);
	memset(in, 'a', 72);
	strcpy(in + 72, "=");
	snprintf(want, sizeof(want), "%.72s=3D", in);
	qp_expect(in, want);
	/* a blank that ends a full line before CRLF */
	memset(in, 'a', 74);
	strcpy(in + 74, " \r\nb");
	snprintf(want, sizeof(want), "%.74s=\r\n=20\r\nb", in);
	qp_expect(in, want);
	/* a long line of plain text is cut every 75 characters */
	memset(in, 'b', 200);
	in[200] = '\0';
	snprintf(want, sizeof(want), "%.75s=\r\n%.75s=\r\n%.50s", in, in, in);
	qp_expect(in, want);
}
END_TEST

/* The fast path against the byte-wise rule: every special byte at every
 * position of lines around the 8-byte word and 76-column boundaries, with
 * every kind of line end, and random text. */
START_TEST(qp_encoder_matches_reference)
{
	static const char specials[] = " \t=\r\n\x80\xff\x7f\x1f\x00<>";
	static const char *const ends[] = { "", "\r\n", "\n", " \r\n", "\t\r\n", " ", "=", "\r" };
	static const char alphabet[] = "abc <>=\t\r\n\x80~!\"";
	char in[4096];
	unsigned seed = 7;
	size_t len, pos, s, e, k, n, i;

	for (len = 0; len < 170; len++)
		for (s = 0; s < sizeof(specials) - 1; s++)
			for (pos = 0; pos <= len; pos += (len > 80 ? 7 : 1))
				for (e = 0; e < sizeof(ends) / sizeof(ends[0]); e++) {
					memset(in, 'x', len);
					if (pos < len)
						in[pos] = specials[s];
					n = len;
					memcpy(in + n, ends[e], strlen(ends[e]));
					n += strlen(ends[e]);
					memcpy(in + n, in, n);	/* twice: a second line */
					qp_same_as_reference(in, 2 * n);
				}
	for (k = 0; k < 3000; k++) {
		n = (size_t)rand_r(&seed) % sizeof(in);
		for (i = 0; i < n; i++) {
			unsigned r = (unsigned)rand_r(&seed);

			/* long plain runs, now and then a special byte or a line end */
			if (r % 23 == 0)
				in[i] = alphabet[(r >> 8) % (sizeof(alphabet) - 1)];
			else if (r % 97 == 0 && i + 1 < n) {
				in[i++] = '\r';
				in[i] = '\n';
			} else
				in[i] = (char)(' ' + (r >> 8) % 95);
		}
		qp_same_as_reference(in, n);
	}
}
END_TEST

/* The QP encoder and decoder as they were before the SSE2 fast paths
 * (commit 6e4f62a), verbatim but for the names: the new ones must write
 * exactly the same bytes for every input. */
static const unsigned char old_hexval1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7,
	['7'] = 8, ['8'] = 9, ['9'] = 10, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14,
	['E'] = 15, ['F'] = 16, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16,
};


#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL


static inline size_t
old_first_flagged(uint64_t mask)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (size_t)__builtin_ctzll(mask) >> 3;
#else
	(void)mask;
	return 0;	/* the caller then goes on byte by byte */
#endif
}


static int
old_decode_qp(const char *in, size_t len, struct buf *out)
{
	const char *p = in, *end = in + len, *eq;
	char *o;
	int hi, lo;

	if (buf_reserve(out, len) < 0)
		return -1;
	o = out->data + out->len;
	while (p < end) {
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL)
			eq = end;
		memcpy(o, p, (size_t)(eq - p));
		o += eq - p;
		p = eq;
		if (end - p < 2)
			break;			/* nothing, or "=" cut off */
		if (p[1] == '\n') {
			p += 2;			/* soft break */
			continue;
		}
		if (end - p < 3)
			break;			/* "=X" cut off */
		if ((hi = old_hexval1[(unsigned char)p[1]]) != 0 && (lo = old_hexval1[(unsigned char)p[2]]) != 0) {
			*o++ = (char)((hi - 1) * 16 + lo - 1);
		} else if (!(p[1] == '\r' && p[2] == '\n')) {
			memcpy(o, p, 3);	/* malformed: kept as it is */
			o += 3;
		}				/* else a soft break */
		p += 3;
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return 0;
}


static const unsigned char old_qp_literal[256] = {
	[' '] = 1, ['\t'] = 1, [33 ... 60] = 1, [62 ... 126] = 1,
};


static inline uint64_t
old_qp_word_special(uint64_t x)
{
	uint64_t eq = x ^ (ONES * '=');

	return ((x + ONES) | (x - ONES * 0x20) | (eq - ONES)) & HIGHS;
}


static size_t
old_qp_copy_literal_run(char *o, const char *p, size_t lim)
{
	size_t k = 0;
	uint64_t x, m;

	while (k + 8 <= lim) {
		memcpy(&x, p + k, 8);
		memcpy(o + k, &x, 8);
		if ((m = old_qp_word_special(x)) != 0) {
			k += old_first_flagged(m);
			break;
		}
		k += 8;
	}
	while (k < lim && old_qp_literal[(unsigned char)p[k]]) {
		o[k] = p[k];
		k++;
	}
	return k;
}


static int
old_encode_qp(const char *in, size_t len, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0, col = 0, k, lim;
	char *o;

	/* text mostly stays as it is: start near the input size and grow when
	 * less than a line's worst case (75 + "=\r\n" + "=XX" + CRLF) is left,
	 * rather than reserving 3 times a possibly large part up front */
	if (buf_reserve(out, len + len / 8 + 128) < 0)
		return -1;
	o = out->data + out->len;
	while (i < len) {
		unsigned char c;
		int plain;

		if (out->cap - (size_t)(o - out->data) < 128) {
			out->len = (size_t)(o - out->data);
			if (buf_reserve(out, (len - i) + (len - i) / 4 + 128) < 0)
				return -1;
			o = out->data + out->len;
		}

		/* the run of literal bytes that fits on this line */
		lim = len - i < 75 - col ? len - i : 75 - col;
		k = old_qp_copy_literal_run(o, in + i, lim);
		if (k > 0 && (in[i + k - 1] == ' ' || in[i + k - 1] == '\t') &&
		    (i + k == len || (in[i + k] == '\r' && i + k + 1 < len && in[i + k + 1] == '\n')))
			k--;	/* a blank before a line end is encoded below */
		o += k;
		col += k;
		i += k;
		if (i == len)
			break;

		c = (unsigned char)in[i];
		if (c == '\r' && i + 1 < len && in[i + 1] == '\n') {
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
			i += 2;
			continue;
		}
		if (c == ' ' || c == '\t')
			plain = !(i + 1 == len ||
				  (in[i + 1] == '\r' && i + 2 < len && in[i + 2] == '\n'));
		else
			plain = old_qp_literal[c];
		if (col + (plain ? 1 : 3) > 75) {
			*o++ = '=';
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
		}
		if (plain) {
			*o++ = (char)c;
			col++;
		} else {
			*o++ = '=';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
			col += 3;
		}
		i++;
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return 0;
}


/* One input for the differential tests, of one of several kinds. */
static size_t
qp_diff_input(char *p, size_t cap, unsigned *seed)
{
	static const char *const seqs[] = { "=3D", "=3d", "=\r\n", "=\n", "=", "=X", "==", "=\r",
					    "=ZZ", "=4", "=0a", "= \r\n", "\r\n", "\n", "\r", " \r\n",
					    "\t\r\n", "  ", "\t", "=\r\n=" };
	static const char blanks[] = " \t\r\n=a\x80";
	int kind = rand_r(seed) % 7;
	size_t n = (size_t)rand_r(seed) % (kind == 3 ? cap : cap / 4), i = 0;

	while (i < n) {
		unsigned r = (unsigned)rand_r(seed);
		const char *s = NULL;
		char c;

		switch (kind) {
		case 0:		/* bytes of every value */
			c = (char)(r >> 8);
			break;
		case 1:		/* HTML: '=' in every attribute, LF and CRLF lines */
			c = r % 19 == 0 ? '=' : r % 97 == 0 ? '\n' : (char)(' ' + (r >> 8) % 95);
			if (r % 89 == 0)
				s = "\r\n";
			break;
		case 2:		/* line ends of every kind, blanks before them */
			c = (char)('a' + (r >> 8) % 26);
			if (r % 11 == 0)
				s = seqs[12 + (r >> 16) % 8];
			break;
		case 3:		/* long lines, rare specials */
			c = r % 301 == 0 ? blanks[(r >> 8) % (sizeof(blanks) - 1)] :
				(char)('!' + (r >> 8) % 90);
			break;
		case 4:		/* blanks, line ends and '=' everywhere */
			c = blanks[(r >> 8) % (sizeof(blanks) - 1)];
			break;
		case 5:		/* QP, good and malformed */
			c = (char)(' ' + (r >> 8) % 95);
			if (r % 7 == 0)
				s = seqs[(r >> 16) % (sizeof(seqs) / sizeof(seqs[0]))];
			break;
		default:	/* 8-bit text */
			c = r % 3 == 0 ? (char)(0x80 | (r >> 8)) : (char)('a' + (r >> 8) % 26);
			break;
		}
		if (s != NULL) {
			size_t k = strlen(s);

			if (i + k > n)
				break;
			memcpy(p + i, s, k);
			i += k;
		} else
			p[i++] = c;
	}
	return i;
}

/* Encode and decode `in` with the new coders and the old ones, appending to
 * a buffer that already holds `pre` (a blank there must not be taken for
 * the input's), and compare every byte. */
static void
qp_same_as_old(const char *text, size_t n, const char *pre)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	char *in = malloc(n ? n : 1);	/* exactly sized: ASan sees a read past it */

	ck_assert(in != NULL);
	memcpy(in, text, n);
	buf_puts(&a, pre);
	buf_puts(&b, pre);
	ck_assert_int_eq(mime_encode_qp(in, n, &a), 0);
	ck_assert_int_eq(old_encode_qp(in, n, &b), 0);
	ck_assert_msg(a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
		      "QP encoding differs from the old encoder for %zu bytes \"%.*s\"", n,
		      (int)(n < 300 ? n : 300), in);
	buf_reset(&a);
	buf_reset(&b);
	buf_puts(&a, pre);
	buf_puts(&b, pre);
	ck_assert_int_eq(mime_decode_qp(in, n, &a), 0);
	ck_assert_int_eq(old_decode_qp(in, n, &b), 0);
	ck_assert_msg(a.len == b.len && memcmp(a.data, b.data, a.len) == 0 && a.data[a.len] == '\0',
		      "QP decoding differs from the old decoder for %zu bytes \"%.*s\"", n,
		      (int)(n < 300 ? n : 300), in);
	buf_free(&a);
	buf_free(&b);
	free(in);
}

/* The SSE2 coders against the old ones: random input of many kinds, then
 * blanks, tabs, '=' sequences and line ends at every position of inputs
 * around the 32-byte window, the 34-byte tail and the 76-column line. */
START_TEST(qp_matches_old_coders)
{
	static const char *const pres[] = { "", "x", "x ", " ", "=" };
	static const char *const ins[] = { " \r\n", "\t\r\n", " ", "\t", "  \r\n", "=", "=\r\n", "=\n",
					   "=4", "=3d", "\r\n", "\r", "\n", "\x80", "==41", " \r \r\n" };
	static char in[8192];
	unsigned seed = 13;
	size_t len, pos, k, n, e;

	for (k = 0; k < 20000; k++) {
		n = qp_diff_input(in, sizeof(in), &seed);
		qp_same_as_old(in, n, pres[k % (sizeof(pres) / sizeof(pres[0]))]);
	}
	for (len = 0; len < 160; len++)
		for (pos = 0; pos <= len; pos++)
			for (e = 0; e < sizeof(ins) / sizeof(ins[0]); e++) {
				size_t il = strlen(ins[e]);

				memset(in, "ab<=>"[(len + pos) % 5], len);
				memmove(in + pos + il, in + pos, len - pos);
				memcpy(in + pos, ins[e], il);
				qp_same_as_old(in, len + il, pres[(len + e) % 4]);
			}
}
END_TEST

START_TEST(base64_round_trip)
{
	unsigned seed = 2;
	int k;
	const char *why = NULL;
	struct buf d = BUF_INIT;

	for (k = 0; k < 300; k++) {
		char in[700];
		size_t n = (size_t)rand_r(&seed) % sizeof(in);
		struct buf enc = BUF_INIT, dec = BUF_INIT;

		fill_random(in, n, &seed);
		ck_assert_int_eq(mime_encode_base64(in, n, &enc), 0);
		check_lines(enc.data ? enc.data : "", enc.len, 1, "base64", "", 0);
		ck_assert_int_eq(mime_decode_base64(enc.data ? enc.data : "", enc.len, &dec, &why), 0);
		ck_assert(dec.len == n && memcmp(dec.data ? dec.data : "", in, n) == 0);
		buf_free(&enc);
		buf_free(&dec);
	}
	ck_assert_int_eq(mime_decode_base64("QUJD\r\nR", 7, &d, &why), -1);
	ck_assert_str_eq(why, "truncated base64");
	buf_reset(&d);
	ck_assert_int_eq(mime_decode_base64("QUJDRA", 6, &d, &why), -1);	/* unpadded: cut off */
	buf_reset(&d);
	ck_assert_int_eq(mime_decode_base64("QUJDRA==", 8, &d, &why), 0);
	ck_assert_str_eq(d.data, "ABCD");
	buf_reset(&d);
	ck_assert_int_eq(mime_decode_base64("QQ==QkM=", 8, &d, &why), -1);	/* concatenated */
	ck_assert_str_eq(why, "base64 data after padding");
	buf_reset(&d);
	ck_assert_int_eq(mime_decode_base64("QQ==\r\n=\r\n", 9, &d, &why), 0);
	ck_assert_str_eq(d.data, "A");
	buf_free(&d);
}
END_TEST

START_TEST(qp_decoder_lenient)
{
	struct buf d = BUF_INIT;
	const char *in = "a=3Db =ZZ c=\r\nd  \r\ne=4";

	/* like GMime: bad escapes kept, an escape cut off at the end dropped,
	 * blanks kept */
	ck_assert_int_eq(mime_decode_qp(in, strlen(in), &d), 0);
	ck_assert_str_eq(d.data, "a=b =ZZ cd  \r\ne");
	buf_free(&d);
}
END_TEST

/* The QP decoder agrees with GMime's on arbitrary (mostly malformed) input. */
START_TEST(qp_decoder_agrees_with_gmime)
{
	static const char alphabet[] = "= \t\r\nA3Dz\"\x80";
	unsigned seed = 11;
	int k;

	for (k = 0; k < 100000; k++) {
		char in[40];
		size_t n = (size_t)rand_r(&seed) % sizeof(in), i;
		struct buf d = BUF_INIT;
		GMimeStream *mem = g_mime_stream_mem_new(), *filt = g_mime_stream_filter_new(mem);
		GByteArray *ba;

		for (i = 0; i < n; i++)
			in[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		ck_assert_int_eq(mime_decode_qp(in, n, &d), 0);
		g_mime_stream_filter_add((GMimeStreamFilter *)filt,
			g_mime_filter_basic_new(GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, FALSE));
		g_mime_stream_write(filt, in, n);
		g_mime_stream_flush(filt);
		ba = g_mime_stream_mem_get_byte_array((GMimeStreamMem *)mem);
		ck_assert_msg(ba->len == d.len && (d.len == 0 || memcmp(ba->data, d.data, d.len) == 0),
			      "case %d: \"%.*s\"", k, (int)n, in);
		g_object_unref(filt);
		g_object_unref(mem);
		buf_free(&d);
	}
}
END_TEST

/* GMime's QP decoder on a buffer, for comparison. */
static void
gmime_decode_qp(const char *in, size_t n, struct buf *out)
{
	GMimeStream *mem = g_mime_stream_mem_new(), *filt = g_mime_stream_filter_new(mem);
	GByteArray *ba;

	g_mime_stream_filter_add((GMimeStreamFilter *)filt,
		g_mime_filter_basic_new(GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, FALSE));
	g_mime_stream_write(filt, in, n);
	g_mime_stream_flush(filt);
	ba = g_mime_stream_mem_get_byte_array((GMimeStreamMem *)mem);
	buf_append(out, ba->data, ba->len);
	g_object_unref(filt);
	g_object_unref(mem);
}

/* The decoder copies plain runs 8 bytes at a time: long runs with an "="
 * sequence (good, malformed, soft break, cut off) at every offset, and
 * random long input, still decode as GMime decodes them. */
START_TEST(qp_decoder_long_runs)
{
	static const char *const seqs[] = { "=3D", "=3d", "=\r\n", "=\n", "=ZZ", "=4", "=", "==41",
					    "=\r", "= \r\n", "=0A=0D" };
	static const char alphabet[] = "= \t\r\nA3Dz\x80";
	char in[400];
	unsigned seed = 5;
	size_t len, pos, k, n, i;

	for (len = 0; len < 40; len++)
		for (pos = 0; pos <= len; pos++)
			for (k = 0; k < sizeof(seqs) / sizeof(seqs[0]); k++) {
				struct buf d = BUF_INIT, g = BUF_INIT;

				memset(in, 'q', len);
				n = strlen(seqs[k]);
				memmove(in + pos + n, in + pos, len - pos);
				memcpy(in + pos, seqs[k], n);
				n += len;
				ck_assert_int_eq(mime_decode_qp(in, n, &d), 0);
				gmime_decode_qp(in, n, &g);
				ck_assert_msg(g.len == d.len && memcmp(g.data ? g.data : "", d.data ? d.data : "",
								       d.len) == 0,
					      "\"%.*s\"", (int)n, in);
				buf_free(&d);
				buf_free(&g);
			}
	for (k = 0; k < 3000; k++) {
		struct buf d = BUF_INIT, g = BUF_INIT;

		n = (size_t)rand_r(&seed) % sizeof(in);
		for (i = 0; i < n; i++) {
			unsigned r = (unsigned)rand_r(&seed);

			in[i] = r % 19 == 0 ? alphabet[(r >> 8) % (sizeof(alphabet) - 1)] :
				(char)(' ' + (r >> 8) % 95);
		}
		ck_assert_int_eq(mime_decode_qp(in, n, &d), 0);
		gmime_decode_qp(in, n, &g);
		ck_assert(g.len == d.len && memcmp(g.data ? g.data : "", d.data ? d.data : "", d.len) == 0);
		ck_assert(d.data == NULL || d.data[d.len] == '\0');
		buf_free(&d);
		buf_free(&g);
	}
}
END_TEST

START_TEST(may_contain_text)
{
	ck_assert_int_eq(mime_may_contain_text(NULL), 1);
	ck_assert_int_eq(mime_may_contain_text(""), 1);
	ck_assert_int_eq(mime_may_contain_text(" text/html; charset=utf-8"), 1);
	ck_assert_int_eq(mime_may_contain_text("TEXT/Plain"), 1);
	ck_assert_int_eq(mime_may_contain_text(" multipart/alternative; boundary=x"), 1);
	ck_assert_int_eq(mime_may_contain_text("Multipart/Mixed;boundary=\"y\""), 1);
	ck_assert_int_eq(mime_may_contain_text(" multipart/signed; protocol=x"), 0);
	ck_assert_int_eq(mime_may_contain_text("multipart/encrypted"), 0);
	ck_assert_int_eq(mime_may_contain_text(" application/pkcs7-mime; smime-type=x"), 0);
	ck_assert_int_eq(mime_may_contain_text("image/png"), 0);
	ck_assert_int_eq(mime_may_contain_text("message/rfc822"), 0);
	ck_assert_int_eq(mime_may_contain_text("garbage"), 1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* concurrency: the same answers from 4 threads at once */

struct thread_arg {
	int failures;
};

static void *
hammer(void *p)
{
	struct thread_arg *ta = p;
	int round, i;

	for (round = 0; round < 10; round++) {
		for (i = 0; i < NCORPUS; i++) {
			struct buf nb = BUF_INIT;
			struct msg m;
			char why[128];
			int r;

			if (load(corpus[i].name, &m) < 0) {
				ta->failures++;
				continue;
			}
			r = run_one(&corpus[i], &m, edit_cb, NULL, &nb, NULL, why, sizeof(why));
			if (r != corpus[i].edit_result)
				ta->failures++;
			buf_free(&nb);
			unload(&m);
		}
	}
	return NULL;
}

START_TEST(threads)
{
	pthread_t t[4];
	struct thread_arg a[4];
	int i;

	memset(a, 0, sizeof(a));
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &a[i]), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(a[i].failures, 0);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("mime");
	TCase *tc;

	mime_global_init();
	tc = tcase_create("corpus");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, corpus_identity, 0, NCORPUS);
	tcase_add_loop_test(tc, corpus_edit, 0, NCORPUS);
	tcase_add_loop_test(tc, corpus_edit_told, 0, NCORPUS);
	tcase_add_loop_test(tc, corpus_edit_sparse, 0, NCORPUS);
	tcase_add_loop_test(tc, truncated_corpus, 0, NCORPUS);
	tcase_add_loop_test(tc, corpus_reencode_all, 0, NCORPUS);
	tcase_add_loop_test(tc, top_level_headers_extra, 0, NCORPUS);
	suite_add_tcase(s, tc);
	tc = tcase_create("behaviour");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, charset_handling);
	tcase_add_test(tc, utf16_keeps_bom);
	tcase_add_test(tc, amp_removed_with_identity);
	tcase_add_test(tc, abort_leaves_everything);
	tcase_add_test(tc, depth_limit_configurable);
	tcase_add_test(tc, refused_edits);
	tcase_add_test(tc, boundary_lines);
	tcase_add_test(tc, minimal_inputs);
	tcase_add_test(tc, top_level_header_checks);
	tcase_add_test(tc, claimed_change_without_change);
	tcase_add_test(tc, amp_only_without_editor);
	tcase_add_test(tc, conversion_failures);
	tcase_add_test(tc, qp_round_trip);
	tcase_add_test(tc, qp_encoder_layout);
	tcase_add_test(tc, qp_encoder_matches_reference);
	tcase_add_test(tc, qp_matches_old_coders);
	tcase_add_test(tc, base64_round_trip);
	tcase_add_test(tc, qp_decoder_lenient);
	tcase_add_test(tc, qp_decoder_agrees_with_gmime);
	tcase_add_test(tc, qp_decoder_long_runs);
	tcase_add_test(tc, may_contain_text);
	tcase_add_test(tc, threads);
	suite_add_tcase(s, tc);
	return cm_run_suite(s);
}
