# Admin JSON API (SPEC 5.2): routes, authorization from the database,
# cross-site and framing rules, and bad input.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use HTTP::Request ();
use LWP::UserAgent ();
use ScimTest;


my ($res, $j);

# --- authorization: system admin anywhere, Customer Administrator only on
# their tenant, anyone else 403
($res, $j) = admin_req('alice', 'GET', 'acme', 'api/me');
is($res->code, 200, 'customer admin reads api/me on own tenant');
is($j->{role}, 'customer', 'role is customer');
is($j->{tenant}{slug}, 'acme', 'tenant slug');
($res, $j) = admin_req('sysadmin', 'GET', 'globex', 'api/me');
is($res->code, 200, 'system admin on any tenant');
is($j->{role}, 'system', 'role is system');
($res, $j) = admin_req('alice', 'GET', 'globex', 'api/identity-providers');
is($res->code, 403, "other tenant's administrator gets 403");
is($j->{error}, 'forbidden', '403 body is JSON with an error');
like($j->{message}, qr/not an administrator/, '403 has a message');
($res, $j) = admin_req('mallory', 'GET', 'acme', 'api/identity-providers');
is($res->code, 403, 'authenticated non-administrator gets 403');
($res) = admin_req(undef, 'GET', 'acme', 'api/identity-providers');
is($res->code, 401, 'httpd authentication still applies (no credentials: 401)');
($res, $j) = admin_req('sysadmin', 'GET', 'nosuch', 'api/me');
is($res->code, 404, 'a tenant unknown to the database is 404');

# --- framing and caching headers on every answer
($res) = admin_req('alice', 'GET', 'acme', 'api/identity-providers');
is($res->header('X-Frame-Options'), 'DENY', 'X-Frame-Options: DENY');
like($res->header('Content-Security-Policy') // '', qr/frame-ancestors 'none'/,
     "CSP frame-ancestors 'none'");
like($res->header('Content-Type'), qr{^application/json}, 'JSON content type');
($res) = admin_req('mallory', 'GET', 'acme', 'api/identity-providers');
is($res->header('X-Frame-Options'), 'DENY', 'framing headers also on 403');

# --- identity providers
($res, $j) = admin_req('alice', 'POST', 'acme', 'api/identity-providers',
                       { type => 'okta', name => 'Acme Okta' });
