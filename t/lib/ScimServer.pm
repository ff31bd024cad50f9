package ScimServer;
# A second httpd with the module next to the suite's server, on the same
# database (SPEC 8: several servers share one PostgreSQL): its own
# directory, port and error log under the run directory.
#
#   my $srv = ScimServer->start('second63', modules => ['remoteip'], conf => "...");
#   $srv->{base}   http://127.0.0.1:<port>
#   $srv->bad_log_lines   [error]/[warn] lines of the module in its error log
#   $srv->stop            (also done at exit)
use strict;
use warnings;
use Apache::Test ();
use IO::Socket::INET ();
use Time::HiRes ();
use ScimTest qw(root_dir run_dir);

my @running;
END { $_->stop for @running }

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

# start(name, modules => [extra module names], conf => extra config text)
sub start {
    my ($class, $name, %o) = @_;
    my $dir = run_dir() . "/$name";
    my ($root, $run, $libexec) = (root_dir(), run_dir(), $ENV{SCIM_APXS_LIBEXECDIR});
    my $port = free_port();
    system('rm', '-rf', $dir);
    mkdir $dir or die "$dir: $!";
    my $load = join '', map { "LoadModule ${_}_module $libexec/mod_$_.so\n" } @{ $o{modules} // [] };
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
LoadModule dbd_module $libexec/mod_dbd.so
<IfModule !mod_watchdog.c>
    LoadModule watchdog_module $libexec/mod_watchdog.so
</IfModule>
${load}LoadModule scim_provision_module $root/.libs/mod_scim_provision.so
StartServers 2
DBDriver pgsql
DBDParams "host=$ENV{SCIM_TEST_PGHOST} port=$ENV{SCIM_TEST_PGPORT} dbname=scim user=scim connect_timeout=5 options='-c statement_timeout=5000'"
DBDMin 0
DBDKeep 4
DBDMax 64
DBDExptime 60
SCIMTokenKeyFile $run/keys.jwks
SCIMTokenIssuer https://idp-gateway.test.example/scim
SCIMAssetsDir $root/www
$o{conf}
CONF
    close $fh;
    my $httpd = Apache::Test::vars('httpd');
    my $out = `$httpd -f $dir/httpd.conf -k start 2>&1`;
    my $self = bless { dir => $dir, port => $port, base => "http://127.0.0.1:$port",
                       start_status => $?, start_output => $out }, $class;
    my $end = Time::HiRes::time() + 15;
    while (!$self->{pid} && Time::HiRes::time() < $end) {
        if (open(my $p, '<', "$dir/httpd.pid")) {
            my $x = do { local $/; <$p> } // '';
            $self->{pid} = $1 if $x =~ /(\d+)/;
        }
        Time::HiRes::sleep(0.1) unless $self->{pid};
    }
    push @running, $self;
    return $self;
}

sub running { my $self = shift; return $self->{pid} && kill(0, $self->{pid}) }

# Stop by PID and wait (at most 20 s); true when it is gone.
sub stop {
    my $self = shift;
    return 1 unless $self->running;
    kill 'TERM', $self->{pid};
    my $end = Time::HiRes::time() + 20;
    Time::HiRes::sleep(0.1) while $self->running && Time::HiRes::time() < $end;
    return !$self->running;
}

sub bad_log_lines {
    my $self = shift;
    open(my $l, '<', "$self->{dir}/error_log") or return ("no error log in $self->{dir}\n");
    return grep { /\[scim_provision:(error|warn|crit|alert|emerg)\]/ } <$l>;
}

1;
