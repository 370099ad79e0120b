/* daemon.h - process life cycle: socket, privileges, pid file, serving, stopping. */
#ifndef CM_DAEMON_H
#define CM_DAEMON_H

#include "config.h"

/* Open the socket, drop privileges, serve until SIGTERM/SIGINT/SIGHUP, let
 * in-flight messages finish. Returns the process exit status. */
int daemon_run(const struct cm_config *cfg, int foreground);

/* The filesystem path of a unix/local milter socket spec, or NULL for inet. */
const char *daemon_socket_path(const char *spec);

#endif
