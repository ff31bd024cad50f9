/* Unit tests of scim_mail: the reminder message (headers that cannot be
 * injected, RFC 2047 subjects, deterministic Message-ID, no token) and the
 * program runner (success, failure, timeout, missing program). */

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_base64.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "scim_mail.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    /* httpd's children ignore SIGPIPE; the runner relies on it. */
    signal(SIGPIPE, SIG_IGN);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    apr_terminate();
}

#define OUTBOX_ID "7d1e5c2a-3b4f-4a6e-9c0d-112233445566"
#define TOKEN_ID  "0b9f3e1c-aaaa-4bbb-8ccc-0123456789ab"

static scim_reminder_t sample(void)
{
    scim_reminder_t r;

    memset(&r, 0, sizeof(r));
    r.outbox_id = OUTBOX_ID;
    r.from = "provisioning@test.example";
    r.to = "alice@acme.example";
    r.date = apr_time_from_sec(1795334400); /* 2026-11-22T08:00:00Z */
    r.tenant_slug = "acme";
    r.tenant_name = "Acme Corp";
    r.idp_type = "okta";
    r.idp_name = "Acme Okta";
    r.user_name = "okta-provisioning-7kq2fz@acme";
    r.token_id = TOKEN_ID;
    r.expires_at = "2026-11-29T07:59:00Z";
    r.days_left = 7;
    r.admin_url = "https://admin.test.example/t/{tenant}/provisioning/";
    return r;
}

static const char *compose_ok(const scim_reminder_t *r)
{
    const char *msg = NULL, *err = NULL;
    apr_status_t rv = scim_mail_compose(pool, r, &msg, &err);

    ck_assert_msg(rv == APR_SUCCESS, "compose failed: %s", err ? err : "?");
    ck_assert_ptr_nonnull(msg);
    return msg;
}

/* The header block (without the blank line). */
static char *headers_of(const char *msg)
{
    const char *end = strstr(msg, "\r\n\r\n");

    ck_assert_ptr_nonnull(end);
    return apr_pstrmemdup(pool, msg, end - msg);
}

/* The value of a header, unfolded (CRLF SP removed), or NULL. */
static const char *header(const char *msg, const char *name)
{
    char *h = headers_of(msg), *line, *last = NULL, *found = NULL;
    apr_size_t n = strlen(name);

    for (line = apr_strtok(h, "\n", &last); line;
         line = apr_strtok(NULL, "\n", &last)) {
        apr_size_t l = strlen(line);

        if (l && line[l - 1] == '\r') {
            line[l - 1] = '\0';
        }
        if (found && line[0] == ' ') {
            found = apr_pstrcat(pool, found, line, NULL);
            continue;
        }
        if (found) {
            break;
        }
        if (!strncasecmp(line, name, n) && line[n] == ':') {
            found = apr_pstrdup(pool, line + n + 1 + (line[n + 1] == ' '));
        }
    }
    return found;
}

/* Every header line starts with a known name or is a continuation. */
static void assert_header_names(const char *msg)
{
    static const char *const names[] = {
        "From:",           "To:",
        "Subject:",        "Date:",
        "Message-ID:",     "MIME-Version:",
        "Content-Type:",   "Content-Transfer-Encoding:",
        "Auto-Submitted:", NULL
    };
    char *h = headers_of(msg), *line, *last = NULL;
    int i, known;

    for (line = apr_strtok(h, "\n", &last); line;
         line = apr_strtok(NULL, "\n", &last)) {
        if (line[0] == ' ') {
            continue;
        }
        known = 0;
        for (i = 0; names[i]; i++) {
            known |= !strncmp(line, names[i], strlen(names[i]));
        }
        ck_assert_msg(known, "unexpected header line: %s", line);
    }
}

/* Every LF is preceded by CR, every CR followed by LF, no NUL, and no line
 * is longer than 998 octets. */
