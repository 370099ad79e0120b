/* rules.c - loads the tracker rules file and answers, per URL, "which rule
 * says what about this?", and applies a rule's unwrap or anonymize recipe.
 *
 * Host lookup is a hash of host suffixes: a URL's host is looked up once per
 * label ("a.b.example.com", "b.example.com", "example.com", "com"), behind
 * a Bloom filter, so the cost does not grow with the number of rules. The
 * rules for "*" (any host) are tried only when the path can match them
 * (by the byte after its '/', its last byte, its length: bit masks built at
 * load time), so an ordinary link tries few or none of them.
 *
 * The format is described in trackers.conf(5); the parser reports every
 * error as "FILE:LINE: message" and never returns a partial rule set. */
#include "build-config.h"
#include "rules.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_LINE	4096
#define MAX_HOST	256
#define MAX_LABELS	128	/* a 253-byte host has at most 127 labels */
#define MAX_PARAMS	4	/* param= conditions per rule */
#define MAX_ANON	4	/* anonymize= targets per rule */
#define MAX_DECODERS	6
#define MAX_CAPTURES	16	/* ovector pairs in the per-thread match data */
#define RE_MATCH_LIMIT	100000
#define RE_DEPTH_LIMIT	200
#define BLOOM_BITS	14	/* host suffix filter: 2^14 bits, see BLOOM_BIT */

enum target_kind { T_NONE = 0, T_SEGMENT, T_PARAM, T_CAPTURE };

struct target {
	enum target_kind kind;
	int segment;		/* T_SEGMENT: 1-based; negative counts from the end */
	int capture;		/* T_CAPTURE */
	char *param;		/* T_PARAM */
};

struct decoder {
	enum url_decoder kind;
	char *field;		/* json:/jwt: dotted path */
};

struct cond {
	char *name;
	char *value;		/* NULL: the parameter only has to be present */
};

struct namepat {
	char *name;		/* lowercase */
	size_t len;
	int prefix;		/* written with a trailing '*' */
	unsigned char c0;	/* name[0]: the list is sorted by it */
};

struct namelist {
	struct namepat *v;
	size_t n, cap;
	/* Cheap "no" for most names: shorter than every entry, or a first
	 * byte no entry starts with (either case). Otherwise only the entries
	 * v[start[c0] .. start[c0 + 1]) that start with the name's c0 are
	 * compared (start: 257 entries, NULL while the list is empty). */
	size_t minlen;
	uint64_t first[4];
	uint32_t *start;
};

struct rule {
	enum rule_kind kind;
	const struct rules *owner;	/* for the PCRE2 match limits */
	char *vendor;
	int line;
	char *glob;		/* path glob, or NULL */
	/* Literal text every matching path starts / ends with, taken from the
	 * glob or the anchored regex at load time: a cheap first test, since
	 * "*" rules are tried for every URL no host rule claimed. */
	char lit_prefix[32];
	char lit_suffix[32];
	size_t lit_plen, lit_slen;
	/* How much of the glob the literal tests decide (set_literals): with
	 * GLOB_BY_LITS (one run of '*' between a prefix and a suffix that both
	 * fit) a path at least minlen long that passes both matches, and
	 * glob_match() is not run; with GLOB_IS_LIT (no '*') the path must be
	 * the prefix exactly; 0: glob_match() decides. */
	unsigned char glob_lits;
	/* Necessary conditions on a matching path, for the dispatch of "*"
	 * rules (build_any_dispatch): at least MINLEN bytes, the byte after
	 * the leading '/' in NEXT (when the path has one), the last byte in
	 * LAST. Supersets are safe: rule_matches() decides. */
	size_t minlen;
	uint64_t next[4], last[4];
	pcre2_code *re;		/* path regex, or NULL */
	struct cond conds[MAX_PARAMS];
	int nconds;
	struct target unwrap;
	struct decoder dec[MAX_DECODERS];
	int ndec;
	char *prefix;
	struct target anon[MAX_ANON];
	int nanon;
	char *token;		/* NULL: "zeros" (letters and digits become '0') */
	struct namelist strip;
};

/* rule.glob_lits */
#define GLOB_BY_LITS	1
#define GLOB_IS_LIT	2

/* Host pattern modes inside a hash entry. */
#define H_EXACT	1	/* "example.com" */
#define H_SUB	2	/* "*.example.com": proper subdomains only */

struct hostref {
	size_t rule;		/* index in rules->v */
	int mode;
	unsigned kind;		/* the rule's kind: most refs of a host are of a kind
				 * the caller does not ask for, told apart here */
};

struct hentry {
	char *key;		/* lowercase host suffix; NULL = free slot */
	size_t klen;
	size_t hash;
	struct hostref *refs;
	size_t n, cap;
};

struct rules {
	struct rule **v;	/* in file order */
	size_t n, cap;
	struct hentry *tab;	/* open addressing, power-of-two size */
	size_t tabsize, tabused;
	uint64_t bloom[(1 << BLOOM_BITS) / 64];	/* see BLOOM_BIT */
	/* Rules for host "*" (indexes into v), in file order. A URL tries
	 * only those whose bit is set in all four of its rows of AMASK
	 * (AW 64-bit words per row, bit i = anyv[i]): see build_any_dispatch. */
	size_t *anyv;
	size_t nany, anycap, aw;
	uint64_t *amask;
	struct namelist personal, campaign;
	pcre2_match_context *mctx;
};

/* ---- small helpers --------------------------------------------------------- */

/* Sets of bytes: uint64_t[4]. */
#define SET_HAS(s, c)	(((s)[(unsigned char)(c) >> 6] >> ((unsigned char)(c) & 63)) & 1)
#define SET_ADD(s, c)	((s)[(unsigned char)(c) >> 6] |= (uint64_t)1 << ((unsigned char)(c) & 63))


static void *
grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 8;
	void *q;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	q = realloc(p, c * size);
	if (q != NULL)
		*cap = c;
	return q;
}

static char *
xstrndup_lower(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	size_t i;

	if (d == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		d[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
	d[n] = '\0';
	return d;
}

/* NAME[0..N) lowercased equals LOWER[0..N)? (ASCII, as strncasecmp in
 * the C locale, without its call and its stop at a NUL.) */
static int
eq_fold(const char *name, const char *lower, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if ((char)(c >= 'A' && c <= 'Z' ? c + 32 : c) != lower[i])
			return 0;
	}
	return 1;
}

/* ---- error list ------------------------------------------------------------- */

struct ctx {
	const char *file;
	int line;
	struct cfg_error **errors;
	int nerr;
	const char *vendor;
};

static void __attribute__((format(printf, 2, 3)))
rerr(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	c->nerr++;
	if (c->errors == NULL)
		return;
	va_start(ap, fmt);
	cfg_error_vadd(c->errors, c->file, c->line, fmt, ap);
	va_end(ap);
}

/* ---- name lists (personal, campaign, strip=) -------------------------------- */

static int
namelist_add(struct namelist *l, const char *s, size_t n)
{
	struct namepat *v, t;
	int prefix = n > 0 && s[n - 1] == '*';
	size_t k, c;

	if (prefix)
		n--;
	if (l->n >= UINT32_MAX)
		return -1;
	v = grow(l->v, &l->cap, l->n + 1, sizeof *v);
	if (v == NULL)
		return -1;
	l->v = v;
	if (l->start == NULL && (l->start = calloc(257, sizeof *l->start)) == NULL)
		return -1;
	t.name = xstrndup_lower(s, n);
	if (t.name == NULL)
		return -1;
	t.len = n;
	t.prefix = prefix;
	t.c0 = (unsigned char)t.name[0];
	/* keep the order by first byte (the order of a list does not matter
	 * otherwise: the answer is yes if any entry matches) */
	for (k = l->n; k > 0 && v[k - 1].c0 > t.c0; k--)
		v[k] = v[k - 1];
	v[k] = t;
	l->n++;
	for (c = 0, k = 0; c <= 256; c++) {
		while (k < l->n && v[k].c0 < c)
			k++;
		l->start[c] = (uint32_t)k;
	}
	if (l->n == 1 || n < l->minlen)
		l->minlen = n;
	SET_ADD(l->first, t.c0);
	if (t.c0 >= 'a' && t.c0 <= 'z')
		SET_ADD(l->first, t.c0 - 32);
	return 0;
}

static int
namelist_match(const struct namelist *l, const char *name, size_t len)
{
	unsigned char c0;
	size_t i, end;

	if (l->n == 0 || len < l->minlen || len == 0 || !SET_HAS(l->first, name[0]))
		return 0;
	c0 = (unsigned char)name[0];
	if (c0 >= 'A' && c0 <= 'Z')
		c0 += 32;
	for (i = l->start[c0], end = l->start[c0 + 1]; i < end; i++) {
		const struct namepat *p = &l->v[i];

		if (p->prefix ? (len >= p->len && eq_fold(name, p->name, p->len))
			      : (len == p->len && eq_fold(name, p->name, len)))
			return 1;
	}
	return 0;
}

static void
namelist_free(struct namelist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	free(l->start);
	memset(l, 0, sizeof *l);
}

/* A parameter name as a user may write it: no '=', '&', '#', '?', blanks. */
static int
valid_param_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || (n == 1 && s[0] == '*'))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == '=' || c == '&' || c == '#' || c == '?' || c == ';' ||
		    c >= 0x7f || (c == '*' && i != n - 1))
			return 0;
	}
	return 1;
}

/* ---- hash of host suffixes ---------------------------------------------------- */

