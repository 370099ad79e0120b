/* css.c - finds every fetchable URL in a style attribute or a <style>
 * element, with its context, and reads the box properties of inline styles.
 *
 * A small CSS Syntax Level 3 tokeniser (lex) feeds a block-aware statement
 * reader (css_next_url). Neither allocates: names are decoded into fixed
 * buffers, the block stack is a fixed array, and the decoded URL goes into
 * the caller's buffer. Everything is a forward scan; the only look-ahead
 * (finding where the statement that holds a URL ends) runs once per
 * statement, so the whole scan stays linear.
 */
#include "build-config.h"
#include "css.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- token types -------------------------------------------------------- */
enum tok_type {
	T_EOF, T_WS, T_COMMENT, T_STRING, T_BADSTRING, T_IDENT, T_FUNCTION,
	T_URL,		/* url(unquoted) or a bad url */
	T_URLFN,	/* url("...") or src("..."): the whole function */
	T_AT, T_NUMBER, T_DELIM, T_COLON, T_SEMI, T_COMMA,
	T_LBRACE, T_RBRACE, T_LPAREN, T_RPAREN, T_LBRACKET, T_RBRACKET,
	T_CDO, T_CDC
};

#define NAME_MAX_LEN CSS_PROP_MAX

struct tok {
	enum tok_type type;
	size_t start, end;	/* whole token */
	size_t vstart, vend;	/* string contents / raw url */
	int bad;		/* bad url, bad string inside a url function */
	int unclosed;		/* input ended inside the token */
	int is_src;		/* T_URLFN: src("...") rather than url("...") */
	char name[NAME_MAX_LEN];	/* ident / function / at-keyword, lower-case */
};

/* ---- character classes -------------------------------------------------- */
/* One table lookup per byte: the tokeniser spends most of its time here.
 * The table is constant, so threads share it without a lock. */
#define C_WS	0x01u	/* space, tab, newline, CR, FF */
#define C_NL	0x02u	/* newline, CR, FF */
#define C_HEX	0x04u
#define C_DIGIT	0x08u
#define C_NSTART 0x10u	/* letter, _, non-ASCII */
#define C_NAME	0x20u	/* name-start, digit, - */

/* Generated from the definitions above; ASCII order. */
static const unsigned char cclass[256] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00, 0x03, 0x03, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00,
	0x2c, 0x2c, 0x2c, 0x2c, 0x2c, 0x2c, 0x2c, 0x2c, 0x2c, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x34, 0x34, 0x34, 0x34, 0x34, 0x34, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x00, 0x00, 0x00, 0x00, 0x30,
	0x00, 0x34, 0x34, 0x34, 0x34, 0x34, 0x34, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
};

#define is_ws(c)	(cclass[(unsigned char)(c)] & C_WS)
#define is_nl(c)	(cclass[(unsigned char)(c)] & C_NL)
#define is_hex(c)	(cclass[(unsigned char)(c)] & C_HEX)
#define is_digit(c)	(cclass[(unsigned char)(c)] & C_DIGIT)
#define is_name_start(c) (cclass[(unsigned char)(c)] & C_NSTART)
#define is_name(c)	(cclass[(unsigned char)(c)] & C_NAME)

static int
hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* A backslash at P starts a valid escape unless a newline follows it. */
static int
valid_escape(const char *s, size_t len, size_t p)
{
	return p < len && s[p] == '\\' && !(p + 1 < len && is_nl((unsigned char)s[p + 1]));
}

static int
starts_ident(const char *s, size_t len, size_t p)
{
	unsigned char c;

	if (p >= len)
		return 0;
	c = (unsigned char)s[p];
	if (c == '-') {
		if (p + 1 >= len)
			return 0;
		c = (unsigned char)s[p + 1];
		return is_name_start(c) || c == '-' || valid_escape(s, len, p + 1);
	}
	return is_name_start(c) || valid_escape(s, len, p);
}

static int
starts_number(const char *s, size_t len, size_t p)
{
	unsigned char c = (unsigned char)s[p];

	if (is_digit(c))
		return 1;
	if (c == '.')
		return p + 1 < len && is_digit((unsigned char)s[p + 1]);
	if (c == '+' || c == '-') {
		if (p + 1 < len && is_digit((unsigned char)s[p + 1]))
			return 1;
		return p + 2 < len && s[p + 1] == '.' && is_digit((unsigned char)s[p + 2]);
	}
	return 0;
}

/* Skip one newline at P (CRLF counts as one); returns the position after. */
static size_t
skip_nl(const char *s, size_t len, size_t p)
{
	if (s[p] == '\r' && p + 1 < len && s[p + 1] == '\n')
		return p + 2;
	return p + 1;
}

/* ---- escapes ------------------------------------------------------------- */

/* Decode the escape whose backslash is at P (valid_escape is true). Stores
 * the code point in *cp, or -1 for "a literal byte: copy s[p+1]" (keeps
 * UTF-8 sequences intact byte by byte). Returns the position after it. */
static size_t
read_escape(const char *s, size_t len, size_t p, long *cp)
{
	long v = 0;
	int n = 0;

	p++;
	if (p >= len) {
		*cp = 0xFFFD;
		return p;
	}
	if (!is_hex((unsigned char)s[p])) {
		*cp = -1;
		return p + 1;
	}
	while (p < len && n < 6 && is_hex((unsigned char)s[p])) {
		v = v * 16 + hex_val((unsigned char)s[p]);
		p++;
		n++;
	}
	if (p < len && is_ws((unsigned char)s[p]))
		p = skip_nl(s, len, p);
	if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		v = 0xFFFD;
	*cp = v;
	return p;
}

/* Append code point CP as UTF-8 to OUT[*n], at most CAP bytes; returns 0 if cut. */
static int
put_utf8(char *out, size_t cap, size_t *n, long cp)
{
	unsigned char b[4];
	size_t k, i;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		k = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
		k = 4;
	}
	if (*n + k > cap)
		return 0;
	for (i = 0; i < k; i++)
		out[(*n)++] = (char)b[i];
	return 1;
}

/* Decode S[start, end) - string contents, or an unquoted url with IN_URL -
 * into OUT (size CAP >= 1, NUL-terminated). Line continuations (backslash
 * newline) vanish; a backslash at the very end is nothing in a string and
 * U+FFFD in a url; NUL bytes become U+FFFD, as CSS preprocessing does. Sets
 * *cut when OUT was too small. Returns the decoded length. */
static size_t
decode_css(const char *s, size_t start, size_t end, int in_url, char *out, size_t cap,
    int *cut)
{
	size_t p = start, n = 0;
	long cp;

	*cut = 0;
	if (cap == 0)
		return 0;
	cap--;		/* room for the NUL */
	while (p < end) {
		if (s[p] == '\\') {
			if (p + 1 < end && is_nl((unsigned char)s[p + 1])) {
				p = skip_nl(s, end, p + 1);
				continue;
			}
			if (p + 1 >= end) {
				p++;
				if (in_url && !put_utf8(out, cap, &n, 0xFFFD))
					*cut = 1;
				continue;
			}
			p = read_escape(s, end, p, &cp);
			if (cp < 0) {
				cp = (unsigned char)s[p - 1];
				if (n >= cap) {
					*cut = 1;
					break;
				}
				out[n++] = (char)cp;
			} else if (!put_utf8(out, cap, &n, cp)) {
				*cut = 1;
				break;
			}
			continue;
		}
		if (s[p] == '\0') {
			if (!put_utf8(out, cap, &n, 0xFFFD)) {
				*cut = 1;
				break;
			}
			p++;
			continue;
		}
		if (n >= cap) {
			*cut = 1;
			break;
		}
		out[n++] = s[p++];
	}
	out[n] = '\0';
	return n;
}

