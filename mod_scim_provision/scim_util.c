/* Small core utilities (see scim_util.h). */

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <apr_strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "scim_util.h"

static const char
    b64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char
    b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char base32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

apr_status_t scim_random_bytes(unsigned char *buf, apr_size_t len)
{
    /* RAND_bytes takes an int: feed it in chunks. */
    while (len > 0) {
        int n = len > INT_MAX ? INT_MAX : (int)len;

        if (RAND_bytes(buf, n) != 1) {
            return APR_EGENERAL;
        }
        buf += n;
        len -= (apr_size_t)n;
    }
    return APR_SUCCESS;
}

apr_status_t scim_random_base32(char *out, apr_size_t n)
{
    unsigned char *r = (unsigned char *)out;
    apr_size_t i;

    /* 256 is a multiple of 32, so "& 31" picks each character uniformly. */
    if (scim_random_bytes(r, n) != APR_SUCCESS) {
        out[0] = '\0';
        return APR_EGENERAL;
    }
    for (i = 0; i < n; i++) {
        out[i] = base32_alphabet[r[i] & 31];
    }
    out[n] = '\0';
    return APR_SUCCESS;
}

char *scim_b64url_encode(apr_pool_t *p, const unsigned char *data, apr_size_t len)
{
    const char *a = b64url_alphabet;
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1), *o = out;
    apr_size_t i;

    for (i = 0; i + 2 < len; i += 3) {
        *o++ = a[data[i] >> 2];
        *o++ = a[((data[i] & 3) << 4) | (data[i + 1] >> 4)];
        *o++ = a[((data[i + 1] & 15) << 2) | (data[i + 2] >> 6)];
        *o++ = a[data[i + 2] & 63];
    }
    if (len - i == 1) {
        *o++ = a[data[i] >> 2];
        *o++ = a[(data[i] & 3) << 4];
    }
    else if (len - i == 2) {
        *o++ = a[data[i] >> 2];
        *o++ = a[((data[i] & 3) << 4) | (data[i + 1] >> 4)];
        *o++ = a[(data[i + 1] & 15) << 2];
    }
    *o = '\0';
    return out;
}

/* Value of c in alphabet a (64 characters), or -1. Both alphabets start
 * with the 62 letters and digits in ASCII order, so ranges find those and
 * only the last two come from a: a few compares per character, not a walk
 * of the alphabet (the token of every SCIM request is decoded here). */
static int b64_value(const char *a, char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == a[62]) {
        return 62;
    }
    return c == a[63] ? 63 : -1;
}

/* Strict decoding of unpadded data (slen % 4 != 1) in alphabet a. */
static apr_status_t b64_decode_unpadded(apr_pool_t *p, const char *a,
                                        const char *s, apr_size_t slen,
                                        unsigned char **out, apr_size_t *outlen)
{
    unsigned char *buf, *o;
    apr_size_t i, rest = slen % 4;
    int v[4];

    if (rest == 1) {
        return APR_EINVAL;
    }
    buf = o = apr_palloc(p, slen / 4 * 3 + 2 + 1);
    for (i = 0; i < slen; i += 4) {
        apr_size_t k, n = (slen - i >= 4) ? 4 : rest;

        for (k = 0; k < n; k++) {
            if ((v[k] = b64_value(a, s[i + k])) < 0) {
                return APR_EINVAL;
            }
        }
        *o++ = (unsigned char)((v[0] << 2) | (v[1] >> 4));
        if (n == 2) {
            if (v[1] & 15) {
                return APR_EINVAL; /* stray bits: not the canonical form */
            }
            break;
        }
        *o++ = (unsigned char)(((v[1] & 15) << 4) | (v[2] >> 2));
        if (n == 3) {
            if (v[2] & 3) {
                return APR_EINVAL;
            }
            break;
        }
        *o++ = (unsigned char)(((v[2] & 3) << 6) | v[3]);
    }
    *o = '\0';
    *out = buf;
    *outlen = (apr_size_t)(o - buf);
    return APR_SUCCESS;
}

apr_status_t scim_b64url_decode(apr_pool_t *p, const char *s, apr_size_t slen,
                                unsigned char **out, apr_size_t *outlen)
{
    return b64_decode_unpadded(p, b64url_alphabet, s, slen, out, outlen);
}

