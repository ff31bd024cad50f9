/* libFuzzer target: the query-string parser (scim_http_parse_query), the
 * strict UTF-8 check and scim_util_quote, which quotes client text in every
 * error message.
 *
 * Properties checked on each input:
 * - scim_utf8_valid agrees with an independent decoder written from the
 *   table of well-formed byte sequences (RFC 3629 section 4);
 * - scim_util_quote's output is valid UTF-8 without C0/C1 controls, at
 *   most max + 3 bytes, and the input unchanged when it was already clean;
 * - a parsed query has only valid, NUL-free UTF-8 names and values, no name
 *   twice (ignoring case), at most SCIM_HTTP_MAX_PARAMS pairs, and %-encoding them again
 *   parses to the same pairs; a refused one has a printable ASCII message.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Imod_scim_provision \
 *       $(pkg-config --cflags apr-1) mod_scim_provision/scim_http.c \
 *       mod_scim_provision/scim_util.c test/fuzz/fuzz_query.c -o fuzz_query \
 *       $(pkg-config --libs apr-1) -lcrypto
 *   ./fuzz_query test/fuzz/corpus/query
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "fuzz_util.h"
#include "scim_http.h"
#include "scim_util.h"

/* RFC 3629 section 4, byte by byte; NUL refused as scim_utf8_valid does. */
static int ref_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        unsigned char lo = 0x80, hi = 0xBF;
        size_t k, len;

        if (c == 0) {
            return 0;
        }
        if (c <= 0x7F) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) {
                lo = 0xA0;
            }
            if (c == 0xED) {
                hi = 0x9F;
            }
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) {
                lo = 0x90;
            }
            if (c == 0xF4) {
                hi = 0x8F;
            }
        }
        else {
            return 0;
        }
        if (i + len > n) {
            return 0;
        }
        for (k = 1; k < len; k++) {
            unsigned char b = s[i + k];
            unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;

            if (b < l || b > h) {
                return 0;
            }
        }
        i += len;
    }
    return 1;
}

/* Printable ASCII or valid UTF-8 without C0/C1 controls. */
static void check_clean(const char *s, size_t n)
{
    size_t i;

    FUZZ_ASSERT(scim_utf8_valid(s, n));
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        FUZZ_ASSERT(c >= 0x20 && c != 0x7F);
        if (c == 0xC2 && i + 1 < n) {
            FUZZ_ASSERT((unsigned char)s[i + 1] > 0x9F); /* no U+0080..U+009F */
        }
    }
}

static void check_ascii(const char *s)
{
    for (; *s; s++) {
        FUZZ_ASSERT((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7F);
    }
}

static char *encode(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s), i;
    char *out = apr_palloc(p, n * 3 + 1), *o = out;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        *o++ = '%';
        *o++ = hex[c >> 4];
        *o++ = hex[c & 15];
    }
    *o = '\0';
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *args, *err = NULL, *q;
    apr_table_t *t = NULL, *t2 = NULL;
    size_t max = size ? data[0] % 80 : 10;
    int i;

    apr_pool_create(&p, fuzz_root());
    /* the strict UTF-8 check against the reference */
    FUZZ_ASSERT(scim_utf8_valid((const char *)data, size) == ref_utf8(data, size));
    /* quoting */
    q = scim_util_quote(p, (const char *)data, size, max);
    FUZZ_ASSERT(q != NULL);
    FUZZ_ASSERT(strlen(q) <= max + 3);
    check_clean(q, strlen(q));
    if (size <= max / 6 && ref_utf8(data, size)) {
        size_t k;
        int plain = 1;

        for (k = 0; k < size; k++) {
            plain &= data[k] >= 0x20 && data[k] != 0x7F && data[k] != 0xC2
                && data[k] != 0xE2 && data[k] != 0xEF;
        }
        if (plain) {
            FUZZ_ASSERT(strlen(q) == size && !memcmp(q, data, size));
        }
    }
    /* the query parser */
    args = apr_pstrmemdup(p, (const char *)data, size);
    if (scim_http_parse_query(p, args, &t, &err) == APR_SUCCESS) {
        const apr_array_header_t *a = apr_table_elts(t);
        const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
        const char *again = "";

        FUZZ_ASSERT(a->nelts <= SCIM_HTTP_MAX_PARAMS);
        for (i = 0; i < a->nelts; i++) {
            int k;

            FUZZ_ASSERT(scim_utf8_valid(e[i].key, strlen(e[i].key)));
            FUZZ_ASSERT(scim_utf8_valid(e[i].val, strlen(e[i].val)));
            for (k = 0; k < i; k++) {
                FUZZ_ASSERT(strcasecmp(e[k].key, e[i].key) != 0);
            }
            again = apr_pstrcat(p, again, i ? "&" : "", encode(p, e[i].key),
                                "=", encode(p, e[i].val), NULL);
        }
        FUZZ_ASSERT(scim_http_parse_query(p, again, &t2, &err) == APR_SUCCESS);
        FUZZ_ASSERT(apr_table_elts(t2)->nelts == a->nelts);
        for (i = 0; i < a->nelts; i++) {
            const char *v = apr_table_get(t2, e[i].key);

            FUZZ_ASSERT(v && !strcmp(v, e[i].val));
        }
    }
    else {
        FUZZ_ASSERT(err != NULL);
        check_ascii(err);
    }
    apr_pool_destroy(p);
    return 0;
}
