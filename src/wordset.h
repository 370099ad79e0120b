/* wordset.h - does a text contain any of a fixed set of words, ASCII
 * case-insensitively? (The engine's functional words in link text and URLs,
 * its tracking words in resource paths.) */
#ifndef CM_WORDSET_H
#define CM_WORDSET_H

#include <stddef.h>
#include <stdint.h>

#define WORDSET_MAX	128	/* words kept of a list; more are ignored */

/* Built once (it is large) and then only read: share it between threads. */
struct wordset {
	const char *const *words;
	size_t n, m;			/* words; the shortest one's length */
	unsigned char shift[32 * 32];	/* skip search, by byte-class pair */
	uint64_t first[256][2], second[256][2];	/* words by first, second byte */
	unsigned char len[WORDSET_MAX];
};

/* WORDS: NULL-terminated, each at least 2 bytes, lowercase ASCII letters
 * (other bytes, UTF-8 included, are matched as written). Kept by pointer. */
void wordset_build(struct wordset *ws, const char *const *words);
/* Does S[0..N) contain one of the words? */
int wordset_scan(const struct wordset *ws, const char *s, size_t n);
/* The same, skipping bytes inside <...> when SKIP_TAGS (HTML link text): no
 * word holds '<' or '>', so a word never spans a tag. */
int wordset_find(const struct wordset *ws, const char *s, size_t n, int skip_tags);

#endif
