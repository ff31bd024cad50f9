/* PostgreSQL side of the reminder outbox (see scim_store_outbox.h). Every
 * statement is a single autocommit statement: the UNIQUE constraint and row
 * locks make concurrent runs on several servers safe without transactions
 * held across a delivery. */

#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "scim_store_outbox.h"

/* Why a pending row must not go out, or NULL; o is the outbox row, k its
 * token and a its administrator (both LEFT JOINed). */
#define SKIP_REASON                                                         \
    "CASE "                                                                 \
    "WHEN k.id IS NULL OR k.deleted_at IS NOT NULL "                        \
    "THEN 'token deleted' "                                                 \
    "WHEN k.expires_at <= now() THEN 'token expired' "                      \
    "WHEN a.id IS NULL OR a.role <> 'customer' "                            \
    "OR a.tenant_id IS DISTINCT FROM o.tenant_id "                          \
    "THEN 'recipient is no longer a Customer Administrator of the tenant' " \
    "WHEN EXISTS (SELECT 1 FROM reminder_outbox n "                         \
    "WHERE n.token_id = o.token_id "                                        \
    "AND n.administrator_id = o.administrator_id "                          \
    "AND n.threshold_days < o.threshold_days) "                             \
    "THEN 'superseded by a nearer threshold' "                              \
    "END"

static int to_int(const char *v)
{
    return v ? atoi(v) : 0;
}

/* '{30,14,7}' for a %s::int[] parameter. */
static const char *int_array(apr_pool_t *p, const apr_array_header_t *days)
{
    apr_array_header_t *parts = apr_array_make(p, days->nelts, sizeof(char *));
    int i;

    for (i = 0; i < days->nelts; i++) {
        APR_ARRAY_PUSH(parts,
                       const char *) = apr_itoa(p, APR_ARRAY_IDX(days, i, int));
    }
    return apr_pstrcat(p, "{", apr_array_pstrcat(p, parts, ','), "}", NULL);
}

/* Seconds, for make_interval(secs => %s::double precision). */
static const char *seconds(apr_pool_t *p, apr_interval_time_t t)
{
    return apr_psprintf(p, "%.3f", (double)t / APR_USEC_PER_SEC);
}

apr_status_t scim_store_outbox_enqueue(scim_db_t *db, apr_pool_t *p,
                                       const apr_array_header_t *days,
                                       int *queued, int *skipped)
{
    scim_rows_t *rows;
    apr_status_t rv;

    if (queued) {
        *queued = 0;
    }
    if (skipped) {
        *skipped = 0;
    }
    if (!days || days->nelts == 0) {
        rv = APR_SUCCESS;
        goto leave;
    }
    /* Rows are inserted in one order (token, threshold, administrator) on
     * every server, so concurrent runs wait on each other instead of
     * deadlocking; the loser of a race inserts nothing. A day is 24 hours,
     * whatever the session's time zone. The statement is idempotent (ON
     * CONFLICT DO NOTHING), so it is sent like a read: when the connection
     * a database restart broke fails it, the driver reconnects and it is
     * sent once more, instead of warning and waiting for the next run. */
    rv = scim_db_readv(db, p, &rows,
                       "WITH th AS (SELECT DISTINCT unnest(%s::int[]) AS d), "
                       "due AS (SELECT k.id AS token_id, k.tenant_id, th.d "
                       "  FROM tokens k JOIN th "
                       "  ON k.expires_at - th.d * interval '24 hours' <= now() "
                       "  WHERE k.deleted_at IS NULL AND k.expires_at > now()), "
                       "nearest AS (SELECT token_id, min(d) AS d FROM due "
                       "  GROUP BY token_id), "
                       "ins AS (INSERT INTO reminder_outbox (tenant_id, token_id, "
                       "  threshold_days, administrator_id, recipient, status, last_error) "
                       "  SELECT due.tenant_id, due.token_id, due.d, a.id, a.email, "
                       "  CASE WHEN due.d = n.d THEN 'pending' ELSE 'skipped' END, "
                       "  CASE WHEN due.d = n.d THEN NULL "
                       "  ELSE 'superseded by a nearer threshold' END "
                       "  FROM due JOIN nearest n ON n.token_id = due.token_id "
                       "  JOIN administrators a ON a.tenant_id = due.tenant_id "
                       "  AND a.role = 'customer' "
                       "  ORDER BY due.token_id, due.d, a.id "
                       "  ON CONFLICT (token_id, threshold_days, administrator_id) "
                       "  DO NOTHING RETURNING status) "
                       "SELECT count(*) FILTER (WHERE status = 'pending'), "
                       "count(*) FILTER (WHERE status = 'skipped') FROM ins",
                       1, int_array(p, days));
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    if (queued) {
        *queued = to_int(scim_rows_get(rows, 0, 0));
    }
    if (skipped) {
        *skipped = to_int(scim_rows_get(rows, 0, 1));
    }
leave:
    return rv;
}

