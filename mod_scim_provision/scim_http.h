#ifndef SCIM_HTTP_H
#define SCIM_HTTP_H

/* Parsers of the parts of an HTTP request that the module reads itself: the
 * query string, If-Match / If-None-Match and Authorization. Core code (APR
 * only, no httpd header), so that they can be unit-tested and fuzzed. Each
 * is linear in the size of its input and says why it refuses something in
 * an ASCII message that never contains a credential. */

#include <apr_pools.h>
#include <apr_tables.h>

/* Query string -> table of decoded name/value pairs ('+' is a space, %HH a
 * byte; an empty pair is skipped). Rejects: malformed %-escapes, a decoded
 * NUL, bytes that are not valid UTF-8 (overlong and truncated sequences
 * included) in names or values, a parameter given twice (names compared
 * ignoring ASCII case, as apr_table_get() looks them up), more than
 * SCIM_HTTP_MAX_PARAMS parameters. On error returns APR_EINVAL and a safe
 * (ASCII) message in *err. args may be NULL (no parameters). */
#define SCIM_HTTP_MAX_PARAMS 64
apr_status_t scim_http_parse_query(apr_pool_t *p, const char *args,
                                   apr_table_t **out, const char **err);

/* If-Match / If-None-Match value -> NULL-terminated array of opaque tags
 * (quotes and W/ removed), or *any = 1 for "*". APR_EINVAL on syntax errors
 * or non-UTF-8 bytes (RFC 7232 2.3: 1#entity-tag, empty list elements and
 * optional white space allowed). */
apr_status_t scim_http_parse_etags(apr_pool_t *p, const char *header,
                                   const char ***tags, int *any,
                                   const char **err);

/* Authorization header -> scheme (SCIM_AUTH_BEARER or SCIM_AUTH_BASIC), user
 * (Basic only, else NULL) and token. APR_EINVAL for anything malformed:
 * another scheme, an empty token, bytes outside the token68 alphabet after
 * Bearer, Basic credentials that are not canonical base64 of valid UTF-8
 * "user:token" without NUL. *err never quotes the header. */
typedef enum {
    SCIM_AUTH_NONE = 0,
    SCIM_AUTH_BEARER,
    SCIM_AUTH_BASIC
} scim_auth_scheme_e;
apr_status_t scim_http_parse_authorization(apr_pool_t *p, const char *header,
                                           scim_auth_scheme_e *scheme,
                                           const char **user,
                                           const char **token, const char **err);

#endif /* SCIM_HTTP_H */
