/* Provisioning tokens and their key set (see scim_jwt.h and SPEC section 4).
 *
 * The verifier accepts one shape only: the header and claim set that
 * scim_jwt_sign writes, in canonical base64url. Everything about the token
 * that could select behaviour (alg, extra header members, key material) is
 * fixed by the server, and the claims are not parsed before the MAC has been
 * checked. Reasons for rejection are constants: token bytes never reach a
 * log. */

#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include <openssl/crypto.h>

#include "scim_json.h"
#include "scim_jwt.h"
#include "scim_util.h"

#define KEYSET_MAX_FILE  (1024 * 1024)
#define KEYSET_MAX_DEPTH 4 /* set -> keys -> key -> key_ops */
#define JWT_MAX_DEPTH    2 /* flat objects; deeper values fail as wrong type */
#define JWT_MAX_TIME     APR_INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define JTI_BYTES        16
#define JTI_CHARS        22
#define GEN_KEY_BYTES    32

static const char *const header_members[] = { "alg", "typ", "kid", NULL };
static const char *const claim_members[] = { "iss", "aud", "tid", "sub", "idp",
                                             "jti", "iat", "nbf", "exp", NULL };

/* Wipes key material when the pool holding it goes away. */
typedef struct {
    void *data;
    apr_size_t len;
} wipe_t;

static apr_status_t wipe_cleanup(void *data)
{
    wipe_t *w = data;

    OPENSSL_cleanse(w->data, w->len);
    return APR_SUCCESS;
}

static void wipe_with_pool(apr_pool_t *p, void *data, apr_size_t len)
{
    wipe_t *w = apr_palloc(p, sizeof(*w));

    w->data = data;
    w->len = len;
    apr_pool_cleanup_register(p, w, wipe_cleanup, apr_pool_cleanup_null);
}

/* Jansson strings are our own parsed copies: wiping them is safe. */
static void wipe_json_string(json_t *s)
{
    if (json_is_string(s)) {
        OPENSSL_cleanse((char *)json_string_value(s), json_string_length(s));
    }
}

static int in_list(const char *const *list, const char *name)
{
    for (; *list; list++) {
        if (!strcmp(*list, name)) {
            return 1;
        }
    }
    return 0;
}

/* 1 if kid is a usable key id: 1 to 64 printable ASCII characters, no
 * space (it appears in config directives and log lines). */
static int is_valid_kid(const char *kid)
{
    apr_size_t i;

    for (i = 0; kid[i]; i++) {
        if (i >= SCIM_JWT_MAX_KID_LEN || kid[i] < 0x21 || kid[i] > 0x7e) {
            return 0;
        }
    }
    return i > 0;
}

const scim_jwk_t *scim_keyset_find(const scim_keyset_t *ks, const char *kid)
{
    int i;

    if (!ks || !ks->keys || !kid) {
        return NULL;
    }
    for (i = 0; i < ks->keys->nelts; i++) {
        const scim_jwk_t *k = &APR_ARRAY_IDX(ks->keys, i, scim_jwk_t);

        if (!strcmp(k->kid, kid)) {
            return k;
        }
    }
    return NULL;
}

scim_keyset_t *scim_keyset_new(apr_pool_t *p)
{
    /* Sets are made while the configuration is read, by one thread. */
    static apr_uint64_t serials;
    scim_keyset_t *ks = apr_pcalloc(p, sizeof(*ks));

    ks->keys = apr_array_make(p, 2, sizeof(scim_jwk_t));
    ks->serial = ++serials;
    return ks;
}

/* Check "key_ops": a non-empty array of distinct "sign"/"verify". */
static const char *check_key_ops(json_t *ops)
{
    int seen_sign = 0, seen_verify = 0;
    size_t i;

    if (!json_is_array(ops) || json_array_size(ops) == 0) {
        return "key_ops must be a non-empty array";
    }
    for (i = 0; i < json_array_size(ops); i++) {
        const char *op = json_string_value(json_array_get(ops, i));
        int *seen = !op             ? NULL
            : !strcmp(op, "sign")   ? &seen_sign
            : !strcmp(op, "verify") ? &seen_verify
                                    : NULL;

        if (!seen) {
            return "key_ops may only contain \"sign\" and \"verify\"";
        }
        if ((*seen)++) {
            return "key_ops has a duplicate value";
        }
    }
    return NULL;
}

