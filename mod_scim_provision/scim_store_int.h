#ifndef SCIM_STORE_INT_H
#define SCIM_STORE_INT_H

/* Store-internal helpers shared by the scim_store*.c files. Not part of the
 * store's interface: database row types (scim_rows_t) appear here and in
 * scim_db.h only, never in scim_store*.h (t/00-core-headers.t checks). */

#include "scim_db.h"
#include "scim_store.h"

/* A row of scim_token_live() (sql/002_hot_path.sql: token id, tenant id,
 * account id, username, idp type, base64 hash) turned into *out; shared with
 * the fused lookups. */
apr_status_t scim_store_token_from_row(scim_db_t *db, apr_pool_t *p,
                                       const scim_rows_t *rows,
                                       scim_live_token_t **out);

#endif