/* FNV-1a over the bytes from last to first: the hash of "example.com" is
 * an intermediate value of the hash of "www.example.com", so rules_match()
 * gets every suffix's hash in one pass over the host. Each byte is hashed
 * with bit 5 set, so that a host needs no lowercase copy: bytes equal up
 * to ASCII case hash alike (a few others do too; the key compare decides). */
#define HASH_INIT	((size_t)14695981039346656037ULL)
#define HASH_STEP(h, c)	(((h) ^ ((c) | 0x20u)) * (size_t)1099511628211ULL)
/* A 16384-bit Bloom filter of the keys' hashes (top bits; the table uses
 * the low ones): most suffixes of most hosts are in no rule, and one bit
 * test is cheaper than a probe of the (large, sparse) table. About 1% of
 * misses pass with the shipped file's 200 host names. */
#define BLOOM_BIT(h)	((h) >> (sizeof(size_t) * 8 - BLOOM_BITS))
#define BLOOM_HAS(r, h)	(((r)->bloom[BLOOM_BIT(h) >> 6] >> (BLOOM_BIT(h) & 63)) & 1)

static size_t
hash_str(const char *s, size_t n)
{
	size_t h = HASH_INIT;

	while (n > 0)
		h = HASH_STEP(h, (unsigned char)s[--n]);
	return h;
}

/* The entry for host suffix S[0..N) (any case) whose hash is H, or NULL. */
static const struct hentry *
hash_find_h(const struct rules *r, const char *s, size_t n, size_t h)
{
	size_t i;

	if (r->tabsize == 0)
		return NULL;
	for (i = h & (r->tabsize - 1); r->tab[i].key != NULL; i = (i + 1) & (r->tabsize - 1))
		if (r->tab[i].hash == h && r->tab[i].klen == n &&
		    (memcmp(r->tab[i].key, s, n) == 0 || eq_fold(s, r->tab[i].key, n)))
			return &r->tab[i];
	return NULL;
}

static int
hash_resize(struct rules *r)
{
	size_t nsize = r->tabsize ? r->tabsize * 2 : 64, i, j;
	struct hentry *nt = calloc(nsize, sizeof *nt);

	if (nt == NULL)
		return -1;
	for (i = 0; i < r->tabsize; i++) {
		if (r->tab[i].key == NULL)
			continue;
		for (j = r->tab[i].hash & (nsize - 1);
		     nt[j].key != NULL; j = (j + 1) & (nsize - 1))
			;
		nt[j] = r->tab[i];
	}
	free(r->tab);
	r->tab = nt;
	r->tabsize = nsize;
	return 0;
}

static int
hash_add(struct rules *r, const char *key, size_t n, size_t rule, int mode)
{
	size_t h = hash_str(key, n), i;
	struct hentry *e = (struct hentry *)hash_find_h(r, key, n, h);
	struct hostref *refs;

	if (e == NULL) {
		if ((r->tabused + 1) * 2 > r->tabsize && hash_resize(r) < 0)
			return -1;
		for (i = h & (r->tabsize - 1); r->tab[i].key != NULL;
		     i = (i + 1) & (r->tabsize - 1))
			;
		e = &r->tab[i];
		e->key = xstrndup_lower(key, n);
		if (e->key == NULL)
			return -1;
		e->klen = n;
		e->hash = h;
		r->tabused++;
		r->bloom[BLOOM_BIT(h) >> 6] |= (uint64_t)1 << (BLOOM_BIT(h) & 63);
	}
	refs = grow(e->refs, &e->cap, e->n + 1, sizeof *refs);
	if (refs == NULL)
		return -1;
	e->refs = refs;
	refs[e->n].rule = rule;
	refs[e->n].mode = mode;
	refs[e->n].kind = r->v[rule]->kind;	/* added before its hosts */
	e->n++;
	return 0;
}

/* ---- regex safety --------------------------------------------------------------- */

/* Reject patterns whose matching time can explode: a quantified group that
 * itself contains a quantifier or an alternation ("(a+)+", "(a|aa)*"),
 * back-references and recursion. This is stricter than needed, on purpose:
 * a rules file needs none of these. Returns NULL if safe, else a reason. */
static const char *
regex_unsafe(const char *p)
{
	int risky[64];		/* per open group: contains quantifier or '|' */
	int depth = 0, last_group_risky = 0, after_group = 0;
	size_t i, n = strlen(p);

	memset(risky, 0, sizeof risky);
	for (i = 0; i < n; i++) {
		char c = p[i];
		int was_group = after_group;

		after_group = 0;
		if (c == '\\') {
			char d = i + 1 < n ? p[i + 1] : '\0';

			if ((d >= '1' && d <= '9') || d == 'g' || d == 'k')
				return "back-references are not allowed";
			i++;
			continue;
		}
		if (c == '[') {
			i++;
			if (i < n && p[i] == '^')
				i++;
			if (i < n && p[i] == ']')
				i++;
			for (; i < n && p[i] != ']'; i++)
				if (p[i] == '\\')
					i++;
			if (i >= n)
				return "unterminated character class";
			continue;
		}
		if (c == '(') {
			if (i + 1 < n && p[i + 1] == '?') {
				char d = i + 2 < n ? p[i + 2] : '\0';

				char e = i + 3 < n ? p[i + 3] : '\0';

				if (d == 'R' || (d >= '0' && d <= '9') || d == '&' ||
				    (d == 'P' && e == '>') ||
				    ((d == '+' || d == '-') && e >= '0' && e <= '9'))
					return "recursion is not allowed";
			}
			if (depth >= 63)
				return "groups nested too deeply";
			depth++;
			risky[depth] = 0;
			if (i + 1 < n && p[i + 1] == '?')
				i++;	/* "(?:", "(?i)", "(?<name>": not a quantifier */
			continue;
		}
		if (c == ')') {
			if (depth == 0)
				return "unbalanced ')'";
			last_group_risky = risky[depth];
			depth--;
			if (last_group_risky)
				risky[depth] = 1;
			after_group = 1;
			continue;
		}
		if (c == '|') {
			risky[depth] = 1;
			continue;
		}
		if (c == '*' || c == '+' || c == '{' || c == '?') {
			int unbounded = c != '?';

			if (c == '{') {
				/* "{n}" repeats a fixed number of times: harmless
				 * unless the group inside is risky. */
				const char *close = strchr(p + i, '}');

				if (close == NULL)
					continue;	/* a literal '{' */
				unbounded = memchr(p + i, ',', (size_t)(close - p - i)) != NULL;
				i = (size_t)(close - p);
			}
			if (was_group && last_group_risky && unbounded)
				return "nested quantifier (catastrophic backtracking)";
			/* Any variable repetition makes the enclosing group risky
			 * to repeat: "(a?)+" is as bad as "(a+)+". */
			if (unbounded || c == '?')
				risky[depth] = 1;
			/* a lazy/possessive suffix "+?" "*+" is part of this quantifier */
			if (i + 1 < n && (p[i + 1] == '?' || p[i + 1] == '+'))
				i++;
			continue;
		}
	}
	if (depth != 0)
		return "unbalanced '('";
	return NULL;
}

/* ---- parsing one rule line ---------------------------------------------------------- */

static int
parse_kind(const char *s, enum rule_kind *k)
{
	static const struct {
		const char *name;
		enum rule_kind kind;
	} kinds[] = {
		{ "pixel", RULE_PIXEL }, { "link", RULE_LINK }, { "param", RULE_PARAM },
		{ "functional", RULE_FUNCTIONAL }, { "exempt", RULE_EXEMPT },
	};
	size_t i;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(s, kinds[i].name) == 0) {
			*k = kinds[i].kind;
			return 0;
		}
	return -1;
}

const char *
rules_kind_name(enum rule_kind kind)
{
	switch (kind) {
	case RULE_PIXEL: return "pixel";
	case RULE_LINK: return "link";
	case RULE_PARAM: return "param";
	case RULE_FUNCTIONAL: return "functional";
	case RULE_EXEMPT: return "exempt";
	}
	return "?";
}

static int
parse_int(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < -64 || v > 64)
		return -1;
	*out = (int)v;
	return 0;
}

/* "segment:N", "param:NAME" or "capture:N". */
static int
parse_target(struct ctx *c, const char *opt, const char *v, struct target *t)
{
	if (strncmp(v, "segment:", 8) == 0) {
		if (parse_int(v + 8, &t->segment) < 0 || t->segment == 0) {
			rerr(c, "%s: segment must be a non-zero number (1 = first, -1 = last)", opt);
			return -1;
		}
		t->kind = T_SEGMENT;
		return 0;
	}
	if (strncmp(v, "param:", 6) == 0) {
		if (!valid_param_name(v + 6, strlen(v + 6)) || strchr(v + 6, '*')) {
			rerr(c, "%s: invalid parameter name '%s'", opt, v + 6);
			return -1;
		}
		t->kind = T_PARAM;
		t->param = strdup(v + 6);
		return t->param ? 0 : -1;
	}
	if (strncmp(v, "capture:", 8) == 0) {
		if (parse_int(v + 8, &t->capture) < 0 || t->capture < 1 ||
		    t->capture >= MAX_CAPTURES) {
			rerr(c, "%s: capture must be 1..%d", opt, MAX_CAPTURES - 1);
			return -1;
		}
		t->kind = T_CAPTURE;
		return 0;
	}
	rerr(c, "%s: expected segment:N, param:NAME or capture:N, got '%s'", opt, v);
	return -1;
}

