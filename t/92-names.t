# Names (issue 7 point 4, SPEC 5.1): userName, externalId and group
# displayName refuse control and bidi characters and white space at either
# end (400 invalidValue) on POST, PUT, PATCH and Bulk; userName and group
# displayName are unique under NFKC + case folding in the database (409
# uniqueness), the stored value is the one sent, and filters find a name by
# any spelling of its key. Migration 3 on a database whose rows already
# collide keeps every row, marks the later ones and names them.
use strict;
use warnings FATAL => 'all';
no warnings qw(uninitialized numeric);
use utf8;
use Test::More;
use Apache::Test ();
use JSON::PP ();
use Encode ();
use ScimTest;

my ($res, $j);
my ($auth) = scim_auth('alice', 'acme', 'entra', 'Names');
my $CORE  = 'urn:ietf:params:scim:schemas:core:2.0:User';
my $GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
my $PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
my $BULK  = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
my $tag = uniq_name('n92');
my $tenant = sql("SELECT id FROM tenants WHERE slug = 'acme'");
binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);
my $jutf8 = JSON::PP->new->utf8;
# The response JSON, decoded as UTF-8 (application/scim+json has no charset)
sub uj { my $r = shift; my $d = eval { $jutf8->decode($r->content) }; return $d }
# GET <endpoint>?filter=...: the sorted values of key
sub names_of {
    my ($endpoint, $filter, $key) = @_;
    my ($r) = scim_req('acme', 'GET', "$endpoint?count=200&filter=" . fq($filter), $auth);
    return [sort map { $_->{$key // 'userName'} } @{ (uj($r) // {})->{Resources} || [] }];
}
# SQL text and results as characters (psql speaks UTF-8)
sub usql { my $r = sql(Encode::encode_utf8(shift)); defined $r ? Encode::decode_utf8($r) : undef }

# fullwidth forms of printable ASCII (U+FF01..U+FF5E)
sub fullwidth { join '', map { my $o = ord; ($o >= 0x21 && $o <= 0x7E) ? chr($o + 0xFEE0) : $_ } split //, shift }
sub count_named {
    my ($table, $col, $name) = @_;
    $name =~ s/'/''/g;
    return usql("SELECT count(*) FROM $table WHERE tenant_id = '$tenant' AND $col = '$name'");
}

# ---- refused characters
my @bad = (
    ["trailing space",            "NAME "],
    ["leading space",             " NAME"],
    ["trailing tab",              "NAME\t"],
    ["trailing NBSP",             "NAME\x{A0}"],
    ["leading ideographic space", "\x{3000}NAME"],
    ["trailing em space",         "NAME\x{2003}"],
    ["trailing line separator",   "NAME\x{2028}"],
    ["a newline inside",          "NA\nME"],
    ["a BEL (C0) inside",         "NA\x{07}ME"],
    ["a DEL inside",              "NA\x{7F}ME"],
    ["a NEL (C1) inside",         "NA\x{85}ME"],
    ["a C1 CSI inside",           "NA\x{9B}ME"],
    ["a zero width space inside", "NA\x{200B}ME"],
    ["a soft hyphen inside",      "NA\x{AD}ME"],
    ["a byte order mark inside",  "NA\x{FEFF}ME"],
    ["a word joiner inside",      "NA\x{2060}ME"],
    ["RLO (U+202E)",              "NA\x{202E}ME"],
    ["LRE (U+202A)",              "\x{202A}NAME"],
    ["PDF (U+202C)",              "NAME\x{202C}x"],
    ["RLI (U+2067)",              "NA\x{2067}ME"],
    ["PDI (U+2069)",              "NA\x{2069}ME"],
    ["LRM (U+200E)",              "NA\x{200E}ME"],
    ["RLM (U+200F)",              "NA\x{200F}ME"],
    ["ALM (U+061C)",              "NA\x{061C}ME"],
);
my $i = 0;
for my $b (@bad) {
    my ($what, $tpl) = @$b;
    $i++;
    (my $name = $tpl) =~ s/NAME/$tag-b$i/;
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => $name)));
    is_scim_error($res, $j, 400, 'invalidValue', "POST /Users userName with $what: 400 invalidValue");
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth,
                          jenc(user_body(userName => "$tag-x$i", externalId => $name)));
    is_scim_error($res, $j, 400, 'invalidValue', "POST /Users externalId with $what: 400");
    ($res, $j) = scim_req('acme', 'POST', '/Groups', $auth, jenc(group_body(displayName => $name)));
    is_scim_error($res, $j, 400, 'invalidValue', "POST /Groups displayName with $what: 400");
}
is(sql("SELECT count(*) FROM accounts WHERE tenant_id = '$tenant' AND (user_name LIKE '%$tag-b%' OR user_name LIKE '$tag-x%')"),
   0, 'no user was written');
