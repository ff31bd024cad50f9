#ifndef SCIM_SCHEMA_H
#define SCIM_SCHEMA_H

/* The SCIM attribute model (RFC 7643 sections 2, 4, 7, 8.7): the User core
 * schema, the Enterprise User extension and the Group schema as static
 * tables; attribute lookup by path; normalisation of incoming resources into
 * the stored document; projection (attributes / excludedAttributes); and the
 * discovery documents (/ServiceProviderConfig, /ResourceTypes, /Schemas).
 *
 * The stored document ("doc") of a resource is the resource as last written,
 * without id, meta, and (for Users) groups: attribute names spelled as in the
 * schema, extension attributes under their schema URN, booleans as JSON
 * booleans, no JSON null, no empty object or array, and "schemas" listing the
 * core schema plus each extension that has data. Group documents carry
 * "members":[{"value":"<id>"},...] (lower-case ids, no duplicates).
 *
 * JSON returned by these functions is owned by the pool passed in (see
 * scim_json_pool_own): callers may read it for the pool's lifetime and must
 * json_incref it to keep it longer. */

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <jansson.h>

#ifndef SCIM_URN_USER
#define SCIM_URN_USER "urn:ietf:params:scim:schemas:core:2.0:User"
#endif
#ifndef SCIM_URN_GROUP
#define SCIM_URN_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"
#endif
#ifndef SCIM_URN_ENTERPRISE_USER
#define SCIM_URN_ENTERPRISE_USER \
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#endif
#ifndef SCIM_URN_PATCH_OP
#define SCIM_URN_PATCH_OP "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#endif
#ifndef SCIM_URN_LIST_RESPONSE
#define SCIM_URN_LIST_RESPONSE \
    "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#endif
#ifndef SCIM_URN_SCHEMA
#define SCIM_URN_SCHEMA "urn:ietf:params:scim:schemas:core:2.0:Schema"
#endif
#ifndef SCIM_URN_RESOURCE_TYPE
#define SCIM_URN_RESOURCE_TYPE \
    "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
#endif
#ifndef SCIM_URN_SERVICE_PROVIDER_CONFIG
#define SCIM_URN_SERVICE_PROVIDER_CONFIG \
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
#endif

/* A SCIM error found by the core, for the caller to turn into an Error body
 * (RFC 7644 section 3.12). */
typedef struct scim_fault_t {
    int status; /* HTTP status, e.g. 400 */
    const char *scim_type; /* "invalidValue", "invalidSyntax", ... or NULL */
    const char *detail; /* human-readable, pool-allocated, never NULL */
} scim_fault_t;

/* Fill *f (which may be NULL) with a printf-formatted detail, made safe
 * with scim_util_quote() and cut to SCIM_FAULT_DETAIL_MAX bytes. */
