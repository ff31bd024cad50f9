# SCIM Users (RFC 7643 4.1, RFC 7644 3.3-3.6) and the discovery endpoints:
# create, read, replace, patch, delete; ETags; media types; uniqueness of
# userName (case-insensitive, Unicode-aware); projection; no nulls.
use strict;
use warnings FATAL => 'all';
no warnings qw(uninitialized numeric);
use utf8;
use Test::More;
use Apache::Test ();
use JSON::PP ();
use POSIX ();
use ScimTest;

my ($res, $j);
my ($auth) = scim_auth('alice', 'acme', 'okta', 'Users Okta');
my $CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
my $ENT  = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
my $base = base_url() . '/t/acme/scim/v2';
my $UUID = uuid_re();

# --- discovery -------------------------------------------------------------
($res, $j) = scim_req('acme', 'GET', '/ServiceProviderConfig', $auth);
scim_ok($res, 200, 'ServiceProviderConfig: 200');
$j //= {};
like($res->header('Content-Type') // '', qr{^application/scim\+json}, 'ServiceProviderConfig is application/scim+json');
is_deeply($j->{schemas}, ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'], 'ServiceProviderConfig schemas');
ok(($j->{patch}{supported} // 0) && JSON::PP::is_bool($j->{patch}{supported}), 'patch supported (a JSON boolean)');
ok($j->{bulk}{supported}, 'bulk supported');
is($j->{bulk}{maxOperations}, 100, 'bulk.maxOperations 100');
is($j->{bulk}{maxPayloadSize}, 1048576, 'bulk.maxPayloadSize 1048576');
ok($j->{filter}{supported}, 'filter supported');
is($j->{filter}{maxResults}, 200, 'filter.maxResults 200');
ok($j->{sort}{supported}, 'sort supported');
ok($j->{etag}{supported}, 'etag supported');
ok(JSON::PP::is_bool($j->{changePassword}{supported}) && !$j->{changePassword}{supported},
   'changePassword not supported');
ok(ref $j->{authenticationSchemes} eq 'ARRAY' && @{ $j->{authenticationSchemes} }, 'authenticationSchemes listed');
is_deeply([null_paths($j)], [], 'ServiceProviderConfig has no nulls');
($res) = scim_req('acme', 'POST', '/ServiceProviderConfig', $auth, '{}');
ok($res->code == 405 || $res->code == 501, 'POST /ServiceProviderConfig refused (' . $res->code . ')');

($res, $j) = scim_req('acme', 'GET', '/ResourceTypes', $auth);
scim_ok($res, 200, 'ResourceTypes: 200');
$j //= {};
my %rt = map { ($_->{id} // $_->{name} // '') => $_ } @{ $j->{Resources} // [] };
is_deeply([sort keys %rt], [qw(Group User)], 'ResourceTypes: User and Group');
is($rt{User}{endpoint}, '/Users', 'User endpoint /Users');
is($rt{User}{schema}, $CORE, 'User schema');
is_deeply([map { $_->{schema} } @{ $rt{User}{schemaExtensions} // [] }], [$ENT], 'User has the enterprise extension');
ok(exists $rt{User}{schemaExtensions}[0]{required} && !$rt{User}{schemaExtensions}[0]{required},
   'enterprise extension not required');
is($rt{Group}{endpoint}, '/Groups', 'Group endpoint /Groups');
is($rt{Group}{schema}, 'urn:ietf:params:scim:schemas:core:2.0:Group', 'Group schema');
is_deeply([null_paths($j)], [], 'ResourceTypes has no nulls');
($res, $j) = scim_req('acme', 'GET', '/ResourceTypes/User', $auth);
scim_ok($res, 200, 'ResourceTypes/User: 200');
is(($j // {})->{endpoint}, '/Users', 'ResourceTypes/User is the User type');
($res, $j) = scim_req('acme', 'GET', '/ResourceTypes/Nope', $auth);
is_scim_error($res, $j, 404, undef, 'unknown resource type: 404');

($res, $j) = scim_req('acme', 'GET', '/Schemas', $auth);
scim_ok($res, 200, 'Schemas: 200');
$j //= {};
my %sch = map { ($_->{id} // '') => $_ } @{ $j->{Resources} // [] };
is_deeply([sort keys %sch], [sort ($CORE, $ENT, 'urn:ietf:params:scim:schemas:core:2.0:Group')],
          'Schemas: User, EnterpriseUser, Group');
is_deeply([null_paths($j)], [], 'Schemas has no nulls');
{
    my %ua = map { lc($_->{name}) => $_ } @{ $sch{$CORE}{attributes} // [] };
    for my $a (qw(username name displayname nickname profileurl title usertype preferredlanguage
                  locale timezone active emails phonenumbers ims photos addresses groups
                  entitlements roles x509certificates externalid)) {
        ok($ua{$a}, "User schema describes $a");
    }
    is($ua{username}{uniqueness}, 'server', 'userName uniqueness server');
    ok(JSON::PP::is_bool($ua{username}{caseExact}) && !$ua{username}{caseExact}, 'userName caseExact false');
    ok($ua{username}{required}, 'userName required');
    is($ua{groups}{mutability}, 'readOnly', 'groups readOnly');
    my %nm = map { lc($_->{name}) => 1 } @{ $ua{name}{subAttributes} // [] };
    ok($nm{givenname} && $nm{familyname} && $nm{formatted}, 'name sub-attributes described');
    if ($ua{password}) {
        is($ua{password}{returned}, 'never', 'password (if described) is returned never');
    }
    my %ea = map { lc($_->{name}) => $_ } @{ $sch{$ENT}{attributes} // [] };
    for my $a (qw(employeenumber costcenter organization division department manager)) {
        ok($ea{$a}, "EnterpriseUser describes $a");
    }
    my %mg = map { lc($_->{name}) => 1 } @{ $ea{manager}{subAttributes} // [] };
    ok($mg{value} && $mg{displayname}, 'manager sub-attributes value and displayName');
    my %ga = map { lc($_->{name}) => $_ } @{ $sch{'urn:ietf:params:scim:schemas:core:2.0:Group'}{attributes} // [] };
    ok($ga{displayname} && $ga{members}, 'Group schema describes displayName and members');
}
($res, $j) = scim_req('acme', 'GET', "/Schemas/$ENT", $auth);
scim_ok($res, 200, 'Schemas/<enterprise urn>: 200');
is(($j // {})->{id}, $ENT, 'one schema by its URN');

# --- create ---------------------------------------------------------------
my $un = uniq_name('u80-create');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, user_body(userName => $un));
scim_ok($res, 201, 'POST /Users minimal: 201');
my $u = $j // {};
like($res->header('Content-Type') // '', qr{^application/scim\+json}, 'created user is application/scim+json');
like($u->{id} // '', $UUID, 'id is a server-assigned UUID');
# Ids are version 7 UUIDs (RFC 9562): the creation time in milliseconds,
# then random bits, so that the primary key takes new ids at one place.
uuid7_checks($u, 'POST /Users');
{
    select(undef, undef, undef, 0.01);
    my ($r2, $j2) = scim_req('acme', 'POST', '/Users', $auth, user_body(userName => uniq_name('u80-later')));
    scim_ok($r2, 201, 'a second POST: 201');
    ok((($j2 // {})->{id} // '') gt $u->{id}, 'a later user has a greater id');
}
is($u->{userName}, $un, 'userName as sent');
ok((grep { $_ eq $CORE } @{ $u->{schemas} // [] }), 'schemas include the core User schema');
is($u->{meta}{resourceType}, 'User', 'meta.resourceType User');
like($u->{meta}{created} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/, 'meta.created is xsd:dateTime');
like($u->{meta}{lastModified} // '', qr/^\d{4}-\d\d-\d\dT/, 'meta.lastModified');
is($u->{meta}{location}, "$base/Users/" . ($u->{id} // ''), 'meta.location is the absolute URL of the user');
is($res->header('Location'), $u->{meta}{location}, 'Location header = meta.location');
like($u->{meta}{version} // '', qr/^W\/"[^"]+"$/, 'meta.version is a weak ETag');
is($res->header('ETag'), $u->{meta}{version}, 'ETag header = meta.version');
is(JSON::PP::is_bool($u->{active} // 0) || !exists $u->{active} ? 1 : 0, 1, 'active (if present) is a boolean');
is_deeply([null_paths($u)], [], 'no nulls in the created user');
ok(!exists $u->{password}, 'no password');

# GET is the same representation
($res, $j) = scim_req('acme', 'GET', "/Users/$u->{id}", $auth);
scim_ok($res, 200, 'GET /Users/{id}: 200');
is_deeply($j, $u, 'GET returns what POST returned');
is($res->header('ETag'), $u->{meta}{version}, 'GET ETag = meta.version');
like($res->header('Content-Type') // '', qr{^application/scim\+json}, 'GET is application/scim+json');

# a full user, the enterprise extension, password never returned, read-only attributes ignored
my $mgr = $u->{id};
my $full_name = uniq_name('u80-full');
my $full = {
    schemas => [$CORE, $ENT],
    id => '11111111-1111-4111-8111-111111111111',
    meta => { resourceType => 'User', created => '2001-01-01T00:00:00Z' },
    userName => $full_name,
    externalId => 'Ext-' . $full_name,
    name => { formatted => 'Ms. Barbara J Jensen III', familyName => 'Jensen', givenName => 'Barbara',
              middleName => 'Jane', honorificPrefix => 'Ms.', honorificSuffix => 'III' },
    displayName => 'Babs Jensen',
    nickName => 'Babs',
    title => 'Tour Guide',
    userType => 'Employee',
    preferredLanguage => 'en-US',
    locale => 'en-US',
    timezone => 'America/Los_Angeles',
    active => JSON::PP::true,
    password => 't1meMa$heen',
    emails => [{ value => 'bjensen@example.com', type => 'work', primary => JSON::PP::true },
               { value => 'babs@jensen.org', type => 'home' }],
    phoneNumbers => [{ value => '555-555-5555', type => 'work' }],
    addresses => [{ type => 'work', streetAddress => '100 Universal City Plaza', locality => 'Hollywood',
                    region => 'CA', postalCode => '91608', country => 'US', primary => JSON::PP::true }],
    roles => [{ value => 'tour-guide' }],
    $ENT => { employeeNumber => '701984', costCenter => '4130', organization => 'Universal Studios',
              division => 'Theme Park', department => 'Tour Operations', manager => { value => $mgr } },
};
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, $full);
scim_ok($res, 201, 'POST a full user with the enterprise extension: 201');
my $f = $j // {};
isnt($f->{id}, '11111111-1111-4111-8111-111111111111', 'a client-supplied id is ignored');
isnt($f->{meta}{created}, '2001-01-01T00:00:00Z', 'client-supplied meta is ignored');
ok(!exists $f->{password}, 'password is never returned');
is_deeply([sort @{ $f->{schemas} // [] }], [sort $CORE, $ENT], 'schemas: core and enterprise');
is($f->{externalId}, 'Ext-' . $full_name, 'externalId round-trips');
is_deeply($f->{name}, $full->{name}, 'name round-trips');
is($f->{displayName}, 'Babs Jensen', 'displayName');
is($f->{nickName}, 'Babs', 'nickName');
is($f->{title}, 'Tour Guide', 'title');
is($f->{timezone}, 'America/Los_Angeles', 'timezone');
ok(JSON::PP::is_bool($f->{active}) && $f->{active}, 'active true');
is_deeply([sort map { $_->{value} } @{ $f->{emails} // [] }], ['babs@jensen.org', 'bjensen@example.com'], 'emails');
my ($pe) = grep { ($_->{type} // '') eq 'work' } @{ $f->{emails} // [] };
ok($pe && JSON::PP::is_bool($pe->{primary}) && $pe->{primary}, 'primary work email');
is(($f->{addresses} // [])->[0]{locality}, 'Hollywood', 'addresses');
is(($f->{phoneNumbers} // [])->[0]{value}, '555-555-5555', 'phoneNumbers');
is($f->{$ENT}{employeeNumber}, '701984', 'enterprise employeeNumber');
is($f->{$ENT}{department}, 'Tour Operations', 'enterprise department');
is($f->{$ENT}{costCenter}, '4130', 'enterprise costCenter');
is($f->{$ENT}{manager}{value}, $mgr, 'enterprise manager.value');
is_deeply([null_paths($f)], [], 'no nulls in the full user');
($res, $j) = scim_req('acme', 'GET', "/Users/$f->{id}", $auth);
is_deeply($j, $f, 'GET of the full user equals the POST response');
($res, $j) = scim_req('acme', 'GET', "/Users/$f->{id}?attributes=password", $auth);
ok($res->code == 200 && !exists(($j // {})->{password}), 'password not returned even when asked for');

# projection
($res, $j) = scim_req('acme', 'GET', "/Users/$f->{id}?attributes=userName", $auth);
scim_ok($res, 200, 'attributes=userName: 200');
is_deeply([sort keys %{ $j // {} }], [qw(id schemas userName)], 'attributes=userName: id, schemas, userName only');
($res, $j) = scim_req('acme', 'GET', "/Users/$f->{id}?attributes=name.familyName,emails.value", $auth);
is_deeply(($j // {})->{name}, { familyName => 'Jensen' }, 'attributes=name.familyName: only that sub-attribute');
is_deeply([sort map { join ',', sort keys %$_ } @{ ($j // {})->{emails} // [] }], ['value', 'value'],
          'attributes=emails.value: only values');
ok(!exists(($j // {})->{displayName}), 'and nothing else');
($res, $j) = scim_req('acme', 'GET', "/Users/$f->{id}?attributes=$ENT:department", $auth);
is_deeply(($j // {})->{$ENT}, { department => 'Tour Operations' }, 'attributes=<urn>:department');
($res, $j) = scim_req('acme', 'GET', "/Users/$f->{id}?excludedAttributes=emails,$ENT", $auth);
scim_ok($res, 200, 'excludedAttributes: 200');
ok(!exists(($j // {})->{emails}) && !exists(($j // {})->{$ENT}), 'excludedAttributes removes emails and the extension');
is(($j // {})->{userName}, $full_name, 'and keeps the rest');
($res, $j) = scim_req('acme', 'GET', "/Users/$f->{id}?excludedAttributes=id,schemas", $auth);
ok(exists(($j // {})->{id}) && exists(($j // {})->{schemas}), 'id and schemas are always returned');

# media types
{
    my $n = uniq_name('u80-json');
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => $n)),
                          'Content-Type' => 'application/json');
    scim_ok($res, 201, 'POST with application/json: 201');
    $n = uniq_name('u80-charset');
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => $n)),
                          'Content-Type' => 'application/scim+json; charset=utf-8');
    scim_ok($res, 201, 'POST with application/scim+json; charset=utf-8: 201');
    $n = uniq_name('u80-text');
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => $n)),
                          'Content-Type' => 'text/plain');
    is_scim_error($res, $j, 415, undef, 'POST with text/plain: 415 SCIM error');
    ($res, $j) = list_names('acme', $auth, '/Users', qq{userName eq "$n"});
    is(($j // {})->{totalResults}, 0, 'and nothing written');
    ($res, $j) = scim_req('acme', 'PUT', "/Users/$u->{id}", $auth, jenc(user_body(userName => $un)),
                          'Content-Type' => 'application/x-www-form-urlencoded');
    is_scim_error($res, $j, 415, undef, 'PUT with a form content type: 415');
    ($res, $j) = scim_req('acme', 'PATCH', "/Users/$u->{id}", $auth,
                          jenc(patch_body({ op => 'replace', path => 'title', value => 'x' })),
                          'Content-Type' => 'text/plain');
    is_scim_error($res, $j, 415, undef, 'PATCH with text/plain: 415');
}

# malformed input
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, '{"schemas":["' . $CORE . '"],"userName":');
is_scim_error($res, $j, 400, 'invalidSyntax', 'truncated JSON: 400 invalidSyntax');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, '[]');
is_scim_error($res, $j, 400, undef, 'a JSON array: 400');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, user_body(displayName => 'No userName'));
is_scim_error($res, $j, 400, 'invalidValue', 'no userName: 400 invalidValue');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, user_body(userName => ''));
is_scim_error($res, $j, 400, 'invalidValue', 'empty userName: 400 invalidValue');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, user_body(userName => 42));
is_scim_error($res, $j, 400, 'invalidValue', 'numeric userName: 400 invalidValue');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, user_body(userName => uniq_name('u80-act'), active => 'maybe'));
is_scim_error($res, $j, 400, 'invalidValue', 'active "maybe": 400 invalidValue');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth,
                      user_body(userName => uniq_name('u80-2p'),
                                emails => [{ value => 'a@x.test', primary => JSON::PP::true },
                                           { value => 'b@x.test', primary => JSON::PP::true }]));
is_scim_error($res, $j, 400, 'invalidValue', 'two primary emails: 400 invalidValue');
{
    my $n = 'u80-' . ('x' x 252);
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, user_body(userName => $n));
    scim_ok($res, 201, 'userName of 256 characters: 201');
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, user_body(userName => $n . 'y'));
    is_scim_error($res, $j, 400, 'invalidValue', 'userName of 257 characters: 400 invalidValue');
}
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, { userName => uniq_name('u80-noschemas') });
is_scim_error($res, $j, 400, undef, 'no schemas: 400');

# --- uniqueness of userName ------------------------------------------------
sub count_users {
    my ($n) = @_;
    return sql("SELECT count(*) FROM accounts a JOIN tenants t ON t.id = a.tenant_id "
               . "WHERE t.slug = 'acme' AND lower(a.user_name) = lower('$n')");
}
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, user_body(userName => $un));
is_scim_error($res, $j, 409, 'uniqueness', 'same userName again: 409 uniqueness');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, user_body(userName => uc $un));
is_scim_error($res, $j, 409, 'uniqueness', 'userName differing in case: 409 uniqueness');
is(count_users($un), 1, 'nothing written by the duplicates');
{
    my $tail = lc(uniq_name('x'));
    my $plain = "kelvin-k$tail";
    ($res) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => $plain)));
    scim_ok($res, 201, 'userName with a plain k');
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => "kelvin-\x{212A}$tail")));
    is_scim_error($res, $j, 409, 'uniqueness', 'the same with U+212A KELVIN SIGN: 409 uniqueness');
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => "KELVIN-\x{212A}$tail")));
    is_scim_error($res, $j, 409, 'uniqueness', 'upper case with KELVIN SIGN: 409 uniqueness');
    my $dz = "\x{01C6}-$tail";
    ($res) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => $dz)));
    scim_ok($res, 201, 'userName with U+01C6');
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => "\x{01C5}-$tail")));
    is_scim_error($res, $j, 409, 'uniqueness', 'U+01C5 (title case of U+01C6): 409 uniqueness');
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => "\x{01C4}-$tail")));
    is_scim_error($res, $j, 409, 'uniqueness', 'U+01C4 (upper case of U+01C6): 409 uniqueness');
    my $sig = "\x{03C3}igma-$tail";
    ($res) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => $sig)));
    scim_ok($res, 201, 'userName with U+03C3 sigma');
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => "\x{03A3}IGMA-$tail")));
    is_scim_error($res, $j, 409, 'uniqueness', 'U+03A3 capital sigma: 409 uniqueness');
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => "\x{00E9}t\x{00E9}-$tail")));
    scim_ok($res, 201, 'userName with U+00E9');
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => "\x{00C9}T\x{00C9}-$tail")));
    is_scim_error($res, $j, 409, 'uniqueness', 'the same with U+00C9: 409 uniqueness');
    # filters find them case-insensitively too
    ($res, $j) = list_names('acme', $auth, '/Users', "userName eq \"KELVIN-\x{212A}$tail\"");
    is(($j // {})->{totalResults}, 1, 'filter userName eq with KELVIN SIGN finds the plain-k user');
    ($res, $j) = list_names('acme', $auth, '/Users', "userName eq \"\x{00C9}T\x{00C9}-$tail\"");
    is(($j // {})->{totalResults}, 1, 'filter userName eq with U+00C9 finds the U+00E9 user');
}

# the same userName in different cases, 12 at once: exactly one wins, never a 500
{
    my $base_name = uniq_name('u80-race');
    my @variants = map { my $n = $base_name; $_ % 2 ? uc $n : $n =~ s/race/RaCe/r } 1 .. 12;
    my $dir = run_dir() . "/race80";
    mkdir $dir;
    my @pids;
    for my $i (0 .. $#variants) {
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if (!$pid) {
            my ($r, $b) = scim_req('acme', 'POST', '/Users', $auth, user_body(userName => $variants[$i]));
            open(my $fh, '>', "$dir/$i") or POSIX::_exit(1);
            print $fh $r->code . ' ' . (($b // {})->{scimType} // '-');
            close $fh;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid($_, 0) for @pids;
    my @got = map { my $fh; open($fh, '<', "$dir/$_") ? scalar <$fh> : 'none' } 0 .. $#variants;
    is(scalar(grep { /^201/ } @got), 1, '12 parallel creations of one userName in different cases: one 201');
    is(scalar(grep { /^409 uniqueness$/ } @got), 11, 'and eleven 409 uniqueness') or diag(join ', ', @got);
    is(count_users($base_name), 1, 'one row in the database');
}

# --- replace (PUT) and ETags -------------------------------------------------
my $etag = $f->{meta}{version};
($res) = scim_req('acme', 'GET', "/Users/$f->{id}", $auth, undef, 'If-None-Match' => $etag);
is($res->code, 304, 'If-None-Match with the current ETag: 304');
is(content_of($res), '', '304 has no body');
($res) = scim_req('acme', 'GET', "/Users/$f->{id}", $auth, undef, 'If-None-Match' => 'W/"no-such-version"');
is($res->code, 200, 'If-None-Match with another ETag: 200');

my %put = (%$full, userName => $full_name, displayName => 'Barbara Jensen', title => undef);
delete $put{title};
delete $put{$ENT};
$put{schemas} = [$CORE];
($res, $j) = scim_req('acme', 'PUT', "/Users/$f->{id}", $auth, \%put, 'If-Match' => 'W/"999999"');
is_scim_error($res, $j, 412, undef, 'PUT with a stale If-Match: 412');
($res, $j) = scim_req('acme', 'GET', "/Users/$f->{id}", $auth);
is(($j // {})->{displayName}, 'Babs Jensen', 'nothing changed by the refused PUT');
($res, $j) = scim_req('acme', 'PUT', "/Users/$f->{id}", $auth, \%put, 'If-Match' => '*');
scim_ok($res, 200, 'PUT with If-Match: * (any version): 200');
$etag = ($j // {})->{meta}{version} // $etag;
isnt($etag, $f->{meta}{version}, 'a new version');
($res, $j) = scim_req('acme', 'PUT', "/Users/$f->{id}", $auth, \%put, 'If-Match' => $etag);
scim_ok($res, 200, 'PUT with the current If-Match: 200');
my $p = $j // {};
is($p->{id}, $f->{id}, 'same id');
is($p->{displayName}, 'Barbara Jensen', 'displayName replaced');
ok(!exists $p->{title}, 'an attribute left out of PUT is removed');
ok(!exists $p->{$ENT}, 'the extension left out of PUT is removed');
is_deeply($p->{schemas}, [$CORE], 'schemas: core only now');
isnt($p->{meta}{version}, $etag, 'new version');
is($res->header('ETag'), $p->{meta}{version}, 'ETag = new meta.version');
is($p->{meta}{created}, $f->{meta}{created}, 'meta.created unchanged');
ok(!exists $p->{password}, 'PUT response has no password');
($res, $j) = scim_req('acme', 'GET', "/Users/$f->{id}", $auth, undef, 'If-None-Match' => $etag);
is($res->code, 200, 'the old ETag no longer matches');
($res, $j) = scim_req('acme', 'PUT', "/Users/$f->{id}", $auth, user_body(userName => uc $un));
is_scim_error($res, $j, 409, 'uniqueness', "PUT to another user's userName (other case): 409 uniqueness");
($res, $j) = scim_req('acme', 'GET', "/Users/$f->{id}", $auth);
is(($j // {})->{userName}, $full_name, 'userName unchanged');
($res, $j) = scim_req('acme', 'PUT', "/Users/$f->{id}", $auth, { %put, userName => uc $full_name });
scim_ok($res, 200, 'PUT changing only the case of its own userName: 200');
is(($j // {})->{userName}, uc $full_name, 'userName now upper case');
($res, $j) = scim_req('acme', 'PUT', "/Users/$f->{id}", $auth, user_body(displayName => 'no userName'));
is_scim_error($res, $j, 400, 'invalidValue', 'PUT without userName: 400 invalidValue');

# --- PATCH -------------------------------------------------------------------
($res, $j) = scim_req('acme', 'GET', "/Users/$f->{id}", $auth);
$etag = ($j // {})->{meta}{version} // '';
($res, $j) = scim_req('acme', 'PATCH', "/Users/$f->{id}", $auth,
                      patch_body({ op => 'replace', path => 'title', value => 'Head Guide' }),
                      'If-Match' => 'W/"1234567"');
is_scim_error($res, $j, 412, undef, 'PATCH with a stale If-Match: 412');
($res, $j) = scim_req('acme', 'PATCH', "/Users/$f->{id}", $auth,
                      patch_body({ op => 'replace', path => 'title', value => 'Head Guide' },
                                 { op => 'add', path => 'emails', value => [{ value => 'new@example.com', type => 'other' }] },
                                 { op => 'replace', path => 'name.givenName', value => 'Barb' }),
                      'If-Match' => $etag);
scim_ok($res, 200, 'PATCH with the current If-Match: 200 with the resource');
$p = $j // {};
is($p->{title}, 'Head Guide', 'title set');
is($p->{name}{givenName}, 'Barb', 'name.givenName replaced');
is($p->{name}{familyName}, 'Jensen', 'name.familyName kept');
ok((grep { ($_->{value} // '') eq 'new@example.com' } @{ $p->{emails} // [] }), 'email added');
is(scalar @{ $p->{emails} // [] }, 3, 'and the others kept');
isnt($p->{meta}{version}, $etag, 'PATCH makes a new version');
is($res->header('ETag'), $p->{meta}{version}, 'PATCH ETag = meta.version');
($res, $j) = scim_req('acme', 'PATCH', "/Users/$f->{id}", $auth,
                      patch_body({ op => 'remove', path => 'emails[type eq "other"]' }));
scim_ok($res, 200, 'PATCH remove with a value filter: 200');
is(scalar @{ ($j // {})->{emails} // [] }, 2, 'the matching email removed');
($res, $j) = scim_req('acme', 'PATCH', "/Users/$f->{id}", $auth, patch_body({ op => 'remove' }));
is_scim_error($res, $j, 400, 'noTarget', 'PATCH remove without a path: 400 noTarget');
($res, $j) = scim_req('acme', 'PATCH', "/Users/$f->{id}", $auth,
                      patch_body({ op => 'replace', path => 'noSuchAttribute', value => 'x' }));
is_scim_error($res, $j, 400, 'invalidPath', 'PATCH an unknown path: 400 invalidPath');
($res, $j) = scim_req('acme', 'PATCH', "/Users/$f->{id}", $auth,
                      patch_body({ op => 'replace', path => 'emails[type eq "work"', value => 'x' }));
is_scim_error($res, $j, 400, 'invalidPath', 'PATCH a malformed path: 400 invalidPath');
($res, $j) = scim_req('acme', 'PATCH', "/Users/$f->{id}", $auth,
                      patch_body({ op => 'frobnicate', path => 'title', value => 'x' }));
is_scim_error($res, $j, 400, undef, 'PATCH op frobnicate: 400');
($res, $j) = scim_req('acme', 'PATCH', "/Users/$f->{id}", $auth,
                      { schemas => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'] });
is_scim_error($res, $j, 400, undef, 'PATCH without Operations: 400');
($res, $j) = scim_req('acme', 'PATCH', "/Users/$f->{id}", $auth,
                      patch_body({ op => 'replace', path => 'userName', value => lc $un }));
is_scim_error($res, $j, 409, 'uniqueness', "PATCH userName to another user's: 409 uniqueness");
($res, $j) = scim_req('acme', 'PATCH', "/Users/$f->{id}", $auth,
                      patch_body({ op => 'replace', path => 'title', value => 'Should not stick' },
                                 { op => 'replace', path => 'active', value => 'maybe' }));
is_scim_error($res, $j, 400, 'invalidValue', 'PATCH with one bad operation: 400 invalidValue');
($res, $j) = scim_req('acme', 'GET', "/Users/$f->{id}", $auth);
is(($j // {})->{title}, 'Head Guide', 'a failed PATCH applies none of its operations');
($res, $j) = scim_req('acme', 'PATCH', "/Users/$f->{id}", $auth,
                      patch_body({ op => 'remove', path => 'userName' }));
is_scim_error($res, $j, 400, undef, 'PATCH removing the required userName: 400');

# --- deactivated users stay readable ---------------------------------------------
($res, $j) = scim_req('acme', 'PATCH', "/Users/$f->{id}", $auth,
                      patch_body({ op => 'replace', path => 'active', value => JSON::PP::false }));
scim_ok($res, 200, 'deactivate: 200');
ok(JSON::PP::is_bool(($j // {})->{active}) && !$j->{active}, 'active false');
($res, $j) = scim_req('acme', 'GET', "/Users/$f->{id}", $auth);
scim_ok($res, 200, 'a deactivated user is still readable');
ok(defined(($j // {})->{active}) && !$j->{active}, 'and shows active false');
($res, $j) = list_names('acme', $auth, '/Users', qq{userName eq "$full_name"});
is(($j // {})->{totalResults}, 1, 'and is still listed');
ok(defined(($j // {})->{Resources}[0]{active}) && !$j->{Resources}[0]{active}, 'listed as active false');

# --- list shape -----------------------------------------------------------------
($res, $j) = scim_req('acme', 'GET', '/Users', $auth);
scim_ok($res, 200, 'GET /Users: 200');
$j //= {};
is_deeply($j->{schemas}, ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], 'ListResponse schema');
is($j->{startIndex}, 1, 'startIndex 1 by default');
is($j->{totalResults}, sql("SELECT count(*) FROM accounts a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = 'acme' AND a.kind = 'user'"),
   "totalResults is the number of acme's users");
is($j->{itemsPerPage}, scalar @{ $j->{Resources} // [] }, 'itemsPerPage = number of Resources');
ok(!(grep { !$_->{id} || !$_->{meta} || ($_->{meta}{resourceType} // '') ne 'User' } @{ $j->{Resources} // [] }),
   'every listed resource has id and meta, resourceType User');
ok(!(grep { exists $_->{password} } @{ $j->{Resources} // [] }), 'no password in lists');
is_deeply([null_paths($j)], [], 'no nulls in the list');
like(content_of($res), qr/"totalResults"\s*:\s*\d+/, 'totalResults is a JSON number');

# --- delete -----------------------------------------------------------------------
($res) = scim_req('acme', 'DELETE', "/Users/$f->{id}", $auth, undef, 'If-Match' => 'W/"0"');
is($res->code, 412, 'DELETE with a stale If-Match: 412');
($res) = scim_req('acme', 'DELETE', "/Users/$f->{id}", $auth);
is($res->code, 204, 'DELETE: 204');
is(content_of($res), '', '204 has no body');
($res, $j) = scim_req('acme', 'GET', "/Users/$f->{id}", $auth);
is_scim_error($res, $j, 404, undef, 'GET after DELETE: 404');
($res, $j) = scim_req('acme', 'DELETE', "/Users/$f->{id}", $auth);
is_scim_error($res, $j, 404, undef, 'DELETE again: 404');
($res, $j) = scim_req('acme', 'PUT', "/Users/$f->{id}", $auth, user_body(userName => $full_name));
is_scim_error($res, $j, 404, undef, 'PUT a deleted user: 404');
($res, $j) = scim_req('acme', 'PATCH', "/Users/$f->{id}", $auth,
                      patch_body({ op => 'replace', path => 'title', value => 'x' }));
is_scim_error($res, $j, 404, undef, 'PATCH a deleted user: 404');
($res, $j) = list_names('acme', $auth, '/Users', qq{userName eq "$full_name"});
is(($j // {})->{totalResults}, 0, 'a deleted user is not listed');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, user_body(userName => $full_name));
scim_ok($res, 201, 'its userName can be used again');
isnt(($j // {})->{id}, $f->{id}, 'by a new user with a new id');

# unknown and malformed ids
for my $id ('00000000-0000-4000-8000-000000000000', 'not-a-uuid', '12345', uc($u->{id} // 'x') . 'x',
            '%27%20OR%201=1--', ('a' x 300)) {
    ($res, $j) = scim_req('acme', 'GET', "/Users/$id", $auth);
    is_scim_error($res, $j, 404, undef, "GET /Users/" . substr($id, 0, 40) . ": 404");
}
($res, $j) = scim_req('acme', 'GET', '/NoSuchEndpoint', $auth);
is_scim_error($res, $j, 404, undef, 'unknown endpoint: 404');

done_testing();
