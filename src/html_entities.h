/* html_entities.h - the WHATWG named character reference table (generated). */
#ifndef CM_HTML_ENTITIES_H
#define CM_HTML_ENTITIES_H

#include <stddef.h>

struct html_entity {
	const char *name;	/* without '&'; legacy names appear with and without ';' */
	unsigned char name_len;
	unsigned char utf8_len;
	char utf8[9];		/* replacement, one or two code points, UTF-8 */
};

extern const struct html_entity html_entities[];
extern const size_t html_entities_count;
extern const size_t html_entities_maxlen;

#endif
