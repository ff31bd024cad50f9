# Two httpd servers on one database (SPEC 3.6, 8): a second httpd with its
# own configuration, port and capture directory runs the reminder job next to
# the suite's server; every reminder must be delivered exactly once between
# them. A slow mail program (DELAY) keeps both jobs busy at the same time.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use LWP::UserAgent ();
use Time::HiRes ();
use ScimTest;
use ScimMail;
use ScimHttpd;

my $DAY = 86400;
my $maildir1 = mail_dir();
my ($root, $run) = (root_dir(), run_dir());
my $srv = start_httpd(dir => "$run/second",
                      dbparams => "host=$ENV{SCIM_TEST_PGHOST} port=$ENV{SCIM_TEST_PGPORT} dbname=scim "
                                  . "user=scim connect_timeout=5 options='-c statement_timeout=5000'",
                      mail => "$run/second/mail");
my ($dir, $port, $pid) = @$srv{qw(dir port pid)};
my $maildir2 = "$dir/mail";
-d $maildir2 or mkdir $maildir2 or die "$maildir2: $!";
ok($pid, 'second httpd starts and writes its PID file') or diag $srv->{out};
ok($pid && kill(0, $pid), "second httpd runs (pid " . ($pid // 'none') . ")");
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
