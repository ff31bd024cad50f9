/* SCIM PATCH: see scim_patch.h. */

#include <stdlib.h>
#include <string.h>

#include <apr_cstr.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "scim_filter.h"
#include "scim_json.h"
#include "scim_patch.h"
#include "scim_util.h"

/* Limits of a path inside a PATCH operation. */
#define MAX_PATH_LEN   1024
#define MAX_PATH_DEPTH 8

typedef enum { OP_ADD, OP_REMOVE, OP_REPLACE } op_e;

typedef struct {
    apr_pool_t *p;
    const scim_resource_type_t *rt;
    const char *id;
    int flags;
    json_t *doc; /* the document being changed */
    scim_fault_t *fault;
    const char *where; /* "Operations[2]: " */
    /* The member ids of members_arr, kept from one add to the next so that
     * many add operations cost one pass over a large group; NULL when
     * another operation may have changed the members. */
    apr_hash_t *member_ids;
    json_t *members_arr;
    apr_size_t member_values; /* members given in this request */
    /* scim_patch_user_set: doc starts empty and collects the values set;
     * an operation whose outcome depends on the stored document stops the
     * run with APR_ENOTIMPL. */
    int collect;
} patch_t;

static apr_status_t failf(patch_t *pt, const char *type, const char *msg)
{
    scim_fault_set(pt->fault, pt->p, 400, type, "%s%s", pt->where, msg);
    return APR_EINVAL;
}

static int is_members(const patch_t *pt, const scim_attr_t *a)
{
    return pt->rt->kind == SCIM_RES_GROUP && a && !strcmp(a->name, "members");
}

/* Set obj[name] (canonical spelling), dropping other spellings of it. */
static void set_canon(json_t *obj, const char *name, json_t *v)
{
    const char *k;
    json_t *x;
    void *tmp;

    json_object_foreach_safe(obj, tmp, k, x)
    {
        if (strcmp(k, name) && !apr_cstr_casecmp(k, name)) {
            json_object_del(obj, k);
        }
    }
    json_object_set_new(obj, name, v);
}

static void del_ci(json_t *obj, const char *name)
{
    const char *k;
    json_t *x;
    void *tmp;

    json_object_foreach_safe(obj, tmp, k, x)
    {
        if (!apr_cstr_casecmp(k, name)) {
            json_object_del(obj, k);
        }
    }
}

/* The lower-cased member id of a members element, or NULL; may be the
 * element's own string, valid as long as the element. */
static const char *member_id(apr_pool_t *p, const json_t *e)
{
    const char *v = json_string_value(scim_schema_obj_get(e, "value"));
    char *l, *x;

    if (!v) {
        return NULL;
    }
    for (x = (char *)v; *x && !apr_isupper(*x); x++) {
    }
    if (!*x) {
        return v; /* already lower-case (stored and normalised ids are) */
    }
    l = apr_pstrdup(p, v);
    for (x = l; *x; x++) {
        *x = (char)apr_tolower(*x);
    }
    return l;
}

/* Clear "primary" of every element of arr other than keep. */
static void demote_primaries(json_t *arr, const json_t *keep)
{
    size_t i;
    json_t *e;

    json_array_foreach(arr, i, e)
    {
        if (e != keep && json_is_object(e)
            && json_is_true(scim_schema_obj_get(e, "primary"))) {
            set_canon(e, "primary", json_false());
        }
    }
}

static int is_primary(const json_t *e)
{
    return json_is_true(scim_schema_obj_get(e, "primary"));
}

/* A value normalised for a target; *out NULL when unassigned. */
static apr_status_t norm(patch_t *pt, const scim_attr_ref_t *ref,
                         const json_t *v, int element, json_t **out)
{
    apr_status_t rv;

    rv = scim_schema_normalize_value(pt->p, pt->rt, ref, v, element, pt->flags,
                                     out, pt->fault);
    if (rv == APR_SUCCESS && *out && !ref->sub && is_members(pt, ref->attr)) {
        pt->member_values += json_is_array(*out) ? json_array_size(*out) : 1;
        if (pt->member_values > SCIM_MAX_MEMBER_VALUES) {
            scim_fault_set(pt->fault, pt->p, 400, "invalidValue",
                           "more than %d members in one request",
                           SCIM_MAX_MEMBER_VALUES);
            rv = APR_EINVAL;
        }
    }
    if (rv != APR_SUCCESS && pt->fault && pt->fault->detail) {
        pt->fault->detail = apr_pstrcat(pt->p, pt->where, pt->fault->detail,
                                        NULL);
    }
    return rv;
}

/* The element a value filter describes, if it is only "sub eq literal"
 * terms joined with and; 0 otherwise. */
static int eq_terms(const scim_filter_t *f, json_t *obj)
{
    json_t *v = NULL;

    if (f->kind == SCIM_FILTER_AND) {
        return eq_terms(f->left, obj) && eq_terms(f->right, obj);
    }
    if (f->kind != SCIM_FILTER_CMP || !f->in_element || f->op != SCIM_OP_EQ) {
        return 0;
    }
    switch (f->lit) {
    case SCIM_LIT_STRING:
        v = json_string(f->value);
        break;
    case SCIM_LIT_TRUE:
        v = json_true();
        break;
    case SCIM_LIT_FALSE:
        v = json_false();
        break;
    case SCIM_LIT_NUMBER:
        v = strpbrk(f->value, ".eE") ? json_real(strtod(f->value, NULL))
                                     : json_integer(strtoll(f->value, NULL, 10));
        break;
    default:
        return 0;
    }
    json_object_set_new(obj, f->ref.sub->name, v);
    return 1;
}

