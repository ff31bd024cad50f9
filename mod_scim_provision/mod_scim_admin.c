/* The administrators' JSON API (SPEC 5.2) under <admin location>/api/.
 * Glue: it calls the store (scim_store.h) and, to create a token, the core's
 * scim_token_mint between the store's owner lookup and its insert. */

#include <apr_strings.h>
#include <apr_lib.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_core.h>

#include "mod_scim_provision.h"
#include "scim_http.h"
#include "scim_json.h"

APLOG_USE_MODULE(scim_provision);

#define JSON_CTYPE "application/json; charset=utf-8"
#define MAX_SEGS   8
#define API_CSP    "default-src 'none'; frame-ancestors 'none'"
#define UNSUPPORTED_IDP_MSG                        \
    "Account provisioning is only supported with " \
    "Okta and Microsoft Entra ID."

typedef struct {
    request_rec *r;
    scim_db_t *db;
    scim_admin_t *admin;
    scim_tenant_t *tenant;
    const char *seg[MAX_SEGS];
    int nseg;
} admin_req_t;

static int reply(request_rec *r, int status, json_t *doc)
{
    return mod_scim_send_json(r, status, JSON_CTYPE,
                              scim_json_pool_own(r->pool, doc));
}

static int no_content(request_rec *r)
{
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static int method_not_allowed(request_rec *r, const char *allow)
{
    apr_table_setn(r->headers_out, "Allow", allow);
    return mod_scim_admin_error(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                                apr_psprintf(r->pool,
                                             "%s is not allowed here; allowed: %s",
                                             r->method, allow));
}

static int not_found(request_rec *r, const char *what)
{
    return mod_scim_admin_error(r, HTTP_NOT_FOUND, "not_found", what);
}

static int db_failed(admin_req_t *a)
{
    mod_scim_unavailable(a->r, a->db ? a->db->error : NULL);
    return mod_scim_admin_error(a->r, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                "The service is temporarily unavailable; "
                                "try again shortly.");
}

static int is_json_type(const char *ctype)
{
    return ctype && !strncasecmp(ctype, "application/json", 16)
        && (!ctype[16] || ctype[16] == ';' || apr_isspace(ctype[16]));
}

/* The body of a POST as a JSON object, or an error response already sent
 * (*sent). An empty body is an empty object. */
static json_t *read_json_object(admin_req_t *a, int *status)
{
    request_rec *r = a->r;
    const char *ctype = apr_table_get(r->headers_in, "Content-Type");
    const char *err = NULL;
    apr_size_t len;
    json_t *doc;
    char *buf;
    int rc;

    *status = OK;
    rc = mod_scim_read_body(r, MOD_SCIM_DEFAULT_ADMIN_MAX_BODY, &buf, &len, &err);
    if (rc != OK) {
        *status = mod_scim_admin_error(r, rc,
                                       rc == HTTP_REQUEST_ENTITY_TOO_LARGE
                                           ? "too_large"
                                           : "invalid_request",
                                       err);
        return NULL;
    }
    /* Only JSON, even for an empty body: a cross-site HTML form cannot
     * send this type, so it cannot create or rotate a token. */
    if (!is_json_type(ctype)) {
        *status = mod_scim_admin_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                                       "unsupported_media_type",
                                       "POST requests must be "
                                       "application/json");
        return NULL;
    }
    if (len == 0) {
        return scim_json_pool_own(r->pool, json_object());
    }
    doc = scim_json_parse(r->pool, buf, len, 8, &err);
    if (!doc) {
        *status = mod_scim_admin_error(r, HTTP_BAD_REQUEST, "invalid_json",
                                       apr_psprintf(r->pool,
                                                    "malformed JSON: %s", err));
        return NULL;
    }
    if (!json_is_object(doc)) {
        *status = mod_scim_admin_error(r, HTTP_BAD_REQUEST, "invalid_json",
                                       "the request body must be a JSON "
                                       "object");
        return NULL;
    }
    return doc;
}

