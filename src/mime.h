/* mime.h - find the text parts of a message, hand them to an editor, splice
 * the edited parts back into a byte-exact copy of the original body.
 *
 * GMime is used only to learn the structure (each part's headers and the byte
 * range of its content). Nothing GMime writes ever reaches the output: every
 * byte outside an edited part's content span is copied from the input. Of
 * the top-level headers GMime is given only the Content-* ones when every
 * header of the block is plain (printable name, CRLF lines, blank-started
 * continuations); the one verdict its parser gives on the others, a single
 * header (From, Subject...) repeated with another value, is reached here.
 *
 * Thread safety: mime_global_init() once at start (before threads); after
 * that mime_rewrite() may run concurrently in any number of threads, it keeps
 * no shared mutable state.
 *
 * Input contract: CRLF line ends, as an MTA sends them (the test mode should
 * turn LF input into CRLF first and back afterwards): re-encoded parts are
 * written with CRLF.
 *
 * Policy, in short:
 * - handed out: text/html and text/plain leaves at any depth, unless
 *   Content-Disposition: attachment; empty parts are not handed out.
 * - never entered: multipart/signed, multipart/encrypted,
 *   application/(x-)pkcs7-mime, application/pgp-encrypted, and every
 *   message/ subtype (attached or inline: it is someone else's message).
 * - a part is left as it is (the message still goes through, `why` says why)
 *   when its transfer encoding is not one of 7bit/8bit/binary/QP/base64, its
 *   base64 is cut off (a lone or unpadded last quantum) or has data after
 *   its padding, its charset cannot
 *   be converted, GMime's content range does not sit between boundaries, or
 *   the edit cannot be written back faithfully: not representable in the
 *   charset, 8-bit data new to a 7bit part, a NUL new to a 7bit/8bit part,
 *   a line over 998 octets new to it, or a line that would read as a
 *   boundary of an enclosing multipart. No part changes its transfer
 *   encoding or its headers.
 * - the whole message is left alone (MIME_ERROR) for nesting deeper than
 *   max_depth, for any critical GMime parser warning (invalid header line,
 *   conflicting header or parameter, nesting overflow, part without headers
 *   or content: readers may disagree on the structure), or when the editor
 *   returns -1.
 * - an edit that re-encodes to the original bytes is no change.
 * - a quoted-printable part whose editor tells its edits (struct
 *   mime_edits) is re-encoded only between the soft line breaks around
 *   them; its other encoded lines stay byte for byte.
 * - quoted-printable is decoded exactly as GMime decodes it (malformed "="
 *   sequences kept, blanks before line ends kept).
 * - text/x-amp-html is removed with its delimiter line only inside a
 *   multipart/alternative that keeps another alternative. */
#ifndef CM_MIME_H
#define CM_MIME_H

#include <stddef.h>

#include "buf.h"

/* Results of mime_rewrite(). */
enum mime_result {
	MIME_ERROR = -1,	/* nothing usable; deliver the original, log `why` */
	MIME_UNCHANGED = 0,	/* no part changed; newbody untouched */
	MIME_CHANGED = 1	/* newbody holds the whole new body (no top-level headers) */
};

/* Transfer encodings, as found in a part's Content-Transfer-Encoding. */
enum mime_cte {
	MIME_CTE_7BIT = 0,	/* also: header absent */
	MIME_CTE_8BIT,
	MIME_CTE_BINARY,
	MIME_CTE_QP,
	MIME_CTE_BASE64
};

struct mime_opts {
	int max_depth;		/* MaxMimeDepth: deeper multipart nesting is an error */
	int remove_amp;		/* drop text/x-amp-html alternatives (no `open` consent) */
};

/* One replacement an editor made: bytes [start, end) of the decoded text it
 * was given became len bytes at out_start of its output. */
struct mime_edit {
	size_t start, end, out_start, len;
};

/* An editor's replacements, in input order and not overlapping, accounting
 * for every byte that differs. Telling them is optional: with them, a
 * quoted-printable part is re-encoded only around the edits and keeps its
 * other encoded lines exactly (a list that does not describe the output is
 * detected, and the part is then re-encoded whole).
 * Sparse: the editor's output holds only the replacements, back to back
 * (out_start of each is the sum of the lengths before it), and the new text
 * is the decoded text with the spans replaced; it is put together only when
 * a part needs it whole (charset conversion, base64, 7bit/8bit checks). A
 * sparse list out of order or out of range leaves the part as it was. */
