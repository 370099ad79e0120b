/* log.c - one place that decides where a log line goes.
 *
 * The milter logs through syslog like every other mail daemon; in the
 * foreground (-f, systemd) the same line is mirrored to stderr so journald
 * and test harnesses see it without a syslog daemon. */
#include "build-config.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int log_level = LOG_INFO;
static int log_stderr;
static int log_syslog;

/* Under systemd, stderr is a journal stream and syslog reaches the same
 * journal: mirroring would log every line twice. JOURNAL_STREAM holds the
 * device and inode of that stream ("DEV:INO"). */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &sb) < 0)
		return 0;
	return (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

void
cm_log_open(const char *ident, int facility, int to_stderr)
{
	openlog(ident, LOG_PID | LOG_NDELAY, facility);
	log_syslog = 1;
	log_stderr = to_stderr && !stderr_is_journal();
}

void
cm_log_stderr_only(int on)
{
	log_stderr = on;
	log_syslog = 0;
}

void
cm_log_set_level(int level)
{
	log_level = level;
}

int
cm_log_level(void)
{
	return log_level;
}

static const char *
prio_name(int prio)
{
	switch (prio) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: return "fatal";
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	case LOG_INFO: return "info";
	default: return "debug";
	}
}

void
cm_log(int prio, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (prio > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (log_syslog)
		syslog(prio, "%s", line);
	if (log_stderr) {
		/* Prefix warnings and worse like Postfix does; info lines stay bare
		 * so that tests can match the syslog text exactly. */
		if (prio <= LOG_WARNING)
			fprintf(stderr, "consent-milter: %s: %s\n", prio_name(prio), line);
		else
			fprintf(stderr, "consent-milter: %s\n", line);
	}
}