static int api_me(admin_req_t *a)
{
    return reply(a->r, HTTP_OK,
                 json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "userName",
                           a->admin->username, "role", a->admin->role, "email",
                           a->admin->email, "tenant", "id", a->tenant->id,
                           "slug", a->tenant->slug, "name", a->tenant->name));
}

static json_t *idp_json(const scim_idp_t *i)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "id", i->id, "type", i->type,
                     "name", i->name, "createdAt", i->created_at);
}

static int idp_list(admin_req_t *a)
{
    apr_array_header_t *list;
    json_t *arr;
    int i;

    if (scim_store_idp_list(a->db, a->r->pool, a->tenant, &list) != APR_SUCCESS) {
        return db_failed(a);
    }
    arr = json_array();
    for (i = 0; i < list->nelts; i++) {
        json_array_append_new(arr, idp_json(&APR_ARRAY_IDX(list, i, scim_idp_t)));
    }
    return reply(a->r, HTTP_OK, json_pack("{s:o}", "identityProviders", arr));
}

static int idp_create(admin_req_t *a)
{
    request_rec *r = a->r;
    json_t *body, *jtype, *jname;
    const char *type, *name;
    scim_idp_t *idp;
    int status;

    if (!(body = read_json_object(a, &status))) {
        return status;
    }
    jtype = json_object_get(body, "type");
    jname = json_object_get(body, "name");
    if (!jtype) {
        return mod_scim_admin_error(r, HTTP_BAD_REQUEST, "invalid_request",
                                    "'type' is required: \"okta\" or "
                                    "\"entra\"");
    }
    if (!json_is_string(jtype)) {
        return mod_scim_admin_error(r, HTTP_BAD_REQUEST, "invalid_request",
                                    "'type' must be a string");
    }
    type = json_string_value(jtype);
    if (strcmp(type, "okta") && strcmp(type, "entra")) {
        return mod_scim_admin_error(r, HTTP_BAD_REQUEST,
                                    "unsupported_identity_provider",
                                    UNSUPPORTED_IDP_MSG);
    }
    if (jname && !json_is_null(jname) && !json_is_string(jname)) {
        return mod_scim_admin_error(r, HTTP_BAD_REQUEST, "invalid_request",
                                    "'name' must be a string");
    }
    name = json_is_string(jname) ? json_string_value(jname) : "";
    while (apr_isspace(*name)) {
        name++;
    }
    if (!*name) {
        name = strcmp(type, "okta") ? "Microsoft Entra ID" : "Okta";
    }
    if (strlen(name) > 200 || strchr(name, '\n') || strchr(name, '\r')) {
        return mod_scim_admin_error(r, HTTP_BAD_REQUEST, "invalid_request",
                                    "'name' must be one line of at most 200 "
                                    "characters");
    }
    if (scim_store_idp_add(a->db, r->pool, a->tenant, type, name,
                           a->admin->username, &idp)
        != APR_SUCCESS) {
        return db_failed(a);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  SCIMLOGNO(00041) "identity provider %s (%s) created in "
                                   "tenant '%s' by '%s'",
                  idp->id, type, a->tenant->slug, a->admin->username);
    apr_table_setn(r->headers_out, "Location",
                   apr_pstrcat(r->pool, "identity-providers/", idp->id, NULL));
    return reply(r, HTTP_CREATED, idp_json(idp));
}

