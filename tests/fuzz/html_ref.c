/* html_ref.c - a deliberately slow, literal transcription of the WHATWG
 * tokenizer states (one switch case per spec state, one byte at a time), used
 * only by the fuzz target to cross-check src/html.c, whose fast paths merge
 * states. It records each tag, comment and DOCTYPE with its '<' position, its
 * end, and its values built byte by byte exactly as the spec appends them
 * (raw: no lowercasing, no NUL replacement, no character references, which
 * never consume a byte that changes the structure). Text is not recorded. */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "html_ref.h"

enum st {
	DATA, RCDATA, RAWTEXT, SCRIPT, PLAINTEXT, CDATA, CDATA_BRACKET, CDATA_END,
	TAG_OPEN, END_TAG_OPEN, TAG_NAME,
	RCDATA_LT, RCDATA_END_OPEN, RCDATA_END_NAME,
	RAWTEXT_LT, RAWTEXT_END_OPEN, RAWTEXT_END_NAME,
	SCRIPT_LT, SCRIPT_END_OPEN, SCRIPT_END_NAME, SCRIPT_ESC_START, SCRIPT_ESC_START_DASH,
	SCRIPT_ESC, SCRIPT_ESC_DASH, SCRIPT_ESC_DD, SCRIPT_ESC_LT, SCRIPT_ESC_END_OPEN,
	SCRIPT_ESC_END_NAME, SCRIPT_DESC_START, SCRIPT_DESC, SCRIPT_DESC_DASH, SCRIPT_DESC_DD,
	SCRIPT_DESC_LT, SCRIPT_DESC_END,
	BEFORE_ATTR_NAME, ATTR_NAME, AFTER_ATTR_NAME, BEFORE_ATTR_VALUE, ATTR_VALUE_DQ,
	ATTR_VALUE_SQ, ATTR_VALUE_UQ, AFTER_ATTR_VALUE_Q, SELF_CLOSING,
	BOGUS_COMMENT, MARKUP_DECL, COMMENT_START, COMMENT_START_DASH, COMMENT, COMMENT_LT,
	COMMENT_LT_BANG, COMMENT_LT_BANG_DASH, COMMENT_LT_BANG_DD, COMMENT_END_DASH,
	COMMENT_END, COMMENT_END_BANG,
	DOCTYPE, BEFORE_DOCTYPE_NAME, DOCTYPE_NAME, AFTER_DOCTYPE_NAME, AFTER_PUBLIC_KW,
	BEFORE_PUBLIC_ID, PUBLIC_ID_DQ, PUBLIC_ID_SQ, AFTER_PUBLIC_ID, BETWEEN_IDS,
	AFTER_SYSTEM_KW, BEFORE_SYSTEM_ID, SYSTEM_ID_DQ, SYSTEM_ID_SQ, AFTER_SYSTEM_ID,
	BOGUS_DOCTYPE
};

#define EOFC (-1)

struct ref {
	struct html_ref_result *res;
	struct html_ref_tok cur;
	const unsigned char *b;
	size_t len;
	unsigned opts;
	char last[HTML_NAME_MAX + 1];
	size_t last_len;	/* 0: none */
	char tmp[64];		/* temporary buffer (lowercase), capped */
	size_t tmp_len;
	unsigned depth[2];
};

