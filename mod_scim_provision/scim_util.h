#ifndef SCIM_UTIL_H
#define SCIM_UTIL_H

/* Small core utilities: strict encodings, hashing, randomness, identifiers.
 * Core code: APR and OpenSSL libcrypto only, no httpd header. */

#include <apr_pools.h>
#include <apr_time.h>

/* Stable error-log tags: SCIMLOGNO(00030) gives "SCIM00030: ". */
#define SCIMLOGNO(n) "SCIM" #n ": "

/* Fill buf with cryptographically random bytes (OpenSSL RAND_bytes);
 * APR_EGENERAL when the generator fails (never silently weak). */
apr_status_t scim_random_bytes(unsigned char *buf, apr_size_t len);

/* Canonical base64url (RFC 4648 section 5) without padding. */
char *scim_b64url_encode(apr_pool_t *p, const unsigned char *data,
                         apr_size_t len);

/* Strict base64url decoding, so that one value has exactly one encoding:
 * APR_EINVAL on padding, '+', '/', whitespace or any other byte outside the
 * alphabet, a length no encoding has (slen % 4 == 1) and non-zero stray bits
 * in the last character. *out is NUL-terminated (not counted in *outlen). */
apr_status_t scim_b64url_decode(apr_pool_t *p, const char *s, apr_size_t slen,
                                unsigned char **out, apr_size_t *outlen);

/* Strict standard base64 (RFC 4648 section 4, padding required), for HTTP
 * Basic credentials: APR_EINVAL on anything else, including stray bits.
 * *out is NUL-terminated (not counted in *outlen). */
apr_status_t scim_b64_decode(apr_pool_t *p, const char *s, apr_size_t slen,
                             char **out, apr_size_t *outlen);

/* SHA-256 of data: what the database stores instead of a token. */
void scim_sha256(const void *data, apr_size_t len, unsigned char out[32]);

/* HMAC-SHA256 of data under key: the MAC of provisioning tokens. */
void scim_hmac_sha256(const unsigned char *key, apr_size_t key_len,
                      const void *data, apr_size_t len, unsigned char out[32]);

/* Lower-case hex of data. */
char *scim_hex(apr_pool_t *p, const unsigned char *data, apr_size_t len);

/* 1 if the len bytes at a and b are equal, in time that depends only on
 * len (for MACs and hashes of secrets). */
int scim_ct_equal(const void *a, const void *b, apr_size_t len);

/* The length of the well-formed UTF-8 sequence at s, of the n bytes there
 * (n > 0): 1 for ASCII, 2 to 4 for a sequence (RFC 3629: no overlong form,
 * no surrogate, nothing above U+10FFFF; Jansson's rules too), 0 if there is
 * none. Used by the readers of client JSON (scim_json.c, scim_filter.c). */
apr_size_t scim_utf8_seq(const unsigned char *s, apr_size_t n);

/* 1 with the value of the 4 hex digits (either case) at s in *v; 0 if one
 * is not a hex digit (*v then unspecified). s must have at least 4 bytes:
 * the caller checks. */
int scim_hex4(const char *s, unsigned int *v);

/* Code point c written as UTF-8 at o; returns the byte after it. c is at
 * most U+10FFFF and not a surrogate (D800-DFFF), and o has room for 4
 * bytes: the caller checks. */
char *scim_put_utf8(char *o, unsigned int c);

/* 1 if s is a canonical UUID: 8-4-4-4-12 hex digits (either case). */
int scim_is_uuid(const char *s);

/* A new resource id: a version 7 UUID (RFC 9562), the Unix time in
 * milliseconds in its first 48 bits, then 74 random bits, written as
 * 8-4-4-4-12 lower-case hex in p. The random bits come from RAND_bytes
 * through a small buffer of each thread, emptied in a forked child
 * (scim_util.c says why). Ids made
 * one after another sort in time order, so a primary key takes each new one
 * at one moving place of its index instead of at a random page (issue 8;
 * doc/HACKING.md says what that costs in a database of older random ids).
 * The time says when the resource was made, as its meta.created does; the
 * random bits keep ids unguessable and unique across tenants. NULL if the
 * random generator fails (never a weak id). */
char *scim_uuid7(apr_pool_t *p, apr_time_t now);

/* 1 if s is a tenant slug: ^[a-z0-9][a-z0-9-]{0,62}$ */
int scim_is_tenant_slug(const char *s);

/* A new provisioning username "<idp>-provisioning-<6 of [a-z2-7]>@<slug>",
 * e.g. okta-provisioning-7kq2fz@acme; NULL if the random generator fails. */
char *scim_generate_username(apr_pool_t *p, const char *idp_type,
                             const char *slug);

/* Fill out[0..n-1] with random characters of [a-z2-7] and NUL-terminate it
 * (out has n + 1 bytes); APR_EGENERAL if the random generator fails. */
apr_status_t scim_random_base32(char *out, apr_size_t n);

/* Length of the strict UTF-8 sequence at s[0..len-1] (1 to 4), or 0 if the
 * bytes there are not one: a stray continuation byte, a truncated or
 * overlong sequence, a UTF-16 surrogate or a code point above U+10FFFF.
 * *cp, if not NULL, receives the code point. */
apr_size_t scim_utf8_next(const char *s, apr_size_t len, unsigned int *cp);

/* 1 if the len bytes at s are strict UTF-8 (see scim_utf8_next) with no
 * NUL, else 0. Linear in len. */
int scim_utf8_valid(const char *s, apr_size_t len);

/* Client text made safe to quote in an error message or a log line: never
 * NULL, only printable ASCII and valid UTF-8. A byte that is not part of a
 * valid UTF-8 sequence becomes "\xHH"; a control character (C0, DEL, C1),
 * a bidi control (U+202A-U+202E, U+2066-U+2069), U+2028/U+2029 or U+FEFF
 * becomes "\uHHHH". At most max bytes of that, cut at a character boundary,
 * then "..." if something was cut (so at most max + 3 bytes). s may be NULL
 * (""). Time and memory linear in min(len, max). */
const char *scim_util_quote(apr_pool_t *p, const char *s, apr_size_t len,
                            apr_size_t max);

#endif /* SCIM_UTIL_H */
