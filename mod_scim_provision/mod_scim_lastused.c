/* "Last used" of provisioning tokens (SPEC 5.2) without a database write on
 * the SCIM request: a request records its token's use in a fixed-size table
 * of slots in shared memory (shared by every child of this server), and a
 * named child singleton watchdog writes the slots that changed since its last
 * run with ONE statement every SCIMLastUsedInterval seconds.
 *
 * The table is open addressing over SCIMLastUsedSlots slots: a token lives in
 * one of the PROBE slots after the hash of its id. Each slot has a one-word
 * lock taken with compare-and-swap (the critical sections copy a few bytes);
 * a lock that cannot be had after a while (a child killed inside one) costs
 * that one use, never a stuck request. A slot whose use was flushed and that
 * saw no use for a whole interval is freed, so the table only has to hold the
 * tokens used within about two intervals. When no slot is free, the use is
 * not recorded (the token's lastUsedAt stays older until a slot frees, within
 * two intervals), the "dropped" counter of the metrics grows, and the error
 * log says so once per server lifetime: raise SCIMLastUsedSlots.
 *
 * With several httpd servers on one database each flushes its own table; the
 * statement keeps the newer use (scim_store_tokens_used), so the order of
 * the flushes does not matter. */

#include <apr_atomic.h>
#include <apr_dbd.h>
#include <apr_hash.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <sched.h>
#include <unistd.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <ap_mpm.h>
#include <mod_dbd.h>
#include <mod_watchdog.h>

#include "mod_scim_provision.h"

APLOG_USE_MODULE(scim_provision);

#define LASTUSED_WATCHDOG_NAME "_scim_last_used_"
/* Slots looked at for one token: bounds the cost of a request. */
#define PROBE 32
/* Attempts at a slot's lock before the use is given up. */
#define LOCK_SPINS 10000
#define ID_LEN     36 /* a UUID in text */
#define IP_LEN     46 /* INET6_ADDRSTRLEN */

typedef struct {
    volatile apr_uint32_t lock; /* 0 free, 1 held */
    apr_uint32_t dirty; /* used since the last successful flush */
    apr_uint32_t idle; /* flushed, and not used during a whole interval */
    apr_uint32_t pad;
    apr_time_t at; /* the last use */
    char token[ID_LEN + 1]; /* "" for a free slot */
    char tenant[ID_LEN + 1];
    char ip[IP_LEN + 1]; /* "" if unknown */
} lu_slot_t;

typedef struct {
    apr_uint32_t nslots;
    volatile apr_uint32_t full_logged;
    volatile apr_uint64_t dropped; /* uses not recorded: no free slot */
    volatile apr_uint64_t flushes; /* successful flush statements */
    volatile apr_uint64_t written; /* rows those statements changed */
    volatile apr_uint64_t failed; /* flush statements that failed */
    volatile apr_uint64_t used; /* slots holding a token */
} lu_head_t;

static lu_head_t *head;
static lu_slot_t *slots;
static apr_uint32_t nslots_conf;

/* clang-format off */
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;
/* clang-format on */

typedef struct {
    server_rec *s;
    int db_down; /* the failure was logged */
} lu_ctx_t;

static apr_size_t align8(apr_size_t n)
{
    return (n + 7) & ~(apr_size_t)7;
}

apr_size_t mod_scim_lastused_shm_size(server_rec *s)
{
    nslots_conf = (apr_uint32_t)mod_scim_srv_conf(s)->last_used_slots;
    return align8(sizeof(lu_head_t)) + sizeof(lu_slot_t) * nslots_conf;
}

static apr_status_t lastused_reset(void *unused)
{
    (void)unused;
    head = NULL;
    slots = NULL;
    return APR_SUCCESS;
}

void mod_scim_lastused_attach(void *base)
{
    head = base;
    head->nslots = nslots_conf;
    slots = (lu_slot_t *)((char *)base + align8(sizeof(lu_head_t)));
}

static int lock_slot(lu_slot_t *sl)
{
    int i;

    for (i = 0; i < LOCK_SPINS; i++) {
        if (apr_atomic_cas32(&sl->lock, 1, 0) == 0) {
            return 1;
        }
        sched_yield();
    }
    return 0;
}

static void unlock_slot(lu_slot_t *sl)
{
    apr_atomic_set32(&sl->lock, 0);
}

/* FNV-1a of the token id. */
static apr_uint32_t hash_id(const char *id)
{
    apr_uint32_t h = 2166136261u;

    for (; *id; id++) {
        h = (h ^ (unsigned char)*id) * 16777619u;
    }
    return h;
}

static void fill(lu_slot_t *sl, apr_time_t at, const char *ip)
{
    if (at > sl->at) {
        sl->at = at;
        apr_cpystrn(sl->ip, ip, sizeof(sl->ip));
    }
    sl->dirty = 1;
    sl->idle = 0;
}

/* The client address as PostgreSQL's inet takes it: an IPv6 zone ("%eth0")
 * is dropped, anything unexpected is not recorded. */
