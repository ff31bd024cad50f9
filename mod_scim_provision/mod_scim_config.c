/* Directives of mod_scim_provision: parsing, defaults, merging, and the
 * checks that stop httpd at startup with a message naming the directive. */

#include <apr_strings.h>
#include <apr_file_info.h>
#include <stdlib.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "mod_scim_provision.h"

APLOG_USE_MODULE(scim_provision);

void *mod_scim_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    mod_scim_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    (void)s;
    c->policy = MOD_SCIM_UNSET; /* default: overlap */
    c->max_body = -1; /* default: MOD_SCIM_DEFAULT_MAX_BODY */
    c->notify_interval = -1; /* default: one hour */
    c->mail_timeout = -1; /* default: 30 s */
    c->notify_max_attempts = -1;
    c->last_used_slots = -1; /* default: 4096 */
    c->last_used_interval = -1; /* default: 30 s */
    return c;
}

void *mod_scim_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    mod_scim_srv_conf_t *base = basev, *add = addv;
    mod_scim_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->key_file = add->key_file ? add->key_file : base->key_file;
    c->keys = add->keys ? add->keys : base->keys;
    c->signing_kid = add->signing_kid ? add->signing_kid : base->signing_kid;
    c->issuer = add->issuer ? add->issuer : base->issuer;
    c->policy = add->policy != MOD_SCIM_UNSET ? add->policy : base->policy;
    c->max_body = add->max_body >= 0 ? add->max_body : base->max_body;
    c->assets_dir = add->assets_dir ? add->assets_dir : base->assets_dir;
    c->notify_days = add->notify_days ? add->notify_days : base->notify_days;
    c->notify_interval = add->notify_interval >= 0 ? add->notify_interval
                                                   : base->notify_interval;
    c->mail_argv = add->mail_argv ? add->mail_argv : base->mail_argv;
    c->mail_from = add->mail_from ? add->mail_from : base->mail_from;
    c->admin_url = add->admin_url ? add->admin_url : base->admin_url;
    c->mail_timeout = add->mail_timeout >= 0 ? add->mail_timeout
                                             : base->mail_timeout;
    c->notify_max_attempts = add->notify_max_attempts >= 0
        ? add->notify_max_attempts
        : base->notify_max_attempts;
    c->last_used_slots = add->last_used_slots >= 0 ? add->last_used_slots
                                                   : base->last_used_slots;
    c->last_used_interval = add->last_used_interval >= 0
        ? add->last_used_interval
        : base->last_used_interval;
    return c;
}

void *mod_scim_create_dir_conf(apr_pool_t *p, char *dir)
{
    mod_scim_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->location = dir;
    c->policy = MOD_SCIM_UNSET;
    return c;
}

void *mod_scim_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    mod_scim_dir_conf_t *base = basev, *add = addv;
    mod_scim_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->location = add->location ? add->location : base->location;
    c->tenant = add->tenant ? add->tenant : base->tenant;
    c->policy = add->policy != MOD_SCIM_UNSET ? add->policy : base->policy;
    return c;
}

mod_scim_srv_conf_t *mod_scim_srv_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &scim_provision_module);
}

mod_scim_dir_conf_t *mod_scim_dir_conf(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &scim_provision_module);
}

scim_token_policy_e mod_scim_policy(request_rec *r)
{
    mod_scim_dir_conf_t *d = mod_scim_dir_conf(r);
    mod_scim_srv_conf_t *s = mod_scim_srv_conf(r->server);

    if (d->policy != MOD_SCIM_UNSET) {
        return (scim_token_policy_e)d->policy;
    }
    if (s->policy != MOD_SCIM_UNSET) {
        return (scim_token_policy_e)s->policy;
    }
    return SCIM_POLICY_OVERLAP;
}

static const char *set_tenant(cmd_parms *cmd, void *dconf, const char *arg)
{
    mod_scim_dir_conf_t *d = dconf;

    if (!cmd->path || !cmd->directive->parent
        || strcasecmp(cmd->directive->parent->directive, "<Location")) {
        return "SCIMTenant belongs inside a <Location> block (one per "
               "tenant SCIM endpoint or admin page)";
    }
    if (!scim_is_tenant_slug(arg)) {
        return apr_psprintf(cmd->pool,
                            "SCIMTenant: '%s' is not a tenant slug (1 to 63 "
                            "of a-z, 0-9 and '-', starting with a letter or "
                            "digit)",
                            arg);
    }
    d->tenant = arg;
    return NULL;
}

