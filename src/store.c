/* store.c - the consent store in Redis: a pooled, time-bounded, failing-over
 * lookup for the milter, and atomic Lua-scripted writes for consentctl.
 * The threading and failover model is described in store.h. */
#include "build-config.h"
#include "store.h"
#include "config.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MIN_US	1000000LL	/* first retry of a failed server */
#define BACKOFF_MAX_US	30000000LL
#define SERVERS_MAX	16
/* Command timeout of consentctl's connection to the primary. */
#define STORE_ADMIN_TIMEOUT_MS 120000L
/* A connection's socket timeout is only re-set when it is this far from
 * the time left, so the common lookup costs no extra system call. */
#define TIMEOUT_SLACK_US 5000

struct server {
	char *spec;		/* as configured, for messages */
	char *host;		/* TCP host, or NULL for a unix socket */
	char *path;		/* unix socket path */
	int port;
	/* under store.lock: */
	int64_t down_until;	/* monotonic µs; 0 = up */
	unsigned failures;	/* consecutive */
	unsigned gen;		/* bumped when the server fails: drops idle conns */
};

struct conn {
	redisContext *c;
	size_t server;
	unsigned gen;
	int64_t tv_us;		/* socket timeout currently set */
	struct conn *next;
};

struct store {
	pthread_mutex_t lock;
	struct server srv[SERVERS_MAX];
	size_t nsrv;
	struct conn *idle;	/* under lock */
	size_t nidle;
	char *user, *pass;	/* AUTH; pass NULL: none */
	long db;
	int64_t timeout_us;
	atomic_ulong lookups, keys, errors, failovers, connects;
};

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct timeval
tv_of(int64_t us)
{
	struct timeval tv;

	if (us < 1000)	/* a zero timeval would mean "wait forever" */
		us = 1000;
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	return tv;
}

/* ---- configuration: servers and password ---------------------------------- */

/* Parse "unix:/path", "/path", "host:port" or "[v6]:port" into S. */
static int
parse_server(const char *spec, struct server *s, char *err, size_t errlen)
{
	const char *colon;
	char *end;
	long port;

	memset(s, 0, sizeof *s);
	if (strncasecmp(spec, "unix:", 5) == 0 || spec[0] == '/') {
		const char *p = spec[0] == '/' ? spec : spec + 5;

		if (p[0] != '/') {
			snprintf(err, errlen, "RedisServer %s: a unix socket needs an absolute path", spec);
			return -1;
		}
		s->path = strdup(p);
	} else {
		if (spec[0] == '[') {
			const char *rb = strchr(spec, ']');

			if (rb == NULL || rb[1] != ':') {
				snprintf(err, errlen, "RedisServer %s: expected [IPv6]:port", spec);
				return -1;
			}
			s->host = strndup(spec + 1, (size_t)(rb - spec - 1));
			colon = rb + 1;
		} else {
			colon = strrchr(spec, ':');
			if (colon == NULL || colon == spec) {
				snprintf(err, errlen, "RedisServer %s: expected unix:/path or host:port", spec);
				return -1;
			}
			s->host = strndup(spec, (size_t)(colon - spec));
		}
		port = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || *end || port < 1 || port > 65535) {
			free(s->host);
			s->host = NULL;
			snprintf(err, errlen, "RedisServer %s: port must be 1 to 65535", spec);
			return -1;
		}
		s->port = (int)port;
	}
	s->spec = strdup(spec);
	if (s->spec == NULL || (s->host == NULL && s->path == NULL)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void
server_free(struct server *s)
{
	free(s->spec);
	free(s->host);
	free(s->path);
}

/* Read "password" or "user password" from PATH (one line). */
static int
read_password(const char *path, char **user, char **pass, char *err, size_t errlen)
{
	char line[1024], *p, *sp, *nl;
	struct stat st;
	ssize_t n;
	int fd;

	*user = *pass = NULL;
	fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "RedisPasswordFile %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		snprintf(err, errlen, "RedisPasswordFile %s: refusing a file that is not regular "
			 "or is accessible by group or others (chmod 600 it)", path);
		close(fd);
		return -1;
	}
	n = read(fd, line, sizeof line - 1);
	close(fd);
	if (n <= 0) {
		snprintf(err, errlen, "RedisPasswordFile %s: empty or unreadable", path);
		return -1;
	}
	line[n] = '\0';
	nl = strpbrk(line, "\r\n");
	if (nl)
		*nl = '\0';
	p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	sp = strpbrk(p, " \t");
	if (sp) {
		*sp++ = '\0';
		while (*sp == ' ' || *sp == '\t')
			sp++;
		if (*sp == '\0')
			sp = NULL;
	}
	if (*p == '\0' || (sp && strpbrk(sp, " \t"))) {
		snprintf(err, errlen, "RedisPasswordFile %s: expected \"password\" or \"user password\"", path);
		memset(line, 0, sizeof line);
		return -1;
	}
	if (sp) {
		*user = strdup(p);
		*pass = strdup(sp);
	} else
		*pass = strdup(p);
	memset(line, 0, sizeof line);
	if (*pass == NULL || (sp && *user == NULL)) {
		free(*user);
		free(*pass);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* ---- one connection --------------------------------------------------- */

/* Run one command on C and check that it answered +OK (or anything
 * non-error when ANY is set). */
static int
simple_command(redisContext *c, int argc, const char **argv, char *err, size_t errlen,
	       const char *what)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);

	if (r == NULL) {
		snprintf(err, errlen, "%s: %s", what, c->errstr[0] ? c->errstr : "no reply");
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "%s: %s", what, r->str);
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

