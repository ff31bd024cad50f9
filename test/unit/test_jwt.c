/* Unit tests of scim_jwt: every rejection rule of the token format (SPEC
 * section 4) with a forged token that breaks exactly that rule and is
 * otherwise valid (correctly signed), the key set rules, key generation and
 * the RFC 7515 A.1 HMAC known answer. */

#include <check.h>
#include <stdio.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include "scim_json.h"
#include "scim_jwt.h"
#include "scim_token.h"
#include "scim_util.h"
#include "unit_suites.h"

#define NOW    APR_INT64_C(1800000000)
#define ISS    "https://scim.example.test"
#define TENANT "acme"
#define AUD    "urn:scim-provision:tenant:acme"
#define SUB    "0b6c7d2e-8f1a-4b3c-9d4e-5f6a7b8c9d0e"
#define JTI    "AAECAwQFBgcICQoLDA0ODw" /* bytes 0..15 */
#define DAY    86400

/* k1: 32 x 'a'; k2: 40 x 'b' (a second key, for rotation). */
#define KEY1     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KEY2     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define KEY1_B64 "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE"
#define KEY2_B64 "YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYg"
#define HDR1     "{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\",\"kid\":\"k1\"}"
#define HDR2     "{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\",\"kid\":\"k2\"}"

static apr_pool_t *pool;
static scim_keyset_t *ks;

