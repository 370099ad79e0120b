/* test_rewrite.c - runs every case of the engine fixture corpus
 * (tests/fixtures/engine/NNN-name.case) against the real etc/trackers.conf, one TAP
 * line per case (the case file names the Check test case).
 *
 * Case format: sections introduced by lines starting with "--- ":
 *   --- consent: none|open|click|all
 *   --- kind: html|text                      (default html)
 *   --- rcpt: ORIGINAL [NORMALISED]          (repeatable)
 *   --- unsubscribe: URL                     (repeatable)
 *   --- option: pixel-anonymize | strip-campaign
 *   --- input                                (the lines up to the next section)
 *   --- expect                               (exact output; "--- expect: same":
 *                                             unchanged; "--- expect: noeol": the
 *                                             output, without the body's last newline)
 *   --- counts: pixels=N resources=N unwrapped=N cleaned=N anonymized=N
 *               unresolved=N pii=N           (unlisted counters must be 0)
 * Input and expect bodies are the lines between their header and the next
 * header, each with its newline.
 *
 * Every case also checks: the output equals the input with only the traced
 * edit spans replaced; consent "all" leaves the input byte-identical; the
 * output re-tokenizes to the end; a second pass changes nothing more.
 */
#include "build-config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "pii.h"
#include "rewrite.h"
#include "rules.h"
#include "tap.h"

#define MAX_CASES	400
#define MAX_LIST	8

struct tcase_data {
	char name[128];
	unsigned consent;
	enum rewrite_kind kind;
	char *rcpt_orig[MAX_LIST], *rcpt_norm[MAX_LIST];
	size_t n_rcpt;
	char *unsub[MAX_LIST];
	size_t n_unsub;
	int pixel_anonymize, strip_campaign;
	struct buf input, expect;
	int expect_same, expect_noeol;
	struct rewrite_counts counts;
};

static char *case_paths[MAX_CASES];
static size_t n_cases;
static char fixture_dir[1024];
static char rules_path[1024];

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	if (s == NULL || fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		fclose(f);
		return NULL;
	}
	s[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return s;
}

