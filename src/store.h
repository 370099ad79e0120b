/* store.h - the consent store: Redis (hiredis 0.14) lookups for the milter,
 * writes for consentctl.
 *
 * Record: hash "<prefix>c:<hmac>" with fields open, click ("1" granted,
 * "0" denied, absent unknown), updated_at (RFC 3339 UTC), source, text, actor.
 * Proof of consent: stream "<prefix>log"; every change appends one entry
 * (fields event, key, changes "open:unknown->granted,click:...", time,
 * source, text, actor) in the same Lua script as the record change.
 *
 * Threading (milter side): struct store is shared by all libmilter worker
 * threads. It keeps a mutex-protected pool of idle hiredis connections; a
 * lookup takes one connection out of the pool (or opens a new one), uses it
 * without holding the lock, and gives it back. The pool therefore grows to
 * the number of lookups running at the same time (capped at
 * STORE_POOL_MAX idle connections) and never serialises lookups behind one
 * socket. Per-thread contexts were not chosen because libmilter does not
 * tell us when a worker thread ends, so they would leak sockets.
 *
 * Servers are tried in RedisServer order. A server that fails (connect
 * error, I/O error, timeout, error reply such as LOADING or MASTERDOWN) is
 * marked down and retried after a backoff (1 s, doubling to 30 s); the next
 * server is used meanwhile. Idle connections of a failed server are dropped.
 * One lookup never takes longer than RedisTimeout (plus scheduling slack):
 * connecting, AUTH, SELECT, failover and every read share one deadline.
 * While another server is still available, one server may use only half of
 * the time left, so that a hung server (SIGSTOP, unreachable host) still
 * leaves time to ask the next one within the same lookup. When every
 * server is marked down, a lookup fails at once (OnStoreError applies)
 * until the first backoff expires. */
#ifndef CM_STORE_H
#define CM_STORE_H

#include <stddef.h>

struct cm_config;
struct store;

/* Consent bits; DefaultConsent's index (none|open|click|all) equals them. */
#define CONSENT_NONE	0u
#define CONSENT_OPEN	1u
#define CONSENT_CLICK	2u
#define CONSENT_ALL	3u

/* OnStoreError; the values are the indexes of the config enum. */
enum store_on_error {
	STORE_ON_ERROR_STRIP = 0,	/* treat as no consent, deliver */
	STORE_ON_ERROR_TEMPFAIL = 1,	/* 4xx the message */
	STORE_ON_ERROR_ACCEPT = 2	/* deliver unchanged */
};

#define STORE_POOL_MAX	64

/* One recipient's consent: 1 granted, 0 denied, -1 unknown (no record). */
struct consent {
	signed char open;
	signed char click;
};

struct store_counters {
	unsigned long lookups;		/* store_lookup calls with n > 0 */
	unsigned long keys;		/* keys looked up */
	unsigned long errors;		/* lookups that returned -1 */
	unsigned long failovers;	/* times a server was marked down */
	unsigned long connects;		/* connections opened */
};

/* ---- milter side (thread-safe) ------------------------------------------ */

/* Parse RedisServer, read RedisPasswordFile (refused if group/world
 * accessible). Does not connect: the first lookup does, so the milter starts
 * even when Redis is down. Sets SIGPIPE to ignored if it was at its default
 * (a vanished server must not kill the milter). NULL with a reason in ERR. */
struct store *store_open(const struct cm_config *cfg, char *err, size_t errlen);
/* Look up N record keys in one pipelined round trip (HMGET key open click
 * each). OUT[i] gets the consent of KEYS[i]. Returns 0, or -1 (every OUT
 * left unknown) when no server answered within RedisTimeout. */
int store_lookup(struct store *st, char *const *keys, size_t n, struct consent *out);
void store_close(struct store *st);
void store_get_counters(const struct store *st, struct store_counters *out);

/* Consent bits of one recipient, unknown purposes taking DEFAULT_CONSENT's
 * bit (DefaultConsent index). */
unsigned store_consent_bits(const struct consent *c, int default_consent);
/* Strictest consent of N recipients: bitwise AND of their bits. N == 0
 * gives DEFAULT_CONSENT. */
