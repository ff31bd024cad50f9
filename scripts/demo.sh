#!/usr/bin/env bash
# Demo site on a fresh Debian 12 machine, as root (or as a user, if the
# packages are there): installs what is missing, builds, starts a private
# PostgreSQL and httpd on 127.0.0.1, creates a demo tenant, administrator and
# Okta provider, and prints the URLs, credentials and a curl line.
#   scripts/demo.sh          start the demo (a running one is restarted)
#   scripts/demo.sh stop     stop it
#   scripts/demo.sh clean    stop it and delete its database, keys and build
# As root, the tree is copied to a build directory owned by the unprivileged
# user "scimdemo" (httpd and PostgreSQL run as that user, and a clone in a
# 0700 directory such as /root is not readable to it); the demo's state lives
# next to that copy, in /var/tmp/mod_scim_provision-demo-<hash of the clone's
# path>, and is kept from one run to the next. As a user, the tree is built
# where it is and the state lives in ./demo (or $SCIM_DEMO_DIR).
# SCIM_DEMO_PORT picks the port; without it, 8080 or the next free one.
set -Eeuo pipefail
trap 'echo "demo.sh: failed at line $LINENO" >&2' ERR
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"
cmd=${1:-start}
case $cmd in
    start | stop | clean) ;;
    *) echo "usage: scripts/demo.sh [start|stop|clean]" >&2; exit 2 ;;
esac
pg_port=5434

# The httpd of the demo in state directory $1, if it runs: its PID.
demo_httpd_pid() {
    local pid
    pid=$(cat "$1/httpd.pid" 2>/dev/null) || return 1
    # a stale PID file (after a reboot) may name another process
    [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$1/httpd.conf" \
        && echo "$pid"
}

# Stop the demo whose state is in $1 (httpd, then PostgreSQL); $2 runs a
# command as the demo's user.
demo_stop() {
    local state=$1 as=$2 pid i
    if pid=$(demo_httpd_pid "$state"); then
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            echo "httpd $pid did not stop in 10 s; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    if [ -f "$state/pg/data/postmaster.pid" ]; then
        $as "$(scim_pg_bindir)/pg_ctl" -D "$state/pg/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
}

if [ "$(id -u)" = 0 ]; then
    user=scimdemo
    base=${SCIM_DEMO_BASE:-/var/tmp/mod_scim_provision-demo-$(printf %s "$here" | md5sum | cut -c1-8)}
    cd /   # the clone's directory may be closed to the demo user
    as_demo() { runuser -u "$user" -- "$@"; }
    case $cmd in
        stop)
            [ -d "$base/state" ] && id "$user" >/dev/null 2>&1 && demo_stop "$base/state" as_demo
            echo "demo stopped"
            exit 0 ;;
        clean)
            [ -d "$base/state" ] && id "$user" >/dev/null 2>&1 && demo_stop "$base/state" as_demo
            rm -rf "$base"
            echo "demo stopped; removed $base"
            exit 0 ;;
    esac
    scim_install_packages curl
    id "$user" >/dev/null 2>&1 || useradd --system --create-home --shell /bin/bash "$user"
    # $base has a predictable name in a world-writable directory: use it
    # only if it is a real directory that root or the demo user owns, and
    # touch what is inside only as the demo user, so that nobody can plant
    # a symlink that makes root write or delete elsewhere.
    if [ -e "$base" ] || [ -L "$base" ]; then
        owner=$(stat -c %U "$base" 2>/dev/null || echo '?')
        if [ -L "$base" ] || [ ! -d "$base" ] || { [ "$owner" != root ] && [ "$owner" != "$user" ]; }; then
            echo "demo.sh: $base exists but is not a directory owned by root or $user; remove it or set SCIM_DEMO_BASE" >&2
            exit 1
        fi
    else
        mkdir -m 755 "$base"
    fi
    chown "$user": "$base"
    [ -d "$base/state" ] && demo_stop "$base/state" as_demo
    # Refresh the copy: files gone from the clone go, the others are copied
    # with their times, so that the build after a first run is incremental.
    scim_tree_files "$here" >/tmp/scim-demo-files.$$
    as_demo mkdir -p "$base/src" "$base/state"
    as_demo chmod 700 "$base/state"
    if as_demo test -f "$base/files"; then
        sort /tmp/scim-demo-files.$$ | comm -23 <(as_demo sort "$base/files") - \
            | as_demo bash -c 'cd "$1" && xargs -r -d "\n" rm -f --' _ "$base/src"
    fi
    (cd "$here" && tar -cf - -T /tmp/scim-demo-files.$$) | as_demo tar -xf - --no-same-owner -C "$base/src"
    as_demo tee "$base/files" </tmp/scim-demo-files.$$ >/dev/null
    rm -f /tmp/scim-demo-files.$$
    exec runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$(getent passwd "$user" | cut -d: -f6)" \
        LANG=C.UTF-8 SCIM_DEMO_DIR="$base/state" SCIM_DEMO_PORT="${SCIM_DEMO_PORT:-}" SCIM_DEMO_ORIGIN="$here" \
        bash "$base/src/scripts/demo.sh" start
