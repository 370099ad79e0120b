/* store_write.c - consentctl's writes to the consent store: Lua scripts that
 * change a record and append its proof-of-consent log entry in one atomic
 * step (EVALSHA, falling back to EVAL when the server does not know the
 * script), a pipelined writer for imports, erasure, and RFC 3339 times. */
#include "build-config.h"
#include "store.h"

#include <ctype.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIELDS_PER_CHANGE 7

/* KEYS[1] log stream, KEYS[2..] records; ARGV: 7 values per record (open,
 * click, time, source, text, actor, event). open/click: "1", "0" or ""
 * (unchanged). Returns one 0/1 per record: 1 when it changed. A record
 * whose purposes would not change is not touched and nothing is logged. */
static const char set_script[] =
	"if redis.replicate_commands then redis.replicate_commands() end\n"
	"local L = {['1'] = 'granted', ['0'] = 'denied'}\n"
	"local log, out, call = KEYS[1], {}, redis.call\n"
	"for i = 2, #KEYS do\n"
	"  local b = (i - 2) * 7\n"
	"  local k, o, c = KEYS[i], ARGV[b + 1], ARGV[b + 2]\n"
	"  local cur = call('HMGET', k, 'open', 'click')\n"
	"  if o == cur[1] then o = '' end\n"
	"  if c == cur[2] then c = '' end\n"
	"  local ch\n"
	"  if o ~= '' then\n"
	"    ch = 'open:' .. (L[cur[1]] or 'unknown') .. '->' .. L[o]\n"
	"    if c ~= '' then ch = ch .. ',click:' .. (L[cur[2]] or 'unknown') .. '->' .. L[c] end\n"
	"  elseif c ~= '' then\n"
	"    ch = 'click:' .. (L[cur[2]] or 'unknown') .. '->' .. L[c]\n"
	"  end\n"
	"  if ch == nil then\n"
	"    out[i - 1] = 0\n"
	"  else\n"
	"    local t, s, x, a = ARGV[b + 3], ARGV[b + 4], ARGV[b + 5], ARGV[b + 6]\n"
	"    local f = {'updated_at', t, 'source', s, 'actor', a}\n"
	"    if o ~= '' then f[#f + 1] = 'open'; f[#f + 1] = o end\n"
	"    if c ~= '' then f[#f + 1] = 'click'; f[#f + 1] = c end\n"
	"    if x ~= '' then f[#f + 1] = 'text'; f[#f + 1] = x end\n"
	"    call('HSET', k, unpack(f))\n"
	"    call('XADD', log, '*', 'event', ARGV[b + 7], 'key', k, 'changes', ch,\n"
	"      'time', t, 'source', s, 'text', x, 'actor', a)\n"
	"    out[i - 1] = 1\n"
	"  end\n"
	"end\n"
	"return out\n";

/* KEYS[1] record, KEYS[2] log; ARGV[1] time, ARGV[2] actor, ARGV[3] the
 * last log entry id the client scanned ("0-0": none), ARGV[4..] the ids of
 * the entries about the record that the scan found. Deletes the record and
 * those entries, then every entry about the record added after the scan
 * (the script's own short scan), then logs "erased" with the counts but
 * without the key. Returns {records deleted, entries deleted}.
 * The long scan runs outside the script, page by page, so that a forget
 * on a large log does not stall the server (and the milters reading it). */
static const char forget_script[] =
	"if redis.replicate_commands then redis.replicate_commands() end\n"
	"local existed = redis.call('DEL', KEYS[1])\n"
	"local count = 0\n"
	"for i = 4, #ARGV do count = count + redis.call('XDEL', KEYS[2], ARGV[i]) end\n"
	"local start = '(' .. ARGV[3]\n"
	"while true do\n"
	"  local r = redis.call('XRANGE', KEYS[2], start, '+', 'COUNT', 1000)\n"
	"  if #r == 0 then break end\n"
	"  for _, e in ipairs(r) do\n"
	"    local f = e[2]\n"
	"    for j = 1, #f, 2 do\n"
	"      if f[j] == 'key' then\n"
	"        if f[j + 1] == KEYS[1] then\n"
	"          count = count + redis.call('XDEL', KEYS[2], e[1])\n"
	"        end\n"
	"        break\n"
	"      end\n"
	"    end\n"
	"  end\n"
	"  start = '(' .. r[#r][1]\n"
	"end\n"
	"if existed == 0 and count == 0 then return {0, 0} end\n"
	"redis.call('XADD', KEYS[2], '*', 'event', 'erased', 'records', existed,\n"
	"  'count', count, 'time', ARGV[1], 'actor', ARGV[2])\n"
	"return {existed, count}\n";