unsigned store_combine(const struct consent *c, size_t n, int default_consent);
/* Bits to apply when the lookup failed: STRIP -> CONSENT_NONE, ACCEPT ->
 * CONSENT_ALL (nothing is rewritten), TEMPFAIL -> -1 (caller tempfails). */
int store_error_bits(int on_store_error);

/* ---- consentctl side (single-threaded, blocking) ------------------------- */

/* The hiredis context type, without making every user include hiredis.h. */
struct redisContext;

/* Number of servers in CFG's RedisServer. */
size_t store_server_count(const struct cm_config *cfg);
/* Connect to server I of RedisServer (AUTH, SELECT), with RedisTimeout for
 * connect; commands get TIMEOUT_MS (0: no timeout, for long scripts).
 * NULL with a reason in ERR. */
struct redisContext *store_connect(const struct cm_config *cfg, size_t i,
				   long timeout_ms, char *err, size_t errlen);
/* Replication role of a connected server ("master", "slave", ...) into
 * ROLE; for a replica, LINK gets "up"/"down". 0 or -1. */
int store_role(struct redisContext *c, char *role, size_t rolelen, char *link, size_t linklen);
/* Connect to the first server of RedisServer that is a primary; commands
 * on it time out after 120 s (a forget scans the whole log). */
struct redisContext *store_connect_primary(const struct cm_config *cfg, char *err, size_t errlen);

/* One consent change. OPEN / CLICK: 1 grant, 0 deny, -1 leave unchanged.
 * TIME is RFC 3339 UTC; TEXT may be "" (kept as it was); EVENT names the
 * operation in the log (grant, revoke, import). */
struct store_change {
	const char *key;
	signed char open;
	signed char click;
	const char *time;
	const char *source;
	const char *text;
	const char *actor;
	const char *event;
};

/* Apply N changes in one atomic Lua script (EVALSHA, EVAL on NOSCRIPT):
 * each record and its log entry change together; a change that alters no
 * purpose writes nothing. CHANGED[i] (may be NULL) gets 1 if change i was
 * applied. Returns the number applied, or -1 with a reason in ERR. */
long store_write(struct redisContext *c, const char *prefix,
		 const struct store_change *ch, size_t n, unsigned char *changed,
		 char *err, size_t errlen);
/* Pipelined form of store_write for imports: store_write_send() queues one
 * batch (copied: the arrays may be reused at once), store_write_recv() reads
 * the reply of the oldest queued batch. At most STORE_WRITE_DEPTH batches
 * may be outstanding. */
#define STORE_WRITE_DEPTH 4
struct store_writer;
struct store_writer *store_writer_new(struct redisContext *c, const char *prefix);
int store_write_send(struct store_writer *w, const struct store_change *ch, size_t n,
		     char *err, size_t errlen);
/* Returns the number applied in that batch, -1 on error; *N_OUT gets its size. */
long store_write_recv(struct store_writer *w, size_t *n_out, char *err, size_t errlen);
size_t store_writer_pending(const struct store_writer *w);
void store_writer_free(struct store_writer *w);

/* Erase KEY: delete the record and every log entry about it, then log an
 * "erased" event without the key (count, time, actor). The log is scanned
 * page by page first (the server stays responsive); one script then
 * deletes the record and the entries found, re-scans only what was added
 * since, and logs the event - atomically.
 * *RECORDS gets 1 if a record existed, *ENTRIES the log entries removed.
 * Nothing is logged when there was nothing to erase. 0 or -1. */
int store_forget(struct redisContext *c, const char *prefix, const char *key,
		 const char *time, const char *actor, int *records, long *entries,
		 char *err, size_t errlen);

/* Current time as RFC 3339 UTC ("2026-01-02T03:04:05Z") into OUT (>= 21). */
void store_now(char *out, size_t outlen);
/* Parse TIME (RFC 3339 with Z or +hh:mm, or YYYY-MM-DD) into RFC 3339 UTC.
 * 0, or -1 if malformed. */
int store_parse_time(const char *time, char *out, size_t outlen);

#endif
