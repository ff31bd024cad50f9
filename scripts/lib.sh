# Shared shell functions of the project's scripts (sourced, not run).

# Debian packages that building, testing and the demo need.
SCIM_PACKAGES="build-essential autoconf automake libtool pkg-config apache2 apache2-dev
apache2-utils libaprutil1-dbd-pgsql libpq-dev libjansson-dev libssl-dev postgresql postgresql-contrib
libapache2-mod-perl2 libwww-perl libjson-pp-perl check ca-certificates
python3-prometheus-client"

# Install what is missing (root only); apt-get update only when needed.
scim_install_packages() {
    local missing="" p
    for p in $SCIM_PACKAGES "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "missing Debian packages:$missing (run as root to install them)" >&2
        return 1
    fi
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    # policy-rc.d keeps Debian from starting the system's apache2/postgresql services.
    local prc=/usr/sbin/policy-rc.d created=""
    if [ ! -e "$prc" ]; then printf '#!/bin/sh\nexit 101\n' >"$prc"; chmod +x "$prc"; created=1; fi
    apt-get install -y -q --no-install-recommends $missing >/dev/null
    local rc=$?
    [ -n "$created" ] && rm -f "$prc"
    return $rc
}

# Generate a locale of the system when it is missing (root; Debian's
# "locales" package): t/69 runs PostgreSQL with German messages.
scim_locale() {
    local want=$1 have
    have=$(printf %s "$want" | tr 'A-Z' 'a-z' | sed 's/utf-8$/utf8/')
    locale -a 2>/dev/null | tr 'A-Z' 'a-z' | grep -qx "$have" && return 0
    scim_install_packages locales || return 1
    grep -q "^$want " /etc/locale.gen 2>/dev/null \
        || echo "$want ${want#*.}" >>/etc/locale.gen
    locale-gen >/dev/null
}

# The PostgreSQL 15 binaries of Debian.
scim_pg_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# Start a private cluster in DIR (created if needed), unix socket only, as the
# current (unprivileged) user; database "scim", role "scim".
scim_pg_start() {
    local dir=$1 port=${2:-5433} bin
    bin=$(scim_pg_bindir)
    mkdir -p "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        "$bin/initdb" -D "$dir/data" -U scim -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; return 1; }
    fi
    "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-k $dir -p $port -c listen_addresses='' -c fsync=off -c max_connections=200 ${SCIM_PG_EXTRA_OPTS:-}" \
        start >/dev/null || { tail -n 20 "$dir/postgres.log" >&2; return 1; }
    "$bin/psql" -X -q -h "$dir" -p "$port" -U scim -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'scim'" | grep -q 1 \
        || "$bin/createdb" -h "$dir" -p "$port" -U scim scim
}

scim_pg_stop() {
    local dir=$1 bin
    bin=$(scim_pg_bindir)
    [ -f "$dir/data/postmaster.pid" ] && "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
    return 0
}

# Build in the current directory (a source tree).
scim_build() {
    if [ ! -x configure ] || [ configure.ac -nt configure ]; then
        autoreconf -fi >/dev/null 2>&1 || autoreconf -fi || return 1
    fi
    # SCIM_SANITIZE=1: ASan + UBSan build (./configure --enable-sanitizers);
    # switching between the two builds starts from clean objects.
    local want="" have=""
    [ "${SCIM_SANITIZE:-}" = 1 ] && want=--enable-sanitizers
    [ -f config.status ] && grep -q -e "--enable-sanitizers" config.status && have=--enable-sanitizers
    if [ -f Makefile ] && [ "$want" != "$have" ]; then
        make clean >/dev/null 2>&1
    fi
    if [ ! -f Makefile ] || [ configure -nt Makefile ] || [ "$want" != "$have" ]; then
        ./configure --prefix="${SCIM_PREFIX:-$PWD/_inst}" $want >/dev/null || return 1
    fi
    make -j"$(nproc)" >/dev/null || make || return 1
    # the unit test program, without running it (the suite runs it)
    make -j"$(nproc)" check TESTS= >/dev/null || make check TESTS= || return 1
}

# The files of the source tree in DIR, one a line, relative to DIR: the tracked
# files and the untracked ones git does not ignore (so no build products, logs
# or demo state), or every file when DIR is no git work tree.
scim_tree_files() {
    (cd "$1" && { git ls-files -co --exclude-standard 2>/dev/null || find . -path ./.git -prune -o -type f -print; } \
        | while IFS= read -r f; do if [ -e "$f" ]; then printf '%s\n' "$f"; fi; done)
}

# Copy the files of the source tree SRC into DEST (created if needed).
scim_copy_tree() {
    mkdir -p "$2"
    scim_tree_files "$1" | (cd "$1" && tar -cf - -T -) | tar -xf - -C "$2"
}