static char *
trim_dup(const char *s, size_t n)
{
	char *r;

	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	r = malloc(n + 1);
	ck_assert_ptr_nonnull(r);
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

static void
parse_counts(struct tcase_data *c, const char *s)
{
	char key[32];
	unsigned v;
	int used;

	while (sscanf(s, " %31[a-z]=%u%n", key, &v, &used) == 2) {
		if (strcmp(key, "pixels") == 0)
			c->counts.pixels_removed = v;
		else if (strcmp(key, "resources") == 0)
			c->counts.resources_removed = v;
		else if (strcmp(key, "unwrapped") == 0)
			c->counts.links_unwrapped = v;
		else if (strcmp(key, "cleaned") == 0)
			c->counts.links_cleaned = v;
		else if (strcmp(key, "anonymized") == 0)
			c->counts.links_anonymized = v;
		else if (strcmp(key, "unresolved") == 0)
			c->counts.links_unresolved = v;
		else if (strcmp(key, "pii") == 0)
			c->counts.pii_hits = v;
		else
			ck_abort_msg("%s: unknown counter %s", c->name, key);
		s += used;
	}
}

/* Parse one case file into *c; aborts the test on a malformed file. */
static void
load_case(const char *path, struct tcase_data *c)
{
	size_t len, pos = 0;
	char *text = read_file(path, &len);
	struct buf *body = NULL;
	int have_consent = 0, have_expect = 0, have_input = 0;

	ck_assert_msg(text != NULL, "cannot read %s", path);
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", strrchr(path, '/') + 1);
	c->kind = REWRITE_HTML;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - line) : len - pos;
		size_t next = pos + ll + (nl != NULL);

		if (ll >= 4 && memcmp(line, "--- ", 4) == 0) {
			const char *h = line + 4, *colon = memchr(h, ':', ll - 4);
			size_t hl = colon != NULL ? (size_t)(colon - h) : ll - 4;
			char *val = colon != NULL ? trim_dup(colon + 1, ll - 4 - hl - 1) :
			    trim_dup("", 0);

			body = NULL;
			if (hl == 7 && memcmp(h, "consent", 7) == 0) {
				have_consent = 1;
				c->consent = strcmp(val, "all") == 0 ? 3 : strcmp(val, "open") == 0 ?
				    CONSENT_OPEN : strcmp(val, "click") == 0 ? CONSENT_CLICK : 0;
				ck_assert_msg(strcmp(val, "none") == 0 || c->consent != 0,
				    "%s: bad consent %s", c->name, val);
			} else if (hl == 4 && memcmp(h, "kind", 4) == 0) {
				c->kind = strcmp(val, "text") == 0 ? REWRITE_TEXT : REWRITE_HTML;
			} else if (hl == 4 && memcmp(h, "rcpt", 4) == 0) {
				char *sp = strchr(val, ' ');

				ck_assert(c->n_rcpt < MAX_LIST);
				if (sp != NULL)
					*sp++ = '\0';
				c->rcpt_orig[c->n_rcpt] = strdup(val);
				c->rcpt_norm[c->n_rcpt] = sp != NULL ? strdup(sp) : NULL;
				c->n_rcpt++;
			} else if (hl == 11 && memcmp(h, "unsubscribe", 11) == 0) {
				ck_assert(c->n_unsub < MAX_LIST);
				c->unsub[c->n_unsub++] = strdup(val);
			} else if (hl == 6 && memcmp(h, "option", 6) == 0) {
				if (strcmp(val, "pixel-anonymize") == 0)
					c->pixel_anonymize = 1;
				else if (strcmp(val, "strip-campaign") == 0)
					c->strip_campaign = 1;
				else
					ck_abort_msg("%s: unknown option %s", c->name, val);
			} else if (hl == 5 && memcmp(h, "input", 5) == 0) {
				body = &c->input;
				have_input = 1;
			} else if (hl == 6 && memcmp(h, "expect", 6) == 0) {
				have_expect = 1;
				if (strcmp(val, "same") == 0)
					c->expect_same = 1;
				else
					body = &c->expect;
				c->expect_noeol = strcmp(val, "noeol") == 0;
			} else if (hl == 6 && memcmp(h, "counts", 6) == 0) {
				parse_counts(c, val);
			} else {
				ck_abort_msg("%s: unknown section %.*s", c->name, (int)hl, h);
			}
			free(val);
		} else if (body != NULL) {
			ck_assert_int_eq(buf_append(body, line, next - pos), 0);
		}
		pos = next;
	}
	free(text);
	if (c->expect_noeol && c->expect.len > 0 && c->expect.data[c->expect.len - 1] == '\n')
		c->expect.data[--c->expect.len] = '\0';
	ck_assert_msg(have_consent && have_input && have_expect,
	    "%s: needs consent, input and expect sections", c->name);
}

static void
free_case(struct tcase_data *c)
{
	size_t i;

	for (i = 0; i < c->n_rcpt; i++) {
		free(c->rcpt_orig[i]);
		free(c->rcpt_norm[i]);
	}
	for (i = 0; i < c->n_unsub; i++)
		free(c->unsub[i]);
	buf_free(&c->input);
	buf_free(&c->expect);
}

static void
check_counts(const struct tcase_data *c, const struct rewrite_counts *got)
{
	const struct rewrite_counts *w = &c->counts;

	ck_assert_msg(memcmp(w, got, sizeof(*w)) == 0,
	    "%s: counts: got pixels=%u resources=%u unwrapped=%u cleaned=%u anonymized=%u "
	    "unresolved=%u pii=%u, want pixels=%u resources=%u unwrapped=%u cleaned=%u "
	    "anonymized=%u unresolved=%u pii=%u", c->name,
	    got->pixels_removed, got->resources_removed, got->links_unwrapped,
	    got->links_cleaned, got->links_anonymized, got->links_unresolved, got->pii_hits,
	    w->pixels_removed, w->resources_removed, w->links_unwrapped, w->links_cleaned,
	    w->links_anonymized, w->links_unresolved, w->pii_hits);
}

