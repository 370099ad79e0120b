/* fuzz_html.c - libFuzzer target for the HTML tokenizer: tokenizes the input
 * under every option and content model and checks the span invariants
 * (inside the buffer, ordered, tags not overlapping, progress), that skipping
 * text does not change the markup tokens, that the decoders survive every
 * reported span, and that every tag, comment and DOCTYPE (positions and raw
 * values) equals what a literal byte-at-a-time transcription of the spec
 * states finds (html_ref.c), and that html_want_*_tags() pass over only tags
 * not asked for. Build and run with bench/fuzz.sh html SECONDS. */
#include "build-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "html.h"
#include "html_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXREC 4096

struct rec {
	enum html_kind kind;
	size_t start, end;
};

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void
check_in(struct html_span in, struct html_span out)
{
	CHECK(out.start <= in.start && in.start <= in.end && in.end <= out.end);
}

static void
decode_all(const char *b, const struct html_token *tok, struct buf *scratch)
{
	size_t i;

	buf_reset(scratch);
	if (tok->kind == HTML_TEXT)
		CHECK(html_decode_text(b, tok, scratch) == 0);
	for (i = 0; i < tok->nattrs; i++) {
		const struct html_attr *a = &tok->attrs[i];

		CHECK(html_decode_url(b + a->value.start, a->value.end - a->value.start, scratch) == 0);
	}
}

static void
same_bytes(const char *b, struct html_span s, const struct html_ref_result *ref, size_t off,
    size_t len)
{
	CHECK(s.end - s.start == len);
	CHECK(len == 0 || memcmp(b + s.start, ref->strs.data + off, len) == 0);
}

/* The token equals the reference's token number k. */
static void
same_as_ref(const char *b, const struct html_token *tok, const struct html_ref_result *ref,
    size_t k)
{
	const struct html_ref_tok *r;
	const struct html_ref_attr *ra;
	size_t i;

	CHECK(k < ref->n);
	r = &ref->toks[k];
	CHECK((int)tok->kind == r->kind);
	CHECK(tok->span.start == r->start && tok->span.end == r->end);
	switch (tok->kind) {
	case HTML_START_TAG:
	case HTML_END_TAG:
		same_bytes(b, tok->name, ref, r->name_off, r->name_len);
		CHECK(tok->self_closing == r->self_closing);
		CHECK(tok->nattrs == r->nattrs && tok->nattrs_total == r->nattrs_total);
		CHECK(r->attr_first + r->nattrs <= ref->nattrs);
		for (i = 0; i < tok->nattrs; i++) {
			ra = &ref->attrs[r->attr_first + i];
			same_bytes(b, tok->attrs[i].name, ref, ra->name_off, ra->name_len);
			CHECK(tok->attrs[i].has_value == ra->has_value);
			if (ra->has_value)
				same_bytes(b, tok->attrs[i].value, ref, ra->val_off, ra->val_len);
		}
		break;
	case HTML_COMMENT:
		same_bytes(b, tok->data, ref, r->name_off, r->name_len);
		break;
	case HTML_DOCTYPE:
		CHECK(tok->has_name == r->has_name && tok->has_public_id == r->has_pub &&
		    tok->has_system_id == r->has_sys && tok->force_quirks == r->quirks);
		if (r->has_name)
			same_bytes(b, tok->name, ref, r->name_off, r->name_len);
		if (r->has_pub)
			same_bytes(b, tok->public_id, ref, r->pub_off, r->pub_len);
		if (r->has_sys)
			same_bytes(b, tok->system_id, ref, r->sys_off, r->sys_len);
		break;
	default:
		break;
	}
}

/* One pass; records non-text tokens into r (up to MAXREC), returns count. */
static size_t
pass(const char *b, size_t len, unsigned opts, int model, struct rec *r, struct buf *scratch)
{
	struct html_tokenizer t;
	struct html_token tok;
	struct html_ref_result ref;
	size_t prev = 0, n = 0, calls = 0, i, k = 0;
	struct html_span all = { 0, len };

	memset(&ref, 0, sizeof(ref));
	html_ref_tokenize(b, len, opts, model, model >= 0 ? "script" : NULL, &ref);
	html_init(&t, b, len);
	html_set_options(&t, opts);
	if (model >= 0)
		html_set_model(&t, (enum html_model)model, "script");
	while (html_next(&t, &tok) != HTML_EOF) {
		CHECK(++calls <= len + 1);		/* progress */
		check_in(tok.span, all);
		CHECK(tok.span.start < tok.span.end);	/* every token consumes bytes */
		CHECK(prev <= tok.span.start);		/* ordered, no overlap */
		prev = tok.span.end;
		check_in(tok.name, tok.span);
		check_in(tok.data, tok.span);
		CHECK(tok.nattrs <= HTML_MAX_ATTRS && tok.nattrs <= tok.nattrs_total);
		CHECK(tok.attrs_overflow == (tok.nattrs_total > HTML_MAX_ATTRS));
		CHECK(tok.lname_len <= HTML_NAME_MAX);
		if (tok.kind == HTML_START_TAG || tok.kind == HTML_END_TAG) {
			CHECK(b[tok.span.start] == '<' && b[tok.span.end - 1] == '>');
			CHECK(tok.name.start < tok.name.end);
			CHECK(tok.name_has_nul == (tok.tag_id == HTML_TAG_OTHER &&
			    memchr(tok.lname, 0, tok.lname_len) != NULL));
		}
		if (tok.kind == HTML_COMMENT || tok.kind == HTML_DOCTYPE)
			CHECK(b[tok.span.start] == '<');
		if (tok.kind == HTML_DOCTYPE) {
			check_in(tok.public_id, tok.span);
			check_in(tok.system_id, tok.span);
		}
		for (i = 0; i < tok.nattrs; i++) {
			const struct html_attr *a = &tok.attrs[i];

			check_in(a->span, tok.span);
			check_in(a->name, a->span);
			check_in(a->value, a->span);
			CHECK(a->name.start < a->name.end);
			CHECK(i == 0 || tok.attrs[i - 1].span.end <= a->span.start);
			CHECK(tok.name.end <= a->span.start);
		}
		decode_all(b, &tok, scratch);
		if (tok.kind != HTML_TEXT)
			same_as_ref(b, &tok, &ref, k++);
		if (tok.kind != HTML_TEXT && n < MAXREC) {
			r[n].kind = tok.kind;
			r[n].start = tok.span.start;
			r[n].end = tok.span.end;
			n++;
		}
	}
	CHECK(tok.span.start == len);
	CHECK(k == ref.n);
	html_ref_free(&ref);
	return n;
}

