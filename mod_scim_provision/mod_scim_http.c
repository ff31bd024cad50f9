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
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      SCIMLOGNO(00020) "no database connection from mod_dbd "
                                       "(is the database up?)");
        return NULL;
    }
    db = scim_db_wrap(r->pool, dbd->driver, dbd->handle);
    /* the hot statements stay prepared on the pooled connection */
    db->prepared = dbd->prepared;
    db->conn_pool = dbd->pool;
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

int mod_scim_send_json(request_rec *r, int status, const char *ctype, json_t *doc)
{
    char *body = scim_json_dump(r->pool, doc, 0);

    r->status = status;
    ap_set_content_type(r, ctype);
    if (status == HTTP_NO_CONTENT || !body) {
        return OK;
    }
    ap_set_content_length(r, (apr_off_t)strlen(body));
    if (!r->header_only) {
        ap_rputs(body, r);
    }
    return OK;
}

int mod_scim_admin_error(request_rec *r, int status, const char *code,
                         const char *message)
{
    json_t *doc = scim_json_pool_own(r->pool,
                                     json_pack("{s:s, s:s}", "error", code,
                                               "message", message));

    return mod_scim_send_json(r, status, "application/json; charset=utf-8", doc);
}

int mod_scim_scim_error(request_rec *r, int status, const char *scim_type,
                        const char *detail)
{
    json_t *doc = scim_json_pool_own(r->pool,
                                     json_pack("{s:[s], s:s, s:s}", "schemas",
                                               "urn:ietf:params:scim:api:messages:2.0:Error",
                                               "status", apr_itoa(r->pool, status),
                                               "detail", detail));

    if (scim_type) {
        json_object_set_new(doc, "scimType", json_string(scim_type));
    }
    if (status == HTTP_SERVICE_UNAVAILABLE) {
        apr_table_setn(r->headers_out, "Retry-After", MOD_SCIM_RETRY_AFTER);
    }
    return mod_scim_send_json(r, status, "application/scim+json", doc);
}

static int b64url_char(char c)
{
    return apr_isalnum(c) || c == '-' || c == '_';
}

/* At least "eyJxxxxxxxx.yyyyyyyyyy." : two dot-terminated base64url runs. */
static int jws_shaped(const char *p)
{
    int seg, n;

    for (seg = 0; seg < 2; seg++) {
        for (n = 0; b64url_char(*p); p++) {
            n++;
        }
        if (n < 10 || *p != '.') {
            return 0;
        }
        p++;
    }
    return 1;
}

/* Something in a query string that could be a credential: a parameter
 * whose name says so, or a value shaped like a JWS. */
static int looks_like_token(const char *args)
{
    static const char *const names[] = { "access_token=", "token=", "id_token=",
                                         "bearer=", NULL };
    const char *p;
    int i;

    for (i = 0; names[i]; i++) {
        for (p = args; (p = ap_strcasestr(p, names[i])) != NULL; p++) {
            if (p == args || p[-1] == '&' || p[-1] == ';') {
                return 1;
            }
        }
    }
    /* base64url of '{"' starts a JWS header: "eyJ" + segment "." segment "." */
    for (p = args; (p = strstr(p, "eyJ")) != NULL; p++) {
        if (jws_shaped(p)) {
            return 1;
        }
    }
    return 0;
}

int mod_scim_redact_query_token(request_rec *r)
{
    const char *q;

    if (!r->args || !*r->args || !looks_like_token(r->args)) {
        return 0;
    }
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