/* The output is the input with exactly the traced spans replaced. */
static void
check_trace(const char *name, const struct buf *in, const struct buf *out,
    const struct rewrite_trace *tr)
{
	size_t i, ip = 0, op = 0;

	for (i = 0; i < tr->n; i++) {
		const struct rewrite_span *s = &tr->spans[i];

		ck_assert_msg(s->start >= ip && s->end >= s->start && s->end <= in->len,
		    "%s: span %zu out of order", name, i);
		ck_assert_msg(s->out_start == op + (s->start - ip), "%s: span %zu offset", name, i);
		ck_assert_msg(memcmp(in->data + ip, out->data + op, s->start - ip) == 0,
		    "%s: bytes before span %zu differ", name, i);
		op = s->out_start + s->rep_len;
		ip = s->end;
		ck_assert_msg(s->rep_len <= s->end - s->start + REWRITE_MAX_GROWTH,
		    "%s: span %zu grows too much", name, i);
	}
	ck_assert_msg(out->len - op == in->len - ip &&
	    memcmp(in->data + ip, out->data + op, in->len - ip) == 0,
	    "%s: bytes after the last span differ", name);
}

/* Told sparse, the engine makes the same spans and writes only their bytes,
 * back to back: the input with them replaced is the whole output OUT. */
static void
check_sparse(const char *name, const struct rewrite_policy *pol, enum rewrite_kind kind,
    const struct buf *in, const struct buf *out, const struct rewrite_trace *tr)
{
	struct rewrite_trace sp = { NULL, 0, 1 };
	struct rewrite_counts cnt;
	struct buf rep = BUF_INIT;
	size_t i, op = 0;
	int changed;

	memset(&cnt, 0, sizeof(cnt));
	ck_assert_int_eq(rewrite_part_traced(pol, kind, in->data, in->len, &rep, &changed,
	    &cnt, &sp), 0);
	ck_assert_msg(changed && sp.n == tr->n, "%s: sparse trace differs", name);
	for (i = 0; i < sp.n; i++) {
		const struct rewrite_span *a = &tr->spans[i], *b = &sp.spans[i];

		ck_assert_msg(a->start == b->start && a->end == b->end && a->rep_len == b->rep_len,
		    "%s: sparse span %zu differs", name, i);
		ck_assert_msg(b->out_start == op, "%s: sparse span %zu not back to back", name, i);
		ck_assert(memcmp(rep.data + b->out_start, out->data + a->out_start, a->rep_len) == 0);
		op += b->rep_len;
	}
	ck_assert_uint_eq(rep.len, op);
	free(sp.spans);
	buf_free(&rep);
}

static void
check_tokenizes(const char *name, const struct buf *b)
{
	struct html_tokenizer t;
	struct html_token tok;
	size_t n = 0;

	html_init(&t, b->data, b->len);
	while (html_next(&t, &tok) != HTML_EOF)
		ck_assert_msg(++n <= b->len + 1, "%s: tokenizer does not end", name);
}

static struct rules *rules;

START_TEST(run_case)
{
	struct tcase_data c;
	struct rewrite_policy pol;
	struct rewrite_counts got, again;
	struct rewrite_trace tr = { NULL, 0, 0 };
	struct buf out = BUF_INIT, out2 = BUF_INIT;
	struct pii_set *pii = NULL;
	const struct buf *result;
	int changed, changed2;
	size_t i;

	load_case(case_paths[_i], &c);
	memset(&pol, 0, sizeof(pol));
	pol.rules = rules;
	if (c.n_rcpt > 0) {
		pii = pii_new();
		ck_assert_ptr_nonnull(pii);
		for (i = 0; i < c.n_rcpt; i++)
			ck_assert_int_eq(pii_add_recipient(pii, c.rcpt_orig[i],
			    c.rcpt_norm[i] != NULL ? c.rcpt_norm[i] : c.rcpt_orig[i]), 0);
	}
	pol.pii = pii;
	pol.unsubscribe_urls = c.unsub;
	pol.n_unsubscribe = c.n_unsub;
	pol.consent = c.consent;
	pol.pixel_anonymize = c.pixel_anonymize;
	pol.strip_campaign = c.strip_campaign;

	memset(&got, 0, sizeof(got));
	ck_assert_int_eq(rewrite_part_traced(&pol, c.kind, c.input.data, c.input.len, &out,
	    &changed, &got, &tr), 0);
	result = changed ? &out : &c.input;
	if (c.expect_same)
		ck_assert_msg(!changed, "%s: changed, expected the input unchanged:\n%.*s",
		    c.name, (int)out.len, out.data);
	else
		ck_assert_msg(result->len == c.expect.len &&
		    memcmp(result->data, c.expect.data, c.expect.len) == 0,
		    "%s: output differs:\n--- got\n%.*s--- want\n%.*s", c.name,
		    (int)result->len, result->data, (int)c.expect.len, c.expect.data);
	check_counts(&c, &got);
	ck_assert_msg(changed == (tr.n > 0), "%s: changed flag vs trace", c.name);
	if (changed) {
		check_trace(c.name, &c.input, &out, &tr);
		check_sparse(c.name, &pol, c.kind, &c.input, &out, &tr);
	}
	free(tr.spans);
	if (c.kind == REWRITE_HTML)
		check_tokenizes(c.name, result);

	/* a second pass finds nothing more to change */
	memset(&again, 0, sizeof(again));
	ck_assert_int_eq(rewrite_part(&pol, c.kind, result->data, result->len, &out2,
	    &changed2, &again), 0);
	ck_assert_msg(!changed2, "%s: second pass changed:\n%.*s", c.name,
	    (int)out2.len, out2.data);

	/* consent all: byte-identical, nothing counted */
	pol.consent = CONSENT_OPEN | CONSENT_CLICK;
	memset(&again, 0, sizeof(again));
	ck_assert_int_eq(rewrite_part(&pol, c.kind, c.input.data, c.input.len, &out2,
	    &changed2, &again), 0);
	ck_assert_msg(!changed2 && again.pixels_removed == 0 && again.links_unresolved == 0,
	    "%s: consent all changed something", c.name);

	buf_free(&out);
	buf_free(&out2);
	pii_free(pii);
	free_case(&c);
}
END_TEST