static json_t *nullable(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int token_list(admin_req_t *a, const char *idp_id)
{
    scim_prov_account_t *acct = NULL;
    apr_array_header_t *list = NULL;
    apr_status_t rv;
    json_t *arr;
    int i;

    rv = scim_store_token_list(a->db, a->r->pool, a->tenant, idp_id, &acct,
                               &list);
    if (rv == APR_ENOENT) {
        return not_found(a->r, "no such identity provider");
    }
    if (rv != APR_SUCCESS) {
        return db_failed(a);
    }
    arr = json_array();
    for (i = 0; i < list->nelts; i++) {
        scim_token_info_t *k = &APR_ARRAY_IDX(list, i, scim_token_info_t);

        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, "
                                        "s:o, s:o}",
                                        "id", k->id, "createdAt", k->created_at,
                                        "createdBy", k->created_by, "expiresAt",
                                        k->expires_at, "status",
                                        k->deleted_at ? "deleted" : "active",
                                        "deletedAt", nullable(k->deleted_at),
                                        "deletedBy", nullable(k->deleted_by),
                                        "lastUsedAt", nullable(k->last_used_at),
                                        "lastUsedFrom",
                                        nullable(k->last_used_from)));
    }
    return reply(a->r, HTTP_OK,
                 json_pack("{s:o, s:o}", "provisioningAccount",
                           acct ? json_pack("{s:s, s:s, s:b}", "id", acct->id,
                                            "userName", acct->user_name,
                                            "billable", 0)
                                : json_null(),
                           "tokens", arr));
}

/* Tries of owner -> mint -> store when another server creates the
 * provisioning account in between (scim_store_token_create: APR_EAGAIN). */
#define TOKEN_CREATE_TRIES 3

/* The core mints the token for the owner the store names; the store keeps
 * its hash and metadata under the identity provider's row lock. *unminted
 * is set when the core could not mint (no random bytes). */
static apr_status_t token_mint_and_store(admin_req_t *a, const char *idp_id,
                                         scim_token_minted_t *minted,
                                         scim_token_issued_t **out, int *unminted)
{
    request_rec *r = a->r;
    mod_scim_srv_conf_t *conf = mod_scim_srv_conf(r->server);
    scim_token_owner_t *owner;
    scim_token_mint_in_t in;
    scim_token_record_t rec;
    apr_status_t rv = APR_EAGAIN;
    int i;

    for (i = 0; rv == APR_EAGAIN && i < TOKEN_CREATE_TRIES; i++) {
        rv = scim_store_token_owner(a->db, r->pool, a->tenant, idp_id, &owner);
        if (rv != APR_SUCCESS) {
            break;
        }
        in.key = conf->signing;
        in.issuer = conf->issuer;
        in.tenant_slug = a->tenant->slug;
        in.account_id = owner->account_id;
        in.idp_type = owner->idp_type;
        in.iat = owner->now; /* the database's clock, as created_at */
        in.exp = owner->expires;
        if (APR_SUCCESS != (rv = scim_token_mint(r->pool, &in, minted))) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          SCIMLOGNO(00230) "could not mint a token for "
                                           "identity provider %s in tenant "
                                           "'%s'",
                          idp_id, a->tenant->slug);
            *unminted = 1;
            break;
        }
        rec.owner = owner;
        rec.jti = minted->jti;
        rec.kid = minted->kid;
        rec.hash = minted->hash;
        rec.iat = minted->iat;
        rec.exp = minted->exp;
        rec.policy = mod_scim_policy(r);
        rec.admin = a->admin;
        rv = scim_store_token_create(a->db, r->pool, a->tenant, idp_id, &rec,
                                     out);
    }
    return rv;
}

