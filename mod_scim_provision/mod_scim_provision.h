#ifndef MOD_SCIM_PROVISION_H
#define MOD_SCIM_PROVISION_H

/* Glue shared by the module's files: configuration, request helpers. */

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <jansson.h>

#include "scim_db.h"
#include "scim_jwt.h"
#include "scim_store.h"
#include "scim_util.h"

extern module AP_MODULE_DECLARE_DATA scim_provision_module;

#define MOD_SCIM_HANDLER       "scim-provision"
#define MOD_SCIM_ADMIN_HANDLER "scim-provision-admin"

#define MOD_SCIM_UNSET         (-1)

/* Defaults of the server-wide settings. */
#define MOD_SCIM_DEFAULT_ISSUER         "mod_scim_provision"
#define MOD_SCIM_DEFAULT_MAX_BODY       (1024 * 1024)
#define MOD_SCIM_DEFAULT_ADMIN_MAX_BODY (16 * 1024)
#define MOD_SCIM_RETRY_AFTER            "5"

typedef struct {
    const char *key_file; /* SCIMTokenKeyFile */
    scim_keyset_t *keys; /* read from key_file by the parent */
    const char *signing_kid; /* SCIMTokenSigningKey; NULL: the first key */
    const scim_jwk_t *signing; /* resolved at startup */
    const char *issuer; /* SCIMTokenIssuer */
    int policy; /* SCIMTokenPolicy, MOD_SCIM_UNSET */
    apr_off_t max_body; /* SCIMMaxBodySize, -1 unset */
    const char *assets_dir; /* SCIMAssetsDir: the page's files */
    /* Expiry reminders (mod_scim_notify.c) */
    apr_array_header_t *notify_days; /* SCIMNotifyDays: ints, descending */
    apr_interval_time_t notify_interval; /* SCIMNotifyInterval, -1 unset */
    const char **mail_argv; /* SCIMMailCommand, NULL-terminated */
    const char *mail_from; /* SCIMMailFrom */
    const char *admin_url; /* SCIMAdminURL */
    apr_interval_time_t mail_timeout; /* SCIMMailTimeout, -1 unset */
    int notify_max_attempts; /* SCIMNotifyMaxAttempts, -1 unset */
    /* "Last used" of tokens (mod_scim_lastused.c); the main server's apply */
    int last_used_slots; /* SCIMLastUsedSlots, -1 unset */
    apr_interval_time_t last_used_interval; /* SCIMLastUsedInterval, -1 */
} mod_scim_srv_conf_t;

#define MOD_SCIM_DEFAULT_NOTIFY_INTERVAL apr_time_from_sec(3600)
#define MOD_SCIM_DEFAULT_MAIL_TIMEOUT    apr_time_from_sec(30)
#define MOD_SCIM_DEFAULT_MAX_ATTEMPTS    5

typedef struct {
    const char *location; /* the <Location> path this config belongs to */
    const char *tenant; /* SCIMTenant slug, NULL unset */
    int policy; /* SCIMTokenPolicy, MOD_SCIM_UNSET */
} mod_scim_dir_conf_t;

/* mod_scim_config.c */
extern const command_rec mod_scim_cmds[];
void *mod_scim_create_srv_conf(apr_pool_t *p, server_rec *s);
void *mod_scim_merge_srv_conf(apr_pool_t *p, void *base, void *add);
void *mod_scim_create_dir_conf(apr_pool_t *p, char *dir);
void *mod_scim_merge_dir_conf(apr_pool_t *p, void *base, void *add);
/* Startup checks of every server: key set, signing key. NULL if fine. */
const char *mod_scim_check_config(apr_pool_t *p, server_rec *s);
mod_scim_srv_conf_t *mod_scim_srv_conf(server_rec *s);
mod_scim_dir_conf_t *mod_scim_dir_conf(request_rec *r);
scim_token_policy_e mod_scim_policy(request_rec *r);

/* mod_scim_http.c: request and response helpers */
/* The request path below the handler's <Location> ("" for the location
 * itself, else starting with '/'); r->path_info is relative to the file
 * system, not to the location. */
const char *mod_scim_subpath(request_rec *r);
/* The database connection lent by mod_dbd for this request, or NULL (the
 * caller answers 503). */
scim_db_t *mod_scim_db(request_rec *r);
void mod_scim_set_dbd_acquire(void *fn);
/* Read the whole request body, at most max bytes. Returns OK, or
 * HTTP_REQUEST_ENTITY_TOO_LARGE / HTTP_BAD_REQUEST with *err set. */
int mod_scim_read_body(request_rec *r, apr_off_t max, char **buf,
                       apr_size_t *len, const char **err);
/* Headers every response of the module carries. */
void mod_scim_security_headers(request_rec *r);
/* Write a body with the given status and content type. A NULL body (a
 * response that could not be built) is logged and replaced by a constant
 * error body of that content type (500 instead of a 2xx). */
int mod_scim_send_text(request_rec *r, int status, const char *ctype,
                       const char *body);
/* Write a JSON document with the given status and content type (doc may be
 * NULL: see mod_scim_send_text). */
int mod_scim_send_json(request_rec *r, int status, const char *ctype,
                       json_t *doc);
/* A SCIM Error document / its text; client text in detail is made safe
 * (scim_util_quote) and cut, and the text is never NULL. */
json_t *mod_scim_scim_error_doc(apr_pool_t *p, int status,
                                const char *scim_type, const char *detail);
const char *mod_scim_scim_error_body(apr_pool_t *p, int status,
                                     const char *scim_type, const char *detail);
