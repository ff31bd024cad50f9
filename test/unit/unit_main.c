/* Runs every unit suite of the core and prints TAP on stdout. */

#include <stdio.h>
#include <stdlib.h>

#include <apr_general.h>

#include "unit_suites.h"

/* Weak references: a suite whose file is not linked into this binary (yet)
 * is reported as skipped instead of breaking the link, so the list can
 * name every suite while the build adds their files. */
#pragma weak scim_core_suite
#pragma weak scim_util_suite
#pragma weak scim_json_suite
#pragma weak scim_jwt_suite
#pragma weak scim_mail_suite
#pragma weak scim_filter_suite
#pragma weak scim_schema_suite

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
};

/* Build the runner, run all suites, exit 1 if any test failed. */
int main(void)
{
    SRunner *sr = NULL;
    size_t i;
    int failed;

    apr_initialize();
    atexit(apr_terminate);
    for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        if (!suites[i].fn) {
            printf("# %s is not linked into this binary: skipped\n",
                   suites[i].name);
            continue;
        }
        if (!sr) {
            sr = srunner_create(suites[i].fn());
        }
        else {
            srunner_add_suite(sr, suites[i].fn());
        }
    }
    if (!sr) {
        printf("1..0 # no suites linked\n");
        return 1;
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
