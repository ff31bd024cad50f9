# The token check as one probe of tokens (sql/010_token_check.sql, issue 8):
# a token row carries its tenant's slug, its provider's id and type and its
# provisioning account's username, which the request's token check compares
# and returns. The database makes and keeps these copies: tokens_copy sets
# them whatever an INSERT or UPDATE says (and a token moved to another
# account takes that account's), a changed username or provider type
# reaches the tokens in the same statement (and so the check: a Basic
# username, the JWT's idp claim), a renamed slug or a deleted tenant
# cascades, and scimctl migrate fills them in a version 9 database,
# removing a token whose account is no longer a provisioning account.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use MIME::Base64 ();
use ScimTest;

my ($res, $j, $rc, $out);

# --- the live module, on the test database
my $idp = new_idp('alice', 'acme', 'entra', 'Token copy IdP');
($res, my $tok) = create_token('alice', 'acme', $idp);
is($res->code, 201, 'a token') or diag $res->as_string;
my $jwt = $tok->{token};
my $name = $tok->{userName};
my $acct = sql("SELECT id FROM accounts WHERE idp_id = '$idp' AND kind = 'provisioning'");
my $copies = sub {
    join '|', map { join ',', @$_ } sql_rows("SELECT tenant_slug, idp_id, idp_type, account_name FROM tokens "
                                             . "WHERE account_id = '$acct' ORDER BY created_at, jti");
};
is($copies->(), "acme,$idp,entra,$name", 'the new token carries its slug, provider, type and username');

sub spc { scim_req('acme', 'GET', '/ServiceProviderConfig', @_) }
sub basic { 'Basic ' . MIME::Base64::encode_base64("$_[0]:$jwt", '') }
($res) = spc("Bearer $jwt");
is($res->code, 200, 'Bearer: 200');
($res) = spc(basic($name));
is($res->code, 200, 'Basic with the account\'s username: 200');

# An INSERT that names other copies gets the true ones.
sql("INSERT INTO tokens (tenant_id, account_id, jti, token_hash, kid, created_at, created_by, expires_at, "
    . "tenant_slug, idp_id, idp_type, account_name) SELECT tenant_id, id, 'TC68AAAAAAAAAAAAAAAAAA', "
    . "sha256('tc68'), 'k', now(), 'test', now() + interval '1 day', 'globex', gen_random_uuid(), 'okta', "
    . "'someone-else' FROM accounts WHERE id = '$acct'");
is($copies->(), "acme,$idp,entra,$name|acme,$idp,entra,$name",
   'an INSERT naming another slug, provider, type and username stores the true ones');
sql("DELETE FROM tokens WHERE jti = 'TC68AAAAAAAAAAAAAAAAAA'");

# The provisioning account renamed (not something the module does): the
# tokens follow, and so does the Basic check.
my $renamed = "$name-renamed";
sql("UPDATE accounts SET user_name = '$renamed' WHERE id = '$acct'");
is($copies->(), "acme,$idp,entra,$renamed", 'a renamed provisioning account: its token follows');
($res) = spc(basic($renamed));
is($res->code, 200, 'Basic with the new username: 200');
($res, $j) = spc(basic($name));
is($res->code, 401, 'Basic with the old one: 401') or diag $res->as_string;

# The provider's type changed: the token's copy follows, and the JWT's idp
# claim (entra) no longer matches, as it did not with the join of before.
sql("UPDATE identity_providers SET type = 'okta' WHERE id = '$idp'");
is($copies->(), "acme,$idp,okta,$renamed", "a provider's new type reaches its token");
($res) = spc("Bearer $jwt");
is($res->code, 401, 'and the token minted for entra is refused') or diag $res->as_string;
sql("UPDATE identity_providers SET type = 'entra' WHERE id = '$idp'");
($res) = spc("Bearer $jwt");
is($res->code, 200, 'the type set back: 200 again');

# The copy rides on the trigger that already follows renamed accounts: an
# UPDATE of accounts compiles every trigger's WHEN clause, so a trigger of
# its own would cost every user's PUT and PATCH.
is(sql("SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'accounts'::regclass "
       . "AND NOT tgisinternal"), 'accounts_name_key_renamed,accounts_renamed', 'accounts has no new trigger');
