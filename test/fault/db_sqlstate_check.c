/* The SQLSTATE of PostgreSQL's errors through scim_db.c, on a real server,
 * in English and in German (lc_messages): the store tells a taken name, a
 * missing foreign key and a timeout apart by the code, never by the text.
 * The message keeps the code, DETAIL and HINT, and loses what libpq's
 * verbose mode adds (schema, table and constraint names, a source line).
 * scim_db_hot sends a statement again only when it may succeed then (a
 * lost connection), which a sequence counts; libpq is verbose only while a
 * statement of ours runs.
 * Built by `make check`, run by t/69-sqlstate.t:
 *
 *   db_sqlstate_check '<libpq conninfo>' <lc_messages>...   TAP, exit 1 on a failure
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <apr_dbd.h>

#include <libpq-fe.h>

#include "fault_tap.h"
#include "scim_db.h"


/* The message on one line, for a test's name. */
static const char *one_line(apr_pool_t *p, const char *s)
{
    char *o = apr_pstrdup(p, s ? s : "(none)"), *x;

    for (x = o; *x; x++) {
        if (*x == '\n') {
            *x = ' ';
        }
    }
    return o;
}

static int has(const scim_db_t *db, const char *s)
{
    return db->error && strstr(db->error, s) != NULL;
}

/* The statement fails with code; the message says it once, in full. */
static void fails_with(scim_db_t *db, apr_pool_t *p, const char *lc,
                       const char *sql, const char *code, const char *what)
{
    apr_status_t rv = scim_db_script(db, p, sql);

    ok(rv != APR_SUCCESS, apr_psprintf(p, "[%s] %s fails", lc, what));
    ok(!strcmp(db->sqlstate, code),
       apr_psprintf(p, "[%s] %s: SQLSTATE %s (got '%s')", lc, what, code,
                    db->sqlstate));
    ok(scim_db_sqlstate_is(db, apr_pstrndup(p, code, 2)),
       apr_psprintf(p, "[%s] %s: class %.2s", lc, what, code));
    ok(has(db, apr_pstrcat(p, ":  ", code, ": ", NULL)),
       apr_psprintf(p, "[%s] %s: the message names the code (%s)", lc, what,
                    one_line(p, db->error)));
    ok(!has(db, "LOCATION:") && !has(db, "SCHEMA NAME:")
           && !has(db, "TABLE NAME:") && !has(db, "CONSTRAINT NAME:"),
       apr_psprintf(p, "[%s] %s: no field of verbose mode in the message", lc,
                    what));
}

/* Times the statement was sent by scim_db_hot (labelled or not): the
 * sequence t69_sends moves once per execution, and a failure does not roll
 * it back. */
