# Bytes that are not UTF-8 (a stray byte, overlong, truncated, a surrogate,
# above U+10FFFF) in every part of a request the module reads -- query
# parameter names and values, path segments, If-Match, If-None-Match, JSON
# string values and keys -- get a 400 in the location's error format, never
# a 5xx, and change nothing (SPEC 5.1 "Hostile input"). Also: the requests
# that crashed a child (client bytes quoted in an error detail), If-Match
# that matches nothing (412, not 503), GET /Me, startIndex/count limits.
use strict;
use warnings FATAL => 'all';
no warnings qw(uninitialized);
use Test::More;
use Apache::Test ();
use HTTP::Request ();
use LWP::UserAgent ();
use Encode ();
use JSON::PP ();
use MIME::Base64 ();
use ScimTest;

my %BAD = (
    'xFF'       => "\xFF",
    'overlong'  => "\xC0\xAF",
    'truncated' => "\xE2\x82",
    'surrogate' => "\xED\xA0\x80",
    'above'     => "\xF4\x90\x80\x80",
);
my @BAD = sort keys %BAD;
my $MARK = '@@BAD@@';
my $json = JSON::PP->new->canonical;

my ($auth) = scim_auth('alice', 'acme', 'okta', 'Bad bytes');
my $idp = new_idp('alice', 'acme', 'entra', 'Bad bytes admin');
my ($tres, $tok) = create_token('alice', 'acme', $idp);
die "token: " . $tres->status_line unless $tres->code == 201;

# A user and a group to address.
my ($res, $j) = scim_req('acme', 'POST', '/Users', $auth,
                         user_body(userName => uniq_name('bb-user'), displayName => 'BB'));
die 'user: ' . $res->status_line unless $res->code == 201;
my $uid = $j->{id};
my $uver = $j->{meta}{version};
($res, $j) = scim_req('acme', 'POST', '/Groups', $auth,
                      group_body(displayName => uniq_name('bb-group'),
                                 members => [{ value => $uid }]));
die 'group: ' . $res->status_line unless $res->code == 201;
my $gid = $j->{id};