/* ---- the tokeniser -------------------------------------------------------- */

/* The end of the identifier (or unit) at P, without decoding it. */
static size_t
skip_name(const char *s, size_t len, size_t p)
{
	long cp;

	while (p < len) {
		if (is_name(s[p]))
			p++;
		else if (valid_escape(s, len, p))
			p = read_escape(s, len, p, &cp);
		else
			break;
	}
	return p;
}

/* Read an identifier at P into t->name (lower-cased, escapes decoded, cut at
 * NAME_MAX_LEN - 1); returns the position after it. */
static size_t
read_name(const char *s, size_t len, size_t p, struct tok *t)
{
	size_t n = 0;
	long cp;

	while (p < len) {
		unsigned char c = (unsigned char)s[p];

		if (is_name(c)) {
			if (n + 1 < NAME_MAX_LEN)
				t->name[n++] = (char)lower(c);
			p++;
		} else if (valid_escape(s, len, p)) {
			p = read_escape(s, len, p, &cp);
			if (cp < 0) {
				if (n + 1 < NAME_MAX_LEN)
					t->name[n++] = (char)lower((unsigned char)s[p - 1]);
			} else if (cp < 0x80) {
				if (n + 1 < NAME_MAX_LEN)
					t->name[n++] = (char)lower((unsigned char)cp);
			} else if (n + 5 < NAME_MAX_LEN) {
				put_utf8(t->name, NAME_MAX_LEN - 1, &n, cp);
			}
		} else {
			break;
		}
	}
	t->name[n] = '\0';
	return p;
}

/* Read a string whose quote is at P. Sets vstart/vend to the contents and
 * returns the position after the closing quote (or before the newline that
 * makes it a bad string, or the end). */
static size_t
read_string(const char *s, size_t len, size_t p, struct tok *t)
{
	char q = s[p];

	p++;
	t->vstart = p;
	t->type = T_STRING;
	while (p < len) {
		unsigned char c = (unsigned char)s[p];

		if (c == (unsigned char)q) {
			t->vend = p;
			return p + 1;
		}
		if (is_nl(c)) {
			t->type = T_BADSTRING;
			t->vend = p;
			return p;
		}
		if (c == '\\') {
			if (p + 1 >= len) {
				p++;
				break;
			}
			if (is_nl((unsigned char)s[p + 1])) {
				p = skip_nl(s, len, p + 1);
			} else {
				long cp;

				/* a hex escape eats one blank after it, even a newline */
				p = read_escape(s, len, p, &cp);
			}
			continue;
		}
		p++;
	}
	t->vend = p;
	t->unclosed = 1;
	return p;
}

/* Skip a comment at P ("/" "*"); returns the position after it. */
static size_t
skip_comment(const char *s, size_t len, size_t p)
{
	const char *e;

	if (p + 2 >= len)
		return len;
	e = memmem(s + p + 2, len - p - 2, "*/", 2);
	return e ? (size_t)(e - s) + 2 : len;
}

static size_t
skip_ws_comments(const char *s, size_t len, size_t p)
{
	while (p < len) {
		if (is_ws((unsigned char)s[p]))
			p++;
		else if (s[p] == '/' && p + 1 < len && s[p + 1] == '*')
			p = skip_comment(s, len, p);
		else
			break;
	}
	return p;
}

static void lex(const char *s, size_t len, size_t p, struct tok *t, unsigned flags);

#define LEX_NAMES	1u	/* decode identifier names (function names always are) */
#define LEX_NO_URLFN	2u	/* url("...") is a plain function: no recursion */

/* Skip to after the `)` closing a function whose arguments start at P,
 * token by token, so that strings, comments, escapes, url tokens and nested
 * blocks are what they are for a browser: a `)` inside a nested [] or {}
 * does not close it. */
static size_t
skip_to_close_paren(const char *s, size_t len, size_t p, int *unclosed)
{
	unsigned char close[CSS_MAX_DEPTH], c;
	size_t depth = 0;
	struct tok t;

	while (p < len) {
		lex(s, len, p, &t, LEX_NO_URLFN);
		p = t.end;
		switch (t.type) {
		case T_LPAREN: case T_FUNCTION:
			c = ')';
			break;
		case T_LBRACKET:
			c = ']';
			break;
		case T_LBRACE:
			c = '}';
			break;
		case T_RPAREN: case T_RBRACKET: case T_RBRACE:
			c = t.type == T_RPAREN ? ')' : t.type == T_RBRACKET ? ']' : '}';
			if (depth == 0) {
				if (c == ')')
					return p;
			} else if (depth > CSS_MAX_DEPTH || close[depth - 1] == c) {
				depth--;
			}
			continue;
		default:
			continue;
		}
		if (depth < CSS_MAX_DEPTH)
			close[depth] = c;
		depth++;
	}
	*unclosed = 1;
	return len;
}

/* The unquoted url token: P is just after `url(` and its whitespace. */
static size_t
read_unquoted_url(const char *s, size_t len, size_t p, struct tok *t)
{
	size_t last_non_ws;

	t->type = T_URL;
	t->vstart = p;
	last_non_ws = p;
	while (p < len) {
		unsigned char c = (unsigned char)s[p];

		if (c == ')') {
			t->vend = last_non_ws;
			return p + 1;
		}
		if (is_ws(c)) {
			size_t q = p;

			while (q < len && is_ws((unsigned char)s[q]))
				q++;
			if (q >= len || s[q] == ')') {
				p = q;
				continue;
			}
			t->bad = 1;
			p = q;
			continue;
		}
		if (c == '"' || c == '\'' || c == '(' || (c < 0x20 && c != 0) || c == 0x7F) {
			t->bad = 1;
			p++;
			last_non_ws = p;
			continue;
		}
		if (c == '\\') {
			if (!valid_escape(s, len, p)) {
				t->bad = 1;
				p++;
			} else {
				long cp;

				p = read_escape(s, len, p, &cp);
			}
			last_non_ws = p;
			continue;
		}
		p++;
		last_non_ws = p;
	}
	t->vend = last_non_ws;
	t->unclosed = 1;
	return len;
}

/* url( or src( followed by a quote: a function with a string argument. P is
 * at the quote. The token runs to the matching `)`. */
static size_t
read_url_function(const char *s, size_t len, size_t p, struct tok *t)
{
	struct tok str;

	memset(&str, 0, sizeof(str));
	p = read_string(s, len, p, &str);
	t->type = T_URLFN;
	t->vstart = str.vstart;
	t->vend = str.vend;
	if (str.type == T_BADSTRING)
		t->bad = 1;
	p = skip_ws_comments(s, len, p);
	if (p < len && s[p] == ')')
		return p + 1;
	if (p < len)
		t->bad = 1;	/* `url("a" x)`: extra arguments */
	return skip_to_close_paren(s, len, p, &t->unclosed);
}

/* Read the token at P into *t. Function and at-keyword names are always
 * decoded into t->name; identifier names only with LEX_NAMES (decoding
 * every identifier of a value is most of the cost of a scan). */
