/* Unit tests of scim_util, scim_json and scim_jwt: encodings, strict JSON,
 * key sets, and every rejection rule of the token format (SPEC 4). */

#include <string.h>

#include <apr_strings.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>

#include "scim_json.h"
#include "scim_jwt.h"
#include "scim_util.h"
#include "unit_suites.h"

#define NOW 1800000000
#define ISS "https://issuer.test"
#define SUB "0b6c7d2e-8f1a-4b3c-9d4e-5f6a7b8c9d0e"
#define JTI "AAECAwQFBgcICQoLDA0ODw"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static const char *keyset_json(void)
{
    /* two 32-byte keys: "a" x 32 and "b" x 32 */
    return "{\"keys\":["
           "{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":\"k1\",\"k\":"
           "\"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE\"},"
           "{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":\"k2\",\"use\":\"sig\","
           "\"k\":\"YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI\"}]}";
}

static scim_keyset_t *keys(void)
{
    scim_keyset_t *ks = NULL;
    const char *err = NULL;
    const char *j = keyset_json();

    ck_assert_int_eq(scim_keyset_parse(pool, j, strlen(j), &ks, &err),
                     APR_SUCCESS);
    return ks;
}

static scim_token_claims_t claims(void)
{
    scim_token_claims_t c;

    memset(&c, 0, sizeof(c));
    c.iss = ISS;
    c.tid = "acme";
    c.sub = SUB;
    c.idp = "okta";
    c.jti = JTI;
    c.iat = c.nbf = NOW - 100;
    c.exp = NOW + 86400;
    return c;
}

static const char *good_token(const char *kid)
{
    scim_token_claims_t c = claims();

    return scim_jwt_sign(pool, scim_keyset_find(keys(), kid), &c);
}

/* A token over exactly these header and claims texts, signed with key. */
static const char *forge(const char *header, const char *payload, const char *key)
{
    const char *input = apr_pstrcat(pool,
                                    scim_b64url_encode(pool,
                                                       (const unsigned char *)header,
                                                       strlen(header)),
                                    ".",
                                    scim_b64url_encode(pool,
                                                       (const unsigned char *)payload,
                                                       strlen(payload)),
                                    NULL);
    unsigned char mac[32];
    unsigned int n = 32;

    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)input,
         strlen(input), mac, &n);
    return apr_pstrcat(pool, input, ".", scim_b64url_encode(pool, mac, 32), NULL);
}

#define KEY_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HDR   "{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\",\"kid\":\"k1\"}"
#define PAYLOAD_FMT                                                        \
    "{\"iss\":\"" ISS "\",\"aud\":\"urn:scim-provision:tenant:acme\","     \
    "\"tid\":\"acme\",\"sub\":\"" SUB "\",\"idp\":\"okta\",\"jti\":\"" JTI \
    "\",\"iat\":%s,\"nbf\":%s,\"exp\":%s%s}"

static const char *payload(const char *iat, const char *nbf, const char *exp,
                           const char *extra)
{
    return apr_psprintf(pool, PAYLOAD_FMT, iat, nbf, exp, extra);
}

static apr_status_t verify(const char *tok, const char **reason)
{
    scim_token_claims_t out;

    return scim_jwt_verify(pool, keys(), tok, strlen(tok), ISS, "acme", NOW,
                           &out, reason);
}

static void assert_rejected(const char *tok, const char *why_part)
{
    const char *reason = NULL;

    ck_assert_int_ne(verify(tok, &reason), APR_SUCCESS);
    ck_assert_ptr_nonnull(reason);
    if (why_part) {
        ck_assert_msg(strstr(reason, why_part) != NULL,
                      "reason '%s' lacks '%s'", reason, why_part);
    }
}

START_TEST(b64url_roundtrip)
{
    unsigned char data[64], *out;
    apr_size_t n, len;

    for (len = 0; len < sizeof(data); len++) {
        data[len] = (unsigned char)(len * 37 + 11);
    }
    for (len = 0; len <= sizeof(data); len++) {
        const char *enc = scim_b64url_encode(pool, data, len);

        ck_assert_ptr_null(strchr(enc, '='));
        ck_assert_int_eq(scim_b64url_decode(pool, enc, strlen(enc), &out, &n),
                         APR_SUCCESS);
        ck_assert_uint_eq(n, len);
        ck_assert(memcmp(out, data, len) == 0);
    }
}
END_TEST

