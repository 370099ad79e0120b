/* env.c - what every message shares: config, address key, engine, store. */
#include "build-config.h"
#include "message.h"

#include <string.h>

int
milter_env_open(struct milter_env *e, const struct cm_config *cfg, unsigned flags,
		char *err, size_t errlen)
{
	int want_store = (flags & ENV_STORE) != 0;

	memset(e, 0, sizeof *e);
	e->cfg = cfg;
	if (address_key_load(cfg->address_key_file, &e->key, err, errlen) == 0)
		e->have_key = 1;
	else if (!(flags & ENV_KEY_OPTIONAL))
		return -1;
	e->engine = engine_open(cfg, err, errlen);
	if (e->engine == NULL)
		return -1;
	if (want_store) {
		e->store = store_open(cfg, err, errlen);
		if (e->store == NULL) {
			engine_close(e->engine);
			return -1;
		}
	}
	return 0;
}

void
milter_env_close(struct milter_env *e)
{
	if (e->store)
		store_close(e->store);
	engine_close(e->engine);
	address_key_wipe(&e->key);
	memset(e, 0, sizeof *e);
}