static int
parse_decoders(struct ctx *c, struct rule *r, const char *v)
{
	char tmp[MAX_LINE], *tok, *save = NULL;

	snprintf(tmp, sizeof tmp, "%s", v);
	for (tok = strtok_r(tmp, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
		struct decoder *d = &r->dec[r->ndec];
		const char *field = NULL;

		if (r->ndec >= MAX_DECODERS) {
			rerr(c, "decode: at most %d steps", MAX_DECODERS);
			return -1;
		}
		if (strcmp(tok, "percent") == 0)
			d->kind = URL_DEC_PERCENT;
		else if (strcmp(tok, "base64") == 0)
			d->kind = URL_DEC_BASE64;
		else if (strcmp(tok, "base64url") == 0)
			d->kind = URL_DEC_BASE64URL;
		else if (strncmp(tok, "json:", 5) == 0)
			d->kind = URL_DEC_JSON, field = tok + 5;
		else if (strncmp(tok, "jwt:", 4) == 0)
			d->kind = URL_DEC_JWT, field = tok + 4;
		else {
			rerr(c, "decode: unknown decoder '%s' (percent, base64, base64url, "
			     "json:FIELD, jwt:FIELD)", tok);
			return -1;
		}
		if (field != NULL) {
			if (*field == '\0' || field[strlen(field) - 1] == '.' || *field == '.' ||
			    strstr(field, "..")) {
				rerr(c, "decode: '%s' needs a field name (a.b.c for nested)", tok);
				return -1;
			}
			d->field = strdup(field);
			if (d->field == NULL)
				return -1;
		}
		r->ndec++;
	}
	if (r->ndec == 0) {
		rerr(c, "decode: empty decoder chain");
		return -1;
	}
	return 0;
}

static int
parse_cond(struct ctx *c, struct rule *r, const char *v)
{
	const char *eq = strchr(v, '=');
	size_t n = eq ? (size_t)(eq - v) : strlen(v);
	struct cond *cd;

	if (r->nconds >= MAX_PARAMS) {
		rerr(c, "param: at most %d conditions per rule", MAX_PARAMS);
		return -1;
	}
	if (!valid_param_name(v, n)) {	/* a trailing '*' makes a name prefix */
		rerr(c, "param: invalid parameter name in '%s'", v);
		return -1;
	}
	cd = &r->conds[r->nconds++];
	cd->name = strndup(v, n);
	cd->value = eq ? strdup(eq + 1) : NULL;
	return cd->name && (!eq || cd->value) ? 0 : -1;
}

static int
parse_strip(struct ctx *c, struct rule *r, const char *v)
{
	const char *p = v, *comma;
	size_t n;

	for (;;) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (!valid_param_name(p, n)) {
			rerr(c, "strip: invalid parameter name in '%s'", v);
			return -1;
		}
		if (namelist_add(&r->strip, p, n) < 0)
			return -1;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

static int
compile_regex(struct ctx *c, struct rule *r, const char *pat)
{
	const char *why = regex_unsafe(pat);
	int err;
	PCRE2_SIZE off;
	char msg[256];

	if (why != NULL) {
		rerr(c, "regex rejected: %s", why);
		return -1;
	}
	r->re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
			      PCRE2_NEVER_BACKSLASH_C | PCRE2_NO_UTF_CHECK * 0, &err, &off, NULL);
	if (r->re == NULL) {
		pcre2_get_error_message(err, (PCRE2_UCHAR *)msg, sizeof msg);
		rerr(c, "regex error at offset %zu: %s", (size_t)off, msg);
		return -1;
	}
	/* JIT is an optimisation: without it (no JIT on this CPU) the
	 * interpreter runs with the same limits. */
	(void)pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
	return 0;
}

/* Validate a host pattern; on success *MODE and the key (lowercase, no
 * "*.") are returned through KEY/KLEN, or *ANY for "*". */
static int
parse_host(struct ctx *c, const char *h, size_t n, const char **key, size_t *klen,
	   int *mode, int *any)
{
	*any = 0;
	if (n == 1 && h[0] == '*') {
		*any = 1;
		return 0;
	}
	*mode = H_EXACT;
	if (n > 2 && h[0] == '*' && h[1] == '.') {
		*mode = H_SUB;
		h += 2;
		n -= 2;
	}
	if (n > 0 && h[n - 1] == '.')
		n--;
	if (n == 0 || n >= MAX_HOST || memchr(h, '*', n) || !url_host_is_valid(h, n) ||
	    h[0] == '[') {
		rerr(c, "invalid host pattern '%.*s' (host, *.host or *)", (int)n, h);
		return -1;
	}
	*key = h;
	*klen = n;
	return 0;
}

/* Does PAT have a '|' outside any group, so that its leading '^' does not
 * anchor every alternative? Also 1 (the safe answer) for the constructs
 * this scan does not follow: \Q...\E quoting and (?#...) comments. */
static int
top_level_alternation(const char *pat)
{
	size_t i, depth = 0;

	if (strstr(pat, "\\Q") != NULL || strstr(pat, "(?#") != NULL)
		return 1;
	for (i = 0; pat[i]; i++) {
		if (pat[i] == '\\' && pat[i + 1]) {
			i++;
			continue;
		}
		if (pat[i] == '[') {
			for (i++; pat[i] && pat[i] != ']'; i++)
				if (pat[i] == '\\' && pat[i + 1])
					i++;
			if (!pat[i])
				return 1;
			continue;
		}
		if (pat[i] == '(')
			depth++;
		else if (pat[i] == ')' && depth)
			depth--;
		else if (pat[i] == '|' && depth == 0)
			return 1;
	}
	return 0;
}

/* Fill the rule's literal prefix/suffix prefilter. */
static void
set_literals(struct rule *r, const char *pat)
{
	size_t n = 0, i;
	const char *star;

	if (r->glob != NULL) {
		const char *first = strchr(r->glob, '*');
		int fits;

		star = first;
		n = star ? (size_t)(star - r->glob) : strlen(r->glob);
		fits = n < sizeof r->lit_prefix;
		if (!fits)
			n = sizeof r->lit_prefix - 1;
		memcpy(r->lit_prefix, r->glob, n);
		r->lit_plen = n;
		if (first == NULL) {
			r->glob_lits = fits ? GLOB_IS_LIT : 0;
			return;
		}
		star = strrchr(r->glob, '*');
		n = strlen(star + 1);
		if (n < sizeof r->lit_suffix) {
			memcpy(r->lit_suffix, star + 1, n);
			r->lit_slen = n;
			/* one run of stars: "P*S" matches exactly the paths of at
			 * least |P| + |S| bytes (minlen) that start with P and end
			 * with S */
			if (fits && strspn(first, "*") == (size_t)(star + 1 - first))
				r->glob_lits = GLOB_BY_LITS;
		}
		return;
	}
	if (pat == NULL || pat[0] != '^' || top_level_alternation(pat))
		return;
	for (i = 1, n = 0; pat[i] && n + 1 < sizeof r->lit_prefix; i++) {
		char c = pat[i];

		if (c == '\\') {
			c = pat[i + 1];
			if (!(c == '.' || c == '/' || c == '-' || c == '_' || c == '?' || c == '+' ||
			      c == '*' || c == '(' || c == ')' || c == '$' || c == '^' || c == '|' ||
			      c == '[' || c == ']' || c == '{' || c == '}'))
				break;	/* \d, \w ... are classes */
			if (pat[i + 2] == '?' || pat[i + 2] == '*' || pat[i + 2] == '{' ||
			    pat[i + 2] == '+')
				break;
			r->lit_prefix[n++] = c;
			i++;
			continue;
		}
		if (strchr(".[]()?*+{}|^$", c) != NULL)
			break;
		if (pat[i + 1] == '?' || pat[i + 1] == '*' || pat[i + 1] == '{' || pat[i + 1] == '+')
			break;	/* optional or repeated: not a fixed prefix */
		r->lit_prefix[n++] = c;
	}
	r->lit_plen = n;
}

/* The bytes that can follow the leading '/' of a path that regex PAT
 * ("^/X") matches: X compiled on its own must match there, so PCRE2's
 * own start analysis of X (first code unit or start bitmap) answers.
 * 0 when unknown (not of that form, or X may match the empty string);
 * constructs that make the cut unsafe or the analysis doubtful (verbs,
 * \K, a quantified '/', a top-level '|') also give 0. */
static int
regex_next_bytes(const char *pat, uint64_t set[4])
{
	uint32_t type = 0, cu = 0, minlen = 0;
	const uint8_t *bm = NULL;
	pcre2_code *x;
	PCRE2_SIZE off;
	int err, c, known = 0;

	if (pat[0] != '^' || pat[1] != '/' || pat[2] == '\0' || strchr("?*+{", pat[2]) ||
	    strstr(pat, "(*") || strstr(pat, "\\K") || top_level_alternation(pat))
		return 0;
	x = pcre2_compile((PCRE2_SPTR)pat + 2, PCRE2_ZERO_TERMINATED, PCRE2_NEVER_BACKSLASH_C,
			  &err, &off, NULL);
	if (x == NULL)
		return 0;
	memset(set, 0, 4 * sizeof set[0]);
	if (pcre2_pattern_info(x, PCRE2_INFO_MINLENGTH, &minlen) == 0 && minlen > 0 &&
	    pcre2_pattern_info(x, PCRE2_INFO_FIRSTCODETYPE, &type) == 0) {
		if (type == 1 && pcre2_pattern_info(x, PCRE2_INFO_FIRSTCODEUNIT, &cu) == 0 &&
		    cu < 256) {
			/* a caseless first unit is reported in one case only */
			SET_ADD(set, cu);
			if ((cu | 0x20) >= 'a' && (cu | 0x20) <= 'z')
				SET_ADD(set, cu ^ 0x20);
			known = 1;
		} else if (type == 0 && pcre2_pattern_info(x, PCRE2_INFO_FIRSTBITMAP, &bm) == 0 &&
			   bm != NULL) {
			for (c = 0; c < 256; c++)
				if (bm[c >> 3] & (1u << (c & 7)))
					SET_ADD(set, c);
			known = 1;
		}
	}
	pcre2_code_free(x);
	return known;
}

/* Fill minlen, next and last (see struct rule) from the path pattern. */
static void
set_dispatch(struct rule *r, const char *pat)
{
	uint32_t minlen = 0;
	size_t i, n;

	memset(r->next, 0xff, sizeof r->next);
	memset(r->last, 0xff, sizeof r->last);
	r->minlen = 0;
	if (r->glob != NULL) {
		/* every byte but '*' matches exactly one path byte */
		n = strlen(r->glob);
		for (i = 0; i < n; i++)
			r->minlen += r->glob[i] != '*';
		if (n >= 2 && r->glob[1] != '*') {
			memset(r->next, 0, sizeof r->next);
			SET_ADD(r->next, r->glob[1]);
		} else if (n < 2)
			memset(r->next, 0, sizeof r->next);	/* only "/" itself */
		if (r->glob[n - 1] != '*') {
			memset(r->last, 0, sizeof r->last);
			SET_ADD(r->last, r->glob[n - 1]);
		}
		return;
	}
	if (r->re == NULL)
		return;
	/* PCRE2 rejects a shorter subject itself; the guard keeps out the
	 * verbs ((*ACCEPT), (*NO_START_OPT)) that would weaken that bound. */
	if (strstr(pat, "(*") == NULL &&
	    pcre2_pattern_info(r->re, PCRE2_INFO_MINLENGTH, &minlen) == 0)
		r->minlen = minlen;
	if (!regex_next_bytes(pat, r->next))
		memset(r->next, 0xff, sizeof r->next);
}

static void
rule_free(struct rule *r)
{
	int i;

	if (r == NULL)
		return;
	free(r->vendor);
	free(r->glob);
	if (r->re)
		pcre2_code_free(r->re);
	for (i = 0; i < r->nconds; i++) {
		free(r->conds[i].name);
		free(r->conds[i].value);
	}
	free(r->unwrap.param);
	for (i = 0; i < r->ndec; i++)
		free(r->dec[i].field);
	free(r->prefix);
	for (i = 0; i < r->nanon; i++)
		free(r->anon[i].param);
	free(r->token);
	namelist_free(&r->strip);
	free(r);
}

static int
add_rule(struct rules *rs, struct rule *r)
{
	struct rule **v = grow(rs->v, &rs->cap, rs->n + 1, sizeof *v);

	if (v == NULL)
		return -1;
	rs->v = v;
	r->owner = rs;
	v[rs->n++] = r;
	return 0;
}

static int
add_any(struct rules *rs, size_t idx)
{
	size_t *v;

	if (rs->nany > 0 && rs->anyv[rs->nany - 1] == idx)
		return 0;	/* "*" twice on one line */
	v = grow(rs->anyv, &rs->anycap, rs->nany + 1, sizeof *v);
	if (v == NULL)
		return -1;
	rs->anyv = v;
	v[rs->nany++] = idx;
	return 0;
}

/* Rows of rules->amask, each AW words: a bit set means "this "*" rule may
 * match a path with this property". A URL ANDs four rows (the byte after
 * the leading '/', the last byte, the length, the kind mask) and tries
 * only the rules left, in file order, so a newsletter's ordinary links
 * mostly try none and never reach PCRE2. */
#define ROW_NEXT	0	/* + byte; + 256: path shorter than 2 bytes */
#define ROW_LAST	257	/* + last byte */
#define ROW_LEN		513	/* + length (255: 255 or more) */
#define ROW_KIND	769	/* + kind mask & RULE_ANY */
#define ROWS		801

static const uint64_t *
any_row(const struct rules *rs, size_t row)
{
	return rs->amask + row * rs->aw;
}

/* Build amask once the "*" rules are known (end of loading). */
static int
build_any_dispatch(struct rules *rs)
{
	size_t i, c, w, bit;

	free(rs->amask);
	rs->amask = NULL;
	rs->aw = (rs->nany + 63) / 64;
	if (rs->nany == 0)
		return 0;
	rs->amask = calloc(ROWS * rs->aw, sizeof *rs->amask);
	if (rs->amask == NULL)
		return -1;
	for (i = 0; i < rs->nany; i++) {
		const struct rule *r = rs->v[rs->anyv[i]];
		uint64_t *m = rs->amask;

		w = i / 64;
		bit = (uint64_t)1 << (i % 64);
		for (c = 0; c < 256; c++) {
			if (SET_HAS(r->next, c))
				m[(ROW_NEXT + c) * rs->aw + w] |= bit;
			if (SET_HAS(r->last, c))
				m[(ROW_LAST + c) * rs->aw + w] |= bit;
			/* minlen > 255 is still a candidate at row 255 */
			if (r->minlen <= c || c == 255)
				m[(ROW_LEN + c) * rs->aw + w] |= bit;
		}
		/* too short to have a byte after the '/': the length row decides */
		m[(ROW_NEXT + 256) * rs->aw + w] |= bit;
		for (c = 0; c <= RULE_ANY; c++)
			if (r->kind & c)
				m[(ROW_KIND + c) * rs->aw + w] |= bit;
	}
	return 0;
}

/* Parse the options after KIND HOSTS [PATH]. */
static int
parse_option(struct ctx *c, struct rule *r, const char *tok)
{
	const char *eq = strchr(tok, '=');
	const char *v;
	size_t kl;

	if (eq == NULL || eq == tok) {
		rerr(c, "expected OPTION=VALUE, got '%s'", tok);
		return -1;
	}
	kl = (size_t)(eq - tok);
	v = eq + 1;
	if (*v == '\0') {
		rerr(c, "option '%.*s' needs a value", (int)kl, tok);
		return -1;
	}
#define IS(k) (kl == strlen(k) && strncmp(tok, k, kl) == 0)
	if (IS("param"))
		return parse_cond(c, r, v);
	if (IS("unwrap")) {
		if (r->unwrap.kind != T_NONE) {
			rerr(c, "unwrap given twice");
			return -1;
		}
		if (parse_target(c, "unwrap", v, &r->unwrap) < 0)
			return -1;
		if (r->unwrap.kind == T_CAPTURE) {
			rerr(c, "unwrap: use segment:N or param:NAME");
			return -1;
		}
		return 0;
	}
	if (IS("decode")) {
		if (r->ndec) {
			rerr(c, "decode given twice");
			return -1;
		}
		return parse_decoders(c, r, v);
	}
	if (IS("prefix")) {
		size_t n = strlen(v);

		if (r->prefix || n < 4 || !url_has_scheme(v, n) ||
		    (strcmp(v, "http://") != 0 && strcmp(v, "https://") != 0)) {
			rerr(c, "prefix: expected http:// or https://");
			return -1;
		}
		r->prefix = strdup(v);
		return r->prefix ? 0 : -1;
	}
	if (IS("anonymize")) {
		if (r->nanon >= MAX_ANON) {
			rerr(c, "anonymize: at most %d targets", MAX_ANON);
			return -1;
		}
		return parse_target(c, "anonymize", v, &r->anon[r->nanon++]);
	}
	if (IS("token")) {
		size_t i;

		if (r->token) {
			rerr(c, "token given twice");
			return -1;
		}
		for (i = 0; v[i]; i++)
			if ((unsigned char)v[i] <= 0x20 || v[i] == '/' || v[i] == '?' ||
			    v[i] == '#' || v[i] == '&' || v[i] == '%' || v[i] == '"' ||
			    v[i] == '<' || v[i] == '>' || v[i] == '\\' || (unsigned char)v[i] >= 0x7f) {
				rerr(c, "token: only characters allowed unencoded in a URL path");
				return -1;
			}
		if (strcmp(v, "zeros") == 0)
			return 0;
		r->token = strdup(v);
		return r->token ? 0 : -1;
	}
	if (IS("strip"))
		return parse_strip(c, r, v);
#undef IS
	rerr(c, "unknown option '%.*s' (param, unwrap, decode, prefix, anonymize, token, strip)",
	     (int)kl, tok);
	return -1;
}

/* Checks that need the whole line. */
static int
check_rule(struct ctx *c, const struct rule *r)
{
	int i, ok = 0;
	uint32_t ncap = 0;

	if (r->unwrap.kind != T_NONE && r->kind != RULE_LINK && r->kind != RULE_FUNCTIONAL) {
		rerr(c, "unwrap is only for link and functional rules");
		ok = -1;
	}
	if ((r->ndec || r->prefix) && r->unwrap.kind == T_NONE) {
		rerr(c, "decode and prefix need unwrap=");
		ok = -1;
	}
	if (r->nanon && (r->kind == RULE_EXEMPT || r->kind == RULE_PARAM)) {
		rerr(c, "anonymize is only for pixel, link and functional rules");
		ok = -1;
	}
	if (r->token && r->nanon == 0) {
		rerr(c, "token needs anonymize=");
		ok = -1;
	}
	if (r->strip.n && r->kind == RULE_EXEMPT) {
		rerr(c, "strip makes no sense on an exempt rule");
		ok = -1;
	}
	if (r->re)
		pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &ncap);
	for (i = 0; i < r->nanon; i++)
		if (r->anon[i].kind == T_CAPTURE && (r->re == NULL || (uint32_t)r->anon[i].capture > ncap)) {
			rerr(c, "anonymize=capture:%d needs a re: path with that many groups",
			     r->anon[i].capture);
			ok = -1;
		}
	return ok;
}

