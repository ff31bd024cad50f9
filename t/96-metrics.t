# Metrics for Prometheus (SPEC 8, issue 9 point 5): `SetHandler
# scim-provision-metrics` serves OpenMetrics text that Debian's strict
# parser (python3-prometheus-client's openmetrics parser) accepts; the
# counts move by exactly the requests this test makes.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();
use Time::HiRes ();
use ScimTest;

my $PY = '/usr/bin/python3';
my $json = JSON::PP->new->canonical;
my $parser = run_dir() . '/t96-parse.py';
{
    open(my $fh, '>', $parser) or die "$parser: $!";
    print $fh <<'PY';
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
try:
    for fam in text_string_to_metric_families(sys.stdin.read()):
        for s in fam.samples:
            out.append({"family": fam.name, "type": fam.type, "unit": fam.unit,
                        "name": s.name, "labels": s.labels, "value": s.value})
except Exception as e:
    print(json.dumps({"error": str(e)}))
    sys.exit(0)
print(json.dumps({"samples": out}))
PY
    close $fh;
}

# Parse with the strict parser: (error or undef, samples).
sub parse_om {
    my ($text) = @_;
    my $tmp = run_dir() . '/t96-input.txt';
    open(my $fh, '>', $tmp) or die $!;
    print $fh $text;
    close $fh;
    my $out = `$PY $parser < $tmp 2>&1`;
    my $d = eval { $json->decode($out) } or return ("parser said: $out", []);
    return ($d->{error}, $d->{samples} // []);
}

sub scrape {
    my $r = LWP::UserAgent->new(timeout => 30)->get(base_url() . '/metrics');
    die 'scrape: ' . $r->status_line unless $r->code == 200;
    return $r;
}

# sample name + labels -> value
sub index_of {
    my %h;
    for my $s (@_) {
        my $k = join ',', $s->{name}, map { "$_=$s->{labels}{$_}" } sort keys %{ $s->{labels} };
        $h{$k} = $s->{value};
    }
    return \%h;
}
sub key { my ($name, %l) = @_; join ',', $name, map { "$_=$l{$_}" } sort keys %l }

ok(-x $PY && system($PY, '-c', 'import prometheus_client.openmetrics.parser') == 0,
   'python3-prometheus-client is installed');

# The parser is strict: it refuses what OpenMetrics forbids.
{
    my ($e) = parse_om("# TYPE x counter\nx_total 1\n");
    ok($e, "no # EOF: refused ($e)");
    ($e) = parse_om("# TYPE h histogram\nh_bucket{le=\"1.0\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 0\n# EOF\n");
    ok($e, "decreasing buckets: refused ($e)");
}

my $r0 = scrape();
is($r0->header('Content-Type'), 'application/openmetrics-text; version=1.0.0; charset=utf-8', 'Content-Type');
like($r0->decoded_content, qr/\n# EOF\n\z/, 'ends with # EOF');
# OpenMetrics allows a quote in a HELP text only escaped (the Python parser
# lets a raw one through, so check it here)
unlike($r0->decoded_content, qr/^# HELP (?:[^\\"\n]|\\.)*"/m, 'no raw " in a HELP text');
my ($err, $s0) = parse_om($r0->decoded_content);
ok(!$err, 'the strict OpenMetrics parser accepts the output') or diag $err;
my $before = index_of(@$s0);
my %fam = map { $_->{family} => $_->{type} } @$s0;
my %expect = (
    mod_scim_requests => 'counter',
    mod_scim_request_duration_seconds => 'histogram',
    mod_scim_token_rejections => 'counter',
    mod_scim_database_errors => 'counter',
    mod_scim_reminders => 'counter',
    mod_scim_tokens_live => 'gauge',
    mod_scim_last_used_slots => 'gauge',
    mod_scim_last_used_dropped => 'counter',
    mod_scim_last_used_flushes => 'counter',
);
is($fam{$_}, $expect{$_}, "$_ is a $expect{$_}") for sort keys %expect;
my %units = map { $_->{family} => $_->{unit} } @$s0;
is($units{mod_scim_request_duration_seconds}, 'seconds', 'the histogram has UNIT seconds');
for my $t (qw(acme globex initech)) {
    ok(defined $before->{ key('mod_scim_request_duration_seconds_bucket', tenant => $t, le => '+Inf') },
       "a latency histogram for $t");
    ok(defined $before->{ key('mod_scim_token_rejections_total', tenant => $t, reason => 'missing') },
       "rejections of $t by reason");
}
# The global counters are the ones server-status shows (t/95 checks that
# the outage of t/90 and the reminders of t/60 are counted there).
{
    my $st = LWP::UserAgent->new->get(base_url() . '/server-status?auto')->decoded_content;
    my %st = $st =~ /^(SCIM\w+): (\d+)$/mg;
    my $r = scrape();
    my (undef, $s) = parse_om($r->decoded_content);
    my $now = index_of(@$s);
    is($now->{ key('mod_scim_database_errors_total') }, $st{SCIMDatabaseErrors}, 'database errors = SCIMDatabaseErrors');
    is($now->{ key('mod_scim_reminders_total', outcome => 'sent') }, $st{SCIMRemindersSent}, 'reminders sent = SCIMRemindersSent');
    is($now->{ key('mod_scim_reminders_total', outcome => 'failed') }, $st{SCIMRemindersFailed},
       'reminders failed = SCIMRemindersFailed');
}
my @buckets = grep { $_->{name} eq 'mod_scim_request_duration_seconds_bucket' && $_->{labels}{tenant} eq 'acme' } @$s0;
is(scalar @buckets, 12, '12 buckets per tenant');
ok(!(grep { $_->{family} =~ /^mod_scim_/ ? 0 : 1 } @$s0), 'every metric has the mod_scim_ prefix');

# --- known requests on globex
my ($auth, $tok) = scim_auth('bob', 'globex', 'okta', 'Metrics ' . time);
my ($dauth, $dtok) = scim_auth('bob', 'globex', 'entra', 'Metrics deleted ' . time);
my $tag = uniq_name('m96');
my %made; # "resource method class" -> n
sub req {
    my ($res_label, $method, $path, $a, $body, $want) = @_;
    my ($r) = scim_req('globex', $method, $path, $a, $body);
    is($r->code, $want, "$method $path -> $want");
    $made{ join ' ', $res_label, $method, int($r->code / 100) . 'xx' }++;
    return $r;
}
my $u = req('Users', 'POST', '/Users', $auth, user_body(userName => "$tag-1"), 201);
my $uid = JSON::PP->new->decode($u->decoded_content)->{id};
req('Users', 'POST', '/Users', $auth, user_body(userName => "$tag-2"), 201);
req('Users', 'POST', '/Users', $auth, user_body(userName => "$tag-1"), 409);
req('Users', 'GET', '/Users', $auth, undef, 200) for 1 .. 3;
req('Users', 'GET', "/Users/$uid", $auth, undef, 200);
req('Users', 'GET', '/Users/00000000-0000-4000-8000-000000000000', $auth, undef, 404);
req('Users', 'PATCH', "/Users/$uid", $auth, patch_body({ op => 'replace', path => 'active', value => JSON::PP::false }), 200);
req('Users', 'PUT', "/Users/$uid", $auth, user_body(userName => "$tag-1", active => JSON::PP::true), 200);
req('Users', 'DELETE', "/Users/$uid", $auth, undef, 204);
req('Groups', 'GET', '/Groups', $auth, undef, 200);
req('Groups', 'DELETE', '/Groups/00000000-0000-4000-8000-000000000000', $auth, undef, 404) for 1 .. 2;
req('discovery', 'GET', '/ServiceProviderConfig', $auth, undef, 200);
req('discovery', 'GET', '/Schemas', $auth, undef, 200);
req('discovery', 'GET', '/ResourceTypes', $auth, undef, 200);
req('search', 'POST', '/.search', $auth, { schemas => ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] }, 200);
req('Bulk', 'POST', '/Bulk', $auth, { schemas => ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
    Operations => [{ method => 'POST', path => '/Users', bulkId => 'x', data => user_body(userName => "$tag-3") }] }, 200);
req('other', 'GET', '/Nope', $auth, undef, 404);
# refused tokens, by reason
my %rej;
sub refused {
    my ($reason, $path, $a) = @_;
    req('discovery', 'GET', $path, $a, undef, 401);
    $rej{$reason}++;
}
refused('missing', '/ServiceProviderConfig', undef);
refused('missing', '/ServiceProviderConfig', undef);
refused('malformed', '/ServiceProviderConfig', 'Bearer not-a-jwt');
refused('scheme', '/ServiceProviderConfig', 'Digest abc');
refused('query_string', "/ServiceProviderConfig?access_token=$tok->{token}", undef);
{
    my ($h, $c, $sig) = split /\./, $tok->{token};
    my $flipped = (substr($sig, 0, 1) eq 'A' ? 'B' : 'A') . substr($sig, 1);
    refused('signature', '/ServiceProviderConfig', "Bearer $h.$c.$flipped");
}
{
    my $idp = sql("SELECT a.idp_id FROM tokens k JOIN accounts a ON a.id = k.account_id WHERE k.id = '$dtok->{id}'");
    my ($r) = admin_req('bob', 'DELETE', 'globex', "api/identity-providers/$idp/tokens/$dtok->{id}");
    is($r->code, 204, 'a token deleted');
    refused('unknown_or_revoked', '/ServiceProviderConfig', "Bearer $dtok->{token}");
}
my $total = 0;
$total += $_ for values %made;

# A request is counted by the log_transaction hook, which runs after its
# response went out: the last one may still be counting when the scrape
# arrives. Scrape until every globex request made is in (for 5 s at most).
my ($after, $s1, $r1);
sub delta {
    my ($k) = @_;
    return ($after->{$k} // 0) - ($before->{$k} // 0);
}
sub counted {
    my $n = 0;
    $n += delta($_) for grep { /^mod_scim_requests_total,/ && /tenant=globex/ } keys %$after;
    return $n == $total
        && delta(key('mod_scim_request_duration_seconds_count', tenant => 'globex')) == $total
        && delta(key('mod_scim_request_duration_seconds_bucket', tenant => 'globex', le => '+Inf')) == $total;
}
my $deadline = Time::HiRes::time() + 5;
while (1) {
    $r1 = scrape();
    ($err, $s1) = parse_om($r1->decoded_content);
    last if $err;
    $after = index_of(@$s1);
    last if counted() || Time::HiRes::time() > $deadline;
    Time::HiRes::sleep(0.1);
}
ok(!$err, 'the output still parses after the requests') or diag $err;
for my $k (sort keys %made) {
    my ($res, $m, $cls) = split / /, $k;
    is(delta(key('mod_scim_requests_total', tenant => 'globex', resource => $res, method => $m, status => $cls)),
       $made{$k}, "mod_scim_requests_total{globex,$res,$m,$cls} grew by $made{$k}");
}
my $sum = 0;
for my $k (grep { /^mod_scim_requests_total,/ && /tenant=globex/ } keys %$after) {
    $sum += delta($k);
}
is($sum, $total, "globex requests grew by $total in all");
is(delta(key('mod_scim_request_duration_seconds_count', tenant => 'globex')), $total, 'latency histogram count grew by the same');
is(delta(key('mod_scim_request_duration_seconds_bucket', tenant => 'globex', le => '+Inf')), $total, 'and its +Inf bucket');
cmp_ok(delta(key('mod_scim_request_duration_seconds_sum', tenant => 'globex')), '>', 0, 'and its sum');
is(delta(key('mod_scim_request_duration_seconds_count', tenant => 'acme')), 0, 'acme counted nothing meanwhile');
for my $reason (sort keys %rej) {
    is(delta(key('mod_scim_token_rejections_total', tenant => 'globex', reason => $reason)), $rej{$reason},
       "rejections{globex,$reason} grew by $rej{$reason}");
}
my $rsum = 0;
$rsum += delta($_) for grep { /^mod_scim_token_rejections_total,/ && /tenant=globex/ } keys %$after;
my $nrej = 0;
$nrej += $_ for values %rej;
is($rsum, $nrej, "rejections of globex grew by $nrej in all");
is(delta(key('mod_scim_token_operations_total', operation => 'created')), 2, 'two tokens created');
is(delta(key('mod_scim_token_operations_total', operation => 'deleted')), 1, 'one deleted');
is(delta(key('mod_scim_database_errors_total')), 0, 'no database error');
my $live = sql(q{SELECT count(*) FROM tokens k JOIN tenants t ON t.id = k.tenant_id
                 WHERE t.slug = 'globex' AND k.deleted_at IS NULL AND k.expires_at > now()});
is($after->{ key('mod_scim_tokens_live', tenant => 'globex') }, $live, "tokens_live{globex} = $live, as in the database");
is(delta(key('mod_scim_tokens_live', tenant => 'globex')), 1, 'one more live token on globex');

# No token, user or address data in the output.
my $body = $r1->decoded_content;
my ($jti) = map { JSON::PP->new->decode(b64url_decode($_))->{jti} } (split /\./, $tok->{token})[1];
unlike($body, qr/\Q$jti\E/, 'no jti');
unlike($body, qr/\Q$tag\E/, 'no user name');
unlike($body, qr/\Q$tok->{userName}\E/, 'no provisioning account name');
unlike($body, qr/127\.0\.0\.1/, 'no client address');

# Only GET.
{
    my $r = LWP::UserAgent->new->request(HTTP::Request->new(POST => base_url() . '/metrics'));
    is($r->code, 405, 'POST /metrics: 405');
    like($r->header('Allow') // '', qr/GET/, 'with Allow: GET');
}
unlink $parser, run_dir() . '/t96-input.txt';
done_testing();
