# Token lifecycle (SPEC 3.1-3.5, 3.7): provisioning account, the two-token
# limit with its notification, deletion, expiry, the replace policy, and the
# limit under 20 parallel creations.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use JSON::PP ();
use ScimTest;

my ($res, $j);
my $idp = new_idp('alice', 'acme', 'okta', 'Lifecycle Okta');

($res, $j) = admin_req('alice', 'GET', 'acme', "api/identity-providers/$idp/tokens");
is($res->code, 200, 'token list of a new provider');
is_deeply($j, { provisioningAccount => undef, tokens => [] },
          'no provisioning account and no tokens yet');

# --- first token creates the provisioning account (3.1) and is shown once (3.2)
($res, $j) = create_token('alice', 'acme', $idp);
is($res->code, 201, 'first token: 201');
is($res->header('Cache-Control'), 'no-store', 'Cache-Control: no-store');
my $t1 = $j;
like($t1->{token}, qr/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'token is a compact JWS');
like($t1->{userName}, qr/^okta-provisioning-[a-z2-7]{6}\@acme$/, 'generated administrator username');
my ($h, $c) = map { JSON::PP::decode_json(b64url_decode($_)) } (split /\./, $t1->{token})[0, 1];
is_deeply([sort keys %$h], [qw(alg kid typ)], 'header has exactly alg, kid, typ');
is($h->{alg}, 'HS256', 'alg HS256');
is($h->{typ}, 'scim-prov+jwt', 'typ scim-prov+jwt');
is($h->{kid}, 'test-2026a', 'signed with the first key by default');
is_deeply([sort keys %$c], [qw(aud exp iat idp iss jti nbf sub tid)], 'exactly the nine claims');
is($c->{aud}, 'urn:scim-provision:tenant:acme', 'aud');
is($c->{tid}, 'acme', 'tid');
is($c->{idp}, 'okta', 'idp');
is($c->{iss}, 'https://idp-gateway.test.example/scim', 'iss from SCIMTokenIssuer');
like($c->{jti}, qr/^[A-Za-z0-9_-]{22}$/, 'jti is 128 bits base64url');
my $db_exp = sql("SELECT extract(epoch FROM expires_at)::bigint FROM tokens WHERE id = '$t1->{id}'");
is($c->{exp}, $db_exp, 'JWT exp equals expires_at in the database');
is(sql("SELECT expires_at = created_at + interval '1 year' FROM tokens WHERE id = '$t1->{id}'"),
   't', 'expires one calendar year after creation');
is($c->{exp} - $c->{iat} <= 366 * 86400 ? 1 : 0, 1, 'lifetime within 366 days');

# stored as a hash only
is(sql("SELECT encode(token_hash, 'hex') FROM tokens WHERE id = '$t1->{id}'"),
   do { require Digest::SHA; Digest::SHA::sha256_hex($t1->{token}) },
   'the database holds SHA-256 of the exact token bytes');
{
    my $dump = `pg_dump -h $ENV{SCIM_TEST_PGHOST} -p $ENV{SCIM_TEST_PGPORT} -U scim scim 2>/dev/null`;
    ok(length($dump) > 1000, 'pg_dump of the database');
    my $sig = (split /\./, $t1->{token})[2];
    ok(index($dump, $t1->{token}) < 0 && index($dump, $sig) < 0,
       'the token (or its signature) is nowhere in the database');
}

($res, $j) = admin_req('alice', 'GET', 'acme', "api/identity-providers/$idp/tokens");
is($j->{provisioningAccount}{userName}, $t1->{userName}, 'provisioning account listed with the token');
is($j->{provisioningAccount}{billable}, JSON::PP::false, 'provisioning account is non-billable');
is(scalar @{ $j->{tokens} }, 1, 'one token listed');
ok(!exists $j->{tokens}[0]{token}, 'the list never shows the token');
is($j->{tokens}[0]{status}, 'active', 'status active');
is($j->{tokens}[0]{createdBy}, 'alice', 'createdBy');
ok(!defined $j->{tokens}[0]{deletedAt}, 'not deleted');