static void
sha1_hex(const char *text, char out[41])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA_DIGEST_LENGTH];
	int i;

	SHA1((const unsigned char *)text, strlen(text), md);
	for (i = 0; i < SHA_DIGEST_LENGTH; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[40] = '\0';
}

static int
is_noscript(const redisReply *r)
{
	return r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0;
}

/* ---- one queued batch: its EVALSHA arguments, kept for an EVAL resend ---- */

struct wbatch {
	int argc;
	const char **argv;
	size_t *lens;
	char *data;
	size_t n;		/* changes in the batch */
	redisReply *stashed;	/* reply read early while recovering from NOSCRIPT */
};

struct store_writer {
	redisContext *c;
	char sha[41];
	char *log_key;
	struct wbatch q[STORE_WRITE_DEPTH];
	size_t head, count;
};

static void
wbatch_clear(struct wbatch *b)
{
	free(b->argv);
	free(b->lens);
	free(b->data);
	freeReplyObject(b->stashed);
	memset(b, 0, sizeof *b);
}

static const char *
purpose_arg(signed char v)
{
	return v < 0 ? "" : v ? "1" : "0";
}

/* Fill B with "EVALSHA sha numkeys log k1..kn ARGV..." copying every string. */
static int
wbatch_build(struct wbatch *b, const char *sha, const char *log_key,
	     const struct store_change *ch, size_t n)
{
	const char *vals[FIELDS_PER_CHANGE];
	char nkeys[24];
	size_t total, i, j, a, off = 0;

	memset(b, 0, sizeof *b);
	b->argc = (int)(3 + 1 + n + FIELDS_PER_CHANGE * n);
	b->argv = calloc((size_t)b->argc, sizeof *b->argv);
	b->lens = calloc((size_t)b->argc, sizeof *b->lens);
	snprintf(nkeys, sizeof nkeys, "%zu", n + 1);
	total = strlen(nkeys) + 1 + strlen(log_key) + 1;
	for (i = 0; i < n; i++) {
		total += strlen(ch[i].key) + 1 + 2 + 2;
		total += strlen(ch[i].time) + strlen(ch[i].source) + strlen(ch[i].text) +
			 strlen(ch[i].actor) + strlen(ch[i].event) + 5;
	}
	b->data = malloc(total);
	if (b->argv == NULL || b->lens == NULL || b->data == NULL) {
		wbatch_clear(b);
		return -1;
	}
#define PUT(idx, s) do { \
		size_t l_ = strlen(s); \
		memcpy(b->data + off, (s), l_ + 1); \
		b->argv[idx] = b->data + off; b->lens[idx] = l_; off += l_ + 1; \
	} while (0)
	b->argv[0] = "EVALSHA";
	b->lens[0] = 7;
	b->argv[1] = sha;
	b->lens[1] = 40;
	PUT(2, nkeys);
	PUT(3, log_key);
	a = 4 + n;
	for (i = 0; i < n; i++) {
		PUT(4 + i, ch[i].key);
		vals[0] = purpose_arg(ch[i].open);
		vals[1] = purpose_arg(ch[i].click);
		vals[2] = ch[i].time;
		vals[3] = ch[i].source;
		vals[4] = ch[i].text;
		vals[5] = ch[i].actor;
		vals[6] = ch[i].event;
		for (j = 0; j < FIELDS_PER_CHANGE; j++, a++)
			PUT(a, vals[j]);
	}
#undef PUT
	b->n = n;
	return 0;
}

struct store_writer *
store_writer_new(struct redisContext *c, const char *prefix)
{
	struct store_writer *w = calloc(1, sizeof *w);

	if (w == NULL)
		return NULL;
	w->c = c;
	sha1_hex(set_script, w->sha);
	w->log_key = malloc(strlen(prefix) + 4);
	if (w->log_key == NULL) {
		free(w);
		return NULL;
	}
	sprintf(w->log_key, "%slog", prefix);
	return w;
}

void
store_writer_free(struct store_writer *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < STORE_WRITE_DEPTH; i++)
		wbatch_clear(&w->q[i]);
	free(w->log_key);
	free(w);
}

size_t
store_writer_pending(const struct store_writer *w)
{
	return w->count;
}

