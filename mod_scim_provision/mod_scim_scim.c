/* The SCIM 2.0 endpoint of a tenant (SPEC 5.1, RFC 7644): authenticates
 * every request with a provisioning token, then serves Users, Groups,
 * search, Bulk and the discovery resources. Every store call is scoped by
 * the tenant of the verified token row. */

#include <apr_strings.h>
#include <apr_lib.h>

#include <errno.h>
#include <limits.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "mod_scim_provision.h"
#include "scim_filter.h"
#include "scim_http.h"
#include "scim_json.h"
#include "scim_patch.h"
#include "scim_schema.h"
#include "scim_store_res.h"

APLOG_USE_MODULE(scim_provision);

#define SCIM_CTYPE        "application/scim+json"
#define URN_ERROR         "urn:ietf:params:scim:api:messages:2.0:Error"
#define URN_SEARCH        "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
#define URN_BULK_REQUEST  "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
#define URN_BULK_RESPONSE "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
#define MAX_JSON_DEPTH    32
#define MAX_FILTER_LEN    4096
#define MAX_FILTER_DEPTH  32
#define MAX_RESULTS       200
#define MAX_PATCH_OPS     100
#define MAX_BULK_OPS      100
#define MAX_BULK_MEMBERS  2000 /* group members a Bulk request handles */
#define PATCH_RETRIES     5

/* One request of the SCIM endpoint. */
typedef struct {
    request_rec *r;
    scim_db_t *db;
    mod_scim_principal_t *who;
    const char *base; /* absolute URL of the SCIM root, no trailing '/' */
    scim_store_req_t rq; /* the store's view of this request */
    int accepted; /* the token row was found, r->user set */
    const char **if_match; /* If-Match tags, NULL: none or "*" */
    const char **if_none_match; /* If-None-Match tags, NULL: none */
    int if_none_match_any; /* If-None-Match: * */
    int bulk; /* inside a Bulk request */
    apr_size_t bulk_members; /* group members its operations handled */
} ctx_t;

/* The outcome of one operation, for a response or a Bulk entry. */
typedef struct {
    int status;
    const char *scim_type;
    const char *detail;
    const char *json; /* body text, or NULL */
    const char *location;
    const char *etag;
} result_t;

static void fail(result_t *res, int status, const char *scim_type,
                 const char *detail)
{
    memset(res, 0, sizeof(*res));
    res->status = status;
    res->scim_type = scim_type;
    res->detail = detail;
}

static void fault_to(result_t *res, const scim_fault_t *f)
{
    fail(res, f->status ? f->status : HTTP_BAD_REQUEST, f->scim_type,
         f->detail ? f->detail : "invalid request");
}

static void unavailable(ctx_t *c, result_t *res)
{
    mod_scim_count(MOD_SCIM_C_DB_ERRORS);
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, c->r,
                  SCIMLOGNO(00061) "database request failed: %s",
                  c->db && c->db->error ? c->db->error : "no connection");
    fail(res, HTTP_SERVICE_UNAVAILABLE, NULL,
         "The service is temporarily unavailable");
}

/* Write a result as the HTTP response. */
static int respond(ctx_t *c, const result_t *res)
{
    request_rec *r = c->r;
    const char *body = res->json;

    /* Nothing is answered before the token row was found: a response that
     * made no store call checks the token now. */
    if (!c->rq.verified && c->rq.db && res->status != HTTP_UNAUTHORIZED
        && res->status != HTTP_SERVICE_UNAVAILABLE) {
        apr_status_t rv = scim_store_verify(&c->rq);

        if (rv == SCIM_STORE_EDENIED) {
            mod_scim_auth_denied(r);
            return OK;
        }
        if (rv != APR_SUCCESS) {
            result_t u;

            unavailable(c, &u);
            return respond(c, &u);
        }
    }
    if (res->status == HTTP_UNAUTHORIZED) {
        mod_scim_auth_denied(r);
        return OK;
    }
    if (c->rq.verified && !c->accepted) {
        c->accepted = 1;
        mod_scim_auth_accepted(r, c->rq.token.tenant_id, c->rq.token.token_id,
                               c->rq.token.user_name);
    }
    r->status = res->status;
    if (res->location) {
        apr_table_setn(r->headers_out, "Location", res->location);
    }
    if (res->etag) {
        apr_table_setn(r->headers_out, "ETag", res->etag);
    }
    if (res->status == HTTP_SERVICE_UNAVAILABLE) {
        apr_table_setn(r->headers_out, "Retry-After", MOD_SCIM_RETRY_AFTER);
    }
    if (!body && res->status >= 400) {
        body = mod_scim_scim_error_body(r->pool, res->status, res->scim_type,
                                        res->detail);
    }
    /* a NULL body of a 2xx: logged, and a constant error body instead */
    return mod_scim_send_text(r, res->status, SCIM_CTYPE, body);
}

static int reply_json(ctx_t *c, int status, json_t *doc)
{
    result_t res;

    memset(&res, 0, sizeof(res));
    res.status = status;
    res.json = scim_json_dump(c->r->pool, scim_json_pool_own(c->r->pool, doc), 0);
    return respond(c, &res);
}

static int reply_error(ctx_t *c, int status, const char *type, const char *detail)
{
    result_t res;

    fail(&res, status, type, detail);
    return respond(c, &res);
}

static int method_not_allowed(ctx_t *c, const char *allow)
{
    apr_table_setn(c->r->headers_out, "Allow", allow);
    return reply_error(c, HTTP_METHOD_NOT_ALLOWED, NULL,
                       apr_psprintf(c->r->pool, "%s is not allowed here",
                                    scim_util_quote(c->r->pool, c->r->method,
                                                    strlen(c->r->method), 32)));
}

/* ---- request parsing ---------------------------------------------------- */

