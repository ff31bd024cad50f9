# Expiry reminders on the real stack (SPEC 3.6): the watchdog job of the
# running httpd (SCIMNotifyInterval 1) mails every Customer Administrator of
# the tenant once per (token, threshold) through t/bin/capture-mail. Expiry is
# moved through the database to sit just inside each threshold. Only this
# file's tokens are looked at: the other tests' tokens have a year left.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use HTTP::Request ();
use LWP::UserAgent ();
use ScimTest;
use ScimMail;

my $DAY = 86400;
my $maildir = mail_dir();
my $fail = "$maildir/FAIL";
END { unlink $fail if $fail }

my %customers = map { $_->[0] => $_->[1] } sql_rows(
    "SELECT a.email, a.id FROM administrators a JOIN tenants t ON t.id = a.tenant_id "
    . "WHERE t.slug = 'acme' AND a.role = 'customer'");
my $ncust = keys %customers;
ok($customers{'alice@acme.example'} && $customers{'alex@acme.example'},
   "acme's Customer Administrators: alice and alex ($ncust in all)");
my $sysadmin = sql("SELECT id FROM administrators WHERE username = 'sysadmin' AND role = 'system'");
ok($sysadmin, 'sysadmin is a system administrator');
ok(-d $maildir, "the capturing mail program writes to $maildir");

sub delete_token {
    my ($idp, $id) = @_;
    my $req = HTTP::Request->new(DELETE => base_url() . "/t/acme/provisioning/api/identity-providers/$idp/tokens/$id");
    $req->authorization_basic('alice', 'pw-alice');
    return LWP::UserAgent->new(timeout => 30)->request($req)->code;
}

sub new_token {
    my ($idp) = @_;
    my ($res, $j) = create_token('alice', 'acme', $idp);
    die 'create_token: ' . $res->status_line . "\n" unless $res->code == 201;
    return $j;
}