/* Validate one member of the "keys" array and add it to ks. tmp holds
 * scratch data; the key itself goes into p. */
static const char *parse_key(apr_pool_t *p, apr_pool_t *tmp, scim_keyset_t *ks,
                             json_t *jk, int idx)
{
    const char *name, *kid, *what, *s;
    unsigned char *raw = NULL;
    apr_size_t raw_len = 0;
    scim_jwk_t *key;
    json_t *v;

    if (!json_is_object(jk)) {
        return apr_psprintf(tmp, "key #%d is not a JSON object", idx + 1);
    }
    /* Name the key by its kid in messages once the kid is known good. */
    kid = json_string_value(json_object_get(jk, "kid"));
    if (!kid || !is_valid_kid(kid)) {
        return apr_psprintf(tmp,
                            "key #%d: \"kid\" must be 1 to %d printable "
                            "ASCII characters without space",
                            idx + 1, SCIM_JWT_MAX_KID_LEN);
    }
    what = apr_psprintf(tmp, "key #%d (kid '%s')", idx + 1, kid);
    if (scim_keyset_find(ks, kid)) {
        return apr_psprintf(tmp, "%s: duplicate kid", what);
    }
    json_object_foreach(jk, name, v)
    {
        if (strcmp(name, "kty") && strcmp(name, "alg") && strcmp(name, "kid")
            && strcmp(name, "k") && strcmp(name, "use")
            && strcmp(name, "key_ops")) {
            /* Bounded and printable-free of surprises: member names of an
             * administrator's own file, not secrets. */
            return apr_psprintf(tmp, "%s: unsupported member \"%.64s\"", what,
                                name);
        }
    }
    s = json_string_value(json_object_get(jk, "kty"));
    if (!s || strcmp(s, "oct")) {
        return apr_psprintf(tmp, "%s: \"kty\" must be \"oct\"", what);
    }
    s = json_string_value(json_object_get(jk, "alg"));
    if (!s || strcmp(s, "HS256")) {
        return apr_psprintf(tmp, "%s: \"alg\" must be \"HS256\"", what);
    }
    if ((v = json_object_get(jk, "use")) != NULL) {
        s = json_string_value(v);
        if (!s || strcmp(s, "sig")) {
            return apr_psprintf(tmp, "%s: \"use\" must be \"sig\"", what);
        }
    }
    if ((v = json_object_get(jk, "key_ops")) != NULL
        && (s = check_key_ops(v)) != NULL) {
        return apr_psprintf(tmp, "%s: %s", what, s);
    }
    v = json_object_get(jk, "k");
    if (!json_is_string(v)) {
        return apr_psprintf(tmp, "%s: \"k\" (the key material) is missing", what);
    }
    if (scim_b64url_decode(tmp, json_string_value(v), json_string_length(v),
                           &raw, &raw_len)
        != APR_SUCCESS) {
        return apr_psprintf(tmp,
                            "%s: \"k\" is not canonical base64url "
                            "(no padding, no '+' or '/', no whitespace)",
                            what);
    }
    wipe_with_pool(tmp, raw, raw_len);
    if (raw_len < SCIM_JWT_MIN_KEY_BYTES) {
        return apr_psprintf(tmp,
                            "%s: key is %" APR_SIZE_T_FMT " bytes, at least "
                            "%d are required",
                            what, raw_len, SCIM_JWT_MIN_KEY_BYTES);
    }
    key = apr_array_push(ks->keys);
    key->kid = apr_pstrdup(p, kid);
    key->key = apr_pmemdup(p, raw, raw_len);
    key->key_len = raw_len;
    wipe_with_pool(p, key->key, key->key_len);
    return NULL;
}