/* ---- API behaviour beyond the corpus ---------------------------------------- */

static int
run_html(const struct rules *r, unsigned consent, const char *in, struct buf *out,
    struct rewrite_counts *c)
{
	struct rewrite_policy pol;
	int changed = -1;

	memset(&pol, 0, sizeof(pol));
	pol.rules = r;
	pol.consent = consent;
	ck_assert_int_eq(rewrite_part(&pol, REWRITE_HTML, in, strlen(in), out, &changed, c), 0);
	return changed;
}

START_TEST(api_all_consent_is_free)
{
	struct buf out = BUF_INIT;
	struct rewrite_counts c;

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(run_html(rules, CONSENT_OPEN | CONSENT_CLICK,
	    "<img src=\"https://spgo.io/q/x\"><script>x</script>", &out, &c), 0);
	ck_assert_uint_eq(c.pixels_removed + c.resources_removed, 0);
	ck_assert_ptr_null(out.data);	/* not even touched */
}
END_TEST

START_TEST(api_counts_accumulate)
{
	struct buf out = BUF_INIT;
	struct rewrite_counts c;

	memset(&c, 0, sizeof(c));
	c.pixels_removed = 5;
	ck_assert_int_eq(run_html(rules, 0, "<img src=\"https://spgo.io/q/x\">", &out, &c), 1);
	ck_assert_uint_eq(c.pixels_removed, 6);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
}
END_TEST

START_TEST(api_empty_and_null)
{
	struct buf out = BUF_INIT;
	struct rewrite_counts c;
	struct rewrite_policy pol;
	int changed = -1;

	memset(&c, 0, sizeof(c));
	memset(&pol, 0, sizeof(pol));
	pol.rules = rules;
	ck_assert_int_eq(rewrite_part(&pol, REWRITE_HTML, "", 0, &out, &changed, &c), 0);
	ck_assert_int_eq(changed, 0);
	ck_assert_int_eq(rewrite_part(&pol, REWRITE_TEXT, "x", 1, &out, &changed, &c), 0);
	ck_assert_int_eq(changed, 0);
	ck_assert_int_eq(run_html(rules, 0, "<p>no markup of interest</p>", &out, &c), 0);
	buf_free(&out);
}
END_TEST

/* OwnTrackingDomains: the organisation's own tracker host is a pixel for
 * images and a (kept, unresolved) tracked link for links. */
START_TEST(api_own_tracking_domain)
{
	struct cfg_error *errs = NULL;
	struct rules *r = rules_load(rules_path, &errs);
	struct buf out = BUF_INIT;
	struct rewrite_counts c;
	const char *in = "<img src=\"https://t.news.example.com/o.gif\" width=\"600\">"
	    "<a href=\"https://t.news.example.com/c/123\">x</a>";

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(rules_add_own_domain(r, "news.example.com"), 0);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(run_html(r, 0, in, &out, &c), 1);
	ck_assert_str_eq(out.data, "<a href=\"https://t.news.example.com/c/123\">x</a>");
	ck_assert_uint_eq(c.pixels_removed, 1);
	ck_assert_uint_eq(c.links_unresolved, 1);
	/* the same part under the file's rules only: nothing to do */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(run_html(rules, 0, in, &out, &c), 0);
	buf_free(&out);
	rules_free(r);
}
END_TEST

