/* The filter->SQL compiler of the store (see scim_store_filter.h): SCIM
 * filters and sortBy, parsed by the core (scim_filter.c), as parameterised
 * PostgreSQL over the tables of sql/. */

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "scim_filter.h"
#include "scim_store_filter.h"
#include "scim_util.h"

/* ---- SQL ---- */

/* How to reach the attributes of an element context in SQL. */
typedef enum {
    CTX_ROW = 0, /* the resource row r */
    CTX_JSON, /* a JSON object: base is its jsonb expression */
    CTX_GROUPS, /* a User's membership: group_members m + groups g */
    CTX_MEMBERS /* a Group's membership: group_members m + accounts a */
} ctx_kind_e;

typedef struct {
    ctx_kind_e kind;
    const char *base;
} ctx_t;

typedef enum { V_TEXT = 0, V_BOOL, V_TS, V_UUID, V_NUM } vkind_e;

/* An attribute value in SQL: a text expression or a column. */
typedef struct {
    const char *expr; /* text (V_TEXT), or the typed column */
    const char *json; /* the jsonb value when it lives in a document */
    vkind_e kind;
    int nullable;
    int case_exact;
    const char *name_key; /* userName, group displayName: the key column */
} sqlval_t;

typedef struct {
    apr_pool_t *p;
    const scim_resource_type_t *rt;
    apr_array_header_t *params;
    const char *err;
} sqlc_t;

static const char *param(sqlc_t *c, const char *v)
{
    APR_ARRAY_PUSH(c->params, const char *) = v;
    return "%s";
}

static int is_user(const sqlc_t *c)
{
    return c->rt->kind == SCIM_RES_USER;
}

static int named(const scim_attr_t *a, const char *n)
{
    return a && !strcmp(a->name, n);
}

/* The membership attribute: groups of a User, members of a Group. */
static int is_membership(const scim_resource_type_t *rt,
                         const scim_attr_ref_t *ref)
{
    return ref->schema == rt->schema
        && (rt->kind == SCIM_RES_USER ? named(ref->attr, "groups")
                                      : named(ref->attr, "members"));
}

static const char *membership_from(const sqlc_t *c)
{
    return is_user(c) ? "group_members m JOIN groups g ON g.tenant_id = "
                        "m.tenant_id AND g.id = m.group_id WHERE m.tenant_id "
                        "= r.tenant_id AND m.account_id = r.id"
                      : "group_members m JOIN accounts a ON a.tenant_id = "
                        "m.tenant_id AND a.id = m.account_id WHERE "
                        "m.tenant_id = r.tenant_id AND m.group_id = r.id";
}

static const char *json_key(apr_pool_t *p, const char *base, const char *k,
                            int text)
{
    return apr_psprintf(p, "(%s%s'%s')", base, text ? "->>" : "->", k);
}

static vkind_e kind_of(const scim_attr_t *a)
{
    switch (a->type) {
    case SCIM_TYPE_BOOLEAN:
        return V_BOOL;
    case SCIM_TYPE_DATETIME:
        return V_TS;
    case SCIM_TYPE_INTEGER:
    case SCIM_TYPE_DECIMAL:
        return V_NUM;
    default:
        return V_TEXT;
    }
}

/* A simple attribute a inside the JSON object base. */
static sqlval_t json_val(sqlc_t *c, const char *base, const scim_attr_t *a)
{
    sqlval_t v;

    v.expr = json_key(c->p, base, a->name, 1);
    v.json = json_key(c->p, base, a->name, 0);
    v.kind = kind_of(a);
    v.nullable = 1;
    v.case_exact = a->case_exact;
    v.name_key = NULL;
    return v;
}

static sqlval_t col(const char *expr, vkind_e kind, int nullable, int case_exact)
{
    sqlval_t v;

    v.expr = expr;
    v.json = NULL;
    v.kind = kind;
    v.nullable = nullable;
    v.case_exact = case_exact;
    v.name_key = NULL;
    return v;
}

