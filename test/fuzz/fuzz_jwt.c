/* libFuzzer target: the token verifier, base64url and the key set parser.
 *
 * Each input is used five ways: as a token for scim_jwt_verify (the
 * shape, base64url and header checks), as a JWK Set for scim_keyset_parse
 * (an accepted set is written back and must parse to the same keys), as
 * base64url and base64 text (base64url is canonical: what decodes encodes
 * back to the same text), and split at the first newline into header and
 * claims texts that are correctly signed and then verified, so the fuzzer
 * also reaches the code after the MAC check (claim parsing and rules),
 * which it could never reach by guessing a signature. Both tokens also go,
 * one after the other, through scim_jwt_verify_memo with one memo per input
 * (as a keep-alive connection sends tokens one after another), under every
 * configuration a connection could meet (issuer, tenant, key set, time):
 * it must answer as scim_jwt_verify does under the same one.
 * Build and run: see test/fuzz/README.md (make fuzz). */

#include <stdint.h>
#include <string.h>

#include <apr_strings.h>

#include "scim_json.h"
#include "scim_jwt.h"
#include "fuzz_util.h"
#include "scim_util.h"

#define FUZZ_NOW    APR_INT64_C(1800000000)
#define FUZZ_ISS    "https://scim.example.test"
#define FUZZ_TENANT "acme"

static apr_pool_t *root;
static scim_keyset_t *keys, *keys2;

/* One-time setup: APR and a key set with two keys (kids k1, k2). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char
        ks[] = "{\"keys\":["
               "{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":\"k1\","
               "\"k\":\"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE\"},"
               "{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":\"k2\","
               "\"k\":\"YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI\"}]}";
    const char *err = NULL;

    (void)argc;
    (void)argv;
    /* the same kids over other key material: a new configuration */
    static const char
        ks2[] = "{\"keys\":["
                "{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":\"k1\","
                "\"k\":\"Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2M\"},"
                "{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":\"k2\","
                "\"k\":\"YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI\"}]}";

    root = fuzz_root();
    if (scim_keyset_parse(root, ks, sizeof(ks) - 1, &keys, &err) != APR_SUCCESS
        || scim_keyset_parse(root, ks2, sizeof(ks2) - 1, &keys2, &err)
            != APR_SUCCESS) {
        __builtin_trap();
    }
    return 0;
}

/* What a connection's requests could be checked with and against: the
 * first and second are the same (a miss, then a hit), then another tenant,
 * issuer, key set (k2 is the same in both sets, k1 not), a year later and
 * earlier, and the first again. */
static const struct {
    const char *iss, *tenant;
    int other_keys;
    apr_int64_t dt;
} configs[] = {
    { FUZZ_ISS, FUZZ_TENANT, 0, 0 },
    { FUZZ_ISS, FUZZ_TENANT, 0, 0 },
    { FUZZ_ISS, "globex", 0, 0 },
    { "https://other.example.test", FUZZ_TENANT, 0, 0 },
    { FUZZ_ISS, FUZZ_TENANT, 1, 0 },
    { FUZZ_ISS, FUZZ_TENANT, 0, 366 * 86400 },
    { FUZZ_ISS, FUZZ_TENANT, 0, -366 * 86400 },
    { FUZZ_ISS, FUZZ_TENANT, 0, 0 },
};

/* Under each of configs, memo m answers for tok as scim_jwt_verify does
 * (status, reason, claims), with the token's SHA-256 on success. */
static void check_memo(apr_pool_t *p, scim_jwt_memo_t *m, const char *tok,
                       apr_size_t len)
{
    unsigned char hash[32], sha[32];
    apr_size_t i;

    scim_sha256(tok, len, sha);
    for (i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
        const scim_keyset_t *ks = configs[i].other_keys ? keys2 : keys;
        apr_int64_t now = FUZZ_NOW + configs[i].dt;
        scim_token_claims_t a, b;
        const char *ra = NULL, *rb = NULL;
        apr_status_t rv = scim_jwt_verify(p, ks, tok, len, configs[i].iss,
                                          configs[i].tenant, now, &a, &ra);

        FUZZ_ASSERT(scim_jwt_verify_memo(p, m, ks, tok, len, configs[i].iss,
                                         configs[i].tenant, now, &b, hash, &rb)
                    == rv);
        if (rv != APR_SUCCESS) {
            FUZZ_ASSERT(ra && rb && !strcmp(ra, rb));
            continue;
        }
        FUZZ_ASSERT(!memcmp(hash, sha, 32) && !memcmp(m->sha256, sha, 32));
        FUZZ_ASSERT(!strcmp(a.kid, b.kid) && !strcmp(a.iss, b.iss)
                    && !strcmp(a.aud, b.aud) && !strcmp(a.tid, b.tid)
                    && !strcmp(a.sub, b.sub) && !strcmp(a.idp, b.idp)
                    && !strcmp(a.jti, b.jti) && a.iat == b.iat && a.nbf == b.nbf
                    && a.exp == b.exp);
    }
}

/* Verify a correctly signed token over the given header and claims texts
 * with the key the header names. */
