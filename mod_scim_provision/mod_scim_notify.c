/* Expiry reminders (SPEC 3.6): a named child singleton watchdog that looks
 * every SCIMNotifyInterval (with jitter) for tokens that crossed a
 * SCIMNotifyDays threshold, queues one outbox row per (token, threshold,
 * Customer Administrator) and delivers the rows it can claim through
 * SCIMMailCommand.
 *
 * The job may run in any child and, with several httpd servers on one
 * database, on several servers at once: nothing here is authoritative. All
 * state is in reminder_outbox (scim_store_outbox.c), where the UNIQUE
 * constraint and the claim's lease make every row go out once. The main
 * server's settings apply; the parent has no database pool, so the job
 * borrows a connection with ap_dbd_open in the child. */

#include <apr_dbd.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <unistd.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <ap_mpm.h>
#include <mod_dbd.h>
#include <mod_watchdog.h>

#include "mod_scim_provision.h"
#include "scim_mail.h"
#include "scim_store_outbox.h"

APLOG_USE_MODULE(scim_provision);

#define NOTIFY_WATCHDOG_NAME "_scim_reminders_"
/* Most rows one run delivers; the rest wait for the next run. */
#define NOTIFY_RUN_MAX 500
/* Longest wait before a failed delivery is tried again. */
#define NOTIFY_BACKOFF_MAX apr_time_from_sec(24 * 3600)
/* Lease of a claimed row beyond the mail program's timeout and the two
 * seconds between SIGTERM and SIGKILL. */
#define NOTIFY_LEASE_SLACK apr_time_from_sec(60)

/* clang-format off */
static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get_instance;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;
/* clang-format on */

typedef struct {
    apr_pool_t *pool; /* own pool and allocator, used by the job's thread */
    server_rec *s;
    const mod_scim_srv_conf_t *conf;
    ap_watchdog_t *watchdog;
    apr_interval_time_t tick; /* how often the watchdog calls us */
    apr_time_t next_run; /* in this child only; fine to lose */
    int db_down; /* the outage was logged */
} notify_ctx_t;

/* A random time in [base - base/10, base + base/10]: servers and children
 * that started together drift apart. */
static apr_interval_time_t jittered(apr_interval_time_t base)
{
    apr_uint32_t spread = (apr_uint32_t)(base / 10 > APR_UINT32_MAX / 2
                                             ? APR_UINT32_MAX / 2
                                             : base / 10);

    return base - spread + ap_random_pick(0, 2 * spread);
}

static int stopping(void)
{
    int state = AP_MPMQ_RUNNING;

    return ap_mpm_query(AP_MPMQ_MPM_STATE, &state) != APR_SUCCESS
        || state == AP_MPMQ_STOPPING;
}

/* Database trouble: one warning per outage, the rest at debug level. */
static void db_trouble(notify_ctx_t *ctx, scim_db_t *db, const char *what)
{
    const char *why = db && db->error ? db->error : "no connection";

    if (!ctx->db_down) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, ctx->s,
                     SCIMLOGNO(00101) "expiry reminders: %s failed, will "
                                      "try again: %s",
                     what, why);
        ctx->db_down = 1;
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, ctx->s,
                     SCIMLOGNO(00102) "expiry reminders: %s failed: %s", what,
                     why);
    }
}

static apr_interval_time_t backoff(const notify_ctx_t *ctx, int attempts)
{
    apr_interval_time_t wait = ctx->conf->notify_interval;

    while (--attempts > 0 && wait < NOTIFY_BACKOFF_MAX) {
        wait *= 2;
    }
    return wait < NOTIFY_BACKOFF_MAX ? wait : NOTIFY_BACKOFF_MAX;
}