sub pct { join '', map { sprintf '%%%02X', ord } split //, shift }

# Everything a rejected request could have changed, as one fingerprint.
sub state_of {
    return join '|', map { sql($_) // '' }
        "SELECT md5(coalesce(string_agg(id::text || ':' || version || ':' || doc::text || active::text, ',' ORDER BY id), '')) FROM accounts",
        "SELECT md5(coalesce(string_agg(id::text || ':' || version || ':' || doc::text, ',' ORDER BY id), '')) FROM groups",
        "SELECT md5(coalesce(string_agg(group_id::text || account_id::text, ',' ORDER BY group_id, account_id), '')) FROM group_members",
        "SELECT md5(coalesce(string_agg(id::text || coalesce(deleted_at::text, '-'), ',' ORDER BY id), '')) FROM tokens",
        "SELECT md5(coalesce(string_agg(id::text, ',' ORDER BY id), '')) FROM identity_providers",
        "SELECT md5(coalesce(string_agg(id::text || coalesce(read_at::text, '-'), ',' ORDER BY id), '')) FROM notifications";
}

sub ua { my $u = LWP::UserAgent->new(timeout => 30, keep_alive => 0); $u->max_redirect(0); $u }

# One raw request: path (already %-encoded), headers, body bytes.
sub raw_req {
    my ($method, $url, $body, @h) = @_;
    my $req = HTTP::Request->new($method => $url);
    while (@h) {
        my ($k, $v) = splice @h, 0, 2;
        $req->header($k => $v);
    }
    $req->content($body) if defined $body;
    my $r = ua()->request($req);
    return ($r, json_of($r));
}

my $U = 'urn:ietf:params:scim:schemas:core:2.0:User';
my $PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
# SCIM routes: [name, method, path, body (with $MARK inside one string)]
my @scim = (
    ['GET /Users',          'GET',    '/Users'],
    ['POST /Users',         'POST',   '/Users',
     { schemas => [$U], userName => "bb-new-$MARK", displayName => "N $MARK" }],
    ['GET /Users/{id}',     'GET',    "/Users/$uid"],
    ['PUT /Users/{id}',     'PUT',    "/Users/$uid",
     { schemas => [$U], userName => "bb-put-$MARK", displayName => "P $MARK" }],
    ['PATCH /Users/{id}',   'PATCH',  "/Users/$uid",
     { schemas => [$PATCH], Operations => [{ op => 'replace', path => 'displayName', value => "X $MARK" }] }],
    ['DELETE /Users/{id}',  'DELETE', "/Users/$uid"],
    ['GET /Groups',         'GET',    '/Groups'],
    ['POST /Groups',        'POST',   '/Groups',
     { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName => "bb-g-$MARK" }],
    ['GET /Groups/{id}',    'GET',    "/Groups/$gid"],
    ['PUT /Groups/{id}',    'PUT',    "/Groups/$gid",
     { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName => "bb-gp-$MARK" }],
    ['PATCH /Groups/{id}',  'PATCH',  "/Groups/$gid",
     { schemas => [$PATCH], Operations => [{ op => 'replace', path => 'displayName', value => "G $MARK" }] }],
    ['DELETE /Groups/{id}', 'DELETE', "/Groups/$gid"],
    ['POST /.search',       'POST',   '/.search',
     { schemas => ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter => "userName eq \"$MARK\"" }],
    ['POST /Users/.search', 'POST',   '/Users/.search',
     { schemas => ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], sortBy => "userName$MARK" }],
    ['POST /Bulk',          'POST',   '/Bulk',
     { schemas => ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
       Operations => [{ method => 'POST', path => '/Users', bulkId => 'b1',
                        data => { schemas => [$U], userName => "bb-bulk-$MARK" } }] }],
    ['GET /Schemas/{id}',   'GET',    "/Schemas/$U"],
    ['GET /ResourceTypes/User', 'GET', '/ResourceTypes/User'],
);
# Admin routes (relative to the admin location).
my $tokpath = "api/identity-providers/$idp/tokens";
my @admin = (
    ['GET identity-providers',  'GET',    'api/identity-providers'],
    ['POST identity-providers', 'POST',   'api/identity-providers', { type => 'okta', name => "BB $MARK" }],
    ['GET tokens',              'GET',    $tokpath],
    ['POST tokens',             'POST',   $tokpath, { note => "n $MARK" }],
    ['DELETE tokens/{id}',      'DELETE', "$tokpath/$tok->{id}"],
    ['GET notifications',       'GET',    'api/notifications'],
    ['GET accounts',            'GET',    'api/accounts'],
);

# The request of one (route, parameter, bad bytes) cell: (method, url, body, headers).
sub cell {
    my ($base, $route, $param, $bad, @auth) = @_;
    my ($name, $method, $path, $body) = @$route;
    my @h = @auth;
    my $text;
    if ($body) {
        $text = Encode::encode('UTF-8', $json->encode($body));
        if ($param eq 'json value') {
            $text =~ s/\Q$MARK\E/$bad/;
        } else {
            $text =~ s/\Q$MARK\E/ok/g;
        }
        $text =~ s/^\{/{"k$bad":"v",/ if $param eq 'json key';
        push @h, 'Content-Type' => ($base =~ /scim/ ? 'application/scim+json' : 'application/json');
    }
    my $url = $base . $path;
    if ($param eq 'path segment') {
        $url .= pct($bad);
    } elsif ($param eq 'query name') {
        $url .= '?' . pct($bad) . '=1';
    } elsif ($param eq 'query value') {
        $url .= '?' . ($base =~ /scim/ ? 'attributes' : 'x') . '=' . pct($bad);
    } elsif ($param eq 'If-Match') {
        push @h, 'If-Match' => "\"$bad\"";
    } elsif ($param eq 'If-None-Match') {
        push @h, 'If-None-Match' => "W/\"1-$bad\"";
    }
    return ($method, $url, $text, @h);
}

my @params = ('query name', 'query value', 'path segment', 'If-Match', 'If-None-Match',
              'json value', 'json key');

my $before = state_of();
my $scim_base = base_url() . '/t/acme/scim/v2';
my $admin_base = base_url() . '/t/acme/provisioning/';
my $basic = 'Basic ' . MIME::Base64::encode_base64('alice:pw-alice', '');
my ($n, @fail) = (0);
for my $route (@scim) {
    for my $param (@params) {
        next if $param =~ /^json/ && !$route->[3];
        for my $b (@BAD) {
            my ($r, $rj) = raw_req(cell($scim_base, $route, $param, $BAD{$b}, Authorization => $auth));
            $n++;
            my $ctype = $r->header('Content-Type') // '';
            my $want_type = $param =~ /^json/ ? 'invalidSyntax' : $param =~ /^If-/ ? 'invalidSyntax' : 'invalidValue';
            my @why;
            push @why, 'HTTP ' . $r->code if $r->code != 400;
            push @why, "Content-Type $ctype" unless $ctype =~ m{^application/scim\+json};
            push @why, 'not a SCIM Error' unless ref $rj eq 'HASH'
                && ($rj->{schemas}[0] // '') eq 'urn:ietf:params:scim:api:messages:2.0:Error'
                && ($rj->{status} // '') eq '400' && length($rj->{detail} // '');
            push @why, 'scimType ' . ($rj->{scimType} // '(none)') . " instead of $want_type"
                if ref $rj eq 'HASH' && ($rj->{scimType} // '') ne $want_type;
            push @why, 'Retry-After' if defined $r->header('Retry-After');
            push @fail, "SCIM $route->[0] / $param / $b: @why\n" . substr($r->as_string, 0, 400) if @why;
        }
    }
}
for my $route (@admin) {
    for my $param (@params) {
        next if $param =~ /^json/ && !$route->[3];
        for my $b (@BAD) {
            my ($r, $rj) = raw_req(cell($admin_base, $route, $param, $BAD{$b},
                                        Authorization => $basic, Accept => 'application/json'));
            $n++;
            my $ctype = $r->header('Content-Type') // '';
            my @why;
            push @why, 'HTTP ' . $r->code if $r->code != 400;
            push @why, "Content-Type $ctype" unless $ctype =~ m{^application/json};
            push @why, 'not {"error","message"}' unless ref $rj eq 'HASH'
                && length($rj->{error} // '') && length($rj->{message} // '') && !ref $rj->{message};
            push @why, 'Retry-After' if defined $r->header('Retry-After');
            push @fail, "admin $route->[0] / $param / $b: @why\n" . substr($r->as_string, 0, 400) if @why;
        }
    }
}
ok($n > 500, "the table has $n cells");
is(scalar @fail, 0, 'every cell of route x parameter x bad bytes: 400 in the location\'s error format')
    or diag join "\n", @fail[0 .. ($#fail < 15 ? $#fail : 14)];
is(state_of(), $before, 'nothing was stored, changed or deleted by any of them');

# The same requests with good bytes do work (so the table tests the bytes).
{
    my ($r) = raw_req(cell($scim_base, $scim[3], 'json value', 'fine', Authorization => $auth));
    is($r->code, 200, 'control: the PUT of the table with good bytes succeeds');
    ($r) = raw_req(cell($admin_base, $admin[3], 'json value', 'fine', Authorization => $basic));
    is($r->code, 201, 'control: the token POST of the table with good bytes succeeds');
    ($r, my $rj) = scim_req('acme', 'GET', "/Users/$uid", $auth);
    $uver = $rj->{meta}{version};
}

# --- the requests that used to kill a child -----------------------------
for my $q ('attributes=%FF', 'sortBy=%FF', '%FF=1&%FF=2', 'excludedAttributes=%C3',
           'filter=userName%20eq%20%22%FF%22', 'filter=%FF%20eq%201', 'sortBy=' . ('a' x 63) . '%C3%A9',
           'attributes=' . ('b' x 79) . '%C3%A9', 'a=1&a=2', 'attributes=%E2%80%AE%0A') {
    my ($r, $rj) = scim_req('acme', 'GET', "/Users?$q", $auth);
    is_scim_error($r, $rj, 400, undef, "GET /Users?$q: 400 with a SCIM Error");
    my $raw = $r->content;
    ok(eval { Encode::decode('UTF-8', $raw, Encode::FB_CROAK); 1 }, "GET /Users?$q: the body is valid UTF-8");
    unlike($rj->{detail} // '', qr/[\x00-\x1f\x{202a}-\x{202e}]/, "GET /Users?$q: detail has no control character");
}
for my $sort ('a' x 63 . "\x{e9}", 'a' x 64 . "\x{e9}", "\x{e9}" x 40, "x\x{202e}y") {
    my ($r, $rj) = scim_req('acme', 'POST', '/Users/.search', $auth,
                            jenc({ schemas => ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
                                   sortBy => $sort }));
    is_scim_error($r, $rj, 400, 'invalidValue', 'POST /Users/.search with sortBy of ' . length($sort) . ' characters: 400');
}
{
    # Bulk: a detail of every failed operation is a valid SCIM Error too.
    my ($r, $rj) = scim_req('acme', 'POST', '/Bulk', $auth,
                            jenc({ schemas => ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
                                   Operations => [{ method => "P\x{202e}UT", path => '/Users/' . ("\x{e9}" x 50) },
                                                  { method => 'POST', path => "/Nope\x01", bulkId => 'x' }] }));
    is($r->code, 200, 'Bulk with odd methods and paths: 200');
    my @st = map { $_->{status} } @{ $rj->{Operations} // [] };
    is_deeply(\@st, ['400', '400'], 'both operations fail with 400');
    ok(!grep({ !length($_->{response}{detail} // '') } @{ $rj->{Operations} // [] }), 'each has a detail');
}

# --- If-Match: malformed -> 400, matching nothing -> 412, never 503 ---------
{
    my $uurl = "$scim_base/Users/$uid";
    my $put = jenc(user_body(userName => uniq_name('bb-im'), displayName => 'IM'));
    for my $im ("\"\xff\"", "\xff", "W/\"\xc0\xaf\"", '"a" "b"', 'W/', '"unterminated', '*, "1-a"') {
        for my $m ('PUT', 'DELETE') {
            my ($r, $rj) = raw_req($m, $uurl, $m eq 'PUT' ? $put : undef, Authorization => $auth,
                                   'If-Match' => $im, 'Content-Type' => 'application/scim+json');
            is_scim_error($r, $rj, 400, undef, "$m If-Match: " . JSON::PP->new->ascii->encode([$im]) . ': 400');
            ok(!defined $r->header('Retry-After'), '... no Retry-After');
        }
    }
    for my $im ('"1-abc"', '"nope"', 'W/"999999-0"', '"1-abc", "x"', '""') {
        for my $m ('PUT', 'DELETE', 'PATCH') {
            my $body = $m eq 'PUT' ? $put : $m eq 'PATCH' ? jenc(patch_body({ op => 'replace', path => 'displayName', value => 'Z' })) : undef;
            my ($r, $rj) = raw_req($m, $uurl, $body, Authorization => $auth, 'If-Match' => $im,
                                   'Content-Type' => 'application/scim+json');
            is_scim_error($r, $rj, 412, undef, "$m If-Match: $im (matches nothing): 412");
        }
    }
    is(sql("SELECT count(*) FROM accounts WHERE id = '$uid'"), 1, 'the user is still there');
    # a list with the current version among others works
    my ($r, $rj) = raw_req('PUT', $uurl, $put, Authorization => $auth, 'If-Match' => "\"1-0\", $uver, W/\"x\"",
                           'Content-Type' => 'application/scim+json');
    is($r->code, 200, 'If-Match list holding the current version: 200') or diag $r->as_string;
    my $v2 = $rj->{meta}{version};
    ($r) = raw_req('GET', $uurl, undef, Authorization => $auth, 'If-None-Match' => "\"zz\", $v2");
    is($r->code, 304, 'If-None-Match list holding the current version: 304');
    ($r) = raw_req('GET', $uurl, undef, Authorization => $auth, 'If-None-Match' => '*');
    is($r->code, 304, 'If-None-Match: * on an existing resource: 304');
    ($r) = raw_req('GET', $uurl, undef, Authorization => $auth, 'If-None-Match' => $uver);
    is($r->code, 200, 'If-None-Match with an old version: 200');
    (my $strong = $v2) =~ s{^W/}{};
    ($r) = raw_req('DELETE', $uurl, undef, Authorization => $auth, 'If-Match' => $strong);
    is($r->code, 204, 'DELETE with If-Match naming the current version (weak comparison): 204');
    # Bulk "version" goes through the same parser
    ($r, $rj) = scim_req('acme', 'POST', '/Bulk', $auth,
                         jenc({ schemas => ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
                                Operations => [{ method => 'DELETE', path => "/Groups/$gid", version => "\"\x{e9}" },
                                               { method => 'DELETE', path => "/Groups/$gid", version => 'W/"1-0"' }] }));
    is_deeply([map { $_->{status} } @{ $rj->{Operations} // [] }], ['400', '412'],
              'Bulk versions: malformed 400, matching nothing 412');
}

# --- SPEC 5.1 extras: /Me, startIndex, count --------------------------------
{
    my ($r, $rj) = scim_req('acme', 'GET', '/Me', $auth);
    is_scim_error($r, $rj, 501, undef, 'GET /Me: 501 with a SCIM Error');
    ($r, $rj) = scim_req('acme', 'PATCH', '/Me', $auth, jenc(patch_body({ op => 'add', path => 'title', value => 'x' })));
    is_scim_error($r, $rj, 501, undef, 'PATCH /Me: 501');
    ($r) = scim_req('acme', 'GET', '/Me', undef);
    is($r->code, 401, 'GET /Me without a token: 401');

    my $total = sql("SELECT count(*) FROM accounts a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = 'acme' AND a.kind = 'user'");
    for my $si ($total + 1, 1000000, 2147483648, '9223372036854775807') {
        ($r, $rj) = scim_req('acme', 'GET', "/Users?startIndex=$si", $auth);
        is($r->code, 200, "startIndex=$si past the end: 200");
        is($rj->{totalResults}, $total, '... totalResults still counts every user');
        is(scalar @{ $rj->{Resources} // [] }, 0, '... and no Resources');
    }
    for my $q ('startIndex=9223372036854775808', 'startIndex=-9223372036854775809',
               'count=99999999999999999999', 'count=1e3', 'startIndex=%2B', 'count=') {
        ($r, $rj) = scim_req('acme', 'GET', "/Users?$q", $auth);
        is_scim_error($r, $rj, 400, 'invalidValue', "$q: 400 invalidValue");
    }
    ($r, $rj) = scim_req('acme', 'GET', '/Users?count=9223372036854775807&startIndex=-9223372036854775808', $auth);
    is($r->code, 200, 'the 64-bit extremes are accepted (and clamped)');
    for my $body ('{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"startIndex":99999999999999999999}',
                  '{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"count":-99999999999999999999}') {
        ($r, $rj) = scim_req('acme', 'POST', '/Users/.search', $auth, $body);
        is_scim_error($r, $rj, 400, 'invalidValue', '.search with a number beyond 64 bits: 400 invalidValue');
    }
    ($r, $rj) = scim_req('acme', 'POST', '/.search', $auth,
                         '{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"startIndex":9223372036854775807}');
    is($r->code, 200, '/.search past the end: 200');
    is(scalar @{ $rj->{Resources} // [] }, 0, '... and no Resources');
}

done_testing();
