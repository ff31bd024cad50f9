#!/bin/sh
# Prove the SQL that scim_store_filter compiles against a real PostgreSQL:
# builds test/unit/filter_sql_check.c with the core's filter and the store's
# compiler, and runs it on sample data (hand-checked filters, sortBy orders, and thousands of generated
# filters whose SQL result must equal the in-memory matcher's).
#
#   test/unit/filter_sql_check.sh              # private PostgreSQL, removed after
#   SCIM_TEST_PG='host=/run/pg dbname=x' test/unit/filter_sql_check.sh
#       # an existing database with the sql/ migrations applied
#
# The private cluster (initdb refuses root) runs as $SCIM_TEST_USER (default:
# the invoking user, or "scimtest" when root; created with useradd if it does
# not exist), listens only on a Unix socket in a temporary directory, and is
# stopped and deleted on exit. Environment: PG_BIN (default: the newest
# /usr/lib/postgresql/*/bin), CC, SCIM_FILTER_CHECK_COUNT (generated filters,
# default 4000).
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
count=${SCIM_FILTER_CHECK_COUNT:-4000}
CC=${CC:-cc}
work=$(mktemp -d /tmp/scim-filter-check.XXXXXX)
chmod 755 "$work"
pgdata=$work/data
started=

cleanup() {
    if [ -n "$started" ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$pguser" -- "$@"
    else
        "$@"
    fi
}

# Build the checker.
srcs="$top/mod_scim_provision/scim_schema.c $top/mod_scim_provision/scim_filter.c $top/mod_scim_provision/scim_store_filter.c"
for f in scim_json.c scim_util.c; do
    [ -f "$top/mod_scim_provision/$f" ] && srcs="$srcs $top/mod_scim_provision/$f"
done
# shellcheck disable=SC2086,SC2046 # word splitting of flags is wanted
$CC -std=c99 -D_GNU_SOURCE -Wall -Wextra -Werror -g \
    -I"$top/mod_scim_provision" $(pkg-config --cflags apr-1 apr-util-1 jansson) \
    $srcs "$top/test/unit/filter_sql_check.c" \
    -o "$work/filter_sql_check" \
    $(pkg-config --libs apr-1 apr-util-1 jansson libcrypto)

if [ -n "${SCIM_TEST_PG:-}" ]; then
    "$work/filter_sql_check" "$SCIM_TEST_PG" "$count"
    exit $?
fi

# A private PostgreSQL.
if [ -z "${PG_BIN:-}" ]; then
    # shellcheck disable=SC2012
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
[ -x "$PG_BIN/initdb" ] || { echo "filter_sql_check: no PostgreSQL (set PG_BIN)" >&2; exit 2; }
if [ "$(id -u)" = 0 ]; then
    pguser=${SCIM_TEST_USER:-scimtest}
    id "$pguser" >/dev/null 2>&1 || useradd -m "$pguser"
    chown "$pguser" "$work"
else
    pguser=$(id -un)
fi
as_pg "$PG_BIN/initdb" -D "$pgdata" --locale=C.UTF-8 -E UTF8 -A trust \
    -U postgres >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log"; exit 2; }
as_pg "$PG_BIN/pg_ctl" -D "$pgdata" -l "$work/pg.log" -w \
    -o "-k $work -c listen_addresses= -p 5432" start >/dev/null
started=1
conn="host=$work port=5432 user=postgres dbname=postgres"
for f in "$top"/sql/[0-9]*.sql; do
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$conn" -f "$f" >/dev/null
done
"$work/filter_sql_check" "$conn" "$count"
