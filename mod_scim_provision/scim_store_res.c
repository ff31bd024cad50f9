/* PostgreSQL storage of SCIM Users and Groups (see scim_store_res.h).
 * THROWAWAY shim of issue 8's store interface over the SQL of before: the
 * token is checked by a statement of its own (scim_store_token_lookup), then
 * the statements of before run. The store helper's implementation replaces
 * this file. */

#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "scim_filter.h"
#include "scim_store.h"
#include "scim_store_int.h"
#include "scim_store_res.h"
#include "scim_util.h"


/* A resource's version (its ETag) covers everything its representation
 * shows; the version and the JSON are built by the plpgsql functions of
 * sql/002_hot_path.sql, whose plans PostgreSQL keeps per connection. */
#define USER_VERSION_SQL  "scim_user_version(r.tenant_id, r.id, r.version)"
#define GROUP_VERSION_SQL "scim_group_version(r.tenant_id, r.id, r.version)"
#define USER_JSON         "scim_user_json(r::accounts, b.url)"
#define GROUP_JSON        "scim_group_json(r::groups, b.url, true)"
#define GROUP_JSON_BARE   "scim_group_json(r::groups, b.url, false)"

/* userName and group displayName compare under NFKC and case folding
 * (sql/003_name_keys.sql): the stored key column against the key of the
 * argument, which the unique index serves. */
#define NAME_KEY_EQ(key, arg) key " = scim_name_key(" arg ")"
/* A row marked exempt by migration 3 (its name collided) stays so while its
 * name keeps the same key (the argument is the new name). */
/* An update is checked against the rows that hold a name, not against the
 * exempt twins of a collision: otherwise the row that kept the name could
 * never be updated again (not even deactivated). */
#define NOT_EXEMPT(alias) alias ".name_key_exempt IS NULL"
#define STAYS_EXEMPT(key) \
    "(r.name_key_exempt IS NOT NULL AND " NAME_KEY_EQ(key, "%s") ")"

/* A page of a list as SQL: where/order are fragments over alias r compiled
 * from a filter and sortBy (parameters in params, in text order). */
typedef struct {
    const char *where;
    apr_array_header_t *params; /* const char * */
    const char *order;
    int descending;
    int start_index; /* 1-based */
    int count;
    int with_members;
} sql_query_t;

static const char *version_sql(scim_res_type_e type)
{
    return type == SCIM_RES_USER ? USER_VERSION_SQL : GROUP_VERSION_SQL;
}

static const char *json_expr(scim_res_type_e type, int with_members)
{
    if (type == SCIM_RES_USER) {
        return USER_JSON;
    }
    return with_members ? GROUP_JSON : GROUP_JSON_BARE;
}

/* The table and the condition that makes a row a resource of this type. */
static const char *from_where(scim_res_type_e type)
{
    return type == SCIM_RES_USER
        ? "accounts r, (SELECT %s::text AS url) b "
          "WHERE r.tenant_id = %s::uuid AND r.kind = 'user'"
        : "groups r, (SELECT %s::text AS url) b "
          "WHERE r.tenant_id = %s::uuid";
}

static scim_res_t *res_from(apr_pool_t *p, const scim_rows_t *rows, int i)
{
    scim_res_t *res = apr_pcalloc(p, sizeof(*res));

    res->id = scim_rows_get(rows, i, 0);
    res->version = scim_rows_get(rows, i, 1);
    res->json = scim_rows_get(rows, i, 2);
    return res;
}

