/* SCIM filters and PATCH paths: see scim_filter.h. */

#include <stdlib.h>
#include <string.h>

#include <apr_cstr.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "scim_filter.h"
#include "scim_util.h"

/* ---- parser ---- */

/* Nesting allowed whatever the caller's limit: bounds the recursion. */
#define MAX_DEPTH_CAP 64

typedef struct {
    apr_pool_t *p;
    const scim_resource_type_t *rt;
    const char *s;
    apr_size_t len;
    apr_size_t pos;
    int depth;
    int max_depth;
    int terms; /* attribute expressions so far */
    const scim_attr_ref_t *elem; /* inside a value path: its attribute */
    const char *err;
} parser_t;

static scim_filter_t *fail(parser_t *ps, const char *fmt, const char *arg)
{
    if (!ps->err) {
        ps->err = apr_psprintf(ps->p, "%s at character %" APR_SIZE_T_FMT,
                               apr_psprintf(ps->p, fmt, arg), ps->pos + 1);
    }
    return NULL;
}

/* A short, printable excerpt of the filter text for messages. */
static const char *excerpt(parser_t *ps, apr_size_t start, apr_size_t end)
{
    return scim_util_quote(ps->p, ps->s + start, end - start, 40);
}

static void skip_ws(parser_t *ps)
{
    while (ps->pos < ps->len
           && (ps->s[ps->pos] == ' ' || ps->s[ps->pos] == '\t'
               || ps->s[ps->pos] == '\r' || ps->s[ps->pos] == '\n')) {
        ps->pos++;
    }
}

static int name_char(char c)
{
    return apr_isalnum(c) || c == '_' || c == '-' || c == '$' || c == ':'
        || c == '.';
}

/* A keyword (case-insensitive) not followed by a name character. */
static int keyword(parser_t *ps, const char *kw)
{
    apr_size_t n = strlen(kw);

    if (ps->len - ps->pos < n || apr_cstr_casecmpn(ps->s + ps->pos, kw, n)) {
        return 0;
    }
    if (ps->pos + n < ps->len && name_char(ps->s[ps->pos + n])) {
        return 0;
    }
    ps->pos += n;
    return 1;
}

static scim_filter_t *node(parser_t *ps, scim_filter_kind_e kind,
                           scim_filter_t *l, scim_filter_t *r)
{
    scim_filter_t *f = apr_pcalloc(ps->p, sizeof(*f));

    f->kind = kind;
    f->left = l;
    f->right = r;
    return f;
}

static scim_filter_t *parse_or(parser_t *ps);

/* A JSON string starting at the opening quote. */
static const char *parse_string(parser_t *ps)
{
    char *out = apr_palloc(ps->p, ps->len - ps->pos + 1), *o = out;

    ps->pos++;
    while (ps->pos < ps->len) {
        unsigned char c = (unsigned char)ps->s[ps->pos];

        if (c == '"') {
            ps->pos++;
            *o = '\0';
            return out;
        }
        if (c < 0x20) {
            fail(ps, "control character in a string%s", "");
            return NULL;
        }
        if (c == '\\') {
            unsigned int u, lo;
            char e;

            if (ps->pos + 1 >= ps->len) {
                break;
            }
            e = ps->s[ps->pos + 1];
            ps->pos += 2;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                *o++ = e;
                continue;
            case 'b':
                *o++ = '\b';
                continue;
            case 'f':
                *o++ = '\f';
                continue;
            case 'n':
                *o++ = '\n';
                continue;
            case 'r':
                *o++ = '\r';
                continue;
            case 't':
                *o++ = '\t';
                continue;
            case 'u':
                if (ps->len - ps->pos < 4 || !scim_hex4(ps->s + ps->pos, &u)) {
                    fail(ps, "invalid \\u escape%s", "");
                    return NULL;
                }
                ps->pos += 4;
                if (u >= 0xD800 && u <= 0xDBFF) {
                    if (ps->len - ps->pos < 6 || ps->s[ps->pos] != '\\'
                        || ps->s[ps->pos + 1] != 'u'
                        || !scim_hex4(ps->s + ps->pos + 2, &lo) || lo < 0xDC00
                        || lo > 0xDFFF) {
                        fail(ps, "unpaired UTF-16 surrogate%s", "");
                        return NULL;
                    }
                    ps->pos += 6;
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                }
                else if (u >= 0xDC00 && u <= 0xDFFF) {
                    fail(ps, "unpaired UTF-16 surrogate%s", "");
                    return NULL;
                }
                if (u == 0) {
                    fail(ps, "NUL character in a string%s", "");
                    return NULL;
                }
                o = scim_put_utf8(o, u);
                continue;
            default:
                fail(ps, "invalid escape in a string%s", "");
                return NULL;
            }
        }
        else {
            apr_size_t n = scim_utf8_seq((const unsigned char *)ps->s + ps->pos,
                                         ps->len - ps->pos);

            if (!n) {
                fail(ps, "invalid UTF-8 in a string%s", "");
                return NULL;
            }
            memcpy(o, ps->s + ps->pos, n);
            o += n;
            ps->pos += n;
        }
    }
    fail(ps, "unterminated string%s", "");
    return NULL;
}

