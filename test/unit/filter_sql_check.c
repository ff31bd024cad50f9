/* Runs the SQL that scim_filter compiles against a real PostgreSQL (through
 * APR DBD's pgsql driver, exactly as the module does: unlabelled prepared
 * statements with %s placeholders) on sample data, and checks
 *  1. hand-written filters against their expected result sets,
 *  2. sortBy orders,
 *  3. thousands of generated filters: the SQL result set must equal what
 *     scim_filter_match says of each resource (the two back-ends agree),
 *     and no filter that parses may fail in the database.
 * Usage: filter_sql_check '<libpq conninfo>' (a database with every
 * migration of sql/ applied: the statements call scim_name_key_sql() of
 * migration 12; the check adds and removes its own tenants).
 * Run by filter_sql_check.sh, which starts a private PostgreSQL. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_dbd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <jansson.h>

#include "scim_filter.h"
#include "scim_store_filter.h"

#define TENANT_A "a0000000-0000-4000-8000-00000000000a"
#define TENANT_B "b0000000-0000-4000-8000-00000000000b"
#define ENT      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

#define U1       "11111111-1111-4111-8111-111111111111"
#define U2       "22222222-2222-4222-8222-222222222222"
#define U3       "33333333-3333-4333-8333-333333333333"
#define U4       "44444444-4444-4444-8444-444444444444"
#define U5       "55555555-5555-4555-8555-555555555555"
#define U6       "66666666-6666-4666-8666-666666666666"
#define U7       "77777777-7777-4777-8777-777777777777"
#define UB       "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define G1       "a1111111-1111-4111-8111-111111111111"
#define G2       "a2222222-2222-4222-8222-222222222222"
#define G3       "a3333333-3333-4333-8333-333333333333"
#define G4       "a4444444-4444-4444-8444-444444444444"
#define GB       "abbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"

static const apr_dbd_driver_t *drv;
static apr_dbd_t *db;
static int failures, checks;

/* clang-format off */
static const struct { const char *id, *tenant, *created, *updated, *doc; }
users[] = {
    { U1, TENANT_A, "2020-01-01T00:00:00Z", "2021-06-01T12:00:00Z",
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"" ENT
      "\"],\"userName\":\"bjensen\",\"externalId\":\"ext-1\","
      "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\"},"
      "\"displayName\":\"Babs Jensen\",\"title\":\"Tour Guide\","
      "\"active\":true,\"emails\":[{\"value\":\"bjensen@example.com\","
      "\"type\":\"work\",\"primary\":true},{\"value\":\"babs@jensen.org\","
      "\"type\":\"home\"}],\"" ENT "\":{\"employeeNumber\":\"701984\","
      "\"department\":\"Tour Operations\",\"manager\":{\"value\":\"" U2
      "\"}}}" },
    { U2, TENANT_A, "2020-02-01T00:00:00Z", "2022-01-01T00:00:00.5Z",
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
      "\"userName\":\"JSmith\",\"externalId\":\"EXT-1\","
      "\"name\":{\"familyName\":\"O'Malley\"},\"title\":\"100% Boss_\","
      "\"active\":false,\"emails\":[{\"value\":\"JSmith@Example.COM\","
      "\"type\":\"work\"}]}" },
    { U3, TENANT_A, "2021-01-01T00:00:00Z", "2021-01-01T00:00:00Z",
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
      "\"userName\":\"\xc3\x85sa.\xc3\x96" "berg\",\"name\":{\"givenName\":"
      "\"\xc3\x85sa\"},\"active\":true,\"phoneNumbers\":[{\"value\":"
      "\"+1 555 0100\",\"type\":\"work\"}]}" },
    { U4, TENANT_A, "2021-03-01T00:00:00+02:00", "2023-03-01T00:00:00Z",
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
      "\"userName\":\"\xe2\x84\xaa" "elvin\",\"displayName\":\"Lord Kelvin\","
      "\"active\":true}" },
    { U5, TENANT_A, "2019-12-31T23:59:59Z", "2020-01-01T00:00:00Z",
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
      "\"userName\":\"wild_card\",\"title\":\"a_b\",\"nickName\":\"x!y\","
      "\"active\":true,\"emails\":[{\"value\":\"x%y@z.org\",\"type\":"
      "\"other\"}]}" },
    { U6, TENANT_A, "2022-06-15T08:30:00Z", "2022-06-15T08:30:00Z",
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
      "\"userName\":\"minimal\",\"active\":true}" },
    { U7, TENANT_A, "2022-07-01T00:00:00Z", "2024-02-29T12:00:00Z",
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"" ENT
      "\"],\"userName\":\"adams\",\"displayName\":\"\",\"active\":true,"
      "\"emails\":[{\"value\":\"o@other.org\",\"type\":\"other\"},"
      "{\"value\":\"w@work.org\",\"type\":\"work\",\"primary\":true}],"
      "\"addresses\":[{\"type\":\"work\",\"streetAddress\":\"1 Main St\","
      "\"postalCode\":\"91608\",\"primary\":true}],"
      "\"" ENT "\":{\"manager\":{\"value\":\"not-a-uuid-manager\"}}}" },
    { UB, TENANT_B, "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z",
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
      "\"userName\":\"bjensen\",\"active\":true}" },
};