/* A NUL in a tag name: the spec reads an unknown element, a client that
 * drops NULs reads the element before it; judged as the latter. */
START_TEST(api_nul_in_tag_name)
{
	static const char in[] = "<p>a</p><img\0 src=\"https://abc123.r.us-east-1.awstrack.me/I0/"
	    "0100018abc-def0-4a1b/XyZ123=\"><b>c</b><iframe\0x src=\"https://t.example.org/p/"
	    "4f9a2c7e1b3d5a6c8e0f\" width=0 height=0></iframe\0x><scr\0ipt>d</scr\0ipt>";
	static const char want[] = "<p>a</p><b>c</b><iframe\0x width=0 height=0></iframe\0x>"
	    "<scr\0ipt>d</scr\0ipt>";
	struct rewrite_policy pol;
	struct rewrite_counts c;
	struct buf out = BUF_INIT;
	int changed = 0;

	memset(&pol, 0, sizeof(pol));
	memset(&c, 0, sizeof(c));
	pol.rules = rules;
	ck_assert_int_eq(rewrite_part(&pol, REWRITE_HTML, in, sizeof(in) - 1, &out, &changed, &c), 0);
	ck_assert_int_eq(changed, 1);
	ck_assert_uint_eq(out.len, sizeof(want) - 1);
	ck_assert(memcmp(out.data, want, out.len) == 0);
	ck_assert_uint_eq(c.pixels_removed, 1);
	ck_assert_uint_eq(c.resources_removed, 1);
	{
		/* the same inside Outlook's conditional comments, and for a
		 * table cell's background and a script */
		static const char in2[] = "<!--[if mso]><img\0 src=\"https://abc123.r.us-east-1."
		    "awstrack.me/I0/0100018abc-def0-4a1b/XyZ123=\"><v:image\0 src=\"https://abc123."
		    "r.us-east-1.awstrack.me/I0/0100018abc-def0-4a1b/XyZ124=\"/><![endif]-->"
		    "<td\0 background=\"https://abc123.r.us-east-1.awstrack.me/I0/0100018abc-def0-4a1b/"
		    "XyZ125=\">x</td><script\0>var a;</script>";
		static const char want2[] = "<!--[if mso]><v:image\0/><![endif]--><td\0>x</td>";

		ck_assert_int_eq(rewrite_part(&pol, REWRITE_HTML, in2, sizeof(in2) - 1, &out,
		    &changed, NULL), 0);
		ck_assert_uint_eq(out.len, sizeof(want2) - 1);
		ck_assert(memcmp(out.data, want2, out.len) == 0);
	}
	buf_free(&out);
}
END_TEST

/* Big input: many tags, edits spread over it; the trace covers them all. */
START_TEST(api_large_part)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	struct rewrite_counts c;
	struct rewrite_policy pol;
	struct rewrite_trace tr = { NULL, 0, 0 };
	int i, changed;

	for (i = 0; i < 5000; i++)
		ck_assert_int_eq(buf_printf(&in, "<td><img src=\"https://spgo.io/q/%d\">"
		    "<a href=\"https://www.example.com/?id=%d&amp;mc_eid=%d\">x</a></td>\n",
		    i, i, i), 0);
	memset(&c, 0, sizeof(c));
	memset(&pol, 0, sizeof(pol));
	pol.rules = rules;
	ck_assert_int_eq(rewrite_part_traced(&pol, REWRITE_HTML, in.data, in.len, &out, &changed,
	    &c, &tr), 0);
	ck_assert_int_eq(changed, 1);
	ck_assert_uint_eq(c.pixels_removed, 5000);
	ck_assert_uint_eq(c.links_cleaned, 5000);
	ck_assert_uint_eq(tr.n, 10000);
	check_trace("large", &in, &out, &tr);
	ck_assert_ptr_null(strstr(out.data, "mc_eid"));
	ck_assert_ptr_null(strstr(out.data, "<img"));
	free(tr.spans);
	buf_free(&in);
	buf_free(&out);
}
END_TEST

