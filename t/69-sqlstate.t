# PostgreSQL's errors are told apart by their SQLSTATE, not by their text
# (issue 8): a server whose lc_messages is German answers the same as one in
# English. The store runs its statements with libpq in verbose mode, which
# writes the code into the message whatever its language.
# - test/fault/db_sqlstate_check: scim_db.c on this server, in C and in
#   de_DE.UTF-8: the codes of a duplicate key, a missing foreign key, a
#   division by zero and a statement timeout; a failed transaction keeps its
#   first code; the message keeps DETAIL and loses verbose mode's fields;
#   none of these is sent again by scim_db_hot (a sequence counts), a lost
#   connection is; libpq is verbose only while a statement of ours runs.
# - Over HTTP, first in English, then with the database's lc_messages German:
#   a user POST and a group POST that meet a concurrent writer of their name
#   on the unique index (the writer's transaction held open, so POST's NOT
#   EXISTS cannot see it) are answered 409 uniqueness; a group PATCH that adds a member
#   whose deletion commits meanwhile meets the foreign key and is answered
#   400, and nothing of either is stored.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use IO::Handle ();
use POSIX ();
use Time::HiRes ();
use ScimTest;

my $root = root_dir();
my $german = 'de_DE.UTF-8';
my $have_german = grep { lc($_) eq 'de_de.utf8' } split /\n/, `locale -a 2>/dev/null`;
ok($have_german, "the system has the locale $german (scripts/test.sh generates it as root)")
    or diag("locale $german is missing: scripts/test.sh generates it when run as root");
# whatever happens below, later tests find the database and the module's
# connections in their own language (the exit status stays this test's)
my $german_on = 0;
END {
    local $?;
    if ($german_on) {
        eval { sql("ALTER DATABASE scim RESET lc_messages"); fresh_sessions() };
    }
}

# --- scim_db.c on this server ---------------------------------------------
{
    my $bin = "$root/test/fault/db_sqlstate_check";
    ok(-x $bin, 'test/fault/db_sqlstate_check is built');
    my $langs = $have_german ? "C $german" : 'C';
    my $out = `$bin 'host=$ENV{SCIM_TEST_PGHOST} port=$ENV{SCIM_TEST_PGPORT} dbname=scim user=scim' $langs 2>&1`;
    is($? & 127, 0, 'db_sqlstate_check did not crash') or diag $out;
    my @tap = $out =~ /^((?:not )?ok \d+ - .*)$/mg;
    ok(@tap >= ($have_german ? 70 : 35), 'db_sqlstate_check ran its ' . scalar(@tap) . ' checks')
        or diag $out;
    ok($_ !~ /^not/, "db_sqlstate_check: $_") for @tap;
    is($? >> 8, 0, 'db_sqlstate_check exited 0');
}

# --- over HTTP ------------------------------------------------------------
my ($auth) = scim_auth('alice', 'acme', 'okta', 'SQLSTATE Okta');
my $tenant = sql("SELECT id FROM tenants WHERE slug = 'acme'");
my $tag = uniq_name('t69');

# A psql session of our own that runs $sql in a transaction and holds it
# open; returns its handle (print "COMMIT;\n" and close it to end it).
sub held {
    my ($sql) = @_;
    open(my $ps, '|-', ScimTest::psql_cmd()) or die "psql: $!";
    $ps->autoflush(1);
    print $ps "SET application_name = 't69-held'; BEGIN; $sql;\n";
    for (1 .. 200) {
        last if sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 't69-held' "
                    . "AND state = 'idle in transaction'");
        Time::HiRes::sleep(0.05);
    }
    return $ps;
}

