# Limits and hostile input (issue 3 point 4): body size (413), JSON nesting,
# PATCH operations per request, count capped at filter.maxResults, malformed
# input; each with a clear SCIM error, nothing written, never a 500.
use strict;
use warnings FATAL => 'all';
no warnings qw(uninitialized numeric);
use Test::More;
use Apache::Test ();
use JSON::PP ();
use ScimTest;

my ($res, $j);
my ($auth) = scim_auth('alice', 'acme', 'okta', 'Limits Okta');
my $CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
my $PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
my $tag = uniq_name('l85');
sub exists_user {
    my ($n) = @_;
    my (undef, $b) = scim_req('acme', 'GET', '/Users?filter=' . fq(qq{userName eq "$n"}), $auth);
    return ($b // {})->{totalResults};
}

# --- body size: SCIMMaxBodySize 1048576
{
    my $n = "$tag-big";
    my $body = jenc(user_body(userName => $n, title => 'x' x (1048576 + 10)));
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, $body);
    is_scim_error($res, $j, 413, undef, 'a body over 1 MiB: 413 SCIM error');
    is(exists_user($n), 0, 'nothing written');
    # just under the limit is not refused for its size
    $n = "$tag-almost";
    $body = jenc(user_body(userName => $n, title => 'y' x 1040000));
    ok(length($body) < 1048576, 'a body just under 1 MiB');
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, $body);
    isnt($res->code, 413, 'is not refused for its size (' . $res->code . ')');
    isnt($res->code, 500, 'and is no 500');
    # a declared Content-Length over the limit is refused before reading
    my $ua = LWP::UserAgent->new(timeout => 30);
    my $req = HTTP::Request->new(POST => base_url() . '/t/acme/scim/v2/Users');
    $req->header(Authorization => $auth, 'Content-Type' => 'application/scim+json');
    $req->content('{' . (' ' x 2000000) . '}');
    $res = $ua->request($req);
    is($res->code, 413, 'a 2 MB body of whitespace: 413');
    # chunked, without Content-Length
    $n = "$tag-chunked";
    my $big = jenc(user_body(userName => $n, title => 'z' x 600000, nickName => 'q' x 600000));
    my @parts = unpack("(a65536)*", $big);
    $req = HTTP::Request->new(POST => base_url() . '/t/acme/scim/v2/Users');
    $req->header(Authorization => $auth, 'Content-Type' => 'application/scim+json');
    $req->content(sub { shift @parts });
    $res = $ua->request($req);
    is($res->code, 413, 'a 1.2 MB chunked body without Content-Length: 413');
    is(exists_user($n), 0, 'nothing written');
}

# --- JSON nesting depth 32
{
    my $n = "$tag-deep";
    my $deep = sub { my $d = shift; ('[' x $d) . '1' . (']' x $d) };
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth,
                          '{"schemas":["' . $CORE . '"],"userName":"' . $n . '","title":' . $deep->(40) . '}');
    is_scim_error($res, $j, 400, 'invalidSyntax', 'JSON nested 41 deep: 400 invalidSyntax');
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth,
                          '{"schemas":["' . $CORE . '"],"userName":"' . $n . '","title":' . $deep->(100000) . '}');
    is_scim_error($res, $j, 400, 'invalidSyntax', 'JSON nested 100000 deep: 400 invalidSyntax (no crash)');
    my $obj = ('{"a":' x 50000) . '1' . ('}' x 50000);
    ($res, $j) = scim_req('acme', 'PATCH', '/Users/00000000-0000-4000-8000-000000000000', $auth, $obj);
    ok($res->code == 400 || $res->code == 404, 'deep objects in a PATCH: 400 or 404 (' . $res->code . ')');
    is(exists_user($n), 0, 'nothing written');
    ($res, $j) = scim_req('acme', 'GET', '/ServiceProviderConfig', $auth);
    is($res->code, 200, 'the server is alive');
}