($res, $j) = admin_req('alice', 'GET', 'acme', 'api/accounts');
my ($pa) = grep { $_->{kind} eq 'provisioning' && $_->{userName} eq $t1->{userName} } @{ $j->{accounts} };
ok($pa, 'provisioning account is listed with the tenant accounts');
is($pa->{billable}, JSON::PP::false, 'and is non-billable there');

# --- second token: same account; third: 409 + notification, nothing created (3.3)
($res, $j) = create_token('sysadmin', 'acme', $idp);
is($res->code, 201, 'second token (system administrator): 201');
my $t2 = $j;
is($t2->{userName}, $t1->{userName}, 'same provisioning account');
is(sql("SELECT count(*) FROM accounts WHERE idp_id = '$idp'"), 1, 'still one provisioning account');
my $notes_before = sql("SELECT count(*) FROM notifications n JOIN administrators a ON a.id = n.administrator_id WHERE a.username = 'alice'");
($res, $j) = create_token('alice', 'acme', $idp);
is($res->code, 409, 'third token: 409');
is_deeply($j, { error => 'too_many_tokens', message => 'Could not create token' }, '409 body');
is(sql("SELECT count(*) FROM tokens WHERE account_id = (SELECT id FROM accounts WHERE idp_id = '$idp')"),
   2, 'nothing was created');
