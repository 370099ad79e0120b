/* fuzz_mime.c - libFuzzer target: mime_rewrite() on arbitrary messages must
 * never crash, never write output for an unchanged result, never report a
 * change for an identity editor, and every changed output must parse into
 * the same tree of parts as the input (less removed AMP alternatives).
 * Four editors run on each input: one that changes nothing, one that
 * replaces TRACKME by xxxxxxx, the same telling its edits (quoted-printable
 * parts are then re-encoded around them only), one that claims a change for
 * every part (so every text part is re-encoded).
 *
 * The input is split at its first blank line into the header block (kept
 * with its last line end, as the milter rebuilds it) and the body. The low
 * bit of the input length switches text/x-amp-html removal on.
 *
 * Build and run (from the source tree, after ./configure in _build so that
 * build-config.h exists; bench/fuzz.sh may wrap this):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -I_build \
 *     tests/fuzz/fuzz_mime.c src/mime.c src/cte.c src/buf.c \
 *     $(pkg-config --cflags --libs gmime-3.0) -o _build/fuzz_mime
 *   _build/fuzz_mime -max_total_time=300 -max_len=65536 \
 *     _build/fuzz-corpus tests/fixtures/mime
 */
#include "build-config.h"
#include "mime.h"

#include <gmime/gmime.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
identity(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
	 struct buf *out, int *changed)
{
	(void)arg; (void)info; (void)decoded; (void)len; (void)out;
	*changed = 0;
	return 0;
}

/* Replace TRACKME by xxxxxxx in decoded text, as the unit tests do. */
static int
edit(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
     struct buf *out, int *changed)
{
	size_t i = 0;

	(void)arg; (void)info;
	*changed = 0;
	while (i < len) {
		if (i + 7 <= len && memcmp(decoded + i, "TRACKME", 7) == 0) {
			if (buf_append(out, "xxxxxxx", 7) < 0)
				return -1;
			i += 7;
			*changed = 1;
		} else {
			if (buf_append(out, decoded + i, 1) < 0)
				return -1;
			i++;
		}
	}
	return 0;
}

/* Tell each marker of DECODED as an edit in ED: in place in the whole new
 * text (REP NULL), or sparse, its replacement appended to REP. Returns the
 * number of markers, or -1 when out of memory (ED is then left empty). */
static long
tell_markers(const char *decoded, size_t len, struct mime_edits *ed, struct buf *rep)
{
	size_t i, n = 0;

	if ((ed->v = calloc(len / 7 + 1, sizeof(*ed->v))) == NULL)
		return -1;
	for (i = 0; i + 7 <= len; i++) {
		if (memcmp(decoded + i, "TRACKME", 7) != 0)
			continue;
		ed->v[n].start = i;
		ed->v[n].end = i + 7;
		ed->v[n].out_start = rep ? rep->len : i;
		ed->v[n].len = 7;
		if (rep && buf_append(rep, "xxxxxxx", 7) < 0)
			return -1;
		n++;
		i += 6;
	}
	ed->n = n;
	ed->sparse = rep != NULL;
	return (long)n;
}

/* As edit(), and tells mime_rewrite() its edits, so that quoted-printable
 * parts are re-encoded around them only. */
static int
edit_told(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
	  struct buf *out, int *changed)
{
	if (edit(arg, info, decoded, len, out, changed) < 0)
		return -1;
	if (*changed && info->edits != NULL)
		(void)tell_markers(decoded, len, info->edits, NULL);	/* untold without memory */
	return 0;
}

/* As edit_told(), with the edits told sparse (only the replacements in
 * out): mime_rewrite() must make the very same message of it. */
static int
edit_sparse(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
	    struct buf *out, int *changed)
{
	long n;

	*changed = 0;
	if (info->edits == NULL)
		return edit(arg, info, decoded, len, out, changed);
	if ((n = tell_markers(decoded, len, info->edits, out)) < 0)
		return -1;
	*changed = n > 0;
	return 0;
}

/* Claims a change for every part, so that every text part is re-encoded. */
static int
touch(void *arg, const struct mime_part_info *info, const char *decoded, size_t len,
      struct buf *out, int *changed)
{
	int rc = edit(arg, info, decoded, len, out, changed);

	*changed = 1;
	return rc;
}

/* "type|type|..." of every leaf, in order, through multiparts and
 * message/rfc822 parts: the structure a reader sees. */
static void
leaf_types(GMimeObject *o, GString *out, int depth)
{
	if (depth > 200)
		return;
	if (GMIME_IS_MULTIPART(o)) {
		int i;

		g_string_append(out, "(");
		for (i = 0; i < g_mime_multipart_get_count((GMimeMultipart *)o); i++)
			leaf_types(g_mime_multipart_get_part((GMimeMultipart *)o, i), out, depth + 1);
		g_string_append(out, ")");
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message((GMimeMessagePart *)o);

		g_string_append(out, "[");
		if (m && g_mime_message_get_mime_part(m))
			leaf_types(g_mime_message_get_mime_part(m), out, depth + 1);
		g_string_append(out, "]");
	} else {
		char *t = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(o));
		char *lower = g_ascii_strdown(t, -1);	/* types are case-insensitive */

		g_string_append(out, lower);
		g_string_append(out, "|");
		g_free(lower);
		g_free(t);
	}
}

