/* Unit tests of scim_json: the strict parser (duplicates, depth cap checked
 * before Jansson, trailing garbage, NUL, UTF-8), pool ownership and dumping.
 */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "scim_json.h"
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

/* Parse s (its strlen) with max_depth; the error or NULL on success. */
static const char *parse_err(const char *s, int max_depth)
{
    const char *err = NULL;
    json_t *j = scim_json_parse(pool, s, strlen(s), max_depth, &err);

    if (j) {
        return NULL;
    }
    ck_assert_ptr_nonnull(err);
    return err;
}

#define ASSERT_PARSES(s, d)                                    \
    do {                                                       \
        const char *e_ = parse_err((s), (d));                  \
        ck_assert_msg(e_ == NULL, "rejected %s: %s", (s), e_); \
    } while (0)

#define ASSERT_REJECTED(s, d, part)                                            \
    do {                                                                       \
        const char *e_ = parse_err((s), (d));                                  \
        ck_assert_msg(e_ != NULL, "accepted %s", (s));                         \
        ck_assert_msg(strstr(e_, (part)) != NULL, "error '%s' lacks '%s'", e_, \
                      (part));                                                 \
    } while (0)

/* n nested arrays around 1, with objects every third level. */
static const char *nested(int n)
{
    char *open = apr_pcalloc(pool, (apr_size_t)n * 5 + 1);
    char *close = apr_pcalloc(pool, (apr_size_t)n + 1);
    int i;

    for (i = 0; i < n; i++) {
        if (i % 3 == 2) {
            strcat(open, "{\"a\":");
            close[n - 1 - i] = '}';
        }
        else {
            strcat(open, "[");
            close[n - 1 - i] = ']';
        }
    }
    return apr_pstrcat(pool, open, "1", close, NULL);
}

START_TEST(parses_values)
{
    const char *err = NULL;
    json_t *j;

    j = scim_json_parse(pool, "{\"a\":[1,2.5,\"x\",true,null]}", 27, 8, &err);
    ck_assert_ptr_nonnull(j);
    ck_assert(json_is_object(j));
    ck_assert_int_eq(json_array_size(json_object_get(j, "a")), 5);
    /* one value of any type */
    ASSERT_PARSES("1", 8);
    ASSERT_PARSES("\"x\"", 8);
    ASSERT_PARSES("null", 8);
    ASSERT_PARSES("[]", 8);
    /* surrounding whitespace is not garbage */
    ASSERT_PARSES(" \r\n\t{}\n ", 8);
}
END_TEST

START_TEST(reads_only_len_bytes)
{
    const char *err = NULL;
    json_t *j = scim_json_parse(pool, "{\"a\":1}garbage", 7, 8, &err);

    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "a")), 1);
}
END_TEST

START_TEST(rejects_duplicate_keys)
{
    ASSERT_REJECTED("{\"a\":1,\"a\":2}", 8, "duplicate object key");
    ASSERT_REJECTED("{\"a\":1,\"b\":{\"c\":1,\"c\":1}}", 8,
                    "duplicate object key");
    ASSERT_REJECTED("[{\"x\":null,\"y\":0,\"x\":null}]", 8,
                    "duplicate object key");
    /* the same key after an escape is still the same key */
    ASSERT_REJECTED("{\"a\":1,\"\\u0061\":2}", 8, "duplicate object key");
    ASSERT_PARSES("{\"a\":1,\"A\":2}", 8);
    ASSERT_PARSES("[{\"a\":1},{\"a\":2}]", 8);
}
END_TEST

START_TEST(depth_limit_default)
{
    ASSERT_PARSES(nested(SCIM_JSON_MAX_DEPTH_DEFAULT),
                  SCIM_JSON_MAX_DEPTH_DEFAULT);
    ASSERT_REJECTED(nested(SCIM_JSON_MAX_DEPTH_DEFAULT + 1),
                    SCIM_JSON_MAX_DEPTH_DEFAULT,
                    "JSON nested deeper than 32 levels");
    /* max_depth <= 0 means the default */
    ASSERT_PARSES(nested(32), 0);
    ASSERT_REJECTED(nested(33), 0, "deeper than 32");
}
END_TEST

