# The admin page in a real browser (issue 4 point 5): Debian's chromium,
# driven by playwright-core, against this suite's httpd and database. The
# node test runner's TAP goes straight to the harness; screenshots of every
# step are kept in test-artifacts/browser.
use strict;
use warnings FATAL => 'all';
use Apache::Test ();
use Apache::TestRequest ();
use ScimTest;

my $dir = root_dir() . '/test/browser';
my $shots = root_dir() . '/test-artifacts/browser';
sub bail { print "1..1\nnot ok 1 - $_[0]\n"; exit 0 }

-x '/usr/bin/chromium' or bail('/usr/bin/chromium is installed (apt-get install chromium)');
if (!-d "$dir/node_modules/playwright-core") {
    my $out = `cd '$dir' && npm ci --no-audit --no-fund --loglevel=error 2>&1`;
    $? == 0 or bail("npm ci in test/browser: $out");
}
$ENV{BASE_URL} = base_url() . '/t/acme/provisioning/';
$ENV{ADMIN_USER} = 'alice';
$ENV{ADMIN_PASS} = 'pw-alice';
$ENV{SCREENSHOT_DIR} = $shots;
chdir $dir or die "$dir: $!";
exec 'node', '--test', '--test-reporter=tap', 'page.test.js' or bail("node: $!");
