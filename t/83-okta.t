# What Okta sends (developer.okta.com "SCIM 2.0" reference and its Runscope
# "SCIM 2.0 Spec Test" / CRUD test): Test API Credentials, lookup before
# create, PUT profile updates, path-less {"active":false}, group push with the
# id inside the rename value, membership add/remove/replace, soft delete then
# DELETE. Bodies are replayed as Okta sends them.
use strict;
use warnings FATAL => 'all';
no warnings qw(uninitialized numeric);
use Test::More;
use Apache::Test ();
use JSON::PP ();
use MIME::Base64 ();
use ScimTest;

my ($res, $j);
my ($auth, $tok) = scim_auth('alice', 'acme', 'okta', 'Okta replay');
my $basic = 'Basic ' . MIME::Base64::encode_base64("$tok->{userName}:$tok->{token}", '');
my @okta = ('Accept' => 'application/scim+json', 'Accept-Charset' => 'utf-8',
            'User-Agent' => 'Okta SCIM Client 1.0.0');
my $CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
my $PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
my $LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
my $tag = uniq_name('okta');

# Users must exist for the spec test's first step ("Resources" not empty;
# count=2 below wants two of them, also when this file runs alone).
for my $seed ('seed', 'seed2') {
    ($res) = scim_req('acme', 'POST', '/Users', $auth, user_body(userName => "$tag-$seed\@example.com"));
    scim_ok($res, 201, "seed user $seed");
}

