/* Helpers shared by the libFuzzer targets in test/fuzz (header only, so a
 * target is one .c file plus the core): splitting one input into several
 * arguments, and the checks the targets assert on what the core returns. */

#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

/* A failed property: abort, so that libFuzzer (and the replay driver)
 * report the input. */
#define FUZZ_ASSERT(c) ((c) ? (void)0 : abort())

/* APR and the root pool of every input's pool, made on first use. */
static inline apr_pool_t *fuzz_root(void)
{
    static apr_pool_t *root;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    return root;
}

/* Structured input: the fields of one input are separated by a byte
 * sequence the fuzzer learns quickly (it is in every dictionary). */
#define FUZZ_SEP     "\n--\n"
#define FUZZ_SEP_LEN 4

typedef struct {
    const uint8_t *data;
    size_t size;
} fuzz_input_t;

/* The next field of *in as a pool string (NUL-terminated; a NUL byte inside
 * stays and shortens the C string, as a database value would not have one):
 * the bytes up to the next separator, or all that is left. *len (may be
 * NULL) gets the field's length in bytes. */
static inline char *fuzz_next(apr_pool_t *p, fuzz_input_t *in, size_t *len)
{
    const uint8_t *s = in->data, *end = s + in->size, *q;
    size_t n = in->size;

    for (q = s; q + FUZZ_SEP_LEN <= end; q++) {
        if (!memcmp(q, FUZZ_SEP, FUZZ_SEP_LEN)) {
            n = (size_t)(q - s);
            break;
        }
    }
    in->data = s + n;
    in->size -= n;
    if (in->size >= FUZZ_SEP_LEN) {
        in->data += FUZZ_SEP_LEN;
        in->size -= FUZZ_SEP_LEN;
    }
    if (len) {
        *len = n;
    }
    return apr_pstrmemdup(p, (const char *)s, n);
}

/* One byte of *in (0 when empty), for choices. */
static inline unsigned fuzz_byte(fuzz_input_t *in)
{
    unsigned b = 0;

    if (in->size) {
        b = in->data[0];
        in->data++;
        in->size--;
    }
    return b;
}

/* 1 if s[0..len-1] is valid UTF-8 (no overlong forms, no surrogates, at
 * most U+10FFFF): what Jansson needs to build a JSON string, so every text
 * the core hands back for an error body must pass. */
static inline int fuzz_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i], n, cp, k;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        }
        else {
            return 0;
        }
        if (i + n >= len) {
            return 0;
        }
        for (k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)
            || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            return 0;
        }
        i += n + 1;
    }
    return 1;
}

/* A message for a client: present and valid UTF-8, so that it can go into
 * a JSON error body (json_pack fails on anything else). */
static inline void fuzz_check_message(const char *msg)
{
    FUZZ_ASSERT(msg != NULL);
    FUZZ_ASSERT(fuzz_utf8_valid(msg, strlen(msg)));
}

#endif /* FUZZ_UTIL_H */
