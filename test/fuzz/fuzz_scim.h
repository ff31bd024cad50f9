/* Checks shared by the targets over SCIM resources (resource, patch). */

#ifndef FUZZ_SCIM_H
#define FUZZ_SCIM_H

#include "fuzz_util.h"
#include "scim_json.h"
#include "scim_schema.h"
#include "scim_util.h"

/* What every stored document (an accepted body, a PATCH result) satisfies:
 * it lists the core schema, has the required name and no id or meta, Group
 * members are lower-case unique UUIDs, normalising it again gives the same
 * document, and it can be projected for a response. */
static void fuzz_check_stored_doc(apr_pool_t *p, const scim_resource_type_t *rt,
                                  const json_t *doc, int flags)
{
    scim_fault_t f = { 0, NULL, NULL };
    json_t *again = NULL, *schemas, *v, *name;
    apr_array_header_t *ids;
    size_t i;
    int core = 0, k;

    FUZZ_ASSERT(json_is_object(doc));
    schemas = json_object_get(doc, "schemas");
    FUZZ_ASSERT(json_is_array(schemas));
    json_array_foreach(schemas, i, v)
    {
        FUZZ_ASSERT(json_is_string(v));
        core |= !strcmp(json_string_value(v), rt->schema->id);
    }
    FUZZ_ASSERT(core);
    name = json_object_get(doc,
                           rt->kind == SCIM_RES_GROUP ? "displayName"
                                                      : "userName");
    FUZZ_ASSERT(json_is_string(name) && *json_string_value(name));
    FUZZ_ASSERT(!json_object_get(doc, "id") && !json_object_get(doc, "meta"));
    if (rt->kind == SCIM_RES_GROUP) {
        ids = scim_schema_member_ids(p, doc);
        for (k = 0; k < ids->nelts; k++) {
            const char *id = APR_ARRAY_IDX(ids, k, const char *);
            int m;

            FUZZ_ASSERT(scim_is_uuid(id));
            for (m = 0; id[m]; m++) {
                FUZZ_ASSERT(id[m] < 'A' || id[m] > 'F');
            }
            for (m = 0; m < k; m++) {
                FUZZ_ASSERT(strcmp(id, APR_ARRAY_IDX(ids, m, const char *)));
            }
        }
    }
    FUZZ_ASSERT(scim_schema_normalize(p, rt, doc, flags, &again, &f)
                == APR_SUCCESS);
    FUZZ_ASSERT(json_equal((json_t *)doc, again));
    FUZZ_ASSERT(scim_schema_project(p, rt, doc, NULL, NULL) != NULL);
}

#endif /* FUZZ_SCIM_H */