/* Split LINE into blank-separated tokens; '#' at a token start ends the line. */
static int
tokenize(char *line, char **tok, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#' || *p == '\n' || *p == '\r')
			return n;
		if (n == max)
			return -1;
		tok[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		if (*p == '\0')
			return n;
		*p++ = '\0';
	}
}

/* Check every host of the comma-separated list HOSTS; if all are good and
 * the rule is not BAD, add R to the set and index it under each host.
 * Takes ownership of R. -1 only for out of memory. */
static int
register_hosts(struct rules *rs, struct ctx *c, struct rule *r, const char *hosts, int bad)
{
	const char *p, *comma, *key;
	size_t n, klen, idx = rs->n;
	int mode, any;

	for (p = hosts; ; p = comma + 1) {	/* validate all first: errors for each */
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (parse_host(c, p, n, &key, &klen, &mode, &any) < 0)
			bad = 1;
		if (comma == NULL)
			break;
	}
	if (bad) {
		rule_free(r);
		return 0;
	}
	if (add_rule(rs, r) < 0) {
		rule_free(r);
		return -1;
	}
	for (p = hosts; ; p = comma + 1) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		(void)parse_host(c, p, n, &key, &klen, &mode, &any);
		if (any ? add_any(rs, idx) : hash_add(rs, key, klen, idx, mode))
			return -1;
		if (comma == NULL)
			return 0;
	}
}

