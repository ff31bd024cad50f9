# Filters, sorting, paging and POST .search (RFC 7644 3.4.2, 3.4.3): every
# operator, precedence, grouping, value paths, sub-attributes, URN names,
# dates as dates, caseExact, literal % and _, errors as 400 invalidFilter.
use strict;
use warnings FATAL => 'all';
no warnings qw(uninitialized numeric);
use Test::More;
use Apache::Test ();
use JSON::PP ();
use POSIX ();
use Time::Local ();
use ScimTest;

my ($res, $j);
my ($auth) = scim_auth('alice', 'acme', 'entra', 'Filters Entra');
my $ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
my $CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
my $T = JSON::PP::true;
my $F = JSON::PP::false;

my $p = uniq_name('f82');
my %def = (
    alice => { displayName => 'Alice Smith', name => { familyName => 'Smith', givenName => 'Alice' },
               title => 'Engineer', nickName => '50%_off', externalId => "EXT-a-$p", active => $T,
               emails => [{ type => 'work', value => "alice-$p\@example.com", primary => $T },
                          { type => 'home', value => "alice-$p\@home.test" }],
               $ENT => { department => 'R&D', employeeNumber => '100' } },
    bob   => { displayName => 'Bob Jones', name => { familyName => 'Jones', givenName => 'Bob' },
               title => 'Manager', nickName => 'a\\b', externalId => "ext-b-$p", active => $F,
               emails => [{ type => 'work', value => "bob-$p\@example.org" }],
               $ENT => { department => 'Sales' } },
    carol => { displayName => 'Carol Smith-Jones', name => { familyName => 'Smith-Jones' },
               nickName => '50 percent', externalId => "EXT-C-$p", active => $T,
               emails => [{ type => 'home', value => "carol-$p\@example.com" }],
               $ENT => { department => 'R&D' } },
    dave  => { title => 'engineer', nickName => 'a_b', active => $T },
);
my %id;
for my $n (sort keys %def) {
    my $schemas = exists $def{$n}{$ENT} ? [$CORE, $ENT] : [$CORE];
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth,
                          { schemas => $schemas, userName => "$p-$n", %{ $def{$n} } });
    scim_ok($res, 201, "fixture $n created");
    $id{$n} = ($j // {})->{id};
}
# a user of another tenant that would match everything
{
    my ($ga) = scim_auth('bob', 'globex', 'okta', 'Filters Globex');
    ($res) = scim_req('globex', 'POST', '/Users', $ga, user_body(userName => "$p-eve", title => 'Engineer'));
    scim_ok($res, 201, 'a globex user with the same prefix');
}