apr_status_t scim_keyset_parse(apr_pool_t *p, const char *json, apr_size_t len,
                               scim_keyset_t **ks, const char **err)
{
    apr_status_t rv = APR_EINVAL;
    const char *jerr = NULL, *name;
    apr_pool_t *tmp;
    json_t *doc, *keys, *v;
    scim_keyset_t *set;
    size_t i;

    *ks = NULL;
    *err = NULL;
    apr_pool_create(&tmp, p);
    doc = scim_json_parse(tmp, json, len, KEYSET_MAX_DEPTH, &jerr);
    if (!doc) {
        *err = apr_psprintf(p, "not a valid JWK Set: %s", jerr);
        goto leave;
    }
    if (!json_is_object(doc)) {
        *err = "not a valid JWK Set: the document is not a JSON object";
        goto leave;
    }
    json_object_foreach(doc, name, v)
    {
        if (strcmp(name, "keys")) {
            *err = apr_psprintf(p,
                                "not a valid JWK Set: unsupported member "
                                "\"%.64s\"",
                                name);
            goto leave;
        }
    }
    keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        *err = "not a valid JWK Set: \"keys\" must be an array";
        goto leave;
    }
    if (json_array_size(keys) == 0) {
        *err = "the JWK Set has no keys";
        goto leave;
    }
    set = scim_keyset_new(p);
    for (i = 0; i < json_array_size(keys); i++) {
        json_t *jk = json_array_get(keys, i);
        const char *msg = parse_key(p, tmp, set, jk, (int)i);

        if (json_is_object(jk)) {
            wipe_json_string(json_object_get(jk, "k"));
        }
        if (msg) {
            *err = apr_pstrdup(p, msg);
            goto leave;
        }
    }
    *ks = set;
    rv = APR_SUCCESS;
leave:
    if (doc && json_is_array(json_object_get(doc, "keys"))) {
        /* Also the keys after a failing one. */
        keys = json_object_get(doc, "keys");
        for (i = 0; i < json_array_size(keys); i++) {
            wipe_json_string(json_object_get(json_array_get(keys, i), "k"));
        }
    }
    apr_pool_destroy(tmp);
    return rv;
}

