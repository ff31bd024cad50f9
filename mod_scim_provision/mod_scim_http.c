/* Request and response helpers shared by the SCIM and admin handlers. */

#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_lib.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <util_filter.h>
#include <apr_dbd.h>
#include <mod_dbd.h>

#include "mod_scim_provision.h"
#include "scim_json.h"
#include "scim_service.h"

APLOG_USE_MODULE(scim_provision);

typedef ap_dbd_t *(*dbd_acquire_fn)(request_rec *);
static dbd_acquire_fn dbd_acquire;

void mod_scim_set_dbd_acquire(void *fn)
{
    dbd_acquire = (dbd_acquire_fn)fn;
}

scim_db_t *mod_scim_db(request_rec *r)
{
    ap_dbd_t *dbd = dbd_acquire ? dbd_acquire(r) : NULL;
    scim_db_t *db;

    if (!dbd) {
        return NULL; /* the caller logs it (mod_scim_unavailable) */
    }
    db = scim_db_wrap(r->pool, dbd->driver, dbd->handle);
    /* the hot statements stay prepared on the pooled connection */
    scim_db_pooled(db, dbd->pool);
    return db;
}

const char *mod_scim_subpath(request_rec *r)
{
    const char *loc = mod_scim_dir_conf(r)->location;
    apr_size_t n;

    if (!loc) {
        return r->path_info ? r->path_info : "";
    }
    n = strlen(loc);
    while (n > 1 && loc[n - 1] == '/') {
        n--;
    }
    if (strncmp(r->uri, loc, n) || (r->uri[n] && r->uri[n] != '/')) {
        return r->path_info ? r->path_info : "";
    }
    return r->uri + n;
}

int mod_scim_read_body(request_rec *r, apr_off_t max, char **buf,
                       apr_size_t *len, const char **err)
{
    apr_bucket_brigade *bb;
    apr_size_t total = 0, cap = 8192;
    char *data;
    int seen_eos = 0;
    apr_status_t rv;

    *buf = NULL;
    *len = 0;
    if (OK != (rv = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK))) {
        *err = "unreadable request body";
        return (int)rv;
    }
    if (r->remaining > max) {
        *err = apr_psprintf(r->pool,
                            "request body larger than %" APR_OFF_T_FMT " bytes",
                            max);
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    data = apr_palloc(r->pool, cap + 1);
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    do {
        apr_bucket *b;

        rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                            APR_BLOCK_READ, 8192);
        if (rv != APR_SUCCESS) {
            *err = "could not read the request body";
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
             b = APR_BUCKET_NEXT(b)) {
            const char *chunk;
            apr_size_t n;

            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(b)) {
                continue;
            }
            rv = apr_bucket_read(b, &chunk, &n, APR_BLOCK_READ);
            if (rv != APR_SUCCESS) {
                *err = "could not read the request body";
                return HTTP_BAD_REQUEST;
            }
            if ((apr_off_t)(total + n) > max) {
                *err = apr_psprintf(r->pool,
                                    "request body larger than "
                                    "%" APR_OFF_T_FMT " bytes",
                                    max);
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            if (total + n > cap) {
                char *bigger;

                while (total + n > cap) {
                    cap *= 2;
                }
                bigger = apr_palloc(r->pool, cap + 1);
                memcpy(bigger, data, total);
                data = bigger;
            }
            memcpy(data + total, chunk, n);
            total += n;
        }
        apr_brigade_cleanup(bb);
    } while (!seen_eos);
    data[total] = '\0';
    *buf = data;
    *len = total;
    return OK;
}

void mod_scim_security_headers(request_rec *r)
{
    apr_table_setn(r->headers_out, "X-Frame-Options", "DENY");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->headers_out, "Referrer-Policy", "no-referrer");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
}

/* A body that cannot fail: sent when a response could not be built. */
#define ADMIN_FALLBACK_FMT \
    "{\"error\":\"internal\",\"message\":\"The response could not be built.\"}"
/* The longest detail or message an error body quotes. */
#define ERROR_TEXT_MAX 1024

int mod_scim_send_text(request_rec *r, int status, const char *ctype,
                       const char *body)
{
    r->status = status;
    if (status == HTTP_NO_CONTENT || status == HTTP_NOT_MODIFIED) {
        return OK;
    }
    if (!body) {
        /* Only a bug gets here: say so, and still answer. */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      SCIMLOGNO(00120) "could not build the body of a %d "
                                       "response",
                      status);
        if (status < 400) {
            r->status = status = HTTP_INTERNAL_SERVER_ERROR;
        }
        body = !strncmp(ctype, "application/scim+json", 21)
            ? scim_svc_error_body(r->pool, status, NULL,
                                  "The response could not be built")
            : ADMIN_FALLBACK_FMT;
    }
    ap_set_content_type(r, ctype);
    ap_set_content_length(r, (apr_off_t)strlen(body));
    if (!r->header_only) {
        ap_rputs(body, r);
    }
    return OK;
}

int mod_scim_send_json(request_rec *r, int status, const char *ctype, json_t *doc)
{
    return mod_scim_send_text(r, status, ctype,
                              status == HTTP_NO_CONTENT
                                  ? ""
                                  : scim_json_dump(r->pool, doc, 0));
}

