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
