/* pii.h - find a recipient's email address inside a URL, plain, encoded or
 * hashed.
 *
 * Usage, per message:
 *
 *   struct pii_set *s = pii_new();
 *   for each envelope recipient:
 *           pii_add_recipient(s, original, normalised);
 *   for each URL:
 *           struct pii_hit h;
 *           size_t from = 0;
 *           while (pii_find_from(s, url, len, from, &h) == 1) {
 *                   ... h.start, h.end, pii_kind_name(h.kind) ...
 *                   from = h.end;
 *           }
 *   pii_free(s);
 *
 * Thread-safety: a set belongs to one message; it is read-only after the
 * last pii_add_recipient(), so pii_find() may then be called from any thread.
 * No global mutable state.
 *
 * What is searched (the "needles", precomputed by pii_add_recipient from the
 * address forms O = original as given, N = normalised as given by the caller
 * (lower-cased, subaddress removed), L = lower-cased O; duplicates dropped):
 *   PII_PLAIN       O and N, case-insensitive
 *   PII_PERCENT     O and N percent-encoded (every byte outside A-Z a-z 0-9
 *                   - . _ ~ encoded: `@` is %40, `+` is %2B), and the
 *                   variant where only `@` is encoded; case-insensitive, so
 *                   %2b and %2B both match
 *   PII_PERCENT2    double-encoded (`@` is %2540); case-insensitive
 *   PII_BASE64      O, N, L in standard base64, in the three byte alignments
 *                   (0, 1 or 2 bytes before the address in a longer blob),
 *                   keeping the characters that depend only on the address;
 *                   at alignment 0 the span is extended over the final
 *                   partial character and padding (`=` or `%3D`) when they
 *                   match a standalone encoding; with or without padding
 *   PII_BASE64URL   the same in the url-safe alphabet (- and _)
 *   PII_BASE64PCT   standard base64 with + / = percent-encoded (%2B %2F %3D)
 *   PII_MD5, PII_SHA1, PII_SHA256
 *                   hex digest of O, N and L (hashes are case-sensitive in
 *                   what was hashed: MD5("Bob@X.com") != MD5("bob@x.com")),
 *                   matched case-insensitively: lower and upper hex both hit
 *   PII_HEX         O and N written as hex bytes (626f62406578...), any case
 *
 * False positives: needles shorter than PII_MIN_NEEDLE bytes are dropped.
 * Plain and percent-encoded hits must stand at an address boundary: the
 * (possibly %XX-encoded) byte before must not be a local-part character
 * (letter, digit, . _ + -) and the byte after must not continue the domain
 * (letter, digit, -, or . followed by a letter or digit), so the needle for
 * bob@x.com does not hit jimbob@x.com or bob@x.com.evil.example. Base64 hits
 * and hex-encoded hits get the same check on the decoded neighbouring bytes
 * (for base64 only where the neighbouring characters are letters or digits
 * of the blob). Hex digests need no check.
 *
 * Cost: pii_find scans the URL once, skipping ahead: it looks at windows
 * as long as the shortest needle (up to 16 bytes), and a table of the
 * needles' two-byte blocks tells how far the window can move without passing
 * the start of any needle (mostly the window's length less one). Where one
 * may start, a bitmap of hashes of the needles' first four bytes (folded) rejects
 * most positions with one load (512 bytes up to 64 needles, at most 8 KB); otherwise a hash of the next twelve bytes
 * (six for needles shorter than twelve) selects one bucket of needles to
 * compare. With one or a few recipients that is about 1.5 instructions per
 * URL byte; the table grows with the set (4 KB up to about 130 needles, at
 * most 64 KB) and the windows shrink, down to visiting every position with
 * more than about 6500 needles (240 recipients): the work per URL byte does
 * not grow with the number of needles beyond that (100 recipients x 25
 * needles: see tests/unit/test_pii.c). Memory: about 6 KB + 40 bytes per
 * needle (+ 8 bytes per needle for the bitmap, up to 8 KB).
 */
#ifndef CM_PII_H
#define CM_PII_H

#include <stddef.h>

#define PII_MIN_NEEDLE 6	/* shorter needles are not searched */

enum pii_kind {
	PII_PLAIN = 0,
	PII_PERCENT,
	PII_PERCENT2,
	PII_BASE64,
	PII_BASE64URL,
	PII_BASE64PCT,
	PII_MD5,
	PII_SHA1,
	PII_SHA256,
	PII_HEX,		/* the address's bytes in hex ("626f6240..."); added last */
	PII_KIND_COUNT
};

/* Which form of the address was found. */
enum pii_form {
	PII_FORM_ORIGINAL = 0,	/* as given (O) */
	PII_FORM_NORMALISED,	/* as normalised by the caller (N) */
	PII_FORM_LOWER		/* the original lower-cased (L) */
};

struct pii_hit {
	size_t start;		/* span [start, end) in the URL */
	size_t end;
	enum pii_kind kind;
	enum pii_form form;
	unsigned recipient;	/* index in the order of pii_add_recipient, from 0; a
				 * form shared by several recipients (two tagged
				 * addresses of one mailbox) names the first */
};

struct pii_set;

/* A new empty set, or NULL when out of memory. */
struct pii_set *pii_new(void);

/* Add one recipient: ORIGINAL as given in RCPT TO (without <>), NORMALISED
 * as produced by the address module. Either may be NULL or empty (then the
 * other is used alone). Returns 0, or -1 when out of memory (the set stays
 * usable with the recipients added before) or when SET is NULL. */
int pii_add_recipient(struct pii_set *set, const char *original, const char *normalised);

/* Number of recipients added and of distinct needles searched. */
unsigned pii_recipient_count(const struct pii_set *set);
size_t pii_needle_count(const struct pii_set *set);

/* Find the first hit in URL[0, LEN). Returns 1 and fills *hit, 0 when there
 * is none (also for a NULL or empty set). Where several needles hit at the
 * same start, the longest wins. */
int pii_find(const struct pii_set *set, const char *url, size_t len, struct pii_hit *hit);

/* As pii_find, for hits starting at or after FROM. */
int pii_find_from(const struct pii_set *set, const char *url, size_t len, size_t from,
    struct pii_hit *hit);

/* A short constant name for logs: "plain", "percent", "base64url", "sha256"... */
const char *pii_kind_name(enum pii_kind kind);

void pii_free(struct pii_set *set);

#endif
