/* Pool-owned Jansson values and the strict parser (see scim_json.h). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "scim_json.h"
#include "scim_util.h"

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

json_t *scim_json_pool_own(apr_pool_t *p, json_t *j)
{
    if (j) {
        apr_pool_cleanup_register(p, j, json_cleanup, apr_pool_cleanup_null);
    }
    return j;
}

/* Bytes nesting_exceeds() stops at: 1 inside a string ('"', '\\'), 2
 * outside one ('"' and the brackets); the others are skipped in a tight
 * loop (a 1 KB user is mostly string bytes). */
static const unsigned char nest_class[256] = {
    ['"'] = 3, ['\\'] = 1, ['['] = 2, [']'] = 2, ['{'] = 2, ['}'] = 2,
};

/* Deepest bracket nesting of buf, counting only brackets outside strings,
 * stopping as soon as it exceeds max. Unbalanced or otherwise malformed
 * text is left for Jansson to report. */
static int nesting_exceeds(const char *buf, apr_size_t len, int max)
{
    const unsigned char *u = (const unsigned char *)buf;
    int depth = 0, in_string = 0;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c;

        while (i < len && !(nest_class[u[i]] & (in_string ? 1 : 2))) {
            i++;
        }
        if (i == len) {
            break;
        }
        c = u[i];
        if (in_string) {
            if (c == '\\') {
                i++; /* the escaped character cannot end the string */
            }
            else {
                in_string = 0;
            }
        }
        else if (c == '"') {
            in_string = 1;
        }
        else if (c == '[' || c == '{') {
            if (++depth > max) {
                return 1;
            }
        }
        else if (depth > 0) {
            depth--;
        }
    }
    return 0;
}

/* ---- the fast reader ----------------------------------------------------
 *
 * Jansson's json_loadb reads a byte at a time through a stream callback and
 * spent about 28 us of httpd's CPU on a 1.2 KB user in a POST (bench/README.md,
 * fourteenth session). This reader builds the same Jansson tree in one pass
 * over the bytes, with tight loops over string content. It accepts only
 * what json_loadb(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY) accepts and
 * builds what it builds; anything else (an error, a real number, whose
 * conversion Jansson makes locale-aware, an integer of 19 digits or more,
 * nesting over FAST_MAX_DEPTH) makes it give up, and scim_json_parse asks
 * Jansson, whose answer (the tree, or the error it describes) is then the
 * answer. test/fuzz/fuzz_json.c checks that every tree it builds is
 * Jansson's, member order and number types included. */
#define FAST_MAX_DEPTH 64

typedef struct {
    const unsigned char *s, *end;
    char *scratch; /* unescaped string content; made at the first escape */
    apr_pool_t *p;
    int max; /* nesting allowed, at most FAST_MAX_DEPTH */
} rd_t;

/* String bytes: 0 copied as they are, 1 '"', 2 '\\', 3 a control
 * character (refused), 4 the lead of a UTF-8 sequence (or a stray byte). */
/* clang-format off */
static const unsigned char str_class[256] = {
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
};
/* clang-format on */

/* The string whose opening quote r->s is at: its content, unescaped, in
 * *out (into the input when it has no escape, else into r->scratch), and
 * r->s after its closing quote. 0 to give up. */