START_TEST(depth_limit_small)
{
    ASSERT_PARSES("[[[1]]]", 3);
    ASSERT_REJECTED("[[[[1]]]]", 3, "JSON nested deeper than 3 levels");
    ASSERT_PARSES("{\"a\":{}}", 2);
    ASSERT_REJECTED("{\"a\":{\"b\":[]}}", 2, "deeper than 2");
    /* siblings do not add up */
    ASSERT_PARSES("[[1],[2],{\"a\":3},[[]]]", 3);
    ASSERT_PARSES("1", 1);
}
END_TEST

START_TEST(depth_ignores_strings)
{
    ASSERT_PARSES("[\"[[[[[[{{{{\"]", 1);
    ASSERT_PARSES("{\"[[[[\":\"}}}}]]]]\"}", 1);
    /* an escaped quote does not end the string */
    ASSERT_PARSES("[\"\\\"[[[[\"]", 1);
    ASSERT_PARSES("[\"\\\\\",\"x\"]", 1);
    /* but after a real closing quote brackets count again */
    ASSERT_REJECTED("[\"\\\\\",[1]]", 1, "deeper than 1");
}
END_TEST

START_TEST(depth_checked_before_jansson)
{
    /* Unbalanced, huge nesting: the cap answers, not Jansson's recursion. */
    apr_size_t n = 200000;
    char *deep = apr_palloc(pool, n + 1);

    memset(deep, '[', n);
    deep[n] = '\0';
    ASSERT_REJECTED(deep, 32, "JSON nested deeper than 32 levels");
}
END_TEST

START_TEST(rejects_trailing_garbage)
{
    ASSERT_REJECTED("{} x", 8, "invalid JSON at line 1 column");
    ASSERT_REJECTED("{}{}", 8, "invalid JSON");
    ASSERT_REJECTED("1 2", 8, "invalid JSON");
    ASSERT_REJECTED("{\"a\":1},", 8, "invalid JSON");
    ASSERT_REJECTED("[1]]", 8, "invalid JSON");
}
END_TEST

START_TEST(rejects_malformed)
{
    ASSERT_REJECTED("", 8, "empty");
    ASSERT_REJECTED("   ", 8, "invalid JSON");
    ASSERT_REJECTED("{", 8, "invalid JSON");
    ASSERT_REJECTED("{'a':1}", 8, "invalid JSON");
    ASSERT_REJECTED("{\"a\":1,}", 8, "invalid JSON");
    ASSERT_REJECTED("[01]", 8, "invalid JSON");
    ASSERT_REJECTED("[NaN]", 8, "invalid JSON");
    ASSERT_REJECTED("\"\x01\"", 8, "invalid JSON");
}
END_TEST

START_TEST(rejects_nul)
{
    const char *err = NULL;

    ck_assert_ptr_null(scim_json_parse(pool, "{\"a\":\"b\0c\"}", 11, 8, &err));
    ck_assert_str_eq(err, "JSON contains a NUL byte");
    ck_assert_ptr_null(scim_json_parse(pool, "{}\0", 3, 8, &err));
    ck_assert_ptr_nonnull(err);
    /* escaped NUL too: C strings would be cut at it */
    ASSERT_REJECTED("{\"a\":\"b\\u0000c\"}", 8, "invalid JSON");
    ASSERT_REJECTED("{\"a\\u0000\":1}", 8, "invalid JSON");
}
END_TEST

START_TEST(rejects_invalid_utf8)
{
    ASSERT_REJECTED("[\"\xff\"]", 8, "invalid JSON");
    ASSERT_REJECTED("[\"\xc0\xaf\"]", 8, "invalid JSON"); /* overlong */
    ASSERT_REJECTED("[\"\xed\xa0\x80\"]", 8, "invalid JSON"); /* surrogate */
    ASSERT_REJECTED("[\"\xe2\x82\"]", 8, "invalid JSON"); /* truncated */
    ASSERT_REJECTED("[\"\xf4\x90\x80\x80\"]", 8, "invalid JSON"); /* >10FFFF */
    ASSERT_REJECTED("{\"\x80\":1}", 8, "invalid JSON");
    ASSERT_REJECTED("[\"\\ud800\"]", 8, "invalid JSON"); /* lone surrogate */
    ASSERT_PARSES("[\"Zo\xc3\xab \xf0\x9f\x98\x80 \\ud83d\\ude00\"]", 8);
}
END_TEST

/* The fast reader (scim_json_parse_fast) against json_loadb with the flags
 * scim_json_parse gives it: what it builds is Jansson's tree, byte for byte
 * in Jansson's own dump (member order, integer or real); what it gives up
 * on still parses, or fails, as Jansson says. */