static const struct { const char *id, *tenant, *name, *ext; } groups[] = {
    { G1, TENANT_A, "Admins", NULL },
    { G2, TENANT_A, "Tour Guides", "grp-ext" },
    { G3, TENANT_A, "100%_Club", NULL },
    { G4, TENANT_A, "\xc3\x89quipe", NULL },
    { GB, TENANT_B, "Admins", NULL },
};

static const struct { const char *tenant, *group, *account; } members[] = {
    { TENANT_A, G1, U1 }, { TENANT_A, G1, U2 }, { TENANT_A, G2, U1 },
    { TENANT_A, G4, U7 }, { TENANT_B, GB, UB },
};

/* Hand-checked filters: U = Users, G = Groups; expected names sorted
 * (byte order), comma-separated. sql_only: non-ASCII case folding, where
 * only the database folds Unicode. */
static const struct { char rt; const char *filter, *expect; int sql_only; }
cases[] = {
    { 'U', "userName eq \"bjensen\"", "bjensen", 0 },
    { 'U', "userName eq \"BJENSEN\"", "bjensen", 0 },
    { 'U', "userName eq \"jsmith\"", "JSmith", 0 },
    { 'U', "userName eq \"nobody\"", "", 0 },
    { 'U', "userName eq \"kelvin\"", "\xe2\x84\xaa" "elvin", 1 },
    { 'U', "userName eq \"\xc3\xa5sa.\xc3\xb6" "berg\"",
      "\xc3\x85sa.\xc3\x96" "berg", 1 },
    { 'U', "userName sw \"\xc3\xa5s\"", "\xc3\x85sa.\xc3\x96" "berg", 1 },
    { 'U', "externalId eq \"ext-1\"", "bjensen", 0 },
    { 'U', "externalId eq \"EXT-1\"", "JSmith", 0 },
    { 'U', "externalId pr", "JSmith,bjensen", 0 },
    { 'U', "id eq \"" U1 "\"", "bjensen", 0 },
    { 'U', "id eq \"not-a-uuid\"", "", 0 },
    { 'U', "id eq \"11111111-1111-4111-8111-11111111111\"", "", 0 },
    { 'U', "id ne \"not-a-uuid\"",
      "JSmith,adams,bjensen,minimal,wild_card,\xc3\x85sa.\xc3\x96" "berg,"
      "\xe2\x84\xaa" "elvin", 0 },
    { 'U', "id sw \"1111\"", "bjensen", 0 },
    { 'U', "id eq \"" UB "\"", "", 0 },
    { 'U', "active eq false", "JSmith", 0 },
    { 'U', "active ne true", "JSmith", 0 },
    { 'U', "not (active eq true)", "JSmith", 0 },
    { 'U', "title co \"%\"", "JSmith", 0 },
    { 'U', "title co \"_\"", "JSmith,wild_card", 0 },
    { 'U', "title ew \"_\"", "JSmith", 0 },
    { 'U', "title sw \"a_\"", "wild_card", 0 },
    { 'U', "title sw \"a%\"", "", 0 },
    { 'U', "nickName co \"!\"", "wild_card", 0 },
    { 'U', "emails.value co \"%y\"", "wild_card", 0 },
    { 'U', "emails co \"example.com\"", "JSmith,bjensen", 0 },
    { 'U', "emails[type eq \"work\" and value co \"@EXAMPLE\"]",
      "JSmith,bjensen", 0 },
    { 'U', "emails[type eq \"home\" and value co \"example\"]", "", 0 },
    { 'U', "emails.type eq \"home\" and emails.value co \"example\"",
      "bjensen", 0 },
    { 'U', "emails[type eq \"work\"].value ew \".org\"", "adams", 0 },
    { 'U', "emails.primary eq true", "adams,bjensen", 0 },
    { 'U', "emails[primary eq true and type eq \"other\"]", "", 0 },
    { 'U', "emails pr", "JSmith,adams,bjensen,wild_card", 0 },
    { 'U', "emails eq null",
      "minimal,\xc3\x85sa.\xc3\x96" "berg,\xe2\x84\xaa" "elvin", 0 },
    { 'U', "emails.type ne \"work\"",
      "minimal,wild_card,\xc3\x85sa.\xc3\x96" "berg,\xe2\x84\xaa" "elvin", 0 },
    { 'U', "displayName pr", "bjensen,\xe2\x84\xaa" "elvin", 0 },
    { 'U', "displayName eq \"\"", "adams", 0 },
    { 'U', "title pr and not (title co \"Boss\")", "bjensen,wild_card", 0 },
    { 'U', "name.familyName eq \"o'malley\"", "JSmith", 0 },
    { 'U', "name.givenName sw \"B\" or name.familyName co \"'\"",
      "JSmith,bjensen", 0 },
    { 'U', "name pr", "JSmith,bjensen,\xc3\x85sa.\xc3\x96" "berg", 0 },
    { 'U', "name[givenName eq \"barbara\"]", "bjensen", 0 },
    { 'U', "phoneNumbers[type eq \"work\" and value sw \"+1\"]",
      "\xc3\x85sa.\xc3\x96" "berg", 0 },
    { 'U', "addresses[type eq \"work\" and postalCode pr]", "adams", 0 },
    { 'U', "addresses.primary eq true", "adams", 0 },
    { 'U', ENT ":employeeNumber eq \"701984\"", "bjensen", 0 },
    { 'U', ENT ":manager.value eq \"" U2 "\"", "bjensen", 0 },
    { 'U', ENT ":manager eq \"not-a-uuid-manager\"", "adams", 0 },
    { 'U', "department co \"operations\"", "bjensen", 0 },
    { 'U', ENT ":department pr", "bjensen", 0 },
    { 'U', "meta.created gt \"2021-01-01T00:00:00Z\"",
      "adams,minimal,\xe2\x84\xaa" "elvin", 0 },
    { 'U', "meta.created ge \"2021-01-01T00:00:00Z\"",
      "adams,minimal,\xc3\x85sa.\xc3\x96" "berg,\xe2\x84\xaa" "elvin", 0 },
    { 'U', "meta.created lt \"2020-01-01T01:00:00+01:00\"", "wild_card", 0 },
    { 'U', "meta.created eq \"2021-02-28T22:00:00Z\"", "\xe2\x84\xaa" "elvin",
      0 },
    { 'U', "meta.created eq \"2021-02-28T22:00:00\"", "\xe2\x84\xaa" "elvin",
      0 },
    { 'U', "meta.lastModified gt \"2022-01-01T00:00:00Z\"",
      "JSmith,adams,minimal,\xe2\x84\xaa" "elvin", 0 },
    { 'U', "meta.lastModified le \"2022-01-01t00:00:00.499999z\"",
      "bjensen,wild_card,\xc3\x85sa.\xc3\x96" "berg", 0 },
    { 'U', "meta.resourceType eq \"User\"",
      "JSmith,adams,bjensen,minimal,wild_card,\xc3\x85sa.\xc3\x96" "berg,"
      "\xe2\x84\xaa" "elvin", 0 },
    { 'U', "meta.resourceType eq \"Group\"", "", 0 },
    { 'U', "groups eq \"" G1 "\"", "JSmith,bjensen", 0 },
    { 'U', "groups.display eq \"tour guides\"", "bjensen", 0 },
    { 'U', "groups[display sw \"\xc3\x89\" and type eq \"direct\"]", "adams",
      0 },
    { 'U', "groups pr", "JSmith,adams,bjensen", 0 },
    { 'U', "not (groups pr)",
      "minimal,wild_card,\xc3\x85sa.\xc3\x96" "berg,\xe2\x84\xaa" "elvin", 0 },
    { 'U', "groups.value eq \"not-a-uuid\"", "", 0 },
    { 'U', "groups.value eq \"" GB "\"", "", 0 },
    { 'U', "userName gt \"j\" and userName lt \"w\"",
      "JSmith,minimal,\xe2\x84\xaa" "elvin", 1 },
    { 'U', "userName gt \"j\" and userName lt \"w\" and "
           "not (userName sw \"k\")", "JSmith,minimal", 0 },
    { 'U', "userName ge \"WILD_CARD\"", "wild_card,\xc3\x85sa.\xc3\x96" "berg",
      1 },
    { 'U', "(userName eq \"bjensen\" or userName eq \"jsmith\") and "
           "active eq true", "bjensen", 0 },
    { 'U', "userName eq \"bjensen\" or userName eq \"jsmith\" and "
           "active eq true", "bjensen", 0 },
    { 'U', "userName eq \"'; DROP TABLE accounts; --\"", "", 0 },
    { 'U', "userName eq \"%s%s\" or title eq \"$1\"", "", 0 },
    { 'G', "displayName eq \"admins\"", "Admins", 0 },
    { 'G', "displayName eq \"\xc3\xa9quipe\"", "\xc3\x89quipe", 1 },
    { 'G', "displayName co \"%_\"", "100%_Club", 0 },
    { 'G', "externalId eq \"grp-ext\"", "Tour Guides", 0 },
    { 'G', "members.value eq \"" U1 "\"", "Admins,Tour Guides", 0 },
    { 'G', "members eq \"" U2 "\"", "Admins", 0 },
    { 'G', "members[value eq \"" UB "\"]", "", 0 },
    { 'G', "members.display eq \"JSMITH\"", "Admins", 0 },
    { 'G', "members[display eq \"\"]", "\xc3\x89quipe", 0 },
    { 'G', "members pr", "Admins,Tour Guides,\xc3\x89quipe", 0 },
    { 'G', "not (members pr)", "100%_Club", 0 },
    { 'G', "members.type eq \"User\" and displayName sw \"T\"",
      "Tour Guides", 0 },
    { 'G', "id eq \"" G3 "\" or id eq \"x\"", "100%_Club", 0 },
    { 'G', "meta.created pr", "100%_Club,Admins,Tour Guides,\xc3\x89quipe",
      0 },
};

