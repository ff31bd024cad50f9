#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>
#include <libpq-fe.h>

#include "scim_db.h"

#define SCIM_DB_MAX_ARGS 64

const char *scim_rows_get(const scim_rows_t *rows, int row, int col)
{
    if (!rows || row < 0 || col < 0 || row >= rows->nrows || col >= rows->ncols) {
        return NULL;
    }
    return rows->cells[row * rows->ncols + col];
}

scim_db_t *scim_db_wrap(apr_pool_t *p, const apr_dbd_driver_t *driver,
                        apr_dbd_t *handle)
{
    scim_db_t *db = apr_pcalloc(p, sizeof(*db));

    db->driver = driver;
    db->handle = handle;
    db->pool = p;
    /* libpq's connection, for the verbosity of our statements (loud); the
     * driver's own notice receiver drops notices, so notices never show it */
    if (!strcmp(apr_dbd_name(driver), "pgsql")) {
        db->pg = apr_dbd_native_handle(driver, handle);
    }
    return db;
}

/* The pgsql driver keeps no result of a failed statement, only libpq's
 * message: in verbose mode libpq writes the SQLSTATE into it, after the
 * severity ("ERROR:  23505: duplicate key ..."), in whatever language the
 * server's lc_messages speaks (set_error reads it). Verbose only while a
 * statement of ours runs: mod_dbd lends the same connections to other
 * modules (mod_authn_dbd), whose messages stay as they were. The message
 * is written when the error arrives, so the verbosity can go back before
 * set_error reads it. */
static int loud(scim_db_t *db)
{
    db->sqlstate[0] = '\0';
    return db->pg ? (int)PQsetErrorVerbosity(db->pg, PQERRORS_VERBOSE) : -1;
}

static void quiet(scim_db_t *db, int was)
{
    if (db->pg && was >= 0) {
        PQsetErrorVerbosity(db->pg, (PGVerbosity)was);
    }
}

void scim_db_pooled(scim_db_t *db, apr_pool_t *conn_pool)
{
    const char *key;
    void *data = NULL;

    db->conn_pool = conn_pool;
    /* one table per connection handle: a pool could outlive a handle */
    key = apr_psprintf(db->pool, "scim_db_prepared:%pp", (void *)db->handle);
    apr_pool_userdata_get(&data, key, conn_pool);
    if (!data) {
        data = apr_hash_make(conn_pool);
        apr_pool_userdata_set(data, apr_pstrdup(conn_pool, key), NULL, conn_pool);
    }
    db->prepared = data;
}

/* The driver's message of the failure, its code into db->sqlstate. */
static void set_error(scim_db_t *db, apr_pool_t *p, int rc)
{
    db->error = scim_db_error_text(p, apr_dbd_error(db->driver, db->handle, rc),
                                   db->sqlstate);
}

/* A failure of this layer's own: no SQLSTATE. */
static void own_error(scim_db_t *db, const char *msg)
{
    db->error = msg;
    db->sqlstate[0] = '\0';
}

int scim_db_sqlstate_is(const scim_db_t *db, const char *prefix)
{
    return db->sqlstate[0] && !strncmp(db->sqlstate, prefix, strlen(prefix));
}

/* In a transaction, a failed statement fails the rest (as PostgreSQL does)
 * without a round trip, keeping the first statement's error. */
static int txn_refuses(scim_db_t *db)
{
    if (db->txn && db->txn_failed) {
        if (!db->error) {
            db->error = "an earlier statement of the transaction failed";
        }
        return 1;
    }
    return 0;
}

static void txn_note(scim_db_t *db, int rc)
{
    if (db->txn && rc != 0) {
        db->txn_failed = 1;
    }
}