apr_status_t scim_keyset_load(apr_pool_t *p, const char *path,
                              scim_keyset_t **ks, const char **err)
{
    apr_status_t rv;
    apr_finfo_t fi;
    apr_file_t *f = NULL;
    apr_size_t n = 0;
    char *buf = NULL;
    char ebuf[120];

    *ks = NULL;
    *err = NULL;
    if (APR_SUCCESS
        != (rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                               APR_FPROT_OS_DEFAULT, p))) {
        *err = apr_psprintf(p, "cannot open key file %s: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        goto leave;
    }
    if (APR_SUCCESS
        != (rv = apr_file_info_get(&fi, APR_FINFO_TYPE | APR_FINFO_SIZE, f))) {
        *err = apr_psprintf(p, "cannot stat key file %s: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        goto leave;
    }
    if (fi.filetype != APR_REG || fi.size > KEYSET_MAX_FILE) {
        rv = APR_EINVAL;
        *err = apr_psprintf(p,
                            "key file %s is not a regular file of at most "
                            "%d bytes",
                            path, KEYSET_MAX_FILE);
        goto leave;
    }
    buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    wipe_with_pool(p, buf, (apr_size_t)fi.size + 1);
    rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, &n);
    if (rv != APR_SUCCESS && !(APR_STATUS_IS_EOF(rv) && n == 0)) {
        *err = apr_psprintf(p, "cannot read key file %s: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        goto leave;
    }
    if (APR_SUCCESS != (rv = scim_keyset_parse(p, buf, n, ks, err))) {
        *err = apr_psprintf(p, "key file %s: %s", path, *err);
        goto leave;
    }
leave:
    if (buf) {
        OPENSSL_cleanse(buf, (apr_size_t)fi.size + 1);
    }
    if (f) {
        apr_file_close(f);
    }
    return rv;
}

apr_status_t scim_keyset_generate(apr_pool_t *p, scim_keyset_t *ks,
                                  const char *kid, const scim_jwk_t **added,
                                  const char **err)
{
    unsigned char *raw;
    scim_jwk_t *key;
    char name[10];
    int tries;

    if (added) {
        *added = NULL;
    }
    *err = NULL;
    if (kid && !is_valid_kid(kid)) {
        *err = apr_psprintf(p,
                            "kid must be 1 to %d printable ASCII characters "
                            "without space",
                            SCIM_JWT_MAX_KID_LEN);
        return APR_EINVAL;
    }
    if (kid && scim_keyset_find(ks, kid)) {
        *err = apr_psprintf(p, "a key with kid '%s' already exists", kid);
        return APR_EEXIST;
    }
    for (tries = 0; !kid && tries < 16; tries++) {
        name[0] = 'k';
        if (scim_random_base32(name + 1, 8) != APR_SUCCESS) {
            *err = "the random number generator failed";
            return APR_EGENERAL;
        }
        if (!scim_keyset_find(ks, name)) {
            kid = name;
        }
    }
    if (!kid) {
        *err = "could not find an unused kid";
        return APR_EGENERAL;
    }
    raw = apr_palloc(p, GEN_KEY_BYTES);
    wipe_with_pool(p, raw, GEN_KEY_BYTES);
    if (scim_random_bytes(raw, GEN_KEY_BYTES) != APR_SUCCESS) {
        *err = "the random number generator failed";
        return APR_EGENERAL;
    }
    key = apr_array_push(ks->keys);
    key->kid = apr_pstrdup(p, kid);
    key->key = raw;
    key->key_len = GEN_KEY_BYTES;
    if (added) {
        *added = key;
    }
    return APR_SUCCESS;
}

char *scim_keyset_to_json(apr_pool_t *p, const scim_keyset_t *ks)
{
    json_t *doc, *keys;
    char *out = NULL, *s;
    int i;

    if (!ks || !ks->keys) {
        return NULL;
    }
    keys = json_array();
    doc = json_pack("{s:o}", "keys", keys);
    if (!doc) {
        return NULL;
    }
    for (i = 0; i < ks->keys->nelts; i++) {
        const scim_jwk_t *k = &APR_ARRAY_IDX(ks->keys, i, scim_jwk_t);
        char *k64 = scim_b64url_encode(p, k->key, k->key_len);

        wipe_with_pool(p, k64, strlen(k64));
        if (json_array_append_new(keys,
                                  json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty",
                                            "oct", "use", "sig", "alg", "HS256",
                                            "kid", k->kid, "k", k64))) {
            goto leave;
        }
    }
    s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s) {
        out = apr_pstrdup(p, s);
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
leave:
    for (i = 0; i < (int)json_array_size(keys); i++) {
        wipe_json_string(json_object_get(json_array_get(keys, i), "k"));
    }
    json_decref(doc);
    return out;
}

char *scim_jwt_audience(apr_pool_t *p, const char *slug)
{
    return apr_pstrcat(p, SCIM_JWT_AUD_PREFIX, slug, NULL);
}

char *scim_jwt_new_jti(apr_pool_t *p)
{
    unsigned char r[JTI_BYTES];

    if (scim_random_bytes(r, sizeof(r)) != APR_SUCCESS) {
        return NULL;
    }
    return scim_b64url_encode(p, r, sizeof(r));
}

/* base64url(json) of a Jansson document, compact; NULL on failure. */
static char *b64url_json(apr_pool_t *p, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    char *out = NULL;

    if (s) {
        out = scim_b64url_encode(p, (const unsigned char *)s, strlen(s));
        free(s);
    }
    return out;
}