like(sql("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'accounts_renamed'"),
     qr/AFTER UPDATE OF user_name, display_name, idp_id ON \S*accounts FOR EACH ROW WHEN .*old\.groups IS NOT NULL.*old\.idp_id IS DISTINCT FROM new\.idp_id/,
     'accounts_renamed follows a changed provider too');

# --- a database at version 9 with tokens, migrated
my $s = scratch_db('k68', 9);
my ($run, $try) = @$s{qw(run try)};
$run->("INSERT INTO tenants (slug, name) VALUES ('t1', 'T1'), ('t2', 'T2')");
$run->("INSERT INTO identity_providers (tenant_id, type, name, created_by) "
       . "SELECT id, CASE slug WHEN 't1' THEN 'okta' ELSE 'entra' END, 'P', 'test' FROM tenants");
$run->("INSERT INTO accounts (tenant_id, kind, user_name, billable, idp_id) "
       . "SELECT tenant_id, 'provisioning', type || '-prov', false, id FROM identity_providers");
my $n = 0;
for my $u (qw(okta-prov okta-prov entra-prov)) {
    $n++;
    $run->("INSERT INTO tokens (tenant_id, account_id, jti, token_hash, kid, created_at, created_by, expires_at) "
           . "SELECT tenant_id, id, 'TC68BBBBBBBBBBBBBBBBB$n', sha256('b$n'), 'k', now(), 'test', "
           . "now() + interval '30 days' FROM accounts WHERE user_name = '$u'");
}
# a token whose account an operator switched to a user (allowed at version
# 9), with a reminder: migration 10 removes both
$run->("INSERT INTO identity_providers (tenant_id, type, name, created_by) "
       . "SELECT id, 'okta', 'P2', 'test' FROM tenants WHERE slug = 't2'");
$run->("INSERT INTO accounts (tenant_id, kind, user_name, billable, idp_id) "
       . "SELECT tenant_id, 'provisioning', 'gone-prov', false, id FROM identity_providers WHERE name = 'P2'");
$run->("INSERT INTO tokens (tenant_id, account_id, jti, token_hash, kid, created_at, created_by, expires_at) "
       . "SELECT tenant_id, id, 'TC68BBBBBBBBBBBBBBBBB4', sha256('b4'), 'k', now(), 'test', "
       . "now() + interval '30 days' FROM accounts WHERE user_name = 'gone-prov'");
$run->("INSERT INTO administrators (tenant_id, role, username, email) "
       . "SELECT id, 'customer', 'ann', 'ann\@t2.example' FROM tenants WHERE slug = 't2'");
$run->("INSERT INTO reminder_outbox (tenant_id, token_id, threshold_days, administrator_id, recipient) "
       . "SELECT k.tenant_id, k.id, 7, a.id, a.email FROM tokens k, administrators a "
       . "WHERE k.jti = 'TC68BBBBBBBBBBBBBBBBB4'");
$run->("UPDATE accounts SET kind = 'user', billable = true, idp_id = NULL WHERE user_name = 'gone-prov'");
my $all = sub {
    $run->("SELECT string_agg(k.jti || ':' || coalesce(k.tenant_slug, '-') || ':' || coalesce(k.idp_type, '-') "
           . "|| ':' || coalesce(k.account_name, '-') || ':' || (k.idp_id IS NOT DISTINCT FROM a.idp_id), ' ' "
           . "ORDER BY k.jti) FROM tokens k JOIN accounts a ON a.id = k.account_id")
};
my ($rc9, $out9) = $try->("SELECT tenant_slug FROM tokens");
isnt($rc9, 0, 'version 9: tokens have no copies');
($rc, $out) = scimctl('--db', $s->{conninfo}, 'migrate');
is($rc, 0, 'scimctl migrate succeeds') or diag $out;
like($out, qr/applied 010_token_check/, 'applies 010_token_check') or diag $out;
unlike($out, qr/applied 00\d/, 'and nothing older');
is($all->(), 'TC68BBBBBBBBBBBBBBBBB1:t1:okta:okta-prov:true TC68BBBBBBBBBBBBBBBBB2:t1:okta:okta-prov:true '
              . 'TC68BBBBBBBBBBBBBBBBB3:t2:entra:entra-prov:true',
   'every token of a provisioning account got its copies');
