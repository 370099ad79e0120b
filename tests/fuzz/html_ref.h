/* html_ref.h - a literal, byte-at-a-time WHATWG tokenizer for cross-checking
 * src/html.c in the fuzz target (see html_ref.c). Not part of the product. */
#ifndef CM_HTML_REF_H
#define CM_HTML_REF_H

#include <stddef.h>

#include "buf.h"
#include "html.h"

struct html_ref_attr {
	size_t name_off, name_len, val_off, val_len;	/* into strs */
	int has_value;
};

struct html_ref_tok {
	int kind;			/* HTML_START_TAG, HTML_END_TAG, HTML_COMMENT, HTML_DOCTYPE */
	size_t start, end;		/* '<' .. after the last byte */
	size_t name_off, name_len;	/* tag / DOCTYPE name, comment data */
	int self_closing;
	size_t nattrs, nattrs_total;
	size_t attr_first;		/* index into html_ref_result.attrs */
	int has_name, has_pub, has_sys, quirks;
	size_t pub_off, pub_len, sys_off, sys_len;
};

struct html_ref_result {
	struct html_ref_tok *toks;
	size_t n, cap;
	struct html_ref_attr *attrs;	/* attributes of all tokens, in order */
	size_t nattrs, attrs_cap;
	struct buf strs;
};

/* model: enum html_model; last: the last start tag (lowercase) or NULL. */
void html_ref_tokenize(const char *buf, size_t len, unsigned opts, int model, const char *last,
    struct html_ref_result *res);
void html_ref_free(struct html_ref_result *res);

#endif