static const char *set_key_file(cmd_parms *cmd, void *dconf, const char *arg)
{
    mod_scim_srv_conf_t *s = mod_scim_srv_conf(cmd->server);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    const char *err = NULL;

    (void)dconf;
    if (!path) {
        return apr_psprintf(cmd->pool, "SCIMTokenKeyFile: invalid path '%s'",
                            arg);
    }
    /* Read now, in the parent, so that `apachectl -t` already fails on a
     * missing, short, duplicate or malformed key. */
    if (scim_keyset_load(cmd->pool, path, &s->keys, &err) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "SCIMTokenKeyFile: %s", err);
    }
    s->key_file = path;
    return NULL;
}

static const char *set_signing_key(cmd_parms *cmd, void *dconf, const char *arg)
{
    (void)dconf;
    mod_scim_srv_conf(cmd->server)->signing_kid = arg;
    return NULL;
}

static const char *set_issuer(cmd_parms *cmd, void *dconf, const char *arg)
{
    (void)dconf;
    if (!*arg || strlen(arg) > 256) {
        return "SCIMTokenIssuer: the issuer is 1 to 256 characters";
    }
    mod_scim_srv_conf(cmd->server)->issuer = arg;
    return NULL;
}

static const char *set_policy(cmd_parms *cmd, void *dconf, const char *arg)
{
    int policy;

    if (!strcasecmp(arg, "overlap")) {
        policy = SCIM_POLICY_OVERLAP;
    }
    else if (!strcasecmp(arg, "replace")) {
        policy = SCIM_POLICY_REPLACE;
    }
    else {
        return apr_psprintf(cmd->pool,
                            "SCIMTokenPolicy: '%s' is neither 'overlap' nor "
                            "'replace'",
                            arg);
    }
    if (cmd->path) {
        ((mod_scim_dir_conf_t *)dconf)->policy = policy;
    }
    else {
        mod_scim_srv_conf(cmd->server)->policy = policy;
    }
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *dconf, const char *arg)
{
    apr_off_t n;
    char *end;

    (void)dconf;
    if (apr_strtoff(&n, arg, &end, 10) != APR_SUCCESS || *end || n < 1024
        || n > 64 * 1024 * 1024) {
        return "SCIMMaxBodySize: a number of bytes from 1024 to 67108864";
    }
    mod_scim_srv_conf(cmd->server)->max_body = n;
    return NULL;
}

static const char *set_assets_dir(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_finfo_t fi;

    (void)dconf;
    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool) != APR_SUCCESS
        || fi.filetype != APR_DIR) {
        return apr_psprintf(cmd->pool,
                            "SCIMAssetsDir: '%s' is not a "
                            "directory",
                            arg);
    }
    mod_scim_srv_conf(cmd->server)->assets_dir = path;
    return NULL;
}

static int int_desc(const void *a, const void *b)
{
    return *(const int *)b - *(const int *)a;
}

static const char *set_notify_days(cmd_parms *cmd, void *dconf, const char *arg)
{
    mod_scim_srv_conf_t *s = mod_scim_srv_conf(cmd->server);
    char *end;
    long n;
    int i;

    (void)dconf;
    n = strtol(arg, &end, 10);
    if (*end || n < 1 || n > 365) {
        return apr_psprintf(cmd->pool,
                            "SCIMNotifyDays: '%s' is not a "
                            "number of days from 1 to 365",
                            arg);
    }
    if (!s->notify_days) {
        s->notify_days = apr_array_make(cmd->pool, 5, sizeof(int));
    }
    for (i = 0; i < s->notify_days->nelts; i++) {
        if (APR_ARRAY_IDX(s->notify_days, i, int) == (int)n) {
            return apr_psprintf(cmd->pool,
                                "SCIMNotifyDays: %ld appears "
                                "twice",
                                n);
        }
    }
    APR_ARRAY_PUSH(s->notify_days, int) = (int)n;
    qsort(s->notify_days->elts, (size_t)s->notify_days->nelts, sizeof(int),
          int_desc);
    return NULL;
}

static const char *set_seconds(cmd_parms *cmd, const char *arg, long min,
                               long max, apr_interval_time_t *out)
{
    char *end;
    long n = strtol(arg, &end, 10);

    if (*end || !*arg || n < min || n > max) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a number of "
                            "seconds from %ld to %ld",
                            cmd->cmd->name, arg, min, max);
    }
    *out = apr_time_from_sec(n);
    return NULL;
}

static const char *set_notify_interval(cmd_parms *cmd, void *dconf,
                                       const char *arg)
{
    (void)dconf;
    return set_seconds(cmd, arg, 1, 86400,
                       &mod_scim_srv_conf(cmd->server)->notify_interval);
}

static const char *set_mail_timeout(cmd_parms *cmd, void *dconf, const char *arg)
{
    (void)dconf;
    return set_seconds(cmd, arg, 1, 600,
                       &mod_scim_srv_conf(cmd->server)->mail_timeout);
}

