# The name key of an ASCII name computed at once (sql/013_name_key_ascii.sql,
# issue 8): scim_name_key() and its SQL twin scim_name_key_sql() take
# lower() under the "C" collation for a string whose bytes are as many as
# its characters, and the whole expression of migration 3 for any other.
# Every key must stay what it was (every ASCII character, alone and mixed
# with others, and the names that make keys hard), NULL must stay NULL, the
# twin must still be inlined and still serve as an index key in the
# module's generic plans, and an upgrade from version 12 keeps every stored
# key and rewrites no row.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use ScimTest;

my $KEY = $NAME_KEY_SQL;   # migration 3's body
my @names = ((map { chr } 1 .. 127), join('', map { chr } 1 .. 127),
             'Alice.Smith@Example.COM', 'a_b%c!d', "\t\r\n",
             "Alice\x{E9}", "\x{E9}Alice", "Al\x{131}ce", "AL\x{130}CE", "KELVIN\x{212A}", "\x{212A}",
             @HARD_NAMES, "\x{7F}\x{80}",
             # Latin-1 letters that "C" would leave as they are and the
             # whole key folds or maps (a test of more than one byte per
             # character would let them through)
             "\x{C9}COLE", "\x{B5}", "\x{FF}", "\x{AA}", "x\x{B2}", "\x{C0}\x{DE}");
my $values = join ', ', map { '(' . pg_unicode_literal($_) . ')' } @names;
my $N = scalar @names;

# --- a version 12 database with users and groups, then migrated
my $s = scratch_db('r72', 12);
my ($run, $try) = @$s{qw(run try)};
$run->("INSERT INTO tenants (slug, name) VALUES ('k1', 'K1')");
my $T = "(SELECT id FROM tenants WHERE slug = 'k1')";
# one row per distinct key (the unique index keeps the first)
$run->("INSERT INTO accounts (tenant_id, kind, user_name, billable) SELECT $T, 'user', v.n, true "
       . "FROM (VALUES $values) v(n) WHERE v.n <> '' AND length(v.n) <= 256 ON CONFLICT DO NOTHING");
$run->("INSERT INTO groups (tenant_id, display_name) SELECT $T, v.n "
       . "FROM (VALUES $values) v(n) WHERE v.n <> '' AND length(v.n) <= 256 ON CONFLICT DO NOTHING");
$run->("INSERT INTO accounts (tenant_id, kind, user_name, billable) SELECT $T, 'user', 'Bulk.User' || g, true "
       . "FROM generate_series(1, 2000) g");
my $rows = "SELECT string_agg(id || ':' || %s || ':' || version || ':' || xmin || ':' || ctid, ',' ORDER BY id) "
         . "FROM %s";
my $abefore = $run->(sprintf $rows, 'user_name_key', 'accounts');
my $gbefore = $run->(sprintf $rows, 'display_name_key', 'groups');
ok($run->("SELECT count(*) FROM accounts") > 2000 + 100, 'version 12: accounts with ASCII and other names');

my ($rc, $out) = scimctl('--db', $s->{conninfo}, 'migrate');
is($rc, 0, 'scimctl migrate succeeds') or diag $out;
like($out, qr/applied 013_name_key_ascii/, 'applies 013_name_key_ascii') or diag $out;
unlike($out, qr/applied 0(?:0\d|1[012])_/, 'and nothing older') or diag $out;
is($run->(sprintf $rows, 'user_name_key', 'accounts'), $abefore,
   'every account keeps its stored key, version, xmin and ctid (no row was rewritten)');
is($run->(sprintf $rows, 'display_name_key', 'groups'), $gbefore, 'every group likewise');

# --- the keys
is($run->("SELECT count(*) FILTER (WHERE scim_name_key(n) IS NOT DISTINCT FROM " . sprintf($KEY, 'n')
          . ") || '/' || count(*) FILTER (WHERE scim_name_key_sql(n) IS NOT DISTINCT FROM " . sprintf($KEY, 'n')
          . ") FROM (VALUES $values) v(n)"), "$N/$N",
   "scim_name_key() and scim_name_key_sql() give migration 3's key for each of $N names");
is($run->("SELECT count(*) FILTER (WHERE octet_length(n) = length(n)) FROM (VALUES $values) v(n)"), 128 + 8,
   '... of which 136 take the ASCII branch');
is($run->("SELECT count(*) FROM accounts WHERE user_name_key IS DISTINCT FROM scim_name_key_sql(user_name) "
          . "OR user_name_key IS DISTINCT FROM scim_name_key(user_name)") . '/'
   . $run->("SELECT count(*) FROM groups WHERE display_name_key IS DISTINCT FROM scim_name_key_sql(display_name)"),
   '0/0', 'and the key stored for every row');
is($run->("SELECT (scim_name_key(NULL) IS NULL) || ':' || (scim_name_key_sql(NULL) IS NULL)"), 'true:true',
   'NULL has no key');