/* The request body as JSON, or a result to send (res->status set). */
static json_t *read_body(ctx_t *c, result_t *res)
{
    request_rec *r = c->r;
    mod_scim_srv_conf_t *conf = mod_scim_srv_conf(r->server);
    const char *ctype = apr_table_get(r->headers_in, "Content-Type");
    const char *err = NULL;
    apr_size_t len;
    json_t *doc;
    char *buf;
    int rc;

    res->status = 0;
    rc = mod_scim_read_body(r, conf->max_body, &buf, &len, &err);
    if (rc != OK) {
        fail(res, rc, NULL, err);
        return NULL;
    }
    if (!ctype
        || (strncasecmp(ctype, "application/scim+json", 21)
            && strncasecmp(ctype, "application/json", 16))) {
        fail(res, HTTP_UNSUPPORTED_MEDIA_TYPE, NULL,
             "the body must be application/scim+json or application/json");
        return NULL;
    }
    if (len == 0) {
        fail(res, HTTP_BAD_REQUEST, "invalidSyntax", "the body is empty");
        return NULL;
    }
    doc = scim_json_parse(r->pool, buf, len, MAX_JSON_DEPTH, &err);
    if (!doc) {
        fail(res, HTTP_BAD_REQUEST,
             strncmp(err, SCIM_JSON_ERR_RANGE, strlen(SCIM_JSON_ERR_RANGE))
                 ? "invalidSyntax"
                 : "invalidValue",
             apr_psprintf(r->pool, "malformed JSON: %s", err));
        return NULL;
    }
    if (!json_is_object(doc)) {
        fail(res, HTTP_BAD_REQUEST, "invalidSyntax",
             "the body must be a JSON object");
        return NULL;
    }
    return doc;
}

/* The opaque part of a version: W/"3-ab" -> 3-ab. */
static const char *opaque_of(apr_pool_t *p, const char *v)
{
    apr_size_t n;

    if (!strncmp(v, "W/", 2)) {
        v += 2;
    }
    n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        return apr_pstrmemdup(p, v + 1, n - 2);
    }
    return v;
}

/* Whether one of tags names the version (weak comparison, RFC 7232 2.3.2:
 * W/"3" and "3" name the same version). */
static int tags_match(apr_pool_t *p, const char **tags, const char *version)
{
    const char *o = opaque_of(p, version);

    for (; tags && *tags; tags++) {
        if (!strcmp(*tags, o)) {
            return 1;
        }
    }
    return 0;
}

/* A tag as this server writes versions ("<digits>"); anything else
 * matches nothing, and is never sent to the database. */
static int is_our_tag(const char *t)
{
    const char *s = t;

    while (*s >= '0' && *s <= '9') {
        s++;
    }
    return s != t && !*s && s - t <= 18;
}

static const scim_resource_type_t *rtype(scim_res_type_e t)
{
    return t == SCIM_RES_USER ? scim_schema_user() : scim_schema_group();
}

/* ---- operations --------------------------------------------------------- */

/* Store columns from a normalised document; groups lose their members to
 * group_members. */
static void write_from(apr_pool_t *p, scim_res_type_e type, json_t *doc,
                       int members_given, scim_res_write_t *w)
{
    json_t *v;

    memset(w, 0, sizeof(*w));
    w->external_id = json_string_value(json_object_get(doc, "externalId"));
    if (type == SCIM_RES_USER) {
        w->name = json_string_value(json_object_get(doc, "userName"));
        w->display_name = json_string_value(json_object_get(doc, "displayName"));
        v = json_object_get(doc, "active");
        w->active = v ? json_is_true(v) : 1;
        if (!v) {
            /* users are active unless the identity provider says not */
            json_object_set_new(doc, "active", json_true());
        }
    }
    else {
        w->name = json_string_value(json_object_get(doc, "displayName"));
        if (members_given) {
            w->members = scim_schema_member_ids(p, doc);
        }
        json_object_del(doc, "members");
    }
    w->doc = scim_json_dump(p, doc, 0);
}

static void store_failed(ctx_t *c, apr_status_t rv, scim_res_type_e type,
                         result_t *res)
{
    const char *what = type == SCIM_RES_USER ? "User" : "Group";

    if (rv == APR_ENOENT) {
        fail(res, HTTP_NOT_FOUND, NULL,
             apr_psprintf(c->r->pool, "%s not found", what));
    }
    else if (rv == APR_EEXIST) {
        fail(res, HTTP_CONFLICT, "uniqueness",
             type == SCIM_RES_USER ? "userName is already taken"
                                   : "displayName is already taken");
    }
    else if (rv == APR_EMISMATCH) {
        fail(res, HTTP_PRECONDITION_FAILED, NULL,
             "the resource has changed (If-Match)");
    }
    else if (rv == APR_EINVAL) {
        fail(res, HTTP_BAD_REQUEST, "invalidValue",
             "members must be users of this tenant");
    }
    else if (rv == SCIM_STORE_EDENIED) {
        fail(res, HTTP_UNAUTHORIZED, NULL, "denied");
    }
    else {
        unavailable(c, res);
    }
}

static void stored(const scim_res_t *row, int status, result_t *res)
{
    memset(res, 0, sizeof(*res));
    res->status = status;
    res->json = row->json;
    res->etag = row->version;
}

static const char *location_of(ctx_t *c, scim_res_type_e type, const char *id)
{
    return apr_pstrcat(c->r->pool, c->base,
                       type == SCIM_RES_USER ? "/Users/" : "/Groups/", id, NULL);
}

/* Each operation on a group costs time linear in its members: a Bulk
 * request handles at most MAX_BULK_MEMBERS of them in all (Okta and Entra
 * send groups in requests of their own, which have SCIM_MAX_MEMBER_VALUES).
 * 0 with *res filled when this operation's n members are over. */
static int bulk_budget(ctx_t *c, int n, result_t *res)
{
    if (!c->bulk || (c->bulk_members += (apr_size_t)n) <= MAX_BULK_MEMBERS) {
        return 1;
    }
    c->bulk_members = MAX_BULK_MEMBERS + 1; /* spent */
    fail(res, HTTP_BAD_REQUEST, "tooMany",
         apr_psprintf(c->r->pool,
                      "the group operations of one Bulk request may handle "
                      "%d members in all; send this one on its own",
                      MAX_BULK_MEMBERS));
    return 0;
}

/* A POST or PUT body as the columns and document to store; 0 with *res
 * filled when the body is not a valid resource. PUT and POST give the whole
 * resource, members included. */
static int body_to_write(ctx_t *c, scim_res_type_e type, const json_t *body,
                         scim_res_write_t *w, result_t *res)
{
    apr_pool_t *p = c->r->pool;
    scim_fault_t fault = { 0, NULL, NULL };
    json_t *doc;

    if (scim_schema_normalize(p, rtype(type), body, 0, &doc, &fault)
        != APR_SUCCESS) {
        fault_to(res, &fault);
        return 0;
    }
    write_from(p, type, doc, 1, w);
    if (type == SCIM_RES_GROUP && !w->members) {
        w->members = apr_array_make(p, 0, sizeof(const char *));
    }
    if (type == SCIM_RES_GROUP && !bulk_budget(c, w->members->nelts, res)) {
        return 0;
    }
    return 1;
}