apr_status_t scim_b64_decode(apr_pool_t *p, const char *s, apr_size_t slen,
                             char **out, apr_size_t *outlen)
{
    /* Padding is required and makes the length a multiple of 4; at most two
     * '=' and only at the end (the decoder refuses any '=' it sees). */
    if (slen % 4) {
        return APR_EINVAL;
    }
    if (slen && s[slen - 1] == '=') {
        slen--;
        if (s[slen - 1] == '=') {
            slen--;
        }
    }
    return b64_decode_unpadded(p, b64_alphabet, s, slen, (unsigned char **)out,
                               outlen);
}

/* SHA-256, fetched once. With EVP_sha256() OpenSSL 3 looks the algorithm
 * up again on every call, and HMAC() fetches HMAC and then SHA-256 by name,
 * under locks that every httpd thread shares: perf of GET /Users/{id} at 16
 * connections put HMAC() alone at 4.6 % of httpd's CPU, ~3.5 µs a request
 * (1.1 µs on one idle thread, against 0.4 µs this way). Never freed: one
 * per process, like OpenSSL's own tables. */
static EVP_MD *sha256_md;
static CRYPTO_ONCE sha256_once = CRYPTO_ONCE_STATIC_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

static const EVP_MD *sha256(void)
{
    if (!CRYPTO_THREAD_run_once(&sha256_once, sha256_fetch)) {
        return EVP_sha256();
    }
    return sha256_md ? sha256_md : EVP_sha256();
}

void scim_sha256(const void *data, apr_size_t len, unsigned char out[32])
{
    unsigned int n = 32;

    if (EVP_Digest(data, len, out, &n, sha256(), NULL) != 1) {
        /* Only on allocation failure: never leave a predictable hash. */
        RAND_bytes(out, 32);
    }
}

/* One SHA-256 of two parts with c, into out. */
static int sha256_two(EVP_MD_CTX *c, const void *a, apr_size_t alen,
                      const void *b, apr_size_t blen, unsigned char out[32])
{
    unsigned int n = 32;

    return EVP_DigestInit_ex2(c, sha256(), NULL) == 1
        && EVP_DigestUpdate(c, a, alen) == 1 && EVP_DigestUpdate(c, b, blen) == 1
        && EVP_DigestFinal_ex(c, out, &n) == 1;
}

/* HMAC-SHA-256 as RFC 2104 defines it, H((K ^ opad) || H((K ^ ipad) || m))
 * with K the key zero-padded to SHA-256's 64-byte block (hashed first when
 * longer), over the digest fetched once; RFC 4231's vectors in
 * test/unit/test_util.c. */
void scim_hmac_sha256(const unsigned char *key, apr_size_t key_len,
                      const void *data, apr_size_t len, unsigned char out[32])
{
    unsigned char k[64], pad[64], inner[32];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c != NULL;
    apr_size_t i;

    memset(k, 0, sizeof(k));
    if (key_len > sizeof(k)) {
        scim_sha256(key, key_len, k);
    }
    else if (key_len) {
        memcpy(k, key, key_len);
    }
    for (i = 0; i < sizeof(pad); i++) {
        pad[i] = k[i] ^ 0x36;
    }
    ok = ok && sha256_two(c, pad, sizeof(pad), data, len, inner);
    for (i = 0; i < sizeof(pad); i++) {
        pad[i] = k[i] ^ 0x5c;
    }
    ok = ok && sha256_two(c, pad, sizeof(pad), inner, sizeof(inner), out);
    EVP_MD_CTX_free(c);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(inner, sizeof(inner));
    if (!ok) {
        /* A failed MAC must not match anything: random, not zeros. */
        RAND_bytes(out, 32);
    }
}

char *scim_hex(apr_pool_t *p, const unsigned char *data, apr_size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *out = apr_palloc(p, len * 2 + 1);
    apr_size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * len] = '\0';
    return out;
}

int scim_ct_equal(const void *a, const void *b, apr_size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

/* ASCII-only tests: the C library's are locale-dependent. */
static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
        || (c >= 'A' && c <= 'F');
}