static void same_tree(const char *s, apr_size_t len, int fast_must_build)
{
    json_t *fast = scim_json_parse_fast(pool, s, len);
    json_t *ref = json_loadb(s, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
                             NULL);
    const char *err = NULL;
    json_t *via = scim_json_parse(pool, s, len, 100, &err);

    if (fast_must_build) {
        ck_assert_msg(fast != NULL, "the fast reader gave up on %s", s);
    }
    else {
        ck_assert_msg(fast == NULL, "the fast reader built %s", s);
    }
    if (fast) {
        char *a = json_dumps(fast, JSON_COMPACT | JSON_ENCODE_ANY);
        char *b;

        ck_assert_msg(ref != NULL, "Jansson refuses what was built: %s", s);
        b = json_dumps(ref, JSON_COMPACT | JSON_ENCODE_ANY);
        ck_assert_str_eq(a, b);
        ck_assert(json_equal(fast, ref));
        free(a);
        free(b);
    }
    /* scim_json_parse answers as Jansson does, whichever reader built it */
    ck_assert_msg((via != NULL) == (ref != NULL), "%s: %s", s,
                  err ? err : "accepted");
    if (via) {
        ck_assert(json_equal(via, ref));
    }
    json_decref(fast);
    json_decref(ref);
}

START_TEST(fast_reader_same_as_jansson)
{
    static const char *const built[] = {
        "{}",
        "[]",
        " { } ",
        "\t[\r\n]\n",
        "1",
        "-0",
        "0",
        "-7",
        "true",
        "false",
        "null",
        "\"\"",
        "\"a\"",
        "999999999999999999",
        "-999999999999999999",
        "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
        "{\"z\":1,\"a\":2,\"m\":3}", /* order kept */
        "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
        "[\"\\u00e9\\u20ac\\ud83d\\ude00\\u0001\\u007f\"]",
        "{\"k\\u00e9y\":\"v\\nal\",\"k2\":\"\\u0041\"}",
        "[\"Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf "
        "\xef\xbf\xbd\"]",
        "[ 1 , [ ] , { } , \"x\" ]",
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
        "\"userName\":\"Bj\xc3\xb6rn@example.com\",\"active\":true,"
        "\"emails\":[{\"value\":\"b@example.com\",\"primary\":true}]}",
    };
    static const char *const given_up[] = {
        /* Jansson accepts these: scim_json_parse still does */
        "1.5",
        "[1e3]",
        "{\"a\":-0.0}",
        "1E-2",
        "1000000000000000000",
        "-9223372036854775808",
        /* and refuses these */
        "",
        " ",
        "{",
        "[1,]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{1:2}",
        "[01]",
        "[-]",
        "[1.]",
        "[.5]",
        "[+1]",
        "truex",
        "[true1]",
        "nul",
        "[NaN]",
        "{\"a\":1}x",
        "1 2",
        "{\"a\":1,\"a\":2}",
        "{\"a\":1,\"\\u0061\":2}",
        "\"\x01\"",
        "\"abc",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"\\u0000\"",
        "\"\xff\"",
        "\"\xc0\xaf\"",
        "\"\xc1\xbf\"",
        "\"\xed\xa0\x80\"",
        "\"\xe2\x82\"",
        "\"\xf4\x90\x80\x80\"",
        "\"\xf5\x80\x80\x80\"",
        "\"\x80\"",
        "\"\xe0\x80\xaf\"",
        "\"\xf0\x80\x80\xaf\"",
        "\xef\xbb\xbf{}",
        "['a']",
        "[\"a\"\"b\"]",
        "9223372036854775808",
    };
    apr_size_t i;
    char deep[2 * 70 + 2];

    for (i = 0; i < sizeof(built) / sizeof(*built); i++) {
        same_tree(built[i], strlen(built[i]), 1);
    }
    for (i = 0; i < sizeof(given_up) / sizeof(*given_up); i++) {
        same_tree(given_up[i], strlen(given_up[i]), 0);
    }
    /* only len bytes are read: the text after them is not looked at */
    same_tree("[1]]", 3, 1);
    same_tree("\"ab\"cd", 4, 1);
    /* 64 levels are built here; 65 are left to Jansson */
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    same_tree(apr_pstrndup(pool, deep, 128), 128, 1);
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    same_tree(apr_pstrndup(pool, deep, 130), 130, 0);
}
END_TEST