static void setup(void)
{
    const char *j = "{\"keys\":["
                    "{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":\"k1\","
                    "\"k\":\"" KEY1_B64 "\"},"
                    "{\"kty\":\"oct\",\"use\":\"sig\",\"alg\":\"HS256\","
                    "\"kid\":\"k2\",\"key_ops\":[\"sign\",\"verify\"],"
                    "\"k\":\"" KEY2_B64 "\"}]}";
    const char *err = NULL;

    apr_pool_create(&pool, NULL);
    ks = NULL;
    ck_assert_int_eq(scim_keyset_parse(pool, j, strlen(j), &ks, &err),
                     APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* ---- forging ---------------------------------------------------------- */

static char *b64(const char *s)
{
    return scim_b64url_encode(pool, (const unsigned char *)s, strlen(s));
}

/* A token of segment texts h64 and c64, correctly signed with key: so a
 * rejection can only come from the rule under test. */
static const char *sign_raw(const char *h64, const char *c64, const char *key)
{
    const char *input = apr_pstrcat(pool, h64, ".", c64, NULL);
    unsigned char mac[32];

    scim_hmac_sha256((const unsigned char *)key, strlen(key), input,
                     strlen(input), mac);
    return apr_pstrcat(pool, input, ".", scim_b64url_encode(pool, mac, 32), NULL);
}

static const char *forge(const char *header, const char *claims, const char *key)
{
    return sign_raw(b64(header), b64(claims), key);
}

/* Claim values as raw JSON texts; NULL leaves the member out. */
typedef struct {
    const char *iss, *aud, *tid, *sub, *idp, *jti, *iat, *nbf, *exp;
    const char *extra; /* appended verbatim, e.g. ",\"x\":1" */
} pl_t;

static pl_t good(void)
{
    pl_t p;

    p.iss = "\"" ISS "\"";
    p.aud = "\"" AUD "\"";
    p.tid = "\"" TENANT "\"";
    p.sub = "\"" SUB "\"";
    p.idp = "\"okta\"";
    p.jti = "\"" JTI "\"";
    p.iat = apr_psprintf(pool, "%" APR_INT64_T_FMT, NOW - 100);
    p.nbf = p.iat;
    p.exp = apr_psprintf(pool, "%" APR_INT64_T_FMT, NOW + DAY);
    p.extra = "";
    return p;
}

static const char *member(const char *name, const char *v)
{
    return v ? apr_psprintf(pool, ",\"%s\":%s", name, v) : "";
}

static const char *claims_json(const pl_t *p)
{
    const char *s = apr_pstrcat(pool, member("iss", p->iss),
                                member("aud", p->aud), member("tid", p->tid),
                                member("sub", p->sub), member("idp", p->idp),
                                member("jti", p->jti), member("iat", p->iat),
                                member("nbf", p->nbf), member("exp", p->exp),
                                p->extra, NULL);

    return apr_pstrcat(pool, "{", *s ? s + 1 : s, "}", NULL);
}

static const char *forge_pl(const pl_t *p)
{
    return forge(HDR1, claims_json(p), KEY1);
}

static const char *t64(apr_int64_t t)
{
    return apr_psprintf(pool, "%" APR_INT64_T_FMT, t);
}

/* ---- checking --------------------------------------------------------- */

static apr_status_t verify_len(const char *tok, apr_size_t len,
                               scim_token_claims_t *out, const char **reason)
{
    return scim_jwt_verify(pool, ks, tok, len, ISS, TENANT, NOW, out, reason);
}

static void assert_ok(const char *tok)
{
    scim_token_claims_t out;
    const char *reason = NULL;
    apr_status_t rv = verify_len(tok, strlen(tok), &out, &reason);

    ck_assert_msg(rv == APR_SUCCESS, "rejected: %s", reason);
}

/* tok is refused with rv, the reason contains want and no token bytes,
 * and nothing of the claims leaks into *out. */
static void assert_rejected_rv(const char *tok, apr_size_t len,
                               apr_status_t want_rv, const char *want)
{
    scim_token_claims_t out;
    const char *reason = NULL, *seg;
    apr_status_t rv;

    memset(&out, 0x5a, sizeof(out));
    rv = verify_len(tok, len, &out, &reason);
    ck_assert_msg(rv == want_rv, "status %d, want %d (reason %s)", rv, want_rv,
                  reason ? reason : "-");
    ck_assert_ptr_nonnull(reason);
    ck_assert_msg(strstr(reason, want) != NULL, "reason '%s' lacks '%s'",
                  reason, want);
    ck_assert_ptr_null(out.iss);
    ck_assert_ptr_null(out.sub);
    ck_assert_ptr_null(out.kid);
    ck_assert(out.exp == 0);
    /* no token bytes in the reason: no 5-byte piece of any segment */
    for (seg = tok; tok && seg < tok + len; seg++) {
        if (seg + 5 <= tok + len && !memchr(seg, '.', 5)
            && !memchr(seg, '\0', 5)) {
            char piece[6];

            memcpy(piece, seg, 5);
            piece[5] = '\0';
            ck_assert_msg(strstr(reason, piece) == NULL,
                          "reason '%s' contains token bytes '%s'", reason, piece);
        }
    }
}

static void assert_rejected(const char *tok, const char *want)
{
    assert_rejected_rv(tok, strlen(tok), APR_EINVAL, want);
}

static scim_token_claims_t claims(void)
{
    scim_token_claims_t c;

    memset(&c, 0, sizeof(c));
    c.iss = ISS;
    c.tid = TENANT;
    c.sub = SUB;
    c.idp = "okta";
    c.jti = JTI;
    c.iat = c.nbf = NOW - 100;
    c.exp = NOW + DAY;
    return c;
}

/* ---- signing and the happy path --------------------------------------- */

START_TEST(sign_and_verify)
{
    scim_token_claims_t c = claims(), out;
    const char *reason = NULL;
    const char *tok = scim_jwt_sign(pool, scim_keyset_find(ks, "k1"), &c);

    ck_assert_ptr_nonnull(tok);
    ck_assert_int_eq(verify_len(tok, strlen(tok), &out, &reason), APR_SUCCESS);
    ck_assert_ptr_null(reason);
    ck_assert_str_eq(out.kid, "k1");
    ck_assert_str_eq(out.iss, ISS);
    ck_assert_str_eq(out.aud, AUD);
    ck_assert_str_eq(out.tid, TENANT);
    ck_assert_str_eq(out.sub, SUB);
    ck_assert_str_eq(out.idp, "okta");
    ck_assert_str_eq(out.jti, JTI);
    ck_assert(out.iat == NOW - 100);
    ck_assert(out.nbf == NOW - 100);
    ck_assert(out.exp == NOW + DAY);
}
END_TEST

START_TEST(sign_exact_format)
{
    scim_token_claims_t c = claims();
    const char *tok = scim_jwt_sign(pool, scim_keyset_find(ks, "k1"), &c);
    const char *dot = strchr(tok, '.');
    unsigned char *h;
    apr_size_t n;

    /* the header is exactly the documented text, and the whole token is
     * what the hand-built equivalent is: claims in the documented order */
    ck_assert_int_eq(scim_b64url_decode(pool, tok, (apr_size_t)(dot - tok), &h,
                                        &n),
                     APR_SUCCESS);
    ck_assert_str_eq((char *)h, HDR1);
    ck_assert_str_eq(tok,
                     forge_pl(&(pl_t){ "\"" ISS "\"", "\"" AUD "\"",
                                       "\"" TENANT "\"", "\"" SUB "\"",
                                       "\"okta\"", "\"" JTI "\"", t64(NOW - 100),
                                       t64(NOW - 100), t64(NOW + DAY), "" }));
}
END_TEST

START_TEST(sign_aud_and_missing)
{
    scim_token_claims_t c = claims(), out;
    const scim_jwk_t *k = scim_keyset_find(ks, "k1");
    const char *reason, *tok;

    c.aud = NULL; /* computed from tid */
    tok = scim_jwt_sign(pool, k, &c);
    ck_assert_int_eq(verify_len(tok, strlen(tok), &out, &reason), APR_SUCCESS);
    ck_assert_str_eq(out.aud, AUD);
    c.aud = "urn:scim-provision:tenant:other"; /* given: used as is */
    assert_rejected(scim_jwt_sign(pool, k, &c), "wrong audience");
    c = claims();
    c.jti = NULL;
    ck_assert_ptr_null(scim_jwt_sign(pool, k, &c));
    c = claims();
    c.iss = NULL;
    ck_assert_ptr_null(scim_jwt_sign(pool, k, &c));
    c = claims();
    c.sub = "\xff"; /* not UTF-8: Jansson refuses it */
    ck_assert_ptr_null(scim_jwt_sign(pool, k, &c));
    ck_assert_ptr_null(scim_jwt_sign(pool, NULL, &c));
}
END_TEST

START_TEST(verify_uses_len)
{
    scim_token_claims_t c = claims(), out;
    const char *reason = NULL;
    const char *tok = scim_jwt_sign(pool, scim_keyset_find(ks, "k1"), &c);
    char *buf = apr_pstrcat(pool, tok, "garbage", NULL);

    /* not NUL-terminated: only len bytes count */
    ck_assert_int_eq(verify_len(buf, strlen(tok), &out, &reason), APR_SUCCESS);
    ck_assert_str_eq(out.sub, SUB);
    /* and they all count */
    assert_rejected_rv(buf, strlen(buf), APR_EINVAL, "signature");
}
END_TEST

START_TEST(key_rotation)
{
    scim_token_claims_t c = claims(), out;
    const char *reason = NULL;
    const char *tok = scim_jwt_sign(pool, scim_keyset_find(ks, "k2"), &c);

    /* a token of the second key still verifies: keys rotate */
    ck_assert_int_eq(verify_len(tok, strlen(tok), &out, &reason), APR_SUCCESS);
    ck_assert_str_eq(out.kid, "k2");
    /* the kid decides the key: k2's key under kid k1 and vice versa fail */
    {
        pl_t p = good();

        assert_rejected(forge(HDR1, claims_json(&p), KEY2), "bad signature");
        assert_rejected(forge(HDR2, claims_json(&p), KEY1), "bad signature");
        assert_ok(forge(HDR2, claims_json(&p), KEY2));
    }
}
END_TEST

START_TEST(rfc7515_a1_known_answer)
{
    /* RFC 7515 Appendix A.1: HS256 JWS with its example key. */
    const char *k = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75a"
                    "KtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    const char *h64 = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
    const char *c64 = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0"
                      "dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
    const char *s64 = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const char *input = apr_pstrcat(pool, h64, ".", c64, NULL);
    const char *ksj, *tok, *reason = NULL, *err = NULL;
    unsigned char *key, *sig, mac[32];
    apr_size_t klen, slen;
    scim_keyset_t *rks;
    scim_token_claims_t out;

    ck_assert_int_eq(scim_b64url_decode(pool, k, strlen(k), &key, &klen),
                     APR_SUCCESS);
    ck_assert_uint_eq(klen, 64);
    ck_assert_int_eq(scim_b64url_decode(pool, s64, strlen(s64), &sig, &slen),
                     APR_SUCCESS);
    ck_assert_uint_eq(slen, 32);
    scim_hmac_sha256(key, klen, input, strlen(input), mac);
    ck_assert(scim_ct_equal(mac, sig, 32));
    ck_assert_str_eq(scim_b64url_encode(pool, mac, 32), s64);
    /* The same key in a key set: the RFC's token has a valid MAC but is not
     * a provisioning token (typ JWT, no kid), so verification refuses it. */
    ksj = apr_pstrcat(pool,
                      "{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\","
                      "\"kid\":\"rfc\",\"k\":\"",
                      k, "\"}]}", NULL);
    ck_assert_int_eq(scim_keyset_parse(pool, ksj, strlen(ksj), &rks, &err),
                     APR_SUCCESS);
    tok = apr_pstrcat(pool, input, ".", s64, NULL);
    ck_assert_int_eq(scim_jwt_verify(pool, rks, tok, strlen(tok), "joe", TENANT,
                                     1300819300, &out, &reason),
                     APR_EINVAL);
    ck_assert_str_eq(reason, "wrong typ");
}
END_TEST

START_TEST(audience_and_jti)
{
    const char *a = scim_jwt_new_jti(pool), *b = scim_jwt_new_jti(pool);
    unsigned char *raw;
    apr_size_t n;

    ck_assert_str_eq(scim_jwt_audience(pool, "acme"), AUD);
    ck_assert_uint_eq(strlen(a), 22);
    ck_assert_int_eq(scim_b64url_decode(pool, a, 22, &raw, &n), APR_SUCCESS);
    ck_assert_uint_eq(n, 16);
    ck_assert_str_ne(a, b);
}
END_TEST

/* ---- structure -------------------------------------------------------- */

START_TEST(rejects_empty_and_segments)
{
    pl_t p = good();
    const char *good_tok = forge_pl(&p);

    assert_ok(good_tok);
    assert_rejected_rv("", 0, APR_EINVAL, "empty token");
    assert_rejected_rv(NULL, 0, APR_EINVAL, "empty token");
    assert_rejected("abc", "three segments");
    assert_rejected("a.b", "three segments");
    assert_rejected("..", "header is not valid JSON");
    assert_rejected("a.b.c.d", "three segments");
    assert_rejected(apr_pstrcat(pool, good_tok, ".", NULL), "three segments");
    assert_rejected(apr_pstrcat(pool, ".", good_tok, NULL), "three segments");
    assert_rejected(apr_pstrcat(pool, good_tok, ".x", NULL), "three segments");
    /* JWE-like five segments */
    assert_rejected(apr_pstrcat(pool, good_tok, ".a.b", NULL), "three segments");
}
END_TEST

START_TEST(rejects_nul_byte)
{
    pl_t p = good();
    const char *tok = forge_pl(&p);
    apr_size_t n = strlen(tok);
    char *buf = apr_pmemdup(pool, tok, n + 1);

    buf[10] = '\0';
    assert_rejected_rv(buf, n, APR_EINVAL, "NUL");
    buf = apr_pmemdup(pool, tok, n + 1);
    buf[n - 1] = '\0';
    assert_rejected_rv(buf, n, APR_EINVAL, "NUL");
}
END_TEST

START_TEST(rejects_too_long)
{
    pl_t p = good();
    const char *tok = forge_pl(&p);
    int below = 0;

    /* Grow a correctly signed token one issuer byte at a time: up to
     * SCIM_JWT_MAX_LEN bytes it gets past the length rule (and fails on the
     * padded issuer), beyond it it does not. */
    p.iss = apr_psprintf(pool, "\"%s%*s\"", ISS,
                         (int)((SCIM_JWT_MAX_LEN - strlen(tok)) * 3 / 4 - 6), "");
    for (tok = forge_pl(&p); strlen(tok) <= SCIM_JWT_MAX_LEN; tok = forge_pl(&p)) {
        assert_rejected(tok, "wrong issuer");
        below++;
        p.iss = apr_pstrcat(pool, "\" ", p.iss + 1, NULL);
    }
    ck_assert_int_ge(below, 2);
    assert_rejected(tok, "token too long");
}
END_TEST

START_TEST(rejects_padding)
{
    pl_t p = good();
    /* HDR1 is 48 bytes: one trailing space gives a length with padding */
    const char *h64 = b64(HDR1 " "), *c64 = b64(claims_json(&p));
    const char *tok = sign_raw(h64, c64, KEY1);

    /* '=' on the signature (43 chars + "=" is the padded form) */
    assert_rejected(apr_pstrcat(pool, tok, "=", NULL),
                    "signature is not canonical base64url");
    /* padding on header / claims, correctly signed over the padded text */
    ck_assert_int_ne(strlen(h64) % 4, 0);
    assert_rejected(sign_raw(apr_pstrcat(pool, h64,
                                         strlen(h64) % 4 == 2 ? "==" : "=", NULL),
                             c64, KEY1),
                    "header is not canonical base64url");
    assert_rejected(sign_raw(h64, apr_pstrcat(pool, c64, "=", NULL), KEY1),
                    "claims are not canonical base64url");
}
END_TEST

/* Replace the first '-' or '_' of segment idx (0..2) by '+' or '/'. */
static const char *std_alphabet(const char *tok, int idx)
{
    char *t = apr_pstrdup(pool, tok), *s = t;
    int i;

    for (i = 0; i < idx; i++) {
        s = strchr(s, '.') + 1;
    }
    for (; *s && *s != '.'; s++) {
        if (*s == '-' || *s == '_') {
            *s = *s == '-' ? '+' : '/';
            return t;
        }
    }
    return NULL;
}

START_TEST(rejects_standard_alphabet)
{
    pl_t p = good();
    const char *tok = NULL;
    int i;

    /* a signature with '-' or '_' in it: vary jti until one has */
    for (i = 0; i < 200 && !tok; i++) {
        p.jti = apr_psprintf(pool, "\"%s\"", scim_jwt_new_jti(pool));
        tok = forge_pl(&p);
        if (!std_alphabet(tok, 2)) {
            tok = NULL;
        }
    }
    ck_assert_ptr_nonnull(tok);
    assert_rejected(std_alphabet(tok, 2), "signature is not canonical base64url");
    /* in the header or claims: a '+' or '/' where '-'/'_' belongs, signed
     * over that very text, so only the alphabet rule can refuse it */
    assert_rejected(sign_raw(apr_pstrcat(pool, "+", b64(HDR1) + 1, NULL),
                             b64(claims_json(&p)), KEY1),
                    "header is not canonical base64url");
    assert_rejected(sign_raw(b64(HDR1),
                             apr_pstrcat(pool, "/", b64(claims_json(&p)) + 1, NULL),
                             KEY1),
                    "claims are not canonical base64url");
    /* whitespace */
    assert_rejected(sign_raw(apr_pstrcat(pool, " ", b64(HDR1), NULL),
                             b64(claims_json(&p)), KEY1),
                    "header is not canonical base64url");
}
END_TEST

/* seg with its last character's unused low bits set: decodes to the same
 * bytes with a lenient decoder, but is not the canonical encoding. */
static const char *stray(const char *seg)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                            "vwxyz0123456789-_";
    char *s = apr_pstrdup(pool, seg);
    apr_size_t n = strlen(s);
    int v = (int)(strchr(a, s[n - 1]) - a);

    ck_assert_int_ne(n % 4, 0);
    s[n - 1] = a[v | (n % 4 == 2 ? 15 : 3)];
    return s;
}

START_TEST(rejects_stray_bits)
{
    pl_t p = good();
    const char *h64 = b64(HDR1 " "), *c64, *tok, *sig;

    /* the signature: 32 bytes = 43 chars, 2 unused bits */
    tok = forge_pl(&p);
    sig = strrchr(tok, '.') + 1;
    ck_assert_uint_eq(strlen(sig), 43);
    assert_rejected(apr_pstrcat(pool,
                                apr_pstrmemdup(pool, tok, (apr_size_t)(sig - tok)),
                                stray(sig), NULL),
                    "signature is not canonical base64url");
    /* the header (49 bytes: 66 chars, 4 unused bits), signed as sent */
    assert_ok(sign_raw(h64, b64(claims_json(&p)), KEY1));
    assert_rejected(sign_raw(stray(h64), b64(claims_json(&p)), KEY1),
                    "header is not canonical base64url");
    /* the claims, padded to a length that has unused bits */
    c64 = b64(claims_json(&p));
    if (strlen(c64) % 4 == 0) {
        p.extra = ",\"x\":0";
        c64 = b64(claims_json(&p));
    }
    assert_rejected(sign_raw(h64, stray(c64), KEY1),
                    "claims are not canonical base64url");
}
END_TEST

/* ---- header ----------------------------------------------------------- */

START_TEST(rejects_bad_alg)
{
    pl_t p = good();
    const char *c = claims_json(&p);
    const char *tok;

    assert_rejected(forge("{\"alg\":\"none\",\"typ\":\"scim-prov+jwt\","
                          "\"kid\":\"k1\"}",
                          c, KEY1),
                    "unsupported alg");
    /* alg none the classic way: empty signature */
    tok = forge("{\"alg\":\"none\",\"typ\":\"scim-prov+jwt\",\"kid\":\"k1\"}",
                c, KEY1);
    assert_rejected(apr_pstrndup(pool, tok,
                                 (apr_size_t)(strrchr(tok, '.') - tok + 1)),
                    "unsupported alg");
    assert_rejected(forge("{\"alg\":\"HS512\",\"typ\":\"scim-prov+jwt\","
                          "\"kid\":\"k1\"}",
                          c, KEY1),
                    "unsupported alg");
    assert_rejected(forge("{\"alg\":\"RS256\",\"typ\":\"scim-prov+jwt\","
                          "\"kid\":\"k1\"}",
                          c, KEY1),
                    "unsupported alg");
    assert_rejected(forge("{\"alg\":\"hs256\",\"typ\":\"scim-prov+jwt\","
                          "\"kid\":\"k1\"}",
                          c, KEY1),
                    "unsupported alg");
    assert_rejected(forge("{\"typ\":\"scim-prov+jwt\",\"kid\":\"k1\"}", c, KEY1),
                    "header lacks alg");
    assert_rejected(forge("{\"alg\":256,\"typ\":\"scim-prov+jwt\","
                          "\"kid\":\"k1\"}",
                          c, KEY1),
                    "header lacks alg");
}
END_TEST

START_TEST(rejects_bad_typ_and_kid)
{
    pl_t p = good();
    const char *c = claims_json(&p);

    assert_rejected(forge("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
                          c, KEY1),
                    "wrong typ");
    assert_rejected(forge("{\"alg\":\"HS256\",\"typ\":\"SCIM-PROV+JWT\","
                          "\"kid\":\"k1\"}",
                          c, KEY1),
                    "wrong typ");
    assert_rejected(forge("{\"alg\":\"HS256\",\"kid\":\"k1\"}", c, KEY1),
                    "header lacks typ");
    assert_rejected(forge("{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\"}", c,
                          KEY1),
                    "header lacks kid");
    assert_rejected(forge("{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\","
                          "\"kid\":1}",
                          c, KEY1),
                    "header lacks kid");
    /* unknown kid: APR_ENOENT */
    {
        const char *tok = forge("{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\","
                                "\"kid\":\"k9\"}",
                                c, KEY1);

        assert_rejected_rv(tok, strlen(tok), APR_ENOENT, "unknown kid");
        tok = forge("{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\","
                    "\"kid\":\"\"}",
                    c, KEY1);
        assert_rejected_rv(tok, strlen(tok), APR_ENOENT, "unknown kid");
    }
}
END_TEST

START_TEST(rejects_extra_header_member)
{
    static const char *const extra[] = {
        ",\"jku\":\"https://evil.test/jwks\"",
        ",\"x5u\":\"https://evil.test/cert\"",
        ",\"jwk\":{\"kty\":\"oct\",\"k\":\"AAAA\"}",
        ",\"crit\":[\"b64\"],\"b64\":false",
        ",\"b64\":false",
        ",\"cty\":\"JWT\"",
        ",\"x5c\":[\"MIIB\"]",
        ",\"zip\":\"DEF\"",
    };
    pl_t p = good();
    const char *c = claims_json(&p);
    size_t i;

    for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        const char *h = apr_pstrcat(pool,
                                    "{\"alg\":\"HS256\",\"typ\":"
                                    "\"scim-prov+jwt\",\"kid\":\"k1\"",
                                    extra[i], "}", NULL);

        assert_rejected(forge(h, c, KEY1), "header has extra member");
    }
    /* member order does not matter */
    assert_ok(forge("{\"kid\":\"k1\",\"typ\":\"scim-prov+jwt\","
                    "\"alg\":\"HS256\"}",
                    c, KEY1));
}
END_TEST

