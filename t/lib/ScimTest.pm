package ScimTest;
# Helpers of the Apache::Test suite: HTTP clients for the admin API and the
# SCIM endpoint, and direct SQL on the suite's private PostgreSQL.
use strict;
use warnings;
use Exporter 'import';
use JSON::PP ();
use LWP::UserAgent ();
use HTTP::Request ();
use MIME::Base64 ();
use Apache::TestRequest ();

our @EXPORT = qw(base_url admin_req scim_req sql sql_rows json_of new_idp
                 create_token root_dir run_dir scimctl token_from b64url
                 b64url_decode sign_hs256 key_of);

my $json = JSON::PP->new->canonical->allow_nonref;

sub root_dir { $ENV{SCIM_TEST_ROOT} or die "SCIM_TEST_ROOT is not set\n" }
sub run_dir  { $ENV{SCIM_TEST_RUN}  or die "SCIM_TEST_RUN is not set\n" }

sub base_url { 'http://' . Apache::TestRequest::hostport() }

sub ua {
    my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
    $ua->max_redirect(0);
    return $ua;
}

# admin_req(user, METHOD, tenant, path, body-or-undef, headers...) ->
# (HTTP::Response, decoded JSON or undef). Password is "pw-<user>".
sub admin_req {
    my ($user, $method, $tenant, $path, $body, @headers) = @_;
    my $url = base_url() . "/t/$tenant/provisioning/$path";
    my $req = HTTP::Request->new($method => $url);
    $req->authorization_basic($user, "pw-$user") if defined $user;
    $req->header(Accept => 'application/json');
    if (defined $body) {
        $req->header('Content-Type' => 'application/json');
        $req->content(ref $body ? $json->encode($body) : $body);
    }
    while (@headers) {
        my ($k, $v) = splice @headers, 0, 2;
        $req->header($k => $v);
    }
    my $res = ua()->request($req);
    return ($res, json_of($res));
}

# scim_req(tenant, METHOD, path, authorization-header-or-undef, body) ->
# (HTTP::Response, decoded JSON or undef)
sub scim_req {
    my ($tenant, $method, $path, $auth, $body, @headers) = @_;
    my $req = HTTP::Request->new($method => base_url() . "/t/$tenant/scim/v2$path");
    $req->header(Authorization => $auth) if defined $auth;
    if (defined $body) {
        $req->header('Content-Type' => 'application/scim+json');
        $req->content(ref $body ? $json->encode($body) : $body);
    }
    while (@headers) {
        my ($k, $v) = splice @headers, 0, 2;
        $req->header($k => $v);
    }
    my $res = ua()->request($req);
    return ($res, json_of($res));
}

sub json_of {
    my $res = shift;
    my $c = $res->decoded_content // '';
    return undef unless length $c && ($res->header('Content-Type') // '') =~ /json/;
    return eval { $json->decode($c) };
}

sub psql_cmd {
    return ('psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
            '-h', $ENV{SCIM_TEST_PGHOST}, '-p', $ENV{SCIM_TEST_PGPORT},
            '-U', 'scim', '-d', 'scim');
}

# Run SQL (test fixtures only), return rows as arrays of fields.
sub sql_rows {
    my ($q) = @_;
    open(my $fh, '-|', psql_cmd(), '-F', "\t", '-c', $q) or die "psql: $!";
    my @rows = map { chomp; [split /\t/, $_, -1] } <$fh>;
    close $fh or die "psql failed on: $q\n";
    return @rows;
}

sub sql {
    my @rows = sql_rows(@_);
    return @rows ? $rows[0][0] : undef;
}

sub scimctl {
    my @args = @_;
    my $cmd = join ' ', map { "'$_'" } root_dir() . '/scimctl', @args;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

# A new identity provider of the tenant, as the given administrator.
sub new_idp {
    my ($user, $tenant, $type, $name) = @_;
    my ($res, $j) = admin_req($user, 'POST', $tenant, 'api/identity-providers',
                              { type => $type // 'okta', name => $name // 'Test IdP' });
    die 'new_idp: ' . $res->status_line . ' ' . $res->decoded_content . "\n"
        unless $res->code == 201;
    return $j->{id};
}

sub create_token {
    my ($user, $tenant, $idp) = @_;
    return admin_req($user, 'POST', $tenant, "api/identity-providers/$idp/tokens");
}

sub b64url {
    my $s = MIME::Base64::encode_base64url(shift);
    return $s;
}

sub b64url_decode { MIME::Base64::decode_base64url(shift) }

# The raw key of a kid from the suite's key file.
sub key_of {
    my ($kid) = @_;
    open(my $fh, '<', run_dir() . '/keys.jwks') or die $!;
    local $/;
    my $set = $json->decode(<$fh>);
    for my $k (@{ $set->{keys} }) {
        return b64url_decode($k->{k}) if $k->{kid} eq $kid;
    }
    die "no key $kid\n";
}

# A compact JWS over exactly the given header and claims JSON texts.
sub sign_hs256 {
    my ($key, $header_json, $claims_json) = @_;
    require Digest::SHA;
    my $input = b64url($header_json) . '.' . b64url($claims_json);
    return $input . '.' . b64url(Digest::SHA::hmac_sha256($input, $key));
}

1;
