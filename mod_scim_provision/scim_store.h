#ifndef SCIM_STORE_H
#define SCIM_STORE_H

/* Storage of tenants, administrators, identity providers, provisioning
 * accounts, tokens and notifications in PostgreSQL (scim_store_pg.c). Store
 * layer (libscimstore.la, doc/HACKING.md): with the other scim_store*.c and
 * scim_db.c, the only place with SQL; it calls only the core. Every
 * statement on tenant data is scoped by tenant. Tokens arrive minted by the
 * core (scim_token.h): the store keeps their jti, hash and times, never a
 * key or the token.
 *
 * Return values: APR_SUCCESS; APR_ENOENT (no such row in this tenant);
 * APR_EEXIST (uniqueness); APR_EINVAL (refused by a database constraint);
 * APR_EGENERAL (database unavailable or failed: db->error says why). */

#include <apr_pools.h>
#include <apr_tables.h>

#include "scim_db.h"

typedef struct {
    const char *id;
    const char *slug;
    const char *name;
    const char *created_at;
} scim_tenant_t;

typedef struct {
    const char *id;
    const char *tenant_id; /* NULL for system administrators */
    const char *tenant_slug;
    const char *role; /* "system" or "customer" */
    const char *username;
    const char *email;
} scim_admin_t;

typedef struct {
    const char *id;
    const char *type; /* "okta" or "entra" */
    const char *name;
    const char *created_at;
} scim_idp_t;

typedef struct {
    const char *id;
    const char *user_name;
} scim_prov_account_t;

typedef struct {
    const char *id;
    const char *created_at;
    const char *created_by;
    const char *expires_at;
    const char *deleted_at; /* NULL unless deleted */
    const char *deleted_by;
    const char *last_used_at; /* NULL: never used */
    const char *last_used_from; /* client address of that use, or NULL */
} scim_token_info_t;

/* One token's last use, as the "last used" flush writes it. */
typedef struct {
    const char *token_id; /* uuid */
    const char *tenant_id; /* uuid */
    apr_time_t at;
    const char *from; /* IP address, or NULL */
} scim_token_use_t;

typedef struct {
    const char *id;
    const char *created_at;
    const char *message;
    int read;
} scim_notification_t;

typedef struct {
    const char *id;
    const char *user_name;
    const char *display_name; /* may be NULL */
    int active;
    int billable;
    const char *kind; /* "user" or "provisioning" */
} scim_account_summary_t;

typedef enum {
    SCIM_POLICY_OVERLAP = 0, /* at most SCIM_MAX_LIVE_TOKENS live (SPEC 3.3) */
    SCIM_POLICY_REPLACE = 1 /* a new token retires the earlier ones (3.7) */
} scim_token_policy_e;

/* Whom a new token of an identity provider is for: the claims idp and sub
 * of the token that the caller mints (scim_token_mint) before it calls
 * scim_store_token_create. */
typedef struct {
    const char *idp_type;
    /* the provisioning account's id; when the identity provider has no
     * account yet, a fresh id that scim_store_token_create gives the
     * account it creates */
    const char *account_id;
    /* the database's clock (whole unix seconds): created_at and iat, and
     * expires_at and exp = now + interval '1 year' computed in UTC
     * whatever the session's TimeZone (SPEC 3 item 4) */
    apr_int64_t now;
    apr_int64_t expires;
} scim_token_owner_t;

/* What the store keeps of a minted token: never the token, never a key. */
typedef struct {
    const scim_token_owner_t *owner; /* from scim_store_token_owner */
    const char *jti;
    const char *kid;
    const unsigned char *hash; /* 32 bytes: SHA-256 of the token */
    apr_int64_t iat; /* created_at, unix seconds */
    apr_int64_t exp; /* expires_at, unix seconds */
    scim_token_policy_e policy;
    const scim_admin_t *admin;
} scim_token_record_t;

typedef struct {
    const char *id;
    const char *user_name;
    const char *created_at;
    const char *expires_at;
} scim_token_issued_t;

/* The message of the notification that explains a refused creation. */
#define SCIM_MSG_TOO_MANY_TOKENS \
    "Could not create token: too many provisioning tokens already exist."

/* Tenants and administrators (scimctl). */
apr_status_t scim_store_tenant_add(scim_db_t *db, apr_pool_t *p, const char *slug,
                                   const char *name, scim_tenant_t **out);
apr_status_t scim_store_tenant_get(scim_db_t *db, apr_pool_t *p,
                                   const char *slug, scim_tenant_t **out);
apr_status_t scim_store_tenant_list(scim_db_t *db, apr_pool_t *p,
                                    apr_array_header_t **out);