is($res->code, 201, 'create okta provider: 201');
my $okta = $j->{id};
like($okta // '', qr/^[0-9a-f-]{36}$/, 'provider id is a uuid');
is($j->{type}, 'okta', 'type okta');
is($j->{name}, 'Acme Okta', 'name kept');
like($j->{createdAt} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'createdAt ISO 8601 UTC');
($res, $j) = admin_req('alice', 'POST', 'acme', 'api/identity-providers',
                       { type => 'entra' });
is($res->code, 201, 'create entra provider without a name: 201');
is($j->{name}, 'Microsoft Entra ID', 'default name for entra');
for my $bad ('onelogin', 'OKTA', 'azure', '') {
    ($res, $j) = admin_req('alice', 'POST', 'acme', 'api/identity-providers',
                           { type => $bad, name => 'x' });
    is_deeply([$res->code, $j->{error}, $j->{message}],
              [400, 'unsupported_identity_provider',
               'Account provisioning is only supported with Okta and Microsoft Entra ID.'],
              "type '$bad' refused with the product's message");
}
($res, $j) = admin_req('alice', 'POST', 'acme', 'api/identity-providers', { type => 5 });
is($res->code, 400, 'non-string type: 400');
($res, $j) = admin_req('alice', 'POST', 'acme', 'api/identity-providers', { name => 'x' });
is($res->code, 400, 'missing type: 400');
like($j->{message}, qr/type/, 'message names the field');
($res, $j) = admin_req('alice', 'POST', 'acme', 'api/identity-providers', { type => 'okta', name => [1] });
is($res->code, 400, 'non-string name: 400');
($res, $j) = admin_req('alice', 'POST', 'acme', 'api/identity-providers', '{"type":"okta",');
is($res->code, 400, 'malformed JSON: 400');
is($j->{error}, 'invalid_json', 'malformed JSON error code');
($res, $j) = admin_req('alice', 'POST', 'acme', 'api/identity-providers',
                       '{"type":"okta","type":"entra"}');
is($res->code, 400, 'duplicate JSON keys: 400');
($res, $j) = admin_req('alice', 'POST', 'acme', 'api/identity-providers', '[1,2]');
is($res->code, 400, 'JSON array instead of object: 400');
($res, $j) = admin_req('alice', 'POST', 'acme', 'api/identity-providers',
                       '{"type":"okta"}', 'Content-Type' => 'text/plain');
is($res->code, 415, 'non-JSON content type: 415');
($res, $j) = admin_req('alice', 'POST', 'acme', 'api/identity-providers',
                       { type => 'okta', name => 'x' x 70000 });
is($res->code, 413, 'oversized body: 413');
($res, $j) = admin_req('alice', 'GET', 'acme', 'api/identity-providers');
is($res->code, 200, 'list providers');
my @names = map { $_->{name} } @{ $j->{identityProviders} };
ok((grep { $_ eq 'Acme Okta' } @names), 'created provider is listed');
is(scalar(grep { $_->{type} !~ /^(okta|entra)$/ } @{ $j->{identityProviders} }), 0,
   'refused providers were not stored');
($res, $j) = admin_req('bob', 'GET', 'globex', 'api/identity-providers');
ok(!(grep { $_->{id} eq $okta } @{ $j->{identityProviders} }),
   "another tenant does not see acme's provider");

# --- routing: unknown paths, wrong methods, unknown ids
($res, $j) = admin_req('alice', 'GET', 'acme', 'api/nope');
is($res->code, 404, 'unknown path: 404');
is($j->{error}, 'not_found', '404 is JSON');
($res, $j) = admin_req('alice', 'PUT', 'acme', 'api/identity-providers', { type => 'okta' });
is($res->code, 405, 'wrong method: 405');
like($res->header('Allow') // '', qr/GET.*POST/, '405 has Allow');
($res, $j) = admin_req('alice', 'GET', 'acme', 'api/identity-providers/' . $okta . '/tokens/x');
is($res->code, 405, 'GET on a token: 405');
is($res->header('Allow'), 'DELETE', 'Allow: DELETE');
($res, $j) = admin_req('alice', 'GET', 'acme', 'api/identity-providers/not-a-uuid/tokens');
is($res->code, 404, 'malformed provider id: 404');
($res, $j) = admin_req('alice', 'GET', 'acme',
                       'api/identity-providers/00000000-0000-4000-8000-000000000000/tokens');
is($res->code, 404, 'unknown provider id: 404');
($res, $j) = admin_req('bob', 'GET', 'globex', "api/identity-providers/$okta/tokens");
is($res->code, 404, "another tenant's provider id behaves like an unknown one");
($res, $j) = admin_req('bob', 'POST', 'globex', "api/identity-providers/$okta/tokens", {});
is($res->code, 404, "no token for another tenant's provider");
($res, $j) = admin_req('alice', 'POST', 'acme', 'api/notifications/nope/read', {});
is($res->code, 404, 'unknown notification: 404');
($res, $j) = admin_req('alice', 'GET', 'acme', 'api/identity-providers/a/b/c/d/e/f/g');
is($res->code, 404, 'too deep a path: 404');

# --- cross-site requests are refused
($res, $j) = admin_req('alice', 'POST', 'acme', 'api/identity-providers',
                       { type => 'okta' }, Origin => 'https://evil.example');
is($res->code, 403, 'foreign Origin: 403');
is($j->{error}, 'cross_site', 'cross_site error');
($res, $j) = admin_req('alice', 'GET', 'acme', 'api/identity-providers', undef,
                       'Sec-Fetch-Site' => 'cross-site');
is($res->code, 403, 'Sec-Fetch-Site: cross-site: 403');
($res, $j) = admin_req('alice', 'POST', 'acme', 'api/identity-providers',
                       { type => 'okta', name => 'same origin' },
                       Origin => base_url(), 'Sec-Fetch-Site' => 'same-origin');
is($res->code, 201, 'same-origin request with Origin is accepted');
($res) = admin_req('alice', 'POST', 'acme', 'api/identity-providers',
                   { type => 'okta' }, Origin => 'null');
is($res->code, 403, 'Origin: null is cross-site');

# --- accounts
($res, $j) = admin_req('alice', 'GET', 'acme', 'api/accounts');
is($res->code, 200, 'accounts list');
is(ref $j->{accounts}, 'ARRAY', 'accounts is an array');

# --- the page location redirects to its slash form
($res) = admin_req('alice', 'GET', 'acme', '');
is($res->code, 406, 'page root asked for JSON: 406 pointing to api/');
($res) = admin_req('alice', 'GET', 'acme', '', undef, Accept => 'text/html');
is($res->code, 200, 'page root with Accept: text/html answers');
like($res->header('Content-Type') // '', qr{^text/html}, 'as HTML');
like($res->header('Content-Security-Policy') // '', qr/script-src 'self'/, 'page has a strict CSP');
($res) = admin_req('mallory', 'GET', 'acme', '', undef, Accept => 'text/html');
is($res->code, 403, 'the page too is for administrators only');
($res) = admin_req('alice', 'GET', 'acme', 'assets/..%2f..%2fetc%2fpasswd');
is($res->code, 404, 'no path traversal through assets');
{
    my $ua = LWP::UserAgent->new(max_redirect => 0);
    my $req = HTTP::Request->new(GET => base_url() . '/t/acme/provisioning');
    $req->authorization_basic('alice', 'pw-alice');
    my $r = $ua->request($req);
    is($r->code, 301, 'location without slash redirects');
}

# --- a POST without Content-Type: application/json changes nothing, even
# with an empty body (a cross-site text/plain form must not mint a token)
{
    my $idp_ct = new_idp('alice', 'acme', 'okta', 'Media checks');
    my $tokens = sub { sql("SELECT count(*) FROM tokens WHERE account_id IN (SELECT id FROM accounts WHERE idp_id = '$idp_ct')") };
    my $idps = sql('SELECT count(*) FROM identity_providers');
    my $post = sub {
        my ($path, $ctype, $body) = @_;
        my $req = HTTP::Request->new(POST => base_url() . "/t/acme/provisioning/$path");
        $req->authorization_basic('alice', 'pw-alice');
        $req->header('Content-Type' => $ctype) if defined $ctype;
        $req->content($body // '');
        my $r = LWP::UserAgent->new(timeout => 30)->request($req);
        return ($r, json_of($r));
    };
    for my $c ([undef, ''], ['text/plain', ''], ['text/plain', '{}'],
               ['application/x-www-form-urlencoded', 'a=b'], ['multipart/form-data; boundary=x', ''],
               ['application/jsonx', '']) {
        my ($ct, $body) = @$c;
        my $what = ($ct // 'no Content-Type') . ' with ' . (length $body ? 'a body' : 'an empty body');
        my ($r, $rj) = $post->("api/identity-providers/$idp_ct/tokens", $ct, $body);
        is($r->code, 415, "POST tokens, $what: 415");
        ok(($rj->{error} // '') eq 'unsupported_media_type' && length($rj->{message} // ''), '... with a JSON error and message');
        ($r) = $post->('api/identity-providers', $ct, $body);
        is($r->code, 415, "POST identity-providers, $what: 415");
    }
    is($tokens->(), 0, 'no token was created by any of them');
    is(sql('SELECT count(*) FROM identity_providers'), $idps, 'no identity provider was created');
    my ($r) = $post->("api/identity-providers/$idp_ct/tokens", 'application/json', '');
    is($r->code, 201, 'the same empty POST as application/json creates the token');
    ($r) = $post->("api/identity-providers/$idp_ct/tokens", 'Application/JSON; charset=utf-8', '{}');
    is($r->code, 201, 'application/json with parameters, any case: accepted');
    is($tokens->(), 2, 'two tokens now');
    ($r) = $post->('api/notifications/00000000-0000-4000-8000-000000000000/read', 'text/plain', '');
    is($r->code, 415, 'POST notifications/{id}/read as text/plain: 415');
}

done_testing();
