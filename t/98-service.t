# The SCIM service without httpd (issue 8): test/service/service_check.c
# links the core, the store and the service (mod_scim_provision/scim_*.c)
# and calls get, list, create, replace, patch, delete, Bulk and discovery on
# the suite's private PostgreSQL with a real provisioning token: a token the
# store refuses is a 401 with nothing written, If-Match mismatches are 412,
# group PATCH changes members as deltas (204 + ETag), Bulk resolves bulkIds.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use ScimTest;

my ($root, $run) = (root_dir(), run_dir());
my $bin = "$run/service_check";
my @src = grep { !/scim_migrations\.c$/ } glob("$root/mod_scim_provision/scim_*.c");
my $cc = "cc -std=gnu99 -Wall -Wextra -Werror -I$root/mod_scim_provision "
    . '$(pkg-config --cflags apr-1 apr-util-1 libpq jansson libcrypto) '
    . "-o $bin $root/test/service/service_check.c @src "
    . '$(pkg-config --libs apr-1 apr-util-1 libpq jansson libcrypto)';
my $out = `$cc 2>&1`;
is($?, 0, 'test/service/service_check.c builds with the core, store and service') or diag $out;

my (undef, $tok) = scim_auth('alice', 'acme', 'entra', 'Service check');
my $conninfo = "host=$ENV{SCIM_TEST_PGHOST} port=$ENV{SCIM_TEST_PGPORT} dbname=scim user=scim";
$out = `'$bin' '$conninfo' acme '$tok->{token}' 2>&1`;
is($? & 127, 0, 'service_check did not crash') or diag $out;
my @tap = $out =~ /^((?:not )?ok \d+ - .*)$/mg;
ok(@tap >= 40, 'service_check ran its ' . scalar(@tap) . ' checks') or diag $out;
ok($_ !~ /^not/, "service_check: $_") for @tap;
is($? >> 8, 0, 'service_check exited 0') or diag $out;
done_testing();