struct idrec {
	enum html_kind kind;
	size_t start, end;
	unsigned tag_id, attr_known, has_nul;
};

/* Tokens (text skipped) with their ids; with WANT, only the tags asked for
 * by html_want_start_tags(START, ATTRS) and html_want_end_tags(END). */
static size_t
pass_ids(const char *b, size_t len, int want, uint64_t start, unsigned attrs, uint64_t end,
    struct idrec *r)
{
	struct html_tokenizer t;
	struct html_token tok;
	size_t n = 0;

	html_init(&t, b, len);
	html_set_options(&t, HTML_OPT_SKIP_TEXT);
	if (want) {
		html_want_start_tags(&t, start, attrs);
		html_want_end_tags(&t, end);
	}
	while (html_next(&t, &tok) != HTML_EOF && n < MAXREC) {
		r[n].kind = tok.kind;
		r[n].start = tok.span.start;
		r[n].end = tok.span.end;
		r[n].tag_id = tok.tag_id;
		r[n].attr_known = tok.kind == HTML_START_TAG || tok.kind == HTML_END_TAG ?
		    tok.attr_known : 0;
		r[n].has_nul = tok.kind == HTML_START_TAG || tok.kind == HTML_END_TAG ?
		    tok.name_has_nul : 0;
		n++;
	}
	return n;
}

/* html_want_*_tags(): the tokens are those of the full stream, less tags not
 * asked for; of those only start tags of elements that switch the content
 * model may still come (when they did switch it), and tags whose name holds
 * a NUL always come. */
static void
check_wanted(const char *in, size_t size, const uint8_t *data)
{
	static struct idrec full[MAXREC], some[MAXREC];
	const uint64_t model_tags = HTML_TAG_BIT(HTML_TAG_SVG) | HTML_TAG_BIT(HTML_TAG_MATH) |
	    HTML_TAG_BIT(HTML_TAG_XMP) | HTML_TAG_BIT(HTML_TAG_STYLE) |
	    HTML_TAG_BIT(HTML_TAG_IFRAME) | HTML_TAG_BIT(HTML_TAG_NOEMBED) |
	    HTML_TAG_BIT(HTML_TAG_NOFRAMES) | HTML_TAG_BIT(HTML_TAG_TITLE) |
	    HTML_TAG_BIT(HTML_TAG_TEXTAREA) | HTML_TAG_BIT(HTML_TAG_SCRIPT) |
	    HTML_TAG_BIT(HTML_TAG_PLAINTEXT);
	uint64_t start = 0, end = 0;
	unsigned attrs = 0;
	size_t nf, ns, i, j = 0;

	/* masks from the input's first bytes, so the fuzzer explores them */
	for (i = 0; i < 8 && i < size; i++) {
		start = start << 8 | data[i];
		end = end << 8 | data[size - 1 - i];
	}
	attrs = (unsigned)(start ^ (end >> 32));
	nf = pass_ids(in, size, 0, 0, 0, 0, full);
	ns = pass_ids(in, size, 1, start, attrs, end, some);
	if (nf == MAXREC || ns == MAXREC)
		return;
	for (i = 0; i < nf; i++) {
		const struct idrec *f = &full[i];
		int wanted = f->has_nul ? 1 : f->kind == HTML_START_TAG ?
		    ((start >> f->tag_id) & 1) || (f->attr_known & attrs) :
		    f->kind == HTML_END_TAG ? (int)((end >> f->tag_id) & 1) : 1;

		if (j < ns && some[j].start == f->start) {
			CHECK(some[j].kind == f->kind && some[j].end == f->end &&
			    some[j].tag_id == f->tag_id && some[j].attr_known == f->attr_known &&
			    some[j].has_nul == f->has_nul);
			CHECK(wanted || (f->kind == HTML_START_TAG && ((model_tags >> f->tag_id) & 1)) ||
			    f->kind == HTML_END_TAG);
			j++;
		} else {
			CHECK(!wanted);
		}
	}
	CHECK(j == ns);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rec a[MAXREC], b[MAXREC];
	static const unsigned opts[] = { 0, HTML_OPT_CDATA, HTML_OPT_NO_AUTO_MODEL };
	struct buf scratch = BUF_INIT;
	const char *in = (const char *)data;
	size_t i, na, nb;
	int m;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		/* skipping text must not change the markup tokens */
		na = pass(in, size, opts[i], -1, a, &scratch);
		nb = pass(in, size, opts[i] | HTML_OPT_SKIP_TEXT, -1, b, &scratch);
		CHECK(na == nb && memcmp(a, b, na * sizeof(a[0])) == 0);
	}
	for (m = HTML_MODEL_DATA; m <= HTML_MODEL_CDATA; m++)
		(void)pass(in, size, HTML_OPT_NO_AUTO_MODEL, m, a, &scratch);
	check_wanted(in, size, data);
	buf_free(&scratch);
	return 0;
}
