/* The SCIM 2.0 endpoint of a tenant (SPEC 5.1): authenticates every request
 * with a provisioning token, then routes on path_info. */

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>

#include "mod_scim_provision.h"
#include "scim_json.h"

APLOG_USE_MODULE(scim_provision);

#define SCIM_CTYPE "application/scim+json"

static int service_provider_config(request_rec *r)
{
    mod_scim_srv_conf_t *conf = mod_scim_srv_conf(r->server);
    json_t *doc = json_pack(
        "{s:[s], s:s, s:{s:b}, s:{s:b, s:i, s:I}, s:{s:b, s:i}, "
        "s:{s:b}, s:{s:b}, s:{s:b}, s:[{s:s, s:s, s:s, s:b}, "
        "{s:s, s:s, s:s}], s:{s:s}}",
        "schemas", "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
        "documentationUri", "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch", "supported", 0,
        "bulk", "supported", 0, "maxOperations", 0, "maxPayloadSize",
        (json_int_t)conf->max_body,
        "filter", "supported", 0, "maxResults", 0,
        "changePassword", "supported", 0,
        "sort", "supported", 0,
        "etag", "supported", 0,
        "authenticationSchemes",
        "type", "oauthbearertoken", "name", "Provisioning token",
        "description", "Bearer JWT created on the Auto Provisioning Token page",
        "primary", 1,
        "type", "httpbasic", "name", "HTTP Basic",
        "description", "Generated administrator username and the token as "
                       "password",
        "meta", "resourceType", "ServiceProviderConfig");

    return mod_scim_send_json(r, HTTP_OK, SCIM_CTYPE,
                              scim_json_pool_own(r->pool, doc));
}

int mod_scim_scim_handler(request_rec *r)
{
    mod_scim_principal_t *who = NULL;
    const char *path;

    if (!r->handler || strcmp(r->handler, MOD_SCIM_HANDLER)) {
        return DECLINED;
    }
    mod_scim_security_headers(r);
    if (!mod_scim_dir_conf(r)->tenant) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      SCIMLOGNO(00060) "SetHandler %s without SCIMTenant "
                                       "in this location",
                      MOD_SCIM_HANDLER);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* Nothing is served without a valid token, whatever the site's
     * other configuration says (SPEC 5.1). */
    if (mod_scim_authenticate(r, &who) != OK) {
        return OK;
    }
    path = mod_scim_subpath(r);
    if (!strcmp(path, "/ServiceProviderConfig")) {
        if (r->method_number != M_GET) {
            apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
            return mod_scim_scim_error(r, HTTP_METHOD_NOT_ALLOWED, NULL,
                                       "Only GET is allowed here");
        }
        return service_provider_config(r);
    }
    return mod_scim_scim_error(r, HTTP_NOT_FOUND, NULL,
                               "No such SCIM endpoint");
}
