#ifndef SCIM_JWT_H
#define SCIM_JWT_H

/* Provisioning tokens (SPEC section 4): HS256 JWS compact serialization
 * with a fixed header and claim set, strict verification, and the JWK Set
 * of "oct" keys that signs and verifies them.
 * Core code: APR, Jansson and OpenSSL libcrypto only, no httpd header. */

#include <apr_pools.h>
#include <apr_tables.h>

#define SCIM_JWT_TYP           "scim-prov+jwt"
#define SCIM_JWT_MIN_KEY_BYTES 32
#define SCIM_JWT_LEEWAY        60
#define SCIM_JWT_MAX_LIFETIME  (366 * 86400)
#define SCIM_JWT_MAX_LEN       4096
#define SCIM_JWT_AUD_PREFIX    "urn:scim-provision:tenant:"
#define SCIM_JWT_MAX_KID_LEN   64

/* One HS256 key. */
typedef struct {
    const char *kid; /* printable ASCII without space, 1 to 64 chars */
    unsigned char *key; /* key material (wiped when its pool goes) */
    apr_size_t key_len; /* >= SCIM_JWT_MIN_KEY_BYTES */
} scim_jwk_t;

/* A JWK Set: the keys in file order (the first is the default signer). */
typedef struct {
    apr_array_header_t *keys; /* of scim_jwk_t */
    apr_uint64_t serial; /* this set among those the process made (the memo
                          * below tells sets apart by it, not by address) */
} scim_keyset_t;

/* Parse a JWK Set (RFC 7517) of HS256 keys:
 * {"keys":[{"kty":"oct","alg":"HS256","kid":"...","k":"<b64url>"}, ...]}.
 * Every key: kty "oct", alg "HS256", a unique non-empty kid (printable
 * ASCII without space, <= 64 chars), k canonical base64url of >= 32 bytes;
 * optional "use":"sig" and "key_ops" (a subset of "sign","verify"). Any
 * other member, a malformed, short or duplicate key or an empty set is
 * APR_EINVAL with *err naming the problem and the kid (never key material).
 */
apr_status_t scim_keyset_parse(apr_pool_t *p, const char *json, apr_size_t len,
                               scim_keyset_t **ks, const char **err);

/* Read and parse the JWK Set in file path; every *err names the path. */
apr_status_t scim_keyset_load(apr_pool_t *p, const char *path,
                              scim_keyset_t **ks, const char **err);

/* The key named kid, or NULL. */
const scim_jwk_t *scim_keyset_find(const scim_keyset_t *ks, const char *kid);

/* An empty key set with a new serial (every parsed or generated set is
 * made here). The serial counter is not atomic: key sets are made while
 * the configuration is read, or by one thread (scimctl, tests). Anything
 * that ever changes or removes a key of an existing set must give it a new
 * serial, or a connection's memo would recall a token checked with the
 * old key. */
scim_keyset_t *scim_keyset_new(apr_pool_t *p);

/* Add a new random 32-byte key to ks, named kid or, if kid is NULL, a
 * random "k" + 8 of [a-z2-7]. APR_EINVAL for a malformed kid, APR_EEXIST if
 * ks has it already, APR_EGENERAL if the random generator fails; *err says
 * which. *added (may be NULL) points at the new key. */
apr_status_t scim_keyset_generate(apr_pool_t *p, scim_keyset_t *ks,
                                  const char *kid, const scim_jwk_t **added,
                                  const char **err);

/* The whole set as a JWK Set document that scim_keyset_parse accepts
 * (indented, no trailing newline); NULL on failure. Contains key material:
 * write it only to a 0600 file. */
char *scim_keyset_to_json(apr_pool_t *p, const scim_keyset_t *ks);

/* What a token says, and what scim_jwt_sign puts in one. */
typedef struct {
    const char *kid; /* from the header */
    const char *iss, *aud, *tid, *sub, *idp, *jti;
    apr_int64_t iat, nbf, exp;
} scim_token_claims_t;

/* The audience of a tenant's tokens: "urn:scim-provision:tenant:<slug>". */
char *scim_jwt_audience(apr_pool_t *p, const char *slug);

/* Sign a token with key: header exactly
 * {"alg":"HS256","typ":"scim-prov+jwt","kid":key->kid} and claims exactly
 * iss,aud,tid,sub,idp,jti,iat,nbf,exp (aud from c->tid if c->aud is NULL;
 * c->kid is ignored). Returns the compact JWS, or NULL if a string claim or
 * the key is missing. */
char *scim_jwt_sign(apr_pool_t *p, const scim_jwk_t *key,
                    const scim_token_claims_t *c);

/* A new random jti: 16 random bytes in base64url (22 chars); NULL if the
 * random generator fails. */
char *scim_jwt_new_jti(apr_pool_t *p);

/* Strictly verify token[0..len-1] (need not be NUL-terminated) per SPEC
 * section 4 for the location serving tenant expect_tenant, at unix time
 * now: structure, header, HMAC (constant-time compare) before any claim is
 * parsed, then the claims (exactly the nine, types, iss, tid, aud, idp, sub,
 * jti, times with SCIM_JWT_LEEWAY and SCIM_JWT_MAX_LIFETIME). APR_SUCCESS
 * fills *out with pool copies; otherwise *out is zeroed, the result is
 * APR_ENOENT for an unknown kid and APR_EINVAL for everything else, and
 * *reason is a short constant text (never token bytes) for the error log. */
apr_status_t scim_jwt_verify(apr_pool_t *p, const scim_keyset_t *ks,
                             const char *token, apr_size_t len,
                             const char *expect_iss, const char *expect_tenant,
                             apr_int64_t now, scim_token_claims_t *out,
                             const char **reason);

/* What one connection last verified: a client sends the same token with
 * every request, so its MAC, base64url and JSON need checking once per
 * connection. Only a token that passed scim_jwt_verify is kept, and not
 * the token itself: its SHA-256 (which every request computes for the
 * token's row anyway), with what it was checked with (the key set, by its
 * serial), and its claims (whose iss and tid are the issuer and tenant it
 * was checked against: scim_jwt_verify requires them). One token at a
 * time: keeping another frees the copies of the last, so the memo stays
 * the size of one token's claims however many a connection sends. Not for
 * sharing between threads: one per connection (or per HTTP/2 stream). */
typedef struct {
    apr_pool_t *parent; /* of pool, made at the first keep */
    apr_pool_t *pool; /* the copies below, or NULL: nothing kept */
    apr_uint64_t ks_serial;
    unsigned char sha256[32];
    scim_token_claims_t claims;
} scim_jwt_memo_t;

/* An empty memo, whose copies will live in a subpool of parent. */
scim_jwt_memo_t *scim_jwt_memo_make(apr_pool_t *parent);

/* scim_jwt_verify, and sha256 gets the token's SHA-256 on success. When m
 * holds a token of this SHA-256, verified with ks against expect_iss and
 * expect_tenant, only the time rules run again (at now); otherwise the
 * token is verified in full, and m keeps it in place of the last if it
 * passes (a refused token leaves m as it was). The claims are copied into
 * p either way. m may be NULL: no memo. The token's row (revocation,
 * expiry, deletion) is still the store's to check on every request. */
apr_status_t scim_jwt_verify_memo(apr_pool_t *p, scim_jwt_memo_t *m,
                                  const scim_keyset_t *ks, const char *token,
                                  apr_size_t len, const char *expect_iss,
                                  const char *expect_tenant, apr_int64_t now,
                                  scim_token_claims_t *out,
                                  unsigned char sha256[32], const char **reason);

#endif /* SCIM_JWT_H */