/* A JSON number. */
static const char *parse_number(parser_t *ps)
{
    apr_size_t start = ps->pos, d;
    const char *s = ps->s;

    if (ps->pos < ps->len && s[ps->pos] == '-') {
        ps->pos++;
    }
    if (ps->pos < ps->len && s[ps->pos] == '0') {
        ps->pos++;
    }
    else if (ps->pos < ps->len && s[ps->pos] >= '1' && s[ps->pos] <= '9') {
        while (ps->pos < ps->len && apr_isdigit(s[ps->pos])) {
            ps->pos++;
        }
    }
    else {
        return fail(ps, "invalid number%s", ""), NULL;
    }
    if (ps->pos < ps->len && s[ps->pos] == '.') {
        d = ++ps->pos;
        while (ps->pos < ps->len && apr_isdigit(s[ps->pos])) {
            ps->pos++;
        }
        if (ps->pos == d) {
            return fail(ps, "invalid number%s", ""), NULL;
        }
    }
    if (ps->pos < ps->len && (s[ps->pos] == 'e' || s[ps->pos] == 'E')) {
        ps->pos++;
        if (ps->pos < ps->len && (s[ps->pos] == '+' || s[ps->pos] == '-')) {
            ps->pos++;
        }
        d = ps->pos;
        while (ps->pos < ps->len && apr_isdigit(s[ps->pos])) {
            ps->pos++;
        }
        if (ps->pos == d || ps->pos - d > 4) {
            return fail(ps, "invalid number%s", ""), NULL;
        }
    }
    if (ps->pos < ps->len && name_char(s[ps->pos])) {
        return fail(ps, "invalid number%s", ""), NULL;
    }
    return apr_pstrndup(ps->p, s + start, ps->pos - start);
}

static const struct {
    const char *name;
    scim_filter_op_e op;
    int ne;
} ops[] = { { "eq", SCIM_OP_EQ, 0 }, { "ne", SCIM_OP_EQ, 1 },
            { "co", SCIM_OP_CO, 0 }, { "sw", SCIM_OP_SW, 0 },
            { "ew", SCIM_OP_EW, 0 }, { "gt", SCIM_OP_GT, 0 },
            { "ge", SCIM_OP_GE, 0 }, { "lt", SCIM_OP_LT, 0 },
            { "le", SCIM_OP_LE, 0 }, { "pr", SCIM_OP_PR, 0 },
            { NULL, 0, 0 } };

/* The attribute whose characteristics a comparison uses. */
static const scim_attr_t *cmp_attr(const scim_filter_t *f)
{
    return f->ref.sub ? f->ref.sub : f->ref.attr;
}

