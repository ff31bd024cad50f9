# The row rules and the name key in plpgsql (sql/012_row_rules.sql, issue 8):
# migration 12 replaces the five CHECKs of accounts and the two of groups by
# one CHECK each, through a plpgsql function, and gives scim_name_key() a
# plpgsql body. The rules must refuse exactly what the old CHECKs refused
# (every rule is tried on both sides of its edge, and with a NULL where a
# column allows one), the key must be the same function of the name (the
# expression of migration 3, on names that NFKC, case mapping and the
# exemption make hard), and an upgrade from version 11 keeps every stored
# key and every row.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use ScimTest;

my $KEY = 'normalize(lower(upper(normalize(%s, NFKC))), NFKC)';  # migration 3's body
# Names whose keys are easy to get wrong: width, case, ligatures, the German
# sharp s, dotted and dotless i, combining marks before and after NFKC,
# Greek final sigma, a character outside the BMP, and an empty string.
my @names = ('alice', 'ALICE', "\x{FF41}\x{FF4C}\x{FF49}\x{FF43}\x{FF45}", "\x{FB01}nn", "Stra\x{DF}e",
             'STRASSE', "\x{130}stanbul", "\x{131}stanbul", "e\x{301}", "\x{E9}", "\x{3A3}\x{3C3}\x{3C2}",
             "\x{1D400}BC", "\x{2126}", "\x{212B}", "A\x{30A}", "x\x{345}", '', ' a ');
