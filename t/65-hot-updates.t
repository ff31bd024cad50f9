# Room for updates (sql/007_fillfactor.sql, issue 8): accounts and groups
# keep a quarter of each page free, so that a PATCH of a user, which changes
# no indexed column, writes its new version on the row's own page (a HOT
# update, no index entry written). At the default fillfactor the pages
# filled by inserts are full and the new version goes to another page.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use ScimTest;

my ($auth) = scim_auth('alice', 'acme', 'okta', 'Hot Okta');
my $tag = uniq_name('h65');

for my $t (qw(accounts groups)) {
    like(sql("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = '$t'"),
         qr/\bfillfactor=75\b/, "$t: fillfactor 75");
}

# Users of ~1.4 KB, as Okta and Entra send them, so that a page holds a few.
my $filler = join ' ', ('Platform Engineering and Identity') x 36;
my @ids;
for my $i (1 .. 16) {
    my ($r, $b) = scim_req('acme', 'POST', '/Users', $auth,
                           user_body(userName => "$tag-$i\@example.com", title => $filler,
                                     active => JSON::PP::true()));
    is($r->code, 201, "user $i created") or diag($r->decoded_content);
    push @ids, $b->{id};
}
my $list = join ',', map { "'$_'" } @ids;
my %block = map { $_->[0] => $_->[1] }
    sql_rows("SELECT id, (ctid::text::point)[0] FROM accounts WHERE id IN ($list)");
my %on;
push @{ $on{ $block{$_} } }, $_ for @ids;
# Pages these inserts filled: every page that holds two or more of the users
# except the last one written to. Inserts fill a page up to its fillfactor
# and go on to the next: at 75 a quarter of the page (2 KB, more than a row)
# stays free; at 100 what stays is less than a row. One user of each such
# page is PATCHed, so the new version needs the room the fillfactor kept and
# never a pruning of the page.
my $last = $block{ $ids[-1] };
my @full = grep { $_ != $last && @{ $on{$_} } >= 2 } sort { $a <=> $b } keys %on;
cmp_ok(scalar(@full), '>=', 2,
       'the users filled pages (users per page: ' . join(',', map { scalar @{ $on{$_} } } sort { $a <=> $b } keys %on) . ')');

my $moved = 0;
for my $page (@full) {
    my $id = $on{$page}[0];
    my ($r) = scim_req('acme', 'PATCH', "/Users/$id", $auth,
                       patch_body({ op => 'replace', path => 'active', value => JSON::PP::false() }));
    is($r->code, 200, 'PATCH active');
    my $now = sql("SELECT (ctid::text::point)[0] FROM accounts WHERE id = '$id'");
    $moved++ if $now != $page;
}
is($moved, 0, 'every PATCHed user stayed on its page (a HOT update)');
is(sql("SELECT count(*) FROM accounts WHERE id IN ($list) AND NOT active"), scalar(@full),
   'and every PATCH is stored');

done_testing();
