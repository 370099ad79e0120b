/* daemon.c - process life cycle of the milter.
 *
 * Order matters and is the one every careful mail daemon follows:
 *   1. open the milter socket while still root (it may live in a root-owned
 *      directory such as Postfix's chroot), with the configured umask;
 *   2. give a unix socket to the service user and group, so Postfix (a
 *      member of that group) can connect and nobody else can;
 *   3. detach (unless -f) and write the pid file;
 *   4. drop privileges for good, then verify root cannot be regained;
 *   5. serve: smfi_main() runs in its own thread while the main thread
 *      waits for SIGTERM, SIGINT or SIGHUP.
 *
 * Why the main thread takes the signals: libmilter's own signal thread would
 * set its stop flag, and every session then drops its MTA connection at the
 * next command, in the middle of a message. Linux hands a signal sent to the
 * process to the main thread first when that thread is waiting for it, so
 * libmilter never sees it. On a signal we refuse new messages (tempfail),
 * wait up to ShutdownTimeout for the messages in progress to finish, and only
 * then ask libmilter to stop. SIGHUP stops like SIGTERM: there is no reload. */
#include "build-config.h"
#include "daemon.h"
#include "log.h"
#include "milter.h"
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <libmilter/mfapi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

const char *
daemon_socket_path(const char *spec)
{
	if (spec[0] == '/')
		return spec;
	if (strncasecmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncasecmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

static int
open_socket(const struct cm_config *cfg, int have_user, unsigned uid, unsigned gid)
{
	const char *path = daemon_socket_path(cfg->socket);

	if (smfi_setconn(cfg->socket) != MI_SUCCESS) {
		cm_log(LOG_ERR, "Socket %s: not accepted by libmilter", cfg->socket);
		return -1;
	}
	/* rmsocket=true: a stale socket from a crash must not block a restart. */
	if (smfi_opensocket(1) != MI_SUCCESS) {
		cm_log(LOG_ERR, "Socket %s: cannot listen (directory missing, "
		       "permissions, or address in use?)", cfg->socket);
		return -1;
	}
	if (path && have_user && geteuid() == 0 &&
	    chown(path, (uid_t)uid, (gid_t)gid) < 0) {
		cm_log(LOG_ERR, "Socket %s: chown: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
detach(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0) {
		cm_log(LOG_ERR, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		cm_log(LOG_WARNING, "setsid: %s", strerror(errno));
	if (chdir("/") < 0)
		cm_log(LOG_WARNING, "chdir /: %s", strerror(errno));
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}

static int
write_pid_file(const char *path)
{
	FILE *fp;

	if (*path == '\0')
		return 0;
	fp = fopen(path, "w");
	if (fp == NULL) {
		cm_log(LOG_ERR, "PidFile %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) != 0) {
		cm_log(LOG_ERR, "PidFile %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
drop_privileges(const char *spec, unsigned uid, unsigned gid)
{
	char name[256];
	size_t len = strcspn(spec, ":");

	snprintf(name, sizeof name, "%.*s", (int)len, spec);
	if (initgroups(name, (gid_t)gid) < 0 && errno != EPERM) {
		cm_log(LOG_ERR, "UserID %s: initgroups: %s", spec, strerror(errno));
		return -1;
	}
	if (setgid((gid_t)gid) < 0 || setuid((uid_t)uid) < 0) {
		cm_log(LOG_ERR, "UserID %s: cannot switch user: %s", spec, strerror(errno));
		return -1;
	}
	/* Paranoia, as in Postfix: make sure the switch is irreversible. */
	if (uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		cm_log(LOG_ERR, "UserID %s: could regain root after dropping privileges", spec);
		return -1;
	}
	return 0;
}

/* Give messages that are between MAIL FROM and end of message a chance to
 * finish after the listener stopped; the MTA's milter_default_action (tempfail)
 * covers whatever is still open when the timeout runs out. */
static void
wait_for_inflight(long seconds)
{
	time_t deadline = time(NULL) + seconds;
	int n;

	while ((n = milter_inflight()) > 0 && time(NULL) < deadline) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (n > 0)
		cm_log(LOG_WARNING, "stopping with %d message(s) still in progress; "
		       "the MTA will tempfail them", n);
}

static volatile int smfi_returned;
static int smfi_status;
static pthread_t main_thread;

static void
block_stop_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void *
smfi_thread(void *arg)
{
	(void)arg;
	smfi_status = smfi_main();
	smfi_returned = 1;
	pthread_kill(main_thread, SIGTERM);	/* wake the main thread */
	return NULL;
}

/* Run libmilter until a stop signal, then drain. Returns the exit status. */
static int
serve(const struct cm_config *cfg)
{
	pthread_t t;
	sigset_t set;
	int sig = 0;

	main_thread = pthread_self();
	if (pthread_create(&t, NULL, smfi_thread, NULL) != 0) {
		cm_log(LOG_ERR, "cannot start the milter thread");
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	while (sigwait(&set, &sig) != 0)
		;
	if (!smfi_returned) {
		cm_log(LOG_INFO, "stopping on signal %d: new messages are tempfailed, "
		       "waiting up to %lds for messages in progress", sig, cfg->shutdown_timeout);
		milter_begin_stop();
		wait_for_inflight(cfg->shutdown_timeout);
		smfi_stop();
		pthread_join(t, NULL);
		/* A stop asked for is a clean stop, whatever smfi_main() says:
		 * when the signal comes before its listener runs (a stop right
		 * after start, or a loaded machine), smfi_stop() has closed the
		 * listening socket first and smfi_main() returns MI_FAILURE. */
		return 0;
	}
	cm_log(LOG_ERR, "the milter library stopped by itself");
	pthread_join(t, NULL);
	return smfi_status == MI_SUCCESS ? 0 : 1;
}

int
daemon_run(const struct cm_config *cfg, int foreground)
{
	unsigned uid = 0, gid = 0;
	const char *why = NULL;
	int have_user = cfg->user_id[0] != '\0';
	int r;

	/* Before the socket exists: a stop signal sent as soon as it appears
	 * (an init system, a test) must be held for sigwait(), not kill us. */
	block_stop_signals();
	if (have_user && cfg_lookup_user(cfg->user_id, &uid, &gid, &why) < 0) {
		cm_log(LOG_ERR, "UserID %s: %s", cfg->user_id, why);
		return 1;
	}
	if (have_user && geteuid() != 0 && geteuid() != uid) {
		cm_log(LOG_ERR, "UserID %s: must start as root to switch user", cfg->user_id);
		return 1;
	}
	if (milter_setup(cfg) < 0)
		return 1;
	umask((mode_t)cfg->umask);
	if (open_socket(cfg, have_user, uid, gid) < 0)
		return 1;
	if (!foreground && detach() < 0)
		return 1;
	if (write_pid_file(cfg->pid_file) < 0)
		return 1;
	if (have_user && geteuid() == 0 && drop_privileges(cfg->user_id, uid, gid) < 0)
		return 1;
	if (geteuid() == 0)
		cm_log(LOG_WARNING, "running as root: set UserID to a dedicated user");
	signal(SIGPIPE, SIG_IGN);
	cm_log(LOG_INFO, "%s starting, listening on %s", PACKAGE_STRING, cfg->socket);
	if (stats_start(cfg->stats_interval, cfg->stats_file) < 0)
		return 1;
	r = serve(cfg);
	stats_stop();
	milter_shutdown();
	/* Best effort: after the privilege drop the directory may not let us;
	 * the next start removes a stale socket anyway (smfi_opensocket). */
	if (daemon_socket_path(cfg->socket))
		unlink(daemon_socket_path(cfg->socket));
	if (*cfg->pid_file)
		unlink(cfg->pid_file);
	cm_log(LOG_INFO, "stopped");
	return r;
}