# --- malformed bodies
my %bad = (
    'empty body'            => '',
    'truncated object'      => '{"schemas":',
    'trailing garbage'      => '{"schemas":["' . $CORE . '"],"userName":"' . "$tag-tg" . '"} x',
    'a string'              => '"hello"',
    'a number'              => '42',
    'null'                  => 'null',
    'single quotes'         => "{'userName':'x'}",
    'invalid UTF-8'         => '{"schemas":["' . $CORE . '"],"userName":"' . "$tag-\xff\xfe" . '"}',
    'NUL byte in the text'  => "{\"schemas\":[\"$CORE\"],\"userName\":\"$tag-nul\x00\"}",
    'lone surrogate escape' => '{"schemas":["' . $CORE . '"],"userName":"' . "$tag-" . '\ud800"}',
);
for my $k (sort keys %bad) {
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, $bad{$k});
    is_scim_error($res, $j, 400, ($k =~ /surrogate|NUL|UTF-8|empty/ ? undef : 'invalidSyntax'), "POST $k: 400");
}
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, '{"schemas":["' . $CORE . '"],"userName":"' . "$tag-nul" . '\u0000x"}');
is_scim_error($res, $j, 400, undef, 'userName with an escaped NUL: 400');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, '{"schemas":["' . $CORE . '"],"userName":"a","userName":"b"}');
ok($res->code == 400, 'duplicate keys in the body: 400 (' . $res->code . ')');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, '{"schemas":["' . $CORE . '"],"userName":"' . "$tag-dup" . '","USERNAME":"x"}');
is_scim_error($res, $j, 400, 'invalidSyntax', 'userName and USERNAME: 400 invalidSyntax');
is(exists_user("$tag-dup"), 0, 'nothing written');

