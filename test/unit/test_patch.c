/* Unit tests of scim_patch, with the request bodies Okta and Microsoft Entra
 * ID send (from their SCIM provisioning documentation). */

#include <string.h>

#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <check.h>
#include <jansson.h>

#include "scim_json.h"
#include "scim_patch.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);

    ck_assert_msg(j != NULL, "bad test JSON: %s: %s", e.text, text);
    return scim_json_pool_own(pool, j);
}

static const char *dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    char *r = apr_pstrdup(pool, s ? s : "(null)");

    free(s);
    return r;
}

#define ck_assert_json_eq(got, want)                                       \
    do {                                                                   \
        json_t *w_ = J(want);                                              \
        ck_assert_msg(json_equal((got), w_), "got %s\nwant %s", dump(got), \
                      dump(w_));                                           \
    } while (0)

#define ENT    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define PATCH  "\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"]"
#define USER_S "\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"]"
#define USER_SE \
    "\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"" ENT "\"]"
#define GROUP_S "\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"]"
#define UID     "2819c223-7f76-453a-919d-413861904646"
#define M1      "23a35c27-23d3-4c03-b4c5-6443c09e7173"
#define M2      "89bb1940-b905-4575-9e7f-6f887cfb368e"
#define M3      "f648f8d5-ea4e-4cd3-8e9c-000000000003"
#define GID     "abf4dd94-a4c0-4f67-89c9-76b03340cb9b"

/* A stored User. */
static const char *
    user_doc = "{" USER_SE ",\"userName\":\"bjensen@example.com\",\"externalId\":"
               "\"00ujl29u0le5T6Aj10h7\",\"name\":{\"givenName\":\"Barbara\","
               "\"familyName\":\"Jensen\"},\"displayName\":\"Babs Jensen\","
               "\"active\":true,\"emails\":[{\"value\":\"bjensen@example.com\","
               "\"type\":\"work\",\"primary\":true},{\"value\":\"babs@jensen.org\","
               "\"type\":\"home\"}],\"" ENT "\":{\"employeeNumber\":\"701984\","
               "\"department\":\"Tour Operations\"}}";

/* A stored Group with its members. */
static const char *group_doc = "{" GROUP_S
                               ",\"displayName\":\"Test SCIMv2\",\"members\":[{\"value\":"
                               "\"" M1 "\"},{\"value\":\"" M2 "\"}]}";

static scim_patch_result_t patch_ok_ex(const scim_resource_type_t *rt,
                                       const char *id, const char *doc,
                                       const char *body, int flags)
{
    scim_patch_result_t res;
    scim_fault_t f = { 0, NULL, NULL };
    json_t *d = J(doc), *before = json_deep_copy(d);
    apr_status_t rv;

    rv = scim_patch_apply_ex(pool, rt, id, d, J(body), 10, flags, &res, &f);
    ck_assert_msg(rv == APR_SUCCESS, "patch failed: %s %s", f.scim_type,
                  f.detail);
    ck_assert_ptr_nonnull(res.doc);
    /* The input is never modified. */
    ck_assert(json_equal(d, before));
    json_decref(before);
    return res;
}

static json_t *patch_user(const char *body)
{
    return patch_ok_ex(scim_schema_user(), UID, user_doc, body, 0).doc;
}

static scim_patch_result_t patch_group(const char *body)
{
    return patch_ok_ex(scim_schema_group(), GID, group_doc, body, 0);
}

static scim_fault_t patch_fail_rt(const scim_resource_type_t *rt, const char *doc,
                                  const char *body, const char *type)
{
    scim_patch_result_t res;
    scim_fault_t f = { 0, NULL, NULL };
    apr_status_t rv;

    rv = scim_patch_apply_ex(pool, rt, UID, J(doc), J(body), 10, 0, &res, &f);
    ck_assert_msg(rv == APR_EINVAL, "patch accepted: %s", body);
    ck_assert_ptr_null(res.doc);
    ck_assert_int_eq(f.status, 400);
    ck_assert_ptr_nonnull(f.detail);
    ck_assert_msg(f.scim_type && !strcmp(f.scim_type, type),
                  "scimType %s, want %s (%s)", f.scim_type, type, f.detail);
    return f;
}

static scim_fault_t patch_fail(const char *body, const char *type)
{
    return patch_fail_rt(scim_schema_user(), user_doc, body, type);
}

#define OPS(x) "{" PATCH ",\"Operations\":[" x "]}"

static const char *str_at(const json_t *doc, const char *a, const char *b)
{
    json_t *v = json_object_get(doc, a);

    if (b) {
        v = json_object_get(v, b);
    }
    return json_string_value(v);
}

static json_t *email(const json_t *doc, const char *type)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(doc, "emails"), i, e)
    {
        if (!strcmp(json_string_value(json_object_get(e, "type")), type)) {
            return e;
        }
    }
    return NULL;
}

static int has_id(apr_array_header_t *ids, const char *id)
{
    int i;

    for (i = 0; ids && i < ids->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(ids, i, const char *), id)) {
            return 1;
        }
    }
    return 0;
}

/* ---- Okta ---- */

START_TEST(okta_deactivate)
{
    /* developer.okta.com: "Update a specific User (PATCH)". */
    scim_patch_result_t r = patch_ok_ex(scim_schema_user(), UID, user_doc,
                                        "{\"schemas\":[\"urn:ietf:params:scim:"
                                        "api:messages:2.0:PatchOp\"],"
                                        "\"Operations\":[{\"op\":\"replace\","
                                        "\"value\":{\"active\":false}}]}",
                                        0);

    ck_assert(json_is_false(json_object_get(r.doc, "active")));
    ck_assert(r.changed);
    ck_assert(!r.members_changed);
    ck_assert_str_eq(str_at(r.doc, "userName", NULL), "bjensen@example.com");
    /* A deactivated user keeps everything else. */
    ck_assert_int_eq(json_object_size(r.doc), json_object_size(J(user_doc)));
}
END_TEST

START_TEST(okta_group_rename)
{
    /* Okta's group push rename carries the group's own id. */
    scim_patch_result_t r = patch_group(
        OPS("{\"op\":\"replace\",\"value\":{\"id\":\"" GID "\","
            "\"displayName\":\"Test SCIMv2 renamed\"}}"));

    ck_assert_str_eq(str_at(r.doc, "displayName", NULL), "Test SCIMv2 renamed");
    ck_assert(!r.members_changed);
    ck_assert_int_eq(r.member_ids->nelts, 2);
    /* The id compares case-insensitively; another id is refused. */
    patch_group(OPS("{\"op\":\"replace\",\"value\":{\"id\":"
                    "\"ABF4DD94-A4C0-4F67-89C9-76B03340CB9B\","
                    "\"displayName\":\"x\"}}"));
    patch_fail_rt(scim_schema_group(), group_doc,
                  OPS("{\"op\":\"replace\",\"value\":{\"id\":\"" M1 "\","
                      "\"displayName\":\"x\"}}"),
                  "mutability");
}
END_TEST

START_TEST(okta_members_add)
{
    scim_patch_result_t r = patch_group(
        OPS("{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":"
            "\"" M3 "\",\"display\":\"test.user@okta.local\"},{\"value\":"
            "\"" M1 "\",\"display\":\"again\"}]}"));

    ck_assert(r.members_changed);
    ck_assert_int_eq(r.member_ids->nelts, 3);
    ck_assert(has_id(r.member_ids, M3));
    ck_assert_int_eq(r.members_added->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(r.members_added, 0, const char *), M3);
    ck_assert_int_eq(r.members_removed->nelts, 0);
    ck_assert_json_eq(json_object_get(r.doc, "members"),
                      "[{\"value\":\"" M1 "\"},{\"value\":\"" M2 "\"},"
                      "{\"value\":\"" M3 "\"}]");
    /* Adding a member that is there already changes nothing. */
    r = patch_group(OPS("{\"op\":\"add\",\"path\":\"members\",\"value\":"
                        "[{\"value\":\"23A35C27-23D3-4C03-B4C5-6443C09E7173\""
                        "}]}"));
    ck_assert(!r.members_changed);
    ck_assert(!r.changed);
    /* Into an empty group. */
    r = patch_ok_ex(scim_schema_group(), GID,
                    "{" GROUP_S ",\"displayName\":\"Empty\"}",
                    OPS("{\"op\":\"add\",\"path\":\"members\",\"value\":"
                        "[{\"value\":\"" M3 "\"}]}"),
                    0);
    ck_assert(r.members_changed);
    ck_assert_int_eq(r.member_ids->nelts, 1);
}
END_TEST

