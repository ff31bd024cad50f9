package ScimReplay;
# The request sequences that Okta and Microsoft Entra ID send, as data: the
# requests of t/83-okta.t and t/84-entra.t (same methods, paths, query
# strings, headers and bodies), plus the admin API calls of the token page.
# t/93-hostile.t replays and mutates them. t/83 and t/84 keep their own
# inline copies, because there each request is interleaved with the
# assertions on its answer; change both places together.
#
# A step is a hash:
#   method, path    the request; path is below the tenant's SCIM root (or,
#                   for admin steps, below <admin location>/)
#   query           [[name, value], ...], decoded; sent percent-encoded
#                   ('plus' => 1: spaces as '+', as Entra sends them)
#   body            Perl data (hash/array/string; \'raw' is literal JSON,
#                   used for numbers; JSON::PP::true/false for booleans)
#   auth            'bearer' (default) or 'basic' (Okta's admin console)
#   headers         'okta' or 'entra' (the vendor's header set), or none
#   save            { var => 'id' }: remember the id of a 2xx answer
# Strings may name variables as {var}: {tag} (a run-unique prefix), {fresh}
# (unique per request), {gen} (fixture generation), {uid} {gid} {m0}..{m3} {mgr} (fixture ids), {login}
# {un} {ext} {gname} (fixture names), {guid} (a random GUID).
use strict;
use warnings;
use JSON::PP ();
use Exporter 'import';

our @EXPORT_OK = qw(okta_steps entra_steps extra_steps admin_steps vendor_headers
                    fixture_steps expand);

my $T = JSON::PP::true;
my $F = JSON::PP::false;
my $CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
my $ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
my $GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
my $PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
my $SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

sub vendor_headers {
    my ($who) = @_;
    return () unless $who;
    return ('Accept' => 'application/scim+json', 'Accept-Charset' => 'utf-8',
            'User-Agent' => 'Okta SCIM Client 1.0.0') if $who eq 'okta';
    return ('Accept' => 'application/scim+json', 'User-Agent' => 'Azure AD SCIM Client')
        if $who eq 'entra';
    die "vendor_headers: $who\n";
}

sub patch_ops { return { schemas => [$PATCH], Operations => [@_] } }

# The Okta user as Okta creates it (t/83).
sub okta_user {
    my ($login) = @_;
    return { schemas => [$CORE], userName => $login,
             name => { givenName => 'Test', familyName => 'User' },
             emails => [{ primary => $T, value => $login, type => 'work' }],
             displayName => 'Test User', locale => 'en-US', externalId => '00ujl29u0le5T6Aj10h7',
             groups => [], password => '1mz050nq', active => $T };
}

# The Entra user of Microsoft's documented request (t/84).
sub entra_user {
    my ($un, $ext) = @_;
    return { schemas => [$CORE, $ENT], externalId => $ext, userName => $un, active => $T,
             emails => [{ primary => $T, type => 'work', value => "Test_User_work_$un" }],
             meta => { resourceType => 'User' },
             name => { formatted => 'givenName familyName', familyName => 'familyName',
                       givenName => 'givenName' },
             roles => [] };
}