START_TEST(b64url_strict)
{
    unsigned char *out;
    apr_size_t n;

    ck_assert_int_eq(scim_b64url_decode(pool, "YQ==", 4, &out, &n), APR_EINVAL);
    ck_assert_int_eq(scim_b64url_decode(pool, "a+b/", 4, &out, &n), APR_EINVAL);
    ck_assert_int_eq(scim_b64url_decode(pool, "YW J", 4, &out, &n), APR_EINVAL);
    ck_assert_int_eq(scim_b64url_decode(pool, "YWJjZ", 5, &out, &n), APR_EINVAL);
    /* "YR" decodes to 'a' with stray low bits: not canonical */
    ck_assert_int_eq(scim_b64url_decode(pool, "YR", 2, &out, &n), APR_EINVAL);
    ck_assert_int_eq(scim_b64url_decode(pool, "YQ", 2, &out, &n), APR_SUCCESS);
    ck_assert_int_eq(scim_b64url_decode(pool, "YWI", 3, &out, &n), APR_SUCCESS);
    ck_assert_int_eq(scim_b64url_decode(pool, "YWJ", 3, &out, &n), APR_EINVAL);
}
END_TEST

/* Every byte against both alphabets: "AAA" then the byte decodes, as its
 * value in the last six bits, exactly when the byte is in the alphabet. */
START_TEST(b64_every_byte)
{
    static const char
        url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    static const char
        std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int c;

    for (c = 0; c < 256; c++) {
        char in[4] = { 'A', 'A', 'A', (char)c };
        const char *u = c ? memchr(url, c, 64) : NULL;
        const char *d = c ? memchr(std, c, 64) : NULL;
        unsigned char *uout;
        char *sout;
        apr_size_t n;

        if (u) {
            ck_assert_int_eq(scim_b64url_decode(pool, in, 4, &uout, &n),
                             APR_SUCCESS);
            ck_assert_uint_eq(n, 3);
            ck_assert_int_eq(uout[2], (int)(u - url));
        }
        else {
            ck_assert_msg(scim_b64url_decode(pool, in, 4, &uout, &n) == APR_EINVAL,
                          "byte %d decoded as base64url", c);
        }
        if (d) {
            ck_assert_int_eq(scim_b64_decode(pool, in, 4, &sout, &n),
                             APR_SUCCESS);
            ck_assert_uint_eq(n, 3);
            ck_assert_int_eq((unsigned char)sout[2], (int)(d - std));
        }
        else if (c != '=') { /* "AAA=" is padded "AAA" */
            ck_assert_msg(scim_b64_decode(pool, in, 4, &sout, &n) == APR_EINVAL,
                          "byte %d decoded as base64", c);
        }
    }
}
END_TEST

START_TEST(b64_basic)
{
    char *out;
    apr_size_t n;

    ck_assert_int_eq(scim_b64_decode(pool, "dXNlcjpwYXNz", 12, &out, &n),
                     APR_SUCCESS);
    ck_assert_str_eq(out, "user:pass");
    ck_assert_int_eq(scim_b64_decode(pool, "dXNlcg==", 8, &out, &n), APR_SUCCESS);
    ck_assert_str_eq(out, "user");
    ck_assert_int_eq(scim_b64_decode(pool, "dXNlcg", 6, &out, &n), APR_EINVAL);
    ck_assert_int_eq(scim_b64_decode(pool, "dXN-cg==", 8, &out, &n), APR_EINVAL);
}
END_TEST

START_TEST(ids_and_slugs)
{
    ck_assert(scim_is_uuid(SUB));
    ck_assert(scim_is_uuid("0B6C7D2E-8F1A-4B3C-9D4E-5F6A7B8C9D0E"));
    ck_assert(!scim_is_uuid("0b6c7d2e-8f1a-4b3c-9d4e-5f6a7b8c9d0"));
    ck_assert(!scim_is_uuid("0b6c7d2e-8f1a-4b3c-9d4e-5f6a7b8c9d0ee"));
    ck_assert(!scim_is_uuid("0b6c7d2e08f1a-4b3c-9d4e-5f6a7b8c9d0e"));
    ck_assert(!scim_is_uuid("' OR 1=1 --"));
    ck_assert(scim_is_tenant_slug("acme"));
    ck_assert(scim_is_tenant_slug("0-a"));
    ck_assert(!scim_is_tenant_slug("-acme"));
    ck_assert(!scim_is_tenant_slug("Acme"));
    ck_assert(!scim_is_tenant_slug(""));
    ck_assert(scim_is_tenant_slug(
        "a12345678901234567890123456789012345678901234567890123456789012"));
    ck_assert(!scim_is_tenant_slug(
        "a123456789012345678901234567890123456789012345678901234567890123"));
}
END_TEST

