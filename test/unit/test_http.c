/* Unit tests of the request parsers (scim_http) and of the helpers they and
 * every error message rely on: strict UTF-8 and scim_util_quote. */

#include <check.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "scim_http.h"
#include "scim_util.h"
#include "unit_suites.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* ---- strict UTF-8 ---- */

static const char *const utf8_bad[] = {
    "\xFF",
    "\xC0\xAF",
    "\xC1\xBF",
    "\xE0\x80\xAF",
    "\xF0\x80\x80\xAF",
    "\xE2\x82",
    "\xE2",
    "\xED\xA0\x80",
    "\xED\xBF\xBF",
    "\xF4\x90\x80\x80",
    "\xF5\x80\x80\x80",
    "\x80",
    "a\xBF",
    "\xC3\x28",
    "\xF0\x9F\x98",
};

START_TEST(utf8_rejects)
{
    const char *s = utf8_bad[_i];

    ck_assert_int_eq(scim_utf8_valid(s, strlen(s)), 0);
}
END_TEST

START_TEST(utf8_accepts)
{
    static const char *const good[] = { "",
                                        "abc",
                                        "\xC3\xA9",
                                        "\xE2\x82\xAC",
                                        "\xF0\x9F\x98\x80",
                                        "\xF4\x8F\xBF\xBF",
                                        "\xEE\x80\x80",
                                        "\xEF\xBF\xBF" };
    size_t i;
    unsigned int cp = 0;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_msg(scim_utf8_valid(good[i], strlen(good[i])), "%zu", i);
    }
    ck_assert_uint_eq(scim_utf8_next("\xF4\x8F\xBF\xBF", 4, &cp), 4);
    ck_assert_uint_eq(cp, 0x10FFFF);
    /* a NUL is not text */
    ck_assert_int_eq(scim_utf8_valid("a\0b", 3), 0);
}
END_TEST

/* ---- scim_util_quote ---- */

START_TEST(quote_sanitises)
{
    ck_assert_str_eq(scim_util_quote(pool, NULL, 5, 10), "");
    ck_assert_str_eq(scim_util_quote(pool, "abc", 3, 10), "abc");
    ck_assert_str_eq(scim_util_quote(pool, "\xFF", 1, 10), "\\xFF");
    ck_assert_str_eq(scim_util_quote(pool, "a\xC0\xAFz", 4, 20), "a\\xC0\\xAFz");
    ck_assert_str_eq(scim_util_quote(pool, "\xE2\x82", 2, 20), "\\xE2\\x82");
    ck_assert_str_eq(scim_util_quote(pool, "\xED\xA0\x80", 3, 20),
                     "\\xED\\xA0\\x80");
    ck_assert_str_eq(scim_util_quote(pool, "a\nb\x7f", 4, 30),
                     "a\\u000Ab\\u007F");
    ck_assert_str_eq(scim_util_quote(pool, "x\xE2\x80\xAEy", 5, 30), "x\\u202Ey");
    ck_assert_str_eq(scim_util_quote(pool, "\xC2\x85", 2, 30), "\\u0085");
    ck_assert_str_eq(scim_util_quote(pool, "caf\xC3\xA9", 5, 30), "caf\xC3\xA9");
    ck_assert_str_eq(scim_util_quote(pool, "a\0b", 3, 30), "a\\u0000b");
}
END_TEST

