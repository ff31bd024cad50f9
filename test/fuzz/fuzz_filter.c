/* libFuzzer target: the SCIM filter parser, the SQL compiler, the
 * in-memory matcher, the sortBy compiler and the PATCH path parser.
 *
 * The first byte picks Users or Groups; the rest is the filter text. Each
 * filter that parses is matched against a sample resource and compiled to
 * SQL, and the SQL is checked: every '%' is a "%s" placeholder, one per
 * parameter, and no parameter text appears in the SQL (a violation aborts,
 * so the fuzzer reports it).
 *
 * Every error message must be able to go into a JSON error body (valid
 * UTF-8), since the SCIM error response quotes it.
 * Build and run: see test/fuzz/README.md (make fuzz).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "fuzz_util.h"
#include "scim_filter.h"
#include "scim_store_filter.h"
#include "scim_json.h"

static apr_pool_t *root;
static json_t *user, *group;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    root = fuzz_root();
    user = json_loads("{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
                      "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
                      "\"id\":\"2819c223-7f76-453a-919d-413861904646\",\"userName\":"
                      "\"bjensen\",\"name\":{\"givenName\":\"Barbara\"},\"active\":true,"
                      "\"emails\":[{\"value\":\"b@example.com\",\"type\":\"work\","
                      "\"primary\":true}],\"groups\":[{\"value\":\"g\",\"display\":\"A\"}],"
                      "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{"
                      "\"manager\":{\"value\":\"m\"}},\"meta\":{\"created\":"
                      "\"2020-01-01T00:00:00Z\",\"lastModified\":\"2021-01-01T00:00:00Z\","
                      "\"resourceType\":\"User\"}}",
                      0, NULL);
    group = json_loads("{\"displayName\":\"Admins\",\"members\":[{\"value\":"
                       "\"2819c223-7f76-453a-919d-413861904646\"}]}",
                       0, NULL);
    return 0;
}

static void check_sql(const char *sql, const apr_array_header_t *params)
{
    const char *s;
    int n = 0, i;

    for (s = sql; (s = strchr(s, '%')); s++) {
        if (s[1] != 's') {
            abort();
        }
        n++;
    }
    if (n != params->nelts) {
        abort();
    }
    for (i = 0; i < params->nelts; i++) {
        const char *v = APR_ARRAY_IDX(params, i, const char *);

        /* Long enough not to occur in the SQL by chance. */
        if (strlen(v) >= 12 && strstr(sql, v)) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const scim_resource_type_t *rt;
    scim_filter_t *f = NULL;
    scim_path_t path;
    const char *text, *err = NULL, *sql = NULL;
    apr_array_header_t *params;

    if (size < 1) {
        return 0;
    }
    apr_pool_create(&p, root);
    rt = data[0] & 1 ? scim_schema_group() : scim_schema_user();
    text = apr_pstrmemdup(p, (const char *)data + 1, size - 1);

    if (scim_filter_parse(p, rt, text, 4096, 16, &f, &err) == APR_SUCCESS) {
        scim_filter_match(f, data[0] & 1 ? group : user);
        params = apr_array_make(p, 4, sizeof(const char *));
        if (scim_filter_sql(p, rt, f, params, &sql, &err) == APR_SUCCESS) {
            check_sql(sql, params);
        }
        else {
            FUZZ_ASSERT(params->nelts == 0);
            fuzz_check_message(err);
        }
    }
    else {
        fuzz_check_message(err);
    }
    if (scim_path_parse(p, rt, text, 1024, 8, &path, &err) == APR_SUCCESS) {
        if (path.filter) {
            scim_filter_match(path.filter, user);
        }
    }
    else {
        fuzz_check_message(err);
    }
    if (scim_filter_sort_sql(p, rt, text, data[0] & 2, &sql, &err)
        == APR_SUCCESS) {
        check_sql(sql, apr_array_make(p, 1, sizeof(const char *)));
    }
    else {
        fuzz_check_message(err);
    }
    apr_pool_destroy(p);
    return 0;
}