# --- the twin is still inlined, and still an index key in a generic plan
is($run->("SELECT l.lanname || ':' || p.provolatile::text || ':' || p.proisstrict || ':' || p.proparallel::text "
          . "FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.proname = 'scim_name_key_sql'"),
   'sql:i:false:s', 'scim_name_key_sql() is an IMMUTABLE, PARALLEL SAFE SQL function, not STRICT');
my $plan = $run->("EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM accounts WHERE scim_name_key_sql(user_name) = 'x'");
like($plan, qr/Filter: .*CASE WHEN \(octet_length\(accounts\.user_name\) = length\(accounts\.user_name\)\)/,
     'PostgreSQL inlines it (the CASE, not a call, in the plan)') or diag $plan;
$run->("ANALYZE accounts; ANALYZE groups");
for my $c (['accounts', 'user_name_key', 'accounts_user_name_key'],
           ['groups', 'display_name_key', 'groups_display_name_key']) {
    my ($table, $key, $index) = @$c;
    for my $form ("scim_name_key_sql(\$2)", "(SELECT scim_name_key_sql(\$2))") {
        $plan = $run->("SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off; "
                       . "PREPARE q(uuid, text) AS SELECT id FROM $table WHERE tenant_id = \$1 AND $key = $form; "
                       . "EXPLAIN (COSTS OFF) EXECUTE q('00000000-0000-0000-0000-000000000000', 'x')");
        like($plan, qr/Index (?:Only )?Scan using \Q$index\E.*\n\s*Index Cond: \(\(tenant_id = \$1\) AND \(\Q$key\E = /,
             "$table: $key = $form is an index key of $index in a generic plan") or diag $plan;
        # the direct form, inlined: a call would be an index key too
        like($plan, qr/Index Cond: .*\Q$key\E = .*CASE WHEN \(octet_length\(\$2\) = length\(\$2\)\)/,
             '... the function inlined') or diag $plan
            if $form !~ /SELECT/;
    }
}

# --- the unique indexes still refuse a name whose key is taken, either branch
for my $n (['alice.smith@example.com', 'an ASCII name in another case'],
           ["\x{FF21}LICE", 'a fullwidth form of an ASCII name'],
           ["STRA\x{DF}E", 'a name that is not ASCII, in another case']) {
    ($rc, $out) = $try->("INSERT INTO accounts (tenant_id, kind, user_name, billable) VALUES ($T, 'user', "
                         . pg_unicode_literal($n->[0]) . ", true)");
    like($out, qr/accounts_user_name_key/, "refused by the unique index: $n->[1]") or diag $out;
}
($rc, $out) = $try->("INSERT INTO accounts (tenant_id, kind, user_name, billable) VALUES ($T, 'user', 'Alice.Smith2', true)");
is($rc, 0, 'a free ASCII name is stored') or diag $out;
is($run->("SELECT user_name_key FROM accounts WHERE user_name = 'Alice.Smith2'"), 'alice.smith2', '... with its key');

# --- a database the fast way would give other keys in: refused, unchanged
# (a SQL_ASCII database counts every byte as a character; migrations 1 to
# 12 apply there, since no row calls normalize())
my $b = scratch_db('r72a', 12, "TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'");
($rc, $out) = scimctl('--db', $b->{conninfo}, 'migrate');
isnt($rc, 0, 'scimctl migrate fails in a SQL_ASCII database');
like($out, qr/needs a UTF8 database, not SQL_ASCII/, '... and says why') or diag $out;
is($b->{run}->("SELECT max(version) FROM scim_schema_migrations") . ':'
   . $b->{run}->("SELECT proisstrict FROM pg_proc WHERE proname = 'scim_name_key_sql'"), '12:t',
   '... and changed nothing (version 12, the functions of migration 12)');

# a database whose default collation folds 'I' to a dotless i (ICU, tr-TR):
# the fast way would give other keys there, so the guard stops too
SKIP: {
    skip 'PostgreSQL has no ICU collation tr-TR', 17
        unless $run->("SELECT count(*) FROM pg_collation WHERE collprovider = 'i' AND collname = 'tr-TR-x-icu'");
    my $t = scratch_db('r72t', 12, "TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8' "
                                   . "LOCALE_PROVIDER icu ICU_LOCALE 'tr-TR'");
    is($t->{run}->("SELECT lower('I') = 'i'"), 'f', "tr-TR: lower('I') is not 'i' there");
    ($rc, $out) = scimctl('--db', $t->{conninfo}, 'migrate');
    isnt($rc, 0, 'scimctl migrate fails in a tr-TR database');
    like($out, qr/default collation \(icu tr-TR\) folds ASCII letters otherwise than "C"/, '... and says why')
        or diag $out;
    is($t->{run}->("SELECT max(version) FROM scim_schema_migrations"), 12, '... and stays at version 12');
}

done_testing();
