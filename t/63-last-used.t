# "Last used" of every token (SPEC 5.2, issue 9 point 4): the token list
# gives lastUsedAt and lastUsedFrom at most one flush interval stale
# (SCIMLastUsedInterval 1 here); a SCIM request writes nothing to the
# database (the uses sit in shared memory until the watchdog flushes them
# with one statement); the newer use wins, also with two httpd servers on one
# database; deleted tokens keep the use they had.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use LWP::UserAgent ();
use Time::HiRes ();
use ScimTest;
use ScimMail;
use ScimHttpd;

my $RFC3339 = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

sub list_tokens {
    my ($idp) = @_;
    my ($res, $j) = admin_req('alice', 'GET', 'acme', "api/identity-providers/$idp/tokens");
    die 'token list: ' . $res->status_line unless $res->code == 200;
    return { map { $_->{id} => $_ } @{ $j->{tokens} } };
}

sub use_token {
    my ($tok, $ip, $path, $base) = @_;
    my $req = HTTP::Request->new(GET => ($base // base_url()) . "/t/acme/scim/v2" . ($path // '/ServiceProviderConfig'));
    $req->header(Authorization => "Bearer $tok");
    $req->header('X-Forwarded-For' => $ip) if defined $ip;
    return LWP::UserAgent->new(timeout => 10, keep_alive => 0)->request($req);
}

# A counter of the metrics endpoint (t/96 checks the format; a regex does here).
sub metric {
    my ($name, $base) = @_;
    my $r = LWP::UserAgent->new(timeout => 10)->get(($base // base_url()) . '/metrics');
    return undef unless $r->code == 200;
    return $r->decoded_content =~ /^\Q$name\E (\d+)$/m ? $1 : undef;
}

sub db_use {
    my ($id) = @_;
    my ($row) = sql_rows("SELECT to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), "
                         . "host(last_used_from) FROM tokens WHERE id = '$id'");
    # psql prints NULL as an empty field
    return map { defined $_ && length $_ ? $_ : undef } $row->[0], $row->[1];
}

my $idp = new_idp('alice', 'acme', 'okta', 'Last used ' . time);
my (undef, $a) = create_token('alice', 'acme', $idp);
my (undef, $b) = create_token('alice', 'acme', $idp);
ok($a->{token} && $b->{token}, 'two tokens created');

my $l = list_tokens($idp);
ok(exists $l->{ $a->{id} }{lastUsedAt} && exists $l->{ $a->{id} }{lastUsedFrom},
   'the list has lastUsedAt and lastUsedFrom');
ok(!defined $l->{ $a->{id} }{lastUsedAt}, 'a new token: lastUsedAt null (never used)');
ok(!defined $l->{ $a->{id} }{lastUsedFrom}, 'a new token: lastUsedFrom null');
is_deeply([db_use($a->{id})], [undef, undef], 'and NULL in the database');

# --- A SCIM request writes nothing: a statement trigger on every table logs
# every writing statement while SCIM requests run.
sql(q{CREATE TABLE IF NOT EXISTS t63_writes (at timestamptz DEFAULT clock_timestamp(), tbl text, op text, query text)});
sql(q{CREATE OR REPLACE FUNCTION t63_probe() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO t63_writes (tbl, op, query) VALUES (TG_TABLE_NAME, TG_OP, current_query());
    RETURN NULL;
END $$});
my @tables = map { $_->[0] } sql_rows(q{SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 't63_writes'});
ok(scalar(grep { $_ eq 'tokens' } @tables), 'tables to watch found (' . scalar(@tables) . ')');
my $probing = 0;
END {
    eval {
        if ($probing) {
            sql(qq{DROP TRIGGER IF EXISTS t63_probe ON "$_"}) for @tables;
        }
        sql('DROP TABLE IF EXISTS t63_writes');
        sql('DROP FUNCTION IF EXISTS t63_probe()');
    };
}
$probing = 1;
sql(qq{CREATE TRIGGER t63_probe AFTER INSERT OR UPDATE OR DELETE ON "$_" FOR EACH STATEMENT EXECUTE FUNCTION t63_probe()})
    for @tables;

my $t0 = sql(q{SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')});
my $n = 0;
for my $path ('/ServiceProviderConfig', '/Users', '/Groups', '/Users?filter=' . fq('userName eq "nobody"'), '/Schemas') {
    for (1 .. 4) {
        my $r = use_token($a->{token}, '203.0.113.7', $path);
        $n++ if $r->code == 200;
    }
}
is($n, 20, '20 SCIM reads with token A from 203.0.113.7');
my $t_req = Time::HiRes::time();
# polled with SELECTs only, so that the probe sees the flush and nothing else
my $seen = wait_for(sub { defined((db_use($a->{id}))[0]) }, 10);
my $lag = Time::HiRes::time() - $t_req;
ok($seen, 'the last use reaches the database after the SCIM requests');
cmp_ok($lag, '<', 3, sprintf('within the flush interval (1 s) plus slack: %.2f s', $lag));
my @writes = sql_rows(q{SELECT tbl, op, query FROM t63_writes ORDER BY at});
sql(qq{DROP TRIGGER t63_probe ON "$_"}) for @tables;
$probing = 0;
my @flushes = grep { $_->[2] =~ /last_used_at = u\.at/ && $_->[2] =~ /unnest\(/ } @writes;
my @other = grep { $_->[2] !~ /last_used_at = u\.at/ && $_->[2] !~ /reminder_outbox/ } @writes;
cmp_ok(scalar @flushes, '>=', 1, 'the watchdog flushed with UPDATE ... FROM unnest(...)');
ok(!(grep { $_->[0] ne 'tokens' || $_->[1] ne 'UPDATE' } @flushes), 'the flush updates tokens only');
is(scalar @other, 0, 'no other statement wrote anything while 20 SCIM requests ran')
    or diag join "\n", map { "$_->[0] $_->[1]: $_->[2]" } @other;
cmp_ok(scalar @flushes, '<', 20, 'fewer writes than requests (' . scalar(@flushes) . ' flush(es))');

$l = list_tokens($idp);
ok(defined $l->{ $a->{id} }{lastUsedAt}, 'the list shows lastUsedAt');
like($l->{ $a->{id} }{lastUsedAt} // '', $RFC3339, 'lastUsedAt is RFC 3339 UTC');
cmp_ok($l->{ $a->{id} }{lastUsedAt} // '', 'ge', $t0, 'lastUsedAt is not before the requests');
is($l->{ $a->{id} }{lastUsedFrom}, '203.0.113.7', 'lastUsedFrom is the client address');
ok(!defined $l->{ $b->{id} }{lastUsedAt}, 'token B, not used, is still never used');

# The database holds it too, with the client's address as inet.
my ($at, $from) = db_use($a->{id});
is($from, '203.0.113.7', 'tokens.last_used_from in the database');
ok($at, "tokens.last_used_at in the database ($at)");

# --- A use from another address moves both.
use_token($a->{token}, '198.51.100.20');
ok(wait_for(sub { (list_tokens($idp)->{ $a->{id} }{lastUsedFrom} // '') eq '198.51.100.20' }, 10),
   'a later use from another address replaces lastUsedFrom');
my ($at2) = db_use($a->{id});
cmp_ok($at2, 'gt', $at, 'and moves last_used_at forward');

# --- An older use never overwrites a newer one: put a use in the future on
# B, then use B now; after the flush the future use stays.
sql(qq{UPDATE tokens SET last_used_at = now() + interval '1 hour', last_used_from = '192.0.2.99' WHERE id = '$b->{id}'});
my ($future) = db_use($b->{id});
my $f0 = metric('mod_scim_last_used_flushes_total');
ok(defined $f0, "flushes so far: $f0");
is(use_token($b->{token}, '203.0.113.8')->code, 200, 'token B used');
ok(wait_for(sub { (metric('mod_scim_last_used_flushes_total') // 0) > $f0 }, 10), 'a flush ran after it');
is_deeply([db_use($b->{id})], [$future, '192.0.2.99'], 'the newer (stored) use wins over the flushed older one');
sql(qq{UPDATE tokens SET last_used_at = NULL, last_used_from = NULL WHERE id = '$b->{id}'});

# --- Deleted tokens: the list keeps their last use; a refused request is no
# use.
my ($res) = admin_req('alice', 'DELETE', 'acme', "api/identity-providers/$idp/tokens/$a->{id}");
is($res->code, 204, 'token A deleted');
my ($before_at, $before_from) = db_use($a->{id});
is(use_token($a->{token}, '192.0.2.1')->code, 401, 'the deleted token is refused');
$f0 = metric('mod_scim_last_used_flushes_total');
is(use_token($b->{token}, '203.0.113.9')->code, 200, 'token B used (to have a flush)');
ok(wait_for(sub { (list_tokens($idp)->{ $b->{id} }{lastUsedFrom} // '') eq '203.0.113.9' }, 10), 'B flushed');
$l = list_tokens($idp);
is($l->{ $a->{id} }{status}, 'deleted', 'A is listed as deleted');
is($l->{ $a->{id} }{lastUsedFrom}, '198.51.100.20', 'with its last use before the deletion');
is_deeply([db_use($a->{id})], [$before_at, $before_from], 'the refused request recorded nothing');

# --- Another tenant's list never shows this use; the flush is scoped by
# tenant (a token id with another tenant's id changes nothing).
{
    my ($r, $j) = admin_req('bob', 'GET', 'globex', "api/identity-providers/$idp/tokens");
    is($r->code, 404, "another tenant cannot list acme's tokens");
}

# --- Two httpd servers on one database: each flushes its own uses, the
# newest use wins whatever the order of the flushes.
my $srv = start_httpd(dir => run_dir() . '/second63', modules => ['authz_host', 'remoteip'], admin => 0,
                      conf => <<'CONF');
SCIMLastUsedInterval 2
SCIMLastUsedSlots 16
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
<Location /metrics>
    SetHandler scim-provision-metrics
    Require ip 127.0.0.1
</Location>
CONF
is($srv->{status}, 0, 'second httpd starts') or diag $srv->{out};
ok($srv->{pid} && kill(0, $srv->{pid}), 'second httpd runs');
my $base2 = $srv->{base};
ok(wait_for(sub { defined metric('mod_scim_last_used_flushes_total', $base2) }, 15), "second httpd answers at $base2");

my (undef, $c) = create_token('alice', 'acme', new_idp('alice', 'acme', 'entra', 'Last used two ' . time));
is(use_token($c->{token}, '203.0.113.2', undef, $base2)->code, 200, 'token C used on the second server');
ok(wait_for(sub { ((db_use($c->{id}))[1] // '') eq '203.0.113.2' }, 10), 'the second server flushed it');
is(use_token($c->{token}, '203.0.113.1')->code, 200, 'then on the first');
ok(wait_for(sub { ((db_use($c->{id}))[1] // '') eq '203.0.113.1' }, 10), 'the first server flushed the newer use');

# Older use on the second server (2 s interval), newer on the first (1 s):
# the second server's flush usually comes last and must lose.
my $s2 = metric('mod_scim_last_used_flushes_total', $base2);
my $s1 = metric('mod_scim_last_used_flushes_total');
my $w2 = metric('mod_scim_last_used_rows_written_total', $base2);
is(use_token($c->{token}, '203.0.113.4', undef, $base2)->code, 200, 'C used on the second server');
is(use_token($c->{token}, '203.0.113.5')->code, 200, 'and just after on the first');
ok(wait_for(sub { (metric('mod_scim_last_used_flushes_total', $base2) // 0) > $s2
                  && (metric('mod_scim_last_used_flushes_total') // 0) > $s1 }, 15), 'both servers flushed');
my ($c_at, $c_from) = db_use($c->{id});
is($c_from, '203.0.113.5', 'the newest use (first server) wins');
diag((metric('mod_scim_last_used_rows_written_total', $base2) // -1) == $w2
     ? "the second server's older use was flushed last and changed nothing"
     : "the second server flushed first this time; the first server's newer use replaced it");
is(use_token($c->{token}, '203.0.113.6', undef, $base2)->code, 200, 'C used on the second server again');
ok(wait_for(sub { ((db_use($c->{id}))[1] // '') eq '203.0.113.6' }, 10), 'its newer use wins in turn');

# --- A full table (the second server has 16 slots): 18 tokens used within
# one interval; the uses without a slot are dropped, counted and logged
# once; once slots free up, uses are recorded again.
my @many;
for my $i (1 .. 9) {
    my $p = new_idp('alice', 'acme', 'okta', "Full table $i " . time);
    push @many, (create_token('alice', 'acme', $p))[1] for 1 .. 2;
}
is(scalar(grep { $_->{token} } @many), 18, '18 more tokens');
# C's slot first, or it could free up during or just after the burst and
# leave 15 slots used, or take a 16th use
ok(wait_for(sub { (metric('mod_scim_last_used_slots_used', $base2) // -1) == 0 }, 15),
   'the second server\'s slots are all free before the burst');
my $d0 = metric('mod_scim_last_used_dropped_total', $base2);
my $ok = 0;
$ok += use_token($_->{token}, '203.0.113.30', undef, $base2)->code == 200 for @many;
is($ok, 18, 'all 18 used on the second server: a full table never refuses a request');
my $dropped = metric('mod_scim_last_used_dropped_total', $base2) - $d0;
cmp_ok($dropped, '>=', 2, "uses without a slot are counted ($dropped dropped)");
is(metric('mod_scim_last_used_slots_used', $base2), 16, 'every slot holds a token');
my @full = grep { /SCIM00190:/ } do { open(my $el, '<', "$srv->{dir}/error_log") or die $!; <$el> };
is(scalar @full, 1, 'the full table is logged once') or diag @full;
ok(wait_for(sub { (grep { !defined((db_use($_->{id}))[0]) } @many) == $dropped }, 10),
   'the recorded uses reach the database, the dropped ones do not');
my ($missing) = grep { !defined((db_use($_->{id}))[0]) } @many;
ok(wait_for(sub { metric('mod_scim_last_used_slots_used', $base2) == 0 }, 15),
   'slots free up once their tokens rest for a whole interval');
is(use_token($missing->{token}, '203.0.113.31', undef, $base2)->code, 200, 'a dropped token used again');
ok(wait_for(sub { ((db_use($missing->{id}))[1] // '') eq '203.0.113.31' }, 10), 'now it is recorded');

ok(stop_httpd($srv), 'second httpd stopped');
my @bad = grep { !/SCIM00190:/ } bad_log_lines($srv);
is(scalar @bad, 0, 'no other [error]/[warn] from mod_scim_provision in its error log') or diag @bad;

done_testing();
