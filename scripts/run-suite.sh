#!/usr/bin/env bash
# Runs the Apache::Test suite (which includes the unit and browser tests) on a
# built tree, as an unprivileged user, with a private PostgreSQL that is
# stopped again on exit. Ends with the harness's summary.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. scripts/lib.sh

run="$here/t/run"
pg=$(mktemp -d /tmp/scimpg.XXXXXX)
rm -rf "$run"
mkdir -p "$run" "$run/mail"   # $run/mail: captured reminder mail (t/bin/capture-mail)
cleanup() {
    [ -x t/TEST ] && t/TEST -stop-httpd >/dev/null 2>&1 || true
    scim_pg_stop "$pg"
    rm -rf "$pg"
}
trap cleanup EXIT

echo "== PostgreSQL (private, unix socket $pg)"
scim_pg_start "$pg" 5433
export SCIM_TEST_PGHOST=$pg SCIM_TEST_PGPORT=5433 SCIM_TEST_RUN=$run SCIM_TEST_ROOT=$here
export SCIMCTL_DB="host=$pg port=5433 dbname=scim user=scim"
export SCIM_APXS_LIBEXECDIR=$(apxs -q LIBEXECDIR)

echo "== fixtures"
./scimctl migrate
./scimctl migrate | grep -q "already at version"   # idempotent
./scimctl keygen --kid test-2026a "$run/keys.jwks" >/dev/null
./scimctl keygen --kid test-2026b "$run/keys.jwks" >/dev/null
for t in acme:"Acme Corp" globex:"Globex" initech:"Initech" hostile:"Hostile Traffic"; do
    ./scimctl tenant add "${t%%:*}" "${t#*:}" >/dev/null
done
./scimctl admin add --system --email root@example.com sysadmin >/dev/null
./scimctl admin add --tenant acme --email alice@acme.example alice >/dev/null
./scimctl admin add --tenant acme --email alex@acme.example alex >/dev/null
./scimctl admin add --tenant globex --email bob@globex.example bob >/dev/null
./scimctl admin add --tenant initech --email carol@initech.example carol >/dev/null
./scimctl admin add --tenant hostile --email hal@hostile.example hal >/dev/null
: >"$run/sso.htpasswd"
: >"$run/admins.htpasswd"
for u in sysadmin alice alex bob carol mallory hal; do
    htpasswd -bm "$run/admins.htpasswd" "$u" "pw-$u" >/dev/null 2>&1
done

echo "== Apache::Test"
mkdir -p test-artifacts
perl t/TEST.PL -apxs "$(command -v apxs)" -clean >/dev/null 2>&1 || true
set +e
perl t/TEST.PL -apxs "$(command -v apxs)" -port select "$@" 2>&1 | tee test-artifacts/suite.log
rc=${PIPESTATUS[0]}
set -e
cp t/logs/error_log test-artifacts/error_log 2>/dev/null || true
# One closing line that counts every test of the run.
total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' test-artifacts/suite.log | tail -n 1)
failed=$(sed -n 's/^Failed [0-9]*\/[0-9]* test programs\. \([0-9]*\)\/[0-9]* subtests failed\./\1/p' test-artifacts/suite.log | tail -n 1)
total=${total:-0}
failed=${failed:-0}
if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
passed=$((total - failed))
[ "$passed" -lt 0 ] && passed=0
echo "$passed passed, $failed failed"
exit "$rc"
