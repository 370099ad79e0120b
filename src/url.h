/* url.h - URL parsing, query parameter stripping, unwrap decoders, text URL finder.
 *
 * Parsing never allocates: a struct url holds spans (offset, length) into the
 * caller's bytes. The caller keeps those bytes alive while it uses the spans.
 *
 * What the parser does, in the order a browser does it (WHATWG URL standard):
 *  - leading and trailing C0 controls and spaces are ignored (url->start and
 *    url->end bound the rest);
 *  - ASCII tab, LF and CR *inside* the URL are ignored by browsers too. Spans
 *    cannot skip bytes, so url_parse() sets URL_F_TABNL and leaves them in;
 *    url_parse_clean() copies the URL without them into a caller buffer (for
 *    example on the stack) and parses that copy instead;
 *  - "//host/path" (protocol-relative) is judged as https (URL_F_PROTOREL);
 *  - for http and https, '\' counts as '/', as it does in browsers;
 *  - cid: and data: URLs are flagged URL_F_NEVER_TOUCH: the engine must leave
 *    them alone whatever they look like.
 *
 * Conventions: functions returning int return 0 (or a count) on success and a
 * negative URL_E_* on failure; no function here crashes on any input bytes.
 * Pointers must be valid for their lengths (url_parse also takes NULL, 0).
 * Nothing here keeps state: every function is safe from any thread.
 */
#ifndef CM_URL_H
#define CM_URL_H

#include <stddef.h>

#include "buf.h"

/* Errors (negative return values). */
#define URL_E_NOMEM	-1	/* out of memory (buf_* failed) */
#define URL_E_SYNTAX	-2	/* not a URL we can read: bad scheme, bad port... */
#define URL_E_RELATIVE	-3	/* no scheme and not "//host": a relative reference */
#define URL_E_HOST	-4	/* http(s) URL whose host is empty or invalid */
#define URL_E_DECODE	-5	/* a decoder met invalid input (%zz, bad base64, not JSON...) */
#define URL_E_NOFIELD	-6	/* json:/jwt: field missing or not a string */
#define URL_E_TOOLONG	-7	/* scratch buffer too small (url_parse_clean) */

enum url_scheme {
	URL_SCHEME_NONE = 0,	/* relative reference (error URL_E_RELATIVE) */
	URL_SCHEME_HTTP,
	URL_SCHEME_HTTPS,	/* also protocol-relative "//host" (URL_F_PROTOREL) */
	URL_SCHEME_MAILTO,
	URL_SCHEME_CID,		/* never touched */
	URL_SCHEME_DATA,	/* never touched */
	URL_SCHEME_OTHER	/* ftp:, tel:, javascript:, ...: reported, not judged */
};

/* Flags in struct url.flags */
#define URL_F_PROTOREL		0x0001	/* "//host/...", judged as https */
#define URL_F_TABNL		0x0002	/* tab/CR/LF inside: use url_parse_clean() */
#define URL_F_NEVER_TOUCH	0x0004	/* cid: or data: */
#define URL_F_HAS_USERINFO	0x0008
#define URL_F_HAS_PORT		0x0010
#define URL_F_HAS_QUERY		0x0020	/* a '?' was present (query may be empty) */
#define URL_F_HAS_FRAGMENT	0x0040	/* a '#' was present (fragment may be empty) */
#define URL_F_NONCANON		0x0080	/* http(s) without exactly "//", or with '\' */
#define URL_F_STRIPPED		0x0100	/* leading/trailing C0 or space was ignored */

/* A span of the parsed bytes: url->base + off, len bytes. len 0 = empty/absent. */
struct url_span {
	size_t off;
	size_t len;
};

struct url {
	const char *base;	/* the bytes that were parsed (input or scratch copy) */
	size_t start, end;	/* the URL proper, after ignoring C0/space at both ends */
	enum url_scheme scheme;
	unsigned flags;
	unsigned port_num;	/* valid with URL_F_HAS_PORT */
	struct url_span scheme_s;	/* "https" (without ':'); empty when PROTOREL */
	struct url_span userinfo;	/* without '@' */
	struct url_span host;		/* as written (not lowercased); "[v6]" keeps brackets */
	struct url_span port;		/* digits only */
	struct url_span path;		/* from the first '/' (or '\'); mailto: the address part */
	struct url_span query;		/* without '?' */
	struct url_span fragment;	/* without '#' */
};

/* Parse S[0..LEN) (need not be NUL-terminated). Fills *OUT even on some
 * errors (scheme is always set). Returns 0 for an absolute URL of any scheme
 * (check out->scheme), URL_E_RELATIVE, URL_E_SYNTAX or URL_E_HOST. */