static void op_create(ctx_t *c, scim_res_type_e type, const json_t *body,
                      result_t *res)
{
    scim_res_write_t w;
    scim_res_t *row;
    apr_status_t rv;

    if (!body_to_write(c, type, body, &w, res)) {
        return;
    }
    rv = scim_store_res_create(&c->rq, type, &w, &row);
    if (rv != APR_SUCCESS) {
        store_failed(c, rv, type, res);
        return;
    }
    stored(row, HTTP_CREATED, res);
    res->location = location_of(c, type, row->id);
}

static void op_replace(ctx_t *c, scim_res_type_e type, const char *id,
                       const char *version, const json_t *body, result_t *res)
{
    scim_res_write_t w;
    scim_res_t *row;
    apr_status_t rv;

    if (!body_to_write(c, type, body, &w, res)) {
        return;
    }
    rv = scim_store_res_replace(&c->rq, type, id, version, &w, &row);
    if (rv != APR_SUCCESS) {
        store_failed(c, rv, type, res);
        return;
    }
    stored(row, HTTP_OK, res);
    res->location = location_of(c, type, row->id);
}

static json_t *members_json(const apr_array_header_t *ids)
{
    json_t *arr = json_array();
    int i;

    for (i = 0; i < ids->nelts; i++) {
        json_array_append_new(arr,
                              json_pack("{s:s}", "value",
                                        APR_ARRAY_IDX(ids, i, const char *)));
    }
    return arr;
}

/* ids of a that are not in b (both arrays of const char *). */
static apr_array_header_t *ids_minus(apr_pool_t *p, const apr_array_header_t *a,
                                     const apr_array_header_t *b)
{
    apr_hash_t *h = apr_hash_make(p);
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    int i;

    for (i = 0; b && i < b->nelts; i++) {
        apr_hash_set(h, APR_ARRAY_IDX(b, i, const char *), APR_HASH_KEY_STRING,
                     "");
    }
    for (i = 0; a && i < a->nelts; i++) {
        const char *id = APR_ARRAY_IDX(a, i, const char *);

        if (!apr_hash_get(h, id, APR_HASH_KEY_STRING)) {
            APR_ARRAY_PUSH(out, const char *) = id;
        }
    }
    return out;
}

static void op_patch(ctx_t *c, scim_res_type_e type, const char *id,
                     const char *version, const json_t *body, result_t *res)
{
    apr_pool_t *p = c->r->pool;
    int attempt;

    for (attempt = 0; attempt < PATCH_RETRIES; attempt++) {
        scim_fault_t fault = { 0, NULL, NULL };
        apr_array_header_t *members = NULL;
        const char *doc_text, *current, *err = NULL, *nv = NULL;
        json_t *doc, *patched;
        scim_res_write_t w;
        scim_res_t *row;
        apr_status_t rv;
        int members_changed = 0;

        /* spent: refused before the group is even loaded */
        if (type == SCIM_RES_GROUP && !bulk_budget(c, 0, res)) {
            return;
        }
        rv = scim_store_res_load(&c->rq, type, id, &doc_text, &current);
        if (rv == APR_SUCCESS && type == SCIM_RES_GROUP) {
            rv = scim_store_group_members(&c->rq, id, &members);
        }
        if (rv != APR_SUCCESS) {
            store_failed(c, rv, type, res);
            return;
        }
        if (version && (!current || strcmp(version, current))) {
            store_failed(c, APR_EMISMATCH, type, res);
            return;
        }
        if (type == SCIM_RES_GROUP && !bulk_budget(c, members->nelts, res)) {
            return;
        }
        doc = doc_text ? scim_json_parse(p, doc_text, strlen(doc_text), 64, &err)
                       : NULL;
        if (!doc) {
            fail(res, HTTP_SERVICE_UNAVAILABLE, NULL, "stored document");
            return;
        }
        if (type == SCIM_RES_GROUP && members->nelts) {
            json_object_set_new(doc, "members", members_json(members));
        }
        if (scim_patch_apply(p, rtype(type), id, doc, body, MAX_PATCH_OPS,
                             &patched, &members_changed, &fault)
            != APR_SUCCESS) {
            fault_to(res, &fault);
            return;
        }
        /* the patched document is already normalised */
        write_from(p, type, patched, members_changed, &w);
        if (type == SCIM_RES_GROUP) {
            apr_array_header_t *now = members_changed
                ? (w.members ? w.members
                             : apr_array_make(p, 0, sizeof(const char *)))
                : members;

            /* Optimistic: the version read above must still be current. */
            rv = scim_store_group_patch(&c->rq, id, current, &w,
                                        ids_minus(p, now, members),
                                        ids_minus(p, members, now), &nv);
        }
        else {
            rv = scim_store_res_replace(&c->rq, type, id, current, &w, &row);
        }
        if (rv == APR_EMISMATCH && !version) {
            continue; /* changed meanwhile: apply the patch again */
        }
        if (rv != APR_SUCCESS) {
            store_failed(c, rv, type, res);
            return;
        }
        if (type == SCIM_RES_GROUP && c->bulk) {
            memset(res, 0, sizeof(*res));
            res->status = HTTP_OK;
            res->etag = nv;
            res->location = location_of(c, type, id);
            return;
        }
        /* (throwaway glue: the group as before; the service of issue 8
         * answers 204) */
        if (type == SCIM_RES_GROUP
            && (rv = scim_store_res_get(&c->rq, type, id, 1, &row))
                != APR_SUCCESS) {
            store_failed(c, rv, type, res);
            return;
        }
        stored(row, HTTP_OK, res);
        res->location = location_of(c, type, row->id);
        return;
    }
    fail(res, HTTP_CONFLICT, NULL,
         "the resource kept changing; try the PATCH again");
}

static void op_delete(ctx_t *c, scim_res_type_e type, const char *id,
                      const char *version, result_t *res)
{
    apr_status_t rv;

    rv = scim_store_res_delete(&c->rq, type, id, version);
    if (rv != APR_SUCCESS) {
        store_failed(c, rv, type, res);
        return;
    }
    memset(res, 0, sizeof(*res));
    res->status = HTTP_NO_CONTENT;
}

/* The version a write must find (NULL: any) from the tags of If-Match or a
 * Bulk operation's "version"; 0 with *res filled (412, 404 or 503) when
 * none of them can match. Only versions this server could have written
 * reach the database. */