static int
is_ws(int c)
{
	return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
low(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static void
put(struct ref *r, size_t *field_len, int c)
{
	char ch = (char)c;

	if (buf_append(&r->res->strs, &ch, 1) < 0)
		abort();
	(*field_len)++;
}

static void
start_field(struct ref *r, size_t *off, size_t *len)
{
	*off = r->res->strs.len;
	*len = 0;
}

static void
new_token(struct ref *r, int kind, size_t lt)
{
	memset(&r->cur, 0, sizeof(r->cur));
	r->cur.kind = kind;
	r->cur.start = lt;
	r->cur.attr_first = r->res->nattrs;
	start_field(r, &r->cur.name_off, &r->cur.name_len);
}

/* The attribute being built (only meaningful while nattrs_total <= max). */
static struct html_ref_attr *
cur_attr(struct ref *r)
{
	return &r->res->attrs[r->res->nattrs - 1];
}

static void
new_attr(struct ref *r)
{
	struct html_ref_result *res = r->res;
	struct html_ref_attr *a;

	if (++r->cur.nattrs_total > HTML_MAX_ATTRS)
		return;
	if (res->nattrs == res->attrs_cap) {
		size_t cap = res->attrs_cap ? res->attrs_cap * 2 : 64;

		a = realloc(res->attrs, cap * sizeof(*a));
		if (a == NULL)
			abort();
		res->attrs = a;
		res->attrs_cap = cap;
	}
	a = &res->attrs[res->nattrs++];
	memset(a, 0, sizeof(*a));
	start_field(r, &a->name_off, &a->name_len);
	a->val_off = a->name_off;
}

static void
attr_put_name(struct ref *r, int c)
{
	if (r->cur.nattrs_total <= HTML_MAX_ATTRS)
		put(r, &cur_attr(r)->name_len, c);
}

static void
attr_start_value(struct ref *r)
{
	if (r->cur.nattrs_total <= HTML_MAX_ATTRS) {
		cur_attr(r)->has_value = 1;
		start_field(r, &cur_attr(r)->val_off, &cur_attr(r)->val_len);
	}
}

static void
attr_put_value(struct ref *r, int c)
{
	if (r->cur.nattrs_total <= HTML_MAX_ATTRS)
		put(r, &cur_attr(r)->val_len, c);
}

static const char *
str(const struct ref *r, size_t off)
{
	return r->res->strs.data + off;
}

/* The tokenizer's own content model switch (src/html.c), replicated. */
static int
auto_switch(struct ref *r)
{
	static const struct {
		const char *n;
		int st;
	} tab[] = {
		{ "title", RCDATA }, { "textarea", RCDATA }, { "style", RAWTEXT },
		{ "xmp", RAWTEXT }, { "iframe", RAWTEXT }, { "noembed", RAWTEXT },
		{ "noframes", RAWTEXT }, { "script", SCRIPT }, { "plaintext", PLAINTEXT },
	};
	char n[HTML_NAME_MAX + 1];
	size_t i, l = r->cur.name_len;
	int f;

	if ((r->opts & HTML_OPT_NO_AUTO_MODEL) || l > HTML_NAME_MAX)
		return DATA;
	for (i = 0; i < l; i++)
		n[i] = (char)low((unsigned char)str(r, r->cur.name_off)[i]);
	n[l] = '\0';
	f = (l == 3 && memcmp(n, "svg", 3) == 0) ? 0 : (l == 4 && memcmp(n, "math", 4) == 0) ? 1 : -1;
	if (f >= 0) {
		if (r->cur.kind == HTML_END_TAG) {
			if (r->depth[f])
				r->depth[f]--;
		} else if (!r->cur.self_closing)
			r->depth[f]++;
		return DATA;
	}
	if (r->cur.kind != HTML_START_TAG || r->depth[0] || r->depth[1])
		return DATA;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].n) == l && memcmp(tab[i].n, n, l) == 0) {
			memcpy(r->last, n, l + 1);
			r->last_len = l;
			return tab[i].st;
		}
	return DATA;
}

/* Emit the current token ending before `end`; returns the next state. */
static int
emit(struct ref *r, size_t end)
{
	struct html_ref_result *res = r->res;

	r->cur.end = end;
	r->cur.nattrs = r->cur.nattrs_total < HTML_MAX_ATTRS ? r->cur.nattrs_total : HTML_MAX_ATTRS;
	if (res->n == res->cap) {
		size_t cap = res->cap ? res->cap * 2 : 64;
		struct html_ref_tok *t = realloc(res->toks, cap * sizeof(*t));

		if (t == NULL)
			abort();
		res->toks = t;
		res->cap = cap;
	}
	res->toks[res->n++] = r->cur;
	if (r->cur.kind == HTML_START_TAG || r->cur.kind == HTML_END_TAG)
		return auto_switch(r);
	return DATA;
}

static int
appropriate(const struct ref *r)
{
	return r->last_len > 0 && r->tmp_len == r->last_len &&
	    r->cur.name_len == r->last_len && memcmp(r->tmp, r->last, r->last_len) == 0;
}