static void
lex(const char *s, size_t len, size_t p, struct tok *t, unsigned flags)
{
	int want_name = (flags & LEX_NAMES) != 0;

	unsigned char c;

	t->start = p;
	t->bad = 0;
	t->unclosed = 0;
	t->is_src = 0;
	t->name[0] = '\0';
	t->vstart = t->vend = p;
	if (p >= len) {
		t->type = T_EOF;
		t->end = p;
		return;
	}
	c = (unsigned char)s[p];
	if (is_ws(c)) {
		while (p < len && is_ws((unsigned char)s[p]))
			p++;
		t->type = T_WS;
	} else if (c == '/' && p + 1 < len && s[p + 1] == '*') {
		p = skip_comment(s, len, p);
		t->type = T_COMMENT;
	} else if (c == '"' || c == '\'') {
		p = read_string(s, len, p, t);
	} else if (c == '-' && len - p >= 3 && memcmp(s + p, "-->", 3) == 0) {
		p += 3;
		t->type = T_CDC;
	} else if (starts_number(s, len, p)) {
		p++;
		while (p < len && (is_digit((unsigned char)s[p]) || s[p] == '.'))
			p++;
		if (p < len && (s[p] == 'e' || s[p] == 'E') && p + 1 < len &&
		    (is_digit((unsigned char)s[p + 1]) ||
		    ((s[p + 1] == '+' || s[p + 1] == '-') && p + 2 < len &&
		    is_digit((unsigned char)s[p + 2]))))
			for (p += 2; p < len && is_digit((unsigned char)s[p]); p++)
				;
		if (p < len && s[p] == '%')
			p++;
		else if (starts_ident(s, len, p))
			p = skip_name(s, len, p);
		t->type = T_NUMBER;
	} else if (starts_ident(s, len, p)) {
		size_t e = skip_name(s, len, p);

		if (e < len && s[e] == '(')
			want_name = 1;
		if (want_name)
			e = read_name(s, len, p, t);
		p = e;
		if (p < len && s[p] == '(') {
			size_t q = p + 1;

			p++;
			t->type = T_FUNCTION;
			if (strcmp(t->name, "url") == 0 || strcmp(t->name, "src") == 0) {
				while (q < len && is_ws((unsigned char)s[q]))
					q++;
				if (q < len && (s[q] == '"' || s[q] == '\'')) {
					if (!(flags & LEX_NO_URLFN)) {
						t->is_src = t->name[0] == 's';
						p = read_url_function(s, len, q, t);
					}
				} else if (t->name[0] == 'u') {
					p = read_unquoted_url(s, len, q, t);
				}
			}
		} else {
			t->type = T_IDENT;
		}
	} else if (c == '#' && p + 1 < len && (is_name((unsigned char)s[p + 1]) ||
	    valid_escape(s, len, p + 1))) {
		/* a hash token: `#url(` is not a url */
		p = read_name(s, len, p + 1, t);
		t->type = T_DELIM;
	} else if (c == '@' && starts_ident(s, len, p + 1)) {
		p = read_name(s, len, p + 1, t);
		t->type = T_AT;
	} else if (c == '<' && len - p >= 4 && memcmp(s + p, "<!--", 4) == 0) {
		p += 4;
		t->type = T_CDO;
	} else {
		p++;
		switch (c) {
		case ':': t->type = T_COLON; break;
		case ';': t->type = T_SEMI; break;
		case ',': t->type = T_COMMA; break;
		case '{': t->type = T_LBRACE; break;
		case '}': t->type = T_RBRACE; break;
		case '(': t->type = T_LPAREN; break;
		case ')': t->type = T_RPAREN; break;
		case '[': t->type = T_LBRACKET; break;
		case ']': t->type = T_RBRACKET; break;
		case '\\':
			/* a backslash before a newline is a delim; keep the newline */
			t->type = T_DELIM;
			break;
		default: t->type = T_DELIM; break;
		}
	}
	t->end = p;
}

/* ---- statement reader ------------------------------------------------------ */

enum block_kind { B_RULES, B_DECLS };

enum state { ST_START, ST_QPRELUDE, ST_AT_PRELUDE, ST_DECL_NAME, ST_DECL_VALUE };

enum at_kind { AT_OTHER, AT_IMPORT, AT_MEDIA, AT_FONT_FACE, AT_RULES_BLOCK, AT_DECLS_BLOCK };

enum fn_kind { FN_OTHER, FN_IMAGE_SET };

static unsigned
cur_flags(const struct css_scanner *sc)
{
	size_t d = sc->depth < CSS_MAX_DEPTH ? sc->depth : CSS_MAX_DEPTH;

	return sc->flags[d - 1];
}

static enum block_kind
cur_kind(const struct css_scanner *sc)
{
	if (sc->depth > CSS_MAX_DEPTH)
		return B_DECLS;
	return (enum block_kind)sc->kind[sc->depth - 1];
}

static void
push_block(struct css_scanner *sc, enum block_kind k, unsigned flags)
{
	if (sc->depth < CSS_MAX_DEPTH) {
		sc->kind[sc->depth] = (unsigned char)k;
		sc->flags[sc->depth] = flags;
	}
	sc->depth++;
	sc->state = ST_START;
	sc->vdepth = 0;
}

static void
pop_block(struct css_scanner *sc)
{
	if (sc->depth > 1)
		sc->depth--;
	sc->state = ST_START;
	sc->vdepth = 0;
}

void
css_scan_init(struct css_scanner *sc, const char *css, size_t len, enum css_mode mode)
{
	memset(sc, 0, sizeof(*sc));
	sc->css = css ? css : "";
	sc->len = css ? len : 0;
	sc->mode = mode;
	sc->depth = 1;
	sc->kind[0] = mode == CSS_STYLE_ATTR ? B_DECLS : B_RULES;
	sc->flags[0] = 0;
	sc->state = ST_START;
}

static void
classify_at(struct css_scanner *sc, const char *name)
{
	unsigned f = cur_flags(sc);

	sc->import_url_seen = 0;
	if (strcmp(name, "import") == 0) {
		sc->at_kind = AT_IMPORT;
		sc->at_flags = f;
	} else if (strcmp(name, "media") == 0) {
		sc->at_kind = AT_MEDIA;
		sc->at_flags = f | CSS_IN_MEDIA;
	} else if (strcmp(name, "font-face") == 0) {
		sc->at_kind = AT_FONT_FACE;
		sc->at_flags = f | CSS_IN_FONT_FACE;
	} else if (strcmp(name, "page") == 0 || strcmp(name, "counter-style") == 0 ||
	    strcmp(name, "font-palette-values") == 0 || strcmp(name, "property") == 0 ||
	    strcmp(name, "viewport") == 0 || strcmp(name, "-ms-viewport") == 0) {
		sc->at_kind = AT_DECLS_BLOCK;
		sc->at_flags = f | CSS_IN_AT_BLOCK;
	} else {
		sc->at_kind = AT_RULES_BLOCK;	/* @supports, @keyframes, @layer, unknown */
		sc->at_flags = f | CSS_IN_AT_BLOCK;
	}
}

/* Does closing byte C close the innermost of DEPTH open blocks whose
 * closers are CLOSE[]? A closer of another kind is an ordinary token inside
 * the block (CSS Syntax: `(` ... `]` ... `)`). Beyond the depth tracked, any
 * closer closes. */
static int
closes(const unsigned char *close, size_t depth, unsigned char c)
{
	if (depth == 0)
		return 0;
	if (depth > CSS_MAX_DEPTH)
		return 1;
	return close[depth - 1] == c;
}

/* Where does the statement holding the token that ended at P end? For a
 * declaration (AT_RULE == 0): at the first `;` outside nested blocks
 * (included), or before an unmatched `}`, or before a `{` that turns a
 * non-custom "declaration" into a nested rule. For an at-rule: at `;`
 * (included), or before `{` or an unmatched `}`. CLOSE0[DEPTH] are the
 * blocks open at P, as the scanner tracks them: the look-ahead follows the
 * same rules as the scanner, so both agree on where the statement ends. */