static int resolve_version(ctx_t *c, scim_res_type_e type, const char *id,
                           const char **tags, const char **version, result_t *res)
{
    apr_pool_t *p = c->r->pool;
    const char *ours = NULL;
    scim_res_t *row;
    apr_status_t rv;
    int n = 0, i;

    *version = NULL;
    if (!tags) {
        return 1;
    }
    for (i = 0; tags[i]; i++) {
        if (is_our_tag(tags[i])) {
            ours = tags[i];
            n++;
        }
    }
    if (n == 1) {
        *version = apr_pstrcat(p, "W/\"", ours, "\"", NULL);
        return 1;
    }
    if (n == 0) {
        store_failed(c, APR_EMISMATCH, type, res);
        return 0;
    }
    /* several candidates: the current version decides which one counts */
    rv = scim_store_res_get(&c->rq, type, id, 0, &row);
    if (rv != APR_SUCCESS) {
        store_failed(c, rv, type, res);
        return 0;
    }
    if (!tags_match(p, tags, row->version)) {
        store_failed(c, APR_EMISMATCH, type, res);
        return 0;
    }
    *version = row->version;
    return 1;
}

/* A Bulk operation's "version" as entity tags; 0 with *res filled (400). */
static int bulk_version(ctx_t *c, scim_res_type_e type, const char *id,
                        const char *text, const char **version, result_t *res)
{
    const char **tags = NULL, *err = NULL;
    int any = 0;

    *version = NULL;
    if (!text) {
        return 1;
    }
    if (scim_http_parse_etags(c->r->pool, text, &tags, &any, &err)
        != APR_SUCCESS) {
        fail(res, HTTP_BAD_REQUEST, "invalidSyntax",
             apr_pstrcat(c->r->pool, "version: ", err, NULL));
        return 0;
    }
    return any ? 1 : resolve_version(c, type, id, tags, version, res);
}

/* ---- reads and searches ------------------------------------------------- */

typedef struct {
    const char *filter;
    const char *sort_by;
    const char *sort_order;
    const char *attributes;
    const char *excluded;
    apr_int64_t start_index;
    apr_int64_t count;
} search_t;

/* A decimal integer that fits 64 bits (optional sign, digits only). */
static int parse_int64(const char *s, apr_int64_t *out)
{
    const char *d = (*s == '-' || *s == '+') ? s + 1 : s;
    char *end;

    if (*d < '0' || *d > '9') {
        return 0;
    }
    errno = 0;
    *out = apr_strtoi64(s, &end, 10);
    return !*end && errno != ERANGE;
}

/* startIndex and count as the store takes them (RFC 7644 3.4.2.4: less
 * than 1 is 1; a negative count is 0). */
static int clamp_start(apr_int64_t v)
{
    return v < 1 ? 1 : v > INT_MAX ? INT_MAX : (int)v;
}

static int clamp_count(apr_int64_t v)
{
    return v < 0 ? 0 : v > MAX_RESULTS ? MAX_RESULTS : (int)v;
}

/* Search parameters from the query string or a SearchRequest body. */
static int search_from_query(ctx_t *c, apr_table_t *q, search_t *s, result_t *res)
{
    const char *v;

    memset(s, 0, sizeof(*s));
    s->start_index = 1;
    s->count = 100;
    s->filter = apr_table_get(q, "filter");
    s->sort_by = apr_table_get(q, "sortBy");
    s->sort_order = apr_table_get(q, "sortOrder");
    s->attributes = apr_table_get(q, "attributes");
    s->excluded = apr_table_get(q, "excludedAttributes");
    if ((v = apr_table_get(q, "startIndex")) && !parse_int64(v, &s->start_index)) {
        fail(res, HTTP_BAD_REQUEST, "invalidValue",
             "startIndex must be an integer of at most 64 bits");
        return 0;
    }
    if ((v = apr_table_get(q, "count")) && !parse_int64(v, &s->count)) {
        fail(res, HTTP_BAD_REQUEST, "invalidValue",
             "count must be an integer of at most 64 bits");
        return 0;
    }
    (void)c;
    return 1;
}

static int search_from_body(ctx_t *c, const json_t *body, search_t *s,
                            result_t *res)
{
    static const char *const strs[] = {
        "filter", "sortBy", "sortOrder", "attributes", "excludedAttributes",
        NULL
    };
    const char **dst[5];
    json_t *v;
    int i;

    memset(s, 0, sizeof(*s));
    s->start_index = 1;
    s->count = 100;
    dst[0] = &s->filter;
    dst[1] = &s->sort_by;
    dst[2] = &s->sort_order;
    dst[3] = &s->attributes;
    dst[4] = &s->excluded;
    for (i = 0; strs[i]; i++) {
        v = json_object_get(body, strs[i]);
        if (!v || json_is_null(v)) {
            continue;
        }
        if (json_is_array(v) && i >= 3) {
            /* attributes may be an array of names: joined in one pass */
            size_t k;
            json_t *e;
            apr_array_header_t *names;

            if (json_array_size(v) > SCIM_MAX_ATTR_NAMES) {
                fail(res, HTTP_BAD_REQUEST, "invalidValue",
                     apr_psprintf(c->r->pool,
                                  "%s lists more than %d attribute names",
                                  strs[i], SCIM_MAX_ATTR_NAMES));
                return 0;
            }
            names = apr_array_make(c->r->pool, (int)json_array_size(v) + 1,
                                   sizeof(const char *));
            json_array_foreach(v, k, e)
            {
                if (!json_is_string(e)) {
                    fail(res, HTTP_BAD_REQUEST, "invalidValue",
                         apr_psprintf(c->r->pool, "%s must list strings",
                                      strs[i]));
                    return 0;
                }
                APR_ARRAY_PUSH(names, const char *) = json_string_value(e);
            }
            *dst[i] = apr_array_pstrcat(c->r->pool, names, ',');
            continue;
        }
        if (!json_is_string(v)) {
            fail(res, HTTP_BAD_REQUEST, "invalidValue",
                 apr_psprintf(c->r->pool, "%s must be a string", strs[i]));
            return 0;
        }
        *dst[i] = apr_pstrdup(c->r->pool, json_string_value(v));
    }
    if ((v = json_object_get(body, "startIndex"))) {
        if (!json_is_integer(v)) {
            fail(res, HTTP_BAD_REQUEST, "invalidValue",
                 "startIndex must be an integer");
            return 0;
        }
        s->start_index = (apr_int64_t)json_integer_value(v);
    }
    if ((v = json_object_get(body, "count"))) {
        if (!json_is_integer(v)) {
            fail(res, HTTP_BAD_REQUEST, "invalidValue",
                 "count must be an integer");
            return 0;
        }
        s->count = (apr_int64_t)json_integer_value(v);
    }
    return 1;
}

typedef struct {
    apr_array_header_t *attrs; /* scim_attr_ref_t, or NULL */
    apr_array_header_t *excl;
    int with_members;
} projection_t;

