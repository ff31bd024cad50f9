# The statement triggers on group_members (sql/008_empty_member_changes.sql,
# issue 8): PostgreSQL fires them for every statement on the table, also one
# that changed no row, such as the cascade of deleting a user who is in no
# group. They must return at once then, and still regroup the members and
# bump the groups when a membership did change. Counted with
# pg_stat_xact_user_functions inside one transaction of our own.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use ScimTest;
use Time::HiRes qw(sleep);

my ($auth) = scim_auth('alice', 'acme', 'okta', 'Trigger Okta');
my $tag = uniq_name('t66');

my @ids;
for my $i (1 .. 3) {
    my ($r, $b) = scim_req('acme', 'POST', '/Users', $auth,
                           user_body(userName => "$tag-$i\@example.com"));
    is($r->code, 201, "user $i created") or diag($r->decoded_content);
    push @ids, $b->{id};
}
my ($r, $g) = scim_req('acme', 'POST', '/Groups', $auth,
                       { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'],
                         displayName => "$tag-group", members => [{ value => $ids[1] }] });
is($r->code, 201, 'a group with user 2') or diag($r->decoded_content);
my $gv = sql("SELECT version FROM groups WHERE id = '$g->{id}'");

# Calls of the two functions by one statement, in a transaction that is
# rolled back or committed as asked.
sub calls {
    my ($stmt, $end) = @_;
    my @rows = sql_rows("BEGIN; SET LOCAL track_functions = 'pl'; $stmt; SELECT "
        . join(" || ',' || ", map { "coalesce((SELECT calls FROM pg_stat_xact_user_functions "
                                    . "WHERE funcname = '$_'), 0)" } qw(scim_members_changed scim_accounts_regroup))
        . "; $end");
    my ($last) = grep { @$_ == 1 && $_->[0] =~ /^\d+,\d+$/ } @rows;
    return $last ? $last->[0] : 'no result';
}

is(calls("DELETE FROM accounts WHERE id = '$ids[0]'", 'COMMIT'), '1,0',
   'deleting a user in no group: the cascade fires the trigger, which regroups nobody');
is(sql("SELECT count(*) FROM accounts WHERE id = '$ids[0]'"), 0, 'and the user is gone');
is(sql("SELECT version FROM groups WHERE id = '$g->{id}'"), $gv, 'and the group did not move');

is(calls("INSERT INTO group_members (tenant_id, group_id, account_id) SELECT tenant_id, id, '$ids[2]' "
         . "FROM groups WHERE id = '$g->{id}'", 'COMMIT'),
   '1,1', 'adding a member regroups it');
like(sql("SELECT groups FROM accounts WHERE id = '$ids[2]'"), qr/\Q$g->{id}\E/,
     'and the member lists the group');
cmp_ok(sql("SELECT version FROM groups WHERE id = '$g->{id}'"), '>', $gv, 'and the group moved');
$gv = sql("SELECT version FROM groups WHERE id = '$g->{id}'");

my ($d) = scim_req('acme', 'DELETE', "/Users/$ids[1]", $auth);
is($d->code, 204, 'DELETE /Users of a member: 204');
cmp_ok(sql("SELECT version FROM groups WHERE id = '$g->{id}'"), '>', $gv,
       'and its group moved (the cascade removed a membership)');
my ($gr, $gb) = scim_req('acme', 'GET', "/Groups/$g->{id}", $auth);
is_deeply([map { $_->{value} } @{ $gb->{members} || [] }], [$ids[2]], 'and it is no longer a member');

is(calls("INSERT INTO group_members (tenant_id, group_id, account_id) SELECT tenant_id, id, id "
         . "FROM groups WHERE false", 'ROLLBACK'),
   '1,0', 'an INSERT of no membership: no regroup');

# --- meta.lastModified moves with the ETag (migration 11): a membership
# change, a group's rename and a member's rename change what the other side
# shows; meta.lastModified is to the second, so each step waits one.
{
    my ($r, $u) = scim_req('acme', 'POST', '/Users', $auth, user_body(userName => "$tag-lm\@example.com"));
    is($r->code, 201, 'a user for lastModified') or diag($r->decoded_content);
    my ($gr, $lg) = scim_req('acme', 'POST', '/Groups', $auth,
                             { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'],
                               displayName => "$tag-lm-group" });
    is($gr->code, 201, 'a group for lastModified') or diag($gr->decoded_content);
    my $meta = sub {
        my ($path) = @_;
        my ($mr, $mb) = scim_req('acme', 'GET', $path, $auth);
        return ($mr->header('ETag') // '', ($mb // {})->{meta}{lastModified} // '');
    };
    my $steps = [
        ['the user joins the group', "/Users/$u->{id}",
         ['PATCH', "/Groups/$lg->{id}", patch_body({ op => 'add', path => 'members', value => [{ value => $u->{id} }] })]],
        ['its group is renamed', "/Users/$u->{id}",
         ['PATCH', "/Groups/$lg->{id}", patch_body({ op => 'replace', path => 'displayName', value => "$tag-lm-renamed" })]],
        ['a member is renamed', "/Groups/$lg->{id}",
         ['PATCH', "/Users/$u->{id}", patch_body({ op => 'replace', path => 'displayName', value => 'LM Renamed' })]],
        ['the user leaves the group', "/Users/$u->{id}",
         ['PATCH', "/Groups/$lg->{id}", patch_body({ op => 'remove', path => qq{members[value eq "$u->{id}"]} })]],
    ];
    for my $s (@$steps) {
        my ($what, $seen, $req) = @$s;
        my ($etag0, $lm0) = $meta->($seen);
        sleep 1.1;
        my ($pr) = scim_req('acme', $req->[0], $req->[1], $auth, $req->[2]);
        ok($pr->code == 200 || $pr->code == 204, "$what: " . $pr->code) or diag($pr->decoded_content);
        my ($etag1, $lm1) = $meta->($seen);
        isnt($etag1, $etag0, "$what: the ETag of $seen moved");
        ok($lm1 gt $lm0, "$what: and its meta.lastModified too ($lm0 -> $lm1)");
    }
}

done_testing();
