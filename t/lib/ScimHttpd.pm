package ScimHttpd;
# A second httpd with the module, next to the suite's server (t/61, t/62,
# t/97): its own directory, configuration, free port, error log and PID file;
# tenant acme's SCIM and admin locations. Stopped by its PID at exit.
use strict;
use warnings;
use Exporter 'import';
use IO::Socket::INET ();
use Apache::Test ();
use ScimTest;

our @EXPORT = qw(free_port start_httpd);

my @started;
END { kill 'TERM', grep { kill 0, $_ } @started if @started }

# A TCP port on 127.0.0.1 that nothing listens on now.
sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

# start_httpd(dir => DIR (created afresh), dbparams => DBDParams text,
#             mail => DIR (expiry reminders every second, mail captured
#             there by t/bin/capture-mail), conf => more directives)
#   -> { dir, port, base, pid, out }.
# pid is undef when httpd did not start (out has its output).
sub start_httpd {
    my %o = @_;
    my $dir = $o{dir};
    my ($root, $run) = (root_dir(), run_dir());
    my $libexec = $ENV{SCIM_APXS_LIBEXECDIR};
    my $port = free_port();
    system('rm', '-rf', $dir);
    mkdir $dir or die "$dir: $!";
    my $extra = ($o{conf} // '') . "\n";
    $extra .= <<"MAIL" if $o{mail};
SCIMMailCommand $root/t/bin/capture-mail $o{mail}
SCIMMailFrom provisioning\@test.example
SCIMAdminURL https://admin.test.example/t/{tenant}/provisioning/
SCIMNotifyInterval 1
SCIMNotifyMaxAttempts 3
SCIMMailTimeout 5
MAIL
    open(my $fh, '>', "$dir/httpd.conf") or die "$dir/httpd.conf: $!";
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
LoadModule authz_user_module $libexec/mod_authz_user.so
LoadModule authn_core_module $libexec/mod_authn_core.so
LoadModule authn_file_module $libexec/mod_authn_file.so
LoadModule auth_basic_module $libexec/mod_auth_basic.so
LoadModule dbd_module $libexec/mod_dbd.so
<IfModule !mod_watchdog.c>
    LoadModule watchdog_module $libexec/mod_watchdog.so
</IfModule>
LoadModule scim_provision_module $root/.libs/mod_scim_provision.so
StartServers 2
DBDriver pgsql
DBDParams "$o{dbparams}"
DBDMin 0
DBDKeep 4
DBDMax 64
DBDExptime 60
SCIMTokenKeyFile $run/keys.jwks
SCIMTokenIssuer https://idp-gateway.test.example/scim
SCIMAssetsDir $root/www
$extra
<Location /t/acme/scim/v2>
    SetHandler scim-provision
    SCIMTenant acme
</Location>
<Location /t/acme/provisioning>
    SetHandler scim-provision-admin
    SCIMTenant acme
    AuthType Basic
    AuthName "acme administrators"
    AuthUserFile $run/admins.htpasswd
    Require valid-user
</Location>
CONF
    close $fh;
    my $httpd = Apache::Test::vars('httpd');
    my $out = `$httpd -f $dir/httpd.conf -k start 2>&1`;
    my $pid;
    for (1 .. 150) {
        if (open(my $pf, '<', "$dir/httpd.pid")) {
            ($pid) = (scalar(<$pf>) // '') =~ /(\d+)/;
            last if $pid;
        }
        select(undef, undef, undef, 0.1);
    }
    push @started, $pid if $pid;
    return { dir => $dir, port => $port, base => "http://127.0.0.1:$port", pid => $pid, out => $out };
}

1;
