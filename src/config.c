/* config.c - table-driven parser for consent-milter.conf.
 *
 * Format: one "Key value" per line; "#" starts a comment when it is the first
 * non-blank character of a line; keys are case-insensitive; the value is the
 * rest of the line with surrounding blanks removed. "Include FILE" reads
 * another file in place (relative names are taken from the including file's
 * directory). A key given twice keeps the later value, as in Postfix.
 *
 * Every error carries FILE:LINE so that `consent-milter -n` can print them
 * all at once, the way a postmaster fixes a file: top to bottom. */
#include "build-config.h"
#include "config.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#define MAX_INCLUDE_DEPTH 8
#define MAX_LINE 8192

enum cfg_type {
	T_STRING, T_PATH, T_BOOL, T_INT, T_SIZE, T_ENUM, T_LIST,
	T_SOCKET, T_USER, T_MODE, T_FACILITY, T_LEVEL
};

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t offset;
	const char *def;
	const char *arg;
	const char *doc;
};

static const struct cfg_key keys[] = {
#define CFG_KEY(name, type, field, def, arg, doc) \
	{ #name, T_##type, offsetof(struct cm_config, field), def, arg, doc },
#include "config_keys.h"
#undef CFG_KEY
};
#define NKEYS (sizeof keys / sizeof keys[0])

/* Context of one load: where we are, for error messages. */
struct where {
	const char *file;
	int line;
	struct cfg_error **errors;
};

void
cfg_error_vadd(struct cfg_error **errors, const char *file, int line,
	       const char *fmt, va_list ap)
{
	struct cfg_error *e, **tail;
	char msg[1024];
	int n;

	vsnprintf(msg, sizeof msg, fmt, ap);
	e = calloc(1, sizeof *e);
	if (e == NULL)
		return;
	n = snprintf(NULL, 0, "%s:%d: %s", file, line, msg);
	e->text = malloc((size_t)n + 1);
	if (e->text == NULL) {
		free(e);
		return;
	}
	snprintf(e->text, (size_t)n + 1, "%s:%d: %s", file, line, msg);
	for (tail = errors; *tail; tail = &(*tail)->next)
		;
	*tail = e;
}

void
cfg_error_add(struct cfg_error **errors, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_error_vadd(errors, file, line, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 2, 3)))
add_error(const struct where *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_error_vadd(w->errors, w->file, w->line, fmt, ap);
	va_end(ap);
}

/* ---- value parsers: each returns 0, or -1 after add_error() ------------ */

static const char *const facilities[] = {
	"mail", "daemon", "user", "local0", "local1", "local2", "local3",
	"local4", "local5", "local6", "local7", NULL
};
static const int facility_values[] = {
	LOG_MAIL, LOG_DAEMON, LOG_USER, LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2,
	LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7
};
static const char *const levels[] = {
	"error", "warning", "notice", "info", "debug", NULL
};
static const int level_values[] = {
	LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG
};

static int
lookup_word(const char *const *words, const char *s)
{
	int i;

	for (i = 0; words[i]; i++)
		if (strcasecmp(words[i], s) == 0)
			return i;
	return -1;
}

