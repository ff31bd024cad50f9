/* PostgreSQL storage of SCIM Users and Groups (see scim_store_res.h).
 *
 * Every statement of a call starts with the token CTE "t" (the live token
 * with the request's jti, tenant slug, hash, subject and identity provider)
 * and returns its columns first; every other part of the statement is
 * scoped by t.tenant_id, so a statement run with a dead token finds no row
 * of t, reads nothing and writes nothing (and the call says
 * SCIM_STORE_EDENIED). Fixed statements go out under a label, prepared once
 * per pooled connection (scim_db_hot); filters compiled to SQL go out
 * unlabelled. The representation is the stored document's text with id,
 * meta and groups/members spliced in (scim_json_splice). */

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "scim_filter.h"
#include "scim_json.h"
#include "scim_store_filter.h"
#include "scim_store_res.h"
#include "scim_util.h"

#define MAX_ARGS 64

/* ---- the token, fused into every statement ---------------------------- */

/* One probe of tokens' jti index: the row carries its tenant's slug, its
 * provider's type and its account's username, copied and kept by the
 * database (sql/010_token_check.sql). */
#define TOKEN_CTE                                                     \
    "WITH t AS (SELECT k.id AS token_id, k.tenant_id, k.account_id, " \
    "k.account_name AS token_user, k.idp_type FROM tokens k "         \
    "WHERE k.jti = %s AND k.tenant_slug = %s "                        \
    "AND k.token_hash = decode(%s, 'hex') "                           \
    "AND k.account_id::text = lower(%s) AND k.idp_type = %s "         \
    "AND k.deleted_at IS NULL AND k.expires_at > now())"
#define TOKEN_COLS \
    "t.token_id, t.tenant_id, t.account_id, t.token_user, t.idp_type"
#define NTOKEN 5 /* columns and parameters of the token */

/* A nil id for ids that are not UUIDs: no row has it, and the statement
 * still checks the token. */
#define NO_ID "00000000-0000-0000-0000-000000000000"

/* userName and group displayName compare under NFKC and case folding
 * (sql/003_name_keys.sql): the stored key against the key of the argument,
 * which the unique index serves. The statements compute the argument's key
 * with scim_name_key_sql(), which PostgreSQL inlines into their plans; the
 * generated columns use the plpgsql scim_name_key() (sql/012_row_rules.sql).
 * An update is checked against the rows that hold a name, not against the
 * exempt twins of a collision; a row marked exempt by migration 3 stays so
 * while its name keeps the same key. */
#define NAME_FREE(table, key)                                                \
    "(NOT EXISTS (SELECT 1 FROM " table " o WHERE o.tenant_id = "            \
    "r.tenant_id AND o.id <> r.id AND o.name_key_exempt IS NULL AND o." key  \
    " = scim_name_key_sql(%s)) OR (r.name_key_exempt IS NOT NULL AND r." key \
    " = scim_name_key_sql(%s)))"

#define TS(col) SCIM_DB_TS(col)

/* The "members" elements of a group, with the base URL mark (as
 * accounts.groups holds the "groups" elements of a user). */
#define MEMBER_ELEM                                                  \
    "'{\"value\":\"' || a.id || '\",\"display\":' || "               \
    "to_json(coalesce(a.display_name, a.user_name))::text || "       \
    "',\"$ref\":\"' || chr(1) || '/Users/' || a.id || '\",\"type\":" \
    "\"User\"}'"
#define MEMBER_AGG \
    "string_agg(" MEMBER_ELEM ", ',' ORDER BY lower(a.user_name), a.id)"
/* ... of group g as stored; each member looked up by primary key (OFFSET 0
 * keeps the lookup from turning into a scan of the tenant's accounts). */
#define MEMBERS_OF(g)                                                    \
    "(SELECT " MEMBER_AGG " FROM group_members m CROSS JOIN LATERAL "    \
    "(SELECT x.id, x.user_name, x.display_name FROM accounts x "         \
    "WHERE x.id = m.account_id AND x.tenant_id = m.tenant_id OFFSET 0) " \
    "a WHERE m.tenant_id = " g ".tenant_id AND m.group_id = " g ".id)"
/* ... of the users with the ids of a uuid[] parameter. "= ANY(array)" and
 * "<> ALL(array)", never "IN (SELECT unnest(array))": PostgreSQL 15 hashes
 * the array whatever the plan, while a semi-join planned on statistics that
 * do not know yet about thousands of new users (a tenant's first big group)
 * became a nested loop, rescanning the array per account: quadratic, seen
 * as a 10 000-member POST /Groups cut off by the statement timeout. */
#define MEMBERS_IN                                                            \
    "(SELECT " MEMBER_AGG " FROM accounts a WHERE a.tenant_id = t.tenant_id " \
    "AND a.kind = 'user' AND a.id = ANY(%s::uuid[]))"
/* Whether every id of a uuid[] parameter (distinct) is a user of t. */
#define MEMBERS_OK                                                      \
    "(SELECT count(*) = cardinality(%s::uuid[]) FROM accounts a WHERE " \
    "a.id = ANY(%s::uuid[]) AND a.tenant_id = t.tenant_id AND a.kind = 'user')"

/* Statements over a group's members go out unlabelled (label NULL): their
 * plans depend on the group's size, and a plan kept from when the tables
 * were small (a connection keeps it until the statistics change) can be
 * quadratic in the members. */

/* Run a statement that starts with TOKEN_CTE and whose rows start with
 * TOKEN_COLS; args are the statement's own parameters, after the token's.
 * SCIM_STORE_EDENIED when it returned no row (the token is not live). */
