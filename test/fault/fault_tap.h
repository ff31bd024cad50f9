/* TAP for the programs of test/fault (header only): ok() prints one line
 * per check, fault_tap_end() the plan, and gives the exit status. */
#ifndef FAULT_TAP_H
#define FAULT_TAP_H

#include <stdio.h>

static int n_test, n_failed;

static void ok(int cond, const char *name)
{
    n_test++;
    if (!cond) {
        n_failed++;
    }
    printf("%sok %d - %s\n", cond ? "" : "not ", n_test, name);
    fflush(stdout);
}

/* The plan; 1 when a check failed, else 0. */
static int fault_tap_end(void)
{
    printf("1..%d\n", n_test);
    return n_failed ? 1 : 0;
}

#endif /* FAULT_TAP_H */
