/* libFuzzer target: SCIM PATCH (scim_patch_apply_ex), paths and operations
 * applied to a stored User and to a stored Group document.
 *
 * The first byte picks the document (bit 0: the Group, else the User; bit
 * 2: a User with only userName and active) and the flags (bit 1:
 * SCIM_NORM_IGNORE_UNKNOWN); the rest is the PatchOp
 * body, parsed as the server parses it. Properties checked:
 *  - a rejection is a 400 with a scimType and a detail that can go into a
 *    JSON error body, and no document;
 *  - a success gives a valid stored document (see fuzz_scim.h); "changed"
 *    says whether it differs from the input; for the Group, member_ids are
 *    the document's members, and members_added / members_removed are
 *    exactly the difference to the members before;
 *  - the input document is not modified;
 *  - for the User, where scim_patch_user_set says the patch only sets
 *    values, the whole patch applies and gives the document with that set
 *    applied (scim_patch_set_apply: what the store does in one UPDATE);
 *  - for the Group, where scim_patch_member_delta says its split is exact
 *    and the whole patch applies, the members before plus its adds minus
 *    its removes are the members after, and the rest of the patch applied
 *    to the document without members gives the same document.
 * Build and run: see test/fuzz/README.md (make fuzz). */

#include <stdint.h>

#include <apr_hash.h>


#include "fuzz_scim.h"
#include "scim_patch.h"

#define UID "2819c223-7f76-453a-919d-413861904646"
#define GID "e9e30dba-f08f-4109-8486-d5c6a331660a"

static apr_pool_t *root;
static json_t *user_doc, *bare_user_doc, *group_doc;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    root = fuzz_root();
    user_doc = json_loads(
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
        "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
        "\"userName\":\"bjensen@example.com\",\"externalId\":\"00ujl29u0le5T6Aj10h7\","
        "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\","
        "\"formatted\":\"Barbara Jensen\"},\"displayName\":\"Babs\","
        "\"active\":true,\"title\":\"Tour Guide\",\"locale\":\"en-US\","
        "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
        "\"primary\":true},{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
        "\"phoneNumbers\":[{\"value\":\"555-555-8377\",\"type\":\"work\"}],"
        "\"addresses\":[{\"type\":\"work\",\"streetAddress\":\"100 Universal City Plaza\","
        "\"locality\":\"Hollywood\",\"region\":\"CA\",\"postalCode\":\"91608\","
        "\"country\":\"US\",\"primary\":true}],"
        "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{"
        "\"employeeNumber\":\"701984\",\"department\":\"Tour Operations\","
        "\"manager\":{\"value\":\"26118915-6090-4610-87e4-49d8ca9f808d\"}}}",
        0, NULL);
    group_doc = json_loads("{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
                           "\"displayName\":\"Tour Guides\",\"externalId\":\"00g1emaKYZTWRYYRRTSK\","
                           "\"members\":[{\"value\":\"23a35c27-23d3-4c03-b4c5-6443c09e7173\"},"
                           "{\"value\":\"89bb1940-b905-4575-9e7f-6f887cfb368e\"},"
                           "{\"value\":\"f648f8d5-ea4e-4cd3-8e9c-000000000003\"}]}",
                           0, NULL);
    bare_user_doc = json_loads("{\"schemas\":[\"urn:ietf:params:scim:schemas:"
                               "core:2.0:User\"],\"userName\":\"u\","
                               "\"active\":true}",
                               0, NULL);
    if (!user_doc || !bare_user_doc || !group_doc) {
        abort();
    }
    return 0;
}

static int has_id(const apr_array_header_t *a, const char *id)
{
    int i;

    for (i = 0; a && i < a->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(a, i, const char *), id)) {
            return 1;
        }
    }
    return 0;
}

/* added = after - before, removed = before - after, as sets. */
static void check_members(apr_pool_t *p, const json_t *before,
                          const scim_patch_result_t *res)
{
    apr_array_header_t *b = scim_schema_member_ids(p, before);
    apr_array_header_t *a = scim_schema_member_ids(p, res->doc);
    int i, diff = 0;

    FUZZ_ASSERT(res->member_ids && res->member_ids->nelts == a->nelts);
    for (i = 0; i < a->nelts; i++) {
        const char *id = APR_ARRAY_IDX(a, i, const char *);

        FUZZ_ASSERT(has_id(res->member_ids, id));
        FUZZ_ASSERT(has_id(b, id) != has_id(res->members_added, id));
        diff |= !has_id(b, id);
    }
    for (i = 0; i < b->nelts; i++) {
        const char *id = APR_ARRAY_IDX(b, i, const char *);

        FUZZ_ASSERT(has_id(a, id) != has_id(res->members_removed, id));
        diff |= !has_id(a, id);
    }
    FUZZ_ASSERT(!res->members_changed == !diff);
}