static apr_status_t fused(scim_store_req_t *rq, const char *label,
                          const char *sql, int nargs, const char **args,
                          scim_rows_t **rows)
{
    const char *all[MAX_ARGS];
    apr_status_t rv;

    *rows = NULL;
    if (nargs + NTOKEN > MAX_ARGS) {
        rq->db->error = "too many statement arguments";
        return APR_EGENERAL;
    }
    all[0] = rq->jti;
    all[1] = rq->tenant_slug;
    all[2] = scim_hex(rq->pool, rq->token_hash, sizeof(rq->token_hash));
    all[3] = rq->sub;
    all[4] = rq->idp;
    if (nargs > 0) { /* args may be NULL with none: memcpy's NULL is UB */
        memcpy(all + NTOKEN, args, sizeof(*args) * (apr_size_t)nargs);
    }
    rv = scim_db_hot(rq->db, rq->pool, rows, label, sql, nargs + NTOKEN, all);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((*rows)->nrows == 0) {
        rq->verified = 0;
        return SCIM_STORE_EDENIED;
    }
    if (!rq->verified) {
        rq->token.token_id = scim_rows_get(*rows, 0, 0);
        rq->token.tenant_id = scim_rows_get(*rows, 0, 1);
        rq->token.account_id = scim_rows_get(*rows, 0, 2);
        rq->token.user_name = scim_rows_get(*rows, 0, 3);
        rq->token.idp_type = scim_rows_get(*rows, 0, 4);
        rq->verified = 1;
    }
    return APR_SUCCESS;
}

/* A write that failed in PostgreSQL (not "no row"): when the token was not
 * checked yet, check it, so that a dead token never learns more than 401. */
static apr_status_t failed(scim_store_req_t *rq, apr_status_t rv)
{
    const char *err = rq->db->error;
    char sqlstate[sizeof(rq->db->sqlstate)];

    memcpy(sqlstate, rq->db->sqlstate, sizeof(sqlstate));
    if (rv != SCIM_STORE_EDENIED && !rq->verified
        && scim_store_verify(rq) == SCIM_STORE_EDENIED) {
        return SCIM_STORE_EDENIED;
    }
    /* the write's failure, not the check's success */
    rq->db->error = err;
    memcpy(rq->db->sqlstate, sqlstate, sizeof(sqlstate));
    return rv;
}

static const char *cell(const scim_rows_t *rows, int i, int col)
{
    return scim_rows_get(rows, i, NTOKEN + col);
}

apr_status_t scim_store_verify(scim_store_req_t *rq)
{
    scim_rows_t *rows;

    return fused(rq, "scim_s_verify", TOKEN_CTE " SELECT " TOKEN_COLS " FROM t",
                 0, NULL, &rows);
}

/* ---- representation ----------------------------------------------------- */

/* The version number of an ETag value (W/"12", "12" or 12); "-1" (no
 * version has it) when it is not one of ours. */
static const char *version_number(apr_pool_t *p, const char *v)
{
    const char *s;
    apr_size_t n;

    if (!strncmp(v, "W/", 2)) {
        v += 2;
    }
    n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    if (n == 0 || n > 18) {
        return "-1";
    }
    for (s = v; s < v + n; s++) {
        if (*s < '0' || *s > '9') {
            return "-1";
        }
    }
    return apr_pstrmemdup(p, v, n);
}

static const char *if_number(apr_pool_t *p, const char *if_version)
{
    return if_version ? version_number(p, if_version) : NULL;
}

/* The resource from its stored document and columns: id, meta and the
 * groups (users) or members (groups) spliced into the document's text. */
static apr_status_t assemble(scim_store_req_t *rq, scim_res_type_e type,
                             const char *id, const char *version, const char *doc,
                             const char *elems, const char *created,
                             const char *updated, scim_res_t **out)
{
    apr_pool_t *p = rq->pool;
    int user = type == SCIM_RES_USER;
    const char *parts[2];
    scim_res_t *res;

    if (!id || !version || !doc || !created || !updated) {
        rq->db->error = "incomplete resource row";
        return APR_EGENERAL;
    }
    res = apr_palloc(p, sizeof(*res));
    res->id = id;
    res->version = apr_pstrcat(p, "W/\"", version, "\"", NULL);
    parts[0] = apr_pstrcat(p, "\"id\":\"", id, "\",\"meta\":{\"resourceType\":\"",
                           user ? "User" : "Group", "\",\"created\":\"",
                           created, "\",\"lastModified\":\"", updated,
                           "\",\"version\":\"W/\\\"", version,
                           "\\\"\",\"location\":\"\001",
                           user ? "/Users/" : "/Groups/", id, "\"}", NULL);
    parts[1] = elems && *elems
        ? apr_pstrcat(p, user ? "\"groups\":[" : "\"members\":[", elems, "]", NULL)
        : NULL;
    res->json = scim_json_splice(p, doc, strlen(doc), parts, 2, rq->base_url);
    if (!res->json) {
        rq->db->error = "stored document is not a JSON object";
        return APR_EGENERAL;
    }
    *out = res;
    return APR_SUCCESS;
}

/* Columns id, version, doc, elements, created, updated from col on. */
#define RES_COLS(alias, elems)                                  \
    alias ".id, " alias ".version, " alias ".doc::text, " elems \
          ", " TS(alias ".created_at") ", " TS(alias ".updated_at")

/* The same after a write, whose document the caller has: not read back. */
#define WRITTEN_COLS(alias, elems)                     \
    alias ".id, " alias ".version, NULL::text, " elems \
          ", " TS(alias ".created_at") ", " TS(alias ".updated_at")

static apr_status_t res_at(scim_store_req_t *rq, scim_res_type_e type,
                           const scim_rows_t *rows, int i, int col,
                           scim_res_t **out)
{
    return assemble(rq, type, cell(rows, i, col), cell(rows, i, col + 1),
                    cell(rows, i, col + 2), cell(rows, i, col + 3),
                    cell(rows, i, col + 4), cell(rows, i, col + 5), out);
}

