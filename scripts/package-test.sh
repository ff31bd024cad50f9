#!/usr/bin/env bash
# The Debian package, end to end, as root on Debian 12:
#   installs the build dependencies, builds libapache2-mod-scim-provision with
#   `dpkg-buildpackage -us -uc -b` in a copy of this tree (as the unprivileged
#   user scimtest; this tree stays clean), runs lintian (any error fails),
#   `apt-get install ./….deb`, `a2enmod scim_provision`, `apache2ctl -t`;
#   then runs the system's apache2 on 127.0.0.1 and a free high port, with a
#   configuration of its own that includes the installed .load and .conf:
#   first with no tenant (the module must be inert), then with a private
#   PostgreSQL, `scimctl migrate`, a key, a tenant and its two locations: a
#   token made through the admin API reads /ServiceProviderConfig. Finally it
#   stops what it started, purges the package and checks its files are gone.
# Ends with "package: N passed, M failed"; exits non-zero on any failure.
# Logs, the .deb and lintian's output: test-artifacts/package/.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"

if [ "$(id -u)" != 0 ]; then
    echo "package-test.sh: run as root (it installs and purges a package)" >&2
    exit 1
fi

pkg=libapache2-mod-scim-provision
user=scimtest
# what dpkg-buildpackage needs beyond SCIM_PACKAGES (debian/control's
# Build-Depends; dpkg-checkbuilddeps below checks the list is complete)
DEB_BUILD_PACKAGES="debhelper dpkg-dev lintian libapr1-dev libaprutil1-dev pkgconf curl man-db"

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
nok() { failed=$((failed + 1)); echo "not ok - $*"; }
check() { # check NAME COMMAND...
    local name=$1; shift
    if "$@"; then ok "$name"; else nok "$name"; fi
}

work=/var/tmp/mod_scim_provision-pkg-$(printf %s "$here" | md5sum | cut -c1-8)
art="$here/test-artifacts/package"
run="$work/run"
httpd_conf="$run/httpd.conf"
prc=/usr/sbin/policy-rc.d prc_created=""
dbd_was_enabled=""
[ -e /etc/apache2/mods-enabled/dbd.load ] && dbd_was_enabled=1
start_time=$(date +%s)

httpd_stop() {
    [ -f "$run/httpd.pid" ] || return 0
    local pid
    pid=$(cat "$run/httpd.pid" 2>/dev/null) || return 0
    /usr/sbin/apache2 -f "$httpd_conf" -k stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    rm -f "$run/httpd.pid"
}

pg_stop() {
    [ -d "$run/pg" ] || return 0
    runuser -u "$user" -- bash -c ". '$work/src/scripts/lib.sh'; scim_pg_stop '$run/pg'"
}

cleanup() {
    httpd_stop
    pg_stop
    # leave the system as found: nothing of the package, dbd as it was
    [ -e /etc/apache2/mods-enabled/scim_provision.load ] && a2dismod -q scim_provision >/dev/null 2>&1
    [ -z "$dbd_was_enabled" ] && [ -e /etc/apache2/mods-enabled/dbd.load ] && a2dismod -q dbd >/dev/null 2>&1
    if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "installed"; then
        policy_on
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$pkg" >/dev/null 2>&1
    fi
    policy_off
    mkdir -p "$art"
    cp "$run/error.log" "$art/error.log" 2>/dev/null
    echo "package: $passed passed, $failed failed ($(( $(date +%s) - start_time )) s)"
}
trap cleanup EXIT

