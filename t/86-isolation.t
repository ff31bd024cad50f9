# Tenant isolation and what is not a SCIM resource (issue 3 point 4): another
# tenant's ids answer exactly like unknown ids, filters never cross tenants,
# provisioning accounts and administrators are not Users, externalId never
# addresses an internal account.
use strict;
use warnings FATAL => 'all';
no warnings qw(uninitialized numeric);
use Test::More;
use Apache::Test ();
use JSON::PP ();
use ScimTest;

my ($res, $j);
my ($acme, $atok) = scim_auth('alice', 'acme', 'okta', 'Isolation acme');
my ($globex, $gtok) = scim_auth('bob', 'globex', 'entra', 'Isolation globex');
my ($initech, $itok) = scim_auth('carol', 'initech', 'okta', 'Isolation initech');
my $tag = uniq_name('i86');
my $UNKNOWN = '00000000-0000-4000-8000-00000000abcd';
my $PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

# --- tokens are per tenant
for my $ep ('/Users', '/Groups', '/ServiceProviderConfig', '/Schemas', '/Bulk') {
    ($res, $j) = scim_req('globex', 'GET', $ep, $acme);
    is($res->code, 401, "acme's token at globex $ep: 401");
    ($res, $j) = scim_req('acme', 'GET', $ep, $initech);
    is($res->code, 401, "initech's token at acme $ep: 401");
}
($res, $j) = scim_req('globex', 'POST', '/Users', $acme, user_body(userName => "$tag-cross"));
is($res->code, 401, "acme's token cannot create at globex");
is(sql("SELECT count(*) FROM accounts WHERE user_name = '$tag-cross'"), 0, 'nothing written');

# --- fixtures: the same userName in two tenants is allowed
my ($ga) = (scim_req('globex', 'POST', '/Users', $globex,
                     user_body(userName => "$tag-shared", externalId => "X-$tag", title => 'globex only', active => JSON::PP::true)))[1] // {};
ok($ga->{id}, 'globex user');
my ($aa) = (scim_req('acme', 'POST', '/Users', $acme, user_body(userName => "$tag-shared", externalId => "X-$tag")))[1] // {};
ok($aa->{id}, 'acme user with the same userName and externalId: created (uniqueness is per tenant)');
isnt($aa->{id}, $ga->{id}, 'a different id');
my ($gg) = (scim_req('globex', 'POST', '/Groups', $globex, group_body(displayName => "G $tag", members => [{ value => $ga->{id} }])))[1] // {};
ok($gg->{id}, 'globex group');

# --- another tenant's ids answer exactly like unknown ids
sub same_404 {
    my ($method, $path_other, $path_unknown, $body, $name, @ids) = @_;
    my ($r1, $b1) = scim_req('acme', $method, $path_other, $acme, $body);
    my ($r2, $b2) = scim_req('acme', $method, $path_unknown, $acme, $body);
    is($r1->code, 404, "$name: 404");
    is_deeply(scim_bodies_shape($b1, @ids), scim_bodies_shape($b2, $UNKNOWN), "$name: the same body as an unknown id");
    is(join(',', sort grep { !/^(Date|Client-|Content-Length)/ } $r1->headers->header_field_names),
       join(',', sort grep { !/^(Date|Client-|Content-Length)/ } $r2->headers->header_field_names),
       "$name: the same headers");
}
same_404('GET', "/Users/$ga->{id}", "/Users/$UNKNOWN", undef, "GET globex's user at acme", $ga->{id});
same_404('PUT', "/Users/$ga->{id}", "/Users/$UNKNOWN", user_body(userName => "$tag-stolen"), "PUT globex's user", $ga->{id});
same_404('PATCH', "/Users/$ga->{id}", "/Users/$UNKNOWN",
         patch_body({ op => 'replace', path => 'active', value => JSON::PP::false }), "PATCH globex's user", $ga->{id});
same_404('DELETE', "/Users/$ga->{id}", "/Users/$UNKNOWN", undef, "DELETE globex's user", $ga->{id});
same_404('GET', "/Groups/$gg->{id}", "/Groups/$UNKNOWN", undef, "GET globex's group", $gg->{id});
same_404('PATCH', "/Groups/$gg->{id}", "/Groups/$UNKNOWN",
         patch_body({ op => 'add', path => 'members', value => [{ value => $aa->{id} }] }), "PATCH globex's group", $gg->{id});
