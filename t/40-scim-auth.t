# Provisioning tokens on the SCIM endpoint (SPEC 3.8, 4): Bearer and Basic,
# the exact 401, forged/tampered/expired/deleted/wrong-tenant tokens, tokens
# in the query string, immediate revocation.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use JSON::PP ();
use MIME::Base64 ();
use IO::Socket::INET ();
use ScimTest;

my ($res, $j);
my $idp = new_idp('alice', 'acme', 'okta', 'Auth Okta');
(undef, my $tok) = create_token('alice', 'acme', $idp);
my $jwt = $tok->{token};
my $user = $tok->{userName};

sub spc { scim_req('acme', 'GET', '/ServiceProviderConfig', @_) }

sub is_401 {
    my ($auth, $name, $sent) = @_;
    my ($r, $b) = spc($auth);
    my $www = $r->header('WWW-Authenticate') // '';
    my $ok = $r->code == 401
        && ($sent ? $www eq 'Bearer realm="scim", error="invalid_token"' : $www eq 'Bearer realm="scim"')
        && $b && $b->{status} eq '401'
        && $b->{schemas}[0] eq 'urn:ietf:params:scim:api:messages:2.0:Error'
        && $b->{detail} eq 'Authentication failed: a valid provisioning token is required'
        && ($r->header('Content-Type') // '') =~ m{^application/scim\+json};
    ok($ok, $name) or diag($r->as_string);
}

# --- accepted forms
($res, $j) = spc("Bearer $jwt");
is($res->code, 200, 'Bearer token: 200');
is($j->{schemas}[0], 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig', 'ServiceProviderConfig');
($res) = spc('Basic ' . MIME::Base64::encode_base64("$user:$jwt", ''));
is($res->code, 200, 'Basic with the generated username: 200');
($res) = spc('bearer ' . $jwt);
is($res->code, 200, 'scheme is case-insensitive');

# --- refused, always the same 401
is_401(undef, 'no Authorization: 401 without error=', 0);
is_401('Basic ' . MIME::Base64::encode_base64("someone\@acme:$jwt", ''), 'Basic with another username', 1);
is_401('Basic ' . MIME::Base64::encode_base64("$user:", ''), 'Basic without a token', 1);
is_401('Basic !!!', 'malformed Basic', 1);
is_401("Token $jwt", 'unknown scheme', 1);
is_401('Bearer ', 'empty bearer', 1);
is_401('Bearer garbage', 'garbage', 1);
my ($h64, $c64, $s64) = split /\./, $jwt;
my $claims = JSON::PP::decode_json(b64url_decode($c64));
my $header = JSON::PP::decode_json(b64url_decode($h64));
{
    my %c = (%$claims, sub => '00000000-0000-4000-8000-000000000000');
    my $forged = b64url(JSON::PP->new->canonical->encode(\%c));
    is_401("Bearer $h64.$forged.$s64", 'tampered claims with the original signature', 1);
}
{
    my $sig = b64url_decode($s64);
    substr($sig, 0, 1) = chr(ord(substr($sig, 0, 1)) ^ 1);
    is_401("Bearer $h64.$c64." . b64url($sig), 'tampered signature', 1);
}
is_401("Bearer $h64.$c64", 'two segments', 1);
is_401("Bearer $jwt.x", 'four segments', 1);
is_401("Bearer $h64.$c64.$s64=", 'padding', 1);
# forged with a key the server does not have
is_401('Bearer ' . sign_hs256('k' x 32, '{"alg":"HS256","typ":"scim-prov+jwt","kid":"test-2026a"}',
                               JSON::PP->new->canonical->encode($claims)),
       'signed with a foreign key', 1);
is_401('Bearer ' . b64url('{"alg":"none","typ":"scim-prov+jwt","kid":"test-2026a"}') . ".$c64.",
       'alg none', 1);
# properly signed with the server's key, but not a stored token: jti unknown
{
    my %c = (%$claims, jti => b64url('0123456789abcdef'));
    is_401('Bearer ' . sign_hs256(key_of('test-2026a'), '{"alg":"HS256","typ":"scim-prov+jwt","kid":"test-2026a"}',
                                  JSON::PP->new->canonical->encode(\%c)),
           'validly signed token that was never issued', 1);
}
# the second key verifies (rotation), but this exact token must be the stored one
{
    my $other = sign_hs256(key_of('test-2026b'), '{"alg":"HS256","typ":"scim-prov+jwt","kid":"test-2026b"}',
                           JSON::PP->new->canonical->encode($claims));
    is_401("Bearer $other", 're-signed copy of a live token: hash mismatch', 1);
}
# extra header member
is_401('Bearer ' . sign_hs256(key_of('test-2026a'),
                              '{"alg":"HS256","typ":"scim-prov+jwt","kid":"test-2026a","jku":"https://x"}',
                              b64url_decode($c64)),
       'extra header member jku', 1);

# --- wrong tenant: an acme token at globex
is((scim_req('globex', 'GET', '/ServiceProviderConfig', "Bearer $jwt"))[0]->code, 401,
   "acme's token is refused at globex");

# --- token in the query string: refused and redacted from the logs
{
    my $log_file = Apache::Test::vars('t_logs') . '/scim_access_log';
    my $size = -s $log_file // 0;
    my ($r) = scim_req('acme', 'GET', "/ServiceProviderConfig?access_token=$jwt", undef);
    is($r->code, 401, 'token in the query string: 401');
    my ($r2) = scim_req('acme', 'GET', "/ServiceProviderConfig?x=$jwt", "Bearer $jwt");
    is($r2->code, 401, 'a JWT anywhere in the query is refused even with a good header');
    my $log = log_tail($log_file, $size, qr/\?REDACTED/, 2);
    ok(index($log, $s64) < 0, 'the access log never shows the token');
    my $whole = do { local (@ARGV, $/) = ($log_file); <> };
    ok(index($whole, $s64) < 0, '... nor does any earlier line of it');
    is(scalar(() = $log =~ /\?REDACTED/g), 2, 'both request lines are redacted');
}

# --- the redaction %-decodes first, and covers the admin location too
{
    my $enc = sub { join '', map { sprintf '%%%02X', ord } split //, shift };
    (my $jwt_half = $enc->(substr($jwt, 0, 3))) .= substr($jwt, 3);
    my @queries = (
        ["access%5Ftoken=$jwt",  'access%5Ftoken'],
        ["%61ccess_token=$jwt",  '%61ccess_token'],
        ["ACCESS_TOKEN=$jwt",    'upper-case name'],
        ["x=1&token=$jwt",       'token after another parameter'],
        ["x=1;id_token=$jwt",    'after a semicolon'],
        ['x=' . $enc->($jwt),    'a JWT %-encoded entirely'],
        ["x=$jwt_half",          'a JWT with its "eyJ" %-encoded'],
        ['x=' . $enc->("pre $jwt post"), 'a JWT inside a %-encoded value'],
    );
    my $log_file = Apache::Test::vars('t_logs') . '/scim_access_log';
    my $err_file = Apache::Test::vars('t_logs') . '/error_log';
    my $size = -s $log_file;
    my $err_size = -s $err_file;
    for my $q (@queries) {
        my ($query, $what) = @$q;
        my ($r) = scim_req('acme', 'GET', "/ServiceProviderConfig?$query", "Bearer $jwt");
        is($r->code, 401, "SCIM location, $what: 401");
        ($r, my $rj) = admin_req('alice', 'GET', 'acme', "api/identity-providers?$query");
        is($r->code, 400, "admin location, $what: 400");
        ok(length($rj->{message} // '') && ($r->header('Content-Type') // '') =~ m{^application/json},
           '... with a JSON message');
        # refused by httpd's own authentication, before the handler runs
        ($r) = admin_req('mallory-nobody', 'GET', 'acme', "api/accounts?$query");
        is($r->code, 401, "admin location, unknown user, $what: 401");
    }
    my $log = log_tail($log_file, $size, qr/\?REDACTED/, 3 * @queries);
    my $hits = () = $log =~ /\?REDACTED/g;
    is($hits, 3 * @queries, 'every one of those request lines is redacted in the access log');
    ok(index($log, $s64) < 0 && index($log, $enc->($s64)) < 0 && index($log, $c64) < 0,
       'no token, %-encoded or not, reaches the access log');
    open(my $eh, '<', $err_file) or die $!;
    seek $eh, $err_size, 0;
    my $elog = do { local $/; <$eh> };
    ok(index($elog, $s64) < 0 && index($elog, $c64) < 0, 'nor the error log');
    # a harmless query is left alone
    my ($r) = admin_req('alice', 'GET', 'acme', 'api/identity-providers?tokenish=1&x=eyJhbGciOi');
    is($r->code, 200, 'a query with no token in it is served');
}

# --- deletion revokes at once; expiry likewise
{
    (undef, my $t2) = create_token('alice', 'acme', $idp);
    ($res) = spc("Bearer $t2->{token}");
    is($res->code, 200, 'second token works');
    ($res) = admin_req('alice', 'DELETE', 'acme', "api/identity-providers/$idp/tokens/$t2->{id}");
    is($res->code, 204, 'deleted');
    is_401("Bearer $t2->{token}", 'the very next request with a deleted token: 401', 1);
    # a method the endpoint does not allow, with the deleted token: the
    # standard 401, without the 405's Allow header
    my ($r, $b) = scim_req('acme', 'PUT', '/ServiceProviderConfig', "Bearer $t2->{token}", {});
    is($r->code, 401, 'PUT /ServiceProviderConfig with a deleted token: 401');
    is($r->header('Allow'), undef, 'that 401 carries no Allow header') or diag($r->as_string);
    is($r->header('WWW-Authenticate'), 'Bearer realm="scim", error="invalid_token"', 'and the standard WWW-Authenticate');
    is_deeply($b, { schemas => ['urn:ietf:params:scim:api:messages:2.0:Error'], status => '401',
                    detail => 'Authentication failed: a valid provisioning token is required' },
              'and the standard 401 body') or diag($r->as_string);
    ($r) = scim_req('acme', 'PUT', '/ServiceProviderConfig', "Bearer $jwt", {});
    is($r->code, 405, 'PUT /ServiceProviderConfig with a live token: 405');
    like($r->header('Allow') // '', qr/\bGET\b/, 'the 405 carries Allow');
    ($res) = spc("Bearer $jwt");
    is($res->code, 200, 'the other token still works');
    sql("UPDATE tokens SET created_at = now() - interval '1 year 1 minute', expires_at = now() - interval '1 second' WHERE id = '$tok->{id}'");
    is_401("Bearer $jwt", 'an expired token (by the database clock): 401', 1);
    sql("UPDATE tokens SET created_at = now() - interval '1 minute', expires_at = now() + interval '1 year' - interval '1 minute' WHERE id = '$tok->{id}'");
    ($res) = spc("Bearer $jwt");
    is($res->code, 200, 'live again when the database says so (nothing cached)');
    sql("UPDATE tokens SET token_hash = decode(repeat('ab', 32), 'hex') WHERE id = '$tok->{id}'");
    is_401("Bearer $jwt", 'stored hash differs: 401', 1);
}

# --- one keep-alive connection, as Okta and Entra send: the connection's
# memo of its token (scim_jwt_verify_memo) spares the MAC and JSON, never
# the token's row, the time rules or the tenant
{
    my ($host, $port) = split /:/, Apache::TestRequest::hostport();
    my $sock = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp', Timeout => 10)
        or die "connect: $!";
    # one request on the socket; (status, body, head) of its response, status
    # 0 if the server closed the connection (each read is bounded by alarm)
    my $on_conn = sub {
        my ($tenant, $auth) = @_;
        my ($head, $body) = ('', '');
        eval {
            local $SIG{ALRM} = sub { die "timeout\n" };
            alarm 30;
            print $sock "GET /t/$tenant/scim/v2/ServiceProviderConfig HTTP/1.1\r\nHost: $host:$port\r\n"
                . "Authorization: $auth\r\n\r\n";
            while (my $line = <$sock>) { $head .= $line; last if $line eq "\r\n" }
            my ($len) = $head =~ /^Content-Length: (\d+)/mi;
            read($sock, $body, $len) if $len;
            alarm 0;
            1;
        } or do { alarm 0; $head .= "(no answer: $@)" };
        my ($code) = $head =~ m{^HTTP/1\.1 (\d{3})};
        return ($code // 0, $body, $head || '(connection closed)');
    };
    my $errlog = Apache::Test::vars('t_logs') . '/error_log';
    my $idp2 = new_idp('alice', 'acme', 'entra', 'Keep-alive Entra');
    (undef, my $ta) = create_token('alice', 'acme', $idp2);
    (undef, my $tb) = create_token('alice', 'acme', $idp2);
    my ($t1, $t2) = ($ta->{token}, $tb->{token});
    my $forged = $t1;
    substr($forged, -2, 1) = substr($forged, -2, 1) eq 'A' ? 'B' : 'A';
    my @steps = (
        ['acme', $t1, 200, 'a token'],
        ['acme', $t1, 200, 'the same token again'],
        ['acme', $forged, 401, 'the same token with its signature changed', 'bad signature'],
        ['acme', substr($t1, 0, -1), 401, 'the token cut short by one character',
         'signature is not canonical base64url|bad signature length'],
        ['acme', $t1, 200, 'the first token after those'],
        # the JWT check's own reason: the memo does not answer for another
        # tenant (the token's row, which names its tenant, would refuse too)
        ['globex', $t1, 401, "the token at another tenant's endpoint", 'token of another tenant'],
        ['acme', $t2, 200, 'a second token'],
        ['acme', $t1, 200, 'the first again'],
    );
    for my $s (@steps) {
        my $size = -s $errlog;
        my ($code, $body, $head) = $on_conn->($s->[0], "Bearer $s->[1]");
        is($code, $s->[2], "one connection: $s->[3]: $s->[2]") or diag($head . $body);
        next unless $s->[4];
        my $log = log_tail($errlog, $size, qr/SCIM00030/, 1);
        like($log, qr/SCIM00030: provisioning token rejected for tenant '\Q$s->[0]\E': (?:$s->[4])$/m,
             "one connection: $s->[3]: the error log has the verifier's reason");
    }
    # deleted while the connection remembers it: refused by the next request
    my ($code) = $on_conn->('acme', "Bearer $t2");
    is($code, 200, 'one connection: the second token, remembered');
    ($res) = admin_req('alice', 'DELETE', 'acme', "api/identity-providers/$idp2/tokens/$tb->{id}");
    is($res->code, 204, 'the second token deleted (on another connection)');
    ($code, my $body, my $head) = $on_conn->('acme', "Bearer $t2");
    is($code, 401, 'one connection: the deleted token is refused at once') or diag($head . $body);
    ($code) = $on_conn->('acme', "Bearer $t1");
    is($code, 200, 'one connection: the first token still works');
    sql("UPDATE tokens SET created_at = now() - interval '1 year 1 minute', expires_at = now() - interval '1 second' WHERE id = '$ta->{id}'");
    ($code) = $on_conn->('acme', "Bearer $t1");
    is($code, 401, 'one connection: the remembered token, expired by the database, is refused');
    sql("DELETE FROM tokens WHERE id = '$ta->{id}'");
    ($code) = $on_conn->('acme', "Bearer $t1");
    is($code, 401, 'one connection: the remembered token, its row gone, is refused');
    (undef, my $tc) = create_token('alice', 'acme', $idp2);
    ($code) = $on_conn->('acme', "Bearer $tc->{token}");
    is($code, 200, 'one connection: a new token works on it');
    close $sock;
}

# --- nothing but ServiceProviderConfig yet, and never without a token
is((scim_req('acme', 'GET', '/Users', undef))[0]->code, 401, '/Users without a token: 401');

# --- no token or Authorization header in the logs
{
    my $err = do { local (@ARGV, $/) = (Apache::Test::vars('t_logs') . '/error_log'); <> };
    ok(index($err, $s64) < 0 && index($err, $c64) < 0, 'the error log never shows a token');
    like($err, qr/SCIM00030: provisioning token rejected for tenant 'acme': bad signature/,
         'the reason goes to the error log');
}

done_testing();