static int is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* The random bits of ids, drawn from RAND_bytes a block at a time for each
 * thread: one RAND_bytes call costs about 7 us in a worker thread of httpd
 * (its per-call work, not the bytes), more than the rest of an id, and a POST
 * makes an id (bench/README.md, fourteenth session). These bytes name
 * resources and are no secret (an id is shown to the tenant that owns it and
 * grants nothing), but they come from the same generator as every token. A
 * forked child must not hand out the bytes its parent will hand out too:
 * pthread_atfork() empties the buffer of the thread that forks, the only
 * thread a child has; threads started later begin with an empty buffer. */
#define ID_RANDOM_BLOCK 640 /* the random bytes of 64 ids */
static _Thread_local struct {
    unsigned char b[ID_RANDOM_BLOCK];
    apr_size_t used;
} id_random = { { 0 }, ID_RANDOM_BLOCK };
static pthread_once_t id_random_once = PTHREAD_ONCE_INIT;
static int id_random_usable; /* the fork handler is in place */

static void id_random_forget(void)
{
    OPENSSL_cleanse(id_random.b, sizeof(id_random.b));
    id_random.used = ID_RANDOM_BLOCK;
}

static void id_random_init(void)
{
    id_random_usable = pthread_atfork(NULL, NULL, id_random_forget) == 0;
}

static apr_status_t id_random_bytes(unsigned char *out, apr_size_t n)
{
    /* without the fork handler (it could not be registered), no buffer */
    if (pthread_once(&id_random_once, id_random_init) != 0 || !id_random_usable
        || n > ID_RANDOM_BLOCK) {
        return scim_random_bytes(out, n);
    }
    if (ID_RANDOM_BLOCK - id_random.used < n) {
        if (scim_random_bytes(id_random.b, ID_RANDOM_BLOCK) != APR_SUCCESS) {
            id_random_forget();
            return APR_EGENERAL;
        }
        id_random.used = 0;
    }
    memcpy(out, id_random.b + id_random.used, n);
    /* handed out once: never again, in this thread or after a fork */
    memset(id_random.b + id_random.used, 0, n);
    id_random.used += n;
    return APR_SUCCESS;
}

char *scim_uuid7(apr_pool_t *p, apr_time_t now)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    apr_uint64_t ms = (apr_uint64_t)(now < 0 ? 0 : now) / 1000;
    char *out, *o;
    int i;

    if (id_random_bytes(b + 6, 10) != APR_SUCCESS) {
        return NULL;
    }
    for (i = 5; i >= 0; i--) { /* 48 bits of milliseconds, big-endian */
        b[i] = (unsigned char)(ms & 0xff);
        ms >>= 8;
    }
    b[6] = (unsigned char)(0x70 | (b[6] & 0x0f)); /* version 7 */
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f)); /* variant 10 */
    o = out = apr_palloc(p, 37);
    for (i = 0; i < 16; i++) { /* 8-4-4-4-12 */
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            *o++ = '-';
        }
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o = '\0';
    return out;
}

apr_size_t scim_utf8_seq(const unsigned char *s, apr_size_t n)
{
    unsigned int c;
    apr_size_t len, i;

    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        c = s[0] & 0x1F;
    }
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        c = s[0] & 0x0F;
    }
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        c = s[0] & 0x07;
    }
    else {
        return 0; /* a continuation byte, C0, C1 or F5..FF */
    }
    if (n < len) {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF)))
        || (len == 4 && (c < 0x10000 || c > 0x10FFFF))) {
        return 0;
    }
    return len;
}

int scim_hex4(const char *s, unsigned int *v)
{
    int i;

    *v = 0;
    for (i = 0; i < 4; i++) {
        char c = s[i];

        *v <<= 4;
        if (c >= '0' && c <= '9') {
            *v |= (unsigned int)(c - '0');
        }
        else if (c >= 'a' && c <= 'f') {
            *v |= (unsigned int)(c - 'a' + 10);
        }
        else if (c >= 'A' && c <= 'F') {
            *v |= (unsigned int)(c - 'A' + 10);
        }
        else {
            return 0;
        }
    }
    return 1;
}

