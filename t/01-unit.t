# The C unit tests of the core (libcheck, TAP), run by this harness so that
# one summary covers everything.
use strict;
use warnings FATAL => 'all';
my $bin = "$ENV{SCIM_TEST_ROOT}/test/unit/test_core";
-x $bin or do { print "1..1\nnot ok 1 - $bin is built (make check_PROGRAMS)\n"; exit 0 };
# libcheck's per-test hang guard (4 s by default) is meant for hangs, not
# for a busy machine: give it room so that only a real hang fails.
$ENV{CK_TIMEOUT_MULTIPLIER} //= 10;
exec $bin or die "exec $bin: $!";
