/* memtune.c - allocator settings for the milter's working pattern.
 *
 * Every message allocates a few buffers of its body's size (the collected
 * body, the decoded parts, the new body) and frees them at its end. With
 * glibc's defaults, buffers from 128 KB up are fresh mmap()s and the top of
 * the heap is given back to the kernel after each message, so the next one
 * pays page faults on every page it touches again: measured with
 * bench/eom.sh, tens to hundreds of faults per message and about 90 us of an
 * 80 KB newsletter's end of message. Raising both thresholds keeps the
 * memory in the process. Both must be set: setting one switches off glibc's
 * dynamic adjustment of the other. The price is bounded: an arena keeps at
 * most TRIM_KEEP bytes free, and buffers above MMAP_FROM (bodies of several
 * MB, rare and costly anyway) are still mapped and unmapped each time. */
#include "build-config.h"
#include "memtune.h"

/* Any libc header defines __GLIBC__ on glibc; tested before one was
 * included, it was never defined, and memtune_init() did nothing (see
 * test_memtune). */
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define MMAP_FROM	(1024 * 1024)		/* allocations mapped on their own */
#define TRIM_KEEP	(4 * 1024 * 1024)	/* free bytes an arena keeps */

void
memtune_init(void)
{
#ifdef __GLIBC__
	(void)mallopt(M_MMAP_THRESHOLD, MMAP_FROM);
	(void)mallopt(M_TRIM_THRESHOLD, TRIM_KEEP);
#endif
}
