# Runs last: any [error] or [warn] line from the module in the error log that
# no test expected fails the run.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();

# Tags that tests provoke on purpose.
my %expected = (
    'SCIM00048' => 'admin location of a tenant the database does not know',
    # t/60-reminders.t makes the mail program fail until a reminder is given up
    'SCIM00106' => 'expiry reminder given up after SCIMNotifyMaxAttempts',
    # a database outage (t/90) or failover while uses wait in shared memory:
    # the flush is retried at the next interval
    'SCIM00191' => 'last use of tokens not flushed while the database is down',
);
my $file = Apache::Test::vars('t_logs') . '/error_log';
# t/90-db-outage.t stops the database, t/30-tokens.t and t/69-sqlstate.t end
# the module's connections on purpose: the errors that causes lie between the two byte
# offsets each records.
my @skip;
for my $name ('outage-window', 'clock-window', 'lc-messages-window') {
    next unless open(my $w, '<', "$ENV{SCIM_TEST_RUN}/$name");
    push @skip, map { [split ' ', $_] } grep { /\S/ } <$w>;  # one window a line
}
open(my $fh, '<', $file) or die "$file: $!";
my (@unexpected, $n);
while (1) {
    my $at = tell $fh;
    my $line = <$fh>;
    last unless defined $line;
    next if grep { $at >= $_->[0] && $at < $_->[1] } @skip;
    next unless $line =~ /\[scim_provision:(error|warn|crit|alert|emerg)\]/;
    $n++;
    my ($tag) = $line =~ /(SCIM\d{5}):/;
    push @unexpected, $line unless $tag && $expected{$tag};
}
is(scalar @unexpected, 0, 'no unexpected [error]/[warn] line from mod_scim_provision')
    or diag join '', @unexpected;
# A crashed child is logged by httpd's core at notice level ("exit signal
# Segmentation fault"), a sanitizer writes its report to the same file:
# whatever the level or the module, any of these fails the run.
seek $fh, 0, 0;
my @crashes;
while (my $line = <$fh>) {
    push @crashes, $line
        if $line =~ /exit signal|Segmentation fault|AddressSanitizer|LeakSanitizer|runtime error:/;
}
is(scalar @crashes, 0, 'no crashed child and no sanitizer report in the error log')
    or diag join '', @crashes[0 .. ($#crashes < 20 ? $#crashes : 19)];
unlike(do { seek $fh, 0, 0; local $/; <$fh> }, qr/Authorization:|Bearer ey/i,
       'no Authorization header or bearer token in the error log');
done_testing();
