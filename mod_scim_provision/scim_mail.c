/* Expiry reminder mail: the RFC 5322 message and the program that takes it
 * (see scim_mail.h). Core code: APR and OpenSSL libcrypto only. */

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <apr_lib.h>
#include <apr_poll.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <openssl/evp.h>

#include "scim_mail.h"
#include "scim_util.h"

/* Longest encoded-word line (RFC 2047 section 2) and the longest header line
 * we aim for when folding plain text (RFC 5322 section 2.1.1). */
#define ENCODED_LINE_MAX 76
#define HEADER_LINE_MAX  78
/* Longest value from the database put into a body line, in bytes, so that
 * no line comes near the 998-octet limit. */
#define BODY_VALUE_MAX 400
#define LINK_MAX       990
/* How much of the program's standard error goes into the error message. */
#define STDERR_MAX 400
/* Grace between SIGTERM and SIGKILL. */
#define KILL_GRACE apr_time_from_sec(2)
#define WAIT_STEP  apr_time_from_msec(10)

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid;
 * *cp gets the code point. */
static apr_size_t utf8_seq(const unsigned char *s, apr_size_t n, unsigned long *cp)
{
    apr_size_t len = 0, i;
    unsigned long c, min;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        c = s[0] & 0x1F;
        min = 0x80;
    }
    else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        c = s[0] & 0x0F;
        min = 0x800;
    }
    else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        c = s[0] & 0x07;
        min = 0x10000;
    }
    else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        return 0;
    }
    *cp = c;
    return len;
}

/* Control characters (C0, DEL, C1) and the Unicode line and paragraph
 * separators: never copied into a header or a body line. */
static int is_control(unsigned long cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028
        || cp == 0x2029;
}

/* Valid single-line UTF-8: controls become spaces, invalid bytes U+FFFD,
 * white space collapses and is trimmed; at most max bytes (cut at a
 * character boundary, with "..." appended when cut). */
static char *clean(apr_pool_t *p, const char *value, apr_size_t max)
{
    const unsigned char *s = (const unsigned char *)(value ? value : "");
    apr_size_t n = strlen((const char *)s), len, o = 0;
    char *out = apr_palloc(p, n * 3 + 4);
    int space = 1; /* drop leading spaces */
    unsigned long cp;

    while (n > 0) {
        len = utf8_seq(s, n, &cp);
        if (len == 0) {
            if (o + 3 > max) {
                break;
            }
            memcpy(out + o, replacement, 3);
            o += 3;
            space = 0;
            s++;
            n--;
            continue;
        }
        if (is_control(cp) || cp == ' ') {
            if (!space && o + 1 <= max) {
                out[o++] = ' ';
            }
            space = 1;
        }
        else {
            if (o + len > max) {
                break;
            }
            memcpy(out + o, s, len);
            o += len;
            space = 0;
        }
        s += len;
        n -= len;
    }
    if (n > 0) {
        /* cut: make room for the ellipsis */
        while (o > 0 && o + 3 > max) {
            do {
                o--;
            } while (o > 0 && ((unsigned char)out[o] & 0xC0) == 0x80);
        }
        memcpy(out + o, "...", 3);
        o += 3;
    }
    while (o > 0 && out[o - 1] == ' ') {
        o--;
    }
    out[o] = '\0';
    return out;
}

const char *scim_mail_text(apr_pool_t *p, const char *value)
{
    return clean(p, value, BODY_VALUE_MAX);
}

static int is_ascii(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s >= 0x80) {
            return 0;
        }
    }
    return 1;
}

/* Plain ASCII: folded at spaces so that lines stay near 78 characters. */
static const char *fold_ascii(apr_pool_t *p, const char *v, apr_size_t name_len)
{
    apr_size_t col = name_len, wlen;
    char *out = apr_palloc(p, strlen(v) * 3 + 1);
    char *o = out;
    const char *w = v, *e;

    while (*w) {
        e = strchr(w, ' ');
        wlen = e ? (apr_size_t)(e - w) : strlen(w);
        if (w != v) {
            if (col + 1 + wlen > HEADER_LINE_MAX) {
                memcpy(o, "\r\n ", 3);
                o += 3;
                col = 1;
            }
            else {
                *o++ = ' ';
                col++;
            }
        }
        memcpy(o, w, wlen);
        o += wlen;
        col += wlen;
        w += wlen;
        if (*w == ' ') {
            w++;
        }
    }
    *o = '\0';
    return out;
}