START_TEST(okta_members_remove)
{
    /* developer.okta.com: "Update Group membership: remove". */
    scim_patch_result_t r = patch_group(
        "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
        "\"Operations\":[{\"op\":\"remove\",\"path\":\"members[value eq "
        "\\\"" M2 "\\\"]\"}]}");

    ck_assert(r.members_changed);
    ck_assert_int_eq(r.member_ids->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(r.member_ids, 0, const char *), M1);
    ck_assert_int_eq(r.members_removed->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(r.members_removed, 0, const char *), M2);
    /* Removing someone who is not a member is not an error. */
    r = patch_group(OPS("{\"op\":\"remove\",\"path\":\"members[value eq "
                        "\\\"" M3 "\\\"]\"}"));
    ck_assert(!r.members_changed);
    ck_assert(!r.changed);
    /* Several at once, and the last one. */
    r = patch_group(OPS("{\"op\":\"remove\",\"path\":\"members[value eq "
                        "\\\"" M1 "\\\" or value eq \\\"" M2 "\\\"]\"}"));
    ck_assert(r.members_changed);
    ck_assert_int_eq(r.member_ids->nelts, 0);
    ck_assert_ptr_null(json_object_get(r.doc, "members"));
}
END_TEST

START_TEST(okta_members_replace)
{
    scim_patch_result_t r = patch_group(
        OPS("{\"op\":\"replace\",\"path\":\"members\",\"value\":[{\"value\":"
            "\"" M3 "\",\"display\":\"c\"},{\"value\":\"" M2 "\"}]}"));

    ck_assert(r.members_changed);
    ck_assert_int_eq(r.member_ids->nelts, 2);
    ck_assert(has_id(r.members_added, M3));
    ck_assert(has_id(r.members_removed, M1));
    r = patch_group(OPS("{\"op\":\"replace\",\"path\":\"members\",\"value\":"
                        "[]}"));
    ck_assert_int_eq(r.member_ids->nelts, 0);
    ck_assert_int_eq(r.members_removed->nelts, 2);
}
END_TEST

START_TEST(okta_password_and_profile)
{
    /* A password change is accepted and never stored. */
    scim_patch_result_t
        r = patch_ok_ex(scim_schema_user(), UID, user_doc,
                        OPS("{\"op\":\"replace\",\"value\":{\"password\":\"t1meMa$heen\"}}"),
                        0);

    ck_assert(!r.changed);
    ck_assert_ptr_null(json_object_get(r.doc, "password"));
    /* Okta's profile push as a path-less replace of a full profile, with
     * read-only attributes echoed back. */
    r = patch_ok_ex(scim_schema_user(), UID, user_doc,
                    OPS("{\"op\":\"replace\",\"value\":{\"schemas\":[\"urn:"
                        "ietf:params:scim:schemas:core:2.0:User\"],\"id\":"
                        "\"" UID "\",\"meta\":{\"resourceType\":\"User\"},"
                        "\"groups\":[],\"userName\":\"bjensen@example.com\","
                        "\"name\":{\"givenName\":\"Babs\"},\"locale\":"
                        "\"en-US\"}}"),
                    0);
    ck_assert_str_eq(str_at(r.doc, "name", "givenName"), "Babs");
    ck_assert_str_eq(str_at(r.doc, "name", "familyName"), "Jensen");
    ck_assert_str_eq(str_at(r.doc, "locale", NULL), "en-US");
    ck_assert_ptr_null(json_object_get(r.doc, "id"));
    ck_assert_ptr_null(json_object_get(r.doc, "meta"));
}
END_TEST

/* ---- Entra ---- */

START_TEST(entra_multi_valued)
{
    /* learn.microsoft.com: "Update User [Multi-valued properties]". */
    json_t *d = patch_user(
        "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
        "\"Operations\":[{\"op\":\"Replace\",\"path\":\"emails[type eq "
        "\\\"work\\\"].value\",\"value\":\"updatedEmail@microsoft.com\"},"
        "{\"op\":\"Replace\",\"path\":\"name.familyName\",\"value\":"
        "\"updatedFamilyName\"}]}");

    /* Updated in place: same element, still primary, still work. */
    ck_assert_json_eq(json_object_get(d, "emails"),
                      "[{\"value\":\"updatedEmail@microsoft.com\",\"type\":"
                      "\"work\",\"primary\":true},{\"value\":"
                      "\"babs@jensen.org\",\"type\":\"home\"}]");
    ck_assert_str_eq(str_at(d, "name", "familyName"), "updatedFamilyName");
    ck_assert_str_eq(str_at(d, "name", "givenName"), "Barbara");
}
END_TEST

START_TEST(entra_single_valued)
{
    json_t *d = patch_user(
        OPS("{\"op\":\"Replace\",\"path\":\"userName\",\"value\":"
            "\"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com\"}"));

    ck_assert_str_eq(str_at(d, "userName", NULL),
                     "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com");
    d = patch_user(OPS("{\"op\":\"Add\",\"path\":\"title\",\"value\":"
                       "\"Tester\"},{\"op\":\"Add\",\"path\":\"externalId\","
                       "\"value\":\"e2\"}"));
    ck_assert_str_eq(str_at(d, "title", NULL), "Tester");
    ck_assert_str_eq(str_at(d, "externalId", NULL), "e2");
}
END_TEST

START_TEST(entra_disable)
{
    /* "Disable User", with a boolean and with Entra's string form. */
    json_t *d = patch_user("{\"Operations\":[{\"op\":\"Replace\",\"path\":"
                           "\"active\",\"value\":false}],\"schemas\":[\"urn:"
                           "ietf:params:scim:api:messages:2.0:PatchOp\"]}");

    ck_assert(json_is_false(json_object_get(d, "active")));
    d = patch_user(OPS("{\"op\":\"Replace\",\"path\":\"active\",\"value\":"
                       "\"False\"}"));
    ck_assert(json_is_false(json_object_get(d, "active")));
    d = patch_ok_ex(scim_schema_user(), UID,
                    "{" USER_S ",\"userName\":\"u\",\"active\":false}",
                    OPS("{\"op\":\"replace\",\"path\":\"active\",\"value\":"
                        "\"True\"}"),
                    0)
            .doc;
    ck_assert(json_is_true(json_object_get(d, "active")));
    patch_fail(OPS("{\"op\":\"Replace\",\"path\":\"active\",\"value\":"
                   "\"no\"}"),
               "invalidValue");
}
END_TEST

START_TEST(entra_pathless_keys)
{
    /* Entra's path-less replace with plain, dotted, URN-qualified and
     * value-path keys, and string booleans. */
    json_t *d = patch_user(
        OPS("{\"op\":\"replace\",\"value\":{\"displayName\":\"Pat Doe\","
            "\"name.givenName\":\"Pat\",\"name.familyName\":\"Doe\","
            "\"" ENT ":employeeNumber\":\"12345\","
            "\"emails[type eq \\\"work\\\"].value\":\"pat@contoso.com\","
            "\"active\":\"False\"}}"));

    ck_assert_str_eq(str_at(d, "displayName", NULL), "Pat Doe");
    ck_assert_str_eq(str_at(d, "name", "givenName"), "Pat");
    ck_assert_str_eq(str_at(d, "name", "familyName"), "Doe");
    ck_assert_str_eq(str_at(d, ENT, "employeeNumber"), "12345");
    ck_assert_str_eq(str_at(d, ENT, "department"), "Tour Operations");
    ck_assert_str_eq(json_string_value(json_object_get(email(d, "work"), "value")),
                     "pat@contoso.com");
    ck_assert(json_is_false(json_object_get(d, "active")));
    /* Add with an extension object key, and an unqualified extension
     * attribute. */
    d = patch_user(OPS("{\"op\":\"Add\",\"value\":{\"" ENT "\":{"
                       "\"costCenter\":\"4130\"},\"division\":\"D\"}}"));
    ck_assert_str_eq(str_at(d, ENT, "costCenter"), "4130");
    ck_assert_str_eq(str_at(d, ENT, "division"), "D");
    ck_assert_str_eq(str_at(d, ENT, "employeeNumber"), "701984");
}
END_TEST

