# scimctl (SPEC 7): every subcommand, its --help, and one clear line with a
# non-zero exit for every error.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use ScimTest;

my ($rc, $out);
my $db = $ENV{SCIMCTL_DB};

sub one_error_line {
    my ($name, $re, @args) = @_;
    my ($rc, $out) = scimctl(@args);
    ok($rc != 0, "$name: non-zero exit");
    my @lines = split /\n/, $out;
    ok(@lines == 1 && $lines[0] =~ /^scimctl: / && $lines[0] =~ $re, "$name: one clear line")
        or diag $out;
}

for my $cmd (['migrate'], ['keygen'], [qw(tenant add)], [qw(tenant list)],
             [qw(admin add)], [qw(admin list)]) {
    ($rc, $out) = scimctl(@$cmd, '--help');
    ok($rc == 0 && $out =~ /^usage: scimctl/, "@$cmd --help") or diag $out;
}
($rc, $out) = scimctl('--help');
ok($rc == 0 && $out =~ /tenant add/ && $out =~ /SCIMCTL_DB/, 'scimctl --help lists commands');

# migrate is idempotent and records the version
($rc, $out) = scimctl('migrate');
is($rc, 0, 'migrate again');
like($out, qr/schema already at version \d+/, 'nothing to apply');
# the highest NNN of sql/NNN_*.sql
my ($newest) = sort { $b <=> $a } map { m{/(\d+)_[^/]*\.sql$} ? $1 + 0 : () } glob(root_dir() . '/sql/*.sql');
is(sql('SELECT max(version) FROM scim_schema_migrations'), $newest, "version recorded ($newest, the newest in sql/)");

# tenants
($rc, $out) = scimctl('tenant', 'add', 'umbrella', 'Umbrella Corp');
ok($rc == 0 && $out =~ /tenant umbrella added/, 'tenant add');
one_error_line('duplicate tenant', qr/already exists/, 'tenant', 'add', 'umbrella');
one_error_line('bad slug', qr/not a slug/, 'tenant', 'add', 'Bad_Slug');
($rc, $out) = scimctl('tenant', 'list');
ok($rc == 0 && $out =~ /^umbrella\t[0-9a-f-]{36}\t/m, 'tenant list');

# administrators; --db after the subcommand
{
    local $ENV{SCIMCTL_DB} = '';
    ($rc, $out) = scimctl('admin', 'add', '--tenant', 'umbrella', '--email', 'w@umbrella.example',
                          'wesker', '--db', $db);
    ok($rc == 0 && $out =~ /administrator wesker added to tenant umbrella/, 'admin add with --db after')
        or diag $out;
    ($rc, $out) = scimctl('--db', $db, 'admin', 'list', '--tenant', 'umbrella');
    ok($rc == 0 && $out =~ /^umbrella\tcustomer\twesker\tw\@umbrella.example$/m, 'admin list --tenant');
    one_error_line('no database', qr/no database/, 'tenant', 'list');
}
one_error_line('duplicate admin', qr/already an administrator/, 'admin', 'add', '--tenant', 'umbrella',
               '--email', 'w@umbrella.example', 'wesker');
one_error_line('unknown tenant', qr/no tenant 'nope'/, 'admin', 'add', '--tenant', 'nope',
               '--email', 'x@y.example', 'someone');
one_error_line('bad e-mail', qr/not an e-mail address/, 'admin', 'add', '--system',
               '--email', 'not-an-address', 'someone');
one_error_line('both --tenant and --system', qr/exactly one of/, 'admin', 'add', '--system',
               '--tenant', 'umbrella', '--email', 'x@y.example', 'someone');
one_error_line('missing e-mail', qr/--email/, 'admin', 'add', '--system', 'someone');
($rc, $out) = scimctl('admin', 'add', '--system', '--email', 'ops@example.com', 'ops');
ok($rc == 0 && $out =~ /system administrator ops added/, 'system admin add');
($rc, $out) = scimctl('admin', 'list');
ok($rc == 0 && $out =~ /^\*\tsystem\tops\t/m, 'admin list shows system admins with *');

# unreachable database
one_error_line('unreachable database', qr/cannot connect to the database/,
               '--db', 'host=/nonexistent port=1 dbname=x user=x connect_timeout=2', 'tenant', 'list');
one_error_line('unknown command', qr/unknown command 'frobnicate'/, 'frobnicate');
one_error_line('unknown subcommand', qr/expected a subcommand/, 'tenant', 'remove');

# keygen
my $dir = run_dir();
unlink "$dir/kg.jwks";
($rc, $out) = scimctl('keygen', "$dir/kg.jwks");
ok($rc == 0 && $out =~ /added key '\S+' to/, 'keygen creates a key set');
is((stat "$dir/kg.jwks")[2] & 07777, 0600, 'key file mode 0600');
($rc, $out) = scimctl('keygen', '--kid', 'second', "$dir/kg.jwks");
ok($rc == 0 && $out =~ /added key 'second'.*\(2 keys\)/, 'keygen adds a key');
one_error_line('duplicate kid', qr/second/, 'keygen', '--kid', 'second', "$dir/kg.jwks");
{
    open(my $fh, '>', "$dir/bad.jwks") or die;
    print $fh '{"keys":[{"kty":"oct","alg":"HS256","kid":"a","k":"c2hvcnQ"}]}';
    close $fh;
}
one_error_line('bad key file', qr/keygen: /, 'keygen', "$dir/bad.jwks");
one_error_line('keygen without FILE', qr/FILE is required/, 'keygen');

done_testing();
