#ifndef SCIM_MIGRATIONS_H
#define SCIM_MIGRATIONS_H

/* One numbered schema migration from sql/, compiled in (tools/embed-sql.sh). */
typedef struct {
    int version;
    const char *name;
    const char *sql;
} scim_migration_t;

/* Ordered by version, terminated by an entry with version 0. */
extern const scim_migration_t scim_migrations[];

#endif