# filter scoped to the fixtures -> [sorted short names]
sub who {
    my ($filter, $extra) = @_;
    my ($r, $b, $names) = list_names('acme', $auth, '/Users', qq{userName sw "$p-" and ($filter)}, 'userName', $extra);
    return ($r, $b, [map { my $x = $_; $x =~ s/^\Q$p\E-//; $x } @$names]);
}
sub f_is {
    my ($filter, $want, $name) = @_;
    my ($r, $b, $got) = who($filter);
    my $ok = is_deeply($r->code == 200 ? $got : ['HTTP ' . $r->code], [sort @$want], $name // "filter: $filter");
    diag(substr($r->as_string, 0, 1000)) unless $r->code == 200;
    return $ok;
}
sub f_bad {
    my ($filter, $name) = @_;
    my ($r, $b) = scim_req('acme', 'GET', '/Users?filter=' . fq($filter), $auth);
    return is_scim_error($r, $b, 400, 'invalidFilter', $name // "invalid filter: $filter");
}

f_is('userName pr', [qw(alice bob carol dave)], 'all four fixtures (and no globex user)');
is((who('userName pr'))[1]{totalResults}, 4, 'totalResults 4');

# --- operators
f_is(qq{userName eq "} . uc("$p-alice") . '"', ['alice'], 'eq on userName is case-insensitive');
f_is('title eq "ENGINEER"', [qw(alice dave)], 'eq on title is case-insensitive');
f_is('title ne "engineer"', [qw(bob carol)], 'ne: absent attribute is not equal');
f_is('displayName co "smith"', [qw(alice carol)], 'co');
f_is('displayName sw "bob"', ['bob'], 'sw');
f_is('displayName ew "JONES"', [qw(bob carol)], 'ew');
f_is('title pr', [qw(alice bob dave)], 'pr');
f_is('not (title pr)', ['carol'], 'not pr');
f_is('name.familyName gt "jones"', [qw(alice carol)], 'gt on strings');
f_is('name.familyName ge "Jones"', [qw(alice bob carol)], 'ge on strings');
f_is('name.familyName lt "Smith"', ['bob'], 'lt on strings');
f_is('name.familyName le "SMITH"', [qw(alice bob)], 'le on strings');
f_is('active eq true', [qw(alice carol dave)], 'boolean eq true');
f_is('active eq false', ['bob'], 'boolean eq false');
f_is('active ne true', ['bob'], 'boolean ne');
f_is('title eq null', ['carol'], 'eq null is not pr');

# --- precedence and grouping
f_is('displayName co "Smith" or title eq "Manager" and active eq false', [qw(alice bob carol)],
     'and binds tighter than or');
f_is('(displayName co "Smith" or title eq "Manager") and active eq false', ['bob'], 'parentheses group');
f_is('title eq "Manager" or title eq "Engineer" and active eq true or nickName eq "50 percent"',
     [qw(alice bob carol dave)], 'a or b and c or d');
f_is('not (displayName co "Smith")', [qw(bob dave)], 'not: absent displayName does not contain');
f_is('not (displayName co "Smith") and not (title pr)', [], 'two nots');
f_is('NOT (title PR) OR userName EQ "' . "$p-dave" . '"', [qw(carol dave)], 'keywords in upper case');
f_is('UserName Eq "' . "$p-bob" . '"', ['bob'], 'attribute names and operators case-insensitive');

# --- complex, value paths, sub-attributes, URNs
f_is(qq{emails[type eq "work" and value co "example.com"]}, ['alice'], 'value path with and');
f_is(qq{emails[type eq "home"]}, [qw(alice carol)], 'value path on type');
f_is(qq{emails[type eq "work" or value ew ".test"]}, [qw(alice bob)], 'value path with or');
f_is(qq{emails[not (type eq "work")]}, [qw(alice carol)], 'value path with not');
f_is(qq{emails[type eq "work"].value ew "example.com"}, ['alice'], 'value path with a sub-attribute (extension)');
f_is(qq{emails co "example.com"}, [qw(alice carol)], 'complex attribute compares its value');
f_is(qq{emails.value ew ".org"}, ['bob'], 'emails.value');
f_is(qq{emails.type eq "home" and emails.value co "example.com"}, ['carol', 'alice'],
     'two separate emails conditions may match different emails');
f_is(qq{name.familyName eq "smith"}, ['alice'], 'sub-attribute');
f_is(qq{name.givenName pr}, [qw(alice bob)], 'sub-attribute pr');
f_is(qq{$CORE:userName eq "$p-bob"}, ['bob'], 'URN-qualified core attribute');
f_is(qq{$CORE:name.familyName eq "Jones"}, ['bob'], 'URN-qualified sub-attribute');
f_is(qq{$ENT:department eq "R&D"}, [qw(alice carol)], 'enterprise attribute by URN');
f_is(qq{$ENT:employeeNumber pr}, ['alice'], 'enterprise pr');
f_is(qq{department eq "sales"}, ['bob'], 'unqualified extension attribute');
f_is(qq{meta.resourceType eq "User"}, [qw(alice bob carol dave)], 'meta.resourceType');

# --- caseExact: id and externalId exactly
f_is(qq{externalId eq "EXT-a-$p"}, ['alice'], 'externalId exact');
f_is(qq{externalId eq "ext-a-$p"}, [], 'externalId is caseExact');
f_is(qq{externalId eq "EXT-B-$p"}, [], 'externalId is caseExact (2)');
f_is(qq{externalId sw "EXT-"}, [qw(alice carol)], 'externalId sw is case-sensitive');
f_is(qq{id eq "$id{bob}"}, ['bob'], 'id eq');
f_is(qq{id eq "} . uc($id{bob}) . '"', [], 'id is caseExact');
f_is(qq{id ne "$id{bob}"}, [qw(alice carol dave)], 'id ne');

# --- co/sw/ew treat every character literally
f_is(qq{nickName co "%"}, ['alice'], 'co "%" matches a literal percent only');
f_is(qq{nickName co "_"}, [qw(alice dave)], 'co "_" matches a literal underscore only');
f_is(qq{nickName sw "a_"}, ['dave'], 'sw "a_" is not a wildcard');
f_is(qq{nickName ew "%_off"}, ['alice'], 'ew "%_off"');
f_is(qq{nickName co "\\\\"}, ['bob'], 'co a backslash');
f_is(qq{nickName eq "a\\\\b"}, ['bob'], 'eq with an escaped backslash');
f_is(qq{nickName co "50%"}, ['alice'], 'co "50%"');
f_is(qq{nickName co "\\u0025"}, ['alice'], 'JSON escape \\u0025 in a filter value');

# --- dates compared as instants
{
    my ($r, $b) = scim_req('acme', 'GET', "/Users/$id{alice}", $auth);
    my $created = ($b // {})->{meta}{created} // '1970-01-01T00:00:00Z';
    my ($Y, $M, $D, $h, $m, $s) = $created =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)/;
    my $t = Time::Local::timegm($s // 0, $m // 0, $h // 0, $D // 1, ($M // 1) - 1, $Y // 1970);
    # 30 minutes after creation, written in -10:00: a smaller string, a later instant
    my $later = POSIX::strftime('%Y-%m-%dT%H:%M:%S-10:00', gmtime($t + 1800 - 36000));
    # 30 minutes before, written in +14:00: a larger string, an earlier instant
    my $earlier = POSIX::strftime('%Y-%m-%dT%H:%M:%S+14:00', gmtime($t - 1800 + 50400));
    f_is(qq{meta.created lt "$later"}, [qw(alice bob carol dave)], "meta.created lt $later (instant, not string)");
    f_is(qq{meta.created gt "$later"}, [], "meta.created gt $later: none");
    f_is(qq{meta.created gt "$earlier"}, [qw(alice bob carol dave)], "meta.created gt $earlier");
    f_is(qq{meta.lastModified ge "$earlier"}, [qw(alice bob carol dave)], 'meta.lastModified ge');
    f_is(qq{meta.lastModified gt "2020-01-01T00:00:00Z"}, [qw(alice bob carol dave)], 'lastModified gt 2020');
    f_is(qq{meta.lastModified lt "2020-01-01T00:00:00Z"}, [], 'lastModified lt 2020');
    f_bad(qq{meta.created gt "yesterday"}, 'a malformed dateTime: 400 invalidFilter');
    f_bad(qq{meta.created gt "2024-02-30T00:00:00Z"}, 'an impossible date: 400 invalidFilter');
}

# --- errors: 400 invalidFilter, never unfiltered results
f_bad('noSuchAttribute eq "x"', 'unknown attribute');
f_bad(qq{emails[noSuch eq "x"]}, 'unknown sub-attribute in a value path');
f_bad(qq{name.noSuch eq "x"}, 'unknown sub-attribute');
f_bad(qq{urn:ietf:params:scim:schemas:extension:nope:2.0:User:department eq "x"}, 'unknown schema URN');
f_bad('userName eq', 'missing value');
f_bad('userName eq "x" and', 'dangling and');
f_bad('(userName eq "x"', 'unbalanced parenthesis');
f_bad('userName eq "x")', 'extra closing parenthesis');
f_bad('userName xx "x"', 'unknown operator');
f_bad('userName eq x', 'unquoted string');
f_bad('userName eq "unterminated', 'unterminated string');
f_bad(qq{emails[type eq "work"}, 'unterminated value path');
f_bad('userName pr "x"', 'pr with a value');
f_bad('userName gt 5', 'number against a string attribute');
f_bad('active co "t"', 'co on a boolean');
f_bad('active eq "yes"', 'boolean compared with a string');
f_bad('userName eq "a" "b"', 'two values');
f_bad('and', 'just a keyword');
f_bad(qq{userName eq "\\q"}, 'invalid escape in a string');
f_bad(qq{members.value eq "x"}, 'a Group attribute on Users');
{
    my ($r, $b) = scim_req('acme', 'GET', '/Users?filter=' . fq(qq{userName eq "x"}) . '&filter=' . fq('userName pr'), $auth);
    ok($r->code == 400 || ($r->code == 200 && ($b // {})->{totalResults} == 0),
       'two filter parameters never widen the result (' . $r->code . ')');
}

# --- limits: length 4096 bytes and nesting 32
{
    my $pad = 4096 - length(qq{userName eq ""});
    my $ok4096 = qq{userName eq "} . ('z' x $pad) . '"';
    is(length $ok4096, 4096, 'a filter of exactly 4096 bytes');
    my ($r, $b) = scim_req('acme', 'GET', '/Users?filter=' . fq($ok4096), $auth);
    is($r->code, 200, 'a filter of 4096 bytes: 200');
    is(($b // {})->{totalResults}, 0, 'matching nothing');
    f_bad(qq{userName eq "} . ('z' x ($pad + 1)) . '"', 'a filter of 4097 bytes: 400 invalidFilter');
    ($r, $b) = scim_req('acme', 'POST', '/Users/.search', $auth,
                        { schemas => ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
                          filter => qq{userName eq "} . ('z' x 10000) . '"' });
    is_scim_error($r, $b, 400, 'invalidFilter', 'a 10 kB filter in .search: 400 invalidFilter');
    my $deep = sub { my $n = shift; ('(' x $n) . qq{userName eq "$p-bob"} . (')' x $n) };
    ($r, $b) = scim_req('acme', 'GET', '/Users?filter=' . fq($deep->(32)), $auth);
    is($r->code, 200, '32 nested parentheses: 200');
    is(($b // {})->{totalResults}, 1, 'and the filter works');
    f_bad($deep->(33), '33 nested parentheses: 400 invalidFilter');
    f_bad($deep->(1000), '1000 nested parentheses: 400 invalidFilter');
    f_bad(('not (' x 40) . 'title pr' . (')' x 40), '40 nested nots: 400 invalidFilter');
    f_bad(join(' and ', ('title pr') x 2) . ' and ' . ('(' x 2000), 'unbalanced deep garbage');
}

# --- sorting
{
    my ($r, $b) = who('userName pr', '&sortBy=userName');
    is_deeply([map { $_->{userName} } @{ ($b // {})->{Resources} // [] }], [map { "$p-$_" } qw(alice bob carol dave)],
              'sortBy=userName ascending');
    ($r, $b) = who('userName pr', '&sortBy=userName&sortOrder=descending');
    is_deeply([map { $_->{userName} } @{ ($b // {})->{Resources} // [] }], [map { "$p-$_" } qw(dave carol bob alice)],
              'sortOrder=descending');
    ($r, $b) = who('userName pr', '&sortBy=name.familyName');
    is_deeply([map { $_->{userName} } @{ ($b // {})->{Resources} // [] }], [map { "$p-$_" } qw(bob alice carol dave)],
              'sortBy=name.familyName, the user without one last');
    ($r, $b) = who('userName pr', '&sortBy=name.familyName&sortOrder=descending');
    is_deeply([map { $_->{userName} } @{ ($b // {})->{Resources} // [] }], [map { "$p-$_" } qw(carol alice bob dave)],
              'descending, the user without one still last');
    ($r, $b) = who('userName pr', '&sortBy=emails');
    is_deeply([map { $_->{userName} } @{ ($b // {})->{Resources} // [] }], [map { "$p-$_" } qw(alice bob carol dave)],
              'sortBy=emails uses the primary (or first) value');
    ($r, $b) = scim_req('acme', 'GET', '/Users?sortBy=noSuchAttribute', $auth);
    is_scim_error($r, $b, 400, undef, 'sortBy an unknown attribute: 400');

    # sortOrder without sortBy orders by creation, descending; the same
    # for "externalId eq" alone (the store's fixed statement) as for any
    # other filter (externalId is not unique: two users share one here)
    my @twins;
    for my $i (1 .. 2) {
        my ($tr, $tb) = scim_req('acme', 'POST', '/Users', $auth,
                                 user_body(userName => "$p-twin$i", externalId => "$p-shared"));
        is($tr->code, 201, "twin $i with a shared externalId") or diag $tr->decoded_content;
        push @twins, "$p-twin$i";
    }
    for my $case ([qq{externalId eq "$p-shared"}, 'externalId eq alone'],
                  [qq{externalId eq "$p-shared" and userName pr}, 'with another term']) {
        for my $order (['', [@twins]], ['&sortOrder=descending', [reverse @twins]],
                       ['&sortOrder=ascending', [@twins]]) {
            my ($sr, $sb) = scim_req('acme', 'GET', '/Users?filter=' . fq($case->[0]) . $order->[0], $auth);
            is_deeply([map { $_->{userName} } @{ ($sb // {})->{Resources} // [] }], $order->[1],
                      "$case->[1], sortOrder " . ($order->[0] =~ /=(\w+)/ ? $1 : 'absent') . ': by creation');
        }
    }
    scim_req('acme', 'DELETE', "/Users/$_", $auth)
        for map { $_->{id} } @{ (scim_req('acme', 'GET', '/Users?filter=' . fq(qq{externalId eq "$p-shared"}), $auth))[1]->{Resources} // [] };
}

# --- paging
{
    my $f = fq(qq{userName sw "$p-"});
    my ($r, $b) = scim_req('acme', 'GET', "/Users?filter=$f&sortBy=userName&startIndex=2&count=2", $auth);
    scim_ok($r, 200, 'page startIndex=2 count=2');
    $b //= {};
    is($b->{totalResults}, 4, 'totalResults is the whole match');
    is($b->{startIndex}, 2, 'startIndex 2');
    is($b->{itemsPerPage}, 2, 'itemsPerPage 2');
    is_deeply([map { $_->{userName} } @{ $b->{Resources} // [] }], ["$p-bob", "$p-carol"], 'the second and third');
    ($r, $b) = scim_req('acme', 'GET', "/Users?filter=$f&sortBy=userName&startIndex=4&count=10", $auth);
    is_deeply([map { $_->{userName} } @{ ($b // {})->{Resources} // [] }], ["$p-dave"], 'last page');
    ($r, $b) = scim_req('acme', 'GET', "/Users?filter=$f&startIndex=9&count=10", $auth);
    is($r->code, 200, 'startIndex beyond the end: 200');
    is(($b // {})->{totalResults}, 4, 'with totalResults');
    is(scalar @{ ($b // {})->{Resources} // [] }, 0, 'and no Resources');
    ($r, $b) = scim_req('acme', 'GET', "/Users?filter=$f&sortBy=userName&startIndex=0&count=1", $auth);
    is(($b // {})->{startIndex}, 1, 'startIndex=0 is taken as 1');
    is_deeply([map { $_->{userName} } @{ ($b // {})->{Resources} // [] }], ["$p-alice"], 'from the first');
    ($r, $b) = scim_req('acme', 'GET', "/Users?filter=$f&sortBy=userName&startIndex=-7&count=1", $auth);
    is(($b // {})->{startIndex}, 1, 'negative startIndex is taken as 1');
    ($r, $b) = scim_req('acme', 'GET', "/Users?filter=$f&count=0", $auth);
    is($r->code, 200, 'count=0: 200');
    is(($b // {})->{totalResults}, 4, 'count=0 gives totalResults');
    is(scalar @{ ($b // {})->{Resources} // [] }, 0, 'and no Resources');
    is(($b // {})->{itemsPerPage}, 0, 'itemsPerPage 0');
    ($r, $b) = scim_req('acme', 'GET', "/Users?filter=$f&count=-1", $auth);
    is($r->code, 200, 'count=-1: 200 (taken as 0)');
    is(scalar @{ ($b // {})->{Resources} // [] }, 0, 'no Resources');
    for my $q ('count=abc', 'count=1.5', 'startIndex=abc', 'count=', 'count=99999999999999999999999') {
        ($r, $b) = scim_req('acme', 'GET', "/Users?filter=$f&$q", $auth);
        if ($q =~ /9999/) {
            ok($r->code == 200 || ($r->code == 400 && ($b // {})->{scimType} eq 'invalidValue'),
               "$q: capped or 400 invalidValue, never 500 (" . $r->code . ')');
        } else {
            is_scim_error($r, $b, 400, 'invalidValue', "$q: 400 invalidValue");
        }
    }
    ($r, $b) = scim_req('acme', 'GET', "/Users?filter=" . fq(qq{userName eq "$p-nobody"}), $auth);
    is($r->code, 200, 'a filter matching nothing: 200');
    is(($b // {})->{totalResults}, 0, 'totalResults 0');
    is(scalar @{ ($b // {})->{Resources} // [] }, 0, 'no Resources');
    is_deeply(($b // {})->{schemas}, ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], 'still a ListResponse');
    # an empty first page is a total of 0 without a count; past the end the
    # total still counts, for the one-statement userName and externalId
    # lookups too
    for my $fx (qq{userName eq "$p-bob"}, qq{externalId eq "EXT-a-$p"}) {
        ($r, $b) = scim_req('acme', 'GET', '/Users?filter=' . fq($fx) . '&startIndex=2', $auth);
        is($r->code, 200, "$fx, startIndex=2: 200");
        is(($b // {})->{totalResults}, 1, '... totalResults 1');
        is(scalar @{ ($b // {})->{Resources} // [] }, 0, '... and no Resources');
    }
}

# --- attributes on lists
{
    my ($r, $b) = who('userName pr', '&attributes=userName,name.familyName');
    is_deeply([sort map { join ',', sort keys %$_ } @{ ($b // {})->{Resources} // [] }],
              ['id,name,schemas,userName', 'id,name,schemas,userName', 'id,name,schemas,userName', 'id,schemas,userName'],
              'attributes on a list');
    ($r, $b) = who('userName pr', '&excludedAttributes=emails,name');
    ok(!(grep { exists $_->{emails} || exists $_->{name} } @{ ($b // {})->{Resources} // [] }),
       'excludedAttributes on a list');
}

# --- POST .search
my $SR = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
{
    my ($r, $b) = scim_req('acme', 'POST', '/Users/.search', $auth,
                           { schemas => [$SR], filter => qq{userName sw "$p-" and active eq true},
                             sortBy => 'userName', sortOrder => 'descending', startIndex => 1, count => 2,
                             attributes => ['userName', 'active'] });
    scim_ok($r, 200, 'POST /Users/.search: 200');
    $b //= {};
    is_deeply($b->{schemas}, ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], '.search gives a ListResponse');
    is($b->{totalResults}, 3, '.search totalResults');
    is_deeply([map { $_->{userName} } @{ $b->{Resources} // [] }], ["$p-dave", "$p-carol"], '.search sorted and paged');
    is_deeply([sort keys %{ $b->{Resources}[0] // {} }], [qw(active id schemas userName)], '.search attributes');
    ($r, $b) = scim_req('acme', 'POST', '/Users/.search', $auth,
                        { schemas => [$SR], filter => qq{userName sw "$p-"}, excludedAttributes => ['emails'] });
    is(($b // {})->{totalResults}, 4, '.search with excludedAttributes');
    ok(!(grep { exists $_->{emails} } @{ ($b // {})->{Resources} // [] }), 'emails excluded');
    ($r, $b) = scim_req('acme', 'POST', '/Users/.search', $auth, { schemas => [$SR], filter => 'bogus eq "x"' });
    is_scim_error($r, $b, 400, 'invalidFilter', '.search with a bad filter: 400 invalidFilter');
    ($r, $b) = scim_req('acme', 'POST', '/Users/.search', $auth, { schemas => [$SR], count => 'ten' });
    is_scim_error($r, $b, 400, undef, '.search with a string count: 400');
    ($r, $b) = scim_req('acme', 'POST', '/Users/.search', $auth, '{"schemas":["' . $SR . '"],');
    is_scim_error($r, $b, 400, 'invalidSyntax', '.search malformed JSON: 400 invalidSyntax');
    ($r, $b) = scim_req('acme', 'GET', '/Users/.search', $auth);
    ok($r->code == 405 || $r->code == 404, 'GET /Users/.search is not a search (' . $r->code . ')');
    isnt($r->code, 200, 'GET /Users/.search does not return 200');

    # groups and the root
    my $gx = "gx-$p";
    ($r, $b) = scim_req('acme', 'POST', '/Groups', $auth, group_body(displayName => "Group $p", externalId => $gx,
                                                                        members => [{ value => $id{alice} }]));
    scim_ok($r, 201, 'a group for .search');
    ($r) = scim_req('acme', 'PATCH', "/Users/$id{dave}", $auth,
                    patch_body({ op => 'replace', path => 'externalId', value => $gx }));
    ok($r->code == 200 || $r->code == 204, 'dave gets the same externalId as the group');
    ($r, $b) = scim_req('acme', 'POST', '/Groups/.search', $auth,
                        { schemas => [$SR], filter => qq{displayName eq "group $p"}, excludedAttributes => ['members'] });
    scim_ok($r, 200, 'POST /Groups/.search: 200');
    is(($b // {})->{totalResults}, 1, 'one group');
    ok(!exists(($b // {})->{Resources}[0]{members}), 'without members');
    ($r, $b) = scim_req('acme', 'GET', '/Groups?filter=' . fq(qq{displayName eq "group $p"}) . '&startIndex=99', $auth);
    is(($b // {})->{totalResults}, 1, 'a group filter past the end: totalResults 1');
    is(scalar @{ ($b // {})->{Resources} // [] }, 0, '... and no Resources');
    ($r, $b) = scim_req('acme', 'POST', '/.search', $auth, { schemas => [$SR], filter => qq{externalId eq "$gx"} });
    scim_ok($r, 200, 'POST /.search (root): 200');
    is(($b // {})->{totalResults}, 2, 'root search finds the user and the group');
    is_deeply([sort map { $_->{meta}{resourceType} } @{ ($b // {})->{Resources} // [] }], [qw(Group User)],
              'one of each resource type');
}

done_testing();