static apr_status_t prepare(scim_db_t *db, apr_pool_t *p, const char *sql,
                            apr_dbd_prepared_t **stmt)
{
    int rc;

    /* NULL label: the driver sends the text with each execution (no
     * server-side statement that a reconnect could lose). */
    rc = apr_dbd_prepare(db->driver, p, db->handle, sql, NULL, stmt);
    if (rc != 0) {
        set_error(db, p, rc);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* The variadic const char * arguments of a *v function into args[]. */
#define COLLECT_ARGS(db, args, nargs)                      \
    do {                                                   \
        va_list ap_;                                       \
        va_start(ap_, nargs);                              \
        rv = collect_args(args, nargs, ap_);               \
        va_end(ap_);                                       \
        if (rv != APR_SUCCESS) {                           \
            own_error(db, "too many statement arguments"); \
            return rv;                                     \
        }                                                  \
    } while (0)

static apr_status_t collect_args(const char **args, int nargs, va_list ap)
{
    int i;

    if (nargs > SCIM_DB_MAX_ARGS) {
        return APR_EINVAL;
    }
    for (i = 0; i < nargs; i++) {
        args[i] = va_arg(ap, const char *);
    }
    return APR_SUCCESS;
}

/* Run a prepared statement and copy its rows out. */
static apr_status_t run_select(scim_db_t *db, apr_pool_t *p, scim_rows_t **rows,
                               apr_dbd_prepared_t *stmt, int nargs,
                               const char **args);

apr_status_t scim_db_select(scim_db_t *db, apr_pool_t *p, scim_rows_t **rows,
                            const char *sql, int nargs, const char **args)
{
    apr_dbd_prepared_t *stmt = NULL;
    apr_status_t rv;

    *rows = NULL;
    if (APR_SUCCESS != (rv = prepare(db, p, sql, &stmt))) {
        return rv;
    }
    return run_select(db, p, rows, stmt, nargs, args);
}

/* The labelled statement on this connection, prepared now if needed. */
static apr_dbd_prepared_t *labelled(scim_db_t *db, const char *label,
                                    const char *sql, int fresh)
{
    apr_dbd_prepared_t *stmt = NULL;

    if (!fresh) {
        stmt = apr_hash_get(db->prepared, label, APR_HASH_KEY_STRING);
        if (stmt) {
            return stmt;
        }
    }
    if (fresh) {
        int n = 0;

        /* a statement that survived would make PREPARE fail */
        apr_dbd_query(db->driver, db->handle, &n,
                      apr_pstrcat(db->pool, "DEALLOCATE ", label, NULL));
    }
    {
        int n = 0;

        /* The statements are written for one plan whatever their
         * parameters (keys and ids): keep the generic plan rather than
         * planning again for each execution. A session setting: set again
         * with every prepare, as a reconnect loses it with the statements. */
        apr_dbd_query(db->driver, db->handle, &n,
                      "SET plan_cache_mode = force_generic_plan");
    }
    if (apr_dbd_prepare(db->driver, db->conn_pool, db->handle, sql, label, &stmt)
        != 0) {
        stmt = NULL;
    }
    apr_hash_set(db->prepared, label, APR_HASH_KEY_STRING, stmt);
    return stmt;
}

/* Worth sending again once the connection was checked (the driver then
 * reconnects a broken one): a failure without a code (libpq lost the
 * connection), any failure that left the connection broken (a FATAL, such
 * as the server's idle_session_timeout, 57P05, on a pooled connection that
 * looked alive), a connection exception or a server going down, a prepared
 * statement the server no longer has or whose plan a migration changed, a
 * deadlock or a serialization failure. Anything else would fail the same
 * again: a refusal by the data (a unique index, a check, a foreign key), a
 * bad value, and a statement timeout, which would hold the pooled
 * connection for another timeout. */
static int retryable(const scim_db_t *db)
{
    static const char *const again[] = { "08",    "53",    "57P01", "57P02",
                                         "57P03", "57P05", "25P03", "26000",
                                         "0A000", "40001", "40P01", NULL };
    int i;

    if (!db->sqlstate[0] || (db->pg && PQstatus(db->pg) == CONNECTION_BAD)) {
        return 1;
    }
    for (i = 0; again[i]; i++) {
        if (scim_db_sqlstate_is(db, again[i])) {
            return 1;
        }
    }
    return 0;
}

/* scim_db_select, and once more after a check of the connection when it
 * failed outside a transaction in a way that may succeed then. */
static apr_status_t select_again(scim_db_t *db, apr_pool_t *p, scim_rows_t **rows,
                                 const char *sql, int nargs, const char **args)
{
    apr_status_t rv = scim_db_select(db, p, rows, sql, nargs, args);

    if (rv != APR_SUCCESS && !db->txn && retryable(db)
        && apr_dbd_check_conn(db->driver, p, db->handle) == APR_SUCCESS) {
        rv = scim_db_select(db, p, rows, sql, nargs, args);
    }
    return rv;
}

apr_status_t scim_db_hotv(scim_db_t *db, apr_pool_t *p, scim_rows_t **rows,
                          const char *label, const char *sql, int nargs, ...)
{
    const char *args[SCIM_DB_MAX_ARGS];
    apr_status_t rv;

    COLLECT_ARGS(db, args, nargs);
    return scim_db_hot(db, p, rows, label, sql, nargs, args);
}

apr_status_t scim_db_hot(scim_db_t *db, apr_pool_t *p, scim_rows_t **rows,
                         const char *label, const char *sql, int nargs,
                         const char **args)
{
    apr_dbd_prepared_t *stmt;

    if (label && db->prepared && db->conn_pool && !db->txn) {
        if ((stmt = labelled(db, label, sql, 0)) != NULL) {
            if (run_select(db, p, rows, stmt, nargs, args) == APR_SUCCESS) {
                return APR_SUCCESS;
            }
            if (!retryable(db)) {
                return APR_EGENERAL; /* the same again would fail the same */
            }
        }
        /* A database restart: the driver reconnects, the statement is gone
         * from the server and is prepared again. */
        if (apr_dbd_check_conn(db->driver, p, db->handle) == APR_SUCCESS
            && (stmt = labelled(db, label, sql, 1)) != NULL) {
            if (run_select(db, p, rows, stmt, nargs, args) == APR_SUCCESS) {
                return APR_SUCCESS;
            }
            if (!retryable(db)) {
                return APR_EGENERAL;
            }
        }
    }
    return select_again(db, p, rows, sql, nargs, args);
}

static apr_status_t run_select(scim_db_t *db, apr_pool_t *p, scim_rows_t **rows,
                               apr_dbd_prepared_t *stmt, int nargs,
                               const char **args)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    scim_rows_t *out;
    apr_status_t rv;
    int rc, i, j, was;

    *rows = NULL;
    if (txn_refuses(db)) {
        rv = APR_EGENERAL;
        goto leave;
    }
    was = loud(db);
    rc = apr_dbd_pselect(db->driver, p, db->handle, &res, stmt, 1, nargs, args);
    quiet(db, was);
    txn_note(db, rc);
    if (rc != 0) {
        set_error(db, p, rc);
        rv = APR_EGENERAL;
        goto leave;
    }
    out = apr_pcalloc(p, sizeof(*out));
    out->nrows = apr_dbd_num_tuples(db->driver, res);
    out->ncols = apr_dbd_num_cols(db->driver, res);
    if (out->nrows < 0) {
        out->nrows = 0;
    }
    out->cells = apr_pcalloc(p,
                             sizeof(char *) * (apr_size_t)out->nrows
                                 * (apr_size_t)(out->ncols ? out->ncols : 1));
    for (i = 0; i < out->nrows; i++) {
        if (apr_dbd_get_row(db->driver, p, res, &row, i + 1) != 0) {
            own_error(db, "could not read result row");
            rv = APR_EGENERAL;
            goto leave;
        }
        for (j = 0; j < out->ncols; j++) {
            char *val = NULL;

            /* apr_dbd_get_entry returns "" for NULL; the datum call tells
             * NULL (APR_ENOENT) apart from an empty string. */
            if (apr_dbd_datum_get(db->driver, row, j, APR_DBD_TYPE_STRING, &val)
                == APR_SUCCESS) {
                out->cells[i * out->ncols + j] = val;
            }
        }
    }
    *rows = out;
    rv = APR_SUCCESS;
leave:
    return rv;
}


apr_status_t scim_db_selectv(scim_db_t *db, apr_pool_t *p, scim_rows_t **rows,
                             const char *sql, int nargs, ...)
{
    const char *args[SCIM_DB_MAX_ARGS];
    apr_status_t rv;

    COLLECT_ARGS(db, args, nargs);
    return scim_db_select(db, p, rows, sql, nargs, args);
}

apr_status_t scim_db_readv(scim_db_t *db, apr_pool_t *p, scim_rows_t **rows,
                           const char *sql, int nargs, ...)
{
    const char *args[SCIM_DB_MAX_ARGS];
    apr_status_t rv;

    COLLECT_ARGS(db, args, nargs);
    return select_again(db, p, rows, sql, nargs, args);
}

apr_status_t scim_db_exec(scim_db_t *db, apr_pool_t *p, int *affected,
                          const char *sql, int nargs, const char **args)
{
    apr_dbd_prepared_t *stmt = NULL;
    apr_status_t rv;
    int rc, n = 0, was;

    if (APR_SUCCESS != (rv = prepare(db, p, sql, &stmt))) {
        goto leave;
    }
    if (txn_refuses(db)) {
        rv = APR_EGENERAL;
        goto leave;
    }
    was = loud(db);
    rc = apr_dbd_pquery(db->driver, p, db->handle, &n, stmt, nargs, args);
    quiet(db, was);
    txn_note(db, rc);
    if (rc != 0) {
        set_error(db, p, rc);
        rv = APR_EGENERAL;
        goto leave;
    }
    if (affected) {
        *affected = n;
    }
leave:
    return rv;
}

apr_status_t scim_db_execv(scim_db_t *db, apr_pool_t *p, int *affected,
                           const char *sql, int nargs, ...)
{
    const char *args[SCIM_DB_MAX_ARGS];
    apr_status_t rv;

    COLLECT_ARGS(db, args, nargs);
    return scim_db_exec(db, p, affected, sql, nargs, args);
}

apr_status_t scim_db_script(scim_db_t *db, apr_pool_t *p, const char *sql)
{
    int rc, n = 0, was;

    if (txn_refuses(db)) {
        return APR_EGENERAL;
    }
    was = loud(db);
    rc = apr_dbd_query(db->driver, db->handle, &n, sql);
    quiet(db, was);
    txn_note(db, rc);
    if (rc != 0) {
        set_error(db, p, rc);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* BEGIN, COMMIT and ROLLBACK go through apr_dbd_query: the driver's
 * apr_dbd_transaction_start dereferences a NULL transaction when BEGIN fails
 * with a result (a connection whose server went away, as at a failover) and
 * would crash the child. */
static apr_status_t txn_cleanup(void *data)
{
    scim_db_t *db = data;
    int n = 0;

    if (db->txn) {
        db->txn = 0;
        apr_dbd_query(db->driver, db->handle, &n, "ROLLBACK");
    }
    return APR_SUCCESS;
}

apr_status_t scim_db_begin(scim_db_t *db, apr_pool_t *p)
{
    int rc, n = 0, was;

    if (db->txn) {
        own_error(db, "transaction already open");
        return APR_EGENERAL;
    }
    was = loud(db);
    rc = apr_dbd_query(db->driver, db->handle, &n, "BEGIN");
    quiet(db, was);
    if (rc != 0) {
        set_error(db, p, rc);
        return APR_EGENERAL;
    }
    db->txn = 1;
    db->txn_failed = 0;
    db->txn_rollback = 0;
    apr_pool_cleanup_register(p, db, txn_cleanup, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

void scim_db_rollback_only(scim_db_t *db)
{
    if (db->txn) {
        db->txn_rollback = 1;
    }
}

apr_status_t scim_db_end(scim_db_t *db, apr_pool_t *p)
{
    int rc, n = 0, failed, was;

    if (!db->txn) {
        return APR_SUCCESS;
    }
    failed = db->txn_failed || db->txn_rollback;
    db->txn = 0;
    apr_pool_cleanup_kill(p, db, txn_cleanup);
    /* a failed transaction keeps its first failure's message and code,
     * even when its ROLLBACK fails too (a lost connection) */
    was = failed ? -1 : loud(db);
    rc = apr_dbd_query(db->driver, db->handle, &n,
                       failed ? "ROLLBACK" : "COMMIT");
    quiet(db, was);
    if (rc != 0) {
        if (!failed || !db->error) {
            set_error(db, p, rc);
        }
        return APR_EGENERAL;
    }
    return failed ? APR_EGENERAL : APR_SUCCESS;
}