is(sql("SELECT count(*) FROM groups WHERE tenant_id = '$tenant' AND display_name LIKE '%$tag-b%'"), 0, 'no group was written');
# inner white space and other scripts are fine
for my $ok ("$tag ok name", "$tag-Ünïcødé-名前", "$tag-عربي") {
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => $ok, externalId => "e $ok")));
    scim_ok($res, 201, "userName '$ok' (inner space, non-Latin) is accepted");
}

# PUT, PATCH and Bulk go through the same rules
my ($r0, $u) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => "$tag-u1", externalId => "$tag-e1")));
my $uid = $u->{id};
($r0, my $g) = scim_req('acme', 'POST', '/Groups', $auth, jenc(group_body(displayName => "$tag-g1")));
my $gid = $g->{id};
ok($uid && $gid, 'a user and a group to change');
($res, $j) = scim_req('acme', 'PUT', "/Users/$uid", $auth, jenc(user_body(userName => "$tag-u1 ")));
is_scim_error($res, $j, 400, 'invalidValue', 'PUT /Users userName with a trailing space: 400');
($res, $j) = scim_req('acme', 'PUT', "/Users/$uid", $auth, jenc(user_body(userName => "$tag-u1", externalId => "\x{202E}$tag")));
is_scim_error($res, $j, 400, 'invalidValue', 'PUT /Users externalId with RLO: 400');
($res, $j) = scim_req('acme', 'PATCH', "/Users/$uid", $auth,
                      jenc(patch_body({ op => 'replace', path => 'userName', value => "\x{2066}$tag-u1" })));
is_scim_error($res, $j, 400, 'invalidValue', 'PATCH replace userName with LRI: 400');
($res, $j) = scim_req('acme', 'PATCH', "/Users/$uid", $auth,
                      jenc(patch_body({ op => 'replace', value => { externalId => "$tag-e1\x{85}" } })));
is_scim_error($res, $j, 400, 'invalidValue', 'PATCH path-less externalId with NEL: 400');
($res, $j) = scim_req('acme', 'PUT', "/Groups/$gid", $auth, jenc(group_body(displayName => "\t$tag-g1")));
is_scim_error($res, $j, 400, 'invalidValue', 'PUT /Groups displayName with a leading tab: 400');
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$gid", $auth,
                      jenc(patch_body({ op => 'replace', path => 'displayName', value => "$tag-g1\x{3000}" })));
is_scim_error($res, $j, 400, 'invalidValue', 'PATCH Group displayName with U+3000 at the end: 400');
($res, $j) = scim_req('acme', 'GET', "/Users/$uid", $auth);
is($j->{userName}, "$tag-u1", 'the user is unchanged');
is($j->{externalId}, "$tag-e1", 'its externalId too');
($res, $j) = scim_req('acme', 'GET', "/Groups/$gid", $auth);
is($j->{displayName}, "$tag-g1", 'the group is unchanged');
($res, $j) = scim_req('acme', 'POST', '/Bulk', $auth, jenc({
    schemas => [$BULK],
    Operations => [
        { method => 'POST', path => '/Users', bulkId => 'a', data => user_body(userName => "$tag-bulk\x{202D}") },
        { method => 'POST', path => '/Groups', bulkId => 'b', data => group_body(displayName => " $tag-bulk") },
        { method => 'PUT', path => "/Users/$uid", data => user_body(userName => "$tag-u1\x{A0}") },
        { method => 'PATCH', path => "/Groups/$gid",
          data => patch_body({ op => 'replace', path => 'displayName', value => "$tag-g1\x{200F}" }) },
    ] }));