START_TEST(quote_cuts_at_character_boundary)
{
    char in[65];
    const char *q;

    /* 63 ASCII + "é": cut at 64 must not split the "é" */
    memset(in, 'a', 63);
    memcpy(in + 63, "\xC3\xA9", 2);
    q = scim_util_quote(pool, in, 65, 64);
    ck_assert_uint_eq(strlen(q), 66);
    ck_assert_str_eq(q + 63, "...");
    ck_assert(scim_utf8_valid(q, strlen(q)));
    /* exactly fitting: no "..." */
    q = scim_util_quote(pool, in, 65, 65);
    ck_assert_uint_eq(strlen(q), 65);
    /* an escape is never cut in half */
    q = scim_util_quote(pool, "ab\xFF", 3, 4);
    ck_assert_str_eq(q, "ab...");
    q = scim_util_quote(pool, "\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 8, 7);
    ck_assert_str_eq(q, "\xF0\x9F\x98\x80...");
    ck_assert_str_eq(scim_util_quote(pool, "abc", 3, 0), "...");
}
END_TEST

START_TEST(quote_output_always_valid)
{
    /* every byte value, alone and in pairs: output is valid UTF-8, without
     * C0/C1 controls, at most max + 3 bytes */
    unsigned int a, b;

    for (a = 0; a < 256; a++) {
        for (b = 0; b < 256; b += 7) {
            char in[3] = { (char)a, (char)b, 'z' };
            const char *q = scim_util_quote(pool, in, 3, 9);
            apr_size_t i, n = strlen(q);

            ck_assert(n <= 12);
            ck_assert(scim_utf8_valid(q, n));
            for (i = 0; i < n; i++) {
                ck_assert((unsigned char)q[i] >= 0x20 && q[i] != 0x7f);
            }
        }
    }
}
END_TEST

/* ---- query strings ---- */

static apr_status_t query(const char *args, apr_table_t **t, const char **err)
{
    *err = NULL;
    return scim_http_parse_query(pool, args, t, err);
}

START_TEST(query_decodes)
{
    apr_table_t *t;
    const char *err;

    ck_assert_int_eq(query("filter=userName%20eq%20%22a+b%22&count=5&x&&startIndex=",
                           &t, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(apr_table_get(t, "filter"), "userName eq \"a b\"");
    ck_assert_str_eq(apr_table_get(t, "count"), "5");
    ck_assert_str_eq(apr_table_get(t, "x"), "");
    ck_assert_str_eq(apr_table_get(t, "startIndex"), "");
    ck_assert_int_eq(apr_table_elts(t)->nelts, 4);
    ck_assert_int_eq(query(NULL, &t, &err), APR_SUCCESS);
    ck_assert_int_eq(apr_table_elts(t)->nelts, 0);
    ck_assert_int_eq(query("a=%C3%A9%F0%9F%98%80", &t, &err), APR_SUCCESS);
    ck_assert_str_eq(apr_table_get(t, "a"), "\xC3\xA9\xF0\x9F\x98\x80");
    ck_assert_int_eq(query("a==b", &t, &err), APR_SUCCESS);
    ck_assert_str_eq(apr_table_get(t, "a"), "=b");
}
END_TEST

static const char *const bad_queries[] = {
    "attributes=%FF", "sortBy=%FF", "%FF=1&%FF=2",
    "a=%C0%AF",       "a=%E2%82",   "a=%ED%A0%80",
    "a=%F4%90%80%80", "%E2%82=1",   "a=%",
    "a=%4",           "a=%G0",      "a=%00",
    "%00=a",          "a=1&a=2",    "filter=a&FILTER=b",
    "a=1&b=2&a",      "a=\xFF",     "\xC3=1",
    "a=%c3",
};

START_TEST(query_rejects)
{
    apr_table_t *t;
    const char *err = NULL;

    ck_assert_int_eq(query(bad_queries[_i], &t, &err), APR_EINVAL);
    ck_assert_ptr_nonnull(err);
    /* the message is safe to quote anywhere: ASCII, printable */
    ck_assert(scim_utf8_valid(err, strlen(err)));
    for (; *err; err++) {
        ck_assert((unsigned char)*err >= 0x20 && (unsigned char)*err < 0x7f);
    }
}
END_TEST

START_TEST(query_limits)
{
    apr_table_t *t;
    const char *err;
    char *args = "";
    int i;

    for (i = 0; i < SCIM_HTTP_MAX_PARAMS; i++) {
        args = apr_psprintf(pool, "%s%sp%d=%d", args, i ? "&" : "", i, i);
    }
    ck_assert_int_eq(query(args, &t, &err), APR_SUCCESS);
    args = apr_pstrcat(pool, args, "&one=more", NULL);
    ck_assert_int_eq(query(args, &t, &err), APR_EINVAL);
    /* a long name in a duplicate message is cut */
    args = apr_pstrcat(pool, "n", apr_psprintf(pool, "%0500d", 0), "=1&n",
                       apr_psprintf(pool, "%0500d", 0), "=2", NULL);
    ck_assert_int_eq(query(args, &t, &err), APR_EINVAL);
    ck_assert(strlen(err) < 200);
}
END_TEST

/* ---- entity tags ---- */

START_TEST(etags_parse)
{
    const char **tags, *err;
    int any;

    ck_assert_int_eq(scim_http_parse_etags(pool, "W/\"3-ab\"", &tags, &any, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(any, 0);
    ck_assert_str_eq(tags[0], "3-ab");
    ck_assert_ptr_null(tags[1]);
    ck_assert_int_eq(scim_http_parse_etags(pool, " \"a\" ,W/\"b\",, \"\" ",
                                           &tags, &any, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(tags[0], "a");
    ck_assert_str_eq(tags[1], "b");
    ck_assert_str_eq(tags[2], "");
    ck_assert_ptr_null(tags[3]);
    ck_assert_int_eq(scim_http_parse_etags(pool, " * ", &tags, &any, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(any, 1);
    ck_assert_ptr_null(tags);
    ck_assert_int_eq(scim_http_parse_etags(pool, "\"\xC3\xA9\"", &tags, &any,
                                           &err),
                     APR_SUCCESS);
    ck_assert_str_eq(tags[0], "\xC3\xA9");
}
END_TEST

static const char *const bad_etags[] = {
    "\"\xFF\"",
    "\"\xC0\xAF\"",
    "\"\xE2\x82\"",
    "\"\xED\xA0\x80\"",
    "\"\xF4\x90\x80\x80\"",
    "\xFF",
    "abc",
    "\"a",
    "W/",
    "W/abc",
    "\"a\" \"b\"",
    "\"a\"x",
    "*, \"a\"",
    "**",
    "",
    "  , ",
    "\"a b\"",
    "\"a\tb\"",
    "\"a\x7f\"",
    "w/\"a\"",
};

START_TEST(etags_reject)
{
    const char **tags, *err = NULL;
    int any;

    ck_assert_int_eq(scim_http_parse_etags(pool, bad_etags[_i], &tags, &any, &err),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(err);
    ck_assert(scim_utf8_valid(err, strlen(err)));
}
END_TEST

/* ---- Authorization ---- */

START_TEST(authz_parse)
{
    scim_auth_scheme_e scheme;
    const char *user, *token, *err;

    ck_assert_int_eq(scim_http_parse_authorization(pool, "Bearer eyJa.eyJb.sig",
                                                   &scheme, &user, &token, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(scheme, SCIM_AUTH_BEARER);
    ck_assert_ptr_null(user);
    ck_assert_str_eq(token, "eyJa.eyJb.sig");
    ck_assert_int_eq(scim_http_parse_authorization(pool, "bearer   abc== ",
                                                   &scheme, &user, &token, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(token, "abc==");
    /* "okta-provisioning-abc@acme:tok.en" */
    ck_assert_int_eq(scim_http_parse_authorization(pool,
                                                   "Basic b2t0YS1wcm92aXNpb25pbmctYWJjQGFjbWU6dG9rLmVu",
                                                   &scheme, &user, &token, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(scheme, SCIM_AUTH_BASIC);
    ck_assert_str_eq(user, "okta-provisioning-abc@acme");
    ck_assert_str_eq(token, "tok.en");
    /* a colon in the password part stays there */
    ck_assert_int_eq(scim_http_parse_authorization(pool, "BASIC dTphOmI=", &scheme,
                                                   &user, &token, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(user, "u");
    ck_assert_str_eq(token, "a:b");
}
END_TEST

static const char *const bad_authz[] = {
    "",
    "Bearer",
    "Bearer ",
    "Bearer a b",
    "Bearer a\xFF",
    "Bearer \"a\"",
    "Bearer a=b",
    "Bearertoken",
    "Digest abc",
    "Basic",
    "Basic !!!!",
    "Basic dTphOmI", /* no padding */
    "Basic dXNlcg==", /* "user": no colon */
    "Basic dTo=", /* "u:": no token */
    "Basic /w==", /* "\xFF" */
    "Basic dQB4OnQ=", /* "u\0x:t" */
    "Basic dTrAr3Q=", /* "u:\xC0\xAFt" overlong */
    "Basic dTp0 x",
};

START_TEST(authz_reject)
{
    scim_auth_scheme_e scheme;
    const char *user, *token, *err = NULL;

    ck_assert_int_eq(scim_http_parse_authorization(pool, bad_authz[_i], &scheme,
                                                   &user, &token, &err),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(scheme, SCIM_AUTH_NONE);
    /* the message never quotes the credentials */
    ck_assert_ptr_null(strstr(err, "dT"));
}
END_TEST

Suite *scim_http_suite(void)
{
    Suite *s = suite_create("scim_http");
    TCase *tc = tcase_create("parsers");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, utf8_rejects, 0,
                        (int)(sizeof(utf8_bad) / sizeof(utf8_bad[0])));
    tcase_add_test(tc, utf8_accepts);
    tcase_add_test(tc, quote_sanitises);
    tcase_add_test(tc, quote_cuts_at_character_boundary);
    tcase_add_test(tc, quote_output_always_valid);
    tcase_add_test(tc, query_decodes);
    tcase_add_loop_test(tc, query_rejects, 0,
                        (int)(sizeof(bad_queries) / sizeof(bad_queries[0])));
    tcase_add_test(tc, query_limits);
    tcase_add_test(tc, etags_parse);
    tcase_add_loop_test(tc, etags_reject, 0,
                        (int)(sizeof(bad_etags) / sizeof(bad_etags[0])));
    tcase_add_test(tc, authz_parse);
    tcase_add_loop_test(tc, authz_reject, 0,
                        (int)(sizeof(bad_authz) / sizeof(bad_authz[0])));
    suite_add_tcase(s, tc);
    return s;
}