START_TEST(generated_username)
{
    const char *u = scim_generate_username(pool, "okta", "acme");
    const char *v = scim_generate_username(pool, "okta", "acme");
    int i;

    ck_assert_uint_eq(strlen(u), strlen("okta-provisioning-xxxxxx@acme"));
    ck_assert(strncmp(u, "okta-provisioning-", 18) == 0);
    for (i = 18; i < 24; i++) {
        ck_assert(strchr("abcdefghijklmnopqrstuvwxyz234567", u[i]));
    }
    ck_assert_str_eq(u + 24, "@acme");
    ck_assert_str_ne(u, v);
}
END_TEST

START_TEST(sha_hex_ct)
{
    unsigned char h[32];

    scim_sha256("abc", 3, h);
    ck_assert_str_eq(scim_hex(pool, h, 32),
                     "ba7816bf8f01cfea414140de5dae2223"
                     "b00361a396177a9cb410ff61f20015ad");
    ck_assert(scim_ct_equal("abcd", "abcd", 4));
    ck_assert(!scim_ct_equal("abcd", "abce", 4));
}
END_TEST

START_TEST(json_strict)
{
    const char *err = NULL;
    json_t *j;

    j = scim_json_parse(pool, "{\"a\":1}", 7, 4, &err);
    ck_assert_ptr_nonnull(j);
    ck_assert_ptr_null(scim_json_parse(pool, "{\"a\":1,\"a\":2}", 13, 4, &err));
    ck_assert_ptr_null(scim_json_parse(pool, "{\"a\":1} x", 9, 4, &err));
    ck_assert_ptr_null(scim_json_parse(pool, "{\"a\":\"\xff\"}", 9, 4, &err));
    ck_assert_ptr_null(scim_json_parse(pool, "{\"a\":\0}", 7, 4, &err));
    ck_assert_ptr_nonnull(scim_json_parse(pool, "[[[[1]]]]", 9, 4, &err));
    ck_assert_ptr_null(scim_json_parse(pool, "[[[[[1]]]]]", 11, 4, &err));
    ck_assert_msg(strstr(err, "deeper than 4") != NULL, "%s", err);
    /* brackets inside strings do not count */
    ck_assert_ptr_nonnull(scim_json_parse(pool, "[\"[[[[[[\"]", 10, 2, &err));
    ck_assert_str_eq(scim_json_dump(pool, j, 0), "{\"a\":1}");
}
END_TEST

