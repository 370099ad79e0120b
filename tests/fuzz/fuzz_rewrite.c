/* fuzz_rewrite.c - libFuzzer target for the engine: rewrites the input under
 * a consent, kind and options chosen by its first byte, with the real tracker
 * rules and one recipient, and checks that the output is the input with only
 * the traced edit spans replaced, that no edit grows by more than
 * REWRITE_MAX_GROWTH bytes, that consent "all" changes nothing, and that an
 * HTML output tokenizes to the end. Build and run: bench/fuzz.sh rewrite SECONDS
 * (the rules file: $CM_TRACKERS, default etc/trackers.conf). */
#include "build-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "html.h"
#include "pii.h"
#include "rewrite.h"
#include "rules.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static struct rules *rules;
static struct pii_set *pii;
static char unsub0[] = "https://shop.example.com/unsubscribe?id=7";
static char *const unsub[] = { unsub0 };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("CM_TRACKERS");
	struct cfg_error *errs = NULL;

	(void)argc;
	(void)argv;
	rules = rules_load(path != NULL ? path : "etc/trackers.conf", &errs);
	if (rules == NULL)
		rules = rules_new_empty();
	CHECK(rules != NULL);
	pii = pii_new();
	CHECK(pii != NULL);
	CHECK(pii_add_recipient(pii, "Bob.Smith+news@Example.org", "bob.smith@example.org") == 0);
	return 0;
}

static void
check_trace(const char *in, size_t len, const struct buf *out, const struct rewrite_trace *tr)
{
	size_t i, ip = 0, op = 0;

	for (i = 0; i < tr->n; i++) {
		const struct rewrite_span *s = &tr->spans[i];

		CHECK(s->start >= ip && s->end >= s->start && s->end <= len);
		CHECK(s->out_start == op + (s->start - ip));
		CHECK(memcmp(in + ip, out->data + op, s->start - ip) == 0);
		CHECK(s->rep_len <= s->end - s->start + REWRITE_MAX_GROWTH);
		op = s->out_start + s->rep_len;
		CHECK(op <= out->len);
		ip = s->end;
	}
	CHECK(out->len - op == len - ip);
	CHECK(memcmp(in + ip, out->data + op, len - ip) == 0);
	CHECK(out->len <= len + tr->n * REWRITE_MAX_GROWTH);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rewrite_policy pol;
	struct rewrite_counts c;
	struct rewrite_trace tr = { NULL, 0, 0 };
	struct buf out = BUF_INIT;
	enum rewrite_kind kind;
	const char *in;
	size_t len;
	int changed;

	if (size < 1)
		return 0;
	memset(&pol, 0, sizeof(pol));
	pol.rules = rules;
	pol.pii = (data[0] & 0x20) ? NULL : pii;
	pol.unsubscribe_urls = unsub;
	pol.n_unsubscribe = 1;
	pol.consent = data[0] & 3;
	pol.pixel_anonymize = (data[0] >> 3) & 1;
	pol.strip_campaign = (data[0] >> 4) & 1;
	kind = (data[0] & 4) ? REWRITE_TEXT : REWRITE_HTML;
	in = (const char *)data + 1;
	len = size - 1;

	memset(&c, 0, sizeof(c));
	CHECK(rewrite_part_traced(&pol, kind, in, len, &out, &changed, &c, &tr) == 0);
	CHECK(changed == (tr.n > 0));
	if (pol.consent == 3 || (kind == REWRITE_TEXT && (pol.consent & 2)))
		CHECK(!changed);
	if (changed) {
		check_trace(in, len, &out, &tr);
		if (kind == REWRITE_HTML) {
			struct html_tokenizer t;
			struct html_token tok;
			size_t n = 0;

			html_init(&t, out.data, out.len);
			while (html_next(&t, &tok) != HTML_EOF)
				CHECK(++n <= out.len + 1);
		}
	}
	free(tr.spans);
	buf_free(&out);
	return 0;
}