/* The value of sub-attribute s in an element context, or NULL *err. */
static int elem_val(sqlc_t *c, const ctx_t *ctx, const scim_attr_t *s,
                    sqlval_t *v)
{
    if (ctx->kind == CTX_JSON) {
        *v = json_val(c, ctx->base, s);
        return 1;
    }
    if (named(s, "value")) {
        *v = col(ctx->kind == CTX_GROUPS ? "m.group_id" : "m.account_id",
                 V_UUID, 0, s->case_exact);
        return 1;
    }
    if (named(s, "display")) {
        *v = col(ctx->kind == CTX_GROUPS
                     ? "g.display_name"
                     : "COALESCE(a.display_name, a.user_name)",
                 V_TEXT, 0, s->case_exact);
        return 1;
    }
    if (named(s, "type")) {
        *v = col(ctx->kind == CTX_GROUPS ? "'direct'::text" : "'User'::text",
                 V_TEXT, 0, s->case_exact);
        return 1;
    }
    c->err = apr_psprintf(c->p, "%s.%s cannot be used in a filter",
                          ctx->kind == CTX_GROUPS ? "groups" : "members",
                          s->name);
    return 0;
}

/* The value of a single-valued attribute of the row, or 0 with c->err. */
static int row_val(sqlc_t *c, const scim_attr_ref_t *ref, sqlval_t *v)
{
    const scim_attr_t *a = ref->attr, *s = ref->sub;
    const char *base = "r.doc";

    if (ref->schema == c->rt->schema) {
        if (named(a, "id")) {
            *v = col("r.id", V_UUID, 0, a->case_exact);
            return 1;
        }
        if (named(a, "externalId")) {
            *v = col("r.external_id", V_TEXT, 1, a->case_exact);
            return 1;
        }
        if (named(a, "displayName")) {
            *v = col("r.display_name", V_TEXT, is_user(c), a->case_exact);
            v->name_key = is_user(c) ? NULL : "r.display_name_key";
            return 1;
        }
        if (named(a, "userName")) {
            *v = col("r.user_name", V_TEXT, 0, a->case_exact);
            v->name_key = "r.user_name_key";
            return 1;
        }
        if (named(a, "active")) {
            *v = col("r.active", V_BOOL, 0, 1);
            return 1;
        }
        if (named(a, "meta")) {
            if (named(s, "created")) {
                *v = col("r.created_at", V_TS, 0, 1);
                return 1;
            }
            if (named(s, "lastModified")) {
                *v = col("r.updated_at", V_TS, 0, 1);
                return 1;
            }
            if (named(s, "resourceType")) {
                *v = col(is_user(c) ? "'User'::text" : "'Group'::text", V_TEXT,
                         0, s->case_exact);
                return 1;
            }
            c->err = apr_psprintf(c->p, "meta%s%s cannot be used in a filter",
                                  s ? "." : "", s ? s->name : "");
            return 0;
        }
    }
    else {
        base = apr_psprintf(c->p, "(r.doc->'%s')", ref->schema->id);
    }
    if (s) {
        base = json_key(c->p, base, a->name, 0);
        a = s;
    }
    *v = json_val(c, base, a);
    return 1;
}

/* F(x): case folding for case-insensitive strings. */
static const char *fold_sql(sqlc_t *c, const sqlval_t *v, const char *x)
{
    return v->case_exact ? x : apr_psprintf(c->p, "lower(upper(%s))", x);
}

/* An expression of parameters alone, as a sub-SELECT: PostgreSQL computes it
 * once per statement (an InitPlan), where our sessions' generic plans
 * (scim_db.c) would compute it once per row and term. A LIKE pattern goes in
 * with its escape applied (like_escape, as PostgreSQL's grammar rewrites
 * "LIKE p ESCAPE '!'"), which would otherwise also run once per row: a key
 * of a literal can be ten times its length (NFKC). */
static const char *once(sqlc_t *c, const char *expr)
{
    return apr_psprintf(c->p, "(SELECT %s)", expr);
}

static const char *like_once(sqlc_t *c, const char *pattern)
{
    return apr_psprintf(c->p, "(SELECT like_escape(%s, '!'))", pattern);
}

/* The literal as a parameter cast to type, computed once. */
static const char *cast_once(sqlc_t *c, const char *lit, const char *type)
{
    return once(c, apr_psprintf(c->p, "%s::%s", param(c, lit), type));
}

/* The name key of the literal (sql/012_row_rules.sql: the statements'
 * scim_name_key_sql(), which PostgreSQL inlines). */
static const char *name_key_of(sqlc_t *c, const char *lit)
{
    return apr_psprintf(c->p, "scim_name_key_sql(%s)", param(c, lit));
}

