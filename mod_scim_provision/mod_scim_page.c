/* The Identity Providers / Auto Provisioning Token page: static files from
 * SCIMAssetsDir (installed with the module), served only to administrators
 * that the admin handler has already authorized. */

#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_file_io.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>

#include "mod_scim_provision.h"

APLOG_USE_MODULE(scim_provision);

#define PAGE_CSP                                                \
    "default-src 'self'; script-src 'self'; style-src 'self'; " \
    "img-src 'self' data:; connect-src 'self'; "                \
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
#define MAX_ASSET (1024 * 1024)

static const struct {
    const char *ext;
    const char *ctype;
} types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".ico", "image/x-icon" },
    { NULL, NULL },
};

/* Asset names are [a-z0-9-]+ plus a known extension: no path can escape. */
static const char *asset_type(const char *name)
{
    const char *dot = strrchr(name, '.'), *p;
    int i;

    if (!dot || dot == name) {
        return NULL;
    }
    for (p = name; p < dot; p++) {
        if (!apr_islower(*p) && !apr_isdigit(*p) && *p != '-') {
            return NULL;
        }
    }
    for (i = 0; types[i].ext; i++) {
        if (!strcmp(dot, types[i].ext)) {
            return types[i].ctype;
        }
    }
    return NULL;
}

static int wants_html(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");

    return !accept || ap_strstr_c(accept, "text/html")
        || ap_strstr_c(accept, "*/*");
}

static int send_file(request_rec *r, const char *name, const char *ctype)
{
    mod_scim_srv_conf_t *conf = mod_scim_srv_conf(r->server);
    const char *path = apr_pstrcat(r->pool, conf->assets_dir, "/", name, NULL);
    apr_finfo_t fi;
    apr_file_t *f;
    apr_size_t n;
    char *buf;

    if (apr_stat(&fi, path, APR_FINFO_SIZE | APR_FINFO_TYPE, r->pool) != APR_SUCCESS
        || fi.filetype != APR_REG || fi.size > MAX_ASSET) {
        return mod_scim_admin_error(r, HTTP_NOT_FOUND, "not_found",
                                    "no such page");
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(r->pool, n + 1);
    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, r->pool) != APR_SUCCESS
        || apr_file_read_full(f, buf, n, &n) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      SCIMLOGNO(00050) "cannot read %s (SCIMAssetsDir)", path);
        return HTTP_NOT_FOUND;
    }
    apr_file_close(f);
    apr_table_setn(r->headers_out, "Content-Security-Policy", PAGE_CSP);
    ap_set_content_type(r, ctype);
    ap_set_content_length(r, (apr_off_t)n);
    if (!r->header_only) {
        ap_rwrite(buf, (int)n, r);
    }
    return OK;
}

int mod_scim_admin_page(request_rec *r, const char *path)
{
    const char *ctype;

    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return mod_scim_admin_error(r, HTTP_METHOD_NOT_ALLOWED,
                                    "method_not_allowed",
                                    "the page is read with GET");
    }
    if (!strcmp(path, "/")) {
        if (!wants_html(r)) {
            return mod_scim_admin_error(r, HTTP_NOT_ACCEPTABLE, "not_acceptable",
                                        "this is an HTML page; the JSON API "
                                        "is under api/");
        }
        return send_file(r, "index.html", types[0].ctype);
    }
    if (!strncmp(path, "/assets/", 8) && (ctype = asset_type(path + 8))) {
        return send_file(r, path + 8, ctype);
    }
    return mod_scim_admin_error(r, HTTP_NOT_FOUND, "not_found", "no such page");
}
