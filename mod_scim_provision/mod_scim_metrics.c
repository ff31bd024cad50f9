/* Metrics for Prometheus (SPEC 8): `SetHandler scim-provision-metrics`
 * serves OpenMetrics text. The counters live in the shared memory segment of
 * mod_scim_status.c, one block per tenant; the tenants are the SCIMTenant
 * slugs of the configuration, so the labels are bounded by it. SCIM requests
 * are counted in one place, the log_transaction hook, when the answer is
 * known; token rejections where the 401 is made. Live tokens per tenant are
 * read from the database at scrape time (one statement). No token, user or
 * request data reaches a label. */

#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <stdlib.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_cfgtree.h>

#include "mod_scim_provision.h"

APLOG_USE_MODULE(scim_provision);

#define CONTENT_TYPE \
    "application/openmetrics-text; version=1.0.0; charset=utf-8"

enum {
    RES_USERS,
    RES_GROUPS,
    RES_BULK,
    RES_SEARCH,
    RES_DISCOVERY,
    RES_OTHER,
    NRES
};
static const char *const res_names[NRES] = {
    "Users", "Groups", "Bulk", "search", "discovery", "other",
};

enum {
    METH_GET,
    METH_POST,
    METH_PUT,
    METH_PATCH,
    METH_DELETE,
    METH_OTHER,
    NMETH
};
static const char *const meth_names[NMETH] = {
    "GET", "POST", "PUT", "PATCH", "DELETE", "other",
};

#define NCLASS 5 /* 1xx to 5xx */

/* Upper bounds of the latency buckets, in microseconds and as labels. */
#define NBUCKETS 12
static const apr_int64_t bucket_us[NBUCKETS - 1] = {
    5000,   10000,   25000,   50000,   100000,   250000,
    500000, 1000000, 2500000, 5000000, 10000000,
};
static const char *const bucket_le[NBUCKETS] = {
    "0.005", "0.01", "0.025", "0.05", "0.1",  "0.25",
    "0.5",   "1.0",  "2.5",   "5.0",  "10.0", "+Inf",
};

/* Reasons of a refused token: the error log's reason, grouped. */
enum {
    REJ_MISSING,
    REJ_QUERY,
    REJ_SCHEME,
    REJ_MALFORMED,
    REJ_SIGNATURE,
    REJ_CLAIMS,
    REJ_EXPIRED,
    REJ_NOT_YET_VALID,
    REJ_REVOKED,
    REJ_HASH,
    REJ_MISMATCH,
    REJ_OTHER,
    NREJ
};
static const char *const rej_names[NREJ] = {
    "missing",       "query_string",    "scheme",
    "malformed",     "signature",       "claims",
    "expired",       "not_yet_valid",   "unknown_or_revoked",
    "hash_mismatch", "record_mismatch", "other",
};
/* Prefixes of the reasons mod_scim_auth.c and scim_jwt_verify() give;
 * anything else is "other". */
static const struct {
    const char *prefix;
    int reason;
} rej_map[] = {
    { "no Authorization header", REJ_MISSING },
    { "token in the query string", REJ_QUERY },
    { "unsupported authorization scheme", REJ_SCHEME },
    { "malformed Basic credentials", REJ_SCHEME },
    { "malformed Bearer credentials", REJ_SCHEME },
    { "Basic credentials without", REJ_SCHEME },
    { "expired", REJ_EXPIRED },
    { "not yet valid", REJ_NOT_YET_VALID },
    { "bad signature", REJ_SIGNATURE },
    { "unknown kid", REJ_SIGNATURE },
    { "wrong issuer", REJ_CLAIMS },
    { "token of another tenant", REJ_CLAIMS },
    { "wrong audience", REJ_CLAIMS },
    { "unsupported idp", REJ_CLAIMS },
    { "sub is not", REJ_CLAIMS },
    { "malformed jti", REJ_CLAIMS },
    { "exp not after iat", REJ_CLAIMS },
    { "lifetime too long", REJ_CLAIMS },
    { "claims lack", REJ_CLAIMS },
    { "claim ", REJ_CLAIMS },
    { "claims have extra", REJ_CLAIMS },
    { "token unknown", REJ_REVOKED },
    { "token does not match the stored hash", REJ_HASH },
    { "token claims do not match", REJ_MISMATCH },
    { "Basic username", REJ_MISMATCH },
    { "empty token", REJ_MALFORMED },
    { "token too long", REJ_MALFORMED },
    { "token contains", REJ_MALFORMED },
    { "token does not have", REJ_MALFORMED },
    { "header", REJ_MALFORMED },
    { "claims are not", REJ_MALFORMED },
    { "claims is not", REJ_MALFORMED },
    { "signature is not", REJ_MALFORMED },
    { "wrong typ", REJ_MALFORMED },
    { "unsupported alg", REJ_MALFORMED },
};