# the names go to psql as \uXXXX and \UXXXXXXXX escapes
my $esc = sub { join '', map { my $o = ord; $o > 0xFFFF ? sprintf('\\U%08X', $o) : sprintf('\\u%04X', $o) } split //, shift };
my $values = join ', ', map { "(E'" . $esc->($_) . "')" } @names;

# --- a database at version 12, made by the suite's own migration files
my $s = scratch_db('r71', 12);
my ($run, $try) = @$s{qw(run try)};

is($run->("SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
          . "WHERE p.proname = 'scim_name_key'"), 'plpgsql', 'scim_name_key() is plpgsql');
is($run->("SELECT provolatile::text || ':' || proisstrict FROM pg_proc WHERE proname = 'scim_name_key'"), 'i:true',
   'and still IMMUTABLE and STRICT (a generated column and its index need it)');
is($run->("SELECT count(*) || '/' || count(*) FILTER (WHERE scim_name_key(n) IS NOT DISTINCT FROM "
          . sprintf($KEY, 'n') . ") FROM (VALUES $values) v(n)"),
   scalar(@names) . '/' . scalar(@names), 'the key of each hard name is the expression of migration 3');
is($run->("SELECT scim_name_key(scim_name_key(n)) = scim_name_key(n) FROM (VALUES (E'\\uFB01\\u0130')) v(n)"), 't',
   'the key of a key is the key itself');
is($run->("SELECT scim_name_key(NULL) IS NULL"), 't', 'NULL has no key');

is($run->("SELECT string_agg(conname || '=' || pg_get_constraintdef(oid), ' ; ' ORDER BY conname) "
          . "FROM pg_constraint WHERE conrelid IN ('accounts'::regclass, 'groups'::regclass) AND contype = 'c'"),
   'accounts_row_ok=CHECK (scim_account_row_ok(id, kind, user_name, billable, idp_id, name_key_exempt))'
   . ' ; groups_row_ok=CHECK (scim_group_row_ok(id, display_name, name_key_exempt))',
   'one CHECK on each table, and none of the seven it replaces');

$run->("INSERT INTO tenants (slug, name) VALUES ('r1', 'R1')");
$run->("INSERT INTO identity_providers (tenant_id, type, name, created_by) "
       . "SELECT id, 'okta', 'Okta', 'test' FROM tenants WHERE slug = 'r1'");
my $T = "(SELECT id FROM tenants WHERE slug = 'r1')";
my $I = "(SELECT id FROM identity_providers)";
my $n = 0;

# ($what, $columns, $values, $ok): one INSERT into accounts
my @accounts = (
    ['a user',                              'kind, user_name, billable', "'user', 'u%d', true", 1],
    ['a provisioning account',              'kind, user_name, billable, idp_id', "'provisioning', 'p%d', false, $I", 1],
    ['kind neither user nor provisioning',  'kind, user_name, billable', "'admin', 'k%d', false", 0],
    ['kind in another case',                'kind, user_name, billable', "'User', 'k%d', false", 0],
    ['an empty userName',                   'kind, user_name, billable', "'user', '', true", 0],
    ['a userName of 256 characters',        'kind, user_name, billable', "'user', repeat('\x{E9}', 252) || '%04d', true", 1],
    ['a userName of 257 characters',        'kind, user_name, billable', "'user', repeat('\x{E9}', 253) || '%04d', true", 0],
    ['a user not billable',                 'kind, user_name, billable', "'user', 'b%d', false", 0],
    ['a provisioning account billable',     'kind, user_name, billable, idp_id', "'provisioning', 'b%d', true, $I", 0],
    ['a user with an identity provider',    'kind, user_name, billable, idp_id', "'user', 'i%d', true, $I", 0],
    ['a provisioning account without one',  'kind, user_name, billable', "'provisioning', 'i%d', false", 0],
    ['exempt as itself',                    'id, kind, user_name, billable, name_key_exempt',
     "'00000000-0000-4000-8000-0000000000a1', 'user', 'x%d', true, '00000000-0000-4000-8000-0000000000a1'", 1],
    ['exempt as another id',                'id, kind, user_name, billable, name_key_exempt',
     "'00000000-0000-4000-8000-0000000000a2', 'user', 'x%d', true, '00000000-0000-4000-8000-0000000000a3'", 0],
);
for my $c (@accounts) {
    my ($what, $cols, $vals, $ok) = @$c;
    my $sql = do { no warnings q(redundant); sprintf("INSERT INTO accounts (tenant_id, $cols) VALUES ($T, $vals)", ++$n) };
    my ($rc, $out) = $try->($sql);
    if ($ok) {
        is($rc, 0, "accounts: $what is stored") or diag $out;
    }
    else {
        isnt($rc, 0, "accounts: $what is refused");
        like($out, qr/violates check constraint "accounts_row_ok"/, '... by the row rule') or diag $out;
    }
}
# an UPDATE is checked too, and a refused one changes nothing
my ($rc, $out) = $try->("UPDATE accounts SET billable = false WHERE user_name = 'u1'");
like($out, qr/accounts_row_ok/, 'accounts: an UPDATE that breaks a rule is refused') or diag $out;
is($run->("SELECT billable FROM accounts WHERE user_name = 'u1'"), 't', '... and the row is as it was');
is($run->("SELECT count(*) FROM accounts WHERE user_name_key IS DISTINCT FROM " . sprintf($KEY, 'user_name')), 0,
   'accounts: every stored key is the expression of migration 3');

my @groups = (
    ['a group',                         'display_name', "'g%d'", 1],
    ['an empty displayName',            'display_name', "''", 0],
    ['a displayName of 256 characters', 'display_name', "repeat('\x{1D400}', 252) || '%04d'", 1],
    ['a displayName of 257 characters', 'display_name', "repeat('\x{1D400}', 253) || '%04d'", 0],
    ['exempt as itself',                'id, display_name, name_key_exempt',
     "'00000000-0000-4000-8000-0000000000b1', 'y%d', '00000000-0000-4000-8000-0000000000b1'", 1],
    ['exempt as another id',            'id, display_name, name_key_exempt',
     "'00000000-0000-4000-8000-0000000000b2', 'y%d', '00000000-0000-4000-8000-0000000000b3'", 0],
);
for my $c (@groups) {
    my ($what, $cols, $vals, $ok) = @$c;
    my $sql = do { no warnings q(redundant); sprintf("INSERT INTO groups (tenant_id, $cols) VALUES ($T, $vals)", ++$n) };
    ($rc, $out) = $try->($sql);
    if ($ok) {
        is($rc, 0, "groups: $what is stored") or diag $out;
    }
    else {
        isnt($rc, 0, "groups: $what is refused");
        like($out, qr/violates check constraint "groups_row_ok"/, '... by the row rule') or diag $out;
    }
}
is($run->("SELECT count(*) FROM accounts") . '/' . $run->("SELECT count(*) FROM groups"), '4/3',
   'exactly the rows the rules allow were stored');

# --- a database at version 11 with data, migrated by scimctl
my $o = scratch_db('r71m', 11);
my ($orun, $otry) = @$o{qw(run try)};
$orun->("INSERT INTO tenants (slug, name) VALUES ('m1', 'M1')");
# names whose keys collide keep the first (ON CONFLICT on the unique key);
# 'ALICE' goes in as an exempt twin, as migration 3 marked them
$orun->("INSERT INTO accounts (tenant_id, kind, user_name, billable) SELECT t.id, 'user', v.n, true "
        . "FROM tenants t, (VALUES $values) v(n) WHERE v.n <> '' ON CONFLICT DO NOTHING");
$orun->("INSERT INTO accounts (id, tenant_id, kind, user_name, billable, name_key_exempt) SELECT "
        . "'00000000-0000-4000-8000-0000000000c1', id, 'user', 'ALICE', true, "
        . "'00000000-0000-4000-8000-0000000000c1' FROM tenants");
$orun->("INSERT INTO groups (tenant_id, display_name) SELECT t.id, v.n "
        . "FROM tenants t, (VALUES ('Staff'), (E'\\uFF33taff2')) v(n)");
my $keys = "SELECT string_agg(id || ':' || user_name_key || ':' || version || ':' || updated_at, ',' ORDER BY id) FROM accounts";
my $gkeys = "SELECT string_agg(id || ':' || display_name_key || ':' || version, ',' ORDER BY id) FROM groups";
my ($before, $gbefore) = ($orun->($keys), $orun->($gkeys));
ok(length $before > 100, 'version 11: accounts with hard names');
($rc, $out) = scimctl('--db', $o->{conninfo}, 'migrate');
is($rc, 0, 'scimctl migrate succeeds') or diag $out;
like($out, qr/applied 012_row_rules/, 'applies 012_row_rules') or diag $out;
unlike($out, qr/applied 0(?:0\d|1[01])_/, 'and nothing older') or diag $out;
is($orun->($keys), $before, 'every account keeps its key, version and lastModified (no row was rewritten)');
is($orun->($gkeys), $gbefore, 'every group keeps its key and version');
($rc, $out) = $otry->("INSERT INTO accounts (tenant_id, kind, user_name, billable) SELECT id, 'user', 'ALICE', true FROM tenants");
like($out, qr/accounts_user_name_key/, 'after the upgrade, a name whose key is taken is still refused by the unique index')
    or diag $out;
($rc, $out) = $otry->("INSERT INTO accounts (tenant_id, kind, user_name, billable) SELECT id, 'user', 'new', false FROM tenants");
like($out, qr/accounts_row_ok/, 'and a row that breaks a rule by the new CHECK') or diag $out;

done_testing();
