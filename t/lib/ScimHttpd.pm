package ScimHttpd;
# A second httpd with the module, next to the suite's server (t/50, t/61,
# t/62, t/63, t/97): its own directory, configuration, free port, error log
# and PID file; by default tenant acme's SCIM and admin locations. Stopped by
# its PID at exit (or earlier with stop_httpd).
use strict;
use warnings;
use Exporter 'import';
use IO::Socket::INET ();
use Apache::Test ();
use ScimTest;

our @EXPORT = qw(free_port start_httpd stop_httpd bad_log_lines);

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

# start_httpd(dir => DIR (created afresh),
#             dbparams => DBDParams text (default: the suite's database),
#             mail => DIR (expiry reminders every second, mail captured
#                     there by t/bin/capture-mail),
#             modules => [more httpd modules to load, e.g. 'remoteip'],
#             scim => 0 (no acme SCIM location), admin => 0 (no acme admin
#             location), assets => SCIMAssetsDir (default: the tree's www),
#             conf => more directives)
#   -> { dir, port, base, pid, status, out }.
# pid is undef when httpd did not start; status is the exit status of
# `httpd -k start` and out its output.
sub start_httpd {
    my %o = @_;
    my $dir = $o{dir};
    my ($root, $run) = (root_dir(), run_dir());
    my $libexec = $ENV{SCIM_APXS_LIBEXECDIR};
    my $port = free_port();
    my $dbparams = $o{dbparams} // "host=$ENV{SCIM_TEST_PGHOST} port=$ENV{SCIM_TEST_PGPORT} dbname=scim "
                                   . "user=scim connect_timeout=5 options='-c statement_timeout=5000'";
    my $assets = $o{assets} // "$root/www";
    my ($scim, $admin) = map { $o{$_} // 1 } qw(scim admin);
    system('rm', '-rf', $dir);
    mkdir $dir or die "$dir: $!";
    my @modules = (($admin ? qw(authz_user authn_core authn_file auth_basic) : ()), @{ $o{modules} // [] });
    my $load = join '', map { "LoadModule ${_}_module $libexec/mod_$_.so\n" } @modules;
    my $extra = ($o{conf} // '') . "\n";
    $extra .= <<"MAIL" if $o{mail};
SCIMMailCommand $root/t/bin/capture-mail $o{mail}
SCIMMailFrom provisioning\@test.example
SCIMAdminURL https://admin.test.example/t/{tenant}/provisioning/
SCIMNotifyInterval 1
SCIMNotifyMaxAttempts 3
SCIMMailTimeout 5
MAIL
    $extra .= <<"SCIM" if $scim;
<Location /t/acme/scim/v2>
    SetHandler scim-provision
    SCIMTenant acme
</Location>
SCIM
    $extra .= <<"ADMIN" if $admin;
<Location /t/acme/provisioning>
    SetHandler scim-provision-admin
    SCIMTenant acme
    AuthType Basic
    AuthName "acme administrators"
    AuthUserFile $run/admins.htpasswd
    Require valid-user
</Location>
ADMIN
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
${load}LoadModule dbd_module $libexec/mod_dbd.so
<IfModule !mod_watchdog.c>
    LoadModule watchdog_module $libexec/mod_watchdog.so
</IfModule>
LoadModule scim_provision_module $root/.libs/mod_scim_provision.so
StartServers 2
DBDriver pgsql
DBDParams "$dbparams"
DBDMin 0
DBDKeep 4
DBDMax 64
DBDExptime 60
SCIMTokenKeyFile $run/keys.jwks
SCIMTokenIssuer https://idp-gateway.test.example/scim
SCIMAssetsDir $assets
$extra
CONF
    close $fh;
    my $httpd = Apache::Test::vars('httpd');
    my $out = `$httpd -f $dir/httpd.conf -k start 2>&1`;
    my $status = $?;
    my $pid;
    for (1 .. 150) {
        if (open(my $pf, '<', "$dir/httpd.pid")) {
            ($pid) = (scalar(<$pf>) // '') =~ /(\d+)/;
            last if $pid;
        }
        select(undef, undef, undef, 0.1);
    }
    push @started, $pid if $pid;
    return { dir => $dir, port => $port, base => "http://127.0.0.1:$port", pid => $pid,
             status => $status, out => $out };
}

# Stop a server of start_httpd by its PID and wait (at most 20 s); true when
# it is gone (or never ran).
sub stop_httpd {
    my ($srv) = @_;
    my $pid = $srv->{pid} or return 1;
    kill 'TERM', $pid if kill 0, $pid;
    for (1 .. 200) { last unless kill 0, $pid; select(undef, undef, undef, 0.1) }
    return !kill(0, $pid);
}

# The [error]/[warn] (and worse) lines of the module in its error log.
sub bad_log_lines {
    my ($srv) = @_;
    open(my $l, '<', "$srv->{dir}/error_log") or return ("no error log in $srv->{dir}\n");
    return grep { /\[scim_provision:(error|warn|crit|alert|emerg)\]/ } <$l>;
}

1;