($res, $j) = admin_req('alice', 'GET', 'acme', 'api/notifications');
is($res->code, 200, 'notifications');
my ($note) = grep { !$_->{read} } @{ $j->{notifications} };
like($note->{message} // '', qr/too many provisioning tokens already exist/, 'the bell explains why');
is(sql("SELECT count(*) FROM notifications n JOIN administrators a ON a.id = n.administrator_id WHERE a.username = 'alice'"),
   $notes_before + 1, 'exactly one notification for the requesting administrator');
($res) = admin_req('alice', 'POST', 'acme', "api/notifications/$note->{id}/read", {});
is($res->code, 204, 'mark notification read: 204');
($res, $j) = admin_req('alice', 'GET', 'acme', 'api/notifications');
my ($again) = grep { $_->{id} eq $note->{id} } @{ $j->{notifications} };
ok($again->{read}, 'notification is read');
($res) = admin_req('alex', 'POST', 'acme', "api/notifications/$note->{id}/read", {});
is($res->code, 404, "another administrator cannot touch alice's notification");

# --- deletion (3.5): revoked, listed as deleted with who and when
($res) = admin_req('alex', 'DELETE', 'acme', "api/identity-providers/$idp/tokens/$t1->{id}");
is($res->code, 204, 'delete: 204');
($res) = admin_req('alex', 'DELETE', 'acme', "api/identity-providers/$idp/tokens/$t1->{id}");
is($res->code, 404, 'delete again: 404');
($res) = admin_req('alice', 'DELETE', 'acme',
                   "api/identity-providers/$idp/tokens/00000000-0000-4000-8000-000000000000");
is($res->code, 404, 'delete unknown token: 404');
($res) = admin_req('bob', 'DELETE', 'globex', "api/identity-providers/$idp/tokens/$t2->{id}");
is($res->code, 404, "globex's admin cannot delete acme's token");
($res, $j) = admin_req('alice', 'GET', 'acme', "api/identity-providers/$idp/tokens");
my ($d) = grep { $_->{id} eq $t1->{id} } @{ $j->{tokens} };
is($d->{status}, 'deleted', 'deleted token still listed, marked deleted');
is($d->{deletedBy}, 'alex', 'with the username of who deleted it');
like($d->{deletedAt} // '', qr/^\d{4}-\d\d-\d\dT/, 'and when');
# a deleted token no longer counts: a new one may be created
($res, $j) = create_token('alice', 'acme', $idp);
is($res->code, 201, 'after a deletion a new token can be created');
my $t3 = $j;
($res, $j) = create_token('alice', 'acme', $idp);
is($res->code, 409, 'but still never a third live one');

# --- expiry (3.4): expired tokens are not listed; deleted ones vanish at
# their original expiry
sql("UPDATE tokens SET created_at = now() - interval '1 year 1 minute', expires_at = now() - interval '1 minute' WHERE id = '$t2->{id}'");
($res, $j) = admin_req('alice', 'GET', 'acme', "api/identity-providers/$idp/tokens");
ok(!(grep { $_->{id} eq $t2->{id} } @{ $j->{tokens} }), 'an expired token is not listed');
sql("UPDATE tokens SET created_at = now() - interval '1 year 1 minute', expires_at = now() - interval '1 minute' WHERE id = '$t1->{id}'");
($res, $j) = admin_req('alice', 'GET', 'acme', "api/identity-providers/$idp/tokens");
ok(!(grep { $_->{id} eq $t1->{id} } @{ $j->{tokens} }), 'a deleted token disappears at its original expiry');
($res) = admin_req('alice', 'DELETE', 'acme', "api/identity-providers/$idp/tokens/$t2->{id}");
is($res->code, 404, 'an expired token cannot be deleted');
($res, $j) = create_token('alice', 'acme', $idp);
is($res->code, 201, 'expired tokens do not count toward the limit');

# --- SCIMTokenPolicy replace (3.7): a new token retires the earlier ones
my $ridp = new_idp('carol', 'initech', 'entra', 'Initech Entra');
($res, my $r1) = create_token('carol', 'initech', $ridp);
is($res->code, 201, 'replace policy: first token');
like($r1->{userName}, qr/^entra-provisioning-[a-z2-7]{6}\@initech$/, 'entra username');
($res, my $r2) = create_token('carol', 'initech', $ridp);
is($res->code, 201, 'replace policy: second token');
($res, my $r3) = create_token('carol', 'initech', $ridp);
is($res->code, 201, 'replace policy: third token is never refused');
($res, $j) = admin_req('carol', 'GET', 'initech', "api/identity-providers/$ridp/tokens");
is_deeply([map { $_->{id} } @{ $j->{tokens} }], [$r3->{id}], 'only the newest token is listed');
my ($code) = scim_req('initech', 'GET', '/ServiceProviderConfig', "Bearer $r1->{token}");
is($code->code, 401, 'a replaced token stops working at once');
($code) = scim_req('initech', 'GET', '/ServiceProviderConfig', "Bearer $r3->{token}");
is($code->code, 200, 'the newest token works');

# --- 20 parallel creations on a fresh provider: exactly two tokens, one account
my $pidp = new_idp('alice', 'acme', 'entra', 'Race Entra');
my @pids;
my $dir = run_dir() . "/race";
mkdir $dir;
for my $i (1 .. 20) {
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        my ($r) = create_token('alice', 'acme', $pidp);
        open(my $fh, '>', "$dir/$i") or die;
        print $fh $r->code;
        close $fh;
        require POSIX;
        POSIX::_exit(0);
    }
    push @pids, $pid;
}
waitpid($_, 0) for @pids;
my %codes;
for my $i (1 .. 20) {
    open(my $fh, '<', "$dir/$i") or die "no result $i";
    $codes{ scalar <$fh> }++;
}
is($codes{201}, 2, '20 parallel creations: exactly two 201');
is($codes{409}, 18, 'and eighteen 409');
is(sql("SELECT count(*) FROM accounts WHERE idp_id = '$pidp'"), 1, 'one provisioning account');
is(sql("SELECT count(*) FROM tokens k JOIN accounts a ON a.id = k.account_id WHERE a.idp_id = '$pidp'"),
   2, 'two tokens in the database');

# --- the database itself refuses a third live token
my $acct = sql("SELECT id FROM accounts WHERE idp_id = '$pidp'");
my $tenant = sql("SELECT id FROM tenants WHERE slug = 'acme'");
my $out = `psql -X -q -h $ENV{SCIM_TEST_PGHOST} -p $ENV{SCIM_TEST_PGPORT} -U scim -d scim -c "INSERT INTO tokens (tenant_id, account_id, jti, token_hash, kid, created_at, created_by, expires_at) VALUES ('$tenant', '$acct', 'AAAAAAAAAAAAAAAAAAAAAA', decode(repeat('00', 32), 'hex'), 'k', now(), 'x', now() + interval '1 year')" 2>&1`;
like($out, qr/too many provisioning tokens already exist/, 'a trigger holds the limit in the database');

# --- one limit: the C constant the store passes to SQL is the trigger's
my ($c_limit) = do {
    open(my $h, '<', root_dir() . "/mod_scim_provision/scim_token.h") or die "scim_token.h: $!";
    map { /^#define SCIM_MAX_LIVE_TOKENS\s+(\d+)/ ? $1 : () } <$h>;
};
ok(defined $c_limit, 'scim_token.h defines SCIM_MAX_LIVE_TOKENS');
is(sql('SELECT scim_max_live_tokens()'), $c_limit,
   'the trigger\'s scim_max_live_tokens() equals SCIM_MAX_LIVE_TOKENS');
is($codes{201}, $c_limit, 'and that many parallel creations succeeded');

# --- the database's clock decides iat/created_at and exp/expires_at (one
# calendar year in UTC), whatever the session's TimeZone and whatever the
# web server's clock says. New sessions get a non-UTC TimeZone and a clock
# two days ahead (a now() that shadows pg_catalog's); the module's pooled
# connections are ended so that it opens new ones.
# (fresh_sessions, t/lib/ScimTest.pm)
{
    my $zidp = new_idp('alice', 'acme', 'entra', 'Clock Entra');
    my $tz0 = sql('SHOW timezone');
    # the background workers (reminders, last use) log a warning when they
    # meet an ended connection: t/zz-error-log.t skips this window
    my $log = Apache::Test::vars('t_logs') . '/error_log';
    my $from = -s $log;
    sql("CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql STABLE "
        . "AS 'SELECT pg_catalog.now() + interval ''2 days'''");
    sql("ALTER DATABASE scim SET search_path = public, pg_catalog");
    sql("ALTER DATABASE scim SET timezone = 'Europe/Berlin'");
    fresh_sessions();
    is(sql('SHOW timezone'), 'Europe/Berlin', 'new sessions run in Europe/Berlin');
    my $before = time;
    my ($r, $t) = create_token('alice', 'acme', $zidp);
    is($r->code, 201, 'a token created with the database two days ahead');
    $t //= {};
    my ($zc) = map { JSON::PP::decode_json(b64url_decode($_)) } (split /\./, $t->{token} // 'e30.e30')[1];
    my ($created, $expires, $utc_year) = @{ (sql_rows(
        "SELECT extract(epoch FROM created_at)::bigint, extract(epoch FROM expires_at)::bigint, "
        . "expires_at = (created_at AT TIME ZONE 'UTC' + interval '1 year') AT TIME ZONE 'UTC' "
        . "FROM tokens WHERE id = '" . ($t->{id} // '00000000-0000-0000-0000-000000000000') . "'"))[0] // [] };
    is($zc->{iat}, $created, 'iat equals created_at (Europe/Berlin session)');
    is($zc->{nbf}, $created, 'nbf equals created_at');
    is($zc->{exp}, $expires, 'exp equals extract(epoch FROM expires_at) (Europe/Berlin session)');
    is($utc_year, 't', 'expires_at is created_at + interval \'1 year\' in UTC');
    cmp_ok($zc->{iat} // 0, '>=', $before + 86400, 'iat is the database\'s clock (ahead), not the web server\'s');
    sql("ALTER DATABASE scim RESET timezone");
    sql("ALTER DATABASE scim RESET search_path");
    sql("DROP FUNCTION public.now()");
    fresh_sessions();
    is(sql('SHOW timezone'), $tz0, "sessions are back in $tz0");
    sleep 3; # the workers run every second: let them meet their ended connections
    open(my $w, '>', run_dir() . '/clock-window') or die "clock-window: $!";
    print $w $from, ' ', -s $log, "\n";
    close $w;
}

done_testing();
