/* The floor of the benchmark: the least an httpd handler can do for each
 * SCIM request shape on this stack (httpd + mod_dbd + PostgreSQL + Jansson).
 *
 *   SetHandler bench-floor-select   GET ?id=<uuid>[&prep=1][&parse=1]
 *       one primary-key SELECT of an accounts row through mod_dbd, answered
 *       as a JSON object built with Jansson.  The doc column is passed
 *       through as text (spliced into the dump) unless parse=1, which parses
 *       it with Jansson and dumps it again (informational variant).
 *   SetHandler bench-floor-select   GET ?id=<uuid>&prep=1&jti=..&slug=..
 *                                       &hash=..&sub=..&idp=..
 *       the same SELECT joined to the provisioning token check that SPEC 4
 *       asks of every request, in the module's own SQL (the token row by
 *       jti, with its copies of the tenant's slug, the provider's type and
 *       the account's username since migration 10; the hash, deleted and
 *       expired): what that check costs PostgreSQL, with nothing of the
 *       module's C (no JWT, no SCIM).  Informational.
 *   SetHandler bench-floor-select   GET ?name=<userName, URL-encoded>&prep=1
 *                                       &jti=..&slug=..&hash=..&sub=..&idp=..
 *       the statement of GET /Users?filter=userName eq "<name>" (the fixed
 *       one, copied from LIST_USER_NAME in
 *       mod_scim_provision/scim_store_res.c, with the module's default page
 *       of 100 from the first): the token check fused in, the user looked
 *       up by the key of the name.  The first row answered as the id's
 *       GET is (id, meta, the document spliced in); no ListResponse, no
 *       SCIM filter parsing.  Informational.
 *   SetHandler bench-floor-insert   POST <~1 KB SCIM user>[?prep=1]
 *       reads and parses the body with Jansson, one INSERT ... RETURNING into
 *       the scratch table bench_floor, answers the body plus "id" (Jansson
 *       dump), 201.
 *   SetHandler bench-floor-insert   POST ...?prep=1&tenant=<uuid>
 *       the same, but the row goes into accounts, as a user of that tenant
 *       (userName, externalId, displayName and the body as doc): the table
 *       POST /Users writes, with its keys, foreign keys and CHECKs, and
 *       nothing else POST does (no token, no validation, no uniqueness test
 *       before the insert).  Informational: it separates what the table
 *       costs from what the module adds.
 *   SetHandler bench-floor-insert   POST ...?prep=1&jti=..&slug=..&hash=..
 *                                       &sub=..&idp=..
 *       the same row (the tenant is the token's) written by the statement
 *       POST /Users runs, copied from
 *       CREATE_USER in mod_scim_provision/scim_store_res.c: the token check
 *       fused in, the new user's version 7 id made as the module makes
 *       it (scim_uuid7() of mod_scim_provision/scim_util.c, built in), the
 *       name's key tested by NOT EXISTS, the columns the module reads
 *       back.  What POST's SQL costs with nothing of the module's C (no
 *       JWT, no SCIM validation, no normalising), an approximate bound of
 *       POST on this schema.  Informational.
 *
 * prep=1 uses the statement labelled by DBDPrepareSQL (server-side PREPARE
 * on each pooled connection, PQexecPrepared); without it the statement is
 * prepared unlabelled per request (nothing sent to the server;
 * PQexecParams).  Both are one round trip.
 *
 * Built by bench/run with `apxs -c`; not part of the product. */

#include <string.h>

#include <apr_dbd.h>
#include <apr_optional.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_dbd.h>

#include <jansson.h>

#include "scim_util.h" /* scim_uuid7(), from the module's core */

module AP_MODULE_DECLARE_DATA bench_floor_module;