START_TEST(entra_manager)
{
    json_t *d;

    d = patch_user(OPS("{\"op\":\"Add\",\"path\":\"" ENT ":manager\","
                       "\"value\":\"" M1 "\"}"));
    ck_assert_json_eq(json_object_get(json_object_get(d, ENT), "manager"),
                      "{\"value\":\"" M1 "\"}");
    d = patch_user(OPS("{\"op\":\"Replace\",\"path\":\"" ENT ":manager\","
                       "\"value\":{\"value\":\"" M2 "\"}}"));
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_object_get(json_object_get(d, ENT),
                                                         "manager"),
                                         "value")),
                     M2);
    /* Older Azure AD form, unqualified path. */
    d = patch_user(OPS("{\"op\":\"Add\",\"path\":\"manager\",\"value\":"
                       "[{\"$ref\":null,\"value\":\"" M1 "\"}]}"));
    ck_assert_json_eq(json_object_get(json_object_get(d, ENT), "manager"),
                      "{\"value\":\"" M1 "\"}");
    d = patch_user(OPS("{\"op\":\"Replace\",\"path\":\"" ENT
                       ":manager.value\",\"value\":\"" M2 "\"}"));
    ck_assert_json_eq(json_object_get(json_object_get(d, ENT), "manager"),
                      "{\"value\":\"" M2 "\"}");

    /* Removal, in the forms Entra uses. */
    {
        const char *with_mgr = "{" USER_SE ",\"userName\":\"u\",\"" ENT
                               "\":{\"manager\":{\"value\":\"" M1 "\"}}}";
        const char *want = "{" USER_S ",\"userName\":\"u\"}";

        ck_assert_json_eq(patch_ok_ex(scim_schema_user(), UID, with_mgr,
                                      OPS("{\"op\":\"Remove\",\"path\":\"" ENT
                                          ":manager\"}"),
                                      0)
                              .doc,
                          want);
        ck_assert_json_eq(patch_ok_ex(scim_schema_user(), UID, with_mgr,
                                      OPS("{\"op\":\"Replace\",\"path\":\"" ENT
                                          ":manager\",\"value\":\"\"}"),
                                      0)
                              .doc,
                          want);
        ck_assert_json_eq(patch_ok_ex(scim_schema_user(), UID, with_mgr,
                                      OPS("{\"op\":\"Remove\",\"path\":\"" ENT
                                          "\"}"),
                                      0)
                              .doc,
                          want);
        /* Removing what is not there. */
        ck_assert_json_eq(patch_ok_ex(scim_schema_user(), UID, want,
                                      OPS("{\"op\":\"Remove\",\"path\":\"" ENT
                                          ":manager\"}"),
                                      0)
                              .doc,
                          want);
    }
}
END_TEST

START_TEST(entra_addresses)
{
    /* Entra sets the work address field by field: the first creates the
     * element, the next ones update it in place. */
    json_t *d = patch_user(
        OPS("{\"op\":\"Add\",\"path\":\"addresses[type eq \\\"work\\\"]."
            "streetAddress\",\"value\":\"1 Microsoft Way\"},"
            "{\"op\":\"Add\",\"path\":\"addresses[type eq \\\"work\\\"]."
            "locality\",\"value\":\"Redmond\"},"
            "{\"op\":\"Replace\",\"path\":\"addresses[type eq \\\"work\\\"]."
            "postalCode\",\"value\":\"98052\"},"
            "{\"op\":\"Add\",\"path\":\"phoneNumbers[type eq \\\"mobile\\\"]."
            "value\",\"value\":\"+1 555 0100\"}"));

    ck_assert_json_eq(json_object_get(d, "addresses"),
                      "[{\"type\":\"work\",\"streetAddress\":\"1 Microsoft "
                      "Way\",\"locality\":\"Redmond\",\"postalCode\":"
                      "\"98052\"}]");
    ck_assert_json_eq(json_object_get(d, "phoneNumbers"),
                      "[{\"type\":\"mobile\",\"value\":\"+1 555 0100\"}]");
    /* A new e-mail type is created too (Add or Replace). */
    d = patch_user(OPS("{\"op\":\"Replace\",\"path\":\"emails[type eq "
                       "\\\"other\\\"].value\",\"value\":\"o@x.org\"}"));
    ck_assert_int_eq(json_array_size(json_object_get(d, "emails")), 3);
    ck_assert_str_eq(json_string_value(
                         json_object_get(email(d, "other"), "value")),
                     "o@x.org");
    /* Removing the sub-attribute of the matching element. */
    d = patch_user(OPS("{\"op\":\"Remove\",\"path\":\"emails[type eq "
                       "\\\"home\\\"].value\"}"));
    ck_assert_json_eq(json_object_get(d, "emails"),
                      "[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
                      "\"primary\":true},{\"type\":\"home\"}]");
}
END_TEST

START_TEST(entra_group)
{
    scim_patch_result_t r;

    /* "Update Group [Attributes]" */
    r = patch_group(OPS("{\"op\":\"Replace\",\"path\":\"displayName\","
                        "\"value\":\"1879db59-3bdf-4490-ad68-ab880a269474"
                        "updatedDisplayName\"}"));
    ck_assert_str_eq(str_at(r.doc, "displayName", NULL),
                     "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName");
    ck_assert(!r.members_changed);
    /* "Update Group [Add Members]", each operation named as Entra does. */
    r = patch_group(
        "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
        "\"Operations\":[{\"name\":\"addMember\",\"op\":\"Add\",\"path\":"
        "\"members\",\"value\":"
        "[{\"$ref\":null,\"value\":\"" M3 "\"}]}]}");
    ck_assert(r.members_changed);
    ck_assert_int_eq(r.member_ids->nelts, 3);
    /* "Update Group [Remove Members]": only the given members go. */
    r = patch_group(
        "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
        "\"Operations\":[{\"name\":\"removeMember\",\"op\":\"Remove\","
        "\"path\":\"members\",\"value\":"
        "[{\"$ref\":null,\"value\":\"" M1 "\"}]}]}");
    ck_assert(r.members_changed);
    ck_assert_int_eq(r.member_ids->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(r.member_ids, 0, const char *), M2);
    ck_assert_int_eq(r.members_removed->nelts, 1);
    r = patch_group(OPS("{\"op\":\"Remove\",\"path\":\"members\",\"value\":"
                        "[{\"value\":\"" M1 "\"},{\"value\":"
                        "\"89BB1940-B905-4575-9E7F-6F887CFB368E\"},{\"value\":"
                        "\"" M3 "\"}]}"));
    ck_assert_int_eq(r.member_ids->nelts, 0);
    /* Without a value, all members go. */
    r = patch_group(OPS("{\"op\":\"remove\",\"path\":\"members\"}"));
    ck_assert_int_eq(r.member_ids->nelts, 0);
    ck_assert_int_eq(r.members_removed->nelts, 2);
    /* Add and remove in one request. */
    r = patch_group(OPS("{\"op\":\"Add\",\"path\":\"members\",\"value\":"
                        "[{\"value\":\"" M3 "\"}]},{\"op\":\"Remove\","
                        "\"path\":\"members\",\"value\":[{\"value\":\"" M1
                        "\"}]}"));
    ck_assert_int_eq(r.member_ids->nelts, 2);
    ck_assert(has_id(r.member_ids, M2) && has_id(r.member_ids, M3));
    ck_assert(has_id(r.members_added, M3) && has_id(r.members_removed, M1));
}
END_TEST

/* ---- RFC semantics ---- */

START_TEST(rfc_add_multi)
{
    json_t *d;

    /* Add appends; a new primary demotes the old one. */
    d = patch_user(OPS("{\"op\":\"add\",\"path\":\"emails\",\"value\":[{"
                       "\"value\":\"new@example.com\",\"type\":\"other\","
                       "\"primary\":true}]}"));
    ck_assert_json_eq(json_object_get(d, "emails"),
                      "[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
                      "\"primary\":false},{\"value\":\"babs@jensen.org\","
                      "\"type\":\"home\"},{\"value\":\"new@example.com\","
                      "\"type\":\"other\",\"primary\":true}]");
    /* An equal value is not added twice; a single object is one value. */
    d = patch_user(OPS("{\"op\":\"add\",\"path\":\"emails\",\"value\":{"
                       "\"value\":\"babs@jensen.org\",\"type\":\"home\"}}"));
    ck_assert_int_eq(json_array_size(json_object_get(d, "emails")), 2);
    /* Path-less add of a multi-valued attribute appends too. */
    d = patch_user(OPS("{\"op\":\"add\",\"value\":{\"emails\":[{\"value\":"
                       "\"x@y\"}]}}"));
    ck_assert_int_eq(json_array_size(json_object_get(d, "emails")), 3);
    /* Replace sets the whole list. */
    d = patch_user(OPS("{\"op\":\"replace\",\"path\":\"emails\",\"value\":["
                       "{\"value\":\"only@example.com\"}]}"));
    ck_assert_json_eq(json_object_get(d, "emails"),
                      "[{\"value\":\"only@example.com\"}]");
    d = patch_user(OPS("{\"op\":\"replace\",\"value\":{\"emails\":[]}}"));
    ck_assert_ptr_null(json_object_get(d, "emails"));
    /* Setting primary through a value path demotes the others. */
    d = patch_user(OPS("{\"op\":\"replace\",\"path\":\"emails[type eq "
                       "\\\"home\\\"].primary\",\"value\":\"True\"}"));
    ck_assert(json_is_true(json_object_get(email(d, "home"), "primary")));
    ck_assert(json_is_false(json_object_get(email(d, "work"), "primary")));
    /* Two primaries in one value: refused. */
    patch_fail(OPS("{\"op\":\"replace\",\"path\":\"emails\",\"value\":["
                   "{\"value\":\"a\",\"primary\":true},{\"value\":\"b\","
                   "\"primary\":true}]}"),
               "invalidValue");
}
END_TEST