/* The folded literal, computed once when folding is work. */
static const char *fold_param(sqlc_t *c, const sqlval_t *v, const char *lit)
{
    const char *x = fold_sql(c, v, param(c, lit));

    return v->case_exact ? x : once(c, x);
}

static const char *like_pattern(sqlc_t *c, scim_filter_op_e op, const char *lit)
{
    apr_size_t n = strlen(lit), i;
    char *out = apr_palloc(c->p, 2 * n + 3), *o = out;

    if (op != SCIM_OP_SW) {
        *o++ = '%';
    }
    for (i = 0; i < n; i++) {
        if (lit[i] == '%' || lit[i] == '_' || lit[i] == '!') {
            *o++ = '!';
        }
        *o++ = lit[i];
    }
    if (op != SCIM_OP_EW) {
        *o++ = '%';
    }
    *o = '\0';
    return out;
}

static const char *sql_op(scim_filter_op_e op)
{
    switch (op) {
    case SCIM_OP_GT:
        return ">";
    case SCIM_OP_GE:
        return ">=";
    case SCIM_OP_LT:
        return "<";
    case SCIM_OP_LE:
        return "<=";
    default:
        return "=";
    }
}

/* A UUID in the 8-4-4-4-12 form (lower-case only when lower is set). */
static int is_uuid_text(const char *s, int lower)
{
    int i;

    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
        }
        else if (!apr_isdigit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f')
                 && (lower || !(s[i] >= 'A' && s[i] <= 'F'))) {
            return 0;
        }
    }
    return s[36] == '\0';
}

static const char *lower_str(sqlc_t *c, const char *s)
{
    char *l = apr_pstrdup(c->p, s), *x;

    for (x = l; *x; x++) {
        *x = (char)apr_tolower(*x);
    }
    return l;
}

/* An xsd:dateTime (already validated) as PostgreSQL reads it whatever the
 * session time zone: upper-case T and Z, and Z when no zone was given. */
static const char *pg_datetime(sqlc_t *c, const char *s)
{
    apr_size_t n = strlen(s);
    int zone = s[n - 1] == 'Z' || s[n - 1] == 'z'
        || (n >= 25 && (s[n - 6] == '+' || s[n - 6] == '-'));
    char *out = apr_pstrcat(c->p, s, zone ? "" : "Z", NULL);

    out[10] = 'T';
    if (out[n - 1] == 'z') {
        out[n - 1] = 'Z';
    }
    return out;
}

