# One index for an account's key (sql/009_account_key.sql, issue 8): the
# primary key of accounts is (id, tenant_id), in that order, and no other
# index of accounts starts with id or is on (tenant_id, id); the foreign keys
# of tokens and group_members, which carry the tenant, still hold (a
# membership naming another tenant's user is refused) and still cascade;
# two tenants' accounts with one id (which the database now allows) stay
# apart in the group triggers and the token limit; and scimctl migrate takes
# a version 8 database with data to it.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use ScimTest;

# "col1,col2" of each index of accounts, by name
sub index_columns {
    my ($run) = @_;
    my %cols = map { $_->[0] => $_->[1] } map { [split /\|/, $_, 2] } split /\n/, $run->(
        "SELECT i.relname || '|' || coalesce((SELECT string_agg(a.attname, ',' ORDER BY k.n) "
        . "FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n) "
        . "JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum), '') "
        . "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        . "WHERE x.indrelid = 'accounts'::regclass");
    return \%cols;
}

sub check_schema {
    my ($run, $where) = @_;
    my $cols = index_columns($run);
    is($cols->{accounts_pkey}, 'id,tenant_id', "$where: the primary key is (id, tenant_id)");
    is($run->("SELECT indisprimary FROM pg_index WHERE indexrelid = 'accounts_pkey'::regclass"), 't',
       "$where: and it is the primary key");
    is_deeply([sort grep { $cols->{$_} =~ /^(?:id\b|tenant_id,id$)/ && $_ ne 'accounts_pkey' } keys %$cols], [],
              "$where: no second index on id or on (tenant_id, id)");
    for my $t (qw(tokens group_members)) {
        is($run->("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '$t'::regclass "
                  . "AND confrelid = 'accounts'::regclass"),
           'FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, id) ON DELETE CASCADE',
           "$where: $t still references accounts (tenant_id, id), with its cascade");
    }
}

# --- the test database, migrated by the suite
check_schema(sub { my @r = map { join '|', @$_ } sql_rows(shift); join "\n", @r }, 'test database');

# --- a database at version 8 with data, migrated
my $s = scratch_db('k67', 8);
my ($run, $try) = @$s{qw(run try)};
is($run->("SELECT string_agg(i.relname, ',' ORDER BY i.relname) FROM pg_index x "
          . "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = 'accounts'::regclass "
          . "AND i.relname IN ('accounts_pkey', 'accounts_tenant_id_id_key')"),
   'accounts_pkey,accounts_tenant_id_id_key', 'version 8: the two indexes of before');
$run->("INSERT INTO tenants (slug, name) VALUES ('t1', 'T1'), ('t2', 'T2')");
$run->("INSERT INTO identity_providers (tenant_id, type, name, created_by) "
       . "SELECT id, 'okta', 'Okta', 'test' FROM tenants WHERE slug = 't1'");
$run->("INSERT INTO accounts (tenant_id, kind, user_name, billable, idp_id) "
       . "SELECT tenant_id, 'provisioning', 'okta-prov', false, id FROM identity_providers");
for my $u (qw(t1:ann t1:ben t2:cid)) {
    my ($t, $n) = split /:/, $u;
    $run->("INSERT INTO accounts (tenant_id, kind, user_name, billable, doc) SELECT id, 'user', '$n', "
           . "true, '{\"userName\": \"$n\"}' FROM tenants WHERE slug = '$t'");
}
$run->("INSERT INTO groups (tenant_id, display_name) SELECT id, 'staff' FROM tenants WHERE slug = 't1'");
$run->("INSERT INTO group_members (tenant_id, group_id, account_id) SELECT a.tenant_id, g.id, a.id "
       . "FROM accounts a JOIN groups g ON g.tenant_id = a.tenant_id WHERE a.user_name IN ('ann', 'ben')");
$run->("INSERT INTO tokens (tenant_id, account_id, jti, token_hash, kid, created_at, created_by, expires_at) "
       . "SELECT tenant_id, id, 'AAAAAAAAAAAAAAAAAAAAAA', sha256('x'), 'k1', now(), 'test', now() + interval '30 days' "
       . "FROM accounts WHERE kind = 'provisioning'");
my $before = $run->("SELECT string_agg(id || ':' || tenant_id || ':' || user_name || ':' || version "
                    . "|| ':' || coalesce(groups, '-'), ',' ORDER BY user_name) FROM accounts");

my $conninfo = $s->{conninfo};
my ($rc, $out) = scimctl('--db', $conninfo, 'migrate');
is($rc, 0, 'scimctl migrate succeeds') or diag $out;
like($out, qr/applied 009_account_key/, 'applies 009_account_key') or diag $out;
unlike($out, qr/applied 00[1-8]/, 'and nothing older');
check_schema($run, 'after the upgrade');
is($run->("SELECT string_agg(id || ':' || tenant_id || ':' || user_name || ':' || version "
          . "|| ':' || coalesce(groups, '-'), ',' ORDER BY user_name) FROM accounts"),
   $before, 'every account as it was (ids, tenants, names, versions, groups)');
is($run->("SELECT count(*) FROM group_members") . '/' . $run->("SELECT count(*) FROM tokens"), '2/1',
   'memberships and the token kept');

# the foreign keys still carry the tenant
($rc, $out) = $try->("INSERT INTO group_members (tenant_id, group_id, account_id) SELECT g.tenant_id, g.id, a.id "
                     . "FROM groups g, accounts a WHERE a.user_name = 'cid'");
isnt($rc, 0, "a membership of t1's group naming t2's user is refused");
like($out, qr/group_members_tenant_id_account_id_fkey/, 'by the foreign key') or diag $out;
($rc, $out) = $try->("INSERT INTO group_members (tenant_id, group_id, account_id) SELECT g.tenant_id, g.id, "
                     . "gen_random_uuid() FROM groups g");
like($out, qr/group_members_tenant_id_account_id_fkey/, 'and one naming no account') or diag $out;
is($run->("SELECT count(*) FROM group_members"), 2, 'neither was stored');

# and still cascade
$run->("DELETE FROM accounts WHERE user_name = 'ann'");
is($run->("SELECT count(*) FROM group_members"), 1, "deleting ann removes her membership");
like($run->("SELECT groups FROM accounts WHERE user_name = 'ben'"), qr/staff/, 'ben is still in the group');
$run->("DELETE FROM accounts WHERE kind = 'provisioning'");
is($run->("SELECT count(*) FROM tokens"), 0, 'deleting the provisioning account removes its token');
$run->("DELETE FROM tenants WHERE slug = 't1'");
is($run->("SELECT string_agg(user_name, ',') FROM accounts"), 'cid', "deleting t1 removes its accounts, not t2's");

# Two tenants' accounts with one id: t2 gets a user and a provisioning
# account with the ids of t3's (an operator's copy of a tenant could make
# such twins). A membership change or a group rename in t3 regroups t3's
# account only, and t3's live tokens do not count against t2's account.
$run->("INSERT INTO tenants (slug, name) VALUES ('t3', 'T3')");
$run->("INSERT INTO identity_providers (tenant_id, type, name, created_by) "
       . "SELECT id, 'entra', 'Entra', 'test' FROM tenants WHERE slug IN ('t2', 't3')");
$run->("INSERT INTO accounts (tenant_id, kind, user_name, billable, idp_id) "
       . "SELECT i.tenant_id, 'provisioning', 'entra-prov', false, i.id FROM identity_providers i "
       . "JOIN tenants t ON t.id = i.tenant_id WHERE t.slug = 't3'");
$run->("INSERT INTO accounts (tenant_id, kind, user_name, billable, doc) SELECT id, 'user', 'dan', true, "
       . "'{\"userName\": \"dan\"}' FROM tenants WHERE slug = 't3'");
for my $k (qw(user provisioning)) {
    $run->("INSERT INTO accounts (id, tenant_id, kind, user_name, billable, idp_id, doc) "
           . "SELECT a.id, t.id, a.kind, a.user_name || '-twin', a.billable, "
           . "(SELECT i.id FROM identity_providers i WHERE i.tenant_id = t.id AND a.kind = 'provisioning'), a.doc "
           . "FROM accounts a JOIN tenants s ON s.id = a.tenant_id AND s.slug = 't3', tenants t "
           . "WHERE t.slug = 't2' AND a.kind = '$k'");
}
is($run->("SELECT count(DISTINCT a.id) || '/' || count(*) FROM accounts a JOIN tenants t ON t.id = a.tenant_id "
          . "WHERE t.slug IN ('t2', 't3') AND a.user_name IN ('dan', 'dan-twin', 'entra-prov', 'entra-prov-twin')"),
   '2/4', 'two pairs of accounts, each pair with one id in two tenants');
my $twin = sub { $run->("SELECT version || ':' || coalesce(groups, '-') FROM accounts WHERE user_name = 'dan-twin'") };
my $twin0 = $twin->();
$run->("INSERT INTO groups (tenant_id, display_name) SELECT id, 'crew' FROM tenants WHERE slug = 't3'");
$run->("INSERT INTO group_members (tenant_id, group_id, account_id) SELECT a.tenant_id, g.id, a.id "
       . "FROM accounts a JOIN groups g ON g.tenant_id = a.tenant_id AND g.display_name = 'crew' WHERE a.user_name = 'dan'");
like($run->("SELECT groups FROM accounts WHERE user_name = 'dan'"), qr/crew/, "t3's dan is in crew");
is($twin->(), $twin0, "and t2's dan-twin, with the same id, is untouched (version and groups)");
$twin0 = $twin->();
$run->("UPDATE groups SET display_name = 'crew 2' WHERE display_name = 'crew'");
like($run->("SELECT groups FROM accounts WHERE user_name = 'dan'"), qr/crew 2/, "renaming crew rewrites dan's groups");
is($twin->(), $twin0, 'and not the twin\'s');
# the twin in a group of its own tenant
$run->("INSERT INTO groups (tenant_id, display_name) SELECT id, 'deck' FROM tenants WHERE slug = 't2'");
$run->("INSERT INTO group_members (tenant_id, group_id, account_id) SELECT a.tenant_id, g.id, a.id "
       . "FROM accounts a JOIN groups g ON g.tenant_id = a.tenant_id AND g.display_name = 'deck' "
       . "WHERE a.user_name = 'dan-twin'");
my $both = sub { $run->("SELECT string_agg(user_name || '=' || coalesce(groups, '-'), ' ' ORDER BY user_name) "
                        . "FROM accounts WHERE user_name IN ('dan', 'dan-twin')") };
like($both->(), qr/^dan=\S*crew 2\S* dan-twin=\S*deck\S*$/, 'each twin lists the group of its own tenant only')
    or diag $both->();
unlike($both->(), qr/dan=\S*deck|twin=\S*crew/, 'and not the other one\'s');
$twin0 = $twin->();
$run->("DELETE FROM group_members m USING groups g WHERE g.id = m.group_id AND g.display_name = 'crew 2'");
like($both->(), qr/^dan=- dan-twin=\S*deck/, "removing dan from crew 2 empties dan's groups");
is($twin->(), $twin0, 'and leaves the twin as it was (version and groups)');
# one statement over both tenants, each twin with a membership in it
$run->("DELETE FROM group_members");
$run->("INSERT INTO group_members (tenant_id, group_id, account_id) SELECT a.tenant_id, g.id, a.id "
       . "FROM accounts a JOIN groups g ON g.tenant_id = a.tenant_id "
       . "AND g.display_name IN ('crew 2', 'deck') WHERE a.user_name IN ('dan', 'dan-twin')");
like($both->(), qr/^dan=\S*crew 2\S* dan-twin=\S*deck\S*$/,
     'one INSERT over both tenants: each twin lists its own group') or diag $both->();
unlike($both->(), qr/dan=\S*deck|twin=\S*crew/, 'and only that one');
$run->("DELETE FROM group_members");
is($both->(), 'dan=- dan-twin=-', 'one DELETE over both tenants: each twin is in no group');
for my $n (1, 2) {
    $run->("INSERT INTO tokens (tenant_id, account_id, jti, token_hash, kid, created_at, created_by, expires_at) "
           . "SELECT tenant_id, id, 'CCCCCCCCCCCCCCCCCCCCC$n', sha256('c$n'), 'k1', now(), 'test', "
           . "now() + interval '30 days' FROM accounts WHERE user_name = 'entra-prov'");
}
($rc, $out) = $try->("INSERT INTO tokens (tenant_id, account_id, jti, token_hash, kid, created_at, created_by, "
                     . "expires_at) SELECT tenant_id, id, 'CCCCCCCCCCCCCCCCCCCCC3', sha256('c3'), 'k1', now(), "
                     . "'test', now() + interval '30 days' FROM accounts WHERE user_name = 'entra-prov'");
like($out, qr/too many provisioning tokens/, "a third live token of t3's provisioning account is refused");
($rc, $out) = $try->("INSERT INTO tokens (tenant_id, account_id, jti, token_hash, kid, created_at, created_by, "
                     . "expires_at) SELECT tenant_id, id, 'DDDDDDDDDDDDDDDDDDDDD1', sha256('d1'), 'k1', now(), "
                     . "'test', now() + interval '30 days' FROM accounts WHERE user_name = 'entra-prov-twin'");
is($rc, 0, "while t2's twin, with the same id, gets its first") or diag $out;

($rc, $out) = scimctl('--db', $conninfo, 'migrate');
my ($latest) = map { /^(\d+)_/ ? $1 + 0 : () } reverse sort map { (split m{/})[-1] } glob(root_dir() . '/sql/[0-9]*.sql');
like($out, qr/already at version $latest\b/, "migrate again: nothing to do (at $latest, the last in sql/)") or diag $out;

done_testing();
