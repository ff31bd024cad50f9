/* libFuzzer target: the If-Match / If-None-Match parser
 * (scim_http_parse_etags).
 *
 * Properties: on success either "*" (any, no tags) or at least one tag;
 * every tag is valid UTF-8 without '"', white space or controls; writing
 * the tags back as a list ("a", W/"b") parses to the same tags; a refused
 * value has a printable ASCII message.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Imod_scim_provision \
 *       $(pkg-config --cflags apr-1) mod_scim_provision/scim_http.c \
 *       mod_scim_provision/scim_util.c test/fuzz/fuzz_etag.c -o fuzz_etag \
 *       $(pkg-config --libs apr-1) -lcrypto
 *   ./fuzz_etag test/fuzz/corpus/etag
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz_util.h"
#include "scim_http.h"
#include "scim_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *hdr, *err = NULL, **tags = NULL, **tags2 = NULL;
    int any = -1, any2 = -1, n = 0, i;

    apr_pool_create(&p, fuzz_root());
    hdr = apr_pstrmemdup(p, (const char *)data, size);
    if (scim_http_parse_etags(p, hdr, &tags, &any, &err) == APR_SUCCESS) {
        const char *again = "";

        if (any) {
            FUZZ_ASSERT(any == 1 && tags == NULL);
            apr_pool_destroy(p);
            return 0;
        }
        FUZZ_ASSERT(tags != NULL && tags[0] != NULL);
        for (n = 0; tags[n]; n++) {
            const char *t = tags[n];
            size_t k, len = strlen(t);

            FUZZ_ASSERT(scim_utf8_valid(t, len));
            for (k = 0; k < len; k++) {
                unsigned char c = (unsigned char)t[k];

                FUZZ_ASSERT(c > 0x20 && c != 0x7F && c != '"');
            }
            again = apr_pstrcat(p, again, n ? " ,\t" : "", (n & 1) ? "W/" : "",
                                "\"", t, "\"", NULL);
        }
        FUZZ_ASSERT(scim_http_parse_etags(p, again, &tags2, &any2, &err)
                    == APR_SUCCESS);
        FUZZ_ASSERT(any2 == 0);
        for (i = 0; i < n; i++) {
            FUZZ_ASSERT(tags2[i] && !strcmp(tags[i], tags2[i]));
        }
        FUZZ_ASSERT(tags2[n] == NULL);
    }
    else {
        FUZZ_ASSERT(err != NULL);
        for (; *err; err++) {
            FUZZ_ASSERT((unsigned char)*err >= 0x20 && (unsigned char)*err < 0x7F);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