#define SCIM_FAULT_DETAIL_MAX 512
void scim_fault_set(scim_fault_t *f, apr_pool_t *p, int status,
                    const char *scim_type, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

typedef enum {
    SCIM_TYPE_STRING = 0,
    SCIM_TYPE_BOOLEAN,
    SCIM_TYPE_DECIMAL,
    SCIM_TYPE_INTEGER,
    SCIM_TYPE_DATETIME,
    SCIM_TYPE_BINARY,
    SCIM_TYPE_REFERENCE,
    SCIM_TYPE_COMPLEX
} scim_attr_type_e;

typedef enum {
    SCIM_MUT_READ_WRITE = 0,
    SCIM_MUT_READ_ONLY,
    SCIM_MUT_IMMUTABLE,
    SCIM_MUT_WRITE_ONLY
} scim_mutability_e;

typedef enum {
    SCIM_RET_DEFAULT = 0,
    SCIM_RET_ALWAYS,
    SCIM_RET_NEVER,
    SCIM_RET_REQUEST
} scim_returned_e;

typedef enum {
    SCIM_UNIQ_NONE = 0,
    SCIM_UNIQ_SERVER,
    SCIM_UNIQ_GLOBAL
} scim_uniqueness_e;

/* One attribute or sub-attribute. Lists of attributes end with an entry
 * whose name is NULL. */
typedef struct scim_attr_t scim_attr_t;
struct scim_attr_t {
    const char *name; /* spelling used in documents and /Schemas */
    scim_attr_type_e type;
    int multi_valued;
    int required;
    int case_exact;
    scim_mutability_e mutability;
    scim_returned_e returned;
    scim_uniqueness_e uniqueness;
    const char *description;
    const char *const *canonical_values; /* NULL-terminated, or NULL */
    const char *const *reference_types; /* NULL-terminated, or NULL */
    const scim_attr_t *sub_attrs; /* complex only */
};

typedef struct scim_schema_t {
    const char *id; /* the schema URN */
    const char *name;
    const char *description;
    const scim_attr_t *attrs;
} scim_schema_t;

typedef enum { SCIM_RES_USER = 1, SCIM_RES_GROUP = 2 } scim_res_kind_e;

typedef struct scim_resource_type_t {
    scim_res_kind_e kind;
    const char *id; /* "User" / "Group" (also meta.resourceType) */
    const char *endpoint; /* "/Users" / "/Groups" */
    const char *description;
    const scim_schema_t *schema; /* the core schema */
    const scim_schema_t *const *extensions; /* NULL-terminated */
} scim_resource_type_t;

const scim_resource_type_t *scim_schema_user(void);
const scim_resource_type_t *scim_schema_group(void);
/* By name ("User", "Group", case-insensitive) or NULL. */
const scim_resource_type_t *scim_schema_resource_type(const char *name);

/* An attribute named by a path: schema + attribute [+ sub-attribute].
 * The common attributes id, externalId and meta resolve with the core
 * schema. attr == NULL means the whole extension object named by its URN
 * (only with SCIM_RESOLVE_SCHEMA). */
typedef struct scim_attr_ref_t {
    const scim_schema_t *schema;
    const scim_attr_t *attr;
    const scim_attr_t *sub;
} scim_attr_ref_t;

#define SCIM_RESOLVE_SCHEMA 0x01 /* accept a bare extension URN */

/* Resolve "userName", "name.givenName", "emails.value", "$ref" style
 * sub-attributes, URN-qualified names ("urn:...:User:userName",
 * "urn:...:enterprise:2.0:User:manager.value"); attribute names are
 * case-insensitive. An unqualified name not in the core schema resolves to
 * a unique extension attribute of that name ("department").
 * APR_SUCCESS, APR_ENOENT (no such attribute), APR_EINVAL (malformed). */
apr_status_t scim_schema_resolve(const scim_resource_type_t *rt,
                                 const char *path, apr_size_t len, int flags,
                                 scim_attr_ref_t *out);

/* A sub-attribute of a complex attribute by name (case-insensitive). */
const scim_attr_t *scim_schema_sub_attr(const scim_attr_t *parent,
                                        const char *name, apr_size_t len);

/* "name.givenName", "urn:...:enterprise:2.0:User:manager.value". */
const char *scim_schema_ref_name(apr_pool_t *p, const scim_attr_ref_t *ref);

/* A member of a JSON object by case-insensitive key (exact match first). */
json_t *scim_schema_obj_get(const json_t *obj, const char *key);

/* The object of doc that holds ref's attribute: doc itself for the core
 * schema, doc[<extension URN>] for an extension (created when create is
 * true; NULL when absent or not an object). */
json_t *scim_schema_container(json_t *doc, const scim_attr_ref_t *ref,
                              int create);

/* xsd:dateTime ("2024-02-29T12:00:00Z", "...T12:00:00.5+02:00"; without a
 * zone, UTC) to microseconds since the epoch. APR_EINVAL if malformed or out
 * of range (years 1..9999, real calendar dates, offsets up to 14:00). */
apr_status_t scim_schema_datetime_parse(const char *s, apr_size_t len,
                                        apr_time_t *t);

/* Normalisation flags. */
#define SCIM_NORM_IGNORE_UNKNOWN \
    0x01 /* drop unknown attributes and schema
                                       * URNs instead of rejecting them */

/* Whole-document normalisation after PATCH: the members of a group may
 * exceed SCIM_MAX_MEMBER_VALUES (a group grows by many requests). */
#define SCIM_NORM_STORED 0x02

/* Limits that keep the cost of a request linear in its size (SPEC 5.1,
 * README "Limits"); going over one is 400 invalidValue. */
#define SCIM_MAX_ATTR_NAMES    1000 /* names per attributes/excludedAttributes */
#define SCIM_MAX_MEMBER_VALUES 10000 /* Group members given in one request */
#define SCIM_MAX_MULTI_VALUES  100 /* elements of emails, roles, ... */
/* One string value: a filter reads it once per comparison. */
#define SCIM_MAX_STRING_BYTES 16384

/* Turn an incoming resource (POST/PUT body, or a document after PATCH) into
 * the stored document described at the top of this file:
 *  - "schemas" must be an array of strings naming the core schema; other
 *    URNs listed there are ignored (Entra lists an ADSCIM one for Groups),
 *    but data under an unknown URN is an unknown attribute; the result lists
 *    exactly the schemas that have data;
 *  - attribute names are matched case-insensitively and spelled as in the
 *    schema; the same attribute twice (e.g. "userName" and "USERNAME") is
 *    400 invalidSyntax;
 *  - readOnly attributes (id, meta, groups, manager.displayName, ...) are
 *    dropped, as is password (writeOnly: sign-in is by SSO, no password is
 *    ever stored);
 *  - booleans given as strings "true"/"false" in any case (Entra) become
 *    booleans; a value of the wrong type is 400 invalidValue;
 *  - null, "", {} and [] are unassigned and dropped (a required attribute
 *    given so is missing); a single value given for a multi-valued
 *    attribute is taken as a one-element array;
 *  - the enterprise manager may be a string id or {"value": id}; "" removes;
 *  - Group members must be {"value": <uuid>} (type "User" if given):
 *    lower-cased and de-duplicated; display and $ref are dropped;
 *  - userName (User) and displayName (Group) are required: non-empty, at
 *    most 256 characters (400 invalidValue);
 *  - at most one "primary": true per multi-valued attribute (invalidValue);
 *  - at most SCIM_MAX_MEMBER_VALUES members (unless SCIM_NORM_STORED) and
 *    SCIM_MAX_MULTI_VALUES elements of any other multi-valued attribute
 *    (invalidValue);
 *  - unknown attributes: 400 invalidSyntax, or dropped with
 *    SCIM_NORM_IGNORE_UNKNOWN.
 * in is not modified. On failure *fault is filled and APR_EINVAL returned. */
apr_status_t scim_schema_normalize(apr_pool_t *p, const scim_resource_type_t *rt,
                                   const json_t *in, int flags, json_t **out,
                                   scim_fault_t *fault);

/* Normalise one attribute value (a whole multi-valued attribute when
 * attr->multi_valued and not element, else one value; with element set, one
 * element of a multi-valued attribute). *out is NULL when the value is
 * unassigned (null, empty). Used by PATCH before merging values. */
apr_status_t scim_schema_normalize_value(apr_pool_t *p,
                                         const scim_resource_type_t *rt,
                                         const scim_attr_ref_t *ref,
                                         const json_t *value, int element,
                                         int flags, json_t **out,
                                         scim_fault_t *fault);

/* Parse an "attributes" or "excludedAttributes" parameter (comma-separated
 * attribute paths, URN-qualified allowed, whitespace around names ignored)
 * into an array of scim_attr_ref_t. Unknown names are skipped (they can
 * select nothing); a malformed name, or more than SCIM_MAX_ATTR_NAMES
 * names, is APR_EINVAL with *err. Each attribute is listed once. list may
 * be NULL or empty (empty array). */
apr_status_t scim_schema_attr_list(apr_pool_t *p, const scim_resource_type_t *rt,
                                   const char *list, apr_array_header_t **out,
                                   const char **err);

/* The resource as returned to a client (RFC 7644 section 3.4.2.5, RFC 7643
 * section 7 "returned"): "never" attributes are removed; "always" ones (id,
 * schemas) kept; with a non-empty attributes list only those (and their
 * sub-attributes, or the parent of a listed sub-attribute with only the
 * listed sub-attributes) are returned; otherwise "default" ones minus the
 * excludedAttributes; "request" ones only when listed. Either list may be
 * NULL. Returns a new pool-owned object; resource is not modified. */
json_t *scim_schema_project(apr_pool_t *p, const scim_resource_type_t *rt,
                            const json_t *resource,
                            const apr_array_header_t *attributes,
                            const apr_array_header_t *excluded);

/* Whether scim_schema_project would return (any part of) the top-level
 * attribute ref, e.g. to skip loading Group members for
 * excludedAttributes=members. */
int scim_schema_projection_wants(const scim_resource_type_t *rt,
                                 const scim_attr_ref_t *ref,
                                 const apr_array_header_t *attributes,
                                 const apr_array_header_t *excluded);

/* The member ids ("value" of each element of "members") of a Group
 * document, as an array of const char * (pool-allocated). */
apr_array_header_t *scim_schema_member_ids(apr_pool_t *p, const json_t *doc);

/* Discovery documents. base_url is the SCIM root as clients reach it
 * ("https://host/t/acme/scim/v2", no trailing slash) used for
 * meta.location, or NULL to leave meta.location out. */
typedef struct scim_spc_params_t {
    const char *base_url;
    const char *documentation_uri; /* or NULL */
    int bulk_max_operations;
    apr_size_t bulk_max_payload; /* bytes */
    int filter_max_results;
} scim_spc_params_t;

json_t *scim_schema_service_provider_config(apr_pool_t *p,
                                            const scim_spc_params_t *prm);

/* ListResponse of all Schema resources / the one named by its URN (case
 * insensitive) or NULL. */
json_t *scim_schema_schemas_list(apr_pool_t *p, const char *base_url);
json_t *scim_schema_schema_resource(apr_pool_t *p, const char *urn,
                                    const char *base_url);

/* ListResponse of the ResourceTypes / the one named "User" or "Group" (case
 * insensitive) or NULL. */
json_t *scim_schema_resource_types_list(apr_pool_t *p, const char *base_url);
json_t *scim_schema_resource_type_resource(apr_pool_t *p, const char *name,
                                           const char *base_url);

#endif
