#ifndef SCIM_STORE_RES_H
#define SCIM_STORE_RES_H

/* Storage of SCIM Users and Groups (accounts of kind 'user', groups,
 * group_members). The JSON of a resource is assembled by PostgreSQL from the
 * stored document, id and meta, so a read passes it through without parsing
 * it. Every statement is scoped by the tenant of the verified token. */

#include <apr_pools.h>
#include <apr_tables.h>

#include "scim_db.h"
#include "scim_schema.h"

typedef scim_res_kind_e scim_res_type_e;

/* One resource as the client sees it. */
typedef struct scim_res {
    const char *id;
    const char *json; /* the whole resource, with id and meta */
    const char *version; /* ETag value, e.g. W/"3" */
} scim_res_t;

/* The columns that the store keeps beside the document. */
typedef struct {
    const char *doc; /* normalised resource (no id, meta, groups,
                               * members) as JSON text */
    const char *name; /* userName or group displayName */
    const char *external_id; /* or NULL */
    const char *display_name; /* users: or NULL */
    int active; /* users */
    /* groups: member account ids, NULL to leave membership alone */
    apr_array_header_t *members;
} scim_res_write_t;

/* A page of a list. where/order are SQL fragments over alias r compiled from
 * a filter and sortBy (parameters in params, in text order); NULL for none. */
typedef struct {
    const char *where;
    apr_array_header_t *params; /* const char * */
    const char *order;
    int descending;
    int start_index; /* 1-based */
    int count;
    int with_members; /* groups: include members in the JSON */
} scim_res_query_t;

/* Read one resource. APR_ENOENT when not in this tenant. */
apr_status_t scim_store_res_get(scim_db_t *db, apr_pool_t *p,
                                scim_res_type_e type, const char *tenant_id,
                                const char *id, const char *base_url,
                                int with_members, scim_res_t **out);

/* Create. APR_EEXIST when the name is taken (case-insensitively);
 * APR_EINVAL when a member is not an account of the tenant. */
apr_status_t scim_store_res_create(scim_db_t *db, apr_pool_t *p,
                                   scim_res_type_e type, const char *tenant_id,
                                   const scim_res_write_t *w,
                                   const char *base_url, scim_res_t **out);

/* Replace the document (PUT, or PATCH after applying it). if_version, when
 * not NULL, must equal the current version (else APR_EMISMATCH, nothing
 * written). APR_ENOENT, APR_EEXIST, APR_EINVAL as above. */
apr_status_t scim_store_res_replace(scim_db_t *db, apr_pool_t *p,
                                    scim_res_type_e type, const char *tenant_id,
                                    const char *id, const char *if_version,
                                    const scim_res_write_t *w,
                                    const char *base_url, scim_res_t **out);

/* The stored document and member ids, for PATCH. */
apr_status_t scim_store_res_load(scim_db_t *db, apr_pool_t *p,
                                 scim_res_type_e type, const char *tenant_id,
                                 const char *id, const char **doc,
                                 const char **version,
                                 apr_array_header_t **members);

/* Delete (a user leaves its groups). APR_ENOENT, APR_EMISMATCH. */
apr_status_t scim_store_res_delete(scim_db_t *db, apr_pool_t *p,
                                   scim_res_type_e type, const char *tenant_id,
                                   const char *id, const char *if_version);

/* A page of resources and the total that match. */
apr_status_t scim_store_res_list(scim_db_t *db, apr_pool_t *p,
                                 scim_res_type_e type, const char *tenant_id,
                                 const scim_res_query_t *q, const char *base_url,
                                 int *total, apr_array_header_t **out);

/* The hot path of GET /Users/{id}: the live token with this jti in the
 * tenant and, in the same round trip, the user (NULL when not found). The
 * caller must still check the token's hash and claims before using *user.
 * APR_ENOENT when the token is not live. */
struct scim_live_token;
apr_status_t scim_store_token_lookup_user(scim_db_t *db, apr_pool_t *p,
                                          const char *tenant_slug,
                                          const char *jti, const char *user_id,
                                          const char *base_url,
                                          struct scim_live_token **tok,
                                          scim_res_t **user);

/* Is this account an active SCIM user of the tenant (Require scim-account)?
 * APR_SUCCESS with *active, or APR_ENOENT. */
apr_status_t scim_store_account_active(scim_db_t *db, apr_pool_t *p,
                                       const char *tenant_slug,
                                       const char *user_name, int *active);

#endif