static void assert_crlf(const char *msg)
{
    const char *c, *line = msg;

    for (c = msg; *c; c++) {
        if (*c == '\n') {
            ck_assert_msg(c > msg && c[-1] == '\r', "bare LF at %d",
                          (int)(c - msg));
            ck_assert_int_le(c - line - 1, 998);
            line = c + 1;
        }
        if (*c == '\r') {
            ck_assert_msg(c[1] == '\n', "bare CR at %d", (int)(c - msg));
        }
    }
    ck_assert_msg(c > msg && c[-1] == '\n', "message ends without CRLF");
}

/* Decode a header value made of RFC 2047 B encoded-words. */
static const char *decode_words(const char *v)
{
    char *out = apr_pstrdup(pool, ""), *w = apr_pstrdup(pool, v), *tok;
    char *last = NULL;

    for (tok = apr_strtok(w, " ", &last); tok;
         tok = apr_strtok(NULL, " ", &last)) {
        apr_size_t l = strlen(tok);
        char *b64, *dec;
        int n;

        ck_assert_msg(!strncmp(tok, "=?UTF-8?B?", 10) && l > 12
                          && !strcmp(tok + l - 2, "?="),
                      "not an encoded-word: %s", tok);
        b64 = apr_pstrmemdup(pool, tok + 10, l - 12);
        dec = apr_palloc(pool, apr_base64_decode_len(b64) + 1);
        n = apr_base64_decode(dec, b64);
        dec[n] = '\0';
        out = apr_pstrcat(pool, out, dec, NULL);
    }
    return out;
}

START_TEST(message_headers_and_body)
{
    scim_reminder_t r = sample();
    const char *msg = compose_ok(&r), *body;

    assert_crlf(msg);
    assert_header_names(msg);
    ck_assert_str_eq(header(msg, "From"), "provisioning@test.example");
    ck_assert_str_eq(header(msg, "To"), "alice@acme.example");
    ck_assert_str_eq(header(msg, "Date"), "Sun, 22 Nov 2026 08:00:00 +0000");
    ck_assert_str_eq(header(msg, "Message-ID"),
                     "<reminder-" OUTBOX_ID "@test.example>");
    ck_assert_str_eq(header(msg, "MIME-Version"), "1.0");
    ck_assert_str_eq(header(msg, "Content-Type"), "text/plain; charset=utf-8");
    ck_assert_str_eq(header(msg, "Content-Transfer-Encoding"), "8bit");
    ck_assert_str_eq(header(msg, "Subject"),
                     "Provisioning token for Acme Okta (Okta) expires in 7 "
                     "days");
    body = strstr(msg, "\r\n\r\n") + 4;
    ck_assert_ptr_nonnull(strstr(body, "Acme Corp (acme)"));
    ck_assert_ptr_nonnull(strstr(body, "okta-provisioning-7kq2fz@acme"));
    ck_assert_ptr_nonnull(strstr(body, TOKEN_ID));
    ck_assert_ptr_nonnull(strstr(body, "2026-11-29T07:59:00Z"));
    ck_assert_ptr_nonnull(
        strstr(body, "https://admin.test.example/t/acme/provisioning/"));
    ck_assert_ptr_null(strstr(body, "{tenant}"));
}
END_TEST

START_TEST(message_id_is_deterministic)
{
    scim_reminder_t r = sample();
    const char *a, *b, *c;

    a = header(compose_ok(&r), "Message-ID");
    r.date += apr_time_from_sec(3600);
    r.to = "alex@acme.example";
    b = header(compose_ok(&r), "Message-ID");
    ck_assert_str_eq(a, b);
    r.outbox_id = "7d1e5c2a-3b4f-4a6e-9c0d-112233445567";
    c = header(compose_ok(&r), "Message-ID");
    ck_assert_str_ne(a, c);
}
END_TEST

