#include "build-config.h"
#include "tap.h"
int main(void){ Suite *s=suite_create("html"); return cm_run_suite(s);}
