/* consentctl.c - the compliance team's tool over the consent store: grant,
 * revoke, show, history, import, export, forget, stats, keygen, check.
 * It uses the same address normalisation and key as the milter (address.c)
 * and writes through store.c's atomic Lua scripts, always on the primary. */
#include "build-config.h"
#include "address.h"
#include "config.h"
#include "log.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE	2
#define IMPORT_BATCH	1000
#define SCAN_COUNT	1000
#define CSV_HEADER	"address,open,click,source,text,at"
#define EXPORT_HEADER	"key,open,click,updated_at,source,text,actor"
/* Longest source, text or actor kept in a record and its log entries. */
#define FIELD_MAX	1000

struct ctl {
	const char *config_path;
	struct cm_config *cfg;
	struct address_key key;
	int json;
	const char *prog;
};

static void __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("consentctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: consentctl [-c CONFIG] [--json] COMMAND [ARGS]\n"
"  grant ADDR [--purposes open,click] --source S --text V [--actor A] [--at TIME]\n"
"  revoke ADDR [--purposes open,click] --source S [--text V] [--actor A] [--at TIME]\n"
"  show ADDR                  state per purpose, when, source, text, actor\n"
"  history ADDR               every logged change for ADDR, oldest first\n"
"  import FILE.csv [--actor A]  header " CSV_HEADER "\n"
"  export [--format csv|json] every record (hashed keys, never addresses)\n"
"  forget ADDR [--actor A]    erase the record and its history\n"
"  stats                      records, granted/denied/unknown per purpose, log length\n"
"  keygen FILE                write a new address key (mode 0600)\n"
"  check                      config, key file, each Redis server and its role\n"
"default CONFIG: " SYSCONFDIR "/consent-milter.conf\n"
"exit status: 0 success, 1 error (or bad import lines), 2 usage error\n");
}

/* ---- shared helpers ---------------------------------------------------- */

static int
load_config(struct ctl *x)
{
	struct cfg_error *errors = NULL;

	x->cfg = cfg_load(x->config_path, &errors);
	if (x->cfg == NULL) {
		cfg_errors_print(errors, stderr);
		cfg_errors_free(errors);
		return -1;
	}
	return 0;
}

static int
load_key(struct ctl *x)
{
	char err[512];

	if (address_key_load(x->cfg->address_key_file, &x->key, err, sizeof err) < 0) {
		fail("%s", err);
		return -1;
	}
	return 0;
}

static int
key_of(struct ctl *x, const char *addr, char *out, size_t outlen)
{
	const char *why = NULL;

	if (address_key_for(x->cfg, &x->key, addr, out, outlen, &why) < 0) {
		fail("%s: %s", addr, why);
		return -1;
	}
	return 0;
}

static redisContext *
primary(struct ctl *x)
{
	char err[512];
	redisContext *c = store_connect_primary(x->cfg, err, sizeof err);

	if (c == NULL)
		fail("%s", err);
	return c;
}

static void
default_actor(char *out, size_t outlen)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw)
		snprintf(out, outlen, "%s", pw->pw_name);
	else
		snprintf(out, outlen, "uid %lu", (unsigned long)getuid());
}

static const char *
label(const char *v)
{
	if (v && strcmp(v, "1") == 0)
		return "granted";
	if (v && strcmp(v, "0") == 0)
		return "denied";
	return "unknown";
}

static const char *
reply_str(const redisReply *r)
{
	return r && r->type == REDIS_REPLY_STRING ? r->str : NULL;
}

static void
print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s) {
		puts(s);
		free(s);
	}
	json_decref(j);
}

static json_t *
json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Parse "open,click" into the two flags. */
static int
parse_purposes(const char *s, int *open, int *click)
{
	char buf[128], *tok, *save = NULL;

	*open = *click = 0;
	if (strlen(s) >= sizeof buf)
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (strcasecmp(tok, "open") == 0)
			*open = 1;
		else if (strcasecmp(tok, "click") == 0)
			*click = 1;
		else if (strcasecmp(tok, "all") == 0)
			*open = *click = 1;
		else
			return -1;
	}
	return *open || *click ? 0 : -1;
}

/* getopt_long over a subcommand's own arguments. */
enum { OPT_PURPOSES = 256, OPT_SOURCE, OPT_TEXT, OPT_ACTOR, OPT_AT, OPT_JSON, OPT_FORMAT,
       OPT_HELP };
static const struct option sub_options[] = {
	{ "purposes", required_argument, NULL, OPT_PURPOSES },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "text", required_argument, NULL, OPT_TEXT },
	{ "actor", required_argument, NULL, OPT_ACTOR },
	{ "at", required_argument, NULL, OPT_AT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 }
};