static int projection(ctx_t *c, scim_res_type_e type, const char *attributes,
                      const char *excluded, projection_t *pr, result_t *res)
{
    const scim_resource_type_t *rt = rtype(type);
    const char *err = NULL;

    memset(pr, 0, sizeof(*pr));
    pr->with_members = 1;
    if (attributes
        && scim_schema_attr_list(c->r->pool, rt, attributes, &pr->attrs, &err)
            != APR_SUCCESS) {
        fail(res, HTTP_BAD_REQUEST, "invalidValue", err);
        return 0;
    }
    if (excluded
        && scim_schema_attr_list(c->r->pool, rt, excluded, &pr->excl, &err)
            != APR_SUCCESS) {
        fail(res, HTTP_BAD_REQUEST, "invalidValue", err);
        return 0;
    }
    if (type == SCIM_RES_GROUP && (pr->attrs || pr->excl)) {
        scim_attr_ref_t ref;

        if (scim_schema_resolve(rt, "members", 7, 0, &ref) == APR_SUCCESS) {
            pr->with_members = scim_schema_projection_wants(rt, &ref, pr->attrs,
                                                            pr->excl);
        }
    }
    return 1;
}

/* A resource's JSON as the client asked for it: passed through untouched
 * unless attributes/excludedAttributes ask for a projection. */
static const char *project(ctx_t *c, scim_res_type_e type,
                           const projection_t *pr, const char *json)
{
    const char *err = NULL, *out;
    json_t *doc;

    if (!json || (!pr->attrs && !pr->excl)) {
        return json;
    }
    doc = scim_json_parse(c->r->pool, json, strlen(json), 64, &err);
    if (!doc) {
        return json;
    }
    out = scim_json_dump(c->r->pool,
                         scim_schema_project(c->r->pool, rtype(type), doc,
                                             pr->attrs, pr->excl),
                         0);
    return out ? out : json;
}

/* Compile a search into a store query (filter, sort, page). */
static int compile_search(ctx_t *c, scim_res_type_e type, const search_t *s,
                          scim_res_query_t *q, result_t *res)
{
    apr_pool_t *p = c->r->pool;
    const scim_resource_type_t *rt = rtype(type);
    const char *err = NULL;

    memset(q, 0, sizeof(*q));
    if (s->filter) {
        scim_filter_t *f;

        if (scim_filter_parse(p, rt, s->filter, MAX_FILTER_LEN,
                              MAX_FILTER_DEPTH, &f, &err)
            != APR_SUCCESS) {
            fail(res, HTTP_BAD_REQUEST, "invalidFilter", err);
            return 0;
        }
        q->filter = f;
    }
    if (s->sort_order && strcasecmp(s->sort_order, "ascending")
        && strcasecmp(s->sort_order, "descending")) {
        fail(res, HTTP_BAD_REQUEST, "invalidValue",
             "sortOrder is ascending or descending");
        return 0;
    }
    q->sort_by = s->sort_by;
    q->descending = s->sort_order && !strcasecmp(s->sort_order, "descending");
    q->start_index = clamp_start(s->start_index);
    q->count = clamp_count(s->count);
    return 1;
}

static const char *list_json(apr_pool_t *p, int total, int start,
                             const apr_array_header_t *items)
{
    struct iovec *vec;
    int i, n = 0;

    vec = apr_palloc(p, sizeof(*vec) * (apr_size_t)(items->nelts * 2 + 2));
    vec[n].iov_base = apr_psprintf(p,
                                   "{\"schemas\":[\"" SCIM_URN_LIST_RESPONSE
                                   "\"],\"totalResults\":%d,"
                                   "\"startIndex\":%d,\"itemsPerPage\":%d,\"Resources\":[",
                                   total, start, items->nelts);
    vec[n].iov_len = strlen(vec[n].iov_base);
    n++;
    for (i = 0; i < items->nelts; i++) {
        const char *json = APR_ARRAY_IDX(items, i, const char *);

        if (!json) {
            continue; /* never from the store; no strlen(NULL) either */
        }
        if (n > 1) {
            vec[n].iov_base = (void *)",";
            vec[n++].iov_len = 1;
        }
        vec[n].iov_base = (void *)json;
        vec[n++].iov_len = strlen(json);
    }
    vec[n].iov_base = (void *)"]}";
    vec[n++].iov_len = 2;
    return apr_pstrcatv(p, vec, (apr_size_t)n, NULL);
}

/* A list the store could not make: 400 for a filter or sortBy it cannot
 * compile, 401, or 503. */
static void list_failed(ctx_t *c, apr_status_t rv, result_t *res)
{
    const char *err = c->rq.db->error ? c->rq.db->error : "invalid filter";

    if (rv == APR_EINVAL) {
        fail(res, HTTP_BAD_REQUEST,
             strncmp(err, "sortBy", 6) ? "invalidFilter" : "invalidValue", err);
    }
    else if (rv == SCIM_STORE_EDENIED) {
        fail(res, HTTP_UNAUTHORIZED, NULL, "denied");
    }
    else {
        unavailable(c, res);
    }
}

static void op_search(ctx_t *c, scim_res_type_e type, const search_t *s,
                      result_t *res)
{
    apr_pool_t *p = c->r->pool;
    apr_array_header_t *rows, *items;
    scim_res_query_t q;
    projection_t pr;
    apr_status_t rv;
    int total, i;

    if (!compile_search(c, type, s, &q, res)
        || !projection(c, type, s->attributes, s->excluded, &pr, res)) {
        return;
    }
    q.with_members = pr.with_members;
    rv = scim_store_res_list(&c->rq, type, &q, &total, &rows);
    if (rv != APR_SUCCESS) {
        list_failed(c, rv, res);
        return;
    }
    items = apr_array_make(p, rows->nelts, sizeof(const char *));
    for (i = 0; i < rows->nelts; i++) {
        APR_ARRAY_PUSH(items,
                       const char *) = project(c, type, &pr,
                                               APR_ARRAY_IDX(rows, i, scim_res_t)
                                                   .json);
    }
    memset(res, 0, sizeof(*res));
    res->status = HTTP_OK;
    res->json = list_json(p, total, q.start_index, items);
}

/* /.search at the root: Users, then Groups, as one list. A filter that
 * names attributes of only one type selects nothing of the other. */
