/* testmode.c - consent-milter -t: one message through the end-of-message path.
 *
 * Reads a message from a file (or "-" for stdin), with LF or CRLF line ends,
 * takes the -r addresses as envelope recipients and the consent from -x (or
 * from the configured store), and runs exactly what the milter runs between
 * end of headers and end of message: message_lookup, message_decide,
 * message_finish. The resulting message goes to stdout with the input's line
 * ends; the log line goes to stderr. Exit 0 on success, 2 on usage or config
 * errors, 1 on I/O errors (and when the milter would have tempfailed). */
#include "build-config.h"
#include "testmode.h"
#include "log.h"
#include "message.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
read_all(const char *file, struct buf *out)
{
	FILE *fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
	char chunk[65536];
	size_t n;

	if (fp == NULL) {
		fprintf(stderr, "consent-milter: %s: %s\n", file, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		if (buf_append(out, chunk, n) < 0) {
			fprintf(stderr, "consent-milter: %s: out of memory\n", file);
			return -1;
		}
	if (ferror(fp)) {
		fprintf(stderr, "consent-milter: %s: read error\n", file);
		return -1;
	}
	if (fp != stdin)
		fclose(fp);
	return 0;
}

/* LF-only input is converted to CRLF (what the MTA sends); remembers which. */
static int
to_crlf(const struct buf *in, struct buf *out, int *was_lf)
{
	const char *nl = memchr(in->data ? in->data : "", '\n', in->len);
	size_t i;

	*was_lf = nl && (nl == in->data || nl[-1] != '\r');
	if (!*was_lf)
		return buf_append(out, in->data ? in->data : "", in->len);
	for (i = 0; i < in->len; i++) {
		if (in->data[i] == '\n' && (i == 0 || in->data[i - 1] != '\r') &&
		    buf_append(out, "\r", 1) < 0)
			return -1;
		if (buf_append(out, &in->data[i], 1) < 0)
			return -1;
	}
	return 0;
}

/* Write S with CRLF turned back into LF when the input used LF. */
static int
write_out(const char *s, size_t len, int as_lf)
{
	size_t i, start = 0;

	if (!as_lf)
		return fwrite(s, 1, len, stdout) == len ? 0 : -1;
	for (i = 0; i + 1 < len; i++) {
		if (s[i] == '\r' && s[i + 1] == '\n') {
			if (fwrite(s + start, 1, i - start, stdout) != i - start)
				return -1;
			start = i + 1;
		}
	}
	return fwrite(s + start, 1, len - start, stdout) == len - start ? 0 : -1;
}

static int
emit(struct message *m, const struct eom_result *r, const char *body, size_t blen,
     int as_lf)
{
	struct buf hdr = BUF_INIT;
	int rc = 0;

	if (hdr_edits_apply(&r->edits, &m->hdrs) < 0 || headers_block(&m->hdrs, &hdr) < 0 ||
	    buf_append(&hdr, "\r\n", 2) < 0)
		rc = -1;
	if (rc == 0 && (write_out(hdr.data, hdr.len, as_lf) < 0 ||
			write_out(r->body_changed ? r->body.data : body,
				  r->body_changed ? r->body.len : blen, as_lf) < 0 ||
			fflush(stdout) != 0))
		rc = -1;
	buf_free(&hdr);
	return rc;
}

int
testmode_run(const struct cm_config *cfg, const char *file, char *const *rcpts,
	     size_t nrcpt, int fixed)
{
	struct buf raw = BUF_INIT, msg = BUF_INIT;
	struct milter_env env;
	struct message m;
	struct eom_result r;
	char err[512];
	size_t hlen = 0, i;
	int was_lf, rc = 1;

	cm_log_stderr_only(1);
	if (cm_log_level() < LOG_INFO)
		cm_log_set_level(LOG_INFO);
	if (milter_env_open(&env, cfg, fixed >= 0 ? ENV_KEY_OPTIONAL : ENV_STORE,
			    err, sizeof err) < 0) {
		fprintf(stderr, "consent-milter: %s\n", err);
		return 2;
	}
	message_init(&m);
	snprintf(m.queue_id, sizeof m.queue_id, "TESTMODE");
	if (read_all(file, &raw) < 0 || to_crlf(&raw, &msg, &was_lf) < 0)
		goto out;
	if (headers_parse(msg.data ? msg.data : "", msg.len, &m.hdrs, &hlen) < 0) {
		fprintf(stderr, "consent-milter: %s: no header/body separator or a "
			"malformed header line\n", file);
		goto out;
	}
	for (i = 0; i < nrcpt; i++)
		if (message_add_rcpt(&m, &env, rcpts[i]) < 0)
			goto out;
	if (message_lookup(&m, &env, fixed) < 0) {
		message_log_early(&m, &env, ACT_ERROR, "consent store unavailable, OnStoreError tempfail");
		goto out;
	}
	if (message_decide(&m, &env) < 0)
		goto out;
	if (m.dec.kind == DEC_PROCESS &&
	    message_add_body(&m, &env, msg.data + hlen, msg.len - hlen) < 0)
		goto out;
	message_finish(&m, &env, NULL, NULL, &r);
	if (m.dec.kind == DEC_ACCEPT)
		message_log_early(&m, &env, r.action, r.why);
	else
		message_log(&m, &env, &r);
	if (r.tempfail)
		fprintf(stderr, "consent-milter: the milter would answer 451 (tempfail)\n");
	else if (emit(&m, &r, msg.data + hlen, msg.len - hlen, was_lf) == 0)
		rc = 0;
	else
		fprintf(stderr, "consent-milter: write error: %s\n", strerror(errno));
	message_result_free(&r);
out:
	message_free(&m);
	buf_free(&raw);
	buf_free(&msg);
	milter_env_close(&env);
	return rc;
}