# t/83-okta.t, in order.
sub okta_steps {
    my @o = (headers => 'okta');
    return (
        { name => 'okta seed user', method => 'POST', path => '/Users',
          body => { schemas => [$CORE], userName => '{fresh}-seed@example.com' } },
        (map { { name => 'okta Test API Credentials', method => 'GET', path => '/Users', auth => 'basic', @o,
                 query => $_, ctype => 'application/scim+json; charset=utf-8' } }
             [[count => 1], [startIndex => 1]], [[startIndex => 1], [count => 2]],
             [[count => 2], [startIndex => 1]]),
        { name => 'okta list groups', method => 'GET', path => '/Groups', auth => 'basic', @o,
          query => [[startIndex => 1], [count => 100]] },
        { name => 'okta get user', method => 'GET', path => '/Users/{uid}', @o },
        { name => 'okta lookup', method => 'GET', path => '/Users', @o,
          query => [[filter => 'userName eq "{login}"']] },
        { name => 'okta console lookup', method => 'GET', path => '/Users', @o,
          query => [[filter => 'userName eq "{login}"'], [startIndex => 1], [count => 100]] },
        { name => 'okta create user', method => 'POST', path => '/Users', @o,
          body => okta_user('{fresh}.Runscope@atko.com') },
        { name => 'okta create user again', method => 'POST', path => '/Users', @o,
          body => okta_user('{login}') },
        { name => 'okta lookup upper case', method => 'GET', path => '/Users', @o,
          query => [[filter => 'userName eq "{LOGIN}"']] },
        { name => 'okta wrong id', method => 'GET', path => '/Users/010101001010101010', @o },
        { name => 'okta PUT profile', method => 'PUT', path => '/Users/{uid}', @o,
          body => { %{ okta_user('{login}') }, id => '{uid}',
                    name => { givenName => 'Another', familyName => 'User' },
                    displayName => 'Another User', title => 'Ops' } },
        { name => 'okta deactivate', method => 'PATCH', path => '/Users/{uid}', @o,
          body => patch_ops({ op => 'replace', value => { active => $F } }) },
        { name => 'okta reactivate', method => 'PATCH', path => '/Users/{uid}', @o,
          body => patch_ops({ op => 'replace', value => { active => $T } }) },
        { name => 'okta profile push', method => 'PATCH', path => '/Users/{uid}', @o,
          body => patch_ops({ op => 'replace',
                              value => { displayName => 'Third Name', 'name.givenName' => 'Third',
                                         title => 'Lead' } }) },
        { name => 'okta group push', method => 'POST', path => '/Groups', @o,
          body => { schemas => [$GROUP], displayName => 'Test SCIMv2 {fresh}', members => [] } },
        { name => 'okta get group', method => 'GET', path => '/Groups/{gid}', @o },
        { name => 'okta group lookup', method => 'GET', path => '/Groups', @o,
          query => [[filter => 'displayName eq "{gname}"'], [startIndex => 1], [count => 100]] },
        { name => 'okta group rename', method => 'PATCH', path => '/Groups/{gid}', @o,
          body => patch_ops({ op => 'replace', value => { id => '{gid}', displayName => '{gname}' } }) },
        { name => 'okta member user', method => 'POST', path => '/Users',
          body => { schemas => [$CORE], userName => '{fresh}-m1@example.com', displayName => 'Member 1' } },
        { name => 'okta add members', method => 'PATCH', path => '/Groups/{gid}', @o,
          body => patch_ops({ op => 'add', path => 'members',
                              value => [{ value => '{m0}', display => 'm1@example.com' },
                                        { value => '{m1}', display => 'm2@example.com' }] }) },
        { name => 'okta remove member by filter', method => 'PATCH', path => '/Groups/{gid}', @o,
          body => patch_ops({ op => 'remove', path => 'members[value eq "{m0}"]' }) },
        { name => 'okta replace members', method => 'PATCH', path => '/Groups/{gid}', @o,
          body => patch_ops({ op => 'replace', path => 'members',
                              value => [{ value => '{m2}', display => 'x' }, { value => '{m0}', display => 'y' }] }) },
        { name => 'okta PUT group', method => 'PUT', path => '/Groups/{gid}', @o,
          body => { schemas => [$GROUP], id => '{gid}', displayName => '{gname}',
                    members => [{ value => '{m1}', display => 'Member 2' }] } },
        { name => 'okta delete group', method => 'DELETE', path => '/Groups/{gid}', @o },
        { name => 'okta delete user', method => 'DELETE', path => '/Users/{uid}', @o },
    );
}

