/* The SCIM service (scim_service.h) against PostgreSQL, without httpd: the
 * store and the service as mod_scim_scim.c calls them, on a connection of
 * our own. Driven by t/98-service.t, which makes the tenant and the token.
 *   service_check '<libpq conninfo>' <tenant slug> <provisioning token>
 * Prints TAP; exits 0 when every check passed. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_dbd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <jansson.h>

#include "scim_db.h"
#include "scim_json.h"
#include "scim_patch.h"
#include "scim_service.h"
#include "scim_util.h"

#define BASE "https://scim.example/t/acme/scim/v2"

static int n, failed;
static apr_pool_t *root;
static scim_db_t *db;
static const char *tenant, *token, *jti, *sub, *idp;

static void ok(int cond, const char *fmt, ...)
{
    va_list ap;

    printf("%sok %d - ", cond ? "" : "not ", ++n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    failed += !cond;
}

/* One SCIM request: a fresh store request (nothing verified yet). */
typedef struct {
    apr_pool_t *p;
    scim_store_req_t store;
    scim_svc_req_t svc;
    scim_svc_result_t res;
} req_t;

static req_t *req(int good)
{
    req_t *q;
    apr_pool_t *p;

    apr_pool_create(&p, root);
    q = apr_pcalloc(p, sizeof(*q));
    q->p = p;
    q->store.db = db;
    q->store.pool = p;
    q->store.base_url = BASE;
    q->store.tenant_slug = tenant;
    q->store.jti = jti;
    q->store.sub = sub;
    q->store.idp = idp;
    scim_sha256(token, strlen(token), q->store.token_hash);
    if (!good) {
        q->store.token_hash[0] ^= 1; /* another token with the same claims */
    }
    q->svc.store = &q->store;
    q->svc.max_body = 1048576;
    return q;
}

static json_t *J(req_t *q, const char *text)
{
    json_t *j = json_loads(text, 0, NULL);

    if (!j) {
        fprintf(stderr, "bad JSON: %s\n", text ? text : "(null)");
        exit(2);
    }
    return scim_json_pool_own(q->p, j);
}

static json_t *body_of(req_t *q)
{
    return q->res.body ? J(q, q->res.body) : NULL;
}

static const char *str_at(json_t *doc, const char *key)
{
    return json_string_value(json_object_get(doc, key));
}

/* The member ids of a group, sorted, comma-separated. */
static int cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *members(const char *gid)
{
    req_t *q = req(1);
    apr_array_header_t *ids = apr_array_make(q->p, 4, sizeof(const char *));
    json_t *m, *e;
    size_t i;

    scim_svc_get(&q->svc, SCIM_RES_GROUP, gid, NULL, NULL, &q->res);
    if (q->res.status != 200) {
        return apr_psprintf(root, "status %d", q->res.status);
    }
    m = json_object_get(body_of(q), "members");
    json_array_foreach(m, i, e)
    {
        APR_ARRAY_PUSH(ids, const char *) = str_at(e, "value");
    }
    qsort(ids->elts, (size_t)ids->nelts, sizeof(const char *), cmp);
    return apr_pstrdup(root, apr_array_pstrcat(q->p, ids, ','));
}

static const char *sorted2(const char *a, const char *b)
{
    return strcmp(a, b) < 0 ? apr_pstrcat(root, a, ",", b, NULL)
                            : apr_pstrcat(root, b, ",", a, NULL);
}

/* totalResults of GET /Users?filter=userName eq "name". */
static int users_named(const char *name)
{
    req_t *q = req(1);
    apr_table_t *t = apr_table_make(q->p, 2);

    apr_table_setn(t, "filter", apr_psprintf(q->p, "userName eq \"%s\"", name));
    scim_svc_list(&q->svc, SCIM_RES_USER, t, &q->res);
    if (q->res.status != 200) {
        return -1;
    }
    return (int)json_integer_value(json_object_get(body_of(q), "totalResults"));
}

