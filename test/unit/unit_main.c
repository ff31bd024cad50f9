/* Runs every unit suite of the core and prints TAP on stdout. */

#include <stdlib.h>

#include <apr_general.h>

#include "unit_suites.h"

typedef Suite *(*suite_fn)(void);

static const suite_fn suites[] = { scim_core_suite, NULL };

int main(void)
{
    SRunner *sr;
    int i, failed;

    apr_initialize();
    atexit(apr_terminate);
    sr = srunner_create(suites[0]());
    for (i = 1; suites[i]; i++) {
        srunner_add_suite(sr, suites[i]());
    }
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
