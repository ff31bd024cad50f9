/* scimctl: bootstraps and inspects mod_scim_provision's database (SPEC 7).
 * Built from the same core and store as the module. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_file_info.h>
#include <apr_dbd.h>

#include "scim_db.h"
#include "scim_jwt.h"
#include "scim_migrations.h"
#include "scim_store.h"
#include "scim_util.h"

#define MIGRATION_LOCK "7310471"

typedef struct {
    apr_pool_t *pool;
    const char *conninfo;
    int argc; /* words after the global options */
    const char **argv;
} ctl_t;

typedef int (*command_fn)(ctl_t *c, int argc, const char **argv);

typedef struct {
    const char *name;
    const char *sub; /* NULL for single-word commands */
    command_fn fn;
    int needs_db;
    const char *usage;
    const char *help;
} command_t;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One clear line on stderr and a non-zero exit. */
static void die(const char *fmt, ...)
{
    va_list ap;

    fputs("scimctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* The connection is closed when the pool goes (at exit, by apr_terminate,
 * also after die()), before the driver's library is unloaded. */
typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
} db_conn_t;

static apr_status_t close_db(void *data)
{
    db_conn_t *conn = data;

    return apr_dbd_close(conn->driver, conn->handle);
}

static scim_db_t *connect_db(ctl_t *c)
{
    db_conn_t *conn;
    const apr_dbd_driver_t *driver = NULL;
    apr_dbd_t *handle = NULL;
    const char *err = NULL;
    apr_status_t rv;

    if (!c->conninfo || !*c->conninfo) {
        die("no database: pass --db '<libpq conninfo>' or set SCIMCTL_DB");
    }
    if ((rv = apr_dbd_init(c->pool)) != APR_SUCCESS) {
        die("cannot initialise APR DBD");
    }
    rv = apr_dbd_get_driver(c->pool, "pgsql", &driver);
    if (rv != APR_SUCCESS) {
        die("the APR DBD pgsql driver is not installed "
            "(Debian: libaprutil1-dbd-pgsql)");
    }
    rv = apr_dbd_open_ex(driver, c->pool, c->conninfo, &handle, &err);
    if (rv != APR_SUCCESS || !handle) {
        char *msg = apr_pstrdup(c->pool, err ? err : "unknown error");
        char *nl;

        while ((nl = strchr(msg, '\n')) != NULL) {
            *nl = ' ';
        }
        die("cannot connect to the database: %s", msg);
    }
    conn = apr_palloc(c->pool, sizeof(*conn));
    conn->driver = driver;
    conn->handle = handle;
    apr_pool_cleanup_register(c->pool, conn, close_db, apr_pool_cleanup_null);
    return scim_db_wrap(c->pool, driver, handle);
}

static void db_die(scim_db_t *db, const char *what)
{
    char *msg = apr_pstrdup(db->pool, db->error ? db->error : "failed");
    char *nl;

    while ((nl = strchr(msg, '\n')) != NULL) {
        *nl = ' ';
    }
    die("%s: %s", what, msg);
}

/* A name from the database for a terminal: control bytes become '?'. */
static const char *printable(apr_pool_t *p, const char *s)
{
    char *o = apr_pstrdup(p, s ? s : ""), *x;

    for (x = o; *x; x++) {
        if ((unsigned char)*x < 0x20 || *x == 0x7f) {
            *x = '?';
        }
    }
    return o;
}

/* Names that collide under NFKC and case folding and were kept by
 * migration 3 (sql/003_name_keys.sql) until someone renames them: one
 * warning each, on every migrate, so that they are not forgotten. */
static void warn_name_twins(scim_db_t *db, apr_pool_t *p)
{
    scim_rows_t *rows;
    int i;

    if (scim_db_selectv(db, p, &rows,
                        "SELECT t.slug, 'userName', x.user_name, x.id::text, "
                        "(SELECT o.user_name FROM accounts o WHERE "
                        "o.tenant_id = x.tenant_id AND o.name_key_exempt IS NULL "
                        "AND o.user_name_key = x.user_name_key LIMIT 1) "
                        "FROM accounts x JOIN tenants t ON t.id = x.tenant_id "
                        "WHERE x.name_key_exempt IS NOT NULL UNION ALL "
                        "SELECT t.slug, 'group displayName', x.display_name, "
                        "x.id::text, (SELECT o.display_name FROM groups o WHERE "
                        "o.tenant_id = x.tenant_id AND o.name_key_exempt IS NULL "
                        "AND o.display_name_key = x.display_name_key LIMIT 1) "
                        "FROM groups x JOIN tenants t ON t.id = x.tenant_id "
                        "WHERE x.name_key_exempt IS NOT NULL ORDER BY 1, 2, 3",
                        0)
        != APR_SUCCESS) {
        db_die(db, "cannot list the names that collide");
    }
    for (i = 0; i < rows->nrows; i++) {
        const char *kept = scim_rows_get(rows, i, 4);

        fprintf(stderr,
                "scimctl: warning: tenant %s: %s '%s' (id %s) is the same name "
                "as '%s' under NFKC and case folding; it keeps working but "
                "must be renamed\n",
                scim_rows_get(rows, i, 0), scim_rows_get(rows, i, 1),
                printable(p, scim_rows_get(rows, i, 2)),
                scim_rows_get(rows, i, 3),
                kept && *kept ? printable(p, kept) : "(renamed)");
    }
}

