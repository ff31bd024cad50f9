#ifndef UNIT_SUITES_H
#define UNIT_SUITES_H

/* One libcheck suite per core module; unit_main.c runs them all in TAP
 * mode. Add a suite here and to the list in unit_main.c. */

#include <check.h>

Suite *scim_core_suite(void);
Suite *scim_util_suite(void);
Suite *scim_json_suite(void);
Suite *scim_jwt_suite(void);
Suite *scim_mail_suite(void);
Suite *scim_filter_suite(void);
Suite *scim_schema_suite(void);
Suite *scim_patch_suite(void);
Suite *scim_http_suite(void);

#endif /* UNIT_SUITES_H */