/* sortBy: expected order of userName / displayName. */
static const struct { char rt; const char *sort_by; int desc;
                      const char *expect; }
sorts[] = {
    /* userName folds like the unique index: U+212A KELVIN SIGN is "k" */
    { 'U', "userName", 0, "adams,bjensen,JSmith," "\xe2\x84\xaa" "elvin" ",minimal,wild_card,"
      "\xc3\x85sa.\xc3\x96" "berg" },
    { 'U', "userName", 1, "\xc3\x85sa.\xc3\x96" "berg" ",wild_card,minimal," "\xe2\x84\xaa" "elvin" ",JSmith,bjensen,"
      "adams" },
    { 'U', "meta.created", 0, "wild_card,bjensen,JSmith," "\xc3\x85sa.\xc3\x96" "berg" "," "\xe2\x84\xaa" "elvin"
      ",minimal,adams" },
    { 'U', "meta.lastModified", 1, "adams," "\xe2\x84\xaa" "elvin" ",minimal,JSmith,bjensen," "\xc3\x85sa.\xc3\x96" "berg"
      ",wild_card" },
    /* primary value first, else the first; no e-mail sorts last (by id) */
    { 'U', "emails", 0, "bjensen,JSmith,adams,wild_card," "\xc3\x85sa.\xc3\x96" "berg" "," "\xe2\x84\xaa" "elvin"
      ",minimal" },
    { 'U', "emails.value", 1, "wild_card,adams,JSmith,bjensen," "\xc3\x85sa.\xc3\x96" "berg" "," "\xe2\x84\xaa" "elvin"
      ",minimal" },
    { 'U', "name.familyName", 0, "bjensen,JSmith," "\xc3\x85sa.\xc3\x96" "berg" "," "\xe2\x84\xaa" "elvin"
      ",wild_card,minimal,adams" },
    { 'U', "active", 0, "JSmith,bjensen," "\xc3\x85sa.\xc3\x96" "berg" "," "\xe2\x84\xaa" "elvin" ",wild_card,minimal,adams" },
    /* caseExact: C order, upper case first */
    { 'U', "externalId", 0, "JSmith,bjensen," "\xc3\x85sa.\xc3\x96" "berg" "," "\xe2\x84\xaa" "elvin"
      ",wild_card,minimal,adams" },
    { 'G', "displayName", 0, "100%_Club,Admins,Tour Guides,\xc3\x89quipe" },
    { 'G', "displayName", 1, "\xc3\x89quipe,Tour Guides,Admins,100%_Club" },
};
/* clang-format on */

