/* message.c - per-message state and decisions, shared by the milter and test mode. */
#include "build-config.h"
#include "message.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
message_init(struct message *m)
{
	memset(m, 0, sizeof *m);
	m->in_scope = 1;
}

void
message_reset(struct message *m)
{
	size_t i;

	for (i = 0; i < m->nrcpt; i++)
		free(m->rcpts[i].raw);
	m->nrcpt = 0;
	free(m->sender);
	m->sender = NULL;
	headers_clear(&m->hdrs);
	buf_free(&m->body);	/* bodies can be large: give the memory back */
	policy_decision_free(&m->dec);
	memset(&m->dec, 0, sizeof m->dec);
	m->queue_id[0] = '\0';
	m->in_scope = 1;
	m->scope_why = NULL;
	m->oversize = 0;
	m->looked_up = 0;
	m->store_failed = 0;
	m->consent = 0;
	m->mixed = 0;
}

void
message_free(struct message *m)
{
	message_reset(m);
	free(m->rcpts);
	headers_free(&m->hdrs);
	m->rcpts = NULL;
	m->cap = 0;
}

int
message_set_sender(struct message *m, const char *sender)
{
	free(m->sender);
	m->sender = strdup(sender ? sender : "");
	return m->sender ? 0 : -1;
}

/* RAW without blanks and one pair of angle brackets. */
static char *
strip_brackets(const char *raw)
{
	size_t n;

	while (*raw == ' ' || *raw == '\t')
		raw++;
	if (*raw == '<')
		raw++;
	n = strlen(raw);
	while (n > 0 && (raw[n - 1] == ' ' || raw[n - 1] == '\t'))
		n--;
	if (n > 0 && raw[n - 1] == '>')
		n--;
	return strndup(raw, n);
}

int
message_add_rcpt(struct message *m, const struct milter_env *env, const char *raw)
{
	const struct cm_config *cfg = env->cfg;
	struct rcpt *r;

	if (m->nrcpt == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 8;
		struct rcpt *bigger = realloc(m->rcpts, ncap * sizeof *bigger);
		if (bigger == NULL)
			return -1;
		m->rcpts = bigger;
		m->cap = ncap;
	}
	r = &m->rcpts[m->nrcpt];
	memset(r, 0, sizeof *r);
	r->raw = strip_brackets(raw);
	if (r->raw == NULL)
		return -1;
	r->consent.open = r->consent.click = -1;
	if (address_normalise(r->raw, cfg->subaddress_delimiter,
			      cfg->case_sensitive_local_part, r->norm, &r->invalid) < 0) {
		r->norm[0] = '\0';
	} else if (env->have_key &&
		   address_store_key(&env->key, cfg->redis_key_prefix, r->norm,
				     r->key, sizeof r->key) < 0) {
		r->key[0] = '\0';
		r->invalid = "cannot compute the store key";
	}
	m->nrcpt++;
	return 0;
}

int
message_add_header(struct message *m, const char *name, const char *value)
{
	return headers_add(&m->hdrs, name, value);
}

/* Effective bits of one recipient: BITS, unless its domain is in
 * ExemptRecipientDomains (then full consent), whatever BITS came from. */
static unsigned
rcpt_bits(const struct cm_config *cfg, const struct rcpt *r, unsigned bits)
{
	if (r->norm[0] && policy_recipient_exempt(cfg, r->norm))
		return CONSENT_ALL;
	return bits;
}

static void
combine(struct message *m)
{
	size_t i;

	m->consent = CONSENT_ALL;
	m->mixed = 0;
	for (i = 0; i < m->nrcpt; i++) {
		if (i > 0 && m->rcpts[i].bits != m->rcpts[0].bits)
			m->mixed = 1;
		m->consent &= m->rcpts[i].bits;
	}
}

/* Look up recipients [from, nrcpt) in one pipelined round trip. */
static int
lookup_range(struct message *m, const struct milter_env *env, size_t from)
{
	const struct cm_config *cfg = env->cfg;
	char *keys[256];
	struct consent found[256];
	size_t idx[256];
	size_t i, k, n, end;
	int bits;

	while (from < m->nrcpt) {
		/* One batch: up to 256 keys from [from, end). */
		for (n = 0, end = from; end < m->nrcpt && n < 256; end++) {
			if (m->rcpts[end].key[0]) {
				keys[n] = m->rcpts[end].key;
				idx[n++] = end;
			}
		}
		if (n > 0) {
			if (env->store == NULL || store_lookup(env->store, keys, n, found) < 0) {
				m->store_failed = 1;
				bits = store_error_bits(cfg->on_store_error);
				if (bits < 0)
					return -1;
				for (i = from; i < m->nrcpt; i++)
					m->rcpts[i].bits = rcpt_bits(cfg, &m->rcpts[i], (unsigned)bits);
				return 0;
			}
			for (k = 0; k < n; k++)
				m->rcpts[idx[k]].consent = found[k];
		}
		for (; from < end; from++)
			m->rcpts[from].bits = rcpt_bits(cfg, &m->rcpts[from],
			    store_consent_bits(&m->rcpts[from].consent, cfg->default_consent));
	}
	return 0;
}

