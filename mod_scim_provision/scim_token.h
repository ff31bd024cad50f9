#ifndef SCIM_TOKEN_H
#define SCIM_TOKEN_H

/* Provisioning tokens as the core knows them (SPEC 3 and 4): the limit of
 * live tokens and minting (jti, claims, HS256 signature, SHA-256 of the
 * bytes). Core: no SQL, no httpd. The caller mints; the store keeps what
 * scim_token_mint returns except the token itself, and never sees a key. */

#include <apr_pools.h>
#include <apr_time.h>

#include "scim_jwt.h"

/* At most this many live tokens per provisioning account (SPEC 3.3). The
 * store hands it to its SQL as a parameter. */
#define SCIM_MAX_LIVE_TOKENS 2

typedef struct {
    const scim_jwk_t *key; /* signs; only its kid leaves this function */
    const char *issuer;
    const char *tenant_slug; /* tid, and aud */
    const char *account_id; /* sub: the provisioning account */
    const char *idp_type; /* idp: "okta" or "entra" */
    /* iat and exp, unix seconds: the database's clock decides them
     * (scim_store_token_owner), so that they equal created_at and
     * expires_at exactly */
    apr_int64_t iat;
    apr_int64_t exp;
} scim_token_mint_in_t;

typedef struct {
    const char *token; /* the JWT: shown once, never stored or logged */
    const char *jti;
    const char *kid;
    unsigned char hash[32]; /* SHA-256 of the token bytes: what is stored */
    apr_int64_t iat; /* = in->iat = created_at, unix seconds */
    apr_int64_t exp; /* = in->exp = expires_at */
} scim_token_minted_t;

/* Mint a token: a fresh jti, the nine claims, the signature and its hash.
 * APR_EINVAL if an input is missing or exp is not after iat by at most
 * SCIM_JWT_MAX_LIFETIME, APR_EGENERAL if the random generator fails; *out
 * is filled only on APR_SUCCESS. */
apr_status_t scim_token_mint(apr_pool_t *p, const scim_token_mint_in_t *in,
                             scim_token_minted_t *out);

#endif
