/* Pool-owned Jansson values and the strict parser (see scim_json.h). */

#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "scim_json.h"

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

/* Jansson's error text quotes the offending token, which may hold any
 * bytes of the input (invalid UTF-8, control characters): keep printable
 * ASCII only, so that the message can go into a JSON error body. */
static const char *safe_text(apr_pool_t *p, const char *text)
{
    char *s = apr_pstrdup(p, text), *c;

    for (c = s; *c; c++) {
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7E) {
            *c = '?';
        }
    }
    return s;
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
        *err = apr_psprintf(p, "invalid JSON at line %d column %d: %s",
                            jerr.line, jerr.column, safe_text(p, jerr.text));
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