struct sub_args {
	const char *purposes, *source, *text, *actor, *at, *format;
	char **pos;		/* positional arguments */
	int npos;
};

/* Parse ARGV (ARGV[0] is the subcommand). ALLOWED lists the option
 * letters accepted: p s t a A j f (purposes, source, text, actor, at, json,
 * format); -c is accepted everywhere. Returns 0 or EXIT_USAGE. */
static int
parse_sub(struct ctl *x, int argc, char **argv, const char *allowed, int npos,
	  struct sub_args *a)
{
	int ch;

	memset(a, 0, sizeof *a);
	optind = 0;	/* GNU: re-initialise */
	while ((ch = getopt_long(argc, argv, "c:", sub_options, NULL)) != -1) {
		char letter = 0;

		switch (ch) {
		case 'c': x->config_path = optarg; continue;
		case OPT_HELP: usage(stdout); exit(0);
		case OPT_PURPOSES: letter = 'p'; a->purposes = optarg; break;
		case OPT_SOURCE: letter = 's'; a->source = optarg; break;
		case OPT_TEXT: letter = 't'; a->text = optarg; break;
		case OPT_ACTOR: letter = 'a'; a->actor = optarg; break;
		case OPT_AT: letter = 'A'; a->at = optarg; break;
		case OPT_JSON: letter = 'j'; x->json = 1; break;
		case OPT_FORMAT: letter = 'f'; a->format = optarg; break;
		default: usage(stderr); return EXIT_USAGE;
		}
		if (strchr(allowed, letter) == NULL) {
			fail("%s: option --%s not accepted here", argv[0],
			     sub_options[ch - OPT_PURPOSES].name);
			return EXIT_USAGE;
		}
	}
	a->pos = argv + optind;
	a->npos = argc - optind;
	if (a->npos != npos) {
		fail("%s: expected %d argument%s, got %d", argv[0], npos, npos == 1 ? "" : "s",
		     a->npos);
		return EXIT_USAGE;
	}
	return 0;
}

/* Config (and, if NEED_KEY, the address key): 0, or 1 after a message. */
static int
setup(struct ctl *x, int need_key)
{
	if (load_config(x) < 0)
		return 1;
	if (need_key && load_key(x) < 0)
		return 1;
	return 0;
}

/* ---- grant / revoke ---------------------------------------------------- */

static int
cmd_change(struct ctl *x, int argc, char **argv, int grant)
{
	struct sub_args a;
	struct store_change ch;
	char key[ADDRESS_STORE_KEY_MAX], when[32], actor[FIELD_MAX + 1], err[512];
	unsigned char changed = 0;
	redisContext *c;
	int rc, open = 1, click = 1;

	rc = parse_sub(x, argc, argv, "pstaAj", 1, &a);
	if (rc)
		return rc;
	if (a.purposes && parse_purposes(a.purposes, &open, &click) < 0) {
		fail("--purposes: expected open, click or open,click");
		return EXIT_USAGE;
	}
	if (a.source == NULL || *a.source == '\0' || (grant && (a.text == NULL || *a.text == '\0'))) {
		fail("%s: --source%s required", argv[0], grant ? " and --text are" : " is");
		return EXIT_USAGE;
	}
	if (strlen(a.source) > FIELD_MAX || (a.text && strlen(a.text) > FIELD_MAX) ||
	    (a.actor && strlen(a.actor) > FIELD_MAX)) {
		fail("%s: --source, --text and --actor are limited to %d bytes", argv[0], FIELD_MAX);
		return EXIT_USAGE;
	}
	if (a.at) {
		if (store_parse_time(a.at, when, sizeof when) < 0) {
			fail("--at %s: expected an RFC 3339 time (2024-01-31T12:00:00Z) or a date", a.at);
			return EXIT_USAGE;
		}
	} else
		store_now(when, sizeof when);
	if (a.actor)
		snprintf(actor, sizeof actor, "%s", a.actor);
	else
		default_actor(actor, sizeof actor);
	if ((rc = setup(x, 1)) != 0)
		return rc;
	if (key_of(x, a.pos[0], key, sizeof key) < 0)
		return 1;
	if ((c = primary(x)) == NULL)
		return 1;
	ch.key = key;
	ch.open = open ? (signed char)grant : -1;
	ch.click = click ? (signed char)grant : -1;
	ch.time = when;
	ch.source = a.source;
	ch.text = a.text ? a.text : "";
	ch.actor = actor;
	ch.event = grant ? "grant" : "revoke";
	if (store_write(c, x->cfg->redis_key_prefix, &ch, 1, &changed, err, sizeof err) < 0) {
		fail("%s: %s", argv[0], err);
		redisFree(c);
		return 1;
	}
	redisFree(c);
	if (x->json) {
		print_json(json_pack("{s:s, s:b}", "key", key, "changed", changed));
	} else
		printf("%s %s\n", key, changed ? "changed" : "unchanged");
	return 0;
}

