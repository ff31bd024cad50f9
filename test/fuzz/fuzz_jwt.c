/* libFuzzer entry point over the token verifier and the key set parser.
 *
 * Each input is used three ways: as a token for scim_jwt_verify (the
 * shape, base64url and header checks), as a JWK Set for scim_keyset_parse,
 * and split at the first newline into header and claims texts that are
 * correctly signed and then verified, so the fuzzer also reaches the code
 * after the MAC check (claim parsing and rules), which it could never reach
 * by guessing a signature.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address -Imod_scim_provision $(pkg-config --cflags \
 *       apr-1 jansson libcrypto) mod_scim_provision/scim_util.c mod_scim_provision/scim_json.c \
 *       mod_scim_provision/scim_jwt.c test/fuzz/fuzz_jwt.c -o fuzz_jwt \
 *       $(pkg-config --libs apr-1 jansson libcrypto)
 *   ./fuzz_jwt -max_len=8192 corpus/
 */

#include <stdint.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "scim_json.h"
#include "scim_jwt.h"
#include "scim_util.h"

#define FUZZ_NOW    APR_INT64_C(1800000000)
#define FUZZ_ISS    "https://scim.example.test"
#define FUZZ_TENANT "acme"

static apr_pool_t *root;
static scim_keyset_t *keys;

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
    apr_initialize();
    apr_pool_create(&root, NULL);
    if (scim_keyset_parse(root, ks, sizeof(ks) - 1, &keys, &err) != APR_SUCCESS) {
        __builtin_trap();
    }
    return 0;
}

/* Verify a correctly signed token over the given header and claims texts
 * with key k1. */
static void verify_signed(apr_pool_t *p, const char *hdr, apr_size_t hlen,
                          const char *claims, apr_size_t clen)
{
    const scim_jwk_t *k = scim_keyset_find(keys, "k1");
    scim_token_claims_t out;
    const char *reason = NULL, *input;
    unsigned char mac[32];

    input = apr_pstrcat(p,
                        scim_b64url_encode(p, (const unsigned char *)hdr, hlen),
                        ".",
                        scim_b64url_encode(p, (const unsigned char *)claims, clen),
                        NULL);
    scim_hmac_sha256(k->key, k->key_len, input, strlen(input), mac);
    input = apr_pstrcat(p, input, ".", scim_b64url_encode(p, mac, 32), NULL);
    if (scim_jwt_verify(p, keys, input, strlen(input), FUZZ_ISS, FUZZ_TENANT,
                        FUZZ_NOW, &out, &reason)
        == APR_SUCCESS) {
        /* Whatever passed must satisfy the documented rules. */
        if (strcmp(out.tid, FUZZ_TENANT) || strcmp(out.iss, FUZZ_ISS)
            || !scim_is_uuid(out.sub) || out.exp <= out.iat
            || out.exp - out.iat > SCIM_JWT_MAX_LIFETIME
            || out.exp + SCIM_JWT_LEEWAY <= FUZZ_NOW) {
            __builtin_trap();
        }
    }
    else if (!reason) {
        __builtin_trap();
    }
}

/* libFuzzer entry point: one input, three uses (see the file comment). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    scim_token_claims_t out;
    const char *reason = NULL, *err = NULL, *nl;
    scim_keyset_t *ks = NULL;
    apr_pool_t *p;
    apr_status_t rv;

    apr_pool_create(&p, root);
    rv = scim_jwt_verify(p, keys, s, size, FUZZ_ISS, FUZZ_TENANT, FUZZ_NOW,
                         &out, &reason);
    if (rv != APR_SUCCESS && !reason) {
        __builtin_trap();
    }
    rv = scim_keyset_parse(p, s, size, &ks, &err);
    if ((rv == APR_SUCCESS) != (ks != NULL) || (rv != APR_SUCCESS && !err)) {
        __builtin_trap();
    }
    if (size <= SCIM_JWT_MAX_LEN && (nl = memchr(s, '\n', size)) != NULL) {
        verify_signed(p, s, (apr_size_t)(nl - s), nl + 1,
                      size - (apr_size_t)(nl + 1 - s));
    }
    apr_pool_destroy(p);
    return 0;
}