/* Admin API error: {"error": code, "message": message}; message made safe
 * and cut like a SCIM detail, never failing. */
int mod_scim_admin_error(request_rec *r, int status, const char *code,
                         const char *message);
/* SCIM Error body (RFC 7644 3.12); scim_type may be NULL. */
int mod_scim_scim_error(request_rec *r, int status, const char *scim_type,
                        const char *detail);
/* True if the request's query string carries something token-like; the
 * request line, query and URI are redacted for the logs when it does. */
int mod_scim_redact_query_token(request_rec *r);
/* header_parser hook: the redaction above on every location with a
 * SCIMTenant (SCIM and admin), before authentication. */
int mod_scim_redact_hook(request_rec *r);

/* mod_scim_auth.c: the verified claims of the request's provisioning token
 * and the SHA-256 of its bytes (no database yet: the first store call of
 * the request checks the token row, in its own statement). */
typedef struct {
    const char *tenant_slug;
    const char *jti;
    const char *sub;
    const char *idp;
    const char *basic_user; /* the Basic username, or NULL (Bearer) */
    unsigned char token_hash[32];
} mod_scim_principal_t;
/* Verify the request's provisioning token (signature, claims) for the
 * location's tenant. OK with *who set, or the status of the 401 response
 * already sent. */
int mod_scim_authenticate(request_rec *r, mod_scim_principal_t **who);
/* The store found no live token for these claims: the 401 (sent). */
int mod_scim_auth_denied(request_rec *r);
/* The store found the token row: r->user, counters, last use. */
void mod_scim_auth_accepted(request_rec *r, const char *tenant_id,
                            const char *token_id, const char *user_name);
/* Registers the authz provider "scim-account". */
void mod_scim_auth_register(apr_pool_t *p);

/* mod_scim_page.c: the page and its assets (path "/" or "/assets/NAME"). */
int mod_scim_admin_page(request_rec *r, const char *path);
/* Startup: warns when a location serves the page but SCIMAssetsDir holds no
 * readable index.html. */
void mod_scim_page_check_assets(apr_pool_t *p, server_rec *s);

/* mod_scim_notify.c: expiry reminders (a child singleton watchdog). */
void mod_scim_notify_register_hooks(apr_pool_t *p);
/* Registers the job when SCIMMailCommand is set; OK, or an error status
 * after logging why (e.g. mod_watchdog missing). */
int mod_scim_notify_post_config(apr_pool_t *pconf, server_rec *s);

/* mod_scim_status.c: counters shown on server-status. */
typedef enum {
    MOD_SCIM_C_REQUESTS = 0, /* SCIM requests with a valid token */
    MOD_SCIM_C_AUTH_FAILURES, /* SCIM requests refused with 401 */
    MOD_SCIM_C_TOKENS_CREATED,
    MOD_SCIM_C_TOKENS_REFUSED, /* 409: the two-token limit */
    MOD_SCIM_C_TOKENS_DELETED,
    MOD_SCIM_C_DB_ERRORS, /* answered 503 */
    MOD_SCIM_C_REMINDERS_SENT,
    MOD_SCIM_C_REMINDERS_FAILED,
    MOD_SCIM_C_COUNT
} mod_scim_counter_e;
void mod_scim_count(mod_scim_counter_e which);
apr_uint64_t mod_scim_counter_value(mod_scim_counter_e which);
int mod_scim_status_post_config(apr_pool_t *pconf, server_rec *s);
apr_status_t mod_scim_status_reset(void *unused);
void mod_scim_status_register(apr_pool_t *p);

/* clang-format off */
#define MOD_SCIM_METRICS_HANDLER "scim-provision-metrics"
#define MOD_SCIM_DEFAULT_LAST_USED_SLOTS    4096
#define MOD_SCIM_DEFAULT_LAST_USED_INTERVAL apr_time_from_sec(30)
/* clang-format on */

/* mod_scim_metrics.c: OpenMetrics counters per tenant, in the same shared
 * memory segment as the counters above (SPEC 8). */
/* In post_config, before the segment is made: learns the tenants from the
 * configuration and returns the bytes the metrics need. */
apr_size_t mod_scim_metrics_shm_size(apr_pool_t *pconf);
void mod_scim_metrics_attach(void *base);
void mod_scim_metrics_register(apr_pool_t *p);
/* A SCIM request refused with 401, with the reason the error log gets. */
void mod_scim_metrics_reject(request_rec *r, const char *reason);
int mod_scim_metrics_handler(request_rec *r);

/* mod_scim_lastused.c: the last use of every token, kept in shared memory
 * and flushed to the database by a watchdog (SPEC 5.2). */
apr_size_t mod_scim_lastused_shm_size(server_rec *s);
void mod_scim_lastused_attach(void *base);
/* Record a use of the token by this request; never touches the database. */
void mod_scim_lastused_record(request_rec *r, const char *tenant_id,
                              const char *token_id);
/* Figures for the metrics: slots in use, slots, uses dropped for want of a
 * slot, flushes made, tokens written. */
void mod_scim_lastused_stats(apr_uint64_t *used, apr_uint64_t *slots,
                             apr_uint64_t *dropped, apr_uint64_t *flushes,
                             apr_uint64_t *written, apr_uint64_t *failed);
/* Called by mod_scim_status_post_config once the segment is attached:
 * registers the flush job (OK; without mod_watchdog it logs and does not). */
int mod_scim_lastused_post_config(apr_pool_t *pconf, server_rec *s);

/* Handlers. */
int mod_scim_scim_handler(request_rec *r);
int mod_scim_admin_handler(request_rec *r);

#endif