int
message_lookup(struct message *m, const struct milter_env *env, int fixed)
{
	size_t i;

	if (fixed >= 0) {
		for (i = 0; i < m->nrcpt; i++)
			m->rcpts[i].bits = rcpt_bits(env->cfg, &m->rcpts[i], (unsigned)fixed);
	} else if (!m->looked_up && lookup_range(m, env, 0) < 0) {
		return -1;
	}
	m->looked_up = 1;
	combine(m);
	return 0;
}

int
message_lookup_last(struct message *m, const struct milter_env *env, unsigned *bits)
{
	if (m->nrcpt == 0)
		return -1;
	if (lookup_range(m, env, m->nrcpt - 1) < 0)
		return -1;
	*bits = m->rcpts[m->nrcpt - 1].bits;
	return 0;
}

int
message_decide(struct message *m, const struct milter_env *env)
{
	policy_decision_free(&m->dec);
	memset(&m->dec, 0, sizeof m->dec);
	if (!m->in_scope) {
		m->dec.kind = DEC_ACCEPT;
		m->dec.action = ACT_SKIPPED;
		m->dec.why = m->scope_why;
		return 0;
	}
	return policy_decide(env->cfg, &m->hdrs, m->consent, &m->dec);
}

int
message_add_body(struct message *m, const struct milter_env *env,
		 const void *chunk, size_t len)
{
	if (m->oversize)
		return 0;
	if (m->body.len + len > env->cfg->max_process_size) {
		m->oversize = 1;
		buf_free(&m->body);
		return 0;
	}
	return buf_append(&m->body, chunk, len);
}

static void
counts_from(struct stats_counts *s, const struct rewrite_counts *c)
{
	s->pixels = c->pixels_removed;
	s->resources = c->resources_removed;
	s->unwrapped = c->links_unwrapped;
	s->cleaned = c->links_cleaned;
	s->anonymized = c->links_anonymized;
	s->unresolved = c->links_unresolved;
	s->pii = c->pii_hits;
}

static const char *
consent_word(const struct message *m)
{
	return m->mixed ? "mixed" : policy_consent_name(m->consent);
}

/* The X-Consent-Milter value: what was enforced and what it changed. */
static int
add_summary_header(const struct message *m, struct eom_result *r)
{
	char value[512];

	snprintf(value, sizeof value,
		 " consent=%s action=%s pixels=%" PRIu64 " resources=%" PRIu64
		 " unwrapped=%" PRIu64 " cleaned=%" PRIu64 " anonymized=%" PRIu64
		 " unresolved=%" PRIu64,
		 policy_consent_name(m->consent), stats_action_name(r->action),
		 r->counts.pixels, r->counts.resources, r->counts.unwrapped,
		 r->counts.cleaned, r->counts.anonymized, r->counts.unresolved);
	return hdr_edits_add(&r->edits, HDR_ADD, "X-Consent-Milter", 0, value);
}

static void
copy_edits(const struct hdr_edits *from, struct hdr_edits *to)
{
	size_t i;

	for (i = 0; i < from->n; i++)
		hdr_edits_add(to, from->v[i].op, from->v[i].name, from->v[i].index,
			      from->v[i].value);
}

static void
run_engine(struct message *m, const struct milter_env *env,
	   void (*progress)(void *), void *progress_arg, struct eom_result *r)
{
	struct process_rcpt prc[256];
	struct process_input in;
	struct process_result pr;
	size_t i, n = m->nrcpt < 256 ? m->nrcpt : 256;

	for (i = 0; i < n; i++) {
		prc[i].raw = m->rcpts[i].raw;
		prc[i].norm = m->rcpts[i].norm[0] ? m->rcpts[i].norm : NULL;
	}
	memset(&in, 0, sizeof in);
	in.hdrs = &m->hdrs;
	in.body = m->body.data ? m->body.data : "";
	in.blen = m->body.len;
	in.rcpts = prc;
	in.nrcpt = n;
	in.consent = m->consent;
	in.remove_amp = m->dec.remove_amp;
	in.progress = progress;
	in.progress_arg = progress_arg;
	process_body(env->engine, &in, &pr);
	counts_from(&r->counts, &pr.counts);
	snprintf(r->why, sizeof r->why, "%s", pr.why);
	if (pr.status == MIME_CHANGED) {
		r->action = ACT_REWRITTEN;
		r->body_changed = 1;
		r->body = pr.body;	/* hand the buffer over */
		memset(&pr.body, 0, sizeof pr.body);
		r->bytes_out = r->body.len;
		if (m->dec.signed_msg)
			snprintf(r->why, sizeof r->why, "DKIM-Signature present: "
				 "rewriting invalidated it");
	} else {
		r->action = pr.status == MIME_ERROR ? ACT_ERROR : ACT_UNCHANGED;
	}
	process_result_free(&pr);
}