# policy-rc.d: installing or purging must not start, reload or restart the
# system's apache2 service.
policy_on() {
    if [ ! -e "$prc" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$prc"
        chmod +x "$prc"
        prc_created=1
    fi
}
policy_off() {
    if [ -n "$prc_created" ]; then rm -f "$prc"; prc_created=""; fi
}

die() { nok "$*"; exit 1; }
phase() { echo "== $* [$(( $(date +%s) - start_time )) s]"; }

phase "packages"
scim_install_packages $DEB_BUILD_PACKAGES || die "install the build dependencies"
id "$user" >/dev/null 2>&1 || useradd --system --create-home --shell /bin/bash "$user"

phase "build (in $work/src, as $user)"
tree_status=$(cd "$here" && git status --porcelain 2>/dev/null)
rm -rf "$work" "$art"
mkdir -p "$work/src" "$run" "$art"
# the tracked files and the untracked ones git does not ignore
(cd "$here" && { git ls-files -co --exclude-standard 2>/dev/null || find . -path ./.git -prune -o -type f -print; } \
    | tar -cf - -T -) | tar -xf - -C "$work/src"
chown -R "$user": "$work/src"
chmod 755 "$work"
as_user() { (cd / && runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="/home/$user" LANG=C.UTF-8 "$@"); }  # from /: the clone may be 0700
check "build dependencies complete (dpkg-checkbuilddeps)" as_user bash -c "cd '$work/src' && dpkg-checkbuilddeps"
chown "$user": "$work"
if as_user bash -c "cd '$work/src' && dpkg-buildpackage -us -uc -b" >"$art/build.log" 2>&1; then
    ok "dpkg-buildpackage -us -uc -b"
else
    tail -n 30 "$art/build.log"
    die "dpkg-buildpackage -us -uc -b (log: $art/build.log)"
fi
chown root: "$work"
deb=$(ls "$work"/${pkg}_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || die "no $pkg .deb built"
cp "$deb" "$art/"
grep -E "^(PASS|FAIL|# (TOTAL|PASS|FAIL))" "$art/build.log" | sed -n '/# TOTAL/,$p' | head -n 3
check "the build ran the unit tests and they passed" grep -q "^# PASS: *[1-9]" "$art/build.log"
check "debian/changelog's version is configure.ac's" [ "$(cd "$work/src" && dpkg-parsechangelog -S Version)" \
    = "$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$work/src/configure.ac")" ]
check "this tree is untouched by the build" [ "$(cd "$here" && git status --porcelain 2>/dev/null)" = "$tree_status" ]

phase "contents (dpkg -c)"
dpkg -c "$deb" | awk '{l = $1 " " $6; for (i = 7; i <= NF; i++) l = l " " $i; print l}' | tee "$art/contents.txt"
for f in ./usr/lib/apache2/modules/mod_scim_provision.so \
         ./etc/apache2/mods-available/scim_provision.load \
         ./etc/apache2/mods-available/scim_provision.conf \
         ./usr/bin/scimctl ./usr/share/man/man1/scimctl.1.gz \
         ./usr/share/mod_scim_provision/www/index.html \
         ./usr/share/doc/$pkg/copyright ./usr/share/doc/$pkg/changelog.gz; do
    check "package holds $f" grep -q " $f\$" "$art/contents.txt"
done
check "the .load declares the dbd dependency for a2enmod" \
    bash -c "dpkg-deb --fsys-tarfile '$deb' | tar -xOf - ./etc/apache2/mods-available/scim_provision.load | grep -q '^# Depends: dbd'"
dpkg -I "$deb" | sed -n 's/^ \(Depends\|Version\|Installed-Size\):/\1:/p'
check "depends on the apache2 API and the pgsql DBD driver" \
    bash -c "dpkg -f '$deb' Depends | grep -q 'apache2-api-' && dpkg -f '$deb' Depends | grep -q libaprutil1-dbd-pgsql"

phase "lintian"
as_user lintian --display-info --pedantic --fail-on error "$work"/*.changes >"$art/lintian.txt" 2>&1
lrc=$?
cat "$art/lintian.txt"
check "lintian: no errors (exit $lrc)" [ "$lrc" = 0 ]
check "lintian: no E: line" bash -c "! grep -q '^E:' '$art/lintian.txt'"

phase "install"
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q installed; then
    # This script purges what it installs: on a machine that uses the
    # package for real, that would throw away the site's edited conffiles.
    if [ -z "${SCIM_PACKAGE_TEST_FORCE:-}" ]; then
        die "$pkg is already installed on this machine; this test would purge it (set SCIM_PACKAGE_TEST_FORCE=1 to allow that)"
    fi
    echo "$pkg was installed before: purging it first (SCIM_PACKAGE_TEST_FORCE)"
    policy_on; DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$pkg" >/dev/null; policy_off
fi
policy_on
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$deb" >"$art/install.log" 2>&1; then
    ok "apt-get install ./$(basename "$deb")"
else
    cat "$art/install.log"
    die "apt-get install ./$(basename "$deb")"
fi
policy_off
check "the module is not enabled by installing it" [ ! -e /etc/apache2/mods-enabled/scim_provision.load ]
check "scimctl is on PATH and answers --help" bash -c "scimctl --help | grep -q 'scimctl.*migrate'"
check "man scimctl renders" bash -c "MANWIDTH=80 man scimctl 2>/dev/null | grep -q 'scimctl'"

phase "a2enmod scim_provision; apache2ctl -t"
a2enmod scim_provision 2>&1 | tee "$art/a2enmod.txt"
check "a2enmod enabled scim_provision" [ -L /etc/apache2/mods-enabled/scim_provision.load ]
check "a2enmod enabled dbd with it" [ -L /etc/apache2/mods-enabled/dbd.load ]
out=$(apache2ctl -t 2>&1)
echo "$out"
check "apache2ctl -t: Syntax OK (no tenant: inert)" grep -q 'Syntax OK' <<<"$out"
check "apache2ctl -M lists scim_provision_module and dbd_module" \
    bash -c "apache2ctl -M 2>/dev/null | grep -q scim_provision_module && apache2ctl -M 2>/dev/null | grep -q dbd_module"
# Apache::Test runs elsewhere on this machine inherit mods-enabled: enabled
# no longer than needed. The smoke tests below include the files directly.
a2dismod -q scim_provision >/dev/null
[ -z "$dbd_was_enabled" ] && a2dismod -q dbd >/dev/null

port=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0, ReuseAddr => 1)->sockport')
base="http://127.0.0.1:$port"
mkdir -p "$run/htdocs"
echo "package smoke test" >"$run/htdocs/index.html"
write_conf() { # write_conf EXTRA: the base configuration, then EXTRA
    cat >"$httpd_conf" <<CONF
ServerRoot /etc/apache2
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $run/httpd.pid
DefaultRuntimeDir $run
ErrorLog $run/error.log
LogLevel warn scim_provision:info
User $user
Group $user
DocumentRoot $run/htdocs
Include /etc/apache2/mods-available/mpm_event.load
Include /etc/apache2/mods-available/authz_core.load
Include /etc/apache2/mods-available/authn_core.load
Include /etc/apache2/mods-available/authn_file.load
Include /etc/apache2/mods-available/auth_basic.load
Include /etc/apache2/mods-available/authz_user.load
Include /etc/apache2/mods-available/dbd.load
# the installed package's files, as a2enmod would include them
Include /etc/apache2/mods-available/scim_provision.load
Include /etc/apache2/mods-available/scim_provision.conf
$1
CONF
}
httpd_start() {
    rm -f "$run/httpd.pid"
    /usr/sbin/apache2 -f "$httpd_conf" -k start || return 1
    for _ in $(seq 100); do
        [ -f "$run/httpd.pid" ] && curl -s -o /dev/null "$base/" && return 0
        sleep 0.1
    done
    return 1
}
status_of() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

phase "smoke test 1: the installed module with no tenant, on $base"
: >"$run/error.log"
write_conf ""
check "apache2 starts with the module and no tenant" httpd_start
check "it serves the site (200 for /index.html)" [ "$(status_of "$base/index.html")" = 200 ]
check "the module says it is inactive (SCIM00170)" grep -q "SCIM00170" "$run/error.log"
httpd_stop
check "no error in the error log" bash -c "! grep -E '\[(\w+:)?(error|crit|alert|emerg)\]' '$run/error.log'"
cp "$run/error.log" "$art/error-inert.log"

phase "smoke test 2: a tenant, a private PostgreSQL, a token"
mkdir -p "$run/pg"
chown "$user": "$run/pg"
pgport=5433
if as_user bash -c ". '$work/src/scripts/lib.sh'; scim_pg_start '$run/pg' $pgport"; then
    ok "private PostgreSQL started (as $user)"
else
    die "private PostgreSQL did not start"
fi
db="host=$run/pg port=$pgport dbname=scim user=scim"
check "scimctl migrate" as_user scimctl --db "$db" migrate
check "scimctl keygen" scimctl keygen --kid pkg-test "$run/keys.jwks"
check "scimctl tenant add acme" as_user scimctl --db "$db" tenant add acme "Acme Corp"
check "scimctl admin add alice" as_user scimctl --db "$db" admin add --tenant acme --email alice@acme.example alice
pass=$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
printf '%s\n' "$pass" | htpasswd -icB "$run/admins.htpasswd" alice >/dev/null 2>&1
chown "$user": "$run/admins.htpasswd"
: >"$run/error.log"
write_conf "DBDriver pgsql
DBDParams \"host=$run/pg port=$pgport dbname=scim user=scim connect_timeout=5\"
DBDMin 0
SCIMTokenKeyFile $run/keys.jwks
SCIMTokenIssuer $base/scim
<Location /t/acme/scim/v2>
    SetHandler scim-provision
    SCIMTenant acme
</Location>
<Location /t/acme/provisioning>
    SetHandler scim-provision-admin
    SCIMTenant acme
    AuthType Basic
    AuthName \"acme administrators\"
    AuthUserFile $run/admins.htpasswd
    Require valid-user
</Location>"
check "apache2 -t with a tenant: Syntax OK" bash -c "/usr/sbin/apache2 -t -f '$httpd_conf' 2>&1 | grep -q 'Syntax OK'"
check "apache2 starts with the tenant" httpd_start
check "the page is served from the installed files (default SCIMAssetsDir)" \
    bash -c "curl -fsS -u 'alice:$pass' '$base/t/acme/provisioning/' | grep -qi '<html'"
check "the admin page wants a login (401)" [ "$(status_of "$base/t/acme/provisioning/")" = 401 ]
api="$base/t/acme/provisioning/api/identity-providers"
idp=$(curl -fsS -u "alice:$pass" -H 'Content-Type: application/json' \
      -d '{"type":"okta","name":"Package Okta"}' "$api" \
      | perl -MJSON::PP -0ne 'print decode_json($_)->{id} // ""' 2>/dev/null)
check "admin API: identity provider created" [ -n "$idp" ]
tok=$(curl -fsS -u "alice:$pass" -H 'Content-Type: application/json' -X POST "$api/$idp/tokens" \
      | perl -MJSON::PP -0ne 'print decode_json($_)->{token} // ""' 2>/dev/null)
check "admin API: provisioning token created" [ -n "$tok" ]
spc=$(curl -sS -H "Authorization: Bearer $tok" -w '\n%{http_code}' "$base/t/acme/scim/v2/ServiceProviderConfig")
check "the token reads /ServiceProviderConfig (200)" [ "$(tail -n 1 <<<"$spc")" = 200 ]
check "/ServiceProviderConfig is the SCIM resource" \
    grep -q 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig' <<<"$spc"
check "without the token: 401" [ "$(status_of "$base/t/acme/scim/v2/ServiceProviderConfig")" = 401 ]
forged=${tok%?}A
[ "$forged" = "$tok" ] && forged=${tok%?}B
check "with a forged token: 401" \
    [ "$(status_of -H "Authorization: Bearer $forged" "$base/t/acme/scim/v2/ServiceProviderConfig")" = 401 ]
httpd_stop
check "the module started with its key (SCIM00003)" grep -q "SCIM00003" "$run/error.log"
check "no error in the error log" bash -c "! grep -E '\[(\w+:)?(error|crit|alert|emerg)\]' '$run/error.log'"
check "the token is not in the error log" bash -c "! grep -qF '$tok' '$run/error.log'"
pg_stop

phase "purge"
policy_on
if DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$pkg" >"$art/purge.log" 2>&1; then
    ok "apt-get purge $pkg"
else
    cat "$art/purge.log"; nok "apt-get purge $pkg"
fi
policy_off
check "dpkg no longer knows $pkg" bash -c "! dpkg-query -W -f='\${Status}' '$pkg' 2>/dev/null | grep -q 'install\|config-files'"
left=""
while read -r f; do
    f=${f#.}
    [ -d "$f" ] && continue # shared directories (/usr/bin, …) stay
    [ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done < <(awk '$1 !~ /^d/ {print $2}' "$art/contents.txt")
for f in /etc/apache2/mods-enabled/scim_provision.load /etc/apache2/mods-enabled/scim_provision.conf \
         /usr/share/mod_scim_provision /usr/share/doc/$pkg; do
    [ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done
check "every file of the package is gone${left:+ (left:$left)}" [ -z "$left" ]

[ "$failed" = 0 ]