START_TEST(rfc_complex)
{
    json_t *d;

    /* Replace on a complex attribute keeps unspecified sub-attributes. */
    d = patch_user(OPS("{\"op\":\"replace\",\"path\":\"name\",\"value\":{"
                       "\"givenName\":\"Babs\",\"middleName\":\"Q\"}}"));
    ck_assert_json_eq(json_object_get(d, "name"),
                      "{\"givenName\":\"Babs\",\"familyName\":\"Jensen\","
                      "\"middleName\":\"Q\"}");
    d = patch_user(OPS("{\"op\":\"replace\",\"value\":{\"name\":{"
                       "\"familyName\":\"J\"}}}"));
    ck_assert_json_eq(json_object_get(d, "name"),
                      "{\"givenName\":\"Barbara\",\"familyName\":\"J\"}");
    /* Removing the last sub-attributes removes the attribute. */
    d = patch_user(OPS("{\"op\":\"remove\",\"path\":\"name.givenName\"},{"
                       "\"op\":\"remove\",\"path\":\"name.familyName\"}"));
    ck_assert_ptr_null(json_object_get(d, "name"));
    /* A sub-attribute of an absent complex attribute creates it. */
    d = patch_ok_ex(scim_schema_user(), UID, "{" USER_S ",\"userName\":\"u\"}",
                    OPS("{\"op\":\"add\",\"path\":\"name.givenName\","
                        "\"value\":\"G\"}"),
                    0)
            .doc;
    ck_assert_json_eq(d,
                      "{" USER_S ",\"userName\":\"u\",\"name\":{"
                      "\"givenName\":\"G\"}}");
    /* Sub-attribute of every element when no filter is given. */
    d = patch_user(OPS("{\"op\":\"remove\",\"path\":\"emails.type\"}"));
    ck_assert_json_eq(json_object_get(d, "emails"),
                      "[{\"value\":\"bjensen@example.com\",\"primary\":true},"
                      "{\"value\":\"babs@jensen.org\"}]");
}
END_TEST

START_TEST(rfc_value_paths)
{
    json_t *d;

    /* Replace of a matched element replaces it. */
    d = patch_user(OPS("{\"op\":\"replace\",\"path\":\"emails[type eq "
                       "\\\"home\\\"]\",\"value\":{\"value\":\"h@x\",\"type\":"
                       "\"home\"}}"));
    ck_assert_str_eq(json_string_value(json_object_get(email(d, "home"), "value")),
                     "h@x");
    /* Add merges into matched elements. */
    d = patch_user(OPS("{\"op\":\"add\",\"path\":\"emails[type eq "
                       "\\\"home\\\"]\",\"value\":{\"display\":\"Home\"}}"));
    ck_assert_str_eq(json_string_value(
                         json_object_get(email(d, "home"), "display")),
                     "Home");
    ck_assert_str_eq(json_string_value(json_object_get(email(d, "home"), "value")),
                     "babs@jensen.org");
    /* Remove matched elements; complex filters. */
    d = patch_user(OPS("{\"op\":\"remove\",\"path\":\"emails[type eq "
                       "\\\"work\\\" or value ew \\\".org\\\"]\"}"));
    ck_assert_ptr_null(json_object_get(d, "emails"));
    d = patch_user(OPS("{\"op\":\"remove\",\"path\":\"emails[not (primary "
                       "eq true)]\"}"));
    ck_assert_int_eq(json_array_size(json_object_get(d, "emails")), 1);
    /* No match and a filter that describes no element: noTarget. */
    patch_fail(OPS("{\"op\":\"replace\",\"path\":\"emails[value co "
                   "\\\"nobody\\\"].type\",\"value\":\"work\"}"),
               "noTarget");
    patch_fail(OPS("{\"op\":\"replace\",\"path\":\"name[givenName eq "
                   "\\\"Nobody\\\"].familyName\",\"value\":\"x\"}"),
               "noTarget");
    d = patch_user(OPS("{\"op\":\"replace\",\"path\":\"name[givenName eq "
                       "\\\"barbara\\\"].familyName\",\"value\":\"X\"}"));
    ck_assert_str_eq(str_at(d, "name", "familyName"), "X");
    /* Remove with no match: nothing happens. */
    ck_assert(!patch_ok_ex(scim_schema_user(), UID, user_doc,
                           OPS("{\"op\":\"remove\",\"path\":\"emails[type eq "
                               "\\\"other\\\"]\"}"),
                           0)
                   .changed);
    /* Filters compare per the attribute's caseExact. */
    d = patch_user(OPS("{\"op\":\"replace\",\"path\":\"emails[TYPE eq "
                       "\\\"WORK\\\"].VALUE\",\"value\":\"W@x\"}"));
    ck_assert_str_eq(json_string_value(json_object_get(email(d, "work"), "value")),
                     "W@x");
    ck_assert_int_eq(json_array_size(json_object_get(d, "emails")), 2);
}
END_TEST

START_TEST(rfc_extension)
{
    json_t *d;

    d = patch_user(OPS("{\"op\":\"replace\",\"path\":\"" ENT "\",\"value\":{"
                       "\"department\":\"New\"}}"));
    ck_assert_json_eq(json_object_get(d, ENT),
                      "{\"employeeNumber\":\"701984\",\"department\":\"New\"}");
    d = patch_user(OPS("{\"op\":\"remove\",\"path\":\"" ENT "\"}"));
    ck_assert_ptr_null(json_object_get(d, ENT));
    ck_assert_json_eq(json_object_get(d, "schemas"),
                      "[\"urn:ietf:params:scim:schemas:core:2.0:User\"]");
    d = patch_user(OPS("{\"op\":\"remove\",\"path\":\"" ENT
                       ":employeeNumber\"},{\"op\":\"remove\",\"path\":"
                       "\"department\"}"));
    ck_assert_ptr_null(json_object_get(d, ENT));
    /* Adding an extension attribute lists the extension in schemas. */
    d = patch_ok_ex(scim_schema_user(), UID, "{" USER_S ",\"userName\":\"u\"}",
                    OPS("{\"op\":\"add\",\"path\":\"" ENT ":department\","
                        "\"value\":\"D\"}"),
                    0)
            .doc;
    ck_assert_json_eq(d,
                      "{" USER_SE ",\"userName\":\"u\",\"" ENT "\":{"
                      "\"department\":\"D\"}}");
    patch_fail(OPS("{\"op\":\"replace\",\"path\":\"" ENT "\",\"value\":"
                   "\"x\"}"),
               "invalidValue");
}
END_TEST

START_TEST(rfc_null_and_empty)
{
    json_t *d;

    d = patch_user(OPS("{\"op\":\"replace\",\"path\":\"displayName\","
                       "\"value\":null}"));
    ck_assert_ptr_null(json_object_get(d, "displayName"));
    d = patch_user(OPS("{\"op\":\"replace\",\"path\":\"displayName\","
                       "\"value\":\"\"}"));
    ck_assert_ptr_null(json_object_get(d, "displayName"));
    d = patch_user(OPS("{\"op\":\"add\",\"path\":\"roles\",\"value\":[]}"));
    ck_assert_ptr_null(json_object_get(d, "roles"));
    d = patch_user(OPS("{\"op\":\"remove\",\"path\":\"nickName\"}"));
    ck_assert_ptr_null(json_object_get(d, "nickName"));
    d = patch_user(OPS("{\"op\":\"remove\",\"path\":\"emails\"}"));
    ck_assert_ptr_null(json_object_get(d, "emails"));
    /* Empty path: path-less. */
    d = patch_user(OPS("{\"op\":\"replace\",\"path\":\"\",\"value\":{"
                       "\"title\":\"T\"}}"));
    ck_assert_str_eq(str_at(d, "title", NULL), "T");
}
END_TEST

START_TEST(canonical_names)
{
    json_t *d = patch_user(OPS("{\"OP\":\"REPLACE\",\"PATH\":\"NAME.GIVENNAME\","
                               "\"VALUE\":\"B\"},{\"op\":\"add\",\"value\":"
                               "{\"NickName\":\"bj\",\"Name\":{\"MiddleName\":"
                               "\"m\"}}}"));

    ck_assert_str_eq(str_at(d, "name", "givenName"), "B");
    ck_assert_str_eq(str_at(d, "name", "middleName"), "m");
    ck_assert_str_eq(str_at(d, "nickName", NULL), "bj");
    ck_assert_ptr_null(json_object_get(d, "NickName"));
    /* "operations" in another case. */
    d = patch_user("{" PATCH ",\"operations\":[{\"op\":\"replace\",\"path\":"
                   "\"title\",\"value\":\"t\"}]}");
    ck_assert_str_eq(str_at(d, "title", NULL), "t");
}
END_TEST

/* ---- errors ---- */