/* ---- show -------------------------------------------------------------- */

static const char *const record_fields[] = {
	"open", "click", "updated_at", "source", "text", "actor"
};
#define NFIELDS 6

static int
cmd_show(struct ctl *x, int argc, char **argv)
{
	struct sub_args a;
	char key[ADDRESS_STORE_KEY_MAX];
	redisContext *c;
	redisReply *r;
	int rc, i, exists = 0;

	if ((rc = parse_sub(x, argc, argv, "j", 1, &a)) != 0)
		return rc;
	if ((rc = setup(x, 1)) != 0)
		return rc;
	if (key_of(x, a.pos[0], key, sizeof key) < 0 || (c = primary(x)) == NULL)
		return 1;
	r = redisCommand(c, "HMGET %s open click updated_at source text actor", key);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != NFIELDS) {
		fail("show: %s", r && r->type == REDIS_REPLY_ERROR ? r->str : c->errstr);
		freeReplyObject(r);
		redisFree(c);
		return 1;
	}
	for (i = 0; i < NFIELDS; i++)
		exists |= reply_str(r->element[i]) != NULL;
	if (x->json) {
		json_t *j = json_pack("{s:s, s:b}", "key", key, "record", exists);

		json_object_set_new(j, "open", json_string(label(reply_str(r->element[0]))));
		json_object_set_new(j, "click", json_string(label(reply_str(r->element[1]))));
		for (i = 2; i < NFIELDS; i++)
			json_object_set_new(j, record_fields[i], json_str_or_null(reply_str(r->element[i])));
		print_json(j);
	} else {
		printf("%-11s %s\n", "key", key);
		printf("%-11s %s\n", "record", exists ? "yes" : "none");
		printf("%-11s %s\n", "open", label(reply_str(r->element[0])));
		printf("%-11s %s\n", "click", label(reply_str(r->element[1])));
		for (i = 2; i < NFIELDS; i++)
			printf("%-11s %s\n", record_fields[i],
			       reply_str(r->element[i]) ? reply_str(r->element[i]) : "-");
	}
	freeReplyObject(r);
	redisFree(c);
	return 0;
}

/* ---- history ----------------------------------------------------------- */

static const char *
entry_field(const redisReply *fields, const char *name)
{
	size_t j;

	for (j = 0; j + 1 < fields->elements; j += 2)
		if (reply_str(fields->element[j]) && strcmp(fields->element[j]->str, name) == 0)
			return reply_str(fields->element[j + 1]);
	return NULL;
}

static const char *const log_fields[] = { "event", "time", "changes", "source", "text", "actor" };

static int
cmd_history(struct ctl *x, int argc, char **argv)
{
	struct sub_args a;
	char key[ADDRESS_STORE_KEY_MAX], log_key[ADDRESS_PREFIX_MAX + 8], start[64] = "-";
	json_t *arr = NULL;
	redisContext *c;
	redisReply *r;
	int rc;
	size_t i, k, found = 0;

	if ((rc = parse_sub(x, argc, argv, "j", 1, &a)) != 0)
		return rc;
	if ((rc = setup(x, 1)) != 0)
		return rc;
	if (key_of(x, a.pos[0], key, sizeof key) < 0 || (c = primary(x)) == NULL)
		return 1;
	snprintf(log_key, sizeof log_key, "%slog", x->cfg->redis_key_prefix);
	if (x->json)
		arr = json_array();
	/* The stream is scanned in pages: the proof is kept per change, not
	 * indexed per key, so that forget can prove it erased everything. */
	for (;;) {
		r = redisCommand(c, "XRANGE %s %s + COUNT %d", log_key, start, SCAN_COUNT);
		if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
			fail("history: %s", r && r->type == REDIS_REPLY_ERROR ? r->str : c->errstr);
			freeReplyObject(r);
			redisFree(c);
			json_decref(arr);
			return 1;
		}
		if (r->elements == 0) {
			freeReplyObject(r);
			break;
		}
		for (i = 0; i < r->elements; i++) {
			const redisReply *e = r->element[i], *f = e->element[1];
			const char *id = e->element[0]->str, *ek = entry_field(f, "key");

			if (ek == NULL || strcmp(ek, key) != 0)
				continue;
			found++;
			if (x->json) {
				json_t *o = json_pack("{s:s}", "id", id);
				for (k = 0; k < 6; k++)
					json_object_set_new(o, log_fields[k],
							    json_str_or_null(entry_field(f, log_fields[k])));
				json_array_append_new(arr, o);
			} else {
				printf("%s %s %s %s", id, entry_field(f, "time") ? entry_field(f, "time") : "-",
				       entry_field(f, "event") ? entry_field(f, "event") : "-",
				       entry_field(f, "changes") ? entry_field(f, "changes") : "-");
				for (k = 3; k < 6; k++)
					printf(" %s=%s", log_fields[k],
					       entry_field(f, log_fields[k]) ? entry_field(f, log_fields[k]) : "");
				putchar('\n');
			}
		}
		snprintf(start, sizeof start, "(%s", r->element[r->elements - 1]->element[0]->str);
		freeReplyObject(r);
	}
	redisFree(c);
	if (x->json)
		print_json(arr);
	else if (found == 0)
		fprintf(stderr, "consentctl: no history for %s\n", key);
	return 0;
}