/* tenant_slug NULL adds a system administrator. */
apr_status_t scim_store_admin_add(scim_db_t *db, apr_pool_t *p,
                                  const char *tenant_slug, const char *username,
                                  const char *email, scim_admin_t **out);
/* tenant_slug NULL lists all administrators. */
apr_status_t scim_store_admin_list(scim_db_t *db, apr_pool_t *p,
                                   const char *tenant_slug,
                                   apr_array_header_t **out);

/* The administrator allowed on this tenant's page: a system administrator,
 * or a Customer Administrator of the tenant. *tenant gets the tenant.
 * APR_ENOENT (tenant unknown) or APR_EACCES (not an administrator here). */
apr_status_t scim_store_admin_authorize(scim_db_t *db, apr_pool_t *p,
                                        const char *tenant_slug,
                                        const char *username,
                                        scim_admin_t **admin,
                                        scim_tenant_t **tenant);

/* Identity providers of a tenant. */
apr_status_t scim_store_idp_list(scim_db_t *db, apr_pool_t *p,
                                 const scim_tenant_t *t,
                                 apr_array_header_t **out);
apr_status_t scim_store_idp_add(scim_db_t *db, apr_pool_t *p,
                                const scim_tenant_t *t, const char *type,
                                const char *name, const char *by,
                                scim_idp_t **out);
apr_status_t scim_store_idp_get(scim_db_t *db, apr_pool_t *p,
                                const scim_tenant_t *t, const char *idp_id,
                                scim_idp_t **out);

/* The provisioning account (or NULL) and the listed tokens: live ones and
 * deleted ones before their expiry, newest first. */
apr_status_t scim_store_token_list(scim_db_t *db, apr_pool_t *p,
                                   const scim_tenant_t *t, const char *idp_id,
                                   scim_prov_account_t **account,
                                   apr_array_header_t **tokens);

/* The owner of the next token of this identity provider (one statement).
 * APR_ENOENT for an unknown identity provider. */
apr_status_t scim_store_token_owner(scim_db_t *db, apr_pool_t *p,
                                    const scim_tenant_t *t, const char *idp_id,
                                    scim_token_owner_t **out);

/* Store a token minted for rec->owner (and create the provisioning account
 * the first time) in one transaction that holds the identity provider's row
 * lock. APR_EEXIST when SCIM_MAX_LIVE_TOKENS live tokens exist: nothing is
 * created and the administrator gets a notification. APR_ENOENT for an
 * unknown identity provider. APR_EAGAIN when the owner changed since
 * scim_store_token_owner (another server created the account first):
 * nothing is written; mint again for the new owner. */
apr_status_t scim_store_token_create(scim_db_t *db, apr_pool_t *p,
                                     const scim_tenant_t *t, const char *idp_id,
                                     const scim_token_record_t *rec,
                                     scim_token_issued_t **out);

/* Mark a live token deleted. APR_ENOENT if unknown, deleted or expired. */
apr_status_t scim_store_token_delete(scim_db_t *db, apr_pool_t *p,
                                     const scim_tenant_t *t, const char *idp_id,
                                     const char *token_id, const char *by);

/* Record the last use of several tokens (scim_token_use_t) in ONE statement;
 * a use older than the one stored changes nothing, so several servers can
 * flush in any order. *updated gets the rows changed. */
apr_status_t scim_store_tokens_used(scim_db_t *db, apr_pool_t *p,
                                    const apr_array_header_t *uses, int *updated);

/* Live tokens per tenant for the tenants with these slugs (one statement):
 * *counts gets slug -> decimal count; unknown slugs are left out. */
apr_status_t scim_store_live_token_counts(scim_db_t *db, apr_pool_t *p,
                                          const apr_array_header_t *slugs,
                                          apr_hash_t **counts);

/* Notifications of one administrator (in this tenant, or the system ones). */
apr_status_t scim_store_notification_list(scim_db_t *db, apr_pool_t *p,
                                          const scim_admin_t *a,
                                          apr_array_header_t **out);
apr_status_t scim_store_notification_read(scim_db_t *db, apr_pool_t *p,
                                          const scim_admin_t *a, const char *id);

/* Accounts of a tenant: SCIM users and provisioning accounts. */
apr_status_t scim_store_account_list(scim_db_t *db, apr_pool_t *p,
                                     const scim_tenant_t *t,
                                     apr_array_header_t **out);

/* An audit event; failures are returned but callers may ignore them only
 * outside a transaction. */
apr_status_t scim_store_audit(scim_db_t *db, apr_pool_t *p,
                              const char *tenant_id, const char *actor,
                              const char *action, const char *target);

#endif