char *scim_jwt_sign(apr_pool_t *p, const scim_jwk_t *key,
                    const scim_token_claims_t *c)
{
    unsigned char mac[32];
    char *h64, *c64, *input, *token = NULL;
    const char *aud;
    json_t *hdr = NULL, *claims = NULL;

    if (!key || !key->kid || !key->key || !c || !c->iss || !c->tid || !c->sub
        || !c->idp || !c->jti) {
        goto leave;
    }
    aud = c->aud ? c->aud : scim_jwt_audience(p, c->tid);
    hdr = json_pack("{s:s, s:s, s:s}", "alg", "HS256", "typ", SCIM_JWT_TYP,
                    "kid", key->kid);
    claims = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "iss",
                       c->iss, "aud", aud, "tid", c->tid, "sub", c->sub, "idp",
                       c->idp, "jti", c->jti, "iat", (json_int_t)c->iat, "nbf",
                       (json_int_t)c->nbf, "exp", (json_int_t)c->exp);
    h64 = b64url_json(p, hdr);
    c64 = b64url_json(p, claims);
    if (!h64 || !c64) {
        goto leave;
    }
    input = apr_pstrcat(p, h64, ".", c64, NULL);
    scim_hmac_sha256(key->key, key->key_len, input, strlen(input), mac);
    token = apr_pstrcat(p, input, ".", scim_b64url_encode(p, mac, sizeof(mac)),
                        NULL);
leave:
    json_decref(hdr);
    json_decref(claims);
    return token;
}

/* Parse a decoded segment as a strict flat JSON object; a constant reason
 * on failure (never Jansson's text, which quotes the input). */
static json_t *parse_segment(apr_pool_t *tmp, const unsigned char *buf,
                             apr_size_t len, const char *what,
                             const char **reason)
{
    const char *err = NULL;
    json_t *j = scim_json_parse(tmp, (const char *)buf, len, JWT_MAX_DEPTH, &err);

    if (!j) {
        if (strstr(err, "duplicate object key")) {
            *reason = !strcmp(what, "header") ? "header has a duplicate member"
                                              : "claims have a duplicate member";
        }
        else {
            *reason = !strcmp(what, "header") ? "header is not valid JSON"
                                              : "claims are not valid JSON";
        }
        return NULL;
    }
    if (!json_is_object(j)) {
        *reason = !strcmp(what, "header") ? "header is not a JSON object"
                                          : "claims are not a JSON object";
        return NULL;
    }
    return j;
}

/* The kid of a header that is, byte for byte, the one scim_jwt_sign()
 * writes, or NULL. A kid of printable ASCII without '"' or '\\' needs no
 * escape, so such bytes are exactly that three-member object, and what the
 * parser would find in them is known without it. Any other spelling (other
 * order, spaces, escapes) goes through the parser and its checks. */
static const char *canonical_kid(apr_pool_t *tmp, const unsigned char *h,
                                 apr_size_t len)
{
    static const char pre[] = "{\"alg\":\"HS256\",\"typ\":\"" SCIM_JWT_TYP
                              "\",\"kid\":\"";
    const apr_size_t np = sizeof(pre) - 1;
    apr_size_t i;

    if (len < np + 3 || len - np - 2 > SCIM_JWT_MAX_KID_LEN
        || memcmp(h, pre, np) || h[len - 2] != '"' || h[len - 1] != '}') {
        return NULL;
    }
    for (i = np; i < len - 2; i++) {
        if (h[i] < 0x21 || h[i] > 0x7e || h[i] == '"' || h[i] == '\\') {
            return NULL;
        }
    }
    return apr_pstrmemdup(tmp, (const char *)h + np, len - np - 2);
}

/* 1 if every member of obj is in list. */
static int only_members(json_t *obj, const char *const *list)
{
    const char *name;
    json_t *v;

    json_object_foreach(obj, name, v)
    {
        (void)v;
        if (!in_list(list, name)) {
            return 0;
        }
    }
    return 1;
}

