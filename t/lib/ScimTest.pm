package ScimTest;
# Helpers of the Apache::Test suite: HTTP clients for the admin API and the
# SCIM endpoint, and direct SQL on the suite's private PostgreSQL.
use strict;
use warnings;
use Exporter 'import';
use Time::Local ();
use JSON::PP ();
use LWP::UserAgent ();
use HTTP::Request ();
use MIME::Base64 ();
use Apache::TestRequest ();

our @EXPORT = qw(base_url admin_req scim_req sql sql_rows json_of new_idp
                 create_token root_dir run_dir scimctl token_from b64url
                 b64url_decode sign_hs256 key_of scratch_db fresh_sessions
                 log_tail);

my $json = JSON::PP->new->canonical->allow_nonref;

# The bytes of a log file from $offset on, once at least $want lines match $re.
# httpd writes the access log in its log-transaction phase, after the response
# has been sent, so a client that has its answer may still be ahead of the
# last line: wait for it (up to 10 s) instead of reading too early. The caller
# still asserts the count, so a line that never comes, or one too many, fails.
sub log_tail {
    my ($file, $offset, $re, $want) = @_;
    my $text = '';
    for my $try (1 .. 100) {
        open(my $fh, '<', $file) or die "$file: $!\n";
        seek $fh, $offset, 0;
        $text = do { local $/; <$fh> } // '';
        close $fh;
        my $n = () = $text =~ /$re/g;
        last if $n >= $want;
        select(undef, undef, undef, 0.1);
    }
    return $text;
}

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

# End the module's pooled connections, so that it opens new ones (which take
# the settings of ALTER DATABASE): each reconnects on its first statement.
# The background workers (reminders, last use) log a warning when they meet
# an ended connection; the caller records the window for t/zz-error-log.t.
sub fresh_sessions {
    sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = 'scim' "
        . "AND usename = 'scim' AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
    for (1 .. 12) {
        my ($r) = admin_req('alice', 'GET', 'acme', 'api/identity-providers');
    }
}

