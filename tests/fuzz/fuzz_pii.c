/* fuzz_pii.c - libFuzzer target for pii.c: the first line of the input is a
 * recipient address, the rest a URL; hits must lie inside the URL and
 * advance. Build like fuzz_css.c, adding src/pii.c src/buf.c -lcrypto. */
#include "build-config.h"
#include "pii.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Large recipient sets change how the search skips (its window shrinks as
 * needles grow in number: an over-read at 300 to 1,000 recipients was found
 * only this way). They are built once; every URL is also searched in one. */
#define NBIG 4
static struct pii_set *big[NBIG];

static void
check_hits(const struct pii_set *s, const char *url, size_t ulen)
{
	struct pii_hit h;
	size_t from = 0;

	while (pii_find_from(s, url, ulen, from, &h) == 1) {
		if (h.start < from || h.end <= h.start || h.end > ulen)
			abort();
		from = h.end;
	}
}

static void
build_big(void)
{
	static const int sizes[NBIG] = { 50, 300, 700, 1100 };
	char a[64];
	int i, k;

	for (i = 0; i < NBIG; i++) {
		big[i] = pii_new();
		if (big[i] == NULL)
			abort();
		for (k = 0; k < sizes[i]; k++) {
			snprintf(a, sizeof(a), "u%d@e%d.io", k, k);
			if (pii_add_recipient(big[i], a, a) < 0)
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	char addr[400];
	size_t alen;
	const char *url;
	size_t ulen;
	struct pii_set *s;
	struct pii_hit h;

	if (nl == NULL)
		return 0;
	alen = (size_t)(nl - (const char *)data);
	if (alen >= sizeof(addr))
		return 0;
	memcpy(addr, data, alen);
	addr[alen] = '\0';
	url = nl + 1;
	ulen = size - alen - 1;
	s = pii_new();
	if (s == NULL || pii_add_recipient(s, addr, addr) < 0)
		abort();
	/* the address itself, as its own URL, must be found when long enough
	 * (and not longer than any real address: longer ones are ignored) */
	if (alen >= PII_MIN_NEEDLE && alen <= 254 && strlen(addr) == alen &&
	    pii_find(s, addr, alen, &h) != 1)
		abort();
	check_hits(s, url, ulen);
	pii_free(s);
	if (big[0] == NULL)
		build_big();
	check_hits(big[ulen % NBIG], url, ulen);
	return 0;
}