/* one line each: bench/run copies these texts into DBDPrepareSQL */
/* bench/run reads these lines with sed: keep each on one line. */
/* clang-format off */
#define SELECT_SQL "SELECT id, user_name, external_id, display_name, active, version, replace(to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), ' ', 'T') || 'Z', replace(to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), ' ', 'T') || 'Z', doc FROM accounts WHERE id = %s::uuid"
#define SELECT_TOKEN_SQL "WITH t AS (SELECT k.id AS token_id, k.tenant_id, k.account_id, k.account_name AS token_user, k.idp_type FROM tokens k WHERE k.jti = %s AND k.tenant_slug = %s AND k.token_hash = decode(%s, 'hex') AND k.account_id::text = lower(%s) AND k.idp_type = %s AND k.deleted_at IS NULL AND k.expires_at > now()) SELECT r.id, r.user_name, r.external_id, r.display_name, r.active, r.version, replace(to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), ' ', 'T') || 'Z', replace(to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), ' ', 'T') || 'Z', r.doc, t.token_id, t.tenant_id, t.account_id, t.token_user, t.idp_type FROM t JOIN accounts r ON r.tenant_id = t.tenant_id AND r.id = %s::uuid AND r.kind = 'user'"
#define SELECT_NAME_SQL "WITH t AS (SELECT k.id AS token_id, k.tenant_id, k.account_id, k.account_name AS token_user, k.idp_type FROM tokens k WHERE k.jti = %s AND k.tenant_slug = %s AND k.token_hash = decode(%s, 'hex') AND k.account_id::text = lower(%s) AND k.idp_type = %s AND k.deleted_at IS NULL AND k.expires_at > now()) SELECT t.token_id, t.tenant_id, t.account_id, t.token_user, t.idp_type, x.* FROM t LEFT JOIN LATERAL (SELECT r.id, r.version, r.doc::text, r.groups, to_char((r.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), to_char((r.updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM accounts r WHERE r.tenant_id = t.tenant_id AND r.user_name_key = scim_name_key_sql(%s) AND r.kind = 'user' ORDER BY r.created_at, r.id LIMIT %s::int OFFSET %s::int) x ON true"
#define INSERT_SQL "INSERT INTO bench_floor (user_name, doc) VALUES (%s, %s::jsonb) RETURNING id"
#define INSERT_USER_SQL "INSERT INTO accounts (tenant_id, kind, user_name, external_id, display_name, active, billable, doc) VALUES (%s::uuid, 'user', %s, %s, %s, true, true, %s::jsonb) RETURNING id"
#define INSERT_TOKEN_SQL "WITH t AS (SELECT k.id AS token_id, k.tenant_id, k.account_id, k.account_name AS token_user, k.idp_type FROM tokens k WHERE k.jti = %s AND k.tenant_slug = %s AND k.token_hash = decode(%s, 'hex') AND k.account_id::text = lower(%s) AND k.idp_type = %s AND k.deleted_at IS NULL AND k.expires_at > now()), i AS (INSERT INTO accounts (id, tenant_id, kind, user_name, external_id, display_name, active, billable, doc) SELECT %s::uuid, t.tenant_id, 'user', %s, %s, %s, %s::boolean, true, %s::jsonb FROM t WHERE NOT EXISTS (SELECT 1 FROM accounts o WHERE o.tenant_id = t.tenant_id AND o.user_name_key = scim_name_key_sql(%s)) RETURNING id, version, created_at, updated_at) SELECT t.token_id, t.tenant_id, t.account_id, t.token_user, t.idp_type, i.id, i.version, NULL::text, NULL::text, to_char((i.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), to_char((i.updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM t LEFT JOIN i ON true"
/* clang-format on */
/* labels given to the same texts by DBDPrepareSQL in the generated config */
#define SELECT_LABEL       "bench_floor_select"
#define SELECT_TOKEN_LABEL "bench_floor_select_token"
#define SELECT_NAME_LABEL  "bench_floor_select_name"
#define INSERT_LABEL       "bench_floor_insert"
#define INSERT_USER_LABEL  "bench_floor_insert_user"
#define INSERT_TOKEN_LABEL "bench_floor_insert_token"

#define MAX_BODY           65536

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) * dbd_acquire;

static void retrieve_optional_fn(void)
{
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
}

/* The value of name=... in the query string, or NULL (no unescaping: the
 * values used here are uuids and flags). */