/* The string claim name, or NULL with *reason set. */
static const char *claim_string(apr_pool_t *p, json_t *claims, const char *name,
                                const char **reason)
{
    json_t *v = json_object_get(claims, name);

    if (!v) {
        *reason = apr_pstrcat(p, "claims lack ", name, NULL);
        return NULL;
    }
    if (!json_is_string(v)) {
        *reason = apr_pstrcat(p, "claim ", name, " is not a string", NULL);
        return NULL;
    }
    return apr_pstrmemdup(p, json_string_value(v), json_string_length(v));
}

/* The integer (not real, not string) claim name in [0, JWT_MAX_TIME]. */
static apr_status_t claim_time(apr_pool_t *p, json_t *claims, const char *name,
                               apr_int64_t *out, const char **reason)
{
    json_t *v = json_object_get(claims, name);
    json_int_t t;

    if (!v) {
        *reason = apr_pstrcat(p, "claims lack ", name, NULL);
        return APR_EINVAL;
    }
    if (!json_is_integer(v)) {
        *reason = apr_pstrcat(p, "claim ", name, " is not an integer", NULL);
        return APR_EINVAL;
    }
    t = json_integer_value(v);
    if (t < 0 || t > JWT_MAX_TIME) {
        *reason = apr_pstrcat(p, "claim ", name, " is out of range", NULL);
        return APR_EINVAL;
    }
    *out = (apr_int64_t)t;
    return APR_SUCCESS;
}

static int is_known_idp(const char *idp)
{
    return !strcmp(idp, "okta") || !strcmp(idp, "entra");
}

static int is_valid_jti(apr_pool_t *tmp, const char *jti)
{
    unsigned char *raw;
    apr_size_t n;

    return strlen(jti) == JTI_CHARS
        && scim_b64url_decode(tmp, jti, JTI_CHARS, &raw, &n) == APR_SUCCESS
        && n == JTI_BYTES;
}

/* The time rules, with leeway; the claims are in [0, JWT_MAX_TIME] so this
 * arithmetic cannot overflow whatever now is. 1 if c is valid at now. */
static int time_ok(const scim_token_claims_t *c, apr_int64_t now,
                   const char **reason)
{
    if (c->iat - SCIM_JWT_LEEWAY > now) {
        *reason = "not yet valid (iat in the future)";
        return 0;
    }
    if (c->nbf - SCIM_JWT_LEEWAY > now) {
        *reason = "not yet valid (nbf in the future)";
        return 0;
    }
    if (c->exp + SCIM_JWT_LEEWAY <= now) {
        *reason = "expired";
        return 0;
    }
    if (c->exp <= c->iat) {
        *reason = "exp not after iat";
        return 0;
    }
    if (c->exp - c->iat > SCIM_JWT_MAX_LIFETIME) {
        *reason = "lifetime too long";
        return 0;
    }
    return 1;
}

