/* A standalone driver for the libFuzzer targets in test/fuzz, for any
 * compiler and without libFuzzer: it calls LLVMFuzzerInitialize (when the
 * target has one) and then LLVMFuzzerTestOneInput on every file of the
 * directories (or the files) given on the command line, in name order, or
 * of FUZZ_CORPUS (compiled in) when there are none. `make check` builds
 * test/fuzz/replay_<name> from each target and runs it this way.
 *
 * Output is TAP, one test per directory, so the tests appear in the
 * summaries of `make check` and of the Apache::Test suite (t/03). A target
 * that crashes or aborts on an input prints "Bail out!" with the file's
 * name before the process dies. */

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static char current[4096]; /* the file being replayed, for the handler */

static void on_fatal(int sig)
{
    static const char head[] = "Bail out! crashed on ";
    ssize_t r;

    r = write(STDOUT_FILENO, head, sizeof(head) - 1);
    r = write(STDOUT_FILENO, current, strlen(current));
    r = write(STDOUT_FILENO, "\n", 1);
    (void)r;
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Run one file; 0 on success, -1 if it cannot be read. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;
    int rv = -1;

    if (!f) {
        return -1;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0
        && fseek(f, 0, SEEK_SET) == 0) {
        /* An exact-size copy, so that a read past the input is caught by
         * a sanitizer like under libFuzzer. */
        buf = malloc(n ? (size_t)n : 1);
        if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
            snprintf(current, sizeof(current), "%s", path);
            fflush(stdout);
            LLVMFuzzerTestOneInput(buf, (size_t)n);
            rv = 0;
        }
        free(buf);
    }
    fclose(f);
    return rv;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every regular file of dir (not recursive); the count, or -1. */
static long replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL, path[4096];
    size_t n = 0, cap = 0, i;
    long count = 0;
    struct stat st;

    if (!d) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof(*names));
            if (!names) {
                abort();
            }
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(path) != 0) {
                count = -1;
                break;
            }
            count++;
        }
        free(names[i]);
    }
    for (; i < n; i++) {
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
#ifdef FUZZ_CORPUS
    char *dflt[] = { argv[0], FUZZ_CORPUS, NULL };
#endif
    int i, failed = 0;
    struct stat st;

    signal(SIGSEGV, on_fatal);
    signal(SIGBUS, on_fatal);
    signal(SIGABRT, on_fatal);
    signal(SIGILL, on_fatal);
    signal(SIGFPE, on_fatal);
    if (argc < 2) {
#ifdef FUZZ_CORPUS
        argc = 2;
        argv = dflt;
#else
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
#endif
    }
    if (LLVMFuzzerInitialize) {
        LLVMFuzzerInitialize(&argc, &argv);
    }
    printf("1..%d\n", argc - 1);
    for (i = 1; i < argc; i++) {
        long n;

        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            n = replay_dir(argv[i]);
        }
        else {
            n = replay_file(argv[i]) == 0 ? 1 : -1;
        }
        if (n > 0) {
            printf("ok %d - %ld inputs of %s\n", i, n, argv[i]);
        }
        else {
            printf("not ok %d - %s: %s\n", i, argv[i],
                   n == 0 ? "no inputs" : "cannot be read");
            failed = 1;
        }
    }
    return failed;
}
