/* libFuzzer target: the strict JSON reader every untrusted document goes
 * through (scim_json_parse) and its limits.
 *
 * The first byte picks the depth limit (0 means the default); the rest is
 * the document, passed without a terminating NUL so that a read past its
 * end is caught. Properties checked:
 *  - a rejection has a message that can go into a JSON error body;
 *  - an accepted document had no NUL byte, is nested no deeper than the
 *    limit, and survives scim_json_dump and a second parse unchanged;
 *  - scim_json_dump writes the bytes of Jansson's json_dumps (compact), for
 *    the parsed tree and for a string of the raw input bytes (NUL, control
 *    characters and bytes that are not UTF-8 included: both escape the first
 *    two and refuse the last);
 *  - the fast reader scim_json_parse tries first (scim_json_parse_fast)
 *    builds only what json_loadb(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)
 *    accepts, and the same tree: the bytes of Jansson's compact dump of
 *    both are the same (member order, integer or real).
 * Build and run: see test/fuzz/README.md (make fuzz). */

#include <stdint.h>

#include "fuzz_util.h"
#include "scim_json.h"

/* Nesting of arrays and objects ("1" is 0, "[]" is 1), stopping at max. */
static int depth_of(const json_t *j, int max)
{
    int d = 0, e;
    size_t i;
    const char *k;
    json_t *v;

    if (max < 0) {
        return 1;
    }
    if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            if ((e = depth_of(v, max - 1)) > d) {
                d = e;
            }
        }
        return d + 1;
    }
    if (json_is_object(j)) {
        json_object_foreach((json_t *)j, k, v)
        {
            if ((e = depth_of(v, max - 1)) > d) {
                d = e;
            }
        }
        return d + 1;
    }
    return 0;
}

/* scim_json_dump(j, 0) against Jansson's own compact dump. */
static void same_as_jansson(apr_pool_t *p, const json_t *j)
{
    char *ours = scim_json_dump(p, j, 0);
    char *theirs = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

    FUZZ_ASSERT((ours == NULL) == (theirs == NULL));
    FUZZ_ASSERT(!ours || !strcmp(ours, theirs));
    free(theirs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *err = NULL, *text;
    json_t *j, *again, *raw;
    char *dump;
    int max;

    if (size < 1) {
        return 0;
    }
    max = data[0] % 40;
    apr_pool_create(&p, fuzz_root());
    raw = json_stringn_nocheck((const char *)data + 1, size - 1);
    same_as_jansson(p, raw);
    json_decref(raw);
    /* the fast reader against Jansson, on every input */
    {
        json_t *fast = scim_json_parse_fast(p, (const char *)data + 1, size - 1);

        if (fast) {
            json_t *ref = json_loadb((const char *)data + 1, size - 1,
                                     JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
                                     NULL);
            char *a, *b;

            FUZZ_ASSERT(ref != NULL);
            a = json_dumps(fast, JSON_COMPACT | JSON_ENCODE_ANY);
            b = json_dumps(ref, JSON_COMPACT | JSON_ENCODE_ANY);
            FUZZ_ASSERT(a != NULL && b != NULL && !strcmp(a, b));
            free(a);
            free(b);
            json_decref(ref);
            json_decref(fast);
        }
    }
    j = scim_json_parse(p, (const char *)data + 1, size - 1, max, &err);
    if (!j) {
        fuzz_check_message(err);
    }
    else {
        if (max <= 0) {
            max = SCIM_JSON_MAX_DEPTH_DEFAULT;
        }
        FUZZ_ASSERT(!memchr(data + 1, '\0', size - 1));
        FUZZ_ASSERT(depth_of(j, max + 1) <= max);
        dump = scim_json_dump(p, j, 0);
        FUZZ_ASSERT(dump != NULL);
        same_as_jansson(p, j);
        FUZZ_ASSERT(fuzz_utf8_valid(dump, strlen(dump)));
        text = dump;
        again = scim_json_parse(p, text, strlen(text), max, &err);
        FUZZ_ASSERT(again != NULL && json_equal(j, again));
    }
    apr_pool_destroy(p);
    return 0;
}