scim_ok($res, 200, 'Bulk with bad names: 200');
is_deeply([map { $_->{status} } @{ $j->{Operations} || [] }], [qw(400 400 400 400)], 'every operation: 400');
is_deeply([map { $_->{response}{scimType} } @{ $j->{Operations} || [] }], [('invalidValue') x 4], 'invalidValue');

# ---- uniqueness under NFKC + case folding
my $name = "$tag-alice";
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => $name)));
scim_ok($res, 201, "POST $name: 201");
my $alice = $j->{id};
for my $v ([fullwidth($name), 'fullwidth'], [uc($name), 'upper case'], [fullwidth(uc $name), 'fullwidth upper case'],
           [ucfirst($name), 'capitalised']) {
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => $v->[0])));
    is_scim_error($res, $j, 409, 'uniqueness', "POST the $v->[1] form of an existing userName: 409 uniqueness");
}
# ligature and compatibility forms: "ﬁ" is "fi", "Ⅸ" is "IX"
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => "$tag-ﬁle-Ⅸ")));
scim_ok($res, 201, 'a name with a ligature and a Roman numeral');
my $fid = $j->{id};
is(uj($res)->{userName}, "$tag-ﬁle-Ⅸ", 'is stored as sent');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => "$tag-FILE-ix")));
is_scim_error($res, $j, 409, 'uniqueness', 'its NFKC + case-folded twin: 409');
is(usql("SELECT user_name FROM accounts WHERE id = '$alice'"), $name, 'the stored userName is the one sent');
# PUT and PATCH renames onto a taken key, users and groups
($r0, $u) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => "$tag-bob")));
my $bob = $u->{id};
($res, $j) = scim_req('acme', 'PUT', "/Users/$bob", $auth, jenc(user_body(userName => fullwidth($name))));
is_scim_error($res, $j, 409, 'uniqueness', 'PUT renaming to a fullwidth twin: 409');
($res, $j) = scim_req('acme', 'PATCH', "/Users/$bob", $auth,
                      jenc(patch_body({ op => 'replace', path => 'userName', value => uc $name })));
is_scim_error($res, $j, 409, 'uniqueness', 'PATCH renaming to an upper-case twin: 409');
($res, $j) = scim_req('acme', 'PATCH', "/Users/$alice", $auth,
                      jenc(patch_body({ op => 'replace', path => 'userName', value => fullwidth(uc $name) })));
scim_ok($res, 200, 'a user may respell its own name');
is(uj($res)->{userName}, fullwidth(uc $name), 'and gets the spelling it sent');
is(sql("SELECT user_name FROM accounts WHERE id = '$bob'"), "$tag-bob", 'bob is unchanged');
($res, $j) = scim_req('acme', 'POST', '/Groups', $auth, jenc(group_body(displayName => "$tag-Admins")));
scim_ok($res, 201, 'a group');
($r0, my $g2) = scim_req('acme', 'POST', '/Groups', $auth, jenc(group_body(displayName => "$tag-others")));
for my $v ([fullwidth("$tag-admins"), 'fullwidth'], [uc("$tag-admins"), 'upper case']) {
    ($res, $j) = scim_req('acme', 'POST', '/Groups', $auth, jenc(group_body(displayName => $v->[0])));
    is_scim_error($res, $j, 409, 'uniqueness', "POST /Groups, the $v->[1] twin: 409");
    ($res, $j) = scim_req('acme', 'PUT', "/Groups/$g2->{id}", $auth, jenc(group_body(displayName => $v->[0])));
    is_scim_error($res, $j, 409, 'uniqueness', "PUT /Groups renaming to the $v->[1] twin: 409");
}
($res, $j) = scim_req('acme', 'PATCH', "/Groups/$g2->{id}", $auth,
                      jenc(patch_body({ op => 'replace', path => 'displayName', value => fullwidth("$tag-ADMINS") })));