static int
parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };

	if (lookup_word(yes, s) >= 0)
		*out = 1;
	else if (lookup_word(no, s) >= 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int
parse_range(const char *arg, long long *lo, long long *hi)
{
	char *end;

	*lo = strtoll(arg, &end, 10);
	if (*end != ':')
		return -1;
	*hi = strtoll(end + 1, &end, 10);
	return *end == '\0' ? 0 : -1;
}

static int
parse_number(const struct where *w, const struct cfg_key *k, const char *s,
	     int with_suffix, long long *out)
{
	long long v, lo, hi, mult = 1;
	char *end;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno == ERANGE || (v < 0 && with_suffix)) {
		add_error(w, "%s: \"%s\" is not a number", k->name, s);
		return -1;
	}
	if (with_suffix && *end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': mult = 1024LL; break;
		case 'M': mult = 1024LL * 1024; break;
		case 'G': mult = 1024LL * 1024 * 1024; break;
		default: mult = 0; break;
		}
		if (mult && (end[1] == '\0' ||
		    (toupper((unsigned char)end[1]) == 'B' && end[2] == '\0')))
			end += strlen(end);
	}
	if (*end) {
		add_error(w, "%s: \"%s\" is not a number%s", k->name, s,
			  with_suffix ? " (a size may end in K, M or G)" : "");
		return -1;
	}
	if (v > LLONG_MAX / mult) {
		add_error(w, "%s: \"%s\" is too large", k->name, s);
		return -1;
	}
	v *= mult;
	if (parse_range(k->arg, &lo, &hi) == 0 && (v < lo || v > hi)) {
		add_error(w, "%s: %s is out of range (%lld to %lld)", k->name, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_enum(const struct where *w, const struct cfg_key *k, const char *s, int *out)
{
	const char *p = k->arg, *bar;
	size_t n = strlen(s);
	int i = 0;

	for (;;) {
		bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncasecmp(p, s, n) == 0) {
			*out = i;
			return 0;
		}
		if (bar == NULL)
			break;
		p = bar + 1;
		i++;
	}
	add_error(w, "%s: \"%s\" is not one of %s", k->name, s, k->arg);
	return -1;
}

static void
list_free(char **list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; list[i]; i++)
		free(list[i]);
	free(list);
}

static int
parse_list(const char *s, char ***out)
{
	char **list;
	size_t n = 0, cap = 4;
	const char *p = s;

	list = calloc(cap + 1, sizeof *list);
	if (list == NULL)
		return -1;
	while (*p) {
		size_t len;

		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		len = strcspn(p, ", \t");
		if (len == 0)
			break;
		if (n == cap) {
			char **bigger = realloc(list, (cap * 2 + 1) * sizeof *list);
			if (bigger == NULL) {
				list_free(list);
				return -1;
			}
			list = bigger;
			cap *= 2;
		}
		list[n] = strndup(p, len);
		if (list[n] == NULL) {
			list_free(list);
			return -1;
		}
		list[++n] = NULL;
		p += len;
	}
	*out = list;
	return 0;
}

static int
valid_socket(const char *s, const char **why)
{
	const char *rest, *at;
	char *end;
	long port;

	if (s[0] == '/')
		return 0;
	if (strncasecmp(s, "unix:", 5) == 0 || strncasecmp(s, "local:", 6) == 0) {
		rest = strchr(s, ':') + 1;
		if (rest[0] != '/') {
			*why = "a unix socket needs an absolute path";
			return -1;
		}
		return 0;
	}
	if (strncasecmp(s, "inet:", 5) == 0 || strncasecmp(s, "inet6:", 6) == 0) {
		rest = strchr(s, ':') + 1;
		port = strtol(rest, &end, 10);
		if (end == rest || port < 1 || port > 65535 || (*end && *end != '@')) {
			*why = "expected inet:PORT@HOST with PORT from 1 to 65535";
			return -1;
		}
		at = strchr(rest, '@');
		if (at && at[1] == '\0') {
			*why = "empty host after @";
			return -1;
		}
		return 0;
	}
	*why = "expected unix:/path, local:/path, inet:port@host or inet6:port@host";
	return -1;
}