static void
tmp_put(struct ref *r, int c)
{
	if (r->tmp_len < sizeof(r->tmp) - 1)
		r->tmp[r->tmp_len] = (char)low(c);
	r->tmp_len++;
}

static int
tmp_is_script(const struct ref *r)
{
	return r->tmp_len == 6 && memcmp(r->tmp, "script", 6) == 0;
}

static int
casematch(const struct ref *r, size_t p, const char *w)
{
	size_t n = strlen(w), i;

	if (r->len - p < n)
		return 0;
	for (i = 0; i < n; i++)
		if (low(r->b[p + i]) != w[i])
			return 0;
	return 1;
}

/* The end-tag-name states of RCDATA, RAWTEXT, script, escaped script:
 * returns the next state, or -1 for "not appropriate: back to `text`". */
static int
end_tag_name(struct ref *r, int c, size_t p)
{
	if (is_ws(c) && appropriate(r))
		return BEFORE_ATTR_NAME;
	if (c == '/' && appropriate(r))
		return SELF_CLOSING;
	if (c == '>' && appropriate(r))
		return emit(r, p + 1);
	if (c != EOFC && is_alpha(c)) {
		put(r, &r->cur.name_len, c);
		tmp_put(r, c);
		return -2;
	}
	return -1;
}

void
html_ref_tokenize(const char *buf, size_t len, unsigned opts, int model, const char *last,
    struct html_ref_result *res)
{
	struct ref r;
	size_t p = 0, lt = 0;
	int st = DATA, c, q = 0, s;

