/* Parsers of HTTP request parts (see scim_http.h). */

#include <string.h>
#include <strings.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "scim_http.h"
#include "scim_util.h"

/* How much of a client's parameter name a message quotes. */
#define QUOTE_MAX 64

/* A name for an error message: printable ASCII kept, every other byte as
 * \xHH, at most QUOTE_MAX bytes of that then "..." (the messages of this
 * file are ASCII; scim_util_quote would keep valid UTF-8). */
static const char *ascii_quote(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = apr_palloc(p, QUOTE_MAX + 4), *o = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int k = (c >= 0x20 && c < 0x7F) ? 1 : 4;

        if (o - out + k > QUOTE_MAX) {
            memcpy(o, "...", 3);
            o += 3;
            break;
        }
        if (k == 1) {
            *o++ = (char)c;
        }
        else {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decode s[0..len-1] of a query string into a new string ('+' is a space);
 * NULL with *err set if it is not a valid, NUL-free UTF-8 text. */
static char *query_decode(apr_pool_t *p, const char *s, apr_size_t len,
                          const char *what, const char **err)
{
    char *out = apr_palloc(p, len + 1);
    apr_size_t i, o = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi, lo;

            if (len - i < 3) {
                hi = lo = -1;
            }
            else {
                hi = hex_value(s[i + 1]);
                lo = hi < 0 ? -1 : hex_value(s[i + 2]);
            }
            if (hi < 0 || lo < 0) {
                *err = apr_psprintf(p,
                                    "malformed %%-escape in a query "
                                    "parameter %s",
                                    what);
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        }
        else if (s[i] == '+') {
            out[o++] = ' ';
        }
        else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    if (memchr(out, '\0', o)) {
        *err = apr_psprintf(p, "a query parameter %s contains a NUL byte", what);
        return NULL;
    }
    if (!scim_utf8_valid(out, o)) {
        *err = apr_psprintf(p, "a query parameter %s is not valid UTF-8", what);
        return NULL;
    }
    return out;
}

apr_status_t scim_http_parse_query(apr_pool_t *p, const char *args,
                                   apr_table_t **out, const char **err)
{
    apr_table_t *t = apr_table_make(p, 8);
    apr_hash_t *seen = apr_hash_make(p);
    const char *s = args ? args : "";
    int n = 0;

    *out = t;
    *err = NULL;
    while (*s) {
        apr_size_t plen = strcspn(s, "&"), nlen;
        const char *eq = memchr(s, '=', plen);
        char *name, *val, *key, *k;

        nlen = eq ? (apr_size_t)(eq - s) : plen;
        if (plen == 0) {
            s++; /* "a=1&&b=2": an empty pair */
            continue;
        }
        if (++n > SCIM_HTTP_MAX_PARAMS) {
            *err = apr_psprintf(p, "at most %d query parameters",
                                SCIM_HTTP_MAX_PARAMS);
            return APR_EINVAL;
        }
        if (!(name = query_decode(p, s, nlen, "name", err))) {
            return APR_EINVAL;
        }
        val = eq ? query_decode(p, eq + 1, plen - nlen - 1, "value", err)
                 : apr_pstrdup(p, "");
        if (!val) {
            return APR_EINVAL;
        }
        /* apr_table_get() ignores case: so does "given twice" */
        key = apr_pstrdup(p, name);
        for (k = key; *k; k++) {
            *k = (char)((*k >= 'A' && *k <= 'Z') ? *k + 32 : *k);
        }
        if (apr_hash_get(seen, key, APR_HASH_KEY_STRING)) {
            *err = apr_psprintf(p, "query parameter \"%s\" is given twice",
                                ascii_quote(p, name));
            return APR_EINVAL;
        }
        apr_hash_set(seen, key, APR_HASH_KEY_STRING, name);
        apr_table_addn(t, name, val);
        s += plen;
        if (*s == '&') {
            s++;
        }
    }
    return APR_SUCCESS;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

apr_status_t scim_http_parse_etags(apr_pool_t *p, const char *header,
                                   const char ***tags, int *any, const char **err)
{
    apr_array_header_t *arr = apr_array_make(p, 2, sizeof(const char *));
    const char *s = header ? header : "";
    const char *end = s + strlen(s); /* once: the loop below is linear */
    int star = 0, elements = 0;

    *tags = NULL;
    *any = 0;
    *err = NULL;
    for (;;) {
        while (is_ows(*s) || *s == ',') {
            s++;
        }
        if (!*s) {
            break;
        }
        elements++;
        if (*s == '*') {
            star = 1;
            s++;
        }
        else {
            const char *b;
            apr_size_t n;

            if (s[0] == 'W' && s[1] == '/') {
                s += 2;
            }
            if (*s != '"') {
                *err = "an entity tag must be a quoted string";
                return APR_EINVAL;
            }
            b = ++s;
            while (*s && *s != '"') {
                unsigned char c = (unsigned char)*s;

                if (c >= 0x80) {
                    if (!(n = scim_utf8_next(s, (apr_size_t)(end - s), NULL))) {
                        *err = "an entity tag is not valid UTF-8";
                        return APR_EINVAL;
                    }
                    s += n;
                    continue;
                }
                if (c < 0x21 || c == 0x7F) {
                    *err = "an entity tag contains a space or a control "
                           "character";
                    return APR_EINVAL;
                }
                s++;
            }
            if (*s != '"') {
                *err = "an entity tag is not terminated";
                return APR_EINVAL;
            }
            APR_ARRAY_PUSH(arr,
                           const char *) = apr_pstrmemdup(p, b,
                                                          (apr_size_t)(s - b));
            s++;
        }
        while (is_ows(*s)) {
            s++;
        }
        if (*s && *s != ',') {
            *err = "entity tags must be separated by commas";
            return APR_EINVAL;
        }
    }
    if (!elements) {
        *err = "an empty entity tag list";
        return APR_EINVAL;
    }
    if (star && elements > 1) {
        *err = "\"*\" cannot be combined with entity tags";
        return APR_EINVAL;
    }
    if (star) {
        *any = 1;
        return APR_SUCCESS;
    }
    APR_ARRAY_PUSH(arr, const char *) = NULL;
    *tags = (const char **)arr->elts;
    return APR_SUCCESS;
}

static int is_token68(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
        || c == '~' || c == '+' || c == '/';
}

/* The token68 at s (trailing '=' and white space allowed): its length, or
 * 0 if s is not one. */
static apr_size_t token68_len(const char *s)
{
    apr_size_t n = 0, end;

    while (is_token68(s[n])) {
        n++;
    }
    if (n == 0) {
        return 0;
    }
    while (s[n] == '=') {
        n++;
    }
    end = n;
    while (is_ows(s[n])) {
        n++;
    }
    return s[n] ? 0 : end;
}

apr_status_t scim_http_parse_authorization(apr_pool_t *p, const char *header,
                                           scim_auth_scheme_e *scheme,
                                           const char **user,
                                           const char **token, const char **err)
{
    const char *s = header ? header : "";
    apr_size_t n;

    *scheme = SCIM_AUTH_NONE;
    *user = NULL;
    *token = NULL;
    *err = NULL;
    while (is_ows(*s)) {
        s++;
    }
    if (!strncasecmp(s, "Bearer", 6) && is_ows(s[6])) {
        s += 7;
        while (is_ows(*s)) {
            s++;
        }
        if (!(n = token68_len(s))) {
            *err = "malformed Bearer credentials";
            return APR_EINVAL;
        }
        *scheme = SCIM_AUTH_BEARER;
        *token = apr_pstrmemdup(p, s, n);
        return APR_SUCCESS;
    }
    if (!strncasecmp(s, "Basic", 5) && is_ows(s[5])) {
        char *plain = NULL, *colon;
        apr_size_t len = 0;

        s += 6;
        while (is_ows(*s)) {
            s++;
        }
        if (!(n = token68_len(s))
            || scim_b64_decode(p, s, n, &plain, &len) != APR_SUCCESS
            || !scim_utf8_valid(plain, len)
            || !(colon = memchr(plain, ':', len))) {
            *err = "malformed Basic credentials";
            return APR_EINVAL;
        }
        *colon = '\0';
        if (!colon[1]) {
            *err = "Basic credentials without a token";
            return APR_EINVAL;
        }
        *scheme = SCIM_AUTH_BASIC;
        *user = plain;
        *token = colon + 1;
        return APR_SUCCESS;
    }
    *err = "unsupported authorization scheme";
    return APR_EINVAL;
}
