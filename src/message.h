/* message.h - one message on its way through the milter (or test mode).
 *
 * The milter callbacks feed a struct message (sender, recipients, headers,
 * body); message.c turns recipients into store keys, asks the store once for
 * all of them, decides with policy.c at end of headers, and at end of message
 * runs process.c and says what to change. Test mode fills the same struct
 * from a file and calls the same functions, so both take one code path. */
#ifndef CM_MESSAGE_H
#define CM_MESSAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "address.h"
#include "buf.h"
#include "config.h"
#include "headers.h"
#include "policy.h"
#include "process.h"
#include "stats.h"
#include "store.h"

struct rcpt {
	char *raw;			/* as given, angle brackets removed */
	char norm[ADDRESS_MAX + 1];	/* normalised; "" if malformed */
	char key[ADDRESS_STORE_KEY_MAX];	/* store key; "" if malformed */
	const char *invalid;		/* why it could not be normalised, or NULL */
	struct consent consent;		/* from the store; -1/-1 unknown */
	unsigned bits;			/* effective consent bits */
};

/* What the whole process shares: config, engine, store, address key. */
struct milter_env {
	const struct cm_config *cfg;
	struct engine *engine;
	struct store *store;		/* NULL in test mode with -x */
	struct address_key key;
	int have_key;
};

struct message {
	char queue_id[64];
	char *sender;
	int in_scope;
	const char *scope_why;
	struct rcpt *rcpts;
	size_t nrcpt, cap;
	struct header_list hdrs;
	struct buf body;
	int oversize;
	int looked_up;			/* consent of every recipient is known */
	int store_failed;
	unsigned consent;		/* strictest effective consent */
	int mixed;			/* recipients of different classes */
	struct decision dec;
	struct timespec t0;
};

/* What end of message asks the MTA (or test mode) to do. */
struct eom_result {
	enum stats_action action;
	int tempfail;			/* answer 4xx instead of accepting */
	int body_changed;
	struct buf body;		/* new body when body_changed */
	struct hdr_edits edits;		/* header changes, in order */
	struct stats_counts counts;
	char why[256];
	uint64_t bytes_in, bytes_out;
};

/* Load the address key and the tracker rules and, with ENV_STORE, set up
 * the store (which connects lazily). ENV_KEY_OPTIONAL: go on without the
 * address key (test mode with -x: no store, keys only label the log).
 * 0, or -1 with a reason in ERR. */
#define ENV_STORE		1u
#define ENV_KEY_OPTIONAL	2u
int milter_env_open(struct milter_env *e, const struct cm_config *cfg, unsigned flags,
		    char *err, size_t errlen);
void milter_env_close(struct milter_env *e);

void message_init(struct message *m);
void message_reset(struct message *m);	/* ready for the next message */
void message_free(struct message *m);

int message_set_sender(struct message *m, const char *sender);
/* Normalise and key RAW; a malformed address is kept (treated as unknown). */
int message_add_rcpt(struct message *m, const struct milter_env *env, const char *raw);
int message_add_header(struct message *m, const char *name, const char *value);

/* Look every recipient up in one round trip (no-op when done already) and
 * compute m->consent. FIXED >= 0: use these bits for every recipient instead
 * (test mode -x). Returns 0, or -1 when the store failed and OnStoreError is
 * tempfail. */
int message_lookup(struct message *m, const struct milter_env *env, int fixed);
/* Split mode: consent class of the recipient just added (looked up alone). */
int message_lookup_last(struct message *m, const struct milter_env *env, unsigned *bits);

/* The decision at end of headers (after message_lookup). */
int message_decide(struct message *m, const struct milter_env *env);

/* Append a body chunk; sets m->oversize (and drops the buffer) past
 * MaxProcessSize. 0, or -1 out of memory. */
int message_add_body(struct message *m, const struct milter_env *env,
		     const void *chunk, size_t len);

/* End of message: everything that should change. R is filled; free it with
 * message_result_free(). */
void message_finish(struct message *m, const struct milter_env *env,
		    void (*progress)(void *), void *progress_arg, struct eom_result *r);
void message_result_free(struct eom_result *r);

/* The one info line per message:
 * "QUEUEID: consent=... rcpts=N action=... pixels=N ... bytes=IN>OUT ms=N.N to=..." */
void message_log(const struct message *m, const struct milter_env *env,
		 const struct eom_result *r);
/* Log for a message that ended at end of headers. */
void message_log_early(const struct message *m, const struct milter_env *env,
		       enum stats_action action, const char *why);

#endif
