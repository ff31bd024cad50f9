/* The SCIM 2.0 endpoint of a tenant (SPEC 5.1, RFC 7644): the httpd side of
 * the SCIM service (scim_service.h). It authenticates the request
 * (mod_scim_auth.c: the JWT claims and the token hash), routes on the path,
 * reads the body, calls the service, and writes its result through the one
 * respond() below, 401s and 503s included. The token row itself is checked
 * by the service's first store call. */

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "mod_scim_provision.h"
#include "scim_http.h"
#include "scim_json.h"
#include "scim_service.h"

APLOG_USE_MODULE(scim_provision);

#define SCIM_CTYPE "application/scim+json"

/* One request of the SCIM endpoint. */
typedef struct {
    request_rec *r;
    scim_store_req_t store;
    scim_svc_req_t svc;
    int authenticated; /* the claims are verified: the store may be asked */
} ctx_t;

/* THE response path: every result of the endpoint, errors included. */
static int respond(ctx_t *c, scim_svc_result_t *res)
{
    request_rec *r = c->r;
    const char *body;

    if (c->authenticated && c->store.db) {
        /* nothing is answered to a request without a valid token */
        scim_svc_finish(&c->svc, res);
    }
    if (res->unauthorized) {
        mod_scim_auth_refused(r, res->token_sent, res->reason);
    }
    else if (c->store.verified) {
        mod_scim_auth_verified(r, &c->store, c->svc.basic_user != NULL);
    }
    if (res->status == HTTP_SERVICE_UNAVAILABLE) {
        mod_scim_unavailable(r, res->reason);
    }
    if (res->location) {
        apr_table_setn(r->headers_out, "Location", res->location);
    }
    if (res->etag) {
        apr_table_setn(r->headers_out, "ETag", res->etag);
    }
    /* set here, not before: scim_svc_finish may have made it a 401 */
    if (res->status == HTTP_METHOD_NOT_ALLOWED && res->allow) {
        apr_table_setn(r->headers_out, "Allow", res->allow);
    }
    body = res->body;
    if (!body && res->status >= 400) {
        body = scim_svc_error_body(r->pool, res->status, res->scim_type,
                                   res->detail);
    }
    /* a NULL body of a 2xx: logged, and a constant error body instead */
    return mod_scim_send_text(r, res->status, SCIM_CTYPE, body);
}

static int reply_error(ctx_t *c, int status, const char *type, const char *detail)
{
    scim_svc_result_t res;

    scim_svc_fail(&res, status, type, detail);
    return respond(c, &res);
}

static int method_not_allowed(ctx_t *c, const char *allow)
{
    scim_svc_result_t res;

    scim_svc_fail(&res, HTTP_METHOD_NOT_ALLOWED, NULL,
                  apr_psprintf(c->r->pool, "%s is not allowed here",
                               scim_util_quote(c->r->pool, c->r->method,
                                               strlen(c->r->method), 32)));
    res.allow = allow;
    return respond(c, &res);
}

/* The request body as a JSON object, or NULL with *res filled. */
static json_t *read_body(ctx_t *c, scim_svc_result_t *res)
{
    request_rec *r = c->r;
    const char *err = NULL;
    apr_size_t len;
    char *buf;
    int rc;

    rc = mod_scim_read_body(r, mod_scim_srv_conf(r->server)->max_body, &buf,
                            &len, &err);
    if (rc != OK) {
        scim_svc_fail(res, rc, NULL, err);
        return NULL;
    }
    return scim_svc_parse_body(r->pool,
                               apr_table_get(r->headers_in, "Content-Type"),
                               buf, len, res);
}

/* POST, PUT and PATCH of a resource; POST /Bulk and the searches. */
static int with_body(ctx_t *c, scim_res_type_e type, const char *id,
                     const char *what)
{
    scim_svc_result_t res;
    json_t *body = read_body(c, &res);

    if (!body) {
        return respond(c, &res);
    }
    if (!strcmp(what, "bulk")) {
        scim_svc_bulk(&c->svc, body, &res);
    }
    else if (!strcmp(what, "search")) {
        scim_svc_search(&c->svc, id == NULL, type, body, &res);
    }
    else if (c->r->method_number == M_POST) {
        scim_svc_create(&c->svc, type, body, &res);
    }
    else if (c->r->method_number == M_PUT) {
        scim_svc_replace(&c->svc, type, id, body, &res);
    }
    else {
        scim_svc_patch(&c->svc, type, id, body, &res);
    }
    return respond(c, &res);
}

/* If-Match and If-None-Match into the request; 0 with *err if one of them
 * is malformed. */
static int conditional_headers(ctx_t *c, const char **err)
{
    request_rec *r = c->r;
    const char *v, **tags = NULL;
    int any = 0;

    if ((v = apr_table_get(r->headers_in, "If-Match"))) {
        if (scim_http_parse_etags(r->pool, v, &tags, &any, err) != APR_SUCCESS) {
            *err = apr_pstrcat(r->pool, "If-Match: ", *err, NULL);
            return 0;
        }
        c->svc.if_match = tags;
    }
    if ((v = apr_table_get(r->headers_in, "If-None-Match"))) {
        if (scim_http_parse_etags(r->pool, v, &tags, &any, err) != APR_SUCCESS) {
            *err = apr_pstrcat(r->pool, "If-None-Match: ", *err, NULL);
            return 0;
        }
        c->svc.if_none_match = tags;
        c->svc.if_none_match_any = any;
    }
    return 1;
}