/* The two-valued SQL predicate "v op literal" (never NULL). */
static const char *predicate(sqlc_t *c, const sqlval_t *v, const scim_filter_t *f)
{
    const char *x = v->expr, *p;

    if (f->op == SCIM_OP_PR) {
        if (v->json) {
            return apr_psprintf(c->p,
                                "(%s IS NOT NULL AND %s NOT IN ('null'::jsonb, "
                                "'\"\"'::jsonb, '[]'::jsonb, '{}'::jsonb))",
                                v->json, v->json);
        }
        if (v->kind == V_TEXT) {
            return v->nullable
                ? apr_psprintf(c->p, "(%s IS NOT NULL AND %s <> '')", x, x)
                : apr_psprintf(c->p, "(%s <> '')", x);
        }
        return v->nullable ? apr_psprintf(c->p, "(%s IS NOT NULL)", x) : "TRUE";
    }
    switch (v->kind) {
    case V_BOOL:
        if (v->json) {
            return apr_psprintf(c->p, "(%s IS NOT NULL AND %s = %s::jsonb)",
                                v->json, v->json,
                                param(c,
                                      f->lit == SCIM_LIT_TRUE ? "true" : "false"));
        }
        return apr_psprintf(c->p, "(%s = %s::boolean)", x,
                            param(c, f->lit == SCIM_LIT_TRUE ? "true" : "false"));
    case V_TS:
        p = apr_psprintf(c->p, "%s %s %s",
                         v->json ? apr_psprintf(c->p, "(%s)::timestamptz", x) : x,
                         sql_op(f->op),
                         cast_once(c, pg_datetime(c, f->value), "timestamptz"));
        break;
    case V_NUM:
        return apr_psprintf(c->p,
                            "(CASE WHEN jsonb_typeof(%s) = 'number' THEN "
                            "(%s)::numeric %s %s ELSE FALSE END)",
                            v->json, v->json, sql_op(f->op),
                            cast_once(c, f->value, "numeric"));
    case V_UUID:
        /* Equal to a UUID: the indexable uuid comparison. The text form
         * of a uuid is lower-case, so a case-exact attribute only equals a
         * lower-case literal. Anything else compares as text, which can
         * never fail with a cast error. */
        if (f->op == SCIM_OP_EQ && is_uuid_text(f->value, v->case_exact)) {
            return apr_psprintf(c->p, "(%s = %s::uuid)", x,
                                param(c,
                                      v->case_exact ? f->value
                                                    : lower_str(c, f->value)));
        }
        x = apr_psprintf(c->p, "%s::text", x);
        /* fall through */
    default:
        switch (f->op) {
        case SCIM_OP_CO:
        case SCIM_OP_SW:
        case SCIM_OP_EW:
            if (v->name_key) {
                /* The name key, as eq and ne compare: the literal's key,
                 * made a LIKE pattern after normalising (a fullwidth
                 * percent sign becomes '%' there and must stay literal);
                 * chr(37) is '%', which DBD would take for a placeholder.
                 * Once per statement, like every function of the literal
                 * here (once()). */
                p = apr_psprintf(c->p, "%s LIKE %s", v->name_key,
                                 like_once(c,
                                           apr_psprintf(c->p,
                                                        "%sreplace(replace(replace("
                                                        "%s, '!', '!!'), "
                                                        "chr(37), '!' || chr(37)), '_', "
                                                        "'!_')%s",
                                                        f->op == SCIM_OP_SW
                                                            ? ""
                                                            : "chr(37) || ",
                                                        name_key_of(c, f->value),
                                                        f->op == SCIM_OP_EW
                                                            ? ""
                                                            : " || chr(37)")));
                break;
            }
            p = apr_psprintf(c->p, "%s LIKE %s", fold_sql(c, v, x),
                             like_once(c,
                                       fold_sql(c, v,
                                                param(c,
                                                      like_pattern(c, f->op,
                                                                   f->value)))));
            break;
        case SCIM_OP_EQ:
            if (v->name_key) {
                /* the key of sql/003_name_keys.sql: its index serves this */
                p = apr_psprintf(c->p, "%s = %s", v->name_key,
                                 once(c, name_key_of(c, f->value)));
                break;
            }
            p = apr_psprintf(c->p, "%s = %s", fold_sql(c, v, x),
                             fold_param(c, v, f->value));
            break;
        default:
            if (v->name_key) {
                p = apr_psprintf(c->p, "%s COLLATE \"C\" %s %s", v->name_key,
                                 sql_op(f->op),
                                 once(c, name_key_of(c, f->value)));
                break;
            }
            p = apr_psprintf(c->p, "%s COLLATE \"C\" %s %s", fold_sql(c, v, x),
                             sql_op(f->op), fold_param(c, v, f->value));
            break;
        }
    }
    if (v->nullable) {
        return apr_psprintf(c->p, "(%s IS NOT NULL AND %s)", v->expr, p);
    }
    return apr_psprintf(c->p, "(%s)", p);
}

static const char *compile(sqlc_t *c, const scim_filter_t *f, const ctx_t *ctx);

/* The JSON array of a multi-valued attribute of the row, as a set source
 * that is empty unless the value really is an array. */
static const char *elements(sqlc_t *c, const scim_attr_ref_t *ref)
{
    const char *base = ref->schema == c->rt->schema
        ? "r.doc"
        : apr_psprintf(c->p, "(r.doc->'%s')", ref->schema->id);
    const char *arr = json_key(c->p, base, ref->attr->name, 0);

    return apr_psprintf(c->p,
                        "jsonb_array_elements(CASE WHEN jsonb_typeof(%s) = "
                        "'array' THEN %s END) AS e(v)",
                        arr, arr);
}

