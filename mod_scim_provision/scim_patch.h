#ifndef SCIM_PATCH_H
#define SCIM_PATCH_H

/* SCIM PATCH (RFC 7644 section 3.5.2) on a stored document, in memory,
 * including what Okta and Microsoft Entra ID really send:
 *  - "op" in any case ("Replace", "Add", "Remove"); "Operations", "path",
 *    "value" keys in any case; other members of an operation (Entra's
 *    "name": "addMember") are ignored;
 *  - booleans as "True"/"False" strings (coerced by the schema);
 *  - path-less add/replace whose value has plain ("displayName"), dotted
 *    ("name.givenName"), URN-qualified ("urn:...:enterprise:2.0:User:
 *    department"), extension-object ("urn:...:enterprise:2.0:User": {...})
 *    and even value-path ("emails[type eq \"work\"].value") keys; readOnly
 *    keys in such a value (meta, groups, schemas, and an "id" equal to the
 *    resource's, as in Okta's group rename) are ignored;
 *  - value paths updated in place: "emails[type eq \"work\"].value";
 *    add/replace with no matching element creates one from the filter's
 *    "eq" terms ({"type":"work","value":...}) when the filter is made only
 *    of them, else 400 noTarget; remove with no match changes nothing;
 *  - the enterprise manager set as a string id, {"value": id} or
 *    [{"value": id}], and removed (or set to "" / null);
 *  - Group members: add appends without duplicates; remove with
 *    "members[value eq \"id\"]"; remove with path "members" and a value
 *    array removes only those members (Entra), without a value all of them;
 *    replace sets the whole list.
 * Semantics: add to a multi-valued attribute appends (equal values are not
 * repeated); add/replace on a complex attribute sets the given
 * sub-attributes and keeps the others; replace on a multi-valued attribute
 * replaces all values; a value with "primary": true makes the others
 * non-primary; replace with null/""/[] removes. Errors (all 400): a path
 * that is malformed or names an unknown attribute: invalidPath; a path to a
 * readOnly attribute (id, meta, groups) or removing a required one
 * (userName, Group displayName): mutability; remove without a path:
 * noTarget; wrong value types: invalidValue; a malformed PatchOp:
 * invalidSyntax; more operations than allowed: invalidValue.
 * The result is normalised with scim_schema_normalize (so it is a valid
 * stored document). */

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "scim_schema.h"

typedef struct scim_patch_result_t {
    json_t *doc; /* the new stored document (pool-owned) */
    int changed; /* doc differs from the input document */
    int members_changed; /* Groups: the set of member ids changed */
    apr_array_header_t *member_ids; /* Groups: ids after the patch */
    apr_array_header_t *members_added; /* ids not there before */
    apr_array_header_t *members_removed; /* ids no longer there */
} scim_patch_result_t;

/* Apply the PatchOp body patch to doc (a stored document; for Groups with
 * "members":[{"value": id},...]), resource id id (may be NULL). doc is not
 * modified. max_ops limits the number of operations (0: no limit); flags are
 * scim_schema_normalize's (SCIM_NORM_IGNORE_UNKNOWN also makes operations on
 * unknown attributes no-ops). On failure APR_EINVAL with *fault. */
apr_status_t scim_patch_apply_ex(apr_pool_t *p, const scim_resource_type_t *rt,
                                 const char *id, const json_t *doc,
                                 const json_t *patch, int max_ops, int flags,
                                 scim_patch_result_t *res, scim_fault_t *fault);

/* The same with flags 0: *out gets the new document, *members_changed
 * (may be NULL) whether the Group's member ids changed. */
apr_status_t scim_patch_apply(apr_pool_t *p, const scim_resource_type_t *rt,
                              const char *id, const json_t *doc,
                              const json_t *patch, int max_ops, json_t **out,
                              int *members_changed, scim_fault_t *fault);

/* A User PATCH that only sets values, whatever the stored document holds:
 * every operation an add or replace of a singular simple attribute of the
 * core schema ("active", "displayName", "title") or of a sub-attribute of
 * a singular complex one ("name.givenName"), with a value that is not
 * removed (null, ""), except userName and externalId, and path-less
 * values made only of such keys (readOnly and writeOnly keys ignored, as
 * scim_patch_apply does). Returns 1 with *set an object of the values in
 * their stored form, complex ones as objects of the sub-attributes set
 * ({"active": false, "name": {"givenName": "B"}}): then, for any
 * document as the store keeps it (a scim_schema_normalize result, with
 * "active"), scim_patch_apply gives doc with each scalar of *set assigned
 * and each object of *set merged into the object there (created when
 * absent). 0 otherwise (also for every error, left to scim_patch_apply to
 * report): the patch needs the document. Unlike scim_patch_apply, a set
 * does not check the rest of the document again: a user stored by an older
 * version with a value today's checks refuse (a userName with a control
 * character) can still be deactivated, or get a new displayName or name
 * sub-attributes. */
int scim_patch_user_set(apr_pool_t *p, const char *id, const json_t *patch,
                        int max_ops, json_t **set);

/* doc with a set of scim_patch_user_set applied, as described there (a
 * pool-owned copy). The store does the same inside PostgreSQL
 * (scim_store_user_set); this is its definition, for the tests. */
json_t *scim_patch_set_apply(apr_pool_t *p, const json_t *doc, const json_t *set);

/* Group PATCH in O(what changed): split patch (a PatchOp body) into member
 * deltas and the rest. "add" with path "members" and an array of member
 * values, "remove" with path members[value eq "id"], and "remove" with path
 * "members" and an array of member values (Entra) become ids in *add and
 * *remove (lower-cased; an id both added and removed ends where its last
 * operation puts it; a value eq filter on an id that is no uuid matches no
 * member and is dropped); *rest gets a PatchOp body with the other
 * operations (which do not touch members) at their original indexes, each
 * operation taken into the delta replaced by a no-op remove, so that an
 * error of the rest names the operation of the request; NULL when no other
 * operation remains. Returns 1 when
 * that split is exact; 0 when the patch needs the whole member list (replace
 * of members, remove of all members, other filters or sub-paths, members in
 * a path-less value) or is malformed or over max_ops (0: no limit): then
 * scim_patch_apply_ex on the document with its members gives the result or
 * the error. Members elements must hold "value" (a string) and at most
 * "display", "$ref", "type" (strings or null). */
int scim_patch_member_delta(apr_pool_t *p, const json_t *patch, int max_ops,
                            json_t **rest, apr_array_header_t **add,
                            apr_array_header_t **remove);

#endif