static int
parse_rule_line(struct rules *rs, struct ctx *c, char **tok, int ntok)
{
	struct rule *r;
	const char *hosts;
	int i = 2, bad = 0;

	r = calloc(1, sizeof *r);
	if (r == NULL)
		return -1;
	r->line = c->line;
	if (parse_kind(tok[0], &r->kind) < 0) {
		rerr(c, "unknown keyword '%s' (vendor, personal, campaign, pixel, link, param, "
		     "functional, exempt)", tok[0]);
		rule_free(r);
		return 0;
	}
	if (ntok < 2) {
		rerr(c, "%s: missing host", tok[0]);
		rule_free(r);
		return 0;
	}
	if (c->vendor == NULL) {
		rerr(c, "rule before any 'vendor' line");
		bad = 1;
	}
	r->vendor = strdup(c->vendor ? c->vendor : "?");
	if (r->vendor == NULL) {
		rule_free(r);
		return -1;
	}
	hosts = tok[1];
	if (i < ntok && tok[i][0] == '/') {
		if ((r->glob = strdup(tok[i])) == NULL) {
			rule_free(r);
			return -1;
		}
		i++;
	} else if (i < ntok && strncmp(tok[i], "re:", 3) == 0) {
		if (tok[i][3] == '\0') {
			rerr(c, "re: needs a pattern");
			bad = 1;
		} else if (compile_regex(c, r, tok[i] + 3) < 0)
			bad = 1;
		i++;
	}
	if (r->glob != NULL) {
		set_literals(r, NULL);
		set_dispatch(r, NULL);
	} else if (r->re != NULL) {
		set_literals(r, tok[i - 1] + 3);
		set_dispatch(r, tok[i - 1] + 3);
	} else
		set_dispatch(r, NULL);
	for (; i < ntok; i++)
		if (parse_option(c, r, tok[i]) < 0)
			bad = 1;
	if (!bad && check_rule(c, r) < 0)
		bad = 1;

	/* Hosts last: only a good rule enters the table. */
	return register_hosts(rs, c, r, hosts, bad);
}

/* One line. Returns -1 only for out of memory. */
static int
parse_line(struct rules *rs, struct ctx *c, char *line, char **vendor_store)
{
	char *tok[64];
	int ntok, i;

	ntok = tokenize(line, tok, 64);
	if (ntok < 0) {
		rerr(c, "too many words on one line");
		return 0;
	}
	if (ntok == 0)
		return 0;
	if (strcmp(tok[0], "vendor") == 0) {
		struct buf b = BUF_INIT;

		if (ntok < 2) {
			rerr(c, "vendor: missing name");
			return 0;
		}
		for (i = 1; i < ntok; i++)
			if ((i > 1 && buf_puts(&b, " ") < 0) || buf_puts(&b, tok[i]) < 0) {
				buf_free(&b);
				return -1;
			}
		free(*vendor_store);
		*vendor_store = b.data;
		c->vendor = b.data;
		return 0;
	}
	if (strcmp(tok[0], "personal") == 0 || strcmp(tok[0], "campaign") == 0) {
		struct namelist *l = tok[0][0] == 'p' ? &rs->personal : &rs->campaign;

		if (ntok < 2)
			rerr(c, "%s: no parameter names", tok[0]);
		for (i = 1; i < ntok; i++) {
			if (!valid_param_name(tok[i], strlen(tok[i])))
				rerr(c, "%s: invalid parameter name '%s'", tok[0], tok[i]);
			else if (namelist_add(l, tok[i], strlen(tok[i])) < 0)
				return -1;
		}
		return 0;
	}
	return parse_rule_line(rs, c, tok, ntok);
}

struct rules *
rules_new_empty(void)
{
	struct rules *r = calloc(1, sizeof *r);

	if (r == NULL)
		return NULL;
	r->mctx = pcre2_match_context_create(NULL);
	if (r->mctx == NULL || namelist_add(&r->campaign, "utm_*", 5) < 0) {
		rules_free(r);
		return NULL;
	}
	pcre2_set_match_limit(r->mctx, RE_MATCH_LIMIT);
	pcre2_set_depth_limit(r->mctx, RE_DEPTH_LIMIT);
	return r;
}

static void
oom(struct ctx *c)
{
	c->line = 0;
	rerr(c, "out of memory");
}

struct rules *
rules_load_string(const char *text, size_t len, const char *name, struct cfg_error **errors)
{
	struct ctx c = { name, 0, errors, 0, NULL };
	struct rules *rs = rules_new_empty();
	char line[MAX_LINE + 2], *vendor = NULL;
	size_t pos = 0, n;

	if (errors)
		*errors = NULL;
	if (rs == NULL) {
		oom(&c);
		return NULL;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);

		n = nl ? (size_t)(nl - text - pos) : len - pos;
		c.line++;
		if (n > MAX_LINE) {
			rerr(&c, "line longer than %d bytes", MAX_LINE);
		} else if (memchr(text + pos, '\0', n)) {
			rerr(&c, "NUL byte in line");
		} else {
			memcpy(line, text + pos, n);
			line[n] = '\0';
			if (parse_line(rs, &c, line, &vendor) < 0) {
				oom(&c);
				break;
			}
		}
		pos += n + 1;
	}
	free(vendor);
	if (c.nerr == 0 && build_any_dispatch(rs) < 0)
		oom(&c);
	if (c.nerr) {
		rules_free(rs);
		return NULL;
	}
	return rs;
}

struct rules *
rules_load(const char *path, struct cfg_error **errors)
{
	struct ctx c = { path, 0, errors, 0, NULL };
	struct buf b = BUF_INIT;
	struct rules *rs;
	char chunk[8192];
	size_t n;
	FILE *f;

	if (errors)
		*errors = NULL;
	f = fopen(path, "r");
	if (f == NULL) {
		rerr(&c, "cannot open: %s", strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_append(&b, chunk, n) < 0) {
			fclose(f);
			buf_free(&b);
			oom(&c);
			return NULL;
		}
	if (ferror(f)) {
		rerr(&c, "read error");
		fclose(f);
		buf_free(&b);
		return NULL;
	}
	fclose(f);
	rs = rules_load_string(b.data ? b.data : "", b.len, path, errors);
	buf_free(&b);
	return rs;
}

void
rules_free(struct rules *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		rule_free(r->v[i]);
	free(r->v);
	for (i = 0; i < r->tabsize; i++) {
		free(r->tab[i].key);
		free(r->tab[i].refs);
	}
	free(r->tab);
	free(r->anyv);
	free(r->amask);
	namelist_free(&r->personal);
	namelist_free(&r->campaign);
	if (r->mctx)
		pcre2_match_context_free(r->mctx);
	free(r);
}

int
rules_add_own_domain(struct rules *rs, const char *domain)
{
	static const enum rule_kind kinds[] = { RULE_PIXEL, RULE_LINK };
	struct ctx c = { "OwnTrackingDomains", 0, NULL, 0, NULL };
	size_t n = strlen(domain), i, klen;
	const char *key;
	int mode, any;

	if (parse_host(&c, domain, n, &key, &klen, &mode, &any) < 0 || any || mode != H_EXACT)
		return -1;
	for (i = 0; i < 2; i++) {
		struct rule *r = calloc(1, sizeof *r);
		size_t idx = rs->n;

		if (r == NULL || (r->vendor = strdup("own")) == NULL) {
			rule_free(r);
			return -1;
		}
		r->kind = kinds[i];
		if (add_rule(rs, r) < 0) {
			rule_free(r);
			return -1;
		}
		if (hash_add(rs, key, klen, idx, H_EXACT) < 0 ||
		    hash_add(rs, key, klen, idx, H_SUB) < 0)
			return -1;
	}
	return 0;
}

struct rules *
rules_from_config(const struct cm_config *cfg, struct cfg_error **errors)
{
	struct ctx c = { cfg->file ? cfg->file : "consent-milter.conf", 0, errors, 0, NULL };
	struct rules *rs;
	size_t i;

	if (errors)
		*errors = NULL;
	if (cfg->tracker_rules == NULL || cfg->tracker_rules[0] == '\0')
		rs = rules_new_empty();
	else
		rs = rules_load(cfg->tracker_rules, errors);
	if (rs == NULL) {
		if (errors && *errors == NULL)
			oom(&c);
		return NULL;
	}
	for (i = 0; cfg->own_tracking_domains && cfg->own_tracking_domains[i]; i++)
		if (rules_add_own_domain(rs, cfg->own_tracking_domains[i]) < 0)
			rerr(&c, "OwnTrackingDomains: invalid domain '%s'", cfg->own_tracking_domains[i]);
	if (c.nerr) {
		rules_free(rs);
		return NULL;
	}
	return rs;
}

size_t
rules_count(const struct rules *r)
{
	return r->n;
}

/* ---- matching ----------------------------------------------------------------- */

static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static int md_key_ok;

static void
md_free(void *p)
{
	pcre2_match_data_free(p);
}

static void
md_init(void)
{
	md_key_ok = pthread_key_create(&md_key, md_free) == 0;
}

/* Match data of the calling thread, created on first use. */
static pcre2_match_data *
thread_match_data(void)
{
	pcre2_match_data *md;

	pthread_once(&md_once, md_init);
	if (!md_key_ok)
		return NULL;
	md = pthread_getspecific(md_key);
	if (md == NULL) {
		md = pcre2_match_data_create(MAX_CAPTURES, NULL);
		if (md == NULL)
			return NULL;
		if (pthread_setspecific(md_key, md) != 0) {
			pcre2_match_data_free(md);
			return NULL;
		}
	}
	return md;
}

/* Run RE over S; 1 match (ovector in *MD), 0 none or error (limits hit). */
static int
re_match(const struct rules *rs, const pcre2_code *re, const char *s, size_t n,
	 pcre2_match_data **mdp)
{
	pcre2_match_data *md = thread_match_data();
	int rc;

	if (md == NULL)
		return 0;
	rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, rs ? rs->mctx : NULL);
	if (mdp)
		*mdp = md;
	return rc >= 0;		/* 0: ovector too small, still a match */
}

