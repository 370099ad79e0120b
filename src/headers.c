/* headers.c - top-level header fields as the milter receives them, and edits. */
#include "build-config.h"
#include "headers.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*v, ncap * size);
	if (p == NULL)
		return -1;
	*v = p;
	*cap = ncap;
	return 0;
}

int
headers_add(struct header_list *h, const char *name, const char *value)
{
	char *n, *v;

	if (grow((void **)&h->v, &h->cap, h->n, sizeof *h->v) < 0)
		return -1;
	n = strdup(name);
	v = strdup(value ? value : "");
	if (n == NULL || v == NULL) {
		free(n);
		free(v);
		return -1;
	}
	h->v[h->n].name = n;
	h->v[h->n].value = v;
	h->n++;
	return 0;
}

const char *
headers_get(const struct header_list *h, const char *name, int nth)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->v[i].name, name) == 0 && --nth == 0)
			return h->v[i].value;
	return NULL;
}

int
headers_count(const struct header_list *h, const char *name)
{
	size_t i;
	int n = 0;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->v[i].name, name) == 0)
			n++;
	return n;
}

void
headers_clear(struct header_list *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	h->n = 0;
}

void
headers_free(struct header_list *h)
{
	headers_clear(h);
	free(h->v);
	h->v = NULL;
	h->cap = 0;
}

int
headers_block(const struct header_list *h, struct buf *out)
{
	size_t i;
	const char *p, *run, *nl;

	for (i = 0; i < h->n; i++) {
		const char *v = h->v[i].value;

		if (buf_puts(out, h->v[i].name) < 0 || buf_append(out, ":", 1) < 0)
			return -1;
		/* copy whole runs; only a bare LF (folded by the MTA) becomes CRLF */
		for (run = p = v; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
			if (nl > v && nl[-1] == '\r')
				continue;
			if (buf_append(out, run, (size_t)(nl - run)) < 0 ||
			    buf_append(out, "\r\n", 2) < 0)
				return -1;
			run = nl + 1;
		}
		if (buf_puts(out, run) < 0 || buf_append(out, "\r\n", 2) < 0)
			return -1;
	}
	return 0;
}

/* Length of the line at P (up to, not including, CRLF or LF) and of its end. */
static size_t
line_len(const char *p, const char *end, size_t *eol)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n;

	if (nl == NULL) {
		*eol = 0;
		return (size_t)(end - p);
	}
	n = (size_t)(nl - p);
	*eol = 1;
	if (n > 0 && p[n - 1] == '\r') {
		n--;
		*eol = 2;
	}
	return n;
}

int
headers_parse(const char *text, size_t len, struct header_list *h, size_t *consumed)
{
	const char *p = text, *end = text + len;
	struct buf value = BUF_INIT;
	char name[256];
	int have = 0;

	while (p < end) {
		size_t eol, n = line_len(p, end, &eol);

		if (n == 0 && eol) {	/* the empty line ends the header */
			if (have && headers_add(h, name, value.data ? value.data : "") < 0)
				goto fail;
			buf_free(&value);
			*consumed = (size_t)(p + eol - text);
			return 0;
		}
		if (eol == 0)
			goto fail;	/* no separator before the end */
		if ((*p == ' ' || *p == '\t') && have) {
			/* continuation: keep the fold as "\n" + the white space */
			if (buf_append(&value, "\n", 1) < 0 || buf_append(&value, p, n) < 0)
				goto fail;
		} else {
			const char *colon = memchr(p, ':', n);
			size_t nl;

			if (have && headers_add(h, name, value.data ? value.data : "") < 0)
				goto fail;
			buf_reset(&value);
			if (colon == NULL || colon == p)
				goto fail;
			nl = (size_t)(colon - p);
			while (nl > 0 && (p[nl - 1] == ' ' || p[nl - 1] == '\t'))
				nl--;	/* "Name :" is obsolete syntax; keep the name */
			if (nl == 0 || nl >= sizeof name)
				goto fail;
			memcpy(name, p, nl);
			name[nl] = '\0';
			if (buf_append(&value, colon + 1, n - (size_t)(colon + 1 - p)) < 0)
				goto fail;
			have = 1;
		}
		p += n + eol;
	}
fail:
	buf_free(&value);
	return -1;
}

void
headers_value_trim(const char *value, char *out, size_t outlen)
{
	size_t o = 0;
	int space = 0;

	if (outlen == 0)
		return;
	while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n')
		value++;
	for (; *value && o + 1 < outlen; value++) {
		if (*value == '\r' || *value == '\n' || *value == ' ' || *value == '\t') {
			space = 1;
			continue;
		}
		if (space && o + 2 < outlen)
			out[o++] = ' ';
		space = 0;
		out[o++] = *value;
	}
	out[o] = '\0';
}

int
hdr_edits_add(struct hdr_edits *e, enum hdr_op op, const char *name,
	      int index, const char *value)
{
	struct hdr_edit *x;

	if (grow((void **)&e->v, &e->cap, e->n, sizeof *e->v) < 0)
		return -1;
	x = &e->v[e->n];
	x->op = op;
	x->index = index;
	x->name = strdup(name);
	x->value = value ? strdup(value) : NULL;
	if (x->name == NULL || (value && x->value == NULL)) {
		free(x->name);
		free(x->value);
		return -1;
	}
	e->n++;
	return 0;
}

void
hdr_edits_clear(struct hdr_edits *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		free(e->v[i].name);
		free(e->v[i].value);
	}
	e->n = 0;
}

void
hdr_edits_free(struct hdr_edits *e)
{
	hdr_edits_clear(e);
	free(e->v);
	e->v = NULL;
	e->cap = 0;
}

/* Index in H of the NTH field named NAME, or -1. */
static long
find_nth(const struct header_list *h, const char *name, int nth)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->v[i].name, name) == 0 && --nth == 0)
			return (long)i;
	return -1;
}

int
hdr_edits_apply(const struct hdr_edits *e, struct header_list *h)
{
	size_t k;

	/* Like libmilter, occurrences refer to the original header: apply
	 * changes and deletions from the last edit back to the first would
	 * still shift indexes, so mark deletions first and compact at the end. */
	for (k = 0; k < e->n; k++) {
		const struct hdr_edit *x = &e->v[k];
		long i;
		char *v;

		if (x->op == HDR_ADD)
			continue;
		i = find_nth(h, x->name, x->index);
		if (i < 0)
			continue;
		if (x->op == HDR_DELETE) {
			free(h->v[i].value);
			h->v[i].value = NULL;	/* marked; compacted below */
			continue;
		}
		v = strdup(x->value ? x->value : "");
		if (v == NULL)
			return -1;
		free(h->v[i].value);
		h->v[i].value = v;
	}
	for (k = 0; k < h->n;) {
		if (h->v[k].value == NULL) {
			free(h->v[k].name);
			memmove(&h->v[k], &h->v[k + 1], (h->n - k - 1) * sizeof *h->v);
			h->n--;
		} else {
			k++;
		}
	}
	for (k = 0; k < e->n; k++)
		if (e->v[k].op == HDR_ADD && headers_add(h, e->v[k].name, e->v[k].value) < 0)
			return -1;
	return 0;
}
