/* libFuzzer target: the reminder mail rendered from database values
 * (scim_mail_compose, scim_mail_header_value, scim_mail_text).
 *
 * The input is split at "\n--\n" into the values a reminder takes from the
 * database and the configuration: tenant name, tenant slug, IdP name, IdP
 * type, provisioning username, token id, expiry, admin URL, recipient,
 * sender, outbox id; a last field's first bytes give the days left, and
 * the date. A value left out is NULL where the database allows it.
 * Properties checked on every rendered message:
 *  - header injection is impossible: no bare CR or LF anywhere, the header
 *    block holds exactly the nine expected headers, once each, and every
 *    header line is printable ASCII (a continuation starts with a space);
 *  - no line is longer than RFC 5322's 998 characters;
 *  - the body is valid UTF-8 without control characters;
 *  - compose fails (with a message) exactly when an address or the outbox
 *    id is not usable as it is.
 * scim_mail_header_value and scim_mail_text are also fed the whole input.
 * Build and run: see test/fuzz/README.md (make fuzz). */

#include <stdint.h>

#include "fuzz_util.h"
#include "scim_mail.h"
#include "scim_util.h"

/* No bare CR or LF, lines of at most 998 characters. */
static void check_lines(const char *m)
{
    const char *line = m, *c;

    for (c = m; *c; c++) {
        if (*c == '\r') {
            FUZZ_ASSERT(c[1] == '\n');
        }
        else if (*c == '\n') {
            FUZZ_ASSERT(c > m && c[-1] == '\r');
            FUZZ_ASSERT(c - 1 - line <= 998);
            line = c + 1;
        }
    }
    FUZZ_ASSERT(c - line <= 998);
}

static void check_message(const char *msg)
{
    static const char *const names[] = {
        "From",           "To",
        "Subject",        "Date",
        "Message-ID",     "MIME-Version",
        "Content-Type",   "Content-Transfer-Encoding",
        "Auto-Submitted", NULL
    };
    int seen[9] = { 0 }, i;
    const char *end = strstr(msg, "\r\n\r\n"), *line, *c, *body;

    check_lines(msg);
    FUZZ_ASSERT(end != NULL);
    for (line = msg; line < end + 2;) {
        const char *eol = strstr(line, "\r\n");

        for (c = line; c < eol; c++) {
            FUZZ_ASSERT(*c >= 0x20 && *c < 0x7F);
        }
        if (*line != ' ' && *line != '\t') {
            const char *colon = memchr(line, ':', (size_t)(eol - line));

            FUZZ_ASSERT(colon != NULL && colon[1] == ' ');
            for (i = 0; names[i]; i++) {
                if ((size_t)(colon - line) == strlen(names[i])
                    && !memcmp(line, names[i], strlen(names[i]))) {
                    break;
                }
            }
            FUZZ_ASSERT(names[i] != NULL && !seen[i]);
            seen[i] = 1;
        }
        line = eol + 2;
    }
    for (i = 0; names[i]; i++) {
        FUZZ_ASSERT(seen[i]);
    }
    body = end + 4;
    FUZZ_ASSERT(fuzz_utf8_valid(body, strlen(body)));
    for (c = body; *c; c++) {
        FUZZ_ASSERT((unsigned char)*c >= 0x20 || *c == '\r' || *c == '\n');
        FUZZ_ASSERT(*c != 0x7F);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in = { data, size };
    scim_reminder_t r;
    apr_pool_t *p;
    const char *msg = NULL, *err = NULL, *v, *c;
    char *tail;
    size_t tail_len;

    apr_pool_create(&p, fuzz_root());

    /* The value functions on the whole input. */
    v = scim_mail_header_value(p, apr_pstrmemdup(p, (const char *)data, size),
                               size % 40);
    FUZZ_ASSERT(v != NULL);
    check_lines(v);
    for (c = v; *c; c++) {
        FUZZ_ASSERT((*c >= 0x20 && *c < 0x7F) || *c == '\r' || *c == '\n');
        if (*c == '\n') {
            FUZZ_ASSERT(c[1] == ' '); /* folded: the header goes on */
        }
    }
    v = scim_mail_text(p, apr_pstrmemdup(p, (const char *)data, size));
    FUZZ_ASSERT(v != NULL && fuzz_utf8_valid(v, strlen(v)));
    for (c = v; *c; c++) {
        FUZZ_ASSERT((unsigned char)*c >= 0x20 && *c != 0x7F);
    }

    memset(&r, 0, sizeof(r));
    r.tenant_name = fuzz_next(p, &in, NULL);
    r.tenant_slug = fuzz_next(p, &in, NULL);
    r.idp_name = fuzz_next(p, &in, NULL);
    r.idp_type = fuzz_next(p, &in, NULL);
    r.user_name = fuzz_next(p, &in, NULL);
    r.token_id = fuzz_next(p, &in, NULL);
    r.expires_at = fuzz_next(p, &in, NULL);
    r.admin_url = in.size ? fuzz_next(p, &in, NULL) : NULL;
    r.to = in.size ? fuzz_next(p, &in, NULL) : "alice@acme.example";
    r.from = in.size ? fuzz_next(p, &in, NULL) : "provisioning@test.example";
    r.outbox_id = in.size ? fuzz_next(p, &in, NULL)
                          : "7d1e5c2a-3b4f-4a6e-9c0d-112233445566";
    tail = fuzz_next(p, &in, &tail_len);
    r.days_left = tail_len > 0 ? (signed char)tail[0] : 7;
    r.date = apr_time_from_sec(1795334400)
        + (tail_len > 1 ? (apr_time_t)(unsigned char)tail[1] * APR_USEC_PER_SEC
                   * 86400 * 365
                        : 0);

    if (scim_mail_compose(p, &r, &msg, &err) == APR_SUCCESS) {
        FUZZ_ASSERT(msg != NULL && err == NULL);
        FUZZ_ASSERT(scim_mail_address_ok(r.from) && scim_mail_address_ok(r.to));
        check_message(msg);
    }
    else {
        FUZZ_ASSERT(msg == NULL);
        fuzz_check_message(err);
        FUZZ_ASSERT(!scim_mail_address_ok(r.from) || !scim_mail_address_ok(r.to)
                    || !scim_is_uuid(r.outbox_id));
    }
    apr_pool_destroy(p);
    return 0;
}