static int token_create(admin_req_t *a, const char *idp_id)
{
    request_rec *r = a->r;
    scim_token_minted_t minted;
    scim_token_issued_t *out = NULL;
    apr_status_t rv;
    json_t *body;
    int status, unminted = 0;

    if (!(body = read_json_object(a, &status))) {
        return status;
    }
    rv = token_mint_and_store(a, idp_id, &minted, &out, &unminted);
    if (unminted) {
        return mod_scim_admin_error(r, HTTP_INTERNAL_SERVER_ERROR, "internal",
                                    "Could not create token");
    }
    if (rv == APR_ENOENT) {
        return not_found(r, "no such identity provider");
    }
    if (rv == APR_EEXIST) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      SCIMLOGNO(00042) "token refused for identity provider "
                                       "%s in tenant '%s': too many "
                                       "provisioning tokens already exist",
                      idp_id, a->tenant->slug);
        mod_scim_count(MOD_SCIM_C_TOKENS_REFUSED);
        return mod_scim_admin_error(r, HTTP_CONFLICT, "too_many_tokens",
                                    "Could not create token");
    }
    if (rv != APR_SUCCESS) {
        return db_failed(a);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  SCIMLOGNO(00043) "token %s created for identity provider "
                                   "%s in tenant '%s' by '%s'",
                  out->id, idp_id, a->tenant->slug, a->admin->username);
    mod_scim_count(MOD_SCIM_C_TOKENS_CREATED);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Pragma", "no-cache");
    return reply(r, HTTP_CREATED,
                 json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", out->id, "token",
                           minted.token, "userName", out->user_name, "createdAt",
                           out->created_at, "expiresAt", out->expires_at));
}

static int token_delete(admin_req_t *a, const char *idp_id, const char *token_id)
{
    apr_status_t rv;

    rv = scim_store_token_delete(a->db, a->r->pool, a->tenant, idp_id, token_id,
                                 a->admin->username);
    if (rv == APR_ENOENT) {
        return not_found(a->r,
                         "no such live token for this identity "
                         "provider");
    }
    if (rv != APR_SUCCESS) {
        return db_failed(a);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, a->r,
                  SCIMLOGNO(00044) "token %s deleted in tenant '%s' by '%s'",
                  token_id, a->tenant->slug, a->admin->username);
    mod_scim_count(MOD_SCIM_C_TOKENS_DELETED);
    return no_content(a->r);
}

static int notification_list(admin_req_t *a)
{
    apr_array_header_t *list;
    json_t *arr;
    int i;

    if (scim_store_notification_list(a->db, a->r->pool, a->admin, &list)
        != APR_SUCCESS) {
        return db_failed(a);
    }
    arr = json_array();
    for (i = 0; i < list->nelts; i++) {
        scim_notification_t *n = &APR_ARRAY_IDX(list, i, scim_notification_t);

        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:s, s:b}", "id", n->id,
                                        "createdAt", n->created_at, "message",
                                        n->message, "read", n->read));
    }
    return reply(a->r, HTTP_OK, json_pack("{s:o}", "notifications", arr));
}

static int notification_read(admin_req_t *a, const char *id)
{
    apr_status_t rv;
    int status;

    if (!read_json_object(a, &status)) {
        return status;
    }
    rv = scim_store_notification_read(a->db, a->r->pool, a->admin, id);
    if (rv == APR_ENOENT) {
        return not_found(a->r, "no such notification");
    }
    if (rv != APR_SUCCESS) {
        return db_failed(a);
    }
    return no_content(a->r);
}

static int account_list(admin_req_t *a)
{
    apr_array_header_t *list;
    json_t *arr;
    int i;

    if (scim_store_account_list(a->db, a->r->pool, a->tenant, &list)
        != APR_SUCCESS) {
        return db_failed(a);
    }
    arr = json_array();
    for (i = 0; i < list->nelts; i++) {
        scim_account_summary_t *s = &APR_ARRAY_IDX(list, i,
                                                   scim_account_summary_t);

        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:o, s:b, s:b, s:s}", "id",
                                        s->id, "userName", s->user_name,
                                        "displayName", nullable(s->display_name),
                                        "active", s->active, "billable",
                                        s->billable, "kind", s->kind));
    }
    return reply(a->r, HTTP_OK, json_pack("{s:o}", "accounts", arr));
}

static int is(const admin_req_t *a, int i, const char *s)
{
    return i < a->nseg && !strcmp(a->seg[i], s);
}