/* ---- reads -------------------------------------------------------------- */

static const char *const GET_USER = TOKEN_CTE
    " SELECT " TOKEN_COLS
    ", " RES_COLS("r", "r.groups") " FROM t LEFT JOIN accounts r ON r.tenant_id = t.tenant_id "
                                   "AND r.id = %s::uuid AND r.kind = 'user'";

static const char *const GET_GROUP = TOKEN_CTE
    " SELECT " TOKEN_COLS
    ", " RES_COLS("r",
                  "CASE WHEN %s::boolean THEN " MEMBERS_OF(
                      "r") " END") " FROM t LEFT JOIN groups r ON r.tenant_id = t.tenant_id "
                                   "AND r.id = %s::uuid";

static const char *id_arg(const char *id)
{
    return id && scim_is_uuid(id) ? id : NO_ID;
}

static const char *bool_arg(int b)
{
    return b ? "true" : "false";
}

apr_status_t scim_store_res_get(scim_store_req_t *rq, scim_res_type_e type,
                                const char *id, int with_members,
                                scim_res_t **out)
{
    const char *args[2];
    scim_rows_t *rows;
    apr_status_t rv;

    *out = NULL;
    if (type == SCIM_RES_USER) {
        args[0] = id_arg(id);
        rv = fused(rq, "scim_s_get_user", GET_USER, 1, args, &rows);
    }
    else {
        args[0] = bool_arg(with_members);
        args[1] = id_arg(id);
        rv = fused(rq, with_members ? NULL : "scim_s_get_group", GET_GROUP, 2,
                   args, &rows);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!cell(rows, 0, 0)) {
        return APR_ENOENT;
    }
    return res_at(rq, type, rows, 0, 0, out);
}

static const char *const LOAD_USER = TOKEN_CTE
    " SELECT " TOKEN_COLS ", r.doc::text, r.version FROM t "
    "LEFT JOIN accounts r ON r.tenant_id = t.tenant_id AND r.id = %s::uuid "
    "AND r.kind = 'user'";
static const char *const LOAD_GROUP = TOKEN_CTE
    " SELECT " TOKEN_COLS ", r.doc::text, r.version FROM t "
    "LEFT JOIN groups r ON r.tenant_id = t.tenant_id AND r.id = %s::uuid";

apr_status_t scim_store_res_load(scim_store_req_t *rq, scim_res_type_e type,
                                 const char *id, const char **doc,
                                 const char **version)
{
    const char *args[1];
    scim_rows_t *rows;
    apr_status_t rv;

    *doc = *version = NULL;
    args[0] = id_arg(id);
    rv = type == SCIM_RES_USER
        ? fused(rq, "scim_s_load_user", LOAD_USER, 1, args, &rows)
        : fused(rq, "scim_s_load_group", LOAD_GROUP, 1, args, &rows);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!cell(rows, 0, 1)) {
        return APR_ENOENT;
    }
    *doc = cell(rows, 0, 0);
    *version = apr_pstrcat(rq->pool, "W/\"", cell(rows, 0, 1), "\"", NULL);
    return APR_SUCCESS;
}

apr_status_t scim_store_group_members(scim_store_req_t *rq, const char *id,
                                      apr_array_header_t **members)
{
    const char *args[1];
    scim_rows_t *rows;
    apr_status_t rv;
    int i;

    *members = apr_array_make(rq->pool, 0, sizeof(const char *));
    args[0] = id_arg(id);
    rv = fused(rq, NULL,
               TOKEN_CTE " SELECT " TOKEN_COLS ", r.id, m.account_id FROM t "
                         "LEFT JOIN groups r ON r.tenant_id = t.tenant_id "
                         "AND r.id = %s::uuid LEFT JOIN group_members m "
                         "ON m.tenant_id = r.tenant_id AND m.group_id = r.id "
                         "ORDER BY m.account_id",
               1, args, &rows);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!cell(rows, 0, 0)) {
        return APR_ENOENT;
    }
    for (i = 0; i < rows->nrows; i++) {
        if (cell(rows, i, 1)) {
            APR_ARRAY_PUSH(*members, const char *) = cell(rows, i, 1);
        }
    }
    return APR_SUCCESS;
}

/* ---- writes ------------------------------------------------------------- */

/* "{id1,id2}" for a uuid[] parameter, each id once; APR_EINVAL if one is
 * not a uuid, unless drop_bad (then it is left out: no user has it).
 * skip: ids to leave out (may be NULL). */
static apr_status_t uuid_array(apr_pool_t *p, const apr_array_header_t *ids,
                               int drop_bad, apr_hash_t *skip, apr_hash_t *seen,
                               const char **out)
{
    char *s, *d;
    int i, n = 0;

    *out = "{}";
    if (!ids) {
        return APR_SUCCESS;
    }
    d = s = apr_palloc(p, (apr_size_t)ids->nelts * 37 + 3);
    *d++ = '{';
    for (i = 0; i < ids->nelts; i++) {
        const char *id = APR_ARRAY_IDX(ids, i, const char *);
        char *key;
        int k;

        if (!id || !scim_is_uuid(id)) {
            if (drop_bad) {
                continue;
            }
            return APR_EINVAL;
        }
        key = apr_pstrmemdup(p, id, 36);
        for (k = 0; k < 36; k++) {
            key[k] = (char)((key[k] >= 'A' && key[k] <= 'F') ? key[k] + 32
                                                             : key[k]);
        }
        if ((skip && apr_hash_get(skip, key, 36)) || apr_hash_get(seen, key, 36)) {
            continue;
        }
        apr_hash_set(seen, key, 36, key);
        if (n++) {
            *d++ = ',';
        }
        memcpy(d, key, 36);
        d += 36;
    }
    *d++ = '}';
    *d = '\0';
    *out = s;
    return APR_SUCCESS;
}

