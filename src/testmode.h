/* testmode.h - consent-milter -t: run one message through the end-of-message path. */
#ifndef CM_TESTMODE_H
#define CM_TESTMODE_H

#include <stddef.h>

#include "config.h"

/* FILE ("-": stdin), envelope recipients RCPTS, FIXED consent bits for every
 * recipient or -1 to ask the configured store. Returns the exit status. */
int testmode_run(const struct cm_config *cfg, const char *file, char *const *rcpts,
		 size_t nrcpt, int fixed);

#endif