/* Route api/... by method; unknown paths 404, wrong methods 405. */
static int route_api(admin_req_t *a)
{
    request_rec *r = a->r;
    int get = r->method_number == M_GET;
    int post = r->method_number == M_POST;
    int del = r->method_number == M_DELETE;

    if (a->nseg == 2 && is(a, 1, "me")) {
        return get ? api_me(a) : method_not_allowed(r, "GET, HEAD");
    }
    if (a->nseg == 2 && is(a, 1, "identity-providers")) {
        return get ? idp_list(a)
            : post ? idp_create(a)
                   : method_not_allowed(r, "GET, HEAD, POST");
    }
    if (a->nseg == 4 && is(a, 1, "identity-providers") && is(a, 3, "tokens")) {
        return get ? token_list(a, a->seg[2])
            : post ? token_create(a, a->seg[2])
                   : method_not_allowed(r, "GET, HEAD, POST");
    }
    if (a->nseg == 5 && is(a, 1, "identity-providers") && is(a, 3, "tokens")) {
        return del ? token_delete(a, a->seg[2], a->seg[4])
                   : method_not_allowed(r, "DELETE");
    }
    if (a->nseg == 2 && is(a, 1, "notifications")) {
        return get ? notification_list(a) : method_not_allowed(r, "GET, HEAD");
    }
    if (a->nseg == 4 && is(a, 1, "notifications") && is(a, 3, "read")) {
        return post ? notification_read(a, a->seg[2])
                    : method_not_allowed(r, "POST");
    }
    if (a->nseg == 2 && is(a, 1, "accounts")) {
        return get ? account_list(a) : method_not_allowed(r, "GET, HEAD");
    }
    return not_found(r, "no such API endpoint");
}

/* Split path_info "/api/x/y" into segments; 0 if there are too many or an
 * empty one (a double slash). */
static int split_path(admin_req_t *a, const char *path)
{
    char *copy = apr_pstrdup(a->r->pool, path), *tok, *last = NULL;

    a->nseg = 0;
    if (*copy != '/') {
        return 0;
    }
    if (strstr(copy, "//")) {
        return 0;
    }
    for (tok = apr_strtok(copy, "/", &last); tok;
         tok = apr_strtok(NULL, "/", &last)) {
        if (a->nseg == MAX_SEGS) {
            return 0;
        }
        a->seg[a->nseg++] = tok;
    }
    return 1;
}

/* Same-origin only: a browser names the requesting site in Origin and, in
 * current browsers, Sec-Fetch-Site. */
static int is_cross_site(request_rec *r)
{
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *self;

    if (site && !strcasecmp(site, "cross-site")) {
        return 1;
    }
    if (!origin) {
        return 0;
    }
    self = ap_construct_url(r->pool, "", r);
    /* ap_construct_url ends with the (empty) path: drop a trailing '/' */
    if (*self && self[strlen(self) - 1] == '/') {
        self = apr_pstrmemdup(r->pool, self, strlen(self) - 1);
    }
    return strcasecmp(origin, self) != 0;
}

/* What the module reads of a request besides its body, checked as on the
 * SCIM location (SPEC 5.1): path, query string, If-Match/If-None-Match.
 * NULL if fine, else why not. */
static const char *request_problem(request_rec *r, const char *path)
{
    static const char *const conditional[] = { "If-Match", "If-None-Match", NULL };
    const char *err = NULL, **tags, *v;
    apr_table_t *q;
    int any, i;

    if (!scim_utf8_valid(path, strlen(path))) {
        return "the request path is not valid UTF-8";
    }
    if (scim_http_parse_query(r->pool, r->args, &q, &err) != APR_SUCCESS) {
        return err;
    }
    for (i = 0; conditional[i]; i++) {
        if ((v = apr_table_get(r->headers_in, conditional[i]))
            && scim_http_parse_etags(r->pool, v, &tags, &any, &err)
                != APR_SUCCESS) {
            return apr_pstrcat(r->pool, conditional[i], ": ", err, NULL);
        }
    }
    return NULL;
}