static int cmd_migrate(ctl_t *c, int argc, const char **argv)
{
    scim_db_t *db = connect_db(c);
    scim_rows_t *rows;
    const scim_migration_t *m;
    int current, applied = 0;

    (void)argc;
    (void)argv;
    if (scim_db_script(db, c->pool,
                       "CREATE TABLE IF NOT EXISTS scim_schema_migrations ("
                       "version integer PRIMARY KEY, name text NOT NULL, "
                       "applied_at timestamptz NOT NULL DEFAULT now())")
        != APR_SUCCESS) {
        db_die(db, "cannot create the migrations table");
    }
    for (m = scim_migrations; m->version; m++) {
        if (scim_db_begin(db, c->pool) != APR_SUCCESS) {
            db_die(db, "cannot start a transaction");
        }
        /* Concurrent `scimctl migrate` runs apply each migration once. */
        if (scim_db_selectv(db, c->pool, &rows,
                            "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK
                            "), (SELECT coalesce(max(version), 0) "
                            "FROM scim_schema_migrations)",
                            0)
            != APR_SUCCESS) {
            db_die(db, "cannot read the schema version");
        }
        current = atoi(scim_rows_get(rows, 0, 1));
        if (m->version <= current) {
            scim_db_end(db, c->pool);
            continue;
        }
        if (scim_db_script(db, c->pool, m->sql) != APR_SUCCESS
            || scim_db_execv(db, c->pool, NULL,
                             "INSERT INTO scim_schema_migrations "
                             "(version, name) VALUES (%s::integer, %s)",
                             2, apr_itoa(c->pool, m->version), m->name)
                != APR_SUCCESS) {
            const char *why = db->error;

            scim_db_rollback_only(db);
            scim_db_end(db, c->pool);
            db->error = why;
            db_die(db, apr_psprintf(c->pool, "migration %s failed", m->name));
        }
        if (scim_db_end(db, c->pool) != APR_SUCCESS) {
            db_die(db, apr_psprintf(c->pool, "migration %s failed", m->name));
        }
        printf("applied %s\n", m->name);
        applied++;
    }
    if (scim_db_selectv(db, c->pool, &rows,
                        "SELECT coalesce(max(version), 0) "
                        "FROM scim_schema_migrations",
                        0)
        != APR_SUCCESS) {
        db_die(db, "cannot read the schema version");
    }
    printf("schema %s at version %s\n", applied ? "now" : "already",
           scim_rows_get(rows, 0, 0));
    if (atoi(scim_rows_get(rows, 0, 0)) >= 3) {
        warn_name_twins(db, c->pool);
    }
    return 0;
}

static int cmd_keygen(ctl_t *c, int argc, const char **argv)
{
    const char *kid = NULL, *file = NULL, *err = NULL, *tmp, *json;
    const scim_jwk_t *added = NULL;
    scim_keyset_t *ks = NULL;
    apr_finfo_t fi;
    apr_file_t *f;
    apr_size_t n;
    int i;

    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--kid") && i + 1 < argc) {
            kid = argv[++i];
        }
        else if (argv[i][0] == '-') {
            die("keygen: unknown option %s (see scimctl keygen --help)", argv[i]);
        }
        else if (!file) {
            file = argv[i];
        }
        else {
            die("keygen: one FILE only");
        }
    }
    if (!file) {
        die("keygen: FILE is required (scimctl keygen [--kid KID] FILE)");
    }
    if (apr_stat(&fi, file, APR_FINFO_TYPE, c->pool) == APR_SUCCESS) {
        if (scim_keyset_load(c->pool, file, &ks, &err) != APR_SUCCESS) {
            die("keygen: %s", err);
        }
    }
    else {
        ks = scim_keyset_new(c->pool);
    }
    if (scim_keyset_generate(c->pool, ks, kid, &added, &err) != APR_SUCCESS) {
        die("keygen: %s", err);
    }
    json = scim_keyset_to_json(c->pool, ks);
    tmp = apr_pstrcat(c->pool, file, ".tmp", NULL);
    apr_file_remove(tmp, c->pool);
    if (apr_file_open(&f, tmp, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL,
                      APR_FPROT_UREAD | APR_FPROT_UWRITE, c->pool)
            != APR_SUCCESS
        || apr_file_perms_set(tmp, APR_FPROT_UREAD | APR_FPROT_UWRITE) != APR_SUCCESS
        || apr_file_write_full(f, json, strlen(json), &n) != APR_SUCCESS
        || apr_file_write_full(f, "\n", 1, &n) != APR_SUCCESS
        || apr_file_close(f) != APR_SUCCESS
        || apr_file_rename(tmp, file, c->pool) != APR_SUCCESS) {
        apr_file_remove(tmp, c->pool);
        die("keygen: cannot write %s", file);
    }
    printf("added key '%s' to %s (%d key%s)\n", added->kid, file,
           ks->keys->nelts, ks->keys->nelts == 1 ? "" : "s");
    return 0;
}

