/* The SCIM service: see scim_service.h. */

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "scim_filter.h"
#include "scim_http.h"
#include "scim_json.h"
#include "scim_patch.h"
#include "scim_schema.h"
#include "scim_service.h"
#include "scim_util.h"

#define URN_BULK_REQUEST  "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
#define URN_BULK_RESPONSE "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
#define URN_ERROR         "urn:ietf:params:scim:api:messages:2.0:Error"
#define MAX_FILTER_LEN    4096
#define MAX_FILTER_DEPTH  32
#define PATCH_RETRIES     5
/* The longest detail an error body quotes. */
#define ERROR_TEXT_MAX 1024
/* Why a token was refused when the store says no (SPEC 4: the log only). */
#define DENIED_REASON \
    "token unknown, deleted, expired or not matching its record"
#define UNAVAILABLE_DETAIL "The service is temporarily unavailable"

/* HTTP status codes (no httpd header here). */
enum {
    ST_OK = 200,
    ST_CREATED = 201,
    ST_NO_CONTENT = 204,
    ST_NOT_MODIFIED = 304,
    ST_BAD_REQUEST = 400,
    ST_UNAUTHORIZED = 401,
    ST_NOT_FOUND = 404,
    ST_CONFLICT = 409,
    ST_PRECONDITION_FAILED = 412,
    ST_TOO_LARGE = 413,
    ST_UNSUPPORTED_MEDIA = 415,
    ST_UNAVAILABLE = 503
};

#define POOL(rq) ((rq)->store->pool)

/* ---- results and errors ------------------------------------------------- */

void scim_svc_fail(scim_svc_result_t *res, int status, const char *scim_type,
                   const char *detail)
{
    memset(res, 0, sizeof(*res));
    res->status = status;
    res->scim_type = scim_type;
    res->detail = detail;
}

void scim_svc_unauthorized(scim_svc_result_t *res, int token_sent,
                           const char *reason)
{
    scim_svc_fail(res, ST_UNAUTHORIZED, NULL, SCIM_SVC_AUTH_FAILED_DETAIL);
    res->unauthorized = 1;
    res->token_sent = token_sent;
    res->reason = reason;
}

void scim_svc_unavailable(scim_svc_result_t *res, const char *reason)
{
    scim_svc_fail(res, ST_UNAVAILABLE, NULL, UNAVAILABLE_DETAIL);
    res->unavailable = 1;
    res->reason = reason;
}

static const char *error_text(apr_pool_t *p, const char *s)
{
    return scim_util_quote(p, s ? s : "error", s ? strlen(s) : 5, ERROR_TEXT_MAX);
}

json_t *scim_svc_error_doc(apr_pool_t *p, int status, const char *scim_type,
                           const char *detail)
{
    json_t *doc = scim_json_pool_own(p,
                                     json_pack("{s:[s], s:s, s:s}", "schemas",
                                               URN_ERROR, "status",
                                               apr_itoa(p, status), "detail",
                                               error_text(p, detail)));

    if (doc && scim_type) {
        json_object_set_new(doc, "scimType",
                            json_string(error_text(p, scim_type)));
    }
    return doc;
}

const char *scim_svc_error_body(apr_pool_t *p, int status,
                                const char *scim_type, const char *detail)
{
    const char *body = scim_json_dump(p,
                                      scim_svc_error_doc(p, status, scim_type,
                                                         detail),
                                      0);

    return body ? body
                : apr_psprintf(p,
                               "{\"schemas\":[\"" URN_ERROR "\"],"
                               "\"status\":\"%d\",\"detail\":\"The "
                               "response could not be built\"}",
                               status);
}

static void fault_to(scim_svc_result_t *res, const scim_fault_t *f)
{
    scim_svc_fail(res, f->status ? f->status : ST_BAD_REQUEST, f->scim_type,
                  f->detail ? f->detail : "invalid request");
}

static void store_failed(scim_svc_req_t *rq, apr_status_t rv,
                         scim_res_type_e type, scim_svc_result_t *res)
{
    const char *what = type == SCIM_RES_USER ? "User" : "Group";

    if (rv == SCIM_STORE_EDENIED) {
        scim_svc_unauthorized(res, 1, DENIED_REASON);
    }
    else if (rv == APR_ENOENT) {
        scim_svc_fail(res, ST_NOT_FOUND, NULL,
                      apr_psprintf(POOL(rq), "%s not found", what));
    }
    else if (rv == APR_EEXIST) {
        scim_svc_fail(res, ST_CONFLICT, "uniqueness",
                      type == SCIM_RES_USER ? "userName is already taken"
                                            : "displayName is already taken");
    }
    else if (rv == APR_EMISMATCH) {
        scim_svc_fail(res, ST_PRECONDITION_FAILED, NULL,
                      "the resource has changed (If-Match)");
    }
    else if (rv == APR_EINVAL) {
        scim_svc_fail(res, ST_BAD_REQUEST, "invalidValue",
                      "members must be users of this tenant");
    }
    else {
        scim_svc_unavailable(res,
                             rq->store->db && rq->store->db->error
                                 ? rq->store->db->error
                                 : "no connection");
    }
}

/* The Basic username must be the token's account: checked before the
 * first store call that reads or writes (a call of its own, Basic only). */