apr_status_t scim_store_outbox_skip_stale(scim_db_t *db, apr_pool_t *p, int *n)
{
    int affected = 0;
    apr_status_t rv;

    /* A leased row is being delivered by someone (or waits for its retry):
     * it is left to the claim, which checks the same conditions. The
     * conditions on o are repeated in the UPDATE so that they are checked
     * again on a row that changed meanwhile. */
    rv = scim_db_execv(db, p, &affected,
                       "WITH stale AS (SELECT o.id, " SKIP_REASON " AS reason "
                       "  FROM reminder_outbox o "
                       "  LEFT JOIN tokens k ON k.id = o.token_id "
                       "  LEFT JOIN administrators a ON a.id = o.administrator_id "
                       "  WHERE o.status = 'pending' "
                       "  AND (o.lease_until IS NULL OR o.lease_until <= now())) "
                       "UPDATE reminder_outbox o SET status = 'skipped', "
                       "lease_until = NULL, last_error = s.reason "
                       "FROM stale s WHERE o.id = s.id AND s.reason IS NOT NULL "
                       "AND o.status = 'pending' "
                       "AND (o.lease_until IS NULL OR o.lease_until <= now())",
                       0);
    if (n) {
        *n = affected;
    }
    return rv;
}

apr_status_t scim_store_outbox_claim(scim_db_t *db, apr_pool_t *p,
                                     apr_interval_time_t lease,
                                     scim_outbox_item_t **item)
{
    scim_outbox_item_t *it;
    scim_rows_t *rows;
    apr_status_t rv;

    *item = NULL;
    /* SKIP LOCKED: a row another worker is claiming right now is passed
     * over; once claimed, its lease keeps everybody else away. Everything
     * the message needs is read in the same statement, together with the
     * checks that may still stop the delivery. */
    rv = scim_db_selectv(db, p, &rows,
                         "WITH c AS (UPDATE reminder_outbox "
                         "  SET lease_until = now() + make_interval(secs => "
                         "  %s::double precision), attempts = attempts + 1 "
                         "  WHERE id IN (SELECT id FROM reminder_outbox "
                         "    WHERE status = 'pending' "
                         "    AND (lease_until IS NULL OR lease_until <= now()) "
                         "    ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
                         "  RETURNING *) "
                         "SELECT o.id, o.attempts, o.tenant_id, o.token_id, o.threshold_days, "
                         "a.email, t.slug, t.name, i.type, i.name, ac.user_name, "
                         "to_char(k.expires_at AT TIME ZONE 'UTC', "
                         "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                         "greatest(1, ceil(extract(epoch FROM k.expires_at - now()) "
                         "/ 86400))::int, " SKIP_REASON " "
                         "FROM c o "
                         "JOIN tenants t ON t.id = o.tenant_id "
                         "LEFT JOIN tokens k ON k.id = o.token_id "
                         "AND k.tenant_id = o.tenant_id "
                         "LEFT JOIN accounts ac ON ac.id = k.account_id "
                         "AND ac.tenant_id = o.tenant_id "
                         "LEFT JOIN identity_providers i ON i.id = ac.idp_id "
                         "AND i.tenant_id = o.tenant_id "
                         "LEFT JOIN administrators a ON a.id = o.administrator_id",
                         1, seconds(p, lease));
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    if (rows->nrows == 0) {
        rv = APR_ENOENT;
        goto leave;
    }
    it = apr_pcalloc(p, sizeof(*it));
    it->id = scim_rows_get(rows, 0, 0);
    it->attempts = to_int(scim_rows_get(rows, 0, 1));
    it->tenant_id = scim_rows_get(rows, 0, 2);
    it->token_id = scim_rows_get(rows, 0, 3);
    it->threshold_days = to_int(scim_rows_get(rows, 0, 4));
    it->recipient = scim_rows_get(rows, 0, 5);
    it->tenant_slug = scim_rows_get(rows, 0, 6);
    it->tenant_name = scim_rows_get(rows, 0, 7);
    it->idp_type = scim_rows_get(rows, 0, 8);
    it->idp_name = scim_rows_get(rows, 0, 9);
    it->user_name = scim_rows_get(rows, 0, 10);
    it->expires_at = scim_rows_get(rows, 0, 11);
    it->days_left = to_int(scim_rows_get(rows, 0, 12));
    it->skip_reason = scim_rows_get(rows, 0, 13);
    if (!it->skip_reason && (!it->recipient || !it->idp_type)) {
        it->skip_reason = "identity provider or recipient is gone";
    }
    *item = it;
leave:
    return rv;
}

/* The claim is still ours: pending, same attempt. */
#define HELD "id = %s::uuid AND status = 'pending' AND attempts = %s::int"

apr_status_t scim_store_outbox_sent(scim_db_t *db, apr_pool_t *p,
                                    const scim_outbox_item_t *item)
{
    int n = 0;
    apr_status_t rv;

    rv = scim_db_execv(db, p, &n,
                       "UPDATE reminder_outbox SET status = 'sent', "
                       "sent_at = now(), lease_until = NULL, "
                       "last_error = NULL, recipient = %s "
                       "WHERE " HELD,
                       3, item->recipient, item->id, apr_itoa(p, item->attempts));
    if (rv == APR_SUCCESS && n == 0) {
        db->error = "the reminder's claim was lost";
        rv = APR_ENOENT;
    }
    return rv;
}

apr_status_t scim_store_outbox_skip(scim_db_t *db, apr_pool_t *p,
                                    const scim_outbox_item_t *item,
                                    const char *reason)
{
    int n = 0;
    apr_status_t rv;

    rv = scim_db_execv(db, p, &n,
                       "UPDATE reminder_outbox SET status = 'skipped', "
                       "lease_until = NULL, last_error = %s "
                       "WHERE " HELD,
                       3, reason, item->id, apr_itoa(p, item->attempts));
    if (rv == APR_SUCCESS && n == 0) {
        db->error = "the reminder's claim was lost";
        rv = APR_ENOENT;
    }
    return rv;
}

apr_status_t scim_store_outbox_failed(scim_db_t *db, apr_pool_t *p,
                                      const scim_outbox_item_t *item,
                                      int max_attempts,
                                      apr_interval_time_t retry_in,
                                      const char *error, int *gave_up)
{
    scim_rows_t *rows;
    const char *max = apr_itoa(p, max_attempts), *status;
    apr_status_t rv;

    *gave_up = 0;
    rv = scim_db_selectv(db, p, &rows,
                         "UPDATE reminder_outbox SET "
                         "status = CASE WHEN attempts >= %s::int THEN 'failed' "
                         "ELSE 'pending' END, "
                         "lease_until = CASE WHEN attempts >= %s::int THEN NULL "
                         "ELSE now() + make_interval(secs => %s::double precision) END, "
                         "last_error = %s "
                         "WHERE " HELD " RETURNING status",
                         6, max, max, seconds(p, retry_in), error, item->id,
                         apr_itoa(p, item->attempts));
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    if (rows->nrows == 0) {
        db->error = "the reminder's claim was lost";
        rv = APR_ENOENT;
        goto leave;
    }
    status = scim_rows_get(rows, 0, 0);
    *gave_up = status && !strcmp(status, "failed");
leave:
    return rv;
}