static int route(ctx_t *c, const char *path, apr_table_t *q)
{
    int m = c->r->method_number;
    scim_svc_result_t res;
    scim_res_type_e type;
    const char *rest;

    if (!strcmp(path, "/ServiceProviderConfig")
        || !strncmp(path, "/ResourceTypes", 14) || !strncmp(path, "/Schemas", 8)) {
        if (m != M_GET) {
            return method_not_allowed(c, "GET, HEAD");
        }
        scim_svc_discovery(&c->svc, path, &res);
        return respond(c, &res);
    }
    if (!strcmp(path, "/Me") || !strncmp(path, "/Me/", 4)) {
        /* RFC 7644 3.11: a token is not a user here */
        return reply_error(c, HTTP_NOT_IMPLEMENTED, NULL,
                           "/Me is not supported: provisioning tokens are "
                           "not users");
    }
    if (!strcmp(path, "/.search")) {
        return m == M_POST ? with_body(c, SCIM_RES_USER, NULL, "search")
                           : method_not_allowed(c, "POST");
    }
    if (!strcmp(path, "/Bulk")) {
        return m == M_POST ? with_body(c, SCIM_RES_USER, NULL, "bulk")
                           : method_not_allowed(c, "POST");
    }
    if (!strncmp(path, "/Users", 6)) {
        type = SCIM_RES_USER;
        rest = path + 6;
    }
    else if (!strncmp(path, "/Groups", 7)) {
        type = SCIM_RES_GROUP;
        rest = path + 7;
    }
    else {
        return reply_error(c, HTTP_NOT_FOUND, NULL, "No such endpoint");
    }
    if (!*rest || !strcmp(rest, "/")) {
        if (m == M_GET) {
            scim_svc_list(&c->svc, type, q, &res);
            return respond(c, &res);
        }
        return m == M_POST ? with_body(c, type, NULL, "write")
                           : method_not_allowed(c, "GET, HEAD, POST");
    }
    if (*rest != '/' || strchr(rest + 1, '/')) {
        return reply_error(c, HTTP_NOT_FOUND, NULL, "No such endpoint");
    }
    rest++;
    if (!strcmp(rest, ".search")) {
        /* a non-NULL id: the search of this type only */
        return m == M_POST ? with_body(c, type, rest, "search")
                           : method_not_allowed(c, "POST");
    }
    switch (m) {
    case M_GET:
        scim_svc_get(&c->svc, type, rest, apr_table_get(q, "attributes"),
                     apr_table_get(q, "excludedAttributes"), &res);
        return respond(c, &res);
    case M_PUT:
    case M_PATCH:
        return with_body(c, type, rest, "write");
    case M_DELETE:
        scim_svc_delete(&c->svc, type, rest, &res);
        return respond(c, &res);
    default:
        return method_not_allowed(c, "GET, HEAD, PUT, PATCH, DELETE");
    }
}

int mod_scim_scim_handler(request_rec *r)
{
    mod_scim_dir_conf_t *d = mod_scim_dir_conf(r);
    apr_table_t *q = NULL;
    const char *path, *err = NULL;
    int token_sent = 0;
    ctx_t c;

    if (!r->handler || strcmp(r->handler, MOD_SCIM_HANDLER)) {
        return DECLINED;
    }
    mod_scim_security_headers(r);
    if (!d->tenant) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      SCIMLOGNO(00060) "SetHandler %s without SCIMTenant "
                                       "in this location",
                      MOD_SCIM_HANDLER);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    memset(&c, 0, sizeof(c));
    c.r = r;
    c.svc.store = &c.store;
    c.svc.max_body = (apr_size_t)mod_scim_srv_conf(r->server)->max_body;
    c.store.pool = r->pool;
    c.store.tenant_slug = d->tenant;
    path = mod_scim_subpath(r);
    c.store.base_url = ap_construct_url(r->pool,
                                        apr_pstrmemdup(r->pool, r->uri,
                                                       strlen(r->uri)
                                                           - strlen(path)),
                                        r);
    /* Nothing is served without a valid token, whatever the site's other
     * configuration says (SPEC 5.1): the claims here, the token row with
     * the first store call. */
    if (mod_scim_authenticate(r, &c.store, &c.svc.basic_user, &err, &token_sent)
        != OK) {
        scim_svc_result_t res;

        scim_svc_unauthorized(&res, token_sent, err);
        return respond(&c, &res);
    }
    c.authenticated = 1;
    if (!(c.store.db = mod_scim_db(r))) {
        scim_svc_result_t res;

        scim_svc_unavailable(&res, NULL);
        return respond(&c, &res);
    }
    if (!scim_utf8_valid(path, strlen(path))) {
        return reply_error(&c, HTTP_BAD_REQUEST, "invalidValue",
                           "the request path is not valid UTF-8");
    }
    if (scim_http_parse_query(r->pool, r->args, &q, &err) != APR_SUCCESS) {
        return reply_error(&c, HTTP_BAD_REQUEST, "invalidValue", err);
    }
    if (!conditional_headers(&c, &err)) {
        return reply_error(&c, HTTP_BAD_REQUEST, "invalidSyntax", err);
    }
    return route(&c, path, q);
}