START_TEST(errors_message)
{
    scim_fault_t f;

    patch_fail("[]", "invalidSyntax");
    patch_fail("{\"Operations\":[{\"op\":\"add\",\"path\":\"title\","
               "\"value\":\"t\"}]}",
               "invalidSyntax");
    patch_fail("{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
               "\"Operations\":[{\"op\":\"add\",\"path\":\"title\","
               "\"value\":\"t\"}]}",
               "invalidSyntax");
    patch_fail("{" PATCH "}", "invalidSyntax");
    patch_fail("{" PATCH ",\"Operations\":[]}", "invalidSyntax");
    patch_fail("{" PATCH ",\"Operations\":{}}", "invalidSyntax");
    patch_fail("{" PATCH ",\"Operations\":[{\"op\":\"add\"}],\"operations\":"
               "[]}",
               "invalidSyntax");
    f = patch_fail(OPS("{\"op\":\"add\",\"path\":\"title\",\"value\":\"a\"},"
                       "{\"op\":\"add\",\"path\":\"title\",\"value\":\"a\"},"
                       "{\"op\":\"add\",\"path\":\"title\",\"value\":\"a\"},"
                       "{\"op\":\"add\",\"path\":\"title\",\"value\":\"a\"},"
                       "{\"op\":\"add\",\"path\":\"title\",\"value\":\"a\"},"
                       "{\"op\":\"add\",\"path\":\"title\",\"value\":\"a\"},"
                       "{\"op\":\"add\",\"path\":\"title\",\"value\":\"a\"},"
                       "{\"op\":\"add\",\"path\":\"title\",\"value\":\"a\"},"
                       "{\"op\":\"add\",\"path\":\"title\",\"value\":\"a\"},"
                       "{\"op\":\"add\",\"path\":\"title\",\"value\":\"a\"},"
                       "{\"op\":\"add\",\"path\":\"title\",\"value\":\"a\"}"),
                   "invalidValue");
    ck_assert_ptr_nonnull(strstr(f.detail, "at most 10"));
}
END_TEST

START_TEST(errors_operations)
{
    scim_fault_t f;

    f = patch_fail(OPS("{\"op\":\"add\",\"path\":\"title\",\"value\":\"a\"},"
                       "{\"op\":\"move\",\"path\":\"title\"}"),
                   "invalidSyntax");
    ck_assert_ptr_nonnull(strstr(f.detail, "Operations[1]"));
    patch_fail(OPS("{\"op\":1,\"path\":\"title\"}"), "invalidSyntax");
    patch_fail(OPS("{\"path\":\"title\",\"value\":\"x\"}"), "invalidSyntax");
    patch_fail(OPS("\"add\""), "invalidSyntax");
    /* Other members of an operation are ignored (Entra names them). */
    ck_assert_str_eq(str_at(patch_user(OPS("{\"op\":\"add\",\"path\":"
                                           "\"title\",\"value\":\"x\","
                                           "\"from\":\"y\"}")),
                            "title", NULL),
                     "x");
    patch_fail(OPS("{\"op\":\"add\",\"Op\":\"add\",\"path\":\"title\","
                   "\"value\":\"x\"}"),
               "invalidSyntax");
    patch_fail(OPS("{\"op\":\"add\",\"path\":\"title\"}"), "invalidValue");
    patch_fail(OPS("{\"op\":\"replace\"}"), "invalidValue");
    patch_fail(OPS("{\"op\":\"remove\"}"), "noTarget");
    patch_fail(OPS("{\"op\":\"replace\",\"value\":\"x\"}"), "invalidValue");
    patch_fail(OPS("{\"op\":\"add\",\"path\":7,\"value\":\"x\"}"), "invalidPath");
}
END_TEST

START_TEST(errors_paths)
{
    scim_fault_t f;
    scim_patch_result_t r;

    f = patch_fail(OPS("{\"op\":\"add\",\"path\":\"favouriteColour\","
                       "\"value\":\"x\"}"),
                   "invalidPath");
    ck_assert_ptr_nonnull(strstr(f.detail, "favouriteColour"));
    patch_fail(OPS("{\"op\":\"add\",\"path\":\"emails[type eq\",\"value\":"
                   "\"x\"}"),
               "invalidPath");
    patch_fail(OPS("{\"op\":\"add\",\"path\":\"name..givenName\",\"value\":"
                   "\"x\"}"),
               "invalidPath");
    patch_fail(OPS("{\"op\":\"remove\",\"path\":\"emails[nosuch eq "
                   "\\\"x\\\"]\"}"),
               "invalidPath");
    patch_fail(OPS("{\"op\":\"replace\",\"value\":{\"favouriteColour\":"
                   "\"x\"}}"),
               "invalidSyntax");
    patch_fail(OPS("{\"op\":\"add\",\"path\":\"urn:ietf:params:scim:schemas:"
                   "extension:custom:2.0:User:x\",\"value\":\"x\"}"),
               "invalidPath");
    /* Unknown attributes ignored on request. */
    r = patch_ok_ex(scim_schema_user(), UID, user_doc,
                    OPS("{\"op\":\"add\",\"path\":\"urn:ietf:params:scim:"
                        "schemas:extension:custom:2.0:User:x\",\"value\":"
                        "\"x\"},{\"op\":\"replace\",\"value\":{"
                        "\"favouriteColour\":\"x\",\"title\":\"T\"}}"),
                    SCIM_NORM_IGNORE_UNKNOWN);
    ck_assert_str_eq(str_at(r.doc, "title", NULL), "T");
    ck_assert_ptr_null(json_object_get(r.doc, "favouriteColour"));
    /* A malformed path stays an error even then. */
    {
        scim_fault_t f2 = { 0, NULL, NULL };

        ck_assert_int_eq(scim_patch_apply_ex(pool, scim_schema_user(), UID,
                                             J(user_doc),
                                             J(OPS("{\"op\":\"add\",\"path\":"
                                                   "\"name..x\",\"value\":"
                                                   "\"x\"}")),
                                             10, SCIM_NORM_IGNORE_UNKNOWN, &r,
                                             &f2),
                         APR_EINVAL);
        ck_assert_str_eq(f2.scim_type, "invalidPath");
    }
}
END_TEST

START_TEST(errors_mutability)
{
    scim_fault_t f;

    f = patch_fail(OPS("{\"op\":\"remove\",\"path\":\"userName\"}"),
                   "mutability");
    ck_assert_ptr_nonnull(strstr(f.detail, "userName"));
    patch_fail_rt(scim_schema_group(), group_doc,
                  OPS("{\"op\":\"Remove\",\"path\":\"displayName\"}"),
                  "mutability");
    patch_fail(OPS("{\"op\":\"replace\",\"path\":\"id\",\"value\":\"x\"}"),
               "mutability");
    patch_fail(OPS("{\"op\":\"replace\",\"path\":\"meta.lastModified\","
                   "\"value\":\"2020-01-01T00:00:00Z\"}"),
               "mutability");
    patch_fail(OPS("{\"op\":\"add\",\"path\":\"groups\",\"value\":[{"
                   "\"value\":\"" M1 "\"}]}"),
               "mutability");
    patch_fail(OPS("{\"op\":\"replace\",\"path\":\"" ENT ":manager."
                   "displayName\",\"value\":\"Boss\"}"),
               "mutability");
    patch_fail(OPS("{\"op\":\"replace\",\"path\":\"userName\",\"value\":"
                   "null}"),
               "invalidValue");
    patch_fail(OPS("{\"op\":\"replace\",\"value\":{\"userName\":\"\"}}"),
               "invalidValue");
}
END_TEST

START_TEST(errors_values)
{
    patch_fail(OPS("{\"op\":\"replace\",\"path\":\"userName\",\"value\":7}"),
               "invalidValue");
    patch_fail(OPS("{\"op\":\"add\",\"path\":\"emails\",\"value\":[\"a\"]}"),
               "invalidValue");
    patch_fail(OPS("{\"op\":\"add\",\"path\":\"name\",\"value\":\"x\"}"),
               "invalidValue");
    patch_fail(OPS("{\"op\":\"add\",\"path\":\"emails[type eq \\\"work\\\"]."
                   "primary\",\"value\":\"maybe\"}"),
               "invalidValue");
    patch_fail(OPS("{\"op\":\"add\",\"path\":\"emails\",\"value\":[{"
                   "\"value\":\"a\",\"colour\":\"red\"}]}"),
               "invalidSyntax");
    patch_fail_rt(scim_schema_group(), group_doc,
                  OPS("{\"op\":\"add\",\"path\":\"members\",\"value\":[{"
                      "\"value\":\"f648f8d5ea4e4cd38e9c\"}]}"),
                  "invalidValue");
    patch_fail_rt(scim_schema_group(), group_doc,
                  OPS("{\"op\":\"add\",\"path\":\"members\",\"value\":[{"
                      "\"value\":\"" M3 "\",\"type\":\"Group\"}]}"),
                  "invalidValue");
    {
        char *big = apr_palloc(pool, 300);

        memset(big, 'x', 299);
        big[299] = '\0';
        patch_fail(apr_psprintf(pool,
                                OPS("{\"op\":\"replace\",\"path\":"
                                    "\"userName\",\"value\":\"%s\"}"),
                                big),
                   "invalidValue");
    }
}
END_TEST