static const char *create_user(const char *name)
{
    req_t *q = req(1);

    scim_svc_create(&q->svc, SCIM_RES_USER,
                    J(q,
                      apr_psprintf(q->p,
                                   "{\"schemas\":[\"urn:ietf:params:scim:"
                                   "schemas:core:2.0:User\"],\"userName\":"
                                   "\"%s\"}",
                                   name)),
                    &q->res);
    return q->res.status == 201 ? apr_pstrdup(root, str_at(body_of(q), "id"))
                                : NULL;
}

#define PATCH_OP \
    "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":["

/* PATCH /Groups/{gid} with the operations ops; the status. */
static int patch_group(const char *gid, int good, const char *if_match,
                       const char *ops, const char **etag)
{
    req_t *q = req(good);
    const char *tags[2] = { if_match, NULL };

    if (if_match) {
        q->svc.if_match = tags;
    }
    scim_svc_patch(&q->svc, SCIM_RES_GROUP, gid,
                   J(q, apr_pstrcat(q->p, PATCH_OP, ops, "]}", NULL)), &q->res);
    if (etag) {
        *etag = q->res.etag ? apr_pstrdup(root, q->res.etag) : NULL;
    }
    return q->res.status;
}

/* The claims of the token (its payload, not verified here: the glue does
 * that). */
static void claims(const char *tok)
{
    const char *d1 = strchr(tok, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    unsigned char *raw;
    apr_size_t len;
    json_t *c;

    if (!d2
        || scim_b64url_decode(root, d1 + 1, (apr_size_t)(d2 - d1 - 1), &raw, &len)
            != APR_SUCCESS
        || !(c = json_loadb((const char *)raw, len, 0, NULL))) {
        fprintf(stderr, "not a JWS\n");
        exit(2);
    }
    jti = apr_pstrdup(root, str_at(c, "jti"));
    sub = apr_pstrdup(root, str_at(c, "sub"));
    idp = apr_pstrdup(root, str_at(c, "idp"));
    json_decref(c);
}

/* The stored document a representation shows: without id, meta, groups. */
static json_t *stored_part(req_t *q, json_t *rep)
{
    json_t *d = scim_json_pool_own(q->p, json_deep_copy(rep));

    json_object_del(d, "id");
    json_object_del(d, "meta");
    json_object_del(d, "groups");
    return d;
}

/* The display_name and active columns of a user. */
static const char *columns(const char *uid)
{
    scim_rows_t *rows;

    if (scim_db_selectv(db, root, &rows,
                        "SELECT coalesce(display_name, '-') || '|' || "
                        "active::text FROM accounts WHERE id = %s::uuid",
                        1, uid)
            != APR_SUCCESS
        || rows->nrows != 1) {
        return "no row";
    }
    return scim_rows_get(rows, 0, 0);
}

/* What columns() must say for a stored document. */
static const char *columns_of(req_t *q, json_t *doc)
{
    const char *dn = str_at(doc, "displayName");

    return apr_pstrcat(q->p, dn ? dn : "-", "|",
                       json_is_true(json_object_get(doc, "active")) ? "true"
                                                                    : "false",
                       NULL);
}

/* PATCH /Users/{id} with one operation op, If-Match if_match (NULL:
 * none), with a good or a refused token; the status. */
#define TITLE(v) "{\"op\":\"replace\",\"path\":\"title\",\"value\":\"" v "\"}"
static int set_patch(int good, const char *id, const char *if_match,
                     const char *op)
{
    req_t *q = req(good);

    if (if_match) {
        const char **m = apr_pcalloc(q->p, 2 * sizeof(*m));

        m[0] = if_match;
        q->svc.if_match = m;
    }
    scim_svc_patch(&q->svc, SCIM_RES_USER, id,
                   J(q, apr_pstrcat(q->p, PATCH_OP, op, "]}", NULL)), &q->res);
    return q->res.status;
}

/* PATCHes that only set values go out as one UPDATE that merges them
 * inside PostgreSQL (scim_store_user_set): each must give what the whole
 * patch gives in memory (scim_patch_apply on the document read before),
 * keep the columns in step, and move the version. */
static void user_set_agrees(const char *tag)
{
    static const char *const ops[] = {
        "{\"op\":\"replace\",\"value\":{\"active\":false}}",
        "{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"True\"}",
        /* no name yet: created with the one sub-attribute */
        "{\"op\":\"Add\",\"path\":\"name.givenName\",\"value\":\"Bee\"},"
        "{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"B \\u00e9\"}",
        "{\"op\":\"replace\",\"value\":{\"name.middleName\":\"Q\",\"Title\":"
        "\"T\",\"nickName\":\"N\",\"password\":\"p\"}}",
        /* merged into the name there */
        "{\"op\":\"add\",\"path\":\"name.formatted\",\"value\":\"F\"}", NULL
    };
    const char *uid, *gid, *etag = NULL;
    req_t *q;
    int i;

    q = req(1);
    scim_svc_create(&q->svc, SCIM_RES_USER,
                    J(q,
                      apr_psprintf(q->p,
                                   "{\"schemas\":[\"urn:ietf:params:scim:"
                                   "schemas:core:2.0:User\",\"urn:ietf:params"
                                   ":scim:schemas:extension:enterprise:2.0:"
                                   "User\"],\"userName\":\"%s-set\","
                                   "\"emails\":[{"
                                   "\"value\":\"s@example.com\",\"primary\":"
                                   "true}],\"urn:ietf:params:scim:schemas:"
                                   "extension:enterprise:2.0:User\":{"
                                   "\"department\":\"D\"}}",
                                   tag)),
                    &q->res);
    uid = apr_pstrdup(root, q->res.status == 201 ? str_at(body_of(q), "id") : "");
    ok(*uid, "user for the set PATCHes: 201 (%d)", q->res.status);
    q = req(1);
    scim_svc_create(&q->svc, SCIM_RES_GROUP,
                    J(q,
                      apr_psprintf(q->p,
                                   "{\"schemas\":[\"urn:ietf:params:scim:"
                                   "schemas:core:2.0:Group\"],\"displayName"
                                   "\":\"%s-setg\",\"members\":[{\"value\":"
                                   "\"%s\"}]}",
                                   tag, uid)),
                    &q->res);
    gid = apr_pstrdup(root, q->res.status == 201 ? str_at(body_of(q), "id") : "");
    ok(*gid, "in a group: 201 (%d)", q->res.status);

    for (i = 0; ops[i]; i++) {
        const char *body = apr_pstrcat(root, PATCH_OP, ops[i], "]}", NULL);
        json_t *before, *want, *got, *after, *set;
        scim_fault_t f = { 0, NULL, NULL };

        q = req(1);
        ok(scim_patch_user_set(q->p, uid, J(q, body), 100, &set),
           "op %d only sets values", i);
        scim_svc_get(&q->svc, SCIM_RES_USER, uid, NULL, NULL, &q->res);
        before = stored_part(q, body_of(q));
        etag = apr_pstrdup(root, q->res.etag ? q->res.etag : "");
        if (scim_patch_apply(q->p, scim_schema_user(), uid, before, J(q, body),
                             100, &want, NULL, &f)
            != APR_SUCCESS) {
            ok(0, "op %d applies in memory: %s", i, f.detail);
            continue;
        }
        q = req(1);
        scim_svc_patch(&q->svc, SCIM_RES_USER, uid, J(q, body), &q->res);
        got = body_of(q);
        ok(q->res.status == 200 && got && json_equal(stored_part(q, got), want),
           "op %d: 200, and PostgreSQL's merge is the in-memory patch (%d %s)",
           i, q->res.status, q->res.body ? q->res.body : "");
        ok(q->res.etag && strcmp(q->res.etag, etag), "op %d: the version moved",
           i);
        ok(json_is_array(json_object_get(got, "groups"))
               && json_array_size(json_object_get(got, "groups")) == 1,
           "op %d: the response holds the user's group", i);
        q = req(1);
        scim_svc_get(&q->svc, SCIM_RES_USER, uid, NULL, NULL, &q->res);
        after = body_of(q);
        ok(after && json_equal(stored_part(q, after), want),
           "op %d: and a GET reads the same", i);
        ok(!strcmp(columns(uid), columns_of(q, want)),
           "op %d: display_name and active columns follow (%s)", i, columns(uid));
    }

    /* The store's statement on its own (the service may take either path):
     * on a user without a name (the object is created) and on one with. */
    {
        /* a new user without a name: the name object is created; then a
         * set without active on it (stored false: the column must stay
         * false); then the user with a name */
        static const char *const sets[] = {
            "{\"name\":{\"givenName\":\"S\"},\"displayName\":\"Direct\","
            "\"active\":false}",
            "{\"title\":\"Only a title\"}",
            "{\"name\":{\"familyName\":\"T\"},\"title\":\"\u00fc\","
            "\"active\":true}"
        };
        const char *fresh = create_user(apr_pstrcat(root, tag, "-direct", NULL));

        for (i = 0; i < 3; i++) {
            const char *who = i < 2 ? fresh : uid;
            json_t *before, *want;
            scim_res_t *row = NULL;
            apr_status_t rv;

            q = req(1);
            scim_svc_get(&q->svc, SCIM_RES_USER, who ? who : "", NULL, NULL,
                         &q->res);
            before = q->res.status == 200 ? stored_part(q, body_of(q)) : NULL;
            ok(before
                   && (i == 0 ? !json_object_get(before, "name")
                           : i == 1
                           ? json_is_false(json_object_get(before, "active"))
                           : json_object_get(before, "name") != NULL),
               "direct set %d: the user %s", i,
               i == 0       ? "has no name"
                   : i == 1 ? "is inactive"
                            : "has a name");
            if (!before) {
                continue;
            }
            want = scim_patch_set_apply(q->p, before, J(q, sets[i]));
            q = req(1);
            rv = scim_store_user_set(&q->store, who, NULL, sets[i], &row);
            ok(rv == APR_SUCCESS && row
                   && json_equal(stored_part(q, J(q, row->json)), want),
               "direct set %d: PostgreSQL merges as scim_patch_set_apply does "
               "(%s)",
               i, row ? row->json : "no row");
            ok(!strcmp(columns(who), columns_of(q, want)),
               "direct set %d: the columns follow (%s)", i, columns(who));
        }
        q = req(1);
        scim_svc_delete(&q->svc, SCIM_RES_USER, fresh ? fresh : "", &q->res);
    }

    /* the member's display in its group follows displayName */
    q = req(1);
    scim_svc_get(&q->svc, SCIM_RES_GROUP, gid, NULL, NULL, &q->res);
    ok(!strcmp(str_at(json_array_get(json_object_get(body_of(q), "members"), 0),
                      "display")
                   ? str_at(json_array_get(json_object_get(body_of(q), "members"),
                                           0),
                            "display")
                   : "",
               "B \xc3\xa9"),
       "the group shows the new displayName of its member");

    /* If-Match, unknown ids, refused tokens: as for every PATCH */
    q = req(1);
    scim_svc_get(&q->svc, SCIM_RES_USER, uid, NULL, NULL, &q->res);
    etag = apr_pstrdup(root, q->res.etag ? q->res.etag : "");
    ok(set_patch(1, uid, "1", TITLE("stale")) == 412,
       "set PATCH with a stale If-Match: 412");
    q = req(1);
    scim_svc_get(&q->svc, SCIM_RES_USER, uid, NULL, NULL, &q->res);
    ok(strcmp(str_at(body_of(q), "title"), "stale") && q->res.etag
           && !strcmp(q->res.etag, etag),
       "and nothing changed");
    ok(set_patch(1, uid, apr_pstrndup(root, etag + 3, strlen(etag) - 4),
                 TITLE("current"))
           == 200,
       "set PATCH with the current If-Match: 200");
    ok(set_patch(1, "00000000-0000-4000-8000-000000000000", NULL,
                 "{\"op\":\"replace\",\"path\":\"active\",\"value\":false}")
           == 404,
       "set PATCH of an unknown user: 404");
    ok(set_patch(1, "not-a-uuid", NULL,
                 "{\"op\":\"replace\",\"path\":\"active\",\"value\":false}")
           == 404,
       "set PATCH of an id that is no uuid: 404");
    ok(set_patch(0, uid, NULL, TITLE("denied")) == 401,
       "set PATCH with a refused token: 401");
    q = req(1);
    scim_svc_get(&q->svc, SCIM_RES_USER, uid, NULL, NULL, &q->res);
    ok(!strcmp(str_at(body_of(q), "title"), "current"),
       "and only the PATCH with the current If-Match was written");
    q = req(1);
    scim_svc_delete(&q->svc, SCIM_RES_GROUP, gid, &q->res);
    q = req(1);
    scim_svc_delete(&q->svc, SCIM_RES_USER, uid, &q->res);
    ok(q->res.status == 204, "the set PATCHes' user deleted");
}

int main(int argc, char **argv)
{
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    const char *err = NULL, *tag, *u1, *u2, *u3, *gid, *etag, *v1;
    req_t *q;
    json_t *b;

    if (argc != 4) {
        fprintf(stderr, "usage: %s CONNINFO TENANT TOKEN\n", argv[0]);
        return 2;
    }
    apr_initialize();
    apr_pool_create(&root, NULL);
    tenant = argv[2];
    token = argv[3];
    claims(token);
    if (apr_dbd_init(root) || apr_dbd_get_driver(root, "pgsql", &driver)
        || apr_dbd_open_ex(driver, root, argv[1], &handle, &err)) {
        fprintf(stderr, "cannot connect: %s\n", err ? err : "?");
        return 2;
    }
    db = scim_db_wrap(root, driver, handle);
    tag = apr_psprintf(root, "svc%" APR_TIME_T_FMT, apr_time_now());

    /* --- a token the store refuses: 401, nothing read or written */
    q = req(0);
    scim_svc_create(&q->svc, SCIM_RES_USER,
                    J(q,
                      apr_psprintf(q->p,
                                   "{\"schemas\":[\"urn:ietf:params:scim:"
                                   "schemas:core:2.0:User\"],\"userName\":"
                                   "\"%s-denied\"}",
                                   tag)),
                    &q->res);
    ok(q->res.status == 401 && q->res.unauthorized && q->res.token_sent,
       "create with a token whose hash is not stored: 401 (%d)", q->res.status);
    ok(!q->store.verified, "and the request is not verified");
    ok(users_named(apr_pstrcat(root, tag, "-denied", NULL)) == 0,
       "and no user was written");
    q = req(0);
    scim_svc_discovery(&q->svc, "/ServiceProviderConfig", &q->res);
    scim_svc_finish(&q->svc, &q->res);
    ok(q->res.status == 401, "discovery with that token: 401 at the finish");

    /* --- users */
    q = req(1);
    scim_svc_create(&q->svc, SCIM_RES_USER,
                    J(q,
                      apr_psprintf(q->p,
                                   "{\"schemas\":[\"urn:ietf:params:scim:"
                                   "schemas:core:2.0:User\"],\"userName\":"
                                   "\"%s-alice\",\"title\":\"A\"}",
                                   tag)),
                    &q->res);
    b = body_of(q);
    u1 = apr_pstrdup(root, str_at(b, "id") ? str_at(b, "id") : "");
    ok(q->res.status == 201 && *u1, "create user: 201 (%d)", q->res.status);
    ok(q->store.verified && q->store.token.user_name && q->store.token.tenant_id,
       "the store verified the token and filled its row");
    ok(q->res.location
           && !strcmp(q->res.location,
                      apr_pstrcat(root, BASE, "/Users/", u1, NULL)),
       "Location is the user's URL");
    ok(q->res.etag && !strncmp(q->res.etag, "W/\"", 3), "with an ETag (%s)",
       q->res.etag ? q->res.etag : "none");
    v1 = apr_pstrdup(root, q->res.etag ? q->res.etag : "");

    q = req(1);
    scim_svc_get(&q->svc, SCIM_RES_USER, u1, NULL, NULL, &q->res);
    b = body_of(q);
    ok(q->res.status == 200 && b
           && !strcmp(str_at(b, "userName"),
                      apr_pstrcat(root, tag, "-alice", NULL)),
       "get user: 200 with its userName");
    q = req(1);
    q->svc.if_none_match = (const char *[]){
        apr_pstrndup(root, v1 + 3, strlen(v1) - 4), NULL
    };
    scim_svc_get(&q->svc, SCIM_RES_USER, u1, NULL, NULL, &q->res);
    ok(q->res.status == 304 && !q->res.body, "If-None-Match the version: 304");
    q = req(1);
    scim_svc_get(&q->svc, SCIM_RES_USER, "00000000-0000-4000-8000-000000000000",
                 NULL, NULL, &q->res);
    ok(q->res.status == 404, "get unknown user: 404");

    q = req(1);
    q->svc.if_match = (const char *[]){ "999999", NULL };
    scim_svc_replace(&q->svc, SCIM_RES_USER, u1,
                     J(q,
                       apr_psprintf(q->p,
                                    "{\"schemas\":[\"urn:ietf:params:scim:"
                                    "schemas:core:2.0:User\"],\"userName\":"
                                    "\"%s-alice\",\"title\":\"Stale\"}",
                                    tag)),
                     &q->res);
    ok(q->res.status == 412,
       "replace with If-Match of another version: 412 (%d)", q->res.status);
    q = req(1);
    scim_svc_get(&q->svc, SCIM_RES_USER, u1, NULL, NULL, &q->res);
    ok(!strcmp(str_at(body_of(q), "title"), "A"), "and nothing changed");
    q = req(1);
    q->svc.if_match = (const char *[]){
        apr_pstrndup(root, v1 + 3, strlen(v1) - 4), NULL
    };
    scim_svc_replace(&q->svc, SCIM_RES_USER, u1,
                     J(q,
                       apr_psprintf(q->p,
                                    "{\"schemas\":[\"urn:ietf:params:scim:"
                                    "schemas:core:2.0:User\"],\"userName\":"
                                    "\"%s-alice\",\"title\":\"Put\"}",
                                    tag)),
                     &q->res);
    ok(q->res.status == 200 && !strcmp(str_at(body_of(q), "title"), "Put"),
       "replace with If-Match of the current version: 200 (%d)", q->res.status);
    ok(q->res.etag && strcmp(q->res.etag, v1), "and the version moved on");

    q = req(1);
    scim_svc_patch(&q->svc, SCIM_RES_USER, u1,
                   J(q,
                     PATCH_OP "{\"op\":\"Replace\",\"path\":\"title\","
                              "\"value\":\"Patched\"}]}"),
                   &q->res);
    ok(q->res.status == 200 && !strcmp(str_at(body_of(q), "title"), "Patched"),
       "patch user: 200 with the resource (%d)", q->res.status);
    q = req(1);
    scim_svc_patch(&q->svc, SCIM_RES_USER, u1,
                   J(q,
                     PATCH_OP "{\"op\":\"replace\",\"path\":\"id\","
                              "\"value\":\"x\"}]}"),
                   &q->res);
    ok(q->res.status == 400 && q->res.scim_type
           && !strcmp(q->res.scim_type, "mutability"),
       "patch of id: 400 mutability");

    ok(users_named(apr_pstrcat(root, tag, "-alice", NULL)) == 1,
       "list with filter userName eq: 1 result");
    ok(users_named(apr_pstrcat(root, tag, "-ALICE", NULL)) == 1,
       "userName eq compares case-insensitively");
    q = req(1);
    scim_svc_list(&q->svc, SCIM_RES_USER,
                  (apr_table_t *)apr_table_make(q->p, 1), &q->res);
    ok(q->res.status == 200, "list without a filter: 200");
    {
        apr_table_t *t = apr_table_make(q->p, 1);

        q = req(1);
        apr_table_setn(t, "filter", "userName zz \"x\"");
        scim_svc_list(&q->svc, SCIM_RES_USER, t, &q->res);
        ok(q->res.status == 400 && !strcmp(q->res.scim_type, "invalidFilter"),
           "a bad filter: 400 invalidFilter");
        q = req(1);
        t = apr_table_make(q->p, 1);
        apr_table_setn(t, "sortBy", "password");
        scim_svc_list(&q->svc, SCIM_RES_USER, t, &q->res);
        ok(q->res.status == 400 && !strcmp(q->res.scim_type, "invalidValue"),
           "an unsortable sortBy: 400 invalidValue (%d %s)", q->res.status,
           q->res.scim_type ? q->res.scim_type : "-");
    }

    /* --- groups, and PATCH of members as deltas */
    u2 = create_user(apr_pstrcat(root, tag, "-bob", NULL));
    u3 = create_user(apr_pstrcat(root, tag, "-carol", NULL));
    ok(u2 && u3, "two more users");
    q = req(1);
    scim_svc_create(&q->svc, SCIM_RES_GROUP,
                    J(q,
                      apr_psprintf(q->p,
                                   "{\"schemas\":[\"urn:ietf:params:scim:"
                                   "schemas:core:2.0:Group\"],\"displayName"
                                   "\":\"%s-g\",\"members\":[{\"value\":"
                                   "\"%s\"}]}",
                                   tag, u1)),
                    &q->res);
    gid = apr_pstrdup(root,
                      str_at(body_of(q), "id") ? str_at(body_of(q), "id") : "");
    ok(q->res.status == 201 && *gid, "create group with a member: 201");
    ok(!strcmp(members(gid), u1), "its member");

    ok(patch_group(gid, 1, NULL,
                   apr_psprintf(root,
                                "{\"op\":\"add\",\"path\":\"members\",\"value\""
                                ":[{\"value\":\"%s\",\"display\":\"Bob\"}]}",
                                u2),
                   &etag)
           == 204,
       "group PATCH add member: 204");
    ok(etag && !strncmp(etag, "W/\"", 3), "with the new ETag (%s)",
       etag ? etag : "none");
    ok(!strcmp(members(gid), sorted2(u1, u2)), "two members");
    ok(patch_group(gid, 1, NULL,
                   apr_psprintf(root,
                                "{\"op\":\"remove\",\"path\":\"members[value eq"
                                " \\\"%s\\\"]\"}",
                                u1),
                   NULL)
           == 204,
       "group PATCH remove members[value eq]: 204");
    ok(!strcmp(members(gid), u2), "only the other member left");
    ok(patch_group(gid, 0, NULL,
                   apr_psprintf(root,
                                "{\"op\":\"add\",\"path\":\"members\",\"value\""
                                ":[{\"value\":\"%s\"}]}",
                                u3),
                   NULL)
           == 401,
       "group PATCH with a refused token: 401");
    ok(!strcmp(members(gid), u2), "and the members did not change");
    ok(patch_group(gid, 1, "12345",
                   apr_psprintf(root,
                                "{\"op\":\"add\",\"path\":\"members\",\"value\""
                                ":[{\"value\":\"%s\"}]}",
                                u3),
                   NULL)
           == 412,
       "group PATCH with a stale If-Match: 412");
    ok(!strcmp(members(gid), u2), "and the members did not change");
    ok(patch_group(gid, 1, NULL,
                   apr_psprintf(root,
                                "{\"op\":\"Add\",\"path\":\"members\",\"value\":"
                                "[{\"value\":\"%s\"}]},{\"op\":\"Remove\","
                                "\"path\":\"members\",\"value\":[{\"value\":"
                                "\"%s\"}]},{\"op\":\"Replace\",\"path\":"
                                "\"displayName\",\"value\":\"%s-g2\"}",
                                u3, u2, tag),
                   NULL)
           == 204,
       "Entra's add, remove by value array and rename in one PATCH: 204");
    ok(!strcmp(members(gid), u3), "the members changed by the delta");
    q = req(1);
    scim_svc_get(&q->svc, SCIM_RES_GROUP, gid, NULL, NULL, &q->res);
    ok(!strcmp(str_at(body_of(q), "displayName"),
               apr_pstrcat(root, tag, "-g2", NULL)),
       "and the group renamed");
    ok(patch_group(gid, 1, NULL,
                   apr_psprintf(root,
                                "{\"op\":\"replace\",\"path\":\"members\","
                                "\"value\":[{\"value\":\"%s\"},{\"value\":"
                                "\"%s\"}]}",
                                u1, u2),
                   NULL)
           == 204,
       "replace of all members (the whole list): 204");
    ok(!strcmp(members(gid), sorted2(u1, u2)), "exactly the new members");
    ok(patch_group(gid, 1, NULL,
                   "{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":"
                   "\"00000000-0000-4000-8000-000000000000\"}]}",
                   NULL)
           == 400,
       "adding a member that is not a user of the tenant: 400");
    ok(!strcmp(members(gid), sorted2(u1, u2)), "and nothing changed");

    /* --- Bulk with a bulkId reference */
    q = req(1);
    scim_svc_bulk(&q->svc,
                  J(q,
                    apr_psprintf(q->p,
                                 "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:"
                                 "BulkRequest\"],\"Operations\":[{\"method\":\"POST\",\"path\":"
                                 "\"/Users\",\"bulkId\":\"u\",\"data\":{\"schemas\":[\"urn:ietf:"
                                 "params:scim:schemas:core:2.0:User\"],\"userName\":\"%s-bulk\"}},"
                                 "{\"method\":\"PATCH\",\"path\":\"/Groups/%s\",\"data\":{"
                                 "\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp"
                                 "\"],\"Operations\":[{\"op\":\"add\",\"path\":\"members\","
                                 "\"value\":[{\"value\":\"bulkId:u\"}]}]}}]}",
                                 tag, gid)),
                  &q->res);
    b = body_of(q);
    {
        json_t *ops = json_object_get(b, "Operations");
        const char *loc = str_at(json_array_get(ops, 0), "location");
        const char *bid = loc && strrchr(loc, '/') ? strrchr(loc, '/') + 1 : "";

        ok(q->res.status == 200 && json_array_size(ops) == 2
               && !strcmp(str_at(json_array_get(ops, 0), "status"), "201")
               && !strcmp(str_at(json_array_get(ops, 1), "status"), "204"),
           "Bulk POST user + PATCH group with bulkId: 200 with 201, 204");
        ok(strstr(members(gid), bid) && *bid,
           "the group got the user created in the same request");
    }

    /* --- deletes */
    q = req(1);
    scim_svc_delete(&q->svc, SCIM_RES_USER, u1, &q->res);
    ok(q->res.status == 204, "delete user: 204");
    q = req(1);
    scim_svc_get(&q->svc, SCIM_RES_USER, u1, NULL, NULL, &q->res);
    ok(q->res.status == 404, "then get: 404");
    ok(!strstr(members(gid), u1), "and it left its group");
    q = req(0);
    scim_svc_delete(&q->svc, SCIM_RES_GROUP, gid, &q->res);
    ok(q->res.status == 401, "delete group with a refused token: 401");
    q = req(1);
    scim_svc_delete(&q->svc, SCIM_RES_GROUP, gid, &q->res);
    ok(q->res.status == 204, "delete group: 204");
    q = req(1);
    scim_svc_get(&q->svc, SCIM_RES_GROUP, gid, NULL, NULL, &q->res);
    ok(q->res.status == 404, "then get: 404");

    user_set_agrees(tag);

    /* --- discovery */
    q = req(1);
    scim_svc_discovery(&q->svc, "/ServiceProviderConfig", &q->res);
    scim_svc_finish(&q->svc, &q->res);
    b = body_of(q);
    ok(q->res.status == 200
           && json_integer_value(
                  json_object_get(json_object_get(b, "bulk"), "maxPayloadSize"))
               == 1048576,
       "ServiceProviderConfig: 200 with the body limit");
    ok(q->store.verified, "verified at the finish");

    printf("1..%d\n", n);
    apr_dbd_close(driver, handle);
    apr_pool_destroy(root);
    apr_terminate();
    return failed ? 1 : 0;
}