static void op_search_root(ctx_t *c, const search_t *s, result_t *res)
{
    apr_pool_t *p = c->r->pool;
    apr_array_header_t *items = apr_array_make(p, 8, sizeof(const char *));
    int total = 0, usable = 0, t, start, want, skip;
    result_t first;

    fail(&first, HTTP_BAD_REQUEST, "invalidFilter", "no resource type");
    start = clamp_start(s->start_index);
    want = clamp_count(s->count);
    skip = start - 1;
    for (t = SCIM_RES_USER; t <= SCIM_RES_GROUP; t++) {
        scim_res_query_t q;
        projection_t pr;
        apr_array_header_t *rows;
        apr_status_t rv;
        result_t r1;
        int n, i;

        if (!compile_search(c, (scim_res_type_e)t, s, &q, &r1)
            || !projection(c, (scim_res_type_e)t, s->attributes, s->excluded,
                           &pr, &r1)) {
            if (t == SCIM_RES_USER) {
                first = r1;
            }
            continue;
        }
        usable++;
        q.with_members = pr.with_members;
        q.start_index = skip + 1;
        q.count = want - items->nelts;
        if (q.count <= 0) {
            q.count = 0;
        }
        if ((rv = scim_store_res_list(&c->rq, (scim_res_type_e)t, &q, &n, &rows))
            != APR_SUCCESS) {
            if (rv == APR_EINVAL) {
                /* a filter that names attributes this type cannot search */
                usable--;
                list_failed(c, rv, &r1);
                if (t == SCIM_RES_USER) {
                    first = r1;
                }
                continue;
            }
            list_failed(c, rv, res);
            return;
        }
        total += n;
        skip = skip > n ? skip - n : 0;
        for (i = 0; i < rows->nelts; i++) {
            APR_ARRAY_PUSH(items,
                           const char *) = project(c, (scim_res_type_e)t, &pr,
                                                   APR_ARRAY_IDX(rows, i,
                                                                 scim_res_t)
                                                       .json);
        }
    }
    if (!usable) {
        *res = first;
        return;
    }
    memset(res, 0, sizeof(*res));
    res->status = HTTP_OK;
    res->json = list_json(p, total, start, items);
}

static int get_one(ctx_t *c, scim_res_type_e type, const char *id, apr_table_t *q)
{
    request_rec *r = c->r;
    projection_t pr;
    scim_res_t *row;
    apr_status_t rv;
    result_t res;

    if (!projection(c, type, apr_table_get(q, "attributes"),
                    apr_table_get(q, "excludedAttributes"), &pr, &res)) {
        return respond(c, &res);
    }
    rv = scim_store_res_get(&c->rq, type, id, pr.with_members, &row);
    if (rv != APR_SUCCESS) {
        store_failed(c, rv, type, &res);
        return respond(c, &res);
    }
    stored(row, HTTP_OK, &res);
    if (c->if_none_match_any
        || tags_match(r->pool, c->if_none_match, row->version)) {
        res.status = HTTP_NOT_MODIFIED;
        return respond(c, &res);
    }
    res.json = project(c, type, &pr, row->json);
    return respond(c, &res);
}

/* ---- Bulk (RFC 7644 3.7) ------------------------------------------------ */

/* Replace "bulkId:<id>" string values (anywhere in v) by the ids created
 * so far; 0 if one is not known (yet). */
static int resolve_bulk_ids(apr_pool_t *p, json_t *v, apr_hash_t *ids)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);

        if (!strncmp(s, "bulkId:", 7)) {
            const char *id = apr_hash_get(ids, s + 7, APR_HASH_KEY_STRING);

            if (!id) {
                return 0;
            }
            json_string_set(v, id);
        }
        return 1;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *e;

        json_object_foreach(v, k, e)
        {
            if (!resolve_bulk_ids(p, e, ids)) {
                return 0;
            }
        }
    }
    else if (json_is_array(v)) {
        size_t i;
        json_t *e;

        json_array_foreach(v, i, e)
        {
            if (!resolve_bulk_ids(p, e, ids)) {
                return 0;
            }
        }
    }
    return 1;
}

/* Whether the body's "schemas" array names urn. */
static int has_schema(const json_t *body, const char *urn)
{
    json_t *schemas = json_object_get(body, "schemas"), *s;
    size_t i;

    json_array_foreach(schemas, i, s)
    {
        if (json_is_string(s) && !strcasecmp(json_string_value(s), urn)) {
            return 1;
        }
    }
    return 0;
}

/* "/Users", "/Users/<id>", "/Groups/bulkId:x" -> type and id. */
static int bulk_path(apr_pool_t *p, const char *path, apr_hash_t *ids,
                     scim_res_type_e *type, const char **id)
{
    const char *rest;

    *id = NULL;
    if (!strncmp(path, "/Users", 6)) {
        *type = SCIM_RES_USER;
        rest = path + 6;
    }
    else if (!strncmp(path, "/Groups", 7)) {
        *type = SCIM_RES_GROUP;
        rest = path + 7;
    }
    else {
        return 0;
    }
    if (!*rest) {
        return 1;
    }
    if (*rest != '/' || !rest[1] || strchr(rest + 1, '/')) {
        return 0;
    }
    rest++;
    if (!strncmp(rest, "bulkId:", 7)) {
        rest = apr_hash_get(ids, rest + 7, APR_HASH_KEY_STRING);
        if (!rest) {
            return 0;
        }
    }
    *id = apr_pstrdup(p, rest);
    return 1;
}

