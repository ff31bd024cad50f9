# Two httpd servers on one database (SPEC 8): nothing in httpd memory is
# authoritative. A token deleted through one server fails at once on the
# other; the two-token limit and userName uniqueness hold when parallel
# requests are split between the servers.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use JSON::PP ();
use LWP::UserAgent ();
use HTTP::Request ();
use POSIX ();
use ScimTest;
use ScimHttpd;

my $srv = start_httpd(dir => run_dir() . '/second-tokens',
                      dbparams => "host=$ENV{SCIM_TEST_PGHOST} port=$ENV{SCIM_TEST_PGPORT} dbname=scim "
                                  . 'user=scim connect_timeout=5');
my ($dir, $port, $pid) = @$srv{qw(dir port pid)};
ok($pid, "second httpd runs (pid " . ($pid // 'none') . ", port $port)") or diag $srv->{out};

my $A = base_url();
my $B = "http://127.0.0.1:$port";
my $json = JSON::PP->new->canonical;

sub req {
    my ($base, $method, $path, %o) = @_;
    my $r = HTTP::Request->new($method => "$base$path");
    $r->authorization_basic($o{user}, "pw-$o{user}") if $o{user};
    $r->header(Authorization => $o{auth}) if $o{auth};
    if ($o{body}) {
        $r->header('Content-Type' => 'application/json');
        $r->content($json->encode($o{body}));
    }
    my $res = LWP::UserAgent->new(timeout => 30)->request($r);
    return ($res, eval { $json->decode($res->decoded_content) });
}

# --- revocation is immediate on the other server
my $idp = new_idp('alice', 'acme', 'okta', 'Two servers');
my ($res, $t) = req($A, 'POST', "/t/acme/provisioning/api/identity-providers/$idp/tokens", user => 'alice', body => {});
is($res->code, 201, 'token created through server A');
my $auth = "Bearer $t->{token}";
($res) = req($B, 'GET', '/t/acme/scim/v2/ServiceProviderConfig', auth => $auth);
is($res->code, 200, 'it works on server B');
($res) = req($A, 'GET', '/t/acme/scim/v2/ServiceProviderConfig', auth => $auth);
is($res->code, 200, 'and on server A');
($res) = req($B, 'DELETE', "/t/acme/provisioning/api/identity-providers/$idp/tokens/$t->{id}", user => 'alex');
is($res->code, 204, 'deleted through server B');
($res) = req($A, 'GET', '/t/acme/scim/v2/ServiceProviderConfig', auth => $auth);
is($res->code, 401, 'the very next request on server A: 401');
($res) = req($B, 'GET', '/t/acme/scim/v2/ServiceProviderConfig', auth => $auth);
is($res->code, 401, 'and on server B: 401');

# --- parallel requests split between the servers
sub parallel {
    my ($n, $fn) = @_;
    my $rdir = "$dir/results-" . int(rand(1e9));
    mkdir $rdir;
    my @pids;
    for my $i (1 .. $n) {
        my $kid = fork() // die "fork: $!";
        if (!$kid) {
            my $code = $fn->($i % 2 ? $A : $B, $i);
            open(my $o, '>', "$rdir/$i") or POSIX::_exit(1);
            print $o $code;
            close $o;
            POSIX::_exit(0);
        }
        push @pids, $kid;
    }
    waitpid($_, 0) for @pids;
    my %codes;
    for my $i (1 .. $n) {
        open(my $in, '<', "$rdir/$i") or next;
        $codes{ scalar <$in> }++;
    }
    return \%codes;
}

my $idp2 = new_idp('alice', 'acme', 'entra', 'Two servers race');
my $codes = parallel(20, sub {
    my ($base) = @_;
    my ($r) = req($base, 'POST', "/t/acme/provisioning/api/identity-providers/$idp2/tokens", user => 'alice', body => {});
    return $r->code;
});
is($codes->{201}, 2, '20 creations split over two servers: exactly two 201');
is($codes->{409}, 18, 'and eighteen 409');
is(sql("SELECT count(*) FROM accounts WHERE idp_id = '$idp2'"), 1, 'one provisioning account');

(undef, my $t2) = req($A, 'POST', "/t/acme/provisioning/api/identity-providers/$idp/tokens", user => 'alice', body => {});
my $auth2 = "Bearer $t2->{token}";
my $name = 'Race.User.' . time() . '@acme.example';
$codes = parallel(20, sub {
    my ($base, $i) = @_;
    # the same userName, in a different case on every other request
    my ($r) = req($base, 'POST', '/t/acme/scim/v2/Users', auth => $auth2,
                  body => { schemas => ['urn:ietf:params:scim:schemas:core:2.0:User'],
                            userName => $i % 2 ? $name : uc $name });
    return $r->code;
});
is($codes->{201}, 1, '20 creations of one userName over two servers: one 201');
is($codes->{409}, 19, 'and nineteen 409 uniqueness');
is(sql("SELECT count(*) FROM accounts WHERE lower(user_name) = lower('$name')"), 1, 'one user stored');

open(my $log, '<', "$dir/error_log") or die;
my @bad = grep { /\[scim_provision:(error|warn)\]/ } <$log>;
is(scalar @bad, 0, "no error or warning in the second server's log") or diag @bad;
done_testing();
