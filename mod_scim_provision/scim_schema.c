/* The SCIM attribute model: see scim_schema.h. */

#include <stdarg.h>
#include <string.h>

#include <apr_cstr.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "scim_json.h"
#include "scim_schema.h"
#include "scim_util.h"

/* Characteristics shorthands for the tables below. */
#define RW     SCIM_MUT_READ_WRITE
#define RO     SCIM_MUT_READ_ONLY
#define IM     SCIM_MUT_IMMUTABLE
#define WO     SCIM_MUT_WRITE_ONLY
#define DEF    SCIM_RET_DEFAULT
#define ALW    SCIM_RET_ALWAYS
#define NEV    SCIM_RET_NEVER
#define NONE   SCIM_UNIQ_NONE
#define SRV    SCIM_UNIQ_SERVER

#define T_STR  SCIM_TYPE_STRING
#define T_BOOL SCIM_TYPE_BOOLEAN
#define T_DT   SCIM_TYPE_DATETIME
#define T_BIN  SCIM_TYPE_BINARY
#define T_REF  SCIM_TYPE_REFERENCE
#define T_CPX  SCIM_TYPE_COMPLEX

/* name, type, multiValued, required, caseExact, mutability, returned,
 * uniqueness, description, canonicalValues, referenceTypes, subAttributes */
#define A(n, t, mv, req, ce, mut, ret, uq, d, cv, rt, sub) \
    {                                                      \
        n, t, mv, req, ce, mut, ret, uq, d, cv, rt, sub    \
    }
/* A plain readWrite string. */
#define S(n, d) A(n, T_STR, 0, 0, 0, RW, DEF, NONE, d, NULL, NULL, NULL)
#define END     A(NULL, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL)

/* clang-format off */
static const char *const ref_external[] = { "external", NULL };
static const char *const ref_user_group[] = { "User", "Group", NULL };
static const char *const ref_user[] = { "User", NULL };
static const char *const ref_uri[] = { "uri", NULL };

static const char *const cv_email_type[] = { "work", "home", "other", NULL };
static const char *const cv_phone_type[] = {
    "work", "home", "mobile", "fax", "pager", "other", NULL };
static const char *const cv_im_type[] = {
    "aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo", NULL };
static const char *const cv_photo_type[] = { "photo", "thumbnail", NULL };
static const char *const cv_addr_type[] = { "work", "home", "other", NULL };
static const char *const cv_group_type[] = { "direct", "indirect", NULL };
static const char *const cv_member_type[] = { "User", NULL };
static const char *const cv_resource_type[] = { "User", "Group", NULL };

/* Common attributes (RFC 7643 section 3.1), part of every resource. */
static const scim_attr_t meta_subs[] = {
    A("resourceType", T_STR, 0, 0, 1, RO, DEF, NONE,
      "The name of the resource type of the resource.",
      cv_resource_type, NULL, NULL),
    A("created", T_DT, 0, 0, 0, RO, DEF, NONE,
      "When the resource was added to the service provider.",
      NULL, NULL, NULL),
    A("lastModified", T_DT, 0, 0, 0, RO, DEF, NONE,
      "When the resource was last changed.", NULL, NULL, NULL),
    A("location", T_REF, 0, 0, 1, RO, DEF, NONE,
      "The URI of the resource.", NULL, ref_uri, NULL),
    A("version", T_STR, 0, 0, 1, RO, DEF, NONE,
      "The version (entity tag) of the resource.", NULL, NULL, NULL),
    END
};

static const scim_attr_t common_attrs[] = {
    A("id", T_STR, 0, 0, 1, RO, ALW, SRV,
      "Identifier of the resource, assigned by the service provider.",
      NULL, NULL, NULL),
    A("externalId", T_STR, 0, 0, 1, RW, DEF, NONE,
      "Identifier of the resource as defined by the provisioning client.",
      NULL, NULL, NULL),
    A("meta", T_CPX, 0, 0, 0, RO, DEF, NONE,
      "Resource metadata.", NULL, NULL, meta_subs),
    END
};

/* User (RFC 7643 sections 4.1 and 8.7.1). */
static const scim_attr_t name_subs[] = {
    S("formatted", "The full name, formatted for display."),
    S("familyName", "The family name (last name in most Western languages)."),
    S("givenName", "The given name (first name in most Western languages)."),
    S("middleName", "The middle name(s)."),
    S("honorificPrefix", "The honorific prefix(es), e.g. 'Ms.'."),
    S("honorificSuffix", "The honorific suffix(es), e.g. 'III'."),
    END
};

#define MV_SUBS(var, vtype, vdesc, vrefs, canon, what)                        \
    static const scim_attr_t var[] = {                                        \
        A("value", vtype, 0, 0, 0, RW, DEF, NONE, vdesc, NULL, vrefs, NULL),  \
        S("display", "A human-readable name, primarily for display."),       \
        A("type", T_STR, 0, 0, 0, RW, DEF, NONE,                              \
          "A label indicating the " what "'s function.", canon, NULL, NULL), \
        A("primary", T_BOOL, 0, 0, 0, RW, DEF, NONE,                          \
          "Whether this is the primary " what ".", NULL, NULL, NULL),        \
        END                                                                   \
    }

MV_SUBS(email_subs, T_STR, "The e-mail address.", NULL, cv_email_type,
        "e-mail address");
MV_SUBS(phone_subs, T_STR, "The phone number.", NULL, cv_phone_type,
        "phone number");
MV_SUBS(im_subs, T_STR, "The instant messaging address.", NULL, cv_im_type,
        "instant messaging address");
MV_SUBS(photo_subs, T_REF, "The URL of the image.", ref_external,
        cv_photo_type, "photo");
MV_SUBS(entitlement_subs, T_STR, "The entitlement.", NULL, NULL,
        "entitlement");
MV_SUBS(role_subs, T_STR, "The role.", NULL, NULL, "role");
MV_SUBS(x509_subs, T_BIN, "The certificate (base64 DER).", NULL, NULL,
        "certificate");

static const scim_attr_t address_subs[] = {
    S("formatted", "The full mailing address, formatted for display."),
    S("streetAddress", "The street address, possibly on several lines."),
    S("locality", "The city or locality."),
    S("region", "The state or region."),
    S("postalCode", "The zip code or postal code."),
    S("country", "The country name (ISO 3166-1 alpha-2 code)."),
    A("type", T_STR, 0, 0, 0, RW, DEF, NONE,
      "A label indicating the address's function.", cv_addr_type, NULL, NULL),
    A("primary", T_BOOL, 0, 0, 0, RW, DEF, NONE,
      "Whether this is the primary address.", NULL, NULL, NULL),
    END
};

static const scim_attr_t user_group_subs[] = {
    A("value", T_STR, 0, 0, 0, RO, DEF, NONE,
      "The id of the Group.", NULL, NULL, NULL),
    A("$ref", T_REF, 0, 0, 0, RO, DEF, NONE,
      "The URI of the Group.", NULL, ref_user_group, NULL),
    A("display", T_STR, 0, 0, 0, RO, DEF, NONE,
      "The displayName of the Group.", NULL, NULL, NULL),
    A("type", T_STR, 0, 0, 0, RO, DEF, NONE,
      "How the membership came about: direct (no nested groups here).",
      cv_group_type, NULL, NULL),
    END
};