is_scim_error($res, $j, 409, 'uniqueness', 'PATCH /Groups renaming to a twin: 409');
($res, $j) = scim_req('acme', 'POST', '/Bulk', $auth, jenc({
    schemas => [$BULK],
    Operations => [
        { method => 'POST', path => '/Users', bulkId => 'a', data => user_body(userName => fullwidth($name)) },
        { method => 'POST', path => '/Groups', bulkId => 'b', data => group_body(displayName => uc "$tag-admins") },
    ] }));
is_deeply([map { $_->{status} } @{ $j->{Operations} || [] }], [qw(409 409)], 'Bulk POST of twins: 409 each');
is(count_named('accounts', 'user_name', fullwidth($name)), 0, 'no fullwidth twin in the database');
# a user's displayName is not a unique name
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => "$tag-d1", displayName => 'Same Person')));
scim_ok($res, 201, 'displayName of a user');
($res, $j) = scim_req('acme', 'POST', '/Users', $auth, jenc(user_body(userName => "$tag-d2", displayName => 'ＳＡＭＥ person')));
scim_ok($res, 201, 'may repeat under NFKC');

# ---- filters find a name by any spelling of its key
for my $f ([fullwidth(uc $name), 'fullwidth upper case'], [lc $name, 'lower case'], [uc $name, 'upper case']) {
    is_deeply(names_of('/Users', qq{userName eq "$f->[0]"}), [fullwidth(uc $name)],
              "userName eq the $f->[1] form finds the user");
}
is_deeply(names_of('/Users', qq{userName eq "$tag-file-IX"}), ["$tag-ﬁle-Ⅸ"],
          'userName eq "...file-IX" finds "...ﬁle-Ⅸ"');