/* Personal parameters go wherever they stand in a long query: the strip
 * keeps the first parameters' verdicts and judges the rest again (past 32).
 * Queries of 1 to 80 parameters, '&' and ';', empty ones, personal ones
 * (mc_eid, _hsenc, elq*) at random places; expected output built here. */
START_TEST(api_long_query)
{
	static const char *const personal[] = { "mc_eid", "_hsenc", "elqTrack" };
	struct buf in = BUF_INIT, want = BUF_INIT, out = BUF_INIT;
	struct rewrite_counts c;
	unsigned seed = 4242;
	int round;

	for (round = 0; round < 400; round++) {
		int n, i, kept = 0, removed = 0, changed;

		seed = seed * 1103515245u + 12345u;
		n = 1 + (int)((seed >> 8) % 80);
		buf_reset(&in);
		buf_reset(&want);
		ck_assert_int_eq(buf_puts(&in, "<a href=\"https://www.example.com/p"), 0);
		ck_assert_int_eq(buf_puts(&want, "<a href=\"https://www.example.com/p"), 0);
		for (i = 0; i < n; i++) {
			char prm[64];
			const char *sep = i == 0 ? "?" : (seed >> (i % 20)) & 1 ? "&" : ";";
			int pers;

			seed = seed * 1103515245u + 12345u;
			pers = (seed >> 10) % 5 == 0;
			if ((seed >> 14) % 13 == 0 && !pers)
				prm[0] = '\0';	/* an empty parameter: kept */
			else if (pers)
				snprintf(prm, sizeof prm, "%s=%u", personal[(seed >> 16) % 3], seed >> 20);
			else
				snprintf(prm, sizeof prm, "k%d=%u", i, seed >> 20);
			ck_assert_int_eq(buf_puts(&in, sep), 0);
			ck_assert_int_eq(buf_puts(&in, prm), 0);
			if (pers) {
				removed++;
				continue;
			}
			ck_assert_int_eq(buf_puts(&want, kept == 0 ? "?" : sep), 0);
			ck_assert_int_eq(buf_puts(&want, prm), 0);
			kept++;
		}
		ck_assert_int_eq(buf_puts(&in, "#f\">x</a>"), 0);
		ck_assert_int_eq(buf_puts(&want, "#f\">x</a>"), 0);
		memset(&c, 0, sizeof(c));
		changed = run_html(rules, 0, in.data, &out, &c);
		if (removed == 0) {
			ck_assert_int_eq(changed, 0);
			continue;
		}
		ck_assert_int_eq(changed, 1);
		ck_assert_msg(strcmp(out.data, want.data) == 0, "in  %s\nout %s\nwant %s", in.data,
		    out.data, want.data);
		ck_assert_uint_eq(c.links_cleaned, 1);
	}
	buf_free(&in);
	buf_free(&want);
	buf_free(&out);
}
END_TEST

/* A rewritten attribute value is escaped for its quotes wherever the
 * special bytes stand (the escape scans 16 bytes at a time): an apostrophe
 * and an ampersand in the path at every offset from 0 to 40, single- and
 * double-quoted, '&' written as "&amp;" as the original did. */