static apr_status_t old_get(scim_db_t *db, apr_pool_t *p,
                                scim_res_type_e type, const char *tenant_id,
                                const char *id, const char *base_url,
                                int with_members, scim_res_t **out)
{
    scim_rows_t *rows;
    apr_status_t rv;

    *out = NULL;
    if (!scim_is_uuid(id)) {
        return APR_ENOENT;
    }
    rv = scim_db_selectv(db, p, &rows,
                         apr_pstrcat(p, "SELECT r.id, ", version_sql(type),
                                     ", ", json_expr(type, with_members),
                                     " FROM ", from_where(type),
                                     " AND r.id = %s::uuid", NULL),
                         3, base_url, tenant_id, id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *out = res_from(p, rows, 0);
    return APR_SUCCESS;
}

/* "{id1,id2}" for a uuid[] parameter; APR_EINVAL if one is not a uuid. */
static apr_status_t uuid_array(apr_pool_t *p, const apr_array_header_t *ids,
                               const char **out)
{
    char *s, *d;
    int i;

    /* one allocation: 36 characters and a separator per id */
    d = s = apr_palloc(p, (apr_size_t)ids->nelts * 37 + 3);
    *d++ = '{';
    for (i = 0; i < ids->nelts; i++) {
        const char *id = APR_ARRAY_IDX(ids, i, const char *);

        if (!scim_is_uuid(id)) {
            return APR_EINVAL;
        }
        if (i) {
            *d++ = ',';
        }
        memcpy(d, id, 36);
        d += 36;
    }
    *d++ = '}';
    *d = '\0';
    *out = s;
    return APR_SUCCESS;
}

/* ids as a uuid[] literal, or NULL when empty. */
static const char *id_list(apr_pool_t *p, const apr_array_header_t *ids)
{
    const char *arr = NULL;

    if (ids->nelts && uuid_array(p, ids, &arr) != APR_SUCCESS) {
        return NULL;
    }
    return arr;
}

/* Make the group's members exactly the given accounts of the tenant. Only
 * the difference with the current members is written, and every statement
 * is an index lookup per id: linear in the size of the group and of the
 * list (no "= ANY" over one list for each row of the other). */
static apr_status_t set_members(scim_db_t *db, apr_pool_t *p,
                                const char *tenant_id, const char *group_id,
                                const apr_array_header_t *members)
{
    apr_hash_t *want = apr_hash_make(p), *have = apr_hash_make(p);
    apr_array_header_t *add, *gone;
    scim_rows_t *rows;
    const char *arr;
    apr_status_t rv;
    int i;

    for (i = 0; i < members->nelts; i++) {
        const char *id = APR_ARRAY_IDX(members, i, const char *);

        if (!scim_is_uuid(id)) {
            db->error = "a member value is not a user id";
            return APR_EINVAL;
        }
        apr_hash_set(want, id, APR_HASH_KEY_STRING, id);
    }
    rv = scim_db_selectv(db, p, &rows,
                         "SELECT account_id FROM group_members "
                         "WHERE group_id = %s::uuid AND tenant_id = %s::uuid",
                         2, group_id, tenant_id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    gone = apr_array_make(p, 8, sizeof(const char *));
    for (i = 0; i < rows->nrows; i++) {
        const char *id = scim_rows_get(rows, i, 0);

        apr_hash_set(have, id, APR_HASH_KEY_STRING, id);
        if (!apr_hash_get(want, id, APR_HASH_KEY_STRING)) {
            APR_ARRAY_PUSH(gone, const char *) = id;
        }
    }
    add = apr_array_make(p, 8, sizeof(const char *));
    for (i = 0; i < members->nelts; i++) {
        const char *id = APR_ARRAY_IDX(members, i, const char *);

        if (!apr_hash_get(have, id, APR_HASH_KEY_STRING)
            && apr_hash_get(want, id, APR_HASH_KEY_STRING)) {
            APR_ARRAY_PUSH(add, const char *) = id;
            apr_hash_set(want, id, APR_HASH_KEY_STRING, NULL);
        }
    }
    if ((arr = id_list(p, add))) {
        rv = scim_db_selectv(db, p, &rows,
                             "SELECT count(*) FROM accounts WHERE "
                             "id = ANY(%s::uuid[]) AND tenant_id = %s::uuid "
                             "AND kind = 'user'",
                             2, arr, tenant_id);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (atoi(scim_rows_get(rows, 0, 0)) != add->nelts) {
            db->error = "a member is not a user of this tenant";
            return APR_EINVAL;
        }
        rv = scim_db_execv(db, p, NULL,
                           "INSERT INTO group_members (tenant_id, group_id, "
                           "account_id) SELECT %s::uuid, %s::uuid, u "
                           "FROM unnest(%s::uuid[]) u ON CONFLICT DO NOTHING",
                           3, tenant_id, group_id, arr);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if ((arr = id_list(p, gone))) {
        rv = scim_db_execv(db, p, NULL,
                           "DELETE FROM group_members WHERE group_id = %s::uuid "
                           "AND tenant_id = %s::uuid "
                           "AND account_id = ANY(%s::uuid[])",
                           3, group_id, tenant_id, arr);
    }
    return rv;
}

/* Run fn inside a transaction: commit on success, roll back otherwise. */
static apr_status_t in_txn(scim_db_t *db, apr_pool_t *p, apr_status_t rv)
{
    apr_status_t end;

    if (rv != APR_SUCCESS) {
        scim_db_rollback_only(db);
    }
    end = scim_db_end(db, p);
    return rv != APR_SUCCESS ? rv : end;
}

static const char *bool_arg(int b)
{
    return b ? "true" : "false";
}

static apr_status_t old_create(scim_db_t *db, apr_pool_t *p,
                                   scim_res_type_e type, const char *tenant_id,
                                   const scim_res_write_t *w,
                                   const char *base_url, scim_res_t **out)
{
    scim_rows_t *rows;
    apr_status_t rv;

    *out = NULL;
    if (type == SCIM_RES_USER) {
        /* One round trip: insert and build the JSON from what was
         * inserted (a new user belongs to no group). */
        rv = scim_db_selectv(db, p, &rows,
                             "WITH v AS (SELECT %s::uuid AS t, %s::text AS n), "
                             "r AS (INSERT INTO accounts (tenant_id, kind, user_name, "
                             "external_id, display_name, active, billable, doc) "
                             "SELECT v.t, 'user', v.n, %s, %s, %s::boolean, true, %s::jsonb "
                             "FROM v WHERE NOT EXISTS (SELECT 1 FROM accounts o "
                             "WHERE o.tenant_id = v.t AND " NAME_KEY_EQ(
                                 "o.user_name_key",
                                 "v.n") ") ON CONFLICT DO NOTHING RETURNING *) "
                                        "SELECT r.id, " USER_VERSION_SQL
                                        ", " USER_JSON
                                        " FROM r, (SELECT %s::text AS url) b",
                             7, tenant_id, w->name, w->external_id,
                             w->display_name, bool_arg(w->active), w->doc,
                             base_url);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (rows->nrows == 0) {
            db->error = "userName is already taken";
            return APR_EEXIST;
        }
        *out = res_from(p, rows, 0);
        return APR_SUCCESS;
    }
    if (APR_SUCCESS != (rv = scim_db_begin(db, p))) {
        return rv;
    }
    rv = scim_db_selectv(db, p, &rows,
                         "WITH v AS (SELECT %s::uuid AS t, %s::text AS n) "
                         "INSERT INTO groups (tenant_id, display_name, "
                         "external_id, doc) SELECT v.t, v.n, %s, %s::jsonb "
                         "FROM v WHERE NOT EXISTS (SELECT 1 FROM groups o "
                         "WHERE o.tenant_id = v.t AND " NAME_KEY_EQ("o.display_name_key",
                                                                    "v.n") ") "
                                                                           "ON CONFLICT DO NOTHING RETURNING id",
                         4, tenant_id, w->name, w->external_id, w->doc);
    if (rv == APR_SUCCESS && rows->nrows == 0) {
        db->error = "displayName is already taken";
        rv = APR_EEXIST;
    }
    if (rv == APR_SUCCESS && w->members && w->members->nelts) {
        rv = set_members(db, p, tenant_id, scim_rows_get(rows, 0, 0), w->members);
    }
    if (rv == APR_SUCCESS) {
        rv = old_get(db, p, type, tenant_id,
                                scim_rows_get(rows, 0, 0), base_url, 1, out);
    }
    return in_txn(db, p, rv);
}

/* Why an update touched no row: gone, stale version or a name taken. */
static apr_status_t why_not_updated(scim_db_t *db, apr_pool_t *p,
                                    scim_res_type_e type, const char *tenant_id,
                                    const char *id, const char *if_version,
                                    const char *name)
{
    scim_rows_t *rows;
    apr_status_t rv;

    rv = scim_db_selectv(db, p, &rows,
                         type == SCIM_RES_USER
                             ? "SELECT " USER_VERSION_SQL ", EXISTS (SELECT 1 FROM "
                               "accounts o WHERE o.tenant_id = r.tenant_id AND o.id <> r.id "
                               "AND " NOT_EXEMPT(
                                   "o") " AND " NAME_KEY_EQ("o.user_name_key",
                                                            "%s") ") "
                                                                  "FROM accounts r WHERE r.tenant_id = %s::uuid "
                                                                  "AND r.id = %s::uuid AND r.kind = 'user'"
                             : "SELECT " GROUP_VERSION_SQL
                               ", EXISTS (SELECT 1 FROM "
                               "groups o WHERE o.tenant_id = r.tenant_id AND o.id <> r.id "
                               "AND " NOT_EXEMPT(
                                   "o") " AND " NAME_KEY_EQ("o.display_name_key",
                                                            "%s") ") "
                                                                  "FROM groups r WHERE r.tenant_id = %s::uuid "
                                                                  "AND r.id = %s::uuid",
                         3, name, tenant_id, id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    if (if_version && strcmp(if_version, scim_rows_get(rows, 0, 0))) {
        return APR_EMISMATCH;
    }
    db->error = "the name is already taken";
    return APR_EEXIST;
}

/* A unique index refused the write: another resource has this name. */
static int is_duplicate(const scim_db_t *db)
{
    return db->error && strstr(db->error, "duplicate key") != NULL;
}

static apr_status_t old_replace(scim_db_t *db, apr_pool_t *p,
                                    scim_res_type_e type, const char *tenant_id,
                                    const char *id, const char *if_version,
                                    const scim_res_write_t *w,
                                    const char *base_url, scim_res_t **out)
{
    scim_rows_t *rows;
    apr_status_t rv;
    int group = type == SCIM_RES_GROUP;

    *out = NULL;
    if (!scim_is_uuid(id)) {
        return APR_ENOENT;
    }
    if (group && APR_SUCCESS != (rv = scim_db_begin(db, p))) {
        return rv;
    }
    if (!group) {
        rv = scim_db_selectv(
            db, p, &rows,
            "WITH u AS (UPDATE accounts r SET user_name = %s, "
            "external_id = %s, display_name = %s, active = %s::boolean, "
            "doc = %s::jsonb, version = r.version + 1, updated_at = now() "
            "WHERE r.tenant_id = %s::uuid AND r.id = %s::uuid "
            "AND r.kind = 'user' AND (%s::text IS NULL OR " USER_VERSION_SQL
            " = %s) AND (NOT EXISTS (SELECT 1 FROM accounts o "
            "WHERE o.tenant_id = r.tenant_id AND o.id <> r.id AND " NOT_EXEMPT("o") " AND " NAME_KEY_EQ(
                "o.user_name_key",
                "%s") ") OR " STAYS_EXEMPT("r.user_name_key") ") RETURNING r.*) "
                                                              "SELECT r.id, " USER_VERSION_SQL
                                                              ", " USER_JSON
                                                              " FROM u r, "
                                                              "(SELECT %s::text AS url) b",
            12, w->name, w->external_id, w->display_name, bool_arg(w->active),
            w->doc, tenant_id, id, if_version, if_version, w->name, w->name,
            base_url);
    }
    else {
        rv = scim_db_selectv(
            db, p, &rows,
            "UPDATE groups r SET display_name = %s, external_id = %s, "
            "doc = %s::jsonb, version = r.version + 1, updated_at = now() "
            "WHERE r.tenant_id = %s::uuid AND r.id = %s::uuid "
            "AND (%s::text IS NULL OR " GROUP_VERSION_SQL " = %s) "
            "AND (NOT EXISTS (SELECT 1 FROM groups o WHERE "
            "o.tenant_id = r.tenant_id AND o.id <> r.id AND " NOT_EXEMPT(
                "o") " AND " NAME_KEY_EQ("o.display_name_key",
                                         "%s") ") OR " STAYS_EXEMPT("r.display_name_key") ") RETURNING r.id",
            9, w->name, w->external_id, w->doc, tenant_id, id, if_version,
            if_version, w->name, w->name);
    }
    if (rv != APR_SUCCESS && is_duplicate(db)) {
        rv = APR_EEXIST;
    }
    else if (rv == APR_SUCCESS && rows->nrows == 0) {
        rv = why_not_updated(db, p, type, tenant_id, id, if_version, w->name);
    }
    if (!group) {
        if (rv == APR_SUCCESS) {
            *out = res_from(p, rows, 0);
        }
        return rv;
    }
    if (rv == APR_SUCCESS && w->members) {
        rv = set_members(db, p, tenant_id, id, w->members);
    }
    if (rv == APR_SUCCESS) {
        rv = old_get(db, p, type, tenant_id, id, base_url, 1, out);
    }
    return in_txn(db, p, rv);
}

static apr_status_t old_load(scim_db_t *db, apr_pool_t *p,
                             scim_res_type_e type, const char *tenant_id,
                             const char *id, const char **doc,
                             const char **version)
{
    scim_rows_t *rows;
    apr_status_t rv;

    if (!scim_is_uuid(id)) {
        return APR_ENOENT;
    }
    rv = scim_db_selectv(db, p, &rows,
                         type == SCIM_RES_USER
                             ? "SELECT r.doc::text, " USER_VERSION_SQL
                               " FROM accounts r WHERE r.tenant_id = %s::uuid"
                               " AND r.id = %s::uuid AND r.kind = 'user'"
                             : "SELECT r.doc::text, " GROUP_VERSION_SQL
                               " FROM groups r WHERE r.tenant_id = %s::uuid"
                               " AND r.id = %s::uuid",
                         2, tenant_id, id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *doc = scim_rows_get(rows, 0, 0);
    *version = scim_rows_get(rows, 0, 1);
    return APR_SUCCESS;
}

static apr_status_t old_delete(scim_db_t *db, apr_pool_t *p,
                                   scim_res_type_e type, const char *tenant_id,
                                   const char *id, const char *if_version)
{
    scim_rows_t *rows;
    apr_status_t rv;

    if (!scim_is_uuid(id)) {
        return APR_ENOENT;
    }
    if (type == SCIM_RES_USER) {
        /* The user's groups change too: their ETags move on. */
        rv = scim_db_selectv(db, p, &rows,
                             "WITH d AS (DELETE FROM accounts r WHERE r.tenant_id = %s::uuid "
                             "AND r.id = %s::uuid AND r.kind = 'user' AND (%s::text IS NULL "
                             "OR " USER_VERSION_SQL " = %s) RETURNING r.id), "
                             "g AS (UPDATE groups SET version = version + 1, "
                             "updated_at = now() WHERE tenant_id = %s::uuid AND id IN "
                             "(SELECT group_id FROM group_members WHERE tenant_id = %s::uuid "
                             "AND account_id IN (SELECT id FROM d))) SELECT id FROM d",
                             6, tenant_id, id, if_version, if_version,
                             tenant_id, tenant_id);
    }
    else {
        rv = scim_db_selectv(db, p, &rows,
                             "DELETE FROM groups r WHERE r.tenant_id = "
                             "%s::uuid AND r.id = %s::uuid AND (%s::text IS "
                             "NULL OR " GROUP_VERSION_SQL " = %s) RETURNING r.id",
                             4, tenant_id, id, if_version, if_version);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        rv = why_not_updated(db, p, type, tenant_id, id, if_version, "");
        return rv == APR_EEXIST ? APR_ENOENT : rv;
    }
    return APR_SUCCESS;
}

static apr_status_t old_list(scim_db_t *db, apr_pool_t *p,
                                 scim_res_type_e type, const char *tenant_id,
                                 const sql_query_t *q, const char *base_url,
                                 int *total, apr_array_header_t **out)
{
    apr_array_header_t *args = apr_array_make(p, 8, sizeof(const char *));
    const char *sql, *where;
    scim_rows_t *rows;
    apr_status_t rv;
    int i;

    *total = 0;
    *out = apr_array_make(p, q->count > 0 ? q->count : 1, sizeof(scim_res_t));
    where = q->where ? apr_pstrcat(p, " AND (", q->where, ")", NULL) : "";
    APR_ARRAY_PUSH(args, const char *) = base_url;
    APR_ARRAY_PUSH(args, const char *) = tenant_id;
    if (q->params) {
        apr_array_cat(args, q->params);
    }
    if (q->count > 0) {
        APR_ARRAY_PUSH(args, const char *) = apr_itoa(p, q->count);
        APR_ARRAY_PUSH(args, const char *) = apr_itoa(p,
                                                      q->start_index > 1
                                                          ? q->start_index - 1
                                                          : 0);
        sql = apr_pstrcat(p, "SELECT r.id, ", version_sql(type), ", ",
                          json_expr(type, q->with_members),
                          ", count(*) OVER () FROM ", from_where(type), where,
                          " ORDER BY ", q->order ? q->order : "r.created_at",
                          q->descending ? " DESC" : "", ", r.id",
                          " LIMIT %s::int OFFSET %s::int", NULL);
        rv = scim_db_select(db, p, &rows, sql, args->nelts,
                            (const char **)args->elts);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        for (i = 0; i < rows->nrows; i++) {
            *(scim_res_t *)apr_array_push(*out) = *res_from(p, rows, i);
        }
        if (rows->nrows > 0) {
            *total = atoi(scim_rows_get(rows, 0, 3));
            return APR_SUCCESS;
        }
        /* An empty page: the total still counts. */
        args->nelts -= 2;
    }
    sql = apr_pstrcat(p, "SELECT count(*) FROM ", from_where(type), where, NULL);
    rv = scim_db_select(db, p, &rows, sql, args->nelts,
                        (const char **)args->elts);
    if (rv == APR_SUCCESS) {
        *total = atoi(scim_rows_get(rows, 0, 0));
    }
    return rv;
}

apr_status_t scim_store_account_active(scim_db_t *db, apr_pool_t *p,
                                       const char *tenant_slug,
                                       const char *user_name, int *active)
{
    scim_rows_t *rows;
    apr_status_t rv;

    rv = scim_db_readv(db, p, &rows,
                       "SELECT a.active FROM accounts a "
                       "JOIN tenants n ON n.id = a.tenant_id "
                       "WHERE n.slug = %s AND a.kind = 'user' AND " NAME_KEY_EQ(
                           "a.user_name_key",
                           "%s") " ORDER BY a.user_name = %s DESC, a.name_key_exempt "
                                 "NULLS FIRST LIMIT 1",
                       3, tenant_slug, user_name, user_name);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *active = scim_rows_get(rows, 0, 0)[0] == 't';
    return APR_SUCCESS;
}

/* ---- the interface of issue 8 over the functions above ----------------- */

/* The token check of the first call of a request (a statement of its own
 * here; the real store fuses it into the call's statement). */
static apr_status_t verified(scim_store_req_t *rq)
{
    scim_live_token_t *row;
    apr_status_t rv;

    if (rq->verified) {
        return APR_SUCCESS;
    }
    rv = scim_store_token_lookup(rq->db, rq->pool, rq->tenant_slug, rq->jti,
                                 &row);
    if (rv == APR_ENOENT) {
        return SCIM_STORE_EDENIED;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!scim_ct_equal(rq->token_hash, row->hash, sizeof(row->hash))
        || !rq->sub || strcasecmp(row->account_id, rq->sub) || !rq->idp
        || strcmp(row->idp_type, rq->idp)) {
        return SCIM_STORE_EDENIED;
    }
    rq->token.token_id = row->token_id;
    rq->token.tenant_id = row->tenant_id;
    rq->token.account_id = row->account_id;
    rq->token.user_name = row->user_name;
    rq->token.idp_type = row->idp_type;
    rq->verified = 1;
    return APR_SUCCESS;
}

apr_status_t scim_store_verify(scim_store_req_t *rq)
{
    return verified(rq);
}

apr_status_t scim_store_res_get(scim_store_req_t *rq, scim_res_type_e type,
                                const char *id, int with_members,
                                scim_res_t **out)
{
    apr_status_t rv = verified(rq);

    *out = NULL;
    return rv != APR_SUCCESS ? rv
                             : old_get(rq->db, rq->pool, type,
                                       rq->token.tenant_id, id, rq->base_url,
                                       with_members, out);
}

apr_status_t scim_store_res_create(scim_store_req_t *rq, scim_res_type_e type,
                                   const scim_res_write_t *w, scim_res_t **out)
{
    apr_status_t rv = verified(rq);

    *out = NULL;
    return rv != APR_SUCCESS ? rv
                             : old_create(rq->db, rq->pool, type,
                                          rq->token.tenant_id, w, rq->base_url,
                                          out);
}

apr_status_t scim_store_res_replace(scim_store_req_t *rq, scim_res_type_e type,
                                    const char *id, const char *if_version,
                                    const scim_res_write_t *w, scim_res_t **out)
{
    apr_status_t rv = verified(rq);

    *out = NULL;
    return rv != APR_SUCCESS ? rv
                             : old_replace(rq->db, rq->pool, type,
                                           rq->token.tenant_id, id, if_version,
                                           w, rq->base_url, out);
}

apr_status_t scim_store_res_load(scim_store_req_t *rq, scim_res_type_e type,
                                 const char *id, const char **doc,
                                 const char **version)
{
    apr_status_t rv = verified(rq);

    return rv != APR_SUCCESS ? rv
                             : old_load(rq->db, rq->pool, type,
                                        rq->token.tenant_id, id, doc, version);
}

apr_status_t scim_store_group_members(scim_store_req_t *rq, const char *id,
                                      apr_array_header_t **members)
{
    scim_rows_t *rows;
    apr_status_t rv = verified(rq);
    int i;

    *members = apr_array_make(rq->pool, 0, sizeof(const char *));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!scim_is_uuid(id)) {
        return APR_ENOENT;
    }
    rv = scim_db_selectv(rq->db, rq->pool, &rows,
                         "SELECT account_id::text FROM group_members "
                         "WHERE tenant_id = %s::uuid AND group_id = %s::uuid "
                         "ORDER BY account_id",
                         2, rq->token.tenant_id, id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < rows->nrows; i++) {
        APR_ARRAY_PUSH(*members, const char *) = scim_rows_get(rows, i, 0);
    }
    return APR_SUCCESS;
}

/* Add and remove members (ids checked: users of the tenant). */
static apr_status_t member_delta(scim_db_t *db, apr_pool_t *p,
                                 const char *tenant_id, const char *group_id,
                                 const apr_array_header_t *add,
                                 const apr_array_header_t *remove)
{
    scim_rows_t *rows;
    const char *arr;
    apr_status_t rv;

    if (add && add->nelts) {
        if (uuid_array(p, add, &arr) != APR_SUCCESS) {
            db->error = "a member value is not a user id";
            return APR_EINVAL;
        }
        rv = scim_db_selectv(db, p, &rows,
                             "SELECT count(DISTINCT id) = (SELECT count(DISTINCT "
                             "u) FROM unnest(%s::uuid[]) u) FROM accounts "
                             "WHERE id = ANY(%s::uuid[]) AND tenant_id = "
                             "%s::uuid AND kind = 'user'",
                             3, arr, arr, tenant_id);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (strcmp(scim_rows_get(rows, 0, 0), "t")) {
            db->error = "a member is not a user of this tenant";
            return APR_EINVAL;
        }
        rv = scim_db_execv(db, p, NULL,
                           "INSERT INTO group_members (tenant_id, group_id, "
                           "account_id) SELECT %s::uuid, %s::uuid, u "
                           "FROM unnest(%s::uuid[]) u ON CONFLICT DO NOTHING",
                           3, tenant_id, group_id, arr);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (remove && remove->nelts) {
        apr_array_header_t *ids = apr_array_make(p, remove->nelts,
                                                 sizeof(const char *));
        int i;

        /* an id that is no uuid is no member: nothing to remove */
        for (i = 0; i < remove->nelts; i++) {
            const char *id = APR_ARRAY_IDX(remove, i, const char *);

            if (scim_is_uuid(id)) {
                APR_ARRAY_PUSH(ids, const char *) = id;
            }
        }
        if ((arr = id_list(p, ids))) {
            rv = scim_db_execv(db, p, NULL,
                               "DELETE FROM group_members WHERE group_id = "
                               "%s::uuid AND tenant_id = %s::uuid "
                               "AND account_id = ANY(%s::uuid[])",
                               3, group_id, tenant_id, arr);
            if (rv != APR_SUCCESS) {
                return rv;
            }
        }
    }
    return APR_SUCCESS;
}

apr_status_t scim_store_group_patch(scim_store_req_t *rq, const char *id,
                                    const char *if_version,
                                    const scim_res_write_t *w,
                                    const apr_array_header_t *add,
                                    const apr_array_header_t *remove,
                                    const char **version)
{
    scim_db_t *db = rq->db;
    apr_pool_t *p = rq->pool;
    const char *tenant_id;
    scim_rows_t *rows;
    apr_status_t rv = verified(rq);

    *version = NULL;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!scim_is_uuid(id)) {
        return APR_ENOENT;
    }
    tenant_id = rq->token.tenant_id;
    if (APR_SUCCESS != (rv = scim_db_begin(db, p))) {
        return rv;
    }
    if (w) {
        rv = scim_db_selectv(
            db, p, &rows,
            "UPDATE groups r SET display_name = %s, external_id = %s, "
            "doc = %s::jsonb, version = r.version + 1, updated_at = now() "
            "WHERE r.tenant_id = %s::uuid AND r.id = %s::uuid "
            "AND (%s::text IS NULL OR " GROUP_VERSION_SQL " = %s) "
            "AND (NOT EXISTS (SELECT 1 FROM groups o WHERE "
            "o.tenant_id = r.tenant_id AND o.id <> r.id AND " NOT_EXEMPT(
                "o") " AND " NAME_KEY_EQ("o.display_name_key",
                                         "%s") ") OR " STAYS_EXEMPT("r.display_name_key") ") RETURNING r.id",
            9, w->name, w->external_id, w->doc, tenant_id, id, if_version,
            if_version, w->name, w->name);
    }
    else {
        /* the row is locked: the version checked stays the one written */
        rv = scim_db_selectv(db, p, &rows,
                             "UPDATE groups r SET updated_at = now() WHERE "
                             "r.tenant_id = %s::uuid AND r.id = %s::uuid AND "
                             "(%s::text IS NULL OR " GROUP_VERSION_SQL " = %s) "
                             "RETURNING r.id",
                             4, tenant_id, id, if_version, if_version);
    }
    if (rv != APR_SUCCESS && is_duplicate(db)) {
        rv = APR_EEXIST;
    }
    else if (rv == APR_SUCCESS && rows->nrows == 0) {
        rv = why_not_updated(db, p, SCIM_RES_GROUP, tenant_id, id, if_version,
                             w ? w->name : "");
        if (rv == APR_EEXIST && !w) {
            rv = APR_ENOENT; /* cannot be: the name did not change */
        }
    }
    if (rv == APR_SUCCESS) {
        rv = member_delta(db, p, tenant_id, id, add, remove);
    }
    if (rv == APR_SUCCESS) {
        rv = scim_db_selectv(db, p, &rows,
                             "SELECT " GROUP_VERSION_SQL " FROM groups r "
                             "WHERE r.tenant_id = %s::uuid AND r.id = %s::uuid",
                             2, tenant_id, id);
        if (rv == APR_SUCCESS && rows->nrows == 1) {
            *version = scim_rows_get(rows, 0, 0);
        }
        else if (rv == APR_SUCCESS) {
            rv = APR_ENOENT;
        }
    }
    return in_txn(db, p, rv);
}

apr_status_t scim_store_res_delete(scim_store_req_t *rq, scim_res_type_e type,
                                   const char *id, const char *if_version)
{
    apr_status_t rv = verified(rq);

    return rv != APR_SUCCESS ? rv
                             : old_delete(rq->db, rq->pool, type,
                                          rq->token.tenant_id, id, if_version);
}

apr_status_t scim_store_res_list(scim_store_req_t *rq, scim_res_type_e type,
                                 const scim_res_query_t *q, int *total,
                                 apr_array_header_t **out)
{
    const scim_resource_type_t *rt = type == SCIM_RES_USER
        ? scim_schema_user()
        : scim_schema_group();
    apr_pool_t *p = rq->pool;
    const char *err = NULL;
    sql_query_t sq;
    apr_status_t rv = verified(rq);

    *total = 0;
    *out = apr_array_make(p, 1, sizeof(scim_res_t));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    memset(&sq, 0, sizeof(sq));
    sq.params = apr_array_make(p, 4, sizeof(const char *));
    if (q->filter
        && scim_filter_sql(p, rt, q->filter, sq.params, &sq.where, &err)
            != APR_SUCCESS) {
        rq->db->error = err;
        return APR_EINVAL;
    }
    if (q->sort_by
        && scim_filter_sort_sql(p, rt, q->sort_by, q->descending, &sq.order,
                                &err)
            != APR_SUCCESS) {
        rq->db->error = err;
        return APR_EINVAL;
    }
    sq.start_index = q->start_index;
    sq.count = q->count;
    sq.with_members = q->with_members;
    return old_list(rq->db, p, type, rq->token.tenant_id, &sq, rq->base_url,
                    total, out);
}
