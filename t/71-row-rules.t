# The row rules and the name key in plpgsql (sql/012_row_rules.sql, issue 8):
# migration 12 replaces the five CHECKs of accounts and the two of groups by
# one CHECK each, through a plpgsql function, gives scim_name_key() (the
# generated columns' function) a plpgsql body, and adds its SQL twin
# scim_name_key_sql() for the module's statements. The rules must refuse exactly what the old CHECKs refused
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

my $KEY = $NAME_KEY_SQL;   # migration 3's body
my @names = @HARD_NAMES;
my $values = join ', ', map { '(' . pg_unicode_literal($_) . ')' } @names;

# --- a database at version 12, made by the suite's own migration files
my $s = scratch_db('r71', 12);
my ($run, $try) = @$s{qw(run try)};

is($run->("SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
          . "WHERE p.proname = 'scim_name_key'"), 'plpgsql', 'scim_name_key() is plpgsql');
is($run->("SELECT provolatile::text || ':' || proisstrict || ':' || proparallel::text FROM pg_proc "
          . "WHERE proname = 'scim_name_key'"), 'i:true:s',
   'and still IMMUTABLE, STRICT and PARALLEL SAFE (a generated column and its index need the first)');
is($run->("SELECT count(*) || '/' || count(*) FILTER (WHERE scim_name_key(n) IS NOT DISTINCT FROM "
          . sprintf($KEY, 'n') . ") FROM (VALUES $values) v(n)"),
   scalar(@names) . '/' . scalar(@names), 'the key of each hard name is the expression of migration 3');
# the statements' twin: an SQL function that PostgreSQL inlines
is($run->("SELECT l.lanname || ':' || p.provolatile::text || ':' || p.proisstrict || ':' || p.proparallel::text "
          . "FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.proname = 'scim_name_key_sql'"),
   'sql:i:true:s', 'scim_name_key_sql() is an IMMUTABLE, STRICT, PARALLEL SAFE SQL function');
is($run->("SELECT count(*) FILTER (WHERE scim_name_key_sql(n) IS NOT DISTINCT FROM scim_name_key(n)) "
          . "FROM (VALUES $values, (NULL)) v(n)"), scalar(@names) + 1,
   'it gives the key scim_name_key() gives, for each hard name and NULL');
# The forms the module's statements use, under its sessions' generic plans
# (scim_db.c), are index keys of the unique name indexes: the SQL twin
# inlined, and the filters' sub-SELECT of the parameter (an InitPlan).
# A tenant of 5 000 users and groups, analysed, and enable_seqscan off: the
# question is whether the index serves them.
$run->("INSERT INTO tenants (slug, name) VALUES ('r2', 'R2')");
$run->("INSERT INTO accounts (tenant_id, kind, user_name, billable) SELECT t.id, 'user', 'bulk' || g, true "
       . "FROM tenants t, generate_series(1, 5000) g WHERE t.slug = 'r2'");
$run->("INSERT INTO groups (tenant_id, display_name) SELECT t.id, 'bulk' || g "
       . "FROM tenants t, generate_series(1, 5000) g WHERE t.slug = 'r2'");