static const scim_attr_t user_attrs[] = {
    A("externalId", T_STR, 0, 0, 1, RW, DEF, NONE,
      "Identifier of the User as defined by the provisioning client.",
      NULL, NULL, NULL),
    A("userName", T_STR, 0, 1, 0, RW, DEF, SRV,
      "Unique identifier of the User, used to sign in; compared "
      "case-insensitively; at most 256 characters. REQUIRED.",
      NULL, NULL, NULL),
    A("name", T_CPX, 0, 0, 0, RW, DEF, NONE,
      "The components of the User's real name.", NULL, NULL, name_subs),
    S("displayName", "The name of the User, suitable for display."),
    S("nickName", "The casual way to address the User."),
    A("profileUrl", T_REF, 0, 0, 0, RW, DEF, NONE,
      "A URI of an online profile of the User.", NULL, ref_external, NULL),
    S("title", "The User's title, such as 'Vice President'."),
    S("userType", "The relationship between the organization and the User."),
    S("preferredLanguage", "The User's preferred language (RFC 7231)."),
    S("locale", "The User's default location (language tag, e.g. en-US)."),
    S("timezone", "The User's time zone (IANA name, e.g. Europe/Paris)."),
    A("active", T_BOOL, 0, 0, 0, RW, DEF, NONE,
      "Whether the User may sign in.", NULL, NULL, NULL),
    A("password", T_STR, 0, 0, 0, WO, NEV, NONE,
      "Accepted and discarded: Users sign in with SSO, no password is "
      "stored.", NULL, NULL, NULL),
    A("emails", T_CPX, 1, 0, 0, RW, DEF, NONE,
      "E-mail addresses of the User.", NULL, NULL, email_subs),
    A("phoneNumbers", T_CPX, 1, 0, 0, RW, DEF, NONE,
      "Phone numbers of the User.", NULL, NULL, phone_subs),
    A("ims", T_CPX, 1, 0, 0, RW, DEF, NONE,
      "Instant messaging addresses of the User.", NULL, NULL, im_subs),
    A("photos", T_CPX, 1, 0, 0, RW, DEF, NONE,
      "URLs of images of the User.", NULL, NULL, photo_subs),
    A("addresses", T_CPX, 1, 0, 0, RW, DEF, NONE,
      "Physical mailing addresses of the User.", NULL, NULL, address_subs),
    A("groups", T_CPX, 1, 0, 0, RO, DEF, NONE,
      "The Groups the User belongs to (change them through Group members).",
      NULL, NULL, user_group_subs),
    A("entitlements", T_CPX, 1, 0, 0, RW, DEF, NONE,
      "Entitlements of the User.", NULL, NULL, entitlement_subs),
    A("roles", T_CPX, 1, 0, 0, RW, DEF, NONE,
      "Roles of the User.", NULL, NULL, role_subs),
    A("x509Certificates", T_CPX, 1, 0, 0, RW, DEF, NONE,
      "X.509 certificates of the User.", NULL, NULL, x509_subs),
    END
};

/* Enterprise User (RFC 7643 section 4.3). */
static const scim_attr_t manager_subs[] = {
    A("value", T_STR, 0, 0, 0, RW, DEF, NONE,
      "The id of the User's manager.", NULL, NULL, NULL),
    A("$ref", T_REF, 0, 0, 0, RW, DEF, NONE,
      "The URI of the manager's User resource.", NULL, ref_user, NULL),
    A("displayName", T_STR, 0, 0, 0, RO, DEF, NONE,
      "The displayName of the manager.", NULL, NULL, NULL),
    END
};

static const scim_attr_t enterprise_attrs[] = {
    S("employeeNumber", "Identifier assigned by the organization."),
    S("costCenter", "Name of a cost center."),
    S("organization", "Name of an organization."),
    S("division", "Name of a division."),
    S("department", "Name of a department."),
    A("manager", T_CPX, 0, 0, 0, RW, DEF, NONE,
      "The User's manager (an id string or {\"value\": id} is accepted).",
      NULL, NULL, manager_subs),
    END
};

/* Group (RFC 7643 sections 4.2 and 8.7.1). */
static const scim_attr_t member_subs[] = {
    A("value", T_STR, 0, 0, 0, IM, DEF, NONE,
      "The id of the member User.", NULL, NULL, NULL),
    A("$ref", T_REF, 0, 0, 0, IM, DEF, NONE,
      "The URI of the member User.", NULL, ref_user, NULL),
    A("display", T_STR, 0, 0, 0, RO, DEF, NONE,
      "A human-readable name of the member.", NULL, NULL, NULL),
    A("type", T_STR, 0, 0, 0, IM, DEF, NONE,
      "The type of the member: only User (no nested groups).",
      cv_member_type, NULL, NULL),
    END
};

static const scim_attr_t group_attrs[] = {
    A("externalId", T_STR, 0, 0, 1, RW, DEF, NONE,
      "Identifier of the Group as defined by the provisioning client.",
      NULL, NULL, NULL),
    A("displayName", T_STR, 0, 1, 0, RW, DEF, SRV,
      "A human-readable name for the Group, unique, compared "
      "case-insensitively; at most 256 characters. REQUIRED.",
      NULL, NULL, NULL),
    A("members", T_CPX, 1, 0, 0, RW, DEF, NONE,
      "The Users that belong to the Group.", NULL, NULL, member_subs),
    END
};
/* clang-format on */

static const scim_schema_t user_schema = { SCIM_URN_USER, "User",
                                           "User Account", user_attrs };
static const scim_schema_t enterprise_schema = { SCIM_URN_ENTERPRISE_USER,
                                                 "EnterpriseUser",
                                                 "Enterprise User",
                                                 enterprise_attrs };
static const scim_schema_t group_schema = { SCIM_URN_GROUP, "Group", "Group",
                                            group_attrs };

static const scim_schema_t *const user_extensions[] = { &enterprise_schema, NULL };
static const scim_schema_t *const no_extensions[] = { NULL };

static const scim_resource_type_t rt_user = { SCIM_RES_USER, "User",
                                              "/Users",      "User Account",
                                              &user_schema,  user_extensions };
static const scim_resource_type_t rt_group = { SCIM_RES_GROUP, "Group",
                                               "/Groups",      "Group",
                                               &group_schema,  no_extensions };

static const scim_schema_t *const all_schemas[] = { &user_schema,
                                                    &enterprise_schema,
                                                    &group_schema, NULL };

#define MAX_NAME_CHARS 256 /* userName, Group displayName (DB CHECK) */

const scim_resource_type_t *scim_schema_user(void)
{
    return &rt_user;
}

const scim_resource_type_t *scim_schema_group(void)
{
    return &rt_group;
}

const scim_resource_type_t *scim_schema_resource_type(const char *name)
{
    if (name && !apr_cstr_casecmp(name, "User")) {
        return &rt_user;
    }
    if (name && !apr_cstr_casecmp(name, "Group")) {
        return &rt_group;
    }
    return NULL;
}

void scim_fault_set(scim_fault_t *f, apr_pool_t *p, int status,
                    const char *scim_type, const char *fmt, ...)
{
    va_list ap;

    if (!f) {
        return;
    }
    va_start(ap, fmt);
    f->status = status;
    f->scim_type = scim_type;
    /* Details quote client text: only printable, valid UTF-8 leaves. */
    f->detail = apr_pvsprintf(p, fmt, ap);
    f->detail = scim_util_quote(p, f->detail, strlen(f->detail),
                                SCIM_FAULT_DETAIL_MAX);
    va_end(ap);
}

/* ---- names and lookup ---- */

static int name_eq(const char *name, const char *s, apr_size_t len)
{
    return strlen(name) == len && !apr_cstr_casecmpn(name, s, len);
}

static const scim_attr_t *find_attr(const scim_attr_t *list, const char *s,
                                    apr_size_t len)
{
    for (; list && list->name; list++) {
        if (name_eq(list->name, s, len)) {
            return list;
        }
    }
    return NULL;
}