static int credential(scim_svc_req_t *rq, scim_svc_result_t *res)
{
    apr_status_t rv;

    if (!rq->basic_user) {
        return 1; /* the token check rides on the coming store call */
    }
    if (!rq->store->verified
        && (rv = scim_store_verify(rq->store)) != APR_SUCCESS) {
        store_failed(rq, rv, SCIM_RES_USER, res);
        return 0;
    }
    if (strcasecmp(rq->basic_user, rq->store->token.user_name)) {
        scim_svc_unauthorized(res, 1,
                              "Basic username is not the token's "
                              "provisioning account");
        return 0;
    }
    return 1;
}

void scim_svc_finish(scim_svc_req_t *rq, scim_svc_result_t *res)
{
    scim_svc_result_t r1;
    apr_status_t rv;

    if (res->unauthorized || res->unavailable) {
        return; /* the database failed already: one 503, one log line */
    }
    if (!rq->store->verified
        && (rv = scim_store_verify(rq->store)) != APR_SUCCESS) {
        store_failed(rq, rv, SCIM_RES_USER, res);
        return;
    }
    if (rq->basic_user && !credential(rq, &r1)) {
        *res = r1;
    }
}

/* ---- request parsing ---------------------------------------------------- */

json_t *scim_svc_parse_body(apr_pool_t *p, const char *ctype, const char *buf,
                            apr_size_t len, scim_svc_result_t *res)
{
    const char *err = NULL;
    json_t *doc;

    res->status = 0;
    if (!ctype
        || (strncasecmp(ctype, "application/scim+json", 21)
            && strncasecmp(ctype, "application/json", 16))) {
        scim_svc_fail(res, ST_UNSUPPORTED_MEDIA, NULL,
                      "the body must be application/scim+json or "
                      "application/json");
        return NULL;
    }
    if (len == 0) {
        scim_svc_fail(res, ST_BAD_REQUEST, "invalidSyntax", "the body is empty");
        return NULL;
    }
    doc = scim_json_parse(p, buf, len, SCIM_SVC_MAX_JSON_DEPTH, &err);
    if (!doc) {
        scim_svc_fail(res, ST_BAD_REQUEST,
                      strncmp(err, SCIM_JSON_ERR_RANGE,
                              strlen(SCIM_JSON_ERR_RANGE))
                          ? "invalidSyntax"
                          : "invalidValue",
                      apr_psprintf(p, "malformed JSON: %s", err));
        return NULL;
    }
    if (!json_is_object(doc)) {
        scim_svc_fail(res, ST_BAD_REQUEST, "invalidSyntax",
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

/* A tag as this server writes versions ("<digits>", or "<digits>-<hex>");
 * anything else matches nothing, and is never sent to the database. */
static int is_our_tag(const char *t)
{
    const char *s = t;

    while (*s >= '0' && *s <= '9') {
        s++;
    }
    if (s == t) {
        return 0;
    }
    if (!*s) {
        return 1;
    }
    if (*s++ != '-' || !*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

static const scim_resource_type_t *rtype(scim_res_type_e t)
{
    return t == SCIM_RES_USER ? scim_schema_user() : scim_schema_group();
}

/* ---- operations --------------------------------------------------------- */

/* Store columns from a normalised document; groups lose their members to
 * w->members (when members_given). */
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

static void stored(const scim_res_t *row, int status, scim_svc_result_t *res)
{
    memset(res, 0, sizeof(*res));
    res->status = status;
    res->body = row->json;
    res->etag = row->version;
}

static const char *location_of(scim_svc_req_t *rq, scim_res_type_e type,
                               const char *id)
{
    return apr_pstrcat(POOL(rq), rq->store->base_url,
                       type == SCIM_RES_USER ? "/Users/" : "/Groups/", id, NULL);
}

/* Each operation on a group costs time linear in the members it handles: a
 * Bulk request handles at most SCIM_SVC_MAX_BULK_MEMBERS of them in all
 * (Okta and Entra send groups in requests of their own, which have
 * SCIM_MAX_MEMBER_VALUES). 0 with *res filled when this operation's n
 * members are over. */
static int bulk_budget(scim_svc_req_t *rq, apr_size_t n, scim_svc_result_t *res)
{
    if (!rq->bulk || (rq->bulk_members += n) <= SCIM_SVC_MAX_BULK_MEMBERS) {
        return 1;
    }
    rq->bulk_members = SCIM_SVC_MAX_BULK_MEMBERS + 1; /* spent */
    scim_svc_fail(res, ST_BAD_REQUEST, "tooMany",
                  apr_psprintf(POOL(rq),
                               "the group operations of one Bulk request may "
                               "handle %d members in all; send this one on "
                               "its own",
                               SCIM_SVC_MAX_BULK_MEMBERS));
    return 0;
}

/* A POST or PUT body as the columns and document to store; 0 with *res
 * filled when the body is not a valid resource. PUT and POST give the whole
 * resource, members included. */
static int body_to_write(scim_svc_req_t *rq, scim_res_type_e type,
                         const json_t *body, scim_res_write_t *w,
                         scim_svc_result_t *res)
{
    apr_pool_t *p = POOL(rq);
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
    if (type == SCIM_RES_GROUP
        && !bulk_budget(rq, (apr_size_t)w->members->nelts, res)) {
        return 0;
    }
    return credential(rq, res);
}

/* The answer to a write of one resource: the row as stored, with its URL,
 * or the store's error. */
static void written(scim_svc_req_t *rq, scim_res_type_e type, apr_status_t rv,
                    const scim_res_t *row, int status, scim_svc_result_t *res)
{
    if (rv != APR_SUCCESS) {
        store_failed(rq, rv, type, res);
        return;
    }
    stored(row, status, res);
    res->location = location_of(rq, type, row->id);
}

static void op_create(scim_svc_req_t *rq, scim_res_type_e type,
                      const json_t *body, scim_svc_result_t *res)
{
    scim_res_write_t w;
    scim_res_t *row;
    apr_status_t rv;

    if (!body_to_write(rq, type, body, &w, res)) {
        return;
    }
    rv = scim_store_res_create(rq->store, type, &w, &row);
    written(rq, type, rv, row, ST_CREATED, res);
}

static void op_replace(scim_svc_req_t *rq, scim_res_type_e type, const char *id,
                       const char *version, const json_t *body,
                       scim_svc_result_t *res)
{
    scim_res_write_t w;
    scim_res_t *row;
    apr_status_t rv;

    if (!body_to_write(rq, type, body, &w, res)) {
        return;
    }
    rv = scim_store_res_replace(rq->store, type, id, version, &w, &row);
    written(rq, type, rv, row, ST_OK, res);
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

/* The stored document of a resource, parsed, and its version; 0 with *res
 * filled. With version (If-Match), the current one must be it. */
static int load_doc(scim_svc_req_t *rq, scim_res_type_e type, const char *id,
                    const char *version, json_t **doc, const char **current,
                    scim_svc_result_t *res)
{
    apr_pool_t *p = POOL(rq);
    const char *text = NULL, *err = NULL;
    apr_status_t rv;

    *current = NULL;
    rv = scim_store_res_load(rq->store, type, id, &text, current);
    if (rv != APR_SUCCESS) {
        store_failed(rq, rv, type, res);
        return 0;
    }
    if (version && (!*current || strcmp(version, *current))) {
        store_failed(rq, APR_EMISMATCH, type, res);
        return 0;
    }
    *doc = text ? scim_json_parse(p, text, strlen(text), 64, &err) : NULL;
    if (!*doc) {
        scim_svc_unavailable(res, "a stored document is not JSON");
        return 0;
    }
    return 1;
}

/* PATCH of a user: one UPDATE when the patch only sets values (a
 * deactivation, displayName, name.givenName: scim_patch_user_set); else
 * read, apply, conditional replace, again on a conflict. The check costs
 * one pass over the operations, and stops at the first that needs the
 * document. */
static void patch_user(scim_svc_req_t *rq, const char *id, const char *version,
                       const json_t *body, scim_svc_result_t *res)
{
    apr_pool_t *p = POOL(rq);
    json_t *set;
    int attempt;

    if (scim_patch_user_set(p, id, body, SCIM_SVC_MAX_PATCH_OPS, &set)) {
        const char *text = scim_json_dump(p, set, 0);
        scim_res_t *row;
        apr_status_t rv;

        if (!text) {
            scim_svc_unavailable(res, "out of memory");
            return;
        }
        rv = scim_store_user_set(rq->store, id, version, text, &row);
        written(rq, SCIM_RES_USER, rv, row, ST_OK, res);
        return;
    }
    for (attempt = 0; attempt < PATCH_RETRIES; attempt++) {
        scim_fault_t fault = { 0, NULL, NULL };
        const char *current;
        json_t *doc, *patched;
        scim_res_write_t w;
        scim_res_t *row;
        apr_status_t rv;

        if (!load_doc(rq, SCIM_RES_USER, id, version, &doc, &current, res)) {
            return;
        }
        if (scim_patch_apply(p, rtype(SCIM_RES_USER), id, doc, body,
                             SCIM_SVC_MAX_PATCH_OPS, &patched, NULL, &fault)
            != APR_SUCCESS) {
            fault_to(res, &fault);
            return;
        }
        /* the patched document is already normalised */
        write_from(p, SCIM_RES_USER, patched, 0, &w);
        /* Optimistic: the version read above must still be current. */
        rv = scim_store_res_replace(rq->store, SCIM_RES_USER, id, current, &w,
                                    &row);
        if (rv == APR_EMISMATCH && !version) {
            continue; /* changed meanwhile: apply the patch again */
        }
        written(rq, SCIM_RES_USER, rv, row, ST_OK, res);
        return;
    }
    scim_svc_fail(res, ST_CONFLICT, NULL,
                  "the resource kept changing; try the PATCH again");
}

/* One attempt at a group PATCH. With delta (scim_patch_member_delta
 * succeeded), add/remove are the member changes and rest the other
 * operations (NULL: none, and nothing is read); without, the member list is
 * read and the whole patch applied. 0 when the group changed meanwhile and
 * the attempt may be made again. *charged: the members already counted
 * against the Bulk budget by earlier attempts (a retry reads the same group
 * again and must not count it twice). */
static int patch_group_once(scim_svc_req_t *rq, const char *id,
                            const char *version, const json_t *body, int delta,
                            const json_t *rest, apr_array_header_t *add,
                            apr_array_header_t *remove, apr_size_t *charged,
                            scim_svc_result_t *res)
{
    apr_pool_t *p = POOL(rq);
    scim_fault_t fault = { 0, NULL, NULL };
    scim_patch_result_t pr;
    scim_res_write_t w, *wp = NULL;
    const char *current = version, *nv = NULL;
    apr_status_t rv;
    json_t *doc;

    if (!delta || rest) {
        if (!load_doc(rq, SCIM_RES_GROUP, id, version, &doc, &current, res)) {
            return 1;
        }
        if (!delta) {
            apr_array_header_t *members;

            rv = scim_store_group_members(rq->store, id, &members);
            if (rv != APR_SUCCESS) {
                store_failed(rq, rv, SCIM_RES_GROUP, res);
                return 1;
            }
            if ((apr_size_t)members->nelts > *charged) {
                apr_size_t more = (apr_size_t)members->nelts - *charged;

                *charged = (apr_size_t)members->nelts;
                if (!bulk_budget(rq, more, res)) {
                    return 1;
                }
            }
            if (members->nelts) {
                json_object_set_new(doc, "members", members_json(members));
            }
        }
        if (scim_patch_apply_ex(p, rtype(SCIM_RES_GROUP), id, doc,
                                delta ? rest : body, SCIM_SVC_MAX_PATCH_OPS, 0,
                                &pr, &fault)
            != APR_SUCCESS) {
            fault_to(res, &fault);
            return 1;
        }
        if (!delta) {
            add = pr.members_added;
            remove = pr.members_removed;
        }
        /* the patched document is already normalised */
        write_from(p, SCIM_RES_GROUP, pr.doc, 0, &w);
        wp = &w;
    }
    rv = scim_store_group_patch(rq->store, id, current, wp, add, remove, &nv);
    if (rv == APR_EMISMATCH && !version) {
        return 0;
    }
    if (rv != APR_SUCCESS) {
        store_failed(rq, rv, SCIM_RES_GROUP, res);
        return 1;
    }
    memset(res, 0, sizeof(*res));
    res->status = ST_NO_CONTENT;
    res->etag = nv;
    res->location = location_of(rq, SCIM_RES_GROUP, id);
    return 1;
}

static void patch_group(scim_svc_req_t *rq, const char *id, const char *version,
                        const json_t *body, scim_svc_result_t *res)
{
    apr_array_header_t *add, *remove;
    apr_size_t charged = 0;
    json_t *rest;
    int attempt, delta;

    /* spent: refused before the group is even read */
    if (!bulk_budget(rq, 0, res)) {
        return;
    }
    delta = scim_patch_member_delta(POOL(rq), body, SCIM_SVC_MAX_PATCH_OPS,
                                    &rest, &add, &remove);
    if (delta && !bulk_budget(rq, (apr_size_t)(add->nelts + remove->nelts), res)) {
        return;
    }
    for (attempt = 0; attempt < PATCH_RETRIES; attempt++) {
        if (patch_group_once(rq, id, version, body, delta, rest,
                             delta ? add : NULL, delta ? remove : NULL,
                             &charged, res)) {
            return;
        }
    }
    scim_svc_fail(res, ST_CONFLICT, NULL,
                  "the resource kept changing; try the PATCH again");
}

static void op_patch(scim_svc_req_t *rq, scim_res_type_e type, const char *id,
                     const char *version, const json_t *body,
                     scim_svc_result_t *res)
{
    if (!credential(rq, res)) {
        return;
    }
    if (type == SCIM_RES_GROUP) {
        patch_group(rq, id, version, body, res);
    }
    else {
        patch_user(rq, id, version, body, res);
    }
}

static void op_delete(scim_svc_req_t *rq, scim_res_type_e type, const char *id,
                      const char *version, scim_svc_result_t *res)
{
    apr_status_t rv;

    if (!credential(rq, res)) {
        return;
    }
    rv = scim_store_res_delete(rq->store, type, id, version);
    if (rv != APR_SUCCESS) {
        store_failed(rq, rv, type, res);
        return;
    }
    memset(res, 0, sizeof(*res));
    res->status = ST_NO_CONTENT;
}

/* The version a write must find (NULL: any) from the tags of If-Match or a
 * Bulk operation's "version"; 0 with *res filled (412, 404, 401 or 503)
 * when none of them can match. Only versions this server could have
 * written reach the database. */
static int resolve_version(scim_svc_req_t *rq, scim_res_type_e type,
                           const char *id, const char **tags,
                           const char **version, scim_svc_result_t *res)
{
    apr_pool_t *p = POOL(rq);
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
        store_failed(rq, APR_EMISMATCH, type, res);
        return 0;
    }
    /* several candidates: the current version decides which one counts */
    if (!credential(rq, res)) {
        return 0;
    }
    rv = scim_store_res_get(rq->store, type, id, 0, &row);
    if (rv != APR_SUCCESS) {
        store_failed(rq, rv, type, res);
        return 0;
    }
    if (!tags_match(p, tags, row->version)) {
        store_failed(rq, APR_EMISMATCH, type, res);
        return 0;
    }
    *version = row->version;
    return 1;
}

/* A Bulk operation's "version" as entity tags; 0 with *res filled (400). */
static int bulk_version(scim_svc_req_t *rq, scim_res_type_e type,
                        const char *id, const char *text, const char **version,
                        scim_svc_result_t *res)
{
    const char **tags = NULL, *err = NULL;
    int any = 0;

    *version = NULL;
    if (!text) {
        return 1;
    }
    if (scim_http_parse_etags(POOL(rq), text, &tags, &any, &err) != APR_SUCCESS) {
        scim_svc_fail(res, ST_BAD_REQUEST, "invalidSyntax",
                      apr_pstrcat(POOL(rq), "version: ", err, NULL));
        return 0;
    }
    return any ? 1 : resolve_version(rq, type, id, tags, version, res);
}

void scim_svc_create(scim_svc_req_t *rq, scim_res_type_e type,
                     const json_t *body, scim_svc_result_t *res)
{
    op_create(rq, type, body, res);
}

void scim_svc_replace(scim_svc_req_t *rq, scim_res_type_e type, const char *id,
                      const json_t *body, scim_svc_result_t *res)
{
    const char *version = NULL;

    if (resolve_version(rq, type, id, rq->if_match, &version, res)) {
        op_replace(rq, type, id, version, body, res);
    }
}

void scim_svc_patch(scim_svc_req_t *rq, scim_res_type_e type, const char *id,
                    const json_t *body, scim_svc_result_t *res)
{
    const char *version = NULL;

    if (resolve_version(rq, type, id, rq->if_match, &version, res)) {
        op_patch(rq, type, id, version, body, res);
    }
}

void scim_svc_delete(scim_svc_req_t *rq, scim_res_type_e type, const char *id,
                     scim_svc_result_t *res)
{
    const char *version = NULL;

    if (resolve_version(rq, type, id, rq->if_match, &version, res)) {
        op_delete(rq, type, id, version, res);
    }
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
    return v < 0 ? 0 : v > SCIM_SVC_MAX_RESULTS ? SCIM_SVC_MAX_RESULTS : (int)v;
}

/* Search parameters from the query string or a SearchRequest body. */
static int search_from_query(apr_table_t *q, search_t *s, scim_svc_result_t *res)
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
        scim_svc_fail(res, ST_BAD_REQUEST, "invalidValue",
                      "startIndex must be an integer of at most 64 bits");
        return 0;
    }
    if ((v = apr_table_get(q, "count")) && !parse_int64(v, &s->count)) {
        scim_svc_fail(res, ST_BAD_REQUEST, "invalidValue",
                      "count must be an integer of at most 64 bits");
        return 0;
    }
    return 1;
}

static int search_from_body(apr_pool_t *p, const json_t *body, search_t *s,
                            scim_svc_result_t *res)
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
                scim_svc_fail(res, ST_BAD_REQUEST, "invalidValue",
                              apr_psprintf(p,
                                           "%s lists more than %d attribute "
                                           "names",
                                           strs[i], SCIM_MAX_ATTR_NAMES));
                return 0;
            }
            names = apr_array_make(p, (int)json_array_size(v) + 1,
                                   sizeof(const char *));
            json_array_foreach(v, k, e)
            {
                if (!json_is_string(e)) {
                    scim_svc_fail(res, ST_BAD_REQUEST, "invalidValue",
                                  apr_psprintf(p, "%s must list strings",
                                               strs[i]));
                    return 0;
                }
                APR_ARRAY_PUSH(names, const char *) = json_string_value(e);
            }
            *dst[i] = apr_array_pstrcat(p, names, ',');
            continue;
        }
        if (!json_is_string(v)) {
            scim_svc_fail(res, ST_BAD_REQUEST, "invalidValue",
                          apr_psprintf(p, "%s must be a string", strs[i]));
            return 0;
        }
        *dst[i] = apr_pstrdup(p, json_string_value(v));
    }
    if ((v = json_object_get(body, "startIndex"))) {
        if (!json_is_integer(v)) {
            scim_svc_fail(res, ST_BAD_REQUEST, "invalidValue",
                          "startIndex must be an integer");
            return 0;
        }
        s->start_index = (apr_int64_t)json_integer_value(v);
    }
    if ((v = json_object_get(body, "count"))) {
        if (!json_is_integer(v)) {
            scim_svc_fail(res, ST_BAD_REQUEST, "invalidValue",
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

static int projection(apr_pool_t *p, scim_res_type_e type,
                      const char *attributes, const char *excluded,
                      projection_t *pr, scim_svc_result_t *res)
{
    const scim_resource_type_t *rt = rtype(type);
    const char *err = NULL;

    memset(pr, 0, sizeof(*pr));
    pr->with_members = 1;
    if (attributes
        && scim_schema_attr_list(p, rt, attributes, &pr->attrs, &err)
            != APR_SUCCESS) {
        scim_svc_fail(res, ST_BAD_REQUEST, "invalidValue", err);
        return 0;
    }
    if (excluded
        && scim_schema_attr_list(p, rt, excluded, &pr->excl, &err)
            != APR_SUCCESS) {
        scim_svc_fail(res, ST_BAD_REQUEST, "invalidValue", err);
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
static const char *project(apr_pool_t *p, scim_res_type_e type,
                           const projection_t *pr, const char *json)
{
    const char *err = NULL, *out;
    json_t *doc;

    if (!json || (!pr->attrs && !pr->excl)) {
        return json;
    }
    doc = scim_json_parse(p, json, strlen(json), 64, &err);
    if (!doc) {
        return json;
    }
    out = scim_json_dump(p,
                         scim_schema_project(p, rtype(type), doc, pr->attrs,
                                             pr->excl),
                         0);
    return out ? out : json;
}

/* A search as a store query (parsed filter, sort, page). */
static int compile_search(apr_pool_t *p, scim_res_type_e type, const search_t *s,
                          scim_res_query_t *q, scim_svc_result_t *res)
{
    const char *err = NULL;

    memset(q, 0, sizeof(*q));
    if (s->filter) {
        scim_filter_t *f;

        if (scim_filter_parse(p, rtype(type), s->filter, MAX_FILTER_LEN,
                              MAX_FILTER_DEPTH, &f, &err)
            != APR_SUCCESS) {
            scim_svc_fail(res, ST_BAD_REQUEST, "invalidFilter", err);
            return 0;
        }
        q->filter = f;
    }
    if (s->sort_order && strcasecmp(s->sort_order, "ascending")
        && strcasecmp(s->sort_order, "descending")) {
        scim_svc_fail(res, ST_BAD_REQUEST, "invalidValue",
                      "sortOrder is ascending or descending");
        return 0;
    }
    q->sort_by = s->sort_by;
    q->descending = s->sort_order && !strcasecmp(s->sort_order, "descending");
    q->start_index = clamp_start(s->start_index);
    q->count = clamp_count(s->count);
    return 1;
}

/* A list call's failure: a filter or sortBy the store cannot compile is the
 * client's (400), anything else the store's. */
static void list_failed(scim_svc_req_t *rq, apr_status_t rv,
                        scim_svc_result_t *res)
{
    const char *err = rq->store->db ? rq->store->db->error : NULL;

    if (rv == APR_EINVAL) {
        scim_svc_fail(res, ST_BAD_REQUEST,
                      err && !strncmp(err, "sortBy", 6) ? "invalidValue"
                                                        : "invalidFilter",
                      err ? err : "invalid filter");
        return;
    }
    store_failed(rq, rv == APR_ENOENT ? APR_EGENERAL : rv, SCIM_RES_USER, res);
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
                                   "\"startIndex\":%d,\"itemsPerPage\":%d,"
                                   "\"Resources\":[",
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

static void listed(apr_pool_t *p, int total, int start,
                   const apr_array_header_t *items, scim_svc_result_t *res)
{
    memset(res, 0, sizeof(*res));
    res->status = ST_OK;
    res->body = list_json(p, total, start, items);
}

static void op_search(scim_svc_req_t *rq, scim_res_type_e type,
                      const search_t *s, scim_svc_result_t *res)
{
    apr_pool_t *p = POOL(rq);
    apr_array_header_t *rows, *items;
    scim_res_query_t q;
    projection_t pr;
    apr_status_t rv;
    int total, i;

    if (!compile_search(p, type, s, &q, res)
        || !projection(p, type, s->attributes, s->excluded, &pr, res)
        || !credential(rq, res)) {
        return;
    }
    q.with_members = pr.with_members;
    rv = scim_store_res_list(rq->store, type, &q, &total, &rows);
    if (rv != APR_SUCCESS) {
        list_failed(rq, rv, res);
        return;
    }
    items = apr_array_make(p, rows->nelts, sizeof(const char *));
    for (i = 0; i < rows->nelts; i++) {
        APR_ARRAY_PUSH(items,
                       const char *) = project(p, type, &pr,
                                               APR_ARRAY_IDX(rows, i, scim_res_t)
                                                   .json);
    }
    listed(p, total, q.start_index, items, res);
}

/* /.search at the root: Users, then Groups, as one list. A filter that
 * names attributes of only one type selects nothing of the other. */
static void op_search_root(scim_svc_req_t *rq, const search_t *s,
                           scim_svc_result_t *res)
{
    apr_pool_t *p = POOL(rq);
    apr_array_header_t *items = apr_array_make(p, 8, sizeof(const char *));
    int total = 0, usable = 0, t, start, want, skip;
    scim_svc_result_t first;

    if (!credential(rq, res)) {
        return;
    }
    scim_svc_fail(&first, ST_BAD_REQUEST, "invalidFilter", "no resource type");
    start = clamp_start(s->start_index);
    want = clamp_count(s->count);
    skip = start - 1;
    for (t = SCIM_RES_USER; t <= SCIM_RES_GROUP; t++) {
        scim_res_query_t q;
        projection_t pr;
        apr_array_header_t *rows;
        scim_svc_result_t r1;
        apr_status_t rv;
        int n, i;

        if (!compile_search(p, (scim_res_type_e)t, s, &q, &r1)
            || !projection(p, (scim_res_type_e)t, s->attributes, s->excluded,
                           &pr, &r1)) {
            if (t == SCIM_RES_USER) {
                first = r1;
            }
            continue;
        }
        q.with_members = pr.with_members;
        q.start_index = skip + 1;
        q.count = want - items->nelts;
        if (q.count <= 0) {
            q.count = 0;
        }
        rv = scim_store_res_list(rq->store, (scim_res_type_e)t, &q, &n, &rows);
        if (rv == APR_EINVAL) {
            /* a filter this type cannot answer: as if it did not parse */
            list_failed(rq, rv, &r1);
            if (t == SCIM_RES_USER) {
                first = r1;
            }
            continue;
        }
        if (rv != APR_SUCCESS) {
            list_failed(rq, rv, res);
            return;
        }
        usable++;
        total += n;
        skip = skip > n ? skip - n : 0;
        for (i = 0; i < rows->nelts; i++) {
            APR_ARRAY_PUSH(items,
                           const char *) = project(p, (scim_res_type_e)t, &pr,
                                                   APR_ARRAY_IDX(rows, i,
                                                                 scim_res_t)
                                                       .json);
        }
    }
    if (!usable) {
        *res = first;
        return;
    }
    listed(p, total, start, items, res);
}

void scim_svc_list(scim_svc_req_t *rq, scim_res_type_e type, apr_table_t *q,
                   scim_svc_result_t *res)
{
    search_t s;

    if (search_from_query(q, &s, res)) {
        op_search(rq, type, &s, res);
    }
}

void scim_svc_search(scim_svc_req_t *rq, int root, scim_res_type_e type,
                     const json_t *body, scim_svc_result_t *res)
{
    search_t s;

    if (!search_from_body(POOL(rq), body, &s, res)) {
        return;
    }
    if (root) {
        op_search_root(rq, &s, res);
    }
    else {
        op_search(rq, type, &s, res);
    }
}

void scim_svc_get(scim_svc_req_t *rq, scim_res_type_e type, const char *id,
                  const char *attributes, const char *excluded,
                  scim_svc_result_t *res)
{
    apr_pool_t *p = POOL(rq);
    projection_t pr;
    scim_res_t *row;
    apr_status_t rv;

    if (!projection(p, type, attributes, excluded, &pr, res)
        || !credential(rq, res)) {
        return;
    }
    rv = scim_store_res_get(rq->store, type, id, pr.with_members, &row);
    if (rv != APR_SUCCESS) {
        store_failed(rq, rv, type, res);
        return;
    }
    stored(row, ST_OK, res);
    if (rq->if_none_match_any || tags_match(p, rq->if_none_match, row->version)) {
        res->status = ST_NOT_MODIFIED;
        res->body = NULL;
        return;
    }
    res->body = project(p, type, &pr, row->json);
}

/* ---- Bulk (RFC 7644 3.7) ------------------------------------------------ */

/* Replace "bulkId:<id>" string values (anywhere in v) by the ids created
 * so far; 0 if one is not known (yet). */
static int resolve_bulk_ids(json_t *v, apr_hash_t *ids)
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
            if (!resolve_bulk_ids(e, ids)) {
                return 0;
            }
        }
    }
    else if (json_is_array(v)) {
        size_t i;
        json_t *e;

        json_array_foreach(v, i, e)
        {
            if (!resolve_bulk_ids(e, ids)) {
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

/* One operation of a Bulk request into *r1. */
static void bulk_op(scim_svc_req_t *rq, json_t *op, apr_hash_t *ids,
                    scim_svc_result_t *r1)
{
    apr_pool_t *p = POOL(rq);
    const char *method = json_string_value(json_object_get(op, "method"));
    const char *path = json_string_value(json_object_get(op, "path"));
    const char *bulk_id = json_string_value(json_object_get(op, "bulkId"));
    const char *version = json_string_value(json_object_get(op, "version"));
    json_t *data = json_object_get(op, "data");
    scim_res_type_e type = SCIM_RES_USER;
    const char *id = NULL;

    if (!json_is_object(op) || !method || !path) {
        scim_svc_fail(r1, ST_BAD_REQUEST, "invalidSyntax",
                      "an operation has a method and a path");
    }
    else if (!bulk_path(p, path, ids, &type, &id)) {
        scim_svc_fail(r1, ST_BAD_REQUEST, "invalidPath",
                      apr_psprintf(p, "cannot resolve path %s",
                                   scim_util_quote(p, path, strlen(path), 64)));
    }
    else if (data && !resolve_bulk_ids(data, ids)) {
        scim_svc_fail(r1, ST_CONFLICT, "invalidValue",
                      "data refers to an unknown bulkId");
    }
    else if (!strcasecmp(method, "POST") && !id) {
        if (!bulk_id) {
            scim_svc_fail(r1, ST_BAD_REQUEST, "invalidSyntax",
                          "POST operations need a bulkId");
        }
        else if (!json_is_object(data)) {
            scim_svc_fail(r1, ST_BAD_REQUEST, "invalidSyntax",
                          "POST operations need data");
        }
        else {
            op_create(rq, type, data, r1);
        }
    }
    else if (!strcasecmp(method, "PUT") && id && json_is_object(data)) {
        if (bulk_version(rq, type, id, version, &version, r1)) {
            op_replace(rq, type, id, version, data, r1);
        }
    }
    else if (!strcasecmp(method, "PATCH") && id && json_is_object(data)) {
        if (bulk_version(rq, type, id, version, &version, r1)) {
            op_patch(rq, type, id, version, data, r1);
        }
    }
    else if (!strcasecmp(method, "DELETE") && id) {
        if (bulk_version(rq, type, id, version, &version, r1)) {
            op_delete(rq, type, id, version, r1);
        }
    }
    else {
        scim_svc_fail(r1, ST_BAD_REQUEST, "invalidSyntax",
                      apr_psprintf(p, "unsupported operation %s %s",
                                   scim_util_quote(p, method, strlen(method), 16),
                                   scim_util_quote(p, path, strlen(path), 64)));
    }
}

void scim_svc_bulk(scim_svc_req_t *rq, json_t *body, scim_svc_result_t *res)
{
    apr_pool_t *p = POOL(rq);
    apr_hash_t *ids = apr_hash_make(p);
    json_t *ops = json_object_get(body, "Operations");
    json_t *fo = json_object_get(body, "failOnErrors");
    json_t *out = scim_json_pool_own(p, json_array()), *op;
    int fail_on = 0, errors = 0;
    size_t i;

    if (!has_schema(body, URN_BULK_REQUEST)) {
        scim_svc_fail(res, ST_BAD_REQUEST, "invalidSyntax",
                      "schemas must name " URN_BULK_REQUEST);
        return;
    }
    if (!json_is_array(ops)) {
        scim_svc_fail(res, ST_BAD_REQUEST, "invalidSyntax",
                      "a BulkRequest has an Operations array");
        return;
    }
    if (json_array_size(ops) > SCIM_SVC_MAX_BULK_OPS) {
        scim_svc_fail(res, ST_TOO_LARGE, NULL,
                      apr_psprintf(p, "at most %d operations per Bulk request",
                                   SCIM_SVC_MAX_BULK_OPS));
        return;
    }
    if (fo && !json_is_null(fo)) {
        if (!json_is_integer(fo) || json_integer_value(fo) < 1) {
            scim_svc_fail(res, ST_BAD_REQUEST, "invalidValue",
                          "failOnErrors must be a positive integer");
            return;
        }
        fail_on = (int)json_integer_value(fo);
    }
    /* the token first: no operation answers for a refused one */
    scim_svc_fail(res, ST_OK, NULL, NULL);
    scim_svc_finish(rq, res);
    if (res->status != ST_OK) {
        return;
    }
    rq->bulk = 1;
    json_array_foreach(ops, i, op)
    {
        const char *method = json_string_value(json_object_get(op, "method"));
        const char *bulk_id = json_string_value(json_object_get(op, "bulkId"));
        scim_svc_result_t r1;
        json_t *entry;

        if (fail_on && errors >= fail_on) {
            break;
        }
        bulk_op(rq, op, ids, &r1);
        if (r1.status == ST_UNAVAILABLE || r1.status == ST_UNAUTHORIZED) {
            *res = r1;
            return;
        }
        entry = json_pack("{s:s, s:s}", "method", method ? method : "",
                          "status", apr_itoa(p, r1.status));
        if (bulk_id) {
            json_object_set_new(entry, "bulkId", json_string(bulk_id));
        }
        if (r1.status >= 400) {
            json_t *e = scim_svc_error_doc(p, r1.status, r1.scim_type, r1.detail);

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
            if (bulk_id && r1.status == ST_CREATED && r1.location) {
                apr_hash_set(ids, apr_pstrdup(p, bulk_id), APR_HASH_KEY_STRING,
                             strrchr(r1.location, '/') + 1);
            }
        }
        json_array_append_new(out, entry);
    }
    memset(res, 0, sizeof(*res));
    res->status = ST_OK;
    res->body = scim_json_dump(p,
                               scim_json_pool_own(p,
                                                  json_pack("{s:[s], s:O}",
                                                            "schemas",
                                                            URN_BULK_RESPONSE,
                                                            "Operations", out)),
                               0);
}

/* ---- discovery ---------------------------------------------------------- */

void scim_svc_discovery(scim_svc_req_t *rq, const char *path,
                        scim_svc_result_t *res)
{
    apr_pool_t *p = POOL(rq);
    const char *base = rq->store->base_url;
    json_t *doc = NULL;

    if (!strcmp(path, "/ServiceProviderConfig")) {
        scim_spc_params_t prm;

        memset(&prm, 0, sizeof(prm));
        prm.base_url = base;
        prm.documentation_uri = "https://datatracker.ietf.org/doc/html/rfc7644";
        prm.bulk_max_operations = SCIM_SVC_MAX_BULK_OPS;
        prm.bulk_max_payload = rq->max_body;
        prm.filter_max_results = SCIM_SVC_MAX_RESULTS;
        doc = scim_schema_service_provider_config(p, &prm);
    }
    else if (!strcmp(path, "/ResourceTypes")) {
        doc = scim_schema_resource_types_list(p, base);
    }
    else if (!strncmp(path, "/ResourceTypes/", 15)) {
        doc = scim_schema_resource_type_resource(p, path + 15, base);
    }
    else if (!strcmp(path, "/Schemas")) {
        doc = scim_schema_schemas_list(p, base);
    }
    else if (!strncmp(path, "/Schemas/", 9)) {
        doc = scim_schema_schema_resource(p, path + 9, base);
    }
    if (!doc) {
        scim_svc_fail(res, ST_NOT_FOUND, NULL, "No such resource");
        return;
    }
    json_incref(doc);
    memset(res, 0, sizeof(*res));
    res->status = ST_OK;
    res->body = scim_json_dump(p, scim_json_pool_own(p, doc), 0);
}
