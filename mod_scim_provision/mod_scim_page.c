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
#include <util_cfgtree.h>

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

/* Does a directive "SetHandler scim-provision-admin" appear under node? */
static int serves_page(apr_pool_t *p, ap_directive_t *node)
{
    for (; node; node = node->next) {
        if (!strcasecmp(node->directive, "SetHandler") && node->args) {
            const char *args = node->args;

            if (!strcasecmp(ap_getword_conf(p, &args), MOD_SCIM_ADMIN_HANDLER)) {
                return 1;
            }
        }
        if (node->first_child && serves_page(p, node->first_child)) {
            return 1;
        }
    }
    return 0;
}

static int has_index(apr_pool_t *p, const char *dir)
{
    const char *path = apr_pstrcat(p, dir, "/index.html", NULL);
    apr_finfo_t fi;
    apr_file_t *f;

    if (apr_stat(&fi, path, APR_FINFO_TYPE, p) != APR_SUCCESS
        || fi.filetype != APR_REG
        || apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS) {
        return 0;
    }
    apr_file_close(f);
    return 1;
}

void mod_scim_page_check_assets(apr_pool_t *p, server_rec *s)
{
    const char *checked = NULL;

    if (!serves_page(p, ap_conftree)) {
        return; /* no page configured: nothing to miss */
    }
    for (; s; s = s->next) {
        const char *dir = mod_scim_srv_conf(s)->assets_dir;

        if (!dir || (checked && !strcmp(dir, checked))) {
            continue;
        }
        checked = dir;
        if (!has_index(p, dir)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         SCIMLOGNO(00160) "SCIMAssetsDir %s holds no readable "
                                          "index.html: the Auto Provisioning "
                                          "Token page will answer 404 (install "
                                          "the page's files there, or point "
                                          "SCIMAssetsDir at them)",
                         dir);
        }
    }
}
