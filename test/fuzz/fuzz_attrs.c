/* libFuzzer target: the "attributes" and "excludedAttributes" parameters
 * (scim_schema_attr_list) and the projection of a resource for a response
 * (scim_schema_project, scim_schema_projection_wants).
 *
 * The first byte picks the resource (bit 0: a Group, else a User); the rest
 * is split at "\n--\n" into the attributes and excludedAttributes texts
 * (sent as query parameters, so any bytes but NUL). Properties checked:
 *  - a rejection has a message that can go into a JSON error body;
 *  - a projection always exists, keeps "id" and "schemas" (returned
 *    "always"), never invents a top-level attribute, and never returns
 *    the "never" ones (password).
 * Build and run: see test/fuzz/README.md (make fuzz). */

#include <stdint.h>


#include "fuzz_util.h"
#include "scim_json.h"
#include "scim_schema.h"

static apr_pool_t *root;
static json_t *user, *group;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    root = fuzz_root();
    user = json_loads(
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
        "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
        "\"id\":\"2819c223-7f76-453a-919d-413861904646\",\"externalId\":\"701984\","
        "\"userName\":\"bjensen@example.com\",\"name\":{\"givenName\":\"Barbara\","
        "\"familyName\":\"Jensen\"},\"active\":true,\"password\":\"x\","
        "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
        "\"primary\":true}],\"groups\":[{\"value\":\"e9e30dba-f08f-4109-8486-"
        "d5c6a331660a\",\"display\":\"Tour Guides\"}],"
        "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{"
        "\"department\":\"Tour Operations\",\"manager\":{\"value\":\"26118915-"
        "6090-4610-87e4-49d8ca9f808d\",\"displayName\":\"John Smith\"}},"
        "\"meta\":{\"resourceType\":\"User\",\"created\":\"2010-01-23T04:56:22Z\","
        "\"lastModified\":\"2011-05-13T04:42:34Z\",\"version\":\"W/\\\"3694e05e\\\"\","
        "\"location\":\"https://example.com/v2/Users/2819c223\"}}",
        0, NULL);
    group = json_loads("{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
                       "\"id\":\"e9e30dba-f08f-4109-8486-d5c6a331660a\",\"displayName\":\"Tour "
                       "Guides\",\"members\":[{\"value\":\"2819c223-7f76-453a-919d-413861904646\","
                       "\"display\":\"Babs Jensen\",\"$ref\":\"https://example.com/v2/Users/"
                       "2819c223\"}],\"meta\":{\"resourceType\":\"Group\"}}",
                       0, NULL);
    if (!user || !group) {
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in = { data, size };
    const scim_resource_type_t *rt;
    apr_array_header_t *attrs = NULL, *excl = NULL;
    const char *a, *x, *err = NULL, *k;
    scim_attr_ref_t ref;
    json_t *res, *out, *v;
    apr_pool_t *p;
    unsigned sel = fuzz_byte(&in);

    apr_pool_create(&p, root);
    rt = sel & 1 ? scim_schema_group() : scim_schema_user();
    res = sel & 1 ? group : user;
    a = fuzz_next(p, &in, NULL);
    x = fuzz_next(p, &in, NULL);
    if (scim_schema_attr_list(p, rt, a, &attrs, &err) != APR_SUCCESS) {
        fuzz_check_message(err);
        attrs = NULL;
    }
    if (scim_schema_attr_list(p, rt, x, &excl, &err) != APR_SUCCESS) {
        fuzz_check_message(err);
        excl = NULL;
    }
    out = scim_schema_project(p, rt, res, attrs, excl);
    FUZZ_ASSERT(json_is_object(out));
    FUZZ_ASSERT(json_object_get(out, "id") && json_object_get(out, "schemas"));
    FUZZ_ASSERT(!json_object_get(out, "password"));
    json_object_foreach(out, k, v)
    {
        FUZZ_ASSERT(json_object_get(res, k) != NULL);
    }
    if (scim_schema_resolve(rt, a, strlen(a), 0, &ref) == APR_SUCCESS
        && ref.attr) {
        scim_schema_projection_wants(rt, &ref, attrs, excl);
    }
    apr_pool_destroy(p);
    return 0;
}
