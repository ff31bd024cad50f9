# Every fuzz target's seed corpus (test/fuzz/corpus/<name>/) replayed through
# its standalone program test/fuzz/replay_<name> (built by `make check`),
# so that each input a campaign ever found stays fixed, in this suite's
# summary. One test per test/fuzz/fuzz_*.c: a target without a program or
# a corpus fails too.
use strict;
use warnings FATAL => 'all';
my $root = $ENV{SCIM_TEST_ROOT} or die "SCIM_TEST_ROOT is not set\n";
$ENV{FUZZ_BUILDDIR} = $ENV{FUZZ_SRCDIR} = $root;
delete $ENV{FUZZ_TARGETS};
exec 'sh', "$root/test/fuzz/replay-all.sh" or die "exec replay-all.sh: $!";