/* Whether element e equals the given (normalised) value for a removal by
 * value: members by id, others when every given sub-attribute is equal. */
static int same_element(patch_t *pt, const scim_attr_t *a, const json_t *e,
                        const json_t *given)
{
    const char *k;
    json_t *v;

    if (is_members(pt, a)) {
        const char *x = member_id(pt->p, e), *y = member_id(pt->p, given);

        return x && y && !strcmp(x, y);
    }
    if (!json_is_object(given) || !json_is_object(e)) {
        return json_equal((json_t *)e, (json_t *)given);
    }
    json_object_foreach((json_t *)given, k, v)
    {
        if (!json_equal(scim_schema_obj_get(e, k), v)) {
            return 0;
        }
    }
    return 1;
}

/* ---- operations on one target ---- */

/* Append the elements of vals (a normalised array) to the multi-valued
 * attribute arr, skipping ones already there. */
static apr_status_t append_unique(patch_t *pt, const scim_attr_t *a,
                                  json_t *arr, json_t *vals)
{
    apr_hash_t *ids = NULL;
    size_t i, j;
    json_t *v;

    if (is_members(pt, a)) {
        if (pt->member_ids && pt->members_arr == arr) {
            ids = pt->member_ids;
        }
        else {
            ids = apr_hash_make(pt->p);
            json_array_foreach(arr, i, v)
            {
                const char *id = member_id(pt->p, v);

                if (id) {
                    apr_hash_set(ids, id, APR_HASH_KEY_STRING, "");
                }
            }
            pt->member_ids = ids;
            pt->members_arr = arr;
        }
    }
    json_array_foreach(vals, i, v)
    {
        int dup = 0;

        if (ids) {
            const char *id = member_id(pt->p, v);

            dup = !id || apr_hash_get(ids, id, APR_HASH_KEY_STRING) != NULL;
            if (!dup) {
                apr_hash_set(ids, id, APR_HASH_KEY_STRING, "");
            }
        }
        else {
            for (j = 0; j < json_array_size(arr) && !dup; j++) {
                dup = json_equal(json_array_get(arr, j), v);
            }
        }
        if (!dup) {
            if (!ids && json_array_size(arr) >= SCIM_MAX_MULTI_VALUES) {
                return failf(pt, "invalidValue",
                             apr_psprintf(pt->p, "%s has more than %d values",
                                          a->name, SCIM_MAX_MULTI_VALUES));
            }
            json_array_append(arr, v);
            if (is_primary(v)) {
                demote_primaries(arr,
                                 json_array_get(arr, json_array_size(arr) - 1));
            }
        }
    }
    return APR_SUCCESS;
}

/* Merge the sub-attributes of obj (normalised) into target. */
static void merge(json_t *target, const json_t *obj)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)obj, k, v)
    {
        set_canon(target, k, json_incref(v));
    }
}

/* The multi-valued attribute's array in container c (created on demand). */
static json_t *array_of(json_t *c, const scim_attr_t *a, int create)
{
    json_t *arr = scim_schema_obj_get(c, a->name);

    if (!json_is_array(arr)) {
        if (!create) {
            return NULL;
        }
        arr = json_array();
        set_canon(c, a->name, arr);
    }
    return arr;
}