struct mime_edits {
	struct mime_edit *v;	/* malloc'd by the editor; mime_rewrite() frees it */
	size_t n;
	int sparse;		/* set by the editor: see above */
};

/* What the callback learns about one text part. The strings are valid only
 * during the call. */
struct mime_part_info {
	const char *content_type;	/* "text/html" or "text/plain" (lower case) */
	const char *charset;		/* charset of `decoded`: the part's own label when it is
					 * ASCII-compatible (or unknown), "utf-8" after conversion;
					 * "us-ascii" when the part has no charset parameter */
	const char *orig_charset;	/* the part's charset parameter, NULL if none */
	int converted;			/* 1: decoded was converted to UTF-8 from orig_charset */
	int is_html;			/* content_type is text/html */
	int depth;			/* 0: the message itself; 1: a child of the top multipart ... */
	int index;			/* 0-based count of text parts handed out so far */
	enum mime_cte cte;		/* the part's transfer encoding */
	struct mime_edits *edits;	/* empty; an editor that changed the part may
					 * describe its edits here (see above) */
};

/* The editor. `decoded` (len bytes, NUL-terminated for convenience, may contain
 * NULs) is the part's content after transfer decoding, in an ASCII-compatible
 * charset (see info->charset). To edit, fill `out` with the complete new
 * decoded content (or, with sparse edits told in info->edits, only the
 * replacements) and set *changed = 1. Return 0, or -1 to abandon the whole
 * message (mime_rewrite then returns MIME_ERROR and changes nothing). */
typedef int (*mime_part_fn)(void *arg, const struct mime_part_info *info,
			    const char *decoded, size_t len, struct buf *out, int *changed);

struct mime_stats {
	unsigned parts;		/* leaf parts seen (not counting inside skipped subtrees) */
	unsigned text_parts;	/* handed to the callback */
	unsigned changed_parts;	/* re-encoded and spliced */
	unsigned attachments;	/* text parts skipped: Content-Disposition: attachment */
	unsigned protected_parts;	/* signed, encrypted and message/ subtrees left alone */
	unsigned failed_parts;	/* left untouched: decode, charset or re-encode problem */
	unsigned converted_parts;	/* text parts converted to UTF-8 and back */
	unsigned amp_removed;	/* text/x-amp-html parts removed */
	unsigned warnings;	/* structural warnings reported by GMime's parser (not its
				 * minor ones on top-level headers other than Content-*,
				 * such as a malformed address, which it is not shown) */
	int max_depth_seen;
};

/* Call once at start-up (g_mime_init) and once at exit. */
void mime_global_init(void);
void mime_global_shutdown(void);

/* Rewrite the text parts of one message.
 *   headers/hlen: top-level header block, "Name: value\r\n" lines, no blank line
 *   body/blen:    the body exactly as the MTA sent it (CRLF line ends)
 *   opts:         NULL means max_depth 20, no AMP removal
 *   fn/arg:       the editor, called once per text/html or text/plain part
 *                 (NULL: no part is handed out, e.g. only AMP removal)
 *   newbody:      on MIME_CHANGED, the new body is appended to it
 *   st:           statistics (may be NULL); zeroed first
 *   why/whylen:   always NUL-terminated: on MIME_ERROR the reason; otherwise
 *                 the first per-part problem (a part left untouched), or ""
 * Returns an enum mime_result. Never touches newbody unless MIME_CHANGED. */
int mime_rewrite(const char *headers, size_t hlen, const char *body, size_t blen,
		 const struct mime_opts *opts, mime_part_fn fn, void *arg,
		 struct buf *newbody, struct mime_stats *st, char *why, size_t whylen);

/* Cheap pre-check on the top-level Content-Type value (NULL: header absent),
 * before the body is buffered at all: 1 if the message may hold a text part
 * mime_rewrite() would hand out (text/..., multipart/... other than signed
 * and encrypted, absent or unparseable), 0 otherwise. */
int mime_may_contain_text(const char *content_type_header_value);

/* Transfer-encoding helpers, exposed for tests and the test mode.
 * Decoders append to out; return 0, or -1 with a reason (base64 truncated
 * inside a quantum, out of memory). Encoders produce CRLF lines. */
int mime_decode_qp(const char *in, size_t len, struct buf *out);
int mime_decode_base64(const char *in, size_t len, struct buf *out, const char **reason);
int mime_encode_qp(const char *in, size_t len, struct buf *out);
int mime_encode_base64(const char *in, size_t len, struct buf *out);

#endif