# A scratch database at an older schema version, for the upgrade tests: the
# migrations sql/001_* .. sql/<upto>_* applied with psql (one check each)
# and recorded as scimctl records them; dropped when the test ends. Returns
# a hash: name, conninfo, try => sub (SQL, UTF-8) returning its status (0:
# success) and its output, or psql's error when it failed; run => the same
# returning the output, dying when the statement failed.
my @scratch_dbs;
my $scratch_pid = $$;
END {
    local $?;
    if ($$ == $scratch_pid) {  # not in a child that failed to exec psql
        system(psql_cmd(), '-c', "DROP DATABASE IF EXISTS $_") for @scratch_dbs;
    }
}
sub scratch_db {
    my ($tag, $upto, $create) = @_;   # $create: options of CREATE DATABASE
    require Encode;
    require POSIX;
    require Test::More;
    my %d = (name => 'scratch_' . lc(uniq_name($tag) =~ s/-/_/gr));
    my @psql = ('psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', $ENV{SCIM_TEST_PGHOST},
                '-p', $ENV{SCIM_TEST_PGPORT}, '-U', 'scim');
    $d{conninfo} = "host=$ENV{SCIM_TEST_PGHOST} port=$ENV{SCIM_TEST_PGPORT} dbname=$d{name} user=scim";
    my $errfile = run_dir() . "/$d{name}.stderr";
    my @files = grep { m{/(\d+)_[^/]*\.sql$} && $1 <= $upto } sort glob(root_dir() . '/sql/[0-9]*.sql');
    die "scratch_db: no migration numbered $upto\n" unless @files && $files[-1] =~ m{/0*\Q$upto\E_[^/]*$};
    $d{try} = sub {
        my ($q) = @_;
        my $pid = open(my $fh, '-|') // die "fork: $!";
        if (!$pid) {
            open(STDERR, '>', $errfile) or POSIX::_exit(126);
            exec(@psql, '-d', $d{name}, '-c', Encode::encode_utf8($q)) or POSIX::_exit(127);
        }
        local $/;
        my $out = <$fh> // '';
        my $status = close($fh) ? 0 : ($? >> 8 || 1);
        my $err = '';
        if (open(my $e, '<', $errfile)) { $err = <$e> // '' }
        return ($status, Encode::decode_utf8($status ? $err : $out) =~ s/\s+\z//r);
    };
    $d{run} = sub {
        my ($status, $out) = $d{try}->(@_);
        die "psql failed ($out) on: $_[0]\n" if $status;
        return $out;
    };
    Test::More::is(system(psql_cmd(), '-c', "CREATE DATABASE $d{name} " . ($create // '')), 0,
                   "a scratch database $d{name}");
    push @scratch_dbs, $d{name};
    for my $f (@files) {
        Test::More::is(system(@psql, '-d', $d{name}, '-f', $f), 0,
                       "version $upto schema: " . ($f =~ s{.*/}{}r));
    }
    $d{run}->("CREATE TABLE scim_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
              . "applied_at timestamptz NOT NULL DEFAULT now()); INSERT INTO scim_schema_migrations "
              . "(version, name) VALUES "
              . join(', ', map { m{/((\d+)_[^/]*)\.sql$}; "($2, '$1')" } @files));
    return \%d;
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
    return admin_req($user, 'POST', $tenant, "api/identity-providers/$idp/tokens", {});
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

# ---------------------------------------------------------------------------
# Helpers of the SCIM resource tests (t/80-88).
use URI::Escape ();
push @EXPORT, qw(scim_auth uniq_name fq jenc is_scim_error null_paths
                 patch_body user_body group_body list_names scim_ok
                 scim_bodies_shape uuid_re content_of uuid7_checks);

my $jenc = JSON::PP->new->utf8->canonical->allow_nonref;

sub uuid_re { qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/ }

# A resource made over SCIM has a version 7 UUID (RFC 9562) whose first 48
# bits are the milliseconds of its creation: two checks, the layout and that
# time against meta.created (which PostgreSQL sets in the same statement).
sub uuid7_checks {
    my ($r, $what) = @_;
    my $id = $r->{id} // '';
    Test::More::like($id, qr/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
                     "$what: the id is a lower-case version 7 UUID");
    my $ms = do { no warnings 'portable'; hex(substr($id, 0, 8) . substr($id, 9, 4)) };
    my ($Y, $M, $D, $h, $m, $s) = ($r->{meta}{created} // '') =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)/;
    my $created = defined $Y ? Time::Local::timegm($s, $m, $h, $D, $M - 1, $Y) : 0;
    my $d = $ms / 1000 - $created;
    Test::More::ok($d > -1 && $d < 2, "$what: the id's time is meta.created's ($ms ms, created $created s)");
}

# A fresh identity provider and token of the tenant: ("Bearer <jwt>", token JSON).
sub scim_auth {
    my ($admin, $tenant, $type, $name) = @_;
    my $idp = new_idp($admin, $tenant, $type // 'okta', $name // 'SCIM tests');
    my ($res, $t) = create_token($admin, $tenant, $idp);
    die 'scim_auth: ' . $res->status_line . "\n" unless $res->code == 201;
    return ("Bearer $t->{token}", $t);
}

# A name unique to this run: "<prefix>-<8 random base-36 characters>".
sub uniq_name {
    my ($prefix) = @_;
    my @c = ('a' .. 'z', '0' .. '9');
    return $prefix . '-' . join '', map { $c[int rand @c] } 1 .. 8;
}

# URL-encode a query parameter value (UTF-8).
sub fq { URI::Escape::uri_escape_utf8(shift, '^A-Za-z0-9\-\._~') }

# JSON text as UTF-8 bytes (scim_req sends a string body as is).
sub jenc { $jenc->encode(shift) }

sub content_of { my $r = shift; return $r->decoded_content // '' }

# The response is a SCIM Error (RFC 7644 3.12) with this HTTP status, "status"
# the same number as a JSON string, the scimType given (undef: any or none;
# '' : none) and a non-empty detail.
sub is_scim_error {
    my ($res, $j, $status, $scim_type, $name) = @_;
    my @why;
    push @why, 'HTTP ' . $res->code . " instead of $status" if $res->code != $status;
    push @why, 'Content-Type ' . ($res->header('Content-Type') // '(none)')
        unless ($res->header('Content-Type') // '') =~ m{^application/scim\+json};
    if (ref $j eq 'HASH') {
        push @why, 'schemas is not [Error]'
            unless ref $j->{schemas} eq 'ARRAY'
                && grep { $_ eq 'urn:ietf:params:scim:api:messages:2.0:Error' } @{ $j->{schemas} };
        push @why, 'status is not the string "' . $status . '"'
            unless content_of($res) =~ /"status"\s*:\s*"\Q$status\E"/;
        if (defined $scim_type) {
            my $got = $j->{scimType} // '';
            push @why, "scimType '$got' instead of '$scim_type'" if $got ne $scim_type;
        }
        push @why, 'no detail' unless defined $j->{detail} && !ref $j->{detail} && length $j->{detail};
    } else {
        push @why, 'body is not a JSON object';
    }
    my $ok = Test::More::ok(!@why, $name);
    Test::More::diag(join('; ', @why) . "\n" . $res->request->method . ' '
                     . $res->request->uri . "\n" . substr($res->as_string, 0, 1500))
        unless $ok;
    return $ok;
}

# The response has this status (diagnostics on failure).
sub scim_ok {
    my ($res, $status, $name) = @_;
    my $ok = Test::More::is($res->code, $status, $name);
    Test::More::diag($res->request->method . ' ' . $res->request->uri . "\n"
                     . substr($res->as_string, 0, 1500))
        unless $ok;
    return $ok;
}

# JSON paths of null values anywhere in a decoded document.
sub null_paths {
    my ($d, $path) = @_;
    $path //= '';
    return ($path || '/') unless defined $d;
    if (ref $d eq 'HASH') {
        return map { null_paths($d->{$_}, "$path/$_") } sort keys %$d;
    }
    if (ref $d eq 'ARRAY') {
        my $i = 0;
        return map { null_paths($_, $path . '/' . $i++) } @$d;
    }
    return ();
}

sub patch_body {
    return { schemas => ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations => [@_] };
}

sub user_body {
    my %a = @_;
    return { schemas => ['urn:ietf:params:scim:schemas:core:2.0:User'], %a };
}

sub group_body {
    my %a = @_;
    return { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'], %a };
}

# GET <endpoint>?filter=... on the tenant: (res, json, [sorted values of key]).
sub list_names {
    my ($tenant, $auth, $endpoint, $filter, $key, $extra) = @_;
    $key //= 'userName';
    my $q = '?filter=' . fq($filter) . '&count=200' . ($extra // '');
    my ($res, $j) = scim_req($tenant, 'GET', "$endpoint$q", $auth);
    my @v = sort map { $_->{$key} // '(none)' } @{ (ref $j eq 'HASH' && $j->{Resources}) || [] };
    return ($res, $j, \@v);
}

# A comparable shape of an error body: keys and scimType/status, with the
# given ids replaced in detail.
sub scim_bodies_shape {
    my ($j, @ids) = @_;
    return undef unless ref $j eq 'HASH';
    my %s = %$j;
    for my $id (@ids) { $s{detail} =~ s/\Q$id\E/<id>/g if defined $s{detail} }
    return \%s;
}

# The name key of migration 3 (sql/003_name_keys.sql), as an SQL format of
# its argument: what scim_name_key() and scim_name_key_sql() must give for
# every string (t/71, t/72).
our $NAME_KEY_SQL = 'normalize(lower(upper(normalize(%s, NFKC))), NFKC)';
# Names whose keys are easy to get wrong: width, case, ligatures, the German
# sharp s, dotted and dotless i, combining marks before and after NFKC,
# Greek final sigma, a character outside the BMP, the Ohm and Angstrom
# signs, an empty string and spaces.
our @HARD_NAMES = ('alice', 'ALICE', "\x{FF41}\x{FF4C}\x{FF49}\x{FF43}\x{FF45}", "\x{FB01}nn", "Stra\x{DF}e",
                   'STRASSE', "\x{130}stanbul", "\x{131}stanbul", "e\x{301}", "\x{E9}", "\x{3A3}\x{3C3}\x{3C2}",
                   "\x{1D400}BC", "\x{2126}", "\x{212B}", "A\x{30A}", "x\x{345}", '', ' a ');
# A Perl string as a PostgreSQL E'' literal, every character a \uXXXX or
# \UXXXXXXXX escape (any name reaches psql intact, whatever its bytes).
sub pg_unicode_literal {
    my ($s) = @_;
    return "E'" . join('', map { my $o = ord; $o > 0xFFFF ? sprintf('\\U%08X', $o) : sprintf('\\u%04X', $o) }
                            split //, $s) . "'";
}
push @EXPORT, qw(pg_unicode_literal $NAME_KEY_SQL @HARD_NAMES);

1;
