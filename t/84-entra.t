# What Microsoft Entra ID sends (learn.microsoft.com "Develop and plan
# provisioning for a SCIM endpoint" request examples, the SCIM validator, and
# the known non-compliant forms): Test Connection probe, userName/externalId/
# displayName filters with "+" for spaces, capitalised ops, "True"/"False"
# strings, path-less replace with dotted and URN keys, emails[type eq "work"]
# .value in place, manager as a string or {"value":...} and removed, member
# removal with a value array, excludedAttributes=members, count=5 paging,
# soft delete then DELETE.
use strict;
use warnings FATAL => 'all';
no warnings qw(uninitialized numeric);
use Test::More;
use Apache::Test ();
use JSON::PP ();
use ScimTest;

my ($res, $j);
my ($auth) = scim_auth('alice', 'acme', 'entra', 'Entra replay');
my @entra = ('Accept' => 'application/scim+json', 'User-Agent' => 'Azure AD SCIM Client');
my $CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
my $ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
my $PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
my $tag = uniq_name('entra');
sub ok2xx { my ($r, $n) = @_; ok($r->code == 200 || $r->code == 204, "$n: 200/204 (" . $r->code . ')')
                                  or diag(substr($r->as_string, 0, 1500)) }
sub get_user { my ($id) = @_; my (undef, $b) = scim_req('acme', 'GET', "/Users/$id", $auth); return $b // {} }
sub patch { my ($path, @ops) = @_; return scim_req('acme', 'PATCH', $path, $auth, { schemas => [$PATCH], Operations => [@ops] }, @entra) }

# --- Test Connection: a random GUID as userName, the query with "+" for spaces
{
    my $guid = join '-', map { join '', map { sprintf '%x', int rand 16 } 1 .. $_ } 8, 4, 4, 4, 12;
    ($res, $j) = scim_req('acme', 'GET', "/Users?filter=userName+eq+%22$guid%22", $auth, undef, @entra);
    scim_ok($res, 200, 'Test Connection probe (filter with + for spaces): 200');
    is(($j // {})->{totalResults}, 0, 'totalResults 0');
    is(scalar @{ ($j // {})->{Resources} // [] }, 0, 'no Resources');
    is_deeply(($j // {})->{schemas}, ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], 'a ListResponse');
    ($res, $j) = scim_req('acme', 'GET', '/Users?filter=' . fq(qq{userName eq "non-existent user $guid"}), $auth, undef, @entra);
    is(($j // {})->{totalResults}, 0, 'query for a non-existent user: 0');
}

# --- create user (the documented request, enterprise schema, roles [], meta)
my $un = "Test_User_$tag\@testuser.com";
my $ext = "0a21f0f2-8d2a-4f8e-bf98-$tag";
my $create = {
    schemas => [$CORE, $ENT],
    externalId => $ext,
    userName => $un,
    active => JSON::PP::true,
    emails => [{ primary => JSON::PP::true, type => 'work', value => "Test_User_work_$tag\@testuser.com" }],
    meta => { resourceType => 'User' },
    name => { formatted => 'givenName familyName', familyName => 'familyName', givenName => 'givenName' },
    roles => [],
};
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, $create, @entra);
scim_ok($res, 201, 'Entra create user: 201');
my $u = $j // {};
is($u->{externalId}, $ext, 'externalId');
is_deeply([null_paths($u)], [], 'no nulls (roles [] is not echoed as null)');
ok(!exists $u->{roles} || ref $u->{roles} eq 'ARRAY', 'roles absent or an array');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, $create, @entra);
is_scim_error($res, $j, 409, 'uniqueness', 'Entra creates the same user again: 409 uniqueness');

# filters Entra uses for matching
($res, $j) = scim_req('acme', 'GET', '/Users?filter=userName+eq+%22' . fq($un) . '%22', $auth, undef, @entra);
is(($j // {})->{totalResults}, 1, 'filter userName eq (+ form)');
is(($j // {})->{Resources}[0]{id}, $u->{id}, 'the user');
($res, $j) = scim_req('acme', 'GET', '/Users?filter=' . fq(qq{userName eq "} . lc($un) . '"'), $auth, undef, @entra);
is(($j // {})->{totalResults}, 1, 'filter userName eq in lower case');
($res, $j) = scim_req('acme', 'GET', '/Users?filter=' . fq(qq{externalId eq "$ext"}), $auth, undef, @entra);
is(($j // {})->{totalResults}, 1, 'filter externalId eq');
($res, $j) = scim_req('acme', 'GET', '/Users?filter=' . fq(qq{externalId eq "} . uc($ext) . '"'), $auth, undef, @entra);
is(($j // {})->{totalResults}, 0, 'externalId compares exactly');

my ($mgr) = (scim_req('acme', 'POST', '/Users', $auth, user_body(userName => "manager-$tag\@testuser.com",
                                                                 displayName => 'The Manager')))[1] // {};
ok($mgr->{id}, 'a manager user');

# --- PATCH: the documented multi-valued update, capitalised ops
($res, $j) = patch("/Users/$u->{id}",
                   { op => 'Replace', path => 'emails[type eq "work"].value', value => "updatedEmail-$tag\@microsoft.com" },
                   { op => 'Replace', path => 'name.familyName', value => 'updatedFamilyName' });
ok2xx($res, 'Replace emails[type eq "work"].value and name.familyName');
my $g = get_user($u->{id});
is(scalar @{ $g->{emails} // [] }, 1, 'still one email: updated in place');
is($g->{emails}[0]{value}, "updatedEmail-$tag\@microsoft.com", 'new value');
is($g->{emails}[0]{type}, 'work', 'type kept');
ok($g->{emails}[0]{primary}, 'primary kept');
is($g->{name}{familyName}, 'updatedFamilyName', 'familyName');
is($g->{name}{givenName}, 'givenName', 'givenName kept');
# "Add" of the same path (Entra sends Add when it believes the value is new)
($res) = patch("/Users/$u->{id}", { op => 'Add', path => 'emails[type eq "work"].value', value => "added-$tag\@microsoft.com" });
ok2xx($res, 'Add emails[type eq "work"].value on an existing work email');
$g = get_user($u->{id});
is_deeply([map { "$_->{type}:$_->{value}" } @{ $g->{emails} // [] }], ["work:added-$tag\@microsoft.com"],
          'the work email is updated in place, not duplicated');
($res) = patch("/Users/$u->{id}", { op => 'Add', path => 'phoneNumbers[type eq "mobile"].value', value => '+1 555 0100' });
ok2xx($res, 'Add phoneNumbers[type eq "mobile"].value when there is none');
$g = get_user($u->{id});
is_deeply([map { "$_->{type}:$_->{value}" } @{ $g->{phoneNumbers} // [] }], ['mobile:+1 555 0100'],
          'creates {type: mobile, value}');
($res) = patch("/Users/$u->{id}", { op => 'Replace', path => 'userName', value => "renamed_$un" });
ok2xx($res, 'Replace userName');
is(get_user($u->{id})->{userName}, "renamed_$un", 'userName renamed');
($res) = patch("/Users/$u->{id}", { op => 'Add', path => 'externalId', value => "$ext-2" }, { op => 'Add', path => 'title', value => 'Tester' });
ok2xx($res, 'Add externalId and title');
is(get_user($u->{id})->{externalId}, "$ext-2", 'externalId replaced by Add');

# booleans as strings
($res) = patch("/Users/$u->{id}", { op => 'Replace', path => 'active', value => 'False' });
ok2xx($res, 'Replace active "False"');
$g = get_user($u->{id});
ok(JSON::PP::is_bool($g->{active}) && !$g->{active}, 'active is the boolean false');
($res) = patch("/Users/$u->{id}", { op => 'Replace', path => 'active', value => 'True' });
ok2xx($res, 'Replace active "True"');
ok(JSON::PP::is_bool(get_user($u->{id})->{active}) && get_user($u->{id})->{active}, 'active is the boolean true');
($res) = patch("/Users/$u->{id}", { op => 'replace', value => { active => 'false' } });
ok2xx($res, 'path-less replace {"active":"false"}');
ok(!get_user($u->{id})->{active}, 'inactive');
($res) = patch("/Users/$u->{id}", { op => 'Replace', path => 'active', value => JSON::PP::true });
($res, $j) = patch("/Users/$u->{id}", { op => 'Replace', path => 'active', value => 'Yes' });
is_scim_error($res, $j, 400, 'invalidValue', 'active "Yes": 400 invalidValue');

# path-less replace with dotted and URN keys
($res) = patch("/Users/$u->{id}", { op => 'Replace', value => {
    'name.givenName' => 'Dotted', 'name.familyName' => 'Keys', displayName => 'Dotted Keys',
    "$ENT:department" => 'Finance', "$ENT:employeeNumber" => 'E-42',
    "$CORE:title" => 'URN Title' } });
ok2xx($res, 'path-less Replace with dotted, core-URN and enterprise-URN keys');
$g = get_user($u->{id});
is($g->{name}{givenName}, 'Dotted', 'name.givenName');
is($g->{name}{familyName}, 'Keys', 'name.familyName');
is($g->{name}{formatted}, 'givenName familyName', 'name.formatted untouched');
is($g->{displayName}, 'Dotted Keys', 'displayName');
is($g->{title}, 'URN Title', 'core URN key');
is($g->{$ENT}{department}, 'Finance', 'enterprise department');
is($g->{$ENT}{employeeNumber}, 'E-42', 'enterprise employeeNumber');
ok((grep { $_ eq $ENT } @{ $g->{schemas} // [] }), 'schemas lists the extension');
ok(!exists $g->{'name.givenName'} && !exists $g->{"$ENT:department"}, 'no literal dotted/URN keys stored');
is_deeply([null_paths($g)], [], 'no nulls');
($res) = patch("/Users/$u->{id}", { op => 'Add', value => { "$ENT:costCenter" => 'CC1', 'name.middleName' => 'M' } });
ok2xx($res, 'path-less Add with URN and dotted keys');
$g = get_user($u->{id});
is($g->{$ENT}{costCenter}, 'CC1', 'costCenter added');
is($g->{$ENT}{department}, 'Finance', 'department kept');
is($g->{name}{middleName}, 'M', 'middleName added');
($res) = patch("/Users/$u->{id}", { op => 'Replace', path => "$ENT:department", value => 'Audit' });
ok2xx($res, 'Replace with a URN path');
is(get_user($u->{id})->{$ENT}{department}, 'Audit', 'department via URN path');

# manager: as a string, as {"value":...}, removed
($res) = patch("/Users/$u->{id}", { op => 'Add', path => "$ENT:manager", value => $mgr->{id} });
ok2xx($res, 'manager as a string');
is(get_user($u->{id})->{$ENT}{manager}{value}, $mgr->{id}, 'manager.value set');
($res) = patch("/Users/$u->{id}", { op => 'Remove', path => "$ENT:manager" });
ok2xx($res, 'Remove manager');
ok(!exists get_user($u->{id})->{$ENT}{manager}, 'manager removed');
is(get_user($u->{id})->{$ENT}{department}, 'Audit', 'the rest of the extension kept');
($res) = patch("/Users/$u->{id}", { op => 'Replace', path => "$ENT:manager", value => { value => $mgr->{id} } });
ok2xx($res, 'manager as {"value":...}');
is(get_user($u->{id})->{$ENT}{manager}{value}, $mgr->{id}, 'manager.value set again');
($res) = patch("/Users/$u->{id}", { op => 'Replace', path => "$ENT:manager", value => '' });
ok2xx($res, 'Replace manager with ""');
ok(!exists get_user($u->{id})->{$ENT}{manager}, 'an empty manager removes it');
($res) = patch("/Users/$u->{id}", { op => 'Replace', value => { "$ENT:manager" => $mgr->{id} } });
ok2xx($res, 'path-less manager as a string');
is(get_user($u->{id})->{$ENT}{manager}{value}, $mgr->{id}, 'manager.value set by path-less replace');
($res) = patch("/Users/$u->{id}", { op => 'Remove', path => "$ENT:manager", value => [{ value => $mgr->{id} }] });
ok2xx($res, 'Remove manager with a value (Entra form)');
ok(!exists get_user($u->{id})->{$ENT}{manager}, 'manager removed');
is_deeply([null_paths(get_user($u->{id}))], [], 'no nulls after all that');

# --- groups: the documented create (with the ADSCIM schema URN), filters, members
my $gname = "displayName $tag";
($res, $j) = scim_req('acme', 'POST', '/Groups', $auth,
                      { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group',
                                    'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
                        externalId => "8aa1a0c0-$tag", displayName => $gname, meta => { resourceType => 'Group' } }, @entra);
scim_ok($res, 201, 'Entra create group (documented body): 201');
my $grp = $j // {};
($res, $j) = scim_req('acme', 'GET', "/Groups/$grp->{id}?excludedAttributes=members", $auth, undef, @entra);
scim_ok($res, 200, 'GET group with excludedAttributes=members');
ok(!exists(($j // {})->{members}), 'no members');
($res, $j) = scim_req('acme', 'GET', '/Groups?excludedAttributes=members&filter=displayName+eq+%22' . fq($gname) . '%22',
                      $auth, undef, @entra);
scim_ok($res, 200, 'GET /Groups?excludedAttributes=members&filter=displayName eq');
is(($j // {})->{totalResults}, 1, 'found');
ok(!exists(($j // {})->{Resources}[0]{members}), 'without members');
($res, $j) = scim_req('acme', 'GET', '/Groups?filter=' . fq(qq{externalId eq "8aa1a0c0-$tag"}), $auth, undef, @entra);
is(($j // {})->{totalResults}, 1, 'group by externalId');

my @m = map { (scim_req('acme', 'POST', '/Users', $auth, user_body(userName => "member$_-$tag\@testuser.com")))[1] // {} } 1 .. 4;
ok((4 == grep { $_->{id} } @m), 'four users');
($res) = patch("/Groups/$grp->{id}", { name => 'addMember', op => 'Add', path => 'members',
                                      value => [map { { '$ref' => undef, value => $_->{id} } } @m] });
ok2xx($res, 'Add members with "$ref": null and an extra "name" member in the operation');
($res, $j) = scim_req('acme', 'GET', "/Groups/$grp->{id}", $auth);
is_deeply([sort map { $_->{value} } @{ ($j // {})->{members} // [] }], [sort map { $_->{id} } @m], 'four members');
($res) = patch("/Groups/$grp->{id}", { name => 'removeMember', op => 'Remove', path => 'members',
                                      value => [{ '$ref' => undef, value => $m[0]{id} }, { '$ref' => undef, value => $m[2]{id} }] });
ok2xx($res, 'Remove members with a value array');
($res, $j) = scim_req('acme', 'GET', "/Groups/$grp->{id}", $auth);
is_deeply([sort map { $_->{value} } @{ ($j // {})->{members} // [] }], [sort $m[1]{id}, $m[3]{id}],
          'only those two removed, the others kept');
($res) = patch("/Groups/$grp->{id}", { op => 'Remove', path => 'members', value => [{ value => $m[0]{id} }] });
ok2xx($res, 'removing a non-member is harmless');
($res, $j) = scim_req('acme', 'GET', "/Groups/$grp->{id}", $auth);
is(scalar @{ ($j // {})->{members} // [] }, 2, 'still two members');
($res) = patch("/Groups/$grp->{id}", { op => 'Replace', path => 'displayName', value => "$gname updatedDisplayName" });
ok2xx($res, 'Replace group displayName');
($res, $j) = scim_req('acme', 'GET', "/Groups/$grp->{id}?excludedAttributes=members", $auth);
is(($j // {})->{displayName}, "$gname updatedDisplayName", 'renamed');
($res) = patch("/Groups/$grp->{id}", { op => 'Replace', value => { displayName => $gname } });
ok2xx($res, 'path-less Replace of the group displayName');
($res, $j) = scim_req('acme', 'GET', "/Groups/$grp->{id}", $auth);
is(($j // {})->{displayName}, $gname, 'renamed back');
is(scalar @{ ($j // {})->{members} // [] }, 2, 'members untouched by the rename');
($res) = patch("/Groups/$grp->{id}", { op => 'Add', path => 'members', value => [{ value => $m[0]{id} }] },
                                     { op => 'Remove', path => 'members', value => [{ value => $m[3]{id} }] });
ok2xx($res, 'Add and Remove in one request');
($res, $j) = scim_req('acme', 'GET', "/Groups/$grp->{id}", $auth);
is_deeply([sort map { $_->{value} } @{ ($j // {})->{members} // [] }], [sort $m[0]{id}, $m[1]{id}], 'both applied');

# --- paging with count=5 (the validator and the initial cycle page through all users)
{
    my @ids = map { ((scim_req('acme', 'POST', '/Users', $auth, user_body(userName => sprintf("page%02d-$tag", $_))))[1] // {})->{id} } 1 .. 12;
    my $f = fq(qq{userName sw "page"} . qq{ and userName ew "$tag"});
    my (@seen, @sizes, $total);
    for (my $start = 1; $start <= 13; $start += 5) {
        ($res, $j) = scim_req('acme', 'GET', "/Users?filter=$f&startIndex=$start&count=5", $auth, undef, @entra);
        push @sizes, scalar @{ ($j // {})->{Resources} // [] };
        push @seen, map { $_->{id} } @{ ($j // {})->{Resources} // [] };
        $total = ($j // {})->{totalResults};
        is(($j // {})->{startIndex}, $start, "page at $start: startIndex");
    }
    is($total, 12, 'totalResults 12 on every page');
    is_deeply(\@sizes, [5, 5, 2], 'pages of 5, 5, 2');
    is_deeply([sort @seen], [sort @ids], 'every user exactly once across the pages');
    ($res, $j) = scim_req('acme', 'GET', '/Users?startIndex=1&count=5', $auth, undef, @entra);
    is(scalar @{ ($j // {})->{Resources} // [] }, 5, 'unfiltered count=5: 5 resources');
    is(($j // {})->{itemsPerPage}, 5, 'itemsPerPage 5');
    ($res, $j) = scim_req('acme', 'GET', '/Groups?startIndex=1&count=5&excludedAttributes=members', $auth, undef, @entra);
    scim_ok($res, 200, 'groups paging with excludedAttributes=members');
}

# --- soft delete then DELETE
($res) = patch("/Users/$u->{id}", { op => 'Replace', path => 'active', value => 'False' });
ok2xx($res, 'soft delete (active "False")');
($res, $j) = scim_req('acme', 'GET', '/Users?filter=' . fq(qq{userName eq "renamed_$un"}), $auth, undef, @entra);
is(($j // {})->{totalResults}, 1, 'the disabled user is still found');
ok(exists(($j // {})->{Resources}[0]{active}) && !$j->{Resources}[0]{active},
   'with the attribute active false (the validator checks it)');
($res) = scim_req('acme', 'DELETE', "/Users/$u->{id}", $auth, undef, @entra);
is($res->code, 204, 'DELETE: 204');
($res, $j) = scim_req('acme', 'GET', "/Users/$u->{id}", $auth, undef, @entra);
is_scim_error($res, $j, 404, undef, 'then 404');
($res) = scim_req('acme', 'DELETE', "/Groups/$grp->{id}", $auth, undef, @entra);
is($res->code, 204, 'DELETE group: 204');

done_testing();