static size_t
statement_end(const char *s, size_t len, size_t p, const unsigned char *close0, size_t depth,
    int at_rule, int custom)
{
	unsigned char close[CSS_MAX_DEPTH];
	struct tok t;
	unsigned char c;

	if (depth > 0)
		memcpy(close, close0, depth < CSS_MAX_DEPTH ? depth : CSS_MAX_DEPTH);
	while (p < len) {
		lex(s, len, p, &t, 0);
		p = t.end;
		switch (t.type) {
		case T_SEMI:
			if (depth == 0)
				return t.end;
			continue;
		case T_LBRACE:
			if (depth == 0 && (at_rule || !custom))
				return t.start;
			c = '}';
			break;
		case T_LPAREN: case T_FUNCTION:
			c = ')';
			break;
		case T_LBRACKET:
			c = ']';
			break;
		case T_RBRACE:
			if (depth == 0)
				return t.start;
			/* FALLTHROUGH */
		case T_RPAREN: case T_RBRACKET:
			c = t.type == T_RBRACE ? '}' : t.type == T_RPAREN ? ')' : ']';
			if (closes(close, depth, c))
				depth--;
			continue;
		default:
			continue;
		}
		if (depth < CSS_MAX_DEPTH)
			close[depth] = c;
		depth++;
	}
	return len;
}

static size_t
cached_statement_end(struct css_scanner *sc, size_t from, int at_rule)
{
	if (!sc->cached_valid || sc->cached_for != sc->stmt_start) {
		sc->cached_end = statement_end(sc->css, sc->len, from, sc->vclose, sc->vdepth, at_rule,
		    sc->property[0] == '-' && sc->property[1] == '-');
		sc->cached_for = sc->stmt_start;
		sc->cached_valid = 1;
	}
	return sc->cached_end;
}

/* Fill *u for the URL-bearing token *t. */
static void
report(struct css_scanner *sc, const struct tok *t, struct css_url *u, char *dec, size_t decsz,
    int is_import)
{
	int cut;

	memset(u, 0, sizeof(*u));
	u->token.start = t->start;
	u->token.end = t->end;
	u->raw.start = t->vstart;
	u->raw.end = t->vend;
	u->url_len = decode_css(sc->css, t->vstart, t->vend, t->type == T_URL, dec, decsz, &cut);
	u->url = dec;
	u->flags = cur_flags(sc);
	if (cut)
		u->flags |= CSS_URL_TRUNCATED;
	if (t->bad || t->type == T_BADSTRING)
		u->flags |= CSS_URL_BAD;
	if (t->unclosed)
		u->flags |= CSS_URL_UNCLOSED;
	if (t->type == T_STRING || t->type == T_BADSTRING || t->is_src)
		u->flags |= CSS_URL_STRING;
	if (sc->state == ST_AT_PRELUDE && sc->at_kind == AT_MEDIA)
		u->flags |= CSS_IN_MEDIA;
	if (is_import) {
		u->flags |= CSS_IN_IMPORT;
		u->rule.start = sc->stmt_start;
		u->rule.end = cached_statement_end(sc, t->end, 1);
	} else if (sc->state == ST_DECL_VALUE) {
		u->flags |= CSS_HAS_DECL;
		memcpy(u->property, sc->property, sizeof(u->property));
		u->decl.start = sc->stmt_start;
		u->decl.end = cached_statement_end(sc, t->end, 0);
	}
}

/* Open a (), [] or {} inside a value or prelude, closed by CLOSE; FN says
 * which function opened it (strings directly inside image-set() are URLs). */
static void
open_value_block(struct css_scanner *sc, unsigned char close, unsigned char fn)
{
	if (sc->vdepth < CSS_MAX_DEPTH) {
		sc->vclose[sc->vdepth] = close;
		sc->vfunc[sc->vdepth] = fn;
	}
	sc->vdepth++;
}

static int
in_image_set(const struct css_scanner *sc)
{
	return sc->vdepth > 0 && sc->vdepth <= CSS_MAX_DEPTH &&
	    sc->vfunc[sc->vdepth - 1] == FN_IMAGE_SET;
}

static void
end_statement(struct css_scanner *sc)
{
	sc->state = ST_START;
	sc->vdepth = 0;
	sc->property[0] = '\0';
}

/* Open the block of the statement being read at `{`. */
static void
open_statement_block(struct css_scanner *sc)
{
	unsigned f = cur_flags(sc);
	enum block_kind parent = cur_kind(sc);

	if (sc->state == ST_AT_PRELUDE) {
		enum block_kind k = parent;

		if (sc->at_kind == AT_FONT_FACE || sc->at_kind == AT_DECLS_BLOCK ||
		    sc->at_kind == AT_IMPORT)
			k = B_DECLS;
		else if (sc->at_kind == AT_MEDIA || sc->at_kind == AT_RULES_BLOCK)
			k = parent;	/* in a style rule, nested @media holds declarations */
		push_block(sc, k, sc->at_flags);
	} else {
		push_block(sc, B_DECLS, f);
	}
	sc->property[0] = '\0';
}

/* Handle one token of a prelude or a declaration value. Returns 1 when the
 * token carries a URL to report (*is_import set), 0 otherwise. */
static int
value_token(struct css_scanner *sc, const struct tok *t, int *is_import)
{
	*is_import = 0;
	switch (t->type) {
	case T_URL:
	case T_URLFN:
		/* every url() of an @import rule is flagged: the rule goes as a whole */
		if (sc->state == ST_AT_PRELUDE && sc->at_kind == AT_IMPORT)
			*is_import = 1;
		sc->import_url_seen = 1;
		return 1;
	case T_STRING:
	case T_BADSTRING:
		if (sc->state == ST_AT_PRELUDE && sc->at_kind == AT_IMPORT && !sc->import_url_seen) {
			sc->import_url_seen = 1;
			*is_import = 1;
			return 1;
		}
		sc->import_url_seen = 1;
		return in_image_set(sc);
	case T_WS:
	case T_COMMENT:
		return 0;
	case T_IDENT:
		if (sc->state == ST_AT_PRELUDE && sc->at_kind == AT_MEDIA &&
		    strcmp(t->name, "print") == 0)
			sc->at_flags |= CSS_IN_MEDIA_PRINT;
		break;
	case T_FUNCTION:
		open_value_block(sc, ')',
		    (strcmp(t->name, "image-set") == 0 || strcmp(t->name, "-webkit-image-set") == 0 ||
		    strcmp(t->name, "image") == 0) ? FN_IMAGE_SET : FN_OTHER);
		break;
	case T_LPAREN:
		open_value_block(sc, ')', FN_OTHER);
		break;
	case T_LBRACKET:
		open_value_block(sc, ']', FN_OTHER);
		break;
	case T_LBRACE:
		if (sc->vdepth == 0 && !(sc->state == ST_DECL_VALUE &&
		    sc->property[0] == '-' && sc->property[1] == '-')) {
			open_statement_block(sc);
			return 0;
		}
		open_value_block(sc, '}', FN_OTHER);
		break;
	case T_RPAREN:
		if (closes(sc->vclose, sc->vdepth, ')'))
			sc->vdepth--;
		break;
	case T_RBRACKET:
		if (closes(sc->vclose, sc->vdepth, ']'))
			sc->vdepth--;
		break;
	case T_RBRACE:
		if (sc->vdepth > 0) {
			if (closes(sc->vclose, sc->vdepth, '}'))
				sc->vdepth--;
			break;
		}
		end_statement(sc);
		pop_block(sc);
		return 0;
	case T_SEMI:
		if (sc->vdepth == 0) {
			end_statement(sc);
			return 0;
		}
		break;
	default:
		break;
	}
	sc->import_url_seen = 1;
	return 0;
}