int
store_write_send(struct store_writer *w, const struct store_change *ch, size_t n,
		 char *err, size_t errlen)
{
	struct wbatch *b;
	int done = 0;

	if (w->count == STORE_WRITE_DEPTH) {
		snprintf(err, errlen, "too many batches in flight");
		return -1;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty batch");
		return -1;
	}
	b = &w->q[(w->head + w->count) % STORE_WRITE_DEPTH];
	if (wbatch_build(b, w->sha, w->log_key, ch, n) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (redisAppendCommandArgv(w->c, b->argc, b->argv, b->lens) != REDIS_OK) {
		snprintf(err, errlen, "%s", w->c->errstr);
		wbatch_clear(b);
		return -1;
	}
	w->count++;
	/* Put it on the wire now, so the server works while we build the next. */
	while (!done)
		if (redisBufferWrite(w->c, &done) != REDIS_OK) {
			snprintf(err, errlen, "%s", w->c->errstr);
			return -1;
		}
	return 0;
}

static redisReply *
read_reply(redisContext *c)
{
	void *r = NULL;

	if (redisGetReply(c, &r) != REDIS_OK)
		return NULL;
	return r;
}

/* The server lost the script cache: read the replies of every later batch
 * first (they were sent before our resend), then run B with EVAL. */
static redisReply *
resend_with_eval(struct store_writer *w, struct wbatch *b)
{
	size_t i;

	for (i = 1; i < w->count; i++) {
		struct wbatch *later = &w->q[(w->head + i) % STORE_WRITE_DEPTH];

		if (later->stashed == NULL && (later->stashed = read_reply(w->c)) == NULL)
			return NULL;
	}
	b->argv[0] = "EVAL";
	b->lens[0] = 4;
	b->argv[1] = set_script;
	b->lens[1] = strlen(set_script);
	return redisCommandArgv(w->c, b->argc, b->argv, b->lens);
}

long
store_write_recv(struct store_writer *w, size_t *n_out, char *err, size_t errlen)
{
	struct wbatch *b;
	redisReply *r;
	long applied = 0;
	size_t i;

	if (w->count == 0) {
		snprintf(err, errlen, "nothing to receive");
		return -1;
	}
	b = &w->q[w->head];
	*n_out = b->n;
	r = b->stashed ? b->stashed : read_reply(w->c);
	b->stashed = NULL;
	if (is_noscript(r)) {
		freeReplyObject(r);
		r = resend_with_eval(w, b);
	}
	if (r == NULL)
		snprintf(err, errlen, "%s", w->c->errstr[0] ? w->c->errstr : "no reply");
	else if (r->type == REDIS_REPLY_ERROR)
		snprintf(err, errlen, "%s", r->str);
	else if (r->type != REDIS_REPLY_ARRAY || r->elements != b->n)
		snprintf(err, errlen, "unexpected reply to the write script");
	else
		for (i = 0; i < r->elements; i++)
			applied += r->element[i]->type == REDIS_REPLY_INTEGER &&
				   r->element[i]->integer == 1;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != b->n)
		applied = -1;
	freeReplyObject(r);
	wbatch_clear(b);
	w->head = (w->head + 1) % STORE_WRITE_DEPTH;
	w->count--;
	return applied;
}

long
store_write(struct redisContext *c, const char *prefix, const struct store_change *ch,
	    size_t n, unsigned char *changed, char *err, size_t errlen)
{
	struct store_writer *w = store_writer_new(c, prefix);
	struct wbatch *b;
	redisReply *r;
	long applied = 0;
	size_t i;

	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (store_write_send(w, ch, n, err, errlen) < 0) {
		store_writer_free(w);
		return -1;
	}
	/* Read here rather than with store_write_recv to report each change. */
	b = &w->q[w->head];
	r = read_reply(c);
	if (is_noscript(r)) {
		freeReplyObject(r);
		r = resend_with_eval(w, b);
	}
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != n) {
		snprintf(err, errlen, "%s", r == NULL ? (c->errstr[0] ? c->errstr : "no reply") :
			 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply to the write script");
		applied = -1;
	} else {
		for (i = 0; i < n; i++) {
			int one = r->element[i]->type == REDIS_REPLY_INTEGER &&
				  r->element[i]->integer == 1;
			if (changed)
				changed[i] = (unsigned char)one;
			applied += one;
		}
	}
	freeReplyObject(r);
	store_writer_free(w);
	return applied;
}

/* Page through LOG_KEY collecting the ids of entries whose key field is
 * KEY; *LAST gets the id of the last entry seen ("0-0" if none). */