START_TEST(days_and_types)
{
    scim_reminder_t r = sample();

    r.days_left = 1;
    r.idp_type = "entra";
    r.idp_name = "Contoso";
    ck_assert_str_eq(header(compose_ok(&r), "Subject"),
                     "Provisioning token for Contoso (Microsoft Entra ID) "
                     "expires in 1 day");
    r.days_left = 30;
    ck_assert_ptr_nonnull(
        strstr(header(compose_ok(&r), "Subject"), "expires in 30 days"));
    r.admin_url = NULL;
    ck_assert_ptr_null(strstr(compose_ok(&r), "https://"));
}
END_TEST

START_TEST(database_values_cannot_inject_headers)
{
    scim_reminder_t r = sample();
    const char *msg, *body;

    r.idp_name = "Evil\r\nBcc: victim@example.com\r\n\r\nfake body";
    r.tenant_name = "Acme\nX-Injected: 1";
    r.tenant_slug = "acme\r\nCc: x@example.com";
    r.user_name = "user\r\nReply-To: attacker@example.com";
    r.expires_at = "2026-11-29T07:59:00Z\r\nX-Evil: 1";
    msg = compose_ok(&r);
    assert_crlf(msg);
    assert_header_names(msg);
    ck_assert_ptr_null(strstr(msg, "\nBcc:"));
    ck_assert_ptr_null(strstr(msg, "\nCc:"));
    ck_assert_ptr_null(strstr(msg, "\nReply-To:"));
    ck_assert_ptr_null(strstr(msg, "\nX-Injected:"));
    ck_assert_ptr_null(strstr(msg, "\nX-Evil:"));
    ck_assert_str_eq(header(msg, "Subject"),
                     "Provisioning token for Evil Bcc: victim@example.com "
                     "fake body (Okta) expires in 7 days");
    body = strstr(msg, "\r\n\r\n") + 4;
    ck_assert_ptr_nonnull(strstr(body, "user Reply-To: attacker@example.com"));
    /* text that looks like an encoded-word is encoded itself */
    r = sample();
    r.idp_name = "=?UTF-8?B?QmNjOiB4QHk=?=";
    msg = compose_ok(&r);
    ck_assert_str_eq(decode_words(header(msg, "Subject")),
                     "Provisioning token for =?UTF-8?B?QmNjOiB4QHk=?= (Okta) "
                     "expires in 7 days");
    /* controls other than CR/LF go too */
    r = sample();
    r.idp_name = "a\tb\x01"
                 "c\x7f"
                 "d\xc2\x85"
                 "e";
    ck_assert_str_eq(header(compose_ok(&r), "Subject"),
                     "Provisioning token for a b c d e (Okta) expires in 7 "
                     "days");
}
END_TEST

START_TEST(addresses_are_checked)
{
    scim_reminder_t r = sample();
    const char *msg = NULL, *err = NULL;
    static const char *const bad[] = { "alice@acme.example\r\nBcc: x@example.com",
                                       "Alice <alice@acme.example>",
                                       "alice@acme.example, bob@example.com",
                                       "alice",
                                       "@acme.example",
                                       "alice@",
                                       "a@b@c",
                                       "-oQ/tmp/x@example.com",
                                       "al ice@example.com",
                                       "al\"ice@example.com",
                                       "\xc3\xa4lice@example.com",
                                       NULL };
    int i;

    for (i = 0; bad[i]; i++) {
        r.to = bad[i];
        ck_assert_msg(scim_mail_compose(pool, &r, &msg, &err) == APR_EINVAL,
                      "accepted recipient %s", bad[i]);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_null(msg);
    }
    r = sample();
    r.from = "Sender <x@y>";
    ck_assert_int_eq(scim_mail_compose(pool, &r, &msg, &err), APR_EINVAL);
    r = sample();
    r.outbox_id = "1>\r\nBcc: x@y";
    ck_assert_int_eq(scim_mail_compose(pool, &r, &msg, &err), APR_EINVAL);
    ck_assert(scim_mail_address_ok("first.last+tag@sub.example.org"));
}
END_TEST