# t/84-entra.t, in order.
sub entra_steps {
    my @e = (headers => 'entra');
    my $p = sub { my ($path, @ops) = @_;
                  return (method => 'PATCH', path => $path, @e, body => patch_ops(@ops)) };
    return (
        { name => 'entra Test Connection', method => 'GET', path => '/Users', @e, plus => 1,
          query => [[filter => 'userName eq "{guid}"']] },
        { name => 'entra non-existent user', method => 'GET', path => '/Users', @e,
          query => [[filter => 'userName eq "non-existent user {guid}"']] },
        { name => 'entra create user', method => 'POST', path => '/Users', @e,
          body => entra_user('Test_User_{fresh}@testuser.com', '0a21f0f2-8d2a-4f8e-bf98-{fresh}') },
        { name => 'entra match userName', method => 'GET', path => '/Users', @e, plus => 1,
          query => [[filter => 'userName eq "{un}"']] },
        { name => 'entra match externalId', method => 'GET', path => '/Users', @e,
          query => [[filter => 'externalId eq "{ext}"']] },
        { name => 'entra manager user', method => 'POST', path => '/Users',
          body => { schemas => [$CORE], userName => 'manager-{fresh}@testuser.com', displayName => 'The Manager' } },
        { name => 'entra replace email in place', $p->('/Users/{uid}',
            { op => 'Replace', path => 'emails[type eq "work"].value', value => 'updatedEmail-{tag}@microsoft.com' },
            { op => 'Replace', path => 'name.familyName', value => 'updatedFamilyName' }) },
        { name => 'entra add email', $p->('/Users/{uid}',
            { op => 'Add', path => 'emails[type eq "work"].value', value => 'added-{tag}@microsoft.com' }) },
        { name => 'entra add phone', $p->('/Users/{uid}',
            { op => 'Add', path => 'phoneNumbers[type eq "mobile"].value', value => '+1 555 0100' }) },
        { name => 'entra rename', $p->('/Users/{uid}', { op => 'Replace', path => 'userName', value => 'renamed_{fresh}' }) },
        { name => 'entra add externalId', $p->('/Users/{uid}', { op => 'Add', path => 'externalId', value => '{ext}-2' },
                                              { op => 'Add', path => 'title', value => 'Tester' }) },
        { name => 'entra active "False"', $p->('/Users/{uid}', { op => 'Replace', path => 'active', value => 'False' }) },
        { name => 'entra active "True"', $p->('/Users/{uid}', { op => 'Replace', path => 'active', value => 'True' }) },
        { name => 'entra path-less active', $p->('/Users/{uid}', { op => 'replace', value => { active => 'false' } }) },
        { name => 'entra active true', $p->('/Users/{uid}', { op => 'Replace', path => 'active', value => $T }) },
        { name => 'entra active "Yes"', $p->('/Users/{uid}', { op => 'Replace', path => 'active', value => 'Yes' }) },
        { name => 'entra dotted and URN keys', $p->('/Users/{uid}', { op => 'Replace', value => {
            'name.givenName' => 'Dotted', 'name.familyName' => 'Keys', displayName => 'Dotted Keys',
            "$ENT:department" => 'Finance', "$ENT:employeeNumber" => 'E-42', "$CORE:title" => 'URN Title' } }) },
        { name => 'entra path-less add', $p->('/Users/{uid}',
            { op => 'Add', value => { "$ENT:costCenter" => 'CC1', 'name.middleName' => 'M' } }) },
        { name => 'entra URN path', $p->('/Users/{uid}', { op => 'Replace', path => "$ENT:department", value => 'Audit' }) },
        { name => 'entra manager string', $p->('/Users/{uid}', { op => 'Add', path => "$ENT:manager", value => '{mgr}' }) },
        { name => 'entra remove manager', $p->('/Users/{uid}', { op => 'Remove', path => "$ENT:manager" }) },
        { name => 'entra manager object', $p->('/Users/{uid}',
            { op => 'Replace', path => "$ENT:manager", value => { value => '{mgr}' } }) },
        { name => 'entra manager empty', $p->('/Users/{uid}', { op => 'Replace', path => "$ENT:manager", value => '' }) },
        { name => 'entra path-less manager', $p->('/Users/{uid}', { op => 'Replace', value => { "$ENT:manager" => '{mgr}' } }) },
        { name => 'entra remove manager with value', $p->('/Users/{uid}',
            { op => 'Remove', path => "$ENT:manager", value => [{ value => '{mgr}' }] }) },
        { name => 'entra create group', method => 'POST', path => '/Groups', @e,
          body => { schemas => [$GROUP, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
                    externalId => '8aa1a0c0-{fresh}', displayName => 'displayName {fresh}',
                    meta => { resourceType => 'Group' } } },
        { name => 'entra group without members', method => 'GET', path => '/Groups/{gid}', @e,
          query => [[excludedAttributes => 'members']] },
        { name => 'entra group lookup', method => 'GET', path => '/Groups', @e, plus => 1,
          query => [[excludedAttributes => 'members'], [filter => 'displayName eq "{gname}"']] },
        { name => 'entra member user', method => 'POST', path => '/Users',
          body => { schemas => [$CORE], userName => 'member1-{fresh}@testuser.com' } },
        { name => 'entra add members', $p->('/Groups/{gid}', { name => 'addMember', op => 'Add', path => 'members',
            value => [map { { '$ref' => undef, value => "{m$_}" } } 0 .. 3] }) },
        { name => 'entra remove members', $p->('/Groups/{gid}', { name => 'removeMember', op => 'Remove', path => 'members',
            value => [{ '$ref' => undef, value => '{m0}' }, { '$ref' => undef, value => '{m2}' }] }) },
        { name => 'entra rename group', $p->('/Groups/{gid}',
            { op => 'Replace', path => 'displayName', value => '{gname} updatedDisplayName' }) },
        { name => 'entra path-less rename group', $p->('/Groups/{gid}', { op => 'Replace', value => { displayName => '{gname}' } }) },
        { name => 'entra add and remove', $p->('/Groups/{gid}', { op => 'Add', path => 'members', value => [{ value => '{m0}' }] },
                                             { op => 'Remove', path => 'members', value => [{ value => '{m3}' }] }) },
        { name => 'entra paging', method => 'GET', path => '/Users', @e,
          query => [[filter => 'userName sw "page" and userName ew "{tag}"'], [startIndex => 6], [count => 5]] },
        { name => 'entra unfiltered page', method => 'GET', path => '/Users', @e, query => [[startIndex => 1], [count => 5]] },
        { name => 'entra groups page', method => 'GET', path => '/Groups', @e,
          query => [[startIndex => 1], [count => 5], [excludedAttributes => 'members']] },
        { name => 'entra delete user', method => 'DELETE', path => '/Users/{uid}', @e },
        { name => 'entra delete group', method => 'DELETE', path => '/Groups/{gid}', @e },
    );
}

# Not from the vendors: the other request shapes of SPEC 5.1 that the issue
# names (.search, attributes/sortBy, ETags), so the mutations reach them.
sub extra_steps {
    return (
        { name => 'search users', method => 'POST', path => '/Users/.search',
          body => { schemas => [$SEARCH], filter => 'userName sw "{tag}"', attributes => ['userName', 'emails'],
                    sortBy => 'userName', sortOrder => 'descending', startIndex => \'1', count => \'10' } },
        { name => 'search root', method => 'POST', path => '/.search',
          body => { schemas => [$SEARCH], filter => 'displayName co "SCIM"', excludedAttributes => ['members'],
                    count => \'3' } },
        { name => 'list projected', method => 'GET', path => '/Users',
          query => [[attributes => 'userName,name.givenName'], [sortBy => 'userName'], [sortOrder => 'ascending'],
                    [count => 3]] },
        { name => 'get with If-None-Match', method => 'GET', path => '/Users/{uid}', etag => 'If-None-Match' },
        { name => 'PUT with If-Match', method => 'PUT', path => '/Groups/{gid}', etag => 'If-Match',
          body => { schemas => [$GROUP], displayName => '{gname}', members => [{ value => '{m1}' }] } },
        { name => 'DELETE with If-Match', method => 'DELETE', path => '/Users/{m3}', etag => 'If-Match' },
        { name => 'service provider config', method => 'GET', path => '/ServiceProviderConfig' },
        { name => 'schema', method => 'GET', path => "/Schemas/$CORE" },
        { name => 'bulk', method => 'POST', path => '/Bulk',
          body => { schemas => ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], failOnErrors => \'1',
                    Operations => [
                        { method => 'POST', path => '/Users', bulkId => 'b1',
                          data => { schemas => [$CORE], userName => 'bulk-{fresh}' } },
                        { method => 'PATCH', path => '/Groups/{gid}',
                          data => patch_ops({ op => 'add', path => 'members', value => [{ value => 'bulkId:b1' }] }) },
                    ] } },
        { name => 'bulk writes', method => 'POST', path => '/Bulk',
          body => { schemas => ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
                    Operations => [
                        { method => 'POST', path => '/Users', bulkId => 'u1',
                          data => { schemas => [$CORE], userName => 'bulk-u-{fresh}', emails => [{ value => 'b@example.com' }] } },
                        { method => 'POST', path => '/Groups', bulkId => 'g1',
                          data => { schemas => [$GROUP], displayName => 'bulk-g-{fresh}',
                                    members => [{ value => 'bulkId:u1' }, { value => '{m2}' }] } },
                        { method => 'PUT', path => '/Users/{m3}',
                          data => { schemas => [$CORE], userName => '{tag}-{gen}-m3@example.com', title => 'bulk' } },
                        { method => 'PATCH', path => '/Users/{uid}',
                          data => patch_ops({ op => 'replace', path => 'title', value => 'bulk' }) },
                        { method => 'DELETE', path => '/Users/bulkId:u1' },
                    ] } },
    );
}

