package ScimMail;
# Helpers of the reminder tests (t/60-reminders.t, t/61-two-servers.t): the
# messages that t/bin/capture-mail wrote, and polling.
use strict;
use warnings;
use Exporter 'import';
use MIME::Base64 ();
use Time::HiRes ();
use ScimTest;

our @EXPORT = qw(mail_dir read_mails mails_for wait_for decode_subject
                 set_days_left iso_expiry outbox_rows);

sub mail_dir { run_dir() . '/mail' }

# One captured message: raw text, headers (lower-case name -> list of
# unfolded values), body, and what it is about (token id from the body,
# outbox id from the Message-ID).
sub parse_mail {
    my ($file) = @_;
    open(my $fh, '<:raw', $file) or return undef;
    local $/;
    my $raw = <$fh>;
    close $fh;
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    $body //= '';
    (my $unfolded = $head) =~ s/\r\n(?=[ \t])//g;
    my %h;
    for my $line (split /\r\n/, $unfolded) {
        my ($n, $v) = $line =~ /^([^:\s]+):[ \t]?(.*)$/ or next;
        push @{ $h{lc $n} }, $v;
    }
    my ($token) = $body =~ /Token id:\s+(\S+)/;
    my ($outbox) = (($h{'message-id'} // [''])->[0]) =~ /^<reminder-([0-9a-f-]{36})\@/;
    return { file => $file, raw => $raw, head => $head, body => $body, h => \%h,
             token => $token // '', outbox => $outbox // '' };
}

# All messages in a directory (default: the main server's).
sub read_mails {
    my ($dir) = @_;
    $dir //= mail_dir();
    opendir(my $dh, $dir) or return ();
    my @files = sort grep { /\.eml$/ } readdir $dh;
    closedir $dh;
    return grep { defined } map { parse_mail("$dir/$_") } @files;
}

# Messages about one token, in one directory (default: the main server's).
sub mails_for {
    my ($token, $dir) = @_;
    return grep { $_->{token} eq $token } read_mails($dir);
}

# Poll until the code returns true or the timeout (seconds, default 15)
# passes; returns the last result.
sub wait_for {
    my ($code, $timeout) = @_;
    my $end = Time::HiRes::time() + ($timeout // 15);
    my $r;
    while (!($r = $code->()) && Time::HiRes::time() < $end) {
        Time::HiRes::sleep(0.2);
    }
    return $r;
}

# A Subject made of RFC 2047 B encoded-words, as UTF-8 bytes.
sub decode_subject {
    my ($v) = @_;
    return join '', map { MIME::Base64::decode_base64($_) } $v =~ /=\?UTF-8\?B\?([^?]*)\?=/g;
}

# Move a token's expiry to now + seconds (created_at follows, so that the
# table's checks on the lifetime hold).
sub set_days_left {
    my ($token_id, $seconds) = @_;
    sql("UPDATE tokens SET created_at = now() + make_interval(secs => $seconds) - interval '365 days', "
        . "expires_at = now() + make_interval(secs => $seconds) WHERE id = '$token_id'");
}

sub iso_expiry {
    my ($token_id) = @_;
    return sql(qq{SELECT to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') }
               . "FROM tokens WHERE id = '$token_id'");
}

# Outbox rows of some tokens: hashes with id, token_id, threshold_days,
# recipient, status, attempts, last_error.
sub outbox_rows {
    my @ids = @_;
    my $in = join ',', map { "'$_'" } @ids;
    return map {
        my %r;
        @r{qw(id token_id threshold_days recipient status attempts last_error)} = @$_;
        \%r
    } sql_rows("SELECT id, token_id, threshold_days, recipient, status, attempts, "
               . "coalesce(last_error, '') FROM reminder_outbox WHERE token_id IN ($in) "
               . "ORDER BY token_id, threshold_days, recipient");
}

1;
