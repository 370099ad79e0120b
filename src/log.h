/* log.h - syslog (and, in the foreground, stderr) logging for the milter and tools. */
#ifndef CM_LOG_H
#define CM_LOG_H

#include <syslog.h>

/* Open syslog with IDENT and FACILITY (LOG_MAIL, ...). With TO_STDERR every
 * line is also written to stderr (foreground mode, tools, tests). */
void cm_log_open(const char *ident, int facility, int to_stderr);
/* Lines with a priority numerically above LEVEL (LOG_INFO, ...) are dropped. */
void cm_log_set_level(int level);
int cm_log_level(void);
/* Only stderr, never syslog: for command-line tools and unit tests. */
void cm_log_stderr_only(int on);
void cm_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
