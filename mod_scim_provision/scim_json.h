#ifndef SCIM_JSON_H
#define SCIM_JSON_H

/* Jansson values owned by APR pools, and the strict JSON parser every
 * untrusted document goes through (duplicate keys rejected, depth capped).
 * Core code: APR and Jansson only, no httpd header. */

#include <apr_pools.h>
#include <jansson.h>

#define SCIM_JSON_MAX_DEPTH_DEFAULT 32

/* Strictly parse exactly one JSON value (of any type) from buf[0..len-1]:
 * duplicate object keys, nesting deeper than max_depth (checked before
 * Jansson sees the text), trailing garbage, a NUL byte (raw or \u0000)
 * and invalid UTF-8 are rejected. The result is owned by p. On error
 * returns NULL and sets *err to a short message (Jansson's description,
 * with the input bytes it quotes made safe by scim_util_quote); a number
 * that does not fit (64-bit integer, double) gives a message starting with
 * SCIM_JSON_ERR_RANGE, so callers can answer invalidValue. */
#define SCIM_JSON_ERR_RANGE "number out of range"
json_t *scim_json_parse(apr_pool_t *p, const char *buf, apr_size_t len,
                        int max_depth, const char **err);

/* The reader scim_json_parse tries first: the tree json_loadb(buf, len,
 * JSON_REJECT_DUPLICATES | JSON_DECODE_ANY) builds, in one pass, or NULL
 * when it gives up: on anything Jansson refuses, and on some text Jansson
 * accepts (a real number, an integer of 19 digits or more, nesting over 64).
 * It refuses a NUL (raw or \u0000) as Jansson does, but its only depth cap
 * is its own 64 levels: call scim_json_parse. Scratch memory comes from p;
 * the result is a new reference, not owned by p. */
json_t *scim_json_parse_fast(apr_pool_t *p, const char *buf, apr_size_t len);

/* Tie j's reference to pool p (a cleanup calls json_decref) and return j;
 * NULL is passed through, so json_pack() results can be handed in as is. */
json_t *scim_json_pool_own(apr_pool_t *p, json_t *j);

/* Serialize j into a pool string, compact, UTF-8 kept, member order kept,
 * plus any extra Jansson flags (e.g. JSON_INDENT(2)); NULL if j is NULL or
 * cannot be encoded. Scalars are allowed.
 * Without extra flags the module writes it, with the bytes of Jansson's
 * json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) (test/fuzz/fuzz_json.c
 * compares them), except that it refuses an object key that is not UTF-8
 * (Jansson writes broken text for it; only a *_nocheck call can make one)
 * and a tree of more than 256 containers nested in one another, the outer
 * one counted (Jansson writes it). Every parse of the module caps nesting at
 * 64 or less, so only a cycle reaches that limit, and Jansson refuses a
 * cycle too. */
char *scim_json_dump(apr_pool_t *p, const json_t *j, size_t flags);

/* Marks where the SCIM base URL goes in stored JSON fragments (a byte no
 * JSON text holds raw: control characters are escaped inside strings). */
#define SCIM_JSON_BASE_MARK '\001'

/* The text of the JSON object obj (as PostgreSQL prints a jsonb object:
 * "{...}", optionally surrounded by white space) with the members in
 * parts[0..nparts-1] added at its end, without parsing it. Each part is
 * the text of one or more members ("\"id\":\"...\""), NULL or "" to skip;
 * the parts are joined with commas. Every SCIM_JSON_BASE_MARK byte of a
 * part is replaced by base, escaped as JSON string content. One pass, one
 * allocation. NULL when obj is not an object's text. */
char *scim_json_splice(apr_pool_t *p, const char *obj, apr_size_t len,
                       const char *const *parts, int nparts, const char *base);

/* s escaped as the content of a JSON string (no quotes added). */
char *scim_json_escape(apr_pool_t *p, const char *s);

#endif /* SCIM_JSON_H */