static const char *client_ip(request_rec *r, char *buf, apr_size_t size)
{
    const char *ip = r->useragent_ip ? r->useragent_ip : "";
    apr_size_t n = strcspn(ip, "%");

    if (n == 0 || n >= size || strspn(ip, "0123456789abcdefABCDEF:.") < n) {
        return "";
    }
    memcpy(buf, ip, n);
    buf[n] = '\0';
    return buf;
}

void mod_scim_lastused_record(request_rec *r, const char *tenant_id,
                              const char *token_id)
{
    apr_time_t now = apr_time_now();
    char ipbuf[IP_LEN + 1];
    const char *ip;
    apr_uint32_t h, i, n, probe;
    int attempt;

    if (!head || !token_id || !tenant_id || strlen(token_id) != ID_LEN
        || strlen(tenant_id) != ID_LEN) {
        return;
    }
    ip = client_ip(r, ipbuf, sizeof(ipbuf));
    n = head->nslots;
    probe = n < PROBE ? n : PROBE;
    h = hash_id(token_id) % n;
    /* Two passes: the token may sit anywhere in its window (a slot before
     * it may have been freed since), so look for it first and claim a free
     * slot only when it is not there. Two children claiming a slot for the
     * same token at once leave it twice; the flush keeps the newer. */
    for (attempt = 0; attempt < 2; attempt++) {
        lu_slot_t *free_slot = NULL;

        for (i = 0; i < probe; i++) {
            lu_slot_t *sl = &slots[(h + i) % n];

            if (!lock_slot(sl)) {
                continue;
            }
            if (!strcmp(sl->token, token_id)) {
                fill(sl, now, ip);
                unlock_slot(sl);
                return;
            }
            if (!sl->token[0] && !free_slot) {
                free_slot = sl;
            }
            unlock_slot(sl);
        }
        if (free_slot && lock_slot(free_slot)) {
            if (!free_slot->token[0]) {
                apr_cpystrn(free_slot->token, token_id, sizeof(free_slot->token));
                apr_cpystrn(free_slot->tenant, tenant_id,
                            sizeof(free_slot->tenant));
                free_slot->at = 0;
                fill(free_slot, now, ip);
                unlock_slot(free_slot);
                apr_atomic_add64(&head->used, 1);
                return;
            }
            unlock_slot(free_slot); /* taken meanwhile: look again */
        }
        else if (!free_slot) {
            break;
        }
    }
    apr_atomic_add64(&head->dropped, 1);
    if (apr_atomic_cas32(&head->full_logged, 1, 0) == 0) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      SCIMLOGNO(00190) "no free slot for the last use of "
                                       "token %s: the \"last used\" table "
                                       "(SCIMLastUsedSlots %u) is full, uses "
                                       "of some tokens go unrecorded until "
                                       "slots free up; raise "
                                       "SCIMLastUsedSlots (logged once)",
                      token_id, n);
    }
}

void mod_scim_lastused_stats(apr_uint64_t *used, apr_uint64_t *nslots,
                             apr_uint64_t *dropped, apr_uint64_t *flushes,
                             apr_uint64_t *written, apr_uint64_t *failed)
{
    *used = *nslots = *dropped = *flushes = *written = *failed = 0;
    if (head) {
        *used = apr_atomic_read64(&head->used);
        *nslots = head->nslots;
        *dropped = apr_atomic_read64(&head->dropped);
        *flushes = apr_atomic_read64(&head->flushes);
        *written = apr_atomic_read64(&head->written);
        *failed = apr_atomic_read64(&head->failed);
    }
}

typedef struct {
    apr_uint32_t slot;
    apr_time_t at;
} lu_taken_t;

/* One flush: collect the slots used since the last flush (and free those
 * idle for a whole interval), write them in one statement, and mark them
 * clean unless they were used again meanwhile. */
