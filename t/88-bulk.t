# /Bulk (RFC 7644 3.7): bulkId references in paths and data, failOnErrors,
# versions, per-operation errors, the advertised limits (maxOperations 100,
# maxPayloadSize 1048576 -> 413), tenant isolation inside a bulk request.
use strict;
use warnings FATAL => 'all';
no warnings qw(uninitialized numeric);
use Test::More;
use Apache::Test ();
use JSON::PP ();
use ScimTest;

my ($res, $j);
my ($auth) = scim_auth('alice', 'acme', 'okta', 'Bulk acme');
my ($gauth) = scim_auth('bob', 'globex', 'okta', 'Bulk globex');
my $BREQ = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
my $BRES = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';
my $CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
my $GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
my $PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
my $base = base_url() . '/t/acme/scim/v2';
my $tag = uniq_name('b88');

sub bulk {
    my ($ops, %x) = @_;
    return scim_req('acme', 'POST', '/Bulk', $auth, { schemas => [$BREQ], Operations => $ops, %x });
}
sub users_named {
    my ($prefix) = @_;
    my (undef, $b) = scim_req('acme', 'GET', '/Users?count=0&filter=' . fq(qq{userName sw "$prefix"}), $auth);
    return ($b // {})->{totalResults};
}
sub statuses { [map { $_->{status} } @{ ($_[0] // {})->{Operations} // [] }] }

# --- users and a group that references them by bulkId
($res, $j) = bulk([
    { method => 'POST', path => '/Users', bulkId => 'qwerty', data => { schemas => [$CORE], userName => "$tag-alice" } },
    { method => 'POST', path => '/Users', bulkId => 'ytrewq', data => { schemas => [$CORE], userName => "$tag-bob",
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' => { manager => { value => 'bulkId:qwerty' } },
      schemas => [$CORE, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'] } },
    { method => 'POST', path => '/Groups', bulkId => 'grp', data => { schemas => [$GROUP], displayName => "Bulk $tag",
      members => [{ type => 'User', value => 'bulkId:qwerty' }, { type => 'User', value => 'bulkId:ytrewq' }] } },
]);
scim_ok($res, 200, 'BulkRequest: 200');
like($res->header('Content-Type') // '', qr{^application/scim\+json}, 'BulkResponse is application/scim+json');
is_deeply(($j // {})->{schemas}, [$BRES], 'BulkResponse schema');
my @ops = @{ ($j // {})->{Operations} // [] };
is(scalar @ops, 3, 'three results');
is_deeply(statuses($j), ['201', '201', '201'], 'all 201');
like(content_of($res), qr/"status"\s*:\s*"201"/, 'status is a JSON string');
is_deeply([map { $_->{bulkId} } @ops], [qw(qwerty ytrewq grp)], 'bulkIds echoed');
is_deeply([map { $_->{method} } @ops], [qw(POST POST POST)], 'methods echoed');
my ($aid) = ($ops[0]{location} // '') =~ m{/Users/([0-9a-f-]{36})$};
my ($bid) = ($ops[1]{location} // '') =~ m{/Users/([0-9a-f-]{36})$};
my ($gid) = ($ops[2]{location} // '') =~ m{/Groups/([0-9a-f-]{36})$};
is($ops[0]{location}, "$base/Users/$aid", 'location of the first user');
like($ops[0]{version} // '', qr/^W\/"/, 'version of the first user');
($res, $j) = scim_req('acme', 'GET', "/Groups/$gid", $auth);
scim_ok($res, 200, 'the group exists');
is_deeply([sort map { $_->{value} } @{ ($j // {})->{members} // [] }], [sort $aid, $bid], 'members resolved from bulkIds');
($res, $j) = scim_req('acme', 'GET', "/Users/$bid", $auth);
is(($j // {})->{'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'}{manager}{value}, $aid,
   'a bulkId inside an attribute value resolved');
($res, $j) = scim_req('acme', 'GET', "/Users/$aid", $auth);
# The group created by the third operation lists the first user, so the
# user's representation (its groups) and with it its ETag moved on.
my $a_etag = $res->header('ETag') // '';
is($a_etag, ($j // {})->{meta}{version}, "the user's ETag = its meta.version");
isnt($a_etag, $ops[0]{version}, 'and it moved on when the group listed the user');

# --- PUT, PATCH, DELETE with bulkId paths and versions
($res, $j) = bulk([
    { method => 'POST', path => '/Users', bulkId => 'c', data => { schemas => [$CORE], userName => "$tag-carol" } },
    { method => 'PATCH', path => '/Users/bulkId:c', data => { schemas => [$PATCH], Operations => [{ op => 'replace', path => 'title', value => 'Patched' }] } },
    { method => 'PUT', path => "/Users/$aid", version => $a_etag, data => { schemas => [$CORE], userName => "$tag-alice", title => 'Put' } },
    { method => 'PATCH', path => "/Groups/$gid", data => { schemas => [$PATCH], Operations => [{ op => 'add', path => 'members', value => [{ value => 'bulkId:c' }] }] } },
]);
scim_ok($res, 200, 'second BulkRequest: 200');
# a group PATCH answers 204 No Content with its version (RFC 7644 3.5.2)
is_deeply(statuses($j), ['201', '200', '200', '204'], 'statuses 201, 200, 200, 204');
like((($j // {})->{Operations}[3] // {})->{version} // '', qr/^W\/"/, 'the group PATCH entry carries the new version');
my ($cid) = ((($j // {})->{Operations}[0] // {})->{location} // '') =~ m{/Users/([0-9a-f-]{36})$};
($res, $j) = scim_req('acme', 'GET', "/Users/$cid", $auth);
is(($j // {})->{title}, 'Patched', 'PATCH by bulkId path applied');
($res, $j) = scim_req('acme', 'GET', "/Users/$aid", $auth);
is(($j // {})->{title}, 'Put', 'PUT with a matching version applied');
($res, $j) = scim_req('acme', 'GET', "/Groups/$gid", $auth);
is(scalar @{ ($j // {})->{members} // [] }, 3, 'member added by bulkId');
($res, $j) = bulk([
    { method => 'PUT', path => "/Users/$aid", version => 'W/"stale"', data => { schemas => [$CORE], userName => "$tag-alice", title => 'Stale' } },
    { method => 'DELETE', path => "/Users/$bid" },
]);
is_deeply(statuses($j), ['412', '204'], 'a stale version: 412; DELETE: 204');
my $err = (($j // {})->{Operations}[0] // {})->{response} // {};
is($err->{status}, '412', 'the failed operation carries an Error response');
ok((grep { $_ eq 'urn:ietf:params:scim:api:messages:2.0:Error' } @{ $err->{schemas} // [] }), 'with the Error schema');
($res, $j) = scim_req('acme', 'GET', "/Users/$aid", $auth);
is(($j // {})->{title}, 'Put', 'the stale PUT changed nothing');
($res) = scim_req('acme', 'GET', "/Users/$bid", $auth);
is($res->code, 404, 'deleted by bulk');
($res, $j) = scim_req('acme', 'GET', "/Groups/$gid", $auth);
ok(!(grep { $_->{value} eq $bid } @{ ($j // {})->{members} // [] }), 'and removed from its group');

# --- errors per operation, failOnErrors
{
    my $p = "$tag-foe";
    my @o = (
        { method => 'POST', path => '/Users', bulkId => 'd1', data => { schemas => [$CORE], userName => "$tag-alice" } },   # 409
        { method => 'POST', path => '/Users', bulkId => 'ok1', data => { schemas => [$CORE], userName => "$p-1" } },
        { method => 'POST', path => '/Users', bulkId => 'd2', data => { schemas => [$CORE] } },                           # 400
        { method => 'POST', path => '/Users', bulkId => 'ok2', data => { schemas => [$CORE], userName => "$p-2" } },
    );
    ($res, $j) = bulk(\@o);
    scim_ok($res, 200, 'without failOnErrors: 200');
    is_deeply(statuses($j), ['409', '201', '400', '201'], 'every operation processed');
    is((($j // {})->{Operations}[0] // {})->{response}{scimType}, 'uniqueness', 'the duplicate: uniqueness');
    is(users_named("$p-"), 2, 'the good ones written');
    $o[1]{data}{userName} = "$p-3";
    $o[3]{data}{userName} = "$p-4";
    ($res, $j) = bulk(\@o, failOnErrors => 1);
    scim_ok($res, 200, 'failOnErrors 1: 200');
    is_deeply(statuses($j), ['409'], 'stops after the first error');
    is(users_named("$p-3"), 0, 'nothing after it was processed');
    ($res, $j) = bulk(\@o, failOnErrors => 2);
    is_deeply(statuses($j), ['409', '201', '400'], 'failOnErrors 2: stops after the second error');
    is(users_named("$p-3"), 1, 'the operation between the errors was processed');
    is(users_named("$p-4"), 0, 'the one after the second error was not');
    ($res, $j) = bulk([{ method => 'POST', path => '/Users', bulkId => 'x', data => { schemas => [$CORE], userName => "$p-5" } }],
                      failOnErrors => 0);
    ok($res->code == 200 || $res->code == 400, 'failOnErrors 0: 200 or 400 (' . $res->code . ')');
}

# --- references that cannot be resolved
($res, $j) = bulk([
    { method => 'POST', path => '/Groups', bulkId => 'g', data => { schemas => [$GROUP], displayName => "Dangling $tag",
      members => [{ value => 'bulkId:nosuch' }] } },
]);
scim_ok($res, 200, 'an unknown bulkId: 200 BulkResponse');
like(statuses($j)->[0] // '', qr/^4\d\d$/, 'with a 4xx for the operation (' . (statuses($j)->[0] // 'none') . ')');
(undef, $j) = list_names('acme', $auth, '/Groups', qq{displayName eq "Dangling $tag"}, 'displayName');
is(($j // {})->{totalResults}, 0, 'the group was not created');
($res, $j) = bulk([
    { method => 'POST', path => '/Users', bulkId => 'bad', data => { schemas => [$CORE] } },
    { method => 'POST', path => '/Groups', bulkId => 'g2', data => { schemas => [$GROUP], displayName => "Dep $tag",
      members => [{ value => 'bulkId:bad' }] } },
]);
is_deeply([map { /^4\d\d$/ ? '4xx' : $_ } @{ statuses($j) }], ['4xx', '4xx'], 'a reference to a failed operation fails too');
($res, $j) = bulk([{ method => 'POST', path => '/Users', data => { schemas => [$CORE], userName => "$tag-nobulkid" } }]);
is(statuses($j)->[0], '400', 'POST without bulkId: 400 for the operation');
($res, $j) = bulk([{ method => 'GET', path => "/Users/$aid" }, { method => 'POST', path => '/Nope', bulkId => 'n', data => {} },
                   { method => 'PATCH', path => '/Users/not-a-uuid', data => { schemas => [$PATCH], Operations => [] } }]);
ok($res->code == 200 || $res->code == 400, 'odd operations: 200 or 400 (' . $res->code . ')');
ok(!(grep { !/^[2-4]\d\d$/ } @{ statuses($j) }), 'never a 5xx inside (' . join(',', @{ statuses($j) }) . ')');

# --- isolation inside bulk
{
    my ($gu) = (scim_req('globex', 'POST', '/Users', $gauth, user_body(userName => "$tag-globex", title => 'mine')))[1] // {};
    ($res, $j) = bulk([
        { method => 'PATCH', path => "/Users/$gu->{id}", data => { schemas => [$PATCH], Operations => [{ op => 'replace', path => 'title', value => 'pwned' }] } },
        { method => 'DELETE', path => "/Users/$gu->{id}" },
        { method => 'POST', path => '/Groups', bulkId => 'x', data => { schemas => [$GROUP], displayName => "X $tag", members => [{ value => $gu->{id} }] } },
    ]);
    is_deeply(statuses($j), ['404', '404', '400'], "globex's user in acme's bulk: 404, 404, 400");
    (undef, $j) = scim_req('globex', 'GET', "/Users/$gu->{id}", $gauth);
    is(($j // {})->{title}, 'mine', "globex's user untouched");
}

# --- limits: 100 operations, 1 MiB
{
    my $p = "$tag-lim";
    my @o = map { { method => 'POST', path => '/Users', bulkId => "b$_", data => { schemas => [$CORE], userName => "$p-$_" } } } 1 .. 101;
    ($res, $j) = bulk(\@o);
    is_scim_error($res, $j, 413, undef, '101 operations: 413');
    is(users_named("$p-"), 0, 'nothing written');
    pop @o;
    ($res, $j) = bulk(\@o);
    scim_ok($res, 200, '100 operations: 200');
    is(scalar(grep { $_ eq '201' } @{ statuses($j) }), 100, 'all 100 created');
    is(users_named("$p-"), 100, '100 users');
    my $q = "$tag-big";
    my @big = map { { method => 'POST', path => '/Users', bulkId => "g$_", data => { schemas => [$CORE], userName => "$q-$_", title => 'x' x 30000 } } } 1 .. 40;
    ($res, $j) = bulk(\@big);
    is_scim_error($res, $j, 413, undef, 'a 1.2 MB BulkRequest: 413');
    is(users_named("$q-"), 0, 'nothing written');
}

# --- malformed requests
($res, $j) = scim_req('acme', 'POST', '/Bulk', $auth, { schemas => ['urn:nope'], Operations => [] });
is_scim_error($res, $j, 400, undef, 'BulkRequest without its schema: 400');
($res, $j) = scim_req('acme', 'POST', '/Bulk', $auth, { schemas => [$BREQ] });
is_scim_error($res, $j, 400, undef, 'BulkRequest without Operations: 400');
($res, $j) = scim_req('acme', 'POST', '/Bulk', $auth, '{"schemas":["' . $BREQ . '"],"Operations":[');
is_scim_error($res, $j, 400, 'invalidSyntax', 'malformed BulkRequest: 400 invalidSyntax');
($res, $j) = scim_req('acme', 'GET', '/Bulk', $auth);
ok($res->code == 405 || $res->code == 404, 'GET /Bulk: 405 or 404 (' . $res->code . ')');

done_testing();