START_TEST(pool_owns_value)
{
    apr_pool_t *sub;
    json_t *j = json_object();

    json_incref(j);
    apr_pool_create(&sub, pool);
    ck_assert_ptr_eq(scim_json_pool_own(sub, j), j);
    ck_assert_int_eq(j->refcount, 2);
    apr_pool_destroy(sub);
    ck_assert_int_eq(j->refcount, 1);
    json_decref(j);
    ck_assert_ptr_null(scim_json_pool_own(pool, NULL));
}
END_TEST

START_TEST(dump_compact_utf8)
{
    const char *err = NULL;
    const char *in = "{ \"z\" : 1, \"a\" : [ true, null ],"
                     " \"n\" : \"Zo\xc3\xab \xf0\x9f\x98\x80\" }";
    json_t *j = scim_json_parse(pool, in, strlen(in), 8, &err);

    ck_assert_ptr_nonnull(j);
    /* compact, member order kept, UTF-8 not escaped */
    ck_assert_str_eq(scim_json_dump(pool, j, 0),
                     "{\"z\":1,\"a\":[true,null],"
                     "\"n\":\"Zo\xc3\xab \xf0\x9f\x98\x80\"}");
    ck_assert_str_eq(scim_json_dump(pool, j, JSON_SORT_KEYS),
                     "{\"a\":[true,null],\"n\":\"Zo\xc3\xab \xf0\x9f\x98\x80\","
                     "\"z\":1}");
    ck_assert_str_eq(scim_json_dump(pool, j, JSON_ENSURE_ASCII),
                     "{\"z\":1,\"a\":[true,null],"
                     "\"n\":\"Zo\\u00EB \\uD83D\\uDE00\"}");
    ck_assert_ptr_null(scim_json_dump(pool, NULL, 0));
}
END_TEST

START_TEST(dump_scalars_and_escapes)
{
    json_t *j = scim_json_pool_own(pool, json_integer(5));

    ck_assert_str_eq(scim_json_dump(pool, j, 0), "5");
    j = scim_json_pool_own(pool, json_string("a\"</script>\n"));
    ck_assert_str_eq(scim_json_dump(pool, j, 0), "\"a\\\"</script>\\n\"");
    j = scim_json_pool_own(pool, json_string("a/b"));
    ck_assert_str_eq(scim_json_dump(pool, j, JSON_ESCAPE_SLASH), "\"a\\/b\"");
}
END_TEST

/* The module's own dump writes what Jansson's json_dumps writes: every
 * escape, empty containers, numbers, a NUL inside a string or a key, keys
 * in insertion order; and refuses what Jansson refuses (string values that
 * are not UTF-8, a cycle). */
static void dump_matches_jansson(const json_t *j, const char *want)
{
    char *theirs = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    char *ours = scim_json_dump(pool, j, 0);

    if (want) {
        ck_assert_str_eq(ours, want);
    }
    if (theirs) {
        ck_assert_str_eq(ours, theirs);
    }
    else {
        ck_assert_ptr_null(ours);
    }
    free(theirs);
}

/* Where the module refuses what Jansson still writes. */
static void jansson_writes(const json_t *j)
{
    char *theirs = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

    ck_assert_ptr_nonnull(theirs);
    free(theirs);
}

