/* Pool-owned Jansson values and the strict parser (see scim_json.h). */

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

/* Deepest bracket nesting of buf, counting only brackets outside strings,
 * stopping as soon as it exceeds max. Unbalanced or otherwise malformed
 * text is left for Jansson to report. */
static int nesting_exceeds(const char *buf, apr_size_t len, int max)
{
    int depth = 0, in_string = 0;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        char c = buf[i];

        if (in_string) {
            if (c == '\\') {
                i++; /* the escaped character cannot end the string */
            }
            else if (c == '"') {
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
        else if ((c == ']' || c == '}') && depth > 0) {
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

char *scim_json_dump(apr_pool_t *p, const json_t *j, size_t flags)
{
    char *s, *out;

    if (!j) {
        return NULL;
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