/* ---- import ------------------------------------------------------------ */

/* Split one CSV line (RFC 4180 quoting, no line breaks inside fields) in
 * place into at most MAX fields. Returns the field count or -1. */
static int
csv_split(char *line, char **fields, int max)
{
	char *r = line, *w;
	int n = 0;

	for (;;) {
		if (n == max)
			return -1;
		if (*r == '"') {
			fields[n++] = w = ++r;
			for (;;) {
				if (*r == '\0')
					return -1;	/* unterminated quote */
				if (*r == '"') {
					if (r[1] == '"') {
						*w++ = '"';
						r += 2;
						continue;
					}
					r++;
					break;
				}
				*w++ = *r++;
			}
			if (*r != ',' && *r != '\0')
				return -1;
			*w = '\0';
			if (*r == '\0')
				return n;
			r++;
		} else {
			fields[n++] = r;
			r += strcspn(r, ",");
			if (*r == '\0')
				return n;
			*r++ = '\0';
		}
	}
}

static int
csv_purpose(const char *s, signed char *v)
{
	if (*s == '\0')
		*v = -1;
	else if (strcasecmp(s, "granted") == 0 || strcmp(s, "1") == 0)
		*v = 1;
	else if (strcasecmp(s, "denied") == 0 || strcmp(s, "0") == 0)
		*v = 0;
	else
		return -1;
	return 0;
}

struct import_state {
	struct ctl *x;
	struct store_writer *w;
	struct store_change ch[IMPORT_BATCH];
	char keys[IMPORT_BATCH][ADDRESS_STORE_KEY_MAX];
	char times[IMPORT_BATCH][32];
	char *strs[IMPORT_BATCH][2];	/* source, text copies */
	size_t n;
	unsigned long lines, good, bad, changed;
	int tty;
	time_t last_progress;
};

static int
import_recv_one(struct import_state *s)
{
	char err[512];
	size_t n;
	long applied = store_write_recv(s->w, &n, err, sizeof err);

	if (applied < 0) {
		fail("import: %s", err);
		return -1;
	}
	s->changed += (unsigned long)applied;
	return 0;
}

static int
import_flush(struct import_state *s)
{
	char err[512];
	size_t i;
	int rc;

	if (s->n == 0)
		return 0;
	if (store_writer_pending(s->w) == STORE_WRITE_DEPTH && import_recv_one(s) < 0)
		return -1;
	rc = store_write_send(s->w, s->ch, s->n, err, sizeof err);
	for (i = 0; i < s->n; i++) {
		free(s->strs[i][0]);
		free(s->strs[i][1]);
	}
	s->n = 0;
	if (rc < 0) {
		fail("import: %s", err);
		return -1;
	}
	return 0;
}

static void
import_progress(struct import_state *s, int final)
{
	time_t now;

	if (!s->tty)
		return;
	now = time(NULL);
	if (!final && now == s->last_progress)
		return;
	s->last_progress = now;
	fprintf(stderr, "\r%lu lines, %lu good, %lu bad%s", s->lines, s->good, s->bad,
		final ? "\n" : "");
}