static apr_status_t member_array(scim_store_req_t *rq,
                                 const apr_array_header_t *ids, const char **out)
{
    if (uuid_array(rq->pool, ids, 0, NULL, apr_hash_make(rq->pool), out)
        != APR_SUCCESS) {
        rq->db->error = "a member value is not a user id";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* A unique index refused the write (unique_violation): another resource
 * has this name. */
static int is_duplicate(const scim_db_t *db)
{
    return scim_db_sqlstate_is(db, "23505");
}

/* Why a write touched no row (the token was live): the resource is gone,
 * its version is not if_version, its new name is taken, or (else) one of
 * its new members is not a user. Read after the fact (a second round trip
 * only on this path). */
static apr_status_t why_not(scim_store_req_t *rq, scim_res_type_e type,
                            const char *id, const char *if_version,
                            const char *name)
{
    scim_rows_t *rows;
    apr_status_t rv;
    const char *v;

    rv = scim_db_selectv(
        rq->db, rq->pool, &rows,
        type == SCIM_RES_USER
            ? "SELECT r.version, EXISTS (SELECT 1 FROM accounts o WHERE "
              "o.tenant_id = r.tenant_id AND o.id <> r.id AND "
              "o.name_key_exempt IS NULL AND o.user_name_key = "
              "scim_name_key_sql(%s)) AND NOT (r.name_key_exempt IS NOT NULL AND "
              "r.user_name_key = scim_name_key_sql(%s)) FROM accounts r WHERE "
              "r.tenant_id = %s::uuid AND r.id = %s::uuid AND r.kind = 'user'"
            : "SELECT r.version, EXISTS (SELECT 1 FROM groups o WHERE "
              "o.tenant_id = r.tenant_id AND o.id <> r.id AND "
              "o.name_key_exempt IS NULL AND o.display_name_key = "
              "scim_name_key_sql(%s)) AND NOT (r.name_key_exempt IS NOT NULL AND "
              "r.display_name_key = scim_name_key_sql(%s)) FROM groups r WHERE "
              "r.tenant_id = %s::uuid AND r.id = %s::uuid",
        4, name ? name : "", name ? name : "", rq->token.tenant_id, id_arg(id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    v = scim_rows_get(rows, 0, 0);
    if (if_version && strcmp(version_number(rq->pool, if_version), v)) {
        return APR_EMISMATCH;
    }
    if (name && scim_rows_get(rows, 0, 1)[0] == 't') {
        rq->db->error = "the name is already taken";
        return APR_EEXIST;
    }
    if (!name || type == SCIM_RES_USER) {
        return APR_EMISMATCH; /* changed meanwhile */
    }
    rq->db->error = "a member is not a user of this tenant";
    return APR_EINVAL;
}

/* A write failed in PostgreSQL: 401 first (failed), then a unique index
 * that refused the name (a concurrent writer took it). */
static apr_status_t write_failed(scim_store_req_t *rq, apr_status_t rv)
{
    rv = failed(rq, rv);
    if (rv == APR_EGENERAL && is_duplicate(rq->db)) {
        return APR_EEXIST;
    }
    /* a member deleted between the check of the members and their insert:
     * the client named an account that is not (any more) a user here */
    if (rv == APR_EGENERAL && scim_db_sqlstate_is(rq->db, "23503")) {
        rq->db->error = "a member is not a user of this tenant";
        return APR_EINVAL;
    }
    return rv;
}

/* The columns of a group, in the order of its INSERT and UPDATE. */
static void group_args(const scim_res_write_t *w, const char **args)
{
    args[0] = w->name;
    args[1] = w->external_id;
    args[2] = w->doc;
}

/* The columns of a user, in the order of its INSERT and UPDATE. */
static void user_args(const scim_res_write_t *w, const char **args)
{
    args[0] = w->name;
    args[1] = w->external_id;
    args[2] = w->display_name;
    args[3] = bool_arg(w->active);
    args[4] = w->doc;
}

/* The name is checked by NOT EXISTS, in the statement's snapshot. A POST
 * (of a user, and of a group alike) has no ON CONFLICT clause: speculative insertion probes the arbiter
 * index again and writes a confirmation record, and NOT EXISTS plus ON
 * CONFLICT cost a loop of 20 000 INSERTs in plpgsql 20 us each over a plain
 * INSERT, against 9 for NOT EXISTS alone (100 k users). A concurrent POST of
 * the same name, which NOT EXISTS cannot see, fails the statement on the
 * unique index instead, and is_duplicate() answers it 409 like a taken name
 * by its SQLSTATE, whatever the server's lc_messages (t/80's twelve parallel
 * creations of one name; t/69 holds the other writer open, in German). */
static const char *const CREATE_USER = TOKEN_CTE
    ", i AS (INSERT INTO accounts (id, tenant_id, kind, user_name, "
    "external_id, display_name, active, billable, doc) "
    "SELECT %s::uuid, t.tenant_id, 'user', %s, %s, %s, %s::boolean, true, "
    "%s::jsonb FROM t WHERE NOT EXISTS (SELECT 1 FROM accounts o "
    "WHERE o.tenant_id = t.tenant_id AND o.user_name_key = "
    "scim_name_key_sql(%s)) RETURNING id, version, created_at, updated_at) "
    "SELECT " TOKEN_COLS
    ", " WRITTEN_COLS("i", "NULL::text") " FROM t LEFT JOIN i ON true";

static const char *const CREATE_GROUP = TOKEN_CTE
    ", i AS (INSERT INTO groups (id, tenant_id, display_name, "
    "external_id, doc) SELECT %s::uuid, t.tenant_id, %s, %s, %s::jsonb FROM t "
    "WHERE " MEMBERS_OK " AND NOT EXISTS (SELECT 1 FROM groups o "
    "WHERE o.tenant_id = t.tenant_id AND o.display_name_key = "
    "scim_name_key_sql(%s)) RETURNING *), "
    "m AS (INSERT INTO group_members (tenant_id, group_id, "
    "account_id) SELECT i.tenant_id, i.id, x FROM i, "
    "unnest(%s::uuid[]) x ON CONFLICT DO NOTHING) "
    "SELECT " TOKEN_COLS
    ", " WRITTEN_COLS("i", MEMBERS_IN) " FROM t LEFT JOIN i ON true";

apr_status_t scim_store_res_create(scim_store_req_t *rq, scim_res_type_e type,
                                   const scim_res_write_t *w, scim_res_t **out)
{
    const char *args[9], *arr = "{}";
    scim_rows_t *rows;
    apr_status_t rv;

    *out = NULL;
    /* the new resource's id, made here rather than by the columns' default
     * gen_random_uuid(): see scim_uuid7(). If the random generator fails
     * (it does not, short of a broken OpenSSL), the request ends as a server
     * error before its token is checked, as member_array() ends one; a
     * clash of two ids (74 random bits within one millisecond and tenant)
     * would read as a taken name. */
    if (!(args[0] = scim_uuid7(rq->pool, apr_time_now()))) {
        rq->db->error = "the random generator failed";
        return APR_EGENERAL;
    }
    if (type == SCIM_RES_USER) {
        user_args(w, args + 1);
        args[6] = w->name;
        rv = fused(rq, "scim_s_create_user", CREATE_USER, 7, args, &rows);
    }
    else {
        if (w->members && member_array(rq, w->members, &arr) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        group_args(w, args + 1);
        args[4] = arr;
        args[5] = arr;
        args[6] = w->name;
        args[7] = arr;
        args[8] = arr;
        rv = fused(rq, NULL, CREATE_GROUP, 9, args, &rows);
    }
    if (rv != APR_SUCCESS) {
        return write_failed(rq, rv);
    }
    if (!cell(rows, 0, 0)) {
        if (type == SCIM_RES_GROUP) {
            /* the name, or a member that is not a user */
            scim_rows_t *r2;

            rv = scim_db_selectv(rq->db, rq->pool, &r2,
                                 "SELECT 1 FROM groups WHERE tenant_id = "
                                 "%s::uuid AND display_name_key = "
                                 "scim_name_key_sql(%s)",
                                 2, rq->token.tenant_id, w->name);
            if (rv != APR_SUCCESS) {
                return rv;
            }
            if (r2->nrows == 0) {
                rq->db->error = "a member is not a user of this tenant";
                return APR_EINVAL;
            }
        }
        rq->db->error = "the name is already taken";
        return APR_EEXIST;
    }
    /* the document as written: jsonb keeps the same members */
    return assemble(rq, type, cell(rows, 0, 0), cell(rows, 0, 1), w->doc,
                    cell(rows, 0, 3), cell(rows, 0, 4), cell(rows, 0, 5), out);
}

static const char *const REPLACE_USER = TOKEN_CTE
    ", u AS (UPDATE accounts r SET user_name = %s, external_id = %s, "
    "display_name = %s, active = %s::boolean, doc = %s::jsonb, "
    "version = r.version + 1, updated_at = now() FROM t "
    "WHERE r.tenant_id = t.tenant_id AND r.id = %s::uuid "
    "AND r.kind = 'user' AND (%s::bigint IS NULL OR r.version = "
    "%s::bigint) AND " NAME_FREE("accounts",
                                 "user_name_key") " RETURNING r.id, r.version, r.groups, r.created_at, r.updated_at) SELECT " TOKEN_COLS
                                                  ", " WRITTEN_COLS("u",
                                                                    "u.groups") " FROM t LEFT JOIN u ON true";

/* A group's row and, when %s::boolean says so, its members made exactly the
 * given list (the difference only: a hashed NOT IN, linear). */
static const char *const REPLACE_GROUP = TOKEN_CTE
    ", u AS (UPDATE groups r SET display_name = %s, external_id = %s, "
    "doc = %s::jsonb, version = r.version + 1, updated_at = now() "
    "FROM t WHERE r.tenant_id = t.tenant_id AND r.id = %s::uuid "
    "AND (%s::bigint IS NULL OR r.version = %s::bigint) AND "
    "(NOT %s::boolean OR " MEMBERS_OK ") AND " NAME_FREE(
        "groups",
        "display_name_key") " RETURNING r.*), "
                            "d AS (DELETE FROM group_members m USING u WHERE %s::boolean "
                            "AND m.tenant_id = u.tenant_id AND m.group_id = u.id AND "
                            "m.account_id <> ALL(%s::uuid[])), "
                            "a AS (INSERT INTO group_members (tenant_id, group_id, "
                            "account_id) SELECT u.tenant_id, u.id, x FROM u, "
                            "unnest(%s::uuid[]) x WHERE %s::boolean ON CONFLICT DO NOTHING) "
                            "SELECT " TOKEN_COLS
                            ", " WRITTEN_COLS("u",
                                              "CASE WHEN %s::boolean THEN " MEMBERS_IN
                                              " ELSE " MEMBERS_OF(
                                                  "u") " END") " FROM t LEFT JOIN u ON true";

apr_status_t scim_store_res_replace(scim_store_req_t *rq, scim_res_type_e type,
                                    const char *id, const char *if_version,
                                    const scim_res_write_t *w, scim_res_t **out)
{
    const char *args[20], *arr = "{}", *v = if_number(rq->pool, if_version);
    const char *setm = bool_arg(w->members != NULL);
    scim_rows_t *rows;
    apr_status_t rv;

    *out = NULL;
    if (type == SCIM_RES_USER) {
        user_args(w, args);
        args[5] = id_arg(id);
        args[6] = v;
        args[7] = v;
        args[8] = w->name;
        args[9] = w->name;
        rv = fused(rq, "scim_s_replace_user", REPLACE_USER, 10, args, &rows);
    }
    else {
        if (w->members && member_array(rq, w->members, &arr) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        group_args(w, args);
        args[3] = id_arg(id);
        args[4] = v;
        args[5] = v;
        args[6] = setm;
        args[7] = arr;
        args[8] = arr;
        args[9] = w->name;
        args[10] = w->name;
        args[11] = setm;
        args[12] = arr;
        args[13] = arr;
        args[14] = setm;
        args[15] = setm;
        args[16] = arr;
        rv = fused(rq, NULL, REPLACE_GROUP, 17, args, &rows);
    }
    if (rv != APR_SUCCESS) {
        return write_failed(rq, rv);
    }
    if (!cell(rows, 0, 0)) {
        return why_not(rq, type, id, if_version, w->name);
    }
    return assemble(rq, type, cell(rows, 0, 0), cell(rows, 0, 1), w->doc,
                    cell(rows, 0, 3), cell(rows, 0, 4), cell(rows, 0, 5), out);
}

/* A user PATCH that only sets values (scim_patch_user_set): one UPDATE
 * with the set merged into the stored document inside PostgreSQL, as
 * scim_patch_set_apply defines it (a scalar assigned, an object merged
 * into the object there), and the columns derived from the new document
 * as write_from() in scim_service.c derives them for every other write
 * (display_name: its displayName when that is a string; active: whether
 * its active is true, true when absent, as the document then gets). The
 * row lock makes it atomic: no read, no retry. */
static const char *const SET_USER = TOKEN_CTE
    ", s AS (SELECT %s::jsonb AS j), "
    "u AS (UPDATE accounts r SET doc = '{\"active\": true}'::jsonb || "
    "r.doc || (SELECT coalesce(jsonb_object_agg(e.key, CASE WHEN "
    "jsonb_typeof(e.value) = 'object' AND jsonb_typeof(r.doc -> e.key) = "
    "'object' THEN (r.doc -> e.key) || e.value ELSE e.value END), "
    "'{}'::jsonb) FROM jsonb_each(s.j) e), display_name = CASE WHEN "
    "jsonb_typeof(coalesce(s.j -> 'displayName', r.doc -> 'displayName')) "
    "= 'string' THEN coalesce(s.j -> 'displayName', r.doc -> "
    "'displayName') #>> '{}' END, active = coalesce(s.j -> 'active', "
    "r.doc -> 'active', 'true'::jsonb) = 'true'::jsonb, version = "
    "r.version + 1, updated_at = now() FROM t, s WHERE r.tenant_id = "
    "t.tenant_id AND r.id = %s::uuid AND r.kind = 'user' AND (%s::bigint "
    "IS NULL OR r.version = %s::bigint) RETURNING r.id, r.version, r.doc, "
    "r.groups, r.created_at, r.updated_at) "
    "SELECT " TOKEN_COLS
    ", " RES_COLS("u", "u.groups") " FROM t LEFT JOIN u ON true";

apr_status_t scim_store_user_set(scim_store_req_t *rq, const char *id,
                                 const char *if_version, const char *set,
                                 scim_res_t **out)
{
    const char *args[4], *v = if_number(rq->pool, if_version);
    scim_rows_t *rows;
    apr_status_t rv;

    *out = NULL;
    args[0] = set;
    args[1] = id_arg(id);
    args[2] = v;
    args[3] = v;
    rv = fused(rq, "scim_s_set_user", SET_USER, 4, args, &rows);
    if (rv != APR_SUCCESS) {
        return write_failed(rq, rv);
    }
    if (!cell(rows, 0, 0)) {
        return why_not(rq, SCIM_RES_USER, id, if_version, NULL);
    }
    return res_at(rq, SCIM_RES_USER, rows, 0, 0, out);
}

/* A group PATCH: the row (when w is given), the version, and the member
 * deltas, each an index lookup per changed id. The members' versions and
 * groups follow by the triggers of sql/005_versions.sql. */
static const char *const PATCH_GROUP = TOKEN_CTE
    ", u AS (UPDATE groups r SET display_name = "
    "coalesce(%s, r.display_name), external_id = CASE WHEN "
    "%s::boolean THEN %s ELSE r.external_id END, doc = "
    "coalesce(%s::jsonb, r.doc), version = r.version + 1, "
    "updated_at = now() FROM t WHERE r.tenant_id = t.tenant_id "
    "AND r.id = %s::uuid AND (%s::bigint IS NULL OR r.version = "
    "%s::bigint) AND " MEMBERS_OK " AND (%s::text IS NULL OR " NAME_FREE(
        "groups",
        "display_name_key") ") RETURNING r.*), "
                            "d AS (DELETE FROM group_members m USING u WHERE m.group_id = "
                            "u.id AND m.account_id = ANY(%s::uuid[]) AND m.tenant_id = "
                            "u.tenant_id), "
                            "a AS (INSERT INTO group_members (tenant_id, group_id, "
                            "account_id) SELECT u.tenant_id, u.id, x FROM u, "
                            "unnest(%s::uuid[]) x ON CONFLICT DO NOTHING) "
                            "SELECT " TOKEN_COLS
                            ", u.id, u.version FROM t LEFT JOIN u ON true";

apr_status_t scim_store_group_patch(scim_store_req_t *rq, const char *id,
                                    const char *if_version,
                                    const scim_res_write_t *w,
                                    const apr_array_header_t *add,
                                    const apr_array_header_t *remove,
                                    const char **version)
{
    apr_pool_t *p = rq->pool;
    apr_hash_t *added = apr_hash_make(p);
    const char *args[16], *adds = "{}", *rems = "{}";
    const char *v = if_number(p, if_version);
    scim_rows_t *rows;
    apr_status_t rv;

    *version = NULL;
    /* net deltas: an id in both lists is added; removing an id that is not
     * a uuid removes nothing (no user has it), adding one is invalid */
    if (uuid_array(p, add, 0, NULL, added, &adds) != APR_SUCCESS
        || uuid_array(p, remove, 1, added, apr_hash_make(p), &rems)
            != APR_SUCCESS) {
        rq->db->error = "a member value is not a user id";
        return APR_EINVAL;
    }
    args[0] = w ? w->name : NULL;
    args[1] = bool_arg(w != NULL);
    args[2] = w ? w->external_id : NULL;
    args[3] = w ? w->doc : NULL;
    args[4] = id_arg(id);
    args[5] = v;
    args[6] = v;
    args[7] = adds;
    args[8] = adds;
    args[9] = w ? w->name : NULL;
    args[10] = w ? w->name : NULL;
    args[11] = w ? w->name : NULL;
    args[12] = rems;
    args[13] = adds;
    rv = fused(rq, NULL, PATCH_GROUP, 14, args, &rows);
    if (rv != APR_SUCCESS) {
        return write_failed(rq, rv);
    }
    if (!cell(rows, 0, 0)) {
        return why_not(rq, SCIM_RES_GROUP, id, if_version,
                       w && w->name ? w->name : "");
    }
    *version = apr_pstrcat(p, "W/\"", cell(rows, 0, 1), "\"", NULL);
    return APR_SUCCESS;
}

/* A user leaves its groups: their versions move on here, the memberships
 * go by the cascade (and nobody is left to regroup). */
static const char *const DELETE_USER = TOKEN_CTE
    ", d AS (DELETE FROM accounts r USING t WHERE r.tenant_id = "
    "t.tenant_id AND r.id = %s::uuid AND r.kind = 'user' AND "
    "(%s::bigint IS NULL OR r.version = %s::bigint) "
    "RETURNING r.id, r.tenant_id), "
    "g AS (UPDATE groups x SET version = x.version + 1, updated_at "
    "= now() FROM group_members m, d WHERE m.tenant_id = d.tenant_id "
    "AND m.account_id = d.id AND x.tenant_id = m.tenant_id AND "
    "x.id = m.group_id) "
    "SELECT " TOKEN_COLS ", d.id FROM t LEFT JOIN d ON true";
static const char *const DELETE_GROUP = TOKEN_CTE
    ", d AS (DELETE FROM groups r USING t WHERE r.tenant_id = "
    "t.tenant_id AND r.id = %s::uuid AND (%s::bigint IS NULL OR "
    "r.version = %s::bigint) RETURNING r.id) "
    "SELECT " TOKEN_COLS ", d.id FROM t LEFT JOIN d ON true";

apr_status_t scim_store_res_delete(scim_store_req_t *rq, scim_res_type_e type,
                                   const char *id, const char *if_version)
{
    const char *args[3], *v = if_number(rq->pool, if_version);
    scim_rows_t *rows;
    apr_status_t rv;

    args[0] = id_arg(id);
    args[1] = v;
    args[2] = v;
    rv = type == SCIM_RES_USER
        ? fused(rq, "scim_s_delete_user", DELETE_USER, 3, args, &rows)
        : fused(rq, "scim_s_delete_group", DELETE_GROUP, 3, args, &rows);
    if (rv != APR_SUCCESS) {
        return failed(rq, rv);
    }
    if (!cell(rows, 0, 0)) {
        rv = why_not(rq, type, id, if_version, NULL);
        return rv == APR_EINVAL || rv == APR_EEXIST ? APR_ENOENT : rv;
    }
    return APR_SUCCESS;
}

/* ---- lists -------------------------------------------------------------- */

static int named(const scim_attr_t *a, const char *n)
{
    return a && !strcmp(a->name, n);
}

/* userName eq "x" or externalId eq "x" (case-exact) alone: the fixed
 * statement's column, or NULL. */
static const char *fixed_filter(const scim_resource_type_t *rt,
                                const scim_filter_t *f)
{
    if (!f || f->kind != SCIM_FILTER_CMP || f->op != SCIM_OP_EQ
        || f->lit != SCIM_LIT_STRING || f->in_element || f->ref.sub
        || f->ref.schema != rt->schema || rt->kind != SCIM_RES_USER) {
        return NULL;
    }
    if (named(f->ref.attr, "userName")) {
        return "u";
    }
    if (named(f->ref.attr, "externalId") && f->ref.attr->case_exact) {
        return "x";
    }
    return NULL;
}

#define LIST_USER_COLS RES_COLS("r", "r.groups") ", count(*) OVER ()"
#define LIST_PAGE \
    " ORDER BY r.created_at, r.id LIMIT %s::int OFFSET %s::int) x ON true"

/* userName eq and externalId eq, what Okta and Entra ask before every
 * create: one name, so (nearly always) one row or none. No count(*) OVER ()
 * here: a first page that is not full holds every match, and its length is
 * the total; only a full page or a later one asks for the count. */
#define FIXED_USER_LIST(cond)                                              \
    TOKEN_CTE " SELECT " TOKEN_COLS                                        \
              ", x.* FROM t LEFT JOIN LATERAL (SELECT " RES_COLS(          \
                  "r", "r.groups") " FROM accounts r WHERE r.tenant_id = " \
                                   "t.tenant_id AND " cond                 \
                                   " AND r.kind = 'user'" LIST_PAGE
static const char *const LIST_USER_NAME = FIXED_USER_LIST(
    "r.user_name_key = scim_name_key_sql(%s)");
static const char *const LIST_USER_EXT = FIXED_USER_LIST("r.external_id = %s");

apr_status_t scim_store_res_list(scim_store_req_t *rq, scim_res_type_e type,
                                 const scim_res_query_t *q, int *total,
                                 apr_array_header_t **out)
{
    apr_pool_t *p = rq->pool;
    const scim_resource_type_t *rt = type == SCIM_RES_USER ? scim_schema_user()
                                                           : scim_schema_group();
    apr_array_header_t *args = apr_array_make(p, 8, sizeof(const char *));
    const char *where = NULL, *order = NULL, *err = NULL, *from, *fixed;
    const char *cols, *sql, *label = NULL;
    scim_rows_t *rows;
    apr_status_t rv;
    int i, offset = q->start_index > 1 ? q->start_index - 1 : 0;
    apr_int64_t shown; /* offset + rows of the page: a total at least */

    *total = 0;
    *out = apr_array_make(p, q->count > 0 ? q->count : 1, sizeof(scim_res_t));
    /* the fixed statements order by creation, ascending: any other order
     * (sortBy, or sortOrder=descending alone) takes the general one */
    fixed = q->sort_by || q->descending || q->count <= 0
        ? NULL
        : fixed_filter(rt, q->filter);
    if (!fixed && q->filter
        && scim_filter_sql(p, rt, q->filter, args, &where, &err) != APR_SUCCESS) {
        rq->db->error = err;
        return APR_EINVAL;
    }
    if (q->sort_by
        && scim_filter_sort_sql(p, rt, q->sort_by, q->descending, &order, &err)
            != APR_SUCCESS) {
        rq->db->error = err;
        return APR_EINVAL;
    }
    from = type == SCIM_RES_USER
        ? " FROM accounts r WHERE r.tenant_id = t.tenant_id AND r.kind = 'user'"
        : " FROM groups r WHERE r.tenant_id = t.tenant_id";
    where = where ? apr_pstrcat(p, " AND (", where, ")", NULL) : "";
    if (q->count <= 0) {
        /* the total alone */
        sql = apr_pstrcat(p, TOKEN_CTE " SELECT " TOKEN_COLS ", (SELECT count(*)",
                          from, where, ") FROM t", NULL);
        rv = fused(rq, NULL, sql, args->nelts, (const char **)args->elts, &rows);
        if (rv == APR_SUCCESS) {
            *total = atoi(cell(rows, 0, 0));
        }
        return rv;
    }
    if (fixed) {
        args->nelts = 0;
        APR_ARRAY_PUSH(args, const char *) = q->filter->value;
        sql = *fixed == 'u' ? LIST_USER_NAME : LIST_USER_EXT;
        label = *fixed == 'u' ? "scim_s_list_name" : "scim_s_list_ext";
    }
    else {
        cols = type == SCIM_RES_USER
            ? LIST_USER_COLS
            : (q->with_members
                   ? RES_COLS("r", MEMBERS_OF("r")) ", count(*) OVER ()"
                   : RES_COLS("r", "NULL::text") ", count(*) OVER ()");
        sql = apr_pstrcat(p,
                          TOKEN_CTE " SELECT " TOKEN_COLS
                                    ", x.* FROM t LEFT JOIN LATERAL (SELECT ",
                          cols, from, where, " ORDER BY ",
                          order ? order : "r.created_at",
                          q->descending && !order ? " DESC" : "", ", r.id",
                          " LIMIT %s::int OFFSET %s::int) x ON true", NULL);
    }
    APR_ARRAY_PUSH(args, const char *) = apr_itoa(p, q->count);
    APR_ARRAY_PUSH(args, const char *) = apr_itoa(p, offset);
    rv = fused(rq, label, sql, args->nelts, (const char **)args->elts, &rows);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < rows->nrows && cell(rows, i, 0); i++) {
        scim_res_t *res;

        if (APR_SUCCESS != (rv = res_at(rq, type, rows, i, 0, &res))) {
            return rv;
        }
        *(scim_res_t *)apr_array_push(*out) = *res;
    }
    shown = (apr_int64_t)offset + i;
    if (i > 0 && !fixed) {
        *total = atoi(cell(rows, 0, 6));
        return APR_SUCCESS;
    }
    /* A page that is not full ends the matches, when it shows rows or
     * starts at the first: its offset and length are the total (an empty
     * first page is Okta's "is this userName taken?" before a create), in
     * the page's own snapshot; no second statement. */
    if (i < q->count && (i > 0 || offset == 0)) {
        *total = shown <= INT_MAX ? (int)shown : INT_MAX;
        return APR_SUCCESS;
    }
    /* An empty page past the end, or a full page of a fixed filter: the
     * total still counts. */
    args->nelts -= 2;
    if (fixed) {
        where = *fixed == 'u' ? " AND r.user_name_key = scim_name_key_sql(%s)"
                              : " AND r.external_id = %s";
    }
    sql = apr_pstrcat(p, TOKEN_CTE " SELECT " TOKEN_COLS ", (SELECT count(*)",
                      from, where, ") FROM t", NULL);
    rv = fused(rq, NULL, sql, args->nelts, (const char **)args->elts, &rows);
    if (rv == APR_SUCCESS) {
        /* A second statement, a second snapshot: a page that shows rows
         * counts at least up to its last one (a match deleted in between).
         * An empty page past the end shows nothing and raises nothing. */
        *total = atoi(cell(rows, 0, 0));
        if (i > 0 && shown <= INT_MAX && *total < shown) {
            *total = (int)shown;
        }
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
                       "WHERE n.slug = %s AND a.kind = 'user' AND "
                       "a.user_name_key = scim_name_key_sql(%s) "
                       "ORDER BY a.user_name = %s DESC, a.name_key_exempt "
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