START_TEST(rejects_bad_header_json)
{
    pl_t p = good();
    const char *c = claims_json(&p);

    assert_rejected(forge("{\"alg\":\"HS256\",\"alg\":\"HS256\","
                          "\"typ\":\"scim-prov+jwt\",\"kid\":\"k1\"}",
                          c, KEY1),
                    "header has a duplicate member");
    /* duplicate kid: last-wins would pick a different key */
    assert_rejected(forge("{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\","
                          "\"kid\":\"k2\",\"kid\":\"k1\"}",
                          c, KEY1),
                    "header has a duplicate member");
    assert_rejected(forge("[\"HS256\"]", c, KEY1), "header is not a JSON object");
    assert_rejected(forge("\"HS256\"", c, KEY1), "header is not a JSON object");
    assert_rejected(forge("{\"alg\":\"HS256\"", c, KEY1),
                    "header is not valid JSON");
    assert_rejected(forge(HDR1 " x", c, KEY1), "header is not valid JSON");
    assert_rejected(forge(HDR1 "{}", c, KEY1), "header is not valid JSON");
    assert_rejected(forge("{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\","
                          "\"kid\":\"k\xff\"}",
                          c, KEY1),
                    "header is not valid JSON");
    /* trailing whitespace is harmless JSON, but the bytes are still signed */
    assert_ok(forge(HDR1 " ", c, KEY1));
}
END_TEST

/* The header scim_jwt_sign() writes is recognised without the parser; any
 * other spelling of it, or a near miss, gets the parser's answer. */
START_TEST(header_as_written_and_otherwise)
{
    pl_t p = good();
    const char *c = claims_json(&p), *tok;
    scim_token_claims_t out;
    const char *reason = NULL;

    tok = forge(HDR1, c, KEY1);
    ck_assert_int_eq(verify_len(tok, strlen(tok), &out, &reason), APR_SUCCESS);
    ck_assert_str_eq(out.kid, "k1");
    /* an escape in the kid: the parser reads k1 */
    assert_ok(forge("{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\","
                    "\"kid\":\"k\\u0031\"}",
                    c, KEY1));
    /* a space, a kid past 64 characters, bytes after the object */
    tok = forge("{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\",\"kid\":\"k1 \"}",
                c, KEY1);
    assert_rejected_rv(tok, strlen(tok), APR_ENOENT, "unknown kid");
    tok = forge(apr_pstrcat(pool,
                            "{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\","
                            "\"kid\":\"k1",
                            apr_pstrndup(pool,
                                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                                         63),
                            "\"}", NULL),
                c, KEY1);
    assert_rejected_rv(tok, strlen(tok), APR_ENOENT, "unknown kid");
    assert_rejected(forge(HDR1 "}", c, KEY1), "header is not valid JSON");
    assert_rejected(forge("{\"alg\":\"HS256\",\"typ\":\"scim-prov+jwt\","
                          "\"kid\":\"k1\"}\"}",
                          c, KEY1),
                    "header is not valid JSON");
    /* the wrong key under the header as written: the signature decides */
    assert_rejected(forge(HDR1, c, KEY2), "bad signature");
}
END_TEST

/* ---- signature -------------------------------------------------------- */

START_TEST(rejects_bad_signature)
{
    pl_t p = good();
    const char *tok = forge_pl(&p), *sig = strrchr(tok, '.') + 1;
    const char *head = apr_pstrmemdup(pool, tok, (apr_size_t)(sig - tok));
    unsigned char *mac;
    apr_size_t n;

    ck_assert_int_eq(scim_b64url_decode(pool, sig, strlen(sig), &mac, &n),
                     APR_SUCCESS);
    /* 31 and 33 bytes, and none */
    assert_rejected(apr_pstrcat(pool, head, scim_b64url_encode(pool, mac, 31),
                                NULL),
                    "bad signature length");
    {
        unsigned char longer[33];

        memcpy(longer, mac, 32);
        longer[32] = 0;
        assert_rejected(apr_pstrcat(pool, head,
                                    scim_b64url_encode(pool, longer, 33), NULL),
                        "bad signature length");
    }
    assert_rejected(head, "bad signature length");
    /* one bit of the MAC flipped */
    mac[31] ^= 1;
    assert_rejected(apr_pstrcat(pool, head, scim_b64url_encode(pool, mac, 32),
                                NULL),
                    "bad signature");
    mac[31] ^= 1;
    mac[0] ^= 0x80;
    assert_rejected(apr_pstrcat(pool, head, scim_b64url_encode(pool, mac, 32),
                                NULL),
                    "bad signature");
    /* signed with a key the server does not have */
    assert_rejected(forge(HDR1, claims_json(&p),
                          "cccccccccccccccccccccccccccccccc"),
                    "bad signature");
}
END_TEST