int url_parse(const char *s, size_t len, struct url *out);

/* Like url_parse(), but when the URL contains tab/CR/LF, copy it without them
 * into SCRATCH (capacity CAP) and parse the copy (out->base == scratch then).
 * URL_E_TOOLONG if it does not fit. No heap allocation. */
int url_parse_clean(const char *s, size_t len, struct url *out, char *scratch, size_t cap);

/* Pointer to the first byte of span SP of U. */
#define URL_PTR(u, sp)	((u)->base + (sp).off)

/* ASCII case-insensitive comparisons of a span. */
int url_span_eq_ci(const struct url *u, struct url_span sp, const char *lit);
/* Host of U equals SUFFIX, or ends with "." SUFFIX (case-insensitive; a
 * trailing dot on the host is ignored). */
int url_host_has_suffix(const struct url *u, const char *suffix);
/* Copy the host lowercased, without a trailing dot, NUL-terminated, into DST
 * (CAP bytes). Returns its length, or URL_E_TOOLONG. */
int url_host_lower(const struct url *u, char *dst, size_t cap);

/* Host syntax check: DNS name (letters, digits, '-', '_', UTF-8 bytes; labels
 * 1..63, total <= 253, one trailing dot allowed), dotted IPv4, or "[IPv6]".
 * Percent signs, spaces and other punctuation are invalid. 1 valid, 0 not. */
int url_host_is_valid(const char *host, size_t len);

/* 1 if S[0..LEN) is what the engine may write into a message: "http://" or
 * "https://" (case-insensitive) + valid host + optional port, and no byte
 * that is a control, space, DEL, '"', '<', '>', '\' or backtick anywhere,
 * no leading/trailing whitespace. Every rewrite result is checked with this. */
int url_is_valid_absolute(const char *s, size_t len);
/* The same test; on success (1) *OUT holds the parse, to judge the URL without
 * parsing it again. */
int url_parse_valid_absolute(const char *s, size_t len, struct url *out);

/* url_is_valid_absolute(S, LEN) of a URL that url_parse() read into U
 * (returned 0), without parsing it again: one pass over its bytes. */
int url_parsed_is_valid_absolute(const struct url *u, const char *s, size_t len);

/* Append URL[0..LEN) to OUT escaped for an HTML attribute value, quoted
 * either way: & " ' < > become &amp; &quot; &#39; &lt; &gt;. For writing an
 * unwrapped or anonymized URL (plain bytes) back into href/src. 0 or
 * URL_E_NOMEM. */
int url_append_html_attr(struct buf *out, const char *url, size_t len);

/* 1 if S[0..LEN) starts with a syntactically valid "scheme:". */
int url_has_scheme(const char *s, size_t len);

/* Does a segment of PATH[0..N) ('/', '\\' or ';' separate them) look like a
 * per-recipient identifier? A segment is judged without a file extension of
 * at most four bytes after its first '.', and must then be at least 10 bytes
 * of letters, digits and - _ = %: with 2 digits and a letter; or 12 or more
 * hex digits; or 20 or more bytes. "product-12.jpg" is one ("product-12"),
 * "logo.png" and "banner-1.jpg" are not. One pass over the path. */
int url_path_has_token(const char *path, size_t n);

/* ---- query parameters ------------------------------------------------------
 *
 * The query is the part between the first '?' and the first '#' after it (a
 * '?' after the first '#' belongs to the fragment: there is no query).
 * Parameters are separated by '&' or ';'. With URL_Q_HTML the bytes are raw
 * HTML attribute text: "&amp;", "&#38;" and "&#x26;" (any case) are also
 * separators, and are kept exactly as written.
 */
#define URL_Q_HTML	0x1

struct url_param {
	const char *name;	/* raw bytes (still percent-encoded) */
	size_t name_len;
	const char *value;	/* raw bytes after '='; NULL when there is no '=' */
	size_t value_len;
	const char *sep;	/* separator before this parameter; NULL for the first */
	size_t sep_len;
};

struct url_query_iter {
	const char *p, *end;
	unsigned flags;
	int first;
};

/* Iterate over the parameters of the URL S[0..LEN). */
void url_query_begin(struct url_query_iter *it, const char *s, size_t len, unsigned flags);
/* 1 and *P filled, or 0 at the end. Empty parameters ("a&&b") are reported
 * with name_len 0. */