static void die(const char *what, apr_pool_t *p, int rc)
{
    fprintf(stderr, "filter_sql_check: %s: %s\n", what,
            rc ? apr_dbd_error(drv, db, rc) : "");
    (void)p;
    exit(2);
}

/* Run a statement with %s parameters, rows of strings back (NULL for SQL
 * NULL); *ok false on a database error (message in *err). */
static apr_array_header_t *run(apr_pool_t *p, const char *sql,
                               apr_array_header_t *params, int *ok,
                               const char **err)
{
    apr_dbd_prepared_t *st = NULL;
    apr_dbd_results_t *res = NULL;
    apr_array_header_t *rows = apr_array_make(p, 8, sizeof(const char **));
    int rc, n, i, j, ncols;

    *ok = 0;
    rc = apr_dbd_prepare(drv, p, db, sql, NULL, &st);
    if (rc) {
        *err = apr_pstrdup(p, apr_dbd_error(drv, db, rc));
        return rows;
    }
    rc = apr_dbd_pselect(drv, p, db, &res, st, 1, params->nelts,
                         (const char **)params->elts);
    if (rc) {
        *err = apr_pstrdup(p, apr_dbd_error(drv, db, rc));
        return rows;
    }
    n = apr_dbd_num_tuples(drv, res);
    ncols = apr_dbd_num_cols(drv, res);
    for (i = 1; i <= n; i++) {
        apr_dbd_row_t *row = NULL;
        const char **cells = apr_pcalloc(p, ncols * sizeof(char *));

        if (apr_dbd_get_row(drv, p, res, &row, i)) {
            break;
        }
        for (j = 0; j < ncols; j++) {
            apr_dbd_datum_get(drv, row, j, APR_DBD_TYPE_STRING, &cells[j]);
        }
        APR_ARRAY_PUSH(rows, const char **) = cells;
    }
    *ok = 1;
    return rows;
}

static void exec(apr_pool_t *p, const char *sql, int n, ...)
{
    apr_array_header_t *params = apr_array_make(p, n, sizeof(char *));
    apr_dbd_prepared_t *st = NULL;
    int rc, nrows, i;
    va_list ap;

    va_start(ap, n);
    for (i = 0; i < n; i++) {
        APR_ARRAY_PUSH(params, const char *) = va_arg(ap, const char *);
    }
    va_end(ap);
    rc = apr_dbd_prepare(drv, p, db, sql, NULL, &st);
    if (!rc) {
        rc = apr_dbd_pquery(drv, p, db, &nrows, st, params->nelts,
                            (const char **)params->elts);
    }
    if (rc) {
        die(sql, p, rc);
    }
}

