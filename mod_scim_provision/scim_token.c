/* Token minting (see scim_token.h): the only place that builds the claims
 * of a new provisioning token and signs it. */

#include <string.h>

#include "scim_token.h"
#include "scim_util.h"

apr_int64_t scim_token_expiry(apr_int64_t t)
{
    apr_time_exp_t tm;
    apr_time_t later;

    if (apr_time_exp_gmt(&tm, apr_time_from_sec(t)) != APR_SUCCESS) {
        return t + 365 * 86400;
    }
    tm.tm_year++;
    if (tm.tm_mon == 1 && tm.tm_mday == 29) {
        tm.tm_mday = 28;
    }
    if (apr_time_exp_gmt_get(&later, &tm) != APR_SUCCESS) {
        return t + 365 * 86400;
    }
    return apr_time_sec(later);
}

apr_status_t scim_token_mint(apr_pool_t *p, const scim_token_mint_in_t *in,
                             scim_token_minted_t *out)
{
    scim_token_claims_t c;
    const char *token;

    if (!in->key || !in->issuer || !in->tenant_slug || !in->account_id
        || !in->idp_type) {
        return APR_EINVAL;
    }
    memset(&c, 0, sizeof(c));
    c.iss = in->issuer;
    c.tid = in->tenant_slug;
    c.aud = scim_jwt_audience(p, in->tenant_slug);
    c.sub = in->account_id;
    c.idp = in->idp_type;
    c.iat = c.nbf = apr_time_sec(in->now);
    c.exp = scim_token_expiry(c.iat);
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
