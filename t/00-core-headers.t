# The core and the store (scim_*.c/h) include no httpd header and compile
# with APR, APR-util, Jansson and OpenSSL alone. The layers (doc/HACKING.md:
# core < store < service < glue) hold: a lower layer includes no header of
# an upper one, no database row type is in a store interface, and the
# linker refuses a core that calls the store (the check that `make` runs on
# layers/*.la, shown here with a probe that breaks the rule).
use strict;
use warnings FATAL => 'all';
use Test::More;
use File::Temp qw(tempdir);
use Apache::Test ();
use ScimTest;

my $root = root_dir();
my @core = sort glob("$root/mod_scim_provision/scim_*.[ch]");
ok(@core >= 8, 'core files found: ' . scalar @core);
for my $f (@core) {
    open(my $fh, '<', $f) or die "$f: $!";
    my @bad = grep { /#\s*include\s*[<"](httpd|http_\w+|ap_\w+|mod_\w+|util_\w+)\.h[>"]/ } <$fh>;
    is(scalar @bad, 0, "no httpd header in " . substr($f, length($root) + 1));
}
my $flags = `pkg-config --cflags apr-1 apr-util-1 libpq jansson libcrypto`;
chomp $flags;
for my $f (grep { /\.c$/ } @core) {
    my $out = `cc -std=gnu99 -fsyntax-only -I$root/mod_scim_provision $flags '$f' 2>&1`;
    is($?, 0, 'compiles without httpd: ' . substr($f, length($root) + 1)) or diag $out;
}

# --- layers -----------------------------------------------------------------
sub layer_files {
    my ($var) = @_;
    open(my $fh, '<', "$root/Makefile.am") or die "Makefile.am: $!";
    local $/;
    my $am = <$fh>;
    my ($block) = $am =~ /^\Q$var\E\s*=((?:[^\n]*\\\n)*[^\n]*)/m or die "no $var in Makefile.am";
    return map { "$root/$_" } $block =~ /(mod_scim_provision\/\S+\.[ch])\b/g;
}
sub includes {
    my ($f) = @_;
    open(my $fh, '<', $f) or die "$f: $!";
    return map { /#\s*include\s*[<"]([^>"]+)[>"]/ ? $1 : () } <$fh>;
}
my @core_files = layer_files('CORE_SOURCES');
my @store_files = layer_files('STORE_SOURCES');
ok(@core_files >= 16 && @store_files >= 8, 'core and store files listed in Makefile.am');
for my $f (@core_files) {
    my @up = grep { /^(scim_db|scim_store\w*|scim_service|apr_dbd)\.h$/ } includes($f);
    is("@up", '', 'core file includes no store or service header: ' . substr($f, length($root) + 1));
}
for my $f (@store_files) {
    my @up = grep { /^(scim_service|mod_scim\w*)\.h$/ } includes($f);
    is("@up", '', 'store file includes no service or glue header: ' . substr($f, length($root) + 1));
}
for my $h (grep { m{/scim_store\w*\.h$} } @store_files) {
    open(my $fh, '<', $h) or die "$h: $!";
    my @rows = grep { /\bscim_rows_t\b/ } <$fh>;
    is(scalar @rows, 0, 'no database row type in the store interface ' . substr($h, length($root) + 1));
}
ok(!grep({ /\bscim_jwt_sign\s*\(/ } map { open(my $fh, '<', $_) or die; <$fh> } grep { /\.c$/ } @store_files),
   'the store signs no token (minting is scim_token_mint, in the core)');

# The linker check: each layer as a shared object with --no-undefined,
# against only the layers below it; then the same with a probe that calls
# upwards, which must fail with an undefined reference.
my ($san) = `grep -h '^SANITIZER_FLAGS = ' $root/Makefile` =~ /= (.*)$/;
$san //= '';
my $tmp = tempdir(CLEANUP => 1);
sub link_layer {
    my ($name, $probe, $archives, $libs) = @_;
    my $objs = '';
    if ($probe) {
        open(my $fh, '>', "$tmp/$name.c") or die;
        print $fh "int $probe(void);\nint scim_layer_probe(void);\n"
            . "int scim_layer_probe(void) { return $probe(); }\n";
        close $fh;
        $objs = "$tmp/$name.c";
    }
    my $cmd = "cc -shared -fPIC $san -Wl,--no-undefined -o $tmp/$name.so $objs "
        . "-Wl,--whole-archive $archives->[0] -Wl,--no-whole-archive @$archives[1 .. $#$archives] "
        . "`pkg-config --libs $libs` 2>&1";
    my $out = `$cmd`;
    return ($? == 0, $out);
}
my $core_a = "$root/.libs/libscimcore.a";
my $store_a = "$root/.libs/libscimstore.a";
ok(-f $core_a && -f $store_a, 'the layer libraries are built (.libs/libscimcore.a, .libs/libscimstore.a)');
my ($ok, $out) = link_layer('core', undef, [$core_a], 'apr-1 jansson libcrypto');
ok($ok, 'the core links against APR, Jansson and libcrypto alone') or diag $out;
($ok, $out) = link_layer('core-up', 'scim_db_begin', [$core_a], 'apr-1 jansson libcrypto');
ok(!$ok && $out =~ /undefined reference to .scim_db_begin/, 'a core that calls the store does not link')
    or diag $out;
($ok, $out) = link_layer('store', undef, [$store_a, $core_a], 'apr-1 apr-util-1 libpq jansson libcrypto');
ok($ok, 'the store links against the core, APR, APR-util, libpq, Jansson and libcrypto') or diag $out;
($ok, $out) = link_layer('store-up', 'mod_scim_policy', [$store_a, $core_a], 'apr-1 apr-util-1 libpq jansson libcrypto');
ok(!$ok && $out =~ /undefined reference to .mod_scim_policy/, 'a store that calls the glue does not link')
    or diag $out;
my $service_a = "$root/.libs/libscimservice.a";
ok(-f $service_a, 'the service layer library is built (.libs/libscimservice.a)');
($ok, $out) = link_layer('service', undef, [$service_a, $store_a, $core_a], 'apr-1 apr-util-1 libpq jansson libcrypto');
ok($ok, 'the service links against the store, the core, APR, APR-util, libpq, Jansson and libcrypto') or diag $out;
($ok, $out) = link_layer('service-up', 'mod_scim_auth_verified', [$service_a, $store_a, $core_a],
                         'apr-1 apr-util-1 libpq jansson libcrypto');
ok(!$ok && $out =~ /undefined reference to .mod_scim_auth_verified/, 'a service that calls the glue does not link')
    or diag $out;
done_testing();
