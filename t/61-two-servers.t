# Two httpd servers on one database (SPEC 3.6, 8): a second httpd with its
# own configuration, port and capture directory runs the reminder job next to
# the suite's server; every reminder must be delivered exactly once between
# them. A slow mail program (DELAY) keeps both jobs busy at the same time.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use IO::Socket::INET ();
use LWP::UserAgent ();
use Time::HiRes ();
use ScimTest;
use ScimMail;

my $DAY = 86400;
my $dir = run_dir() . '/second';
my $maildir2 = "$dir/mail";
my $maildir1 = mail_dir();
system('rm', '-rf', $dir);
mkdir $dir or die "$dir: $!";
mkdir $maildir2 or die "$maildir2: $!";

my $libexec = $ENV{SCIM_APXS_LIBEXECDIR};
my $httpd = Apache::Test::vars('httpd');
my $root = root_dir();
my $run = run_dir();
my $port = do {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!";
    my $p = $s->sockport;
    close $s;
    $p;
};
my $conf = "$dir/httpd.conf";
open(my $fh, '>', $conf) or die "$conf: $!";
print $fh <<"CONF";
ServerRoot $dir
ServerName 127.0.0.1
DefaultRuntimeDir $dir
PidFile $dir/httpd.pid
ErrorLog $dir/error_log
LogLevel warn scim_provision:info
Listen 127.0.0.1:$port
LoadModule mpm_event_module $libexec/mod_mpm_event.so
LoadModule authz_core_module $libexec/mod_authz_core.so
LoadModule dbd_module $libexec/mod_dbd.so
<IfModule !mod_watchdog.c>
    LoadModule watchdog_module $libexec/mod_watchdog.so
</IfModule>
LoadModule scim_provision_module $root/.libs/mod_scim_provision.so
StartServers 2
DBDriver pgsql
DBDParams "host=$ENV{SCIM_TEST_PGHOST} port=$ENV{SCIM_TEST_PGPORT} dbname=scim user=scim connect_timeout=5 options='-c statement_timeout=5000'"
DBDMin 0
DBDKeep 4
DBDMax 64
DBDExptime 60
SCIMTokenKeyFile $run/keys.jwks
SCIMTokenIssuer https://idp-gateway.test.example/scim
SCIMAssetsDir $root/www
SCIMMailCommand $root/t/bin/capture-mail $maildir2
SCIMMailFrom provisioning\@test.example
SCIMAdminURL https://admin.test.example/t/{tenant}/provisioning/
SCIMNotifyInterval 1
SCIMNotifyMaxAttempts 3
SCIMMailTimeout 5
<Location /t/acme/scim/v2>
    SetHandler scim-provision
    SCIMTenant acme
</Location>
CONF
close $fh;

my $out = `$httpd -f $conf -k start 2>&1`;
is($?, 0, 'second httpd starts') or diag $out;
my $pid;
END {
    if ($pid && kill(0, $pid)) {
        kill 'TERM', $pid;
    }
}
ok(wait_for(sub { -s "$dir/httpd.pid" }, 15), 'second httpd wrote its PID file');
$pid = do { open(my $p, '<', "$dir/httpd.pid") or die $!; local $/; my $x = <$p>; $x =~ /(\d+)/; $1 };
ok($pid && kill(0, $pid), "second httpd runs (pid $pid)");
my $res = wait_for(sub {
    my $r = LWP::UserAgent->new(timeout => 5)->get("http://127.0.0.1:$port/t/acme/scim/v2/Users");
    $r->code == 401 ? $r : undef;
}, 15);
ok($res, "second httpd answers on port $port (401 without a token)");
ok(wait_for(sub { open(my $l, '<', "$dir/error_log") or return; grep { /SCIM00100:/ } <$l> }, 15),
   'its reminder job runs');

# Both mail programs are slow, so both jobs deliver at the same time.
for my $d ($maildir1, $maildir2) {
    open(my $df, '>', "$d/DELAY") or die "$d/DELAY: $!";
    print $df "0.3\n";
    close $df;
}
END { unlink "$maildir1/DELAY", "$maildir2/DELAY" }

my $ncust = sql("SELECT count(*) FROM administrators a JOIN tenants t ON t.id = a.tenant_id "
                . "WHERE t.slug = 'acme' AND a.role = 'customer'");
my @tokens;
for my $i (1 .. 5) {
    my $idp = new_idp('alice', 'acme', $i % 2 ? 'okta' : 'entra', "Two servers $i");
    for (1 .. 2) {
        my ($r, $j) = create_token('alice', 'acme', $idp);
        is($r->code, 201, "token $_ of provider $i") or diag $r->decoded_content;
        push @tokens, $j->{id};
    }
}
my $in = join ',', map { "'$_'" } @tokens;
# all due at once, both servers running
sql("UPDATE tokens SET created_at = now() + make_interval(secs => " . (7 * $DAY - 60) . ") - interval '365 days', "
    . "expires_at = now() + make_interval(secs => " . (7 * $DAY - 60) . ") WHERE id IN ($in)");
my $expect = @tokens * $ncust;
ok(wait_for(sub { grep({ $_->{status} eq 'sent' } outbox_rows(@tokens)) == $expect }, 60),
   "all $expect reminders sent");
sleep 3; # a few more runs of both jobs

my %mine = map { $_ => 1 } @tokens;
my @m1 = grep { $mine{ $_->{token} } } read_mails($maildir1);
my @m2 = grep { $mine{ $_->{token} } } read_mails($maildir2);
diag(sprintf 'delivered by the suite\'s server: %d, by the second server: %d', scalar @m1, scalar @m2);
is(@m1 + @m2, $expect, 'every reminder delivered once between the two servers');
my %ids;
$ids{ $_->{h}{'message-id'}[0] }++ for @m1, @m2;
is(scalar keys %ids, $expect, 'as many Message-IDs as reminders');
is(scalar(grep { $_ != 1 } values %ids), 0, 'each Message-ID exactly once');
my %pairs;
$pairs{"$_->{token}/$_->{h}{to}[0]"}++ for @m1, @m2;
is(scalar keys %pairs, $expect, 'each (token, recipient) once');
ok(@m1 > 0 && @m2 > 0, 'both servers took part');
my @rows = outbox_rows(@tokens);
is(scalar(grep { $_->{threshold_days} == 7 && $_->{status} eq 'sent' && $_->{attempts} == 1 } @rows), $expect,
   'every row sent at its first claim');
is(scalar(grep { $_->{threshold_days} != 7 && $_->{status} ne 'skipped' } @rows), 0,
   'older thresholds skipped');

# Stop the second server by its PID.
kill 'TERM', $pid;
ok(wait_for(sub { !kill(0, $pid) }, 20), 'second httpd stopped');
{
    open(my $l, '<', "$dir/error_log") or die $!;
    my @bad = grep { /\[scim_provision:(error|warn|crit|alert|emerg)\]/ } <$l>;
    is(scalar @bad, 0, 'no [error]/[warn] from mod_scim_provision in its error log') or diag @bad;
}

done_testing();