static int
scan_log_for(redisContext *c, const char *log_key, const char *key, char ***ids,
	     size_t *nids, char *last, size_t lastlen, char *err, size_t errlen)
{
	char start[96] = "-";	/* "(" and an id of at most 41 characters */
	size_t i, j, cap = 0;
	redisReply *r;

	*ids = NULL;
	*nids = 0;
	snprintf(last, lastlen, "0-0");
	for (;;) {
		r = redisCommand(c, "XRANGE %s %s + COUNT 1000", log_key, start);
		if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
			snprintf(err, errlen, "XRANGE: %s", r && r->type == REDIS_REPLY_ERROR ? r->str :
				 c->errstr[0] ? c->errstr : "no reply");
			freeReplyObject(r);
			return -1;
		}
		if (r->elements == 0) {
			freeReplyObject(r);
			return 0;
		}
		for (i = 0; i < r->elements; i++) {
			const redisReply *e = r->element[i], *f = e->element[1];

			for (j = 0; j + 1 < f->elements; j += 2) {
				if (strcmp(f->element[j]->str, "key") != 0)
					continue;
				if (strcmp(f->element[j + 1]->str, key) == 0) {
					if (*nids == cap) {
						char **bigger = realloc(*ids, (cap * 2 + 16) * sizeof **ids);
						if (bigger == NULL)
							goto nomem;
						*ids = bigger;
						cap = cap * 2 + 16;
					}
					if (((*ids)[*nids] = strdup(e->element[0]->str)) == NULL)
						goto nomem;
					(*nids)++;
				}
				break;
			}
		}
		snprintf(last, lastlen, "%s", r->element[r->elements - 1]->element[0]->str);
		snprintf(start, sizeof start, "(%.80s", last);
		freeReplyObject(r);
	}
nomem:
	freeReplyObject(r);
	snprintf(err, errlen, "out of memory");
	return -1;
}

int
store_forget(struct redisContext *c, const char *prefix, const char *key,
	     const char *time, const char *actor, int *records, long *entries,
	     char *err, size_t errlen)
{
	char sha[41], *log_key, last[80], **ids = NULL;
	const char **argv = NULL;
	size_t nids = 0, i, argc;
	redisReply *r = NULL;
	int rc = -1;

	log_key = malloc(strlen(prefix) + 4);
	if (log_key == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sprintf(log_key, "%slog", prefix);
	if (scan_log_for(c, log_key, key, &ids, &nids, last, sizeof last, err, errlen) < 0)
		goto out;
	argc = 8 + nids;
	argv = calloc(argc, sizeof *argv);
	if (argv == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	sha1_hex(forget_script, sha);
	argv[0] = "EVALSHA"; argv[1] = sha; argv[2] = "2";
	argv[3] = key; argv[4] = log_key;
	argv[5] = time; argv[6] = actor; argv[7] = last;
	for (i = 0; i < nids; i++)
		argv[8 + i] = ids[i];
	r = redisCommandArgv(c, (int)argc, argv, NULL);
	if (is_noscript(r)) {
		freeReplyObject(r);
		argv[0] = "EVAL";
		argv[1] = forget_script;
		r = redisCommandArgv(c, (int)argc, argv, NULL);
	}
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[1]->type == REDIS_REPLY_INTEGER) {
		*records = (int)r->element[0]->integer;
		*entries = (long)r->element[1]->integer;
		rc = 0;
	} else
		snprintf(err, errlen, "%s", r == NULL ? (c->errstr[0] ? c->errstr : "no reply") :
			 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply to the forget script");
out:
	freeReplyObject(r);
	for (i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
	free(argv);
	free(log_key);
	return rc;
}

/* ---- RFC 3339 times ------------------------------------------------------ */

void
store_now(char *out, size_t outlen)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
store_parse_time(const char *s, char *out, size_t outlen)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	struct tm tm, chk;
	const char *p;
	time_t t;

	if (strlen(s) < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d))
		return -1;
	p = s + 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi) || p[6] != ':' ||
		    digits(p + 7, 2, &sec))
			return -1;
		p += 9;
		if (*p == '.') {	/* fractions of a second: dropped */
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			while (isdigit((unsigned char)*p))
				p++;
		}
		if (*p == 'Z' || *p == 'z')
			p++;
		else if (*p == '+' || *p == '-') {
			sign = *p == '+' ? 1 : -1;
			if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) ||
			    oh > 23 || om > 59)
				return -1;
			p += 6;
		} else
			return -1;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec > 59 ? 59 : sec;
	t = timegm(&tm);
	gmtime_r(&t, &chk);
	if (chk.tm_mday != d)	/* 31 February and the like */
		return -1;
	t -= (time_t)sign * (oh * 3600 + om * 60);
	gmtime_r(&t, &tm);
	if (strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -1;
	return 0;
}
