/* Token minting (see scim_token.h): the only place that builds the claims
 * of a new provisioning token and signs it. */

#include <string.h>

#include "scim_token.h"
#include "scim_util.h"

apr_status_t scim_token_mint(apr_pool_t *p, const scim_token_mint_in_t *in,
                             scim_token_minted_t *out)
{
    scim_token_claims_t c;
    const char *token;

    if (!in->key || !in->issuer || !in->tenant_slug || !in->account_id
        || !in->idp_type || in->exp <= in->iat
        || in->exp - in->iat > SCIM_JWT_MAX_LIFETIME) {
        return APR_EINVAL;
    }
    memset(&c, 0, sizeof(c));
    c.iss = in->issuer;
    c.tid = in->tenant_slug;
    c.aud = scim_jwt_audience(p, in->tenant_slug);
    c.sub = in->account_id;
    c.idp = in->idp_type;
    c.iat = c.nbf = in->iat;
    c.exp = in->exp;
    if (!(c.jti = scim_jwt_new_jti(p))) {
        return APR_EGENERAL;
    }
    if (!(token = scim_jwt_sign(p, in->key, &c))) {
        return APR_EINVAL;
    }
    out->token = token;
    out->jti = c.jti;
    out->kid = in->key->kid;
    scim_sha256(token, strlen(token), out->hash);
    out->iat = c.iat;
    out->exp = c.exp;
    return APR_SUCCESS;
}