is($run->("SELECT count(*) FROM tokens WHERE jti = 'TC68BBBBBBBBBBBBBBBBB4'") . '/'
   . $run->("SELECT count(*) FROM reminder_outbox"), '0/0',
   'the token of the account switched to a user is gone, with its reminder');
is($run->("SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute WHERE attrelid = 'tokens'::regclass "
          . "AND attname IN ('tenant_slug', 'idp_id', 'idp_type', 'account_name') AND attnotnull"),
   'account_name,idp_id,idp_type,tenant_slug', 'and they are NOT NULL');
is($run->("SELECT string_agg(pg_get_constraintdef(oid), ' / ' ORDER BY conname) FROM pg_constraint "
          . "WHERE conrelid = 'tokens'::regclass AND conname IN ('tokens_tenant_slug_fkey', 'tokens_idp_fkey')"),
   'FOREIGN KEY (tenant_id, idp_id, idp_type) REFERENCES identity_providers(tenant_id, id, type) '
   . 'ON UPDATE CASCADE ON DELETE CASCADE / FOREIGN KEY (tenant_id, tenant_slug) REFERENCES tenants(id, slug) '
   . 'ON UPDATE CASCADE ON DELETE CASCADE',
   'the two foreign keys that keep the copies');
unlike($run->("SELECT string_agg(pg_get_indexdef(indexrelid), ' ') FROM pg_index WHERE indrelid = 'accounts'::regclass"),
       qr/user_name, /, 'accounts got no index for the copies');

# a slug renamed cascades; a copy cannot be set apart from its source
$run->("UPDATE tenants SET slug = 't1-new' WHERE slug = 't1'");
like($all->(), qr/B1:t1-new:okta:okta-prov:true \S+B2:t1-new:okta:okta-prov:true \S+B3:t2:/, 'a renamed slug reaches its tokens');
my $before = $all->();
for my $set ("tenant_slug = 't2'", "idp_type = 'entra'", "account_name = 'someone-else'",
             "idp_id = (SELECT id FROM identity_providers WHERE name = 'P2')") {
    ($rc, $out) = $try->("UPDATE tokens SET $set WHERE jti LIKE '%B1'");
    is($rc, 0, "UPDATE tokens SET $set: accepted") or diag $out;
    is($all->(), $before, '... and the copies are still those of the token\'s rows');
}
# the module's own UPDATEs of tokens do not take the copies again
for my $set ("last_used_at = now(), last_used_from = '127.0.0.1'", "deleted_at = now(), deleted_by = 'x'",
             "expires_at = now() + interval '1 hour'") {
    is($run->("SET track_functions = 'pl'; UPDATE tokens SET $set WHERE jti LIKE '%B3'; "
              . "SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions "
              . "WHERE funcname = 'scim_tokens_copy'"), 0, "UPDATE tokens SET $set: no call of scim_tokens_copy");
}
$run->("UPDATE tokens SET deleted_at = NULL, deleted_by = NULL, expires_at = now() + interval '30 days' "
       . "WHERE jti LIKE '%B3'");
# a token moved to another provisioning account of its tenant takes its copies
$run->("INSERT INTO identity_providers (tenant_id, type, name, created_by) "
       . "SELECT id, 'okta', 'P3', 'test' FROM tenants WHERE slug = 't2'");
$run->("INSERT INTO accounts (tenant_id, kind, user_name, billable, idp_id) "
       . "SELECT tenant_id, 'provisioning', 'p3-prov', false, id FROM identity_providers WHERE name = 'P3'");
$run->("UPDATE tokens SET account_id = (SELECT id FROM accounts WHERE user_name = 'p3-prov') WHERE jti LIKE '%B3'");
like($all->(), qr/B3:t2:okta:p3-prov:true$/, "a token moved to p3-prov carries p3-prov's name and provider");
$run->("UPDATE tokens SET account_id = (SELECT id FROM accounts WHERE user_name = 'entra-prov') WHERE jti LIKE '%B3'");
like($all->(), qr/B3:t2:entra:entra-prov:true$/, 'and moved back, entra-prov\'s again');
($rc, $out) = $try->("UPDATE tokens SET account_id = (SELECT id FROM accounts WHERE user_name = 'gone-prov') "
                     . "WHERE jti LIKE '%B3'");