START_TEST(rejects_tampered_payload)
{
    pl_t p = good(), q = good();
    const char *tok = forge_pl(&p), *sig = strrchr(tok, '.');
    const char *dot = strchr(tok, '.');

    /* the claims of another token with this token's signature */
    q.exp = t64(NOW + 300 * DAY);
    assert_rejected(apr_pstrcat(pool, b64(HDR1), ".", b64(claims_json(&q)), sig,
                                NULL),
                    "bad signature");
    /* the claims of a token for another tenant */
    q = good();
    q.tid = "\"globex\"";
    q.aud = "\"urn:scim-provision:tenant:globex\"";
    assert_rejected(apr_pstrcat(pool, b64(HDR1), ".", b64(claims_json(&q)), sig,
                                NULL),
                    "bad signature");
    /* the header of another kid with k1's signature */
    assert_rejected(apr_pstrcat(pool, b64(HDR2), dot, NULL), "bad signature");
}
END_TEST

/* ---- claims ----------------------------------------------------------- */

START_TEST(rejects_missing_claim)
{
    static const char *const names[] = { "iss", "aud", "tid", "sub", "idp",
                                         "jti", "iat", "nbf", "exp" };
    pl_t p = good();

    switch (_i) {
    case 0:
        p.iss = NULL;
        break;
    case 1:
        p.aud = NULL;
        break;
    case 2:
        p.tid = NULL;
        break;
    case 3:
        p.sub = NULL;
        break;
    case 4:
        p.idp = NULL;
        break;
    case 5:
        p.jti = NULL;
        break;
    case 6:
        p.iat = NULL;
        break;
    case 7:
        p.nbf = NULL;
        break;
    default:
        p.exp = NULL;
        break;
    }
    assert_rejected(forge_pl(&p),
                    apr_pstrcat(pool, "claims lack ", names[_i], NULL));
}
END_TEST

START_TEST(rejects_extra_claim)
{
    pl_t p = good();

    p.extra = ",\"admin\":true";
    assert_rejected(forge_pl(&p), "claims have extra member");
    p.extra = ",\"scope\":\"all\"";
    assert_rejected(forge_pl(&p), "claims have extra member");
    p.extra = ",\"kid\":\"k2\"";
    assert_rejected(forge_pl(&p), "claims have extra member");
    /* an extra member replacing a required one */
    p = good();
    p.nbf = NULL;
    p.extra = ",\"nbf2\":0";
    assert_rejected(forge_pl(&p), "claims have extra member");
}
END_TEST

START_TEST(rejects_duplicate_claim)
{
    pl_t p = good();

    p.extra = apr_psprintf(pool, ",\"exp\":%" APR_INT64_T_FMT, NOW + 2 * DAY);
    assert_rejected(forge_pl(&p), "claims have a duplicate member");
    p.extra = ",\"tid\":\"globex\"";
    assert_rejected(forge_pl(&p), "claims have a duplicate member");
}
END_TEST

START_TEST(rejects_claim_types)
{
    pl_t p;

    p = good();
    p.iat = apr_psprintf(pool, "\"%" APR_INT64_T_FMT "\"", NOW - 100);
    assert_rejected(forge_pl(&p), "claim iat is not an integer");
    p = good();
    p.nbf = "null";
    assert_rejected(forge_pl(&p), "claim nbf is not an integer");
    p = good();
    p.exp = apr_psprintf(pool, "%" APR_INT64_T_FMT ".5", NOW + DAY);
    assert_rejected(forge_pl(&p), "claim exp is not an integer");
    p = good();
    p.exp = apr_psprintf(pool, "%" APR_INT64_T_FMT ".0", NOW + DAY);
    assert_rejected(forge_pl(&p), "claim exp is not an integer");
    p = good();
    p.exp = "1.9e9";
    assert_rejected(forge_pl(&p), "claim exp is not an integer");
    p = good();
    p.exp = "true";
    assert_rejected(forge_pl(&p), "claim exp is not an integer");
    p = good();
    p.exp = "[1900000000]";
    assert_rejected(forge_pl(&p), "claim exp is not an integer");
    p = good();
    p.iss = "1";
    assert_rejected(forge_pl(&p), "claim iss is not a string");
    p = good();
    p.aud = "[\"" AUD "\"]"; /* RFC 7519 allows an array: we do not */
    assert_rejected(forge_pl(&p), "claim aud is not a string");
    p = good();
    p.sub = "null";
    assert_rejected(forge_pl(&p), "claim sub is not a string");
    p = good();
    p.idp = "{\"okta\":1}";
    assert_rejected(forge_pl(&p), "claim idp is not a string");
    /* deeper than a flat object: refused before types are looked at */
    p = good();
    p.jti = "[[\"x\"]]";
    assert_rejected(forge_pl(&p), "claims are not valid JSON");
}
END_TEST

START_TEST(rejects_claim_json)
{
    assert_rejected(forge(HDR1, "[]", KEY1), "claims are not a JSON object");
    assert_rejected(forge(HDR1, "1800000000", KEY1),
                    "claims are not a JSON object");
    assert_rejected(forge(HDR1, "{\"iss\":", KEY1), "claims are not valid JSON");
    assert_rejected(forge(HDR1, "", KEY1), "claims are not valid JSON");
    {
        pl_t p = good();

        assert_rejected(forge(HDR1, apr_pstrcat(pool, claims_json(&p), "x", NULL),
                              KEY1),
                        "claims are not valid JSON");
        p.sub = "\"0b6c7d2e-8f1a-4b3c-9d4e-5f6a7b8c9d0\\u0000\"";
        assert_rejected(forge_pl(&p), "claims are not valid JSON");
    }
}
END_TEST

START_TEST(rejects_time_out_of_range)
{
    pl_t p;

    p = good();
    p.iat = "-1";
    assert_rejected(forge_pl(&p), "claim iat is out of range");
    p = good();
    p.nbf = "-9223372036854775808";
    assert_rejected(forge_pl(&p), "claim nbf is out of range");
    p = good();
    p.exp = "9223372036854775807";
    assert_rejected(forge_pl(&p), "claim exp is out of range");
    p = good();
    p.exp = "99999999999999999999"; /* beyond int64: Jansson refuses */
    assert_rejected(forge_pl(&p), "claims are not valid JSON");
}
END_TEST

/* ---- claim values ----------------------------------------------------- */

START_TEST(rejects_wrong_issuer)
{
    pl_t p = good();
    scim_token_claims_t out;
    const char *reason, *tok;

    p.iss = "\"https://evil.test\"";
    assert_rejected(forge_pl(&p), "wrong issuer");
    p.iss = "\"HTTPS://SCIM.EXAMPLE.TEST\"";
    assert_rejected(forge_pl(&p), "wrong issuer");
    p.iss = "\"" ISS "/\"";
    assert_rejected(forge_pl(&p), "wrong issuer");
    p.iss = "\"\"";
    assert_rejected(forge_pl(&p), "wrong issuer");
    /* a good token under another configured issuer */
    p = good();
    tok = forge_pl(&p);
    ck_assert_int_eq(scim_jwt_verify(pool, ks, tok, strlen(tok),
                                     "https://other.test", TENANT, NOW, &out,
                                     &reason),
                     APR_EINVAL);
    ck_assert_str_eq(reason, "wrong issuer");
}
END_TEST

START_TEST(rejects_wrong_tenant)
{
    pl_t p = good();
    scim_token_claims_t out;
    const char *reason, *tok = forge_pl(&p);

    /* acme's token at globex's location */
    ck_assert_int_eq(scim_jwt_verify(pool, ks, tok, strlen(tok), ISS, "globex",
                                     NOW, &out, &reason),
                     APR_EINVAL);
    ck_assert_str_eq(reason, "token of another tenant");
    /* globex's (consistent) token at acme's location */
    p.tid = "\"globex\"";
    p.aud = "\"urn:scim-provision:tenant:globex\"";
    assert_rejected(forge_pl(&p), "token of another tenant");
    p.tid = "\"ACME\"";
    p.aud = "\"urn:scim-provision:tenant:ACME\"";
    assert_rejected(forge_pl(&p), "token of another tenant");
}
END_TEST

START_TEST(rejects_wrong_audience)
{
    pl_t p = good();

    p.aud = "\"urn:scim-provision:tenant:globex\"";
    assert_rejected(forge_pl(&p), "wrong audience");
    p.aud = "\"acme\"";
    assert_rejected(forge_pl(&p), "wrong audience");
    p.aud = "\"urn:scim-provision:tenant:acme \"";
    assert_rejected(forge_pl(&p), "wrong audience");
    p.aud = "\"URN:scim-provision:tenant:acme\"";
    assert_rejected(forge_pl(&p), "wrong audience");
}
END_TEST

START_TEST(checks_idp)
{
    pl_t p = good();

    p.idp = "\"entra\"";
    assert_ok(forge_pl(&p));
    p.idp = "\"onelogin\"";
    assert_rejected(forge_pl(&p), "unsupported idp");
    p.idp = "\"Okta\"";
    assert_rejected(forge_pl(&p), "unsupported idp");
    p.idp = "\"\"";
    assert_rejected(forge_pl(&p), "unsupported idp");
}
END_TEST

START_TEST(checks_sub)
{
    pl_t p = good();

    p.sub = "\"0B6C7D2E-8F1A-4B3C-9D4E-5F6A7B8C9D0E\"";
    assert_ok(forge_pl(&p));
    p.sub = "\"admin\"";
    assert_rejected(forge_pl(&p), "sub is not a UUID");
    p.sub = "\"0b6c7d2e-8f1a-4b3c-9d4e-5f6a7b8c9d0\"";
    assert_rejected(forge_pl(&p), "sub is not a UUID");
    p.sub = "\"0b6c7d2e-8f1a-4b3c-9d4e-5f6a7b8c9d0e' OR '1'='1\"";
    assert_rejected(forge_pl(&p), "sub is not a UUID");
    p.sub = "\"\"";
    assert_rejected(forge_pl(&p), "sub is not a UUID");
}
END_TEST

