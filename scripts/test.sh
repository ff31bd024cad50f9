#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine, as root or as a user:
#   installs what is missing (root), builds, starts a private PostgreSQL and a
#   real httpd with the module (Apache::Test), runs the C unit tests, the HTTP
#   suite and the browser tests, stops everything it started.
# Apache::Test and PostgreSQL refuse root, so as root the tree is copied to a
# build directory owned by the unprivileged user "scimtest" and run there.
# --sanitizers (or SCIM_SANITIZE=1): the same on a build with ASan and UBSan
# (./configure --enable-sanitizers); any sanitizer report fails the run.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"
if [ "${1:-}" = --sanitizers ]; then
    export SCIM_SANITIZE=1
    shift
fi
[ "${SCIM_SANITIZE:-}" = 1 ] || SCIM_SANITIZE=""

if [ "$(id -u)" = 0 ]; then
    scim_install_packages chromium
    command -v node >/dev/null 2>&1 || scim_install_packages nodejs npm
    scim_locale de_DE.UTF-8
    id scimtest >/dev/null 2>&1 || useradd --system --create-home --shell /bin/bash scimtest
    # one build directory per checkout, so that two checkouts can test at once
    work=${SCIM_TEST_DIR:-/var/tmp/mod_scim_provision-test-$(printf %s "$here" | md5sum | cut -c1-8)}
    rm -rf "$work"
    scim_copy_tree "$here" "$work"
    chown -R scimtest: "$work"
    set +e
    runuser -u scimtest -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/scimtest \
        LANG=C.UTF-8 CI="${CI:-}" SCIM_SANITIZE="${SCIM_SANITIZE:-}" \
        ${HOSTILE_SEED:+HOSTILE_SEED="$HOSTILE_SEED"} ${HOSTILE_ONLY:+HOSTILE_ONLY="$HOSTILE_ONLY"} \
        ${HOSTILE_COUNT:+HOSTILE_COUNT="$HOSTILE_COUNT"} ${HOSTILE_BUDGET:+HOSTILE_BUDGET="$HOSTILE_BUDGET"} \
        ${SCIM_PG_EXTRA_OPTS:+SCIM_PG_EXTRA_OPTS="$SCIM_PG_EXTRA_OPTS"} bash "$work/scripts/test.sh" "$@"
    rc=$?
    set -e
    rm -rf "$here/test-artifacts"
    [ -d "$work/test-artifacts" ] && cp -r "$work/test-artifacts" "$here/test-artifacts"
    exit $rc
fi

cd "$here"
scim_install_packages
echo "== build${SCIM_SANITIZE:+ (ASan + UBSan)}"
scim_build
mkdir -p test-artifacts
exec bash scripts/run-suite.sh "$@"