const scim_attr_t *scim_schema_sub_attr(const scim_attr_t *parent,
                                        const char *name, apr_size_t len)
{
    if (!parent || parent->type != SCIM_TYPE_COMPLEX) {
        return NULL;
    }
    return find_attr(parent->sub_attrs, name, len);
}

/* ATTRNAME = ALPHA *(ALPHA / DIGIT / "-" / "_"), or "$ref". */
static int valid_name(const char *s, apr_size_t len)
{
    apr_size_t i;

    if (len == 4 && !memcmp(s, "$ref", 4)) {
        return 1;
    }
    if (len == 0 || !apr_isalpha(s[0])) {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if (!apr_isalnum(s[i]) && s[i] != '-' && s[i] != '_') {
            return 0;
        }
    }
    return 1;
}

/* "attr" or "attr.sub" within one schema. */
static apr_status_t resolve_in(const scim_schema_t *s, int core, const char *path,
                               apr_size_t len, scim_attr_ref_t *out)
{
    const char *dot = memchr(path, '.', len);
    apr_size_t nlen = dot ? (apr_size_t)(dot - path) : len;
    const scim_attr_t *a;

    if (!valid_name(path, nlen) || (dot && !valid_name(dot + 1, len - nlen - 1))) {
        return APR_EINVAL;
    }
    a = find_attr(s->attrs, path, nlen);
    if (!a && core) {
        a = find_attr(common_attrs, path, nlen);
    }
    if (!a) {
        return APR_ENOENT;
    }
    out->schema = s;
    out->attr = a;
    out->sub = NULL;
    if (dot) {
        out->sub = scim_schema_sub_attr(a, dot + 1, len - nlen - 1);
        if (!out->sub) {
            return APR_ENOENT;
        }
    }
    return APR_SUCCESS;
}

apr_status_t scim_schema_resolve(const scim_resource_type_t *rt, const char *path,
                                 apr_size_t len, int flags, scim_attr_ref_t *out)
{
    const scim_schema_t *const *e;
    apr_status_t rv;

    if (!path || len == 0) {
        return APR_EINVAL;
    }
    if (len > 4 && !apr_cstr_casecmpn(path, "urn:", 4)) {
        const scim_schema_t *s = rt->schema;

        for (e = rt->extensions - 1; s; s = *++e) {
            apr_size_t n = strlen(s->id);

            if (len < n || apr_cstr_casecmpn(path, s->id, n)) {
                continue;
            }
            if (len == n) {
                if (!(flags & SCIM_RESOLVE_SCHEMA) || s == rt->schema) {
                    return APR_EINVAL;
                }
                out->schema = s;
                out->attr = out->sub = NULL;
                return APR_SUCCESS;
            }
            if (path[n] != ':') {
                continue;
            }
            return resolve_in(s, s == rt->schema, path + n + 1, len - n - 1, out);
        }
        return APR_ENOENT;
    }
    rv = resolve_in(rt->schema, 1, path, len, out);
    if (rv != APR_ENOENT) {
        return rv;
    }
    /* An unqualified extension attribute, if its name is unambiguous. */
    for (e = rt->extensions; *e; e++) {
        scim_attr_ref_t r;

        if (resolve_in(*e, 0, path, len, &r) == APR_SUCCESS) {
            if (rv == APR_SUCCESS) {
                return APR_ENOENT;
            }
            *out = r;
            rv = APR_SUCCESS;
        }
    }
    return rv;
}

const char *scim_schema_ref_name(apr_pool_t *p, const scim_attr_ref_t *ref)
{
    const char *n;
    /* Core attributes are named plainly, extension ones with their URN. */
    int core = ref->schema == &user_schema || ref->schema == &group_schema;

    if (!ref->attr) {
        return ref->schema->id;
    }
    n = ref->sub ? apr_pstrcat(p, ref->attr->name, ".", ref->sub->name, NULL)
                 : ref->attr->name;
    return core ? n : apr_pstrcat(p, ref->schema->id, ":", n, NULL);
}

json_t *scim_schema_obj_get(const json_t *obj, const char *key)
{
    const char *k;
    json_t *v;

    if (!json_is_object(obj)) {
        return NULL;
    }
    if ((v = json_object_get(obj, key))) {
        return v;
    }
    json_object_foreach((json_t *)obj, k, v)
    {
        if (!apr_cstr_casecmp(k, key)) {
            return v;
        }
    }
    return NULL;
}

static int is_core(const scim_resource_type_t *rt, const scim_schema_t *s)
{
    return s == rt->schema;
}

static int is_core_schema(const scim_schema_t *s)
{
    return s == &user_schema || s == &group_schema;
}

json_t *scim_schema_container(json_t *doc, const scim_attr_ref_t *ref, int create)
{
    json_t *c;

    if (is_core_schema(ref->schema)) {
        return doc;
    }
    c = scim_schema_obj_get(doc, ref->schema->id);
    if (c && !json_is_object(c)) {
        return NULL;
    }
    if (!c && create) {
        c = json_object();
        json_object_set_new(doc, ref->schema->id, c);
    }
    return c;
}

/* ---- dateTime ---- */

static int digits(const char *s, apr_size_t n, int *v)
{
    apr_size_t i;

    *v = 0;
    for (i = 0; i < n; i++) {
        if (!apr_isdigit(s[i])) {
            return 0;
        }
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static apr_int64_t days_from_civil(int y, int m, int d)
{
    apr_int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

apr_status_t scim_schema_datetime_parse(const char *s, apr_size_t len,
                                        apr_time_t *t)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    apr_int64_t usec = 0, scale = 100000;
    apr_size_t i = 19;

    if (len < 19 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo)
        || s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't')
        || !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi)
        || s[16] != ':' || !digits(s + 17, 2, &sec)) {
        return APR_EINVAL;
    }
    if (y < 1 || mo < 1 || mo > 12 || d < 1
        || d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59
        || sec > 59) {
        return APR_EINVAL;
    }
    if (i < len && s[i] == '.') {
        apr_size_t start = ++i;

        for (; i < len && apr_isdigit(s[i]); i++) {
            if (i - start >= 9) {
                return APR_EINVAL;
            }
            usec += (s[i] - '0') * scale;
            scale /= 10;
        }
        if (i == start) {
            return APR_EINVAL;
        }
    }
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    }
    else if (i < len && (s[i] == '+' || s[i] == '-')) {
        sign = s[i] == '+' ? 1 : -1;
        if (len - i != 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':'
            || !digits(s + i + 4, 2, &om) || om > 59 || oh * 60 + om > 14 * 60) {
            return APR_EINVAL;
        }
        i = len;
    }
    if (i != len) {
        return APR_EINVAL;
    }
    *t = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
           - sign * (oh * 3600 + om * 60))
          * APR_USEC_PER_SEC)
        + usec;
    return APR_SUCCESS;
}

/* ---- normalisation ---- */

typedef struct {
    apr_pool_t *p;
    const scim_resource_type_t *rt;
    int flags;
    scim_fault_t *fault;
} norm_t;