apr_status_t scim_jwt_verify(apr_pool_t *p, const scim_keyset_t *ks,
                             const char *token, apr_size_t len,
                             const char *expect_iss, const char *expect_tenant,
                             apr_int64_t now, scim_token_claims_t *out,
                             const char **reason)
{
    apr_status_t rv = APR_EINVAL;
    const char *dot1, *dot2, *s;
    unsigned char *hraw, *craw, *sraw, mac[32];
    apr_size_t hlen, clen, slen;
    scim_token_claims_t c;
    const scim_jwk_t *key;
    apr_pool_t *tmp = NULL;
    json_t *hdr, *claims;

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    *reason = NULL;
    if (!ks || !ks->keys || ks->keys->nelts == 0) {
        *reason = "no token keys configured";
        goto leave;
    }
    if (!expect_iss || !expect_tenant) {
        *reason = "no issuer or tenant configured";
        goto leave;
    }
    /* 1. Shape: bounded, no NUL, exactly three segments. */
    if (!token || len == 0) {
        *reason = "empty token";
        goto leave;
    }
    if (len > SCIM_JWT_MAX_LEN) {
        *reason = "token too long";
        goto leave;
    }
    if (memchr(token, '\0', len)) {
        *reason = "token contains a NUL byte";
        goto leave;
    }
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (apr_size_t)(dot1 + 1 - token))
                : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (apr_size_t)(dot2 + 1 - token))) {
        *reason = "token does not have three segments";
        goto leave;
    }
    apr_pool_create(&tmp, p);
    /* 2. Every segment canonical base64url. */
    if (scim_b64url_decode(tmp, token, (apr_size_t)(dot1 - token), &hraw, &hlen)
        != APR_SUCCESS) {
        *reason = "header is not canonical base64url";
        goto leave;
    }
    if (scim_b64url_decode(tmp, dot1 + 1, (apr_size_t)(dot2 - dot1 - 1), &craw,
                           &clen)
        != APR_SUCCESS) {
        *reason = "claims are not canonical base64url";
        goto leave;
    }
    if (scim_b64url_decode(tmp, dot2 + 1, len - (apr_size_t)(dot2 + 1 - token),
                           &sraw, &slen)
        != APR_SUCCESS) {
        *reason = "signature is not canonical base64url";
        goto leave;
    }
    /* 3. Header: exactly alg, typ, kid, with the only values we accept
     * (the one this module writes is recognised without the parser). */
    if (!(s = canonical_kid(tmp, hraw, hlen))) {
        if (!(hdr = parse_segment(tmp, hraw, hlen, "header", reason))) {
            goto leave;
        }
        if (!only_members(hdr, header_members)) {
            *reason = "header has extra member";
            goto leave;
        }
        s = json_string_value(json_object_get(hdr, "alg"));
        if (!s || strcmp(s, "HS256")) {
            *reason = s ? "unsupported alg" : "header lacks alg";
            goto leave;
        }
        s = json_string_value(json_object_get(hdr, "typ"));
        if (!s || strcmp(s, SCIM_JWT_TYP)) {
            *reason = s ? "wrong typ" : "header lacks typ";
            goto leave;
        }
        s = json_string_value(json_object_get(hdr, "kid"));
        if (!s) {
            *reason = "header lacks kid";
            goto leave;
        }
    }
    if (!(key = scim_keyset_find(ks, s))) {
        rv = APR_ENOENT;
        *reason = "unknown kid";
        goto leave;
    }
    c.kid = key->kid;
    /* 4. The MAC, over the segments as sent, compared in constant time;
     * nothing from the claims is looked at before this passes. */
    if (slen != sizeof(mac)) {
        *reason = "bad signature length";
        goto leave;
    }
    scim_hmac_sha256(key->key, key->key_len, token, (apr_size_t)(dot2 - token),
                     mac);
    if (!scim_ct_equal(mac, sraw, sizeof(mac))) {
        *reason = "bad signature";
        goto leave;
    }
    /* 5. Claims: exactly the nine, with their types. */
    if (!(claims = parse_segment(tmp, craw, clen, "claims", reason))) {
        goto leave;
    }
    if (!only_members(claims, claim_members)) {
        *reason = "claims have extra member";
        goto leave;
    }
    if (!(c.iss = claim_string(p, claims, "iss", reason))
        || !(c.aud = claim_string(p, claims, "aud", reason))
        || !(c.tid = claim_string(p, claims, "tid", reason))
        || !(c.sub = claim_string(p, claims, "sub", reason))
        || !(c.idp = claim_string(p, claims, "idp", reason))
        || !(c.jti = claim_string(p, claims, "jti", reason))
        || claim_time(p, claims, "iat", &c.iat, reason) != APR_SUCCESS
        || claim_time(p, claims, "nbf", &c.nbf, reason) != APR_SUCCESS
        || claim_time(p, claims, "exp", &c.exp, reason) != APR_SUCCESS) {
        goto leave;
    }
    /* 6. Values. */
    if (strcmp(c.iss, expect_iss)) {
        *reason = "wrong issuer";
        goto leave;
    }
    if (strcmp(c.tid, expect_tenant)) {
        *reason = "token of another tenant";
        goto leave;
    }
    if (strcmp(c.aud, scim_jwt_audience(tmp, c.tid))) {
        *reason = "wrong audience";
        goto leave;
    }
    if (!is_known_idp(c.idp)) {
        *reason = "unsupported idp";
        goto leave;
    }
    if (!scim_is_uuid(c.sub)) {
        *reason = "sub is not a UUID";
        goto leave;
    }
    if (!is_valid_jti(tmp, c.jti)) {
        *reason = "malformed jti";
        goto leave;
    }
    /* 7. Time. */
    if (!time_ok(&c, now, reason)) {
        goto leave;
    }
    c.kid = apr_pstrdup(p, c.kid);
    *out = c;
    rv = APR_SUCCESS;