/* Handle a token at the start of a statement. Returns 1 if the token must
 * then be handled as part of a prelude (value_token). */
static int
start_token(struct css_scanner *sc, const struct tok *t)
{
	switch (t->type) {
	case T_WS: case T_COMMENT: case T_SEMI: case T_CDO: case T_CDC:
		return 0;
	case T_RBRACE:
		pop_block(sc);
		return 0;
	case T_AT:
		sc->stmt_start = t->start;
		sc->state = ST_AT_PRELUDE;
		classify_at(sc, t->name);
		return 0;
	case T_IDENT:
		if (cur_kind(sc) == B_DECLS) {
			sc->stmt_start = t->start;
			sc->state = ST_DECL_NAME;
			memcpy(sc->property, t->name, sizeof(sc->property));
			return 0;
		}
		break;
	default:
		break;
	}
	sc->stmt_start = t->start;
	sc->state = ST_QPRELUDE;
	sc->property[0] = '\0';
	return 1;
}

/* ---- fast pre-checks ------------------------------------------------------- */

/* The identifier that ends right before P: *start gets its first byte.
 * Returns 1 if it may hide something behind escapes or a comment (a
 * backslash in or just before it, a comment right before P): then only
 * the full tokeniser can tell. */
static int
ident_before(const char *s, size_t p, size_t *start)
{
	size_t q = p, k;

	while (q > 0 && (is_name(s[q - 1]) || s[q - 1] == '\\'))
		q--;
	*start = q;
	if (memchr(s + q, '\\', p - q) != NULL)
		return 1;
	/* `u\72 l(`: the blank after a hex escape belongs to the escape */
	if (q > 0 && is_ws(s[q - 1]))
		for (k = q - 1; k > 0 && q - k <= 8; k--)
			if (s[k - 1] == '\\')
				return 1;
	return q > 0 && s[q - 1] == '/';
}

static int
name_is(const char *s, size_t a, size_t b, const char *word)
{
	size_t n = strlen(word);

	return b - a == n && strncasecmp(s + a, word, n) == 0;
}

/* Does S[a, b) end with WORD (any case)? The backward walk of ident_before
 * cannot see token boundaries (`<!--url(` is CDO then url), so the pre-check
 * asks for a suffix: a superset of the real matches. */
static int
name_ends(const char *s, size_t a, size_t b, const char *word)
{
	size_t n = strlen(word);

	return b - a >= n && strncasecmp(s + b - n, word, n) == 0;
}

/* Can S[0, LEN) fetch anything? Every fetch needs a function - url(),
 * src(), image-set(), image() - or an @import; escapes cannot make a `(`
 * or an `@`. A quick pass over the `(` and `@` bytes answers "no" for
 * most inline styles and for style sheets without images, without
 * tokenising. Errs only towards "maybe". */
static int
may_fetch(const char *s, size_t len)
{
	const char *p = s, *e = s + len;
	size_t a, b;

	while ((p = memchr(p, '(', (size_t)(e - p))) != NULL) {
		b = (size_t)(p - s);
		if (ident_before(s, b, &a))
			return 1;
		if (name_ends(s, a, b, "url") || name_ends(s, a, b, "src") ||
		    name_ends(s, a, b, "image") || name_ends(s, a, b, "image-set"))
			return 1;
		p++;
	}
	for (p = s; (p = memchr(p, '@', (size_t)(e - p))) != NULL; p++) {
		a = b = (size_t)(p - s) + 1;
		while (b < len && (is_name(s[b]) || s[b] == '\\'))
			b++;
		if (memchr(s + a, '\\', b - a) != NULL || (b - a >= 6 &&
		    strncasecmp(s + a, "import", 6) == 0))
			return 1;
	}
	return 0;
}

int
css_next_url(struct css_scanner *sc, struct css_url *u, char *dec, size_t decsz)
{
	struct tok t;
	int is_import;

	if (sc->pos == 0 && !may_fetch(sc->css, sc->len))
		sc->pos = sc->len;
	while (sc->pos < sc->len) {
		lex(sc->css, sc->len, sc->pos, &t,
		    (sc->state == ST_START || sc->state == ST_AT_PRELUDE) ? LEX_NAMES : 0);
		sc->pos = t.end;
		if (sc->state == ST_START && !start_token(sc, &t))
			continue;
		if (sc->state == ST_DECL_NAME) {
			if (t.type == T_WS || t.type == T_COMMENT)
				continue;
			if (t.type == T_COLON) {
				sc->state = ST_DECL_VALUE;
				sc->vdepth = 0;
				continue;
			}
			sc->state = ST_QPRELUDE;
			sc->property[0] = '\0';
		}
		if (value_token(sc, &t, &is_import)) {
			report(sc, &t, u, dec, decsz, is_import);
			return 1;
		}
	}
	return 0;
}

void
css_neutralize(const struct css_url *u, struct css_span *span, const char **text)
{
	if (u->flags & CSS_IN_IMPORT) {
		*span = u->rule;
		*text = "";
	} else {
		*span = u->token;
		*text = CSS_NEUTRAL_URL;
	}
}

/* ---- declarations ------------------------------------------------------------ */

/* Trim whitespace and comments at both ends of [*a, *b); strip a trailing
 * `!important` (sets *important). */
static void
trim_value(const char *s, size_t *a, size_t *b, int *important)
{
	size_t e = *b, q;

	*a = skip_ws_comments(s, *b, *a);
	*important = 0;
	for (;;) {
		while (e > *a && is_ws((unsigned char)s[e - 1]))
			e--;
		if (e - *a >= 4 && s[e - 1] == '/' && s[e - 2] == '*') {
			/* a trailing comment: find its opening */
			for (q = e - 2; q > *a; q--)
				if (s[q - 1] == '/' && s[q] == '*')
					break;
			if (q > *a) {
				e = q - 1;
				continue;
			}
		}
		break;
	}
	if (e - *a >= 10 && strncasecmp(s + e - 9, "important", 9) == 0) {
		q = e - 9;
		while (q > *a && is_ws((unsigned char)s[q - 1]))
			q--;
		if (q > *a && s[q - 1] == '!') {
			*important = 1;
			e = q - 1;
			while (e > *a && is_ws((unsigned char)s[e - 1]))
				e--;
		}
	}
	*b = e;
}

int
css_next_decl(struct css_scanner *sc, struct css_decl *d)
{
	struct tok t;
	size_t p;

	while (sc->pos < sc->len) {
		lex(sc->css, sc->len, sc->pos, &t, LEX_NAMES);
		sc->pos = t.end;
		if (t.type == T_WS || t.type == T_COMMENT || t.type == T_SEMI ||
		    t.type == T_RBRACE)
			continue;
		sc->stmt_start = t.start;
		if (t.type == T_IDENT) {
			p = skip_ws_comments(sc->css, sc->len, t.end);
			if (p < sc->len && sc->css[p] == ':') {
				memset(d, 0, sizeof(*d));
				memcpy(d->property, t.name, sizeof(d->property));
				d->decl.start = t.start;
				d->decl.end = statement_end(sc->css, sc->len, p + 1, NULL, 0, 0, 1);
				d->value.start = p + 1;
				d->value.end = d->decl.end;
				if (d->value.end > d->value.start &&
				    sc->css[d->value.end - 1] == ';')
					d->value.end--;
				trim_value(sc->css, &d->value.start, &d->value.end, &d->important);
				sc->pos = d->decl.end;
				return 1;
			}
		}
		/* not a declaration: skip the statement */
		sc->pos = statement_end(sc->css, sc->len, t.start, NULL, 0, 0, 1);
		if (sc->pos == t.start)
			sc->pos = t.end;
	}
	return 0;
}