static int cmd_tenant_add(ctl_t *c, int argc, const char **argv)
{
    scim_tenant_t *t;
    scim_db_t *db;
    apr_status_t rv;

    if (argc < 1 || argc > 2 || argv[0][0] == '-') {
        die("tenant add: usage: scimctl tenant add <slug> [name]");
    }
    if (!scim_is_tenant_slug(argv[0])) {
        die("tenant add: '%s' is not a slug (1 to 63 of a-z, 0-9 and '-', "
            "starting with a letter or digit)",
            argv[0]);
    }
    db = connect_db(c);
    rv = scim_store_tenant_add(db, c->pool, argv[0],
                               argc > 1 ? argv[1] : argv[0], &t);
    if (rv != APR_SUCCESS) {
        db_die(db, "tenant add");
    }
    printf("tenant %s added (%s)\n", t->slug, t->id);
    return 0;
}

static int cmd_tenant_list(ctl_t *c, int argc, const char **argv)
{
    apr_array_header_t *list;
    scim_db_t *db;
    int i;

    (void)argv;
    if (argc) {
        die("tenant list: takes no arguments");
    }
    db = connect_db(c);
    if (scim_store_tenant_list(db, c->pool, &list) != APR_SUCCESS) {
        db_die(db, "tenant list");
    }
    for (i = 0; i < list->nelts; i++) {
        scim_tenant_t *t = &APR_ARRAY_IDX(list, i, scim_tenant_t);

        printf("%s\t%s\t%s\t%s\n", t->slug, t->id, t->created_at, t->name);
    }
    return 0;
}

static int cmd_admin_add(ctl_t *c, int argc, const char **argv)
{
    const char *tenant = NULL, *email = NULL, *user = NULL;
    int system = 0, i;
    scim_admin_t *a;
    scim_db_t *db;
    apr_status_t rv;

    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--tenant") && i + 1 < argc) {
            tenant = argv[++i];
        }
        else if (!strcmp(argv[i], "--email") && i + 1 < argc) {
            email = argv[++i];
        }
        else if (!strcmp(argv[i], "--system")) {
            system = 1;
        }
        else if (argv[i][0] == '-') {
            die("admin add: unknown or incomplete option %s", argv[i]);
        }
        else if (!user) {
            user = argv[i];
        }
        else {
            die("admin add: one username only");
        }
    }
    if (!!tenant == system) {
        die("admin add: give exactly one of --tenant <slug> and --system");
    }
    if (!email) {
        die("admin add: --email <address> is required");
    }
    if (!user) {
        die("admin add: the username is required (as httpd authenticates "
            "it, r->user)");
    }
    db = connect_db(c);
    rv = scim_store_admin_add(db, c->pool, tenant, user, email, &a);
    if (rv != APR_SUCCESS) {
        db_die(db, "admin add");
    }
    printf("%s administrator %s added%s%s\n", system ? "system" : "Customer",
           a->username, system ? "" : " to tenant ", system ? "" : tenant);
    return 0;
}

static int cmd_admin_list(ctl_t *c, int argc, const char **argv)
{
    const char *tenant = NULL;
    apr_array_header_t *list;
    scim_db_t *db;
    int i;

    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--tenant") && i + 1 < argc) {
            tenant = argv[++i];
        }
        else {
            die("admin list: usage: scimctl admin list [--tenant <slug>]");
        }
    }
    db = connect_db(c);
    if (scim_store_admin_list(db, c->pool, tenant, &list) != APR_SUCCESS) {
        db_die(db, "admin list");
    }
    for (i = 0; i < list->nelts; i++) {
        scim_admin_t *a = &APR_ARRAY_IDX(list, i, scim_admin_t);

        printf("%s\t%s\t%s\t%s\n", a->tenant_slug ? a->tenant_slug : "*",
               a->role, a->username, a->email);
    }
    return 0;
}