static apr_size_t utf8_chars(const char *s)
{
    apr_size_t n = 0;

    for (; *s; s++) {
        n += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return n;
}

/* At most 80 bytes of a client-supplied name in messages, sanitised. */
static const char *shown(apr_pool_t *p, const char *s)
{
    return scim_util_quote(p, s, s ? strlen(s) : 0, 80);
}

static apr_status_t bad_value(norm_t *n, const char *what, const char *msg)
{
    scim_fault_set(n->fault, n->p, 400, "invalidValue", "%s %s", what, msg);
    return APR_EINVAL;
}

static apr_status_t unknown(norm_t *n, const char *what)
{
    scim_fault_set(n->fault, n->p, 400, "invalidSyntax",
                   "unknown attribute \"%s\"", shown(n->p, what));
    return APR_EINVAL;
}

/* One simple value. *out is a new reference or NULL (unassigned). */
static apr_status_t norm_simple(norm_t *n, const scim_attr_t *a,
                                const char *what, const json_t *v, json_t **out)
{
    *out = NULL;
    if (json_is_null(v)) {
        return APR_SUCCESS;
    }
    switch (a->type) {
    case SCIM_TYPE_BOOLEAN:
        if (json_is_boolean(v)) {
            *out = json_incref((json_t *)v);
        }
        else if (json_is_string(v)
                 && !apr_cstr_casecmp(json_string_value(v), "true")) {
            *out = json_true();
        }
        else if (json_is_string(v)
                 && !apr_cstr_casecmp(json_string_value(v), "false")) {
            *out = json_false();
        }
        else {
            return bad_value(n, what, "must be a boolean");
        }
        return APR_SUCCESS;
    case SCIM_TYPE_INTEGER:
        if (!json_is_integer(v)) {
            return bad_value(n, what, "must be an integer");
        }
        break;
    case SCIM_TYPE_DECIMAL:
        if (!json_is_number(v)) {
            return bad_value(n, what, "must be a number");
        }
        break;
    case SCIM_TYPE_DATETIME: {
        apr_time_t t;

        if (!json_is_string(v)) {
            return bad_value(n, what, "must be a dateTime string");
        }
        if (json_string_length(v) == 0) {
            return APR_SUCCESS;
        }
        if (scim_schema_datetime_parse(json_string_value(v),
                                       json_string_length(v), &t)) {
            return bad_value(n, what, "is not a valid xsd:dateTime");
        }
        break;
    }
    case SCIM_TYPE_COMPLEX:
        return bad_value(n, what, "is complex");
    default: /* string, reference, binary */
        if (!json_is_string(v)) {
            return bad_value(n, what, "must be a string");
        }
        if (strlen(json_string_value(v)) != json_string_length(v)) {
            return bad_value(n, what, "must not contain NUL characters");
        }
        if (json_string_length(v) == 0) {
            return APR_SUCCESS; /* "" is unassigned */
        }
        if (json_string_length(v) > SCIM_MAX_STRING_BYTES) {
            return bad_value(n, what,
                             "is longer than " APR_STRINGIFY(
                                 SCIM_MAX_STRING_BYTES) " bytes");
        }
        break;
    }
    *out = json_incref((json_t *)v);
    return APR_SUCCESS;
}

static int is_member_attr(const scim_attr_t *a)
{
    return a == &group_attrs[2];
}

static int is_manager_attr(const scim_attr_t *a)
{
    return a == &enterprise_attrs[5];
}

/* One element of Group members: {"value": uuid}, lower-cased. */
static apr_status_t norm_member(norm_t *n, const json_t *v, json_t **out)
{
    const char *k;
    json_t *x, *value = NULL;
    char *id;
    apr_size_t i;

    *out = NULL;
    if (json_is_null(v)) {
        return APR_SUCCESS;
    }
    if (json_is_string(v)) {
        value = (json_t *)v;
    }
    else if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x)
        {
            const scim_attr_t *s = find_attr(member_subs, k, strlen(k));

            if (!s) {
                if (n->flags & SCIM_NORM_IGNORE_UNKNOWN) {
                    continue;
                }
                return unknown(n, apr_pstrcat(n->p, "members.", k, NULL));
            }
            if (!strcmp(s->name, "value")) {
                value = x;
            }
            else if (!strcmp(s->name, "type") && !json_is_null(x)
                     && (!json_is_string(x)
                         || apr_cstr_casecmp(json_string_value(x), "User"))) {
                return bad_value(n, "members.type",
                                 "must be \"User\": groups cannot be members");
            }
        }
    }
    else {
        return bad_value(n, "members", "must be objects with a \"value\"");
    }
    if (!json_is_string(value)) {
        return bad_value(n, "members.value", "must be a string");
    }
    if (!scim_is_uuid(json_string_value(value))) {
        return bad_value(n, "members.value", "must be the id of a User");
    }
    id = apr_pstrdup(n->p, json_string_value(value));
    for (i = 0; id[i]; i++) {
        id[i] = (char)apr_tolower(id[i]);
    }
    *out = json_pack("{ss}", "value", id);
    return APR_SUCCESS;
}

/* A complex value (one element when the attribute is multi-valued). */
static apr_status_t norm_complex(norm_t *n, const scim_attr_t *a,
                                 const char *what, const json_t *v, json_t **out)
{
    json_t *res, *x;
    const char *k;
    apr_status_t rv = APR_SUCCESS;

    *out = NULL;
    if (is_member_attr(a)) {
        return norm_member(n, v, out);
    }
    if (json_is_null(v)) {
        return APR_SUCCESS;
    }
    if (is_manager_attr(a)) {
        /* Entra: a string id, or (older) [{"value": id, "$ref": null}]. */
        if (json_is_string(v)) {
            if (json_string_length(v) == 0) {
                return APR_SUCCESS;
            }
            return norm_complex(n, a, what,
                                scim_json_pool_own(n->p,
                                                   json_pack("{sO}", "value", v)),
                                out);
        }
        if (json_is_array(v) && json_array_size(v) <= 1) {
            return json_array_size(v)
                ? norm_complex(n, a, what, json_array_get(v, 0), out)
                : APR_SUCCESS;
        }
    }
    if (!json_is_object(v)) {
        return bad_value(n, what, "must be an object");
    }
    res = json_object();
    json_object_foreach((json_t *)v, k, x)
    {
        const scim_attr_t *s = find_attr(a->sub_attrs, k, strlen(k));
        const char *sw = apr_pstrcat(n->p, what, ".", s ? s->name : k, NULL);
        json_t *nv;

        if (!s) {
            if (n->flags & SCIM_NORM_IGNORE_UNKNOWN) {
                continue;
            }
            rv = unknown(n, sw);
            break;
        }
        if (s->mutability == SCIM_MUT_READ_ONLY) {
            continue;
        }
        if (json_object_get(res, s->name)) {
            scim_fault_set(n->fault, n->p, 400, "invalidSyntax",
                           "attribute \"%s\" given more than once", sw);
            rv = APR_EINVAL;
            break;
        }
        if ((rv = norm_simple(n, s, sw, x, &nv)) != APR_SUCCESS) {
            break;
        }
        if (nv) {
            json_object_set_new(res, s->name, nv);
        }
    }
    if (rv != APR_SUCCESS || json_object_size(res) == 0) {
        json_decref(res);
        return rv;
    }
    *out = res;
    return APR_SUCCESS;
}

static apr_status_t norm_element(norm_t *n, const scim_attr_t *a,
                                 const char *what, const json_t *v, json_t **out)
{
    if (a->type == SCIM_TYPE_COMPLEX) {
        return norm_complex(n, a, what, v, out);
    }
    return norm_simple(n, a, what, v, out);
}

/* A whole multi-valued attribute: an array of normalised elements, at most
 * one of them primary; members de-duplicated. */