static void load(apr_pool_t *p)
{
    size_t i;

    exec(p, "DELETE FROM tenants WHERE id IN (%s::uuid, %s::uuid)", 2, TENANT_A,
         TENANT_B);
    exec(p,
         "INSERT INTO tenants (id, slug, name) VALUES (%s::uuid, "
         "'filter-check-a', 'A'), (%s::uuid, 'filter-check-b', 'B')",
         2, TENANT_A, TENANT_B);
    for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        exec(p,
             "INSERT INTO accounts (id, tenant_id, kind, user_name, "
             "external_id, display_name, active, billable, doc, created_at, "
             "updated_at) SELECT %s::uuid, %s::uuid, 'user', d->>'userName', "
             "d->>'externalId', d->>'displayName', (d->>'active')::boolean, "
             "true, d, %s::timestamptz, %s::timestamptz FROM (SELECT "
             "%s::jsonb AS d) x",
             5, users[i].id, users[i].tenant, users[i].created,
             users[i].updated, users[i].doc);
    }
    for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        exec(p,
             "INSERT INTO groups (id, tenant_id, display_name, external_id, "
             "doc, created_at) VALUES (%s::uuid, %s::uuid, %s, "
             "NULLIF(%s, ''), jsonb_build_object('schemas', "
             "jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:Group'),"
             " 'displayName', %s::text), now())",
             5, groups[i].id, groups[i].tenant, groups[i].name,
             groups[i].ext ? groups[i].ext : "", groups[i].name);
        if (groups[i].ext) {
            exec(p,
                 "UPDATE groups SET doc = doc || jsonb_build_object("
                 "'externalId', %s::text) WHERE id = %s::uuid",
                 2, groups[i].ext, groups[i].id);
        }
    }
    for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        exec(p,
             "INSERT INTO group_members (tenant_id, group_id, account_id) "
             "VALUES (%s::uuid, %s::uuid, %s::uuid)",
             3, members[i].tenant, members[i].group, members[i].account);
    }
    /* the membership triggers move a member's lastModified with its version
     * (migration 11): the fixtures' dates are the stored state under test */
    for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        exec(p,
             "UPDATE accounts SET updated_at = %s::timestamptz WHERE id = %s::uuid",
             2, users[i].updated, users[i].id);
    }
}

/* The full resources of tenant A as the SCIM layer would show them. */
static const char *const user_resource_sql =
    "SELECT r.user_name, (r.doc || jsonb_build_object('id', r.id::text, "
    "'meta', jsonb_build_object('resourceType', 'User', 'created', "
    "to_char(r.created_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'lastModified', "
    "to_char(r.updated_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')), 'groups', (SELECT "
    "COALESCE(jsonb_agg(jsonb_build_object('value', g.id::text, 'display', "
    "g.display_name, 'type', 'direct')), '[]'::jsonb) FROM group_members m "
    "JOIN groups g ON g.id = m.group_id WHERE m.account_id = r.id)))::text "
    "FROM accounts r WHERE r.tenant_id = %s::uuid AND r.kind = 'user'";

static const char *const group_resource_sql =
    "SELECT r.display_name, (r.doc || jsonb_build_object('id', r.id::text, "
    "'meta', jsonb_build_object('resourceType', 'Group', 'created', "
    "to_char(r.created_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'lastModified', "
    "to_char(r.updated_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')), 'members', (SELECT "
    "COALESCE(jsonb_agg(jsonb_build_object('value', a.id::text, 'display', "
    "COALESCE(a.display_name, a.user_name), 'type', 'User')), '[]'::jsonb) "
    "FROM group_members m JOIN accounts a ON a.id = m.account_id WHERE "
    "m.group_id = r.id)))::text FROM groups r WHERE r.tenant_id = %s::uuid";

typedef struct {
    const char *name;
    json_t *res;
} resource_t;