is_deeply(names_of('/Groups', qq{displayName eq "} . fullwidth(uc "$tag-admins") . '"', 'displayName'),
          ["$tag-Admins"], 'displayName eq the fullwidth upper-case form finds the group');
is_deeply(names_of('/Users', qq{userName eq "$tag-bob" and not (userName eq "} . fullwidth("$tag-bob") . '")'),
          [], 'not (eq) is the complement');
is_deeply(names_of('/Users', qq{userName eq "$tag-bob" or userName eq "} . fullwidth("$tag-alice") . '"'),
          [sort("$tag-bob", fullwidth(uc $name))], 'or of two keys');

# ---- the lookups use the unique index (EXPLAIN)
{
    my $plan = join "\n", map { $_->[0] } sql_rows(
        "SET enable_seqscan = off; EXPLAIN SELECT 1 FROM accounts WHERE tenant_id = '$tenant' "
        . "AND user_name_key = scim_name_key('X')");
    like($plan, qr/accounts_user_name_key/, 'userName lookup: Index Scan on accounts_user_name_key') or diag $plan;
    $plan = join "\n", map { $_->[0] } sql_rows(
        "SET enable_seqscan = off; EXPLAIN SELECT 1 FROM groups WHERE tenant_id = '$tenant' "
        . "AND display_name_key = scim_name_key('X')");
    like($plan, qr/groups_display_name_key/, 'displayName lookup: Index Scan on groups_display_name_key') or diag $plan;
    is(usql("SELECT scim_name_key('ＡＬＩＣＥ') = scim_name_key('alice') AND scim_name_key('ǅ') = scim_name_key('ǆ')"
           . " AND scim_name_key(scim_name_key('ﬃ Ⅸ K')) = scim_name_key('ﬃ Ⅸ K')"), 't',
       'scim_name_key: fullwidth, titlecase digraphs, idempotent');
}

# ---- a collision that migration 3 left behind: both rows stay usable over SCIM
{
    my $kept = "$tag-twin";
    ($res, $j) = scim_req('acme', 'POST', '/Users', $auth, { schemas => [$CORE], userName => $kept });
    is($res->code, 201, 'the kept row of a collision is created') or diag $res->content;
    my $kept_id = $j->{id};
    # its twin, as migration 3 marks a later row of an old collision
    my $twin_name = fullwidth(uc $kept);
    my $twin_id = usql("WITH n AS (SELECT gen_random_uuid() AS id) INSERT INTO accounts "
        . "(id, tenant_id, kind, user_name, billable, name_key_exempt, doc) "
        . "SELECT n.id, '$tenant', 'user', '$twin_name', true, n.id, "
        . "jsonb_build_object('schemas', jsonb_build_array('$CORE'), 'userName', '$twin_name') FROM n RETURNING id");
    ok($twin_id, 'an exempt twin is stored (as migration 3 leaves it)');
    my $off = { schemas => [$PATCH], Operations => [{ op => 'replace', path => 'active', value => JSON::PP::false }] };
    for my $c (['the kept row', $kept_id], ['the exempt twin', $twin_id]) {
        ($res, $j) = scim_req('acme', 'PATCH', "/Users/$c->[1]", $auth, $off);
        is($res->code, 200, "$c->[0] can still be deactivated (PATCH)") or diag $res->content;
        ($res, $j) = scim_req('acme', 'GET', "/Users/$c->[1]", $auth);
        ($res, $j) = scim_req('acme', 'PUT', "/Users/$c->[1]", $auth,
                              { schemas => [$CORE], userName => $j->{userName}, active => JSON::PP::true });
        is($res->code, 200, "$c->[0] can still be replaced under its own name (PUT)") or diag $res->content;
    }
    ($res) = scim_req('acme', 'POST', '/Users', $auth, { schemas => [$CORE], userName => lc $kept });
    is($res->code, 409, 'a third spelling of the name is still refused');
    # userName eq finds both, in creation order, and counts both on every
    # page: a first page that is not full (its length is the total), a
    # full one and later ones (the total counted)
    my $f = '/Users?filter=' . fq(qq{userName eq "$kept"});
    for my $c (['', 2, [$kept_id, $twin_id]], ['&count=1', 2, [$kept_id]],
               ['&startIndex=1&count=2', 2, [$kept_id, $twin_id]],
               ['&startIndex=2&count=1', 2, [$twin_id]], ['&startIndex=3&count=1', 2, []],
               ['&startIndex=2', 2, [$twin_id]], ['&startIndex=2147483647&count=1', 2, []]) {
        ($res, $j) = scim_req('acme', 'GET', "$f$c->[0]", $auth);
        is($res->code, 200, "userName eq a name with an exempt twin$c->[0]: 200") or diag $res->content;
        is($j->{totalResults}, $c->[1], "... totalResults $c->[1]");
        is_deeply([map { $_->{id} } @{ $j->{Resources} // [] }], $c->[2],
                  '... ' . scalar(@{ $c->[2] }) . ' resource(s), the kept row first');
    }
    sql("DELETE FROM accounts WHERE id IN ('$kept_id', '$twin_id')");
}

# ---- migration 3 on rows that already collide
{
    my $s = scratch_db('n92', 2);
    my $run = $s->{run};
    $run->("INSERT INTO tenants (slug, name) VALUES ('t1', 'T1'), ('t2', 'T2')");
    # the old unique index (lower(upper())) lets these in together
    my @users = (['t1', 'alice', 1], ['t1', 'ａｌｉｃｅ', 2], ['t1', 'Ａｌice', 3], ['t1', 'bob', 4],
                 ['t1', 'ﬁx', 5], ['t1', 'FIX', 6], ['t2', 'ａｌｉｃｅ', 7]);
    for my $u (@users) {
        $run->("INSERT INTO accounts (tenant_id, kind, user_name, billable, created_at) "
               . "SELECT id, 'user', '$u->[1]', true, now() - interval '$u->[2] min' * -1 FROM tenants WHERE slug = '$u->[0]'");
    }
    $run->("INSERT INTO groups (tenant_id, display_name, created_at) SELECT id, 'Ops', now() FROM tenants WHERE slug = 't1'");
    $run->("INSERT INTO groups (tenant_id, display_name, created_at) SELECT id, 'ＯＰＳ', now() + interval '1 min' FROM tenants WHERE slug = 't1'");
    my $before = $run->("SELECT string_agg(id || '=' || user_name, ',' ORDER BY id) FROM accounts");
    is($run->('SELECT count(*) FROM accounts'), 7, 'seven accounts, four of them twins under NFKC');
    my $conninfo = $s->{conninfo};
    my ($rc, $out) = scimctl('--db', $conninfo, 'migrate');
    $out = Encode::decode_utf8($out);
    is($rc, 0, 'scimctl migrate succeeds') or diag $out;
    like($out, qr/applied 003_name_keys/, 'applies 003_name_keys') or diag $out;
    for my $twin ('ａｌｉｃｅ', 'Ａｌice', 'FIX', 'ＯＰＳ') {
        like($out, qr/warning.*'\Q$twin\E'/, "prints a warning naming '$twin'") or diag $out;
    }
    unlike($out, qr/'bob'/, 'and none for a name without a twin');
    unlike($out, qr/tenant t2/, 'nor for the same name in another tenant');
    is($run->("SELECT string_agg(id || '=' || user_name, ',' ORDER BY id) FROM accounts"), $before,
       'no account lost or renamed');
    is($run->("SELECT string_agg(user_name, ',' ORDER BY user_name) FROM accounts WHERE name_key_exempt IS NOT NULL"),
       join(',', sort 'FIX', 'ａｌｉｃｅ', 'Ａｌice'), 'the later twins are marked exempt');
    is($run->("SELECT string_agg(display_name, ',') FROM groups WHERE name_key_exempt IS NOT NULL"), 'ＯＰＳ',
       'and the later group');
    my $t1 = $run->("SELECT id FROM tenants WHERE slug = 't1'");
    is($run->("INSERT INTO accounts (tenant_id, kind, user_name, billable) VALUES ('$t1', 'user', 'Bob', true) "
              . "ON CONFLICT DO NOTHING RETURNING id"), '', 'a new twin is refused by the index');
    is($run->("UPDATE accounts SET display_name = 'x' WHERE user_name = 'Ａｌice' RETURNING name_key_exempt IS NOT NULL"),
       't', 'an exempt row keeps working');
    is($run->("UPDATE accounts SET user_name = 'alice2' WHERE user_name = 'Ａｌice' RETURNING name_key_exempt IS NULL"),
       't', 'renamed, it is no longer exempt');
    my ($status) = $s->{try}->("UPDATE accounts SET user_name = 'ALICE2' WHERE user_name = 'ａｌｉｃｅ'");
    isnt($status, 0, 'renaming another exempt row to that key fails (unique index)');
    is($run->("SELECT count(*) FROM accounts WHERE scim_name_key(user_name) = scim_name_key('alice2')"), 1,
       'so the new name stays unique');
    ($rc, $out) = scimctl('--db', $conninfo, 'migrate');
    like($out, qr/already at version/, 'migrate again: nothing to do');
}

sql("DELETE FROM groups WHERE tenant_id = '$tenant' AND scim_name_key(display_name) LIKE scim_name_key('$tag') || '%'");
sql("DELETE FROM accounts WHERE tenant_id = '$tenant' AND scim_name_key(user_name) LIKE scim_name_key('$tag') || '%'");
done_testing();
