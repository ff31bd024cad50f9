# server-status shows the module's counters (SPEC 8), shared by all children.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use LWP::UserAgent ();
use ScimTest;

sub counters {
    my $r = LWP::UserAgent->new->get(base_url() . '/server-status?auto');
    return { $r->decoded_content =~ /^(SCIM\w+): (\d+)$/mg };
}
my $before = counters();
for my $name (qw(SCIMRequests SCIMAuthFailures SCIMTokensCreated SCIMTokensRefused
                 SCIMTokensDeleted SCIMDatabaseErrors SCIMRemindersSent SCIMRemindersFailed)) {
    ok(defined $before->{$name}, "server-status?auto shows $name");
}
cmp_ok($before->{SCIMTokensCreated}, '>', 0, 'tokens created earlier in the suite were counted');
cmp_ok($before->{SCIMDatabaseErrors}, '>', 0, 'the outage of t/90 was counted');
cmp_ok($before->{SCIMRemindersSent}, '>', 0, 'reminders of t/60 were counted');
cmp_ok($before->{SCIMRemindersFailed}, '>', 0, 'the reminder t/60 gave up on was counted');
my $idp = new_idp('alice', 'acme', 'entra', 'Status Entra');
(undef, my $t) = create_token('alice', 'acme', $idp);
scim_req('acme', 'GET', '/ServiceProviderConfig', "Bearer $t->{token}") for 1 .. 10;
scim_req('acme', 'GET', '/ServiceProviderConfig', 'Bearer nope') for 1 .. 3;
my $after = counters();
is($after->{SCIMTokensCreated} - $before->{SCIMTokensCreated}, 1, 'one more token created');
is($after->{SCIMRequests} - $before->{SCIMRequests}, 10, 'ten authenticated SCIM requests, across children');
is($after->{SCIMAuthFailures} - $before->{SCIMAuthFailures}, 3, 'three refused');
my $html = LWP::UserAgent->new->get(base_url() . '/server-status')->decoded_content;
like($html, qr{<h2>mod_scim_provision</h2>}, 'the HTML page has a section of its own');
done_testing();
