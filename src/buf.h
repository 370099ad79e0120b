/* buf.h - a growable byte buffer. All functions return 0 or -1 (out of memory). */
#ifndef CM_BUF_H
#define CM_BUF_H

#include <stddef.h>

struct buf {
	char *data;	/* NUL-terminated for convenience; may contain NULs */
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);	/* len = 0, keeps the memory */
void buf_free(struct buf *b);

#endif
