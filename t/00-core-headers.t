# The core (scim_*.c/h: JSON, JWT, token rules, store) includes no httpd
# header and compiles with APR, Jansson and OpenSSL alone.
use strict;
use warnings FATAL => 'all';
use Test::More;
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
my $flags = `pkg-config --cflags apr-1 apr-util-1 jansson libcrypto`;
chomp $flags;
for my $f (grep { /\.c$/ } @core) {
    my $out = `cc -std=gnu99 -fsyntax-only -I$root/mod_scim_provision $flags '$f' 2>&1`;
    is($?, 0, 'compiles without httpd: ' . substr($f, length($root) + 1)) or diag $out;
}
done_testing();