leave:
    if (tmp) {
        apr_pool_destroy(tmp);
    }
    return rv;
}

/* ---- the memo of a connection ------------------------------------------ */

scim_jwt_memo_t *scim_jwt_memo_make(apr_pool_t *parent)
{
    scim_jwt_memo_t *m = apr_pcalloc(parent, sizeof(*m));

    m->parent = parent;
    return m;
}

static scim_token_claims_t claims_dup(apr_pool_t *p, const scim_token_claims_t *c)
{
    scim_token_claims_t d = *c;

    d.kid = apr_pstrdup(p, c->kid);
    d.iss = apr_pstrdup(p, c->iss);
    d.aud = apr_pstrdup(p, c->aud);
    d.tid = apr_pstrdup(p, c->tid);
    d.sub = apr_pstrdup(p, c->sub);
    d.idp = apr_pstrdup(p, c->idp);
    d.jti = apr_pstrdup(p, c->jti);
    return d;
}

/* The memo holds the token of this SHA-256, verified with ks against iss
 * and tenant (which scim_jwt_verify required its claims to name). */
static int recalls(const scim_jwt_memo_t *m, const scim_keyset_t *ks,
                   const unsigned char sha256[32], const char *iss,
                   const char *tenant)
{
    return m->pool && ks && m->ks_serial == ks->serial && iss && tenant
        && !strcmp(m->claims.iss, iss) && !strcmp(m->claims.tid, tenant)
        && scim_ct_equal(m->sha256, sha256, sizeof(m->sha256));
}

/* m keeps this token in place of the last: the copies go into a new
 * subpool, then the old one goes. */
static void keep(scim_jwt_memo_t *m, const scim_keyset_t *ks,
                 const unsigned char sha256[32], const scim_token_claims_t *c)
{
    apr_pool_t *np;

    if (apr_pool_create(&np, m->parent) != APR_SUCCESS) {
        return;
    }
    m->claims = claims_dup(np, c);
    m->ks_serial = ks->serial;
    memcpy(m->sha256, sha256, sizeof(m->sha256));
    if (m->pool) {
        apr_pool_destroy(m->pool);
    }
    m->pool = np;
}

apr_status_t scim_jwt_verify_memo(apr_pool_t *p, scim_jwt_memo_t *m,
                                  const scim_keyset_t *ks, const char *token,
                                  apr_size_t len, const char *expect_iss,
                                  const char *expect_tenant, apr_int64_t now,
                                  scim_token_claims_t *out,
                                  unsigned char sha256[32], const char **reason)
{
    apr_status_t rv;

    *reason = NULL;
    if (token) {
        scim_sha256(token, len, sha256);
    }
    if (m && token) {
        if (recalls(m, ks, sha256, expect_iss, expect_tenant)) {
            if (!time_ok(&m->claims, now, reason)) {
                memset(out, 0, sizeof(*out));
                return APR_EINVAL;
            }
            *out = claims_dup(p, &m->claims);
            return APR_SUCCESS;
        }
    }
    rv = scim_jwt_verify(p, ks, token, len, expect_iss, expect_tenant, now, out,
                         reason);
    if (rv != APR_SUCCESS) {
        return rv; /* the memo keeps what it had */
    }
    if (m) {
        keep(m, ks, sha256, out);
    }
    return APR_SUCCESS;
}
