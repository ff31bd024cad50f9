/* The messages of PostgreSQL's failures, as libpq's verbose mode writes
 * them (store layer, no database needed): their SQLSTATE, and the text that
 * scim_db.c keeps of them. Server text that may quote a client's bytes (a
 * DETAIL with a key's value): read in linear time, fuzzed (fuzz_dberr). */
#include <string.h>

#include <apr_strings.h>

#include "scim_db.h"

/* The fields that verbose mode adds after DETAIL, HINT and CONTEXT (in
 * this order; the labels are libpq's, in the web server's own locale). */
static const char *const VERBOSE_ONLY[] = { "\nSCHEMA NAME:",
                                            "\nTABLE NAME:",
                                            "\nCOLUMN NAME:",
                                            "\nDATATYPE NAME:",
                                            "\nCONSTRAINT NAME:",
                                            "\nLOCATION:",
                                            NULL };

/* Where the first of verbose mode's fields starts in msg (its end when
 * none does): the earliest of them, whatever their order (a DETAIL may
 * quote one of the labels). */
static const char *verbose_tail(const char *msg)
{
    const char *first = msg + strlen(msg);
    int i;

    for (i = 0; VERBOSE_ONLY[i]; i++) {
        const char *at = strstr(msg, VERBOSE_ONLY[i]);

        if (at && at + 1 < first) {
            first = at + 1;
        }
    }
    return first;
}

int scim_db_sqlstate_of(const char *msg, char *sqlstate)
{
    const char *s = msg ? strstr(msg, ":  ") : NULL;
    int i;

    sqlstate[0] = '\0';
    if (!s) {
        return 0;
    }
    s += 3;
    for (i = 0; i < 5; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z'))) {
            return 0;
        }
    }
    if (s[5] != ':' || s[6] != ' ') {
        return 0;
    }
    memcpy(sqlstate, s, 5);
    sqlstate[5] = '\0';
    return 1;
}

/* The text keeps the code ("ERROR:  23505: duplicate key ...", DETAIL,
 * HINT) and loses what verbose mode adds after them (the names of the
 * schema, table and constraint, a source line of the server). A message
 * without a code (a lost connection, said by libpq itself) is kept whole. */
const char *scim_db_error_text(apr_pool_t *p, const char *msg, char *sqlstate)
{
    if (!msg || !*msg) {
        sqlstate[0] = '\0';
        return "database error";
    }
    return scim_db_sqlstate_of(msg, sqlstate)
        ? apr_pstrmemdup(p, msg, (apr_size_t)(verbose_tail(msg) - msg))
        : apr_pstrdup(p, msg);
}
