/* consent-milter.c - the daemon: command line, start-up order, signals, smfi_main.
 *
 * Start-up follows the order a postmaster expects from a mail daemon:
 * parse and check the whole configuration first (so a typo never takes mail
 * down half-way), open the milter socket while still root, hand the socket
 * to the service user, drop privileges, and only then serve. */
#include "build-config.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "message.h"
#include "memtune.h"
#include "mime.h"
#include "milter.h"
#include "relay.h"
#include "rules.h"
#include "testmode.h"

#include <errno.h>
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CONFIG SYSCONFDIR "/consent-milter.conf"

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: consent-milter [-fn] [-c FILE] [-p SOCKET]\n"
"       consent-milter -t MESSAGE [-r RCPT]... [-x none|open|click|all] [-c FILE]\n"
"       consent-milter -V | -h [keys]\n"
"\n"
"  -c FILE    configuration file (default " DEFAULT_CONFIG ")\n"
"  -p SOCKET  listen here instead of the configured Socket\n"
"  -f         stay in the foreground; log to stderr as well as syslog\n"
"  -n         check the configuration and exit (0 ok, 1 with every error)\n"
"  -t FILE    test mode: run one message (\"-\": stdin) through the end-of-message\n"
"             path and write the result to stdout, the log line to stderr\n"
"  -r RCPT    test mode: an envelope recipient (repeat; at least one)\n"
"  -x CONSENT test mode: none, open, click or all for every recipient instead\n"
"             of asking the consent store\n"
"  -V         print the version and exit\n"
"  -h         this help; \"-h keys\" lists every configuration key\n");
}

#define MAX_TEST_RCPTS 1000

struct options {
	const char *config;
	const char *socket;
	int foreground;
	int check_only;
	const char *test_file;		/* -t */
	char *rcpts[MAX_TEST_RCPTS];	/* -r */
	size_t nrcpt;
	int fixed;			/* -x: consent bits, or -1 */
};

static int
parse_consent(const char *s)
{
	static const char *const names[] = { "none", "open", "click", "all" };
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* Returns 0 to go on, or an exit status + 1000 to stop with that status. */
static int
parse_args(int argc, char **argv, struct options *o)
{
	int c;

	o->config = DEFAULT_CONFIG;
	o->fixed = -1;
	while ((c = getopt(argc, argv, "c:p:fnt:r:x:Vh")) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'p': o->socket = optarg; break;
		case 'f': o->foreground = 1; break;
		case 'n': o->check_only = 1; break;
		case 'V':
			printf("%s\n", PACKAGE_STRING);
			return 1000;
		case 'h':
			if (optind < argc && strcmp(argv[optind], "keys") == 0)
				cfg_print_keys(stdout);
			else
				usage(stdout);
			return 1000;
		case 't': o->test_file = optarg; break;
		case 'r':
			if (o->nrcpt == MAX_TEST_RCPTS) {
				fprintf(stderr, "consent-milter: too many -r\n");
				return 1002;
			}
			o->rcpts[o->nrcpt++] = optarg;
			break;
		case 'x':
			o->fixed = parse_consent(optarg);
			if (o->fixed < 0) {
				fprintf(stderr, "consent-milter: -x: expected none, open, click or all\n");
				return 1002;
			}
			break;
		default:
			usage(stderr);
			return 1002;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1002;
	}
	if ((o->nrcpt || o->fixed >= 0) && o->test_file == NULL) {
		fprintf(stderr, "consent-milter: -r and -x need -t\n");
		return 1002;
	}
	if (o->test_file && o->nrcpt == 0) {
		fprintf(stderr, "consent-milter: -t needs at least one -r RCPT\n");
		return 1002;
	}
	return 0;
}

static struct cm_config *
load_config(const struct options *o)
{
	struct cfg_error *errors = NULL;
	struct cm_config *cfg;
	struct cfg_error *e;

	cfg = cfg_load(o->config, &errors);
	if (cfg && o->socket)
		cfg_set(cfg, "Socket", o->socket, "(command line -p)", 0, &errors);
	if (errors) {
		cfg_errors_print(errors, stderr);
		/* The foreground log may not be set up yet; syslog gets the first
		 * error too, so a failed start under systemd is explained there. */
		for (e = errors; e; e = e->next)
			syslog(LOG_ERR, "%s", e->text);
		cfg_errors_free(errors);
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

/* -n goes beyond syntax: the files the daemon loads at start-up must load
 * (address key, tracker rules), the Redis server list must parse, relay
 * vendors must be known. A file that does not exist yet is a warning, not an
 * error, so that a fresh installation can be checked before its key exists;
 * the daemon itself refuses to start without it. */
static int
check_missing(const char *path, const char *what, const char *hint)
{
	if (access(path, F_OK) == 0 || errno != ENOENT)
		return 0;
	fprintf(stderr, "%s: warning: %s does not exist yet%s; the milter will not "
		"start without it\n", path, what, hint);
	return 1;
}

static int
check_files(const struct cm_config *cfg)
{
	struct cfg_error *errors = NULL;
	struct address_key key;
	struct rules *rules;
	struct store *st;
	char err[512];
	int bad = 0;

	cm_log_stderr_only(1);
	if (relay_check_config(cfg, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		bad = 1;
	}
	if (!check_missing(cfg->address_key_file, "AddressKeyFile",
			   " (create it with: consentctl keygen FILE)")) {
		if (address_key_load(cfg->address_key_file, &key, err, sizeof err) < 0) {
			fprintf(stderr, "%s\n", err);
			bad = 1;
		}
		address_key_wipe(&key);
	}
	if (!check_missing(cfg->tracker_rules, "TrackerRules", "")) {
		rules = rules_from_config(cfg, &errors);
		if (rules == NULL) {
			cfg_errors_print(errors, stderr);
			bad = 1;
		}
		cfg_errors_free(errors);
		rules_free(rules);
	}
	st = store_open(cfg, err, sizeof err);
	if (st == NULL) {
		fprintf(stderr, "%s\n", err);
		bad = 1;
	} else {
		store_close(st);
	}
	return bad;
}

int
main(int argc, char **argv)
{
	struct options o = { 0 };
	struct cm_config *cfg;
	int r;

	r = parse_args(argc, argv, &o);
	if (r)
		return r - 1000;
	cfg = load_config(&o);
	if (cfg == NULL)
		return o.test_file ? 2 : 1;
	/* GMime's type system and the allocator are set up once, before any
	 * thread. */
	mime_global_init();
	memtune_init();
	if (o.test_file) {
		r = testmode_run(cfg, o.test_file, o.rcpts, o.nrcpt, o.fixed);
		cfg_free(cfg);
		return r;
	}
	if (o.check_only) {
		r = check_files(cfg);
		if (r == 0)
			printf("%s: configuration OK\n", o.config);
		cfg_free(cfg);
		return r;
	}
	cm_log_open("consent-milter", cfg->syslog_facility, o.foreground);
	cm_log_set_level(cfg->log_level);
	r = daemon_run(cfg, o.foreground);
	mime_global_shutdown();
	cfg_free(cfg);
	return r;
}