static const char *arg(request_rec *r, const char *name)
{
    const char *a = r->args;
    size_t n = strlen(name);

    while (a && *a) {
        if (!strncmp(a, name, n) && a[n] == '=') {
            const char *v = a + n + 1, *end = strchr(v, '&');

            return end ? apr_pstrmemdup(r->pool, v, (apr_size_t)(end - v)) : v;
        }
        a = strchr(a, '&');
        if (a) {
            a++;
        }
    }
    return NULL;
}

static int fail(request_rec *r, ap_dbd_t *dbd, int rc, const char *what)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "bench floor: %s: %s", what,
                  dbd ? apr_dbd_error(dbd->driver, dbd->handle, rc) : "");
    return HTTP_INTERNAL_SERVER_ERROR;
}

static apr_dbd_prepared_t *statement(request_rec *r, ap_dbd_t *dbd,
                                     const char *sql, const char *label)
{
    apr_dbd_prepared_t *stmt = NULL;

    if (arg(r, "prep")) {
        return apr_hash_get(dbd->prepared, label, APR_HASH_KEY_STRING);
    }
    if (apr_dbd_prepare(dbd->driver, r->pool, dbd->handle, sql, NULL, &stmt)
        != 0) {
        return NULL;
    }
    return stmt;
}

static const char *column(ap_dbd_t *dbd, apr_dbd_row_t *row, int col,
                          apr_pool_t *p)
{
    char *val = NULL;

    (void)p;
    if (apr_dbd_datum_get(dbd->driver, row, col, APR_DBD_TYPE_STRING, &val)
        != APR_SUCCESS) {
        return NULL;
    }
    return val;
}

static json_t *nullable(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int send_json(request_rec *r, int status, const char *text, apr_size_t len)
{
    r->status = status;
    ap_set_content_type(r, "application/scim+json");
    ap_set_content_length(r, (apr_off_t)len);
    ap_rwrite(text, (int)len, r);
    return OK;
}

/* obj (a JSON object) with "doc":<doc> added by splicing, not parsing. */
static int send_with_doc(request_rec *r, json_t *obj, const char *doc)
{
    char *head, *out;
    apr_size_t hlen, dlen;

    head = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!head) {
        return fail(r, NULL, 0, "dump");
    }
    /* {..."meta":{...}} -> {...,"doc":<doc>} */
    hlen = strlen(head) - 1;
    dlen = strlen(doc);
    out = apr_palloc(r->pool, hlen + 7 + dlen + 2);
    memcpy(out, head, hlen);
    memcpy(out + hlen, ",\"doc\":", 7);
    memcpy(out + hlen + 7, doc, dlen);
    out[hlen + 7 + dlen] = '}';
    free(head);
    return send_json(r, HTTP_OK, out, hlen + 7 + dlen + 1);
}

/* GET ?name=...: the filter's statement; 404 when the token is not live or
 * no user has the name (an error of the row). */
static int floor_select_name(request_rec *r, ap_dbd_t *dbd, const char *name,
                             const char *jti)
{
    apr_dbd_prepared_t *stmt;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    char *n = apr_pstrdup(r->pool, name);
    const char *id, *doc;
    json_t *obj;
    int rc;

    if (ap_unescape_all(n) != OK) {
        return HTTP_BAD_REQUEST;
    }
    if (!(stmt = statement(r, dbd, SELECT_NAME_SQL, SELECT_NAME_LABEL))) {
        return fail(r, dbd, 0, "prepare");
    }
    rc = apr_dbd_pvselect(dbd->driver, r->pool, dbd->handle, &res, stmt, 1, jti,
                          arg(r, "slug"), arg(r, "hash"), arg(r, "sub"),
                          arg(r, "idp"), n, "100", "0");
    if (rc != 0) {
        return fail(r, dbd, rc, "select");
    }
    if (apr_dbd_num_tuples(dbd->driver, res) < 1
        || apr_dbd_get_row(dbd->driver, r->pool, res, &row, 1) != 0
        || !(id = column(dbd, row, 5, r->pool))) {
        return HTTP_NOT_FOUND;
    }
    obj = json_pack("{s:s, s:{s:s, s:o, s:o, s:o}}", "id", id, "meta",
                    "resourceType", "User", "version",
                    nullable(column(dbd, row, 6, r->pool)), "created",
                    nullable(column(dbd, row, 9, r->pool)), "lastModified",
                    nullable(column(dbd, row, 10, r->pool)));
    doc = column(dbd, row, 7, r->pool);
    if (!obj || !doc) {
        json_decref(obj);
        return fail(r, NULL, 0, "row to JSON");
    }
    return send_with_doc(r, obj, doc);
}