char *scim_put_utf8(char *o, unsigned int c)
{
    if (c < 0x80) {
        *o++ = (char)c;
    }
    else if (c < 0x800) {
        *o++ = (char)(0xC0 | (c >> 6));
        *o++ = (char)(0x80 | (c & 0x3F));
    }
    else if (c < 0x10000) {
        *o++ = (char)(0xE0 | (c >> 12));
        *o++ = (char)(0x80 | ((c >> 6) & 0x3F));
        *o++ = (char)(0x80 | (c & 0x3F));
    }
    else {
        *o++ = (char)(0xF0 | (c >> 18));
        *o++ = (char)(0x80 | ((c >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((c >> 6) & 0x3F));
        *o++ = (char)(0x80 | (c & 0x3F));
    }
    return o;
}

int scim_is_uuid(const char *s)
{
    int i;

    if (!s) {
        return 0;
    }
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
        }
        else if (!is_hex(s[i])) {
            return 0;
        }
    }
    return s[36] == '\0';
}

int scim_is_tenant_slug(const char *s)
{
    apr_size_t i;

    if (!s || !is_lower_alnum(s[0])) {
        return 0;
    }
    for (i = 1; s[i]; i++) {
        if (i > 62 || !(is_lower_alnum(s[i]) || s[i] == '-')) {
            return 0;
        }
    }
    return 1;
}

char *scim_generate_username(apr_pool_t *p, const char *idp_type, const char *slug)
{
    char suffix[7];

    if (!idp_type || !slug || scim_random_base32(suffix, 6) != APR_SUCCESS) {
        return NULL;
    }
    return apr_pstrcat(p, idp_type, "-provisioning-", suffix, "@", slug, NULL);
}

apr_size_t scim_utf8_next(const char *s, apr_size_t len, unsigned int *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned int c, min;
    apr_size_t n, i;

    if (len == 0) {
        return 0;
    }
    c = u[0];
    if (c < 0x80) {
        n = 1;
        min = 0;
    }
    else if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        c &= 0x1F;
        min = 0x80;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        c &= 0x0F;
        min = 0x800;
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        c &= 0x07;
        min = 0x10000;
    }
    else {
        return 0; /* continuation byte, C0/C1 (overlong) or F5..FF */
    }
    if (n > len) {
        return 0; /* truncated */
    }
    for (i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (u[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        return 0; /* overlong, too large or a surrogate */
    }
    if (cp) {
        *cp = c;
    }
    return n;
}

int scim_utf8_valid(const char *s, apr_size_t len)
{
    apr_size_t i = 0, n;

    if (!s) {
        return len == 0;
    }
    while (i < len) {
        if (!s[i] || !(n = scim_utf8_next(s + i, len - i, NULL))) {
            return 0;
        }
        i += n;
    }
    return 1;
}

/* Code points that must not reach a message as such. */
static int quote_escaped(unsigned int c)
{
    return c < 0x20 || (c >= 0x7F && c <= 0x9F) || (c >= 0x202A && c <= 0x202E)
        || (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029
        || c == 0xFEFF;
}

const char *scim_util_quote(apr_pool_t *p, const char *s, apr_size_t len,
                            apr_size_t max)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t i = 0, o = 0, cap;
    char *out;

    if (!s) {
        return "";
    }
    /* one input byte gives at most 6 output bytes ("\\u001B"); never more
     * than max of them, then "..." and the NUL */
    cap = len <= max / 6 ? len * 6 : max;
    out = apr_palloc(p, cap + 3 + 1);
    while (i < len) {
        char piece[8];
        unsigned int c = 0;
        apr_size_t n = scim_utf8_next(s + i, len - i, &c), k;

        if (n == 0) {
            unsigned char b = (unsigned char)s[i];

            piece[0] = '\\';
            piece[1] = 'x';
            piece[2] = hex[b >> 4];
            piece[3] = hex[b & 15];
            k = 4;
            n = 1;
        }
        else if (quote_escaped(c)) {
            piece[0] = '\\';
            piece[1] = 'u';
            piece[2] = hex[(c >> 12) & 15];
            piece[3] = hex[(c >> 8) & 15];
            piece[4] = hex[(c >> 4) & 15];
            piece[5] = hex[c & 15];
            k = 6;
        }
        else {
            memcpy(piece, s + i, n);
            k = n;
        }
        if (o + k > cap) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, piece, k);
        o += k;
        i += n;
    }
    out[o] = '\0';
    return out;
}
