#ifndef SCIM_SERVICE_H
#define SCIM_SERVICE_H

/* The SCIM 2.0 service of a tenant (RFC 7644, SPEC 5.1) without httpd, like
 * mod_md's md_reg.c beside mod_md.c: each operation takes the request
 * (scim_svc_req_t: the store request with the verified JWT claims, the
 * parsed conditional headers, limits) and parsed inputs, makes its store
 * calls (scim_store_res.h) and fills a result (scim_svc_result_t) that the
 * glue (mod_scim_scim.c) writes as the response, or Bulk as an entry. The
 * first store call of a request checks the token; a refused token is a
 * result with unauthorized set, and nothing was read or written. */

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "scim_store_res.h"

#define SCIM_SVC_MAX_JSON_DEPTH 32
#define SCIM_SVC_MAX_RESULTS    200
#define SCIM_SVC_MAX_PATCH_OPS  100
#define SCIM_SVC_MAX_BULK_OPS   100
/* group members the operations of one Bulk request may handle */
#define SCIM_SVC_MAX_BULK_MEMBERS 2000

/* The detail of every 401 (SPEC 4: the same whatever the reason). */
#define SCIM_SVC_AUTH_FAILED_DETAIL \
    "Authentication failed: a valid provisioning token is required"

/* One request. The caller fills everything but the last block. */
typedef struct {
    scim_store_req_t *store; /* db, pool, base URL, tenant, claims, hash */
    /* Basic credentials' username, which must be the token's provisioning
     * account (checked before anything is read or written), or NULL */
    const char *basic_user;
    apr_size_t max_body; /* the body limit (ServiceProviderConfig) */
    const char **if_match; /* If-Match tags, NULL: none or "*" */
    const char **if_none_match; /* If-None-Match tags, NULL: none */
    int if_none_match_any; /* If-None-Match: * */
    /* the service's own */
    int bulk; /* inside a Bulk request */
    apr_size_t bulk_members; /* group members its operations handled */
} scim_svc_req_t;

/* The outcome of one operation. */
typedef struct {
    int status;
    const char *scim_type; /* errors: or NULL */
    const char *detail; /* errors */
    const char *body; /* the body text; NULL for an error (built by
                       * scim_svc_error_body) or a body-less status */
    const char *location;
    const char *etag;
    int unauthorized; /* 401: add WWW-Authenticate, count the refusal */
    int token_sent; /* 401: a credential was presented */
    int unavailable; /* 503: add Retry-After, count the database error */
    const char *reason; /* 401/503: why, for the error log only */
    const char *allow; /* 405: the Allow header (only a 405 carries it) */
} scim_svc_result_t;

/* Results built by the caller (routing, parsing). */
void scim_svc_fail(scim_svc_result_t *res, int status, const char *scim_type,
                   const char *detail);
void scim_svc_unauthorized(scim_svc_result_t *res, int token_sent,
                           const char *reason);
void scim_svc_unavailable(scim_svc_result_t *res, const char *reason);

/* THE SCIM Error document (RFC 7644 3.12) and its text: client text in
 * detail is made safe (scim_util_quote) and cut; the text is never NULL. */
json_t *scim_svc_error_doc(apr_pool_t *p, int status, const char *scim_type,
                           const char *detail);
const char *scim_svc_error_body(apr_pool_t *p, int status,
                                const char *scim_type, const char *detail);

/* A request body (already read, len bytes, NUL-terminated) of content type
 * ctype (may be NULL) as a JSON object, or NULL with *res filled (415, 400
 * invalidSyntax/invalidValue). */
json_t *scim_svc_parse_body(apr_pool_t *p, const char *ctype, const char *buf,
                            apr_size_t len, scim_svc_result_t *res);

/* GET /Users/{id}, /Groups/{id} (attributes, excluded may be NULL). */
void scim_svc_get(scim_svc_req_t *rq, scim_res_type_e type, const char *id,
                  const char *attributes, const char *excluded,
                  scim_svc_result_t *res);
/* GET /Users, /Groups with the query string's parameters. */
void scim_svc_list(scim_svc_req_t *rq, scim_res_type_e type, apr_table_t *q,
                   scim_svc_result_t *res);
/* POST /.search (root: Users then Groups) or /{type}/.search. */
void scim_svc_search(scim_svc_req_t *rq, int root, scim_res_type_e type,
                     const json_t *body, scim_svc_result_t *res);
void scim_svc_create(scim_svc_req_t *rq, scim_res_type_e type,
                     const json_t *body, scim_svc_result_t *res);
void scim_svc_replace(scim_svc_req_t *rq, scim_res_type_e type, const char *id,
                      const json_t *body, scim_svc_result_t *res);
/* PATCH: Users answer 200 with the resource, Groups 204 with the ETag (a
 * member change costs what changed, never the whole member list). */
void scim_svc_patch(scim_svc_req_t *rq, scim_res_type_e type, const char *id,
                    const json_t *body, scim_svc_result_t *res);
void scim_svc_delete(scim_svc_req_t *rq, scim_res_type_e type, const char *id,
                     scim_svc_result_t *res);
/* POST /Bulk (RFC 7644 3.7); body is changed (bulkId references). */
void scim_svc_bulk(scim_svc_req_t *rq, json_t *body, scim_svc_result_t *res);
/* GET /ServiceProviderConfig, /ResourceTypes[/x], /Schemas[/x]. */
void scim_svc_discovery(scim_svc_req_t *rq, const char *path,
                        scim_svc_result_t *res);

/* Before a result is sent: a request that reached no store call has its
 * token checked now (a refusal or a database error replaces the result),
 * so nothing is answered to a request without a valid token. */
void scim_svc_finish(scim_svc_req_t *rq, scim_svc_result_t *res);

#endif