START_TEST(simple_api)
{
    json_t *out = NULL;
    int changed = -1;
    scim_fault_t f = { 0, NULL, NULL };

    ck_assert_int_eq(scim_patch_apply(pool, scim_schema_group(), GID, J(group_doc),
                                      J(OPS("{\"op\":\"add\",\"path\":"
                                            "\"members\",\"value\":[{"
                                            "\"value\":\"" M3 "\"}]}")),
                                      10, &out, &changed, &f),
                     APR_SUCCESS);
    ck_assert_int_eq(changed, 1);
    ck_assert_int_eq(json_array_size(json_object_get(out, "members")), 3);
    ck_assert_int_eq(scim_patch_apply(pool, scim_schema_group(), GID,
                                      J(group_doc), J("{}"), 10, &out, NULL, &f),
                     APR_EINVAL);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(scim_patch_apply(pool, scim_schema_group(), GID, J("[]"),
                                      J(OPS("{\"op\":\"remove\",\"path\":"
                                            "\"members\"}")),
                                      0, &out, NULL, &f),
                     APR_EINVAL);
}
END_TEST

START_TEST(large_group)
{
    /* 20000 members: membership changes stay linear. */
    json_t *doc = J("{" GROUP_S ",\"displayName\":\"Big\"}");
    json_t *m = json_array(), *ops = json_array(), *body;
    scim_patch_result_t r;
    scim_fault_t f = { 0, NULL, NULL };
    int i;

    for (i = 0; i < 20000; i++) {
        json_array_append_new(m,
                              json_pack("{ss}", "value",
                                        apr_psprintf(pool,
                                                     "00000000-0000-4000-8000-%012d",
                                                     i)));
    }
    json_object_set_new(doc, "members", m);
    for (i = 0; i < 50; i++) {
        json_array_append_new(ops,
                              json_pack("{ss ss s[{ss}]}", "op", "add", "path",
                                        "members", "value", "value",
                                        apr_psprintf(pool,
                                                     "00000000-0000-4000-9000-%012d",
                                                     i)));
        json_array_append_new(ops,
                              json_pack("{ss ss}", "op", "remove", "path",
                                        apr_psprintf(pool,
                                                     "members[value eq "
                                                     "\"00000000-0000-4000-8000-%012d\"]",
                                                     i)));
    }
    body = scim_json_pool_own(pool,
                              json_pack("{s[s] so}", "schemas",
                                        SCIM_URN_PATCH_OP, "Operations", ops));
    ck_assert_int_eq(scim_patch_apply_ex(pool, scim_schema_group(), GID, doc,
                                         body, 100, 0, &r, &f),
                     APR_SUCCESS);
    ck_assert_int_eq(r.member_ids->nelts, 20000);
    ck_assert_int_eq(r.members_added->nelts, 50);
    ck_assert_int_eq(r.members_removed->nelts, 50);
}
END_TEST

/* ---- group member deltas (scim_patch_member_delta) ---------------------- */

static int delta(const char *body, json_t **rest, apr_array_header_t **add,
                 apr_array_header_t **remove)
{
    return scim_patch_member_delta(pool, J(body), 100, rest, add, remove);
}

static const char *ids(const apr_array_header_t *a)
{
    return apr_array_pstrcat(pool, a, ',');
}

START_TEST(delta_okta_entra)
{
    apr_array_header_t *add, *remove;
    json_t *rest;

    /* Okta: add members, remove one by value filter */
    ck_assert(delta("{" PATCH ",\"Operations\":[{\"op\":\"add\",\"path\":"
                    "\"members\",\"value\":[{\"value\":\"" M1 "\",\"display\":"
                    "\"a\"},{\"value\":\"" M2 "\",\"display\":\"b\"}]}]}",
                    &rest, &add, &remove));
    ck_assert_ptr_eq(rest, NULL);
    ck_assert_str_eq(ids(add), M1 "," M2);
    ck_assert_int_eq(remove->nelts, 0);
    ck_assert(delta("{" PATCH ",\"Operations\":[{\"op\":\"remove\",\"path\":"
                    "\"members[value eq \\\"" M1 "\\\"]\"}]}",
                    &rest, &add, &remove));
    ck_assert_ptr_eq(rest, NULL);
    ck_assert_int_eq(add->nelts, 0);
    ck_assert_str_eq(ids(remove), M1);
    /* Entra: remove with a value array ($ref null), capitalised op */
    ck_assert(delta("{" PATCH ",\"Operations\":[{\"name\":\"removeMember\","
                    "\"op\":\"Remove\",\"path\":\"members\",\"value\":[{\"$ref\""
                    ":null,\"value\":\"" M1 "\"},{\"$ref\":null,\"value\":\"" M2
                    "\"}]}]}",
                    &rest, &add, &remove));
    ck_assert_str_eq(ids(remove), M1 "," M2);
    ck_assert_int_eq(add->nelts, 0);
    /* add and remove in one request, with a rename: the rename is the rest */
    ck_assert(delta("{" PATCH ",\"Operations\":[{\"op\":\"Add\",\"path\":"
                    "\"members\",\"value\":[{\"value\":\"" M1 "\"}]},{\"op\":"
                    "\"Replace\",\"path\":\"displayName\",\"value\":\"x\"},"
                    "{\"op\":\"Remove\",\"path\":\"members\",\"value\":[{\"value"
                    "\":\"" M3 "\"}]}]}",
                    &rest, &add, &remove));
    ck_assert_str_eq(ids(add), M1);
    ck_assert_str_eq(ids(remove), M3);
    ck_assert_ptr_ne(rest, NULL);
    /* the rename keeps its index; the member operations are no-ops there */
    ck_assert_int_eq(json_array_size(json_object_get(rest, "Operations")), 3);
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_array_get(json_object_get(rest,
                                                                        "Operations"),
                                                        1),
                                         "path")),
                     "displayName");
    /* Okta's path-less rename: no member change, all of it is the rest */
    ck_assert(delta("{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"value\":"
                    "{\"id\":\"" UID "\",\"displayName\":\"y\"}}]}",
                    &rest, &add, &remove));
    ck_assert_int_eq(add->nelts + remove->nelts, 0);
    ck_assert_ptr_ne(rest, NULL);
}
END_TEST

START_TEST(delta_order_and_case)
{
    apr_array_header_t *add, *remove;
    json_t *rest;

    /* the last operation on an id decides; ids are lower-cased; the URN
     * form of the path counts */
    ck_assert(delta("{" PATCH ",\"Operations\":[{\"op\":\"add\",\"path\":"
                    "\"members\",\"value\":[{\"value\":\"23A35C27-23D3-4C03-"
                    "B4C5-6443C09E7173\"},{\"value\":\"" M2 "\"}]},{\"op\":"
                    "\"remove\",\"path\":\"members[value eq \\\"" M1 "\\\"]\"},"
                    "{\"op\":\"add\",\"path\":\"urn:ietf:params:scim:schemas:"
                    "core:2.0:Group:members\",\"value\":[{\"value\":\"" M3
                    "\",\"type\":\"User\"}]},{\"op\":\"remove\",\"path\":"
                    "\"members\",\"value\":[{\"value\":\"" M3 "\"}]},{\"op\":"
                    "\"add\",\"path\":\"members\",\"value\":[{\"value\":\"F648F8D5"
                    "-EA4E-4CD3-8E9C-000000000003\"}]}]}",
                    &rest, &add, &remove));
    ck_assert_ptr_eq(rest, NULL);
    ck_assert_str_eq(ids(add), M2 "," M3);
    ck_assert_str_eq(ids(remove), M1);
}
END_TEST