# The request in a child, while a held transaction blocks it: wait until a
# backend of the module waits for a lock, end the held transaction, and
# return (whether one waited, then the answer's code, scimType and detail).
sub blocked_request {
    my ($ps, @req) = @_;
    my $out = run_dir() . "/t69-answer-$$";
    unlink $out;
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        my ($r, $b) = scim_req(@req);
        open(my $fh, '>', $out) or POSIX::_exit(1);
        print $fh join("\t", $r->code, $b && $b->{scimType} // '', $b && $b->{detail} // ''), "\n";
        close $fh;
        POSIX::_exit(0);
    }
    my $waited = 0;
    for (1 .. 200) {
        $waited = sql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'scim' "
                      . "AND wait_event_type = 'Lock' AND application_name <> 't69-held'");
        last if $waited;
        Time::HiRes::sleep(0.05);
    }
    print $ps "COMMIT;\n";
    close $ps;
    waitpid($pid, 0);
    open(my $fh, '<', $out) or return ($waited, 'no answer', '', '');
    chomp(my $line = <$fh> // '');
    my @answer = split /\t/, $line, -1;
    return ($waited, map { $_ // '' } @answer[0 .. 2]);
}

my $n = 0;
sub races {
    my ($lang) = @_;
    $n++;
    # a user POST against a concurrent writer of the same name
    my $name = "$tag-$n\@example.com";
    my $ps = held("INSERT INTO accounts (tenant_id, kind, user_name, billable) "
                  . "VALUES ('$tenant', 'user', '$name', true)");
    my ($waited, $code, $type) = blocked_request($ps, 'acme', 'POST', '/Users', $auth,
                                                 user_body(userName => $name));
    ok($waited, "[$lang] POST /Users waited for the concurrent writer on the unique index");
    is($code, 409, "[$lang] and was answered 409");
    is($type, 'uniqueness', "[$lang] scimType uniqueness");
    is(sql("SELECT count(*) FROM accounts WHERE tenant_id = '$tenant' AND user_name = '$name'"), 1,
       "[$lang] one user of that name: the writer's");

    # a group POST against a concurrent writer of the same displayName
    my $gname = "$tag-$n-taken";
    $ps = held("INSERT INTO groups (tenant_id, display_name) VALUES ('$tenant', '$gname')");
    ($waited, $code, $type) = blocked_request($ps, 'acme', 'POST', '/Groups', $auth,
                                              { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'],
                                                displayName => $gname });
    ok($waited, "[$lang] POST /Groups waited for the concurrent writer on the unique index");
    is($code, 409, "[$lang] and was answered 409");
    is($type, 'uniqueness', "[$lang] scimType uniqueness");
    is(sql("SELECT count(*) FROM groups WHERE tenant_id = '$tenant' AND display_name = '$gname'"), 1,
       "[$lang] one group of that name: the writer's");

    # a group PATCH that adds a member whose deletion commits meanwhile
    my ($r, $u) = scim_req('acme', 'POST', '/Users', $auth, user_body(userName => "$tag-$n-m\@example.com"));
    is($r->code, 201, "[$lang] a user to add") or diag $r->decoded_content;
    my ($gr, $g) = scim_req('acme', 'POST', '/Groups', $auth,
                            { schemas => ['urn:ietf:params:scim:schemas:core:2.0:Group'],
                              displayName => "$tag-$n-group" });
    is($gr->code, 201, "[$lang] a group without members") or diag $gr->decoded_content;
    my $gv = sql("SELECT version FROM groups WHERE id = '$g->{id}'");
    $ps = held("DELETE FROM accounts WHERE id = '$u->{id}'");
    ($waited, $code, $type, my $detail) = blocked_request(
        $ps, 'acme', 'PATCH', "/Groups/$g->{id}", $auth,
        patch_body({ op => 'add', path => 'members', value => [{ value => $u->{id} }] }));
    ok($waited, "[$lang] the group PATCH waited for the member's deletion");
    is($code, 400, "[$lang] and was answered 400 (the foreign key refused the member)");
    is($type, 'invalidValue', "[$lang] scimType invalidValue");
    like($detail, qr/member/, "[$lang] detail names the member ($detail)");
    is(sql("SELECT count(*) FROM group_members WHERE group_id = '$g->{id}'"), 0,
       "[$lang] and the group has no member");
    is(sql("SELECT version FROM groups WHERE id = '$g->{id}'"), $gv, "[$lang] nor a new version");
}

races('English');

# The module's connections are ended on purpose twice: t/zz-error-log.t
# skips the lines of those two moments (the background workers log a
# warning when they meet an ended connection), and no other.
my $log = Apache::Test::vars('t_logs') . '/error_log';
my @windows;
sub ended_connections {
    my $from = -s $log;
    fresh_sessions();
    sleep 3; # the workers run every second: let them meet their ended connections
    push @windows, "$from " . (-s $log);
}
SKIP: {
skip("no locale $german", 1) unless $have_german;
$german_on = 1;
sql("ALTER DATABASE scim SET lc_messages = '$german'");
ended_connections();
is(sql('SHOW lc_messages'), $german, 'new sessions speak German');
my $div = `psql -X -q -h $ENV{SCIM_TEST_PGHOST} -p $ENV{SCIM_TEST_PGPORT} -U scim -d scim -c 'SELECT 1/0' 2>&1`;
like($div, qr/Division durch Null/, 'PostgreSQL says so in German');
my $german_backends = sql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'scim' "
                          . "AND backend_type = 'client backend' AND application_name = ''");
cmp_ok($german_backends, '>', 0, "the module's new connections are there ($german_backends)");
races('German');

sql("ALTER DATABASE scim RESET lc_messages");
ended_connections();
$german_on = 0;
isnt(sql('SHOW lc_messages'), $german, 'sessions are back in their language');
open(my $w, '>', run_dir() . '/lc-messages-window') or die "lc-messages-window: $!";
print $w "$_\n" for @windows;
close $w;
}

done_testing();
