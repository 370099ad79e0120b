/* headers.h - a message's top-level header fields, and the edits we ask for.
 *
 * Values are kept as the MTA hands them to the milter with SMFIP_HDR_LEADSPC:
 * everything after the colon, leading space included; a folded value keeps its
 * line breaks as "\n" followed by the continuation's white space (Postfix
 * sends LF there, test mode normalises CRLF to the same). */
#ifndef CM_HEADERS_H
#define CM_HEADERS_H

#include <stddef.h>

#include "buf.h"

struct header {
	char *name;
	char *value;
};

struct header_list {
	struct header *v;
	size_t n, cap;
};

int headers_add(struct header_list *h, const char *name, const char *value);
/* The NTH (1-based) field named NAME (case-insensitive), or NULL. */
const char *headers_get(const struct header_list *h, const char *name, int nth);
int headers_count(const struct header_list *h, const char *name);
void headers_clear(struct header_list *h);	/* keeps the array for reuse */
void headers_free(struct header_list *h);
/* "Name:value\r\n" for every field, "\n" inside values as "\r\n" (the block
 * GMime parses in front of the body). */
int headers_block(const struct header_list *h, struct buf *out);
/* Parse a header block (CRLF or LF line ends, up to the first empty line)
 * from TEXT. *CONSUMED gets the bytes used including the empty line.
 * 0, or -1 when the text has no header/body separator or a line is not a
 * header field. */
int headers_parse(const char *text, size_t len, struct header_list *h, size_t *consumed);
/* The value without leading/trailing white space and with unfolding, into
 * OUT (NUL-terminated, truncated to OUTLEN). */
void headers_value_trim(const char *value, char *out, size_t outlen);

/* Header edits, applied at end of message (smfi_chgheader / smfi_addheader)
 * or by test mode to its own copy. */
enum hdr_op { HDR_ADD, HDR_CHANGE, HDR_DELETE };

struct hdr_edit {
	enum hdr_op op;
	char *name;
	int index;	/* CHANGE/DELETE: 1-based occurrence of NAME */
	char *value;	/* ADD/CHANGE: the new value (leading space included) */
};

struct hdr_edits {
	struct hdr_edit *v;
	size_t n, cap;
};

int hdr_edits_add(struct hdr_edits *e, enum hdr_op op, const char *name,
		  int index, const char *value);
void hdr_edits_clear(struct hdr_edits *e);
void hdr_edits_free(struct hdr_edits *e);
/* Apply the edits to a header list (test mode): DELETE removes the field,
 * CHANGE replaces its value, ADD appends. 0 or -1 (out of memory). */
int hdr_edits_apply(const struct hdr_edits *e, struct header_list *h);

#endif