static apr_status_t norm_multi(norm_t *n, const scim_attr_t *a,
                               const char *what, const json_t *v, json_t **out)
{
    json_t *res, *one = NULL;
    apr_hash_t *seen = NULL;
    apr_size_t i, count;
    int primaries = 0;
    apr_status_t rv = APR_SUCCESS;

    *out = NULL;
    if (json_is_null(v)) {
        return APR_SUCCESS;
    }
    if (!json_is_array(v)) {
        one = json_array();
        json_array_append((json_t *)one, (json_t *)v);
        v = scim_json_pool_own(n->p, one);
    }
    count = json_array_size(v);
    if (is_member_attr(a)) {
        seen = apr_hash_make(n->p);
        if (count > SCIM_MAX_MEMBER_VALUES && !(n->flags & SCIM_NORM_STORED)) {
            return bad_value(n, what,
                             apr_psprintf(n->p,
                                          "has more than %d values in one "
                                          "request",
                                          SCIM_MAX_MEMBER_VALUES));
        }
    }
    else if (count > SCIM_MAX_MULTI_VALUES) {
        return bad_value(n, what,
                         apr_psprintf(n->p, "has more than %d values",
                                      SCIM_MAX_MULTI_VALUES));
    }
    res = json_array();
    for (i = 0; i < count; i++) {
        json_t *e, *pr;

        rv = norm_element(n, a, what, json_array_get(v, i), &e);
        if (rv != APR_SUCCESS) {
            break;
        }
        if (!e) {
            continue;
        }
        if (seen) {
            const char *id = json_string_value(json_object_get(e, "value"));

            if (apr_hash_get(seen, id, APR_HASH_KEY_STRING)) {
                json_decref(e);
                continue;
            }
            apr_hash_set(seen, apr_pstrdup(n->p, id), APR_HASH_KEY_STRING, "");
        }
        pr = json_object_get(e, "primary");
        if (json_is_true(pr) && ++primaries > 1) {
            json_decref(e);
            rv = bad_value(n, what, "has more than one primary value");
            break;
        }
        json_array_append_new(res, e);
    }
    if (rv != APR_SUCCESS || json_array_size(res) == 0) {
        json_decref(res);
        return rv;
    }
    *out = res;
    return APR_SUCCESS;
}

static apr_status_t norm_attr(norm_t *n, const scim_attr_t *a, const char *what,
                              const json_t *v, json_t **out)
{
    if (a->multi_valued) {
        return norm_multi(n, a, what, v, out);
    }
    return norm_element(n, a, what, v, out);
}

apr_status_t scim_schema_normalize_value(apr_pool_t *p,
                                         const scim_resource_type_t *rt,
                                         const scim_attr_ref_t *ref,
                                         const json_t *value, int element,
                                         int flags, json_t **out,
                                         scim_fault_t *fault)
{
    norm_t n = { p, rt, flags, fault };
    const char *what = scim_schema_ref_name(p, ref);
    apr_status_t rv;

    *out = NULL;
    if (!ref->attr) {
        return bad_value(&n, what, "is not an attribute");
    }
    if (ref->sub) {
        rv = norm_simple(&n, ref->sub, what, value, out);
    }
    else if (element && ref->attr->multi_valued) {
        rv = norm_element(&n, ref->attr, what, value, out);
    }
    else {
        rv = norm_attr(&n, ref->attr, what, value, out);
    }
    if (*out) {
        scim_json_pool_own(p, *out);
    }
    return rv;
}

/* Put a normalised value of (schema, attr) into the document being built:
 * core attributes in core, extension ones in ext[schema]. */
static apr_status_t put_attr(norm_t *n, json_t *core, json_t *exts,
                             const scim_schema_t *s, const scim_attr_t *a,
                             const json_t *v)
{
    json_t *target = core, *nv;
    const char *what;
    apr_status_t rv;

    if (!is_core(n->rt, s)) {
        target = json_object_get(exts, s->id);
        if (!target) {
            target = json_object();
            json_object_set_new(exts, s->id, target);
        }
        what = apr_pstrcat(n->p, s->id, ":", a->name, NULL);
    }
    else {
        what = a->name;
    }
    if (json_object_get(target, a->name)) {
        scim_fault_set(n->fault, n->p, 400, "invalidSyntax",
                       "attribute \"%s\" given more than once", what);
        return APR_EINVAL;
    }
    /* Mark the attribute as seen even when unassigned, so that a second
     * spelling of it is still caught. */
    if ((rv = norm_attr(n, a, what, v, &nv)) != APR_SUCCESS) {
        return rv;
    }
    json_object_set_new(target, a->name, nv ? nv : json_null());
    return APR_SUCCESS;
}

/* Whether a top-level attribute is accepted from clients and stored. */
static int stored_attr(const scim_attr_t *a)
{
    return a->mutability != SCIM_MUT_READ_ONLY
        && a->mutability != SCIM_MUT_WRITE_ONLY;
}