fi

# --- as the demo's (unprivileged) user
demo=${SCIM_DEMO_DIR:-$here/demo}
origin=${SCIM_DEMO_ORIGIN:-$here}
trap 'echo "demo.sh: failed at line $LINENO (logs: $demo/logs/error_log, $demo/pg/postgres.log)" >&2' ERR
run() { "$@"; }
case $cmd in
    stop) demo_stop "$demo" run; echo "demo stopped"; exit 0 ;;
    clean) demo_stop "$demo" run; rm -rf "$demo"; echo "demo stopped; removed $demo"; exit 0 ;;
esac
# PostgreSQL's socket path ($demo/pg/.s.PGSQL.5434) must fit in 107 bytes.
if [ ${#demo} -gt 80 ]; then
    echo "demo.sh: $demo is too long a path for PostgreSQL's socket; set SCIM_DEMO_DIR to a shorter one" >&2
    exit 1
fi
scim_install_packages curl
cd "$here"
echo "== build"
scim_build
demo_stop "$demo" run
mkdir -p "$demo/logs"
chmod 700 "$demo"

# The port: SCIM_DEMO_PORT, or 8080, or the next free one.
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -n "${SCIM_DEMO_PORT:-}" ]; then
    port=$SCIM_DEMO_PORT
    if in_use "$port"; then
        echo "demo.sh: port $port (SCIM_DEMO_PORT) is in use on 127.0.0.1; choose another" >&2
        exit 1
    fi
else
    port=
    for p in $(seq 8080 8099); do
        if ! in_use "$p"; then port=$p; break; fi
    done
    if [ -z "$port" ]; then
        echo "demo.sh: ports 8080-8099 are all in use on 127.0.0.1; set SCIM_DEMO_PORT" >&2
        exit 1
    fi
    [ "$port" = 8080 ] || echo "(port 8080 is in use: the demo takes $port)"
fi

echo "== PostgreSQL (private, unix socket in $demo/pg)"
scim_pg_start "$demo/pg" "$pg_port" >/dev/null
db="host=$demo/pg port=$pg_port dbname=scim user=scim"
ctl() { "$here/scimctl" --db "$db" "$@"; }
ctl migrate >/dev/null
[ -f "$demo/keys.jwks" ] || ctl keygen "$demo/keys.jwks" >/dev/null
tenants=$(ctl tenant list)
case $'\n'"$tenants" in
    *$'\n'acme$'\t'*) ;;
    *) ctl tenant add acme "Acme Corp" >/dev/null ;;
esac
admins=$(ctl admin list --tenant acme)
case "$admins" in
    *$'\t'admin$'\t'*) ;;
    *) ctl admin add --tenant acme --email admin@acme.example admin >/dev/null ;;
esac
[ -s "$demo/admin.password" ] \
    || (umask 077; head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16 >"$demo/admin.password")
pass=$(cat "$demo/admin.password")
# -i: the password comes on stdin, never in a command line that ps shows
printf '%s\n' "$pass" | htpasswd -icB "$demo/admins.htpasswd" admin >/dev/null 2>&1