/* ---- box properties ----------------------------------------------------------- */

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_digit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Parse a CSS number at S[*p, end). Returns 1 and advances *p on success. */
static int
parse_number(const char *s, size_t *p, size_t end, double *v)
{
	char tmp[64];
	size_t q = *p, n;
	char *ep;

	if (q < end && (s[q] == '+' || s[q] == '-'))
		q++;
	while (q < end && is_digit((unsigned char)s[q]))
		q++;
	if (q < end && s[q] == '.')
		for (q++; q < end && is_digit((unsigned char)s[q]); q++)
			;
	if (q < end && (s[q] == 'e' || s[q] == 'E') && q + 1 < end &&
	    (is_digit((unsigned char)s[q + 1]) || ((s[q + 1] == '+' || s[q + 1] == '-') &&
	    q + 2 < end && is_digit((unsigned char)s[q + 2]))))
		for (q += 2; q < end && is_digit((unsigned char)s[q]); q++)
			;
	n = q - *p;
	if (n == 0 || n >= sizeof(tmp))
		return 0;
	if (n <= 15 && is_digit((unsigned char)s[*p]) && all_digits(s + *p, n)) {
		/* a plain integer ("600", "1"): exact in a double, as from strtod */
		double x = 0;

		for (q = *p; q < *p + n; q++)
			x = x * 10 + (s[q] - '0');
		*v = x;
		*p += n;
		return 1;
	}
	memcpy(tmp, s + *p, n);
	tmp[n] = '\0';
	*v = strtod(tmp, &ep);
	if (ep == tmp || *ep != '\0' || !isfinite(*v))
		return 0;
	*p = q;
	return 1;
}

/* Classify a length value: px, unitless 0, a zero of any unit -> PX;
 * unitless non-zero -> PX too (quirks mode, which most mail renders in,
 * reads it as pixels); any other unit, keyword or function -> OTHER.
 * Negative lengths are invalid CSS: returns 0 so the declaration is ignored. */
static int
parse_length(const char *s, size_t a, size_t b, struct css_len *out)
{
	size_t p = a, u;
	double v;

	if (!parse_number(s, &p, b, &v)) {
		out->kind = CSS_LEN_OTHER;
		out->px = 0;
		return 1;
	}
	if (v < 0)
		return 0;
	u = p;
	while (p < b && (is_name((unsigned char)s[p]) || s[p] == '%'))
		p++;
	if (skip_ws_comments(s, b, p) != b) {
		out->kind = CSS_LEN_OTHER;	/* "1px 2px", garbage: not a plain length */
		out->px = 0;
		return 1;
	}
	if (v == 0 || u == p || (p - u == 2 && strncasecmp(s + u, "px", 2) == 0)) {
		out->kind = CSS_LEN_PX;
		out->px = v;
	} else {
		out->kind = CSS_LEN_OTHER;
		out->px = 0;
	}
	return 1;
}

static int
value_is(const char *s, size_t a, size_t b, const char *word)
{
	size_t n = strlen(word);

	return b - a == n && strncasecmp(s + a, word, n) == 0;
}

static void
read_opacity(const char *s, size_t a, size_t b, struct css_box *out)
{
	size_t p = a;
	double v;

	if (!parse_number(s, &p, b, &v))
		return;
	if (p < b && s[p] == '%')
		p++;
	if (skip_ws_comments(s, b, p) != b)
		return;
	out->opacity_zero = v <= 0;
}

/* Can the style declare one of the box properties? Looks at the name
 * before each `:` only; errs towards "maybe". */
static int
may_have_box(const char *s, size_t len)
{
	static const char *const names[] = {
		"width", "height", "max-width", "max-height", "display", "visibility", "opacity"
	};
	const char *p = s, *e = s + len;
	size_t a, b, i;

	while ((p = memchr(p, ':', (size_t)(e - p))) != NULL) {
		b = (size_t)(p - s);
		while (b > 0 && is_ws(s[b - 1]))
			b--;
		if (ident_before(s, b, &a))
			return 1;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (name_is(s, a, b, names[i]))
				return 1;
		p++;
	}
	return 0;
}

/* The properties css_read_box() reads. */
enum box_prop {
	BOX_NONE, BOX_WIDTH, BOX_HEIGHT, BOX_MAX_WIDTH, BOX_MAX_HEIGHT,
	BOX_DISPLAY, BOX_VISIBILITY, BOX_OPACITY
};

/* Apply one declaration of property ID with value S[a, b) (trimmed) to
 * *OUT; a later declaration overrides an earlier one. */
static void
apply_box(enum box_prop id, const char *s, size_t a, size_t b, struct css_box *out)
{
	struct css_len l, *target = NULL;

	switch (id) {
	case BOX_WIDTH:
		target = &out->width;
		break;
	case BOX_HEIGHT:
		target = &out->height;
		break;
	case BOX_MAX_WIDTH:
		target = &out->max_width;
		break;
	case BOX_MAX_HEIGHT:
		target = &out->max_height;
		break;
	case BOX_DISPLAY:
		if (a < b)
			out->display_none = value_is(s, a, b, "none");
		return;
	case BOX_VISIBILITY:
		if (a < b)
			out->visibility_hidden = value_is(s, a, b, "hidden") ||
			    value_is(s, a, b, "collapse");
		return;
	case BOX_OPACITY:
		read_opacity(s, a, b, out);
		return;
	case BOX_NONE:
		return;
	}
	if (a < b && parse_length(s, a, b, &l))
		*target = l;
}

/* Apply one declaration PROP (lower case, as the tokenizer decoded it) with
 * value S[a, b) to *OUT. An exact comparison: a decoded name may hold any
 * byte (`max\d width` holds a CR), so no case-folding trick here. */
static void
apply_box_decl(const char *prop, const char *s, size_t a, size_t b, struct css_box *out)
{
	enum box_prop id = BOX_NONE;

	/* most declarations are none of these: reject on the first letter */
	if (strchr("whmdvo", prop[0]) == NULL || prop[0] == '\0')
		return;
	if (strcmp(prop, "width") == 0)
		id = BOX_WIDTH;
	else if (strcmp(prop, "height") == 0)
		id = BOX_HEIGHT;
	else if (strcmp(prop, "max-width") == 0)
		id = BOX_MAX_WIDTH;
	else if (strcmp(prop, "max-height") == 0)
		id = BOX_MAX_HEIGHT;
	else if (strcmp(prop, "display") == 0)
		id = BOX_DISPLAY;
	else if (strcmp(prop, "visibility") == 0)
		id = BOX_VISIBILITY;
	else if (strcmp(prop, "opacity") == 0)
		id = BOX_OPACITY;
	apply_box(id, s, a, b, out);
}

/* Classes of the bytes of a plain style attribute. PLAIN: letters, digits,
 * white space and : ; % # , . ! - _ + . A style made only of them has no
 * comment, string, escape, function or block, so its declarations are
 * "name: value" pieces between semicolons, exactly as the tokenizer would
 * split them. The other classes hold plain bytes only, so a loop that walks
 * bytes of one class has checked them plain on the way. */
#define PS_PLAIN	0x01u
#define PS_WS		0x02u	/* as is_ws() */
#define PS_BOX1		0x04u	/* first letter of a box property, any case: dhmovw */
#define PS_NAME		0x08u	/* ASCII letter, digit, - _ (is_name() on plain bytes) */
#define PS_DIGIT	0x10u
#define PS_LETTER	0x20u	/* ASCII letter */
#define PS_UNIT		0x40u	/* PS_NAME or %: what parse_length() takes as a unit */