static int rd_string(rd_t *r, const char **out, apr_size_t *outlen)
{
    const unsigned char *s = r->s + 1, *seg = s, *end = r->end;
    char *o = NULL;

    for (;;) {
        unsigned int cp;

        while (s < end && str_class[*s] == 0) {
            s++;
        }
        if (s >= end) {
            return 0;
        }
        switch (str_class[*s]) {
        case 1: /* the end */
            if (o) {
                memcpy(o, seg, (apr_size_t)(s - seg));
                o += s - seg;
                *out = r->scratch;
                *outlen = (apr_size_t)(o - r->scratch);
            }
            else {
                *out = (const char *)seg;
                *outlen = (apr_size_t)(s - seg);
            }
            r->s = s + 1;
            return 1;
        case 3:
            return 0;
        case 4: {
            apr_size_t n = scim_utf8_seq(s, (apr_size_t)(end - s));

            if (!n) {
                return 0;
            }
            s += n;
            continue;
        }
        default: /* an escape */
            break;
        }
        if (!o) {
            /* this string and every later one lie within the rest of the
             * input, and unescaping only shortens */
            if (!r->scratch) {
                r->scratch = apr_palloc(r->p, (apr_size_t)(end - r->s));
            }
            o = r->scratch;
        }
        memcpy(o, seg, (apr_size_t)(s - seg));
        o += s - seg;
        if (end - s < 2) {
            return 0;
        }
        switch (s[1]) {
        case '"':
        case '\\':
        case '/':
            *o++ = (char)s[1];
            s += 2;
            break;
        case 'b':
            *o++ = '\b';
            s += 2;
            break;
        case 'f':
            *o++ = '\f';
            s += 2;
            break;
        case 'n':
            *o++ = '\n';
            s += 2;
            break;
        case 'r':
            *o++ = '\r';
            s += 2;
            break;
        case 't':
            *o++ = '\t';
            s += 2;
            break;
        case 'u':
            if (end - s < 6 || !scim_hex4((const char *)s + 2, &cp)) {
                return 0;
            }
            s += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) { /* a pair, or nothing */
                unsigned int lo;

                if (end - s < 6 || s[0] != '\\' || s[1] != 'u'
                    || !scim_hex4((const char *)s + 2, &lo) || lo < 0xDC00
                    || lo > 0xDFFF) {
                    return 0;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            }
            else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
                return 0; /* a lone low surrogate; \u0000 (no NUL) */
            }
            /* 6 or 12 escaped bytes give at most 3 or 4: o stays within
             * the scratch */
            o = scim_put_utf8(o, cp);
            break;
        default:
            return 0;
        }
        seg = s;
    }
}

static void rd_ws(rd_t *r)
{
    while (r->s < r->end
           && (*r->s == ' ' || *r->s == '\n' || *r->s == '\r' || *r->s == '\t')) {
        r->s++;
    }
}

/* An integer: -?(0|[1-9][0-9]*) of at most 18 digits, not followed by a
 * fraction or an exponent (a real: given up, as larger integers are). */
static json_t *rd_number(rd_t *r)
{
    const unsigned char *s = r->s, *end = r->end, *d;
    json_int_t v = 0;
    int neg = 0;

    if (*s == '-') {
        neg = 1;
        s++;
    }
    d = s;
    if (s < end && *s == '0') {
        s++;
    }
    else {
        while (s < end && *s >= '0' && *s <= '9') {
            if (s - d >= 18) {
                return NULL; /* 19 digits may not fit: Jansson's to say */
            }
            v = v * 10 + (*s - '0');
            s++;
        }
    }
    if (s == d
        || (s < end
            && ((*s >= '0' && *s <= '9') || *s == '.' || *s == 'e' || *s == 'E'))) {
        return NULL;
    }
    r->s = s;
    return json_integer(neg ? -v : v);
}

static json_t *rd_value(rd_t *r, int depth);

static json_t *rd_object(rd_t *r, int depth)
{
    json_t *obj = json_object();

    if (!obj) {
        return NULL;
    }
    r->s++;
    rd_ws(r);
    if (r->s < r->end && *r->s == '}') {
        r->s++;
        return obj;
    }
    for (;;) {
        const char *k;
        apr_size_t klen;
        json_t *v;

        if (r->s >= r->end || *r->s != '"' || !rd_string(r, &k, &klen)) {
            break;
        }
        /* the key's own copy: the next string may reuse the scratch */
        if (k == r->scratch) {
            k = apr_pmemdup(r->p, k, klen);
        }
        rd_ws(r);
        if (r->s >= r->end || *r->s != ':') {
            break;
        }
        r->s++;
        if (!(v = rd_value(r, depth))) {
            break;
        }
        if (json_object_getn(obj, k, klen)) {
            json_decref(v); /* a duplicate key: Jansson refuses it */
            break;
        }
        if (json_object_setn_new_nocheck(obj, k, klen, v)) {
            break; /* out of memory; Jansson released v */
        }
        rd_ws(r);
        if (r->s < r->end && *r->s == ',') {
            r->s++;
            rd_ws(r);
            continue;
        }
        if (r->s < r->end && *r->s == '}') {
            r->s++;
            return obj;
        }
        break;
    }
    json_decref(obj);
    return NULL;
}

