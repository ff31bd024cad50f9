/* Unit tests of scim_filter: parser, in-memory matching, SQL fragments,
 * sortBy and PATCH paths. test/unit/filter_sql_check.sh runs the SQL
 * against a real PostgreSQL. */

#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <check.h>
#include <jansson.h>

#include "scim_filter.h"
#include "scim_store_filter.h"
#include "scim_json.h"

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

#define ENT "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define ID1 "2819c223-7f76-453a-919d-413861904646"
#define ID2 "902c246b-6245-4190-8e05-00816be7344a"

static scim_filter_t *parse_rt(const scim_resource_type_t *rt, const char *text)
{
    scim_filter_t *f = NULL;
    const char *err = NULL;

    ck_assert_msg(scim_filter_parse(pool, rt, text, 0, 0, &f, &err) == APR_SUCCESS,
                  "rejected %s: %s", text, err);
    ck_assert_ptr_nonnull(f);
    return f;
}

static scim_filter_t *parse(const char *text)
{
    return parse_rt(scim_schema_user(), text);
}

static const char *parse_err(const char *text)
{
    scim_filter_t *f = NULL;
    const char *err = NULL;

    ck_assert_msg(scim_filter_parse(pool, scim_schema_user(), text, 256, 8, &f,
                                    &err)
                      == APR_EINVAL,
                  "accepted %s", text);
    ck_assert_ptr_null(f);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "invalid filter") == err, "message: %s", err);
    return err;
}

/* The AST as a compact string, for structure checks. */
static const char *show(const scim_filter_t *f)
{
    static const char *const opn[] = { "eq", "co", "sw", "ew", "gt",
                                       "ge", "lt", "le", "pr" };
    const char *name;

    switch (f->kind) {
    case SCIM_FILTER_AND:
        return apr_psprintf(pool, "(%s & %s)", show(f->left), show(f->right));
    case SCIM_FILTER_OR:
        return apr_psprintf(pool, "(%s | %s)", show(f->left), show(f->right));
    case SCIM_FILTER_NOT:
        return apr_psprintf(pool, "!%s", show(f->left));
    case SCIM_FILTER_VALUE_PATH:
        return apr_psprintf(pool, "%s[%s]", f->ref.attr->name, show(f->left));
    default:
        name = f->in_element ? f->ref.sub->name
                             : scim_schema_ref_name(pool, &f->ref);
        if (f->op == SCIM_OP_PR) {
            return apr_psprintf(pool, "%s pr", name);
        }
        return apr_psprintf(pool, "%s %s %s", name, opn[f->op],
                            f->lit == SCIM_LIT_TRUE        ? "T"
                                : f->lit == SCIM_LIT_FALSE ? "F"
                                                           : f->value);
    }
}

#define ck_shape(text, want) ck_assert_str_eq(show(parse(text)), want)

/* ---- parser ---- */

START_TEST(parse_precedence)
{
    ck_shape("title pr", "title pr");
    ck_shape("title pr or nickName pr and locale pr",
             "(title pr | (nickName pr & locale pr))");
    ck_shape("title pr and nickName pr or locale pr",
             "((title pr & nickName pr) | locale pr)");
    ck_shape("(title pr or nickName pr) and locale pr",
             "((title pr | nickName pr) & locale pr)");
    ck_shape("not (title pr) and locale pr", "(!title pr & locale pr)");
    ck_shape("not(title pr or locale pr)", "!(title pr | locale pr)");
    ck_shape("title pr and nickName pr and locale pr",
             "((title pr & nickName pr) & locale pr)");
    ck_shape("title pr or not (locale pr) and nickName pr",
             "(title pr | (!locale pr & nickName pr))");
    ck_shape("  ( ( title pr ) )  ", "title pr");
    ck_shape("title pr AND nickName pr Or locale pr",
             "((title pr & nickName pr) | locale pr)");
    ck_shape("NOT (title pr)", "!title pr");
}
END_TEST

START_TEST(parse_operators)
{
    ck_shape("userName eq \"bjensen\"", "userName eq bjensen");
    ck_shape("USERNAME EQ \"bjensen\"", "userName eq bjensen");
    ck_shape("userName ne \"x\"", "!userName eq x");
    ck_shape("name.familyName co \"O'Malley\"", "name.familyName co O'Malley");
    ck_shape("userName sw \"J\"", "userName sw J");
    ck_shape("userName ew \"n\"", "userName ew n");
    ck_shape("title pr", "title pr");
    ck_shape("meta.lastModified gt \"2011-05-13T04:42:34Z\"",
             "meta.lastModified gt 2011-05-13T04:42:34Z");
    ck_shape("meta.lastModified ge \"2011-05-13T04:42:34Z\"",
             "meta.lastModified ge 2011-05-13T04:42:34Z");
    ck_shape("meta.created lt \"2011-05-13T04:42:34+02:00\"",
             "meta.created lt 2011-05-13T04:42:34+02:00");
    ck_shape("meta.created le \"2011-05-13T04:42:34\"",
             "meta.created le 2011-05-13T04:42:34");
    ck_shape("active eq true", "active eq T");
    ck_shape("active eq False", "active eq F");
    ck_shape("active ne true", "!active eq T");
    ck_shape("userName gt \"a\" and userName le \"m\"",
             "(userName gt a & userName le m)");
    /* eq null is "not present", ne null is "present" */
    ck_shape("title eq null", "!title pr");
    ck_shape("title ne null", "title pr");
    ck_shape("emails eq null", "!emails pr");
    /* Complex multi-valued attributes compare their value. */
    ck_shape("emails co \"example.com\"", "emails.value co example.com");
    ck_shape("emails pr", "emails pr");
    ck_shape(ENT ":manager eq \"" ID1 "\"", ENT ":manager.value eq " ID1);
    ck_shape("urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"",
             "userName sw J");
    ck_shape(ENT ":employeeNumber eq \"701984\"",
             ENT ":employeeNumber eq 701984");
    ck_shape("department eq \"Sales\"", ENT ":department eq Sales");
    ck_shape("groups.display eq \"Admins\"", "groups.display eq Admins");
    ck_shape("id eq \"" ID1 "\"", "id eq " ID1);
    ck_shape("externalId eq \"00ujl29u0le5T6Aj10h7\"",
             "externalId eq 00ujl29u0le5T6Aj10h7");
    ck_shape("userName eq\"x\"", "userName eq x");
}
END_TEST