static const char *set_max_attempts(cmd_parms *cmd, void *dconf, const char *arg)
{
    char *end;
    long n = strtol(arg, &end, 10);

    (void)dconf;
    if (*end || n < 1 || n > 100) {
        return "SCIMNotifyMaxAttempts: a number from 1 to 100";
    }
    mod_scim_srv_conf(cmd->server)->notify_max_attempts = (int)n;
    return NULL;
}

static const char *set_last_used_interval(cmd_parms *cmd, void *dconf,
                                          const char *arg)
{
    (void)dconf;
    /* at most 50 s: the token list must never be staler than 60 s
     * (SPEC 5.2), and a flush also waits for the watchdog's step and for
     * the statement itself */
    return set_seconds(cmd, arg, 1, 50,
                       &mod_scim_srv_conf(cmd->server)->last_used_interval);
}

static const char *set_last_used_slots(cmd_parms *cmd, void *dconf,
                                       const char *arg)
{
    char *end;
    long n = strtol(arg, &end, 10);

    (void)dconf;
    if (*end || !*arg || n < 16 || n > 1048576) {
        return apr_psprintf(cmd->pool,
                            "SCIMLastUsedSlots: '%s' is not a number from "
                            "16 to 1048576",
                            arg);
    }
    mod_scim_srv_conf(cmd->server)->last_used_slots = (int)n;
    return NULL;
}

static const char *set_mail_command(cmd_parms *cmd, void *dconf, const char *args)
{
    mod_scim_srv_conf_t *s = mod_scim_srv_conf(cmd->server);
    apr_array_header_t *argv = apr_array_make(cmd->pool, 4, sizeof(char *));
    const char *w;
    apr_finfo_t fi;

    (void)dconf;
    while (*args && (w = ap_getword_conf(cmd->pool, &args)) && *w) {
        APR_ARRAY_PUSH(argv, const char *) = w;
    }
    if (argv->nelts == 0) {
        return "SCIMMailCommand: name the program (and its arguments)";
    }
    w = APR_ARRAY_IDX(argv, 0, const char *);
    if (*w != '/') {
        return apr_psprintf(cmd->pool,
                            "SCIMMailCommand: '%s' is not an "
                            "absolute path (the program runs without a "
                            "shell)",
                            w);
    }
    if (apr_stat(&fi, w, APR_FINFO_TYPE | APR_FINFO_PROT, cmd->pool) != APR_SUCCESS
        || fi.filetype != APR_REG) {
        return apr_psprintf(cmd->pool, "SCIMMailCommand: no program '%s'", w);
    }
    APR_ARRAY_PUSH(argv, const char *) = NULL;
    s->mail_argv = (const char **)argv->elts;
    return NULL;
}

static const char *set_mail_from(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *at = strchr(arg, '@');

    (void)dconf;
    if (!at || at == arg || !at[1] || strpbrk(arg, " \t\r\n<>\"")) {
        return apr_psprintf(cmd->pool,
                            "SCIMMailFrom: '%s' is not an "
                            "e-mail address",
                            arg);
    }
    mod_scim_srv_conf(cmd->server)->mail_from = arg;
    return NULL;
}

static const char *set_admin_url(cmd_parms *cmd, void *dconf, const char *arg)
{
    (void)dconf;
    if ((strncmp(arg, "https://", 8) && strncmp(arg, "http://", 7))
        || strpbrk(arg, " \t\r\n")) {
        return apr_psprintf(cmd->pool,
                            "SCIMAdminURL: '%s' is not an http(s) "
                            "URL",
                            arg);
    }
    mod_scim_srv_conf(cmd->server)->admin_url = arg;
    return NULL;
}

