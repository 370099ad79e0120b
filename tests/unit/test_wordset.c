/* test_wordset.c - unit tests of the word search (src/wordset.c): fixed
 * cases, and the skip search against a literal one (every position, every
 * word) on random texts built from pieces of the words. */
#include "build-config.h"
#include "tap.h"
#include "wordset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const words[] = {
	"unsubscribe", "unsub", "opt-out", "opt out", "abmelden", "d\xc3\xa9sinscri",
	"d&eacute;sinscri", "pr\xe9" "f\xe9rences", "view online", "/px", NULL
};
static const char *const short_words[] = { "ab", "zz", "a-", NULL };

/* The literal search: is there a word at any position, ASCII case folded? */
static int
naive(const char *const *w, const char *s, size_t n, int skip_tags)
{
	size_t i, j, k;
	int in_tag = 0;

	for (i = 0; i < n; i++) {
		if (skip_tags && s[i] == '<')
			in_tag = 1;
		if (in_tag) {
			if (s[i] == '>')
				in_tag = 0;
			continue;
		}
		for (k = 0; w[k] != NULL; k++) {
			size_t len = strlen(w[k]);

			if (len > n - i)
				continue;
			for (j = 0; j < len; j++) {
				unsigned char c = (unsigned char)s[i + j];

				if (c >= 'A' && c <= 'Z')
					c = (unsigned char)(c + 32);
				if (c != (unsigned char)w[k][j] || (skip_tags && (c == '<' || c == '>')))
					break;
			}
			if (j == len)
				return 1;
		}
	}
	return 0;
}

START_TEST(fixed_cases)
{
	static struct wordset ws;

	wordset_build(&ws, words);
	ck_assert(wordset_scan(&ws, "https://x.example/UnSubScribe?id=1", 34));
	ck_assert(wordset_scan(&ws, "unsub", 5));
	ck_assert(!wordset_scan(&ws, "unsu", 4));
	ck_assert(!wordset_scan(&ws, "", 0));
	ck_assert(wordset_scan(&ws, "Click to OPT OUT now", 20));
	ck_assert(wordset_scan(&ws, "se D\xc3\xa9sinscrire", 16));
	ck_assert(!wordset_scan(&ws, "se D\xc3\x89sinscrire", 16));	/* non-ASCII as written */
	ck_assert(wordset_scan(&ws, "/img/PX.gif", 11));
	ck_assert(!wordset_scan(&ws, "/img/p.x.gif", 12));
	ck_assert(wordset_find(&ws, "<b>view</b> online", 18, 1) == 0);
	ck_assert(wordset_find(&ws, "<b>view online</b>", 18, 1) == 1);
	ck_assert(wordset_find(&ws, "<a title=\"unsubscribe\">x</a>", 28, 1) == 0);
	ck_assert(wordset_find(&ws, "<a title=\"unsubscribe\">x</a>", 28, 0) == 1);
	wordset_build(&ws, short_words);
	ck_assert(wordset_scan(&ws, "xAb", 3));
	ck_assert(wordset_scan(&ws, "A-", 2));
	ck_assert(!wordset_scan(&ws, "a", 1));
	ck_assert(wordset_scan(&ws, "ba-z", 4));
}
END_TEST

/* Random texts from word pieces, case flips, separators and other bytes. */
START_TEST(same_as_literal_search)
{
	static struct wordset ws, ws2;
	static const char *const pieces[] = {
		"un", "sub", "scribe", "opt", "-", " ", "out", "ab", "mel", "den", "d\xc3\xa9", "sin",
		"scri", "&eacute;", "pr", "\xe9", "f", "rences", "view", "online", "/", "px", "<", ">",
		"x", "Z", "zz", "a-", "%", "\xc3", "\x89", "?", "=", ".", "_"
	};
	const size_t np = sizeof(pieces) / sizeof(pieces[0]);
	char s[256];
	unsigned seed = 42;
	int i, hits = 0;

	wordset_build(&ws, words);
	wordset_build(&ws2, short_words);
	for (i = 0; i < 200000; i++) {
		size_t n = 0, k;

		seed = seed * 1103515245u + 12345u;
		for (k = (seed >> 16) % 12; k > 0; k--) {
			const char *p;
			size_t l;

			seed = seed * 1103515245u + 12345u;
			p = pieces[(seed >> 8) % np];
			l = strlen(p);
			if (n + l >= sizeof(s))
				break;
			memcpy(s + n, p, l);
			if ((seed >> 24) & 1)	/* upper-case the piece's ASCII letters */
				for (size_t j = n; j < n + l; j++)
					if (s[j] >= 'a' && s[j] <= 'z')
						s[j] = (char)(s[j] - 32);
			n += l;
		}
		ck_assert_int_eq(wordset_scan(&ws, s, n), naive(words, s, n, 0));
		ck_assert_int_eq(wordset_find(&ws, s, n, 1), naive(words, s, n, 1));
		ck_assert_int_eq(wordset_scan(&ws2, s, n), naive(short_words, s, n, 0));
		hits += naive(words, s, n, 0);
	}
	/* the texts do hit words, often enough to mean something */
	ck_assert_int_gt(hits, 1000);
	ck_assert_int_lt(hits, 150000);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("wordset");
	TCase *tc = tcase_create("wordset");

	tcase_add_test(tc, fixed_cases);
	tcase_add_test(tc, same_as_literal_search);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return cm_run_suite(s);
}
