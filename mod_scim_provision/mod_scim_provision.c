/* mod_scim_provision: inbound SCIM 2.0 provisioning from Okta and Microsoft
 * Entra ID, with provisioning tokens managed on an admin page. This file
 * holds the module record, the hooks and the startup procedure. */

#include <apr_strings.h>
#include <apr_optional.h>
#include <stdlib.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_main.h>
#include <http_request.h>
#include <util_cfgtree.h>
#include <apr_dbd.h>
#include <mod_dbd.h>

#include "mod_scim_provision.h"

APLOG_USE_MODULE(scim_provision);

/* The first DBDriver directive anywhere in the configuration, or NULL. */
static const char *find_directive(ap_directive_t *node, const char *name)
{
    const char *found;

    for (; node; node = node->next) {
        if (!strcasecmp(node->directive, name)) {
            return node->args ? node->args : "";
        }
        if (node->first_child
            && (found = find_directive(node->first_child, name)) != NULL) {
            return found;
        }
    }
    return NULL;
}

/* Is a tenant configured anywhere: a SCIMTenant, or a `Require
 * scim-account`? Without one the module is inert (it checks, opens and
 * serves nothing), so that a package can install and enable it before the
 * site is set up without stopping httpd. */
static int tenant_configured(ap_directive_t *node)
{
    for (; node; node = node->next) {
        if (!strcasecmp(node->directive, "SCIMTenant")) {
            return 1;
        }
        if (!strcasecmp(node->directive, "Require") && node->args
            && ap_strcasestr(node->args, "scim-account")) {
            return 1;
        }
        if (node->first_child && tenant_configured(node->first_child)) {
            return 1;
        }
    }
    return 0;
}

/* Everything that must hold before httpd serves: a readable key set, a
 * signing key, and mod_dbd with the pgsql driver. */
static const char *startup_checks(apr_pool_t *p, server_rec *s)
{
    const char *err, *driver;

    if ((err = mod_scim_check_config(p, s)) != NULL) {
        return err;
    }
    if (!APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire)) {
        return "mod_dbd is not loaded: add LoadModule dbd_module and "
               "DBDriver pgsql (mod_scim_provision keeps everything in "
               "PostgreSQL)";
    }
    driver = find_directive(ap_conftree, "DBDriver");
    if (!driver) {
        return "DBDriver is not set: mod_scim_provision needs "
               "`DBDriver pgsql` and DBDParams";
    }
    if (strcasecmp(driver, "pgsql")) {
        return apr_psprintf(p,
                            "DBDriver %s: mod_scim_provision needs the pgsql "
                            "driver",
                            driver);
    }
    return NULL;
}

/* `apachectl -t`: post_config does not run, and this hook cannot fail, so
 * a configuration that would not start is reported and exits here. */
static void test_config(apr_pool_t *pconf, server_rec *s)
{
    const char *err;

    if (!tenant_configured(ap_conftree)) {
        return;
    }
    if ((err = startup_checks(pconf, s)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, SCIMLOGNO(00001) "%s", err);
        exit(1);
    }
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    const char *err;

    (void)plog;
    (void)ptemp;
    if (!tenant_configured(ap_conftree)) {
        if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                         SCIMLOGNO(00170) "no SCIMTenant and no Require "
                                          "scim-account configured: "
                                          "mod_scim_provision is inactive");
        }
        return OK;
    }
    if ((err = startup_checks(pconf, s)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, SCIMLOGNO(00002) "%s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    mod_scim_set_dbd_acquire((void *)APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire));
    if (mod_scim_notify_post_config(pconf, s) != OK) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        mod_scim_srv_conf_t *c = mod_scim_srv_conf(s);

        mod_scim_status_post_config(pconf, s);
        mod_scim_page_check_assets(ptemp, s);
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     SCIMLOGNO(00003) "mod_scim_provision ready: %d key(s) "
                                      "from %s, signing with '%s'",
                     c->keys->keys->nelts, c->key_file, c->signing->kid);
    }
    return OK;
}

static int handler(request_rec *r)
{
    if (!r->handler) {
        return DECLINED;
    }
    if (!strcmp(r->handler, MOD_SCIM_HANDLER)) {
        return mod_scim_scim_handler(r);
    }
    if (!strcmp(r->handler, MOD_SCIM_ADMIN_HANDLER)) {
        return mod_scim_admin_handler(r);
    }
    if (!strcmp(r->handler, MOD_SCIM_METRICS_HANDLER)) {
        return mod_scim_metrics_handler(r);
    }
    return DECLINED;
}

static void register_hooks(apr_pool_t *p)
{
    static const char *const need_dbd[] = { "mod_dbd.c", NULL };

    ap_hook_test_config(test_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, need_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_header_parser(mod_scim_redact_hook, NULL, NULL, APR_HOOK_FIRST);
    mod_scim_auth_register(p);
    mod_scim_status_register(p);
    mod_scim_notify_register_hooks(p);
    mod_scim_metrics_register(p);
}

/* clang-format off */
module AP_MODULE_DECLARE_DATA scim_provision_module = {
    STANDARD20_MODULE_STUFF,
    mod_scim_create_dir_conf,
    mod_scim_merge_dir_conf,
    mod_scim_create_srv_conf,
    mod_scim_merge_srv_conf,
    mod_scim_cmds,
    register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
/* clang-format on */
