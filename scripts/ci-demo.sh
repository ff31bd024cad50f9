#!/usr/bin/env bash
# CI (issue 9): the README's demo command, as root, in a fresh copy of the
# tree in a new 0700 directory. Checks what it prints: the page answers 200
# with the printed credentials, the printed curl line creates a token, the
# token reads /ServiceProviderConfig; a second run (the demo still running)
# works too and keeps the token valid; `scripts/demo.sh stop` leaves nothing
# running. Removes the copy and the demo's state. Ends with
# "demo: N passed, M failed" and exits non-zero on any failure.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"
[ "$(id -u)" = 0 ] || { echo "ci-demo.sh: run as root (the README's demo command is run as root)" >&2; exit 1; }

passed=0 failed=0
check() { # check NAME COMMAND...: one test
    if "${@:2}"; then passed=$((passed + 1)); echo "ok - $1"
    else failed=$((failed + 1)); echo "not ok - $1"; return 1; fi
}
finish() {
    echo "demo: $passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}

top=$(mktemp -d /root/scim-demo-ci.XXXXXX 2>/dev/null || mktemp -d /tmp/scim-demo-ci.XXXXXX)
chmod 700 "$top"
clone=$top/mod_scim_provision
state=
cleanup() {
    if [ -d "$clone" ]; then (cd "$clone" && scripts/demo.sh clean >/dev/null 2>&1) || true; fi
    rm -rf "$top"
}
trap cleanup EXIT

# A fresh clone when the tree is a clean git work tree, else a copy of its files.
if git -C "$here" rev-parse --is-inside-work-tree >/dev/null 2>&1 && [ -z "$(git -C "$here" status --porcelain)" ]; then
    git clone -q "$here" "$clone"
else
    scim_copy_tree "$here" "$clone"
fi
echo "== demo in $clone (directory mode $(stat -c %a "$top"))"

# run_demo N: scripts/demo.sh in the copy; sets url, user, pass, create, use, idp, state.
run_demo() {
    local out=$top/demo.$1.out rc
    (cd "$clone" && scripts/demo.sh) >"$out" 2>&1
    rc=$?
    cat "$out"
    url=$(sed -n 's/^ *Auto Provisioning Token page: *\([^ ]*\).*/\1/p' "$out")
    user=$(sed -n 's/^ *Administrator: *\([^ ]*\) \/ \([^ ]*\).*/\1/p' "$out")
    pass=$(sed -n 's/^ *Administrator: *\([^ ]*\) \/ \([^ ]*\).*/\2/p' "$out")
    create=$(sed -n 's/^ *\(curl .* -X POST .*\/tokens\)$/\1/p' "$out")
    use=$(sed -n 's/^ *\(curl .*Bearer <token>.*\)$/\1/p' "$out")
    idp=$(printf '%s\n' "$create" | sed -n 's/.*identity-providers\/\([^/]*\)\/tokens$/\1/p')
    state=$(sed -n 's/^Logs: *\([^ ]*\)\/logs\/.*/\1/p' "$out")
    [ "$rc" = 0 ] && [ -n "$url" ] && [ -n "$user" ] && [ -n "$pass" ] && [ -n "$create" ] \
        && [ -n "$use" ] && [ -n "$idp" ] && [ -n "$state" ]
}

page_ok() { # the page, as a browser asks for it, with the printed credentials
    local res
    res=$(curl -sS -m 30 -u "$user:$pass" -H 'Accept: text/html' -o "$top/page.html" \
          -w '%{http_code} %{content_type}' "$url") || return 1
    echo "   page: $res"
    [[ $res == "200 text/html"* ]] && grep -qi '<html' "$top/page.html"
}

create_ok() { # the printed curl line, as printed: 201 and a token
    local code
    code=$(bash -c "$create -sS -m 30 -o '$top/token.json' -w '%{http_code}'") || return 1
    token=$(perl -MJSON::PP -0777 -ne 'print decode_json($_)->{token} // ""' "$top/token.json" 2>/dev/null)
    echo "   token: $code, ${#token} bytes"
    [ "$code" = 201 ] && [ "${#token}" -gt 40 ]
}

spc_ok() { # the printed "use it" line with the token: /ServiceProviderConfig
    local code
    code=$(bash -c "${use//<token>/$token} -sS -m 30 -o '$top/spc.json' -w '%{http_code}'") || return 1
    echo "   ServiceProviderConfig: $code"
    [ "$code" = 200 ] && grep -q 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig' "$top/spc.json"
}

# demo_procs: the processes (not zombies) whose command line names the demo's
# state directory, its httpd and PostgreSQL ("pid: command"); fails if none.
# (/proc, as a fresh machine may have no procps.)
demo_procs() {
    local d found=1 args=()
    [ -n "$state" ] || return 1
    for d in /proc/[0-9]*; do
        { mapfile -d '' args <"$d/cmdline"; } 2>/dev/null || continue
        case "${args[*]}" in *"$state/"*) echo "${d#/proc/}: ${args[*]}"; found=0 ;; esac
    done
    return $found
}
stopped_ok() {
    local i port=${url#http://127.0.0.1:}
    port=${port%%/*}
    for i in $(seq 100); do demo_procs >/dev/null || break; sleep 0.1; done
    if demo_procs >/dev/null; then echo "   still running:"; demo_procs; return 1; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "   port $port still answers"; return 1; fi
}

check 'first run of scripts/demo.sh prints the page, credentials and curl lines' run_demo 1 || finish
first_idp=$idp first_pass=$pass
check 'the page answers 200 text/html with the printed credentials' page_ok
check 'the printed curl line creates a token (201)' create_ok
check 'the token reads /ServiceProviderConfig (200)' spc_ok
first_token=$token
check 'a second run, with the demo running, works too' run_demo 2
check 'the second run keeps the administrator and the provider' \
    test "$pass/$idp" = "$first_pass/$first_idp"
check 'the page answers 200 after the second run' page_ok
token=$first_token
check 'the first token still reads /ServiceProviderConfig' spc_ok
check 'scripts/demo.sh stop' bash -c "cd '$clone' && scripts/demo.sh stop"
check 'nothing the demo started is left running' stopped_ok
check 'scripts/demo.sh clean removes its state' \
    bash -c "cd '$clone' && scripts/demo.sh clean >/dev/null && [ ! -e '$state' ]"
finish