START_TEST(parse_value_paths)
{
    ck_shape("emails[type eq \"work\" and value co \"@example.com\"]",
             "emails[(type eq work & value co @example.com)]");
    ck_shape("emails[type eq \"work\"] or emails[primary eq true]",
             "(emails[type eq work] | emails[primary eq T])");
    ck_shape("emails[not (type eq \"work\")]", "emails[!type eq work]");
    ck_shape("addresses[type eq \"work\" and postalCode pr]",
             "addresses[(type eq work & postalCode pr)]");
    ck_shape("name[givenName eq \"Barbara\"]", "name[givenName eq Barbara]");
    ck_shape("emails[type eq \"work\"].value co \"x\"",
             "emails[(type eq work & value co x)]");
    ck_shape("EMAILS[TYPE EQ \"work\"]", "emails[type eq work]");
    ck_shape("userName eq \"a\" and emails[(type eq \"work\")]",
             "(userName eq a & emails[type eq work])");
    ck_assert_str_eq(show(parse_rt(scim_schema_group(),
                                   "members[value eq \"" ID1 "\"]")),
                     "members[value eq " ID1 "]");
    ck_assert_str_eq(show(parse_rt(scim_schema_group(),
                                   "members.value eq \"" ID1 "\"")),
                     "members.value eq " ID1);
    ck_assert_str_eq(show(parse_rt(scim_schema_group(),
                                   "displayName eq \"Admins\"")),
                     "displayName eq Admins");
}
END_TEST

START_TEST(parse_literals)
{
    scim_filter_t *f;

    f = parse("userName eq \"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00\"");
    ck_assert_str_eq(f->value, "a\"b\\c/d\n\t\xc3\xa9\xf0\x9f\x98\x80");
    f = parse("userName eq \"\xc3\xa9t\xc3\xa9\"");
    ck_assert_str_eq(f->value, "\xc3\xa9t\xc3\xa9");
    f = parse("userName eq \"\"");
    ck_assert_str_eq(f->value, "");
    f = parse("userName eq \"100%_done!\"");
    ck_assert_str_eq(f->value, "100%_done!");
    parse_err("userName eq \"a\\u0000b\"");
    parse_err("userName eq \"a\\ud83d\"");
    parse_err("userName eq \"a\\ude00\"");
    parse_err("userName eq \"a\\x\"");
    parse_err("userName eq \"a\\u12\"");
    parse_err("userName eq \"abc");
    parse_err("userName eq \"a\tb\"");
    parse_err("userName eq \"\xc3\"");
    parse_err("userName eq \"\xc0\xaf\"");
    parse_err("userName eq \"\xed\xa0\x80\"");
    parse_err("userName eq \"\xff\"");
    parse_err("userName eq bjensen");
    parse_err("userName eq 'bjensen'");
}
END_TEST

START_TEST(parse_errors)
{
    const char *e;

    e = parse_err("nosuch eq \"x\"");
    ck_assert_ptr_nonnull(strstr(e, "unknown attribute \"nosuch\""));
    ck_assert_ptr_nonnull(strstr(e, "character 1"));
    e = parse_err("userName eq \"x\" and nope pr");
    ck_assert_ptr_nonnull(strstr(e, "character 21"));
    parse_err("name.nosuch eq \"x\"");
    parse_err("urn:ietf:params:scim:schemas:extension:custom:2.0:User:x pr");
    parse_err("members pr"); /* a Group attribute on Users */
    parse_err("");
    parse_err("   ");
    parse_err("userName");
    parse_err("userName eq");
    parse_err("userName eq ");
    parse_err("userName xx \"a\"");
    parse_err("userName eqq \"a\"");
    parse_err("userName eq \"a\" junk");
    parse_err("userName eq \"a\" and");
    parse_err("userName eq \"a\" or or title pr");
    parse_err("(userName eq \"a\"");
    parse_err("userName eq \"a\")");
    parse_err("()");
    parse_err("not title pr");
    parse_err("emails[type eq \"work\"");
    parse_err("emails[type eq \"work\"]]");
    parse_err("emails[]");
    parse_err("emails[value eq \"a\" and foo pr]");
    parse_err("emails[emails[type pr]]");
    parse_err("emails[type eq \"w\"].nosuch eq \"x\"");
    parse_err("userName[type eq \"w\"]");
    parse_err("name.givenName[x pr]");
    parse_err("active gt true");
    parse_err("active co \"t\"");
    parse_err("active eq \"true\"");
    parse_err("active eq 1");
    parse_err("userName eq 42");
    parse_err("userName eq true");
    parse_err("userName gt null");
    parse_err("meta.created co \"2011\"");
    parse_err("meta.created gt \"yesterday\"");
    parse_err("meta.created gt \"2011-02-30T00:00:00Z\"");
    parse_err("meta.created gt 2011");
    parse_err("name eq \"Barbara\"");
    parse_err("meta eq \"x\"");
    parse_err("x509Certificates.value co \"MII\"");
    parse_err("password eq \"secret\"");
    parse_err("userName eq 01");
    parse_err("userName eq 1.");
    parse_err("userName eq -");
    parse_err("userName eq 1e");
}
END_TEST

