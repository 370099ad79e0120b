/* milter.c - libmilter callbacks: thin, protocol-economical, never losing mail.
 *
 * Each callback does protocol bookkeeping only and hands the work to
 * message.c. Every event round trip between MTA and milter costs ~60 µs on the
 * machines we target, more than scanning a whole newsletter, so negotiation
 * switches off every event we do not use (SMFIP_NO*) and every reply whose
 * answer would always be "continue" (SMFIP_NR_*); the decision is taken at end
 * of headers, where a message that needs nothing is accepted before its body
 * is ever sent. The per-message counters `events` and `replies` make that
 * cost visible in the debug log. */
#include "build-config.h"
#include "milter.h"
#include "log.h"
#include "message.h"
#include "relay.h"

#include <libmilter/mfapi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct milter_env env;
static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static int inflight;
static int stopping;

/* Per connection; one message at a time within it. */
struct conn {
	unsigned long pflags;	/* protocol flags agreed in negotiate */
	int in_message;		/* between MAIL FROM and EOM/abort */
	int skip_body;		/* decided at end of headers: the body is not needed */
	int actions_missing;	/* the MTA cannot apply our changes */
	unsigned events;	/* callbacks seen for the current message */
	unsigned replies;	/* replies sent for the current message */
	struct message msg;
};

/* Events whose reply we negotiate away: they always continue. RCPT is in
 * the list unless MixedRecipients split needs to answer 452 there. */
static const unsigned long wanted_noreply =
	SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR;
/* Events we never need. */
static const unsigned long wanted_noevent =
	SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOUNKNOWN;
/* Keep the space after "Name:" (exact header bytes); let the body callback
 * say SKIP once it has seen enough. */
static const unsigned long wanted_other = SMFIP_HDR_LEADSPC | SMFIP_SKIP;
static const unsigned long wanted_actions =
	SMFIF_CHGBODY | SMFIF_ADDHDRS | SMFIF_CHGHDRS;

int
milter_inflight(void)
{
	int n;

	pthread_mutex_lock(&inflight_lock);
	n = inflight;
	pthread_mutex_unlock(&inflight_lock);
	return n;
}

void
milter_begin_stop(void)
{
	pthread_mutex_lock(&inflight_lock);
	stopping = 1;
	pthread_mutex_unlock(&inflight_lock);
}

/* Count a new message in, unless the daemon is stopping: then 0. */
static int
inflight_enter(void)
{
	int ok;

	pthread_mutex_lock(&inflight_lock);
	ok = !stopping;
	if (ok)
		inflight++;
	pthread_mutex_unlock(&inflight_lock);
	return ok;
}

static void
inflight_add(int delta)
{
	pthread_mutex_lock(&inflight_lock);
	inflight += delta;
	pthread_mutex_unlock(&inflight_lock);
}

static struct conn *
conn_of(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* Count one event and translate "continue" into "no reply" when the MTA
 * agreed not to wait for one. NR_FLAG is the SMFIP_NR_* bit of this event. */
static sfsistat
reply(struct conn *c, unsigned long nr_flag, sfsistat r)
{
	if (c == NULL)
		return r == SMFIS_NOREPLY ? SMFIS_CONTINUE : r;
	c->events++;
	if (r == SMFIS_CONTINUE && nr_flag && (c->pflags & nr_flag))
		return SMFIS_NOREPLY;
	if (r != SMFIS_NOREPLY)
		c->replies++;
	return r;
}

/* 0, or -1 when the daemon is stopping and the message must be refused. */
static int
message_begin(struct conn *c)
{
	if (c->in_message) {
		message_reset(&c->msg);
	} else {
		if (!inflight_enter())
			return -1;
	}
	c->in_message = 1;
	c->skip_body = 0;
	c->events = 0;
	c->replies = 0;
	return 0;
}

/* The message is done, whatever the outcome: account for it exactly once. */
static void
message_end(struct conn *c, const char *how)
{
	if (!c->in_message)
		return;
	c->in_message = 0;
	inflight_add(-1);
	cm_log(LOG_DEBUG, "%s: %s, milter events=%u replies=%u",
	       c->msg.queue_id[0] ? c->msg.queue_id : "NOQUEUE", how,
	       c->events, c->replies);
	message_reset(&c->msg);
}

static void
note_queue_id(SMFICTX *ctx, struct conn *c)
{
	const char *id = smfi_getsymval(ctx, "i");

	if (id && c->msg.queue_id[0] == '\0')
		snprintf(c->msg.queue_id, sizeof c->msg.queue_id, "%s", id);
}

static sfsistat
tempfail(SMFICTX *ctx, struct conn *c, const char *text)
{
	smfi_setreply(ctx, "451", "4.3.0", (char *)text);
	message_end(c, "tempfailed");
	return SMFIS_TEMPFAIL;
}

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	       unsigned long f2, unsigned long f3, unsigned long *pf0,
	       unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long noreply = wanted_noreply;
	struct conn *c;

	(void)f2; (void)f3;
	*pf0 = wanted_actions & f0;
	*pf1 = *pf2 = *pf3 = 0;
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		/* Negotiation cannot fail safely (a rejected negotiation makes
		 * the MTA skip the filter); without a context every message of
		 * this connection is tempfailed at MAIL FROM instead. */
		cm_log(LOG_ERR, "out of memory for a new connection: its messages will be tempfailed");
		return SMFIS_CONTINUE;
	}
	message_init(&c->msg);
	/* Rejecting here would make the MTA skip this filter and deliver
	 * unfiltered mail; every message of the connection tempfails instead. */
	if ((f0 & wanted_actions) != wanted_actions) {
		cm_log(LOG_ERR, "the MTA does not offer body and header changes; "
		       "every message on this connection will be tempfailed");
		c->actions_missing = 1;
	}
	if (env.cfg->mixed_recipients == MIXED_SPLIT)
		noreply &= ~SMFIP_NR_RCPT;
	c->pflags = f1 & (noreply | wanted_noevent | wanted_other);
	smfi_setpriv(ctx, c);
	*pf1 = c->pflags;
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)host; (void)addr;
	return reply(conn_of(ctx), SMFIP_NR_CONN, SMFIS_CONTINUE);
}

