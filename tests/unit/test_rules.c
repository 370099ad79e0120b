#include "build-config.h"
#include "tap.h"
int main(void){Suite *s=suite_create("x");return cm_run_suite(s);}
