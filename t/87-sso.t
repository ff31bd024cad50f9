# Sign-in of provisioned accounts (SPEC 5.3): "Require scim-account acme" on
# /t/acme/app, with httpd's Basic auth against sso.htpasswd standing in for the
# site's SSO module. Active acme users get in; deactivated, deleted, other
# tenants' users, provisioning accounts, administrators and strangers get 403
# on the very next request.
use strict;
use warnings FATAL => 'all';
no warnings qw(uninitialized numeric);
use Test::More;
use Apache::Test ();
use JSON::PP ();
use LWP::UserAgent ();
use HTTP::Request ();
use ScimTest;

my ($res, $j);
my ($acme, $atok) = scim_auth('alice', 'acme', 'okta', 'SSO acme');
my ($globex) = scim_auth('bob', 'globex', 'okta', 'SSO globex');
my $tag = uniq_name('sso');
my $file = run_dir() . '/sso.htpasswd';
my $PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

sub htpasswd {
    my ($user, $pass) = @_;
    open(my $save, '>&', \*STDERR) or die $!;
    open(STDERR, '>', '/dev/null') or die $!;
    my $rc = system('htpasswd', '-bm', $file, $user, $pass);
    open(STDERR, '>&', $save) or die $!;
    $rc == 0 or die "htpasswd $user failed\n";
}
sub app {
    my ($user, $pass) = @_;
    my $req = HTTP::Request->new(GET => base_url() . '/t/acme/app/');
    $req->authorization_basic($user, $pass) if defined $user;
    my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
    return $ua->request($req)->code;
}
sub set_active {
    my ($id, $v) = @_;
    my ($r) = scim_req('acme', 'PATCH', "/Users/$id", $acme,
                       { schemas => [$PATCH], Operations => [{ op => 'replace', path => 'active', value => $v }] });
    return $r->code;
}

my $alive = "$tag-alive\@acme.test";
my ($u) = (scim_req('acme', 'POST', '/Users', $acme, user_body(userName => $alive, active => JSON::PP::true)))[1] // {};
ok($u->{id}, 'an active acme user');
htpasswd($alive, 'pw1');

# --- httpd's authentication comes first
is(app(undef), 401, 'no credentials: 401 from Basic auth');
is(app($alive, 'wrong'), 401, 'wrong password: 401');

# --- active user: authorized (the location has no content: 404 after authorization)
my $in = app($alive, 'pw1');
ok($in != 401 && $in != 403, "an active SCIM user is authorized ($in)");
is($in, 404, 'and reaches the (empty) location: 404 from the default handler');
is(app($alive, 'pw1'), $in, 'again, the same');

# --- deactivate, reactivate, with the very next request
is(set_active($u->{id}, JSON::PP::false), 200, 'deactivated over SCIM');
is(app($alive, 'pw1'), 403, 'deactivated: 403 on the next request');
is(app($alive, 'pw1'), 403, 'and stays 403');
is(set_active($u->{id}, JSON::PP::true), 200, 'reactivated');
is(app($alive, 'pw1'), $in, 'reactivated: authorized again');
is(set_active($u->{id}, 'False'), 200, 'deactivated with Entra\'s "False"');
is(app($alive, 'pw1'), 403, 'deactivated with "False": 403 on the next request');
($res) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $acme,
                  { schemas => [$PATCH], Operations => [{ op => 'replace', value => { active => JSON::PP::true } }] });
is(app($alive, 'pw1'), $in, "reactivated with Okta's path-less replace: authorized");
($res) = scim_req('acme', 'PUT', "/Users/$u->{id}", $acme, user_body(userName => $alive, active => JSON::PP::false));
is($res->code, 200, 'PUT with active false');
is(app($alive, 'pw1'), 403, 'deactivated by PUT: 403');
($res) = scim_req('acme', 'PUT', "/Users/$u->{id}", $acme, user_body(userName => $alive, active => JSON::PP::true));
is(app($alive, 'pw1'), $in, 'PUT with active true: authorized');

# --- the userName matches case-insensitively (userName is unique that way)
htpasswd(uc $alive, 'pw1');
is(app(uc $alive, 'pw1'), $in, 'the same user signing in with the upper-case name: authorized');

# --- renamed: the old name no longer gets in, the new one does
my $renamed = "$tag-renamed\@acme.test";
($res) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $acme,
                  { schemas => [$PATCH], Operations => [{ op => 'replace', path => 'userName', value => $renamed }] });
is($res->code, 200, 'userName changed');
htpasswd($renamed, 'pw1');
is(app($alive, 'pw1'), 403, 'the old userName: 403');
is(app($renamed, 'pw1'), $in, 'the new userName: authorized');

# --- deleted
($res) = scim_req('acme', 'DELETE', "/Users/$u->{id}", $acme);
is($res->code, 204, 'deleted over SCIM');
is(app($renamed, 'pw1'), 403, 'deleted: 403 on the next request');

# --- another tenant's user, the same name in both tenants
my $gname = "$tag-globex\@globex.test";
($res) = scim_req('globex', 'POST', '/Users', $globex, user_body(userName => $gname));
is($res->code, 201, 'a globex user');
htpasswd($gname, 'pw2');
is(app($gname, 'pw2'), 403, "globex's active user at acme's app: 403");
my $both = "$tag-both\@example.test";
($res) = scim_req('globex', 'POST', '/Users', $globex, user_body(userName => $both));
htpasswd($both, 'pw3');
is(app($both, 'pw3'), 403, 'a name that only globex has: 403');
my ($ab) = (scim_req('acme', 'POST', '/Users', $acme, user_body(userName => $both, active => JSON::PP::false)))[1] // {};
is(app($both, 'pw3'), 403, 'acme has it too but inactive: 403 (globex\'s active one does not count)');
is(set_active($ab->{id}, JSON::PP::true), 200, 'activate the acme one');
is(app($both, 'pw3'), $in, 'now authorized');

# --- a user created without "active" is active, and says so
{
    my $n = "$tag-default\@acme.test";
    my ($d) = (scim_req('acme', 'POST', '/Users', $acme, user_body(userName => $n)))[1] // {};
    htpasswd($n, 'pw7');
    my $code = app($n, 'pw7');
    my (undef, $b) = scim_req('acme', 'GET', "/Users/$d->{id}", $acme);
    is(($code == $in ? 'in' : 'out') . ',' . (exists(($b // {})->{active}) ? (($b->{active} ? 'true' : 'false')) : 'absent'),
       'in,true', 'created without active: signs in, and GET says active true (SCIM and sign-in agree)');
}

# --- provisioning account, administrators, strangers
htpasswd($atok->{userName}, 'pw4');
is(app($atok->{userName}, 'pw4'), 403, 'the provisioning account username: 403');
htpasswd('alice', 'pw5');
is(app('alice', 'pw5'), 403, 'an administrator: 403');
htpasswd("$tag-nobody", 'pw6');
is(app("$tag-nobody", 'pw6'), 403, 'a user unknown to SCIM: 403');

# --- the module logs no error or warning for these refusals (zz-error-log.t checks the log)
done_testing();