static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	(void)helo;
	return reply(conn_of(ctx), SMFIP_NR_HELO, SMFIS_CONTINUE);
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_of(ctx);
	const char *daemon, *auth;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (c->actions_missing) {
		/* Tempfail rather than pass mail we could not enforce. */
		smfi_setreply(ctx, "451", "4.3.5", "mail filter cannot change messages here");
		return SMFIS_TEMPFAIL;
	}
	if (message_begin(c) < 0) {
		smfi_setreply(ctx, "451", "4.3.2", "mail filter restarting, try again later");
		return SMFIS_TEMPFAIL;
	}
	if (message_set_sender(&c->msg, argv[0]) < 0)
		return tempfail(ctx, c, "out of memory");
	daemon = smfi_getsymval(ctx, "{daemon_name}");
	auth = smfi_getsymval(ctx, "{auth_authen}");
	c->msg.in_scope = policy_in_scope(env.cfg, argv[0], daemon,
					  auth && *auth, &c->msg.scope_why);
	return reply(c, SMFIP_NR_MAIL, SMFIS_CONTINUE);
}

/* MixedRecipients split: a recipient whose consent class differs from the
 * first accepted one is deferred, so the client sends it in its own
 * transaction and every transaction is homogeneous. */
static sfsistat
split_recipient(SMFICTX *ctx, struct conn *c)
{
	struct message *m = &c->msg;
	unsigned bits;

	if (message_lookup_last(m, &env, &bits) < 0) {
		m->nrcpt--;
		free(m->rcpts[m->nrcpt].raw);
		smfi_setreply(ctx, "451", "4.3.0", "consent store unavailable, try again later");
		return SMFIS_TEMPFAIL;
	}
	if (m->nrcpt > 1 && bits != m->rcpts[0].bits) {
		m->nrcpt--;
		free(m->rcpts[m->nrcpt].raw);
		smfi_setreply(ctx, "452", "4.5.3",
			      "recipient of another tracking-consent class, send separately");
		return SMFIS_TEMPFAIL;
	}
	m->looked_up = 1;
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (!c->msg.in_scope)
		return reply(c, SMFIP_NR_RCPT, SMFIS_CONTINUE);
	if (message_add_rcpt(&c->msg, &env, argv[0]) < 0) {
		/* No reply is possible with NR_RCPT: end of headers tempfails. */
		c->msg.in_scope = -1;
		return reply(c, SMFIP_NR_RCPT, SMFIS_CONTINUE);
	}
	if (env.cfg->mixed_recipients == MIXED_SPLIT)
		return reply(c, SMFIP_NR_RCPT, split_recipient(ctx, c));
	return reply(c, SMFIP_NR_RCPT, SMFIS_CONTINUE);
}

static sfsistat
mlfi_data(SMFICTX *ctx)
{
	return reply(conn_of(ctx), SMFIP_NR_DATA, SMFIS_CONTINUE);
}

static sfsistat
mlfi_unknown(SMFICTX *ctx, const char *cmd)
{
	(void)cmd;
	return reply(conn_of(ctx), SMFIP_NR_UNKN, SMFIS_CONTINUE);
}

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = conn_of(ctx);

	/* With NR_HDR there is no way to fail here: a header we could not keep
	 * makes end of headers tempfail the message instead. */
	if (c && c->msg.in_scope && message_add_header(&c->msg, name, value) < 0)
		c->msg.in_scope = -1;
	return reply(c, SMFIP_NR_HDR, SMFIS_CONTINUE);
}

