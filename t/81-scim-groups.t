# SCIM Groups (RFC 7643 4.2): members are users of the same tenant, the
# users' "groups" attribute, deleting a user removes it from its groups,
# displayName unique case-insensitively, PATCH of members, PUT, DELETE.
use strict;
use warnings FATAL => 'all';
no warnings qw(uninitialized numeric);
use Test::More;
use Apache::Test ();
use JSON::PP ();
use ScimTest;

my ($res, $j);
my ($auth) = scim_auth('alice', 'acme', 'okta', 'Groups Okta');
my ($gauth) = scim_auth('bob', 'globex', 'okta', 'Groups Globex');
my $GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
my $base = base_url() . '/t/acme/scim/v2';
my $UUID = uuid_re();

sub mkuser {
    my ($tenant, $a, $name, %x) = @_;
    my ($r, $b) = scim_req($tenant, 'POST', '/Users', $a, user_body(userName => $name, %x));
    die "mkuser $name: " . $r->status_line . "\n" . $r->decoded_content unless $r->code == 201;
    return $b;
}
sub member_ids { [sort map { $_->{value} } @{ ($_[0] // {})->{members} // [] }] }
sub group_count {
    my ($name) = @_;
    return sql("SELECT count(*) FROM groups g JOIN tenants t ON t.id = g.tenant_id "
               . "WHERE t.slug = 'acme' AND lower(g.display_name) = lower('$name')");
}

my $tag = uniq_name('g81');
my @u = map { mkuser('acme', $auth, "$tag-user$_", displayName => "User $_ $tag") } 1 .. 4;
my $foreign = mkuser('globex', $gauth, "$tag-globex");

# --- create with members
my $gname = "Engineering $tag";
($res, $j) = scim_req('acme', 'POST', '/Groups', $auth,
                      group_body(displayName => $gname, externalId => "GX-$tag",
                                 members => [{ value => $u[0]{id} }, { value => $u[1]{id}, display => 'ignored' }]));
scim_ok($res, 201, 'POST /Groups with two members: 201');
my $g = $j // {};
like($g->{id} // '', $UUID, 'group id is a UUID');
uuid7_checks($g, 'POST /Groups');
is($g->{displayName}, $gname, 'displayName');
is($g->{externalId}, "GX-$tag", 'externalId');
is_deeply($g->{schemas}, [$GROUP], 'schemas');
is($g->{meta}{resourceType}, 'Group', 'meta.resourceType Group');
is($g->{meta}{location}, "$base/Groups/$g->{id}", 'meta.location');
is($res->header('Location'), $g->{meta}{location}, 'Location header');
is($res->header('ETag'), $g->{meta}{version}, 'ETag header = meta.version');
like($g->{meta}{version} // '', qr/^W\/"/, 'weak version');
is_deeply(member_ids($g), [sort $u[0]{id}, $u[1]{id}], 'members in the POST response');
is_deeply([null_paths($g)], [], 'no nulls in the group');

($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
scim_ok($res, 200, 'GET /Groups/{id}: 200');
is_deeply(member_ids($j), [sort $u[0]{id}, $u[1]{id}], 'members');
{
    my ($m) = grep { $_->{value} eq $u[0]{id} } @{ ($j // {})->{members} // [] };
    is($m->{type}, 'User', 'member type User');
    is($m->{'$ref'}, "$base/Users/$u[0]{id}", 'member $ref is the user location');
    ok(defined $m->{display} && length $m->{display}, 'member display is given');
}
is($res->header('ETag'), ($j // {})->{meta}{version}, 'GET ETag');
($res) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth, undef, 'If-None-Match' => ($j // {})->{meta}{version});
is($res->code, 304, 'If-None-Match: 304');

($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}?excludedAttributes=members", $auth);
scim_ok($res, 200, 'excludedAttributes=members: 200');
ok(!exists(($j // {})->{members}), 'no members');
is(($j // {})->{displayName}, $gname, 'displayName still there');
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}?attributes=displayName", $auth);
is_deeply([sort keys %{ $j // {} }], [qw(displayName id schemas)], 'attributes=displayName: id, schemas, displayName');

# the users' groups attribute
($res, $j) = scim_req('acme', 'GET', "/Users/$u[0]{id}", $auth);
my ($ug) = grep { $_->{value} eq $g->{id} } @{ ($j // {})->{groups} // [] };
ok($ug, "the user's groups attribute lists the group");
is($ug->{display}, $gname, 'groups.display is the group displayName');
is($ug->{'$ref'}, "$base/Groups/$g->{id}", 'groups.$ref');
($res, $j) = scim_req('acme', 'GET', "/Users/$u[2]{id}", $auth);
ok(!(grep { $_->{value} eq $g->{id} } @{ ($j // {})->{groups} // [] }), 'a non-member does not list it');
is_deeply([null_paths($j)], [], 'no nulls in a user without groups');
($res, $j) = scim_req('acme', 'PATCH', "/Users/$u[0]{id}", $auth,
                      patch_body({ op => 'add', path => 'groups', value => [{ value => $g->{id} }] }));
ok($res->code == 400, 'groups is read-only on the user: PATCH refused (' . $res->code . ')');
is(($j // {})->{scimType}, 'mutability', 'with scimType mutability');

# --- members must be users of this tenant
for my $case ([$foreign->{id}, "another tenant's user"],
              ['00000000-0000-4000-8000-000000000000', 'an unknown id'],
              ['not-a-uuid', 'a malformed id']) {
    my $n = "Bad $tag " . substr($case->[1], 0, 8);
    ($res, $j) = scim_req('acme', 'POST', '/Groups', $auth,
                          group_body(displayName => $n, members => [{ value => $u[0]{id} }, { value => $case->[0] }]));
    is_scim_error($res, $j, 400, 'invalidValue', "POST a group with $case->[1] as member: 400 invalidValue");
    is(group_count($n), 0, 'nothing written');
    ($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                          patch_body({ op => 'add', path => 'members', value => [{ value => $case->[0] }] }));
    is_scim_error($res, $j, 400, 'invalidValue', "PATCH add $case->[1]: 400 invalidValue");
}
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is_deeply(member_ids($j), [sort $u[0]{id}, $u[1]{id}], 'membership unchanged by the refused requests');
is(sql("SELECT count(*) FROM group_members WHERE account_id = '$foreign->{id}'"), 0,
   "globex's user is in no acme group");
($res, $j) = scim_req('acme', 'PUT', "/Groups/$g->{id}", $auth,
                      group_body(displayName => $gname, members => [{ value => $foreign->{id} }]));
is_scim_error($res, $j, 400, 'invalidValue', "PUT with another tenant's user: 400 invalidValue");

# --- uniqueness of displayName
($res, $j) = scim_req('acme', 'POST', '/Groups', $auth, group_body(displayName => $gname));
is_scim_error($res, $j, 409, 'uniqueness', 'same displayName: 409 uniqueness');
($res, $j) = scim_req('acme', 'POST', '/Groups', $auth, group_body(displayName => uc $gname));
is_scim_error($res, $j, 409, 'uniqueness', 'displayName in another case: 409 uniqueness');
is(group_count($gname), 1, 'still one group of that name');
($res, $j) = scim_req('acme', 'POST', '/Groups', $auth, jenc(group_body(displayName => "\x{212A}-$tag")));
scim_ok($res, 201, 'group with KELVIN SIGN');
($res, $j) = scim_req('acme', 'POST', '/Groups', $auth, jenc(group_body(displayName => "k-$tag")));
is_scim_error($res, $j, 409, 'uniqueness', 'plain k twin of it: 409 uniqueness');
($res, $j) = scim_req('acme', 'POST', '/Groups', $auth, group_body(members => [{ value => $u[0]{id} }]));
is_scim_error($res, $j, 400, 'invalidValue', 'group without displayName: 400 invalidValue');
{
    ($res, $j) = scim_req('globex', 'POST', '/Groups', $gauth, group_body(displayName => $gname));
    scim_ok($res, 201, 'the same displayName in another tenant: 201');
}
my $g2name = "Sales $tag";
($res, $j) = scim_req('acme', 'POST', '/Groups', $auth, group_body(displayName => $g2name, members => [{ value => $u[0]{id} }]));
scim_ok($res, 201, 'second group');
my $g2 = $j // {};
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g2->{id}", $auth,
                      patch_body({ op => 'replace', path => 'displayName', value => lc $gname }));
is_scim_error($res, $j, 409, 'uniqueness', 'PATCH rename to an existing name: 409 uniqueness');
($res, $j) = scim_req('acme', 'PUT', "/Groups/$g2->{id}", $auth, group_body(displayName => uc $gname));
is_scim_error($res, $j, 409, 'uniqueness', 'PUT rename to an existing name: 409 uniqueness');
($res, $j) = scim_req('acme', 'GET', "/Groups/$g2->{id}", $auth);
is(($j // {})->{displayName}, $g2name, 'name unchanged');

# --- PATCH members
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                      patch_body({ op => 'add', path => 'members', value => [{ value => $u[2]{id} }, { value => $u[0]{id} }] }));
ok($res->code == 200 || $res->code == 204, 'PATCH add members: 200 or 204 (' . $res->code . ')');
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is_deeply(member_ids($j), [sort map { $_->{id} } @u[0, 1, 2]], 'added; an existing member is not duplicated');
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                      patch_body({ op => 'add', path => 'members', value => [{ value => uc $u[3]{id} }] }));
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is_deeply(member_ids($j), [sort map { $_->{id} } @u], 'a member id in upper case is the same user (lower-cased)');
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                      patch_body({ op => 'remove', path => qq{members[value eq "$u[3]{id}"]} }));
ok($res->code == 200 || $res->code == 204, 'PATCH remove one member by value filter (' . $res->code . ')');
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is_deeply(member_ids($j), [sort map { $_->{id} } @u[0, 1, 2]], 'that member removed, the others kept');
# a value filter on an id that is no uuid matches no member: a no-op, as
# the full engine says, never "members must be users of this tenant"
for my $bad ('not-a-uuid', "$u[0]{id} ", ']', uc("$u[1]{id}") . 'x') {
    ($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                          patch_body({ op => 'remove', path => qq{members[value eq "$bad"]} }));
    ok($res->code == 200 || $res->code == 204,
       "PATCH remove members[value eq \"$bad\"]: a no-op (" . $res->code . ')')
        or diag($res->decoded_content);
}
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                      patch_body({ op => 'remove', path => qq{members[value eq "not-a-uuid"]} },
                                 { op => 'remove', path => qq{members[value eq "$u[2]{id}"]} }));
ok($res->code == 200 || $res->code == 204, 'PATCH remove a non-uuid and a member (' . $res->code . ')')
    or diag($res->decoded_content);
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is_deeply(member_ids($j), [sort map { $_->{id} } @u[0, 1]], 'only the real member removed');
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                      patch_body({ op => 'add', path => 'members', value => [{ value => 'not-a-uuid' }] }));
is_scim_error($res, $j, 400, 'invalidValue', 'PATCH add a member that is not a uuid: 400 invalidValue');
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is_deeply(member_ids($j), [sort map { $_->{id} } @u[0, 1]], 'the rejected add changed nothing');
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                      patch_body({ op => 'add', path => 'members', value => [{ value => $u[2]{id} }] }));
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                      patch_body({ op => 'replace', path => 'members', value => [{ value => $u[3]{id} }] }));
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is_deeply(member_ids($j), [$u[3]{id}], 'replace members: exactly the new list');
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                      patch_body({ op => 'remove', path => 'members' }));
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is_deeply(member_ids($j), [], 'remove path members: no members');
is_deeply([null_paths($j)], [], 'no nulls in an empty group');

# --- PUT replaces members
($res, $j) = scim_req('acme', 'PUT', "/Groups/$g->{id}", $auth,
                      group_body(displayName => $gname, members => [map { { value => $_->{id} } } @u[0, 1]]));
scim_ok($res, 200, 'PUT group: 200');
is_deeply(member_ids($j), [sort $u[0]{id}, $u[1]{id}], 'PUT response members');
ok(!exists(($j // {})->{externalId}), 'PUT without externalId removes it');

# --- filters on groups
(undef, $j, my $names) = list_names('acme', $auth, '/Groups', qq{displayName eq "} . uc($gname) . '"', 'displayName');
is_deeply($names, [$gname], 'filter displayName eq, case-insensitive');
(undef, $j, $names) = list_names('acme', $auth, '/Groups', qq{members[value eq "$u[0]{id}"]}, 'displayName');
is_deeply($names, [sort $gname, $g2name], 'filter members[value eq id]');
(undef, $j, $names) = list_names('acme', $auth, '/Groups', qq{members.value eq "$u[1]{id}"}, 'displayName');
is_deeply($names, [$gname], 'filter members.value eq id');
(undef, $j, $names) = list_names('acme', $auth, '/Groups', qq{displayName sw "Sales $tag"}, 'displayName',
                                 '&excludedAttributes=members');
is_deeply($names, [$g2name], 'filter with excludedAttributes=members');
ok(!(grep { exists $_->{members} } @{ ($j // {})->{Resources} // [] }), 'listed without members');

(undef, $j, $names) = list_names('acme', $auth, '/Users', qq{groups.value eq "$g->{id}"});
is_deeply($names, [sort map { $_->{userName} } @u[0, 1]], 'Users filter groups.value eq: the members');
(undef, $j, $names) = list_names('acme', $auth, '/Users', qq{groups[display eq "$g2name"] and userName sw "$tag"});
is_deeply($names, [$u[0]{userName}], 'Users filter groups[display eq ...]');
(undef, $j, $names) = list_names('acme', $auth, '/Groups', qq{displayName sw "Engineering $tag" or displayName sw "Sales $tag"},
                                 'displayName', '&sortBy=displayName&sortOrder=descending');
is_deeply([map { $_->{displayName} } @{ ($j // {})->{Resources} // [] }], [$g2name, $gname], 'Groups sortBy displayName descending');

# --- ETags follow what the representation shows: membership is part of both
{
    my (undef, $gb) = scim_req('acme', 'GET', "/Groups/$g2->{id}", $auth);
    my $getag = ($gb // {})->{meta}{version};
    my (undef, $ub) = scim_req('acme', 'GET', "/Users/$u[2]{id}", $auth);
    my $uetag = ($ub // {})->{meta}{version};
    ($res) = scim_req('acme', 'PATCH', "/Groups/$g2->{id}", $auth,
                      patch_body({ op => 'add', path => 'members', value => [{ value => $u[2]{id} }] }));
    ok($res->code == 200 || $res->code == 204, 'add a user to a group');
    ($res, $j) = scim_req('acme', 'GET', "/Users/$u[2]{id}", $auth, undef, 'If-None-Match' => $uetag);
    is($res->code, 200, "the user's old ETag no longer matches once its groups changed (no stale 304)");
    ok((grep { $_->{value} eq $g2->{id} } @{ ($j // {})->{groups} // [] }), 'and the user lists the group');
    isnt(($j // {})->{meta}{version}, $uetag, 'the user has a new version');
    (undef, $gb) = scim_req('acme', 'GET', "/Groups/$g2->{id}", $auth);
    $getag = ($gb // {})->{meta}{version};
    (undef, $ub) = scim_req('acme', 'GET', "/Users/$u[2]{id}", $auth);
    $uetag = ($ub // {})->{meta}{version};
    ($res) = scim_req('acme', 'PATCH', "/Groups/$g2->{id}", $auth,
                      patch_body({ op => 'replace', path => 'displayName', value => "$g2name renamed" }));
    ($res, $j) = scim_req('acme', 'GET', "/Users/$u[2]{id}", $auth, undef, 'If-None-Match' => $uetag);
    is($res->code, 200, "renaming the group changes its members' representation (groups.display): no stale 304");
    ($res) = scim_req('acme', 'PATCH', "/Groups/$g2->{id}", $auth,
                      patch_body({ op => 'replace', path => 'displayName', value => $g2name }));
    (undef, $gb) = scim_req('acme', 'GET', "/Groups/$g2->{id}", $auth);
    $getag = ($gb // {})->{meta}{version};
    ($res) = scim_req('acme', 'DELETE', "/Users/$u[2]{id}", $auth);
    is($res->code, 204, 'delete that user');
    ($res, $j) = scim_req('acme', 'GET', "/Groups/$g2->{id}", $auth, undef, 'If-None-Match' => $getag);
    is($res->code, 200, "deleting a member changes the group's version (no stale 304)");
    ok(!(grep { $_->{value} eq $u[2]{id} } @{ ($j // {})->{members} // [] }), 'and the member is gone');
}

# --- deleting a user removes it from its groups
($res) = scim_req('acme', 'DELETE', "/Users/$u[0]{id}", $auth);
is($res->code, 204, 'delete a member user: 204');
($res, $j) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is_deeply(member_ids($j), [$u[1]{id}], 'removed from group 1');
($res, $j) = scim_req('acme', 'GET', "/Groups/$g2->{id}", $auth);
is_deeply(member_ids($j), [], 'removed from group 2');
(undef, $j) = list_names('acme', $auth, '/Groups', qq{members.value eq "$u[0]{id}"}, 'displayName');
is(($j // {})->{totalResults}, 0, 'no group lists the deleted user');

# --- delete a group
($res) = scim_req('acme', 'DELETE', "/Groups/$g2->{id}", $auth);
is($res->code, 204, 'DELETE group: 204');
($res, $j) = scim_req('acme', 'GET', "/Groups/$g2->{id}", $auth);
is_scim_error($res, $j, 404, undef, 'GET deleted group: 404');
($res, $j) = scim_req('acme', 'DELETE', "/Groups/$g2->{id}", $auth);
is_scim_error($res, $j, 404, undef, 'DELETE again: 404');
($res, $j) = scim_req('acme', 'GET', "/Users/$u[1]{id}", $auth);
is_deeply([map { $_->{value} } @{ ($j // {})->{groups} // [] }], [$g->{id}], 'the user lists only the remaining group');
($res, $j) = scim_req('acme', 'GET', '/Groups/not-a-uuid', $auth);
is_scim_error($res, $j, 404, undef, 'malformed group id: 404');
($res, $j) = scim_req('acme', 'GET', "/Groups/$u[1]{id}", $auth);
is_scim_error($res, $j, 404, undef, "a user's id at /Groups: 404");
($res, $j) = scim_req('acme', 'GET', "/Users/$g->{id}", $auth);
is_scim_error($res, $j, 404, undef, "a group's id at /Users: 404");

# --- a big group
{
    my @many = map { mkuser('acme', $auth, "$tag-many$_") } 1 .. 60;
    ($res, $j) = scim_req('acme', 'POST', '/Groups', $auth,
                          group_body(displayName => "Big $tag", members => [map { { value => $_->{id} } } @many]));
    scim_ok($res, 201, 'group with 60 members: 201');
    my $big = $j // {};
    ($res, $j) = scim_req('acme', 'GET', "/Groups/$big->{id}", $auth);
    is(scalar @{ ($j // {})->{members} // [] }, 60, '60 members listed');
    ($res, $j) = scim_req('acme', 'PATCH', "/Groups/$big->{id}", $auth,
                          patch_body(map { { op => 'remove', path => qq{members[value eq "$_->{id}"]} } } @many[0 .. 29]));
    ok($res->code == 200 || $res->code == 204, 'remove 30 members in one PATCH (' . $res->code . ')');
    ($res, $j) = scim_req('acme', 'GET', "/Groups/$big->{id}", $auth);
    is_deeply(member_ids($j), [sort map { $_->{id} } @many[30 .. 59]], 'the other 30 remain');
}

done_testing();