START_TEST(parse_limits)
{
    char buf[400];
    const char *err = NULL;
    scim_filter_t *f = NULL;
    int i;

    /* Length. */
    memset(buf, ' ', sizeof(buf));
    memcpy(buf, "title pr", 8);
    buf[sizeof(buf) - 1] = '\0';
    ck_assert_int_eq(scim_filter_parse(pool, scim_schema_user(), buf, 256, 8,
                                       &f, &err),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "longer than 256"));
    ck_assert_int_eq(scim_filter_parse(pool, scim_schema_user(), buf, 0, 8, &f,
                                       &err),
                     APR_SUCCESS);

    /* Depth: parentheses and value paths. */
    ck_assert_int_eq(scim_filter_parse(pool, scim_schema_user(),
                                       "((((title pr))))", 0, 4, &f, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(scim_filter_parse(pool, scim_schema_user(),
                                       "(((((title pr)))))", 0, 4, &f, &err),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "nested too deeply"));
    ck_assert_int_eq(scim_filter_parse(pool, scim_schema_user(),
                                       "(((emails[type pr])))", 0, 4, &f, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(scim_filter_parse(pool, scim_schema_user(),
                                       "((((emails[type pr]))))", 0, 4, &f, &err),
                     APR_EINVAL);
    /* Without a limit, deep nesting is still refused (bounded recursion). */
    for (i = 0; i < 150; i++) {
        buf[i] = '(';
    }
    buf[150] = '\0';
    ck_assert_int_eq(scim_filter_parse(pool, scim_schema_user(), buf, 0, 0, &f,
                                       &err),
                     APR_EINVAL);
    /* A flat chain is fine up to SCIM_FILTER_MAX_TERMS comparisons; one
     * more is refused (the database compares every row with every term). */
    {
        char *s = "title pr";

        for (i = 1; i < SCIM_FILTER_MAX_TERMS; i++) {
            s = apr_pstrcat(pool, s,
                            i % 2 ? " and title pr" : " or nickName pr", NULL);
        }
        ck_assert_int_eq(scim_filter_parse(pool, scim_schema_user(), s, 0, 1,
                                           &f, &err),
                         APR_SUCCESS);
        ck_assert(scim_filter_match(f, J("{\"title\":\"x\"}")));
        s = apr_pstrcat(pool, s, " or emails[type pr]", NULL);
        ck_assert_int_eq(scim_filter_parse(pool, scim_schema_user(), s, 0, 1,
                                           &f, &err),
                         APR_EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "more than 32 comparisons"));
    }
}
END_TEST

/* ---- in-memory matching ---- */

static const char *
    bjensen = "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"" ENT
              "\"],"
              "\"id\":\"" ID1
              "\",\"externalId\":\"Ext-1\",\"userName\":\"bjensen\","
              "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"O'Malley\"},"
              "\"displayName\":\"Babs Jensen\",\"title\":\"\",\"active\":true,"
              "\"emails\":[{\"value\":\"bjensen@Example.com\",\"type\":\"work\","
              "\"primary\":true},{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
              "\"addresses\":[{\"type\":\"work\",\"postalCode\":\"91608\"}],"
              "\"groups\":[{\"value\":\"" ID2 "\",\"display\":\"Admins\","
              "\"type\":\"direct\"}],"
              "\"" ENT
              "\":{\"employeeNumber\":\"701984\",\"department\":\"100%_R&D\","
              "\"manager\":{\"value\":\"" ID2 "\"}},"
              "\"meta\":{\"resourceType\":\"User\",\"created\":"
              "\"2010-01-23T04:56:22Z\",\"lastModified\":\"2011-05-13T04:42:34.5Z\"}}";

static int m(const char *filter)
{
    return scim_filter_match(parse(filter), J(bjensen));
}

#define YES(f) ck_assert_msg(m(f), "should match: %s", f)
#define NO(f)  ck_assert_msg(!m(f), "should not match: %s", f)

START_TEST(match_strings)
{
    YES("userName eq \"bjensen\"");
    YES("userName eq \"BJENSEN\""); /* caseExact false */
    NO("externalId eq \"ext-1\""); /* caseExact true */
    YES("externalId eq \"Ext-1\"");
    YES("id eq \"" ID1 "\"");
    NO("id eq \"2819C223-7F76-453A-919D-413861904646\"");
    NO("id eq \"not-a-uuid\"");
    YES("name.familyName co \"'mal\"");
    YES("name.familyName sw \"o'\"");
    YES("name.familyName ew \"LEY\"");
    NO("name.familyName ew \"O'\"");
    YES("userName co \"\"");
    YES("userName gt \"Bj\"");
    YES("userName ge \"bjensen\"");
    NO("userName gt \"bjensen\"");
    YES("userName lt \"C\"");
    YES("userName le \"BJENSEN\"");
    NO("userName lt \"a\"");
    YES(ENT ":department co \"%_\"");
    NO(ENT ":department co \"%x\"");
    YES("department sw \"100%\"");
    YES("displayName ne \"Someone\"");
    NO("displayName ne \"babs jensen\"");
    YES("nickName ne \"x\""); /* absent: not equal */
    NO("nickName eq \"x\"");
    NO("nickName co \"\"");
    NO("nickName gt \"\"");
}
END_TEST

START_TEST(match_presence)
{
    YES("userName pr");
    NO("title pr"); /* "" is not present */
    NO("nickName pr");
    YES("emails pr");
    YES("name pr");
    NO("phoneNumbers pr");
    YES("emails.type pr");
    NO("emails.display pr");
    YES("title eq null");
    YES("nickName eq null");
    NO("userName eq null");
    YES("userName ne null");
    YES("groups pr");
    YES(ENT ":manager pr");
    YES(ENT ":manager.value pr");
    NO(ENT ":costCenter pr");
    YES("meta.created pr");
}
END_TEST

START_TEST(match_multi)
{
    YES("emails.value co \"jensen.org\"");
    YES("emails co \"jensen.org\"");
    YES("emails.type eq \"home\"");
    YES("emails.value ew \"example.COM\"");
    YES("emails.primary eq true");
    YES("emails.primary ne false");
    NO("emails.type eq \"other\"");
    YES("emails.type ne \"other\"");
    NO("emails.type ne \"home\""); /* ne: no value equals */
    YES("emails[type eq \"work\" and value co \"example\"]");
    NO("emails[type eq \"home\" and value co \"example\"]");
    YES("emails.type eq \"home\" and emails.value co \"example\"");
    YES("emails[type eq \"work\"].value sw \"bjensen\"");
    NO("emails[type eq \"home\"].value sw \"bjensen\"");
    YES("emails[not (type eq \"work\")]");
    YES("emails[primary eq true]");
    NO("emails[primary eq false]");
    NO("emails[primary pr and type eq \"home\"]");
    YES("addresses[type eq \"work\" and postalCode pr]");
    NO("phoneNumbers[type eq \"work\"]");
    YES("name[givenName eq \"barbara\"]");
    YES("groups.value eq \"" ID2 "\"");
    YES("groups eq \"" ID2 "\"");
    YES("groups[display eq \"admins\" and type eq \"direct\"]");
    YES(ENT ":manager.value eq \"" ID2 "\"");
    YES(ENT ":manager eq \"" ID2 "\"");
    YES("manager.value eq \"" ID2 "\"");
}
END_TEST

START_TEST(match_other_types)
{
    YES("active eq true");
    NO("active eq false");
    YES("active ne false");
    YES("not (active eq false)");
    YES("meta.lastModified gt \"2011-05-13T04:42:34Z\"");
    NO("meta.lastModified gt \"2011-05-13T04:42:35Z\"");
    YES("meta.lastModified eq \"2011-05-13T06:42:34.500+02:00\"");
    YES("meta.lastModified ge \"2011-05-13T04:42:34.5\"");
    YES("meta.created lt \"2011-01-01T00:00:00Z\"");
    YES("meta.created le \"2010-01-23T04:56:22Z\"");
    NO("meta.created lt \"2010-01-23T04:56:22Z\"");
    YES("meta.resourceType eq \"User\"");
    NO("meta.resourceType eq \"user\"");
}
END_TEST

START_TEST(match_logic)
{
    YES("userName eq \"x\" or userName eq \"bjensen\"");
    NO("userName eq \"x\" and userName eq \"bjensen\"");
    YES("not (userName eq \"x\")");
    NO("not (userName eq \"bjensen\")");
    YES("(userName eq \"x\" or active eq true) and title eq null");
    NO("userName eq \"x\" or active eq true and title pr");
    YES("userName eq \"bjensen\" or active eq false and title pr");
    ck_assert(!scim_filter_match(NULL, J("{}")));
    ck_assert(!scim_filter_match(parse("title pr"), NULL));
    /* Resources of odd shape never crash. */
    ck_assert(!scim_filter_match(parse("emails.value eq \"x\""),
                                 J("{\"emails\":\"x\"}")));
    ck_assert(!scim_filter_match(parse("emails[value eq \"x\"]"),
                                 J("{\"emails\":[1,\"x\",null]}")));
    ck_assert(!scim_filter_match(parse("name.givenName eq \"x\""),
                                 J("{\"name\":[\"x\"]}")));
    ck_assert(!scim_filter_match(parse("active eq true"),
                                 J("{\"active\":\"true\"}")));
    ck_assert(!scim_filter_match(parse("meta.created gt \"2000-01-01T00:00:00Z\""),
                                 J("{\"meta\":{\"created\":\"soon\"}}")));
    ck_assert(scim_filter_match(parse("USERNAME eq \"x\""),
                                J("{\"UserName\":\"X\"}")));
    ck_assert(!scim_filter_match(parse("userName eq \"x\""), J("[]")));
}
END_TEST

START_TEST(match_group)
{
    const scim_resource_type_t *g = scim_schema_group();
    json_t *grp = J("{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:"
                    "Group\"],\"id\":\"" ID2 "\",\"displayName\":\"Admins\","
                    "\"members\":[{\"value\":\"" ID1 "\",\"display\":"
                    "\"bjensen\"}]}");

    ck_assert(scim_filter_match(parse_rt(g, "displayName eq \"ADMINS\""), grp));
    ck_assert(scim_filter_match(parse_rt(g, "members.value eq \"" ID1 "\""), grp));
    ck_assert(
        scim_filter_match(parse_rt(g, "members[value eq \"" ID1 "\"]"), grp));
    ck_assert(
        !scim_filter_match(parse_rt(g, "members[value eq \"" ID2 "\"]"), grp));
    ck_assert(scim_filter_match(parse_rt(g, "members pr"), grp));
}
END_TEST

/* ---- SQL ---- */

static const char *sql_rt(const scim_resource_type_t *rt, const char *filter,
                          apr_array_header_t **params)
{
    const char *where = NULL, *err = NULL;
    const char *s;

    *params = apr_array_make(pool, 4, sizeof(const char *));
    ck_assert_msg(scim_filter_sql(pool, rt, parse_rt(rt, filter), *params,
                                  &where, &err)
                      == APR_SUCCESS,
                  "no SQL for %s: %s", filter, err);
    /* Every '%' is a placeholder, and there is one per parameter. */
    {
        int n = 0;

        for (s = where; (s = strchr(s, '%')); s++) {
            ck_assert_msg(s[1] == 's', "stray %% in %s", where);
            n++;
        }
        ck_assert_int_eq(n, (*params)->nelts);
    }
    return where;
}

static const char *sql(const char *filter, apr_array_header_t **params)
{
    return sql_rt(scim_schema_user(), filter, params);
}

#define P(i) APR_ARRAY_IDX(params, i, const char *)

START_TEST(sql_columns)
{
    apr_array_header_t *params;

    ck_assert_str_eq(sql("userName eq \"Bjensen\"", &params),
                     "(r.user_name_key = (SELECT scim_name_key_sql(%s)))");
    ck_assert_int_eq(params->nelts, 1);
    ck_assert_str_eq(P(0), "Bjensen");
    ck_assert_str_eq(sql("externalId eq \"E1\"", &params),
                     "(r.external_id IS NOT NULL AND r.external_id = %s)");
    ck_assert_str_eq(sql("id eq \"" ID1 "\"", &params), "(r.id = %s::uuid)");
    /* Not a (lower-case) UUID: compared as text, never a cast error. */
    ck_assert_str_eq(sql("id eq \"not-a-uuid\"", &params), "(r.id::text = %s)");
    ck_assert_str_eq(sql("id eq \"2819C223-7F76-453A-919D-413861904646\"",
                         &params),
                     "(r.id::text = %s)");
    ck_assert_str_eq(sql("id sw \"2819\"", &params),
                     "(r.id::text LIKE (SELECT like_escape(%s, '!')))");
    ck_assert_str_eq(P(0), "2819%");
    ck_assert_str_eq(sql("active eq false", &params), "(r.active = %s::boolean)");
    ck_assert_str_eq(P(0), "false");
    ck_assert_str_eq(sql("meta.lastModified gt \"2011-05-13t04:42:34z\"", &params),
                     "(r.updated_at > (SELECT %s::timestamptz))");
    ck_assert_str_eq(P(0), "2011-05-13T04:42:34Z");
    sql("meta.created le \"2011-05-13T04:42:34\"", &params);
    ck_assert_str_eq(P(0), "2011-05-13T04:42:34Z");
    sql("meta.created le \"2011-05-13T04:42:34.25-05:00\"", &params);
    ck_assert_str_eq(P(0), "2011-05-13T04:42:34.25-05:00");
    ck_assert_str_eq(sql("displayName pr", &params),
                     "(r.display_name IS NOT NULL AND r.display_name <> '')");
    /* userName compares by its name key, whatever the operator */
    ck_assert_str_eq(sql("userName gt \"m\"", &params),
                     "(r.user_name_key COLLATE \"C\" > (SELECT scim_name_key_sql(%s)))");
    ck_assert_str_eq(sql("userName sw \"a%\"", &params),
                     "(r.user_name_key LIKE (SELECT like_escape(replace(replace(replace("
                     "scim_name_key_sql(%s), '!', '!!'), chr(37), '!' || chr(37)), "
                     "'_', '!_') || chr(37), '!')))");
    ck_assert_str_eq(APR_ARRAY_IDX(params, params->nelts - 1, const char *),
                     "a%");
    ck_assert_str_eq(sql("userName ew \"x\"", &params),
                     "(r.user_name_key LIKE (SELECT like_escape(chr(37) || replace(replace(replace("
                     "scim_name_key_sql(%s), '!', '!!'), chr(37), '!' || chr(37)), "
                     "'_', '!_'), '!')))");
    ck_assert_ptr_nonnull(strstr(sql("userName co \"x\"", &params),
                                 "LIKE (SELECT like_escape(chr(37) || replace("));
    ck_assert_str_eq(sql("meta.resourceType eq \"User\"", &params),
                     "('User'::text = %s)");
    ck_assert_str_eq(sql_rt(scim_schema_group(), "displayName eq \"Admins\"",
                            &params),
                     "(r.display_name_key = (SELECT scim_name_key_sql(%s)))");
    /* a User's displayName is no unique name: plain case folding */
    ck_assert_str_eq(sql("displayName eq \"Babs\"", &params),
                     "(r.display_name IS NOT NULL AND "
                     "lower(upper(r.display_name)) = (SELECT lower(upper(%s))))");
}
END_TEST

START_TEST(sql_documents)
{
    apr_array_header_t *params;

    ck_assert_str_eq(sql("title eq \"Boss\"", &params),
                     "((r.doc->>'title') IS NOT NULL AND "
                     "lower(upper((r.doc->>'title'))) = (SELECT lower(upper(%s))))");
    ck_assert_str_eq(sql("name.familyName co \"100%_!x\"", &params),
                     "(((r.doc->'name')->>'familyName') IS NOT NULL AND "
                     "lower(upper(((r.doc->'name')->>'familyName'))) LIKE "
                     "(SELECT like_escape(lower(upper(%s)), '!')))");
    ck_assert_str_eq(P(0), "%100!%!_!!x%");
    sql("name.familyName ew \"_\"", &params);
    ck_assert_str_eq(P(0), "%!_");
    ck_assert_str_eq(sql(ENT ":manager.value eq \"" ID1 "\"", &params),
                     "((((r.doc->'" ENT "')->'manager')->>'value') IS NOT "
                     "NULL AND lower(upper((((r.doc->'" ENT "')->'manager')"
                     "->>'value'))) = (SELECT lower(upper(%s))))");
    ck_assert_str_eq(sql("emails.value eq \"a@b\"", &params),
                     "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN "
                     "jsonb_typeof((r.doc->'emails')) = 'array' THEN "
                     "(r.doc->'emails') END) AS e(v) WHERE ((e.v->>'value') "
                     "IS NOT NULL AND lower(upper((e.v->>'value'))) = "
                     "(SELECT lower(upper(%s)))))");
    ck_assert_str_eq(sql("emails.primary eq true", &params),
                     "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN "
                     "jsonb_typeof((r.doc->'emails')) = 'array' THEN "
                     "(r.doc->'emails') END) AS e(v) WHERE ((e.v->'primary') "
                     "IS NOT NULL AND (e.v->'primary') = %s::jsonb))");
    ck_assert_str_eq(sql("emails pr", &params),
                     "((r.doc->'emails') IS NOT NULL AND (r.doc->'emails') NOT "
                     "IN ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, "
                     "'{}'::jsonb))");
    ck_assert_str_eq(sql("name[givenName eq \"B\"]", &params),
                     "(COALESCE(jsonb_typeof((r.doc->'name')) = 'object', "
                     "FALSE) AND (((r.doc->'name')->>'givenName') IS NOT NULL "
                     "AND lower(upper(((r.doc->'name')->>'givenName'))) = "
                     "(SELECT lower(upper(%s)))))");
}
END_TEST

START_TEST(sql_logic_and_params_order)
{
    apr_array_header_t *params;
    const char *s;

    s = sql("userName eq \"a\" or title eq \"b\" and not (nickName co \"c\") "
            "or emails[type eq \"d\" and value sw \"e\"]",
            &params);
    ck_assert_int_eq(params->nelts, 5);
    ck_assert_str_eq(P(0), "a");
    ck_assert_str_eq(P(1), "b");
    ck_assert_str_eq(P(2), "%c%");
    ck_assert_str_eq(P(3), "d");
    ck_assert_str_eq(P(4), "e%");
    ck_assert_ptr_nonnull(strstr(s, "(NOT ("));
    ck_assert(s[0] == '(');
    s = sql("userName eq \"a\" and userName eq \"b\" and userName eq \"c\" and "
            "userName eq \"d\"",
            &params);
    ck_assert_int_eq(params->nelts, 4);
    ck_assert_str_eq(P(0), "a");
    ck_assert_str_eq(P(3), "d");
    ck_assert_str_eq(s,
                     "((r.user_name_key = (SELECT scim_name_key_sql(%s))) AND "
                     "(r.user_name_key = (SELECT scim_name_key_sql(%s))) AND "
                     "(r.user_name_key = (SELECT scim_name_key_sql(%s))) AND "
                     "(r.user_name_key = (SELECT scim_name_key_sql(%s))))");
    /* ne is NOT eq, two-valued. */
    ck_assert_str_eq(sql("title ne \"x\"", &params),
                     "(NOT ((r.doc->>'title') IS NOT NULL AND "
                     "lower(upper((r.doc->>'title'))) = (SELECT lower(upper(%s)))))");
}
END_TEST

START_TEST(sql_no_request_data)
{
    static const char *const evil[] = { "'; DROP TABLE accounts; --",
                                        "%s%s%s",
                                        "\\' OR 1=1 --",
                                        "$1",
                                        "%%",
                                        "e.v",
                                        ")) OR TRUE --",
                                        NULL };
    const char *const *e;
    apr_array_header_t *params;

    for (e = evil; *e; e++) {
        json_t *lit = json_string(*e);
        char *q = json_dumps(lit, JSON_ENCODE_ANY);
        const char *f = apr_psprintf(pool,
                                     "userName eq %s or title co %s or "
                                     "emails[value sw %s] or id eq %s",
                                     q, q, q, q);
        const char *s = sql(f, &params);

        ck_assert_msg(strstr(s, *e) == NULL || !strcmp(*e, "e.v"),
                      "literal in SQL: %s", s);
        ck_assert_int_eq(params->nelts, 4);
        ck_assert_str_eq(P(0), *e);
        free(q);
        json_decref(lit);
    }
}
END_TEST

START_TEST(sql_membership)
{
    apr_array_header_t *params;
    const char *s;

    s = sql("groups.value eq \"" ID2 "\"", &params);
    ck_assert_str_eq(s,
                     "EXISTS (SELECT 1 FROM group_members m JOIN groups g "
                     "ON g.tenant_id = m.tenant_id AND g.id = m.group_id "
                     "WHERE m.tenant_id = r.tenant_id AND m.account_id = "
                     "r.id AND (m.group_id = %s::uuid))");
    s = sql("groups[display co \"adm\" and value eq \"x\"]", &params);
    ck_assert_ptr_nonnull(strstr(s, "lower(upper(g.display_name)) LIKE"));
    ck_assert_ptr_nonnull(
        strstr(s, "lower(upper(m.group_id::text)) = (SELECT lower(upper(%s)))"));
    /* groups.value is not caseExact: any-case UUIDs use the uuid type. */
    s = sql("groups.value eq \"A1111111-1111-4111-8111-111111111111\"", &params);
    ck_assert_ptr_nonnull(strstr(s, "(m.group_id = %s::uuid)"));
    ck_assert_str_eq(P(0), "a1111111-1111-4111-8111-111111111111");
    s = sql("groups pr", &params);
    ck_assert_int_eq(params->nelts, 0);
    ck_assert_ptr_nonnull(strstr(s, "EXISTS (SELECT 1 FROM group_members m"));
    s = sql_rt(scim_schema_group(), "members.value eq \"" ID1 "\"", &params);
    ck_assert_str_eq(s,
                     "EXISTS (SELECT 1 FROM group_members m JOIN accounts "
                     "a ON a.tenant_id = m.tenant_id AND a.id = "
                     "m.account_id WHERE m.tenant_id = r.tenant_id AND "
                     "m.group_id = r.id AND (m.account_id = %s::uuid))");
    s = sql_rt(scim_schema_group(), "members[display sw \"b\"]", &params);
    ck_assert_ptr_nonnull(
        strstr(s, "lower(upper(COALESCE(a.display_name, a.user_name))) LIKE"));
    s = sql_rt(scim_schema_group(), "not (members pr)", &params);
    ck_assert_ptr_nonnull(strstr(s, "(NOT EXISTS (SELECT 1 FROM group_members"));
}
END_TEST

START_TEST(sql_unsupported)
{
    const char *where, *err;
    apr_array_header_t *params = apr_array_make(pool, 2, sizeof(char *));

    ck_assert_int_eq(scim_filter_sql(pool, scim_schema_user(),
                                     parse("meta.version eq \"W/1\""), params,
                                     &where, &err),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "meta.version"));
    ck_assert_int_eq(scim_filter_sql(pool, scim_schema_user(),
                                     parse("userName eq \"a\" and "
                                           "groups.$ref pr"),
                                     params, &where, &err),
                     APR_EINVAL);
    /* Nothing left behind in params on failure. */
    ck_assert_int_eq(params->nelts, 0);
    ck_assert_int_eq(scim_filter_sql(pool, scim_schema_user(),
                                     parse("meta.location pr"), params, &where,
                                     &err),
                     APR_EINVAL);
}
END_TEST