START_TEST(api_escape_positions)
{
	struct buf in = BUF_INIT, want = BUF_INIT, out = BUF_INIT, path = BUF_INIT;
	struct rewrite_counts c;
	int off, q;

	for (q = 0; q < 2; q++)
		for (off = 0; off <= 40; off++) {
			const char *apos_in = q ? "&#39;" : "'", *apos_out = q ? "&#39;" : "'";
			const char quote = q ? '\'' : '"';
			int i;

			buf_reset(&path);
			for (i = 0; i < off; i++)
				ck_assert_int_eq(buf_puts(&path, i % 7 == 3 ? "-" : "p"), 0);
			buf_reset(&in);
			buf_reset(&want);
			ck_assert_int_eq(buf_printf(&in, "<a href=%chttps://www.example.com/%s%sx%s&amp;y"
			    "?a=1&amp;mc_eid=2&amp;b=%s3%c>t</a>", quote, path.data ? path.data : "",
			    apos_in, path.data ? path.data : "", apos_in, quote), 0);
			ck_assert_int_eq(buf_printf(&want, "<a href=%chttps://www.example.com/%s%sx%s&amp;y"
			    "?a=1&amp;b=%s3%c>t</a>", quote, path.data ? path.data : "", apos_out,
			    path.data ? path.data : "", apos_out, quote), 0);
			memset(&c, 0, sizeof(c));
			ck_assert_int_eq(run_html(rules, 0, in.data, &out, &c), 1);
			ck_assert_msg(strcmp(out.data, want.data) == 0, "in  %s\nout %s\nwant %s",
			    in.data, out.data, want.data);
		}
	buf_free(&in);
	buf_free(&want);
	buf_free(&out);
	buf_free(&path);
}
END_TEST

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
find_cases(void)
{
	DIR *d = opendir(fixture_dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && n_cases < MAX_CASES) {
		size_t n = strlen(e->d_name);
		char *p;

		if (n < 6 || strcmp(e->d_name + n - 5, ".case") != 0)
			continue;
		p = malloc(strlen(fixture_dir) + n + 2);
		if (p == NULL)
			break;
		sprintf(p, "%s/%s", fixture_dir, e->d_name);
		case_paths[n_cases++] = p;
	}
	closedir(d);
	qsort(case_paths, n_cases, sizeof(case_paths[0]), cmp_str);
}

/* The verdict memo: a kept link seen again is not judged again, and a URL
 * that only shares the memo's quick filter bit with a remembered one
 * (same length, same middle and last eight bytes: here the host differs)
 * is judged on its own. Many distinct kept URLs fill the filter; repeats
 * and tracked links among them keep their verdicts. */
START_TEST(api_memo_repeats)
{
	static const char tail[] = "/0123456789abcdefghij0123456789abcdefghij0123456789abcdefghij";
	struct buf in = BUF_INIT, out = BUF_INIT;
	struct rewrite_counts c;
	int i;

	/* 38 bytes before the tail both: the quick bits are equal */
	ck_assert_int_eq(buf_printf(&in, "<a href=\"https://www.example.org/plain/aaaaaaa%s\">k</a>"
	    "<a href=\"https://u1.ct.sendgrid.net/ls/click/z%s\">t</a>"
	    "<a href=\"https://www.example.org/plain/aaaaaaa%s\">k</a>", tail, tail, tail), 0);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(run_html(rules, 0, in.data, &out, &c), 0);
	ck_assert_uint_eq(c.links_unresolved, 1);
	buf_reset(&in);
	for (i = 0; i < 3000; i++)
		ck_assert_int_eq(buf_printf(&in, "<a href=\"https://www.example.org/k/%d\">k</a>"
		    "<a href=\"https://www.example.org/k/%d\">k</a>"
		    "<a href=\"https://www.example.com/?id=%d&amp;mc_eid=%d\">x</a>", i, i / 2, i, i),
		    0);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(run_html(rules, 0, in.data, &out, &c), 1);
	ck_assert_uint_eq(c.links_cleaned, 3000);
	ck_assert_uint_eq(c.links_unresolved, 0);
	ck_assert_ptr_null(strstr(out.data, "mc_eid"));
	buf_free(&in);
	buf_free(&out);
}
END_TEST

/* An image's verdict may depend on its element: an invisible one whose URL
 * looks individual is a pixel. The same URL on visible and invisible
 * images, in every order, gets each element's own verdict, whatever the
 * memo remembered from the one before. */
START_TEST(api_memo_visibility)
{
	static const char *const urls[] = {
		"https://img.example.net/o/ab12cd34ef56.gif",	/* identifier: individual */
		"https://img.example.net/spacer.gif?v=1",	/* query: individual */
		"https://img.example.net/open/a.gif",		/* tracking word */
		"https://img.example.net/spacer.gif",		/* plain */
	};
	static const char vis[] = "width=\"600\"", invis[] = "width=\"1\" height=\"1\"";
	struct buf in = BUF_INIT, out = BUF_INIT;
	struct rewrite_counts c;
	size_t u;
	unsigned order, i, want;

	for (u = 0; u < sizeof urls / sizeof urls[0]; u++)
		for (order = 0; order < 16; order++) {
			buf_reset(&in);
			want = 0;
			for (i = 0; i < 4; i++) {
				int hidden = (order >> i) & 1;

				ck_assert_int_eq(buf_printf(&in, "<p><img src=\"%s\" %s></p>", urls[u],
				    hidden ? invis : vis), 0);
				want += hidden && u < 3;
			}
			memset(&c, 0, sizeof(c));
			buf_reset(&out);
			ck_assert_int_eq(run_html(rules, 0, in.data, &out, &c), want > 0);
			ck_assert_msg(c.pixels_removed == want, "%s %u", urls[u], order);
		}
	buf_free(&in);
	buf_free(&out);
}
END_TEST