/* The strings of arr joined by sep. */
static const char *join(apr_pool_t *p, const apr_array_header_t *arr,
                        const char *sep)
{
    apr_size_t seplen = strlen(sep), total = 1, len;
    char *out, *o;
    int i;

    for (i = 0; i < arr->nelts; i++) {
        total += strlen(APR_ARRAY_IDX(arr, i, const char *)) + seplen;
    }
    o = out = apr_palloc(p, total);
    for (i = 0; i < arr->nelts; i++) {
        if (i > 0) {
            memcpy(o, sep, seplen);
            o += seplen;
        }
        len = strlen(APR_ARRAY_IDX(arr, i, const char *));
        memcpy(o, APR_ARRAY_IDX(arr, i, const char *), len);
        o += len;
    }
    *o = '\0';
    return out;
}

/* RFC 2047 "B" encoded-words, split at character boundaries, one per line
 * (white space between adjacent encoded-words is not part of the text). */
static const char *encode_words(apr_pool_t *p, const char *v, apr_size_t name_len)
{
    static const char head[] = "=?UTF-8?B?", tail[] = "?=";
    const apr_size_t overhead = sizeof(head) - 1 + sizeof(tail) - 1;
    const unsigned char *s = (const unsigned char *)v;
    apr_size_t n = strlen(v), room, raw, take, len;
    apr_array_header_t *parts = apr_array_make(p, 4, sizeof(char *));
    unsigned long cp;
    char *b64;
    int first = 1;

    while (n > 0) {
        /* room for base64 on this line: the first line carries the header
         * name, the others one leading space */
        room = ENCODED_LINE_MAX - overhead - (first ? name_len : 1);
        raw = (room / 4) * 3;
        take = 0;
        while (take < n) {
            len = utf8_seq(s + take, n - take, &cp);
            if (len == 0) {
                len = 1; /* cannot happen after clean() */
            }
            if (take + len > raw) {
                break;
            }
            take += len;
        }
        if (take == 0) {
            take = n < raw ? n : raw;
        }
        /* OpenSSL's base64, not APR-util's: the core links no APR-util. */
        b64 = apr_palloc(p, 4 * ((take + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)s,
                        (int)take);
        APR_ARRAY_PUSH(parts, const char *) = apr_pstrcat(p, head, b64, tail,
                                                          NULL);
        s += take;
        n -= take;
        first = 0;
    }
    return join(p, parts, "\r\n ");
}

const char *scim_mail_header_value(apr_pool_t *p, const char *value,
                                   apr_size_t name_len)
{
    const char *v = clean(p, value, 900);

    /* "=?" in plain text could read as an encoded-word: encode it too */
    if (is_ascii(v) && !strstr(v, "=?")) {
        return fold_ascii(p, v, name_len);
    }
    return encode_words(p, v, name_len);
}

const char *scim_mail_idp_label(const char *type)
{
    if (type && !strcmp(type, "okta")) {
        return "Okta";
    }
    if (type && !strcmp(type, "entra")) {
        return "Microsoft Entra ID";
    }
    return type ? type : "";
}

const char *scim_mail_date(apr_pool_t *p, apr_time_t t)
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
                                        "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
                                          "May", "Jun", "Jul", "Aug",
                                          "Sep", "Oct", "Nov", "Dec" };
    apr_time_exp_t tm;

    apr_time_exp_gmt(&tm, t);
    return apr_psprintf(p, "%s, %02d %s %04d %02d:%02d:%02d +0000",
                        days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
                        tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int scim_mail_address_ok(const char *addr)
{
    const char *at, *c;

    if (!addr || !*addr || *addr == '-' || strlen(addr) > 254) {
        return 0;
    }
    at = strchr(addr, '@');
    if (!at || at == addr || !at[1] || strchr(at + 1, '@')) {
        return 0;
    }
    for (c = addr; c < at; c++) {
        if (!apr_isalnum(*c) && !strchr("!#$%&'*+/=?^_`{|}~.-", *c)) {
            return 0;
        }
    }
    for (c = at + 1; *c; c++) {
        if (!apr_isalnum(*c) && *c != '.' && *c != '-') {
            return 0;
        }
    }
    return at[1] != '.' && at[1] != '-';
}

/* admin_url with every "{tenant}" replaced by the slug. */
static const char *admin_link(apr_pool_t *p, const char *url, const char *slug)
{
    apr_array_header_t *parts = apr_array_make(p, 3, sizeof(char *));
    const char *at;

    while ((at = strstr(url, "{tenant}")) != NULL) {
        APR_ARRAY_PUSH(parts, const char *) = apr_pstrmemdup(p, url, at - url);
        APR_ARRAY_PUSH(parts, const char *) = slug;
        url = at + 8;
    }
    APR_ARRAY_PUSH(parts, const char *) = url;
    /* The link's line ("  " + link) stays within RFC 5322's 998 octets. */
    return clean(p, join(p, parts, ""), LINK_MAX);
}

apr_status_t scim_mail_compose(apr_pool_t *p, const scim_reminder_t *r,
                               const char **msg, const char **err)
{
    apr_status_t rv = APR_EINVAL;
    const char *idp, *tenant, *subject, *days, *link, *domain;
    apr_array_header_t *l;

    *msg = NULL;
    *err = NULL;
    if (!scim_mail_address_ok(r->from)) {
        *err = "the sender address (SCIMMailFrom) is not a plain address";
        goto leave;
    }
    if (!scim_mail_address_ok(r->to)) {
        *err = "the recipient is not a plain e-mail address";
        goto leave;
    }
    if (!r->outbox_id || !scim_is_uuid(r->outbox_id)) {
        *err = "the reminder id is not a UUID";
        goto leave;
    }
    domain = strchr(r->from, '@') + 1;
    idp = apr_psprintf(p, "%s (%s)", clean(p, r->idp_name, 200),
                       clean(p, scim_mail_idp_label(r->idp_type), 40));
    tenant = apr_psprintf(p, "%s (%s)", scim_mail_text(p, r->tenant_name),
                          scim_mail_text(p, r->tenant_slug));
    days = r->days_left <= 1 ? "1 day" : apr_psprintf(p, "%d days", r->days_left);
    subject = apr_psprintf(p, "Provisioning token for %s expires in %s", idp,
                           days);
    link = r->admin_url && *r->admin_url
        ? admin_link(p, r->admin_url, scim_mail_text(p, r->tenant_slug))
        : NULL;

    l = apr_array_make(p, 40, sizeof(char *));
#define LINE(s) (APR_ARRAY_PUSH(l, const char *) = (s))
    LINE(apr_pstrcat(p, "From: ", r->from, NULL));
    LINE(apr_pstrcat(p, "To: ", r->to, NULL));
    LINE(apr_pstrcat(p, "Subject: ", scim_mail_header_value(p, subject, 9), NULL));
    LINE(apr_pstrcat(p, "Date: ", scim_mail_date(p, r->date), NULL));
    LINE(apr_psprintf(p, "Message-ID: <reminder-%s@%s>", r->outbox_id, domain));
    LINE("MIME-Version: 1.0");
    LINE("Content-Type: text/plain; charset=utf-8");
    LINE("Content-Transfer-Encoding: 8bit");
    LINE("Auto-Submitted: auto-generated");
    LINE("");
    LINE("Hello,");
    LINE("");
    LINE(apr_psprintf(p,
                      "a provisioning token of your tenant expires in "
                      "%s. After that,",
                      days));
    LINE(apr_psprintf(p, "%s can no longer provision the tenant's accounts.",
                      clean(p, scim_mail_idp_label(r->idp_type), 40)));
    LINE("");
    LINE(apr_pstrcat(p, "  Tenant:                ", tenant, NULL));
    LINE(apr_pstrcat(p, "  Identity provider:     ", idp, NULL));
    LINE(apr_pstrcat(p, "  Provisioning username: ",
                     scim_mail_text(p, r->user_name), NULL));
    LINE(apr_pstrcat(p, "  Token id:              ",
                     scim_mail_text(p, r->token_id), NULL));
    LINE(apr_pstrcat(p, "  Expires (UTC):         ",
                     scim_mail_text(p, r->expires_at), NULL));
    LINE("");
    LINE("Create a new token on the Auto Provisioning Token page, put it");
    LINE(apr_psprintf(p, "into %s with the provisioning username, and",
                      clean(p, scim_mail_idp_label(r->idp_type), 40)));
    LINE("then delete the old token.");
    if (link) {
        LINE("");
        LINE(apr_pstrcat(p, "  ", link, NULL));
    }
    LINE("");
    LINE("You receive this message as a Customer Administrator of the");
    LINE("tenant. It never contains a token.");
    LINE("");
    LINE("-- ");
    LINE("mod_scim_provision");
    LINE("");
#undef LINE
    *msg = join(p, l, "\r\n");
    rv = APR_SUCCESS;
leave:
    return rv;
}

/* Runs in the child when exec fails: the message reaches our stderr pipe. */
static void exec_failed(apr_pool_t *p, apr_status_t rv, const char *what)
{
    char buf[256];
    const char *msg;

    msg = apr_psprintf(p, "%s: %s\n", what ? what : "exec failed",
                       apr_strerror(rv, buf, sizeof(buf)));
    if (write(STDERR_FILENO, msg, strlen(msg)) < 0) {
        /* nothing left to tell */
    }
}

typedef struct {
    apr_proc_t proc;
    apr_file_t *in, *out, *err;
    const char *msg;
    apr_size_t len, off;
    char errbuf[STDERR_MAX + 1];
    apr_size_t errlen;
} mail_run_t;

/* Read what is there from a pipe; closes it (sets *f NULL) at EOF. */
static void drain(apr_file_t **f, mail_run_t *m, int keep)
{
    char buf[4096];
    apr_size_t n, take;
    apr_status_t rv;

    for (;;) {
        n = sizeof(buf);
        rv = apr_file_read(*f, buf, &n);
        if (n > 0 && keep && m->errlen < STDERR_MAX) {
            take = STDERR_MAX - m->errlen;
            take = n < take ? n : take;
            memcpy(m->errbuf + m->errlen, buf, take);
            m->errlen += take;
        }
        if (rv != APR_SUCCESS) {
            break;
        }
    }
    if (!APR_STATUS_IS_EAGAIN(rv)) {
        apr_file_close(*f);
        *f = NULL;
    }
}

/* Write what the pipe takes; closes it when all is written or the reader is
 * gone (EPIPE: the exit status will tell). */
static void feed(mail_run_t *m)
{
    apr_size_t n;
    apr_status_t rv = APR_SUCCESS;

    while (m->off < m->len) {
        n = m->len - m->off;
        rv = apr_file_write(m->in, m->msg + m->off, &n);
        m->off += n;
        if (rv != APR_SUCCESS) {
            break;
        }
    }
    if (m->off >= m->len || !APR_STATUS_IS_EAGAIN(rv)) {
        apr_file_close(m->in);
        m->in = NULL;
    }
}

/* Pump stdin/stdout/stderr until all are closed or the deadline passes.
 * APR_TIMEUP at the deadline. */
static apr_status_t pump(mail_run_t *m, apr_time_t deadline)
{
    apr_pollfd_t fds[3];
    apr_int32_t nfds, nsig;
    apr_status_t rv = APR_SUCCESS;
    apr_time_t now;
    int i;

    while (m->in || m->out || m->err) {
        now = apr_time_now();
        if (now >= deadline) {
            rv = APR_TIMEUP;
            break;
        }
        memset(fds, 0, sizeof(fds));
        nfds = 0;
        if (m->in) {
            fds[nfds].desc_type = APR_POLL_FILE;
            fds[nfds].desc.f = m->in;
            fds[nfds].reqevents = APR_POLLOUT;
            fds[nfds++].client_data = &m->in;
        }
        if (m->out) {
            fds[nfds].desc_type = APR_POLL_FILE;
            fds[nfds].desc.f = m->out;
            fds[nfds].reqevents = APR_POLLIN;
            fds[nfds++].client_data = &m->out;
        }
        if (m->err) {
            fds[nfds].desc_type = APR_POLL_FILE;
            fds[nfds].desc.f = m->err;
            fds[nfds].reqevents = APR_POLLIN;
            fds[nfds++].client_data = &m->err;
        }
        rv = apr_poll(fds, nfds, &nsig, deadline - now);
        if (APR_STATUS_IS_TIMEUP(rv) || APR_STATUS_IS_EINTR(rv)) {
            rv = APR_SUCCESS;
            continue;
        }
        if (rv != APR_SUCCESS) {
            break;
        }
        for (i = 0; i < nfds; i++) {
            if (!fds[i].rtnevents) {
                continue;
            }
            if (fds[i].client_data == &m->in) {
                feed(m);
            }
            else if (fds[i].client_data == &m->out) {
                drain(&m->out, m, 0);
            }
            else {
                drain(&m->err, m, 1);
            }
        }
    }
    return rv;
}

/* Wait for the exit until the deadline: APR_CHILD_DONE or
 * APR_CHILD_NOTDONE. */
static apr_status_t wait_until(mail_run_t *m, apr_time_t deadline, int *code,
                               apr_exit_why_e *why)
{
    apr_status_t rv;

    for (;;) {
        rv = apr_proc_wait(&m->proc, code, why, APR_NOWAIT);
        if (rv != APR_CHILD_NOTDONE || apr_time_now() >= deadline) {
            break;
        }
        apr_sleep(WAIT_STEP);
    }
    return rv == APR_CHILD_DONE ? APR_CHILD_DONE : APR_CHILD_NOTDONE;
}

apr_status_t scim_mail_run(apr_pool_t *p, const char *const *argv,
                           const char *msg, apr_size_t len,
                           apr_interval_time_t timeout, const char **err)
{
    static const char *const env[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL
    };
    apr_pool_t *sp = NULL;
    apr_procattr_t *attr;
    mail_run_t *m;
    apr_status_t rv;
    apr_time_t deadline;
    apr_exit_why_e why = APR_PROC_EXIT;
    int code = 0, timed_out = 0;
    char ebuf[256];
    const char *output;

    *err = NULL;
    if (!argv || !argv[0] || argv[0][0] != '/') {
        *err = "the mail program is not an absolute path";
        rv = APR_EINVAL;
        goto leave;
    }
    /* A pool of its own: the pipes close when it goes. */
    if (APR_SUCCESS != (rv = apr_pool_create(&sp, p))) {
        *err = "out of memory";
        goto leave;
    }
    m = apr_pcalloc(sp, sizeof(*m));
    m->msg = msg;
    m->len = len;
    if (APR_SUCCESS != (rv = apr_procattr_create(&attr, sp))
        || APR_SUCCESS
            != (rv = apr_procattr_io_set(attr, APR_CHILD_BLOCK, APR_CHILD_BLOCK,
                                         APR_CHILD_BLOCK))
        || APR_SUCCESS != (rv = apr_procattr_cmdtype_set(attr, APR_PROGRAM))
        || APR_SUCCESS != (rv = apr_procattr_error_check_set(attr, 1))
        || APR_SUCCESS != (rv = apr_procattr_child_errfn_set(attr, exec_failed))) {
        *err = apr_psprintf(p, "cannot prepare %s: %s", argv[0],
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        goto leave;
    }
    rv = apr_proc_create(&m->proc, argv[0], argv, env, attr, sp);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot run %s: %s", argv[0],
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        goto leave;
    }
    m->in = m->proc.in;
    m->out = m->proc.out;
    m->err = m->proc.err;
    deadline = apr_time_now() + timeout;
    if (len == 0) {
        apr_file_close(m->in);
        m->in = NULL;
    }
    if (pump(m, deadline) == APR_TIMEUP
        || wait_until(m, deadline, &code, &why) != APR_CHILD_DONE) {
        timed_out = 1;
        apr_proc_kill(&m->proc, SIGTERM);
        if (wait_until(m, apr_time_now() + KILL_GRACE, &code, &why)
            != APR_CHILD_DONE) {
            apr_proc_kill(&m->proc, SIGKILL);
            apr_proc_wait(&m->proc, &code, &why, APR_WAIT);
        }
    }
    m->errbuf[m->errlen] = '\0';
    output = clean(p, m->errbuf, STDERR_MAX);
    if (timed_out) {
        *err = apr_psprintf(p,
                            "%s did not finish within %" APR_TIME_T_FMT
                            " s and was killed%s%s",
                            argv[0], apr_time_sec(timeout), *output ? ": " : "",
                            output);
        rv = APR_TIMEUP;
    }
    else if (APR_PROC_CHECK_EXIT(why) && code == 0) {
        rv = APR_SUCCESS;
    }
    else if (APR_PROC_CHECK_EXIT(why)) {
        *err = apr_psprintf(p, "%s exited with status %d%s%s", argv[0], code,
                            *output ? ": " : "", output);
        rv = APR_EGENERAL;
    }
    else {
        *err = apr_psprintf(p, "%s was killed by signal %d%s%s", argv[0], code,
                            *output ? ": " : "", output);
        rv = APR_EGENERAL;
    }
leave:
    if (sp) {
        apr_pool_destroy(sp);
    }
    return rv;
}
