/* libFuzzer target: the Authorization header parser
 * (scim_http_parse_authorization).
 *
 * Properties: on success the scheme is Bearer (no user, a token68 token)
 * or Basic (user without ':', both valid UTF-8, a non-empty token), and
 * writing the credentials back ("Bearer t", "Basic base64(user:token)")
 * parses to the same values; a refused header leaves the scheme NONE and
 * has a printable ASCII message that never quotes the header.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Imod_scim_provision \
 *       $(pkg-config --cflags apr-1 apr-util-1) mod_scim_provision/scim_http.c \
 *       mod_scim_provision/scim_util.c test/fuzz/fuzz_authz.c -o fuzz_authz \
 *       $(pkg-config --libs apr-1 apr-util-1) -lcrypto
 *   ./fuzz_authz test/fuzz/corpus/authz
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_base64.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz_util.h"
#include "scim_http.h"
#include "scim_util.h"

static int token68_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || strchr("-._~+/=", c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *hdr, *user = NULL, *token = NULL, *err = NULL;
    const char *user2 = NULL, *token2 = NULL;
    scim_auth_scheme_e scheme = (scim_auth_scheme_e)99, scheme2;

    apr_pool_create(&p, fuzz_root());
    hdr = apr_pstrmemdup(p, (const char *)data, size);
    if (scim_http_parse_authorization(p, hdr, &scheme, &user, &token, &err)
        == APR_SUCCESS) {
        const char *again;

        FUZZ_ASSERT(token && *token);
        if (scheme == SCIM_AUTH_BEARER) {
            const char *s;

            FUZZ_ASSERT(user == NULL);
            for (s = token; *s; s++) {
                FUZZ_ASSERT(token68_char(*s));
            }
            again = apr_pstrcat(p, "Bearer ", token, NULL);
        }
        else {
            const char *plain;
            char *b64;

            FUZZ_ASSERT(scheme == SCIM_AUTH_BASIC);
            FUZZ_ASSERT(user && !strchr(user, ':'));
            FUZZ_ASSERT(scim_utf8_valid(user, strlen(user)));
            FUZZ_ASSERT(scim_utf8_valid(token, strlen(token)));
            plain = apr_pstrcat(p, user, ":", token, NULL);
            b64 = apr_palloc(p, apr_base64_encode_len((int)strlen(plain)));
            apr_base64_encode(b64, plain, (int)strlen(plain));
            again = apr_pstrcat(p, "Basic ", b64, NULL);
        }
        FUZZ_ASSERT(scim_http_parse_authorization(p, again, &scheme2, &user2,
                                                  &token2, &err)
                    == APR_SUCCESS);
        FUZZ_ASSERT(scheme2 == scheme && !strcmp(token2, token));
        FUZZ_ASSERT((!user && !user2) || (user && user2 && !strcmp(user, user2)));
    }
    else {
        const char *e;

        FUZZ_ASSERT(scheme == SCIM_AUTH_NONE && err != NULL);
        for (e = err; *e; e++) {
            FUZZ_ASSERT((unsigned char)*e >= 0x20 && (unsigned char)*e < 0x7F);
        }
        /* the message is one of the parser's own sentences */
        FUZZ_ASSERT(strlen(err) < 64);
    }
    apr_pool_destroy(p);
    return 0;
}
