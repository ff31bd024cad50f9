/* Runs every unit suite of the core and prints TAP on stdout. */

#include <stdio.h>
#include <stdlib.h>

#include <apr_general.h>

#include "unit_suites.h"


typedef Suite *(*suite_fn)(void);

static const struct {
    const char *name;
    suite_fn fn;
} suites[] = {
    { "scim_core_suite", scim_core_suite },
    { "scim_util_suite", scim_util_suite },
    { "scim_json_suite", scim_json_suite },
    { "scim_jwt_suite", scim_jwt_suite },
    { "scim_mail_suite", scim_mail_suite },
    { "scim_filter_suite", scim_filter_suite },
    { "scim_schema_suite", scim_schema_suite },
    { "scim_patch_suite", scim_patch_suite },
    { "scim_http_suite", scim_http_suite },
};

/* Build the runner, run all suites, exit 1 if any test failed. */
int main(void)
{
    SRunner *sr;
    size_t i;
    int failed;

    apr_initialize();
    atexit(apr_terminate);
    /* Every suite is linked in: a missing one fails the build, not the
     * count. */
    sr = srunner_create(suites[0].fn());
    for (i = 1; i < sizeof(suites) / sizeof(suites[0]); i++) {
        srunner_add_suite(sr, suites[i].fn());
    }
    fflush(stdout);
    srunner_set_tap(sr, "-");
    /* CK_SILENT: the TAP stream is the report; CK_NORMAL would add a
     * non-TAP summary line to stdout. */
    srunner_run_all(sr, CK_SILENT);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
