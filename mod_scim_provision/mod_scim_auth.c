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

#define AUTH_FAILED_DETAIL                         \
    "Authentication failed: a valid provisioning " \
    "token is required"

/* The one 401 of SPEC 4: same body whatever the reason, which only the
 * error log learns. */
static int unauthorized(request_rec *r, int token_sent, const char *reason)
{
    mod_scim_count(MOD_SCIM_C_AUTH_FAILURES);
    mod_scim_metrics_reject(r, reason);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  SCIMLOGNO(00030) "provisioning token rejected for tenant "
                                   "'%s': %s",
                  mod_scim_dir_conf(r)->tenant, reason);
    apr_table_setn(r->headers_out, "WWW-Authenticate",
                   token_sent ? "Bearer realm=\"scim\", error=\"invalid_token\""
                              : "Bearer realm=\"scim\"");
    mod_scim_scim_error(r, HTTP_UNAUTHORIZED, NULL, AUTH_FAILED_DETAIL);
    return HTTP_UNAUTHORIZED;
}

int mod_scim_authenticate(request_rec *r, mod_scim_principal_t **who)
{
    mod_scim_srv_conf_t *conf = mod_scim_srv_conf(r->server);
    const char *tenant = mod_scim_dir_conf(r)->tenant;
    const char *hdr, *token = NULL, *user = NULL, *reason = NULL;
    scim_auth_scheme_e scheme;
    scim_token_claims_t claims;
    mod_scim_principal_t *p;
    apr_size_t len;
    apr_status_t rv;

    *who = NULL;
    /* Tokens travel only in the Authorization header (SPEC 3.8). */
    if (mod_scim_redact_query_token(r)) {
        return unauthorized(r, 1, "token in the query string (redacted)");
    }
    hdr = apr_table_get(r->headers_in, "Authorization");
    if (!hdr) {
        return unauthorized(r, 0, "no Authorization header");
    }
    if (scim_http_parse_authorization(r->pool, hdr, &scheme, &user, &token, &reason)
        != APR_SUCCESS) {
        return unauthorized(r, 1, reason);
    }
    len = strlen(token);
    rv = scim_jwt_verify(r->pool, conf->keys, token, len, conf->issuer, tenant,
                         (apr_int64_t)apr_time_sec(apr_time_now()), &claims,
                         &reason);
    if (rv != APR_SUCCESS) {
        return unauthorized(r, 1, reason ? reason : "invalid token");
    }
    p = apr_pcalloc(r->pool, sizeof(*p));
    p->tenant_slug = tenant;
    p->jti = claims.jti;
    p->sub = claims.sub;
    p->idp = claims.idp;
    p->basic_user = user;
    scim_sha256(token, len, p->token_hash);
    *who = p;
    return OK;
}

int mod_scim_auth_denied(request_rec *r)
{
    return unauthorized(r, 1,
                        "token unknown, deleted, expired or not matching "
                        "its record");
}

void mod_scim_auth_accepted(request_rec *r, const char *tenant_id,
                            const char *token_id, const char *user_name)
{
    r->user = apr_pstrdup(r->pool, user_name);
    r->ap_auth_type = apr_table_get(r->headers_in, "Authorization")
            && !strncasecmp(apr_table_get(r->headers_in, "Authorization"),
                            "Basic", 5)
        ? "Basic"
        : "Bearer";
    mod_scim_count(MOD_SCIM_C_REQUESTS);
    mod_scim_lastused_record(r, tenant_id, token_id);
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
