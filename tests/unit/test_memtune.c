/* test_memtune.c - memtune_init() must really change glibc's allocator
 * settings: buffers of a few hundred KB (messages' bodies) then come from
 * the heap, not from an mmap() each, and freeing a few MB at the top of the
 * heap does not give them back to the kernel. Both are seen through
 * mallinfo2(). (memtune_init() once compiled to nothing, unnoticed: its
 * glibc test came before any libc header.) */
#include "build-config.h"
#include "tap.h"
#include "memtune.h"

#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* Under AddressSanitizer malloc is its own, and mallinfo2() says nothing. */
#if defined(__SANITIZE_ADDRESS__)
#define CM_OWN_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CM_OWN_MALLOC 1
#endif
#endif

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33)) && \
    !defined(CM_OWN_MALLOC)
START_TEST(settings_take_effect)
{
	size_t before = mallinfo2().hblks, i;
	char *p[3];

	memtune_init();
	/* glibc's default maps anything from 128 KB up on its own */
	for (i = 0; i < 3; i++) {
		p[i] = malloc(900 * 1024);
		ck_assert_ptr_nonnull(p[i]);
		memset(p[i], 1, 900 * 1024);
	}
	ck_assert_uint_eq(mallinfo2().hblks, before);
	/* 2.7 MB freed at the top of the heap stay with the process (the
	 * default gives back all but 128 KB) */
	for (i = 3; i > 0; i--)
		free(p[i - 1]);
	ck_assert_uint_ge(mallinfo2().keepcost, 3 * 900 * 1024);
}
END_TEST
#else
START_TEST(settings_take_effect)
{
	memtune_init();	/* not glibc's malloc: nothing to tune, nothing to check */
}
END_TEST
#endif

int
main(void)
{
	Suite *s = suite_create("memtune");
	TCase *tc = tcase_create("memtune");

	tcase_add_test(tc, settings_take_effect);
	suite_add_tcase(s, tc);
	return cm_run_suite(s);
}
