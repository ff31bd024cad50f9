#!/usr/bin/env bash
# Demo site on a fresh Debian 12 machine, as root (or as a user, if the
# packages are there): installs what is missing, builds, starts a private
# PostgreSQL under ./demo and httpd on 127.0.0.1, creates a demo tenant and
# administrator, and prints the URLs and credentials.
#   scripts/demo.sh          start (or restart) the demo
#   scripts/demo.sh stop     stop it
set -euo pipefail
trap 'echo "demo.sh: failed at line $LINENO (logs: demo/logs/error_log, demo/pg/postgres.log)" >&2' ERR
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"
port=${SCIM_DEMO_PORT:-8080}
demo="$here/demo"
user=$(id -un)
[ "$(id -u)" = 0 ] && user=scimdemo
as_user() { if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi; }

stop() {
    if [ -f "$demo/httpd.pid" ]; then
        kill "$(cat "$demo/httpd.pid")" 2>/dev/null || true
        for _ in $(seq 50); do [ -f "$demo/httpd.pid" ] || break; sleep 0.1; done
    fi
    [ -d "$demo/pg" ] && as_user bash -c ". '$here/scripts/lib.sh'; scim_pg_stop '$demo/pg'"
    return 0
}
if [ "${1:-}" = stop ]; then stop; echo "demo stopped"; exit 0; fi

scim_install_packages
cd "$here"
echo "== build"
scim_build
if [ "$(id -u)" = 0 ]; then
    id "$user" >/dev/null 2>&1 || useradd --system --create-home --shell /bin/bash "$user"
fi
stop
mkdir -p "$demo/logs"
chown -R "$user": "$demo"
# The socket directory must be short (unix socket paths are limited).
sock="/tmp/scim-demo-$user"
as_user mkdir -p "$sock"
as_user bash -c ". '$here/scripts/lib.sh'; scim_pg_start '$demo/pg' 5434" >/dev/null
# keep the socket where a short path reaches it
as_user ln -sfn "$demo/pg" "$sock/pg"
db="host=$demo/pg port=5434 dbname=scim user=scim"
if [ ${#demo} -gt 80 ]; then db="host=$sock/pg port=5434 dbname=scim user=scim"; fi
ctl() { as_user "$here/scimctl" --db "$db" "$@"; }
ctl migrate >/dev/null
[ -f "$demo/keys.jwks" ] || ctl keygen "$demo/keys.jwks" >/dev/null
ctl tenant add acme "Acme Corp" >/dev/null 2>&1 || true
ctl admin add --tenant acme --email admin@acme.example admin >/dev/null 2>&1 || true
pass=$(cat "$demo/admin.password" 2>/dev/null || head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16)
echo "$pass" >"$demo/admin.password"
htpasswd -bcB "$demo/admins.htpasswd" admin "$pass" >/dev/null 2>&1
chown "$user": "$demo"/* && chmod 600 "$demo/admin.password"
libexec=$(apxs -q LIBEXECDIR)
cat >"$demo/httpd.conf" <<CONF
ServerRoot $demo
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $demo/httpd.pid
ErrorLog $demo/logs/error_log
LogLevel warn scim_provision:info
LogFormat "%h %u \"%r\" %>s %b" common
CustomLog $demo/logs/access_log common
DocumentRoot $demo
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
chown "$user": "$demo/httpd.conf"
as_user /usr/sbin/apache2 -f "$demo/httpd.conf" -k start
for _ in $(seq 50); do [ -f "$demo/httpd.pid" ] && break; sleep 0.1; done
base="http://127.0.0.1:$port/t/acme"
api="$base/provisioning/api/identity-providers"
# the demo Okta provider: the one made by an earlier run, or a new one
idp=$(curl -fsS -u "admin:$pass" "$api" | tr '{' '\n' | grep '"Demo Okta"' \
      | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -n 1)
if [ -z "$idp" ]; then
    idp=$(curl -fsS -u "admin:$pass" -H 'Content-Type: application/json' \
          -d '{"type":"okta","name":"Demo Okta"}' "$api" \
          | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
fi
cat <<INFO

mod_scim_provision demo is running (httpd pid $(cat "$demo/httpd.pid"), PostgreSQL in $demo/pg).

  Auto Provisioning Token page: $base/provisioning/
  Administrator:                admin / $pass   (Customer Administrator of tenant acme)
  SCIM endpoint for Okta/Entra: $base/scim/v2

Create a provisioning token for the demo Okta provider from the command line:
  curl -u 'admin:$pass' -X POST $base/provisioning/api/identity-providers/$idp/tokens
Then use it:
  curl -H "Authorization: Bearer <token>" $base/scim/v2/ServiceProviderConfig

Logs: $demo/logs/   Stop: scripts/demo.sh stop
INFO