/* The per-message decision point. */
static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);
	struct message *m;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	m = &c->msg;
	c->events++;
	c->replies++;
	note_queue_id(ctx, c);
	if (m->in_scope < 0)
		return tempfail(ctx, c, "out of memory");
	if (!m->in_scope) {
		message_log_early(m, &env, ACT_SKIPPED, m->scope_why);
		message_end(c, "out of scope, accepted");
		return SMFIS_ACCEPT;
	}
	if (message_lookup(m, &env, -1) < 0) {
		message_log_early(m, &env, ACT_ERROR, "consent store unavailable, OnStoreError tempfail");
		return tempfail(ctx, c, "consent store unavailable, try again later");
	}
	if (message_decide(m, &env) < 0)
		return tempfail(ctx, c, "out of memory");
	if (m->dec.kind == DEC_ACCEPT) {
		message_log_early(m, &env, m->dec.action, m->dec.why);
		message_end(c, "accepted at end of headers");
		return SMFIS_ACCEPT;
	}
	c->skip_body = m->dec.kind == DEC_HEADERS_ONLY;
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn *c = conn_of(ctx);
	sfsistat skip;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	skip = (c->pflags & SMFIP_SKIP) ? SMFIS_SKIP : SMFIS_CONTINUE;
	if (c->skip_body || c->msg.oversize)
		return reply(c, 0, skip);
	if (message_add_body(&c->msg, &env, chunk, len) < 0)
		return reply(c, 0, tempfail(ctx, c, "out of memory"));
	return reply(c, 0, c->msg.oversize ? skip : SMFIS_CONTINUE);
}

static void
progress(void *arg)
{
	smfi_progress((SMFICTX *)arg);
}

/* Ask the MTA for the changes in R. -1 if one was refused: the message may
 * then be half-changed, so the caller must tempfail it. */
static int
apply_changes(SMFICTX *ctx, const struct eom_result *r)
{
	size_t i, off;

	for (i = 0; i < r->edits.n; i++) {
		const struct hdr_edit *e = &r->edits.v[i];
		int rc;

		if (e->op == HDR_ADD)
			rc = smfi_addheader(ctx, e->name, e->value);
		else
			rc = smfi_chgheader(ctx, e->name, e->index,
					    e->op == HDR_DELETE ? NULL : e->value);
		if (rc != MI_SUCCESS) {
			cm_log(LOG_ERR, "header change %s refused by the MTA", e->name);
			return -1;
		}
	}
	/* libmilter sends at most 64 KB per body-replace message. */
	for (off = 0; r->body_changed && off < r->body.len; off += 65535) {
		size_t n = r->body.len - off < 65535 ? r->body.len - off : 65535;
		if (smfi_replacebody(ctx, (unsigned char *)r->body.data + off, (int)n) != MI_SUCCESS) {
			cm_log(LOG_ERR, "body replacement refused by the MTA");
			return -1;
		}
	}
	return 0;
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);
	struct eom_result r;
	sfsistat ret = SMFIS_ACCEPT;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	c->events++;
	c->replies++;
	note_queue_id(ctx, c);
	message_finish(&c->msg, &env, progress, ctx, &r);
	if (r.tempfail) {
		message_log(&c->msg, &env, &r);
		message_result_free(&r);
		return tempfail(ctx, c, "message too large to process, try again later");
	}
	if (apply_changes(ctx, &r) < 0) {
		r.action = ACT_ERROR;
		snprintf(r.why, sizeof r.why, "the MTA refused a change");
		ret = SMFIS_TEMPFAIL;
	}
	message_log(&c->msg, &env, &r);
	message_result_free(&r);
	message_end(c, stats_action_name(r.action));
	return ret;
}

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);

	if (c) {
		c->events++;
		message_end(c, "aborted by the MTA");
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_close(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);

	if (c) {
		message_end(c, "connection closed");
		message_free(&c->msg);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	"consent-milter",
	SMFI_VERSION,
	SMFIF_CHGBODY | SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	mlfi_connect,
	mlfi_helo,
	mlfi_envfrom,
	mlfi_envrcpt,
	mlfi_header,
	mlfi_eoh,
	mlfi_body,
	mlfi_eom,
	mlfi_abort,
	mlfi_close,
	mlfi_unknown,
	mlfi_data,
	mlfi_negotiate,
};

static void
store_figures(struct stats_store *s)
{
	struct store_counters sc;

	if (env.store == NULL)
		return;
	store_get_counters(env.store, &sc);
	s->lookups = sc.lookups;
	s->errors = sc.errors;
	s->failovers = sc.failovers;
}

int
milter_setup(const struct cm_config *config)
{
	char err[512];

	if (relay_check_config(config, err, sizeof err) < 0) {
		cm_log(LOG_ERR, "%s", err);
		return -1;
	}
	/* Key and rules are read now, while still root: the key file can stay
	 * readable by root only. */
	if (milter_env_open(&env, config, ENV_STORE, err, sizeof err) < 0) {
		cm_log(LOG_ERR, "%s", err);
		return -1;
	}
	stats_set_store_source(store_figures);
	if (smfi_register(desc) != MI_SUCCESS) {
		cm_log(LOG_ERR, "smfi_register failed");
		return -1;
	}
	return 0;
}

void
milter_shutdown(void)
{
	stats_set_store_source(NULL);
	milter_env_close(&env);
}