/* clang-format off */
static const command_t commands[] = {
    { "migrate", NULL, cmd_migrate, 1, "scimctl [--db CONNINFO] migrate",
      "Create or upgrade the schema: applies the migrations built into\n"
      "scimctl in order, each once, and records the version. Safe to run\n"
      "again and from several hosts at once." },
    { "keygen", NULL, cmd_keygen, 0, "scimctl keygen [--kid KID] FILE",
      "Create FILE as a JWK Set with one new HS256 key, or add a key to it\n"
      "(mode 0600). Name it in SCIMTokenKeyFile; pick the signing key with\n"
      "SCIMTokenSigningKey. Old keys keep verifying the tokens they signed." },
    { "tenant", "add", cmd_tenant_add, 1,
      "scimctl [--db CONNINFO] tenant add <slug> [name]",
      "Add a tenant. The slug (a-z, 0-9, '-') is what SCIMTenant names." },
    { "tenant", "list", cmd_tenant_list, 1,
      "scimctl [--db CONNINFO] tenant list",
      "List tenants: slug, id, created, name (tab-separated)." },
    { "admin", "add", cmd_admin_add, 1,
      "scimctl [--db CONNINFO] admin add --tenant <slug>|--system "
      "--email <addr> <username>",
      "Add a Customer Administrator of a tenant, or a system administrator.\n"
      "The username is the one httpd's authentication puts in r->user." },
    { "admin", "list", cmd_admin_list, 1,
      "scimctl [--db CONNINFO] admin list [--tenant <slug>]",
      "List administrators: tenant (* for system), role, username, e-mail." },
    { NULL, NULL, NULL, 0, NULL, NULL }
};
/* clang-format on */

static void usage(FILE *out)
{
    int i;

    fputs("usage: scimctl [--db CONNINFO] <command> [args]\n\n"
          "The database is --db '<libpq conninfo>' (before or after the\n"
          "command) or the SCIMCTL_DB environment variable.\n\ncommands:\n",
          out);
    for (i = 0; commands[i].name; i++) {
        fprintf(out, "  %s\n", commands[i].usage);
    }
    fputs("\n`scimctl <command> --help` tells more.\n", out);
}

static int wants_help(int argc, const char **argv)
{
    int i;

    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            return 1;
        }
    }
    return 0;
}

int main(int argc, const char *const *argv)
{
    const char **words;
    const command_t *cmd = NULL;
    ctl_t c;
    int i, n = 0;

    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    memset(&c, 0, sizeof(c));
    apr_pool_create(&c.pool, NULL);
    c.conninfo = getenv("SCIMCTL_DB");
    /* --db may stand anywhere: take it out of the words. */
    words = apr_pcalloc(c.pool, sizeof(char *) * (apr_size_t)(argc + 1));
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db")) {
            if (i + 1 >= argc) {
                die("--db needs a value (a libpq conninfo string)");
            }
            c.conninfo = argv[++i];
        }
        else if (!strncmp(argv[i], "--db=", 5)) {
            c.conninfo = argv[i] + 5;
        }
        else {
            words[n++] = argv[i];
        }
    }
    if (n == 0) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(words[0], "--help") || !strcmp(words[0], "-h")
        || !strcmp(words[0], "help")) {
        usage(stdout);
        return 0;
    }
    for (i = 0; commands[i].name; i++) {
        if (strcmp(commands[i].name, words[0])) {
            continue;
        }
        if (!commands[i].sub || (n > 1 && !strcmp(commands[i].sub, words[1]))) {
            cmd = &commands[i];
            break;
        }
    }
    if (!cmd) {
        for (i = 0; commands[i].name; i++) {
            if (!strcmp(commands[i].name, words[0])) {
                if (n > 1 && wants_help(n - 1, words + 1)) {
                    printf("usage: %s\n", commands[i].usage);
                    for (i++;
                         commands[i].name && !strcmp(commands[i].name, words[0]);
                         i++) {
                        printf("       %s\n", commands[i].usage);
                    }
                    return 0;
                }
                die("%s: expected a subcommand%s%s (see scimctl %s --help)",
                    words[0], n > 1 ? ", not " : "", n > 1 ? words[1] : "",
                    words[0]);
            }
        }
        die("unknown command '%s' (see scimctl --help)", words[0]);
    }
    i = cmd->sub ? 2 : 1;
    if (wants_help(n - i, words + i)) {
        printf("usage: %s\n\n%s\n", cmd->usage, cmd->help);
        return 0;
    }
    return cmd->fn(&c, n - i, words + i);
}
