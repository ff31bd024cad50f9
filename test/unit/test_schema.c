/* Unit tests of scim_schema: attribute model, normalisation, projection and
 * discovery documents. */

#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <check.h>
#include <jansson.h>

#include "scim_json.h"
#include "scim_schema.h"

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
    json_t *j = json_loads(text,
                           JSON_REJECT_DUPLICATES | JSON_DECODE_ANY
                               | JSON_ALLOW_NUL,
                           &e);

    ck_assert_msg(j != NULL, "bad test JSON: %s: %s", e.text, text);
    return scim_json_pool_own(pool, j);
}

static const char *dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    char *r = apr_pstrdup(pool, s);

    free(s);
    return r;
}

#define ck_assert_json_eq(got, want)                                       \
    do {                                                                   \
        json_t *w_ = J(want);                                              \
        ck_assert_msg(json_equal((got), w_), "got %s\nwant %s", dump(got), \
                      dump(w_));                                           \
    } while (0)

static int has_null(const json_t *j)
{
    const char *k;
    json_t *v;
    size_t i;

    if (json_is_null(j)) {
        return 1;
    }
    if (json_is_object(j)) {
        json_object_foreach((json_t *)j, k, v)
        {
            if (has_null(v)) {
                return 1;
            }
        }
    }
    if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            if (has_null(v)) {
                return 1;
            }
        }
    }
    return 0;
}

static apr_status_t resolve(const scim_resource_type_t *rt, const char *path,
                            int flags, scim_attr_ref_t *ref)
{
    return scim_schema_resolve(rt, path, strlen(path), flags, ref);
}

static json_t *norm_ok(const scim_resource_type_t *rt, const char *in, int flags)
{
    scim_fault_t f = { 0, NULL, NULL };
    json_t *out = NULL;
    apr_status_t rv = scim_schema_normalize(pool, rt, J(in), flags, &out, &f);

    ck_assert_msg(rv == APR_SUCCESS, "normalize failed: %s", f.detail);
    ck_assert_ptr_nonnull(out);
    ck_assert(!has_null(out));
    return out;
}

static scim_fault_t norm_fail(const scim_resource_type_t *rt, const char *in,
                              int flags)
{
    scim_fault_t f = { 0, NULL, NULL };
    json_t *out = NULL;
    apr_status_t rv = scim_schema_normalize(pool, rt, J(in), flags, &out, &f);

    ck_assert_msg(rv == APR_EINVAL, "normalize accepted %s", in);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(f.status, 400);
    ck_assert_ptr_nonnull(f.detail);
    return f;
}

#define USER  "\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"]"
#define ENT   "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define GROUP "\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"]"
#define ID1   "2819c223-7f76-453a-919d-413861904646"
#define ID2   "902c246b-6245-4190-8e05-00816be7344a"

/* ---- resolution ---- */

START_TEST(resolve_core)
{
    const scim_resource_type_t *u = scim_schema_user();
    scim_attr_ref_t r;

    ck_assert_int_eq(resolve(u, "userName", 0, &r), APR_SUCCESS);
    ck_assert_str_eq(r.attr->name, "userName");
    ck_assert_ptr_null(r.sub);
    ck_assert_str_eq(r.schema->id, "urn:ietf:params:scim:schemas:core:2.0:User");
    ck_assert(r.attr->required && !r.attr->case_exact);
    ck_assert_int_eq(r.attr->uniqueness, SCIM_UNIQ_SERVER);

    ck_assert_int_eq(resolve(u, "USERNAME", 0, &r), APR_SUCCESS);
    ck_assert_str_eq(r.attr->name, "userName");

    ck_assert_int_eq(resolve(u, "name.givenName", 0, &r), APR_SUCCESS);
    ck_assert_str_eq(r.attr->name, "name");
    ck_assert_str_eq(r.sub->name, "givenName");

    ck_assert_int_eq(resolve(u, "Emails.VALUE", 0, &r), APR_SUCCESS);
    ck_assert_str_eq(r.attr->name, "emails");
    ck_assert(r.attr->multi_valued);
    ck_assert_str_eq(r.sub->name, "value");

    ck_assert_int_eq(resolve(u, "groups.$ref", 0, &r), APR_SUCCESS);
    ck_assert_str_eq(r.sub->name, "$ref");
    ck_assert_int_eq(r.attr->mutability, SCIM_MUT_READ_ONLY);

    ck_assert_int_eq(resolve(u, "emails.primary", 0, &r), APR_SUCCESS);
    ck_assert_int_eq(r.sub->type, SCIM_TYPE_BOOLEAN);

    ck_assert_int_eq(resolve(u, "active", 0, &r), APR_SUCCESS);
    ck_assert_int_eq(r.attr->type, SCIM_TYPE_BOOLEAN);
    ck_assert_int_eq(resolve(u, "password", 0, &r), APR_SUCCESS);
    ck_assert_int_eq(r.attr->returned, SCIM_RET_NEVER);
}
END_TEST

START_TEST(resolve_common)
{
    const scim_resource_type_t *u = scim_schema_user();
    scim_attr_ref_t r;

    ck_assert_int_eq(resolve(u, "id", 0, &r), APR_SUCCESS);
    ck_assert_int_eq(r.attr->returned, SCIM_RET_ALWAYS);
    ck_assert(r.attr->case_exact);
    ck_assert_int_eq(resolve(u, "externalId", 0, &r), APR_SUCCESS);
    ck_assert(r.attr->case_exact);
    ck_assert_int_eq(resolve(u, "meta.lastModified", 0, &r), APR_SUCCESS);
    ck_assert_int_eq(r.sub->type, SCIM_TYPE_DATETIME);
    ck_assert_int_eq(resolve(u, "meta.created", 0, &r), APR_SUCCESS);
    ck_assert_int_eq(resolve(u, "urn:ietf:params:scim:schemas:core:2.0:User:id",
                             0, &r),
                     APR_SUCCESS);
    ck_assert_str_eq(r.attr->name, "id");
    ck_assert_int_eq(resolve(scim_schema_group(), "meta.version", 0, &r),
                     APR_SUCCESS);
}
END_TEST

