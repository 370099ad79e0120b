/* config.h - the parsed configuration file.
 *
 * Keys are declared once, in config_keys.h. The parser is table-driven:
 * every value, including each default, goes through the same type parser and
 * validator, so a default can never be something a user could not write. */
#ifndef CM_CONFIG_H
#define CM_CONFIG_H

#include <stdarg.h>
#include <stddef.h>

#define CFG_CTYPE_STRING	char *
#define CFG_CTYPE_PATH		char *
#define CFG_CTYPE_BOOL		int
#define CFG_CTYPE_INT		long
#define CFG_CTYPE_SIZE		size_t
#define CFG_CTYPE_ENUM		int
#define CFG_CTYPE_LIST		char **
#define CFG_CTYPE_SOCKET	char *
#define CFG_CTYPE_USER		char *
#define CFG_CTYPE_MODE		long
#define CFG_CTYPE_FACILITY	int
#define CFG_CTYPE_LEVEL		int

struct cm_config {
#define CFG_KEY(name, type, field, def, arg, doc) CFG_CTYPE_##type field;
#include "config_keys.h"
#undef CFG_KEY
	char *file;		/* the top-level file that was loaded */
};

/* One parse error, "FILE:LINE: message" (LINE 0: about the file as a whole). */
struct cfg_error {
	char *text;
	struct cfg_error *next;
};

/* Load FILE (following Include lines) into a new config filled with defaults
 * first. Returns the config, or NULL with *ERRORS listing every problem in
 * file order (each "FILE:LINE: message"). Partial results are never returned. */
struct cm_config *cfg_load(const char *file, struct cfg_error **errors);
/* A config holding only the defaults (for tests and test mode). */
struct cm_config *cfg_defaults(void);
/* Set one key from a string, as if read at FILE:LINE. 0, or -1 with an error appended. */
int cfg_set(struct cm_config *cfg, const char *key, const char *value,
	    const char *file, int line, struct cfg_error **errors);
void cfg_free(struct cm_config *cfg);
void cfg_errors_free(struct cfg_error *e);
/* Append "FILE:LINE: message" to *ERRORS (for every file format with
 * line-numbered errors: the config, the tracker rules). */
void cfg_error_add(struct cfg_error **errors, const char *file, int line,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void cfg_error_vadd(struct cfg_error **errors, const char *file, int line,
		    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
/* Print every error to the stream, one per line. Returns how many there were. */
int cfg_errors_print(const struct cfg_error *e, void *stream);
/* Write the key table (name, default, documentation) for -h keys. */
void cfg_print_keys(void *stream);

/* Split "user[:group]" and look both up (the user's primary group when
 * none is named). 0, or -1 with *WHY set. */
int cfg_lookup_user(const char *spec, unsigned *uid, unsigned *gid, const char **why);

/* Value helpers shared by modules. */
int cfg_list_contains(char *const *list, const char *s);	/* case-insensitive */
size_t cfg_list_len(char *const *list);

#endif