static long sends(scim_db_t *db, apr_pool_t *p, const char *label,
                  const char *body)
{
    scim_rows_t *rows;
    long before, after;
    const char *sql = apr_pstrcat(p,
                                  "WITH n AS (SELECT nextval('t69_sends') AS v) ",
                                  body, NULL);

    if (scim_db_selectv(db, p, &rows, "SELECT last_value FROM t69_sends", 0)
        != APR_SUCCESS) {
        return -1;
    }
    before = atol(scim_rows_get(rows, 0, 0));
    scim_db_hot(db, p, &rows, label, sql, 0, NULL);
    apr_dbd_check_conn(db->driver, p, db->handle);
    if (scim_db_selectv(db, p, &rows, "SELECT last_value FROM t69_sends", 0)
        != APR_SUCCESS) {
        return -1;
    }
    after = atol(scim_rows_get(rows, 0, 0));
    return after - before;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    scim_db_t *db;
    scim_rows_t *rows;
    int i, rc;

    if (argc < 3) {
        fprintf(stderr, "usage: db_sqlstate_check CONNINFO LC_MESSAGES...\n");
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    apr_dbd_init(p);
    if (apr_dbd_get_driver(p, "pgsql", &driver) != APR_SUCCESS
        || apr_dbd_open(driver, p, argv[1], &handle) != APR_SUCCESS) {
        printf("not ok 1 - connect to %s\nBail out!\n", argv[1]);
        return 1;
    }
    db = scim_db_wrap(p, driver, handle);
    scim_db_pooled(db, p); /* labelled statements, as the module's */
    scim_db_script(db, p,
                   "DROP SEQUENCE IF EXISTS t69_sends; "
                   "CREATE SEQUENCE t69_sends; "
                   "SELECT nextval('t69_sends')");
    for (i = 2; i < argc; i++) {
        const char *lc = argv[i], *msg;

        ok(scim_db_script(db, p, apr_psprintf(p, "SET lc_messages = '%s'", lc))
               == APR_SUCCESS,
           apr_psprintf(p, "[%s] the session's lc_messages is set", lc));
        scim_db_script(db, p,
                       "DROP TABLE IF EXISTS pg_temp.c; "
                       "DROP TABLE IF EXISTS pg_temp.u; "
                       "CREATE TEMP TABLE u (k text PRIMARY KEY); "
                       "CREATE TEMP TABLE c (k text REFERENCES u); "
                       "INSERT INTO u VALUES ('a')");
        fails_with(db, p, lc, "INSERT INTO u VALUES ('a')", "23505",
                   "a duplicate key");
        ok(has(db, "DETAIL:"),
           apr_psprintf(p, "[%s] a duplicate key: DETAIL is kept", lc));
        fails_with(db, p, lc, "INSERT INTO c VALUES ('b')", "23503",
                   "a missing foreign key");
        fails_with(db, p, lc, "SELECT 1/0", "22012", "a division by zero");
        ok(!scim_db_sqlstate_is(db, "23"),
           apr_psprintf(p, "[%s] a division by zero is not class 23", lc));
        fails_with(db, p, lc, "SET statement_timeout = 50; SELECT pg_sleep(2)",
                   "57014", "a statement timeout");
        scim_db_script(db, p, "SET statement_timeout = 0");
        ok(scim_db_selectv(db, p, &rows, "SELECT 'x'", 0) == APR_SUCCESS
               && db->sqlstate[0] == '\0',
           apr_psprintf(p, "[%s] a statement that succeeds clears the code", lc));

        /* a transaction keeps its first failure's code to its end */
        ok(scim_db_begin(db, p) == APR_SUCCESS,
           apr_psprintf(p, "[%s] BEGIN", lc));
        scim_db_script(db, p, "INSERT INTO u VALUES ('a')");
        msg = db->error;
        ok(scim_db_selectv(db, p, &rows, "SELECT 'x'", 0) != APR_SUCCESS
               && !strcmp(db->sqlstate, "23505") && db->error == msg,
           apr_psprintf(p,
                        "[%s] the next statement of the failed "
                        "transaction is refused, with the first code",
                        lc));
        ok(scim_db_end(db, p) != APR_SUCCESS && !strcmp(db->sqlstate, "23505"),
           apr_psprintf(p, "[%s] its end rolls back and keeps 23505", lc));

        /* what scim_db_hot sends again */
        {
            const char *dup = "INSERT INTO u SELECT 'a' FROM n RETURNING k";
            long k;

            k = sends(db, p, apr_psprintf(p, "t69_dup_%d", i), dup);
            ok(k == 1,
               apr_psprintf(p,
                            "[%s] a duplicate key, labelled: "
                            "sent once (%ld)",
                            lc, k));
            k = sends(db, p, NULL, dup);
            ok(k == 1,
               apr_psprintf(p,
                            "[%s] a duplicate key, unlabelled: "
                            "sent once (%ld)",
                            lc, k));
            k = sends(db, p, NULL, "INSERT INTO c SELECT 'b' FROM n RETURNING k");
            ok(k == 1,
               apr_psprintf(p,
                            "[%s] a missing foreign key: sent "
                            "once (%ld)",
                            lc, k));
            k = sends(db, p, apr_psprintf(p, "t69_div_%d", i),
                      "SELECT (1 / (v - v))::text FROM n");
            ok(k == 1,
               apr_psprintf(p,
                            "[%s] a division by zero: sent once "
                            "(%ld)",
                            lc, k));
            scim_db_script(db, p, "SET statement_timeout = 50");
            k = sends(db, p, apr_psprintf(p, "t69_slow_%d", i),
                      "SELECT pg_sleep(2)::text FROM n");
            scim_db_script(db, p, "SET statement_timeout = 0");
            ok(k == 1,
               apr_psprintf(p,
                            "[%s] a statement timeout: sent once "
                            "(%ld)",
                            lc, k));
        }

        /* libpq is verbose only during a statement of ours: whoever else
         * uses the connection (another module of mod_dbd's) sees libpq's
         * default */
        scim_db_script(db, p, "INSERT INTO u VALUES ('a')");
        {
            PGVerbosity v = PQsetErrorVerbosity(db->pg, PQERRORS_DEFAULT);

            ok(v == PQERRORS_DEFAULT,
               apr_psprintf(p,
                            "[%s] after a failure, the connection's "
                            "verbosity is libpq's default again (%d)",
                            lc, (int)v));
        }
        ok(scim_db_selectv(db, p, &rows, "SELECT count(*) FROM u", 0) == APR_SUCCESS
               && !strcmp(scim_rows_get(rows, 0, 0), "1"),
           apr_psprintf(p, "[%s] and nothing of it was stored", lc));
    }
    /* the parser alone */
    {
        char st[6];

        ok(scim_db_sqlstate_of("FEHLER:  23505: doppelter Schlüsselwert", st)
               && !strcmp(st, "23505"),
           "parser: a German severity");
        ok(scim_db_sqlstate_of("ERROR:  P0001: too many", st)
               && !strcmp(st, "P0001"),
           "parser: a code with a letter");
        ok(!scim_db_sqlstate_of("ERROR:  duplicate key value", st)
               && st[0] == '\0',
           "parser: default verbosity has no code");
        ok(!scim_db_sqlstate_of("server closed the connection unexpectedly", st)
               && st[0] == '\0',
           "parser: libpq's own message has none");
        ok(!scim_db_sqlstate_of("ERROR:  2350", st)
               && !scim_db_sqlstate_of("ERROR:  23505", st)
               && !scim_db_sqlstate_of("ERROR:  2350a: x", st)
               && !scim_db_sqlstate_of(NULL, st) && !scim_db_sqlstate_of("", st),
           "parser: short, cut, lower-case or no message: no code");
    }
    /* a lost connection: sent again after the reconnect (the session's
     * settings and temporary tables are gone with it, hence last) */
    {
        long k = sends(db, p, "t69_gone",
                       "SELECT pg_terminate_backend(pg_backend_pid())::text "
                       "FROM n");

        ok(k >= 2,
           apr_psprintf(p,
                        "a lost connection is sent again after "
                        "the reconnect (%ld)",
                        k));
    }
    /* a pooled connection that the server ended while it was idle
     * (idle_session_timeout: FATAL 57P05, read by the next statement): that
     * statement runs on a new connection */
    {
        apr_status_t rv;

        scim_db_script(db, p, "SET idle_session_timeout = 100");
        apr_sleep(apr_time_from_msec(500));
        rv = scim_db_hot(db, p, &rows, "t69_idle",
                         "SELECT nextval('t69_sends')::text", 0, NULL);
        ok(rv == APR_SUCCESS,
           apr_psprintf(p,
                        "a connection ended as idle by the server: the "
                        "next statement runs on a new one (%s)",
                        rv == APR_SUCCESS ? "ok" : one_line(p, db->error)));
        ok(scim_db_script(db, p, "DROP SEQUENCE t69_sends") == APR_SUCCESS,
           "the connection works again");
    }
    rc = fault_tap_end();
    apr_dbd_close(driver, handle);
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