START_TEST(resolve_urn)
{
    const scim_resource_type_t *u = scim_schema_user();
    scim_attr_ref_t r;

    ck_assert_int_eq(resolve(u, "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                             0, &r),
                     APR_SUCCESS);
    ck_assert_str_eq(r.attr->name, "userName");
    ck_assert_int_eq(resolve(u, "URN:IETF:params:scim:schemas:core:2.0:user:name.familyname",
                             0, &r),
                     APR_SUCCESS);
    ck_assert_str_eq(r.sub->name, "familyName");

    ck_assert_int_eq(resolve(u, ENT ":manager.value", 0, &r), APR_SUCCESS);
    ck_assert_str_eq(r.schema->id, ENT);
    ck_assert_str_eq(r.attr->name, "manager");
    ck_assert_str_eq(r.sub->name, "value");
    ck_assert_str_eq(scim_schema_ref_name(pool, &r), ENT ":manager.value");

    ck_assert_int_eq(resolve(u, ENT ":department", 0, &r), APR_SUCCESS);
    ck_assert_str_eq(r.attr->name, "department");

    /* A bare extension URN only where allowed. */
    ck_assert_int_eq(resolve(u, ENT, 0, &r), APR_EINVAL);
    ck_assert_int_eq(resolve(u, ENT, SCIM_RESOLVE_SCHEMA, &r), APR_SUCCESS);
    ck_assert_ptr_null(r.attr);
    ck_assert_str_eq(r.schema->id, ENT);
    ck_assert_int_eq(resolve(u, "urn:ietf:params:scim:schemas:core:2.0:User",
                             SCIM_RESOLVE_SCHEMA, &r),
                     APR_EINVAL);

    /* Unqualified extension attributes resolve when unambiguous. */
    ck_assert_int_eq(resolve(u, "department", 0, &r), APR_SUCCESS);
    ck_assert_str_eq(r.schema->id, ENT);
    ck_assert_int_eq(resolve(u, "manager.value", 0, &r), APR_SUCCESS);
    ck_assert_str_eq(r.schema->id, ENT);

    /* Extensions of other resource types do not apply. */
    ck_assert_int_eq(resolve(scim_schema_group(), ENT ":department", 0, &r),
                     APR_ENOENT);
    ck_assert_int_eq(resolve(scim_schema_group(), "department", 0, &r),
                     APR_ENOENT);
    ck_assert_int_eq(resolve(u, "urn:ietf:params:scim:schemas:extension:custom:2.0:User:x",
                             0, &r),
                     APR_ENOENT);
}
END_TEST

START_TEST(resolve_errors)
{
    const scim_resource_type_t *u = scim_schema_user();
    const scim_resource_type_t *g = scim_schema_group();
    scim_attr_ref_t r;

    ck_assert_int_eq(resolve(u, "nosuch", 0, &r), APR_ENOENT);
    ck_assert_int_eq(resolve(u, "name.nosuch", 0, &r), APR_ENOENT);
    ck_assert_int_eq(resolve(u, "userName.x", 0, &r), APR_ENOENT);
    ck_assert_int_eq(resolve(u, "members", 0, &r), APR_ENOENT);
    ck_assert_int_eq(resolve(g, "userName", 0, &r), APR_ENOENT);
    ck_assert_int_eq(resolve(u, "name..givenName", 0, &r), APR_EINVAL);
    ck_assert_int_eq(resolve(u, "name.givenName.x", 0, &r), APR_EINVAL);
    ck_assert_int_eq(resolve(u, "1abc", 0, &r), APR_EINVAL);
    ck_assert_int_eq(resolve(u, "user Name", 0, &r), APR_EINVAL);
    ck_assert_int_eq(resolve(u, ".x", 0, &r), APR_EINVAL);
    ck_assert_int_eq(scim_schema_resolve(u, "", 0, 0, &r), APR_EINVAL);
    ck_assert_int_eq(resolve(u, "urn:ietf:params:scim:schemas:core:2.0:User:", 0,
                             &r),
                     APR_EINVAL);
    /* Length-delimited: the rest of the buffer is not part of the path. */
    ck_assert_int_eq(scim_schema_resolve(u, "userName eq", 8, 0, &r),
                     APR_SUCCESS);
    ck_assert_str_eq(r.attr->name, "userName");
}
END_TEST

START_TEST(resolve_group)
{
    const scim_resource_type_t *g = scim_schema_group();
    scim_attr_ref_t r;

    ck_assert_int_eq(resolve(g, "displayName", 0, &r), APR_SUCCESS);
    ck_assert(r.attr->required);
    ck_assert_int_eq(resolve(g, "members.value", 0, &r), APR_SUCCESS);
    ck_assert(r.attr->multi_valued);
    ck_assert_int_eq(resolve(g, "urn:ietf:params:scim:schemas:core:2.0:Group:members",
                             0, &r),
                     APR_SUCCESS);
    ck_assert_ptr_eq(scim_schema_resource_type("group"), g);
    ck_assert_ptr_eq(scim_schema_resource_type("USER"), scim_schema_user());
    ck_assert_ptr_null(scim_schema_resource_type("Device"));
}
END_TEST

START_TEST(obj_get_ci)
{
    json_t *o = J("{\"userName\":1,\"Active\":true}");
    scim_attr_ref_t r;
    json_t *doc = J("{\"" ENT "\":{\"department\":\"x\"}}");

    ck_assert_int_eq(json_integer_value(scim_schema_obj_get(o, "username")), 1);
    ck_assert(json_is_true(scim_schema_obj_get(o, "active")));
    ck_assert_ptr_null(scim_schema_obj_get(o, "x"));
    ck_assert_ptr_null(scim_schema_obj_get(J("[]"), "x"));

    ck_assert_int_eq(resolve(scim_schema_user(), "department", 0, &r),
                     APR_SUCCESS);
    ck_assert_ptr_eq(scim_schema_container(doc, &r, 0),
                     json_object_get(doc, ENT));
    ck_assert_ptr_null(scim_schema_container(o, &r, 0));
    ck_assert_ptr_nonnull(scim_schema_container(o, &r, 1));
    ck_assert_ptr_nonnull(json_object_get(o, ENT));
    ck_assert_int_eq(resolve(scim_schema_user(), "title", 0, &r), APR_SUCCESS);
    ck_assert_ptr_eq(scim_schema_container(o, &r, 0), o);
}
END_TEST

/* ---- dateTime ---- */

static apr_time_t dt(const char *s)
{
    apr_time_t t = 0;

    ck_assert_msg(scim_schema_datetime_parse(s, strlen(s), &t) == APR_SUCCESS,
                  "rejected %s", s);
    return t;
}

static void dt_bad(const char *s)
{
    apr_time_t t;

    ck_assert_msg(scim_schema_datetime_parse(s, strlen(s), &t) == APR_EINVAL,
                  "accepted %s", s);
}

START_TEST(datetime)
{
    ck_assert(dt("1970-01-01T00:00:00Z") == 0);
    ck_assert(dt("1970-01-01T00:00:01Z") == APR_USEC_PER_SEC);
    ck_assert(dt("1970-01-01T00:00:00.5Z") == APR_USEC_PER_SEC / 2);
    ck_assert(dt("2011-08-01T21:32:44.882Z")
              == dt("2011-08-01T23:32:44.882+02:00"));
    ck_assert(dt("2011-08-01T21:32:44Z") == dt("2011-08-01T16:32:44-05:00"));
    ck_assert(dt("2011-08-01T21:32:44") == dt("2011-08-01T21:32:44Z"));
    ck_assert(dt("2024-02-29T00:00:00Z") > dt("2024-02-28T23:59:59.999999Z"));
    ck_assert(dt("2000-01-01T00:00:00Z") == 946684800LL * APR_USEC_PER_SEC);
    ck_assert(dt("1969-12-31T23:59:59Z") == -APR_USEC_PER_SEC);
    ck_assert(dt("0001-01-01T00:00:00Z") < 0);
    dt("9999-12-31T23:59:59.123456789Z");
    dt("2011-08-01t21:32:44z");

    dt_bad("");
    dt_bad("2011-08-01");
    dt_bad("2011-08-01 21:32:44Z");
    dt_bad("2023-02-29T00:00:00Z");
    dt_bad("2100-02-29T00:00:00Z");
    dt_bad("2011-13-01T00:00:00Z");
    dt_bad("2011-04-31T00:00:00Z");
    dt_bad("2011-00-10T00:00:00Z");
    dt_bad("0000-01-01T00:00:00Z");
    dt_bad("2011-08-01T24:00:00Z");
    dt_bad("2011-08-01T23:60:00Z");
    dt_bad("2011-08-01T23:59:60Z");
    dt_bad("2011-08-01T21:32:44.Z");
    dt_bad("2011-08-01T21:32:44.1234567890Z");
    dt_bad("2011-08-01T21:32:44+15:00");
    dt_bad("2011-08-01T21:32:44+0200");
    dt_bad("2011-08-01T21:32:44+02:60");
    dt_bad("2011-08-01T21:32:44ZZ");
    dt_bad("2011-08-01T21:32:44Z ");
    dt_bad("+2011-08-01T21:32:44Z");
    dt_bad("2011-8-01T21:32:44Z");
    dt_bad("yesterday");
}
END_TEST

/* ---- normalisation ---- */

START_TEST(norm_okta_create)
{
    /* Okta's POST /Users (developer.okta.com SCIM 2.0 reference). */
    json_t *d = norm_ok(scim_schema_user(),
                        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:"
                        "User\"],\"userName\":\"test.user@okta.local\","
                        "\"name\":{\"givenName\":\"Test\",\"familyName\":"
                        "\"User\"},\"emails\":[{\"primary\":true,\"value\":"
                        "\"test.user@okta.local\",\"type\":\"work\"}],"
                        "\"displayName\":\"Test User\",\"locale\":\"en-US\","
                        "\"externalId\":\"00ujl29u0le5T6Aj10h7\","
                        "\"groups\":[],\"password\":\"1mz050nq\","
                        "\"active\":true}",
                        0);

    ck_assert_json_eq(d,
                      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
                      "\"userName\":\"test.user@okta.local\",\"name\":{\"givenName\":"
                      "\"Test\",\"familyName\":\"User\"},\"emails\":[{\"primary\":true,"
                      "\"value\":\"test.user@okta.local\",\"type\":\"work\"}],"
                      "\"displayName\":\"Test User\",\"locale\":\"en-US\",\"externalId\":"
                      "\"00ujl29u0le5T6Aj10h7\",\"active\":true}");
    /* Password never kept. */
    ck_assert_ptr_null(json_object_get(d, "password"));
    ck_assert_ptr_null(json_object_get(d, "groups"));
}
END_TEST

START_TEST(norm_entra_create)
{
    /* Entra's POST /Users (learn.microsoft.com, "Create User"), with the
     * enterprise extension and string booleans. */
    json_t *
        d = norm_ok(scim_schema_user(),
                    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
                    "\"" ENT
                    "\"],\"externalId\":\"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\","
                    "\"userName\":\"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1\","
                    "\"active\":\"True\",\"emails\":[{\"primary\":\"true\",\"type\":"
                    "\"work\",\"value\":\"Test_User_fd0ea19b@testuser.com\"}],"
                    "\"meta\":{\"resourceType\":\"User\"},\"name\":{\"formatted\":"
                    "\"givenName familyName\",\"familyName\":\"familyName\",\"givenName\":"
                    "\"givenName\"},\"roles\":[],\"" ENT
                    "\":{\"employeeNumber\":\"701984\","
                    "\"department\":\"Tour Operations\",\"manager\":\"" ID1
                    "\"}}",
                    0);

    ck_assert(json_is_true(json_object_get(d, "active")));
    ck_assert(json_is_true(
        json_object_get(json_array_get(json_object_get(d, "emails"), 0),
                        "primary")));
    ck_assert_ptr_null(json_object_get(d, "meta"));
    ck_assert_ptr_null(json_object_get(d, "roles"));
    ck_assert_json_eq(json_object_get(d, ENT),
                      "{\"employeeNumber\":\"701984\",\"department\":"
                      "\"Tour Operations\",\"manager\":{\"value\":\"" ID1 "\"}}");
    ck_assert_json_eq(json_object_get(d, "schemas"),
                      "[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"" ENT
                      "\"]");
}
END_TEST

START_TEST(norm_canonical_case)
{
    json_t *d = norm_ok(scim_schema_user(),
                        "{\"SCHEMAS\":[\"URN:ietf:params:scim:schemas:core:2.0:"
                        "user\"],\"USERNAME\":\"Bjensen\",\"Name\":{"
                        "\"GIVENNAME\":\"Barbara\"},\"emails\":[{\"Value\":"
                        "\"b@example.com\",\"TYPE\":\"work\"}],"
                        "\"urn:ietf:params:scim:schemas:extension:ENTERPRISE:"
                        "2.0:User\":{\"Department\":\"R&D\"}}",
                        0);

    ck_assert_json_eq(d,
                      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"" ENT
                      "\"],\"userName\":\"Bjensen\",\"name\":{\"givenName\":\"Barbara\"},"
                      "\"emails\":[{\"value\":\"b@example.com\",\"type\":\"work\"}],"
                      "\"" ENT "\":{\"department\":\"R&D\"}}");
}
END_TEST

START_TEST(norm_urn_qualified_keys)
{
    json_t *d = norm_ok(scim_schema_user(),
                        "{" USER
                        ",\"urn:ietf:params:scim:schemas:core:2.0:User:userName\":"
                        "\"a\",\"" ENT ":department\":\"Sales\",\"" ENT
                        ":manager\":{\"value\":"
                        "\"" ID2 "\",\"displayName\":\"Boss\"}}",
                        0);

    ck_assert_json_eq(d,
                      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"" ENT
                      "\"],\"userName\":\"a\",\"" ENT
                      "\":{\"department\":\"Sales\","
                      "\"manager\":{\"value\":\"" ID2 "\"}}}");
}
END_TEST

START_TEST(norm_readonly_dropped)
{
    json_t *d = norm_ok(scim_schema_user(),
                        "{" USER ",\"id\":\"x\",\"meta\":{\"version\":\"W/1\"},"
                        "\"userName\":\"u\",\"groups\":[{\"value\":\"" ID1
                        "\"}]}",
                        0);

    ck_assert_json_eq(d, "{" USER ",\"userName\":\"u\"}");
}
END_TEST

START_TEST(norm_booleans)
{
    json_t *d = norm_ok(scim_schema_user(),
                        "{" USER ",\"userName\":\"u\",\"active\":\"False\"}", 0);
    scim_fault_t f;

    ck_assert(json_is_false(json_object_get(d, "active")));
    d = norm_ok(scim_schema_user(),
                "{" USER ",\"userName\":\"u\",\"active\":\"TRUE\"}", 0);
    ck_assert(json_is_true(json_object_get(d, "active")));
    d = norm_ok(scim_schema_user(),
                "{" USER ",\"userName\":\"u\",\"active\":false}", 0);
    ck_assert(json_is_false(json_object_get(d, "active")));

    f = norm_fail(scim_schema_user(),
                  "{" USER ",\"userName\":\"u\",\"active\":\"yes\"}", 0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
    ck_assert_ptr_nonnull(strstr(f.detail, "active"));
    f = norm_fail(scim_schema_user(),
                  "{" USER ",\"userName\":\"u\",\"active\":1}", 0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
    f = norm_fail(scim_schema_user(),
                  "{" USER ",\"userName\":\"u\",\"emails\":[{\"value\":\"x\","
                  "\"primary\":\"maybe\"}]}",
                  0);
    ck_assert_ptr_nonnull(strstr(f.detail, "emails.primary"));
}
END_TEST

START_TEST(norm_wrong_types)
{
    const scim_resource_type_t *u = scim_schema_user();
    scim_fault_t f;

    f = norm_fail(u, "{" USER ",\"userName\":42}", 0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
    f = norm_fail(u, "{" USER ",\"userName\":\"u\",\"name\":\"Babs\"}", 0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
    f = norm_fail(u,
                  "{" USER ",\"userName\":\"u\",\"name\":{\"givenName\":"
                  "[\"a\"]}}",
                  0);
    ck_assert_ptr_nonnull(strstr(f.detail, "name.givenName"));
    f = norm_fail(u, "{" USER ",\"userName\":\"u\",\"emails\":[\"a@b\"]}", 0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
    f = norm_fail(u, "{" USER ",\"userName\":\"u\",\"title\":{}}", 0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
    f = norm_fail(u, "{" USER ",\"userName\":\"u\",\"" ENT "\":\"x\"}", 0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
    f = norm_fail(u, "{" USER ",\"userName\":\"u\",\"title\":\"a\\u0000b\"}", 0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
    f = norm_fail(u, "[1]", 0);
    ck_assert_str_eq(f.scim_type, "invalidSyntax");
}
END_TEST

START_TEST(norm_required)
{
    const scim_resource_type_t *u = scim_schema_user();
    const scim_resource_type_t *g = scim_schema_group();
    scim_fault_t f;
    char *longname = apr_palloc(pool, 300);
    json_t *d;

    f = norm_fail(u, "{" USER ",\"displayName\":\"x\"}", 0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
    ck_assert_ptr_nonnull(strstr(f.detail, "userName"));
    norm_fail(u, "{" USER ",\"userName\":\"\"}", 0);
    norm_fail(u, "{" USER ",\"userName\":null}", 0);
    f = norm_fail(g, "{" GROUP ",\"members\":[]}", 0);
    ck_assert_ptr_nonnull(strstr(f.detail, "displayName"));

    memset(longname, 'a', 257);
    longname[257] = '\0';
    f = norm_fail(u,
                  apr_psprintf(pool, "{" USER ",\"userName\":\"%s\"}", longname),
                  0);
    ck_assert_ptr_nonnull(strstr(f.detail, "256"));
    longname[256] = '\0';
    norm_ok(u, apr_psprintf(pool, "{" USER ",\"userName\":\"%s\"}", longname), 0);
    /* 256 characters, not bytes. */
    d = norm_ok(u,
                apr_pstrcat(pool, "{" USER ",\"userName\":\"",
                            apr_pstrndup(pool,
                                         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
                                         "\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
                                         16),
                            longname + 8, "\"}", NULL),
                0);
    ck_assert_ptr_nonnull(d);
}
END_TEST

/* Names: no controls, no bidi controls, no white space at either end
 * (SPEC 5.1); the same rules for externalId and a group's displayName. */
START_TEST(norm_name_characters)
{
    const scim_resource_type_t *u = scim_schema_user();
    const scim_resource_type_t *g = scim_schema_group();
    static const char *const bad[] = { "alice ",
                                       " alice",
                                       "alice\\t",
                                       "alice\\u00a0",
                                       "\\u3000alice",
                                       "alice\\u2003",
                                       "al\\nice",
                                       "al\\u0007ice",
                                       "al\\u007fice",
                                       "al\\u0085ice",
                                       "al\\u009bice",
                                       "al\\u202eice",
                                       "\\u202aalice",
                                       "al\\u2066ice",
                                       "al\\u2069ice",
                                       "al\\u200eice",
                                       "al\\u200fice",
                                       "al\\u061cice",
                                       NULL };
    scim_fault_t f;
    int i;

    for (i = 0; bad[i]; i++) {
        f = norm_fail(u,
                      apr_psprintf(pool, "{" USER ",\"userName\":\"%s\"}", bad[i]),
                      0);
        ck_assert_str_eq(f.scim_type, "invalidValue");
        ck_assert_ptr_nonnull(strstr(f.detail, "userName"));
        f = norm_fail(u,
                      apr_psprintf(pool,
                                   "{" USER ",\"userName\":\"a\","
                                   "\"externalId\":\"%s\"}",
                                   bad[i]),
                      0);
        ck_assert_ptr_nonnull(strstr(f.detail, "externalId"));
        f = norm_fail(g,
                      apr_psprintf(pool, "{" GROUP ",\"displayName\":\"%s\"}",
                                   bad[i]),
                      0);
        ck_assert_ptr_nonnull(strstr(f.detail, "displayName"));
    }
    /* inner spaces, other scripts and lookalikes are left to the database */
    norm_ok(u, "{" USER ",\"userName\":\"Ann Lee\",\"externalId\":\"x y\"}", 0);
    norm_ok(u, "{" USER ",\"userName\":\"\\uff41\\u540d\\u0639\"}", 0);
    /* a user's displayName is no unique name */
    norm_ok(u, "{" USER ",\"userName\":\"a\",\"displayName\":\" Ann \"}", 0);
}
END_TEST

START_TEST(norm_schemas)
{
    const scim_resource_type_t *u = scim_schema_user();
    scim_fault_t f;
    json_t *d;

    f = norm_fail(u, "{\"userName\":\"u\"}", 0);
    ck_assert_str_eq(f.scim_type, "invalidSyntax");
    f = norm_fail(u,
                  "{\"schemas\":\"urn:ietf:params:scim:schemas:core:2.0:User\","
                  "\"userName\":\"u\"}",
                  0);
    ck_assert_str_eq(f.scim_type, "invalidSyntax");
    f = norm_fail(u, "{" GROUP ",\"userName\":\"u\"}", 0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
    f = norm_fail(u, "{\"schemas\":[\"" ENT "\"],\"userName\":\"u\"}", 0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
    /* An unknown URN listed without data is dropped (Entra's documented
     * Group body lists an ADSCIM URN); data under it is refused. */
    d = norm_ok(u,
                "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
                "\"urn:example:custom\"],\"userName\":\"u\"}",
                0);
    ck_assert_json_eq(d, "{" USER ",\"userName\":\"u\"}");
    f = norm_fail(u,
                  "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:"
                  "User\",\"urn:example:custom\"],\"userName\":\"u\","
                  "\"urn:example:custom\":{\"x\":1}}",
                  0);
    ck_assert_str_eq(f.scim_type, "invalidSyntax");
    d = norm_ok(u,
                "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
                "\"urn:example:custom\"],\"userName\":\"u\"}",
                SCIM_NORM_IGNORE_UNKNOWN);
    ck_assert_json_eq(d, "{" USER ",\"userName\":\"u\"}");
    /* The enterprise URN listed without data is not kept; data without the
     * URN listed gets it. */
    d = norm_ok(u,
                "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
                "\"" ENT "\"],\"userName\":\"u\"}",
                0);
    ck_assert_json_eq(d, "{" USER ",\"userName\":\"u\"}");
    d = norm_ok(u,
                "{" USER ",\"userName\":\"u\",\"" ENT "\":{\"division\":"
                "\"d\"}}",
                0);
    ck_assert_int_eq(json_array_size(json_object_get(d, "schemas")), 2);
    f = norm_fail(u, "{" USER ",\"Schemas\":[],\"userName\":\"u\"}", 0);
    ck_assert_str_eq(f.scim_type, "invalidSyntax");
    f = norm_fail(u, "{\"schemas\":[1],\"userName\":\"u\"}", 0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
}
END_TEST

START_TEST(norm_unknown)
{
    const scim_resource_type_t *u = scim_schema_user();
    scim_fault_t f;
    json_t *d;
    const char *body = "{" USER
                       ",\"userName\":\"u\",\"favouriteColour\":\"blue\","
                       "\"name\":{\"givenName\":\"g\",\"nick\":\"n\"},"
                       "\"urn:ietf:params:scim:schemas:extension:custom:2.0:User\":{\"a\":1},"
                       "\"" ENT "\":{\"department\":\"d\",\"shoeSize\":9},"
                       "\"name.familyName\":\"f\"}";

    f = norm_fail(u, body, 0);
    ck_assert_str_eq(f.scim_type, "invalidSyntax");
    ck_assert_ptr_nonnull(strstr(f.detail, "favouriteColour"));
    d = norm_ok(u, body, SCIM_NORM_IGNORE_UNKNOWN);
    ck_assert_json_eq(d,
                      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:"
                      "2.0:User\",\"" ENT "\"],\"userName\":\"u\",\"name\":"
                      "{\"givenName\":\"g\"},\"" ENT "\":{\"department\":"
                      "\"d\"}}");
    f = norm_fail(u, "{" USER ",\"userName\":\"u\",\"name\":{\"nick\":\"n\"}}",
                  0);
    ck_assert_ptr_nonnull(strstr(f.detail, "name.nick"));
    f = norm_fail(u, "{" USER ",\"userName\":\"u\",\"" ENT ":shoeSize\":9}", 0);
    ck_assert_str_eq(f.scim_type, "invalidSyntax");
    /* A 1000-character unknown name is cut short in the message. */
    {
        char *k = apr_palloc(pool, 1001);

        memset(k, 'k', 1000);
        k[1000] = '\0';
        f = norm_fail(u,
                      apr_psprintf(pool,
                                   "{" USER ",\"userName\":\"u\","
                                   "\"%s\":1}",
                                   k),
                      0);
        ck_assert_int_lt(strlen(f.detail), 200);
    }
}
END_TEST

START_TEST(norm_duplicates)
{
    const scim_resource_type_t *u = scim_schema_user();
    scim_fault_t f;

    f = norm_fail(u, "{" USER ",\"userName\":\"u\",\"USERNAME\":\"v\"}", 0);
    ck_assert_str_eq(f.scim_type, "invalidSyntax");
    f = norm_fail(u,
                  "{" USER ",\"userName\":\"u\",\"name\":{\"givenName\":"
                  "\"a\",\"GivenName\":\"b\"}}",
                  0);
    ck_assert_str_eq(f.scim_type, "invalidSyntax");
    f = norm_fail(u,
                  "{" USER ",\"userName\":\"u\",\"" ENT ":department\":"
                  "\"a\",\"" ENT "\":{\"department\":\"b\"}}",
                  0);
    ck_assert_str_eq(f.scim_type, "invalidSyntax");
    f = norm_fail(u,
                  "{" USER ",\"userName\":\"u\",\"title\":null,\"Title\":"
                  "\"x\"}",
                  0);
    ck_assert_str_eq(f.scim_type, "invalidSyntax");
}
END_TEST

START_TEST(norm_unassigned)
{
    json_t *d = norm_ok(scim_schema_user(),
                        "{" USER ",\"userName\":\"u\",\"title\":null,"
                        "\"nickName\":\"\",\"name\":{\"givenName\":null},"
                        "\"emails\":[null,{\"value\":null}],\"phoneNumbers\":[],"
                        "\"" ENT "\":{\"manager\":{\"value\":\"\"}}}",
                        0);

    ck_assert_json_eq(d, "{" USER ",\"userName\":\"u\"}");
}
END_TEST

START_TEST(norm_multi_values)
{
    const scim_resource_type_t *u = scim_schema_user();
    scim_fault_t f;
    json_t *d;

    /* A single object for a multi-valued attribute. */
    d = norm_ok(u,
                "{" USER ",\"userName\":\"u\",\"emails\":{\"value\":"
                "\"a@b\"}}",
                0);
    ck_assert_json_eq(json_object_get(d, "emails"), "[{\"value\":\"a@b\"}]");
    f = norm_fail(u,
                  "{" USER ",\"userName\":\"u\",\"emails\":[{\"value\":"
                  "\"a\",\"primary\":true},{\"value\":\"b\",\"primary\":"
                  "\"True\"}]}",
                  0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
    ck_assert_ptr_nonnull(strstr(f.detail, "primary"));
    d = norm_ok(u,
                "{" USER ",\"userName\":\"u\",\"emails\":[{\"value\":"
                "\"a\",\"primary\":true},{\"value\":\"b\",\"primary\":"
                "false}],\"addresses\":[{\"type\":\"work\","
                "\"streetAddress\":\"1 Main St\",\"primary\":\"true\"}],"
                "\"x509Certificates\":[{\"value\":\"MIIB\"}]}",
                0);
    ck_assert_int_eq(json_array_size(json_object_get(d, "emails")), 2);
    ck_assert(json_is_true(
        json_object_get(json_array_get(json_object_get(d, "addresses"), 0),
                        "primary")));
}
END_TEST

START_TEST(norm_manager_forms)
{
    const scim_resource_type_t *u = scim_schema_user();
    const char *want = "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:"
                       "2.0:User\",\"" ENT "\"],\"userName\":\"u\",\"" ENT
                       "\":{\"manager\":{\"value\":\"" ID1 "\"}}}";

    ck_assert_json_eq(norm_ok(u,
                              "{" USER ",\"userName\":\"u\",\"" ENT
                              "\":{\"manager\":\"" ID1 "\"}}",
                              0),
                      want);
    ck_assert_json_eq(norm_ok(u,
                              "{" USER ",\"userName\":\"u\",\"" ENT
                              "\":{\"manager\":{\"value\":\"" ID1 "\"}}}",
                              0),
                      want);
    /* Older Azure AD: an array with $ref null. */
    ck_assert_json_eq(norm_ok(u,
                              "{" USER ",\"userName\":\"u\",\"" ENT
                              "\":{\"manager\":[{\"$ref\":null,\"value\":"
                              "\"" ID1 "\"}]}}",
                              0),
                      want);
    ck_assert_json_eq(norm_ok(u,
                              "{" USER ",\"userName\":\"u\",\"" ENT
                              "\":{\"manager\":\"\"}}",
                              0),
                      "{" USER ",\"userName\":\"u\"}");
    norm_fail(u, "{" USER ",\"userName\":\"u\",\"" ENT "\":{\"manager\":7}}", 0);
}
END_TEST

START_TEST(norm_group_members)
{
    const scim_resource_type_t *g = scim_schema_group();
    scim_fault_t f;
    json_t *d;
    apr_array_header_t *ids;

    /* Okta's POST /Groups, with display names and a duplicate. */
    d = norm_ok(g,
                "{" GROUP ",\"displayName\":\"Test SCIMv2\",\"members\":["
                "{\"value\":\"" ID1 "\",\"display\":\"user@example.com\"},"
                "{\"value\":\"902C246B-6245-4190-8E05-00816BE7344A\"},"
                "{\"value\":\"" ID1 "\",\"type\":\"User\"}]}",
                0);
    ck_assert_json_eq(d,
                      "{" GROUP ",\"displayName\":\"Test SCIMv2\","
                      "\"members\":[{\"value\":\"" ID1 "\"},{\"value\":"
                      "\"" ID2 "\"}]}");
    ids = scim_schema_member_ids(pool, d);
    ck_assert_int_eq(ids->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(ids, 0, const char *), ID1);
    ck_assert_str_eq(APR_ARRAY_IDX(ids, 1, const char *), ID2);
    ck_assert_int_eq(scim_schema_member_ids(pool, J("{}"))->nelts, 0);

    f = norm_fail(g,
                  "{" GROUP ",\"displayName\":\"g\",\"members\":[{\"value\":"
                  "\"not-a-uuid\"}]}",
                  0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
    f = norm_fail(g,
                  "{" GROUP ",\"displayName\":\"g\",\"members\":[{\"value\":"
                  "\"" ID1 "\",\"type\":\"Group\"}]}",
                  0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
    f = norm_fail(g,
                  "{" GROUP ",\"displayName\":\"g\",\"members\":[{"
                  "\"display\":\"x\"}]}",
                  0);
    ck_assert_str_eq(f.scim_type, "invalidValue");
    f = norm_fail(g,
                  "{" GROUP ",\"displayName\":\"g\",\"members\":[{"
                  "\"value\":\"" ID1 "\",\"colour\":\"x\"}]}",
                  0);
    ck_assert_str_eq(f.scim_type, "invalidSyntax");
    /* Entra's Group create ("Create Group" in its SCIM documentation). */
    d = norm_ok(g,
                "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\","
                "\"http://schemas.microsoft.com/2006/11/ResourceManagement/"
                "ADSCIM/Group\"],\"externalId\":\"8aa1a0c0-c4c3-4bc0-b4a5-"
                "2ef676900159\",\"displayName\":\"displayName\",\"meta\":{"
                "\"resourceType\":\"Group\"}}",
                0);
    ck_assert_json_eq(d,
                      "{" GROUP ",\"externalId\":\"8aa1a0c0-c4c3-4bc0-b4a5-"
                      "2ef676900159\",\"displayName\":\"displayName\"}");
}
END_TEST

START_TEST(norm_value_fragments)
{
    const scim_resource_type_t *u = scim_schema_user();
    scim_attr_ref_t r;
    scim_fault_t f = { 0, NULL, NULL };
    json_t *out;

    ck_assert_int_eq(resolve(u, "emails", 0, &r), APR_SUCCESS);
    ck_assert_int_eq(scim_schema_normalize_value(pool, u, &r,
                                                 J("{\"Value\":\"x\","
                                                   "\"Primary\":\"True\"}"),
                                                 1, 0, &out, &f),
                     APR_SUCCESS);
    ck_assert_json_eq(out, "{\"value\":\"x\",\"primary\":true}");
    ck_assert_int_eq(scim_schema_normalize_value(pool, u, &r,
                                                 J("{\"value\":\"x\"}"), 0, 0,
                                                 &out, &f),
                     APR_SUCCESS);
    ck_assert_json_eq(out, "[{\"value\":\"x\"}]");
    ck_assert_int_eq(resolve(u, "active", 0, &r), APR_SUCCESS);
    ck_assert_int_eq(scim_schema_normalize_value(pool, u, &r, J("[\"False\"]"),
                                                 0, 0, &out, &f),
                     APR_EINVAL);
    ck_assert_int_eq(resolve(u, "name.givenName", 0, &r), APR_SUCCESS);
    ck_assert_int_eq(scim_schema_normalize_value(pool, u, &r, J("null"), 0, 0,
                                                 &out, &f),
                     APR_SUCCESS);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(resolve(u, ENT, SCIM_RESOLVE_SCHEMA, &r), APR_SUCCESS);
    ck_assert_int_eq(scim_schema_normalize_value(pool, u, &r, J("{}"), 0, 0,
                                                 &out, &f),
                     APR_EINVAL);
}
END_TEST

START_TEST(norm_idempotent)
{
    const scim_resource_type_t *u = scim_schema_user();
    json_t *d = norm_ok(u,
                        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"" ENT
                        "\"],\"userName\":\"u\",\"name\":{\"familyName\":\"f\"},\"active\":"
                        "\"true\",\"emails\":[{\"value\":\"e\",\"primary\":\"True\"}],\"" ENT
                        "\":{\"manager\":\"" ID1 "\"}}",
                        0);
    json_t *d2 = norm_ok(u, dump(d), 0);

    ck_assert(json_equal(d, d2));
}
END_TEST

/* ---- projection ---- */

static const char *
    full_user = "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"" ENT
                "\"],"
                "\"id\":\"" ID1
                "\",\"externalId\":\"ext\",\"userName\":\"bjensen\","
                "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\"},"
                "\"emails\":[{\"value\":\"b@w\",\"type\":\"work\",\"primary\":true},"
                "{\"value\":\"b@h\",\"type\":\"home\"}],\"active\":true,"
                "\"password\":\"secret\","
                "\"groups\":[{\"value\":\"" ID2 "\",\"display\":\"Admins\"}],"
                "\"" ENT
                "\":{\"department\":\"R\",\"manager\":{\"value\":\"" ID2 "\"}},"
                "\"meta\":{\"resourceType\":\"User\",\"version\":\"W/\\\"1\\\"\"}}";

static json_t *proj(const scim_resource_type_t *rt, const char *res,
                    const char *attrs, const char *excl)
{
    apr_array_header_t *a = NULL, *x = NULL;
    const char *err = NULL;

    if (attrs) {
        ck_assert_int_eq(scim_schema_attr_list(pool, rt, attrs, &a, &err),
                         APR_SUCCESS);
    }
    if (excl) {
        ck_assert_int_eq(scim_schema_attr_list(pool, rt, excl, &x, &err),
                         APR_SUCCESS);
    }
    return scim_schema_project(pool, rt, J(res), a, x);
}

START_TEST(project_default)
{
    json_t *r = proj(scim_schema_user(), full_user, NULL, NULL);

    ck_assert_ptr_null(json_object_get(r, "password"));
    ck_assert_ptr_nonnull(json_object_get(r, "groups"));
    ck_assert_ptr_nonnull(json_object_get(r, "meta"));
    ck_assert_ptr_nonnull(json_object_get(r, ENT));
    r = proj(scim_schema_user(), full_user, "", "");
    ck_assert_int_eq(json_object_size(r), 10);
}
END_TEST

START_TEST(project_attributes)
{
    const scim_resource_type_t *u = scim_schema_user();

    ck_assert_json_eq(proj(u, full_user, "userName", NULL),
                      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:"
                      "User\",\"" ENT "\"],\"id\":\"" ID1 "\",\"userName\":"
                      "\"bjensen\"}");
    ck_assert_json_eq(proj(u, full_user,
                           " USERNAME , name.givenName,"
                           "emails.value",
                           NULL),
                      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:"
                      "User\",\"" ENT "\"],\"id\":\"" ID1 "\",\"userName\":"
                      "\"bjensen\",\"name\":{\"givenName\":\"Barbara\"},"
                      "\"emails\":[{\"value\":\"b@w\"},{\"value\":\"b@h\"}]}");
    ck_assert_json_eq(proj(u, full_user, ENT ":manager.value", NULL),
                      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:"
                      "User\",\"" ENT "\"],\"id\":\"" ID1 "\",\"" ENT "\":{"
                      "\"manager\":{\"value\":\"" ID2 "\"}}}");
    ck_assert_json_eq(proj(u, full_user, ENT, NULL),
                      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:"
                      "User\",\"" ENT "\"],\"id\":\"" ID1 "\",\"" ENT "\":{"
                      "\"department\":\"R\",\"manager\":{\"value\":\"" ID2
                      "\"}}}");
    /* "never" stays hidden even when asked for; unknown names select
     * nothing; id is always there. */
    ck_assert_json_eq(proj(u, full_user, "password,nosuch,id", NULL),
                      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:"
                      "User\",\"" ENT "\"],\"id\":\"" ID1 "\"}");
    ck_assert_json_eq(proj(u, full_user,
                           "urn:ietf:params:scim:schemas:core:2.0:User:name",
                           NULL),
                      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"" ENT
                      "\"],\"id\":\"" ID1 "\",\"name\":{\"givenName\":\"Barbara\","
                      "\"familyName\":\"Jensen\"}}");
    ck_assert_json_eq(proj(u, full_user, "meta.version", NULL),
                      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:"
                      "User\",\"" ENT "\"],\"id\":\"" ID1 "\",\"meta\":{"
                      "\"version\":\"W/\\\"1\\\"\"}}");
}
END_TEST

START_TEST(project_excluded)
{
    const scim_resource_type_t *u = scim_schema_user();
    json_t *r;

    r = proj(u, full_user, NULL, "emails,groups,id," ENT);
    ck_assert_ptr_null(json_object_get(r, "emails"));
    ck_assert_ptr_null(json_object_get(r, "groups"));
    ck_assert_ptr_null(json_object_get(r, ENT));
    ck_assert_ptr_nonnull(json_object_get(r, "id"));
    ck_assert_ptr_nonnull(json_object_get(r, "userName"));
    r = proj(u, full_user, NULL,
             "name.familyName,emails.type,"
             "urn:ietf:params:scim:schemas:extension:"
             "enterprise:2.0:User:department");
    ck_assert_json_eq(json_object_get(r, "name"), "{\"givenName\":\"Barbara\"}");
    ck_assert_json_eq(json_object_get(r, "emails"),
                      "[{\"value\":\"b@w\",\"primary\":true},{\"value\":"
                      "\"b@h\"}]");
    ck_assert_json_eq(json_object_get(r, ENT),
                      "{\"manager\":{\"value\":\"" ID2 "\"}}");
}
END_TEST

START_TEST(project_group)
{
    const scim_resource_type_t *g = scim_schema_group();
    const char *grp = "{" GROUP ",\"id\":\"" ID2 "\",\"displayName\":\"Admins\","
                      "\"members\":[{\"value\":\"" ID1 "\",\"display\":\"b\"}],"
                      "\"meta\":{\"resourceType\":\"Group\"}}";
    apr_array_header_t *x;
    const char *err;
    scim_attr_ref_t members;

    /* Entra: GET /Groups?excludedAttributes=members */
    ck_assert_json_eq(proj(g, grp, NULL, "members"),
                      "{" GROUP ",\"id\":\"" ID2 "\",\"displayName\":\"Admins\","
                      "\"meta\":{\"resourceType\":\"Group\"}}");
    ck_assert_int_eq(resolve(g, "members", 0, &members), APR_SUCCESS);
    ck_assert_int_eq(scim_schema_attr_list(pool, g, "members", &x, &err),
                     APR_SUCCESS);
    ck_assert(!scim_schema_projection_wants(g, &members, NULL, x));
    ck_assert(scim_schema_projection_wants(g, &members, NULL, NULL));
    ck_assert_int_eq(scim_schema_attr_list(pool, g, "displayName", &x, &err),
                     APR_SUCCESS);
    ck_assert(!scim_schema_projection_wants(g, &members, x, NULL));
    ck_assert_int_eq(scim_schema_attr_list(pool, g, "members.value", &x, &err),
                     APR_SUCCESS);
    ck_assert(scim_schema_projection_wants(g, &members, x, NULL));
}
END_TEST

START_TEST(attr_list_errors)
{
    apr_array_header_t *a;
    const char *err = NULL;

    ck_assert_int_eq(scim_schema_attr_list(pool, scim_schema_user(),
                                           "userName,,name", &a, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(a->nelts, 2);
    ck_assert_int_eq(scim_schema_attr_list(pool, scim_schema_user(), NULL, &a,
                                           &err),
                     APR_SUCCESS);
    ck_assert_int_eq(a->nelts, 0);
    ck_assert_int_eq(scim_schema_attr_list(pool, scim_schema_user(),
                                           "userName,na'me", &a, &err),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "na'me"));
}
END_TEST

/* ---- discovery ---- */

START_TEST(service_provider_config)
{
    scim_spc_params_t prm = { "https://h/t/acme/scim/v2", NULL, 100, 1048576,
                              200 };
    json_t *s = scim_schema_service_provider_config(pool, &prm);

    ck_assert(!has_null(s));
    ck_assert_json_eq(json_object_get(s, "patch"), "{\"supported\":true}");
    ck_assert_json_eq(json_object_get(s, "bulk"),
                      "{\"supported\":true,\"maxOperations\":100,"
                      "\"maxPayloadSize\":1048576}");
    ck_assert_json_eq(json_object_get(s, "filter"),
                      "{\"supported\":true,\"maxResults\":200}");
    ck_assert_json_eq(json_object_get(s, "changePassword"),
                      "{\"supported\":false}");
    ck_assert_json_eq(json_object_get(s, "sort"), "{\"supported\":true}");
    ck_assert_json_eq(json_object_get(s, "etag"), "{\"supported\":true}");
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_array_get(json_object_get(s, "authenticationSchemes"),
                                                        0),
                                         "type")),
                     "oauthbearertoken");
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_array_get(json_object_get(s, "authenticationSchemes"),
                                                        1),
                                         "type")),
                     "httpbasic");
    ck_assert_str_eq(json_string_value(
                         json_array_get(json_object_get(s, "schemas"), 0)),
                     SCIM_URN_SERVICE_PROVIDER_CONFIG);
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_object_get(s, "meta"), "location")),
                     "https://h/t/acme/scim/v2/ServiceProviderConfig");
    ck_assert_ptr_null(json_object_get(s, "documentationUri"));

    prm.base_url = NULL;
    prm.documentation_uri = "https://example.com/doc";
    s = scim_schema_service_provider_config(pool, &prm);
    ck_assert_ptr_null(json_object_get(json_object_get(s, "meta"), "location"));
    ck_assert_ptr_nonnull(json_object_get(s, "documentationUri"));
}
END_TEST

/* Every attribute description is complete. */
static void check_attr_json(const json_t *a)
{
    static const char *const keys[] = {
        "name",      "type",       "multiValued", "description", "required",
        "caseExact", "mutability", "returned",    "uniqueness",  NULL
    };
    const char *const *k;
    const char *type = json_string_value(json_object_get(a, "type"));
    size_t i;
    json_t *s;

    for (k = keys; *k; k++) {
        ck_assert_msg(json_object_get(a, *k) != NULL, "%s lacks %s", dump(a), *k);
    }
    if (!strcmp(type, "complex")) {
        json_array_foreach(json_object_get(a, "subAttributes"), i, s)
        {
            check_attr_json(s);
        }
        ck_assert_int_gt(json_array_size(json_object_get(a, "subAttributes")), 0);
    }
    if (!strcmp(type, "reference")) {
        ck_assert_ptr_nonnull(json_object_get(a, "referenceTypes"));
    }
}

START_TEST(schemas_documents)
{
    json_t *l = scim_schema_schemas_list(pool, "https://h/scim/v2");
    json_t *res, *s, *a;
    size_t i, j;
    int saw_username = 0, saw_manager = 0, saw_members = 0;

    ck_assert(!has_null(l));
    ck_assert_int_eq(json_integer_value(json_object_get(l, "totalResults")), 3);
    res = json_object_get(l, "Resources");
    ck_assert_int_eq(json_array_size(res), 3);
    json_array_foreach(res, i, s)
    {
        ck_assert_str_eq(json_string_value(
                             json_array_get(json_object_get(s, "schemas"), 0)),
                         SCIM_URN_SCHEMA);
        json_array_foreach(json_object_get(s, "attributes"), j, a)
        {
            const char *n = json_string_value(json_object_get(a, "name"));

            check_attr_json(a);
            saw_username |= !strcmp(n, "userName");
            saw_manager |= !strcmp(n, "manager");
            saw_members |= !strcmp(n, "members");
        }
    }
    ck_assert(saw_username && saw_manager && saw_members);

    s = scim_schema_schema_resource(pool, ENT, NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(json_string_value(json_object_get(s, "id")), ENT);
    ck_assert_ptr_null(json_object_get(json_object_get(s, "meta"), "location"));
    s = scim_schema_schema_resource(pool, SCIM_URN_USER, "https://h");
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_object_get(s, "meta"), "location")),
                     "https://h/Schemas/" SCIM_URN_USER);
    ck_assert_ptr_null(scim_schema_schema_resource(pool, "urn:x", NULL));
    ck_assert_ptr_null(scim_schema_schema_resource(pool, NULL, NULL));
}
END_TEST

START_TEST(resource_types_documents)
{
    json_t *l = scim_schema_resource_types_list(pool, "https://h");
    json_t *u;

    ck_assert(!has_null(l));
    ck_assert_int_eq(json_integer_value(json_object_get(l, "totalResults")), 2);
    u = scim_schema_resource_type_resource(pool, "User", "https://h");
    ck_assert_json_eq(u,
                      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:"
                      "2.0:ResourceType\"],\"id\":\"User\",\"name\":\"User\","
                      "\"endpoint\":\"/Users\",\"description\":\"User "
                      "Account\",\"schema\":\"urn:ietf:params:scim:schemas:"
                      "core:2.0:User\",\"schemaExtensions\":[{\"schema\":"
                      "\"" ENT "\",\"required\":false}],\"meta\":{"
                      "\"resourceType\":\"ResourceType\",\"location\":"
                      "\"https://h/ResourceTypes/User\"}}");
    ck_assert_ptr_nonnull(scim_schema_resource_type_resource(pool, "group", NULL));
    ck_assert_ptr_null(scim_schema_resource_type_resource(pool, "x", NULL));
}
END_TEST

Suite *scim_schema_suite(void)
{
    Suite *s = suite_create("scim_schema");
    TCase *tc;

    tc = tcase_create("resolve");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, resolve_core);
    tcase_add_test(tc, resolve_common);
    tcase_add_test(tc, resolve_urn);
    tcase_add_test(tc, resolve_errors);
    tcase_add_test(tc, resolve_group);
    tcase_add_test(tc, obj_get_ci);
    tcase_add_test(tc, datetime);
    suite_add_tcase(s, tc);

    tc = tcase_create("normalize");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, norm_okta_create);
    tcase_add_test(tc, norm_entra_create);
    tcase_add_test(tc, norm_canonical_case);
    tcase_add_test(tc, norm_urn_qualified_keys);
    tcase_add_test(tc, norm_readonly_dropped);
    tcase_add_test(tc, norm_booleans);
    tcase_add_test(tc, norm_wrong_types);
    tcase_add_test(tc, norm_required);
    tcase_add_test(tc, norm_name_characters);
    tcase_add_test(tc, norm_schemas);
    tcase_add_test(tc, norm_unknown);
    tcase_add_test(tc, norm_duplicates);
    tcase_add_test(tc, norm_unassigned);
    tcase_add_test(tc, norm_multi_values);
    tcase_add_test(tc, norm_manager_forms);
    tcase_add_test(tc, norm_group_members);
    tcase_add_test(tc, norm_value_fragments);
    tcase_add_test(tc, norm_idempotent);
    suite_add_tcase(s, tc);

    tc = tcase_create("project");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, project_default);
    tcase_add_test(tc, project_attributes);
    tcase_add_test(tc, project_excluded);
    tcase_add_test(tc, project_group);
    tcase_add_test(tc, attr_list_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("discovery");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, service_provider_config);
    tcase_add_test(tc, schemas_documents);
    tcase_add_test(tc, resource_types_documents);
    suite_add_tcase(s, tc);
    return s;
}
