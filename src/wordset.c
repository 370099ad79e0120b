/* wordset.c - any of a set of words in a text, ASCII case-insensitively, by
 * a Wu-Manber skip search.
 *
 * With M the length of the shortest word, the search looks at the pair of
 * bytes that would end the first M bytes of a word starting M - 1 bytes
 * back, and SHIFT says how far the next such end can be: 0 when the pair
 * ends a word's first M bytes (then word_at() checks every word that starts
 * there), else how much further the pair first occurs in a word's prefix,
 * else M - 1. Most bytes of a URL or a link text are passed over that way,
 * three or four at a step.
 *
 * The pair is indexed by byte classes: ASCII letters in either case are one
 * class each, every other byte one of five more. Many bytes in one class
 * only make more candidates for word_at(), never miss a word. */
#include "build-config.h"

#include <string.h>

#include "wordset.h"

static const unsigned char wclass[256] = {
	27, 28, 29, 30, 31, 27, 28, 29, 30, 31, 27, 28, 29, 30, 31, 27,
	28, 29, 30, 31, 27, 28, 29, 30, 31, 27, 28, 29, 30, 31, 27, 28,
	29, 30, 31, 27, 28, 29, 30, 31, 27, 28, 29, 30, 31, 27, 28, 29,
	30, 31, 27, 28, 29, 30, 31, 27, 28, 29, 30, 31, 27, 28, 29, 30,
	31,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 28, 29, 30, 31, 27,
	28,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 30, 31, 27, 28, 29,
	30, 31, 27, 28, 29, 30, 31, 27, 28, 29, 30, 31, 27, 28, 29, 30,
	31, 27, 28, 29, 30, 31, 27, 28, 29, 30, 31, 27, 28, 29, 30, 31,
	27, 28, 29, 30, 31, 27, 28, 29, 30, 31, 27, 28, 29, 30, 31, 27,
	28, 29, 30, 31, 27, 28, 29, 30, 31, 27, 28, 29, 30, 31, 27, 28,
	29, 30, 31, 27, 28, 29, 30, 31, 27, 28, 29, 30, 31, 27, 28, 29,
	30, 31, 27, 28, 29, 30, 31, 27, 28, 29, 30, 31, 27, 28, 29, 30,
	31, 27, 28, 29, 30, 31, 27, 28, 29, 30, 31, 27, 28, 29, 30, 31,
	27, 28, 29, 30, 31, 27, 28, 29, 30, 31, 27, 28, 29, 30, 31, 27,
};

static unsigned
wpair(unsigned char c0, unsigned char c1)
{
	return (unsigned)wclass[c0] << 5 | wclass[c1];
}

static unsigned char
lower_ascii(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

void
wordset_build(struct wordset *ws, const char *const *words)
{
	size_t i, j, m = 255;

	memset(ws, 0, sizeof(*ws));
	ws->words = words;
	for (i = 0; words[i] != NULL && i < WORDSET_MAX; i++) {
		unsigned char c0 = (unsigned char)words[i][0], c1 = (unsigned char)words[i][1];

		ws->first[c0][i / 64] |= (uint64_t)1 << (i % 64);
		ws->second[c1][i / 64] |= (uint64_t)1 << (i % 64);
		ws->len[i] = (unsigned char)strlen(words[i]);
		if (ws->len[i] < m)
			m = ws->len[i];
	}
	ws->n = i;
	ws->m = m;
	memset(ws->shift, (int)(m - 1), sizeof(ws->shift));
	for (i = 0; i < ws->n; i++)
		for (j = 1; j < m; j++) {
			unsigned k = wpair((unsigned char)words[i][j - 1], (unsigned char)words[i][j]);

			if (ws->shift[k] > m - 1 - j)
				ws->shift[k] = (unsigned char)(m - 1 - j);
		}
}

/* Does a word of WS start at S[i] (S has N bytes, N > i + 1)? */
static int
word_at(const struct wordset *ws, const char *s, size_t n, size_t i)
{
	unsigned char c = lower_ascii((unsigned char)s[i]);
	unsigned char c1 = lower_ascii((unsigned char)s[i + 1]);
	size_t j;
	int h;

	for (h = 0; h < 2; h++) {
		uint64_t m = ws->first[c][h] & ws->second[c1][h];

		while (m != 0) {
			size_t w = (size_t)h * 64 + (size_t)__builtin_ctzll(m);
			const char *word = ws->words[w];

			m &= m - 1;
			if (ws->len[w] > n - i)
				continue;
			for (j = 2; j < ws->len[w]; j++)
				if (lower_ascii((unsigned char)s[i + j]) != (unsigned char)word[j])
					break;
			if (j == ws->len[w])
				return 1;
		}
	}
	return 0;
}

int
wordset_scan(const struct wordset *ws, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t m = ws->m, i, sh;

	if (ws->n == 0)
		return 0;
	for (i = m - 1; i < n; i += sh) {
		sh = ws->shift[wpair(u[i - 1], u[i])];
		if (sh == 0) {
			if (word_at(ws, s, n, i + 1 - m))
				return 1;
			sh = 1;
		}
	}
	return 0;
}

int
wordset_find(const struct wordset *ws, const char *s, size_t n, int skip_tags)
{
	size_t i = 0;

	if (!skip_tags)
		return wordset_scan(ws, s, n);
	while (i < n) {
		const char *lt = memchr(s + i, '<', n - i), *gt;
		size_t e = lt != NULL ? (size_t)(lt - s) : n;

		if (wordset_scan(ws, s + i, e - i))
			return 1;
		if (lt == NULL || (gt = memchr(lt, '>', n - e)) == NULL)
			return 0;
		i = (size_t)(gt - s) + 1;
	}
	return 0;
}
