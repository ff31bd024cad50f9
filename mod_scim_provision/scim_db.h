#ifndef SCIM_DB_H
#define SCIM_DB_H

/* A thin layer over APR DBD (pgsql driver) used by the store and by scimctl.
 * Statements are prepared without a label, so nothing is prepared on the server
 * and a reconnect loses nothing; results are read in random-access mode and
 * copied out at once, so no cursor is ever left open on a pooled connection. */

#include <apr_pools.h>
#include <apr_dbd.h>
#include <apr_hash.h>

struct pg_conn; /* libpq's PGconn */

typedef struct scim_db {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    struct pg_conn *pg; /* the pgsql driver's connection (NULL: another driver) */
    apr_pool_t *pool; /* pool of the connection's user (e.g. r->pool) */
    /* Inside BEGIN ... COMMIT, run by this layer: the pgsql driver's own
     * transaction start crashes when BEGIN fails on a connection the server
     * dropped (APR-util 1.6.3). txn_failed: a statement failed, the rest is
     * refused and the end rolls back; txn_rollback: the end rolls back. */
    int txn;
    int txn_failed;
    int txn_rollback;
    /* The last failure's message: the driver's (a DETAIL may quote a key's
     * values: for the error log, never for a response) or this layer's. */
    const char *error;
    /* PostgreSQL's SQLSTATE of the statement that failed last ("23505"),
     * empty for a failure without one (a lost connection) and for one of
     * this layer's own; kept with error through a failed transaction. */
    char sqlstate[6];
    /* Statements prepared on this connection under a label (label ->
     * apr_dbd_prepared_t, our own table kept in the connection pool's
     * userdata, see scim_db_pooled), and the pool that lives as long as
     * the connection (mod_dbd's ap_dbd_t); NULL when the connection is not
     * pooled (scimctl). */
    apr_hash_t *prepared;
    apr_pool_t *conn_pool;
} scim_db_t;

/* The SQLSTATE in a message of libpq's verbose mode ("ERROR:  23505: ...",
 * the severity in the server's language), into sqlstate[6]: 1, or 0 with
 * sqlstate empty when msg has none. */
int scim_db_sqlstate_of(const char *msg, char *sqlstate);

/* A failure's message as db->error keeps it: libpq's verbose message msg
 * (server text, which may quote a client's bytes) up to the fields that
 * verbose mode adds after DETAIL, HINT and CONTEXT, its code into
 * sqlstate[6] (empty when it has none; the message is then kept whole).
 * Linear in msg. */
const char *scim_db_error_text(apr_pool_t *p, const char *msg, char *sqlstate);

/* The last failure's SQLSTATE starts with prefix: a class ("23") or a
 * whole code ("23505"). Never true for a failure without a code. */
int scim_db_sqlstate_is(const scim_db_t *db, const char *prefix);

/* SQL text of a timestamptz column as ISO 8601 UTC ("2026-11-22T08:00:00Z"). */
#define SCIM_DB_TS(col)                      \
    "to_char((" col ") AT TIME ZONE 'UTC', " \
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* Rows copied out of a result: cells[row * ncols + col], NULL for SQL NULL. */
typedef struct scim_rows {
    int nrows;
    int ncols;
    const char **cells;
} scim_rows_t;

/* The value of a cell, or NULL for SQL NULL / out of range. */
const char *scim_rows_get(const scim_rows_t *rows, int row, int col);

/* Wrap a connection lent by mod_dbd or opened by scimctl. */
scim_db_t *scim_db_wrap(apr_pool_t *p, const apr_dbd_driver_t *driver,
                        apr_dbd_t *handle);

/* The connection is pooled: conn_pool lives as long as it. Labelled
 * statements are then prepared once on it (scim_db_hotv); which ones are is
 * kept in a table of our own in conn_pool's userdata, per connection handle
 * (never in mod_dbd's "prepared" hash, which belongs to DBDPrepareSQL). */
void scim_db_pooled(scim_db_t *db, apr_pool_t *conn_pool);

/* Run a SELECT (or anything with RETURNING) with nargs string parameters
 * written as %s in sql; a NULL argument is SQL NULL. */
apr_status_t scim_db_select(scim_db_t *db, apr_pool_t *p, scim_rows_t **rows,
                            const char *sql, int nargs, const char **args);

/* A read that is safe to repeat: when it fails outside a transaction, the
 * connection is checked (the pgsql driver reconnects a broken one) and the
 * read is made once more. The first statement of every request is one, so a
 * pooled connection that a database restart broke costs no error. */
apr_status_t scim_db_readv(scim_db_t *db, apr_pool_t *p, scim_rows_t **rows,
                           const char *sql, int nargs, ...);

/* scim_db_readv for the hot statements: prepared once per pooled connection
 * under label (PostgreSQL then neither parses nor plans it again), and
 * prepared anew when a reconnect has lost it; the unlabelled text is the
 * fallback. Parameters of labelled statements arrive as varchar: cast them
 * in sql where another type is meant. */
apr_status_t scim_db_hotv(scim_db_t *db, apr_pool_t *p, scim_rows_t **rows,
                          const char *label, const char *sql, int nargs, ...);
/* scim_db_hotv with the arguments in an array; label NULL: the statement is
 * sent unlabelled (dynamic SQL), still repeated once after a reconnect. */
apr_status_t scim_db_hot(scim_db_t *db, apr_pool_t *p, scim_rows_t **rows,
                         const char *label, const char *sql, int nargs,
                         const char **args);

/* Like scim_db_select with variadic arguments (const char *), nargs of them. */
apr_status_t scim_db_selectv(scim_db_t *db, apr_pool_t *p, scim_rows_t **rows,
                             const char *sql, int nargs, ...);

/* Run a statement without results; *affected (may be NULL) gets the row count. */
apr_status_t scim_db_exec(scim_db_t *db, apr_pool_t *p, int *affected,
                          const char *sql, int nargs, const char **args);
apr_status_t scim_db_execv(scim_db_t *db, apr_pool_t *p, int *affected,
                           const char *sql, int nargs, ...);

/* Run SQL text with no parameters (migrations, several statements allowed). */
apr_status_t scim_db_script(scim_db_t *db, apr_pool_t *p, const char *sql);

/* Transactions. scim_db_begin registers a cleanup on p that rolls back a
 * transaction still open when p goes away. scim_db_rollback_only makes the
 * coming scim_db_end roll back. */
apr_status_t scim_db_begin(scim_db_t *db, apr_pool_t *p);
void scim_db_rollback_only(scim_db_t *db);
apr_status_t scim_db_end(scim_db_t *db, apr_pool_t *p);

#endif