like($out, qr/token for a non-provisioning account/, 'a token cannot be moved to a user\'s account') or diag $out;
# a provider moved: the account's tokens follow
$run->("INSERT INTO identity_providers (tenant_id, type, name, created_by) "
       . "SELECT id, 'entra', 'Q', 'test' FROM tenants WHERE slug = 't1-new'");
$run->("UPDATE accounts SET idp_id = (SELECT id FROM identity_providers WHERE name = 'Q') WHERE user_name = 'okta-prov'");
like($all->(), qr/B1:t1-new:entra:okta-prov:true \S+B2:t1-new:entra:okta-prov:true/,
     "an account's new provider reaches its tokens (id and type)");
# a provisioning account with tokens cannot lose its provider
($rc, $out) = $try->("UPDATE accounts SET kind = 'user', billable = true, idp_id = NULL WHERE user_name = 'entra-prov'");
isnt($rc, 0, 'a provisioning account with tokens cannot become a user');
like($out, qr/token for a non-provisioning account/, 'refused by the copy trigger') or diag $out;
is($run->("SELECT kind FROM accounts WHERE user_name = 'entra-prov'"), 'provisioning', 'it is unchanged');
# a token of a user account is still refused
$run->("INSERT INTO accounts (tenant_id, kind, user_name, billable) SELECT id, 'user', 'u', true "
       . "FROM tenants WHERE slug = 't2'");
($rc, $out) = $try->("INSERT INTO tokens (tenant_id, account_id, jti, token_hash, kid, created_at, created_by, "
                     . "expires_at) SELECT tenant_id, id, 'TC68CCCCCCCCCCCCCCCCC1', sha256('c'), 'k', now(), 'test', "
                     . "now() + interval '1 day' FROM accounts WHERE user_name = 'u'");
like($out, qr/token for a non-provisioning account/, "and a token of a user's account is refused") or diag $out;
# the limit of two still holds
($rc, $out) = $try->("INSERT INTO tokens (tenant_id, account_id, jti, token_hash, kid, created_at, created_by, "
                     . "expires_at) SELECT tenant_id, id, 'TC68CCCCCCCCCCCCCCCCC2', sha256('c2'), 'k', now(), "
                     . "'test', now() + interval '1 day' FROM accounts WHERE user_name = 'okta-prov'");
like($out, qr/too many provisioning tokens/, 'a third live token is refused') or diag $out;
# the WHEN clause of accounts_renamed: a rename of a user in no group calls
# no function; of a user in a group, one call and the group's version bumped
$run->("INSERT INTO groups (tenant_id, display_name) SELECT id, 'crew' FROM tenants WHERE slug = 't2'");
$run->("INSERT INTO accounts (tenant_id, kind, user_name, billable) SELECT id, 'user', 'v', true "
       . "FROM tenants WHERE slug = 't2'");
$run->("INSERT INTO group_members (tenant_id, group_id, account_id) SELECT a.tenant_id, g.id, a.id "
       . "FROM accounts a JOIN groups g ON g.tenant_id = a.tenant_id WHERE a.user_name = 'v'");
my $calls = sub {
    my ($who) = @_;
    return $run->("SET track_functions = 'pl'; UPDATE accounts SET display_name = 'New ' || user_name "
                  . "WHERE user_name = '$who'; SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions "
                  . "WHERE funcname = 'scim_account_renamed'");
};
my $gv = $run->("SELECT version FROM groups WHERE display_name = 'crew'");
is($calls->('u'), 0, 'a user in no group renamed: no call of scim_account_renamed');
is($calls->('v'), 1, 'a user in a group renamed: one call');
is($run->("SELECT version FROM groups WHERE display_name = 'crew'"), $gv + 1, "and the group's version moved");
# a deleted provider or tenant takes its tokens
$run->("DELETE FROM identity_providers WHERE name = 'Q'");
like($all->(), qr/^TC68BBBBBBBBBBBBBBBBB3:t2:entra:entra-prov:true$/, "deleting a provider removes its account's tokens");
$run->("DELETE FROM tenants WHERE slug = 't2'");
is($all->(), '', "deleting t2 removes its tokens");

done_testing();