	memset(&r, 0, sizeof(r));
	r.res = res;
	r.b = (const unsigned char *)buf;
	r.len = len;
	r.opts = opts;
	if (last != NULL && strlen(last) <= HTML_NAME_MAX) {
		r.last_len = strlen(last);
		memcpy(r.last, last, r.last_len + 1);
	}
	switch (model) {
	case HTML_MODEL_RCDATA: st = RCDATA; break;
	case HTML_MODEL_RAWTEXT: st = RAWTEXT; break;
	case HTML_MODEL_SCRIPT: st = SCRIPT; break;
	case HTML_MODEL_PLAINTEXT: st = PLAINTEXT; break;
	case HTML_MODEL_CDATA: st = CDATA; break;
	default: st = DATA; break;
	}
/* not do-while(0): `continue` must reach the for loop */
#define SW(x) { st = (x); p++; continue; }
#define RE(x) { st = (x); continue; }
	for (;;) {
		c = p < len ? r.b[p] : EOFC;
		switch (st) {
		case DATA:
			if (c == EOFC)
				return;
			if (c == '<')
				lt = p;
			SW(c == '<' ? TAG_OPEN : DATA);
		case RCDATA:
		case RAWTEXT:
		case SCRIPT:
			if (c == EOFC)
				return;
			if (c == '<') {
				lt = p;
				SW(st == RCDATA ? RCDATA_LT : st == RAWTEXT ? RAWTEXT_LT : SCRIPT_LT);
			}
			p++;
			continue;
		case PLAINTEXT:
			return;
		case CDATA:
			if (c == EOFC)
				return;
			SW(c == ']' ? CDATA_BRACKET : CDATA);
		case CDATA_BRACKET:
			if (c == ']')
				SW(CDATA_END);
			RE(CDATA);
		case CDATA_END:
			if (c == ']')
				SW(CDATA_END);
			if (c == '>')
				SW(DATA);
			RE(CDATA);
		case TAG_OPEN:
			if (c == '!')
				SW(MARKUP_DECL);
			if (c == '/')
				SW(END_TAG_OPEN);
			if (c != EOFC && is_alpha(c)) {
				new_token(&r, HTML_START_TAG, lt);
				RE(TAG_NAME);
			}
			if (c == '?') {
				new_token(&r, HTML_COMMENT, lt);
				RE(BOGUS_COMMENT);
			}
			RE(DATA);
		case END_TAG_OPEN:
			if (c != EOFC && is_alpha(c)) {
				new_token(&r, HTML_END_TAG, lt);
				RE(TAG_NAME);
			}
			if (c == '>')
				SW(DATA);
			if (c == EOFC)
				return;
			new_token(&r, HTML_COMMENT, lt);
			RE(BOGUS_COMMENT);
		case TAG_NAME:
			if (c == EOFC)
				return;
			if (is_ws(c))
				SW(BEFORE_ATTR_NAME);
			if (c == '/')
				SW(SELF_CLOSING);
			if (c == '>') {
				st = emit(&r, p + 1);
				p++;
				continue;
			}
			put(&r, &r.cur.name_len, c);
			p++;
			continue;
		case RCDATA_LT:
		case RAWTEXT_LT:
			if (c == '/') {
				r.tmp_len = 0;
				SW(st == RCDATA_LT ? RCDATA_END_OPEN : RAWTEXT_END_OPEN);
			}
			RE(st == RCDATA_LT ? RCDATA : RAWTEXT);
		case RCDATA_END_OPEN:
		case RAWTEXT_END_OPEN:
		case SCRIPT_END_OPEN:
		case SCRIPT_ESC_END_OPEN:
			if (c != EOFC && is_alpha(c)) {
				new_token(&r, HTML_END_TAG, lt);
				RE(st == RCDATA_END_OPEN ? RCDATA_END_NAME : st == RAWTEXT_END_OPEN ?
				    RAWTEXT_END_NAME : st == SCRIPT_END_OPEN ? SCRIPT_END_NAME :
				    SCRIPT_ESC_END_NAME);
			}
			RE(st == RCDATA_END_OPEN ? RCDATA : st == RAWTEXT_END_OPEN ? RAWTEXT :
			    st == SCRIPT_END_OPEN ? SCRIPT : SCRIPT_ESC);
		case RCDATA_END_NAME:
		case RAWTEXT_END_NAME:
		case SCRIPT_END_NAME:
		case SCRIPT_ESC_END_NAME:
			s = end_tag_name(&r, c, p);
			if (s == -2) {
				p++;
				continue;
			}
			if (s == -1)
				RE(st == RCDATA_END_NAME ? RCDATA : st == RAWTEXT_END_NAME ? RAWTEXT :
				    st == SCRIPT_END_NAME ? SCRIPT : SCRIPT_ESC);
			SW(s);
		case SCRIPT_LT:
			if (c == '/') {
				r.tmp_len = 0;
				SW(SCRIPT_END_OPEN);
			}
			if (c == '!')
				SW(SCRIPT_ESC_START);
			RE(SCRIPT);
		case SCRIPT_ESC_START:
			if (c == '-')
				SW(SCRIPT_ESC_START_DASH);
			RE(SCRIPT);
		case SCRIPT_ESC_START_DASH:
			if (c == '-')
				SW(SCRIPT_ESC_DD);
			RE(SCRIPT);
		case SCRIPT_ESC:
		case SCRIPT_ESC_DASH:
		case SCRIPT_ESC_DD:
			if (c == EOFC)
				return;
			if (c == '-')
				SW(st == SCRIPT_ESC ? SCRIPT_ESC_DASH : SCRIPT_ESC_DD);
			if (c == '<') {
				lt = p;
				SW(SCRIPT_ESC_LT);
			}
			if (c == '>' && st == SCRIPT_ESC_DD)
				SW(SCRIPT);
			SW(SCRIPT_ESC);
		case SCRIPT_ESC_LT:
			if (c == '/') {
				r.tmp_len = 0;
				SW(SCRIPT_ESC_END_OPEN);
			}
			if (c != EOFC && is_alpha(c)) {
				r.tmp_len = 0;
				RE(SCRIPT_DESC_START);
			}
			RE(SCRIPT_ESC);
		case SCRIPT_DESC_START:
		case SCRIPT_DESC_END:
			if (c != EOFC && (is_ws(c) || c == '/' || c == '>')) {
				if (st == SCRIPT_DESC_START)
					SW(tmp_is_script(&r) ? SCRIPT_DESC : SCRIPT_ESC);
				SW(tmp_is_script(&r) ? SCRIPT_ESC : SCRIPT_DESC);
			}
			if (c != EOFC && is_alpha(c)) {
				tmp_put(&r, c);
				p++;
				continue;
			}
			RE(st == SCRIPT_DESC_START ? SCRIPT_ESC : SCRIPT_DESC);
		case SCRIPT_DESC:
		case SCRIPT_DESC_DASH:
		case SCRIPT_DESC_DD:
			if (c == EOFC)
				return;
			if (c == '-')
				SW(st == SCRIPT_DESC ? SCRIPT_DESC_DASH : SCRIPT_DESC_DD);
			if (c == '<')
				SW(SCRIPT_DESC_LT);
			if (c == '>' && st == SCRIPT_DESC_DD)
				SW(SCRIPT);
			SW(SCRIPT_DESC);
		case SCRIPT_DESC_LT:
			if (c == '/') {
				r.tmp_len = 0;
				SW(SCRIPT_DESC_END);
			}
			RE(SCRIPT_DESC);
		case BEFORE_ATTR_NAME:
			if (c != EOFC && is_ws(c)) {
				p++;
				continue;
			}
			if (c == '/' || c == '>' || c == EOFC)
				RE(AFTER_ATTR_NAME);
			new_attr(&r);
			if (c == '=') {
				attr_put_name(&r, c);
				SW(ATTR_NAME);
			}
			RE(ATTR_NAME);
		case ATTR_NAME:
			if (c == EOFC || is_ws(c) || c == '/' || c == '>')
				RE(AFTER_ATTR_NAME);
			if (c == '=')
				SW(BEFORE_ATTR_VALUE);
			attr_put_name(&r, c);
			p++;
			continue;
		case AFTER_ATTR_NAME:
			if (c == EOFC)
				return;
			if (is_ws(c)) {
				p++;
				continue;
			}
			if (c == '/')
				SW(SELF_CLOSING);
			if (c == '=')
				SW(BEFORE_ATTR_VALUE);
			if (c == '>')
				SW(emit(&r, p + 1));
			new_attr(&r);
			RE(ATTR_NAME);
		case BEFORE_ATTR_VALUE:
			if (c != EOFC && is_ws(c)) {
				p++;
				continue;
			}
			attr_start_value(&r);
			if (c == '"')
				SW(ATTR_VALUE_DQ);
			if (c == '\'')
				SW(ATTR_VALUE_SQ);
			if (c == '>')
				SW(emit(&r, p + 1));
			RE(ATTR_VALUE_UQ);
		case ATTR_VALUE_DQ:
		case ATTR_VALUE_SQ:
			if (c == EOFC)
				return;
			if (c == (st == ATTR_VALUE_DQ ? '"' : '\''))
				SW(AFTER_ATTR_VALUE_Q);
			attr_put_value(&r, c);
			p++;
			continue;
		case ATTR_VALUE_UQ:
			if (c == EOFC)
				return;
			if (is_ws(c))
				SW(BEFORE_ATTR_NAME);
			if (c == '>')
				SW(emit(&r, p + 1));
			attr_put_value(&r, c);
			p++;
			continue;
		case AFTER_ATTR_VALUE_Q:
			if (c == EOFC)
				return;
			if (is_ws(c))
				SW(BEFORE_ATTR_NAME);
			if (c == '/')
				SW(SELF_CLOSING);
			if (c == '>')
				SW(emit(&r, p + 1));
			RE(BEFORE_ATTR_NAME);
		case SELF_CLOSING:
			if (c == EOFC)
				return;
			if (c == '>') {
				r.cur.self_closing = 1;
				SW(emit(&r, p + 1));
			}
			RE(BEFORE_ATTR_NAME);
		case BOGUS_COMMENT:
			if (c == EOFC) {
				emit(&r, p);
				return;
			}
			if (c == '>')
				SW(emit(&r, p + 1));
			put(&r, &r.cur.name_len, c);
			p++;
			continue;
		case MARKUP_DECL:
			if (len - p >= 2 && r.b[p] == '-' && r.b[p + 1] == '-') {
				new_token(&r, HTML_COMMENT, lt);
				p += 2;
				RE(COMMENT_START);
			}
			if (casematch(&r, p, "doctype")) {
				new_token(&r, HTML_DOCTYPE, lt);
				p += 7;
				RE(DOCTYPE);
			}
			if ((opts & HTML_OPT_CDATA) && len - p >= 7 && memcmp(r.b + p, "[CDATA[", 7) == 0) {
				p += 7;
				RE(CDATA);
			}
			new_token(&r, HTML_COMMENT, lt);
			RE(BOGUS_COMMENT);
		case COMMENT_START:
			if (c == '-')
				SW(COMMENT_START_DASH);
			if (c == '>')
				SW(emit(&r, p + 1));
			RE(COMMENT);
		case COMMENT_START_DASH:
			if (c == '-')
				SW(COMMENT_END);
			if (c == '>')
				SW(emit(&r, p + 1));
			if (c == EOFC) {
				emit(&r, p);
				return;
			}
			put(&r, &r.cur.name_len, '-');
			RE(COMMENT);
		case COMMENT:
			if (c == EOFC) {
				emit(&r, p);
				return;
			}
			if (c == '<') {
				put(&r, &r.cur.name_len, c);
				SW(COMMENT_LT);
			}
			if (c == '-')
				SW(COMMENT_END_DASH);
			put(&r, &r.cur.name_len, c);
			p++;
			continue;
		case COMMENT_LT:
			if (c == '!') {
				put(&r, &r.cur.name_len, c);
				SW(COMMENT_LT_BANG);
			}
			if (c == '<') {
				put(&r, &r.cur.name_len, c);
				p++;
				continue;
			}
			RE(COMMENT);
		case COMMENT_LT_BANG:
			if (c == '-')
				SW(COMMENT_LT_BANG_DASH);
			RE(COMMENT);
		case COMMENT_LT_BANG_DASH:
			if (c == '-')
				SW(COMMENT_LT_BANG_DD);
			RE(COMMENT_END_DASH);
		case COMMENT_LT_BANG_DD:
			RE(COMMENT_END);
		case COMMENT_END_DASH:
			if (c == '-')
				SW(COMMENT_END);
			if (c == EOFC) {
				emit(&r, p);
				return;
			}
			put(&r, &r.cur.name_len, '-');
			RE(COMMENT);
		case COMMENT_END:
			if (c == '>')
				SW(emit(&r, p + 1));
			if (c == '!')
				SW(COMMENT_END_BANG);
			if (c == '-') {
				put(&r, &r.cur.name_len, '-');
				p++;
				continue;
			}
			if (c == EOFC) {
				emit(&r, p);
				return;
			}
			put(&r, &r.cur.name_len, '-');
			put(&r, &r.cur.name_len, '-');
			RE(COMMENT);
		case COMMENT_END_BANG:
			if (c == '-') {
				put(&r, &r.cur.name_len, '-');
				put(&r, &r.cur.name_len, '-');
				put(&r, &r.cur.name_len, '!');
				SW(COMMENT_END_DASH);
			}
			if (c == '>')
				SW(emit(&r, p + 1));
			if (c == EOFC) {
				emit(&r, p);
				return;
			}
			put(&r, &r.cur.name_len, '-');
			put(&r, &r.cur.name_len, '-');
			put(&r, &r.cur.name_len, '!');
			RE(COMMENT);
		case DOCTYPE:
			if (c == EOFC) {
				r.cur.quirks = 1;
				emit(&r, p);
				return;
			}
			if (is_ws(c))
				SW(BEFORE_DOCTYPE_NAME);
			RE(BEFORE_DOCTYPE_NAME);
		case BEFORE_DOCTYPE_NAME:
			if (c == EOFC) {
				r.cur.quirks = 1;
				emit(&r, p);
				return;
			}
			if (is_ws(c)) {
				p++;
				continue;
			}
			if (c == '>') {
				r.cur.quirks = 1;
				SW(emit(&r, p + 1));
			}
			r.cur.has_name = 1;
			start_field(&r, &r.cur.name_off, &r.cur.name_len);
			put(&r, &r.cur.name_len, c);
			SW(DOCTYPE_NAME);
		case DOCTYPE_NAME:
			if (c == EOFC) {
				r.cur.quirks = 1;
				emit(&r, p);
				return;
			}
			if (is_ws(c))
				SW(AFTER_DOCTYPE_NAME);
			if (c == '>')
				SW(emit(&r, p + 1));
			put(&r, &r.cur.name_len, c);
			p++;
			continue;
		case AFTER_DOCTYPE_NAME:
			if (c == EOFC) {
				r.cur.quirks = 1;
				emit(&r, p);
				return;
			}
			if (is_ws(c)) {
				p++;
				continue;
			}
			if (c == '>')
				SW(emit(&r, p + 1));
			if (casematch(&r, p, "public")) {
				p += 6;
				RE(AFTER_PUBLIC_KW);
			}
			if (casematch(&r, p, "system")) {
				p += 6;
				RE(AFTER_SYSTEM_KW);
			}
			r.cur.quirks = 1;
			RE(BOGUS_DOCTYPE);
		case AFTER_PUBLIC_KW:
		case BEFORE_PUBLIC_ID:
		case AFTER_SYSTEM_KW:
		case BEFORE_SYSTEM_ID:
		case AFTER_PUBLIC_ID:
		case BETWEEN_IDS: {
			int pub = st == AFTER_PUBLIC_KW || st == BEFORE_PUBLIC_ID;

			if (c == EOFC) {
				r.cur.quirks = 1;
				emit(&r, p);
				return;
			}
			if (is_ws(c)) {
				if (st == AFTER_PUBLIC_KW)
					st = BEFORE_PUBLIC_ID;
				else if (st == AFTER_SYSTEM_KW)
					st = BEFORE_SYSTEM_ID;
				else if (st == AFTER_PUBLIC_ID)
					st = BETWEEN_IDS;
				p++;
				continue;
			}
			if (c == '>') {
				if (st != AFTER_PUBLIC_ID && st != BETWEEN_IDS)
					r.cur.quirks = 1;
				SW(emit(&r, p + 1));
			}
			if (c == '"' || c == '\'') {
				q = c;
				if (pub) {
					r.cur.has_pub = 1;
					start_field(&r, &r.cur.pub_off, &r.cur.pub_len);
					SW(c == '"' ? PUBLIC_ID_DQ : PUBLIC_ID_SQ);
				}
				r.cur.has_sys = 1;
				start_field(&r, &r.cur.sys_off, &r.cur.sys_len);
				SW(c == '"' ? SYSTEM_ID_DQ : SYSTEM_ID_SQ);
			}
			r.cur.quirks = 1;
			RE(BOGUS_DOCTYPE);
		}
		case PUBLIC_ID_DQ:
		case PUBLIC_ID_SQ:
		case SYSTEM_ID_DQ:
		case SYSTEM_ID_SQ:
			if (c == EOFC) {
				r.cur.quirks = 1;
				emit(&r, p);
				return;
			}
			if (c == q)
				SW(st == PUBLIC_ID_DQ || st == PUBLIC_ID_SQ ? AFTER_PUBLIC_ID : AFTER_SYSTEM_ID);
			if (c == '>') {
				r.cur.quirks = 1;
				SW(emit(&r, p + 1));
			}
			if (st == PUBLIC_ID_DQ || st == PUBLIC_ID_SQ)
				put(&r, &r.cur.pub_len, c);
			else
				put(&r, &r.cur.sys_len, c);
			p++;
			continue;
		case AFTER_SYSTEM_ID:
			if (c == EOFC) {
				r.cur.quirks = 1;
				emit(&r, p);
				return;
			}
			if (is_ws(c)) {
				p++;
				continue;
			}
			if (c == '>')
				SW(emit(&r, p + 1));
			RE(BOGUS_DOCTYPE);
		case BOGUS_DOCTYPE:
			if (c == EOFC) {
				emit(&r, p);
				return;
			}
			if (c == '>')
				SW(emit(&r, p + 1));
			p++;
			continue;
		}
	}
}

void
html_ref_free(struct html_ref_result *res)
{
	free(res->toks);
	free(res->attrs);
	buf_free(&res->strs);
	memset(res, 0, sizeof(*res));
}
