/* libFuzzer target: normalisation of a User or Group body
 * (scim_schema_normalize), what POST and PUT do with a client's resource.
 *
 * The first byte picks the resource type (bit 0: Group) and the flags
 * (bit 1: SCIM_NORM_IGNORE_UNKNOWN, as for Entra and Okta); the rest is the
 * body, parsed as the server parses it. Properties checked:
 *  - a rejection is a 400 with a scimType and a detail that can go into a
 *    JSON error body;
 *  - an accepted body gives a stored document that lists the core schema,
 *    has the required name, Group members as lower-case unique UUIDs, and
 *    is a fixed point: normalising it again gives the same document;
 *  - the document can be projected for a response.
 * Build and run: see test/fuzz/README.md (make fuzz). */

#include <stdint.h>

#include "fuzz_scim.h"
#include "fuzz_util.h"
#include "scim_json.h"
#include "scim_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const scim_resource_type_t *rt;
    scim_fault_t f = { 0, NULL, NULL };
    const char *err = NULL;
    apr_pool_t *p;
    json_t *in, *out = NULL;
    int flags;

    if (size < 1) {
        return 0;
    }
    rt = data[0] & 1 ? scim_schema_group() : scim_schema_user();
    flags = data[0] & 2 ? SCIM_NORM_IGNORE_UNKNOWN : 0;
    apr_pool_create(&p, fuzz_root());
    in = scim_json_parse(p, (const char *)data + 1, size - 1, 32, &err);
    if (in) {
        if (scim_schema_normalize(p, rt, in, flags, &out, &f) == APR_SUCCESS) {
            FUZZ_ASSERT(out != NULL);
            fuzz_check_stored_doc(p, rt, out, flags);
        }
        else {
            FUZZ_ASSERT(f.status == 400 && f.scim_type != NULL);
            fuzz_check_message(f.detail);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