/* Before each set-up command of a lookup's connection: the time left until
 * DEADLINE (0: none) becomes the socket timeout, so that connect, AUTH and
 * SELECT together stay within one RedisTimeout. */
static int
setup_deadline(redisContext *c, int64_t deadline, const struct server *s,
	       char *err, size_t errlen)
{
	int64_t left;

	if (deadline == 0)
		return 0;
	left = deadline - now_us();
	if (left <= 0) {
		snprintf(err, errlen, "%s: timed out while connecting", s->spec);
		return -1;
	}
	redisSetTimeout(c, tv_of(left));
	return 0;
}

/* Connect to S within CONNECT_US, then authenticate and select DB with the
 * socket timeout CMD_US (0: none), all before DEADLINE if it is not 0. */
static redisContext *
server_connect(const struct server *s, const char *user, const char *pass, long db,
	       int64_t connect_us, int64_t cmd_us, int64_t deadline, char *err, size_t errlen)
{
	struct timeval tv = tv_of(connect_us);
	redisContext *c;
	char dbs[16];

	if (s->path)
		c = redisConnectUnixWithTimeout(s->path, tv);
	else
		c = redisConnectWithTimeout(s->host, s->port, tv);
	if (c == NULL) {
		snprintf(err, errlen, "%s: out of memory", s->spec);
		return NULL;
	}
	if (c->err) {
		snprintf(err, errlen, "%s: %s", s->spec, c->errstr);
		redisFree(c);
		return NULL;
	}
	if (cmd_us > 0)
		tv = tv_of(cmd_us);
	else
		tv.tv_sec = tv.tv_usec = 0;
	if (redisSetTimeout(c, tv) != REDIS_OK) {
		snprintf(err, errlen, "%s: cannot set the timeout", s->spec);
		redisFree(c);
		return NULL;
	}
	if (pass) {
		const char *argv[3] = { "AUTH", user ? user : pass, pass };
		char what[300];

		snprintf(what, sizeof what, "%s: AUTH", s->spec);
		if (setup_deadline(c, deadline, s, err, errlen) < 0 ||
		    simple_command(c, user ? 3 : 2, argv, err, errlen, what) < 0) {
			redisFree(c);
			return NULL;
		}
	}
	if (db != 0) {
		const char *argv[2] = { "SELECT", dbs };
		char what[300];

		snprintf(dbs, sizeof dbs, "%ld", db);
		snprintf(what, sizeof what, "%s: SELECT %ld", s->spec, db);
		if (setup_deadline(c, deadline, s, err, errlen) < 0 ||
		    simple_command(c, 2, argv, err, errlen, what) < 0) {
			redisFree(c);
			return NULL;
		}
	}
	return c;
}

