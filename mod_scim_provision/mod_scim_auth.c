/* Provisioning token authentication of the SCIM location (SPEC 3.8, 4). */

#include <apr_strings.h>
#include <apr_lib.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_auth.h>

#include "mod_scim_provision.h"
#include "scim_http.h"
#include "scim_store_res.h"

APLOG_USE_MODULE(scim_provision);

/* The one 401 of SPEC 4 (its body comes from respond(): the same whatever
 * the reason, which only the error log learns). */
void mod_scim_auth_refused(request_rec *r, int token_sent, const char *reason)
{
    mod_scim_count(MOD_SCIM_C_AUTH_FAILURES);
    mod_scim_metrics_reject(r, reason);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  SCIMLOGNO(00030) "provisioning token rejected for tenant "
                                   "'%s': %s",
                  mod_scim_dir_conf(r)->tenant, reason ? reason : "refused");
    apr_table_setn(r->headers_out, "WWW-Authenticate",
                   token_sent ? "Bearer realm=\"scim\", error=\"invalid_token\""
                              : "Bearer realm=\"scim\"");
}

void mod_scim_auth_verified(request_rec *r, const scim_store_req_t *rq, int basic)
{
    r->user = apr_pstrdup(r->pool, rq->token.user_name);
    r->ap_auth_type = basic ? "Basic" : "Bearer";
    mod_scim_count(MOD_SCIM_C_REQUESTS);
    mod_scim_lastused_record(r, rq->token.tenant_id, rq->token.token_id);
}

/* The connection's memo of the token it last sent (scim_jwt_verify_memo):
 * Okta and Entra send one token on every request of a keep-alive
 * connection, which then pays its MAC, base64url and JSON once. Kept in the
 * connection's own configuration vector, so one thread at a time uses it
 * (an HTTP/2 stream has a secondary connection of its own: never move the
 * memo to c->master, which worker threads share), and gone with the
 * connection. It holds the token's SHA-256 and claims, not the token. The
 * token's row is still checked by every request's statement, so a revoked
 * or deleted token is refused on the next request. */
static scim_jwt_memo_t *conn_memo(conn_rec *c)
{
    scim_jwt_memo_t *m = ap_get_module_config(c->conn_config,
                                              &scim_provision_module);

    if (!m) {
        m = scim_jwt_memo_make(c->pool);
        ap_set_module_config(c->conn_config, &scim_provision_module, m);
    }
    return m;
}

int mod_scim_authenticate(request_rec *r, scim_store_req_t *rq,
                          const char **basic_user, const char **reason,
                          int *token_sent)
{
    mod_scim_srv_conf_t *conf = mod_scim_srv_conf(r->server);
    const char *hdr, *token = NULL, *user = NULL;
    scim_auth_scheme_e scheme;
    scim_token_claims_t claims;
    apr_size_t len;

    *basic_user = NULL;
    *reason = NULL;
    *token_sent = 1;
    /* Tokens travel only in the Authorization header (SPEC 3.8). */
    if (mod_scim_redact_query_token(r)) {
        *reason = "token in the query string (redacted)";
        return HTTP_UNAUTHORIZED;
    }
    hdr = apr_table_get(r->headers_in, "Authorization");
    if (!hdr) {
        *token_sent = 0;
        *reason = "no Authorization header";
        return HTTP_UNAUTHORIZED;
    }
    if (scim_http_parse_authorization(r->pool, hdr, &scheme, &user, &token, reason)
        != APR_SUCCESS) {
        return HTTP_UNAUTHORIZED;
    }
    len = strlen(token);
    if (scim_jwt_verify_memo(r->pool, conn_memo(r->connection), conf->keys,
                             token, len, conf->issuer, rq->tenant_slug,
                             (apr_int64_t)apr_time_sec(apr_time_now()), &claims,
                             rq->token_hash, reason)
        != APR_SUCCESS) {
        if (!*reason) {
            *reason = "invalid token";
        }
        return HTTP_UNAUTHORIZED;
    }
    rq->jti = claims.jti;
    rq->sub = claims.sub;
    rq->idp = claims.idp;
    *basic_user = user;
    return OK;
}

/* Require scim-account <tenant>: only active SCIM users of the tenant get
 * in, after the site's SSO module has authenticated them (SPEC 5.3). The
 * database is asked on every request, so a deactivation counts at once. */
static authz_status scim_account_check(request_rec *r, const char *require,
                                       const void *parsed)
{
    const char *tenant = require;
    scim_db_t *db;
    apr_status_t rv;
    int active = 0;

    (void)parsed;
    while (apr_isspace(*tenant)) {
        tenant++;
    }
    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    if (!scim_utf8_valid(r->user, strlen(r->user))) {
        /* no account has such a name; the database would refuse the bytes */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      SCIMLOGNO(00200) "a user name that is not UTF-8 is "
                                       "not an account of tenant '%s'",
                      tenant);
        return AUTHZ_DENIED;
    }
    if (!(db = mod_scim_db(r))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      SCIMLOGNO(00032) "cannot check scim-account %s: %s",
                      tenant, "no database connection");
        return AUTHZ_GENERAL_ERROR;
    }
    rv = scim_store_account_active(db, r->pool, tenant, r->user, &active);
    if (rv == APR_SUCCESS && active) {
        return AUTHZ_GRANTED;
    }
    if (rv != APR_SUCCESS && rv != APR_ENOENT) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      SCIMLOGNO(00032) "cannot check scim-account %s: %s",
                      tenant, db->error);
        return AUTHZ_GENERAL_ERROR;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  SCIMLOGNO(00033) "'%s' is not an active account of tenant "
                                   "'%s'",
                  r->user, tenant);
    return AUTHZ_DENIED;
}

static const char *scim_account_parse(cmd_parms *cmd, const char *require,
                                      const void **parsed)
{
    (void)parsed;
    while (apr_isspace(*require)) {
        require++;
    }
    if (!scim_is_tenant_slug(require)) {
        return apr_psprintf(cmd->pool,
                            "Require scim-account: '%s' is not a tenant slug",
                            require);
    }
    return NULL;
}

static const authz_provider scim_account_provider = {
    &scim_account_check,
    &scim_account_parse,
};

void mod_scim_auth_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "scim-account",
                              AUTHZ_PROVIDER_VERSION, &scim_account_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}
