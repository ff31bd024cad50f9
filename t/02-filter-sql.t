# The filter compiler's SQL proven on a real PostgreSQL (a private cluster of
# its own): hand-checked filters, sortBy orders, and thousands of generated
# filters whose SQL result must equal the in-memory matcher's.
use strict;
use warnings FATAL => 'all';
use Test::More;
use ScimTest;

my $script = root_dir() . '/test/unit/filter_sql_check.sh';
my $out = `sh '$script' 2>&1`;
my $rc = $? >> 8;
my ($checks, $failures) = $out =~ /^(?:PASS|FAIL): (\d+) checks, (\d+) failures$/m;
ok(defined $checks && $checks > 1000, 'filter_sql_check ran (' . ($checks // 'no') . ' checks)')
    or diag $out;
is($failures, 0, 'SQL and the in-memory matcher agree on every filter') or diag $out;
is($rc, 0, 'filter_sql_check exited 0');
done_testing();