void
message_finish(struct message *m, const struct milter_env *env,
	       void (*progress)(void *), void *progress_arg, struct eom_result *r)
{
	const struct cm_config *cfg = env->cfg;

	memset(r, 0, sizeof *r);
	clock_gettime(CLOCK_MONOTONIC, &m->t0);
	r->action = m->dec.action;
	r->bytes_in = r->bytes_out = m->body.len;
	if (m->dec.why)
		snprintf(r->why, sizeof r->why, "%s", m->dec.why);
	copy_edits(&m->dec.edits, &r->edits);
	if (m->dec.kind != DEC_PROCESS)
		return;
	if (m->oversize) {
		r->action = ACT_OVERSIZE;
		r->tempfail = cfg->on_oversize == OVERSIZE_TEMPFAIL;
		snprintf(r->why, sizeof r->why, "body larger than MaxProcessSize (%zu bytes)",
			 cfg->max_process_size);
		return;
	}
	run_engine(m, env, progress, progress_arg, r);
	if (cfg->add_header && r->action != ACT_ERROR)
		add_summary_header(m, r);
}

void
message_result_free(struct eom_result *r)
{
	buf_free(&r->body);
	hdr_edits_free(&r->edits);
}

/* "to=" field: first 8 hex digits of each key, or addresses with LogAddresses. */
static void
format_recipients(const struct message *m, const struct milter_env *env,
		  char *out, size_t outlen)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < m->nrcpt && o + 2 < outlen; i++) {
		const struct rcpt *r = &m->rcpts[i];
		const char *hex = strstr(r->key, "c:");
		int n;

		if (env->cfg->log_addresses)
			n = snprintf(out + o, outlen - o, "%s%s", i ? "," : "", r->raw);
		else if (hex)
			n = snprintf(out + o, outlen - o, "%s%.8s", i ? "," : "", hex + 2);
		else
			n = snprintf(out + o, outlen - o, "%s-", i ? "," : "");
		if (n < 0 || (size_t)n >= outlen - o)
			break;
		o += (size_t)n;
	}
}

static void
log_line(const struct message *m, const struct milter_env *env,
	 enum stats_action action, const struct stats_counts *c,
	 uint64_t in, uint64_t out, double ms, const char *why)
{
	char to[1024];

	format_recipients(m, env, to, sizeof to);
	cm_log(LOG_INFO, "%s: consent=%s rcpts=%zu action=%s pixels=%" PRIu64
	       " resources=%" PRIu64 " unwrapped=%" PRIu64 " cleaned=%" PRIu64
	       " anonymized=%" PRIu64 " unresolved=%" PRIu64 " pii=%" PRIu64
	       " bytes=%" PRIu64 ">%" PRIu64 " ms=%.1f to=%s%s%s%s%s",
	       m->queue_id[0] ? m->queue_id : "NOQUEUE", consent_word(m), m->nrcpt,
	       stats_action_name(action), c->pixels, c->resources, c->unwrapped,
	       c->cleaned, c->anonymized, c->unresolved, c->pii, in, out, ms,
	       to, m->store_failed ? " store=error" : "",
	       why && *why ? " reason=\"" : "", why && *why ? why : "",
	       why && *why ? "\"" : "");
}

void
message_log(const struct message *m, const struct milter_env *env,
	    const struct eom_result *r)
{
	struct timespec t1;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - m->t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - m->t0.tv_nsec) / 1e6;
	log_line(m, env, r->action, &r->counts, r->bytes_in, r->bytes_out, ms, r->why);
	stats_message(r->action, &r->counts, r->bytes_in,
		      m->dec.kind == DEC_PROCESS ? (uint64_t)(ms * 1000.0) + 1 : 0);
}

void
message_log_early(const struct message *m, const struct milter_env *env,
		  enum stats_action action, const char *why)
{
	static const struct stats_counts zero;

	log_line(m, env, action, &zero, 0, 0, 0.0, why);
	stats_message(action, &zero, 0, 0);
}