static apr_array_header_t *resources(apr_pool_t *p, char rt)
{
    apr_array_header_t *params = apr_array_make(p, 1, sizeof(char *));
    apr_array_header_t *rows, *out = apr_array_make(p, 8, sizeof(resource_t));
    const char *err = NULL;
    int ok, i;

    APR_ARRAY_PUSH(params, const char *) = TENANT_A;
    rows = run(p, rt == 'U' ? user_resource_sql : group_resource_sql, params,
               &ok, &err);
    if (!ok) {
        fprintf(stderr, "resources: %s\n", err);
        exit(2);
    }
    for (i = 0; i < rows->nelts; i++) {
        const char **c = APR_ARRAY_IDX(rows, i, const char **);
        resource_t *r = apr_array_push(out);

        r->name = c[0];
        r->res = json_loads(c[1], 0, NULL);
        if (!r->res) {
            fprintf(stderr, "bad resource JSON %s\n", c[1]);
            exit(2);
        }
    }
    return out;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *joined(apr_pool_t *p, apr_array_header_t *names)
{
    qsort(names->elts, names->nelts, sizeof(char *), cmp_str);
    return apr_array_pstrcat(p, names, ',');
}

/* The names a filter selects in SQL; NULL (and a failure) on errors. */
static const char *sql_names(apr_pool_t *p, char rt, const scim_filter_t *f,
                             const char *text)
{
    const scim_resource_type_t *t = rt == 'U' ? scim_schema_user()
                                              : scim_schema_group();
    apr_array_header_t *params = apr_array_make(p, 4, sizeof(char *));
    apr_array_header_t *rows, *names = apr_array_make(p, 8, sizeof(char *));
    const char *where = NULL, *err = NULL, *sql;
    int ok, i;

    APR_ARRAY_PUSH(params, const char *) = TENANT_A;
    if (scim_filter_sql(p, t, f, params, &where, &err)) {
        printf("not ok - %s: no SQL: %s\n", text, err);
        failures++;
        return NULL;
    }
    sql = apr_psprintf(p,
                       rt == 'U' ? "SELECT r.user_name FROM accounts r WHERE "
                                   "r.tenant_id = %%s::uuid AND r.kind = "
                                   "'user' AND %s"
                                 : "SELECT r.display_name FROM groups r "
                                   "WHERE r.tenant_id = %%s::uuid AND %s",
                       where);
    rows = run(p, sql, params, &ok, &err);
    if (!ok) {
        printf("not ok - %s: database error: %s\n  SQL: %s\n", text, err, sql);
        failures++;
        return NULL;
    }
    for (i = 0; i < rows->nelts; i++) {
        APR_ARRAY_PUSH(names, const char *) = APR_ARRAY_IDX(rows, i,
                                                            const char **)[0];
    }
    return joined(p, names);
}

static const char *memory_names(apr_pool_t *p, const scim_filter_t *f,
                                apr_array_header_t *res, int skip_kelvin)
{
    apr_array_header_t *names = apr_array_make(p, 8, sizeof(char *));
    int i;

    for (i = 0; i < res->nelts; i++) {
        resource_t *r = &APR_ARRAY_IDX(res, i, resource_t);

        if (skip_kelvin && !strncmp(r->name, "\xe2\x84\xaa", 3)) {
            continue;
        }
        if (scim_filter_match(f, r->res)) {
            APR_ARRAY_PUSH(names, const char *) = r->name;
        }
    }
    return joined(p, names);
}

static const char *without_kelvin(apr_pool_t *p, const char *names)
{
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(char *));
    char *s = apr_pstrdup(p, names), *tok, *last;

    for (tok = apr_strtok(s, ",", &last); tok;
         tok = apr_strtok(NULL, ",", &last)) {
        if (strncmp(tok, "\xe2\x84\xaa", 3)) {
            APR_ARRAY_PUSH(out, const char *) = tok;
        }
    }
    return joined(p, out);
}

static void check_cases(apr_pool_t *p, apr_array_header_t *ures,
                        apr_array_header_t *gres)
{
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const scim_resource_type_t *t = cases[i].rt == 'U' ? scim_schema_user()
                                                           : scim_schema_group();
        scim_filter_t *f = NULL;
        const char *err = NULL, *got, *mem;

        checks++;
        if (scim_filter_parse(p, t, cases[i].filter, 4096, 16, &f, &err)) {
            printf("not ok - %s: %s\n", cases[i].filter, err);
            failures++;
            continue;
        }
        got = sql_names(p, cases[i].rt, f, cases[i].filter);
        if (!got) {
            continue;
        }
        if (strcmp(got, cases[i].expect)) {
            printf("not ok - %s\n  SQL got  [%s]\n  expected [%s]\n",
                   cases[i].filter, got, cases[i].expect);
            failures++;
            continue;
        }
        if (!cases[i].sql_only) {
            mem = memory_names(p, f, cases[i].rt == 'U' ? ures : gres, 0);
            if (strcmp(mem, got)) {
                printf("not ok - %s\n  memory   [%s]\n  SQL      [%s]\n",
                       cases[i].filter, mem, got);
                failures++;
                continue;
            }
        }
        printf("ok - %s\n", cases[i].filter);
    }
}

