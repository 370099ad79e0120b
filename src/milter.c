/* milter.c - libmilter callbacks: thin, protocol-economical, never losing mail.
 *
 * Each callback does protocol bookkeeping only and hands the work to module
 * code. Every event round trip between MTA and milter costs ~60 µs on the
 * machines we target, more than scanning a whole newsletter, so negotiation
 * switches off every event we do not use (SMFIP_NO*) and every reply whose
 * answer would always be "continue" (SMFIP_NR_*). The per-message counters
 * `events` and `replies` make that cost visible in the debug log. */
#include "build-config.h"
#include "milter.h"
#include "log.h"

#include <libmilter/mfapi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cm_config *cfg;
static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static int inflight;

/* Per connection; one message at a time within it. */
struct conn {
	unsigned long pflags;	/* protocol flags agreed in negotiate */
	int in_message;		/* between MAIL FROM and EOM/abort */
	unsigned events;	/* callbacks seen for the current message */
	unsigned replies;	/* replies sent for the current message */
	char queue_id[64];
};

/* Events whose reply we negotiate away: they always continue. */
static const unsigned long wanted_noreply =
	SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR;
/* Events we never need. */
static const unsigned long wanted_noevent =
	SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOUNKNOWN;
/* Other protocol wishes: keep the space after "Name:" (exact header bytes);
 * let the body callback say SKIP once it has seen enough. */
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
 * agreed not to wait for one. FLAG is the SMFIP_NR_* bit of this event. */
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

static void
message_begin(struct conn *c)
{
	if (!c->in_message)
		inflight_add(1);
	c->in_message = 1;
	c->events = 0;
	c->replies = 0;
	c->queue_id[0] = '\0';
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
	       c->queue_id[0] ? c->queue_id : "NOQUEUE", how, c->events, c->replies);
}

static void
note_queue_id(SMFICTX *ctx, struct conn *c)
{
	const char *id = smfi_getsymval(ctx, "i");

	if (id && c->queue_id[0] == '\0')
		snprintf(c->queue_id, sizeof c->queue_id, "%s", id);
}

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	       unsigned long f2, unsigned long f3, unsigned long *pf0,
	       unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct conn *c;

	(void)f2; (void)f3;
	if ((f0 & wanted_actions) != wanted_actions) {
		cm_log(LOG_ERR, "MTA does not offer the actions we need (body and "
		       "header changes); refusing this connection");
		return SMFIS_REJECT;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		cm_log(LOG_ERR, "out of memory for a new connection");
		return SMFIS_TEMPFAIL;
	}
	c->pflags = f1 & (wanted_noreply | wanted_noevent | wanted_other);
	smfi_setpriv(ctx, c);
	*pf0 = wanted_actions;
	*pf1 = c->pflags;
	*pf2 = 0;
	*pf3 = 0;
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

	(void)argv;
	if (c == NULL)
		return SMFIS_TEMPFAIL;
	message_begin(c);
	return reply(c, SMFIP_NR_MAIL, SMFIS_CONTINUE);
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)argv;
	return reply(conn_of(ctx), SMFIP_NR_RCPT, SMFIS_CONTINUE);
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
	(void)name; (void)value;
	return reply(conn_of(ctx), SMFIP_NR_HDR, SMFIS_CONTINUE);
}

/* The per-message decision point. For now every message is accepted
 * unchanged, which also tells the MTA not to send the body at all. */
static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);
	sfsistat r;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	note_queue_id(ctx, c);
	r = reply(c, SMFIP_NR_EOH, SMFIS_ACCEPT);
	message_end(c, "accepted unchanged");
	return r;
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn *c = conn_of(ctx);

	(void)chunk; (void)len;
	if (c && (c->pflags & SMFIP_SKIP))
		return reply(c, 0, SMFIS_SKIP);
	return reply(c, SMFIP_NR_BODY, SMFIS_CONTINUE);
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	note_queue_id(ctx, c);
	c->events++;
	c->replies++;
	message_end(c, "accepted unchanged");
	return SMFIS_ACCEPT;
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

int
milter_setup(const struct cm_config *config)
{
	cfg = config;
	if (smfi_register(desc) != MI_SUCCESS) {
		cm_log(LOG_ERR, "smfi_register failed");
		return -1;
	}
	return 0;
}

void
milter_shutdown(void)
{
	cfg = NULL;
}