int
cfg_lookup_user(const char *spec, unsigned *uid, unsigned *gid, const char **why)
{
	char name[256];
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
	struct passwd *pw;
	struct group *gr;

	if (len == 0 || len >= sizeof name) {
		*why = "expected user[:group]";
		return -1;
	}
	memcpy(name, spec, len);
	name[len] = '\0';
	pw = getpwnam(name);
	if (pw == NULL) {
		*why = "no such user";
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (colon) {
		gr = colon[1] ? getgrnam(colon + 1) : NULL;
		if (gr == NULL) {
			*why = "no such group";
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

/* Parse S for key K into the field. Replaces (and frees) an older value. */
static int
set_value(struct cm_config *cfg, const struct cfg_key *k, const char *s,
	  const struct where *w)
{
	void *field = (char *)cfg + k->offset;
	const char *why = NULL;
	long long num;
	char *copy, **list;
	char *end;
	unsigned uid, gid;
	int i;

	switch (k->type) {
	case T_SOCKET:
		if (valid_socket(s, &why) < 0)
			goto invalid;
		goto string;
	case T_USER:
		if (*s && cfg_lookup_user(s, &uid, &gid, &why) < 0)
			goto invalid;
		goto string;
	case T_PATH:
		if (*s && s[0] != '/') {
			why = "must be an absolute path";
			goto invalid;
		}
		/* FALLTHROUGH */
	case T_STRING:
	string:
		copy = strdup(s);
		if (copy == NULL)
			goto nomem;
		free(*(char **)field);
		*(char **)field = copy;
		return 0;
	case T_BOOL:
		if (parse_bool(s, &i) < 0) {
			why = "expected yes or no";
			goto invalid;
		}
		*(int *)field = i;
		return 0;
	case T_INT:
		if (parse_number(w, k, s, 0, &num) < 0)
			return -1;
		*(long *)field = (long)num;
		return 0;
	case T_SIZE:
		if (parse_number(w, k, s, 1, &num) < 0)
			return -1;
		*(size_t *)field = (size_t)num;
		return 0;
	case T_ENUM:
		return parse_enum(w, k, s, (int *)field);
	case T_LIST:
		if (parse_list(s, &list) < 0)
			goto nomem;
		list_free(*(char ***)field);
		*(char ***)field = list;
		return 0;
	case T_MODE:
		errno = 0;
		num = strtol(s, &end, 8);
		if (end == s || *end || errno || num < 0 || num > 0777) {
			why = "expected an octal mode from 000 to 777";
			goto invalid;
		}
		*(long *)field = (long)num;
		return 0;
	case T_FACILITY:
		i = lookup_word(facilities, s);
		if (i < 0) {
			why = "expected mail, daemon, user or local0 to local7";
			goto invalid;
		}
		*(int *)field = facility_values[i];
		return 0;
	case T_LEVEL:
		i = lookup_word(levels, s);
		if (i < 0) {
			why = "expected error, warning, notice, info or debug";
			goto invalid;
		}
		*(int *)field = level_values[i];
		return 0;
	}
	why = "internal error: unknown key type";
invalid:
	add_error(w, "%s: \"%s\": %s", k->name, s, why);
	return -1;
nomem:
	add_error(w, "%s: out of memory", k->name);
	return -1;
}

static const struct cfg_key *
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcasecmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

int
cfg_set(struct cm_config *cfg, const char *key, const char *value,
	const char *file, int line, struct cfg_error **errors)
{
	struct where w = { file, line, errors };
	const struct cfg_key *k = find_key(key);

	if (k == NULL) {
		add_error(&w, "unknown key \"%s\"", key);
		return -1;
	}
	return set_value(cfg, k, value, &w);
}

static void
free_values(struct cm_config *cfg)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		void *field = (char *)cfg + keys[i].offset;

		switch (keys[i].type) {
		case T_STRING: case T_PATH: case T_SOCKET: case T_USER:
			free(*(char **)field);
			break;
		case T_LIST:
			list_free(*(char ***)field);
			break;
		default:
			break;
		}
	}
	free(cfg->file);
}

void
cfg_free(struct cm_config *cfg)
{
	if (cfg == NULL)
		return;
	free_values(cfg);
	free(cfg);
}

struct cm_config *
cfg_defaults(void)
{
	struct cfg_error *errors = NULL;
	struct cm_config *cfg = calloc(1, sizeof *cfg);
	size_t i;

	if (cfg == NULL)
		return NULL;
	for (i = 0; i < NKEYS; i++) {
		struct where w = { "(defaults)", 0, &errors };
		set_value(cfg, &keys[i], keys[i].def, &w);
	}
	if (errors) {
		/* A default that fails its own validator is a programming error
		 * (or a UserID default naming a user absent here). */
		cfg_errors_print(errors, stderr);
		cfg_errors_free(errors);
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

/* Trim blanks at both ends in place; returns the start. */
static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_file(struct cm_config *cfg, const char *file, int depth,
		     const struct where *from, struct cfg_error **errors);

static void
include_file(struct cm_config *cfg, const char *value, int depth,
	     const struct where *w)
{
	char path[PATH_MAX];
	const char *slash = strrchr(w->file, '/');

	if (*value == '\0') {
		add_error(w, "Include: missing file name");
		return;
	}
	if (value[0] != '/' && slash)
		snprintf(path, sizeof path, "%.*s/%s", (int)(slash - w->file), w->file, value);
	else
		snprintf(path, sizeof path, "%s", value);
	if (depth >= MAX_INCLUDE_DEPTH) {
		add_error(w, "Include: nested more than %d levels deep (a loop?)",
			  MAX_INCLUDE_DEPTH);
		return;
	}
	load_file(cfg, path, depth + 1, w, w->errors);
}

static void
parse_line(struct cm_config *cfg, char *line, int depth, const struct where *w)
{
	char *key, *value;
	size_t klen;

	key = trim(line);
	if (*key == '\0' || *key == '#')
		return;
	klen = strcspn(key, " \t");
	value = key + klen;
	if (*value)
		*value++ = '\0';
	value = trim(value);
	if (strcasecmp(key, "Include") == 0) {
		include_file(cfg, value, depth, w);
		return;
	}
	if (find_key(key) == NULL) {
		add_error(w, "unknown key \"%s\"", key);
		return;
	}
	cfg_set(cfg, key, value, w->file, w->line, w->errors);
}

static int
load_file(struct cm_config *cfg, const char *file, int depth,
	  const struct where *from, struct cfg_error **errors)
{
	struct where w = { file, 0, errors };
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;

	fp = fopen(file, "r");
	if (fp == NULL) {
		if (from)
			add_error(from, "Include %s: %s", file, strerror(errno));
		else
			add_error(&w, "cannot open: %s", strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, fp)) != -1) {
		w.line++;
		if (len > MAX_LINE) {
			add_error(&w, "line longer than %d bytes", MAX_LINE);
			continue;
		}
		/* getline() reports the true length, so an embedded NUL shows. */
		if (strlen(line) != (size_t)len) {
			add_error(&w, "NUL byte in line");
			continue;
		}
		parse_line(cfg, line, depth, &w);
	}
	free(line);
	if (ferror(fp))
		add_error(&w, "read error: %s", strerror(errno));
	fclose(fp);
	return 0;
}

struct cm_config *
cfg_load(const char *file, struct cfg_error **errors)
{
	struct cm_config *cfg;

	*errors = NULL;
	cfg = cfg_defaults();
	if (cfg == NULL) {
		struct where w = { file, 0, errors };
		add_error(&w, "cannot set up the defaults");
		return NULL;
	}
	load_file(cfg, file, 0, NULL, errors);
	if (*errors) {
		cfg_free(cfg);
		return NULL;
	}
	cfg->file = strdup(file);
	if (cfg->file == NULL) {
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

void
cfg_errors_free(struct cfg_error *e)
{
	while (e) {
		struct cfg_error *next = e->next;
		free(e->text);
		free(e);
		e = next;
	}
}

int
cfg_errors_print(const struct cfg_error *e, void *stream)
{
	int n = 0;

	for (; e; e = e->next, n++)
		fprintf((FILE *)stream, "%s\n", e->text);
	return n;
}

void
cfg_print_keys(void *stream)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		fprintf((FILE *)stream, "%-24s %-10s %s\n", keys[i].name,
			*keys[i].def ? keys[i].def : "(empty)", keys[i].doc);
}

int
cfg_list_contains(char *const *list, const char *s)
{
	if (list == NULL)
		return 0;
	for (; *list; list++)
		if (strcasecmp(*list, s) == 0)
			return 1;
	return 0;
}

size_t
cfg_list_len(char *const *list)
{
	size_t n = 0;

	if (list)
		while (list[n])
			n++;
	return n;
}