/* A cleaned link is written only when it is a valid absolute URL: from a
 * valid one (not checked again), or from one whose only invalid bytes went
 * with the removed parameter; one that keeps them stays as it is. */
START_TEST(api_clean_validity)
{
	static const struct {
		const char *in, *want;
		unsigned cleaned;
	} cases[] = {
		{ "<a href=\"https://www.example.com/?id=1&amp;mc_eid=ab\">x</a>",
		  "<a href=\"https://www.example.com/?id=1\">x</a>", 1 },
		{ "<a href=\"https://www.example.com/?id=1&amp;mc_eid=a b\">x</a>",
		  "<a href=\"https://www.example.com/?id=1\">x</a>", 1 },
		{ "<a href=\"https://www.example.com/?id=a b&amp;mc_eid=1\">x</a>", NULL, 0 },
		{ "<a href=\"https://www.example.com/?mc_eid=1#a<b\">x</a>", NULL, 0 },
		{ "<img src=\"https://img.example.com/a.png?mc_eid=1&amp;w=600\" width=\"600\">",
		  "<img src=\"https://img.example.com/a.png?w=600\" width=\"600\">", 1 },
		{ "<img src=\"https://img.example.com/a.png?mc_eid=1&amp;w=6 0\" width=\"600\">",
		  NULL, 0 },
	};
	struct buf out = BUF_INIT;
	struct rewrite_counts c;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&c, 0, sizeof(c));
		ck_assert_int_eq(run_html(rules, 0, cases[i].in, &out, &c), cases[i].want != NULL);
		if (cases[i].want != NULL)
			ck_assert_msg(out.len == strlen(cases[i].want) &&
			    memcmp(out.data, cases[i].want, out.len) == 0, "%s", cases[i].in);
		ck_assert_msg(c.links_cleaned == cases[i].cleaned, "%s", cases[i].in);
	}
	buf_free(&out);
}
END_TEST

START_TEST(corpus_size)
{
	ck_assert_msg(n_cases >= 80, "only %zu cases in %s", n_cases, fixture_dir);
}
END_TEST

int
main(void)
{
	const char *top = getenv("top_srcdir");
	struct cfg_error *errs = NULL;
	Suite *s = suite_create("rewrite");
	TCase *tc;
	size_t i;
	int rc;

	if (top == NULL)
		top = "..";
	snprintf(fixture_dir, sizeof(fixture_dir), "%s/tests/fixtures/engine", top);
	snprintf(rules_path, sizeof(rules_path), "%s/etc/trackers.conf", top);
	rules = rules_load(rules_path, &errs);
	if (rules == NULL) {
		fprintf(stderr, "cannot load %s\n", rules_path);
		printf("1..1\nnot ok 1 - rules file %s\n", rules_path);
		return 1;
	}
	find_cases();
	tc = tcase_create("corpus");
	tcase_add_test(tc, corpus_size);
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_add_test(tc, api_all_consent_is_free);
	tcase_add_test(tc, api_counts_accumulate);
	tcase_add_test(tc, api_empty_and_null);
	tcase_add_test(tc, api_own_tracking_domain);
	tcase_add_test(tc, api_large_part);
	tcase_add_test(tc, api_long_query);
	tcase_add_test(tc, api_escape_positions);
	tcase_add_test(tc, api_nul_in_tag_name);
	tcase_add_test(tc, api_memo_repeats);
	tcase_add_test(tc, api_memo_visibility);
	tcase_add_test(tc, api_clean_validity);
	suite_add_tcase(s, tc);
	for (i = 0; i < n_cases; i++) {
		tc = tcase_create(strrchr(case_paths[i], '/') + 1);
		tcase_add_loop_test(tc, run_case, (int)i, (int)i + 1);
		suite_add_tcase(s, tc);
	}
	rc = cm_run_suite(s);
	rules_free(rules);
	for (i = 0; i < n_cases; i++)
		free(case_paths[i]);
	return rc;
}