/* Report a bad line as FILE:LINE: reason, first wiping the progress line. */
static void __attribute__((format(printf, 4, 5)))
bad_line(struct import_state *s, const char *file, unsigned long lineno, const char *fmt, ...)
{
	va_list ap;

	if (s->tty && s->last_progress)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "%s:%lu: ", file, lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* One data line: 0 queued (or nothing to do), 1 bad (reported), -1 fatal. */
static int
import_line(struct import_state *s, const char *file, unsigned long lineno, char *line,
	    const char *actor, const char *now)
{
	char *f[7];
	const char *why = NULL;
	struct store_change *c = &s->ch[s->n];
	int nf = csv_split(line, f, 7);

	if (nf != 6) {
		bad_line(s, file, lineno, "expected 6 fields (%s), got %s", CSV_HEADER,
			 nf < 0 ? "a malformed line" : "another count");
		return 1;
	}
	if (address_key_for(s->x->cfg, &s->x->key, f[0], s->keys[s->n], ADDRESS_STORE_KEY_MAX,
			    &why) < 0) {
		bad_line(s, file, lineno, "address: %s", why);
		return 1;
	}
	if (csv_purpose(f[1], &c->open) < 0 || csv_purpose(f[2], &c->click) < 0) {
		bad_line(s, file, lineno, "open and click must be granted, denied, 1, 0 or empty");
		return 1;
	}
	if (strlen(f[3]) > FIELD_MAX || strlen(f[4]) > FIELD_MAX) {
		bad_line(s, file, lineno, "source or text longer than %d bytes", FIELD_MAX);
		return 1;
	}
	if (*f[5]) {
		if (store_parse_time(f[5], s->times[s->n], sizeof s->times[0]) < 0) {
			bad_line(s, file, lineno, "at: \"%s\" is not an RFC 3339 time", f[5]);
			return 1;
		}
	} else
		snprintf(s->times[s->n], sizeof s->times[0], "%s", now);
	if (c->open < 0 && c->click < 0)
		return 0;	/* nothing to change */
	s->strs[s->n][0] = strdup(*f[3] ? f[3] : "import");
	s->strs[s->n][1] = strdup(f[4]);
	if (s->strs[s->n][0] == NULL || s->strs[s->n][1] == NULL) {
		fail("import: out of memory");
		free(s->strs[s->n][0]);
		free(s->strs[s->n][1]);
		return -1;
	}
	c->key = s->keys[s->n];
	c->time = s->times[s->n];
	c->source = s->strs[s->n][0];
	c->text = s->strs[s->n][1];
	c->actor = actor;
	c->event = "import";
	if (++s->n == IMPORT_BATCH && import_flush(s) < 0)
		return -1;
	return 0;
}

static int
cmd_import(struct ctl *x, int argc, char **argv)
{
	struct sub_args a;
	struct import_state *s;
	char actor[FIELD_MAX + 1], now[32], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	redisContext *c;
	FILE *fp;
	const char *file;
	int rc, fatal = 0;

	if ((rc = parse_sub(x, argc, argv, "aj", 1, &a)) != 0)
		return rc;
	if ((rc = setup(x, 1)) != 0)
		return rc;
	file = a.pos[0];
	fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	if (fp == NULL) {
		fail("%s: %s", file, strerror(errno));
		return 1;
	}
	if ((len = getline(&line, &cap, fp)) < 0) {
		fail("%s: empty file (expected the header %s)", file, CSV_HEADER);
		return 1;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (strcasecmp(line, CSV_HEADER) != 0) {
		fprintf(stderr, "%s:1: expected the header \"%s\"\n", file, CSV_HEADER);
		free(line);
		return 1;
	}
	if ((c = primary(x)) == NULL) {
		free(line);
		return 1;
	}
	s = calloc(1, sizeof *s);
	if (s == NULL || (s->w = store_writer_new(c, x->cfg->redis_key_prefix)) == NULL) {
		fail("out of memory");
		free(s);
		redisFree(c);
		free(line);
		return 1;
	}
	s->x = x;
	s->tty = isatty(STDERR_FILENO);
	if (a.actor)
		snprintf(actor, sizeof actor, "%s", a.actor);
	else
		default_actor(actor, sizeof actor);
	store_now(now, sizeof now);
	while (!fatal && (len = getline(&line, &cap, fp)) >= 0) {
		unsigned long lineno = ++s->lines + 1;

		if ((size_t)len != strlen(line)) {
			bad_line(s, file, lineno, "NUL byte in line");
			s->bad++;
			continue;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0') {
			s->lines--;
			continue;
		}
		rc = import_line(s, file, lineno, line, actor, now);
		if (rc < 0)
			fatal = 1;
		else if (rc > 0)
			s->bad++;
		else
			s->good++;
		if ((s->lines & 4095) == 0)
			import_progress(s, 0);
	}
	if (!fatal && ferror(fp)) {
		fail("%s: %s", file, strerror(errno));
		fatal = 1;
	}
	if (!fatal && import_flush(s) < 0)
		fatal = 1;
	while (!fatal && store_writer_pending(s->w) > 0)
		if (import_recv_one(s) < 0)
			fatal = 1;
	import_progress(s, 1);
	if (x->json)
		print_json(json_pack("{s:s, s:I, s:I, s:I, s:I, s:b}", "file", file,
				     "lines", (json_int_t)s->lines, "good", (json_int_t)s->good,
				     "bad", (json_int_t)s->bad, "changed", (json_int_t)s->changed,
				     "complete", !fatal));
	else
		printf("%s: %lu lines, %lu good, %lu bad, %lu changed%s\n", file, s->lines,
		       s->good, s->bad, s->changed, fatal ? " (stopped on an error)" : "");
	rc = fatal || s->bad ? 1 : 0;
	for (size_t i = 0; i < s->n; i++) {
		free(s->strs[i][0]);
		free(s->strs[i][1]);
	}
	store_writer_free(s->w);
	free(s);
	redisFree(c);
	free(line);
	if (fp != stdin)
		fclose(fp);
	return rc;
}

/* ---- export / stats: walk every record ----------------------------------- */

typedef int (*record_fn)(void *arg, const char *key, redisReply *fields);

/* SCAN for "<prefix>c:*" and HMGET each page's records in one pipeline. */
static int
walk_records(struct ctl *x, redisContext *c, record_fn fn, void *arg)
{
	char pattern[2 * ADDRESS_PREFIX_MAX + 8], cursor[32] = "0";
	const char *p;
	size_t o = 0, i;
	redisReply *r;

	for (p = x->cfg->redis_key_prefix; *p && o + 4 < sizeof pattern; p++) {
		if (strchr("*?[]\\", *p))
			pattern[o++] = '\\';	/* a glob character in the prefix is literal */
		pattern[o++] = *p;
	}
	memcpy(pattern + o, "c:*", 4);
	do {
		r = redisCommand(c, "SCAN %s MATCH %s COUNT %d", cursor, pattern, SCAN_COUNT);
		if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			fail("SCAN: %s", r && r->type == REDIS_REPLY_ERROR ? r->str : c->errstr);
			freeReplyObject(r);
			return -1;
		}
		snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
		for (i = 0; i < r->element[1]->elements; i++)
			redisAppendCommand(c, "HMGET %s open click updated_at source text actor",
					   r->element[1]->element[i]->str);
		for (i = 0; i < r->element[1]->elements; i++) {
			void *f = NULL;

			if (redisGetReply(c, &f) != REDIS_OK) {
				fail("HMGET: %s", c->errstr);
				freeReplyObject(r);
				return -1;
			}
			if (((redisReply *)f)->type == REDIS_REPLY_ARRAY)
				fn(arg, r->element[1]->element[i]->str, f);
			freeReplyObject(f);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

static void
csv_field(const char *s)
{
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

struct export_state {
	int json;
	unsigned long n;
};

static int
export_one(void *arg, const char *key, redisReply *f)
{
	struct export_state *e = arg;
	const char *open = reply_str(f->element[0]), *click = reply_str(f->element[1]);
	int i;

	if (e->json) {
		json_t *o = json_pack("{s:s}", "key", key);
		char *s;

		json_object_set_new(o, "open", json_string(label(open)));
		json_object_set_new(o, "click", json_string(label(click)));
		for (i = 2; i < NFIELDS; i++)
			json_object_set_new(o, record_fields[i], json_str_or_null(reply_str(f->element[i])));
		s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s%s", e->n ? ",\n" : "", s ? s : "null");
		free(s);
		json_decref(o);
	} else {
		fputs(key, stdout);
		printf(",%s,%s", open ? label(open) : "", click ? label(click) : "");
		for (i = 2; i < NFIELDS; i++) {
			putchar(',');
			csv_field(reply_str(f->element[i]));
		}
		putchar('\n');
	}
	e->n++;
	return 0;
}

static int
cmd_export(struct ctl *x, int argc, char **argv)
{
	struct sub_args a;
	struct export_state e = { 0, 0 };
	redisContext *c;
	int rc;

	if ((rc = parse_sub(x, argc, argv, "fj", 0, &a)) != 0)
		return rc;
	e.json = x->json;
	if (a.format) {
		if (strcmp(a.format, "json") == 0)
			e.json = 1;
		else if (strcmp(a.format, "csv") == 0)
			e.json = 0;
		else {
			fail("--format: expected csv or json");
			return EXIT_USAGE;
		}
	}
	if ((rc = setup(x, 0)) != 0)
		return rc;
	if ((c = primary(x)) == NULL)
		return 1;
	if (e.json)
		fputs("[\n", stdout);
	else
		puts(EXPORT_HEADER);
	rc = walk_records(x, c, export_one, &e);
	if (e.json)
		fputs(e.n ? "\n]\n" : "]\n", stdout);
	redisFree(c);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fail("export: write error: %s", strerror(errno));
		return 1;
	}
	return rc < 0 ? 1 : 0;
}

struct stats_state {
	unsigned long records, count[2][3];	/* [purpose][granted, denied, unknown] */
};

static int
stats_one(void *arg, const char *key, redisReply *f)
{
	struct stats_state *s = arg;
	int p;

	(void)key;
	s->records++;
	for (p = 0; p < 2; p++) {
		const char *v = reply_str(f->element[p]);
		s->count[p][v && !strcmp(v, "1") ? 0 : v && !strcmp(v, "0") ? 1 : 2]++;
	}
	return 0;
}

static int
cmd_stats(struct ctl *x, int argc, char **argv)
{
	static const char *const pname[2] = { "open", "click" };
	struct sub_args a;
	struct stats_state s;
	redisContext *c;
	redisReply *r;
	long long loglen = 0;
	int rc, p;

	memset(&s, 0, sizeof s);
	if ((rc = parse_sub(x, argc, argv, "j", 0, &a)) != 0)
		return rc;
	if ((rc = setup(x, 0)) != 0)
		return rc;
	if ((c = primary(x)) == NULL)
		return 1;
	if (walk_records(x, c, stats_one, &s) < 0) {
		redisFree(c);
		return 1;
	}
	r = redisCommand(c, "XLEN %slog", x->cfg->redis_key_prefix);
	if (r && r->type == REDIS_REPLY_INTEGER)
		loglen = r->integer;
	freeReplyObject(r);
	redisFree(c);
	if (x->json) {
		json_t *j = json_pack("{s:I}", "records", (json_int_t)s.records);
		for (p = 0; p < 2; p++)
			json_object_set_new(j, pname[p], json_pack("{s:I, s:I, s:I}",
					    "granted", (json_int_t)s.count[p][0],
					    "denied", (json_int_t)s.count[p][1],
					    "unknown", (json_int_t)s.count[p][2]));
		json_object_set_new(j, "log_entries", json_integer(loglen));
		print_json(j);
	} else {
		printf("records %lu\n", s.records);
		for (p = 0; p < 2; p++)
			printf("%s granted %lu denied %lu unknown %lu\n", pname[p],
			       s.count[p][0], s.count[p][1], s.count[p][2]);
		printf("log entries %lld\n", loglen);
	}
	return 0;
}

/* ---- forget ------------------------------------------------------------ */

static int
cmd_forget(struct ctl *x, int argc, char **argv)
{
	struct sub_args a;
	char key[ADDRESS_STORE_KEY_MAX], now[32], actor[FIELD_MAX + 1], err[512];
	redisContext *c;
	long entries = 0;
	int rc, records = 0;

	if ((rc = parse_sub(x, argc, argv, "aj", 1, &a)) != 0)
		return rc;
	if ((rc = setup(x, 1)) != 0)
		return rc;
	if (key_of(x, a.pos[0], key, sizeof key) < 0 || (c = primary(x)) == NULL)
		return 1;
	if (a.actor)
		snprintf(actor, sizeof actor, "%s", a.actor);
	else
		default_actor(actor, sizeof actor);
	store_now(now, sizeof now);
	rc = store_forget(c, x->cfg->redis_key_prefix, key, now, actor, &records, &entries,
			  err, sizeof err);
	redisFree(c);
	if (rc < 0) {
		fail("forget: %s", err);
		return 1;
	}
	if (x->json)
		print_json(json_pack("{s:s, s:i, s:I}", "key", key, "records", records,
				     "log_entries", (json_int_t)entries));
	else if (records == 0 && entries == 0)
		printf("%s: nothing to forget\n", key);
	else
		printf("%s: erased %d record and %ld log entries\n", key, records, entries);
	return 0;
}

/* ---- keygen / check ------------------------------------------------------ */

static int
cmd_keygen(struct ctl *x, int argc, char **argv)
{
	static const char hex[] = "0123456789abcdef";
	struct sub_args a;
	unsigned char k[ADDRESS_KEY_MIN];
	char text[2 * ADDRESS_KEY_MIN + 1];
	int rc, fd, i;

	if ((rc = parse_sub(x, argc, argv, "", 1, &a)) != 0)
		return rc;
	if (RAND_bytes(k, sizeof k) != 1) {
		fail("keygen: no random bytes from OpenSSL");
		return 1;
	}
	for (i = 0; i < ADDRESS_KEY_MIN; i++) {
		text[2 * i] = hex[k[i] >> 4];
		text[2 * i + 1] = hex[k[i] & 15];
	}
	text[2 * ADDRESS_KEY_MIN] = '\n';
	/* Never overwrite: a new key makes every existing record unreachable. */
	fd = open(a.pos[0], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		fail("keygen: %s: %s%s", a.pos[0], strerror(errno),
		     errno == EEXIST ? " (a new key orphans every record; remove the file first)" : "");
		return 1;
	}
	if (fchmod(fd, 0600) < 0 || write(fd, text, sizeof text) != (ssize_t)sizeof text ||
	    fsync(fd) < 0 || close(fd) < 0) {
		fail("keygen: %s: %s", a.pos[0], strerror(errno));
		unlink(a.pos[0]);
		return 1;
	}
	memset(k, 0, sizeof k);
	memset(text, 0, sizeof text);
	return 0;
}

static int
cmd_check(struct ctl *x, int argc, char **argv)
{
	struct sub_args a;
	char err[512], role[64], link[16];
	json_t *j = NULL, *servers = NULL;
	size_t i, n;
	int rc, bad = 0, key_ok;

	if ((rc = parse_sub(x, argc, argv, "j", 0, &a)) != 0)
		return rc;
	if (load_config(x) < 0)
		return 1;
	key_ok = address_key_load(x->cfg->address_key_file, &x->key, err, sizeof err) == 0;
	if (x->json) {
		j = json_pack("{s:s, s:b}", "config", x->config_path, "key_file", key_ok);
		if (!key_ok)
			json_object_set_new(j, "key_error", json_string(err));
		servers = json_array();
	} else {
		printf("config %s: ok\n", x->config_path);
		printf("key file %s: %s\n", x->cfg->address_key_file, key_ok ? "ok" : err);
	}
	bad |= !key_ok;
	n = store_server_count(x->cfg);
	for (i = 0; i < n; i++) {
		redisContext *c = store_connect(x->cfg, i, x->cfg->redis_timeout, err, sizeof err);
		int ok = c != NULL && store_role(c, role, sizeof role, link, sizeof link) == 0;

		if (c && !ok)
			snprintf(err, sizeof err, "ROLE: %s", role);
		if (x->json) {
			json_t *o = json_pack("{s:s, s:b}", "server", x->cfg->redis_server[i], "ok", ok);
			if (ok) {
				json_object_set_new(o, "role", json_string(role));
				if (*link)
					json_object_set_new(o, "link", json_string(link));
			} else
				json_object_set_new(o, "error", json_string(err));
			json_array_append_new(servers, o);
		} else if (ok)
			printf("redis %s: ok, role %s%s%s\n", x->cfg->redis_server[i], role,
			       *link ? ", link " : "", link);
		else
			printf("redis %s: %s\n", x->cfg->redis_server[i], err);
		bad |= !ok;
		if (c)
			redisFree(c);
	}
	if (x->json) {
		json_object_set_new(j, "servers", servers);
		json_object_set_new(j, "ok", json_boolean(!bad));
		print_json(j);
	}
	return bad ? 1 : 0;
}

/* ---- main ---------------------------------------------------------------- */


static int
cmd_grant(struct ctl *x, int argc, char **argv)
{
	return cmd_change(x, argc, argv, 1);
}

static int
cmd_revoke(struct ctl *x, int argc, char **argv)
{
	return cmd_change(x, argc, argv, 0);
}

/* The subcommands, as named on the command line. */
static const struct command {
	const char *name;
	int (*fn)(struct ctl *x, int argc, char **argv);
} commands[] = {
	{ "grant", cmd_grant },
	{ "revoke", cmd_revoke },
	{ "show", cmd_show },
	{ "history", cmd_history },
	{ "import", cmd_import },
	{ "export", cmd_export },
	{ "forget", cmd_forget },
	{ "stats", cmd_stats },
	{ "keygen", cmd_keygen },
	{ "check", cmd_check },
	{ NULL, NULL }
};

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl x;
	const struct command *c;
	const char *cmd;
	int ch, rc;

	memset(&x, 0, sizeof x);
	x.config_path = SYSCONFDIR "/consent-milter.conf";
	signal(SIGPIPE, SIG_IGN);	/* a vanished server is an error, not a death */
	cm_log_stderr_only(1);
	cm_log_set_level(LOG_ERR);	/* store warnings go to our own messages */
	while ((ch = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': x.config_path = optarg; break;
		case 'j': x.json = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': puts(PACKAGE_STRING); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	for (c = commands; c->name && strcmp(cmd, c->name) != 0; c++)
		;
	if (c->name) {
		rc = c->fn(&x, argc, argv);
	} else {
		fail("unknown command \"%s\"", cmd);
		usage(stderr);
		rc = EXIT_USAGE;
	}
	address_key_wipe(&x.key);
	cfg_free(x.cfg);
	return rc;
}