same_404('DELETE', "/Groups/$gg->{id}", "/Groups/$UNKNOWN", undef, "DELETE globex's group", $gg->{id});
($res, $j) = scim_req('globex', 'GET', "/Users/$ga->{id}", $globex);
is(($j // {})->{title}, 'globex only', "globex's user untouched");
ok(($j // {})->{active}, 'still active');
is(($j // {})->{userName}, "$tag-shared", 'same userName');
($res, $j) = scim_req('globex', 'GET', "/Groups/$gg->{id}", $globex);
is_deeply([map { $_->{value} } @{ ($j // {})->{members} // [] }], [$ga->{id}], "globex's group untouched");

# --- filters never return another tenant's rows
for my $f (qq{id eq "$ga->{id}"}, qq{externalId eq "X-$tag"}, qq{userName eq "$tag-shared"}, qq{title eq "globex only"},
           qq{userName sw "$tag"}, qq{meta.created pr}) {
    my ($r, $b) = list_names('acme', $acme, '/Users', $f);
    ok(!(grep { $_->{id} eq $ga->{id} } @{ ($b // {})->{Resources} // [] }), "acme filter '$f' never returns globex's user");
}
(undef, $j) = list_names('acme', $acme, '/Users', qq{id eq "$ga->{id}"});
is(($j // {})->{totalResults}, 0, "id eq globex's id: 0 at acme");
(undef, $j) = list_names('acme', $acme, '/Users', qq{userName eq "$tag-shared"});
is(($j // {})->{totalResults}, 1, 'the shared userName: only acme\'s user');
is(($j // {})->{Resources}[0]{id}, $aa->{id}, 'which is acme\'s');
(undef, $j) = list_names('acme', $acme, '/Groups', qq{displayName eq "G $tag"}, 'displayName');
is(($j // {})->{totalResults}, 0, "globex's group not found at acme");
(undef, $j) = list_names('acme', $acme, '/Groups', qq{members.value eq "$ga->{id}"}, 'displayName');
is(($j // {})->{totalResults}, 0, "groups by globex's member: 0 at acme");
{
    my $want = sql("SELECT count(*) FROM accounts a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = 'acme' AND a.kind = 'user'");
    my ($r, $b) = scim_req('acme', 'GET', '/Users?count=0', $acme);
    is(($b // {})->{totalResults}, $want, "unfiltered totalResults = acme's user count ($want)");
    my $wantg = sql("SELECT count(*) FROM groups g JOIN tenants t ON t.id = g.tenant_id WHERE t.slug = 'acme'");
    ($r, $b) = scim_req('acme', 'GET', '/Groups?count=0', $acme);
    is(($b // {})->{totalResults}, $wantg, "unfiltered Groups totalResults = acme's group count ($wantg)");
    ($r, $b) = scim_req('acme', 'POST', '/.search', $acme,
                        { schemas => ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter => qq{externalId eq "X-$tag"} });
    is_deeply([map { $_->{id} } @{ ($b // {})->{Resources} // [] }], [$aa->{id}], 'root .search stays in the tenant');
}

# --- membership never crosses tenants
($res, $j) = scim_req('acme', 'POST', '/Groups', $acme, group_body(displayName => "A $tag", members => [{ value => $ga->{id} }]));
is_scim_error($res, $j, 400, 'invalidValue', "acme group with globex's user: 400 invalidValue");
($res, $j) = scim_req('globex', 'PATCH', "/Groups/$gg->{id}", $globex,
                      patch_body({ op => 'add', path => 'members', value => [{ value => $aa->{id} }] }));
is_scim_error($res, $j, 400, 'invalidValue', "globex group adding acme's user: 400 invalidValue");

# --- provisioning accounts are not SCIM resources
my $pa_name = $atok->{userName};
my $pa_id = sql("SELECT id FROM accounts WHERE user_name = '$pa_name'");
like($pa_id // '', uuid_re(), "acme's provisioning account id from the database");
same_404('GET', "/Users/$pa_id", "/Users/$UNKNOWN", undef, 'GET the provisioning account', $pa_id);
same_404('PATCH', "/Users/$pa_id", "/Users/$UNKNOWN",
         patch_body({ op => 'replace', path => 'active', value => JSON::PP::false }), 'PATCH the provisioning account', $pa_id);
same_404('PUT', "/Users/$pa_id", "/Users/$UNKNOWN", user_body(userName => "$tag-hijack"), 'PUT the provisioning account', $pa_id);
same_404('DELETE', "/Users/$pa_id", "/Users/$UNKNOWN", undef, 'DELETE the provisioning account', $pa_id);
for my $f (qq{userName eq "$pa_name"}, qq{userName eq "} . uc($pa_name) . '"', qq{id eq "$pa_id"},
           qq{userName sw "okta-provisioning-"}, qq{userName co "provisioning"}, qq{externalId eq "$pa_id"}) {
    my (undef, $b) = list_names('acme', $acme, '/Users', $f);
    is(($b // {})->{totalResults}, 0, "filter $f: 0 results");
}
{
    my @all;
    for (my $s = 1; ; $s += 200) {
        my (undef, $b) = scim_req('acme', 'GET', "/Users?startIndex=$s&count=200", $acme);
        my @r = @{ ($b // {})->{Resources} // [] };
        push @all, @r;
        last if @r < 200 || $s > 5000;
    }
    ok(scalar @all, 'listed every acme user (' . scalar(@all) . ')');
    ok(!(grep { $_->{id} eq $pa_id || lc($_->{userName}) =~ /-provisioning-[a-z2-7]{6}\@/ } @all),
       'no provisioning account in the full list');
    ok(!(grep { lc($_->{userName}) eq 'alice' || lc($_->{userName}) eq 'alex' } @all), 'no administrator in the full list');
}
($res, $j) = scim_req('acme', 'POST', '/Groups', $acme, group_body(displayName => "P $tag", members => [{ value => $pa_id }]));
is_scim_error($res, $j, 400, 'invalidValue', 'the provisioning account cannot be a group member');
is(sql("SELECT count(*) FROM group_members WHERE account_id = '$pa_id'"), 0, 'it is in no group');
($res, $j) = scim_req('acme', 'POST', '/Users', $acme, user_body(userName => $pa_name));
isnt($res->code, 201, "creating a user named like the provisioning account is refused (" . $res->code . ')');
ok($res->code < 500, 'without a 5xx');
is(sql("SELECT kind || ',' || active FROM accounts WHERE id = '$pa_id'"), 'provisioning,true', 'the provisioning account is unchanged');
($res, $j) = scim_req('acme', 'POST', '/Users', $acme, user_body(userName => "$tag-renamer"));
my $ren = $j // {};
($res, $j) = scim_req('acme', 'PATCH', "/Users/$ren->{id}", $acme, patch_body({ op => 'replace', path => 'userName', value => uc $pa_name }));
isnt($res->code, 200, 'renaming a user to the provisioning account name is refused (' . $res->code . ')');
is(sql("SELECT count(*) FROM accounts WHERE lower(user_name) = lower('$pa_name')"), 1, 'still one account of that name');
($res) = scim_req('acme', 'GET', '/ServiceProviderConfig', $acme);
is($res->code, 200, 'and the token still works');
# the globex provisioning account is not visible at globex either
{
    my $gpa = sql("SELECT id FROM accounts WHERE user_name = '$gtok->{userName}'");
    ($res, $j) = scim_req('globex', 'GET', "/Users/$gpa", $globex);
    is($res->code, 404, "globex's own provisioning account: 404 at globex");
    (undef, $j) = list_names('globex', $globex, '/Users', qq{userName eq "$gtok->{userName}"});
    is(($j // {})->{totalResults}, 0, 'and not found by filter');
}

# --- administrators are not users; externalId addresses nothing internal
(undef, $j) = list_names('acme', $acme, '/Users', 'userName eq "alice"');
is(($j // {})->{totalResults}, 0, 'the administrator alice is not a user');
(undef, $j) = list_names('acme', $acme, '/Users', 'userName eq "sysadmin"');
is(($j // {})->{totalResults}, 0, 'the system administrator is not a user');
{
    my $admin_id = sql("SELECT id FROM administrators WHERE username = 'alice'");
    ($res, $j) = scim_req('acme', 'GET', "/Users/$admin_id", $acme);
    is($res->code, 404, "an administrator's id: 404");
    my $idp_id = sql("SELECT idp_id FROM accounts WHERE id = '$pa_id'");
    ($res, $j) = scim_req('acme', 'GET', "/Users/$idp_id", $acme);
    is($res->code, 404, "an identity provider's id: 404");
    my $tok_id = $atok->{id};
    ($res, $j) = scim_req('acme', 'GET', "/Users/$tok_id", $acme);
    is($res->code, 404, "a token's id: 404");
    ($res, $j) = scim_req('acme', 'GET', "/Groups/$pa_id", $acme);
    is($res->code, 404, 'the provisioning account id at /Groups: 404');
}
($res, $j) = scim_req('acme', 'POST', '/Users', $acme, user_body(userName => "$tag-extid", externalId => $pa_id));
scim_ok($res, 201, "a user whose externalId is the provisioning account's id: just a string");
my $ex = $j // {};
(undef, $j) = list_names('acme', $acme, '/Users', qq{externalId eq "$pa_id"});
is_deeply([map { $_->{id} } @{ ($j // {})->{Resources} // [] }], [$ex->{id}], 'externalId filter finds only that user');
($res) = scim_req('acme', 'DELETE', "/Users/$ex->{id}", $acme);
is($res->code, 204, 'deleting it');
is(sql("SELECT count(*) FROM accounts WHERE id = '$pa_id'"), 1, 'leaves the provisioning account alone');
($res) = scim_req('acme', 'GET', '/ServiceProviderConfig', $acme);
is($res->code, 200, 'whose token still works');

# --- initech (replace policy) sees none of it
(undef, $j) = list_names('initech', $initech, '/Users', qq{userName sw "$tag"});
is(($j // {})->{totalResults}, 0, 'initech sees no acme or globex user');

done_testing();