static const char *error_text(apr_pool_t *p, const char *s)
{
    return scim_util_quote(p, s ? s : "error", s ? strlen(s) : 5, ERROR_TEXT_MAX);
}

int mod_scim_admin_error(request_rec *r, int status, const char *code,
                         const char *message)
{
    json_t *doc = scim_json_pool_own(r->pool,
                                     json_pack("{s:s, s:s}", "error",
                                               error_text(r->pool, code),
                                               "message",
                                               error_text(r->pool, message)));
    const char *body = scim_json_dump(r->pool, doc, 0);

    return mod_scim_send_text(r, status, "application/json; charset=utf-8",
                              body ? body : ADMIN_FALLBACK_FMT);
}

void mod_scim_unavailable(request_rec *r, const char *why)
{
    mod_scim_count(MOD_SCIM_C_DB_ERRORS);
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  SCIMLOGNO(00210) "database unavailable, answered 503: %s",
                  why ? why
                      : "no database connection from mod_dbd (is the "
                        "database up?)");
    apr_table_setn(r->headers_out, "Retry-After", MOD_SCIM_RETRY_AFTER);
}

static int b64url_char(char c)
{
    return apr_isalnum(c) || c == '-' || c == '_';
}

/* Whether s[0..len-1] holds a JWS-shaped run: "eyJ" and at least 10
 * base64url characters, '.', at least 10 more, '.'. One pass: within a
 * dot-separated segment only the first "eyJ" matters (its tail is the
 * longest). */
static int has_jws(const char *s, apr_size_t len)
{
    apr_size_t i = 0;

    while (i < len) {
        apr_size_t seg = i, tail = 0, next = 0, j;

        while (i < len && b64url_char(s[i])) {
            i++;
        }
        for (j = seg; j + 3 <= i; j++) {
            if (!memcmp(s + j, "eyJ", 3)) {
                tail = i - j;
                break;
            }
        }
        if (tail >= 10 && i < len && s[i] == '.') {
            j = i + 1;
            while (j < len && b64url_char(s[j])) {
                j++;
            }
            next = j - (i + 1);
            if (next >= 10 && j < len && s[j] == '.') {
                return 1;
            }
        }
        if (i < len) {
            i++; /* the byte that ended the run */
        }
    }
    return 0;
}

/* Lenient %-decoding for the check below ('+' is a space; a malformed
 * escape stays as it is): what the handler would see. */
static char *decode_lenient(apr_pool_t *p, const char *s, apr_size_t len,
                            apr_size_t *outlen)
{
    char *out = apr_palloc(p, len + 1);
    apr_size_t i, o = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && apr_isxdigit(s[i + 1])
            && apr_isxdigit(s[i + 2])) {
            char hex[3] = { s[i + 1], s[i + 2], '\0' };

            out[o++] = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

/* Something in a query string that could be a credential, after
 * %-decoding: a parameter whose name says so, or a value (or name) that
 * holds a JWS. Linear in the length of args. */
static int looks_like_token(apr_pool_t *p, const char *args)
{
    static const char *const names[] = { "access_token",  "token",  "id_token",
                                         "refresh_token", "bearer", "jwt",
                                         "authorization", NULL };
    const char *s = args;

    while (*s) {
        apr_size_t plen = strcspn(s, "&;"), nlen, dlen;
        const char *eq = memchr(s, '=', plen);
        const char *name;
        char *pair;
        int i;

        nlen = eq ? (apr_size_t)(eq - s) : plen;
        name = decode_lenient(p, s, nlen, &dlen);
        for (i = 0; names[i]; i++) {
            if (!strcasecmp(name, names[i])) {
                return 1;
            }
        }
        pair = decode_lenient(p, s, plen, &dlen);
        if (has_jws(pair, dlen)) {
            return 1;
        }
        s += plen;
        if (*s) {
            s++;
        }
    }
    return 0;
}

#define REDACTED_NOTE "scim-provision-token-redacted"

int mod_scim_redact_query_token(request_rec *r)
{
    const char *q;

    if (apr_table_get(r->notes, REDACTED_NOTE)) {
        return 1; /* done already (the header_parser hook) */
    }
    if (!r->args || !*r->args || !looks_like_token(r->pool, r->args)) {
        return 0;
    }
    apr_table_setn(r->notes, REDACTED_NOTE, "1");
    r->args = NULL;
    r->parsed_uri.query = NULL;
    r->unparsed_uri = apr_pstrcat(r->pool, r->uri, "?REDACTED", NULL);
    if (r->the_request && (q = strchr(r->the_request, '?')) != NULL) {
        const char *sp = strchr(q, ' ');

        r->the_request = apr_pstrcat(r->pool,
                                     apr_pstrmemdup(r->pool, r->the_request,
                                                    (apr_size_t)(q - r->the_request)),
                                     "?REDACTED", sp ? sp : "", NULL);
    }
    return 1;
}

int mod_scim_redact_hook(request_rec *r)
{
    /* Both handlers' locations, before any authentication module can log
     * or refuse the request: the access log must never see the token. */
    if (mod_scim_dir_conf(r)->tenant) {
        mod_scim_redact_query_token(r);
    }
    return DECLINED;
}