static json_t *rd_array(rd_t *r, int depth)
{
    json_t *arr = json_array();

    if (!arr) {
        return NULL;
    }
    r->s++;
    rd_ws(r);
    if (r->s < r->end && *r->s == ']') {
        r->s++;
        return arr;
    }
    for (;;) {
        json_t *v = rd_value(r, depth);

        if (!v || json_array_append_new(arr, v)) {
            break; /* on failure Jansson released v */
        }
        rd_ws(r);
        if (r->s < r->end && *r->s == ',') {
            r->s++;
            continue;
        }
        if (r->s < r->end && *r->s == ']') {
            r->s++;
            return arr;
        }
        break;
    }
    json_decref(arr);
    return NULL;
}

static int rd_word(rd_t *r, const char *w, apr_size_t n)
{
    if ((apr_size_t)(r->end - r->s) < n || memcmp(r->s, w, n)) {
        return 0;
    }
    r->s += n;
    /* "truex": Jansson reads letters on as one word, and refuses it */
    return r->s == r->end
        || !((*r->s >= 'a' && *r->s <= 'z') || (*r->s >= 'A' && *r->s <= 'Z'));
}

/* One value after optional white space; NULL to give up. */
static json_t *rd_value(rd_t *r, int depth)
{
    const char *sv;
    apr_size_t n;

    rd_ws(r);
    if (r->s >= r->end) {
        return NULL;
    }
    switch (*r->s) {
    case '{':
        return depth < r->max ? rd_object(r, depth + 1) : NULL;
    case '[':
        return depth < r->max ? rd_array(r, depth + 1) : NULL;
    case '"':
        return rd_string(r, &sv, &n) ? json_stringn_nocheck(sv, n) : NULL;
    case 't':
        return rd_word(r, "true", 4) ? json_true() : NULL;
    case 'f':
        return rd_word(r, "false", 5) ? json_false() : NULL;
    case 'n':
        return rd_word(r, "null", 4) ? json_null() : NULL;
    default:
        return (*r->s == '-' || (*r->s >= '0' && *r->s <= '9')) ? rd_number(r)
                                                                : NULL;
    }
}

/* The fast reader with nesting capped at max (at most FAST_MAX_DEPTH). */
static json_t *parse_fast(apr_pool_t *p, const char *buf, apr_size_t len, int max)
{
    rd_t r = { (const unsigned char *)buf, (const unsigned char *)buf + len,
               NULL, p, max < FAST_MAX_DEPTH ? max : FAST_MAX_DEPTH };
    json_t *j = rd_value(&r, 0);

    if (j) {
        rd_ws(&r);
        if (r.s != r.end) { /* only white space may follow */
            json_decref(j);
            j = NULL;
        }
    }
    return j;
}

json_t *scim_json_parse_fast(apr_pool_t *p, const char *buf, apr_size_t len)
{
    return parse_fast(p, buf, len, FAST_MAX_DEPTH);
}

json_t *scim_json_parse(apr_pool_t *p, const char *buf, apr_size_t len,
                        int max_depth, const char **err)
{
    json_error_t jerr;
    json_t *j;

    if (max_depth <= 0) {
        max_depth = SCIM_JSON_MAX_DEPTH_DEFAULT;
    }
    if (!buf || len == 0) {
        *err = "empty JSON document";
        return NULL;
    }
    /* The fast reader's tree is Jansson's, when it builds one. It refuses
     * a NUL byte and caps nesting at max_depth itself, so the two scans
     * below run only before Jansson. */
    if ((j = parse_fast(p, buf, len, max_depth))) {
        return scim_json_pool_own(p, j);
    }
    /* Jansson would stop at a NUL or report it oddly; C strings would
     * silently truncate at it later. */
    if (memchr(buf, '\0', len)) {
        *err = "JSON contains a NUL byte";
        return NULL;
    }
    /* Before Jansson: its recursive descent is what the cap protects. */
    if (nesting_exceeds(buf, len, max_depth)) {
        *err = apr_psprintf(p, "JSON nested deeper than %d levels", max_depth);
        return NULL;
    }
    /* Without JSON_ALLOW_NUL Jansson also refuses "\u0000"; it always
     * refuses invalid UTF-8 and lone surrogates, and by default anything
     * after the value but whitespace. */
    j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!j) {
        *err = apr_psprintf(p, "%s at line %d column %d: %s",
                            json_error_code(&jerr) == json_error_numeric_overflow
                                ? SCIM_JSON_ERR_RANGE
                                : "invalid JSON",
                            jerr.line, jerr.column,
                            /* Jansson quotes the bytes near the error */
                            scim_util_quote(p, jerr.text, strlen(jerr.text),
                                            sizeof(jerr.text)));
        return NULL;
    }
    return scim_json_pool_own(p, j);
}