START_TEST(dump_same_bytes_as_jansson)
{
    json_t *j = json_object(), *a = json_array(), *deep = json_array();
    int i;

    json_object_set_new(j, "zz",
                        json_string("tab\there \"q\" \\ \b\f\r\n"
                                    "\x01\x1f\x7f\xc3\xa9\xf0\x9f\x98\x80/"));
    json_object_set_new(j, "empty{}", json_object());
    json_object_set_new(j, "empty[]", json_array());
    json_object_set_new(j, "", json_stringn("a\0b", 3));
    json_object_set_new(j, "int", json_integer(-9223372036854775807LL - 1));
    json_object_set_new(j, "intmax", json_integer(9223372036854775807LL));
    json_object_setn_new(j, "k\0nul", 5, json_pack("[f,i,f]", 2.5, -7, 1e-7));
    json_object_set_new(j, "real", json_real(0.1));
    json_object_set_new(j, "real2", json_real(1e300));
    json_object_set_new(j, "real3", json_real(-3.0));
    json_object_set_new(j, "bools", json_pack("[bbn]", 1, 0));
    json_array_append_new(a, json_object());
    json_array_append_new(a, json_pack("{s{s[i]}}", "x", "y", 1));
    json_object_set_new(j, "nested", a);
    json_object_set_new(j, "\xe2\x80\xa8key\"\\", json_true());
    dump_matches_jansson(j, NULL);
    ck_assert_str_eq(scim_json_dump(pool, json_object_get(j, ""), 0),
                     "\"a\\u0000b\"");
    ck_assert_str_eq(scim_json_dump(pool, json_object_get(j, "zz"), 0),
                     "\"tab\\there \\\"q\\\" \\\\ \\b\\f\\r\\n\\u0001\\u001F"
                     "\x7f\xc3\xa9\xf0\x9f\x98\x80/\"");
    dump_matches_jansson(json_object_get(j, "empty{}"), "{}");
    dump_matches_jansson(json_object_get(j, "empty[]"), "[]");
    dump_matches_jansson(json_object_get(j, "nested"),
                         "[{},{\"x\":{\"y\":[1]}}]");
    json_decref(j);

    /* bytes that are not UTF-8 (a string made without Jansson's check):
     * refused by both, as a value; the module refuses them as a key too */
    j = json_stringn_nocheck("ok\xc3(", 4);
    dump_matches_jansson(j, NULL);
    ck_assert_ptr_null(scim_json_dump(pool, j, 0));
    json_decref(j);
    {
        /* a surrogate, an overlong '/', above U+10FFFF, a truncated
         * sequence, a stray continuation byte */
        static const char *const bad[] = { "\xed\xa0\x80", "\xc0\xaf",
                                           "\xf4\x90\x80\x80", "a\xe2\x82",
                                           "\x80" };

        for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
            j = json_stringn_nocheck(bad[i], strlen(bad[i]));
            dump_matches_jansson(j, NULL);
            ck_assert_ptr_null(scim_json_dump(pool, j, 0));
            json_decref(j);
        }
    }
    /* a key that is not UTF-8: Jansson writes broken text, the module
     * refuses it (only a *_nocheck call can make one) */
    j = json_object();
    json_object_setn_new_nocheck(j, "ok\xff", 3, json_true());
    ck_assert_ptr_null(scim_json_dump(pool, j, 0));
    jansson_writes(j);
    json_decref(j);
    /* a cycle: both refuse it (the module by its depth limit) */
    a = json_array();
    j = json_array();
    json_array_append(a, j);
    json_array_append(j, a);
    dump_matches_jansson(a, NULL);
    ck_assert_ptr_null(scim_json_dump(pool, a, 0));
    json_array_clear(j);
    json_decref(j);
    json_decref(a);
    j = json_array();
    json_array_append_new(j, json_stringn_nocheck("\xff", 1));
    ck_assert_ptr_null(scim_json_dump(pool, j, 0));
    json_decref(j);

    /* 256 arrays nested in one another (the outer one counted), with a
     * scalar inside the innermost: written, the bytes Jansson writes; one
     * more array: refused, where Jansson still writes it */
    a = deep;
    for (i = 1; i < 256; i++) {
        json_t *in = json_array();

        json_array_append_new(a, in);
        a = in;
    }
    json_array_append_new(a, json_integer(7));
    dump_matches_jansson(deep, NULL);
    ck_assert_ptr_nonnull(scim_json_dump(pool, deep, 0));
    json_array_clear(a);
    json_array_append_new(a, json_array());
    ck_assert_ptr_null(scim_json_dump(pool, deep, 0));
    jansson_writes(deep);
    json_decref(deep);
}
END_TEST

/* Jansson's allocator for dump_write_pass_fails: malloc fails on its
 * second call (json_dumpb of a real mallocs once per call). */
static int alloc_calls;

static void *second_malloc_fails(size_t n)
{
    return ++alloc_calls == 2 ? NULL : malloc(n);
}

/* A dump whose write pass fails (here: a real whose json_dumpb cannot
 * malloc the second time) is refused, not returned half written. */
START_TEST(dump_write_pass_fails)
{
    json_t *j = json_pack("{s:s,s:f}", "a", "b", "r", 0.5);
    json_malloc_t old_malloc;
    json_free_t old_free;
    char *out;

    json_get_alloc_funcs(&old_malloc, &old_free);
    alloc_calls = 0;
    json_set_alloc_funcs(second_malloc_fails, free);
    out = scim_json_dump(pool, j, 0);
    json_set_alloc_funcs(old_malloc, old_free);
    ck_assert_int_eq(alloc_calls, 2);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(scim_json_dump(pool, j, 0), "{\"a\":\"b\",\"r\":0.5}");
    json_decref(j);
}
END_TEST

