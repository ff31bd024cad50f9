# ETags as version counters that the writers bump (sql/005_versions.sql,
# issue 8): a user's ETag moves when a group that lists it is renamed or its
# membership changes, a group's when a member is renamed, added, removed or
# deleted; the user's groups column stays right through renames, removals
# and deletes; a token revoked between two requests gets 401 and writes
# nothing; and scimctl migrate upgrades a version 4 database with data.
use strict;
use warnings FATAL => 'all';
no warnings qw(uninitialized numeric);
use Test::More;
use Apache::Test ();
use ScimTest;

my ($res, $j);
my ($admin_auth, $tok) = scim_auth('alice', 'acme', 'okta', 'Versions Okta');
my $auth = $admin_auth;
my $tag = uniq_name('v64');

sub mk {
    my ($path, $body) = @_;
    my ($r, $b) = scim_req('acme', 'POST', $path, $auth, $body);
    die "POST $path: " . $r->status_line . "\n" . $r->decoded_content unless $r->code == 201;
    return $b;
}
sub etag_of {
    my ($path) = @_;
    my ($r, $b) = scim_req('acme', 'GET', $path, $auth);
    die "GET $path: " . $r->status_line . "\n" unless $r->code == 200;
    return ($r->header('ETag') // '', $b);
}
sub groups_col { sql("SELECT coalesce(groups, '-') FROM accounts WHERE id = '$_[0]'") }
sub group_names { [sort map { $_->{display} } @{ ($_[0] // {})->{groups} // [] }] }

my $u1 = mk('/Users', user_body(userName => "$tag-one", displayName => "One $tag"));
my $u2 = mk('/Users', user_body(userName => "$tag-two"));
like($u1->{meta}{version}, qr/^W\/"\d+"$/, 'ETag is W/"<n>"');
my $g = mk('/Groups', group_body(displayName => "$tag-Ops", members => [{ value => $u1->{id} }]));

# --- membership added by the group's creation: the user's ETag moved on
my ($e1, $b1) = etag_of("/Users/$u1->{id}");
isnt($e1, $u1->{meta}{version}, 'user ETag changed when a new group listed it');
is($e1, $b1->{meta}{version}, 'ETag header = meta.version');
is_deeply(group_names($b1), ["$tag-Ops"], 'the user lists the group');
like($b1->{groups}[0]{'$ref'}, qr{^http://[^"]+/Groups/\Q$g->{id}\E$}, 'groups.$ref has the base URL spliced in');

# --- a group rename moves the member's ETag and its groups
my ($ge1) = etag_of("/Groups/$g->{id}");
($res) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                  patch_body({ op => 'replace', path => 'displayName', value => "$tag-Operations" }));
ok($res->code == 200 || $res->code == 204, 'rename the group (' . $res->code . ')');
my ($ge2) = etag_of("/Groups/$g->{id}");
isnt($ge2, $ge1, 'group ETag changed by its rename');
is($res->header('ETag'), $ge2, 'the PATCH answered the new ETag');
my ($e2, $b2) = etag_of("/Users/$u1->{id}");
isnt($e2, $e1, "member's ETag changed after the group's rename");
is_deeply(group_names($b2), ["$tag-Operations"], 'and it lists the new name');
like(groups_col($u1->{id}), qr/\Q$tag-Operations\E/, 'the groups column has the new name');
($res) = scim_req('acme', 'PUT', "/Users/$u1->{id}", $auth, user_body(userName => "$tag-one"),
                  'If-Match' => $e1);
is($res->code, 412, 'If-Match with the ETag before the rename: 412');

# --- a member's rename moves the group's ETag
($res) = scim_req('acme', 'PATCH', "/Users/$u1->{id}", $auth,
                  patch_body({ op => 'replace', path => 'displayName', value => "Uno $tag" }));
is($res->code, 200, 'rename the member (displayName)');
my $e3 = $res->header('ETag');
my ($ge3, $gb3) = etag_of("/Groups/$g->{id}");
isnt($ge3, $ge2, "group ETag changed after a member's rename");
is($gb3->{members}[0]{display}, "Uno $tag", 'and its members show the new name');
($res) = scim_req('acme', 'PATCH', "/Users/$u1->{id}", $auth,
                  patch_body({ op => 'replace', path => 'active', value => JSON::PP::false() }));
is($res->code, 200, 'deactivate the member');
my ($ge3b) = etag_of("/Groups/$g->{id}");
is($ge3b, $ge3, "a member's change that the group does not show leaves its ETag");

# --- membership changes, seen from both sides
my ($e2u2) = etag_of("/Users/$u2->{id}");
($res) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                  patch_body({ op => 'add', path => 'members', value => [{ value => $u2->{id} }] }));
ok($res->code == 200 || $res->code == 204, 'add a member (' . $res->code . ')');
my ($ge4) = etag_of("/Groups/$g->{id}");
isnt($ge4, $ge3, 'group ETag changed when a member was added');
my ($e3u2, $bu2) = etag_of("/Users/$u2->{id}");
isnt($e3u2, $e2u2, "the added user's ETag changed");
is_deeply(group_names($bu2), ["$tag-Operations"], 'the added user lists the group');
my ($e4) = etag_of("/Users/$u1->{id}");
($res) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                  patch_body({ op => 'remove', path => qq{members[value eq "$u1->{id}"]} }));
ok($res->code == 200 || $res->code == 204, 'remove a member (' . $res->code . ')');
my ($ge5) = etag_of("/Groups/$g->{id}");
isnt($ge5, $ge4, 'group ETag changed when a member was removed');
my ($e5, $b5) = etag_of("/Users/$u1->{id}");
isnt($e5, $e4, "the removed user's ETag changed");
is_deeply(group_names($b5), [], 'the removed user lists no group');
is(groups_col($u1->{id}), '-', 'its groups column is empty (NULL)');
($res) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $auth,
                  patch_body({ op => 'add', path => 'members', value => [{ value => $u2->{id} }] }));
my ($ge5b) = etag_of("/Groups/$g->{id}");
my ($e5u2) = etag_of("/Users/$u2->{id}");
is($e5u2, $e3u2, 'adding a member that is already there leaves its ETag');

# --- deletes: a deleted user leaves the group (ETag moves), a deleted group
# leaves its members (ETag and groups column)
my $g2 = mk('/Groups', group_body(displayName => "$tag-Dev", members => [{ value => $u2->{id} }]));
like(groups_col($u2->{id}), qr/\Q$tag-Dev\E.*|\Q$tag-Operations\E/, 'u2 is in two groups');
my ($e6u2, $b6u2) = etag_of("/Users/$u2->{id}");
is_deeply(group_names($b6u2), [sort "$tag-Dev", "$tag-Operations"], 'u2 lists both groups');
($res) = scim_req('acme', 'DELETE', "/Groups/$g2->{id}", $auth);
is($res->code, 204, 'delete a group');
my ($e7u2, $b7u2) = etag_of("/Users/$u2->{id}");
isnt($e7u2, $e6u2, "the member's ETag changed when its group was deleted");
is_deeply(group_names($b7u2), ["$tag-Operations"], 'and it lists the other group only');
unlike(groups_col($u2->{id}), qr/\Q$tag-Dev\E/, 'the groups column lost the deleted group');
($res) = scim_req('acme', 'DELETE', "/Users/$u2->{id}", $auth);
is($res->code, 204, 'delete the member');
my ($ge6, $gb6) = etag_of("/Groups/$g->{id}");
isnt($ge6, $ge5b, "group ETag changed when a member was deleted");
is_deeply($gb6->{members} // [], [], 'the group has no members left');

# --- a token revoked between two requests: 401, nothing written
{
    my ($tauth, $t) = scim_auth('alice', 'acme', 'okta', 'Versions revoked');
    my ($r, $b) = scim_req('acme', 'POST', '/Users', $tauth, user_body(userName => "$tag-live"));
    is($r->code, 201, 'the token works');
    my $live = $b;
    my $idp = sql("SELECT a.idp_id FROM accounts a JOIN tokens k ON k.account_id = a.id WHERE k.id = '$t->{id}'");
    ($r) = admin_req('alice', 'DELETE', 'acme', "api/identity-providers/$idp/tokens/$t->{id}");
    ok($r->code == 200 || $r->code == 204, 'token revoked (' . $r->code . ')');
    my $doc = sql("SELECT doc::text || version FROM accounts WHERE id = '$live->{id}'");
    ($r) = scim_req('acme', 'POST', '/Users', $tauth, user_body(userName => "$tag-late"));
    is($r->code, 401, 'POST with the revoked token: 401');
    is(sql("SELECT count(*) FROM accounts WHERE user_name = '$tag-late'"), 0, 'no user created');
    ($r) = scim_req('acme', 'PATCH', "/Users/$live->{id}", $tauth,
                    patch_body({ op => 'replace', path => 'title', value => 'x' }));
    is($r->code, 401, 'PATCH with the revoked token: 401');
    ($r) = scim_req('acme', 'PUT', "/Users/$live->{id}", $tauth, user_body(userName => "$tag-live", title => 'y'));
    is($r->code, 401, 'PUT with the revoked token: 401');
    ($r) = scim_req('acme', 'POST', '/Groups', $tauth, group_body(displayName => "$tag-late", members => [{ value => $live->{id} }]));
    is($r->code, 401, 'POST /Groups with the revoked token: 401');
    ($r) = scim_req('acme', 'PATCH', "/Groups/$g->{id}", $tauth,
                    patch_body({ op => 'add', path => 'members', value => [{ value => $live->{id} }] }));
    is($r->code, 401, 'group PATCH with the revoked token: 401');
    ($r) = scim_req('acme', 'DELETE', "/Users/$live->{id}", $tauth);
    is($r->code, 401, 'DELETE with the revoked token: 401');
    is(sql("SELECT doc::text || version FROM accounts WHERE id = '$live->{id}'"), $doc, 'the user is unchanged');
    is(sql("SELECT count(*) FROM groups WHERE display_name = '$tag-late'"), 0, 'no group created');
    is(sql("SELECT count(*) FROM group_members WHERE account_id = '$live->{id}'"), 0, 'no membership written');
    ($r) = scim_req('acme', 'GET', "/Users/$live->{id}", $tauth);
    is($r->code, 401, 'GET with the revoked token: 401');
    ($r) = scim_req('acme', 'GET', '/ServiceProviderConfig', $tauth);
    is($r->code, 401, 'discovery with the revoked token: 401');
    ($r) = scim_req('acme', 'GET', '/Users?filter=' . fq(qq{userName eq "$tag-live"}), $tauth);
    is($r->code, 401, 'filter with the revoked token: 401');
    ($r) = scim_req('acme', 'DELETE', "/Users/$live->{id}", $auth);
    is($r->code, 204, 'the other token still works');
}

# --- scimctl migrate: a database at version 4 with data
{
    my $s = scratch_db('v64', 4);
    my $run = $s->{run};
    $run->("INSERT INTO tenants (slug, name) VALUES ('t1', 'T1')");
    for my $u (qw(ann ben cid)) {
        $run->("INSERT INTO accounts (tenant_id, kind, user_name, billable, doc, version) SELECT id, 'user', '$u', "
               . "true, '{\"userName\": \"$u\"}', 3 FROM tenants");
    }
    $run->("INSERT INTO groups (tenant_id, display_name, version) SELECT id, n, 2 FROM tenants, "
           . "(VALUES ('Zeta \"Z\"'), ('alpha')) v(n)");
    $run->("INSERT INTO group_members (tenant_id, group_id, account_id) SELECT a.tenant_id, g.id, a.id "
           . "FROM accounts a, groups g WHERE a.user_name IN ('ann', 'ben') AND (a.user_name = 'ann' OR g.display_name = 'alpha')");
    my $conninfo = $s->{conninfo};
    my ($rc, $out) = scimctl('--db', $conninfo, 'migrate');
    is($rc, 0, 'scimctl migrate succeeds') or diag $out;
    like($out, qr/applied 005_versions/, 'applies 005_versions') or diag $out;
    unlike($out, qr/applied 00[1-4]/, 'and nothing older');
    my $ann = $run->("SELECT groups FROM accounts WHERE user_name = 'ann'");
    my @g = map { $_->{display} } @{ JSON::PP->new->decode('[' . ($ann =~ s/\x01/http:\/\/h/gr) . ']') };
    is_deeply(\@g, ['alpha', 'Zeta "Z"'], "ann's groups column: both groups, in name order");
    like($ann, qr{"\$ref":"\x01/Groups/}, 'with the base URL mark');
    is($run->("SELECT coalesce(groups, '-') FROM accounts WHERE user_name = 'cid'"), '-', 'cid is in none');
    is($run->("SELECT string_agg(version::text, ',' ORDER BY user_name) FROM accounts"), '3,3,3',
       'versions kept');
    is($run->("SELECT count(*) FROM pg_proc WHERE proname IN ('scim_token_user', 'scim_token_live', "
              . "'scim_user_json', 'scim_user_out', 'scim_group_json', 'scim_user_version', "
              . "'scim_group_version', 'scim_ts')"), 0, 'the plpgsql hot path of version 2 is gone');
    $run->("INSERT INTO group_members (tenant_id, group_id, account_id) SELECT a.tenant_id, g.id, a.id "
           . "FROM accounts a, groups g WHERE a.user_name = 'cid' AND g.display_name = 'alpha'");
    is($run->("SELECT version || ' ' || (groups LIKE '%alpha%') FROM accounts WHERE user_name = 'cid'"), '4 true',
       'after the upgrade a new membership bumps the version and fills the column');
    $run->("UPDATE groups SET display_name = 'beta' WHERE display_name = 'alpha'");
    is($run->("SELECT string_agg(version || ':' || (groups LIKE '%beta%'), ',' ORDER BY user_name) FROM accounts"),
       '4:true,4:true,5:true', 'a group rename bumps every member and rewrites its groups');
    ($rc, $out) = scimctl('--db', $conninfo, 'migrate');
    my ($latest) = map { /^(\d+)_/ ? $1 + 0 : () } reverse sort map { (split m{/})[-1] } glob(root_dir() . '/sql/[0-9]*.sql');
    like($out, qr/already at version $latest\b/, "migrate again: nothing to do (at $latest, the last in sql/)");
}

done_testing();