# --- Test API Credentials (both the Runscope spec test and the admin console)
for my $q ('/Users?count=1&startIndex=1', '/Users?startIndex=1&count=2', '/Users?count=2&startIndex=1') {
    ($res, $j) = scim_req('acme', 'GET', $q, $basic, undef, @okta, 'Content-Type' => 'application/scim+json; charset=utf-8');
    scim_ok($res, 200, "Test API Credentials GET $q (Basic auth): 200");
    $j //= {};
    ok((grep { $_ eq $LIST } @{ $j->{schemas} // [] }), 'ListResponse');
    ok(ref $j->{Resources} eq 'ARRAY' && @{ $j->{Resources} }, 'Resources not empty');
    my ($count) = $q =~ /count=(\d)/;
    is(scalar @{ $j->{Resources} // [] }, $count, "exactly $count resource(s)");
    like(content_of($res), qr/"itemsPerPage"\s*:\s*\d/, 'itemsPerPage is a number');
    like(content_of($res), qr/"startIndex"\s*:\s*1\b/, 'startIndex is the number 1');
    like(content_of($res), qr/"totalResults"\s*:\s*\d/, 'totalResults is a number');
}
($res, $j) = scim_req('acme', 'GET', '/Groups?startIndex=1&count=100', $basic, undef, @okta);
scim_ok($res, 200, 'GET /Groups?startIndex=1&count=100: 200');
ok((grep { $_ eq $LIST } @{ ($j // {})->{schemas} // [] }), 'a ListResponse of groups');
my $isv_user = ((scim_req('acme', 'GET', '/Users?count=1&startIndex=1', $auth))[1] // {})->{Resources}[0]{id} // 'none';
($res, $j) = scim_req('acme', 'GET', "/Users/$isv_user", $auth, undef, @okta);
scim_ok($res, 200, 'spec test: GET the first listed user by id');
is(($j // {})->{id}, $isv_user, 'same id');

# --- spec test: random user does not exist, create, verify, duplicate, case
my $login = "$tag.Runscope\@atko.com";
($res, $j) = scim_req('acme', 'GET', '/Users?filter=' . fq(qq{userName eq "$login"}), $auth, undef, @okta);
scim_ok($res, 200, 'lookup before create: 200');
is(($j // {})->{totalResults}, 0, 'totalResults 0');
is(scalar @{ ($j // {})->{Resources} // [] }, 0, 'no Resources');
# the admin console's lookup (with paging parameters)
($res, $j) = scim_req('acme', 'GET', '/Users?filter=userName%20eq%20%22' . fq($login) . '%22&startIndex=1&count=100',
                      $auth, undef, @okta);
is(($j // {})->{totalResults}, 0, 'lookup with startIndex/count: totalResults 0');

my $create = {
    schemas => [$CORE],
    userName => $login,
    name => { givenName => 'Test', familyName => 'User' },
    emails => [{ primary => JSON::PP::true, value => $login, type => 'work' }],
    displayName => 'Test User',
    locale => 'en-US',
    externalId => '00ujl29u0le5T6Aj10h7',
    groups => [],
    password => '1mz050nq',
    active => JSON::PP::true,
};
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, $create, @okta);
scim_ok($res, 201, 'Okta create user: 201');
my $u = $j // {};
is($u->{userName}, $login, 'userName');
ok(JSON::PP::is_bool($u->{active}) && $u->{active}, 'active true');
is($u->{externalId}, '00ujl29u0le5T6Aj10h7', 'externalId kept');
ok(!exists $u->{password}, 'password not returned');
is_deeply($u->{name}, { givenName => 'Test', familyName => 'User' }, 'name');
is_deeply([null_paths($u)], [], 'no nulls');
($res, $j) = scim_req('acme', 'GET', "/Users/$u->{id}", $auth, undef, @okta);
is(($j // {})->{userName}, $login, 'verify the user was created');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, $create, @okta);
is_scim_error($res, $j, 409, 'uniqueness', 'recreating the same user: 409 uniqueness');
($res, $j) = scim_req('acme', 'GET', '/Users?filter=' . fq(qq{userName eq "} . uc($login) . '"'), $auth, undef, @okta);
is(($j // {})->{totalResults}, 1, 'username case sensitivity check: found in upper case');
is(($j // {})->{Resources}[0]{id}, $u->{id}, 'the same user');
($res, $j) = scim_req('acme', 'GET', '/Users/010101001010101010', $auth, undef, @okta);
is_scim_error($res, $j, 404, undef, 'fetch a user with a wrong id: 404');
($res, $j) = scim_req('acme', 'GET', '/Users?filter=' . fq(qq{userName eq "$login"}), $auth, undef, @okta);
is(($j // {})->{totalResults}, 1, 'lookup now finds it');

# --- PUT profile update (whole user, as Okta sends it, with id and groups)
my $put = { %$create, id => $u->{id}, name => { givenName => 'Another', familyName => 'User' },
            displayName => 'Another User', title => 'Ops' };
($res, $j) = scim_req('acme', 'PUT', "/Users/$u->{id}", $auth, $put, @okta);
scim_ok($res, 200, 'Okta PUT profile update: 200');
is(($j // {})->{name}{givenName}, 'Another', 'givenName updated');
is(($j // {})->{title}, 'Ops', 'title added');
ok(!exists(($j // {})->{password}), 'no password');
($res, $j) = scim_req('acme', 'GET', "/Users/$u->{id}", $auth, undef, @okta);
is(($j // {})->{displayName}, 'Another User', 'persisted');
# PUT with a different id in the body: the URL decides, the body id is ignored or refused, never a second user
($res, $j) = scim_req('acme', 'PUT', "/Users/$u->{id}", $auth,
                      { %$put, id => '00000000-0000-4000-8000-000000000001' }, @okta);
ok($res->code == 200 || $res->code == 400, 'PUT with a foreign id in the body: 200 or 400 (' . $res->code . ')');
($res, $j) = scim_req('acme', 'GET', "/Users/$u->{id}", $auth);
is(($j // {})->{id}, $u->{id}, 'the user keeps its id');

# --- deactivate: path-less replace {"active":false}
($res, $j) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $auth,
                      { schemas => [$PATCH], Operations => [{ op => 'replace', value => { active => JSON::PP::false } }] }, @okta);
scim_ok($res, 200, 'Okta deactivate PATCH: 200');
ok(defined(($j // {})->{active}) && !$j->{active}, 'active false in the response');
($res, $j) = scim_req('acme', 'GET', "/Users/$u->{id}", $auth, undef, @okta);
scim_ok($res, 200, 'a deactivated user is readable');
ok(defined(($j // {})->{active}) && !$j->{active}, 'active false');
is(($j // {})->{displayName}, 'Another User', 'and nothing else changed');
($res, $j) = scim_req('acme', 'GET', '/Users?filter=' . fq(qq{userName eq "$login"}), $auth, undef, @okta);
is(($j // {})->{totalResults}, 1, 'a deactivated user is still found by the lookup');
# reactivate, as Okta does it
($res, $j) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $auth,
                      { schemas => [$PATCH], Operations => [{ op => 'replace', value => { active => JSON::PP::true } }] }, @okta);
ok(($j // {})->{active}, 'reactivated');
# Okta also sends PATCH with several path-less attributes (OIN template profile push)
($res, $j) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $auth,
                      { schemas => [$PATCH], Operations => [{ op => 'replace',
                        value => { displayName => 'Third Name', 'name.givenName' => 'Third', title => 'Lead' } }] }, @okta);
scim_ok($res, 200, 'path-less replace of several attributes: 200');
is(($j // {})->{displayName}, 'Third Name', 'displayName');
is(($j // {})->{name}{givenName}, 'Third', 'name.givenName via a dotted key');
is(($j // {})->{name}{familyName}, 'User', 'familyName kept');
is(($j // {})->{title}, 'Lead', 'title');

# --- groups: create (members []), get, rename with id in the value, members
my $gname = "Test SCIMv2 $tag";
($res, $j) = scim_req('acme', 'POST', '/Groups', $auth,
                      { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName => $gname, members => [] }, @okta);
scim_ok($res, 201, 'Okta group push create: 201');
my $g = $j // {};
is($g->{displayName}, $gname, 'displayName');
is_deeply([null_paths($g)], [], 'no nulls in a group created with members []');
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth, undef, @okta);
scim_ok($res, 200, 'GET the group');
($res, $j) = scim_req('acme', 'GET', '/Groups?filter=' . fq(qq{displayName eq "$gname"}) . '&startIndex=1&count=100',
                      $auth, undef, @okta);
is(($j // {})->{totalResults}, 1, 'group lookup by displayName');

my $renamed = "Test SCIMv2 renamed $tag";
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                      { schemas => [$PATCH], Operations => [{ op => 'replace', value => { id => $g->{id}, displayName => $renamed } }] },
                      @okta);
ok($res->code == 200 || $res->code == 204, 'Okta rename with the id inside the value: 200/204 (' . $res->code . ')');
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is(($j // {})->{displayName}, $renamed, 'renamed');
is(($j // {})->{id}, $g->{id}, 'same id');
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                      { schemas => [$PATCH], Operations => [{ op => 'replace',
                        value => { id => '00000000-0000-4000-8000-000000000002', displayName => 'Hijack' } }] });
ok($res->code == 200 || $res->code == 204 || $res->code == 400,
   'a rename carrying a different id: ignored id or 400 (' . $res->code . ')');
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is(($j // {})->{id}, $g->{id}, 'the group keeps its id');
($res, $j) = scim_req('acme', 'GET', '/Groups/00000000-0000-4000-8000-000000000002', $auth);
is($res->code, 404, 'and no group got the other id');
($res) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                  { schemas => [$PATCH], Operations => [{ op => 'replace', value => { id => $g->{id}, displayName => $renamed } }] });

my @m = map { (scim_req('acme', 'POST', '/Users', $auth, user_body(userName => "$tag-m$_\@example.com",
                                                                  displayName => "Member $_")))[1] // {} } 1 .. 3;
ok((3 == grep { $_->{id} } @m), 'three member users');
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                      { schemas => [$PATCH], Operations => [{ op => 'add', path => 'members',
                        value => [{ value => $m[0]{id}, display => "$tag-m1\@example.com" },
                                  { value => $m[1]{id}, display => "$tag-m2\@example.com" }] }] }, @okta);
ok($res->code == 200 || $res->code == 204, 'Okta add members: 200/204 (' . $res->code . ')');
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is_deeply([sort map { $_->{value} } @{ ($j // {})->{members} // [] }], [sort $m[0]{id}, $m[1]{id}], 'two members');
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                      { schemas => [$PATCH], Operations => [{ op => 'remove', path => qq{members[value eq "$m[0]{id}"]} }] }, @okta);
ok($res->code == 200 || $res->code == 204, 'Okta remove member by filter: 200/204 (' . $res->code . ')');
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is_deeply([map { $_->{value} } @{ ($j // {})->{members} // [] }], [$m[1]{id}], 'only that member removed');
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                      { schemas => [$PATCH], Operations => [{ op => 'replace', path => 'members',
                        value => [{ value => $m[2]{id}, display => 'x' }, { value => $m[0]{id}, display => 'y' }] }] }, @okta);
ok($res->code == 200 || $res->code == 204, 'Okta replace all members: 200/204 (' . $res->code . ')');
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is_deeply([sort map { $_->{value} } @{ ($j // {})->{members} // [] }], [sort $m[2]{id}, $m[0]{id}], 'exactly the new members');
# PUT /Groups (the older group push replaces everything)
($res, $j) = scim_req('acme', 'PUT', "/Groups/$g->{id}", $auth,
                      { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'], id => $g->{id}, displayName => $renamed,
                        members => [{ value => $m[1]{id}, display => 'Member 2' }] }, @okta);
scim_ok($res, 200, 'Okta PUT group: 200');
is_deeply([map { $_->{value} } @{ ($j // {})->{members} // [] }], [$m[1]{id}], 'PUT replaced the members');
# a deactivated user keeps its memberships
($res) = scim_req('acme', 'PATCH', "/Users/$m[1]{id}", $auth,
                  { schemas => [$PATCH], Operations => [{ op => 'replace', value => { active => JSON::PP::false } }] });
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is_deeply([map { $_->{value} } @{ ($j // {})->{members} // [] }], [$m[1]{id}], 'a deactivated member stays a member');
($res) = scim_req('acme', 'DELETE', "/Groups/$g->{id}", $auth, undef, @okta);
is($res->code, 204, 'Okta delete group: 204');
($res, $j) = scim_req('acme', 'GET', "/Users/$m[1]{id}", $auth);
ok(!(grep { $_->{value} eq $g->{id} } @{ ($j // {})->{groups} // [] }), 'the deleted group is gone from the user');

# --- soft delete (deactivate) then DELETE
($res) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $auth,
                  { schemas => [$PATCH], Operations => [{ op => 'replace', value => { active => JSON::PP::false } }] }, @okta);
is($res->code, 200, 'deactivate before delete');
($res) = scim_req('acme', 'DELETE', "/Users/$u->{id}", $auth, undef, @okta);
is($res->code, 204, 'DELETE: 204');
($res, $j) = scim_req('acme', 'GET', "/Users/$u->{id}", $auth, undef, @okta);
is_scim_error($res, $j, 404, undef, 'gone: 404');
($res, $j) = scim_req('acme', 'GET', '/Users?filter=' . fq(qq{userName eq "$login"}), $auth, undef, @okta);
is(($j // {})->{totalResults}, 0, 'the lookup no longer finds it');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, $create, @okta);
scim_ok($res, 201, 'and Okta can create it again');

done_testing();