/* '*' matches any run of bytes (including '/'); everything else is literal. */
static int
glob_match(const char *pat, const char *s, size_t n)
{
	const char *star = NULL;
	size_t i = 0, mark = 0;

	while (i < n) {
		if (*pat == '*') {
			while (*pat == '*')
				pat++;
			if (*pat == '\0')
				return 1;	/* a final '*' takes the rest */
			star = pat - 1;
			mark = i;
		} else if (*pat != '\0' && *pat == s[i]) {
			pat++;
			i++;
		} else if (star != NULL) {
			pat = star + 1;
			i = ++mark;
		} else
			return 0;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* Find the query parameter COND names in S: an exact (decoded) name, or
 * with a trailing '*' the first parameter whose raw name starts so. */
static int
cond_find(const char *s, size_t len, const char *name, struct url_param *p)
{
	struct url_query_iter it;
	size_t n = strlen(name);

	if (n == 0 || name[n - 1] != '*')
		return url_query_find(s, len, 0, name, p);
	url_query_begin(&it, s, len, 0);
	while (url_query_next(&it, p))
		if (p->name_len >= n - 1 && memcmp(p->name, name, n - 1) == 0)
			return 1;
	return 0;
}

static int
conds_match(const struct rule *r, const struct url *u)
{
	const char *s = u->base + u->start;
	size_t len = u->end - u->start;
	struct url_param p;
	int i;

	for (i = 0; i < r->nconds; i++) {
		if (!cond_find(s, len, r->conds[i].name, &p))
			return 0;
		/* The value is a glob ('*' only) over the raw, undecoded bytes. */
		if (r->conds[i].value != NULL &&
		    !(p.value != NULL && glob_match(r->conds[i].value, p.value, p.value_len)))
			return 0;
	}
	return 1;
}

static int
rule_matches(const struct rules *rs, const struct rule *r, const struct url *u,
	     unsigned mask)
{
	const char *path = u->path.len ? URL_PTR(u, u->path) : "/";
	size_t plen = u->path.len ? u->path.len : 1;

	if (!(r->kind & mask) || plen < r->minlen)
		return 0;
	/* the byte after the '/' first: host rules of one vendor mostly
	 * differ there ("/wf/...", "/asm/...", "/ls/...") */
	if (r->lit_plen && (plen < r->lit_plen ||
	    (r->lit_plen >= 2 && path[1] != r->lit_prefix[1]) ||
	    memcmp(path, r->lit_prefix, r->lit_plen) != 0))
		return 0;
	if (r->lit_slen && memcmp(path + plen - r->lit_slen, r->lit_suffix, r->lit_slen) != 0)
		return 0;
	if (r->glob != NULL && r->glob_lits != GLOB_BY_LITS &&
	    (r->glob_lits == GLOB_IS_LIT ? plen != r->lit_plen : !glob_match(r->glob, path, plen)))
		return 0;
	if (r->re && !re_match(rs, r->re, path, plen, NULL))
		return 0;
	return conds_match(r, u);
}

/* The first "*" rule that matches U: only the candidates of the dispatch
 * rows (build_any_dispatch) are tried, lowest index (file order) first. */
static const struct rule *
match_any(const struct rules *rs, const struct url *u, unsigned mask)
{
	const char *path = u->path.len ? URL_PTR(u, u->path) : "/";
	size_t plen = u->path.len ? u->path.len : 1, w;
	const uint64_t *next, *last, *len, *kind;
	uint64_t m;

	if (rs->nany == 0)
		return NULL;
	next = any_row(rs, ROW_NEXT + (plen >= 2 ? (unsigned char)path[1] : 256));
	last = any_row(rs, ROW_LAST + (unsigned char)path[plen - 1]);
	len = any_row(rs, ROW_LEN + (plen < 255 ? plen : 255));
	kind = any_row(rs, ROW_KIND + (mask & RULE_ANY));
	for (w = 0; w < rs->aw; w++)
		for (m = next[w] & last[w] & len[w] & kind[w]; m != 0; m &= m - 1) {
			const struct rule *r = rs->v[rs->anyv[w * 64 + (size_t)__builtin_ctzll(m)]];

			if (rule_matches(rs, r, u, mask))
				return r;
		}
	return NULL;
}

/* The host entries that apply to U's host, longest suffix first, with the
 * mode (H_EXACT for the host itself, else H_SUB) their rules must have:
 * at most CAP of them into ENTS / MODES, their number in *N (which may
 * exceed CAP: then only the first CAP are there). -1 when U's host is not
 * looked up at all (no rule matches it, not even "*"). */
static int
host_entries(const struct rules *rs, const struct url *u, const struct hentry **ents,
	     unsigned char *modes, size_t cap, size_t *n)
{
	const unsigned char *host, *p;
	size_t hl, h, suf[MAX_HOST], sufh[MAX_HOST], nsuf = 0;

	*n = 0;
	if (rs == NULL || (u->scheme != URL_SCHEME_HTTP && u->scheme != URL_SCHEME_HTTPS) ||
	    u->host.len == 0)
		return -1;
	host = (const unsigned char *)URL_PTR(u, u->host);
	hl = u->host.len - (host[u->host.len - 1] == '.');
	if (hl == 0 || hl >= MAX_HOST)
		return -1;
	/* One right-to-left pass over the host as written collects the hash
	 * of every suffix that starts a label (a '.' ends the one before);
	 * then look them up longest first. At most MAX_HOST suffixes (one
	 * per '.', and the host), of which the MAX_LABELS shortest count. */
	h = HASH_INIT;
	for (p = host + hl; p > host; ) {
		if (*--p == '.') {
			suf[nsuf] = (size_t)(p + 1 - host);
			sufh[nsuf++] = h;
		}
		h = HASH_STEP(h, *p);
	}
	suf[nsuf] = 0;
	sufh[nsuf++] = h;
	if (nsuf > MAX_LABELS)
		nsuf = MAX_LABELS;
	while (nsuf-- > 0) {
		const struct hentry *e;

		if (!BLOOM_HAS(rs, sufh[nsuf]))
			continue;
		e = hash_find_h(rs, (const char *)host + suf[nsuf], hl - suf[nsuf], sufh[nsuf]);
		if (e == NULL)
			continue;
		if (*n < cap) {
			ents[*n] = e;
			modes[*n] = suf[nsuf] == 0 ? H_EXACT : H_SUB;
		}
		(*n)++;
	}
	return 0;
}

/* The first rule of the host entries ENTS[0..N) (modes MODES) that matches
 * U, else the first "*" rule. */
static const struct rule *
match_entries(const struct rules *rs, const struct hentry *const *ents,
	      const unsigned char *modes, size_t n, const struct url *u, unsigned mask)
{
	size_t k, i;

	for (k = 0; k < n; k++)
		for (i = 0; i < ents[k]->n; i++)
			if (ents[k]->refs[i].mode == modes[k] && (ents[k]->refs[i].kind & mask) &&
			    rule_matches(rs, rs->v[ents[k]->refs[i].rule], u, mask))
				return rs->v[ents[k]->refs[i].rule];
	return match_any(rs, u, mask);
}

const struct rule *
rules_match(const struct rules *rs, const struct url *u, unsigned mask)
{
	const struct hentry *ents[MAX_LABELS];
	unsigned char modes[MAX_LABELS];
	size_t n;

	if (host_entries(rs, u, ents, modes, MAX_LABELS, &n) < 0)
		return NULL;
	return match_entries(rs, ents, modes, n, u, mask);
}

/* memcmp(A, B, N) == 0 for a host of the memo: eight bytes at a step, the
 * last step overlapping, no call (every URL of a part asks the memo). */
static int
host_eq(const char *a, const char *b, size_t n)
{
	uint64_t x, y;
	size_t i;

	if (n < 8) {
		for (i = 0; i < n; i++)
			if (a[i] != b[i])
				return 0;
		return 1;
	}
	for (i = 0; i + 8 < n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return 0;
	}
	memcpy(&x, a + n - 8, 8);
	memcpy(&y, b + n - 8, 8);
	return x == y;
}

const struct rule *
rules_match_memo(const struct rules *rs, const struct url *u, unsigned mask,
    struct rules_memo *m)
{
	const char *host = URL_PTR(u, u->host);
	const struct hentry *ents[MAX_LABELS];
	unsigned char modes[MAX_LABELS];
	size_t n = u->host.len, k, ne, i;

	if (m->rs != rs) {
		memset(m, 0, sizeof(*m));
		m->rs = rs;
	}
	/* remembered hosts were looked up for http(s) URLs, as this one must
	 * be to skip the lookup (the lookup depends on nothing else but the
	 * host's bytes); an empty slot (len 0) matches no host */
	if (n > 0 && n <= RULES_MEMO_HOST_MAX &&
	    (u->scheme == URL_SCHEME_HTTP || u->scheme == URL_SCHEME_HTTPS))
		/* the slot that answered last first: a part's URLs come in runs
		 * on one host (a product block's image, then its link) */
		for (i = 0; i <= RULES_MEMO_HOSTS; i++) {
			k = i == 0 ? m->last % RULES_MEMO_HOSTS : i - 1;
			if (m->h[k].len == n && host_eq(m->h[k].host, host, n)) {
				m->last = (unsigned)k;
				return match_entries(rs, (const struct hentry *const *)m->h[k].ent,
				    m->h[k].mode, m->h[k].nent, u, mask);
			}
		}
	if (host_entries(rs, u, ents, modes, MAX_LABELS, &ne) < 0)
		return NULL;
	if (n <= RULES_MEMO_HOST_MAX && ne <= RULES_MEMO_ENTRIES) {
		k = m->next++ % RULES_MEMO_HOSTS;
		m->h[k].len = (unsigned char)n;
		m->h[k].nent = (unsigned char)ne;
		memcpy(m->h[k].host, host, n);
		for (i = 0; i < ne; i++) {
			m->h[k].ent[i] = ents[i];
			m->h[k].mode[i] = modes[i];
		}
	}
	return match_entries(rs, ents, modes, ne, u, mask);
}

const struct rule *
rules_match_str(const struct rules *rs, const char *url, size_t len, unsigned mask)
{
	char scratch[4096];
	struct url u;

	if (url_parse_clean(url, len, &u, scratch, sizeof scratch) != 0)
		return NULL;
	return rules_match(rs, &u, mask);
}

enum rule_kind
rules_kind(const struct rule *r)
{
	return r->kind;
}

const char *
rules_vendor(const struct rule *r)
{
	return r->vendor;
}

int
rules_line(const struct rule *r)
{
	return r->line;
}

int
rules_has_unwrap(const struct rule *r)
{
	return r->unwrap.kind != T_NONE;
}

int
rules_has_anonymize(const struct rule *r)
{
	return r->nanon > 0;
}

int
rules_is_personal_param(const struct rules *r, const char *name, size_t len)
{
	return namelist_match(&r->personal, name, len);
}

int
rules_is_campaign_param(const struct rules *r, const char *name, size_t len)
{
	return namelist_match(&r->campaign, name, len);
}

int
rules_rule_strips_param(const struct rule *r, const char *name, size_t len)
{
	return r != NULL && namelist_match(&r->strip, name, len);
}

int
rules_strip_pred(const char *name, size_t len, void *arg)
{
	const struct rules_strip_ctx *x = arg;

	return rules_is_personal_param(x->rules, name, len) ||
	       rules_rule_strips_param(x->rule, name, len) ||
	       (x->strip_campaign && rules_is_campaign_param(x->rules, name, len));
}

/* ---- recipes ------------------------------------------------------------------- */

/* The first '/' or '\\' in P..END, or END. *BS caches the first '\\' at or
 * after the last call's P (NULL: none left): a backslash is rare, so the
 * path is searched for it once, not at every segment. */
static const char *
next_delim(const char *p, const char *end, const char **bs)
{
	const char *sl = memchr(p, '/', (size_t)(end - p));

	if (*bs != NULL && *bs < p)
		*bs = memchr(p, '\\', (size_t)(end - p));
	if (sl == NULL)
		sl = end;
	return *bs != NULL && *bs < sl ? *bs : sl;
}

/* Span of path segment N (1-based, negative from the end) of U: 0 or -1.
 * Segments follow each '/' or '\\' of the path (which starts with one);
 * only the first 64 count, also when counting from the end. The path is
 * read only up to the segment asked for: URLs are long, the segment is
 * usually the second. */
static int
find_segment(const struct url *u, int n, struct url_span *out)
{
	const char *p = URL_PTR(u, u->path), *end = p + u->path.len, *q, *bs;
	int count, idx;

	if (u->path.len == 0 || (*p != '/' && *p != '\\'))
		return -1;
	bs = memchr(p, '\\', u->path.len);
	if (n > 0)
		idx = n - 1;
	else {
		/* one segment per delimiter */
		for (count = 0, q = p; q < end && count < 64; count++)
			q = next_delim(q + 1, end, &bs);
		idx = count + n;
		bs = memchr(p, '\\', u->path.len);
	}
	if (idx < 0 || idx >= 64)
		return -1;
	for (count = 0; p < end; count++, p = q) {
		p++;		/* skip the delimiter */
		q = next_delim(p, end, &bs);
		if (count == idx) {
			if (q == p)
				return -1;
			out->off = (size_t)(p - u->base);
			out->len = (size_t)(q - p);
			return 0;
		}
	}
	return -1;
}

/* Locate target T in U (parsed from S). 0 with the span, or -1. */
static int
find_target(const struct rules *rs, const struct rule *r, const struct target *t,
	    const struct url *u, struct url_span *sp)
{
	struct url_param p;

	switch (t->kind) {
	case T_SEGMENT:
		return find_segment(u, t->segment, sp);
	case T_PARAM:
		if (!url_query_find(u->base + u->start, u->end - u->start, 0, t->param, &p) ||
		    p.value == NULL || p.value_len == 0)
			return -1;
		sp->off = (size_t)(p.value - u->base);
		sp->len = p.value_len;
		return 0;
	case T_CAPTURE: {
		pcre2_match_data *md;
		PCRE2_SIZE *ov;

		if (r->re == NULL || u->path.len == 0 ||
		    !re_match(rs, r->re, URL_PTR(u, u->path), u->path.len, &md) ||
		    (uint32_t)t->capture >= pcre2_get_ovector_count(md))
			return -1;
		ov = pcre2_get_ovector_pointer(md);
		if (ov[2 * t->capture] == PCRE2_UNSET || ov[2 * t->capture + 1] <= ov[2 * t->capture])
			return -1;
		sp->off = u->path.off + ov[2 * t->capture];
		sp->len = ov[2 * t->capture + 1] - ov[2 * t->capture];
		return 0;
	}
	case T_NONE:
		break;
	}
	return -1;
}

/* Parse URL (cleaning tab/newline into *TMP if needed). */
static int
parse_input(const char *url, size_t len, struct url *u, struct buf *tmp)
{
	size_t i;
	int rc = url_parse(url, len, u);

	if (!(u->flags & URL_F_TABNL))
		return rc;
	for (i = 0; i < len; i++)
		if (!(url[i] == '\t' || url[i] == '\n' || url[i] == '\r') &&
		    buf_append(tmp, url + i, 1) < 0)
			return URL_E_NOMEM;
	return url_parse(tmp->data, tmp->len, u);
}

/* Bytes append_browser_encoded() must look at: controls (B_CTL, no URL)
 * and the ones a browser percent-encodes (B_ENC). */
#define B_CTL	1
#define B_ENC	2
static const unsigned char browser_cls[256] = {
	[0x00 ... 0x1f] = B_CTL, [0x7f] = B_CTL,
	[' '] = B_ENC, ['"'] = B_ENC, ['<'] = B_ENC, ['>'] = B_ENC, ['`'] = B_ENC,
};

/* The first byte at or after I in V[0..N) that browser_cls marks, or N.
 * Destinations are long and nearly always clean: SSE2 looks at 16 bytes
 * per step (bytes <= 0x20, DEL, '"', '`', and '<' / '>', which differ in
 * bit 1 only); the table does the tail. */
static size_t
next_browser_special(const char *v, size_t i, size_t n)
{
#ifdef __SSE2__
	const __m128i sp = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f), dq = _mm_set1_epi8('"');
	const __m128i bq = _mm_set1_epi8('`'), b1 = _mm_set1_epi8(2), ang = _mm_set1_epi8('>');

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(v + i));
		__m128i m = _mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, sp), x), _mm_cmpeq_epi8(x, del)),
		    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, dq), _mm_cmpeq_epi8(x, bq)),
		    _mm_cmpeq_epi8(_mm_or_si128(x, b1), ang)));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);

		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
	}
