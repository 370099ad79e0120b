/* bytes.h - small byte-scanning helpers shared by the URL and HTML code. */
#ifndef CM_BYTES_H
#define CM_BYTES_H

#include <stdint.h>
#include <string.h>

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

#endif