int url_query_next(struct url_query_iter *it, struct url_param *p);
/* url_query_begin(S, LEN, 0) for a URL S[0..LEN) that url_parse() read
 * into U (returned 0): the parse already found the '?' and the '#', so the
 * URL is not searched again. Same parameters, same bytes: without a fragment
 * the last one runs to S + LEN, trailing spaces the parse ignored included.
 * cid: and data: URLs (URL_F_NEVER_TOUCH) have no query here: nothing. */
void url_query_begin_parsed(struct url_query_iter *it, const struct url *u, size_t len);
/* Find parameter NAME (exact, case-sensitive, compared after percent-decoding
 * the raw name). 1 and *P filled, or 0. */
int url_query_find(const char *s, size_t len, unsigned flags, const char *name,
		   struct url_param *p);

/* Predicate for url_strip_params: NAME is the percent-decoded parameter name
 * (NUL-terminated, at most 255 bytes; longer names are never passed). Return
 * nonzero to remove the parameter. */
typedef int (*url_param_pred)(const char *name, size_t len, void *arg);

/* Write URL[0..LEN) to OUT (appended) without the parameters PRED selects.
 * Every other byte is kept exactly: order, separators, the fragment. The
 * separator in front of a removed parameter goes with it (for the first
 * parameter, the one after it); when nothing is left of the query the '?'
 * goes too. *REMOVED (may be NULL) gets the number of parameters removed.
 * Returns 0 or URL_E_NOMEM. */
int url_strip_params(const char *url, size_t len, url_param_pred pred, void *arg,
		     struct buf *out, int *removed);
/* Same with URL_Q_* FLAGS (URL_Q_HTML for raw attribute bytes). */
int url_strip_params_ex(const char *url, size_t len, unsigned flags, url_param_pred pred,
			void *arg, struct buf *out, int *removed);

/* ---- decoders --------------------------------------------------------------
 * Each appends the decoded bytes of IN[0..LEN) to OUT (after buf_reset by the
 * caller if wanted) and returns 0, URL_E_DECODE, URL_E_NOFIELD or URL_E_NOMEM.
 * On error OUT may hold partial output; callers discard it. */
enum url_decoder {
	URL_DEC_PERCENT = 1,	/* strict: "%" + 2 hex digits; %00 rejected; '+' kept */
	URL_DEC_BASE64,		/* A-Z a-z 0-9 + /, padding optional but exact if present */
	URL_DEC_BASE64URL,	/* A-Z a-z 0-9 - _, padding optional but exact if present */
	URL_DEC_JSON,		/* FIELD is a dotted path "a.b.c"; value must be a string */
	URL_DEC_JWT		/* base64url payload (b of a.b.c, a of a.b, or all of a) -> JSON */
};

int url_decode_percent(const char *in, size_t len, struct buf *out);
int url_decode_base64(const char *in, size_t len, struct buf *out);
int url_decode_base64url(const char *in, size_t len, struct buf *out);
/* FIELD: NUL-terminated dotted path. */
int url_decode_json(const char *in, size_t len, const char *field, struct buf *out);
int url_decode_jwt(const char *in, size_t len, const char *field, struct buf *out);
/* Dispatch on KIND; FIELD is used by URL_DEC_JSON and URL_DEC_JWT only. */
int url_decode(enum url_decoder kind, const char *field, const char *in, size_t len,
	       struct buf *out);

/* ---- URLs in text/plain ------------------------------------------------------
 * Finds "http://", "https://" (any case) and "www." starting at a word
 * boundary. The URL ends at whitespace, a control, '"', '<', '>' or '`';
 * then trailing . , : ; ! ? ' * are dropped, and a trailing ')' ']' '}' is
 * dropped while it has no opening partner inside the URL. A URL right after
 * '<' (or "<URL:") ends at the matching '>' and keeps its punctuation
 * (URL_TEXT_ANGLE). A URL must have at least one host character. Text is
 * ASCII-compatible (UTF-8): a Unicode space (NBSP, U+2000..U+200B, U+3000...)
 * also ends a URL, typographic closing quotes and full stops (” ’ » 。 ...)
 * are trimmed like their ASCII counterparts, and a URL right after a
 * non-ASCII quote or bracket is found. */
#define URL_TEXT_WWW	0x1	/* starts with "www." (no scheme) */
#define URL_TEXT_ANGLE	0x2	/* wrapped in <...> */

/* Search TEXT from offset *POS to LEN. Returns 1 with *OFF and *SPAN_LEN set to the URL and
 * *POS moved past it, or 0 when there is none. FLAGS may be NULL. */
int url_find_in_text(const char *text, size_t len, size_t *pos, size_t *off,
		     size_t *span_len, unsigned *flags);

#endif