/* Deliver one claimed row and record the outcome. */
static void deliver(notify_ctx_t *ctx, scim_db_t *db, apr_pool_t *p,
                    const scim_outbox_item_t *item)
{
    const mod_scim_srv_conf_t *c = ctx->conf;
    scim_reminder_t r;
    const char *msg = NULL, *err = NULL;
    apr_status_t rv;
    int gave_up = 0, max = c->notify_max_attempts;

    if (item->skip_reason) {
        if (scim_store_outbox_skip(db, p, item, item->skip_reason)
            == APR_EGENERAL) {
            db_trouble(ctx, db, "skipping a reminder");
        }
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, ctx->s,
                     SCIMLOGNO(00103) "reminder %s skipped: %s", item->id,
                     item->skip_reason);
        goto leave;
    }
    memset(&r, 0, sizeof(r));
    r.outbox_id = item->id;
    r.from = c->mail_from;
    r.to = item->recipient;
    r.date = apr_time_now();
    r.tenant_slug = item->tenant_slug;
    r.tenant_name = item->tenant_name;
    r.idp_type = item->idp_type;
    r.idp_name = item->idp_name;
    r.user_name = item->user_name;
    r.token_id = item->token_id;
    r.expires_at = item->expires_at;
    r.days_left = item->days_left;
    r.admin_url = c->admin_url;
    rv = scim_mail_compose(p, &r, &msg, &err);
    if (rv == APR_SUCCESS) {
        rv = scim_mail_run(p, c->mail_argv, msg, strlen(msg), c->mail_timeout,
                           &err);
    }
    else {
        /* a message that cannot be written never will be: give up now */
        max = item->attempts;
    }
    if (rv == APR_SUCCESS) {
        rv = scim_store_outbox_sent(db, p, item);
        if (rv == APR_SUCCESS) {
            mod_scim_count(MOD_SCIM_C_REMINDERS_SENT);
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, ctx->s,
                         SCIMLOGNO(00104) "reminder %s sent to %s: token %s "
                                          "expires in %d day(s) (threshold "
                                          "%d)",
                         item->id, item->recipient, item->token_id,
                         item->days_left, item->threshold_days);
        }
        else if (rv == APR_ENOENT) {
            /* held longer than the lease: someone else may send it too */
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, ctx->s,
                         SCIMLOGNO(00105) "reminder %s was sent after its "
                                          "lease ran out",
                         item->id);
        }
        else {
            db_trouble(ctx, db, "recording a sent reminder");
        }
        goto leave;
    }
    rv = scim_store_outbox_failed(db, p, item, max,
                                  backoff(ctx, item->attempts), err, &gave_up);
    if (rv == APR_EGENERAL) {
        db_trouble(ctx, db, "recording a failed reminder");
    }
    if (gave_up) {
        mod_scim_count(MOD_SCIM_C_REMINDERS_FAILED);
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, ctx->s,
                     SCIMLOGNO(00106) "reminder %s to %s (token %s, %d-day "
                                      "threshold) given up after %d "
                                      "attempt(s): %s",
                     item->id, item->recipient, item->token_id,
                     item->threshold_days, item->attempts, err);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, ctx->s,
                     SCIMLOGNO(00107) "reminder %s to %s: attempt %d of %d "
                                      "failed, will retry: %s",
                     item->id, item->recipient, item->attempts, max, err);
    }
leave:
    return;
}

/* One run: queue what is due, drop what went stale, deliver what can be
 * claimed. */
static void run_once(notify_ctx_t *ctx)
{
    const mod_scim_srv_conf_t *c = ctx->conf;
    apr_pool_t *p = NULL, *ip = NULL;
    ap_dbd_t *dbd = NULL;
    scim_db_t *db = NULL;
    scim_outbox_item_t *item;
    apr_interval_time_t lease;
    apr_status_t rv;
    int queued = 0, skipped = 0, stale = 0, n;

    if (APR_SUCCESS != (rv = apr_pool_create(&p, ctx->pool))) {
        goto leave;
    }
    apr_pool_tag(p, "scim_reminders_run");
    if (!(dbd = dbd_open(p, ctx->s))) {
        db_trouble(ctx, NULL, "connecting to the database");
        goto leave;
    }
    db = scim_db_wrap(p, dbd->driver, dbd->handle);
    if (APR_SUCCESS
        != (rv = scim_store_outbox_enqueue(db, p, c->notify_days, &queued,
                                           &skipped))) {
        db_trouble(ctx, db, "queueing reminders");
        goto leave;
    }
    if (APR_SUCCESS != (rv = scim_store_outbox_skip_stale(db, p, &stale))) {
        db_trouble(ctx, db, "skipping stale reminders");
        goto leave;
    }
    if (ctx->db_down) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, ctx->s,
                     SCIMLOGNO(00108) "expiry reminders: database reachable "
                                      "again");
        ctx->db_down = 0;
    }
    if (queued || skipped || stale) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, ctx->s,
                     SCIMLOGNO(00109) "expiry reminders: %d queued, %d "
                                      "skipped for a nearer threshold, %d "
                                      "no longer due",
                     queued, skipped, stale);
    }
    lease = c->mail_timeout + NOTIFY_LEASE_SLACK;
    apr_pool_create(&ip, p);
    for (n = 0; n < NOTIFY_RUN_MAX && !stopping(); n++) {
        apr_pool_clear(ip);
        rv = scim_store_outbox_claim(db, ip, lease, &item);
        if (rv == APR_ENOENT) {
            break;
        }
        if (rv != APR_SUCCESS) {
            db_trouble(ctx, db, "claiming a reminder");
            break;
        }
        deliver(ctx, db, ip, item);
    }