int mod_scim_admin_handler(request_rec *r)
{
    mod_scim_dir_conf_t *d;
    admin_req_t a;
    const char *path, *problem;
    apr_status_t rv;

    if (!r->handler || strcmp(r->handler, MOD_SCIM_ADMIN_HANDLER)) {
        return DECLINED;
    }
    d = mod_scim_dir_conf(r);
    mod_scim_security_headers(r);
    memset(&a, 0, sizeof(a));
    a.r = r;
    if (!d->tenant) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      SCIMLOGNO(00045) "SetHandler %s without SCIMTenant "
                                       "in this location",
                      MOD_SCIM_ADMIN_HANDLER);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    path = mod_scim_subpath(r);
    if (!*path && (r->method_number == M_GET)) {
        /* The page's relative URLs need the trailing slash. */
        apr_table_setn(r->headers_out, "Location",
                       apr_pstrcat(r->pool, r->uri, "/", r->args ? "?" : "",
                                   r->args, NULL));
        return HTTP_MOVED_PERMANENTLY;
    }
    apr_table_setn(r->headers_out, "Content-Security-Policy", API_CSP);
    if (is_cross_site(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      SCIMLOGNO(00046) "cross-site request refused");
        return mod_scim_admin_error(r, HTTP_FORBIDDEN, "cross_site",
                                    "Cross-site requests are refused.");
    }
    if (!r->user) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      SCIMLOGNO(00047) "no authenticated user on the admin "
                                       "location of tenant '%s' (configure "
                                       "AuthType and Require there)",
                      d->tenant);
        return mod_scim_admin_error(r, HTTP_FORBIDDEN, "forbidden",
                                    "You are not an administrator of this "
                                    "tenant.");
    }
    if (!scim_utf8_valid(r->user, strlen(r->user))) {
        /* no administrator has such a name (and the database would refuse
         * the bytes: a 503 for a client's mistake) */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      SCIMLOGNO(00201) "a user name that is not UTF-8 is "
                                       "not an administrator of tenant '%s'",
                      d->tenant);
        return mod_scim_admin_error(r, HTTP_FORBIDDEN, "forbidden",
                                    "You are not an administrator of this "
                                    "tenant.");
    }
    if (!(a.db = mod_scim_db(r))) {
        return db_failed(&a);
    }
    rv = scim_store_admin_authorize(a.db, r->pool, d->tenant, r->user, &a.admin,
                                    &a.tenant);
    if (rv == APR_ENOENT) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      SCIMLOGNO(00048) "SCIMTenant '%s': no such tenant in "
                                       "the database (scimctl tenant add)",
                      d->tenant);
        return not_found(r, "no such tenant");
    }
    if (rv == APR_EACCES) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      SCIMLOGNO(00049) "'%s' is not an administrator of "
                                       "tenant '%s'",
                      r->user, d->tenant);
        return mod_scim_admin_error(r, HTTP_FORBIDDEN, "forbidden",
                                    "You are not an administrator of this "
                                    "tenant.");
    }
    if (rv != APR_SUCCESS) {
        return db_failed(&a);
    }
    if (mod_scim_redact_query_token(r)) {
        return mod_scim_admin_error(r, HTTP_BAD_REQUEST, "invalid_request",
                                    "Tokens are not accepted in the query "
                                    "string.");
    }
    if ((problem = request_problem(r, path)) != NULL) {
        return mod_scim_admin_error(r, HTTP_BAD_REQUEST, "invalid_request",
                                    problem);
    }
    if (!strncmp(path, "/api/", 5) || !strcmp(path, "/api")) {
        if (!split_path(&a, path)) {
            return not_found(r, "no such API endpoint");
        }
        return route_api(&a);
    }
    return mod_scim_admin_page(r, path);
}
