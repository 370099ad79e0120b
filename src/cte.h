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

/* Re-encode TEXT (tlen bytes), the decoding (dlen bytes) of ORIG (olen
 * bytes, quoted-printable, soft breaks in MK) after EDITS, appending to OUT:
 * ORIG's encoded lines are copied where nothing changed, and only the
 * stretch between the soft breaks around each edit (or run of nearby edits)
 * is encoded anew with mime_encode_qp(). Each such stretch starts at a line
 * start and ends with a line end (adding a soft break), or at the end of
 * the part; a part that ended with a line end still does. The caller checks
 * first that EDITS describe TEXT (qp_edits_match(): needs the decoded
 * original, which is not needed here and may be freed).
 * Returns 0; 1 when the marks are unusable or the edits are out of order
 * or range (nothing appended: encode the whole part instead); -1 when out
 * of memory. When SEGS is not NULL, the offsets in OUT of each new stretch
 * are appended to it as pairs of size_t (start, end). */
int qp_encode_around(const char *orig, size_t olen, const struct qp_marks *mk, size_t dlen,
		     const char *text, size_t tlen, const struct mime_edits *edits,
		     struct buf *out, struct buf *segs);

#endif