START_TEST(sort_sql)
{
    const char *o, *err;

    ck_assert_int_eq(scim_filter_sort_sql(pool, scim_schema_user(), "userName",
                                          0, &o, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(o,
                     "lower(upper(r.user_name)) COLLATE \"C\" ASC NULLS "
                     "LAST");
    ck_assert_int_eq(scim_filter_sort_sql(pool, scim_schema_user(),
                                          "meta.created", 1, &o, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(o, "r.created_at DESC NULLS LAST");
    ck_assert_int_eq(scim_filter_sort_sql(pool, scim_schema_user(),
                                          "externalId", 0, &o, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(o, "r.external_id COLLATE \"C\" ASC NULLS LAST");
    ck_assert_int_eq(scim_filter_sort_sql(pool, scim_schema_user(),
                                          "name.familyName", 0, &o, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(o,
                     "lower(upper(((r.doc->'name')->>'familyName'))) "
                     "COLLATE \"C\" ASC NULLS LAST");
    ck_assert_int_eq(scim_filter_sort_sql(pool, scim_schema_user(), "emails", 0,
                                          &o, &err),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(o, "ORDER BY COALESCE(e.v->'primary'"));
    ck_assert_int_eq(scim_filter_sort_sql(pool, scim_schema_user(), "id", 0, &o,
                                          &err),
                     APR_SUCCESS);
    ck_assert_int_eq(scim_filter_sort_sql(pool, scim_schema_group(),
                                          "displayName", 1, &o, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(o,
                     "lower(upper(r.display_name)) COLLATE \"C\" DESC "
                     "NULLS LAST");

    ck_assert_int_eq(scim_filter_sort_sql(pool, scim_schema_user(), "nosuch", 0,
                                          &o, &err),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "unknown"));
    ck_assert_int_eq(scim_filter_sort_sql(pool, scim_schema_user(), "name", 0,
                                          &o, &err),
                     APR_EINVAL);
    ck_assert_int_eq(scim_filter_sort_sql(pool, scim_schema_user(), "groups", 0,
                                          &o, &err),
                     APR_EINVAL);
    ck_assert_int_eq(scim_filter_sort_sql(pool, scim_schema_user(), "password",
                                          0, &o, &err),
                     APR_EINVAL);
    ck_assert_int_eq(scim_filter_sort_sql(pool, scim_schema_user(),
                                          "meta.version", 0, &o, &err),
                     APR_EINVAL);
    ck_assert_int_eq(scim_filter_sort_sql(pool, scim_schema_user(), NULL, 0, &o,
                                          &err),
                     APR_EINVAL);
    ck_assert_int_eq(scim_filter_sort_sql(pool, scim_schema_user(),
                                          "userName'; --", 0, &o, &err),
                     APR_EINVAL);
}
END_TEST

/* ---- PATCH paths ---- */

static scim_path_t path_ok(const scim_resource_type_t *rt, const char *text)
{
    scim_path_t p;
    const char *err = NULL;

    ck_assert_msg(scim_path_parse(pool, rt, text, 0, 0, &p, &err) == APR_SUCCESS,
                  "rejected path %s: %s", text, err);
    return p;
}

static void path_bad(const scim_resource_type_t *rt, const char *text)
{
    scim_path_t p;
    const char *err = NULL;

    ck_assert_msg(scim_path_parse(pool, rt, text, 0, 0, &p, &err) == APR_EINVAL,
                  "accepted path %s", text);
    ck_assert_ptr_nonnull(err);
}

START_TEST(paths)
{
    const scim_resource_type_t *u = scim_schema_user();
    const scim_resource_type_t *g = scim_schema_group();
    scim_path_t p;

    p = path_ok(u, "userName");
    ck_assert_str_eq(p.ref.attr->name, "userName");
    ck_assert_ptr_null(p.filter);
    p = path_ok(u, "name.givenName");
    ck_assert_str_eq(p.ref.sub->name, "givenName");
    p = path_ok(u, "emails[type eq \"work\"].value");
    ck_assert_str_eq(p.ref.attr->name, "emails");
    ck_assert_str_eq(p.ref.sub->name, "value");
    ck_assert_str_eq(show(p.filter), "type eq work");
    ck_assert(scim_filter_match(p.filter, J("{\"type\":\"Work\"}")));
    ck_assert(!scim_filter_match(p.filter, J("{\"type\":\"home\"}")));
    p = path_ok(u, "addresses[type eq \"work\"].streetAddress");
    ck_assert_str_eq(p.ref.sub->name, "streetAddress");
    p = path_ok(u, "emails[type eq \"work\" and primary eq true]");
    ck_assert_ptr_null(p.ref.sub);
    p = path_ok(u, ENT ":manager");
    ck_assert_str_eq(p.ref.attr->name, "manager");
    ck_assert_str_eq(p.ref.schema->id, ENT);
    p = path_ok(u, ENT);
    ck_assert_ptr_null(p.ref.attr);
    p = path_ok(u, "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName");
    ck_assert_str_eq(p.ref.sub->name, "familyName");
    p = path_ok(u, "manager");
    ck_assert_str_eq(p.ref.schema->id, ENT);
    p = path_ok(g, "members[value eq \"" ID1 "\"]");
    ck_assert_str_eq(p.ref.attr->name, "members");
    ck_assert(scim_filter_match(p.filter, J("{\"value\":\"" ID1 "\"}")));
    p = path_ok(g, "Members");
    ck_assert_str_eq(p.ref.attr->name, "members");

    path_bad(u, "");
    path_bad(u, "nosuch");
    path_bad(u, "name.nosuch");
    path_bad(u, "userName[type eq \"x\"]");
    path_bad(u, "emails[type eq \"x\"");
    path_bad(u, "emails[type eq]");
    path_bad(u, "emails[nosuch eq \"x\"]");
    path_bad(u, "emails[type eq \"work\"].nosuch");
    path_bad(u, "emails[type eq \"work\"]x");
    path_bad(u, "emails[type eq \"work\"].value.x");
    path_bad(u, "userName ");
    path_bad(u, "user name");
    path_bad(g, "userName");
    path_bad(u, "urn:ietf:params:scim:schemas:extension:custom:2.0:User:x");
}
END_TEST

Suite *scim_filter_suite(void)
{
    Suite *s = suite_create("scim_filter");
    TCase *tc;

    tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, parse_precedence);
    tcase_add_test(tc, parse_operators);
    tcase_add_test(tc, parse_value_paths);
    tcase_add_test(tc, parse_literals);
    tcase_add_test(tc, parse_errors);
    tcase_add_test(tc, parse_limits);
    suite_add_tcase(s, tc);

    tc = tcase_create("match");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, match_strings);
    tcase_add_test(tc, match_presence);
    tcase_add_test(tc, match_multi);
    tcase_add_test(tc, match_other_types);
    tcase_add_test(tc, match_logic);
    tcase_add_test(tc, match_group);
    suite_add_tcase(s, tc);

    tc = tcase_create("sql");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sql_columns);
    tcase_add_test(tc, sql_documents);
    tcase_add_test(tc, sql_logic_and_params_order);
    tcase_add_test(tc, sql_no_request_data);
    tcase_add_test(tc, sql_membership);
    tcase_add_test(tc, sql_unsupported);
    tcase_add_test(tc, sort_sql);
    suite_add_tcase(s, tc);

    tc = tcase_create("path");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, paths);
    suite_add_tcase(s, tc);
    return s;
}
