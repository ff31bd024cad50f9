#ifndef SCIM_STORE_FILTER_H
#define SCIM_STORE_FILTER_H

/* The store's compiler of parsed SCIM filters (scim_filter.h) and sortBy to
 * parameterised PostgreSQL over an allow-list of columns and JSON paths of
 * the tables in sql/. Same semantics as the in-memory match
 * (scim_filter.h); t/02-filter-sql.t compares both on real data. */

#include <apr_pools.h>
#include <apr_tables.h>

#include "scim_filter.h"

/* Compile to a boolean SQL expression over the row alias "r" of accounts
 * (Users) or groups (Groups), with group_members for members / groups.
 * Each literal becomes a "%s" placeholder (APR DBD) and its text is appended
 * to params (an array of const char *) in the order of the placeholders in
 * the text; the SQL text contains no other '%' and no request data. The
 * caller adds the tenant and kind conditions. APR_EINVAL with *err (400
 * invalidFilter) for attributes that cannot be searched here (meta.location,
 * meta.version, $ref of members/groups). */
apr_status_t scim_filter_sql(apr_pool_t *p, const scim_resource_type_t *rt,
                             const scim_filter_t *f, apr_array_header_t *params,
                             const char **where, const char **err);

/* An ORDER BY expression (with ASC/DESC and NULLS LAST) for sortBy, from the
 * same allow-list; multi-valued attributes sort by their primary value, or
 * else the first one. The caller appends its tie-break (r.id). APR_EINVAL
 * with *err (400 invalidValue) for unknown or unsortable attributes. */
apr_status_t scim_filter_sort_sql(apr_pool_t *p, const scim_resource_type_t *rt,
                                  const char *sort_by, int descending,
                                  const char **order_by, const char **err);

#endif
