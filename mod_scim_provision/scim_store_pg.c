/* PostgreSQL store for tenants, administrators, identity providers, tokens,
 * notifications and account summaries (see scim_store.h). Store layer: SQL
 * through scim_db.c; calls the core only. */

#include <string.h>

#include <apr_strings.h>

#include "scim_store.h"
#include "scim_token.h"
#include "scim_util.h"

#define TS(col)                  SCIM_DB_TS(col)

#define GENERATED_USERNAME_TRIES 8

static const char *cell(const scim_rows_t *rows, int r, int c)
{
    return scim_rows_get(rows, r, c);
}

static int is_true(const char *v)
{
    return v && (v[0] == 't' || v[0] == '1');
}

/* One '@' with text on both sides, no spaces, quotes or angle brackets, so
 * that the address can go into a mail header as it is. */
static int valid_email(const char *s)
{
    const char *at = strchr(s, '@');

    if (!at || at == s || !at[1] || strchr(at + 1, '@') || strlen(s) > 254) {
        return 0;
    }
    for (; *s; s++) {
        if ((unsigned char)*s <= ' ' || strchr("<>\"(),;:\\[]", *s)) {
            return 0;
        }
    }
    return 1;
}

apr_status_t scim_store_tenant_add(scim_db_t *db, apr_pool_t *p, const char *slug,
                                   const char *name, scim_tenant_t **out)
{
    scim_rows_t *rows;
    scim_tenant_t *t;
    apr_status_t rv;

    if (!scim_is_tenant_slug(slug)) {
        db->error = "a tenant slug is 1 to 63 of a-z, 0-9 and '-', "
                    "starting with a letter or digit";
        return APR_EINVAL;
    }
    rv = scim_db_selectv(db, p, &rows,
                         "INSERT INTO tenants (slug, name) VALUES (%s, %s) "
                         "ON CONFLICT DO NOTHING "
                         "RETURNING id, slug, name, " TS("created_at"),
                         2, slug, name);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        db->error = apr_psprintf(p, "tenant '%s' already exists", slug);
        return APR_EEXIST;
    }
    t = apr_pcalloc(p, sizeof(*t));
    t->id = cell(rows, 0, 0);
    t->slug = cell(rows, 0, 1);
    t->name = cell(rows, 0, 2);
    t->created_at = cell(rows, 0, 3);
    *out = t;
    return APR_SUCCESS;
}

static void tenant_from(const scim_rows_t *rows, int r, int c0, scim_tenant_t *t)
{
    t->id = cell(rows, r, c0);
    t->slug = cell(rows, r, c0 + 1);
    t->name = cell(rows, r, c0 + 2);
    t->created_at = cell(rows, r, c0 + 3);
}

apr_status_t scim_store_tenant_get(scim_db_t *db, apr_pool_t *p,
                                   const char *slug, scim_tenant_t **out)
{
    scim_rows_t *rows;
    apr_status_t rv;

    rv = scim_db_selectv(db, p, &rows,
                         "SELECT id, slug, name, " TS(
                             "created_at") " FROM tenants WHERE slug = %s",
                         1, slug);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        db->error = apr_psprintf(p, "no tenant '%s'", slug);
        return APR_ENOENT;
    }
    *out = apr_pcalloc(p, sizeof(scim_tenant_t));
    tenant_from(rows, 0, 0, *out);
    return APR_SUCCESS;
}

apr_status_t scim_store_tenant_list(scim_db_t *db, apr_pool_t *p,
                                    apr_array_header_t **out)
{
    scim_rows_t *rows;
    apr_status_t rv;
    int i;

    rv = scim_db_selectv(db, p, &rows,
                         "SELECT id, slug, name, " TS(
                             "created_at") " FROM tenants ORDER BY slug",
                         0);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows, sizeof(scim_tenant_t));
    for (i = 0; i < rows->nrows; i++) {
        tenant_from(rows, i, 0, apr_array_push(*out));
    }
    return APR_SUCCESS;
}

static void admin_from(const scim_rows_t *rows, int r, int c0, scim_admin_t *a)
{
    a->id = cell(rows, r, c0);
    a->tenant_id = cell(rows, r, c0 + 1);
    a->role = cell(rows, r, c0 + 2);
    a->username = cell(rows, r, c0 + 3);
    a->email = cell(rows, r, c0 + 4);
    a->tenant_slug = cell(rows, r, c0 + 5);
}