/* ---- the store and its pool ------------------------------------------- */

static int
servers_from_config(const struct cm_config *cfg, struct server *srv, size_t *nsrv,
		    char *err, size_t errlen)
{
	size_t i, n = cfg_list_len(cfg->redis_server);

	*nsrv = 0;
	if (n == 0) {
		snprintf(err, errlen, "RedisServer is empty");
		return -1;
	}
	if (n > SERVERS_MAX) {
		snprintf(err, errlen, "RedisServer lists more than %d servers", SERVERS_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (parse_server(cfg->redis_server[i], &srv[i], err, errlen) < 0) {
			while (i > 0)
				server_free(&srv[--i]);
			return -1;
		}
	}
	*nsrv = n;
	return 0;
}

struct store *
store_open(const struct cm_config *cfg, char *err, size_t errlen)
{
	struct store *st = calloc(1, sizeof *st);

	if (st == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (servers_from_config(cfg, st->srv, &st->nsrv, err, errlen) < 0) {
		free(st);
		return NULL;
	}
	if (cfg->redis_password_file && *cfg->redis_password_file &&
	    read_password(cfg->redis_password_file, &st->user, &st->pass, err, errlen) < 0) {
		store_close(st);
		return NULL;
	}
	/* hiredis writes with write(2): a server that went away would kill the
	 * process with SIGPIPE. A process that kept the default disposition
	 * gets it ignored; one that chose a handler keeps it. */
	{
		struct sigaction sa;

		if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
			sa.sa_handler = SIG_IGN;
			sigaction(SIGPIPE, &sa, NULL);
		}
	}
	st->db = cfg->redis_database;
	st->timeout_us = (int64_t)cfg->redis_timeout * 1000;
	if (pthread_mutex_init(&st->lock, NULL) != 0) {
		snprintf(err, errlen, "cannot create a mutex");
		st->nsrv = 0;
		store_close(st);
		return NULL;
	}
	return st;
}

void
store_close(struct store *st)
{
	struct conn *k, *next;
	size_t i;

	if (st == NULL)
		return;
	for (k = st->idle; k; k = next) {
		next = k->next;
		redisFree(k->c);
		free(k);
	}
	for (i = 0; i < st->nsrv; i++)
		server_free(&st->srv[i]);
	if (st->pass)
		memset(st->pass, 0, strlen(st->pass));
	free(st->user);
	free(st->pass);
	if (st->nsrv)
		pthread_mutex_destroy(&st->lock);
	free(st);
}

static void
conn_free(struct conn *k)
{
	if (k) {
		redisFree(k->c);
		free(k);
	}
}

/* Mark server I down (with backoff) and drop its idle connections. */
static void
server_failed(struct store *st, size_t i, const char *why)
{
	struct server *s = &st->srv[i];
	int64_t backoff;

	pthread_mutex_lock(&st->lock);
	if (s->failures < 16)
		s->failures++;
	backoff = BACKOFF_MIN_US << (s->failures - 1);
	if (backoff > BACKOFF_MAX_US)
		backoff = BACKOFF_MAX_US;
	s->down_until = now_us() + backoff;
	s->gen++;
	pthread_mutex_unlock(&st->lock);
	atomic_fetch_add_explicit(&st->failovers, 1, memory_order_relaxed);
	cm_log(LOG_WARNING, "redis %s: %s; marked down for %lld ms", s->spec, why,
	       (long long)(backoff / 1000));
}

/* Take the best usable connection: the most preferred server that is not
 * down and not in SKIP; an idle connection to it if there is one, else a
 * new one. NULL when no server is left or the deadline passed.
 * *ATTEMPT_DEADLINE gets the time this server may take: all that is left
 * when it is the last candidate, else half of it, so that a server that
 * hangs (SIGSTOP, dead host) still leaves time to ask the next one. */
static struct conn *
acquire(struct store *st, int64_t deadline, unsigned char *skip, int64_t *attempt_deadline)
{
	struct conn *k, **pp, *stale = NULL;
	char err[256];
	size_t i, j;
	int64_t now, left;
	unsigned gen;

	for (;;) {
		now = now_us();
		left = deadline - now;
		if (left <= 0)
			return NULL;
		pthread_mutex_lock(&st->lock);
		for (i = 0; i < st->nsrv; i++)
			if (!skip[i] && st->srv[i].down_until <= now)
				break;
		if (i == st->nsrv) {
			pthread_mutex_unlock(&st->lock);
			return NULL;
		}
		for (j = i + 1; j < st->nsrv; j++)
			if (!skip[j] && st->srv[j].down_until <= now)
				break;
		*attempt_deadline = j < st->nsrv ? now + left / 2 : deadline;
		left = *attempt_deadline - now;
		gen = st->srv[i].gen;
		for (pp = &st->idle; (k = *pp) != NULL; ) {
			if (k->gen != st->srv[k->server].gen) {
				*pp = k->next;	/* its server failed since: drop */
				k->next = stale;
				stale = k;
				st->nidle--;
				continue;
			}
			if (k->server == i) {
				*pp = k->next;
				st->nidle--;
				break;
			}
			pp = &k->next;
		}
		pthread_mutex_unlock(&st->lock);
		while (stale) {
			struct conn *next = stale->next;
			conn_free(stale);
			stale = next;
		}
		if (k) {
			k->next = NULL;
			return k;
		}
		k = calloc(1, sizeof *k);
		if (k == NULL)
			return NULL;
		k->c = server_connect(&st->srv[i], st->user, st->pass, st->db, left, left,
				      *attempt_deadline, err, sizeof err);
		if (k->c) {
			atomic_fetch_add_explicit(&st->connects, 1, memory_order_relaxed);
			k->server = i;
			k->gen = gen;
			k->tv_us = 0;	/* unknown after set-up: fit_timeout re-sets it */
			pthread_mutex_lock(&st->lock);
			st->srv[i].failures = 0;
			pthread_mutex_unlock(&st->lock);
			return k;
		}
		free(k);
		skip[i] = 1;
		server_failed(st, i, err);
	}
}

static void
release(struct store *st, struct conn *k)
{
	pthread_mutex_lock(&st->lock);
	if (st->nidle < STORE_POOL_MAX && k->gen == st->srv[k->server].gen) {
		k->next = st->idle;
		st->idle = k;
		st->nidle++;
		k = NULL;
	}
	pthread_mutex_unlock(&st->lock);
	conn_free(k);
}

/* Keep the socket timeout of K within TIMEOUT_SLACK_US of the time left. */
static int
fit_timeout(struct conn *k, int64_t deadline, int *timed_out)
{
	int64_t left = deadline - now_us();

	if (left <= 0) {
		*timed_out = 1;
		return -1;
	}
	if (k->tv_us > left + TIMEOUT_SLACK_US || k->tv_us < left - TIMEOUT_SLACK_US) {
		if (redisSetTimeout(k->c, tv_of(left)) != REDIS_OK)
			return -1;
		k->tv_us = left;
	}
	return 0;
}

static signed char
purpose_value(const redisReply *r)
{
	if (r->type == REDIS_REPLY_STRING && r->len == 1) {
		if (r->str[0] == '1')
			return 1;
		if (r->str[0] == '0')
			return 0;
	}
	return -1;	/* absent, or something this version does not know */
}

/* Store the consent in one HMGET reply. Returns -1 if the server replied
 * with an error that says it cannot serve (LOADING, MASTERDOWN, NOAUTH...):
 * the lookup then fails over. A WRONGTYPE key is only unknown. */
static int
take_reply(const redisReply *r, struct consent *out, char *err, size_t errlen)
{
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
		out->open = purpose_value(r->element[0]);
		out->click = purpose_value(r->element[1]);
		return 0;
	}
	if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "WRONGTYPE", 9) == 0)
		return 0;
	snprintf(err, errlen, "unexpected reply: %s",
		 r->type == REDIS_REPLY_ERROR ? r->str : "not an array of 2");
	return -1;
}