# --- PATCH: at most 100 operations
my ($u) = (scim_req('acme', 'POST', '/Users', $auth, user_body(userName => "$tag-patch", title => 'orig')))[1] // {};
ok($u->{id}, 'a user to patch');
{
    my @ops = map { { op => 'replace', path => 'title', value => "t$_" } } 1 .. 101;
    ($res, $j) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $auth, { schemas => [$PATCH], Operations => \@ops });
    is_scim_error($res, $j, 400, undef, '101 PATCH operations: 400');
    ok(($j // {})->{scimType} eq 'tooMany' || ($j // {})->{scimType} eq 'invalidValue',
       'scimType tooMany or invalidValue (' . (($j // {})->{scimType} // 'none') . ')');
    (undef, $j) = scim_req('acme', 'GET', "/Users/$u->{id}", $auth);
    is(($j // {})->{title}, 'orig', 'none applied');
    pop @ops;
    ($res, $j) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $auth, { schemas => [$PATCH], Operations => \@ops });
    is($res->code, 200, '100 PATCH operations: 200');
    is(($j // {})->{title}, 't100', 'applied in order');
    ($res, $j) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $auth, { schemas => [$PATCH], Operations => [] });
    is_scim_error($res, $j, 400, undef, 'zero PATCH operations: 400');
    ($res, $j) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $auth, { schemas => [$PATCH], Operations => { op => 'add' } });
    is_scim_error($res, $j, 400, undef, 'Operations not an array: 400');
    ($res, $j) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $auth, { schemas => ['urn:nope'], Operations => [{ op => 'replace', path => 'title', value => 'x' }] });
    is_scim_error($res, $j, 400, undef, 'PATCH without the PatchOp schema: 400');
    ($res, $j) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $auth, { schemas => [$PATCH], Operations => ['replace'] });
    is_scim_error($res, $j, 400, undef, 'an operation that is not an object: 400');
    ($res, $j) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $auth,
                          { schemas => [$PATCH], Operations => [{ op => 'replace', path => 'emails[' . ('(' x 200) . 'type eq "x"' . (')' x 200) . '].value', value => 'x' }] });
    is_scim_error($res, $j, 400, 'invalidPath', 'a PATCH path nested 200 deep: 400 invalidPath');
    ($res, $j) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $auth,
                          { schemas => [$PATCH], Operations => [{ op => 'replace', path => 'title', value => { nested => 'object' } }] });
    is_scim_error($res, $j, 400, 'invalidValue', 'an object for a string attribute: 400 invalidValue');
    ($res, $j) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $auth,
                          { schemas => [$PATCH], Operations => [{ op => 'add', path => 'emails', value => [map { { value => "e$_\@x.test" } } 1 .. 5000] }] });
    ok($res->code == 200 || $res->code == 400 || $res->code == 413, '5000 emails in one value: handled (' . $res->code . ')');
    (undef, $j) = scim_req('acme', 'GET', "/Users/$u->{id}", $auth);
    is(($j // {})->{title}, 't100', 'the user is intact');
}

# --- count is capped at filter.maxResults = 200
{
    my $n = 0;
    for my $i (1 .. 205) {
        my ($r) = scim_req('acme', 'POST', '/Users', $auth, user_body(userName => sprintf("$tag-cap%03d", $i)));
        $n++ if $r->code == 201;
    }
    is($n, 205, '205 users created');
    my $f = fq(qq{userName sw "$tag-cap"});
    ($res, $j) = scim_req('acme', 'GET', "/Users?filter=$f&count=1000", $auth);
    scim_ok($res, 200, 'count=1000: 200');
    is(($j // {})->{totalResults}, 205, 'totalResults 205');
    is(scalar @{ ($j // {})->{Resources} // [] }, 200, 'but 200 Resources (filter.maxResults)');
    is(($j // {})->{itemsPerPage}, 200, 'itemsPerPage 200');
    ($res, $j) = scim_req('acme', 'GET', "/Users?filter=$f", $auth);
    is(scalar @{ ($j // {})->{Resources} // [] }, 100, 'no count: the default page of 100');
    ($res, $j) = scim_req('acme', 'GET', "/Users?filter=$f&count=200&startIndex=201", $auth);
    is(scalar @{ ($j // {})->{Resources} // [] }, 5, 'the rest from startIndex 201');
    ($res, $j) = scim_req('acme', 'POST', '/Users/.search', $auth,
                          { schemas => ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
                            filter => qq{userName sw "$tag-cap"}, count => 5000 });
    is(scalar @{ ($j // {})->{Resources} // [] }, 200, '.search count 5000: capped to 200');
}

# --- odd requests: never a 500
{
    my @reqs = (
        ['GET', '/Users/%00'], ['GET', '/Users/..%2f..%2fetc%2fpasswd'], ['GET', '/Users/' . ('9' x 5000)],
        ['GET', '/Users?filter=%ZZ'], ['GET', '/Users?filter=' . fq("userName eq \"\x{1F600}\"")],
        ['GET', '/Users?sortBy=' . ('a' x 3000)], ['GET', '/Users?attributes=' . join(',', ('name.givenName') x 300)],
        ['GET', '/Users?excludedAttributes=..,,,'], ['GET', '/Users?count=1e3'], ['GET', '/Users?startIndex=0x10'],
        ['GET', '/Users?sortOrder=sideways'], ['DELETE', '/Users'], ['PUT', '/Users'], ['PATCH', '/Users'],
        ['POST', "/Users/$u->{id}"], ['GET', '/Users/' . $u->{id} . '/extra'], ['OPTIONS', '/Users'],
        ['GET', '/Groups?filter=' . fq('members[value eq "x"]')], ['GET', '/Groups/%27'],
        ['POST', '/Bulk'], ['GET', '/Bulk'], ['GET', '/.search'], ['GET', '/Schemas/urn:nope'],
        ['GET', '//Users'], ['GET', '/Users/'], ['GET', '/users'], ['HEAD', "/Users/$u->{id}"],
    );
    for my $r (@reqs) {
        my ($x) = scim_req('acme', $r->[0], $r->[1], $auth, $r->[0] =~ /^(POST|PUT|PATCH)$/ ? '{}' : undef);
        ok($x->code < 500, "$r->[0] " . substr($r->[1], 0, 50) . ': ' . $x->code . ', not 5xx');
    }
    ($res, $j) = scim_req('acme', 'GET', '/Users?sortOrder=sideways', $auth);
    ok($res->code == 400 || $res->code == 200, 'sortOrder sideways: 400 or ignored (' . $res->code . ')');
}

done_testing();
