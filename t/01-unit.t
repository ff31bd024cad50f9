# The C unit tests of the core (libcheck, TAP), run by this harness so that
# one summary covers everything.
use strict;
use warnings FATAL => 'all';
my $bin = "$ENV{SCIM_TEST_ROOT}/test/unit/test_core";
-x $bin or do { print "1..1\nnot ok 1 - $bin is built (make check_PROGRAMS)\n"; exit 0 };
exec $bin or die "exec $bin: $!";