static apr_status_t check_schemas(norm_t *n, const json_t *schemas)
{
    apr_size_t i;
    int core = 0;

    if (!json_is_array(schemas)) {
        scim_fault_set(n->fault, n->p, 400, "invalidSyntax",
                       "\"schemas\" must be an array naming %s",
                       n->rt->schema->id);
        return APR_EINVAL;
    }
    /* An unknown URN in "schemas" alone carries no data and is ignored:
     * Entra's documented Group body names
     * http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group.
     * Data under an unknown URN key is still refused as an unknown
     * attribute. */
    for (i = 0; i < json_array_size(schemas); i++) {
        const json_t *s = json_array_get(schemas, i);

        if (!json_is_string(s)) {
            return bad_value(n, "schemas", "must contain only strings");
        }
        if (!apr_cstr_casecmp(json_string_value(s), n->rt->schema->id)) {
            core = 1;
        }
    }
    if (!core) {
        scim_fault_set(n->fault, n->p, 400, "invalidValue",
                       "\"schemas\" must contain %s", n->rt->schema->id);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* Copy the assigned members of src into dst in the schema's order. */
static void emit_ordered(json_t *dst, json_t *src, const scim_attr_t *attrs)
{
    const scim_attr_t *a;

    for (a = attrs; a->name; a++) {
        json_t *v = json_object_get(src, a->name);

        if (v && !json_is_null(v)) {
            json_object_set(dst, a->name, v);
        }
    }
}

static apr_status_t check_name(norm_t *n, json_t *doc, const char *attr)
{
    json_t *v = json_object_get(doc, attr);

    if (!json_is_string(v)) {
        scim_fault_set(n->fault, n->p, 400, "invalidValue", "%s is required",
                       attr);
        return APR_EINVAL;
    }
    if (utf8_chars(json_string_value(v)) > MAX_NAME_CHARS) {
        scim_fault_set(n->fault, n->p, 400, "invalidValue",
                       "%s is longer than %d characters", attr, MAX_NAME_CHARS);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* The next code point of UTF-8 (Jansson's strings are valid; a sequence
 * cut by the end counts as U+FFFD, one byte). */
static unsigned int next_cp(const unsigned char **s, const unsigned char *end)
{
    const unsigned char *p = *s;
    unsigned int c = *p++;
    apr_size_t need = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;

    if ((apr_size_t)(end - p) < need) {
        *s = p;
        return 0xFFFD;
    }

    if (c >= 0xF0) {
        c = ((c & 0x07) << 18) | ((p[0] & 0x3F) << 12) | ((p[1] & 0x3F) << 6)
            | (p[2] & 0x3F);
        p += 3;
    }
    else if (c >= 0xE0) {
        c = ((c & 0x0F) << 12) | ((p[0] & 0x3F) << 6) | (p[1] & 0x3F);
        p += 2;
    }
    else if (c >= 0xC0) {
        c = ((c & 0x1F) << 6) | (p[0] & 0x3F);
        p += 1;
    }
    *s = p;
    return c;
}

/* Unicode White_Space. */
static int is_uspace(unsigned int c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0
        || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028
        || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* C0 and C1 controls, DEL, the bidi controls (marks, embeddings,
 * overrides, isolates), and the invisible characters that NFKC keeps and
 * that make a lookalike of a name: soft hyphen, zero width space, word
 * joiner and the invisible operators, byte order mark, line and paragraph
 * separators. (ZWNJ and ZWJ stay allowed: some scripts need them.) */
static int is_control(unsigned int c)
{
    return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x00AD || c == 0x061C
        || c == 0x180E || c == 0x200B || c == 0x200E || c == 0x200F
        || c == 0x2028 || c == 0x2029 || (c >= 0x202A && c <= 0x202E)
        || (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x2069)
        || c == 0xFEFF;
}

/* userName, externalId, group displayName: names people and programs
 * compare, so no controls, no bidi tricks and no white space at either end
 * (SPEC 5.1); a lookalike of an existing name is refused rather than
 * created next to it. */
static apr_status_t check_name_text(norm_t *n, json_t *doc, const char *attr)
{
    json_t *v = json_object_get(doc, attr);
    const unsigned char *s, *end;
    unsigned int c = 0, first = 0;

    if (!json_is_string(v)) {
        return APR_SUCCESS;
    }
    s = (const unsigned char *)json_string_value(v);
    end = s + json_string_length(v);
    while (s < end) {
        c = next_cp(&s, end);
        if (is_control(c)) {
            scim_fault_set(n->fault, n->p, 400, "invalidValue",
                           "%s must not contain control or bidi characters "
                           "(U+%04X)",
                           attr, c);
            return APR_EINVAL;
        }
        if (!first) {
            first = c;
        }
    }
    if (is_uspace(first) || is_uspace(c)) {
        scim_fault_set(n->fault, n->p, 400, "invalidValue",
                       "%s must not begin or end with white space", attr);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t scim_schema_normalize(apr_pool_t *p, const scim_resource_type_t *rt,
                                   const json_t *in, int flags, json_t **out,
                                   scim_fault_t *fault)
{
    norm_t n = { p, rt, flags, fault };
    json_t *core, *exts, *doc = NULL, *schemas = NULL, *v;
    const scim_schema_t *const *e;
    const char *k;
    apr_status_t rv = APR_SUCCESS;

    *out = NULL;
    if (!json_is_object(in)) {
        scim_fault_set(fault, p, 400, "invalidSyntax",
                       "the resource must be a JSON object");
        return APR_EINVAL;
    }
    core = scim_json_pool_own(p, json_object());
    exts = scim_json_pool_own(p, json_object());
    json_object_foreach((json_t *)in, k, v)
    {
        apr_size_t klen = strlen(k);
        scim_attr_ref_t ref;
        apr_status_t r;

        if (!apr_cstr_casecmp(k, "schemas")) {
            if (schemas) {
                scim_fault_set(fault, p, 400, "invalidSyntax",
                               "\"schemas\" given more than once");
                return APR_EINVAL;
            }
            schemas = v;
            continue;
        }
        r = scim_schema_resolve(rt, k, klen, SCIM_RESOLVE_SCHEMA, &ref);
        if (r == APR_SUCCESS && !ref.attr) {
            /* An extension object: {"urn:...:User": {...}} */
            const char *ek;
            json_t *ev;

            if (json_is_null(v)) {
                continue;
            }
            if (!json_is_object(v)) {
                return bad_value(&n, ref.schema->id, "must be an object");
            }
            json_object_foreach(v, ek, ev)
            {
                const scim_attr_t *a = find_attr(ref.schema->attrs, ek,
                                                 strlen(ek));

                if (!a) {
                    if (flags & SCIM_NORM_IGNORE_UNKNOWN) {
                        continue;
                    }
                    return unknown(&n,
                                   apr_pstrcat(p, ref.schema->id, ":", ek, NULL));
                }
                if (!stored_attr(a)) {
                    continue;
                }
                rv = put_attr(&n, core, exts, ref.schema, a, ev);
                if (rv != APR_SUCCESS) {
                    return rv;
                }
            }
            continue;
        }
        /* Plain and URN-qualified attribute names; sub-attribute paths
         * ("name.givenName") belong in PATCH, not in a resource body. */
        if (r != APR_SUCCESS || ref.sub) {
            if (flags & SCIM_NORM_IGNORE_UNKNOWN) {
                continue;
            }
            return unknown(&n, k);
        }
        if (!stored_attr(ref.attr)) {
            continue; /* id, meta, groups, password */
        }
        if ((rv = put_attr(&n, core, exts, ref.schema, ref.attr, v))) {
            return rv;
        }
    }
    if (!schemas) {
        scim_fault_set(fault, p, 400, "invalidSyntax", "\"schemas\" is required");
        return APR_EINVAL;
    }
    if ((rv = check_schemas(&n, schemas)) != APR_SUCCESS) {
        return rv;
    }

    /* The stored document, in schema order. */
    doc = scim_json_pool_own(p, json_object());
    schemas = json_array();
    json_object_set_new(doc, "schemas", schemas);
    json_array_append_new(schemas, json_string(rt->schema->id));
    emit_ordered(doc, core, rt->schema->attrs);
    for (e = rt->extensions; *e; e++) {
        json_t *x = json_object_get(exts, (*e)->id), *ext;

        if (!x) {
            continue;
        }
        ext = json_object();
        emit_ordered(ext, x, (*e)->attrs);
        if (json_object_size(ext)) {
            json_array_append_new(schemas, json_string((*e)->id));
            json_object_set_new(doc, (*e)->id, ext);
        }
        else {
            json_decref(ext);
        }
    }
    rv = check_name(&n, doc,
                    rt->kind == SCIM_RES_USER ? "userName" : "displayName");
    if (rv == APR_SUCCESS) {
        rv = check_name_text(&n, doc,
                             rt->kind == SCIM_RES_USER ? "userName"
                                                       : "displayName");
    }
    if (rv == APR_SUCCESS) {
        rv = check_name_text(&n, doc, "externalId");
    }
    if (rv == APR_SUCCESS) {
        *out = doc;
    }
    return rv;
}

apr_array_header_t *scim_schema_member_ids(apr_pool_t *p, const json_t *doc)
{
    json_t *m = json_object_get(doc, "members");
    apr_array_header_t *ids = apr_array_make(p, 8, sizeof(const char *));
    apr_size_t i;

    for (i = 0; i < json_array_size(m); i++) {
        const char *id = json_string_value(
            json_object_get(json_array_get(m, i), "value"));

        if (id) {
            APR_ARRAY_PUSH(ids, const char *) = apr_pstrdup(p, id);
        }
    }
    return ids;
}

/* ---- attributes / excludedAttributes ---- */

apr_status_t scim_schema_attr_list(apr_pool_t *p, const scim_resource_type_t *rt,
                                   const char *list, apr_array_header_t **out,
                                   const char **err)
{
    apr_array_header_t *arr = apr_array_make(p, 4, sizeof(scim_attr_ref_t));
    apr_hash_t *seen = apr_hash_make(p);
    const char *s = list ? list : "";
    int names = 0;

    *out = arr;
    while (*s) {
        const char *end = strchr(s, ',');
        apr_size_t len = end ? (apr_size_t)(end - s) : strlen(s);
        const char *b = s, *t = s + len;
        scim_attr_ref_t ref;
        apr_status_t rv;

        while (b < t && apr_isspace(*b)) {
            b++;
        }
        while (t > b && apr_isspace(t[-1])) {
            t--;
        }
        if (t > b && ++names > SCIM_MAX_ATTR_NAMES) {
            *err = apr_psprintf(p, "more than %d attribute names",
                                SCIM_MAX_ATTR_NAMES);
            return APR_EINVAL;
        }
        if (t > b) {
            rv = scim_schema_resolve(rt, b, t - b, SCIM_RESOLVE_SCHEMA, &ref);
            if (rv == APR_SUCCESS) {
                /* each attribute once: projection is linear in the list */
                const void *key[3] = { ref.schema, ref.attr, ref.sub };

                if (!apr_hash_get(seen, key, sizeof(key))) {
                    apr_hash_set(seen, apr_pmemdup(p, key, sizeof(key)),
                                 sizeof(key), "");
                    APR_ARRAY_PUSH(arr, scim_attr_ref_t) = ref;
                }
            }
            else if (rv == APR_EINVAL) {
                /* Not even a well-formed name; an unknown one selects
                 * nothing and is skipped. */
                char *n = apr_pstrndup(p, b, t - b);
                apr_size_t i;
                int ok = 1;

                for (i = 0; n[i]; i++) {
                    ok &= apr_isalnum(n[i]) || strchr("-_$:.", n[i]) != NULL;
                    /* Quoted below: only printable ASCII (the bytes come
                     * from a query string, need not be UTF-8, and the
                     * message goes into a JSON error body). */
                    if ((unsigned char)n[i] < 0x20 || (unsigned char)n[i] > 0x7E) {
                        n[i] = '?';
                    }
                }
                if (!ok) {
                    *err = apr_psprintf(p, "invalid attribute name \"%s\"",
                                        shown(p, n));
                    return APR_EINVAL;
                }
            }
        }
        s += len;
        if (*s == ',') {
            s++;
        }
    }
    return APR_SUCCESS;
}

/* How a list selects (schema, attr[, sub]). */
enum { SEL_NONE = 0, SEL_PART = 1, SEL_FULL = 2 };

static int selects(const apr_array_header_t *l, const scim_schema_t *s,
                   const scim_attr_t *a, const scim_attr_t *sub)
{
    int i, r = SEL_NONE;

    for (i = 0; l && i < l->nelts; i++) {
        const scim_attr_ref_t *x = &APR_ARRAY_IDX(l, i, scim_attr_ref_t);

        if (x->schema != s) {
            continue;
        }
        if (!x->attr || (x->attr == a && !x->sub)) {
            return SEL_FULL;
        }
        if (x->attr == a && x->sub) {
            if (!sub || x->sub == sub) {
                r = sub ? SEL_FULL : SEL_PART;
            }
        }
    }
    return r;
}

/* What to do with one attribute: 0 drop, 1 keep whole, 2 filter subs. */
static int decide(const scim_schema_t *s, const scim_attr_t *a,
                  const scim_attr_t *sub, const apr_array_header_t *attrs,
                  const apr_array_header_t *excl)
{
    const scim_attr_t *x = sub ? sub : a;
    int sel;

    if (x->returned == SCIM_RET_NEVER) {
        return 0;
    }
    if (x->returned == SCIM_RET_ALWAYS) {
        return 1;
    }
    if (attrs && attrs->nelts) {
        sel = selects(attrs, s, a, sub);
        if (sel == SEL_FULL) {
            /* A listed parent brings its sub-attributes along, but the
             * never-returned ones still go. */
            return (!sub && x->type == SCIM_TYPE_COMPLEX) ? 2 : 1;
        }
        if (sel == SEL_PART) {
            return 2;
        }
        return 0;
    }
    if (x->returned == SCIM_RET_REQUEST) {
        return 0;
    }
    sel = selects(excl, s, a, sub);
    if (sel == SEL_FULL) {
        return 0;
    }
    if (sel == SEL_PART || (!sub && x->type == SCIM_TYPE_COMPLEX)) {
        return 2;
    }
    return 1;
}

static json_t *project_complex(const scim_schema_t *s, const scim_attr_t *a,
                               const json_t *v, const apr_array_header_t *attrs,
                               const apr_array_header_t *excl, int listed)
{
    json_t *res = json_object(), *x;
    const char *k;

    json_object_foreach((json_t *)v, k, x)
    {
        const scim_attr_t *sub = find_attr(a->sub_attrs, k, strlen(k));
        int d;

        if (!sub) {
            continue;
        }
        if (listed) {
            d = sub->returned == SCIM_RET_NEVER ? 0 : 1;
        }
        else {
            d = decide(s, a, sub, attrs, excl);
        }
        if (d) {
            json_object_set(res, k, x);
        }
    }
    if (!json_object_size(res)) {
        json_decref(res);
        return NULL;
    }
    return res;
}

static json_t *project_attr(const scim_schema_t *s, const scim_attr_t *a,
                            const json_t *v, const apr_array_header_t *attrs,
                            const apr_array_header_t *excl)
{
    int d = decide(s, a, NULL, attrs, excl);
    int listed = attrs && attrs->nelts && selects(attrs, s, a, NULL) == SEL_FULL;
    json_t *res;
    apr_size_t i;

    if (d == 0) {
        return NULL;
    }
    if (d == 1 || a->type != SCIM_TYPE_COMPLEX) {
        return json_incref((json_t *)v);
    }
    if (json_is_object(v)) {
        return project_complex(s, a, v, attrs, excl, listed);
    }
    if (!json_is_array(v)) {
        return json_incref((json_t *)v);
    }
    res = json_array();
    for (i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i), *pe;

        pe = json_is_object(e) ? project_complex(s, a, e, attrs, excl, listed)
                               : json_incref(e);
        if (pe) {
            json_array_append_new(res, pe);
        }
    }
    if (!json_array_size(res)) {
        json_decref(res);
        return NULL;
    }
    return res;
}

/* Find a top-level attribute of a resource key: core, common or extension
 * (for an extension URN key, *ext is set and NULL returned). */
static const scim_attr_t *key_attr(const scim_resource_type_t *rt,
                                   const char *k, const scim_schema_t **ext)
{
    const scim_schema_t *const *e;
    const scim_attr_t *a;

    *ext = NULL;
    a = find_attr(rt->schema->attrs, k, strlen(k));
    if (!a) {
        a = find_attr(common_attrs, k, strlen(k));
    }
    if (a) {
        return a;
    }
    for (e = rt->extensions; *e; e++) {
        if (!apr_cstr_casecmp(k, (*e)->id)) {
            *ext = *e;
        }
    }
    return NULL;
}

json_t *scim_schema_project(apr_pool_t *p, const scim_resource_type_t *rt,
                            const json_t *resource,
                            const apr_array_header_t *attributes,
                            const apr_array_header_t *excluded)
{
    json_t *res = scim_json_pool_own(p, json_object()), *v;
    const char *k;

    json_object_foreach((json_t *)resource, k, v)
    {
        const scim_schema_t *ext;
        const scim_attr_t *a = key_attr(rt, k, &ext);
        json_t *pv = NULL;

        if (!apr_cstr_casecmp(k, "schemas")) {
            pv = json_incref(v);
        }
        else if (a) {
            pv = project_attr(rt->schema, a, v, attributes, excluded);
        }
        else if (ext && json_is_object(v)) {
            const char *ek;
            json_t *ev;

            pv = json_object();
            json_object_foreach(v, ek, ev)
            {
                const scim_attr_t *ea = find_attr(ext->attrs, ek, strlen(ek));
                json_t *pev;

                if (ea && (pev = project_attr(ext, ea, ev, attributes, excluded))) {
                    json_object_set_new(pv, ek, pev);
                }
            }
            if (!json_object_size(pv)) {
                json_decref(pv);
                pv = NULL;
            }
        }
        if (pv) {
            json_object_set_new(res, k, pv);
        }
    }
    return res;
}

int scim_schema_projection_wants(const scim_resource_type_t *rt,
                                 const scim_attr_ref_t *ref,
                                 const apr_array_header_t *attributes,
                                 const apr_array_header_t *excluded)
{
    (void)rt;
    if (!ref || !ref->attr) {
        return 1;
    }
    return decide(ref->schema, ref->attr, NULL, attributes, excluded) != 0;
}

/* ---- discovery documents ---- */

static json_t *meta_json(const char *type, const char *base, const char *path,
                         const char *id)
{
    json_t *m = json_pack("{ss}", "resourceType", type);

    if (base) {
        json_object_set_new(m, "location",
                            json_sprintf("%s%s%s", base, path, id ? id : ""));
    }
    return m;
}

static const char *mutability_name(scim_mutability_e m)
{
    switch (m) {
    case SCIM_MUT_READ_ONLY:
        return "readOnly";
    case SCIM_MUT_IMMUTABLE:
        return "immutable";
    case SCIM_MUT_WRITE_ONLY:
        return "writeOnly";
    default:
        return "readWrite";
    }
}

static const char *returned_name(scim_returned_e r)
{
    switch (r) {
    case SCIM_RET_ALWAYS:
        return "always";
    case SCIM_RET_NEVER:
        return "never";
    case SCIM_RET_REQUEST:
        return "request";
    default:
        return "default";
    }
}

static const char *type_name(scim_attr_type_e t)
{
    static const char *const names[] = { "string",    "boolean",  "decimal",
                                         "integer",   "dateTime", "binary",
                                         "reference", "complex" };
    return names[t];
}

static json_t *strings_json(const char *const *l)
{
    json_t *a = json_array();

    for (; l && *l; l++) {
        json_array_append_new(a, json_string(*l));
    }
    return a;
}

static json_t *attr_json(const scim_attr_t *a)
{
    json_t *j = json_pack("{ss ss sb ss sb sb ss ss ss}", "name", a->name,
                          "type", type_name(a->type), "multiValued",
                          a->multi_valued, "description", a->description,
                          "required", a->required, "caseExact", a->case_exact,
                          "mutability", mutability_name(a->mutability),
                          "returned", returned_name(a->returned), "uniqueness",
                          a->uniqueness == SCIM_UNIQ_SERVER
                              ? "server"
                              : (a->uniqueness == SCIM_UNIQ_GLOBAL ? "global"
                                                                   : "none"));

    if (a->canonical_values) {
        json_object_set_new(j, "canonicalValues",
                            strings_json(a->canonical_values));
    }
    if (a->type == SCIM_TYPE_REFERENCE) {
        json_object_set_new(j, "referenceTypes",
                            a->reference_types ? strings_json(a->reference_types)
                                               : json_pack("[s]", "external"));
    }
    if (a->type == SCIM_TYPE_COMPLEX) {
        const scim_attr_t *s;
        json_t *subs = json_array();

        for (s = a->sub_attrs; s && s->name; s++) {
            json_array_append_new(subs, attr_json(s));
        }
        json_object_set_new(j, "subAttributes", subs);
    }
    return j;
}

static json_t *schema_json(const scim_schema_t *s, const char *base)
{
    const scim_attr_t *a;
    json_t *attrs = json_array();

    for (a = s->attrs; a->name; a++) {
        json_array_append_new(attrs, attr_json(a));
    }
    return json_pack("{s[s] ss ss ss so so}", "schemas", SCIM_URN_SCHEMA, "id",
                     s->id, "name", s->name, "description", s->description,
                     "attributes", attrs, "meta",
                     meta_json("Schema", base, "/Schemas/", s->id));
}

static json_t *list_response(json_t *resources)
{
    apr_size_t n = json_array_size(resources);

    return json_pack("{s[s] si si si so}", "schemas", SCIM_URN_LIST_RESPONSE,
                     "totalResults", (int)n, "itemsPerPage", (int)n,
                     "startIndex", 1, "Resources", resources);
}

json_t *scim_schema_schemas_list(apr_pool_t *p, const char *base_url)
{
    const scim_schema_t *const *s;
    json_t *l = json_array();

    for (s = all_schemas; *s; s++) {
        json_array_append_new(l, schema_json(*s, base_url));
    }
    return scim_json_pool_own(p, list_response(l));
}

json_t *scim_schema_schema_resource(apr_pool_t *p, const char *urn,
                                    const char *base_url)
{
    const scim_schema_t *const *s;

    for (s = all_schemas; urn && *s; s++) {
        if (!apr_cstr_casecmp(urn, (*s)->id)) {
            return scim_json_pool_own(p, schema_json(*s, base_url));
        }
    }
    return NULL;
}

static json_t *resource_type_json(const scim_resource_type_t *rt, const char *base)
{
    const scim_schema_t *const *e;
    json_t *exts = json_array();

    for (e = rt->extensions; *e; e++) {
        json_array_append_new(exts,
                              json_pack("{ss sb}", "schema", (*e)->id,
                                        "required", 0));
    }
    return json_pack("{s[s] ss ss ss ss ss so so}", "schemas",
                     SCIM_URN_RESOURCE_TYPE, "id", rt->id, "name", rt->id,
                     "endpoint", rt->endpoint, "description", rt->description,
                     "schema", rt->schema->id, "schemaExtensions", exts, "meta",
                     meta_json("ResourceType", base, "/ResourceTypes/", rt->id));
}

json_t *scim_schema_resource_types_list(apr_pool_t *p, const char *base_url)
{
    return scim_json_pool_own(p,
                              list_response(
                                  json_pack("[oo]",
                                            resource_type_json(&rt_user, base_url),
                                            resource_type_json(&rt_group,
                                                               base_url))));
}

json_t *scim_schema_resource_type_resource(apr_pool_t *p, const char *name,
                                           const char *base_url)
{
    const scim_resource_type_t *rt = scim_schema_resource_type(name);

    return rt ? scim_json_pool_own(p, resource_type_json(rt, base_url)) : NULL;
}

json_t *scim_schema_service_provider_config(apr_pool_t *p,
                                            const scim_spc_params_t *prm)
{
    json_t *spc = json_pack("{s[s] s{sb} s{sb si sI} s{sb si} s{sb} s{sb} s{sb}"
                            " s[{ss ss ss sb}{ss ss ss}] so}",
                            "schemas", SCIM_URN_SERVICE_PROVIDER_CONFIG,
                            "patch", "supported", 1, "bulk", "supported", 1,
                            "maxOperations", prm->bulk_max_operations,
                            "maxPayloadSize", (json_int_t)prm->bulk_max_payload,
                            "filter", "supported", 1, "maxResults",
                            prm->filter_max_results, "changePassword",
                            "supported", 0, "sort", "supported", 1, "etag",
                            "supported", 1, "authenticationSchemes", "type",
                            "oauthbearertoken", "name", "OAuth Bearer Token",
                            "description",
                            "The provisioning token, sent as Authorization: Bearer <token>.",
                            "primary", 1, "type", "httpbasic", "name",
                            "HTTP Basic", "description",
                            "The generated administrator username with the provisioning token "
                            "as the password.",
                            "meta",
                            meta_json("ServiceProviderConfig", prm->base_url,
                                      "/ServiceProviderConfig", NULL));

    if (prm->documentation_uri) {
        json_object_set_new(spc, "documentationUri",
                            json_string(prm->documentation_uri));
    }
    return scim_json_pool_own(p, spc);
}
