/* libFuzzer target: PostgreSQL's error messages as libpq's verbose mode
 * writes them (scim_db_sqlstate_of, scim_db_error_text). They are server
 * text, but a DETAIL quotes the values of a key, which a client sent.
 *
 * Properties: a code is five of [0-9A-Z], found only right after the first
 * ":  " and followed by ": "; the text kept is the whole message when it
 * has no code, and else the message up to the newline that starts the
 * earliest field of verbose mode ("\nLOCATION:" and the names), which it
 * never holds; an empty message is "database error" without a code.
 *
 *   ./configure CC=clang && make fuzz && test/fuzz/fuzz_dberr test/fuzz/corpus/dberr
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz_util.h"
#include "scim_db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const fields[] = { "\nSCHEMA NAME:",
                                          "\nTABLE NAME:",
                                          "\nCOLUMN NAME:",
                                          "\nDATATYPE NAME:",
                                          "\nCONSTRAINT NAME:",
                                          "\nLOCATION:",
                                          NULL };
    apr_pool_t *p;
    const char *msg, *text, *at;
    char code[6], again[6];
    size_t len;
    int i, has;

    apr_pool_create(&p, fuzz_root());
    msg = apr_pstrmemdup(p, (const char *)data, size); /* up to a NUL */
    len = strlen(msg);
    memset(code, 'x', sizeof(code));
    text = scim_db_error_text(p, msg, code);
    FUZZ_ASSERT(text != NULL);
    if (len == 0) {
        FUZZ_ASSERT(!strcmp(text, "database error") && code[0] == '\0');
        apr_pool_destroy(p);
        return 0;
    }
    FUZZ_ASSERT(strlen(text) <= len && !strncmp(text, msg, strlen(text)));
    has = scim_db_sqlstate_of(msg, again);
    FUZZ_ASSERT(has == (code[0] != '\0') && !strcmp(code, again));
    if (!has) {
        FUZZ_ASSERT(!strcmp(text, msg));
        apr_pool_destroy(p);
        return 0;
    }
    FUZZ_ASSERT(strlen(code) == 5);
    for (i = 0; i < 5; i++) {
        FUZZ_ASSERT((code[i] >= '0' && code[i] <= '9')
                    || (code[i] >= 'A' && code[i] <= 'Z'));
    }
    at = strstr(msg, ":  ");
    FUZZ_ASSERT(at && !strncmp(at + 3, code, 5) && at[8] == ':' && at[9] == ' ');
    /* cut just after the newline that starts the earliest field */
    {
        size_t cut = len;

        for (i = 0; fields[i]; i++) {
            const char *f = strstr(msg, fields[i]);

            if (f && (size_t)(f - msg) + 1 < cut) {
                cut = (size_t)(f - msg) + 1;
            }
            FUZZ_ASSERT(strstr(text, fields[i]) == NULL);
        }
        FUZZ_ASSERT(strlen(text) == cut);
    }
    apr_pool_destroy(p);
    return 0;
}
