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
    # PostgreSQL's own log goes with the suite's (test-artifacts/)
    mkdir -p "$here/test-artifacts" && cp "$pg/postgres.log" "$here/test-artifacts/" 2>/dev/null || true
    rm -rf "$pg"
}
trap cleanup EXIT

echo "== PostgreSQL (private, unix socket $pg)"
scim_pg_start "$pg" 5433
export SCIM_TEST_PGHOST=$pg SCIM_TEST_PGPORT=5433 SCIM_TEST_RUN=$run SCIM_TEST_ROOT=$here
export SCIMCTL_DB="host=$pg port=5433 dbname=scim user=scim"
export SCIM_APXS_LIBEXECDIR=$(apxs -q LIBEXECDIR)

# SCIM_SANITIZE=1 (scripts/test.sh --sanitizers) on a build made with
# ./configure --enable-sanitizers. The programs built with ASan and UBSan
# (scimctl, with leak detection, the unit tests, the corpus replays) write
# their reports to test-artifacts/sanitizer/; httpd, which is not built with
# them, gets ASan's runtime preloaded (only httpd: perl, psql, node and
# chromium stay as they are) and writes reports to its stderr, which is the
# error log. Every report fails the run (checked after the suite, and by
# t/zz-error-log.t in the error log).
httpd_opt=()
san="$here/test-artifacts/sanitizer"
if [ "${SCIM_SANITIZE:-}" = 1 ]; then
    asan=$(ldd .libs/mod_scim_provision.so | awk '/libasan/ { print $3 }')
    if [ -z "$asan" ]; then
        echo "SCIM_SANITIZE=1, but the module is not built with ./configure --enable-sanitizers" >&2
        exit 1
    fi
    rm -rf "$san"
    mkdir -p "$san"
    export ASAN_OPTIONS="detect_leaks=1:log_path=$san/asan:print_summary=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$san/ubsan"
    # libcheck's per-test time limit, for code running 2-3 times slower
    export CK_TIMEOUT_MULTIPLIER=5
    # httpd frees its pools at exit, not its process memory: no leak check.
    cat >"$run/httpd-sanitized" <<EOF
#!/bin/sh
# httpd with ASan's runtime first, for the module built with ASan + UBSan
export LD_PRELOAD="$asan"
export ASAN_OPTIONS="detect_leaks=0:print_summary=1"
export UBSAN_OPTIONS="print_stacktrace=1"
exec "$(apxs -q SBINDIR)/$(apxs -q TARGET)" "\$@"
EOF
    chmod +x "$run/httpd-sanitized"
    httpd_opt=(-httpd "$run/httpd-sanitized")
fi

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
perl t/TEST.PL -apxs "$(command -v apxs)" "${httpd_opt[@]}" -port select "$@" 2>&1 | tee test-artifacts/suite.log
rc=${PIPESTATUS[0]}
set -e
cp t/logs/error_log test-artifacts/error_log 2>/dev/null || true
if [ "${SCIM_SANITIZE:-}" = 1 ]; then
    reports=$(ls "$san")
    logged=$(grep -cE 'AddressSanitizer|LeakSanitizer|runtime error:|ERROR: [A-Za-z]*Sanitizer' \
        test-artifacts/error_log 2>/dev/null || true)
    if [ -n "$reports" ] || [ "${logged:-0}" != 0 ]; then
        for f in $reports; do echo "== $san/$f"; head -n 40 "$san/$f"; done
        [ "${logged:-0}" = 0 ] || grep -E -A20 'AddressSanitizer|LeakSanitizer|runtime error:' \
            test-artifacts/error_log | head -n 60
        echo "sanitizer reports: $(printf '%s\n' $reports | grep -c .) file(s) in $san," \
            "${logged:-0} line(s) in the error log"
        rc=1
    else
        echo "sanitizers: no report (ASan + UBSan in httpd, scimctl with LeakSanitizer)"
    fi
fi
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
