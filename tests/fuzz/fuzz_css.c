/* fuzz_css.c - libFuzzer target for css.c: every scanner entry point on
 * arbitrary bytes, checking that reported spans nest and stay in bounds.
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Isrc \
 *        src/css.c tests/fuzz/fuzz_css.c -o fuzz_css  (build-config.h from a
 *        configured tree on the include path). */
#include "build-config.h"
#include "css.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_urls(const char *s, size_t len, enum css_mode mode)
{
	struct css_scanner sc;
	struct css_url u;
	char dec[64];
	size_t last_end = 0, count = 0;

	css_scan_init(&sc, s, len, mode);
	while (css_next_url(&sc, &u, dec, sizeof(dec))) {
		struct css_span sp;
		const char *text;

		if (u.token.start > u.token.end || u.token.end > len ||
		    u.token.start < last_end || u.raw.start < u.token.start ||
		    u.raw.end > u.token.end || u.raw.start > u.raw.end ||
		    u.url_len >= sizeof(dec) || dec[u.url_len] != '\0')
			abort();
		if ((u.flags & CSS_HAS_DECL) && (u.decl.start > u.token.start ||
		    u.decl.end < u.token.end || u.decl.end > len))
			abort();
		if ((u.flags & CSS_IN_IMPORT) && (u.rule.start > u.token.start ||
		    u.rule.end < u.token.end || u.rule.end > len))
			abort();
		css_neutralize(&u, &sp, &text);
		if (sp.start > sp.end || sp.end > len || text == NULL)
			abort();
		last_end = u.token.end;
		if (++count > len)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct css_scanner sc;
	struct css_decl d;
	struct css_box b;
	double v;

	check_urls(s, size, CSS_STYLESHEET);
	check_urls(s, size, CSS_STYLE_ATTR);
	css_scan_init(&sc, s, size, CSS_STYLE_ATTR);
	while (css_next_decl(&sc, &d))
		if (d.decl.end > size || d.value.start > d.value.end || d.value.end > d.decl.end ||
		    d.decl.start > d.value.start)
			abort();
	css_read_box(s, size, &b);
	(void)css_html_length(s, size, &v);
	return 0;
}
