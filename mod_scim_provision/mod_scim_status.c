/* The module's counters: shared by every child (anonymous shared memory,
 * atomic increments) and shown by mod_status on server-status. */

#include <apr_atomic.h>
#include <apr_optional.h>
#include <apr_shm.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <mod_status.h>

#include "mod_scim_provision.h"

APLOG_USE_MODULE(scim_provision);

static const char *const names[MOD_SCIM_C_COUNT] = {
    "SCIMRequests",      "SCIMAuthFailures",    "SCIMTokensCreated",
    "SCIMTokensRefused", "SCIMTokensDeleted",   "SCIMDatabaseErrors",
    "SCIMRemindersSent", "SCIMRemindersFailed",
};

static volatile apr_uint32_t *counters;

void mod_scim_count(mod_scim_counter_e which)
{
    if (counters && which < MOD_SCIM_C_COUNT) {
        apr_atomic_inc32(&counters[which]);
    }
}

apr_uint64_t mod_scim_counter_value(mod_scim_counter_e which)
{
    return counters && which < MOD_SCIM_C_COUNT
        ? apr_atomic_read32(&counters[which])
        : 0;
}

static int status_hook(request_rec *r, int flags)
{
    int i;

    if (!counters) {
        return OK;
    }
    if (flags & AP_STATUS_SHORT) {
        for (i = 0; i < MOD_SCIM_C_COUNT; i++) {
            ap_rprintf(r, "%s: %u\n", names[i], apr_atomic_read32(&counters[i]));
        }
        return OK;
    }
    ap_rputs("<hr />\n<h2>mod_scim_provision</h2>\n<table>\n", r);
    for (i = 0; i < MOD_SCIM_C_COUNT; i++) {
        ap_rprintf(r, "<tr><th>%s</th><td>%u</td></tr>\n", names[i],
                   apr_atomic_read32(&counters[i]));
    }
    ap_rputs("</table>\n", r);
    return OK;
}

/* In the parent, before the children fork: they inherit the segment. It
 * also holds the per-tenant metrics (mod_scim_metrics.c) and the "last used"
 * table (mod_scim_lastused.c), each at an 8-byte aligned offset. */
int mod_scim_status_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_size_t base, msize, lsize;
    apr_shm_t *shm;
    apr_status_t rv;
    char *at;

    if (counters) {
        return OK;
    }
    base = (sizeof(apr_uint32_t) * MOD_SCIM_C_COUNT + 7) & ~(apr_size_t)7;
    msize = (mod_scim_metrics_shm_size(pconf) + 7) & ~(apr_size_t)7;
    lsize = mod_scim_lastused_shm_size(s);
    rv = apr_shm_create(&shm, base + msize + lsize, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     SCIMLOGNO(00004) "no shared memory for the counters; "
                                      "server-status will not show them");
        return OK;
    }
    at = apr_shm_baseaddr_get(shm);
    memset(at, 0, base + msize + lsize);
    counters = (volatile apr_uint32_t *)at;
    mod_scim_metrics_attach(at + base);
    mod_scim_lastused_attach(at + base + msize);
    apr_pool_cleanup_register(pconf, NULL, mod_scim_status_reset,
                              apr_pool_cleanup_null);
    /* the job that writes the "last used" table */
    mod_scim_lastused_post_config(pconf, s);
    return OK;
}

/* The segment goes with pconf on a restart; forget it. */
apr_status_t mod_scim_status_reset(void *unused)
{
    (void)unused;
    counters = NULL;
    return APR_SUCCESS;
}

void mod_scim_status_register(apr_pool_t *p)
{
    (void)p;
    APR_OPTIONAL_HOOK(ap, status_hook, status_hook, NULL, NULL, APR_HOOK_MIDDLE);
}
