# Configuration mistakes stop httpd at startup with a message naming the
# directive (checked with `apache2 -t` on configurations of their own).
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use ScimTest;
use ScimHttpd;

my $run = run_dir() . '/conftest';
mkdir $run;
my $libexec = $ENV{SCIM_APXS_LIBEXECDIR};
my $httpd = Apache::Test::vars('httpd');
my $so = root_dir() . '/.libs/mod_scim_provision.so';
my $keys = run_dir() . '/keys.jwks';

sub write_file { my ($f, $c) = @_; open(my $fh, '>', $f) or die "$f: $!"; print $fh $c; close $fh; $f }

sub conf_test {
    my (%o) = @_;
    my $body = $o{body} // '';
    my $dbd = exists $o{dbd} ? $o{dbd} : "DBDriver pgsql\nDBDParams \"dbname=x\"\n";
    # a tenant location, without which the module is inert and checks nothing
    my $tenant = exists $o{tenant} ? $o{tenant}
               : "<Location /t/b/scim/v2>\nSetHandler scim-provision\nSCIMTenant b\n</Location>\n";
    my $keyline = exists $o{keyfile} ? ($o{keyfile} ? "SCIMTokenKeyFile $o{keyfile}\n" : '')
                                     : "SCIMTokenKeyFile $keys\n";
    my $f = write_file("$run/httpd.conf", <<"CONF");
ServerRoot $run
ServerName localhost
PidFile $run/httpd.pid
ErrorLog $run/error_log
Listen 127.0.0.1:8599
LoadModule mpm_event_module $libexec/mod_mpm_event.so
LoadModule authz_core_module $libexec/mod_authz_core.so
LoadModule dbd_module $libexec/mod_dbd.so
LoadModule scim_provision_module $so
$dbd$keyline$tenant$body
CONF
    my $out = `$httpd -t -f $f 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = conf_test(body => "<Location /t/a/scim/v2>\nSetHandler scim-provision\nSCIMTenant acme\n</Location>\n");
ok($rc == 0 && $out =~ /Syntax OK/, 'a good configuration passes') or diag $out;

sub refused {
    my ($name, $re, %o) = @_;
    my ($rc, $out) = conf_test(%o);
    ok($rc != 0 && $out =~ $re, $name) or diag "rc=$rc: $out";
}

refused('no key file configured', qr/SCIMTokenKeyFile is not set/, keyfile => undef);
refused('missing key file', qr/SCIMTokenKeyFile: .*nonexistent/, keyfile => "$run/nonexistent.jwks");
write_file("$run/short.jwks", '{"keys":[{"kty":"oct","alg":"HS256","kid":"s","k":"' . b64url('x' x 31) . '"}]}');
refused('short key', qr/SCIMTokenKeyFile: .*\bs\b/, keyfile => "$run/short.jwks");
write_file("$run/dup.jwks", '{"keys":[{"kty":"oct","alg":"HS256","kid":"d","k":"' . b64url('x' x 32)
           . '"},{"kty":"oct","alg":"HS256","kid":"d","k":"' . b64url('y' x 32) . '"}]}');
refused('duplicate kid', qr/SCIMTokenKeyFile: .*\bd\b/, keyfile => "$run/dup.jwks");
write_file("$run/bad.jwks", '{"keys":[');
refused('malformed key file', qr/SCIMTokenKeyFile: /, keyfile => "$run/bad.jwks");
write_file("$run/rsa.jwks", '{"keys":[{"kty":"RSA","alg":"RS256","kid":"r","n":"AQAB","e":"AQAB"}]}');
refused('non-oct key', qr/SCIMTokenKeyFile: /, keyfile => "$run/rsa.jwks");
refused('unknown signing kid', qr/SCIMTokenSigningKey: no key with kid 'nope'/,
        body => "SCIMTokenSigningKey nope\n");
refused('SCIMTenant outside a location', qr/SCIMTenant belongs inside a <Location>/,
        body => "SCIMTenant acme\n");
refused('bad tenant slug', qr/SCIMTenant: 'Not_A_Slug' is not a tenant slug/,
        body => "<Location /x>\nSCIMTenant Not_A_Slug\n</Location>\n");
refused('bad policy', qr/SCIMTokenPolicy: 'sometimes'/, body => "SCIMTokenPolicy sometimes\n");
refused('no DBDriver', qr/DBDriver is not set/, dbd => '');
# (Debian ships only the pgsql driver: mod_dbd itself refuses an absent one)
refused('another DBDriver', qr/DBDriver sqlite3: .*pgsql|driver file apr_dbd_sqlite3/,
        dbd => "DBDriver sqlite3\n");
refused('bad body size', qr/SCIMMaxBodySize/, body => "SCIMMaxBodySize lots\n");
# No tenant configured (the Debian package's default): inert, nothing required.
($rc, $out) = conf_test(tenant => '', keyfile => undef, dbd => '');
ok($rc == 0 && $out =~ /Syntax OK/, 'no tenant: inert, needs no key file and no DBDriver') or diag $out;
refused('Require scim-account configures the module', qr/SCIMTokenKeyFile is not set/,
        keyfile => undef, tenant => "<Location /app>\nRequire scim-account acme\n</Location>\n");
refused('SCIMTenant in an admin location configures the module', qr/DBDriver is not set/, dbd => '',
        tenant => "<Location /t/b/provisioning>\nSetHandler scim-provision-admin\nSCIMTenant b\n</Location>\n");
($rc, $out) = conf_test(body => "SCIMTokenSigningKey test-2026b\nSCIMTokenPolicy replace\n");
ok($rc == 0, 'a known signing kid and a policy pass') or diag $out;

# Startup proper (post_config, which `apache2 -t` does not run): a location
# that serves the page while SCIMAssetsDir holds no readable index.html is
# warned about in the error log, naming the directive; httpd still starts.
sub start_log {
    my (%o) = @_;
    my $srv = start_httpd(dir => "$run/start", assets => $o{assets}, admin => $o{page});
    stop_httpd($srv);
    my $log = '';
    if (open(my $l, '<', "$srv->{dir}/error_log")) { local $/; $log = <$l> // '' }
    return ($srv->{status} == 0 && $srv->{pid} ? 1 : 0, "$srv->{out}$log");
}
my $empty = "$run/empty-assets";
mkdir $empty;
my ($started, $log) = start_log(assets => $empty, page => 1);
ok($started, 'httpd starts with an empty SCIMAssetsDir') or diag $log;
like($log, qr/\[scim_provision:warn\].*SCIM00160: SCIMAssetsDir \Q$empty\E holds no readable index\.html/,
     'and warns at startup that SCIMAssetsDir has no index.html');
my $unreadable = "$run/unreadable-assets";
mkdir $unreadable;
write_file("$unreadable/index.html", "<!doctype html>\n");
chmod 0, "$unreadable/index.html";
SKIP: {
    skip 'root reads every file', 1 if $> == 0;
    ($started, $log) = start_log(assets => $unreadable, page => 1);
    like($log, qr/SCIM00160: SCIMAssetsDir \Q$unreadable\E/, 'an unreadable index.html: the same warning');
}
($started, $log) = start_log(assets => root_dir() . '/www', page => 1);
ok($started && $log !~ /SCIM00160/, 'the page\'s files in SCIMAssetsDir: no warning') or diag $log;
($started, $log) = start_log(assets => $empty, page => 0);
ok($started && $log !~ /SCIM00160/, 'an empty SCIMAssetsDir and no page location: no warning') or diag $log;

done_testing();