static void flush(lu_ctx_t *ctx, apr_pool_t *ptemp)
{
    apr_pool_t *p = NULL;
    apr_array_header_t *uses, *taken;
    apr_hash_t *newest;
    ap_dbd_t *dbd = NULL;
    scim_db_t *db;
    apr_uint32_t i;
    apr_status_t rv;
    int updated = 0, j;

    /* ptemp: the watchdog thread's own pool of this run */
    if (!head || APR_SUCCESS != apr_pool_create(&p, ptemp)) {
        goto leave;
    }
    apr_pool_tag(p, "scim_last_used_flush");
    uses = apr_array_make(p, 64, sizeof(scim_token_use_t));
    taken = apr_array_make(p, 64, sizeof(lu_taken_t));
    newest = apr_hash_make(p);
    for (i = 0; i < head->nslots; i++) {
        lu_slot_t *sl = &slots[i];

        if (!sl->token[0] || !lock_slot(sl)) {
            continue; /* an unlocked peek: a miss is caught next time */
        }
        if (sl->token[0] && sl->dirty) {
            scim_token_use_t *u, *prev;
            lu_taken_t *t = apr_array_push(taken);

            t->slot = i;
            t->at = sl->at;
            prev = apr_hash_get(newest, sl->token, APR_HASH_KEY_STRING);
            if (prev && prev->at >= sl->at) {
                unlock_slot(sl);
                continue; /* the same token twice: the newer counts */
            }
            u = prev ? prev : apr_array_push(uses);
            u->token_id = apr_pstrdup(p, sl->token);
            u->tenant_id = apr_pstrdup(p, sl->tenant);
            u->at = sl->at;
            u->from = sl->ip[0] ? apr_pstrdup(p, sl->ip) : NULL;
            apr_hash_set(newest, u->token_id, APR_HASH_KEY_STRING, u);
        }
        else if (sl->token[0] && sl->idle) {
            sl->token[0] = '\0'; /* nothing new for a whole interval */
            apr_atomic_dec64(&head->used);
        }
        else if (sl->token[0]) {
            sl->idle = 1;
        }
        unlock_slot(sl);
    }
    if (uses->nelts == 0) {
        goto leave; /* nothing changed: not even a connection */
    }
    if (!(dbd = dbd_open(p, ctx->s))) {
        rv = APR_EGENERAL;
        db = NULL;
    }
    else {
        db = scim_db_wrap(p, dbd->driver, dbd->handle);
        rv = scim_store_tokens_used(db, p, uses, &updated);
    }
    if (rv != APR_SUCCESS) {
        apr_atomic_add64(&head->failed, 1);
        /* the slots stay dirty: the next flush tries again */
        if (!ctx->db_down) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, ctx->s,
                         SCIMLOGNO(00191) "cannot record the last use of %d "
                                          "token(s), will try again: %s",
                         uses->nelts,
                         db && db->error ? db->error : "no connection");
            ctx->db_down = 1;
        }
        goto leave;
    }
    if (ctx->db_down) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, ctx->s,
                     SCIMLOGNO(00192) "last use of tokens recorded again");
        ctx->db_down = 0;
    }
    apr_atomic_add64(&head->flushes, 1);
    apr_atomic_add64(&head->written, (apr_uint64_t)updated);
    for (j = 0; j < taken->nelts; j++) {
        lu_taken_t *t = &APR_ARRAY_IDX(taken, j, lu_taken_t);
        lu_slot_t *sl = &slots[t->slot];

        if (lock_slot(sl)) {
            if (sl->at == t->at) {
                sl->dirty = 0;
            }
            unlock_slot(sl);
        }
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, ctx->s,
                 SCIMLOGNO(00193) "last use of %d token(s) flushed, %d "
                                  "row(s) changed",
                 uses->nelts, updated);
leave:
    if (dbd) {
        dbd_close(ctx->s, dbd);
    }
    if (p) {
        apr_pool_destroy(p);
    }
}

static apr_status_t lastused_watchdog(int state, void *data, apr_pool_t *ptemp)
{
    lu_ctx_t *ctx = data;

    if (state == AP_WATCHDOG_STATE_RUNNING) {
        flush(ctx, ptemp);
    }
    /* anything else would stop the callback for good */
    return APR_SUCCESS;
}

/* After the shared memory is attached, in the real configuration pass. */
int mod_scim_lastused_post_config(apr_pool_t *pconf, server_rec *s)
{
    const mod_scim_srv_conf_t *c = mod_scim_srv_conf(s);
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) * wd_get_instance;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) * wd_register;
    ap_watchdog_t *wd;
    lu_ctx_t *ctx;
    apr_status_t rv;

    apr_pool_cleanup_register(pconf, NULL, lastused_reset, apr_pool_cleanup_null);
    /* the children inherit these from the parent */
    wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!head) {
        return OK;
    }
    if (!wd_get_instance || !wd_register || !dbd_open || !dbd_close) {
        /* a tenant-less install (the Debian package before it is set up)
         * may well run without mod_watchdog */
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     SCIMLOGNO(00194) "mod_watchdog is not loaded: the last "
                                      "use of tokens (lastUsedAt) is not "
                                      "recorded");
        return OK;
    }
    ctx = apr_pcalloc(pconf, sizeof(*ctx));
    ctx->s = s;
    if (APR_SUCCESS
            != (rv = wd_get_instance(&wd, LASTUSED_WATCHDOG_NAME, 0, 1, pconf))
        || APR_SUCCESS
            != (rv = wd_register(wd, c->last_used_interval, ctx,
                                 lastused_watchdog))) {
        /* like a missing segment: serve, without "last used" */
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     SCIMLOGNO(00196) "cannot start the job that records "
                                      "the last use of tokens; lastUsedAt "
                                      "is not recorded");
        return OK;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 SCIMLOGNO(00195) "last use of tokens: %u slots, flushed "
                                  "every %" APR_TIME_T_FMT " s",
                 head->nslots, apr_time_sec(c->last_used_interval));
    return OK;
}