static const char *compile_cmp(sqlc_t *c, const scim_filter_t *f, const ctx_t *ctx)
{
    sqlval_t v;
    const char *pred;
    ctx_t ec;

    if (f->in_element) {
        return elem_val(c, ctx, f->ref.sub, &v) ? predicate(c, &v, f) : NULL;
    }
    if (is_membership(c->rt, &f->ref)) {
        if (!f->ref.sub) {
            return apr_psprintf(c->p, "EXISTS (SELECT 1 FROM %s)",
                                membership_from(c));
        }
        ec.kind = is_user(c) ? CTX_GROUPS : CTX_MEMBERS;
        ec.base = NULL;
        if (!elem_val(c, &ec, f->ref.sub, &v)) {
            return NULL;
        }
        pred = predicate(c, &v, f);
        return apr_psprintf(c->p, "EXISTS (SELECT 1 FROM %s AND %s)",
                            membership_from(c), pred);
    }
    if (f->ref.attr->multi_valued && f->ref.sub) {
        v = json_val(c, "e.v", f->ref.sub);
        pred = predicate(c, &v, f);
        return apr_psprintf(c->p, "EXISTS (SELECT 1 FROM %s WHERE %s)",
                            elements(c, &f->ref), pred);
    }
    if (f->ref.attr->type == SCIM_TYPE_COMPLEX && !f->ref.sub) {
        /* pr on a complex attribute */
        scim_attr_ref_t whole = f->ref;
        const char *base = whole.schema == c->rt->schema
            ? "r.doc"
            : apr_psprintf(c->p, "(r.doc->'%s')", whole.schema->id);

        v = json_val(c, base, whole.attr);
        return predicate(c, &v, f);
    }
    if (!row_val(c, &f->ref, &v)) {
        return NULL;
    }
    return predicate(c, &v, f);
}

static const char *compile_value_path(sqlc_t *c, const scim_filter_t *f)
{
    ctx_t ec;
    const char *inner;

    if (is_membership(c->rt, &f->ref)) {
        ec.kind = is_user(c) ? CTX_GROUPS : CTX_MEMBERS;
        ec.base = NULL;
        if (!(inner = compile(c, f->left, &ec))) {
            return NULL;
        }
        return apr_psprintf(c->p, "EXISTS (SELECT 1 FROM %s AND %s)",
                            membership_from(c), inner);
    }
    ec.kind = CTX_JSON;
    if (f->ref.attr->multi_valued) {
        const char *from = elements(c, &f->ref);

        ec.base = "e.v";
        if (!(inner = compile(c, f->left, &ec))) {
            return NULL;
        }
        return apr_psprintf(c->p, "EXISTS (SELECT 1 FROM %s WHERE %s)", from,
                            inner);
    }
    /* A single complex attribute: it must be there for a match. */
    ec.base = json_key(c->p,
                       f->ref.schema == c->rt->schema
                           ? "r.doc"
                           : apr_psprintf(c->p, "(r.doc->'%s')",
                                          f->ref.schema->id),
                       f->ref.attr->name, 0);
    if (!(inner = compile(c, f->left, &ec))) {
        return NULL;
    }
    return apr_psprintf(c->p,
                        "(COALESCE(jsonb_typeof(%s) = 'object', FALSE) AND "
                        "%s)",
                        ec.base, inner);
}

static const char *compile(sqlc_t *c, const scim_filter_t *f, const ctx_t *ctx)
{
    if (f->kind == SCIM_FILTER_AND || f->kind == SCIM_FILTER_OR) {
        /* Left-deep chains, compiled left to right so that the parameters
         * come in text order, without deep recursion. */
        apr_array_header_t *chain = apr_array_make(c->p, 8,
                                                   sizeof(scim_filter_t *));
        apr_array_header_t *parts;
        scim_filter_kind_e k = f->kind;
        const char *s;
        int i;

        for (; f->kind == k; f = f->left) {
            APR_ARRAY_PUSH(chain, scim_filter_t *) = f->right;
        }
        /* joined once at the end: linear in the number of terms */
        parts = apr_array_make(c->p, 2 * chain->nelts + 3, sizeof(const char *));
        APR_ARRAY_PUSH(parts, const char *) = "(";
        if (!(s = compile(c, f, ctx))) {
            return NULL;
        }
        APR_ARRAY_PUSH(parts, const char *) = s;
        for (i = chain->nelts - 1; i >= 0; i--) {
            if (!(s = compile(c, APR_ARRAY_IDX(chain, i, scim_filter_t *), ctx))) {
                return NULL;
            }
            APR_ARRAY_PUSH(parts, const char *) = k == SCIM_FILTER_AND ? " AND "
                                                                       : " OR ";
            APR_ARRAY_PUSH(parts, const char *) = s;
        }
        APR_ARRAY_PUSH(parts, const char *) = ")";
        return apr_array_pstrcat(c->p, parts, 0);
    }
    switch (f->kind) {
    case SCIM_FILTER_NOT: {
        const char *s = compile(c, f->left, ctx);

        return s ? apr_pstrcat(c->p, "(NOT ", s, ")", NULL) : NULL;
    }
    case SCIM_FILTER_VALUE_PATH:
        return compile_value_path(c, f);
    default:
        return compile_cmp(c, f, ctx);
    }
}