/* Type checks of "attr op value" (the operator and literal are set). */
static scim_filter_t *check_cmp(parser_t *ps, scim_filter_t *f, const char *op,
                                const char *attr)
{
    const scim_attr_t *a = cmp_attr(f);
    int ordering = f->op >= SCIM_OP_GT && f->op <= SCIM_OP_LE;
    int substring = f->op >= SCIM_OP_CO && f->op <= SCIM_OP_EW;

    if (f->op == SCIM_OP_PR) {
        return f;
    }
    switch (a->type) {
    case SCIM_TYPE_BOOLEAN:
        if (ordering || substring) {
            return fail(ps,
                        apr_psprintf(ps->p,
                                     "\"%s\" is not allowed on "
                                     "boolean attribute %%s",
                                     op),
                        attr);
        }
        if (f->lit != SCIM_LIT_TRUE && f->lit != SCIM_LIT_FALSE) {
            return fail(ps, "%s is boolean: compare it with true or false", attr);
        }
        return f;
    case SCIM_TYPE_BINARY:
        if (ordering || substring) {
            return fail(ps,
                        apr_psprintf(ps->p,
                                     "\"%s\" is not allowed on "
                                     "binary attribute %%s",
                                     op),
                        attr);
        }
        break;
    case SCIM_TYPE_DATETIME:
        if (substring) {
            return fail(ps,
                        apr_psprintf(ps->p,
                                     "\"%s\" is not allowed on "
                                     "dateTime attribute %%s",
                                     op),
                        attr);
        }
        if (f->lit == SCIM_LIT_STRING) {
            apr_time_t t;

            if (scim_schema_datetime_parse(f->value, strlen(f->value), &t)) {
                return fail(ps,
                            "%s needs an xsd:dateTime value such as "
                            "\"2024-01-31T12:00:00Z\"",
                            attr);
            }
            return f;
        }
        return fail(ps, "%s needs a dateTime string", attr);
    case SCIM_TYPE_INTEGER:
    case SCIM_TYPE_DECIMAL:
        if (substring) {
            return fail(ps,
                        apr_psprintf(ps->p,
                                     "\"%s\" is not allowed on "
                                     "numeric attribute %%s",
                                     op),
                        attr);
        }
        if (f->lit != SCIM_LIT_NUMBER) {
            return fail(ps, "%s needs a number", attr);
        }
        return f;
    case SCIM_TYPE_COMPLEX:
        return fail(ps, "%s is complex: compare one of its sub-attributes", attr);
    default:
        break;
    }
    if (f->lit != SCIM_LIT_STRING) {
        return fail(ps, "%s needs a string value", attr);
    }
    return f;
}

