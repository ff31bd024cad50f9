#ifndef SCIM_STORE_OUTBOX_H
#define SCIM_STORE_OUTBOX_H

/* The reminder outbox (SPEC 3.6): one row per (token, threshold, Customer
 * Administrator) under the table's UNIQUE constraint, claimed with a lease
 * so that every row is delivered by exactly one worker, whichever httpd
 * server or child runs the job. All job state lives in these rows.
 *
 * A row is 'pending' until it is 'sent', 'skipped' (an older threshold after
 * a nearer one, a deleted or expired token, a recipient who is no longer a
 * Customer Administrator of the tenant) or 'failed' (delivery given up).
 * lease_until of a pending row is the time before which nobody claims it:
 * the lease of the worker delivering it, or the backoff after a failure.
 *
 * Return values as in scim_store.h; APR_ENOENT when there is nothing to
 * claim, or when a row is no longer held by the caller's claim. */

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "scim_db.h"

/* A claimed row with everything its message needs, read at claim time. */
typedef struct {
    const char *id;
    int attempts; /* including this one: the claim's fence */
    const char *tenant_id;
    const char *token_id;
    int threshold_days;
    const char *recipient; /* the administrator's address now */
    const char *tenant_slug;
    const char *tenant_name;
    const char *idp_type;
    const char *idp_name;
    const char *user_name; /* the provisioning account's username */
    const char *expires_at; /* ISO 8601 UTC */
    int days_left; /* whole days left, rounded up */
    /* Why the row must not be delivered any more, or NULL. */
    const char *skip_reason;
} scim_outbox_item_t;

/* Insert the rows of every live token for every threshold of days (ints,
 * any order) that it has crossed (expires_at - d days <= now), one per
 * Customer Administrator of the token's tenant. Only the nearest crossed
 * threshold of a token is inserted 'pending'; older ones go in 'skipped'.
 * Existing rows are left alone (ON CONFLICT DO NOTHING). *queued and
 * *skipped (may be NULL) count the new rows. */
apr_status_t scim_store_outbox_enqueue(scim_db_t *db, apr_pool_t *p,
                                       const apr_array_header_t *days,
                                       int *queued, int *skipped);

/* Mark skipped every pending row that is not leased and should no longer
 * go out: a nearer threshold of the same token and recipient exists, the
 * token is deleted or expired, or the recipient is no longer a Customer
 * Administrator of the tenant. *n (may be NULL) counts them. */
apr_status_t scim_store_outbox_skip_stale(scim_db_t *db, apr_pool_t *p, int *n);

/* Claim the oldest pending row that nobody holds (FOR UPDATE SKIP LOCKED),
 * leasing it for lease and counting the attempt. APR_ENOENT if none. */
apr_status_t scim_store_outbox_claim(scim_db_t *db, apr_pool_t *p,
                                     apr_interval_time_t lease,
                                     scim_outbox_item_t **item);

/* The claimed row was delivered. APR_ENOENT if the claim was lost. */
apr_status_t scim_store_outbox_sent(scim_db_t *db, apr_pool_t *p,
                                    const scim_outbox_item_t *item);

/* The claimed row will not be delivered (reason goes to last_error). */
apr_status_t scim_store_outbox_skip(scim_db_t *db, apr_pool_t *p,
                                    const scim_outbox_item_t *item,
                                    const char *reason);

/* The delivery failed with error: the row is retried after retry_in, or
 * marked failed when it has had max_attempts. *gave_up is set to 1 only for
 * the one caller that marked it failed. */
apr_status_t scim_store_outbox_failed(scim_db_t *db, apr_pool_t *p,
                                      const scim_outbox_item_t *item,
                                      int max_attempts,
                                      apr_interval_time_t retry_in,
                                      const char *error, int *gave_up);

#endif