apr_status_t scim_filter_sql(apr_pool_t *p, const scim_resource_type_t *rt,
                             const scim_filter_t *f, apr_array_header_t *params,
                             const char **where, const char **err)
{
    sqlc_t c = { p, rt, params, NULL };
    ctx_t ctx = { CTX_ROW, NULL };
    int n = params->nelts;

    *where = compile(&c, f, &ctx);
    if (!*where) {
        params->nelts = n;
        *err = apr_pstrcat(p, "invalid filter: ", c.err, NULL);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t scim_filter_sort_sql(apr_pool_t *p, const scim_resource_type_t *rt,
                                  const char *sort_by, int descending,
                                  const char **order_by, const char **err)
{
    sqlc_t c = { p, rt, NULL, NULL };
    scim_attr_ref_t ref;
    sqlval_t v;
    const char *expr;
    apr_status_t rv;

    *order_by = NULL;
    rv = scim_schema_resolve(rt, sort_by ? sort_by : "",
                             sort_by ? strlen(sort_by) : 0, 0, &ref);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "sortBy: %s attribute \"%s\"",
                            rv == APR_ENOENT ? "unknown" : "invalid",
                            scim_util_quote(p, sort_by,
                                            sort_by ? strlen(sort_by) : 0, 64));
        return APR_EINVAL;
    }
    if (ref.attr->type == SCIM_TYPE_COMPLEX && !ref.sub) {
        ref.sub = scim_schema_sub_attr(ref.attr, "value", 5);
    }
    if ((ref.attr->type == SCIM_TYPE_COMPLEX && !ref.sub)
        || is_membership(rt, &ref) || ref.attr->returned == SCIM_RET_NEVER) {
        *err = apr_psprintf(p, "sortBy: cannot sort by %s",
                            scim_schema_ref_name(p, &ref));
        return APR_EINVAL;
    }
    if (ref.attr->multi_valued) {
        /* The primary value, else the first one. */
        v = json_val(&c, "e.v", ref.sub);
        expr = apr_psprintf(p,
                            "(SELECT %s FROM jsonb_array_elements(CASE WHEN "
                            "jsonb_typeof(%s) = 'array' THEN %s END) WITH "
                            "ORDINALITY AS e(v, n) ORDER BY COALESCE(e.v->"
                            "'primary' = 'true'::jsonb, FALSE) DESC, e.n "
                            "LIMIT 1)",
                            fold_sql(&c, &v, v.expr),
                            json_key(p,
                                     ref.schema == rt->schema
                                         ? "r.doc"
                                         : apr_psprintf(p, "(r.doc->'%s')",
                                                        ref.schema->id),
                                     ref.attr->name, 0),
                            json_key(p,
                                     ref.schema == rt->schema
                                         ? "r.doc"
                                         : apr_psprintf(p, "(r.doc->'%s')",
                                                        ref.schema->id),
                                     ref.attr->name, 0));
    }
    else {
        if (!row_val(&c, &ref, &v)) {
            *err = apr_pstrcat(p, "sortBy: ", c.err, NULL);
            return APR_EINVAL;
        }
        expr = v.expr;
        if (v.kind == V_TEXT) {
            expr = fold_sql(&c, &v, expr);
        }
        else if (v.json && v.kind == V_TS) {
            expr = apr_psprintf(p, "(%s)::timestamptz", v.expr);
        }
        else if (v.json && v.kind == V_NUM) {
            expr = apr_psprintf(p,
                                "(CASE WHEN jsonb_typeof(%s) = 'number' THEN "
                                "(%s)::numeric END)",
                                v.json, v.json);
        }
        if (v.kind == V_TEXT) {
            expr = apr_psprintf(p, "%s COLLATE \"C\"", expr);
        }
    }
    if (ref.attr->multi_valued) {
        expr = apr_psprintf(p, "%s COLLATE \"C\"", expr);
    }
    *order_by = apr_pstrcat(p, expr, descending ? " DESC" : " ASC",
                            " NULLS LAST", NULL);
    return APR_SUCCESS;
}