#endif
	while (i < n && !browser_cls[(unsigned char)v[i]])
		i++;
	return i;
}

/* Append V[0..N) the way a browser would send it: space, '"', '<', '>'
 * and '`' percent-encoded (destinations written with a raw space do occur);
 * a control character makes it no URL at all. */
static int
append_browser_encoded(struct buf *out, const char *v, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, run = 0;
	char esc[3];

	for (i = 0; (i = next_browser_special(v, i, n)) < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (browser_cls[c] == B_CTL)
			return RULES_E_NOTURL;
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		if (buf_append(out, v + run, i - run) < 0 || buf_append(out, esc, 3) < 0)
			return RULES_E_NOMEM;
		run = i + 1;
	}
	return buf_append(out, v + run, n - run) < 0 ? RULES_E_NOMEM : RULES_OK;
}

/* Add the rule's scheme prefix when V[0..N) has no scheme; "//x" gets "https:".
 * The check of the result is a parse: it is kept in *DEST for the caller,
 * which judges the destination next. */
static int
finish_destination(const struct rule *r, const char *v, size_t n, struct buf *out,
		   struct url *dest)
{
	size_t s = 0, e = n;
	int rc;

	/* Decoded values sometimes carry blanks at the ends: drop them the
	 * way a browser would. */
	while (s < e && (unsigned char)v[s] <= 0x20)
		s++;
	while (e > s && (unsigned char)v[e - 1] <= 0x20)
		e--;
	if (!url_has_scheme(v + s, e - s) && r->prefix != NULL) {
		if (e - s >= 2 && v[s] == '/' && v[s + 1] == '/') {
			if (buf_puts(out, strncmp(r->prefix, "https", 5) == 0 ? "https:" : "http:") < 0)
				return RULES_E_NOMEM;
		} else if (buf_puts(out, r->prefix) < 0)
			return RULES_E_NOMEM;
	}
	rc = append_browser_encoded(out, v + s, e - s);
	if (rc != RULES_OK)
		return rc;
	return url_parse_valid_absolute(out->data, out->len, dest) ? RULES_OK : RULES_E_NOTURL;
}