static void check_sorts(apr_pool_t *p)
{
    size_t i;

    for (i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++) {
        const scim_resource_type_t *t = sorts[i].rt == 'U' ? scim_schema_user()
                                                           : scim_schema_group();
        apr_array_header_t *params = apr_array_make(p, 1, sizeof(char *));
        apr_array_header_t *rows, *names = apr_array_make(p, 8, sizeof(char *));
        const char *order = NULL, *err = NULL, *sql, *got;
        int ok, j;

        checks++;
        if (scim_filter_sort_sql(p, t, sorts[i].sort_by, sorts[i].desc, &order,
                                 &err)) {
            printf("not ok - sortBy=%s: %s\n", sorts[i].sort_by, err);
            failures++;
            continue;
        }
        APR_ARRAY_PUSH(params, const char *) = TENANT_A;
        sql = apr_psprintf(p,
                           sorts[i].rt == 'U'
                               ? "SELECT r.user_name FROM accounts r WHERE "
                                 "r.tenant_id = %%s::uuid AND r.kind = "
                                 "'user' ORDER BY %s, r.id"
                               : "SELECT r.display_name FROM groups r WHERE "
                                 "r.tenant_id = %%s::uuid ORDER BY %s, r.id",
                           order);
        rows = run(p, sql, params, &ok, &err);
        if (!ok) {
            printf("not ok - sortBy=%s: %s\n", sorts[i].sort_by, err);
            failures++;
            continue;
        }
        for (j = 0; j < rows->nelts; j++) {
            APR_ARRAY_PUSH(names, const char *) = APR_ARRAY_IDX(rows, j,
                                                                const char **)[0];
        }
        got = apr_array_pstrcat(p, names, ',');
        if (strcmp(got, sorts[i].expect)) {
            printf("not ok - sortBy=%s %s\n  got      [%s]\n  expected [%s]\n",
                   sorts[i].sort_by, sorts[i].desc ? "descending" : "", got,
                   sorts[i].expect);
            failures++;
            continue;
        }
        printf("ok - sortBy=%s%s\n", sorts[i].sort_by,
               sorts[i].desc ? " descending" : "");
    }
}

/* ---- generated filters ---- */

static unsigned long rnd_state = 20240229;

static unsigned rnd(unsigned n)
{
    rnd_state = rnd_state * 6364136223846793005UL + 1442695040888963407UL;
    return (unsigned)((rnd_state >> 33) % n);
}

#define PICK(a) a[rnd(sizeof(a) / sizeof(a[0]))]

static const char *const str_lits[] = {
    "\"\"",
    "\"a\"",
    "\"B\"",
    "\"jensen\"",
    "\"EXAMPLE.COM\"",
    "\"work\"",
    "\"%\"",
    "\"_\"",
    "\"100%\"",
    "\"o'malley\"",
    "\"Tour\"",
    "\"ext-1\"",
    "\"" U1 "\"",
    "\"" G1 "\"",
    "\"not-a-uuid\"",
    "\"Admins\"",
    "\"z\"",
    "\"!\"",
    "\"x%y\"",
    "\"org\"",
    "\"+1\"",
    "\"bjensen\"",
    "\"91608\"",
    "\"User\"",
    "\"A1111111-1111-4111-8111-111111111111\"",
    "\"" U2 "\"",
    "\"a1111111\"",
    "\"\\u0041dmins\"",
};
static const char *const date_lits[] = {
    "\"2020-01-01T00:00:00Z\"",      "\"2021-02-28T22:00:00Z\"",
    "\"2021-06-01T14:00:00+02:00\"", "\"2022-01-01T00:00:00.5Z\"",
    "\"2019-01-01T00:00:00\"",       "\"2030-12-31T23:59:59.999Z\"",
};
static const char *const str_ops[] = { "eq", "ne", "co", "sw", "ew",
                                       "gt", "ge", "lt", "le", "pr" };
static const char *const date_ops[] = { "eq", "ne", "gt", "ge", "lt", "le", "pr" };
static const char *const bool_ops[] = { "eq", "ne", "pr" };

static const char *const user_str_attrs[] = {
    "userName",
    "displayName",
    "title",
    "nickName",
    "name.givenName",
    "name.familyName",
    "emails.value",
    "emails.type",
    "emails",
    "externalId",
    ENT ":department",
    ENT ":manager.value",
    ENT ":manager",
    "phoneNumbers.value",
    "addresses.postalCode",
    "groups.display",
    "groups.value",
    "groups",
    "id",
    "meta.resourceType",
    "groups.type",
};
static const char *const user_bool_attrs[] = { "active", "emails.primary",
                                               "addresses.primary" };
static const char *const user_date_attrs[] = { "meta.created",
                                               "meta.lastModified" };
static const char *const group_str_attrs[] = {
    "displayName", "externalId", "members.value", "members.display",
    "members",     "id",         "members.type",  "meta.resourceType",
};
static const struct {
    const char *attr;
    const char *subs[4];
} vpaths[] = {
    { "emails", { "value", "type", "display", NULL } },
    { "addresses", { "postalCode", "streetAddress", "type", NULL } },
    { "groups", { "value", "display", "type", NULL } },
    { "name", { "givenName", "familyName", "formatted", NULL } },
};

static const char *gen_cmp(apr_pool_t *p, const char *attr, int kind)
{
    const char *op;

    if (kind == 1) {
        op = PICK(bool_ops);
        if (!strcmp(op, "pr")) {
            return apr_psprintf(p, "%s pr", attr);
        }
        return apr_psprintf(p, "%s %s %s", attr, op, rnd(2) ? "true" : "false");
    }
    if (kind == 2) {
        op = PICK(date_ops);
        if (!strcmp(op, "pr")) {
            return apr_psprintf(p, "%s pr", attr);
        }
        return apr_psprintf(p, "%s %s %s", attr, op, PICK(date_lits));
    }
    op = PICK(str_ops);
    if (!strcmp(op, "pr")) {
        return apr_psprintf(p, "%s pr", attr);
    }
    if (rnd(20) == 0 && (!strcmp(op, "eq") || !strcmp(op, "ne"))) {
        return apr_psprintf(p, "%s %s null", attr, op);
    }
    return apr_psprintf(p, "%s %s %s", attr, op, PICK(str_lits));
}