/* The member delta agrees with the whole patch (res: its success). */
static void check_delta(apr_pool_t *p, const json_t *doc, const json_t *patch,
                        const scim_patch_result_t *res)
{
    apr_array_header_t *add, *remove, *before;
    apr_hash_t *set = apr_hash_make(p);
    scim_patch_result_t part;
    scim_fault_t f = { 0, NULL, NULL };
    json_t *rest, *bare, *want;
    int i;

    if (!scim_patch_member_delta(p, patch, 100, &rest, &add, &remove)) {
        return;
    }
    before = scim_schema_member_ids(p, doc);
    for (i = 0; i < before->nelts; i++) {
        apr_hash_set(set, APR_ARRAY_IDX(before, i, const char *),
                     APR_HASH_KEY_STRING, "");
    }
    for (i = 0; i < add->nelts; i++) {
        apr_hash_set(set, APR_ARRAY_IDX(add, i, const char *),
                     APR_HASH_KEY_STRING, "");
    }
    for (i = 0; i < remove->nelts; i++) {
        apr_hash_set(set, APR_ARRAY_IDX(remove, i, const char *),
                     APR_HASH_KEY_STRING, NULL);
    }
    FUZZ_ASSERT((int)apr_hash_count(set) == res->member_ids->nelts);
    for (i = 0; i < res->member_ids->nelts; i++) {
        FUZZ_ASSERT(apr_hash_get(set,
                                 APR_ARRAY_IDX(res->member_ids, i, const char *),
                                 APR_HASH_KEY_STRING));
    }
    bare = scim_json_pool_own(p, json_deep_copy(doc));
    json_object_del(bare, "members");
    want = scim_json_pool_own(p, json_deep_copy(res->doc));
    json_object_del(want, "members");
    if (rest) {
        FUZZ_ASSERT(scim_patch_apply_ex(p, scim_schema_group(), GID, bare, rest,
                                        100, 0, &part, &f)
                    == APR_SUCCESS);
        FUZZ_ASSERT(json_equal(part.doc, want));
    }
    else {
        FUZZ_ASSERT(json_equal(bare, want));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const scim_resource_type_t *rt;
    scim_patch_result_t res;
    scim_fault_t f = { 0, NULL, NULL };
    const char *err = NULL;
    apr_pool_t *p;
    json_t *patch, *doc, *copy;
    int flags;

    if (size < 1) {
        return 0;
    }
    rt = data[0] & 1 ? scim_schema_group() : scim_schema_user();
    doc = data[0] & 1 ? group_doc : data[0] & 4 ? bare_user_doc : user_doc;
    flags = data[0] & 2 ? SCIM_NORM_IGNORE_UNKNOWN : 0;
    apr_pool_create(&p, root);
    patch = scim_json_parse(p, (const char *)data + 1, size - 1, 32, &err);
    if (patch) {
        json_t *set = NULL;
        int plain = rt->kind == SCIM_RES_USER && !flags
            && scim_patch_user_set(p, UID, patch, 100, &set);

        copy = json_deep_copy(doc);
        memset(&res, 0, sizeof(res));
        if (scim_patch_apply_ex(p, rt, data[0] & 1 ? GID : UID, doc, patch, 100,
                                flags, &res, &f)
            == APR_SUCCESS) {
            FUZZ_ASSERT(
                !plain || json_equal(res.doc, scim_patch_set_apply(p, doc, set)));
            FUZZ_ASSERT(res.doc != NULL);
            fuzz_check_stored_doc(p, rt, res.doc, flags);
            FUZZ_ASSERT(!res.changed == !!json_equal(doc, res.doc));
            if (rt->kind == SCIM_RES_GROUP) {
                check_members(p, doc, &res);
                if (!flags) {
                    check_delta(p, doc, patch, &res);
                }
            }
        }
        else {
            FUZZ_ASSERT(!plain);
            FUZZ_ASSERT(res.doc == NULL);
            FUZZ_ASSERT(f.status == 400 && f.scim_type != NULL);
            fuzz_check_message(f.detail);
        }
        FUZZ_ASSERT(json_equal(doc, copy));
        json_decref(copy);
    }
    apr_pool_destroy(p);
    return 0;
}
