#ifndef SCIM_STORE_RES_H
#define SCIM_STORE_RES_H

/* Storage of SCIM Users and Groups (accounts of kind 'user', groups,
 * group_members), the store side of a SCIM request (issue 8):
 *  - every call is ONE statement in the common case (PATCH: a load and a
 *    conditional update), plain SQL prepared once per pooled connection;
 *  - the first call of a request checks the provisioning token in that same
 *    statement (a CTE over tokens, tenants, the provisioning account and its
 *    identity provider; every other part of the statement joins it, so a
 *    dead token reads and writes nothing);
 *  - a resource's ETag is W/"<n>", the row's version counter, bumped by the
 *    writers (sql/005_versions.sql says who bumps what);
 *  - the JSON is assembled here by splicing id, meta and groups/members into
 *    the stored document's text (scim_json_splice), never parsed. */

#include <apr_pools.h>
#include <apr_tables.h>

#include "scim_db.h"
#include "scim_schema.h"

typedef scim_res_kind_e scim_res_type_e;

/* The token row, as the first statement of the request found it. */
typedef struct {
    const char *token_id;
    const char *tenant_id;
    const char *account_id; /* the provisioning account */
    const char *user_name; /* its username (r->user) */
    const char *idp_type; /* "okta" | "entra" */
} scim_store_token_t;

/* One SCIM request as the store sees it. The caller fills the first block;
 * the FIRST store call of the request checks the credential in the same
 * statement as its own read or write (one round trip) and fills the second
 * block; every later call uses token.tenant_id. A call made while
 * verified == 0 that finds no live token with this jti, tenant slug and hash
 * returns SCIM_STORE_EDENIED and reads/writes nothing. */
typedef struct scim_store_req {
    scim_db_t *db;
    apr_pool_t *pool;
    const char *base_url; /* SCIM root URL, no trailing '/' */
    const char *tenant_slug; /* the location's SCIMTenant */
    const char *jti; /* verified JWT claims */
    const char *sub;
    const char *idp;
    unsigned char token_hash[32]; /* SHA-256 of the presented token */
    int verified;
    scim_store_token_t token;
} scim_store_req_t;

#define SCIM_STORE_EDENIED APR_EACCES

/* One resource as the client sees it. */
typedef struct scim_res {
    const char *id;
    const char *json; /* the whole resource, with id and meta */
    const char *version; /* ETag value, e.g. W/"3" */
} scim_res_t;

/* The columns that the store keeps beside the document. */
typedef struct {
    const char *doc; /* normalised resource (no id, meta, groups, members) */
    const char *name; /* userName or group displayName */
    const char *external_id; /* or NULL */
    const char *display_name; /* users: or NULL */
    int active; /* users */
    /* groups: member account ids, NULL to leave membership alone */
    apr_array_header_t *members;
} scim_res_write_t;

/* A page of a list. The filter is handed over parsed (scim_filter_t from the
 * core); the store compiles it to SQL itself (the filter->SQL compiler moves
 * into the store: scim_store_filter.c). NULL filter / sort_by: none. */
struct scim_filter;
typedef struct {
    const struct scim_filter *filter;
    const char *sort_by; /* attribute path as the client wrote it */
    int descending;
    int start_index; /* 1-based */
    int count;
    int with_members; /* groups: include members in the JSON */
} scim_res_query_t;

/* Check the credential alone (requests that touch no resource: discovery,
 * the start of Bulk and of /.search). APR_SUCCESS or SCIM_STORE_EDENIED. */
apr_status_t scim_store_verify(scim_store_req_t *rq);

/* Read one resource. APR_ENOENT when not in this tenant. */
apr_status_t scim_store_res_get(scim_store_req_t *rq, scim_res_type_e type,
                                const char *id, int with_members,
                                scim_res_t **out);

/* Create. APR_EEXIST when the name is taken (NFKC + case folding);
 * APR_EINVAL when a member is not a user of the tenant. */
apr_status_t scim_store_res_create(scim_store_req_t *rq, scim_res_type_e type,
                                   const scim_res_write_t *w, scim_res_t **out);

/* Replace the document (PUT, or PATCH of a user after applying it).
 * if_version, when not NULL, must equal the current version (else
 * APR_EMISMATCH, nothing written). APR_ENOENT, APR_EEXIST, APR_EINVAL. */
apr_status_t scim_store_res_replace(scim_store_req_t *rq, scim_res_type_e type,
                                    const char *id, const char *if_version,
                                    const scim_res_write_t *w, scim_res_t **out);

/* A user PATCH that only sets values: set is the JSON text of
 * scim_patch_user_set's object, merged into the stored document in one
 * statement (see scim_patch_set_apply). if_version as for replace.
 * APR_ENOENT, APR_EMISMATCH. */
apr_status_t scim_store_user_set(scim_store_req_t *rq, const char *id,
                                 const char *if_version, const char *set,
                                 scim_res_t **out);

/* The stored document (no members) and version, for PATCH. */
apr_status_t scim_store_res_load(scim_store_req_t *rq, scim_res_type_e type,
                                 const char *id, const char **doc,
                                 const char **version);

/* The member ids of a group (only when a PATCH needs the whole list, e.g.
 * replace of "members" or a remove with a filter that is not value eq). */
apr_status_t scim_store_group_members(scim_store_req_t *rq, const char *id,
                                      apr_array_header_t **members);

/* PATCH of a group in O(what changed): w (may be NULL: document unchanged)
 * replaces the document and name, add/remove (may be NULL) are member ids.
 * Adding a member already there or removing one not there is not an error;
 * removing an id that is not a uuid removes nothing (no-op), adding one is
 * APR_EINVAL. *version gets the new version. APR_ENOENT, APR_EMISMATCH
 * (if_version), APR_EEXIST (name), APR_EINVAL (a member not a user of the
 * tenant, or an added id that is not a uuid). */
apr_status_t scim_store_group_patch(scim_store_req_t *rq, const char *id,
                                    const char *if_version,
                                    const scim_res_write_t *w,
                                    const apr_array_header_t *add,
                                    const apr_array_header_t *remove,
                                    const char **version);

/* Delete (a user leaves its groups). APR_ENOENT, APR_EMISMATCH. */
apr_status_t scim_store_res_delete(scim_store_req_t *rq, scim_res_type_e type,
                                   const char *id, const char *if_version);

/* A page of resources and the total that match. APR_EINVAL with
 * rq->db->error when the filter or sortBy cannot be compiled (400). */
apr_status_t scim_store_res_list(scim_store_req_t *rq, scim_res_type_e type,
                                 const scim_res_query_t *q, int *total,
                                 apr_array_header_t **out);

/* Require scim-account: is this an active SCIM user of the tenant? */
apr_status_t scim_store_account_active(scim_db_t *db, apr_pool_t *p,
                                       const char *tenant_slug,
                                       const char *user_name, int *active);

#endif