static int floor_select(request_rec *r)
{
    const char *id = arg(r, "id"), *jti = arg(r, "jti"), *name = arg(r, "name");
    apr_dbd_prepared_t *stmt;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    ap_dbd_t *dbd;
    json_t *obj;
    const char *doc, *active;
    char *head;
    int rc;

    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if ((!id || strlen(id) != 36) && !(name && jti)) {
        return HTTP_BAD_REQUEST;
    }
    if (!dbd_acquire || !(dbd = dbd_acquire(r))) {
        return fail(r, NULL, 0, "no database connection");
    }
    if (name && jti) {
        return floor_select_name(r, dbd, name, jti);
    }
    stmt = jti ? statement(r, dbd, SELECT_TOKEN_SQL, SELECT_TOKEN_LABEL)
               : statement(r, dbd, SELECT_SQL, SELECT_LABEL);
    if (!stmt) {
        return fail(r, dbd, 0, "prepare");
    }
    /* no row when the token check fails: a 404, counted as an error */
    rc = jti ? apr_dbd_pvselect(dbd->driver, r->pool, dbd->handle, &res, stmt,
                                1, jti, arg(r, "slug"), arg(r, "hash"),
                                arg(r, "sub"), arg(r, "idp"), id)
             : apr_dbd_pvselect(dbd->driver, r->pool, dbd->handle, &res, stmt,
                                1 /* random access */, id);
    if (rc != 0) {
        return fail(r, dbd, rc, "select");
    }
    if (apr_dbd_num_tuples(dbd->driver, res) != 1
        || apr_dbd_get_row(dbd->driver, r->pool, res, &row, 1) != 0) {
        return HTTP_NOT_FOUND;
    }
    active = column(dbd, row, 4, r->pool);
    obj = json_pack("{s:o, s:o, s:o, s:o, s:b, s:{s:s, s:o, s:o, s:o}}", "id",
                    nullable(column(dbd, row, 0, r->pool)), "userName",
                    nullable(column(dbd, row, 1, r->pool)), "externalId",
                    nullable(column(dbd, row, 2, r->pool)), "displayName",
                    nullable(column(dbd, row, 3, r->pool)), "active",
                    active && active[0] == 't', "meta", "resourceType", "User",
                    "version", nullable(column(dbd, row, 5, r->pool)),
                    "created", nullable(column(dbd, row, 6, r->pool)),
                    "lastModified", nullable(column(dbd, row, 7, r->pool)));
    doc = column(dbd, row, 8, r->pool);
    if (!obj || !doc) {
        json_decref(obj);
        return fail(r, NULL, 0, "row to JSON");
    }
    if (arg(r, "parse")) {
        json_t *d = json_loads(doc, JSON_REJECT_DUPLICATES, NULL);

        if (!d) {
            json_decref(obj);
            return fail(r, NULL, 0, "doc parse");
        }
        json_object_set_new(obj, "doc", d);
        head = json_dumps(obj, JSON_COMPACT);
        json_decref(obj);
        rc = send_json(r, HTTP_OK, head, strlen(head));
        free(head);
        return rc;
    }
    /* pass the document through */
    return send_with_doc(r, obj, doc);
}

