# A database outage (SPEC 8): 503 with Retry-After and the right error body
# on both surfaces, no crash, and recovery by itself when the database is
# back; a write answered 2xx before the outage is still there after it.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use ScimTest;

my $pg = $ENV{SCIM_TEST_PGHOST};
my $log = Apache::Test::vars('t_logs') . '/error_log';
my $idp = new_idp('alice', 'acme', 'okta', 'Outage Okta');
(undef, my $tok) = create_token('alice', 'acme', $idp);
my $auth = "Bearer $tok->{token}";
my ($res, $j) = scim_req('acme', 'POST', '/Users', $auth,
                         { schemas => ['urn:ietf:params:scim:schemas:core:2.0:User'],
                           userName => 'outage.survivor@acme.example' });
is($res->code, 201, 'a user written before the outage');
my $id = ($j // {})->{id} // '';

# The module logs errors while the database is away: t/zz-error-log.t skips
# the lines between these two offsets.
my $from = -s $log;
my $root = root_dir();
system("bash -c '. $root/scripts/lib.sh; scim_pg_stop $pg'") == 0 or die 'pg stop';

($res, $j) = scim_req('acme', 'GET', "/Users/$id", $auth);
is($res->code, 503, 'SCIM request during the outage: 503');
is($res->header('Retry-After'), '5', 'with Retry-After');
is(($j // {})->{schemas}[0], 'urn:ietf:params:scim:api:messages:2.0:Error', 'and a SCIM Error body');
is(($j // {})->{status}, '503', 'status as a string');
($res, $j) = admin_req('alice', 'GET', 'acme', 'api/identity-providers');
is($res->code, 503, 'admin API during the outage: 503');
ok(($j // {})->{message}, 'with a JSON message');
is($res->header('Retry-After'), '5', 'and Retry-After');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth,
                      { schemas => ['urn:ietf:params:scim:schemas:core:2.0:User'],
                        userName => 'outage.lost@acme.example' });
is($res->code, 503, 'a write during the outage is refused, not pretended');

system("bash -c '. $root/scripts/lib.sh; scim_pg_start $pg $ENV{SCIM_TEST_PGPORT}'") == 0 or die 'pg start';
my $code = 0;
for (1 .. 20) {
    ($res, $j) = scim_req('acme', 'GET', "/Users/$id", $auth);
    $code = $res->code;
    last if $code == 200;
    select(undef, undef, undef, 0.25);
}
is($code, 200, 'the module recovers by itself when the database is back');
is(($j // {})->{userName}, 'outage.survivor@acme.example', 'the earlier write is intact');
($res, $j) = scim_req('acme', 'GET', '/Users?filter=' . 'userName%20eq%20%22outage.lost@acme.example%22', $auth);
for (1 .. 20) {
    last if $res->code == 200;
    select(undef, undef, undef, 0.25);
    ($res, $j) = scim_req('acme', 'GET', '/Users?filter=' . 'userName%20eq%20%22outage.lost@acme.example%22', $auth);
}
is(($j // {})->{totalResults}, 0, 'the refused write was not stored');
# every pooled connection works again
my $ok = 0;
for (1 .. 30) {
    ($res) = admin_req('alice', 'GET', 'acme', 'api/identity-providers');
    $ok++ if $res->code == 200;
}
cmp_ok($ok, '>=', 28, "admin API after recovery: $ok/30 answered 200");
my $to = -s $log;
open(my $fh, '>', run_dir() . '/outage-window') or die;
print $fh "$from $to\n";
close $fh;
done_testing();
