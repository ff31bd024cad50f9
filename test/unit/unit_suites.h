#ifndef UNIT_SUITES_H
#define UNIT_SUITES_H

#include <check.h>

/* One suite per core module; unit_main.c runs them all in TAP mode. */
Suite *scim_core_suite(void);

#endif