START_TEST(checks_jti)
{
    pl_t p = good();

    p.jti = apr_psprintf(pool, "\"%s\"", scim_jwt_new_jti(pool));
    assert_ok(forge_pl(&p));
    p.jti = "\"AAECAwQFBgcICQoLDA0OD\""; /* 21 chars */
    assert_rejected(forge_pl(&p), "malformed jti");
    p.jti = "\"AAECAwQFBgcICQoLDA0ODwA\""; /* 23 chars */
    assert_rejected(forge_pl(&p), "malformed jti");
    p.jti = "\"AAECAwQFBgcICQoLDA0ODx\""; /* stray bits */
    assert_rejected(forge_pl(&p), "malformed jti");
    p.jti = "\"AAECAwQFBgcICQoLDA0O+w\""; /* '+' */
    assert_rejected(forge_pl(&p), "malformed jti");
    p.jti = "\"AAECAwQFBgcICQoLDA0ODw==\""; /* padded */
    assert_rejected(forge_pl(&p), "malformed jti");
    p.jti = "\"AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCw\""; /* 28 bytes */
    assert_rejected(forge_pl(&p), "malformed jti");
    p.jti = "\"\"";
    assert_rejected(forge_pl(&p), "malformed jti");
}
END_TEST

/* ---- time ------------------------------------------------------------- */

static const char *times(apr_int64_t iat, apr_int64_t nbf, apr_int64_t exp)
{
    pl_t p = good();

    p.iat = t64(iat);
    p.nbf = t64(nbf);
    p.exp = t64(exp);
    return forge_pl(&p);
}

START_TEST(checks_expiry_with_leeway)
{
    apr_int64_t iat = NOW - 30 * DAY;

    assert_ok(times(iat, iat, NOW + 1));
    assert_ok(times(iat, iat, NOW)); /* within leeway */
    assert_ok(times(iat, iat, NOW - 59)); /* within leeway */
    assert_rejected(times(iat, iat, NOW - 60), "expired");
    assert_rejected(times(iat, iat, NOW - 61), "expired");
    assert_rejected(times(iat, iat, NOW - DAY), "expired");
}
END_TEST

START_TEST(checks_not_before_with_leeway)
{
    assert_ok(times(NOW, NOW + 60, NOW + DAY));
    assert_rejected(times(NOW, NOW + 61, NOW + DAY),
                    "not yet valid (nbf in the future)");
    assert_rejected(times(NOW, NOW + DAY, NOW + 2 * DAY), "nbf in the future");
    assert_ok(times(NOW + 60, NOW, NOW + DAY));
    assert_rejected(times(NOW + 61, NOW, NOW + DAY),
                    "not yet valid (iat in the future)");
}
END_TEST

START_TEST(checks_lifetime)
{
    apr_int64_t iat = NOW - 100;

    assert_ok(times(iat, iat, iat + 365 * DAY));
    assert_ok(times(iat, iat, iat + 366 * DAY));
    assert_rejected(times(iat, iat, iat + 366 * DAY + 1), "lifetime too long");
    assert_rejected(times(iat, iat, iat + 367 * DAY), "lifetime too long");
    assert_rejected(times(0, 0, NOW + DAY), "lifetime too long");
    /* exp must follow iat */
    assert_rejected(times(NOW, NOW, NOW), "exp not after iat");
    assert_rejected(times(NOW + 30, NOW, NOW + 10), "exp not after iat");
}
END_TEST

START_TEST(rejects_missing_configuration)
{
    pl_t p = good();
    scim_token_claims_t out;
    const char *reason, *tok = forge_pl(&p);
    scim_keyset_t *empty = scim_keyset_new(pool);

    ck_assert_int_eq(scim_jwt_verify(pool, NULL, tok, strlen(tok), ISS, TENANT,
                                     NOW, &out, &reason),
                     APR_EINVAL);
    ck_assert_int_eq(scim_jwt_verify(pool, empty, tok, strlen(tok), ISS, TENANT,
                                     NOW, &out, &reason),
                     APR_EINVAL);
    ck_assert_int_eq(scim_jwt_verify(pool, ks, tok, strlen(tok), NULL, TENANT,
                                     NOW, &out, &reason),
                     APR_EINVAL);
    ck_assert_int_eq(scim_jwt_verify(pool, ks, tok, strlen(tok), ISS, NULL, NOW,
                                     &out, &reason),
                     APR_EINVAL);
}
END_TEST

/* ---- key sets --------------------------------------------------------- */

static const char *key_json(const char *members)
{
    return apr_pstrcat(pool, "{\"keys\":[{", members, "}]}", NULL);
}

/* The key set is refused and the message has want and no key material. */
static void assert_keyset_rejected(const char *json, const char *want)
{
    scim_keyset_t *k = (scim_keyset_t *)1;
    const char *err = NULL;

    ck_assert_int_eq(scim_keyset_parse(pool, json, strlen(json), &k, &err),
                     APR_EINVAL);
    ck_assert_ptr_null(k);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
    ck_assert_msg(!strstr(err, "YWFh") && !strstr(err, "YmJi")
                      && !strstr(err, "aaaa"),
                  "error shows key material: %s", err);
}

#define GOODKEY(kid) "\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":\"" kid "\""

START_TEST(keyset_parses)
{
    const scim_jwk_t *k1 = scim_keyset_find(ks, "k1");
    const scim_jwk_t *k2 = scim_keyset_find(ks, "k2");

    ck_assert_int_eq(ks->keys->nelts, 2);
    ck_assert_ptr_eq(k1, &APR_ARRAY_IDX(ks->keys, 0, scim_jwk_t));
    ck_assert_str_eq(k1->kid, "k1");
    ck_assert_uint_eq(k1->key_len, 32);
    ck_assert(memcmp(k1->key, KEY1, 32) == 0);
    ck_assert_uint_eq(k2->key_len, 40);
    ck_assert(memcmp(k2->key, KEY2, 40) == 0);
    ck_assert_ptr_null(scim_keyset_find(ks, "k3"));
    ck_assert_ptr_null(scim_keyset_find(ks, "K1"));
    ck_assert_ptr_null(scim_keyset_find(ks, NULL));
    ck_assert_ptr_null(scim_keyset_find(NULL, "k1"));
}
END_TEST

START_TEST(keyset_key_length)
{
    const char *err;
    scim_keyset_t *k;
    const char *j;

    /* 31 bytes: refused, message names the kid */
    assert_keyset_rejected(key_json(GOODKEY(
                               "short") ",\"k\":\"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh"
                                        "YWFhYWFhYQ\""),
                           "kid 'short'");
    assert_keyset_rejected(key_json(GOODKEY(
                               "short") ",\"k\":\"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh"
                                        "YWFhYWFhYQ\""),
                           "31 bytes");
    assert_keyset_rejected(key_json(GOODKEY("e") ",\"k\":\"\""), "0 bytes");
    /* exactly 32: accepted */
    j = key_json(GOODKEY("ok") ",\"k\":\"" KEY1_B64 "\"");
    ck_assert_int_eq(scim_keyset_parse(pool, j, strlen(j), &k, &err),
                     APR_SUCCESS);
}
END_TEST

START_TEST(keyset_duplicate_kid)
{
    assert_keyset_rejected("{\"keys\":[{" GOODKEY(
                               "same") ",\"k\":\"" KEY1_B64
                                       "\"},{" GOODKEY("same") ",\"k\":\"" KEY2_B64
                                                               "\"}]}",
                           "key #2 (kid 'same'): duplicate kid");
}
END_TEST

START_TEST(keyset_kty_alg)
{
    assert_keyset_rejected(key_json("\"kty\":\"RSA\",\"alg\":\"HS256\","
                                    "\"kid\":\"r\",\"k\":\"" KEY1_B64 "\""),
                           "kid 'r'): \"kty\" must be \"oct\"");
    assert_keyset_rejected(key_json("\"alg\":\"HS256\",\"kid\":\"r\","
                                    "\"k\":\"" KEY1_B64 "\""),
                           "\"kty\" must be \"oct\"");
    assert_keyset_rejected(key_json("\"kty\":1,\"alg\":\"HS256\","
                                    "\"kid\":\"r\",\"k\":\"" KEY1_B64 "\""),
                           "\"kty\" must be \"oct\"");
    assert_keyset_rejected(key_json("\"kty\":\"oct\",\"alg\":\"HS512\","
                                    "\"kid\":\"h\",\"k\":\"" KEY1_B64 "\""),
                           "kid 'h'): \"alg\" must be \"HS256\"");
    assert_keyset_rejected(key_json("\"kty\":\"oct\",\"alg\":\"none\","
                                    "\"kid\":\"h\",\"k\":\"" KEY1_B64 "\""),
                           "\"alg\" must be \"HS256\"");
    assert_keyset_rejected(key_json("\"kty\":\"oct\",\"kid\":\"h\","
                                    "\"k\":\"" KEY1_B64 "\""),
                           "\"alg\" must be \"HS256\"");
}
END_TEST

START_TEST(keyset_structure)
{
    assert_keyset_rejected("[]", "not a JSON object");
    assert_keyset_rejected("\"keys\"", "not a JSON object");
    assert_keyset_rejected("{}", "\"keys\" must be an array");
    assert_keyset_rejected("{\"keys\":{}}", "\"keys\" must be an array");
    assert_keyset_rejected("{\"keys\":[]}", "no keys");
    assert_keyset_rejected("{\"keys\":[1]}", "key #1 is not a JSON object");
    assert_keyset_rejected("{\"keys\":[{" GOODKEY("a") ",\"k\":\"" KEY1_B64
                                                       "\"},\"x\"]}",
                           "key #2 is not a JSON object");
    assert_keyset_rejected("{\"keys\":[{" GOODKEY("a") ",\"k\":\"" KEY1_B64
                                                       "\"}],\"extra\":1}",
                           "unsupported member \"extra\"");
    assert_keyset_rejected("", "not a valid JWK Set");
    assert_keyset_rejected("{\"keys\":[", "not a valid JWK Set");
    assert_keyset_rejected("{\"keys\":[{" GOODKEY("a") ",\"k\":\"" KEY1_B64
                                                       "\"}]} trailing",
                           "not a valid JWK Set");
    assert_keyset_rejected("{\"keys\":[],\"keys\":[{" GOODKEY(
                               "a") ",\"k\":\"" KEY1_B64 "\"}]}",
                           "duplicate object key");
    assert_keyset_rejected(key_json(GOODKEY("a") ",\"k\":\"" KEY1_B64
                                                 "\",\"k\":\"" KEY2_B64 "\""),
                           "duplicate object key");
}
END_TEST