/* An operation on a path without value filter. */
static apr_status_t op_plain(patch_t *pt, op_e op, const scim_attr_ref_t *ref,
                             const json_t *value)
{
    const scim_attr_t *a = ref->attr, *s = ref->sub;
    json_t *c = scim_schema_container(pt->doc, ref, op != OP_REMOVE);
    json_t *nv = NULL, *cur;
    apr_status_t rv;
    size_t i;

    if (op != OP_ADD || s) {
        pt->member_ids = NULL; /* the members may change otherwise */
    }
    if (!c) {
        /* Removing from an absent extension: nothing to do. An extension
         * that is not an object cannot be patched. */
        return op == OP_REMOVE
            ? APR_SUCCESS
            : failf(pt, "invalidValue", "the extension is not an object");
    }
    cur = scim_schema_obj_get(c, a->name);
    if (s) {
        /* A sub-attribute: of the object, or of every element. */
        if (op != OP_REMOVE
            && (rv = norm(pt, ref, value, 0, &nv)) != APR_SUCCESS) {
            return rv;
        }
        if (pt->collect && !nv) {
            return APR_ENOTIMPL; /* a removal */
        }
        if (a->multi_valued) {
            json_t *e;

            if (!json_is_array(cur) || !json_array_size(cur)) {
                if (!nv) {
                    return APR_SUCCESS;
                }
                cur = array_of(c, a, 1);
                json_array_append_new(cur, json_object());
            }
            json_array_foreach(cur, i, e)
            {
                if (!json_is_object(e)) {
                    continue;
                }
                if (nv) {
                    set_canon(e, s->name, json_incref(nv));
                }
                else {
                    del_ci(e, s->name);
                }
            }
            return APR_SUCCESS;
        }
        if (!nv) {
            if (json_is_object(cur)) {
                del_ci(cur, s->name);
            }
            return APR_SUCCESS;
        }
        if (!json_is_object(cur)) {
            cur = json_object();
            set_canon(c, a->name, cur);
        }
        set_canon(cur, s->name, json_incref(nv));
        return APR_SUCCESS;
    }

    if (op == OP_REMOVE) {
        if (a->required) {
            return failf(pt, "mutability",
                         apr_psprintf(pt->p,
                                      "%s is required and cannot be "
                                      "removed",
                                      a->name));
        }
        if (a->multi_valued && value && !json_is_null(value)) {
            /* Remove only the given values (Entra's member removal). */
            json_t *gone;

            if ((rv = norm(pt, ref, value, 0, &gone)) != APR_SUCCESS) {
                return rv;
            }
            if (gone && is_members(pt, a) && json_is_array(cur)) {
                /* by id, in one pass over each list (a large group and a
                 * large value array are the normal case) */
                apr_hash_t *ids = apr_hash_make(pt->p);
                json_t *kept = json_array(), *e;
                const char *id;

                json_array_foreach(gone, i, e)
                {
                    if ((id = member_id(pt->p, e))) {
                        apr_hash_set(ids, id, APR_HASH_KEY_STRING, "");
                    }
                }
                json_array_foreach(cur, i, e)
                {
                    id = member_id(pt->p, e);
                    if (!id || !apr_hash_get(ids, id, APR_HASH_KEY_STRING)) {
                        json_array_append(kept, e);
                    }
                }
                set_canon(c, a->name, kept);
                return APR_SUCCESS;
            }
            for (i = json_array_size(cur); gone && i-- > 0;) {
                size_t j;

                for (j = 0; j < json_array_size(gone); j++) {
                    if (same_element(pt, a, json_array_get(cur, i),
                                     json_array_get(gone, j))) {
                        json_array_remove(cur, i);
                        break;
                    }
                }
            }
            return APR_SUCCESS;
        }
        del_ci(c, a->name);
        return APR_SUCCESS;
    }

    if ((rv = norm(pt, ref, value, 0, &nv)) != APR_SUCCESS) {
        return rv;
    }
    if (pt->collect && !nv) {
        return APR_ENOTIMPL; /* a removal */
    }
    if (!nv) {
        /* null, "", [] or {}: replace removes, add adds nothing. */
        if (op == OP_REPLACE) {
            if (a->required) {
                return failf(pt, "invalidValue",
                             apr_psprintf(pt->p, "%s is required", a->name));
            }
            del_ci(c, a->name);
        }
        return APR_SUCCESS;
    }
    if (a->multi_valued) {
        if (op == OP_REPLACE) {
            set_canon(c, a->name, json_incref(nv));
        }
        else {
            return append_unique(pt, a, array_of(c, a, 1), nv);
        }
        return APR_SUCCESS;
    }
    if (a->type == SCIM_TYPE_COMPLEX && json_is_object(cur)) {
        merge(cur, nv);
        return APR_SUCCESS;
    }
    set_canon(c, a->name, json_incref(nv));
    return APR_SUCCESS;
}