echo "== httpd on 127.0.0.1:$port"
libexec=$(apxs -q LIBEXECDIR)
cat >"$demo/httpd.conf" <<CONF
ServerRoot $demo
ServerName 127.0.0.1
Listen 127.0.0.1:$port
DefaultRuntimeDir $demo/logs
PidFile $demo/httpd.pid
ErrorLog $demo/logs/error_log
LogLevel warn scim_provision:info
LogFormat "%h %u \"%r\" %>s %b" common
CustomLog $demo/logs/access_log common
DocumentRoot $demo/htdocs
LoadModule mpm_event_module $libexec/mod_mpm_event.so
LoadModule authz_core_module $libexec/mod_authz_core.so
LoadModule authz_user_module $libexec/mod_authz_user.so
LoadModule authn_core_module $libexec/mod_authn_core.so
LoadModule authn_file_module $libexec/mod_authn_file.so
LoadModule auth_basic_module $libexec/mod_auth_basic.so
LoadModule dbd_module $libexec/mod_dbd.so
<IfModule !mod_watchdog.c>
    LoadModule watchdog_module $libexec/mod_watchdog.so
</IfModule>
LoadModule scim_provision_module $here/.libs/mod_scim_provision.so
DBDriver pgsql
DBDParams "$db connect_timeout=5 options='-c statement_timeout=5000'"
DBDMax 64
SCIMTokenKeyFile $demo/keys.jwks
SCIMTokenIssuer http://127.0.0.1:$port/scim
SCIMAssetsDir $here/www
<Location /t/acme/scim/v2>
    SetHandler scim-provision
    SCIMTenant acme
</Location>
<Location /t/acme/provisioning>
    SetHandler scim-provision-admin
    SCIMTenant acme
    AuthType Basic
    AuthName "acme administrators"
    AuthUserFile $demo/admins.htpasswd
    Require valid-user
</Location>
CONF
mkdir -p "$demo/htdocs"
/usr/sbin/apache2 -f "$demo/httpd.conf" -k start
base="http://127.0.0.1:$port/t/acme"
api="$base/provisioning/api/identity-providers"
for _ in $(seq 100); do
    curl -so /dev/null -u "admin:$pass" "$api" && break
    sleep 0.1
done
pid=$(demo_httpd_pid "$demo") || { echo "demo.sh: httpd did not start (see $demo/logs/error_log)" >&2; exit 1; }

# The demo Okta provider: the one an earlier run made, or a new one.
json() { perl -MJSON::PP -0777 -ne "\$_ = decode_json(\$_); $1"; }
idp=$(curl -fsS -u "admin:$pass" "$api" \
      | json 'print map { "$_->{id}\n" } grep { $_->{name} eq "Demo Okta" } @{$_->{identityProviders}}' \
      | sed -n 1p)
if [ -z "$idp" ]; then
    idp=$(curl -fsS -u "admin:$pass" -H 'Content-Type: application/json' \
          -d '{"type":"okta","name":"Demo Okta"}' "$api" | json 'print $_->{id}')
fi
[ -n "$idp" ] || { echo "demo.sh: could not create the demo Okta provider" >&2; exit 1; }
# At most two live tokens per provider: say so when an earlier run used both.
live=$(curl -fsS -u "admin:$pass" "$api/$idp/tokens" \
       | json 'print join " ", map { $_->{id} } grep { $_->{status} eq "active" } @{$_->{tokens}}')
cat <<INFO

mod_scim_provision demo is running (httpd pid $pid, PostgreSQL in $demo/pg).

  Auto Provisioning Token page: $base/provisioning/
  Administrator:                admin / $pass   (Customer Administrator of tenant acme)
  SCIM endpoint for Okta/Entra: $base/scim/v2

Create a provisioning token for the demo Okta provider from the command line:
  curl -u 'admin:$pass' -H 'Content-Type: application/json' -X POST $base/provisioning/api/identity-providers/$idp/tokens
Then use it:
  curl -H "Authorization: Bearer <token>" $base/scim/v2/ServiceProviderConfig
INFO
set -- $live
if [ $# -ge 2 ]; then
    cat <<INFO
(This provider already has two live tokens, the limit; delete one first:
  curl -u 'admin:$pass' -X DELETE $base/provisioning/api/identity-providers/$idp/tokens/$1 )
INFO
fi
cat <<INFO

Logs: $demo/logs/   Stop: scripts/demo.sh stop   (in $origin)
INFO
