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
#include "milter.h"

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
"  -t FILE    test mode: process one message as the milter would (reserved)\n"
"  -V         print the version and exit\n"
"  -h         this help; \"-h keys\" lists every configuration key\n");
}

struct options {
	const char *config;
	const char *socket;
	int foreground;
	int check_only;
};

/* Returns 0 to go on, or an exit status + 1000 to stop with that status. */
static int
parse_args(int argc, char **argv, struct options *o)
{
	int c;

	o->config = DEFAULT_CONFIG;
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
		case 't': case 'r': case 'x':
			fprintf(stderr, "consent-milter: -%c: test mode is not built yet\n", c);
			return 1002;
		default:
			usage(stderr);
			return 1002;
		}
	}
	if (optind != argc) {
		usage(stderr);
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
		return 1;
	if (o.check_only) {
		printf("%s: configuration OK\n", o.config);
		cfg_free(cfg);
		return 0;
	}
	cm_log_open("consent-milter", cfg->syslog_facility, o.foreground);
	cm_log_set_level(cfg->log_level);
	r = daemon_run(cfg, o.foreground);
	cfg_free(cfg);
	return r;
}