static GString *
structure(const char *hdr, size_t hlen, const char *body, size_t blen)
{
	GMimeStream *s = g_mime_stream_mem_new();
	GMimeParser *p;
	GMimeMessage *m;
	GString *out = g_string_new("");

	g_mime_stream_write(s, hdr, hlen);
	g_mime_stream_write(s, "\r\n", 2);
	g_mime_stream_write(s, body, blen);
	g_mime_stream_reset(s);
	p = g_mime_parser_new_with_stream(s);
	m = g_mime_parser_construct_message(p, NULL);
	if (m == NULL)
		abort();	/* GMime parses anything; an output it cannot is corrupt */
	if (g_mime_message_get_mime_part(m))
		leaf_types(g_mime_message_get_mime_part(m), out, 0);
	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(s);
	return out;
}

static void
strip_amp(GString *s)
{
	const char *amp = "text/x-amp-html|";
	char *p;

	while ((p = strstr(s->str, amp)) != NULL)
		g_string_erase(s, p - s->str, (gssize)strlen(amp));
}

/* The output must parse into the same tree of parts as the input (without
 * its AMP alternatives if some were removed). */
static void
same_structure(const char *hdr, size_t hlen, const char *body, size_t blen,
	       const struct buf *out, unsigned amp_removed)
{
	GString *a = structure(hdr, hlen, body, blen);
	GString *b = structure(hdr, hlen, out->data, out->len);

	if (amp_removed) {
		strip_amp(a);
		strip_amp(b);
	}
	if (strcmp(a->str, b->str) != 0) {
		fprintf(stderr, "part tree changed:\n in: %s\nout: %s\n", a->str, b->str);
		abort();
	}
	g_string_free(a, TRUE);
	g_string_free(b, TRUE);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	mime_global_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *body = in;
	struct mime_opts o = { 20, (int)(size & 1) };
	struct buf out = BUF_INIT, out2 = BUF_INIT;
	struct mime_stats st;
	size_t hlen = 0, blen, i;
	char why[256];
	int r, r2;

	/* headers end at the first empty line (CRLF CRLF or LF LF) */
	for (i = 0; i + 1 < size; i++) {
		if (in[i] == '\n' && in[i + 1] == '\n') {
			hlen = i + 1;
			body = in + i + 2;
			break;
		}
		if (in[i] == '\n' && in[i + 1] == '\r' && i + 2 < size && in[i + 2] == '\n') {
			hlen = i + 1;
			body = in + i + 3;
			break;
		}
	}
	if (i + 1 >= size) {
		hlen = 0;
		body = in;
	}
	blen = size - (size_t)(body - in);

	r = mime_rewrite(in, hlen, body, blen, &o, identity, NULL, &out, &st, why, sizeof(why));
	if (r < MIME_ERROR || r > MIME_CHANGED || memchr(why, 0, sizeof(why)) == NULL)
		abort();
	if (r != MIME_CHANGED && out.len != 0)
		abort();
	if (r == MIME_CHANGED && !o.remove_amp)
		abort();	/* an identity editor changed something */
	if (r == MIME_CHANGED)
		same_structure(in, hlen, body, blen, &out, st.amp_removed);
	buf_reset(&out);

	r = mime_rewrite(in, hlen, body, blen, &o, edit, NULL, &out, &st, why, sizeof(why));
	if (r != MIME_CHANGED && out.len != 0)
		abort();
	if (r == MIME_CHANGED)
		same_structure(in, hlen, body, blen, &out, st.amp_removed);
	buf_reset(&out);

	r = mime_rewrite(in, hlen, body, blen, &o, edit_told, NULL, &out, &st, why, sizeof(why));
	if (r != MIME_CHANGED && out.len != 0)
		abort();
	if (r == MIME_CHANGED)
		same_structure(in, hlen, body, blen, &out, st.amp_removed);
	r2 = mime_rewrite(in, hlen, body, blen, &o, edit_sparse, NULL, &out2, &st, why,
			  sizeof(why));
	if (r2 != r || out2.len != out.len || (out.len > 0 && memcmp(out.data, out2.data, out.len)))
		abort();	/* told sparse, the same message */
	buf_reset(&out);
	buf_free(&out2);

	r = mime_rewrite(in, hlen, body, blen, &o, touch, NULL, &out, &st, why, sizeof(why));
	if (r != MIME_CHANGED && out.len != 0)
		abort();
	if (r == MIME_CHANGED)
		same_structure(in, hlen, body, blen, &out, st.amp_removed);
	buf_free(&out);
	return 0;
}