START_TEST(non_ascii_subject_is_encoded)
{
    scim_reminder_t r = sample();
    const char *msg, *subject, *expected, *c, *line;
    char *h;

    r.idp_name = "Pr\xc3\xbc"
                 "fung \xc3\x96lsensor \xe6\x97\xa5\xe6\x9c\xac "
                 "\xf0\x9f\x94\x91 with a rather long name that needs "
                 "several encoded words to fit";
    msg = compose_ok(&r);
    assert_crlf(msg);
    assert_header_names(msg);
    /* the raw header is ASCII, every line at most 76 characters */
    h = headers_of(msg);
    for (c = h; *c; c++) {
        ck_assert_msg((unsigned char)*c < 0x80, "8-bit byte in headers");
    }
    line = strstr(h, "Subject:");
    for (c = line; *c && (c == line || c[-1] != '\n' || *c == ' '); c++) {
        if (*c == '\r') {
            ck_assert_int_le(c - line, 76);
            line = c + 2;
        }
    }
    subject = header(msg, "Subject");
    expected = apr_pstrcat(pool, "Provisioning token for ", r.idp_name,
                           " (Okta) expires in 7 days", NULL);
    ck_assert_str_eq(decode_words(subject), expected);
    /* the body carries the name as UTF-8 */
    ck_assert_ptr_nonnull(strstr(msg, r.idp_name));
}
END_TEST

START_TEST(invalid_utf8_is_replaced)
{
    const char *v = scim_mail_text(pool,
                                   "a\xff"
                                   "b\xc3"
                                   "c\xed\xa0\x80"
                                   "d");

    ck_assert_str_eq(v,
                     "a\xef\xbf\xbd"
                     "b\xef\xbf\xbd"
                     "c\xef\xbf\xbd"
                     "\xef\xbf\xbd\xef\xbf\xbd"
                     "d");
    ck_assert_str_eq(scim_mail_header_value(pool, "  a \r\n\r\n b  ", 9), "a b");
}
END_TEST

START_TEST(long_values_are_bounded)
{
    scim_reminder_t r = sample();
    char *longname = apr_palloc(pool, 3001);
    const char *msg;

    memset(longname, 'x', 3000);
    longname[3000] = '\0';
    r.user_name = longname;
    r.tenant_name = longname;
    msg = compose_ok(&r);
    assert_crlf(msg);
}
END_TEST

START_TEST(date_format)
{
    ck_assert_str_eq(scim_mail_date(pool, apr_time_from_sec(0)),
                     "Thu, 01 Jan 1970 00:00:00 +0000");
    ck_assert_str_eq(scim_mail_date(pool, apr_time_from_sec(1709251199)),
                     "Thu, 29 Feb 2024 23:59:59 +0000");
}
END_TEST

/* A temporary file name under /tmp. */
static const char *tmpname(void)
{
    apr_file_t *f;
    char *tmpl = apr_pstrdup(pool, "/tmp/scim-mail-test-XXXXXX");

    ck_assert_int_eq(apr_file_mktemp(&f, tmpl, 0, pool), APR_SUCCESS);
    apr_file_close(f);
    return tmpl;
}

static const char *slurp(const char *path)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_size_t n;

    ck_assert_int_eq(apr_file_open(&f, path, APR_FOPEN_READ, 0, pool),
                     APR_SUCCESS);
    apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    buf = apr_palloc(pool, (apr_size_t)fi.size + 1);
    n = (apr_size_t)fi.size;
    if (n) {
        apr_file_read_full(f, buf, n, &n);
    }
    buf[n] = '\0';
    apr_file_close(f);
    return buf;
}

START_TEST(run_delivers_on_stdin)
{
    const char *out = tmpname(), *err = NULL;
    const char *argv[] = { "/bin/sh", "-c", "cat > \"$0\"", out, NULL };
    scim_reminder_t r = sample();
    const char *msg = compose_ok(&r);
    apr_status_t rv;

    rv = scim_mail_run(pool, argv, msg, strlen(msg), apr_time_from_sec(10), &err);
    ck_assert_msg(rv == APR_SUCCESS, "run failed: %s", err ? err : "?");
    ck_assert_str_eq(slurp(out), msg);
    apr_file_remove(out, pool);
}
END_TEST