apr_status_t scim_store_admin_add(scim_db_t *db, apr_pool_t *p,
                                  const char *tenant_slug, const char *username,
                                  const char *email, scim_admin_t **out)
{
    scim_tenant_t *t = NULL;
    scim_rows_t *rows;
    apr_status_t rv;

    if (tenant_slug) {
        rv = scim_store_tenant_get(db, p, tenant_slug, &t);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (!*username || strlen(username) > 256) {
        db->error = "a username is 1 to 256 characters";
        return APR_EINVAL;
    }
    if (!valid_email(email)) {
        db->error = apr_psprintf(p, "'%s' is not an e-mail address", email);
        return APR_EINVAL;
    }
    rv = scim_db_selectv(db, p, &rows,
                         "INSERT INTO administrators "
                         "(tenant_id, role, username, email) "
                         "VALUES (%s::uuid, %s, %s, %s) "
                         "ON CONFLICT DO NOTHING "
                         "RETURNING id, tenant_id, role, username, email, "
                         "%s::text",
                         5, t ? t->id : NULL, t ? "customer" : "system",
                         username, email, t ? t->slug : NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        db->error = t ? apr_psprintf(p,
                                     "'%s' is already an administrator "
                                     "of tenant '%s'",
                                     username, t->slug)
                      : apr_psprintf(p,
                                     "'%s' is already a system "
                                     "administrator",
                                     username);
        return APR_EEXIST;
    }
    *out = apr_pcalloc(p, sizeof(scim_admin_t));
    admin_from(rows, 0, 0, *out);
    return APR_SUCCESS;
}

apr_status_t scim_store_admin_list(scim_db_t *db, apr_pool_t *p,
                                   const char *tenant_slug,
                                   apr_array_header_t **out)
{
    scim_tenant_t *t = NULL;
    scim_rows_t *rows;
    apr_status_t rv;
    int i;

    if (tenant_slug) {
        rv = scim_store_tenant_get(db, p, tenant_slug, &t);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    rv = scim_db_selectv(db, p, &rows,
                         "SELECT a.id, a.tenant_id, a.role, a.username, "
                         "a.email, n.slug FROM administrators a "
                         "LEFT JOIN tenants n ON n.id = a.tenant_id "
                         "WHERE %s::uuid IS NULL OR a.tenant_id = %s::uuid "
                         "ORDER BY n.slug NULLS FIRST, a.username",
                         2, t ? t->id : NULL, t ? t->id : NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows, sizeof(scim_admin_t));
    for (i = 0; i < rows->nrows; i++) {
        admin_from(rows, i, 0, apr_array_push(*out));
    }
    return APR_SUCCESS;
}

apr_status_t scim_store_admin_authorize(scim_db_t *db, apr_pool_t *p,
                                        const char *tenant_slug,
                                        const char *username,
                                        scim_admin_t **admin,
                                        scim_tenant_t **tenant)
{
    scim_rows_t *rows;
    apr_status_t rv;

    /* A Customer Administrator row is preferred to a system one, so that
     * notifications of this tenant reach the tenant-level identity. */
    rv = scim_db_readv(db, p, &rows,
                       "SELECT n.id, n.slug, n.name, " TS(
                           "n.created_at") ", a.id, a.tenant_id, a.role, a.username, a.email, "
                                           "n.slug FROM tenants n "
                                           "LEFT JOIN administrators a ON a.username = %s "
                                           "AND (a.tenant_id IS NULL OR a.tenant_id = n.id) "
                                           "WHERE n.slug = %s "
                                           "ORDER BY a.role = 'customer' DESC LIMIT 1",
                       2, username, tenant_slug);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        db->error = apr_psprintf(p, "no tenant '%s'", tenant_slug);
        return APR_ENOENT;
    }
    *tenant = apr_pcalloc(p, sizeof(scim_tenant_t));
    tenant_from(rows, 0, 0, *tenant);
    if (!cell(rows, 0, 4)) {
        return APR_EACCES;
    }
    *admin = apr_pcalloc(p, sizeof(scim_admin_t));
    admin_from(rows, 0, 4, *admin);
    return APR_SUCCESS;
}

static void idp_from(const scim_rows_t *rows, int r, scim_idp_t *i)
{
    i->id = cell(rows, r, 0);
    i->type = cell(rows, r, 1);
    i->name = cell(rows, r, 2);
    i->created_at = cell(rows, r, 3);
}

apr_status_t scim_store_idp_list(scim_db_t *db, apr_pool_t *p,
                                 const scim_tenant_t *t, apr_array_header_t **out)
{
    scim_rows_t *rows;
    apr_status_t rv;
    int i;

    rv = scim_db_selectv(db, p, &rows,
                         "SELECT id, type, name, " TS(
                             "created_at") " FROM identity_providers WHERE tenant_id = %s::uuid"
                                           " ORDER BY created_at, id",
                         1, t->id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows, sizeof(scim_idp_t));
    for (i = 0; i < rows->nrows; i++) {
        idp_from(rows, i, apr_array_push(*out));
    }
    return APR_SUCCESS;
}

apr_status_t scim_store_idp_add(scim_db_t *db, apr_pool_t *p,
                                const scim_tenant_t *t, const char *type,
                                const char *name, const char *by,
                                scim_idp_t **out)
{
    scim_rows_t *rows;
    apr_status_t rv;

    rv = scim_db_selectv(db, p, &rows,
                         "INSERT INTO identity_providers "
                         "(tenant_id, type, name, created_by) "
                         "VALUES (%s::uuid, %s, %s, %s) "
                         "RETURNING id, type, name, " TS("created_at"),
                         4, t->id, type, name, by);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_pcalloc(p, sizeof(scim_idp_t));
    idp_from(rows, 0, *out);
    scim_store_audit(db, p, t->id, by, "identity_provider.create", (*out)->id);
    return APR_SUCCESS;
}

apr_status_t scim_store_idp_get(scim_db_t *db, apr_pool_t *p,
                                const scim_tenant_t *t, const char *idp_id,
                                scim_idp_t **out)
{
    scim_rows_t *rows;
    apr_status_t rv;

    if (!scim_is_uuid(idp_id)) {
        return APR_ENOENT;
    }
    rv = scim_db_selectv(db, p, &rows,
                         "SELECT id, type, name, " TS(
                             "created_at") " FROM identity_providers "
                                           "WHERE tenant_id = %s::uuid AND id = %s::uuid",
                         2, t->id, idp_id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *out = apr_pcalloc(p, sizeof(scim_idp_t));
    idp_from(rows, 0, *out);
    return APR_SUCCESS;
}

static apr_status_t find_prov_account(scim_db_t *db, apr_pool_t *p,
                                      const scim_tenant_t *t, const char *idp_id,
                                      scim_prov_account_t **out)
{
    scim_rows_t *rows;
    apr_status_t rv;

    *out = NULL;
    rv = scim_db_selectv(db, p, &rows,
                         "SELECT id, user_name FROM accounts "
                         "WHERE tenant_id = %s::uuid AND idp_id = %s::uuid "
                         "AND kind = 'provisioning'",
                         2, t->id, idp_id);
    if (rv == APR_SUCCESS && rows->nrows > 0) {
        *out = apr_pcalloc(p, sizeof(scim_prov_account_t));
        (*out)->id = cell(rows, 0, 0);
        (*out)->user_name = cell(rows, 0, 1);
    }
    return rv;
}

apr_status_t scim_store_token_list(scim_db_t *db, apr_pool_t *p,
                                   const scim_tenant_t *t, const char *idp_id,
                                   scim_prov_account_t **account,
                                   apr_array_header_t **tokens)
{
    scim_rows_t *rows;
    apr_status_t rv;
    int i;

    *tokens = apr_array_make(p, 2, sizeof(scim_token_info_t));
    if (!scim_is_uuid(idp_id)) {
        return APR_ENOENT;
    }
    rv = scim_db_selectv(db, p, &rows,
                         "SELECT 1 FROM identity_providers "
                         "WHERE tenant_id = %s::uuid AND id = %s::uuid",
                         2, t->id, idp_id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    if (APR_SUCCESS != (rv = find_prov_account(db, p, t, idp_id, account))) {
        return rv;
    }
    if (!*account) {
        return APR_SUCCESS;
    }
    /* Expired tokens are never listed; deleted ones until their expiry. */
    /* clang-format off */
    rv = scim_db_selectv(db, p, &rows,
                         "SELECT id, " TS("created_at") ", created_by, " TS("expires_at") ", " TS(
                             "deleted_at") ", deleted_by, " TS("last_used_at") ", "
                                           "host(last_used_from) FROM tokens "
                                           "WHERE tenant_id = %s::uuid AND account_id = %s::uuid"
                                           " AND expires_at > now() "
                                           "ORDER BY created_at DESC, id",
                         2, t->id, (*account)->id);
    /* clang-format on */
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < rows->nrows; i++) {
        scim_token_info_t *k = apr_array_push(*tokens);

        k->id = cell(rows, i, 0);
        k->created_at = cell(rows, i, 1);
        k->created_by = cell(rows, i, 2);
        k->expires_at = cell(rows, i, 3);
        k->deleted_at = cell(rows, i, 4);
        k->deleted_by = cell(rows, i, 5);
        k->last_used_at = cell(rows, i, 6);
        k->last_used_from = cell(rows, i, 7);
    }
    return APR_SUCCESS;
}

/* The provisioning account of the identity provider, created on first use
 * with the id the token was minted for and a generated username (retried on
 * the unlikely collision). APR_EAGAIN when the account exists with another
 * id. Called under the identity provider's row lock. */
static apr_status_t ensure_prov_account(scim_db_t *db, apr_pool_t *p,
                                        const scim_tenant_t *t,
                                        const scim_idp_t *idp,
                                        const char *account_id,
                                        scim_prov_account_t **out)
{
    scim_rows_t *rows;
    apr_status_t rv;
    int i;

    if (APR_SUCCESS != (rv = find_prov_account(db, p, t, idp->id, out))) {
        return rv;
    }
    if (*out && strcmp((*out)->id, account_id) != 0) {
        db->error = "the provisioning account changed; mint again";
        return APR_EAGAIN;
    }
    for (i = 0; !*out && i < GENERATED_USERNAME_TRIES; i++) {
        const char *user = scim_generate_username(p, idp->type, t->slug);

        rv = scim_db_selectv(db, p, &rows,
                             "INSERT INTO accounts (id, tenant_id, kind, "
                             "user_name, display_name, billable, idp_id) "
                             "VALUES (%s::uuid, %s::uuid, 'provisioning', %s, "
                             "%s, false, %s::uuid) "
                             "ON CONFLICT DO NOTHING RETURNING id, user_name",
                             5, account_id, t->id, user,
                             apr_pstrcat(p, idp->name, " provisioning", NULL),
                             idp->id);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (rows->nrows > 0) {
            *out = apr_pcalloc(p, sizeof(scim_prov_account_t));
            (*out)->id = cell(rows, 0, 0);
            (*out)->user_name = cell(rows, 0, 1);
        }
    }
    if (!*out) {
        db->error = "could not generate a unique provisioning username";
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static apr_status_t notify(scim_db_t *db, apr_pool_t *p, const scim_tenant_t *t,
                           const scim_admin_t *a, const char *message)
{
    return scim_db_execv(db, p, NULL,
                         "INSERT INTO notifications "
                         "(tenant_id, administrator_id, message) "
                         "VALUES (%s::uuid, %s::uuid, %s)",
                         3, t->id, a->id, message);
}

apr_status_t scim_store_token_owner(scim_db_t *db, apr_pool_t *p,
                                    const scim_tenant_t *t, const char *idp_id,
                                    scim_token_owner_t **out)
{
    scim_rows_t *rows;
    apr_status_t rv;

    *out = NULL;
    if (!scim_is_uuid(idp_id)) {
        return APR_ENOENT;
    }
    rv = scim_db_selectv(db, p, &rows,
                         "SELECT i.type, coalesce(a.id, gen_random_uuid()), "
                         "extract(epoch FROM n.t)::bigint, "
                         "extract(epoch FROM (n.t AT TIME ZONE 'UTC' "
                         "+ interval '1 year') AT TIME ZONE 'UTC')::bigint "
                         "FROM (SELECT date_trunc('second', now()) AS t) n, "
                         "identity_providers i LEFT JOIN accounts a "
                         "ON a.tenant_id = i.tenant_id AND a.idp_id = i.id "
                         "AND a.kind = 'provisioning' "
                         "WHERE i.tenant_id = %s::uuid AND i.id = %s::uuid",
                         2, t->id, idp_id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *out = apr_pcalloc(p, sizeof(scim_token_owner_t));
    (*out)->idp_type = cell(rows, 0, 0);
    (*out)->account_id = cell(rows, 0, 1);
    (*out)->now = apr_atoi64(cell(rows, 0, 2));
    (*out)->expires = apr_atoi64(cell(rows, 0, 3));
    return APR_SUCCESS;
}

static apr_status_t token_create_txn(scim_db_t *db, apr_pool_t *p,
                                     const scim_tenant_t *t, const char *idp_id,
                                     const scim_token_record_t *rec,
                                     scim_token_issued_t **out)
{
    scim_prov_account_t *acct = NULL;
    scim_idp_t idp;
    scim_rows_t *rows;
    apr_status_t rv;

    /* The identity provider's row lock serialises every creation for it,
     * on every server, so the limit and the single account hold. */
    rv = scim_db_selectv(db, p, &rows,
                         "SELECT id, type, name, " TS(
                             "created_at") " FROM identity_providers WHERE tenant_id = %s::uuid"
                                           " AND id = %s::uuid FOR UPDATE",
                         2, t->id, idp_id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    idp_from(rows, 0, &idp);
    if (strcmp(idp.type, rec->owner->idp_type) != 0) {
        db->error = "the identity provider changed; mint again";
        return APR_EAGAIN;
    }
    rv = ensure_prov_account(db, p, t, &idp, rec->owner->account_id, &acct);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rec->policy == SCIM_POLICY_REPLACE) {
        rv = scim_db_execv(db, p, NULL,
                           "UPDATE tokens SET expires_at = now() "
                           "WHERE tenant_id = %s::uuid "
                           "AND account_id = %s::uuid "
                           "AND deleted_at IS NULL AND expires_at > now()",
                           2, t->id, acct->id);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    rv = scim_db_selectv(db, p, &rows,
                         "SELECT count(*) >= %s::int FROM tokens "
                         "WHERE tenant_id = %s::uuid AND account_id = %s::uuid"
                         " AND deleted_at IS NULL AND expires_at > now()",
                         3, apr_itoa(p, SCIM_MAX_LIVE_TOKENS), t->id, acct->id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (is_true(cell(rows, 0, 0))) {
        if (APR_SUCCESS
            != (rv = notify(db, p, t, rec->admin, SCIM_MSG_TOO_MANY_TOKENS))) {
            return rv;
        }
        scim_store_audit(db, p, t->id, rec->admin->username,
                         "token.create_refused", idp.id);
        return APR_EEXIST;
    }
    /* Whole seconds from the minted token, so that the JWT's exp equals
     * expires_at exactly. */
    rv = scim_db_selectv(db, p, &rows,
                         "INSERT INTO tokens (tenant_id, account_id, jti, "
                         "token_hash, kid, created_at, created_by, "
                         "expires_at) VALUES (%s::uuid, %s::uuid, %s, "
                         "decode(%s, 'hex'), %s, "
                         "to_timestamp(%s::double precision), %s, "
                         "to_timestamp(%s::double precision)) "
                         "RETURNING id, " TS("created_at") ", " TS("expires_at"),
                         8, t->id, acct->id, rec->jti, scim_hex(p, rec->hash, 32),
                         rec->kid, apr_ltoa(p, (long)rec->iat),
                         rec->admin->username, apr_ltoa(p, (long)rec->exp));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_pcalloc(p, sizeof(scim_token_issued_t));
    (*out)->id = cell(rows, 0, 0);
    (*out)->user_name = acct->user_name;
    (*out)->created_at = cell(rows, 0, 1);
    (*out)->expires_at = cell(rows, 0, 2);
    return scim_store_audit(db, p, t->id, rec->admin->username, "token.create",
                            (*out)->id);
}

apr_status_t scim_store_token_create(scim_db_t *db, apr_pool_t *p,
                                     const scim_tenant_t *t, const char *idp_id,
                                     const scim_token_record_t *rec,
                                     scim_token_issued_t **out)
{
    apr_status_t rv, end;

    *out = NULL;
    if (!scim_is_uuid(idp_id)) {
        return APR_ENOENT;
    }
    if (APR_SUCCESS != (rv = scim_db_begin(db, p))) {
        return rv;
    }
    rv = token_create_txn(db, p, t, idp_id, rec, out);
    /* A refusal keeps its notification; any other failure keeps nothing. */
    if (rv != APR_SUCCESS && rv != APR_EEXIST) {
        scim_db_rollback_only(db);
    }
    end = scim_db_end(db, p);
    if (rv == APR_SUCCESS && end != APR_SUCCESS) {
        rv = end;
    }
    if (rv != APR_SUCCESS) {
        *out = NULL;
    }
    return rv;
}

apr_status_t scim_store_token_delete(scim_db_t *db, apr_pool_t *p,
                                     const scim_tenant_t *t, const char *idp_id,
                                     const char *token_id, const char *by)
{
    scim_rows_t *rows;
    apr_status_t rv;

    if (!scim_is_uuid(idp_id) || !scim_is_uuid(token_id)) {
        return APR_ENOENT;
    }
    rv = scim_db_selectv(db, p, &rows,
                         "UPDATE tokens k SET deleted_at = now(), "
                         "deleted_by = %s FROM accounts a "
                         "WHERE k.tenant_id = %s::uuid AND k.id = %s::uuid "
                         "AND a.tenant_id = k.tenant_id "
                         "AND a.id = k.account_id AND a.idp_id = %s::uuid "
                         "AND k.deleted_at IS NULL AND k.expires_at > now() "
                         "RETURNING k.id",
                         4, by, t->id, token_id, idp_id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    return scim_store_audit(db, p, t->id, by, "token.delete", token_id);
}

/* Append v to an array literal; every element is quoted, NULL is NULL. The
 * values come from our own shared memory (UUIDs, numbers, IP addresses), but
 * quoting keeps the literal well-formed whatever they hold. */
static void array_add(apr_array_header_t *parts, apr_pool_t *p, const char *v)
{
    const char *q;
    char *out, *o;

    if (!v) {
        APR_ARRAY_PUSH(parts, const char *) = "NULL";
        return;
    }
    o = out = apr_palloc(p, 2 * strlen(v) + 3);
    *o++ = '"';
    for (q = v; *q; q++) {
        if (*q == '"' || *q == '\\') {
            *o++ = '\\';
        }
        *o++ = *q;
    }
    *o++ = '"';
    *o = '\0';
    APR_ARRAY_PUSH(parts, const char *) = out;
}

static const char *array_literal(apr_pool_t *p, apr_array_header_t *parts)
{
    return apr_pstrcat(p, "{", apr_array_pstrcat(p, parts, ','), "}", NULL);
}

apr_status_t scim_store_tokens_used(scim_db_t *db, apr_pool_t *p,
                                    const apr_array_header_t *uses, int *updated)
{
    apr_array_header_t *ids, *tenants, *ats, *froms;
    int i;

    *updated = 0;
    if (uses->nelts == 0) {
        return APR_SUCCESS;
    }
    ids = apr_array_make(p, uses->nelts, sizeof(const char *));
    tenants = apr_array_make(p, uses->nelts, sizeof(const char *));
    ats = apr_array_make(p, uses->nelts, sizeof(const char *));
    froms = apr_array_make(p, uses->nelts, sizeof(const char *));
    for (i = 0; i < uses->nelts; i++) {
        const scim_token_use_t *u = &APR_ARRAY_IDX(uses, i, scim_token_use_t);

        array_add(ids, p, u->token_id);
        array_add(tenants, p, u->tenant_id);
        array_add(ats, p, apr_psprintf(p, "%" APR_TIME_T_FMT, u->at));
        array_add(froms, p, u->from);
    }
    /* The newer use wins: a flush that arrives late (another server, a
     * retry after an outage) never moves last_used_at back. */
    return scim_db_execv(db, p, updated,
                         "UPDATE tokens t SET last_used_at = u.at, last_used_from = u.ip "
                         "FROM (SELECT id, tenant_id, timestamptz 'epoch' + us * interval "
                         "'1 microsecond' AS at, ip FROM unnest(%s::uuid[], %s::uuid[], "
                         "%s::bigint[], %s::inet[]) AS x(id, tenant_id, us, ip)) u "
                         "WHERE t.id = u.id AND t.tenant_id = u.tenant_id "
                         "AND (t.last_used_at IS NULL OR t.last_used_at < u.at)",
                         4, array_literal(p, ids), array_literal(p, tenants),
                         array_literal(p, ats), array_literal(p, froms));
}

apr_status_t scim_store_live_token_counts(scim_db_t *db, apr_pool_t *p,
                                          const apr_array_header_t *slugs,
                                          apr_hash_t **counts)
{
    apr_array_header_t *parts;
    scim_rows_t *rows;
    apr_status_t rv;
    int i;

    *counts = apr_hash_make(p);
    parts = apr_array_make(p, slugs->nelts, sizeof(const char *));
    for (i = 0; i < slugs->nelts; i++) {
        array_add(parts, p, APR_ARRAY_IDX(slugs, i, const char *));
    }
    rv = scim_db_readv(db, p, &rows,
                       "SELECT t.slug, count(k.id) FROM tenants t "
                       "LEFT JOIN tokens k ON k.tenant_id = t.id "
                       "AND k.deleted_at IS NULL AND k.expires_at > now() "
                       "WHERE t.slug = ANY (%s::text[]) GROUP BY t.slug",
                       1, array_literal(p, parts));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < rows->nrows; i++) {
        apr_hash_set(*counts, cell(rows, i, 0), APR_HASH_KEY_STRING,
                     cell(rows, i, 1));
    }
    return APR_SUCCESS;
}

apr_status_t scim_store_notification_list(scim_db_t *db, apr_pool_t *p,
                                          const scim_admin_t *a,
                                          apr_array_header_t **out)
{
    scim_rows_t *rows;
    apr_status_t rv;
    int i;

    rv = scim_db_selectv(db, p, &rows,
                         "SELECT id, " TS(
                             "created_at") ", message, "
                                           "read_at IS NOT NULL FROM notifications "
                                           "WHERE administrator_id = %s::uuid "
                                           "ORDER BY created_at DESC, id LIMIT 100",
                         1, a->id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows, sizeof(scim_notification_t));
    for (i = 0; i < rows->nrows; i++) {
        scim_notification_t *n = apr_array_push(*out);

        n->id = cell(rows, i, 0);
        n->created_at = cell(rows, i, 1);
        n->message = cell(rows, i, 2);
        n->read = is_true(cell(rows, i, 3));
    }
    return APR_SUCCESS;
}

apr_status_t scim_store_notification_read(scim_db_t *db, apr_pool_t *p,
                                          const scim_admin_t *a, const char *id)
{
    scim_rows_t *rows;
    apr_status_t rv;

    if (!scim_is_uuid(id)) {
        return APR_ENOENT;
    }
    rv = scim_db_selectv(db, p, &rows,
                         "UPDATE notifications "
                         "SET read_at = coalesce(read_at, now()) "
                         "WHERE administrator_id = %s::uuid AND id = %s::uuid"
                         " RETURNING id",
                         2, a->id, id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return rows->nrows ? APR_SUCCESS : APR_ENOENT;
}

apr_status_t scim_store_account_list(scim_db_t *db, apr_pool_t *p,
                                     const scim_tenant_t *t,
                                     apr_array_header_t **out)
{
    scim_rows_t *rows;
    apr_status_t rv;
    int i;

    rv = scim_db_selectv(db, p, &rows,
                         "SELECT id, user_name, display_name, active, "
                         "billable, kind FROM accounts "
                         "WHERE tenant_id = %s::uuid "
                         "ORDER BY kind, lower(user_name), id LIMIT 1000",
                         1, t->id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows, sizeof(scim_account_summary_t));
    for (i = 0; i < rows->nrows; i++) {
        scim_account_summary_t *s = apr_array_push(*out);

        s->id = cell(rows, i, 0);
        s->user_name = cell(rows, i, 1);
        s->display_name = cell(rows, i, 2);
        s->active = is_true(cell(rows, i, 3));
        s->billable = is_true(cell(rows, i, 4));
        s->kind = cell(rows, i, 5);
    }
    return APR_SUCCESS;
}

apr_status_t scim_store_audit(scim_db_t *db, apr_pool_t *p,
                              const char *tenant_id, const char *actor,
                              const char *action, const char *target)
{
    return scim_db_execv(db, p, NULL,
                         "INSERT INTO audit_events "
                         "(tenant_id, actor, action, target) "
                         "VALUES (%s::uuid, %s, %s, %s)",
                         4, tenant_id, actor, action, target);
}
