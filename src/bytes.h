/* bytes.h - small byte-scanning helpers shared by the URL and HTML code. */
#ifndef CM_BYTES_H
#define CM_BYTES_H

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Any byte below 0x0E in S[0..N)? Tab, LF and CR are among them; the others
 * (rare in URLs) only cost the exact check that follows. Eight bytes at a
 * time: the lowest byte x < 0x0E of a word makes (x - 0x0E) borrow with the
 * top bit of x clear, and no other byte can set that bit, so the test is
 * exact for "any". */
static inline int
bytes_have_low_control(const void *p, size_t n)
{
	const unsigned char *s = p;
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t w, acc = 0;
	size_t i;

	if (n < 8) {
		for (i = 0; i < n; i++)
			if (s[i] < 0x0E)
				return 1;
		return 0;
	}
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		acc |= (w - ones * 0x0E) & ~w;
	}
	memcpy(&w, s + n - 8, 8);	/* the tail, overlapping */
	acc |= (w - ones * 0x0E) & ~w;
	return (acc & high) != 0;
}

/* Does S[0..N) contain byte A or byte B? One pass instead of two memchr()
 * calls: 32 (or, below 32 bytes, 16) bytes per step, the last block
 * overlapping the one before. */
static inline int
bytes_have_either(const void *p, size_t n, unsigned char a, unsigned char b)
{
	const unsigned char *s = p;
	size_t i;
#ifdef __SSE2__
	if (n >= 32) {
		/* 32 bytes a step with one mask test, the last step overlapping
		 * the one before: inline styles (40 to 150 bytes, one on every
		 * cell of a template) are what this mostly reads */
		const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b);

		for (i = 0;; i += 32) {
			__m128i x, y;

			if (i + 32 > n)
				i = n - 32;
			x = _mm_loadu_si128((const __m128i *)(s + i));
			y = _mm_loadu_si128((const __m128i *)(s + i + 16));
			if (_mm_movemask_epi8(_mm_or_si128(
			    _mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)),
			    _mm_or_si128(_mm_cmpeq_epi8(y, va), _mm_cmpeq_epi8(y, vb)))) != 0)
				return 1;
			if (i + 32 == n)
				return 0;
		}
	}
	if (n >= 16) {
		const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b);
		__m128i v;

		for (i = 0; i + 16 <= n; i += 16) {
			v = _mm_loadu_si128((const __m128i *)(s + i));
			if (_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, va),
			    _mm_cmpeq_epi8(v, vb))) != 0)
				return 1;
		}
		v = _mm_loadu_si128((const __m128i *)(s + n - 16));
		return _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, va),
		    _mm_cmpeq_epi8(v, vb))) != 0;
	}
#endif
	for (i = 0; i < n; i++)
		if (s[i] == a || s[i] == b)
			return 1;
	return 0;
}

#endif