/* Splicing members into stored object text, without parsing it. */
START_TEST(splice_members)
{
    const char *parts[] = { "\"id\":\"7\"", NULL, "",
                            "\"groups\":[{\"$ref\":\"\001/Groups/1\"}]" };
    const char *err = NULL;
    char *out;
    json_t *j;

    out = scim_json_splice(pool, "{\"a\": 1}", 8, parts, 4, "https://h/x\"y\\z");
    ck_assert_str_eq(out,
                     "{\"a\": 1,\"id\":\"7\",\"groups\":[{\"$ref\":"
                     "\"https://h/x\\\"y\\\\z/Groups/1\"}]}");
    /* the result is valid JSON, with the base URL as a string */
    j = scim_json_parse(pool, out, strlen(out), 8, &err);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_array_get(json_object_get(j, "groups"),
                                                        0),
                                         "$ref")),
                     "https://h/x\"y\\z/Groups/1");
    /* an empty object gets no leading comma; white space around is fine */
    out = scim_json_splice(pool, " { }\n", 5, parts, 1, NULL);
    ck_assert_str_eq(out, "{ \"id\":\"7\"}");
    ck_assert_ptr_nonnull(scim_json_parse(pool, out, strlen(out), 8, &err));
    ck_assert_str_eq(scim_json_splice(pool, "{}", 2, parts, 1, "b"),
                     "{\"id\":\"7\"}");
    /* no parts: the object itself */
    ck_assert_str_eq(scim_json_splice(pool, "{\"a\":[]}", 8, parts, 0, "b"),
                     "{\"a\":[]}");
    /* len bounds the input: bytes after it are not read */
    ck_assert_str_eq(scim_json_splice(pool, "{}garbage", 2, parts, 1, "b"),
                     "{\"id\":\"7\"}");
    /* control bytes of the base are escaped */
    out = scim_json_splice(pool, "{}", 2, parts + 3, 1, "a\nb");
    ck_assert_str_eq(out, "{\"groups\":[{\"$ref\":\"a\\u000ab/Groups/1\"}]}");
}
END_TEST

START_TEST(splice_rejects_non_objects)
{
    const char *parts[] = { "\"id\":\"7\"" };

    ck_assert_ptr_null(scim_json_splice(pool, "[]", 2, parts, 1, "b"));
    ck_assert_ptr_null(scim_json_splice(pool, "{", 1, parts, 1, "b"));
    ck_assert_ptr_null(scim_json_splice(pool, "", 0, parts, 1, "b"));
    ck_assert_ptr_null(scim_json_splice(pool, "   ", 3, parts, 1, "b"));
    ck_assert_ptr_null(scim_json_splice(pool, "\"{}\"", 4, parts, 1, "b"));
    ck_assert_str_eq(scim_json_escape(pool, "\x01\"\xc3\xa9"),
                     "\\u0001\\\"\xc3\xa9");
}
END_TEST

Suite *scim_json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *parse = tcase_create("parse");
    TCase *own = tcase_create("own-dump");

    tcase_add_checked_fixture(parse, setup, teardown);
    tcase_add_test(parse, parses_values);
    tcase_add_test(parse, reads_only_len_bytes);
    tcase_add_test(parse, rejects_duplicate_keys);
    tcase_add_test(parse, depth_limit_default);
    tcase_add_test(parse, depth_limit_small);
    tcase_add_test(parse, depth_ignores_strings);
    tcase_add_test(parse, depth_checked_before_jansson);
    tcase_add_test(parse, rejects_trailing_garbage);
    tcase_add_test(parse, rejects_malformed);
    tcase_add_test(parse, rejects_nul);
    tcase_add_test(parse, rejects_invalid_utf8);
    tcase_add_test(parse, fast_reader_same_as_jansson);
    suite_add_tcase(s, parse);

    tcase_add_checked_fixture(own, setup, teardown);
    tcase_add_test(own, pool_owns_value);
    tcase_add_test(own, dump_compact_utf8);
    tcase_add_test(own, dump_scalars_and_escapes);
    tcase_add_test(own, dump_same_bytes_as_jansson);
    tcase_add_test(own, dump_write_pass_fails);
    tcase_add_test(own, splice_members);
    tcase_add_test(own, splice_rejects_non_objects);
    suite_add_tcase(s, own);
    return s;
}
