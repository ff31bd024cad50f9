/* Transactions of scim_db.c on a real PostgreSQL when the server drops the
 * connection (as at a failover): BEGIN or COMMIT on a connection whose
 * backend is gone fails cleanly instead of crashing (the pgsql driver's
 * apr_dbd_transaction_start dereferences NULL there), the connection is
 * usable again after apr_dbd_check_conn, and commit/rollback keep their
 * meaning. Built and run by t/97-failover.t:
 *
 *   db_fault_check '<libpq conninfo>'    prints TAP, exits 1 on a failure
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <apr_dbd.h>

#include "fault_tap.h"
#include "scim_db.h"


/* Terminate the backend of db's connection through the other one. */
static int kill_backend(scim_db_t *db, scim_db_t *other, apr_pool_t *p)
{
    scim_rows_t *rows;

    if (scim_db_selectv(db, p, &rows, "SELECT pg_backend_pid()::text", 0)
            != APR_SUCCESS
        || scim_db_selectv(other, p, &rows,
                           "SELECT pg_terminate_backend(%s::integer)", 1,
                           scim_rows_get(rows, 0, 0))
            != APR_SUCCESS) {
        return 0;
    }
    /* the backend exits asynchronously */
    apr_sleep(apr_time_from_msec(300));
    return 1;
}

static const char *count(scim_db_t *db, apr_pool_t *p, const char *x)
{
    scim_rows_t *rows;

    if (scim_db_selectv(db, p, &rows,
                        "SELECT count(*)::text FROM db_fault_check "
                        "WHERE x = %s::integer",
                        1, x)
        != APR_SUCCESS) {
        return "error";
    }
    return scim_rows_get(rows, 0, 0);
}

static apr_status_t insert(scim_db_t *db, apr_pool_t *p, const char *x)
{
    return scim_db_execv(db, p, NULL,
                         "INSERT INTO db_fault_check (x) VALUES (%s::integer)",
                         1, x);
}

int main(int argc, char **argv)
{
    apr_pool_t *p, *sub;
    const apr_dbd_driver_t *driver;
    apr_dbd_t *h1, *h2;
    scim_db_t *db, *other;
    scim_rows_t *rows;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: db_fault_check '<libpq conninfo>'\n");
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    apr_dbd_init(p);
    if (apr_dbd_get_driver(p, "pgsql", &driver) != APR_SUCCESS
        || apr_dbd_open(driver, p, argv[1], &h1) != APR_SUCCESS
        || apr_dbd_open(driver, p, argv[1], &h2) != APR_SUCCESS) {
        fprintf(stderr, "db_fault_check: cannot connect\n");
        return 2;
    }
    db = scim_db_wrap(p, driver, h1);
    other = scim_db_wrap(p, driver, h2);
    ok(scim_db_script(db, p,
                      "DROP TABLE IF EXISTS db_fault_check; "
                      "CREATE TABLE db_fault_check (x integer PRIMARY KEY)")
           == APR_SUCCESS,
       "scratch table created");

    /* BEGIN on a connection whose server went away */
    ok(kill_backend(db, other, p), "backend of the connection terminated");
    ok(scim_db_begin(db, p) != APR_SUCCESS && db->error && *db->error,
       "BEGIN on the dropped connection fails with an error, no crash");
    ok(!db->txn, "no transaction is left open");
    ok(apr_dbd_check_conn(driver, p, h1) == APR_SUCCESS,
       "the connection is made again");
    db->error = NULL;
    ok(scim_db_begin(db, p) == APR_SUCCESS && insert(db, p, "1") == APR_SUCCESS
           && scim_db_end(db, p) == APR_SUCCESS,
       "then a transaction commits");
    ok(!strcmp(count(db, p, "1"), "1"), "and its row is stored");

    /* a failed statement fails the rest and rolls back */
    ok(scim_db_begin(db, p) == APR_SUCCESS && insert(db, p, "2") == APR_SUCCESS
           && insert(db, p, "1") != APR_SUCCESS,
       "a duplicate key fails inside a transaction");
    ok(db->error && strstr(db->error, "duplicate key"),
       "with the driver's message");
    ok(scim_db_selectv(db, p, &rows, "SELECT 1", 0) != APR_SUCCESS
           && strstr(db->error, "duplicate key"),
       "a later statement is refused, the first error kept");
    ok(scim_db_end(db, p) != APR_SUCCESS, "the end reports the rollback");
    ok(!strcmp(count(db, p, "2"), "0"), "nothing of it is stored");

    /* rollback on request */
    ok(scim_db_begin(db, p) == APR_SUCCESS && insert(db, p, "3") == APR_SUCCESS,
       "a transaction with a row");
    scim_db_rollback_only(db);
    ok(scim_db_end(db, p) != APR_SUCCESS && !strcmp(count(db, p, "3"), "0"),
       "rolled back on request");

    /* the pool's cleanup rolls back what is still open */
    apr_pool_create(&sub, p);
    ok(scim_db_begin(db, sub) == APR_SUCCESS
           && insert(db, sub, "4") == APR_SUCCESS,
       "a transaction left open");
    apr_pool_destroy(sub);
    ok(!db->txn && !strcmp(count(db, p, "4"), "0"),
       "rolled back when its pool goes");

    /* COMMIT on a connection whose server went away */
    ok(scim_db_begin(db, p) == APR_SUCCESS && insert(db, p, "5") == APR_SUCCESS,
       "a transaction with a row, then the backend goes");
    kill_backend(db, other, p);
    ok(scim_db_end(db, p) != APR_SUCCESS, "COMMIT fails with an error");
    ok(apr_dbd_check_conn(driver, p, h1) == APR_SUCCESS
           && !strcmp(count(db, p, "5"), "0"),
       "after reconnecting, nothing of it is stored");
    ok(scim_db_script(db, p, "DROP TABLE db_fault_check") == APR_SUCCESS,
       "scratch table dropped");

    rc = fault_tap_end();
    apr_dbd_close(driver, h1);
    apr_dbd_close(driver, h2);
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
