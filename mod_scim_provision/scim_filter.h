#ifndef SCIM_FILTER_H
#define SCIM_FILTER_H

/* SCIM filters (RFC 7644 section 3.4.2.2) and PATCH paths (section 3.5.2):
 * parsed into an AST whose attributes are resolved against the schema (an
 * unknown attribute is an error, never an unfiltered result); evaluated in
 * memory here; the store compiles them to SQL (scim_store_filter.h).
 *
 * Semantics, the same in memory and in SQL:
 *  - and/or/not with precedence not > and > or; parentheses; keywords and
 *    attribute names are case-insensitive;
 *  - an absent attribute matches no comparison and is not "pr"; "pr" also
 *    fails for "", [] and {};
 *  - "ne" is "not eq": an absent attribute is not equal, and a multi-valued
 *    attribute is "ne" when none of its values is equal; "eq null" is
 *    "not pr" and "ne null" is "pr";
 *  - a comparison on a multi-valued attribute matches if any value matches;
 *    on a complex attribute with a "value" sub-attribute it compares that
 *    ("emails co "x"" is "emails.value co "x"");
 *  - strings compare case-insensitively unless the attribute is caseExact
 *    (SQL: lower(upper(x)) on both sides, like the unique indexes; in
 *    memory: ASCII case folding); gt/ge/lt/le on strings compare code point
 *    order (SQL: COLLATE "C"); dateTime values compare as instants; co/sw/ew
 *    treat every character of the value literally;
 *  - userName and group displayName: in SQL every operator compares their
 *    name key (NFKC and case folding, sql/003_name_keys.sql: eq and ne by
 *    the unique index, co/sw/ew/gt/ge/lt/le on the stored key against the
 *    literal's key); in memory ASCII case folding, the same for names of
 *    ASCII letters (what t/02-filter-sql.t compares); for others the store
 *    is the reference, as it is for uniqueness;
 *  - booleans allow only eq/ne with true/false; binary only eq/ne; co/sw/ew
 *    need a string attribute; numbers need integer/decimal attributes;
 *  - a value path "emails[type eq "work" and value co "x"]" matches if one
 *    element satisfies the whole inner filter; as an extension,
 *    "emails[type eq "work"].value eq "x"" is accepted and means
 *    "emails[type eq "work" and value eq "x"]". */

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "scim_schema.h"

typedef enum {
    SCIM_FILTER_AND = 0,
    SCIM_FILTER_OR,
    SCIM_FILTER_NOT,
    SCIM_FILTER_CMP, /* attribute operator value, or attribute pr */
    SCIM_FILTER_VALUE_PATH /* attribute[filter] */
} scim_filter_kind_e;

typedef enum {
    SCIM_OP_EQ = 0,
    SCIM_OP_CO,
    SCIM_OP_SW,
    SCIM_OP_EW,
    SCIM_OP_GT,
    SCIM_OP_GE,
    SCIM_OP_LT,
    SCIM_OP_LE,
    SCIM_OP_PR /* ("ne" is parsed into not + eq) */
} scim_filter_op_e;

typedef enum {
    SCIM_LIT_NONE = 0, /* pr */
    SCIM_LIT_STRING,
    SCIM_LIT_NUMBER,
    SCIM_LIT_TRUE,
    SCIM_LIT_FALSE
} scim_filter_lit_e;

typedef struct scim_filter scim_filter_t;
struct scim_filter {
    scim_filter_kind_e kind;
    /* CMP: the attribute. Inside a value path (in_element), ref.attr is the
     * value path's attribute and ref.sub the compared sub-attribute.
     * VALUE_PATH: ref.attr is the multi-valued or complex attribute. */
    scim_attr_ref_t ref;
    int in_element;
    scim_filter_op_e op;
    scim_filter_lit_e lit;
    const char *value; /* STRING: decoded UTF-8 (no NUL); NUMBER: its text */
    scim_filter_t *left; /* AND/OR; NOT and VALUE_PATH: the operand */
    scim_filter_t *right; /* AND/OR */
};

/* Comparisons (attribute expressions, value paths included) in one filter. */
#define SCIM_FILTER_MAX_TERMS 32

/* Parse a filter for resources of type rt. max_len (bytes) and max_depth
 * (nesting of parentheses, not and value paths) are limits; 0 means none;
 * more than SCIM_FILTER_MAX_TERMS comparisons is always refused.
 * On error APR_EINVAL with *err, a message for a 400 invalidFilter. */
apr_status_t scim_filter_parse(apr_pool_t *p, const scim_resource_type_t *rt,
                               const char *text, apr_size_t max_len,
                               int max_depth, scim_filter_t **out,
                               const char **err);

/* Whether resource (a SCIM resource: stored document plus id, meta, ...;
 * or, for a filter parsed by scim_path_parse, one element of the
 * attribute) matches. */
int scim_filter_match(const scim_filter_t *f, const json_t *resource);

/* A PATCH path: attrPath, attrPath[valFilter] or attrPath[valFilter].sub.
 * ref.attr NULL means a whole extension (the path was its URN); ref.sub is
 * the sub-attribute (from "name.givenName" or from "...].value"); filter is
 * the value path filter (evaluate it on elements with scim_filter_match) or
 * NULL. APR_EINVAL with *err (400 invalidPath) when malformed or unknown. */
typedef struct scim_path_t {
    scim_attr_ref_t ref;
    scim_filter_t *filter;
} scim_path_t;

apr_status_t scim_path_parse(apr_pool_t *p, const scim_resource_type_t *rt,
                             const char *text, apr_size_t max_len,
                             int max_depth, scim_path_t *out, const char **err);

#endif