static void verify_signed(apr_pool_t *p, scim_jwt_memo_t *m, const char *hdr,
                          apr_size_t hlen, const char *claims, apr_size_t clen)
{
    /* the key the header names (k2 is the same in both sets: a token that
     * passes under either, which the memo must still tell apart) */
    const scim_jwk_t *k = scim_keyset_find(keys,
                                           memmem(hdr, hlen, "\"k2\"", 4) ? "k2"
                                                                          : "k1");
    scim_token_claims_t out;
    const char *reason = NULL, *input;
    unsigned char mac[32];
    apr_status_t rv;

    input = apr_pstrcat(p,
                        scim_b64url_encode(p, (const unsigned char *)hdr, hlen),
                        ".",
                        scim_b64url_encode(p, (const unsigned char *)claims, clen),
                        NULL);
    scim_hmac_sha256(k->key, k->key_len, input, strlen(input), mac);
    input = apr_pstrcat(p, input, ".", scim_b64url_encode(p, mac, 32), NULL);
    rv = scim_jwt_verify(p, keys, input, strlen(input), FUZZ_ISS, FUZZ_TENANT,
                         FUZZ_NOW, &out, &reason);
    check_memo(p, m, input, strlen(input));
    if (rv == APR_SUCCESS) {
        const char *err = NULL;
        json_t *h = scim_json_parse(p, hdr, hlen, 0, &err);
        const char *kid;

        /* Whatever passed must satisfy the documented rules. */
        if (strcmp(out.tid, FUZZ_TENANT) || strcmp(out.iss, FUZZ_ISS)
            || !scim_is_uuid(out.sub) || out.exp <= out.iat
            || out.exp - out.iat > SCIM_JWT_MAX_LIFETIME
            || out.exp + SCIM_JWT_LEEWAY <= FUZZ_NOW) {
            __builtin_trap();
        }
        /* and its header, read by the parser, names the same key (the
         * header as scim_jwt_sign writes it is recognised without it) */
        kid = h ? json_string_value(json_object_get(h, "kid")) : NULL;
        if (!json_is_object(h) || json_object_size(h) != 3 || !kid
            || strcmp(kid, out.kid)) {
            __builtin_trap();
        }
    }
    else if (!reason) {
        __builtin_trap();
    }
}

/* A parsed key set, written back, parses to the same keys. */
static void check_keyset_roundtrip(apr_pool_t *p, const scim_keyset_t *ks)
{
    const char *json = scim_keyset_to_json(p, ks), *err = NULL;
    scim_keyset_t *again = NULL;
    int i;

    FUZZ_ASSERT(json != NULL);
    FUZZ_ASSERT(scim_keyset_parse(p, json, strlen(json), &again, &err)
                == APR_SUCCESS);
    FUZZ_ASSERT(again->keys->nelts == ks->keys->nelts);
    for (i = 0; i < ks->keys->nelts; i++) {
        const scim_jwk_t *a = &APR_ARRAY_IDX(ks->keys, i, scim_jwk_t);
        const scim_jwk_t *b = &APR_ARRAY_IDX(again->keys, i, scim_jwk_t);

        FUZZ_ASSERT(!strcmp(a->kid, b->kid) && a->key_len == b->key_len
                    && !memcmp(a->key, b->key, a->key_len));
        FUZZ_ASSERT(scim_keyset_find(again, a->kid) != NULL);
    }
}

/* Strict base64url is canonical; strict base64 decodes to at most 3/4. */
static void check_base64(apr_pool_t *p, const char *s, apr_size_t len)
{
    unsigned char *out = NULL;
    char *b = NULL;
    apr_size_t n = 0;

    if (scim_b64url_decode(p, s, len, &out, &n) == APR_SUCCESS) {
        const char *back = scim_b64url_encode(p, out, n);

        FUZZ_ASSERT(out[n] == '\0');
        FUZZ_ASSERT(strlen(back) == len && !memcmp(back, s, len));
    }
    if (scim_b64_decode(p, s, len, &b, &n) == APR_SUCCESS) {
        FUZZ_ASSERT(len % 4 == 0 && n <= len / 4 * 3 && b[n] == '\0');
    }
}

/* libFuzzer entry point: one input, five uses (see the file comment). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    scim_token_claims_t out;
    const char *reason = NULL, *err = NULL, *nl;
    scim_keyset_t *ks = NULL;
    scim_jwt_memo_t *memo;
    apr_pool_t *p;
    apr_status_t rv;

    apr_pool_create(&p, root);
    rv = scim_jwt_verify(p, keys, s, size, FUZZ_ISS, FUZZ_TENANT, FUZZ_NOW,
                         &out, &reason);
    if (rv != APR_SUCCESS && !reason) {
        __builtin_trap();
    }
    memo = scim_jwt_memo_make(p);
    check_memo(p, memo, s, size);
    rv = scim_keyset_parse(p, s, size, &ks, &err);
    if ((rv == APR_SUCCESS) != (ks != NULL) || (rv != APR_SUCCESS && !err)) {
        __builtin_trap();
    }
    if (rv == APR_SUCCESS) {
        check_keyset_roundtrip(p, ks);
    }
    else {
        fuzz_check_message(err);
    }
    check_base64(p, s, size);
    if (size <= SCIM_JWT_MAX_LEN && (nl = memchr(s, '\n', size)) != NULL) {
        verify_signed(p, memo, s, (apr_size_t)(nl - s), nl + 1,
                      size - (apr_size_t)(nl + 1 - s));
    }
    apr_pool_destroy(p);
    return 0;
}