static void op_bulk(ctx_t *c, const json_t *body, result_t *res)
{
    apr_pool_t *p = c->r->pool;
    apr_hash_t *ids = apr_hash_make(p);
    json_t *ops = json_object_get(body, "Operations");
    json_t *fo = json_object_get(body, "failOnErrors");
    json_t *out = scim_json_pool_own(p, json_array()), *op;
    int fail_on = 0, errors = 0;
    size_t i;

    if (!has_schema(body, URN_BULK_REQUEST)) {
        fail(res, HTTP_BAD_REQUEST, "invalidSyntax",
             "schemas must name " URN_BULK_REQUEST);
        return;
    }
    if (!json_is_array(ops)) {
        fail(res, HTTP_BAD_REQUEST, "invalidSyntax",
             "a BulkRequest has an Operations array");
        return;
    }
    if (json_array_size(ops) > MAX_BULK_OPS) {
        fail(res, HTTP_REQUEST_ENTITY_TOO_LARGE, NULL,
             apr_psprintf(p, "at most %d operations per Bulk request",
                          MAX_BULK_OPS));
        return;
    }
    if (fo && !json_is_null(fo)) {
        if (!json_is_integer(fo) || json_integer_value(fo) < 1) {
            fail(res, HTTP_BAD_REQUEST, "invalidValue",
                 "failOnErrors must be a positive integer");
            return;
        }
        fail_on = (int)json_integer_value(fo);
    }
    c->bulk = 1;
    json_array_foreach(ops, i, op)
    {
        const char *method = json_string_value(json_object_get(op, "method"));
        const char *path = json_string_value(json_object_get(op, "path"));
        const char *bulk_id = json_string_value(json_object_get(op, "bulkId"));
        const char *version = json_string_value(json_object_get(op, "version"));
        json_t *data = json_object_get(op, "data"), *entry;
        scim_res_type_e type = SCIM_RES_USER;
        const char *id = NULL;
        result_t r1;

        if (fail_on && errors >= fail_on) {
            break;
        }
        if (!json_is_object(op) || !method || !path) {
            fail(&r1, HTTP_BAD_REQUEST, "invalidSyntax",
                 "an operation has a method and a path");
        }
        else if (!bulk_path(p, path, ids, &type, &id)) {
            fail(&r1, HTTP_BAD_REQUEST, "invalidPath",
                 apr_psprintf(p, "cannot resolve path %s",
                              scim_util_quote(p, path, strlen(path), 64)));
        }
        else if (data && !resolve_bulk_ids(p, data, ids)) {
            fail(&r1, HTTP_CONFLICT, "invalidValue",
                 "data refers to an unknown bulkId");
        }
        else if (!strcasecmp(method, "POST") && !id) {
            if (!bulk_id) {
                fail(&r1, HTTP_BAD_REQUEST, "invalidSyntax",
                     "POST operations need a bulkId");
            }
            else if (!json_is_object(data)) {
                fail(&r1, HTTP_BAD_REQUEST, "invalidSyntax",
                     "POST operations need data");
            }
            else {
                op_create(c, type, data, &r1);
            }
        }
        else if (!strcasecmp(method, "PUT") && id && json_is_object(data)) {
            if (bulk_version(c, type, id, version, &version, &r1)) {
                op_replace(c, type, id, version, data, &r1);
            }
        }
        else if (!strcasecmp(method, "PATCH") && id && json_is_object(data)) {
            if (bulk_version(c, type, id, version, &version, &r1)) {
                op_patch(c, type, id, version, data, &r1);
            }
        }
        else if (!strcasecmp(method, "DELETE") && id) {
            if (bulk_version(c, type, id, version, &version, &r1)) {
                op_delete(c, type, id, version, &r1);
            }
        }
        else {
            fail(&r1, HTTP_BAD_REQUEST, "invalidSyntax",
                 apr_psprintf(p, "unsupported operation %s %s",
                              scim_util_quote(p, method, strlen(method), 16),
                              scim_util_quote(p, path, strlen(path), 64)));
        }
        if (r1.status == HTTP_SERVICE_UNAVAILABLE) {
            *res = r1;
            return;
        }
        entry = json_pack("{s:s, s:s}", "method", method ? method : "",
                          "status", apr_itoa(p, r1.status));
        if (bulk_id) {
            json_object_set_new(entry, "bulkId", json_string(bulk_id));
        }
        if (r1.status >= 400) {
            json_t *e = mod_scim_scim_error_doc(p, r1.status, r1.scim_type,
                                                r1.detail);

            errors++;
            json_object_set(entry, "response", e ? e : json_null());
        }
        else {
            if (r1.location) {
                json_object_set_new(entry, "location", json_string(r1.location));
            }
            if (r1.etag) {
                json_object_set_new(entry, "version", json_string(r1.etag));
            }
            if (bulk_id && r1.status == HTTP_CREATED && r1.location) {
                apr_hash_set(ids, apr_pstrdup(p, bulk_id), APR_HASH_KEY_STRING,
                             strrchr(r1.location, '/') + 1);
            }
        }
        json_array_append_new(out, entry);
    }
    memset(res, 0, sizeof(*res));
    res->status = HTTP_OK;
    res->json = scim_json_dump(p,
                               scim_json_pool_own(p,
                                                  json_pack("{s:[s], s:O}",
                                                            "schemas",
                                                            URN_BULK_RESPONSE,
                                                            "Operations", out)),
                               0);
}

/* ---- discovery ---------------------------------------------------------- */

static int discovery(ctx_t *c, const char *path)
{
    apr_pool_t *p = c->r->pool;
    json_t *doc = NULL;

    if (!strcmp(path, "/ServiceProviderConfig")) {
        scim_spc_params_t prm;

        memset(&prm, 0, sizeof(prm));
        prm.base_url = c->base;
        prm.documentation_uri = "https://datatracker.ietf.org/doc/html/rfc7644";
        prm.bulk_max_operations = MAX_BULK_OPS;
        prm.bulk_max_payload = (apr_size_t)mod_scim_srv_conf(c->r->server)->max_body;
        prm.filter_max_results = MAX_RESULTS;
        doc = scim_schema_service_provider_config(p, &prm);
    }
    else if (!strcmp(path, "/ResourceTypes")) {
        doc = scim_schema_resource_types_list(p, c->base);
    }
    else if (!strncmp(path, "/ResourceTypes/", 15)) {
        doc = scim_schema_resource_type_resource(p, path + 15, c->base);
    }
    else if (!strcmp(path, "/Schemas")) {
        doc = scim_schema_schemas_list(p, c->base);
    }
    else if (!strncmp(path, "/Schemas/", 9)) {
        doc = scim_schema_schema_resource(p, path + 9, c->base);
    }
    if (!doc) {
        return reply_error(c, HTTP_NOT_FOUND, NULL, "No such resource");
    }
    json_incref(doc);
    return reply_json(c, HTTP_OK, doc);
}

/* ---- routing ------------------------------------------------------------ */

static int with_body(ctx_t *c, scim_res_type_e type, const char *id, int method)
{
    const char *version = NULL;
    result_t res;
    json_t *body = read_body(c, &res);

    if (!body) {
        return respond(c, &res);
    }
    if (method == M_POST) {
        op_create(c, type, body, &res);
    }
    else if (!resolve_version(c, type, id, c->if_match, &version, &res)) {
        return respond(c, &res);
    }
    else if (method == M_PUT) {
        op_replace(c, type, id, version, body, &res);
    }
    else {
        op_patch(c, type, id, version, body, &res);
    }
    return respond(c, &res);
}

static int search_post(ctx_t *c, int root, scim_res_type_e type)
{
    search_t s;
    result_t res;
    json_t *body = read_body(c, &res);

    if (!body) {
        return respond(c, &res);
    }
    if (!search_from_body(c, body, &s, &res)) {
        return respond(c, &res);
    }
    if (root) {
        op_search_root(c, &s, &res);
    }
    else {
        op_search(c, type, &s, &res);
    }
    return respond(c, &res);
}

/* If-Match and If-None-Match into the context; 0 with *err if one of them
 * is malformed. */