START_TEST(run_large_message)
{
    const char *out = tmpname(), *err = NULL;
    const char *argv[] = { "/bin/sh", "-c", "cat > \"$0\"; echo noise", out,
                           NULL };
    apr_size_t len = 1024 * 1024;
    char *big = apr_palloc(pool, len + 1);
    apr_size_t i;
    apr_status_t rv;

    for (i = 0; i < len; i++) {
        big[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
    }
    big[len] = '\0';
    rv = scim_mail_run(pool, argv, big, len, apr_time_from_sec(20), &err);
    ck_assert_msg(rv == APR_SUCCESS, "run failed: %s", err ? err : "?");
    ck_assert_str_eq(slurp(out), big);
    apr_file_remove(out, pool);
}
END_TEST

START_TEST(run_nonzero_exit_is_failure)
{
    const char *err = NULL;
    const char *argv[] = { "/bin/sh", "-c",
                           "cat >/dev/null; echo 'no route to mail hub' >&2; "
                           "exit 3",
                           NULL };
    apr_status_t rv = scim_mail_run(pool, argv, "x\r\n", 3,
                                    apr_time_from_sec(10), &err);

    ck_assert_int_ne(rv, APR_SUCCESS);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "status 3") && strstr(err, "no route to mail hub"),
                  "error: %s", err);
}
END_TEST

START_TEST(run_program_that_does_not_read)
{
    const char *err = NULL;
    const char *argv[] = { "/bin/sh", "-c", "echo refused >&2; exit 1", NULL };
    apr_size_t len = 512 * 1024;
    char *big = apr_palloc(pool, len);
    apr_status_t rv;

    memset(big, 'm', len);
    rv = scim_mail_run(pool, argv, big, len, apr_time_from_sec(10), &err);
    ck_assert_int_ne(rv, APR_SUCCESS);
    ck_assert_msg(strstr(err, "status 1") && strstr(err, "refused"),
                  "error: %s", err);
}
END_TEST