/* An operation on attr[filter] or attr[filter].sub. */
static apr_status_t op_filtered(patch_t *pt, op_e op, const scim_path_t *path,
                                const json_t *value)
{
    const scim_attr_ref_t *ref = &path->ref;
    const scim_attr_t *a = ref->attr, *s = ref->sub;
    json_t *c = scim_schema_container(pt->doc, ref, op != OP_REMOVE);
    json_t *arr, *nv = NULL, *e, *created;
    apr_status_t rv;
    size_t i;
    int matched = 0;
    /* the member ids of the array, kept up to date by a removal */
    apr_hash_t *ids = pt->member_ids;

    pt->member_ids = NULL; /* the members may change */
    if (!c) {
        return op == OP_REMOVE
            ? APR_SUCCESS
            : failf(pt, "invalidValue", "the extension is not an object");
    }
    if (op != OP_REMOVE) {
        rv = norm(pt, ref, value, 1, &nv);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (!a->multi_valued) {
        /* A single complex attribute: the filter must match it. */
        json_t *cur = scim_schema_obj_get(c, a->name);

        if (!json_is_object(cur) || !scim_filter_match(path->filter, cur)) {
            return op == OP_REMOVE ? APR_SUCCESS
                                   : failf(pt, "noTarget",
                                           "the value filter matches "
                                           "nothing");
        }
        return op_plain(pt, op, ref, value);
    }

    arr = array_of(c, a, 0);
    if (op == OP_REMOVE && !s) {
        /* keep the others, in one pass (not one memmove per match) */
        json_t *kept = json_array();

        if (!is_members(pt, a) || pt->members_arr != arr) {
            ids = NULL;
        }
        json_array_foreach(arr, i, e)
        {
            if (json_is_object(e) && scim_filter_match(path->filter, e)) {
                const char *id = ids ? member_id(pt->p, e) : NULL;

                if (id) {
                    apr_hash_set(ids, id, APR_HASH_KEY_STRING, NULL);
                }
                continue;
            }
            json_array_append(kept, e);
        }
        if (arr) {
            set_canon(c, a->name, kept);
            pt->member_ids = ids;
            pt->members_arr = kept;
        }
        else {
            json_decref(kept);
        }
        return APR_SUCCESS;
    }
    for (i = json_array_size(arr); arr && i-- > 0;) {
        e = json_array_get(arr, i);
        if (!json_is_object(e) || !scim_filter_match(path->filter, e)) {
            continue;
        }
        matched++;
        if (op == OP_REMOVE) {
            if (s) {
                del_ci(e, s->name);
            }
            else {
                json_array_remove(arr, i);
            }
        }
        else if (s) {
            if (nv) {
                set_canon(e, s->name, json_incref(nv));
                if (!strcmp(s->name, "primary") && json_is_true(nv)) {
                    demote_primaries(arr, e);
                }
            }
            else {
                del_ci(e, s->name);
            }
        }
        else if (op == OP_ADD) {
            if (nv) {
                merge(e, nv);
            }
        }
        else {
            /* replace: the whole matching value */
            if (nv) {
                json_array_set(arr, i, nv);
            }
            else {
                json_array_remove(arr, i);
            }
        }
    }
    if (matched || op == OP_REMOVE) {
        if (matched && nv && op != OP_REMOVE && is_primary(nv)) {
            /* The last updated element keeps primary. */
            for (i = 0; i < json_array_size(arr); i++) {
                if (json_is_object(json_array_get(arr, i))
                    && scim_filter_match(path->filter, json_array_get(arr, i))) {
                    demote_primaries(arr, json_array_get(arr, i));
                    break;
                }
            }
        }
        return APR_SUCCESS;
    }

    /* No match: add or replace creates the element the filter describes. */
    created = json_object();
    if (!eq_terms(path->filter, created)) {
        json_decref(created);
        if (op == OP_ADD && !s) {
            /* add with a filter that describes no element: plain add */
            return op_plain(pt, OP_ADD, ref, value);
        }
        return failf(pt, "noTarget", "the value filter matches nothing");
    }
    if (!nv) {
        json_decref(created);
        return APR_SUCCESS;
    }
    if (s) {
        set_canon(created, s->name, json_incref(nv));
    }
    else {
        merge(created, nv);
    }
    {
        scim_attr_ref_t whole = *ref;
        json_t *elem;

        whole.sub = NULL;
        rv = norm(pt, &whole, scim_json_pool_own(pt->p, created), 1, &elem);
        if (rv != APR_SUCCESS || !elem) {
            return rv;
        }
        arr = array_of(c, a, 1);
        if (is_members(pt, a)) {
            json_t *one = json_pack("[O]", elem);

            rv = append_unique(pt, a, arr, one);
            json_decref(one);
            return rv;
        }
        else {
            json_array_append(arr, elem);
            if (is_primary(elem)) {
                demote_primaries(arr, elem);
            }
        }
    }
    return APR_SUCCESS;
}

/* Is this the first part of a path that names an attribute this server does
 * not know (as opposed to a malformed path)? */
static int unknown_attr(patch_t *pt, const char *path)
{
    apr_size_t n = strcspn(path, "[");
    scim_attr_ref_t ref;

    return scim_schema_resolve(pt->rt, path, n, SCIM_RESOLVE_SCHEMA, &ref)
        == APR_ENOENT;
}

static apr_status_t op_path(patch_t *pt, op_e op, const char *text,
                            const json_t *value, int pathless);

/* Whether an add/replace on path sets a value whatever the document holds:
 * a singular simple attribute of the core schema, or a sub-attribute of a
 * singular complex one, read-write and kept in no column of its own that
 * is checked (userName, externalId). */
static int sets_plainly(const patch_t *pt, op_e op, const scim_path_t *path)
{
    const scim_attr_t *a = path->ref.attr, *s = path->ref.sub;

    if (op == OP_REMOVE || path->filter || !a || path->ref.schema != pt->rt->schema
        || a->multi_valued || a->mutability != SCIM_MUT_READ_WRITE
        || !strcmp(a->name, "userName") || !strcmp(a->name, "externalId")) {
        return 0;
    }
    if (!s) {
        return a->type != SCIM_TYPE_COMPLEX;
    }
    return a->type == SCIM_TYPE_COMPLEX && !s->multi_valued
        && s->type != SCIM_TYPE_COMPLEX && s->mutability == SCIM_MUT_READ_WRITE;
}

/* add/replace of a whole extension: each of its attributes. */
static apr_status_t op_extension(patch_t *pt, op_e op,
                                 const scim_attr_ref_t *ref, const json_t *value)
{
    const char *k;
    json_t *v;
    apr_status_t rv;

    if (op == OP_REMOVE) {
        del_ci(pt->doc, ref->schema->id);
        return APR_SUCCESS;
    }
    if (json_is_null(value)) {
        if (op == OP_REPLACE) {
            del_ci(pt->doc, ref->schema->id);
        }
        return APR_SUCCESS;
    }
    if (!json_is_object(value)) {
        return failf(pt, "invalidValue",
                     apr_psprintf(pt->p, "the value of %s must be an object",
                                  ref->schema->id));
    }
    json_object_foreach((json_t *)value, k, v)
    {
        rv = op_path(pt, op, apr_pstrcat(pt->p, ref->schema->id, ":", k, NULL),
                     v, 1);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* One operation on a path. pathless: the path is a key of a path-less
 * operation's value, where readOnly attributes are ignored. */
static apr_status_t op_path(patch_t *pt, op_e op, const char *text,
                            const json_t *value, int pathless)
{
    scim_path_t path;
    const char *err = NULL;
    const scim_attr_t *a;

    if (scim_path_parse(pt->p, pt->rt, text, MAX_PATH_LEN, MAX_PATH_DEPTH,
                        &path, &err)
        != APR_SUCCESS) {
        if ((pt->flags & SCIM_NORM_IGNORE_UNKNOWN) && unknown_attr(pt, text)) {
            return APR_SUCCESS;
        }
        if (pathless) {
            return failf(pt, "invalidSyntax",
                         unknown_attr(pt, text)
                             ? apr_psprintf(pt->p,
                                            "unknown attribute in the "
                                            "value: %s",
                                            err)
                             : err);
        }
        return failf(pt, "invalidPath", err);
    }
    if (pt->collect && !path.ref.attr) {
        return APR_ENOTIMPL;
    }
    if (!path.ref.attr) {
        return op_extension(pt, op, &path.ref, value);
    }
    a = path.ref.sub ? path.ref.sub : path.ref.attr;
    if (path.ref.attr->mutability == SCIM_MUT_READ_ONLY
        || a->mutability == SCIM_MUT_READ_ONLY) {
        if (pathless) {
            return APR_SUCCESS;
        }
        return failf(pt, "mutability",
                     apr_psprintf(pt->p, "%s is readOnly",
                                  scim_schema_ref_name(pt->p, &path.ref)));
    }
    if (path.ref.attr->mutability == SCIM_MUT_WRITE_ONLY) {
        return APR_SUCCESS; /* password: accepted and discarded */
    }
    if (pt->collect && !sets_plainly(pt, op, &path)) {
        return APR_ENOTIMPL;
    }
    if (path.filter) {
        return op_filtered(pt, op, &path, value);
    }
    return op_plain(pt, op, &path.ref, value);
}

/* A path-less add or replace: each key of the value object. */
static apr_status_t op_pathless(patch_t *pt, op_e op, const json_t *value)
{
    const char *k;
    json_t *v;
    apr_status_t rv;

    if (!json_is_object(value)) {
        return failf(pt, "invalidValue",
                     "without a path, the value must be an object");
    }
    json_object_foreach((json_t *)value, k, v)
    {
        if (!apr_cstr_casecmp(k, "schemas")) {
            continue;
        }
        if (!apr_cstr_casecmp(k, "id")) {
            /* Okta's group rename sends the group's own id along. */
            if (pt->id && json_is_string(v)
                && !apr_cstr_casecmp(json_string_value(v), pt->id)) {
                continue;
            }
            return failf(pt, "mutability", "id is readOnly");
        }
        if ((rv = op_path(pt, op, k, v, 1)) != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* A member of obj by case-insensitive key; *dup set when given twice. */
static json_t *member(const json_t *obj, const char *key, int *dup)
{
    const char *k;
    json_t *v, *found = NULL;

    json_object_foreach((json_t *)obj, k, v)
    {
        if (!apr_cstr_casecmp(k, key)) {
            *dup |= found != NULL;
            found = v;
        }
    }
    return found;
}

static apr_status_t one_op(patch_t *pt, const json_t *o)
{
    json_t *opv, *pathv, *value;
    const char *name;
    int dup = 0;
    op_e op;

    if (!json_is_object(o)) {
        return failf(pt, "invalidSyntax", "an operation must be an object");
    }
    opv = member(o, "op", &dup);
    pathv = member(o, "path", &dup);
    value = member(o, "value", &dup);
    if (dup) {
        return failf(pt, "invalidSyntax", "a member is given twice");
    }
    /* Other members are ignored: Entra's documented requests name each
     * operation ("name": "addMember"). */
    name = json_string_value(opv);
    if (!name) {
        return failf(pt, "invalidSyntax", "op is required");
    }
    if (!apr_cstr_casecmp(name, "add")) {
        op = OP_ADD;
    }
    else if (!apr_cstr_casecmp(name, "remove")) {
        op = OP_REMOVE;
    }
    else if (!apr_cstr_casecmp(name, "replace")) {
        op = OP_REPLACE;
    }
    else {
        return failf(pt, "invalidSyntax", "op must be add, remove or replace");
    }
    if (pathv && !json_is_null(pathv) && !json_is_string(pathv)) {
        return failf(pt, "invalidPath", "path must be a string");
    }
    if (json_is_string(pathv) && json_string_length(pathv) == 0) {
        pathv = NULL;
    }
    if (op != OP_REMOVE && !value) {
        return failf(pt, "invalidValue",
                     apr_psprintf(pt->p, "%s needs a value", name));
    }
    if (!json_is_string(pathv)) {
        if (op == OP_REMOVE) {
            return failf(pt, "noTarget", "remove needs a path");
        }
        return op_pathless(pt, op, value);
    }
    return op_path(pt, op, json_string_value(pathv), value, 0);
}

static apr_hash_t *id_set(apr_pool_t *p, apr_array_header_t *ids)
{
    apr_hash_t *h = apr_hash_make(p);
    int i;

    for (i = 0; i < ids->nelts; i++) {
        apr_hash_set(h, APR_ARRAY_IDX(ids, i, const char *),
                     APR_HASH_KEY_STRING, "");
    }
    return h;
}

/* Member ids of doc, lower-cased. */
static apr_array_header_t *members_of(apr_pool_t *p, const json_t *doc)
{
    json_t *m = scim_schema_obj_get(doc, "members"), *e;
    apr_array_header_t *ids = apr_array_make(p, 8, sizeof(const char *));
    size_t i;

    json_array_foreach(m, i, e)
    {
        const char *id = member_id(p, e);

        if (id) {
            /* a copy: the ids outlive the documents' strings */
            APR_ARRAY_PUSH(ids, const char *) = apr_pstrdup(p, id);
        }
    }
    return ids;
}

/* Ids of a that are not in b. */
static apr_array_header_t *minus(apr_pool_t *p, apr_array_header_t *a,
                                 apr_array_header_t *b)
{
    apr_hash_t *hb = id_set(p, b);
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    int i;

    for (i = 0; i < a->nelts; i++) {
        const char *id = APR_ARRAY_IDX(a, i, const char *);

        if (!apr_hash_get(hb, id, APR_HASH_KEY_STRING)) {
            APR_ARRAY_PUSH(out, const char *) = id;
            apr_hash_set(hb, id, APR_HASH_KEY_STRING, "");
        }
    }
    return out;
}

/* Check the PatchOp envelope and run its operations on a copy of doc
 * (pt->doc). */
static apr_status_t run(patch_t *pt, const json_t *doc, const json_t *patch,
                        int max_ops)
{
    json_t *schemas, *ops;
    apr_status_t rv;
    size_t i;
    int dup = 0, ok = 0;

    if (!json_is_object(patch)) {
        return failf(pt, "invalidSyntax",
                     "the body must be a PatchOp "
                     "object");
    }
    schemas = member(patch, "schemas", &dup);
    ops = member(patch, "Operations", &dup);
    if (dup) {
        return failf(pt, "invalidSyntax", "a member is given twice");
    }
    for (i = 0; i < json_array_size(schemas); i++) {
        const char *s = json_string_value(json_array_get(schemas, i));

        ok |= s && !apr_cstr_casecmp(s, SCIM_URN_PATCH_OP);
    }
    if (!ok) {
        return failf(pt, "invalidSyntax",
                     "schemas must be [\"" SCIM_URN_PATCH_OP "\"]");
    }
    if (!json_is_array(ops) || json_array_size(ops) == 0) {
        return failf(pt, "invalidSyntax", "Operations must be a non-empty array");
    }
    if (max_ops > 0 && json_array_size(ops) > (size_t)max_ops) {
        return failf(pt, "invalidValue",
                     apr_psprintf(pt->p,
                                  "too many operations: %" APR_SIZE_T_FMT
                                  " (at most %d)",
                                  json_array_size(ops), max_ops));
    }
    if (!json_is_object(doc)) {
        return failf(pt, "invalidSyntax", "no document to patch");
    }
    pt->doc = scim_json_pool_own(pt->p, json_deep_copy(doc));
    for (i = 0; i < json_array_size(ops); i++) {
        pt->where = apr_psprintf(pt->p, "Operations[%" APR_SIZE_T_FMT "]: ", i);
        if ((rv = one_op(pt, json_array_get(ops, i))) != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

apr_status_t scim_patch_apply_ex(apr_pool_t *p, const scim_resource_type_t *rt,
                                 const char *id, const json_t *doc,
                                 const json_t *patch, int max_ops, int flags,
                                 scim_patch_result_t *res, scim_fault_t *fault)
{
    patch_t pt = { p, rt, id, flags, NULL, fault, "", NULL, NULL, 0, 0 };
    apr_array_header_t *before;
    apr_status_t rv;

    memset(res, 0, sizeof(*res));
    if ((rv = run(&pt, doc, patch, max_ops)) != APR_SUCCESS) {
        return rv;
    }
    rv = scim_schema_normalize(p, rt, pt.doc, flags | SCIM_NORM_STORED,
                               &res->doc, fault);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    res->changed = !json_equal((json_t *)doc, res->doc);
    before = members_of(p, doc);
    res->member_ids = members_of(p, res->doc);
    res->members_added = minus(p, res->member_ids, before);
    res->members_removed = minus(p, before, res->member_ids);
    res->members_changed = res->members_added->nelts
        || res->members_removed->nelts;
    return APR_SUCCESS;
}

int scim_patch_user_set(apr_pool_t *p, const char *id, const json_t *patch,
                        int max_ops, json_t **set)
{
    scim_fault_t fault = { 0, NULL, NULL };
    patch_t pt = {
        p, scim_schema_user(), id, 0, NULL, &fault, "", NULL, NULL, 0, 1
    };
    json_t *empty = scim_json_pool_own(p, json_object());

    *set = NULL;
    if (run(&pt, empty, patch, max_ops) != APR_SUCCESS) {
        return 0;
    }
    *set = pt.doc;
    return 1;
}

apr_status_t scim_patch_apply(apr_pool_t *p, const scim_resource_type_t *rt,
                              const char *id, const json_t *doc,
                              const json_t *patch, int max_ops, json_t **out,
                              int *members_changed, scim_fault_t *fault)
{
    scim_patch_result_t res;
    apr_status_t rv;

    rv = scim_patch_apply_ex(p, rt, id, doc, patch, max_ops, 0, &res, fault);
    *out = res.doc;
    if (members_changed) {
        *members_changed = res.members_changed;
    }
    return rv;
}

json_t *scim_patch_set_apply(apr_pool_t *p, const json_t *doc, const json_t *set)
{
    json_t *out = scim_json_pool_own(p, json_deep_copy(doc)), *v, *cur;
    const char *k;

    json_object_foreach((json_t *)set, k, v)
    {
        cur = json_object_get(out, k);
        if (json_is_object(v) && json_is_object(cur)) {
            json_object_update(cur, v);
        }
        else {
            json_object_set(out, k, v);
        }
    }
    return out;
}

/* ---- group member deltas (scim_patch_member_delta) ---------------------- */

#define GROUP_URN_PREFIX "urn:ietf:params:scim:schemas:core:2.0:Group:"

typedef enum {
    MP_OTHER = 0, /* not about members */
    MP_MEMBERS, /* "members" */
    MP_VALUE_EQ, /* members[value eq "id"] */
    MP_COMPLEX /* anything else about members */
} member_path_e;

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return s;
}

/* What a PATCH path says about members; *id for MP_VALUE_EQ. */
static member_path_e member_path(apr_pool_t *p, const char *s, const char **id)
{
    const char *q, *end;

    if (!apr_cstr_casecmpn(s, GROUP_URN_PREFIX, strlen(GROUP_URN_PREFIX))) {
        s += strlen(GROUP_URN_PREFIX);
    }
    if (apr_cstr_casecmpn(s, "members", 7)) {
        return MP_OTHER;
    }
    s += 7;
    if (!*s) {
        return MP_MEMBERS;
    }
    if (apr_isalnum(*s) || *s == '_' || *s == '-' || *s == '$') {
        return MP_OTHER; /* another attribute's name */
    }
    if (*s != '[') {
        return MP_COMPLEX;
    }
    s = skip_ws(s + 1);
    if (apr_cstr_casecmpn(s, "value", 5)) {
        return MP_COMPLEX;
    }
    s += 5;
    if (*s != ' ' && *s != '\t') {
        return MP_COMPLEX;
    }
    s = skip_ws(s);
    if (apr_cstr_casecmpn(s, "eq", 2) || (s[2] != ' ' && s[2] != '\t')) {
        return MP_COMPLEX;
    }
    s = skip_ws(s + 2);
    if (*s != '"') {
        return MP_COMPLEX;
    }
    q = ++s;
    while (*s && *s != '"' && *s != '\\') {
        s++;
    }
    if (*s != '"' || s == q) {
        return MP_COMPLEX; /* escapes and empty ids: the full engine */
    }
    end = s;
    s = skip_ws(s + 1);
    if (*s != ']' || s[1]) {
        return MP_COMPLEX;
    }
    *id = apr_pstrmemdup(p, q, (apr_size_t)(end - q));
    return MP_VALUE_EQ;
}

/* The lower-cased id of a plain members element (a User id), or NULL when
 * the element is anything else (then the full engine judges it). */
static const char *plain_member(apr_pool_t *p, const json_t *e)
{
    const char *k, *id = NULL;
    json_t *v;

    if (!json_is_object(e)) {
        return NULL;
    }
    json_object_foreach((json_t *)e, k, v)
    {
        if (!apr_cstr_casecmp(k, "value")) {
            if (id || !json_is_string(v) || !json_string_length(v)) {
                return NULL;
            }
            id = member_id(p, e);
            if (!id || strcmp(k, "value") || !scim_is_uuid(id)) {
                return NULL;
            }
        }
        else if (apr_cstr_casecmp(k, "display") && apr_cstr_casecmp(k, "$ref")
                 && apr_cstr_casecmp(k, "type")) {
            return NULL;
        }
        else if (!json_is_null(v) && !json_is_string(v)) {
            return NULL;
        }
        else if (!apr_cstr_casecmp(k, "type") && json_is_string(v)
                 && apr_cstr_casecmp(json_string_value(v), "User")) {
            return NULL; /* groups cannot be members: the engine says so */
        }
    }
    return id;
}

/* Record the ids of a members array as added (1) or removed (0). */
static int member_values(apr_pool_t *p, const json_t *arr, int added,
                         apr_hash_t *last, apr_array_header_t *order,
                         apr_size_t *given)
{
    size_t i;
    json_t *e;

    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        return 0;
    }
    /* over the limit of one request: the full engine says so */
    if ((*given += json_array_size(arr)) > SCIM_MAX_MEMBER_VALUES) {
        return 0;
    }
    json_array_foreach((json_t *)arr, i, e)
    {
        const char *id = plain_member(p, e);

        if (!id) {
            return 0;
        }
        if (!apr_hash_get(last, id, APR_HASH_KEY_STRING)) {
            APR_ARRAY_PUSH(order, const char *) = id;
        }
        apr_hash_set(last, id, APR_HASH_KEY_STRING, added ? "a" : "r");
    }
    return 1;
}

/* Whether a path-less value names members (then the full engine). */
static int names_members(apr_pool_t *p, const json_t *value)
{
    const char *k, *id;
    json_t *v;

    json_object_foreach((json_t *)value, k, v)
    {
        if (member_path(p, k, &id) != MP_OTHER) {
            return 1;
        }
    }
    return 0;
}

/* What stands in the rest for an operation the delta took: a filter no
 * member matches (no id is empty), so a no-op on any group document. */
#define DELTA_PLACEHOLDER "members[value eq \"\"]"

int scim_patch_member_delta(apr_pool_t *p, const json_t *patch, int max_ops,
                            json_t **rest, apr_array_header_t **add,
                            apr_array_header_t **remove)
{
    apr_hash_t *last = apr_hash_make(p);
    apr_array_header_t *order = apr_array_make(p, 8, sizeof(const char *));
    json_t *schemas, *ops, *kept, *o;
    apr_size_t given = 0;
    size_t i, others = 0;
    int dup = 0, ok = 0;

    *rest = NULL;
    *add = apr_array_make(p, 4, sizeof(const char *));
    *remove = apr_array_make(p, 4, sizeof(const char *));
    if (!json_is_object(patch)) {
        return 0;
    }
    schemas = member(patch, "schemas", &dup);
    ops = member(patch, "Operations", &dup);
    for (i = 0; i < json_array_size(schemas); i++) {
        const char *s = json_string_value(json_array_get(schemas, i));

        ok |= s && !apr_cstr_casecmp(s, SCIM_URN_PATCH_OP);
    }
    if (dup || !ok || !json_is_array(ops) || json_array_size(ops) == 0
        || (max_ops > 0 && json_array_size(ops) > (size_t)max_ops)) {
        return 0;
    }
    kept = scim_json_pool_own(p, json_array());
    json_array_foreach(ops, i, o)
    {
        json_t *opv, *pathv, *value;
        const char *name, *id = NULL;
        member_path_e mp = MP_OTHER;

        if (!json_is_object(o)) {
            return 0;
        }
        opv = member(o, "op", &dup);
        pathv = member(o, "path", &dup);
        value = member(o, "value", &dup);
        name = json_string_value(opv);
        if (dup || !name) {
            return 0;
        }
        if (json_is_string(pathv) && json_string_length(pathv)) {
            mp = member_path(p, json_string_value(pathv), &id);
        }
        else if (pathv && !json_is_null(pathv) && !json_is_string(pathv)) {
            return 0;
        }
        else if (json_is_object(value) && names_members(p, value)) {
            return 0;
        }
        if (mp == MP_OTHER) {
            json_array_append(kept, o);
            others++;
            continue;
        }
        /* in the rest, a no-op keeps this operation's place: errors of the
         * rest name the operations by their index in the request */
        json_array_append_new(kept,
                              json_pack("{s:s, s:s}", "op", "remove", "path",
                                        DELTA_PLACEHOLDER));
        if (mp == MP_MEMBERS && !apr_cstr_casecmp(name, "add")) {
            if (!member_values(p, value, 1, last, order, &given)) {
                return 0;
            }
        }
        else if (mp == MP_MEMBERS && !apr_cstr_casecmp(name, "remove")) {
            /* without a value: all of them, which the delta cannot say */
            if (!member_values(p, value, 0, last, order, &given)) {
                return 0;
            }
        }
        else if (mp == MP_VALUE_EQ && !apr_cstr_casecmp(name, "remove")
                 && (!value || json_is_null(value))) {
            char *l = apr_pstrdup(p, id), *x;

            for (x = l; *x; x++) {
                *x = (char)apr_tolower(*x);
            }
            /* no member has an id that is not a uuid: the filter matches
             * nothing and the full engine makes this a no-op */
            if (!scim_is_uuid(l)) {
                continue;
            }
            if (!apr_hash_get(last, l, APR_HASH_KEY_STRING)) {
                APR_ARRAY_PUSH(order, const char *) = l;
            }
            apr_hash_set(last, l, APR_HASH_KEY_STRING, "r");
        }
        else {
            return 0;
        }
    }
    for (i = 0; i < (size_t)order->nelts; i++) {
        const char *id = APR_ARRAY_IDX(order, i, const char *);
        const char *what = apr_hash_get(last, id, APR_HASH_KEY_STRING);

        APR_ARRAY_PUSH(*what == 'a' ? *add : *remove, const char *) = id;
    }
    if (others) {
        *rest = scim_json_pool_own(p,
                                   json_pack("{s:[s], s:O}", "schemas",
                                             SCIM_URN_PATCH_OP, "Operations",
                                             kept));
    }
    return 1;
}
