/* fuzz_pii.c - libFuzzer target for pii.c: the first line of the input is a
 * recipient address, the rest a URL; hits must lie inside the URL and
 * advance. Build like fuzz_css.c, adding src/pii.c src/buf.c -lcrypto. */
#include "build-config.h"
#include "pii.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	char addr[400];
	size_t alen, from = 0;
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
	while (pii_find_from(s, url, ulen, from, &h) == 1) {
		if (h.start < from || h.end <= h.start || h.end > ulen)
			abort();
		from = h.end;
	}
	pii_free(s);
	return 0;
}