# The admin API calls of the token page (SPEC 5.2), below the admin location.
sub admin_steps {
    return (
        { name => 'admin me', method => 'GET', path => '/api/me' },
        { name => 'admin list providers', method => 'GET', path => '/api/identity-providers' },
        { name => 'admin new provider', method => 'POST', path => '/api/identity-providers',
          body => { type => 'okta', name => 'Okta {fresh}' } },
        { name => 'admin new entra provider', method => 'POST', path => '/api/identity-providers',
          body => { type => 'entra', name => 'Entra {fresh}' } },
        { name => 'admin list tokens', method => 'GET', path => '/api/identity-providers/{idp}/tokens' },
        { name => 'admin create token', method => 'POST', path => '/api/identity-providers/{idp}/tokens' },
        { name => 'admin delete token', method => 'DELETE', path => '/api/identity-providers/{idp}/tokens/{tokid}' },
        { name => 'admin notifications', method => 'GET', path => '/api/notifications' },
        { name => 'admin read notification', method => 'POST', path => '/api/notifications/{nid}/read' },
        { name => 'admin accounts', method => 'GET', path => '/api/accounts' },
    );
}

# The objects the sequences work on, created once (unmutated) before the
# mutations: the users and groups of the Okta and Entra runs.
sub fixture_steps {
    return (
        { name => 'fixture okta user', method => 'POST', path => '/Users', headers => 'okta',
          body => okta_user('{login}'), save => { uid => 'id' } },
        { name => 'fixture entra user', method => 'POST', path => '/Users', headers => 'entra',
          body => entra_user('{un}', '{ext}'), save => { eid => 'id' } },
        { name => 'fixture group', method => 'POST', path => '/Groups', headers => 'okta',
          body => { schemas => [$GROUP], displayName => '{gname}', members => [] }, save => { gid => 'id' } },
        (map { { name => "fixture member $_", method => 'POST', path => '/Users',
                 body => { schemas => [$CORE], userName => "{tag}-{gen}-m$_\@example.com", displayName => "Member $_" },
                 save => { "m$_" => 'id' } } } 0 .. 3),
        { name => 'fixture manager', method => 'POST', path => '/Users',
          body => { schemas => [$CORE], userName => 'manager-{tag}-{gen}@testuser.com', displayName => 'The Manager' },
          save => { mgr => 'id' } },
    );
}

# A deep copy of $d with every {var} in strings and keys replaced from %$vars.
sub expand {
    my ($d, $vars) = @_;
    my $s = sub {
        my $x = shift;
        $x =~ s/\{(\w+)\}/exists $vars->{$1} ? $vars->{$1} : "{$1}"/ge;
        return $x;
    };
    return undef unless defined $d;
    if (ref $d eq 'HASH') { return { map { ($s->($_) => expand($d->{$_}, $vars)) } keys %$d } }
    if (ref $d eq 'ARRAY') { return [map { expand($_, $vars) } @$d] }
    return $d if ref $d;    # booleans, raw JSON
    return $s->($d);
}

1;