static int read_body(request_rec *r, char **buf, apr_size_t *len)
{
    apr_size_t n = 0;
    long got;
    int rc;

    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    *buf = apr_palloc(r->pool, MAX_BODY + 1);
    if (ap_should_client_block(r)) {
        while ((got = ap_get_client_block(r, *buf + n, MAX_BODY - n)) > 0) {
            n += (apr_size_t)got;
            if (n == MAX_BODY) {
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
        }
        if (got < 0) {
            return HTTP_BAD_REQUEST;
        }
    }
    (*buf)[n] = '\0';
    *len = n;
    return OK;
}

static int floor_insert(request_rec *r)
{
    apr_dbd_prepared_t *stmt;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    json_t *body, *un;
    ap_dbd_t *dbd;
    const char *id, *tenant = arg(r, "tenant"), *jti = arg(r, "jti");
    char *buf, *out;
    apr_size_t len;
    int rc;

    if (r->method_number != M_POST) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (tenant && strlen(tenant) != 36) {
        return HTTP_BAD_REQUEST;
    }
    if ((rc = read_body(r, &buf, &len)) != OK) {
        return rc;
    }
    body = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
    un = json_object_get(body, "userName");
    if (!json_is_string(un)) {
        json_decref(body);
        return HTTP_BAD_REQUEST;
    }
    if (!dbd_acquire || !(dbd = dbd_acquire(r))) {
        json_decref(body);
        return fail(r, NULL, 0, "no database connection");
    }
    if (jti) {
        stmt = statement(r, dbd, INSERT_TOKEN_SQL, INSERT_TOKEN_LABEL);
    }
    else if (tenant) {
        stmt = statement(r, dbd, INSERT_USER_SQL, INSERT_USER_LABEL);
    }
    else {
        stmt = statement(r, dbd, INSERT_SQL, INSERT_LABEL);
    }
    if (!stmt) {
        json_decref(body);
        return fail(r, dbd, 0, "prepare");
    }
    if (jti) {
        const char *nid = scim_uuid7(r->pool, apr_time_now());

        /* the tenant comes from the token's row; no row or a NULL id when
         * the token is not live or the name is taken (a 500, an error) */
        if (!nid) {
            json_decref(body);
            return fail(r, NULL, 0, "random");
        }
        rc = apr_dbd_pvselect(dbd->driver, r->pool, dbd->handle, &res, stmt, 1,
                              jti, arg(r, "slug"), arg(r, "hash"), arg(r, "sub"),
                              arg(r, "idp"), nid, json_string_value(un),
                              json_string_value(
                                  json_object_get(body, "externalId")),
                              json_string_value(
                                  json_object_get(body, "displayName")),
                              "true", buf, json_string_value(un));
    }
    else if (tenant) {
        /* a NULL value is SQL NULL */
        rc = apr_dbd_pvselect(dbd->driver, r->pool, dbd->handle, &res, stmt, 1,
                              tenant, json_string_value(un),
                              json_string_value(
                                  json_object_get(body, "externalId")),
                              json_string_value(
                                  json_object_get(body, "displayName")),
                              buf);
    }
    else {
        rc = apr_dbd_pvselect(dbd->driver, r->pool, dbd->handle, &res, stmt, 1,
                              json_string_value(un), buf);
    }
    if (rc != 0) {
        json_decref(body);
        return fail(r, dbd, rc, "insert");
    }
    if (apr_dbd_num_tuples(dbd->driver, res) != 1
        || apr_dbd_get_row(dbd->driver, r->pool, res, &row, 1) != 0
        || !(id = column(dbd, row, jti ? 5 : 0, r->pool))) {
        json_decref(body);
        return fail(r, NULL, 0,
                    jti ? "insert: no row (the token is not live or the name "
                          "is taken)"
                        : "insert: no row");
    }
    json_object_set_new(body, "id", json_string(id));
    out = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    apr_table_setn(r->headers_out, "Location",
                   apr_pstrcat(r->pool, r->uri, "/", id, NULL));
    rc = send_json(r, HTTP_CREATED, out, strlen(out));
    free(out);
    return rc;
}

static int handler(request_rec *r)
{
    if (!r->handler) {
        return DECLINED;
    }
    if (!strcmp(r->handler, "bench-floor-select")) {
        return floor_select(r);
    }
    if (!strcmp(r->handler, "bench-floor-insert")) {
        return floor_insert(r);
    }
    return DECLINED;
}

static void register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_optional_fn_retrieve(retrieve_optional_fn, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    ap_hook_handler(handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(bench_floor) = {
    STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL, register_hooks, 0
};