#define PS_ALPHA	(PS_PLAIN | PS_NAME | PS_LETTER | PS_UNIT)
static const unsigned char ps_class[256] = {
	['a' ... 'c'] = PS_ALPHA, ['d'] = PS_ALPHA | PS_BOX1, ['e' ... 'g'] = PS_ALPHA,
	['h'] = PS_ALPHA | PS_BOX1, ['i' ... 'l'] = PS_ALPHA, ['m'] = PS_ALPHA | PS_BOX1,
	['n'] = PS_ALPHA, ['o'] = PS_ALPHA | PS_BOX1, ['p' ... 'u'] = PS_ALPHA,
	['v'] = PS_ALPHA | PS_BOX1, ['w'] = PS_ALPHA | PS_BOX1, ['x' ... 'z'] = PS_ALPHA,
	['A' ... 'C'] = PS_ALPHA, ['D'] = PS_ALPHA | PS_BOX1, ['E' ... 'G'] = PS_ALPHA,
	['H'] = PS_ALPHA | PS_BOX1, ['I' ... 'L'] = PS_ALPHA, ['M'] = PS_ALPHA | PS_BOX1,
	['N'] = PS_ALPHA, ['O'] = PS_ALPHA | PS_BOX1, ['P' ... 'U'] = PS_ALPHA,
	['V'] = PS_ALPHA | PS_BOX1, ['W'] = PS_ALPHA | PS_BOX1, ['X' ... 'Z'] = PS_ALPHA,
	['0' ... '9'] = PS_PLAIN | PS_NAME | PS_DIGIT | PS_UNIT,
	[' '] = PS_PLAIN | PS_WS, ['\t'] = PS_PLAIN | PS_WS, ['\n'] = PS_PLAIN | PS_WS,
	['\r'] = PS_PLAIN | PS_WS, ['\f'] = PS_PLAIN | PS_WS,
	[':'] = PS_PLAIN, [';'] = PS_PLAIN, ['#'] = PS_PLAIN, [','] = PS_PLAIN,
	['.'] = PS_PLAIN, ['!'] = PS_PLAIN, ['+'] = PS_PLAIN,
	['%'] = PS_PLAIN | PS_UNIT,
	['-'] = PS_PLAIN | PS_NAME | PS_UNIT, ['_'] = PS_PLAIN | PS_NAME | PS_UNIT,
};
#undef PS_ALPHA

#define ps_is(c, cls)	(ps_class[(unsigned char)(c)] & (cls))

/* Are all bytes of S[a, b) plain? No early exit: they mostly are. */
static int
plain_run(const char *s, size_t a, size_t b)
{
	unsigned ok = PS_PLAIN;

	for (; a < b; a++)
		ok &= ps_class[(unsigned char)s[a]];
	return ok != 0;
}

/* Does S[0, n) spell W (n bytes, 4 <= n <= 16: lower-case letters, '-' and
 * ':'), letters in any case? Exact for any bytes: 0x20 is OR-ed in only
 * where W has a letter (the bytes with 0x40 set; '-' and ':' have it
 * clear), and there it maps exactly the upper-case letter onto W's. Two
 * overlapping loads cover the word; W is a literal, so its words and masks
 * are constants. */
static inline int
ci_match(const char *s, size_t n, const char *w)
{
	if (n > 8) {
		uint64_t a, b, x, y;

		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(&x, w, 8);
		memcpy(&y, w + n - 8, 8);
		return ((a | ((x & 0x4040404040404040u) >> 1)) == x) &
		    ((b | ((y & 0x4040404040404040u) >> 1)) == y);
	} else {
		uint32_t a, b, x, y;

		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(&x, w, 4);
		memcpy(&y, w + n - 4, 4);
		return ((a | ((x & 0x40404040u) >> 1)) == x) & ((b | ((y & 0x40404040u) >> 1)) == y);
	}
}

/* The box property named S[0, n), by length and first byte before any
 * comparison. */
static enum box_prop
plain_box_prop(const char *s, size_t n)
{
	switch (n) {
	case 5:
		return ci_match(s, 5, "width") ? BOX_WIDTH : BOX_NONE;
	case 6:
		return ci_match(s, 6, "height") ? BOX_HEIGHT : BOX_NONE;
	case 7:
		if ((s[0] | 0x20) == 'd')
			return ci_match(s, 7, "display") ? BOX_DISPLAY : BOX_NONE;
		return ci_match(s, 7, "opacity") ? BOX_OPACITY : BOX_NONE;
	case 9:
		return ci_match(s, 9, "max-width") ? BOX_MAX_WIDTH : BOX_NONE;
	case 10:
		if ((s[0] | 0x20) == 'm')
			return ci_match(s, 10, "max-height") ? BOX_MAX_HEIGHT : BOX_NONE;
		return ci_match(s, 10, "visibility") ? BOX_VISIBILITY : BOX_NONE;
	default:
		return BOX_NONE;
	}
}

/* The usual way of writing a box property: its name and the ':' right
 * after it ("width:", "Max-Width:"), in AVAIL bytes at S. Sets *n to the
 * bytes matched; BOX_NONE when the declaration is written otherwise (or
 * is of another property). */
static enum box_prop
plain_box_prop_colon(const char *s, size_t avail, size_t *n)
{
#define TRY(word, id) do {							\
		if (avail >= sizeof(word) - 1 && ci_match(s, sizeof(word) - 1, word)) {	\
			*n = sizeof(word) - 1;					\
			return id;						\
		}								\
	} while (0)

	switch (s[0] | 0x20) {
	case 'w':
		TRY("width:", BOX_WIDTH);
		break;
	case 'h':
		TRY("height:", BOX_HEIGHT);
		break;
	case 'm':
		TRY("max-width:", BOX_MAX_WIDTH);
		TRY("max-height:", BOX_MAX_HEIGHT);
		break;
	case 'd':
		TRY("display:", BOX_DISPLAY);
		break;
	case 'v':
		TRY("visibility:", BOX_VISIBILITY);
		break;
	case 'o':
		TRY("opacity:", BOX_OPACITY);
		break;
	}
	return BOX_NONE;
#undef TRY
}

/* Powers of ten exact in a double. */
static const double pow10_exact[16] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15
};

/* The common values of a length in one pass: "536px", "100%", "0", "1.5em",
 * "auto". Reads from P (just after the ':') up to the ';' or the end; on
 * success sets *target as trim_value() and parse_length() would and
 * returns the position after the ';'. Anything else (a sign, an exponent,
 * more than 15 digits, !important, two words, an empty value) returns 0,
 * and the caller takes the general path. */
static size_t
plain_length(const char *s, size_t len, size_t p, struct css_len *target)
{
	uint64_t m = 0;
	size_t d, nd, k = 0, u;
	unsigned c;
	double v = 0;
	int px = 0;

	while (p < len && ps_is(s[p], PS_WS))
		p++;
	if (p >= len)
		return 0;
	if (ps_is(s[p], PS_LETTER)) {
		/* a keyword ("auto"): parse_number() fails on it, so the
		 * value is "other" whatever follows */
		while (p < len && ps_is(s[p], PS_NAME))
			p++;
	} else {
		for (d = p; p < len && (c = (unsigned char)s[p] - '0') < 10; p++)
			m = m * 10 + c;
		nd = p - d;
		if (p < len && s[p] == '.') {
			for (d = ++p; p < len && (c = (unsigned char)s[p] - '0') < 10; p++)
				m = m * 10 + c;
			k = p - d;
			nd += k;
		}
		/* up to 15 digits the mantissa and the power of ten are exact,
		 * so one division rounds exactly as strtod() does */
		if (nd == 0 || nd > 15)
			return 0;
		if (p + 1 < len && (s[p] | 0x20) == 'e' && (ps_is(s[p + 1], PS_DIGIT) ||
		    ((s[p + 1] == '+' || s[p + 1] == '-') && p + 2 < len &&
		    ps_is(s[p + 2], PS_DIGIT))))
			return 0;	/* an exponent */
		v = (double)m / pow10_exact[k];
		for (u = p; p < len && ps_is(s[p], PS_UNIT); p++)
			;
		/* v == 0 exactly when m == 0 */
		px = m == 0 || u == p || (p - u == 2 && (s[u] | 0x20) == 'p' &&
		    (s[u + 1] | 0x20) == 'x');
	}
	while (p < len && ps_is(s[p], PS_WS))
		p++;
	if (p < len && s[p] != ';')
		return 0;
	target->kind = px ? CSS_LEN_PX : CSS_LEN_OTHER;
	target->px = px ? v : 0;
	return p < len ? p + 1 : len;
}