START_TEST(run_stderr_is_bounded)
{
    const char *err = NULL;
    const char *argv[] = { "/bin/sh", "-c",
                           "i=0; while [ $i -lt 2000 ]; do "
                           "echo 'a line of noise on stderr' >&2; "
                           "i=$((i+1)); done; exit 2",
                           NULL };
    apr_status_t rv = scim_mail_run(pool, argv, "x", 1, apr_time_from_sec(20),
                                    &err);

    ck_assert_int_ne(rv, APR_SUCCESS);
    ck_assert_msg(strstr(err, "status 2") != NULL, "error: %s", err);
    ck_assert_int_lt(strlen(err), 600);
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

START_TEST(run_timeout_kills)
{
    const char *err = NULL;
    const char *argv[] = { "/bin/sh", "-c", "exec sleep 30", NULL };
    apr_time_t start = apr_time_now();
    apr_status_t rv = scim_mail_run(pool, argv, "x", 1, apr_time_from_msec(300),
                                    &err);

    ck_assert_int_eq(rv, APR_TIMEUP);
    ck_assert_ptr_nonnull(strstr(err, "killed"));
    ck_assert_int_lt(apr_time_now() - start, apr_time_from_sec(2));
}
END_TEST

START_TEST(run_timeout_kills_hard)
{
    const char *err = NULL;
    /* ignores SIGTERM (and keeps ignoring it across exec) */
    const char *argv[] = { "/bin/sh", "-c", "trap '' TERM; exec sleep 30", NULL };
    apr_time_t start = apr_time_now(), took;
    apr_status_t rv = scim_mail_run(pool, argv, "x", 1, apr_time_from_msec(300),
                                    &err);

    took = apr_time_now() - start;
    ck_assert_int_eq(rv, APR_TIMEUP);
    ck_assert_int_ge(took, apr_time_from_sec(2));
    ck_assert_int_lt(took, apr_time_from_sec(5));
}
END_TEST

START_TEST(run_closed_pipes_still_timeout)
{
    const char *err = NULL;
    const char *argv[] = { "/bin/sh", "-c",
                           "exec 0<&- 1>&- 2>&-; exec sleep 30", NULL };
    apr_time_t start = apr_time_now();
    apr_status_t rv = scim_mail_run(pool, argv, "x", 1, apr_time_from_msec(300),
                                    &err);

    ck_assert_int_eq(rv, APR_TIMEUP);
    ck_assert_int_lt(apr_time_now() - start, apr_time_from_sec(2));
}
END_TEST

START_TEST(run_missing_program)
{
    const char *err = NULL;
    const char *argv[] = { "/nonexistent/sendmail", "-t", "-i", NULL };
    const char *rel[] = { "sendmail", NULL };
    apr_status_t rv = scim_mail_run(pool, argv, "x", 1, apr_time_from_sec(5),
                                    &err);

    ck_assert_int_ne(rv, APR_SUCCESS);
    ck_assert_msg(err && strstr(err, "/nonexistent/sendmail"), "error: %s",
                  err ? err : "(null)");
    rv = scim_mail_run(pool, rel, "x", 1, apr_time_from_sec(5), &err);
    ck_assert_int_eq(rv, APR_EINVAL);
}
END_TEST

START_TEST(run_has_no_shell_and_minimal_env)
{
    const char *out = tmpname(), *err = NULL;
    /* arguments reach the program as they are, without a shell */
    const char *argv[] = { "/bin/sh",
                           "-c",
                           "printf '%s|%s|%s' \"$1\" \"$HOME\" \"$PATH\" "
                           "> \"$0\"",
                           out,
                           "$(touch /tmp/x); `id`",
                           NULL };
    apr_status_t rv;

    rv = scim_mail_run(pool, argv, "", 0, apr_time_from_sec(5), &err);
    ck_assert_msg(rv == APR_SUCCESS, "run failed: %s", err ? err : "?");
    ck_assert_str_eq(slurp(out),
                     "$(touch /tmp/x); `id`||/usr/local/sbin:"
                     "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:"
                     "/bin");
    apr_file_remove(out, pool);
}
END_TEST

Suite *scim_mail_suite(void)
{
    Suite *s = suite_create("mail");
    TCase *msg = tcase_create("message");
    TCase *run = tcase_create("runner");

    tcase_add_checked_fixture(msg, setup, teardown);
    tcase_add_test(msg, message_headers_and_body);
    tcase_add_test(msg, message_id_is_deterministic);
    tcase_add_test(msg, days_and_types);
    tcase_add_test(msg, database_values_cannot_inject_headers);
    tcase_add_test(msg, addresses_are_checked);
    tcase_add_test(msg, non_ascii_subject_is_encoded);
    tcase_add_test(msg, invalid_utf8_is_replaced);
    tcase_add_test(msg, long_values_are_bounded);
    tcase_add_test(msg, date_format);
    suite_add_tcase(s, msg);

    tcase_add_checked_fixture(run, setup, teardown);
    tcase_set_timeout(run, 30);
    tcase_add_test(run, run_delivers_on_stdin);
    tcase_add_test(run, run_large_message);
    tcase_add_test(run, run_nonzero_exit_is_failure);
    tcase_add_test(run, run_program_that_does_not_read);
    tcase_add_test(run, run_stderr_is_bounded);
    tcase_add_test(run, run_timeout_kills);
    tcase_add_test(run, run_timeout_kills_hard);
    tcase_add_test(run, run_closed_pipes_still_timeout);
    tcase_add_test(run, run_missing_program);
    tcase_add_test(run, run_has_no_shell_and_minimal_env);
    suite_add_tcase(s, run);
    return s;
}