START_TEST(keyset_kid_rules)
{
    char long_kid[70];
    const char *err, *j;
    scim_keyset_t *k;

    assert_keyset_rejected(key_json("\"kty\":\"oct\",\"alg\":\"HS256\","
                                    "\"k\":\"" KEY1_B64 "\""),
                           "key #1: \"kid\"");
    assert_keyset_rejected(key_json(GOODKEY("") ",\"k\":\"" KEY1_B64 "\""),
                           "key #1: \"kid\"");
    assert_keyset_rejected(key_json(GOODKEY("a b") ",\"k\":\"" KEY1_B64 "\""),
                           "key #1: \"kid\"");
    assert_keyset_rejected(key_json(GOODKEY("caf\xc3\xa9") ",\"k\":\"" KEY1_B64
                                                           "\""),
                           "key #1: \"kid\"");
    assert_keyset_rejected(key_json(GOODKEY("a\\n") ",\"k\":\"" KEY1_B64 "\""),
                           "key #1: \"kid\"");
    assert_keyset_rejected(key_json("\"kty\":\"oct\",\"alg\":\"HS256\","
                                    "\"kid\":7,\"k\":\"" KEY1_B64 "\""),
                           "key #1: \"kid\"");
    memset(long_kid, 'x', 65);
    long_kid[65] = '\0';
    assert_keyset_rejected(key_json(apr_pstrcat(pool,
                                                "\"kty\":\"oct\","
                                                "\"alg\":\"HS256\","
                                                "\"kid\":\"",
                                                long_kid,
                                                "\",\"k\":\"" KEY1_B64 "\"",
                                                NULL)),
                           "key #1: \"kid\"");
    long_kid[64] = '\0';
    j = key_json(apr_pstrcat(pool,
                             "\"kty\":\"oct\",\"alg\":\"HS256\","
                             "\"kid\":\"",
                             long_kid, "\",\"k\":\"" KEY1_B64 "\"", NULL));
    ck_assert_int_eq(scim_keyset_parse(pool, j, strlen(j), &k, &err),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(scim_keyset_find(k, long_kid));
}
END_TEST

START_TEST(keyset_k_rules)
{
    assert_keyset_rejected(key_json(GOODKEY("p") ",\"k\":\"" KEY1_B64 "=\""),
                           "kid 'p'): \"k\" is not canonical base64url");
    assert_keyset_rejected(key_json(GOODKEY(
                               "s") ",\"k\":\"YWFh+WFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh"
                                    "YWFhYWE\""),
                           "\"k\" is not canonical base64url");
    /* stray bits in the last character */
    assert_keyset_rejected(key_json(GOODKEY(
                               "b") ",\"k\":\"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh"
                                    "YWFhYWF\""),
                           "\"k\" is not canonical base64url");
    assert_keyset_rejected(key_json(GOODKEY(
                               "w") ",\"k\":\"YWFhYWFhYWFhYWFhYWFh YWFhYWFhYWFhYWFh"
                                    "YWFhYWE\""),
                           "\"k\" is not canonical base64url");
    assert_keyset_rejected(key_json(GOODKEY("m")),
                           "\"k\" (the key material) "
                           "is missing");
    assert_keyset_rejected(key_json(GOODKEY("n") ",\"k\":32"),
                           "\"k\" (the key material) is missing");
}
END_TEST

START_TEST(keyset_optional_members)
{
    const char *err, *j;
    scim_keyset_t *k;

    j = key_json(GOODKEY("u") ",\"use\":\"sig\",\"key_ops\":[\"verify\"],"
                              "\"k\":\"" KEY1_B64 "\"");
    ck_assert_int_eq(scim_keyset_parse(pool, j, strlen(j), &k, &err),
                     APR_SUCCESS);
    assert_keyset_rejected(key_json(GOODKEY(
                               "u") ",\"use\":\"enc\",\"k\":\"" KEY1_B64 "\""),
                           "\"use\" must be \"sig\"");
    assert_keyset_rejected(key_json(GOODKEY(
                               "o") ",\"key_ops\":[\"encrypt\"],\"k\":\"" KEY1_B64
                                    "\""),
                           "key_ops may only contain");
    assert_keyset_rejected(key_json(GOODKEY(
                               "o") ",\"key_ops\":[],\"k\":\"" KEY1_B64 "\""),
                           "key_ops must be a non-empty array");
    assert_keyset_rejected(key_json(GOODKEY("o") ",\"key_ops\":\"sign\",\"k\":\"" KEY1_B64
                                                 "\""),
                           "key_ops must be a non-empty array");
    assert_keyset_rejected(key_json(GOODKEY(
                               "o") ",\"key_ops\":[\"sign\",\"sign\"],\"k\":\"" KEY1_B64
                                    "\""),
                           "key_ops has a duplicate value");
    /* anything else is refused rather than ignored */
    assert_keyset_rejected(key_json(GOODKEY(
                               "x") ",\"x5c\":[\"MIIB\"],\"k\":\"" KEY1_B64 "\""),
                           "kid 'x'): unsupported member \"x5c\"");
    assert_keyset_rejected(key_json(GOODKEY(
                               "d") ",\"d\":\"AAAA\",\"k\":\"" KEY1_B64 "\""),
                           "unsupported member \"d\"");
}
END_TEST

START_TEST(keyset_load_file)
{
    const char *err = NULL, *path,
               *j = key_json(GOODKEY("file") ",\"k\":\"" KEY1_B64 "\"");
    apr_file_t *f;
    apr_size_t n;
    scim_keyset_t *k;
    char *tmpl = apr_pstrdup(pool, "/tmp/scim-unit-keys-XXXXXX");

    ck_assert_int_eq(apr_file_mktemp(&f, tmpl,
                                     APR_FOPEN_CREATE | APR_FOPEN_WRITE
                                         | APR_FOPEN_EXCL,
                                     pool),
                     APR_SUCCESS);
    path = tmpl;
    ck_assert_int_eq(apr_file_write_full(f, j, strlen(j), &n), APR_SUCCESS);
    apr_file_close(f);
    ck_assert_int_eq(scim_keyset_load(pool, path, &k, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(scim_keyset_find(k, "file"));
    /* a malformed file: the message names the file and the problem */
    ck_assert_int_eq(apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_TRUNCATE,
                                   APR_FPROT_OS_DEFAULT, pool),
                     APR_SUCCESS);
    j = key_json(GOODKEY("file") ",\"k\":\"YWFh\"");
    ck_assert_int_eq(apr_file_write_full(f, j, strlen(j), &n), APR_SUCCESS);
    apr_file_close(f);
    ck_assert_int_eq(scim_keyset_load(pool, path, &k, &err), APR_EINVAL);
    ck_assert_ptr_null(k);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_nonnull(strstr(err, "kid 'file'"));
    /* empty file */
    ck_assert_int_eq(apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_TRUNCATE,
                                   APR_FPROT_OS_DEFAULT, pool),
                     APR_SUCCESS);
    apr_file_close(f);
    ck_assert_int_ne(scim_keyset_load(pool, path, &k, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, path));
    apr_file_remove(path, pool);
    /* missing file and a directory */
    ck_assert_int_ne(scim_keyset_load(pool, path, &k, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_int_ne(scim_keyset_load(pool, "/tmp", &k, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "/tmp"));
}
END_TEST

START_TEST(keyset_generate_roundtrip)
{
    scim_keyset_t *set = scim_keyset_new(pool), *back;
    const scim_jwk_t *a, *b, *c;
    const char *err = NULL, *json, *tok, *reason;
    scim_token_claims_t cl = claims(), out;
    int i;

    ck_assert_int_eq(set->keys->nelts, 0);
    ck_assert_int_eq(scim_keyset_generate(pool, set, NULL, &a, &err),
                     APR_SUCCESS);
    ck_assert_uint_eq(strlen(a->kid), 9);
    ck_assert_int_eq(a->kid[0], 'k');
    for (i = 1; i < 9; i++) {
        ck_assert_ptr_nonnull(
            strchr("abcdefghijklmnopqrstuvwxyz234567", a->kid[i]));
    }
    ck_assert_uint_eq(a->key_len, 32);
    ck_assert_int_eq(scim_keyset_generate(pool, set, "second", &b, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(b->kid, "second");
    ck_assert(memcmp(a->key, b->key, 32) != 0);
    ck_assert_int_eq(scim_keyset_generate(pool, set, "second", &c, &err),
                     APR_EEXIST);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(err, "second"));
    ck_assert_int_eq(scim_keyset_generate(pool, set, "a b", &c, &err),
                     APR_EINVAL);
    ck_assert_int_eq(scim_keyset_generate(pool, set, "", &c, &err), APR_EINVAL);
    ck_assert_int_eq(scim_keyset_generate(pool, set, NULL, NULL, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(set->keys->nelts, 3);
    /* serialise and parse back: same kids, order and key bytes */
    json = scim_keyset_to_json(pool, set);
    ck_assert_ptr_nonnull(json);
    ck_assert_ptr_nonnull(strstr(json, "\"kty\": \"oct\""));
    ck_assert_ptr_nonnull(strstr(json, "\"alg\": \"HS256\""));
    ck_assert_ptr_nonnull(strstr(json, "\"kid\": \"second\""));
    ck_assert_int_ne(json[strlen(json) - 1], '\n');
    ck_assert_int_eq(scim_keyset_parse(pool, json, strlen(json), &back, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(back->keys->nelts, 3);
    for (i = 0; i < 3; i++) {
        const scim_jwk_t *x = &APR_ARRAY_IDX(set->keys, i, scim_jwk_t);
        const scim_jwk_t *y = &APR_ARRAY_IDX(back->keys, i, scim_jwk_t);

        ck_assert_str_eq(x->kid, y->kid);
        ck_assert_uint_eq(x->key_len, y->key_len);
        ck_assert(memcmp(x->key, y->key, x->key_len) == 0);
    }
    /* a token of a generated key verifies against the parsed-back set */
    tok = scim_jwt_sign(pool, b, &cl);
    ck_assert_int_eq(scim_jwt_verify(pool, back, tok, strlen(tok), ISS, TENANT,
                                     NOW, &out, &reason),
                     APR_SUCCESS);
    ck_assert_str_eq(out.kid, "second");
    ck_assert_ptr_null(scim_keyset_to_json(pool, NULL));
}
END_TEST

/* ---- minting (scim_token.c) ----------------------------------------- */

static scim_token_mint_in_t mint_in(void)
{
    scim_token_mint_in_t in;

    in.key = scim_keyset_find(ks, "k2");
    in.issuer = ISS;
    in.tenant_slug = TENANT;
    in.account_id = SUB;
    in.idp_type = "entra";
    in.iat = 1767225600; /* 2026-01-01 00:00:00, the database's now */
    in.exp = 1798761600; /* 2027-01-01, its now + interval '1 year' */
    return in;
}

START_TEST(mint_verifies_and_hashes)
{
    scim_token_mint_in_t in = mint_in();
    scim_token_minted_t m, m2;
    scim_token_claims_t out;
    const char *reason = NULL;
    unsigned char h[32];

    ck_assert_int_eq(scim_token_mint(pool, &in, &m), APR_SUCCESS);
    ck_assert_int_eq(scim_jwt_verify(pool, ks, m.token, strlen(m.token), ISS,
                                     TENANT, 1767225600 + 10, &out, &reason),
                     APR_SUCCESS);
    ck_assert_str_eq(out.kid, "k2");
    ck_assert_str_eq(m.kid, "k2");
    ck_assert_str_eq(out.sub, SUB);
    ck_assert_str_eq(out.idp, "entra");
    ck_assert_str_eq(out.tid, TENANT);
    ck_assert_str_eq(out.aud, AUD);
    ck_assert_str_eq(out.jti, m.jti);
    ck_assert_uint_eq(strlen(m.jti), 22);
    /* the caller's (the database's) iat and exp, exactly */
    ck_assert(m.iat == 1767225600 && out.iat == m.iat && out.nbf == m.iat);
    ck_assert(m.exp == 1798761600 && out.exp == m.exp); /* 2027-01-01 */
    scim_sha256(m.token, strlen(m.token), h);
    ck_assert_mem_eq(h, m.hash, 32);
    /* every mint is a new jti */
    ck_assert_int_eq(scim_token_mint(pool, &in, &m2), APR_SUCCESS);
    ck_assert_str_ne(m.jti, m2.jti);
    ck_assert_str_ne(m.token, m2.token);
}
END_TEST

START_TEST(mint_needs_every_input)
{
    scim_token_mint_in_t in;
    scim_token_minted_t m;

    memset(&m, 0, sizeof(m));
    in = mint_in(), in.key = NULL;
    ck_assert_int_eq(scim_token_mint(pool, &in, &m), APR_EINVAL);
    in = mint_in(), in.issuer = NULL;
    ck_assert_int_eq(scim_token_mint(pool, &in, &m), APR_EINVAL);
    in = mint_in(), in.tenant_slug = NULL;
    ck_assert_int_eq(scim_token_mint(pool, &in, &m), APR_EINVAL);
    in = mint_in(), in.account_id = NULL;
    ck_assert_int_eq(scim_token_mint(pool, &in, &m), APR_EINVAL);
    in = mint_in(), in.idp_type = NULL;
    ck_assert_int_eq(scim_token_mint(pool, &in, &m), APR_EINVAL);
    ck_assert_ptr_null(m.token);
}
END_TEST

/* iat and exp come from the caller (the database's clock); a lifetime
 * that is not positive or over SCIM_JWT_MAX_LIFETIME is refused. */
START_TEST(mint_lifetime_from_caller)
{
    scim_token_mint_in_t in = mint_in();
    scim_token_minted_t m;

    /* 2027-03-01 -> 2028-03-01 crosses 29 February 2028 (366 days) */
    in.iat = 1803859200, in.exp = 1803859200 + 366 * 86400;
    ck_assert_int_eq(scim_token_mint(pool, &in, &m), APR_SUCCESS);
    ck_assert(m.iat == in.iat && m.exp == in.exp);
    in.exp = in.iat + SCIM_JWT_MAX_LIFETIME + 1;
    ck_assert_int_eq(scim_token_mint(pool, &in, &m), APR_EINVAL);
    in.exp = in.iat;
    ck_assert_int_eq(scim_token_mint(pool, &in, &m), APR_EINVAL);
}
END_TEST


/* ---- the memo of a connection ----------------------------------------- */

static apr_status_t recall(scim_jwt_memo_t *m, const scim_keyset_t *k,
                           const char *tok, const char *iss, const char *tenant,
                           apr_int64_t now, scim_token_claims_t *out,
                           unsigned char hash[32], const char **reason)
{
    return scim_jwt_verify_memo(pool, m, k, tok, strlen(tok), iss, tenant, now,
                                out, hash, reason);
}

START_TEST(memo_recalls_the_same_token)
{
    scim_jwt_memo_t *m = scim_jwt_memo_make(pool);
    scim_token_claims_t c = claims(), out;
    const char *tok = scim_jwt_sign(pool, scim_keyset_find(ks, "k1"), &c);
    const char *reason = NULL, *kept;
    unsigned char hash[32], want[32];

    scim_sha256(tok, strlen(tok), want);
    ck_assert_int_eq(recall(m, ks, tok, ISS, TENANT, NOW, &out, hash, &reason),
                     APR_SUCCESS);
    ck_assert_mem_eq(hash, want, 32);
    ck_assert_ptr_nonnull(m->pool);
    ck_assert_mem_eq(m->sha256, want, 32);
    kept = m->claims.jti;
    /* the second time from the memo: same claims, same hash, memo unchanged */
    memset(hash, 0, sizeof(hash));
    memset(&out, 0, sizeof(out));
    ck_assert_int_eq(recall(m, ks, tok, ISS, TENANT, NOW + 10, &out, hash,
                            &reason),
                     APR_SUCCESS);
    ck_assert_ptr_null(reason);
    ck_assert_ptr_eq(m->claims.jti, kept); /* nothing kept again */
    ck_assert_mem_eq(hash, want, 32);
    ck_assert_str_eq(out.kid, "k1");
    ck_assert_str_eq(out.sub, SUB);
    ck_assert_str_eq(out.idp, "okta");
    ck_assert_str_eq(out.jti, JTI);
    ck_assert_str_eq(out.tid, TENANT);
    ck_assert(out.exp == NOW + DAY);
    /* the claims are the caller's copies, not the memo's */
    ck_assert_ptr_ne(out.jti, m->claims.jti);
    /* no memo at all: the same answer */
    ck_assert_int_eq(recall(NULL, ks, tok, ISS, TENANT, NOW, &out, hash, &reason),
                     APR_SUCCESS);
    ck_assert_mem_eq(hash, want, 32);
}
END_TEST

/* A memo that holds a token of k1, and the token. */
static scim_jwt_memo_t *memo_holding(const char **tok)
{
    scim_jwt_memo_t *m = scim_jwt_memo_make(pool);
    scim_token_claims_t c = claims(), out;
    const char *reason = NULL;
    unsigned char hash[32];

    *tok = scim_jwt_sign(pool, scim_keyset_find(ks, "k1"), &c);
    ck_assert_int_eq(recall(m, ks, *tok, ISS, TENANT, NOW, &out, hash, &reason),
                     APR_SUCCESS);
    return m;
}

/* A remembered token still expires, and is still not valid before its
 * time: the time rules run on every request. */
START_TEST(memo_checks_time_again)
{
    const char *tok, *reason = NULL;
    scim_jwt_memo_t *m = memo_holding(&tok);
    scim_token_claims_t out;
    unsigned char hash[32];

    memset(&out, 0xa5, sizeof(out));
    ck_assert_int_eq(recall(m, ks, tok, ISS, TENANT,
                            NOW + DAY + SCIM_JWT_LEEWAY, &out, hash, &reason),
                     APR_EINVAL);
    ck_assert_str_eq(reason, "expired");
    ck_assert_ptr_null(out.jti);
    ck_assert_int_eq(recall(m, ks, tok, ISS, TENANT,
                            NOW - 100 - SCIM_JWT_LEEWAY - 1, &out, hash, &reason),
                     APR_EINVAL);
    ck_assert_str_eq(reason, "not yet valid (iat in the future)");
    /* and valid again inside its window */
    ck_assert_int_eq(recall(m, ks, tok, ISS, TENANT, NOW, &out, hash, &reason),
                     APR_SUCCESS);
}
END_TEST

/* Only the very bytes, checked with the same key set against the same
 * issuer and tenant, are recalled; anything else is verified in full. */
START_TEST(memo_recalls_nothing_else)
{
    const char *tok, *reason = NULL;
    scim_jwt_memo_t *m = memo_holding(&tok);
    scim_token_claims_t out;
    char *bad = apr_pstrdup(pool, tok);
    apr_size_t n = strlen(bad);
    scim_keyset_t *other = NULL;
    const char *j = "{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":"
                    "\"k1\",\"k\":\"" KEY2_B64 "\"}]}";
    const char *err = NULL;
    unsigned char hash[32], want[32];

    /* a changed signature: refused, and the memo keeps the good token */
    bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(recall(m, ks, bad, ISS, TENANT, NOW, &out, hash, &reason),
                     APR_EINVAL);
    ck_assert_str_eq(reason, "bad signature");
    scim_sha256(tok, n, want);
    ck_assert_mem_eq(m->sha256, want, 32);
    /* a prefix or an extension of the token */
    ck_assert_int_eq(scim_jwt_verify_memo(pool, m, ks, tok, n - 1, ISS, TENANT,
                                          NOW, &out, hash, &reason),
                     APR_EINVAL);
    ck_assert_int_ne(recall(m, ks, apr_pstrcat(pool, tok, "A", NULL), ISS,
                            TENANT, NOW, &out, hash, &reason),
                     APR_SUCCESS);
    /* another tenant's location, another issuer */
    ck_assert_int_eq(recall(m, ks, tok, ISS, "globex", NOW, &out, hash, &reason),
                     APR_EINVAL);
    ck_assert_str_eq(reason, "token of another tenant");
    ck_assert_int_eq(recall(m, ks, tok, "https://other.example", TENANT, NOW,
                            &out, hash, &reason),
                     APR_EINVAL);
    ck_assert_str_eq(reason, "wrong issuer");
    /* another key set under the same kid (a new configuration) */
    ck_assert_int_eq(scim_keyset_parse(pool, j, strlen(j), &other, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(recall(m, other, tok, ISS, TENANT, NOW, &out, hash, &reason),
                     APR_EINVAL);
    ck_assert_str_eq(reason, "bad signature");
    ck_assert_int_eq(recall(m, NULL, tok, ISS, TENANT, NOW, &out, hash, &reason),
                     APR_EINVAL);
    ck_assert_int_eq(recall(m, ks, tok, NULL, TENANT, NOW, &out, hash, &reason),
                     APR_EINVAL);
    /* the good token still recalls */
    ck_assert_int_eq(recall(m, ks, tok, ISS, TENANT, NOW, &out, hash, &reason),
                     APR_SUCCESS);
}
END_TEST

/* One token at a time: a second valid token takes the place of the first,
 * and a connection that alternates tokens keeps one token's copies. */
static apr_status_t memo_pool_gone(void *live)
{
    --*(int *)live;
    return APR_SUCCESS;
}

START_TEST(memo_keeps_one_token)
{
    apr_pool_t *mp;
    scim_jwt_memo_t *m;
    scim_token_claims_t c = claims(), out;
    const char *t1 = scim_jwt_sign(pool, scim_keyset_find(ks, "k1"), &c);
    const char *t2 = scim_jwt_sign(pool, scim_keyset_find(ks, "k2"), &c);
    const char *reason = NULL;
    unsigned char hash[32], want[2][32];
    apr_pool_t *seen = NULL;
    int i, live = 0;

    apr_pool_create(&mp, pool);
    m = scim_jwt_memo_make(mp);
    scim_sha256(t1, strlen(t1), want[0]);
    scim_sha256(t2, strlen(t2), want[1]);
    ck_assert_ptr_null(m->pool); /* nothing made before a token passes */
    for (i = 0; i < 2000; i++) {
        const char *t = (i % 2) ? t2 : t1;

        ck_assert_int_eq(recall(m, ks, t, ISS, TENANT, NOW, &out, hash, &reason),
                         APR_SUCCESS);
        ck_assert_mem_eq(m->sha256, want[i % 2], 32);
        ck_assert_mem_eq(hash, want[i % 2], 32);
        ck_assert_str_eq(out.kid, (i % 2) ? "k2" : "k1");
        ck_assert_str_eq(m->claims.kid, (i % 2) ? "k2" : "k1");
        /* each keep makes a new pool for the copies and frees the last one:
         * one pool is alive however many tokens came */
        ck_assert_ptr_ne(m->pool, seen);
        seen = m->pool;
        live++;
        apr_pool_cleanup_register(seen, &live, memo_pool_gone,
                                  apr_pool_cleanup_null);
        ck_assert_int_eq(live, 1);
    }
    /* a refused token makes nothing */
    ck_assert_int_eq(recall(m, ks, "x.y.z", ISS, TENANT, NOW, &out, hash, &reason),
                     APR_EINVAL);
    ck_assert_ptr_eq(m->pool, seen);
    ck_assert_int_eq(live, 1);
    /* and the last pool goes with the connection's */
    apr_pool_destroy(mp);
    ck_assert_int_eq(live, 0);
}
END_TEST

/* Key sets are told apart by their serial, not their address: a set made
 * where a freed one was, with the same kid over other key material, is
 * another set. */
START_TEST(memo_key_sets_by_serial)
{
    const char *j1 = "{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":"
                     "\"k1\",\"k\":\"" KEY1_B64 "\"}]}";
    const char *j2 = "{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":"
                     "\"k1\",\"k\":\"" KEY2_B64 "\"}]}";
    scim_keyset_t *a = NULL, *b = NULL;
    scim_jwt_memo_t *m = scim_jwt_memo_make(pool);
    scim_token_claims_t c = claims(), out;
    const char *tok = scim_jwt_sign(pool, scim_keyset_find(ks, "k1"), &c);
    const char *err = NULL, *reason = NULL;
    unsigned char hash[32];
    apr_uint64_t first;
    apr_pool_t *sp;

    apr_pool_create(&sp, pool);
    ck_assert_int_eq(scim_keyset_parse(sp, j1, strlen(j1), &a, &err),
                     APR_SUCCESS);
    first = a->serial;
    ck_assert_int_eq(recall(m, a, tok, ISS, TENANT, NOW, &out, hash, &reason),
                     APR_SUCCESS);
    apr_pool_destroy(sp);
    apr_pool_create(&sp, pool);
    ck_assert_int_eq(scim_keyset_parse(sp, j2, strlen(j2), &b, &err),
                     APR_SUCCESS);
    ck_assert(b->serial != first);
    ck_assert_int_eq(recall(m, b, tok, ISS, TENANT, NOW, &out, hash, &reason),
                     APR_EINVAL);
    ck_assert_str_eq(reason, "bad signature");
    apr_pool_destroy(sp);
}
END_TEST

Suite *scim_jwt_suite(void)
{
    Suite *s = suite_create("jwt");
    TCase *sign = tcase_create("sign");
    TCase *shape = tcase_create("structure");
    TCase *hdr = tcase_create("header");
    TCase *claim = tcase_create("claims");
    TCase *keys = tcase_create("keyset");
    TCase *mint = tcase_create("mint");
    TCase *memo = tcase_create("memo");

    tcase_add_checked_fixture(sign, setup, teardown);
    tcase_add_test(sign, sign_and_verify);
    tcase_add_test(sign, sign_exact_format);
    tcase_add_test(sign, sign_aud_and_missing);
    tcase_add_test(sign, verify_uses_len);
    tcase_add_test(sign, key_rotation);
    tcase_add_test(sign, rfc7515_a1_known_answer);
    tcase_add_test(sign, audience_and_jti);
    suite_add_tcase(s, sign);

    tcase_add_checked_fixture(shape, setup, teardown);
    tcase_add_test(shape, rejects_empty_and_segments);
    tcase_add_test(shape, rejects_nul_byte);
    tcase_add_test(shape, rejects_too_long);
    tcase_add_test(shape, rejects_padding);
    tcase_add_test(shape, rejects_standard_alphabet);
    tcase_add_test(shape, rejects_stray_bits);
    tcase_add_test(shape, rejects_bad_signature);
    tcase_add_test(shape, rejects_tampered_payload);
    suite_add_tcase(s, shape);

    tcase_add_checked_fixture(hdr, setup, teardown);
    tcase_add_test(hdr, rejects_bad_alg);
    tcase_add_test(hdr, rejects_bad_typ_and_kid);
    tcase_add_test(hdr, rejects_extra_header_member);
    tcase_add_test(hdr, rejects_bad_header_json);
    tcase_add_test(hdr, header_as_written_and_otherwise);
    suite_add_tcase(s, hdr);

    tcase_add_checked_fixture(claim, setup, teardown);
    tcase_add_loop_test(claim, rejects_missing_claim, 0, 9);
    tcase_add_test(claim, rejects_extra_claim);
    tcase_add_test(claim, rejects_duplicate_claim);
    tcase_add_test(claim, rejects_claim_types);
    tcase_add_test(claim, rejects_claim_json);
    tcase_add_test(claim, rejects_time_out_of_range);
    tcase_add_test(claim, rejects_wrong_issuer);
    tcase_add_test(claim, rejects_wrong_tenant);
    tcase_add_test(claim, rejects_wrong_audience);
    tcase_add_test(claim, checks_idp);
    tcase_add_test(claim, checks_sub);
    tcase_add_test(claim, checks_jti);
    tcase_add_test(claim, checks_expiry_with_leeway);
    tcase_add_test(claim, checks_not_before_with_leeway);
    tcase_add_test(claim, checks_lifetime);
    tcase_add_test(claim, rejects_missing_configuration);
    suite_add_tcase(s, claim);

    tcase_add_checked_fixture(keys, setup, teardown);
    tcase_add_test(keys, keyset_parses);
    tcase_add_test(keys, keyset_key_length);
    tcase_add_test(keys, keyset_duplicate_kid);
    tcase_add_test(keys, keyset_kty_alg);
    tcase_add_test(keys, keyset_structure);
    tcase_add_test(keys, keyset_kid_rules);
    tcase_add_test(keys, keyset_k_rules);
    tcase_add_test(keys, keyset_optional_members);
    tcase_add_test(keys, keyset_load_file);
    tcase_add_test(keys, keyset_generate_roundtrip);
    suite_add_tcase(s, keys);

    tcase_add_checked_fixture(mint, setup, teardown);
    tcase_add_test(mint, mint_verifies_and_hashes);
    tcase_add_test(mint, mint_needs_every_input);
    tcase_add_test(mint, mint_lifetime_from_caller);
    suite_add_tcase(s, mint);

    tcase_add_checked_fixture(memo, setup, teardown);
    tcase_add_test(memo, memo_recalls_the_same_token);
    tcase_add_test(memo, memo_checks_time_again);
    tcase_add_test(memo, memo_recalls_nothing_else);
    tcase_add_test(memo, memo_keeps_one_token);
    tcase_add_test(memo, memo_key_sets_by_serial);
    suite_add_tcase(s, memo);
    return s;
}