/* The compact dump, written by the module into the pool: the bytes of
 * json_dumps(JSON_COMPACT | JSON_ENCODE_ANY), which mallocs a buffer, grows
 * it, copies it out and looks every container up in a table of its parents
 * (about 8 us for a 1.1 KB user on every POST and PUT; test/fuzz/fuzz_json.c
 * compares the two byte for byte). Two walks of the tree: the first counts,
 * the second (o not NULL) writes; each is linear in the tree's size. */
#define DUMP_FAIL ((apr_size_t)-1)
/* Containers nested in one another, the outer one counted: the module's
 * parses cap nesting at 64 or less, so only a cycle (which Jansson refuses
 * too) reaches this; the recursion stays within about 50 KB of stack. */
#define DUMP_MAX_DEPTH 256

/* Bytes a dumped string cannot copy as they are: 1 an escape (control
 * characters, '"' and '\\'), 2 the lead or continuation of a UTF-8
 * sequence, to be checked. */
/* clang-format off */
static const unsigned char dump_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};
/* clang-format on */

/* A string's dump, quotes included: the escapes Jansson writes, every other
 * byte as is; DUMP_FAIL if the bytes are not UTF-8 (as Jansson refuses). */
static apr_size_t dump_string(const char *s, apr_size_t len, char *o)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0, run, n = 2, k;

    if (o) {
        *o++ = '"';
    }
    while (i < len) {
        unsigned char c;

        for (run = i; i < len; i++) {
            if (dump_class[u[i]] == 0) {
                continue;
            }
            if (dump_class[u[i]] == 1) {
                break;
            }
            if (!(k = scim_utf8_next(s + i, len - i, NULL))) {
                return DUMP_FAIL;
            }
            i += k - 1;
        }
        n += i - run;
        if (o) {
            memcpy(o, s + run, i - run);
            o += i - run;
        }
        if (i == len) {
            break;
        }
        c = u[i++];
        k = (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n'
             || c == '\r' || c == '\t')
            ? 2
            : 6;
        n += k;
        if (!o) {
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        case '"':
        case '\\':
            *o++ = (char)c;
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    if (o) {
        *o = '"';
    }
    return n;
}

/* j's dump: its length, written at o unless o is NULL; DUMP_FAIL if it
 * cannot be encoded. */
static apr_size_t dump_value(const json_t *j, char *o, int depth)
{
    apr_size_t n, k, i, size;
    const char *key;
    char buf[100];
    int len;

    if (!j
        || ((json_is_array(j) || json_is_object(j)) && depth >= DUMP_MAX_DEPTH)) {
        return DUMP_FAIL;
    }
    switch (json_typeof(j)) {
    case JSON_NULL:
        k = 4, key = "null";
        break;
    case JSON_TRUE:
        k = 4, key = "true";
        break;
    case JSON_FALSE:
        k = 5, key = "false";
        break;
    case JSON_INTEGER:
        len = snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                       json_integer_value(j));
        if (len < 0 || (apr_size_t)len >= sizeof(buf)) {
            return DUMP_FAIL;
        }
        k = (apr_size_t)len, key = buf;
        break;
    case JSON_REAL: /* Jansson's own form (json_dumpb mallocs a table: rare) */
        k = json_dumpb(j, buf, sizeof(buf), JSON_COMPACT | JSON_ENCODE_ANY);
        if (k == 0 || k > sizeof(buf)) {
            return DUMP_FAIL;
        }
        key = buf;
        break;
    case JSON_STRING:
        return dump_string(json_string_value(j), json_string_length(j), o);
    case JSON_ARRAY:
        size = json_array_size(j);
        if (o) {
            o[0] = '[';
        }
        for (n = 1, i = 0; i < size; i++) {
            if (i) {
                if (o) {
                    o[n] = ',';
                }
                n++;
            }
            k = dump_value(json_array_get(j, i), o ? o + n : NULL, depth + 1);
            if (k == DUMP_FAIL) {
                return DUMP_FAIL;
            }
            n += k;
        }
        if (o) {
            o[n] = ']';
        }
        return n + 1;
    case JSON_OBJECT: {
        void *it = json_object_iter((json_t *)j);

        if (o) {
            o[0] = '{';
        }
        for (n = 1; it; it = json_object_iter_next((json_t *)j, it)) {
            if (n > 1) {
                if (o) {
                    o[n] = ',';
                }
                n++;
            }
            key = json_object_iter_key(it);
            k = dump_string(key, json_object_iter_key_len(it), o ? o + n : NULL);
            if (k == DUMP_FAIL) {
                return DUMP_FAIL;
            }
            n += k;
            if (o) {
                o[n] = ':';
            }
            n++;
            k = dump_value(json_object_iter_value(it), o ? o + n : NULL,
                           depth + 1);
            if (k == DUMP_FAIL) {
                return DUMP_FAIL;
            }
            n += k;
        }
        if (o) {
            o[n] = '}';
        }
        return n + 1;
    }
    default:
        return DUMP_FAIL;
    }
    if (o) {
        memcpy(o, key, k);
    }
    return k;
}

