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
    apr_time_t now; /* creation time (whole seconds are kept) */
} scim_token_mint_in_t;

typedef struct {
    const char *token; /* the JWT: shown once, never stored or logged */
    const char *jti;
    const char *kid;
    unsigned char hash[32]; /* SHA-256 of the token bytes: what is stored */
    apr_int64_t iat; /* = created_at, unix seconds */
    apr_int64_t exp; /* = expires_at: one calendar year after iat */
} scim_token_minted_t;

/* Mint a token: a fresh jti, the nine claims, the signature and its hash.
 * APR_EINVAL if an input is missing, APR_EGENERAL if the random generator
 * fails; *out is filled only on APR_SUCCESS. */
apr_status_t scim_token_mint(apr_pool_t *p, const scim_token_mint_in_t *in,
                             scim_token_minted_t *out);

/* One calendar year after t (unix seconds, UTC), as PostgreSQL's
 * t + interval '1 year' computes it: 29 February goes to 28 February. */
apr_int64_t scim_token_expiry(apr_int64_t t);

#endif
