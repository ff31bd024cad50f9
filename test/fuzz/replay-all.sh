#!/bin/sh
# Replays every fuzz target's corpus with its standalone program
# test/fuzz/replay_<name> (built by `make check`), as one TAP test per
# target. Run by `make check` (TESTS) and by t/03-fuzz-corpus.t.
#   FUZZ_TARGETS  the names (default: every test/fuzz/fuzz_*.c)
#   FUZZ_BUILDDIR the build tree (default: the current directory)
#   FUZZ_SRCDIR   the source tree, for the corpora (default: FUZZ_BUILDDIR)
dir=$(cd "$(dirname "$0")" && pwd)
build=${FUZZ_BUILDDIR:-.}
src=${FUZZ_SRCDIR:-$build}
targets=${FUZZ_TARGETS:-$(cd "$dir" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')}
set -- $targets
echo "1..$#"
i=0
rc=0
for t in "$@"; do
    i=$((i + 1))
    prog=$build/test/fuzz/replay_$t
    corpus=$src/test/fuzz/corpus/$t
    if [ ! -x "$prog" ]; then
        echo "not ok $i - $t: $prog is not built (make check)"
        rc=1
    elif [ ! -d "$corpus" ] || [ -z "$(ls "$corpus")" ]; then
        echo "not ok $i - $t: no seed corpus in $corpus"
        rc=1
    elif out=$("$prog" "$corpus" 2>&1); then
        echo "ok $i - $t: $(printf '%s\n' "$out" | sed -n 's/^ok 1 - //p')"
    else
        echo "not ok $i - $t: replaying $corpus failed"
        printf '%s\n' "$out" | tail -n 40 | sed 's/^/# /'
        rc=1
    fi
done
exit $rc