/* clang-format off */
const command_rec mod_scim_cmds[] = {
    AP_INIT_TAKE1("SCIMTenant", set_tenant, NULL, ACCESS_CONF | RSRC_CONF,
        "the tenant (slug) this SCIM endpoint or admin page serves"),
    AP_INIT_TAKE1("SCIMTokenKeyFile", set_key_file, NULL, RSRC_CONF,
        "JWK Set file with the HS256 keys of provisioning tokens"),
    AP_INIT_TAKE1("SCIMTokenSigningKey", set_signing_key, NULL, RSRC_CONF,
        "kid of the key that signs new tokens (default: the first)"),
    AP_INIT_TAKE1("SCIMTokenIssuer", set_issuer, NULL, RSRC_CONF,
        "iss of new tokens, checked on every token"),
    AP_INIT_TAKE1("SCIMTokenPolicy", set_policy, NULL, RSRC_CONF | ACCESS_CONF,
        "overlap (two live tokens) or replace (a new token retires the old)"),
    AP_INIT_TAKE1("SCIMMaxBodySize", set_max_body, NULL, RSRC_CONF,
        "largest SCIM request body in bytes (default 1048576)"),
    AP_INIT_TAKE1("SCIMAssetsDir", set_assets_dir, NULL, RSRC_CONF,
        "directory of the admin page's files (default: the installed ones)"),
    AP_INIT_ITERATE("SCIMNotifyDays", set_notify_days, NULL, RSRC_CONF,
        "days before expiry when reminders go out (default 30 14 7 3 1)"),
    AP_INIT_TAKE1("SCIMNotifyInterval", set_notify_interval, NULL, RSRC_CONF,
        "seconds between runs of the reminder job (default 3600)"),
    AP_INIT_RAW_ARGS("SCIMMailCommand", set_mail_command, NULL, RSRC_CONF,
        "program (absolute path) and arguments that deliver a message on "
        "standard input, sendmail-style; run without a shell"),
    AP_INIT_TAKE1("SCIMMailFrom", set_mail_from, NULL, RSRC_CONF,
        "sender address of reminder mail"),
    AP_INIT_TAKE1("SCIMAdminURL", set_admin_url, NULL, RSRC_CONF,
        "link put in reminder mail; {tenant} is replaced by the slug"),
    AP_INIT_TAKE1("SCIMMailTimeout", set_mail_timeout, NULL, RSRC_CONF,
        "seconds before the mail program is killed (default 30)"),
    AP_INIT_TAKE1("SCIMNotifyMaxAttempts", set_max_attempts, NULL, RSRC_CONF,
        "deliveries tried before a reminder is given up (default 5)"),
    AP_INIT_TAKE1("SCIMLastUsedSlots", set_last_used_slots, NULL, RSRC_CONF,
        "tokens whose last use shared memory holds between two flushes "
        "(default 4096)"),
    AP_INIT_TAKE1("SCIMLastUsedInterval", set_last_used_interval, NULL,
        RSRC_CONF, "seconds between flushes of the tokens' last use to the "
        "database, 1 to 60 (default 30)"),
    { NULL }
};
/* clang-format on */

const char *mod_scim_check_config(apr_pool_t *p, server_rec *s)
{
    for (; s; s = s->next) {
        mod_scim_srv_conf_t *c = mod_scim_srv_conf(s);

        if (!c->keys) {
            return "SCIMTokenKeyFile is not set: mod_scim_provision needs "
                   "a key file (create one with `scimctl keygen FILE`)";
        }
        if (c->signing_kid) {
            c->signing = scim_keyset_find(c->keys, c->signing_kid);
            if (!c->signing) {
                return apr_psprintf(p,
                                    "SCIMTokenSigningKey: no key with kid "
                                    "'%s' in %s",
                                    c->signing_kid, c->key_file);
            }
        }
        else {
            c->signing = &APR_ARRAY_IDX(c->keys->keys, 0, scim_jwk_t);
        }
        if (!c->issuer) {
            c->issuer = MOD_SCIM_DEFAULT_ISSUER;
        }
        if (!c->notify_days) {
            static const int defaults[] = { 30, 14, 7, 3, 1 };
            int i;

            c->notify_days = apr_array_make(p, 5, sizeof(int));
            for (i = 0; i < 5; i++) {
                APR_ARRAY_PUSH(c->notify_days, int) = defaults[i];
            }
        }
        if (c->notify_interval < 0) {
            c->notify_interval = MOD_SCIM_DEFAULT_NOTIFY_INTERVAL;
        }
        if (c->mail_timeout < 0) {
            c->mail_timeout = MOD_SCIM_DEFAULT_MAIL_TIMEOUT;
        }
        if (c->notify_max_attempts < 0) {
            c->notify_max_attempts = MOD_SCIM_DEFAULT_MAX_ATTEMPTS;
        }
        if (c->last_used_slots < 0) {
            c->last_used_slots = MOD_SCIM_DEFAULT_LAST_USED_SLOTS;
        }
        if (c->last_used_interval < 0) {
            c->last_used_interval = MOD_SCIM_DEFAULT_LAST_USED_INTERVAL;
        }
        if (c->mail_argv && !c->mail_from) {
            return "SCIMMailFrom is not set: reminder mail needs a sender "
                   "(SCIMMailCommand is set)";
        }
        if (!c->assets_dir) {
            c->assets_dir = MOD_SCIM_ASSETS_DIR;
        }
        if (c->max_body < 0) {
            c->max_body = MOD_SCIM_DEFAULT_MAX_BODY;
        }
    }
    return NULL;
}
