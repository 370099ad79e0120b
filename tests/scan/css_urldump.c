/* css_urldump.c - test helper for css_differential.sh: reads inputs framed
 * as "<length>\n<bytes>" from stdin, and for each prints the decoded URLs
 * css_next_url() finds in style-sheet mode (hex, one per line; malformed ones
 * and @import strings left out), then a line "--". */
#include "build-config.h"
#include "css.h"

#include <stdio.h>
#include <stdlib.h>

int
main(void)
{
	static char in[1 << 16], dec[1 << 16];
	unsigned long n;

	while (scanf("%lu", &n) == 1 && getchar() == '\n') {
		struct css_scanner sc;
		struct css_url u;
		size_t i;

		if (n > sizeof(in) || fread(in, 1, n, stdin) != n)
			return 1;
		css_scan_init(&sc, in, n, CSS_STYLESHEET);
		while (css_next_url(&sc, &u, dec, sizeof(dec))) {
			/* @import "x": a bare string, a URL only by its context */
			if ((u.flags & CSS_URL_BAD) || ((u.flags & CSS_IN_IMPORT) &&
			    (in[u.token.start] == '"' || in[u.token.start] == '\'')))
				continue;
			for (i = 0; i < u.url_len; i++)
				printf("%02x", (unsigned char)dec[i]);
			printf("\n");
		}
		printf("--\n");
	}
	return 0;
}