typedef struct {
    volatile apr_uint64_t requests[NRES][NMETH][NCLASS];
    volatile apr_uint64_t buckets[NBUCKETS]; /* not cumulative */
    volatile apr_uint64_t sum_us;
    volatile apr_uint64_t rejections[NREJ];
} tenant_metrics_t;

static apr_array_header_t *tenants; /* slugs, sorted; fixed at startup */
static apr_hash_t *tenant_index; /* slug -> int index */
static tenant_metrics_t *metrics;

/* Tenants with counters: none when the shared memory is missing. */
static int ntenants(void)
{
    return metrics && tenants ? tenants->nelts : 0;
}

static void collect_tenants(apr_pool_t *p, ap_directive_t *node)
{
    for (; node; node = node->next) {
        if (!strcasecmp(node->directive, "SCIMTenant") && node->args) {
            const char *args = node->args;
            char *slug = ap_getword_conf(p, &args);

            if (*slug && !apr_hash_get(tenant_index, slug, APR_HASH_KEY_STRING)) {
                apr_hash_set(tenant_index, slug, APR_HASH_KEY_STRING, slug);
                APR_ARRAY_PUSH(tenants, const char *) = slug;
            }
        }
        collect_tenants(p, node->first_child);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static apr_status_t metrics_reset(void *unused)
{
    (void)unused;
    metrics = NULL;
    tenants = NULL;
    tenant_index = NULL;
    return APR_SUCCESS;
}

apr_size_t mod_scim_metrics_shm_size(apr_pool_t *pconf)
{
    int i;

    tenants = apr_array_make(pconf, 8, sizeof(const char *));
    tenant_index = apr_hash_make(pconf);
    collect_tenants(pconf, ap_conftree);
    qsort(tenants->elts, (size_t)tenants->nelts, sizeof(const char *), cmp_str);
    for (i = 0; i < tenants->nelts; i++) {
        int *idx = apr_palloc(pconf, sizeof(*idx));

        *idx = i;
        apr_hash_set(tenant_index, APR_ARRAY_IDX(tenants, i, const char *),
                     APR_HASH_KEY_STRING, idx);
    }
    apr_pool_cleanup_register(pconf, NULL, metrics_reset, apr_pool_cleanup_null);
    return sizeof(tenant_metrics_t) * (apr_size_t)tenants->nelts;
}

void mod_scim_metrics_attach(void *base)
{
    metrics = base;
}

static tenant_metrics_t *tenant_of(request_rec *r)
{
    const char *slug = mod_scim_dir_conf(r)->tenant;
    const int *idx;

    if (!metrics || !slug
        || !(idx = apr_hash_get(tenant_index, slug, APR_HASH_KEY_STRING))) {
        return NULL;
    }
    return &metrics[*idx];
}

void mod_scim_metrics_reject(request_rec *r, const char *reason)
{
    tenant_metrics_t *m = tenant_of(r);
    int which = REJ_OTHER;
    apr_size_t i;

    if (!m) {
        return;
    }
    for (i = 0; reason && i < sizeof(rej_map) / sizeof(rej_map[0]); i++) {
        if (!strncmp(reason, rej_map[i].prefix, strlen(rej_map[i].prefix))) {
            which = rej_map[i].reason;
            break;
        }
    }
    apr_atomic_inc64(&m->rejections[which]);
}

static int resource_of(const char *path)
{
    if (!strcmp(path, "/ServiceProviderConfig")
        || !strncmp(path, "/ResourceTypes", 14) || !strncmp(path, "/Schemas", 8)) {
        return RES_DISCOVERY;
    }
    if (!strcmp(path, "/.search")) {
        return RES_SEARCH;
    }
    if (!strcmp(path, "/Bulk")) {
        return RES_BULK;
    }
    if (!strncmp(path, "/Users", 6) && (!path[6] || path[6] == '/')) {
        return RES_USERS;
    }
    if (!strncmp(path, "/Groups", 7) && (!path[7] || path[7] == '/')) {
        return RES_GROUPS;
    }
    return RES_OTHER;
}

static int method_of(int m)
{
    switch (m) {
    case M_GET:
        return METH_GET; /* HEAD too */
    case M_POST:
        return METH_POST;
    case M_PUT:
        return METH_PUT;
    case M_PATCH:
        return METH_PATCH;
    case M_DELETE:
        return METH_DELETE;
    default:
        return METH_OTHER;
    }
}

/* Every answer of a SCIM location, once, with its final status. */
static int log_transaction(request_rec *r)
{
    const request_rec *last = r;
    tenant_metrics_t *m;
    apr_int64_t us;
    int cls, b;

    if (!r->handler || strcmp(r->handler, MOD_SCIM_HANDLER)
        || !(m = tenant_of(r))) {
        return DECLINED;
    }
    while (last->next) {
        last = last->next;
    }
    cls = last->status / 100 - 1;
    if (cls < 0 || cls >= NCLASS) {
        cls = NCLASS - 1;
    }
    apr_atomic_inc64(&m->requests[resource_of(mod_scim_subpath(r))]
                                 [method_of(r->method_number)][cls]);
    us = apr_time_now() - r->request_time;
    if (us < 0) {
        us = 0;
    }
    for (b = 0; b < NBUCKETS - 1 && us > bucket_us[b]; b++) {
    }
    apr_atomic_inc64(&m->buckets[b]);
    apr_atomic_add64(&m->sum_us, (apr_uint64_t)us);
    return DECLINED;
}

static void family(request_rec *r, const char *name, const char *type,
                   const char *help)
{
    ap_rprintf(r, "# TYPE %s %s\n# HELP %s %s\n", name, type, name, help);
}

static void write_requests(request_rec *r)
{
    int t, i, j, k;

    family(r, "mod_scim_requests", "counter",
           "SCIM requests answered, by tenant, resource, method and status "
           "class (series appear at their first request).");
    for (t = 0; t < ntenants(); t++) {
        const char *slug = APR_ARRAY_IDX(tenants, t, const char *);

        for (i = 0; i < NRES; i++) {
            for (j = 0; j < NMETH; j++) {
                for (k = 0; k < NCLASS; k++) {
                    apr_uint64_t v = apr_atomic_read64(
                        &metrics[t].requests[i][j][k]);

                    if (v) {
                        ap_rprintf(r,
                                   "mod_scim_requests_total{tenant=\"%s\","
                                   "resource=\"%s\",method=\"%s\","
                                   "status=\"%dxx\"} %" APR_UINT64_T_FMT "\n",
                                   slug, res_names[i], meth_names[j], k + 1, v);
                    }
                }
            }
        }
    }
}

static void write_latency(request_rec *r)
{
    int t, b;

    ap_rputs("# TYPE mod_scim_request_duration_seconds histogram\n"
             "# UNIT mod_scim_request_duration_seconds seconds\n",
             r);
    ap_rputs("# HELP mod_scim_request_duration_seconds Time from reading the "
             "request line to the end of the answer of SCIM requests, by "
             "tenant.\n",
             r);
    for (t = 0; t < ntenants(); t++) {
        const char *slug = APR_ARRAY_IDX(tenants, t, const char *);
        apr_uint64_t cum = 0, sum;

        /* the count is the +Inf bucket of this very snapshot */
        for (b = 0; b < NBUCKETS; b++) {
            cum += apr_atomic_read64(&metrics[t].buckets[b]);
            ap_rprintf(r,
                       "mod_scim_request_duration_seconds_bucket{tenant=\"%s\","
                       "le=\"%s\"} %" APR_UINT64_T_FMT "\n",
                       slug, bucket_le[b], cum);
        }
        sum = apr_atomic_read64(&metrics[t].sum_us);
        ap_rprintf(r,
                   "mod_scim_request_duration_seconds_count{tenant=\"%s\"} "
                   "%" APR_UINT64_T_FMT "\n"
                   "mod_scim_request_duration_seconds_sum{tenant=\"%s\"} "
                   "%" APR_UINT64_T_FMT ".%06" APR_UINT64_T_FMT "\n",
                   slug, cum, slug, sum / 1000000, sum % 1000000);
    }
}

static void write_rejections(request_rec *r)
{
    int t, i;

    family(r, "mod_scim_token_rejections", "counter",
           "SCIM requests refused with 401, by tenant and reason.");
    for (t = 0; t < ntenants(); t++) {
        for (i = 0; i < NREJ; i++) {
            ap_rprintf(r,
                       "mod_scim_token_rejections_total{tenant=\"%s\","
                       "reason=\"%s\"} %" APR_UINT64_T_FMT "\n",
                       APR_ARRAY_IDX(tenants, t, const char *), rej_names[i],
                       apr_atomic_read64(&metrics[t].rejections[i]));
        }
    }
}

static void write_counter(request_rec *r, const char *name, const char *help,
                          apr_uint64_t v)
{
    family(r, name, "counter", help);
    ap_rprintf(r, "%s_total %" APR_UINT64_T_FMT "\n", name, v);
}

static void write_gauge(request_rec *r, const char *name, const char *help,
                        apr_uint64_t v)
{
    family(r, name, "gauge", help);
    ap_rprintf(r, "%s %" APR_UINT64_T_FMT "\n", name, v);
}

/* From the database, at scrape time: one statement over the configured
 * tenants. With no database the family has no sample. */
static void write_live_tokens(request_rec *r)
{
    apr_hash_t *counts = NULL;
    scim_db_t *db;
    int t;

    family(r, "mod_scim_tokens_live", "gauge",
           "Live (neither deleted nor expired) provisioning tokens per "
           "tenant, read from the database at scrape time.");
    if (ntenants() == 0) {
        return;
    }
    if (!(db = mod_scim_db(r))
        || scim_store_live_token_counts(db, r->pool, tenants, &counts)
            != APR_SUCCESS) {
        mod_scim_count(MOD_SCIM_C_DB_ERRORS);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      SCIMLOGNO(00197) "metrics: cannot count live tokens: %s",
                      db && db->error ? db->error : "no database connection");
        return;
    }
    for (t = 0; t < ntenants(); t++) {
        const char *slug = APR_ARRAY_IDX(tenants, t, const char *);
        const char *n = apr_hash_get(counts, slug, APR_HASH_KEY_STRING);

        if (n) {
            ap_rprintf(r, "mod_scim_tokens_live{tenant=\"%s\"} %s\n", slug, n);
        }
    }
}

int mod_scim_metrics_handler(request_rec *r)
{
    apr_uint64_t used, nslots, dropped, flushes, written, failed;

    ap_allow_methods(r, REPLACE_ALLOW, "GET", "HEAD", NULL);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    ap_set_content_type(r, CONTENT_TYPE);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (r->header_only) {
        return OK;
    }
    write_requests(r);
    write_latency(r);
    write_rejections(r);
    write_counter(r, "mod_scim_database_errors",
                  "Requests and jobs that could not reach the database "
                  "(answered 503 or retried later).",
                  mod_scim_counter_value(MOD_SCIM_C_DB_ERRORS));
    family(r, "mod_scim_reminders", "counter",
           "Expiry reminder mails, by outcome (failed: given up after the "
           "last attempt).");
    ap_rprintf(r,
               "mod_scim_reminders_total{outcome=\"sent\"} %" APR_UINT64_T_FMT
               "\nmod_scim_reminders_total{outcome=\"failed\"} "
               "%" APR_UINT64_T_FMT "\n",
               mod_scim_counter_value(MOD_SCIM_C_REMINDERS_SENT),
               mod_scim_counter_value(MOD_SCIM_C_REMINDERS_FAILED));
    family(r, "mod_scim_token_operations", "counter",
           "Provisioning tokens created, refused (the two-token limit) and "
           "deleted on the admin page.");
    ap_rprintf(r,
               "mod_scim_token_operations_total{operation=\"created\"} "
               "%" APR_UINT64_T_FMT "\n"
               "mod_scim_token_operations_total{operation=\"refused\"} "
               "%" APR_UINT64_T_FMT "\n"
               "mod_scim_token_operations_total{operation=\"deleted\"} "
               "%" APR_UINT64_T_FMT "\n",
               mod_scim_counter_value(MOD_SCIM_C_TOKENS_CREATED),
               mod_scim_counter_value(MOD_SCIM_C_TOKENS_REFUSED),
               mod_scim_counter_value(MOD_SCIM_C_TOKENS_DELETED));
    write_live_tokens(r);
    mod_scim_lastused_stats(&used, &nslots, &dropped, &flushes, &written,
                            &failed);
    write_gauge(r, "mod_scim_last_used_slots",
                "Slots of the last-used table (SCIMLastUsedSlots).", nslots);
    write_gauge(r, "mod_scim_last_used_slots_used",
                "Slots of the last-used table holding a token.", used);
    write_counter(r, "mod_scim_last_used_dropped",
                  "Token uses not recorded because the last-used table "
                  "had no free slot.",
                  dropped);
    write_counter(r, "mod_scim_last_used_flushes",
                  "Statements that wrote the last use of tokens to the "
                  "database.",
                  flushes);
    write_counter(r, "mod_scim_last_used_flush_failures",
                  "Flushes of the last use of tokens that failed (retried "
                  "at the next one).",
                  failed);
    write_counter(r, "mod_scim_last_used_rows_written",
                  "Token rows whose last use those statements changed.", written);
    ap_rputs("# EOF\n", r);
    return OK;
}

void mod_scim_metrics_register(apr_pool_t *p)
{
    (void)p;
    ap_hook_log_transaction(log_transaction, NULL, NULL, APR_HOOK_MIDDLE);
}