START_TEST(keyset_rules)
{
    scim_keyset_t *ks;
    const char *err;
    const scim_jwk_t *added;
    const char *bad[] = {
        "[]",
        "{\"keys\":[]}",
        "{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":\"s\",\"k\":"
        "\"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ\"}]}", /* 31 bytes */
        "{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"HS256\",\"kid\":\"r\",\"k\":"
        "\"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE\"}]}",
        "{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS512\",\"kid\":\"r\",\"k\":"
        "\"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE\"}]}",
        "{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"k\":"
        "\"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE\"}]}",
        "{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":\"d\",\"k\":"
        "\"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE\"},"
        "{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":\"d\",\"k\":"
        "\"YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI\"}]}",
        "{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":\"p\",\"k\":"
        "\"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=\"}]}",
        "{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":\"x\",\"d\":1,"
        "\"k\":\"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE\"}]}",
        NULL
    };
    int i;

    for (i = 0; bad[i]; i++) {
        err = NULL;
        ck_assert_msg(scim_keyset_parse(pool, bad[i], strlen(bad[i]), &ks, &err)
                          != APR_SUCCESS,
                      "accepted bad key set %d", i);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(!strstr(err, "YWFh"), "error shows key material: %s", err);
    }
    ks = keys();
    ck_assert_int_eq(ks->keys->nelts, 2);
    ck_assert_ptr_nonnull(scim_keyset_find(ks, "k2"));
    ck_assert_ptr_null(scim_keyset_find(ks, "k3"));
    /* generate, serialise, parse back */
    ks = scim_keyset_new(pool);
    ck_assert_int_eq(scim_keyset_generate(pool, ks, NULL, &added, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(scim_keyset_generate(pool, ks, "two", &added, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(scim_keyset_generate(pool, ks, "two", &added, &err),
                     APR_EEXIST);
    {
        const char *j = scim_keyset_to_json(pool, ks);
        scim_keyset_t *back;

        ck_assert_int_eq(scim_keyset_parse(pool, j, strlen(j), &back, &err),
                         APR_SUCCESS);
        ck_assert_int_eq(back->keys->nelts, 2);
        ck_assert(memcmp(scim_keyset_find(back, "two")->key,
                         scim_keyset_find(ks, "two")->key, 32)
                  == 0);
    }
}
END_TEST

START_TEST(jwt_roundtrip)
{
    scim_token_claims_t out;
    const char *reason = NULL, *tok = good_token("k1");

    ck_assert_int_eq(scim_jwt_verify(pool, keys(), tok, strlen(tok), ISS,
                                     "acme", NOW, &out, &reason),
                     APR_SUCCESS);
    ck_assert_str_eq(out.sub, SUB);
    ck_assert_str_eq(out.aud, "urn:scim-provision:tenant:acme");
    ck_assert_str_eq(out.kid, "k1");
    ck_assert_int_eq(out.exp, NOW + 86400);
    /* a token signed by the second key verifies too (rotation) */
    tok = good_token("k2");
    ck_assert_int_eq(verify(tok, &reason), APR_SUCCESS);
    /* the hand-built equivalent verifies: forge() is a faithful signer */
    tok = forge(HDR, payload("1799999900", "1799999900", "1800086400", ""),
                KEY_A);
    ck_assert_int_eq(verify(tok, &reason), APR_SUCCESS);
    ck_assert_uint_eq(strlen(scim_jwt_new_jti(pool)), 22);
}
END_TEST

START_TEST(jwt_header_rules)
{
    const char *pl = payload("1799999900", "1799999900", "1800086400", "");

    assert_rejected(forge("{\"alg\":\"none\",\"typ\":\"scim-prov+jwt\","
                          "\"kid\":\"k1\"}",
                          pl, KEY_A),
                    "alg");
    assert_rejected(forge("{\"alg\":\"HS512\",\"typ\":\"scim-prov+jwt\","
                          "\"kid\":\"k1\"}",
                          pl, KEY_A),
                    "alg");
    assert_rejected(forge("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
                          pl, KEY_A),
                    "typ");
    assert_rejected(forge("{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\","
                          "\"kid\":\"k9\"}",
                          pl, KEY_A),
                    "kid");
    assert_rejected(forge("{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\"}", pl,
                          KEY_A),
                    "kid");
    assert_rejected(forge("{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\","
                          "\"kid\":\"k1\",\"jku\":\"https://x\"}",
                          pl, KEY_A),
                    "extra");
    assert_rejected(forge("{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\","
                          "\"kid\":\"k1\",\"crit\":[\"b64\"],\"b64\":false}",
                          pl, KEY_A),
                    "extra");
    assert_rejected(forge("{\"alg\":\"HS256\",\"alg\":\"HS256\","
                          "\"typ\":\"scim-prov+jwt\",\"kid\":\"k1\"}",
                          pl, KEY_A),
                    "header");
    /* signed with a key the server does not have */
    assert_rejected(forge(HDR, pl, "cccccccccccccccccccccccccccccccc"),
                    "signature");
}
END_TEST

START_TEST(jwt_structure_rules)
{
    const char *tok = good_token("k1");
    char *t;
    const char *dot2 = strrchr(tok, '.');

    assert_rejected("", NULL);
    assert_rejected("a.b", "segments");
    assert_rejected(apr_pstrcat(pool, tok, ".x", NULL), "segments");
    assert_rejected(apr_pstrcat(pool, tok, "=", NULL), "signature");
    /* 31-byte signature */
    assert_rejected(apr_pstrcat(pool,
                                apr_pstrmemdup(pool, tok,
                                               (apr_size_t)(dot2 - tok + 1)),
                                scim_b64url_encode(pool,
                                                   (const unsigned char *)"0123456789012345678901"
                                                                          "234567890",
                                                   31),
                                NULL),
                    "signature");
    /* '+' instead of '-' somewhere in the payload */
    t = apr_pstrdup(pool, tok);
    t[strchr(t, '.') - t + 3] = '+';
    assert_rejected(t, NULL);
    /* tampered payload with the original signature */
    t = apr_pstrdup(pool, tok);
    t[strchr(t, '.') - t + 5] ^= 1;
    assert_rejected(t, NULL);
    /* a NUL byte inside */
    {
        scim_token_claims_t out;
        const char *reason;
        char buf[600];
        apr_size_t n = strlen(tok);

        memcpy(buf, tok, n);
        buf[10] = '\0';
        ck_assert_int_ne(scim_jwt_verify(pool, keys(), buf, n, ISS, "acme", NOW,
                                         &out, &reason),
                         APR_SUCCESS);
    }
}
END_TEST

START_TEST(jwt_claim_rules)
{
    const char *reason;

    /* missing, extra, wrongly typed or duplicate claims */
    assert_rejected(forge(HDR,
                          "{\"iss\":\"" ISS "\",\"aud\":\"urn:scim-provision:"
                          "tenant:acme\",\"tid\":\"acme\",\"sub\":\"" SUB
                          "\",\"idp\":\"okta\",\"jti\":\"" JTI "\","
                          "\"iat\":1799999900,\"exp\":1800086400}",
                          KEY_A),
                    "claims");
    assert_rejected(forge(HDR,
                          payload("1799999900", "1799999900", "1800086400",
                                  ",\"admin\":true"),
                          KEY_A),
                    "claims");
    assert_rejected(forge(HDR,
                          payload("\"1799999900\"", "1799999900", "1800086400", ""),
                          KEY_A),
                    "iat");
    assert_rejected(forge(HDR,
                          payload("1799999900", "1799999900", "1800086400.5", ""),
                          KEY_A),
                    "exp");
    assert_rejected(forge(HDR,
                          payload("1799999900", "1799999900", "1800086400",
                                  ",\"exp\":1900000000"),
                          KEY_A),
                    "claims");
    /* time rules: leeway 60 s */
    ck_assert_int_eq(verify(forge(HDR,
                                  payload("1799000000", "1799000000",
                                          "1799999941", ""),
                                  KEY_A),
                            &reason),
                     APR_SUCCESS);
    assert_rejected(forge(HDR,
                          payload("1799000000", "1799000000", "1799999940", ""),
                          KEY_A),
                    "expired");
    assert_rejected(forge(HDR,
                          payload("1799999900", "1800000061", "1800086400", ""),
                          KEY_A),
                    "not yet");
    assert_rejected(forge(HDR,
                          payload("1800000061", "1799999900", "1800086400", ""),
                          KEY_A),
                    "not yet");
    /* lifetime: 366 days allowed, 367 not */
    ck_assert_int_eq(verify(forge(HDR,
                                  payload("1799999900", "1799999900",
                                          "1831622300", ""),
                                  KEY_A),
                            &reason),
                     APR_SUCCESS);
    assert_rejected(forge(HDR,
                          payload("1799999900", "1799999900", "1831708700", ""),
                          KEY_A),
                    "lifetime");
}
END_TEST

START_TEST(jwt_identity_rules)
{
    scim_token_claims_t c = claims(), out;
    const scim_jwk_t *k = scim_keyset_find(keys(), "k1");
    const char *reason, *tok;

    tok = scim_jwt_sign(pool, k, &c);
    ck_assert_int_ne(scim_jwt_verify(pool, keys(), tok, strlen(tok),
                                     "https://other", "acme", NOW, &out, &reason),
                     APR_SUCCESS);
    ck_assert_str_eq(reason, "wrong issuer");
    ck_assert_int_ne(scim_jwt_verify(pool, keys(), tok, strlen(tok), ISS,
                                     "globex", NOW, &out, &reason),
                     APR_SUCCESS);
    ck_assert_str_eq(reason, "token of another tenant");
    c.aud = "urn:scim-provision:tenant:globex";
    assert_rejected(scim_jwt_sign(pool, k, &c), "audience");
    c = claims();
    c.idp = "onelogin";
    assert_rejected(scim_jwt_sign(pool, k, &c), "idp");
    c = claims();
    c.sub = "admin";
    assert_rejected(scim_jwt_sign(pool, k, &c), "sub");
    c = claims();
    c.jti = "short";
    assert_rejected(scim_jwt_sign(pool, k, &c), "jti");
}
END_TEST

Suite *scim_core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("util-json-jwt");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, b64url_roundtrip);
    tcase_add_test(tc, b64url_strict);
    tcase_add_test(tc, b64_every_byte);
    tcase_add_test(tc, b64_basic);
    tcase_add_test(tc, ids_and_slugs);
    tcase_add_test(tc, generated_username);
    tcase_add_test(tc, sha_hex_ct);
    tcase_add_test(tc, json_strict);
    tcase_add_test(tc, keyset_rules);
    tcase_add_test(tc, jwt_roundtrip);
    tcase_add_test(tc, jwt_header_rules);
    tcase_add_test(tc, jwt_structure_rules);
    tcase_add_test(tc, jwt_claim_rules);
    tcase_add_test(tc, jwt_identity_rules);
    suite_add_tcase(s, tc);
    return s;
}
