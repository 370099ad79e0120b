/* milter.h - the libmilter callbacks and what the daemon needs to know of them. */
#ifndef CM_MILTER_H
#define CM_MILTER_H

#include "config.h"

/* Register the callbacks with libmilter (smfi_register) for this config. */
int milter_setup(const struct cm_config *cfg);
/* Release what milter_setup() acquired, after smfi_main() returned. */
void milter_shutdown(void);
/* Messages currently between MAIL FROM and their end (for a graceful stop). */
int milter_inflight(void);
/* From now on, tempfail every new message (the daemon is stopping). */
void milter_begin_stop(void);

#endif