START_TEST(delta_fallbacks)
{
    static const char *const whole[] = {
        /* replace of the member list */
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"path\":\"members\","
        "\"value\":[{\"value\":\"" M1 "\"}]}]}",
        /* remove of all members */
        "{" PATCH ",\"Operations\":[{\"op\":\"remove\",\"path\":\"members\"}]}",
        /* other filters and sub-paths */
        "{" PATCH ",\"Operations\":[{\"op\":\"remove\",\"path\":\"members["
        "display eq \\\"x\\\"]\"}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"remove\",\"path\":\"members["
        "value eq \\\"" M1 "\\\" or value eq \\\"" M2 "\\\"]\"}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"path\":\"members["
        "value eq \\\"" M1 "\\\"].display\",\"value\":\"x\"}]}",
        /* members in a path-less value */
        "{" PATCH ",\"Operations\":[{\"op\":\"add\",\"value\":{\"members\":[{"
        "\"value\":\"" M1 "\"}]}}]}",
        /* an element the delta cannot judge, an empty list, a single
         * object */
        "{" PATCH ",\"Operations\":[{\"op\":\"add\",\"path\":\"members\","
        "\"value\":[{\"value\":\"" M1 "\",\"extra\":1}]}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"add\",\"path\":\"members\","
        "\"value\":[{\"value\":7}]}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"add\",\"path\":\"members\","
        "\"value\":[{\"value\":\"not-a-user-id\"}]}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"add\",\"path\":\"members\","
        "\"value\":[{\"value\":\"" M1 "\",\"type\":\"Group\"}]}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"add\",\"path\":\"members\","
        "\"value\":[]}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"add\",\"path\":\"members\","
        "\"value\":{\"value\":\"" M1 "\"}}]}",
        /* malformed PatchOps: the full engine says why */
        "{\"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":[{"
        "\"value\":\"" M1 "\"}]}]}",
        "{" PATCH ",\"Operations\":[]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"move\",\"path\":\"members\","
        "\"value\":[{\"value\":\"" M1 "\"}]}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"add\",\"Op\":\"add\",\"path\":"
        "\"members\",\"value\":[{\"value\":\"" M1 "\"}]}]}",
        NULL
    };
    apr_array_header_t *add, *remove;
    json_t *rest;
    int i;

    for (i = 0; whole[i]; i++) {
        ck_assert_msg(!delta(whole[i], &rest, &add, &remove),
                      "needs the member list: %s", whole[i]);
    }
    /* more member values in one request than allowed, in two operations */
    {
        json_t *ops = json_array(), *body;
        int k, half = SCIM_MAX_MEMBER_VALUES / 2 + 1;

        for (k = 0; k < 2; k++) {
            json_t *vals = json_array();
            int m;

            for (m = 0; m < half; m++) {
                json_array_append_new(vals,
                                      json_pack("{s:s}", "value",
                                                apr_psprintf(pool,
                                                             "%08x-0000-4000-8000-"
                                                             "000000000000",
                                                             k * half + m)));
            }
            json_array_append_new(ops,
                                  json_pack("{s:s, s:s, s:o}", "op", "add",
                                            "path", "members", "value", vals));
        }
        body = scim_json_pool_own(pool,
                                  json_pack("{s:[s], s:o}", "schemas",
                                            "urn:ietf:params:scim:api:messages:2.0:PatchOp",
                                            "Operations", ops));
        ck_assert(!scim_patch_member_delta(pool, body, 100, &rest, &add, &remove));
    }
    /* over max_ops */
    ck_assert(
        !scim_patch_member_delta(pool,
                                 J("{" PATCH
                                   ",\"Operations\":[{\"op\":\"remove\",\"path\":\"members"
                                   "[value eq \\\"a\\\"]\"},{\"op\":\"remove\",\"path\":\"members"
                                   "[value eq \\\"b\\\"]\"}]}"),
                                 1, &rest, &add, &remove));
}
END_TEST

/* A value filter on an id that is no uuid matches no member: the delta
 * skips it instead of asking the store to remove a non-uuid. */
START_TEST(delta_non_uuid_filter)
{
    apr_array_header_t *add, *remove;
    json_t *rest;

    ck_assert(delta("{" PATCH ",\"Operations\":[{\"op\":\"remove\",\"path\":"
                    "\"members[value eq \\\"not-a-uuid\\\"]\"}]}",
                    &rest, &add, &remove));
    ck_assert_ptr_eq(rest, NULL);
    ck_assert_int_eq(add->nelts + remove->nelts, 0);
    ck_assert(delta("{" PATCH ",\"Operations\":[{\"op\":\"remove\",\"path\":"
                    "\"members[value eq \\\"" M1 " \\\"]\"},{\"op\":\"remove\","
                    "\"path\":\"members[value eq \\\"]\\\"]\"},{\"op\":"
                    "\"remove\",\"path\":\"members[value eq \\\"" M2 "\\\"]\"}]}",
                    &rest, &add, &remove));
    ck_assert_ptr_eq(rest, NULL);
    ck_assert_int_eq(add->nelts, 0);
    ck_assert_str_eq(ids(remove), M2);
}
END_TEST

/* An error of the rest names the operation by its index in the request,
 * as the full engine does, not by its index among the other operations. */
START_TEST(delta_error_names_the_operation)
{
    static const char *const body = "{" PATCH
                                    ",\"Operations\":[{\"op\":\"add\",\"path\":\"members\","
                                    "\"value\":[{\"value\":\"" M1
                                    "\"}]},{\"op\":\"remove\",\"path\":"
                                    "\"members[value eq \\\"" M2
                                    "\\\"]\"},{\"op\":\"replace\","
                                    "\"path\":\"displayName\",\"value\":\"\"}]}";
    const scim_resource_type_t *rt = scim_schema_group();
    json_t *bare = J("{" GROUP_S ",\"displayName\":\"G\"}");
    json_t *doc = J("{" GROUP_S ",\"displayName\":\"G\",\"members\":[{"
                    "\"value\":\"" M2 "\"}]}");
    scim_fault_t f = { 0, NULL, NULL }, g = { 0, NULL, NULL };
    scim_patch_result_t r;
    apr_array_header_t *add, *remove;
    json_t *rest;

    ck_assert(delta(body, &rest, &add, &remove));
    ck_assert_ptr_ne(rest, NULL);
    ck_assert_int_eq(scim_patch_apply_ex(pool, rt, UID, bare, rest, 100, 0, &r,
                                         &f),
                     APR_EINVAL);
    ck_assert_int_eq(scim_patch_apply_ex(pool, rt, UID, doc, J(body), 100, 0,
                                         &r, &g),
                     APR_EINVAL);
    ck_assert_msg(strstr(f.detail, "Operations[2]") != NULL, "%s", f.detail);
    ck_assert_str_eq(f.detail, g.detail);
    ck_assert_str_eq(f.scim_type, g.scim_type);
}
END_TEST

/* Where the delta applies, it gives what the full engine gives. */
START_TEST(delta_agrees_with_apply)
{
    static const char *const bodies[] = {
        "{" PATCH ",\"Operations\":[{\"op\":\"add\",\"path\":\"members\","
        "\"value\":[{\"value\":\"" M1 "\"},{\"value\":\"" M3 "\"}]}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"remove\",\"path\":\"members["
        "value eq \\\"" M1 "\\\"]\"},{\"op\":\"replace\",\"path\":"
        "\"displayName\",\"value\":\"New name\"}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"Remove\",\"path\":\"members\","
        "\"value\":[{\"value\":\"" M2 "\"},{\"value\":\"" M3 "\"}]},{\"op\":"
        "\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"" M2 "\"}]}]}",
        /* filters on ids that are no uuid match nothing: no-ops */
        "{" PATCH ",\"Operations\":[{\"op\":\"remove\",\"path\":\"members["
        "value eq \\\"not-a-uuid\\\"]\"},{\"op\":\"remove\",\"path\":"
        "\"members[value eq \\\"" M1 " \\\"]\"},{\"op\":\"remove\",\"path"
        "\":\"members[value eq \\\"]\\\"]\"}]}",
        NULL
    };
    const scim_resource_type_t *rt = scim_schema_group();
    int i;

    for (i = 0; bodies[i]; i++) {
        json_t *doc = J("{" GROUP_S ",\"displayName\":\"G\",\"members\":[{"
                        "\"value\":\"" M1 "\"},{\"value\":\"" M2 "\"}]}");
        json_t *bare = J("{" GROUP_S ",\"displayName\":\"G\"}");
        scim_patch_result_t full, part;
        scim_fault_t f = { 0, NULL, NULL };
        apr_array_header_t *add, *remove;
        apr_hash_t *set = apr_hash_make(pool);
        json_t *rest, *want;
        int k;

        ck_assert(delta(bodies[i], &rest, &add, &remove));
        ck_assert_int_eq(scim_patch_apply_ex(pool, rt, UID, doc, J(bodies[i]),
                                             100, 0, &full, &f),
                         APR_SUCCESS);
        /* the members: before, plus add, minus remove */
        apr_hash_set(set, M1, APR_HASH_KEY_STRING, "");
        apr_hash_set(set, M2, APR_HASH_KEY_STRING, "");
        for (k = 0; k < add->nelts; k++) {
            apr_hash_set(set, APR_ARRAY_IDX(add, k, const char *),
                         APR_HASH_KEY_STRING, "");
        }
        for (k = 0; k < remove->nelts; k++) {
            apr_hash_set(set, APR_ARRAY_IDX(remove, k, const char *),
                         APR_HASH_KEY_STRING, NULL);
        }
        ck_assert_int_eq((int)apr_hash_count(set), full.member_ids->nelts);
        for (k = 0; k < full.member_ids->nelts; k++) {
            ck_assert_ptr_ne(apr_hash_get(set,
                                          APR_ARRAY_IDX(full.member_ids, k,
                                                        const char *),
                                          APR_HASH_KEY_STRING),
                             NULL);
        }
        /* the rest of the document */
        want = json_deep_copy(full.doc);
        json_object_del(want, "members");
        scim_json_pool_own(pool, want);
        if (rest) {
            ck_assert_int_eq(scim_patch_apply_ex(pool, rt, UID, bare, rest, 100,
                                                 0, &part, &f),
                             APR_SUCCESS);
            ck_assert_msg(json_equal(part.doc, want), "body %d: got %s want %s",
                          i, dump(part.doc), dump(want));
        }
        else {
            ck_assert_msg(json_equal(bare, want), "body %d: got %s want %s", i,
                          dump(bare), dump(want));
        }
    }
}
END_TEST


/* ---- user PATCHes that only set values (scim_patch_user_set) ----------- */

/* The set of body, or NULL when the patch needs the document. */
static json_t *user_set(const char *body)
{
    json_t *set = NULL;

    if (!scim_patch_user_set(pool, UID, J(body), 100, &set)) {
        ck_assert_ptr_null(set);
        return NULL;
    }
    ck_assert_ptr_nonnull(set);
    return set;
}

START_TEST(set_okta_entra)
{
    /* Okta's deactivation, path-less */
    ck_assert_json_eq(user_set("{" PATCH ",\"Operations\":[{\"op\":\"replace\","
                               "\"value\":{\"active\":false}}]}"),
                      "{\"active\":false}");
    /* Entra's, with "False" as a string and the op capitalised */
    ck_assert_json_eq(user_set("{" PATCH ",\"Operations\":[{\"op\":\"Replace\","
                               "\"path\":\"active\",\"value\":\"False\"}]}"),
                      "{\"active\":false}");
    /* Entra's attribute updates: sub-attributes, URN-qualified core names,
     * path-less dotted keys; the last value of a key wins */
    ck_assert_json_eq(user_set(
                          "{" PATCH ",\"Operations\":[{\"op\":\"Add\",\"path\":"
                          "\"name.givenName\",\"value\":\"Barb\"},{\"op\":\"Replace\","
                          "\"path\":\"urn:ietf:params:scim:schemas:core:2.0:User:"
                          "displayName\",\"value\":\"B J\"},{\"op\":\"replace\","
                          "\"value\":{\"name.familyName\":\"J\",\"Title\":\"Boss\","
                          "\"displayName\":\"BJ\"}}]}"),
                      "{\"name\":{\"givenName\":\"Barb\",\"familyName\":\"J\"},"
                      "\"displayName\":\"BJ\",\"title\":\"Boss\"}");
    /* readOnly keys of a path-less value are ignored, the resource's own id
     * too, and the password is accepted and discarded */
    ck_assert_json_eq(user_set("{" PATCH ",\"Operations\":[{\"op\":\"replace\","
                               "\"value\":{\"id\":\"" UID "\",\"meta\":{},"
                               "\"schemas\":[],\"password\":\"x\","
                               "\"active\":true}}]}"),
                      "{\"active\":true}");
}
END_TEST

START_TEST(set_needs_the_document)
{
    static const char *const bodies[] = {
        /* removals: by op, by null or "" */
        "{" PATCH ",\"Operations\":[{\"op\":\"remove\",\"path\":\"title\"}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"path\":\"title\","
        "\"value\":null}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"path\":"
        "\"name.givenName\",\"value\":\"\"}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"value\":{"
        "\"title\":null}}]}",
        /* userName and externalId (columns checked for uniqueness) */
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"path\":"
        "\"userName\",\"value\":\"x@example.com\"}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"value\":{"
        "\"externalId\":\"e\"}}]}",
        /* a whole complex value is merged with what is there */
        "{" PATCH ",\"Operations\":[{\"op\":\"add\",\"path\":\"name\","
        "\"value\":{\"givenName\":\"B\"}}]}",
        /* multi-valued, filters, extensions */
        "{" PATCH ",\"Operations\":[{\"op\":\"add\",\"path\":\"emails\","
        "\"value\":[{\"value\":\"a@b.c\"}]}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"path\":\"emails["
        "type eq \\\"work\\\"].value\",\"value\":\"a@b.c\"}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"path\":\"" ENT
        ":department\",\"value\":\"D\"}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"path\":\"" ENT
        "\",\"value\":{\"department\":\"D\"}}]}",
        /* one such operation among plain ones */
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"path\":\"active\","
        "\"value\":false},{\"op\":\"remove\",\"path\":\"title\"}]}",
        /* errors are left to scim_patch_apply */
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"path\":\"active\","
        "\"value\":\"maybe\"}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"path\":\"id\","
        "\"value\":\"x\"}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"path\":\"nope\","
        "\"value\":\"x\"}]}",
        "{" PATCH ",\"Operations\":[]}",
        "{\"Operations\":[{\"op\":\"replace\",\"path\":\"active\","
        "\"value\":false}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"value\":{"
        "\"id\":\"someone-else\"}}]}",
        NULL
    };
    int i;

    for (i = 0; bodies[i]; i++) {
        ck_assert_msg(user_set(bodies[i]) == NULL, "body %d: %s", i, bodies[i]);
    }
}
END_TEST

/* Wherever there is a set, the set applied to a stored document is what
 * the whole patch gives: with and without the attributes it sets. */
START_TEST(set_agrees_with_apply)
{
    static const char *const bodies[] = {
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"path\":\"active\","
        "\"value\":\"False\"}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"add\",\"path\":\"name.middleName"
        "\",\"value\":\"Q\"},{\"op\":\"replace\",\"path\":\"NAME.givenname\","
        "\"value\":\"Bee\"},{\"op\":\"add\",\"path\":\"nickName\",\"value\":"
        "\"Babs\"}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"value\":{"
        "\"displayName\":\"D\",\"name.formatted\":\"F\",\"active\":true,"
        "\"locale\":\"de-DE\",\"timezone\":\"Europe/Berlin\"}}]}",
        "{" PATCH ",\"Operations\":[{\"op\":\"replace\",\"path\":\"title\","
        "\"value\":\"\\u00e9t\\u00e9 \\ud83d\\ude00\"}]}",
        NULL
    };
    static const char *const docs[] = {
        NULL, /* user_doc */
        "{" USER_S ",\"userName\":\"u\",\"active\":true}",
        "{" USER_S ",\"userName\":\"u\",\"active\":false,\"name\":{"
        "\"familyName\":\"F\",\"givenName\":\"G\"},\"title\":\"T\"}",
        NULL
    };
    const scim_resource_type_t *rt = scim_schema_user();
    int i, d;

    for (i = 0; bodies[i]; i++) {
        json_t *set = user_set(bodies[i]);

        ck_assert_msg(set != NULL, "body %d", i);
        for (d = 0; d < 3; d++) {
            json_t *doc = J(d ? docs[d] : user_doc), *out;
            scim_fault_t f = { 0, NULL, NULL };

            ck_assert_int_eq(scim_patch_apply(pool, rt, UID, doc, J(bodies[i]),
                                              100, &out, NULL, &f),
                             APR_SUCCESS);
            ck_assert_msg(json_equal(out, scim_patch_set_apply(pool, doc, set)),
                          "body %d doc %d: apply %s, set %s", i, d, dump(out),
                          dump(scim_patch_set_apply(pool, doc, set)));
        }
    }
}
END_TEST

Suite *scim_patch_suite(void)
{
    Suite *s = suite_create("scim_patch");
    TCase *tc;

    tc = tcase_create("okta");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, okta_deactivate);
    tcase_add_test(tc, okta_group_rename);
    tcase_add_test(tc, okta_members_add);
    tcase_add_test(tc, okta_members_remove);
    tcase_add_test(tc, okta_members_replace);
    tcase_add_test(tc, okta_password_and_profile);
    suite_add_tcase(s, tc);

    tc = tcase_create("entra");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, entra_multi_valued);
    tcase_add_test(tc, entra_single_valued);
    tcase_add_test(tc, entra_disable);
    tcase_add_test(tc, entra_pathless_keys);
    tcase_add_test(tc, entra_manager);
    tcase_add_test(tc, entra_addresses);
    tcase_add_test(tc, entra_group);
    suite_add_tcase(s, tc);

    tc = tcase_create("rfc");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, rfc_add_multi);
    tcase_add_test(tc, rfc_complex);
    tcase_add_test(tc, rfc_value_paths);
    tcase_add_test(tc, rfc_extension);
    tcase_add_test(tc, rfc_null_and_empty);
    tcase_add_test(tc, canonical_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, errors_message);
    tcase_add_test(tc, errors_operations);
    tcase_add_test(tc, errors_paths);
    tcase_add_test(tc, errors_mutability);
    tcase_add_test(tc, errors_values);
    tcase_add_test(tc, simple_api);
    tcase_add_test(tc, large_group);
    suite_add_tcase(s, tc);

    tc = tcase_create("member_delta");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, delta_okta_entra);
    tcase_add_test(tc, delta_order_and_case);
    tcase_add_test(tc, delta_fallbacks);
    tcase_add_test(tc, delta_non_uuid_filter);
    tcase_add_test(tc, delta_error_names_the_operation);
    tcase_add_test(tc, delta_agrees_with_apply);
    suite_add_tcase(s, tc);

    tc = tcase_create("user_set");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, set_okta_entra);
    tcase_add_test(tc, set_needs_the_document);
    tcase_add_test(tc, set_agrees_with_apply);
    suite_add_tcase(s, tc);
    return s;
}