static int conditional_headers(ctx_t *c, const char **err)
{
    request_rec *r = c->r;
    const char *v, **tags = NULL;
    int any = 0;

    if ((v = apr_table_get(r->headers_in, "If-Match"))) {
        if (scim_http_parse_etags(r->pool, v, &tags, &any, err) != APR_SUCCESS) {
            *err = apr_pstrcat(r->pool, "If-Match: ", *err, NULL);
            return 0;
        }
        c->if_match = tags;
    }
    if ((v = apr_table_get(r->headers_in, "If-None-Match"))) {
        if (scim_http_parse_etags(r->pool, v, &tags, &any, err) != APR_SUCCESS) {
            *err = apr_pstrcat(r->pool, "If-None-Match: ", *err, NULL);
            return 0;
        }
        c->if_none_match = tags;
        c->if_none_match_any = any;
    }
    return 1;
}

static int route(ctx_t *c, const char *path, apr_table_t *q)
{
    request_rec *r = c->r;
    int m = r->method_number;
    scim_res_type_e type;
    const char *rest;
    result_t res;

    if (!strcmp(path, "/ServiceProviderConfig")
        || !strncmp(path, "/ResourceTypes", 14) || !strncmp(path, "/Schemas", 8)) {
        return m == M_GET ? discovery(c, path)
                          : method_not_allowed(c, "GET, HEAD");
    }
    if (!strcmp(path, "/Me") || !strncmp(path, "/Me/", 4)) {
        /* RFC 7644 3.11: a token is not a user here */
        return reply_error(c, HTTP_NOT_IMPLEMENTED, NULL,
                           "/Me is not supported: provisioning tokens are "
                           "not users");
    }
    if (!strcmp(path, "/.search")) {
        return m == M_POST ? search_post(c, 1, SCIM_RES_USER)
                           : method_not_allowed(c, "POST");
    }
    if (!strcmp(path, "/Bulk")) {
        json_t *body;

        if (m != M_POST) {
            return method_not_allowed(c, "POST");
        }
        if (!(body = read_body(c, &res))) {
            return respond(c, &res);
        }
        op_bulk(c, body, &res);
        return respond(c, &res);
    }
    if (!strncmp(path, "/Users", 6)) {
        type = SCIM_RES_USER;
        rest = path + 6;
    }
    else if (!strncmp(path, "/Groups", 7)) {
        type = SCIM_RES_GROUP;
        rest = path + 7;
    }
    else {
        return reply_error(c, HTTP_NOT_FOUND, NULL, "No such endpoint");
    }
    if (!*rest || !strcmp(rest, "/")) {
        if (m == M_GET) {
            search_t s;

            if (search_from_query(c, q, &s, &res)) {
                op_search(c, type, &s, &res);
            }
            return respond(c, &res);
        }
        return m == M_POST ? with_body(c, type, NULL, m)
                           : method_not_allowed(c, "GET, HEAD, POST");
    }
    if (*rest != '/' || strchr(rest + 1, '/')) {
        return reply_error(c, HTTP_NOT_FOUND, NULL, "No such endpoint");
    }
    rest++;
    if (!strcmp(rest, ".search")) {
        return m == M_POST ? search_post(c, 0, type)
                           : method_not_allowed(c, "POST");
    }
    switch (m) {
    case M_GET:
        return get_one(c, type, rest, q);
    case M_PUT:
        return with_body(c, type, rest, m);
    case M_PATCH:
        return with_body(c, type, rest, m);
    case M_DELETE: {
        const char *version = NULL;

        if (resolve_version(c, type, rest, c->if_match, &version, &res)) {
            op_delete(c, type, rest, version, &res);
        }
        return respond(c, &res);
    }
    default:
        return method_not_allowed(c, "GET, HEAD, PUT, PATCH, DELETE");
    }
}

int mod_scim_scim_handler(request_rec *r)
{
    mod_scim_dir_conf_t *d = mod_scim_dir_conf(r);
    apr_table_t *q = NULL;
    const char *path, *err;
    ctx_t c;

    if (!r->handler || strcmp(r->handler, MOD_SCIM_HANDLER)) {
        return DECLINED;
    }
    mod_scim_security_headers(r);
    if (!d->tenant) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      SCIMLOGNO(00060) "SetHandler %s without SCIMTenant "
                                       "in this location",
                      MOD_SCIM_HANDLER);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    memset(&c, 0, sizeof(c));
    c.r = r;
    path = mod_scim_subpath(r);
    c.base = ap_construct_url(r->pool,
                              apr_pstrmemdup(r->pool, r->uri,
                                             strlen(r->uri) - strlen(path)),
                              r);
    /* Nothing is served without a valid token, whatever the site's
     * other configuration says (SPEC 5.1): the claims here, the token row
     * in the first store statement (respond() checks it for responses that
     * made none). */
    if (mod_scim_authenticate(r, &c.who) != OK) {
        return OK;
    }
    if (!(c.db = mod_scim_db(r))) {
        return reply_error(&c, HTTP_SERVICE_UNAVAILABLE, NULL,
                           "The service is temporarily unavailable");
    }
    c.rq.db = c.db;
    c.rq.pool = r->pool;
    c.rq.base_url = c.base;
    c.rq.tenant_slug = c.who->tenant_slug;
    c.rq.jti = c.who->jti;
    c.rq.sub = c.who->sub;
    c.rq.idp = c.who->idp;
    memcpy(c.rq.token_hash, c.who->token_hash, sizeof(c.rq.token_hash));
    if (c.who->basic_user) {
        /* Basic: the username must be the token's account, before anything
         * is read or written */
        apr_status_t rv = scim_store_verify(&c.rq);

        if (rv != APR_SUCCESS && rv != SCIM_STORE_EDENIED) {
            return reply_error(&c, HTTP_SERVICE_UNAVAILABLE, NULL,
                               "The service is temporarily unavailable");
        }
        if (rv == SCIM_STORE_EDENIED
            || strcasecmp(c.who->basic_user, c.rq.token.user_name)) {
            c.rq.verified = 0;
            return reply_error(&c, HTTP_UNAUTHORIZED, NULL, "denied");
        }
    }
    if (!scim_utf8_valid(path, strlen(path))) {
        return reply_error(&c, HTTP_BAD_REQUEST, "invalidValue",
                           "the request path is not valid UTF-8");
    }
    if (scim_http_parse_query(r->pool, r->args, &q, &err) != APR_SUCCESS) {
        return reply_error(&c, HTTP_BAD_REQUEST, "invalidValue", err);
    }
    if (!conditional_headers(&c, &err)) {
        return reply_error(&c, HTTP_BAD_REQUEST, "invalidSyntax", err);
    }
    return route(&c, path, q);
}
