/* cte.h - content transfer encodings: the parts of cte.c that only mime.c
 * (and the tests) use. The plain decoders and encoders are declared in
 * mime.h (mime_decode_qp() ...), where the test mode finds them too. */
#ifndef CM_CTE_H
#define CM_CTE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct mime_edits;

/* Where quoted-printable input may be cut and re-encoded from: just after a
 * soft line break ("=\r\n" or "=\n"). enc is the offset in the encoded
 * input, dec the offset in its decoding; the decoding of the input is the
 * decoding of enc[0, x) followed by that of enc[x, end) at any such x. */
struct qp_mark {
	uint32_t enc, dec;
};

struct qp_marks {
	struct qp_mark *v;	/* in input order; malloc'd, free() it */
	size_t n, cap;
	int failed;		/* out of memory while recording: marks unusable */
};

/* mime_decode_qp(), and each soft break is recorded in *mk (which starts
 * zeroed, and is used for one part; the caller frees mk->v). Without
 * memory, or for a part of 4 GB or more, mk->failed is set instead. */
int qp_decode_marked(const char *in, size_t len, struct buf *out, struct qp_marks *mk);

/* 1 if EDITS describe TEXT (tlen bytes) exactly as DEC (dlen bytes) with
 * spans replaced: in order, within both, and every byte outside them equal;
 * else 0. */
int qp_edits_match(const char *dec, size_t dlen, const char *text, size_t tlen,
		   const struct mime_edits *edits);

/* Append DEC (dlen bytes) with EDITS applied to OUT, each edit's new bytes
 * taken from REP (replen bytes) at its out_start: REP is either the whole
 * new text (as qp_edits_match() checks it) or only the replacements (sparse
 * edits). Returns 0; 1 when the edits are out of order or out of range
 * (nothing appended); -1 when out of memory. */
int qp_edits_apply(const char *dec, size_t dlen, const char *rep, size_t replen,
		   const struct mime_edits *edits, struct buf *out);

/* Re-encode the edited text of ORIG (olen bytes, quoted-printable, soft
 * breaks in MK, decoding to DEC, dlen bytes), which is DEC with EDITS
 * applied (their bytes in REP, as for qp_edits_apply()), appending to OUT:
 * ORIG's encoded lines are copied where nothing changed, and only the
 * stretch between the soft breaks around each edit (or run of nearby edits)
 * is put together and encoded anew with mime_encode_qp(). Each such stretch
 * starts at a line start and ends with a line end (adding a soft break), or
 * at the end of the part; a part that ended with a line end still does.
 * With REP the whole new text, the caller checks first that EDITS describe
 * it (qp_edits_match()).
 * Returns 0; 1 when the marks are unusable or the edits are out of order
 * or range (nothing appended: encode the whole part instead); -1 when out
 * of memory. When SEGS is not NULL, the offsets in OUT of each new stretch
 * are appended to it as pairs of size_t (start, end). */
int qp_encode_around(const char *orig, size_t olen, const struct qp_marks *mk, const char *dec,
		     size_t dlen, const char *rep, size_t replen, const struct mime_edits *edits,
		     struct buf *out, struct buf *segs);

#endif