/* Send every HMGET, then read every reply, within DEADLINE. */
static int
pipeline(struct conn *k, char *const *keys, size_t n, struct consent *out,
	 int64_t deadline, int *timed_out, char *err, size_t errlen)
{
	redisContext *c = k->c;
	const char *argv[4] = { "HMGET", NULL, "open", "click" };
	size_t lens[4] = { 5, 0, 4, 5 };
	size_t i;
	int done = 0, bad = 0;

	*timed_out = 0;
	for (i = 0; i < n; i++) {
		argv[1] = keys[i];
		lens[1] = strlen(keys[i]);
		if (redisAppendCommandArgv(c, 4, argv, lens) != REDIS_OK)
			goto io;
	}
	while (!done) {
		if (fit_timeout(k, deadline, timed_out) < 0)
			goto io;
		if (redisBufferWrite(c, &done) != REDIS_OK)
			goto io;
	}
	for (i = 0; i < n; i++) {
		void *r = NULL;

		for (;;) {
			if (redisReaderGetReply(c->reader, &r) != REDIS_OK)
				goto io;
			if (r != NULL)
				break;
			if (fit_timeout(k, deadline, timed_out) < 0)
				goto io;
			if (redisBufferRead(c) != REDIS_OK)
				goto io;
		}
		if (!bad && take_reply(r, &out[i], err, errlen) < 0)
			bad = 1;	/* keep reading: the connection stays in step */
		freeReplyObject(r);
	}
	return bad ? -2 : 0;
io:
	if (c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
		*timed_out = 1;
	if (*timed_out)
		snprintf(err, errlen, "timed out");
	else
		snprintf(err, errlen, "%s", c->errstr[0] ? c->errstr : "I/O error");
	return -1;
}

int
store_lookup(struct store *st, char *const *keys, size_t n, struct consent *out)
{
	unsigned char skip[SERVERS_MAX] = { 0 };
	unsigned char fresh_retry[SERVERS_MAX] = { 0 };
	int64_t deadline = now_us() + st->timeout_us, attempt_deadline = 0;
	struct conn *k;
	char err[256];
	size_t i;
	int rc, timed_out;

	for (i = 0; i < n; i++)
		out[i].open = out[i].click = -1;
	if (n == 0)
		return 0;
	atomic_fetch_add_explicit(&st->lookups, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->keys, n, memory_order_relaxed);
	while ((k = acquire(st, deadline, skip, &attempt_deadline)) != NULL) {
		rc = pipeline(k, keys, n, out, attempt_deadline, &timed_out, err, sizeof err);
		if (rc == 0) {
			release(st, k);
			return 0;
		}
		for (i = 0; i < n; i++)
			out[i].open = out[i].click = -1;
		if (rc == -2) {
			/* The server answered but cannot serve: fail over, but the
			 * connection itself is in step and could be kept. */
			skip[k->server] = 1;
			server_failed(st, k->server, err);
			conn_free(k);
			continue;
		}
		/* An idle connection may simply be stale (Redis restarted, idle
		 * timeout): one fresh connection to the same server before
		 * calling it down - unless time ran out. */
		if (!timed_out && !fresh_retry[k->server]) {
			fresh_retry[k->server] = 1;
			pthread_mutex_lock(&st->lock);
			st->srv[k->server].gen++;
			pthread_mutex_unlock(&st->lock);
			conn_free(k);
			continue;
		}
		skip[k->server] = 1;
		server_failed(st, k->server, err);
		conn_free(k);
	}
	atomic_fetch_add_explicit(&st->errors, 1, memory_order_relaxed);
	return -1;
}

void
store_get_counters(const struct store *st, struct store_counters *out)
{
	struct store *s = (struct store *)st;	/* atomic_load wants non-const */

	out->lookups = atomic_load_explicit(&s->lookups, memory_order_relaxed);
	out->keys = atomic_load_explicit(&s->keys, memory_order_relaxed);
	out->errors = atomic_load_explicit(&s->errors, memory_order_relaxed);
	out->failovers = atomic_load_explicit(&s->failovers, memory_order_relaxed);
	out->connects = atomic_load_explicit(&s->connects, memory_order_relaxed);
}

/* ---- policy helpers ----------------------------------------------------- */

unsigned
store_consent_bits(const struct consent *c, int default_consent)
{
	unsigned def = (unsigned)default_consent & CONSENT_ALL, bits = 0;

	if (c->open == 1 || (c->open < 0 && (def & CONSENT_OPEN)))
		bits |= CONSENT_OPEN;
	if (c->click == 1 || (c->click < 0 && (def & CONSENT_CLICK)))
		bits |= CONSENT_CLICK;
	return bits;
}

unsigned
store_combine(const struct consent *c, size_t n, int default_consent)
{
	unsigned bits = CONSENT_ALL;
	size_t i;

	if (n == 0)
		return (unsigned)default_consent & CONSENT_ALL;
	for (i = 0; i < n; i++)
		bits &= store_consent_bits(&c[i], default_consent);
	return bits;
}

int
store_error_bits(int on_store_error)
{
	switch (on_store_error) {
	case STORE_ON_ERROR_ACCEPT:
		return (int)CONSENT_ALL;
	case STORE_ON_ERROR_TEMPFAIL:
		return -1;
	default:
		return (int)CONSENT_NONE;
	}
}

/* ---- consentctl: plain blocking connections ------------------------------ */

size_t
store_server_count(const struct cm_config *cfg)
{
	return cfg_list_len(cfg->redis_server);
}

struct redisContext *
store_connect(const struct cm_config *cfg, size_t i, long timeout_ms, char *err, size_t errlen)
{
	struct server s;
	char *user = NULL, *pass = NULL;
	redisContext *c;

	if (i >= cfg_list_len(cfg->redis_server)) {
		snprintf(err, errlen, "no RedisServer number %zu", i + 1);
		return NULL;
	}
	if (parse_server(cfg->redis_server[i], &s, err, errlen) < 0)
		return NULL;
	if (cfg->redis_password_file && *cfg->redis_password_file &&
	    read_password(cfg->redis_password_file, &user, &pass, err, errlen) < 0) {
		server_free(&s);
		return NULL;
	}
	c = server_connect(&s, user, pass, cfg->redis_database,
			   (int64_t)cfg->redis_timeout * 1000, (int64_t)timeout_ms * 1000,
			   0, err, errlen);
	if (pass)
		memset(pass, 0, strlen(pass));
	free(user);
	free(pass);
	server_free(&s);
	return c;
}

int
store_role(struct redisContext *c, char *role, size_t rolelen, char *link, size_t linklen)
{
	redisReply *r = redisCommand(c, "ROLE");
	int rc = -1;

	if (link && linklen)
		link[0] = '\0';
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
	    r->element[0]->type == REDIS_REPLY_STRING) {
		snprintf(role, rolelen, "%s", r->element[0]->str);
		/* replica: ["slave", host, port, state, offset] */
		if (link && r->elements >= 4 && r->element[3]->type == REDIS_REPLY_STRING)
			snprintf(link, linklen, "%s",
				 strcmp(r->element[3]->str, "connected") == 0 ? "up" : "down");
		rc = 0;
	} else
		snprintf(role, rolelen, "%s", r && r->type == REDIS_REPLY_ERROR ? r->str :
			 c->errstr[0] ? c->errstr : "no reply");
	freeReplyObject(r);
	return rc;
}

struct redisContext *
store_connect_primary(const struct cm_config *cfg, char *err, size_t errlen)
{
	size_t i, n = store_server_count(cfg);
	char role[64], e[256];
	redisContext *c;

	snprintf(err, errlen, "RedisServer is empty");
	for (i = 0; i < n; i++) {
		/* Generous: forget scans the whole log inside one script. */
		c = store_connect(cfg, i, STORE_ADMIN_TIMEOUT_MS, e, sizeof e);
		if (c == NULL) {
			snprintf(err, errlen, "no primary reachable (last error: %s)", e);
			continue;
		}
		if (store_role(c, role, sizeof role, NULL, 0) == 0 && strcmp(role, "master") == 0)
			return c;
		snprintf(err, errlen, "no primary among RedisServer (%s is %s)",
			 cfg->redis_server[i], role);
		redisFree(c);
	}
	return NULL;
}