# Mails of a token for one threshold (through the Message-ID's outbox row).
sub mails_at {
    my ($token, $days) = @_;
    my %th = map { $_->{id} => $_->{threshold_days} } outbox_rows($token);
    return grep { ($th{ $_->{outbox} } // -1) == $days } mails_for($token);
}

# --- 1. every threshold, one after the other --------------------------------
my $idp1 = new_idp('alice', 'acme', 'okta', 'Reminder Okta');
my $t1 = new_token($idp1);
my $jti1 = sql("SELECT jti FROM tokens WHERE id = '$t1->{id}'");
sleep 2;
is(scalar(outbox_rows($t1->{id})), 0, 'a token with a year left has no reminder');

my %expiry;
for my $d (30, 14, 7, 3, 1) {
    set_days_left($t1->{id}, $d * $DAY - 60);
    $expiry{$d} = iso_expiry($t1->{id});
    ok(wait_for(sub { mails_at($t1->{id}, $d) >= $ncust }),
       "$d days before expiry: a reminder for each Customer Administrator");
}
sleep 3; # several more runs of the job: nothing more may arrive
{
    my @mails = mails_for($t1->{id});
    my @rows = outbox_rows($t1->{id});
    is(scalar @mails, 5 * $ncust, 'exactly one mail per (token, threshold, recipient)');
    is(scalar @rows, 5 * $ncust, 'one outbox row per (token, threshold, recipient)');
    is(scalar(grep { $_->{status} eq 'sent' && $_->{attempts} == 1 } @rows), 5 * $ncust,
       'every row sent at the first attempt');
    my %seen;
    $seen{ $_->{h}{'message-id'}[0] }++ for @mails;
    is(scalar(grep { $_ > 1 } values %seen), 0, 'every Message-ID once');
    my %pair;
    my %row = map { $_->{id} => $_ } @rows;
    $pair{ "$row{$_->{outbox}}{threshold_days}/$_->{h}{to}[0]" }++ for grep { $row{ $_->{outbox} } } @mails;
    is_deeply([sort keys %pair],
              [sort map { my $d = $_; map { "$d/$_" } keys %customers } 30, 14, 7, 3, 1],
              'each threshold reached each Customer Administrator');
    is(scalar(grep { $_->{h}{to}[0] eq 'root@example.com' } @mails), 0, 'the system administrator got nothing');
}

# --- 2. the message ----------------------------------------------------------
{
    my ($m) = grep { $_->{h}{to}[0] eq 'alice@acme.example' } mails_at($t1->{id}, 7);
    ok($m, 'the 7-day reminder to alice') or BAIL_OUT('no message to look at');
    my ($row) = grep { $_->{id} eq $m->{outbox} } outbox_rows($t1->{id});
    my $h = $m->{h};
    is($h->{from}[0], 'provisioning@test.example', 'From: SCIMMailFrom');
    is($h->{to}[0], 'alice@acme.example', 'To: the Customer Administrator');
    like($h->{date}[0], qr/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$/,
         'Date in RFC 5322 form, UTC');
    is($h->{'message-id'}[0], "<reminder-$row->{id}\@test.example>", 'Message-ID made from the outbox row');
    is($h->{'mime-version'}[0], '1.0', 'MIME-Version');
    is($h->{'content-type'}[0], 'text/plain; charset=utf-8', 'Content-Type');
    is($h->{'content-transfer-encoding'}[0], '8bit', 'Content-Transfer-Encoding');
    is($h->{subject}[0], 'Provisioning token for Reminder Okta (Okta) expires in 7 days',
       'Subject names the identity provider and the days left');
    for my $n (keys %$h) {
        is(scalar @{ $h->{$n} }, 1, "one $n header") if $n =~ /^(from|to|subject|date|message-id)$/;
    }
    like($m->{body}, qr/Acme Corp \(acme\)/, 'body: tenant name and slug');
    like($m->{body}, qr/\Q$t1->{userName}\E/, 'body: provisioning username');
    like($m->{body}, qr/Token id:\s+\Q$t1->{id}\E/, 'body: token id');
    my $exp7 = $expiry{7};
    like($m->{body}, qr/Expires \(UTC\):\s+\Q$exp7\E/, 'body: exact expiry in UTC');
    like($m->{body}, qr{https://admin\.test\.example/t/acme/provisioning/}, 'body: link from SCIMAdminURL');
    unlike($m->{raw}, qr/(?<!\r)\n/, 'CRLF line endings only');
    for my $mail (mails_for($t1->{id})) {
        my $sig = (split /\./, $t1->{token})[2];
        ok(index($mail->{raw}, $t1->{token}) < 0 && index($mail->{raw}, $sig) < 0
           && index($mail->{raw}, $jti1) < 0, "no token, signature or jti in $mail->{h}{subject}[0] to $mail->{h}{to}[0]");
    }
    my $logs = Apache::Test::vars('t_logs');
    open(my $fh, '<', "$logs/error_log") or die $!;
    my @sent = grep { /SCIM00104:.*\Q$row->{id}\E/ } <$fh>;
    is(scalar @sent, 1, 'one log line for the sent reminder');
}

# --- 3. catch-up after an outage: only the nearest threshold -----------------
my $idp2 = new_idp('alice', 'acme', 'entra', 'Reminder Entra');
my $t2 = new_token($idp2);
set_days_left($t2->{id}, 3 * $DAY - 60); # 30, 14, 7 and 3 crossed at once
ok(wait_for(sub { mails_for($t2->{id}) >= $ncust }), 'after an outage: reminders arrive');
sleep 3;
{
    my @mails = mails_for($t2->{id});
    is(scalar @mails, $ncust, 'only one reminder per recipient, not a burst');
    is(scalar(grep { $_->{h}{subject}[0] eq 'Provisioning token for Reminder Entra (Microsoft Entra ID) expires in 3 days' } @mails),
       $ncust, 'the nearest threshold (3 days) is the one mailed');
    my @rows = outbox_rows($t2->{id});
    is(scalar(grep { $_->{threshold_days} == 3 && $_->{status} eq 'sent' } @rows), $ncust, '3-day rows sent');
    is(scalar(grep { $_->{threshold_days} > 3 && $_->{status} eq 'skipped' } @rows), 3 * $ncust,
       'the older crossed thresholds (30, 14, 7) are recorded as skipped');
    is(scalar(grep { $_->{threshold_days} < 3 } @rows), 0, 'nothing for thresholds not crossed yet');
}

# --- 4. database values cannot inject headers; non-ASCII subject -------------
my $idp3 = new_idp('alice', 'acme', 'okta', 'Plain name');
sql("UPDATE identity_providers SET name = E'Pr\\u00fcfung \\u00d6l \\u65e5\\u672c\\r\\nBcc: evil\@example.com\\r\\n\\r\\nbody' WHERE id = '$idp3'");
my $t3 = new_token($idp3);
set_days_left($t3->{id}, 14 * $DAY - 60);
ok(wait_for(sub { mails_for($t3->{id}) >= $ncust }), 'reminders for a provider with CR/LF and non-ASCII in its name');
{
    my ($m) = mails_for($t3->{id});
    my $expected = "Provisioning token for Pr\xc3\xbcfung \xc3\x96l \xe6\x97\xa5\xe6\x9c\xac Bcc: evil\@example.com body (Okta) expires in 14 days";
    ok(!exists $m->{h}{bcc}, 'no Bcc header');
    is_deeply([sort keys %{ $m->{h} }],
              [sort qw(from to subject date message-id mime-version content-type content-transfer-encoding auto-submitted)],
              'only the module\'s own headers');
    unlike($m->{head}, qr/[^\x00-\x7f]/, 'headers are ASCII');
    like($m->{h}{subject}[0], qr/^(=\?UTF-8\?B\?[A-Za-z0-9+\/=]+\?= ?)+$/, 'Subject RFC 2047-encoded');
    is(decode_subject($m->{h}{subject}[0]), $expected, 'Subject decodes to the name, controls made spaces');
    like($m->{body}, qr/Pr\xc3\xbcfung \xc3\x96l \xe6\x97\xa5\xe6\x9c\xac Bcc: evil\@example.com body \(Okta\)/, 'body has the name on one line, UTF-8');
}

# --- 5. deleted and expired tokens get nothing -------------------------------
my $t4 = new_token($idp3);
is(delete_token($idp3, $t4->{id}), 204, 'token deleted through the API');
set_days_left($t4->{id}, 1 * $DAY - 60);
my $t5 = new_token($idp1);
set_days_left($t5->{id}, -60);
sleep 4;
is(scalar(outbox_rows($t4->{id}, $t5->{id})), 0, 'no reminder row for a deleted or an expired token');
is(scalar(mails_for($t4->{id})) + scalar(mails_for($t5->{id})), 0, 'no mail for them');

# --- 6. a reminder still pending when its token is deleted -------------------
my $idp4 = new_idp('alice', 'acme', 'okta', 'Deleted while pending');
open(my $ff, '>', $fail) or die "$fail: $!";
close $ff;
my $t6 = new_token($idp4);
set_days_left($t6->{id}, 7 * $DAY - 60);
# An attempt counts when it is claimed, before the mail program runs: wait
# for its failure to be recorded (last_error), so that no delivery is under
# way when the token goes.
ok(wait_for(sub { my @r = grep { $_->{threshold_days} == 7 } outbox_rows($t6->{id});
                  @r == $ncust && !grep { $_->{attempts} < 1 || $_->{status} ne 'pending'
                                          || $_->{last_error} eq '' } @r }),
   'mail program failing: the reminders wait for a retry');
is(delete_token($idp4, $t6->{id}), 204, 'then the token is deleted');
# The mail program keeps failing until the rows are skipped: a retry claimed
# just before the deletion cannot deliver after it.
ok(wait_for(sub { my @r = grep { $_->{threshold_days} == 7 } outbox_rows($t6->{id});
                  @r == $ncust && !grep { $_->{status} ne 'skipped' } @r }),
   'the pending reminders are skipped, not sent');
unlink $fail;
is(scalar(mails_for($t6->{id})), 0, 'no mail for the deleted token');

# --- 7. a failing mail program: retried, then given up -----------------------
my $idp5 = new_idp('alice', 'acme', 'okta', 'Failing mail');
open($ff, '>', $fail) or die "$fail: $!";
close $ff;
my $t7 = new_token($idp5);
set_days_left($t7->{id}, 30 * $DAY - 60);
ok(wait_for(sub { my @r = outbox_rows($t7->{id}); @r == $ncust && !grep { $_->{status} ne 'failed' } @r }, 25),
   'the reminders are given up');
{
    my @rows = outbox_rows($t7->{id});
    is(scalar(grep { $_->{attempts} == 3 } @rows), $ncust, 'after SCIMNotifyMaxAttempts (3) attempts each');
    like($rows[0]{last_error}, qr/exited with status 1: capture-mail: delivery refused/,
         'last_error has the exit status and the program\'s stderr');
    unlink $fail;
    sleep 3;
    is(scalar(mails_for($t7->{id})), 0, 'nothing is sent later');
    is(scalar(grep { $_->{status} ne 'failed' } outbox_rows($t7->{id})), 0, 'the rows stay failed');
    my $logs = Apache::Test::vars('t_logs');
    open(my $fh, '<', "$logs/error_log") or die $!;
    my @lines = <$fh>;
    for my $r (@rows) {
        my @given = grep { /\[scim_provision:error\].*SCIM00106: reminder \Q$r->{id}\E .*given up after 3 attempt/ } @lines;
        is(scalar @given, 1, "one error-log line for the given-up reminder to $r->{recipient}");
    }
    my @retries = grep { /SCIM00107: reminder \Q$rows[0]{id}\E/ } @lines;
    is(scalar @retries, 2, 'two retries logged (info) before giving up');
}

# --- nothing ever for the system administrator --------------------------------
is(sql("SELECT count(*) FROM reminder_outbox WHERE administrator_id = '$sysadmin'"), 0,
   'no reminder row for the system administrator');
is(scalar(grep { $_->{h}{to}[0] eq 'root@example.com' } read_mails()), 0, 'no mail to the system administrator');

done_testing();