leave:
    if (dbd) {
        dbd_close(ctx->s, dbd);
    }
    if (p) {
        apr_pool_destroy(p);
    }
}

static apr_status_t notify_watchdog(int state, void *data, apr_pool_t *ptemp)
{
    notify_ctx_t *ctx = data;

    (void)ptemp;
    switch (state) {
    case AP_WATCHDOG_STATE_STARTING:
        /* mod_dbd's child_init has run by the first tick */
        ctx->next_run = apr_time_now() + ctx->tick + jittered(ctx->tick);
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, ctx->s,
                     SCIMLOGNO(00100) "expiry reminders: job runs in this "
                                      "child (pid %" APR_PID_T_FMT "), every "
                                      "%" APR_TIME_T_FMT " s",
                     getpid(), apr_time_sec(ctx->conf->notify_interval));
        break;
    case AP_WATCHDOG_STATE_RUNNING:
        if (apr_time_now() >= ctx->next_run) {
            run_once(ctx);
            ctx->next_run = apr_time_now() + jittered(ctx->conf->notify_interval);
        }
        break;
    default:
        break;
    }
    /* anything else would stop the callback for good */
    return APR_SUCCESS;
}

static void retrieve_optional_fns(void)
{
    wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
}

int mod_scim_notify_post_config(apr_pool_t *pconf, server_rec *s)
{
    const mod_scim_srv_conf_t *c = mod_scim_srv_conf(s);
    apr_allocator_t *allocator = NULL;
    notify_ctx_t *ctx;
    apr_pool_t *pool;
    apr_status_t rv = APR_SUCCESS;
    int status = OK;

    if (!c->mail_argv) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                     SCIMLOGNO(00110) "expiry reminders are off "
                                      "(no SCIMMailCommand)");
        goto leave;
    }
    retrieve_optional_fns();
    if (!wd_get_instance || !wd_register) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     SCIMLOGNO(00111) "SCIMMailCommand: expiry reminders "
                                      "need mod_watchdog (LoadModule "
                                      "watchdog_module)");
        status = HTTP_INTERNAL_SERVER_ERROR;
        goto leave;
    }
    if (!dbd_open || !dbd_close) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     SCIMLOGNO(00112) "SCIMMailCommand: expiry reminders "
                                      "need mod_dbd");
        status = HTTP_INTERNAL_SERVER_ERROR;
        goto leave;
    }
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        goto leave; /* the dry run before the real configuration */
    }
    /* Our own pool with its own allocator, as mod_md's drive job: it is
     * used by the watchdog thread only. */
    if (APR_SUCCESS != (rv = apr_allocator_create(&allocator))) {
        goto fail;
    }
    apr_allocator_max_free_set(allocator, 1);
    if (APR_SUCCESS != (rv = apr_pool_create_ex(&pool, pconf, NULL, allocator))) {
        apr_allocator_destroy(allocator);
        goto fail;
    }
    apr_allocator_owner_set(allocator, pool);
    apr_pool_tag(pool, "scim_reminders");
    ctx = apr_pcalloc(pool, sizeof(*ctx));
    ctx->pool = pool;
    ctx->s = s;
    ctx->conf = c;
    /* tick: a tenth of the interval, 100 ms to 1 s */
    ctx->tick = c->notify_interval / 10;
    if (ctx->tick < apr_time_from_msec(100)) {
        ctx->tick = apr_time_from_msec(100);
    }
    if (ctx->tick > apr_time_from_sec(1)) {
        ctx->tick = apr_time_from_sec(1);
    }
    if (APR_SUCCESS
            != (rv = wd_get_instance(&ctx->watchdog, NOTIFY_WATCHDOG_NAME, 0, 1,
                                     pconf))
        || APR_SUCCESS
            != (rv = wd_register(ctx->watchdog, ctx->tick, ctx, notify_watchdog))) {
        goto fail;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 SCIMLOGNO(00113) "expiry reminders: watchdog %s registered",
                 NOTIFY_WATCHDOG_NAME);
    goto leave;
fail:
    ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                 SCIMLOGNO(00114) "SCIMMailCommand: cannot start the expiry "
                                  "reminder job");
    status = HTTP_INTERNAL_SERVER_ERROR;
leave:
    return status;
}

static void optional_fn_retrieve(void)
{
    retrieve_optional_fns();
}

void mod_scim_notify_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_optional_fn_retrieve(optional_fn_retrieve, NULL, NULL,
                                 APR_HOOK_MIDDLE);
}