void
rules_scratch_free(struct rules_scratch *sc)
{
	buf_free(&sc->a);
	buf_free(&sc->b);
	buf_free(&sc->tmp);
}

int
rules_unwrap(const struct rule *r, const char *url, size_t len, struct buf *out)
{
	return rules_unwrap_scratch(r, url, len, out, NULL);
}

/* The recipe of R applied to U, an http(s) URL parsed without tab/CR/LF
 * inside, into OUT (reset by the caller); *DEST gets the parse of OUT. */
static int
unwrap_parsed(const struct rule *r, const struct url *u, struct buf *out,
	      struct rules_scratch *sc, struct url *dest)
{
	struct buf *nxt = &sc->a, *spare = &sc->b, *sw;
	const char *cur;
	size_t curlen;
	struct url_span sp;
	int rc, i;

	if (find_target(r->owner, r, &r->unwrap, u, &sp) < 0)
		return RULES_E_MISSING;
	/* Each decoder reads the previous result (first the span of the
	 * URL itself) and writes the other scratch buffer. */
	cur = URL_PTR(u, sp);
	curlen = sp.len;
	for (i = 0; i < r->ndec; i++) {
		buf_reset(nxt);
		rc = url_decode(r->dec[i].kind, r->dec[i].field, cur, curlen, nxt);
		if (rc < 0)
			return rc == URL_E_NOMEM ? RULES_E_NOMEM :
			       rc == URL_E_NOFIELD ? RULES_E_MISSING : RULES_E_DECODE;
		cur = nxt->data ? nxt->data : "";
		curlen = nxt->len;
		sw = nxt, nxt = spare, spare = sw;
	}
	if (memchr(cur, '\0', curlen))
		return RULES_E_NOTURL;
	return finish_destination(r, cur, curlen, out, dest);
}

int
rules_unwrap_scratch(const struct rule *r, const char *url, size_t len, struct buf *out,
		     struct rules_scratch *scratch)
{
	struct rules_scratch local = RULES_SCRATCH_INIT, *sc = scratch ? scratch : &local;
	struct url u, dest;
	int rc;

	buf_reset(out);
	if (r == NULL || r->unwrap.kind == T_NONE)
		return RULES_E_NORECIPE;
	buf_reset(&sc->tmp);
	rc = parse_input(url, len, &u, &sc->tmp);
	if (rc == URL_E_NOMEM)
		rc = RULES_E_NOMEM;
	else if (rc != 0 || (u.scheme != URL_SCHEME_HTTP && u.scheme != URL_SCHEME_HTTPS))
		rc = RULES_E_PARSE;
	else
		rc = unwrap_parsed(r, &u, out, sc, &dest);
	if (rc != RULES_OK)
		buf_reset(out);
	if (scratch == NULL)
		rules_scratch_free(&local);
	return rc;
}

int
rules_unwrap_url(const struct rule *r, const struct url *u, struct buf *out,
		 struct rules_scratch *sc, struct url *dest)
{
	struct url clean, own;
	int rc;

	if (dest == NULL)
		dest = &own;
	buf_reset(out);
	if (r == NULL || r->unwrap.kind == T_NONE)
		return RULES_E_NORECIPE;
	if (u->flags & URL_F_TABNL) {
		/* what rules_unwrap_scratch() parses: the URL without tab,
		 * CR and LF (the C0 and spaces around it are trimmed again) */
		buf_reset(&sc->tmp);
		rc = parse_input(u->base + u->start, u->end - u->start, &clean, &sc->tmp);
		if (rc == URL_E_NOMEM)
			return RULES_E_NOMEM;
		u = &clean;
	} else
		rc = 0;
	if (rc != 0 || (u->scheme != URL_SCHEME_HTTP && u->scheme != URL_SCHEME_HTTPS))
		return RULES_E_PARSE;
	rc = unwrap_parsed(r, u, out, sc, dest);
	if (rc != RULES_OK)
		buf_reset(out);
	return rc;
}

int
rules_unwrap_nested(const struct rules *rs, const char *url, size_t len, int max_depth,
		    struct buf *out, int *levels)
{
	struct buf cur = BUF_INIT;
	struct rules_scratch sc = RULES_SCRATCH_INIT;
	const struct rule *r;
	int depth = 0, rc = RULES_E_NORECIPE;

	buf_reset(out);
	if (levels)
		*levels = 0;
	if (buf_append(&cur, url, len) < 0)
		return RULES_E_NOMEM;
	while (depth < max_depth) {
		r = rules_match_str(rs, cur.data, cur.len, RULE_LINK | RULE_EXEMPT);
		if (r == NULL || r->kind == RULE_EXEMPT || r->unwrap.kind == T_NONE)
			break;
		rc = rules_unwrap_scratch(r, cur.data, cur.len, out, &sc);
		if (rc != RULES_OK)
			break;
		depth++;
		buf_reset(&cur);
		if (buf_append(&cur, out->data, out->len) < 0) {
			buf_free(&cur);
			rules_scratch_free(&sc);
			buf_reset(out);
			return RULES_E_NOMEM;
		}
	}
	rules_scratch_free(&sc);
	buf_reset(out);
	if (depth > 0) {
		if (buf_append(out, cur.data, cur.len) < 0)
			depth = 0, rc = RULES_E_NOMEM;
		else
			rc = RULES_OK;
	}
	if (levels)
		*levels = depth;
	buf_free(&cur);
	return rc;
}

static int
span_cmp(const void *a, const void *b)
{
	const struct url_span *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

int
rules_anonymize(const struct rule *r, const char *url, size_t len, struct buf *out)
{
	struct url_span sp[MAX_ANON];
	struct buf tmp = BUF_INIT;
	struct url u;
	size_t pos, i, k;
	int n = 0, rc, t;

	buf_reset(out);
	if (r == NULL || r->nanon == 0)
		return RULES_E_NORECIPE;
	rc = parse_input(url, len, &u, &tmp);
	if (rc != 0 || (u.scheme != URL_SCHEME_HTTP && u.scheme != URL_SCHEME_HTTPS)) {
		buf_free(&tmp);
		return rc == URL_E_NOMEM ? RULES_E_NOMEM : RULES_E_PARSE;
	}
	for (t = 0; t < r->nanon; t++)
		if (find_target(r->owner, r, &r->anon[t], &u, &sp[n]) == 0)
			n++;
	if (n == 0) {
		buf_free(&tmp);
		return RULES_E_MISSING;
	}
	qsort(sp, (size_t)n, sizeof sp[0], span_cmp);
	pos = u.start;
	rc = RULES_OK;
	for (t = 0; t < n && rc == RULES_OK; t++) {
		if (sp[t].off < pos)
			continue;	/* overlapping targets: the first one wins */
		if (buf_append(out, u.base + pos, sp[t].off - pos) < 0)
			rc = RULES_E_NOMEM;
		else if (r->token != NULL) {
			if (buf_puts(out, r->token) < 0)
				rc = RULES_E_NOMEM;
		} else {
			for (i = 0; i < sp[t].len && rc == RULES_OK; i++) {
				char c = u.base[sp[t].off + i];

				k = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
				    (c >= 'A' && c <= 'Z');
				if (buf_append(out, k ? "0" : &c, 1) < 0)
					rc = RULES_E_NOMEM;
			}
		}
		pos = sp[t].off + sp[t].len;
	}
	if (rc == RULES_OK && buf_append(out, u.base + pos, u.end - pos) < 0)
		rc = RULES_E_NOMEM;
	if (rc == RULES_OK && !url_is_valid_absolute(out->data, out->len))
		rc = RULES_E_NOTURL;
	if (rc != RULES_OK)
		buf_reset(out);
	buf_free(&tmp);
	return rc;
}