/* An attribute name at the current position (not consumed on error). */
static apr_status_t attr_name(parser_t *ps, scim_attr_ref_t *ref,
                              apr_size_t *start, apr_size_t *end)
{
    apr_status_t rv;

    *start = ps->pos;
    while (ps->pos < ps->len && name_char(ps->s[ps->pos])) {
        ps->pos++;
    }
    *end = ps->pos;
    if (*end == *start) {
        fail(ps, "expected an attribute name%s", "");
        return APR_EINVAL;
    }
    if (ps->elem) {
        const scim_attr_t *sub = NULL;
        apr_size_t i;

        for (i = *start; i < *end && ps->s[i] != '.' && ps->s[i] != ':'; i++) {
        }
        if (i == *end) {
            sub = scim_schema_sub_attr(ps->elem->attr, ps->s + *start,
                                       *end - *start);
        }
        if (!sub) {
            ps->pos = *start;
            fail(ps,
                 apr_psprintf(ps->p, "%s has no sub-attribute \"%%s\"",
                              scim_schema_ref_name(ps->p, ps->elem)),
                 excerpt(ps, *start, *end));
            return APR_EINVAL;
        }
        *ref = *ps->elem;
        ref->sub = sub;
        return APR_SUCCESS;
    }
    rv = scim_schema_resolve(ps->rt, ps->s + *start, *end - *start, 0, ref);
    if (rv != APR_SUCCESS) {
        ps->pos = *start;
        fail(ps,
             rv == APR_ENOENT ? "unknown attribute \"%s\""
                              : "invalid attribute name \"%s\"",
             excerpt(ps, *start, *end));
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* "op value" or "pr" after an attribute (whose ref is in f). */
static scim_filter_t *parse_comparison(parser_t *ps, scim_filter_t *f,
                                       const char *attr)
{
    apr_size_t at;
    int i, ne = 0;
    const char *opname = NULL;
    int is_null = 0;

    at = ps->pos;
    skip_ws(ps);
    if (ps->pos == at) {
        return fail(ps, "expected a space and an operator after %s", attr);
    }
    for (i = 0; ops[i].name; i++) {
        if (keyword(ps, ops[i].name)) {
            f->op = ops[i].op;
            ne = ops[i].ne;
            opname = ops[i].name;
            break;
        }
    }
    if (!opname) {
        return fail(ps,
                    "expected an operator (eq, ne, co, sw, ew, gt, ge, "
                    "lt, le, pr) after %s",
                    attr);
    }
    if (f->op != SCIM_OP_PR) {
        skip_ws(ps);
        if (ps->pos < ps->len && ps->s[ps->pos] == '"') {
            f->lit = SCIM_LIT_STRING;
            if (!(f->value = parse_string(ps))) {
                return NULL;
            }
        }
        else if (keyword(ps, "true")) {
            f->lit = SCIM_LIT_TRUE;
        }
        else if (keyword(ps, "false")) {
            f->lit = SCIM_LIT_FALSE;
        }
        else if (keyword(ps, "null")) {
            is_null = 1;
        }
        else if (ps->pos < ps->len
                 && (ps->s[ps->pos] == '-' || apr_isdigit(ps->s[ps->pos]))) {
            f->lit = SCIM_LIT_NUMBER;
            if (!(f->value = parse_number(ps))) {
                return NULL;
            }
        }
        else {
            return fail(ps,
                        "expected a value (a \"string\", a number, true, "
                        "false or null)%s",
                        "");
        }
    }
    if (is_null) {
        /* eq null: not present; ne null: present. */
        if (f->op != SCIM_OP_EQ) {
            return fail(ps, "null can only be compared with eq or ne%s", "");
        }
        f->op = SCIM_OP_PR;
        f->lit = SCIM_LIT_NONE;
        return ne ? f : node(ps, SCIM_FILTER_NOT, f, NULL);
    }
    /* A complex attribute is compared through its "value". */
    if (!f->ref.sub && f->ref.attr->type == SCIM_TYPE_COMPLEX
        && f->op != SCIM_OP_PR) {
        f->ref.sub = scim_schema_sub_attr(f->ref.attr, "value", 5);
        if (!f->ref.sub) {
            return fail(ps,
                        "%s is complex: compare one of its "
                        "sub-attributes",
                        attr);
        }
    }
    if (!check_cmp(ps, f, opname, attr)) {
        return NULL;
    }
    return ne ? node(ps, SCIM_FILTER_NOT, f, NULL) : f;
}

static scim_filter_t *parse_attr_exp(parser_t *ps)
{
    scim_filter_t *f = node(ps, SCIM_FILTER_CMP, NULL, NULL);
    apr_size_t start, end;
    const char *name;

    /* The database compares every row with every term: a bound on the
     * terms bounds the cost of a search (SPEC 5.1). */
    if (++ps->terms > SCIM_FILTER_MAX_TERMS) {
        return fail(ps,
                    "the filter has more than " APR_STRINGIFY(
                        SCIM_FILTER_MAX_TERMS) " comparisons%s",
                    "");
    }

    if (attr_name(ps, &f->ref, &start, &end) != APR_SUCCESS) {
        return NULL;
    }
    name = excerpt(ps, start, end);
    f->in_element = ps->elem != NULL;
    if (cmp_attr(f)->returned == SCIM_RET_NEVER) {
        ps->pos = start;
        return fail(ps, "%s cannot be used in a filter", name);
    }
    if (ps->pos < ps->len && ps->s[ps->pos] == '[') {
        scim_filter_t *inner;
        const scim_attr_ref_t *saved = ps->elem;

        if (ps->elem) {
            return fail(ps, "value filters cannot be nested%s", "");
        }
        if (f->ref.sub || f->ref.attr->type != SCIM_TYPE_COMPLEX) {
            return fail(ps, "%s is not a complex attribute", name);
        }
        if (++ps->depth > ps->max_depth) {
            return fail(ps, "the filter is nested too deeply%s", "");
        }
        ps->pos++;
        ps->elem = &f->ref;
        inner = parse_or(ps);
        if (!inner) {
            return NULL;
        }
        skip_ws(ps);
        if (ps->pos >= ps->len || ps->s[ps->pos] != ']') {
            return fail(ps, "expected \"]\"%s", "");
        }
        ps->pos++;
        ps->depth--;
        f->kind = SCIM_FILTER_VALUE_PATH;
        f->in_element = 0;
        f->left = inner;
        /* Extension: attr[filter].sub op value */
        if (ps->pos < ps->len && ps->s[ps->pos] == '.') {
            scim_filter_t *c = node(ps, SCIM_FILTER_CMP, NULL, NULL);

            ps->pos++;
            if (attr_name(ps, &c->ref, &start, &end) != APR_SUCCESS) {
                return NULL;
            }
            c->in_element = 1;
            c = parse_comparison(ps, c,
                                 apr_pstrcat(ps->p, name, ".",
                                             excerpt(ps, start, end), NULL));
            if (!c) {
                return NULL;
            }
            f->left = node(ps, SCIM_FILTER_AND, inner, c);
        }
        ps->elem = saved;
        return f;
    }
    return parse_comparison(ps, f, name);
}

static scim_filter_t *parse_unary(parser_t *ps)
{
    apr_size_t save;

    skip_ws(ps);
    save = ps->pos;
    if (keyword(ps, "not")) {
        skip_ws(ps);
        if (ps->pos < ps->len && ps->s[ps->pos] == '(') {
            scim_filter_t *f = parse_unary(ps);

            return f ? node(ps, SCIM_FILTER_NOT, f, NULL) : NULL;
        }
        ps->pos = save; /* an attribute named "not..." */
    }
    if (ps->pos < ps->len && ps->s[ps->pos] == '(') {
        scim_filter_t *f;

        if (++ps->depth > ps->max_depth) {
            return fail(ps, "the filter is nested too deeply%s", "");
        }
        ps->pos++;
        if (!(f = parse_or(ps))) {
            return NULL;
        }
        skip_ws(ps);
        if (ps->pos >= ps->len || ps->s[ps->pos] != ')') {
            return fail(ps, "expected \")\"%s", "");
        }
        ps->pos++;
        ps->depth--;
        return f;
    }
    if (ps->pos >= ps->len) {
        return fail(ps, "unexpected end of the filter%s", "");
    }
    return parse_attr_exp(ps);
}

static scim_filter_t *parse_and(parser_t *ps)
{
    scim_filter_t *l = parse_unary(ps), *r;

    while (l) {
        apr_size_t save = ps->pos;

        skip_ws(ps);
        if (!keyword(ps, "and")) {
            ps->pos = save;
            break;
        }
        if (!(r = parse_unary(ps))) {
            return NULL;
        }
        l = node(ps, SCIM_FILTER_AND, l, r);
    }
    return l;
}

static scim_filter_t *parse_or(parser_t *ps)
{
    scim_filter_t *l = parse_and(ps), *r;

    while (l) {
        apr_size_t save = ps->pos;

        skip_ws(ps);
        if (!keyword(ps, "or")) {
            ps->pos = save;
            break;
        }
        if (!(r = parse_and(ps))) {
            return NULL;
        }
        l = node(ps, SCIM_FILTER_OR, l, r);
    }
    return l;
}

static apr_status_t start_parse(parser_t *ps, apr_pool_t *p,
                                const scim_resource_type_t *rt,
                                const char *text, apr_size_t max_len,
                                int max_depth, const char **err)
{
    memset(ps, 0, sizeof(*ps));
    ps->p = p;
    ps->rt = rt;
    ps->s = text ? text : "";
    ps->len = strlen(ps->s);
    ps->max_depth = (max_depth <= 0 || max_depth > MAX_DEPTH_CAP) ? MAX_DEPTH_CAP
                                                                  : max_depth;
    if (max_len && ps->len > max_len) {
        *err = apr_psprintf(p,
                            "the filter is longer than %" APR_SIZE_T_FMT " bytes",
                            max_len);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t scim_filter_parse(apr_pool_t *p, const scim_resource_type_t *rt,
                               const char *text, apr_size_t max_len,
                               int max_depth, scim_filter_t **out,
                               const char **err)
{
    parser_t ps;
    scim_filter_t *f;

    *out = NULL;
    if (start_parse(&ps, p, rt, text, max_len, max_depth, err)) {
        return APR_EINVAL;
    }
    f = parse_or(&ps);
    if (f) {
        skip_ws(&ps);
        if (ps.pos < ps.len) {
            f = fail(&ps,
                     ps.s[ps.pos] == ')' ? "unbalanced \")\"%s"
                                         : "expected and, or or the "
                                           "end of the filter%s",
                     "");
        }
    }
    if (!f) {
        *err = apr_pstrcat(p, "invalid filter: ", ps.err, NULL);
        return APR_EINVAL;
    }
    *out = f;
    return APR_SUCCESS;
}

apr_status_t scim_path_parse(apr_pool_t *p, const scim_resource_type_t *rt,
                             const char *text, apr_size_t max_len,
                             int max_depth, scim_path_t *out, const char **err)
{
    parser_t ps;
    apr_size_t end;
    apr_status_t rv;

    memset(out, 0, sizeof(*out));
    if (start_parse(&ps, p, rt, text, max_len, max_depth, err)) {
        return APR_EINVAL;
    }
    while (ps.pos < ps.len && name_char(ps.s[ps.pos])) {
        ps.pos++;
    }
    end = ps.pos;
    rv = scim_schema_resolve(rt, ps.s, end, SCIM_RESOLVE_SCHEMA, &out->ref);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "%s path \"%s\"",
                            rv == APR_ENOENT ? "unknown attribute in" : "invalid",
                            excerpt(&ps, 0, end ? end : ps.len));
        return APR_EINVAL;
    }
    if (ps.pos < ps.len && ps.s[ps.pos] == '[') {
        if (!out->ref.attr || out->ref.sub
            || out->ref.attr->type != SCIM_TYPE_COMPLEX) {
            *err = apr_psprintf(p,
                                "invalid path \"%s\": only complex "
                                "attributes take a value filter",
                                excerpt(&ps, 0, ps.len));
            return APR_EINVAL;
        }
        ps.pos++;
        ps.depth = 1;
        if (ps.depth > ps.max_depth) {
            *err = "invalid path: the filter is nested too deeply";
            return APR_EINVAL;
        }
        ps.elem = &out->ref;
        out->filter = parse_or(&ps);
        if (out->filter) {
            skip_ws(&ps);
            if (ps.pos >= ps.len || ps.s[ps.pos] != ']') {
                out->filter = fail(&ps, "expected \"]\"%s", "");
            }
        }
        if (!out->filter) {
            *err = apr_pstrcat(p, "invalid path: ", ps.err, NULL);
            return APR_EINVAL;
        }
        ps.pos++;
        if (ps.pos < ps.len && ps.s[ps.pos] == '.') {
            apr_size_t start = ++ps.pos;

            while (ps.pos < ps.len && name_char(ps.s[ps.pos])) {
                ps.pos++;
            }
            out->ref.sub = scim_schema_sub_attr(out->ref.attr, ps.s + start,
                                                ps.pos - start);
            if (!out->ref.sub) {
                *err = apr_psprintf(p,
                                    "unknown sub-attribute in path "
                                    "\"%s\"",
                                    excerpt(&ps, 0, ps.len));
                return APR_EINVAL;
            }
        }
    }
    if (ps.pos != ps.len) {
        *err = apr_psprintf(p, "invalid path \"%s\"", excerpt(&ps, 0, ps.len));
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* ---- in-memory evaluation ---- */

static int fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static int bytes_cmp(const char *a, apr_size_t an, const char *b, apr_size_t bn,
                     int exact)
{
    apr_size_t i, n = an < bn ? an : bn;

    for (i = 0; i < n; i++) {
        int x = exact ? (unsigned char)a[i] : fold((unsigned char)a[i]);
        int y = exact ? (unsigned char)b[i] : fold((unsigned char)b[i]);

        if (x != y) {
            return x - y;
        }
    }
    return an < bn ? -1 : (an > bn ? 1 : 0);
}

static int contains(const char *h, apr_size_t hn, const char *n, apr_size_t nn,
                    int exact)
{
    apr_size_t i;

    for (i = 0; i + nn <= hn; i++) {
        if (!bytes_cmp(h + i, nn, n, nn, exact)) {
            return 1;
        }
    }
    return 0;
}

static int present(const json_t *v)
{
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (json_is_string(v)) {
        return json_string_length(v) > 0;
    }
    if (json_is_array(v)) {
        return json_array_size(v) > 0;
    }
    if (json_is_object(v)) {
        return json_object_size(v) > 0;
    }
    return 1;
}

static int ordered(scim_filter_op_e op, int c)
{
    switch (op) {
    case SCIM_OP_EQ:
        return c == 0;
    case SCIM_OP_GT:
        return c > 0;
    case SCIM_OP_GE:
        return c >= 0;
    case SCIM_OP_LT:
        return c < 0;
    case SCIM_OP_LE:
        return c <= 0;
    default:
        return 0;
    }
}

/* One value against a comparison. */
static int compare(const scim_filter_t *f, const json_t *v)
{
    const scim_attr_t *a = cmp_attr(f);

    if (f->op == SCIM_OP_PR) {
        return present(v);
    }
    if (!v) {
        return 0;
    }
    switch (a->type) {
    case SCIM_TYPE_BOOLEAN:
        return json_is_boolean(v) && json_is_true(v) == (f->lit == SCIM_LIT_TRUE);
    case SCIM_TYPE_INTEGER:
    case SCIM_TYPE_DECIMAL: {
        double x, y;

        if (!json_is_number(v)) {
            return 0;
        }
        x = json_number_value(v);
        y = strtod(f->value, NULL);
        return ordered(f->op, x < y ? -1 : (x > y ? 1 : 0));
    }
    case SCIM_TYPE_DATETIME: {
        apr_time_t x, y;

        if (!json_is_string(v)
            || scim_schema_datetime_parse(json_string_value(v),
                                          json_string_length(v), &x)
            || scim_schema_datetime_parse(f->value, strlen(f->value), &y)) {
            return 0;
        }
        return ordered(f->op, x < y ? -1 : (x > y ? 1 : 0));
    }
    default: {
        const char *s;
        apr_size_t sn, ln = strlen(f->value);
        int exact = a->case_exact;

        if (!json_is_string(v)) {
            return 0;
        }
        s = json_string_value(v);
        sn = json_string_length(v);
        switch (f->op) {
        case SCIM_OP_CO:
            return contains(s, sn, f->value, ln, exact);
        case SCIM_OP_SW:
            return sn >= ln && !bytes_cmp(s, ln, f->value, ln, exact);
        case SCIM_OP_EW:
            return sn >= ln && !bytes_cmp(s + sn - ln, ln, f->value, ln, exact);
        default:
            return ordered(f->op, bytes_cmp(s, sn, f->value, ln, exact));
        }
    }
    }
}

static int match_node(const scim_filter_t *f, const json_t *r);

/* The value of f's attribute in the resource (NULL if absent). */
static const json_t *attr_value(const scim_filter_t *f, const json_t *r)
{
    const json_t *c = scim_schema_container((json_t *)r, &f->ref, 0);

    return scim_schema_obj_get(c, f->ref.attr->name);
}

static int match_cmp(const scim_filter_t *f, const json_t *r)
{
    const json_t *v;
    size_t i;

    if (f->in_element) {
        return compare(f, scim_schema_obj_get(r, f->ref.sub->name));
    }
    v = attr_value(f, r);
    if (f->ref.attr->multi_valued && json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++) {
            const json_t *e = json_array_get(v, i);

            if (f->ref.sub ? compare(f, scim_schema_obj_get(e, f->ref.sub->name))
                           : compare(f, e)) {
                return 1;
            }
        }
        return 0;
    }
    if (f->ref.sub) {
        return compare(f, scim_schema_obj_get(v, f->ref.sub->name));
    }
    return compare(f, v);
}

static int match_value_path(const scim_filter_t *f, const json_t *r)
{
    const json_t *v = attr_value(f, r);
    size_t i;

    if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++) {
            if (match_node(f->left, json_array_get(v, i))) {
                return 1;
            }
        }
        return 0;
    }
    return json_is_object(v) && match_node(f->left, v);
}

static int match_node(const scim_filter_t *f, const json_t *r)
{
    /* and/or chains are left-deep: walk them without recursion. */
    while (f->kind == SCIM_FILTER_AND || f->kind == SCIM_FILTER_OR) {
        int v = match_node(f->right, r);

        if (f->kind == SCIM_FILTER_AND ? !v : v) {
            return v;
        }
        f = f->left;
    }
    switch (f->kind) {
    case SCIM_FILTER_NOT:
        return !match_node(f->left, r);
    case SCIM_FILTER_VALUE_PATH:
        return match_value_path(f, r);
    default:
        return match_cmp(f, r);
    }
}

int scim_filter_match(const scim_filter_t *f, const json_t *resource)
{
    return f && resource && match_node(f, resource);
}
