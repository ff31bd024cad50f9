#ifndef SCIM_MAIL_H
#define SCIM_MAIL_H

/* Expiry reminder mail: composing the RFC 5322 message and handing it to a
 * sendmail-compatible program (core: APR only, no httpd header).
 *
 * Every text that comes from the database is made safe for the place it
 * goes: header values lose CR, LF and other control characters and are
 * RFC 2047-encoded when not ASCII; addresses are refused unless they are a
 * plain local@domain. The message never contains a token or its jti. */

#include <apr_pools.h>
#include <apr_time.h>

/* What one reminder says. All strings are UTF-8 from the database. */
typedef struct {
    const char *outbox_id; /* reminder_outbox.id: makes the Message-ID */
    const char *from; /* SCIMMailFrom */
    const char *to; /* the Customer Administrator's address */
    apr_time_t date; /* Date header */
    const char *tenant_slug; /* replaces {tenant} in admin_url */
    const char *tenant_name;
    const char *idp_type; /* "okta" or "entra" */
    const char *idp_name;
    const char *user_name; /* the provisioning account's username */
    const char *token_id; /* tokens.id (not the jti) */
    const char *expires_at; /* exact expiry, ISO 8601 UTC */
    int days_left; /* whole days, rounded up, at least 1 */
    const char *admin_url; /* SCIMAdminURL or NULL */
} scim_reminder_t;

/* The full message, CRLF line endings, in *msg. APR_EINVAL with *err when
 * an address or the outbox id cannot go into a header as it is. */
apr_status_t scim_mail_compose(apr_pool_t *p, const scim_reminder_t *r,
                               const char **msg, const char **err);

/* "Okta" / "Microsoft Entra ID" for the type column, else the type. */
const char *scim_mail_idp_label(const char *type);

/* A header value made safe: control characters (CR and LF included) become
 * spaces, runs of white space collapse, and a value that is not ASCII (or
 * contains "=?") is written as RFC 2047 encoded-words (UTF-8, base64) on
 * folded lines.
 * name_len is the length of "Name: " before the value, for folding.
 * Invalid UTF-8 sequences become U+FFFD. */
const char *scim_mail_header_value(apr_pool_t *p, const char *value,
                                   apr_size_t name_len);

/* A single-line text for the body: control characters become spaces and
 * invalid UTF-8 becomes U+FFFD. */
const char *scim_mail_text(apr_pool_t *p, const char *value);

/* An RFC 5322 date-time in UTC, e.g. "Sat, 21 Nov 2026 08:00:00 +0000". */
const char *scim_mail_date(apr_pool_t *p, apr_time_t t);

/* True for a plain addr-spec that can go into a header and a command line
 * as it is: printable ASCII, one '@', no white space or specials. */
int scim_mail_address_ok(const char *addr);

/* Run argv[0] (absolute path, no shell, argv NULL-terminated) with the
 * message on standard input. The program gets a minimal environment. It is
 * sent SIGTERM once timeout has passed and SIGKILL two seconds later.
 * APR_SUCCESS if it exited with status 0; otherwise an error (APR_TIMEUP for
 * a timeout) and *err says what happened, with at most a few hundred bytes
 * of the program's standard error. The caller ignores SIGPIPE (httpd's
 * children do). */
apr_status_t scim_mail_run(apr_pool_t *p, const char *const *argv,
                           const char *msg, apr_size_t len,
                           apr_interval_time_t timeout, const char **err);

#endif
