#include "build-config.h"
#include "tap.h"
#include "config.h"
START_TEST(defaults) { struct cm_config *c = cfg_defaults(); ck_assert_ptr_nonnull(c); cfg_free(c); } END_TEST
int main(void){ Suite *s=suite_create("config"); TCase *t=tcase_create("defaults"); tcase_add_test(t,defaults); suite_add_tcase(s,t); return cm_run_suite(s);}