$run->("ANALYZE accounts; ANALYZE groups");
for my $c (['accounts', 'user_name_key', 'accounts_user_name_key'],
           ['groups', 'display_name_key', 'groups_display_name_key']) {
    my ($table, $key, $index) = @$c;
    for my $form ("scim_name_key_sql(\$2)", "(SELECT scim_name_key_sql(\$2))") {
        my $plan = $run->("SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off; "
                          . "PREPARE q(uuid, text) AS SELECT id FROM $table WHERE tenant_id = \$1 AND $key = $form; "
                          . "EXPLAIN (COSTS OFF) EXECUTE q('00000000-0000-0000-0000-000000000000', 'x')");
        like($plan, qr/Index (?:Only )?Scan using \Q$index\E.*\n\s*Index Cond: \(\(tenant_id = \$1\) AND \(\Q$key\E = /,
             "$table: $key = $form is an index key of $index in a generic plan") or diag $plan;
    }
}
is($run->("SELECT scim_name_key(scim_name_key(n)) = scim_name_key(n) FROM (VALUES (E'\\uFB01\\u0130')) v(n)"), 't',
   'the key of a key is the key itself');
is($run->("SELECT scim_name_key(NULL) IS NULL"), 't', 'NULL has no key');

is($run->("SELECT string_agg(conname || '=' || pg_get_constraintdef(oid), ' ; ' ORDER BY conname) "
          . "FROM pg_constraint WHERE conrelid IN ('accounts'::regclass, 'groups'::regclass) AND contype = 'c'"),
   'accounts_row_ok=CHECK (scim_account_row_ok(id, kind, user_name, billable, idp_id, name_key_exempt))'
   . ' ; groups_row_ok=CHECK (scim_group_row_ok(id, display_name, name_key_exempt))',
   'one CHECK on each table, and none of the seven it replaces');

my $I = "(SELECT id FROM identity_providers WHERE name = 'Okta R1')";

# ($table, $what, $columns, $values, $ok): one INSERT; %d is a number
# of the case, which keeps the names apart
my @cases = (
    ['accounts', 'a user',                              'kind, user_name, billable', "'user', 'u%d', true", 1],
    ['accounts', 'a provisioning account',              'kind, user_name, billable, idp_id', "'provisioning', 'p%d', false, $I", 1],
    ['accounts', 'kind neither user nor provisioning',  'kind, user_name, billable', "'admin', 'k%d', false", 0],
    ['accounts', 'kind in another case',                'kind, user_name, billable', "'User', 'k%d', false", 0],
    ['accounts', 'an empty userName',                   'kind, user_name, billable', "'user', '', true", 0],
    ['accounts', 'a userName of 1 character',           'kind, user_name, billable', "'user', chr(64 + %d), true", 1],
    ['accounts', 'a userName of 256 characters',        'kind, user_name, billable', "'user', repeat('\x{E9}', 252) || '%04d', true", 1],
    ['accounts', 'a userName of 257 characters',        'kind, user_name, billable', "'user', repeat('\x{E9}', 253) || '%04d', true", 0],
    ['accounts', 'a user not billable',                 'kind, user_name, billable', "'user', 'b%d', false", 0],
    ['accounts', 'a provisioning account billable',     'kind, user_name, billable, idp_id', "'provisioning', 'b%d', true, $I", 0],
    ['accounts', 'a user with an identity provider',    'kind, user_name, billable, idp_id', "'user', 'i%d', true, $I", 0],
    ['accounts', 'a provisioning account without one',  'kind, user_name, billable', "'provisioning', 'i%d', false", 0],
    ['accounts', 'exempt as itself',                    'id, kind, user_name, billable, name_key_exempt',
     "'00000000-0000-4000-8000-0000000000a1', 'user', 'x%d', true, '00000000-0000-4000-8000-0000000000a1'", 1],
    ['accounts', 'exempt as another id',                'id, kind, user_name, billable, name_key_exempt',
     "'00000000-0000-4000-8000-0000000000a2', 'user', 'x%d', true, '00000000-0000-4000-8000-0000000000a3'", 0],
    ['groups', 'a group',                         'display_name', "'g%d'", 1],
    ['groups', 'an empty displayName',            'display_name', "''", 0],
    ['groups', 'a displayName of 1 character',    'display_name', "chr(64 + %d)", 1],
    ['groups', 'a displayName of 256 characters', 'display_name', "repeat('\x{1D400}', 252) || '%04d'", 1],
    ['groups', 'a displayName of 257 characters', 'display_name', "repeat('\x{1D400}', 253) || '%04d'", 0],
    ['groups', 'exempt as itself',                'id, display_name, name_key_exempt',
     "'00000000-0000-4000-8000-0000000000b1', 'y%d', '00000000-0000-4000-8000-0000000000b1'", 1],
    ['groups', 'exempt as another id',            'id, display_name, name_key_exempt',
     "'00000000-0000-4000-8000-0000000000b2', 'y%d', '00000000-0000-4000-8000-0000000000b3'", 0],
);

# Every case on one database: stored or refused as $ok says, refused by a
# CHECK whose name matches $by; then the UPDATEs that break a rule. The
# rows go to a tenant 'r1' of their own.
sub rules {
    my ($where, $run, $try, $by) = @_;
    $run->("INSERT INTO tenants (slug, name) VALUES ('r1', 'R1')");
    $run->("INSERT INTO identity_providers (tenant_id, type, name, created_by) "
           . "SELECT id, 'okta', 'Okta R1', 'test' FROM tenants WHERE slug = 'r1'");
    my $T = "(SELECT id FROM tenants WHERE slug = 'r1')";
    my $n = 0;
    for my $c (@cases) {
        my ($table, $what, $cols, $vals, $ok) = @$c;
        my $sql = do { no warnings q(redundant); sprintf("INSERT INTO $table (tenant_id, $cols) VALUES ($T, $vals)", ++$n) };
        my ($rc, $out) = $try->($sql);
        if ($ok) {
            is($rc, 0, "$where, $table: $what is stored") or diag $out;
        }
        else {
            isnt($rc, 0, "$where, $table: $what is refused");
            like($out, qr/violates check constraint "${table}_$by"/, '... by a CHECK') or diag $out;
        }
    }
    is($run->("SELECT count(*) FROM accounts a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = 'r1'") . '/'
       . $run->("SELECT count(*) FROM groups g JOIN tenants t ON t.id = g.tenant_id WHERE t.slug = 'r1'"),
       (grep { $_->[0] eq 'accounts' && $_->[4] } @cases) . '/' . (grep { $_->[0] eq 'groups' && $_->[4] } @cases),
       "$where: exactly the rows the rules allow were stored");
    # an UPDATE is checked too, and a refused one changes nothing
    for my $u (["accounts SET billable = false WHERE user_name = 'u1'", 'a user made not billable'],
               ["accounts SET user_name = '' WHERE user_name = 'u1'", 'a userName emptied'],
               ["groups SET display_name = '' WHERE display_name = 'g15'", 'a displayName emptied'],
               ["groups SET name_key_exempt = gen_random_uuid() WHERE display_name = 'g15'", 'a group made exempt as another id']) {
        my ($rc, $out) = $try->("UPDATE $u->[0]");
        like($out, qr/violates check constraint "\w+_$by"/, "$where: an UPDATE is refused: $u->[1]") or diag $out;
    }
    is($run->("SELECT billable || ':' || user_name FROM accounts WHERE user_name = 'u1'") . '/'
       . $run->("SELECT count(*) FROM groups WHERE display_name = 'g15' AND name_key_exempt IS NULL"), 'true:u1/1',
       "$where: ... and the rows are as they were");
}

# --- the same cases on version 11, with the seven CHECKs of before
my $o = scratch_db('r71m', 11);
my ($orun, $otry) = @$o{qw(run try)};
rules('version 11', $orun, $otry, '(?:\w*_)?check\d?');

# --- and on version 12: the outcomes above, from the new CHECKs
rules('version 12', $run, $try, 'row_ok');
is($run->("SELECT count(*) FROM accounts WHERE user_name_key IS DISTINCT FROM " . sprintf($KEY, 'user_name')), 0,
   'accounts: every stored key is the expression of migration 3');

# --- the version 11 database, with more data, migrated by scimctl
$orun->("INSERT INTO tenants (slug, name) VALUES ('m1', 'M1')");
# names whose keys collide keep the first (ON CONFLICT on the unique key);
# 'ALICE' goes in as an exempt twin, as migration 3 marked them
my $M = "(SELECT id FROM tenants WHERE slug = 'm1')";
$orun->("INSERT INTO accounts (tenant_id, kind, user_name, billable) SELECT $M, 'user', v.n, true "
        . "FROM (VALUES $values) v(n) WHERE v.n <> '' ON CONFLICT DO NOTHING");
$orun->("INSERT INTO accounts (id, tenant_id, kind, user_name, billable, name_key_exempt) SELECT "
        . "'00000000-0000-4000-8000-0000000000c1', $M, 'user', 'ALICE', true, "
        . "'00000000-0000-4000-8000-0000000000c1'");
$orun->("INSERT INTO groups (tenant_id, display_name) SELECT $M, v.n FROM (VALUES ('Staff'), (E'\\uFF33taff2')) v(n)");
# xmin and ctid too: a row rewritten or updated would get new ones
my $keys = "SELECT string_agg(id || ':' || user_name_key || ':' || version || ':' || updated_at || ':' "
         . "|| xmin || ':' || ctid, ',' ORDER BY id) FROM accounts";
my $gkeys = "SELECT string_agg(id || ':' || display_name_key || ':' || version || ':' || xmin || ':' || ctid, ',' "
          . "ORDER BY id) FROM groups";
my ($before, $gbefore) = ($orun->($keys), $orun->($gkeys));
ok(length $before > 100, 'version 11: accounts with hard names');
my ($rc, $out) = scimctl('--db', $o->{conninfo}, 'migrate');
is($rc, 0, 'scimctl migrate succeeds') or diag $out;
like($out, qr/applied 012_row_rules/, 'applies 012_row_rules') or diag $out;
unlike($out, qr/applied 0(?:0\d|1[01])_/, 'and nothing older') or diag $out;
is($orun->($keys), $before, 'every account keeps its key, version, lastModified, xmin and ctid (no row was rewritten)');
is($orun->($gkeys), $gbefore, 'every group keeps its key and version');
is($orun->("SELECT count(*) FROM accounts WHERE user_name_key IS DISTINCT FROM scim_name_key_sql(user_name)"),
   0, "and what the statements' scim_name_key_sql() gives");
is($orun->("SELECT count(*) FROM accounts WHERE user_name_key IS DISTINCT FROM scim_name_key(user_name)") . '/'
   . $orun->("SELECT count(*) FROM groups WHERE display_name_key IS DISTINCT FROM scim_name_key(display_name)"), '0/0',
   'and each stored key is what the new scim_name_key() gives');
($rc, $out) = $otry->("INSERT INTO accounts (tenant_id, kind, user_name, billable) SELECT $M, 'user', 'ALICE', true");
like($out, qr/accounts_user_name_key/, 'after the upgrade, a name whose key is taken is still refused by the unique index')
    or diag $out;
($rc, $out) = $otry->("INSERT INTO accounts (tenant_id, kind, user_name, billable) SELECT $M, 'user', 'new', false");
like($out, qr/accounts_row_ok/, 'and a row that breaks a rule by the new CHECK') or diag $out;

done_testing();
