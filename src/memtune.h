/* memtune.h - process-wide allocator settings for end-of-message work. */
#ifndef CM_MEMTUNE_H
#define CM_MEMTUNE_H

/* Keep freed message buffers in the process between messages (glibc). Call
 * once, before any thread starts. */
void memtune_init(void);

#endif