char *scim_json_dump(apr_pool_t *p, const json_t *j, size_t flags)
{
    char *s, *out;
    apr_size_t n;

    if (!j) {
        return NULL;
    }
    if (!(flags
          & ~(size_t)(JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY))) {
        if ((n = dump_value(j, NULL, 0)) == DUMP_FAIL) {
            return NULL;
        }
        out = apr_palloc(p, n + 1);
        /* the same walk again; a real whose json_dumpb fails now (out of
         * memory) must not leave the block half written */
        if (dump_value(j, out, 0) != n) {
            return NULL;
        }
        out[n] = '\0';
        return out;
    }
    s = json_dumps(j,
                   JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | flags);
    if (!s) {
        return NULL;
    }
    out = apr_pstrdup(p, s);
    free(s);
    return out;
}

/* The length of s escaped as JSON string content, and the escape itself. */
static apr_size_t escaped_len(const char *s)
{
    apr_size_t n = 0;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        n += (c == '"' || c == '\\') ? 2 : c < 0x20 ? 6 : 1;
    }
    return n;
}

static char *escape_to(char *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        }
        else if (c < 0x20) {
            *o++ = '\\';
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
        else {
            *o++ = (char)c;
        }
    }
    return o;
}

char *scim_json_escape(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, escaped_len(s) + 1);

    *escape_to(out, s) = '\0';
    return out;
}

char *scim_json_splice(apr_pool_t *p, const char *obj, apr_size_t len,
                       const char *const *parts, int nparts, const char *base)
{
    apr_size_t b = 0, e = len, total, blen, marks = 0;
    int i, members;
    char *out, *o;

    while (b < e
           && (obj[b] == ' ' || obj[b] == '\n' || obj[b] == '\t'
               || obj[b] == '\r')) {
        b++;
    }
    while (e > b
           && (obj[e - 1] == ' ' || obj[e - 1] == '\n' || obj[e - 1] == '\t'
               || obj[e - 1] == '\r')) {
        e--;
    }
    if (e - b < 2 || obj[b] != '{' || obj[e - 1] != '}') {
        return NULL;
    }
    e--; /* drop the closing brace */
    /* whether the object has members: anything but white space inside */
    for (i = 0, members = 0; b + 1 + (apr_size_t)i < e; i++) {
        char c = obj[b + 1 + (apr_size_t)i];

        if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
            members = 1;
            break;
        }
    }
    blen = base ? escaped_len(base) : 0;
    total = e - b + 2;
    for (i = 0; i < nparts; i++) {
        const char *s;

        if (!parts[i] || !*parts[i]) {
            continue;
        }
        for (s = parts[i]; *s; s++) {
            marks += *s == SCIM_JSON_BASE_MARK;
        }
        total += (apr_size_t)(s - parts[i]) + 1;
    }
    total += marks * blen;
    o = out = apr_palloc(p, total);
    memcpy(o, obj + b, e - b);
    o += e - b;
    for (i = 0; i < nparts; i++) {
        const char *s;

        if (!parts[i] || !*parts[i]) {
            continue;
        }
        if (members) {
            *o++ = ',';
        }
        members = 1;
        for (s = parts[i]; *s; s++) {
            if (*s == SCIM_JSON_BASE_MARK) {
                o = base ? escape_to(o, base) : o;
            }
            else {
                *o++ = *s;
            }
        }
    }
    *o++ = '}';
    *o = '\0';
    return out;
}