static const char *gen(apr_pool_t *p, char rt, int depth, int in_vp, int vp)
{
    unsigned r = rnd(depth > 0 ? 10 : 6);

    if (r >= 6) {
        const char *a = gen(p, rt, depth - 1, in_vp, vp);
        const char *b = gen(p, rt, depth - 1, in_vp, vp);

        switch (r) {
        case 6:
            return apr_psprintf(p, "%s and %s", a, b);
        case 7:
            return apr_psprintf(p, "%s or %s", a, b);
        case 8:
            return apr_psprintf(p, "not (%s)", a);
        default:
            return apr_psprintf(p, "(%s or %s) and %s", a, b,
                                gen(p, rt, 0, in_vp, vp));
        }
    }
    if (in_vp) {
        const char *sub;
        int n = 0;

        while (vpaths[vp].subs[n]) {
            n++;
        }
        sub = vpaths[vp].subs[rnd(n)];
        return gen_cmp(p, sub, 0);
    }
    if (rt == 'G') {
        if (r == 0) {
            return apr_psprintf(p, "members[%s]",
                                gen_cmp(p, rnd(2) ? "value" : "display", 0));
        }
        if (r == 1) {
            return gen_cmp(p, rnd(2) ? "meta.created" : "meta.lastModified", 2);
        }
        return gen_cmp(p, PICK(group_str_attrs), 0);
    }
    if (r == 0) {
        int v = rnd(sizeof(vpaths) / sizeof(vpaths[0]));

        return apr_psprintf(p, "%s[%s]", vpaths[v].attr,
                            gen(p, rt, depth > 1 ? 1 : 0, 1, v));
    }
    if (r == 1) {
        return gen_cmp(p, PICK(user_bool_attrs), 1);
    }
    if (r == 2) {
        return gen_cmp(p, PICK(user_date_attrs), 2);
    }
    return gen_cmp(p, PICK(user_str_attrs), 0);
}

static void check_generated(apr_pool_t *p, apr_array_header_t *ures,
                            apr_array_header_t *gres, int count)
{
    int i, agreed = 0, refused = 0;

    for (i = 0; i < count; i++) {
        apr_pool_t *sp;
        char rt = i % 4 == 3 ? 'G' : 'U';
        const scim_resource_type_t *t = rt == 'U' ? scim_schema_user()
                                                  : scim_schema_group();
        scim_filter_t *f = NULL;
        const char *text, *err = NULL, *got, *mem;

        apr_pool_create(&sp, p);
        text = gen(sp, rt, 3, 0, 0);
        if (scim_filter_parse(sp, t, text, 0, 0, &f, &err)) {
            /* Type rules refuse some combinations (e.g. "id gt"); that is
             * fine, but the refusal must be a clean parse error. */
            refused++;
            apr_pool_destroy(sp);
            continue;
        }
        checks++;
        got = sql_names(sp, rt, f, text);
        if (got) {
            mem = memory_names(sp, f, rt == 'U' ? ures : gres, 1);
            got = without_kelvin(sp, got);
            if (strcmp(mem, got)) {
                printf("not ok - generated %s\n  memory [%s]\n  SQL    [%s]\n",
                       text, mem, got);
                failures++;
            }
            else {
                agreed++;
            }
        }
        apr_pool_destroy(sp);
    }
    printf("ok - %d generated filters: SQL and memory agree on %d, %d "
           "refused by the parser\n",
           count, agreed, refused);
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    apr_array_header_t *ures, *gres;
    int rc, n = argc > 2 ? atoi(argv[2]) : 4000;
    size_t i;

    if (argc < 2) {
        fprintf(stderr, "usage: %s '<libpq conninfo>' [generated count]\n",
                argv[0]);
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    if ((rc = apr_dbd_init(p)) || (rc = apr_dbd_get_driver(p, "pgsql", &drv))
        || (rc = apr_dbd_open(drv, p, argv[1], &db))) {
        fprintf(stderr, "filter_sql_check: cannot connect (%d)\n", rc);
        return 2;
    }
    load(p);
    ures = resources(p, 'U');
    gres = resources(p, 'G');
    check_cases(p, ures, gres);
    check_sorts(p);
    check_generated(p, ures, gres, n);
    for (i = 0; i < (size_t)ures->nelts; i++) {
        json_decref(APR_ARRAY_IDX(ures, i, resource_t).res);
    }
    for (i = 0; i < (size_t)gres->nelts; i++) {
        json_decref(APR_ARRAY_IDX(gres, i, resource_t).res);
    }
    exec(p, "DELETE FROM tenants WHERE id IN (%s::uuid, %s::uuid)", 2, TENANT_A,
         TENANT_B);
    apr_dbd_close(drv, db);
    printf("%s: %d checks, %d failures\n", failures ? "FAIL" : "PASS", checks,
           failures);
    apr_pool_destroy(p);
    apr_terminate();
    return failures ? 1 : 0;
}