/* A value of one word from P up to the ';' or the end: stores the word
 * (trimmed, as trim_value() would) in S[*a, *b) and returns the position
 * after the ';'; returns 0 for anything else. */
static size_t
plain_word(const char *s, size_t len, size_t p, size_t *a, size_t *b)
{
	while (p < len && ps_is(s[p], PS_WS))
		p++;
	if (p >= len || !ps_is(s[p], PS_LETTER))
		return 0;
	*a = p;
	while (p < len && ps_is(s[p], PS_NAME))
		p++;
	*b = p;
	while (p < len && ps_is(s[p], PS_WS))
		p++;
	if (p < len && s[p] != ';')
		return 0;
	return p < len ? p + 1 : len;
}

/* The value of box property ID from P (after the ':') by a fast path:
 * returns the position after it, or 0 when the value needs the general
 * path. */
static size_t
plain_box_value(const char *s, size_t len, size_t p, enum box_prop id, struct css_box *out)
{
	size_t a, b;

	switch (id) {
	case BOX_WIDTH:
		return plain_length(s, len, p, &out->width);
	case BOX_HEIGHT:
		return plain_length(s, len, p, &out->height);
	case BOX_MAX_WIDTH:
		return plain_length(s, len, p, &out->max_width);
	case BOX_MAX_HEIGHT:
		return plain_length(s, len, p, &out->max_height);
	case BOX_DISPLAY:
		if ((p = plain_word(s, len, p, &a, &b)) != 0)
			out->display_none = b - a == 4 && ci_match(s + a, 4, "none");
		return p;
	case BOX_VISIBILITY:
		if ((p = plain_word(s, len, p, &a, &b)) != 0)
			out->visibility_hidden = (b - a == 6 && ci_match(s + a, 6, "hidden")) ||
			    (b - a == 8 && ci_match(s + a, 8, "collapse"));
		return p;
	default:
		return 0;	/* opacity: rare, the general path reads it */
	}
}

/* css_read_box() for a plain style (most inline styles of mail: no url(),
 * no comment): one pass over the bytes instead of the tokenizer. Returns 0
 * when S is not plain (the caller then resets *out and tokenizes).
 *
 * The plain test rides along with the reading: every byte before p has
 * been found plain, by a class loop, a match or plain_run(). A declaration
 * that cannot be of a box property (its first byte is not one of dhmovw)
 * is skipped at memchr speed whatever it holds: the old reader skipped
 * such a piece too, to the same ';'. The usual forms of the box properties
 * ("width:536px") are read by matches and short loops; anything unusual
 * ("width :", "1e1px", "!important") goes through trim_value() and
 * apply_box() as the tokenizer path does. */
static int
read_box_plain(const char *s, size_t len, struct css_box *out)
{
	size_t p = 0, q, n, a, b;
	enum box_prop id;
	int important;

	for (;;) {
		while (p < len && ps_is(s[p], PS_WS))
			p++;
		if (p >= len)
			return 1;
		id = BOX_NONE;
		if (ps_is(s[p], PS_BOX1)) {
			id = plain_box_prop_colon(s + p, len - p, &n);
			if (id != BOX_NONE) {
				p += n;
			} else {
				/* a letter starts an identifier: its name, blanks, ':' */
				for (q = p; p < len && ps_is(s[p], PS_NAME); p++)
					;
				id = plain_box_prop(s + q, p - q);
				while (p < len && ps_is(s[p], PS_WS))
					p++;
				if (p < len && s[p] == ':')
					p++;
				else
					id = BOX_NONE;	/* not a declaration */
			}
			if (id != BOX_NONE && (q = plain_box_value(s, len, p, id, out)) != 0) {
				p = q;
				continue;
			}
		}
		/* skip the rest of the piece, or read its value the general way */
		{
			const char *semi = memchr(s + p, ';', len - p);

			q = semi != NULL ? (size_t)(semi - s) : len;
		}
		if (!plain_run(s, p, q))
			return 0;
		if (id != BOX_NONE) {
			a = p;
			b = q;
			trim_value(s, &a, &b, &important);
			apply_box(id, s, a, b, out);
		}
		if (q >= len)
			return 1;
		p = q + 1;
	}
}

/* css_read_box() by the tokenizer, for styles with comments, escapes,
 * strings, functions... Kept out of css_read_box() so the plain path does
 * not pay for its stack frame. */
static void __attribute__((noinline))
read_box_tokenized(const char *style, size_t len, struct css_box *out)
{
	struct css_scanner sc;
	struct css_decl d;

	memset(out, 0, sizeof(*out));	/* the plain reader may have begun */
	if (!may_have_box(style, len))
		return;
	css_scan_init(&sc, style, len, CSS_STYLE_ATTR);
	while (css_next_decl(&sc, &d))
		apply_box_decl(d.property, style, d.value.start, d.value.end, out);
}

void
css_read_box(const char *style, size_t len, struct css_box *out)
{
	memset(out, 0, sizeof(*out));
	if (style != NULL && !read_box_plain(style, len, out))
		read_box_tokenized(style, len, out);
}

static int
tiny(const struct css_len *l)
{
	return l->kind == CSS_LEN_PX && l->px <= 1.0;
}

unsigned
css_box_hidden(const struct css_box *b)
{
	unsigned why = 0;

	if (tiny(&b->width) || tiny(&b->height))
		why |= CSS_HIDDEN_SIZE;
	if (tiny(&b->max_width) || tiny(&b->max_height))
		why |= CSS_HIDDEN_MAX_SIZE;
	if (b->display_none)
		why |= CSS_HIDDEN_DISPLAY;
	if (b->visibility_hidden)
		why |= CSS_HIDDEN_VISIBILITY;
	if (b->opacity_zero)
		why |= CSS_HIDDEN_OPACITY;
	return why;
}

/* ---- HTML dimension attributes ------------------------------------------------ */

enum css_html_len
css_html_length(const char *v, size_t len, double *value)
{
	size_t p = 0;
	double x = 0, scale = 0.1;

	*value = 0;
	while (p < len && is_ws((unsigned char)v[p]))
		p++;
	if (p >= len || !is_digit((unsigned char)v[p]))
		return CSS_HTML_LEN_INVALID;
	for (; p < len && is_digit((unsigned char)v[p]); p++)
		if (x < 1e9)
			x = x * 10 + (v[p] - '0');
	if (p < len && v[p] == '.') {
		for (p++; p < len && is_digit((unsigned char)v[p]); p++) {
			x += (v[p] - '0') * scale;
			scale /= 10;
		}
	}
	*value = x;
	if (p < len && v[p] == '%')
		return CSS_HTML_LEN_PERCENT;
	return CSS_HTML_LEN_PX;
}
